"""The learning-rate range test (Smith 2017; fastai's ``lr_find``), as a generator of events.

Choosing eta (seed 004 "Importance of learning rate": too small never gets anywhere,
too large is erratic and diverges; seed 000 figure 5).  Over ``steps`` mini-batch steps
k = 0 .. steps-1 the learning rate grows exponentially,

    eta_k = eta_min (eta_max / eta_min)^(k / (steps - 1)),

and at each step the mini-batch loss l_k is recorded (at the weights *before* the
update with eta_k, as fastai records it), then the optimizer takes its step with eta_k.
The loss is smoothed by an exponential moving average with bias correction
(fastai's ``AvgSmoothLoss``, beta = 0.98)::

    a_k = beta a_{k-1} + (1 - beta) l_k,   a_{-1} = 0,    lbar_k = a_k / (1 - beta^(k+1))

The test stops early when lbar_k > ``diverge_factor`` * min_{j <= k} lbar_j (4, as
fastai's ``LRFinder``; that step is kept) or the loss is not finite (not kept).

The network's parameters are copied before and restored after (also when the caller
stops iterating early); the optimizer's state (moments, step count) is reset for the
test and restored after.  Shuffling, dropout masks and input noise come from
``SeedSequence(seed).spawn(3)`` as in the trainer, so identical arguments give
identical curves.

:func:`range_test_group` runs the test of several members (one network of one
architecture per seed, each with its own initial weights, optimizer hyperparameters and
streams) as ONE lockstep group (:class:`~.lockstep.StackedNetwork`,
:class:`~.group_optimizer.GroupOptimizer`): at step k every member still running records
its loss at eta_k and steps with eta_k, all in one stacked pass; a member whose test
stops (divergence or a non-finite loss, the rule above) is frozen -- stepped with eta = 0
and its block restored -- while the others go on.  Member m's curve is the one
:func:`range_test` gives for ``networks[m]``, ``optimizers[m]`` and ``seeds[m]``: the same
grid, batches, smoothing and stop rule, and (the lockstep's promise, checked by
``tests/engine/test_lr_finder_group.py``) the same float32 bits.  The networks and
optimizers passed in are only read.

Several seeds (each with its own initial weights and shuffling -- the caller builds one
network per seed) give a band: :func:`band` is the mean +- standard deviation of the
smoothed losses on the common grid eta_0 .. eta_{m-1}, m the shortest curve's length.
:func:`suggest` reads three learning rates off a smoothed curve, as fastai's
``fastai/callback/schedule.py`` (``steep``, ``minimum``, ``valley``; ``lr_find`` applies
them to ``lrs[num_it//10:-5]``, as :func:`suggest` does):

``steepest``    eta_i at the most negative slope (lbar_{i+1} - lbar_i) / (ln eta_{i+1} - ln eta_i)
``minimum/10``  eta_i at the minimum of lbar, divided by 10
``valley``      fastai's valley heuristic: the longest strictly decreasing subsequence of
                lbar (found by the O(n^2) dynamic programme lds_i = 1 + max{lds_j : j < i,
                lbar_j > lbar_i}), ending at e and taken to start at s = e - lds_e; the
                suggestion is eta at s + int((e - s)/3) + int((e - s)/6), about halfway
                along it (fastai's exact arithmetic, index clamped to the curve).

Why this module is long: it is one job, the range test from the grid to the suggestions. The
lockstep group's test (:func:`range_test_group`) repeats the solo loop step for step and
sits beside it so that the two stay identical (the tests compare their bits); reading a
curve (:func:`band`, :func:`suggest`) is the short last part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, NamedTuple, Optional, Sequence, Union

import numpy as np

from .group_optimizer import make_group_optimizer
from .lockstep import StackedNetwork
from .readonly import readonly_copy
from .regularization import add_penalty

BETA = 0.98
"""Smoothing of the recorded loss (fastai's ``AvgSmoothLoss`` default)."""
DIVERGE_FACTOR = 4.0
"""Stop once the smoothed loss exceeds this multiple of its minimum (fastai's ``LRFinder``)."""
SKIP_END = 5
"""Points left off the end of a curve before suggesting (fastai's ``lr_find``)."""
SUGGESTIONS = ("steepest", "minimum/10", "valley")


# -------------------------------------------------------------------------------------
# events and results
@dataclass(frozen=True)
class RangeStep:
    """Step ``step`` (0-based k) of the test for ``seed``: learning rate ``lr`` = eta_k,
    the mini-batch loss ``loss`` = l_k and the smoothed ``smoothed`` = lbar_k."""

    seed: int
    step: int
    lr: float
    loss: float
    smoothed: float


@dataclass(frozen=True)
class RangeCurve:
    """One seed's finished test (the last item of :func:`range_test`): ``lrs``,
    ``losses``, ``smoothed`` of the m <= ``steps`` steps run (read-only float64);
    ``stopped_reason`` None when all ``steps`` ran."""

    seed: int
    steps: int
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    stopped_reason: Optional[str] = None

    def __post_init__(self):
        for name in ("lrs", "losses", "smoothed"):
            object.__setattr__(self, name, readonly_copy(getattr(self, name), np.float64))


@dataclass(frozen=True)
class Band:
    """Mean and standard deviation (ddof = 1; 0 for one seed) of the smoothed losses of
    ``n_seeds`` curves on their common learning rates ``lrs``."""

    lrs: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n_seeds: int

    def __post_init__(self):
        for name in ("lrs", "mean", "std"):
            object.__setattr__(self, name, readonly_copy(getattr(self, name), np.float64))


class Suggestion(NamedTuple):
    """A suggested learning rate: ``name`` (one of :data:`SUGGESTIONS`), ``lr`` and a
    one-line ``explanation``."""

    name: str
    lr: float
    explanation: str


@dataclass(frozen=True)
class RangeTestResult:
    """All seeds' curves, their band and the suggestions read off the band's mean."""

    curves: tuple[RangeCurve, ...]
    band: Band
    suggestions: tuple[Suggestion, ...]


# -------------------------------------------------------------------------------------
# formulas
def lr_grid(lr_min: float, lr_max: float, steps: int) -> np.ndarray:
    """eta_k = eta_min (eta_max/eta_min)^(k/(steps-1)), k = 0 .. steps-1 (float64)."""
    lr_min, lr_max, steps = _check_grid(lr_min, lr_max, steps)
    k = np.arange(steps, dtype=np.float64)
    return lr_min * (lr_max / lr_min) ** (k / (steps - 1))


def smooth(losses: Sequence[float], beta: float = BETA) -> np.ndarray:
    """lbar_k = a_k / (1 - beta^(k+1)), a_k = beta a_{k-1} + (1 - beta) l_k, a_{-1} = 0."""
    out = np.empty(len(losses))
    a = 0.0
    for k, loss in enumerate(losses):
        a = beta * a + (1.0 - beta) * float(loss)
        out[k] = a / (1.0 - beta ** (k + 1))
    return out


def _check_grid(lr_min, lr_max, steps) -> tuple[float, float, int]:
    lr_min, lr_max = float(lr_min), float(lr_max)
    if not (math.isfinite(lr_min) and lr_min > 0.0):
        raise ValueError(f"lr_min: must be a finite number > 0, got {lr_min!r}")
    if not (math.isfinite(lr_max) and lr_max > lr_min):
        raise ValueError(f"lr_max: must be a finite number > lr_min ({lr_min:g}), got {lr_max!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
        raise ValueError(f"steps: must be an integer >= 2, got {steps!r}")
    return lr_min, lr_max, int(steps)


# -------------------------------------------------------------------------------------
# the test
def _check_run(lr_min, lr_max, steps, beta, diverge_factor, batch_size, X, y):
    """The checks a range test (solo or group) makes before its first item: the grid,
    beta, the divergence factor, the batch size and the data (ValueError naming the
    argument); returns the grid, beta and the factor as numbers."""
    lr_min, lr_max, steps = _check_grid(lr_min, lr_max, steps)
    beta = float(beta)
    if not (0.0 <= beta < 1.0):
        raise ValueError(f"beta: must be in [0, 1), got {beta!r}")
    diverge_factor = float(diverge_factor)
    if not diverge_factor > 1.0:
        raise ValueError(f"diverge_factor: must be > 1, got {diverge_factor!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size: must be an integer >= 1, got {batch_size!r}")
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"X, y: need the same number (>= 1) of samples, got {len(X)} and {len(y)}")
    return lr_min, lr_max, steps, beta, diverge_factor


def range_test(
    network,
    optimizer,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seed: int,
    *,
    lr_min: float = 1e-6,
    lr_max: float = 10.0,
    steps: int = 100,
    beta: float = BETA,
    diverge_factor: float = DIVERGE_FACTOR,
    l1: float = 0.0,
    l2: float = 0.0,
    penalty_mask: Optional[np.ndarray] = None,
    input_noise: float = 0.0,
) -> Iterator[Union[RangeStep, RangeCurve]]:
    """Run the range test on ``network`` (an engine ``Network``) with ``optimizer`` (an
    engine ``Optimizer`` over ``network.params``) and the training arrays ``X``, ``y``:
    yields a :class:`RangeStep` per step, then one :class:`RangeCurve`.

    Mini-batches of ``batch_size`` (at most n) are drawn epoch after epoch from fresh
    permutations, the last batch of an epoch possibly smaller (as the trainer does);
    ``l1``/``l2`` add the coupled penalties to the gradient on ``penalty_mask``
    (default: the weights), ``input_noise`` sigma adds N(0, sigma^2) to the inputs --
    the recorded loss is the data loss, as the trainer's batch losses.  Arguments are
    validated before the first item (ValueError naming the argument).  The network's
    parameters and the optimizer's state are restored when the generator finishes or is
    closed."""
    lr_min, lr_max, steps, beta, diverge_factor = _check_run(lr_min, lr_max, steps, beta, diverge_factor,
                                                             batch_size, X, y)
    if getattr(optimizer, "n_params", None) != network.n_params:
        raise ValueError("optimizer: must be built for the network's parameters "
                         f"({network.n_params}), got {getattr(optimizer, 'n_params', None)}")
    return _run(network, optimizer, X, y, int(batch_size), int(seed), lr_grid(lr_min, lr_max, steps),
                beta, diverge_factor, float(l1), float(l2), penalty_mask, float(input_noise))


def _save_optimizer(opt) -> tuple[dict, dict]:
    """The optimizer's state: copies of its ``buffers`` (moments, accumulators) and every
    plain scalar attribute (the step count ``t``, the subnormal guard's counters, a rule's
    own running scalars such as NAdam's product of momenta).  Restored by
    :func:`_restore_optimizer`.  (The optimizer has no snapshot API of its own.)"""
    buffers = {name: buf.copy() for name, buf in opt.buffers.items()}
    scalars = {k: v for k, v in vars(opt).items() if isinstance(v, (bool, int, float, str, type(None)))}
    return buffers, scalars


def _restore_optimizer(opt, saved) -> None:
    buffers, scalars = saved
    for name, buf in buffers.items():
        np.copyto(opt.buffers[name], buf)
    for name, value in scalars.items():
        setattr(opt, name, value)


def _run(net, opt, X, y, bs, seed, lrs, beta, factor, l1, l2, mask, noise):
    steps = len(lrs)
    n = len(X)
    bs = min(bs, n)
    shuffle_seq, dropout_seq, noise_seq = np.random.SeedSequence(seed).spawn(3)
    shuffle_rng = np.random.default_rng(shuffle_seq)
    dropout_rng = np.random.default_rng(dropout_seq)
    noise_rng = np.random.default_rng(noise_seq)
    mask = net.weight_mask if mask is None else mask
    penalised = l1 != 0.0 or l2 != 0.0
    saved_params = net.params.copy()
    saved_opt = _save_optimizer(opt)
    losses: list[float] = []
    smoothed: list[float] = []
    reason: Optional[str] = None
    try:
        opt.reset()
        avg, best, k = 0.0, math.inf, 0
        with np.errstate(all="ignore"):
            while k < steps and reason is None:
                order = shuffle_rng.permutation(n)
                for start in range(0, n, bs):
                    if k >= steps:
                        break
                    idx = order[start : start + bs]
                    xb, yb = X[idx], y[idx]
                    if noise > 0.0:
                        xb = xb + (noise * noise_rng.standard_normal(xb.shape)).astype(xb.dtype, copy=False)
                    lr = float(lrs[k])
                    loss = float(net.loss_and_grad(xb, yb, rng=dropout_rng))
                    avg = beta * avg + (1.0 - beta) * loss
                    sm = avg / (1.0 - beta ** (k + 1))
                    if not (math.isfinite(loss) and math.isfinite(sm)):
                        reason = f"the loss is not finite at step {k + 1} (η = {lr:.3g})"
                        break
                    losses.append(loss)
                    smoothed.append(sm)
                    yield RangeStep(seed, k, lr, loss, sm)
                    best = min(best, sm)
                    if sm > factor * best:
                        reason = (f"diverged at step {k + 1} (η = {lr:.3g}): smoothed loss {sm:.4g} > "
                                  f"{factor:g} × its minimum {best:.4g}")
                        break
                    if penalised:
                        add_penalty(net.params, net.grads, mask, l1, l2)
                    opt.step(net.params, net.grads, lr)
                    k += 1
    finally:
        np.copyto(net.params, saved_params)
        _restore_optimizer(opt, saved_opt)
    m = len(losses)
    yield RangeCurve(seed, steps, lrs[:m], losses, smoothed, reason)


# -------------------------------------------------------------------------------------
# several members in lockstep
def _per_member(name: str, value, N: int) -> list[float]:
    """``value`` (a number) for each of N members: one value for all, or a sequence of N."""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return [float(value)] * N
    values = [float(v) for v in value]
    if len(values) != N:
        raise ValueError(f"{name}: expected one value for all members or {N} (one per member), got {len(values)}")
    return values


def range_test_group(
    networks: Sequence,
    optimizers: Sequence,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seeds: Sequence[int],
    *,
    lr_min: float = 1e-6,
    lr_max: float = 10.0,
    steps: int = 100,
    beta: float = BETA,
    diverge_factor: float = DIVERGE_FACTOR,
    l1=0.0,
    l2=0.0,
    penalty_mask=None,
    input_noise=0.0,
    order: str = "step",
) -> Iterator[Union[RangeStep, RangeCurve]]:
    """The range test of N members in lockstep: member m is ``networks[m]`` (engine
    ``Network`` s of one architecture, task, test-time dropout treatment and dtype; their
    dropout rates may differ) with ``optimizers[m]`` (engine ``Optimizer`` s of one rule,
    its choices, dtype and decay mask; their float hyperparameters and weight decay may
    differ) and stream seed ``seeds[m]``, all on the training arrays ``X``, ``y``.
    Yields a :class:`RangeStep` per member and step and a :class:`RangeCurve` per member.

    Member m's events are, in order and value, those of ``range_test(networks[m],
    optimizers[m], X, y, batch_size, seeds[m], ...)``: the same eta grid, its batches
    (its shuffling, dropout and noise streams from ``SeedSequence(seeds[m]).spawn(3)``),
    the loss at the weights before each step, the same smoothing and stop rule; its
    optimizer starts from a reset state (fresh moments, t = 0).  ``l1``, ``l2``,
    ``input_noise``: one value for all members or one per member; ``penalty_mask``: None
    (each network's weights), one mask, or one per member.

    ``order="step"``: step k's RangeSteps of the members still running (member order),
    then the RangeCurves of the members that stopped at step k; at the end the curves of
    the members that ran every step.  ``order="member"``: member 0's events, then member
    1's, ... -- exactly the stream of the N solo tests run one after the other; a
    member's events are passed on as they happen while it is the first unfinished one,
    the later members' wait until then.

    The members' parameters are copied into the group: ``networks`` and ``optimizers``
    are only read (never changed, also when the caller stops iterating).  Arguments are
    validated before the first item (ValueError naming the argument)."""
    networks, optimizers = list(networks), list(optimizers)
    seeds = [int(s) for s in seeds]
    N = len(networks)
    if N == 0 or len(optimizers) != N or len(seeds) != N:
        raise ValueError(f"networks, optimizers, seeds: need the same number (>= 1) of members, got {N}, "
                         f"{len(optimizers)} and {len(seeds)}")
    if order not in ("step", "member"):
        raise ValueError(f"order: must be 'step' or 'member', got {order!r}")
    lr_min, lr_max, steps, beta, diverge_factor = _check_run(lr_min, lr_max, steps, beta, diverge_factor,
                                                             batch_size, X, y)
    l1s, l2s = _per_member("l1", l1, N), _per_member("l2", l2, N)
    noises = _per_member("input_noise", input_noise, N)
    if penalty_mask is None or isinstance(penalty_mask, np.ndarray):
        masks = [penalty_mask] * N
    else:
        masks = list(penalty_mask)
        if len(masks) != N:
            raise ValueError(f"penalty_mask: expected one mask for all members or {N}, got {len(masks)}")
    stack = StackedNetwork(networks)  # checks the architectures (ValueError); copies the parameters
    first = optimizers[0]
    for i, (net, opt) in enumerate(zip(networks, optimizers)):
        if getattr(opt, "n_params", None) != net.n_params:
            raise ValueError(f"optimizers[{i}]: must be built for networks[{i}]'s parameters "
                             f"({net.n_params}), got {getattr(opt, 'n_params', None)}")
        for what in ("kind", "dtype"):
            if getattr(opt, what, None) != getattr(first, what, None):
                raise ValueError(f"optimizers[{i}].{what}: must match optimizers[0]'s to run in lockstep, got "
                                 f"{getattr(opt, what, None)!r} vs {getattr(first, what, None)!r}")
        a, b = opt.decay_mask, first.decay_mask
        if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
            raise ValueError(f"optimizers[{i}].decay_mask: must match optimizers[0]'s to run in lockstep")
    if first.dtype != stack.dtype:
        raise ValueError(f"optimizers: dtype {first.dtype} differs from the networks' {stack.dtype}")
    uses = [name for name in type(first).uses if name != "lr"]
    group_opt = make_group_optimizer(  # fresh state: the solo test resets its optimizer
        first.kind, N, stack.n_params, hypers=[{name: getattr(o, name) for name in uses} for o in optimizers],
        weight_decay=[o.weight_decay for o in optimizers], decay_mask=first.decay_mask, dtype=first.dtype)
    masks = [net.weight_mask if m is None else m for net, m in zip(networks, masks)]
    pairs = _run_group(stack, group_opt, X, y, int(batch_size), seeds, lr_grid(lr_min, lr_max, steps), beta,
                       diverge_factor, l1s, l2s, masks, noises)
    if order == "member":
        return _in_member_order(pairs, N)
    return (item for _, item in pairs)


def _in_member_order(pairs, N: int):
    """(member, item) pairs re-emitted member after member: the first unfinished member's
    items pass through as they come, the others' are kept until it has finished."""
    waiting: list[list] = [[] for _ in range(N)]
    current = 0
    try:
        for m, item in pairs:
            if m != current:
                waiting[m].append(item)
                continue
            yield item
            while isinstance(item, RangeCurve):  # finished: hand over to the next member
                current += 1
                if current == N:
                    break
                kept, waiting[current] = waiting[current], []
                item = None
                for item in kept:
                    yield item
    finally:
        pairs.close()


def _run_group(stack, opt, X, y, bs, seeds, lrs, beta, factor, l1s, l2s, masks, noises):
    """The lockstep loop of :func:`range_test_group`: yields (member, item) pairs."""
    N = stack.n_members
    steps = len(lrs)
    n = len(X)
    bs = min(bs, n)
    streams = [np.random.SeedSequence(s).spawn(3) for s in seeds]
    shuffle_rngs = [np.random.default_rng(s[0]) for s in streams]
    dropout_rngs = [np.random.default_rng(s[1]) if stack.member_has_dropout[i] else None
                    for i, s in enumerate(streams)]
    noise_rngs = [np.random.default_rng(s[2]) for s in streams]
    draws = None if all(r is None for r in dropout_rngs) else dropout_rngs  # what loss_and_grad draws from
    params2d, grads2d = stack.params2d, stack.grads2d
    live = list(range(N))
    rates = [0.0] * N
    frozen: dict[int, np.ndarray] = {}
    frozen_idx = frozen_rows = None
    losses: list[list[float]] = [[] for _ in range(N)]
    smoothed: list[list[float]] = [[] for _ in range(N)]
    avg, best = [0.0] * N, [math.inf] * N
    reasons: list[Optional[str]] = [None] * N
    orders = np.zeros((N, n), dtype=np.intp)
    batches: dict[int, tuple] = {}
    isfinite = math.isfinite
    k = 0
    with np.errstate(all="ignore"):
        while k < steps and live:
            for i in live:
                orders[i] = shuffle_rngs[i].permutation(n)
            for start in range(0, n, bs):
                if k >= steps or not live:
                    break
                rows = min(bs, n - start)
                bufs = batches.get(rows)
                if bufs is None:
                    bufs = batches[rows] = (np.empty((N, rows) + X.shape[1:], X.dtype),
                                            np.empty((N, rows) + y.shape[1:], y.dtype))
                xb, yb = bufs
                idx = orders[:, start : start + rows]
                X.take(idx, axis=0, out=xb)
                y.take(idx, axis=0, out=yb)
                for i in live:
                    if noises[i] > 0.0:
                        xi = xb[i]
                        xi += (noises[i] * noise_rngs[i].standard_normal(xi.shape)).astype(xi.dtype, copy=False)
                lr = float(lrs[k])
                values = stack.loss_and_grad(xb, yb, draws).tolist()
                stopped = []
                for i in list(live):
                    loss = values[i]
                    a = avg[i] = beta * avg[i] + (1.0 - beta) * loss
                    sm = a / (1.0 - beta ** (k + 1))
                    if not (isfinite(loss) and isfinite(sm)):
                        reasons[i] = f"the loss is not finite at step {k + 1} (η = {lr:.3g})"
                        stopped.append(i)
                        continue
                    losses[i].append(loss)
                    smoothed[i].append(sm)
                    yield i, RangeStep(seeds[i], k, lr, loss, sm)
                    b = best[i] = min(best[i], sm)
                    if sm > factor * b:
                        reasons[i] = (f"diverged at step {k + 1} (η = {lr:.3g}): smoothed loss {sm:.4g} > "
                                      f"{factor:g} × its minimum {b:.4g}")
                        stopped.append(i)
                for i in stopped:  # frozen: no more draws, no step, its block kept as it is
                    live.remove(i)
                    frozen[i] = params2d[i].copy()
                    rates[i] = 0.0
                    dropout_rngs[i] = None
                    m = len(losses[i])
                    yield i, RangeCurve(seeds[i], steps, lrs[:m], losses[i], smoothed[i], reasons[i])
                if stopped:
                    frozen_idx = np.array(sorted(frozen), dtype=np.intp)
                    frozen_rows = np.stack([frozen[i] for i in sorted(frozen)])
                    draws = None if all(r is None for r in dropout_rngs) else dropout_rngs
                if not live:
                    break
                for i in live:
                    rates[i] = lr
                    if l1s[i] or l2s[i]:
                        add_penalty(params2d[i], grads2d[i], masks[i], l1s[i], l2s[i])
                opt.step(stack.params, stack.grads, rates, frozen)
                if frozen_idx is not None:
                    params2d[frozen_idx] = frozen_rows
                k += 1
    for i in live:
        m = len(losses[i])
        yield i, RangeCurve(seeds[i], steps, lrs[:m], losses[i], smoothed[i], None)


# -------------------------------------------------------------------------------------
# several seeds, suggestions
def band(curves: Sequence[RangeCurve]) -> Band:
    """Mean and std (ddof 1) of the smoothed losses over ``curves`` (same grid) on the
    first m learning rates, m the shortest curve's length."""
    if not curves:
        raise ValueError("curves: need at least one")
    m = min(len(c.smoothed) for c in curves)
    lrs = curves[0].lrs[:m]
    for c in curves[1:]:
        if not np.array_equal(c.lrs[:m], lrs):
            raise ValueError("curves: the learning-rate grids differ")
    S = np.array([c.smoothed[:m] for c in curves]).reshape(len(curves), m)
    mean = S.mean(axis=0)
    std = S.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros(m)
    return Band(lrs, mean, std, len(curves))


def _valley_index(losses: np.ndarray) -> int:
    """fastai's ``valley`` on ``losses``: the index about halfway along the longest
    strictly decreasing subsequence (see the module docstring), with fastai's exact
    bookkeeping -- the end e is the first i whose running lds exceeds the best so far,
    s = e - (that running value) -- vectorised over j."""
    losses = np.asarray(losses, dtype=np.float64)
    n = len(losses)
    lds = np.ones(n, dtype=np.int64)
    start = end = 0
    for i in range(1, n):
        best = lds[end]
        running = np.maximum.accumulate(np.where(losses[:i] > losses[i], lds[:i] + 1, 1))
        lds[i] = running[-1]
        over = np.flatnonzero(running > best)
        if over.size:
            end = i
            start = i - int(running[over[0]])
    sections = (end - start) / 3
    idx = start + int(sections) + int(sections / 2)
    return min(max(idx, 0), n - 1)


def suggest(lrs, smoothed, *, skip_start: int = 0, skip_end: int = SKIP_END) -> tuple[Suggestion, ...]:
    """The three :data:`SUGGESTIONS` for a smoothed curve, computed on
    ``[skip_start : len - skip_end]`` (fastai: skip_start = steps//10, skip_end = 5);
    when fewer than 3 points would remain, the whole curve is used; empty for < 2 points."""
    lrs = np.asarray(lrs, dtype=np.float64)
    sm = np.asarray(smoothed, dtype=np.float64)
    if lrs.shape != sm.shape:
        raise ValueError(f"lrs, smoothed: shapes differ, {lrs.shape} and {sm.shape}")
    lo, hi = max(int(skip_start), 0), len(sm) - max(int(skip_end), 0)
    if hi - lo >= 3:
        lrs, sm = lrs[lo:hi], sm[lo:hi]
    if len(sm) < 2:
        return ()
    slopes = np.diff(sm) / np.diff(np.log(lrs))
    i_steep = int(np.argmin(slopes))
    i_min = int(np.argmin(sm))
    i_valley = _valley_index(sm)
    return (
        Suggestion("steepest", float(lrs[i_steep]),
                   f"the smoothed loss falls fastest here ({slopes[i_steep]:.3g} per e-fold of η)"),
        Suggestion("minimum/10", float(lrs[i_min] / 10.0),
                   f"a tenth of η = {lrs[i_min]:.3g}, where the smoothed loss is lowest ({sm[i_min]:.4g})"),
        Suggestion("valley", float(lrs[i_valley]),
                   "about halfway along the longest falling stretch of the curve (fastai's valley)"),
    )


def summarize(curves: Sequence[RangeCurve]) -> RangeTestResult:
    """The band of ``curves`` and the suggestions read off its mean (fastai's trimming:
    the first steps//10 and the last 5 points are left out)."""
    b = band(curves)
    steps = max(c.steps for c in curves)
    return RangeTestResult(tuple(curves), b, suggest(b.lrs, b.mean, skip_start=steps // 10))
