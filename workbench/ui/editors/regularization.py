"""The Regularization editor: penalties, decoupled decay, input noise and the dropout
test-time method (``RegularizationSpec``).

``l1``, ``l2`` and ``weight_decay`` stay editable during a run (the trainer picks them
up at the next epoch); everything else locks.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QGroupBox, QWidget

from workbench import spec as S

from ..widgets.forms import formula_label, hint_label, new_form
from .base import Row, SpecEditor

METHOD_TIPS = {
    "inverted": "Inverted dropout (default): during training kept units are scaled by 1/(1 − p),\n"
    "so at test time the full network is used unchanged.",
    "classic": "Classic dropout: train with plain masks; at test time scale each layer's outgoing\n"
    "weights by the keep probability (1 − p), so expected activations match training.",
    "mc": "Monte-Carlo dropout: keep dropout on at test time and average the predictions of N\n"
    "randomly masked passes (slower; N = 'MC samples').",
}

PENALTIES = (
    Row("l1", "sci", formula_label("L1 α", "α‖w‖₁"),
        "L1 penalty α‖w‖₁ = α Σ|wᵢ| added to the loss; its gradient α·sign(w) pushes weights to\n"
        "exactly 0 (sparse weights).  0 = off.  Editable during a run.", smallest=1e-6, live=True),
    Row("l2", "sci", formula_label("L2 α", "(α/2)‖w‖²"),
        "L2 penalty (α/2)‖w‖² = (α/2) wᵀw added to the loss; its gradient αw enters the update\n"
        "(coupled: Adam's 1/√s scaling also scales it).  0 = off.  Editable during a run.", smallest=1e-6, live=True),
    Row("weight_decay", "sci", formula_label("Weight decay λ", "w ← w − ηλw"),
        "Decoupled weight decay λ: w ← w − ηλw beside the optimizer step (not through the gradient;\n"
        "AdamW: W_t = W_{t−1} − η(adam step + λW_{t−1})).  Works with every optimizer.\n"
        "0 = off.  Editable during a run.", smallest=1e-6, attr="wd_spin", live=True),
    Row("penalize_biases", "check", "Penalize biases too",
        "Apply L1, L2 and weight decay to the biases as well (usually only weights are penalized:\n"
        "biases do not make the function more complex).", attr="biases_check"),
)
NOISE_AND_DROPOUT = (
    Row("input_noise", "float", "Input noise σ",
        "Gaussian input noise: each training batch gets x ← x + ε, ε ~ N(0, σ²) (fresh every batch;\n"
        "never on validation or test data).  0 = off.", decimals=3, step=0.01, attr="noise_spin"),
    Row("dropout_test_method", "combo", "Dropout at<br>test time",
        "How predictions compensate for dropout at test time (the rates p are set per layer in\n"
        "Architecture):\n" + "\n".join(METHOD_TIPS.values()),
        choices=(("Inverted (default)", "inverted"), ("Classic: w × (1 − p)", "classic"),
                 ("Monte-Carlo: N passes", "mc")), choice_tips=METHOD_TIPS, attr="method_combo"),
    Row("mc_samples", "int", "MC samples <i>N</i>",
        "N: number of masked forward passes averaged per prediction, ŷ = (1/N) Σₙ f(x; maskₙ).", attr="mc_spin"),
)


class RegularizationEditor(SpecEditor):
    """Edits :class:`workbench.spec.RegularizationSpec`."""

    prefix = "regularization"
    spec_class = S.RegularizationSpec
    title = "Regularization"
    live_note = "L1, L2 and weight decay stay live"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(S.RegularizationSpec(), parent)
        pen_box = QGroupBox("Penalties (live during a run)")
        form = new_form()
        pen_box.setLayout(form)
        self.add_rows(form, PENALTIES)
        self.content.addWidget(pen_box)

        noise_box = QGroupBox("Noise and dropout")
        nform = new_form()
        noise_box.setLayout(nform)
        self.add_rows(nform, NOISE_AND_DROPOUT)
        self.method_combo.currentIndexChanged.connect(self._update_rows)
        self.content.addWidget(noise_box)
        self.content.addWidget(
            hint_label("Dropout rates are set per layer in <b>Architecture</b>.  L1/L2 enter the loss "
                       "(and the curves' penalty); weight decay does not.")
        )
        self.set_value(S.RegularizationSpec())

    def _update_rows(self, *_args: Any) -> None:
        self.set_row_visible("mc_samples", self.method_combo.currentData() == "mc")

    def _show(self, v: S.RegularizationSpec) -> None:
        self._update_rows()
