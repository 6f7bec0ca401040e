"""The numbers behind the curves: growing column buffers, the per-batch losses and their
smoothing, history columns and formatting.  NumPy only (tested without Qt).

Columns share one length; appending writes into preallocated float64 arrays and doubles
their capacity when full, so a long run costs O(log n) reallocations and ``view(name)``
is a zero-copy slice suitable for ``PlotDataItem.setData``.
"""

from __future__ import annotations

import math
from typing import Iterable, Optional

import numpy as np

from workbench.engine.events import EpochEnd
from workbench.spec import HISTORY_COLUMNS

EPOCH_COLUMNS = HISTORY_COLUMNS  # epoch, train_loss, val_loss, penalty, lr, metrics...
METRIC_KEYS = ("train_accuracy", "val_accuracy", "train_rmse", "val_rmse", "train_r2", "val_r2")
BATCH_COLUMNS = ("x", "loss", "ema", "epoch", "pos")
#: Per-batch losses a :class:`BatchSeries` keeps for the curve.  Past it the series keeps
#: every second point, and from then on every second batch more: a 10 000-epoch run of 469
#: batches an epoch would otherwise hold 4.7 M points and re-send them all to the plot on
#: every frame.  The moving average is computed from every batch first, so it stays exact
#: at the points kept.
MAX_BATCH_POINTS = 200_000
#: the smallest y span shown, relative to the largest |value|: a flat loss (0.69315 …
#: 0.69318) is a flat line, not float noise blown up to fill the plot
MIN_RELATIVE_SPAN = 1e-3


class ColumnBuffer:
    """Named float64 columns of one length that grow by doubling."""

    def __init__(self, names, capacity: int = 256):
        self.names = tuple(names)
        self._index = {n: i for i, n in enumerate(self.names)}
        self._data = np.full((len(self.names), max(int(capacity), 1)), np.nan)
        self.n = 0

    @property
    def capacity(self) -> int:
        return self._data.shape[1]

    def clear(self) -> None:
        self.n = 0

    def _reserve(self, total: int) -> None:
        cap = self.capacity
        if total <= cap:
            return
        while cap < total:
            cap *= 2
        grown = np.full((len(self.names), cap), np.nan)
        grown[:, : self.n] = self._data[:, : self.n]
        self._data = grown

    def append_rows(self, rows: np.ndarray) -> None:
        """Append ``rows`` shaped ``(m, n_columns)`` in column order."""
        m = rows.shape[0]
        if m == 0:
            return
        self._reserve(self.n + m)
        self._data[:, self.n : self.n + m] = rows.T
        self.n += m

    def append_columns(self, columns: dict) -> None:
        """Append equal-length arrays by column name (missing columns become NaN)."""
        lengths = {len(v) for v in columns.values()}
        if not lengths:
            return
        if len(lengths) != 1:
            raise ValueError(f"columns must have equal lengths, got {sorted(lengths)}")
        m = lengths.pop()
        if m == 0:
            return
        self._reserve(self.n + m)
        block = self._data[:, self.n : self.n + m]
        block[:] = np.nan
        for name, values in columns.items():
            block[self._index[name]] = values
        self.n += m

    def view(self, name: str) -> np.ndarray:
        return self._data[self._index[name], : self.n]

    def keep_every(self, step: int) -> None:
        """Keep rows 0, ``step``, 2 ``step`` ... (in place)."""
        kept = self._data[:, : self.n : step].copy()
        self.n = kept.shape[1]
        self._data[:, : self.n] = kept

    def raw(self, name: str) -> np.ndarray:
        """The whole column storage (writable; for in-place fix-ups of recent rows)."""
        return self._data[self._index[name]]


def epoch_rows(events: Iterable[EpochEnd]) -> np.ndarray:
    """Epochs as rows in :data:`EPOCH_COLUMNS` order; None and inf become NaN."""
    rows = np.array(
        [(e.epoch, e.train_loss, e.val_loss, e.penalty, e.lr, *map(e.metrics.get, METRIC_KEYS)) for e in events],
        dtype=np.float64,
    )
    rows[~np.isfinite(rows)] = np.nan
    return rows


def history_columns(history: dict) -> dict:
    """A saved history (column name -> values, None where missing) as float arrays."""
    if not history or "epoch" not in history:
        return {}
    cols = {}
    for name, values in history.items():
        if name in EPOCH_COLUMNS:
            a = np.array(values, dtype=np.float64)
            a[~np.isfinite(a)] = np.nan
            cols[name] = a
    return cols


def ema_block(values: np.ndarray, a: float, s0: float, t0: int):
    """Raw EMA ``s_t = a s_{t-1} + (1-a) x_t`` over ``values`` from state ``s0``
    (after ``t0`` steps) and its bias-corrected version ``s_t / (1 - a^t)``.
    Vectorised in blocks short enough that ``a**-k`` cannot overflow."""
    m = values.shape[0]
    raw = np.empty(m)
    if a <= 0.0:
        raw[:] = values
    else:
        block = int(min(1024, max(1, math.floor(600.0 / -math.log(a)))))
        s = s0
        for start in range(0, m, block):
            x = values[start : start + block]
            k = np.arange(x.shape[0])
            powers = a ** (k + 1)  # a^(j+1)
            inv = a ** (-k.astype(np.float64))  # a^-k
            raw_block = powers * s + (1.0 - a) * (a**k) * np.cumsum(x * inv)
            raw[start : start + x.shape[0]] = raw_block
            s = float(raw_block[-1])
    t = t0 + np.arange(1, m + 1)
    debiased = raw / (1.0 - a**t) if a > 0.0 else raw
    return raw, debiased


