"""CSV dialects: the delimiter, the decimal mark and the header are detected (or forced by
``data.csv_delimiter`` / ``data.csv_decimal``), and a non-finite target names its line."""

import dataclasses

import numpy as np
import pytest

from workbench import spec as S
from workbench.data import DataError, load_dataset, read_csv
from workbench.data.csv_import import parse_csv_bytes


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def message(fn, *args, **kw) -> str:
    with pytest.raises(DataError) as info:
        fn(*args, **kw)
    return str(info.value)


DECIMAL_COMMA = "alpha;beta;target\n1,5;2,25;a\n3,0;-4,5;b\n5;6,75;a\n7,125;8;b\n"


# --- decimal comma --------------------------------------------------------------------------
def test_semicolons_with_decimal_commas_are_detected_with_their_header(tmp_path):
    t = read_csv(write(tmp_path, DECIMAL_COMMA))
    assert (t.delimiter, t.decimal, t.has_header) == (";", ",", True)
    assert t.feature_names == ("alpha", "beta") and t.target_column == "target"
    assert t.X.dtype == np.float32
    assert t.X.tolist() == [[1.5, 2.25], [3.0, -4.5], [5.0, 6.75], [7.125, 8.0]]
    assert t.class_names == ("a", "b") and t.y.tolist() == [0, 1, 0, 1]


def test_tabs_with_decimal_commas_and_exponents(tmp_path):
    t = read_csv(write(tmp_path, "x\ty\n1,5e2\t0,5\n-2,5E-1\t1,25\n3\t2,0\n4,75\t3,5\n"))
    assert (t.delimiter, t.decimal, t.task) == ("\t", ",", "regression")
    assert t.X[:, 0].tolist() == [150.0, -0.25, 3.0, 4.75]
    assert t.y[:, 0].tolist() == [0.5, 1.25, 2.0, 3.5]


def test_a_decimal_comma_regression_target_without_header(tmp_path):
    t = read_csv(write(tmp_path, "1;0,5\n2;1,5\n3;2,5\n4;3,25\n5;4,0\n"))
    assert (t.delimiter, t.decimal, t.has_header) == (";", ",", False)
    assert t.task == "regression" and t.y[:, 0].tolist() == [0.5, 1.5, 2.5, 3.25, 4.0]


def test_comma_delimited_files_never_read_a_decimal_comma(tmp_path):
    t = read_csv(write(tmp_path, "a,b,label\n1,5,x\n3,4,y\n5,6,x\n7,8,y\n"))
    assert (t.delimiter, t.decimal) == (",", ".") and t.X[0].tolist() == [1.0, 5.0]


def test_semicolon_file_with_decimal_points_keeps_them(tmp_path):
    t = read_csv(write(tmp_path, "a;b;label\n1.5;2;x\n3;4.25;y\n5;6;x\n7;8;y\n"))
    assert (t.delimiter, t.decimal) == (";", ".") and t.X[:2].tolist() == [[1.5, 2.0], [3.0, 4.25]]


def test_a_text_label_with_a_comma_is_not_a_decimal_comma(tmp_path):
    t = read_csv(write(tmp_path, "a;b;label\n1;2;x, big\n3;4;y\n5;6;x, big\n7;8;y\n"))
    assert (t.delimiter, t.decimal) == (";", ".") and t.class_names == ("x, big", "y")


def test_detect_decimal_rules():
    from workbench.data.csv_import import detect_decimal

    rows = [["a", "b"], ["1,5", "2"], ["3", "4,25"]]
    assert detect_decimal(rows, ";") == ","
    assert detect_decimal(rows, ",") == "."  # never with a comma delimiter
    assert detect_decimal([["a", "b"], ["1,5", "2.5"]], ";") == "."  # mixed: ambiguous, the default
    assert detect_decimal([["a", "b"], ["1", "2"]], ";") == "."  # integers only: nothing to tell
    assert detect_decimal([["a", "b"], ["1,234,5", "2"]], ";") == "."  # not a number either way


def test_a_mixed_file_names_the_cell_and_the_option(tmp_path):
    p = write(tmp_path, "a;b;label\n1.5;2;x\n3;4,25;y\n5;6;x\n7;8;y\n")
    assert message(read_csv, p) == (
        "line 3, column 'b': not a number ('4,25'); feature columns must be numeric "
        "(a decimal comma? set data.csv_decimal to ',')")


def test_a_forced_decimal_comma_refuses_decimal_points(tmp_path):
    p = write(tmp_path, "a;b;label\n1,5;2;x\n3;4.25;y\n5;6;x\n7;8;y\n")
    assert message(read_csv, p, decimal=",") == (
        "line 3, column 'b': 4.25 has a decimal point, but the decimal mark is ',' (data.csv_decimal)")


