"""Screenshots of the main window to look at: default, mid-run, early stopping,
presentation mode, dark theme.

They are written to pytest's ``tmp_path`` and, when ``WORKBENCH_SCREENSHOT_DIR`` is set,
copied there too (``WORKBENCH_SCREENSHOT_DIR=/tmp/screens pytest tests/ui/test_screenshots.py``).
Each test also checks what the picture must show, so a blank or broken window fails."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from workbench import spec as S
from workbench.ui import dialogs
from workbench.ui.main_window import MainWindow

import curves_probe as probe

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
SIZE = (1600, 1000)


@pytest.fixture
def shoot(tmp_path):
    out_dir = os.environ.get("WORKBENCH_SCREENSHOT_DIR")

    def save(widget, name: str) -> Path:
        from PySide6.QtCore import QEvent

        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # what was just shown is laid out
        image = widget.grab().toImage()
        path = tmp_path / f"{name}.png"
        assert image.save(str(path)), path
        if out_dir:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(out_dir) / path.name)
        # not blank: many distinct colours
        ptr = image.constBits()
        arr = np.frombuffer(ptr, dtype=np.uint8, count=image.sizeInBytes())
        assert len(np.unique(arr.reshape(-1, 4)[::97], axis=0)) > 20
        return path

    return save


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from workbench.ui.style import apply_theme

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(*SIZE)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown_worker()
    apply_theme(QApplication.instance(), "light")


def test_screenshot_default(window, shoot):
    assert window.size().width() == SIZE[0]
    shoot(window, "01_default")


def test_screenshot_mid_run(qtbot, window, shoot):
    window.propose("training", S.replace(window.spec.training, epochs=2000))
    with qtbot.waitSignal(window.run_started, timeout=10_000):
        window.act_run.trigger()
    qtbot.waitUntil(lambda: window.curves.history_length() >= 120, timeout=60_000)
    with qtbot.waitSignal(window.pause_changed, check_params_cb=lambda p: p is True, timeout=10_000):
        window.act_pause.trigger()
    assert window.boundary.image_item.isVisible()
    shoot(window, "02_mid_run_paused")


def test_screenshot_early_stopping(qtbot, window, shoot):
    assert window.open_path(EXAMPLES / "overfitting.json")
    window.timeline.pace.set_rate(None)  # the example's demonstration pace: not for a test
    with qtbot.waitSignal(window.run_finished, timeout=120_000):
        window.act_run.trigger()
    assert probe.early_stop_items(window.curves) is not None
    shoot(window, "03_early_stopping")


def test_screenshot_presentation_mode(qtbot, window, shoot):
    window.propose("training", S.replace(window.spec.training, epochs=150))
    with qtbot.waitSignal(window.run_finished, timeout=120_000):
        window.act_run.trigger()
    window.act_presentation.trigger()
    assert window.presentation_mode
    # the docks are hidden: wait until the central area has taken their place
    qtbot.waitUntil(lambda: window.centralWidget().width() > 0.95 * window.width(), timeout=5000)
    shoot(window, "04_presentation")
    window.act_presentation.trigger()


def test_screenshot_dark_theme(qtbot, window, shoot):
    window.theme_actions["dark"].trigger()
    window.propose("training", S.replace(window.spec.training, epochs=150))
    with qtbot.waitSignal(window.run_finished, timeout=120_000):
        window.act_run.trigger()
    assert window.current_style().dark
    shoot(window, "05_dark")


def test_screenshot_regression_and_no_boundary(qtbot, window, shoot):
    assert window.open_path(EXAMPLES / "sine_regression.json")
    window.timeline.pace.set_rate(None)  # the example's demonstration pace: not for a test
    window.propose("training", S.replace(window.spec.training, epochs=120))
    with qtbot.waitSignal(window.run_finished, timeout=120_000):
        window.act_run.trigger()
    xs, ys = window.boundary.curve_data()
    assert len(xs) == 200 and np.isfinite(ys).all()
    shoot(window, "06_regression")
    assert window.open_path(EXAMPLES / "iris.json")
    window.timeline.pace.set_rate(None)  # 4 features: no boundary view; no demonstration pace in a test
    qtbot.waitUntil(lambda: not window.boundary.isVisible(), timeout=5000)
    with qtbot.waitSignal(window.run_finished, timeout=120_000):
        window.act_run.trigger()
    shoot(window, "07_iris_no_boundary")
