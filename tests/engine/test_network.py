"""The MLP: flat parameter views, forward/backward against manual NumPy, tasks,
test-time dropout treatments, evaluation metrics and chunking."""

import math

import numpy as np
import pytest

from workbench.engine import network as network_module
from workbench.engine.network import LayerConfig, Network


def _sig(z):
    return 1 / (1 + np.exp(-z))


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- layout
def test_network_params_and_grads_are_one_buffer_with_views():
    net = Network(2, [LayerConfig(8, "tanh"), LayerConfig(8, "tanh")], 1, "binary")
    assert net.n_params == (2 * 8 + 8) + (8 * 8 + 8) + (8 * 1 + 1) == 105
    assert net.params.shape == net.grads.shape == (105,)
    assert net.params.dtype == net.grads.dtype == np.float32 == net.dtype
    assert [w.shape for w in net.weights] == [(2, 8), (8, 8), (8, 1)]
    assert [b.shape for b in net.biases] == [(8,), (8,), (1,)]
    for views, flat in ((net.weights + net.biases, net.params), (net.grad_weights + net.grad_biases, net.grads)):
        for v in views:
            assert np.shares_memory(v, flat)
    net.weights[0][1, 3] = 7.5
    assert net.params[1 * 8 + 3] == 7.5
    net.params[24] = -2.0  # first entry of W^(2), after W^(1) (16) and b^(1) (8)
    assert net.weights[1][0, 0] == -2.0
    net.loss_and_grad(np.ones((3, 2), np.float32), np.array([0, 1, 1]))
    assert net.grads[105 - 1] == net.grad_biases[2][0] != 0.0
    assert net.weight_mask.dtype == bool and net.weight_mask.sum() == 16 + 64 + 8
    assert not net.weight_mask[16:24].any() and net.weight_mask[:16].all()
    assert net.task == "binary" and net.n_inputs == 2 and net.n_outputs == 1


def test_get_set_params_copy_and_initialize_is_seeded():
    net = Network(3, [LayerConfig(4, "relu")], 2, "regression", seed=5)
    p = net.get_params()
    assert p is not net.params and np.array_equal(p, net.params)
    p[0] = 100.0
    assert net.params[0] != 100.0
    net.set_params(np.zeros(net.n_params))
    assert not net.params.any() and not net.weights[0].any()
    net.initialize(np.random.default_rng(5))
    np.testing.assert_array_equal(net.params, Network(3, [LayerConfig(4, "relu")], 2, "regression", seed=5).params)
    with pytest.raises(ValueError, match=r"params: expected shape \(26,\)"):
        net.set_params(np.zeros(3))


def test_invalid_configurations_are_rejected():
    with pytest.raises(ValueError, match="n_outputs: must be 1 for a binary task"):
        Network(2, [], 2, "binary")
    with pytest.raises(ValueError, match="n_outputs: must be >= 2"):
        Network(2, [], 1, "multiclass")
    with pytest.raises(ValueError, match="task: must be one of"):
        Network(2, [], 1, "ranking")
    with pytest.raises(ValueError, match="activation: must be one of"):
        Network(2, [LayerConfig(3, "swish")], 1, "binary")
    with pytest.raises(ValueError, match="dropout_method: must be one of"):
        Network(2, [], 1, "binary", dropout_method="gaussian")
    with pytest.raises(ValueError, match=r"hidden\[0\].dropout"):
        Network(2, [LayerConfig(3, "relu", dropout=1.0)], 1, "binary")
    with pytest.raises(ValueError, match="dtype: must be float32 or float64"):
        Network(2, [], 1, "binary", dtype=np.float16)


