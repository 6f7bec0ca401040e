"""The Training editor: epochs, mini-batch size and the seed (``TrainingSpec``)."""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from workbench import spec as S

from ..widgets.forms import add_row, hint_label, new_form
from ..widgets.spinboxes import BigIntSpinBox
from .base import Row, SpecEditor

#: "New seed" draws from 0 … NEW_SEED_MAX (short enough to read out and type)
NEW_SEED_MAX = 999_999

ROWS = (
    Row("epochs", "int", "Epochs", "Number of epochs: full passes over the training split.", step=10),
    Row("batch_size", "int", "Batch size <i>B</i>",
        "Mini-batch size B: the gradient of each update is the mean over B shuffled samples,\n"
        "L = (1/B) Σᵢ ℓ(f(W, xᵢ), yᵢ).  B = 1: stochastic GD; B ≥ training samples: full-batch GD.",
        attr="batch_spin"),
)


class TrainingEditor(SpecEditor):
    """Edits :class:`workbench.spec.TrainingSpec`."""

    prefix = "training"
    spec_class = S.TrainingSpec
    title = "Training"

    def __init__(self, parent: QWidget | None = None, rng: random.Random | None = None):
        super().__init__(S.TrainingSpec(), parent)
        self._rng = rng or random.Random()
        form = new_form()
        self.content.addLayout(form)
        self.add_rows(form, ROWS)
        self.epochs_spin.setSingleStep(10)

        seed_row = QWidget()
        row = QHBoxLayout(seed_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.seed_spin = BigIntSpinBox(0, S.MAX_SEED)
        self.register(
            self.seed_spin,
            "Seed of the weight initialisation, shuffling, dropout masks and input noise.\n"
            "Same spec + same seed → the same numbers every run.",
            field="seed",
        )
        self.new_seed_button = QPushButton("New seed")
        self.register(self.new_seed_button, f"Draw a fresh random seed (0 … {NEW_SEED_MAX:,})", commit=False)
        self.new_seed_button.clicked.connect(self.new_seed)
        row.addWidget(self.seed_spin, 1)
        row.addWidget(self.new_seed_button)
        add_row(form, "Seed", seed_row)
        self.content.addWidget(
            hint_label("B = 1 is stochastic gradient descent; B ≥ the training samples is full-batch descent.")
        )
        self.set_value(S.TrainingSpec())

    def new_seed(self) -> int:
        """Pick a new random seed (different from the current one) and emit the edit."""
        current = self._value.seed
        seed = current
        while seed == current:
            seed = self._rng.randint(0, NEW_SEED_MAX)
        self.seed_spin.setValue(float(seed))
        return seed

    def _show(self, v: S.TrainingSpec) -> None:
        self.seed_spin.setValue(float(v.seed))

    def _collect(self) -> dict[str, Any]:
        return {"seed": self.seed_spin.int_value()}
