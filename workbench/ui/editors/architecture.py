"""The Architecture editor: hidden layers, dropout and initialisation (``ArchitectureSpec``).

The input and output sizes come from the data (``set_io``); the editor shows the layer
shapes and the parameter count  Σ (fan_in·fan_out + fan_out)  live.

Why this module is long: it is one editor, but its layers are a table of variable length
(add, insert, remove, move and duplicate a row; the selected row; one set of widgets per
layer), which the declarative field rows the other editors are built from cannot express.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QSizePolicy,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench import spec as S

from ..widgets.forms import make_combo, new_form, set_combo_data
from ..widgets.spinboxes import FloatSpinBox, IntSpinBox
from .base import Row, SpecEditor

ACTIVATION_TIPS = {
    "identity": "identity: g(z) = z",
    "relu": "ReLU: g(z) = max(0, z)",
    "leaky_relu": "leaky ReLU: g(z) = max(0.01 z, z)",
    "elu": "ELU: g(z) = z if z > 0, else eᶻ − 1",
    "tanh": "tanh: g(z) = (eᶻ − e⁻ᶻ)/(eᶻ + e⁻ᶻ)",
    "sigmoid": "sigmoid: g(z) = 1/(1 + e⁻ᶻ)",
    "softplus": "softplus: g(z) = log(1 + eᶻ)",
    "hard_tanh": "hard tanh: g(z) = max(−1, min(1, z))",
}
ACTIVATION_LABELS = {
    "identity": "identity",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "elu": "ELU",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softplus": "softplus",
    "hard_tanh": "hard tanh",
}
INIT_TIPS = {
    "zeros": "zeros: W = 0 — every unit of a layer gets the same gradient and stays identical (the symmetry trap)",
    "pytorch_default": "PyTorch default: W ~ U(−1/√d_in, +1/√d_in)",
    "xavier_normal": "Xavier/Glorot normal: W ~ N(0, 2/(d_in + d_out))",
    "xavier_uniform": "Xavier/Glorot uniform: W ~ U(±√(6/(d_in + d_out)))",
    "he_normal": "He/Kaiming normal: W ~ N(0, 2/d_in) (for ReLU)",
    "he_uniform": "He/Kaiming uniform: W ~ U(±√(6/d_in)) (for ReLU)",
    "lecun_normal": "LeCun normal: W ~ N(0, 1/d_in)",
}
INIT_LABELS = {
    "zeros": "zeros",
    "pytorch_default": "PyTorch default",
    "xavier_normal": "Xavier normal",
    "xavier_uniform": "Xavier uniform",
    "he_normal": "He normal",
    "he_uniform": "He uniform",
    "lecun_normal": "LeCun normal",
}
#: the same, short, for the narrow layer table (the full names are in the tooltips)
INIT_SHORT_LABELS = {
    "zeros": "zeros",
    "pytorch_default": "PyTorch",
    "xavier_normal": "Xavier N",
    "xavier_uniform": "Xavier U",
    "he_normal": "He N",
    "he_uniform": "He U",
    "lecun_normal": "LeCun N",
}
INIT_TOOLTIP = "Weight initialisation (biases start at 0):\n" + "\n".join(INIT_TIPS[k] for k in S.INITIALIZERS)
ACTIVATION_TOOLTIP = "Activation g of the layer, h = g(Wᵀx + c):\n" + "\n".join(
    ACTIVATION_TIPS[k] for k in S.ACTIVATIONS
)
DROPOUT_TOOLTIP = (
    "Dropout rate p on this layer's output: during training each unit is zeroed with\n"
    "probability p (a fresh mask per mini-batch).  How the test-time prediction compensates\n"
    "is chosen in Regularization (inverted / classic / Monte-Carlo)."
)
UNITS_TOOLTIP = "Number of units (neurons) in the layer, 1 … 4096."

COLUMNS = ("Units", "Activation", "Dropout", "Init")
COL_UNITS, COL_ACT, COL_DROP, COL_INIT = range(4)


def parameter_count(n_inputs: int, units: list[int], n_outputs: int) -> int:
    """Σ over dense layers of fan_in·fan_out + fan_out (weights plus biases)."""
    sizes = [n_inputs, *units, n_outputs]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


INPUT_ROWS = (
    Row("input_dropout", "float", "Input dropout <i>p</i>",
        "Dropout rate on the input features: each input is zeroed with probability p during training.",
        decimals=2, step=0.05),
)
OUTPUT_ROWS = (
    Row("output_init", "combo", "Output init", INIT_TOOLTIP,
        choices=tuple((INIT_LABELS[k], k) for k in S.INITIALIZERS), choice_tips=INIT_TIPS),
)


class _RowFocus(QObject):
    """Selects a table row when one of its cell widgets gets the focus."""

    def __init__(self, dock: "ArchitectureEditor"):
        super().__init__(dock)
        self._dock = dock

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.FocusIn:
            self._dock._select_row_of(obj)
        return False


class ArchitectureEditor(SpecEditor):
    """Edits :class:`workbench.spec.ArchitectureSpec`.

    *Add layer* appends a layer of 16 units with the activation and init of the last
    layer (ReLU / He uniform if there is none); *Insert above* does the same above the
    selected layer, copying its activation and init; *Duplicate* copies the selected
    layer below it.  At most ``spec.MAX_LAYERS`` hidden layers.
    """

    prefix = "architecture"
    spec_class = S.ArchitectureSpec
    title = "Architecture"

    SHORTCUTS = {
        "add": "Ctrl+Alt+N",
        "insert": "Ctrl+Alt+I",
        "remove": "Ctrl+Alt+X",
        "up": "Ctrl+Alt+Up",
        "down": "Ctrl+Alt+Down",
        "duplicate": "Ctrl+Alt+D",
    }

    def __init__(self, parent: QWidget | None = None):
        super().__init__(S.ArchitectureSpec(), parent)
        self._io: tuple[int, int, str] | None = None
        self._rows: list[tuple[IntSpinBox, QComboBox, FloatSpinBox, QComboBox]] = []
        self._focus_filter = _RowFocus(self)

        self.shape_label = QLabel()
        self.shape_label.setObjectName("shapeLabel")
        self.shape_label.setWordWrap(True)
        self.shape_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.shape_label.setToolTip("Layer widths from input to output · number of trainable parameters\nΣ (fan_in·fan_out + fan_out)")
        font = self.shape_label.font()
        font.setBold(True)
        self.shape_label.setFont(font)
        self.content.addWidget(self.shape_label)  # first: always in view, however small the dock

        # -- input -------------------------------------------------------------------
        in_box = QGroupBox("Input")
        in_form = new_form()
        in_box.setLayout(in_form)
        self.input_label = QLabel("features: set by the data")
        self.input_label.setObjectName("inputLabel")
        in_form.addRow("Inputs", self.input_label)
        self.add_rows(in_form, INPUT_ROWS)
        self.content.addWidget(in_box)

        # -- hidden layers ----------------------------------------------------------------
        hidden_box = QGroupBox("Hidden layers")
        hv = QVBoxLayout(hidden_box)
        hv.setSpacing(4)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("layersTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for col, tip in (
            (COL_UNITS, UNITS_TOOLTIP),
            (COL_ACT, ACTIVATION_TOOLTIP),
            (COL_DROP, DROPOUT_TOOLTIP),
            (COL_INIT, INIT_TOOLTIP),
        ):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # the columns fit the table (see _rebuild); a cell widget taking the focus must not
        # scroll it sideways (QA: after editing a dropout cell the header read "Jnits")
        bar = self.table.horizontalScrollBar()
        bar.valueChanged.connect(lambda value, bar=bar: value and bar.setValue(0))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        probe = make_combo([("Xavier uniform", "x")])
        row_h = max(probe.sizeHint().height(), IntSpinBox(1, 9).sizeHint().height()) + 4
        probe.deleteLater()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(row_h)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._inputs.append(self.table)
        hv.addWidget(self.table)

        buttons = QGridLayout()
        buttons.setHorizontalSpacing(4)
        buttons.setVerticalSpacing(4)
        self.add_button = self._button("add", "Add", "Add a hidden layer after the last one")
        self.insert_button = self._button("insert", "Insert", "Insert a hidden layer above the selected one")
        self.remove_button = self._button("remove", "Remove", "Remove the selected layer")
        self.up_button = self._button("up", "Up", "Move the selected layer one place towards the input")
        self.down_button = self._button("down", "Down", "Move the selected layer one place towards the output")
        self.duplicate_button = self._button("duplicate", "Copy", "Duplicate: copy the selected layer below itself")
        for i, b in enumerate(
            (
                self.add_button,
                self.insert_button,
                self.duplicate_button,
                self.remove_button,
                self.up_button,
                self.down_button,
            )
        ):
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(b, 0, i)
        hv.addLayout(buttons)
        self.add_button.clicked.connect(self.add_layer)
        self.insert_button.clicked.connect(self.insert_layer_above)
        self.remove_button.clicked.connect(self.remove_layer)
        self.up_button.clicked.connect(lambda: self.move_layer(-1))
        self.down_button.clicked.connect(lambda: self.move_layer(+1))
        self.duplicate_button.clicked.connect(self.duplicate_layer)
        self.content.addWidget(hidden_box)

        # -- output ----------------------------------------------------------------
        out_box = QGroupBox("Output")
        out_form = new_form()
        out_box.setLayout(out_form)
        self.output_label = QLabel("units and loss: set by the data")
        self.output_label.setObjectName("outputLabel")
        self.output_label.setWordWrap(True)
        self.output_label.setToolTip(
            "The output layer follows the task:\n"
            "multi-class: K units, softmax + cross-entropy  −Σ yₖ log ŷₖ\n"
            "binary: 1 unit, sigmoid + binary cross-entropy\n"
            "regression: k units, linear + mean squared error (1/n) Σ ‖y − ŷ‖²"
        )
        out_form.addRow("Output", self.output_label)
        self.add_rows(out_form, OUTPUT_ROWS)
        self.content.addWidget(out_box)

        self.set_value(S.ArchitectureSpec())

    # -- construction helpers --------------------------------------------------------------
    def _button(self, key: str, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setObjectName(f"{key}LayerButton")
        button.setText(text)
        seq = QKeySequence(self.SHORTCUTS[key])
        button.setToolTip(f"{tip} ({seq.toString(QKeySequence.SequenceFormat.NativeText)})")
        shortcut = QShortcut(seq, self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(lambda b=button: b.isEnabled() and b.click())
        self._inputs.append(button)
        return button

    def _make_row(self, row: int, layer: S.LayerSpec) -> None:
        units = IntSpinBox(1, S.MAX_UNITS)
        units.setValue(layer.units)
        units.setProperty("field", f"layers.{row}.units")
        units.setToolTip(UNITS_TOOLTIP)
        act = make_combo([(ACTIVATION_LABELS[k], k) for k in S.ACTIVATIONS], ACTIVATION_TIPS)
        set_combo_data(act, layer.activation)
        act.setToolTip(ACTIVATION_TOOLTIP)
        drop = FloatSpinBox(0.0, 0.95, decimals=2, step=0.05)
        drop.setValue(layer.dropout)
        drop.setProperty("field", f"layers.{row}.dropout")
        drop.setToolTip(DROPOUT_TOOLTIP)
        init = make_combo([(INIT_SHORT_LABELS.get(k, INIT_LABELS[k]), k) for k in S.INITIALIZERS],
                          {k: INIT_TIPS[k] for k in S.INITIALIZERS})
        set_combo_data(init, layer.init)
        init.setToolTip(INIT_TOOLTIP)
        # no arrow buttons in the narrow table: type a value, or use the arrow keys / wheel
        for spin in (units, drop):
            spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            spin.setToolTip(spin.toolTip() + "\nType a value, or use ↑/↓ (or the mouse wheel while it has the focus).")
        for col, widget in ((COL_UNITS, units), (COL_ACT, act), (COL_DROP, drop), (COL_INIT, init)):
            widget.setObjectName(f"layer{row}_{COLUMNS[col].split()[0].lower()}")
            widget.installEventFilter(self._focus_filter)
            self.table.setCellWidget(row, col, widget)
            self._wire(widget)
        for spin in (units, drop):
            spin.editingFinished.connect(lambda w=spin: self._report_rejected(w))
        self._rows.append((units, act, drop, init))

    def _rebuild(self, layers: tuple[S.LayerSpec, ...], select: int | None = None) -> None:
        with self.blocked():
            self.table.clearSelection()
            self.table.setRowCount(0)
            self._rows.clear()
            self.table.setRowCount(len(layers))
            for row, layer in enumerate(layers):
                self._make_row(row, layer)
            for row in range(len(layers)):
                self.table.setVerticalHeaderItem(row, QTableWidgetItem(f"{row + 1}"))
        if select is not None and 0 <= select < len(layers):
            self.table.selectRow(select)
        self._update_buttons()
        # show up to 8 rows without inner scrolling (more scroll inside the table)
        row_h = self.table.verticalHeader().defaultSectionSize()
        visible = min(max(len(layers), 1), 8) + (1 if len(layers) < 8 else 0)
        height = self.table.horizontalHeader().sizeHint().height() + 2 * self.table.frameWidth() + visible * row_h
        self.table.setFixedHeight(height)
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        last = len(COLUMNS) - 1
        cells = [max((r[c].sizeHint().width() for r in self._rows), default=0) for c in range(len(COLUMNS))]
        width = (
            sum(header.sectionSize(c) for c in range(last))
            + max(cells[last] + 6, header.sectionSizeHint(last))
            + self.table.verticalHeader().sizeHint().width()
            + 2 * self.table.frameWidth()
            + (self.table.verticalScrollBar().sizeHint().width() if len(layers) > 8 else 0)
            + 2
        )
        self.table.setMinimumWidth(width)

    def _all_inputs(self) -> list[QWidget]:
        return [*self._inputs, *(w for row in self._rows for w in row)]

    def _select_row_of(self, widget: QObject) -> None:
        for row, widgets in enumerate(self._rows):
            if widget in widgets:
                if self.selected_row() != row:
                    self.table.selectRow(row)
                return

    # -- public API ---------------------------------------------------------------------
    def set_io(self, n_inputs: int | None, n_outputs: int | None, output_label: str = "") -> None:
        """Show the sizes the data fixes: ``n_inputs`` features, ``n_outputs`` output units and
        the output/loss pair (e.g. ``"softmax + cross-entropy"``); ``None`` clears them."""
        if n_inputs is None or n_outputs is None:
            self._io = None
            self.input_label.setText("features: set by the data")
            self.output_label.setText("units and loss: set by the data")
        else:
            self._io = (int(n_inputs), int(n_outputs), output_label)
            self.input_label.setText(f"{n_inputs} feature{'s' if n_inputs != 1 else ''}")
            units = f"{n_outputs} unit{'s' if n_outputs != 1 else ''}"
            self.output_label.setText(f"{units} · {output_label}" if output_label else units)
        self._refresh()

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            return rows[0].row()
        return None

    def shapes_text(self) -> str:
        return self.shape_label.text()

    def add_layer(self) -> None:
        layers = list(self._widget_layers())
        template = layers[-1] if layers else None
        layers.append(self._new_layer(template))
        self._structural(layers, len(layers) - 1)

    def insert_layer_above(self) -> None:
        layers = list(self._widget_layers())
        row = self.selected_row()
        if row is None:
            row = 0
        template = layers[row] if layers else None
        layers.insert(row, self._new_layer(template))
        self._structural(layers, row)

    def remove_layer(self) -> None:
        row = self.selected_row()
        layers = list(self._widget_layers())
        if row is None or not layers:
            return
        del layers[row]
        self._structural(layers, min(row, len(layers) - 1) if layers else None)

    def move_layer(self, delta: int) -> None:
        row = self.selected_row()
        layers = list(self._widget_layers())
        if row is None:
            return
        target = row + delta
        if not 0 <= target < len(layers):
            return
        layers[row], layers[target] = layers[target], layers[row]
        self._structural(layers, target)

    def duplicate_layer(self) -> None:
        row = self.selected_row()
        layers = list(self._widget_layers())
        if row is None:
            return
        layers.insert(row + 1, layers[row])
        self._structural(layers, row + 1)

    # -- internals ------------------------------------------------------------------------------
    @staticmethod
    def _new_layer(template: S.LayerSpec | None) -> S.LayerSpec:
        if template is None:
            return S.LayerSpec(16, "relu", 0.0, "he_uniform")
        return S.LayerSpec(16, template.activation, 0.0, template.init)

    def _widget_layers(self) -> tuple[S.LayerSpec, ...]:
        out = []
        for row, (units, act, drop, init) in enumerate(self._rows):
            try:
                out.append(S.LayerSpec(units.value(), act.currentData(), round(drop.value(), 6), init.currentData()))
            except Exception:  # pragma: no cover - widgets are range-limited
                out.append(self._value.layers[row])
        return tuple(out)

    def _structural(self, layers: list[S.LayerSpec], select: int | None) -> None:
        if len(layers) > S.MAX_LAYERS:
            self._error = f"architecture.layers: at most {S.MAX_LAYERS} hidden layers"
            self._update_reason()
            return
        try:
            new = S.replace(self._value, self.prefix, layers=tuple(layers), **self._collect_rows())
        except S.SpecError as exc:
            self._error = str(exc)
            self._update_reason()
            return
        self._error = ""
        self._rebuild(new.layers, select)
        if new != self._value:
            self._value = new
            self._refresh()
            self._update_reason()
            self.edited.emit(new)
        else:
            self._refresh()
            self._update_reason()

    def _show(self, v: S.ArchitectureSpec) -> None:
        selected = self.selected_row()
        self._rebuild(v.layers, selected if selected is not None and selected < len(v.layers) else None)

    def _collect(self) -> dict[str, Any]:
        return dict(layers=self._widget_layers())

    def _refresh(self) -> None:
        units = [u.value() for u, *_ in self._rows]
        if self._io is not None:
            n_in, n_out, _ = self._io
            sizes = [n_in, *units, n_out]
            count = parameter_count(n_in, units, n_out)
            text = " → ".join(str(s) for s in sizes) + f" · {count:,} parameters"
        else:
            sizes = [None, *units, None]
            text = " → ".join("?" if s is None else str(s) for s in sizes) + " · parameters known once the data is set"
        self.shape_label.setText(text)
        for row in range(len(self._rows)):
            fan_in, fan_out = sizes[row], sizes[row + 1]
            item = self.table.verticalHeaderItem(row)
            if item is None:
                continue
            if fan_in is None:
                item.setToolTip(f"Hidden layer {row + 1}: W is ? × {fan_out}, bias c has {fan_out} entries")
            else:
                item.setToolTip(
                    f"Hidden layer {row + 1}: W is {fan_in} × {fan_out}, bias c has {fan_out} entries → "
                    f"{fan_in * fan_out + fan_out:,} parameters"
                )
        self._update_buttons()

    def _warning(self) -> str:
        where = [f"layer {i + 1}" for i, layer in enumerate(self._value.layers) if layer.init == "zeros"]
        if self._value.output_init == "zeros":
            where.append("output")
        if not where:
            return ""
        return (
            f"Init 'zeros' ({', '.join(where)}): all units in a layer stay identical — the symmetry trap "
            "(every unit computes the same output and receives the same gradient)."
        )

    def _update_buttons(self) -> None:
        n = len(self._rows)
        row = self.selected_row()
        room = n < S.MAX_LAYERS
        self.add_button.setEnabled(room)
        self.insert_button.setEnabled(room)
        self.duplicate_button.setEnabled(room and row is not None)
        self.remove_button.setEnabled(row is not None)
        self.up_button.setEnabled(row is not None and row > 0)
        self.down_button.setEnabled(row is not None and row < n - 1)


__all__ = ["ArchitectureEditor", "parameter_count"]
