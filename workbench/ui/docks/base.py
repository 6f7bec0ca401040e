"""The common frame of every settings dock, and the small input widgets they share.

A dock shows one part of the experiment spec (``DataSpec``, ``OptimizerSpec`` ...).
It never reads another dock and never touches the main window: after each valid user
edit it emits :attr:`SpecDock.edited` with the *new* frozen spec part, built with
:func:`workbench.spec.replace` (which validates).  An edit that the spec refuses
(e.g. Nesterov with momentum 0) is shown in a red line under the form and emits
nothing; ``value()`` keeps the last valid part.

Subclasses implement three hooks:

``_show(value)``
    put ``value`` into the widgets (called with signals blocked);
``_collect() -> dict``
    the spec fields as the widgets show them now;
``_refresh()`` (optional)
    update derived displays (formula, parameter count, preview) from ``value()``.

and may override ``_warning()`` (a non-blocking note, shown in amber) and
``_live_widgets()`` (the widgets that stay enabled while a run is going on).
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from typing import Any, Iterable, Sequence

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench import spec as S

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


# ---------------------------------------------------------------------------
# Input widgets


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


class _RangeReportMixin:
    """Remember a typed number that lies outside the range, so the dock can say why
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


class IntSpinBox(_NoWheelUnlessFocused, _RangeReportMixin, QSpinBox):
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


class BigIntSpinBox(_NoWheelUnlessFocused, _RangeReportMixin, QDoubleSpinBox):
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


class FloatSpinBox(_NoWheelUnlessFocused, _RangeReportMixin, QDoubleSpinBox):
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


class SciSpinBox(_NoWheelUnlessFocused, _RangeReportMixin, QDoubleSpinBox):
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


# ---------------------------------------------------------------------------
# The dock


class DockScrollArea(QScrollArea):
    """A scroll area that asks for the size of its content (a plain QScrollArea asks for
    almost nothing, so a dock would open squeezed), but can shrink in height: the content
    then scrolls instead of being clipped."""

    MAX_HINT_HEIGHT = 720
    MIN_HEIGHT = 120
    MAX_MIN_WIDTH = 460

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


