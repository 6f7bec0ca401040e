"""Issue 8, G1 in the window: the session keeps what one file can hold, so Save (and
closing with Save) always works.  Before a run starts, the oldest finished unpinned runs
make room for the histories it may hold (the status bar names them), or the run is
refused with the reason; undoing a delete that would overfill the file is disabled."""

from __future__ import annotations

from window_kit import quick_spec

from workbench import experiment_file as ef
from workbench import limits as L
from workbench import spec as S
from workbench.runs import history_reserve
from workbench.ui.session import Session


def long_result(epochs: int = L.MAX_EPOCHS) -> S.RunResult:
    """A finished 100,000-epoch classification history: 7 columns, as two_spirals with a
    validation split gives (epoch, 3 losses, lr, train and val accuracy)."""
    history = {c: (tuple(float(e) for e in range(1, epochs + 1)) if c == "epoch" else (0.5,) * epochs)
               for c in S.HISTORY_COLUMNS[:7]}
    return S.RunResult(history=history)


def saved_long_runs(spec, n):
    return tuple(S.SavedRun(name=f"long {i}", spec=spec, result=long_result()) for i in range(n))


def test_four_runs_of_100000_epochs_the_oldest_finished_one_makes_room_and_the_session_saves(qtbot, tmp_path):
    spec = quick_spec(epochs=L.MAX_EPOCHS)
    session = Session(spec)
    assert session.dataset.task == "classification" and history_reserve(spec, "classification") == 700_000
    names = []
    for _ in range(4):
        runs, evicted = session.begin_runs(spec)
        names.append(evicted)
        session.finish_runs([(runs[0].id, long_result())])
    assert names == [[], [], [], ["run 1"]]  # 4 x 700,000 numbers: more than the 2,200,000 a file keeps
    assert [r.name for r in session.runs] == ["run 2", "run 3", "run 4"]
    saved, current = session.saved_runs()
    path = tmp_path / "four.json"
    ef.save(path, spec, runs=saved, current=current)
    reopened = ef.load(path)
    assert len(reopened.runs) == 3 and reopened.current == 2
    assert all(len(r.result.history["epoch"]) == L.MAX_EPOCHS for r in reopened.runs)


def test_a_run_that_needs_room_names_the_runs_removed_and_saving_works(qtbot, make_window, monkeypatch, tmp_path):
    w = make_window(quick_spec(epochs=L.MAX_EPOCHS))
    w.session.add_saved(saved_long_runs(w.spec, 3))  # 2,100,000 numbers
    seen = []
    monkeypatch.setattr(w, "_status", lambda text, ms=5000: seen.append(text))
    with qtbot.waitSignal(w.epochs_shown, timeout=30_000):
        assert w.start_run()
    assert seen[-1] == "Training — removed the oldest runs to make room: long 0"  # the last word: not hidden
    with qtbot.waitSignal(w.run_finished, timeout=30_000):
        w.stop_run()
    assert [r.name for r in w.session.runs][:2] == ["long 1", "long 2"] and len(w.session.runs) == 3
    assert w.files.save_to(tmp_path / "saved.json")
    assert len(ef.load(tmp_path / "saved.json").runs) == 3


def test_a_run_is_refused_with_the_reason_when_pinned_runs_leave_no_room(qtbot, make_window):
    w = make_window(quick_spec(epochs=L.MAX_EPOCHS))
    for run in w.session.add_saved(saved_long_runs(w.spec, 3)):
        w.session.update_run(run.id, pinned=True)
    assert not w.start_run()
    assert not w.running and len(w.session.runs) == 3
    message = w.statusBar().currentMessage()
    assert message.startswith("Cannot run: the runs' histories would hold 2,800,000 numbers, more than the "
                              "2,200,000 a file keeps"), message


def test_undoing_a_delete_that_would_overfill_the_file_is_disabled(qtbot, tmp_path):
    spec = quick_spec(epochs=L.MAX_EPOCHS)
    session = Session(spec)
    session.add_saved(saved_long_runs(spec, 3))
    assert session.delete_runs([session.runs[0].id]) == ""
    assert session.can_step(-1)  # room for it again
    session.add_saved(saved_long_runs(spec, 1))  # the room is taken
    assert not session.can_step(-1)
    session.undo()  # refused: nothing happens
    assert len(session.runs) == 3 and session.runs.history_numbers() <= L.MAX_FILE_HISTORY
    saved, current = session.saved_runs()
    ef.save(tmp_path / "s.json", spec, runs=saved, current=current)
