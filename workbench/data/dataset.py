"""From a :class:`~workbench.spec.DataSpec` to arrays ready for training.

``load_dataset`` walks the recipe in a fixed order, so the same spec gives
bit-identical arrays:

1. raw samples: a synthetic generator (seeded with ``spec.seed``), a bundled
   file, or a CSV file (``csv_path`` relative to ``base_dir``, the experiment's
   folder).  Files are parsed by :func:`~workbench.data.csv_import.load_table`, which
   caches the parsed table per file content and parse options (``target_column``,
   ``task``, ``csv_delimiter``, ``csv_decimal``): the steps below are cheap, so editing
   the split, scaling or missing-value choice does not read the file again;
2. missing values (``spec.missing``): ``drop`` removes the rows with a missing
   feature value; ``refuse`` refuses the file at its first missing value; a row
   without a target is always dropped (``fill`` and ``drop``);
3. the split (:func:`~workbench.data.preprocess.split_indices`, stratified for
   classification when ``spec.stratify``);
4. ``fill``: a missing value of feature ``j`` becomes the mean of the values of
   ``j`` present in the *training* split, ``mu_j = (1/|T_j|) sum_{i in T_j} x_ij``
   (``T_j``: training rows where ``x_ij`` is present); validation and test rows get
   the same ``mu_j`` and never contribute to it;
5. derived inputs (``x1_sq, x2_sq, x1x2, sin_x1, sin_x2``) appended when the raw
   inputs are 2-D (otherwise they are ignored, with a warning);
6. scaling fitted on the training split only and applied to all three splits;
7. regression with ``spec.standardize_targets``: the targets' training mean and std
   per output, ``m_k = mean_train(y_k)``, ``s_k = std_train(y_k)`` (``s_k = 1`` when
   ``y_k`` is constant), kept as ``Dataset.target_scaler`` (the arrays stay in the
   targets' units; :mod:`workbench.build` gives them to the network).

What was done to missing values is reported in ``Dataset.warnings``.

``xor4`` is special: its four points are the whole problem, so all four train
and, when ``val_fraction``/``test_fraction`` are positive, the validation and
test splits repeat the same four points (with a warning).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Optional, Union

import numpy as np

from .bundled import get_bundled, load_bundled
from .csv_import import MAX_BYTES, MIN_ROWS, Progress, csv_path_problem, load_table, too_large
from .errors import DataError, MissingValueError
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
    else ``None``.  ``source_sha256`` is the SHA-256 of a CSV source file.
    ``target_scaler`` (regression with ``standardize_targets``): the training split's
    per-output mean (``offset``) and std (``scale``) of ``y``, else ``None``."""

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
    target_scaler: Optional[Scaler] = None

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
    """The absolute path of ``spec.csv_path`` (a relative one is relative to ``base_dir``,
    the experiment's folder, or to the current folder without one), checked from its
    ``stat``: a regular file of at most ``MAX_BYTES`` bytes."""
    written = spec.csv_path
    try:
        path = Path(written).expanduser()
        relative = not path.is_absolute()
        folder = Path(os.path.abspath(base_dir if base_dir is not None else os.getcwd()))
        path = Path(os.path.abspath(folder / path))
    except (OSError, ValueError, RuntimeError) as exc:
        raise DataError(f"data.csv_path: cannot use this path: {exc}") from None
    # "file not found: ...", "... is a directory, not a CSV file", "... is not a regular file (...)"
    problem = csv_path_problem(path)  # from stat alone: a FIFO or a device is never opened
    if problem is not None and problem.startswith("file not found: "):
        where = ""
        if relative:
            what = "the experiment's folder" if base_dir is not None else "the current folder"
            where = f" (csv_path {written!r} relative to {what} {folder})"
        raise DataError(f"data.csv_path: data file not found: {path}{where}")
    if problem is not None:
        raise DataError(f"data.csv_path: {problem}")
    try:
        problem = too_large(os.stat(path).st_size, MAX_BYTES)  # before the file is hashed or read
    except OSError as exc:
        problem = f"cannot read {path}: {exc.strerror or exc}"
    if problem is not None:
        raise DataError(f"data.csv_path: {path}: {problem}")
    return path


