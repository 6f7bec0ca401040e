"""The application's name and its modal dialogs.

Everything calls these through this module (``dialogs.ask_save_changes(...)``), so tests
replace them here (``monkeypatch.setattr(dialogs, "ask_save_changes", ...)``) and no
dialog ever blocks a test."""

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



def ask_overwrite_readonly(parent: QWidget, name: str) -> bool:
    """The file is read-only: replace it anyway?"""
    answer = QMessageBox.question(
        parent, APP_NAME, f"“{name}” is read-only.\nReplace it anyway (it stays read-only)?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def ask_save_without_weights(parent: QWidget, reason: str) -> bool:
    """The trained weights do not fit a file: save the rest without them?"""
    answer = QMessageBox.question(
        parent, APP_NAME, f"{reason}\n\nSave the experiment and its curves without the trained weights?",
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
    return answer == QMessageBox.StandardButton.Save


def locate_data(parent: QWidget, looked_for: str) -> Optional[str]:
    """The experiment's CSV file is not where it was: point to it (None: cancel)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(APP_NAME)
    box.setText("The experiment's data file was not found.")
    box.setInformativeText(f"Looked for:\n{looked_for}\n\nPoint to the file?")
    locate = box.addButton("Locate…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    if box.clickedButton() is not locate:
        return None
    import os

    name = os.path.basename(looked_for)
    path, _ = QFileDialog.getOpenFileName(parent, f"Where is {name}?", os.path.dirname(looked_for),
                                          f"{name};;CSV files (*.csv *.csv.gz);;All files (*)")
    return path or None
