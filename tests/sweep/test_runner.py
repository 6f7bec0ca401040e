"""Sweeps on Dask distributed: a 2-worker local cluster and a scheduler with two workers
started as separate processes give the very numbers of the same trials run one after the
other in this process; Cancel keeps finished rows and leaves no worker process; an
unreachable scheduler is one message within 10 s; a failing trial is a row.

Equality: the trials run on worker processes with one BLAS thread each and here with the
process's default; the networks are small enough that OpenBLAS does not split a product
across threads, so the histories, metrics and weights are asserted bit for bit (and, as
the acceptance asks, to 1e-6 relative first, so a failure says which holds)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from workbench.build import build_run
from workbench.data import load_dataset
from workbench.experiment_file import decode_weights
from workbench.history import Recorder
from workbench.spec import DataSpec, EarlyStoppingSpec, ExperimentSpec, TrainingSpec, parse
from workbench.sweep.runner import Cluster, SweepError, SweepRunner
from workbench.sweep.spec import Axis, SweepSpec, trials
from workbench.sweep.trial import STREAM_RATE, CachedFlag, _Streamer, train_point

BASE = ExperimentSpec(name="sweep test", data=DataSpec(n_samples=200), training=TrainingSpec(epochs=25))
EIGHT = SweepSpec(axes=(Axis("optimizer.lr", "log_uniform", 1e-3, 0.3),
                        Axis("regularization.l2", values=(0.0, 1e-4, 1e-3)),
                        Axis("architecture.layers.*.units", "int_uniform", 4, 24)), samples=8, seed=3)


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(BASE.data)


@pytest.fixture(scope="module")
def reference(dataset):
    """The 8 trials run one after the other in this process, with the engine directly."""
    out = {}
    for t in trials(BASE, EIGHT):
        run = build_run(t.spec, dataset, emit_batches=False)
        result = Recorder(t.spec).add_all(run.events()).result(weights=run.network.params)
        out[t.index] = result
    return out


def _children() -> set[int]:
    """This process's child processes but multiprocessing's resource tracker (one per
    process, started with the first cluster and kept until the interpreter exits)."""
    out = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(p.cmdline()):
                out.add(p.pid)
        except psutil.Error:
            pass
    return out


def _gone(pids) -> bool:
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


@pytest.fixture(scope="module")
def local():
    """One 2-worker local cluster for the module; closing it must leave no worker process."""
    before = _children()
    cluster = Cluster(workers=2)
    assert cluster.n_workers() == 2
    pids = cluster.worker_pids()
    assert len(set(pids)) == 2 and os.getpid() not in pids
    yield cluster
    cluster.close()
    assert _gone(pids), "a worker process outlived Cluster.close()"
    assert _gone(_children() - before)


def assert_same(outcomes, reference, exact=True):
    for outcome in outcomes:
        got, want = outcome.result, reference[outcome.index]
        assert outcome.status == want.status == "finished", outcome.reason
        assert got.history.keys() == want.history.keys()
        for column, values in want.history.items():
            np.testing.assert_allclose(np.array(got.history[column], float), np.array(values, float), rtol=1e-6,
                                       err_msg=f"trial {outcome.index} {column}")
        np.testing.assert_allclose(decode_weights(got.weights), decode_weights(want.weights), rtol=1e-6)
        if exact:  # bit for bit: same trainer, same seeds, single-threaded products
            assert got.history == want.history, f"trial {outcome.index}: not bit-identical"
            assert got.final_metrics == want.final_metrics
            assert got.weights == want.weights


def test_eight_configurations_on_two_local_workers_equal_the_sequential_runs(local, dataset, reference):
    runner = SweepRunner(BASE, EIGHT, dataset, cluster=local)
    seen = []
    runner.on_progress = lambda outcome, done, total: seen.append((outcome.index, done, total))
    outcomes = runner.run()
    runner.close()  # a cluster given to the runner stays up
    assert local.started and local.n_workers() == 2
    assert [o.index for o in outcomes] == list(range(8))
    assert sorted(i for i, _, _ in seen) == list(range(8)) and [d for _, d, _ in seen] == list(range(1, 9))
    assert_same(outcomes, reference)
    assert len({o.where for o in outcomes}) == 2, "both workers trained"
    progress = runner.poll()
    assert progress.state == "finished" and progress.done == 8 and progress.fraction == 1.0 and progress.eta == 0.0
    # the streamed curves reached the last epoch of every trial
    for t in runner.trials:
        curve = runner.curve(t.index)
        assert curve.epoch[-1] == 25
        assert curve.val_loss[-1] == pytest.approx(reference[t.index].history["val_loss"][-1], rel=1e-6)


def test_the_sequential_runner_in_this_process_equals_them_too(dataset, reference):
    outcomes = SweepRunner(BASE, EIGHT, dataset, workers=0).run()
    assert_same(outcomes, reference)


def test_seeds_of_a_point_train_as_one_lockstep_group_equal_to_their_solo_runs(local, dataset):
    sweep = SweepSpec(axes=(Axis("optimizer.lr", values=(0.01, 0.05)),), method="grid", repeats=3)
    outcomes = SweepRunner(BASE, sweep, dataset, cluster=local).run()
    assert all(o.lockstep for o in outcomes)
    for t, o in zip(trials(BASE, sweep), outcomes):
        solo = Recorder(t.spec).add_all(build_run(t.spec, dataset, emit_batches=False).events()).result()
        assert o.result.history == solo.history and o.result.final_metrics == solo.final_metrics
    assert len({o.where for o in outcomes[:3]}) == 1  # one task per point


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    """Until something accepts connections at 127.0.0.1:``port`` (the scheduler started)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            try:  # returns at once if the scheduler died; else a tenth of a second passes
                process.wait(timeout=0.1)
                raise AssertionError(f"'dask scheduler' exited with status {process.returncode}")
            except subprocess.TimeoutExpired:
                pass
    raise AssertionError(f"'dask scheduler' did not listen at port {port} within {seconds} s")


