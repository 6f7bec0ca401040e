"""FramePacer: a frame holds the worker until the changed views have painted, then
releases and acknowledges it; frames keep within their budget of the time."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QObject, Signal

from workbench.ui import frame_pacer as fp


class FakeWorker:
    def __init__(self):
        self.calls = []

    def hold(self):
        self.calls.append("hold")

    def release(self):
        self.calls.append("release")

    def acknowledge(self, cost, budget=None):
        self.calls.append(("ack", cost))
        self.budget = budget


class FakeView(QObject):
    painted = Signal()

    def __init__(self):
        super().__init__()
        self.dirty = False
        self.visible = True

    def needs_paint(self):
        return self.dirty

    def isVisible(self):  # noqa: N802 - the Qt name the pacer calls
        return self.visible


@pytest.fixture
def rig(qtbot):
    owner = QObject()
    view = FakeView()
    shown = {"events": [], "boundary": []}

    def show_events(events):
        shown["events"].extend(events)
        view.dirty = True

    pacer = fp.FramePacer(owner, [view], show_events, shown["boundary"].append, exposed=lambda: True)
    worker = FakeWorker()
    pacer.attach(worker)
    yield pacer, worker, view, shown
    pacer.reset()


def test_a_frame_holds_the_worker_until_the_view_has_painted(qtbot, rig, monkeypatch):
    pacer, worker, view, shown = rig
    monkeypatch.setattr(fp, "FRAME_TIMEOUT_MS", 60_000)  # only the paint may end this frame
    pacer.add_events([1, 2])
    pacer.add_events([3])  # queued with the first: one frame shows both
    qtbot.waitUntil(lambda: "hold" in worker.calls)
    assert shown["events"] == [1, 2, 3]
    assert worker.calls == ["hold"]  # held while the view paints
    assert worker.calls == ["hold"]  # still held: no paint yet
    view.painted.emit()
    assert worker.calls[1] == "release" and worker.calls[2][0] == "ack"
    assert pacer.stats["frames"] == 1
    assert pacer.stats["held_seconds"] == pacer.stats["longest_seconds"] == worker.calls[2][1] > 0.0


def test_an_unpainted_frame_times_out_and_releases(qtbot, rig):
    pacer, worker, view, shown = rig
    pacer.add_events([1])
    qtbot.waitUntil(lambda: "release" in worker.calls, timeout=2000)  # no paint ever comes
    assert worker.calls[0] == "hold" and worker.calls[-1][0] == "ack"
    assert worker.calls[-1][1] >= fp.FRAME_TIMEOUT_MS / 1000 - 0.01  # the hold it cost


def test_the_next_frame_waits_so_frames_stay_within_budget(qtbot, rig, monkeypatch):
    pacer, worker, view, shown = rig
    clock = [100.0]
    monkeypatch.setattr(fp, "time", SimpleNamespace(perf_counter=lambda: clock[0]))  # the pacer's clock only
    pacer.add_events([1])
    qtbot.waitUntil(lambda: "hold" in worker.calls)
    clock[0] += 0.05  # the frame took 50 ms to draw and paint
    view.painted.emit()
    assert worker.calls[-1] == ("ack", pytest.approx(0.05)) and worker.budget == fp.GUI_BUDGET == 0.1
    # held 50 ms at a 10 % budget: the next frame no sooner than 450 ms later
    assert pacer._next_frame_at == pytest.approx(100.05 + 0.05 * 9)
    pacer.add_events([2])
    assert pacer._timer.isActive() and abs(pacer._timer.interval() - 450) <= 1


def test_a_pace_that_throttles_training_gives_frames_the_larger_budget(qtbot, monkeypatch):
    """While the pace holds training back the worker waits between epochs anyway: frames
    may take PACED_GUI_BUDGET; a run as fast as it can (or behind its pace) GUI_BUDGET, a
    group of runs GROUP_GUI_BUDGET."""
    pace = SimpleNamespace(throttling=True)
    assert fp.frame_budget(pace) == fp.frame_budget(pace, members=8) == fp.PACED_GUI_BUDGET == 0.25
    pace.throttling = False
    assert fp.frame_budget(pace) == fp.GUI_BUDGET == 0.1
    assert fp.frame_budget(pace, members=8) == fp.GROUP_GUI_BUDGET == 0.05
    owner, view, worker = QObject(), FakeView(), FakeWorker()
    pace.throttling = True
    pacer = fp.FramePacer(owner, [view], lambda events: setattr(view, "dirty", True), lambda payload: None,
                          exposed=lambda: True, budget=lambda: fp.frame_budget(pace))
    pacer.attach(worker)
    clock = [10.0]
    monkeypatch.setattr(fp, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    pacer.add_events([1])
    qtbot.waitUntil(lambda: "hold" in worker.calls)
    clock[0] += 0.1  # a 100 ms frame at a 25 % budget: the next one 300 ms later
    view.painted.emit()
    assert worker.budget == 0.25
    assert pacer._next_frame_at == pytest.approx(10.1 + 0.3)
    pacer.reset()


def test_the_gate_spaces_batches_by_the_budget_it_is_given():
    gate = fp.FrameGate(gui_budget=fp.GUI_BUDGET)
    gate.acknowledge(0.01)  # 10 ms at 10 %: 100 ms between batches
    assert gate._gap == pytest.approx(0.1)
    gate.acknowledge(0.01, budget=0.25)  # paced: 40 ms
    assert gate._gap == pytest.approx(0.04)
    free = fp.FrameGate(gui_budget=None)
    free.acknowledge(0.01, budget=0.25)  # no back-pressure at all
    assert free._gap == free.emit_interval


def test_flush_shows_everything_without_holding_and_reset_forgets(qtbot, rig):
    pacer, worker, view, shown = rig
    pacer._timer.setInterval(10_000)
    pacer.add_events([1])
    pacer.set_boundary({"kind": "image", "n": 1})
    pacer.set_boundary({"kind": "image", "n": 2})  # only the newest is worth drawing
    pacer.flush()
    assert shown["events"] == [1] and shown["boundary"] == [{"kind": "image", "n": 2}]
    assert "hold" not in worker.calls and not pacer._timer.isActive()
    pacer.add_events([5])
    pacer.reset()
    pacer.flush()
    assert shown["events"] == [1]


def test_an_empty_frame_only_acknowledges(qtbot, rig):
    pacer, worker, view, shown = rig
    pacer._draw()
    assert worker.calls == [("ack", 0.0)]


def test_gc_guard_turns_automatic_collection_off_during_a_run(qtbot):
    owner = QObject()
    guard = fp.GcGuard(owner)
    assert gc.isenabled()
    guard.set_running(True)
    guard.set_running(True)  # idempotent: remembers the state before the first call
    assert not gc.isenabled() and guard._timer.isActive()
    guard.set_running(False)
    assert gc.isenabled() and not guard._timer.isActive()


def test_the_application_guard_collects_every_generation_now_and_then(qtbot, monkeypatch):
    calls = []
    monkeypatch.setattr(fp.gc, "collect", lambda *generation: calls.append(generation))
    guard = fp.GcGuard(QObject(), full_every=3)
    for _ in range(6):
        guard._collect()
    assert calls == [(1,), (1,), (), (1,), (1,), ()]


def test_a_frame_comes_at_the_highest_rate_its_queued_events_are_worth(qtbot, monkeypatch):
    owner, view, shown = QObject(), FakeView(), []
    clock = [100.0]
    monkeypatch.setattr(fp, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    rates = {"batch": fp.QUIET_FRAME_RATE, "shown batch": fp.BATCH_FRAME_RATE, "epoch": fp.MAX_FRAME_RATE,
             "slow": 0.5, "fast": 100.0}
    pacer = fp.FramePacer(owner, [view], shown.extend, lambda payload: None, exposed=lambda: True,
                          frame_rate=lambda events: max(rates[e] for e in events))
    worker = FakeWorker()
    pacer.attach(worker)
    pacer.add_events(["batch"])  # the first frame of a run: no wait
    assert pacer._timer.isActive() and pacer._timer.interval() == 0
    pacer._draw()
    view.painted.emit()  # (a frame held for 0 s: the budget asks for no gap)
    pacer.add_events(["batch", "batch"])
    assert pacer._timer.interval() == 250  # 1000 / QUIET_FRAME_RATE (4)
    pacer.add_events(["shown batch"])
    assert pacer._timer.interval() == 167  # ceil(1000 / BATCH_FRAME_RATE (6))
    pacer.add_events(["epoch"])  # something to show at once: the frame comes at the usual time
    assert pacer._timer.interval() == 84  # ceil(1000 / MAX_FRAME_RATE (12))
    pacer._draw()
    assert shown == ["batch", "batch", "batch", "shown batch", "epoch"]
    view.painted.emit()
    pacer.add_events(["batch"])  # the frame took the urgent events: quiet again
    assert pacer._timer.interval() == 250
    assert pacer._scheduled_at == 100.25
    clock[0] += 0.2
    pacer.add_events(["slow"])  # worth less than the quiet rate: kept at it, the frame stays
    assert pacer._scheduled_at == 100.25 and pacer._timer.interval() == 250
    pacer.add_events(["fast"])  # worth more than the most: kept at MAX_FRAME_RATE, due already
    assert pacer._scheduled_at == 100.0 + 1 / fp.MAX_FRAME_RATE and pacer._timer.interval() == 0
    pacer.set_boundary({"image": None})  # a boundary image is always worth a frame at once
    assert pacer._timer.interval() == 0
    pacer.reset()
