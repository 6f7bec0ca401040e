"""Issue 10 in the window: every run kept, fair A/B, seeds in lockstep, the paired
difference, the timeline, pace interrupts, runs saved and reopened."""

from __future__ import annotations

import numpy as np
import pytest
import curves_probe as probe
from window_kit import headless_result, quick_spec, run_to_end

from workbench import compare
from workbench import experiment_file as ef
from workbench import spec as S
from workbench.build import build_run
from workbench.data import load_dataset
from workbench.engine.events import EpochEnd
from workbench.ui import boundary_source


def repeat(qtbot, w, n, timeout=60_000):
    with qtbot.waitSignal(w.run_finished, timeout=timeout):
        assert w.repeat_run(n)


def seeds_of(spec, seeds):
    return [S.replace(spec, "", training=S.replace(spec.training, "training", seed=s)) for s in seeds]


def test_every_run_is_kept_and_named_by_what_differs(qtbot, make_window):
    w = make_window(quick_spec(epochs=5))
    first = run_to_end(qtbot, w)
    w.propose("optimizer", S.replace(w.spec.optimizer, lr=0.1))
    second = run_to_end(qtbot, w)
    runs = list(w.session.runs)
    assert [r.result for r in runs] == [first, second]
    assert runs[1].parent == runs[0].id and w.session.current_run is runs[1]
    assert w.session.runs.differs(runs[1]) == "η 0.01 → 0.1"
    assert w.session.runs.label(runs[1]) == "η 0.01 → 0.1"  # same seed: nothing to add
    # the first run is overlaid in its own colour and named in the legend
    assert w.curves.overlays.keys() == [runs[0].id]
    assert "run 1" in w.curves._legend.full_texts
    assert runs[0].color != runs[1].color


def test_duplicate_and_change_keeps_initial_weights_and_batch_order(qtbot, make_window):
    """Checked on the arrays: the snapshots at epoch 0 and the batches the two runs saw."""
    w = make_window(quick_spec(epochs=3))
    run_to_end(qtbot, w)
    base = w.session.current_run
    assert w.session.branch_from(base.id) == ""
    w.propose("optimizer", S.OptimizerSpec(kind="momentum", lr=0.01, momentum=0.9))
    run_to_end(qtbot, w)
    changed = w.session.current_run
    assert changed.parent == base.id and changed.spec.training.seed == base.spec.training.seed
    e0, w0 = w.session.snapshots.nearest(base.id, 0)
    e1, w1 = w.session.snapshots.nearest(changed.id, 0)
    assert e0 == e1 == 0 and np.array_equal(w0, w1)  # the same initial weights, bit for bit
    ds = load_dataset(base.spec.data, ".")
    batches = []
    for spec in (base.spec, changed.spec):
        run = build_run(spec, ds)
        seen = []
        original = run.network.loss_and_grad

        def spy(X, *a, _seen=seen, _f=original, **k):
            _seen.append(np.array(X, copy=True))
            return _f(X, *a, **k)

        run.network.loss_and_grad = spy
        for ev in run.events():
            if isinstance(ev, EpochEnd) and ev.epoch == 2:
                break
        batches.append(seen)
    assert len(batches[0]) == len(batches[1]) > 0
    assert all(np.array_equal(a, b) for a, b in zip(*batches))  # the same batches, in the same order
    # another architecture cannot keep the weights: the legend says so
    w.propose("architecture", S.replace(w.spec.architecture, layers=(S.LayerSpec(20, "tanh", 0.0, "xavier_uniform"),)))
    run_to_end(qtbot, w)
    assert "new initial weights" in w.session.runs.label(w.session.current_run)


