"""Statistics over the runs of a session: seed bands, paired differences, readings at the
best epoch, and CSV export.  NumPy only (no Qt, no SciPy).

A *history* is a run's ``dict[str, tuple[float | None, ...]]``: an ``epoch`` column
(1-based epoch numbers) and columns of :data:`workbench.spec.HISTORY_COLUMNS`, all the same
length; a value may be ``None`` or NaN where it does not apply.  Runs stopped early have
shorter histories, so everything here aligns members *by epoch number*, not by row.

Notation: x_i(e) is member i's value at epoch e, n(e) the number of members with a finite
value there,

    mean      x̄(e) = (1/n) Σ_i x_i(e)
    std       s(e) = √( Σ_i (x_i(e) − x̄(e))² / (n − 1) )        (sample std, ddof = 1)

and for two groups A, B trained on the same seeds i, the paired difference
d_i(e) = B_i(e) − A_i(e) with the t-interval  d̄ ± t_{n−1, (1+c)/2} · s_d / √n.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from numbers import Real
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np

from .spec import HISTORY_COLUMNS, RunResult

History = Mapping[str, Sequence[Optional[float]]]


# ---------------------------------------------------------------------------
# Mean and sample standard deviation over members


def _mean_std(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of ``values`` (members x points, NaN = missing): the mean x̄ and the
    sample std s = √(Σ (x − x̄)² / (n − 1)) over the n finite entries; s is NaN where
    n < 2 and x̄ where n = 0."""
    finite = np.isfinite(values)
    n = finite.sum(axis=0)
    x = np.where(finite, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x.sum(axis=0) / n
        dev = np.where(finite, values - mean, 0.0)
        std = np.sqrt((dev * dev).sum(axis=0) / (n - 1))
    mean[n == 0] = np.nan
    std[n < 2] = np.nan
    return mean, std, n


def mean_std(values: Iterable[Optional[float]]) -> tuple[float, float, int]:
    """``(x̄, s, n)`` of the finite numbers among ``values`` (None and NaN are left out):
    x̄ = Σ x / n and the sample std s = √(Σ (x − x̄)² / (n − 1)); s is NaN for n < 2,
    x̄ for n = 0."""
    column = np.array([[np.nan if v is None else float(v)] for v in values] or [[np.nan]], dtype=np.float64)
    mean, std, n = _mean_std(column)
    return float(mean[0]), float(std[0]), int(n[0])


def _series(history: History, column: str) -> tuple[np.ndarray, np.ndarray]:
    """``(epochs, values)`` of ``column`` as float64 (None -> NaN; a column the history
    lacks is all NaN).  ValueError for an epoch that appears twice."""
    epochs = np.asarray(history.get("epoch", ()), dtype=np.float64)
    raw = history.get(column)
    if raw is None:
        values = np.full(len(epochs), np.nan)
    else:
        values = np.array([np.nan if v is None else v for v in raw], dtype=np.float64)
        if len(values) != len(epochs):
            raise ValueError(f"history: column {column!r} has {len(values)} entries, epoch has {len(epochs)}")
    if len(np.unique(epochs)) != len(epochs):
        raise ValueError("history: an epoch number appears twice in the epoch column")
    return epochs, values


def _aligned(histories: Sequence[History], column: str) -> tuple[np.ndarray, np.ndarray]:
    """The epochs at which some member has a finite value of ``column`` (ascending) and
    the members' values there, a (members x epochs) matrix with NaN where a member has none."""
    series = [_series(h, column) for h in histories]
    kept = [e[np.isfinite(v)] for e, v in series]
    epochs = np.unique(np.concatenate(kept)) if kept else np.empty(0)
    matrix = np.full((len(series), len(epochs)), np.nan)
    for row, (e, v) in zip(matrix, series):
        ok = np.isfinite(v)
        row[np.searchsorted(epochs, e[ok])] = v[ok]
    return epochs, matrix


@dataclass(frozen=True, eq=False)
class Band:
    """Mean ± standard deviation of one column over the members of a group, per epoch:
    ``mean`` x̄(e), ``std`` s(e) (ddof = 1; NaN where ``n`` < 2), ``n`` the members with a
    finite value at ``epochs[k]``."""

    epochs: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n: np.ndarray


def band(histories: Iterable[History], column: str) -> Band:
    """The seed band of ``column``: at every epoch e at which some member has a finite
    value, x̄(e) = (1/n) Σ_i x_i(e) and s(e) = √(Σ_i (x_i(e) − x̄(e))² / (n − 1)) over the
    n members that have one (members aligned by epoch number; None and NaN left out)."""
    epochs, matrix = _aligned(list(histories), column)
    mean, std, n = _mean_std(matrix)
    return Band(epochs=epochs, mean=mean, std=std, n=n.astype(np.int64))


# ---------------------------------------------------------------------------
# Student's t quantile (no SciPy): the regularized incomplete beta function by its
# continued fraction, inverted by a bracketed Newton iteration in log t.

_TINY = 1e-300
_EPS = 1e-16


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (modified Lentz; converges fast for
    x < (a + 1)/(a + b + 2)): I_x(a, b) = x^a (1 − x)^b / (a B(a, b)) · fraction."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + aa / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta: no convergence for a={a}, b={b}, x={x}")  # pragma: no cover


