"""The Sweep panel: choose the settings to vary, run the trials on a Dask cluster, and read
the results as a table, parallel coordinates and small multiples of the curves.

:class:`SweepPanel` is the content of the window's Sweep dock.  Left, the form
(:class:`~.editor.SweepEditor`): the settings and their ranges or values, grid or random,
points, seeds per point, the budget, local workers or a scheduler's address, with the plan
("grid of 3×2 points × 2 seeds = 12 runs") or the reason it is refused; Start and Cancel,
a progress bar over all the trials' epochs with the time left.  Right, the results table
(:class:`~.model.ResultsModel`, sortable by any column, the validation metric at the best
epoch first), the parallel coordinates (:class:`~.parallel.ParallelCoordinates`) and the
small multiples (:class:`~.multiples.SmallMultiples`) of the best trials' curves, growing
live.

Nothing blocks the GUI thread: the data set is loaded and the runner made in a thread of
its own; :class:`workbench.sweep.runner.SweepRunner` starts the cluster (once per
session: the panel keeps its :class:`~workbench.sweep.runner.Cluster` for later sweeps
with the same workers or scheduler) and drives the trials in its own thread; a QTimer
polls it every :data:`POLL_MS` ms and redraws only what changed.  Cancel stops running
trials at their next epoch.  :meth:`SweepPanel.shutdown` (called by ``closeEvent``; the
window calls it when it closes) cancels what runs and shuts the local cluster down.

Signals: ``open_trial(object)`` -- a clicked row's trial as a
:class:`~workbench.spec.SavedRun` (a point with several seeds: the tuple of its seeds'
runs, one group); ``use_settings(object)`` -- the selected trial's settings, the base
experiment with the point's values (its seed kept); ``sweep_started()``,
``sweep_finished(str)`` (``finished``, ``cancelled`` or ``failed``).

Why this module is long: the form, the results model, the parallel coordinates and the small
multiples are already modules of their own; what is left is one job, the life of a sweep in
the window (start it in a thread, poll it, cancel it, shut its cluster down) and feeding
each poll's news to those views.
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
                               QScrollArea, QSplitter, QTableView, QVBoxLayout, QWidget)

from workbench.spec import ExperimentSpec, SpecError
from workbench.sweep import results as R
from workbench.sweep.fields import with_values
from workbench.sweep.runner import Cluster, SweepError, SweepProgress, SweepRunner
from workbench.sweep.spec import SweepSpec, check_sweep, plan_text

from .. import style as st
from ..widgets.forms import label_styles
from .editor import SweepEditor
from .model import ResultsModel
from .multiples import SmallMultiples, TrialCurve
from .parallel import ParallelCoordinates, field_axes

#: How often the panel asks the runner for news (ms).
POLL_MS = 200
#: How long closing waits for running trials to stop (s).
CLOSE_TIMEOUT = 15.0


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


class SweepPanel(QWidget):
    """See the module docstring.  ``base``: the experiment to sweep; ``dataset``: its data
    set if already loaded (else loaded from ``base.data`` relative to ``base_dir``)."""

    open_trial = Signal(object)
    use_settings = Signal(object)
    sweep_started = Signal()
    sweep_finished = Signal(str)

    def __init__(self, base: ExperimentSpec, dataset=None, base_dir=None, parent=None):
        super().__init__(parent)
        self.setObjectName("sweepPanel")
        self.base = base
        self.dataset = dataset
        self.base_dir = base_dir
        self.style_ = st.Style.normal()
        self.cluster: Optional[Cluster] = None
        self.runner: Optional[SweepRunner] = None
        self.progress_: Optional[SweepProgress] = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sweep-launch")
        self._launch: Optional[Future] = None
        self._launch_cluster: Optional[Cluster] = None
        self._rows: list[R.Row] = []
        self._running: tuple = ()
        self._metric_key = "val_accuracy"

        self.editor = SweepEditor(base)
        self.editor.add_axis("optimizer.lr")
        self.plan_label = QLabel()
        self.plan_label.setObjectName("sweepPlan")
        self.plan_label.setWordWrap(True)
        self.reason_label = QLabel()
        self.reason_label.setObjectName("sweepReason")
        self.reason_label.setWordWrap(True)
        self.start_button = QPushButton("Start sweep")
        self.start_button.setObjectName("sweepStart")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("sweepCancel")
        self.cancel_button.setToolTip("Running trials stop at their next epoch; finished ones are kept")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%p %")
        self.progress_bar.setToolTip("The share of all the trials' epochs trained so far")
        self.eta_label = QLabel("")
        self.eta_label.setObjectName("sweepEta")
        self.status_label = QLabel("")
        self.status_label.setObjectName("sweepStatus")
        self.status_label.setWordWrap(True)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 6, 6)
        left_layout.addWidget(self.editor)
        left_layout.addWidget(self.plan_label)
        left_layout.addWidget(self.reason_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress_bar)
        left_layout.addWidget(self.eta_label)
        left_layout.addWidget(self.status_label)
        left_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left_width = left.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4
        scroll.setMinimumWidth(left_width)

        self.model = ResultsModel(self)
        self.table = QTableView()
        self.table.setObjectName("sweepTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.open_button = QPushButton("Open in Runs")
        self.open_button.setToolTip("Open the selected trial as a run (a point's seeds as one group)")
        self.use_button = QPushButton("Use these settings")
        self.use_button.setToolTip("Put the selected trial's settings in the docks (the seed stays)")
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table)
        row_buttons = QHBoxLayout()
        row_buttons.addStretch(1)
        row_buttons.addWidget(self.open_button)
        row_buttons.addWidget(self.use_button)
        table_layout.addLayout(row_buttons)

        self.parallel = ParallelCoordinates()
        self.multiples = SmallMultiples()
        self.parallel_caption = QLabel("One line per trial through its settings and its validation metric, "
                                       "coloured by the metric (cividis: dark = low, yellow = high)")
        self.multiples_caption = QLabel("Loss per epoch of the best trials, live (orange: validation, "
                                        "blue: training; one loss scale)")
        plots = QSplitter(Qt.Orientation.Horizontal)
        for caption, plot in ((self.parallel_caption, self.parallel), (self.multiples_caption, self.multiples)):
            caption.setWordWrap(True)
            box = QWidget()
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(0, 2, 0, 0)
            box_layout.setSpacing(2)
            box_layout.addWidget(caption)
            box_layout.addWidget(plot, 1)
            plots.addWidget(box)
        plots.setStretchFactor(0, 1)
        plots.setStretchFactor(1, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(table_box)
        right.addWidget(plots)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([left_width, 4 * left_width])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._tick)
        self.editor.changed.connect(self._edited)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.table.clicked.connect(lambda index: self._open_row(index.row()))
        self.open_button.clicked.connect(lambda: self._open_row(self._selected_row()))
        self.use_button.clicked.connect(self._use_selected)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self._edited()
        self._selection_changed()
        self.apply_style(self.style_)

    # -- the base and the sweep ----------------------------------------------------------------
    def set_base(self, base: ExperimentSpec, dataset=None, base_dir=None) -> None:
        """Sweep ``base`` from now on (``dataset``: its loaded data, if at hand)."""
        self.base, self.dataset, self.base_dir = base, dataset, base_dir
        self.editor.set_base(base)

    def set_sweep(self, sweep: SweepSpec) -> None:
        """Show ``sweep`` in the form (e.g. a file's ``sweep`` key)."""
        self.editor.set_sweep(sweep)

    def sweep(self) -> SweepSpec:
        """The sweep of the form (SpecError naming the field otherwise)."""
        return self.editor.sweep()

    @property
    def running(self) -> bool:
        return self._launch is not None or (self.runner is not None and not self.runner.over)

    def _edited(self) -> None:
        try:
            sweep = self.editor.sweep()
        except SpecError as exc:
            self._reason(exc.first_line)
            self.plan_label.setText("")
            self.start_button.setEnabled(False)
            return
        self._reason("")
        self.plan_label.setText(plan_text(sweep))
        self.start_button.setEnabled(not self.running)

    def _reason(self, text: str, error: bool = True) -> None:
        self.reason_label.setText(text)
        self.reason_label.setVisible(bool(text))
        self.reason_label.setStyleSheet(label_styles(self.style_.dark)["error" if error else "note"])

    # -- running -------------------------------------------------------------------------------
    def _cluster_for(self, workers: int, scheduler: Optional[str]) -> Optional[Cluster]:
        """The session's cluster for these settings (None: train in this process); a
        cluster of other settings is shut down first."""
        if scheduler is None and workers == 0:
            return None
        if self.cluster is not None and (self.cluster.scheduler != scheduler
                                         or (scheduler is None and self.cluster.workers != workers)):
            self.cluster.close()
            self.cluster = None
        if self.cluster is None:
            self.cluster = Cluster(None if scheduler else workers, scheduler)
        return self.cluster

    def start(self) -> None:
        """Start the sweep of the form (returns at once)."""
        if self.running:
            return
        try:
            sweep = self.editor.sweep()
            cluster = self._cluster_for(self.editor.workers, self.editor.scheduler)
            infos = check_sweep(self.base, sweep)
        except (SpecError, SweepError) as exc:
            self._reason(exc.first_line if isinstance(exc, SpecError) else str(exc))
            return
        self._reason("")
        self.model.set_fields(infos)
        self._sort_by_metric()
        self.multiples.reset()
        self._rows, self._running = [], ()
        self.progress_bar.setValue(0)
        self.status_label.setText("")
        self.eta_label.setText("starting the cluster…" if cluster is not None else "starting…")
        base, dataset, base_dir = self.base, self.dataset, self.base_dir

        def launch() -> SweepRunner:
            from workbench.data import load_dataset

            data = dataset if dataset is not None else load_dataset(base.data, base_dir=base_dir)
            runner = SweepRunner(base, sweep, data, cluster=cluster, workers=0 if cluster is None else None)
            runner.start()
            return runner

        self._launch = self._pool.submit(launch)
        self.editor.set_running(True)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.timer.start()
        self.sweep_started.emit()

    def cancel(self) -> None:
        """Stop the sweep: running trials at their next epoch; finished rows stay."""
        if self.runner is not None:
            self.runner.cancel()
            self.eta_label.setText("cancelling: running trials stop at their next epoch…")
        elif self._launch is not None:
            self._launch.add_done_callback(lambda f: f.exception() is None and f.result().cancel())
        self.cancel_button.setEnabled(False)

    def shutdown(self) -> None:
        """Cancel what runs, wait for it (at most CLOSE_TIMEOUT s) and shut the local
        cluster down (no worker process is left).  The panel can start again afterwards."""
        self.timer.stop()
        if self._launch is not None:
            try:
                runner = self._launch.result(timeout=CLOSE_TIMEOUT)
                runner.close(CLOSE_TIMEOUT)
            except Exception:  # noqa: BLE001 - it failed to start: nothing to stop
                pass
            self._launch = None
        if self.runner is not None:
            self.runner.close(CLOSE_TIMEOUT)
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
        self._finish_ui()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    # -- polling -------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self._launch is not None:
            if not self._launch.done():
                return
            launch, self._launch = self._launch, None
            try:
                self.runner = launch.result()
            except Exception as exc:  # noqa: BLE001 - one line for the user
                text = exc.first_line if isinstance(exc, SpecError) else str(exc).splitlines()[0]
                self.eta_label.setText("")
                self._finish_ui(reason=text or type(exc).__name__)
                self.sweep_finished.emit("failed")
                return
            self._init_views()
        if self.runner is None:
            return
        progress = self.runner.poll()
        self.progress_ = progress
        self._show_progress(progress)
        changed = set(progress.curves) | {o.index for o in progress.new_outcomes}
        if progress.new_outcomes or set(progress.running) != set(self._running):
            self._running = progress.running
            self._update_rows(progress)
        if changed:
            self._update_multiples(progress, changed)
        if progress.over:
            self._finished(progress)

    def _init_views(self) -> None:
        runner = self.runner
        self._rows = R.rows(runner.trials, {})
        self.model.set_rows(self._rows)
        self._update_parallel()

    def _show_progress(self, p: SweepProgress) -> None:
        self.progress_bar.setValue(int(round(1000 * p.fraction)))
        if p.state == "starting":
            self.eta_label.setText("starting the cluster…")
        elif p.state in ("running", "cancelling"):
            left = "" if p.eta is None else f" · about {_duration(p.eta)} left"
            prefix = "cancelling · " if p.state == "cancelling" else ""
            self.eta_label.setText(f"{prefix}{p.done}/{p.total} trials · {_duration(p.elapsed)}{left}")

    def _update_rows(self, p: SweepProgress) -> None:
        runner = self.runner
        selected = self._selected_trial()
        self._rows = R.rows(runner.trials, p.outcomes, p.running)
        self._metric_key = R.metric_keys(o.result for o in p.outcomes.values())[0]
        self.model.set_rows(self._rows)
        if selected is not None:
            self._select_trial(selected)
        self._update_parallel()

    def _update_parallel(self) -> None:
        runner = self.runner
        axes = field_axes(runner.sweep, runner.infos, [t.point for t in runner.trials])
        lines = [(r.index, r.point, r.val_metric) for r in self._rows]
        label = {"val_accuracy": "val. accuracy", "val_r2": "val. R²"}.get(self._metric_key, "val. metric")
        self.parallel.set_data(axes, lines, label + " (best epoch)")

    def _update_multiples(self, p: SweepProgress, changed: set) -> None:
        runner = self.runner
        rows = {r.index: r for r in self._rows}
        curves = []
        for index in sorted(changed):
            outcome = p.outcomes.get(index)
            row = rows.get(index)
            if outcome is not None and outcome.result is not None:
                h = outcome.result.history
                epoch, train, val = h.get("epoch", ()), h.get("train_loss", ()), h.get("val_loss", ())
                metric = row.val_metric if row is not None else None
            elif index in p.curves or outcome is None:
                live = p.curves.get(index) or runner.curve(index)
                epoch, train, val = live.epoch, live.train_loss, live.val_loss
                finite = [m for m in live.val_metric if m is not None and math.isfinite(m)]
                metric = finite[-1] if finite else None
            else:
                continue  # failed or not run: no curve
            status = outcome.status if outcome is not None else "running"
            mark = {"stopped": " · cut short", "diverged": " · diverged", "failed": " · failed"}.get(status, "")
            shown = "—" if metric is None else f"{metric:.3f}"
            curves.append(TrialCurve(index, list(epoch), list(train), list(val), metric, status,
                                     f"#{index} · {shown}{mark}"))
        self.multiples.set_curves(curves, changed)

    def _finished(self, p: SweepProgress) -> None:
        self.timer.stop()
        self._update_rows(p)
        counts: dict[str, int] = {}
        for o in p.outcomes.values():
            counts[o.status] = counts.get(o.status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        if p.state == "failed":
            self.status_label.setText("")
        else:
            self.status_label.setText(f"{p.done} trials in {_duration(p.elapsed)}: {summary}"
                                      + (" (cancelled)" if p.state == "cancelled" else ""))
        self.eta_label.setText("")
        if p.state == "finished":
            self.progress_bar.setValue(1000)
        self._finish_ui(reason=p.error if p.state == "failed" else "")
        self.sweep_finished.emit(p.state)

    def _finish_ui(self, reason: str = "") -> None:
        """The form editable again; ``reason`` why the sweep failed stays shown (until the
        next edit)."""
        self.editor.set_running(False)
        self.cancel_button.setEnabled(False)
        self._edited()
        if reason:
            self._reason(reason)

    # -- rows ----------------------------------------------------------------------------------
    def _sort_by_metric(self) -> None:
        column = self.model.column_of("val_metric")
        self.table.horizontalHeader().setSortIndicator(column, Qt.SortOrder.DescendingOrder)
        self.model.sort(column, Qt.SortOrder.DescendingOrder)

    def _selected_row(self) -> Optional[int]:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _selected_trial(self) -> Optional[int]:
        row = self._selected_row()
        return self.model.rows[row].index if row is not None and row < len(self.model.rows) else None

    def _select_trial(self, trial: int) -> None:
        row = self.model.row_of(trial)
        if row is not None:
            self.table.selectRow(row)

    def _selection_changed(self, *_args) -> None:
        trial = self._selected_trial()
        self.parallel.highlight(trial)
        outcome = self.progress_.outcomes.get(trial) if self.progress_ is not None and trial is not None else None
        self.open_button.setEnabled(outcome is not None and outcome.result is not None)
        self.use_button.setEnabled(trial is not None)

    def runs_of(self, trial: int):
        """Trial ``trial`` as a SavedRun, or the tuple of its point's seeds' runs (those
        with results) when the sweep has several seeds per point; None without a result."""
        runner, p = self.runner, self.progress_
        if runner is None or p is None or trial not in p.outcomes or p.outcomes[trial].result is None:
            return None
        repeats = runner.sweep.repeats
        by_index = {t.index: t for t in runner.trials}
        if repeats == 1:
            return R.saved_run(by_index[trial], p.outcomes[trial], runner.infos)
        point = by_index[trial].point_index
        return tuple(R.saved_run(t, p.outcomes[t.index], runner.infos, repeats) for t in runner.trials
                     if t.point_index == point and t.index in p.outcomes and p.outcomes[t.index].result is not None)

    def _open_row(self, row: Optional[int]) -> None:
        if row is None or not 0 <= row < len(self.model.rows):
            return
        runs = self.runs_of(self.model.rows[row].index)
        if runs is not None:
            self.open_trial.emit(runs)

    def _use_selected(self) -> None:
        trial = self._selected_trial()
        if trial is None or self.runner is None:
            return
        point = next(t.point for t in self.runner.trials if t.index == trial)
        try:
            self.use_settings.emit(with_values(self.base, point))
        except SpecError as exc:
            self._reason(exc.first_line)

    # -- style ---------------------------------------------------------------------------------
    def apply_style(self, style: st.Style) -> None:
        """Theme and presentation scale: the plots' colours and pens, the fonts."""
        self.style_ = style
        self.parallel.apply_style(style)
        self.multiples.apply_style(style)
        font = st.scaled_font(st.base_font(), style)
        for w in (self.table, self.table.horizontalHeader(), self.editor, self.plan_label, self.eta_label,
                  self.status_label, self.start_button, self.cancel_button, self.open_button, self.use_button,
                  self.progress_bar, self.reason_label, self.parallel_caption, self.multiples_caption):
            w.setFont(font)
        for w in self.editor.findChildren(QWidget):
            w.setFont(font)
        styles = label_styles(style.dark)
        self.plan_label.setStyleSheet("font-weight: 600;")
        self.reason_label.setStyleSheet(styles["error"])
        self.status_label.setStyleSheet("")
        for caption in (self.parallel_caption, self.multiples_caption):
            caption.setStyleSheet(styles["note"])
        for label in self.editor.findChildren(QLabel):
            if label.property("note"):
                label.setStyleSheet(styles["note"])
        self.table.resizeColumnsToContents()