# --------------------------------------------------------------------------- forward/backward
def _manual(net, X, y, masks=None):
    """Forward + backward in plain float64 NumPy, straight from the notes' equations."""
    W = [w.astype(np.float64) for w in net.weights]
    b = [v.astype(np.float64) for v in net.biases]
    m = masks or [None] * (len(W))
    h = X if m[0] is None else X * m[0]
    ins, hs = [h], []
    for l in range(len(W) - 1):
        a = np.tanh(h @ W[l] + b[l])
        hs.append(a)
        h = a if m[l + 1] is None else a * m[l + 1]
        ins.append(h)
    Z = h @ W[-1] + b[-1]
    n = X.shape[0]
    G = (Z - y) * 2 / Z.size
    loss = ((Z - y) ** 2).mean()
    gW, gb = [None] * len(W), [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        gW[l] = ins[l].T @ G
        gb[l] = G.sum(axis=0)
        if l:
            G = G @ W[l].T
            if m[l] is not None:
                G = G * m[l]
            G = G * (1 - hs[l - 1] ** 2)
    assert n == X.shape[0]
    return Z, loss, gW, gb


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_and_grad_match_manual_backprop(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3))
    y = rng.normal(size=(7, 2))
    net = Network(3, [LayerConfig(5, "tanh"), LayerConfig(4, "tanh")], 2, "regression", dtype=dtype, seed=1)
    net.biases[0][...] = 0.1  # exercise the biases
    Z, loss, gW, gb = _manual(net, X, y)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    value = net.loss_and_grad(X.astype(dtype), y.astype(dtype))
    assert isinstance(value, float)
    assert value == pytest.approx(loss, rel=tol["rtol"])
    for l in range(3):
        np.testing.assert_allclose(net.grad_weights[l], gW[l], **tol)
        np.testing.assert_allclose(net.grad_biases[l], gb[l], **tol)
    np.testing.assert_allclose(net.forward(X), Z, **tol)
    np.testing.assert_allclose(net.predict(X), Z, **tol)
    assert net.predict(X).dtype == dtype
    # with fixed masks (input mask, hidden masks; one layer without dropout)
    masks = [(rng.random((7, 3)) > 0.3) / 0.7, None, (rng.random((7, 4)) > 0.5) * 2.0]
    Z, loss, gW, gb = _manual(net, X, y, masks)
    assert net.loss_and_grad(X, y, masks=masks) == pytest.approx(loss, rel=tol["rtol"])
    for l in range(3):
        np.testing.assert_allclose(net.grad_weights[l], gW[l], **tol)
    np.testing.assert_allclose(net.forward(X, masks=masks), Z, **tol)
    with pytest.raises(ValueError, match="masks: expected 3 entries"):
        net.loss_and_grad(X, y, masks=masks[:2])
    # X as a nested list is accepted
    assert net.loss_and_grad(X.tolist(), y) == pytest.approx(_manual(net, X, y)[1], rel=tol["rtol"])


def test_loss_and_grad_is_deterministic_and_reuses_buffers():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = Network(2, [LayerConfig(8, "tanh", dropout=0.5)], 1, "binary", seed=3)
    v1 = net.loss_and_grad(X, y)
    g1 = net.grads.copy()
    buffers = net._cache[10]
    v2 = net.loss_and_grad(X, y)
    assert v1 == v2 and np.array_equal(g1, net.grads)  # rng=None: no dropout
    assert net._cache[10] is buffers and net._cache[10].H[0] is buffers.H[0]
    # with an rng, dropout masks are drawn: reproducible per seed, different from no dropout
    va = net.loss_and_grad(X, y, rng=np.random.default_rng(9))
    ga = net.grads.copy()
    vb = net.loss_and_grad(X, y, rng=np.random.default_rng(9))
    assert va == vb and np.array_equal(ga, net.grads)
    assert va != v1
    # loss() is the eval-mode loss: equals the no-dropout training loss for inverted dropout
    assert net.loss(X, y) == pytest.approx(v1, rel=1e-6)


def test_last_masks_are_the_masks_the_step_used():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = Network(2, [LayerConfig(8, "tanh", dropout=0.5), LayerConfig(5, "tanh")], 1, "binary", seed=3,
                  input_dropout=0.2)
    assert net.last_masks is None
    loss = net.loss_and_grad(X, y, rng=np.random.default_rng(4))
    grads = net.grads.copy()
    masks = [None if m is None else m.copy() for m in net.last_masks]
    assert [None if m is None else m.shape for m in masks] == [(10, 2), (10, 8), None]
    assert set(np.unique(masks[1])) <= {0.0, 2.0} and (masks[1] == 0).any()
    # the same step with those masks given gives the same loss and gradients
    assert net.loss_and_grad(X, y, masks=masks) == loss
    np.testing.assert_array_equal(net.grads, grads)
    net.loss_and_grad(X, y)  # no rng: no dropout in this step
    assert net.last_masks is None


