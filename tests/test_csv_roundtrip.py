"""A user's CSV through an experiment file: path and content hash are recorded, the
same arrays come back on reload, and a changed or missing file is reported."""

import numpy as np
import pytest

from workbench import experiment_file, spec as S
from workbench.data import DataError, file_sha256, load_dataset

CSV = """sepal length;sepal width;species
5.1;3.5;setosa
4.9;3.0;setosa
4.7;3.2;setosa
4.6;3.1;setosa
7.0;3.2;versicolor
6.4;3.2;versicolor
6.9;3.1;versicolor
5.5;2.3;versicolor
6.3;3.3;virginica
5.8;2.7;virginica
7.1;3.0;virginica
6.3;2.9;virginica
"""


@pytest.fixture
def csv_experiment(tmp_path):
    data = tmp_path / "flowers.csv"
    data.write_text(CSV, encoding="utf-8")
    spec = S.ExperimentSpec(
        data=S.DataSpec(source="csv", csv_path="flowers.csv", csv_sha256=file_sha256(data),
                        target_column="species", val_fraction=0.25),
    )
    path = tmp_path / "exp.json"
    experiment_file.save(path, spec)
    return path, data


def test_csv_experiment_round_trips_to_identical_arrays(csv_experiment):
    path, data = csv_experiment
    loaded = experiment_file.load(path)
    assert loaded.spec.data.csv_path == "flowers.csv"
    assert loaded.spec.data.csv_sha256 == file_sha256(data)
    a = load_dataset(loaded.spec.data, base_dir=path.parent)
    b = load_dataset(loaded.spec.data, base_dir=path.parent)
    assert a.class_names == ("setosa", "versicolor", "virginica")
    assert a.n_classes == 3 and a.task == "classification"
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_val, b.y_val)
    assert len(a.X_train) + len(a.X_val) == 12
    assert not any("changed" in w for w in a.warnings)


def test_changed_csv_is_warned_about(csv_experiment):
    path, data = csv_experiment
    data.write_text(CSV.replace("5.1;3.5", "5.2;3.5"), encoding="utf-8")
    ds = load_dataset(experiment_file.load(path).spec.data, base_dir=path.parent)
    assert any("changed" in w for w in ds.warnings)


def test_missing_csv_names_the_field(csv_experiment):
    path, data = csv_experiment
    data.unlink()
    with pytest.raises(DataError) as info:
        load_dataset(experiment_file.load(path).spec.data, base_dir=path.parent)
    assert str(info.value) == (f"data.csv_path: data file not found: {data} "
                               f"(csv_path 'flowers.csv' relative to the experiment's folder {path.parent})")
