"""Look inside the network: every number checked against a direct NumPy computation on
the same weights and batch (dead and saturated units, histograms, gradient norms, update
ratios, the symmetry of zero initialisation, confusion matrices, residuals), the
evaluation batch, the rate limit and that diagnostics never change a training run."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from workbench.engine import diagnostics as dg
from workbench.engine.network import LayerConfig, Network
from workbench.engine.optimizers import make_optimizer


def _relu(z):
    return np.maximum(z, 0)


def _hidden_values(net, X):
    """Direct NumPy forward pass: [H^(1), ..., A^(L)] in float64 from the net's weights."""
    acts = {
        "relu": _relu,
        "tanh": np.tanh,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "hard_tanh": lambda z: np.clip(z, -1, 1),
        "leaky_relu": lambda z: np.maximum(z, 0.01 * z),
        "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        "identity": lambda z: z,
        "softplus": lambda z: np.log1p(np.exp(z)),
    }
    out, h = [], np.asarray(X, np.float64)
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        z = h @ W.astype(np.float64) + b.astype(np.float64)
        h = acts[net.hidden[l].activation](z) if l < len(net.hidden) else z
        out.append(h)
    return out


def _grads_by_hand(net, X, y):
    other = net.copy()
    other.loss_and_grad(X, y)
    return [g.copy() for g in other.grad_weights], [g.copy() for g in other.grad_biases]


# ----------------------------------------------------------------------------- dead units
def test_dead_relu_units_are_counted_exactly():
    rng = np.random.default_rng(0)
    X = rng.random((200, 5), dtype=np.float32)  # inputs in [0, 1): sign of X W + b is set by hand
    y = rng.integers(0, 3, 200)
    net = Network(5, [LayerConfig(8, "relu"), LayerConfig(6, "relu")], 3, "multiclass", seed=1)
    dead = [1, 4, 6]
    W, b = net.weights[0], net.biases[0]
    W[...] = np.abs(W)
    b[...] = 0.1  # every unit positive on every sample ...
    W[:, dead] = -np.abs(W[:, dead]) - 0.01
    b[dead] = -0.5  # ... except these: negative on every sample
    snap = dg.health_snapshot(net, X, y)
    direct = _hidden_values(net, X)
    assert snap.layers[0].activations.dead_fraction == 3 / 8
    assert np.count_nonzero((direct[0] == 0).all(axis=0)) == 3
    # the second layer: whatever it is, exactly the direct count
    expect2 = np.count_nonzero((direct[1] == 0).all(axis=0)) / 6
    assert snap.layers[1].activations.dead_fraction == expect2
    assert snap.layers[2].activations.dead_fraction is None  # logits
    # the dead units get exactly zero gradient on this batch
    gW, _ = _grads_by_hand(net, X, y)
    assert np.all(gW[0][:, dead] == 0) and np.all(gW[0][:, [0, 2, 3, 5, 7]] != 0)


@pytest.mark.parametrize("activation", ["leaky_relu", "elu"])
def test_never_positive_units_of_leaky_relu_and_elu(activation):
    rng = np.random.default_rng(1)
    X = rng.random((50, 3), dtype=np.float32)
    net = Network(3, [LayerConfig(5, activation)], 1, "regression", seed=0)
    net.weights[0][...] = 0.5
    net.biases[0][...] = 0.2
    net.weights[0][:, [0, 3]] = -0.5
    net.biases[0][[0, 3]] = -0.1
    snap = dg.health_snapshot(net, X, rng.normal(size=(50, 1)).astype(np.float32))
    assert snap.layers[0].activations.dead_fraction == 2 / 5
    direct = _hidden_values(net, X)[0]
    assert np.count_nonzero((direct < 0).all(axis=0)) == 2


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus", "identity", "hard_tanh"])
def test_dead_is_not_defined_for_other_activations(activation):
    net = Network(2, [LayerConfig(3, activation)], 1, "binary", seed=0)
    X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    snap = dg.health_snapshot(net, X, np.arange(20) % 2)
    assert snap.layers[0].activations.dead_fraction is None


