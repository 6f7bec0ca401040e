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
