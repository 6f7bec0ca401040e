"""The window's view: themes, presentation mode, layout, log scales, Help, the actions'
enabled state.

:class:`ViewActions` is a part of :class:`~workbench.ui.main_window.MainWindow` (a mixin:
the actions table names these methods on the window); what it remembers lives in
:mod:`workbench.ui.view_settings`.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, QTimer
from PySide6.QtWidgets import QApplication, QStyle

from . import actions as acts
from . import dialogs
from .style import Style, apply_theme
from .view_settings import STATE_VERSION


class ViewActions:
    """View-related methods of the main window (see the module docstring)."""

    def set_show_batches(self, on: bool) -> None:
        self.curves.set_show_batches(on)
        self.view.show_batches = bool(on)
        self.view.save(self.settings)

    def set_log_scale(self, on: bool) -> None:
        self.curves.set_log_scale(on)
        self.view.log_loss = bool(on)
        self.view.save(self.settings)
        self._show_plan()

    def set_lr_log_scale(self, on: bool) -> None:
        self.curves.set_lr_log_scale(on)
        self.view.log_lr = bool(on)
        self.view.save(self.settings)

    def current_style(self) -> Style:
        make = Style.presentation if self.presentation_mode else Style.normal
        return make(self._dark, pixel_ratio=self.devicePixelRatioF())

    def set_theme(self, theme: str) -> None:
        self._apply_theme(theme, save=True)

    def _on_color_scheme_changed(self, *_args) -> None:
        if self.view.theme == "system" and not self._closing:
            self._apply_theme("system", save=False)

    def _apply_theme(self, theme: str, save: bool) -> None:
        theme = theme if theme in self.theme_actions else "system"
        self._dark = apply_theme(QApplication.instance(), theme) == "dark"
        self.view.theme = theme
        self.theme_actions[theme].setChecked(True)
        if save:
            self.view.save(self.settings)
        self._restyle()

    def _restyle(self) -> None:
        style = self.current_style()
        self.curves.apply_style(style)
        self.boundary.apply_style(style)
        for panel in (self.runs_panel, self.inside_panel, self.sweep_panel):
            panel.apply_style(style)
        for editor in self.editors.values():
            editor.apply_style(style)
        self.readout.set_scale(2.4 if self.presentation_mode else 1.35)
        self.readout.set_colors(style.line_color("train").name(), style.line_color("val").name())
        self._size_status_labels()

    def set_presentation_mode(self, on: bool) -> None:
        """Presentation mode (F11 / Ctrl+Shift+P): 1.6x fonts, thick curves, only the plots
        and a big read-out; off restores fonts, docks, size and pens exactly."""
        on = bool(on)
        with QSignalBlocker(self.act_presentation):
            self.act_presentation.setChecked(on)
        if on == self.presentation_mode:
            return
        if on:
            self._presentation.enter(self, Style.presentation().font_scale)
            for dock in self.panels.all():
                dock.hide()
        else:
            self._presentation.leave(self)
            QTimer.singleShot(0, self._settle_restored_docks)
        big = self.toolbar.iconSize() * 1.5 if on else self.toolbar.iconSize() / 1.5
        self.toolbar.setIconSize(big)
        # the big read-out says where the run is; the status bar keeps room for messages
        self.speed_label.setVisible(not on)
        self.time_label.setVisible(not on)
        self._restyle()

    def _settle_restored_docks(self) -> None:
        """After presentation mode: the docks kept the 1.6x font's minimum sizes (the scroll
        areas cache their content's hint); refresh them, then restore the layout again."""
        if self.presentation_mode or self._closing or self._presentation.state is None:
            return
        for dock in self.docks.values():
            for widget in (dock.editor.form_host, dock.editor, dock.widget()):
                widget.updateGeometry()
                widget.layout() is not None and widget.layout().invalidate()
            dock.layout().invalidate()
        self.restoreState(self._presentation.state, STATE_VERSION)
        if self._presentation.size is not None and not (self.isMaximized() or self.isFullScreen()):
            self.resize(self._presentation.size)

    def reset_layout(self) -> None:
        """View → Reset layout: every dock back where it started."""
        self.set_presentation_mode(False)
        if self._default_state is not None:
            self.restoreState(self._default_state, STATE_VERSION)
        self.toolbar.show()
        self.panels.reset(self.splitter)

    def _bring_to_front(self, section: str) -> None:
        """Show the dock with a reason in it (it may be a hidden tab)."""
        if not self.presentation_mode:
            self.docks[section].show()
            self.docks[section].raise_()

    def _status(self, text: str, ms: int = 5000) -> None:
        self.statusBar().showMessage(text, ms)

    def show_shortcuts(self) -> None:
        from .help import HelpDialog, shortcuts_html

        HelpDialog("Keyboard shortcuts", shortcuts_html(), self).show()

    def show_features(self) -> None:
        from .help import HelpDialog, features_html

        HelpDialog("What you can switch on", features_html(), self).show()

    def show_about(self) -> None:
        from .help import HelpDialog, about_html

        HelpDialog("About", about_html(), self).show()

    def _update_actions(self, *_args) -> None:
        if self._closing:
            return
        acts.update_enabled(self, self.actions)
        paused = self.running and self.paused
        self.act_pause.setText("&Resume" if paused else "&Pause")
        self.act_pause.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))
        self.act_pause.setToolTip(("Resume training" if paused else "Pause training") + " (F6)")
        stack = self.undo_stack
        self.act_undo.setText(f"&Undo {stack.undoText()}".rstrip())
        self.act_redo.setText(f"&Redo {stack.redoText()}".rstrip())
        self.act_undo.setIconText("Undo")  # the toolbar stays short; the menu names the change
        self.act_redo.setIconText("Redo")
        self.act_undo.setToolTip(f"Undo {stack.undoText()} (Ctrl+Z)".replace("  ", " "))
        self.act_redo.setToolTip(f"Redo {stack.redoText()} (Ctrl+Shift+Z)".replace("  ", " "))
        self.setWindowTitle(f"{self.display_name()}[*] — {dialogs.APP_NAME}")
        self.setWindowModified(self.is_dirty())
