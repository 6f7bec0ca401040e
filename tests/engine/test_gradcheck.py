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
