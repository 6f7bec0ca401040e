"""CSV messages say what is wrong: a directory or a device/FIFO is not reported as "file not
found" (and is never read), and numbers are shown as the user wrote them, not as NumPy reprs."""

import builtins
import io
import os
import stat
import threading

import pytest

from workbench.data import DataError, file_sha256, load_dataset, read_csv
from workbench.spec import DataSpec

GOOD = "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n"


def raises_data_error(fn, *args, **kw) -> str:
    """The message of the DataError (that very type, not a subclass or another error) ``fn`` raises."""
    with pytest.raises(DataError) as info:
        fn(*args, **kw)
    assert info.type is DataError
    return str(info.value)


def csv_spec(path) -> DataSpec:
    return DataSpec(source="csv", csv_path=str(path))


# --- a directory -------------------------------------------------------------------------------
def test_read_csv_of_a_directory(tmp_path):
    assert raises_data_error(read_csv, tmp_path) == f"{tmp_path} is a directory, not a CSV file"


def test_load_dataset_of_a_directory_is_not_file_not_found(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    msg = raises_data_error(load_dataset, csv_spec(folder))
    assert msg == f"data.csv_path: {folder} is a directory, not a CSV file"
    # relative to base_dir, as an experiment file names it
    msg = raises_data_error(load_dataset, DataSpec(source="csv", csv_path="csv"), base_dir=tmp_path)
    assert msg == f"data.csv_path: {folder} is a directory, not a CSV file"


def test_file_sha256_of_a_directory(tmp_path):
    assert raises_data_error(file_sha256, tmp_path) == f"{tmp_path} is a directory, not a CSV file"


def test_a_missing_file_is_still_file_not_found(tmp_path):
    missing = tmp_path / "missing.csv"
    assert raises_data_error(read_csv, missing) == f"file not found: {missing}"
    assert raises_data_error(load_dataset, csv_spec(missing)) == f"data.csv_path: data file not found: {missing}"
    assert raises_data_error(file_sha256, missing) == f"file not found: {missing}"


# --- a missing file names where it was looked for -------------------------------------------------
def test_a_relative_csv_path_is_resolved_against_the_experiments_folder(tmp_path):
    exp = tmp_path / "exp"
    (exp / "data").mkdir(parents=True)
    msg = raises_data_error(load_dataset, DataSpec(source="csv", csv_path="data/iris.csv"), base_dir=exp)
    assert msg == (f"data.csv_path: data file not found: {exp / 'data' / 'iris.csv'} "
                   f"(csv_path 'data/iris.csv' relative to the experiment's folder {exp})")
    (exp / "data" / "iris.csv").write_text(GOOD)
    ds = load_dataset(DataSpec(source="csv", csv_path="data/iris.csv", val_fraction=0.0), base_dir=exp)
    assert ds.X_train.shape == (4, 2)


def test_a_relative_base_dir_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exp").mkdir()
    msg = raises_data_error(load_dataset, DataSpec(source="csv", csv_path="../elsewhere/d.csv"), base_dir="exp")
    assert msg == (f"data.csv_path: data file not found: {tmp_path / 'elsewhere' / 'd.csv'} "
                   f"(csv_path '../elsewhere/d.csv' relative to the experiment's folder {tmp_path / 'exp'})")


def test_without_a_base_dir_a_relative_path_is_relative_to_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    msg = raises_data_error(load_dataset, DataSpec(source="csv", csv_path="d.csv"))
    assert msg == (f"data.csv_path: data file not found: {tmp_path / 'd.csv'} "
                   f"(csv_path 'd.csv' relative to the current folder {tmp_path})")


# --- a FIFO: opening it for reading would block until a writer comes --------------------------
@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path


def no_hang(fifo_path, fn, *args, error=DataError, **kw) -> str:
    """The message of the ``error`` (that very type) ``fn(*args)`` raises, run in a thread.  Should ``fn`` open the FIFO
    (and block), the test unblocks it by opening and closing the writing end (the reader
    then sees end-of-file) and fails, instead of hanging."""
    out: dict = {}

    def call():
        try:
            fn(*args, **kw)
            out["result"] = "returned"
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            out["exc"] = exc

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(5.0)
    opened = worker.is_alive()
    if opened:
        try:
            os.close(os.open(fifo_path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        worker.join(5.0)
    assert not opened, f"{getattr(fn, '__name__', fn)} opened the FIFO instead of checking its type first"
    exc = out.get("exc")
    assert type(exc) is error, out
    return str(exc)


def test_read_csv_of_a_fifo_is_rejected_without_opening_it(fifo):
    assert no_hang(fifo, read_csv, fifo) == f"{fifo} is not a regular file (a named pipe)"


def test_load_dataset_of_a_fifo(fifo):
    msg = no_hang(fifo, load_dataset, csv_spec(fifo))
    assert msg == f"data.csv_path: {fifo} is not a regular file (a named pipe)"


def test_file_sha256_of_a_fifo(fifo):
    assert no_hang(fifo, file_sha256, fifo) == f"{fifo} is not a regular file (a named pipe)"


# --- a device: /dev/zero never ends -------------------------------------------------------------
@pytest.fixture
def dev_zero(monkeypatch):
    """``/dev/zero``, which this test refuses to open (reading it would never end: the
    code must check the type first), so a regression fails at once instead of hanging."""
    path = "/dev/zero"
    if not os.path.exists(path) or not stat.S_ISCHR(os.stat(path).st_mode):
        pytest.skip("no /dev/zero")

    def guard(real):
        def opener(file, *args, **kw):
            if isinstance(file, (str, bytes, os.PathLike)) and os.fsdecode(file) == path:
                raise AssertionError(f"{path} was opened instead of checking its type first")
            return real(file, *args, **kw)
        return opener

    monkeypatch.setattr(os, "open", guard(os.open))
    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(io, "open", guard(io.open))
    return path


def test_read_csv_of_a_device(dev_zero):
    assert raises_data_error(read_csv, dev_zero) == "/dev/zero is not a regular file (a character device)"


def test_load_dataset_of_a_device(dev_zero):
    msg = raises_data_error(load_dataset, csv_spec(dev_zero))
    assert msg == "data.csv_path: /dev/zero is not a regular file (a character device)"


def test_file_sha256_of_a_device(dev_zero):
    msg = raises_data_error(file_sha256, dev_zero)
    assert msg == "/dev/zero is not a regular file (a character device)"


def test_the_size_bound_still_holds(tmp_path):
    p = tmp_path / "big.csv"
    p.write_text(GOOD * 10)
    assert raises_data_error(read_csv, p, max_bytes=100) == (
        f"file is too large: 0.0 MB ({p.stat().st_size} bytes); the limit is 0.0 MB")


# --- the Data dock says the same ----------------------------------------------------------------
def test_the_data_dock_names_the_problem(tmp_path, fifo, dev_zero):
    pytest.importorskip("PySide6")
    from workbench.ui.editors.data import csv_columns

    for read in (csv_columns,):
        with pytest.raises(ValueError) as info:
            read(str(tmp_path))
        assert str(info.value) == f"data.csv_path: {tmp_path} is a directory, not a CSV file"
        with pytest.raises(ValueError) as info:
            read(str(tmp_path / "missing.csv"))
        assert str(info.value) == f"data.csv_path: file not found: {tmp_path / 'missing.csv'}"
        with pytest.raises(ValueError) as info:
            read(dev_zero)
        assert str(info.value) == "data.csv_path: /dev/zero is not a regular file (a character device)"
        msg = no_hang(fifo, read, str(fifo), error=ValueError)
        assert msg == f"data.csv_path: {fifo} is not a regular file (a named pipe)"


# --- numbers as the user wrote them -------------------------------------------------------------
def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("cell,expected", [
    ("1e39", "line 3, column 'b': 1e39 is too large for float32"),
    ("-3.5E+40", "line 3, column 'b': -3.5E+40 is too large for float32"),
    ("inf", "line 3, column 'b': not a finite number (inf)"),
    ("-Infinity", "line 3, column 'b': not a finite number (-Infinity)"),
    ("1e400", "line 3, column 'b': not a finite number (1e400)"),
])
def test_a_huge_or_infinite_feature_is_shown_as_written(tmp_path, cell, expected):
    p = write(tmp_path, f"a,b,label\n1,2,x\n3, {cell},y\n5,6,x\n7,8,y\n")
    msg = raises_data_error(read_csv, p)
    assert msg == expected
    assert "np." not in msg and "float64" not in msg


def test_a_very_long_cell_is_shown_as_a_plain_float(tmp_path):
    cell = "1" + "0" * 60
    p = write(tmp_path, f"a,b,label\n1,2,x\n3,{cell},y\n5,6,x\n7,8,y\n")
    assert raises_data_error(read_csv, p) == "line 3, column 'b': 1e+60 is too large for float32"


def test_a_huge_value_without_header_names_the_column_by_number(tmp_path):
    p = write(tmp_path, "1,2,x\n3,4,y\n5,6,x\n7e50,8,y\n")
    assert raises_data_error(read_csv, p) == "line 4, column 1: 7e50 is too large for float32"


def test_a_huge_regression_target_is_shown_as_written(tmp_path):
    p = write(tmp_path, "a,b,y\n1,2,0.5\n3,4,1e39\n5,6,1.5\n7,8,2.5\n")
    msg = raises_data_error(read_csv, p, task="regression")
    assert msg == "line 3, column 'y': 1e39 is too large for float32"


def test_load_dataset_prefixes_the_file_name(tmp_path):
    write(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,inf,x\n7,8,y\n", name="qa.csv")
    msg = raises_data_error(load_dataset, DataSpec(source="csv", csv_path="qa.csv"), base_dir=tmp_path)
    assert msg == "qa.csv: line 4, column 'b': not a finite number (inf)"
