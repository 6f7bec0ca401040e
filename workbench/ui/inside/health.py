"""Layer health over the run: gradient norms, update ratios, saturated and dead units,
and the current weight and activation histograms of each layer.

Fed with :class:`~workbench.engine.diagnostics.HealthSnapshot` objects as the worker sends
them (:meth:`LayerHealthPanel.add_snapshot`).  Memory is bounded: the numbers of at most
:data:`MAX_SNAPSHOTS` snapshots are kept (:class:`HealthHistory` thins them evenly: when
full, every other one goes and from then on only every second arrival is kept, the
newest always shown), and only the latest snapshot is kept whole (its histograms).
Drawing is bounded: curves for at most :data:`MAX_SHOWN_LAYERS` layers and histograms
for at most :data:`MAX_HIST_LAYERS` layers (evenly chosen, the first and the output
always among them; the caption names them).

Per layer ``l`` (notation of :mod:`workbench.engine.diagnostics`):

* ``||dJ/dW^(l)||_F`` on the fixed evaluation batch (log axis);
* the update-to-weight ratio ``||W_t - W_{t-1}||_F / ||W_{t-1}||_F`` of one step (log
  axis), with the guide line at :data:`RATIO_GUIDE` = 1e-3 (CS231n's rule of thumb);
* the saturated fraction (share of unit-sample values in the flat part of ``g``,
  :data:`~workbench.engine.diagnostics.SATURATION_RULE`) and the dead fraction (share of
  units dead on the whole batch, :data:`~workbench.engine.diagnostics.DEAD_RULE`); the
  rules are the plots' tooltips.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.engine.diagnostics import DEAD_RULE, SATURATION_RULE, HealthSnapshot
from workbench.ui import style as st

from . import _common as cm
from ._plots import finite, layer_color, make_plot, no_si_prefix, positive, style_plot

MAX_SNAPSHOTS = 512
"""Snapshots whose numbers :class:`HealthHistory` keeps at most."""
MAX_SHOWN_LAYERS = 8
"""Layers drawn as curves at most."""
MAX_HIST_LAYERS = 6
"""Layers whose histograms are drawn at most."""
HIST_COLUMN = 110
"""Narrowest histogram column (px at the normal style)."""
RATIO_GUIDE = 1e-3
"""The update-to-weight ratio's guide line."""
HEADROOM = 1.3
"""A histogram's y range is its tallest bar times this (the out-of-range note sits above)."""

SERIES = ("grad_norm", "update_ratio", "saturated", "dead")
"""The curves' quantities, one plot each."""


def shown_layers(n: int, cap: int) -> tuple[int, ...]:
    """``cap`` of ``n`` layer indices (0-based), evenly spread, first and last included."""
    if n <= cap:
        return tuple(range(n))
    return tuple(int(v) for v in np.unique(np.round(np.linspace(0, n - 1, cap)).astype(int)))


def _value(layer, name: str) -> float:
    if name == "grad_norm":
        v = layer.grad_weight_norm
    elif name == "update_ratio":
        v = layer.update_ratio
    elif name == "saturated":
        v = layer.activations.saturated_fraction
    else:
        v = layer.activations.dead_fraction
    return float("nan") if v is None else float(v)


