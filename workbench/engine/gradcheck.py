"""Gradient checking: backpropagation against central finite differences.

For every parameter ``theta_j`` of the (float64) network, with the penalised objective
``J~(theta) = J(theta) + l1 ||w||_1 + (l2/2) w^T w`` and ``D(h) = J~(theta + h e_j) -
J~(theta - h e_j)``, the fourth-order central difference::

    g_fd_j = (8 D(eps) - D(2 eps)) / (12 eps)          (truncation error O(eps^4))
    err_j  = |g_bp_j - g_fd_j| / max(|g_bp_j| + |g_fd_j|, floor)

The rounding noise of ``g_fd`` is about ``1e-16 |J| / eps``; with the default
``eps = 1e-6`` that is ~1e-10, which dominates ``err_j`` for parameters whose
gradient is below ~1e-4 (e.g. the first layer of a deep sigmoid net).  A larger
``eps`` (1e-4) makes such checks sharper, as long as ``2 eps`` stays clear of kinks.

The result is ``max_j err_j``.  ``J`` is the training-mode data loss of
:meth:`Network.loss_and_grad` with the dropout ``masks`` held fixed (no rng, so the
objective is deterministic).  Entries whose true gradient is exactly zero (dead ReLU
units, dropped units) give exactly zero differences, hence ``err_j = 0``.  Choose
points away from kinks (ReLU at 0, hard-tanh at ±1, L1 at w = 0).

:func:`check_gradients_per_layer` is the bounded, per-layer version for the window's
"look inside the network": per layer ``l`` the max relative error of a fixed-seed sample
of ``W^(l)`` entries and, separately, of ``b^(l)`` entries, judged against
:data:`GRADCHECK_THRESHOLD`; entries whose differences straddle a kink are detected and
skipped rather than reported as errors.  ``perturb`` / :func:`plant_error` corrupt one
layer's analytic gradient so a test can prove that layer, and only it, turns red.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from . import activations as _act
from . import losses as _losses
from .layer_stats import layer_names, layer_slices
from .regularization import add_penalty


def check_gradients(
    network,
    X,
    y,
    l1: float = 0.0,
    l2: float = 0.0,
    masks=None,
    eps: float = 1e-6,
    *,
    penalty_mask=None,
    floor: float = 1e-8,
) -> float:
    """Max relative error between backprop and central-difference gradients.

    A float32 ``network`` is checked through a float64 copy (its own parameters are
    left unchanged).  ``penalty_mask`` defaults to ``network.weight_mask`` (weights
    only); pass an all-True mask to penalise the biases as well.
    """
    net = network if network.dtype == np.float64 else network.copy(dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    if masks is not None:
        masks = [None if m is None else np.asarray(m, dtype=np.float64) for m in masks]
    mask = net.weight_mask if penalty_mask is None else np.asarray(penalty_mask, bool)
    params = net.params
    saved_grads = net.grads.copy()
    scratch = np.empty_like(params)

    def objective() -> float:
        value = net.loss_and_grad(X, y, masks=masks)
        return value + add_penalty(params, net.grads, mask, l1, l2)

    try:
        objective()
        g_bp = net.grads.copy()
        g_fd = np.empty_like(g_bp)
        for j in range(params.size):
            old = params[j]
            params[j] = old + eps
            p1 = objective()
            params[j] = old - eps
            m1 = objective()
            params[j] = old + 2.0 * eps
            p2 = objective()
            params[j] = old - 2.0 * eps
            m2 = objective()
            params[j] = old
            g_fd[j] = (8.0 * (p1 - m1) - (p2 - m2)) / (12.0 * eps)
    finally:
        np.copyto(net.grads, saved_grads)
    np.abs(g_bp - g_fd, out=scratch)
    denom = np.maximum(np.abs(g_bp) + np.abs(g_fd), floor)
    return float((scratch / denom).max()) if params.size else 0.0


# ============================================================================ per layer
PER_LAYER_EPS = 1e-4
"""Step of :func:`check_gradients_per_layer`.  In float64 the fourth-order difference
has truncation error ``~eps^4 |J^(5)| / 30`` (~1e-17 here) and rounding error
``~u |J~| / eps`` (``u = 2.2e-16``: ~2e-12 for ``|J~| ~ 1``); 1e-4 balances the two far
below :data:`GRADCHECK_THRESHOLD`, while ``2 eps`` is small enough that kinks are rare
(and detected: see :func:`check_gradients_per_layer`)."""

GRADCHECK_THRESHOLD = 1e-6
"""A layer is red when the max relative error of its checked entries exceeds this.
Justification: with float64 and :data:`PER_LAYER_EPS` a correct gradient's relative error
is the rounding error above over ``|g|``, and the noise floor (:data:`NOISE_UNITS`) keeps
gradients too small to resolve from inflating it: measured < 1e-7 on every test
architecture, a margin of 10x or more, while a real bug (a wrong factor, a missing term, a transposed
product) changes entries by 1e-3 .. 1 relative, 1000x over it.  (Float32 central
differences could not do this: their rounding error alone is ~1e-3.)"""

NOISE_UNITS = 8.0
"""Bound of the finite differences' rounding noise ``|g_bp - g_fd|`` of a correct
gradient, in units of ``u |J~| / eps``.  Measured: at most 1.1 units over 2-hidden-layer
nets of every activation and task (64 rows, 200 entries per layer), hence 8."""

MAX_ENTRIES_PER_LAYER = 24
"""Default number of weight entries (and, separately, bias entries) checked per layer."""

_U64 = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class LayerGradCheck:
    """One layer ``l`` (1-based, ``W^(l)``): the max relative error of the checked weight
    and bias entries (0.0 when none were checked), how many were checked of how many,
    and how many sampled entries were skipped because a perturbation of ``± 2 eps``
    moved a pre-activation across a kink (relu/leaky_relu at 0, hard_tanh at ±1) or an
    L1-penalised weight across 0."""

    index: int
    name: str
    weight_error: float
    bias_error: float
    weight_checked: int
    bias_checked: int
    weight_total: int
    bias_total: int
    weight_skipped: int
    bias_skipped: int
    threshold: float = GRADCHECK_THRESHOLD

    @property
    def error(self) -> float:
        return max(self.weight_error, self.bias_error)

    @property
    def weights_ok(self) -> bool:
        return self.weight_error <= self.threshold

    @property
    def biases_ok(self) -> bool:
        return self.bias_error <= self.threshold

    @property
    def passed(self) -> bool:
        return self.weights_ok and self.biases_ok


@dataclass(frozen=True)
class GradCheckReport:
    """:func:`check_gradients_per_layer`'s answer: one :class:`LayerGradCheck` per layer,
    the threshold and step used, the objective ``J~`` at the checked point and the
    absolute floor of the relative error's denominator."""

    layers: tuple[LayerGradCheck, ...]
    threshold: float
    eps: float
    objective: float
    floor: float
    seconds: float

    @property
    def passed(self) -> bool:
        return all(layer.passed for layer in self.layers)

    @property
    def failed_layers(self) -> tuple[int, ...]:
        """1-based indices of the red layers."""
        return tuple(layer.index for layer in self.layers if not layer.passed)

    @property
    def max_error(self) -> float:
        return max((layer.error for layer in self.layers), default=0.0)


