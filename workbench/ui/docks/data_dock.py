"""The Data dock: where the samples come from, how they are split and scaled (``DataSpec``).

``workbench.data`` is imported lazily: its ``GENERATORS`` / ``BUNDLED`` registries fill the
name list when present, otherwise a built-in list of the planned names is shown.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from typing import Any

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
from workbench.ui.style import CLASS_COLORS

from .base import (
    BigIntSpinBox,
    FloatSpinBox,
    IntSpinBox,
    SpecDock,
    add_row,
    make_combo,
    make_preview_plot,
    new_form,
    set_combo_data,
)

#: the preview draws at most this many (evenly spaced) training points
PREVIEW_MAX_POINTS = 2000

#: class colours of the preview: the Okabe–Ito colours in the same order as the
#: decision-boundary view (no black: it vanishes on the dark theme)
PALETTE = CLASS_COLORS


@dataclass(frozen=True)
class _Entry:
    task: str
    description: str
    n_features: int | None = None
    variable_classes: bool = False  # the class count follows data.n_classes (blobs)
    fixed: bool = False  # fixed samples: n_samples and noise are ignored (xor4)


_FALLBACK_SYNTHETIC = {
    "xor": _Entry("classification", "Two classes in the four quadrants (XOR)", 2),
    "xor4": _Entry("classification", "The four XOR points (0,0), (0,1), (1,0), (1,1)", 2, fixed=True),
    "circles": _Entry("classification", "A circle inside a ring", 2),
    "moons": _Entry("classification", "Two interleaving half moons", 2),
    "two_spirals": _Entry("classification", "Two interleaved spirals", 2),
    "three_spirals": _Entry("classification", "Three interleaved spirals", 2),
    "blobs": _Entry("classification", "Gaussian blobs, one per class", 2, variable_classes=True),
    "checkerboard": _Entry("classification", "A 4×4 checkerboard", 2),
    "sine_1d": _Entry("regression", "y = sin x + noise", 1),
    "poly_1d": _Entry("regression", "A cubic polynomial + noise", 1),
    "plane_2d": _Entry("regression", "A tilted plane + noise", 2),
    "gaussians_2d": _Entry("regression", "A sum of Gaussian bumps", 2),
}
_FALLBACK_BUNDLED = {
    "iris": _Entry("classification", "Iris flowers: 150 samples, 4 features, 3 classes", 4),
    "wine": _Entry("classification", "Wine cultivars: 178 samples, 13 features, 3 classes", 13),
    "breast_cancer": _Entry("classification", "Breast cancer (Wisconsin): 569 samples, 30 features, 2 classes", 30),
    "digits": _Entry("classification", "8×8 handwritten digits: 1797 samples, 64 features, 10 classes", 64),
}

DERIVED_LABELS = {
    "x1_sq": ("x₁²", "Adds the feature x₁² (lets a linear model draw circles)"),
    "x2_sq": ("x₂²", "Adds the feature x₂²"),
    "x1x2": ("x₁x₂", "Adds the product x₁·x₂ (solves XOR for a linear model)"),
    "sin_x1": ("sin x₁", "Adds sin x₁"),
    "sin_x2": ("sin x₂", "Adds sin x₂"),
}


def _data_module():
    try:
        from workbench import data as D  # noqa: N812 - lazy, optional
    except Exception:  # pragma: no cover - written in parallel
        return None
    return D


def _entries(registry: Any, fallback: dict[str, _Entry]) -> dict[str, _Entry]:
    if not registry:
        return dict(fallback)
    out: dict[str, _Entry] = {}
    for name, obj in dict(registry).items():
        n_features = None
        for attr in ("n_features", "dim", "n_inputs"):
            value = getattr(obj, attr, None)
            if isinstance(value, int):
                n_features = value
                break
        if n_features is None and name in fallback:
            n_features = fallback[name].n_features
        fb = fallback.get(name)
        has_classes = hasattr(obj, "n_classes")
        out[str(name)] = _Entry(
            str(getattr(obj, "task", "") or ""),
            str(getattr(obj, "description", "") or ""),
            n_features,
            variable_classes=(getattr(obj, "n_classes") is None) if has_classes else bool(fb and fb.variable_classes),
            fixed=bool(getattr(obj, "fixed", fb.fixed if fb else False)),
        )
    return out


def registries() -> tuple[dict[str, _Entry], dict[str, _Entry]]:
    """(synthetic, bundled) name -> entry, from ``workbench.data`` when it exists."""
    D = _data_module()  # noqa: N806
    return (
        _entries(getattr(D, "GENERATORS", None), _FALLBACK_SYNTHETIC),
        _entries(getattr(D, "BUNDLED", None), _FALLBACK_BUNDLED),
    )


def file_sha256(path: str) -> str:
    D = _data_module()  # noqa: N806
    fn = getattr(D, "file_sha256", None)
    if fn is not None:
        return str(fn(path))
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def csv_path_problem(path: str) -> str | None:
    """Why ``path`` cannot be read as a CSV file (``file not found: ...``, ``... is a
    directory, not a CSV file``, ``... is not a regular file (...)``), or None.  From the
    path's ``stat`` alone: a FIFO or a device (``/dev/zero``) is never opened."""
    D = _data_module()  # noqa: N806
    fn = getattr(getattr(D, "csv_import", None), "csv_path_problem", None)
    if fn is not None:
        return fn(path)
    if not os.path.exists(path):
        return f"file not found: {path}"
    if os.path.isdir(path):
        return f"{path} is a directory, not a CSV file"
    if not os.path.isfile(path):
        return f"{path} is not a regular file"
    return None


