"""load_dataset: the recipe end to end (spec -> split, scaled arrays), determinism, errors."""

import dataclasses

import numpy as np
import pytest

from workbench.data import CHANGED_FILE_WARNING, DataError, Dataset, file_sha256, load_dataset, split_indices
from workbench.spec import DataSpec

ARRAYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")


def spec(**kw) -> DataSpec:
    return DataSpec(**kw)


def test_default_synthetic_spec():
    ds = load_dataset(spec())  # two_spirals, 400 samples, val 0.2, standard scaling
    assert isinstance(ds, Dataset) and ds.task == "classification" and ds.n_classes == 2
    assert ds.X_train.shape == (320, 2) and ds.X_val.shape == (80, 2) and ds.X_test.shape == (0, 2)
    assert ds.y_train.dtype == np.int64 and ds.y_test.shape == (0,)
    assert all(getattr(ds, a).dtype == (np.float32 if a[0] == "X" else np.int64) for a in ARRAYS)
    assert np.bincount(ds.y_val).tolist() == [40, 40]
    assert ds.feature_names == ("x1", "x2") and ds.class_names == ("0", "1")
    assert ds.raw_2d and not ds.raw_1d and ds.raw_train.shape == (320, 2)
    assert ds.warnings == ()


@pytest.mark.parametrize("source,name", [("synthetic", "moons"), ("synthetic", "sine_1d"), ("bundled", "wine"),
                                          ("synthetic", "blobs")])
def test_same_spec_gives_bit_identical_arrays(source, name):
    s = spec(source=source, name=name, val_fraction=0.2, test_fraction=0.1, n_classes=4, seed=7)
    a, b = load_dataset(s), load_dataset(s)
    for attr in ARRAYS:
        assert getattr(a, attr).tobytes() == getattr(b, attr).tobytes(), attr
    c = load_dataset(dataclasses.replace(s, seed=8))
    assert not np.array_equal(a.X_train, c.X_train)


def test_scaling_is_fitted_on_the_training_split_only(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 3.0, size=(60, 3)).round(3)
    y = np.repeat([0, 1, 2], 20)
    lines = ["f1,f2,f3,label"] + [f"{a},{b},{c},k{t}" for (a, b, c), t in zip(X, y)]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(lines) + "\n")
    s = spec(source="csv", csv_path=str(path), val_fraction=0.25, test_fraction=0.25, seed=3)
    ds = load_dataset(s)
    # the training features are standardised exactly; validation and test are not
    assert np.allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-6)
    assert np.allclose(ds.X_train.std(axis=0), 1.0, atol=1e-6)
    assert np.abs(ds.X_val.mean(axis=0)).max() > 1e-3 and np.abs(ds.X_val.std(axis=0) - 1).max() > 1e-3
    # the scaler's statistics are those of the training rows alone
    idx = split_indices(np.repeat(np.arange(3), 20), 0.25, 0.25, True, 3)
    assert np.allclose(ds.scaler.offset, X[idx.train].mean(axis=0), rtol=1e-6)
    assert np.allclose(ds.scaler.scale, X[idx.train].std(axis=0), rtol=1e-6)
    # change one validation row in the file: fitted mean/std unchanged, that row changed
    row = int(idx.val[0])
    lines[row + 1] = f"999,-999,999,k{y[row]}"
    path.write_text("\n".join(lines) + "\n")
    ds2 = load_dataset(s)
    assert ds2.scaler.offset.tobytes() == ds.scaler.offset.tobytes()
    assert ds2.scaler.scale.tobytes() == ds.scaler.scale.tobytes()
    assert ds2.X_train.tobytes() == ds.X_train.tobytes()
    assert not np.array_equal(ds2.X_val, ds.X_val)
    # ...while changing a training row does change them
    lines[int(idx.train[0]) + 1] = f"999,-999,999,k{y[int(idx.train[0])]}"
    path.write_text("\n".join(lines) + "\n")
    assert not np.array_equal(load_dataset(s).scaler.offset, ds.scaler.offset)


