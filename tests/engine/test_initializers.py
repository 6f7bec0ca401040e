"""Initialisers: variance/bounds of each rule on a 400x300 matrix, seeding, zeros."""

import math

import numpy as np
import pytest

from workbench import spec
from workbench.engine.initializers import INITIALIZER_NAMES, initialize

FAN_IN, FAN_OUT = 400, 300

# name -> (variance of W, uniform bound or None)
EXPECTED = {
    "pytorch_default": (1 / (3 * FAN_IN), 1 / math.sqrt(FAN_IN)),
    "xavier_normal": (2 / (FAN_IN + FAN_OUT), None),
    "xavier_uniform": (2 / (FAN_IN + FAN_OUT), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "he_normal": (2 / FAN_IN, None),
    "he_uniform": (2 / FAN_IN, math.sqrt(6 / FAN_IN)),
    "lecun_normal": (1 / FAN_IN, None),
}


def _draw(name, seed=0, dtype=np.float64):
    W = np.full((FAN_IN, FAN_OUT), np.nan, dtype)
    b = np.full(FAN_OUT, np.nan, dtype)
    initialize(name, FAN_IN, FAN_OUT, np.random.default_rng(seed), W, b)
    return W, b


def test_initializer_names_match_the_spec():
    assert INITIALIZER_NAMES == spec.INITIALIZERS


@pytest.mark.parametrize("name", list(EXPECTED))
def test_initializer_variance_and_bounds(name):
    var, bound = EXPECTED[name]
    W, b = _draw(name)
    # 120000 draws: the sample variance has relative std sqrt(2/N) ~ 0.4% (normal),
    # less for uniform; the mean has std sqrt(var/N).
    assert W.var() == pytest.approx(var, rel=0.02)
    assert abs(W.mean()) < 5 * math.sqrt(var / W.size)
    if bound is None:
        # normal: about 4.55% of the draws lie beyond 2 std
        assert np.mean(np.abs(W) > 2 * math.sqrt(var)) == pytest.approx(0.0455, abs=0.004)
    else:
        assert np.abs(W).max() <= bound
        assert np.abs(W).max() > 0.999 * bound
        # uniform: flat histogram, a quarter of the draws in each quarter of [-a, a]
        counts, _ = np.histogram(W, bins=4, range=(-bound, bound))
        np.testing.assert_allclose(counts / W.size, 0.25, atol=0.006)
    if name == "pytorch_default":
        assert np.abs(b).max() <= bound
        assert b.var() == pytest.approx(var, rel=0.25)  # only 300 draws
    else:
        np.testing.assert_array_equal(b, 0.0)


def test_pytorch_default_bias_bound_hand_value():
    W, b = _draw("pytorch_default")
    assert np.abs(b).max() <= 0.05 and np.abs(b).max() > 0.045  # 1/sqrt(400) = 0.05


@pytest.mark.parametrize("name", INITIALIZER_NAMES)
def test_initializer_same_seed_same_weights_other_seed_other_weights(name):
    W1, b1 = _draw(name, seed=3)
    W2, b2 = _draw(name, seed=3)
    np.testing.assert_array_equal(W1, W2)
    np.testing.assert_array_equal(b1, b2)
    if name != "zeros":
        W3, _ = _draw(name, seed=4)
        assert not np.array_equal(W1, W3)


def test_zeros_initializer_is_all_zero():
    W, b = _draw("zeros")
    assert not W.any() and not b.any()


def test_float32_output_matches_float64_draws():
    W64, _ = _draw("he_normal", seed=9)
    W32, _ = _draw("he_normal", seed=9, dtype=np.float32)
    assert W32.dtype == np.float32
    np.testing.assert_array_equal(W32, W64.astype(np.float32))


def test_initializer_errors():
    W, b = np.empty((2, 3)), np.empty(3)
    with pytest.raises(ValueError, match="init: must be one of"):
        initialize("orthogonal", 2, 3, np.random.default_rng(0), W, b)
    with pytest.raises(ValueError, match="weight_out: expected shape"):
        initialize("he_uniform", 3, 2, np.random.default_rng(0), W, b)