def test_repeat_trains_the_seeds_in_lockstep_and_each_equals_its_solo_run(qtbot, make_window):
    spec = quick_spec(epochs=8, early_stopping=S.EarlyStoppingSpec(enabled=True, patience=2))
    w = make_window(spec)
    repeat(qtbot, w, 4)
    runs = list(w.session.runs)
    assert [r.seed for r in runs] == [5, 6, 7, 8] and len({r.group for r in runs}) == 1
    for run, solo_spec in zip(runs, seeds_of(spec, range(5, 9))):
        solo = headless_result(solo_spec)
        for column in ("train_loss", "val_loss", "val_accuracy"):
            np.testing.assert_allclose(np.array(run.result.history[column], float),
                                       np.array(solo.history[column], float), rtol=1e-5)
        assert run.result.early_stop == solo.early_stop
    # the table's group row: mean ± std of the seeds' readings (sample std)
    model = w.runs_panel.model
    group_row = model.rows[0]
    assert group_row.kind == "group" and [r.kind for r in model.rows[1:]] == ["member"] * 4
    values = [compare.reading(r.result, "val_accuracy", "best") for r in runs]
    col = [k for k, _h, _t in __import__("workbench.runs", fromlist=["COLUMNS"]).COLUMNS].index("val_metric")
    mean, std = np.mean(values), np.std(values, ddof=1)
    assert group_row.texts[col] == f"{mean:.4g} ± {std:.4g}"
    # the band on the curves equals numpy's mean/std of the members' histories
    overlay = w.curves.overlays._overlays[runs[0].group]
    band_mean, band_std, _n = overlay.series.stats("val_loss")
    ref = compare.band([r.result.history for r in runs], "val_loss")
    np.testing.assert_allclose(band_mean[: len(ref.mean)], ref.mean, rtol=1e-12)
    np.testing.assert_allclose(band_std[: len(ref.std)], ref.std, rtol=1e-12, equal_nan=True)