def plant_error(layer: int, part: str = "weights", size: float = 1e-3) -> Callable:
    """A ``perturb`` hook for :func:`check_gradients_per_layer` that corrupts the analytic
    gradient of one layer (1-based ``layer``; ``part`` "weights" or "biases") by adding
    ``size * mean|g|`` of that part (at least ``size * 1e-6``) to every entry -- a
    relative error of about ``size`` on typical entries, far above the threshold."""
    if part not in ("weights", "biases"):
        raise ValueError(f"part: must be weights or biases, got {part!r}")

    def perturb(grad_weights, grad_biases):
        g = (grad_weights if part == "weights" else grad_biases)[layer - 1]
        g += size * max(float(np.abs(g).mean()), 1e-6)

    return perturb


def _kink_regime(kind: str, A: np.ndarray):
    """Which side of each kink the pre-activations lie on (None for smooth activations).
    elu counts: its first derivative is continuous but its second jumps at 0, which
    puts an error of order ``eps |g''|`` into the differences."""
    if kind in ("relu", "leaky_relu", "elu"):  # elu: g'' jumps at 0 (from 1 to 0)
        return A > 0.0
    if kind == "hard_tanh":
        return np.abs(A) < 1.0
    return None


class _Evaluator:
    """The training-mode forward pass of a float64 network with fixed masks, and the
    data loss after changing ONE parameter by ``delta``, recomputing only what changes:
    ``W^(l)[i, j] += delta`` adds ``delta H^(l-1)[:, i]`` to column ``j`` of ``A^(l)``
    (``b^(l)[j]``: ``delta``); that column's new activation changes ``A^(l+1)`` by the
    rank-one term ``dH[:, j] W^(l+1)[j, :]``; later layers are recomputed in full."""

    def __init__(self, net, X, y, masks):
        self.net, self.y = net, y
        self.W, self.b = net.weights, net.biases
        self.L = len(self.W)
        self.kinds = [h.activation for h in net.hidden]
        self.fwd = [_act.get(k).forward for k in self.kinds]
        self.masks = list(masks) if masks is not None else [None] * self.L
        self.ins, self.A = [], []
        inp = X if self.masks[0] is None else X * self.masks[0]
        for l in range(self.L):
            self.ins.append(inp)
            A = inp @ self.W[l] + self.b[l]
            self.A.append(A)
            if l < self.L - 1:
                H = self.fwd[l](A, np.empty_like(A))
                m = self.masks[l + 1]
                inp = H if m is None else H * m
        self.regime = [_kink_regime(k, a) for k, a in zip(self.kinds, self.A)]

    def loss_after(self, l: int, i: Optional[int], j: int, delta: float) -> tuple[float, bool]:
        """``(J, crossed)`` with ``W^(l)[i, j]`` (``i`` None: ``b^(l)[j]``) moved by ``delta``
        (0-based ``l``); ``crossed``: some pre-activation changed sides of a kink."""
        col = self.A[l][:, j] + (delta if i is None else delta * self.ins[l][:, i])
        last = self.L - 1
        if l == last:
            Z = self.A[l].copy()
            Z[:, j] = col
            return _losses.loss(self.net.task, Z, self.y), False
        crossed = False
        reg = self.regime[l]
        if reg is not None and not np.array_equal(_kink_regime(self.kinds[l], col), reg[:, j]):
            crossed = True
        h = self.fwd[l](col, np.empty_like(col))
        m = self.masks[l + 1]
        if m is not None:
            h *= m[:, j]
        dh = h - self.ins[l + 1][:, j]
        A = self.A[l + 1] + np.outer(dh, self.W[l + 1][j, :])
        for k in range(l + 1, self.L):
            if k == last:
                return _losses.loss(self.net.task, A, self.y), crossed
            reg = self.regime[k]
            if reg is not None and not np.array_equal(_kink_regime(self.kinds[k], A), reg):
                crossed = True
            H = self.fwd[k](A, np.empty_like(A))
            m = self.masks[k + 1]
            A = (H if m is None else H * m) @ self.W[k + 1] + self.b[k + 1]
        raise AssertionError("unreachable")  # pragma: no cover


