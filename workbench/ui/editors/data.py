"""The Data editor: where the samples come from, how they are read, split and scaled
(``DataSpec``).  The generators and bundled sets are :mod:`workbench.data`'s registries."""

from __future__ import annotations

import os
from typing import Any, Optional

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from workbench import spec as S
from workbench.data import BUNDLED, GENERATORS, file_sha256
from workbench.data.csv_import import read_csv_header
from workbench.data.csv_import import csv_path_problem

from ..style import CLASS_COLORS
from ..widgets.forms import add_row, make_combo, new_form, set_combo_data
from ..widgets.previews import make_preview_plot
from .base import Row, SpecEditor

#: the preview draws at most this many (evenly spaced) training points
PREVIEW_MAX_POINTS = 2000

#: class colours of the preview: those of the decision-boundary view (no black: it
#: vanishes on the dark theme)
PALETTE = CLASS_COLORS

DERIVED_LABELS = {
    "x1_sq": ("x₁²", "Adds the feature x₁² (lets a linear model draw circles)"),
    "x2_sq": ("x₂²", "Adds the feature x₂²"),
    "x1x2": ("x₁x₂", "Adds the product x₁·x₂ (solves XOR for a linear model)"),
    "sin_x1": ("sin x₁", "Adds sin x₁"),
    "sin_x2": ("sin x₂", "Adds sin x₂"),
}

GENERATED_ROWS = (
    Row("n_samples", "int", "Samples <i>n</i>", "Number of generated samples n (before the split).", step=50,
        attr="samples_spin"),
    Row("noise", "float", "Noise σ", "Noise level σ of the generator: Gaussian noise added to the points "
        "(classification)\nor to the targets y (regression).", decimals=3, step=0.05),
    Row("n_classes", "int", "Classes <i>K</i>", "Number of classes K (one Gaussian blob per class).",
        attr="classes_spin"),
)
CSV_ROWS = (
    Row("task", "combo", "Task",
        "Auto: a text or small-integer target is a class label, otherwise a number to regress.\n"
        "Classification: softmax + cross-entropy (sigmoid + BCE for two classes).\n"
        "Regression: linear output + mean squared error.",
        choices=(("Auto", "auto"), ("Classification", "classification"), ("Regression", "regression"))),
    Row("csv_delimiter", "combo", "Delimiter", "The character between cells: detected from the file, or forced.",
        choices=(("Detect", "auto"), ("comma  ,", ","), ("semicolon  ;", ";"), ("tab", "\t")),
        attr="delimiter_combo"),
    Row("csv_decimal", "combo", "Decimal mark", "1.5 or 1,5: detected from the file, or forced\n"
        "(a decimal comma needs a delimiter other than the comma).",
        choices=(("Detect", "auto"), ("point  1.5", "."), ("comma  1,5", ",")), attr="decimal_combo"),
    Row("missing", "combo", "Missing values",
        "Empty cells (and NA, ?, …) in a feature: drop those rows, or fill them with the training\n"
        "split's mean of the column (fitted on the training split only), or refuse the file.\n"
        "A row without a target is always dropped.  The data summary says how many.",
        choices=(("Drop the rows", "drop"), ("Fill with training mean", "fill"), ("Refuse the file", "refuse"))),
)
SPLIT_ROWS = (
    Row("val_fraction", "float", "Validation fraction",
        "Fraction of the samples held out for validation: the curves' validation loss,\n"
        "early stopping and the plateau schedule watch it.  val + test ≤ 0.9.", decimals=2, attr="val_spin"),
    Row("test_fraction", "float", "Test fraction",
        "Fraction held out for the final test score (never used for training or stopping).\n"
        "val + test ≤ 0.9.", decimals=2, attr="test_spin"),
    Row("stratify", "check", "Stratify by class",
        "Keep the class proportions equal in train, validation and test (classification only)."),
    Row("scaling", "combo", "Scaling",
        "Feature scaling, fitted on the training split only:\n"
        "standard x′ = (x − μ)/σ;  min–max x′ = (x − min)/(max − min);  none.",
        choices=(("Standardize (z-score)", "standard"), ("Min–max to [0, 1]", "minmax"), ("None", "none")),
        choice_tips={"standard": "x′ = (x − μ) / σ, with μ, σ of the training split",
                     "minmax": "x′ = (x − min) / (max − min), with min, max of the training split",
                     "none": "use the raw feature values"}),
    Row("standardize_targets", "check", "Standardize regression targets",
        "Regression: the network learns (y − μ)/σ with μ, σ of the training split, so targets of any\n"
        "scale train alike; losses, RMSE, R² and predictions are reported in the units of y.",
        attr="targets_check"),
    Row("seed", "bigint", "Data seed", "Seed of the data: the generated points and the train/validation/test "
        "split.\nSame seed → the same samples every time."),
)


