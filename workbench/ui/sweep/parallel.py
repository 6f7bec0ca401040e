"""Parallel coordinates of a sweep: one vertical axis per swept setting and one for the
metric, one polyline per trial, coloured by its metric.

Each axis maps its values to [0, 1] bottom to top: a log-sampled range (or a list of
log-scaled values) logarithmically, another range linearly, a choice or on/off setting by
its position in the list (evenly spaced).  The metric axis spans the trials' values.  A
trial's line joins its positions; its colour is the metric on the *cividis* map (designed
to read the same for colour-blind viewers, dark blue = lowest to yellow = highest; on the
dark theme from :data:`DARK_START` on, so the lowest stay visible), with a colour bar
beside the plot.  Trials without a metric yet (queued, running, failed) are
grey and dashed, under the others.

Bounded drawing: the lines are grouped into :data:`N_BINS` colour bins, each one
``PlotCurveItem`` whose polylines are separated by NaN (``connect="finite"``), plus one for
the grey lines and one for the highlighted trial -- about 20 items however many trials
(a sweep has at most ``MAX_SWEEP_RUNS``).  :attr:`ParallelCoordinates.lines` keeps what was
drawn (positions, metric, colour) for the tests and the hover text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui
from PySide6.QtCore import Qt

from workbench.sweep.fields import FieldInfo, format_value
from workbench.sweep.spec import SweepSpec

from .. import style as st

#: Colour bins of the lines (the colour of a bin: its centre's on the map).
N_BINS = 16
#: The colour map (colour-blind safe, perceptually uniform).
COLORMAP = "cividis"
#: On the dark theme the map starts this far in: cividis' darkest blue vanishes on dark grey.
DARK_START = 0.22
#: Where the axes' names stand (the axes run from 0 to 1).
TITLE_Y = 1.07


@dataclass(frozen=True)
class PCAxis:
    """One vertical axis: ``key`` (a field path, or ``metric``), ``label``, ``scale``
    (``log``, ``linear`` or ``category``), the data range ``low``..``high`` and, for a
    category axis, its ``categories`` in order."""

    key: str
    label: str
    scale: str
    low: float = 0.0
    high: float = 1.0
    categories: tuple = ()

    def position(self, value) -> float:
        """``value`` on this axis, 0 (bottom) to 1 (top); NaN for a missing value."""
        if value is None:
            return math.nan
        if self.scale == "category":
            if value not in self.categories:
                return math.nan
            k = len(self.categories)
            return 0.5 if k == 1 else self.categories.index(value) / (k - 1)
        x = float(value)
        if not math.isfinite(x):
            return math.nan
        lo, hi = self.low, self.high
        if self.scale == "log":
            if x <= 0:
                return math.nan
            x, lo, hi = math.log10(x), math.log10(lo), math.log10(hi)
        if hi <= lo:
            return 0.5
        return min(1.0, max(0.0, (x - lo) / (hi - lo)))

    def ticks(self) -> list[tuple[float, str]]:
        """(position, text) of the labels along the axis."""
        if self.scale == "category":
            return [(self.position(c), format_value(c)) for c in self.categories]
        if self.high <= self.low:
            return [(0.5, format_value(self.low))]
        return [(0.0, format_value(self.low)), (1.0, format_value(self.high))]


def field_axes(sweep: SweepSpec, infos: dict[str, FieldInfo], points: Sequence[dict]) -> list[PCAxis]:
    """The axes of the swept fields: each range's bounds (or the listed values' span),
    log for ``log_uniform`` ranges and lists of a log-scaled field's positive values."""
    out = []
    for axis in sweep.axes:
        info = infos[axis.field]
        if not info.numeric:
            listed = tuple(axis.values)
            out.append(PCAxis(axis.field, info.label, "category", categories=listed))
            continue
        if axis.kind == "values":
            values = [float(v) for v in axis.values]
            low, high = min(values), max(values)
            log = info.scale == "log" and low > 0
        else:
            low, high = float(axis.low), float(axis.high)
            log = axis.kind == "log_uniform"
        seen = [float(p[axis.field]) for p in points if axis.field in p]
        if seen:  # rounding can put a drawn value a hair outside the range
            low, high = min(low, min(seen)), max(high, max(seen))
        out.append(PCAxis(axis.field, info.label, "log" if log else "linear", low, high))
    return out


