"""Form helpers of the editors: labelled rows, combo boxes that carry spec values, notes,
the coloured status lines, and the scroll area a dock's editor sits in."""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QScrollArea, QWidget

from .spinboxes import ComboBox

LOCK_TEXT = "Locked while training — Stop to edit"
ERROR_STYLE = "color: #c62828; font-weight: 600;"
WARNING_STYLE = "color: #b26a00;"
LOCK_STYLE = "color: #8a6d00; font-style: italic;"
NOTE_STYLE = "font-style: italic;"
#: the same roles on a dark background (light enough to read on #2B2B2B)
DARK_ERROR_STYLE = "color: #ff8a80; font-weight: 600;"
DARK_WARNING_STYLE = "color: #ffc266;"
DARK_LOCK_STYLE = "color: #e6c65c; font-style: italic;"


def label_styles(dark: bool) -> dict[str, str]:
    """Style sheets of the error, warning, lock and note lines for a theme."""
    if dark:
        return {"error": DARK_ERROR_STYLE, "warning": DARK_WARNING_STYLE, "lock": DARK_LOCK_STYLE, "note": NOTE_STYLE}
    return {"error": ERROR_STYLE, "warning": WARNING_STYLE, "lock": LOCK_STYLE, "note": NOTE_STYLE}



def make_combo(items: Sequence[tuple[str, Any]], tooltips: dict[Any, str] | None = None) -> QComboBox:
    """A combo box whose items carry their spec value as user data (saved as values, not indices)."""
    combo = ComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    for label, data in items:
        combo.addItem(label, data)
        if tooltips and data in tooltips:
            combo.setItemData(combo.count() - 1, tooltips[data], Qt.ItemDataRole.ToolTipRole)
    return combo


def set_combo_data(combo: QComboBox, data: Any) -> None:
    """Select the item carrying ``data`` (no-op if absent)."""
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)


def hint_label(text: str) -> QLabel:
    """An italic note under a form (restyled with its dock by ``apply_style``)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setStyleSheet(NOTE_STYLE)
    label.setProperty("note", True)
    return label


class DockScrollArea(QScrollArea):
    """A scroll area that asks for the size of its content (a plain QScrollArea asks for
    almost nothing, so a dock would open squeezed), but can shrink in height: the content
    then scrolls instead of being clipped."""

    MAX_HINT_HEIGHT = 720
    MIN_HEIGHT = 120
    MAX_MIN_WIDTH = 300  # a narrower dock scrolls sideways (small screens)

    def _extra(self) -> int:
        return self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth() + 2

    def sizeHint(self):  # noqa: N802 - Qt override
        inner = self.widget()
        if inner is None:
            return super().sizeHint()
        hint = inner.sizeHint()
        return QSize(hint.width() + self._extra(), min(hint.height() + 2 * self.frameWidth(), self.MAX_HINT_HEIGHT))

    def minimumSizeHint(self):  # noqa: N802 - Qt override
        inner = self.widget()
        if inner is None:
            return super().minimumSizeHint()
        hint = inner.minimumSizeHint()
        return QSize(
            min(hint.width() + self._extra(), self.MAX_MIN_WIDTH),
            min(hint.height() + 2 * self.frameWidth(), self.MIN_HEIGHT),
        )


def add_row(form: QFormLayout, label: str, widget: QWidget, tooltip: str = "") -> QLabel:
    """Add ``label: widget`` to ``form``; the label carries the same tooltip."""
    lab = QLabel(label)
    lab.setTextFormat(Qt.TextFormat.RichText)
    lab.setBuddy(widget)
    if tooltip:
        lab.setToolTip(tooltip)
        if not widget.toolTip():
            widget.setToolTip(tooltip)
    form.addRow(lab, widget)
    return lab


def new_form() -> QFormLayout:
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setHorizontalSpacing(8)
    form.setVerticalSpacing(4)
    return form


def formula_label(name: str, formula: str) -> str:
    """A form label with its formula on a second, smaller line (narrow panels)."""
    return f"{name}<br><span style='font-size:small; color:gray'>{formula}</span>"
