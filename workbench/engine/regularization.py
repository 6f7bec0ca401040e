"""Coupled parameter penalties (seed 001 "Parameter norm penalties"; seed 003).

With ``alpha_1 = l1`` and ``alpha_2 = l2`` the penalised objective is

    J~(w) = J(w) + alpha_1 ||w||_1 + (alpha_2/2) w^T w

so its gradient is ``grad J + alpha_1 sign(w) + alpha_2 w`` (the L2 part gives the
"shrinkage" ``w <- (1 - eps alpha_2) w - eps grad J`` under plain SGD).  ``w`` is the
set of parameters selected by ``mask``: the weights only (``Network.weight_mask``),
or every parameter when biases are penalised too (the caller passes an all-True mask).
Decoupled weight decay is *not* here; it belongs to the optimizer.
"""

from __future__ import annotations

import numpy as np


def add_penalty(params: np.ndarray, grads: np.ndarray, mask: np.ndarray | None, l1: float, l2: float) -> float:
    """Add ``l1 sign(w) + l2 w`` to ``grads`` on the entries where ``mask`` is True
    (in place) and return ``l1 sum|w| + (l2/2) sum w^2`` over the same entries.

    ``mask=None`` means every entry.  Nothing is touched when ``l1 == l2 == 0``.
    """
    if not l1 and not l2:
        return 0.0
    if mask is not None and mask.all():
        mask = None
    tmp = np.empty_like(params)
    penalty = 0.0
    if l2:
        if mask is None:
            penalty += 0.5 * l2 * float(np.vdot(params, params))
            np.multiply(params, l2, out=tmp)
            grads += tmp
        else:
            np.multiply(params, params, out=tmp)
            penalty += 0.5 * l2 * float(np.sum(tmp, where=mask))
            np.multiply(params, l2, out=tmp)
            np.add(grads, tmp, out=grads, where=mask)
    if l1:
        np.abs(params, out=tmp)
        penalty += l1 * float(np.sum(tmp, where=mask) if mask is not None else tmp.sum())
        np.sign(params, out=tmp)
        tmp *= l1
        if mask is None:
            grads += tmp
        else:
            np.add(grads, tmp, out=grads, where=mask)
    return penalty
