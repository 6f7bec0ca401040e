"""Loading is split into parsing (cached per file content and parse options) and the cheap
per-spec steps (missing values, split, scaling, derived features, target statistics):
editing the split does not parse the file again.  ``progress`` reports the parse."""

import dataclasses
import itertools
import threading

import numpy as np
import pytest

from workbench import limits
from workbench.data import DataError, csv_cache, csv_import, csv_stream, load_dataset, read_csv
from workbench.spec import DataSpec


@pytest.fixture(autouse=True)
def empty_cache():
    csv_import.clear_cache()
    yield
    csv_import.clear_cache()


def write(tmp_path, n=200, name="d.csv", extra=""):
    p = tmp_path / name
    rows = "".join(f"{i},{(i * 7) % 11},{'xyz'[i % 3]}\n" for i in range(n))
    p.write_text("a,b,label\n" + rows + extra, encoding="utf-8")
    return p


def spec(**kw):
    return DataSpec(**{"source": "csv", "csv_path": "d.csv", **kw})


def test_split_and_scaling_edits_do_not_parse_again(tmp_path):
    write(tmp_path)
    before = csv_import.parse_count()
    a = load_dataset(spec(), base_dir=tmp_path)
    assert csv_import.parse_count() == before + 1
    for change in (dict(val_fraction=0.3), dict(test_fraction=0.1), dict(seed=5), dict(scaling="minmax"),
                   dict(stratify=False), dict(missing="fill"), dict(standardize_targets=False),
                   dict(derived_features=("x1x2",))):
        b = load_dataset(spec(**change), base_dir=tmp_path)
        assert b.X_train.shape[0] + b.X_val.shape[0] + b.X_test.shape[0] == 200, change
    assert csv_import.parse_count() == before + 1
    again = load_dataset(spec(), base_dir=tmp_path)
    assert again.X_train.tobytes() == a.X_train.tobytes() and again.y_val.tobytes() == a.y_val.tobytes()
    assert csv_import.parse_count() == before + 1


def test_parse_options_and_new_content_parse_again(tmp_path):
    p = write(tmp_path)
    load_dataset(spec(), base_dir=tmp_path)
    n = csv_import.parse_count()
    load_dataset(spec(task="classification"), base_dir=tmp_path)
    assert csv_import.parse_count() == n + 1
    load_dataset(spec(csv_delimiter=","), base_dir=tmp_path)
    assert csv_import.parse_count() == n + 2
    p.write_text(p.read_text() + "1,2,x\n")  # same path, new content
    ds = load_dataset(spec(), base_dir=tmp_path)
    assert csv_import.parse_count() == n + 3 and len(ds.y_train) + len(ds.y_val) == 201
    # the same content under another name is the same table
    (tmp_path / "copy.csv").write_bytes(p.read_bytes())
    load_dataset(spec(csv_path="copy.csv"), base_dir=tmp_path)
    assert csv_import.parse_count() == n + 3
    # read_csv shares the cache
    assert read_csv(p).n_rows == 201 and csv_import.parse_count() == n + 3


def test_a_parse_error_is_remembered_too(tmp_path):
    write(tmp_path, extra="9,oops,x\n")
    n = csv_import.parse_count()
    for _ in range(2):
        with pytest.raises(DataError, match=r"^d.csv: line 202, column 'b': not a number \('oops'\)"):
            load_dataset(spec(val_fraction=0.1 + 0.1 * _), base_dir=tmp_path)
    assert csv_import.parse_count() == n + 1


def test_cached_tables_are_read_only(tmp_path):
    t = read_csv(write(tmp_path))
    for a in (t.X, t.y, t.line_numbers, t.missing_target_lines):
        assert not a.flags.writeable
    with pytest.raises(ValueError):
        t.X[0, 0] = 5.0


