"""The paths the engine's optimizers take on a 2-D test function (:mod:`.functions`).

Notation of the lecture notes (seed 000 section 4, seed 004 "Challenges for SGD"):
``w = (w_1, w_2)`` the parameters, ``g_t = grad f(w_{t-1})`` the gradient at step
``t`` (1-based), ``eta`` the learning rate of the step.  Everything here is float64.

:func:`optimizer_path` and :func:`iter_path` step the **engine's** optimizer classes
(:func:`workbench.engine.optimizers.make_optimizer` with ``n_params=2, dtype=float64``)
on a 2-element float64 vector ``w`` with the surface's analytic gradient -- no update
rule is implemented a second time here::

    w_0 = start;  for t = 1 .. steps:  g_t = grad f(w_{t-1});  optimizer.step(w, g_t, eta_t)

where ``eta_t = schedule.lr_for_epoch(t - 1)`` when a schedule is given (one schedule
"epoch" = one step here) and ``eta_t = lr`` otherwise.  A path stops early when
``w_t`` or ``f(w_t)`` is not finite (that point is not recorded) or when
``max_j |w_t,j| > bound`` (that point, finite, is recorded as the last one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Mapping, Optional, Union

import numpy as np

from ..optimizers import OPTIMIZERS, make_optimizer
from ..readonly import readonly_copy
from ..schedules import SCHEDULES, make_schedule
from .functions import Surface

RESERVED = ("lr", "weight_decay", "decay_mask", "dtype")
"""``make_optimizer`` arguments a path's ``hyper`` dict may not hold (the path sets them)."""

DEFAULT_BOUND = 1e6
"""A path stops once a coordinate's magnitude exceeds this ("left the box")."""


@dataclass(frozen=True)
class PathStep:
    """One point of a path: ``t`` = 0 is the start; for t >= 1, ``point`` = w_t after the
    step with learning rate ``lr`` = eta_t from gradient ``grad`` = g_t = grad f(w_{t-1})
    (``lr`` and ``grad`` are None at t = 0)."""

    t: int
    point: tuple[float, float]
    loss: float
    lr: Optional[float] = None
    grad: Optional[tuple[float, float]] = None


@dataclass(frozen=True)
class PathEnd:
    """The last item of :func:`iter_path`: ``steps`` steps were taken; ``stopped_reason``
    says why the path ended early (None: all requested steps ran)."""

    steps: int
    stopped_reason: Optional[str] = None


@dataclass(frozen=True)
class Path:
    """A finished path: ``points`` (k+1, 2) = w_0 .. w_k, ``losses`` (k+1,) = f(w_t),
    ``lrs`` (k,) = eta_1 .. eta_k, ``stopped_reason`` (None: k = the requested steps).
    Arrays are read-only float64."""

    points: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    stopped_reason: Optional[str] = None

    def __post_init__(self):
        for name in ("points", "losses", "lrs"):
            object.__setattr__(self, name, readonly_copy(getattr(self, name), np.float64))

    @property
    def steps(self) -> int:
        """k, the number of steps taken."""
        return len(self.points) - 1

    def steps_to(self, target, tol: float) -> Optional[int]:
        """The first t after which every w_s (s >= t) is within ``tol`` (Euclidean) of
        ``target`` -- converged and stayed; None if the path never settles there."""
        d = np.linalg.norm(self.points - np.asarray(target, dtype=np.float64), axis=1)
        outside = np.flatnonzero(~(d <= tol))
        if outside.size == 0:
            return 0
        t = int(outside[-1]) + 1
        return t if t < len(d) else None

    def exit_step(self, radius: float, center=(0.0, 0.0)) -> Optional[int]:
        """The first t with ||w_t - center|| > ``radius`` (None: never left)."""
        d = np.linalg.norm(self.points - np.asarray(center, dtype=np.float64), axis=1)
        out = np.flatnonzero(d > radius)
        return int(out[0]) if out.size else None


ScheduleArg = Union[None, str, tuple, Mapping]


def _schedule(schedule: ScheduleArg, lr: float, steps: int):
    """None, a kind name, ``(kind, {params})`` or ``{"kind": ..., **params}`` -> Schedule."""
    if schedule is None:
        return None
    if isinstance(schedule, str):
        kind, params = schedule, {}
    elif isinstance(schedule, Mapping):
        params = dict(schedule)
        kind = params.pop("kind", None)
    else:
        try:
            kind, params = schedule
            params = dict(params)
        except (TypeError, ValueError):
            raise ValueError(f"schedule: must be None, a kind, (kind, params) or a dict with 'kind', got {schedule!r}") from None
    if kind not in SCHEDULES:
        raise ValueError(f"schedule: kind must be one of {', '.join(SCHEDULES)}, got {kind!r}")
    return make_schedule(kind, lr, max(int(steps), 1), **params)