# ----------------------------------------------------------------------------- saturation
SAT_RULES = {
    "tanh": lambda h: np.abs(h) > 0.97,
    "sigmoid": lambda h: (h < 0.03) | (h > 0.97),
    "hard_tanh": lambda h: np.abs(h) >= 1.0,
    "elu": lambda h: h < -0.97,
    "softplus": lambda h: h < -math.log(0.97),
}


@pytest.mark.parametrize("activation", list(SAT_RULES))
def test_saturation_fractions_on_hand_set_weights(activation):
    X = np.linspace(-4, 4, 101, dtype=np.float32).reshape(-1, 1)
    net = Network(1, [LayerConfig(5, activation)], 1, "regression", seed=0)
    net.weights[0][...] = [[0.1, 1.0, 3.0, 20.0, 0.0]]
    net.biases[0][...] = [0.0, 0.5, 0.0, 0.0, 8.0 if activation != "elu" else -8.0]  # unit 5: always saturated
    if activation == "softplus":
        net.biases[0][4] = -8.0
    snap = dg.health_snapshot(net, X, np.zeros((101, 1), np.float32))
    a = snap.layers[0].activations
    H = _hidden_values(net, X)[0].astype(np.float32)
    sat = SAT_RULES[activation](H)
    assert a.saturated_fraction == np.count_nonzero(sat) / sat.size
    assert a.always_saturated_fraction == np.count_nonzero(sat.all(axis=0)) / 5
    assert 0 < a.saturated_fraction < 1
    assert a.always_saturated_fraction >= 1 / 5  # the constant unit at least


def test_tanh_saturation_hand_count():
    # one input, values -3..3; unit 1: tanh(x) saturated where |x| > atanh(0.97) = 2.092
    X = np.array([[-3.0], [-2.5], [-2.0], [0.0], [1.0], [2.1], [3.0]], np.float32)
    net = Network(1, [LayerConfig(2, "tanh")], 1, "regression", seed=0)
    net.weights[0][...] = [[1.0, 0.0]]
    net.biases[0][...] = [0.0, 5.0]  # unit 2: tanh(5) = 0.99991 on every sample
    a = dg.health_snapshot(net, X, np.zeros((7, 1), np.float32)).layers[0].activations
    assert a.saturated_fraction == (4 + 7) / 14  # -3, -2.5, 2.1, 3 and all of unit 2
    assert a.always_saturated_fraction == 1 / 2


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "identity"])
def test_saturation_is_not_defined_without_a_flat_side(activation):
    net = Network(2, [LayerConfig(3, activation)], 2, "multiclass", seed=0)
    a = dg.health_snapshot(net, np.ones((4, 2), np.float32), np.array([0, 1, 0, 1])).layers[0].activations
    assert a.saturated_fraction is None and a.always_saturated_fraction is None


# ----------------------------------------------------------------------------- symmetry
def test_zero_initialised_net_has_identical_hidden_units():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    net = Network(4, [LayerConfig(6, "tanh", init="zeros"), LayerConfig(5, "relu", init="zeros")], 3,
                  "multiclass", output_init="zeros", seed=0)
    snap = dg.health_snapshot(net, X, y)
    assert [layer.activations.identical_units for layer in snap.layers] == [True, True, True]
    # ... and after a gradient step they are still identical (seed 004: the symmetry problem)
    opt = make_optimizer("sgd", net.n_params)
    for _ in range(3):
        net.loss_and_grad(X, y)
        opt.step(net.params, net.grads, 0.5)
    H = _hidden_values(net, X)
    assert np.array_equal(H[0], np.broadcast_to(H[0][:, :1], H[0].shape))
    assert dg.health_snapshot(net, X, y).layers[0].activations.identical_units
    # a random initialisation breaks the symmetry
    net2 = Network(4, [LayerConfig(6, "tanh"), LayerConfig(5, "relu")], 3, "multiclass", seed=0)
    assert not any(layer.activations.identical_units for layer in dg.health_snapshot(net2, X, y).layers)


def test_single_unit_layer_is_not_called_identical():
    net = Network(2, [LayerConfig(1, "tanh", init="zeros")], 1, "binary", seed=0)
    snap = dg.health_snapshot(net, np.ones((3, 2), np.float32), np.array([0.0, 1.0, 0.0], np.float32))
    assert snap.layers[0].activations.identical_units is False


