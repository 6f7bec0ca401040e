"""Look inside the network: layer health, initialisation spread, errors (NumPy only).

Notation of the network (seed 001) and of the initialisation discussion (seed 004)::

    H^(0) = X,   A^(l) = H^(l-1) W^(l) + b^(l),   H^(l) = g_l(A^(l))   (l = 1 .. L-1)
    A^(L)        the output layer's pre-activation (the logits)

``W^(l)`` has shape ``(d_in, d_out)`` (``d_in`` = fan-in, ``d_out`` = fan-out).  Seed 004:
with inputs of variance ``gamma^2`` and weights of variance ``sigma^2``,
``Var[w_i^T x] = d_in sigma^2 gamma^2``, so the spread of ``A^(l)`` (and of ``H^(l)``)
from layer to layer shows whether an initialiser keeps the signal alive; with all-zero
weights every hidden unit computes the same thing (the symmetry problem).

Everything here *reads* a network and returns plain frozen dataclasses of Python floats
and small NumPy arrays (copies, made read-only), cheap to hand to another thread.
Nothing changes the network's parameters, gradients or random streams: a run with
diagnostics is bit-identical to one without.

Layer health (:func:`health_snapshot`) on a fixed evaluation batch of at most
:data:`EVAL_BATCH_ROWS` rows (:func:`choose_eval_batch`), per layer ``l = 1 .. L``:

* activations ``H^(l)`` of the deterministic test-time pass (no dropout masks; the
  ``classic`` method's ``(1 - p)`` scaling is applied as at test time) -- for the output
  layer the logits ``A^(L)``: mean, std, a histogram of :data:`HIST_BINS` bins on fixed
  edges per activation (:func:`activation_range`), saturation and dead-unit fractions
  (:data:`SATURATION_RULE`, :data:`DEAD_RULE`), and whether all units are identical;
* ``W^(l)`` and ``b^(l)``: mean, std, min, max, Frobenius norm, histogram;
* ``||dJ/dW^(l)||_F`` and ``||dJ/db^(l)||_2`` of the *data* loss ``J`` of the batch
  (:meth:`Network.loss_and_grad` without dropout masks and without the L1/L2 penalty);
  the network's gradient buffer is restored afterwards;
* the update-to-weight ratio of one optimizer step (:class:`UpdateProbe`)::

      r_W^(l) = ||W_t^(l) - W_{t-1}^(l)||_F / ||W_{t-1}^(l)||_F

  (the form of Karpathy's CS231n guide, "somewhere around 1e-3"; his later
  ``log10(std(dW)/std(W))`` variant, aimed at about -3, is not used: it ignores a change
  of the weights' mean and divides by zero for any constant layer, and the window can
  take log10 of the ratio itself).  ``0/0`` gives NaN, ``x/0`` infinity.

Cost is bounded: at most :data:`EVAL_BATCH_ROWS` rows, :data:`HIST_BINS` bins, robust
ranges from at most :data:`QUANTILE_SAMPLE` entries.  :class:`HealthMonitor` packages the
batch, the probe and a rate limit (:data:`MIN_INTERVAL`, :data:`BUDGET`) for the trainer.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

import numpy as np

from . import activations as _act
from .initializers import initialize as _initialize
from .rate_limit import RateLimit

# ----------------------------------------------------------------------------- constants
EVAL_BATCH_ROWS = 512
"""Most rows of the fixed evaluation batch (one forward and one backward pass per snapshot)."""

EVAL_BATCH_STREAM = 7
"""The evaluation batch is drawn from ``SeedSequence([seed, EVAL_BATCH_STREAM])``, a stream
of its own: choosing it never shifts the trainer's shuffling, dropout or noise streams."""

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

MIN_INTERVAL = 0.5
""":class:`HealthMonitor`: at least this many seconds of training between two snapshots."""

BUDGET = 0.05
""":class:`HealthMonitor`: the snapshots may use at most this fraction of the run's wall time."""

DEFAULT_INITIALIZERS = ("he_normal", "xavier_uniform", "pytorch_default", "zeros")
"""The initialisers :func:`init_spread` compares by default (seed 004's list plus the trap)."""


# ----------------------------------------------------------------------------- records
def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


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


