"""What the curves carry besides the curves: markers and the early-stopping overlay.

Markers are vertical dashed lines at the epoch a setting changed (η drops and warm
restarts of the schedule, the user's live edits, follow-up phases, divergence), with a
short label on the loss plot.  Labels never overprint: after every change of the data,
the view range or the size, labels closer than a label's height (in pixels) to a label
already placed are hidden (the user's own markers are placed first, then the schedule's,
left to right) — their lines stay, and hovering names them.  At most
:data:`MAX_LABELLED_MARKERS` markers of any kind are labelled lines; the user's own
changes, phases and divergence come first (in the order they arrive; one takes the slot
of a labelled automatic marker when the slots are full), then the automatic markers (η
drops, restarts), which also need 1/:data:`MARKER_LABEL_SPACING` of the run between
them.  All the others are ticks along the bottom of each plot, drawn by one item per plot,
so what is drawn stays bounded whatever a run or a file holds (a reduce-on-plateau run
can make thousands of markers, a file up to MAX_MARKERS of any kind).

Early stopping draws the best epoch (a star at its value on the plot of the monitored
quantity, and a line labelled with it), and, when it fired, the stop epoch and the
patience window between them; "weights restored from epoch k" when they were.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from workbench.spec import EarlyStopSummary
from workbench.ui import style as st

from .series import fmt

MAX_LABELLED_MARKERS = 20
MARKER_LABEL_SPACING = 40
AUTOMATIC_MARKERS = ("plateau", "restart")
MARKER_KINDS = ("plateau", "restart", "lr_change", "reg_change", "phase", "diverged")
DEFAULT_TEXT = {
    "plateau": "LR drop (plateau)",
    "restart": "warm restart",
    "lr_change": "lr changed",
    "reg_change": "regularization changed",
    "phase": "follow-up phase",
    "diverged": "diverged",
}
#: labels of markers closer than this many label heights (pixels) are hidden
LABEL_GAP = 1.3


class MarkerTicks(pg.GraphicsObject):
    """Short ticks along the bottom of a plot at many epochs, as one item: one paint call,
    at most one tick per pixel column.  Added with ``ignoreBounds``."""

    HEIGHT = 0.05  # of the plot's height

    def __init__(self):
        super().__init__()
        self._xs = np.empty(0)
        self._pen = pg.mkPen(None)

    def set_xs(self, xs) -> None:
        self.prepareGeometryChange()
        self._xs = np.asarray(xs, dtype=np.float64)
        self.update()

    def xs(self) -> np.ndarray:
        return self._xs

    def setPen(self, pen) -> None:  # noqa: N802 - the pyqtgraph name
        self._pen = pen
        self.update()

    def viewRangeChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        self.prepareGeometryChange()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt override
        view = self.viewRect()
        if view is None or not self._xs.size:
            return QtCore.QRectF()
        lo, hi = float(self._xs.min()), float(self._xs.max())
        return QtCore.QRectF(lo, view.top(), max(hi - lo, 1e-9), view.height())

    def paint(self, painter, *args) -> None:
        view = self.viewRect()
        if view is None or not self._xs.size:
            return
        xs = self._xs[(self._xs >= view.left()) & (self._xs <= view.right())]
        px = self.pixelWidth() or 1.0
        xs = np.unique(np.round(xs / px)) * px  # one line per pixel column is all one can see
        painter.setPen(self._pen)
        y0 = view.top()  # the bottom edge (the view's y axis points up)
        y1 = y0 + self.HEIGHT * view.height()
        painter.drawLines([QtCore.QLineF(x, y0, x, y1) for x in xs])


class Markers:
    """The markers of one panel's ``plots`` (labels on the first)."""

    def __init__(self, plots, style_of, font_of, span_of):
        self.plots = plots
        self._style_of = style_of  # -> the panel's Style
        self._font_of = font_of  # factor -> QFont
        self._span_of = span_of  # -> the run's length in epochs (for label spacing)
        self.records: list[dict] = []
        self._labelled: list[dict] = []  # the records drawn as labelled lines, in the order they came
        self._rugs: list[MarkerTicks] = []

    def add(self, kind: str, epoch: float, text: str = "", *, sync: bool = True) -> None:
        """A vertical dashed line at ``epoch`` on every plot, labelled on the first."""
        label = (text or DEFAULT_TEXT.get(kind, kind)).strip()
        if len(label) > 48:
            label = label[:47] + "…"
        color = st.ROLE_COLORS["diverged"] if kind == "diverged" else st.ROLE_COLORS["marker"]
        rec = {"kind": kind, "epoch": float(epoch), "text": label, "lines": [], "color": color}
        self.records.append(rec)
        if not self._make_room(kind, float(epoch)):
            if sync:
                self.sync_rugs()
            return
        for i, p in enumerate(self.plots):
            opts = None
            if i == 0:  # along the line, hanging down from near the top (losses fall)
                slot = len(self.records) % 3
                opts = {"position": 0.97 - 0.17 * slot, "rotateAxis": (1, 0), "anchors": [(1, 1), (1, 1)],
                        "color": color}
            line = pg.InfiniteLine(pos=float(epoch), angle=90, movable=False, label=label if i == 0 else None,
                                   labelOpts=opts)
            line.setZValue(5)
            p.addItem(line, ignoreBounds=True)
            rec["lines"].append(line)
        self._labelled.append(rec)
        self._style(rec)
        if sync:
            self.sync_rugs()
            self.place_labels()

    def _make_room(self, kind: str, epoch: float) -> bool:
        """Whether a new marker of ``kind`` at ``epoch`` is a labelled line (see the module
        docstring); for one of the user's, a labelled automatic marker becomes a tick when
        that makes room."""
        labelled = self._labelled
        if kind not in AUTOMATIC_MARKERS:
            if sum(r["kind"] not in AUTOMATIC_MARKERS for r in labelled) >= MAX_LABELLED_MARKERS:
                return False
            if len(labelled) >= MAX_LABELLED_MARKERS:
                self._unlabel(next(r for r in reversed(labelled) if r["kind"] in AUTOMATIC_MARKERS))
            return True
        if len(labelled) >= MAX_LABELLED_MARKERS:
            return False
        gap = float(self._span_of(epoch)) / MARKER_LABEL_SPACING
        return all(abs(epoch - r["epoch"]) >= gap for r in labelled if r["kind"] in AUTOMATIC_MARKERS)

    def _unlabel(self, rec: dict) -> None:
        """``rec`` becomes a tick (its lines go; the caller syncs the ticks)."""
        for p, line in zip(self.plots, rec["lines"]):
            p.removeItem(line)
        rec["lines"] = []
        self._labelled.remove(rec)

    def sync_rugs(self) -> None:
        """Give the unlabelled markers' epochs to the per-plot tick items."""
        xs = [rec["epoch"] for rec in self.records if not rec["lines"]]
        if not self._rugs and xs:
            for p in self.plots:
                rug = MarkerTicks()
                rug.setZValue(5)
                p.addItem(rug, ignoreBounds=True)
                self._rugs.append(rug)
            self.style_rugs()
        for rug in self._rugs:
            rug.set_xs(xs)

    def place_labels(self, avoid: tuple = ()) -> None:
        """Hide the labels that would overprint (see the module docstring); ``avoid``: other
        epochs whose lines carry labels (the early-stopping lines)."""
        labelled = [r for r in self._labelled if r["lines"][0].label is not None]
        if not labelled:
            return
        vb = self.plots[0].vb
        if vb.sceneBoundingRect().width() <= 1:
            return
        height = self._font_of(0.9).pointSizeF() * 1.4 * LABEL_GAP
        px = lambda x: vb.mapViewToScene(QtCore.QPointF(x, 0.0)).x()  # noqa: E731
        placed = [px(x) for x in avoid]
        order = sorted(labelled, key=lambda r: (r["kind"] in AUTOMATIC_MARKERS, r["epoch"]))
        for rec in order:
            x = px(rec["epoch"])
            show = all(abs(x - other) >= height for other in placed)
            rec["lines"][0].label.setVisible(show)
            if show:
                placed.append(x)

    def clear(self) -> None:
        for rec in self._labelled:
            for p, line in zip(self.plots, rec["lines"]):
                p.removeItem(line)
        self.records.clear()
        self._labelled.clear()
        self.sync_rugs()

    def restyle(self) -> None:
        for rec in self._labelled:
            self._style(rec)
        self.style_rugs()

    def _style(self, rec) -> None:
        style = self._style_of()
        pen = pg.mkPen(rec["color"], width=style.px(max(1.0, style.pen_width * 0.6)), style=QtCore.Qt.PenStyle.DashLine)
        for line in rec["lines"]:
            line.setPen(pen)
        lab = getattr(rec["lines"][0], "label", None)
        if lab is not None:
            lab.setFont(self._font_of(0.9))
            lab.setColor(st.text_color(rec["color"], style.dark))
            lab.fill = pg.mkBrush(st.with_alpha(style.colors.background, 170))
            lab.update()

    def style_rugs(self) -> None:
        style = self._style_of()
        pen = pg.mkPen(st.with_alpha(st.ROLE_COLORS["marker"], 140), width=style.px(max(1.0, style.pen_width * 0.6)))
        for rug in self._rugs:
            rug.setPen(pen)

    def items(self) -> list[tuple[str, float]]:
        """``(kind, epoch)`` of every drawn marker, read back from what draws it."""
        rug = iter(self._rugs[0].xs() if self._rugs else ())
        return [(rec["kind"], float(rec["lines"][0].value() if rec["lines"] else next(rug))) for rec in self.records]


