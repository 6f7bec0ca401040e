"""The Schedule editor: learning rate per epoch (``ScheduleSpec``) with a live preview.

The kinds, their parameters, labels, tooltips and formulas are read off the engine's
registry (:mod:`workbench.engine.schedules`); the preview is
:func:`workbench.build.schedule_preview` for the base η and epoch count given by
``set_context`` (the same function draws the planned η on the empty curves).  Choosing a
kind puts in its values suggested for the run's length (exponential: γ = 0.01^(1/E), so
η falls to η/100 by the last epoch rather than to 10⁻⁶⁰).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QLineEdit, QWidget

from workbench import spec as S
from workbench.build import schedule_preview
from workbench.engine.schedules import KINDS, SETTINGS, WARMUP, fade_warning

from ..style import ROLE_COLORS
from ..widgets.forms import add_row, hint_label, make_combo, new_form
from ..widgets.previews import make_preview_plot
from ..widgets.spinboxes import format_number
from .base import Row, SpecEditor

KIND_LABELS = {name: kind.label for name, kind in KINDS.items()}
KIND_TIPS = {name: kind.formula for name, kind in KINDS.items()}
#: the parameters shown for each kind (besides the warm-up)
RELEVANT = {name: kind.uses for name, kind in KINDS.items()}
#: widget attribute names that differ from ``<name>_spin`` / ``_check`` / ``_combo``
_ATTRS = {"step_size": "step_spin", "end_factor": "end_spin", "warm_restarts": "restarts_check",
          "t_mult": "tmult_spin", "pct_start": "pct_spin", "div_factor": "div_spin",
          "final_div_factor": "final_div_spin", "warmup_epochs": "warmup_spin",
          "warmup_start_factor": "warmup_factor_spin"}
_LABELS = {"period": "Period <i>T</i>", "t_mult": "T<sub>mult</sub>", "power": "Power <i>p</i>",
           "min_lr": "Minimum η<sub>min</sub>"}
_GAMMA_TIPS = {
    "step": "γ ∈ (0, 1]: η is multiplied by γ every step-size epochs, ηₑ = η · γ^⌊e/step⌋.",
    "multistep": "γ ∈ (0, 1]: η is multiplied by γ at each milestone.",
    "exponential": "γ ∈ (0, 1]: ηₑ = η · γᵉ (e.g. 0.99 halves η in ≈ 69 epochs).",
}


def _row(name: str) -> Row:
    return Row.from_setting(SETTINGS[name], attr=_ATTRS.get(name, ""), label=_LABELS.get(name, SETTINGS[name].label))


MAIN_ROWS = tuple(_row(name) for name in SETTINGS if name not in WARMUP and name != "milestones")
WARMUP_ROWS = tuple(_row(name) for name in WARMUP)


def parse_milestones(text: str) -> tuple[int, ...]:
    """``"30, 60, 90"`` -> (30, 60, 90); raises ValueError naming the field."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    out = []
    for p in parts:
        try:
            value = int(p)
        except ValueError:
            raise ValueError(f"schedule.milestones: expected whole epoch numbers separated by commas, got {p!r}") from None
        if value < 1:
            raise ValueError(f"schedule.milestones: epochs start at 1, got {value}")
        out.append(value)
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"schedule.milestones: must be strictly increasing, got {', '.join(map(str, out))}")
    return tuple(out)


def compute_preview(v: S.ScheduleSpec, base_lr: float, epochs: int) -> tuple[np.ndarray | None, str]:
    """(learning rate per epoch, '') or (None, why not)."""
    try:
        return np.asarray(schedule_preview(v, base_lr, epochs), dtype=float).ravel(), ""
    except ValueError as exc:
        return None, f"Preview unavailable: {exc}"


