"""The Early-stopping editor (``EarlyStoppingSpec``), lecture notes 001.

Stop when the monitored validation metric has not improved by more than ``min_delta``
for ``patience`` epochs; optionally restore the best weights; optionally follow up by
using the validation data for training too (the two recipes of the notes).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QGroupBox, QWidget

from workbench import spec as S
from workbench.build import MONITORS

from ..widgets.forms import hint_label, new_form
from .base import Row, SpecEditor

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

ROWS = (
    Row("monitor", "combo", "Monitor",
        "The value watched for improvement.  Accuracy is for classification, RMSE and R² for regression.",
        choices=(("Validation loss", "val_loss"), ("Validation accuracy", "val_accuracy"),
                 ("Validation RMSE", "val_rmse"), ("Validation R²", "val_r2")),
        choice_tips={
            "val_loss": "the data loss on the validation split (lower is better)",
            "val_accuracy": "fraction of correctly classified validation samples (higher is better)",
            "val_rmse": "√((1/n) Σ‖y − ŷ‖²) on the validation split (lower is better)",
            "val_r2": "R² = 1 − SS_res/SS_tot on the validation split (higher is better)",
        }),
    Row("mode", "combo", "Mode", "Which direction is an improvement (auto: min for loss/RMSE, max for accuracy/R²).",
        choices=(("Auto", "auto"), ("Minimize", "min"), ("Maximize", "max")),
        choice_tips={"auto": "loss and RMSE: lower is better; accuracy and R²: higher is better",
                     "min": "improvement = a decrease", "max": "improvement = an increase"}),
    Row("patience", "int", "Patience (epochs)",
        "Stop after this many consecutive epochs without improvement (0 = at the first one)."),
    Row("min_delta", "sci", "Min delta",
        "min_delta: a change smaller than this does not count as an improvement\n"
        "(min mode: improved if value < best − min_delta).", smallest=1e-6, attr="delta_spin"),
    Row("start_epoch", "int", "Start epoch",
        "Do not count patience before this epoch (lets noisy early epochs pass).", attr="start_spin"),
    Row("restore_best", "check", "Restore best weights",
        "At the end of the run — early stopping or the last epoch — put back the weights of the\n"
        "best epoch (otherwise keep the last ones).", attr="restore_check"),
    Row("followup", "combo", "Follow-up",
        "After stopping, use the validation data for training too (lecture notes 001):\n"
        + "\n".join(FOLLOWUP_TIPS.values()),
        choices=(("None", "none"), ("Retrain on train+val", "retrain"), ("Continue on train+val", "continue")),
        choice_tips=FOLLOWUP_TIPS),
)


class EarlyStoppingEditor(SpecEditor):
    """Edits :class:`workbench.spec.EarlyStoppingSpec`."""

    prefix = "early_stopping"
    spec_class = S.EarlyStoppingSpec
    title = "Early stopping"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(S.EarlyStoppingSpec(), parent)
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
        self.add_rows(form, ROWS)
        self.followup_note = hint_label("")
        self.followup_note.setObjectName("followupNote")
        form.addRow("", self.followup_note)
        self.followup_combo.currentIndexChanged.connect(self._update_note)
        self.content.addWidget(self.group)
        self.content.addWidget(hint_label("Early stopping needs a validation fraction &gt; 0 (Data dock)."))
        self.set_value(S.EarlyStoppingSpec())

    def _update_note(self, *_args: Any) -> None:
        text = FOLLOWUP_NOTES.get(self.followup_combo.currentData(), "")
        self.followup_note.setText(text)
        self.followup_note.setVisible(bool(text))

    def set_task(self, task: str) -> None:
        """Offer only the monitors ``task`` measures (``binary``/``multiclass``: loss and
        accuracy; ``regression``: loss, RMSE and R²); the others are greyed out."""
        allowed = MONITORS[task]
        model = self.monitor_combo.model()
        for i in range(self.monitor_combo.count()):
            model.item(i).setEnabled(self.monitor_combo.itemData(i) in allowed)

    def monitor_enabled(self, monitor: str) -> bool:
        index = self.monitor_combo.findData(monitor)
        return index >= 0 and self.monitor_combo.model().item(index).isEnabled()

    def _show(self, v: S.EarlyStoppingSpec) -> None:
        self.group.setChecked(v.enabled)
        self._update_note()

    def _collect(self) -> dict[str, Any]:
        return {"enabled": self.group.isChecked()}