@dataclass(frozen=True, eq=False)
class LayerHealth:
    """Layer ``l`` (1-based, ``W^(l)``): ``name`` "hidden l" or "output", ``activation``
    (``g_l``'s name, or "logits" for the output layer, whose statistics are of ``A^(L)``),
    ``units`` = ``d_out``, ``fan_in`` = ``d_in``.  Gradient norms are of the data loss on the
    evaluation batch; ``update_ratio`` is ``r_W^(l)`` (None without a previous step),
    ``update_ratio_bias`` the same for ``b^(l)``."""

    index: int
    name: str
    activation: str
    units: int
    fan_in: int
    activations: ActivationStats
    weights: ParamStats
    biases: ParamStats
    grad_weight_norm: float
    grad_bias_norm: float
    update_ratio: Optional[float]
    update_ratio_bias: Optional[float]


@dataclass(frozen=True, eq=False)
class HealthSnapshot:
    """All layers after ``epoch`` (0: before training).  ``loss`` is the data loss ``J``
    of the evaluation batch (training-mode pass without dropout), ``rows`` its size,
    ``seconds`` what the snapshot took."""

    epoch: int
    layers: tuple[LayerHealth, ...]
    loss: float
    rows: int
    seconds: float


@dataclass(frozen=True, eq=False)
class UpdateRatios:
    """Per layer ``r_W^(l)`` (``weights``) and the same ratio for ``b^(l)`` (``biases``)."""

    weights: tuple[float, ...]
    biases: tuple[float, ...]


@dataclass(frozen=True, eq=False)
class InitSpread:
    """:func:`init_spread`'s answer: ``stats[label]`` holds one :class:`ActivationStats`
    per layer (``layer_names``; the last is the output's logits ``A^(L)``)."""

    labels: tuple[str, ...]
    layer_names: tuple[str, ...]
    activations: tuple[str, ...]
    stats: dict
    rows: int

    def std_table(self) -> np.ndarray:
        """``(len(labels), len(layer_names))`` array of the activations' std."""
        return np.array([[s.std for s in self.stats[k]] for k in self.labels])


@dataclass(frozen=True, eq=False)
class SplitErrors:
    """:func:`split_errors`'s answer for one split of ``n`` rows.  Classification:
    ``confusion`` (``K x K`` int64, rows = true class, columns = predicted) and
    ``accuracy``.  Regression: ``predictions`` ``yhat`` and ``residuals`` ``y - yhat``
    (both ``(n, k)``) and ``rmse = sqrt(mean residual^2)``."""

    task: str
    n: int
    confusion: Optional[np.ndarray] = None
    accuracy: Optional[float] = None
    predictions: Optional[np.ndarray] = None
    residuals: Optional[np.ndarray] = None
    rmse: Optional[float] = None


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
    return Histogram(_frozen(edges), _frozen(counts.astype(np.int64, copy=False)), below, above, nonfinite)


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


def _norm(v: np.ndarray) -> float:
    """``||v||_2`` accumulated in float64."""
    v = v.reshape(-1)
    if v.dtype != np.float64:
        v = v.astype(np.float64)
    return math.sqrt(float(np.einsum("i,i->", v, v)))


# ----------------------------------------------------------------------------- forward pass
def _layer_kinds(network) -> tuple[str, ...]:
    return tuple(h.activation for h in network.hidden) + ("logits",)


def eval_activations(network, X) -> list[np.ndarray]:
    """``[H^(1), ..., H^(L-1), A^(L)]`` of the deterministic test-time pass, in the
    network's dtype (new arrays): no dropout masks; with ``dropout_method == "classic"``
    the values leaving a position with rate ``p`` are scaled by ``(1 - p)`` as at test
    time (for ``mc`` this is the pass without masks, not the average of masked passes)."""
    dt = network.dtype
    X = np.asarray(X, dtype=dt)
    if X.ndim != 2 or X.shape[1] != network.n_inputs:
        raise ValueError(f"X: expected shape (n, {network.n_inputs}), got {X.shape}")
    rates = (network.input_dropout, *(float(h.dropout) for h in network.hidden))
    classic = network.dropout_method == "classic"
    L = len(network.weights)
    out = []
    inp = X * (1.0 - rates[0]) if classic and rates[0] > 0.0 else X
    for l in range(L):
        A = np.dot(inp, network.weights[l])
        A += network.biases[l]
        if l < L - 1:
            _act.get(network.hidden[l].activation).forward(A, A)
            p = rates[l + 1]
            inp = A * (1.0 - p) if classic and p > 0.0 else A
        out.append(A)
    return out


