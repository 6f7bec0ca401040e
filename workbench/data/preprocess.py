"""Train/validation/test splits and feature scaling.

Splits.  ``n_val = round(n f_val)`` and ``n_test = round(n f_test)`` samples
(halves round up), the rest train; always at least one training sample.  The
assignment is a seeded random permutation (``numpy.random.default_rng((seed,
SPLIT_STREAM))``, a stream independent of the data generator's).  Stratified
(classification): each class ``c`` of ``n_c`` samples puts ``v_c`` samples in
validation and ``t_c`` in test with ``|v_c - n_c f_val| <= 1``,
``|t_c - n_c f_test| <= 1`` and ``|train_c - n_c (1 - f_val - f_test)| <= 1``
(largest-remainder rounding, the totals kept at ``round(n f)`` whenever these
bounds allow), and every class keeps at least one training sample.

Scaling is *fitted on the training split only* and then applied unchanged to
validation and test (and to grid points for plotting):

* ``standard``: ``z = (x - mean_train) / std_train`` (population std, ``ddof = 0``);
* ``minmax``:   ``z = (x - min_train) / (max_train - min_train)`` (train in ``[0, 1]``);
* ``none``:     ``z = x``.

A feature that is constant on the training split gets scale 1 and offset equal
to its value, so it becomes 0 rather than ``nan``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .errors import DataError

SPLIT_STREAM = 0x5B117
SCALINGS = ("standard", "minmax", "none")


class SplitIndices(NamedTuple):
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


class Splits(NamedTuple):
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5 + 1e-9))


def _check_fractions(val_fraction: float, test_fraction: float) -> None:
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not (math.isfinite(f) and 0.0 <= f <= 0.9):
            raise DataError(f"data.{name}: must be between 0 and 0.9, got {f!r}")
    if val_fraction + test_fraction > 0.9 + 1e-12:
        raise DataError(f"data.val_fraction + data.test_fraction: must be <= 0.9, got {val_fraction + test_fraction:g}")


def _pick(exact: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: int) -> np.ndarray:
    """Counts in ``[lo, hi]`` (``hi - lo`` is 0 or 1) summing as close to ``target`` as
    they can: start at ``lo``, then raise the classes with the largest ``exact - lo``
    first (ties: lower class index first)."""
    k = lo.copy()
    flexible = np.flatnonzero(hi > lo)
    need = int(target - k.sum())
    if need > 0 and flexible.size:
        order = flexible[np.argsort(-(exact[flexible] - lo[flexible]), kind="stable")]
        k[order[:need]] += 1
    return k


def stratified_counts(class_sizes, val_fraction: float, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-class ``(v_c, t_c)``; see the module docstring for the guarantees.

    For class ``c`` the candidates are ``v in {floor, ceil}(n_c f_val)`` and
    ``t in {floor, ceil}(n_c f_test)`` such that ``r = n_c - v - t`` satisfies
    ``|r - n_c (1 - f_val - f_test)| <= 1`` and ``r >= 1`` (such a pair always exists:
    round the row ``(e_v, e_t, e_r)`` to floors and ceilings preserving its integer sum,
    ceiling ``e_r`` first).  Validation counts are picked among the candidates by
    largest remainder towards ``round(n f_val)``, then test counts given them towards
    ``round(n f_test)``."""
    n_c = np.asarray(class_sizes, dtype=np.int64)
    n = int(n_c.sum())
    fv, ft = float(val_fraction), float(test_fraction)
    e_v, e_t = n_c * fv, n_c * ft
    eps = 1e-9
    feasible = []
    for c in range(len(n_c)):
        e_r = n_c[c] - e_v[c] - e_t[c]
        pairs = [
            (v, t)
            for v in sorted({math.floor(e_v[c] + eps), math.ceil(e_v[c] - eps)})
            for t in sorted({math.floor(e_t[c] + eps), math.ceil(e_t[c] - eps)})
            if n_c[c] - v - t >= min(1, n_c[c]) and abs(n_c[c] - v - t - e_r) <= 1.0 + eps and v >= 0 and t >= 0
        ]
        if not pairs:  # pragma: no cover - impossible for 0 <= f_val + f_test <= 0.9 (see above)
            pairs = [(0, 0)]
        feasible.append(pairs)
    lo = np.array([min(v for v, _ in p) for p in feasible], dtype=np.int64)
    hi = np.array([max(v for v, _ in p) for p in feasible], dtype=np.int64)
    v = _pick(e_v, lo, hi, _round_half_up(n * fv))
    lo_t = np.array([min(t for vv, t in p if vv == v[c]) for c, p in enumerate(feasible)], dtype=np.int64)
    hi_t = np.array([max(t for vv, t in p if vv == v[c]) for c, p in enumerate(feasible)], dtype=np.int64)
    t = _pick(e_t, lo_t, hi_t, _round_half_up(n * ft))
    return v, t


