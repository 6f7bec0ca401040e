"""Live training curves: loss, metric and learning rate over epochs.

:class:`CurvesPanel` stacks three pyqtgraph plots in ONE ``GraphicsLayoutWidget`` (so a
single exporter captures the whole panel) with their x axes linked:

* **Loss**: training loss (blue), validation loss (orange), optionally the per-batch
  training loss (faint) with its bias-corrected moving average, and a follow-up phase;
* **Metric**: training/validation accuracy or R²;
* **Learning rate** actually used in each epoch (before a run: the planned η, dashed).

Curves are created once and fed with ``setData`` on views of growing buffers
(:mod:`.series`); every curve clips to the view and peak-downsamples, so a 100 000-epoch
history redraws smoothly.  The panel's parts each live in their own module: the numbers
(:mod:`.series`), markers and the early-stopping overlay (:mod:`.overlays`), the axis
ranges (:mod:`.live_range`), hovering (:mod:`.hover`), the legend (:mod:`.legend`) and
the other runs compared with the shown one (:mod:`.run_overlays`: with any of them on the
plots, the shown run is drawn in its run colour too -- validation solid, training dashed
-- and the legend names each run).

Why this module is still long: it is the panel that puts those parts on one canvas --
creating and feeding the curves, the centred message, the style and the export; these
stay here because they draw on that canvas and are restyled with it.
"""

from __future__ import annotations

import csv
from typing import Iterable, Optional

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.engine.events import BatchEnd, EpochEnd
from workbench.spec import EarlyStopSummary
from workbench.ui import style as st
from workbench.ui.plots._axis import epoch_axes, uncached

from .hover import Hover
from .legend import ENTRY_EXTRA, LegendRow, legend_columns, legend_rows, make_legend
from .live_range import Ranges
from .overlays import EarlyStopOverlay, Markers
from .run_overlays import RunOverlays
from .series import EPOCH_COLUMNS, METRIC_KEYS, BatchSeries, ColumnBuffer, epoch_rows, history_columns, log10

CURVE_NAMES = ("train_loss", "val_loss", "batch_loss", "batch_loss_ema", "train_metric", "val_metric", "lr")
#: While a run is live, curves longer than this are drawn without antialiasing: a wide
#: antialiased pen costs ~3x an aliased one.  A static view is always antialiased.
_LIVE_ANTIALIAS_MAX_POINTS = 300
#: Auto-downsampling draws about this many samples per pixel of plot width; with the
#: 'peak' method each bin keeps its minimum and maximum (the envelope is unchanged).
_DOWNSAMPLE_FACTOR = 1.0
_METRIC_LABEL = {"accuracy": "accuracy", "r2": "R²"}


class _Canvas(pg.GraphicsLayoutWidget):
    """The panel's one graphics view; reports each finished paint (frame pacing)."""

    def __init__(self, on_painted):
        super().__init__()
        self._on_painted = on_painted

    def paintEvent(self, ev):  # noqa: N802 - Qt override
        super().paintEvent(ev)
        self._on_painted()


