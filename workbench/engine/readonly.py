"""Read-only copies of arrays: what the engine hands to another thread or keeps in a frozen
record cannot be changed through it afterwards."""

from __future__ import annotations

import numpy as np


def readonly_copy(a, dtype=None) -> np.ndarray:
    """A new array of ``a``'s values (as ``dtype``; default: ``a``'s own) that refuses writes."""
    a = np.array(a, dtype=dtype, copy=True)
    a.flags.writeable = False
    return a
