"""The runs table's model: one row per run, a group of seeds as a summary row (mean ±
std of each column) followed by its seeds.

A ``QAbstractTableModel`` over plain Python rows rebuilt from the session's
:class:`~workbench.runs.RunList` (at most MAX_RUNS runs: bounded).  No per-cell Qt items:
``QStandardItemModel.clear()`` deletes items whose Python wrappers PySide still maps by
address, and a later object at the same address was then handed out as a stale
``QStandardItem`` (seen as pyqtgraph crashing on ``'QStandardItem' has no attribute
'children'``).  Sorting keeps each group's seeds under their summary row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont

from workbench.runs import COLUMNS, NUMERIC_COLUMNS, STATUS_TEXT, Run, RunList, run_name

Index = Union[QModelIndex, QPersistentModelIndex]
_KEYS = [k for k, _h, _t in COLUMNS]


def fmt_value(key: str, value) -> str:
    """A table cell's text."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if key == "params":
        return f"{int(value):,}"
    if key == "best_epoch":
        return f"{value:g}" if isinstance(value, float) else str(value)
    if key == "wall_time":
        return f"{value:.1f}"
    return f"{value:.4g}"


def fmt_mean_std(key: str, stats) -> str:
    """``mean ± std`` of a group's column (the std only with two or more seeds)."""
    if stats is None:
        return "—"
    mean, std, n = stats
    if key == "params":
        return f"{mean:,.0f}"
    if key == "best_epoch":  # a mean of epochs: one decimal says enough
        return f"{mean:.1f}" + ("" if n < 2 else f" ± {std:.1f}")
    return fmt_value(key, mean) + ("" if n < 2 else f" ± {fmt_value(key, std)}")


@dataclass
class Row:
    """One table row: a run (``key`` its id, ``member`` of a group or not) or a group's
    summary (``key`` the group's name)."""

    key: Any
    kind: str  # "run", "group" or "member"
    texts: list
    sort: list
    color: int
    visible: bool
    pinned: bool = False
    tips: dict = field(default_factory=dict)


class RunsModel(QAbstractTableModel):
    """See the module docstring.  ``params(run)`` gives a run's parameter count.
    ``visibility(key, on)`` and ``rename(run_id, name)`` report the user's edits."""

    edited = Signal()

    def __init__(self, params: Callable[[Run], Optional[int]], color: Callable[[int], QColor],
                 visibility: Callable[[Any, bool], None], rename: Callable[[int, str], None], parent=None):
        super().__init__(parent)
        self.params = params
        self.color = color
        self.visibility = visibility
        self.rename = rename
        self.rows: list[Row] = []
        self.current: Optional[int] = None
        self._sort: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    # -- filling ---------------------------------------------------------------------------------
    def fill(self, runs: RunList, at: str, current: Optional[int]) -> None:
        """Rows for ``runs`` read ``at`` the best or last epoch; ``current`` is underlined."""
        self.beginResetModel()
        self.current = current
        rows, groups_done = [], set()
        for run in runs:
            if run.group is None:
                rows.append(self._run_row(runs, run, at, "run"))
            elif run.group not in groups_done:
                groups_done.add(run.group)
                members = runs.members(run.group)
                rows.append(self._group_row(runs, run.group, members, at))
                rows += [self._run_row(runs, m, at, "member") for m in members]
        self.rows = rows
        self._apply_sort()
        self.endResetModel()

    def _run_row(self, runs: RunList, run: Run, at: str, kind: str) -> Row:
        values = runs.row(run, at, self.params(run))
        texts = [fmt_value(k, values[k]) if k in NUMERIC_COLUMNS else str(values[k] or "") for k in _KEYS]
        texts[_KEYS.index("status")] = STATUS_TEXT.get(run.status, run.status)
        if kind == "member":
            texts[0] = "    " + texts[0]
        tips = {0: f"{run.name} — seed {run.seed}" + (" — pinned" if run.pinned else "")}
        if values["differs"]:
            tips[1] = runs.label(run)
        return Row(run.id, kind, texts, [values[k] for k in _KEYS], run.color, run.visible, run.pinned, tips)

    def _group_row(self, runs: RunList, group: str, members: list[Run], at: str) -> Row:
        stats = runs.summary([runs.row(m, at, self.params(m)) for m in members])
        first = members[0]
        statuses = sorted({STATUS_TEXT.get(m.status, m.status) for m in members})
        text = {"name": group, "differs": runs.differs(first), "status": ", ".join(statuses)}
        texts = [fmt_mean_std(k, stats[k]) if k in NUMERIC_COLUMNS else text[k] for k in _KEYS]
        sort = [stats[k][0] if k in NUMERIC_COLUMNS and stats[k] else text.get(k) for k in _KEYS]
        tips = {0: f"{runs.label(first)} — {len(members)} seeds"}
        tips.update({i: "mean ± sample standard deviation over the seeds" for i, k in enumerate(_KEYS)
                     if k in NUMERIC_COLUMNS})
        return Row(group, "group", texts, sort, first.color, any(m.visible for m in members), tips=tips)

    # -- sorting: groups keep their seeds ------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:  # noqa: D102
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order)
        self._apply_sort()
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        column, order = self._sort
        if not 0 <= column < len(_KEYS):
            return
        blocks: list[list[Row]] = []
        for row in self.rows:
            if row.kind == "member":
                blocks[-1].append(row)
            else:
                blocks.append([row])
        reverse = order == Qt.SortOrder.DescendingOrder

        def key(row: Row):
            v = row.sort[column]
            missing = v is None or (isinstance(v, float) and math.isnan(v))
            # missing values last whichever the order
            return (missing != reverse, "" if missing else (v if isinstance(v, (int, float)) else str(v).lower()))

        blocks.sort(key=lambda b: key(b[0]), reverse=reverse)
        for b in blocks:
            b[1:] = sorted(b[1:], key=key, reverse=reverse)
        self.rows = [row for b in blocks for row in b]

    # -- Qt model ------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section][1]
            if role == Qt.ItemDataRole.ToolTipRole:
                return COLUMNS[section][2]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return row.texts[col].strip() if role == Qt.ItemDataRole.EditRole else row.texts[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tips.get(col)
        if role == Qt.ItemDataRole.TextAlignmentRole and _KEYS[col] in NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if col == 0:
            if role == Qt.ItemDataRole.CheckStateRole:
                return Qt.CheckState.Checked if row.visible else Qt.CheckState.Unchecked
            if role == Qt.ItemDataRole.DecorationRole and row.kind != "member":
                return self.color(row.color)
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(row.pinned or row.kind == "group")
                font.setUnderline(row.key == self.current and row.kind != "group")
                return font
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == 0:
            base |= Qt.ItemFlag.ItemIsUserCheckable
            if self.rows[index.row()].kind != "group":
                base |= Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: Index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or index.column() != 0:
            return False
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.CheckStateRole:
            self.visibility(row.key, Qt.CheckState(value) == Qt.CheckState.Checked)
            return True
        if role == Qt.ItemDataRole.EditRole and row.kind != "group":
            name = run_name(value)
            if name:
                self.rename(row.key, name)
            return bool(name)
        return False

    # -- lookups -------------------------------------------------------------------------------------
    def key_at(self, row: int):
        return self.rows[row].key if 0 <= row < len(self.rows) else None

    def row_of(self, key) -> int:
        return next((i for i, r in enumerate(self.rows) if r.key == key), -1)