def _optimizer(kind: str, hyper: Optional[Mapping], weight_decay: float):
    """``make_optimizer(kind, 2, weight_decay=..., dtype=float64, **hyper)``; the engine
    validates the hyperparameters (an unknown name becomes a ValueError here too)."""
    hyper = dict(hyper or {})
    reserved = sorted(set(hyper) & set(RESERVED))
    if reserved:
        raise ValueError(f"hyper: {reserved[0]!r} is set by the path, not a hyperparameter")
    if kind not in OPTIMIZERS:
        raise ValueError(f"kind: must be one of {', '.join(OPTIMIZERS)}, got {kind!r}")
    try:
        return make_optimizer(kind, 2, weight_decay=weight_decay, dtype=np.float64, **hyper)
    except TypeError as exc:  # an unknown keyword
        raise ValueError(f"hyper: {exc}") from None


def iter_path(
    surface: Surface,
    kind: str,
    hyper: Optional[Mapping] = None,
    start=None,
    steps: int = 100,
    *,
    lr: float,
    schedule: ScheduleArg = None,
    weight_decay: float = 0.0,
    bound: float = DEFAULT_BOUND,
) -> Iterator[Union[PathStep, PathEnd]]:
    """Step the engine's optimizer ``kind`` (``make_optimizer(kind, 2, **hyper,
    weight_decay=..., dtype=float64)``) on ``surface`` from ``start`` (default
    ``surface.start``), yielding a :class:`PathStep` for w_0 and for each step, then one
    :class:`PathEnd`.  Step t (1-based): g_t = grad f(w_{t-1}), eta_t = ``lr`` or
    ``schedule.lr_for_epoch(t-1)`` (the schedule built by ``make_schedule(kind, lr,
    steps, **params)``; reduce-on-plateau observes f(w_t) after each step), then
    ``optimizer.step(w, g_t, eta_t)``.  Stops early when w_t or f(w_t) is not finite
    (not recorded) or ``max|w_t| > bound`` (recorded).  Validation errors (bad kind,
    hyperparameter, schedule, start) raise ValueError before the first item."""
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps: must be >= 0, got {steps}")
    lr = float(lr)
    if not (math.isfinite(lr) and lr >= 0.0):
        raise ValueError(f"lr: must be a finite number >= 0, got {lr!r}")
    opt = _optimizer(kind, hyper, weight_decay)
    sched = _schedule(schedule, lr, steps)
    w = np.array(surface.start if start is None else start, dtype=np.float64)
    if w.shape != (2,) or not np.all(np.isfinite(w)):
        raise ValueError(f"start: must be two finite numbers, got {start!r}")
    return _walk(surface, opt, sched, w, steps, lr, float(bound))


def _walk(surface, opt, sched, w, steps, lr, bound) -> Iterator[Union[PathStep, PathEnd]]:
    g = np.empty(2)
    with np.errstate(all="ignore"):
        yield PathStep(0, (float(w[0]), float(w[1])), float(surface.value(w)))
        for t in range(1, steps + 1):
            eta = lr if sched is None else float(sched.lr_for_epoch(t - 1))
            np.copyto(g, surface.grad(w))
            grad = (float(g[0]), float(g[1]))
            if not np.all(np.isfinite(g)):
                yield PathEnd(t - 1, f"the gradient at step {t} is not finite")
                return
            opt.step(w, g, eta)
            loss = float(surface.value(w))
            if not (np.all(np.isfinite(w)) and math.isfinite(loss)):
                yield PathEnd(t - 1, f"diverged: a non-finite value at step {t}")
                return
            yield PathStep(t, (float(w[0]), float(w[1])), loss, eta, grad)
            if float(np.max(np.abs(w))) > bound:
                yield PathEnd(t, f"left the box |w| <= {bound:g} at step {t}")
                return
            if sched is not None and sched.kind == "plateau":
                sched.observe(t - 1, loss)
    yield PathEnd(steps, None)


def optimizer_path(surface: Surface, kind: str, hyper: Optional[Mapping] = None, start=None, steps: int = 100,
                   **options) -> Path:
    """The whole path of :func:`iter_path` (``options``: its keyword arguments ``lr``,
    ``schedule``, ``weight_decay``, ``bound``) as a frozen :class:`Path`."""
    points, losses, lrs = [], [], []
    reason = None
    for item in iter_path(surface, kind, hyper, start, steps, **options):
        if isinstance(item, PathEnd):
            reason = item.stopped_reason
        else:
            points.append(item.point)
            losses.append(item.loss)
            if item.t > 0:
                lrs.append(item.lr)
    return Path(np.reshape(points, (-1, 2)), losses, lrs, reason)