class EarlyStopOverlay:
    """Best epoch, stop epoch and patience window of one panel (see the module docstring)."""

    def __init__(self, panel):
        self.panel = panel
        self.summary: Optional[EarlyStopSummary] = None
        self.best: list = []
        self.stop: list = []
        self.regions: list = []
        self.symbol: Optional[pg.PlotDataItem] = None
        self.symbol_plot = None

    def set(self, summary: EarlyStopSummary) -> None:
        """Draw ``summary`` (replacing what was drawn)."""
        self.clear()
        self.summary = es = summary
        panel = self.panel
        color = st.ROLE_COLORS["early_stop"]
        best_text = f"best {fmt(es.best_value) if es.best_value is not None else '–'} @ {int(es.best_epoch)}"
        if es.restored:
            best_text += f"\nweights restored\nfrom epoch {int(es.best_epoch)}"
        stop_text = f"stopped @ {int(es.stopped_epoch)}" + (f"\n(patience {int(es.patience)})" if es.patience else "")
        for i, p in enumerate(panel.plots):
            best = pg.InfiniteLine(pos=float(es.best_epoch), angle=90, movable=False,
                                   label=best_text if i == 0 else None,
                                   labelOpts={"position": 0.62, "anchors": [(0, 0.5), (0, 0.5)], "color": color}
                                   if i == 0 else None)
            best.setZValue(6)
            p.addItem(best, ignoreBounds=True)
            self.best.append(best)
            if not es.fired:  # the run ended at its last epoch: no stop, no patience window
                continue
            region = pg.LinearRegionItem(values=(float(es.best_epoch), float(es.stopped_epoch)), movable=False,
                                         orientation="vertical")
            region.setZValue(-10)
            for ln in region.lines:
                ln.setPen(pg.mkPen(None))
            p.addItem(region, ignoreBounds=True)
            self.regions.append(region)
            stop = pg.InfiniteLine(pos=float(es.stopped_epoch), angle=90, movable=False,
                                   label=stop_text if i == 0 else None,
                                   labelOpts={"position": 0.88, "anchors": [(1, 0.5), (1, 0.5)], "color": color}
                                   if i == 0 else None)
            stop.setZValue(6)
            p.addItem(stop, ignoreBounds=True)
            self.stop.append(stop)
        # the star sits on the plot of the monitored quantity: loss, or the metric plot
        self.symbol_plot = panel.loss_plot if es.monitor.endswith("loss") else panel.metric_plot
        self.symbol = pg.PlotDataItem(pen=None, symbol="star")
        self.symbol.setZValue(8)
        self.symbol_plot.addItem(self.symbol)
        self.place_symbol()
        self.restyle()
        self.place_labels()

    def epochs(self) -> tuple:
        """The epochs whose lines carry labels (markers keep their labels away from them)."""
        if self.summary is None:
            return ()
        es = self.summary
        return (es.best_epoch, es.stopped_epoch) if es.fired else (es.best_epoch,)

    def place_symbol(self) -> None:
        """The star at the best value, where the plot shows that quantity (an RMSE
        monitor or another metric than the one plotted: no star)."""
        if self.summary is None:
            return
        v, m = self.summary.best_value, self.summary.monitor
        ok = v is not None and math.isfinite(v)
        if m.endswith(("accuracy", "r2")) and not m.endswith(self.panel.metric_kind()):
            ok = False
        if m.endswith("rmse"):
            ok = False
        self.symbol.setData([self.summary.best_epoch] if ok else [], [v] if ok else [])

    def restyle(self) -> None:
        if self.summary is None:
            return
        style = self.panel.current_style()
        color = st.ROLE_COLORS["early_stop"]
        w = max(1.0, style.px(style.pen_width) * 0.8)
        for ln in self.best:
            ln.setPen(pg.mkPen(color, width=w))
        for ln in self.stop:
            ln.setPen(pg.mkPen(color, width=w, style=QtCore.Qt.PenStyle.DashDotLine))
        for region in self.regions:
            region.setBrush(st.with_alpha(color, style.colors.region_alpha))
            region.update()
        for ln in self.best[:1] + self.stop[:1]:
            ln.label.setFont(self.panel._font(0.95))
            ln.label.setColor(st.text_color(color, style.dark))
            ln.label.fill = pg.mkBrush(st.with_alpha(style.colors.background, 235))
            ln.label.update()
        self.symbol.setSymbolSize(style.marker_size * 2.2)
        self.symbol.setSymbolBrush(color)
        self.symbol.setSymbolPen(pg.mkPen(style.colors.background, width=style.px(1)))

    def place_labels(self, *_args) -> None:
        """Keep the labels inside the plot: the best label sits right of its line unless it
        would run off the right edge; the stop label left of its line unless it would run
        off the left edge."""
        if self.summary is None:
            return
        vb = self.panel.loss_plot.vb
        view = vb.sceneBoundingRect()
        if view.width() <= 1:
            return
        for lines, prefer_right in ((self.best, True), (self.stop, False)):
            if not lines:
                continue
            label = lines[0].label
            px = vb.mapViewToScene(QtCore.QPointF(lines[0].value(), 0.0)).x()
            width = label.boundingRect().width()
            right = px + width + 4 <= view.right() if prefer_right else px - width - 4 < view.left()
            anchor = (0, 0.5) if right else (1, 0.5)
            if label.anchors[0] != anchor:
                label.anchors = [anchor, anchor]
                label.updatePosition()

    def clear(self) -> None:
        if self.summary is None:
            return
        for p, best in zip(self.panel.plots, self.best):
            p.removeItem(best)
        for p, stop, region in zip(self.panel.plots, self.stop, self.regions):
            p.removeItem(stop)
            p.removeItem(region)
        self.symbol_plot.removeItem(self.symbol)
        self.summary, self.best, self.stop, self.regions, self.symbol = None, [], [], [], None