class CurvesPanel(QtWidgets.QWidget):
    """Loss / metric / learning-rate plots with markers; see the module docstring.

    ``painted`` is emitted after each paint of the plots; :meth:`needs_paint` says whether
    something changed since the last paint (the window holds the training worker from a
    frame's changes until their paint)."""

    painted = QtCore.Signal()

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None, style: Optional[st.Style] = None):
        super().__init__(parent)
        self._style = style or st.Style.normal()
        self._base_font = st.base_font()
        self._metric_kind = "accuracy"
        self._metric_kind_explicit = False
        self._show_batches = False
        self._log_loss = False
        self._log_lr = False
        self._epochs = ColumnBuffer(EPOCH_COLUMNS)
        self._followup = ColumnBuffer(EPOCH_COLUMNS, capacity=16)
        self._batches = BatchSeries()
        self._message: Optional[pg.TextItem] = None
        self._message_kind = "error"
        self._dirty = False
        self._left_width = 40

        self._glw = _Canvas(self._after_paint)
        self._glw.setMinimumSize(320, 300)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._glw)
        self._readout = pg.LabelItem(justify="left")
        # LabelItem makes its text width the layout's minimum width; a long read-out would
        # widen the plots past the widget's edge: it wraps at the panel's width instead
        _update_min = self._readout.updateMin

        def _readout_update_min(_update=_update_min, _label=self._readout):
            _update()
            _label.setMinimumWidth(0)

        self._readout.updateMin = _readout_update_min
        self._glw.addItem(self._readout, row=0, col=0)
        # one key for all three plots, in its own row above them (inside a plot it hid curves)
        self._legend = pg.LegendItem(colCount=4, horSpacing=18, frame=False)  # filled by _refresh_legend
        self._legend_key = None  # what the legend shows (_refresh_legend)
        self._legend_row = LegendRow(self._legend)
        self._glw.addItem(self._legend_row, row=1, col=0)
        self.loss_plot: pg.PlotItem = self._glw.addPlot(row=2, col=0, axisItems=epoch_axes())
        self.metric_plot: pg.PlotItem = self._glw.addPlot(row=3, col=0, axisItems=epoch_axes())
        self.lr_plot: pg.PlotItem = self._glw.addPlot(row=4, col=0, axisItems=epoch_axes())
        self.plots = (self.loss_plot, self.metric_plot, self.lr_plot)
        grid = self._glw.ci.layout
        for row, stretch in ((2, 5), (3, 3), (4, 2)):
            grid.setRowStretchFactor(row, stretch)
        self.metric_plot.setXLink(self.loss_plot)
        self.lr_plot.setXLink(self.loss_plot)
        for p in self.plots:
            p.showGrid(x=True, y=True)
            p.setMenuEnabled(True)
            p.hideButtons()
            for name in ("left", "bottom"):
                p.getAxis(name).enableAutoSIPrefix(False)
            # the plots' own modes match the curves' (PlotItem.addItem copies them onto curves)
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")
        self._lr_zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False)  # rates are >= 0: 0 stays in view
        self.lr_plot.addItem(self._lr_zero)
        for p in self.plots[:-1]:
            p.getAxis("bottom").setStyle(showValues=False)

        def curve(plot, z=0):
            item = pg.PlotDataItem(connect="finite", antialias=True)
            item.setZValue(z)
            plot.addItem(item)
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            item.opts["autoDownsampleFactor"] = _DOWNSAMPLE_FACTOR
            return item

        self._curves: dict[str, pg.PlotDataItem] = {
            "batch_loss": curve(self.loss_plot, z=-2),
            "batch_loss_ema": curve(self.loss_plot, z=-1),
            "train_loss": curve(self.loss_plot, z=2),
            "val_loss": curve(self.loss_plot, z=3),
            "followup_loss": curve(self.loss_plot, z=1),
            "train_metric": curve(self.metric_plot, z=2),
            "val_metric": curve(self.metric_plot, z=3),
            "lr": curve(self.lr_plot, z=2),
            "planned_lr": curve(self.lr_plot, z=1),
        }
        for name in ("batch_loss", "batch_loss_ema", "followup_loss", "planned_lr"):
            self._curves[name].setVisible(False)
        self._until: Optional[int] = None  # a replay draws the shown run up to this epoch
        self._shown_run: Optional[tuple[int, str]] = None  # (colour, label) of the shown run when comparing
        self._run_entries: list = []  # [(colour, label)] of the overlays while comparing

        self.markers = Markers(self.plots, lambda: self._style, self._font, self._marker_span)
        self.early_stop = EarlyStopOverlay(self)
        self.ranges = Ranges(self)
        self.hover = Hover(self, self._readout)
        self.overlays = RunOverlays(self)
        for i, p in enumerate(self.plots):
            p.vb.sigRangeChangedManually.connect(lambda mask, i=i: self.ranges.on_manual_range(i, mask))
        vb = self.loss_plot.vb
        vb.sigResized.connect(self._place_message)
        for sig in (vb.sigResized, vb.sigXRangeChanged):
            sig.connect(self.early_stop.place_labels)
            sig.connect(self._place_marker_labels)
        self._set_axis_labels()
        self.apply_style(self._style)

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget the history, markers, early-stopping items and message."""
        self._until = None
        self._epochs.clear()
        self._followup.clear()
        self._batches.reset()
        if not self._metric_kind_explicit:
            self._metric_kind = "accuracy"
            self._set_axis_labels()
        for item in self._curves.values():
            item.setData([], [])
        for name in ("followup_loss", "planned_lr"):
            self._curves[name].setVisible(False)
        self._refresh_legend()  # (a follow-up's entry goes)
        self.markers.clear()
        self.early_stop.clear()
        self.clear_message()
        self.hover.reset()
        self.ranges.reset()

    def show_plan(self, planned_lr, epochs: int) -> None:
        """Before any run (no history, not live): the epoch axis spans the planned
        ``epochs``, the loss and metric axes [0, 1], and the learning-rate plot shows
        ``planned_lr`` (η per epoch, epoch 1 first; dashed).  The first run or loaded
        result replaces all this."""
        if self.ranges.live or self._epochs.n or epochs < 1:
            return
        plan = self._curves["planned_lr"]
        lr = None if planned_lr is None else np.asarray(planned_lr, dtype=np.float64)
        shown = lr is not None and lr.size > 0 and bool(np.isfinite(lr).all())
        plan.setData(np.arange(1, lr.size + 1, dtype=np.float64) if shown else [], lr if shown else [])
        plan.setVisible(shown)
        for p in self.plots:
            p.disableAutoRange()
        self.loss_plot.setXRange(0.0, float(epochs), padding=0.02)
        self.loss_plot.setYRange(-3.0 if self._log_loss else 0.0, 0.0 if self._log_loss else 1.0, padding=0.02)
        self.metric_plot.setYRange(0.0, 1.0, padding=0.02)
        self._range_plan_lr()

    def _range_plan_lr(self) -> None:
        plan = self._curves["planned_lr"]
        lr = plan.getOriginalDataset()[1] if plan.isVisible() else None
        positive = None if lr is None else lr[lr > 0]
        if self._log_lr:
            if positive is not None and positive.size:
                lo, hi = np.log10(positive.min()), np.log10(positive.max())
                self.lr_plot.setYRange(lo - 0.1 - (hi == lo), hi + 0.1, padding=0.0)
        else:
            top = float(lr.max()) * 1.1 if positive is not None and positive.size else 1.0
            self.lr_plot.setYRange(0.0, top, padding=0.0)

    def set_live(self, live: bool, total_epochs: Optional[int] = None) -> None:
        """A run is live (see :mod:`.live_range`); ending it fits the axes to the data."""
        self.ranges.set_live(live, total_epochs)
        if not live:
            for item in self._curves.values():  # the finished view is drawn smooth
                if not item.opts["antialias"]:
                    item.opts["antialias"] = True
                    item.updateItems(styleUpdate=True)

    def settle(self) -> None:
        """Apply pending auto-ranges now (pyqtgraph defers them to the next paint, whose
        range change asks for a second paint): a frame is then painted once."""
        self._glw.scene().prepareForPaint()

    def _max_x(self) -> float:
        m = float(self._epochs.view("epoch")[-1]) if self._epochs.n else 0.0
        m = max(m, self.overlays.max_epoch())
        if self._batches.n:
            m = max(m, float(np.nanmax(self._batches.view("x")[-1:])))
        return m

    def _marker_span(self, epoch: float) -> float:
        return float(self.ranges.total or max(self._max_x(), epoch, 1.0))

    def _y_data(self, i: int):
        """The values plot ``i`` shows, in its view coordinates (log10 for a log axis)."""
        cols = self._own_y_data(i)
        if len(self.overlays):
            extra = self.overlays.y_columns(i)
            cols = cols + ([log10(c) for c in extra] if self._is_log(i) else extra)
        return cols

    def _own_y_data(self, i: int):
        if i == 0:
            cols = [self._epochs.view("train_loss"), self._epochs.view("val_loss"), self._followup.view("train_loss")]
            if self._show_batches:
                cols += [self._batches.view("loss"), self._batches.view("ema")]
            return [log10(c) for c in cols] if self._log_loss else cols
        if i == 1:
            k = self._metric_kind
            return [self._epochs.view(f"train_{k}"), self._epochs.view(f"val_{k}")]
        if self._log_lr:
            return [log10(self._epochs.view("lr"))]
        return [self._epochs.view("lr"), np.zeros(1)]  # the lr plot keeps 0 in view

    def _is_log(self, i: int) -> bool:
        return (i == 0 and self._log_loss) or (i == 2 and self._log_lr)

    # ------------------------------------------------------------------ data in
    def add_epochs(self, events: Iterable[EpochEnd]) -> None:
        """Append finished epochs (1-based) and redraw: one ``setData`` per curve."""
        main, follow = [], []
        for e in events:
            if isinstance(e, EpochEnd):
                (main if e.phase == "train" else follow).append(e)
        if main:
            self._epochs.append_rows(epoch_rows(main))
            self._maybe_auto_metric()
            self._batches.finish_epochs(int(main[-1].epoch))
            if self._show_batches and self._batches.n:
                self._refresh_batch_curves()
            self._refresh_epoch_curves()
            if not self.hover.hovering:
                self.hover.show(None)
        if follow:
            self._followup.append_rows(epoch_rows(follow))
            self._refresh_followup()

    def add_batches(self, events: Iterable[BatchEnd]) -> None:
        """Append per-batch training losses (train phase only) at fractional epochs."""
        data = [(e.epoch, e.batch, e.loss) for e in events if isinstance(e, BatchEnd) and e.phase == "train"]
        if data:
            arr = np.array(data, dtype=np.float64)
            self._batches.add(arr[:, 0], arr[:, 1], arr[:, 2])
            if self._show_batches:
                self._refresh_batch_curves()

    def add_marker(self, kind: str, epoch: float, text: str = "", *, sync: bool = True) -> None:
        """A marker at ``epoch`` (see :class:`.overlays.Markers`)."""
        self.markers.add(kind, epoch, text, sync=False)
        if sync:
            self.markers.sync_rugs()
            self._place_marker_labels()
        self._dirty = True

    def set_early_stop(self, summary: EarlyStopSummary) -> None:
        """Draw early stopping's verdict (see :class:`.overlays.EarlyStopOverlay`)."""
        self.early_stop.set(summary)
        self._place_marker_labels()
        self._dirty = True

    def _place_marker_labels(self, *_args) -> None:
        self.markers.place_labels(avoid=self.early_stop.epochs())

    def _maybe_auto_metric(self) -> None:
        if self._metric_kind_explicit:
            return
        buf = self._epochs
        has_acc = np.isfinite(buf.view("train_accuracy")).any() or np.isfinite(buf.view("val_accuracy")).any()
        has_r2 = np.isfinite(buf.view("train_r2")).any() or np.isfinite(buf.view("val_r2")).any()
        kind = "r2" if has_r2 and not has_acc else "accuracy"
        if kind != self._metric_kind:
            self._metric_kind = kind
            self.overlays.set_metric_kind(kind)
            self._set_axis_labels()

    def load_result(self, result) -> None:
        """Draw a saved :class:`workbench.spec.RunResult` at once: history, follow-up,
        markers, early stopping and (for diverged runs) the message."""
        self.reset()
        cols = history_columns(result.history)
        if cols:
            self._epochs.append_columns(cols)
            self._maybe_auto_metric()
            self._refresh_epoch_curves()
            self.hover.show(None)
        fcols = history_columns(result.followup_history or {})
        if fcols:
            self._followup.append_columns(fcols)
            self._refresh_followup()
        for m in result.markers:
            self.markers.add(m.kind, m.epoch, m.text, sync=False)
        self.markers.sync_rugs()
        if result.early_stop is not None:
            self.early_stop.set(result.early_stop)
        self._place_marker_labels()
        self.ranges.fit_y(force=True)
        if result.status == "diverged":
            self.show_message(result.message or "Training diverged: the loss became NaN or infinite", "error")

    # ------------------------------------------------------------------ redraw
    def _set_antialias(self, names, n: int) -> None:
        aa = n <= _LIVE_ANTIALIAS_MAX_POINTS or not self.ranges.live
        for name in names:
            item = self._curves[name]
            if item.opts["antialias"] != aa:
                item.opts["antialias"] = aa  # picked up by the next setData

    def _after_paint(self) -> None:
        self._dirty = False
        self.painted.emit()

    def needs_paint(self) -> bool:
        """True if the plots changed since their last paint."""
        return self._dirty

    def _refresh_epoch_curves(self) -> None:
        self._dirty = True
        b = self._epochs
        n = b.n if self._until is None else min(b.n, max(0, self._until))
        x = b.view("epoch")[:n]
        c = self._curves
        self._set_antialias(("train_loss", "val_loss", "train_metric", "val_metric", "lr"), n)
        c["train_loss"].setData(x, b.view("train_loss")[:n])
        c["val_loss"].setData(x, b.view("val_loss")[:n])
        c["train_metric"].setData(x, b.view(f"train_{self._metric_kind}")[:n])
        c["val_metric"].setData(x, b.view(f"val_{self._metric_kind}")[:n])
        c["lr"].setData(x, b.view("lr")[:n])
        if self._until is None:
            self._follow()

    # ------------------------------------------------------------------ timeline
    def set_cursor(self, epoch: Optional[float]) -> None:
        """A vertical line at ``epoch`` across the three plots (the timeline's); None: none."""
        if not hasattr(self, "_cursors"):
            self._cursors = [pg.InfiniteLine(angle=90, movable=False) for _ in self.plots]
            for plot, line in zip(self.plots, self._cursors):
                line.setZValue(30)
                plot.addItem(line, ignoreBounds=True)
            self._style_cursors()
        for line in self._cursors:
            line.setVisible(epoch is not None)
            if epoch is not None:
                line.setValue(float(epoch))
        self._dirty = True

    def _style_cursors(self) -> None:
        if hasattr(self, "_cursors"):
            pen = pg.mkPen(st.with_alpha(self._style.colors.foreground, 160), width=self._style.px(1.5),
                           style=QtCore.Qt.PenStyle.DashLine)
            for line in self._cursors:
                line.setPen(pen)

    def show_until(self, epoch: Optional[int]) -> None:
        """Draw the shown run only up to ``epoch`` (a replay); None: all of it."""
        if epoch != self._until:
            self._until = None if epoch is None else int(epoch)
            self._refresh_epoch_curves()

    def _refresh_batch_curves(self) -> None:
        self._dirty = True
        x = self._batches.view("x")
        self._set_antialias(("batch_loss", "batch_loss_ema"), self._batches.n)
        self._curves["batch_loss"].setData(x, self._batches.view("loss"))
        self._curves["batch_loss_ema"].setData(x, self._batches.view("ema"))
        self._follow()

    def _refresh_followup(self) -> None:
        self._dirty = True
        f = self._followup
        item = self._curves["followup_loss"]
        item.setData(f.view("epoch"), f.view("train_loss"))
        if f.n and not item.isVisible():
            item.setVisible(True)
            self._refresh_legend()
        self._follow()

    def _follow(self) -> None:
        """The ranges follow new data (live: in steps; otherwise exactly)."""
        self.ranges.grow_x(self._max_x())
        self.ranges.fit_y()

    # ------------------------------------------------------------------ compared runs
    def set_comparison(self, shown_color: Optional[int], shown_label: str, entries) -> None:
        """The runs compared: the shown run's colour and legend name while other runs are
        overlaid (``shown_color`` None: the usual training-blue / validation-orange roles)
        and ``(colour, label)`` of each overlay (none: the usual key); one new legend at
        most."""
        shown = None if shown_color is None else (int(shown_color), shown_label)
        if shown != self._shown_run:
            self._shown_run = shown
            self._set_pens()
        self._run_entries = list(entries)
        self._refresh_legend()

    def _refresh_legend(self) -> None:
        """A new legend (pyqtgraph's does not re-flow after removals; :mod:`.legend`) when
        what it shows changed (a run's start asks several times; each legend costs ~1 ms an
        entry): two entries to a row when comparing runs (their names are long), else as many
        as fit the panel's width (at most four)."""
        extra = [("batch_loss_ema", "train (per batch, smoothed)")] if self._show_batches else []
        if self._curves["followup_loss"].isVisible():
            extra.append(("followup_loss", "follow-up (train+val)"))
        rows = legend_rows(self._style, self._shown_run, self._run_entries, extra)
        width = max(self.width(), 320) - self._left_width
        columns = 2 if self._run_entries else legend_columns([text for _sample, text in rows], self._font(0.95), width)
        room = width / columns - ENTRY_EXTRA if self._run_entries else None
        size = f"{self._pt(0.95):.1f}pt"
        key = (tuple(rows), columns, None if room is None else round(room), size, self._style.colors.text,
               self._left_width)
        if key == self._legend_key:
            return
        self._legend_key = key
        self._legend = make_legend(rows, self._curves, columns=columns, size=size, text_color=self._style.colors.text,
                                   font=self._font(0.95), room=room)
        self._legend_row.set_legend(self._legend)
        self._legend_row.fit(self._left_width)
        self._dirty = True

    def fit_overlays(self, _columns=None) -> None:
        """The ranges follow the overlays' data."""
        self._dirty = True
        self._follow()

    # ------------------------------------------------------------------ options
    def set_metric_kind(self, kind: str) -> None:
        """``"accuracy"`` (classification) or ``"r2"`` (regression)."""
        if kind not in _METRIC_LABEL:
            raise ValueError(f"metric kind: must be 'accuracy' or 'r2', got {kind!r}")
        self._metric_kind_explicit = True
        if kind != self._metric_kind:
            self._metric_kind = kind
            self.overlays.set_metric_kind(kind)
            self._set_axis_labels()
            self._refresh_epoch_curves()
            self.ranges.fit_y(force=True)

    def metric_kind(self) -> str:
        return self._metric_kind

    def set_log_scale(self, on: bool) -> None:
        """Logarithmic y axis on the loss plot."""
        self._log_loss = bool(on)
        self.loss_plot.setLogMode(x=False, y=self._log_loss)
        self.overlays.redraw()  # the bands are drawn in the axis's coordinates
        self._set_axis_labels()
        self.ranges.fit_y(force=True)
        self.early_stop.place_symbol()

    def log_scale(self) -> bool:
        return self._log_loss

    def set_lr_log_scale(self, on: bool) -> None:
        """Logarithmic y axis on the learning-rate plot (decays over decades read as
        straight lines); the zero line is hidden there."""
        self._log_lr = bool(on)
        self.lr_plot.setLogMode(x=False, y=self._log_lr)
        self._lr_zero.setVisible(not self._log_lr)
        self._set_axis_labels()
        if self._epochs.n:
            self.ranges.fit_y(force=True)
        else:
            self._range_plan_lr()

    def set_show_batches(self, show: bool) -> None:
        """Show the faint per-batch training loss and its moving average."""
        show = bool(show)
        if show == self._show_batches:
            return
        self._show_batches = show
        item = self._curves["batch_loss_ema"]
        self._refresh_legend()
        self._curves["batch_loss"].setVisible(show)
        item.setVisible(show)
        if show:
            self._refresh_batch_curves()
        self.ranges.fit_y(force=True)

    # ------------------------------------------------------------------ message
    def show_message(self, text: str, kind: str = "error") -> None:
        """A big boxed message centred on the loss plot (kind ``error`` or ``info``)."""
        self._message_kind = kind
        if self._message is None:
            self._message = pg.TextItem(anchor=(0.5, 0.5))
            self._message.setParentItem(self.loss_plot.vb)
            self._message.setZValue(100)
        self._message.setText(text)
        self._style_message()
        self._message.setVisible(True)
        self._place_message()
        self._dirty = True

    def clear_message(self) -> None:
        if self._message is not None:
            self._message.setVisible(False)
            self._message.setText("")

    def _style_message(self) -> None:
        if self._message is None:
            return
        color = st.ROLE_COLORS["diverged"] if self._message_kind == "error" else st.BLUE
        self._message.setFont(self._font(1.5, bold=True))
        self._message.setColor(color if self._message_kind == "error" else self._style.colors.text)
        fill = self._style.colors.message_fill if self._message_kind == "error" else self._style.colors.legend_fill
        self._message.fill = pg.mkBrush(st.with_alpha(fill, fill[3]))
        self._message.border = pg.mkPen(color, width=self._style.px(2))
        self._place_message()
        self._message.update()

    def _place_message(self, *_args) -> None:
        if self._message is None or not self._message.isVisible():
            return
        rect = self.loss_plot.vb.rect()
        if rect.width() > 40:
            self._message.setTextWidth(min(rect.width() * 0.85, 900 * self._style.font_scale))
        self._message.setPos(rect.center())

    # ------------------------------------------------------------------ hover, size
    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.hover.end()
        super().leaveEvent(event)

    def hover_at(self, x: float) -> str:
        """Show values at the epoch nearest ``x`` (and return the plain read-out)."""
        self.hover.hovering = True
        return self.hover.at(x)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._readout.item.setTextWidth(max(100, self.width() - 24))
        self._readout.updateMin()
        if event.oldSize().width() != event.size().width():
            self._refresh_legend()  # its columns, and run names elided, for the new width

    def history_length(self) -> int:
        return self._epochs.n

    # ------------------------------------------------------------------ style
    def _pt(self, factor: float = 1.0) -> float:
        return self._base_font.pointSizeF() * self._style.font_scale * factor

    def _font(self, factor: float = 1.0, bold: bool = False) -> QtGui.QFont:
        f = st.scaled_font(self._base_font, self._style, factor)
        f.setBold(bold)
        return f

    def _set_axis_labels(self) -> None:
        style = {"font-size": f"{self._pt(1.0):.1f}pt", "color": self._style.colors.text}
        self.loss_plot.setLabel("left", "loss (log)" if self._log_loss else "loss", **style)
        self.metric_plot.setLabel("left", _METRIC_LABEL[self._metric_kind], **style)
        self.lr_plot.setLabel("left", "lr (log)" if self._log_lr else "lr", **style)
        self.lr_plot.setLabel("bottom", "epoch", **style)

    def _set_pens(self) -> None:
        """The curves' pens: the roles' colours, or the shown run's while comparing."""
        style = self._style
        w = style.px(style.pen_width)
        dash = QtCore.Qt.PenStyle.DashLine
        pens = {
            "train_loss": pg.mkPen(style.line_color("train"), width=w),
            "val_loss": pg.mkPen(style.line_color("val"), width=w),
            "train_metric": pg.mkPen(style.line_color("train"), width=w),
            "val_metric": pg.mkPen(style.line_color("val"), width=w),
            "lr": pg.mkPen(style.line_color("lr"), width=w),
            "planned_lr": pg.mkPen(st.with_alpha(style.line_color("lr").getRgb(), 150), width=w * 0.75, style=dash),
            "batch_loss": pg.mkPen(st.with_alpha(st.SKY, 70), width=style.px(1)),
            "batch_loss_ema": pg.mkPen(st.with_alpha(st.SKY, 230), width=style.px(max(1.0, style.pen_width * 0.5))),
            "followup_loss": pg.mkPen(style.line_color("followup"), width=w, style=dash),
        }
        if self._shown_run is not None:  # comparing: the shown run in its own colour
            color = st.run_color(self._shown_run[0], style.dark)
            for name in ("val_loss", "val_metric", "lr"):
                pens[name] = pg.mkPen(color, width=w * 1.3)
            for name in ("train_loss", "train_metric"):
                pens[name] = pg.mkPen(color, width=w * 0.9, style=dash)
        for name, pen in pens.items():
            self._curves[name].setPen(pen)

    def apply_style(self, style: st.Style) -> None:
        """Pens, fonts and colours from ``style``; normal() after presentation()
        restores the original sizes exactly (everything derives from the base font)."""
        self._style = style
        colors = style.colors
        self._glw.setBackground(colors.background)
        self._set_pens()
        tick_font = self._font(1.0)
        fm = QtGui.QFontMetricsF(tick_font)
        left_width = int(fm.horizontalAdvance("0.00000") + fm.height() * 1.4 + 6)
        for p in self.plots:
            for name in ("left", "bottom"):
                ax = p.getAxis(name)
                ax.setStyle(tickFont=tick_font, tickTextOffset=max(3, int(3 * style.font_scale)))
                ax.setPen(pg.mkPen(colors.foreground, width=style.px(1)))
                ax.setTextPen(pg.mkPen(colors.text))
            p.getAxis("left").setWidth(left_width)
            p.showGrid(x=True, y=True, alpha=colors.grid_alpha)
        self.lr_plot.getAxis("bottom").setHeight(int(fm.height() * 2.6 + 10))
        self._set_axis_labels()
        self._left_width = left_width
        self._refresh_legend()
        self.markers.restyle()
        self.overlays.apply_style(style)
        self.early_stop.restyle()
        self.early_stop.place_labels()
        self._place_marker_labels()
        self._style_message()
        self._lr_zero.setPen(pg.mkPen(st.with_alpha(colors.foreground, 90), width=style.px(1)))
        self._style_cursors()
        self.hover.restyle()

    def current_style(self) -> st.Style:
        return self._style

    # ------------------------------------------------------------------ export
    def export_png(self, path, width: Optional[int] = None) -> None:
        """The whole panel as PNG, by default at the screen's resolution: ``width`` = panel
        width x pixel ratio (the pens are in device pixels, so a HiDPI export at the
        logical size had half the resolution and twice-too-thick lines)."""
        from pyqtgraph.exporters import ImageExporter

        self._prepare_export()
        exporter = ImageExporter(self._glw.scene())
        ratio = max(1.0, float(self._style.pixel_ratio))
        if width or ratio > 1.0:
            exporter.parameters()["width"] = int(width or round(self._glw.width() * ratio))
        with uncached(self._glw.scene()):
            ok = exporter.export(str(path))
        if not ok and not self._glw.grab().save(str(path)):  # a scene without a size yet: the widget
            raise OSError(f"could not write PNG to {path}")

    def export_svg(self, path) -> None:
        """The whole panel as SVG."""
        from pyqtgraph.exporters import SVGExporter

        self._prepare_export()
        with uncached(self._glw.scene()):
            SVGExporter(self._glw.scene()).export(str(path))

    def _prepare_export(self) -> None:
        rect = self._glw.scene().sceneRect()
        if rect.width() < 50 or rect.height() < 50:
            self._glw.resize(max(self._glw.width(), 900), max(self._glw.height(), 700))

    def export_csv(self, path) -> None:
        """History as CSV: epoch, train_loss, val_loss, penalty, lr and every metric column
        that has values; follow-up epochs follow with phase ``followup``."""
        main, follow = self._epochs, self._followup
        columns = ["epoch", "train_loss", "val_loss", "penalty", "lr"]
        columns += [c for c in METRIC_KEYS if np.isfinite(main.view(c)).any() or np.isfinite(follow.view(c)).any()]
        with_phase = follow.n > 0

        def rows(buf: ColumnBuffer, phase: str):
            data = np.column_stack([buf.view(c) for c in columns]) if buf.n else np.empty((0, len(columns)))
            for row in data.tolist():
                out = [(str(int(v)) if j == 0 else repr(v)) if v == v else "" for j, v in enumerate(row)]  # NaN: empty
                yield out + ([phase] if with_phase else [])

        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns + (["phase"] if with_phase else []))
            writer.writerows(rows(main, "train"))
            if with_phase:
                writer.writerows(rows(follow, "followup"))
