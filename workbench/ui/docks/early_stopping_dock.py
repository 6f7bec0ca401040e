"""The Early-stopping dock (``EarlyStoppingSpec``), lecture notes 001.

Stop when the monitored validation metric has not improved by more than ``min_delta``
for ``patience`` epochs; optionally restore the best weights; optionally follow up by
using the validation data for training too (the two recipes of the notes).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QGroupBox, QWidget

from workbench import spec as S

from .base import IntSpinBox, SciSpinBox, SpecDock, add_row, hint_label, make_combo, new_form, set_combo_data

FOLLOWUP_NOTES = {
    "none": "",
    "retrain": "Re-initialise and train on train + validation for the best number of epochs i*.",
    "continue": "Keep the weights and train on train + validation until the training loss falls to "
    "its value at the best epoch.",
}
FOLLOWUP_TIPS = {
    "none": "Keep the network as it is when training stops.",
    "retrain": "Retrain: re-initialise the weights and train on train + validation for the best number\n"
    "of epochs i* found by early stopping.",
    "continue": "Continue: keep the weights and go on training on train + validation until the training\n"
    "loss falls to the value ε it had at the best epoch.",
}


class EarlyStoppingDock(SpecDock):
    """Edits :class:`workbench.spec.EarlyStoppingSpec`."""

    prefix = "early_stopping"

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Early stopping", "earlyStoppingDock", S.EarlyStoppingSpec(), parent)
        self.group = QGroupBox("Stop when validation stops improving")
        self.group.setCheckable(True)
        self.register(
            self.group,
            "Early stopping: watch a validation metric every epoch and stop when it has not improved\n"
            "for 'patience' epochs (needs a validation fraction > 0 in Data).",
            field="enabled",
            commit=False,
        )
        self.group.toggled.connect(self._commit)
        form = new_form()
        self.group.setLayout(form)

        self.monitor_combo = make_combo(
            [
                ("Validation loss", "val_loss"),
                ("Validation accuracy", "val_accuracy"),
                ("Validation RMSE", "val_rmse"),
                ("Validation R²", "val_r2"),
            ],
            {
                "val_loss": "the data loss on the validation split (lower is better)",
                "val_accuracy": "fraction of correctly classified validation samples (higher is better)",
                "val_rmse": "√((1/n) Σ‖y − ŷ‖²) on the validation split (lower is better)",
                "val_r2": "R² = 1 − SS_res/SS_tot on the validation split (higher is better)",
            },
        )
        self.register(
            self.monitor_combo,
            "The value watched for improvement.  Accuracy is for classification, RMSE and R² for regression.",
            field="monitor",
        )
        add_row(form, "Monitor", self.monitor_combo)
        self.mode_combo = make_combo(
            [("Auto", "auto"), ("Minimize", "min"), ("Maximize", "max")],
            {
                "auto": "loss and RMSE: lower is better; accuracy and R²: higher is better",
                "min": "improvement = a decrease",
                "max": "improvement = an increase",
            },
        )
        self.register(
            self.mode_combo,
            "Which direction is an improvement (auto: min for loss/RMSE, max for accuracy/R²).",
            field="mode",
        )
        add_row(form, "Mode", self.mode_combo)
        self.patience_spin = IntSpinBox(0, S.MAX_EPOCHS)
        self.register(
            self.patience_spin,
            "Stop after this many consecutive epochs without improvement (0 = at the first one).",
            field="patience",
        )
        add_row(form, "Patience (epochs)", self.patience_spin)
        self.delta_spin = SciSpinBox(0.0, 1e6, smallest=1e-6)
        self.register(
            self.delta_spin,
            "min_delta: a change smaller than this does not count as an improvement\n"
            "(min mode: improved if value < best − min_delta).",
            field="min_delta",
        )
        add_row(form, "Min delta", self.delta_spin)
        self.start_spin = IntSpinBox(0, S.MAX_EPOCHS)
        self.register(
            self.start_spin,
            "Do not count patience before this epoch (lets noisy early epochs pass).",
            field="start_epoch",
        )
        add_row(form, "Start epoch", self.start_spin)
        self.restore_check = QCheckBox("Restore best weights")
        self.register(
            self.restore_check,
            "When stopping, put back the weights of the best epoch (otherwise keep the last ones).",
            field="restore_best",
        )
        form.addRow("", self.restore_check)
        self.followup_combo = make_combo(
            [
                ("None", "none"),
                ("Retrain on train+val", "retrain"),
                ("Continue on train+val", "continue"),
            ],
            FOLLOWUP_TIPS,
        )
        self.register(
            self.followup_combo,
            "After stopping, use the validation data for training too (lecture notes 001):\n"
            + "\n".join(FOLLOWUP_TIPS.values()),
            field="followup",
        )
        add_row(form, "Follow-up", self.followup_combo)
        self.followup_note = hint_label("")
        self.followup_note.setObjectName("followupNote")
        form.addRow("", self.followup_note)
        self.followup_combo.currentIndexChanged.connect(self._update_note)
        self.content.addWidget(self.group)
        self.content.addWidget(
            hint_label("Early stopping needs a validation fraction &gt; 0 (Data dock).")
        )
        self.set_value(S.EarlyStoppingSpec())

    def _update_note(self, *_args: Any) -> None:
        text = FOLLOWUP_NOTES.get(self.followup_combo.currentData(), "")
        self.followup_note.setText(text)
        self.followup_note.setVisible(bool(text))

    def set_task(self, task: str) -> None:
        """Offer only the monitors ``task`` measures (``binary``/``multiclass``: loss and
        accuracy; ``regression``: loss, RMSE and R²); the others are greyed out."""
        from workbench.build import MONITORS  # noqa: PLC0415

        allowed = MONITORS[task]
        model = self.monitor_combo.model()
        for i in range(self.monitor_combo.count()):
            model.item(i).setEnabled(self.monitor_combo.itemData(i) in allowed)

    def monitor_enabled(self, monitor: str) -> bool:
        index = self.monitor_combo.findData(monitor)
        return index >= 0 and self.monitor_combo.model().item(index).isEnabled()

    def _show(self, v: S.EarlyStoppingSpec) -> None:
        self.group.setChecked(v.enabled)
        set_combo_data(self.monitor_combo, v.monitor)
        set_combo_data(self.mode_combo, v.mode)
        self.patience_spin.setValue(v.patience)
        self.delta_spin.setValue(v.min_delta)
        self.start_spin.setValue(v.start_epoch)
        self.restore_check.setChecked(v.restore_best)
        set_combo_data(self.followup_combo, v.followup)
        self._update_note()

    def _collect(self) -> dict[str, Any]:
        return dict(
            enabled=self.group.isChecked(),
            monitor=self.monitor_combo.currentData(),
            mode=self.mode_combo.currentData(),
            patience=self.patience_spin.value(),
            min_delta=self.delta_spin.value(),
            start_epoch=self.start_spin.value(),
            restore_best=self.restore_check.isChecked(),
            followup=self.followup_combo.currentData(),
        )


__all__ = ["EarlyStoppingDock"]