def _stop(processes) -> None:
    for p in processes:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def test_the_same_sweep_on_a_scheduler_and_two_workers_started_as_processes(dataset, reference, tmp_path):
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        dask = shutil.which("dask")
        if dask is None:
            pytest.skip("the 'dask' command (dask[distributed]) is not installed, so no scheduler can be started")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "dask.log", "wb")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    processes = [subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], stdout=log, stderr=log, start_new_session=True, env=env)]
    tree: set = set()
    try:
        _wait_listening(port, processes[0])
        for _ in range(2):
            processes.append(subprocess.Popen(
                [str(dask), "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                 "--host", "127.0.0.1", "--memory-limit", "0"], stdout=log, stderr=log, start_new_session=True,
                env=env, cwd=tmp_path))
        cluster = Cluster(scheduler=address, timeout=60)
        cluster.client().wait_for_workers(2, timeout=60)
        tree = {c.pid for p in processes for c in psutil.Process(p.pid).children(recursive=True)}
        outcomes = SweepRunner(BASE, EIGHT, dataset, cluster=cluster).run()
        pids = set(cluster.worker_pids())
        cluster.close()
        assert_same(outcomes, reference)
        assert len({o.where for o in outcomes}) == 2 and {int(o.where.rsplit(":", 1)[1]) for o in outcomes} == pids
        assert pids <= tree  # the trials ran in the workers started here
    finally:
        _stop(processes)
        log.close()
    assert all(p.poll() is not None for p in processes)
    alive = []
    for pid in tree:  # the workers' own processes end a moment after their 'dask worker' command
        try:
            alive.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, left = psutil.wait_procs(alive, timeout=20)
    assert not left, "a worker process outlived its 'dask worker' command"


def test_cancel_keeps_finished_rows_cuts_running_trials_and_leaves_no_worker(dataset, reference):
    # points 0-2 train 3 epochs, points 3-5 100000 (minutes): cancel while two long ones run
    sweep = SweepSpec(axes=(Axis("training.epochs", values=(3, 100_000)),
                            Axis("optimizer.lr", values=(0.01, 0.02, 0.03))), method="grid")
    runner = SweepRunner(BASE, sweep, dataset, workers=2)
    runner.start()
    deadline = time.monotonic() + 60
    progress = runner.poll()
    while not (progress.done == 3 and len(progress.running) == 2) and time.monotonic() < deadline:
        runner.wait(0.05)
        progress = runner.poll()
    assert progress.done == 3 and set(progress.running) <= {3, 4, 5} and len(progress.running) == 2, progress
    pids = runner.cluster.worker_pids()
    finished_before = {i: o.result for i, o in progress.outcomes.items()}
    runner.cancel()
    # not timed: the two running trials have minutes of epochs left, so the sweep being over
    # at all (the 30 s only guard against a hang) with both cut short (below) shows that
    # Cancel stopped them
    assert runner.wait(30), "running trials did not stop on Cancel"
    progress = runner.poll()
    runner.close()
    assert progress.state == "cancelled" and progress.done == 6
    outcomes = progress.outcomes
    for i in range(3):  # finished rows intact
        assert outcomes[i].status == "finished" and outcomes[i].result is finished_before[i]
        assert len(outcomes[i].result.history["epoch"]) == 3
    running = sorted(i for i in range(3, 6) if outcomes[i].status == "stopped")
    assert running == sorted(set(range(3, 6)) & set(running)) and len(running) == 2
    for i in running:
        epochs = len(outcomes[i].result.history["epoch"])
        assert 1 <= epochs < 100_000 and outcomes[i].reason == f"cut short by Cancel after epoch {epochs}"
    left = (set(range(3, 6)) - set(running)).pop()
    assert outcomes[left].status == "cancelled" and outcomes[left].result is None
    assert outcomes[left].reason == "not run: cancelled before it started"
    assert _gone(pids), "a worker process outlived SweepRunner.close()"


def test_the_time_budget_cuts_trials_short_and_says_so(local, dataset, monkeypatch):
    """The budget is wall time by design.  The runner's clock is moved on by the test once
    both trials train, so the budget runs out at a known point, whatever the machine's
    load (a real 0.5 s could run out before a slow worker started its trial)."""
    from workbench.sweep import runner as runner_mod

    ahead = [0.0]  # seconds the runner's clock is put ahead of the real one

    class RunnerClock:
        def __getattr__(self, name):
            return getattr(time, name)

        @staticmethod
        def perf_counter():
            return time.perf_counter() + ahead[0]

    monkeypatch.setattr(runner_mod, "time", RunnerClock())
    sweep = SweepSpec(axes=(Axis("optimizer.lr", values=(0.01, 0.02, 0.03)),), method="grid",
                      budget={"max_runs": 8, "max_seconds": 600})
    base = dataclasses.replace(BASE, training=dataclasses.replace(BASE.training, epochs=100_000))
    runner = SweepRunner(base, sweep, dataset, cluster=local)
    runner.start()
    try:
        # both workers train (a trial with epochs on its live curve), the third point waits
        deadline = time.monotonic() + 60
        while not (all(runner.curve(i).epoch for i in (0, 1)) or runner.over) and time.monotonic() < deadline:
            runner.wait(0.05)
        progress = runner.poll()
        assert progress.state == "running" and progress.done == 0 and set(progress.running) == {0, 1}, progress
        ahead[0] = 601.0  # the budget has run out
        # (the trials have minutes of epochs left: the sweep being over at all shows the
        # budget stopped it; the 30 s only guard against a hang)
        assert runner.wait(30), "the time budget did not stop the sweep"
        progress = runner.poll()
    finally:
        runner.close()
    assert progress.state == "finished" and progress.done == 3
    outcomes = [progress.outcomes[i] for i in range(3)]
    assert [o.status for o in outcomes] == ["stopped", "stopped", "cancelled"], outcomes
    for o in outcomes[:2]:
        epochs = len(o.result.history["epoch"])
        assert 1 <= epochs < 100_000
        assert o.reason == f"cut short after epoch {epochs}: the time budget of 600 s ran out"
    assert outcomes[2].result is None and outcomes[2].reason == "not run: the time budget ran out"


def test_an_unreachable_scheduler_is_one_message_within_ten_seconds(dataset, monkeypatch):
    from workbench.sweep import runner as runner_mod

    # A refused connection is told at once, not when the connection timeout has run out.
    # Told apart without timing this machine: the runner's clusters are given a timeout of
    # two minutes, so the answer coming within one (a guard a loaded machine cannot reach)
    # shows it did not wait for it.
    made = []

    class PatientCluster(Cluster):
        def __init__(self, workers=None, scheduler=None, **kwargs):
            super().__init__(workers, scheduler, **{**kwargs, "timeout": 120.0})
            made.append(self)

    port = _free_port()  # nothing listens there
    with monkeypatch.context() as patch:
        patch.setattr(runner_mod, "Cluster", PatientCluster)
        start = time.monotonic()
        with pytest.raises(SweepError, match=rf"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: "):
            SweepRunner(BASE, EIGHT, dataset, scheduler=f"tcp://127.0.0.1:{port}").run()
        assert time.monotonic() - start < 60
        assert [c.timeout for c in made] == [120.0]
    # a silent peer: one message once the timeout (8 s, within the ten the acceptance
    # allows) has run out, rather than waiting without end as distributed's Client would;
    # the message says which timeout was applied, the 60 s only guard against a hang
    with socket.socket() as silent:  # accepts connections and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(SweepError, match=r"no answer within 8 s"):
            SweepRunner(BASE, EIGHT, dataset, scheduler=address).run()
        assert time.monotonic() - start < 60
    with pytest.raises(SweepError, match="expected tcp://host:port"):
        SweepRunner(BASE, EIGHT, dataset, scheduler="http://example:80")


def test_a_failing_trial_is_a_row_with_its_reason_and_the_sweep_goes_on(local, dataset):
    base = dataclasses.replace(BASE, early_stopping=EarlyStoppingSpec(enabled=True, patience=5))
    sweep = SweepSpec(axes=(Axis("early_stopping.monitor", values=("val_loss", "val_rmse")),
                            Axis("optimizer.kind", values=("adam", "nesterov")),
                            Axis("optimizer.momentum", values=(0.0, 0.9))), method="grid")
    outcomes = SweepRunner(base, sweep, dataset, cluster=local).run()
    points = [t.point for t in trials(base, sweep)]
    for point, o in zip(points, outcomes):
        if point["optimizer.kind"] == "nesterov" and point["optimizer.momentum"] == 0.0:
            assert o.status == "failed" and o.reason.startswith("invalid settings: optimizer"), o
        elif point["early_stopping.monitor"] == "val_rmse":
            assert o.status == "failed" and o.reason.startswith("early_stopping.monitor: val_rmse is not measured")
        else:
            assert o.status in ("finished", "early_stopped") and o.result is not None, o
    assert [o.status for o in outcomes].count("failed") == 5


def test_a_diverged_trial_is_a_row_with_its_reason():
    base = parse(ExperimentSpec, {"data": {"name": "sine_1d", "n_samples": 200}, "training": {"epochs": 10},
                                  "architecture": {"layers": [{"units": 16, "activation": "identity"}]},
                                  "optimizer": {"kind": "sgd"}})
    sweep = SweepSpec(axes=(Axis("optimizer.lr", values=(0.01, 10.0)),), method="grid")
    outcomes = SweepRunner(base, sweep, load_dataset(base.data), workers=0).run()
    assert outcomes[0].status == "finished"
    assert outcomes[1].status == "diverged" and outcomes[1].reason.startswith("Diverged at epoch 1")


# ---------------------------------------------------------------------------
# The bounded stream and the cached stop flag


def test_epochs_stream_at_a_bounded_rate_in_small_messages(monkeypatch, dataset):
    clock = [0.0]
    monkeypatch.setattr("workbench.sweep.trial.time.monotonic", lambda: clock[0])
    sent = []
    streamer = _Streamer(sent.append, STREAM_RATE)
    from workbench.engine.events import EpochEnd

    for epoch in range(1, 2001):  # 2000 epochs in 1 s of the clock: 1 ms each
        clock[0] = epoch * 1e-3
        streamer.add(7, EpochEnd(epoch, 0.5, 0.6, 0.0, 0.01, {"val_accuracy": 0.9}))
    streamer.flush(7)
    assert len(sent) <= STREAM_RATE * 2.0 + 1
    assert all(len(m["epoch"]) <= 256 and m["trial"] == 7 for m in sent)
    assert sent[-1]["epoch"][-1] == 2000 and sent[0]["epoch"][0] == 1
    assert sent[1]["val_metric"][0] == 0.9


def test_the_stop_flag_is_asked_at_most_every_interval(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr("workbench.sweep.trial.time.monotonic", lambda: clock[0])
    asked = []
    flag = CachedFlag(lambda: asked.append(clock[0]) or clock[0] >= 0.3, interval=0.125)
    answers = []
    for k in range(64):  # an epoch every 1/64 s (binary fractions: exact)
        clock[0] = k / 64
        answers.append(flag())
    assert asked == [0.0, 0.125, 0.25, 0.375]
    assert answers.index(True) == 24 and all(answers[24:])


def test_train_point_stops_when_asked_and_leaves_the_rest_out(dataset):
    specs = [(i, dataclasses.replace(BASE, optimizer=dataclasses.replace(BASE.optimizer, kind=k)))
             for i, k in enumerate(("adam", "sgd"))]
    calls = []

    def stop_after_four_epochs() -> bool:
        calls.append(1)
        return len(calls) > 5  # asked once before the first run, then after every epoch

    outcomes = train_point(specs, dataset, should_stop=stop_after_four_epochs)
    assert outcomes[0].status == "stopped" and len(outcomes[0].result.history["epoch"]) == 5
    assert outcomes[1].status == "cancelled" and outcomes[1].result is None
