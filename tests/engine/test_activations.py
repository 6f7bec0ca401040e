"""Activation functions: hand values, derivatives vs finite differences, in-place use."""

import math
import warnings

import numpy as np
import pytest

from workbench import spec
from workbench.engine import activations as act

# points at least 0.05 away from every kink (0 for relu/leaky/elu, ±1 for hard_tanh)
Z = np.array([-3.0, -1.3, -0.9, -0.4, -0.05, 0.05, 0.3, 0.8, 1.2, 2.5])


def test_activation_names_match_the_spec():
    assert act.ACTIVATION_NAMES == spec.ACTIVATIONS
    assert tuple(act.ACTIVATIONS) == spec.ACTIVATIONS


@pytest.mark.parametrize(
    "name, z, expected",
    [
        ("identity", [-2.0, 0.0, 3.0], [-2.0, 0.0, 3.0]),
        ("relu", [-2.0, 0.0, 3.0], [0.0, 0.0, 3.0]),
        ("leaky_relu", [-2.0, 0.0, 3.0], [-0.02, 0.0, 3.0]),
        ("elu", [-1.0, 0.0, 2.0], [math.exp(-1) - 1, 0.0, 2.0]),
        ("tanh", [-0.5, 0.0, 0.5], [-0.46211715726000974, 0.0, 0.46211715726000974]),
        ("sigmoid", [-2.0, 0.0, 2.0], [0.11920292202211755, 0.5, 0.8807970779778823]),
        ("softplus", [-1.0, 0.0, 1.0], [0.31326168751822286, math.log(2.0), 1.3132616875182228]),
        ("hard_tanh", [-3.0, -0.5, 0.25, 2.0], [-1.0, -0.5, 0.25, 1.0]),
    ],
)
def test_activation_hand_values(name, z, expected):
    out = act.forward(name, np.array(z))
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "name, z, expected",
    [
        ("identity", [-2.0, 3.0], [1.0, 1.0]),
        ("relu", [-2.0, 0.0, 3.0], [0.0, 0.0, 1.0]),
        ("leaky_relu", [-2.0, 3.0], [0.01, 1.0]),
        ("elu", [-1.0, 2.0], [math.exp(-1), 1.0]),
        ("tanh", [0.0, 0.5], [1.0, 1 - 0.46211715726000974**2]),
        ("sigmoid", [0.0, 2.0], [0.25, 0.8807970779778823 * 0.11920292202211755]),
        ("softplus", [0.0, 2.0], [0.5, 0.8807970779778823]),
        ("hard_tanh", [-3.0, -0.5, 2.0], [0.0, 1.0, 0.0]),
    ],
)
def test_activation_derivative_hand_values(name, z, expected):
    np.testing.assert_allclose(act.derivative(name, np.array(z)), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", act.ACTIVATION_NAMES)
def test_activation_derivative_matches_finite_differences(name):
    h = 1e-6
    fd = (act.forward(name, Z + h) - act.forward(name, Z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(name, Z), fd, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", act.ACTIVATION_NAMES)
def test_activation_backward_from_output_equals_derivative_times_upstream(name):
    a = act.forward(name, Z)
    upstream = np.linspace(-2.0, 3.0, Z.size)
    g = upstream.copy()
    out = act.get(name).backward(a, g, np.empty_like(a))
    np.testing.assert_allclose(out, upstream * act.derivative(name, Z), rtol=1e-12, atol=1e-15)
    if name != "identity":
        assert out is g  # in place


@pytest.mark.parametrize("name", act.ACTIVATION_NAMES)
def test_activation_forward_in_place_and_float32(name):
    z = Z.astype(np.float32).reshape(2, 5)
    expected = act.forward(name, Z).reshape(2, 5)
    buf = z.copy()
    result = act.get(name).forward(buf, buf)
    assert result.dtype == np.float32
    np.testing.assert_allclose(buf, expected, rtol=2e-6, atol=1e-7)


def test_activation_extremes_do_not_overflow_or_warn():
    z = np.array([-1000.0, -50.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            np.testing.assert_allclose(act.forward("sigmoid", z), [0.0, 0.0, 1.0, 1.0], atol=1e-21)
            np.testing.assert_allclose(act.forward("softplus", z), [0.0, math.exp(-50), 50.0, 1000.0], rtol=1e-12)
            np.testing.assert_allclose(act.forward("elu", z), [-1.0, -1.0, 50.0, 1000.0])
            np.testing.assert_allclose(act.derivative("softplus", z), [0.0, 0.0, 1.0, 1.0], atol=1e-21)
            z32 = z.astype(np.float32)
            assert np.isfinite(act.forward("softplus", z32)).all()
            assert np.isfinite(act.forward("sigmoid", z32)).all()


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="activation: must be one of .* got 'swish'"):
        act.get("swish")