def split_indices(y, val_fraction: float = 0.2, test_fraction: float = 0.0, stratify: bool = True,
                  seed: int = 0) -> SplitIndices:
    """Index arrays of the train/validation/test split of ``len(y)`` samples.

    Stratified when ``stratify`` and ``y`` is a 1-D integer array (class indices);
    regression targets are split at random.  Each index array is in random order."""
    y = np.asarray(y)
    n = int(y.shape[0])
    _check_fractions(float(val_fraction), float(test_fraction))
    rng = np.random.default_rng((int(seed), SPLIT_STREAM))
    classification = y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
    if n == 0:
        raise DataError("no samples to split")
    if stratify and classification and (val_fraction > 0 or test_fraction > 0):
        classes, y_idx = np.unique(y, return_inverse=True)
        sizes = np.bincount(y_idx, minlength=len(classes))
        small = np.flatnonzero(sizes < 2)
        if small.size:
            c = int(small[0])
            raise DataError(f"data.stratify: class {classes[c]} has only {sizes[c]} sample; "
                            f"stratified splitting needs at least 2 per class")
        v, t = stratified_counts(sizes, val_fraction, test_fraction)
        parts: tuple[list, list, list] = ([], [], [])
        for c in range(len(classes)):
            members = rng.permutation(np.flatnonzero(y_idx == c))
            parts[1].append(members[: v[c]])
            parts[2].append(members[v[c]: v[c] + t[c]])
            parts[0].append(members[v[c] + t[c]:])
        out = [rng.permutation(np.concatenate(p)).astype(np.int64) for p in parts]
        return SplitIndices(*out)
    perm = rng.permutation(n).astype(np.int64)
    n_val = min(_round_half_up(n * val_fraction), n - 1)
    n_test = min(_round_half_up(n * test_fraction), n - 1 - n_val)
    return SplitIndices(perm[n_val + n_test:], perm[:n_val], perm[n_val: n_val + n_test])


def split(X, y, val_fraction: float = 0.2, test_fraction: float = 0.0, stratify: bool = True,
          seed: int = 0) -> Splits:
    """``(X_train, y_train, X_val, y_val, X_test, y_test)`` by :func:`split_indices`;
    an empty split keeps the column count (``X_val.shape == (0, d)``)."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise DataError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    idx = split_indices(y, val_fraction, test_fraction, stratify, seed)
    return Splits(X[idx.train], y[idx.train], X[idx.val], y[idx.val], X[idx.test], y[idx.test])


# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Scaler:
    """``transform(X) = (X - offset) / scale`` column by column (float64 arithmetic,
    float32 result).  ``offset`` is the training mean (``standard``) or minimum
    (``minmax``); ``scale`` the training std or range.  ``constant`` lists the
    columns that were constant on the training split (scale set to 1)."""

    kind: str
    offset: np.ndarray
    scale: np.ndarray
    constant: tuple[int, ...] = field(default=())

    @property
    def mean(self) -> np.ndarray:
        """Alias of ``offset`` (the training mean for ``standard`` scaling)."""
        return self.offset

    def transform(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.offset.shape[0]:
            raise ValueError(f"expected an (n, {self.offset.shape[0]}) array, got shape {X.shape}")
        return ((X - self.offset) / self.scale).astype(np.float32)

    def inverse_transform(self, Z) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        return (Z * self.scale + self.offset).astype(np.float32)


def fit_scaler(X_train, kind: str = "standard") -> Scaler:
    """Fit ``kind`` scaling on the training features ``X_train (n, d)``, ``n >= 1``."""
    if kind not in SCALINGS:
        raise DataError(f"data.scaling: must be one of {', '.join(SCALINGS)}, got {kind!r}")
    X = np.asarray(X_train, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1:
        raise DataError(f"cannot fit scaling on an array of shape {X.shape}")
    d = X.shape[1]
    if kind == "none":
        return Scaler(kind, np.zeros(d), np.ones(d), ())
    lo = X.min(axis=0)
    hi = X.max(axis=0)
    constant = hi == lo
    if kind == "standard":
        offset = X.mean(axis=0)
        scale = X.std(axis=0)
    else:
        offset = lo.copy()
        scale = hi - lo
    offset = np.where(constant, lo, offset)
    scale = np.where(constant | (scale <= 0), 1.0, scale)
    return Scaler(kind, offset, scale, tuple(int(j) for j in np.flatnonzero(constant)))
