"""The numbers behind a group's band: N members' columns by epoch, and their mean and
standard deviation per epoch, updated only where new epochs arrived.  NumPy only.

Member m's value of a column at epoch e (1-based) sits at ``[column, m, e - 1]`` of one
``(columns, N, capacity)`` float64 array (NaN where the member has no value: it stopped
early, or the value does not exist).  :meth:`StackSeries.stats` gives, per epoch, the mean
and the sample standard deviation (ddof 1) over the members with a finite value -- the
same numbers as :func:`workbench.compare.band` -- recomputing only the epochs that
changed since the last call, so a live group costs O(new epochs x N) per frame however
long its history.  A ``stride`` k keeps epochs 1, 1 + k, 1 + 2k, ... only (a long
history overlaid as one of many runs: :data:`MAX_POINTS` per run bound its memory and
drawing time).
"""

from __future__ import annotations

import numpy as np

from .series import EPOCH_COLUMNS

#: epochs an overlaid run keeps at most (longer histories keep every k-th epoch)
MAX_POINTS = 4096


def stride_for(epochs: int) -> int:
    """The stride that keeps at most :data:`MAX_POINTS` of ``epochs`` epochs."""
    return max(1, -(-int(epochs) // MAX_POINTS))


class StackSeries:
    """See the module docstring.  ``names``: the columns kept (``epoch`` is the index)."""

    def __init__(self, n_members: int, names=EPOCH_COLUMNS[1:], capacity: int = 256, stride: int = 1):
        self.stride = max(1, int(stride))
        self.names = tuple(n for n in names if n != "epoch")
        self._index = {n: i for i, n in enumerate(self.names)}
        self.n_members = int(n_members)
        self._data = np.full((len(self.names), self.n_members, max(1, int(capacity))), np.nan)
        self._stats = np.full((len(self.names), 3, max(1, int(capacity))), np.nan)  # mean, std, count
        self.n = 0  # epochs held (the largest epoch seen)
        self._clean = 0  # stats are current for epochs [0, _clean)

    def _reserve(self, n: int) -> None:
        cap = self._data.shape[2]
        if n <= cap:
            return
        while cap < n:
            cap *= 2
        for attr in ("_data", "_stats"):
            old = getattr(self, attr)
            grown = np.full(old.shape[:2] + (cap,), np.nan)
            grown[..., : old.shape[2]] = old
            setattr(self, attr, grown)

    def add(self, member: int, epochs: np.ndarray, columns: dict) -> None:
        """Member ``member``'s values at ``epochs`` (1-based), by column name."""
        e = np.asarray(epochs, dtype=np.int64) - 1
        if e.size and e.min() < 0:
            raise ValueError("epochs are 1-based")
        keep = e % self.stride == 0
        if not keep.all():
            e = e[keep]
            columns = {k: np.asarray(v)[keep] for k, v in columns.items()}
        if e.size == 0:
            return
        e //= self.stride
        top = int(e.max()) + 1
        self._reserve(top)
        for name, values in columns.items():
            i = self._index.get(name)
            if i is not None:
                v = np.asarray(values, dtype=np.float64)
                self._data[i, member, e] = np.where(np.isfinite(v), v, np.nan)
        self.n = max(self.n, top)
        self._clean = min(self._clean, int(e.min()))

    def member(self, name: str, member: int) -> np.ndarray:
        """Member ``member``'s column (a view, NaN where it has no value)."""
        return self._data[self._index[name], member, : self.n]

    def epochs(self) -> np.ndarray:
        """The epoch of each position (1, 1 + stride, ...)."""
        return 1.0 + self.stride * np.arange(self.n, dtype=np.float64)

    def stats(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, std, count)`` of column ``name`` per epoch kept (views): the mean and
        the sample standard deviation over the members with a finite value; the mean is
        NaN where no member has one, the std where fewer than two have."""
        if self._clean < self.n:
            lo, hi = self._clean, self.n
            block = self._data[:, :, lo:hi]
            finite = np.isfinite(block)
            count = finite.sum(axis=1)
            filled = np.where(finite, block, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = filled.sum(axis=1) / count
                dev = np.where(finite, block - mean[:, None, :], 0.0)
                var = (dev * dev).sum(axis=1) / (count - 1)
            mean[count == 0] = np.nan
            var[count < 2] = np.nan
            self._stats[:, 0, lo:hi] = mean
            self._stats[:, 1, lo:hi] = np.sqrt(var)
            self._stats[:, 2, lo:hi] = count
            self._clean = self.n
        s = self._stats[self._index[name], :, : self.n]
        return s[0], s[1], s[2]
