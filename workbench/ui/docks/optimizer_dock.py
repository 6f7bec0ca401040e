"""The Optimizer dock: the update rule and its hyperparameters (``OptimizerSpec``).

Only the fields the chosen rule uses are shown, with the rule itself as a formula
(notation of the lecture notes: g_t the mini-batch gradient, η the learning rate).

Switching the kind adjusts values the user has evidently not chosen for the new rule:

* to **Adadelta** while η is still the default 0.01: η = 1.0, ρ = 0.9, ε = 10⁻⁶
  (Adadelta's own step has unit scale; η only multiplies it);
* away from Adadelta while η = 1.0: η = 0.01 (and ε = 10⁻⁸ if it was 10⁻⁶);
* to **Nesterov** while momentum β = 0 (which Nesterov refuses): β = 0.9.

Only η stays editable during a run (it is picked up at the next epoch).
"""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QFrame, QLabel, QWidget

from workbench import spec as S
from workbench.engine.optimizers import HYPERPARAMETERS, OPTIMIZERS, optimizer_class

from .base import FloatSpinBox, SciSpinBox, SpecDock, add_row, hint_label, make_combo, new_form, set_combo_data

KIND_LABELS = {kind: optimizer_class(kind).label for kind in OPTIMIZERS}

#: fields shown for each kind (lr always)
RELEVANT = {kind: optimizer_class(kind).uses for kind in OPTIMIZERS}

_G = "<i>g</i><sub>t</sub>"
_W = "<b>w</b>"


def formula_html(kind: str, momentum_form: str = "velocity", bias_correction: bool = True) -> str:
    """The update rule of ``kind`` as rich text (the same text, plain, is in the tooltip)."""
    w_t, w_p = "<b>w</b><sub>t</sub>", "<b>w</b><sub>t−1</sub>"
    if kind == "sgd":
        lines = [f"{w_t} = {w_p} − η {_G}"]
    elif kind == "momentum" and momentum_form == "accumulator":
        lines = [
            "<b>M</b><sub>t</sub> = β <b>M</b><sub>t−1</sub> + " + _G,
            f"{w_t} = {w_p} − η <b>M</b><sub>t</sub>",
        ]
    elif kind == "momentum":
        lines = [
            "<b>v</b><sub>t</sub> = β <b>v</b><sub>t−1</sub> + η " + _G,
            f"{w_t} = {w_p} − <b>v</b><sub>t</sub>",
        ]
    elif kind == "nesterov":
        lines = [
            "<b>v</b><sub>t</sub> = β <b>v</b><sub>t−1</sub> + η ∇L(" + w_p + " − β <b>v</b><sub>t−1</sub>)",
            f"{w_t} = {w_p} − <b>v</b><sub>t</sub>  (gradient at the look-ahead point)",
        ]
    elif kind == "adagrad":
        lines = [
            f"<b>s</b><sub>t</sub> = <b>s</b><sub>t−1</sub> + {_G} ⊙ {_G}",
            f"{w_t} = {w_p} − η / √(<b>s</b><sub>t</sub> + ε) ⊙ {_G}",
        ]
    elif kind == "rmsprop":
        lines = [
            f"<b>s</b><sub>t</sub> = γ <b>s</b><sub>t−1</sub> + (1 − γ) {_G} ⊙ {_G}",
            f"{w_t} = {w_p} − η / √(<b>s</b><sub>t</sub> + ε) ⊙ {_G}",
        ]
    elif kind == "adadelta":
        lines = [
            f"<b>s</b><sub>t</sub> = ρ <b>s</b><sub>t−1</sub> + (1 − ρ) {_G} ⊙ {_G}",
            "Δ<b>w</b><sub>t</sub> = − √(<b>u</b><sub>t−1</sub> + ε) / √(<b>s</b><sub>t</sub> + ε) ⊙ " + _G,
            "<b>u</b><sub>t</sub> = ρ <b>u</b><sub>t−1</sub> + (1 − ρ) Δ<b>w</b><sub>t</sub> ⊙ Δ<b>w</b><sub>t</sub>",
            f"{w_t} = {w_p} + η Δ<b>w</b><sub>t</sub>",
        ]
    elif kind in ("adam", "adamw"):
        lines = [
            "<b>v</b><sub>t</sub> = β₁ <b>v</b><sub>t−1</sub> + (1 − β₁) " + _G,
            f"<b>s</b><sub>t</sub> = β₂ <b>s</b><sub>t−1</sub> + (1 − β₂) {_G} ⊙ {_G}",
        ]
        if bias_correction:
            lines.append(
                "<b>v̂</b><sub>t</sub> = <b>v</b><sub>t</sub> / (1 − β₁<sup>t</sup>),  "
                "<b>ŝ</b><sub>t</sub> = <b>s</b><sub>t</sub> / (1 − β₂<sup>t</sup>)"
            )
            v, s, eq = "<b>v̂</b><sub>t</sub>", "<b>ŝ</b><sub>t</sub>", "(eq. 7)"
        else:
            v, s, eq = "<b>v</b><sub>t</sub>", "<b>s</b><sub>t</sub>", "(eq. 6, no bias correction)"
        if kind == "adam":
            lines.append(f"{w_t} = {w_p} − η / √({s} + ε) ⊙ {v}   {eq}")
        else:
            lines.append(f"{w_t} = {w_p} − η ( {v} / √({s} + ε) + λ {w_p} )")
    else:
        lines = [_markup(line) for line in optimizer_class(kind).formula(momentum_form=momentum_form,
                                                                          bias_correction=bias_correction)]
    return "<br>".join(lines)


