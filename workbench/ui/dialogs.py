"""The application's name and its modal dialogs.

The main window calls these through its own module's names, so tests replace them
there (``monkeypatch.setattr(main_window, "ask_save_changes", ...)``) and no dialog
ever blocks a test."""

from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

APP_NAME = "MLP Workbench"
ORG_NAME = "MLP Workbench"
FILE_FILTER = "Experiments (*.json);;All files (*)"


def ask_save_changes(parent: QWidget, name: str) -> str:
    """Ask whether to save unsaved changes: ``"save"``, ``"discard"`` or ``"cancel"``."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(APP_NAME)
    box.setText(f"“{name}” has unsaved changes.")
    box.setInformativeText("Save them before continuing?")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def show_error(parent: QWidget, title: str, text: str) -> None:
    """A modal error dialog (the first line is the summary, the rest the details)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    lines = text.splitlines() or [text]
    box.setText(lines[0])
    if len(lines) > 1:
        box.setInformativeText("\n".join(lines[1:]))
    box.exec()


def get_open_path(parent: QWidget, directory: str) -> Optional[str]:
    path, _ = QFileDialog.getOpenFileName(parent, "Open experiment", directory, FILE_FILTER)
    return path or None


def get_save_path(parent: QWidget, title: str, directory: str, file_filter: str) -> Optional[str]:
    path, _ = QFileDialog.getSaveFileName(parent, title, directory, file_filter)
    return path or None