@pytest.mark.parametrize("scaling", ["standard", "minmax", "none"])
def test_to_features_reproduces_the_training_inputs(scaling):
    s = spec(name="circles", derived_features=("x1x2", "x1_sq", "sin_x2"), scaling=scaling, val_fraction=0.3)
    ds = load_dataset(s)
    assert ds.feature_names == ("x1", "x2", "x1_sq", "x1x2", "sin_x2")
    assert ds.derived_features == ("x1_sq", "x1x2", "sin_x2") and ds.n_features == 5
    assert ds.to_features(ds.raw_train).tobytes() == ds.X_train.tobytes()
    assert ds.to_features(ds.raw_val).tobytes() == ds.X_val.tobytes()
    # grid_features: a meshgrid through the same transform, row-major
    xx, yy = np.meshgrid(np.linspace(-5, 5, 7), np.linspace(-4, 4, 3))
    g = ds.grid_features(xx, yy)
    assert g.shape == (21, 5) and g.dtype == np.float32
    raw = np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32).astype(np.float64)
    expected = np.column_stack([raw[:, 0], raw[:, 1], raw[:, 0] ** 2, raw[:, 0] * raw[:, 1], np.sin(raw[:, 1])])
    expected = ((expected.astype(np.float32).astype(np.float64) - ds.scaler.offset) / ds.scaler.scale)
    assert np.allclose(g, expected, atol=1e-5)
    if scaling == "minmax":
        assert ds.X_train.min() == 0.0 and ds.X_train.max() == 1.0
    with pytest.raises(ValueError):
        ds.line_features([0.0])


def test_one_dimensional_regression_line_features():
    ds = load_dataset(spec(name="sine_1d", n_samples=200, val_fraction=0.25))
    assert ds.task == "regression" and ds.n_classes == 0 and ds.class_names == ()
    assert ds.raw_1d and not ds.raw_2d
    assert ds.y_train.dtype == np.float32 and ds.y_train.shape == (150, 1) and ds.y_val.shape == (50, 1)
    assert ds.line_features(ds.raw_train[:, 0]).tobytes() == ds.X_train.tobytes()
    assert ds.line_features(np.linspace(-5, 5, 11)).shape == (11, 1)
    with pytest.raises(ValueError):
        ds.grid_features(np.zeros(3), np.zeros(3))


def test_empty_regression_splits_keep_their_shapes():
    ds = load_dataset(spec(name="plane_2d", val_fraction=0.0, test_fraction=0.0))
    assert ds.X_val.shape == (0, 2) and ds.y_val.shape == (0, 1) and ds.y_test.shape == (0, 1)
    assert ds.X_train.shape == (400, 2)


def test_bundled_sets_have_no_raw_plot_inputs():
    ds = load_dataset(spec(source="bundled", name="iris", val_fraction=0.2, test_fraction=0.2))
    assert ds.X_train.shape == (90, 4) and ds.n_classes == 3 and not ds.raw_2d and ds.raw_train is None
    for y in (ds.y_train, ds.y_val, ds.y_test):
        assert np.bincount(y).tolist() in ([30, 30, 30], [10, 10, 10])
    ds = load_dataset(spec(source="bundled", name="iris", derived_features=("x1_sq",)))
    assert ds.n_features == 4 and any("derived_features are ignored" in w for w in ds.warnings)


def test_xor4_keeps_all_four_points_for_training():
    ds = load_dataset(spec(name="xor4", val_fraction=0.0, test_fraction=0.0, scaling="none"))
    assert ds.X_train.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and ds.y_train.tolist() == [0, 1, 1, 0]
    assert ds.X_val.shape == (0, 2) and ds.warnings == ()
    ds = load_dataset(spec(name="xor4", val_fraction=0.2, n_samples=400))
    assert ds.X_train.shape == (4, 2) and ds.X_val.tobytes() == ds.X_train.tobytes()
    assert np.allclose(np.abs(ds.X_train), 1.0)  # standard scaling of {0, 1} -> {-1, +1}
    assert "repeat them" in ds.warnings[0]


