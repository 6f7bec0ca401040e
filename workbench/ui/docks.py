"""The window's docks: where each panel goes, how big it starts, and which ones hide.

Left: the data and the network; right: how it learns (optimizer | regularization,
schedule | early stopping, training); bottom, under the plots only: the Runs, Inside and
Sweep panels as tabs.  The tab groups are made when the window is first shown (tabifying
before that leaves a stray tab bar in Qt 6.10).  The bottom docks start hidden so the
plots keep the room; the Runs dock shows itself once there are two runs to compare in a
window tall enough (:data:`RUNS_DOCK_MIN_WINDOW`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QWidget

from .editors import EditorDock

#: the smallest window height in which the Runs dock shows itself (else the plots would be cramped)
RUNS_DOCK_MIN_WINDOW = 880
LEFT, RIGHT, BOTTOM = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                       Qt.DockWidgetArea.BottomDockWidgetArea)


def panel_dock(window: QMainWindow, title: str, name: str, widget: QWidget) -> QDockWidget:
    """A bottom dock holding ``widget`` in a scroll area: the panel scrolls rather than
    making the window taller than a laptop's screen."""
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    scroll = QScrollArea(dock)
    scroll.setObjectName(f"{name}Scroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(widget)
    dock.setWidget(scroll)
    return dock


class Docks:
    """The editor docks (``editors[section]``) and the bottom panels' docks of ``window``."""

    def __init__(self, window: QMainWindow, editors: dict, bottom: dict[str, QDockWidget]):
        self.window = window
        self.editors = {section: EditorDock(editor, window) for section, editor in editors.items()}
        self.bottom = bottom
        self._runs_offered = False

    def __getitem__(self, key: str) -> QDockWidget:
        return self.editors[key] if key in self.editors else self.bottom[key]

    def all(self) -> list[QDockWidget]:
        return [*self.editors.values(), *self.bottom.values()]

    def toggle_actions(self) -> list:
        return [d.toggleViewAction() for d in self.all()]

    def place(self) -> None:
        w, d = self.window, self.editors
        w.addDockWidget(LEFT, d["data"])
        w.addDockWidget(LEFT, d["architecture"], Qt.Orientation.Vertical)
        for key in ("optimizer", "regularization"):
            w.addDockWidget(RIGHT, d[key])
        for key in ("schedule", "early_stopping", "training"):
            w.addDockWidget(RIGHT, d[key], Qt.Orientation.Vertical)
        # the bottom panels sit under the plots; the editors keep the window's full height
        w.setCorner(Qt.Corner.BottomLeftCorner, LEFT)
        w.setCorner(Qt.Corner.BottomRightCorner, RIGHT)
        for dock in self.bottom.values():
            w.addDockWidget(BOTTOM, dock)
            dock.hide()

    def arrange_default(self, splitter) -> None:
        """The tab groups and sizes of the default layout (on first show, Reset layout)."""
        w, d = self.window, self.editors
        w.tabifyDockWidget(d["optimizer"], d["regularization"])
        w.tabifyDockWidget(d["schedule"], d["early_stopping"])
        bottom = list(self.bottom.values())
        for other in bottom[1:]:
            w.tabifyDockWidget(bottom[0], other)
        d["optimizer"].raise_()
        d["schedule"].raise_()
        self.default_sizes(splitter)

    def default_sizes(self, splitter) -> None:
        w, d = self.window, self.editors

        def wide(*docks) -> int:  # the width each side's content asks for (it scrolls when narrower)
            return max(dock.widget().sizeHint().width() for dock in docks)

        w.resizeDocks([d["data"], d["optimizer"]], [wide(d["data"], d["architecture"]),
                                                     wide(d["optimizer"], d["schedule"], d["training"])],
                      Qt.Orientation.Horizontal)
        total = max(400, splitter.width())
        splitter.setSizes([int(total * 0.6), total - int(total * 0.6)])

        def want(*docks) -> int:  # heights in proportion to what each dock's content asks for
            return max(dock.widget().sizeHint().height() for dock in docks) + 28

        # the data dock (whose preview would otherwise be cut) first; the architecture
        # dock keeps its parameter count at the top, so it may scroll at the bottom
        left = d["data"].height() + d["architecture"].height()
        data_h = min(want(d["data"]), left - 300)
        w.resizeDocks([d["data"], d["architecture"]], [data_h, left - data_h], Qt.Orientation.Vertical)
        w.resizeDocks([d["optimizer"], d["schedule"], d["training"]],
                      [want(d["optimizer"], d["regularization"]), want(d["schedule"], d["early_stopping"]),
                       want(d["training"])], Qt.Orientation.Vertical)

    def reset(self, splitter) -> None:
        """Reset layout: the editors back in place and shown; the bottom panels hidden."""
        for dock in self.all():
            dock.setFloating(False)
        for dock in self.editors.values():
            dock.show()
        for dock in self.bottom.values():
            dock.hide()
        self.editors["optimizer"].raise_()
        self.editors["schedule"].raise_()
        self.default_sizes(splitter)

    def show_bottom(self, key: str, front: bool = True) -> None:
        """Show a bottom panel (when it was hidden: a third of the window tall, the Sweep
        dock's form, table and plots half); ``front``: its tab in front of the other
        bottom panels."""
        dock = self.bottom[key]
        if not dock.isVisible():
            dock.show()
            share = 2 if key == "sweep" else 3
            self.window.resizeDocks([dock], [self.window.height() // share], Qt.Orientation.Vertical)
        if front:
            dock.raise_()

    def offer_runs(self, n_runs: int, status) -> None:
        """The first time there is more than one run: show the Runs dock (a window at least
        :data:`RUNS_DOCK_MIN_WINDOW` tall), or say where it is."""
        if self._runs_offered or n_runs < 2:
            return
        self._runs_offered = True
        if self.bottom["runs"].isVisible():
            return
        if self.window.height() < RUNS_DOCK_MIN_WINDOW:
            status("Every run is kept: View → Runs shows the table, seeds and paired differences", 10000)
            return
        # offered, not imposed: a bottom panel the user opened (Inside, Sweep) stays in front
        self.show_bottom("runs", front=not any(d.isVisible() for k, d in self.bottom.items() if k != "runs"))
