"""Small multiples: the trials' loss curves side by side, growing live.

A grid of at most :data:`MAX_SHOWN` small plots (created once, reused), one trial each:
its training loss (blue, thin) and validation loss (orange) per epoch, from the streamed
epochs while it trains and from its result when it ends; the loss axis is shared so the
panels compare at a glance, the epoch axis is each trial's own (trials differ in length).  Which trials: those with the best validation metric
so far (a finished trial's at its best epoch, a running one's last streamed value), best
first, row by row -- so the plots show the leaders of the sweep as it goes.  The caption
of each names the trial and its metric; a trial cut short, diverged or failed says so.

Cheap updates: :meth:`SmallMultiples.set_curves` re-assigns panels only when the ranking
changes and calls ``setData`` on the existing curves (no items are created after the
first call).  :meth:`shown` and :meth:`curve` read back what is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pyqtgraph as pg

from .. import style as st

#: Panels at most (4 x 4).
MAX_SHOWN = 16
COLUMNS = 4


@dataclass
class TrialCurve:
    """What a panel shows of a trial: its epochs, training and validation loss, the
    metric that ranks it (None: not known yet), its status and a caption."""

    index: int
    epoch: Sequence[float]
    train_loss: Sequence[Optional[float]]
    val_loss: Sequence[Optional[float]]
    metric: Optional[float]
    status: str
    caption: str


def _array(values) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


def ranked(curves: Sequence[TrialCurve], limit: int = MAX_SHOWN) -> list[TrialCurve]:
    """The ``limit`` best: highest metric first; without a metric (just started) after
    them, by trial index; ties by trial index."""
    known = sorted((c for c in curves if c.metric is not None and math.isfinite(c.metric)),
                   key=lambda c: (-c.metric, c.index))
    unknown = sorted((c for c in curves if c.metric is None or not math.isfinite(c.metric)), key=lambda c: c.index)
    return (known + unknown)[:limit]


class SmallMultiples(pg.GraphicsLayoutWidget):
    """See the module docstring."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sweepMultiples")
        self.style_ = st.Style.normal()
        self.plots: list[pg.PlotItem] = []
        self.train_items: list[pg.PlotDataItem] = []
        self.val_items: list[pg.PlotDataItem] = []
        self.assigned: list[Optional[int]] = []
        self.captions: list[pg.TextItem] = []
        self._data: dict[int, TrialCurve] = {}
        self._rows = MAX_SHOWN // COLUMNS
        for k in range(MAX_SHOWN):
            plot = self.addPlot(row=k // COLUMNS, col=k % COLUMNS)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            for side in ("left", "bottom"):
                plot.getAxis(side).setStyle(tickLength=-3, showValues=False)
            train = plot.plot(connect="finite")
            val = plot.plot(connect="finite")
            # the caption sits inside the plot (a title would widen every panel to its text)
            caption = pg.TextItem("", anchor=(0, 0))
            caption.setParentItem(plot.vb)
            caption.setPos(2, 0)
            caption.setZValue(10)
            self.captions.append(caption)
            if self.plots:  # one loss scale; each panel's own epochs (trials differ in length)
                plot.setYLink(self.plots[0])
            self.plots.append(plot)
            self.train_items.append(train)
            self.val_items.append(val)
            self.assigned.append(None)
        self.apply_style(self.style_)
        self._refresh_visibility()

    def shown(self) -> list[int]:
        """The trials in the panels, in panel order."""
        return [i for i in self.assigned if i is not None]

    def curve(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the panel of trial ``index`` draws: (epochs, train loss, val loss)."""
        k = self.assigned.index(index)
        x, train = self.train_items[k].getData()
        _, val = self.val_items[k].getData()
        return (np.asarray(x if x is not None else []), np.asarray(train if train is not None else []),
                np.asarray(val if val is not None else []))

    def caption(self, index: int) -> str:
        return self.captions[self.assigned.index(index)].toPlainText()

    def set_curves(self, curves: Sequence[TrialCurve], changed: Optional[set] = None) -> None:
        """Show the best of ``curves`` (see :func:`ranked`); ``changed``: the trials whose
        data changed (None: all), the others keep their curves as drawn."""
        for c in curves:
            self._data[c.index] = c
        best = ranked(list(self._data.values()))
        order = [c.index for c in best] + [None] * (MAX_SHOWN - len(best))
        for k, index in enumerate(order):
            moved = self.assigned[k] != index
            self.assigned[k] = index
            if index is None:
                if moved:
                    self.train_items[k].setData([], [])
                    self.val_items[k].setData([], [])
                    self.captions[k].setText("")
                continue
            if moved or changed is None or index in changed:
                c = self._data[index]
                x = _array(c.epoch)
                self.train_items[k].setData(x, _array(c.train_loss))
                self.val_items[k].setData(x, _array(c.val_loss))
                self._title(k, c)
        self._refresh_visibility()
        self._fit()

    def reset(self) -> None:
        """Forget every trial (a new sweep).  (Not ``clear``: GraphicsLayoutWidget forwards
        that name to its layout, which would take the panels out.)"""
        self._data = {}
        self.set_curves([])

    def _title(self, k: int, c: TrialCurve) -> None:
        self.captions[k].setText(c.caption, color=self.style_.colors.text)

    def _refresh_visibility(self) -> None:
        """Lay out as many rows of panels as the trials shown need (at least one); the
        others leave the grid (Qt's grid does not share the height again when a hidden
        item comes back, so the panels are taken out of it and put back)."""
        rows = max(1, math.ceil(len(self.shown()) / COLUMNS))
        if rows == self._rows:
            return
        grid = self.ci.layout
        for i in reversed(range(grid.count())):
            grid.removeAt(i)
        for k, plot in enumerate(self.plots):
            if k < rows * COLUMNS:
                grid.addItem(plot, k // COLUMNS, k % COLUMNS)
            plot.setVisible(k < rows * COLUMNS)
        self._rows = rows

    def _fit(self) -> None:
        ys = []
        for k, index in enumerate(self.assigned):
            if index is None:
                continue
            c = self._data[index]
            last = float(c.epoch[-1]) if len(c.epoch) else 1.0
            self.plots[k].setXRange(1, max(2.0, last), padding=0.02)
            values = _array(list(c.train_loss) + list(c.val_loss))
            values = values[np.isfinite(values)]
            if values.size:
                ys.append((float(values.min()), float(np.percentile(values, 98))))
        if ys:
            lo, hi = min(y[0] for y in ys), max(y[1] for y in ys)
            self.plots[0].setYRange(lo, hi if hi > lo else lo + 1, padding=0.05)

    def apply_style(self, style: st.Style) -> None:
        self.style_ = style
        colors = style.colors
        self.setBackground(colors.background)
        train = st.with_alpha(style.line_color("train").getRgb(), 170)
        font = st.scaled_font(st.base_font(), style, 0.85)
        for k, plot in enumerate(self.plots):
            self.captions[k].setFont(font)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(colors.foreground, width=style.px(1)))
            self.train_items[k].setPen(pg.mkPen(train, width=style.px(max(1.0, style.pen_width * 0.5))))
            self.val_items[k].setPen(pg.mkPen(style.line_color("val"), width=style.px(style.pen_width * 0.75)))
            index = self.assigned[k]
            if index is not None:
                self._title(k, self._data[index])
