"""The Regularization dock: penalties, decoupled decay, input noise and the dropout
test-time method (``RegularizationSpec``).

``l1``, ``l2`` and ``weight_decay`` stay editable during a run (the trainer picks them
up at the next epoch); everything else locks.
"""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtWidgets import QCheckBox, QGroupBox, QWidget

from workbench import spec as S

from .base import FloatSpinBox, IntSpinBox, SciSpinBox, SpecDock, add_row, hint_label, make_combo, new_form, set_combo_data

METHOD_TIPS = {
    "inverted": "Inverted dropout (default): during training kept units are scaled by 1/(1 − p),\n"
    "so at test time the full network is used unchanged.",
    "classic": "Classic dropout: train with plain masks; at test time scale each layer's outgoing\n"
    "weights by the keep probability (1 − p), so expected activations match training.",
    "mc": "Monte-Carlo dropout: keep dropout on at test time and average the predictions of N\n"
    "randomly masked passes (slower; N = 'MC samples').",
}


def _formula_label(name: str, formula: str) -> str:
    """A form label with its formula on a second, smaller line (narrow docks)."""
    return f"{name}<br><span style='font-size:small; color:gray'>{formula}</span>"


class RegularizationDock(SpecDock):
    """Edits :class:`workbench.spec.RegularizationSpec`."""

    prefix = "regularization"
    live_note = "L1, L2 and weight decay stay live"

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Regularization", "regularizationDock", S.RegularizationSpec(), parent)

        pen_box = QGroupBox("Penalties (live during a run)")
        form = new_form()
        pen_box.setLayout(form)
        self.l1_spin = SciSpinBox(0.0, 100.0, smallest=1e-6)
        self.register(
            self.l1_spin,
            "L1 penalty α‖w‖₁ = α Σ|wᵢ| added to the loss; its gradient α·sign(w) pushes weights to\n"
            "exactly 0 (sparse weights).  0 = off.  Editable during a run.",
            field="l1",
        )
        add_row(form, _formula_label("L1 α", "α‖w‖₁"), self.l1_spin)
        self.l2_spin = SciSpinBox(0.0, 100.0, smallest=1e-6)
        self.register(
            self.l2_spin,
            "L2 penalty (α/2)‖w‖² = (α/2) wᵀw added to the loss; its gradient αw enters the update\n"
            "(coupled: Adam's 1/√s scaling also scales it).  0 = off.  Editable during a run.",
            field="l2",
        )
        add_row(form, _formula_label("L2 α", "(α/2)‖w‖²"), self.l2_spin)
        self.wd_spin = SciSpinBox(0.0, 100.0, smallest=1e-6)
        self.register(
            self.wd_spin,
            "Decoupled weight decay λ: w ← w − ηλw beside the optimizer step (not through the gradient;\n"
            "AdamW: W_t = W_{t−1} − η(adam step + λW_{t−1})).  Works with every optimizer.\n"
            "0 = off.  Editable during a run.",
            field="weight_decay",
        )
        add_row(form, _formula_label("Weight decay λ", "w ← w − ηλw"), self.wd_spin)
        self.biases_check = QCheckBox("Penalize biases too")
        self.register(
            self.biases_check,
            "Apply L1, L2 and weight decay to the biases as well (usually only weights are penalized:\n"
            "biases do not make the function more complex).",
            field="penalize_biases",
        )
        form.addRow("", self.biases_check)
        self.content.addWidget(pen_box)

        noise_box = QGroupBox("Noise and dropout")
        nform = new_form()
        noise_box.setLayout(nform)
        self._nform = nform
        self.noise_spin = FloatSpinBox(0.0, 10.0, decimals=3, step=0.01)
        self.register(
            self.noise_spin,
            "Gaussian input noise: each training batch gets x ← x + ε, ε ~ N(0, σ²) (fresh every batch;\n"
            "never on validation or test data).  0 = off.",
            field="input_noise",
        )
        add_row(nform, "Input noise σ", self.noise_spin)
        self.method_combo = make_combo(
            [
                ("Inverted (default)", "inverted"),
                ("Classic: w × (1 − p)", "classic"),
                ("Monte-Carlo: N passes", "mc"),
            ],
            METHOD_TIPS,
        )
        self.register(
            self.method_combo,
            "How predictions compensate for dropout at test time (the rates p are set per layer in\n"
            "Architecture):\n" + "\n".join(METHOD_TIPS.values()),
            field="dropout_test_method",
        )
        self.method_combo.currentIndexChanged.connect(self._update_rows)
        add_row(nform, "Dropout at<br>test time", self.method_combo)
        self.mc_spin = IntSpinBox(1, 1000)
        self.register(
            self.mc_spin,
            "N: number of masked forward passes averaged per prediction, ŷ = (1/N) Σₙ f(x; maskₙ).",
            field="mc_samples",
        )
        add_row(nform, "MC samples <i>N</i>", self.mc_spin)
        self.content.addWidget(noise_box)
        self.content.addWidget(
            hint_label("Dropout rates are set per layer in <b>Architecture</b>.  L1/L2 enter the loss "
                       "(and the curves' penalty); weight decay does not.")
        )
        self.set_value(S.RegularizationSpec())

    def _update_rows(self, *_args: Any) -> None:
        self._nform.setRowVisible(self.mc_spin, self.method_combo.currentData() == "mc")

    def _show(self, v: S.RegularizationSpec) -> None:
        self.l1_spin.setValue(v.l1)
        self.l2_spin.setValue(v.l2)
        self.wd_spin.setValue(v.weight_decay)
        self.biases_check.setChecked(v.penalize_biases)
        self.noise_spin.setValue(v.input_noise)
        set_combo_data(self.method_combo, v.dropout_test_method)
        self.mc_spin.setValue(v.mc_samples)
        self._update_rows()

    def _collect(self) -> dict[str, Any]:
        return dict(
            l1=self.l1_spin.value(),
            l2=self.l2_spin.value(),
            weight_decay=self.wd_spin.value(),
            penalize_biases=self.biases_check.isChecked(),
            input_noise=round(self.noise_spin.value(), 6),
            dropout_test_method=self.method_combo.currentData(),
            mc_samples=self.mc_spin.value(),
        )

    def _live_widgets(self) -> Iterable[QWidget]:
        return (self.l1_spin, self.l2_spin, self.wd_spin)


__all__ = ["RegularizationDock"]
