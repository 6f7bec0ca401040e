"""Learning-rate schedules vs their formulas, computed by hand (0-based epochs)."""

import math

import numpy as np
import pytest

from workbench.engine.schedules import DEFAULTS, SCHEDULES, make_schedule


def lrs(sched, epochs):
    return [sched.lr_for_epoch(e) for e in epochs]


def test_constant():
    s = make_schedule("constant", 0.3, 50)
    assert lrs(s, [0, 1, 49, 80]) == [0.3, 0.3, 0.3, 0.3]


def test_step():
    s = make_schedule("step", 0.1, 40, step_size=10, gamma=0.5)
    assert lrs(s, [0, 9, 10, 25]) == pytest.approx([0.1, 0.1, 0.05, 0.025], rel=1e-15)


def test_multistep():
    s = make_schedule("multistep", 1.0, 30, milestones=(3, 7), gamma=0.1)
    assert lrs(s, [0, 2, 3, 6, 7, 20]) == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01], rel=1e-12)


def test_exponential():
    s = make_schedule("exponential", 0.5, 30, gamma=0.9)
    assert lrs(s, [0, 1, 3]) == pytest.approx([0.5, 0.45, 0.3645], rel=1e-12)


def test_linear_reaches_end_factor_at_E():
    s = make_schedule("linear", 1.0, 10, end_factor=0.2)
    # eta (1 - 0.8 t/10)
    assert lrs(s, [0, 5, 9, 10, 15]) == pytest.approx([1.0, 0.6, 0.28, 0.2, 0.2], rel=1e-12)


def test_inverse_scaling():
    s = make_schedule("inverse_scaling", 1.0, 20, power=0.5)
    assert lrs(s, [0, 3, 8]) == pytest.approx([1.0, 0.5, 1 / 3], rel=1e-12)
    s = make_schedule("inverse_scaling", 0.2, 20, power=1.0)
    assert s.lr_for_epoch(4) == pytest.approx(0.04, rel=1e-12)


def test_cosine_without_restarts():
    s = make_schedule("cosine", 1.0, 10, min_lr=0.1)  # T = E = 10
    # min + (1 - min)(1 + cos(pi t / 10))/2
    assert lrs(s, [0, 5, 10, 12]) == pytest.approx([1.0, 0.55, 0.1, 0.1], rel=1e-12)
    assert s.lr_for_epoch(2) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * 0.2)) / 2, rel=1e-12)
    assert s.restart_epochs(10) == []
    # an explicit period without restarts: down to min_lr at t = T and stays there
    s = make_schedule("cosine", 1.0, 10, period=4, min_lr=0.1)
    assert lrs(s, [2, 4, 6]) == pytest.approx([0.55, 0.1, 0.1], rel=1e-12)


def test_cosine_warm_restarts_at_the_right_epochs():
    s = make_schedule("cosine", 1.0, 17, period=5, warm_restarts=True)
    assert s.restart_epochs(17) == [5, 10, 15]
    assert lrs(s, [4, 5, 10, 15]) == pytest.approx(
        [(1 + math.cos(math.pi * 4 / 5)) / 2, 1.0, 1.0, 1.0], rel=1e-12
    )
    # t_mult 2 and a warm-up of 2: cycles of 4, 8, 16 epochs start at e = 2, 6, 14
    s = make_schedule("cosine", 1.0, 40, period=4, warm_restarts=True, t_mult=2, warmup_epochs=2, min_lr=0.2)
    assert s.restart_epochs(40) == [6, 14, 30]
    assert s.restart_epochs(30) == [6, 14]
    curve = s.preview(40)
    assert curve[6] == curve[14] == curve[30] == pytest.approx(1.0)
    assert curve[5] == pytest.approx(0.2 + 0.8 * (1 + math.cos(math.pi * 3 / 4)) / 2, rel=1e-12)
    assert curve[10] == pytest.approx(0.6, rel=1e-12)  # 4 of 8 epochs into cycle 1: the middle
    assert curve[13] == pytest.approx(0.2 + 0.8 * (1 + math.cos(math.pi * 7 / 8)) / 2, rel=1e-12)
    # the lr jumps up exactly at the restart epochs and falls everywhere else after warm-up
    rises = [e for e in range(3, 40) if curve[e] > curve[e - 1]]
    assert rises == [6, 14, 30]


def test_one_cycle_peak_and_ends():
    # E = 10, pct_start 0.3: 3 up epochs t = 0, 1, 2, peak at t = 2, last epoch t = 9
    s = make_schedule("one_cycle", 1.0, 10, pct_start=0.3, div_factor=10, final_div_factor=100)
    curve = s.preview(10)
    assert curve[0] == pytest.approx(0.1, rel=1e-12)  # eta / div_factor
    assert curve[1] == pytest.approx(0.55, rel=1e-12)  # linear
    assert curve[2] == pytest.approx(1.0, rel=1e-12)  # peak
    assert int(np.argmax(curve)) == 2
    end = 0.1 / 100
    assert curve[9] == pytest.approx(end, rel=1e-12)  # eta / (div * final_div)
    assert curve[5] == pytest.approx(end + (1 - end) * (1 + math.cos(math.pi * 3 / 7)) / 2, rel=1e-12)
    assert np.all(np.diff(curve[2:]) < 0)
    assert s.lr_for_epoch(12) == pytest.approx(end, rel=1e-12)


