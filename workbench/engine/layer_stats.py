"""Statistics of one layer: its values ``H`` on a batch (mean, std, a histogram on stable
edges, saturated and dead units, identical units) and its parameters ``W``, ``b`` (mean,
std, min, max, norm, histogram), and where each layer's parameters sit in the flat vector.

Notation (seed 001): ``H^(l) = g_l(H^(l-1) W^(l) + b^(l))``, ``W^(l)`` of shape
``(d_in, d_out)``.  Everything returns plain frozen dataclasses of Python floats and
small read-only NumPy arrays.  Cost is bounded: :data:`HIST_BINS` bins, robust ranges from
at most :data:`QUANTILE_SAMPLE` entries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .readonly import readonly_copy

HIST_BINS = 32
"""Bins of every histogram (activations, weights, biases)."""

QUANTILE_SAMPLE = 65_536
"""Robust ranges are quantiles of at most this many entries (an evenly strided subset)."""

ROBUST_QUANTILE = 0.99
"""Open-ended histogram ranges end at this quantile (low end: 1 - it), rounded outward
to the 1-2-5 series so the edges stay put from one snapshot to the next."""

TANH_SATURATION = 0.97
"""tanh saturates where ``|h| > 0.97``: there ``g'(a) = 1 - h^2 < 0.059`` (6 % of its peak)."""

SIGMOID_SATURATION = 0.03
"""sigmoid saturates where ``h < 0.03`` or ``h > 0.97``: ``g' = h (1 - h) < 0.0291`` (12 % of its peak 0.25)."""

SLOPE_SATURATION = 0.03
"""elu and softplus saturate on their flat side where ``g'(a) < 0.03``: elu ``h < -0.97``
(``g' = h + 1``), softplus ``h < -log(0.97) = 0.0305`` (``g' = 1 - exp(-h)``)."""

SATURATION_RULE: dict[str, Optional[str]] = {
    "tanh": "|h| > 0.97",
    "sigmoid": "h < 0.03 or h > 0.97",
    "hard_tanh": "|h| = 1 (g' = 0)",
    "elu": "h < -0.97 (g' < 0.03)",
    "softplus": "h < 0.0305 (g' < 0.03)",
    "relu": None,  # its flat side is reported as dead units
    "leaky_relu": None,
    "identity": None,
    "logits": None,
}
"""When one value ``h`` of ``H^(l)`` (one unit on one sample) counts as saturated; None:
the activation has no saturating side, the fractions are None."""

DEAD_RULE: dict[str, Optional[str]] = {
    "relu": "h = 0 on every sample (no gradient reaches its weights)",
    "leaky_relu": "h < 0 on every sample (only the 0.01 slope carries gradient)",
    "elu": "h < 0 on every sample (only the exp(a) < 1 slope carries gradient)",
}
"""When a unit counts as dead on the evaluation batch.  For relu it is truly dead: its
incoming weights get exactly zero gradient from this batch.  leaky_relu and elu never stop
passing gradient, so for them it means "never in the linear regime".  Other activations:
None (use the always-saturated fraction)."""


# ----------------------------------------------------------------------------- records
@dataclass(frozen=True, eq=False)
class Histogram:
    """``counts[k]`` values in ``[edges[k], edges[k+1])`` (the last bin closed), exactly
    ``np.histogram(x.astype(float64), bins=HIST_BINS, range=(edges[0], edges[-1]))``; ``below`` / ``above``
    values lie outside the edges, ``nonfinite`` are NaN or infinite (counted nowhere else)."""

    edges: np.ndarray  # (HIST_BINS + 1,) float64
    counts: np.ndarray  # (HIST_BINS,) int64
    below: int
    above: int
    nonfinite: int

    @property
    def total(self) -> int:
        return int(self.counts.sum()) + self.below + self.above + self.nonfinite


@dataclass(frozen=True, eq=False)
class ActivationStats:
    """Statistics of one layer's values ``H`` (``n`` samples x ``units``) on a batch.

    ``mean``, ``std``: over all ``n * units`` values.  ``saturated_fraction``: share of
    the (unit, sample) values saturated by :data:`SATURATION_RULE`; ``always_saturated_fraction``:
    share of units saturated on every sample.  ``dead_fraction``: share of units dead by
    :data:`DEAD_RULE`.  Each is None where the rule does not apply.  ``identical_units``:
    at least two units and every unit's output equals the first unit's on every sample
    (the zero-initialisation symmetry)."""

    mean: float
    std: float
    hist: Histogram
    saturated_fraction: Optional[float]
    always_saturated_fraction: Optional[float]
    dead_fraction: Optional[float]
    identical_units: bool


@dataclass(frozen=True, eq=False)
class ParamStats:
    """``W^(l)`` or ``b^(l)``: mean, std, min, max over the entries, Frobenius norm
    ``sqrt(sum w^2)`` and a histogram on symmetric edges ``[-m, m]``."""

    mean: float
    std: float
    min: float
    max: float
    norm: float
    hist: Histogram


