"""What the boundary view shows for a data set, and the function that computes it.

For 2-D classification the view shows a heat map of the prediction over the raw input
plane; for 1-D regression the fitted curve over the data; for anything else nothing
(:func:`boundary_info` returns None and the curves take the view's place).

:func:`make_boundary_fn` returns a ``network -> payload`` callable that the training
worker runs in its thread (NumPy only, see :mod:`workbench.boundary`);
:func:`show_payload` draws a payload in the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from workbench import boundary as bd

#: Grid cells per side of the decision-boundary heat map.
IMAGE_RESOLUTION = 80
#: Points on a fitted 1-D regression curve.
CURVE_POINTS = 200


@dataclass(frozen=True, eq=False)
class BoundaryInfo:
    """How to draw a data set: ``kind`` "image" (2-D classification) or "curve" (1-D
    regression), the raw inputs of the train and validation splits, and the raw ->
    network-features transform.  ``x_range`` (and ``y_range`` for an image) cover
    both splits; an image's ranges are widened to a square."""

    kind: str
    task: str
    n_classes: int
    raw_train: np.ndarray
    raw_val: Optional[np.ndarray]
    to_features: Callable[[np.ndarray], np.ndarray]
    x_range: tuple[float, float]
    y_range: Optional[tuple[float, float]] = None
    class_names: Optional[tuple] = None


def square(x_range, y_range):
    """Widen the shorter of two ranges (about its centre) to the longer one's span: the
    boundary view is square with equal axis scales, so a square image fills it."""
    (x0, x1), (y0, y1) = x_range, y_range
    span = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    return (cx - span / 2.0, cx + span / 2.0), (cy - span / 2.0, cy + span / 2.0)


def _raw_inputs(dataset, split: str) -> Optional[np.ndarray]:
    """The raw (unscaled, before derived features) inputs of a split, or None."""
    value = getattr(dataset, f"raw_{split}", None)
    return None if value is None else np.asarray(value)


def boundary_info(dataset) -> Optional[BoundaryInfo]:
    """What the boundary view can show for ``dataset``: a heat map for 2-D
    classification, a fitted curve for 1-D regression, else None."""
    if dataset is None:
        return None
    X = np.asarray(dataset.X_train)
    raw_train = _raw_inputs(dataset, "train")
    transform = getattr(dataset, "to_features", None)
    if raw_train is not None and callable(transform):
        raw_val = _raw_inputs(dataset, "val")
        to_features = transform
    else:  # no raw inputs: draw in the network's own (scaled) feature space
        raw_train = X
        raw_val = None if dataset.X_val is None else np.asarray(dataset.X_val)

        def to_features(points, _dtype=X.dtype):
            return np.asarray(points, dtype=_dtype)

    if raw_train.ndim != 2 or not len(raw_train):
        return None
    both = raw_train if raw_val is None or not len(raw_val) else np.concatenate([raw_train, raw_val])
    d = raw_train.shape[1]
    if dataset.task == "classification" and d == 2:
        x_range, y_range = square(bd.data_range(both[:, 0]), bd.data_range(both[:, 1]))
        return BoundaryInfo("image", "classification", int(dataset.n_classes), raw_train, raw_val, to_features,
                            x_range, y_range, getattr(dataset, "class_names", None))
    if dataset.task == "regression" and d == 1:
        return BoundaryInfo("curve", "regression", 0, raw_train, raw_val, to_features,
                            bd.data_range(both[:, 0], margin=0.02))
    return None


def set_points(view, dataset, info: BoundaryInfo) -> None:
    """Show the data set's train and validation points in ``view``."""
    y_val = None if dataset.y_val is None else np.asarray(dataset.y_val)
    view.set_points(info.raw_train, np.asarray(dataset.y_train), info.raw_val, y_val, task=info.task,
                    n_classes=info.n_classes, class_names=info.class_names)


def make_boundary_fn(dataset, resolution: int = IMAGE_RESOLUTION):
    """A callable ``network -> payload`` (run in the worker thread), or None when the
    data set has nothing to show.  The grid's features are computed once, here."""
    info = boundary_info(dataset)
    if info is None:
        return None
    if info.kind == "image":
        task, n_classes = info.task, info.n_classes
        _, _, points = bd.grid_for(info.x_range, info.y_range, resolution)
        feats = np.ascontiguousarray(info.to_features(points))

        def image(net):
            with np.errstate(all="ignore"):  # a diverging network's inf/NaN are drawn, not warned about
                img = bd.boundary_image(net.predict, feats, task, n_classes, resolution)
            return {"kind": "image", "image": img, "x_range": info.x_range, "y_range": info.y_range}

        return image

    xs, points = bd.curve_for(info.x_range, CURVE_POINTS)
    feats = np.ascontiguousarray(info.to_features(points))

    def curve(net):
        with np.errstate(all="ignore"):
            out = np.asarray(net.predict(feats), dtype=np.float64)
        if out.ndim == 2:
            out = out[:, 0]
        return {"kind": "curve", "xs": xs, "ys": out}

    return curve


def payload_from_weights(spec, dataset, weights) -> Optional[dict]:
    """The payload of a saved run's weights (a reopened file shows its boundary without
    retraining); None if the data set has nothing to show or the weights do not fit."""
    from workbench.experiment_file import decode_weights  # noqa: PLC0415

    if weights is None:
        return None
    return payload_from_params(spec, dataset, decode_weights(weights))


def payload_from_params(spec, dataset, params: np.ndarray, fn=None) -> Optional[dict]:
    """The payload of the network of ``spec`` with the flat parameter vector ``params``
    (a weight snapshot of the timeline); ``fn`` the data set's boundary function if made
    already.  None if the data set has nothing to show or the parameters do not fit."""
    from workbench.build import network_with  # noqa: PLC0415

    fn = fn or make_boundary_fn(dataset)
    if fn is None:
        return None
    net = network_with(spec, dataset, params)
    return None if net is None else fn(net)


def show_payload(view, payload) -> None:
    """Draw a payload of :func:`make_boundary_fn` in the boundary view."""
    if payload.get("kind") == "image":
        view.set_image(payload["image"], payload["x_range"], payload["y_range"])
    elif payload.get("kind") == "curve":
        view.set_curve(payload["xs"], payload["ys"])
