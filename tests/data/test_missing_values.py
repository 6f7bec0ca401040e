"""Missing values (``data.missing``): rows dropped, cells filled with the TRAINING split's
means (never statistics of validation or test rows), or the file refused; a missing target
always drops its row.  What was done is reported in ``Dataset.warnings``."""

import dataclasses

import numpy as np
import pytest

from workbench import spec as S
from workbench.data import DataError, load_dataset, read_csv, split_indices


def write(tmp_path, lines, name="m.csv"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def message(fn, *args, **kw) -> str:
    with pytest.raises(DataError) as info:
        fn(*args, **kw)
    return str(info.value)


def regression_lines(n=20):
    """``a,b,y`` rows ``i, 2i+1, 3i`` (file line ``i + 2``)."""
    return ["a,b,y"] + [f"{i},{2 * i + 1},{3 * i}" for i in range(n)]


def spec(**kw):
    base = dict(source="csv", csv_path="m.csv", scaling="none", val_fraction=0.25, seed=4, task="regression")
    base.update(kw)
    return S.DataSpec(**base)


def test_the_default_is_drop_and_old_files_get_it():
    assert S.DataSpec().missing == "drop"
    assert S.parse(S.DataSpec, {"source": "csv", "csv_path": "x.csv"}).missing == "drop"
    with pytest.raises(S.SpecError, match=r"missing"):
        S.parse(S.DataSpec, {"missing": "guess"})


def test_read_csv_keeps_missing_cells_as_nan_and_counts_them(tmp_path):
    lines = regression_lines(8)
    lines[3] = "2,NA,6"        # line 4
    lines[5] = ",9,12"         # line 6
    lines[7] = "6,13,"         # line 8: missing target: the row is left out
    t = read_csv(write(tmp_path, lines), task="regression")
    assert t.n_rows == 7 and t.missing_values == 2
    assert t.missing_target_lines.tolist() == [8]
    assert t.line_numbers.tolist() == [2, 3, 4, 5, 6, 7, 9]
    assert np.isnan(t.X[2, 1]) and np.isnan(t.X[4, 0]) and np.isnan(t.X).sum() == 2
    assert message(read_csv, write(tmp_path, lines), task="regression", missing="refuse") == (
        "line 4, column 'b': missing value ('NA'); fill it in or remove the row")


def test_drop_removes_rows_with_a_missing_feature_or_target(tmp_path):
    lines = regression_lines(20)
    lines[3] = "2,NA,6"
    lines[8] = "7,?,21"
    lines[12] = "11,23,"
    write(tmp_path, lines)
    ds = load_dataset(spec(), base_dir=tmp_path)
    n = len(ds.y_train) + len(ds.y_val)
    assert n == 17
    assert ds.warnings == ("dropped 3 rows with missing values (of 20): lines 4, 9, 13",)
    kept = np.concatenate([ds.X_train, ds.X_val])
    assert np.isfinite(kept).all()
    assert sorted(kept[:, 0].tolist()) == [i for i in range(20) if i not in (2, 7, 11)]
    # the rows that remain are split exactly as a file without those rows would be
    clean = [lines[0]] + [l for j, l in enumerate(lines[1:]) if j not in (2, 7, 11)]
    write(tmp_path, clean, "clean.csv")
    ref = load_dataset(spec(csv_path="clean.csv"), base_dir=tmp_path)
    assert ref.X_train.tobytes() == ds.X_train.tobytes() and ref.y_val.tobytes() == ds.y_val.tobytes()


def test_fill_uses_the_training_split_means_only(tmp_path):
    n = 20
    idx = split_indices(np.zeros((n, 1), np.float32), 0.25, 0.0, True, 4)
    train_row, val_row = int(idx.train[0]), int(idx.val[0])
    lines = regression_lines(n)
    lines[train_row + 1] = f",{2 * train_row + 1},{3 * train_row}"        # 'a' missing in a training row
    lines[val_row + 1] = f"{val_row},NA,{3 * val_row}"                     # 'b' missing in a validation row
    write(tmp_path, lines)
    ds = load_dataset(spec(missing="fill"), base_dir=tmp_path)
    a = np.arange(n, dtype=np.float64)
    b = 2 * a + 1
    present_train = [i for i in idx.train if i != train_row]
    mean_a = np.float32(a[present_train].mean())
    mean_b = np.float32(b[idx.train].mean())
    assert ds.X_train[0, 0] == mean_a                       # the training row, filled
    assert ds.X_val[0, 1] == mean_b                         # the validation row, filled with the TRAINING mean
    assert mean_b != np.float32(b[[i for i in idx.val if i != val_row]].mean())
    assert ds.warnings == ("filled 2 missing values with the training split's means (column 'a': 1, "
                           "column 'b': 1)",)
    assert np.isfinite(ds.X_train).all() and np.isfinite(ds.X_val).all()
    # a value present only in the validation split does not affect the fill
    other_val = int(idx.val[1])
    lines[other_val + 1] = f"{other_val},100000,{3 * other_val}"
    write(tmp_path, lines)
    ds2 = load_dataset(spec(missing="fill"), base_dir=tmp_path)
    assert ds2.X_train.tobytes() == ds.X_train.tobytes()
    assert ds2.X_val[0, 1] == mean_b and ds2.X_val[1, 1] == 100000
    # ...while a training value does
    lines[int(idx.train[1]) + 1] = f"{int(idx.train[1])},100000,{3 * int(idx.train[1])}"
    write(tmp_path, lines)
    assert load_dataset(spec(missing="fill"), base_dir=tmp_path).X_val[0, 1] != mean_b


def test_fill_happens_before_scaling_and_derived_features(tmp_path):
    lines = ["x1,x2,label"] + [f"{i % 7},{(i * 3) % 5},{'ab'[i % 2]}" for i in range(40)]
    lines[5] = ",1,a"
    write(tmp_path, lines)
    ds = load_dataset(spec(missing="fill", scaling="standard", derived_features=("x1x2",), task="auto"),
                      base_dir=tmp_path)
    assert np.isfinite(ds.X_train).all() and np.isfinite(ds.X_val).all()
    assert np.allclose(ds.X_train.mean(axis=0), 0, atol=1e-6)
    assert np.isfinite(ds.raw_train).all() and ds.feature_names == ("x1", "x2", "x1x2")


def test_a_missing_target_always_drops_the_row(tmp_path):
    lines = regression_lines(12)
    lines[4] = "3,7,"
    lines[6] = "5,11,NA"
    write(tmp_path, lines)
    for missing in ("drop", "fill"):
        ds = load_dataset(spec(missing=missing), base_dir=tmp_path)
        assert len(ds.y_train) + len(ds.y_val) == 10
        assert ds.warnings == ("dropped 2 rows with missing values (of 12): lines 5, 7",) if missing == "drop" else (
            "dropped 2 rows with a missing target value (of 12): lines 5, 7",)


def test_refuse_names_the_first_missing_cell(tmp_path):
    lines = regression_lines(12)
    lines[6] = "5,,15"
    lines[9] = "8,17,"
    write(tmp_path, lines)
    assert message(load_dataset, spec(missing="refuse"), base_dir=tmp_path) == (
        "m.csv: line 7, column 'b': missing value (empty cell); fill it in or remove the row, "
        "or set data.missing to 'drop' or 'fill'")
    lines[6] = "5,11,15"
    write(tmp_path, lines)
    assert message(load_dataset, spec(missing="refuse"), base_dir=tmp_path) == (
        "m.csv: line 10, column 'y': missing target value (empty cell); fill it in or remove the row, "
        "or set data.missing to 'drop' or 'fill'")


def test_complete_files_are_unchanged_by_the_option(tmp_path):
    write(tmp_path, regression_lines(16))
    a, b, c = (load_dataset(spec(missing=m), base_dir=tmp_path) for m in ("drop", "fill", "refuse"))
    assert a.X_train.tobytes() == b.X_train.tobytes() == c.X_train.tobytes()
    assert a.warnings == b.warnings == c.warnings == ()


def test_fill_with_a_column_missing_in_every_training_row(tmp_path):
    n = 8
    idx = split_indices(np.zeros((n, 1), np.float32), 0.25, 0.0, True, 4)
    lines = regression_lines(n)
    for r in idx.train:
        lines[int(r) + 1] = f"{r},NA,{3 * r}"
    write(tmp_path, lines)
    assert message(load_dataset, spec(missing="fill"), base_dir=tmp_path) == (
        "data.missing: column 'b' has no value in the training split to fill with; "
        "set data.missing to 'drop' or fill the column in")


def test_drop_that_leaves_too_few_rows_or_a_class_with_one_row(tmp_path):
    write(tmp_path, ["a,y", "1,1.5", "NA,2.5", "3,3.5", "NA,4.5", "5,5.5", "6,6.5"])
    ds = load_dataset(spec(val_fraction=0.0), base_dir=tmp_path)  # 4 rows left: enough
    assert sorted(ds.y_train[:, 0].tolist()) == [1.5, 3.5, 5.5, 6.5]
    write(tmp_path, ["a,y", "1,1.5", "NA,2.5", "3,3.5", "NA,4.5", "5,5.5"])
    assert message(load_dataset, spec(), base_dir=tmp_path) == (
        "data.missing: dropping 2 rows with missing values leaves 3 rows; at least 4 are needed "
        "(set data.missing to 'fill')")
    write(tmp_path, ["a,label", "1,x", "2,x", "3,y", "NA,y", "5,x", "6,z", "7,z"])
    assert message(load_dataset, spec(task="auto"), base_dir=tmp_path) == (
        "data.missing: dropping 1 row with missing values leaves class 'y' with a single row (line 4); "
        "every class needs at least 2 rows (set data.missing to 'fill')")


def test_missing_tokens_are_case_insensitive_and_nan_counts(tmp_path):
    lines = regression_lines(10)
    lines[2], lines[3], lines[4], lines[5] = "n/a,3,3", "3,NULL,6", "None,9,9", "5,nan,15"
    t = read_csv(write(tmp_path, lines), task="regression")
    assert t.missing_values == 4 and t.n_rows == 10
    write(tmp_path, lines)
    ds = load_dataset(spec(), base_dir=tmp_path)
    assert ds.warnings == ("dropped 4 rows with missing values (of 10): lines 3, 4, 5, 6",)


def test_many_dropped_lines_are_abbreviated(tmp_path):
    lines = regression_lines(40)
    for i in range(1, 30, 3):
        lines[i] = f"NA,{2 * i},{3 * i}"
    write(tmp_path, lines)
    ds = load_dataset(dataclasses.replace(spec(), val_fraction=0.2), base_dir=tmp_path)
    assert ds.warnings == ("dropped 10 rows with missing values (of 40): lines 2, 5, 8, 11, 14 and 5 more",)
