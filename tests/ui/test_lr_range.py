"""The learning-rate range test dialog (offscreen): it runs lr_find in a worker thread to
the end, draws exactly lr_find's curves, band and suggestions, hands the chosen η to
``apply``, and Cancel (or closing) stops the test within bounded time with no thread left.

Every test fails on any Qt warning (``qt_log_level_fail``)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from workbench import experiment_file
from workbench import spec as S
from workbench.data import load_dataset
from workbench.engine.lr_finder import SUGGESTIONS, RangeTestResult
from workbench.lr_find import lr_find
from workbench.ui import lr_range as lr_range_mod
from workbench.ui import style as st
from workbench.ui.lr_range import LrRangeDialog, live_threads, spec_with_lr

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.fixture(scope="module")
def xor():
    spec = experiment_file.load(EXAMPLES / "xor.json").spec
    return spec, load_dataset(spec.data)


@pytest.fixture
def make_dialog(qtbot):
    dialogs = []

    def make(spec, dataset):
        applied = []
        d = LrRangeDialog(None, spec, dataset, applied.append)
        qtbot.addWidget(d)
        d.show()
        qtbot.waitExposed(d)
        d.applied_specs = applied
        dialogs.append(d)
        return d

    yield make
    for d in dialogs:
        d.wait_for_thread()


def count_steps_after_cancel(monkeypatch, dialog) -> list:
    """Count the items the dialog's test thread asks of lr_find after it was told to
    cancel: the work a Cancel (or closing) lets through, counted rather than timed.  The
    thread looks at the cancel flag after every item and breaks at once, so at most one
    more item (asked just before the flag was set) may be computed."""
    after: list = []

    def counting_lr_find(*args, **kwargs):
        inner = lr_find(*args, **kwargs)  # (a bad option still raises here, before any item)

        def items():
            try:
                for item in inner:
                    yield item
                    thread = dialog._thread
                    if thread is not None and thread.cancel_requested:
                        after.append(item)  # asked for the next item although cancelled
            finally:
                inner.close()

        return items()

    monkeypatch.setattr(lr_range_mod, "lr_find", counting_lr_find)
    return after


def engine_result(spec, dataset, **options) -> RangeTestResult:
    *_, result = lr_find(spec, dataset, **options)
    return result


def run_to_end(qtbot, d, timeout=60_000) -> RangeTestResult:
    with qtbot.waitSignal(d.test_finished, timeout=timeout) as blocker:
        qtbot.mouseClick(d.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not d.running, timeout=timeout)
    return blocker.args[0]


def slow_spec() -> S.ExperimentSpec:
    """A range test of many seconds (20 seeds x 10,000 steps: minutes at the least) made
    of cheap steps (a few ms of CPU each): the step a Cancel or closing lets finish ends
    far within the dialog's JOIN_TIMEOUT_MS even on a loaded machine.  (With 256-unit
    layers and batches of 1024 a step took 1-3 s there, so whether closing found the
    thread ended depended on the load.)"""
    base = S.ExperimentSpec()
    return S.replace(
        base,
        data=S.replace(base.data, n_samples=4000),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(64, "tanh", 0.0, "xavier_uniform"),
                                                S.LayerSpec(64, "tanh", 0.0, "xavier_uniform"))),
        training=S.replace(base.training, batch_size=256),
    )


def test_runs_to_the_end_and_draws_lr_finds_result(qtbot, make_dialog, xor):
    spec, dataset = xor
    d = make_dialog(spec, dataset)
    assert not d.use_button.isEnabled() and not d.cancel_button.isEnabled()
    assert (d.seeds_spin.value(), d.steps_spin.value()) == (3, 100)
    d.steps_spin.setValue(120)
    d.lr_min_spin.setValue(1e-5)
    d.lr_max_spin.setValue(5.0)
    progress = []
    d.progressed.connect(lambda done, total: progress.append((done, total)))
    result = run_to_end(qtbot, d)
    want = engine_result(spec, dataset, seeds=3, steps=120, lr_min=1e-5, lr_max=5.0)
    assert d.result() is result
    np.testing.assert_array_equal(result.band.mean, want.band.mean)
    assert result.suggestions == want.suggestions
    # the band: mean and mean +- std
    lrs, mean = d.curve_data(d.mean_item)
    np.testing.assert_array_equal(lrs, want.band.lrs)
    np.testing.assert_array_equal(mean, want.band.mean)
    np.testing.assert_array_equal(d.curve_data(d.band_upper)[1], want.band.mean + want.band.std)
    np.testing.assert_array_equal(d.curve_data(d.band_lower)[1], want.band.mean - want.band.std)
    assert d.band_fill.isVisible()
    # each seed's raw (faint) and smoothed loss
    assert sorted(d.raw_items) == [c.seed for c in want.curves]
    for c in want.curves:
        x, y = d.curve_data(d.raw_items[c.seed])
        np.testing.assert_array_equal(x, c.lrs)
        np.testing.assert_array_equal(y, c.losses)
        np.testing.assert_array_equal(d.curve_data(d.smooth_items[c.seed])[1], c.smoothed)
        assert d.raw_items[c.seed].opts["pen"].color().alpha() < 128
    # the x axis is logarithmic; the suggestions are drawn at their eta, labelled
    assert d.plot.getPlotItem().ctrl.logXCheck.isChecked()
    drawn = d.suggestion_positions()
    assert set(drawn) == set(SUGGESTIONS)
    for s in want.suggestions:
        assert drawn[s.name] == pytest.approx(s.lr, rel=1e-12)
        line = d.suggestion_lines[s.name]
        assert s.name in line.label.toPlainText() and f"{s.lr:.3g}"[:4] in line.label.toPlainText()
        assert s.explanation in line.toolTip()
        assert d.suggestion_labels[s.name].text() == s.explanation
    # progress: to the end, monotone
    assert d.progress.value() == d.progress.maximum() == 360
    assert progress and progress[-1][1] == 360
    assert all(a[0] <= b[0] for a, b in zip(progress, progress[1:]))
    assert d.progress_label.text().startswith("Done in")
    assert d.selected_suggestion().name == "valley"
    assert d.use_button.isEnabled() and d.one_cycle_button.isEnabled() and d.run_button.isEnabled()
    assert live_threads() == []
    assert d.applied_specs == []  # nothing applied until asked


def test_use_as_eta_and_as_one_cycle_peak_call_apply(qtbot, make_dialog, xor):
    spec, dataset = xor
    d = make_dialog(spec, dataset)
    result = run_to_end(qtbot, d)
    steepest = next(s for s in result.suggestions if s.name == "steepest")
    d.select_suggestion("steepest")
    with qtbot.waitSignal(d.applied):
        qtbot.mouseClick(d.use_button, Qt.MouseButton.LeftButton)
    new = d.applied_specs[-1]
    assert new.optimizer.lr == steepest.lr and new.schedule.kind == "constant"
    assert new == S.replace(spec, optimizer=S.replace(spec.optimizer, lr=steepest.lr))
    valley = next(s for s in result.suggestions if s.name == "valley")
    d.select_suggestion("valley")
    qtbot.mouseClick(d.one_cycle_button, Qt.MouseButton.LeftButton)
    new = d.applied_specs[-1]
    assert new.optimizer.lr == valley.lr and new.schedule.kind == "one_cycle"
    assert new.training == spec.training and new.architecture == spec.architecture
    assert new.optimizer.kind == spec.optimizer.kind
    assert "one-cycle" in d.message_label.text()
    assert spec_with_lr(spec, 0.25).optimizer.lr == 0.25


def test_cancel_stops_mid_run_within_bounded_time(qtbot, make_dialog, monkeypatch):
    spec = slow_spec()
    dataset = load_dataset(spec.data)
    d = make_dialog(spec, dataset)
    after_cancel = count_steps_after_cancel(monkeypatch, d)
    d.seeds_spin.setValue(20)
    d.steps_spin.setValue(10_000)
    with qtbot.waitSignal(d.test_started):
        qtbot.mouseClick(d.run_button, Qt.MouseButton.LeftButton)
    assert d.running and d.cancel_button.isEnabled() and not d.run_button.isEnabled()
    assert not d.seeds_spin.isEnabled()
    qtbot.waitUntil(lambda: d.progress.value() >= 5, timeout=120_000)  # (a hang guard)
    thread = d._thread
    # bounded by work, not by the clock: at most one more step once Cancel is clicked (the
    # signal's time-outs only guard against a hang)
    with qtbot.waitSignal(d.test_cancelled, timeout=30_000):
        qtbot.mouseClick(d.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not d.running, timeout=30_000)
    assert len(after_cancel) <= 1, f"{len(after_cancel)} steps after Cancel"
    assert thread.isFinished() and live_threads() == []
    assert d.result() is None and not d.use_button.isEnabled() and d.run_button.isEnabled()
    assert 0 < d.progress.value() < d.progress.maximum() == 200_000
    assert d.progress_label.text().startswith("Cancelled after")
    assert d.raw_items  # what was measured stays drawn


def test_closing_mid_run_stops_the_thread(qtbot, make_dialog, monkeypatch):
    spec = slow_spec()
    d = make_dialog(spec, load_dataset(spec.data))
    after_cancel = count_steps_after_cancel(monkeypatch, d)
    d.seeds_spin.setValue(20)
    d.steps_spin.setValue(10_000)
    d.start()
    qtbot.waitUntil(lambda: d.progress.value() >= 1, timeout=120_000)  # (a hang guard)
    thread = d._thread
    # Closing cancels the test and waits for its thread at most JOIN_TIMEOUT_MS (so it
    # returns within that by construction); the thread has ended when it returns, after
    # at most one more step (counted, not timed)
    waits = []
    wait = thread.wait
    thread.wait = lambda *args: waits.append(args) or wait(*args)
    t0 = time.perf_counter()
    qtbot.mouseClick(d.close_button, Qt.MouseButton.LeftButton)
    assert time.perf_counter() - t0 < 30  # only a guard against a hang
    assert waits and all(len(a) == 1 and 0 <= a[0] <= lr_range_mod.JOIN_TIMEOUT_MS for a in waits), waits
    assert lr_range_mod.JOIN_TIMEOUT_MS <= 5000
    assert not d.isVisible() and not d.running
    assert thread.isFinished() and live_threads() == []
    assert len(after_cancel) <= 1, f"{len(after_cancel)} steps after closing"


def test_bad_range_and_bad_spec_are_reported(qtbot, make_dialog, xor):
    spec, dataset = xor
    d = make_dialog(spec, dataset)
    d.lr_min_spin.setValue(1.0)
    d.lr_max_spin.setValue(0.1)
    qtbot.mouseClick(d.run_button, Qt.MouseButton.LeftButton)
    assert not d.running and "upper bound" in d.message_label.text()
    # a spec whose network does not fit the data fails in the thread, reported in one line
    bad = S.replace(spec, early_stopping=S.replace(spec.early_stopping, enabled=True, monitor="val_rmse"),
                    data=S.replace(spec.data, val_fraction=0.25))
    d2 = make_dialog(bad, load_dataset(bad.data))
    with qtbot.waitSignal(d2.test_failed, timeout=30_000) as blocker:
        d2.start()
    qtbot.waitUntil(lambda: not d2.running, timeout=10_000)
    assert "\n" not in blocker.args[0] and blocker.args[0] == d2.message_label.text()
    assert live_threads() == []


def test_one_seed_has_no_band_and_theme_restyles(qtbot, make_dialog, xor):
    spec, dataset = xor
    d = make_dialog(spec, dataset)
    d.seeds_spin.setValue(1)
    result = run_to_end(qtbot, d)
    assert result.band.n_seeds == 1 and not d.band_fill.isVisible()
    d.apply_style(st.Style.normal(dark=True))
    assert d.plot.backgroundBrush().color() == st.QtGui.QColor(st.DARK.background)
    for name, line in d.suggestion_lines.items():
        assert st.contrast_ratio(line.pen.color(), st.DARK.background) >= 3.0
    font = d.plot.getPlotItem().getAxis("bottom").style["tickFont"].pointSizeF()
    d.apply_style(st.Style.presentation())
    assert d.plot.getPlotItem().getAxis("bottom").style["tickFont"].pointSizeF() == pytest.approx(1.6 * font)
    assert d.plot.backgroundBrush().color() == st.QtGui.QColor(st.LIGHT.background)


def test_screenshot_range_test(qtbot, make_dialog, tmp_path):
    import os
    import shutil

    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    spec = S.ExperimentSpec()
    d = make_dialog(spec, load_dataset(spec.data))
    d.resize(1280, 720)
    d.steps_spin.setValue(200)
    run_to_end(qtbot, d)
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    image = d.grab().toImage()
    path = tmp_path / "lr_range.png"
    assert image.save(str(path))
    out = os.environ.get("WORKBENCH_SCREENSHOT_DIR")
    if out:
        os.makedirs(out, exist_ok=True)
        shutil.copy(path, out)
    arr = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes()).reshape(-1, 4)
    assert len(np.unique(arr[::97], axis=0)) > 20
    assert d.width() <= 1280  # nothing forces the dialog wider than a 1280 px screen