def _forward_plain(X, weights, biases, kinds) -> list[np.ndarray]:
    out = []
    inp = X
    for l, (W, b) in enumerate(zip(weights, biases)):
        A = np.dot(inp, W)
        A += b
        if kinds[l] != "logits":
            _act.get(kinds[l]).forward(A, A)
        out.append(A)
        inp = A
    return out


# ----------------------------------------------------------------------------- evaluation batch
def _class_labels(y: np.ndarray) -> Optional[np.ndarray]:
    """Integer class labels of ``y`` when it looks like classification targets (1-D
    integers, or 1-D / ``(n, 1)`` values that are all 0 or 1), else None."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        return None
    if np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_):
        return y.astype(np.int64, copy=False)
    if np.issubdtype(y.dtype, np.floating) and y.size and np.all((y == 0) | (y == 1)):
        return y.astype(np.int64)
    return None


def _stream(seed, key: int) -> np.random.SeedSequence:
    """The stream ``key`` of ``seed`` (an int, a sequence of ints or a SeedSequence),
    without spawning from (and so changing) a SeedSequence the caller holds."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, key))
    return np.random.SeedSequence([*np.atleast_1d(np.asarray(seed, dtype=np.int64)).tolist(), key])


def eval_batch_indices(y, n: int, seed=0, max_rows: int = EVAL_BATCH_ROWS) -> np.ndarray:
    """Sorted row indices of the evaluation batch (see :func:`choose_eval_batch`)."""
    if max_rows < 1:
        raise ValueError(f"max_rows: must be >= 1, got {max_rows}")
    if n <= max_rows:
        return np.arange(n)
    rng = np.random.default_rng(_stream(seed, EVAL_BATCH_STREAM))
    labels = None if y is None else _class_labels(y)
    if labels is None:
        return np.sort(rng.choice(n, max_rows, replace=False))
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    # proportional allocation, largest remainder first (ties: the smaller class index)
    share = counts * (max_rows / n)
    take = np.floor(share).astype(np.int64)
    rest = max_rows - int(take.sum())
    order = np.argsort(-(share - take), kind="stable")
    take[order[:rest]] += 1
    picked = [rng.choice(np.flatnonzero(inverse == k), int(take[k]), replace=False) for k in range(len(classes))]
    return np.sort(np.concatenate(picked))


