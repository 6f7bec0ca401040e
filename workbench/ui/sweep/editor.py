"""The sweep's settings as a form: the fields to vary (one row each), the search, the
repeats, the budget and where to run.

Each axis row has a combo of every sweepable field (:func:`workbench.sweep.fields.sweepable_fields`:
the label, the path and the valid range read off the spec and the registries), a combo of
the kinds that fit the field (a choice or on/off field: values only; a whole-number field:
int-uniform, log-uniform or values; a number: log-uniform, uniform or values), and
``low``/``high`` boxes or a comma-separated list of values.  Picking a field fills in a
range around the base experiment's value (a decade either side for log-scaled fields).

:meth:`SweepEditor.sweep` builds the :class:`~workbench.sweep.spec.SweepSpec` through the
file's own parser (:func:`workbench.sweep.file.parse_sweep`), so the form refuses exactly
what a file would, with the same messages (``sweep.axes.0.low: optimizer.lr must be in
(0, 10], got 0``); :attr:`SweepEditor.problem` is the first one, shown under the form.
``changed()`` is emitted after every edit.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QFormLayout, QGridLayout, QGroupBox, QLabel, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from workbench.spec import ExperimentSpec, SpecError
from workbench.sweep.fields import FieldInfo, format_value, sweepable_fields, value_of
from workbench.sweep.file import parse_sweep
from workbench.sweep.runner import default_workers
from workbench.sweep.spec import MAX_REPEATS, MAX_SWEEP_AXES, MAX_SWEEP_RUNS, SweepSpec

from ..widgets.forms import make_combo, set_combo_data
from ..widgets.spinboxes import ComboBox, IntSpinBox

#: The kinds an axis can have, with their labels, by the field's kind.
KIND_LABELS = {"log_uniform": "log-uniform", "uniform": "uniform", "int_uniform": "integers", "values": "values"}
KINDS_FOR = {"float": ("log_uniform", "uniform", "values"), "int": ("int_uniform", "log_uniform", "values"),
             "choice": ("values",), "bool": ("values",)}
#: Fields offered first when a row is added (the seed-004 classics).
FIRST_FIELDS = ("optimizer.lr", "regularization.l2", "architecture.layers.*.units", "optimizer.kind",
                "training.batch_size", "architecture.layers.*.dropout")


def default_axis(info: FieldInfo, base: ExperimentSpec) -> dict:
    """An axis for ``info`` around ``base``'s value: a decade either side (log-scaled
    fields), half to double (whole numbers), the field's range (other numbers), or the
    value and the next choice."""
    value = value_of(base, info.path)
    if info.kind in ("choice", "bool"):
        choices = list(info.choices)
        others = [c for c in choices if c != value]
        return {"kind": "values", "values": [value] + others[:1]}
    lo = -math.inf if info.low is None else info.low
    hi = math.inf if info.high is None else info.high
    if info.kind == "int":
        v = max(int(value), 1)
        low, high = max(math.ceil(lo), v // 2 or 1), min(math.floor(hi), v * 2)
        if low >= high:
            low, high = math.ceil(lo), math.ceil(lo) + 4
        return {"kind": "int_uniform", "low": low, "high": high}
    if info.scale == "log":
        v = value if value > 0 else (1e-4 if hi >= 1e-2 else hi / 100)
        low, high = v / 10, v * 10
        if not info.in_range(low):
            low = max(v / 10, lo if not info.low_open else lo + 1e-12) or 1e-8
        if not info.in_range(high):
            high = hi
        return {"kind": "log_uniform", "low": float(f"{low:.3g}"), "high": float(f"{high:.3g}")}
    if math.isfinite(lo) and math.isfinite(hi):
        span = hi - lo
        low = lo + (span * 0.01 if info.low_open else 0.0)
        high = hi - (span * 0.01 if info.high_open else 0.0)
        return {"kind": "uniform", "low": float(f"{low:.3g}"), "high": float(f"{high:.3g}")}
    return {"kind": "uniform", "low": float(value), "high": float(value) * 2 + 1}


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_value(value, 6)
    return str(value)


def parse_values(text: str, info: FieldInfo) -> list:
    """The comma-separated values of a row, typed for the field (a token that is not of
    the field's type is kept as text: the sweep's parser then names it)."""
    out: list = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        if info.kind == "bool":
            out.append({"true": True, "on": True, "false": False, "off": False}.get(token.lower(), token))
        elif info.kind == "int":
            try:
                out.append(int(token))
            except ValueError:
                out.append(_number(token))
        elif info.kind == "float":
            out.append(_number(token))
        else:
            out.append(token)
    return out


def _number(token: str) -> Any:
    try:
        return float(token)
    except ValueError:
        return token


class AxisRow(QWidget):
    """One setting to vary: field, kind, low/high or values, and a remove button."""

    changed = Signal()
    removed = Signal(object)

    def __init__(self, fields: dict[str, FieldInfo], base: ExperimentSpec, path: str, parent=None):
        super().__init__(parent)
        self.fields = fields
        self.base = base
        self.field_combo = make_combo([(f"{info.label}  ({path_})", path_) for path_, info in fields.items()])
        self.field_combo.setSizeAdjustPolicy(ComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.field_combo.setMinimumContentsLength(14)
        self.kind_combo = ComboBox()
        self.low_edit, self.high_edit, self.values_edit = QLineEdit(), QLineEdit(), QLineEdit()
        for edit, text in ((self.low_edit, "low"), (self.high_edit, "high"), (self.values_edit, "a, b, c")):
            edit.setPlaceholderText(text)
        self.low_edit.setMaximumWidth(90)
        self.high_edit.setMaximumWidth(90)
        self.remove_button = QPushButton("✕")
        self.remove_button.setToolTip("Stop varying this setting")
        self.remove_button.setFixedWidth(28)
        self.range_label = QLabel()
        self.range_label.setProperty("note", True)
        self.range_label.setWordWrap(True)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 2, 0, 2)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.field_combo, 0, 0, 1, 3)
        grid.addWidget(self.remove_button, 0, 3)
        grid.addWidget(self.kind_combo, 1, 0)
        grid.addWidget(self.low_edit, 1, 1)
        grid.addWidget(self.high_edit, 1, 2)
        grid.addWidget(self.values_edit, 1, 1, 1, 2)
        grid.addWidget(self.range_label, 2, 0, 1, 4)
        grid.setColumnStretch(0, 1)
        set_combo_data(self.field_combo, path)
        self._fill_kinds(default_axis(fields[path], base))
        self.field_combo.currentIndexChanged.connect(self._field_changed)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        for edit in (self.low_edit, self.high_edit, self.values_edit):
            edit.textEdited.connect(lambda _text: self.changed.emit())
        self.remove_button.clicked.connect(lambda: self.removed.emit(self))

    @property
    def info(self) -> FieldInfo:
        return self.fields[self.field_combo.currentData()]

    def _fill_kinds(self, axis: dict) -> None:
        info = self.info
        self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        for kind in KINDS_FOR[info.kind]:
            self.kind_combo.addItem(KIND_LABELS[kind], kind)
        set_combo_data(self.kind_combo, axis["kind"])
        self.kind_combo.blockSignals(False)
        self.set_axis(axis)

    def set_axis(self, axis: dict) -> None:
        """Show ``axis`` (a plain axis dict; its field must be this row's)."""
        set_combo_data(self.kind_combo, axis.get("kind", "values"))
        values = axis.get("values")
        self.values_edit.setText(", ".join(_value_text(v) for v in values) if values is not None else "")
        for edit, key in ((self.low_edit, "low"), (self.high_edit, "high")):
            edit.setText(_value_text(axis[key]) if axis.get(key) is not None else "")
        self._show_kind()

    def _show_kind(self) -> None:
        values = self.kind_combo.currentData() == "values"
        self.values_edit.setVisible(values)
        self.low_edit.setVisible(not values)
        self.high_edit.setVisible(not values)
        info = self.info
        if info.numeric:
            text = info.rule + (", log scale" if info.scale == "log" else "")
        else:
            text = f"{len(info.choices)} choices" if info.kind == "choice" else "on or off"
        self.range_label.setText(f"{info.path}: {text}")
        self.range_label.setToolTip(f"{info.path}: {info.rule}")

    def _field_changed(self) -> None:
        self._fill_kinds(default_axis(self.info, self.base))
        self.changed.emit()

    def _kind_changed(self) -> None:
        kind = self.kind_combo.currentData()
        info = self.info
        if kind == "values" and not self.values_edit.text().strip():
            value = value_of(self.base, info.path)
            self.values_edit.setText(_value_text(value))
        elif kind != "values" and not self.low_edit.text().strip():
            axis = default_axis(info, self.base)
            self.low_edit.setText(_value_text(axis.get("low", "")))
            self.high_edit.setText(_value_text(axis.get("high", "")))
        self._show_kind()
        self.changed.emit()

    def axis(self) -> dict:
        """The row as a plain axis (what a file's ``sweep.axes`` item holds)."""
        kind = self.kind_combo.currentData()
        out: dict = {"field": self.info.path, "kind": kind}
        if kind == "values":
            out["values"] = parse_values(self.values_edit.text(), self.info)
        else:
            for key, edit in (("low", self.low_edit), ("high", self.high_edit)):
                text = edit.text().strip()
                value = _number(text) if text else None
                if kind == "int_uniform" and isinstance(value, float) and value.is_integer():
                    value = int(value)
                out[key] = value
        return out


class SweepEditor(QWidget):
    """The sweep form (see the module docstring).  ``base`` is the experiment swept."""

    changed = Signal()

    def __init__(self, base: ExperimentSpec, parent=None):
        super().__init__(parent)
        self.base = base
        self.fields = sweepable_fields(base)
        self.rows: list[AxisRow] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)

        self.axes_box = QGroupBox("Settings to vary")
        self.axes_layout = QVBoxLayout(self.axes_box)
        self.axes_layout.setSpacing(4)
        self.add_button = QPushButton("+ Add a setting")
        self.add_button.setToolTip("Vary one more setting (any number or choice of the experiment)")
        self.add_button.clicked.connect(lambda: self.add_axis())
        self.axes_layout.addWidget(self.add_button)
        outer.addWidget(self.axes_box)

        search = QGroupBox("Search")
        form = QFormLayout(search)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.method_combo = make_combo([("Random search", "random"), ("Grid search", "grid")], {
            "random": "Draw N points at random (log-uniform ranges sample each decade equally); seeded.",
            "grid": "Every combination of each range's points (log- or linearly spaced) and each list's values."})
        self.samples_spin = IntSpinBox(1, MAX_SWEEP_RUNS)
        self.samples_spin.setValue(16)
        self.points_spin = IntSpinBox(2, 32)
        self.points_spin.setValue(3)
        self.seed_spin = IntSpinBox(0, 2**31 - 1)
        self.repeats_spin = IntSpinBox(1, MAX_REPEATS)
        self.repeats_spin.setToolTip("Seeds per point (seed, seed + 1, ...): trained together in lockstep")
        form.addRow("Method", self.method_combo)
        self.samples_label = QLabel("Points")
        form.addRow(self.samples_label, self.samples_spin)
        self.points_label = QLabel("Points per range")
        form.addRow(self.points_label, self.points_spin)
        self.seed_label = QLabel("Sampling seed")
        form.addRow(self.seed_label, self.seed_spin)
        form.addRow("Seeds per point", self.repeats_spin)
        outer.addWidget(search)

        budget = QGroupBox("Budget and cluster")
        form = QFormLayout(budget)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.max_runs_spin = IntSpinBox(1, MAX_SWEEP_RUNS)
        self.max_runs_spin.setValue(64)
        self.max_runs_spin.setToolTip(f"A sweep of more runs is refused before it starts (at most {MAX_SWEEP_RUNS})")
        self.max_seconds_spin = IntSpinBox(0, 7 * 24 * 3600)
        self.max_seconds_spin.setSpecialValueText("no limit")
        self.max_seconds_spin.setSuffix(" s")
        self.max_seconds_spin.setToolTip("When the time is up, running trials stop at their next epoch")
        self.workers_spin = IntSpinBox(0, 256)
        self.workers_spin.setValue(default_workers())
        self.workers_spin.setSpecialValueText("this process")
        self.workers_spin.setToolTip("Worker processes of the local Dask cluster (one per core by default); "
                                     "'this process': no cluster, one trial after the other")
        self.scheduler_edit = QLineEdit()
        self.scheduler_edit.setPlaceholderText("tcp://host:8786 (optional)")
        self.scheduler_edit.setToolTip("Run on an existing Dask cluster instead (its scheduler's address)")
        form.addRow("Max runs", self.max_runs_spin)
        form.addRow("Max time", self.max_seconds_spin)
        form.addRow("Local workers", self.workers_spin)
        form.addRow("Scheduler", self.scheduler_edit)
        outer.addWidget(budget)

        for w in (self.samples_spin, self.points_spin, self.seed_spin, self.repeats_spin, self.max_runs_spin,
                  self.max_seconds_spin, self.workers_spin):
            w.valueChanged.connect(self._edited)
        self.method_combo.currentIndexChanged.connect(self._edited)
        self.scheduler_edit.textEdited.connect(self._edited)
        self._show_method()

    # -- rows ------------------------------------------------------------------------------------
    def add_axis(self, path: Optional[str] = None, axis: Optional[dict] = None) -> Optional[AxisRow]:
        """Add a row (the first of :data:`FIRST_FIELDS` not yet varied, unless ``path``)."""
        if len(self.rows) >= MAX_SWEEP_AXES:
            return None
        used = {row.info.path for row in self.rows}
        if path is None:
            path = next((p for p in FIRST_FIELDS + tuple(self.fields) if p in self.fields and p not in used), None)
            if path is None:
                return None
        row = AxisRow(self.fields, self.base, path)
        if axis is not None:
            row.set_axis(axis)
        row.changed.connect(self._edited)
        row.removed.connect(self.remove_axis)
        self.rows.append(row)
        self.axes_layout.insertWidget(len(self.rows) - 1, row)
        self.add_button.setEnabled(len(self.rows) < MAX_SWEEP_AXES)
        self._edited()
        return row

    def remove_axis(self, row: AxisRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.add_button.setEnabled(True)
        self._edited()

    # -- values ------------------------------------------------------------------------------------
    def plain(self) -> dict:
        """The form as a file's ``sweep`` object."""
        data: dict = {"axes": [row.axis() for row in self.rows], "method": self.method_combo.currentData(),
                      "samples": self.samples_spin.value(), "points_per_axis": self.points_spin.value(),
                      "seed": self.seed_spin.value(), "repeats": self.repeats_spin.value(),
                      "budget": {"max_runs": self.max_runs_spin.value()}}
        if self.max_seconds_spin.value() > 0:
            data["budget"]["max_seconds"] = float(self.max_seconds_spin.value())
        return data

    def sweep(self) -> SweepSpec:
        """The sweep the form describes; SpecError (naming the field) otherwise."""
        return parse_sweep(self.plain(), self.base)

    @property
    def problem(self) -> str:
        """Why the form is not a valid sweep ('' when it is)."""
        try:
            self.sweep()
        except SpecError as exc:
            return exc.first_line
        return ""

    def set_sweep(self, sweep: SweepSpec) -> None:
        """Show ``sweep`` (its fields must be sweepable over the base)."""
        from workbench.sweep.file import sweep_to_plain

        plain = sweep_to_plain(sweep)
        self.blockSignals(True)
        try:
            for row in list(self.rows):
                self.remove_axis(row)
            for axis in plain["axes"]:
                self.add_axis(axis["field"], axis)
            set_combo_data(self.method_combo, sweep.method)
            self.samples_spin.setValue(sweep.samples)
            self.points_spin.setValue(sweep.points_per_axis)
            self.seed_spin.setValue(sweep.seed)
            self.repeats_spin.setValue(sweep.repeats)
            self.max_runs_spin.setValue(sweep.budget.max_runs)
            self.max_seconds_spin.setValue(int(math.ceil(sweep.budget.max_seconds or 0)))
        finally:
            self.blockSignals(False)
        self._edited()

    def set_base(self, base: ExperimentSpec) -> None:
        """Sweep ``base`` from now on (rows whose field it lacks are dropped)."""
        self.base = base
        self.fields = sweepable_fields(base)
        kept = [(row.info.path, row.axis()) for row in self.rows if row.info.path in self.fields]
        self.blockSignals(True)
        try:
            for row in list(self.rows):
                self.remove_axis(row)
            for path, axis in kept:
                self.add_axis(path, axis)
        finally:
            self.blockSignals(False)
        self._edited()

    @property
    def workers(self) -> int:
        """Local worker processes (0: none, the trials run in this process)."""
        return self.workers_spin.value()

    @property
    def scheduler(self) -> Optional[str]:
        return self.scheduler_edit.text().strip() or None

    def set_running(self, running: bool) -> None:
        for w in self.findChildren(QWidget):
            if w is not self:
                w.setEnabled(not running)
        if not running:
            self.add_button.setEnabled(len(self.rows) < MAX_SWEEP_AXES)
            self._show_method()

    def _show_method(self) -> None:
        grid = self.method_combo.currentData() == "grid"
        for w in (self.samples_spin, self.samples_label, self.seed_spin, self.seed_label):
            w.setVisible(not grid)
        self.points_spin.setVisible(grid)
        self.points_label.setVisible(grid)

    def _edited(self, *_args) -> None:
        self._show_method()
        self.changed.emit()


__all__ = ["AxisRow", "SweepEditor", "default_axis", "parse_values"]
