"""Decision boundary (2-D classification) or fitted curve (1-D regression).

An ``ImageItem`` heat map of the network's predictions on a grid (see
:mod:`workbench.boundary` for the image values) lies under a scatter of the
data: training points are filled circles, validation points hollow diamonds,
both in their class colour.  Colours come from the Okabe-Ito palette:

* binary: blue (class 0) <-> orange (class 1), pale near P = 0.5 so the
  boundary reads as a light band and confident regions as saturated colour;
* multi-class: each class's colour, blended with the background by the
  rescaled confidence (a lookup table of 64 shades per class, so an update is
  one ``setImage`` with fixed levels, no per-pixel Python);
* 2-D regression: blue (low) <-> orange (high) over the image's range.

The image is drawn with bilinear filtering (:class:`SmoothImageItem`).

A large data set is not drawn point by point (200 000 individually coloured points
took seconds and hid the boundary anyway): at most :data:`MAX_SHOWN_POINTS` training
and :data:`MAX_SHOWN_VAL_POINTS` validation points are drawn, a fixed-seed random
sample (stratified by class for classification, so every class stays visible and the
class proportions are kept) that is the same every time the same data are shown.  The
key says so ("showing 4,000 of 160,000 training points").  Smaller sets are drawn whole.

The view fits the data (plus :data:`VIEW_PADDING` of their span) and the plot keeps
a square area: in a tall pane it sits at the top with the key to symbols and colours
(:attr:`BoundaryView.caption`) under it, in a wide pane the key goes to its right.
A square plot with equal axis scales shows the data undistorted without leaving
most of a narrow pane empty, and the key no longer covers points.

Why this module is long: it is one widget, the prediction view; the heat map, its colour
tables, the sampled scatter of points and the key change together whenever the task, the
data or the style changes, so they are kept in one place.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.ui import style as st


class SmoothImageItem(pg.ImageItem):
    """An ``ImageItem`` scaled up with bilinear filtering: the grid's cells blend into
    a smooth heat map instead of showing as blocks (the grid stays coarse and cheap)."""

    def paint(self, painter, *args):
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
        super().paint(painter, *args)
from workbench.ui.plots._axis import fast_axes

_SHADES = 64
#: the view shows the data's range widened by this fraction of its span on each side
VIEW_PADDING = 0.06
#: at most this many training points are drawn (a fixed, class-stratified random sample)
MAX_SHOWN_POINTS = 4000
#: at most this many validation points are drawn
MAX_SHOWN_VAL_POINTS = 2000
#: seed of the sample of a large data set (the same points every time)
SAMPLE_SEED = 20240601


def sample_indices(n: int, cap: int, labels: Optional[np.ndarray] = None, seed: int = SAMPLE_SEED,
                   stream: int = 0) -> Optional[np.ndarray]:
    """Sorted indices of at most ``cap`` of ``n`` points to draw, or None (draw all) when
    ``n <= cap``.  A fixed-seed random sample; with ``labels`` stratified: each class gets
    its share of ``cap`` (largest remainders) and at least one point."""
    if n <= cap:
        return None
    rng = np.random.default_rng([seed, stream])
    if labels is None:
        return np.sort(rng.choice(n, size=cap, replace=False))
    _, inverse, counts = np.unique(np.asarray(labels).ravel(), return_inverse=True, return_counts=True)
    ideal = cap * counts / n
    quota = np.minimum(np.maximum(np.floor(ideal).astype(np.int64), 1), counts)
    short = cap - int(quota.sum())
    if short > 0:  # hand out the rest by the largest remainders (ties: the earlier class)
        for k in np.argsort(-(ideal - np.floor(ideal)), kind="stable"):
            if short == 0:
                break
            if quota[k] < counts[k]:
                quota[k] += 1
                short -= 1
    while short < 0:  # the one-per-class minimum overshot: take from the biggest share
        k = int(np.argmax(np.where(quota > 1, quota, 0)))
        if quota[k] <= 1:
            break
        quota[k] -= 1
        short += 1
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    picks = [rng.choice(order[a:a + c], size=int(q), replace=False) for a, c, q in zip(starts, counts, quota)]
    return np.sort(np.concatenate(picks))


def _rgb(c: QtGui.QColor) -> tuple[int, int, int]:
    return c.red(), c.green(), c.blue()


def _binary_lut(background: str, n: int = 256) -> np.ndarray:
    """Blue -> background -> orange; saturation grows with |p - 0.5|."""
    lo = np.array(_rgb(st.blend(st.BLUE, background, 0.62)), dtype=np.float64)
    hi = np.array(_rgb(st.blend(st.ORANGE, background, 0.62)), dtype=np.float64)
    mid = np.array(_rgb(QtGui.QColor(background)), dtype=np.float64)
    p = np.linspace(0.0, 1.0, n)[:, None]
    t = np.abs(2.0 * p - 1.0) ** 0.8  # confidence 0..1
    base = np.where(p < 0.5, lo, hi)
    lut = mid + (base - mid) * t
    return np.clip(np.round(lut), 0, 255).astype(np.ubyte)


def _multiclass_lut(n_classes: int, background: str) -> np.ndarray:
    """``n_classes * 64`` rows: class k shade s at row ``k*64 + s``."""
    bg = np.array(_rgb(QtGui.QColor(background)), dtype=np.float64)
    t = 0.12 + 0.6 * (np.arange(_SHADES) / (_SHADES - 1))  # weight of the class colour
    rows = []
    for k in range(n_classes):
        col = np.array(_rgb(QtGui.QColor(st.CLASS_COLORS[k % len(st.CLASS_COLORS)])), dtype=np.float64)
        rows.append(bg + (col - bg) * t[:, None])
    return np.clip(np.round(np.concatenate(rows)), 0, 255).astype(np.ubyte)


class _View(pg.PlotWidget):
    """The plot widget; reports each finished paint (frame pacing)."""

    def __init__(self, on_painted, **kwargs):
        super().__init__(**kwargs)
        self._on_painted = on_painted

    def paintEvent(self, ev):  # noqa: N802 - Qt override
        super().paintEvent(ev)
        self._on_painted()


class BoundaryView(QtWidgets.QWidget):
    """Heat map of predictions under the data points (or a fitted 1-D curve).

    ``painted`` is emitted after each paint; :meth:`needs_paint` says whether the
    image or curve changed since."""

    painted = QtCore.Signal()

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None, style: Optional[st.Style] = None):
        super().__init__(parent)
        self._style = style or st.Style.normal()
        self._base_font = st.base_font()
        self._task = "binary"
        self._n_classes = 2
        self._class_names: Optional[list[str]] = None
        self._rect: Optional[tuple[float, float, float, float]] = None
        self._levels = (0.0, 1.0)
        self._lut_key = None
        self._labels = (np.empty(0, np.int64), np.empty(0, np.int64))
        self._totals = (0, 0)  # points given to set_points (train, validation)
        self._shown: tuple[Optional[np.ndarray], Optional[np.ndarray]] = (None, None)  # None: all drawn

        self._dirty = False
        self._data_rect: Optional[tuple[float, float, float, float]] = None
        self._pw = _View(self._after_paint, axisItems=fast_axes())
        self._pw.setMinimumSize(200, 200)
        self._pw.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        self.caption = QtWidgets.QLabel()
        self.caption.setObjectName("boundaryCaption")
        self.caption.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.caption.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self.caption.setContentsMargins(10, 6, 10, 6)
        self.caption.setAutoFillBackground(True)
        self.caption.setMinimumWidth(120)
        self._box = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.TopToBottom, self)
        self._box.setContentsMargins(0, 0, 0, 0)
        self._box.setSpacing(0)
        self._box.addWidget(self._pw, 1)  # grows to its (square) maximum first
        self._box.addWidget(self.caption, 0)
        self.plot: pg.PlotItem = self._pw.getPlotItem()
        self.plot.hideButtons()
        self.plot.setAspectLocked(True)

        self.image_item = SmoothImageItem(axisOrder="row-major")
        self.image_item.setZValue(-10)
        self.plot.addItem(self.image_item)
        self._train = pg.ScatterPlotItem(symbol="o", pxMode=True)
        self._val = pg.ScatterPlotItem(symbol="d", pxMode=True)
        self._train.setZValue(5)
        self._val.setZValue(6)
        self.plot.addItem(self._train)
        self.plot.addItem(self._val)
        self._curve = pg.PlotDataItem(antialias=True)
        self._curve.setZValue(8)
        self.plot.addItem(self._curve)
        self.apply_style(self._style)

    # ------------------------------------------------------------------ layout
    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """A square plot; the caption takes the rest (under it or to its right)."""
        w, h = self.width(), self.height()
        big = 16_777_215  # QWIDGETSIZE_MAX
        small = self._pw.minimumWidth()
        if h >= w:
            self._box.setDirection(QtWidgets.QBoxLayout.Direction.TopToBottom)
            room = h - self.caption.heightForWidth(w) if self.caption.text() else h
            side = max(small, min(w, room))
            self._pw.setMaximumSize(big, side)
        else:
            self._box.setDirection(QtWidgets.QBoxLayout.Direction.LeftToRight)
            side = max(small, min(h, w - self.caption.minimumWidth()))
            self._pw.setMaximumSize(side, big)

    # ------------------------------------------------------------------ data
    def set_points(self, X_train, y_train, X_val=None, y_val=None, task: str = "binary", n_classes: int = 2,
                   class_names=None) -> None:
        """Raw (unscaled) inputs and labels.  ``task``: binary, multiclass,
        classification (with ``n_classes``) or regression (1-D: x vs y).  A large set is
        drawn as a fixed sample (see :func:`sample_indices`); the view still fits all points."""
        if task == "classification":
            task = "binary" if int(n_classes) <= 2 else "multiclass"
        self._task = task
        self._n_classes = int(n_classes) if task != "regression" else 0
        self._class_names = list(class_names) if class_names is not None else None
        Xt = np.asarray(X_train, dtype=np.float64)
        Xv = np.asarray(X_val, dtype=np.float64) if X_val is not None else np.empty((0, Xt.shape[1] if Xt.ndim == 2 else 1))
        yt = np.asarray(y_train) if y_train is not None else np.empty(0)
        yv = np.asarray(y_val) if y_val is not None else np.empty(0)
        if Xt.ndim == 1:
            Xt = Xt[:, None]
        if Xv.ndim == 1:
            Xv = Xv[:, None]
        if task == "regression":
            yt = yt.reshape(len(yt), -1)[:, 0] if yt.size else yt
            yv = yv.reshape(len(yv), -1)[:, 0] if yv.size else yv
        else:
            yt, yv = yt.astype(np.int64).ravel(), yv.astype(np.int64).ravel()
        classes = task != "regression"
        it = sample_indices(len(Xt), MAX_SHOWN_POINTS, yt if classes and len(yt) == len(Xt) else None, stream=0)
        iv = sample_indices(len(Xv), MAX_SHOWN_VAL_POINTS, yv if classes and len(yv) == len(Xv) else None, stream=1)
        self._totals = (len(Xt), len(Xv))
        self._shown = (it, iv)
        # what is drawn; the full arrays still set the view's range below
        Xt_s, yt_s = (Xt, yt) if it is None else (Xt[it], yt[it] if len(yt) == len(Xt) else yt)
        Xv_s, yv_s = (Xv, yv) if iv is None else (Xv[iv], yv[iv] if len(yv) == len(Xv) else yv)
        if task == "regression":
            self.plot.setAspectLocked(False)
            if Xt.shape[1] == 1:
                self._train.setData(Xt_s[:, 0], yt_s.astype(np.float64))
                self._val.setData(Xv_s[:, 0], yv_s.astype(np.float64))
            else:
                self._train.setData(Xt_s[:, 0], Xt_s[:, 1])
                self._val.setData(Xv_s[:, 0], Xv_s[:, 1])
            self._labels = (np.empty(0, np.int64), np.empty(0, np.int64))
        else:
            self.plot.setAspectLocked(True)
            self._labels = (yt_s, yv_s)
            self._train.setData(Xt_s[:, 0], Xt_s[:, 1])
            self._val.setData(Xv_s[:, 0], Xv_s[:, 1])
        self._style_points()
        self._rebuild_legend()
        self._set_labels()
        self._update_lut()
        if task == "regression" and Xt.shape[1] == 1:
            xs = np.concatenate([Xt[:, 0], Xv[:, 0]])
            ys = np.concatenate([np.asarray(yt, np.float64).ravel(), np.asarray(yv, np.float64).ravel()])
        else:
            xs = np.concatenate([Xt[:, 0], Xv[:, 0]])
            ys = np.concatenate([Xt[:, 1], Xv[:, 1]]) if Xt.shape[1] > 1 else np.zeros_like(xs)
        self._fit_view(xs, ys)
        self._arrange()

    def _fit_view(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """Show the data's bounding box widened by ``VIEW_PADDING`` of its span."""
        def padded(v):
            v = v[np.isfinite(v)]
            if not v.size:
                return (-1.0, 1.0)
            lo, hi = float(v.min()), float(v.max())
            span = hi - lo if hi > lo else max(abs(lo), 1.0)
            return (lo - VIEW_PADDING * span, hi + VIEW_PADDING * span)

        (x0, x1), (y0, y1) = padded(xs), padded(ys)
        self._data_rect = (x0, x1, y0, y1)
        self.plot.enableAutoRange(x=False, y=False)
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)

    def data_view_range(self) -> Optional[tuple[float, float, float, float]]:
        """``(x0, x1, y0, y1)`` the view was fitted to: the data range plus padding."""
        return self._data_rect

    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The plot's current ``((x0, x1), (y0, y1))``."""
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    def set_image(self, image: np.ndarray, x_range, y_range) -> None:
        """Show a row-major ``(r, r)`` prediction image covering ``x_range x y_range``
        (from :func:`workbench.boundary.compute_boundary`).  Levels stay fixed for
        classification; regression images use their own min/max."""
        img = np.asarray(image)
        if self._task == "regression":
            finite = img[np.isfinite(img)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            if hi <= lo:
                hi = lo + 1.0
            self._levels = (lo, hi)
        elif self._task == "multiclass":
            self._levels = (0.0, float(self._n_classes))
        else:
            self._levels = (0.0, 1.0)
        self._update_lut()
        self._dirty = True
        self.image_item.setImage(img, autoLevels=False, levels=self._levels)
        rect = (float(x_range[0]), float(y_range[0]), float(x_range[1]) - float(x_range[0]),
                float(y_range[1]) - float(y_range[0]))
        if rect != self._rect:
            self._rect = rect
            self.image_item.setRect(QtCore.QRectF(*rect))
        self.image_item.setVisible(True)

    def set_curve(self, xs, ys) -> None:
        """1-D regression: the fitted function drawn over the data points."""
        self._dirty = True
        self._curve.setData(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))

    def _after_paint(self) -> None:
        self._dirty = False
        self.painted.emit()

    def needs_paint(self) -> bool:
        """True if the image or curve changed since the last paint."""
        return self._dirty

    def clear_prediction(self) -> None:
        """Remove the heat map and fitted curve, keep the data points."""
        self.image_item.clear()
        self.image_item.setVisible(False)
        self._rect = None
        self._curve.setData([], [])

    def clear(self) -> None:
        self.image_item.clear()
        self.image_item.setVisible(False)
        self._rect = None
        self._train.setData([], [])
        self._val.setData([], [])
        self._curve.setData([], [])
        self._labels = (np.empty(0, np.int64), np.empty(0, np.int64))
        self._totals = (0, 0)
        self._shown = (None, None)
        self._data_rect = None
        self.caption.setText("")

    # ------------------------------------------------------------------ read-back for tests
    def image_levels(self) -> tuple[float, float]:
        return self._levels

    def point_counts(self) -> tuple[int, int]:
        """The (training, validation) points drawn (at most the caps of a large set)."""
        return len(self._train.data), len(self._val.data)

    def total_point_counts(self) -> tuple[int, int]:
        """The (training, validation) points given to :meth:`set_points`, drawn or not."""
        return self._totals

    def shown_indices(self) -> tuple[np.ndarray, np.ndarray]:
        """Indices (into the arrays given to :meth:`set_points`) of the drawn training and
        validation points, ascending."""
        drawn = self.point_counts()
        return tuple(np.arange(k, dtype=np.int64) if idx is None else idx.copy()  # type: ignore[return-value]
                     for idx, k in zip(self._shown, drawn))

    def curve_data(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._curve.getOriginalDataset()
        if x is None:
            return np.empty(0), np.empty(0)
        return np.array(x), np.array(y)

    def lookup_table(self) -> Optional[np.ndarray]:
        return self.image_item.lut if isinstance(self.image_item.lut, np.ndarray) else None

    # ------------------------------------------------------------------ colours
    def _class_color(self, k: int) -> str:
        return st.CLASS_COLORS[k % len(st.CLASS_COLORS)]

    def _update_lut(self) -> None:
        bg = self._style.colors.background
        key = (self._task, self._n_classes, bg)
        if key == self._lut_key:
            return
        self._lut_key = key
        if self._task == "multiclass":
            lut = _multiclass_lut(max(self._n_classes, 1), bg)
        else:
            lut = _binary_lut(bg)
        self.image_item.setLookupTable(lut)

    def _style_points(self) -> None:
        s = self._style
        size = s.marker_size
        edge = pg.mkPen(s.colors.background, width=max(1.0, s.pen_width * 0.4))
        if self._task == "regression":
            self._train.setPen(edge)
            self._train.setBrush(pg.mkBrush(st.ROLE_COLORS["train"]))
            self._val.setPen(pg.mkPen(st.ROLE_COLORS["val"], width=max(1.5, s.pen_width * 0.7)))
            self._val.setBrush(pg.mkBrush(None))
        else:
            k = max(self._n_classes, 2)
            brushes = np.empty(k, dtype=object)
            pens = np.empty(k, dtype=object)
            for i in range(k):
                brushes[i] = pg.mkBrush(self._class_color(i))
                pens[i] = pg.mkPen(self._class_color(i), width=max(1.6, s.pen_width * 0.8))
            yt, yv = self._labels
            yt = np.clip(yt, 0, k - 1)
            yv = np.clip(yv, 0, k - 1)
            if len(yt):
                self._train.setBrush(brushes[yt].tolist())
            self._train.setPen(edge)
            if len(yv):
                self._val.setPen(pens[yv].tolist())
            self._val.setBrush(pg.mkBrush(st.with_alpha(s.colors.background, 200)))
        self._train.setSize(size)
        self._val.setSize(size * 1.25)

    def _rebuild_legend(self) -> None:
        """The key under (or beside) the plot: symbols, classes and what the colours mean."""
        s = self._style
        dark = s.dark
        fg = s.colors.text
        sq = lambda color: f"<span style='color:{color}'>&#9632;</span>"  # noqa: E731  (a filled square)
        if self._task == "regression":
            train = st.text_color(st.ROLE_COLORS["train"], dark).name()
            val = st.text_color(st.ROLE_COLORS["val"], dark).name()
            lines = [
                f"<span style='color:{train}'>&#9679;</span> train &nbsp; "
                f"<span style='color:{val}'>&#9671;</span> validation &nbsp; "
                f"<span style='color:{fg}'>&#9472;&#9472;</span> the network's fit",
            ]
        else:
            k = max(self._n_classes, 2)
            names = [
                str(self._class_names[i]) if self._class_names and i < len(self._class_names) else f"class {i}"
                for i in range(k)
            ]
            lines = [
                f"<span style='color:{fg}'>&#9679;</span> train &nbsp; <span style='color:{fg}'>&#9671;</span> validation",
                " &nbsp; ".join(f"{sq(self._class_color(i))} {name}" for i, name in enumerate(names)),
            ]
            # the colours fade into the background where the network is unsure: pale on
            # the light theme, dark on the dark one (the caption says which)
            fade, fader = ("dark", "darker") if dark else ("pale", "paler")
            if self._task == "binary":
                lines.append(f"<span style='color:{fg}'>Background: the predicted class; "
                             f"{fade} where P &asymp; 0.5 (the decision boundary)</span>")
            else:
                lines.append(f"<span style='color:{fg}'>Background: the predicted class; "
                             f"{fader} where the network is less sure</span>")
        sampled = self.sampling_note()
        if sampled:
            lines.append(f"<span style='color:{fg}'>{sampled}</span>")
        self.caption.setText("<br>".join(lines))
        self._arrange()

    def sampling_note(self) -> str:
        """``"Showing 4,000 of 160,000 training points (...)"`` when a large set is drawn
        as a sample, else empty."""
        drawn = self.point_counts()
        parts = [f"{shown:,} of {total:,} {what} points"
                 for idx, shown, total, what in zip(self._shown, drawn, self._totals, ("training", "validation"))
                 if idx is not None]
        if not parts:
            return ""
        how = "a fixed random sample of each class" if self._task != "regression" else "a fixed random sample"
        return f"Showing {' and '.join(parts)} ({how})"

    # ------------------------------------------------------------------ style
    def _pt(self, factor: float = 1.0) -> float:
        return self._base_font.pointSizeF() * self._style.font_scale * factor

    def apply_style(self, style: st.Style) -> None:
        self._style = style
        colors = style.colors
        self._pw.setBackground(colors.background)
        font = st.scaled_font(self._base_font, style)
        for name in ("left", "bottom"):
            ax = self.plot.getAxis(name)
            ax.setStyle(tickFont=font)
            ax.setPen(pg.mkPen(colors.foreground))
            ax.setTextPen(pg.mkPen(colors.text))
        self._set_labels()
        self._curve.setPen(pg.mkPen(colors.text, width=style.px(style.pen_width * 1.2)))
        self.caption.setFont(st.scaled_font(self._base_font, style, 0.95))
        pal = self.caption.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor(colors.background))
        pal.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor(colors.text))
        self.caption.setPalette(pal)
        self._lut_key = None
        self._update_lut()
        self._style_points()
        self._rebuild_legend()

    def _set_labels(self) -> None:
        lab = {"font-size": f"{self._pt():.1f}pt", "color": self._style.colors.text}
        self.plot.setLabel("bottom", "x₁" if self._task != "regression" else "x", **lab)
        self.plot.setLabel("left", "x₂" if self._task != "regression" else "y", **lab)

    def current_font_point_size(self) -> float:
        return float(self.plot.getAxis("left").style["tickFont"].pointSizeF())