def check_gradients_per_layer(
    network,
    X,
    y,
    l1: float = 0.0,
    l2: float = 0.0,
    masks=None,
    eps: float = PER_LAYER_EPS,
    max_entries_per_layer: int = MAX_ENTRIES_PER_LAYER,
    *,
    seed: int = 0,
    penalty_mask=None,
    threshold: float = GRADCHECK_THRESHOLD,
    floor: float = 1e-8,
    perturb: Optional[Callable] = None,
) -> GradCheckReport:
    """Backprop vs central differences, layer by layer, on a bounded sample of entries.

    On a float64 copy of ``network`` (its own parameters and gradients are left
    unchanged), with the objective of :func:`check_gradients`
    ``J~ = J + l1 ||w||_1 + (l2/2) w^T w`` (``J``: the training-mode data loss with the
    dropout ``masks`` held fixed; ``penalty_mask`` as there), per layer ``l`` up to
    ``max_entries_per_layer`` entries of ``W^(l)`` and, separately, of ``b^(l)`` are
    drawn without replacement from ``default_rng(seed)`` (all of them when there are no
    more), and for each::

        g_fd_j = (8 D(eps) - D(2 eps)) / (12 eps),   D(h) = J~(theta + h e_j) - J~(theta - h e_j)
        err_j  = |g_bp_j - g_fd_j| / max(|g_bp_j| + |g_fd_j|, floor')

    with ``floor' = max(floor, NOISE_UNITS u |J~| / eps / threshold)``: below that size a
    gradient cannot be resolved to ``threshold`` by the differences, so such entries are
    judged by their absolute error.  A sampled entry whose ``± eps, ± 2 eps`` moves put a
    pre-activation on the other side of a kink is skipped (and another drawn, up to four
    times the quota).  Only the layers from ``l`` on are recomputed per difference (see
    :class:`_Evaluator`), so a 784-256-128-10 net on 32 rows takes a few tens of ms.

    ``perturb(grad_weights, grad_biases)``: a test hook called with per-layer views of
    the analytic gradient (float64, after the penalty) before the comparison, e.g.
    :func:`plant_error`.  Returns a :class:`GradCheckReport`.
    """
    t0 = time.perf_counter()
    net = network.copy(dtype=np.float64)  # always a copy: nothing of `network` is touched
    X = np.asarray(X, dtype=np.float64)
    if masks is not None:
        masks = [None if m is None else np.asarray(m, dtype=np.float64) for m in masks]
    mask = net.weight_mask if penalty_mask is None else np.asarray(penalty_mask, bool)
    params = net.params

    loss = float(net.loss_and_grad(X, y, masks=masks))
    pen = add_penalty(params, net.grads, mask, l1, l2)
    g_bp = net.grads.copy()
    slices = layer_slices(net)
    sizes = net.layer_sizes
    if perturb is not None:
        gW = [g_bp[ws].reshape(sizes[l], sizes[l + 1]) for l, (ws, _) in enumerate(slices)]
        gB = [g_bp[bs] for _, bs in slices]
        perturb(gW, gB)
    objective = loss + pen
    floor_abs = max(float(floor), NOISE_UNITS * _U64 * abs(objective) / eps / threshold)

    ev = _Evaluator(net, X, y, masks)
    rng = np.random.default_rng(seed)
    names = layer_names(len(slices))

    def penalty_diff(j: int, h: float) -> float:
        if not mask[j] or (l1 == 0.0 and l2 == 0.0):
            return 0.0
        w = params[j]
        return l1 * (abs(w + h) - abs(w - h)) + 0.5 * l2 * ((w + h) ** 2 - (w - h) ** 2)

    def check(l: int, base: int, shape_cols: Optional[int], total: int) -> tuple[float, int, int]:
        quota = min(max_entries_per_layer, total)
        if quota <= 0:
            return 0.0, 0, 0
        candidates = rng.choice(total, min(total, 4 * quota), replace=False)
        worst, done, skipped = 0.0, 0, 0
        for flat in candidates:
            if done == quota:
                break
            flat = int(flat)
            i, j = (None, flat) if shape_cols is None else divmod(flat, shape_cols)
            p = base + flat
            if l1 != 0.0 and mask[p] and abs(params[p]) <= 2.0 * eps:
                skipped += 1
                continue
            vals = {}
            crossed = False
            for h in (eps, -eps, 2.0 * eps, -2.0 * eps):
                vals[h], c = ev.loss_after(l, i, j, h)
                crossed |= c
            if crossed:
                skipped += 1
                continue
            d1 = vals[eps] - vals[-eps] + penalty_diff(p, eps)
            d2 = vals[2.0 * eps] - vals[-2.0 * eps] + penalty_diff(p, 2.0 * eps)
            g_fd = (8.0 * d1 - d2) / (12.0 * eps)
            gb = float(g_bp[p])
            err = float(abs(gb - g_fd) / max(abs(gb) + abs(g_fd), floor_abs))
            worst = max(worst, err)
            done += 1
        return worst, done, skipped

    results = []
    for l, (ws, bs) in enumerate(slices):
        fi, fo = sizes[l], sizes[l + 1]
        we, wn, wsk = check(l, ws.start, fo, fi * fo)
        be, bn, bsk = check(l, bs.start, None, fo)
        results.append(LayerGradCheck(l + 1, names[l], we, be, wn, bn, fi * fo, fo, wsk, bsk, threshold))
    return GradCheckReport(tuple(results), threshold, eps, objective, floor_abs, time.perf_counter() - t0)
