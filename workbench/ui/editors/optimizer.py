"""The Optimizer editor: the update rule and its hyperparameters (``OptimizerSpec``).

Everything shown here is read off the engine's registry
(:mod:`workbench.engine.optimizers`): the rules and their labels, the hyperparameters each
rule uses (only those rows are shown), their ranges, labels and tooltips, and the rule
itself as a formula in the notes' notation (g_t the mini-batch gradient, η the learning
rate).  A new rule registered there appears here without a change to this module.

Switching the rule puts in the new rule's suggested values where a value is still the
default (or the new rule refuses it), and takes a value the old rule suggested back to the
default: Adadelta with η still at 0.01 gets η = 1, ε = 10⁻⁶ (its own step has unit scale),
and leaving it with η = 1 gives η = 0.01 again; Nesterov with β = 0 gets β = 0.9.

Only η stays editable during a run (it is picked up at the next epoch).
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from workbench import spec as S
from workbench.engine.optimizers import HYPERPARAMETERS, OPTIMIZERS, hyperparameter_info, optimizer_class

from ..widgets.forms import hint_label, make_combo, new_form, add_row
from .base import Row, SpecEditor, separator

KIND_LABELS = {kind: optimizer_class(kind).label for kind in OPTIMIZERS}
#: the hyperparameters shown for each rule (lr always)
RELEVANT = {kind: optimizer_class(kind).uses for kind in OPTIMIZERS}
#: widget attribute names that differ from ``<name>_spin``
_ATTRS = {"momentum_form": "form_combo", "bias_correction": "bias_check"}

ROWS = tuple(
    Row.from_setting(h, attr=_ATTRS.get(name, ""), live=(name == "lr"),
                     bounds=(1e-7, 10.0) if name == "lr" else None)
    for name, h in HYPERPARAMETERS.items()
)


def markup_html(line: str) -> str:
    """Registry formula markup as rich text: ``*v*`` bold, ``_t`` / ``_{t−1}`` subscripts,
    ``^t`` / ``^{t ψ}`` superscripts."""
    line = re.sub(r"\*([^*]+)\*", r"<b>\1</b>", line)
    line = re.sub(r"_\{([^}]*)\}", r"<sub>\1</sub>", line)
    line = re.sub(r"_([A-Za-z0-9])", r"<sub>\1</sub>", line)
    line = re.sub(r"\^\{([^}]*)\}", r"<sup>\1</sup>", line)
    return re.sub(r"\^([A-Za-z0-9])", r"<sup>\1</sup>", line)


_SUB = str.maketrans("t0123456789", "ₜ₀₁₂₃₄₅₆₇₈₉")


def markup_text(line: str) -> str:
    """Registry formula markup as plain Unicode (tooltips): ``_t`` → ₜ, ``_{t−1}`` → ₜ₋₁."""
    line = line.replace("*", "")
    line = re.sub(r"_\{t−1\}", "ₜ₋₁", line)
    line = re.sub(r"_\{t\+1\}", "ₜ₊₁", line)
    line = re.sub(r"_([t0-9])", lambda m: m.group(1).translate(_SUB), line)
    return line.replace("^t", "ᵗ")


def formula_html(kind: str, momentum_form: str = "velocity", bias_correction: bool = True) -> str:
    """The update rule of ``kind`` as rich text (the same text, plain, is in the tooltip)."""
    lines = optimizer_class(kind).formula(momentum_form=momentum_form, bias_correction=bias_correction)
    return "<br>".join(markup_html(line) for line in lines)


def formula_text(kind: str, momentum_form: str = "velocity", bias_correction: bool = True) -> str:
    """The update rule as plain Unicode text (for tooltips)."""
    lines = optimizer_class(kind).formula(momentum_form=momentum_form, bias_correction=bias_correction)
    return "\n".join(markup_text(line) for line in lines)


class OptimizerEditor(SpecEditor):
    """Edits :class:`workbench.spec.OptimizerSpec`; see the module docstring for kind switching."""

    prefix = "optimizer"
    spec_class = S.OptimizerSpec
    title = "Optimizer"
    live_note = "the learning rate η stays live"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(S.OptimizerSpec(), parent)
        form = new_form()
        self._form = form
        self.content.addLayout(form)
        self.kind_combo = make_combo([(KIND_LABELS[k], k) for k in OPTIMIZERS],
                                     {k: formula_text(k) for k in OPTIMIZERS})
        self.register(self.kind_combo, "The update rule.", field="kind", commit=False)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        add_row(form, "Rule", self.kind_combo)
        self.add_rows(form, ROWS)
        self._rows = {name: self.field_widget(name) for name in HYPERPARAMETERS}

        self.adamw_note = hint_label(optimizer_class("adamw").note)
        self.adamw_note.setObjectName("adamwNote")
        form.addRow(self.adamw_note)

        self.content.addWidget(separator())
        self.formula_label = QLabel()
        self.formula_label.setObjectName("formulaLabel")
        self.formula_label.setTextFormat(Qt.TextFormat.RichText)
        self.formula_label.setWordWrap(True)
        self.formula_label.setMinimumWidth(300)
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.content.addWidget(self.formula_label)

        self.form_combo.currentIndexChanged.connect(self._update_formula)
        self.bias_check.toggled.connect(self._update_formula)
        self.set_value(S.OptimizerSpec())

    # -- public helpers ----------------------------------------------------------------
    def field_widget(self, name: str) -> QWidget:
        """The input widget of spec field ``name`` (``lr``, ``momentum`` ...)."""
        return self.kind_combo if name == "kind" else super().field_widget(name)

    def visible_fields(self) -> list[str]:
        """Names of the fields shown for the current kind."""
        return [name for name, w in self._rows.items() if not w.isHidden()]

    # -- hooks ----------------------------------------------------------------------------------
    def _show(self, v: S.OptimizerSpec) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(v.kind))
        self._update_rows()

    def _collect(self) -> dict[str, Any]:
        return {"kind": self.kind_combo.currentData()}

    def _refresh(self) -> None:
        self._update_formula()

    # -- internals ------------------------------------------------------------------------------
    def _update_rows(self) -> None:
        kind = self.kind_combo.currentData()
        cls = optimizer_class(kind)
        for name in HYPERPARAMETERS:
            self.set_row_visible(name, name in cls.uses)
            label, tip = hyperparameter_info(kind, name)
            widget = self.field_widget(name)
            widget.setToolTip(tip)
            text_label = getattr(self, f"{name}_label", None)
            if text_label is not None:
                text_label.setText(label)
                text_label.setToolTip(tip)
        self._form.setRowVisible(self.adamw_note, bool(cls.note))
        self._update_formula()

    def _update_formula(self, *_args: Any) -> None:
        kind = self.kind_combo.currentData()
        form = self.form_combo.currentData()
        bias = self.bias_check.isChecked()
        cls = optimizer_class(kind)
        html = f"<b>{cls.label}</b><br>{formula_html(kind, form, bias)}"
        if cls.explanation:
            html += f"<br><i><small>{markup_html(cls.explanation)}</small></i>"
        self.formula_label.setText(html)
        tip = formula_text(kind, form, bias)
        self.formula_label.setToolTip(tip + "\ng_t: mini-batch gradient of the loss; ⊙: element-wise product")
        self.kind_combo.setToolTip(f"{tip}\n\nSwitching the rule puts in its suggested values where a value is "
                                   "still the default\n(Adadelta: η = 1, ε = 10⁻⁶; Nesterov with β = 0: β = 0.9).")

    def _on_kind_changed(self) -> None:
        new, old = optimizer_class(self.kind_combo.currentData()), optimizer_class(self._value.kind)
        values = self._collect_rows()
        with self.blocked():
            for name, value in old.suggested.items():
                if new is not old and values[name] == value and name not in new.suggested:
                    self._set_row(name, HYPERPARAMETERS[name].default)
            values = self._collect_rows()
            try:
                new.check(values)
                refused = False
            except ValueError:
                refused = True
            for name, value in new.suggested.items():
                if refused or values[name] == HYPERPARAMETERS[name].default:
                    self._set_row(name, value)
        self._update_rows()
        self._commit()


__all__ = ["OptimizerEditor", "formula_html", "formula_text", "markup_html", "RELEVANT", "KIND_LABELS"]
