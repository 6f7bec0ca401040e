"""Other runs on the curves, each in its own colour: what the Runs dock shows.

Every overlaid run draws, in its colour (:func:`workbench.ui.style.run_color`): the
validation loss (solid) and the training loss (dashed) on the loss plot, the validation
and training metric on the metric plot, η on the learning-rate plot, and a star at its
early-stopping best epoch.  A group of seeds draws the mean of its members with a band of
± one sample standard deviation around the validation curves (and, on demand, every seed
as a thin line); a member that stopped early simply leaves the band.  The numbers live in
a :class:`~.stack_series.StackSeries` per overlay, so a live group costs per frame only
what its new epochs cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Optional, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.engine.events import EpochEnd
from workbench.ui import style as st

from .series import epoch_rows, history_columns
from .stack_series import StackSeries, stride_for

_COLUMNS = ("train_loss", "val_loss", "lr", "train_accuracy", "val_accuracy", "train_r2", "val_r2")
_ROW_INDEX = {name: i for i, name in enumerate(("epoch", "train_loss", "val_loss", "penalty", "lr", "train_accuracy",
                                                 "val_accuracy", "train_rmse", "val_rmse", "train_r2", "val_r2"))}
#: Overlays of runs longer than this many epochs draw only what is in view, thinned to the
#: plot's pixels (pyqtgraph's clip-to-view and peak downsampling); shorter ones draw every
#: point.  Clipping and thinning are redone for every item on every change of the view,
#: which is most of a run's start with many runs overlaid (40 short runs: ~50 ms).
THIN_FROM = 1000
_BAND_ALPHA = 50
_MEMBER_ALPHA = 110


@dataclass
class OverlayRun:
    """One overlay: a run (``members`` = 1) or a group of seeds.  ``histories[m]`` is
    member m's saved history (None while it trains: its epochs come live), ``best[m]``
    its early-stopping best epoch (None: none) of ``monitor``, ``epochs`` the planned length."""

    key: Hashable
    label: str
    color: int
    histories: Sequence[Optional[dict]]
    best: Sequence[Optional[int]] = ()
    epochs: int = 0
    monitor: str = "val_loss"
    members: int = field(init=False)

    def __post_init__(self):
        self.members = len(self.histories)


class Band(QtWidgets.QGraphicsPathItem):
    """The region between two curves as one filled polygon (pyqtgraph's FillBetweenItem
    rebuilds its path from both curves on every change of either: ~8 ms for 1000
    points, twice a frame).  Epochs where a bound is not finite are left out."""

    def set(self, x: np.ndarray, low: np.ndarray, high: np.ndarray, log: bool = False) -> None:
        if log:
            with np.errstate(divide="ignore", invalid="ignore"):
                low, high = np.log10(np.where(low > 0, low, np.nan)), np.log10(np.where(high > 0, high, np.nan))
        ok = np.isfinite(low) & np.isfinite(high)
        if ok.sum() < 2:
            self.setPath(QtGui.QPainterPath())
            return
        x, low, high = x[ok], low[ok], high[ok]
        self.setPath(pg.arrayToQPath(np.concatenate([x, x[::-1]]), np.concatenate([low, high[::-1]])))

    def dataBounds(self, *_args, **_kwargs):  # noqa: N802 - pyqtgraph's auto-range asks items
        return None


class _Overlay:
    """The items of one overlay on the three plots."""

    def __init__(self, source: OverlayRun, plots, metric_kind: str):
        self.source = source
        longest = max([source.epochs] + [len(h.get("epoch", ())) for h in source.histories if h])
        self.series = StackSeries(source.members, _COLUMNS, stride=stride_for(longest))
        self.best = list(source.best) + [None] * (source.members - len(source.best))
        self.metric_kind = metric_kind
        loss, metric, lr = plots
        mk = pg.PlotDataItem
        self.lines = {
            "val_loss": (loss, mk()), "train_loss": (loss, mk()),
            "val_metric": (metric, mk()), "train_metric": (metric, mk()), "lr": (lr, mk()),
        }
        self.bands = {}
        if source.members > 1:
            for name, plot in (("val_loss", loss), ("val_metric", metric)):
                self.bands[name] = (plot, Band())
        self.member_lines = [(loss, mk()) for _ in range(source.members)] if source.members > 1 else []
        self.stars = pg.ScatterPlotItem(symbol="star")
        # the star sits on the plot of the monitored quantity, as the shown run's does
        # (EarlyStopOverlay.place_symbol): no star for an RMSE or a metric not plotted
        monitor = source.monitor
        self.star_column = monitor if monitor in _COLUMNS else None
        if monitor.endswith(("accuracy", "r2")) and not monitor.endswith(metric_kind):
            self.star_column = None
        self.stars_plot = loss if monitor.endswith("loss") else metric
        thin = longest > THIN_FROM
        for plot, item in self._items():
            plot.addItem(item)
            if thin and isinstance(item, pg.PlotDataItem):
                item.setClipToView(True)
                item.setDownsampling(auto=True, method="peak")
        for m, hist in enumerate(source.histories):
            if hist:
                cols = history_columns(hist)
                if "epoch" in cols:
                    self.series.add(m, cols["epoch"], {k: v for k, v in cols.items() if k in _COLUMNS})

    def _items(self):
        yield from self.lines.values()
        yield from self.bands.values()
        yield from self.member_lines
        yield self.stars_plot, self.stars

    def remove(self) -> None:
        for plot, item in self._items():
            plot.removeItem(item)

    def add_epochs(self, member: int, rows: np.ndarray) -> None:
        """Live epochs of ``member`` (rows as :func:`~.series.epoch_rows` makes them)."""
        self.series.add(member, rows[:, 0], {name: rows[:, _ROW_INDEX[name]] for name in _COLUMNS})

    def metric_column(self, role: str) -> str:
        return f"{role}_{self.metric_kind}"

    def refresh(self, show_members: bool, log_loss: bool = False) -> None:
        s = self.series
        x = s.epochs()
        for name, (_plot, item) in self.lines.items():
            column = self.metric_column(name.split("_")[0]) if name.endswith("_metric") else name
            item.setData(x, s.stats(column)[0], connect="finite")
        for name, (_plot, band) in self.bands.items():
            column = self.metric_column("val") if name == "val_metric" else name
            mean, std, _n = s.stats(column)
            band.set(x, mean - std, mean + std, log=log_loss and name == "val_loss")
        for m, (_plot, item) in enumerate(self.member_lines):
            item.setVisible(show_members)
            if show_members:
                item.setData(x, s.member("val_loss", m), connect="finite")
        self._refresh_stars()

    def _refresh_stars(self) -> None:
        xs, ys = [], []
        s = self.series
        column = self.star_column
        for m, best in enumerate(self.best):
            if not best or column is None:
                continue
            i = (best - 1) // s.stride
            if i < s.n:
                y = s.member(column, m)[i]
                if np.isfinite(y):
                    xs.append(1.0 + i * s.stride)
                    ys.append(y)
        self.stars.setData(xs, ys)

    def restyle(self, style: st.Style) -> None:
        color = st.run_color(self.source.color, style.dark)
        w = style.px(style.pen_width * 0.85)
        dash = QtCore.Qt.PenStyle.DashLine
        for name, (_plot, item) in self.lines.items():
            solid = not name.startswith("train")
            item.setPen(pg.mkPen(color, width=w if solid else w * 0.7, style=QtCore.Qt.PenStyle.SolidLine if solid
                                 else dash))
            item.setZValue(1)
        band = st.with_alpha(color.getRgb(), _BAND_ALPHA)
        for _plot, item in self.bands.values():
            item.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
            item.setBrush(pg.mkBrush(band))
            item.setZValue(-3)
        for _plot, item in self.member_lines:
            item.setPen(pg.mkPen(st.with_alpha(color.getRgb(), _MEMBER_ALPHA), width=style.px(1)))
            item.setZValue(0)
        self.stars.setBrush(pg.mkBrush(color))
        self.stars.setPen(pg.mkPen(style.colors.background, width=style.px(1)))
        self.stars.setSize(style.marker_size * 2.0)
        self.stars.setZValue(20)


class RunOverlays:
    """The overlays of a :class:`~.curves.CurvesPanel` (see the module docstring)."""

    def __init__(self, curves):
        self.curves = curves
        self._overlays: dict[Hashable, _Overlay] = {}
        self._show_members = False
        self._dirty: set = set()
        self._sources: list[OverlayRun] = []

    def __len__(self) -> int:
        return len(self._overlays)

    def keys(self) -> list:
        return list(self._overlays)

    def set_runs(self, sources: Sequence[OverlayRun]) -> None:
        """Overlay exactly ``sources`` (in order); an overlay whose source is unchanged
        (same key, label, colour and histories) keeps its items and live epochs.  (The
        legend is the caller's: ``CurvesPanel.set_comparison``.)"""
        self._sources = list(sources)
        wanted = {s.key: s for s in sources}
        for key in list(self._overlays):
            old = self._overlays[key].source
            new = wanted.get(key)
            if new is None or not _same(old, new):
                self._overlays.pop(key).remove()
        kind = self.curves.metric_kind()
        style = self.curves.current_style()
        for source in sources:
            if source.key not in self._overlays:
                overlay = _Overlay(source, self.curves.plots, kind)
                overlay.restyle(style)
                overlay.refresh(self._show_members, self.curves.log_scale())
                self._overlays[source.key] = overlay
        self.curves.fit_overlays(self.y_columns)

    def add_events(self, key: Hashable, member: int, events: Sequence) -> None:
        """Live events of ``member`` of the overlay ``key`` (its EpochEnd of the training phase)."""
        overlay = self._overlays.get(key)
        if overlay is None:
            return
        epochs = [e for e in events if type(e) is EpochEnd and e.phase == "train"]
        if epochs:
            overlay.add_epochs(member, epoch_rows(epochs))
            self._dirty.add(key)

    def set_best(self, key: Hashable, member: int, epoch: int) -> None:
        overlay = self._overlays.get(key)
        if overlay is not None and 0 <= member < len(overlay.best):
            overlay.best[member] = int(epoch)
            self._dirty.add(key)

    def refresh(self) -> None:
        """Redraw the overlays that received live epochs since the last refresh."""
        for key in self._dirty:
            overlay = self._overlays.get(key)
            if overlay is not None:
                overlay.refresh(self._show_members, self.curves.log_scale())
        if self._dirty:
            self.curves.fit_overlays(self.y_columns)
        self._dirty.clear()

    def set_show_members(self, on: bool) -> None:
        """Draw every seed of a group as a thin line."""
        self._show_members = bool(on)
        self.redraw()

    def redraw(self) -> None:
        """Redraw every overlay (a log axis switched, seeds shown or hidden)."""
        for overlay in self._overlays.values():
            overlay.refresh(self._show_members, self.curves.log_scale())

    def show_members(self) -> bool:
        return self._show_members

    def set_metric_kind(self, kind: str) -> None:
        for overlay in self._overlays.values():
            overlay.metric_kind = kind
            overlay.refresh(self._show_members, self.curves.log_scale())

    def apply_style(self, style: st.Style) -> None:
        for overlay in self._overlays.values():
            overlay.restyle(style)

    def y_columns(self, plot: int) -> list[np.ndarray]:
        """The values the overlays draw on plot ``plot`` (0 loss, 1 metric, 2 lr), bands
        included: the axes' ranges cover them."""
        out = []
        for overlay in self._overlays.values():
            s = overlay.series
            if plot == 0:
                names = ("train_loss", "val_loss")
            elif plot == 1:
                names = (overlay.metric_column("train"), overlay.metric_column("val"))
            else:
                names = ("lr",)
            for name in names:
                mean, std, _n = s.stats(name)
                out.append(mean)
                if overlay.source.members > 1 and name.startswith("val"):
                    out += [mean - std, mean + std]
        return out

    def max_epoch(self) -> float:
        return max((float(o.series.epochs()[-1]) for o in self._overlays.values() if o.series.n), default=0.0)


def _same(a: OverlayRun, b: OverlayRun) -> bool:
    return (a.label, a.color, a.members) == (b.label, b.color, b.members) and all(
        x is y or x == y for x, y in zip(a.histories, b.histories))