def csv_columns(path: str) -> list[str]:
    """The columns of a CSV file in file order (target candidates), read from its first
    records only (never a parse on the GUI thread); raises ValueError with the reason."""
    problem = csv_path_problem(path)
    if problem is not None:
        raise ValueError(f"data.csv_path: {problem}")
    return read_csv_header(path)


class DataEditor(SpecEditor):
    """Edits :class:`workbench.spec.DataSpec`; ``set_preview(dataset)`` shows the training points."""

    prefix = "data"
    spec_class = S.DataSpec
    title = "Data"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(S.DataSpec(), parent)
        self._header: list[str] = []
        self._csv_sha: Optional[str] = None

        source_box = QGroupBox("Source")
        form = new_form()
        source_box.setLayout(form)
        self._source_form = form
        self.source_combo = make_combo([("Synthetic", "synthetic"), ("Bundled", "bundled"), ("CSV file…", "csv")])
        self.register(
            self.source_combo,
            "Synthetic: a generated 2-D/1-D problem (reproducible from the data seed).\n"
            "Bundled: a small real data set shipped with the workbench.\n"
            "CSV file: your own table, one sample per row, a header row naming the columns.",
            field="source", commit=False)
        self.source_combo.currentIndexChanged.connect(self._on_source_changed)
        add_row(form, "Source", self.source_combo)
        self.name_combo = make_combo([])
        self.name_combo.setMinimumContentsLength(18)
        self.register(self.name_combo, "The data set; its task is shown beside the name.", field="name", commit=False)
        self.name_combo.currentIndexChanged.connect(self._on_name_changed)
        self.name_label = add_row(form, "Data set", self.name_combo)
        self.add_rows(form, GENERATED_ROWS)

        derived = QWidget()
        grid = QGridLayout(derived)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        self.derived_checks: dict[str, QCheckBox] = {}
        for i, key in enumerate(S.DERIVED_FEATURES):
            label, tip = DERIVED_LABELS[key]
            box = QCheckBox(label)
            box.setObjectName(f"derived_{key}")
            self.register(box, tip + " to the two inputs (2-D synthetic sets only).", field="derived_features")
            self.derived_checks[key] = box
            grid.addWidget(box, i // 3, i % 3)
        self.derived_widget = derived
        add_row(form, "Extra features", derived,
                "Derived input features computed from x₁, x₂ before scaling: a linear model with x₁², x₂²\n"
                "can separate circles; with x₁x₂ it can solve XOR.")

        path_row = QWidget()
        path_layout = QHBoxLayout(path_row)
        path_layout.setContentsMargins(0, 0, 0, 0)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("path/to/file.csv")
        self.path_edit.setClearButtonEnabled(True)
        self.register(self.path_edit, "The CSV file (a header row, one sample per row).", field="csv_path", commit=False)
        self.path_edit.editingFinished.connect(self._on_path_edited)
        self.browse_button = QPushButton("Browse…")
        self.register(self.browse_button, "Choose a CSV file", commit=False)
        self.browse_button.clicked.connect(self._browse)
        path_layout.addWidget(self.path_edit, 1)
        path_layout.addWidget(self.browse_button)
        self.path_row = path_row
        add_row(form, "CSV file", path_row)
        self.target_combo = make_combo([])
        self.target_combo.setMinimumContentsLength(12)
        self.register(self.target_combo, "The column to predict; every other column is an input feature.",
                      field="target_column")
        add_row(form, "Target column", self.target_combo)
        self.add_rows(form, CSV_ROWS)
        self.content.addWidget(source_box)

        split_box = QGroupBox("Split and scaling")
        sform = new_form()
        split_box.setLayout(sform)
        self.add_rows(sform, SPLIT_ROWS)
        self.content.addWidget(split_box)

        # -- preview (not locked) -----------------------------------------------
        self.preview_plot = make_preview_plot("dataPreview", 110)
        self.preview_plot.showGrid(x=False, y=False)
        self.preview_plot.setToolTip("The training points (after scaling)")
        self.preview_plot.hide()
        self.summary_label = QLabel("No data loaded yet.")
        self.summary_label.setObjectName("dataSummary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.extra.addWidget(self.preview_plot)
        self.extra.addWidget(self.summary_label)
        self._scatter = None
        self.set_value(S.DataSpec())

    # -- registries and visibility ----------------------------------------------------
    @staticmethod
    def _registry(source: str) -> dict:
        return GENERATORS if source == "synthetic" else BUNDLED if source == "bundled" else {}

    def _fill_names(self, source: str, current: str) -> None:
        combo = self.name_combo
        with self.blocked():
            combo.clear()
            for name, entry in self._registry(source).items():
                combo.addItem(f"{name}  ·  {entry.task}", name)
                combo.setItemData(combo.count() - 1, f"{entry.description}\nTask: {entry.task}",
                                  Qt.ItemDataRole.ToolTipRole)
            if current and combo.findData(current) < 0 and source != "csv":
                combo.addItem(f"{current}  ·  (unknown)", current)
            set_combo_data(combo, current)

    def _entry(self):
        return self._registry(self.source_combo.currentData()).get(self.name_combo.currentData())

    def _is_2d_synthetic(self) -> bool:
        entry = self._entry()
        return self.source_combo.currentData() == "synthetic" and entry is not None and entry.n_inputs == 2

    def _is_regression(self) -> bool:
        source = self.source_combo.currentData()
        if source == "csv":
            return self.task_combo.currentData() != "classification"
        entry = self._entry()
        return entry is not None and entry.task == "regression"

    def _update_visibility(self) -> None:
        source = self.source_combo.currentData()
        synthetic, csv_source = source == "synthetic", source == "csv"
        form = self._source_form
        form.setRowVisible(self.name_combo, not csv_source)
        entry = self._entry()
        fixed = entry is not None and entry.fixed
        self.set_row_visible("n_samples", synthetic and not fixed)
        self.set_row_visible("noise", synthetic and not fixed)
        self.set_row_visible("n_classes", synthetic and entry is not None and entry.n_classes is None)
        form.setRowVisible(self.derived_widget, self._is_2d_synthetic())
        form.setRowVisible(self.path_row, csv_source)
        form.setRowVisible(self.target_combo, csv_source)
        for row in CSV_ROWS:
            self.set_row_visible(row.name, csv_source)
        self.set_row_visible("standardize_targets", self._is_regression())
        self.name_combo.setToolTip(f"{entry.description}\nTask: {entry.task}" if entry else "The data set")

    def _fill_targets(self, header: list[str], current: str | None) -> None:
        self._header = list(header)
        with self.blocked():
            self.target_combo.clear()
            for col in header:
                self.target_combo.addItem(col, col)
            if current and self.target_combo.findData(current) < 0:
                self.target_combo.addItem(f"{current}  (not in file)", current)
            if current:
                set_combo_data(self.target_combo, current)
            elif header:
                self.target_combo.setCurrentIndex(len(header) - 1)

    # -- editor hooks --------------------------------------------------------------
    def _show(self, v: S.DataSpec) -> None:
        set_combo_data(self.source_combo, v.source)
        self._fill_names(v.source, v.name)
        for key, box in self.derived_checks.items():
            box.setChecked(key in v.derived_features)
        self.path_edit.setText(v.csv_path or "")
        header: list[str] = []
        if v.source == "csv" and v.csv_path:
            try:
                header = csv_columns(v.csv_path)
            except (OSError, ValueError):
                header = []
        self._fill_targets(header, v.target_column)
        self._csv_sha = v.csv_sha256
        self._update_visibility()

    def _pending(self) -> str:
        if self.source_combo.currentData() == "csv" and not self.path_edit.text().strip():
            return "Choose a CSV file (Browse…): the data stays as it was until then."
        return ""

    def _collect(self) -> dict[str, Any]:
        source = self.source_combo.currentData()
        derived = tuple(k for k in S.DERIVED_FEATURES if self.derived_checks[k].isChecked()) \
            if self._is_2d_synthetic() else ()
        changes: dict[str, Any] = dict(source=source, derived_features=derived)
        if source != "csv":
            changes["task"] = "auto"
            changes["name"] = self.name_combo.currentData() or self._value.name
        path = self.path_edit.text().strip() or None
        changes["csv_path"] = path
        changes["csv_sha256"] = self._csv_sha if path else None
        changes["target_column"] = self.target_combo.currentData() if path else None
        if source == "csv" and path:
            changes["name"] = os.path.basename(path)[:200]
        return changes

    # -- slots --------------------------------------------------------------------------
    def _on_source_changed(self) -> None:
        source = self.source_combo.currentData()
        if source != "csv":
            table = self._registry(source)
            current = self._value.name if self._value.name in table else next(iter(table), "")
            self._fill_names(source, current)
        self._update_visibility()
        self._commit()

    def _on_name_changed(self) -> None:
        self._update_visibility()
        self._commit()

    def _on_path_edited(self) -> None:
        path = self.path_edit.text().strip()
        if path == (self._value.csv_path or "") and self._value.source == "csv":
            return
        if path:
            self.choose_csv(path)
        else:
            self._commit()

    def _browse(self) -> None:
        start = os.path.dirname(self.path_edit.text().strip()) or os.getcwd()
        path, _ = QFileDialog.getOpenFileName(self, "Open a CSV file", start, "CSV files (*.csv);;All files (*)")
        if path:
            self.choose_csv(path)

    def choose_csv(self, path: str) -> bool:
        """Use the CSV file at ``path``: read its header into the target list, record its
        SHA-256 and switch the source to CSV.  Returns False (and shows why) if it cannot be read."""
        try:
            header = csv_columns(path)
            sha = file_sha256(path)
        except (OSError, ValueError) as exc:
            message = str(exc)
            self._error = message if message.startswith("data.") else f"data.csv_path: {os.path.basename(path)}: {message}"
            self._update_reason()
            return False
        current = self.target_combo.currentData() if self._header == header else None
        with self.blocked():
            set_combo_data(self.source_combo, "csv")
            self.path_edit.setText(path)
        self._fill_targets(header, current)
        self._csv_sha = sha
        self._update_visibility()
        self._commit()
        return True

    # -- preview --------------------------------------------------------------------------
    def set_preview(self, dataset: Any | None) -> None:
        """Show the training points of ``dataset`` (a ``workbench.data.Dataset``) or clear."""
        plot = self.preview_plot
        plot.clear()
        self._scatter = None
        if dataset is None:
            plot.hide()
            self.summary_label.setText("No data loaded yet.")
            return
        X_all, y_all = np.asarray(dataset.X_train), np.asarray(dataset.y_train)  # noqa: N806
        n_train = len(X_all)
        # at most PREVIEW_MAX_POINTS evenly spaced samples of the first two features: a
        # 60 000 x 784 set must not be copied or drawn point by point
        step = max(1, -(-n_train // PREVIEW_MAX_POINTS))
        X = np.asarray(X_all[::step, :2] if X_all.ndim == 2 else X_all[::step], dtype=float)  # noqa: N806
        y = y_all[::step]
        n_total = sum(len(a) for a in (dataset.X_train, dataset.X_val, dataset.X_test) if a is not None)
        task, n_classes = dataset.task, dataset.n_classes
        n_features = X_all.shape[1] if X_all.ndim == 2 else 1
        parts = [
            f"{n_total:,} samples ({n_train:,} train)",
            f"{n_features} feature{'s' if n_features != 1 else ''}",
            f"{n_classes} classes" if task == "classification" and n_classes else "regression",
        ]
        text = " · ".join(parts)
        if dataset.warnings:
            text += "\n" + "\n".join(f"⚠ {w}" for w in dataset.warnings)
        self.summary_label.setText(text)

        import pyqtgraph as pg

        shown = False
        if X.ndim == 2 and len(X):
            pi = plot.getPlotItem()
            if task == "classification" and X.shape[1] >= 2:
                labels = y.astype(int).ravel() % len(PALETTE)
                shared = np.array([pg.mkBrush(c) for c in PALETTE], dtype=object)
                self._scatter = pg.ScatterPlotItem(X[:, 0], X[:, 1], size=5, pen=pg.mkPen(None),
                                                   brush=shared[labels].tolist())
                pi.setLabel("bottom", "x₁")
                pi.setLabel("left", "x₂")
                shown = True
            elif task == "regression" and X.shape[1] == 1:
                yy = y.reshape(len(y), -1)[:, 0].astype(float)
                self._scatter = pg.ScatterPlotItem(X[:, 0], yy, size=4, pen=pg.mkPen(None),
                                                   brush=pg.mkBrush(PALETTE[0]))
                pi.setLabel("bottom", "x")
                pi.setLabel("left", "y")
                shown = True
            elif task == "regression" and X.shape[1] >= 2:
                yy = y.reshape(len(y), -1)[:, 0].astype(float)
                lo, hi = float(np.min(yy)), float(np.max(yy))
                t = (yy - lo) / (hi - lo) if hi > lo else np.zeros_like(yy)
                colors = pg.colormap.get("viridis").map(t, mode="qcolor")
                self._scatter = pg.ScatterPlotItem(X[:, 0], X[:, 1], size=5, pen=pg.mkPen(None),
                                                   brush=[pg.mkBrush(c) for c in colors])
                pi.setLabel("bottom", "x₁")
                pi.setLabel("left", "x₂")
                shown = True
            if shown:
                plot.addItem(self._scatter)
                plot.enableAutoRange()
        plot.setVisible(shown)

    def preview_points(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(x, y) of the points drawn in the preview, or None."""
        if self._scatter is None:
            return None
        x, y = self._scatter.getData()
        return np.asarray(x), np.asarray(y)


__all__ = ["DataEditor", "csv_columns"]