def test_the_paired_difference_equals_a_hand_computed_t_interval(qtbot, make_window):
    spec = quick_spec(epochs=6)
    w = make_window(spec)
    repeat(qtbot, w, 3)
    w.propose("optimizer", S.replace(w.spec.optimizer, lr=0.05))
    repeat(qtbot, w, 3)
    runs = w.session.runs
    a, b = list(runs.groups())
    panel = w.runs_panel
    assert panel.diff_a.currentData() == a and panel.diff_b.currentData() == b and panel.diff_box.isVisible()
    d = np.array([compare.reading(rb.result, "val_loss", "best") - compare.reading(ra.result, "val_loss", "best")
                  for ra, rb in zip(runs.members(a), runs.members(b))])
    half = 4.302652729749464 * d.std(ddof=1) / np.sqrt(3)  # t_{2, 0.975}
    mean, low, high, n = runs.paired_reading(a, b, "val_loss", "best")
    assert n == 3 and mean == pytest.approx(d.mean()) and (low, high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert f"B − A = {mean:.4g}" in panel.diff_text.text() and f"[{low:.4g}, {high:.4g}]" in panel.diff_text.text()
    drawn = panel.diff_plot.difference
    last = [h["val_loss"][-1] for h in runs.paired_histories(a, b)[1].values()]
    first = [h["val_loss"][-1] for h in runs.paired_histories(a, b)[0].values()]
    assert drawn.mean[-1] == pytest.approx(np.mean(np.subtract(last, first)))


def test_deleting_runs_is_an_undo_step_and_hidden_runs_leave_the_plots(qtbot, make_window):
    w = make_window(quick_spec(epochs=3))
    run_to_end(qtbot, w)
    run_to_end(qtbot, w)
    first, second = list(w.session.runs)
    assert w.curves.overlays.keys() == [first.id]
    w.session.update_run(first.id, visible=False)
    assert w.curves.overlays.keys() == []
    w.session.update_run(first.id, visible=True, name="baseline")
    assert w.curves.overlays.keys() == [first.id] and "baseline" in w.curves._legend.full_texts
    w.runs_panel.select_run(first.id)
    assert w.runs_panel.delete_selected() == ""
    assert [r.id for r in w.session.runs] == [second.id] and w.curves.overlays.keys() == []
    w.undo()
    assert [r.id for r in w.session.runs] == [first.id, second.id]
    assert w.curves.overlays.keys() == [first.id]


def test_runs_are_saved_and_reopen_together(qtbot, make_window, tmp_path):
    w = make_window(quick_spec(epochs=4))
    run_to_end(qtbot, w)
    repeat(qtbot, w, 2)
    w.session.update_run(w.session.runs[0].id, pinned=True, name="first")
    path = tmp_path / "runs.json"
    assert w.save_to(path)
    loaded = ef.load(path)
    assert [r.name for r in loaded.runs][0] == "first" and loaded.runs[0].pinned
    assert loaded.runs[1].group == loaded.runs[2].group is not None and loaded.runs[1].parent == 0
    assert loaded.current == 1
    w2 = make_window()
    assert w2.open_path(path, ask=False)
    assert [(r.name, r.group, r.seed) for r in w2.session.runs] == [(r.name, r.group, r.seed) for r in w.session.runs]
    assert w2.session.current_run.name == w.session.current_run.name
    assert w2.curves.history_length() == 4  # the shown run is drawn
    assert len(w2.curves.overlays) == 2  # the first run and the group
    csv_path = tmp_path / "table.csv"
    assert w2.runs_panel.export_table(csv_path)
    assert csv_path.read_text().splitlines()[0].startswith("Run,Differs,Val. metric")
    assert len(csv_path.read_text().splitlines()) == 1 + 3


def test_the_timeline_shows_the_boundary_the_snapshot_of_that_epoch_gives(qtbot, make_window):
    spec = quick_spec(epochs=12)
    w = make_window(spec)
    run_to_end(qtbot, w)
    run = w.session.current_run
    ds = w.dataset
    k = 5
    w.timeline.slider.setValue(k)
    # the network rebuilt independently: the same run trained headless to epoch k
    solo = build_run(run.spec, ds)
    for ev in solo.events():
        if isinstance(ev, EpochEnd) and ev.epoch == k:
            break
    expected = boundary_source.make_boundary_fn(ds)(solo.network)["image"]
    np.testing.assert_array_equal(w.boundary.image_item.image, expected)
    assert w.timeline.label.text() == f"epoch {k} / 12"
    cursor = w.curves._cursors[0]
    assert cursor.isVisible() and cursor.value() == k


def test_replay_reveals_the_run_epoch_by_epoch(qtbot, make_window):
    w = make_window(quick_spec(epochs=6))
    run_to_end(qtbot, w)
    assert w.timeline.start_replay() and w.timeline.replaying
    w.timeline._timer.stop()  # stepped by hand: no timed test

    def drawn() -> int:
        x = w.curves._curves["train_loss"].getData()[0]
        return 0 if x is None else x.size

    assert drawn() == 0
    for k in range(1, 7):
        assert w.timeline.replay_step()
        assert drawn() == k and w.curves._cursors[0].value() == k
    assert not w.timeline.replay_step() and not w.timeline.replaying
    assert drawn() == 6


def test_pause_and_stop_cut_a_pace_wait_short(qtbot, make_window):
    """At 1 epoch/s the worker waits between epochs; Pause and Stop answer at once (the
    signals' timeouts are only a safety net)."""
    w = make_window(quick_spec(epochs=1000))
    w.timeline.pace.set_rate(1.0)
    assert w.run_controller.pace.rate == 1.0 and w.session.view.pace == 1.0
    with qtbot.waitSignal(w.epochs_shown, timeout=30_000):
        w.act_run.trigger()
    with qtbot.waitSignal(w.pause_changed, timeout=5_000, check_params_cb=lambda p: p):
        w.set_paused(True)
    assert w.run_view.epochs_done <= 3
    w.set_paused(False)
    with qtbot.waitSignal(w.run_finished, timeout=5_000) as blocker:
        w.stop_run()
    assert blocker.args[0].status == "stopped" and len(blocker.args[0].history["epoch"]) <= 4


def test_a_version_1_file_opens_as_one_run(qtbot, make_window, tmp_path):
    import json

    spec = quick_spec(epochs=3)
    result = headless_result(spec)
    doc = json.loads(ef.dumps(spec, result))
    v1 = {"format": doc["format"], "version": 1, "spec": doc["spec"], "results": doc["runs"][0]["result"]}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(v1))
    w = make_window()
    assert w.open_path(path, ask=False)
    assert len(w.session.runs) == 1 and w.session.current_run.result.history == result.history
    assert w.curves.history_length() == 3