def test_csv_source_relative_path_checksum_and_task(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "d.csv"
    path.write_text("a;b;y\n" + "".join(f"{i};{i % 3};{i * 0.5}\n" for i in range(40)))
    sha = file_sha256(path)
    s = spec(source="csv", csv_path="sub/d.csv", csv_sha256=sha, val_fraction=0.25)
    ds = load_dataset(s, base_dir=tmp_path)
    assert ds.task == "regression" and ds.y_train.shape == (30, 1) and ds.source_sha256 == sha
    assert ds.feature_names == ("a", "b") and ds.warnings == ()
    path.write_text(path.read_text() + "40;1;20.0\n")
    ds = load_dataset(s, base_dir=tmp_path)
    assert ds.warnings[0].startswith(CHANGED_FILE_WARNING) and ds.source_sha256 != sha
    ds = load_dataset(dataclasses.replace(s, target_column="b", task="classification", csv_sha256=None),
                      base_dir=tmp_path)
    assert ds.task == "classification" and ds.class_names == ("0", "1", "2") and ds.feature_names == ("a", "y")
    ds = load_dataset(dataclasses.replace(s, target_column="b", task="regression", csv_sha256=None),
                      base_dir=tmp_path)
    assert ds.task == "regression" and ds.y_train.shape == (31, 1)


def test_csv_errors_name_the_field_or_the_place(tmp_path):
    with pytest.raises(DataError, match=r"^data.csv_path: data file not found: .*missing.csv \(csv_path 'missing.csv' "
                                        r"relative to the experiment's folder .*\)$"):
        load_dataset(spec(source="csv", csv_path="missing.csv"), base_dir=tmp_path)
    (tmp_path / "bad.csv").write_text("a,b,label\n1,2,x\n3,?,y\n5,6,x\n7,8,y\n")
    with pytest.raises(DataError, match=r"^bad.csv: line 3, column 'b': missing value \('\?'\); fill it in or "
                                        r"remove the row, or set data.missing to 'drop' or 'fill'$"):
        load_dataset(spec(source="csv", csv_path="bad.csv", missing="refuse"), base_dir=tmp_path)
    (tmp_path / "ok.csv").write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n")
    with pytest.raises(DataError, match=r"^data.target_column: target column 'c' not found"):
        load_dataset(spec(source="csv", csv_path="ok.csv", target_column="c"), base_dir=tmp_path)


@pytest.mark.parametrize("source,kind", [("synthetic", "synthetic"), ("bundled", "bundled")])
def test_unknown_names_list_the_valid_ones(source, kind):
    with pytest.raises(DataError) as info:
        load_dataset(spec(source=source, name="nope"))
    msg = str(info.value)
    assert msg.startswith(f"data.name: unknown {kind} data set 'nope'; valid names: ")
    assert ("two_spirals" if source == "synthetic" else "breast_cancer") in msg


def test_task_is_ignored_with_a_warning_for_synthetic_data():
    ds = load_dataset(spec(name="moons", task="regression"))
    assert ds.task == "classification" and "data.task 'regression' is ignored" in ds.warnings[0]


def test_tiny_fraction_warns_about_an_empty_split():
    ds = load_dataset(spec(name="xor", n_samples=4, val_fraction=0.1, stratify=False))
    assert ds.X_val.shape == (0, 2) and "empty validation split" in ds.warnings[0]


@pytest.mark.parametrize("bad", ["x" * 300 + ".csv", "a\x00b.csv", "."])
def test_hostile_csv_paths_give_a_data_error(tmp_path, bad):
    with pytest.raises(DataError, match=r"^data.csv_path: "):
        load_dataset(spec(source="csv", csv_path=bad), base_dir=tmp_path)