def test_rng_without_dropout_changes_nothing():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6, 3))
    y = rng.integers(0, 3, 6)
    net = Network(3, [LayerConfig(5, "relu")], 3, "multiclass", dtype=np.float64)
    v = net.loss_and_grad(X, y)
    g = net.grads.copy()
    assert net.loss_and_grad(X, y, rng=np.random.default_rng(0)) == v
    np.testing.assert_array_equal(net.grads, g)


# --------------------------------------------------------------------------- tasks / no hidden layer
def test_no_hidden_layer_logistic_softmax_and_linear_models():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(9, 3))
    logistic = Network(3, [], 1, "binary", dtype=np.float64, seed=1)
    assert logistic.n_params == 4
    z = X @ logistic.weights[0][:, 0] + logistic.biases[0][0]
    p = logistic.predict(X)
    assert p.shape == (9,)
    np.testing.assert_allclose(p, _sig(z), rtol=1e-13)
    y = (z > 0).astype(int)
    assert logistic.evaluate(X, y)["accuracy"] == 1.0
    assert logistic.evaluate(X, 1 - y)["accuracy"] == 0.0
    bce = -(y * np.log(_sig(z)) + (1 - y) * np.log(1 - _sig(z))).mean()
    assert logistic.loss(X, y) == pytest.approx(bce, rel=1e-12)
    assert logistic.loss_and_grad(X, y) == pytest.approx(bce, rel=1e-12)
    np.testing.assert_allclose(logistic.grad_weights[0][:, 0], X.T @ (_sig(z) - y) / 9, rtol=1e-12)

    softmax = Network(3, [], 4, "multiclass", dtype=np.float64, seed=2)
    Z = X @ softmax.weights[0] + softmax.biases[0]
    P = softmax.predict(X)
    assert P.shape == (9, 4)
    np.testing.assert_allclose(P, _softmax(Z), rtol=1e-12)
    labels = np.arange(9) % 4
    ce = -np.log(_softmax(Z)[np.arange(9), labels]).mean()
    metrics = softmax.evaluate(X, labels)
    assert metrics["loss"] == pytest.approx(ce, rel=1e-12)
    assert metrics["accuracy"] == pytest.approx(np.mean(Z.argmax(1) == labels))

    linear = Network(3, [], 2, "regression", dtype=np.float64)
    np.testing.assert_allclose(linear.predict(X), X @ linear.weights[0] + linear.biases[0], rtol=1e-12)


def test_regression_metrics_hand_numbers():
    net = Network(1, [], 1, "regression", dtype=np.float64)
    net.weights[0][...] = 2.0
    net.biases[0][...] = 0.0
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([[1.0], [1.0], [5.0], [5.0]])  # predictions 0, 2, 4, 6: errors -1, 1, -1, 1
    m = net.evaluate(X, y)
    assert m["loss"] == 1.0 and m["rmse"] == 1.0
    # SS_res = 4, SS_tot = sum (y - 3)^2 = 16  =>  r2 = 0.75
    assert m["r2"] == pytest.approx(0.75)
    # two outputs: r2 over all outputs pools SS_res and SS_tot
    net2 = Network(1, [], 2, "regression", dtype=np.float64)
    net2.weights[0][...] = [[2.0, 0.0]]
    net2.biases[0][...] = [0.0, 1.0]
    y2 = np.column_stack([y[:, 0], [0.0, 2.0, 0.0, 2.0]])  # 2nd output: predictions 1, errors ±1
    m2 = net2.evaluate(X, y2)
    assert m2["loss"] == 1.0 and m2["rmse"] == 1.0
    assert m2["r2"] == pytest.approx(1 - 8 / (16 + 4))


def test_binary_accuracy_threshold_is_one_half_hand_numbers():
    net = Network(1, [], 1, "binary", dtype=np.float64)
    net.weights[0][...] = 1.0
    net.biases[0][...] = 0.0
    X = np.array([[-2.0], [-0.2], [0.2], [2.0]])  # p = 0.119, 0.450, 0.550, 0.881
    y = np.array([0, 1, 1, 1])
    m = net.evaluate(X, y)
    assert m["accuracy"] == 0.75  # x = -0.2 has p = 0.45 < 0.5: predicted 0, wrong
    expected = np.mean([np.log1p(np.exp(-2.0)), np.log1p(np.exp(0.2)), np.log1p(np.exp(-0.2)), np.log1p(np.exp(-2.0))])
    assert m["loss"] == pytest.approx(expected, rel=1e-13)