class HealthHistory:
    """The numbers of at most ``capacity`` snapshots, thinned evenly (see the module
    docstring).  ``epochs()`` and ``values(name)`` (``(n, layers)`` float64, NaN where a
    quantity does not apply) include the newest snapshot even when thinning will drop it."""

    def __init__(self, capacity: int = MAX_SNAPSHOTS):
        if capacity < 2:
            raise ValueError(f"capacity: must be >= 2, got {capacity}")
        self.capacity = int(capacity)
        self.clear()

    def clear(self) -> None:
        self.names: tuple[str, ...] = ()
        self.activations: tuple[str, ...] = ()
        self.latest: Optional[HealthSnapshot] = None
        self.arrivals = 0
        self.stride = 1
        self.n = 0  # permanent rows
        self._tail = False  # row n holds the newest, off-stride snapshot
        self._epochs = np.zeros(self.capacity + 1)
        self._values = {name: np.zeros((self.capacity + 1, 0)) for name in SERIES}

    def add(self, snap: HealthSnapshot) -> None:
        names = tuple(layer.name for layer in snap.layers)
        if names != self.names:  # another architecture: start over
            self.clear()
            self.names = names
            self.activations = tuple(layer.activation for layer in snap.layers)
            self._values = {name: np.zeros((self.capacity + 1, len(names))) for name in SERIES}
        keep = self.arrivals % self.stride == 0
        self.arrivals += 1
        row = self.n
        self._epochs[row] = snap.epoch
        for name in SERIES:
            self._values[name][row] = [_value(layer, name) for layer in snap.layers]
        self.latest = snap
        if keep:
            self.n += 1
            self._tail = False
            if self.n == self.capacity:  # full: every other row goes, the stride doubles
                newest = self.n - 1
                idx = np.arange(0, self.n, 2)
                if idx[-1] != newest:  # the newest stays shown, as the provisional last row
                    idx = np.append(idx, newest)
                k = idx.size
                self._epochs[:k] = self._epochs[idx]
                for name in SERIES:
                    self._values[name][:k] = self._values[name][idx]
                self.n = int(np.count_nonzero(idx % 2 == 0))
                self._tail = k > self.n
                self.stride *= 2
        else:
            self._tail = True

    def __len__(self) -> int:
        return self.n + (1 if self._tail else 0)

    def epochs(self) -> np.ndarray:
        return self._epochs[: len(self)].copy()

    def values(self, name: str) -> np.ndarray:
        return self._values[name][: len(self)].copy()


def _rule_text(kind: str) -> str:
    sat = SATURATION_RULE.get(kind)
    dead = DEAD_RULE.get(kind)
    return f"{kind}: saturated where {sat or '— (no flat side)'}; dead when {dead or '— (no rule)'}"