def test_init_spread_zeros_identical_and_he_std_matches_numpy():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 10)).astype(np.float32)
    sizes = (10, 32, 32, 4)
    spread = dg.init_spread(sizes, ["relu", "tanh"], X, seed=11)
    assert spread.labels == dg.DEFAULT_INITIALIZERS
    assert spread.layer_names == ("hidden 1", "hidden 2", "output")
    zeros = spread.stats["zeros"]
    assert all(s.identical_units for s in zeros) and all(s.std == 0.0 for s in zeros)
    assert not any(s.identical_units for s in spread.stats["he_normal"])
    # he_normal by hand: the same draws as Network.initialize from default_rng(11)
    net = Network(10, [LayerConfig(32, "relu", init="he_normal"), LayerConfig(32, "tanh", init="he_normal")], 4,
                  "multiclass", output_init="he_normal")
    net.initialize(np.random.default_rng(11))
    direct = _hidden_values(net, X)
    for s, h in zip(spread.stats["he_normal"], direct):
        assert s.std == pytest.approx(h.std(), rel=1e-5)
        assert s.mean == pytest.approx(h.mean(), rel=1e-4, abs=1e-6)
    assert spread.std_table().shape == (4, 3)


def test_init_spread_current_reproduces_the_built_network():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(100, 3)).astype(np.float32)
    hidden = [LayerConfig(7, "sigmoid", init="xavier_normal"), LayerConfig(5, "elu", init="lecun_normal")]
    net = Network(3, hidden, 2, "regression", output_init="pytorch_default")
    seq = np.random.SeedSequence([42, 1])  # what workbench.build uses for spec seed 42
    net.initialize(np.random.default_rng(np.random.SeedSequence([42, 1])))
    spread = dg.init_spread(net.layer_sizes, ["sigmoid", "elu"], X, ("zeros", dg.current_initializers(net)), seq)
    assert spread.labels == ("zeros", "current")
    direct = dg.eval_activations(net, X)
    for s, h in zip(spread.stats["current"], direct):
        assert s.std == dg.activation_stats("identity", h).std
    assert seq.n_children_spawned == 0


def test_init_spread_bounds_rows_and_validates():
    X = np.zeros((2000, 2), np.float32)
    spread = dg.init_spread((2, 3, 1), "tanh", X, ("he_normal",))
    assert spread.rows == dg.EVAL_BATCH_ROWS
    with pytest.raises(ValueError, match="activations"):
        dg.init_spread((2, 3, 3, 1), ["tanh"], X)
    with pytest.raises(ValueError, match="per-layer"):
        dg.init_spread((2, 3, 1), "tanh", X, (("zeros",),))
    with pytest.raises(ValueError, match="init"):
        dg.init_spread((2, 3, 1), "tanh", X, ("bogus",))


# ----------------------------------------------------------------------------- histograms
def _check_hist(hist, x):
    x = np.asarray(x).reshape(-1).astype(np.float64)
    lo, hi = hist.edges[0], hist.edges[-1]
    assert hist.edges.dtype == np.float64
    counts, edges = np.histogram(x, bins=dg.HIST_BINS, range=(lo, hi))
    np.testing.assert_array_equal(hist.counts, counts)
    np.testing.assert_array_equal(hist.edges, edges)
    assert hist.below == np.count_nonzero(x < lo) and hist.above == np.count_nonzero(x > hi)
    assert hist.total == x.size


@pytest.mark.parametrize("activation,edges", [("tanh", (-1, 1)), ("sigmoid", (0, 1)), ("hard_tanh", (-1, 1)),
                                              ("relu", (0, None)), ("softplus", (0, None)), ("elu", (-1, None)),
                                              ("leaky_relu", (None, None))])
def test_histograms_equal_numpy(activation, edges):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    net = Network(6, [LayerConfig(20, activation), LayerConfig(9, activation)], 3, "multiclass", seed=2)
    net.biases[0][...] = rng.normal(size=20)
    snap = dg.health_snapshot(net, X, rng.integers(0, 3, 300))
    direct = dg.eval_activations(net, X)
    for layer, h in zip(snap.layers, direct):
        _check_hist(layer.activations.hist, h)
        _check_hist(layer.weights.hist, net.weights[layer.index - 1])
        _check_hist(layer.biases.hist, net.biases[layer.index - 1])
        assert layer.weights.hist.edges[0] == -layer.weights.hist.edges[-1]
    lo, hi = edges
    h1 = snap.layers[0].activations.hist
    if lo is not None:
        assert h1.edges[0] == lo
    if hi is not None:
        assert h1.edges[-1] == hi
    assert h1.counts.sum() >= 0.98 * h1.total - 1  # the robust range holds ~99 % of the values


