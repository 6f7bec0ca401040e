"""Two-dimensional test functions and the paths the engine's optimizers take on them.

Headless and plain data (NumPy only; a window draws it): "See the optimizers".
Notation of the lecture notes (seed 000 section 4, seed 004 "Challenges for SGD"):
``w = (w_1, w_2)`` the parameters, ``g_t = grad f(w_{t-1})`` the gradient at step
``t`` (1-based), ``eta`` the learning rate of the step.  Everything here is float64.

Surfaces (frozen dataclasses; ``value``/``grad`` take ``w`` of shape ``(..., 2)``)::

    Quadratic            ravine f(w) = 1/2 w^T A w,  A = R(theta) diag(1, kappa) R(theta)^T,  w* = (0, 0)
                         grad f = A w; condition number kappa (seed 004 "ill-conditioned loss")
    Saddle               f(w) = w_1^2 - w_2^2,  grad f = (2 w_1, -2 w_2); the saddle point (0, 0)
                         is no minimum (``minimum`` is None; seed 004 "saddle points")
    Rosenbrock           f(w) = (a - w_1)^2 + b (w_2 - w_1^2)^2,  w* = (a, a^2)
                         grad f = (-2 (a - w_1) - 4 b w_1 (w_2 - w_1^2),  2 b (w_2 - w_1^2))
    Beale                f(w) = sum_i (c_i - w_1 + w_1 w_2^i)^2, c = (1.5, 2.25, 2.625),  w* = (3, 1/2)
                         grad f = (sum_i 2 t_i (w_2^i - 1),  sum_i 2 t_i i w_1 w_2^(i-1)),  t_i the terms
    Rastrigin            f(w) = 2 A + sum_j (w_j^2 - A cos(2 pi w_j)),  w* = (0, 0)
                         grad f = 2 w_j + 2 pi A sin(2 pi w_j)

Optimizer paths (:func:`optimizer_path`, :func:`iter_path`) step the **engine's**
optimizer classes (:func:`workbench.engine.optimizers.make_optimizer` with
``n_params=2, dtype=float64``) on a 2-element float64 vector ``w`` with the
surface's analytic gradient -- no update rule is implemented a second time here::

    w_0 = start;  for t = 1 .. steps:  g_t = grad f(w_{t-1});  optimizer.step(w, g_t, eta_t)

where ``eta_t = schedule.lr_for_epoch(t - 1)`` when a schedule is given (one schedule
"epoch" = one step here) and ``eta_t = lr`` otherwise.  A path stops early when
``w_t`` or ``f(w_t)`` is not finite (that point is not recorded) or when
``max_j |w_t,j| > bound`` (that point, finite, is recorded as the last one).

:data:`PRESETS` holds what the notes show (seed 000 figure 6, seed 004): SGD vs
momentum in the ravine, escaping the saddle, Adam with and without bias correction,
Adagrad's vanishing steps vs RMSProp, and all optimizers on Beale's function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Optional, Sequence, Union

import numpy as np

from .optimizers import OPTIMIZERS, make_optimizer
from .schedules import SCHEDULES, make_schedule

Box = tuple[tuple[float, float], tuple[float, float]]

RESERVED = ("lr", "weight_decay", "decay_mask", "dtype")
"""``make_optimizer`` arguments a path's ``hyper`` dict may not hold (the path sets them)."""

DEFAULT_BOUND = 1e6
"""A path stops once a coordinate's magnitude exceeds this ("left the box")."""


# =====================================================================================
# surfaces
# =====================================================================================
def _xy(w) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 0 or w.shape[-1] != 2:
        raise ValueError(f"w: must have a last axis of length 2, got shape {w.shape}")
    return w[..., 0], w[..., 1]


def _out(values: np.ndarray):
    """A Python float for a single point, else the array."""
    return float(values) if np.ndim(values) == 0 else values


