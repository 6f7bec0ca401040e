"""Seed 004's comparison: how far the signal spreads through the layers at epoch 0, for
several initialisers side by side.

Fed with an :class:`~workbench.engine.diagnostics.InitSpread` (see
:func:`~workbench.engine.diagnostics.init_spread`; :func:`spread_for_network` builds the
usual one).  For each initialiser one line with markers over the layers gives the
standard deviation of the layer's output ``H^(l)`` (the output layer: its logits
``A^(L)``) on the same rows, on a log axis: a flat line keeps the signal's scale (He for
ReLU, Xavier for tanh), a falling one shrinks it layer after layer.  With ``Var[w_i^T x]
= d_in sigma^2 gamma^2`` (seed 004) the variance of the weights must follow ``1 / d_in``.

A spread of exactly 0 cannot sit on a log axis: such a layer is drawn as a hollow
triangle on the bottom edge (:data:`ZERO_FLOOR` below the smallest spread shown) and
named in the caption; a layer whose units are all identical (``identical_units``: the
zero-initialisation symmetry -- every unit computes the same thing and, by symmetry,
gets the same update) is flagged in the caption and the table.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.engine.init_spread import DEFAULT_INITIALIZERS, InitSpread, current_initializers, init_spread
from workbench.engine.initializers import INITIALIZER_LABELS
from workbench.ui import style as st

from . import _common as cm
from ._plots import layer_color, make_plot, positive, style_plot

ZERO_FLOOR = 0.1
"""A zero spread is drawn at this fraction of the smallest positive spread shown."""

NAMES = {**INITIALIZER_LABELS, "current": "this network"}
RULES = {
    "zeros": "W = 0",
    "pytorch_default": "U(±1/√d_in)",
    "xavier_normal": "N(0, 2/(d_in+d_out))",
    "xavier_uniform": "U(±√(6/(d_in+d_out)))",
    "he_normal": "N(0, 2/d_in)",
    "he_uniform": "U(±√(6/d_in))",
    "lecun_normal": "N(0, 1/d_in)",
}
SYMBOLS = ("o", "s", "t1", "d", "star", "p", "h", "+")
GLYPHS = ("●", "■", "▲", "◆", "★", "⬟", "⬢", "✚")  # the symbols as text, for the key


def display_name(label: str) -> str:
    return NAMES.get(label, label.replace("_", " "))


def spread_for_network(network, X, seed, initializers: Sequence[str] = DEFAULT_INITIALIZERS) -> InitSpread:
    """The comparison for ``network``'s architecture on the rows ``X`` (the training
    inputs): its own initialisers ("current", drawn from ``seed`` -- pass
    ``SeedSequence([spec seed, 1])`` to get exactly the weights the run starts from) and
    ``initializers``, each for every layer.  NumPy only (the worker or a thread may run
    it): one forward pass of at most 512 rows per entry."""
    acts = tuple(h.activation for h in network.hidden)
    entries = [current_initializers(network), *initializers]
    labels = ["current", *initializers]
    return init_spread(network.layer_sizes, acts, X, entries, seed, labels=labels)


class InitComparison(QtWidgets.QWidget):
    """Activation spread per layer for several initialisers (see the module docstring)."""

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None, style: Optional[st.Style] = None):
        super().__init__(parent)
        self._style = style or st.Style.normal()
        self._base_font = st.base_font()
        self._spread: Optional[InitSpread] = None
        self._current: tuple[str, ...] = ()
        self.caption = QtWidgets.QLabel("No comparison yet: it is computed for the network of the experiment.")
        self.caption.setObjectName("initCaption")
        self.caption.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.caption.setContentsMargins(8, 4, 8, 4)
        self.key = QtWidgets.QLabel()  # the legend, above the plot (never over its points)
        self.key.setObjectName("initKey")
        self.key.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.key.setWordWrap(True)
        self.key.setContentsMargins(8, 0, 8, 0)
        self.plot_widget = make_plot()
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setLogMode(y=True)
        self.plot.getViewBox().setMouseEnabled(x=False, y=True)
        self.table = QtWidgets.QTableWidget()
        self.table.setObjectName("initTable")
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.setSizeAdjustPolicy(QtWidgets.QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.table.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Maximum)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addWidget(self.caption, 0)
        box.addWidget(self.key, 0)
        box.addWidget(self.plot_widget, 1)
        box.addWidget(self.table, 0)
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._zeros: dict[str, pg.ScatterPlotItem] = {}
        self.apply_style(self._style)

    # ------------------------------------------------------------------ data
    def set_spread(self, spread: Optional[InitSpread], current: Sequence[str] = ()) -> None:
        """Show ``spread`` (None: clear); ``current``: the network's own initialiser per
        layer (:func:`~workbench.engine.diagnostics.current_initializers`), named in the
        key of the "current" entry."""
        self._spread = spread
        self._current = tuple(current)
        self._rebuild()

    @property
    def spread(self) -> Optional[InitSpread]:
        return self._spread

    # ------------------------------------------------------------------ read-backs
    def plotted(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, std)`` given to the line of initialiser ``label`` (x = 1 .. L; NaN where the
        spread is 0 or not finite, which a log axis cannot show; empty when no layer has a
        positive spread)."""
        item = self._curves[label]
        if item.xData is None:
            return np.zeros(0), np.zeros(0)
        return np.asarray(item.xData, float), np.asarray(item.yData, float)

    def zero_markers(self, label: str) -> np.ndarray:
        """x positions (1 .. L) of the layers of ``label`` drawn as "spread 0" markers."""
        item = self._zeros[label]
        x, _ = item.getData()
        return np.asarray(x, float)

    # ------------------------------------------------------------------ drawing
    def _rebuild(self) -> None:
        for item in [*self._curves.values(), *self._zeros.values()]:
            self.plot.removeItem(item)
        self._curves, self._zeros = {}, {}
        spread = self._spread
        if spread is None:
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            self.caption.setText("No comparison yet: it is computed for the network of the experiment.")
            return
        table = spread.std_table()
        L = len(spread.layer_names)
        x = np.arange(1, L + 1, dtype=float)
        pos = table[np.isfinite(table) & (table > 0)]
        floor = float(pos.min()) * ZERO_FLOOR if pos.size else 1e-3
        for n, label in enumerate(spread.labels):
            y = positive(table[n])
            drawn = not np.isnan(y).all()  # (an all-NaN curve would make pyqtgraph warn)
            symbol = SYMBOLS[n % len(SYMBOLS)]
            curve = pg.PlotDataItem(x if drawn else [], y if drawn else [], connect="finite", symbol=symbol)
            self.plot.addItem(curve)
            self._curves[label] = curve
            zero = np.flatnonzero(table[n] == 0.0)
            # (a scatter is not log-transformed by the plot: its y is already log10)
            marks = pg.ScatterPlotItem(x[zero], np.full(zero.size, np.log10(floor)), symbol=symbol)
            self.plot.addItem(marks)
            self._zeros[label] = marks
        ax = self.plot.getAxis("bottom")
        ax.setTicks([[(float(i + 1), name) for i, name in enumerate(spread.layer_names)], []])
        self.plot.setXRange(0.6, L + 0.4, padding=0.0)
        top = float(pos.max()) if pos.size else 1.0
        self.plot.setYRange(np.log10(floor) - 0.15, np.log10(top) + 0.3, padding=0.0)
        self._fill_table(table)
        self.apply_style(self._style)

    def _legend_name(self, label: str) -> str:
        if label == "current" and self._current:
            names = list(dict.fromkeys(self._current))  # distinct, in order
            if len(names) == 1:
                return f"this network ({display_name(names[0])})"
            hidden = list(dict.fromkeys(self._current[:-1]))
            if len(hidden) == 1:
                return f"this network ({display_name(hidden[0])}; output {display_name(self._current[-1])})"
            return "this network (" + ", ".join(display_name(n) for n in self._current) + ")"
        rule = RULES.get(label)
        return f"{display_name(label)}  {rule}" if rule else display_name(label)

    def _fill_table(self, table: np.ndarray) -> None:
        spread = self._spread
        t = self.table
        t.clear()
        t.setRowCount(len(spread.labels))
        t.setColumnCount(len(spread.layer_names))
        t.setHorizontalHeaderLabels([f"{n}\n{a}" for n, a in zip(spread.layer_names, spread.activations)])
        t.setVerticalHeaderLabels([display_name(label) for label in spread.labels])
        for r, label in enumerate(spread.labels):
            for c, stats in enumerate(spread.stats[label]):
                text = cm.fmt(stats.std, 3)
                if stats.identical_units:
                    text += "  (all units identical)"
                item = QtWidgets.QTableWidgetItem(text)
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, float(stats.std))
                item.setToolTip(f"std of {spread.layer_names[c]}'s outputs under {display_name(label)}: "
                                f"{stats.std!r}; mean {stats.mean:.4g}")
                t.setItem(r, c, item)
        self._fit_table()

    def _update_key(self) -> None:
        if self._spread is None:
            self.key.setText("")
            return
        style = self._style
        parts = []
        for n, label in enumerate(self._spread.labels):
            c = st.text_color(layer_color(n, style).name(), style.dark).name()
            dashed = " (dashed)" if label == "current" else ""
            text = f"{GLYPHS[n % len(GLYPHS)]} {self._legend_name(label)}{dashed}".replace(" ", "&nbsp;")
            parts.append(f"<span style='color:{c}'>{text}</span>")  # (one entry never breaks)
        self.key.setText(" &nbsp;&nbsp; ".join(parts))

    def _fit_table(self) -> None:
        """Columns as wide as their text; the table as tall as its rows (AdjustToContents)."""
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()

    def _update_caption(self) -> None:
        spread = self._spread
        if spread is None:
            return
        style = self._style
        flagged = []
        for label in spread.labels:
            layers = [name for name, s in zip(spread.layer_names, spread.stats[label]) if s.identical_units]
            if layers:
                where = "every layer" if len(layers) == len(spread.layer_names) else ", ".join(layers)
                flagged.append(f"<b>{display_name(label)}</b>: all units of {where} are identical "
                               "(the symmetry problem: they get identical updates and stay identical)")
        zero = [display_name(label) for n, label in enumerate(spread.labels)
                if (spread.std_table()[n] == 0.0).any()]
        warn = st.text_color(st.VERMILLION, style.dark).name()
        parts = [f"<b>Spread of each layer's outputs at epoch 0</b>, std(H⁽ˡ⁾) on {spread.rows:,} rows "
                 "(output: its logits), one line per initialiser. Seed 004: Var[wᵀx] = d_in σ² γ², "
                 "so σ² ∝ 1/d_in keeps the spread from layer to layer; a falling line shrinks the signal."]
        if zero:
            parts.append(f"Hollow markers on the bottom edge: spread exactly 0 ({', '.join(zero)}).")
        if flagged:
            parts.append(f"<span style='color:{warn}'>" + "; ".join(flagged) + ".</span>")
        self.caption.setText(" ".join(parts))

    # ------------------------------------------------------------------ style
    def apply_style(self, style: st.Style) -> None:
        self._style = style
        colors = style.colors
        self.plot_widget.setBackground(colors.background)
        style_plot(self.plot, style, self._base_font, left="std of the layer's outputs (log)")
        self.plot.showGrid(x=False, y=True, alpha=colors.grid_alpha)
        w = style.px(style.pen_width)
        if self._spread is not None:
            for n, label in enumerate(self._spread.labels):
                c = layer_color(n, style)
                curve = self._curves[label]
                dash = QtCore.Qt.PenStyle.DashLine if label == "current" else QtCore.Qt.PenStyle.SolidLine
                curve.setPen(pg.mkPen(c, width=w, style=dash))
                curve.setSymbolPen(pg.mkPen(c, width=style.px(1.0)))
                curve.setSymbolBrush(pg.mkBrush(c))
                curve.setSymbolSize(style.marker_size * 1.4)
                marks = self._zeros[label]
                marks.setPen(pg.mkPen(c, width=style.px(2.0)))
                marks.setBrush(pg.mkBrush(colors.background))
                marks.setSize(style.marker_size * 1.8)
        for widget, factor in ((self.caption, 0.95), (self.key, 0.95), (self.table, 0.9)):
            widget.setFont(st.scaled_font(self._base_font, style, factor))
        for label in (self.caption, self.key):
            pal = label.palette()
            pal.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor(colors.background))
            pal.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor(colors.text))
            label.setPalette(pal)
            label.setAutoFillBackground(True)
        self._update_key()
        if self._spread is not None:
            bad = st.blend(st.VERMILLION, colors.background, 0.25)
            for r, label in enumerate(self._spread.labels):
                for c, stats in enumerate(self._spread.stats[label]):
                    item = self.table.item(r, c)
                    if item is not None:
                        item.setBackground(QtGui.QBrush(bad) if stats.identical_units else QtGui.QBrush())
            self._fit_table()
        self._update_caption()
