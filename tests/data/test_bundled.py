"""Bundled real data sets: checksums, shapes, class counts, known values, offline loading."""

import hashlib
import json
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

from workbench.data import BUNDLED, DATASETS_DIR, DataError, load_bundled, verify_bundled
from workbench.data.bundled import get_bundled

EXPECTED = {  # name: (task, samples, features, class counts in sorted-label order)
    "iris": ("classification", 150, 4, [50, 50, 50]),
    "wine": ("classification", 178, 13, [59, 71, 48]),
    "breast_cancer": ("classification", 569, 30, [357, 212]),  # benign, malignant
    "digits": ("classification", 1797, 64, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]),
    "auto_mpg": ("regression", 392, 9, None),
}


def manifest():
    return json.loads((DATASETS_DIR / "datasets.json").read_text(encoding="utf-8"))["datasets"]


def test_registry_manifest_and_files_agree():
    m = manifest()
    assert set(BUNDLED) == set(m) == set(EXPECTED)
    readme = (DATASETS_DIR / "README.md").read_text(encoding="utf-8")
    for name, info in BUNDLED.items():
        entry = m[name]
        path = DATASETS_DIR / info.file
        assert entry["file"] == info.file
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], name
        assert entry["bytes"] == path.stat().st_size
        assert entry["sha256"] in readme
        assert entry["licence"] == info.licence == "CC BY 4.0"
        assert entry["doi"].startswith("10.24432/") and entry["doi"] in entry["citation"]
        for key in ("task", "n_samples", "n_features", "n_classes", "target"):
            assert entry[key] == getattr(info, key), (name, key)
        assert verify_bundled(name) is None
    assert sum(p.stat().st_size for p in DATASETS_DIR.iterdir()) < 400_000  # compact


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_bundled_set_loads_with_its_shape(name):
    task, n, d, counts = EXPECTED[name]
    table, warnings = load_bundled(name)
    info = get_bundled(name)
    assert warnings == ()
    assert table.task == task == info.task
    assert table.X.shape == (n, d) and table.X.dtype == np.float32 and np.isfinite(table.X).all()
    assert len(table.feature_names) == d == info.n_features
    if counts is None:
        assert table.y.shape == (n, 1) and table.y.dtype == np.float32 and info.n_classes == 0
    else:
        assert table.y.dtype == np.int64
        assert np.bincount(table.y).tolist() == counts
        assert len(table.class_names) == len(counts) == info.n_classes


def test_known_values():
    iris, _ = load_bundled("iris")
    assert iris.class_names == ("setosa", "versicolor", "virginica")
    assert iris.X[0].tolist() == pytest.approx([5.1, 3.5, 1.4, 0.2])
    assert iris.X[34].tolist() == pytest.approx([4.9, 3.1, 1.5, 0.2])  # Fisher's value (UCI erratum: 0.1)
    assert iris.X[37].tolist() == pytest.approx([4.9, 3.6, 1.4, 0.1])
    wine, _ = load_bundled("wine")
    assert wine.class_names == ("cultivar_1", "cultivar_2", "cultivar_3")
    assert wine.X[70, 10] == np.float32(0.906) and wine.X[171, 9] == np.float32(9.899999)
    bc, _ = load_bundled("breast_cancer")
    assert bc.class_names == ("benign", "malignant") and bc.y[0] == 1
    assert bc.feature_names[0] == "radius_mean" and bc.X[0, 0] == np.float32(17.99)
    digits, _ = load_bundled("digits")
    assert digits.class_names == tuple(str(i) for i in range(10))
    assert digits.X.min() == 0 and digits.X.max() == 16 and digits.y[:3].tolist() == [0, 1, 2]
    auto, _ = load_bundled("auto_mpg")
    assert auto.feature_names[-3:] == ("origin_usa", "origin_europe", "origin_japan")
    assert auto.X[0].tolist() == [8, 307, 130, 3504, 12, 70, 1, 0, 0] and auto.y[0, 0] == 18.0
    assert auto.X[:, 6:].sum(axis=1).tolist() == [1.0] * 392  # one-hot origin
    assert 9.0 <= auto.y.min() and auto.y.max() <= 46.6


def test_loading_needs_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in BUNDLED:
        load_bundled(name)


def test_workbench_data_imports_neither_scikit_learn_nor_pandas():
    code = (
        "import sys, workbench.data as d\n"
        "[d.load_bundled(n) for n in d.BUNDLED]\n"
        "bad = [m for m in ('sklearn', 'pandas', 'scipy', 'PySide6', 'pydantic') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=str(DATASETS_DIR.parents[1]))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_a_modified_file_is_reported(tmp_path):
    copy = tmp_path / "datasets"
    shutil.copytree(DATASETS_DIR, copy)
    path = copy / "iris.csv"
    path.write_text(path.read_text().replace("5.1,3.5,1.4,0.2", "5.2,3.5,1.4,0.2", 1))
    table, warnings = load_bundled("iris", datasets_dir=copy)
    assert table.X[0, 0] == np.float32(5.2)
    assert len(warnings) == 1 and "does not match its recorded SHA-256" in warnings[0]
    assert load_bundled("wine", datasets_dir=copy)[1] == ()


def test_unknown_bundled_name():
    with pytest.raises(DataError) as info:
        get_bundled("mnist")
    assert str(info.value).startswith("data.name: unknown bundled data set 'mnist'; valid names: iris, wine")
