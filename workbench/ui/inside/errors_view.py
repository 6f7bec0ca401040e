"""Where the network errs: a confusion matrix (classification) or residuals against
predictions (regression), for the validation or the test split.

Fed with :class:`~workbench.engine.diagnostics.SplitErrors` per split
(:func:`errors_for` computes them for a network and a data set: one prediction pass over
each split).  The chooser above the plot switches between the splits given.

Confusion matrix: row ``i`` = true class, column ``j`` = predicted class, each cell
printed with its count (up to :data:`MAX_CELL_TEXT` classes; beyond, hover for it).  A
cell's shade is its share of the true class's row (so a small class's errors show as
clearly as a big one's): blue on the diagonal (right), vermillion off it (wrong).

Residuals: ``e = y - yhat`` against ``yhat`` for one output (chosen when there are
several), with the zero line; at most :data:`MAX_POINTS` points are drawn (a fixed-seed
sample, the same every time; the caption says so).
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.engine.split_errors import SplitErrors, split_errors
from workbench.ui import style as st

from . import _common as cm
from ._plots import make_plot, style_plot

MAX_CELL_TEXT = 20
"""Classes up to which every cell carries its count as text."""
MAX_POINTS = 4000
"""Residuals drawn at most (a fixed-seed sample of a bigger split)."""
SAMPLE_SEED = 0
SHADE_MIN = 0.25
"""Least share of the cell colour in a non-empty cell (one error in a big class stays visible)."""
MAX_TICKS = 20
"""Class names on an axis at most (every k-th class beyond)."""
NAME_CHARS = 14
"""Class names on the axes are cut to this many characters."""
SPLIT_LABELS = {"validation": "validation split", "test": "test split", "train": "training split"}


def errors_for(network, dataset) -> dict[str, SplitErrors]:
    """:func:`~workbench.engine.diagnostics.split_errors` of ``network`` on the
    validation and test splits of ``dataset`` that have rows (keys "validation",
    "test").  NumPy only; one test-time prediction pass per split."""
    out = {}
    for key, X, y in (("validation", dataset.X_val, dataset.y_val), ("test", dataset.X_test, dataset.y_test)):
        if X is not None and len(X):
            out[key] = split_errors(network, X, y)
    return out


def _short(name: str) -> str:
    name = str(name)
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def confusion_rgba(C: np.ndarray, style: st.Style) -> np.ndarray:
    """``(K, K, 4)`` uint8 colours of the cells (see the module docstring)."""
    C = np.asarray(C, dtype=np.float64)
    rows = C.sum(axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        share = np.where(rows > 0, C / rows, 0.0)
    t = np.where(C > 0, SHADE_MIN + (1.0 - SHADE_MIN) * share, 0.0)
    bg = np.array(QtGui.QColor(style.colors.background).getRgb()[:3], float)
    good = np.array(cm.sign_colors(style)[0].getRgb()[:3], float)
    bad = np.array(QtGui.QColor(st.VERMILLION).getRgb()[:3], float)
    K = C.shape[0]
    target = np.where(np.eye(K, dtype=bool)[..., None], good, bad)
    rgb = bg + (target - bg) * t[..., None]
    out = np.empty((K, K, 4), np.uint8)
    out[..., :3] = np.round(rgb).astype(np.uint8)
    out[..., 3] = 255
    return out


class ErrorsPanel(QtWidgets.QWidget):
    """Confusion matrix or residuals of one split at a time (see the module docstring).
    ``split_changed(str)`` is emitted when the user picks another split."""

    split_changed = QtCore.Signal(str)

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None, style: Optional[st.Style] = None):
        super().__init__(parent)
        self._style = style or st.Style.normal()
        self._base_font = st.base_font()
        self._errors: dict[str, SplitErrors] = {}
        self._class_names: tuple[str, ...] = ()
        self._output_names: tuple[str, ...] = ()
        self._shown: Optional[str] = None
        self._K = 0
        self._texts: list[pg.TextItem] = []
        self._shown_points: Optional[np.ndarray] = None

        self.chooser = QtWidgets.QComboBox()
        self.chooser.setObjectName("errorsSplit")
        self.chooser.setToolTip("Which held-out split to show")
        self.chooser.currentIndexChanged.connect(self._chosen)
        self.output_chooser = QtWidgets.QComboBox()
        self.output_chooser.setObjectName("errorsOutput")
        self.output_chooser.setVisible(False)
        self.output_chooser.currentIndexChanged.connect(lambda _=None: self._draw())
        self.caption = QtWidgets.QLabel("No errors yet: they are computed when a run ends.")
        self.caption.setObjectName("errorsCaption")
        self.caption.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.readout = QtWidgets.QLabel(" ")
        self.readout.setObjectName("errorsReadout")
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(8, 4, 8, 0)
        self._split_label = QtWidgets.QLabel("Split:")
        top.addWidget(self._split_label)
        top.addWidget(self.chooser)
        top.addWidget(self.output_chooser)
        top.addWidget(self.caption, 1)

        self.plot_widget = make_plot()
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.scatter = pg.ScatterPlotItem(pxMode=True)
        self.plot.addItem(self.scatter)
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.plot.addItem(self.zero_line)
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self.class_table = QtWidgets.QTableWidget()
        self.class_table.setObjectName("errorsClasses")
        self.class_table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.class_table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.class_table.verticalHeader().setVisible(False)
        self.class_table.setSizeAdjustPolicy(QtWidgets.QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.class_table.setSizePolicy(QtWidgets.QSizePolicy.Policy.Maximum, QtWidgets.QSizePolicy.Policy.Maximum)
        self.class_table.setToolTip("Per true class: samples, recall = right / samples of the class, "
                                    "precision = right / predicted as the class")
        middle = QtWidgets.QHBoxLayout()
        middle.setContentsMargins(0, 0, 0, 0)
        middle.addWidget(self.plot_widget, 10)  # (up to its square width; the stretch takes the rest)
        middle.addWidget(self.class_table, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        middle.addStretch(1)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addLayout(top, 0)
        box.addLayout(middle, 1)
        self.readout.setContentsMargins(8, 0, 8, 4)
        box.addWidget(self.readout, 0)
        self._show_nothing()
        self.apply_style(self._style)

    # ------------------------------------------------------------------ data
    def set_errors(self, errors: Mapping[str, SplitErrors], class_names: Sequence[str] = (),
                   output_names: Sequence[str] = ()) -> None:
        """The errors per split (keys "validation", "test"; splits without rows are left
        out), the class names (classification) or the outputs' names (regression)."""
        self._errors = {k: v for k, v in errors.items() if v is not None and v.n > 0}
        self._class_names = tuple(str(c) for c in class_names)
        self._output_names = tuple(str(c) for c in output_names)
        previous = self._shown
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for key in self._errors:
            self.chooser.addItem(SPLIT_LABELS.get(key, key), key)
        keys = list(self._errors)
        self._shown = previous if previous in self._errors else (keys[0] if keys else None)
        if self._shown is not None:
            self.chooser.setCurrentIndex(keys.index(self._shown))
        self.chooser.blockSignals(False)
        self.chooser.setEnabled(len(keys) > 1)
        self._setup_outputs()
        self._draw()

    def set_split(self, key: str) -> None:
        """Show split ``key`` (one of those given)."""
        keys = list(self._errors)
        if key not in keys:
            raise KeyError(f"split {key!r}: not among {keys}")
        self.chooser.setCurrentIndex(keys.index(key))

    @property
    def split(self) -> Optional[str]:
        return self._shown

    def _chosen(self, index: int) -> None:
        key = self.chooser.itemData(index)
        if key is None or key == self._shown:
            return
        self._shown = key
        self._setup_outputs()
        self._draw()
        self.split_changed.emit(key)

    def _setup_outputs(self) -> None:
        e = self._errors.get(self._shown) if self._shown else None
        k = 0 if e is None or e.residuals is None else e.residuals.shape[1]
        self.output_chooser.blockSignals(True)
        if self.output_chooser.count() != k:
            self.output_chooser.clear()
            for j in range(k):
                name = self._output_names[j] if j < len(self._output_names) else f"output {j + 1}"
                self.output_chooser.addItem(name, j)
        self.output_chooser.blockSignals(False)
        self.output_chooser.setVisible(k > 1)

    # ------------------------------------------------------------------ read-backs
    def cell_texts(self) -> np.ndarray:
        """``(K, K)`` int64 array of the counts printed in the cells (-1 where none)."""
        K = self._K
        out = np.full((K, K), -1, np.int64)
        for n, item in enumerate(self._texts[: K * K]):
            text = item.textItem.toPlainText()
            if item.isVisible() and text:
                out[n // K, n % K] = int(text.replace(",", ""))
        return out

    def cell_color(self, i: int, j: int) -> QtGui.QColor:
        """Colour of cell (true ``i``, predicted ``j``) in the image."""
        img = self.image.image
        r, g, b = (int(v) for v in img[i, j, :3])
        return QtGui.QColor(r, g, b)

    def shown_residuals(self) -> tuple[np.ndarray, np.ndarray]:
        """``(predictions, residuals)`` of the points drawn."""
        x, y = self.scatter.getData()
        return np.asarray(x, float), np.asarray(y, float)

    # ------------------------------------------------------------------ drawing
    def _show_nothing(self) -> None:
        self._K = 0
        self.class_table.setVisible(False)
        self.image.setVisible(False)
        self.scatter.setData([], [])
        self.scatter.setVisible(False)
        self.zero_line.setVisible(False)
        for t in self._texts:
            t.setVisible(False)
        self.caption.setText("No errors yet: they are computed when a run ends.")

    def _draw(self) -> None:
        e = self._errors.get(self._shown) if self._shown else None
        if e is None:
            self._show_nothing()
            return
        if e.confusion is not None:
            self._draw_confusion(e)
        else:
            self._draw_residuals(e)

    def _ensure_texts(self, K: int) -> None:
        need = K * K if K <= MAX_CELL_TEXT else 0
        while len(self._texts) < need:
            t = pg.TextItem(anchor=(0.5, 0.5))
            t.setZValue(5)
            self.plot.addItem(t, ignoreBounds=True)
            self._texts.append(t)
        for n, t in enumerate(self._texts):
            t.setVisible(n < need)

    def _draw_confusion(self, e: SplitErrors) -> None:
        C = np.asarray(e.confusion)
        K = C.shape[0]
        self._K = K
        self.scatter.setVisible(False)
        self.zero_line.setVisible(False)
        self.image.setVisible(True)
        rgba = confusion_rgba(C, self._style)
        self.image.setImage(rgba, levels=(0, 255))
        self.image.setRect(QtCore.QRectF(-0.5, -0.5, K, K))
        self._ensure_texts(K)
        fg_dark = QtGui.QColor(self._style.colors.text)
        faint = st.blend(self._style.colors.text, self._style.colors.background, 0.35)
        rows = C.sum(axis=1)
        font = st.scaled_font(self._base_font, self._style, 1.0 if K <= 10 else 0.8)
        if K <= MAX_CELL_TEXT:
            for i in range(K):
                for j in range(K):
                    t = self._texts[i * K + j]
                    t.setText(f"{int(C[i, j]):,}")
                    t.setPos(float(j), float(i))
                    share = C[i, j] / rows[i] if rows[i] else 0.0
                    t.setColor(QtGui.QColor("#FFFFFF") if share > 0.55 else fg_dark if C[i, j] else faint)
                    t.setFont(font)
        names = [_short(self._class_names[k]) if k < len(self._class_names) else str(k) for k in range(K)]
        step = max(1, -(-K // MAX_TICKS))  # (100 classes: every 5th named, hover for the others)
        ticks = [[(float(k), names[k]) for k in range(0, K, step)], []]
        self.plot.getAxis("bottom").setTicks(ticks)
        self.plot.getAxis("left").setTicks(ticks)
        self.plot.invertY(True)
        self._fill_class_table(C)
        self.class_table.setVisible(True)
        self._square()
        self.plot.setXRange(-0.5, K - 0.5, padding=0.01)
        self.plot.setYRange(-0.5, K - 0.5, padding=0.01)
        style_plot(self.plot, self._style, self._base_font, left="true class", bottom="predicted class")
        split = SPLIT_LABELS.get(self._shown, self._shown)
        wrong = int(C.sum() - np.trace(C))
        good = st.text_color(cm.hexcolor(cm.sign_colors(self._style)[0]), self._style.dark).name()
        bad = st.text_color(st.VERMILLION, self._style.dark).name()
        self.caption.setText(
            f"<b>{split}</b>: {e.n:,} samples, accuracy {100 * (e.accuracy or 0):.1f} %, {wrong:,} wrong. "
            f"Rows: true class, columns: predicted; shade: share of the true class "
            f"(<span style='color:{good}'>diagonal: right</span>, <span style='color:{bad}'>off it: wrong</span>).")

    def _draw_residuals(self, e: SplitErrors) -> None:
        self._K = 0
        for t in self._texts:
            t.setVisible(False)
        self.image.setVisible(False)
        j = max(0, self.output_chooser.currentIndex())
        pred = np.asarray(e.predictions)[:, j]
        res = np.asarray(e.residuals)[:, j]
        n = pred.size
        if n > MAX_POINTS:
            idx = np.sort(np.random.default_rng(SAMPLE_SEED).choice(n, MAX_POINTS, replace=False))
            pred, res = pred[idx], res[idx]
        keep = np.isfinite(pred) & np.isfinite(res)
        self.scatter.setData(pred[keep], res[keep])
        self.scatter.setVisible(True)
        self.zero_line.setVisible(True)
        self.plot.invertY(False)
        self.class_table.setVisible(False)
        self.plot_widget.setMaximumWidth(16_777_215)
        self.plot.getAxis("bottom").setTicks(None)
        self.plot.getAxis("left").setTicks(None)
        self.plot.enableAutoRange()
        style_plot(self.plot, self._style, self._base_font, left="residual e = y − ŷ", bottom="prediction ŷ")
        split = SPLIT_LABELS.get(self._shown, self._shown)
        sample = f" (a fixed sample of {MAX_POINTS:,} of {n:,} drawn)" if n > MAX_POINTS else ""
        rmse_j = float(np.sqrt(np.mean(np.asarray(e.residuals)[:, j] ** 2)))
        every = f" (all outputs: {cm.fmt(e.rmse)})" if e.residuals.shape[1] > 1 else ""
        self.caption.setText(
            f"<b>{split}</b>: {n:,} samples{sample}, RMSE {cm.fmt(rmse_j)}{every}. "
            "Residual e = y − ŷ against the prediction; points should scatter evenly around the zero line.")

    def _fill_class_table(self, C: np.ndarray) -> None:
        K = C.shape[0]
        t = self.class_table
        t.clear()
        t.setColumnCount(4)
        t.setRowCount(K)
        t.setHorizontalHeaderLabels(["class", "samples", "recall", "precision"])
        rows, cols, right = C.sum(axis=1), C.sum(axis=0), np.diag(C)
        for k in range(K):
            name = self._class_names[k] if k < len(self._class_names) else str(k)
            recall = f"{100 * right[k] / rows[k]:.1f} %" if rows[k] else "–"
            precision = f"{100 * right[k] / cols[k]:.1f} %" if cols[k] else "–"
            for c, text in enumerate((_short(name), f"{int(rows[k]):,}", recall, precision)):
                item = QtWidgets.QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                t.setItem(k, c, item)
        t.resizeColumnsToContents()
        t.resizeRowsToContents()

    def _square(self) -> None:
        """Square cells: the matrix plot is no wider than it is tall (plus its axis)."""
        if not self._K:
            return
        h = self.plot_widget.height()
        axis = self.plot.getAxis("left").width() + 20
        self.plot_widget.setMaximumWidth(int(max(200, h + axis)))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._square()

    def _mouse_moved(self, pos) -> None:
        vb = self.plot.getViewBox()
        if not self.plot.sceneBoundingRect().contains(pos):
            self.readout.setText(" ")
            return
        p = vb.mapSceneToView(pos)
        self.readout.setText(self.describe(p.x(), p.y()) or " ")

    def describe(self, x: float, y: float) -> str:
        """What lies at data point ``(x, y)``: a cell's count and share."""
        e = self._errors.get(self._shown) if self._shown else None
        if e is None or e.confusion is None:
            return ""
        K = self._K
        i, j = int(round(y)), int(round(x))
        if not (0 <= i < K and 0 <= j < K):
            return ""
        C = e.confusion
        rows = int(C[i].sum())
        name = (lambda k: self._class_names[k] if k < len(self._class_names) else str(k))
        share = f" ({100 * C[i, j] / rows:.1f} % of class {name(i)})" if rows else ""
        return f"true {name(i)}, predicted {name(j)}: {int(C[i, j]):,}{share}"

    # ------------------------------------------------------------------ style
    def apply_style(self, style: st.Style) -> None:
        self._style = style
        colors = style.colors
        self.plot_widget.setBackground(colors.background)
        self.zero_line.setPen(pg.mkPen(colors.foreground, width=style.px(1.5), style=QtCore.Qt.PenStyle.DashLine))
        c = cm.sign_colors(style)[0]
        self.scatter.setPen(pg.mkPen(None))
        self.scatter.setBrush(pg.mkBrush(st.with_alpha(c.getRgb(), 150)))
        self.scatter.setSize(style.marker_size)
        for w, factor in ((self.caption, 0.95), (self.readout, 0.95), (self.chooser, 1.0),
                          (self.output_chooser, 1.0), (self._split_label, 1.0), (self.class_table, 0.9)):
            w.setFont(st.scaled_font(self._base_font, style, factor))
        style_plot(self.plot, style, self._base_font)
        if self._errors:
            self._draw()