class _Raw(NamedTuple):
    """The samples before any per-spec step; ``lines`` (CSV) the file line of each row."""

    X: np.ndarray
    y: np.ndarray
    task: str
    n_classes: int
    names: tuple[str, ...]
    class_names: tuple[str, ...]
    warnings: list
    description: str
    sha: Optional[str]
    fixed: bool
    lines: Optional[np.ndarray] = None
    missing_target_lines: Optional[np.ndarray] = None
    file_name: str = ""


def _raw_data(spec, base_dir, progress) -> _Raw:
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
        if progress is not None:
            progress(1.0, f"{spec.name}: {len(y)} samples generated")
        return _Raw(X, y, gen.task, k, names, classes, warnings, desc, None, gen.fixed)
    if spec.source == "bundled":
        info = get_bundled(spec.name)
        table, extra = load_bundled(spec.name, progress=progress)
        warnings.extend(extra)
        if spec.task not in ("auto", info.task):
            warnings.append(f"data.task {spec.task!r} is ignored: {spec.name} is a {info.task} data set")
        desc = f"{info.title}: {table.n_rows} samples"
        return _Raw(table.X, table.y, table.task, table.n_classes, table.feature_names, table.class_names,
                    warnings, desc, None, False, table.line_numbers, table.missing_target_lines, info.file)
    if spec.source == "csv":
        if not spec.csv_path:
            raise DataError("data.csv_path: required when data.source is 'csv'")
        path = _resolve_csv(spec, base_dir)
        missing = getattr(spec, "missing", "drop")
        try:
            table, sha = load_table(path, target_column=spec.target_column, task=spec.task,
                                    delimiter=getattr(spec, "csv_delimiter", "auto"),
                                    decimal=getattr(spec, "csv_decimal", "auto"),
                                    missing="refuse" if missing == "refuse" else "keep", progress=progress)
        except MissingValueError as exc:
            raise DataError(f"{path.name}: {exc}, or set data.missing to 'drop' or 'fill'") from None
        except DataError as exc:
            message = str(exc)
            prefix = "" if message.startswith("data.") else f"{path.name}: "
            raise DataError(prefix + message) from None
        if spec.csv_sha256 and sha != spec.csv_sha256:
            warnings.append(f"{CHANGED_FILE_WARNING}: {path.name}")
        warnings.extend(table.warnings)
        desc = f"{path.name}: {table.n_rows} rows, target {table.target_column!r}"
        return _Raw(table.X, table.y, table.task, table.n_classes, table.feature_names, table.class_names,
                    warnings, desc, sha, False, table.line_numbers, table.missing_target_lines, path.name)
    raise DataError(f"data.source: must be synthetic, bundled or csv, got {spec.source!r}")


def _lines_text(lines) -> str:
    lines = sorted(int(v) for v in lines)
    shown = ", ".join(str(v) for v in lines[:5])
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _rows(k: int) -> str:
    return f"{k} row{'s' if k != 1 else ''}"


def _drop_missing(raw: _Raw, missing: str, warnings: list):
    """``(X, y, lines)`` without the rows that ``missing`` drops (see the module docstring)."""
    X, y, lines = raw.X, raw.y, raw.lines
    no_target = raw.missing_target_lines if raw.missing_target_lines is not None else np.zeros(0, np.int64)
    total = len(y) + len(no_target)
    if missing == "fill":
        if len(no_target):
            warnings.append(f"dropped {_rows(len(no_target))} with a missing target value (of {total}): "
                            f"{_lines_text(no_target)}")
        return X, y, lines
    bad = np.isnan(X).any(axis=1)
    if not bad.any():
        if len(no_target):
            warnings.append(f"dropped {_rows(len(no_target))} with missing values (of {total}): "
                            f"{_lines_text(no_target)}")
        return X, y, lines
    keep = ~bad
    dropped = np.concatenate([lines[bad], no_target])
    k = len(dropped)
    X, y_kept, lines_kept = X[keep], y[keep], lines[keep]
    advice = "(set data.missing to 'fill')"
    if len(y_kept) < MIN_ROWS:
        raise DataError(f"data.missing: dropping {_rows(k)} with missing values leaves {_rows(len(y_kept))}; "
                        f"at least {MIN_ROWS} are needed {advice}")
    if raw.task == "classification":
        before = np.bincount(y, minlength=raw.n_classes)
        after = np.bincount(y_kept, minlength=raw.n_classes)
        for c in np.flatnonzero((after < 2) & (before >= 2)):
            name = raw.class_names[c]
            if after[c] == 1:
                line = int(lines_kept[np.flatnonzero(y_kept == c)[0]])
                left = f"class {name!r} with a single row (line {line})"
            else:
                left = f"no row of class {name!r}"
            raise DataError(f"data.missing: dropping {_rows(k)} with missing values leaves {left}; "
                            f"every class needs at least 2 rows {advice}")
    warnings.append(f"dropped {_rows(k)} with missing values (of {total}): {_lines_text(dropped)}")
    return X, y_kept, lines_kept