def test_the_cache_keeps_to_its_byte_budget(tmp_path, monkeypatch):
    sizes = []
    for k in range(3):
        p = write(tmp_path, n=300 + k, name=f"f{k}.csv")
        sizes.append(csv_import.table_bytes(read_csv(p)))
    csv_import.clear_cache()
    monkeypatch.setattr(csv_cache, "CACHE_BYTES", sizes[0] + sizes[1] + sizes[2] // 2)
    n = csv_import.parse_count()
    for k in range(3):
        read_csv(tmp_path / f"f{k}.csv")
    assert csv_import.parse_count() == n + 3
    assert csv_import.cache_bytes() <= csv_cache.CACHE_BYTES
    read_csv(tmp_path / "f2.csv")  # the newest stays
    read_csv(tmp_path / "f1.csv")
    assert csv_import.parse_count() == n + 3
    read_csv(tmp_path / "f0.csv")  # the oldest was evicted
    assert csv_import.parse_count() == n + 4
    monkeypatch.setattr(csv_cache, "CACHE_BYTES", 10)  # too big to keep at all
    csv_import.clear_cache()
    read_csv(tmp_path / "f0.csv")
    read_csv(tmp_path / "f0.csv")
    assert csv_import.parse_count() == n + 6 and csv_import.cache_bytes() == 0


def test_the_cache_budget_is_a_named_limit():
    assert csv_import.CACHE_BYTES == limits.CSV_CACHE_BYTES >= 2 * limits.MAX_CSV_BYTES


def test_progress_is_reported_at_a_bounded_rate(tmp_path, monkeypatch):
    write(tmp_path, n=20_000)
    readings = itertools.count()
    step = 0.05  # the fake clock advances 50 ms per reading
    monkeypatch.setattr(csv_stream, "_clock", lambda: next(readings) * step)
    calls = []
    ds = load_dataset(spec(), base_dir=tmp_path, progress=lambda f, m: calls.append((f, m)))
    elapsed = next(readings) * step
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions) and all(0.0 <= f <= 1.0 for f in fractions)
    assert 4 <= len(calls) <= elapsed / csv_import.PROGRESS_INTERVAL + 2
    assert all(m.startswith("d.csv: ") for _, m in calls)
    assert calls[-1][1] == "d.csv: 20000 rows read"
    # a cached table: one call, done
    calls.clear()
    load_dataset(spec(val_fraction=0.3), base_dir=tmp_path, progress=lambda f, m: calls.append((f, m)))
    assert calls == [(1.0, "d.csv: 20000 rows read")]
    assert ds.X_train.shape[1] == 2


def test_progress_for_generated_and_bundled_sets():
    calls = []
    load_dataset(DataSpec(name="moons"), progress=lambda f, m: calls.append((f, m)))
    assert calls[-1][0] == 1.0
    calls.clear()
    load_dataset(DataSpec(source="bundled", name="iris"), progress=lambda f, m: calls.append((f, m)))
    assert calls[0][0] == 0.0 and calls[-1] == (1.0, "iris.csv: 150 rows read")


def test_loading_from_several_threads(tmp_path):
    write(tmp_path, n=3000, name="d.csv")
    write(tmp_path, n=2000, name="e.csv")
    expected = {name: load_dataset(spec(csv_path=name), base_dir=tmp_path) for name in ("d.csv", "e.csv")}
    csv_import.clear_cache()
    n = csv_import.parse_count()
    results, errors = [], []

    def work(name, val):
        try:
            for _ in range(3):
                results.append((name, val, load_dataset(spec(csv_path=name, val_fraction=val), base_dir=tmp_path)))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name, val)) for name in ("d.csv", "e.csv") for val in (0.2, 0.3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 12
    for name, val, ds in results:
        if val == 0.2:
            assert ds.X_train.tobytes() == expected[name].X_train.tobytes()
        n = len(ds.y_train) + len(ds.y_val)
        assert n == (3000 if name == "d.csv" else 2000)
    assert csv_import.parse_count() - n <= 4  # at most one parse per thread's first load
    assert csv_import.cache_bytes() > 0


def test_same_arrays_as_parsing_without_the_cache(tmp_path):
    p = write(tmp_path, n=500)
    a = load_dataset(spec(val_fraction=0.25, test_fraction=0.25), base_dir=tmp_path)
    csv_import.clear_cache()
    b = load_dataset(spec(val_fraction=0.25, test_fraction=0.25), base_dir=tmp_path)
    for attr in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        assert getattr(a, attr).tobytes() == getattr(b, attr).tobytes()
        assert getattr(a, attr).flags.writeable  # the data set's arrays are the caller's own
    assert np.array_equal(read_csv(p).X[:3], [[0, 0], [1, 7], [2, 3]])


def test_replacing_a_spec_keeps_working_with_dataclasses():
    s = spec()
    assert dataclasses.replace(s, val_fraction=0.3).csv_path == "d.csv"
