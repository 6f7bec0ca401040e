"""XOR from seed 001: the hand solution, the linear model, a small tanh net, and the
zero-initialisation symmetry trap (seed 004).  Training here is a manual full-batch
gradient descent loop ``params -= lr * grads``."""

import numpy as np
import pytest

from workbench.engine.network import LayerConfig, Network

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([0.0, 1.0, 1.0, 0.0])


def _gd(net, X, y, lr, steps):
    for _ in range(steps):
        loss = net.loss_and_grad(X, y)
        net.params -= lr * net.grads
    return loss


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_xor_hand_solution_is_exact(dtype):
    # f(x) = w^T max{0, W^T x + c} + b with the seed's W, c, w, b
    net = Network(2, [LayerConfig(2, "relu")], 1, "regression", dtype=dtype)
    net.weights[0][...] = [[1, 1], [1, 1]]
    net.biases[0][...] = [0, -1]
    net.weights[1][...] = [[1], [-2]]
    net.biases[1][...] = [0]
    np.testing.assert_array_equal(net.predict(X), [[0], [1], [1], [0]])
    assert net.loss(X, Y.reshape(-1, 1)) == 0.0
    metrics = net.evaluate(X, Y.reshape(-1, 1))
    assert metrics == {"loss": 0.0, "rmse": 0.0, "r2": 1.0}
    assert net.loss_and_grad(X, Y.reshape(-1, 1)) == 0.0
    assert not net.grads.any()  # a minimum: every gradient is exactly zero


def test_xor_linear_model_converges_to_w0_b_half():
    # no hidden layer: f(x) = x^T w + b; J = (1/4) sum (f*(x) - f(x))^2
    net = Network(2, [], 1, "regression", dtype=np.float64, seed=1)
    assert net.n_params == 3
    assert np.abs(net.params).max() > 0.1  # starts away from the solution
    loss = _gd(net, X, Y.reshape(-1, 1), lr=0.5, steps=600)
    np.testing.assert_allclose(net.weights[0][:, 0], [0.0, 0.0], atol=1e-4)
    assert net.biases[0][0] == pytest.approx(0.5, abs=1e-4)
    assert loss == pytest.approx(0.25, abs=1e-8)  # every point is off by 1/2


def test_xor_tanh_2_4_1_reaches_100_percent():
    net = Network(2, [LayerConfig(4, "tanh", init="xavier_uniform")], 1, "binary", dtype=np.float64, seed=0)
    start = net.evaluate(X, Y)
    assert start["accuracy"] < 1.0
    _gd(net, X, Y, lr=1.0, steps=1000)
    metrics = net.evaluate(X, Y)
    assert metrics["accuracy"] == 1.0
    assert metrics["loss"] < 0.05
    p = net.predict(X)
    assert p.shape == (4,)
    assert (p[[1, 2]] > 0.9).all() and (p[[0, 3]] < 0.1).all()


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_zero_init_symmetry_trap_hidden_units_stay_identical(activation):
    hidden = [LayerConfig(3, activation, init="zeros"), LayerConfig(3, activation, init="zeros")]
    net = Network(2, hidden, 1, "binary", output_init="zeros", dtype=np.float64)
    assert not net.params.any()
    # OR targets (XOR's are so balanced that a zero net gets no gradient at all)
    y_or = np.array([0, 1, 1, 1])
    _gd(net, X, y_or, lr=0.5, steps=50)
    for W in net.weights[:2]:
        # every column (= every hidden unit's incoming weights) is the same
        np.testing.assert_array_equal(W, np.repeat(W[:, :1], W.shape[1], axis=1))
    for b in net.biases[:2]:
        np.testing.assert_array_equal(b, b[0])
    if activation == "sigmoid":
        # s(0) = 1/2 != 0, so the weights do move, but in lock step
        assert np.abs(net.weights[0]).max() > 1e-6 and np.abs(net.weights[1]).max() > 1e-6
    else:
        # g(0) = 0 and zero outgoing weights: no hidden weight ever gets a gradient
        assert not net.weights[0].any() and not net.weights[1].any()


def test_random_init_breaks_the_symmetry():
    net = Network(2, [LayerConfig(3, "sigmoid", init="xavier_uniform")], 1, "binary", dtype=np.float64)
    _gd(net, X, Y, lr=0.5, steps=5)
    W = net.weights[0]
    assert not np.allclose(W[:, 0], W[:, 1]) and not np.allclose(W[:, 1], W[:, 2])