class ScheduleEditor(SpecEditor):
    """Edits :class:`workbench.spec.ScheduleSpec`; ``set_context(base_lr, epochs)`` drives the preview."""

    prefix = "schedule"
    spec_class = S.ScheduleSpec
    title = "Schedule"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(S.ScheduleSpec(), parent)
        self._base_lr = S.OptimizerSpec().lr
        self._epochs = S.TrainingSpec().epochs
        self._preview: np.ndarray | None = None

        box = QGroupBox("Learning-rate schedule")
        form = new_form()
        box.setLayout(form)
        self.kind_combo = make_combo([(KIND_LABELS[k], k) for k in S.SCHEDULES], KIND_TIPS)
        self.register(self.kind_combo, "How η changes from epoch to epoch (e = epoch, 0-based; E = epochs).",
                      field="kind", commit=False)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        add_row(form, "Kind", self.kind_combo)
        self.milestones_edit = QLineEdit()
        self.milestones_edit.setPlaceholderText("e.g. 50, 100, 150")
        self.register(self.milestones_edit, SETTINGS["milestones"].doc, field="milestones")
        self._form = form
        self.add_rows(form, MAIN_ROWS[:1])  # step size, then the milestones, then the rest
        add_row(form, SETTINGS["milestones"].label, self.milestones_edit)
        self.add_rows(form, MAIN_ROWS[1:])
        self.restarts_check.toggled.connect(self._update_rows)
        self.content.addWidget(box)

        warm_box = QGroupBox("Warm-up (any kind)")
        wform = new_form()
        warm_box.setLayout(wform)
        self.add_rows(wform, WARMUP_ROWS)
        self.content.addWidget(warm_box)

        # -- preview -----------------------------------------------------------------------
        import pyqtgraph as pg

        self.preview_title = QLabel()
        self.preview_title.setObjectName("schedulePreviewTitle")
        self.preview_title.setWordWrap(True)
        self.extra.addWidget(self.preview_title)
        self.preview_plot = make_preview_plot("schedulePreview", 130)
        self.preview_plot.getAxis("left").enableAutoSIPrefix(False)
        self.preview_plot.setLabel("bottom", "epoch")
        self.preview_plot.setLabel("left", "η")
        # the main learning-rate curve's colour (apply_style follows the theme and screen)
        self._curve = self.preview_plot.plot([], [], pen=pg.mkPen(ROLE_COLORS["lr"], width=2))
        self.extra.addWidget(self.preview_plot)
        self.preview_note = hint_label("")  # a note: restyled with the theme
        self.preview_note.setObjectName("schedulePreviewNote")
        self.preview_note.setTextFormat(Qt.TextFormat.PlainText)
        self.extra.addWidget(self.preview_note)
        self.set_value(S.ScheduleSpec())

    # -- public ------------------------------------------------------------------------------
    def set_context(self, base_lr: float, epochs: int) -> None:
        """The base learning rate η and the planned number of epochs of the preview."""
        self._base_lr = float(base_lr)
        self._epochs = max(1, int(epochs))
        self._refresh()
        self._update_reason()

    def apply_style(self, style) -> None:
        import pyqtgraph as pg

        super().apply_style(style)
        self._curve.setPen(pg.mkPen(style.line_color("lr"), width=style.px(2)))

    def preview_data(self) -> np.ndarray | None:
        """The previewed learning rate per epoch (epoch 1 first), or None if unavailable."""
        return None if self._preview is None else self._preview.copy()

    def visible_fields(self) -> list[str]:
        names = [n for n in SETTINGS if n not in WARMUP]
        return [n for n in names if not self._widget(n).isHidden()]

    # -- internals ------------------------------------------------------------------------------
    def _widget(self, name: str) -> QWidget:
        return self.milestones_edit if name == "milestones" else self.field_widget(name)

    def _update_rows(self, *_args: Any) -> None:
        kind = self.kind_combo.currentData()
        relevant = set(RELEVANT.get(kind, ()))
        if kind == "cosine" and not self.restarts_check.isChecked():
            relevant.discard("t_mult")
        for name in SETTINGS:
            if name not in WARMUP:
                self._form.setRowVisible(self._widget(name), name in relevant)
        self.gamma_spin.setToolTip(_GAMMA_TIPS.get(kind, SETTINGS["gamma"].doc))
        self.gamma_label.setToolTip(self.gamma_spin.toolTip())
        self.kind_combo.setToolTip(
            "How η changes from epoch to epoch (e = epoch, 0-based; E = epochs):\n" + KIND_TIPS.get(kind, "")
        )

    def _on_kind_changed(self) -> None:
        suggest = KINDS[self.kind_combo.currentData()].suggest
        if suggest is not None:
            with self.blocked():
                for name, value in suggest(self._epochs).items():
                    self.field_widget(name).setValue(value)
        self._update_rows()
        self._commit()

    def _show(self, v: S.ScheduleSpec) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(v.kind))
        self.milestones_edit.setText(", ".join(str(m) for m in v.milestones))
        self._update_rows()

    def _collect(self) -> dict[str, Any]:
        return {"kind": self.kind_combo.currentData(), "milestones": parse_milestones(self.milestones_edit.text())}

    def _warning(self) -> str:
        return fade_warning(self._preview, self._base_lr)

    def _refresh(self) -> None:
        v = self._value
        values, why = compute_preview(v, self._base_lr, self._epochs)
        self._preview = values
        self.preview_title.setText(
            f"Preview: η per epoch for η = {format_number(self._base_lr)} over {self._epochs:,} epochs"
        )
        if values is None:
            self._curve.setData([], [])
            self.preview_note.setText(why)
            return
        x = np.arange(1, len(values) + 1, dtype=float)
        self._curve.setData(x, values)
        top = float(np.nanmax(values)) if len(values) else 0.0
        top = top if np.isfinite(top) and top > 0 else max(self._base_lr, 1e-12)
        self.preview_plot.setXRange(1, max(2, len(values)), padding=0.02)
        self.preview_plot.setYRange(0.0, top * 1.08, padding=0)
        note = ""
        if v.kind == "plateau":
            note = (
                "Reduce on plateau: drops depend on the run — η × "
                f"{format_number(v.factor)} after {v.patience} epochs without improvement of the "
                f"{'validation' if v.monitor == 'val_loss' else 'training'} loss."
            )
        elif len(values):
            note = f"epoch 1: η = {float(values[0]):.4g} · last epoch: η = {float(values[-1]):.4g}"
        self.preview_note.setText(note)


__all__ = ["ScheduleEditor", "parse_milestones", "compute_preview", "RELEVANT"]
