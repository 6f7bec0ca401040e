"""Growing column buffers for live plots (NumPy only).

Columns share one length; appending writes into preallocated float64 arrays and
doubles their capacity when full, so a long run costs O(log n) reallocations and
``view(name)`` is a zero-copy slice suitable for ``PlotDataItem.setData``.
"""

from __future__ import annotations

import numpy as np


class ColumnBuffer:
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

    def raw(self, name: str) -> np.ndarray:
        """The whole column storage (writable; for in-place fix-ups of recent rows)."""
        return self._data[self._index[name]]