def _lgamma_ratio(a: float, b: float) -> float:
    """log Γ(a + b) − log Γ(a) without the cancellation of two large lgammas: for a ≥ 1000
    by Stirling's series, (a − ½) log(1 + b/a) + b log(a + b) − b + S(a + b) − S(a) with
    S(x) = 1/(12x) − 1/(360x³) + 1/(1260x⁵) (remainder below 1e-20)."""
    if a < 1000.0:
        return math.lgamma(a + b) - math.lgamma(a)

    def stirling(x: float) -> float:
        return 1.0 / (12.0 * x) - 1.0 / (360.0 * x ** 3) + 1.0 / (1260.0 * x ** 5)

    return (a - 0.5) * math.log1p(b / a) + b * math.log(a + b) - b + (stirling(a + b) - stirling(a))


def _beta_pair(a: float, b: float, x: float, y: float, log_x: float, log_y: float) -> tuple[float, float]:
    """``(I_x(a, b), I_y(b, a))`` for y = 1 − x (x, y and their logs given separately, so
    none loses digits; a tiny x or y may be 0, its log is what counts): the two add up
    to 1; the smaller is computed from its continued fraction, so it keeps its relative
    precision however small it is."""
    big, small = max(a, b), min(a, b)
    log_front = a * log_x + b * log_y + _lgamma_ratio(big, small) - math.lgamma(small)  # − log B(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        lower = math.exp(log_front) * _beta_fraction(a, b, x) / a
        return lower, 1.0 - lower
    upper = math.exp(log_front) * _beta_fraction(b, a, y) / b
    return 1.0 - upper, upper


def _log1p_exp(z: float) -> float:
    """log(1 + e^z) without overflow."""
    return z + math.log1p(math.exp(-z)) if z > 0.0 else math.log1p(math.exp(z))


def _tails(u: float, df: float) -> tuple[float, float, float]:
    """For t = e^u: the upper tail P(T > t) = ½ I_x(ν/2, ½) with x = ν/(ν + t²), the
    central mass P(|T| < t) = I_{1−x}(½, ν/2), each to full relative precision, and
    log(t f(t)) with f(t) = Γ((ν+1)/2) / (Γ(ν/2) √(νπ)) · (1 + t²/ν)^(−(ν+1)/2).
    Computed from r = t²/ν in logs, so no t of a double overflows."""
    log_r = 2.0 * u - math.log(df)
    log_1r = _log1p_exp(log_r)  # log(1 + r)
    log_x, log_y = -log_1r, log_r - log_1r
    upper, central = _beta_pair(0.5 * df, 0.5, math.exp(log_x), math.exp(log_y), log_x, log_y)
    log_tf = u + _lgamma_ratio(0.5 * df, 0.5) - 0.5 * math.log(df * math.pi) - 0.5 * (df + 1.0) * log_1r
    return 0.5 * upper, central, log_tf


def _normal_tails(u: float) -> tuple[float, float, float]:
    """For z = e^u: P(Z > z) = ½ erfc(z/√2), P(|Z| < z) = erf(z/√2) and log(z φ(z)),
    φ(z) = e^(−z²/2)/√(2π), for the standard normal Z."""
    z = math.exp(u)
    return 0.5 * math.erfc(z / math.sqrt(2.0)), math.erf(z / math.sqrt(2.0)), u - 0.5 * z * z - 0.5 * math.log(2 * math.pi)