def test_open_ranges_are_on_the_1_2_5_series():
    assert [dg.nice_ceil(x) for x in (0.013, 0.1, 0.11, 0.3, 0.7, 1.0, 4.9, 51.0)] == \
        [0.02, 0.1, 0.2, 0.5, 1.0, 1.0, 5.0, 100.0]
    assert dg.nice_ceil(0.0) == 1.0 and dg.nice_ceil(float("nan")) == 1.0
    lo, hi = dg.activation_range("relu", np.array([[0.0, 0.3, 1.7]] * 100))
    assert (lo, hi) == (0.0, 2.0)
    assert dg.symmetric_range(np.zeros((3, 3))) == (-1.0, 1.0)


def test_mean_and_std_equal_numpy_and_weights_stats():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(128, 7)).astype(np.float32)
    net = Network(7, [LayerConfig(16, "tanh"), LayerConfig(8, "relu")], 1, "binary", seed=3)
    net.biases[1][...] = rng.normal(size=8)
    snap = dg.health_snapshot(net, X, (rng.random(128) < 0.5).astype(np.float32))
    for layer, h in zip(snap.layers, dg.eval_activations(net, X)):
        assert layer.activations.mean == pytest.approx(h.astype(np.float64).mean(), rel=1e-12, abs=1e-15)
        assert layer.activations.std == pytest.approx(h.astype(np.float64).std(), rel=1e-12)
        W = net.weights[layer.index - 1].astype(np.float64)
        b = net.biases[layer.index - 1].astype(np.float64)
        w = layer.weights
        assert (w.mean, w.std, w.min, w.max) == pytest.approx((W.mean(), W.std(), W.min(), W.max()), rel=1e-12)
        assert w.norm == pytest.approx(np.linalg.norm(W), rel=1e-12)
        assert layer.biases.norm == pytest.approx(np.linalg.norm(b), rel=1e-12, abs=0.0)
        assert (layer.units, layer.fan_in) == W.shape[::-1]
    assert [layer.name for layer in snap.layers] == ["hidden 1", "hidden 2", "output"]
    assert [layer.activation for layer in snap.layers] == ["tanh", "relu", "logits"]


def test_activations_are_the_float32_test_time_pass_with_classic_dropout():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    net = Network(3, [LayerConfig(6, "tanh", dropout=0.5)], 2, "regression", input_dropout=0.2,
                  dropout_method="classic", seed=1)
    values = dg.eval_activations(net, X)
    assert all(v.dtype == np.float32 for v in values)
    np.testing.assert_allclose(values[-1], net.predict(X), rtol=1e-6, atol=1e-6)  # regression: yhat = A^(L)
    plain = Network(3, [LayerConfig(6, "tanh", dropout=0.5)], 2, "regression", input_dropout=0.2, seed=1)
    plain.set_params(net.params)
    np.testing.assert_allclose(dg.eval_activations(plain, X)[-1], plain.predict(X), rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("task,K", [("multiclass", 4), ("binary", 1), ("regression", 2)])
def test_gradient_norms_equal_numpy_and_training_state_is_untouched(task, K):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(100, 5)).astype(np.float32)
    y = {"multiclass": rng.integers(0, K, 100), "binary": (rng.random(100) < 0.5).astype(np.float32),
         "regression": rng.normal(size=(100, K)).astype(np.float32)}[task]
    net = Network(5, [LayerConfig(12, "relu", dropout=0.3), LayerConfig(7, "sigmoid")], K, task, seed=4)
    net.grads[...] = rng.normal(size=net.n_params)  # what the trainer left there
    grads0, params0 = net.grads.copy(), net.params.copy()
    gW, gB = _grads_by_hand(net, X, y)
    snap = dg.health_snapshot(net, X, y)
    for layer in snap.layers:
        l = layer.index - 1
        assert layer.grad_weight_norm == pytest.approx(np.linalg.norm(gW[l].astype(np.float64)), rel=1e-12)
        assert layer.grad_bias_norm == pytest.approx(np.linalg.norm(gB[l].astype(np.float64)), rel=1e-12)
    assert snap.loss == pytest.approx(net.copy().loss_and_grad(X, y), rel=1e-12)
    np.testing.assert_array_equal(net.grads, grads0)
    np.testing.assert_array_equal(net.params, params0)
    buf = np.empty_like(net.grads)
    again = dg.health_snapshot(net, X, y, grads_buffer=buf)
    assert [la.grad_weight_norm for la in again.layers] == [la.grad_weight_norm for la in snap.layers]
    np.testing.assert_array_equal(net.grads, grads0)