def choose_eval_batch(X, y, seed=0, *, max_rows: int = EVAL_BATCH_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """The fixed evaluation batch: copies of at most ``max_rows`` rows of ``(X, y)``.

    All rows when there are no more; else a seeded subset (stream
    :data:`EVAL_BATCH_STREAM` of ``seed``), stratified by class when ``y`` holds class
    labels (each class gets ``round(max_rows * n_c / n)`` rows by largest remainder, so the
    batch has the split's class proportions), uniform for regression targets.  Rows keep
    their original order.  Choose it once per run: every snapshot then sees the same batch."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"y: expected {X.shape[0]} rows, got shape {y.shape}")
    idx = eval_batch_indices(y, X.shape[0], seed, max_rows)
    return np.ascontiguousarray(X[idx]), np.ascontiguousarray(y[idx])


# ----------------------------------------------------------------------------- update ratios
def _ratio(num: float, den: float) -> float:
    if den > 0.0:
        return num / den
    return float("nan") if num == 0.0 else float("inf")


def update_ratios(network, before: np.ndarray, after: Optional[np.ndarray] = None, *, scratch=None) -> UpdateRatios:
    """Per layer ``||W_t - W_{t-1}||_F / ||W_{t-1}||_F`` (and for ``b``) from the flat
    parameter vectors ``before`` (``W_{t-1}``) and ``after`` (default: ``network.params``).
    ``scratch``: an optional preallocated array shaped like ``params`` for the difference."""
    after = network.params if after is None else after
    if before.shape != after.shape or before.shape != network.params.shape:
        raise ValueError(f"params: expected shape {network.params.shape}, got {before.shape} and {after.shape}")
    diff = np.subtract(after, before, out=scratch)
    rw, rb = [], []
    for ws, bs in layer_slices(network):
        rw.append(_ratio(_norm(diff[ws]), _norm(before[ws])))
        rb.append(_ratio(_norm(diff[bs]), _norm(before[bs])))
    return UpdateRatios(tuple(rw), tuple(rb))


class UpdateProbe:
    """The update-to-weight ratio of one optimizer step, at the rate the caller chooses::

        probe = UpdateProbe(network)         # preallocates two parameter-sized buffers
        probe.before(network.params)         # right before opt.step(...)
        opt.step(network.params, network.grads, lr)
        ratios = probe.after(network.params) # UpdateRatios; r_W^(l) per layer

    ``before`` copies the flat vector into the preallocated buffer (one ``np.copyto``);
    ``after`` computes the per-layer norms from the layer slices.  ``previous`` is that
    copy (read it, do not keep it: the next ``before`` overwrites it); ``armed`` says a
    ``before`` has not been consumed by ``after`` / :meth:`disarm` yet."""

    def __init__(self, network):
        self.network = network
        self._prev = np.empty_like(network.params)
        self._diff = np.empty_like(network.params)
        self.armed = False

    @property
    def previous(self) -> Optional[np.ndarray]:
        return self._prev if self.armed else None

    def before(self, params: Optional[np.ndarray] = None) -> None:
        np.copyto(self._prev, self.network.params if params is None else params)
        self.armed = True

    def after(self, params: Optional[np.ndarray] = None) -> UpdateRatios:
        if not self.armed:
            raise RuntimeError("UpdateProbe.after without before")
        self.armed = False
        return update_ratios(self.network, self._prev, params, scratch=self._diff)

    def disarm(self) -> None:
        self.armed = False


# ----------------------------------------------------------------------------- snapshot
def health_snapshot(
    network,
    X_eval,
    y_eval,
    *,
    prev_params: Optional[np.ndarray] = None,
    epoch: int = 0,
    grads_buffer: Optional[np.ndarray] = None,
) -> HealthSnapshot:
    """Layer health of ``network`` on the evaluation batch ``(X_eval, y_eval)``.

    ``prev_params``: the flat parameters right before the last optimizer step (e.g.
    :attr:`UpdateProbe.previous`); with it each layer's update ratio is
    ``||W_t - W_{t-1}||_F / ||W_{t-1}||_F``, without it None.  ``grads_buffer``: an optional
    preallocated copy target for ``network.grads`` (saved before the backward pass on the
    batch and restored after, so the training state is untouched).  At most
    :data:`EVAL_BATCH_ROWS` rows are used (the first ones; pass :func:`choose_eval_batch`)."""
    with np.errstate(all="ignore"):  # a diverged network is reported, never warned about
        return _health_snapshot(network, X_eval, y_eval, prev_params, epoch, grads_buffer)


def _health_snapshot(network, X_eval, y_eval, prev_params, epoch, grads_buffer) -> HealthSnapshot:
    t0 = time.perf_counter()
    X_eval = np.asarray(X_eval, dtype=network.dtype)
    y_eval = np.asarray(y_eval)
    if X_eval.shape[0] > EVAL_BATCH_ROWS:
        X_eval, y_eval = X_eval[:EVAL_BATCH_ROWS], y_eval[:EVAL_BATCH_ROWS]
    if X_eval.shape[0] == 0:
        raise ValueError("X_eval: no rows")
    values = eval_activations(network, X_eval)

    if grads_buffer is not None:
        np.copyto(grads_buffer, network.grads)
        saved = grads_buffer
    else:
        saved = network.grads.copy()
    try:
        loss = float(network.loss_and_grad(X_eval, y_eval))
        g = network.grads
        slices = layer_slices(network)
        gnorms = [(_norm(g[ws]), _norm(g[bs])) for ws, bs in slices]
    finally:
        np.copyto(network.grads, saved)

    ratios = None
    if prev_params is not None:
        ratios = update_ratios(network, np.asarray(prev_params, dtype=network.dtype))

    kinds = _layer_kinds(network)
    names = layer_names(len(kinds))
    sizes = network.layer_sizes
    layers = []
    for l, kind in enumerate(kinds):
        layers.append(
            LayerHealth(
                index=l + 1,
                name=names[l],
                activation=kind,
                units=int(sizes[l + 1]),
                fan_in=int(sizes[l]),
                activations=activation_stats(kind, values[l]),
                weights=param_stats(network.weights[l]),
                biases=param_stats(network.biases[l]),
                grad_weight_norm=gnorms[l][0],
                grad_bias_norm=gnorms[l][1],
                update_ratio=None if ratios is None else ratios.weights[l],
                update_ratio_bias=None if ratios is None else ratios.biases[l],
            )
        )
    return HealthSnapshot(int(epoch), tuple(layers), loss, int(X_eval.shape[0]), time.perf_counter() - t0)


class HealthMonitor(RateLimit):
    """The evaluation batch, an :class:`UpdateProbe` and a :class:`~.rate_limit.RateLimit`
    (:data:`MIN_INTERVAL`, :data:`BUDGET`), for the trainer.

    ``due()`` is True for the first snapshot and afterwards only when at least
    ``min_interval`` seconds have passed since the previous snapshot ended *and* the
    snapshots so far used at most ``budget`` of the wall time since the monitor was made
    (``min_interval=0, budget=math.inf``: every time it is asked).  Integration::

        health = HealthMonitor(net, data.X_train, data.y_train, seed=cfg.seed)
        ... last step of an epoch:  health.probe.before(net.params); opt.step(...)
        ... after the epoch:        if health.due(): yield health.snapshot(epoch)

    ``clock`` is injectable for tests (no sleeping)."""

    def __init__(
        self,
        network,
        X,
        y,
        *,
        seed=0,
        min_interval: float = MIN_INTERVAL,
        budget: float = BUDGET,
        max_rows: int = EVAL_BATCH_ROWS,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.network = network
        self.X, self.y = choose_eval_batch(X, y, seed, max_rows=max_rows)
        self.probe = UpdateProbe(network)
        self._grads = np.empty_like(network.params)
        super().__init__(min_interval, budget, clock)

    def snapshot(self, epoch: int) -> HealthSnapshot:
        """A :class:`HealthSnapshot` now; the update ratios come from the probe when a
        ``probe.before`` has been taken since the last snapshot (it is consumed)."""
        return self.measured(lambda: self._snapshot(epoch))

    def _snapshot(self, epoch: int) -> HealthSnapshot:
        prev = self.probe.previous
        snap = health_snapshot(self.network, self.X, self.y, prev_params=prev, epoch=epoch, grads_buffer=self._grads)
        self.probe.disarm()
        return snap


# ----------------------------------------------------------------------------- initialisation
InitChoice = Union[str, Sequence[str]]


def current_initializers(network) -> tuple[str, ...]:
    """The network's initialiser per layer: the hidden layers' ``init`` and ``output_init``."""
    return tuple(h.init for h in network.hidden) + (network.output_init,)


def init_spread(
    layer_sizes: Sequence[int],
    activations: Union[str, Sequence[str]],
    X,
    initializers: Sequence[InitChoice] = DEFAULT_INITIALIZERS,
    seed=0,
    *,
    labels: Optional[Sequence[str]] = None,
    max_rows: int = EVAL_BATCH_ROWS,
    dtype=np.float32,
) -> InitSpread:
    """Activation spread per layer at epoch 0 under several initialisers (seed 004).

    ``layer_sizes`` = ``(d, hidden units..., outputs)``; ``activations`` one name per
    hidden layer (or one for all).  Each entry of ``initializers`` is a name (used for
    every layer, the output too) or a tuple of names, one per layer (e.g.
    :func:`current_initializers`); ``labels`` name them (default: the name, or
    "current" for a tuple).  Every entry draws from a fresh ``default_rng(seed)`` layer
    by layer as :meth:`Network.initialize` does, so with ``seed =
    SeedSequence([spec seed, 1])`` the "current" entry has exactly the weights
    ``build.make_network`` starts from, and the named rules share their random numbers.

    The pass is ``H^(l) = g_l(H^(l-1) W^(l) + b^(l))`` without dropout on at most
    ``max_rows`` rows of ``X`` (evenly spaced when there are more).  Per entry and layer
    the answer holds :class:`ActivationStats` (std, mean, saturation, dead units, and
    ``identical_units``: with ``zeros`` every unit of every layer is the same)."""
    sizes = tuple(int(s) for s in layer_sizes)
    L = len(sizes) - 1
    if L < 1:
        raise ValueError(f"layer_sizes: need at least inputs and outputs, got {sizes}")
    acts = (activations,) * (L - 1) if isinstance(activations, str) else tuple(activations)
    if len(acts) != L - 1:
        raise ValueError(f"activations: expected {L - 1} names (one per hidden layer), got {len(acts)}")
    for a in acts:
        _act.get(a)
    kinds = acts + ("logits",)
    X = np.asarray(X, dtype=dtype)
    if X.ndim != 2 or X.shape[1] != sizes[0]:
        raise ValueError(f"X: expected shape (n, {sizes[0]}), got {X.shape}")
    if X.shape[0] > max_rows:
        X = X[np.linspace(0, X.shape[0] - 1, max_rows).round().astype(np.int64)]
    choices = []
    for entry in initializers:
        names = (entry,) * L if isinstance(entry, str) else tuple(entry)
        if len(names) != L:
            raise ValueError(f"initializers: a per-layer entry needs {L} names, got {len(names)}")
        choices.append(names)
    if labels is None:
        labels = tuple(e if isinstance(e, str) else "current" for e in initializers)
    labels = tuple(labels)
    if len(labels) != len(choices) or len(set(labels)) != len(labels):
        raise ValueError("labels: need one distinct label per initializer")
    stats = {}
    with np.errstate(all="ignore"):
        for label, names in zip(labels, choices):
            stats[label] = _spread_of(names, sizes, kinds, X, seed, dtype)
    return InitSpread(labels, layer_names(L), kinds, stats, int(X.shape[0]))


def _spread_of(names, sizes, kinds, X, seed, dtype) -> tuple[ActivationStats, ...]:
    """One :func:`init_spread` entry: draw every layer from a fresh ``default_rng(seed)``
    (layer by layer, ``W`` then ``b``, as :meth:`Network.initialize`), then one pass."""
    rng = np.random.default_rng(seed)
    Ws, bs = [], []
    for l, name in enumerate(names):
        W = np.empty((sizes[l], sizes[l + 1]), dtype)
        b = np.empty(sizes[l + 1], dtype)
        _initialize(name, sizes[l], sizes[l + 1], rng, W, b)
        Ws.append(W)
        bs.append(b)
    values = _forward_plain(X, Ws, bs, kinds)
    return tuple(activation_stats(k, v) for k, v in zip(kinds, values))


# ----------------------------------------------------------------------------- errors
def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as class ``j``
    (``(n_classes, n_classes)`` int64; rows = true class).  Labels must be integers in
    ``[0, n_classes)``."""
    t = np.asarray(y_true).reshape(-1)
    p = np.asarray(y_pred).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_pred: expected {t.shape[0]} labels, got {p.shape[0]}")
    K = int(n_classes)
    if K < 1:
        raise ValueError(f"n_classes: must be >= 1, got {n_classes}")
    t = t.astype(np.int64)
    p = p.astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= K or p.min() < 0 or p.max() >= K):
        raise ValueError(f"labels: must be integers in [0, {K})")
    return np.bincount(t * K + p, minlength=K * K).reshape(K, K)