def test_the_band_is_the_polygon_of_mean_plus_and_minus_std_in_the_axis_coordinates(qtbot, make_window):
    w = make_window(quick_spec(epochs=6))
    repeat(qtbot, w, 3)
    group = w.session.runs[0].group
    overlay = w.curves.overlays._overlays[group]
    mean, std, _n = overlay.series.stats("val_loss")
    band = overlay.bands["val_loss"][1]
    rect = band.path().boundingRect()
    ok = np.isfinite(std)
    assert rect.top() == pytest.approx(float(np.min((mean - std)[ok]))) and \
        rect.bottom() == pytest.approx(float(np.max((mean + std)[ok])))
    assert rect.left() == 1.0 and rect.right() == float(np.flatnonzero(ok)[-1] + 1)
    w.set_log_scale(True)  # the loss axis in log10: the band follows
    rect = band.path().boundingRect()
    assert rect.bottom() == pytest.approx(float(np.log10(np.max((mean + std)[ok]))))


def test_seeds_that_cannot_be_one_lockstep_group_train_one_after_the_other(qtbot, make_window):
    """A follow-up phase is not run in lockstep: Repeat trains the seeds one after the
    other, and each still equals its solo run (the user does not see the difference)."""
    spec = quick_spec(epochs=12, early_stopping=S.EarlyStoppingSpec(enabled=True, patience=2, followup="retrain"))
    w = make_window(spec)
    repeat(qtbot, w, 2)
    runs = list(w.session.runs)
    assert [r.status for r in runs] == [headless_result(s).status for s in seeds_of(spec, (5, 6))]
    for run, solo_spec in zip(runs, seeds_of(spec, (5, 6))):
        solo = headless_result(solo_spec)
        assert run.result.history == solo.history and run.result.followup_history == solo.followup_history


def test_the_read_out_follows_the_timeline(qtbot, make_window):
    w = make_window(quick_spec(epochs=8))
    result = run_to_end(qtbot, w)
    w.timeline.slider.setValue(3)
    text = probe.readout_text(w.curves)
    assert "epoch 3" in text and f"{result.history['train_loss'][2]:.6f}"[:6] in text
    w.timeline.slider.setValue(8)
    assert "epoch 8" in probe.readout_text(w.curves)


def test_the_timeline_moved_back_during_a_run_stays_there_as_epochs_come(qtbot, make_window):
    """A live run, paused; the slider moved back to epoch 2: each epoch Step adds leaves
    the slider, the cursor and the read-out at epoch 2 (the range grows); moved to the end
    again it follows the newest epoch."""
    w = make_window(quick_spec(epochs=100_000))
    with qtbot.waitSignal(w.pause_changed, timeout=30_000):
        w.act_step.trigger()  # starts paused after its first epoch
    for _ in range(3):
        with qtbot.waitSignal(w.epochs_shown, timeout=30_000):
            w.act_step.trigger()
    slider = w.timeline.slider
    n = slider.maximum()
    assert n >= 4 and slider.value() == n
    slider.setValue(2)
    for _ in range(2):
        with qtbot.waitSignal(w.epochs_shown, timeout=30_000):
            w.act_step.trigger()
        assert slider.value() == 2 and slider.maximum() > n
        n = slider.maximum()
        assert w.timeline.label.text() == f"epoch 2 / {n}"
        assert all(line.isVisible() and line.value() == 2.0 for line in w.curves._cursors)
        assert "epoch 2" in probe.readout_text(w.curves)
    slider.setValue(n)  # at the end: it follows again
    with qtbot.waitSignal(w.epochs_shown, timeout=30_000):
        w.act_step.trigger()
    assert slider.value() == slider.maximum() == n + 1
    with qtbot.waitSignal(w.run_finished, timeout=30_000):
        w.act_stop.trigger()


