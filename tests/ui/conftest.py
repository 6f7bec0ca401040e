"""Fixtures shared by the GUI tests."""

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture
def view(qtbot):
    """A decision-boundary view, 500 x 450."""
    from workbench.ui.plots import BoundaryView

    v = BoundaryView()
    qtbot.addWidget(v)
    v.resize(500, 450)
    return v


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def dialogs(monkeypatch):
    """Every dialog answered by a :class:`window_kit.Dialogs` (no dialog ever blocks a test)."""
    from window_kit import Dialogs

    from workbench.ui import dialogs as dialogs_mod

    d = Dialogs()
    monkeypatch.setattr(dialogs_mod, "ask_save_changes", d.ask)
    monkeypatch.setattr(dialogs_mod, "show_error", d.error)
    monkeypatch.setattr(dialogs_mod, "get_open_path", lambda parent, directory: d.open_path)
    monkeypatch.setattr(dialogs_mod, "get_save_path", lambda parent, title, directory, flt: d.save_path)
    monkeypatch.setattr(dialogs_mod, "ask_overwrite_readonly", d.ask_readonly)
    monkeypatch.setattr(dialogs_mod, "ask_save_without_weights", d.ask_without_weights)
    monkeypatch.setattr(dialogs_mod, "locate_data", d.locate)
    return d


@pytest.fixture
def make_window(qtbot, settings, dialogs):
    """``make(spec=None)``: a shown main window (its run shut down after the test)."""
    from workbench.ui.main_window import MainWindow

    windows = []

    def make(spec=None):
        w = MainWindow(spec, settings=settings)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.shutdown_worker()


@pytest.fixture
def window(make_window):
    return make_window()
