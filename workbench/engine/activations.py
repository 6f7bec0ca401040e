"""Hidden-unit activation functions g and their derivatives g', in place.

A hidden layer computes ``H = g(A)`` with ``A = X W + b`` (one row per sample,
the notes' ``A = XW`` convention).  Every activation here offers three in-place
operations on NumPy arrays:

``forward(z, out)``
    ``out = g(z)``; ``out`` may be ``z`` itself.
``derivative(z, out)``
    ``out = g'(z)`` (the derivative with respect to the pre-activation ``z``).
``backward(a, g, scratch)``
    ``g *= g'(z)`` computed from the *output* ``a = g(z)`` only, so the network
    can overwrite ``z`` with ``a`` and keep one buffer per layer (seed 001:
    ``g <- g ⊙ f'(a^(k))``).  ``scratch`` is a buffer shaped like ``a``.

The functions (with ``g'`` written from the output ``a`` where that is exact):

=========== ======================================== =====================================
name        g(z)                                     g'(z)
=========== ======================================== =====================================
identity    z                                        1
relu        max(0, z)                                1 if z > 0 else 0      (= [a > 0])
leaky_relu  max(z, 0.01 z)                           1 if z > 0 else 0.01   (= [a > 0])
elu         z if z > 0 else exp(z) - 1  (alpha = 1)  1 if z > 0 else exp(z) (= min(a, 0) + 1)
tanh        tanh(z)                                  1 - tanh(z)^2          (= 1 - a^2)
sigmoid     1 / (1 + exp(-z)) = (1 + tanh(z/2)) / 2  s(z)(1 - s(z))         (= a (1 - a))
softplus    log1p(exp(-|z|)) + max(z, 0)             s(z)                   (= -expm1(-a))
hard_tanh   max(-1, min(1, z))                       1 if |z| < 1 else 0    (= [|a| < 1])
=========== ======================================== =====================================

The sigmoid is evaluated as ``(1 + tanh(z/2)) / 2``, which never overflows; the
softplus as ``log1p(exp(-|z|)) + max(z, 0)`` (seed 001: softplus zeta), which
never overflows either.  At a kink (``z = 0`` for relu/leaky_relu, ``|z| = 1``
for hard_tanh) the derivative used is the one-sided value given in the table.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

ACTIVATION_NAMES = ("identity", "relu", "leaky_relu", "elu", "tanh", "sigmoid", "softplus", "hard_tanh")

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0


class Activation(NamedTuple):
    """One activation: ``forward(z, out)``, ``derivative(z, out)``, ``backward(a, g, scratch)``."""

    name: str
    forward: Callable[[np.ndarray, np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


# --------------------------------------------------------------------------- identity
def _identity_forward(z, out):
    if out is not z:
        np.copyto(out, z)
    return out


def _identity_derivative(z, out):
    out.fill(1.0)
    return out


def _identity_backward(a, g, scratch):
    return g


# --------------------------------------------------------------------------- relu
_ZERO_ROWS: dict = {}


def _zero_row(z) -> np.ndarray:
    """A cached (1, width) row of zeros: ``np.maximum`` against an array broadcast row is
    about 3x faster than against the Python scalar 0.0 (NumPy 2's scalar path)."""
    key = (z.shape[-1], z.dtype)
    row = _ZERO_ROWS.get(key)
    if row is None:
        row = _ZERO_ROWS[key] = np.zeros((1, z.shape[-1]), z.dtype)
        row.flags.writeable = False
    return row


def _relu_forward(z, out):
    if z.ndim == 2:
        return np.maximum(z, _zero_row(z), out=out)
    return np.maximum(z, 0.0, out=out)


def _relu_derivative(z, out):
    return np.greater(z, 0.0, out=out, casting="unsafe")


def _relu_backward(a, g, scratch):
    np.greater(a, 0.0, out=scratch, casting="unsafe")
    return np.multiply(g, scratch, out=g)


# --------------------------------------------------------------------------- leaky relu
def _leaky_forward(z, out):
    # max(z, 0.01 z): equals z for z >= 0 and 0.01 z for z < 0.
    return np.maximum(z, z * LEAKY_SLOPE, out=out)


def _leaky_derivative(z, out):
    np.greater(z, 0.0, out=out, casting="unsafe")
    out *= 1.0 - LEAKY_SLOPE
    out += LEAKY_SLOPE
    return out


def _leaky_backward(a, g, scratch):
    np.greater(a, 0.0, out=scratch, casting="unsafe")
    scratch *= 1.0 - LEAKY_SLOPE
    scratch += LEAKY_SLOPE
    return np.multiply(g, scratch, out=g)


# --------------------------------------------------------------------------- elu
def _elu_forward(z, out):
    # For z <= 0, exp(z) - 1 >= z, so max(z, expm1(min(z, 0))) is the ELU.
    t = np.minimum(z, 0.0)
    np.expm1(t, out=t)
    return np.maximum(z, t, out=out)


def _elu_derivative(z, out):
    # 1 for z > 0, exp(z) for z <= 0  ==  exp(min(z, 0)) except at z == 0 (kink: 1 either way)
    np.minimum(z, 0.0, out=out)
    return np.exp(out, out=out)


def _elu_backward(a, g, scratch):
    np.minimum(a, 0.0, out=scratch)
    scratch += 1.0
    return np.multiply(g, scratch, out=g)


# --------------------------------------------------------------------------- tanh
def _tanh_forward(z, out):
    return np.tanh(z, out=out)


def _tanh_derivative(z, out):
    np.tanh(z, out=out)
    np.square(out, out=out)
    return np.subtract(1.0, out, out=out)


def _tanh_backward(a, g, scratch):
    np.square(a, out=scratch)
    np.subtract(1.0, scratch, out=scratch)
    return np.multiply(g, scratch, out=g)


# --------------------------------------------------------------------------- sigmoid
def sigmoid(z, out=None):
    """Logistic sigmoid ``s(z) = 1/(1+exp(-z)) = (1 + tanh(z/2))/2`` (overflow-free)."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _sigmoid_forward(z, out):
    return sigmoid(z, out)


def _sigmoid_derivative(z, out):
    sigmoid(z, out)
    # s (1 - s) = s - s^2
    return np.multiply(out, np.subtract(1.0, out), out=out)


def _sigmoid_backward(a, g, scratch):
    np.subtract(1.0, a, out=scratch)
    scratch *= a
    return np.multiply(g, scratch, out=g)


# --------------------------------------------------------------------------- softplus
def softplus(z, out=None):
    """``zeta(z) = log(1 + exp(z)) = log1p(exp(-|z|)) + max(z, 0)`` (overflow-free)."""
    t = np.abs(z)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    out = np.maximum(z, 0.0, out=out)
    out += t
    return out


def _softplus_forward(z, out):
    return softplus(z, out)


def _softplus_derivative(z, out):
    return sigmoid(z, out)


def _softplus_backward(a, g, scratch):
    # a = log(1 + e^z)  =>  e^{-a} = 1/(1+e^z)  =>  s(z) = 1 - e^{-a} = -expm1(-a)
    np.negative(a, out=scratch)
    np.expm1(scratch, out=scratch)
    np.negative(scratch, out=scratch)
    return np.multiply(g, scratch, out=g)


# --------------------------------------------------------------------------- hard tanh
def _hard_tanh_forward(z, out):
    return np.clip(z, -1.0, 1.0, out=out)


def _hard_tanh_derivative(z, out):
    np.abs(z, out=out)
    return np.less(out, 1.0, out=out, casting="unsafe")


def _hard_tanh_backward(a, g, scratch):
    np.abs(a, out=scratch)
    np.less(scratch, 1.0, out=scratch, casting="unsafe")
    return np.multiply(g, scratch, out=g)


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation("identity", _identity_forward, _identity_derivative, _identity_backward),
    "relu": Activation("relu", _relu_forward, _relu_derivative, _relu_backward),
    "leaky_relu": Activation("leaky_relu", _leaky_forward, _leaky_derivative, _leaky_backward),
    "elu": Activation("elu", _elu_forward, _elu_derivative, _elu_backward),
    "tanh": Activation("tanh", _tanh_forward, _tanh_derivative, _tanh_backward),
    "sigmoid": Activation("sigmoid", _sigmoid_forward, _sigmoid_derivative, _sigmoid_backward),
    "softplus": Activation("softplus", _softplus_forward, _softplus_derivative, _softplus_backward),
    "hard_tanh": Activation("hard_tanh", _hard_tanh_forward, _hard_tanh_derivative, _hard_tanh_backward),
}
assert tuple(ACTIVATIONS) == ACTIVATION_NAMES


def get(name: str) -> Activation:
    """The :class:`Activation` called ``name``; ``ValueError`` naming the choices otherwise."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"activation: must be one of {', '.join(ACTIVATION_NAMES)}, got {name!r}") from None


def forward(name: str, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``g(z)`` for the activation ``name``, written into ``out`` (new array if None)."""
    z = np.asarray(z)
    if out is None:
        out = np.empty_like(z, dtype=np.result_type(z.dtype, np.float32))
    return get(name).forward(z, out)


def derivative(name: str, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``g'(z)`` for the activation ``name``, written into ``out`` (new array if None)."""
    z = np.asarray(z)
    if out is None:
        out = np.empty_like(z, dtype=np.result_type(z.dtype, np.float32))
    return get(name).derivative(z, out)
