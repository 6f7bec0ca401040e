"""The optimizer playground: a window of its own in which the engine's optimizers walk
over 2-D test surfaces ("See the optimizers"; seed 000 figure 6, seed 004's ravine and
saddle).

Layout: a toolbar (preset, surface, the ravine's κ, steps, Play/Pause, Step, Reset, the
speed in steps per second and the step reached), the preset's one-line explanation, the
contour plot (:class:`.plot.SurfacePlot`) and, beside it, the runs
(:class:`.runs.RunsTable`: colour, label, step, f(w)) with Add/Remove and the selected
run's editor (:class:`.runs.RunEditor`).

How it works: every path is computed whole by the engine
(:func:`workbench.engine.surfaces.optimizer_path` via :func:`.model.run_path`) when
something it depends on changes -- a run's settings, the surface, κ, the start point (a
click on the plot), the number of steps -- and the animation only reveals its points: a
``QTimer`` advances the step ``t`` (several steps per tick above ~60 steps/s) and the
plot shows w_0 .. w_t of each path.  A change keeps the step reached, so an edited path
appears at once up to the same t; Reset goes back to t = 0; playing stops by itself when
every path has shown all of its points.

Keyboard: Space play/pause, → one step, R reset (also in the Playback menu).

Theme and presentation mode: ``apply_style(style)`` (a :class:`workbench.ui.style.Style`);
a window opened from the workbench (``open_playground(main_window)``) also follows its
theme and presentation mode by itself (it asks ``parent.current_style()`` whenever its
palette or font changes with the application's; without such a parent it reads the
palette's lightness).

Signals: ``step_changed(int)``, ``playing_changed(bool)``, ``paths_changed()`` (paths
recomputed), ``start_changed(float, float)``, ``preset_loaded(str)``.

Why this module is long: it is one window: building its toolbar, menus and panes and keeping
them in step with the playback (the step reached, the timer, the runs, the surface, the
start point).  The paths are computed in :mod:`.model` and the engine, drawn by
:mod:`.plot`, and the runs are listed and edited by :mod:`.runs`.
"""

from __future__ import annotations

import time
from typing import Optional, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QKeySequence, QPainter, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from workbench.engine.surfaces import PRESETS, Path, Surface

from .. import style as st
from ..view_settings import fit_to_screen
from ..widgets.forms import make_combo, set_combo_data
from ..widgets.spinboxes import IntSpinBox, SciSpinBox
from .tool_style import FollowsApplicationStyle, palette_is_dark, unscaled_base_font
from .model import (
    KAPPA_RANGE,
    MAX_RUNS,
    STEPS_RANGE,
    SURFACE_LABELS,
    SURFACE_NOTES,
    PlaygroundRun,
    make_surface,
    next_color,
    preset_kappa,
    preset_runs,
    run_path,
)
from .plot import PathView, SurfacePlot
from ..editors.optimizer import markup_html
from .runs import RunEditor, RunsTable

#: the window's size on a screen with room for it
DEFAULT_SIZE = QSize(1400, 900)
#: speed of the animation (steps per second): default and range
DEFAULT_SPEED = 20
SPEED_RANGE = (1, 1000)
#: the timer never ticks faster than this (ms); faster speeds reveal several steps a tick
MIN_TICK_MS = 16
#: the first entry of the preset box: the picture is not (or no longer) a preset's
CUSTOM = "Custom"
DEFAULT_PRESET = "ravine"
HINT = "Click the plot to start the paths there  ·  Space play/pause  ·  → one step  ·  R reset  ·  drag to pan, wheel to zoom"


