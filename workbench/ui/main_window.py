"""The workbench window: docks around the curves, a training worker, files, undo.

One source of truth: the window owns the current frozen :class:`ExperimentSpec`.
A dock's ``edited(part)`` becomes a :class:`~workbench.ui.commands.SpecCommand` on the
undo stack; applying a command replaces the spec and shows it again on every dock
(``set_value`` emits nothing, so there are no loops).  Data edits are loaded first
(``load_dataset``); a :class:`~workbench.data.DataError` is shown and the spec kept.

Run hands the spec (and the loaded data set) to a :class:`TrainingWorker` on a
``QThread``; its batched ``events_ready`` signals are drawn in paced frames by a
:class:`~workbench.ui.frame_pacer.FramePacer` (curves, read-out, progress, boundary
image); ``finished`` brings the :class:`RunResult` that Save writes.

The dialogs (:mod:`workbench.ui.dialogs`) are called through this module's names so
tests can replace them here.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Optional

from PySide6.QtCore import QByteArray, QEvent, QSettings, QSize, Qt, QThread, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QFont, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from workbench import spec as specmod
from workbench.engine.events import (
    BatchEnd,
    Diverged,
    EarlyStop,
    EpochEnd,
    LearningRateChanged,
    PhaseStarted,
    SettingChanged,
)
from workbench.spec import ExperimentSpec, RunResult

from . import boundary_source
from .commands import SpecCommand, live_changes
from .dialogs import APP_NAME, FILE_FILTER, ORG_NAME, ask_save_changes, get_open_path, get_save_path, show_error
from .frame_pacer import GUI_BUDGET, FramePacer, GcGuard
from .readout import ReadOut, fmt_duration
from .worker import TrainingWorker

MAX_RECENT = 8
STATE_VERSION = 3
DEFAULT_SIZE = QSize(1600, 1000)
SHUTDOWN_TIMEOUT_MS = 2000
#: A run that has trained this long counts as unsaved work: closing, New and Open ask
#: first (a shorter one is simply stopped, as closing a window mid-demo expects).
LIVE_WORK_SECONDS = 10.0

# ---------------------------------------------------------------------------
class MainWindow(QMainWindow):
    """The workbench.  ``MainWindow(spec=None, settings=None)``; ``spec`` defaults to
    the ready-to-run default experiment; ``settings`` (a ``QSettings``) defaults to the
    application's (tests pass an INI file in a temporary folder)."""

    spec_changed = Signal(object)
    run_started = Signal()
    run_finished = Signal(object)  # RunResult
    run_failed = Signal(str)
    epochs_shown = Signal(int)  # number of training epochs on the curves after an update
    pause_changed = Signal(bool)
    boundary_shown = Signal()

    def __init__(
        self,
        spec: Optional[ExperimentSpec] = None,
        *,
        settings: Optional[QSettings] = None,
        parent: Optional[QWidget] = None,
    ):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else QSettings(ORG_NAME, APP_NAME)
        self._spec: ExperimentSpec = spec if spec is not None else ExperimentSpec()
        self._dataset = None
        self._points_of = None  # the data set whose points the boundary view shows
        self._data_error = ""
        self._dataset_cache: dict[Any, Any] = {}
        self._path: Optional[Path] = None
        self._result: Optional[RunResult] = None
        self._result_spec: Optional[ExperimentSpec] = None  # the settings that produced it
        self._result_dirty = False
        self._worker: Optional[TrainingWorker] = None
        self._thread: Optional[QThread] = None
        self._run_spec: Optional[ExperimentSpec] = None
        self._paused = False
        self._closing = False
        self._presentation = False
        self._saved_font: Optional[QFont] = None
        self._saved_state: Optional[QByteArray] = None
        self._theme = str(self.settings.value("theme", "system") or "system")
        self._dark = False
        self._epochs_done = 0
        self._last_epoch: Optional[EpochEnd] = None
        self._t_start = 0.0
        self._t_paused = 0.0
        self._t_pause_began: Optional[float] = None
        self._diverged_text = ""
        self._gc_guard = GcGuard(self)

        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_undo_changed)
        self.undo_stack.indexChanged.connect(self._on_undo_changed)

        # the theme first: pyqtgraph widgets take their colours when they are created
        from .style import apply_theme  # noqa: PLC0415

        if self._theme not in ("system", "light", "dark"):
            self._theme = "system"
        self._dark = apply_theme(QApplication.instance(), self._theme) == "dark"

        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()

        self.resize(DEFAULT_SIZE)
        self._default_state: Optional[QByteArray] = None  # made on first show
        self._shown_once = False
        self._pending_state: Optional[QByteArray] = None
        self._restore_layout()
        self._apply_theme(self._theme, save=False)
        hints = QApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._on_color_scheme_changed)

        self._reload_dataset(show_errors=True)
        self._sync_all()
        self._update_run_actions()
        self._update_undo_actions()
        self._update_title()

    # ------------------------------------------------------------------ building
    def _build_central(self) -> None:
        from .plots import BoundaryView, CurvesPanel  # noqa: PLC0415

        central = QWidget(self)
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        self.readout = ReadOut(central)
        self.readout.set_scale(1.35)
        layout.addWidget(self.readout)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, central)
        self.splitter.setObjectName("centralSplitter")
        self.curves = CurvesPanel(self.splitter)
        self.curves.setObjectName("curvesPanel")
        self.boundary = BoundaryView(self.splitter)
        self.boundary.setObjectName("boundaryView")
        self.splitter.addWidget(self.curves)
        self.splitter.addWidget(self.boundary)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.frames = FramePacer(self, (self.curves, self.boundary), self._show_events,
                                 self._show_boundary_payload, self._is_exposed)

    def _build_docks(self) -> None:
        from .docks import (  # noqa: PLC0415
            ArchitectureDock,
            DataDock,
            EarlyStoppingDock,
            OptimizerDock,
            RegularizationDock,
            ScheduleDock,
            TrainingDock,
        )

        s = self._spec
        self.docks = {
            "data": _make_dock(DataDock, s.data, self),
            "architecture": _make_dock(ArchitectureDock, s.architecture, self),
            "optimizer": _make_dock(OptimizerDock, s.optimizer, self),
            "regularization": _make_dock(RegularizationDock, s.regularization, self),
            "schedule": _make_dock(ScheduleDock, s.schedule, self),
            "early_stopping": _make_dock(EarlyStoppingDock, s.early_stopping, self),
            "training": _make_dock(TrainingDock, s.training, self),
        }
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        d = self.docks
        # left: the data and the network; right: how it learns.  The tab groups are made
        # when the window is first shown (_arrange_default_layout): tabifying before
        # that leaves a stray, visible tab bar behind (Qt 6.10).
        self.addDockWidget(left, d["data"])
        self.addDockWidget(left, d["architecture"], Qt.Orientation.Vertical)
        for key in ("optimizer", "regularization"):
            self.addDockWidget(right, d[key])
        for key in ("schedule", "early_stopping", "training"):
            self.addDockWidget(right, d[key], Qt.Orientation.Vertical)
        for section, dock in d.items():
            dock.edited.connect(lambda value, section=section: self.propose(section, value))

    def _arrange_default_layout(self) -> None:
        """Tab groups and sizes of the default layout (on a visible window)."""
        d = self.docks
        self.tabifyDockWidget(d["optimizer"], d["regularization"])
        self.tabifyDockWidget(d["schedule"], d["early_stopping"])
        d["optimizer"].raise_()
        d["schedule"].raise_()
        self._default_dock_sizes()

    def _default_dock_sizes(self) -> None:
        d = self.docks
        self.resizeDocks([d["data"], d["optimizer"]], [320, 320], Qt.Orientation.Horizontal)  # their minimum widths
        total = max(400, self.splitter.width())
        self.splitter.setSizes([int(total * 0.6), total - int(total * 0.6)])
        # heights in proportion to what each dock's content asks for (the tab groups by
        # their taller page), so that little needs scrolling
        def want(*docks) -> int:
            return max(dock.widget().sizeHint().height() for dock in docks) + 28

        # the data dock (whose preview would otherwise be cut) first; the architecture
        # dock keeps its parameter count at the top, so it may scroll at the bottom
        left = d["data"].height() + d["architecture"].height()
        data_h = min(want(d["data"]), left - 300)
        self.resizeDocks([d["data"], d["architecture"]], [data_h, left - data_h], Qt.Orientation.Vertical)
        self.resizeDocks([d["optimizer"], d["schedule"], d["training"]],
                         [want(d["optimizer"], d["regularization"]), want(d["schedule"], d["early_stopping"]),
                          want(d["training"])], Qt.Orientation.Vertical)

    def _action(self, text: str, slot: Callable | None = None, shortcut=None, icon: QStyle.StandardPixmap | None = None,
                tip: str = "", checkable: bool = False, name: str = "") -> QAction:
        act = QAction(text, self)
        if name:
            act.setObjectName(name)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                act.setShortcuts([QKeySequence(k) for k in shortcut])
            else:
                act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if icon is not None:
            act.setIcon(self.style().standardIcon(icon))
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in act.shortcuts())
        act.setToolTip(f"{tip or text.replace('&', '')}" + (f" ({keys})" if keys else ""))
        act.setStatusTip(tip or text.replace("&", ""))
        act.setCheckable(checkable)
        if slot is not None:
            (act.toggled if checkable else act.triggered).connect(slot)
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        K = QKeySequence.StandardKey
        a = self._action
        # files
        self.act_new = a("&New", self.new_experiment, K.New, SP.SP_FileIcon, "New experiment (the default)", name="actNew")
        self.act_open = a("&Open…", self.open_dialog, K.Open, SP.SP_DialogOpenButton, "Open an experiment file", name="actOpen")
        self.act_save = a("&Save", self.save, K.Save, SP.SP_DialogSaveButton, "Save the experiment and its last results", name="actSave")
        self.act_save_as = a("Save &As…", self.save_as, "Ctrl+Shift+S", None, "Save under a new name", name="actSaveAs")
        self.act_export_png = a("Plots as &PNG…", lambda: self.export_dialog("png"), name="actExportPng")
        self.act_export_svg = a("Plots as &SVG…", lambda: self.export_dialog("svg"), name="actExportSvg")
        self.act_export_csv = a("History as &CSV…", lambda: self.export_dialog("csv"), name="actExportCsv")
        self.act_quit = a("&Quit", self.close, K.Quit, None, "Close the workbench", name="actQuit")
        # edit
        self.act_undo = a("&Undo", self.undo, K.Undo, SP.SP_ArrowBack, "Undo the last change", name="actUndo")
        self.act_redo = a("&Redo", self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], SP.SP_ArrowForward, "Redo", name="actRedo")
        # run
        self.act_run = a("&Run", self.start_run, "F5", SP.SP_MediaPlay,
                         "Train from the seed (re-running reproduces the same curves)", name="actRun")
        self.act_pause = a("&Pause", self.set_paused, "F6", SP.SP_MediaPause,
                           "Pause / resume training", checkable=True, name="actPause")
        self.act_step = a("S&tep one epoch", self.step_epoch, "F10", SP.SP_MediaSkipForward,
                          "Train one more epoch, then pause", name="actStep")
        self.act_stop = a("St&op", self.stop_run, "Esc", SP.SP_MediaStop, "Stop training (keeps the results so far)",
                          name="actStop")
        self.act_reset = a("R&eset curves", self.reset_curves, "Ctrl+R", SP.SP_BrowserReload,
                           "Clear the curves and the last results", name="actReset")
        # view
        self.act_presentation = a("&Presentation mode", self.set_presentation_mode, ["F11", "Ctrl+Shift+P"], None,
                                  "Large fonts, thick curves, only the plots: for sharing a screen",
                                  checkable=True, name="actPresentation")
        self.act_reset_layout = a("Reset &layout", self.reset_layout, None, None, "Put every panel back",
                                  name="actResetLayout")
        self.act_batches = a("Show &batch losses", self._set_show_batches, None, None,
                             "Faint per-batch training loss", checkable=True, name="actBatches")
        self.act_log = a("&Log-scale loss", self._set_log_scale, "Ctrl+L", None, "Logarithmic loss axis",
                         checkable=True, name="actLogScale")
        self.act_log_lr = a("Log-scale &η", self._set_lr_log_scale, "Ctrl+Shift+L", None,
                            "Logarithmic learning-rate axis (decays over decades read as lines)",
                            checkable=True, name="actLogScaleLr")

    def _build_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.act_new, self.act_open])
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.setObjectName("recentMenu")
        m.addSeparator()
        m.addActions([self.act_save, self.act_save_as])
        export = m.addMenu("&Export")
        export.addActions([self.act_export_png, self.act_export_svg, self.act_export_csv])
        m.addSeparator()
        m.addAction(self.act_quit)
        self._rebuild_recent_menu()

        m = mb.addMenu("&Edit")
        m.addActions([self.act_undo, self.act_redo])

        m = mb.addMenu("&Run")
        m.addActions([self.act_run, self.act_pause, self.act_step, self.act_stop])
        m.addSeparator()
        m.addAction(self.act_reset)

        m = self.view_menu = mb.addMenu("&View")
        self.dock_actions = {}
        for section, dock in self.docks.items():
            act = dock.toggleViewAction()
            act.setObjectName(f"toggle_{section}")
            self.dock_actions[section] = act
            m.addAction(act)
        m.addSeparator()
        m.addAction(self.act_reset_layout)
        m.addSeparator()
        m.addActions([self.act_batches, self.act_log, self.act_log_lr])
        m.addSeparator()
        m.addAction(self.act_presentation)
        theme_menu = m.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        self.theme_group.setExclusive(True)
        self.theme_actions = {}
        for key, label in (("system", "&System"), ("light", "&Light"), ("dark", "&Dark")):
            act = QAction(label, self, checkable=True)
            act.setObjectName(f"theme_{key}")
            act.triggered.connect(lambda _checked=False, key=key: self.set_theme(key))
            self.theme_group.addAction(act)
            theme_menu.addAction(act)
            self.theme_actions[key] = act

    def _build_toolbar(self) -> None:
        tb = QToolBar("Run", self)
        tb.setObjectName("runToolBar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setMovable(True)
        tb.addActions([self.act_run, self.act_pause, self.act_step, self.act_stop])
        tb.addSeparator()
        tb.addAction(self.act_reset)
        tb.addSeparator()
        tb.addActions([self.act_undo, self.act_redo])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb
        self.view_menu.insertAction(self.act_reset_layout, tb.toggleViewAction())

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        sb.setObjectName("statusBar")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("epochProgress")
        self.progress.setMinimumWidth(220)
        self.progress.setMaximumWidth(320)
        self.progress.setRange(0, max(1, self._spec.training.epochs))
        self.progress.setValue(0)
        self.progress.setFormat("epoch %v / %m")
        self.progress.setTextVisible(True)
        self.speed_label = QLabel("", self)
        self.speed_label.setObjectName("speedLabel")
        self.time_label = QLabel("", self)
        self.time_label.setObjectName("timeLabel")
        self._size_status_labels()
        for w in (self.speed_label, self.time_label):
            w.setContentsMargins(8, 0, 8, 0)
        sb.addPermanentWidget(self.speed_label)
        sb.addPermanentWidget(self.time_label)
        sb.addPermanentWidget(self.progress)

    def _size_status_labels(self) -> None:
        """Room for the longest texts in the current application font (no clipped
        "samples/s", also in presentation mode)."""
        from PySide6.QtGui import QFontMetrics  # noqa: PLC0415

        fm = QFontMetrics(QApplication.font())
        self.speed_label.setMinimumWidth(fm.horizontalAdvance("9,999,999 samples/s") + 20)
        self.time_label.setMinimumWidth(fm.horizontalAdvance("elapsed 0:00:00 · left 0:00:00") + 20)

    # ------------------------------------------------------------------ properties
    @property
    def spec(self) -> ExperimentSpec:
        return self._spec

    @property
    def dataset(self):
        return self._dataset

    @property
    def result(self) -> Optional[RunResult]:
        return self._result

    @property
    def path(self) -> Optional[Path]:
        return self._path

    @property
    def running(self) -> bool:
        return self._worker is not None

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def worker(self) -> Optional[TrainingWorker]:
        return self._worker

    @property
    def presentation_mode(self) -> bool:
        return self._presentation

    @property
    def result_is_current(self) -> bool:
        """The last results came from the current settings (Save writes only those)."""
        return self._result is not None and self._result_spec == self._spec

    def is_dirty(self) -> bool:
        return (not self.undo_stack.isClean()) or self._result_dirty

    def display_name(self) -> str:
        return self._path.name if self._path is not None else self._spec.name

    # ------------------------------------------------------------------ spec edits
    def propose(self, section: str, value: Any) -> bool:
        """A dock edited ``section``: validate, load data if needed, push an undo command.

        Returns True if the spec changed."""
        old = self._spec
        if getattr(old, section) == value:
            return False
        try:
            new = specmod.replace(old, "", **{section: value})
        except specmod.SpecError as exc:
            self._refuse(section, str(exc))
            return False
        if self.running and live_changes(old, new) is None:
            self._refuse(section, "This setting is locked while training — Stop first.")
            return False
        if section == "data":
            try:
                self._dataset_for(new.data)
            except Exception as exc:  # DataError (and friends): keep the previous spec
                self._refuse(section, f"data: {_first_line(exc)}")
                return False
        self.undo_stack.push(SpecCommand(self._apply_spec, old, new))
        return True

    def set_spec(self, new: ExperimentSpec, text: str = "Change experiment") -> None:
        """Replace the whole spec through the undo stack (e.g. a script or test)."""
        if new != self._spec:
            self.undo_stack.push(SpecCommand(self._apply_spec, self._spec, new, text))

    def _refuse(self, section: str, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        dock = self.docks.get(section)
        if dock is not None:
            dock.set_value(getattr(self._spec, section))
            _show_dock_error(dock, message)

    def _apply_spec(self, new: ExperimentSpec) -> None:
        """Make ``new`` current (called by the undo commands)."""
        old = self._spec
        self._spec = new
        if new.data != old.data or self._dataset is None:
            self._reload_dataset(show_errors=True)
        if self.running and self._worker is not None:
            live = live_changes(old, new)
            if live:
                self._worker.set_live(**live)
            self._result_spec = new  # the run goes on with these settings
        self._sync_all()
        self._update_title()
        self._update_undo_actions()
        self.spec_changed.emit(new)

    def _dataset_for(self, data_spec):
        """The loaded data set of ``data_spec`` (cached); raises DataError."""
        from workbench.data import load_dataset  # noqa: PLC0415

        key = (data_spec, str(self._base_dir()))
        if key in self._dataset_cache:
            return self._dataset_cache[key]
        ds = load_dataset(data_spec, self._base_dir())
        if len(self._dataset_cache) >= 6:
            self._dataset_cache.pop(next(iter(self._dataset_cache)))
        self._dataset_cache[key] = ds
        return ds

    def _base_dir(self) -> Path:
        return self._path.parent if self._path is not None else Path.cwd()

    def _reload_dataset(self, show_errors: bool) -> None:
        try:
            self._dataset = self._dataset_for(self._spec.data)
            self._data_error = ""
        except Exception as exc:
            self._dataset = None
            self._data_error = f"data: {_first_line(exc)}"
            if show_errors:
                self.statusBar().showMessage(self._data_error, 15000)
                _show_dock_error(self.docks["data"], self._data_error)
        self._show_dataset()

    def _show_dataset(self) -> None:
        ds = self._dataset
        data_dock = self.docks["data"]
        if hasattr(data_dock, "set_preview"):
            data_dock.set_preview(ds)
        arch = self.docks["architecture"]
        if ds is not None:
            from workbench.build import output_label, task_of  # noqa: PLC0415

            task, n_out = task_of(ds)
            arch.set_io(int(ds.X_train.shape[1]), n_out, output_label(task))
            self.docks["early_stopping"].set_task(task)
            if hasattr(self.curves, "set_metric_kind"):
                self.curves.set_metric_kind("accuracy" if ds.task == "classification" else "r2")
        self._show_points()
        self._update_run_actions()

    def _show_points(self, keep: bool = False) -> None:
        """The data set's points in the boundary view; ``keep``: the view shows this data
        set already, only its prediction is cleared (a new run)."""
        if keep and self._points_of is self._dataset:
            self.boundary.clear_prediction()
            return
        self.boundary.clear()
        self._points_of = None
        info = boundary_source.boundary_info(self._dataset)
        # the view exists for 2-D classification and 1-D regression; otherwise the curves take its place
        self.boundary.setVisible(info is not None)
        if info is None:
            return
        boundary_source.set_points(self.boundary, self._dataset, info)
        self._points_of = self._dataset

    def _sync_all(self) -> None:
        s = self._spec
        for section, dock in self.docks.items():
            part = getattr(s, section)
            if dock.value() != part:
                dock.set_value(part)
        sched = self.docks["schedule"]
        if hasattr(sched, "set_context"):
            sched.set_context(s.optimizer.lr, s.training.epochs)
        if not self.running:
            self.progress.setRange(0, max(1, s.training.epochs))
        self._show_plan()

    def _show_plan(self) -> None:
        """Empty curves show the planned epochs and learning rate (see CurvesPanel.show_plan)."""
        if self.running or self.curves.history_length():
            return
        # the Schedule dock's preview: computed for the current spec in _sync_all
        self.curves.show_plan(self.docks["schedule"].preview_data(), self._spec.training.epochs)

    # ------------------------------------------------------------------ undo
    def undo(self) -> None:
        if self._can_step_undo(-1):
            self.undo_stack.undo()

    def redo(self) -> None:
        if self._can_step_undo(+1):
            self.undo_stack.redo()

    def _can_step_undo(self, direction: int) -> bool:
        stack = self.undo_stack
        index = stack.index() - 1 if direction < 0 else stack.index()
        if index < 0 or index >= stack.count():
            return False
        if not self.running:
            return True
        cmd = stack.command(index)
        return getattr(cmd, "live", None) is not None

    @Slot()
    def _on_undo_changed(self, *_args) -> None:
        if self._closing:
            return
        try:
            self._update_undo_actions()
        except RuntimeError:  # the stack is being destroyed with the window
            pass

    def _update_undo_actions(self) -> None:
        stack = self.undo_stack
        self.act_undo.setEnabled(self._can_step_undo(-1))
        self.act_redo.setEnabled(self._can_step_undo(+1))
        self.act_undo.setText(f"&Undo {stack.undoText()}".rstrip())
        self.act_redo.setText(f"&Redo {stack.redoText()}".rstrip())
        self.act_undo.setIconText("Undo")  # the toolbar stays short; the menu names the change
        self.act_redo.setIconText("Redo")
        self.act_undo.setToolTip(f"Undo {stack.undoText()} (Ctrl+Z)".replace("  ", " "))
        self.act_redo.setToolTip(f"Redo {stack.redoText()} (Ctrl+Shift+Z)".replace("  ", " "))
        self._update_title()

    # ------------------------------------------------------------------ title
    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.display_name()}[*] — {APP_NAME}")
        self.setWindowModified(self.is_dirty())

    # ------------------------------------------------------------------ run
    def start_run(self, *, paused: bool = False) -> bool:
        """Run (F5): start a new run of the current spec (or resume a paused one)."""
        if self.running:
            if self._paused and not paused:
                self.set_paused(False)
            return False
        if self._dataset is None:
            msg = self._data_error or "No data set loaded."
            self.statusBar().showMessage(f"Cannot run: {msg}", 10000)
            return False
        spec = self._spec
        from workbench.build import check_fits  # noqa: PLC0415

        try:
            check_fits(spec, self._dataset)
        except specmod.SpecError as exc:
            self.statusBar().showMessage(f"Cannot run: {exc.first_line}", 15000)
            section = exc.errors[0][0].split(".")[0]
            if section in self.docks:
                dock = self.docks[section]
                _show_dock_error(dock, f"Cannot run: {exc.first_line}")
                if not self._presentation:  # bring the reason into view (it may be a hidden tab)
                    dock.show()
                    dock.raise_()
            return False
        self._run_spec = spec
        self._result = None
        self._result_spec = spec
        self._diverged_text = ""
        self._epochs_done = 0
        self._last_epoch = None
        self.frames.reset()
        self.curves.reset()
        if hasattr(self.curves, "set_metric_kind"):
            self.curves.set_metric_kind("accuracy" if self._dataset.task == "classification" else "r2")
        self.curves.set_show_batches(self.act_batches.isChecked())
        self.curves.set_live(True, spec.training.epochs)
        self._show_points(keep=True)
        self.progress.setRange(0, max(1, spec.training.epochs))
        self.progress.setValue(0)
        self.readout.setText(f"<b>Epoch 0</b> / {spec.training.epochs} — starting…")

        worker = TrainingWorker(spec, self._dataset, boundary=boundary_source.make_boundary_fn(self._dataset), start_paused=paused,
                                gui_budget=GUI_BUDGET)
        thread = QThread()
        thread.setObjectName("trainingThread")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # quit the thread's event loop as soon as run() is over (direct: called in the worker thread)
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.events_ready.connect(self._on_events)
        worker.boundary_ready.connect(self._on_boundary)
        worker.pause_changed.connect(self._on_pause_changed)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._worker, self._thread = worker, thread
        self.frames.attach(worker)
        self._gc_guard.set_running(True)
        self._paused = paused
        self._t_start = time.perf_counter()
        self._t_paused = 0.0
        self._t_pause_began = self._t_start if paused else None
        for dock in self.docks.values():
            dock.set_running(True)
        with _blocked(self.act_pause):
            self.act_pause.setChecked(paused)
        self._update_run_actions()
        self._update_undo_actions()
        self.statusBar().showMessage(
            "Training — data, architecture, schedule and training settings are locked; "
            "the learning rate and L1/L2/weight decay can change live", 8000)
        thread.start()
        self.run_started.emit()
        return True

    def set_paused(self, paused: bool) -> None:
        """Pause/Resume (F6)."""
        if self._worker is None:
            with _blocked(self.act_pause):
                self.act_pause.setChecked(False)
            return
        if paused:
            self._worker.pause()
        else:
            self._worker.resume()
        with _blocked(self.act_pause):
            self.act_pause.setChecked(paused)

    def step_epoch(self) -> None:
        """Step one epoch (F10): train one more epoch, then pause (starts a paused run)."""
        if self._worker is None:
            if not self.start_run(paused=True):
                return
        assert self._worker is not None
        self._worker.step_epoch()
        with _blocked(self.act_pause):
            self.act_pause.setChecked(True)

    def stop_run(self) -> None:
        """Stop (Esc): end the run after the current batch; the results so far are kept."""
        if self._worker is not None:
            self._worker.stop()
            self.statusBar().showMessage("Stopping…", 3000)

    def reset_curves(self) -> None:
        """Clear the curves and forget the last run's results."""
        if self.running:
            return
        had = self._result is not None
        self._result = None
        if had:
            self._result_dirty = True
        self.curves.reset()
        self._show_plan()
        self._show_points(keep=True)
        self.progress.setValue(0)
        self.readout.clear_values()
        self.speed_label.setText("")
        self.time_label.setText("")
        self._update_title()

    # ------------------------------------------------------------------ live frames
    # The worker's batches are drawn in paced frames (see frame_pacer.FramePacer).
    @Slot(list)
    def _on_events(self, events: list) -> None:
        if not self._closing:
            self.frames.add_events(events)

    @property
    def frame_stats(self) -> dict:
        """Frames drawn during runs, the seconds the worker was held for them, the longest hold."""
        return self.frames.stats

    def _is_exposed(self) -> bool:
        window = self.windowHandle()
        return window is not None and window.isExposed()

    def _show_boundary_payload(self, payload: dict) -> None:
        boundary_source.show_payload(self.boundary, payload)
        self.boundary_shown.emit()

    def _show_events(self, events: list) -> None:
        # one pass, by exact type: a frame may carry thousands of events
        epochs: list[EpochEnd] = []
        batches: list[BatchEnd] = []
        others: list = []
        for ev in events:
            kind = type(ev)
            if kind is BatchEnd:
                batches.append(ev)
            elif kind is EpochEnd:
                epochs.append(ev)
            else:
                others.append(ev)
        if batches:
            self.curves.add_batches(batches)
        if epochs:
            self.curves.add_epochs(epochs)
        for ev in others:
            if isinstance(ev, LearningRateChanged):
                self.curves.add_marker(ev.kind, ev.epoch, f"η {ev.old_lr:.3g} → {ev.new_lr:.3g}")
            elif isinstance(ev, SettingChanged):
                kind = "lr_change" if ev.name == "lr" else "reg_change"
                label = {"lr": "η", "l1": "L1", "l2": "L2", "weight_decay": "λ"}.get(ev.name, ev.name)
                self.curves.add_marker(kind, ev.epoch, f"{label} {ev.old:.3g} → {ev.new:.3g}")
                self.statusBar().showMessage(f"{label} changed to {ev.new:.3g} from epoch {ev.epoch}", 5000)
            elif isinstance(ev, PhaseStarted):
                self.curves.add_marker("phase", self._epochs_done, f"{ev.phase} on train+validation")
            elif isinstance(ev, EarlyStop):
                spec = self._run_spec or self._spec
                self.curves.set_early_stop(ev.best_epoch, ev.stopped_epoch, ev.best_value,
                                           spec.early_stopping.patience, ev.restored)
                self.statusBar().showMessage(
                    f"Early stopping after epoch {ev.stopped_epoch}: best {ev.monitor} "
                    f"{ev.best_value:.4g} at epoch {ev.best_epoch}"
                    + (f" — weights restored from epoch {ev.best_epoch}" if ev.restored else ""), 15000)
            elif isinstance(ev, Diverged):
                self._diverged_text = (f"Diverged at epoch {ev.epoch}, batch {ev.batch}: {ev.reason}. "
                                       "Try a smaller learning rate.")
                self.curves.add_marker("diverged", ev.epoch, ev.reason)
                self.curves.show_message(self._diverged_text, "error")
                self.statusBar().showMessage(self._diverged_text)
        if events:
            self.curves.settle()
        if epochs:
            train_epochs = [e for e in epochs if e.phase == "train"]
            if train_epochs:
                self._epochs_done = train_epochs[-1].epoch
            self._last_epoch = epochs[-1]
            self._update_progress()
            self.epochs_shown.emit(self._epochs_done)

    def _update_progress(self, note: str = "") -> None:
        ev = self._last_epoch
        spec = self._run_spec or self._spec
        total = spec.training.epochs
        if ev is not None:
            metric = None
            for name in ("val_accuracy", "train_accuracy", "val_r2", "train_r2"):
                if name in ev.metrics and ev.metrics[name] is not None:
                    metric = (name, float(ev.metrics[name]))
                    break
            epoch = ev.epoch
            self.readout.show_epoch(epoch, total, ev, metric, ev.phase, note)
        elif note:  # over before its first epoch ended (diverged or stopped in epoch 1)
            self.readout.clear_values(f"<b>{note}</b> — in epoch 1, before any epoch ended")
        _set_progress(self.progress, min(self._epochs_done, total), max(1, total))
        active = self._active_seconds()
        if ev is not None and active > 0 and ev.samples:
            self.speed_label.setText(f"{ev.samples / active:,.0f} samples/s")
        done = self._epochs_done
        if note:  # the run is over
            self.time_label.setText(f"took {fmt_duration(active)}")
            return
        remaining = (total - done) * active / done if done else float("nan")
        self.time_label.setText(f"elapsed {fmt_duration(active)} · left {fmt_duration(remaining)}")

    def _active_seconds(self) -> float:
        now = time.perf_counter()
        paused = self._t_paused + ((now - self._t_pause_began) if self._t_pause_began is not None else 0.0)
        return max(0.0, now - self._t_start - paused)

    @Slot(object)
    def _on_boundary(self, payload) -> None:
        if self._closing or payload is None:
            return
        self.frames.set_boundary(payload)

    @Slot(bool)
    def _on_pause_changed(self, paused: bool) -> None:
        if self._closing:
            return
        now = time.perf_counter()
        if paused and self._t_pause_began is None:
            self._t_pause_began = now
        elif not paused and self._t_pause_began is not None:
            self._t_paused += now - self._t_pause_began
            self._t_pause_began = None
        self._paused = paused
        if paused:  # everything up to the pause point is on screen while paused
            self.frames.flush()
        with _blocked(self.act_pause):
            self.act_pause.setChecked(paused)
        self._label_pause_action()
        if paused:
            self.statusBar().showMessage(f"Paused after epoch {self._epochs_done} — F6 resumes, F10 steps one epoch")
        else:
            self.statusBar().clearMessage()
        self._update_run_actions()
        self.pause_changed.emit(paused)

    @Slot(object)
    def _on_finished(self, result: RunResult) -> None:
        if self._closing:
            return
        self._end_thread()
        self._result = result
        self._result_dirty = True
        n = len(result.history.get("epoch", ()))
        if result.status == "diverged":
            text = self._diverged_text or result.message or "The run diverged."
            self.curves.show_message(text, "error")
            self.statusBar().showMessage(text)
        elif result.status == "stopped":
            self.statusBar().showMessage(f"Stopped after {n} epochs — the results so far are kept", 10000)
        elif result.status == "early_stopped" and result.early_stop is not None:
            es = result.early_stop
            self.statusBar().showMessage(
                f"Early stopping after epoch {es.stopped_epoch}: best {es.monitor} at epoch {es.best_epoch}"
                + (" (weights restored)" if es.restored else "") + f" — {result.wall_time:.1f} s", 15000)
        else:
            self.statusBar().showMessage(f"Finished {n} epoch{'s' if n != 1 else ''} in {result.wall_time:.1f} s", 10000)
        if result.status == "early_stopped" and result.early_stop is not None:
            note = f"early stop · best epoch {result.early_stop.best_epoch}"
        elif result.status == "finished":
            note = "done"
        else:
            note = result.status
        self._update_progress(note=note)
        self._update_title()
        self.run_finished.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._closing:
            return
        self._end_thread()
        first = message.splitlines()[0] if message else "training failed"
        self.readout.clear_values("<b>Training failed</b> — the reason is on the plot")
        self.curves.show_message(f"Training failed: {first}", "error")
        self.statusBar().showMessage(f"Training failed: {first}")
        self.run_failed.emit(message)

    def _end_thread(self) -> None:
        """The worker is done: join the thread, unlock the docks."""
        thread = self._thread
        if thread is not None:
            thread.quit()
            thread.wait()
        self.frames.detach()
        self.curves.set_live(False)
        self._gc_guard.set_running(False)
        self._worker = None
        self._thread = None
        self._paused = False
        self._t_pause_began = None
        with _blocked(self.act_pause):
            self.act_pause.setChecked(False)
        for dock in self.docks.values():
            dock.set_running(False)
        self._update_run_actions()
        self._update_undo_actions()

    def shutdown_worker(self, timeout_ms: int = SHUTDOWN_TIMEOUT_MS) -> bool:
        """Stop a live run synchronously (used on close, New and Open).  Returns True if
        the thread ended within ``timeout_ms``."""
        worker, thread = self._worker, self._thread
        if worker is None or thread is None:
            return True
        for sig, slot in ((worker.events_ready, self._on_events), (worker.boundary_ready, self._on_boundary),
                          (worker.pause_changed, self._on_pause_changed), (worker.finished, self._on_finished),
                          (worker.failed, self._on_failed)):
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self.frames.reset()
        self.curves.set_live(False)
        worker.stop()
        self._gc_guard.set_running(False)
        thread.quit()
        ok = thread.wait(timeout_ms)
        if not ok:  # never destroy a running QThread: keep it alive until it ends
            _ORPHANS.append((worker, thread))
            thread.finished.connect(lambda: _ORPHANS.remove((worker, thread)) if (worker, thread) in _ORPHANS else None)
        self._worker = None
        self._thread = None
        self._paused = False
        for dock in self.docks.values():
            dock.set_running(False)
        self._update_run_actions()
        self._update_undo_actions()
        return ok

    def _label_pause_action(self) -> None:
        """The pause button reads "Resume" while the run is paused."""
        SP = QStyle.StandardPixmap
        paused = self.running and self._paused
        self.act_pause.setText("&Resume" if paused else "&Pause")
        self.act_pause.setIcon(self.style().standardIcon(SP.SP_MediaPlay if paused else SP.SP_MediaPause))
        self.act_pause.setToolTip(("Resume training" if paused else "Pause training") + " (F6)")

    def _update_run_actions(self) -> None:
        self._label_pause_action()
        running = self.running
        self.act_run.setEnabled((not running and self._dataset is not None) or (running and self._paused))
        self.act_pause.setEnabled(running)
        self.act_step.setEnabled(running or self._dataset is not None)
        self.act_stop.setEnabled(running)
        self.act_reset.setEnabled(not running)
        for act in (self.act_new, self.act_open):
            act.setEnabled(True)

    # ------------------------------------------------------------------ files
    def new_experiment(self) -> bool:
        """New (Ctrl+N): the default experiment, after asking about unsaved changes."""
        if not self._maybe_discard():
            return False
        self.shutdown_worker()
        self._load_experiment(ExperimentSpec(), None, None)
        self.statusBar().showMessage("New experiment", 4000)
        return True

    def open_dialog(self) -> bool:
        if not self._maybe_discard():
            return False
        path = get_open_path(self, str(self._recent_dir()))
        if not path:
            return False
        return self.open_path(path, ask=False)

    def open_path(self, path, *, ask: bool = True) -> bool:
        """Open an experiment file.  An invalid file shows a dialog naming the field and
        leaves the current experiment untouched."""
        from workbench.experiment_file import ExperimentFileError, load  # noqa: PLC0415

        path = Path(path)
        if ask and not self._maybe_discard():
            return False
        try:
            experiment = load(path)
        except ExperimentFileError as exc:
            show_error(self, "Cannot open experiment", f"{path.name}: {exc}")
            return False
        except specmod.SpecError as exc:
            show_error(self, "Cannot open experiment", f"{path.name}: {exc}")
            return False
        except OSError as exc:
            show_error(self, "Cannot open experiment", f"{path}: {exc.strerror or exc}")
            return False
        # the data must load before anything is replaced
        old_path = self._path
        self._path = path.resolve()
        try:
            self._dataset_for(experiment.spec.data)
        except Exception as exc:
            self._path = old_path
            show_error(self, "Cannot open experiment", f"{path.name}: data: {_first_line(exc)}")
            return False
        self._path = old_path
        self.shutdown_worker()
        self._load_experiment(experiment.spec, experiment.result, path.resolve())
        self._add_recent(path.resolve())
        self.statusBar().showMessage(f"Opened {path.name}", 5000)
        return True

    def _load_experiment(self, spec: ExperimentSpec, result: Optional[RunResult], path: Optional[Path]) -> None:
        self._path = path
        self.undo_stack.clear()
        self._spec = spec
        self._result = result
        self._result_spec = spec
        self._result_dirty = False
        self.curves.reset()
        self._reload_dataset(show_errors=True)
        self._sync_all()
        self.readout.clear_values()
        self.speed_label.setText("")
        self.time_label.setText("")
        self.progress.setRange(0, max(1, spec.training.epochs))
        self.progress.setValue(0)
        if result is not None:
            try:
                self.curves.load_result(result)
            except Exception as exc:  # validated, but never let a drawing problem half-load a file
                self.curves.reset()
                self.curves.show_message(f"The saved results could not be drawn: {_first_line(exc)}", "error")
            if result.weights is not None:
                self._show_boundary_from_weights(result)
            n = len(result.history.get("epoch", ()))
            self.progress.setValue(min(n, spec.training.epochs))
            self.readout.clear_values(f"<b>{n} epochs</b> from the file — press Run (F5) to re-run")
            if result.status == "diverged" and result.message:
                self.curves.show_message(result.message, "error")
        self.undo_stack.setClean()
        self._update_run_actions()
        self._update_undo_actions()
        self._update_title()
        self.spec_changed.emit(spec)

    def save(self) -> bool:
        """Save (Ctrl+S): the spec and the last run's results (with weights)."""
        if self._path is None:
            return self.save_as()
        return self.save_to(self._path)

    def save_as(self) -> bool:
        path = self._ask_save_path()
        return self.save_to(path) if path else False

    def _ask_save_path(self) -> Optional[str]:
        """The Save As dialog: a path ending in .json, or None if cancelled."""
        start = str(self._path) if self._path is not None else str(self._recent_dir() / f"{_safe_stem(self._spec.name)}.json")
        path = get_save_path(self, "Save experiment as", start, FILE_FILTER)
        if not path:
            return None
        return path if Path(path).suffix else path + ".json"

    def save_to(self, path) -> bool:
        from workbench.experiment_file import save  # noqa: PLC0415

        path = Path(path).resolve()
        stale = self._result is not None and not self.result_is_current
        try:
            save(path, self._spec, None if stale else self._result)
        except (OSError, specmod.SpecError) as exc:
            show_error(self, "Cannot save experiment", f"{path}: {getattr(exc, 'strerror', None) or exc}")
            return False
        self._path = path
        self.undo_stack.setClean()
        self._result_dirty = False
        self._add_recent(path)
        self._update_title()
        if stale:  # results that re-running this file would not reproduce are not written
            self.statusBar().showMessage(
                f"Saved {path.name} without the last run's results: they came from other settings "
                "(Undo back to them, or Run again)", 15000)
        else:
            self.statusBar().showMessage(f"Saved {path.name}", 5000)
        return True

    def export_dialog(self, kind: str) -> bool:
        filters = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)", "csv": "CSV table (*.csv)"}
        stem = _safe_stem(self._path.stem if self._path else self._spec.name)
        suggestion = self._recent_dir() / f"{stem}{'-history' if kind == 'csv' else '-curves'}.{kind}"
        path = get_save_path(self, f"Export {kind.upper()}", str(suggestion), filters[kind])
        if not path:
            return False
        if not Path(path).suffix:
            path = f"{path}.{kind}"
        return self.export(kind, path)

    def export(self, kind: str, path) -> bool:
        try:
            getattr(self.curves, f"export_{kind}")(str(path))
        except Exception as exc:
            show_error(self, "Export failed", f"{path}: {exc}")
            return False
        self.statusBar().showMessage(f"Exported {Path(path).name}", 5000)
        return True

    def _maybe_discard(self) -> bool:
        """True if the current experiment may be replaced (saved, discarded or clean).

        A run that has trained for ``LIVE_WORK_SECONDS`` counts as unsaved work: Cancel
        lets it go on; Save stops it, keeps the results so far and saves them; Discard
        leaves it to the caller, which shuts the worker down."""
        live_work = self.running and self._epochs_done > 0 and self._active_seconds() >= LIVE_WORK_SECONDS
        if not self.is_dirty() and not live_work:
            return True
        answer = ask_save_changes(self, self.display_name())
        if answer == "save":
            path = self._path if self._path is not None else self._ask_save_path()
            if not path:  # Save As cancelled: nothing changes, a run trains on
                return False
            if self.running:
                self._finish_run_now()
            return self.save_to(path)
        return answer == "discard"

    def _finish_run_now(self) -> None:
        """Stop the run and take its result at once (its ``finished`` signal, queued
        to this window, is delivered here instead of by the event loop)."""
        worker, thread = self._worker, self._thread
        if worker is None or thread is None:
            return
        worker.stop()
        if thread.wait(SHUTDOWN_TIMEOUT_MS):
            QApplication.sendPostedEvents(self, QEvent.Type.MetaCall)

    # recent files
    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def _add_recent(self, path: Path) -> None:
        files = [str(path)] + [f for f in self.recent_files() if f != str(path)]
        self.settings.setValue("recentFiles", files[:MAX_RECENT])
        self._rebuild_recent_menu()

    def _recent_dir(self) -> Path:
        if self._path is not None:
            return self._path.parent
        files = self.recent_files()
        if files:
            return Path(files[0]).parent
        examples = Path(__file__).resolve().parents[2] / "resources" / "examples"
        return examples if examples.is_dir() else Path.cwd()

    def _rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        files = self.recent_files()
        for i, f in enumerate(files, start=1):
            act = menu.addAction(f"&{i} {Path(f).name}")
            act.setToolTip(f)
            act.setStatusTip(f)
            act.triggered.connect(lambda _c=False, f=f: self.open_path(f))
        if not files:
            none = menu.addAction("(none)")
            none.setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear list")
        clear.setEnabled(bool(files))
        clear.triggered.connect(self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.setValue("recentFiles", [])
        self._rebuild_recent_menu()

    # drag and drop
    @staticmethod
    def _dropped_file(mime) -> Optional[str]:
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if isinstance(url, QUrl) and url.isLocalFile() and url.toLocalFile().lower().endswith(".json"):
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._dropped_file(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._dropped_file(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        path = self._dropped_file(event.mimeData())
        if not path:
            event.ignore()
            return
        event.acceptProposedAction()
        # open after the drop has returned (a modal dialog inside dropEvent blocks the source)
        QTimer.singleShot(0, lambda: self.open_path(path))

    # ------------------------------------------------------------------ view
    def _set_show_batches(self, on: bool) -> None:
        self.curves.set_show_batches(on)
        self.settings.setValue("view/showBatches", bool(on))

    def _set_log_scale(self, on: bool) -> None:
        self.curves.set_log_scale(on)
        self.settings.setValue("view/logScale", bool(on))
        self._show_plan()

    def _set_lr_log_scale(self, on: bool) -> None:
        self.curves.set_lr_log_scale(on)
        self.settings.setValue("view/logLr", bool(on))

    def current_style(self):
        from .style import Style  # noqa: PLC0415

        make = Style.presentation if self._presentation else Style.normal
        return make(self._dark, pixel_ratio=self.devicePixelRatioF())

    @Slot()
    def _on_color_scheme_changed(self, *_args) -> None:
        if self._theme == "system" and not self._closing:
            self._apply_theme("system", save=False)

    def set_theme(self, theme: str) -> None:
        self._apply_theme(theme, save=True)

    def _apply_theme(self, theme: str, save: bool) -> None:
        from .style import apply_theme  # noqa: PLC0415

        if theme not in ("system", "light", "dark"):
            theme = "system"
        app = QApplication.instance()
        resolved = apply_theme(app, theme) if app is not None else "light"
        self._theme = theme
        self._dark = resolved == "dark"
        self.theme_actions[theme].setChecked(True)
        if save:
            self.settings.setValue("theme", theme)
        self._restyle()

    def _restyle(self) -> None:
        style = self.current_style()
        self.curves.apply_style(style)
        self.boundary.apply_style(style)
        for dock in self.docks.values():
            if hasattr(dock, "apply_style"):
                dock.apply_style(style)
        self.readout.set_scale(2.4 if self._presentation else 1.35)
        self.readout.set_colors(style.line_color("train").name(), style.line_color("val").name())
        self._size_status_labels()

    def set_presentation_mode(self, on: bool) -> None:
        """Presentation mode (F11 / Ctrl+Shift+P): 1.6x fonts, thick curves, only the
        plots and a big read-out; off restores fonts, docks and pens exactly."""
        on = bool(on)
        if on == self._presentation:
            with _blocked(self.act_presentation):
                self.act_presentation.setChecked(on)
            return
        app = QApplication.instance()
        from .style import Style, point_size  # noqa: PLC0415

        if on:
            self._saved_font = QFont(app.font())
            self._saved_state = self.saveState(STATE_VERSION)
            font = QFont(self._saved_font)
            font.setPointSizeF(point_size(font) * Style.presentation().font_scale)
            self._presentation = True
            app.setFont(font)
            for dock in self.docks.values():
                dock.hide()
            self._saved_icon_size = self.toolbar.iconSize()
            self.toolbar.setIconSize(self._saved_icon_size * 1.5)
            # the big read-out says where the run is; the status bar keeps room for messages
            self.speed_label.hide()
            self.time_label.hide()
        else:
            self._presentation = False
            if self._saved_font is not None:
                app.setFont(self._saved_font)
            if self._saved_state is not None:
                self.restoreState(self._saved_state, STATE_VERSION)
                QTimer.singleShot(0, self._settle_restored_docks)
            if getattr(self, "_saved_icon_size", None) is not None:
                self.toolbar.setIconSize(self._saved_icon_size)
            self.speed_label.show()
            self.time_label.show()
        with _blocked(self.act_presentation):
            self.act_presentation.setChecked(on)
        self._restyle()

    def _settle_restored_docks(self) -> None:
        """After presentation mode: the docks were hidden while the font changed back, and
        their layouts kept the 1.6x minimum sizes (the scroll areas cache their content's
        hint), so the restored docks took the plots' room.  Refresh and restore again."""
        if self._presentation or self._saved_state is None or self._closing:
            return
        for dock in self.docks.values():
            dock.widget().updateGeometry()
            dock.layout().invalidate()
        self.restoreState(self._saved_state, STATE_VERSION)

    def reset_layout(self) -> None:
        """View → Reset layout: every dock back where it started."""
        if self._presentation:
            self.set_presentation_mode(False)
        if self._default_state is not None:
            self.restoreState(self._default_state, STATE_VERSION)
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.toolbar.show()
        self.docks["optimizer"].raise_()
        self.docks["schedule"].raise_()
        self._default_dock_sizes()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.DevicePixelRatioChange and hasattr(self, "docks") and not self._closing:
            self._restyle()  # moved to a screen with another pixel ratio: line widths follow

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self._arrange_default_layout()
            self._default_state = self.saveState(STATE_VERSION)
            if self._pending_state is not None:
                self.restoreState(self._pending_state, STATE_VERSION)
                self._pending_state = None

    def _restore_layout(self) -> None:
        """Window geometry and view options from the settings; the saved dock layout
        is restored when the window is first shown."""
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, (QByteArray, bytes)) and geometry:
            self.restoreGeometry(QByteArray(geometry))
        state = s.value("window/state")
        if isinstance(state, (QByteArray, bytes)) and state:
            self._pending_state = QByteArray(state)
        batches = _as_bool(s.value("view/showBatches", False))
        log = _as_bool(s.value("view/logScale", False))
        log_lr = _as_bool(s.value("view/logLr", False))
        self.act_batches.setChecked(batches)
        self.act_log.setChecked(log)
        self.act_log_lr.setChecked(log_lr)
        self.curves.set_show_batches(batches)
        self.curves.set_log_scale(log)
        self.curves.set_lr_log_scale(log_lr)

    def save_layout(self) -> None:
        if not self._shown_once:
            return
        state = self._saved_state if (self._presentation and self._saved_state is not None) else self.saveState(STATE_VERSION)
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", state)
        self.settings.sync()

    # ------------------------------------------------------------------ close
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self._maybe_discard():
            event.ignore()
            return
        self._closing = True
        self.shutdown_worker()
        self.save_layout()
        if self._presentation:
            app = QApplication.instance()
            if self._saved_font is not None and app is not None:
                app.setFont(self._saved_font)
        event.accept()

    # ------------------------------------------------------------------ boundary from saved weights
    def _show_boundary_from_weights(self, result: RunResult) -> None:
        """A reopened file with weights shows its decision boundary without retraining
        (weights that do not decode or fit the network are ignored)."""
        try:
            payload = boundary_source.payload_from_weights(self._spec, self._dataset, result.weights)
        except Exception:
            return
        if payload is not None:
            boundary_source.show_payload(self.boundary, payload)


# ---------------------------------------------------------------------------
# helpers

_ORPHANS: list = []  # (worker, thread) pairs that did not stop in time: never destroyed while running


class _blocked:
    """``with _blocked(obj):`` block a QObject's signals."""

    def __init__(self, obj):
        self.obj = obj

    def __enter__(self):
        self.old = self.obj.blockSignals(True)
        return self.obj

    def __exit__(self, *exc):
        self.obj.blockSignals(self.old)
        return False


def _set_progress(bar: QProgressBar, value: int, maximum: int) -> None:
    """Set a progress bar without its synchronous repaint: ``QProgressBar.setValue``
    repaints at once (~2 ms with the status bar behind it, on every frame); this only
    schedules the paint with the rest of the window's."""
    if bar.maximum() == maximum and bar.value() == value:
        return
    bar.setUpdatesEnabled(False)
    try:
        if bar.maximum() != maximum or bar.minimum() != 0:
            bar.setRange(0, maximum)
        bar.setValue(value)
    finally:
        bar.setUpdatesEnabled(True)
    bar.update()


def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes", "on")
    return bool(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _safe_stem(name: str) -> str:
    keep = "".join(c if (c.isalnum() or c in "-_ ") else "_" for c in name).strip().replace(" ", "_")
    return keep[:60] or "experiment"


def _make_dock(cls, value, parent):
    dock = cls(parent)
    dock.set_value(value)
    return dock


def _show_dock_error(dock, message: str) -> None:
    """Show ``message`` in the dock's reason line (red)."""
    if hasattr(dock, "show_error"):
        dock.show_error(message)
        return
    label = getattr(dock, "reason_label", None)
    if label is not None:
        from .docks.base import label_styles  # noqa: PLC0415

        label.setStyleSheet(label_styles(getattr(dock, "_dark", False))["error"])
        label.setText(message)
        label.show()