def test_forced_options_override_detection(tmp_path):
    p = write(tmp_path, DECIMAL_COMMA)
    # a forced '.' decimal reads '1,5' as text (the header is still found by csv.Sniffer)
    assert message(read_csv, p, decimal=".") == (
        "line 2, column 'alpha': not a number ('1,5'); feature columns must be numeric "
        "(a decimal comma? set data.csv_decimal to ',')")
    t = read_csv(p, delimiter=";", decimal=",")
    assert t.X[0].tolist() == [1.5, 2.25]
    # detection would read "1,5" as 1.5; forced '.' makes it text
    f = write(tmp_path, "a;b\n1,5;2\n3;4\n5;6\n7;8\n9;10\n", "f.csv")
    assert read_csv(f, task="regression").X[0, 0] == 1.5
    assert message(read_csv, f, delimiter=";", decimal=".", task="regression") == (
        "line 2, column 'a': not a number ('1,5'); feature columns must be numeric "
        "(a decimal comma? set data.csv_decimal to ',')")
    with pytest.raises(DataError, match=r"^data.csv_decimal: a decimal comma needs a delimiter other than ','"):
        read_csv(p, delimiter=",", decimal=",")
    with pytest.raises(DataError, match=r"^data.csv_delimiter: must be one of"):
        read_csv(p, delimiter="|")


def test_a_forced_decimal_comma_with_automatic_delimiter_never_picks_the_comma(tmp_path):
    p = write(tmp_path, "a;b\n1,5;2\n3;4\n5;6\n7;8,5\n9;10\n")
    t = read_csv(p, decimal=",", task="regression")
    assert t.delimiter == ";" and t.X[:, 0].tolist() == [1.5, 3, 5, 7, 9]


def test_the_data_spec_options(tmp_path):
    write(tmp_path, DECIMAL_COMMA)
    s = S.DataSpec(source="csv", csv_path="data.csv", val_fraction=0.0)
    assert (s.csv_delimiter, s.csv_decimal) == ("auto", "auto")
    ds = load_dataset(s, base_dir=tmp_path)
    assert ds.feature_names == ("alpha", "beta") and ds.X_train.shape == (4, 2)
    forced = dataclasses.replace(s, csv_delimiter=";", csv_decimal=",")
    assert load_dataset(forced, base_dir=tmp_path).X_train.tobytes() == ds.X_train.tobytes()
    with pytest.raises(DataError, match=r"^data.csv: line 2, column 'alpha': not a number \('1,5'\)"):
        load_dataset(dataclasses.replace(s, csv_decimal="."), base_dir=tmp_path)
    with pytest.raises(S.SpecError, match="csv_decimal"):
        S.parse(S.DataSpec, {"source": "csv", "csv_path": "x.csv", "csv_delimiter": ",", "csv_decimal": ","})
    with pytest.raises(S.SpecError, match="csv_delimiter"):
        S.parse(S.DataSpec, {"source": "csv", "csv_path": "x.csv", "csv_delimiter": "|"})
    # old files (no such keys) keep validating, with the automatic defaults
    old = S.parse(S.DataSpec, {"source": "csv", "csv_path": "x.csv"})
    assert (old.csv_delimiter, old.csv_decimal) == ("auto", "auto")


def test_tab_spec_value_round_trips_through_json():
    s = S.DataSpec(source="csv", csv_path="x.tsv", csv_delimiter="\t", csv_decimal=",")
    assert S.parse(S.DataSpec, S.to_plain(s)) == s


# --- a non-finite target --------------------------------------------------------------------
def rows_with(cell, line=17, n=30):
    """``n`` data rows of a numeric target; the row on file line ``line`` has ``cell``."""
    out = ["a,y"]
    for i in range(n):
        out.append(f"{i},{cell if i + 2 == line else i * 0.5}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "1e999"])
@pytest.mark.parametrize("task", ["auto", "classification", "regression"])
def test_an_infinite_target_names_its_value_and_line(tmp_path, cell, task):
    p = write(tmp_path, rows_with(cell))
    assert message(read_csv, p, task=task) == (
        f"line 17, target column 'y': {cell} is not a class label or a finite number")


def test_an_infinite_target_without_header_is_named_by_number(tmp_path):
    p = write(tmp_path, "".join(f"{i},{'inf' if i == 5 else i % 3}\n" for i in range(12)))
    assert message(read_csv, p) == "line 6, target column 2: inf is not a class label or a finite number"


def test_inf_among_text_labels_is_just_a_label(tmp_path):
    t = read_csv(write(tmp_path, "a,y\n1,inf\n2,low\n3,inf\n4,low\n"))
    assert t.task == "classification" and t.class_names == ("inf", "low")


def test_fuzzed_decimal_comma_files_give_a_table_or_a_data_error():
    for text in ["a;b\n1,5;2\n", ";\n,;,\n", "1,;,1\n2,;,2\n3,;,3\n4,;,4\n", "a;b\n,5;1\n-,5;2\n1,;3\n2;4\n"]:
        try:
            t = parse_csv_bytes(text.encode())
        except DataError as exc:
            assert str(exc)
        else:
            assert t.X.dtype == np.float32
