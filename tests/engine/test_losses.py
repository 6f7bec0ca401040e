"""Output units and losses: hand numbers, stability, gradients vs finite differences."""

import math
import warnings

import numpy as np
import pytest

from workbench.engine import losses

LOG2 = math.log(2.0)


def test_bce_at_zero_logit_is_log2_for_both_labels():
    g = np.empty((2, 1))
    value = losses.binary_loss_grad(np.zeros((2, 1)), np.array([0, 1]), g)
    assert value == pytest.approx(LOG2, abs=1e-15)
    # (s(0) - y)/n = (0.5 - 0)/2, (0.5 - 1)/2
    np.testing.assert_allclose(g[:, 0], [0.25, -0.25], atol=1e-15)


def test_bce_hand_numbers_and_gradient():
    z = np.array([[0.0], [2.0]])
    y = np.array([1, 0])
    g = np.empty_like(z)
    value = losses.binary_loss_grad(z, y, g)
    # y=1, z=0: log 2 ; y=0, z=2: log(1 + e^2) = 2.1269280110429727
    assert value == pytest.approx((LOG2 + 2.1269280110429727) / 2, abs=1e-14)
    np.testing.assert_allclose(g[:, 0], [(0.5 - 1) / 2, 0.8807970779778823 / 2], atol=1e-15)


def test_bce_extreme_logits_are_finite_without_warnings():
    z = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    y = np.array([0, 1, 1, 0])
    g = np.empty_like(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            per_sample = losses.binary_sample_losses(z, y)
            value = losses.binary_loss_grad(z, y, g)
            z32 = z.astype(np.float32)
            value32 = losses.binary_loss_grad(z32, y, np.empty_like(z32))
    np.testing.assert_allclose(per_sample, [1000.0, 1000.0, 0.0, 0.0], atol=1e-300)
    assert value == pytest.approx(500.0)
    assert value32 == pytest.approx(500.0)
    np.testing.assert_allclose(g[:, 0], [0.25, -0.25, 0.0, 0.0], atol=1e-15)


def test_bce_equals_direct_formula_for_moderate_logits():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, size=(50, 1))
    y = rng.integers(0, 2, size=50)
    s = 1 / (1 + np.exp(-z[:, 0]))
    direct = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    np.testing.assert_allclose(losses.binary_sample_losses(z, y), direct, rtol=1e-12)
    assert losses.binary_loss_grad(z, y, np.empty_like(z)) == pytest.approx(direct.mean(), rel=1e-13)
    np.testing.assert_allclose(losses.binary_output(z), s, rtol=1e-14)


def test_float32_losses_keep_precision_for_huge_logits():
    # per-sample terms are formed before summing, so huge logits do not swamp log 2 / log 3
    z = np.array([[1e6], [1e6], [0.0]], np.float32)
    y = np.array([1, 1, 0])
    assert losses.binary_loss_grad(z, y, np.empty_like(z)) == pytest.approx(LOG2 / 3, rel=1e-6)
    np.testing.assert_allclose(losses.binary_sample_losses(z, y), [0.0, 0.0, LOG2], rtol=1e-6)
    Z = np.full((2, 3), 4e5, np.float32)
    assert losses.multiclass_loss_grad(Z, np.array([0, 2]), np.empty_like(Z)) == pytest.approx(math.log(3), rel=1e-6)
    np.testing.assert_allclose(losses.multiclass_sample_losses(Z, np.array([0, 2])), math.log(3), rtol=1e-6)


def test_softmax_ce_of_equal_logits_is_log2():
    g = np.empty((1, 2))
    assert losses.multiclass_loss_grad(np.zeros((1, 2)), np.array([1]), g) == pytest.approx(LOG2, abs=1e-15)
    np.testing.assert_allclose(g, [[0.5, -0.5]], atol=1e-15)


def test_softmax_ce_hand_numbers():
    Z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y = np.array([0, 2])
    g = np.empty_like(Z)
    value = losses.multiclass_loss_grad(Z, y, g)
    lse = math.log(math.e + math.e**2 + math.e**3)  # 3.40760596444438
    assert value == pytest.approx(((lse - 1.0) + math.log(3.0)) / 2, abs=1e-14)
    p = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(g[0], (p - [1, 0, 0]) / 2, atol=1e-15)
    np.testing.assert_allclose(g[1], (np.full(3, 1 / 3) - [0, 0, 1]) / 2, atol=1e-15)
    np.testing.assert_allclose(losses.multiclass_output(Z)[0], p, rtol=1e-14)


def test_softmax_ce_large_logits_are_stable():
    Z = np.array([[1000.0, 0.0], [0.0, 1000.0], [1000.0, 1000.0]])
    y = np.array([1, 1, 0])
    g = np.empty_like(Z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value = losses.multiclass_loss_grad(Z, y, g)
            per_sample = losses.multiclass_sample_losses(Z, y)
    np.testing.assert_allclose(per_sample, [1000.0, 0.0, LOG2], atol=1e-12)
    assert value == pytest.approx((1000.0 + LOG2) / 3)
    np.testing.assert_allclose(g, [[1 / 3, -1 / 3], [0, 0], [-0.5 / 3, 0.5 / 3]], atol=1e-15)


def test_mse_mean_over_samples_and_outputs():
    Z = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.zeros((2, 2))
    g = np.empty_like(Z)
    value = losses.regression_loss_grad(Z, y, g)
    assert value == pytest.approx((1 + 4 + 9 + 16) / 4)
    np.testing.assert_allclose(g, 2 * Z / 4)
    np.testing.assert_allclose(losses.regression_sample_losses(Z, y), [5.0, 25.0])
    assert losses.mse(Z, y) == pytest.approx(7.5)


def test_mse_accepts_1d_targets_for_one_output_and_rejects_mismatch():
    g = np.empty((3, 1))
    assert losses.regression_loss_grad(np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 1.0, 1.0]), g) == pytest.approx(
        5 / 3
    )
    np.testing.assert_allclose(g[:, 0], [0.0, 2 / 3, 4 / 3])
    with pytest.raises(ValueError, match="y: expected shape"):
        losses.regression_loss_grad(np.zeros((3, 2)), np.zeros(3), np.empty((3, 2)))


@pytest.mark.parametrize("task", losses.TASKS)
def test_loss_gradient_matches_finite_differences(task):
    rng = np.random.default_rng(1)
    n, K = 4, (2 if task == "regression" else 1 if task == "binary" else 3)
    Z = rng.normal(0, 1.5, size=(n, K))
    y = {"regression": rng.normal(size=(n, K)), "binary": np.array([0, 1, 1, 0]), "multiclass": np.array([0, 2, 1, 2])}[
        task
    ]
    g = np.empty_like(Z)
    value = losses.LOSS_GRAD[task](Z, y, g)
    assert value == pytest.approx(losses.loss(task, Z, y), rel=1e-13)
    h = 1e-6
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += h
        Zm[idx] -= h
        fd = (losses.loss(task, Zp, y) - losses.loss(task, Zm, y)) / (2 * h)
        assert g[idx] == pytest.approx(fd, rel=1e-7, abs=1e-10)
