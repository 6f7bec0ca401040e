"""The optimizer playground (offscreen): the paths drawn are the engine's, clicks move the
start point, presets load their runs, the animation plays, pauses, steps and resets on
its timer and keys, edits re-run a path at once, and the theme and presentation mode
restyle the picture.

Every test fails on any Qt warning (``qt_log_level_fail``)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

from workbench import spec as S
from workbench.engine.optimizers import optimizer_class
from workbench.engine.schedules import KINDS as SCHEDULE_KINDS
from workbench.engine.surfaces import PRESETS, Quadratic, Rosenbrock, optimizer_path
from workbench.ui import style as st
from workbench.ui.playground import PlaygroundRun, PlaygroundWindow, describe, open_playground
from workbench.ui.playground.contours import segments
from workbench.ui.playground.model import run_path

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]


@pytest.fixture
def pg_window(qtbot):
    w = PlaygroundWindow()
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.pause()


def drawn(w, i):
    return w.plot.drawn_points(i)


def wait_ms(qtbot, ms):
    """Let the event loop run for ``ms`` (a timer's signal, not a sleep)."""
    timer = QTimer()
    timer.setSingleShot(True)
    with qtbot.waitSignal(timer.timeout, timeout=ms + 5000):
        timer.start(ms)


def combo_to(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


# ---------------------------------------------------------------------------
# the paths are the engine's


def test_opens_on_the_ravine_preset_with_the_engine_paths(pg_window):
    w = pg_window
    p = PRESETS["ravine"]
    assert w.preset == "ravine" and w.surface == p.surface and w.start == p.start and w.steps == p.steps
    assert w.preset_combo.currentData() == "ravine"
    assert [r.label for r in w.runs()] == [r.label for r in p.runs]
    # t = 0: only the start point
    for i in range(len(p.runs)):
        np.testing.assert_array_equal(drawn(w, i), [p.start])
    w.seek(w.end_step())
    expected = p.paths()
    for i, run in enumerate(p.runs):
        want = optimizer_path(p.surface, run.kind, run.hyper, p.start, p.steps, lr=run.lr)
        np.testing.assert_array_equal(drawn(w, i), want.points)
        np.testing.assert_array_equal(want.points, expected[run.label].points)
    # part of the way: w_0 .. w_37
    w.seek(37)
    for i, run in enumerate(p.runs):
        np.testing.assert_array_equal(drawn(w, i), expected[run.label].points[:38])
        assert w.table.step_text(i) == "37"
        assert w.table.loss_text(i) == f"{expected[run.label].losses[37]:.4g}"
    assert w.step_label.text() == f"t = 37 / {p.steps}"


def test_every_preset_draws_the_engine_paths(qtbot, pg_window):
    w = pg_window
    for name, p in PRESETS.items():
        with qtbot.waitSignal(w.preset_loaded, check_params_cb=lambda n, name=name: n == name):
            w.preset_actions[name].trigger()
        w.seek(p.steps)
        paths = p.paths()
        assert len(w.plot.path_items()) == len(p.runs)
        for i, run in enumerate(p.runs):
            np.testing.assert_array_equal(drawn(w, i), paths[run.label].points)
            np.testing.assert_array_equal(w.paths()[i].losses, paths[run.label].losses)


def test_contours_use_the_surfaces_log_levels_and_the_minimum_is_marked(pg_window):
    w = pg_window
    w.set_surface("rosenbrock")
    s = Rosenbrock()
    assert w.surface == s and w.start == s.start and w.preset is None
    np.testing.assert_allclose(w.plot.levels(), s.levels(20, s.grid(n=161)))
    assert np.all(np.diff(w.plot.levels()) > 0)
    assert w.plot.minimum_point() == s.minimum == (1.0, 1.0)
    assert sum(len(c.getData()[0]) for c in w.plot.contour_items() if c.getData()[0] is not None) > 100
    assert "Rosenbrock" in w.explanation.text()
    # the saddle has no minimum: its saddle point is marked instead
    w.set_surface("saddle")
    assert w.plot.minimum_point() == (0.0, 0.0) and w.plot.minimum_label.toPlainText() == "saddle"
    assert w.plot.levels()[0] < 0 < w.plot.levels()[-1]


def test_contour_segments_lie_on_their_level():
    xs = np.linspace(-2, 2, 81)
    ys = np.linspace(-1.5, 1.5, 61)
    X, Y = np.meshgrid(xs, ys)
    Z = X**2 + 2 * Y**2
    seg = segments(xs, ys, Z, 1.0)
    assert len(seg) > 0 and len(seg) % 2 == 0
    r = seg[:, 0] ** 2 + 2 * seg[:, 1] ** 2
    np.testing.assert_allclose(r, 1.0, atol=0.02)
    assert len(segments(xs, ys, Z, 100.0)) == 0


def test_kappa_changes_the_ravine_and_leaves_the_preset(qtbot, pg_window):
    w = pg_window
    assert w.kappa_spin.isVisible()
    with qtbot.waitSignal(w.paths_changed):
        w.kappa_spin.setValue(50)
    assert w.surface == Quadratic(kappa=50.0) and w.preset is None
    assert w.preset_combo.currentText() == "Custom"
    w.seek(w.end_step())
    run = w.runs()[0]
    want = optimizer_path(Quadratic(kappa=50.0), run.kind, run.hyper, w.start, w.steps, lr=run.lr)
    np.testing.assert_array_equal(drawn(w, 0), want.points)
    # SGD at η = 0.07 > 2/κ = 0.04 diverges: the table says where it stopped
    assert want.stopped_reason is not None
    assert "⚠" in w.table.step_text(0) and want.stopped_reason in w.table.item(0, 1).toolTip()
    combo_to(w.surface_combo, "beale")
    qtbot.waitUntil(lambda: not w.kappa_spin.isVisible(), timeout=5000)


# ---------------------------------------------------------------------------
# start point, edits, runs


def test_clicking_the_plot_sets_the_start_point(qtbot, pg_window):
    w = pg_window
    w.seek(w.end_step())
    pos = w.plot.view_to_widget(-5.0, 3.0)
    with qtbot.waitSignal(w.start_changed) as blocker:
        qtbot.mouseClick(w.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    x, y = blocker.args
    # within a pixel of the point clicked
    (x0, x1), (y0, y1) = w.plot.getPlotItem().vb.viewRange()
    assert abs(x + 5.0) < 2 * (x1 - x0) / w.plot.width()
    assert abs(y - 3.0) < 2 * (y1 - y0) / w.plot.height()
    assert w.start == (x, y) and w.plot.start_point() == (x, y)
    assert w.current_step == w.steps  # the step reached stays: the new paths show at once
    for i, run in enumerate(w.runs()):
        want = optimizer_path(w.surface, run.kind, run.hyper, (x, y), w.steps, lr=run.lr)
        np.testing.assert_array_equal(drawn(w, i), want.points)
        assert tuple(drawn(w, i)[0]) == (x, y)


def test_a_hyperparameter_edit_reruns_that_path_from_the_start(qtbot, pg_window):
    w = pg_window
    w.seek(80)
    before = [drawn(w, i).copy() for i in range(3)]
    w.select_run(2)
    editor = w.editor
    assert editor.run().kind == "momentum"
    assert editor.momentum_spin.value() == 0.8
    with qtbot.waitSignal(w.paths_changed):
        editor.momentum_spin.setValue(0.5)
    run = w.runs()[2]
    assert run.optimizer.momentum == 0.5 and run.label == "" and run.title == "Momentum β = 0.5, η = 0.07"
    want = optimizer_path(w.surface, "momentum", {"momentum": 0.5, "momentum_form": "velocity"}, w.start,
                          w.steps, lr=0.07)
    np.testing.assert_array_equal(drawn(w, 2), want.points[:81])
    assert not np.array_equal(drawn(w, 2), before[2])
    for i in (0, 1):  # the other paths are untouched
        np.testing.assert_array_equal(drawn(w, i), before[i])
    assert w.table.item(2, 0).text() == "Momentum β = 0.5, η = 0.07"
    # η too
    with qtbot.waitSignal(w.paths_changed):
        editor.lr_spin.setValue(0.02)
    want = optimizer_path(w.surface, "momentum", {"momentum": 0.5}, w.start, w.steps, lr=0.02)
    np.testing.assert_array_equal(w.paths()[2].points, want.points)


def test_the_rule_shows_only_its_hyperparameters_and_its_formula(qtbot, pg_window):
    w = pg_window
    editor = w.editor
    for kind in ("momentum", "adam", "rmsprop", "adadelta", "nadam", "sgd"):
        with qtbot.waitSignal(w.paths_changed):
            combo_to(editor.kind_combo, kind)
        assert set(editor.visible_fields()) == set(optimizer_class(kind).uses)
        run = w.runs()[w.selected_index()]
        assert run.kind == kind
        np.testing.assert_array_equal(w.paths()[w.selected_index()].points,
                                      optimizer_path(w.surface, kind, run.hyper, w.start, w.steps, lr=run.lr).points)
        formula = optimizer_class(kind).formula()[0].replace("*", "").split("_")[0]
        assert formula in editor.kind_combo.toolTip().replace("*", "")
        tip = w.table.item(w.selected_index(), 0).toolTip()
        assert run.title in tip and "=" in tip
    # AdamW offers its decoupled weight decay λ
    combo_to(editor.kind_combo, "adamw")
    assert editor.weight_decay_spin.isVisibleTo(editor)
    with qtbot.waitSignal(w.paths_changed):
        editor.weight_decay_spin.setValue(0.1)
    run = w.runs()[w.selected_index()]
    assert run.weight_decay == 0.1 and "λ = 0.1" in run.title
    want = optimizer_path(w.surface, "adamw", run.hyper, w.start, w.steps, lr=run.lr, weight_decay=0.1)
    np.testing.assert_array_equal(w.paths()[w.selected_index()].points, want.points)


def test_a_schedule_is_evaluated_per_step(qtbot, pg_window):
    w = pg_window
    w.select_run(0)
    with qtbot.waitSignal(w.paths_changed):
        combo_to(w.editor.schedule_combo, "exponential")
    run = w.runs()[0]
    assert run.schedule == "exponential"
    gamma = SCHEDULE_KINDS["exponential"].suggest(w.steps)["gamma"]
    want = optimizer_path(w.surface, "sgd", {}, w.start, w.steps, lr=0.07, schedule=("exponential", {"gamma": gamma}))
    path = w.paths()[0]
    np.testing.assert_array_equal(path.points, want.points)
    np.testing.assert_allclose(path.lrs, 0.07 * gamma ** np.arange(w.steps))
    assert run.title.endswith("exponential")


def test_add_and_remove_runs_with_distinct_colours(qtbot, pg_window):
    w = pg_window
    assert [r.color for r in w.runs()] == [0, 1, 2]
    w.select_run(2)
    qtbot.mouseClick(w.add_button, Qt.MouseButton.LeftButton)
    runs = w.runs()
    assert len(runs) == 4 and runs[3].optimizer == runs[2].optimizer and runs[3].color == 3
    assert w.selected_index() == 3 and w.editor.run() == runs[3]
    np.testing.assert_array_equal(w.paths()[3].points, w.paths()[2].points)
    assert w.plot.path_color(3) == w.plot.path_pen_color(st.OKABE_ITO[3])
    # the editor's colour box recolours the path
    with qtbot.waitSignal(w.paths_changed):
        combo_to(w.editor.color_combo, 5)
    assert w.plot.path_color(3) == w.plot.path_pen_color(st.SKY)
    while len(w.runs()) < 8:
        w.add_run()
    assert not w.add_button.isEnabled() and w.add_run() == -1
    w.select_run(0)
    qtbot.mouseClick(w.remove_button, Qt.MouseButton.LeftButton)
    assert len(w.runs()) == 7 and len(w.plot.path_items()) == 7 and w.table.rowCount() == 7
    assert w.add_button.isEnabled()


def test_presets_load_their_runs_and_explanation(qtbot, pg_window):
    w = pg_window
    combo_to(w.preset_combo, "adam_bias")
    p = PRESETS["adam_bias"]
    runs = w.runs()
    assert [(r.kind, r.lr, r.optimizer.bias_correction) for r in runs] == [("adam", 0.5, True), ("adam", 0.5, False)]
    assert [r.title for r in runs] == [r.label for r in p.runs]
    assert w.steps_spin.value() == 40 and w.current_step == 0
    assert p.title in w.explanation.text() and "biased toward 0" in w.explanation.text()
    assert w.preset_combo.itemData(w.preset_combo.currentIndex(), Qt.ItemDataRole.ToolTipRole) == p.explanation
    combo_to(w.preset_combo, "adagrad_rmsprop")
    assert [r.kind for r in w.runs()] == ["adagrad", "rmsprop"] and w.runs()[1].optimizer.rho == 0.9
    assert w.editor.run() == w.runs()[0]
    combo_to(w.preset_combo, "saddle")
    assert w.surface.name == "saddle" and w.start == (1.0, 1e-3)
    qtbot.waitUntil(lambda: not w.kappa_spin.isVisible(), timeout=5000)


# ---------------------------------------------------------------------------
# animation


def test_play_advances_on_the_timer_pause_stops_and_reset_returns_to_zero(qtbot, pg_window):
    w = pg_window
    w.set_speed(200)
    assert w.speed_spin.value() == 200
    with qtbot.waitSignal(w.playing_changed, check_params_cb=lambda p: p is True):
        w.act_play.trigger()
    assert w.playing and w.act_play.text() == "&Pause"
    qtbot.waitUntil(lambda: w.current_step >= 10, timeout=10_000)
    assert len(drawn(w, 0)) == w.current_step + 1
    with qtbot.waitSignal(w.playing_changed, check_params_cb=lambda p: p is False):
        w.act_play.trigger()
    t = w.current_step
    wait_ms(qtbot, 150)
    assert w.current_step == t and not w.playing
    w.act_step.trigger()
    assert w.current_step == t + 1 and not w.playing
    w.act_reset.trigger()
    assert w.current_step == 0
    for i in range(len(w.runs())):
        assert len(drawn(w, i)) == 1
    assert w.table.step_text(0) == "0"


def test_playing_stops_by_itself_at_the_end(qtbot, pg_window):
    w = pg_window
    combo_to(w.preset_combo, "adam_bias")  # 40 steps
    w.set_speed(1000)
    w.play()
    qtbot.waitUntil(lambda: not w.playing, timeout=10_000)
    assert w.current_step == w.end_step() == 40
    # Play at the end starts again from 0
    w.play()
    assert w.playing and w.current_step < 40
    w.pause()


def test_keyboard_space_right_and_r(qtbot, pg_window):
    w = pg_window
    with qtbot.waitActive(w):
        w.activateWindow()
    w.plot.setFocus()
    qtbot.keyClick(w.plot, Qt.Key.Key_Right)
    qtbot.keyClick(w.plot, Qt.Key.Key_Right)
    assert w.current_step == 2
    qtbot.keyClick(w.plot, Qt.Key.Key_Space)
    assert w.playing
    qtbot.keyClick(w.plot, Qt.Key.Key_Space)
    assert not w.playing
    qtbot.keyClick(w.plot, Qt.Key.Key_R)
    assert w.current_step == 0
    for act, key in ((w.act_play, "Space"), (w.act_step, "Right"), (w.act_reset, "R")):
        assert act.shortcut().toString() == key and f"({key})" in act.toolTip()


# ---------------------------------------------------------------------------
# style


def test_theme_switch_and_presentation_mode_restyle(qtbot, pg_window):
    w = pg_window
    w.seek(20)
    w.apply_style(st.Style.normal(dark=True))
    assert w.plot.backgroundBrush().color() == st.QtGui.QColor(st.DARK.background)
    for i in range(3):
        assert st.contrast_ratio(w.plot.path_color(i), st.DARK.background) >= 3.0
    assert w.plot.getPlotItem().getAxis("left").textPen().color() == st.QtGui.QColor(st.DARK.text)
    light_font = w.plot.getPlotItem().getAxis("left").style["tickFont"].pointSizeF()
    width = w.plot.path_items()[0].opts["pen"].widthF()
    w.apply_style(st.Style.presentation(dark=False))
    assert w.plot.backgroundBrush().color() == st.QtGui.QColor(st.LIGHT.background)
    assert w.plot.getPlotItem().getAxis("left").style["tickFont"].pointSizeF() == pytest.approx(1.6 * light_font)
    assert w.plot.path_items()[0].opts["pen"].widthF() > width
    for i in range(3):
        assert st.contrast_ratio(w.plot.path_color(i), st.LIGHT.background) >= 3.0
    w.apply_style(st.Style.normal())
    assert w.plot.getPlotItem().getAxis("left").style["tickFont"].pointSizeF() == pytest.approx(light_font)
    # the legend names every path and can be hidden (the table lists them too)
    assert [label.text for _sample, label in w.plot.legend.items] == [r.title for r in w.runs()]
    w.act_legend.trigger()
    assert not w.plot.legend.isVisible()
    w.act_legend.trigger()
    assert w.plot.legend.isVisible()


def test_follows_the_application_theme(qtbot, pg_window):
    w = pg_window
    app = QApplication.instance()
    try:
        st.apply_theme(app, "dark")
        qtbot.waitUntil(lambda: w.current_style().dark, timeout=5000)
        assert w.plot.backgroundBrush().color() == st.QtGui.QColor(st.DARK.background)
    finally:
        st.apply_theme(app, "light")
    qtbot.waitUntil(lambda: not w.current_style().dark, timeout=5000)


def test_open_playground_follows_its_parent_and_is_made_once(qtbot):
    class Parent(QMainWindow):
        style = st.Style.presentation(dark=True)

        def current_style(self):
            return self.style

    parent = Parent()
    qtbot.addWidget(parent)
    w = open_playground(parent)
    assert isinstance(w, PlaygroundWindow) and w.isWindow() and w.isVisible()
    assert open_playground(parent) is w
    assert w.current_style() == Parent.style
    parent.style = st.Style.normal(dark=False)
    app = QApplication.instance()
    app.setFont(app.font())  # an application font change makes it ask the parent again
    st.apply_theme(app, "light")
    qtbot.waitUntil(lambda: w.current_style() == parent.style, timeout=5000)
    w.close()


# ---------------------------------------------------------------------------
# the model


def test_labels_and_preset_runs():
    run = PlaygroundRun(S.OptimizerSpec(kind="adam", lr=0.5, bias_correction=False))
    assert describe(run) == "Adam, no bias correction, η = 0.5"
    run = PlaygroundRun(S.OptimizerSpec(kind="rmsprop", lr=0.1, rho=0.9), schedule="cosine")
    assert describe(run) == "RMSProp γ = 0.9, η = 0.1, cosine annealing"
    assert run.hyper == {"rho": 0.9, "eps": 1e-8}
    for p in PRESETS.values():
        for r in p.runs:
            mine = PlaygroundRun.from_preset(r, 0)
            assert mine.title == r.label
            np.testing.assert_array_equal(run_path(mine, p.surface, p.start, p.steps).points,
                                          r.path(p.surface, p.start, p.steps).points)
    with pytest.raises(ValueError, match="schedule"):
        PlaygroundRun(schedule="sometimes")


def test_steps_recompute_the_paths(qtbot, pg_window):
    w = pg_window
    w.seek(100)
    with qtbot.waitSignal(w.paths_changed):
        w.steps_spin.setValue(60)
    assert w.steps == 60 and w.current_step == 60 and w.end_step() == 60
    assert all(p.steps == 60 for p in w.paths())
    run = w.runs()[1]
    np.testing.assert_array_equal(drawn(w, 1), optimizer_path(w.surface, run.kind, run.hyper, w.start, 60,
                                                              lr=run.lr).points)


# ---------------------------------------------------------------------------
# a picture to look at (WORKBENCH_SCREENSHOT_DIR=/tmp/shots pytest tests/ui/test_playground.py -k screenshot)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_screenshot_ravine(qtbot, tmp_path, dark):
    import os
    import shutil

    from PySide6.QtCore import QEvent

    app = QApplication.instance()
    st.apply_theme(app, "dark" if dark else "light")
    try:
        w = PlaygroundWindow(style=st.Style.normal(dark))
        qtbot.addWidget(w)
        w.resize(1600, 1000)
        w.show()
        qtbot.waitExposed(w)
        w.add_run(PlaygroundRun(S.OptimizerSpec(kind="adam", lr=0.5), color=4))
        w.seek(60)
        for _ in range(3):  # nested layouts settle in passes
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        qtbot.waitUntil(lambda: not w.plot._contour_timer.isActive(), timeout=5000)
        image = w.grab().toImage()
        path = tmp_path / f"playground_ravine_{'dark' if dark else 'light'}.png"
        assert image.save(str(path))
        out = os.environ.get("WORKBENCH_SCREENSHOT_DIR")
        if out:
            os.makedirs(out, exist_ok=True)
            shutil.copy(path, out)
        arr = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes()).reshape(-1, 4)
        assert len(np.unique(arr[::97], axis=0)) > 20  # not blank
    finally:
        st.apply_theme(app, "light")
