"""TrainingWorker on a real QThread: same numbers as the headless trainer, a time-based
signal throttle, pause / step / stop between events, live settings, failures."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from workbench import spec as S
from workbench.engine.events import BatchEnd, EpochEnd, Finished, SettingChanged
from workbench.engine.trainer import LiveSettings
from workbench.ui import worker as worker_mod
from workbench.ui.worker import TrainingWorker

# Any Qt warning fails a test.  The one exception is the offscreen platform plugin's note
# that it cannot pass size hints to a (non-existent) window manager: a property of the
# test platform, printed for every top-level window with a size constraint.
pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]


def small_spec(epochs: int = 12, **training) -> S.ExperimentSpec:
    return S.ExperimentSpec(
        data=S.DataSpec(name="two_spirals", n_samples=200, noise=0.1, val_fraction=0.25, seed=1),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(12, "tanh", 0.0, "xavier_uniform"),)),
        optimizer=S.OptimizerSpec(kind="adam", lr=0.02),
        training=S.TrainingSpec(epochs=epochs, batch_size=16, seed=3, **training),
    )


def dataset_of(spec):
    from workbench.data import load_dataset

    return load_dataset(spec.data)


class Collector(QObject):
    """Receives the worker's signals in the GUI thread (queued: it is a QObject living
    there) and re-emits what tests wait for from the GUI thread.  (``qtbot.waitSignal``
    on a worker signal would run its callback in the worker thread.)"""

    paused = Signal(bool)
    done = Signal()

    def __init__(self):
        super().__init__()
        self.batches: list[list] = []
        self.boundaries: list = []
        self.pauses: list[bool] = []
        self.result = None
        self.error = None

    @Slot(list)
    def on_events(self, events):
        self.batches.append(events)

    @Slot(object)
    def on_boundary(self, payload):
        self.boundaries.append(payload)

    @Slot(bool)
    def on_pause(self, paused):
        self.pauses.append(paused)
        self.paused.emit(paused)

    @Slot(object)
    def on_finished(self, results):
        self.results = results  # one per member
        self.result = results[0]
        self.done.emit()

    @Slot(str)
    def on_failed(self, message):
        self.error = message
        self.done.emit()

    @property
    def events(self) -> list:
        return [e for batch in self.batches for e in batch]

    def epochs(self) -> list[EpochEnd]:
        return [e for e in self.events if isinstance(e, EpochEnd)]


class Harness:
    def __init__(self, qtbot, worker: TrainingWorker, sink=None):
        self.qtbot = qtbot
        self.worker = worker
        self.thread = QThread()
        self.sink = sink if sink is not None else Collector()
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        direct = Qt.ConnectionType.DirectConnection  # quit from the worker thread itself
        worker.finished.connect(self.thread.quit, direct)
        worker.failed.connect(self.thread.quit, direct)
        worker.events_ready.connect(self.sink.on_events)
        # when the worker emitted each batch (direct: recorded in the worker thread)
        self.emitted: list[float] = []
        worker.events_ready.connect(lambda _events: self.emitted.append(time.perf_counter()), direct)
        worker.boundary_ready.connect(self.sink.on_boundary)
        worker.pause_changed.connect(self.sink.on_pause)
        worker.finished.connect(self.sink.on_finished)
        worker.failed.connect(self.sink.on_failed)

    def start(self):
        self.thread.start()

    def join(self):
        self.worker.stop()
        assert self.thread.wait(5000)


@pytest.fixture
def harness(qtbot):
    made = []

    def make(worker, sink=None):
        h = Harness(qtbot, worker, sink)
        made.append(h)
        return h

    yield make
    for h in made:
        h.join()


def headless(spec, dataset):
    from workbench.build import build_run
    from workbench.history import Recorder

    run = build_run(spec, dataset)
    rec = Recorder(spec)
    events = []
    for ev in run.events():
        rec.add(ev)
        events.append(ev)
    return events, rec.result(weights=run.network.params)


def without_wall_time(events):
    return [dataclasses.replace(e, wall_time=0.0) if isinstance(e, Finished) else e for e in events]


def test_worker_events_and_result_equal_the_headless_run(qtbot, harness):
    spec = small_spec(epochs=12)
    ds = dataset_of(spec)
    calls = []

    def boundary(net):
        calls.append(time.perf_counter())
        return {"image": np.full((4, 4), float(len(calls))), "n": len(calls)}

    h = harness(TrainingWorker(spec, ds, boundary=boundary))
    with qtbot.waitSignal(h.sink.done, timeout=60_000):
        h.start()
    h.thread.wait(5000)
    ref_events, ref_result = headless(spec, dataset_of(spec))
    # every event, in order, bit-identical (the boundary predictions do not disturb training)
    assert without_wall_time(h.sink.events) == without_wall_time(ref_events)
    assert len(h.sink.epochs()) == 12
    got = h.sink.result
    assert got.status == "finished"
    assert got.history == ref_result.history
    assert got.weights == ref_result.weights
    assert got.final_metrics == ref_result.final_metrics
    # a boundary at the first epoch and at the end; arrays are copies
    assert 1 <= len(calls) and h.sink.boundaries
    assert h.sink.boundaries[-1]["n"] == len(calls)


class FakeBatchRun:
    """A "run" that only yields ``n`` tiny BatchEnd events, 100 per epoch, as fast as it can."""

    network = type("Net", (), {"params": np.zeros(3, np.float32)})()
    live = None

    def __init__(self, n: int):
        self.n = n

    def events(self):
        for i in range(self.n):
            yield BatchEnd(epoch=1 + i // 100, batch=1 + i % 100, step=i + 1, loss=float(i))


class CountingRecorder:
    """Stands in for the Recorder: its result is the number of events added."""

    def __init__(self, spec):
        self.count = 0

    def add(self, ev):
        self.count += 1

    def result(self, weights=None):
        return self.count


def test_emissions_are_throttled_by_time(qtbot, harness):
    """100 000 tiny events arrive in order but in few signals (<= rate x duration + 2)."""
    n = 100_000

    worker = TrainingWorker(None, None, build=lambda s, d: FakeBatchRun(n), recorder=CountingRecorder,
                            emit_interval=0.05)
    h = harness(worker)
    t0 = time.perf_counter()
    with qtbot.waitSignal(h.sink.done, timeout=60_000):
        h.start()
    duration = time.perf_counter() - t0
    assert h.sink.result == n
    steps = [e.step for e in h.sink.events]
    assert steps == list(range(1, n + 1))
    assert len(h.sink.batches) <= duration / 0.05 + 2
    assert len(h.sink.batches) < n / 100  # really batched


def test_pause_step_resume_and_stop(qtbot, harness):
    spec = small_spec(epochs=5000)
    worker = TrainingWorker(spec, dataset_of(spec))
    h = harness(worker)
    h.start()
    qtbot.waitUntil(lambda: len(h.sink.epochs()) >= 2, timeout=30_000)
    with qtbot.waitSignal(h.sink.paused, check_params_cb=lambda p: p is True, timeout=10_000):
        worker.pause()
    before = len(h.sink.epochs())
    # paused: each step must add exactly one epoch (a worker that kept running would add more)
    for _ in range(3):
        with qtbot.waitSignal(h.sink.paused, check_params_cb=lambda p: p is True, timeout=10_000):
            worker.step_epoch()
        after = len(h.sink.epochs())
        assert after == before + 1, "one step = exactly one more epoch"
        assert h.sink.epochs()[-1].epoch == after
        before = after
    with qtbot.waitSignal(h.sink.paused, check_params_cb=lambda p: p is False, timeout=10_000):
        worker.resume()
    qtbot.waitUntil(lambda: len(h.sink.epochs()) >= before + 3, timeout=30_000)
    with qtbot.waitSignal(h.sink.done, timeout=10_000):
        worker.stop()
    assert h.sink.result.status == "stopped"
    assert len(h.sink.result.history["epoch"]) == len(h.sink.epochs())


def test_stop_wakes_a_paused_worker(qtbot, harness):
    spec = small_spec(epochs=5000)
    worker = TrainingWorker(spec, dataset_of(spec), start_paused=True)
    h = harness(worker)
    with qtbot.waitSignal(h.sink.paused, timeout=30_000):
        h.start()
    trained = len(h.sink.epochs())  # (every event up to the pause point came before the pause)
    # A paused worker waits on an event with no timeout: only stop can wake it, so the run
    # ending at all shows that stop woke it.  Nothing is timed (a loaded machine may be
    # slow); the 30 s are a guard against a hang, which is what this failure would be.
    with qtbot.waitSignal(h.sink.done, timeout=30_000):
        worker.stop()
    assert h.thread.wait(30_000)
    assert h.sink.pauses == [True, False]  # woken ...
    assert h.sink.result.status == "stopped"  # ... to stop, not to train on
    assert len(h.sink.result.history["epoch"]) == trained


def test_live_learning_rate_change_is_reported(qtbot, harness):
    spec = small_spec(epochs=5000)
    worker = TrainingWorker(spec, dataset_of(spec))
    h = harness(worker)
    h.start()
    qtbot.waitUntil(lambda: len(h.sink.epochs()) >= 2, timeout=30_000)
    LiveSettings.set_all(worker.lives, lr=0.005, l2=0.001)
    qtbot.waitUntil(lambda: any(isinstance(e, SettingChanged) for e in h.sink.events), timeout=30_000)
    changes = {e.name: e for e in h.sink.events if isinstance(e, SettingChanged)}
    qtbot.waitUntil(lambda: len(h.sink.epochs()) >= changes["lr"].epoch, timeout=30_000)
    assert changes["lr"].new == pytest.approx(0.005)
    assert changes["l2"].new == pytest.approx(0.001)
    lr_at = {e.epoch: e.lr for e in h.sink.epochs()}
    assert lr_at[changes["lr"].epoch] == pytest.approx(0.005)
    assert lr_at[changes["lr"].epoch - 1] == pytest.approx(0.02)
    with qtbot.waitSignal(h.sink.done, timeout=10_000):
        worker.stop()
    kinds = [m.kind for m in h.sink.result.markers]
    assert "lr_change" in kinds and "reg_change" in kinds


def test_exception_in_the_run_is_reported_as_failed(qtbot, harness):
    def broken_build(spec, dataset):
        raise RuntimeError("no such optimizer")

    worker = TrainingWorker(small_spec(), None, build=broken_build)
    h = harness(worker)
    with qtbot.waitSignal(h.sink.done, timeout=10_000):
        h.start()
    assert h.sink.error.startswith("RuntimeError: no such optimizer")
    assert h.sink.result is None
    assert h.thread.wait(2000)


def test_boundary_rate_is_bounded(qtbot, harness, monkeypatch):
    spec = small_spec(epochs=5000)
    # The worker's own clock: each thread's last reading is kept, so a boundary call is
    # stamped with the very time the worker decided on (not with when this callback got
    # to run, which a loaded machine can delay by a thread switch or more).
    last_reading = {}

    class WorkerClock:
        def __getattr__(self, name):
            return getattr(time, name)

        @staticmethod
        def perf_counter():
            now = time.perf_counter()
            last_reading[threading.get_ident()] = now
            return now

    monkeypatch.setattr(worker_mod, "time", WorkerClock())
    calls = []

    def boundary(net):
        calls.append(last_reading[threading.get_ident()])
        return np.zeros((2, 2))

    worker = TrainingWorker(spec, dataset_of(spec), boundary=boundary, boundary_interval=0.25)
    h = harness(worker)
    t0 = time.perf_counter()
    h.start()
    # (until four throttled calls were made, rather than for some time: a loaded machine
    # trains more slowly, so a time would not say how many gaps there are to check)
    qtbot.waitUntil(lambda: len(h.sink.epochs()) >= 60 and len(calls) >= 4, timeout=60_000)
    with qtbot.waitSignal(h.sink.done, timeout=10_000):
        worker.stop()
    duration = time.perf_counter() - t0
    assert len(calls) <= duration / 0.25 + 2  # <= 4 Hz (+ the first and the final one)
    gaps = np.diff(calls[:-1])  # (the final one goes out at the end of the run, unthrottled)
    assert len(gaps) >= 2 and (gaps >= 0.25).all(), gaps  # on the worker's clock: exact
    assert len(h.sink.boundaries) == len(calls)


class AckingCollector(Collector):
    """Acknowledges every batch from the GUI thread, as the main window does."""

    def __init__(self, cost: float):
        super().__init__()
        self.cost = cost
        self.worker = None

    @Slot(list)
    def on_events(self, events):
        super().on_events(events)
        self.worker.gate.acknowledge(self.cost)


def test_back_pressure_waits_for_the_gui(qtbot, harness):
    """With ``gui_budget`` the next batch waits for the GUI's acknowledgement and for
    cost / budget seconds; a missing acknowledgement holds it at most ``max_hold``."""
    n = 200_000

    def run(sink):
        worker = TrainingWorker(None, None, build=lambda s, d: FakeBatchRun(n), recorder=CountingRecorder,
                                emit_interval=0.01, gui_budget=0.5, max_hold=0.3)
        h = harness(worker, sink)
        if isinstance(sink, AckingCollector):
            sink.worker = worker
        t0 = time.perf_counter()
        with qtbot.waitSignal(h.sink.done, timeout=60_000):
            h.start()
        return h, time.perf_counter() - t0

    # acknowledged, each batch "costing" 0.05 s of GUI time: >= 0.1 s between batches
    h, duration = run(AckingCollector(0.05))
    assert [e.step for e in h.sink.events] == list(range(1, n + 1))
    assert len(h.sink.batches) <= duration / 0.1 + 3
    assert (np.diff(h.emitted[:-1]) >= 0.1 - 1e-3).all()  # (the last batch goes out at the end)
    # never acknowledged: a batch still goes out every max_hold seconds
    h2, duration2 = run(Collector())
    assert [e.step for e in h2.sink.events] == list(range(1, n + 1))
    assert len(h2.sink.batches) <= duration2 / 0.3 + 3
    assert len(h2.sink.batches) >= 2


def test_hold_stops_the_worker_until_release_and_times_out(qtbot, harness):
    """``hold`` (the GUI starts drawing a frame) stops the worker at the next event until
    ``release``; a frame that never ends holds it at most ``max_hold_frame`` seconds,
    and only once."""
    spec = small_spec(epochs=4000)
    worker = TrainingWorker(spec, dataset_of(spec), max_hold_frame=0.3)
    h = harness(worker)
    h.start()
    qtbot.waitUntil(lambda: len(h.sink.epochs()) >= 2, timeout=30_000)
    # first a frame that is released: while it lasts the worker must not go on by itself,
    # however long this (possibly loaded) machine takes to see it stall, so its time-out
    # is out of reach here; the 0.3 s one is put back for the frame that never ends
    worker.gate.max_hold_frame = 60.0
    worker.gate.hold()
    # held: the event count stops growing (waitUntil polls; nothing sleeps in the worker)
    count = {"n": len(h.sink.events), "same": 0}

    def stalled():
        n = len(h.sink.events)
        count["same"] = count["same"] + 1 if n == count["n"] else 0
        count["n"] = n
        return count["same"] >= 5

    qtbot.waitUntil(stalled, timeout=5000)
    assert worker.held_seconds == 0.0  # still waiting: accounted when the wait ends
    worker.gate.release()
    qtbot.waitUntil(lambda: len(h.sink.events) > count["n"], timeout=10_000)
    assert 0.0 < worker.held_seconds < 60.0  # it did wait (accounted now) while the events stood still
    # never released: the worker goes on by itself after max_hold_frame (0.3 s); the
    # hold is accounted when its wait ends, so wait for that, not for events (a batch
    # queued before the hold may still arrive).  The wait's timeout is recorded: that it
    # is max_hold_frame is what bounds the hold (the measured hold is at least that; how
    # much longer depends on the machine's load, so only a hang is ruled out above it).
    worker.gate.max_hold_frame = 0.3
    timeouts = []
    free = worker.gate._free
    free_wait = free.wait
    free.wait = lambda timeout=None: timeouts.append(timeout) or free_wait(timeout)
    before = worker.held_seconds
    worker.gate.hold()
    qtbot.waitUntil(lambda: worker.held_seconds > before, timeout=10_000)
    assert timeouts == [0.3]
    assert 0.3 - 0.01 <= worker.held_seconds - before < 10.0
    n0 = len(h.sink.events)
    qtbot.waitUntil(lambda: len(h.sink.events) > n0 + 50, timeout=10_000)  # and trains on
    assert timeouts == [0.3]  # without waiting for that frame again
    with qtbot.waitSignal(h.sink.done, timeout=10_000):
        worker.stop()


def test_the_snapshot_store_keeps_each_members_best_epoch_and_hears_of_it_only_when_it_changes():
    """The timeline's store (a budget small enough to thin) protects every member's early-
    stopping best epoch: the argmin of its validation loss; ``protect`` is called once per
    new best, not every epoch.  (The run in this thread: no GUI needed.)"""
    from workbench.snapshots import SnapshotStore

    stopping = S.EarlyStoppingSpec(enabled=True, patience=1000)  # never fires: bests come and go
    base = dataclasses.replace(small_spec(epochs=60), early_stopping=stopping)
    specs = [dataclasses.replace(base, training=dataclasses.replace(base.training, seed=s)) for s in (3, 4)]

    class CountingStore(SnapshotStore):
        def protect(self, run, epoch):
            calls.append((run, epoch))
            return super().protect(run, epoch)

    calls = []
    n_params = 2 * 12 + 12 + 12 + 1
    store = CountingStore(budget_bytes=n_params * 4 * 24)  # room for 24 of 2 x 61 snapshots
    worker = TrainingWorker(specs, dataset_of(base), run_ids=["a", "b"], snapshots=store)
    results = worker._run()  # what run() emits as finished (it reports exceptions instead)
    for run_id, result in zip(["a", "b"], results):
        val = np.asarray(result.history["val_loss"], dtype=float)
        best = int(np.argmin(val)) + 1
        assert store.protected(run_id) == best
        assert best in store.epochs(run_id)
        bests = [e for r, e in calls if r == run_id]
        assert bests == sorted(set(bests)) and len(bests) < 60  # each new best once, in order
        assert bests[-1] == best
    assert store.nbytes <= store.budget_bytes and len(store.epochs("a")) < 61
