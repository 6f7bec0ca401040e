"""CSV import: malformed files are rejected with the line and column, good ones read exactly."""

import gzip
import hashlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.data import DataError, file_sha256, read_csv
from workbench.data.csv_import import AUTO_MAX_CLASSES, parse_csv_bytes


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


GOOD = "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n"


def rejects(tmp_path, text, pattern, **kw):
    with pytest.raises(DataError) as info:
        read_csv(write(tmp_path, text), **kw)
    msg = str(info.value)
    import re

    assert re.search(pattern, msg), msg
    return msg


# --- malformed files ------------------------------------------------------------------------
def test_empty_file(tmp_path):
    rejects(tmp_path, "", r"^the file is empty$")


def test_blank_file(tmp_path):
    rejects(tmp_path, "\n  \n\n", r"^the file is empty$")


def test_header_only(tmp_path):
    rejects(tmp_path, "a,b,label\n", r"^the file has a header but no data rows$")


def test_ragged_row_names_the_line(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,y\n5,6,x\n7,8,y\n",
            r"^line 3: expected 3 fields \(as in the header\), found 2$")


def test_too_many_fields_names_the_line(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,6,7,x\n7,8,y\n", r"^line 4: expected 3 fields .* found 4$")


def test_text_in_a_feature_column_names_line_and_column(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,abc,y\n5,6,x\n7,8,y\n",
            r"^line 3, column 'b': not a number \('abc'\); feature columns must be numeric$")


def test_missing_value_empty_cell(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,4,y\n,6,x\n7,8,y\n", r"^line 4, column 'a': missing value \(empty cell\)",
            missing="refuse")


def test_missing_value_token(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,NA,x\n7,8,y\n", r"^line 4, column 'b': missing value \('NA'\)",
            missing="refuse")


def test_nan_is_a_missing_value(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,nan,x\n7,8,y\n", r"^line 4, column 'b': missing value", missing="refuse")


def test_infinite_value(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,6,x\n-inf,8,y\n", r"^line 5, column 'a': not a finite number")


def test_value_too_large_for_float32(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,1e300,x\n7,8,y\n", r"^line 4, column 'b': .* too large for float32")


def test_missing_target_value(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,4,\n5,6,x\n7,8,y\n",
            r"^line 3, column 'label': missing target value \(empty cell\)", missing="refuse")


def test_missing_target_column_name(tmp_path):
    msg = rejects(tmp_path, GOOD, r"^data.target_column: target column 'nope' not found", target_column="nope")
    assert msg.endswith("the columns are: a, b, label")


def test_target_column_match_ignores_case_and_spaces(tmp_path):
    t = read_csv(write(tmp_path, GOOD), target_column=" Label ")
    assert t.target_column == "label" and t.feature_names == ("a", "b")


def test_a_single_class(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n",
            r"^column 'label': every row has the label 'x'; classification needs at least 2 classes$")


def test_a_class_with_one_row(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,z\n9,9,y\n",
            r"^line 5, column 'label': class 'z' has a single row; every class needs at least 2 rows")


def test_too_few_rows(tmp_path):
    rejects(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,6,x\n", r"^only 3 data rows; at least 4 are needed$")


def test_oversized_file(tmp_path):
    rejects(tmp_path, GOOD * 10, r"^file is too large: .*; the limit is 0.0 MB$", max_bytes=100)


def test_oversized_once_decompressed(tmp_path):
    p = tmp_path / "big.csv.gz"
    p.write_bytes(gzip.compress((GOOD + "1,2,x\n" * 1000).encode()))
    assert p.stat().st_size < 2000
    with pytest.raises(DataError, match="once decompressed"):
        read_csv(p, max_bytes=2000)


def test_too_many_rows(tmp_path):
    rejects(tmp_path, GOOD + "9,9,x\n" * 3, r"^line 7: more than 5 data rows; the limit is 5$", max_rows=5)


def test_too_many_columns(tmp_path):
    rejects(tmp_path, "a,b,c,label\n1,2,3,x\n", r"^line 1: 4 columns; the limit is 3$", max_cols=3)


def test_undecodable_bytes_name_the_line(tmp_path):
    data = "a,b,label\n1,2,x\n3,4,caf".encode() + b"\xe9" + b"\n5,6,x\n7,8,y\n"
    rejects(tmp_path, data, r"^line 3: byte 0xe9 at character 8 is not valid UTF-8; save the file as UTF-8$")


def test_utf16_is_rejected_with_advice(tmp_path):
    rejects(tmp_path, GOOD.encode("utf-16"), r"UTF-16 .* save it as UTF-8")


def test_binary_file(tmp_path):
    rejects(tmp_path, b"PK\x03\x04\x00\x00binary", r"^line 1: contains a NUL byte")


def test_duplicate_header_names(tmp_path):
    rejects(tmp_path, "a,a,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n",
            r"^line 1: the header names column 'a' twice \(columns 1 and 2\)$")


def test_single_column(tmp_path):
    rejects(tmp_path, "label\nx\ny\nx\ny\n", r"^line 1: found a single column")


def test_file_not_found(tmp_path):
    with pytest.raises(DataError, match=r"^file not found: .*nothere.csv$"):
        read_csv(tmp_path / "nothere.csv")


def test_a_directory_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match=r"is a directory, not a CSV file$"):
        read_csv(tmp_path)


def test_regression_target_must_be_numeric(tmp_path):
    rejects(tmp_path, GOOD, r"^line 2, column 'label': not a number \('x'\); a regression target must be numeric$",
            task="regression")


def test_unknown_task(tmp_path):
    rejects(tmp_path, GOOD, r"^data.task: must be one of auto, classification, regression", task="clustering")


def test_unterminated_quote_is_malformed(tmp_path):
    rejects(tmp_path, 'a,b,label\n1,2,x\n3,4,"y\n5,6,x\n', r"^line 3: malformed CSV")


def test_line_numbers_count_blank_lines_and_multiline_quoted_fields(tmp_path):
    text = 'a,b,label\n\n1,2,"two\nlines"\n3,4,y\n\n5,oops,x\n7,8,y\n'
    rejects(tmp_path, text, r"^line 7, column 'b': not a number \('oops'\)")


def test_without_header_columns_are_named_by_number(tmp_path):
    rejects(tmp_path, "1,2,x\n3,4,y\n5,,x\n7,8,y\n", r"^line 3, column 2: missing value \(empty cell\)",
            missing="refuse")


# --- accepted files ---------------------------------------------------------------------------
def test_good_csv_with_string_labels_round_trip(tmp_path):
    text = ("sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n"
            "4.9,1.4,setosa\n6.4,4.5,versicolor\n5.8,5.1,virginica\n")
    t = read_csv(write(tmp_path, text))
    assert t.task == "classification" and t.n_classes == 3 and t.has_header and t.delimiter == ","
    assert t.feature_names == ("sepal", "petal") and t.target_column == "species"
    assert t.class_names == ("setosa", "versicolor", "virginica")
    assert t.y.dtype == np.int64 and t.y.tolist() == [0, 1, 2, 0, 1, 2]
    assert t.X.dtype == np.float32
    assert np.array_equal(t.X, np.array([[5.1, 1.4], [7.0, 4.7], [6.3, 6.0], [4.9, 1.4], [6.4, 4.5], [5.8, 5.1]],
                                        dtype=np.float32))
    assert [t.class_names[i] for i in t.y] == ["setosa", "versicolor", "virginica"] * 2
    assert t.line_numbers.tolist() == [2, 3, 4, 5, 6, 7]
    assert t.warnings == ()


def test_utf8_bom_is_skipped(tmp_path):
    t = read_csv(write(tmp_path, "\ufeff" + GOOD))
    assert t.feature_names == ("a", "b") and t.target_column == "label"


def test_semicolons(tmp_path):
    t = read_csv(write(tmp_path, "a;b;label\n1.5;2;x\n3;4;y\n5;6;x\n7;8;y\n"))
    assert t.delimiter == ";" and t.X.shape == (4, 2) and t.X[0].tolist() == [1.5, 2.0]


def test_tabs(tmp_path):
    t = read_csv(write(tmp_path, "a\tb\tlabel\n1\t2\tx\n3\t4\ty\n5\t6\tx\n7\t8\ty\n"))
    assert t.delimiter == "\t" and t.X.shape == (4, 2)


def test_semicolon_file_whose_text_contains_commas(tmp_path):
    t = read_csv(write(tmp_path, "a;b;label\n1;2;x, big\n3;4;y\n5;6;x, big\n7;8;y\n"))
    assert t.delimiter == ";" and t.class_names == ("x, big", "y")


def test_quoted_fields_with_delimiters_and_quotes_inside(tmp_path):
    text = ('a,b,label\n1,2,"cat, big"\n3,4,"dog ""rex"""\n5,6,"cat, big"\n7,8,"dog ""rex"""\n'
            '"9","10",plain\n11,12,plain\n')
    t = read_csv(write(tmp_path, text))
    assert t.class_names == ("cat, big", 'dog "rex"', "plain")
    assert t.y.tolist() == [0, 1, 0, 1, 2, 2]
    assert t.X[4].tolist() == [9.0, 10.0]


def test_crlf_line_endings_and_spaces(tmp_path):
    t = read_csv(write(tmp_path, "a, b, label\r\n1, 2, x\r\n3, 4, y\r\n5, 6, x\r\n7, 8, y\r\n"))
    assert t.feature_names == ("a", "b") and t.class_names == ("x", "y") and t.X[3].tolist() == [7.0, 8.0]


def test_no_header(tmp_path):
    t = read_csv(write(tmp_path, "1,2,x\n3,4,y\n5,6,x\n7,8,y\n"))
    assert not t.has_header and t.feature_names == ("column_1", "column_2") and t.target_column == "column_3"
    assert t.X.shape == (4, 2) and t.line_numbers.tolist() == [1, 2, 3, 4]


def test_choice_of_target_column(tmp_path):
    t = read_csv(write(tmp_path, "label,a,b\nx,1,2\ny,3,4\nx,5,6\ny,7,8\n"), target_column="label")
    assert t.feature_names == ("a", "b") and t.y.tolist() == [0, 1, 0, 1]
    assert t.X[:, 0].tolist() == [1, 3, 5, 7]


def test_integer_labels_sort_numerically(tmp_path):
    t = read_csv(write(tmp_path, "a,label\n1,10\n2,2\n3,10\n4,2\n5,9\n6,9\n"))
    assert t.task == "classification" and t.class_names == ("2", "9", "10")
    assert t.y.tolist() == [2, 0, 2, 0, 1, 1]
    assert "3 distinct integer values: read as class labels" in t.warnings[0]


def test_auto_rule_many_integer_values_is_regression(tmp_path):
    rows = "".join(f"{i},{i * 3}\n" for i in range(AUTO_MAX_CLASSES + 1))
    t = read_csv(write(tmp_path, "a,target\n" + rows))
    assert t.task == "regression" and t.y.dtype == np.float32 and t.y.shape == (AUTO_MAX_CLASSES + 1, 1)
    assert t.class_names == () and t.n_classes == 0


def test_auto_rule_fractional_values_is_regression(tmp_path):
    t = read_csv(write(tmp_path, "a,target\n1,0.5\n2,1.5\n3,0.5\n4,1.5\n"))
    assert t.task == "regression" and t.y[:, 0].tolist() == [0.5, 1.5, 0.5, 1.5]


def test_forced_tasks(tmp_path):
    p = write(tmp_path, "a,target\n1,1\n2,2\n3,1\n4,2\n")
    assert read_csv(p).task == "classification"
    t = read_csv(p, task="regression")
    assert t.task == "regression" and t.y[:, 0].tolist() == [1, 2, 1, 2] and t.warnings == ()
    t = read_csv(write(tmp_path, "a,target\n1,0.5\n2,1.5\n3,0.5\n4,1.5\n", "f.csv"), task="classification")
    assert t.task == "classification" and t.class_names == ("0.5", "1.5")


def test_gzip_file_is_read(tmp_path):
    p = tmp_path / "d.csv.gz"
    p.write_bytes(gzip.compress(GOOD.encode()))
    assert read_csv(p).X.shape == (4, 2)


def test_file_sha256(tmp_path):
    p = write(tmp_path, GOOD)
    assert file_sha256(p) == hashlib.sha256(GOOD.encode()).hexdigest()
    with pytest.raises(DataError):
        file_sha256(tmp_path / "missing.csv")


# --- fuzz: nothing but DataError ever escapes ---------------------------------------------------
CELLS = st.sampled_from(["1", "2.5", "-3e2", "", "NA", "x", "y", '"a,b"', '"q""q"', "inf", "1e999", " 7 ", "\u00e9"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=5), min_size=0, max_size=8),
    delim=st.sampled_from([",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    task=st.sampled_from(["auto", "classification", "regression"]),
)
def test_any_csv_like_text_gives_a_table_or_a_data_error(rows, delim, newline, task):
    text = newline.join(delim.join(r) for r in rows)
    try:
        t = parse_csv_bytes(text.encode(), None, task)
    except DataError as exc:
        assert str(exc)
    else:  # missing feature values are NaN (counted), nothing else is non-finite
        assert t.X.dtype == np.float32 and not np.isinf(t.X).any() and t.X.shape[0] == t.y.shape[0] >= 4
        assert int(np.isnan(t.X).sum()) == t.missing_values


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_table_or_a_data_error(data):
    try:
        parse_csv_bytes(data)
    except DataError:
        pass


def test_string_labels_map_to_indices_in_sorted_order_not_first_appearance(tmp_path):
    t = read_csv(write(tmp_path, "a,label\n1,zebra\n2,ant\n3,moth\n4,zebra\n5,ant\n6,moth\n"))
    assert t.class_names == ("ant", "moth", "zebra")
    assert t.y.tolist() == [2, 0, 1, 2, 0, 1]
