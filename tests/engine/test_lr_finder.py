"""The learning-rate range test: grid and smoothing formulas, the loop stepped by hand,
the network and optimizer left untouched, determinism, early stop, band, fastai's
suggestion rules, and the acceptance test on a convex logistic regression."""


import numpy as np
import pytest

from workbench.engine.lr_finder import (
    BETA,
    Band,
    RangeCurve,
    RangeStep,
    RangeTestResult,
    SUGGESTIONS,
    Suggestion,
    _valley_index,
    band,
    lr_grid,
    range_test,
    smooth,
    suggest,
    summarize,
)
from workbench.engine.network import LayerConfig, Network
from workbench.engine.optimizers import make_optimizer


def blobs(n=512, sep=0.75, scale=3.0, seed=0):
    """Binary data: x1 ~ N(0, scale^2) carries no label information (it sets the top
    curvature), x2 ~ N(+-sep, 1) does."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(np.float32)
    X = np.column_stack([rng.normal(0.0, scale, n), rng.normal(0.0, 1.0, n) + sep * (2 * y - 1)])
    return X.astype(np.float32), y


def mlp(seed=0, task="binary", n_in=2, n_out=1, hidden=(LayerConfig(6, "tanh"),)):
    return Network(n_in, list(hidden), n_out, task, seed=seed)


def run(net, opt, X, y, bs, seed, **kw):
    items = list(range_test(net, opt, X, y, bs, seed, **kw))
    assert isinstance(items[-1], RangeCurve) and all(isinstance(i, RangeStep) for i in items[:-1])
    return items[:-1], items[-1]


# ---------------------------------------------------------------------------------------
def test_grid_is_exponential_from_min_to_max():
    g = lr_grid(1e-6, 10.0, 100)
    assert g[0] == 1e-6 and g[-1] == pytest.approx(10.0, rel=1e-14)
    np.testing.assert_allclose(g[1:] / g[:-1], 1e7 ** (1 / 99), rtol=1e-12)
    k = 37
    assert g[k] == pytest.approx(1e-6 * (10.0 / 1e-6) ** (k / 99), rel=1e-14)
    with pytest.raises(ValueError, match="lr_max"):
        lr_grid(1.0, 1.0, 10)
    with pytest.raises(ValueError, match="steps"):
        lr_grid(1e-3, 1.0, 1)


def test_smoothing_is_the_bias_corrected_moving_average():
    """a_k = 0.98 a_{k-1} + 0.02 l_k, lbar_k = a_k / (1 - 0.98^(k+1)), by hand."""
    sm = smooth([1.0, 2.0, 3.0])
    assert sm[0] == pytest.approx(1.0, rel=1e-15)
    a1 = 0.98 * 0.02 + 0.02 * 2.0
    assert sm[1] == pytest.approx(a1 / (1 - 0.98**2), rel=1e-14)  # 1.50505...
    a2 = 0.98 * a1 + 0.02 * 3.0
    assert sm[2] == pytest.approx(a2 / (1 - 0.98**3), rel=1e-14)
    assert sm[1] == pytest.approx(1.5050505050505, rel=1e-12)
    assert BETA == 0.98
    np.testing.assert_allclose(smooth([4.0] * 50), 4.0, rtol=1e-13)  # unbiased on a constant


def test_the_loop_is_the_trainer_step_by_hand():
    """Step k: loss of the k-th mini-batch (trainer's shuffling stream) at the current
    weights, recorded with eta_k, then one SGD step with eta_k."""
    X, y = blobs(n=50)
    net = mlp(seed=3)
    w0 = net.params.copy()
    steps, bs = 12, 16
    events, curve = run(net, make_optimizer("sgd", net.n_params), X, y, bs, 5, lr_min=1e-3, lr_max=1.0, steps=steps)
    lrs = lr_grid(1e-3, 1.0, steps)
    # by hand on a copy
    ref = mlp(seed=3)
    np.testing.assert_array_equal(ref.params, w0)
    opt = make_optimizer("sgd", ref.n_params)
    shuffle_rng = np.random.default_rng(np.random.SeedSequence(5).spawn(3)[0])
    losses, k = [], 0
    while k < steps:
        order = shuffle_rng.permutation(len(X))
        for start in range(0, len(X), bs):  # 16, 16, 16, 2
            if k == steps:
                break
            idx = order[start:start + bs]
            losses.append(ref.loss_and_grad(X[idx], y[idx]))
            opt.step(ref.params, ref.grads, lrs[k])
            k += 1
    assert [e.step for e in events] == list(range(steps))
    np.testing.assert_array_equal(curve.losses, losses)
    np.testing.assert_array_equal(curve.lrs, lrs)
    np.testing.assert_array_equal([e.lr for e in events], lrs)
    np.testing.assert_allclose(curve.smoothed, smooth(losses), rtol=1e-15)
    assert curve.stopped_reason is None and curve.seed == 5 and curve.steps == steps


def test_the_network_and_the_optimizer_are_left_untouched_bit_for_bit():
    X, y = blobs(n=80)
    net = mlp(seed=1)
    opt = make_optimizer("adam", net.n_params)
    for _ in range(3):  # give the optimizer some state
        net.loss_and_grad(X[:20], y[:20])
        opt.step(net.params, net.grads, 0.01)
    before = net.params.tobytes()
    state = {k: v.tobytes() for k, v in opt.buffers.items()}
    t = opt.t
    _, curve = run(net, opt, X, y, 16, 0, lr_min=1e-4, lr_max=1e3, steps=60)
    assert curve.lrs[-1] > 10 and curve.losses.max() > 1.0  # Adam at eta > 10 wrecked the weights
    assert net.params.tobytes() == before
    assert {k: v.tobytes() for k, v in opt.buffers.items()} == state and opt.t == t
    # the optimizer still continues exactly as an untouched twin would
    twin_net, twin = mlp(seed=1), make_optimizer("adam", net.n_params)
    for _ in range(3):
        twin_net.loss_and_grad(X[:20], y[:20])
        twin.step(twin_net.params, twin_net.grads, 0.01)
    for a in (net, twin_net):
        a.loss_and_grad(X[:20], y[:20])
    opt.step(net.params, net.grads, 0.01)
    twin.step(twin_net.params, twin_net.grads, 0.01)
    np.testing.assert_array_equal(net.params, twin_net.params)


def test_weights_are_restored_when_the_caller_stops_early():
    X, y = blobs(n=80)
    net = mlp(seed=2)
    before = net.params.copy()
    gen = range_test(net, make_optimizer("sgd", net.n_params), X, y, 8, 0, lr_min=0.1, lr_max=10.0, steps=50)
    for _ in range(10):
        next(gen)
    assert not np.array_equal(net.params, before)  # mid-test the weights move
    gen.close()
    np.testing.assert_array_equal(net.params, before)


def test_identical_seeds_give_identical_curves_and_others_differ():
    X, y = blobs(n=100)

    def curve(seed):
        net = mlp(seed=0, hidden=(LayerConfig(8, "relu", dropout=0.2),))
        return run(net, make_optimizer("momentum", net.n_params), X, y, 10, seed, steps=40, input_noise=0.1)[1]

    a, b, c = curve(4), curve(4), curve(5)
    for name in ("lrs", "losses", "smoothed"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.stopped_reason == b.stopped_reason
    assert not np.array_equal(a.losses, c.losses)


def test_divergence_stops_at_four_times_the_minimum():
    X, y = blobs(n=128)
    net = mlp(seed=0)
    events, curve = run(net, make_optimizer("sgd", net.n_params), X, y, 32, 0, lr_min=1e-3, lr_max=1e4, steps=100)
    assert curve.stopped_reason.startswith(f"diverged at step {len(curve.lrs)}")
    sm = curve.smoothed
    assert sm[-1] > 4 * sm.min()
    assert np.all(sm[:-1] <= 4 * np.minimum.accumulate(sm)[:-1])  # not earlier
    assert len(events) == len(curve.lrs) < 100
    # a larger factor runs longer
    _, longer = run(mlp(seed=0), make_optimizer("sgd", net.n_params), X, y, 32, 0,
                    lr_min=1e-3, lr_max=1e4, steps=100, diverge_factor=50.0)
    assert len(longer.lrs) > len(curve.lrs)


def test_a_non_finite_loss_stops_without_being_recorded():
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (64, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5], np.float32))[:, None] * 1e3
    net = Network(3, [], 1, "regression", seed=0)
    _, curve = run(net, make_optimizer("sgd", net.n_params), X, y, 64, 0, lr_min=1.0, lr_max=1e30,
                   steps=100, diverge_factor=1e300)
    assert "not finite" in curve.stopped_reason
    assert np.all(np.isfinite(curve.losses)) and np.all(np.isfinite(curve.smoothed))


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(lr_min=0.0), "lr_min"),
        (dict(lr_min=1.0, lr_max=0.5), "lr_max"),
        (dict(steps=1), "steps"),
        (dict(beta=1.0), "beta"),
        (dict(diverge_factor=1.0), "diverge_factor"),
    ],
)
def test_bad_arguments_raise_before_anything_runs(kw, match):
    X, y = blobs(n=20)
    net = mlp()
    with pytest.raises(ValueError, match=match):
        range_test(net, make_optimizer("sgd", net.n_params), X, y, 4, 0, **kw)
    with pytest.raises(ValueError, match="batch_size"):
        range_test(net, make_optimizer("sgd", net.n_params), X, y, 0, 0)
    with pytest.raises(ValueError, match="optimizer"):
        range_test(net, make_optimizer("sgd", 3), X, y, 4, 0)


# ---------------------------------------------------------------------------------------
# band and suggestions
def fake_curve(seed, smoothed, steps=None):
    smoothed = np.asarray(smoothed, float)
    n = len(smoothed)
    return RangeCurve(seed, steps or n, lr_grid(1e-3, 1.0, steps or n)[:n], smoothed, smoothed)


def test_band_is_mean_and_std_on_the_common_prefix():
    a = fake_curve(0, [3.0, 2.0, 1.0, 0.5, 9.0], steps=5)
    b = fake_curve(1, [1.0, 2.0, 3.0], steps=5)
    c = fake_curve(2, [2.0, 2.0, 2.0, 2.0], steps=5)
    bd = band([a, b, c])
    assert isinstance(bd, Band) and bd.n_seeds == 3 and len(bd.lrs) == 3
    np.testing.assert_allclose(bd.mean, [2.0, 2.0, 2.0])
    np.testing.assert_allclose(bd.std, [1.0, 0.0, 1.0])  # ddof 1
    np.testing.assert_array_equal(bd.lrs, a.lrs[:3])
    one = band([a])
    np.testing.assert_array_equal(one.std, np.zeros(5))
    with pytest.raises(ValueError, match="grids differ"):
        band([a, RangeCurve(9, 5, lr_grid(1e-2, 1.0, 5), np.ones(5), np.ones(5))])


def reference_valley(losses):
    """fastai's valley (fastai/callback/schedule.py), re-typed here as plain nested loops."""
    n = len(losses)
    lds = [1] * n
    best_start = best_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[best_end] < lds[i]:
                best_end = i
                best_start = best_end - lds[best_end]
    third = (best_end - best_start) / 3
    return best_start + int(third) + int(third / 2)


def test_valley_matches_fastais_loops_on_random_curves():
    rng = np.random.default_rng(0)
    checked = 0
    for trial in range(300):
        n = int(rng.integers(3, 60))
        kind = trial % 3
        if kind == 0:
            losses = rng.normal(size=n)
        elif kind == 1:  # a typical range-test shape with noise
            x = np.linspace(0, 1, n)
            losses = 1.0 - 0.8 * np.sin(np.pi * x * 0.9) + np.where(x > 0.8, 20 * (x - 0.8) ** 2, 0) + 0.02 * rng.normal(size=n)
        else:  # ties and plateaus
            losses = rng.integers(0, 4, size=n).astype(float)
        ref = reference_valley(list(losses))
        if 0 <= ref < n:  # fastai can index -1 (a curve falling from its first point); we clamp
            assert _valley_index(losses) == ref, (trial, losses)
            checked += 1
    assert checked > 250


def test_valley_on_a_curve_falling_from_the_start_is_clamped():
    losses = np.array([5.0, 4.0])  # fastai: start = -1, index -1 (the last point)
    assert reference_valley(list(losses)) == -1
    assert _valley_index(losses) == 0


def test_suggestions_on_a_known_curve():
    """Flat, then falling fastest between grid points 9 and 10, minimum at 14, then up."""
    lrs = lr_grid(1e-4, 1.0, 20)
    sm = np.array([1.0] * 5 + [0.99, 0.97, 0.93, 0.85, 0.7, 0.4, 0.3, 0.25, 0.22, 0.2, 0.3, 0.6, 1.2, 2.0, 3.0])
    got = suggest(lrs, sm, skip_start=0, skip_end=0)
    assert [s.name for s in got] == list(SUGGESTIONS)
    assert all(isinstance(s, Suggestion) and "\n" not in s.explanation for s in got)
    steep, minimum, valley = got
    assert steep.lr == lrs[9]
    assert minimum.lr == pytest.approx(lrs[14] / 10, rel=1e-15)
    assert valley.lr == lrs[_valley_index(sm)] and lrs[0] < valley.lr < lrs[14]
    # fastai's trimming: the first steps//10 and the last 5 points are ignored
    trimmed = suggest(lrs, sm, skip_start=2, skip_end=5)
    assert trimmed[1].lr == pytest.approx(lrs[14] / 10) and trimmed[0].lr == lrs[9]
    assert suggest(lrs[:1], sm[:1]) == ()


def test_summarize_reads_the_band_mean():
    curves = [fake_curve(s, 1.0 / (1 + np.arange(30)) + 0.01 * s, steps=30) for s in range(3)]
    res = summarize(curves)
    assert isinstance(res, RangeTestResult) and res.curves == tuple(curves)
    assert res.suggestions == suggest(res.band.lrs, res.band.mean, skip_start=3)


# ---------------------------------------------------------------------------------------
# acceptance: a convex logistic regression
def lipschitz(X):
    """L = lambda_max(X~^T X~ / n) / 4 bounds the Hessian X~^T D X~ / n (D = s(1-s) <= 1/4)
    of the mean logistic loss; X~ = [X, 1] (the bias is a weight on a constant input)."""
    Xt = np.column_stack([X.astype(np.float64), np.ones(len(X))])
    return np.linalg.eigvalsh(Xt.T @ Xt / len(X)).max() / 4


@pytest.mark.parametrize("data_seed", [0, 1, 2])
def test_logistic_regression_suggestions_lie_in_the_stable_range(data_seed):
    """Logistic regression (no hidden layer), full-batch SGD, the default range
    1e-6 .. 10 in 100 steps, 3 seeds.  Gradient descent is guaranteed to descend for
    eta < 2/L, and on the recorded curve it does (the full-batch loss never rises before
    eta reaches 2/L).  Every suggestion lies in (2/L/1000, 2/L).

    (The logistic loss is Lipschitz and its curvature shrinks away from the decision
    boundary, so the range test's *divergence* -- smoothed loss > 4 x its minimum -- comes
    much later, tens of times 2/L, or not at all within 10: the suggestions are below the
    descent bound, not at it.)"""
    X, y = blobs(seed=data_seed)
    L = lipschitz(X)
    good = 2.0 / L
    curves = []
    for seed in range(3):
        net = Network(2, [], 1, "binary", seed=seed)
        _, curve = run(net, make_optimizer("sgd", net.n_params), X, y, len(X), seed,
                       lr_min=1e-6, lr_max=10.0, steps=100)
        before = curve.lrs[1:] < good  # l_{k} after steps with eta_0 .. eta_{k-1} < 2/L
        rises = np.diff(curve.losses)[before[: len(curve.losses) - 1]]
        assert np.all(rises <= 1e-6 * curve.losses[0]), rises.max()  # float32 rounding only
        curves.append(curve)
    res = summarize(curves)
    assert len(res.suggestions) == 3
    for s in res.suggestions:
        assert good / 1000 < s.lr < good, (s, good)


def test_mean_squared_error_diverges_soon_after_two_over_l():
    """Linear regression: the loss is quadratic, L = 2 lambda_max(X~^T X~ / n), and once
    eta > 2/L the error along the top eigenvector grows by |1 - eta L| > 1 per step.
    Full batch: the test stops by divergence a few grid steps past 2/L (the error first
    has to grow back from float32 round-off), never before."""
    rng = np.random.default_rng(1)
    X = (rng.normal(0, 1, (256, 2)) * [2.0, 0.5]).astype(np.float32)
    y = (X @ np.array([1.0, -2.0], np.float32) + 0.3 + 0.1 * rng.normal(size=256)).astype(np.float32)[:, None]
    Xt = np.column_stack([X.astype(np.float64), np.ones(256)])
    good = 2.0 / (2.0 * np.linalg.eigvalsh(Xt.T @ Xt / 256).max())
    net = Network(2, [], 1, "regression", seed=0)
    _, curve = run(net, make_optimizer("sgd", net.n_params), X, y, 256, 0, lr_min=1e-6, lr_max=10.0, steps=100)
    assert curve.stopped_reason.startswith("diverged")
    assert good < curve.lrs[-1] < 16 * good
    res = summarize([curve])
    assert all(good / 1000 < s.lr < good for s in res.suggestions), res.suggestions
