"""The fixed evaluation batch the layer health and the gradient check read: at most
:data:`EVAL_BATCH_ROWS` rows of a split, stratified by class, from a random stream of its
own (choosing it never shifts the trainer's shuffling, dropout or noise streams)."""

from __future__ import annotations

from typing import Optional

import numpy as np

EVAL_BATCH_ROWS = 512
"""Most rows of the fixed evaluation batch (one forward and one backward pass per snapshot)."""

EVAL_BATCH_STREAM = 7
"""The evaluation batch is drawn from ``SeedSequence([seed, EVAL_BATCH_STREAM])``, a stream
of its own: choosing it never shifts the trainer's shuffling, dropout or noise streams."""


def _class_labels(y: np.ndarray) -> Optional[np.ndarray]:
    """Integer class labels of ``y`` when it looks like classification targets (1-D
    integers, or 1-D / ``(n, 1)`` values that are all 0 or 1), else None."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        return None
    if np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_):
        return y.astype(np.int64, copy=False)
    if np.issubdtype(y.dtype, np.floating) and y.size and np.all((y == 0) | (y == 1)):
        return y.astype(np.int64)
    return None


def _stream(seed, key: int) -> np.random.SeedSequence:
    """The stream ``key`` of ``seed`` (an int, a sequence of ints or a SeedSequence),
    without spawning from (and so changing) a SeedSequence the caller holds."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, key))
    return np.random.SeedSequence([*np.atleast_1d(np.asarray(seed, dtype=np.int64)).tolist(), key])


def eval_batch_indices(y, n: int, seed=0, max_rows: int = EVAL_BATCH_ROWS) -> np.ndarray:
    """Sorted row indices of the evaluation batch (see :func:`choose_eval_batch`)."""
    if max_rows < 1:
        raise ValueError(f"max_rows: must be >= 1, got {max_rows}")
    if n <= max_rows:
        return np.arange(n)
    rng = np.random.default_rng(_stream(seed, EVAL_BATCH_STREAM))
    labels = None if y is None else _class_labels(y)
    if labels is None:
        return np.sort(rng.choice(n, max_rows, replace=False))
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    # proportional allocation, largest remainder first (ties: the smaller class index)
    share = counts * (max_rows / n)
    take = np.floor(share).astype(np.int64)
    rest = max_rows - int(take.sum())
    order = np.argsort(-(share - take), kind="stable")
    take[order[:rest]] += 1
    picked = [rng.choice(np.flatnonzero(inverse == k), int(take[k]), replace=False) for k in range(len(classes))]
    return np.sort(np.concatenate(picked))


def choose_eval_batch(X, y, seed=0, *, max_rows: int = EVAL_BATCH_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """The fixed evaluation batch: copies of at most ``max_rows`` rows of ``(X, y)``.

    All rows when there are no more; else a seeded subset (stream
    :data:`EVAL_BATCH_STREAM` of ``seed``), stratified by class when ``y`` holds class
    labels (each class gets ``round(max_rows * n_c / n)`` rows by largest remainder, so the
    batch has the split's class proportions), uniform for regression targets.  Rows keep
    their original order.  Choose it once per run: every snapshot then sees the same batch."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"y: expected {X.shape[0]} rows, got shape {y.shape}")
    idx = eval_batch_indices(y, X.shape[0], seed, max_rows)
    return np.ascontiguousarray(X[idx]), np.ascontiguousarray(y[idx])
