"""From a :class:`~workbench.spec.DataSpec` to arrays ready for training.

``load_dataset`` walks the recipe in a fixed order, so the same spec gives
bit-identical arrays:

1. raw samples: a synthetic generator (seeded with ``spec.seed``), a bundled
   file, or a CSV file (``csv_path`` relative to ``base_dir``);
2. derived inputs (``x1_sq, x2_sq, x1x2, sin_x1, sin_x2``) appended when the raw
   inputs are 2-D (otherwise they are ignored, with a warning);
3. the split (:func:`~workbench.data.preprocess.split_indices`, stratified for
   classification when ``spec.stratify``);
4. scaling fitted on the training split only and applied to all three splits.

``xor4`` is special: its four points are the whole problem, so all four train
and, when ``val_fraction``/``test_fraction`` are positive, the validation and
test splits repeat the same four points (with a warning).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

import numpy as np

from .bundled import get_bundled, load_bundled
from .csv_import import csv_path_problem, file_sha256, read_csv
from .errors import DataError
from .preprocess import Scaler, SplitIndices, fit_scaler, split_indices
from .synthetic import add_derived_features, get_generator

if TYPE_CHECKING:  # pragma: no cover
    from workbench.spec import DataSpec

CHANGED_FILE_WARNING = "data file has changed since the experiment was saved"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training-ready arrays and what is needed to plot them.

    ``X_*`` float32 ``(n, n_features)``, scaled; ``y_*`` int64 ``(n,)`` class indices
    (classification) or float32 ``(n, 1)`` (regression).  An empty split keeps its
    column count (``X_val.shape == (0, n_features)``).  ``n_classes`` is 0 for
    regression.  ``raw_*`` are the inputs before derived features and scaling
    (float32 ``(n, n_raw)``), kept only when ``n_raw <= 2`` (for scatter plots),
    else ``None``.  ``source_sha256`` is the SHA-256 of a CSV source file."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    n_classes: int
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    scaler: Optional[Scaler] = None
    raw_feature_names: tuple[str, ...] = ()
    derived_features: tuple[str, ...] = ()
    raw_train: Optional[np.ndarray] = None
    raw_val: Optional[np.ndarray] = None
    raw_test: Optional[np.ndarray] = None
    description: str = ""
    source_sha256: Optional[str] = field(default=None)

    # -- shape facts ---------------------------------------------------------
    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_raw_features(self) -> int:
        return len(self.raw_feature_names)

    @property
    def raw_2d(self) -> bool:
        """True when the raw inputs are 2-D: a decision boundary / surface can be drawn."""
        return self.n_raw_features == 2

    @property
    def raw_1d(self) -> bool:
        """True when the raw input is 1-D: a fitted curve can be drawn."""
        return self.n_raw_features == 1

    # -- raw inputs -> network inputs ---------------------------------------
    def to_features(self, raw) -> np.ndarray:
        """Raw inputs ``(m, n_raw)`` -> network inputs ``(m, n_features)`` float32, through
        the same derived features and the same training-fitted scaling as the data."""
        R = np.asarray(raw, dtype=np.float32)
        if R.ndim == 1 and self.n_raw_features == 1:
            R = R.reshape(-1, 1)
        if R.ndim != 2 or R.shape[1] != self.n_raw_features:
            raise ValueError(f"expected raw inputs of shape (m, {self.n_raw_features}), got {R.shape}")
        if self.derived_features:
            R, _ = add_derived_features(R, self.derived_features, self.raw_feature_names)
        return self.scaler.transform(R) if self.scaler is not None else R.astype(np.float32)

    def grid_features(self, xx, yy) -> np.ndarray:
        """Network inputs for the grid points ``(xx[i], yy[i])`` (any equal shapes, e.g. a
        ``meshgrid``), flattened row-major: ``(xx.size, n_features)``.  2-D data only."""
        if not self.raw_2d:
            raise ValueError("grid_features needs a data set with 2 raw inputs")
        xx = np.asarray(xx, dtype=np.float64)
        yy = np.asarray(yy, dtype=np.float64)
        if xx.shape != yy.shape:
            raise ValueError(f"xx and yy must have the same shape, got {xx.shape} and {yy.shape}")
        return self.to_features(np.column_stack([xx.ravel(), yy.ravel()]))

    def line_features(self, x) -> np.ndarray:
        """Network inputs for the points ``x`` (any shape, flattened) of a 1-D input."""
        if not self.raw_1d:
            raise ValueError("line_features needs a data set with 1 raw input")
        return self.to_features(np.asarray(x, dtype=np.float64).reshape(-1, 1))


# ---------------------------------------------------------------------------
def _resolve_csv(spec, base_dir) -> Path:
    try:
        path = Path(spec.csv_path).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
    except (OSError, ValueError, RuntimeError) as exc:
        raise DataError(f"data.csv_path: cannot use this path: {exc}") from None
    # "file not found: ...", "... is a directory, not a CSV file", "... is not a regular file (...)"
    problem = csv_path_problem(path)  # from stat alone: a FIFO or a device is never opened
    if problem is not None:
        raise DataError(f"data.csv_path: {problem}")
    return path


def _raw_data(spec, base_dir):
    """``(X float32, y, task, n_classes, raw names, class names, warnings, description, sha, fixed)``."""
    warnings: list[str] = []
    if spec.source == "synthetic":
        gen = get_generator(spec.name)
        X, y = gen.generate(spec.n_samples, spec.noise, spec.seed, spec.n_classes)
        if spec.task not in ("auto", gen.task):
            warnings.append(f"data.task {spec.task!r} is ignored: {spec.name} is a {gen.task} data set")
        k = gen.classes_for(spec.n_classes) if gen.task == "classification" else 0
        names = ("x1", "x2") if gen.n_inputs == 2 else ("x",)
        classes = tuple(str(c) for c in range(k))
        desc = f"{spec.name} ({len(y)} samples)" if gen.fixed else (
            f"{spec.name}, {len(y)} samples, noise {spec.noise:g}, seed {spec.seed}")
        return X, y, gen.task, k, names, classes, warnings, desc, None, gen.fixed
    if spec.source == "bundled":
        info = get_bundled(spec.name)
        table, extra = load_bundled(spec.name)
        warnings.extend(extra)
        if spec.task not in ("auto", info.task):
            warnings.append(f"data.task {spec.task!r} is ignored: {spec.name} is a {info.task} data set")
        desc = f"{info.title}: {table.n_rows} samples"
        return (table.X, table.y, table.task, table.n_classes, table.feature_names, table.class_names,
                warnings, desc, None, False)
    if spec.source == "csv":
        if not spec.csv_path:
            raise DataError("data.csv_path: required when data.source is 'csv'")
        path = _resolve_csv(spec, base_dir)
        sha = file_sha256(path)
        if spec.csv_sha256 and sha != spec.csv_sha256:
            warnings.append(f"{CHANGED_FILE_WARNING}: {path.name}")
        try:
            table = read_csv(path, target_column=spec.target_column, task=spec.task)
        except DataError as exc:
            message = str(exc)
            prefix = "" if message.startswith("data.") else f"{path.name}: "
            raise DataError(prefix + message) from None
        warnings.extend(table.warnings)
        desc = f"{path.name}: {table.n_rows} rows, target {table.target_column!r}"
        return (table.X, table.y, table.task, table.n_classes, table.feature_names, table.class_names,
                warnings, desc, sha, False)
    raise DataError(f"data.source: must be synthetic, bundled or csv, got {spec.source!r}")


def load_dataset(spec: "DataSpec", base_dir: Union[str, Path, None] = None) -> Dataset:
    """Build the :class:`Dataset` of ``spec`` (see the module docstring).  Raises only
    :class:`DataError`; its message names the spec field or the file's line and column."""
    X_raw, y, task, n_classes, raw_names, class_names, warnings, desc, sha, fixed = _raw_data(spec, base_dir)
    n_raw = X_raw.shape[1]

    derived: tuple[str, ...] = ()
    X = X_raw
    feature_names = tuple(raw_names)
    if spec.derived_features:
        if n_raw == 2:
            X, feature_names = add_derived_features(X_raw, spec.derived_features, raw_names)
            derived = tuple(feature_names[2:])
        else:
            warnings.append(
                f"data.derived_features are ignored: they need 2 raw inputs and this data set has {n_raw}"
            )

    if fixed:
        everything = np.arange(len(y), dtype=np.int64)
        empty = everything[:0]
        idx = SplitIndices(everything,
                           everything if spec.val_fraction > 0 else empty,
                           everything if spec.test_fraction > 0 else empty)
        if spec.val_fraction > 0 or spec.test_fraction > 0:
            warnings.append(f"{spec.name} has only {len(y)} points: all of them train, and the "
                            f"validation/test splits repeat them")
    else:
        idx = split_indices(y, spec.val_fraction, spec.test_fraction, spec.stratify, spec.seed)
        if spec.val_fraction > 0 and idx.val.size == 0:
            warnings.append(f"data.val_fraction {spec.val_fraction:g} of {len(y)} samples gives an empty "
                            f"validation split")
        if spec.test_fraction > 0 and idx.test.size == 0:
            warnings.append(f"data.test_fraction {spec.test_fraction:g} of {len(y)} samples gives an empty "
                            f"test split")
    if task == "classification":
        missing = sorted(set(range(n_classes)) - set(np.unique(y[idx.train]).tolist()))
        if missing:
            warnings.append("no training samples of class " + ", ".join(repr(class_names[c]) for c in missing))

    scaler = fit_scaler(X[idx.train], spec.scaling)
    if scaler.constant and spec.scaling != "none":
        names = ", ".join(repr(feature_names[j]) for j in scaler.constant[:5])
        more = f" and {len(scaler.constant) - 5} more" if len(scaler.constant) > 5 else ""
        warnings.append(f"constant on the training split (scaled to 0): {names}{more}")

    keep_raw = n_raw <= 2
    return Dataset(
        X_train=scaler.transform(X[idx.train]),
        y_train=y[idx.train],
        X_val=scaler.transform(X[idx.val]),
        y_val=y[idx.val],
        X_test=scaler.transform(X[idx.test]),
        y_test=y[idx.test],
        task=task,
        n_classes=int(n_classes),
        feature_names=tuple(feature_names),
        class_names=tuple(class_names),
        warnings=tuple(warnings),
        scaler=scaler,
        raw_feature_names=tuple(raw_names),
        derived_features=derived,
        raw_train=X_raw[idx.train] if keep_raw else None,
        raw_val=X_raw[idx.val] if keep_raw else None,
        raw_test=X_raw[idx.test] if keep_raw else None,
        description=desc,
        source_sha256=sha,
    )
