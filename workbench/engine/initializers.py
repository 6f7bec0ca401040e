"""Weight initialisation (seed 004), written in place into a layer's views.

A layer with ``d_in = fan_in`` inputs and ``d_out = fan_out`` units has
``W`` of shape ``(fan_in, fan_out)`` and bias ``b`` of shape ``(fan_out,)``.

=============== =============================================== ==================
name            W                                               b
=============== =============================================== ==================
zeros           0  (the symmetry trap: every hidden unit stays   0
                the same under gradient descent)
pytorch_default U(-1/sqrt(d_in), 1/sqrt(d_in))                  U(-1/sqrt(d_in), 1/sqrt(d_in))
xavier_normal   N(0, 2/(d_in + d_out))                          0
xavier_uniform  U(-sqrt(6/(d_in + d_out)), +sqrt(6/(d_in+d_out)))  0
he_normal       N(0, 2/d_in)                                    0
he_uniform      U(-sqrt(6/d_in), +sqrt(6/d_in))                 0
lecun_normal    N(0, 1/d_in)                                    0
=============== =============================================== ==================

``N(0, v)`` has variance ``v``; ``U(-a, a)`` has variance ``a^2/3``, so each
uniform rule has the same variance as its normal sibling.  Draws are made in
float64 from the ``numpy.random.Generator`` and then stored in the output's
dtype, so a float32 and a float64 network built from the same seed start from
the same weights (up to float32 rounding).
"""

from __future__ import annotations

import math

import numpy as np

INITIALIZER_NAMES = (
    "zeros",
    "pytorch_default",
    "xavier_normal",
    "xavier_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
)

INITIALIZER_LABELS = {
    "zeros": "zeros",
    "pytorch_default": "PyTorch default",
    "xavier_normal": "Xavier normal",
    "xavier_uniform": "Xavier uniform",
    "he_normal": "He normal",
    "he_uniform": "He uniform",
    "lecun_normal": "LeCun normal",
}
"""How the window names each rule."""


def _uniform(rng: np.random.Generator, bound: float, out: np.ndarray) -> None:
    out[...] = rng.uniform(-bound, bound, size=out.shape)


def _normal(rng: np.random.Generator, std: float, out: np.ndarray) -> None:
    out[...] = rng.normal(0.0, std, size=out.shape)


def initialize(
    name: str,
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator,
    weight_out: np.ndarray,
    bias_out: np.ndarray,
) -> None:
    """Fill ``weight_out`` (``(fan_in, fan_out)``) and ``bias_out`` (``(fan_out,)``)
    in place by the rule ``name`` (see the module table)."""
    if weight_out.shape != (fan_in, fan_out):
        raise ValueError(f"weight_out: expected shape {(fan_in, fan_out)}, got {weight_out.shape}")
    if bias_out.shape != (fan_out,):
        raise ValueError(f"bias_out: expected shape {(fan_out,)}, got {bias_out.shape}")
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"fan_in and fan_out must be >= 1, got {fan_in}, {fan_out}")
    if name == "zeros":
        weight_out.fill(0.0)
        bias_out.fill(0.0)
        return
    if name == "pytorch_default":
        bound = 1.0 / math.sqrt(fan_in)
        _uniform(rng, bound, weight_out)
        _uniform(rng, bound, bias_out)
        return
    if name == "xavier_normal":
        _normal(rng, math.sqrt(2.0 / (fan_in + fan_out)), weight_out)
    elif name == "xavier_uniform":
        _uniform(rng, math.sqrt(6.0 / (fan_in + fan_out)), weight_out)
    elif name == "he_normal":
        _normal(rng, math.sqrt(2.0 / fan_in), weight_out)
    elif name == "he_uniform":
        _uniform(rng, math.sqrt(6.0 / fan_in), weight_out)
    elif name == "lecun_normal":
        _normal(rng, math.sqrt(1.0 / fan_in), weight_out)
    else:
        raise ValueError(f"init: must be one of {', '.join(INITIALIZER_NAMES)}, got {name!r}")
    bias_out.fill(0.0)
