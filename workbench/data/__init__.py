"""Data for the workbench: synthetic generators, bundled real data sets, CSV import,
splits and scaling.  NumPy and the standard library only.

Entry point: :func:`load_dataset` (``DataSpec, base_dir, progress -> Dataset``); every
failure is a :class:`DataError` whose message names the spec field or the file's line and
column.  CSV files are parsed once per content (:func:`load_table`, a thread-safe cache).
"""

from .bundled import BUNDLED, DATASETS_DIR, BundledSet, load_bundled, verify_bundled
from .csv_import import (
    AUTO_MAX_CLASSES,
    MAX_BYTES,
    MAX_CLASSES,
    MAX_COLS,
    MAX_ROWS,
    MIN_ROWS,
    CsvTable,
    file_sha256,
    load_table,
    read_csv,
)
from .dataset import CHANGED_FILE_WARNING, Dataset, load_dataset
from .errors import DataError, MissingValueError
from .preprocess import Scaler, Splits, SplitIndices, fit_scaler, split, split_indices
from .synthetic import DERIVED_FEATURES, GENERATORS, Generator, add_derived_features, generate

__all__ = [
    "AUTO_MAX_CLASSES",
    "BUNDLED",
    "BundledSet",
    "CHANGED_FILE_WARNING",
    "CsvTable",
    "DATASETS_DIR",
    "DERIVED_FEATURES",
    "DataError",
    "Dataset",
    "GENERATORS",
    "Generator",
    "MAX_BYTES",
    "MAX_CLASSES",
    "MAX_COLS",
    "MAX_ROWS",
    "MIN_ROWS",
    "MissingValueError",
    "Scaler",
    "SplitIndices",
    "Splits",
    "add_derived_features",
    "file_sha256",
    "fit_scaler",
    "generate",
    "load_bundled",
    "load_dataset",
    "load_table",
    "read_csv",
    "split",
    "split_indices",
    "verify_bundled",
]
