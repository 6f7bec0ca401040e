"""Look inside the network while it trains: the health of every layer (NumPy only).

Notation of the network (seed 001)::

    H^(0) = X,   A^(l) = H^(l-1) W^(l) + b^(l),   H^(l) = g_l(A^(l))   (l = 1 .. L-1)
    A^(L)        the output layer's pre-activation (the logits)

Everything here *reads* a network and returns plain frozen dataclasses of Python floats
and small NumPy arrays (copies, made read-only), cheap to hand to another thread.
Nothing changes the network's parameters, gradients or random streams: a run with
diagnostics is bit-identical to one without.

Layer health (:func:`health_snapshot`) on a fixed evaluation batch of at most
:data:`EVAL_BATCH_ROWS` rows (:func:`~.eval_batch.choose_eval_batch`), per layer ``l = 1 .. L``:

* activations ``H^(l)`` of the deterministic test-time pass (no dropout masks; the
  ``classic`` method's ``(1 - p)`` scaling is applied as at test time) -- for the output
  layer the logits ``A^(L)``: mean, std, a histogram of :data:`HIST_BINS` bins on fixed
  edges per activation (:func:`activation_range`), saturation and dead-unit fractions
  (:data:`SATURATION_RULE`, :data:`DEAD_RULE`), and whether all units are identical
  (:mod:`.layer_stats`);
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

:class:`HealthMonitor` packages the batch, the probe and a rate limit (:data:`MIN_INTERVAL`,
:data:`BUDGET`) for the trainer.

The other pictures of "look inside" have modules of their own, and every name of theirs
imports from here too: :mod:`.layer_stats` (one layer's statistics), :mod:`.eval_batch`
(the evaluation batch), :mod:`.init_spread` (the initialisation comparison, seed 004) and
:mod:`.split_errors` (confusion matrix, residuals).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from . import activations as _act
from .eval_batch import EVAL_BATCH_ROWS, EVAL_BATCH_STREAM, choose_eval_batch, eval_batch_indices  # noqa: F401
from .init_spread import DEFAULT_INITIALIZERS, InitSpread, current_initializers, init_spread  # noqa: F401
from .layer_stats import (  # noqa: F401  (re-exported)
    DEAD_RULE,
    HIST_BINS,
    QUANTILE_SAMPLE,
    ROBUST_QUANTILE,
    SATURATION_RULE,
    SIGMOID_SATURATION,
    SLOPE_SATURATION,
    TANH_SATURATION,
    ActivationStats,
    Histogram,
    ParamStats,
    activation_range,
    activation_stats,
    histogram,
    layer_names,
    layer_slices,
    nice_ceil,
    param_stats,
    symmetric_range,
)
from .rate_limit import RateLimit
from .split_errors import SplitErrors, confusion_matrix, residuals, split_errors  # noqa: F401

MIN_INTERVAL = 0.5
""":class:`HealthMonitor`: at least this many seconds of training between two snapshots."""

BUDGET = 0.05
""":class:`HealthMonitor`: the snapshots may use at most this fraction of the run's wall time."""


# ----------------------------------------------------------------------------- records
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