class LayerHealthPanel(QtWidgets.QWidget):
    """Layer health curves and histograms (see the module docstring)."""

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None, style: Optional[st.Style] = None,
                 capacity: int = MAX_SNAPSHOTS):
        super().__init__(parent)
        self._style = style or st.Style.normal()
        self._base_font = st.base_font()
        self.history = HealthHistory(capacity)
        self._shown: tuple[int, ...] = ()
        self._hist_shown: tuple[int, ...] = ()
        self._hist_cap = MAX_HIST_LAYERS

        self.caption = QtWidgets.QLabel("No health snapshot yet: they arrive while a run trains.")
        self.caption.setObjectName("healthCaption")
        self.caption.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.caption.setContentsMargins(8, 4, 8, 4)

        self.plots: dict[str, pg.PlotWidget] = {}
        self._curves: dict[str, list[pg.PlotDataItem]] = {name: [] for name in SERIES}
        self._notes: dict[str, pg.TextItem] = {}
        curves_box = QtWidgets.QWidget()
        grid = QtWidgets.QGridLayout(curves_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        for n, name in enumerate(SERIES):
            pw = make_plot(epochs=True)
            pw.setMinimumHeight(110)
            self.plots[name] = pw
            grid.addWidget(pw, n // 2, n % 2)
            note = pg.TextItem(anchor=(0, 0))
            note.setParentItem(pw.getPlotItem().getViewBox())
            note.setPos(6, 2)
            self._notes[name] = note
        for name in ("grad_norm", "update_ratio"):
            self.plots[name].getPlotItem().setLogMode(y=True)
        for name in ("saturated", "dead"):
            self.plots[name].setYRange(0.0, 1.0, padding=0.04)
            self.plots[name].getPlotItem().getViewBox().setMouseEnabled(y=False)
        first = self.plots["grad_norm"].getPlotItem()
        for name in SERIES[1:]:
            self.plots[name].getPlotItem().setXLink(first)
        self.guide = pg.InfiniteLine(pos=np.log10(RATIO_GUIDE), angle=0, movable=False,
                                     label="1e-3 (rule of thumb)",
                                     labelOpts={"position": 0.03, "anchors": [(0, 1.15), (0, 1.15)]})
        self.plots["update_ratio"].addItem(self.guide)

        self.hist_view = pg.GraphicsLayoutWidget()
        self.hist_view.setMinimumHeight(160)
        self._hist_plots: list[tuple[pg.PlotItem, pg.PlotItem]] = []
        self._hist_items: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._hist_notes: list[tuple[pg.TextItem, pg.TextItem]] = []
        self._hist_titles: dict = {}
        self._row_labels: list = []

        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.caption, 0)
        box.addWidget(curves_box, 11)
        box.addWidget(self.hist_view, 9)
        self._set_tooltips()
        self.apply_style(self._style)

    # ------------------------------------------------------------------ data
    def clear(self) -> None:
        """Forget every snapshot (a new run); nothing to redo when nothing is shown."""
        shown = bool(self.history.names) or self._hist_plots or any(self._curves.values())
        self.history.clear()
        if shown:
            self._rebuild()

    def add_snapshot(self, snap: HealthSnapshot) -> None:
        """Append one snapshot (as the worker sends them)."""
        self.add_snapshots([snap])

    def add_snapshots(self, snaps: Sequence[HealthSnapshot]) -> None:
        names = self.history.names
        for snap in snaps:
            self.history.add(snap)
        if not snaps:
            return
        if self.history.names != names or not self._hist_plots:
            self._rebuild()
        self._update_curves()
        self._update_hists()
        self._update_caption()

    # ------------------------------------------------------------------ read-backs
    def shown_layers(self) -> tuple[int, ...]:
        """0-based indices of the layers drawn as curves."""
        return self._shown

    def hist_layers(self) -> tuple[int, ...]:
        return self._hist_shown

    def curve_data(self, name: str, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """``(epochs, values)`` plotted for quantity ``name`` of layer ``layer`` (0-based;
        it must be among :meth:`shown_layers`), as given to the curve (before log10)."""
        k = self._shown.index(layer)
        item = self._curves[name][k]
        x, y = item.xData, item.yData
        if x is None:
            return np.zeros(0), np.zeros(0)
        return np.asarray(x, float), np.asarray(y, float)  # pyqtgraph keeps the data before log10

    def histogram_data(self, layer: int, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(edges, counts)`` drawn for layer ``layer`` (0-based), ``which`` "weights" or
        "activations"."""
        k = self._hist_shown.index(layer)
        item = self._hist_items[k][0 if which == "weights" else 1]
        return np.asarray(item.xData, float), np.asarray(item.yData, float)

    # ------------------------------------------------------------------ drawing
    def _rebuild(self) -> None:
        h = self.history
        L = len(h.names)
        self._shown = shown_layers(L, MAX_SHOWN_LAYERS)
        for name in SERIES:
            plot = self.plots[name].getPlotItem()
            for item in self._curves[name]:
                plot.removeItem(item)
            self._curves[name] = []
            for k in self._shown:
                item = pg.PlotDataItem(connect="finite", symbol="o", symbolSize=4)
                item.setZValue(10 + k)
                plot.addItem(item)
                self._curves[name].append(item)
        self._rebuild_hists()
        self._set_tooltips()
        self.apply_style(self._style)

    def hist_capacity(self) -> int:
        """Layers whose histograms fit side by side: :data:`MAX_HIST_LAYERS`, fewer when a
        column would be narrower than :data:`HIST_COLUMN` px (x the font scale)."""
        width = max(self.hist_view.width(), self.width(), 1)
        return int(max(2, min(MAX_HIST_LAYERS, (width - 40) // (HIST_COLUMN * self._style.font_scale))))

    def _rebuild_hists(self) -> None:
        self._hist_cap = self.hist_capacity()
        self._hist_shown = shown_layers(len(self.history.names), self._hist_cap)
        self.hist_view.clear()
        self._hist_plots, self._hist_items, self._hist_notes = [], [], []
        self._hist_titles = {}
        self._row_labels = [self.hist_view.addLabel("weights W⁽ˡ⁾", row=0, col=0, angle=-90),
                            self.hist_view.addLabel("outputs H⁽ˡ⁾", row=1, col=0, angle=-90)]
        for col, k in enumerate(self._hist_shown):
            pair, items, notes = [], [], []
            for row in range(2):
                p = self.hist_view.addPlot(row=row, col=col + 1)
                no_si_prefix(p)
                p.hideButtons()
                p.setMenuEnabled(False)
                p.hideAxis("left")
                p.getViewBox().setMouseEnabled(x=False, y=False)
                item = pg.PlotDataItem(stepMode="center", fillLevel=0)
                p.addItem(item)
                note = pg.TextItem(anchor=(1, 0))
                p.addItem(note, ignoreBounds=True)
                pair.append(p)
                items.append(item)
                notes.append(note)
            self._hist_plots.append(tuple(pair))
            self._hist_items.append(tuple(items))
            self._hist_notes.append(tuple(notes))

    def _update_curves(self) -> None:
        h = self.history
        x = h.epochs()
        for name in SERIES:
            vals = h.values(name)
            conv = positive if name in ("grad_norm", "update_ratio") else finite
            for item, k in zip(self._curves[name], self._shown):
                y = conv(vals[:, k])
                if np.isnan(y).all():  # (no rule, or nothing measured yet: no curve)
                    item.setData([], [])
                else:
                    item.setData(x, y)
        kinds = h.activations
        no_sat = sorted({kinds[k] for k in self._shown if k < len(kinds) - 1 and SATURATION_RULE.get(kinds[k]) is None})
        no_dead = sorted({kinds[k] for k in self._shown if k < len(kinds) - 1 and DEAD_RULE.get(kinds[k]) is None})
        self._notes["saturated"].setText(f"no flat side: {', '.join(no_sat)} (no curve)" if no_sat else "")
        self._notes["dead"].setText(f"no dead-unit rule for {', '.join(no_dead)} (no curve)" if no_dead else "")
        ratio = h.values("update_ratio")
        self._notes["update_ratio"].setText("" if np.isfinite(ratio).any() else "no optimizer step measured yet")

    def _update_hists(self) -> None:
        snap = self.history.latest
        if snap is None:
            return
        for col, k in enumerate(self._hist_shown):
            layer = snap.layers[k]
            pw, pa = self._hist_plots[col]
            iw, ia = self._hist_items[col]
            name = layer.name if layer.activation == "logits" else f"{layer.name} · {layer.activation}"
            if self._hist_titles.get(col) != (name, self._style):  # (a title change re-lays out the grid)
                style_plot(pw, self._style, self._base_font, title=name, factor=0.8)
                self._hist_titles[col] = (name, self._style)
            for plot, item, note, hist in ((pw, iw, self._hist_notes[col][0], layer.weights.hist),
                                           (pa, ia, self._hist_notes[col][1], layer.activations.hist)):
                item.setData(np.asarray(hist.edges, float), np.asarray(hist.counts, float))
                outside = hist.below + hist.above + hist.nonfinite
                text = f"+{outside:,} outside" if outside else ""
                if note.textItem.toPlainText() != text:
                    note.setText(text)
                lo, hi = float(hist.edges[0]), float(hist.edges[-1])
                top = float(max(1, hist.counts.max())) * HEADROOM  # room for the note above the bars
                plot.setRange(xRange=(lo, hi), yRange=(0.0, top), padding=0.0)
                plot.setXRange(lo, hi, padding=0.12)  # (room for the end ticks' labels)
                note.setPos(hi, top)
                ticks = (lo, 0.0 if lo < 0.0 < hi else (lo + hi) / 2, hi)
                axis = plot.getAxis("bottom")
                if getattr(axis, "_inside_ticks", None) != ticks:  # (new ticks re-lay out the axis)
                    axis.setTicks([[(v, _tick(v)) for v in ticks], []])
                    axis._inside_ticks = ticks

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.history.names and self.hist_capacity() != self._hist_cap:
            self._rebuild_hists()
            self.apply_style(self._style)

    def _update_caption(self) -> None:
        snap = self.history.latest
        if snap is None:
            self.caption.setText("No health snapshot yet: they arrive while a run trains.")
            return
        style = self._style
        keys = []
        for k in self._shown:
            c = st.text_color(layer_color(self._shown.index(k), style).name(), style.dark).name()
            keys.append(f"<span style='color:{c}'>■ {self.history.names[k]}</span>")
        L = len(self.history.names)
        note = "" if len(self._shown) == L else f" (curves: {len(self._shown)} of {L} layers)"
        hist_note = "" if len(self._hist_shown) == L else f"; histograms of {len(self._hist_shown)} of {L} layers"
        thinned = "" if self.history.stride == 1 else f"; every {self.history.stride}th snapshot kept"
        self.caption.setText(
            f"<b>After epoch {snap.epoch}</b> · {snap.rows:,} fixed evaluation rows · data loss J = "
            f"{cm.fmt(snap.loss)} · {len(self.history):,} snapshots{thinned}{hist_note}<br>"
            + " ".join(keys) + note)

    def _set_tooltips(self) -> None:
        kinds = sorted(set(self.history.activations[:-1])) if self.history.activations else sorted(
            k for k in SATURATION_RULE if k != "logits")
        rules = "\n".join(_rule_text(k) for k in kinds)
        self.plots["grad_norm"].setToolTip(
            "‖∂J/∂W⁽ˡ⁾‖_F: Frobenius norm of the data loss's gradient for each layer's weights,\n"
            "on a fixed evaluation batch (no dropout, no L1/L2 penalty).  Log axis.")
        self.plots["update_ratio"].setToolTip(
            "‖W_t − W_(t−1)‖_F / ‖W_(t−1)‖_F: how much one optimizer step changed each layer's weights,\n"
            "relative to their size.  About 1e-3 is healthy (CS231n's rule of thumb); far above: the\n"
            "learning rate is too large; far below: the layer barely learns.  Log axis.")
        self.plots["saturated"].setToolTip(
            "Saturated fraction: share of the (unit, sample) values of each layer's output H⁽ˡ⁾\n"
            "in the flat part of its activation, where g'(a) is small and little gradient passes.\n" + rules)
        self.plots["dead"].setToolTip(
            "Dead fraction: share of each layer's units that are dead on the whole evaluation batch.\n" + rules)
        self.hist_view.setToolTip(
            "Current histograms per layer: weights W⁽ˡ⁾ (top) and outputs H⁽ˡ⁾ on the evaluation batch\n(bottom; "
            "the output layer: its logits A⁽ᴸ⁾).  32 bins; values outside the range are counted in the corner.")

    # ------------------------------------------------------------------ style
    def apply_style(self, style: st.Style) -> None:
        self._style = style
        colors = style.colors
        if self.history.names and self.hist_capacity() != self._hist_cap:
            self._rebuild_hists()
        titles = {
            "grad_norm": "‖∂J/∂W⁽ˡ⁾‖ gradient norm",
            "update_ratio": "update / weight ratio",
            "saturated": "saturated fraction",
            "dead": "dead fraction",
        }
        w = style.px(style.pen_width * 0.8)
        for name in SERIES:
            pw = self.plots[name]
            pw.setBackground(colors.background)
            style_plot(pw.getPlotItem(), style, self._base_font, left=titles[name],
                       bottom="epoch" if name == "dead" else None, factor=0.9)
            pw.getPlotItem().showGrid(x=True, y=True, alpha=colors.grid_alpha)
            for i, item in enumerate(self._curves[name]):
                c = layer_color(i, style)
                item.setPen(pg.mkPen(c, width=w))
                item.setSymbolPen(pg.mkPen(c))
                item.setSymbolBrush(pg.mkBrush(c))
                item.setSymbolSize(max(3.0, style.marker_size * 0.5))
            note = self._notes[name]
            note.setColor(QtGui.QColor(colors.text))
            note.setFont(st.scaled_font(self._base_font, style, 0.8))
        guide_color = QtGui.QColor(colors.foreground)
        self.guide.setPen(pg.mkPen(guide_color, width=style.px(1.2), style=QtCore.Qt.PenStyle.DashLine))
        self.guide.label.setColor(QtGui.QColor(colors.text))
        self.guide.label.fill = pg.mkBrush(st.with_alpha(colors.background, 200))
        self.guide.label.setFont(st.scaled_font(self._base_font, style, 0.8))
        self.hist_view.setBackground(colors.background)
        for col, k in enumerate(self._hist_shown):
            c = layer_color(self._shown.index(k) if k in self._shown else col, style)
            for item in self._hist_items[col]:
                item.setPen(pg.mkPen(c, width=style.px(1.0)))
                item.setBrush(pg.mkBrush(st.blend(c.name(), colors.background, 0.45)))  # (opaque: faster)
            for plot in self._hist_plots[col]:
                style_plot(plot, style, self._base_font, factor=0.8)
            for note in self._hist_notes[col]:
                note.setColor(QtGui.QColor(colors.text))
                note.setFont(st.scaled_font(self._base_font, style, 0.75))
        size = f"{st.point_size(self._base_font) * style.font_scale * 0.8:.1f}pt"
        for label, text in zip(self._row_labels, ("weights W⁽ˡ⁾", "outputs H⁽ˡ⁾")):
            label.setText(text, color=colors.text, size=size)
        self.caption.setFont(st.scaled_font(self._base_font, style, 0.95))
        pal = self.caption.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor(colors.background))
        pal.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor(colors.text))
        self.caption.setPalette(pal)
        self.caption.setAutoFillBackground(True)
        self._update_hists()
        self._update_caption()


def _tick(v: float) -> str:
    return f"{v:.3g}".replace("-", "−")
