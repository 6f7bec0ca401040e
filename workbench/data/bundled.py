"""Real data sets shipped in ``resources/datasets`` (no network, ever).

The files are plain CSV (gzip-compressed when large) with a header and the
target as the last column, read by the same parser as users' files
(:func:`workbench.data.csv_import.load_table`).  ``resources/datasets/datasets.json``
records each file's SHA-256; ``resources/datasets/README.md`` gives source,
licence (all UCI, CC BY 4.0) and citation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .csv_import import CsvTable, Progress, file_sha256, load_table
from .errors import DataError

DATASETS_DIR = Path(__file__).resolve().parents[2] / "resources" / "datasets"
MANIFEST = "datasets.json"


@dataclass(frozen=True)
class BundledSet:
    """A shipped data set: ``file`` in :data:`DATASETS_DIR`, ``target`` its label column."""

    name: str
    title: str
    task: str
    description: str
    n_samples: int
    n_features: int
    n_classes: int
    file: str
    target: str
    licence: str = "CC BY 4.0"
    #: the samples are the file's (no sample count or noise to choose), as ``Generator.fixed``
    fixed: bool = True


BUNDLED: dict[str, BundledSet] = {
    b.name: b
    for b in (
        BundledSet("iris", "Iris (Fisher, 1936)", "classification",
                   "150 iris flowers, 3 species, 4 measurements (sepal and petal length and width, cm). "
                   "Setosa is linearly separable; versicolor and virginica overlap slightly.",
                   150, 4, 3, "iris.csv", "species"),
        BundledSet("wine", "Wine (Aeberhard & Forina, 1991)", "classification",
                   "178 Italian wines from 3 cultivars, 13 chemical measurements. Features differ in scale "
                   "by 1000x: try it without scaling.", 178, 13, 3, "wine.csv", "cultivar"),
        BundledSet("breast_cancer", "Breast Cancer Wisconsin, Diagnostic (Wolberg et al., 1995)",
                   "classification",
                   "569 breast masses, benign (357) or malignant (212), 30 features of cell nuclei "
                   "measured in images of fine needle aspirates.", 569, 30, 2, "breast_cancer.csv.gz",
                   "diagnosis"),
        BundledSet("digits", "Optical handwritten digits, 8x8 (Alpaydin & Kaynak, 1998)", "classification",
                   "1797 handwritten digits 0-9 as 8x8 images of counts 0-16 (the UCI optdigits test set, "
                   "as scikit-learn ships it).", 1797, 64, 10, "digits.csv.gz", "digit"),
        BundledSet("auto_mpg", "Auto MPG (Quinlan, 1993)", "regression",
                   "392 cars (1970-82): predict fuel consumption in miles per gallon from cylinders, "
                   "displacement, horsepower, weight, acceleration, model year and origin.",
                   392, 9, 0, "auto_mpg.csv", "mpg"),
    )
}


def get_bundled(name: str) -> BundledSet:
    """The registered set, or :class:`DataError` naming ``data.name`` and the valid names."""
    try:
        return BUNDLED[name]
    except (KeyError, TypeError):
        raise DataError(f"data.name: unknown bundled data set {name!r}; valid names: {', '.join(BUNDLED)}") from None


def bundled_path(name: str, datasets_dir: Optional[Path] = None) -> Path:
    return Path(datasets_dir or DATASETS_DIR) / get_bundled(name).file


def read_manifest(datasets_dir: Optional[Path] = None) -> dict:
    """``datasets.json`` as a dict ``name -> {file, sha256, ...}`` (``{}`` when unreadable)."""
    path = Path(datasets_dir or DATASETS_DIR) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    sets = data.get("datasets", {}) if isinstance(data, dict) else {}
    return sets if isinstance(sets, dict) else {}


def verify_bundled(name: str, datasets_dir: Optional[Path] = None) -> Optional[str]:
    """``None`` when the file's SHA-256 matches the manifest, else a warning text."""
    path = bundled_path(name, datasets_dir)
    entry = read_manifest(datasets_dir).get(name)
    if not isinstance(entry, dict) or "sha256" not in entry:
        return f"bundled data set {name!r} is not listed in {MANIFEST}"
    if file_sha256(path) != entry["sha256"]:
        return f"bundled file {path.name} does not match its recorded SHA-256 (the file was modified)"
    return None


def load_bundled(name: str, datasets_dir: Optional[Path] = None,
                 progress: Optional[Progress] = None) -> tuple[CsvTable, tuple[str, ...]]:
    """``(table, warnings)`` of a shipped set; the warnings report a checksum mismatch.
    The file is read once: its SHA-256 is that of the bytes parsed (and the parsed table
    is cached like a user's CSV, see :func:`~workbench.data.csv_import.load_table`)."""
    info = get_bundled(name)
    path = bundled_path(name, datasets_dir)
    if not path.is_file():
        raise DataError(f"data.name: the bundled file for {name!r} is missing: {path}")
    try:
        table, sha = load_table(path, target_column=info.target, task=info.task, progress=progress)
    except DataError as exc:
        raise DataError(f"bundled file {path.name}: {exc}") from None
    warnings = []
    entry = read_manifest(datasets_dir).get(name)
    if not isinstance(entry, dict) or "sha256" not in entry:
        warnings.append(f"bundled data set {name!r} is not listed in {MANIFEST}")
    elif sha != entry["sha256"]:
        warnings.append(f"bundled file {path.name} does not match its recorded SHA-256 (the file was modified)")
    return table, tuple(warnings)