def _fill_missing(X: np.ndarray, train: np.ndarray, names, warnings: list) -> np.ndarray:
    """``X`` with each missing value of feature ``j`` replaced by ``mu_j``, the mean of the
    present values of ``j`` in the training rows ``train`` (float64 sum, float32 result)."""
    missing = np.isnan(X)
    columns = np.flatnonzero(missing.any(axis=0))
    if columns.size == 0:
        return X
    X = X.copy()
    Xt = X[train].astype(np.float64)
    counts = []
    for j in columns:
        present = Xt[:, j][~np.isnan(Xt[:, j])]
        if present.size == 0:
            raise DataError(f"data.missing: column {names[j]!r} has no value in the training split to fill with; "
                            f"set data.missing to 'drop' or fill the column in")
        X[missing[:, j], j] = np.float32(present.mean())
        counts.append(f"column {names[j]!r}: {int(missing[:, j].sum())}")
    n = int(missing.sum())
    listed = ", ".join(counts[:5]) + (f" and {len(counts) - 5} more columns" if len(counts) > 5 else "")
    warnings.append(f"filled {n} missing value{'s' if n != 1 else ''} with the training split's means ({listed})")
    return X


def load_dataset(spec: "DataSpec", base_dir: Union[str, Path, None] = None,
                 progress: Optional[Progress] = None) -> Dataset:
    """Build the :class:`Dataset` of ``spec`` (see the module docstring).  Raises only
    :class:`DataError`; its message names the spec field or the file's line and column.

    ``base_dir``: the folder a relative ``csv_path`` is relative to (the experiment's).
    ``progress(fraction, message)``, optional, is called while a file is parsed (at most
    ten times a second, from the calling thread; 1.0 last) and once for data generated or
    already parsed.  Safe to call from several threads (the parse cache has a lock)."""
    raw = _raw_data(spec, base_dir, progress)
    task, n_classes, raw_names, class_names = raw.task, raw.n_classes, raw.names, raw.class_names
    warnings = list(raw.warnings)
    missing = getattr(spec, "missing", "drop")
    X_raw, y = raw.X, raw.y
    if raw.lines is not None:
        X_raw, y, _ = _drop_missing(raw, missing, warnings)
    n_raw = X_raw.shape[1]

    if raw.fixed:
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
        absent = sorted(set(range(n_classes)) - set(np.unique(y[idx.train]).tolist()))
        if absent:
            warnings.append("no training samples of class " + ", ".join(repr(class_names[c]) for c in absent))

    if missing == "fill" and raw.lines is not None:
        X_raw = _fill_missing(X_raw, idx.train, raw_names, warnings)

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

    scaler = fit_scaler(X[idx.train], spec.scaling)
    if scaler.constant and spec.scaling != "none":
        names = ", ".join(repr(feature_names[j]) for j in scaler.constant[:5])
        more = f" and {len(scaler.constant) - 5} more" if len(scaler.constant) > 5 else ""
        warnings.append(f"constant on the training split (scaled to 0): {names}{more}")

    target_scaler = None
    if task == "regression" and getattr(spec, "standardize_targets", True):
        y2 = y.reshape(len(y), -1)
        target_scaler = fit_scaler(y2[idx.train], "standard")

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
        description=raw.description,
        source_sha256=raw.sha,
        target_scaler=target_scaler,
    )
