"""Issue 8, G1: whatever a session holds can be saved and opened again.

The runs of a file share its budget (workbench.limits): MAX_FILE_MARKERS markers, which
saving reaches by thinning each run's automatic markers to its share
(markers.fit_runs), and MAX_FILE_HISTORY history numbers, which the run list keeps to
by making room before a run starts (runs.RunList.evictable, history_reserve).  Weights
of several runs that do not fit beside the rest raise WeightsTooLarge, so "save
without weights" is offered."""

from __future__ import annotations

import numpy as np
import pytest

from workbench import experiment_file as ef
from workbench import limits as L
from workbench import spec as S
from workbench.engine.events import LearningRateChanged
from workbench.history import Recorder
from workbench.markers import fit_runs
from workbench.runs import RunList, history_numbers, history_reserve


def _marked(*kinds_and_counts, epochs=1000) -> S.RunResult:
    """A result with ``count`` markers of each ``kind``, spread over ``epochs`` epochs."""
    markers = []
    for kind, count in kinds_and_counts:
        markers += [S.Marker(kind, 1 + i * epochs // max(1, count), f"{kind} {i}") for i in range(count)]
    markers.sort(key=lambda m: m.epoch)
    return S.RunResult(history={"epoch": (1.0,)}, markers=tuple(markers))


def _kinds(result: S.RunResult) -> dict:
    out: dict = {}
    for m in result.markers:
        out[m.kind] = out.get(m.kind, 0) + 1
    return out


# ---------------------------------------------------------------------------------------------
# Markers: thinned to each run's share when the runs together have too many


def test_runs_keep_their_own_markers_and_share_the_automatic_ones_fairly():
    few = _marked(("restart", 5), ("lr_change", 2))
    long_b = _marked(("restart", 100), ("reg_change", 1), ("diverged", 1))
    long_c = _marked(("plateau", 100))
    a, b, c, none = fit_runs([few, long_b, long_c, None], budget=30)
    assert none is None
    assert a is few  # 7 markers: below the level, kept as it was
    assert _kinds(b) == {"restart": 10, "reg_change": 1, "diverged": 1} and b.markers_left_out == 90
    assert _kinds(c) == {"plateau": 11} and c.markers_left_out == 89  # the remainder of 21 / 2
    assert len(a.markers) + len(b.markers) + len(c.markers) == 30
    restarts = [m.epoch for m in b.markers if m.kind == "restart"]
    assert restarts == sorted(restarts) and restarts[0] == 1 and restarts[-1] > 800  # evenly over the run
    assert [m.epoch for m in b.markers] == sorted(m.epoch for m in b.markers)


def test_when_the_users_own_markers_alone_are_too_many_they_are_shared_and_outcomes_kept_first():
    runs = [_marked(("lr_change", 20), ("restart", 50), ("phase", 1), ("diverged", 1)) for _ in range(2)]
    for kept in fit_runs(runs, budget=10):
        assert len(kept.markers) == 5 and kept.markers_left_out == 67
        assert _kinds(kept) == {"lr_change": 3, "phase": 1, "diverged": 1}


def test_runs_under_the_budget_are_saved_as_they_are():
    runs = [_marked(("restart", 10)), _marked(("plateau", 10))]
    assert all(a is b for a, b in zip(fit_runs(runs, budget=20), runs))


def test_two_runs_of_ten_thousand_restarts_save_half_each_and_reopen_with_the_rest_counted(tmp_path):
    rec = Recorder(S.ExperimentSpec())
    rec.add(LearningRateChanged(epoch=1, kind="plateau", old_lr=0.1, new_lr=0.05))
    for e in range(1, 10_002):  # a warm restart every epoch: the recorder keeps 10,000
        rec.add(LearningRateChanged(epoch=e, kind="restart", old_lr=0.001, new_lr=0.1))
    result = rec.result()
    assert len(result.markers) == L.MAX_MARKERS and result.markers_left_out == 2
    user = S.Marker("lr_change", 5000, "η 0.1 → 0.2")
    runs = (S.SavedRun(name="a", spec=S.ExperimentSpec(), result=result),
            S.SavedRun(name="b", spec=S.ExperimentSpec(),
                       result=S.RunResult(history={"epoch": (1.0,)}, markers=result.markers[:9_999] + (user,))))
    path = tmp_path / "two.json"
    ef.save(path, S.ExperimentSpec(), runs=runs, current=1)
    a, b = (run.result for run in ef.load(path).runs)
    assert len(a.markers) + len(b.markers) == L.MAX_FILE_MARKERS
    # the user's change is kept; the 9,999 left share evenly (the remainder to the larger run)
    assert len(a.markers) == 5_000 and len(b.markers) == 1 + 4_999 and user in b.markers
    assert a.markers_left_out == 2 + 5_000 and b.markers_left_out == 5_000
    assert a.history == result.history


# ---------------------------------------------------------------------------------------------
# Weights of several runs: "save without weights" is offered, and then the runs fit


def test_weights_of_several_runs_too_large_together_can_be_left_out(tmp_path, monkeypatch):
    weights = ef.encode_weights(np.arange(3000, dtype=np.float32))
    result = S.RunResult(history={"epoch": (1.0, 2.0), "train_loss": (0.5, 0.25)}, weights=weights)
    runs = tuple(S.SavedRun(name=f"seed {i}", spec=S.ExperimentSpec(), result=result) for i in range(3))
    without = len(ef.dumps(S.ExperimentSpec(), runs=runs, without_weights=True).encode())
    monkeypatch.setattr(ef, "MAX_FILE_BYTES", without + 20_000)  # one run's weights fit, three do not
    with pytest.raises(ef.WeightsTooLarge) as info:
        ef.save(tmp_path / "w.json", S.ExperimentSpec(), runs=runs)
    assert info.value.n_params == 9000 and 0 < info.value.limit < 9000
    assert "the trained weights of 3 runs, 9,000 parameters in all" in str(info.value)
    assert "save without weights" in str(info.value)
    ef.save(tmp_path / "w.json", S.ExperimentSpec(), runs=runs, without_weights=True)
    assert [r.result.weights for r in ef.load(tmp_path / "w.json").runs] == [None] * 3


def test_the_cli_leaves_out_the_weights_of_several_runs_that_do_not_fit_together(tmp_path, monkeypatch, capsys):
    from workbench.cli import _save

    weights = ef.encode_weights(np.arange(3000, dtype=np.float32))
    result = S.RunResult(history={"epoch": (1.0,)}, weights=weights)
    runs = tuple(S.SavedRun(name=f"seed {i}", spec=S.ExperimentSpec(), result=result) for i in range(3))
    without = len(ef.dumps(S.ExperimentSpec(), runs=runs, without_weights=True).encode())
    monkeypatch.setattr(ef, "MAX_FILE_BYTES", without + 20_000)
    assert _save(tmp_path / "o.json", S.ExperimentSpec(), tmp_path, runs=runs, current=0) == 0
    assert "warning: the 9,000 trained weights are more than the" in capsys.readouterr().err
    assert len(ef.load(tmp_path / "o.json").runs) == 3


# ---------------------------------------------------------------------------------------------
# Histories: a run reserves what it may hold; the run list makes room or refuses


def _train(spec: S.ExperimentSpec) -> tuple[S.RunResult, str]:
    from workbench.build import build_run
    from workbench.data import load_dataset

    dataset = load_dataset(spec.data)
    run = build_run(spec, dataset, emit_batches=False)
    return Recorder(spec).add_all(run.events()).result(), dataset.task


@pytest.mark.parametrize("data, followup", [
    (S.DataSpec(name="moons", n_samples=200, val_fraction=0.25), "retrain"),
    (S.DataSpec(name="moons", n_samples=200, val_fraction=0.25), "none"),
    (S.DataSpec(source="bundled", name="auto_mpg"), "continue"),
])
def test_what_a_run_holds_is_at_most_what_it_reserved(data, followup):
    spec = S.ExperimentSpec(
        data=data, architecture=S.ArchitectureSpec(layers=(S.LayerSpec(8, "tanh"),)),
        optimizer=S.OptimizerSpec(kind="sgd", lr=1e-4),  # slow: early stopping fires
        early_stopping=S.EarlyStoppingSpec(enabled=followup != "none", patience=2, followup=followup),
        training=S.TrainingSpec(epochs=40, batch_size=64))
    result, task = _train(spec)
    held = history_numbers(result)
    assert held > 0 and (result.followup_history is not None) == (followup != "none")
    assert held <= history_reserve(spec, task) <= history_reserve(spec, None)


def _long_result(epochs: int, columns: int = 7) -> S.RunResult:
    names = S.HISTORY_COLUMNS[:columns]
    history = {c: (tuple(float(e) for e in range(1, epochs + 1)) if c == "epoch" else (0.5,) * epochs) for c in names}
    return S.RunResult(history=history)


def test_four_runs_of_100000_epochs_the_oldest_makes_room_and_the_rest_saves_and_reopens(tmp_path):
    spec = S.ExperimentSpec(data=S.DataSpec(name="moons"), training=S.TrainingSpec(epochs=L.MAX_EPOCHS))
    reserve = history_reserve(spec, "classification")
    assert reserve == 700_000  # 100,000 epochs of epoch, 3 losses, lr, train and val accuracy
    runs = RunList()
    for _ in range(3):
        assert runs.evictable(1, numbers=reserve, task="classification") == []
        run = runs.add(spec)
        run.result, run.status = _long_result(L.MAX_EPOCHS), "finished"
    assert runs.history_numbers() == 2_100_000
    gone = runs.evictable(1, numbers=reserve, task="classification")
    assert [r.name for r in gone] == ["run 1"] and runs.room_after(gone, 1, reserve) == ""
    runs.remove([r.id for r in gone])
    run = runs.add(spec)
    run.result, run.status = _long_result(L.MAX_EPOCHS), "finished"
    assert runs.history_numbers() == 2_100_000 <= L.MAX_FILE_HISTORY
    path = tmp_path / "four.json"
    ef.save(path, spec, runs=runs.to_saved(), current=2)
    assert [len(r.result.history["epoch"]) for r in ef.load(path).runs] == [L.MAX_EPOCHS] * 3


def test_pinned_runs_that_leave_no_room_refuse_the_run_with_the_reason():
    spec = S.ExperimentSpec(data=S.DataSpec(name="moons"), training=S.TrainingSpec(epochs=L.MAX_EPOCHS))
    runs = RunList()
    for _ in range(3):
        run = runs.add(spec)
        run.result, run.status, run.pinned = _long_result(L.MAX_EPOCHS), "finished", True
    gone = runs.evictable(1, numbers=700_000, task="classification")
    assert gone == []
    assert runs.room_after(gone, 1, 700_000, "classification") == (
        "the runs' histories would hold 2,800,000 numbers, more than the 2,200,000 a file keeps beside the runs "
        "that are pinned, training or shown; train fewer epochs or seeds, or delete or unpin runs")
    # four seeds of 100,000 epochs never fit one file, whatever goes
    assert "hold 2,800,000 numbers" in RunList().room_after([], 4, 4 * 700_000)


def test_finished_runs_from_elsewhere_are_refused_when_their_histories_do_not_fit():
    spec = S.ExperimentSpec(training=S.TrainingSpec(epochs=L.MAX_EPOCHS))
    runs = RunList()
    saved = tuple(S.SavedRun(name=f"t{i}", spec=spec, result=_long_result(L.MAX_EPOCHS)) for i in range(3))
    runs.add_saved(saved)
    with pytest.raises(ValueError, match="numbers, more than the 2,200,000 a file keeps"):
        runs.add_saved(saved[:1])
    assert len(runs) == 3


def test_the_cli_refuses_seeds_whose_histories_do_not_fit_one_file_before_training(tmp_path, capsys):
    from workbench.cli import main

    src = tmp_path / "exp.json"
    ef.save(src, S.ExperimentSpec(data=S.DataSpec(name="moons", n_samples=200, val_fraction=0.25)))
    assert main(["run", str(src), "--seeds", "0-3", "--epochs", "100000", "--quiet",
                 "--out", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mlp-workbench: error: --seeds: 4 runs of 100,000 epochs may hold 2,800,000 history numbers, "
                   "more than the 2,200,000 one file keeps; train fewer seeds or epochs"]
    assert not (tmp_path / "o.json").exists()


def test_too_many_new_runs_are_refused_saying_how_many_stay():
    """36 finished runs, one of them shown (never removed): 64 new ones do not fit, and the
    reason counts the one that stays (not 'the others are pinned or training')."""
    spec = S.ExperimentSpec(data=S.DataSpec(name="moons"), training=S.TrainingSpec(epochs=5))
    runs = RunList()
    for _ in range(36):
        run = runs.add(spec)
        run.result, run.status = _long_result(5), "finished"
    shown = runs[35]
    gone = runs.evictable(L.MAX_RUNS, keep=[shown.id])
    assert len(gone) == 35 and shown not in gone
    assert runs.room_after(gone, L.MAX_RUNS) == (
        f"a session keeps at most {L.MAX_RUNS} runs: 1 stays (pinned, training or shown) beside the "
        f"{L.MAX_RUNS} new; delete or unpin some, or train fewer seeds")
    assert runs.room_after(gone, L.MAX_RUNS - 1) == ""