def playback_icon(kind: str, color: QColor, size: int = 32) -> QIcon:
    """A flat playback icon (``play``, ``pause``, ``step``, ``reset``) in ``color``: the
    style's standard icons are dark grey, unreadable on the dark theme's toolbar."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    s = size / 32.0

    def tri(x0, x1, y0, y1):  # a triangle from the edge x0 to the tip x1
        p.drawPolygon(QPolygonF([QPointF(x0 * s, y0 * s), QPointF(x1 * s, 16 * s), QPointF(x0 * s, y1 * s)]))

    if kind == "play":
        tri(9, 25, 6, 26)
    elif kind == "pause":
        p.drawRect(QRectF(8 * s, 6 * s, 6 * s, 20 * s))
        p.drawRect(QRectF(18 * s, 6 * s, 6 * s, 20 * s))
    elif kind == "step":
        tri(6, 20, 7, 25)
        p.drawRect(QRectF(21 * s, 7 * s, 4.5 * s, 18 * s))
    elif kind == "reset":
        p.drawRect(QRectF(6.5 * s, 7 * s, 4.5 * s, 18 * s))
        tri(26, 12, 7, 25)
    p.end()
    return QIcon(pix)


class PlaygroundWindow(FollowsApplicationStyle, QMainWindow):
    """The optimizer playground (see the module docstring).  ``PlaygroundWindow(parent=None,
    style=None, preset="ravine")``; with a parent it is a window of its own that follows
    the parent's ``current_style()``."""

    step_changed = Signal(int)
    playing_changed = Signal(bool)
    paths_changed = Signal()
    start_changed = Signal(float, float)
    preset_loaded = Signal(str)

    def __init__(self, parent: Optional[QWidget] = None, style: Optional[st.Style] = None,
                 preset: Optional[str] = DEFAULT_PRESET):
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setObjectName("playgroundWindow")
        self.setWindowTitle("Optimizer playground — MLP Workbench")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        style = style if style is not None else self._parent_style()
        self._base_font = unscaled_base_font(style)

        self._surface_name = "quadratic"
        self._kappa = 25.0
        self._surface: Surface = make_surface("quadratic", self._kappa)
        self._start: tuple[float, float] = self._surface.start
        self._steps = 150
        self._runs: list[PlaygroundRun] = []
        self._paths: list[Optional[Path]] = []
        self._problems: list[str] = []
        self._t = 0
        self._preset: Optional[str] = None
        self._carry = 0.0
        self._last_tick = 0.0
        self._style = style or st.Style.normal(palette_is_dark())

        self.timer = QTimer(self)
        self.timer.setObjectName("playTimer")
        self.timer.timeout.connect(self._tick)

        self._build_actions()
        self._build_toolbar()
        self._build_central()
        self._build_menus()
        self.statusBar().showMessage(HINT)

        self.set_speed(DEFAULT_SPEED)
        if preset:
            self.load_preset(preset)
        else:
            self._show_surface()
            self.add_run()
        self.apply_style(self._style)
        fit_to_screen(self, DEFAULT_SIZE)

    # ================================================================ building
    def _build_actions(self) -> None:
        def action(name, text, shortcut, icon, tip, slot):
            act = QAction(text, self)
            act.setProperty("playbackIcon", icon)
            act.setObjectName(name)
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.setToolTip(f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})")
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.act_play = action("actPlay", "&Play", Qt.Key.Key_Space, "play", "Play / pause the paths",
                               self.toggle_play)
        self.act_step = action("actStep", "&Step", Qt.Key.Key_Right, "step", "One step of every path",
                               self.step_once)
        self.act_reset = action("actReset", "&Reset", Qt.Key.Key_R, "reset",
                                "Back to step 0 (the start point)", self.reset)
        self.act_legend = QAction("Show &legend", self)
        self.act_legend.setObjectName("actLegend")
        self.act_legend.setCheckable(True)
        self.act_legend.setChecked(True)
        self.act_legend.setToolTip("The paths' labels in the plot (the table beside it lists them too)")
        self.act_reset_view = QAction("Reset &view", self)
        self.act_reset_view.setObjectName("actResetView")
        self.act_reset_view.setToolTip("Back to the surface's view after panning or zooming")

    def _build_toolbar(self) -> None:
        bars = []
        for name, title in (("pictureToolbar", "Picture"), ("playbackToolbar", "Playback")):
            tb = QToolBar(title, self)
            tb.setObjectName(name)
            tb.setMovable(False)
            tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
            bars.append(tb)
        self.toolbar, self.playback_toolbar = bars
        bar = self.toolbar

        def labelled(text, widget, tip=""):
            lab = QLabel(text)
            lab.setBuddy(widget)
            lab.setContentsMargins(8, 0, 4, 0)
            if tip:
                lab.setToolTip(tip)
                widget.setToolTip(tip)
            bar.addWidget(lab)
            bar.addWidget(widget)
            return lab

        self.preset_combo = make_combo([(CUSTOM, None)] + [(p.title, name) for name, p in PRESETS.items()],
                                       {name: p.explanation for name, p in PRESETS.items()})
        self.preset_combo.setObjectName("presetCombo")
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(34)
        self.preset_combo.activated.connect(self._on_preset_chosen)
        labelled("Preset", self.preset_combo, "Pictures of the lecture notes (seed 000 figure 6, seed 004)")

        self.surface_combo = make_combo([(label, name) for name, label in SURFACE_LABELS.items()])
        self.surface_combo.setObjectName("surfaceCombo")
        for i in range(self.surface_combo.count()):
            name = self.surface_combo.itemData(i)
            self.surface_combo.setItemData(i, f"{make_surface(name).formula}\n{SURFACE_NOTES[name]}",
                                           Qt.ItemDataRole.ToolTipRole)
        self.surface_combo.activated.connect(lambda _i: self.set_surface(self.surface_combo.currentData()))
        labelled("Surface", self.surface_combo)

        self.kappa_spin = SciSpinBox(*KAPPA_RANGE, smallest=1.0)
        self.kappa_spin.setObjectName("kappaSpin")
        self.kappa_spin.valueChanged.connect(self.set_kappa)
        self.kappa_label = labelled("κ", self.kappa_spin,
                                    "Condition number κ of the ravine: the ratio of the steepest to the shallowest "
                                    "curvature (A = diag(1, κ)); gradient descent needs η < 2/κ")
        self._kappa_actions = [a for a in bar.actions()[-2:]]

        self.steps_spin = IntSpinBox(*STEPS_RANGE)
        self.steps_spin.setObjectName("stepsSpin")
        self.steps_spin.valueChanged.connect(self.set_steps)
        labelled("Steps", self.steps_spin, "How many steps every path takes")
        bar = self.playback_toolbar
        bar.addAction(self.act_play)
        bar.addAction(self.act_step)
        bar.addAction(self.act_reset)
        self.speed_spin = IntSpinBox(*SPEED_RANGE)
        self.speed_spin.setObjectName("speedSpin")
        self.speed_spin.setSuffix(" steps/s")
        self.speed_spin.valueChanged.connect(self.set_speed)
        labelled("Speed", self.speed_spin, "Steps per second while playing")
        self.step_label = QLabel()
        self.step_label.setObjectName("stepLabel")
        self.step_label.setContentsMargins(12, 0, 8, 0)
        bar.addWidget(self.step_label)

    def _build_central(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 4, 8, 4)
        outer.setSpacing(4)
        self.explanation = QLabel()
        self.explanation.setObjectName("explanationLabel")
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.RichText)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.explanation)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.plot = SurfacePlot(base_font=self._base_font)
        self.plot.clicked.connect(self.set_start)
        self.act_reset_view.triggered.connect(self.plot.reset_view)
        self.act_legend.toggled.connect(self.plot.set_legend_visible)
        self.splitter.addWidget(self.plot)

        side = QWidget()
        side.setObjectName("runsPanel")
        col = QVBoxLayout(side)
        col.setContentsMargins(4, 0, 0, 0)
        col.setSpacing(4)
        self.table = RunsTable()
        self.table.itemSelectionChanged.connect(self._on_selection)
        col.addWidget(self.table)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add optimizer")
        self.add_button.setObjectName("addRunButton")
        self.add_button.setToolTip("Add an optimizer (a copy of the selected one in the next colour)")
        self.add_button.clicked.connect(lambda: self.add_run())
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeRunButton")
        self.remove_button.setToolTip("Remove the selected optimizer")
        self.remove_button.clicked.connect(lambda: self.remove_run(self.selected_index()))
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        col.addLayout(buttons)
        self.editor = RunEditor()
        self.editor.run_edited.connect(self._on_run_edited)
        scroll = QScrollArea()
        scroll.setObjectName("runEditorScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.editor)
        col.addWidget(scroll, 1)
        self.splitter.addWidget(side)
        self.side_panel = side
        self._scroll = scroll
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        outer.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        presets = bar.addMenu("P&resets")
        self.preset_actions = {}
        for name, p in PRESETS.items():
            act = presets.addAction(p.title)
            act.setObjectName(f"preset_{name}")
            act.setToolTip(p.explanation)
            act.triggered.connect(lambda _c=False, n=name: self.load_preset(n))
            self.preset_actions[name] = act
        presets.setToolTipsVisible(True)
        playback = bar.addMenu("&Playback")
        for act in (self.act_play, self.act_step, self.act_reset):
            playback.addAction(act)
        view = bar.addMenu("&View")
        view.addAction(self.act_legend)
        view.addAction(self.act_reset_view)

    # ================================================================ public API
    @property
    def current_step(self) -> int:
        """The step t shown (0: only the start point)."""
        return self._t

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    @property
    def steps(self) -> int:
        return self._steps

    @property
    def surface(self) -> Surface:
        return self._surface

    @property
    def start(self) -> tuple[float, float]:
        return self._start

    @property
    def preset(self) -> Optional[str]:
        """The preset the picture still is (None once the surface or κ changed)."""
        return self._preset

    def runs(self) -> list[PlaygroundRun]:
        return list(self._runs)

    def paths(self) -> list[Optional[Path]]:
        """The engine's path of every run (None where the run's settings were refused)."""
        return list(self._paths)

    def end_step(self) -> int:
        """The last step any path has (playing stops there)."""
        return max([p.steps for p in self._paths if p is not None], default=0)

    def selected_index(self) -> int:
        return self.table.currentRow()

    def select_run(self, index: int) -> None:
        """Select run ``index`` in the table; the editor shows it."""
        self.table.selectRow(index)
        self._on_selection()

    def load_preset(self, name: str) -> None:
        """Surface, start, steps and runs of ``surfaces.PRESETS[name]``; back to step 0."""
        p = PRESETS[name]
        self.pause()
        self._surface_name = p.surface.name
        kappa = preset_kappa(p)
        if kappa is not None:
            self._kappa = kappa
        self._surface = p.surface
        self._start = (float(p.start[0]), float(p.start[1]))
        self._steps = int(p.steps)
        self._runs = preset_runs(p)
        self._preset = name
        self._t = 0
        self._show_surface()
        self._recompute()
        self.select_run(0)
        self.preset_loaded.emit(name)

    def set_surface(self, name: str, kappa: Optional[float] = None) -> None:
        """Switch to surface ``name`` (the start point goes to its default; the runs stay)."""
        if name not in SURFACE_LABELS:
            raise ValueError(f"surface: must be one of {', '.join(SURFACE_LABELS)}, got {name!r}")
        if kappa is not None:
            self._kappa = float(kappa)
        self._surface_name = name
        self._surface = make_surface(name, self._kappa)
        self._start = self._surface.start
        self._preset = None
        self._show_surface()
        self._recompute()

    def set_kappa(self, kappa: float) -> None:
        """The ravine's condition number κ (the start point stays)."""
        kappa = min(max(float(kappa), KAPPA_RANGE[0]), KAPPA_RANGE[1])
        if kappa == self._kappa and self._surface_name == "quadratic" and self._surface.kappa == kappa:
            return
        self._kappa = kappa
        if self._surface_name != "quadratic":
            return
        self._surface = make_surface("quadratic", kappa)
        if self._preset is not None and preset_kappa(PRESETS[self._preset]) != kappa:
            self._preset = None
        self._show_surface()
        self._recompute()

    def set_start(self, x: float, y: float) -> None:
        """Start every path at (x, y) (a click on the plot); the paths are recomputed and
        shown up to the current step."""
        self._start = (float(x), float(y))
        self.plot.set_start(self._start)
        self._update_status_start()
        self._recompute()
        self.start_changed.emit(self._start[0], self._start[1])

    def set_steps(self, steps: int) -> None:
        steps = min(max(int(steps), STEPS_RANGE[0]), STEPS_RANGE[1])
        if steps == self._steps:
            return
        self._steps = steps
        self._t = min(self._t, steps)
        self._sync_controls()
        self._recompute()

    def add_run(self, run: Optional[PlaygroundRun] = None) -> int:
        """Add ``run`` (default: a copy of the selected run, or SGD, in the next free
        colour); returns its index.  At most :data:`MAX_RUNS`."""
        if len(self._runs) >= MAX_RUNS:
            return -1
        if run is None:
            i = self.selected_index()
            base = self._runs[i] if 0 <= i < len(self._runs) else PlaygroundRun()
            run = base.replace(color=next_color([r.color for r in self._runs]))
        self._runs.append(run)
        self._recompute([len(self._runs) - 1])
        self.select_run(len(self._runs) - 1)
        return len(self._runs) - 1

    def remove_run(self, index: int) -> None:
        if not 0 <= index < len(self._runs):
            return
        del self._runs[index]
        del self._paths[index]
        del self._problems[index]
        self._show_paths()
        if self._runs:
            self.select_run(min(index, len(self._runs) - 1))
        self._update_buttons()

    def set_run(self, index: int, run: PlaygroundRun) -> None:
        """Replace run ``index``; its path is recomputed from the start at once."""
        self._runs[index] = run
        self._recompute([index])
        if index == self.selected_index() and self.editor.run() != run:
            self.editor.set_run(run)

    def play(self) -> None:
        if self._t >= self.end_step():
            self._t = 0
            self._reveal()
        if not self.timer.isActive():
            self._carry = 0.0
            self._last_tick = time.perf_counter()
            self.timer.start()
            self._sync_play()

    def pause(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self._sync_play()

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def step_once(self) -> None:
        """One step of every path (pauses)."""
        self.pause()
        self._advance(1)

    def reset(self) -> None:
        """Back to step 0 (pauses)."""
        self.pause()
        self._t = 0
        self._reveal()

    def seek(self, t: int) -> None:
        """Show step ``t`` (clamped to 0 .. :meth:`end_step`; pauses)."""
        self.pause()
        self._t = min(max(int(t), 0), self.end_step())
        self._reveal()

    def set_speed(self, steps_per_second: float) -> None:
        sps = min(max(int(round(steps_per_second)), SPEED_RANGE[0]), SPEED_RANGE[1])
        self._speed = sps
        self.timer.setInterval(max(MIN_TICK_MS, int(round(1000.0 / sps))))
        if self.speed_spin.value() != sps:
            self.speed_spin.blockSignals(True)
            self.speed_spin.setValue(sps)
            self.speed_spin.blockSignals(False)

    @property
    def speed(self) -> int:
        return self._speed

    def current_style(self) -> st.Style:
        return self._style

    def apply_style(self, style: st.Style) -> None:
        """Theme and presentation scale (``Style.normal()``/``Style.presentation()``, dark or not)."""
        self._style = style
        self.plot.apply_style(style)
        self.editor.apply_style(style)
        self._table_colors()
        self._show_explanation()
        big = style.font_scale > 1.0
        for bar in (self.toolbar, self.playback_toolbar):
            bar.setIconSize(QSize(26, 26) if big else QSize(16, 16))
        self._paint_icons()
        self._fit_side_panel()
        self._place_toolbars()

    def _place_toolbars(self) -> None:
        """The playback controls on a row of their own when one row cannot hold both
        toolbars (presentation mode, small screens): never hidden behind a » menu."""
        need = self.toolbar.sizeHint().width() + self.playback_toolbar.sizeHint().width() + 16
        broken = self.toolBarBreak(self.playback_toolbar)
        if need > self.width() and not broken:
            self.insertToolBarBreak(self.playback_toolbar)
        elif need <= self.width() and broken:
            self.removeToolBarBreak(self.playback_toolbar)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._place_toolbars()

    def _fit_side_panel(self) -> None:
        """The runs panel as wide as the editor's form asks (the plot takes the rest)."""
        self.editor.adjustSize()
        want = self.editor.sizeHint().width() + self._scroll.verticalScrollBar().sizeHint().width() + 12
        self.side_panel.setMinimumWidth(want)
        total = sum(self.splitter.sizes()) or self.width()
        self.splitter.setSizes([max(total - want, 1), want])

    # ================================================================ internals
    def _show_surface(self) -> None:
        self.plot.set_surface(self._surface)
        self.plot.set_start(self._start)
        self._sync_controls()
        self._show_explanation()
        self._update_status_start()

    def _sync_controls(self) -> None:
        for widget, value in ((self.surface_combo, self._surface_name), (self.preset_combo, self._preset)):
            widget.blockSignals(True)
            set_combo_data(widget, value)
            widget.blockSignals(False)
        for spin, value in ((self.kappa_spin, self._kappa), (self.steps_spin, self._steps)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        ravine = self._surface_name == "quadratic"
        for act in self._kappa_actions:
            act.setVisible(ravine)

    def _show_explanation(self) -> None:
        if self._preset is not None:
            p = PRESETS[self._preset]
            html = f"<b>{p.title}.</b> {markup_html(p.explanation)}"
        else:
            name = self._surface_name
            html = f"<b>{SURFACE_LABELS[name].split('  ')[0]}: {self._surface.formula}.</b> {SURFACE_NOTES[name]}"
        self.explanation.setText(html)

    def _update_status_start(self) -> None:
        x, y = self._start
        self.plot.setToolTip(f"Start point w₀ = ({x:.4g}, {y:.4g}); click to move it")

    def _recompute(self, indices: Optional[Sequence[int]] = None) -> None:
        """Compute the paths of ``indices`` (default: every run) with the engine."""
        n = len(self._runs)
        while len(self._paths) < n:
            self._paths.append(None)
            self._problems.append("")
        del self._paths[n:], self._problems[n:]
        for i in (range(n) if indices is None else indices):
            try:
                self._paths[i] = run_path(self._runs[i], self._surface, self._start, self._steps)
                self._problems[i] = ""
            except ValueError as exc:  # settings the engine refuses
                self._paths[i] = None
                self._problems[i] = str(exc)
        self._show_paths()
        self.paths_changed.emit()

    def _show_paths(self) -> None:
        views = []
        for run, path in zip(self._runs, self._paths):
            if path is not None:
                views.append(PathView(path, st.OKABE_ITO[run.color], run.title))
        self.plot.set_paths(views)
        self._table_colors()
        self._update_buttons()
        self._reveal()

    def _table_colors(self) -> None:
        colors = [self.plot.path_pen_color(st.OKABE_ITO[r.color]) for r in self._runs]
        self.table.set_runs(self._runs, colors)
        self.table.set_progress(self._paths, self._t, self._problems)

    def _update_buttons(self) -> None:
        self.add_button.setEnabled(len(self._runs) < MAX_RUNS)
        self.remove_button.setEnabled(len(self._runs) > 0)
        self.editor.setEnabled(len(self._runs) > 0)

    def _reveal(self) -> None:
        self.plot.reveal(self._t)
        self.table.set_progress(self._paths, self._t, self._problems)
        end = self.end_step()
        self.step_label.setText(f"t = {self._t} / {end}")
        self.step_changed.emit(self._t)

    def _advance(self, n: int) -> None:
        end = self.end_step()
        t = min(self._t + int(n), end)
        if t != self._t:
            self._t = t
            self._reveal()
        if self._t >= end:
            self.pause()

    def _tick(self) -> None:
        now = time.perf_counter()
        # steps due since the last tick (a late tick catches up, but never by more than 0.25 s)
        self._carry += self._speed * min(now - self._last_tick, 0.25)
        self._last_tick = now
        n = int(self._carry)
        if n >= 1:
            self._carry -= n
            self._advance(n)

    def _sync_play(self) -> None:
        playing = self.timer.isActive()
        self.act_play.setText("&Pause" if playing else "&Play")
        self.act_play.setProperty("playbackIcon", "pause" if playing else "play")
        self._paint_icons()
        self.playing_changed.emit(playing)

    def _paint_icons(self) -> None:
        color = self.palette().buttonText().color()
        for act in (self.act_play, self.act_step, self.act_reset):
            act.setIcon(playback_icon(act.property("playbackIcon"), color))

    def _on_preset_chosen(self, _index: int) -> None:
        name = self.preset_combo.currentData()
        if name is not None:
            self.load_preset(name)

    def _on_selection(self) -> None:
        i = self.selected_index()
        if 0 <= i < len(self._runs):
            self.editor.set_run(self._runs[i])
            if self._problems[i]:
                self.editor.show_error(self._problems[i])

    def _on_run_edited(self, run: PlaygroundRun) -> None:
        i = self.selected_index()
        if 0 <= i < len(self._runs):
            self._runs[i] = run
            self._recompute([i])
            if self._problems[i]:
                self.editor.show_error(self._problems[i])

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.pause()
        super().closeEvent(event)


def open_playground(parent: Optional[QWidget] = None) -> PlaygroundWindow:
    """Show the playground window of ``parent`` (made on first use, then raised)."""
    window = parent.findChild(PlaygroundWindow, "playgroundWindow", Qt.FindChildOption.FindDirectChildrenOnly) \
        if parent is not None else None
    if window is None:
        window = PlaygroundWindow(parent)
    window.show()
    if QGuiApplication.platformName() != "offscreen":  # (which warns that it cannot raise)
        window.raise_()
    window.activateWindow()
    return window


__all__ = ["PlaygroundWindow", "open_playground", "DEFAULT_SPEED", "SPEED_RANGE"]