def test_snapshot_is_frozen_plain_and_bounded():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(2000, 3)).astype(np.float32)
    net = Network(3, [LayerConfig(4, "tanh")], 1, "regression")
    snap = dg.health_snapshot(net, X, rng.normal(size=(2000, 1)).astype(np.float32), epoch=5)
    assert snap.rows == dg.EVAL_BATCH_ROWS and snap.epoch == 5 and snap.seconds > 0
    layer = snap.layers[0]
    assert type(layer.activations.mean) is float and type(layer.grad_weight_norm) is float
    assert layer.activations.hist.counts.dtype == np.int64 and len(layer.activations.hist.counts) == dg.HIST_BINS
    assert not layer.weights.hist.counts.flags.writeable
    with pytest.raises(Exception):
        layer.units = 3  # frozen


def test_nonfinite_weights_do_not_break_a_snapshot():
    net = Network(2, [LayerConfig(3, "tanh")], 1, "regression", seed=0)
    net.weights[0][0, 0] = np.nan
    net.weights[1][1, 0] = np.inf
    snap = dg.health_snapshot(net, np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32))
    assert snap.layers[0].weights.hist.nonfinite == 1 and snap.layers[1].weights.hist.nonfinite == 1
    assert snap.layers[0].activations.hist.nonfinite == 4  # unit 1 is NaN on every sample
    assert math.isnan(snap.layers[0].weights.mean)


# ----------------------------------------------------------------------------- update ratios
def test_update_ratios_equal_hand_computation_after_one_sgd_step():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(32, 4)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    net = Network(4, [LayerConfig(10, "tanh"), LayerConfig(6, "relu")], 3, "multiclass", seed=5)
    net.biases[0][...] = 0.1
    opt = make_optimizer("sgd", net.n_params)
    lr = 0.05
    probe = dg.UpdateProbe(net)
    W0 = [w.astype(np.float64) for w in net.weights]
    b0 = [b.astype(np.float64) for b in net.biases]
    net.loss_and_grad(X, y)
    gW = [g.astype(np.float64) for g in net.grad_weights]
    gB = [g.astype(np.float64) for g in net.grad_biases]
    probe.before(net.params)
    opt.step(net.params, net.grads, lr)
    assert probe.armed
    prev = probe.previous.copy()
    ratios = probe.after(net.params)
    assert not probe.armed and probe.previous is None
    for l in range(3):
        assert ratios.weights[l] == pytest.approx(lr * np.linalg.norm(gW[l]) / np.linalg.norm(W0[l]), rel=1e-4)
        assert ratios.biases[l] == pytest.approx(lr * np.linalg.norm(gB[l]) / np.linalg.norm(b0[l]) if l == 0
                                                 else math.inf)  # zero biases before the step: x / 0
    snap = dg.health_snapshot(net, X, y, prev_params=prev)
    assert [la.update_ratio for la in snap.layers] == list(ratios.weights)
    assert dg.health_snapshot(net, X, y).layers[0].update_ratio is None
    with pytest.raises(RuntimeError):
        probe.after()


def test_update_ratio_of_nothing_is_nan_and_layer_slices_match_the_views():
    net = Network(3, [LayerConfig(4, "relu", init="zeros")], 2, "regression", output_init="zeros")
    r = dg.update_ratios(net, net.params.copy())
    assert all(math.isnan(v) for v in r.weights + r.biases)
    for l, (ws, bs) in enumerate(dg.layer_slices(net)):
        assert np.shares_memory(net.params[ws], net.weights[l]) and net.params[ws].size == net.weights[l].size
        assert np.shares_memory(net.params[bs], net.biases[l]) and net.params[bs].size == net.biases[l].size


