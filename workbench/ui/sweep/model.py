"""The sweep's results table: one row per trial, sortable by any column.

A ``QAbstractTableModel`` over :class:`workbench.sweep.results.Row` s (at most
``MAX_SWEEP_RUNS``: bounded), rebuilt when outcomes arrive.  Its columns: the trial, each
swept field (its short label; its path as the tooltip), the seed, the status and the
numbers of :data:`workbench.sweep.results.NUMERIC`, then the reason.  Sorting goes through
:func:`workbench.sweep.results.sort_rows` (ascending: smallest first), rows without a value
last either way; the default is the validation metric at the best epoch, largest (best) first.
"""

from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from workbench.sweep import results as R
from workbench.sweep.fields import FieldInfo

_TEXT_KEYS = ("status", "reason")
_TIPS = {
    "index": "Trial number (points in order, each point's seeds one after the other)",
    "seed": "training.seed of the trial",
    "status": "finished, early_stopped, diverged, failed, stopped (cut short), cancelled (not run) — "
              "or queued / running",
    "best_epoch": "The epoch early stopping kept as the best, else the last",
    "val_metric": "Validation accuracy (R² for regression) at the best epoch: the sweep's default order",
    "val_loss": "Validation loss at the best epoch",
    "test_metric": "Test accuracy (R²) of the final model",
    "train_loss": "Training loss at the last epoch",
    "wall_time": "Seconds the trial trained",
    "reason": "Why the trial failed, diverged, was cut short or not run",
}


class ResultsModel(QAbstractTableModel):
    """See the module docstring.  :meth:`set_rows` shows new rows (kept in the current
    order); ``keys[c]`` is column c's key (a field path for the swept fields)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[R.Row] = []
        self.keys: list[str] = ["index"] + [k for k, _ in R.COLUMNS[1:]]
        self.headers: list[str] = ["Trial"] + [h for _, h in R.COLUMNS[1:]]
        self.infos: dict[str, FieldInfo] = {}
        self.sort_key = "val_metric"
        self.descending = True

    # -- content --------------------------------------------------------------------------------
    def set_fields(self, infos: dict[str, FieldInfo]) -> None:
        """The swept fields (their columns follow the trial's)."""
        self.beginResetModel()
        self.infos = dict(infos)
        fields = list(infos)
        self.keys = ["index"] + fields + [k for k, _ in R.COLUMNS[1:]]
        self.headers = ["Trial"] + [infos[f].label for f in fields] + [h for _, h in R.COLUMNS[1:]]
        self.rows = []
        self.endResetModel()

    def set_rows(self, rows: Sequence[R.Row]) -> None:
        self.beginResetModel()
        self.rows = R.sort_rows(rows, self.sort_key, self.descending)
        self.endResetModel()

    def row_of(self, trial: int) -> Optional[int]:
        return next((i for i, r in enumerate(self.rows) if r.index == trial), None)

    def column_of(self, key: str) -> int:
        return self.keys.index(key)

    # -- Qt -------------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.keys)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):  # noqa: D102 - Qt override
        if not index.isValid():
            return None
        row, key = self.rows[index.row()], self.keys[index.column()]
        value = row.value(key)
        if role == Qt.ItemDataRole.DisplayRole:
            return R.cell_text(key, value)
        if role == Qt.ItemDataRole.UserRole:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            left = key in _TEXT_KEYS or (key in self.infos and not self.infos[key].numeric)
            return int((Qt.AlignmentFlag.AlignLeft if left else Qt.AlignmentFlag.AlignRight)
                       | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and key == "reason" and row.reason:
            return row.reason
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 - Qt override
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.keys):
            return None
        key = self.keys[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{key}: {self.infos[key].rule}" if key in self.infos else _TIPS.get(key)
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:  # noqa: D102 - Qt override
        """Sort by ``column`` (ascending: smallest first; text alphabetically); rows
        without a value stay last either way."""
        if not 0 <= column < len(self.keys):
            return
        self.sort_key = self.keys[column]
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        self.rows = R.sort_rows(self.rows, self.sort_key, self.descending)
        self.layoutChanged.emit()