def test_evaluation_is_chunked_and_equals_one_big_pass(monkeypatch):
    monkeypatch.setattr(network_module, "EVAL_CHUNK", 64)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 4))
    y = rng.integers(0, 3, 300)
    net = Network(4, [LayerConfig(6, "relu")], 3, "multiclass", dtype=np.float64, seed=3)
    H = np.maximum(X @ net.weights[0] + net.biases[0], 0)
    Z = H @ net.weights[1] + net.biases[1]
    np.testing.assert_allclose(net.predict(X), _softmax(Z), rtol=1e-12)
    ce = -np.log(_softmax(Z)[np.arange(300), y]).mean()
    m = net.evaluate(X, y)
    assert m["loss"] == pytest.approx(ce, rel=1e-12)
    assert m["accuracy"] == pytest.approx(np.mean(Z.argmax(1) == y))
    assert set(net._cache) <= {64, 300 - 4 * 64}  # 4 full chunks and one of 44 rows


def test_default_chunk_is_bounded():
    assert network_module.EVAL_CHUNK == 4096


# --------------------------------------------------------------------------- dropout
def test_inverted_dropout_training_expectation_equals_test_output():
    # dropout on the last hidden layer + linear output: E[output] is exactly the test output
    net = Network(3, [LayerConfig(16, "tanh", dropout=0.5)], 1, "regression", dtype=np.float64, seed=2)
    X = np.random.default_rng(0).normal(size=(4, 3))
    rng = np.random.default_rng(1)
    N = 4000
    outs = np.array([net.forward(X, rng=rng) for _ in range(N)])
    test = net.predict(X)
    # every pass is a different sub-network ...
    assert outs.std(axis=0).min() > 0.05
    # ... and their mean matches the test output within 5 standard errors
    se = outs.std(axis=0) / math.sqrt(N)
    assert (np.abs(outs.mean(axis=0) - test) < 5 * se).all()
    # the scaling matters: without 1/(1-p) the mean would be half the signal
    H = np.tanh(X @ net.weights[0] + net.biases[0])
    np.testing.assert_allclose(test, H @ net.weights[1] + net.biases[1], rtol=1e-12)


def test_training_masks_inverted_are_scaled_and_classic_are_zero_one():
    X = np.ones((50, 6))
    for method, scale in (("inverted", 2.0), ("classic", 1.0), ("mc", 2.0)):
        net = Network(6, [], 1, "regression", input_dropout=0.5, dropout_method=method, dtype=np.float64)
        net.weights[0][...] = 1.0
        net.biases[0][...] = 0.0
        out = net.forward(X, rng=np.random.default_rng(0))[:, 0]
        kept = out / scale  # number of kept inputs per row
        np.testing.assert_array_equal(kept, np.round(kept))
        assert kept.min() >= 0 and kept.max() <= 6 and kept.std() > 0.5
        assert abs(kept.mean() - 3.0) < 0.5


def test_classic_dropout_scales_outgoing_weights_at_test_time():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5, 3))
    net = Network(
        3,
        [LayerConfig(4, "tanh", dropout=0.5), LayerConfig(3, "relu", dropout=0.0)],
        2,
        "multiclass",
        input_dropout=0.2,
        dropout_method="classic",
        dtype=np.float64,
        seed=4,
    )
    W1, W2, W3 = net.weights
    b1, b2, b3 = net.biases
    # Method 2: weights leaving a layer dropped with rate p are multiplied by (1 - p)
    H1 = np.tanh(X @ (0.8 * W1) + b1)
    H2 = np.maximum(H1 @ (0.5 * W2) + b2, 0)
    Z = H2 @ W3 + b3  # layer 2 has no dropout: its outgoing weights are unchanged
    np.testing.assert_allclose(net.predict(X), _softmax(Z), rtol=1e-12)
    y = np.array([0, 1, 1, 0, 1])
    assert net.loss(X, y) == pytest.approx(-np.log(_softmax(Z)[np.arange(5), y]).mean(), rel=1e-12)
    # the weights themselves are left untouched
    np.testing.assert_array_equal(net.weights[0], W1)


