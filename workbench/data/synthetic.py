"""Seeded synthetic data sets: 2-D classification toys and small regression problems.

Every generator is a pure function of ``(n_samples, noise, rng, n_classes)``
with ``rng`` a :class:`numpy.random.Generator`, so a seed gives bit-identical
arrays.  It returns ``X`` float32 ``(n, d)`` and

* classification: ``y`` int64 ``(n,)`` class indices ``0..K-1``, the classes
  balanced: class ``c`` gets ``n // K + (1 if c < n % K else 0)`` samples;
* regression: ``y`` float32 ``(n, 1)``.

Coordinates.  Inputs live in about ``[-R, R]`` with ``R = INPUT_RADIUS = 5``
(the TensorFlow Playground's domain, so that ``sin(x1)`` is a useful derived
feature).  The 2-D classification sets are drawn in *unit* coordinates ``u``
(about ``[-1, 1]``) and returned as ``x = R (u + noise * L * e)`` with
``e ~ N(0, I)``: ``noise`` is the standard deviation of a Gaussian jitter
measured in the set's own length ``L``: the data radius (``L = 1``) for
``xor``, ``circles`` and ``blobs``; the moon radius for ``moons`` (as
scikit-learn); the gap between neighbouring arms for the spirals (``L = 1/3``);
the cell side for ``checkerboard`` (``L = 1/2``).  So 0.1 is mild and 0.5 heavy
everywhere.  The class of a point is decided before the jitter, so noise makes
classes overlap.
For regression ``noise`` is the standard deviation of Gaussian noise added to
the target: ``y = f(x) + noise * e``.

The samples come out in random order (shuffled with the same ``rng``).
``xor4`` is the exception: exactly the four XOR points of the lecture notes
(seed 001), ``[0,0], [0,1], [1,0], [1,1] -> 0, 1, 1, 0``, always in this order;
``n_samples``, ``noise`` and the seed are ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .errors import DataError

INPUT_RADIUS = 5.0
TWO_PI = 2.0 * math.pi

Arrays = tuple[np.ndarray, np.ndarray]


# ---------------------------------------------------------------------------
# helpers
def class_counts(n: int, k: int) -> np.ndarray:
    """Balanced class sizes: ``n_c = n // k + (1 if c < n % k else 0)`` for ``c = 0..k-1``."""
    base, extra = divmod(int(n), int(k))
    return np.array([base + (1 if c < extra else 0) for c in range(k)], dtype=np.int64)


