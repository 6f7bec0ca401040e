"""Issue 10's acceptance: a version-2 experiment file with 20 runs round-trips losslessly
(``loads(dumps(x)) == x`` and the re-saved text is byte-identical), and the file's run
limit (``limits.MAX_RUNS``) refuses one run more, when writing and when reading."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench import experiment_file as ef
from workbench import spec as S
from workbench.build import build_run
from workbench.data import load_dataset
from workbench.history import Recorder
from workbench.limits import MAX_RUNS

N_RUNS = 20


def _spec(i: int) -> S.ExperimentSpec:
    """Run i's settings: seeds, learning rates, optimizers and early stopping differ."""
    base = S.ExperimentSpec(
        name=f"run {i}",
        data=S.DataSpec(name="two_spirals", n_samples=120, noise=0.1, val_fraction=0.25, seed=3),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(6 + i % 3, "tanh", 0.0, "xavier_uniform"),)),
        training=S.TrainingSpec(epochs=4 + i % 3, batch_size=16, seed=100 + i),
    )
    kind = ("sgd", "momentum", "adam")[i % 3]
    return S.replace(base, optimizer=S.OptimizerSpec(kind=kind, lr=0.01 * (1 + i)),
                     early_stopping=S.EarlyStoppingSpec(enabled=i % 4 == 0, patience=1))


def _trained(spec: S.ExperimentSpec) -> S.RunResult:
    """The run trained headless, its weights kept."""
    run = build_run(spec, load_dataset(spec.data))
    rec = Recorder(spec)
    for ev in run.events():
        rec.add(ev)
    return rec.result(weights=run.network.params)


@pytest.fixture(scope="module")
def twenty_runs() -> tuple[S.SavedRun, ...]:
    runs = []
    for i in range(N_RUNS):
        spec = _spec(i)
        result = _trained(spec)
        if i == 7:  # a hand-made result with the awkward values a file must keep exactly
            result = S.replace(result, "", markers=(S.Marker("plateau", 2, "ünïcödé \"q\" \\ n\nline"),),
                               final_metrics={**result.final_metrics, "test_rmse": 1e-300},
                               wall_time=0.1 + 0.2, message="kept ✓",
                               followup_history={"epoch": (1.0, 2.0), "train_loss": (5e-324, 1.7976931348623157e308)})
        if i == 19:  # a run that never finished: no result
            result = None
        group = None
        if 4 <= i < 8:
            group = "group 5 · seeds 104-107"
        elif 12 <= i < 15:
            group = "group 13 · seeds 112-114"
        runs.append(S.SavedRun(
            name=f"run {i} — η {0.01 * (1 + i):g}" if i % 5 else f"baseline {i}",
            spec=spec, result=result,
            parent=None if i == 0 else (i - 1 if i % 2 else 0),
            group=group, color=(i * 3) % 8 + (8 if i == 11 else 0), visible=i % 3 != 1, pinned=i in (0, 9, 15),
        ))
    return tuple(runs)


def test_twenty_runs_round_trip_losslessly_and_resave_byte_identical(twenty_runs, tmp_path):
    runs = twenty_runs
    assert len(runs) == N_RUNS and sum(r.result is not None and r.result.weights is not None for r in runs) == 19
    spec = S.replace(runs[3].spec, name="twenty runs")
    text = ef.dumps(spec, runs=runs, current=5, view=S.ViewHints(pace=10.0))
    assert json.loads(text)["version"] == 2 and len(json.loads(text)["runs"]) == N_RUNS

    loaded = ef.loads(text)
    assert loaded.spec == spec and loaded.current == 5 and loaded.view == S.ViewHints(pace=10.0)
    assert loaded.runs == runs  # every field of every run, equal
    for before, after in zip(runs, loaded.runs):
        assert (after.name, after.parent, after.group, after.color, after.visible, after.pinned) == \
               (before.name, before.parent, before.group, before.color, before.visible, before.pinned)
        if before.result is not None:
            assert after.result.history == before.result.history
            np.testing.assert_array_equal(ef.decode_weights(after.result.weights),
                                          ef.decode_weights(before.result.weights))
    assert loaded.runs[7].result.followup_history["train_loss"] == (5e-324, 1.7976931348623157e308)
    assert loaded.runs[7].result.wall_time == 0.1 + 0.2

    again = ef.dumps(loaded.spec, runs=loaded.runs, current=loaded.current, view=loaded.view)
    assert again == text  # byte-identical

    # the same through a file on disk
    path = tmp_path / "twenty.json"
    ef.save(path, spec, runs=runs, current=5, view=S.ViewHints(pace=10.0))
    assert path.read_bytes() == text.encode("utf-8")
    from_disk = ef.load(path)
    assert from_disk.runs == runs and from_disk.current == 5
    ef.save(path, from_disk.spec, runs=from_disk.runs, current=from_disk.current, view=from_disk.view)
    assert path.read_bytes() == text.encode("utf-8")


def test_one_run_more_than_the_limit_is_refused_with_a_clear_error(twenty_runs, tmp_path):
    spec = twenty_runs[0].spec
    light = S.SavedRun(name="light", spec=spec,
                       result=S.RunResult(history={"epoch": (1.0,), "train_loss": (0.5,)}))
    at_limit = tuple(S.replace(light, "", name=f"run {i}") for i in range(MAX_RUNS))
    text = ef.dumps(spec, runs=at_limit, current=0)  # exactly MAX_RUNS: fine
    assert len(ef.loads(text).runs) == MAX_RUNS

    over = at_limit + (S.replace(light, "", name="one too many"),)
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.dumps(spec, runs=over, current=0)
    assert info.value.errors == [("runs", f"a file keeps at most {MAX_RUNS} runs, got {MAX_RUNS + 1}")]
    path = tmp_path / "over.json"
    with pytest.raises(ef.ExperimentFileError):
        ef.save(path, spec, runs=over, current=0)
    assert not path.exists()  # nothing written

    # a file edited by hand to hold one run more is refused on reading, naming the runs
    doc = json.loads(text)
    doc["runs"].append(doc["runs"][-1])
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.loads(json.dumps(doc))
    assert info.value.errors == [("runs", f"must have at most {MAX_RUNS} items, got {MAX_RUNS + 1}")]
