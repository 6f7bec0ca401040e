"""Number and choice boxes of the editors.

Every box commits on Enter, focus-out or the arrows only (keyboard tracking off), ignores
the mouse wheel unless it has the focus (scrolling a panel never changes a value), and
remembers a typed number outside its range so the editor can say why the box went back.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QDoubleSpinBox, QSpinBox, QWidget


class _NoWheelUnlessFocused:
    """Ignore the mouse wheel unless the box has the keyboard focus, so scrolling a dock
    never changes a value by accident (the wheel then scrolls the dock)."""

    def _init_wheel(self) -> None:
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # type: ignore[attr-defined]

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.hasFocus():  # type: ignore[attr-defined]
            super().wheelEvent(event)  # type: ignore[misc]
        else:
            event.ignore()


class RangeReporting:
    """A box that can say why it refused what was typed.

    Remember a typed number that lies outside the range, so the dock can say why
    the box went back to its old value (Qt reverts it silently).

    Only text the *user* typed counts (``textEdited``); Qt's own revert does not."""

    _pending_bad: str | None = None

    def _init_report(self) -> None:
        self._pending_bad = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # type: ignore[attr-defined]
        self.lineEdit().textEdited.connect(self._on_text_edited)  # type: ignore[attr-defined]

    def _body(self, text: str) -> str:
        body = text.strip()
        for affix in (self.prefix(), self.suffix()):  # type: ignore[attr-defined]
            if affix:
                body = body.replace(affix.strip(), "").strip()
        return body

    def _on_text_edited(self, text: str) -> None:
        body = self._body(text)
        try:
            value = float(body.replace(",", "").replace("_", "").replace(" ", ""))
        except ValueError:
            self._pending_bad = None
            return
        in_range = math.isfinite(value) and self.minimum() <= value <= self.maximum()  # type: ignore[attr-defined]
        self._pending_bad = None if in_range else body

    def _note_text(self, text: str) -> QValidator.State:
        body = self._body(text)
        if body == "":
            return QValidator.State.Intermediate
        if not re.fullmatch(r"[0-9eE+\-.,_ ]*", body):
            return QValidator.State.Invalid
        try:
            value = float(body.replace(",", "").replace("_", "").replace(" ", ""))
        except ValueError:
            return QValidator.State.Intermediate
        if math.isfinite(value) and self.minimum() <= value <= self.maximum():  # type: ignore[attr-defined]
            return QValidator.State.Acceptable
        return QValidator.State.Intermediate

    def take_rejected(self) -> str | None:
        """The out-of-range text the user last typed, if the box refused it (and clear it)."""
        bad, self._pending_bad = self._pending_bad, None
        return bad


class IntSpinBox(_NoWheelUnlessFocused, RangeReporting, QSpinBox):
    """An integer box that emits ``valueChanged`` only on Enter / focus-out / arrows."""

    def __init__(self, minimum: int, maximum: int, parent: QWidget | None = None):
        super().__init__(parent)
        self._init_report()
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.setGroupSeparatorShown(True)

    def validate(self, text: str, pos: int):  # noqa: D102 - Qt override
        state = self._note_text(text)
        if state == QValidator.State.Acceptable:
            body = text.replace(",", "").replace("_", "").replace(" ", "").strip()
            try:
                float(body)
                if "." in body or "e" in body.lower():
                    return QValidator.State.Intermediate
            except ValueError:
                return QValidator.State.Intermediate
        return state

    def valueFromText(self, text: str) -> int:  # noqa: N802 - Qt override
        try:
            return int(float(text.replace(",", "").replace("_", "").replace(" ", "").strip()))
        except ValueError:
            return self.value()


class BigIntSpinBox(_NoWheelUnlessFocused, RangeReporting, QDoubleSpinBox):
    """Whole numbers beyond the 32-bit range of QSpinBox (seeds go up to 2³² − 1)."""

    def __init__(self, minimum: int, maximum: int, parent: QWidget | None = None):
        super().__init__(parent)
        self._init_report()
        self.setDecimals(0)
        self.setRange(float(minimum), float(maximum))
        self.setKeyboardTracking(False)
        self.setAccelerated(True)

    def int_value(self) -> int:
        return int(round(self.value()))

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return str(int(round(value)))

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        try:
            return float(int(float(text.replace(",", "").strip())))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D102 - Qt override
        state = self._note_text(text)
        if state == QValidator.State.Acceptable and not re.fullmatch(r"\s*\d+\s*", text):
            return QValidator.State.Intermediate
        return state


