"""The errors of a network's test-time predictions on one split: the confusion matrix and
accuracy of a classifier, the predictions, residuals ``y - yhat`` and RMSE of a regression."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .readonly import readonly_copy

@dataclass(frozen=True, eq=False)
class SplitErrors:
    """:func:`split_errors`'s answer for one split of ``n`` rows.  Classification:
    ``confusion`` (``K x K`` int64, rows = true class, columns = predicted) and
    ``accuracy``.  Regression: ``predictions`` ``yhat`` and ``residuals`` ``y - yhat``
    (both ``(n, k)``) and ``rmse = sqrt(mean residual^2)``."""

    task: str
    n: int
    confusion: Optional[np.ndarray] = None
    accuracy: Optional[float] = None
    predictions: Optional[np.ndarray] = None
    residuals: Optional[np.ndarray] = None
    rmse: Optional[float] = None


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as class ``j``
    (``(n_classes, n_classes)`` int64; rows = true class).  Labels must be integers in
    ``[0, n_classes)``."""
    t = np.asarray(y_true).reshape(-1)
    p = np.asarray(y_pred).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_pred: expected {t.shape[0]} labels, got {p.shape[0]}")
    K = int(n_classes)
    if K < 1:
        raise ValueError(f"n_classes: must be >= 1, got {n_classes}")
    t = t.astype(np.int64)
    p = p.astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= K or p.min() < 0 or p.max() >= K):
        raise ValueError(f"labels: must be integers in [0, {K})")
    return np.bincount(t * K + p, minlength=K * K).reshape(K, K)


def residuals(y_true, y_pred) -> np.ndarray:
    """Regression residuals ``e_i = y_i - yhat_i`` (observed minus predicted), shaped
    ``(n, k)`` (a 1-D input is one column), float64."""
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.ndim == 1:
        t = t.reshape(-1, 1)
    if p.ndim == 1:
        p = p.reshape(-1, 1)
    if t.shape != p.shape:
        raise ValueError(f"y_pred: expected shape {t.shape}, got {p.shape}")
    return t - p


def split_errors(network, X, y, task: Optional[str] = None) -> SplitErrors:
    """Errors of ``network``'s test-time predictions on one split ``(X, y)``.

    ``task``: ``binary``, ``multiclass``, ``regression``, ``classification`` (the
    network's classification task) or None (the network's).  Binary: predicted class 1
    where ``P(y=1|x) > 0.5`` (as :meth:`Network.evaluate`), ``K = 2``; multiclass: arg max;
    regression: :func:`residuals`."""
    net_task = network.task
    if task in (None, "classification") and not (task == "classification" and net_task == "regression"):
        task = net_task
    if task != net_task:
        raise ValueError(f"task: the network is {net_task}, got {task!r}")
    X = np.asarray(X)
    y = np.asarray(y)
    n = int(X.shape[0])
    if y.shape[0] != n:
        raise ValueError(f"y: expected {n} rows, got shape {y.shape}")
    if n == 0:
        return SplitErrors(task, 0)
    P = network.predict(X)
    if task == "regression":
        yhat = P.astype(np.float64)
        e = residuals(y, yhat)
        return SplitErrors(
            task, n, predictions=readonly_copy(yhat.reshape(e.shape)), residuals=readonly_copy(e),
            rmse=math.sqrt(float(np.mean(e * e))),
        )
    if task == "binary":
        K = 2
        pred = (P.reshape(-1) > 0.5).astype(np.int64)
        true = (y.reshape(-1) > 0.5).astype(np.int64)
    else:
        K = int(network.n_outputs)
        pred = P.argmax(axis=1)
        true = y.reshape(-1).astype(np.int64)
    C = confusion_matrix(true, pred, K)
    return SplitErrors(task, n, confusion=readonly_copy(C), accuracy=float(np.trace(C)) / n)
