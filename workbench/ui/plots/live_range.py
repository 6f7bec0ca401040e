"""The curves' axis ranges: cheap to keep while a run is live, exact when it is over.

While a run is live the epoch axis grows in 1-2-5 steps (up to the planned epochs; a
run of at most :data:`SHORT_RUN_EPOCHS` spans them all from its start) instead of
following every new point, and each y range has hysteresis: it grows (with
headroom on the side the data crossed) when the data leave it and is refitted when the
data use less than half of it; otherwise it stays, and so do the cached axis and grid
pictures — they are redrawn a handful of times per run rather than on every frame.
When no run is live the ranges fit the data (pyqtgraph's auto-range).  Either way a y range never spans less than
:data:`~workbench.ui.plots.series.MIN_RELATIVE_SPAN` of the values (a flat loss is a flat
line, not float noise blown up), and an axis the user zoomed or panned is left alone
until the next reset.
"""

from __future__ import annotations

from typing import Optional

from .series import step_ceiling, value_range

#: A live run of at most this many epochs shows all of them from its start: its 1-2-5
#: steps would move the epoch axis (and redraw every axis and curve) a few times in
#: seconds, and a few epochs read well on a full-width axis.
SHORT_RUN_EPOCHS = 10


class Ranges:
    """The ranges of one :class:`~workbench.ui.plots.curves.CurvesPanel`."""

    def __init__(self, panel):
        self.panel = panel
        self.live = False
        self.total: Optional[int] = None
        self.reset()

    def reset(self) -> None:
        self.follow_x = True
        self.x_target: Optional[float] = None
        self.follow_y = [True, True, True]  # per plot (loss, metric, lr)
        for p in self.panel.plots:
            p.enableAutoRange(x=not self.live, y=False)
        if self.live:
            self.grow_x(0.0)

    def set_live(self, live: bool, total_epochs: Optional[int] = None) -> None:
        self.live = bool(live)
        self.total = int(total_epochs) if total_epochs else None
        self.x_target = None
        for p in self.panel.plots:
            p.enableAutoRange(x=(not self.live) if self.follow_x else None, y=False)
        if self.live:
            self.grow_x(self.panel._max_x())
        self.fit_y(force=True)

    def on_manual_range(self, i: int, mask) -> None:
        """The user zoomed or panned plot ``i``: leave that axis alone until the next reset."""
        if mask is None or mask[0]:
            self.follow_x = False
        if mask is None or mask[1]:
            self.follow_y[i] = False

    def grow_x(self, x: float) -> None:
        """Live x range: [0, the next 1-2-5 step above x], at most the planned epochs."""
        if not (self.live and self.follow_x):
            return
        hi = step_ceiling(max(x, 1.0) * 1.02)
        if self.total:
            hi = float(self.total) if self.total <= SHORT_RUN_EPOCHS else min(hi, float(self.total))
        hi = max(hi, x, 1.0)
        if self.x_target != hi:
            self.x_target = hi
            self.panel.loss_plot.setXRange(0.0, hi, padding=0.02)

    def fit_y(self, force: bool = False) -> None:
        """Fit the y ranges (live: with hysteresis, see the module docstring)."""
        panel = self.panel
        for i, p in enumerate(panel.plots):
            if not self.follow_y[i]:
                continue
            columns = panel._y_data(i)
            found = value_range(columns, log=panel._is_log(i))
            if found is None:
                continue
            lo, hi = found
            if not self.live and value_range(columns, log=panel._is_log(i), least=0.0) != found:
                p.enableAutoRange(y=False)  # a flat curve: the least span, not float noise
            elif not self.live:
                p.enableAutoRange(y=True)  # pyqtgraph fits the data (and keeps fitting it)
                continue
            span = hi - lo
            pad = 0.04 * span
            if self.live and not force:
                a, b = p.vb.viewRange()[1]
                inside = a <= lo - 0.5 * pad and hi + 0.5 * pad <= b
                if inside and span >= 0.5 * (b - a):
                    continue
                head = 0.25 * span
                new_lo = lo - pad - (head if lo < a and not inside else 0.0)
                new_hi = hi + pad + (head if hi > b and not inside else 0.0)
            else:
                new_lo, new_hi = lo - pad, hi + pad
            if i == 1 and panel.metric_kind() == "accuracy":  # accuracy lives in [0, 1]
                new_lo, new_hi = max(new_lo, min(lo, 0.0) - pad), min(new_hi, max(hi, 1.0) + pad)
            if lo >= 0.0 and not panel._is_log(i):  # losses and rates are >= 0
                new_lo = max(new_lo, -pad)
            p.setYRange(new_lo, new_hi, padding=0.0)