def test_diagnostics_never_change_a_training_run():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    y = rng.integers(0, 3, 120)

    def run(with_health: bool):
        net = Network(4, [LayerConfig(8, "relu", dropout=0.2), LayerConfig(8, "tanh")], 3, "multiclass", seed=6)
        opt = make_optimizer("adam", net.n_params)
        drop = np.random.default_rng(0)
        health = dg.HealthMonitor(net, X, y, seed=3, min_interval=0.0, budget=math.inf) if with_health else None
        snaps = []
        for epoch in range(1, 4):
            for start in range(0, 120, 16):
                net.loss_and_grad(X[start:start + 16], y[start:start + 16], rng=drop)
                if health is not None and start + 16 >= 120:
                    health.probe.before(net.params)
                opt.step(net.params, net.grads, 0.01)
            if health is not None and health.due():
                snaps.append(health.snapshot(epoch))
        return net.params.copy(), net.grads.copy(), snaps

    p0, g0, _ = run(False)
    p1, g1, snaps = run(True)
    np.testing.assert_array_equal(p0, p1)
    np.testing.assert_array_equal(g0, g1)
    assert [s.epoch for s in snaps] == [1, 2, 3]
    assert all(la.update_ratio is not None and 0 < la.update_ratio < 1 for s in snaps for la in s.layers)


def test_health_monitor_rate_limit_with_a_fake_clock():
    now = [0.0]
    net = Network(2, [LayerConfig(3, "tanh")], 1, "binary")
    X = np.zeros((10, 2), np.float32)
    mon = dg.HealthMonitor(net, X, np.arange(10) % 2, min_interval=0.5, budget=0.05, clock=lambda: now[0])
    assert mon.due()  # the first snapshot
    now[0] = 1.0
    _fake_snapshot(mon, now, cost=0.01)  # ends at 1.01
    now[0] = 1.2
    assert not mon.due()  # < 0.5 s since the last
    now[0] = 1.6
    assert mon.due()  # 0.59 s later; spent 0.01 <= 5 % of 1.6 s
    _fake_snapshot(mon, now, cost=0.2)  # an expensive one: spent 0.21
    now[0] = 2.5
    assert not mon.due()  # 0.21 > 5 % of 2.5 s
    now[0] = 4.3
    assert mon.due()  # 0.21 <= 5 % of 4.3 s
    every = dg.HealthMonitor(net, X, np.arange(10) % 2, min_interval=0.0, budget=math.inf)
    every.snapshot(1)
    assert every.due() and every.count == 1


def _fake_snapshot(mon, now, cost):
    """One snapshot that "takes" ``cost`` seconds of the fake clock (between its two reads)."""
    clock = mon.clock
    reads = []

    def ticking():
        t = clock()
        if not reads:
            now[0] += cost
        reads.append(t)
        return t

    mon.clock = ticking
    mon.snapshot(0)
    mon.clock = clock
    assert len(reads) == 2


# ----------------------------------------------------------------------------- evaluation batch
def test_eval_batch_is_bounded_stratified_and_fixed():
    rng = np.random.default_rng(12)
    y = np.repeat([0, 1, 2], [5000, 3000, 2000])
    rng.shuffle(y)
    X = np.arange(10000, dtype=np.float32).reshape(-1, 1)
    Xe, ye = dg.choose_eval_batch(X, y, seed=4)
    assert Xe.shape == (512, 1) and ye.shape == (512,)
    assert np.bincount(ye).tolist() == [256, 154, 102]  # 512 * (.5, .3, .2) = 256, 153.6, 102.4
    rows = Xe[:, 0].astype(np.int64)
    assert np.all(np.diff(rows) > 0) and np.array_equal(y[rows], ye)
    Xe2, _ = dg.choose_eval_batch(X, y, seed=4)
    np.testing.assert_array_equal(Xe, Xe2)
    Xe3, _ = dg.choose_eval_batch(X, y, seed=5)
    assert not np.array_equal(Xe, Xe3)
    # binary 0/1 floats are stratified too; regression targets uniformly
    yb = (np.arange(10000) % 10 == 0).astype(np.float32)
    assert np.count_nonzero(dg.choose_eval_batch(X, yb)[1]) == 51
    yr = rng.normal(size=(10000, 2)).astype(np.float32)
    Xr, yr_e = dg.choose_eval_batch(X, yr, seed=1)
    assert Xr.shape == (512, 1) and np.array_equal(yr[Xr[:, 0].astype(np.int64)], yr_e)
    # small sets: all rows, in order
    Xs, ys = dg.choose_eval_batch(X[:100], y[:100])
    np.testing.assert_array_equal(Xs, X[:100])
    assert not np.shares_memory(Xs, X)