class BatchSeries:
    """Per-batch training losses at fractional epochs ``x = (epoch - 1) + batch /
    batches_per_epoch`` (an epoch still running is assumed as long as the previous one),
    with their bias-corrected moving average ``s_t / (1 - a^t)``, ``s_t = a s_{t-1} +
    (1 - a) l_t``.  At most :data:`MAX_BATCH_POINTS` are kept: every ``stride``-th batch
    (1 until the limit is reached, then doubled each time it is reached again)."""

    def __init__(self, smoothing: float = 0.9):
        self.smoothing = float(smoothing)
        self.buf = ColumnBuffer(BATCH_COLUMNS, capacity=1024)
        self.reset()

    @property
    def n(self) -> int:
        return self.buf.n

    def view(self, name: str) -> np.ndarray:
        return self.buf.view(name)

    def reset(self) -> None:
        self.buf.clear()
        self._ema_state = 0.0
        self._ema_t = 0
        self._base: Optional[int] = None
        self._dirty_from = 0
        self._last_count = 0
        self.stride = 1
        self._seen = 0  # batches added since the reset, kept or not
        self._positions: dict[int, float] = {}  # epoch -> the largest batch position seen in it

    def add(self, epochs: np.ndarray, batches: np.ndarray, losses: np.ndarray) -> None:
        """Append batches (1-based epochs; batch numbers from 0 or 1)."""
        if self._base is None:
            self._base = 0 if batches[0] == 0 else 1
        pos = batches - self._base + 1
        losses = np.where(np.isfinite(losses), losses, np.nan)
        raw, ema = ema_block(np.nan_to_num(losses, nan=self._ema_state), self.smoothing, self._ema_state, self._ema_t)
        self._ema_state = float(raw[-1])
        self._ema_t += len(raw)
        starts = np.flatnonzero(np.r_[True, epochs[1:] != epochs[:-1]])
        for epoch, last in zip(epochs[starts], np.maximum.reduceat(pos, starts)):
            self._positions[int(epoch)] = max(self._positions.get(int(epoch), 0.0), float(last))
        keep = (self._seen + np.arange(len(losses))) % self.stride == 0
        self._seen += len(losses)
        self.buf.append_columns({"x": np.zeros(int(keep.sum())), "loss": losses[keep], "ema": ema[keep],
                                 "epoch": epochs[keep], "pos": pos[keep]})
        if self.buf.n > MAX_BATCH_POINTS:  # rows 0, 2, 4 ... are batches 0, 2 stride, 4 stride ...
            self.buf.keep_every(2)
            self.stride *= 2
            self._dirty_from = (self._dirty_from + 1) // 2
        self._recompute_x(done_through=None)

    def finish_epochs(self, last_epoch_done: int) -> None:
        """Epochs up to ``last_epoch_done`` are complete: fix their batch counts."""
        if self.buf.n:
            self._recompute_x(done_through=last_epoch_done)

    def _recompute_x(self, done_through: Optional[int]) -> None:
        s, n = self._dirty_from, self.buf.n
        if s >= n:
            return
        ep = self.buf.view("epoch")[s:]
        pos = self.buf.view("pos")[s:]
        # contiguous runs of equal epochs (tiny: at most a few epochs are dirty)
        starts = np.flatnonzero(np.r_[True, ep[1:] != ep[:-1]])
        ends = np.r_[starts[1:], ep.shape[0]]
        run_max = np.array([self._positions[int(e)] for e in ep[starts]])  # batches seen, kept or not
        last_epoch = int(ep[starts[-1]])
        finished = done_through is not None and last_epoch <= done_through
        prev_count = int(run_max[-2]) if len(starts) > 1 else self._last_count
        counts = run_max.copy()
        if not finished:  # the running epoch: assume it is as long as the previous one
            counts[-1] = max(run_max[-1], prev_count)
        self._last_count = int(run_max[-1]) if finished else prev_count
        self.buf.raw("x")[s:n] = ep - 1.0 + pos / np.repeat(counts, ends - starts)
        self._dirty_from = n if finished else s + int(starts[-1])
        self._positions = {e: p for e, p in self._positions.items() if e >= last_epoch}


def fmt(v: Optional[float]) -> str:
    """Four significant digits, trailing zeros kept (0.6000 next to 0.6344, not 0.6)."""
    if v is None or not math.isfinite(v):
        return "–"
    text = f"{v:#.4g}"
    return text[:-1] if text.endswith(".") else text


def log10(values: np.ndarray) -> np.ndarray:
    """log10 of the positive values, NaN elsewhere (what a log axis shows)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(values > 0, values, np.nan))


def step_ceiling(x: float) -> float:
    """The smallest 1, 2, 5 x 10^k >= x."""
    if x <= 0:
        return 1.0
    k = math.floor(math.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        v = m * 10.0**k
        if v >= x * (1 - 1e-12):
            return v
    return 10.0 ** (k + 1)


def value_range(columns: Iterable[np.ndarray], log: bool = False,
                least: float = MIN_RELATIVE_SPAN) -> Optional[tuple[float, float]]:
    """(low, high) of the finite values of ``columns`` (in view coordinates: log10 for a
    log axis), widened about its centre to at least ``least`` of the largest magnitude
    (a log axis: of a decade); None without finite values."""
    lo, hi = math.inf, -math.inf
    for c in columns:
        if c.size:
            finite = c[np.isfinite(c)]
            if finite.size:
                lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    least = least if log else least * max(abs(lo), abs(hi))
    if hi - lo < least:
        mid = (lo + hi) / 2.0
        lo, hi = mid - least / 2.0, mid + least / 2.0
    return lo, hi
