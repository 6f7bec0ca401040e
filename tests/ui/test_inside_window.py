"""Issue 11 and 12 in the window: the Inside dock fed by the worker (only while shown), the
timeline's epoch in the diagram, and the Tools menu (range test, playground, sweep)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from window_kit import quick_spec, run_to_end

from workbench import spec as S
from workbench.build import network_with
from workbench.engine.diagnostics import HealthSnapshot
from workbench.experiment_file import decode_weights
from workbench.ui.inside.errors_view import errors_for
from workbench.ui.inside.maps import DiagramSnapshot


def collect(w):
    got = []
    w.run_controller.inside_ready.connect(got.append)
    return got


def test_the_inside_dock_shows_what_the_network_is_at_each_epoch(qtbot, make_window):
    w = make_window(quick_spec(epochs=30))
    w.act_inside.trigger()
    assert w.panels["inside"].isVisible()
    got = collect(w)
    run_to_end(qtbot, w)
    run, ds = w.session.current_run, w.dataset
    diagrams = [p for p in got if isinstance(p, DiagramSnapshot)]
    healths = [p for p in got if isinstance(p, HealthSnapshot)]
    errors = [p for p in got if isinstance(p, dict)]
    assert diagrams[0].epoch == 0 and healths[0].epoch == 0 and len(errors) == 1
    for snap in (diagrams[-1], healths[-1]):  # each equals the network rebuilt from that epoch's weights
        epoch, params = w.session.snapshots.nearest(run.id, snap.epoch)
        assert epoch == snap.epoch
        net = network_with(run.spec, ds, params)
        if isinstance(snap, DiagramSnapshot):
            for l, b in enumerate(snap.biases):
                np.testing.assert_array_equal(np.ravel(b), np.ravel(net.biases[l]))
        else:
            for l, layer in enumerate(snap.layers):
                assert layer.weights.norm == pytest.approx(float(np.linalg.norm(net.weights[l].astype(np.float64))),
                                                           rel=1e-6)
    # the errors are the final (restored) model's
    final = network_with(run.spec, ds, decode_weights(run.result.weights))
    expected = errors_for(final, ds)
    np.testing.assert_array_equal(errors[0]["errors"]["validation"].confusion, expected["validation"].confusion)
    assert w.inside_panel.errors._errors["validation"].accuracy == expected["validation"].accuracy
    # the layer-health update ratio exists after the first epoch (the last step's, probed)
    assert healths[-1].layers[0].update_ratio is not None and healths[-1].layers[0].update_ratio > 0


def test_the_worker_computes_nothing_for_a_hidden_dock(qtbot, make_window):
    w = make_window(quick_spec(epochs=5))
    assert not w.panels["inside"].isVisible()
    got = collect(w)
    run_to_end(qtbot, w)
    assert got == []


def test_the_timeline_epoch_is_shown_in_the_diagram(qtbot, make_window):
    w = make_window(quick_spec(epochs=10))
    run_to_end(qtbot, w)
    w.act_inside.trigger()
    w.timeline.slider.setValue(4)
    snap = w.inside_panel.diagram._snapshot
    assert snap.epoch == 4
    run = w.session.current_run
    net = network_with(run.spec, w.dataset, w.session.snapshots.nearest(run.id, 4)[1])
    np.testing.assert_array_equal(np.ravel(snap.biases[0]), np.ravel(net.biases[0]))


def test_tools_menu_opens_the_range_test_playground_and_sweep(qtbot, make_window):
    w = make_window(quick_spec(epochs=5))
    titles = [a.text() for a in w.menus["Tools"].actions() if a.text()]
    assert titles == ["Look &inside", "Find a learning &rate…", "S&weep…", "See the &optimizers…"]
    dialog = w.find_learning_rate()
    assert dialog is not None and dialog.isVisible()
    w.propose("optimizer", S.replace(w.spec.optimizer, lr=0.02))
    assert dialog.findChild(type(dialog)) is None  # (one dialog)
    dialog._apply(S.replace(w.spec, optimizer=S.replace(w.spec.optimizer, lr=0.3)))  # "Use as η"
    assert w.spec.optimizer.lr == 0.3
    w.undo()  # an undo step like any edit (merged with the edit of the same field before it)
    assert w.spec.optimizer.lr == 0.01
    dialog.close()
    playground = w.open_playground()
    assert playground.isVisible() and w.open_playground() is playground
    playground.close()
    w.act_sweep.trigger()
    assert w.panels["sweep"].isVisible()


def test_a_sweep_trial_opens_as_runs(qtbot, make_window):
    from window_kit import headless_result

    w = make_window(quick_spec(epochs=3))
    spec = S.replace(w.spec, optimizer=S.replace(w.spec.optimizer, lr=0.05))
    saved = S.SavedRun(name="trial 1: η 0.05", spec=spec, result=headless_result(spec), group="point 1")
    w._open_trial((saved, saved))
    runs = list(w.session.runs)
    assert [r.name for r in runs] == ["trial 1: η 0.05"] * 2 and runs[0].group == runs[1].group
    assert runs[0].group.endswith("point 1") and w.session.current_run is runs[0]
    assert w.curves.history_length() == 3


def test_a_wide_layer_after_a_narrow_one_still_runs(qtbot, make_window):
    """QA: a 128-unit layer (drawn as a strip) after a run of the narrow default network
    crashed the diagram's rebuild with the old layout, and the run stayed "running"."""
    w = make_window(quick_spec(epochs=3))
    w.act_inside.trigger()  # (the diagram is built for a run only while the dock is shown)
    run_to_end(qtbot, w)
    arch = S.replace(w.spec.architecture, layers=(S.LayerSpec(128, "relu", 0.0, "he_uniform"),))
    assert w.propose("architecture", arch)
    run_to_end(qtbot, w)
    assert [r.status for r in w.session.runs] == ["finished", "finished"]
    diagram = w.inside_panel.diagram
    assert diagram._strips[1] is not None  # the wide layer is a strip, placed by the new layout
    assert diagram._geom["strip"][1] is not None


