"""The playground's list of optimizers: a table (colour, label, step, loss) and the editor
of the selected run.

:class:`RunEditor` is the Optimizer dock's editor
(:class:`~workbench.ui.editors.optimizer.OptimizerEditor`: the rules, their
hyperparameters and formulas read off the engine's registry, only the rows a rule uses
shown, the spec's validation and its reasons) with three rows of the playground's own:
the schedule kind (evaluated per step), the colour (the Okabe–Ito palette) and, for
AdamW, the decoupled weight decay λ.  It emits ``run_edited(PlaygroundRun)`` after each
valid edit.

:class:`RunsTable` lists the runs with the step each path has reached and f(w_t) there.
"""

from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QSizePolicy, QTableWidget, QTableWidgetItem, QWidget

from workbench import spec as S
from workbench.engine.schedules import KINDS as SCHEDULE_KINDS
from workbench.engine.surfaces import Path

from ..editors.base import spec_bounds
from ..editors.optimizer import OptimizerEditor, formula_text
from ..style import OKABE_ITO
from ..widgets.forms import add_row, make_combo, set_combo_data
from ..widgets.spinboxes import SciSpinBox
from .model import PlaygroundRun

#: the palette's colours by name (Okabe & Ito 2008)
COLOR_NAMES = ("Blue", "Orange", "Bluish green", "Vermillion", "Reddish purple", "Sky blue", "Yellow", "Black")

SCHEDULE_TIP = ("How η changes from step to step: the workbench's schedules, with one step of the path "
                "as one epoch (e = step − 1, E = the steps of the path).")