class SpecDock(QDockWidget):
    """A dock that edits one frozen part of the experiment spec.

    ``edited(object)`` carries the new part after a valid user edit; ``set_value(v)``
    shows ``v`` and emits nothing; ``value()`` is the last valid part; ``set_running(b)``
    disables what may not change mid-run and says why.
    """

    edited = Signal(object)

    #: dotted path of this part inside ExperimentSpec (used in error messages)
    prefix: str = ""
    def __init__(self, title: str, object_name: str, initial: Any, parent: QWidget | None = None):
        super().__init__(title, parent)
        self.setObjectName(object_name)
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self._value = initial
        self._running = False
        self._dark = False
        self._error = ""
        self._inputs: list[QWidget] = []

        self._scroll = DockScrollArea()
        self._scroll.setObjectName(f"{object_name}Scroll")
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        body = QWidget()
        body.setObjectName(f"{object_name}Body")
        self._outer = QVBoxLayout(body)
        self._outer.setContentsMargins(8, 6, 8, 6)
        self._outer.setSpacing(6)

        #: subclasses put their form here; it is disabled as a whole when the dock locks fully
        self.form_host = QWidget()
        self.form_host.setObjectName(f"{object_name}Form")
        self.content = QVBoxLayout(self.form_host)
        self.content.setContentsMargins(0, 0, 0, 0)
        self.content.setSpacing(6)
        self._outer.addWidget(self.form_host)

        self.lock_label = QLabel(LOCK_TEXT)
        self.lock_label.setObjectName("lockLabel")
        self.lock_label.setWordWrap(True)
        self.lock_label.setStyleSheet(LOCK_STYLE)
        self.lock_label.hide()
        self._outer.addWidget(self.lock_label)

        self.reason_label = QLabel()
        self.reason_label.setObjectName("reasonLabel")
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.reason_label.hide()
        self._outer.addWidget(self.reason_label)

        #: extra, non-locking widgets below the reason (previews)
        self.extra = QVBoxLayout()
        self.extra.setSpacing(4)
        self._outer.addLayout(self.extra)
        self._outer.addStretch(1)

        self._scroll.setWidget(body)
        self.setWidget(self._scroll)

    # -- public API ------------------------------------------------------------
    def value(self) -> Any:
        """The last valid spec part shown by this dock."""
        return self._value

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting ``edited``."""
        self._value = value
        self._error = ""
        with self.blocked():
            self._show(value)
        self._refresh()
        self._update_reason()
        self._update_geometry()

    def _update_geometry(self) -> None:
        """Drop size hints cached before the content was built (Qt refreshes them only on
        the next LayoutRequest, too late for the first placement of the dock)."""
        for widget in (self.form_host, self._scroll.widget(), self._scroll):
            widget.updateGeometry()

    #: added to the lock message by docks that keep some fields live
    live_note: str = ""

    def set_running(self, running: bool) -> None:
        """Lock (running=True) or unlock the widgets that may not change during a run."""
        self._running = bool(running)
        self._apply_lock()
        self.lock_label.setText(f"{LOCK_TEXT} ({self.live_note})" if self.live_note else LOCK_TEXT)
        self.lock_label.setVisible(self._running)

    def is_running(self) -> bool:
        return self._running

    def apply_style(self, style) -> None:
        """Follow the theme (a :class:`workbench.ui.style.Style`): the error, warning,
        lock and note lines get colours readable on the theme's background, and the
        preview plots its background, axes and text colours.

        Labels with a style sheet keep the palette they were polished with, so an
        application palette change alone leaves their text in the old theme's colour;
        setting the style sheet again re-polishes them."""
        self._dark = bool(style.dark)
        styles = label_styles(self._dark)
        self.lock_label.setStyleSheet(styles["lock"])
        for label in self.findChildren(QLabel):
            if label.property("note"):
                label.setStyleSheet(styles["note"])
        self._update_reason()
        for plot in self.preview_plots():
            style_preview_plot(plot, style)

    def preview_plots(self) -> list:
        """The dock's small pyqtgraph plots (made by :func:`make_preview_plot`)."""
        return [w for w in self.findChildren(QWidget) if w.property("previewPlot")]

    def show_error(self, message: str) -> None:
        """Show ``message`` in red under the form (e.g. the main window refused the edit or
        the data failed to load); cleared by the next valid edit or ``set_value``."""
        self._error = str(message)
        self._update_reason()

    def reason_text(self) -> str:
        """The error or warning currently shown under the form ('' if none)."""
        return self.reason_label.text() if not self.reason_label.isHidden() else ""

    # -- hooks -------------------------------------------------------------------
    def _show(self, value: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _collect(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _refresh(self) -> None:
        """Update derived displays from ``value()`` and the widgets."""

    def _warning(self) -> str:
        """A note that does not block the edit (e.g. the zero-init symmetry trap)."""
        return ""

    def _live_widgets(self) -> Iterable[QWidget]:
        """Widgets that stay editable during a run (default: none)."""
        return ()

    # -- machinery -----------------------------------------------------------------
    @contextmanager
    def blocked(self):
        """Block the signals of every registered input (and the dock's own)."""
        blockers = [QSignalBlocker(w) for w in self._all_inputs()]
        try:
            yield
        finally:
            for b in blockers:
                b.unblock()

    def _all_inputs(self) -> list[QWidget]:
        return list(self._inputs)

    def register(
        self, widget: QWidget, tooltip: str | None = None, *, field: str | None = None, commit: bool = True
    ) -> QWidget:
        """Track ``widget`` for locking and signal blocking; wire it to ``_commit``.

        ``field`` names the spec field (used in the message when a typed value is refused
        and as the widget's objectName, e.g. ``lrSpin``)."""
        self._inputs.append(widget)
        if field:
            widget.setProperty("field", field)
        if tooltip:
            widget.setToolTip(tooltip)
        if commit:
            self._wire(widget)
        if isinstance(widget, _RangeReportMixin):
            widget.editingFinished.connect(lambda w=widget: self._report_rejected(w))
        return widget

    def _wire(self, widget: QWidget) -> None:
        from PySide6.QtWidgets import QAbstractButton, QLineEdit

        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            widget.valueChanged.connect(self._commit)
            widget.editingFinished.connect(self._commit)
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(self._commit)
        elif isinstance(widget, QAbstractButton):
            widget.toggled.connect(self._commit)
        elif isinstance(widget, QLineEdit):
            widget.editingFinished.connect(self._commit)

    def _report_rejected(self, widget: _RangeReportMixin) -> None:
        bad = widget.take_rejected()
        if bad is None:
            return
        name = widget.property("field") or widget.objectName() or "value"
        lo, hi = widget.minimum(), widget.maximum()  # type: ignore[attr-defined]
        self._error = (
            f"{self.prefix}.{name}: must be between {format_number(lo)} and "
            f"{format_number(hi)}, got {bad} — kept {widget.text()}"  # type: ignore[attr-defined]
        )
        self._update_reason()

    def _pending(self) -> str:
        """A reason why the widgets do not describe a spec *yet* (shown as a note, no emission)."""
        return ""

    def _commit(self, *_args: Any) -> None:
        """Build the new spec part from the widgets; emit it if it is valid and new."""
        if self._pending():
            self._error = ""
            self._update_reason()
            return
        try:
            changes = self._collect()
            new = S.replace(self._value, self.prefix, **changes)
        except S.SpecError as exc:
            self._error = str(exc)
            self._update_reason()
            return
        except ValueError as exc:  # parse errors from line edits
            self._error = str(exc)
            self._update_reason()
            return
        self._error = ""
        if new == self._value:
            self._refresh()
            self._update_reason()
            return
        self._value = new
        self._refresh()
        self._update_reason()
        self.edited.emit(new)

    def _update_reason(self) -> None:
        styles = label_styles(self._dark)
        if self._error:
            self.reason_label.setStyleSheet(styles["error"])
            self.reason_label.setText(self._error)
            self.reason_label.show()
            return
        warning = self._pending() or self._warning()
        if warning:
            self.reason_label.setStyleSheet(styles["warning"])
            self.reason_label.setText(warning)
            self.reason_label.show()
        else:
            self.reason_label.clear()
            self.reason_label.hide()

    def _apply_lock(self) -> None:
        live = set(map(id, self._live_widgets()))
        if not live:
            self.form_host.setEnabled(not self._running)
            return
        self.form_host.setEnabled(True)
        for widget in self._all_inputs():
            if id(widget) not in live:
                widget.setEnabled(not self._running)


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


#: A preview plot shrinks to this height before its dock has to scroll.
MIN_PREVIEW_HEIGHT = 100


def make_preview_plot(object_name: str, height: int = 180):
    """A small, non-interactive pyqtgraph plot that does not ask for more width than the form."""
    import pyqtgraph as pg

    class _PreviewPlot(pg.PlotWidget):
        def sizeHint(self):  # noqa: N802 - Qt override
            return QSize(280, height)

        def minimumSizeHint(self):  # noqa: N802 - Qt override
            return QSize(200, min(height, MIN_PREVIEW_HEIGHT))

    from workbench.ui.plots._axis import fast_axes

    plot = _PreviewPlot(axisItems=fast_axes())
    plot.setObjectName(object_name)
    plot.setProperty("previewPlot", True)
    plot.setBackground(pg.getConfigOption("background"))
    plot.setMinimumHeight(min(height, MIN_PREVIEW_HEIGHT))
    plot.setMaximumHeight(height + 60)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.getPlotItem().setMouseEnabled(False, False)
    plot.showGrid(x=True, y=True, alpha=0.2)
    return plot


def style_preview_plot(plot, style) -> None:
    """Background, axis lines, tick labels and axis titles of a preview plot in the
    colours of ``style``'s theme (the main plots' colours)."""
    import pyqtgraph as pg

    colors = style.colors
    plot.setBackground(colors.background)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(colors.foreground, width=style.px(1)))
        axis.setTextPen(pg.mkPen(colors.text))  # also the axis title's colour
    grid = colors.grid_alpha
    item.showGrid(x=item.getAxis("bottom").grid is not False, y=item.getAxis("left").grid is not False, alpha=grid)
