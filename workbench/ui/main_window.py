"""The workbench window: layout and wiring.

The logic lives elsewhere, one job per module:

=====================  ===================================================================
``session``            the experiment being edited: spec, undo stack, data set, runs, file
``run_controller``     the run in progress: worker and thread, pause/step/stop, live changes
``window_runs``        Run, Repeat x N, pace and what follows a run (a part of the window)
``run_view``           what a run looks like: curves, read-out, progress, status messages
``comparison``         which runs the curves overlay, and a group's live members
``runs_panel``         the Runs dock: the table of runs, seeds, the paired difference
``timeline``           the slider over the shown run's epochs, Replay, the speed
``inside_link``        what the Inside dock shows (the worker's pictures, a run's weights)
``files``              New, Open, Save, export, recent files, drag and drop
``actions``            every action (menus, toolbar, shortcuts) declared once
``window_view``        themes, presentation mode, layout, Help (a part of the window)
``view_settings``      what the view remembers: theme, log scales, geometry
``docks``              where every dock goes and how big it starts
``editors``            one editor per spec section, each in a dock
=====================  ===================================================================

An edit flows: editor ``edited`` → :meth:`Session.propose` (validated, applied, an undo
step) → during a run ``Session.live_changed`` → :meth:`RunController.set_live` (the
trainer takes it at the next epoch), then ``Session.spec_changed`` (editors show it);
a refusal → ``Session.refused`` (the status bar and the editor say why).
A run flows: :meth:`RunController.start` → paced frames of events → :meth:`RunView.show`
(the shown member) and :meth:`Comparison.route` (a group's others) →
``RunController.finished`` → :meth:`Session.finish_runs`.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Optional

from PySide6.QtCore import QByteArray, QEvent, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QFontMetrics
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QProgressBar, QSplitter, QVBoxLayout, QWidget

from workbench.build import output_label, planned_lr, task_of
from workbench.spec import ExperimentSpec

from . import actions as acts
from . import boundary_source, dialogs
from .comparison import Comparison
from .data_loader import load_with_progress
from .docks import Docks, panel_dock
from .editors import EDITORS
from .files import FileController
from .inside import InsidePanel
from .inside_link import InsideLink
from .readout import ReadOut
from .run_controller import RunController
from .run_view import RunView, set_progress
from .runs_panel import RunsPanel
from .session import Session
from .style import apply_theme
from .sweep import SweepPanel
from .timeline import Timeline
from .view_settings import (
    STATE_VERSION,
    CURVES_MIN_HEIGHT,
    Presentation,
    ViewSettings,
    fit_to_screen,
    restore_geometry,
)
from .window_runs import RunActions
from .window_view import ViewActions



class MainWindow(RunActions, ViewActions, QMainWindow):
    """The workbench.  ``MainWindow(spec=None, settings=None)``; ``spec`` defaults to the
    ready-to-run default experiment; ``settings`` (a ``QSettings``) defaults to the
    application's (tests pass an INI file in a temporary folder)."""

    spec_changed = Signal(object)
    run_started = Signal()
    run_finished = Signal(object)  # RunResult
    run_failed = Signal(str)
    epochs_shown = Signal(int)  # number of training epochs on the curves after an update
    pause_changed = Signal(bool)
    boundary_shown = Signal()

    def __init__(self, spec: Optional[ExperimentSpec] = None, *, settings: Optional[QSettings] = None,
                 parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else QSettings(dialogs.ORG_NAME, dialogs.APP_NAME)
        self.view = ViewSettings.load(self.settings)
        self._dark = apply_theme(QApplication.instance(), self.view.theme) == "dark"  # before any plot exists
        self._presentation = Presentation()
        self._closing = False
        self._starting = False  # a run is being started (see RunActions.start_run)
        self._points_of = None  # the data set whose points the boundary view shows
        self.session = Session(spec, self)
        self.session.loader = lambda data_spec, base_dir: load_with_progress(self, data_spec, base_dir)

        self._build_central()
        self.editors = {section: cls() for section, cls in EDITORS.items()}
        self.run_controller = RunController(self, (self.curves, self.boundary), self._is_exposed, self._frame_rate)
        self._build_status_bar()
        self.run_view = RunView(self.curves, self.readout, self.progress, self.speed_label, self.time_label,
                                self._status)
        self.comparison = Comparison(self.session, self.curves)
        self._live_runs: list = []  # the runs training (member m = _live_runs[m])
        self.runs_panel = RunsPanel(self.session, self._parameters_of, self)
        self.timeline = Timeline(self.session, self.curves, self.boundary,
                                 lambda: self.dataset, lambda: self.timeline.pace.rate(), self)
        self.centralWidget().layout().addWidget(self.timeline)
        self.inside_panel = InsidePanel(self)
        self.sweep_panel = SweepPanel(self.spec, None, self.session.base_dir(), self)
        self.panels = Docks(self, self.editors, {
            "runs": panel_dock(self, "Runs", "runsDock", self.runs_panel),
            "inside": panel_dock(self, "Inside", "insideDock", self.inside_panel),
            "sweep": panel_dock(self, "Sweep", "sweepDock", self.sweep_panel)})
        self.docks = self.panels.editors
        self.inside = InsideLink(self.session, self.inside_panel, lambda: self.dataset,
                                 lambda: self.panels["inside"].isVisible(), self)
        self.files = FileController(self, self.session, self.run_controller, self.curves, self.settings,
                                    self._status, self._show_loaded, self.commit_typed)
        self.actions = acts.build_actions(self)
        theme_menu, self.theme_actions = acts.build_theme_menu(self, self.set_theme)
        self.toolbar = acts.build_toolbar(self, self.actions)
        self.recent_menu = self.files.recent_menu
        self.menus = acts.build_menus(self, self.actions, {
            "recent": self.recent_menu, "theme": theme_menu, "toolbar": self.toolbar.toggleViewAction(),
            "docks": self.panels.toggle_actions()})
        self.panels.place()
        self._wire()

        self._default_state: Optional[QByteArray] = None  # made on first show
        self._shown_once = False
        self._pending_state = restore_geometry(self, self.settings)
        for key, on in (("batches", self.view.show_batches), ("log", self.view.log_loss), ("log_lr", self.view.log_lr)):
            self.actions[key].setChecked(on)
        self._apply_theme(self.view.theme, save=False)
        QApplication.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)
        self._on_data_changed()
        self._sync_editors()
        self._update_actions()

    # ------------------------------------------------------------------ layout
    def _build_central(self) -> None:
        from .plots import BoundaryView, CurvesPanel

        central = QWidget(self)
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        self.readout = ReadOut(central)
        self.readout.set_scale(1.35)
        layout.addWidget(self.readout)
        self.note = QLabel(central)  # the opened file's description
        self.note.setObjectName("descriptionNote")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.setContentsMargins(10, 0, 10, 2)
        self.note.hide()
        layout.addWidget(self.note)
        self.stale_note = QLabel(central)  # the curves are of other settings than the docks'
        self.stale_note.setObjectName("staleNote")
        self.stale_note.setWordWrap(True)
        self.stale_note.setContentsMargins(10, 0, 10, 2)
        self.stale_note.hide()
        layout.addWidget(self.stale_note)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, central)
        self.splitter.setObjectName("centralSplitter")
        self.curves = CurvesPanel(self.splitter)
        self.curves.setObjectName("curvesPanel")
        self.boundary = BoundaryView(self.splitter)
        self.boundary.setObjectName("boundaryView")
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        # the curves stay readable when a bottom panel (Runs, Inside, Sweep) is open on a
        # short screen: the panel gets what is left (it scrolls)
        self.splitter.setMinimumHeight(CURVES_MIN_HEIGHT)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        sb.setObjectName("statusBar")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("epochProgress")
        self.progress.setMinimumWidth(220)
        self.progress.setMaximumWidth(320)
        self.progress.setFormat("epoch %v / %m")
        self.speed_label = QLabel("", self)
        self.speed_label.setObjectName("speedLabel")
        self.time_label = QLabel("", self)
        self.time_label.setObjectName("timeLabel")
        for w in (self.speed_label, self.time_label):
            w.setContentsMargins(8, 0, 8, 0)
            sb.addPermanentWidget(w)
        sb.addPermanentWidget(self.progress)
        set_progress(self.progress, 0, max(1, self.spec.training.epochs))
        self._size_status_labels()

    def _size_status_labels(self) -> None:
        """Room for the longest texts in the current application font (no clipped
        "samples/s", also in presentation mode), as a fixed size: a label of fixed size
        does not ask the layouts above it to be redone when its text changes (Qt's
        ``updateGeometry``), and these two change on every frame of a run -- each such
        request laid out the whole main window with its docks again (~0.5 ms)."""
        for label, longest in ((self.speed_label, "99,999,999 samples/s"),
                               (self.time_label, "elapsed 00:00:00 · left 000:00:00")):
            # the application's font now (presentation mode has just changed it; the
            # labels' own fonts follow later)
            fm = QFontMetrics(QApplication.font(label))
            label.setFixedSize(fm.horizontalAdvance(longest) + 20, fm.height())

    def _wire(self) -> None:
        s, rc = self.session, self.run_controller
        s.running = lambda: rc.running
        s.spec_changed.connect(self._on_spec_changed)
        s.live_changed.connect(rc.set_live)
        s.refused.connect(self._on_refused)
        rc.live_refused.connect(lambda reason: self._status(f"Not applied to the run: {reason}", 10000))
        s.data_changed.connect(self._on_data_changed)
        s.state_changed.connect(self._update_actions)
        s.current_changed.connect(self._on_current_changed)
        s.runs_changed.connect(lambda: self.panels.offer_runs(len(s.runs), self._status)
                               if not self.presentation_mode else None)
        for section, editor in self.editors.items():
            editor.edited.connect(partial(s.propose, section))
        rc.frame_events.connect(self._on_frame_events)
        rc.frame_boundary.connect(self._on_frame_boundary)
        rc.pause_changed.connect(self._on_pause_changed)
        rc.finished.connect(self._on_finished)
        rc.failed.connect(self._on_failed)
        self.runs_panel.repeat_requested.connect(self.repeat_run)
        self.runs_panel.refused.connect(lambda reason: self._status(reason[:1].upper() + reason[1:], 8000))
        rc.inside_ready.connect(self.inside.receive)
        inside_dock = self.panels["inside"]
        inside_dock.visibilityChanged.connect(lambda on: (rc.set_inside(on), self.inside.refresh() if on else None))
        self.timeline.epoch_shown.connect(self._inside_at_epoch)
        self.panels["sweep"].visibilityChanged.connect(lambda on: self._update_sweep_base() if on else None)
        self.sweep_panel.open_trial.connect(self._open_trial)
        self.sweep_panel.use_settings.connect(lambda spec: self.set_spec(spec, "settings of a sweep trial"))
        self.sweep_panel.sweep_started.connect(self._sweep_started)
        self.timeline.pace.currentIndexChanged.connect(lambda _i: self._on_pace_changed())
        self.runs_panel.members_check.toggled.connect(self.curves.overlays.set_show_members)

    # ------------------------------------------------------------------ state
    spec = property(lambda self: self.session.spec)
    dataset = property(lambda self: self.session.dataset)
    result = property(lambda self: self.session.result)
    path = property(lambda self: self.session.path)
    undo_stack = property(lambda self: self.session.undo_stack)
    result_is_current = property(lambda self: self.session.result_is_current)
    running = property(lambda self: self.run_controller.running)
    paused = property(lambda self: self.run_controller.paused)
    worker = property(lambda self: self.run_controller.worker)
    frame_stats = property(lambda self: self.run_controller.frame_stats)
    presentation_mode = property(lambda self: self._presentation.on)
    # what enables the actions (see actions.ACTIONS)
    idle = property(lambda self: not self.running)
    can_run = property(lambda self: (not self.running and self.dataset is not None) or (self.running and self.paused))
    can_repeat = property(lambda self: not self.running and self.dataset is not None)
    can_step = property(lambda self: self.running or self.dataset is not None)
    can_undo = property(lambda self: self.session.can_step(-1))
    can_redo = property(lambda self: self.session.can_step(+1))

    def is_dirty(self) -> bool:
        return self.session.is_dirty()

    def display_name(self) -> str:
        return self.session.display_name()

    # ------------------------------------------------------------------ edits
    def propose(self, section: str, value: Any) -> bool:
        """Edit ``section`` as its editor would (scripts, tests): True if the spec changed."""
        before = self.spec
        return not self.session.propose(section, value) and self.spec != before

    def set_spec(self, new: ExperimentSpec, text: str = "Change experiment") -> bool:
        """Replace the whole spec through the undo stack (scripts, tests); refused like an
        edit while a run trains (only live settings may change)."""
        return not self.session.set_spec(new, text)

    def _on_refused(self, section: str, reason: str) -> None:
        """An edit was not taken: the status bar says why, and its editor shows the
        setting in effect with the reason."""
        self._status(reason.splitlines()[0], 10000)
        editor = self.editors.get(section)
        if editor is not None:
            editor.set_value(getattr(self.spec, section))
            editor.show_error(reason)

    def commit_typed(self) -> str:
        """Commit a value typed but not yet entered in any editor ('' done, else why not)."""
        for section, editor in self.editors.items():
            reason = editor.commit_typed()
            if reason:
                self._bring_to_front(section)
                return reason
        return ""

    def undo(self) -> None:
        self.session.undo()

    def redo(self) -> None:
        self.session.redo()

    def _on_spec_changed(self, new: ExperimentSpec, old: ExperimentSpec) -> None:
        self._sync_editors()
        self._update_sweep_base()
        self._show_stale()
        self._update_actions()
        self.spec_changed.emit(new)

    def _update_sweep_base(self) -> None:
        """The Sweep dock sweeps the docks' settings: kept up to date while it is shown
        (rebuilding its form costs ~5 ms, too much for every edit of a hidden dock)."""
        if self.panels["sweep"].isVisible():
            self.sweep_panel.set_base(self.spec, self.dataset, self.session.base_dir())

    def _sync_editors(self) -> None:
        s = self.spec
        for section, editor in self.editors.items():
            if editor.value() != getattr(s, section):
                editor.set_value(getattr(s, section))
        self.editors["schedule"].set_context(s.optimizer.lr, s.training.epochs)
        if not self.running:
            set_progress(self.progress, self.progress.value(), max(1, s.training.epochs))
        self._show_plan()

    def _show_plan(self) -> None:
        """Empty curves show the planned epochs and learning rate."""
        if self.running or self.curves.history_length():
            return
        try:
            self.curves.show_plan(planned_lr(self.spec), self.spec.training.epochs)
        except ValueError:
            self.curves.show_plan(None, self.spec.training.epochs)

    def _on_data_changed(self) -> None:
        ds = self.dataset
        self.editors["data"].set_preview(ds)
        self._update_sweep_base()
        if ds is None:
            if self.session.data_error:
                self._status(self.session.data_error, 15000)
                self.editors["data"].show_error(self.session.data_error)
        else:
            task, n_out = task_of(ds)
            self.editors["architecture"].set_io(int(ds.X_train.shape[1]), n_out, output_label(task))
            self.editors["early_stopping"].set_task(task)
            self.curves.set_metric_kind("accuracy" if ds.task == "classification" else "r2")
        self._show_points()
        self._update_actions()

    def _show_points(self, keep: bool = False) -> None:
        """The data set's points in the boundary view; ``keep``: the view shows this data
        set already, only its prediction is cleared (a new run)."""
        ds = self.dataset
        if keep and self._points_of is ds:
            self.boundary.clear_prediction()
            return
        self.boundary.clear()
        self._points_of = None
        info = boundary_source.boundary_info(ds)
        # the view exists for 2-D classification and 1-D regression; otherwise the curves take its place
        self.boundary.setVisible(info is not None)
        if info is not None:
            boundary_source.set_points(self.boundary, ds, info)
            self._points_of = ds

    # ------------------------------------------------------------------ files
    def new_experiment(self) -> bool:
        return self.files.new_experiment()

    def open_dialog(self) -> bool:
        return self.files.open_dialog()

    def open_path(self, path, *, ask: bool = True) -> bool:
        return self.files.open_path(path, ask=ask)

    def save(self) -> bool:
        return self.files.save()

    def save_as(self) -> bool:
        return self.files.save_as()

    def save_to(self, path) -> bool:
        return self.files.save_to(path)

    def export_dialog(self, kind: str) -> bool:
        return self.files.export_dialog(kind)

    def export(self, kind: str, path) -> bool:
        return self.files.export(kind, path)

    def export_png(self) -> bool:
        return self.export_dialog("png")

    def export_svg(self) -> bool:
        return self.export_dialog("svg")

    def export_csv(self) -> bool:
        return self.export_dialog("csv")

    def recent_files(self) -> list[str]:
        return self.files.recent_files()

    def _show_loaded(self, spec: ExperimentSpec, description: str) -> None:
        """New or Open replaced the experiment (the session's signals drew its run)."""
        self._sync_editors()
        self.timeline.pace.set_rate(self.session.view.pace)
        if self.session.sweep is not None:
            self.sweep_panel.set_sweep(self.session.sweep)
        self.note.setText(description)
        self.note.setVisible(bool(description))
        self._update_actions()

    def _show_boundary_from_weights(self, run) -> None:
        """A run with weights shows its decision boundary without retraining (weights
        that do not decode or fit the network are ignored)."""
        try:
            payload = boundary_source.payload_from_weights(run.spec, self.dataset, run.result.weights)
        except Exception:  # noqa: BLE001 - a picture is optional
            return
        if payload is not None:
            boundary_source.show_payload(self.boundary, payload)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        event.acceptProposedAction() if self.files.dropped_file(event.mimeData()) else event.ignore()

    dragMoveEvent = dragEnterEvent  # noqa: N815 - Qt override

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        event.acceptProposedAction() if self.files.drop(event.mimeData()) else event.ignore()

    # ------------------------------------------------------------------ show, close
    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.DevicePixelRatioChange and not self._closing:
            self._restyle()  # moved to a screen with another pixel ratio: line widths follow

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.panels.arrange_default(self.splitter)
            fit_to_screen(self)  # the docks' first layout may have asked for more room
            self._default_state = self.saveState(STATE_VERSION)
            if self._pending_state is not None:
                self.restoreState(self._pending_state, STATE_VERSION)
                self._pending_state = None

    def save_layout(self) -> None:
        if not self._shown_once:
            return
        state = self._presentation.state if self.presentation_mode else self.saveState(STATE_VERSION)
        geometry = self._presentation.geometry if self.presentation_mode else self.saveGeometry()
        self.settings.setValue("window/geometry", geometry)
        self.settings.setValue("window/state", state)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.files.maybe_discard():
            event.ignore()
            return
        self.shutdown_worker()
        self.sweep_panel.shutdown()  # its workers stop (at most a few seconds) and its cluster goes
        self.save_layout()
        self._closing = True
        if self.presentation_mode:
            self._presentation.leave(self)
        event.accept()
