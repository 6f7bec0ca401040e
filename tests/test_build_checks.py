"""build.check_fits: a spec that cannot train on its data set is refused before anything
is built, naming the field — an early-stopping monitor the task does not measure, a
validation monitor without validation data, a network too big to train.  (QA found the
first one crashing a run after `patience` epochs.)"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from workbench import spec as S
from workbench.build import MAX_PARAMETERS, build_run, check_fits, count_parameters
from workbench.data import load_dataset
from workbench.engine.events import EarlyStop, Finished
from workbench.engine.stopping import EarlyStopping
from workbench.history import Recorder


def spec_for(data: S.DataSpec, **changes) -> S.ExperimentSpec:
    base = S.ExperimentSpec(
        data=data,
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(6, "tanh", 0.0, "xavier_uniform"),)),
        training=S.TrainingSpec(epochs=12, batch_size=16, seed=1),
    )
    return S.replace(base, **changes)


MOONS = S.DataSpec(name="moons", n_samples=80, noise=0.2, val_fraction=0.25)
SINE = S.DataSpec(name="sine_1d", n_samples=80, noise=0.1, val_fraction=0.25)


def es(monitor: str, **kw) -> S.EarlyStoppingSpec:
    return S.EarlyStoppingSpec(enabled=True, monitor=monitor, patience=2, **kw)


@pytest.mark.parametrize("data, monitor, ok", [
    (MOONS, "val_loss", True), (MOONS, "val_accuracy", True), (MOONS, "val_rmse", False), (MOONS, "val_r2", False),
    (SINE, "val_loss", True), (SINE, "val_rmse", True), (SINE, "val_r2", True), (SINE, "val_accuracy", False),
])
def test_the_monitor_must_be_measured_for_the_task(data, monitor, ok):
    spec = spec_for(data, early_stopping=es(monitor))
    ds = load_dataset(spec.data)
    if ok:
        check_fits(spec, ds)
        return
    with pytest.raises(S.SpecError) as info:
        build_run(spec, ds)
    path, message = info.value.errors[0]
    assert path == "early_stopping.monitor" and monitor in message
    kind = "regression" if data is SINE else "classification"
    assert f"is not measured for {kind} data" in message


def test_validation_monitors_need_a_validation_split():
    # the spec itself refuses val_fraction 0 with early stopping on ...
    with pytest.raises(S.SpecError) as info:
        spec_for(dataclasses.replace(MOONS, val_fraction=0.0), early_stopping=es("val_loss"))
    assert info.value.errors[0][0] == "data.val_fraction"
    # ... and check_fits a validation split that came out empty (a tiny data set)
    ds = load_dataset(MOONS)
    empty = dataclasses.replace(ds, X_val=ds.X_val[:0], y_val=ds.y_val[:0])
    with pytest.raises(S.SpecError) as info:
        check_fits(spec_for(MOONS, early_stopping=es("val_loss")), empty)
    assert info.value.errors[0][0] == "early_stopping.enabled" and "val_fraction > 0" in str(info.value)
    with pytest.raises(S.SpecError) as info:
        check_fits(spec_for(MOONS, schedule=S.ScheduleSpec(kind="plateau", monitor="val_loss")), empty)
    assert info.value.errors[0][0] == "schedule.monitor"
    check_fits(spec_for(MOONS, schedule=S.ScheduleSpec(kind="plateau", monitor="train_loss")), empty)
    check_fits(spec_for(MOONS), empty)  # no early stopping: fine without validation


def test_a_network_too_big_to_train_is_refused_without_allocating_it():
    ds = load_dataset(MOONS)
    widest = S.ArchitectureSpec(layers=tuple(S.LayerSpec(4096, "relu", 0.0, "he_uniform") for _ in range(32)))
    spec = spec_for(MOONS, architecture=widest)
    expected = (2 * 4096 + 4096) + 31 * (4096 * 4096 + 4096) + (4096 * 1 + 1)  # by hand: in, 31 hidden, out
    assert count_parameters(spec, 2, 1) == expected > MAX_PARAMETERS
    t0 = time.thread_time()
    with pytest.raises(S.SpecError) as info:
        build_run(spec, ds)
    assert time.thread_time() - t0 < 0.5  # refused by arithmetic, nothing allocated
    assert info.value.errors[0][0] == "architecture" and f"{expected:,} parameters" in str(info.value)


def test_count_parameters_matches_the_built_network():
    spec = spec_for(MOONS, architecture=S.ArchitectureSpec(layers=(S.LayerSpec(5, "relu", 0.0, "he_uniform"),
                                                                    S.LayerSpec(3, "tanh", 0.0, "xavier_uniform"))))
    run = build_run(spec, load_dataset(spec.data))
    assert count_parameters(spec, 2, 1) == run.network.n_params == (2 * 5 + 5) + (5 * 3 + 3) + (3 + 1)


def test_a_monitor_that_is_never_finite_stops_without_crashing():
    """The engine's own guard (check_fits keeps specs from getting here): early
    stopping watching a metric the epochs never report stops after `patience` epochs
    with no best epoch, restores nothing and reports NaN."""
    spec = spec_for(MOONS, early_stopping=es("val_loss"))
    run = build_run(spec, load_dataset(spec.data))
    run.stopping = EarlyStopping(monitor="val_rmse", patience=2)  # classification: never measured
    params_before = run.network.params.copy()
    events = list(run.events())
    stop = next(e for e in events if isinstance(e, EarlyStop))
    assert stop.best_epoch == 0 and np.isnan(stop.best_value) and not stop.restored
    assert stop.stopped_epoch == 2  # patience 2: epochs 1 and 2 never improve (NaN) -> stop after 2
    assert isinstance(events[-1], Finished) and events[-1].status == "early_stopped"
    assert not np.array_equal(run.network.params, params_before)  # it trained, nothing restored
    Recorder(spec).add_all(events).result()  # and the result can be recorded


# ---------------------------------------------------------------------------
# Memory: estimated before anything is allocated, refused above MAX_RUN_MEMORY

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

from workbench.build import estimate_memory, memory_parts, task_of  # noqa: E402
from workbench.experiment_file import dumps  # noqa: E402
from workbench.limits import MAX_RUN_MEMORY  # noqa: E402

L = S.LayerSpec
MEMORY_CASES = {
    "adam, two layers, L2, early stopping": dict(
        layers=(L(512, "relu"), L(512, "relu")), batch=1000, es=S.EarlyStoppingSpec(enabled=True, patience=5),
        reg=S.RegularizationSpec(l2=1e-4)),
    "momentum, dropout everywhere, Monte-Carlo test time": dict(
        layers=(L(256, "tanh", 0.2), L(256, "tanh", 0.2)), opt="momentum", batch=256, input_dropout=0.1, n=2000,
        reg=S.RegularizationSpec(dropout_test_method="mc", mc_samples=3)),
    "adadelta, early stop with a retrain follow-up": dict(
        layers=(L(1024, "relu"),), opt="adadelta", batch=500, epochs=3, n=2000,
        es=S.EarlyStoppingSpec(enabled=True, patience=1, followup="retrain")),
    "adam, one wide layer, classic dropout, L1": dict(
        layers=(L(2048, "relu", 0.5),), batch=2000, n=5000,
        reg=S.RegularizationSpec(dropout_test_method="classic", l1=1e-5)),
}


def _memory_spec(layers, opt="adam", batch=1000, n=3000, es=None, reg=None, input_dropout=0.0, epochs=2):
    return S.ExperimentSpec(
        data=S.DataSpec(name="moons", n_samples=n, val_fraction=0.2, test_fraction=0.1),
        architecture=S.ArchitectureSpec(layers=layers, input_dropout=input_dropout),
        optimizer=S.replace(S.OptimizerSpec(), kind=opt, lr=0.01),
        regularization=reg or S.RegularizationSpec(), early_stopping=es or S.EarlyStoppingSpec(),
        training=S.TrainingSpec(epochs=epochs, batch_size=batch, seed=3))


@pytest.mark.parametrize("case", list(MEMORY_CASES))
def test_the_memory_estimate_matches_what_a_run_allocates(case):
    """The whole life of a run -- build, train (every batch size, evaluation chunks,
    early stopping, follow-up, penalties), record the result with its weights, write the
    file -- peaks (NumPy reports to tracemalloc) within 10 % of the estimate."""
    spec = _memory_spec(**MEMORY_CASES[case])
    ds = load_dataset(spec.data)
    data_bytes = sum(a.nbytes for a in (ds.X_train, ds.y_train, ds.X_val, ds.y_val, ds.X_test, ds.y_test))
    tracemalloc.start()
    try:
        run = build_run(spec, ds)
        recorder = Recorder(spec).add_all(run.events())
        dumps(spec, recorder.result(weights=run.network.params))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    measured = peak + data_bytes
    _, n_outputs = task_of(ds)
    estimate = estimate_memory(spec, 2, n_outputs, len(ds.X_train), len(ds.X_val), len(ds.X_test))
    assert 0.9 * measured <= estimate <= 1.1 * measured, (estimate, measured)
    assert measured > 10 * 2**20  # the arrays dominate the measurement, not the interpreter's objects


def test_the_estimate_counts_each_part_of_a_run():
    def parts(**changes):
        spec = S.replace(_memory_spec((L(300, "relu"), L(200, "relu")), batch=100), **changes)
        return memory_parts(spec, 10, 3, 1000, 200, 0)

    P = count_parameters(_memory_spec((L(300, "relu"), L(200, "relu"))), 10, 3)
    base = parts()
    sgd = parts(optimizer=S.replace(S.OptimizerSpec(), kind="sgd"))
    momentum = parts(optimizer=S.replace(S.OptimizerSpec(), kind="momentum"))
    assert base["architecture.layers"] - sgd["architecture.layers"] == 2 * 4 * P  # adam: two state vectors
    assert momentum["architecture.layers"] - sgd["architecture.layers"] == 4 * P  # momentum: one
    stopping = parts(early_stopping=S.EarlyStoppingSpec(enabled=True))
    assert stopping["architecture.layers"] - base["architecture.layers"] == 4 * P  # the best weights
    # the training buffers grow with the batch: (H + G) per layer, S per hidden layer, loss temporaries
    per_row = 4 * (2 * (300 + 200 + 3) + (300 + 200) + 2 * 3)
    bigger = parts(training=S.TrainingSpec(epochs=2, batch_size=1000))
    assert bigger["training.batch_size"] > base["training.batch_size"]
    assert bigger["training.batch_size"] == 1000 * (per_row + 10 * 4 + 8 + 4 * 3)  # one batch size, + the batch copy
    dropout = parts(architecture=S.ArchitectureSpec(layers=(L(300, "relu", 0.5), L(200, "relu"))))
    assert dropout["training.batch_size"] - base["training.batch_size"] == 100 * 2 * 4 * 300  # D and M, batch 100


def test_the_budget_admits_the_largest_network_with_a_moderate_batch():
    layers = tuple(L(4096, "relu") for _ in range(3))
    spec = _memory_spec(layers, batch=256, es=S.EarlyStoppingSpec(enabled=True))
    n_params = count_parameters(spec, 1000, 10)
    assert 37_000_000 < n_params <= MAX_PARAMETERS
    assert estimate_memory(spec, 1000, 10, 100_000, 25_000, 0) < MAX_RUN_MEMORY


_HUGE_RUN = r"""
import json, resource, sys, time
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from workbench import spec as S
from workbench.build import build_run
from workbench.data import load_dataset
layers = tuple(S.LayerSpec(4096, "relu") for _ in range(3))
spec = S.ExperimentSpec(data=S.DataSpec(name="moons", n_samples=200_000, val_fraction=0.2),
                        architecture=S.ArchitectureSpec(layers=layers), training=S.TrainingSpec(batch_size=100_000))