def residuals(y_true, y_pred) -> np.ndarray:
    """Regression residuals ``e_i = y_i - yhat_i`` (observed minus predicted), shaped
    ``(n, k)`` (a 1-D input is one column), float64."""
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.ndim == 1:
        t = t.reshape(-1, 1)
    if p.ndim == 1:
        p = p.reshape(-1, 1)
    if t.shape != p.shape:
        raise ValueError(f"y_pred: expected shape {t.shape}, got {p.shape}")
    return t - p


def split_errors(network, X, y, task: Optional[str] = None) -> SplitErrors:
    """Errors of ``network``'s test-time predictions on one split ``(X, y)``.

    ``task``: ``binary``, ``multiclass``, ``regression``, ``classification`` (the
    network's classification task) or None (the network's).  Binary: predicted class 1
    where ``P(y=1|x) > 0.5`` (as :meth:`Network.evaluate`), ``K = 2``; multiclass: arg max;
    regression: :func:`residuals`."""
    net_task = network.task
    if task in (None, "classification") and not (task == "classification" and net_task == "regression"):
        task = net_task
    if task != net_task:
        raise ValueError(f"task: the network is {net_task}, got {task!r}")
    X = np.asarray(X)
    y = np.asarray(y)
    n = int(X.shape[0])
    if y.shape[0] != n:
        raise ValueError(f"y: expected {n} rows, got shape {y.shape}")
    if n == 0:
        return SplitErrors(task, 0)
    P = network.predict(X)
    if task == "regression":
        yhat = P.astype(np.float64)
        e = residuals(y, yhat)
        return SplitErrors(
            task, n, predictions=_frozen(yhat.reshape(e.shape)), residuals=_frozen(e),
            rmse=math.sqrt(float(np.mean(e * e))),
        )
    if task == "binary":
        K = 2
        pred = (P.reshape(-1) > 0.5).astype(np.int64)
        true = (y.reshape(-1) > 0.5).astype(np.int64)
    else:
        K = int(network.n_outputs)
        pred = P.argmax(axis=1)
        true = y.reshape(-1).astype(np.int64)
    C = confusion_matrix(true, pred, K)
    return SplitErrors(task, n, confusion=_frozen(C), accuracy=float(np.trace(C)) / n)
