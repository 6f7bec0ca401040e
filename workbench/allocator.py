"""Keep the memory a finished run frees for the next run (glibc's ``malloc`` only).

A run allocates its buffers (weights, gradients, optimizer state, activations) once and
frees them at its end.  glibc's ``malloc`` gives large blocks back to the kernel: blocks of
at least the *mmap threshold* are unmapped when freed, and free memory above the *trim
threshold* at the top of the heap is returned.  Memory taken from the kernel again is
zero-filled page by page on first touch (a minor page fault, ~6 us per 4 KiB page on the
benchmark machine).  By default both thresholds adapt to the largest block freed so far,
so solo runs one after the other reuse each other's memory (0 faults per run), but a
lockstep group of four Medium members (784-256-128-10, ~23 MB of buffers) was trimmed at
its end and paid ~5,900 page faults in every run, which cost it its parity with four solo
runs (benchmarks/README.md, "Lockstep groups").

:func:`keep_freed_memory` fixes both thresholds (what the adaptive rule would reach for
blocks up to ``MMAP_FROM_BYTES``): blocks below ``MMAP_FROM_BYTES`` come from the heap,
and up to ``KEEP_FREED_BYTES`` of freed heap stay mapped for the next run.  The entry
point calls it (``cli.main``: the window and the headless commands); the engine never
does, a library must not change its host's allocator.  Nor do a sweep's Dask workers: they
may belong to someone else's cluster, and Dask's nanny sets its own trim threshold for the
processes it starts (``MALLOC_TRIM_THRESHOLD_``) to keep their unmanaged memory low.
Elsewhere than glibc it does nothing and returns False.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

MMAP_FROM_BYTES = 32 << 20
"""Blocks of at least this size are mapped on their own (and unmapped when freed)."""
KEEP_FREED_BYTES = 128 << 20
"""Free memory at the top of the heap kept for reuse before any is returned."""
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter numbers (malloc.h)."""

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (see the module docstring) once per process;
    True when both are set, False where there is no glibc (macOS, Windows, musl)."""
    global _applied
    if _applied is None:
        mallopt = glibc_mallopt()
        settings = ((_M_MMAP_THRESHOLD, MMAP_FROM_BYTES), (_M_TRIM_THRESHOLD, KEEP_FREED_BYTES))
        _applied = mallopt is not None and all([mallopt(p, v) == 1 for p, v in settings])  # (both tried)
    return _applied


def glibc_mallopt():
    """glibc's ``mallopt(int, int) -> int``, or None where the C library is not glibc
    (looking it up changes nothing)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # glibc only: musl has mallopt as a no-op stub
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt
