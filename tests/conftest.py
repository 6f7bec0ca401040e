"""Test-wide settings: Qt offscreen on a 1920x1200 screen at a pixel ratio of 1, pyqtgraph bound to PySide6,
Hypothesis derandomized, and the process-wide state a GUI test may change (application
font and palette, the garbage collector) restored after every test."""

import gc
import os

import pytest

# the suite draws offscreen whatever the developer's environment says (a test that wants
# a HiDPI screen starts its own subprocess with QT_SCALE_FACTOR set)
# a 1920x1200 desktop screen (the plugin's default is 800x800, smaller than any window
# the tests size); tests of small screens start their own subprocess with another file
os.environ["QT_QPA_PLATFORM"] = "offscreen:configfile=" + os.path.join(os.path.dirname(__file__), "offscreen_screen.json")
for _name in ("QT_SCALE_FACTOR", "QT_SCREEN_SCALE_FACTORS", "QT_ENABLE_HIGHDPI_SCALING", "QT_FONT_DPI"):
    os.environ.pop(_name, None)
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

try:
    from hypothesis import settings as _hypothesis_settings

    # the same examples on every run: a red run is reproducible, never luck
    _hypothesis_settings.register_profile("workbench", derandomize=True, print_blob=True)
    _hypothesis_settings.load_profile("workbench")
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass


@pytest.fixture(autouse=True)
def _restore_process_state():
    """Undo what a failing GUI test may leave behind: the application font and palette
    (presentation mode, themes) and a disabled garbage collector (a live run)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    font = app.font() if app is not None else None
    palette = app.palette() if app is not None else None
    gc_enabled = gc.isenabled()
    yield
    app = QApplication.instance()
    if app is not None and font is not None:
        if app.font() != font:
            app.setFont(font)
        if app.palette() != palette:
            app.setPalette(palette)
    if gc_enabled and not gc.isenabled():
        gc.enable()
    # the cycles a test left (widgets among them) are collected here, in the main thread,
    # not by a worker thread of a later test: a Qt object destroyed there deadlocked a
    # full run once (in test_worker.py, after test_trust.py's windows; see GcGuard).  What
    # survives is frozen (never examined again), so each collection only looks at what one
    # test made: a full collection of the whole suite's heap after every test took 7 min.
    gc.collect()
    gc.freeze()


# -- the window fixtures (GUI tests, here and in tests/ui) -------------------------------------
@pytest.fixture
def settings(tmp_path):
    """QSettings in an INI file of the test's own (never the developer's)."""
    from PySide6.QtCore import QSettings

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
