"""Every action of the window declared once: text, shortcut, icon, tooltip, what it does
and when it is enabled.  The menus, the toolbar and Help → Keyboard shortcuts are built
from these tables (as napari's ``_qapp_model`` declares its actions as data).

An action's ``handler`` and ``enabled_when`` name attributes of the window (a method; a
boolean property), so the table stays plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QToolBar, QWidget

SP = QStyle.StandardPixmap
K = QKeySequence.StandardKey
Shortcut = Union[str, QKeySequence.StandardKey, tuple, None]


@dataclass(frozen=True)
class ActionSpec:
    """One action: ``key`` (the window attribute ``act_<key>``), menu ``text``, the window
    method ``handler`` (checkable actions get the new state), ``shortcut`` (one, or a
    tuple), a standard ``icon``, the ``tip``, ``checkable``, and ``enabled_when``: a
    boolean property of the window (None: always)."""

    key: str
    text: str
    handler: Optional[str] = None
    shortcut: Shortcut = None
    icon: Optional[QStyle.StandardPixmap] = None
    tip: str = ""
    checkable: bool = False
    enabled_when: Optional[str] = None


ACTIONS: tuple[ActionSpec, ...] = (
    # files
    ActionSpec("new", "&New", "new_experiment", K.New, SP.SP_FileIcon, "New experiment (the default)"),
    ActionSpec("open", "&Open…", "open_dialog", K.Open, SP.SP_DialogOpenButton, "Open an experiment file"),
    ActionSpec("save", "&Save", "save", K.Save, SP.SP_DialogSaveButton, "Save the experiment and its runs"),
    ActionSpec("save_as", "Save &As…", "save_as", "Ctrl+Shift+S", None, "Save under a new name"),
    ActionSpec("export_png", "Plots as &PNG…", "export_png"),
    ActionSpec("export_svg", "Plots as &SVG…", "export_svg"),
    ActionSpec("export_csv", "History as &CSV…", "export_csv"),
    ActionSpec("quit", "&Quit", "close", K.Quit, None, "Close the workbench"),
    # edit
    ActionSpec("undo", "&Undo", "undo", K.Undo, SP.SP_ArrowBack, "Undo the last change", enabled_when="can_undo"),
    ActionSpec("redo", "&Redo", "redo", ("Ctrl+Shift+Z", "Ctrl+Y"), SP.SP_ArrowForward, "Redo",
               enabled_when="can_redo"),
    # run
    ActionSpec("run", "&Run", "start_run", "F5", SP.SP_MediaPlay,
               "Train from the seed (re-running reproduces the same curves)", enabled_when="can_run"),
    ActionSpec("pause", "&Pause", "set_paused", "F6", SP.SP_MediaPause, "Pause / resume training",
               checkable=True, enabled_when="running"),
    ActionSpec("step", "S&tep one epoch", "step_epoch", "F10", SP.SP_MediaSkipForward,
               "Train one more epoch, then pause", enabled_when="can_step"),
    ActionSpec("stop", "St&op", "stop_run", "Esc", SP.SP_MediaStop, "Stop training (keeps the results so far)",
               enabled_when="running"),
    ActionSpec("repeat", "Repeat × &N seeds", "repeat_default", "Ctrl+Shift+R", None,
               "Train the current settings with N seeds (the Runs dock's N) and draw mean ± std",
               enabled_when="can_repeat"),
    ActionSpec("slower", "&Slower", "slower", "Ctrl+[", None, "Watch training more slowly (fewer epochs a second)"),
    ActionSpec("faster", "&Faster", "faster", "Ctrl+]", None, "Watch training faster (up to full speed)"),
    ActionSpec("replay", "Re&play", "replay", "Ctrl+P", None, "Play the shown run back at the chosen speed",
               enabled_when="idle"),
    ActionSpec("reset", "R&eset curves", "reset_curves", "Ctrl+R", SP.SP_BrowserReload,
               "Clear the curves (the runs stay in the Runs dock)", enabled_when="idle"),
    # view
    ActionSpec("presentation", "&Presentation mode", "set_presentation_mode", ("F11", "Ctrl+Shift+P"), None,
               "Large fonts, thick curves, only the plots: for sharing a screen", checkable=True),
    ActionSpec("reset_layout", "Reset &layout", "reset_layout", None, None, "Put every panel back"),
    ActionSpec("batches", "Show &batch losses", "set_show_batches", None, None, "Faint per-batch training loss",
               checkable=True),
    ActionSpec("log", "&Log-scale loss", "set_log_scale", "Ctrl+L", None, "Logarithmic loss axis", checkable=True),
    ActionSpec("log_lr", "Log-scale &η", "set_lr_log_scale", "Ctrl+Shift+L", None,
               "Logarithmic learning-rate axis (decays over decades read as lines)", checkable=True),
    # tools
    ActionSpec("inside", "Look &inside", "show_inside", "Ctrl+I", None,
               "The network diagram, layer health, initialisation spread, errors and the gradient check"),
    ActionSpec("lr_find", "Find a learning &rate…", "find_learning_rate", "Ctrl+Shift+F", None,
               "The learning-rate range test: the loss over one short run while η grows", enabled_when="can_repeat"),
    ActionSpec("sweep", "S&weep…", "show_sweep", "Ctrl+Shift+W", None,
               "Grid or random search over any settings, on every core or a Dask cluster"),
    ActionSpec("playground", "See the &optimizers…", "open_playground", "Ctrl+Shift+O", None,
               "Every optimizer's path on 2-D surfaces (a ravine, a saddle, Rosenbrock), step by step"),
    # help
    ActionSpec("shortcuts", "&Keyboard shortcuts", "show_shortcuts", "F1", None, "Every keyboard shortcut"),
    ActionSpec("features", "&What you can switch on", "show_features", None, None,
               "The optimizers, schedules, regularizers and data sets of the workbench"),
    ActionSpec("about", "&About MLP Workbench", "show_about", None, None, "Version, libraries and licences"),
)

#: the menus, top to bottom: an action key, "-" a separator, "@recent" the recent-files
#: menu, "@docks" the panels' show/hide actions, "@theme" the theme menu, and
#: ("Title", (...)) a submenu
MENUS: tuple = (
    ("&File", ("new", "open", "@recent", "-", "save", "save_as",
               ("&Export", ("export_png", "export_svg", "export_csv")), "-", "quit")),
    ("&Edit", ("undo", "redo")),
    ("&Run", ("run", "pause", "step", "stop", "-", "repeat", "-", "slower", "faster", "replay", "-", "reset")),
    ("&View", ("@docks", "@toolbar", "reset_layout", "-", "batches", "log", "log_lr", "-", "presentation", "@theme")),
    ("&Tools", ("inside", "lr_find", "sweep", "-", "playground")),
    ("&Help", ("shortcuts", "features", "-", "about")),
)
TOOLBAR = ("run", "pause", "step", "stop", "-", "reset", "-", "undo", "redo")
THEMES = (("system", "&System"), ("light", "&Light"), ("dark", "&Dark"))


def shortcut_texts(spec: ActionSpec) -> list[str]:
    """The shortcuts of an action as the platform writes them."""
    if spec.shortcut is None:
        return []
    keys = spec.shortcut if isinstance(spec.shortcut, tuple) else (spec.shortcut,)
    out = []
    for key in keys:
        seqs = QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey) else [QKeySequence(key)]
        out.extend(s.toString(QKeySequence.SequenceFormat.NativeText) for s in seqs[:1])
    return out


def build_actions(window: QWidget) -> dict[str, QAction]:
    """A QAction per :data:`ACTIONS` entry, wired to the window and set as ``act_<key>``."""
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        act = QAction(spec.text, window)
        act.setObjectName("act" + "".join(part.title() for part in spec.key.split("_")))
        if spec.shortcut is not None:
            keys = spec.shortcut if isinstance(spec.shortcut, tuple) else (spec.shortcut,)
            sequences = []
            for key in keys:
                sequences.extend(QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey)
                                 else [QKeySequence(key)])
            act.setShortcuts(sequences)
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if spec.icon is not None:
            act.setIcon(window.style().standardIcon(spec.icon))
        keys = ", ".join(shortcut_texts(spec))
        tip = spec.tip or spec.text.replace("&", "").rstrip("…")
        act.setToolTip(tip + (f" ({keys})" if keys else ""))
        act.setStatusTip(tip)
        act.setCheckable(spec.checkable)
        if spec.handler is not None:
            slot = getattr(window, spec.handler)
            if spec.checkable:
                act.toggled.connect(slot)
            else:
                act.triggered.connect(lambda _checked=False, slot=slot: slot())
        window.addAction(act)
        setattr(window, f"act_{spec.key}", act)
        actions[spec.key] = act
    return actions


def update_enabled(window, actions: dict[str, QAction]) -> None:
    """Enable each action as its ``enabled_when`` property of the window says."""
    for spec in ACTIONS:
        if spec.enabled_when is not None:
            actions[spec.key].setEnabled(bool(getattr(window, spec.enabled_when)))


def build_menus(window, actions: dict[str, QAction], special: dict) -> dict[str, QMenu]:
    """The menu bar from :data:`MENUS`; ``special`` gives the ``@`` entries (a QMenu, a
    QAction or a list of QActions).  Returns the menus by their plain title."""
    menus = {}
    for title, items in MENUS:
        menu = window.menuBar().addMenu(title)
        _fill(menu, items, actions, special)
        menus[title.replace("&", "")] = menu
    return menus


def _fill(menu: QMenu, items, actions, special) -> None:
    for item in items:
        if item == "-":
            menu.addSeparator()
        elif isinstance(item, tuple):
            _fill(menu.addMenu(item[0]), item[1], actions, special)
        elif item.startswith("@"):
            entry = special[item[1:]]
            if isinstance(entry, QMenu):
                menu.addMenu(entry)
            elif isinstance(entry, (list, tuple)):
                menu.addActions(list(entry))
            else:
                menu.addAction(entry)
        else:
            menu.addAction(actions[item])


def build_toolbar(window, actions: dict[str, QAction]) -> QToolBar:
    tb = QToolBar("Run", window)
    tb.setObjectName("runToolBar")
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tb.setMovable(True)
    for item in TOOLBAR:
        if item == "-":
            tb.addSeparator()
        else:
            tb.addAction(actions[item])
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    return tb


def build_theme_menu(window, choose) -> tuple[QMenu, dict[str, QAction]]:
    """View → Theme: exclusive System / Light / Dark, ``choose(key)`` on a choice."""
    menu = QMenu("&Theme", window)
    group = QActionGroup(menu)
    group.setExclusive(True)
    acts = {}
    for key, label in THEMES:
        act = QAction(label, menu, checkable=True)
        act.setObjectName(f"theme_{key}")
        act.triggered.connect(lambda _checked=False, key=key: choose(key))
        group.addAction(act)
        menu.addAction(act)
        acts[key] = act
    return menu, acts