def test_warmup_joins_the_main_schedule():
    s = make_schedule("step", 0.1, 30, step_size=10, gamma=0.5, warmup_epochs=4, warmup_start_factor=0.1)
    # e < 4: 0.1 (0.1 + 0.9 e/4); e = 4 is t = 0 of the step schedule
    assert lrs(s, [0, 2, 4, 13, 14]) == pytest.approx([0.01, 0.055, 0.1, 0.1, 0.05], rel=1e-12)
    curve = s.preview(30)
    assert np.all(np.diff(curve[:5]) > 0)
    for kind in ("constant", "exponential", "linear", "cosine", "inverse_scaling", "multistep", "plateau"):
        s = make_schedule(kind, 0.5, 30, gamma=0.9, milestones=(2,), warmup_epochs=5, warmup_start_factor=0.2)
        curve = s.preview(30)
        assert curve[0] == pytest.approx(0.1, rel=1e-12)
        assert curve[5] == pytest.approx(0.5, rel=1e-12), kind
        assert np.all(np.diff(curve[:6]) > 0), kind
    # one_cycle starts at eta / div_factor: the warm-up rises towards that value
    s = make_schedule("one_cycle", 1.0, 20, div_factor=10, warmup_epochs=4, warmup_start_factor=0.0)
    curve = s.preview(20)
    assert curve[0] == 0.0
    assert curve[4] == pytest.approx(0.1, rel=1e-12)
    assert np.all(np.diff(curve[:5]) > 0)


def test_warmup_longer_than_training():
    s = make_schedule("cosine", 1.0, 5, warmup_epochs=10, warmup_start_factor=0.0)
    assert s.preview(5) == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_preview_matches_lr_for_epoch():
    for kind in SCHEDULES:
        if kind == "plateau":
            continue
        s = make_schedule(kind, 0.2, 37, milestones=(5, 9), period=6, warm_restarts=True, t_mult=2, warmup_epochs=3)
        np.testing.assert_allclose(s.preview(45), lrs(s, range(45)), rtol=1e-14)


def test_plateau_drop_cooldown_and_min_lr():
    s = make_schedule("plateau", 1.0, 20, patience=1, cooldown=1, factor=0.5, min_lr=0.2)
    losses = [5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]
    # e0 best 5; e1 best 4; e2 bad 1; e3 bad 2 > patience -> 0.5, cooldown 1
    # e4 bad but in cooldown (count reset); e5 bad 1; e6 bad 2 -> 0.25, cooldown
    # e7 cooldown; e8 bad 1; e9 bad 2 -> max(0.125, 0.2) = 0.2; e10 cooldown
    events = {}
    seen = []
    for e, v in enumerate(losses):
        assert s.lr_for_epoch(e) == (seen[-1] if seen else 1.0)
        r = s.observe(e, v)
        if r:
            events[e] = r
        seen.append(s.lr_for_epoch(e + 1))
    assert events == {3: ("plateau", 1.0, 0.5), 6: ("plateau", 0.5, 0.25), 9: ("plateau", 0.25, 0.2)}
    assert seen == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2]
    # at min_lr nothing more happens
    for e in range(11, 20):
        assert s.observe(e, 4.0) is None
    assert s.lr_for_epoch(19) == 0.2
    # the preview is the constant base line; reset() restores the base lr
    assert np.all(s.preview(20) == 1.0)
    s.reset()
    assert s.lr_for_epoch(5) == 1.0


def test_plateau_relative_threshold_and_nan():
    s = make_schedule("plateau", 1.0, 20, patience=0, factor=0.1, threshold=0.1)
    assert s.observe(0, 1.0) is None  # best 1.0
    # 0.95 is not < 1.0 * (1 - 0.1) = 0.9: a bad epoch, patience 0 -> drop
    assert s.observe(1, 0.95) == ("plateau", 1.0, pytest.approx(0.1))
    assert s.observe(2, 0.85) is None  # 0.85 < 0.9: improvement
    assert s.best == 0.85
    assert s.observe(3, float("nan")) == ("plateau", pytest.approx(0.1), pytest.approx(0.01))


def test_plateau_ignores_warmup_and_others_ignore_observe():
    s = make_schedule("plateau", 1.0, 20, patience=0, warmup_epochs=3, warmup_start_factor=0.5)
    for e in range(3):
        assert s.observe(e, 10.0 + e) is None
    assert s.num_bad_epochs == 0 and s.best == math.inf
    assert s.lr_for_epoch(1) == pytest.approx(0.5 + 0.5 / 3)  # 1.0 (f + (1-f) e/W)
    assert s.lr_for_epoch(3) == 1.0
    assert make_schedule("step", 1.0, 10).observe(0, 1.0) is None


def test_unknown_and_bad_arguments():
    with pytest.raises(TypeError, match="unknown schedule field 'lr_decay'"):
        make_schedule("step", 0.1, 10, lr_decay=0.5)
    # ScheduleSpec fields the kind does not use are accepted and ignored
    s = make_schedule("constant", 0.1, 10, **DEFAULTS)
    assert s.lr_for_epoch(3) == 0.1
    with pytest.raises(ValueError, match=r"gamma: must be in \(0, 1\], got 1.5"):
        make_schedule("step", 0.1, 10, gamma=1.5)
    with pytest.raises(ValueError, match="step_size: must be an integer >= 1 and <= 100000, got 0"):
        make_schedule("step", 0.1, 10, step_size=0)
    with pytest.raises(ValueError, match="milestones: must be strictly increasing"):
        make_schedule("multistep", 0.1, 10, milestones=(5, 3))
    with pytest.raises(ValueError, match="kind: must be one of"):
        make_schedule("cyclic", 0.1, 10)
    with pytest.raises(ValueError, match="base_lr: must be > 0"):
        make_schedule("constant", 0.0, 10)
    with pytest.raises(ValueError, match="total_epochs: must be an integer >= 1"):
        make_schedule("constant", 0.1, 0)
    with pytest.raises(ValueError, match="epoch: must be >= 0"):
        make_schedule("constant", 0.1, 5).lr_for_epoch(-1)