def test_a_run_that_is_training_cannot_be_deleted_and_the_window_says_why(qtbot, make_window):
    """Selected while it trains, a run's Delete button is off (its tooltip says why); asked
    anyway (Del), the refusal is in the status bar; once stopped it can be deleted."""
    from workbench.ui.runs_panel import DELETE_TIP, DELETE_TRAINING_TIP

    w = make_window(quick_spec(epochs=100_000))
    with qtbot.waitSignal(w.pause_changed, timeout=30_000):
        w.act_step.trigger()  # training, paused after its first epoch
    panel = w.runs_panel
    (run,) = list(w.session.runs)
    panel.select_run(run.id)
    assert not panel.delete_button.isEnabled() and panel.delete_button.toolTip() == DELETE_TRAINING_TIP
    reason = panel.delete_selected()
    assert reason and w.statusBar().currentMessage() == reason[:1].upper() + reason[1:]
    assert [r.id for r in w.session.runs] == [run.id]
    with qtbot.waitSignal(w.run_finished, timeout=30_000):
        w.act_stop.trigger()
    panel.select_run(run.id)
    assert panel.delete_button.isEnabled() and panel.delete_button.toolTip() == DELETE_TIP
    assert panel.delete_selected() == "" and list(w.session.runs) == []


def test_repeat_takes_two_to_max_seeds_and_says_so_otherwise(qtbot, make_window):
    """Repeat × N outside 2..MAX_SEEDS (the Runs dock's spin box range; the API has no
    spin box) starts nothing, allocates nothing, and says why in the status bar."""
    from workbench.ui.runs_panel import MAX_SEEDS

    w = make_window(quick_spec(epochs=3))
    for n in (10**9, MAX_SEEDS + 1, 1, 0, -5, 2.5, True):
        assert w.repeat_run(n) is False
        assert w.statusBar().currentMessage() == f"Repeat × N trains 2 to {MAX_SEEDS} seeds, not {n!r}"
        assert not w.running and list(w.session.runs) == []


def test_renaming_and_pinning_runs_are_undo_steps_and_showing_them_is_not(qtbot, make_window):
    w = make_window(quick_spec(epochs=3))
    run_to_end(qtbot, w)
    run_to_end(qtbot, w)
    first, second = list(w.session.runs)
    stack = w.session.undo_stack
    steps = stack.count()
    w.session.update_run(first.id, name="baseline")
    assert first.name == "baseline" and stack.count() == steps + 1 and stack.undoText() == "rename run 1"
    w.runs_panel.select_run(first.id)
    w.runs_panel.view.selectAll()
    w.runs_panel.pin_selected()  # both runs, one step
    assert first.pinned and second.pinned and stack.undoText() == "pin 2 runs" and stack.count() == steps + 2
    w.session.update_run(second.id, visible=False)  # a view toggle: no step
    assert not second.visible and stack.count() == steps + 2
    w.session.update_run(first.id, name="baseline")  # nothing changes: no step
    assert stack.count() == steps + 2
    w.undo()
    assert not first.pinned and not second.pinned and first.name == "baseline"
    w.undo()
    assert first.name == "run 1" and "run 1" in w.curves._legend.full_texts
    stack.redo()
    assert first.name == "baseline"
