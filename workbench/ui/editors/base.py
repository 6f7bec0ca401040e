"""The common frame of every editor, and the declarative table its form is built from.

An editor is a plain widget that shows one part of the experiment spec (``DataSpec``,
``OptimizerSpec`` ...); the window wraps it in a dock (:class:`EditorDock`).  It never
reads another editor and never touches the window: after each valid user edit it emits
:attr:`SpecEditor.edited` with the *new* frozen spec part, built with
:func:`workbench.spec.replace` (which validates).  An edit the spec refuses (e.g. Nesterov
with momentum 0) is shown in a red line under the form and emits nothing; ``value()``
keeps the last valid part.

Most rows are declared as :class:`Row` entries (spec field, widget kind, label, tooltip)
and built by :meth:`SpecEditor.add_rows`; their ranges are read off the spec class (or the
engine's registry :class:`~workbench.engine.setting.Setting`), so a bound is written once.
Rows built that way are shown and collected generically; an editor implements

``_show(value)``
    anything beyond its rows (called with signals blocked);
``_collect() -> dict``
    anything beyond its rows;
``_refresh()`` (optional)
    derived displays (formula, parameter count, preview) from ``value()``,

and may override ``_warning()`` (a non-blocking note, in amber) and ``_pending()`` (why
the widgets do not describe a spec yet).  Rows marked ``live`` stay editable during a run.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench import spec as S
from workbench.engine.setting import Setting

from ..widgets.forms import LOCK_STYLE, LOCK_TEXT, DockScrollArea, add_row, label_styles, make_combo, set_combo_data
from ..widgets.previews import style_preview_plot
from ..widgets.spinboxes import (
    BigIntSpinBox,
    FloatSpinBox,
    IntSpinBox,
    RangeReporting,
    SciSpinBox,
    format_number,
    typed_text_problem,
)

WIDGET_KINDS = ("int", "bigint", "float", "sci", "check", "combo")
_SUFFIX = {"int": "spin", "bigint": "spin", "float": "spin", "sci": "spin", "check": "check", "combo": "combo"}


@dataclass(frozen=True)
class Row:
    """One row of an editor's form.

    ``name``: the spec field; ``kind``: the widget (``int``, ``bigint`` (beyond 32 bits),
    ``float`` (fixed ``decimals``, arrows by ``step``), ``sci`` (decades: 1-2-3-5 arrows
    from ``smallest``), ``check``, ``combo`` with ``choices`` = ((label, value), ...) and
    ``choice_tips``); ``label`` (rich text) and ``tip`` (the tooltip, with its formula);
    ``bounds``: the box's range when it differs from the spec's (default: read off the spec
    class, exclusive bounds moved in by one step of the last decimal); ``special``: text at
    the minimum; ``attr``: the editor attribute of the widget (default ``<name>_spin`` /
    ``_check`` / ``_combo``); ``live``: editable during a run."""

    name: str
    kind: str
    label: str = ""
    tip: str = ""
    bounds: Optional[tuple[float, float]] = None
    decimals: int = 3
    step: float = 0.05
    smallest: float = 1e-8
    choices: tuple = ()
    choice_tips: Optional[dict] = None
    special: str = ""
    attr: str = ""
    live: bool = False

    @classmethod
    def from_setting(cls, setting: Setting, **overrides: Any) -> "Row":
        """The row of a registry setting (optimizer hyperparameter, schedule parameter)."""
        if setting.kind in ("bool",):
            kind = "check"
        elif setting.kind == "choice":
            kind = "combo"
        elif setting.kind == "int":
            kind = "int"
        else:
            kind = "sci" if setting.scale == "log" else "float"
        choices = tuple(zip(setting.choice_labels or setting.choices, setting.choices))
        values = dict(name=setting.name, kind=kind, label=setting.label, tip=setting.doc,
                      decimals=setting.decimals, step=setting.step, smallest=setting.smallest,
                      choices=choices, special=setting.special)
        values.update(overrides)
        return cls(**values)


def spec_bounds(cls: type, name: str, nudge: float = 0.0, smallest: Optional[float] = None) -> tuple[float, float]:
    """The range of field ``name`` of spec class ``cls`` for a box: inclusive bounds as
    they are, an exclusive one moved in by ``nudge`` (an exclusive 0 below: to ``smallest``)."""
    lo, hi = -1e15, 1e15
    for item in cls.__pydantic_fields__[name].metadata:
        if getattr(item, "ge", None) is not None:
            lo = float(item.ge)
        if getattr(item, "gt", None) is not None:
            lo = float(item.gt) + (smallest if smallest is not None and item.gt == 0 else nudge)
        if getattr(item, "le", None) is not None:
            hi = float(item.le)
        if getattr(item, "lt", None) is not None:
            hi = float(item.lt) - nudge
    return lo, hi


class SpecEditor(QWidget):
    """A widget that edits one frozen part of the experiment spec.

    ``edited(object)`` carries the new part after a valid user edit; ``set_value(v)``
    shows ``v`` and emits nothing; ``value()`` is the last valid part; ``set_running(b)``
    disables what may not change mid-run and says why."""

    edited = Signal(object)

    #: dotted path of this part inside ExperimentSpec (used in error messages)
    prefix: str = ""
    #: the spec class of this part (ranges of its rows are read off it)
    spec_class: type = object
    #: title of the dock that shows the editor
    title: str = ""
    #: added to the lock message by editors that keep some fields live
    live_note: str = ""

    def __init__(self, initial: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"{_camel(self.prefix)}Editor")
        self._value = initial
        self._running = False
        self._dark = False
        self._error = ""
        #: the form shows a value the spec refused (a rule between two fields): it is not
        #: in effect, so Run asks for it to be fixed first (see :meth:`commit_typed`)
        self._form_refused = False
        self._inputs: list[QWidget] = []
        self._declared: dict[str, tuple[Row, QWidget]] = {}
        self._forms: dict[str, QFormLayout] = {}

        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(8, 6, 8, 6)
        self._outer.setSpacing(6)
        # the reason (an error, a warning) comes first: in view however tall the form
        self.reason_label = QLabel()
        self.reason_label.setObjectName("reasonLabel")
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.reason_label.hide()
        self._outer.addWidget(self.reason_label)
        #: the editor's form; disabled as a whole when the editor locks fully
        self.form_host = QWidget()
        self.form_host.setObjectName(f"{self.objectName()}Form")
        self.content = QVBoxLayout(self.form_host)
        self.content.setContentsMargins(0, 0, 0, 0)
        self.content.setSpacing(6)
        self._outer.addWidget(self.form_host)

        self.lock_label = QLabel(f"{LOCK_TEXT} ({self.live_note})" if self.live_note else LOCK_TEXT)
        self.lock_label.setObjectName("lockLabel")
        self.lock_label.setWordWrap(True)
        self.lock_label.setStyleSheet(LOCK_STYLE)
        # its line is kept while hidden: Run and Stop then lay out nothing (the previews
        # below do not jump, and are not resized and redrawn at every run's start and end)
        policy = self.lock_label.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.lock_label.setSizePolicy(policy)
        self.lock_label.hide()
        self._outer.addWidget(self.lock_label)

        #: extra, non-locking widgets below the reason (previews)
        self.extra = QVBoxLayout()
        self.extra.setSpacing(4)
        self._outer.addLayout(self.extra)
        self._outer.addStretch(1)

    # -- public API ------------------------------------------------------------
    def value(self) -> Any:
        """The last valid spec part shown by this editor."""
        return self._value

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting ``edited``."""
        self._value = value
        self._error = ""
        self._form_refused = False
        with self.blocked():
            self._show_rows(value)
            self._show(value)
        self._refresh()
        self._update_reason()
        self.updateGeometry()

    def set_running(self, running: bool) -> None:
        """Lock (running=True) or unlock the widgets that may not change during a run."""
        self._running = bool(running)
        self._apply_lock()
        self.lock_label.setVisible(self._running)

    def is_running(self) -> bool:
        return self._running

    def apply_style(self, style) -> None:
        """Follow the theme (a :class:`workbench.ui.style.Style`): the error, warning, lock and
        note lines get colours readable on the theme's background, and the preview plots its
        colours.  (Labels with a style sheet keep the palette they were polished with; setting
        the style sheet again re-polishes them.)"""
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
        """The editor's small pyqtgraph plots (made by ``make_preview_plot``)."""
        return [w for w in self.findChildren(QWidget) if w.property("previewPlot")]

    def show_error(self, message: str) -> None:
        """Show ``message`` in red under the form (e.g. the session refused the edit or the
        data failed to load); cleared by the next valid edit or ``set_value``."""
        self._error = str(message)
        self._update_reason()

    def reason_text(self) -> str:
        """The error or warning currently shown under the form ('' if none)."""
        return self.reason_label.text() if not self.reason_label.isHidden() else ""

    def field_widget(self, name: str) -> QWidget:
        """The input widget of the row for spec field ``name``."""
        return self._declared[name][1]

    def commit_typed(self) -> Optional[str]:
        """Commit a value typed into a box but not yet entered (no Enter, no Tab) and return
        None, or return why it cannot be (the reason is also shown under the form) -- also
        when the form still shows a value the spec refused (QA: Run then trained the
        values in effect while the form showed others)."""
        for widget in self._all_inputs():
            if not widget.isEnabled():
                continue
            bad = typed_text_problem(widget)
            if bad is not None:
                name = widget.property("field") or widget.objectName() or "value"
                lo, hi = widget.minimum(), widget.maximum()
                self._error = (f"{self.prefix}.{name}: must be between {format_number(lo)} and "
                               f"{format_number(hi)}, got {bad}")
                self._update_reason()
                return self._error
            if isinstance(widget, QLineEdit) and widget.isModified():
                widget.setModified(False)
                widget.editingFinished.emit()
        if self._form_refused:  # Run would train the values in effect, not the ones shown
            self._update_reason()
            return self._error
        return None

    # -- hooks -------------------------------------------------------------------
    def _show(self, value: Any) -> None:
        """Show what the declared rows do not."""

    def _collect(self) -> dict[str, Any]:
        """The spec fields the declared rows do not hold, as the widgets show them now."""
        return {}

    def _refresh(self) -> None:
        """Update derived displays from ``value()`` and the widgets."""

    def _warning(self) -> str:
        """A note that does not block the edit (e.g. the zero-init symmetry trap)."""
        return ""

    def _pending(self) -> str:
        """A reason why the widgets do not describe a spec *yet* (shown as a note, no emission)."""
        return ""

    def _live_widgets(self) -> Iterable[QWidget]:
        """Widgets that stay editable during a run: the rows marked ``live``."""
        return [widget for row, widget in self._declared.values() if row.live]

    # -- rows ------------------------------------------------------------------------
    def add_rows(self, form: QFormLayout, rows: Iterable[Row]) -> None:
        """Build, register and lay out ``rows``; each widget becomes the attribute
        ``row.attr`` and its label ``<name>_label``."""
        for row in rows:
            widget = self._make_widget(row)
            self._declared[row.name] = (row, widget)
            self._forms[row.name] = form
            setattr(self, row.attr or f"{row.name}_{_SUFFIX[row.kind]}", widget)
            self.register(widget, row.tip, field=row.name)
            if row.kind == "check":
                form.addRow("", widget)
            else:
                setattr(self, f"{row.name}_label", add_row(form, row.label, widget))

    def set_row_visible(self, name: str, visible: bool) -> None:
        self._forms[name].setRowVisible(self._declared[name][1], visible)

    def _make_widget(self, row: Row) -> QWidget:
        kind = row.kind
        if kind == "check":
            return QCheckBox(row.label)
        if kind == "combo":
            return make_combo(row.choices, row.choice_tips)
        nudge = {"int": 1.0, "bigint": 1.0, "float": 10.0 ** -row.decimals}.get(kind, 0.0)
        lo, hi = row.bounds or spec_bounds(self.spec_class, row.name, nudge, row.smallest if kind == "sci" else None)
        if kind == "int":
            box = IntSpinBox(int(lo), int(hi))
        elif kind == "bigint":
            box = BigIntSpinBox(int(lo), int(hi))
        elif kind == "float":
            box = FloatSpinBox(lo, hi, decimals=row.decimals, step=row.step)
        else:
            box = SciSpinBox(lo, hi, smallest=row.smallest)
        if row.special:
            box.setSpecialValueText(row.special)
        return box

    def _show_rows(self, value: Any) -> None:
        for name in self._declared:
            self._set_row(name, getattr(value, name))

    def _set_row(self, name: str, v: Any) -> None:
        """Put ``v`` in the widget of row ``name`` (as its kind takes it)."""
        row, widget = self._declared[name]
        if row.kind == "check":
            widget.setChecked(bool(v))
        elif row.kind == "combo":
            set_combo_data(widget, v)
        else:
            widget.setValue(float(v) if row.kind == "bigint" else v)

    def _collect_rows(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, (row, widget) in self._declared.items():
            if row.kind == "check":
                out[name] = widget.isChecked()
            elif row.kind == "combo":
                out[name] = widget.currentData()
            elif row.kind == "bigint":
                out[name] = widget.int_value()
            elif row.kind == "float":
                out[name] = round(widget.value(), 8)
            else:
                out[name] = widget.value()
        return out

    # -- machinery -----------------------------------------------------------------
    @contextmanager
    def blocked(self):
        """Block the signals of every registered input."""
        blockers = [QSignalBlocker(w) for w in self._all_inputs()]
        try:
            yield
        finally:
            for b in blockers:
                b.unblock()

    def _all_inputs(self) -> list[QWidget]:
        return list(self._inputs)

    def register(self, widget: QWidget, tooltip: str | None = None, *, field: str | None = None,
                 commit: bool = True) -> QWidget:
        """Track ``widget`` for locking and signal blocking; wire it to ``_commit``.

        ``field`` names the spec field (used in the message when a typed value is refused)."""
        self._inputs.append(widget)
        if field:
            widget.setProperty("field", field)
        if tooltip:
            widget.setToolTip(tooltip)
        if commit:
            self._wire(widget)
        if isinstance(widget, RangeReporting):
            widget.editingFinished.connect(lambda w=widget: self._report_rejected(w))
        return widget

    def _wire(self, widget: QWidget) -> None:
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            widget.valueChanged.connect(self._commit)
            widget.editingFinished.connect(self._commit)
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(self._commit)
        elif isinstance(widget, QAbstractButton):
            widget.toggled.connect(self._commit)
        elif isinstance(widget, QLineEdit):
            widget.editingFinished.connect(self._commit)

    def _report_rejected(self, widget: RangeReporting) -> None:
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

    def _commit(self, *_args: Any) -> None:
        """Build the new spec part from the widgets; emit it if it is valid and new."""
        if self._pending():
            self._error = ""
            self._update_reason()
            return
        try:
            changes = {**self._collect_rows(), **self._collect()}
            new = S.replace(self._value, self.prefix, **changes)
        except ValueError as exc:  # SpecError, and parse errors from line edits
            self._error = str(exc)
            self._form_refused = True
            self._update_reason()
            return
        self._error = ""
        self._form_refused = False
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


def separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


class EditorDock(QDockWidget):
    """A movable, closable, floatable dock around one editor (in a scroll area that asks
    for the editor's size but lets it scroll when the dock is shorter)."""

    def __init__(self, editor: SpecEditor, parent: QWidget | None = None):
        super().__init__(editor.title, parent)
        self.editor = editor
        self.setObjectName(f"{_camel(editor.prefix)}Dock")
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        scroll = DockScrollArea()
        scroll.setObjectName(f"{self.objectName()}Scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setWidget(editor)
        self.setWidget(scroll)


def _camel(prefix: str) -> str:
    head, *rest = prefix.split("_")
    return head + "".join(part.title() for part in rest)


__all__ = ["Row", "SpecEditor", "EditorDock", "spec_bounds", "separator", "WIDGET_KINDS"]