ds = load_dataset(spec.data)
t = time.process_time()
try:
    run = build_run(spec, ds)
    outcome = "built"
    for event in run.events():
        break
    outcome = "trained"
except S.SpecError as exc:
    outcome = str(exc)
except MemoryError:
    outcome = "MemoryError"
print(json.dumps({"outcome": outcome, "cpu": time.process_time() - t}))
"""


def test_settings_needing_23_gib_are_refused_fast_without_allocating():
    """3 hidden layers of 4096 units with batches of 100,000 rows (160,000 training rows:
    a full and a 60,000-row batch) used to end in a MemoryError in the middle of the run;
    now check_fits refuses them by arithmetic, under a 1.5 GiB address-space limit."""
    layers = tuple(L(4096, "relu") for _ in range(3))
    spec = S.ExperimentSpec(data=S.DataSpec(name="moons", n_samples=200_000, val_fraction=0.2),
                            architecture=S.ArchitectureSpec(layers=layers), training=S.TrainingSpec(batch_size=100_000))
    need = estimate_memory(spec, 2, 1, 160_000, 40_000, 0)
    assert 23 * 2**30 < need < 24 * 2**30
    parts = memory_parts(spec, 2, 1, 160_000, 40_000, 0)
    assert max(parts, key=parts.get) == "training.batch_size"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", _HUGE_RUN, str(1536 << 20)], capture_output=True, text=True,
                          timeout=60, cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["outcome"] == ("training.batch_size: the run would need 23.5 GiB, more than the 4 GiB budget; "
                              "use a smaller batch or narrower layers")
    assert out["cpu"] < 0.2
