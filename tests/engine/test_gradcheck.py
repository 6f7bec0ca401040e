"""Backpropagation vs central finite differences, and the coupled L1/L2 penalty."""

import numpy as np
import pytest

from workbench.engine.activations import ACTIVATION_NAMES
from workbench.engine.gradcheck import check_gradients
from workbench.engine.network import LayerConfig, Network
from workbench.engine.regularization import add_penalty

KINK = 2e-3  # stay this far from any kink so the finite differences are meaningful
# Fourth-order differences with eps = 1e-4: truncation ~eps^4, rounding ~1e-16/eps = 1e-12,
# so even the ~1e-6 first-layer gradients of a 3-layer sigmoid net are checked to < 1e-6.
EPS = 1e-4
TASKS = {"regression": 2, "binary": 1, "multiclass": 3}
PENALTIES = {"none": (0.0, 0.0), "l1": (0.03, 0.0), "l2": (0.0, 0.2)}


def _data(task, n, d, K, rng):
    X = rng.normal(0.0, 1.0, size=(n, d))
    if task == "regression":
        y = rng.normal(0.0, 1.0, size=(n, K))
    elif task == "binary":
        y = np.arange(n) % 2
    else:
        y = np.arange(n) % K
    return X, y


def _kink_distance(net, X, masks, activation, l1):
    """Smallest distance of any pre-activation (or L1-penalised weight) to a kink."""
    dist = np.inf
    h = X if masks is None or masks[0] is None else X * masks[0]
    for l in range(len(net.hidden)):
        z = h @ net.weights[l] + net.biases[l]
        if activation in ("relu", "leaky_relu"):
            dist = min(dist, np.abs(z).min())
        elif activation == "hard_tanh":
            dist = min(dist, np.abs(np.abs(z) - 1.0).min())
        if activation == "relu":
            a = np.maximum(z, 0)
        elif activation == "leaky_relu":
            a = np.maximum(z, 0.01 * z)
        elif activation == "hard_tanh":
            a = np.clip(z, -1, 1)
        else:
            a = None
        if a is None:
            break  # smooth activation: no kinks
        h = a if masks is None or masks[l + 1] is None else a * masks[l + 1]
    if l1:
        dist = min(dist, np.abs(net.params[net.weight_mask]).min())
    return dist


def _net_away_from_kinks(d, hidden, K, task, X, masks, activation, l1, **kw):
    for seed in range(200):
        net = Network(d, hidden, K, task, dtype=np.float64, seed=seed, **kw)
        net.initialize(np.random.default_rng(seed))
        # non-zero biases so the bias gradients are exercised with any init
        for b in net.biases:
            b[...] = np.random.default_rng(1000 + seed).uniform(-0.3, 0.3, size=b.shape)
        if _kink_distance(net, X, masks, activation, l1) > KINK:
            return net
    raise AssertionError("no seed away from kinks")


@pytest.mark.parametrize("depth", [1, 3])
@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_gradcheck_every_activation_task_penalty_depth(activation, task, penalty, depth):
    K = TASKS[task]
    rng = np.random.default_rng(7)
    X, y = _data(task, 5, 3, K, rng)
    hidden = [LayerConfig(4, activation, init="xavier_uniform")] * depth
    l1, l2 = PENALTIES[penalty]
    net = _net_away_from_kinks(3, hidden, K, task, X, None, activation, l1)
    err = check_gradients(net, X, y, l1=l1, l2=l2, eps=EPS)
    assert err < 1e-6, err


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_gradcheck_with_fixed_dropout_masks(activation, task):
    K = TASKS[task]
    rng = np.random.default_rng(3)
    X, y = _data(task, 6, 3, K, rng)
    hidden = [LayerConfig(5, activation, dropout=0.4, init="xavier_uniform"), LayerConfig(4, activation, dropout=0.5)]
    masks = [
        (rng.random((6, 3)) >= 0.2) / 0.8,
        (rng.random((6, 5)) >= 0.4) / 0.6,
        (rng.random((6, 4)) >= 0.5) / 0.5,
    ]
    assert all((m == 0).any() for m in masks)  # some units really are dropped
    net = _net_away_from_kinks(3, hidden, K, task, X, masks, activation, 0.0, input_dropout=0.2)
    err = check_gradients(net, X, y, l2=0.1, masks=masks, eps=EPS)
    assert err < 1e-6, err
    # The fixed mask matters: the masked gradient differs from the unmasked one.
    net.loss_and_grad(X, y, masks=masks)
    g_masked = net.grads.copy()
    net.loss_and_grad(X, y)
    assert not np.allclose(g_masked, net.grads)


def test_gradcheck_catches_a_wrong_gradient():
    rng = np.random.default_rng(0)
    X, y = _data("regression", 5, 3, 2, rng)
    net = Network(3, [LayerConfig(4, "tanh")], 2, "regression", dtype=np.float64, seed=1)
    original = net.loss_and_grad

    def broken(X, y, rng=None, masks=None):
        value = original(X, y, rng, masks)
        net.grad_weights[0][0, 0] *= 1.01  # a 1% error in one entry
        return value

    net.loss_and_grad = broken
    assert check_gradients(net, X, y) > 1e-3


