"""Issue 13 in the window, end to end: a sweep started from the Sweep dock on a local Dask
cluster; clicking a finished trial's row opens it as a run in the Runs dock; "Use these
settings" puts the trial's settings in the docks as one undo step; closing the window shuts
the sweep's cluster down (no worker process left); an unreachable scheduler is a clear
message in the dock within 10 s.  The sweeps are tiny (2 trials of 4 epochs, 1-2 workers)."""

from __future__ import annotations

import psutil
from PySide6.QtCore import Qt
from window_kit import quick_spec

from workbench.sweep.fields import with_values
from workbench.sweep.spec import Axis, SweepSpec

#: two trials, each changing two settings (so one undo step restores more than one field)
SWEEP = SweepSpec(axes=(Axis("optimizer.lr", values=(0.02, 0.05)), Axis("regularization.l2", values=(1e-3,))),
                  method="grid")
UNREACHABLE = "tcp://127.0.0.1:1"


def start_sweep(qtbot, w, sweep=SWEEP, workers=1, scheduler="", timeout=60_000) -> str:
    """Show the Sweep dock, fill its form and press Start; the state it ended in."""
    w.act_sweep.trigger()
    panel = w.sweep_panel
    assert w.panels["sweep"].isVisible()
    panel.set_sweep(sweep)
    panel.editor.workers_spin.setValue(workers)
    panel.editor.scheduler_edit.setText(scheduler)
    with qtbot.waitSignal(panel.sweep_finished, timeout=timeout) as blocker:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def click_row(qtbot, table, row: int) -> None:
    rect = table.visualRect(table.model().index(row, 0))
    assert rect.isValid() and table.viewport().rect().contains(rect.center())
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_a_clicked_trial_opens_as_a_run_and_its_settings_are_one_undo_step(qtbot, make_window):
    w = make_window(quick_spec(epochs=4))
    original = w.spec
    assert start_sweep(qtbot, w) == "finished"
    panel = w.sweep_panel
    outcomes = panel.progress_.outcomes
    assert sorted(outcomes) == [0, 1] and all(o.result is not None for o in outcomes.values())
    trials = {t.index: t for t in panel.runner.trials}
    assert trials[1].point == {"optimizer.lr": 0.05, "regularization.l2": 1e-3}

    # a click on trial 1's row: it becomes a run in the Runs dock, shown on the curves
    assert len(w.session.runs) == 0
    qtbot.waitExposed(panel.table)
    with qtbot.waitSignal(panel.open_trial):
        click_row(qtbot, panel.table, panel.model.row_of(1))
    runs = list(w.session.runs)
    assert len(runs) == 1
    run = runs[0]
    assert run.spec == trials[1].spec and run.result == outcomes[1].result and run.status == outcomes[1].status
    assert run.name.startswith("trial 1") and w.session.current_run is run
    assert w.panels["runs"].isVisible() and w.runs_panel.model.row_of(run.id) >= 0
    assert w.curves.history_length() == len(outcomes[1].result.history["epoch"]) == 4
    assert w.spec == original  # opening a trial does not touch the docks

    # "Use these settings" on trial 1: the docks get its point, as one undo step
    w.act_sweep.trigger()
    panel.table.selectRow(panel.model.row_of(1))
    steps = w.session.undo_stack.count()
    qtbot.mouseClick(panel.use_button, Qt.MouseButton.LeftButton)
    wanted = with_values(original, trials[1].point)
    assert w.spec == wanted and w.spec != original
    assert w.editors["optimizer"].value() == wanted.optimizer and w.editors["optimizer"].value().lr == 0.05
    assert w.editors["regularization"].value() == wanted.regularization
    assert w.editors["regularization"].value().l2 == 1e-3
    assert w.spec.training.seed == original.training.seed
    assert w.session.undo_stack.count() == steps + 1
    w.undo()
    assert w.spec == original
    assert w.editors["optimizer"].value() == original.optimizer
    assert w.editors["regularization"].value() == original.regularization
    w.redo()
    assert w.spec == wanted


def test_closing_the_window_shuts_the_sweeps_cluster_down(qtbot, make_window):
    w = make_window(quick_spec(epochs=3))
    before = {c.pid for c in psutil.Process().children(recursive=True)}
    assert start_sweep(qtbot, w, workers=2) == "finished"
    cluster = w.sweep_panel.cluster
    assert cluster is not None and cluster.local and cluster.started
    pids = cluster.worker_pids()
    assert len(pids) == 2 and all(psutil.pid_exists(p) for p in pids)
    assert set(pids) <= {c.pid for c in psutil.Process().children(recursive=True)} - before

    assert w.close()
    assert w.sweep_panel.cluster is None and not cluster.started
    _, alive = psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=10)
    assert not alive, "a worker process outlived the window"
    left = {c.pid for c in psutil.Process().children(recursive=True)} - before
    assert not left & set(pids)
    for pid in left:  # only multiprocessing's resource tracker may stay (it is the interpreter's)
        try:
            assert "resource_tracker" in " ".join(psutil.Process(pid).cmdline()), pid
        except psutil.NoSuchProcess:
            pass


def test_an_unreachable_scheduler_ends_the_sweep_within_ten_seconds(qtbot, make_window):
    w = make_window(quick_spec(epochs=3))
    assert start_sweep(qtbot, w, scheduler=UNREACHABLE, timeout=10_000) == "failed"
    panel = w.sweep_panel
    assert panel.start_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert len(w.session.runs) == 0


def _dock_texts(panel) -> list[str]:
    return [label.text() for label in (panel.reason_label, panel.status_label, panel.eta_label)
            if label.isVisible() and label.text()]


def test_an_unreachable_scheduler_is_a_clear_message_in_the_sweep_dock(qtbot, make_window):
    w = make_window(quick_spec(epochs=3))
    w.act_sweep.trigger()
    panel = w.sweep_panel
    panel.set_sweep(SWEEP)
    panel.editor.scheduler_edit.setText(UNREACHABLE)
    finished = []
    panel.sweep_finished.connect(finished.append)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    assert finished == ["failed"]
    texts = _dock_texts(panel)
    assert any("cannot reach" in t and UNREACHABLE in t for t in texts), texts
