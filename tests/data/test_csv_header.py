"""read_csv_header: the columns from the first records only (what the Data editor shows
without parsing the file on the GUI thread)."""

import gzip

import pytest

from workbench.data.csv_import import HEADER_BYTES, DataError, read_csv, read_csv_header


@pytest.mark.parametrize("text", [
    "a,b,y\n" + "1,2,0\n3,4,1\n" * 3,
    "1,2,0\n3,4,1\n5,6,0\n" * 2,  # no header: column_1 ...
    "x;größe;label\n" + "1,5;2,25;a\n3,0;4,5;b\n" * 3,  # semicolons and decimal commas
    "\ufeffp\tq\tr\n" + "1\t2\t3\n4\t5\t6\n" * 3,  # BOM and tabs
])
def test_the_header_equals_the_parsed_tables_columns(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    table = read_csv(path)
    assert read_csv_header(path) == [*table.feature_names, table.target_column]
    gz = tmp_path / "t.csv.gz"
    gz.write_bytes(gzip.compress(text.encode("utf-8")))
    assert read_csv_header(gz) == read_csv_header(path)


def test_only_the_start_of_the_file_is_read(tmp_path):
    path = tmp_path / "big.csv"
    row = "1.5,2.5,0\n"
    with open(path, "w") as f:
        f.write("a,b,target\n")
        f.write(row * (2 * HEADER_BYTES // len(row)))
        f.write("not,a,number\n")  # past what the header reader reads: a parse would refuse it
    assert read_csv_header(path) == ["a", "b", "target"]
    with pytest.raises(DataError):
        read_csv(path)


def test_refusals_keep_their_reason(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_csv_header(tmp_path / "nope.csv")
    one = tmp_path / "one.csv"
    one.write_text("a\n1\n2\n")
    with pytest.raises(DataError, match="single column"):
        read_csv_header(one)
