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
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.ui import style as st
from workbench.ui.plots._axis import fast_axes

_SHADES = 64


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
        self._base_font = QtGui.QFont(QtWidgets.QApplication.font())
        if self._base_font.pointSizeF() <= 0:
            self._base_font.setPointSizeF(9.0)
        self._task = "binary"
        self._n_classes = 2
        self._class_names: Optional[list[str]] = None
        self._rect: Optional[tuple[float, float, float, float]] = None
        self._levels = (0.0, 1.0)
        self._lut_key = None
        self._labels = (np.empty(0, np.int64), np.empty(0, np.int64))

        self._dirty = False
        self._pw = _View(self._after_paint, axisItems=fast_axes())
        self._pw.setMinimumSize(240, 240)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._pw)
        self.plot: pg.PlotItem = self._pw.getPlotItem()
        self.plot.hideButtons()
        self.plot.setAspectLocked(True)

        self.image_item = pg.ImageItem(axisOrder="row-major")
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
        self._legend = self.plot.addLegend(offset=(-8, 8))
        # Legend samples (never added to the plot), rebuilt by _rebuild_legend.
        self._legend_train: Optional[pg.ScatterPlotItem] = None
        self._legend_val: Optional[pg.ScatterPlotItem] = None
        self._legend_classes: list[pg.ScatterPlotItem] = []
        self.apply_style(self._style)

    # ------------------------------------------------------------------ data
    def set_points(self, X_train, y_train, X_val=None, y_val=None, task: str = "binary", n_classes: int = 2,
                   class_names=None) -> None:
        """Raw (unscaled) inputs and labels.  ``task``: binary, multiclass,
        classification (with ``n_classes``) or regression (1-D: x vs y)."""
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
            self.plot.setAspectLocked(False)
            yt = yt.reshape(len(yt), -1)[:, 0] if yt.size else yt
            yv = yv.reshape(len(yv), -1)[:, 0] if yv.size else yv
            if Xt.shape[1] == 1:
                self._train.setData(Xt[:, 0], yt.astype(np.float64))
                self._val.setData(Xv[:, 0], yv.astype(np.float64))
            else:
                self._train.setData(Xt[:, 0], Xt[:, 1])
                self._val.setData(Xv[:, 0], Xv[:, 1])
            self._labels = (np.empty(0, np.int64), np.empty(0, np.int64))
        else:
            self.plot.setAspectLocked(True)
            self._labels = (yt.astype(np.int64).ravel(), yv.astype(np.int64).ravel())
            self._train.setData(Xt[:, 0], Xt[:, 1])
            self._val.setData(Xv[:, 0], Xv[:, 1])
        self._style_points()
        self._rebuild_legend()
        self._set_labels()
        self._update_lut()
        self.plot.enableAutoRange()

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

    def clear(self) -> None:
        self.image_item.clear()
        self.image_item.setVisible(False)
        self._rect = None
        self._train.setData([], [])
        self._val.setData([], [])
        self._curve.setData([], [])
        self._labels = (np.empty(0, np.int64), np.empty(0, np.int64))
        self._legend.clear()

    # ------------------------------------------------------------------ read-back for tests
    def image_levels(self) -> tuple[float, float]:
        return self._levels

    def point_counts(self) -> tuple[int, int]:
        return len(self._train.data), len(self._val.data)

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
        s = self._style
        self._legend.clear()
        neutral = s.colors.foreground
        reg = self._task == "regression"
        self._legend_train = pg.ScatterPlotItem(
            symbol="o", size=s.marker_size * 1.2, pen=pg.mkPen(s.colors.background),
            brush=pg.mkBrush(st.ROLE_COLORS["train"] if reg else neutral))
        self._legend_val = pg.ScatterPlotItem(
            symbol="d", size=s.marker_size * 1.4, brush=pg.mkBrush(s.colors.background),
            pen=pg.mkPen(st.ROLE_COLORS["val"] if reg else neutral, width=1.6))
        self._legend.addItem(self._legend_train, "train")
        self._legend.addItem(self._legend_val, "validation")
        self._legend_classes = []
        if self._task != "regression":
            for k in range(max(self._n_classes, 2)):
                item = pg.ScatterPlotItem(symbol="s", size=s.marker_size * 1.3,
                                          brush=pg.mkBrush(self._class_color(k)), pen=pg.mkPen(None))
                name = self._class_names[k] if self._class_names and k < len(self._class_names) else f"class {k}"
                self._legend.addItem(item, str(name))
                self._legend_classes.append(item)
        else:
            self._legend.addItem(self._curve, "fitted")
        self._legend.setLabelTextSize(f"{self._pt(0.95):.1f}pt")
        for _sample, label in self._legend.items:
            label.setText(label.text)

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
        self._curve.setPen(pg.mkPen(colors.text, width=style.pen_width * 1.2))
        self._legend.setBrush(st.with_alpha(colors.legend_fill, colors.legend_fill[3]))
        self._legend.setPen(pg.mkPen(st.with_alpha(colors.foreground, 80)))
        self._legend.setLabelTextColor(colors.text)
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