def test_the_diagram_of_a_run_is_built_when_the_dock_is_shown_mid_run(qtbot, make_window):
    """Hidden, the dock costs a run nothing (no diagram built at Run); shown mid-run, it
    draws the training network."""
    arch = S.ArchitectureSpec(layers=(S.LayerSpec(5, "tanh", 0.0, "xavier_uniform"),))
    w = make_window(quick_spec(epochs=5000, architecture=arch))
    diagram = w.inside_panel.diagram
    w.start_run()
    assert diagram._sizes != (2, 5, 1)
    w.act_inside.trigger()
    assert tuple(diagram._sizes) == (2, 5, 1)
    w.stop_run()
    qtbot.waitUntil(lambda: not w.running, timeout=30_000)


def test_stepping_with_dropout_shows_the_units_dropped_in_that_step(qtbot, make_window):
    arch = S.ArchitectureSpec(layers=(S.LayerSpec(12, "tanh", 0.5, "xavier_uniform"),))
    w = make_window(quick_spec(epochs=50, architecture=arch))
    w.act_inside.trigger()
    got = collect(w)
    diagram = w.inside_panel.diagram
    for epoch in (1, 2):
        with qtbot.waitSignal(w.pause_changed, check_params_cb=lambda p: p is True, timeout=30_000):
            w.act_step.trigger()
        qtbot.waitUntil(lambda: diagram._snapshot is not None and diagram._snapshot.epoch == epoch, timeout=10_000)
        snap = diagram._snapshot
        dropped = snap.dropped[1]
        assert dropped.shape == (12,) and 0 < dropped.sum() < 12  # p = 0.5 of 12 units
        assert snap.dropped[0] is None  # no input dropout
        crossed = [node.cross.isVisible() for node in diagram._nodes[1]]
        assert crossed == list(dropped)
        assert not any(node.cross.isVisible() for node in diagram._nodes[0])
    assert [p.epoch for p in got if isinstance(p, DiagramSnapshot)][:3] == [0, 1, 2]
    with qtbot.waitSignal(w.run_finished, timeout=30_000):
        w.act_stop.trigger()
    final = [p for p in got if isinstance(p, DiagramSnapshot)][-1]
    assert final.dropped is None and not any(node.cross.isVisible() for node in diagram._nodes[1])


def test_the_diagram_follows_the_timeline_during_a_run_and_the_errors_tab(qtbot, make_window):
    w = make_window(quick_spec(epochs=100_000))
    w.act_inside.trigger()
    with qtbot.waitSignal(w.epochs_shown, check_params_cb=lambda n: n >= 4, timeout=30_000):
        w.act_run.trigger()
    with qtbot.waitSignal(w.pause_changed, check_params_cb=lambda p: p is True, timeout=10_000):
        w.act_pause.trigger()
    diagram = w.inside_panel.diagram
    w.timeline.slider.setValue(2)
    assert diagram._snapshot.epoch == 2
    live = diagram._snapshot
    w.inside.receive(dataclasses.replace(live, epoch=99))  # a live picture while the slider is back
    assert diagram._snapshot is live
    # the Errors tab shown now gives epoch 2's errors
    w.inside_panel.setCurrentWidget(w.inside_panel.errors)
    run = w.session.runs.get(w.timeline.run_id())
    net = network_with(run.spec, w.dataset, w.session.snapshots.nearest(run.id, 2)[1])
    expected = errors_for(net, w.dataset)
    np.testing.assert_array_equal(w.inside_panel.errors._errors["validation"].confusion,
                                  expected["validation"].confusion)
    # back at the newest epoch: the live pictures are drawn again
    w.timeline.slider.setValue(w.timeline.slider.maximum())
    w.inside.receive(dataclasses.replace(live, epoch=99))
    assert diagram._snapshot.epoch == 99
    with qtbot.waitSignal(w.run_finished, timeout=30_000):
        w.act_stop.trigger()


def test_the_runs_dock_offered_at_the_second_run_does_not_cover_the_inside_dock(qtbot, make_window):
    w = make_window(quick_spec(epochs=3))
    w.resize(1600, 1000)
    w.act_inside.trigger()
    run_to_end(qtbot, w)
    run_to_end(qtbot, w)
    assert not w.panels["runs"].isHidden()  # offered: a tab beside the Inside dock
    for _ in range(3):
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        QApplication.processEvents()
    assert not w.inside_panel.visibleRegion().isEmpty()  # still in front: the worker keeps drawing it