def _labels(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def _finish_classification(u: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator) -> Arrays:
    """``x = R (u + noise e)``, then one shared random permutation of the rows."""
    u = u + noise * rng.standard_normal(u.shape)
    order = rng.permutation(len(y))
    X = (INPUT_RADIUS * u[order]).astype(np.float32)
    return X, y[order].astype(np.int64)


def _uniform_inputs(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``x ~ U(-R, R)^d`` (float64)."""
    return rng.uniform(-INPUT_RADIUS, INPUT_RADIUS, size=(n, d))


def _finish_regression(x: np.ndarray, f: np.ndarray, noise: float, rng: np.random.Generator) -> Arrays:
    y = f + noise * rng.standard_normal(f.shape)
    return x.astype(np.float32), y.reshape(-1, 1).astype(np.float32)


# ---------------------------------------------------------------------------
# 2-D classification
def xor(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 2) -> Arrays:
    """Four square clusters, one per quadrant; label ``= [u1 > 0] XOR [u2 > 0]``.

    Class 0 fills quadrants (+,+) and (-,-), class 1 fills (-,+) and (+,-); in
    each quadrant ``|u_j| ~ U(0.05, 1)`` (a small gap along the axes)."""
    counts = class_counts(n_samples, 2)
    signs = {0: ((1.0, 1.0), (-1.0, -1.0)), 1: ((-1.0, 1.0), (1.0, -1.0))}
    parts, labels = [], []
    for c in (0, 1):
        for q, m in enumerate(class_counts(counts[c], 2)):
            s = np.array(signs[c][q])
            parts.append(s * rng.uniform(0.05, 1.0, size=(m, 2)))
            labels.append(np.full(m, c, dtype=np.int64))
    return _finish_classification(np.concatenate(parts), np.concatenate(labels), noise, rng)


XOR4_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=np.float32)
XOR4_Y = np.array([0, 1, 1, 0], dtype=np.int64)


def xor4(n_samples: int = 4, noise: float = 0.0, rng: Optional[np.random.Generator] = None, n_classes: int = 2) -> Arrays:
    """The four XOR points of seed 001: ``X = [[0,0],[0,1],[1,0],[1,1]]``, ``y = [0,1,1,0]``.

    Exact and unshuffled; ``n_samples``, ``noise`` and ``rng`` are ignored.  With
    ``scaling='none'`` the hand solution ``W = [[1,1],[1,1]], c = [0,-1], w = [1,-2], b = 0``
    of the notes reproduces the labels."""
    return XOR4_X.copy(), XOR4_Y.copy()


def circles(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 2) -> Arrays:
    """A disc inside a ring: class 0 has radius ``r ~ U(0, 0.5)``, class 1 ``r ~ U(0.7, 1)``;
    angle ``t ~ U(0, 2 pi)``, ``u = r (cos t, sin t)``."""
    counts = class_counts(n_samples, 2)
    radii = [rng.uniform(0.0, 0.5, counts[0]), rng.uniform(0.7, 1.0, counts[1])]
    r = np.concatenate(radii)
    t = rng.uniform(0.0, TWO_PI, len(r))
    u = np.column_stack([r * np.cos(t), r * np.sin(t)])
    return _finish_classification(u, _labels(counts), noise, rng)


def moons(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 2) -> Arrays:
    """Two interleaving half circles (as scikit-learn's ``make_moons``), ``t ~ U(0, pi)``:
    class 0 ``m = (cos t, sin t)``, class 1 ``m = (1 - cos t, 1/2 - sin t)``; then
    ``u = (m + noise e - (1/2, 1/4)) / 1.5`` so the moons fill ``[-1, 1] x [-1/2, 1/2]``
    and ``noise`` is measured in moon radii.  Returned as ``x = R u``."""
    counts = class_counts(n_samples, 2)
    t0 = rng.uniform(0.0, math.pi, counts[0])
    t1 = rng.uniform(0.0, math.pi, counts[1])
    m = np.concatenate(
        [np.column_stack([np.cos(t0), np.sin(t0)]), np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])]
    )
    m = m + noise * rng.standard_normal(m.shape)
    u = (m - np.array([0.5, 0.25])) / 1.5
    return _finish_classification(u, _labels(counts), 0.0, rng)


def _spirals(n_samples: int, noise: float, rng: np.random.Generator, k: int, turns: float) -> Arrays:
    """``k`` interleaved arms: arm ``c`` has radius ``s ~ U(0.05, 1)`` and angle
    ``a = 2 pi c / k + 2 pi turns s``, ``u = s (cos a, sin a)``.  Neighbouring arms are
    ``g = 1 / (k turns)`` apart along a radius, and the jitter is measured in that
    gap: ``u + noise g e`` (noise 1 smears the arms into each other)."""
    counts = class_counts(n_samples, k)
    y = _labels(counts)
    s = rng.uniform(0.05, 1.0, len(y))
    a = TWO_PI * y / k + TWO_PI * turns * s
    u = np.column_stack([s * np.cos(a), s * np.sin(a)])
    return _finish_classification(u, y, noise / (k * turns), rng)


def two_spirals(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 2) -> Arrays:
    """Two arms of 1.5 turns each: angle ``pi c + 3 pi s``, radius ``s ~ U(0.05, 1)``;
    jitter ``noise / 3`` (the arm gap) in unit coordinates."""
    return _spirals(n_samples, noise, rng, 2, 1.5)


def three_spirals(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 3) -> Arrays:
    """Three arms of one turn each: angle ``2 pi c / 3 + 2 pi s``, radius ``s ~ U(0.05, 1)``;
    jitter ``noise / 3`` (the arm gap) in unit coordinates."""
    return _spirals(n_samples, noise, rng, 3, 1.0)


def blobs(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 3) -> Arrays:
    """``K = n_classes`` isotropic Gaussian blobs: class ``c`` is
    ``u ~ N(mu_c, noise^2 I)`` with ``mu_c = 0.6 (cos(2 pi c / K), sin(2 pi c / K))``
    (``noise = 0`` puts every point on its centre)."""
    k = int(n_classes)
    counts = class_counts(n_samples, k)
    y = _labels(counts)
    angles = TWO_PI * np.arange(k) / k
    centres = 0.6 * np.column_stack([np.cos(angles), np.sin(angles)])
    return _finish_classification(centres[y], y, noise, rng)


def checkerboard(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 2) -> Arrays:
    """A 4 x 4 board over ``[-1, 1]^2`` (cells of side 1/2): cell ``(i, j)`` has class
    ``(i + j) mod 2``.  Each point picks one of its class's 8 cells uniformly, then a
    uniform position inside it.  The jitter is measured in cells: ``u + noise / 2 e``."""
    counts = class_counts(n_samples, 2)
    cells = {c: [(i, j) for i in range(4) for j in range(4) if (i + j) % 2 == c] for c in (0, 1)}
    parts = []
    for c in (0, 1):
        idx = rng.integers(0, len(cells[c]), counts[c])
        corner = np.array(cells[c], dtype=np.float64)[idx] * 0.5 - 1.0
        parts.append(corner + 0.5 * rng.uniform(0.0, 1.0, size=(counts[c], 2)))
    return _finish_classification(np.concatenate(parts), _labels(counts), 0.5 * noise, rng)


# ---------------------------------------------------------------------------
# regression
def sine_1d(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 0) -> Arrays:
    """``x ~ U(-5, 5)``, ``y = sin(x) + noise e`` (about 1.6 periods)."""
    x = _uniform_inputs(n_samples, 1, rng)
    return _finish_regression(x, np.sin(x[:, 0]), noise, rng)


def poly_1d(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 0) -> Arrays:
    """``x ~ U(-5, 5)``, ``y = T3(x / 5) + noise e`` with the Chebyshev cubic
    ``T3(u) = 4 u^3 - 3 u`` (two bumps, values in ``[-1, 1]``)."""
    x = _uniform_inputs(n_samples, 1, rng)
    u = x[:, 0] / INPUT_RADIUS
    return _finish_regression(x, 4.0 * u**3 - 3.0 * u, noise, rng)


def plane_2d(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 0) -> Arrays:
    """``x ~ U(-5, 5)^2``, ``y = 0.1 x1 - 0.2 x2 + noise e`` (a tilted plane; a linear
    model is exact)."""
    x = _uniform_inputs(n_samples, 2, rng)
    return _finish_regression(x, 0.1 * x[:, 0] - 0.2 * x[:, 1], noise, rng)


GAUSSIAN_CENTRES = np.array([[-3.0, 2.5], [0.0, 2.5], [3.0, 2.5], [-3.0, -2.5], [0.0, -2.5], [3.0, -2.5]])
GAUSSIAN_AMPLITUDES = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
GAUSSIAN_WIDTH = 1.2


def gaussians_2d(n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 0) -> Arrays:
    """``x ~ U(-5, 5)^2``, ``y = sum_i a_i exp(-||x - c_i||^2 / (2 s^2)) + noise e``:
    six bumps of width ``s = 1.2`` on a 3 x 2 grid (``c_i`` in ``{-3, 0, 3} x {2.5, -2.5}``)
    with alternating signs ``a_i = +-1``."""
    x = _uniform_inputs(n_samples, 2, rng)
    d2 = ((x[:, None, :] - GAUSSIAN_CENTRES[None, :, :]) ** 2).sum(axis=2)
    f = (GAUSSIAN_AMPLITUDES * np.exp(-d2 / (2.0 * GAUSSIAN_WIDTH**2))).sum(axis=1)
    return _finish_regression(x, f, noise, rng)


# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Generator:
    """A registered generator.

    ``n_inputs`` is the raw input dimension (1 or 2); ``n_classes`` is the fixed
    class count, ``None`` when it follows the ``n_classes`` argument (``blobs``),
    0 for regression.  ``fixed`` marks a data set whose samples are fixed
    (``xor4``: ``n_samples``, ``noise`` and the seed are ignored)."""

    name: str
    task: str
    description: str
    function: Callable[..., Arrays]
    n_inputs: int = 2
    n_classes: Optional[int] = 2
    fixed: bool = False

    def classes_for(self, n_classes: int) -> int:
        """The number of classes this generator produces when asked for ``n_classes``."""
        return int(n_classes) if self.n_classes is None else self.n_classes

    def generate(self, n_samples: int = 400, noise: float = 0.1, seed: int = 0, n_classes: int = 3) -> Arrays:
        """``(X, y)`` from ``numpy.random.default_rng(seed)``; see the module docstring."""
        n = int(n_samples)
        k = self.classes_for(n_classes)
        if not math.isfinite(float(noise)) or noise < 0:
            raise DataError(f"data.noise: must be a finite number >= 0, got {noise!r}")
        if not self.fixed:
            if n < 4:
                raise DataError(f"data.n_samples: must be >= 4, got {n}")
            if self.task == "classification" and n < 2 * k:
                raise DataError(
                    f"data.n_samples: {self.name} with {k} classes needs at least {2 * k} samples "
                    f"(2 per class), got {n}"
                )
        if self.n_classes is None and not 2 <= k <= 10:
            raise DataError(f"data.n_classes: must be between 2 and 10, got {k}")
        rng = np.random.default_rng(int(seed))
        return self.function(n, float(noise), rng, k)


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        Generator("xor", "classification", "Four square clusters, one per quadrant; label = XOR of the signs "
                  "of x1 and x2. Not linearly separable.", xor),
        Generator("xor4", "classification", "Exactly the four XOR points of the lecture notes: (0,0), (0,1), "
                  "(1,0), (1,1) -> 0, 1, 1, 0. Sample count and noise are ignored.", xor4, fixed=True),
        Generator("circles", "classification", "A disc inside a ring: separable by the radius, "
                  "i.e. by x1^2 + x2^2.", circles),
        Generator("moons", "classification", "Two interleaving half circles (as scikit-learn's make_moons).",
                  moons),
        Generator("two_spirals", "classification", "Two interleaved spiral arms of 1.5 turns: "
                  "needs hidden layers; a linear model fails.", two_spirals),
        Generator("three_spirals", "classification", "Three interleaved spiral arms of one turn: "
                  "three classes.", three_spirals, n_classes=3),
        Generator("blobs", "classification", "Gaussian blobs with centres on a circle, one per class "
                  "(class count from n_classes; noise is the blob spread).", blobs, n_classes=None),
        Generator("checkerboard", "classification", "A 4 x 4 checkerboard of two classes.", checkerboard),
        Generator("sine_1d", "regression", "y = sin(x) + noise on x in [-5, 5].", sine_1d, n_inputs=1,
                  n_classes=0),
        Generator("poly_1d", "regression", "A cubic with two bumps, y = 4u^3 - 3u (u = x/5), plus noise.",
                  poly_1d, n_inputs=1, n_classes=0),
        Generator("plane_2d", "regression", "A tilted plane y = 0.1 x1 - 0.2 x2 plus noise: "
                  "a linear model is exact.", plane_2d, n_classes=0),
        Generator("gaussians_2d", "regression", "A surface of six Gaussian bumps of alternating sign, "
                  "plus noise.", gaussians_2d, n_classes=0),
    )
}


def get_generator(name: str) -> Generator:
    """The registered generator, or :class:`DataError` naming ``data.name`` and the valid names."""
    try:
        return GENERATORS[name]
    except (KeyError, TypeError):
        raise DataError(
            f"data.name: unknown synthetic data set {name!r}; valid names: {', '.join(GENERATORS)}"
        ) from None


def generate(name: str, n_samples: int = 400, noise: float = 0.1, seed: int = 0, n_classes: int = 3) -> Arrays:
    """``(X, y)`` of generator ``name``: see :class:`Generator` and the module docstring."""
    return get_generator(name).generate(n_samples, noise, seed, n_classes)


# ---------------------------------------------------------------------------
# derived inputs (TensorFlow Playground)
DERIVED_FEATURES = ("x1_sq", "x2_sq", "x1x2", "sin_x1", "sin_x2")
_DERIVED = {
    "x1_sq": lambda a, b: a * a,
    "x2_sq": lambda a, b: b * b,
    "x1x2": lambda a, b: a * b,
    "sin_x1": lambda a, b: np.sin(a),
    "sin_x2": lambda a, b: np.sin(b),
}


def add_derived_features(X: np.ndarray, names, feature_names=("x1", "x2")) -> tuple[np.ndarray, tuple[str, ...]]:
    """Append derived inputs to 2-D raw inputs ``X (n, 2)``.

    ``x1_sq = x1^2``, ``x2_sq = x2^2``, ``x1x2 = x1 x2``, ``sin_x1 = sin(x1)``,
    ``sin_x2 = sin(x2)``, computed in float64 from the raw (unscaled)
    coordinates and appended after ``x1, x2`` in this fixed order, whatever the
    order of ``names``.  Returns ``(X' float32 (n, 2 + m), feature names)``."""
    wanted = set(names)
    unknown = sorted(wanted - set(DERIVED_FEATURES))
    if unknown:
        raise DataError(f"data.derived_features: unknown {unknown}; valid: {', '.join(DERIVED_FEATURES)}")
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise DataError(f"data.derived_features: need exactly 2 raw inputs, got shape {X.shape}")
    a = X[:, 0].astype(np.float64)
    b = X[:, 1].astype(np.float64)
    order = [f for f in DERIVED_FEATURES if f in wanted]
    cols = [a, b] + [_DERIVED[f](a, b) for f in order]
    return np.column_stack(cols).astype(np.float32), tuple(feature_names) + tuple(order)
