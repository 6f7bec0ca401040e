"""workbench.pace: the schedule with an injected clock and waiter (no sleeps), and one
real-thread test that interrupt() and set_rate() wake a blocked worker."""

from __future__ import annotations

import threading

import pytest

from workbench.pace import LATE_SLACK, EventWaiter, Pace
from workbench.spec import PACES

EPS = 1e-9


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        assert dt >= 0.0
        self.t += dt


class FakeWaiter:
    """Advances the fake clock by the whole timeout, unless an action scheduled for this
    wait (``at`` seconds into it) calls ``interrupt()``: then the clock advances by ``at``
    only and the wait returns ``True``.  Records every timeout it was asked for."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []
        self.pending = False
        self.actions: list[tuple[float, object]] = []  # (seconds into the next wait, fn)

    def during_next_wait(self, at: float, fn) -> None:
        self.actions.append((at, fn))

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        if self.pending:
            self.pending = False
            return True
        if self.actions and self.actions[0][0] < timeout:
            at, fn = self.actions.pop(0)
            self.clock.advance(at)
            fn()
            if self.pending:
                self.pending = False
                return True
            self.clock.advance(timeout - at)
            return False
        self.clock.advance(timeout)
        return False

    def interrupt(self) -> None:
        self.pending = True


def make(rate):
    clock = FakeClock()
    waiter = FakeWaiter(clock)
    return Pace(rate, clock=clock, waiter=waiter), clock, waiter


def run_epochs(pace, clock, durations):
    """Call before_epoch before each epoch (never interrupted here), 'train' for the
    given duration; return the start times."""
    starts = []
    for d in durations:
        assert pace.before_epoch() is False
        starts.append(clock())
        clock.advance(d)
    return starts


def gaps(starts):
    return [b - a for a, b in zip(starts, starts[1:])]


# -- the schedule -----------------------------------------------------------------------


def test_ten_per_second_epoch_k_starts_no_earlier_than_k_tenths():
    pace, clock, waiter = make(10.0)
    clock.advance(123.0)  # the anchor is the first epoch, not clock zero
    durations = [0.001 * (i % 7) + 0.09 * (i % 3 == 0) for i in range(60)]  # all < 0.1 s
    starts = run_epochs(pace, clock, durations)
    t0 = starts[0]
    for k, s in enumerate(starts):
        assert s >= t0 + k / 10 - EPS, (k, s - t0)
        assert s == pytest.approx(t0 + k / 10, abs=1e-9)  # and no later: the rate is exact
    assert waiter.waits and max(waiter.waits) <= 0.1 + EPS
    assert len(waiter.waits) == 59  # one wait per epoch after the first


@pytest.mark.parametrize("rate", PACES)
def test_every_offered_pace_keeps_its_rate(rate):
    pace, clock, waiter = make(rate)
    starts = run_epochs(pace, clock, [0.0] * 25)
    assert starts[-1] - starts[0] == pytest.approx(24 / rate)
    assert max(waiter.waits) <= 1 / rate + EPS
    assert min(gaps(starts)) >= 1 / rate - EPS


def test_first_epoch_starts_at_once():
    pace, clock, waiter = make(1.0)
    assert pace.before_epoch() is False
    assert clock() == 0.0 and waiter.waits == []


def test_slow_epoch_is_followed_by_no_burst():
    pace, clock, waiter = make(10.0)
    durations = [0.01] * 5 + [0.5] + [0.01] * 6  # epoch 5 'trains' for half a second
    starts = run_epochs(pace, clock, durations)
    assert starts[:6] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    # epoch 6 starts as soon as the slow epoch ends (no waiting to 'catch up' backwards)
    assert starts[6] == pytest.approx(1.0)
    # ... and the pace re-anchors there: no rush through the four missed slots
    assert starts[6:] == pytest.approx([1.0, 1.1, 1.2, 1.3, 1.4, 1.5])
    assert min(gaps(starts)) >= 0.1 - EPS
    assert max(waiter.waits) <= 0.1 + EPS


def test_small_lateness_keeps_the_schedule_large_lateness_reanchors():
    """Rule 1/2 at the boundary: epochs of 0.11 s at 10/s are late by 0.01, 0.02, 0.03 s:
    the first two stay on schedule (<= LATE_SLACK * 0.1 = 0.025), the third re-anchors."""
    assert LATE_SLACK == 0.25
    pace, clock, waiter = make(10.0)
    starts = run_epochs(pace, clock, [0.11] * 7 + [0.0] * 3)
    assert starts[:7] == pytest.approx([0.0, 0.11, 0.22, 0.33, 0.44, 0.55, 0.66])
    # re-anchored at 0.33 and at 0.66: epoch 7 is due at 0.76; epoch 6 ends at 0.77 (late
    # 0.01: on schedule), then the slots 0.86 and 0.96 are waited for
    assert starts[7:] == pytest.approx([0.77, 0.86, 0.96])
    assert waiter.waits == pytest.approx([0.09, 0.1])
    # no two starts closer than (1 - LATE_SLACK) periods
    assert min(gaps(starts)) >= (1 - LATE_SLACK) * 0.1 - EPS


def test_lateness_exactly_described():
    """The same run, every start computed by hand from the rule."""
    pace, clock, _ = make(10.0)
    starts = run_epochs(pace, clock, [0.11] * 4 + [0.0] * 2)
    # 0: anchor 0.  1: slot .1, now .11 (late .01): k=1.  2: slot .2, now .22 (.02): k=2.
    # 3: slot .3, now .33 (.03 > .025): re-anchor t0=.33.  4: slot .43, now .44 (.01): k=1.
    # 5: epoch 4 trained 0 s: wait for slot .53, k=2.
    assert starts == pytest.approx([0.0, 0.11, 0.22, 0.33, 0.44, 0.53])
    assert pace.before_epoch() is False
    assert clock() == pytest.approx(0.63)  # epoch 6 at slot t0 + 3/10


def test_throttling_says_whether_the_pace_holds_training_back():
    """True when the epoch that started last waited for its slot; False for the first
    epoch (it starts at once), once training fell behind the rate (rule 2), when it is
    late within the slack (rule 1, no wait), as fast as possible and after a reset (the
    frame pacer draws more often only while the pace throttles)."""
    pace, clock, waiter = make(10.0)
    seen = []
    # epoch 3 is far slower than its period; epoch 6 ends 0.01 s after its successor's slot
    for d in [0.01, 0.01, 0.5, 0.01, 0.01, 0.11, 0.01]:
        assert pace.before_epoch() is False
        seen.append(pace.throttling)
        clock.advance(d)
    assert seen == [False, True, True, False, True, True, False]
    assert len(waiter.waits) == 4  # epochs 2, 3, 5 and 6 waited for their slots
    assert pace.before_epoch() is False and pace.throttling is True
    pace.reset()
    assert pace.throttling is False
    assert pace.before_epoch() is False and pace.throttling is False  # unanchored: at once
    assert pace.before_epoch() is False and pace.throttling is True
    pace.set_rate(None)
    assert pace.throttling is False
    assert pace.before_epoch() is False and pace.throttling is False
    assert Pace(None).throttling is False


def test_no_wait_outlasts_a_period_with_random_epochs():
    import random

    rng = random.Random(5)
    for rate in (1.0, 3.0, 10.0, 30.0, 100.0, 0.5):
        pace, clock, waiter = make(rate)
        period = 1 / rate
        durations = [rng.choice([0.0, 0.3, 0.9, 1.1, 1.3, 4.0]) * period for _ in range(300)]
        starts = run_epochs(pace, clock, durations)
        assert max(waiter.waits) <= period + EPS
        assert min(gaps(starts)) >= (1 - LATE_SLACK) * period - EPS
        # epoch k of each anchor no earlier than t0 + k P: re-derive the anchors
        t0, k = starts[0], 0
        for s in starts[1:]:
            if s > t0 + (k + 1) * period + LATE_SLACK * period + EPS:
                t0, k = s, 0  # a re-anchor (the previous epoch overran)
            else:
                k += 1
                assert s >= t0 + k * period - EPS


def test_rate_none_never_waits():
    pace, clock, waiter = make(None)
    starts = run_epochs(pace, clock, [0.0, 0.001, 0.0, 0.2])
    assert starts == pytest.approx([0.0, 0.0, 0.001, 0.001])
    assert waiter.waits == []


# -- set_rate, interrupt, reset -----------------------------------------------------------


def test_set_rate_mid_wait_replans_from_the_last_start():
    pace, clock, waiter = make(1.0)
    run_epochs(pace, clock, [0.1])  # epoch 0 at 0.0, trains 0.1 s
    waiter.during_next_wait(0.2, lambda: pace.set_rate(2.0))  # at t = 0.3
    assert pace.before_epoch() is False
    # cut short at 0.3, re-planned: the next slot is 0.0 + 1/2
    assert clock() == pytest.approx(0.5)
    assert waiter.waits == pytest.approx([0.9, 0.2])
    starts = run_epochs(pace, clock, [0.0, 0.0, 0.0])  # epochs 2-4
    assert starts == pytest.approx([1.0, 1.5, 2.0])
    assert max(waiter.waits) <= 1.0 + EPS


def test_set_rate_faster_mid_wait_when_the_new_slot_has_passed_starts_at_once():
    pace, clock, waiter = make(1.0)
    run_epochs(pace, clock, [0.1])
    waiter.during_next_wait(0.2, lambda: pace.set_rate(10.0))  # new slot 0.1 < now 0.3
    assert pace.before_epoch() is False
    assert clock() == pytest.approx(0.3)
    starts = run_epochs(pace, clock, [0.0, 0.0])  # epochs 2, 3
    assert starts == pytest.approx([0.4, 0.5])  # re-anchored at 0.3, no burst


def test_set_rate_slower_mid_wait_waits_at_most_one_new_period():
    pace, clock, waiter = make(10.0)
    run_epochs(pace, clock, [0.0])
    waiter.during_next_wait(0.05, lambda: pace.set_rate(1.0))
    assert pace.before_epoch() is False
    assert clock() == pytest.approx(1.0)  # one new period after epoch 0 started
    assert waiter.waits == pytest.approx([0.1, 0.95])


def test_set_rate_after_several_epochs_plans_from_the_last_start():
    pace, clock, waiter = make(10.0)
    run_epochs(pace, clock, [0.0] * 5)  # 0.0 ... 0.4
    clock.advance(0.05)
    pace.set_rate(1.0)  # during epoch 4
    assert pace.before_epoch() is False
    assert clock() == pytest.approx(1.4)  # one new period after epoch 4 started
    assert max(waiter.waits) <= 1.0 + EPS
    pace.set_rate(3.0)  # during epoch 5
    starts = run_epochs(pace, clock, [0.0] * 3)
    assert starts == pytest.approx([1.4 + 1 / 3, 1.4 + 2 / 3, 2.4])


def test_set_rate_none_ends_the_wait():
    pace, clock, waiter = make(1.0)
    run_epochs(pace, clock, [0.0])
    waiter.during_next_wait(0.25, lambda: pace.set_rate(None))
    assert pace.before_epoch() is False
    assert clock() == pytest.approx(0.25)
    assert pace.rate is None
    n = len(waiter.waits)
    run_epochs(pace, clock, [0.0] * 5)
    assert len(waiter.waits) == n  # no more waits


def test_set_rate_between_epochs_anchors_at_the_last_start():
    pace, clock, waiter = make(None)
    run_epochs(pace, clock, [0.0, 0.3])  # epoch 1 starts at 0.0 and trains 0.3 s
    pace.set_rate(2.0)  # while epoch 1 trains
    assert pace.before_epoch() is False
    assert clock() == pytest.approx(0.5)  # one period after epoch 1 started


def test_interrupt_ends_a_wait_at_once_and_the_slot_is_kept():
    pace, clock, waiter = make(1.0)
    run_epochs(pace, clock, [0.0])
    waiter.during_next_wait(0.3, pace.interrupt)
    assert pace.before_epoch() is True
    assert clock() == pytest.approx(0.3)  # returned at once: no more time passed
    # not counted: calling again waits for the same slot
    assert pace.before_epoch() is False
    assert clock() == pytest.approx(1.0)
    assert waiter.waits == pytest.approx([1.0, 0.7])


def test_interrupt_while_not_waiting_is_not_lost():
    pace, clock, waiter = make(1.0)
    run_epochs(pace, clock, [0.0])
    pace.interrupt()  # Pause pressed during the epoch
    assert pace.before_epoch() is True
    assert clock() == 0.0
    # the interrupt is consumed once
    assert pace.before_epoch() is False
    assert clock() == pytest.approx(1.0)


def test_interrupt_with_rate_none_and_reset_keeps_it_pending():
    pace, clock, waiter = make(None)
    pace.interrupt()
    pace.reset()
    assert pace.before_epoch() is True
    assert pace.before_epoch() is False


def test_reset_after_a_pause_starts_at_once_then_resumes_the_pace():
    pace, clock, waiter = make(10.0)
    run_epochs(pace, clock, [0.0, 0.0, 0.0])  # 0.0, 0.1, 0.2
    clock.advance(0.03)
    waiter.during_next_wait(0.01, pace.interrupt)  # Pause at 0.24, while waiting for 0.3
    assert pace.before_epoch() is True
    clock.advance(0.02)  # a short pause: without reset the next epoch would wait for 0.3
    pace.reset()  # resume
    n = len(waiter.waits)
    starts = run_epochs(pace, clock, [0.0, 0.0, 0.0])
    assert starts == pytest.approx([0.26, 0.36, 0.46])  # at once, then the pace again
    assert len(waiter.waits) == n + 2


def test_without_reset_a_long_pause_still_causes_no_burst():
    pace, clock, waiter = make(10.0)
    run_epochs(pace, clock, [0.0, 0.0])
    clock.advance(5.0)
    starts = run_epochs(pace, clock, [0.0, 0.0, 0.0])
    assert gaps(starts) == pytest.approx([0.1, 0.1])


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, float("nan"), float("inf")])
def test_bad_rates_are_refused(bad):
    with pytest.raises(ValueError, match="rate"):
        Pace(bad)
    pace = Pace(1.0)
    with pytest.raises(ValueError, match="rate"):
        pace.set_rate(bad)
    assert pace.rate == 1.0


@pytest.mark.parametrize("bad", ["10", True, [1.0]])
def test_non_numbers_are_refused(bad):
    with pytest.raises(TypeError):
        Pace(bad)


def test_event_waiter_interrupt_before_wait_returns_at_once():
    w = EventWaiter()
    w.interrupt()
    assert w.wait(1e6) is True  # consumed, without blocking
    assert w.wait(0.0) is False


# -- a real thread -------------------------------------------------------------------------


class _SignallingWaiter(EventWaiter):
    """The real waiter, telling the test when the worker thread is about to block."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()

    def wait(self, timeout: float) -> bool:
        self.entered.set()
        return super().wait(timeout)


@pytest.mark.parametrize("wake", ["interrupt", "set_rate_none"])
def test_a_real_thread_blocked_for_1000_seconds_is_woken_at_once(wake):
    waiter = _SignallingWaiter()
    pace = Pace(0.001, waiter=waiter)  # the real clock: the next epoch is due in 1000 s
    result = []

    def worker():
        pace.before_epoch()  # epoch 0: at once
        result.append(pace.before_epoch())

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    assert waiter.entered.wait(60), "the worker never reached the wait"  # safety net only
    if wake == "interrupt":
        pace.interrupt()
    else:
        pace.set_rate(None)
    t.join(60)  # safety net: a working wake returns in microseconds
    assert not t.is_alive(), "the blocked worker was not woken"
    assert result == [wake == "interrupt"]
