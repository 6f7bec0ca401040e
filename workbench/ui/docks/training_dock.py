"""The Training dock: epochs, mini-batch size and the seed (``TrainingSpec``)."""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from workbench import spec as S

from .base import BigIntSpinBox, IntSpinBox, SpecDock, add_row, hint_label, new_form

#: "New seed" draws from 0 … NEW_SEED_MAX (short enough to read out and type)
NEW_SEED_MAX = 999_999


class TrainingDock(SpecDock):
    """Edits :class:`workbench.spec.TrainingSpec`."""

    prefix = "training"

    def __init__(self, parent: QWidget | None = None, rng: random.Random | None = None):
        super().__init__("Training", "trainingDock", S.TrainingSpec(), parent)
        self._rng = rng or random.Random()
        form = new_form()
        self.content.addLayout(form)
        self.epochs_spin = IntSpinBox(1, S.MAX_EPOCHS)
        self.epochs_spin.setSingleStep(10)
        self.register(
            self.epochs_spin,
            "Number of epochs: full passes over the training split.",
            field="epochs",
        )
        add_row(form, "Epochs", self.epochs_spin)
        self.batch_spin = IntSpinBox(1, S.MAX_BATCH)
        self.register(
            self.batch_spin,
            "Mini-batch size B: the gradient of each update is the mean over B shuffled samples,\n"
            "L = (1/B) Σᵢ ℓ(f(W, xᵢ), yᵢ).  B = 1: stochastic GD; B ≥ training samples: full-batch GD.",
            field="batch_size",
        )
        add_row(form, "Batch size <i>B</i>", self.batch_spin)

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
        self.register(
            self.new_seed_button,
            f"Draw a fresh random seed (0 … {NEW_SEED_MAX:,})",
            commit=False,
        )
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
        self.epochs_spin.setValue(v.epochs)
        self.batch_spin.setValue(v.batch_size)
        self.seed_spin.setValue(float(v.seed))

    def _collect(self) -> dict[str, Any]:
        return dict(
            epochs=self.epochs_spin.value(),
            batch_size=self.batch_spin.value(),
            seed=self.seed_spin.int_value(),
        )


__all__ = ["TrainingDock", "NEW_SEED_MAX"]
