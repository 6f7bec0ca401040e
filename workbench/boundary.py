"""Decision-boundary and fitted-curve grids (NumPy only: runs in the worker thread).

The raw input space of a 2-D data set is covered by an ``r x r`` grid of cell
centres; every centre goes through the data set's feature transform
(derived features + scaling) and the network, and the predictions come back
as an image whose row ``i`` is ``y = ys[i]`` and column ``j`` is ``x = xs[j]``
(row-major; ``image[0, 0]`` is the bottom-left cell).  The image covers exactly
``x_range x y_range``.

Image values:

* binary classification: ``P(y = 1)`` in [0, 1];
* multi-class: ``k + c`` where ``k`` is the argmax class and
  ``c = (p_max - 1/K) / (1 - 1/K)`` in [0, 0.999] is its confidence rescaled so
  that a uniform guess is 0 and certainty ~1 (see :func:`decode_multiclass`);
* regression: the first predicted output.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]
ToFeatures = Callable[[np.ndarray], np.ndarray]

_CHUNK = 16384
_CONF_MAX = 0.999


def grid_for(x_range, y_range, resolution: int = 80):
    """Cell centres of an ``r x r`` grid over ``x_range x y_range``.

    Returns ``(xs (r,), ys (r,), points (r*r, 2))`` with ``points[i*r + j] =
    (xs[j], ys[i])`` (row-major, y rows)."""
    r = int(resolution)
    if r < 2:
        raise ValueError(f"resolution: must be >= 2, got {resolution}")
    x0, x1 = float(x_range[0]), float(x_range[1])
    y0, y1 = float(y_range[0]), float(y_range[1])
    if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
        raise ValueError(f"grid ranges must be finite and increasing, got x {x_range}, y {y_range}")
    xs = x0 + (np.arange(r) + 0.5) * ((x1 - x0) / r)
    ys = y0 + (np.arange(r) + 0.5) * ((y1 - y0) / r)
    gx, gy = np.meshgrid(xs, ys, indexing="xy")
    points = np.column_stack([gx.ravel(), gy.ravel()])
    return xs, ys, points


def curve_for(x_range, n: int = 200):
    """``n`` evenly spaced inputs over ``x_range`` (inclusive) for a 1-D fitted curve.

    Returns ``(xs (n,), points (n, 1))``."""
    n = int(n)
    if n < 2:
        raise ValueError(f"n: must be >= 2, got {n}")
    xs = np.linspace(float(x_range[0]), float(x_range[1]), n)
    return xs, xs[:, None].copy()


def data_range(values: np.ndarray, margin: float = 0.1):
    """``(lo, hi)`` of ``values`` widened by ``margin`` of the span on each side
    (never empty, always finite)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (-1.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo
    if span <= 1e-12:
        span = max(abs(lo), 1.0)
    return (lo - margin * span, hi + margin * span)


def _normalize_task(task: str, n_classes: int) -> str:
    if task in ("binary", "multiclass", "regression"):
        return task
    if task == "classification":
        return "binary" if int(n_classes) <= 2 else "multiclass"
    raise ValueError(f"task: must be binary, multiclass, classification or regression, got {task!r}")


def _predict_chunked(predict: Predict, features: np.ndarray) -> np.ndarray:
    n = features.shape[0]
    if n <= _CHUNK:
        return np.asarray(predict(features))
    parts = [np.asarray(predict(features[i : i + _CHUNK])) for i in range(0, n, _CHUNK)]
    return np.concatenate(parts, axis=0)


def encode_multiclass(probs: np.ndarray) -> np.ndarray:
    """``argmax + rescaled confidence`` per row of ``probs`` (n, K) -> (n,)."""
    p = np.asarray(probs, dtype=np.float64)
    k = p.shape[1]
    cls = np.argmax(p, axis=1)
    pmax = np.take_along_axis(p, cls[:, None], axis=1)[:, 0]
    conf = (pmax - 1.0 / k) / (1.0 - 1.0 / k)
    np.clip(conf, 0.0, _CONF_MAX, out=conf)
    conf[~np.isfinite(conf)] = 0.0
    return cls + conf


def decode_multiclass(image: np.ndarray):
    """Inverse of the multi-class encoding: ``(classes int, confidence in [0, 1))``."""
    img = np.asarray(image, dtype=np.float64)
    cls = np.floor(img).astype(np.int64)
    return cls, img - cls


def boundary_image(predict: Predict, points_features: np.ndarray, task: str, n_classes: int, resolution: int):
    """Predictions of ``predict`` on the grid's (already transformed) features as a
    ``(resolution, resolution)`` float image; see the module docstring for values."""
    r = int(resolution)
    feats = np.asarray(points_features)
    if feats.shape[0] != r * r:
        raise ValueError(f"points_features: expected {r * r} rows for resolution {r}, got {feats.shape[0]}")
    kind = _normalize_task(task, n_classes)
    out = _predict_chunked(predict, feats)
    if kind == "binary":
        if out.ndim == 2:
            out = out[:, -1] if out.shape[1] <= 2 else out[:, 0]
        values = np.clip(out.astype(np.float64, copy=False), 0.0, 1.0)
    elif kind == "multiclass":
        if out.ndim != 2:
            raise ValueError(f"multi-class predict must return (n, K) probabilities, got shape {out.shape}")
        values = encode_multiclass(out)
    else:
        values = out.astype(np.float64, copy=False)
        if values.ndim == 2:
            values = values[:, 0]
    return np.ascontiguousarray(values.reshape(r, r))


def compute_boundary(
    predict: Predict,
    to_features: ToFeatures,
    x_range,
    y_range,
    task: str,
    n_classes: int,
    resolution: int = 80,
):
    """Grid, transform, predict: returns ``(image (r, r), x_range, y_range)`` ready for
    ``BoundaryView.set_image``."""
    _, _, points = grid_for(x_range, y_range, resolution)
    feats = to_features(points)
    image = boundary_image(predict, feats, task, n_classes, resolution)
    return image, (float(x_range[0]), float(x_range[1])), (float(y_range[0]), float(y_range[1]))


def compute_curve(predict: Predict, to_features: ToFeatures, x_range, n: int = 200):
    """1-D regression: ``(xs (n,), ys (n,))`` of the fitted function (first output)."""
    xs, points = curve_for(x_range, n)
    out = np.asarray(_predict_chunked(predict, to_features(points)), dtype=np.float64)
    if out.ndim == 2:
        out = out[:, 0]
    return xs, out