# ----------------------------------------------------------------------------- layout
def layer_names(n_layers: int) -> tuple[str, ...]:
    """``("hidden 1", ..., "hidden L-1", "output")`` for ``L = n_layers`` dense layers."""
    return tuple(f"hidden {l}" for l in range(1, n_layers)) + ("output",)


def layer_slices(network) -> tuple[tuple[slice, slice], ...]:
    """Per layer the slices of ``W^(l)`` and ``b^(l)`` in the flat ``params`` vector
    (layout ``W^(1), b^(1), W^(2), ...``; checked against the network's views)."""
    sizes = network.layer_sizes
    out = []
    off = 0
    base = network.params.__array_interface__["data"][0]
    item = network.params.itemsize
    for l in range(len(sizes) - 1):
        fi, fo = sizes[l], sizes[l + 1]
        ws = slice(off, off + fi * fo)
        off += fi * fo
        bs = slice(off, off + fo)
        off += fo
        if (network.weights[l].__array_interface__["data"][0] - base) // item != ws.start or (
            network.biases[l].__array_interface__["data"][0] - base
        ) // item != bs.start:
            raise ValueError("network: parameter layout is not W^(1), b^(1), W^(2), ...")
        out.append((ws, bs))
    return tuple(out)


# ----------------------------------------------------------------------------- histograms
def nice_ceil(x: float) -> float:
    """The smallest number of the 1-2-5 series (``{1, 2, 5} x 10^k``) that is ``>= x``;
    1.0 for ``x <= 0`` or a non-finite ``x``."""
    if not (x > 0.0) or not math.isfinite(x):
        return 1.0
    e = math.floor(math.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        v = m * 10.0**e
        if v >= x * (1.0 - 1e-9):
            return v
    return 10.0 ** (e + 1)  # pragma: no cover - unreachable


def _sample(x: np.ndarray) -> np.ndarray:
    v = x.reshape(-1)
    if v.size > QUANTILE_SAMPLE:
        v = v[:: -(-v.size // QUANTILE_SAMPLE)]
    if not np.isfinite(v).all():
        v = v[np.isfinite(v)]
    return v


def _quantiles(x: np.ndarray, qs) -> Optional[np.ndarray]:
    v = _sample(x)
    if v.size == 0:
        return None
    return np.quantile(v, qs)


def activation_range(kind: str, values: np.ndarray) -> tuple[float, float]:
    """Histogram range of ``H`` for the activation ``kind``: fixed where ``g`` is bounded
    (tanh, hard_tanh ``[-1, 1]``; sigmoid ``[0, 1]``), else from the batch: relu and
    softplus ``[0, c(q_hi)]``, elu ``[-1, c(q_hi)]``, leaky_relu / identity / logits
    ``[-c(-q_lo), c(q_hi)]`` (a side with no values of its sign ends at 0), with ``c``
    :func:`nice_ceil` and ``q_lo``, ``q_hi`` the :data:`ROBUST_QUANTILE` quantiles."""
    if kind in ("tanh", "hard_tanh"):
        return -1.0, 1.0
    if kind == "sigmoid":
        return 0.0, 1.0
    q = _quantiles(values, [1.0 - ROBUST_QUANTILE, ROBUST_QUANTILE])
    lo_q, hi_q = (0.0, 1.0) if q is None else (float(q[0]), float(q[1]))
    hi = nice_ceil(hi_q) if hi_q > 0.0 else 0.0
    if kind in ("relu", "softplus"):
        return 0.0, hi if hi > 0.0 else 1.0
    if kind == "elu":
        return -1.0, hi if hi > 0.0 else 1.0
    lo = -nice_ceil(-lo_q) if lo_q < 0.0 else 0.0
    if lo == hi:
        lo, hi = (lo - 1.0, hi + 1.0) if lo == 0.0 else (lo, hi + abs(lo))
    return lo, hi


def symmetric_range(values: np.ndarray) -> tuple[float, float]:
    """``[-m, m]`` with ``m`` = :func:`nice_ceil` of the :data:`ROBUST_QUANTILE` quantile of
    ``|values|`` (``[-1, 1]`` for all-zero values): the range of weight and bias histograms."""
    v = _sample(values)
    if v.size == 0:
        return -1.0, 1.0
    m = nice_ceil(float(np.quantile(np.abs(v), ROBUST_QUANTILE)))
    return -m, m


def _finite64(x) -> tuple[np.ndarray, np.ndarray, int]:
    """``(v, finite_v, nonfinite)``: a flat float64 copy of ``x``, its finite entries
    (``v`` itself when all are finite: the sum decides, so usually no mask is built)
    and how many are NaN or infinite."""
    v = np.asarray(x).reshape(-1).astype(np.float64)
    with np.errstate(all="ignore"):
        if math.isfinite(float(np.add.reduce(v))):
            return v, v, 0
    keep = np.isfinite(v)
    fv = v[keep]
    return v, fv, int(v.size - fv.size)


def _histogram64(fv: np.ndarray, nonfinite: int, lo: float, hi: float, bins: int = HIST_BINS) -> Histogram:
    counts, edges = np.histogram(fv, bins=bins, range=(lo, hi))
    below = int(np.count_nonzero(fv < lo))
    above = int(np.count_nonzero(fv > hi))
    return Histogram(readonly_copy(edges), readonly_copy(counts.astype(np.int64, copy=False)), below, above, nonfinite)


def histogram(x: np.ndarray, lo: float, hi: float, bins: int = HIST_BINS) -> Histogram:
    """:class:`Histogram` of ``x`` (as float64, so the edges are float64 whatever the
    dtype) on ``bins`` equal bins over ``[lo, hi]``."""
    _, fv, nonfinite = _finite64(x)
    return _histogram64(fv, nonfinite, lo, hi, bins)


# ----------------------------------------------------------------------------- statistics
def _moments64(v: np.ndarray) -> tuple[float, float, float]:
    """``(mean, std, sum of squares)`` of the float64 vector ``v``, which is overwritten
    (``v - mean``).  Sums of squares use ``einsum``, not BLAS ``ddot``: on a busy 2-core
    machine a threaded ``ddot`` of a long vector can wait milliseconds for its second
    thread (and a mixed-dtype ``np.dot`` or a ``dtype=`` reduction is several times slower)."""
    n = v.size
    if n == 0:
        return float("nan"), float("nan"), 0.0
    with np.errstate(all="ignore"):  # NaN/inf (a diverged run) give NaN/inf, silently
        mean = float(np.add.reduce(v)) / n
        ss = float(np.einsum("i,i->", v, v))
        v -= mean
        var = float(np.einsum("i,i->", v, v)) / n
    return mean, math.sqrt(var), ss


def _saturated(kind: str, H: np.ndarray) -> Optional[np.ndarray]:
    """Boolean ``H``-shaped array of saturated values, or None without a rule."""
    if kind == "tanh":
        return np.abs(H) > TANH_SATURATION
    if kind == "sigmoid":
        return (H < SIGMOID_SATURATION) | (H > 1.0 - SIGMOID_SATURATION)
    if kind == "hard_tanh":
        return np.abs(H) >= 1.0
    if kind == "elu":
        return H < SLOPE_SATURATION - 1.0
    if kind == "softplus":
        return H < -math.log1p(-SLOPE_SATURATION)
    return None


def _dead_units(kind: str, H: np.ndarray) -> Optional[np.ndarray]:
    """Boolean per-unit array of dead units (:data:`DEAD_RULE`), or None without a rule."""
    if kind == "relu":
        return ~np.any(H > 0.0, axis=0)  # relu outputs are >= 0: dead <=> all zero
    if kind in ("leaky_relu", "elu"):
        return np.all(H < 0.0, axis=0)
    return None


def activation_stats(kind: str, H: np.ndarray) -> ActivationStats:
    """:class:`ActivationStats` of the values ``H`` (``(n, units)``) of an activation ``kind``
    (a name of :data:`activations.ACTIVATION_NAMES` or "logits")."""
    H = np.asarray(H)
    n, units = H.shape
    v, fv, nonfinite = _finite64(H)
    lo, hi = activation_range(kind, fv)
    hist = _histogram64(fv, nonfinite, lo, hi)
    mean, std, _ = _moments64(v)  # last: overwrites v (which may be fv)
    sat = _saturated(kind, H) if n else None
    sat_frac = always = None
    if sat is not None:
        sat_frac = float(np.count_nonzero(sat)) / sat.size
        always = float(np.count_nonzero(sat.all(axis=0))) / units
    dead = _dead_units(kind, H) if n else None
    dead_frac = None if dead is None else float(np.count_nonzero(dead)) / units
    identical = bool(units >= 2 and n > 0 and np.array_equal(H, np.broadcast_to(H[:, :1], H.shape)))
    return ActivationStats(mean, std, hist, sat_frac, always, dead_frac, identical)


def param_stats(w: np.ndarray) -> ParamStats:
    """:class:`ParamStats` of one parameter array."""
    w = np.asarray(w)
    flat = w.reshape(-1)
    v, fv, nonfinite = _finite64(w)
    lo, hi = symmetric_range(fv)
    hist = _histogram64(fv, nonfinite, lo, hi)
    mean, std, ss = _moments64(v)  # last: overwrites v (which may be fv)
    return ParamStats(
        mean,
        std,
        float(flat.min()) if flat.size else float("nan"),
        float(flat.max()) if flat.size else float("nan"),
        math.sqrt(ss),
        hist,
    )