def test_mc_dropout_averages_mc_samples_passes_deterministically():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(5, 3))
    kw = dict(input_dropout=0.2, dropout_method="mc", dtype=np.float64, seed=7)
    hidden = [LayerConfig(6, "relu", dropout=0.5)]
    one = Network(3, hidden, 1, "binary", mc_samples=1, **kw)
    np.testing.assert_allclose(
        one.predict(X, rng=np.random.default_rng(3)), _sig(one.forward(X, rng=np.random.default_rng(3))[:, 0])
    )
    three = Network(3, hidden, 1, "binary", mc_samples=3, **kw)
    r = np.random.default_rng(11)
    passes = [_sig(three.forward(X, rng=r)[:, 0]) for _ in range(3)]
    p = three.predict(X, rng=np.random.default_rng(11))
    np.testing.assert_allclose(p, np.mean(passes, axis=0), rtol=1e-12)
    # loss of the averaged probability: -(1/n) sum log p_avg(y|x)
    y = np.array([1, 0, 1, 1, 0])
    expected = -np.mean(np.where(y == 1, np.log(p), np.log(1 - p)))
    assert three.loss(X, y, rng=np.random.default_rng(11)) == pytest.approx(expected, rel=1e-12)
    # without an rng a fixed internal seed is used: repeatable, and not the plain pass
    assert np.array_equal(three.predict(X), three.predict(X))
    assert three.evaluate(X, y) == three.evaluate(X, y)
    plain = Network(3, hidden, 1, "binary", dropout_method="inverted", **{k: v for k, v in kw.items() if k != "dropout_method"})
    assert not np.allclose(three.predict(X), plain.predict(X))


def test_mc_dropout_many_samples_approach_the_inverted_test_output():
    X = np.random.default_rng(0).normal(size=(3, 2))
    hidden = [LayerConfig(12, "tanh", dropout=0.3)]
    mc = Network(2, hidden, 2, "regression", dropout_method="mc", mc_samples=3000, dtype=np.float64, seed=1)
    inv = Network(2, hidden, 2, "regression", dtype=np.float64, seed=1)
    np.testing.assert_array_equal(mc.params, inv.params)
    np.testing.assert_allclose(mc.predict(X), inv.predict(X), atol=0.03)
    assert mc.predict(X).shape == (3, 2)


def test_mc_multiclass_loss_is_stable_log_of_mean_probability():
    X = np.random.default_rng(0).normal(size=(4, 2)) * 50  # large logits
    net = Network(2, [LayerConfig(5, "relu", dropout=0.5)], 3, "multiclass", dropout_method="mc", mc_samples=4,
                  dtype=np.float64, seed=2)
    y = np.array([0, 1, 2, 0])
    r = np.random.default_rng(5)
    P = np.mean([_softmax(net.forward(X, rng=r)) for _ in range(4)], axis=0)
    with np.errstate(divide="ignore"):
        direct = -np.log(P[np.arange(4), y]).mean()
    value = net.loss(X, y, rng=np.random.default_rng(5))
    assert np.isfinite(value)
    if np.isfinite(direct):
        assert value == pytest.approx(direct, rel=1e-9)
    np.testing.assert_allclose(net.predict(X, rng=np.random.default_rng(5)), P, rtol=1e-12)


def test_float32_and_float64_networks_agree():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(12, 4))
    y = rng.integers(0, 3, 12)
    hidden = [LayerConfig(10, "elu"), LayerConfig(7, "softplus")]
    n32 = Network(4, hidden, 3, "multiclass", seed=5)
    n64 = n32.copy(dtype=np.float64)
    assert n64.dtype == np.float64 and n64.params.dtype == np.float64
    np.testing.assert_array_equal(n64.params, n32.params.astype(np.float64))
    v32 = n32.loss_and_grad(X.astype(np.float32), y)
    v64 = n64.loss_and_grad(X, y)
    assert v32 == pytest.approx(v64, rel=1e-5)
    np.testing.assert_allclose(n32.grads, n64.grads, rtol=1e-3, atol=1e-6)
    # the same seed gives the same weights in either precision (up to float32 rounding)
    fresh64 = Network(4, hidden, 3, "multiclass", dtype=np.float64, seed=5).params
    np.testing.assert_array_equal(fresh64.astype(np.float32), n32.params)