def test_gradcheck_float32_network_is_checked_in_float64_and_left_unchanged():
    rng = np.random.default_rng(0)
    X, y = _data("multiclass", 5, 3, 3, rng)
    net = Network(3, [LayerConfig(4, "tanh")], 3, "multiclass", seed=2)
    before = net.get_params()
    assert check_gradients(net, X, y, l2=0.1) < 1e-6
    assert net.dtype == np.float32
    np.testing.assert_array_equal(net.params, before)


def test_gradcheck_penalised_biases_with_all_true_mask():
    rng = np.random.default_rng(0)
    X, y = _data("binary", 6, 2, 1, rng)
    net = Network(2, [LayerConfig(3, "tanh")], 1, "binary", dtype=np.float64, seed=4)
    net.biases[0][...] = [0.2, -0.3, 0.4]
    full = np.ones(net.n_params, bool)
    assert check_gradients(net, X, y, l1=0.05, l2=0.1, penalty_mask=full) < 1e-6


# --------------------------------------------------------------------------- add_penalty
def test_add_penalty_hand_numbers():
    params = np.array([1.0, -2.0, 0.5, 3.0])
    grads = np.array([0.1, 0.1, 0.1, 0.1])
    mask = np.array([True, True, True, False])  # last entry is a bias
    value = add_penalty(params, grads, mask, l1=0.1, l2=0.5)
    # l1 * (1 + 2 + 0.5) + 0.5/2 * (1 + 4 + 0.25) = 0.35 + 1.3125
    assert value == pytest.approx(1.6625, abs=1e-12)
    # grads += 0.1 sign(w) + 0.5 w on the masked entries only
    np.testing.assert_allclose(grads, [0.1 + 0.1 + 0.5, 0.1 - 0.1 - 1.0, 0.1 + 0.1 + 0.25, 0.1], atol=1e-12)


def test_add_penalty_zero_strength_touches_nothing_and_mask_none_means_all():
    params = np.array([1.0, -2.0], dtype=np.float32)
    grads = np.array([0.5, 0.5], dtype=np.float32)
    assert add_penalty(params, grads, None, 0.0, 0.0) == 0.0
    np.testing.assert_array_equal(grads, [0.5, 0.5])
    assert add_penalty(params, grads, None, 0.0, 2.0) == pytest.approx(5.0)
    np.testing.assert_allclose(grads, [2.5, -3.5])
    assert grads.dtype == np.float32


# --------------------------------------------------------------------------- per layer
from workbench.engine.gradcheck import (  # noqa: E402
    GRADCHECK_THRESHOLD,
    check_gradients_per_layer,
    plant_error,
)

ARCHITECTURES = {
    "relu-2": (6, [LayerConfig(16, "relu"), LayerConfig(12, "relu")]),
    "tanh-3": (4, [LayerConfig(10, "tanh", init="xavier_uniform")] * 3),
    "sigmoid-2": (5, [LayerConfig(8, "sigmoid", init="xavier_normal"), LayerConfig(6, "sigmoid")]),
    "mixed": (3, [LayerConfig(9, "elu"), LayerConfig(7, "leaky_relu"), LayerConfig(5, "softplus")]),
    "hard_tanh": (4, [LayerConfig(12, "hard_tanh", init="xavier_uniform")]),
    "linear": (5, []),
}


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_per_layer_gradcheck_passes_on_correct_gradients(arch, task):
    d, hidden = ARCHITECTURES[arch]
    K = TASKS[task]
    rng = np.random.default_rng(11)
    X, y = _data(task, 24, d, K, rng)
    net = Network(d, hidden, K, task, seed=3)  # float32, as the app trains it
    for b in net.biases:
        b[...] = rng.uniform(-0.3, 0.3, size=b.shape)
    before, grads = net.get_params(), net.grads.copy()
    report = check_gradients_per_layer(net, X, y, l2=0.05, max_entries_per_layer=12)
    assert report.passed, [(la.name, la.weight_error, la.bias_error) for la in report.layers]
    assert report.max_error < GRADCHECK_THRESHOLD / 5  # margin: correct gradients sit far below
    assert len(report.layers) == len(hidden) + 1
    for la, (fi, fo) in zip(report.layers, zip(net.layer_sizes, net.layer_sizes[1:])):
        assert la.weight_total == fi * fo and la.bias_total == fo
        assert la.weight_checked + la.weight_skipped <= min(4 * 12, fi * fo)
        assert la.weight_checked == min(12, fi * fo) or la.weight_skipped > 0
    np.testing.assert_array_equal(net.params, before)  # the network is never touched
    np.testing.assert_array_equal(net.grads, grads)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_per_layer_gradcheck_with_masks_and_l1(activation):
    rng = np.random.default_rng(2)
    X, y = _data("multiclass", 10, 4, 3, rng)
    hidden = [LayerConfig(8, activation, dropout=0.3), LayerConfig(6, activation, dropout=0.5)]
    masks = [None, (rng.random((10, 8)) >= 0.3) / 0.7, (rng.random((10, 6)) >= 0.5) / 0.5]
    net = Network(4, hidden, 3, "multiclass", dtype=np.float64, seed=5)
    report = check_gradients_per_layer(net, X, y, l1=0.02, l2=0.1, masks=masks, max_entries_per_layer=1000)
    assert report.passed, [(la.name, la.weight_error, la.bias_error) for la in report.layers]
    assert all(la.weight_checked + la.weight_skipped == la.weight_total for la in report.layers)
    # the masks matter: the same check without them is judged against another gradient
    wrong = check_gradients_per_layer(net, X, y, l1=0.02, l2=0.1, masks=masks,
                                      perturb=lambda gW, gB: _unmasked(net, X, y, gW, gB))
    assert not wrong.passed