def _markup(line: str) -> str:
    """Registry formula markup as rich text: *v* bold, _t / _{..} subscripts, ^t / ^{..} superscripts."""
    import re

    line = re.sub(r"\*([^*]+)\*", r"<b>\1</b>", line)
    line = re.sub(r"_\{([^}]*)\}", r"<sub>\1</sub>", line)
    line = re.sub(r"_([A-Za-z0-9])", r"<sub>\1</sub>", line)
    line = re.sub(r"\^\{([^}]*)\}", r"<sup>\1</sup>", line)
    return re.sub(r"\^([A-Za-z0-9])", r"<sup>\1</sup>", line)


def formula_text(kind: str, momentum_form: str = "velocity", bias_correction: bool = True) -> str:
    """The update rule as plain Unicode text (for tooltips)."""
    import re

    html = formula_html(kind, momentum_form, bias_correction)
    text = html.replace("<br>", "\n").replace("<sub>t</sub>", "ₜ").replace("<sub>t−1</sub>", "ₜ₋₁")
    text = text.replace("<sup>t</sup>", "ᵗ")
    return re.sub(r"<[^>]+>", "", text)


class OptimizerDock(SpecDock):
    """Edits :class:`workbench.spec.OptimizerSpec`; see the module docstring for kind switching."""

    prefix = "optimizer"
    live_note = "the learning rate η stays live"

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Optimizer", "optimizerDock", S.OptimizerSpec(), parent)
        form = new_form()
        self._form = form
        self.content.addLayout(form)

        self.kind_combo = make_combo(
            [(KIND_LABELS[k], k) for k in S.OPTIMIZERS],
            {k: formula_text(k) for k in S.OPTIMIZERS},
        )
        self.register(
            self.kind_combo,
            "The update rule.  Switching to Adadelta with η still at 0.01 sets η = 1, ρ = 0.9, ε = 10⁻⁶;\n"
            "switching to Nesterov with β = 0 sets β = 0.9.",
            field="kind",
            commit=False,
        )
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        add_row(form, "Rule", self.kind_combo)

        self.lr_spin = SciSpinBox(1e-7, 10.0, smallest=1e-6)
        self.register(
            self.lr_spin,
            "Learning rate η > 0: the step size of every update (for Adadelta a multiplier of its own step).\n"
            "Arrows step on a log grid 1, 2, 3, 5 × 10ᵏ; type e.g. 3e-4.  Stays editable during a run\n"
            "(the schedule then scales this base value).",
            field="lr",
        )
        self.lr_label = add_row(form, "Learning rate η", self.lr_spin)

        self.momentum_spin = FloatSpinBox(0.0, 0.9999, decimals=4, step=0.05)
        self.register(
            self.momentum_spin,
            "Momentum β ∈ [0, 1): how much of the previous step is kept.\n"
            "v_t = β v_{t−1} + η g_t, w_t = w_{t−1} − v_t: an exponentially weighted sum of past gradients.",
            field="momentum",
        )
        self.momentum_label = add_row(form, "Momentum β", self.momentum_spin)

        self.form_combo = make_combo(
            [("velocity  v ← βv + ηg", "velocity"), ("accumulator  M ← βM + g", "accumulator")],
            {"velocity": "v ← βv + ηg,  w ← w − v", "accumulator": "M ← βM + g,  w ← w − ηM"},
        )
        self.register(
            self.form_combo,
            "Two ways to write momentum (lecture notes 000 and 003):\n"
            "velocity:     v_t = β v_{t−1} + η g_t,  w_t = w_{t−1} − v_t\n"
            "accumulator:  M_t = β M_{t−1} + g_t,  W_t = W_{t−1} − η M_t\n"
            "Identical for a constant η; they differ when η changes during training.",
            field="momentum_form",
        )
        add_row(form, "Form", self.form_combo)

        self.beta1_spin = FloatSpinBox(0.0, 0.9999, decimals=4, step=0.01)
        self.register(
            self.beta1_spin,
            "β₁ ∈ [0, 1): decay of the first-moment (momentum) average  v_t = β₁ v_{t−1} + (1 − β₁) g_t.",
            field="beta1",
        )
        add_row(form, "β₁", self.beta1_spin)
        self.beta2_spin = FloatSpinBox(0.0, 0.9999, decimals=4, step=0.001)
        self.register(
            self.beta2_spin,
            "β₂ ∈ [0, 1): decay of the second-moment average  s_t = β₂ s_{t−1} + (1 − β₂) g_t ⊙ g_t.",
            field="beta2",
        )
        add_row(form, "β₂", self.beta2_spin)

        self.rho_spin = FloatSpinBox(0.0, 0.9999, decimals=4, step=0.01)
        self.register(self.rho_spin, "", field="rho")
        self.rho_label = add_row(form, "γ", self.rho_spin)

        self.eps_spin = SciSpinBox(1e-12, 1.0, smallest=1e-12)
        self.register(
            self.eps_spin,
            "ε > 0 inside the square root √(s_t + ε): keeps the step finite while s_t is still ≈ 0.",
            field="eps",
        )
        add_row(form, "ε", self.eps_spin)

        self.psi_spin = SciSpinBox(0.0, 1.0, smallest=1e-4)
        self.register(self.psi_spin, HYPERPARAMETERS["momentum_decay"].doc, field="momentum_decay")
        add_row(form, HYPERPARAMETERS["momentum_decay"].label, self.psi_spin)

        self.bias_check = QCheckBox("Bias correction")
        self.register(
            self.bias_check,
            "On (eq. 7): divide by (1 − β₁ᵗ) and (1 − β₂ᵗ), so the first steps are not shrunk towards 0\n"
            "(v and s start at 0).  Off (eq. 6): w_t = w_{t−1} − η/√(s_t + ε) ⊙ v_t.",
            field="bias_correction",
        )
        form.addRow("", self.bias_check)

        self.adamw_note = hint_label(
            "The decoupled weight decay λ of AdamW is set in the <b>Regularization</b> dock "
            "(“Weight decay λ”)."
        )
        self.adamw_note.setObjectName("adamwNote")
        form.addRow(self.adamw_note)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        self.content.addWidget(line)
        self.formula_label = QLabel()
        self.formula_label.setObjectName("formulaLabel")
        self.formula_label.setTextFormat(Qt.TextFormat.RichText)
        self.formula_label.setWordWrap(True)
        self.formula_label.setMinimumWidth(300)
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.content.addWidget(self.formula_label)

        self._rows: dict[str, QWidget] = {
            "lr": self.lr_spin,
            "momentum": self.momentum_spin,
            "momentum_form": self.form_combo,
            "beta1": self.beta1_spin,
            "beta2": self.beta2_spin,
            "rho": self.rho_spin,
            "eps": self.eps_spin,
            "bias_correction": self.bias_check,
            "momentum_decay": self.psi_spin,
        }
        self.form_combo.currentIndexChanged.connect(self._update_formula)
        self.bias_check.toggled.connect(self._update_formula)
        self.set_value(S.OptimizerSpec())

    # -- public helpers ----------------------------------------------------------------
    def field_widget(self, name: str) -> QWidget:
        """The input widget of spec field ``name`` (``lr``, ``momentum`` ...)."""
        return self._rows[name] if name != "kind" else self.kind_combo

    def visible_fields(self) -> list[str]:
        """Names of the fields shown for the current kind."""
        return [name for name, w in self._rows.items() if not w.isHidden()]

    # -- hooks ----------------------------------------------------------------------------------
    def _show(self, v: S.OptimizerSpec) -> None:
        set_combo_data(self.kind_combo, v.kind)
        self.lr_spin.setValue(v.lr)
        self.momentum_spin.setValue(v.momentum)
        set_combo_data(self.form_combo, v.momentum_form)
        self.beta1_spin.setValue(v.beta1)
        self.beta2_spin.setValue(v.beta2)
        self.rho_spin.setValue(v.rho)
        self.eps_spin.setValue(v.eps)
        self.bias_check.setChecked(v.bias_correction)
        self.psi_spin.setValue(v.momentum_decay)
        self._update_rows()

    def _collect(self) -> dict[str, Any]:
        return dict(
            kind=self.kind_combo.currentData(),
            lr=self.lr_spin.value(),
            momentum=round(self.momentum_spin.value(), 6),
            momentum_form=self.form_combo.currentData(),
            beta1=round(self.beta1_spin.value(), 6),
            beta2=round(self.beta2_spin.value(), 6),
            rho=round(self.rho_spin.value(), 6),
            eps=self.eps_spin.value(),
            bias_correction=self.bias_check.isChecked(),
            momentum_decay=self.psi_spin.value(),
        )

    def _refresh(self) -> None:
        self._update_formula()

    def _live_widgets(self) -> Iterable[QWidget]:
        return (self.lr_spin,)

    # -- internals ------------------------------------------------------------------------------
    def _update_rows(self) -> None:
        kind = self.kind_combo.currentData()
        relevant = RELEVANT.get(kind, ("lr",))
        for name, widget in self._rows.items():
            self._form.setRowVisible(widget, name in relevant)
        self._form.setRowVisible(self.adamw_note, kind == "adamw")
        if kind == "adadelta":
            self.rho_label.setText("Decay ρ")
            self.rho_spin.setToolTip(
                "ρ ∈ [0, 1): decay of both running averages of Adadelta,\n"
                "s_t = ρ s_{t−1} + (1 − ρ) g_t ⊙ g_t and u_t = ρ u_{t−1} + (1 − ρ) Δw_t ⊙ Δw_t."
            )
        else:
            self.rho_label.setText("Decay γ")
            self.rho_spin.setToolTip(
                "γ ∈ [0, 1): decay of the running average of squared gradients,\n"
                "s_t = γ s_{t−1} + (1 − γ) g_t ⊙ g_t (RMSProp, lecture notes 000 eq. 5)."
            )
        self.rho_label.setToolTip(self.rho_spin.toolTip())
        self._update_formula()

    def _update_formula(self, *_args: Any) -> None:
        kind = self.kind_combo.currentData()
        form = self.form_combo.currentData()
        bias = self.bias_check.isChecked()
        html = formula_html(kind, form, bias)
        self.formula_label.setText(f"<b>{KIND_LABELS.get(kind, kind)}</b><br>{html}")
        tip = formula_text(kind, form, bias)
        self.formula_label.setToolTip(tip + "\ng_t: mini-batch gradient of the loss; ⊙: element-wise product")
        self.kind_combo.setToolTip(
            f"{tip}\n\nSwitching to Adadelta with η still at 0.01 sets η = 1, ρ = 0.9, ε = 10⁻⁶;\n"
            "switching to Nesterov with β = 0 sets β = 0.9."
        )

    def _on_kind_changed(self) -> None:
        new_kind = self.kind_combo.currentData()
        old_kind = self._value.kind
        with self.blocked():
            if new_kind == "adadelta" and old_kind != "adadelta" and self.lr_spin.value() == 0.01:
                self.lr_spin.setValue(1.0)
                self.rho_spin.setValue(0.9)
                self.eps_spin.setValue(1e-6)
            elif old_kind == "adadelta" and new_kind != "adadelta" and self.lr_spin.value() == 1.0:
                self.lr_spin.setValue(0.01)
                if self.eps_spin.value() == 1e-6:
                    self.eps_spin.setValue(1e-8)
            if new_kind == "nesterov" and self.momentum_spin.value() == 0.0:
                self.momentum_spin.setValue(0.9)
        self._update_rows()
        self._commit()


__all__ = ["OptimizerDock", "formula_html", "formula_text", "RELEVANT"]