def _invert(p: float, tails) -> float:
    """The quantile at ``p`` of a distribution symmetric about 0 given by ``tails(u)`` =
    (P(X > t), P(|X| < t), log(t f(t))) at t = e^u.  For q = min(p, 1 − p) (exact in
    floating point) it solves P(X > t) = q in the tails (q < ¼) and P(|X| < t) = 1 − 2q in
    the middle, whichever keeps full relative precision, by Newton steps on u = log t
    (d/du log P = ∓ t f(t) / P) kept inside a bracket by bisection."""
    q = min(p, 1.0 - p)
    if q == 0.5:
        return 0.0
    tail = q < 0.25
    target = math.log(q) if tail else math.log1p(-2.0 * q)

    def phi(u: float) -> tuple[float, float]:
        """(φ(u), φ'(u)), φ increasing in u, zero at the quantile."""
        upper, central, log_tf = tails(u)
        if tail:
            return (target - math.log(upper), math.exp(log_tf) / upper) if upper > 0.0 else (math.inf, 1.0)
        return (math.log(central) - target, 2.0 * math.exp(log_tf) / central) if central > 0.0 else (-math.inf, 1.0)

    lo = hi = 0.0
    step = 1.0
    while phi(hi)[0] < 0.0:
        lo, hi, step = hi, hi + step, 2.0 * step
    step = 1.0
    while phi(lo)[0] > 0.0:
        hi, lo, step = lo, lo - step, 2.0 * step
    u = 0.5 * (lo + hi)
    for _ in range(200):
        value, slope = phi(u)
        if value == 0.0:
            break
        lo, hi = (u, hi) if value < 0.0 else (lo, u)
        new = u - value / slope if slope > 0.0 and math.isfinite(value) else math.nan
        if not lo < new < hi:
            new = 0.5 * (lo + hi)
        done = abs(new - u) <= 1e-15 * max(1.0, abs(u))
        u = new
        if done:
            break
    t = math.exp(u)
    return t if p > 0.5 else -t


#: Above this many degrees of freedom t is the normal quantile z plus its expansion in 1/ν.
LARGE_DF = 1e6


@lru_cache(maxsize=256)
def t_quantile(p: float, df: float) -> float:
    """Student's t inverse CDF: the t with P(T ≤ t) = p for ν = ``df`` degrees of freedom
    (ν ≥ 1, integer or real; 0 < p < 1).  Symmetric: t(1 − p) = −t(p); t(½) = 0.

    Solves ½ I_{ν/(ν+t²)}(ν/2, ½) = min(p, 1 − p) (the upper tail P(T > t); in the middle
    the central mass I_{t²/(ν+t²)}(½, ν/2) = |2p − 1|), I the regularized incomplete beta
    function (continued fraction), by bracketed Newton steps on log t (:func:`_invert`).
    For ν > :data:`LARGE_DF` the Cornish-Fisher expansion about the normal quantile z:
    t = z + (z³ + z)/(4ν) + (5z⁵ + 16z³ + 3z)/(96ν²) + (3z⁷ + 19z⁵ + 17z³ − 15z)/(384ν³).
    Relative error below 1e-12 for any p a double can hold (checked against mpmath at 50
    digits; about 1e-14 for ν ≤ 1000)."""
    p, df = float(p), float(df)
    if not 0.0 < p < 1.0:
        raise ValueError(f"p: must be in (0, 1), got {p!r}")
    if not (math.isfinite(df) and df >= 1.0):
        raise ValueError(f"df: must be a finite number >= 1, got {df!r}")
    if df <= LARGE_DF:
        return _invert(p, lambda u: _tails(u, df))
    z = _invert(p, _normal_tails)
    z2 = z * z
    return z + z * ((z2 + 1) / 4 + ((5 * z2 + 16) * z2 + 3) / (96 * df)
                    + (((3 * z2 + 19) * z2 + 17) * z2 - 15) / (384 * df * df)) / df


# ---------------------------------------------------------------------------
# Paired difference of two groups trained on the same seeds


@dataclass(frozen=True, eq=False)
class PairedDifference:
    """B − A per epoch over the seeds both groups share: ``mean`` d̄(e), the
    ``confidence`` t-interval [``low``, ``high``] = d̄ ± t_{n−1,(1+c)/2} s_d/√n (NaN
    where ``n`` < 2), ``n`` the seeds with a finite value in both at ``epochs[k]``."""

    epochs: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: np.ndarray
    confidence: float = 0.95


