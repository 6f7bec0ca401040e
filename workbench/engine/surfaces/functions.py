"""Two-dimensional test functions f: R^2 -> R with their analytic gradients, and what a
plot of them needs (grids, log-spaced contour levels).  Everything here is float64.

``w = (w_1, w_2)`` the parameters.  Surfaces (frozen dataclasses; ``value``/``grad`` take
``w`` of shape ``(..., 2)``)::

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

Box = tuple[tuple[float, float], tuple[float, float]]


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