class ParallelCoordinates(pg.GraphicsLayoutWidget):
    """See the module docstring.  :meth:`set_data` draws; :meth:`highlight` thickens one
    trial's line; :meth:`apply_style` follows the theme and presentation mode."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sweepParallel")
        self.style_ = st.Style.normal()
        self.cmap = pg.colormap.get(COLORMAP)
        self.shown_map = self.cmap
        self.plot = self.addPlot(row=0, col=0)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self.cmap, interactive=False, width=14,
                                        colorMapMenu=False)
        self.addItem(self.colorbar, row=0, col=1)
        self.axis_item = pg.PlotCurveItem(connect="pairs")
        self.plot.addItem(self.axis_item)
        self.pending_item = pg.PlotCurveItem(connect="finite")
        self.plot.addItem(self.pending_item)
        self.bin_items = []
        for k in range(N_BINS):
            item = pg.PlotCurveItem(connect="finite")
            item.setZValue(1 + k)
            self.plot.addItem(item)
            self.bin_items.append(item)
        self.highlight_item = pg.PlotCurveItem()
        self.highlight_item.setZValue(100)
        self.plot.addItem(self.highlight_item)
        self.text_items: list[pg.TextItem] = []
        self.axes: list[PCAxis] = []
        self.metric_label = "metric"
        #: trial -> (positions, metric or None, bin or None): what was drawn
        self.lines: dict[int, tuple[np.ndarray, Optional[float], Optional[int]]] = {}
        self.levels = (0.0, 1.0)
        self.highlighted: Optional[int] = None
        self.apply_style(self.style_)

    # -- data ---------------------------------------------------------------------------------
    def bin_of(self, metric: float) -> int:
        lo, hi = self.levels
        t = 0.5 if hi <= lo else (metric - lo) / (hi - lo)
        return int(min(N_BINS - 1, max(0, math.floor(t * N_BINS))))

    def bin_color(self, k: int) -> QtGui.QColor:
        """The colour of bin ``k`` (its centre on the map)."""
        return self.shown_map.map((k + 0.5) / N_BINS, mode="qcolor")

    def set_data(self, axes: Sequence[PCAxis], trials: Sequence[tuple[int, dict, Optional[float]]],
                 metric_label: str = "val. metric") -> None:
        """Draw ``trials`` = ``[(index, point, metric or None), ...]`` on ``axes`` (the
        swept fields; the metric axis is added last)."""
        metrics = [m for _, _, m in trials if m is not None and math.isfinite(m)]
        lo, hi = (min(metrics), max(metrics)) if metrics else (0.0, 1.0)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        self.levels = (lo, hi)
        self.metric_label = metric_label
        self.axes = list(axes) + [PCAxis("metric", metric_label.split(" (")[0], "linear", lo, hi)]
        self.lines = {}
        for index, point, metric in trials:
            ok = metric is not None and math.isfinite(metric)
            ys = np.array([a.position(point.get(a.key)) for a in self.axes[:-1]]
                          + [self.axes[-1].position(metric if ok else None)])
            self.lines[index] = (ys, metric if ok else None, self.bin_of(metric) if ok else None)
        self._draw()

    def _draw(self) -> None:
        n = len(self.axes)
        xs = np.arange(n, dtype=float)
        groups: dict[Optional[int], list[int]] = {}
        for index, (_, _, k) in self.lines.items():
            groups.setdefault(k, []).append(index)
        for k, item in [(None, self.pending_item)] + list(enumerate(self.bin_items)):
            members = groups.get(k, [])
            if not members:
                item.setData([], [])
                continue
            x = np.concatenate([np.append(xs, np.nan) for _ in members])
            y = np.concatenate([np.append(self.lines[i][0], np.nan) for i in members])
            item.setData(x, y)
        self.axis_item.setData(np.repeat(xs, 2), np.tile([0.0, 1.0], n))
        self.colorbar.setLevels(self.levels)
        self._label_bar()
        self._labels()
        self.plot.setXRange(-0.25, n - 1 + 0.6, padding=0)
        self.plot.setYRange(-0.08, TITLE_Y + 0.18, padding=0)
        self.highlight(self.highlighted)

    def _labels(self) -> None:
        for item in self.text_items:
            self.plot.removeItem(item)
        self.text_items = []
        color = self.style_.colors.text
        font = st.scaled_font(st.base_font(), self.style_, 0.9)
        bold = QtGui.QFont(font)
        bold.setBold(True)
        # names wider than the space between two axes alternate between two heights
        fm = QtGui.QFontMetricsF(bold)
        spacing = self.plot.vb.width() / max(1.0, len(self.axes) - 1 + 0.85)
        stagger = any(fm.horizontalAdvance(a.label) > 0.95 * spacing for a in self.axes)
        for x, axis in enumerate(self.axes):
            title = pg.TextItem(axis.label, color=color, anchor=(0.5, 1.0))
            title.setFont(bold)
            lift = 0.06 * (1 + self.style_.font_scale) / 2 if stagger and x % 2 else 0.0
            title.setPos(x, TITLE_Y + lift)
            self.text_items.append(title)
            ticks = axis.ticks() if axis.key != "metric" else [(0.0, f"{self.levels[0]:.4g}"),
                                                                 (1.0, f"{self.levels[1]:.4g}")]
            for y, text in ticks:
                label = pg.TextItem(text, color=color, anchor=(-0.08, 0.5))
                label.setFont(font)
                label.setPos(x, y)
                self.text_items.append(label)
        for item in self.text_items:
            item.setZValue(200)
            self.plot.addItem(item)

    def _label_bar(self) -> None:
        size = st.point_size(st.base_font()) * self.style_.font_scale * 0.9
        self.colorbar.getAxis("left").setLabel(self.metric_label, **{"color": self.style_.colors.text,
                                                                     "font-size": f"{size:.1f}pt"})

    def highlight(self, index: Optional[int]) -> None:
        """Draw trial ``index``'s line thick on top (None: no highlight)."""
        self.highlighted = index
        if index is None or index not in self.lines:
            self.highlight_item.setData([], [])
            return
        ys, _, _ = self.lines[index]
        self.highlight_item.setData(np.arange(len(ys), dtype=float), ys)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if getattr(self, "axes", None):  # (Qt resizes the view while it is being built)
            self._labels()  # the names' spacing depends on the width

    # -- style --------------------------------------------------------------------------------
    def apply_style(self, style: st.Style) -> None:
        self.style_ = style
        colors = style.colors
        self.setBackground(colors.background)
        start = DARK_START if style.dark else 0.0
        steps = np.linspace(start, 1.0, 64)
        self.shown_map = pg.ColorMap(np.linspace(0.0, 1.0, 64), self.cmap.map(steps, mode="byte"))
        self.colorbar.setColorMap(self.shown_map)
        width = style.px(max(1.0, style.pen_width * 0.6))
        for k, item in enumerate(self.bin_items):
            item.setPen(pg.mkPen(self.bin_color(k), width=width))
        grey = st.with_alpha(colors.foreground, 110)
        self.pending_item.setPen(pg.mkPen(grey, width=style.px(1.0), style=Qt.PenStyle.DashLine))
        self.axis_item.setPen(pg.mkPen(colors.foreground, width=style.px(1.2)))
        accent = QtGui.QColor(st.VERMILLION) if not style.dark else st.legible_on(st.VERMILLION, colors.background, 4.5)
        self.highlight_item.setPen(pg.mkPen(accent, width=style.px(style.pen_width * 1.6)))
        for side in ("left", "right", "top", "bottom"):
            axis = self.colorbar.getAxis(side)
            axis.setPen(pg.mkPen(colors.foreground))
            axis.setTextPen(pg.mkPen(colors.text))
        self.colorbar.axis.setStyle(tickFont=st.scaled_font(st.base_font(), style, 0.85))
        self._label_bar()
        if self.axes:
            self._labels()