_COLUMNS_CACHE: dict[tuple[str, int, int], list[str]] = {}


def csv_columns(path: str) -> list[str]:
    """The columns of a CSV file in file order, target candidates for the combo.

    Uses ``workbench.data.read_csv`` (which validates the whole file, default target = the
    last column) when it exists, else reads the header row.  Raises ValueError/OSError with
    the reason (``DataError`` is a ValueError)."""
    D = _data_module()  # noqa: N806
    read = getattr(D, "read_csv", None)
    if read is None:
        return csv_header(path)
    problem = csv_path_problem(path)
    if problem is not None:
        raise ValueError(f"data.csv_path: {problem}")
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_mtime_ns, stat.st_size)
    if key not in _COLUMNS_CACHE:
        table = read(path)
        if len(_COLUMNS_CACHE) > 16:
            _COLUMNS_CACHE.clear()
        _COLUMNS_CACHE[key] = [*table.feature_names, table.target_column]
    return list(_COLUMNS_CACHE[key])


def csv_header(path: str) -> list[str]:
    """Column names of a CSV file (its first row); raises OSError/ValueError with a reason."""
    problem = csv_path_problem(path)
    if problem is not None:
        raise ValueError(f"data.csv_path: {problem}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            sample = fh.read(64 * 1024)
    except UnicodeDecodeError:
        raise ValueError(f"data.csv_path: not a UTF-8 text file: {path}") from None
    if not sample.strip():
        raise ValueError(f"data.csv_path: the file is empty: {path}")
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    header = next(csv.reader(sample.splitlines(), dialect))
    header = [h.strip() for h in header]
    if len(header) < 2:
        raise ValueError(f"data.csv_path: expected at least 2 columns (features and a target), got {len(header)}")
    if any(not h for h in header):
        raise ValueError("data.csv_path: the first row must name every column (a header row)")
    return header


class DataDock(SpecDock):
    """Edits :class:`workbench.spec.DataSpec`; ``set_preview(dataset)`` shows the training points."""

    prefix = "data"

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Data", "dataDock", S.DataSpec(), parent)
        self._synthetic, self._bundled = registries()
        self._header: list[str] = []

        # -- source ------------------------------------------------------------
        source_box = QGroupBox("Source")
        form = new_form()
        source_box.setLayout(form)
        self.source_combo = make_combo([("Synthetic", "synthetic"), ("Bundled", "bundled"), ("CSV file…", "csv")])
        self.register(
            self.source_combo,
            "Synthetic: a generated 2-D/1-D problem (reproducible from the data seed).\n"
            "Bundled: a small real data set shipped with the workbench.\n"
            "CSV file: your own table, one sample per row, a header row naming the columns.",
            field="source",
            commit=False,
        )
        self.source_combo.currentIndexChanged.connect(self._on_source_changed)
        add_row(form, "Source", self.source_combo)

        self.name_combo = make_combo([])
        self.name_combo.setMinimumContentsLength(18)
        self.register(self.name_combo, "The data set; its task is shown beside the name.", field="name", commit=False)
        self.name_combo.currentIndexChanged.connect(self._on_name_changed)
        self.name_label = add_row(form, "Data set", self.name_combo)

        self.samples_spin = IntSpinBox(4, S.MAX_SAMPLES)
        self.samples_spin.setSingleStep(50)
        self.register(self.samples_spin, "Number of generated samples n (before the split).", field="n_samples")
        add_row(form, "Samples <i>n</i>", self.samples_spin)

        self.noise_spin = FloatSpinBox(0.0, 10.0, decimals=3, step=0.05)
        self.register(
            self.noise_spin,
            "Noise level σ of the generator: Gaussian noise added to the points (classification)\n"
            "or to the targets y (regression).",
            field="noise",
        )
        add_row(form, "Noise σ", self.noise_spin)

        self.classes_spin = IntSpinBox(2, 10)
        self.register(self.classes_spin, "Number of classes K (one Gaussian blob per class).", field="n_classes")
        add_row(form, "Classes <i>K</i>", self.classes_spin)

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
        add_row(
            form,
            "Extra features",
            derived,
            "Derived input features computed from x₁, x₂ before scaling: a linear model with x₁², x₂²\n"
            "can separate circles; with x₁x₂ it can solve XOR.",
        )

        # CSV
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
        self.register(
            self.target_combo,
            "The column to predict; every other column is an input feature.",
            field="target_column",
        )
        add_row(form, "Target column", self.target_combo)

        self.task_combo = make_combo(
            [("Auto", "auto"), ("Classification", "classification"), ("Regression", "regression")]
        )
        self.register(
            self.task_combo,
            "Auto: a text or small-integer target is a class label, otherwise a number to regress.\n"
            "Classification: softmax + cross-entropy (sigmoid + BCE for two classes).\n"
            "Regression: linear output + mean squared error.",
            field="task",
        )
        add_row(form, "Task", self.task_combo)
        self.content.addWidget(source_box)
        self._source_form = form

        # -- split and scaling ----------------------------------------------------
        split_box = QGroupBox("Split and scaling")
        sform = new_form()
        split_box.setLayout(sform)
        self.val_spin = FloatSpinBox(0.0, 0.9, decimals=2, step=0.05)
        self.register(
            self.val_spin,
            "Fraction of the samples held out for validation: the curves' validation loss,\n"
            "early stopping and the plateau schedule watch it.  val + test ≤ 0.9.",
            field="val_fraction",
        )
        add_row(sform, "Validation fraction", self.val_spin)
        self.test_spin = FloatSpinBox(0.0, 0.9, decimals=2, step=0.05)
        self.register(
            self.test_spin,
            "Fraction held out for the final test score (never used for training or stopping).\n"
            "val + test ≤ 0.9.",
            field="test_fraction",
        )
        add_row(sform, "Test fraction", self.test_spin)
        self.stratify_check = QCheckBox("Stratify by class")
        self.register(
            self.stratify_check,
            "Keep the class proportions equal in train, validation and test (classification only).",
            field="stratify",
        )
        sform.addRow("", self.stratify_check)
        self.scaling_combo = make_combo(
            [("Standardize (z-score)", "standard"), ("Min–max to [0, 1]", "minmax"), ("None", "none")],
            {
                "standard": "x′ = (x − μ) / σ, with μ, σ of the training split",
                "minmax": "x′ = (x − min) / (max − min), with min, max of the training split",
                "none": "use the raw feature values",
            },
        )
        self.register(
            self.scaling_combo,
            "Feature scaling, fitted on the training split only:\n"
            "standard x′ = (x − μ)/σ;  min–max x′ = (x − min)/(max − min);  none.",
            field="scaling",
        )
        add_row(sform, "Scaling", self.scaling_combo)
        self.seed_spin = BigIntSpinBox(0, S.MAX_SEED)
        self.register(
            self.seed_spin,
            "Seed of the data: the generated points and the train/validation/test split.\n"
            "Same seed → the same samples every time.",
            field="seed",
        )
        add_row(sform, "Data seed", self.seed_spin)
        self.content.addWidget(split_box)

        # -- preview (not locked) -----------------------------------------------
        self.preview_plot = make_preview_plot("dataPreview", 110)  # fits at 1600x1000 (the dock wraps text, so it cannot shrink below its hint)
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
    def _fill_names(self, source: str, current: str) -> None:
        entries = self._synthetic if source == "synthetic" else self._bundled if source == "bundled" else {}
        combo = self.name_combo
        with self.blocked():
            combo.clear()
            for name, entry in entries.items():
                label = f"{name}  ·  {entry.task}" if entry.task else name
                combo.addItem(label, name)
                if entry.description:
                    combo.setItemData(
                        combo.count() - 1,
                        f"{entry.description}\nTask: {entry.task}",
                        Qt.ItemDataRole.ToolTipRole,
                    )
            if current and combo.findData(current) < 0 and source != "csv":
                combo.addItem(f"{current}  ·  (unknown)", current)
            set_combo_data(combo, current)

    def _entry(self) -> _Entry | None:
        source = self.source_combo.currentData()
        name = self.name_combo.currentData()
        table = self._synthetic if source == "synthetic" else self._bundled
        return table.get(name) if name else None

    def _is_2d_synthetic(self) -> bool:
        if self.source_combo.currentData() != "synthetic":
            return False
        entry = self._entry()
        name = self.name_combo.currentData() or ""
        if entry is not None and entry.n_features is not None:
            return entry.n_features == 2
        return not str(name).endswith("_1d")

    def _update_visibility(self) -> None:
        source = self.source_combo.currentData()
        synthetic = source == "synthetic"
        csv_source = source == "csv"
        form = self._source_form
        form.setRowVisible(self.name_combo, not csv_source)
        entry = self._entry()
        fixed = bool(entry and entry.fixed)
        form.setRowVisible(self.samples_spin, synthetic and not fixed)
        form.setRowVisible(self.noise_spin, synthetic and not fixed)
        variable = entry.variable_classes if entry else self.name_combo.currentData() == "blobs"
        form.setRowVisible(self.classes_spin, synthetic and variable)
        form.setRowVisible(self.derived_widget, self._is_2d_synthetic())
        form.setRowVisible(self.path_row, csv_source)
        form.setRowVisible(self.target_combo, csv_source)
        form.setRowVisible(self.task_combo, csv_source)
        self.name_combo.setToolTip(
            f"{entry.description}\nTask: {entry.task}" if entry and entry.description else "The data set"
        )

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

    # -- SpecDock hooks --------------------------------------------------------------
    def _show(self, v: S.DataSpec) -> None:
        set_combo_data(self.source_combo, v.source)
        self._fill_names(v.source, v.name)
        self.samples_spin.setValue(v.n_samples)
        self.noise_spin.setValue(v.noise)
        self.classes_spin.setValue(v.n_classes)
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
        set_combo_data(self.task_combo, v.task)
        self.val_spin.setValue(v.val_fraction)
        self.test_spin.setValue(v.test_fraction)
        self.stratify_check.setChecked(v.stratify)
        set_combo_data(self.scaling_combo, v.scaling)
        self.seed_spin.setValue(float(v.seed))
        self._csv_sha = v.csv_sha256
        self._update_visibility()

    def _pending(self) -> str:
        if self.source_combo.currentData() == "csv" and not self.path_edit.text().strip():
            return "Choose a CSV file (Browse…): the data stays as it was until then."
        return ""

    def _collect(self) -> dict[str, Any]:
        source = self.source_combo.currentData()
        derived = (
            tuple(k for k in S.DERIVED_FEATURES if self.derived_checks[k].isChecked())
            if self._is_2d_synthetic()
            else ()
        )
        changes: dict[str, Any] = dict(
            source=source,
            n_samples=self.samples_spin.value(),
            noise=round(self.noise_spin.value(), 6),
            n_classes=self.classes_spin.value(),
            derived_features=derived,
            task=self.task_combo.currentData() if source == "csv" else "auto",
            val_fraction=round(self.val_spin.value(), 6),
            test_fraction=round(self.test_spin.value(), 6),
            stratify=self.stratify_check.isChecked(),
            scaling=self.scaling_combo.currentData(),
            seed=self.seed_spin.int_value(),
        )
        if source != "csv":
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
            table = self._synthetic if source == "synthetic" else self._bundled
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
        X_all = np.asarray(dataset.X_train)  # noqa: N806
        y_all = np.asarray(dataset.y_train)
        n_train = len(X_all)
        # at most PREVIEW_MAX_POINTS evenly spaced samples of the first two features: a
        # 60 000 x 784 set must not be copied or drawn point by point
        step = max(1, -(-n_train // PREVIEW_MAX_POINTS))
        if X_all.ndim == 2:
            X = np.asarray(X_all[::step, :2], dtype=float)  # noqa: N806
        else:
            X = np.asarray(X_all[::step], dtype=float)  # noqa: N806
        y = y_all[::step]
        n_total = sum(
            len(getattr(dataset, name)) if getattr(dataset, name, None) is not None else 0
            for name in ("X_train", "X_val", "X_test")
        )
        task = getattr(dataset, "task", "classification")
        n_classes = getattr(dataset, "n_classes", None)
        n_features = X_all.shape[1] if X_all.ndim == 2 else 1
        parts = [
            f"{n_total:,} samples ({n_train:,} train)",
            f"{n_features} feature{'s' if n_features != 1 else ''}",
            f"{n_classes} classes" if task == "classification" and n_classes else "regression",
        ]
        text = " · ".join(parts)
        warnings = list(getattr(dataset, "warnings", ()) or ())
        if warnings:
            text += "\n" + "\n".join(f"⚠ {w}" for w in warnings)
        self.summary_label.setText(text)

        import pyqtgraph as pg

        shown = False
        if X.ndim == 2 and len(X):
            pi = plot.getPlotItem()
            if task == "classification" and X.shape[1] >= 2:
                labels = y.astype(int).ravel() % len(PALETTE)
                shared = np.array([pg.mkBrush(c) for c in PALETTE], dtype=object)
                brushes = shared[labels].tolist()  # a few brush objects, shared by the points
                self._scatter = pg.ScatterPlotItem(
                    X[:, 0], X[:, 1], size=5, pen=pg.mkPen(None), brush=brushes
                )
                pi.setLabel("bottom", "x₁")
                pi.setLabel("left", "x₂")
                shown = True
            elif task == "regression" and X.shape[1] == 1:
                yy = y.reshape(len(y), -1)[:, 0].astype(float)
                self._scatter = pg.ScatterPlotItem(
                    X[:, 0], yy, size=4, pen=pg.mkPen(None), brush=pg.mkBrush(PALETTE[0])
                )
                pi.setLabel("bottom", "x")
                pi.setLabel("left", "y")
                shown = True
            elif task == "regression" and X.shape[1] >= 2:
                yy = y.reshape(len(y), -1)[:, 0].astype(float)
                lo, hi = float(np.min(yy)), float(np.max(yy))
                t = (yy - lo) / (hi - lo) if hi > lo else np.zeros_like(yy)
                cmap = pg.colormap.get("viridis")
                colors = cmap.map(t, mode="qcolor")
                self._scatter = pg.ScatterPlotItem(
                    X[:, 0], X[:, 1], size=5, pen=pg.mkPen(None), brush=[pg.mkBrush(c) for c in colors]
                )
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


__all__ = ["DataDock", "registries", "csv_header", "csv_columns"]