def paired_difference(a: Mapping[int, History], b: Mapping[int, History], column: str,
                      confidence: float = 0.95) -> PairedDifference:
    """The paired difference of ``column`` between group B and group A (each a mapping
    seed -> history): per epoch e, d_i = B_i(e) − A_i(e) over the n seeds i present in
    both with finite values, d̄ = (1/n) Σ d_i, s_d = √(Σ (d_i − d̄)² / (n − 1)) and the
    interval d̄ ± t_{n−1, (1+c)/2} · s_d / √n (c = ``confidence``; NaN for n < 2).  Epochs
    with no pair are left out.  ValueError when the groups share no seed."""
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence!r}")
    seeds = sorted(set(a) & set(b))
    if not seeds:
        raise ValueError(f"paired difference: the groups share no seed (A has seeds {_seed_list(a)}; "
                         f"B has {_seed_list(b)}); train both on the same seeds")
    epochs, matrix = _aligned([a[s] for s in seeds] + [b[s] for s in seeds], column)
    k = len(seeds)
    diff = matrix[k:] - matrix[:k]  # NaN unless both are finite
    mean, std, n = _mean_std(diff)
    keep = n > 0
    epochs, mean, std, n = epochs[keep], mean[keep], std[keep], n[keep]
    half = np.full(len(n), np.nan)
    for i in np.flatnonzero(n >= 2):
        half[i] = t_quantile(0.5 * (1.0 + confidence), int(n[i]) - 1) * std[i] / math.sqrt(n[i])
    return PairedDifference(epochs=epochs, mean=mean, low=mean - half, high=mean + half,
                            n=n.astype(np.int64), confidence=confidence)


def _seed_list(group: Mapping[int, History]) -> str:
    return ", ".join(str(s) for s in sorted(group)) or "none"


# ---------------------------------------------------------------------------
# A run read at its best or its last epoch


def best_epoch(result: RunResult) -> Optional[int]:
    """The epoch (1-based) whose weights early stopping kept as the best, or None when
    the run had no early stopping or no best epoch (its monitor never finite)."""
    es = result.early_stop
    if es is None or es.best_epoch < 1:
        return None
    return int(es.best_epoch)


def reading(result: RunResult, column: str, at: str = "best") -> Optional[float]:
    """``column`` of ``result``'s history read at one epoch: ``at="best"`` -- at the best
    (restored) epoch of early stopping (:func:`best_epoch`), without one at the last
    epoch (the model the run ended with); ``at="last"`` -- the last epoch with a finite
    value.  None where there is no finite value to read."""
    if at not in ("best", "last"):
        raise ValueError(f"at: must be 'best' or 'last', got {at!r}")
    epochs, values = _series(result.history, column)
    if not len(epochs):
        return None
    if at == "last":
        finite = np.flatnonzero(np.isfinite(values))
        return float(values[finite[-1]]) if len(finite) else None
    best = best_epoch(result)
    if best is None:
        value = values[-1]
    else:
        rows = np.flatnonzero(epochs == best)
        if not len(rows):
            return None
        value = values[rows[0]]
    return float(value) if math.isfinite(value) else None


# ---------------------------------------------------------------------------
# CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _number_cell(value: float) -> str:
    """A float as the shortest text that reads back as the same float ('' if not finite)."""
    return repr(float(value)) if math.isfinite(value) else ""


def history_csv(history: History) -> str:
    """One run's history as CSV: a header of the columns present (in HISTORY_COLUMNS
    order), one row per epoch, every number at full precision (``repr``: it reads back as
    the same float), epochs as whole numbers, None and NaN as empty cells."""
    columns = [c for c in HISTORY_COLUMNS if c in history]
    rows = len(history[columns[0]]) if columns else 0
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for i in range(rows):
        cells = []
        for c in columns:
            v = history[c][i]
            if v is None:
                cells.append("")
            elif c == "epoch" and float(v).is_integer():
                cells.append(str(int(v)))
            else:
                cells.append(_number_cell(float(v)))
        writer.writerow(cells)
    return out.getvalue()


def _table_cell(value) -> str:
    """A cell of the runs table: numbers as numbers, None and NaN empty, text that a
    spreadsheet would run as a formula (starting with = + - @ tab CR) quoted with a
    leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, Real):
        return _number_cell(float(value))
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def table_csv(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """The runs table as CSV: ``header`` then ``rows`` (cells: text, numbers, None).
    Numbers are written as numbers (full precision), None/NaN as empty cells, and text
    cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR get a leading ``'`` so that a
    spreadsheet shows them instead of running them as formulas (CSV injection)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_table_cell(str(h)) for h in header])
    for row in rows:
        writer.writerow([_table_cell(v) for v in row])
    return out.getvalue()