class FloatSpinBox(_NoWheelUnlessFocused, RangeReporting, QDoubleSpinBox):
    """A fixed-decimals box (fractions, factors) with keyboard tracking off."""

    def __init__(
        self,
        minimum: float,
        maximum: float,
        decimals: int = 3,
        step: float = 0.05,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self._init_report()
        self.setDecimals(decimals)
        self.setRange(minimum, maximum)
        self.setSingleStep(step)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)

    def validate(self, text: str, pos: int):  # noqa: D102 - Qt override
        state = self._note_text(text)
        if state == QValidator.State.Acceptable:
            return super().validate(text, pos)
        return state


class SciSpinBox(_NoWheelUnlessFocused, RangeReporting, QDoubleSpinBox):
    """A number box for quantities that span decades (η, ε, α, λ).

    Shows ``0.01``, ``3e-04`` or ``1e-08`` (up to 4 significant digits), accepts typed
    scientific notation, and the arrows walk a log grid 1, 2, 3, 5 × 10ᵏ
    (… 0.001, 0.002, 0.003, 0.005, 0.01 …) so the learning rate moves by a factor, not by a
    fixed amount.  A zero minimum is allowed (the arrow below the smallest grid value goes to 0).
    """

    GRID = (1.0, 2.0, 3.0, 5.0)

    def __init__(self, minimum: float, maximum: float, smallest: float = 1e-8, parent: QWidget | None = None):
        super().__init__(parent)
        self._init_report()
        self.setDecimals(20)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self._smallest = max(smallest, minimum) if minimum > 0 else smallest

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return format_number(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        try:
            return float(text.replace(",", "").strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D102 - Qt override
        return self._note_text(text)

    def fixup(self, text: str) -> str:  # noqa: D102 - Qt override
        return text

    def _grid(self, value: float, direction: int) -> float:
        if value <= 0.0:
            return self._smallest if direction > 0 else 0.0
        k = math.floor(math.log10(value))
        candidates = sorted(
            {m * 10.0**e for e in range(k - 1, k + 2) for m in self.GRID}
        )
        tol = value * 1e-9
        if direction > 0:
            above = [c for c in candidates if c > value + tol]
            return above[0]
        below = [c for c in candidates if c < value - tol]
        if not below or below[-1] < self._smallest * (1 - 1e-9):
            return 0.0 if self.minimum() <= 0.0 else self.minimum()
        return below[-1]

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        value = self.value()
        for _ in range(abs(steps)):
            value = self._grid(value, 1 if steps > 0 else -1)
        value = min(max(value, self.minimum()), self.maximum())
        # round away binary noise: 3 * 10**-4 -> 0.0003
        if value > 0:
            value = float(f"{value:.12g}")
        self.setValue(value)
        self.selectAll()

    def stepEnabled(self):  # noqa: N802 - Qt override
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.value() < self.maximum():
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        if self.value() > self.minimum():
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return flags


def format_number(value: float) -> str:
    """``0.01``, ``0.0005``, ``1e-08``, ``2.5``: short and exact enough for a spin box."""
    if value == 0:
        return "0"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}" if abs(value) >= 1e5 else str(int(value))
    if 1e-4 <= abs(value) < 1e5:
        text = f"{value:.6g}"
        if "e" in text:
            text = f"{value:.6f}".rstrip("0").rstrip(".")
        return text
    return f"{value:.4g}"


class ComboBox(_NoWheelUnlessFocused, QComboBox):
    """A combo box that leaves the mouse wheel to the dock unless it has the focus."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._init_wheel()


def typed_text_problem(box) -> str | None:
    """For a number box whose text was typed but not yet committed (no Enter, no Tab):
    commit it now if it is a valid value and return None, or return the refused text.
    Boxes without pending text return None.  (Run, Save and the other actions that read
    the experiment call this first: the value on screen is the value used.)"""
    if not isinstance(box, (QSpinBox, QDoubleSpinBox)):
        return None
    text = box.cleanText()
    special = box.specialValueText()
    if text == box.textFromValue(box.value()) or (special and box.text() == special):
        return None
    state = box.validate(text, len(text))
    state = state[0] if isinstance(state, tuple) else state
    if state == QValidator.State.Acceptable:
        box.interpretText()
        return None
    body = box._body(text) if isinstance(box, RangeReporting) else text.strip()
    return body or None