def swatch(color, size: int = 14) -> QIcon:
    """A small filled circle of ``color`` (an icon for tables and combo boxes)."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(255, 255, 255), 2.0))  # a ring that shows on a selected row too
    p.setBrush(QColor(color))
    p.drawEllipse(QRectF(1.5, 1.5, size - 3, size - 3))
    p.setPen(QPen(QColor(0, 0, 0, 110), 1.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QRectF(0.5, 0.5, size - 1, size - 1))
    p.end()
    return QIcon(pix)


class RunEditor(OptimizerEditor):
    """Edits one :class:`PlaygroundRun` (see the module docstring)."""

    run_edited = Signal(object)

    def __init__(self, parent: Optional[QWidget] = None):
        self._run = PlaygroundRun()
        super().__init__(parent)
        self.setObjectName("runEditor")
        form = self._form
        self.schedule_combo = make_combo([(k.label, name) for name, k in SCHEDULE_KINDS.items()],
                                         {name: k.formula for name, k in SCHEDULE_KINDS.items()})
        self.schedule_combo.setObjectName("scheduleCombo")
        self.register(self.schedule_combo, SCHEDULE_TIP, field="schedule", commit=False)
        self.schedule_label = add_row(form, "Schedule", self.schedule_combo, SCHEDULE_TIP)
        self.color_combo = make_combo([(name, i) for i, name in enumerate(COLOR_NAMES)])
        self.color_combo.setObjectName("colorCombo")
        for i, color in enumerate(OKABE_ITO):
            self.color_combo.setItemIcon(i, swatch(color))
        self.register(self.color_combo, "The path's colour (Okabe–Ito's colour-blind-safe palette).",
                      field="color", commit=False)
        self.color_label = add_row(form, "Colour", self.color_combo)
        lo, hi = spec_bounds(S.RegularizationSpec, "weight_decay")
        self.weight_decay_spin = SciSpinBox(lo, hi, smallest=1e-6)
        self.weight_decay_spin.setObjectName("weightDecaySpin")
        tip = ("Decoupled weight decay λ: before each step w ← w − ηλw (AdamW); λ = 0 is Adam.")
        self.register(self.weight_decay_spin, tip, field="weight_decay", commit=False)
        self.weight_decay_label = add_row(form, "Weight decay λ", self.weight_decay_spin, tip)
        self.adamw_note.setText("AdamW is Adam with the decoupled weight decay λ below.")
        for combo in (self.kind_combo, self.form_combo, self.schedule_combo, self.color_combo):
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, combo.sizePolicy().verticalPolicy())
        self.schedule_combo.currentIndexChanged.connect(self._extra_changed)
        self.color_combo.currentIndexChanged.connect(self._extra_changed)
        self.weight_decay_spin.valueChanged.connect(self._extra_changed)
        self.edited.connect(self._optimizer_edited)
        self.set_run(self._run)

    # -- public API -------------------------------------------------------------------------
    def run(self) -> PlaygroundRun:
        """The run as the editor shows it (the last valid one)."""
        return self._run

    def set_run(self, run: PlaygroundRun) -> None:
        """Show ``run`` (emits nothing)."""
        self._run = run
        self.set_value(run.optimizer)
        with self.blocked():
            set_combo_data(self.schedule_combo, run.schedule)
            set_combo_data(self.color_combo, run.color)
            self.weight_decay_spin.setValue(run.weight_decay)
        self._update_rows()

    # -- internals ----------------------------------------------------------------------------
    def _update_rows(self) -> None:
        super()._update_rows()
        if hasattr(self, "weight_decay_spin"):
            self._form.setRowVisible(self.weight_decay_spin, self.kind_combo.currentData() == "adamw")

    def _optimizer_edited(self, optimizer) -> None:
        self._emit(self._run.replace(optimizer=optimizer, label=""))

    def _extra_changed(self, *_args) -> None:
        schedule = self.schedule_combo.currentData()
        changes = {"schedule": schedule, "color": int(self.color_combo.currentData()),
                   "weight_decay": float(self.weight_decay_spin.value())}
        if schedule != self._run.schedule:
            changes["schedule_params"] = ()
        relabel = schedule != self._run.schedule or changes["weight_decay"] != self._run.weight_decay
        if relabel:
            changes["label"] = ""
        self._emit(self._run.replace(**changes))

    def _emit(self, run: PlaygroundRun) -> None:
        if run != self._run:
            self._run = run
            self.run_edited.emit(run)


class RunsTable(QTableWidget):
    """One row per run: colour and label, the step its path has reached, f(w_t) there.
    A row's tooltip is the rule's formula."""

    COLUMNS = ("Optimizer", "Step", "f(w)")

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setObjectName("runsTable")
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.horizontalHeaderItem(2).setToolTip("The loss f(w_t) at the point the path has reached.")
        self.horizontalHeaderItem(1).setToolTip("Steps the path has taken (t).")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

    def sizeHint(self):  # noqa: N802 - Qt override: as tall as its rows (at least 3, at most 8)
        hint = super().sizeHint()
        rows = min(max(self.rowCount(), 3), 8)
        row_h = self.verticalHeader().defaultSectionSize()
        height = self.horizontalHeader().height() + rows * row_h + 2 * self.frameWidth() + 2
        return QSize(hint.width(), height)

    def minimumSizeHint(self):  # noqa: N802 - Qt override
        return QSize(super().minimumSizeHint().width(), self.horizontalHeader().height()
                     + 2 * self.verticalHeader().defaultSectionSize() + 2 * self.frameWidth())

    def set_runs(self, runs: Sequence[PlaygroundRun], colors: Sequence[QColor]) -> None:
        """One row per run (label, colour swatch, the formula as tooltip)."""
        selected = self.currentRow()
        self.setRowCount(len(runs))
        for row, (run, color) in enumerate(zip(runs, colors)):
            name = QTableWidgetItem(swatch(color), run.title)
            tip = formula_text(run.kind, run.optimizer.momentum_form, run.optimizer.bias_correction)
            name.setToolTip(f"{run.title}\n{tip}")
            self.setItem(row, 0, name)
            for col in (1, 2):
                if self.item(row, col) is None:
                    cell = QTableWidgetItem("")
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.setItem(row, col, cell)
        if runs and self.currentRow() < 0:
            self.selectRow(min(max(selected, 0), len(runs) - 1))
        self.updateGeometry()

    def set_progress(self, paths: Sequence[Optional[Path]], t: int, problems: Sequence[str] = ()) -> None:
        """Row i: the step path i has reached at the window's step ``t`` and f(w) there;
        a path that stopped early says why (tooltip, and a mark after its step)."""
        for row, path in enumerate(paths):
            step_item, loss_item = self.item(row, 1), self.item(row, 2)
            if step_item is None:
                continue
            problem = problems[row] if row < len(problems) else ""
            if path is None:
                step_item.setText("—")
                loss_item.setText("—")
                step_item.setToolTip(problem)
                loss_item.setToolTip(problem)
                continue
            k = min(int(t), path.steps)
            stopped = path.stopped_reason is not None and t >= path.steps
            step_item.setText(f"{k} ⚠" if stopped else str(k))
            tip = f"stopped: {path.stopped_reason}" if stopped else ""
            step_item.setToolTip(tip)
            loss_item.setText(f"{path.losses[k]:.4g}")
            loss_item.setToolTip(tip)

    def step_text(self, row: int) -> str:
        return self.item(row, 1).text()

    def loss_text(self, row: int) -> str:
        return self.item(row, 2).text()


__all__ = ["RunEditor", "RunsTable", "swatch", "COLOR_NAMES"]
