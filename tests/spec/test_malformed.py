"""Malformed experiment files: each is refused with an ExperimentFileError whose message
names the JSON path (or, for unparsable text, the line and column) and the bad value."""

import base64
import json

import numpy as np
import pytest

from workbench import experiment_file as ef
from workbench import spec as S
from workbench.files import json_bounds


def _valid_doc() -> dict:
    result = S.RunResult(
        history={"epoch": (1.0, 2.0, 3.0), "train_loss": (0.9, 0.5, 0.4), "val_loss": (1.0, None, 0.6)},
        markers=(S.Marker("plateau", 2, "lr halved"),),
        weights=ef.encode_weights(np.arange(6, dtype=np.float32)),
    )
    return json.loads(ef.dumps(S.ExperimentSpec(), result))


def _edit(change):
    """A case built by changing a valid document (a dict) in place."""

    def build():
        doc = _valid_doc()
        change(doc)
        return json.dumps(doc)

    return build


def _text(text):
    return lambda: text


def _valid_text_with(old, new):
    def build():
        text = ef.dumps(S.ExperimentSpec(), S.RunResult(history={"epoch": (1.0,)}))
        assert old in text
        return text.replace(old, new, 1)

    return build


def _set(path, value):
    def change(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return _edit(change)


def _delete(*path):
    def change(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return _edit(change)


_LAYER = {"units": 16, "activation": "relu", "dropout": 0.0, "init": "he_uniform"}

CASES = {
    # -- not a document at all
    "not JSON": (_text('{"format": "mlp-workbench-experiment",\n  "version": 1,\n  spec: {}}'), ["not valid JSON at line 3, column 3: Expecting property name"]),
    "truncated": (lambda: ef.dumps(S.ExperimentSpec())[:300], ["not valid JSON", "line "]),
    "trailing garbage": (lambda: ef.dumps(S.ExperimentSpec()) + "}", ["not valid JSON", "Extra data"]),
    "empty file": (_text(""), ["empty"]),
    "only whitespace": (_text(" \n\t\n"), ["empty"]),
    "top-level list": (_text("[]"), ["top level", "an array"]),
    "top-level string": (_text('"mlp-workbench-experiment"'), ["top level", "a string"]),
    "top-level null": (_text("null"), ["top level", "null"]),
    "non-UTF-8 bytes": (lambda: ef.dumps(S.ExperimentSpec(name="Gr\u00fc\u00dfe")).encode("latin-1"), ["not UTF-8", "0xfc", "offset"]),
    "UTF-16 bytes": (lambda: ef.dumps(S.ExperimentSpec()).encode("utf-16"), ["not UTF-8"]),
    # -- the envelope
    "missing format": (_delete("format"), ["format: required key is missing"]),
    "wrong format id": (_set(["format"], "keras-model"), ["format: must be 'mlp-workbench-experiment', got 'keras-model'"]),
    "format not a string": (_set(["format"], [1]), ["format:", "an array"]),
    "missing version": (_delete("version"), ["version: required key is missing"]),
    "version string": (_set(["version"], "1"), ["version: must be an integer, got '1'"]),
    "version float": (_set(["version"], 1.0), ["version: must be an integer, got 1.0"]),
    "version bool": (_set(["version"], True), ["version: must be an integer, got True"]),
    "version too new": (_set(["version"], 7), ["version: version 7 is newer than this program supports (2)"]),
    "version without migration": (_set(["version"], 0), ["version: version 0 files cannot be read"]),
    "negative version": (_set(["version"], -3), ["version: version -3 files cannot be read"]),
    "spec missing": (_delete("spec"), ["spec: required key is missing"]),
    "spec not an object": (_set(["spec"], [1, 2]), ["spec:", "[1, 2]"]),
    "unknown top-level key": (_set(["weights"], {}), ["weights: unknown key"]),
    "result not an object": (_set(["runs", 0, "result"], "done"), ["runs.0.result:", "'done'"]),
    "runs not an array": (_set(["runs"], {"a": 1}), ["runs:", "array"]),
    "current out of range": (_set(["current"], 3), ["current: must be the index of one of the 1 runs or null, got 3"]),
    # -- the spec
    "unknown nested key": (_set(["spec", "optimizer", "foo"], 1), ["spec.optimizer.foo: unknown key"]),
    "unknown spec section": (_set(["spec", "callbacks"], []), ["spec.callbacks: unknown key"]),
    "negative lr": (_set(["spec", "optimizer", "lr"], -0.1), ["spec.optimizer.lr: must be > 0.0, got -0.1"]),
    "lr as string": (_set(["spec", "optimizer", "lr"], "0.1"), ["spec.optimizer.lr:", "'0.1'"]),
    "lr null": (_set(["spec", "optimizer", "lr"], None), ["spec.optimizer.lr:", "None"]),
    "unknown optimizer": (_set(["spec", "optimizer", "kind"], "lion"), ["spec.optimizer.kind:", "'lion'"]),
    "nesterov without momentum": (
        _edit(lambda d: d["spec"]["optimizer"].update(kind="nesterov", momentum=0.0)),
        ["spec.optimizer", "nesterov requires momentum > 0"],
    ),
    "layers not a list": (_set(["spec", "architecture", "layers"], {"units": 4}), ["spec.architecture.layers:", "array"]),
    "too many layers (33)": (_set(["spec", "architecture", "layers"], [_LAYER] * 33), ["spec.architecture.layers:", "at most 32", "33"]),
    "a million layers": (_set(["spec", "architecture", "layers"], [0] * 1_000_000), ["spec.architecture.layers: must have at most 32 items, got 1000000"]),
    "layer not an object": (_set(["spec", "architecture", "layers"], [16]), ["spec.architecture.layers.0:", "16"]),
    "units 0": (_set(["spec", "architecture", "layers", 0, "units"], 0), ["spec.architecture.layers.0.units: must be >= 1, got 0"]),
    "units 10^9": (_set(["spec", "architecture", "layers", 1, "units"], 10**9), ["spec.architecture.layers.1.units: must be <= 4096, got 1000000000"]),
    "units 10^30": (_set(["spec", "architecture", "layers", 1, "units"], 10**30), ["spec.architecture.layers.1.units:"]),
    "units as float": (_set(["spec", "architecture", "layers", 0, "units"], 16.0), ["spec.architecture.layers.0.units:", "16.0"]),
    "units with 5000 digits": (_valid_text_with('"units": 16', '"units": ' + "9" * 5000), ["spec.architecture.layers.0.units", "5000 digits"]),
    "unknown activation": (_set(["spec", "architecture", "layers", 0, "activation"], "swish"), ["spec.architecture.layers.0.activation:", "'swish'"]),
    "unknown init": (_set(["spec", "architecture", "output_init"], "orthogonal"), ["spec.architecture.output_init:", "'orthogonal'"]),
    "dropout 1.5": (_set(["spec", "architecture", "layers", 0, "dropout"], 1.5), ["spec.architecture.layers.0.dropout: must be <= 0.95, got 1.5"]),
    "epochs 10^9": (_set(["spec", "training", "epochs"], 10**9), ["spec.training.epochs: must be <= 100000, got 1000000000"]),
    "batch 0": (_set(["spec", "training", "batch_size"], 0), ["spec.training.batch_size: must be >= 1, got 0"]),
    "seed negative": (_set(["spec", "training", "seed"], -1), ["spec.training.seed: must be >= 0, got -1"]),
    "bool as int": (_set(["spec", "data", "stratify"], 1), ["spec.data.stratify:", "1"]),
    "val+test fractions > 0.9": (
        _edit(lambda d: d["spec"]["data"].update(val_fraction=0.5, test_fraction=0.5)),
        ["spec.data:", "val_fraction + test_fraction must be <= 0.9, got 1"],
    ),
    "early stopping without validation": (
        _edit(lambda d: (d["spec"]["early_stopping"].update(enabled=True), d["spec"]["data"].update(val_fraction=0.0))),
        ["spec.data.val_fraction: must be > 0"],
    ),
    "csv without path": (_set(["spec", "data", "source"], "csv"), ["spec.data:", "csv_path is required"]),
    "bad csv sha": (_set(["spec", "data", "csv_sha256"], "xyz"), ["spec.data.csv_sha256:", "'xyz'"]),
    "milestones decreasing": (_set(["spec", "schedule", "milestones"], [20, 10]), ["spec.schedule:", "milestones must be strictly increasing"]),
    "huge milestones list": (_set(["spec", "schedule", "milestones"], ["x"] * 100_000), ["spec.schedule.milestones: must have at most 64 items, got 100000"]),
    "name too long": (_set(["spec", "name"], "n" * 201), ["spec.name:"]),
    # -- JSON extensions Python would accept
    "NaN literal": (_valid_text_with('"lr": 0.01', '"lr": NaN'), ["spec.optimizer.lr: NaN is not allowed"]),
    "Infinity literal": (_valid_text_with('"momentum": 0.9', '"momentum": Infinity'), ["spec.optimizer.momentum: Infinity is not allowed"]),
    "-Infinity literal": (_valid_text_with('"l2": 0.0', '"l2": -Infinity'), ["spec.regularization.l2: -Infinity is not allowed"]),
    "NaN in history": (_valid_text_with('"epoch": [1.0]', '"epoch": [NaN]'), ["runs.0.result.history.epoch.0: NaN is not allowed"]),
    "overflowing number": (_valid_text_with('"lr": 0.01', '"lr": 1e999'), ["spec.optimizer.lr: number out of range, got inf"]),
    "overflowing history number": (_valid_text_with('"epoch": [1.0]', '"epoch": [-1e400]'), ["runs.0.result.history.epoch.0: number out of range, got -inf"]),
    "duplicate key": (_valid_text_with('"lr": 0.01,', '"lr": 0.01, "lr": 10.0,'), ["spec.optimizer.lr: duplicate key"]),
    "duplicate top-level key": (_valid_text_with('"version": 2,', '"version": 2, "version": 2,'), ["version: duplicate key"]),
    "deep nesting (10 000 lists)": (_text("[" * 10_000 + "]" * 10_000), ["nesting is deeper than 64"]),
    "deep nesting (100 000 unclosed)": (_text("[" * 100_000), ["nesting is deeper than 64"]),
    "deep nesting inside the spec": (_valid_text_with('"description": ""', '"description": ' + "[" * 5000 + "]" * 5000), ["nesting is deeper than 64"]),
    "deep objects": (_text('{"a":' * 3000 + "1" + "}" * 3000), ["nesting is deeper than 64"]),
    # -- results
    "weights blob with wrong length": (
        _edit(lambda d: d["runs"][0]["result"]["weights"].update(n_params=7)),
        ["runs.0.result.weights.data_b64: holds 24 bytes, but n_params 7 needs 28"],
    ),
    "weights not base64": (_edit(lambda d: d["runs"][0]["result"]["weights"].update(data_b64="AAAA*AAA")), ["runs.0.result.weights.data_b64:", "base64"]),
    "weights other dtype": (_edit(lambda d: d["runs"][0]["result"]["weights"].update(dtype="<f8")), ["runs.0.result.weights.dtype:", "'<f8'"]),
    "weights negative n_params": (_edit(lambda d: d["runs"][0]["result"]["weights"].update(n_params=-1)), ["runs.0.result.weights.n_params: must be >= 0, got -1"]),
    "history columns of unequal length": (
        _edit(lambda d: d["runs"][0]["result"]["history"].update(val_loss=[1.0])),
        ["runs.0.result.history: columns must have equal lengths, got [1, 3]"],
    ),
    "history epoch astronomically large (QA: broke the curves)": (
        _edit(lambda d: d["runs"][0]["result"]["history"].update(epoch=[1.0, 2.0, 1e300])),
        ["runs.0.result.history.epoch: entry 2 must be an epoch number from 0 to 200000, got 1e+300"],
    ),
    "history epoch negative": (
        _edit(lambda d: d["runs"][0]["result"]["history"].update(epoch=[-3.0, 2.0, 3.0])),
        ["runs.0.result.history.epoch: entry 0 must be an epoch number"],
    ),
    "history epoch null": (
        _edit(lambda d: d["runs"][0]["result"]["history"].update(epoch=[1.0, None, 3.0])),
        ["runs.0.result.history.epoch: entry 1 must be an epoch number", "got None"],
    ),
    "unknown history column": (_edit(lambda d: d["runs"][0]["result"]["history"].update(gradient_norm=[1, 2, 3])), ["runs.0.result.history.gradient_norm: unknown column"]),
    "history value a string": (_edit(lambda d: d["runs"][0]["result"]["history"].update(train_loss=[0.9, "0.5", 0.4])), ["runs.0.result.history.train_loss.1: must be a number or null, got '0.5'"]),
    "history value a bool": (_edit(lambda d: d["runs"][0]["result"]["history"].update(train_loss=[0.9, True, 0.4])), ["runs.0.result.history.train_loss.1:", "True"]),
    "history not an object": (_set(["runs", 0, "result", "history"], [[1.0]]), ["runs.0.result.history:"]),
    "history missing": (_edit(lambda d: d["runs"][0]["result"].pop("history")), ["runs.0.result.history: required key is missing"]),
    "history too long": (_edit(lambda d: d["runs"][0]["result"]["history"].update(epoch=[1.0] * (S.MAX_HISTORY + 1))), ["runs.0.result.history.epoch: must have at most"]),
    "unknown marker kind": (_edit(lambda d: d["runs"][0]["result"]["markers"][0].update(kind="party")), ["runs.0.result.markers.0.kind:", "'party'"]),
    "unknown result key": (_set(["runs", 0, "result", "optimizer_state"], {}), ["runs.0.result.optimizer_state: unknown key"]),
    "bad status": (_set(["runs", 0, "result", "status"], "crashed"), ["runs.0.result.status:", "'crashed'"]),
    "negative wall time": (_set(["runs", 0, "result", "wall_time"], -1.0), ["runs.0.result.wall_time: must be >= 0.0, got -1.0"]),
    "too many metrics": (_set(["runs", 0, "result", "final_metrics"], {f"m{i}": 1.0 for i in range(65)}), ["runs.0.result.final_metrics: must have at most 64 entries, got 65"]),
    "metric a string": (_set(["runs", 0, "result", "final_metrics"], {"loss": "low"}), ["runs.0.result.final_metrics.loss:", "'low'"]),
    "early stop missing field": (_set(["runs", 0, "result", "early_stop"], {"monitor": "val_loss"}), ["runs.0.result.early_stop.best_epoch: required key is missing"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_file_is_refused_naming_the_problem(name):
    build, expected = CASES[name]
    data = build()
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.loads(data, source="case.json")
    message = str(info.value)
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert info.value.source == "case.json"
    assert info.value.errors and all(isinstance(p, str) and isinstance(m, str) for p, m in info.value.errors)
    assert len(message) < 5000


def test_there_are_many_distinct_cases():
    assert len(CASES) >= 24
    texts = {repr(build()) for build, _ in CASES.values()}
    assert len(texts) == len(CASES)


def test_the_base_document_is_valid():
    doc = _valid_doc()
    exp = ef.loads(json.dumps(doc))
    assert exp.result.history["val_loss"] == (1.0, None, 0.6)
    assert ef.decode_weights(exp.result.weights).tolist() == [0, 1, 2, 3, 4, 5]
    assert base64.b64decode(doc["runs"][0]["result"]["weights"]["data_b64"]) == np.arange(6, dtype="<f4").tobytes()


def test_all_errors_of_a_document_are_reported():
    doc = _valid_doc()
    doc["spec"]["optimizer"]["lr"] = -1.0
    doc["spec"]["training"]["batch_size"] = 0
    doc["runs"][0]["result"]["status"] = "crashed"
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.loads(json.dumps(doc))
    assert [p for p, _ in info.value.errors] == ["spec.optimizer.lr", "spec.training.batch_size", "runs.0.result.status"]


def test_oversize_text_is_refused_before_parsing(monkeypatch):
    text = ef.dumps(S.ExperimentSpec())
    monkeypatch.setattr(ef, "MAX_FILE_BYTES", len(text) - 1)
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed an oversize file"))
    for data in (text, text.encode("utf-8")):
        with pytest.raises(ef.ExperimentFileError, match=f"too large: {len(text)} bytes, the limit is {len(text) - 1}"):
            ef.loads(data)


def test_oversize_file_is_refused_before_reading(monkeypatch, tmp_path):
    path = tmp_path / "big.json"
    path.write_text(ef.dumps(S.ExperimentSpec()), encoding="utf-8")
    size = path.stat().st_size
    monkeypatch.setattr(ef, "MAX_FILE_BYTES", size - 1)
    with pytest.raises(ef.ExperimentFileError, match=f"too large: {size} bytes") as info:
        ef.load(path)
    assert info.value.source == str(path)
    monkeypatch.setattr(ef, "MAX_FILE_BYTES", size)
    assert ef.load(path).spec == S.ExperimentSpec()


def test_depth_limit_is_adjustable_and_brackets_in_strings_do_not_count(monkeypatch):
    text = ef.dumps(S.ExperimentSpec(description="[[[[[[[[[[[[{{{{{{{{{{{{" * 10))
    monkeypatch.setattr(json_bounds, "MAX_DEPTH", 5)  # top > spec > architecture > layers > layer
    assert ef.loads(text).spec.description.startswith("[[[[")
    monkeypatch.setattr(json_bounds, "MAX_DEPTH", 4)
    with pytest.raises(ef.ExperimentFileError, match="deeper than 4 levels"):
        ef.loads(text)


def test_escaped_quotes_do_not_hide_brackets():
    # the string ends after \\ so the brackets that follow are real nesting
    text = '{"format": "a\\\\", "x": ' + "[" * 100 + "]" * 100 + "}"
    with pytest.raises(ef.ExperimentFileError, match="nesting is deeper"):
        ef.loads(text)


def test_raw_lone_surrogate_in_str_is_refused_with_its_path():
    text = ef.dumps(S.ExperimentSpec()).replace('"name": "Two spirals"', '"name": "Two \ud800"')
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.loads(text)
    assert str(info.value) == "spec.name: contains an unpaired surrogate \\ud800"


def test_a_migration_that_returns_odd_data_is_a_file_error(monkeypatch):
    doc = _valid_doc()
    doc["version"] = 0

    def circular(d):
        d["spec"]["description"] = d["spec"]  # a buggy migration: a cycle
        return d

    monkeypatch.setitem(ef.MIGRATIONS, 0, circular)
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.loads(json.dumps(doc))
    assert "spec.description" in str(info.value) and "nesting" in str(info.value)


def test_some_other_json_file_is_named_as_such():
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.loads('{"class_name": "Sequential", "config": {"layers": []}, "keras_version": "2.4"}')
    assert str(info.value) == "format: required key is missing (expected 'mlp-workbench-experiment')"