def log_levels(Z, n: int = 20, *, floor: Optional[float] = None, decades: float = 4.0) -> np.ndarray:
    """Log-spaced contour levels for a grid ``Z`` (non-finite entries ignored).

    With ``floor`` = f* (the minimum value): ``f* + geomspace(h 10^-decades, h, n)``
    with ``h = max(Z) - f*`` -- dense near the minimum, sparse on the walls.  Without
    a floor (a surface unbounded below, e.g. the saddle): symmetric levels
    ``-geomspace(m 10^-decades, m, n//2)[::-1], 0, +geomspace(...)`` with
    ``m = max |Z|``.  Always strictly increasing."""
    n = int(n)
    if n < 2:
        raise ValueError(f"n: must be >= 2, got {n}")
    z = np.asarray(Z, dtype=np.float64)
    z = z[np.isfinite(z)]
    if z.size == 0:
        raise ValueError("Z: has no finite value")
    if floor is not None:
        h = float(z.max()) - float(floor)
        h = h if h > 0.0 else 1.0
        return float(floor) + np.geomspace(h * 10.0 ** (-decades), h, n)
    m = float(np.abs(z).max()) or 1.0
    half = np.geomspace(m * 10.0 ** (-decades), m, max(n // 2, 1))
    return np.concatenate([-half[::-1], [0.0], half])


class Surface:
    """A 2-D test function f: R^2 -> R with its analytic gradient.

    Subclasses are frozen dataclasses and define ``_f(x, y)``, ``_g(x, y)`` on arrays
    and the class attributes ``name`` and ``formula``, and ``minimum`` / ``min_value``
    (None when f has no minimum), ``view`` ((x_lo, x_hi), (y_lo, y_hi)) and ``start``.
    """

    name = ""
    formula = ""

    # -- the function ---------------------------------------------------------------
    def value(self, w):
        """f(w) for ``w`` of shape (2,) (a float) or (..., 2) (an array of shape ...)."""
        x, y = _xy(w)
        return _out(self._f(x, y))

    def grad(self, w) -> np.ndarray:
        """grad f(w), shape (..., 2) like ``w`` (float64)."""
        x, y = _xy(w)
        gx, gy = self._g(x, y)
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1).astype(np.float64, copy=False)

    def _f(self, x, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _g(self, x, y):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- what a plot needs ------------------------------------------------------------
    @property
    def minimum(self) -> Optional[tuple[float, float]]:
        """The global minimiser w* (None: f is unbounded below)."""
        return None

    @property
    def min_value(self) -> Optional[float]:
        """f(w*) (None when there is no minimum)."""
        return None if self.minimum is None else float(self.value(np.array(self.minimum)))

    @property
    def view(self) -> Box:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def start(self) -> tuple[float, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def grid_axes(self, xlim=None, ylim=None, n: int = 101) -> tuple[np.ndarray, np.ndarray]:
        """``xs = linspace(*xlim, n)``, ``ys = linspace(*ylim, n)`` (default: :attr:`view`)."""
        n = int(n)
        if n < 2:
            raise ValueError(f"n: must be >= 2, got {n}")
        (x0, x1), (y0, y1) = self.view
        xlim = (x0, x1) if xlim is None else xlim
        ylim = (y0, y1) if ylim is None else ylim
        return np.linspace(float(xlim[0]), float(xlim[1]), n), np.linspace(float(ylim[0]), float(ylim[1]), n)

    def grid(self, xlim=None, ylim=None, n: int = 101) -> np.ndarray:
        """Z of shape (n, n) with ``Z[i, j] = f(xs[j], ys[i])`` (rows follow y, as an
        image with y up), ``xs, ys`` from :meth:`grid_axes`."""
        xs, ys = self.grid_axes(xlim, ylim, n)
        X, Y = np.meshgrid(xs, ys)
        return np.asarray(self._f(X, Y), dtype=np.float64)

    def levels(self, n: int = 20, Z=None, decades: float = 4.0) -> np.ndarray:
        """Log-spaced contour levels (:func:`log_levels`) over ``Z`` (default: the
        :attr:`view` grid), anchored at :attr:`min_value` when there is a minimum."""
        Z = self.grid() if Z is None else Z
        return log_levels(Z, n, floor=self.min_value, decades=decades)


@dataclass(frozen=True)
class Quadratic(Surface):
    """The ravine: f(w) = 1/2 w^T A w with A = R diag(1, kappa) R^T, R the rotation by
    ``angle`` (radians); grad f = A w.  Eigenvalues 1 (shallow) and kappa (steep):
    gradient descent at a fixed eta converges iff eta < 2/kappa, and then
    w_t = (I - eta A)^t w_0 exactly; it zig-zags across the ravine when
    1 - eta kappa < 0 and crawls along it at rate 1 - eta."""

    kappa: float = 25.0
    angle: float = 0.0
    name = "quadratic"
    formula = "f(w) = ½ wᵀAw,  A = R diag(1, κ) Rᵀ"

    def __post_init__(self):
        if not (math.isfinite(self.kappa) and self.kappa >= 1.0):
            raise ValueError(f"kappa: must be a finite number >= 1, got {self.kappa!r}")
        if not math.isfinite(self.angle):
            raise ValueError(f"angle: must be finite, got {self.angle!r}")

    @property
    def rotation(self) -> np.ndarray:
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.array([[c, -s], [s, c]])

    @property
    def A(self) -> np.ndarray:
        """The Hessian R diag(1, kappa) R^T (symmetric, 2x2)."""
        R = self.rotation
        return R @ np.diag([1.0, float(self.kappa)]) @ R.T

    def _f(self, x, y):
        (a, b), (_, d) = self.A
        return 0.5 * (a * x * x + 2.0 * b * x * y + d * y * y)

    def _g(self, x, y):
        (a, b), (_, d) = self.A
        return a * x + b * y, b * x + d * y

    @property
    def minimum(self):
        return (0.0, 0.0)

    @property
    def view(self) -> Box:
        return ((-10.0, 10.0), (-5.0, 5.0)) if self.angle == 0.0 else ((-10.0, 10.0), (-10.0, 10.0))

    @property
    def start(self):
        x, y = self.rotation @ np.array([-9.0, 1.5])
        return (float(x), float(y))


@dataclass(frozen=True)
class Saddle(Surface):
    """f(w) = w_1^2 - w_2^2, grad f = (2 w_1, -2 w_2).  The line w_2 = 0 is a ridge in
    w_2 that runs down to the saddle point (0, 0) along w_1; gradient descent from
    (x_0, delta) gives w_1 = (1 - 2 eta)^t x_0 -> 0 but w_2 = (1 + 2 eta)^t delta: it
    leaves only as fast as the tiny offset delta grows.  No minimum."""

    name = "saddle"
    formula = "f(w) = w₁² − w₂²"

    def _f(self, x, y):
        return x * x - y * y

    def _g(self, x, y):
        return 2.0 * x, -2.0 * y

    @property
    def view(self) -> Box:
        return ((-1.5, 1.5), (-1.5, 1.5))

    @property
    def start(self):
        return (1.0, 1e-3)


@dataclass(frozen=True)
class Rosenbrock(Surface):
    """f(w) = (a - w_1)^2 + b (w_2 - w_1^2)^2: a curved, flat-bottomed valley;
    w* = (a, a^2), f* = 0."""

    a: float = 1.0
    b: float = 100.0
    name = "rosenbrock"
    formula = "f(w) = (a − w₁)² + b (w₂ − w₁²)²"

    def _f(self, x, y):
        return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def _g(self, x, y):
        r = y - x * x
        return -2.0 * (self.a - x) - 4.0 * self.b * x * r, 2.0 * self.b * r

    @property
    def minimum(self):
        return (float(self.a), float(self.a) ** 2)

    @property
    def view(self) -> Box:
        return ((-2.0, 2.0), (-1.0, 3.0))

    @property
    def start(self):
        return (-1.2, 1.0)


_BEALE_C = (1.5, 2.25, 2.625)


@dataclass(frozen=True)
class Beale(Surface):
    """f(w) = (1.5 - w_1 + w_1 w_2)^2 + (2.25 - w_1 + w_1 w_2^2)^2 + (2.625 - w_1 + w_1 w_2^3)^2;
    w* = (3, 1/2), f* = 0; flat plateaus and steep walls."""

    name = "beale"
    formula = "f(w) = Σᵢ (cᵢ − w₁ + w₁w₂ⁱ)²,  c = (1.5, 2.25, 2.625)"

    def _f(self, x, y):
        return sum((c - x + x * y ** i) ** 2 for i, c in enumerate(_BEALE_C, start=1))

    def _g(self, x, y):
        gx = 0.0
        gy = 0.0
        for i, c in enumerate(_BEALE_C, start=1):
            t = c - x + x * y ** i
            gx = gx + 2.0 * t * (y ** i - 1.0)
            gy = gy + 2.0 * t * i * x * y ** (i - 1)
        return gx, gy

    @property
    def minimum(self):
        return (3.0, 0.5)

    @property
    def view(self) -> Box:
        return ((-4.5, 4.5), (-4.5, 4.5))

    @property
    def start(self):
        return (1.0, 1.4)


@dataclass(frozen=True)
class Rastrigin(Surface):
    """f(w) = 2 A + sum_j (w_j^2 - A cos(2 pi w_j)): a bowl covered with local minima
    near the integer points; w* = (0, 0), f* = 0."""

    A: float = 10.0
    name = "rastrigin"
    formula = "f(w) = 2A + Σⱼ (wⱼ² − A cos 2πwⱼ)"

    def _f(self, x, y):
        A = self.A
        return 2.0 * A + (x * x - A * np.cos(2.0 * np.pi * x)) + (y * y - A * np.cos(2.0 * np.pi * y))

    def _g(self, x, y):
        k = 2.0 * np.pi * self.A
        return 2.0 * x + k * np.sin(2.0 * np.pi * x), 2.0 * y + k * np.sin(2.0 * np.pi * y)

    @property
    def minimum(self):
        return (0.0, 0.0)

    @property
    def view(self) -> Box:
        return ((-5.12, 5.12), (-5.12, 5.12))

    @property
    def start(self):
        return (3.2, -2.6)


SURFACES: dict[str, type[Surface]] = {
    cls.name: cls for cls in (Quadratic, Saddle, Rosenbrock, Beale, Rastrigin)
}
"""Surface classes by name (construct with their parameters, e.g. ``Quadratic(kappa=50)``)."""


# =====================================================================================
# paths
# =====================================================================================
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


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


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
            object.__setattr__(self, name, _frozen(getattr(self, name)))

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


def optimizer_path(
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
) -> Path:
    """The whole path of :func:`iter_path` as a frozen :class:`Path`."""
    points, losses, lrs = [], [], []
    reason = None
    for item in iter_path(surface, kind, hyper, start, steps, lr=lr, schedule=schedule,
                          weight_decay=weight_decay, bound=bound):
        if isinstance(item, PathEnd):
            reason = item.stopped_reason
        else:
            points.append(item.point)
            losses.append(item.loss)
            if item.t > 0:
                lrs.append(item.lr)
    return Path(np.reshape(points, (-1, 2)), losses, lrs, reason)


# =====================================================================================
# presets
# =====================================================================================
@dataclass(frozen=True)
class PresetRun:
    """One optimizer of a preset: legend ``label``, engine ``kind``, ``hyper`` (keyword
    arguments of ``make_optimizer``), learning rate ``lr`` and ``schedule`` (as :func:`iter_path`)."""

    label: str
    kind: str
    hyper: Mapping = field(default_factory=dict)
    lr: float = 0.01
    schedule: ScheduleArg = None

    def path(self, surface: Surface, start, steps: int, **kw) -> Path:
        return optimizer_path(surface, self.kind, self.hyper, start, steps, lr=self.lr,
                              schedule=self.schedule, **kw)


@dataclass(frozen=True)
class Preset:
    """A picture of the notes: ``surface`` and ``start``, the ``runs`` to compare over
    ``steps`` steps, and a one-line ``explanation`` in the notes' terms."""

    name: str
    title: str
    surface: Surface
    start: tuple[float, float]
    runs: tuple[PresetRun, ...]
    steps: int
    explanation: str

    def paths(self, **kw) -> dict[str, Path]:
        """label -> :class:`Path` for every run."""
        return {run.label: run.path(self.surface, self.start, self.steps, **kw) for run in self.runs}


_RAVINE = Quadratic(kappa=25.0)
_SADDLE = Saddle()

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "ravine",
            "SGD vs momentum in a ravine (κ = 25)",
            _RAVINE,
            _RAVINE.start,
            (
                PresetRun("SGD, η = 0.07", "sgd", {}, 0.07),
                PresetRun("SGD, η = 0.01", "sgd", {}, 0.01),
                PresetRun("momentum β = 0.8, η = 0.07", "momentum", {"momentum": 0.8}, 0.07),
            ),
            150,
            "Ill-conditioned loss: at η = 0.07 SGD zig-zags across the steep direction "
            "(1 − ηκ = −0.75) and crawls along the shallow one (1 − η = 0.93); a small η stops the "
            "zig-zag but crawls even slower; momentum's velocity v_t = βv_{t−1} + ηg_t cancels the "
            "zig-zag and builds up speed along the ravine (rate √β ≈ 0.89 per step).",
        ),
        Preset(
            "saddle",
            "Escaping a saddle point from the ridge",
            _SADDLE,
            (1.0, 1e-3),
            (
                PresetRun("SGD, η = 0.05", "sgd", {}, 0.05),
                PresetRun("momentum β = 0.9, η = 0.05", "momentum", {"momentum": 0.9}, 0.05),
                PresetRun("RMSProp γ = 0.9, η = 0.05", "rmsprop", {"rho": 0.9}, 0.05),
                PresetRun("Adagrad, η = 0.1", "adagrad", {}, 0.1),
                PresetRun("Adam, η = 0.05", "adam", {}, 0.05),
            ),
            100,
            "Saddle point: on the ridge w₂ ≈ 0 the gradient's w₂ part is tiny, so SGD walks down "
            "to the flat saddle and leaves only as fast as (1 + 2η)^t grows the offset; momentum "
            "accumulates the small push, and the per-parameter rates η/√(s_t + ε) of Adagrad, "
            "RMSProp and Adam blow the tiny gradient up to a step of about η at once.",
        ),
        Preset(
            "adam_bias",
            "Adam with and without bias correction (first 40 steps)",
            _RAVINE,
            _RAVINE.start,
            (
                PresetRun("Adam, bias-corrected (eq. 7), η = 0.5", "adam", {"bias_correction": True}, 0.5),
                PresetRun("Adam, no correction (eq. 6), η = 0.5", "adam", {"bias_correction": False}, 0.5),
            ),
            40,
            "With v_0 = s_0 = 0 the moments start biased toward 0: eq. 7 divides by (1 − β^t) and "
            "(1 − γ^t), so the first step is ≈ η in every coordinate; for a steady gradient eq. 6 steps "
            "η(1 − β^t)/√(1 − γ^t) instead — (1 − β)/√(1 − γ) ≈ 3.2η at t = 1 and up to ≈ 6.6η "
            "at t = 12 with β = 0.9, γ = 0.999 — and overshoots.",
        ),
        Preset(
            "adagrad_rmsprop",
            "Adagrad's vanishing steps vs RMSProp",
            _RAVINE,
            _RAVINE.start,
            (
                PresetRun("Adagrad, η = 0.1", "adagrad", {}, 0.1),
                PresetRun("RMSProp γ = 0.9, η = 0.1", "rmsprop", {"rho": 0.9}, 0.1),
            ),
            150,
            "Adagrad's s_t = s_{t−1} + g_t⊙g_t only grows, so its effective rate η/√(s_t + ε) keeps "
            "falling and the steps vanish before the minimum; RMSProp's s_t = γs_{t−1} + (1 − γ)g_t⊙g_t "
            "forgets old gradients and keeps moving.",
        ),
        Preset(
            "beale",
            "All optimizers on Beale's function",
            Beale(),
            Beale().start,
            (
                PresetRun("SGD, η = 0.001", "sgd", {}, 1e-3),
                PresetRun("momentum β = 0.9, η = 0.001", "momentum", {"momentum": 0.9}, 1e-3),
                PresetRun("Nesterov β = 0.9, η = 0.001", "nesterov", {"momentum": 0.9}, 1e-3),
                PresetRun("Adagrad, η = 0.5", "adagrad", {}, 0.5),
                PresetRun("RMSProp γ = 0.9, η = 0.01", "rmsprop", {"rho": 0.9}, 0.01),
                PresetRun("Adadelta ρ = 0.95, ε = 1e-4", "adadelta", {"rho": 0.95, "eps": 1e-4}, 1.0),
                PresetRun("Adam, η = 0.05", "adam", {}, 0.05),
            ),
            300,
            "Seed 000 figure 6: plain SGD creeps over the plateau, momentum and Nesterov gather "
            "speed (and overshoot), the adaptive rates η/√(s_t + ε) move each coordinate at its own pace.",
        ),
    )
}
"""What the notes show; ``PRESETS[name].paths()`` gives every run's :class:`Path`."""