def _unmasked(net, X, y, gW, gB):
    """Replace the analytic gradient with the one WITHOUT dropout masks (a planted bug)."""
    other = net.copy()
    other.loss_and_grad(X, y)
    add_penalty(other.params, other.grads, other.weight_mask, 0.02, 0.1)
    for l in range(len(gW)):
        gW[l][...] = other.grad_weights[l]
        gB[l][...] = other.grad_biases[l]


@pytest.mark.parametrize("part", ["weights", "biases"])
@pytest.mark.parametrize("layer", [1, 2, 3])
def test_planted_error_turns_that_layer_red_and_only_it(layer, part):
    rng = np.random.default_rng(4)
    X, y = _data("multiclass", 20, 5, 4, rng)
    net = Network(5, [LayerConfig(12, "relu"), LayerConfig(9, "tanh")], 4, "multiclass", seed=2)
    net.biases[0][...] = 0.05
    report = check_gradients_per_layer(net, X, y, perturb=plant_error(layer, part, size=1e-3))
    assert report.failed_layers == (layer,)
    red = report.layers[layer - 1]
    assert (red.weights_ok, red.biases_ok) == ((False, True) if part == "weights" else (True, False))
    assert red.error > 100 * GRADCHECK_THRESHOLD
    for la in report.layers:
        if la.index != layer:
            assert la.passed and la.error < GRADCHECK_THRESHOLD / 5


def test_planted_error_in_one_entry_is_found_when_that_entry_is_checked():
    rng = np.random.default_rng(0)
    X, y = _data("regression", 8, 3, 2, rng)
    net = Network(3, [LayerConfig(4, "tanh")], 2, "regression", dtype=np.float64, seed=1)

    def one_entry(gW, gB):
        gW[0][0, 0] *= 1.0001  # a 0.01 % error: 100x the threshold

    report = check_gradients_per_layer(net, X, y, max_entries_per_layer=100, perturb=one_entry)
    assert report.failed_layers == (1,)
    assert report.layers[0].weight_error == pytest.approx(0.5e-4, rel=0.01)


def test_kinks_are_skipped_not_reported():
    # sample 0 is the zero vector: with zero first-layer biases every unit's A^(1) is exactly
    # 0 there, so moving a bias crosses the ReLU kink; moving a weight does not (x = 0)
    rng = np.random.default_rng(1)
    X, y = _data("binary", 12, 3, 1, rng)
    X[0] = 0.0
    net = Network(3, [LayerConfig(6, "relu")], 1, "binary", dtype=np.float64, seed=2)
    net.biases[0][...] = 0.0
    report = check_gradients_per_layer(net, X, y, max_entries_per_layer=50)
    first = report.layers[0]
    assert first.bias_checked == 0 and first.bias_skipped == 6
    assert first.weight_checked == 18 and report.passed
    # the full check straddles the kinks and reports a large error
    assert check_gradients(net, X, y, eps=1e-4) > 1e-3


def test_per_layer_gradcheck_is_deterministic_and_bounded():
    rng = np.random.default_rng(3)
    X, y = _data("multiclass", 16, 30, 5, rng)
    net = Network(30, [LayerConfig(40, "tanh"), LayerConfig(20, "sigmoid")], 5, "multiclass", seed=0)
    a = check_gradients_per_layer(net, X, y, max_entries_per_layer=7, seed=9)
    b = check_gradients_per_layer(net, X, y, max_entries_per_layer=7, seed=9)
    assert [(la.weight_error, la.bias_error) for la in a.layers] == [(la.weight_error, la.bias_error)
                                                                      for la in b.layers]
    assert [(la.weight_checked, la.bias_checked) for la in a.layers] == [(7, 7), (7, 7), (7, 5)]


def test_per_layer_gradcheck_medium_net_is_fast():
    # 784-256-128-10 ReLU, 32 rows: every difference recomputes only the layers it changes
    rng = np.random.default_rng(0)
    X = rng.random((32, 784), dtype=np.float32)
    y = rng.integers(0, 10, 32)
    net = Network(784, [LayerConfig(256, "relu"), LayerConfig(128, "relu")], 10, "multiclass", seed=0)
    report = check_gradients_per_layer(net, X, y)
    assert report.passed
    assert [la.weight_checked for la in report.layers] == [24, 24, 24]
    assert report.seconds < 1.0, report.seconds  # typically ~0.03 s; generous for a busy machine
