"""The Schedule dock: learning rate per epoch (``ScheduleSpec``) with a live preview.

The preview is ``workbench.engine.schedules.make_schedule(kind, base_lr, epochs,
**fields).preview(epochs)`` for the base η and epoch count given by ``set_context``; the
engine module is imported lazily and, if missing or failing, the plot says so.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QLineEdit, QWidget

from workbench import spec as S

from workbench.ui.style import ROLE_COLORS

from .base import (
    FloatSpinBox,
    IntSpinBox,
    SciSpinBox,
    SpecDock,
    add_row,
    format_number,
    hint_label,
    make_combo,
    make_preview_plot,
    new_form,
    set_combo_data,
)

KIND_LABELS = {
    "constant": "Constant",
    "step": "Step",
    "multistep": "Multi-step",
    "exponential": "Exponential",
    "linear": "Linear decay",
    "inverse_scaling": "Inverse scaling η/tᵖ",
    "cosine": "Cosine annealing",
    "one_cycle": "One-cycle",
    "plateau": "Reduce on plateau",
}
KIND_TIPS = {
    "constant": "ηₑ = η",
    "step": "ηₑ = η · γ^⌊e / step⌋  (multiply by γ every 'step' epochs)",
    "multistep": "ηₑ = η · γ^(number of milestones ≤ e)",
    "exponential": "ηₑ = η · γᵉ",
    "linear": "ηₑ = η · (1 − (1 − end factor) · e/E)  (from η down to end factor · η at the last epoch)",
    "inverse_scaling": "ηₑ = η / (e + 1)ᵖ",
    "cosine": "ηₑ = η_min + (η − η_min)(1 + cos(π t/T))/2, t the epoch within the period T;\n"
    "with warm restarts t returns to 0 after each period and T grows by T_mult",
    "one_cycle": "one cycle: up from η/div to η over pct_start of the epochs, then (cosine) down to\n"
    "η/(div · final div)",
    "plateau": "η ← max(η · factor, η_min) whenever the monitored loss has not improved (by more than\n"
    "threshold, relative) for 'patience' epochs; then 'cooldown' epochs without further drops",
}

RELEVANT = {
    "constant": (),
    "step": ("step_size", "gamma"),
    "multistep": ("milestones", "gamma"),
    "exponential": ("gamma",),
    "linear": ("end_factor",),
    "inverse_scaling": ("power",),
    "cosine": ("period", "warm_restarts", "t_mult", "min_lr"),
    "one_cycle": ("pct_start", "div_factor", "final_div_factor"),
    "plateau": ("monitor", "factor", "patience", "cooldown", "threshold", "min_lr"),
}


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


def schedule_fields(v: S.ScheduleSpec) -> dict[str, Any]:
    """Every ScheduleSpec field but ``kind``, as keyword arguments for ``make_schedule``."""
    return {f.name: getattr(v, f.name) for f in dataclasses.fields(v) if f.name != "kind"}


def compute_preview(v: S.ScheduleSpec, base_lr: float, epochs: int) -> tuple[np.ndarray | None, str]:
    """(learning rate per epoch, '') or (None, why not)."""
    try:
        from workbench.engine.schedules import make_schedule
    except Exception as exc:  # pragma: no cover - depends on the engine being there
        return None, f"Preview unavailable ({type(exc).__name__}: the schedules module is not ready)"
    try:
        sched = make_schedule(v.kind, base_lr, epochs, **schedule_fields(v))
        values = np.asarray(sched.preview(epochs), dtype=float).ravel()
    except Exception as exc:
        return None, f"Preview unavailable: {exc}"
    return values, ""


class ScheduleDock(SpecDock):
    """Edits :class:`workbench.spec.ScheduleSpec`; ``set_context(base_lr, epochs)`` drives the preview."""

    prefix = "schedule"

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Schedule", "scheduleDock", S.ScheduleSpec(), parent)
        self._base_lr = S.OptimizerSpec().lr
        self._epochs = S.TrainingSpec().epochs
        self._preview: np.ndarray | None = None

        box = QGroupBox("Learning-rate schedule")
        form = new_form()
        box.setLayout(form)
        self._form = form
        self.kind_combo = make_combo([(KIND_LABELS[k], k) for k in S.SCHEDULES], KIND_TIPS)
        self.register(self.kind_combo, "How η changes from epoch to epoch (e = epoch, 0-based; E = epochs).", field="kind")
        self.kind_combo.currentIndexChanged.connect(self._update_rows)
        add_row(form, "Kind", self.kind_combo)

        self.step_spin = IntSpinBox(1, S.MAX_EPOCHS)
        self.register(self.step_spin, "Multiply η by γ every this many epochs.", field="step_size")
        add_row(form, "Step size (epochs)", self.step_spin)

        self.milestones_edit = QLineEdit()
        self.milestones_edit.setPlaceholderText("e.g. 50, 100, 150")
        self.register(
            self.milestones_edit,
            "Epochs at which η is multiplied by γ: whole numbers ≥ 1, strictly increasing,\n"
            "separated by commas.",
            field="milestones",
        )
        add_row(form, "Milestones", self.milestones_edit)

        self.gamma_spin = FloatSpinBox(0.0001, 1.0, decimals=4, step=0.05)
        self.register(self.gamma_spin, "", field="gamma")
        self.gamma_label = add_row(form, "Factor γ", self.gamma_spin)

        self.end_spin = FloatSpinBox(0.0, 1.0, decimals=3, step=0.05)
        self.register(self.end_spin, "The last epoch runs at end factor · η (0 = decay to zero).", field="end_factor")
        add_row(form, "End factor", self.end_spin)

        self.power_spin = FloatSpinBox(0.0, 5.0, decimals=3, step=0.1)
        self.register(self.power_spin, "Exponent p of ηₑ = η / (e + 1)ᵖ  (0.5: 1/√t decay).", field="power")
        add_row(form, "Power <i>p</i>", self.power_spin)

        self.period_spin = IntSpinBox(0, S.MAX_EPOCHS)
        self.period_spin.setSpecialValueText("whole run")
        self.register(
            self.period_spin,
            "Period T in epochs of one cosine half-wave (0 = the whole run).",
            field="period",
        )
        add_row(form, "Period <i>T</i>", self.period_spin)
        self.restarts_check = QCheckBox("Warm restarts (SGDR)")
        self.register(
            self.restarts_check,
            "Jump back to η at the end of every period; the next period is T_mult times longer.",
            field="warm_restarts",
        )
        self.restarts_check.toggled.connect(self._update_rows)
        form.addRow("", self.restarts_check)
        self.tmult_spin = IntSpinBox(1, 10)
        self.register(self.tmult_spin, "Each period is T_mult times as long as the previous one.", field="t_mult")
        add_row(form, "T<sub>mult</sub>", self.tmult_spin)

        self.pct_spin = FloatSpinBox(0.01, 0.99, decimals=2, step=0.05)
        self.register(self.pct_spin, "Fraction of the epochs spent warming up from η/div to η.", field="pct_start")
        add_row(form, "Rise fraction", self.pct_spin)
        self.div_spin = SciSpinBox(1.0, 1e4, smallest=1.0)
        self.register(self.div_spin, "The cycle starts at η / div.", field="div_factor")
        add_row(form, "Start div", self.div_spin)
        self.final_div_spin = SciSpinBox(1.0, 1e6, smallest=1.0)
        self.register(self.final_div_spin, "The cycle ends at η / (div · final div).", field="final_div_factor")
        add_row(form, "Final div", self.final_div_spin)

        self.monitor_combo = make_combo([("Validation loss", "val_loss"), ("Training loss", "train_loss")])
        self.register(self.monitor_combo, "The loss watched for a plateau.", field="monitor")
        add_row(form, "Monitor", self.monitor_combo)
        self.factor_spin = FloatSpinBox(0.01, 0.99, decimals=3, step=0.05)
        self.register(self.factor_spin, "η ← η · factor at each plateau.", field="factor")
        add_row(form, "Factor", self.factor_spin)
        self.patience_spin = IntSpinBox(0, S.MAX_EPOCHS)
        self.register(
            self.patience_spin, "Epochs without improvement before η is reduced.", field="patience"
        )
        add_row(form, "Patience", self.patience_spin)
        self.cooldown_spin = IntSpinBox(0, S.MAX_EPOCHS)
        self.register(self.cooldown_spin, "Epochs to wait after a reduction before watching again.", field="cooldown")
        add_row(form, "Cooldown", self.cooldown_spin)
        self.threshold_spin = SciSpinBox(0.0, 1.0, smallest=1e-6)
        self.register(
            self.threshold_spin,
            "Relative improvement that counts: a new loss must be below best · (1 − threshold).",
            field="threshold",
        )
        add_row(form, "Threshold", self.threshold_spin)
        self.min_lr_spin = SciSpinBox(0.0, 10.0, smallest=1e-8)
        self.register(self.min_lr_spin, "Lower bound η_min of the learning rate.", field="min_lr")
        add_row(form, "Minimum η<sub>min</sub>", self.min_lr_spin)
        self.content.addWidget(box)

        warm_box = QGroupBox("Warm-up (any kind)")
        wform = new_form()
        warm_box.setLayout(wform)
        self.warmup_spin = IntSpinBox(0, S.MAX_EPOCHS)
        self.register(
            self.warmup_spin,
            "Linear warm-up over the first epochs: η rises from start factor · η to the schedule's\n"
            "value, then the schedule takes over.  0 = no warm-up.",
            field="warmup_epochs",
        )
        add_row(wform, "Warm-up epochs", self.warmup_spin)
        self.warmup_factor_spin = FloatSpinBox(0.0, 1.0, decimals=3, step=0.05)
        self.register(self.warmup_factor_spin, "The first warm-up epoch runs at this fraction of η.", field="warmup_start_factor")
        add_row(wform, "Start factor", self.warmup_factor_spin)
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
        self.preview_note = hint_label("")  # a note: restyled with the theme (QA: unreadable on dark)
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

    def apply_style(self, style) -> None:
        import pyqtgraph as pg

        super().apply_style(style)
        self._curve.setPen(pg.mkPen(style.line_color("lr"), width=style.px(2)))

    def preview_data(self) -> np.ndarray | None:
        """The previewed learning rate per epoch (epoch 1 first), or None if unavailable."""
        return None if self._preview is None else self._preview.copy()

    def visible_fields(self) -> list[str]:
        return [name for name, w in self._field_widgets().items() if not w.isHidden()]

    # -- internals ------------------------------------------------------------------------------
    def _field_widgets(self) -> dict[str, QWidget]:
        return {
            "step_size": self.step_spin,
            "milestones": self.milestones_edit,
            "gamma": self.gamma_spin,
            "end_factor": self.end_spin,
            "power": self.power_spin,
            "period": self.period_spin,
            "warm_restarts": self.restarts_check,
            "t_mult": self.tmult_spin,
            "pct_start": self.pct_spin,
            "div_factor": self.div_spin,
            "final_div_factor": self.final_div_spin,
            "monitor": self.monitor_combo,
            "factor": self.factor_spin,
            "patience": self.patience_spin,
            "cooldown": self.cooldown_spin,
            "threshold": self.threshold_spin,
            "min_lr": self.min_lr_spin,
        }

    def _update_rows(self, *_args: Any) -> None:
        kind = self.kind_combo.currentData()
        relevant = set(RELEVANT.get(kind, ()))
        if kind == "cosine" and not self.restarts_check.isChecked():
            relevant.discard("t_mult")
        for name, widget in self._field_widgets().items():
            self._form.setRowVisible(widget, name in relevant)
        gamma_tips = {
            "step": "γ ∈ (0, 1]: η is multiplied by γ every step-size epochs, ηₑ = η · γ^⌊e/step⌋.",
            "multistep": "γ ∈ (0, 1]: η is multiplied by γ at each milestone.",
            "exponential": "γ ∈ (0, 1]: ηₑ = η · γᵉ (e.g. 0.99 halves η in ≈ 69 epochs).",
        }
        self.gamma_spin.setToolTip(gamma_tips.get(kind, "γ ∈ (0, 1]"))
        self.gamma_label.setToolTip(self.gamma_spin.toolTip())
        self.kind_combo.setToolTip(
            "How η changes from epoch to epoch (e = epoch, 0-based; E = epochs):\n" + KIND_TIPS.get(kind, "")
        )

    def _show(self, v: S.ScheduleSpec) -> None:
        set_combo_data(self.kind_combo, v.kind)
        self.step_spin.setValue(v.step_size)
        self.milestones_edit.setText(", ".join(str(m) for m in v.milestones))
        self.gamma_spin.setValue(v.gamma)
        self.end_spin.setValue(v.end_factor)
        self.power_spin.setValue(v.power)
        self.period_spin.setValue(v.period)
        self.restarts_check.setChecked(v.warm_restarts)
        self.tmult_spin.setValue(v.t_mult)
        self.pct_spin.setValue(v.pct_start)
        self.div_spin.setValue(v.div_factor)
        self.final_div_spin.setValue(v.final_div_factor)
        set_combo_data(self.monitor_combo, v.monitor)
        self.factor_spin.setValue(v.factor)
        self.patience_spin.setValue(v.patience)
        self.cooldown_spin.setValue(v.cooldown)
        self.threshold_spin.setValue(v.threshold)
        self.min_lr_spin.setValue(v.min_lr)
        self.warmup_spin.setValue(v.warmup_epochs)
        self.warmup_factor_spin.setValue(v.warmup_start_factor)
        self._update_rows()

    def _collect(self) -> dict[str, Any]:
        return dict(
            kind=self.kind_combo.currentData(),
            step_size=self.step_spin.value(),
            milestones=parse_milestones(self.milestones_edit.text()),
            gamma=round(self.gamma_spin.value(), 8),
            end_factor=round(self.end_spin.value(), 8),
            power=round(self.power_spin.value(), 8),
            period=self.period_spin.value(),
            warm_restarts=self.restarts_check.isChecked(),
            t_mult=self.tmult_spin.value(),
            pct_start=round(self.pct_spin.value(), 8),
            div_factor=self.div_spin.value(),
            final_div_factor=self.final_div_spin.value(),
            monitor=self.monitor_combo.currentData(),
            factor=round(self.factor_spin.value(), 8),
            patience=self.patience_spin.value(),
            cooldown=self.cooldown_spin.value(),
            threshold=self.threshold_spin.value(),
            min_lr=self.min_lr_spin.value(),
            warmup_epochs=self.warmup_spin.value(),
            warmup_start_factor=round(self.warmup_factor_spin.value(), 8),
        )

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


__all__ = ["ScheduleDock", "parse_milestones", "compute_preview", "schedule_fields"]