# ----------------------------------------------------------------------------- errors
def test_confusion_matrix_equals_a_hand_count():
    y_true = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 2, 0, 2, 2]
    C = dg.confusion_matrix(y_true, y_pred, 4)
    expect = np.zeros((4, 4), np.int64)
    for t, p in zip(y_true, y_pred):
        expect[t, p] += 1
    np.testing.assert_array_equal(C, expect)
    np.testing.assert_array_equal(C[:3, :3], [[1, 1, 0], [0, 2, 1], [1, 0, 3]])
    assert C.dtype == np.int64
    with pytest.raises(ValueError, match="labels"):
        dg.confusion_matrix([0, 3], [0, 1], 3)


def test_residuals_are_observed_minus_predicted():
    r = dg.residuals([1.0, 2.0, 3.0], [0.5, 2.5, 3.0])
    np.testing.assert_array_equal(r, [[0.5], [-0.5], [0.0]])
    with pytest.raises(ValueError):
        dg.residuals(np.zeros((3, 2)), np.zeros((3, 1)))


@pytest.mark.parametrize("task,K", [("multiclass", 4), ("binary", 1)])
def test_split_errors_classification(task, K):
    rng = np.random.default_rng(13)
    X = rng.normal(size=(150, 3)).astype(np.float32)
    y = rng.integers(0, 4, 150) if task == "multiclass" else (rng.random(150) < 0.5).astype(np.float32)
    net = Network(3, [LayerConfig(8, "tanh")], K, task, seed=7)
    err = dg.split_errors(net, X, y, "classification")
    P = net.predict(X)
    pred = P.argmax(axis=1) if task == "multiclass" else (P > 0.5).astype(int)
    n_cls = 4 if task == "multiclass" else 2
    expect = np.zeros((n_cls, n_cls), np.int64)
    for t, p in zip(y.astype(int), pred):
        expect[t, p] += 1
    np.testing.assert_array_equal(err.confusion, expect)
    assert err.accuracy == pytest.approx(net.evaluate(X, y)["accuracy"])
    assert err.residuals is None and err.n == 150
    with pytest.raises(ValueError, match="task"):
        dg.split_errors(net, X, y, "regression")


def test_split_errors_regression():
    rng = np.random.default_rng(14)
    X = rng.normal(size=(60, 2)).astype(np.float32)
    y = rng.normal(size=(60, 2)).astype(np.float32)
    net = Network(2, [LayerConfig(5, "elu")], 2, "regression", seed=8)
    err = dg.split_errors(net, X, y)
    np.testing.assert_allclose(err.residuals, y.astype(np.float64) - net.predict(X).astype(np.float64))
    assert err.rmse == pytest.approx(net.evaluate(X, y)["rmse"], rel=1e-5)
    assert err.confusion is None and err.predictions.shape == (60, 2)


# ----------------------------------------------------------------------------- benchmark smoke
def test_benchmark_script_runs_on_tiny_sizes():
    bench = Path(__file__).resolve().parents[2] / "benchmarks"
    sys.path.insert(0, str(bench))
    try:
        import bench_common
        import bench_diagnostics as bd
    finally:
        sys.path.remove(str(bench))
    bench_common.PAUSE = 0.0
    case = bd.Case("smoke", (3, 4, 2), "relu", "multiclass", "adam", 1e-3, 8, 40, epochs=2, quick_epochs=1)
    for variant in bd.VARIANTS:
        run = bd.make_runner(case, variant)
        done, secs = run(2)
        assert done > 0 and secs > 0
