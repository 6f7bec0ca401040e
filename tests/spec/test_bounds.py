"""Bounds that agree with each other, and are enforced before the memory they protect is spent.

* ``workbench.limits``: the numbers agree with the schema, with what the engine produces
  and with the bytes the file writer really writes (measured on ``dumps`` output);
* every bound of the raw document: a hostile file is refused naming the JSON path, in
  bounded CPU time and memory, in a child process under ``RLIMIT_AS`` -- so an
  over-allocation shows as a MemoryError or an abort there, never as a slow machine.
  Before the pre-pass these files took 0.35-1.2 GB and 1.2-8 s each (or a MemoryError).
"""

from __future__ import annotations

import ast
import base64
import json
import re
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workbench import experiment_file as ef
from workbench import limits as L
from workbench import spec as S
from workbench.files import json_bounds

ROOT = Path(__file__).resolve().parents[2]
RLIMIT_AS = 1536 << 20  # 1.5 GiB of address space for the child: numpy and pydantic need ~160 MB
MAX_CPU_SECONDS = 1.0  # per hostile file (before: 1.2-8 s)
MAX_GROWTH_MIB = 200  # peak RSS above the child's baseline (before: 300-1200 MiB)


def _max_len(cls, field):
    return next(m.max_length for m in cls.__pydantic_fields__[field].metadata if hasattr(m, "max_length"))


def _le(cls, field):
    return next(m.le for m in cls.__pydantic_fields__[field].metadata if hasattr(m, "le"))


# ---------------------------------------------------------------------------
# The limits module


def test_limits_imports_nothing_and_documents_every_constant():
    tree = ast.parse((ROOT / "workbench" / "limits.py").read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [getattr(n, "module", None) for n in imports] == ["__future__"]
    body = tree.body
    names = []
    for i, node in enumerate(body):
        if isinstance(node, ast.Assign):
            name = node.targets[0].id
            names.append(name)
            doc = body[i + 1] if i + 1 < len(body) else None
            assert isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant), f"{name} has no docstring"
            assert "\n" not in doc.value.value.strip(), f"{name}: the docstring is one line"
    assert len(names) >= 30 and all(n.isupper() for n in names)


# Bounds still defined where they are used, until those modules import them (ui/plots is
# being reworked elsewhere): each must equal its constant in limits.py.  (The playground's
# MAX_RUNS is another thing: the toy runs it overlays, one per colour.)
_COPIES = {
    ("workbench/ui/plots/overlays.py", "MAX_LABELLED_MARKERS"): "MAX_LABELLED_MARKERS",
    ("workbench/ui/plots/stack_series.py", "MAX_POINTS"): "MAX_STACK_POINTS",
}
_OTHER_MEANING = {("workbench/ui/playground/model.py", "MAX_RUNS")}


def test_no_module_but_limits_defines_a_bound():
    """A bound is defined once: no module assigns a name of limits.py (or the private names
    the bounds had before they moved there), but the copies listed above, equal to it."""
    names = {n for n in vars(L) if n.isupper()}
    found = []
    for path in sorted((ROOT / "workbench").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "workbench/limits.py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for t in targets:
                if isinstance(t, ast.Name) and ((rel, t.id) in _COPIES or t.id.lstrip("_") in names):
                    found.append((rel, t.id, node.value))
    for rel, name, value in found:
        if (rel, name) in _COPIES:
            assert ast.literal_eval(value) == getattr(L, _COPIES[rel, name]), (rel, name)
    assert {(rel, name) for rel, name, _ in found} <= set(_COPIES) | _OTHER_MEANING


def test_the_schema_reads_the_limits():
    assert len(S.HISTORY_COLUMNS) == L.MAX_HISTORY_COLUMNS == 11
    assert _max_len(S.RunResult, "markers") == L.MAX_MARKERS == 10_000
    assert _max_len(S.Marker, "text") == L.MAX_MARKER_TEXT
    assert _le(S.WeightsBlob, "n_params") == L.MAX_PARAMETERS
    # the base64 of MAX_PARAMETERS float32 values: 4 characters per 3 bytes, padded
    assert _max_len(S.WeightsBlob, "data_b64") == L.MAX_WEIGHTS_B64 == len(base64.b64encode(bytes(4 * L.MAX_PARAMETERS)))
    assert L.MAX_SAVED_WEIGHTS_B64 == 53_333_336 == 4 * -(-4 * L.MAX_SAVED_PARAMETERS // 3)
    assert L.MAX_HISTORY == L.MAX_EPOCHS  # one phase of a run: the follow-up is a second history


def test_the_largest_file_written_is_smaller_than_the_file_bound():
    assert L.MAX_RUN_BYTES == 2 * 11 * 100_000 * 28 + 10_000 * 3_120 + 53_333_336 == 146_133_336
    assert L.MAX_RUN_BYTES + L.MAX_OTHER_BYTES <= L.MAX_FILE_BYTES == 141 * 2**20
    assert L.MAX_FILE_BYTES - (L.MAX_RUN_BYTES + L.MAX_OTHER_BYTES) < 2**20  # rounded up, not padded
    assert L.MAX_JSON_ELEMENTS == 2 * 11 * 100_000 + 4 * 10_000 + 65 * 1_000


def test_weights_of_the_largest_trainable_network_are_a_valid_blob_in_memory():
    """The recorder encodes the weights of every run, up to MAX_PARAMETERS; the blob's
    bound used to stop at 70 M characters (13.1 M parameters), failing the end of a run."""
    n = 14_000_000
    blob = ef.encode_weights(np.zeros(n, np.float32))
    assert blob.n_params == n and len(blob.data_b64) == 4 * -(-4 * n // 3) == 74_666_668
    result = S.RunResult(history={"epoch": (1.0,)}, weights=blob)
    assert not ef.weights_fit(n) and result.weights.n_params == n


def _history(n_rows: int, value: float) -> dict:
    """Every column at ``value`` but the epochs (epoch numbers; 199999.0 is written in 8)."""
    return {c: (value if c != "epoch" else 199_999.0,) * n_rows for c in S.HISTORY_COLUMNS}


def _size(spec=S.ExperimentSpec(), **result) -> int:
    return len(ef.dumps(spec, S.RunResult(**result) if result else None).encode("utf-8"))


def test_a_history_number_takes_at_most_HISTORY_NUMBER_BYTES():
    longest = -2.2250738585072014e-308  # one of the longest float reprs: 24 characters
    assert len(repr(longest)) == 24
    small, large = 800, 1600
    added = _size(history=_history(large, longest)) - _size(history=_history(small, longest))
    epochs = (large - small) * (8 + 3)  # the epoch column: '199999.0' and its share of separators
    per_number = (added - epochs) / ((large - small) * (len(S.HISTORY_COLUMNS) - 1))
    assert per_number == 27.55  # 24 + ', ' + (10 indent + ',\n' - ', ') / 8 ... (and one line break of 20)
    assert per_number <= L.HISTORY_NUMBER_BYTES == 28
    both = _size(history=_history(small, longest), followup_history=_history(small, longest))
    assert both - _size() <= 2 * small * len(S.HISTORY_COLUMNS) * L.HISTORY_NUMBER_BYTES + 1000


def test_a_marker_takes_at_most_MARKER_BYTES():
    worst = S.Marker("reg_change", 2 * L.MAX_EPOCHS, "\x01" * L.MAX_MARKER_TEXT)  # each written \u0001
    one = _size(history={"epoch": ()}, markers=(worst,) * 10)
    two = _size(history={"epoch": ()}, markers=(worst,) * 20)
    per_marker = (two - one) / 10
    assert 6 * L.MAX_MARKER_TEXT < per_marker <= L.MARKER_BYTES == 3_120


def test_everything_else_takes_at_most_MAX_OTHER_BYTES():
    ctrl = "\x01"  # the character written longest (6 bytes)
    spec = S.ExperimentSpec(
        name=ctrl * 200, description=ctrl * L.MAX_TEXT,
        data=S.DataSpec(source="csv", name=ctrl * 200, csv_path=ctrl * 4096, target_column=ctrl * 200,
                        derived_features=("x1_sq", "x2_sq", "x1x2", "sin_x1", "sin_x2")),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(4096, "leaky_relu", 0.5, "pytorch_default"),) * L.MAX_LAYERS),
        schedule=S.ScheduleSpec(milestones=tuple(range(L.MAX_EPOCHS - 63, L.MAX_EPOCHS + 1))),
    )
    summary = S.EarlyStopSummary("val_accuracy", L.MAX_EPOCHS, L.MAX_EPOCHS, -2.2250738585072014e-308, True,
                                 L.MAX_EPOCHS, -2.2250738585072014e-308)
    metrics = {f"{split}_{name}_{i}": -2.2250738585072014e-308 for i, (split, name) in
               enumerate((s, n) for s in ("train", "val", "test") for n in ("accuracy", "rmse", "r2", "loss") * 6)}
    size = _size(spec, history={"epoch": ()}, early_stop=summary, final_metrics=dict(list(metrics.items())[:64]),
                 message=ctrl * 2000, wall_time=1e9, status="early_stopped")
    assert 100_000 < size <= L.MAX_OTHER_BYTES


def _maximal_spec() -> S.ExperimentSpec:
    """A spec written as long as a spec can be (control characters: 6 bytes each)."""
    ctrl = "\x01"
    return S.ExperimentSpec(
        name=ctrl * 200, description=ctrl * L.MAX_TEXT,
        data=S.DataSpec(source="csv", name=ctrl * 200, csv_path=ctrl * 4096, target_column=ctrl * 200,
                        derived_features=("x1_sq", "x2_sq", "x1x2", "sin_x1", "sin_x2")),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(4096, "leaky_relu", 0.5, "pytorch_default"),) * L.MAX_LAYERS),
        schedule=S.ScheduleSpec(milestones=tuple(range(L.MAX_EPOCHS - 63, L.MAX_EPOCHS + 1))),
    )


def _maximal_extras() -> dict:
    """A result's fields besides histories, markers and weights, as long as they can be."""
    longest = -2.2250738585072014e-308
    summary = S.EarlyStopSummary("val_accuracy", L.MAX_EPOCHS, L.MAX_EPOCHS, longest, True, L.MAX_EPOCHS, longest)
    metrics = {f"{split}_{name}_{i}": longest for i, (split, name) in
               enumerate((s, n) for s in ("train", "val", "test") for n in ("accuracy", "rmse", "r2", "loss") * 6)}
    return dict(early_stop=summary, final_metrics=dict(list(metrics.items())[:L.MAX_FINAL_METRICS]),
                message="\x01" * 2000, wall_time=1e9, status="early_stopped", markers_left_out=10 * L.MAX_EPOCHS)


def test_one_run_besides_its_histories_markers_and_weights_takes_at_most_RUN_OTHER_BYTES():
    spec = _maximal_spec()
    run = S.SavedRun(name="\x01" * 200, spec=spec, result=S.RunResult(history={"epoch": ()}, **_maximal_extras()),
                     parent=0, group="\x01" * 200, color=1023, pinned=True)
    one = len(ef.dumps(spec, runs=(run,), current=0).encode("utf-8"))
    two = len(ef.dumps(spec, runs=(run, run), current=0).encode("utf-8"))
    assert 100_000 < two - one <= L.RUN_OTHER_BYTES == 128 * 1024  # measured: about 113 kB
    assert len(ef.dumps(spec).encode("utf-8")) <= L.RUN_OTHER_BYTES  # the experiment's own spec


def test_the_runs_of_a_file_share_its_budget_and_fit_it_without_weights():
    assert L.MAX_FILE_HISTORY == 2 * 11 * 100_000 == 2_200_000  # one maximal run's, for all runs together
    assert L.MAX_FILE_MARKERS == L.MAX_MARKERS == 10_000
    assert L.MAX_JSON_ELEMENTS == L.MAX_FILE_HISTORY + 4 * L.MAX_FILE_MARKERS + (L.MAX_RUNS + 1) * 1_000
    assert L.MAX_JSON_CONTAINERS == L.MAX_FILE_MARKERS + (L.MAX_RUNS + 1) * L.RUN_CONTAINERS == 16_500
    assert L.MAX_FILE_BYTES_WITHOUT_WEIGHTS == 2_200_000 * 28 + 10_000 * 3_120 + 65 * 131_072 == 101_319_680
    assert L.MAX_FILE_BYTES_WITHOUT_WEIGHTS <= L.MAX_FILE_BYTES  # leaving weights out always makes room
    # the most one run can hold fits the file alone: 100,000 epochs of 11 columns + a follow-up of 8
    from workbench.runs import history_reserve

    longest = S.ExperimentSpec(early_stopping=S.EarlyStoppingSpec(enabled=True, followup="continue"),
                               training=S.TrainingSpec(epochs=L.MAX_EPOCHS))
    assert history_reserve(longest) == 100_000 * 11 + 100_000 * 8 == 1_900_000 <= L.MAX_FILE_HISTORY


def test_the_largest_session_without_weights_is_a_file_that_passes_every_bound():
    """MAX_RUNS runs with the longest specs and extras, MAX_FILE_HISTORY numbers of the
    longest repr and MAX_FILE_MARKERS markers of the longest text between them."""
    spec, extras = _maximal_spec(), _maximal_extras()
    rows = L.MAX_FILE_HISTORY // (L.MAX_RUNS * L.MAX_HISTORY_COLUMNS)  # 3,125 rows of 11 columns per run
    assert rows * L.MAX_RUNS * L.MAX_HISTORY_COLUMNS == L.MAX_FILE_HISTORY
    history = _history(rows, -2.2250738585072014e-308)
    worst = S.Marker("reg_change", 2 * L.MAX_EPOCHS, "\x01" * L.MAX_MARKER_TEXT)
    per_run = [L.MAX_FILE_MARKERS // L.MAX_RUNS + (i < L.MAX_FILE_MARKERS % L.MAX_RUNS) for i in range(L.MAX_RUNS)]
    runs = tuple(S.SavedRun(name="\x01" * 200, spec=spec, group="\x01" * 200, parent=0,
                            result=S.RunResult(history=history, markers=(worst,) * n, **extras)) for n in per_run)
    text = ef.dumps(spec, runs=runs, current=0)  # refuses what the byte or document bounds would refuse
    size = len(text.encode("utf-8"))
    assert 0.9 * L.MAX_FILE_BYTES_WITHOUT_WEIGHTS < size <= L.MAX_FILE_BYTES_WITHOUT_WEIGHTS, size


def _maximal_document() -> str:
    """A file with every count at its bound (short numbers and texts: counts, not bytes)."""
    markers = (S.Marker("reg_change", 1, "x"),) * L.MAX_MARKERS
    metrics = {f"m{i}": 1.0 for i in range(64)}
    result = S.RunResult(history=_history(L.MAX_HISTORY, 0.5), followup_history=_history(L.MAX_HISTORY, 0.5),
                         markers=markers, final_metrics=metrics, weights=ef.encode_weights(np.zeros(3, np.float32)))
    spec = S.ExperimentSpec(architecture=S.ArchitectureSpec(layers=(S.LayerSpec(),) * L.MAX_LAYERS),
                            schedule=S.ScheduleSpec(milestones=tuple(range(1, 65))))
    return ef.dumps(spec, result)


def test_a_file_with_every_count_at_its_bound_passes_the_document_bounds():
    text = _maximal_document()
    json_bounds.bound_document(text, "max.json")  # raises if a MAX_JSON_* bound were too small
    # ... and the bounds are tight: one more value than the histories and markers hold is refused
    doc = json.loads(text)
    doc["runs"][0]["result"]["history"]["epoch"].append(1.0)
    with pytest.raises(ef.ExperimentFileError,
                       match=r"runs\.0\.result\.history\.epoch: must have at most 100000 items, got 100001"):
        json_bounds.bound_document(json.dumps(doc), "max.json")


# ---------------------------------------------------------------------------
# Hostile documents, in a child process under RLIMIT_AS

_CHILD = r"""
import json, resource, sys, time
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from workbench import experiment_file as ef
print(json.dumps({"name": "", "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)
for name, path in json.loads(sys.argv[2]):
    t = time.process_time()
    try:
        ef.load(path)
        outcome, message = "loaded", ""
    except ef.ExperimentFileError as exc:
        outcome, message = "refused", str(exc)
    except MemoryError:
        outcome, message = "MemoryError", ""
    except BaseException as exc:
        outcome, message = type(exc).__name__, str(exc)
    print(json.dumps({"name": name, "outcome": outcome, "message": message[:3000], "cpu": time.process_time() - t,
                      "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)
"""


def _base_text() -> str:
    return json.dumps(json.loads(ef.dumps(S.ExperimentSpec(), S.RunResult(history={"epoch": (1.0,)}))))


def _put(text: str, key_path: tuple, value_json: str) -> str:
    """``text`` (compact JSON) with the value at ``key_path`` set to the raw ``value_json``."""
    marker = '"__HOLE__"'
    doc = json.loads(text)
    node = doc
    for key in key_path[:-1]:
        node = node[key]
    node[key_path[-1]] = "__HOLE__"
    return json.dumps(doc).replace(marker, value_json, 1)


def _nested_tree(branching: int, levels: int) -> str:
    text = "[]"
    for _ in range(levels):
        text = "[" + ",".join([text] * branching) + "]"
    return text


# name -> (the hostile text, what the refusal must say); one per bound
HOSTILE = {
    "MAX_JSON_ARRAY (16 MB of nested empty lists where a name belongs)": (
        lambda: _put(_base_text(), ("spec", "name"), "[" + ",".join(["[]"] * 5_333_333) + "]"),
        ["spec.name: must have at most 64 items, got"]),
    "MAX_JSON_ARRAY (a 10^7-element list where a name belongs)": (
        lambda: _put(_base_text(), ("spec", "name"), "[" + ",".join(["0"] * 10_000_000) + "]"),
        ["spec.name: must have at most 64 items, got 10000000"]),
    "MAX_JSON_KEYS (4 MB of unknown keys)": (
        lambda: _put(_base_text(), ("spec", "junk"), "{" + ",".join(f'"k{i:09d}": 0' for i in range(250_000)) + "}"),
        ["spec.junk: must have at most 64 entries, got 65 or more"]),
    "MAX_JSON_STRING (a 40 MB description of escapes)": (
        lambda: _put(_base_text(), ("spec", "description"), '"' + "\\n" * 20_000_000 + '"')[:-1]
        + ', "x": ' + "[" * 70 + "]" * 70 + "}",
        ["spec.description: a string of 40,000,000 characters, more than the 120,000 allowed here"]),
    "MAX_JSON_STRING (a key of a million characters)": (
        lambda: _put(_base_text(), ("spec", "data"), '{"' + "k" * 1_000_000 + '": 1}'),
        ["spec.data: a key of 1,000,000 characters, more than the 120,000 allowed"]),
    "MAX_SAVED_WEIGHTS_B64 (a weights string longer than MAX_SAVED_PARAMETERS need)": (
        lambda: _put(_base_text(), ("runs", 0, "result", "weights"),
                     '{"n_params": 1, "data_b64": "' + "A" * (L.MAX_SAVED_WEIGHTS_B64 + 4) + '", "dtype": "<f4"}'),
        ["runs.0.result.weights.data_b64: a string of 53,333,340 characters, more than the 53,333,336 allowed here"]),
    "MAX_DEPTH (100,000 nested brackets)": (
        lambda: _put(_base_text(), ("spec", "x"), "[" * 100_000 + "]" * 100_000),
        ["spec.x.0.0.0.0.0.0.0.0.0.0...: JSON nesting is deeper than 64 levels"]),
    "MAX_HISTORY (a history column one entry too long)": (
        lambda: _put(_base_text(), ("runs", 0, "result", "history"),
                     '{"epoch": [' + ",".join(["1.0"] * (L.MAX_HISTORY + 1)) + "]}"),
        ["runs.0.result.history.epoch: must have at most 100000 items, got 100001"]),
    "MAX_MARKERS (a million markers)": (
        lambda: _put(_base_text(), ("runs", 0, "result", "markers"), "[" + ",".join(["{}"] * 1_000_000) + "]"),
        ["runs.0.result.markers: must have at most 10000 items, got"]),
    "MAX_JSON_CONTAINERS (262,144 empty lists in a tree of 64-item arrays)": (
        lambda: _put(_base_text(), ("spec", "x"), _nested_tree(64, 3)),
        ["the document has more than 16,500 arrays and objects"]),
    "MAX_JSON_STRINGS (98,304 strings in a tree of 64-item arrays)": (
        lambda: _put(_base_text(), ("spec", "x"),
                     "[" + ",".join(["[" + ",".join(['["a","b","c","d","e","f","g","h","i","j","k","l",'
                                                     '"a","b","c","d","e","f","g","h","i","j","k","l"]'] * 64) + "]"]
                                    * 64) + "]"),
        ["spec.x.", "the document has more than 89,000 strings"]),
    "MAX_JSON_KEYS_TOTAL (1,116 objects of 60 keys)": (
        lambda: _put(_base_text(), ("spec", "x"),
                     "[" + ",".join(["[" + ",".join(["{" + ",".join(f'"k{i}": 1' for i in range(60)) + "}"] * 18)
                                     + "]"] * 62) + "]"),
        ["spec.x.", "the document has more than 62,500 keys"]),
    "MAX_JSON_ELEMENTS (64 history columns of 100,000 numbers)": (
        lambda: _put(_base_text(), ("runs", 0, "result", "history"),
                     "{" + ",".join(f'"c{i}": [' + ",".join(["0"] * L.MAX_HISTORY) + "]" for i in range(64)) + "}"),
        ["runs.0.result.history", "the document has more than 2,305,000 values"]),
}


@pytest.fixture(scope="module")
def hostile_outcomes(tmp_path_factory):
    """Write every hostile file, load them all in one child under RLIMIT_AS, and return
    {name: {"outcome", "message", "cpu", "growth_mib"}} (a case the child never reached is missing)."""
    folder = tmp_path_factory.mktemp("hostile")
    cases = []
    for i, (name, (build, _)) in enumerate(HOSTILE.items()):
        path = folder / f"case{i}.json"
        path.write_text(build(), encoding="utf-8")
        cases.append((name, str(path)))
    big = folder / "too_big.json"  # sparse: MAX_FILE_BYTES + 1 bytes of nothing
    with open(big, "wb") as f:
        f.truncate(L.MAX_FILE_BYTES + 1)
    cases.append(("MAX_FILE_BYTES", str(big)))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(RLIMIT_AS), json.dumps(cases)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, env=env)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, proc.stderr[-2000:]
    base = lines[0]["rss_kib"]
    outcomes = {}
    for rec in lines[1:]:
        rec["growth_mib"] = (rec["rss_kib"] - base) / 1024
        outcomes[rec["name"]] = rec
    for _, path in cases:
        os.unlink(path)
    return outcomes


@pytest.mark.parametrize("name", list(HOSTILE) + ["MAX_FILE_BYTES"])
def test_a_hostile_document_is_refused_by_name_in_bounded_time_and_memory(hostile_outcomes, name):
    assert name in hostile_outcomes, "the child died before this case (an abort?)"
    rec = hostile_outcomes[name]
    assert rec["outcome"] == "refused", rec
    expected = HOSTILE[name][1] if name in HOSTILE else [f"the file is too large: {L.MAX_FILE_BYTES + 1} bytes"]
    for text in expected:
        assert text in rec["message"], rec["message"][:500]
    assert len(rec["message"]) < 1000
    assert rec["cpu"] < MAX_CPU_SECONDS, rec
    assert rec["growth_mib"] < MAX_GROWTH_MIB, rec


def test_the_hostile_cases_are_distinct_and_cover_every_document_bound():
    covered = {name.split(" ")[0] for name in HOSTILE}
    assert covered == {"MAX_JSON_ARRAY", "MAX_JSON_KEYS", "MAX_JSON_STRING", "MAX_SAVED_WEIGHTS_B64", "MAX_DEPTH",
                       "MAX_HISTORY", "MAX_MARKERS", "MAX_JSON_CONTAINERS", "MAX_JSON_STRINGS",
                       "MAX_JSON_KEYS_TOTAL", "MAX_JSON_ELEMENTS"}
    assert {n for n in dir(L) if n.startswith("MAX_JSON_")} <= covered


def test_a_file_naming_more_weights_than_a_file_stores_is_refused():
    doc = json.loads(_base_text())
    doc["runs"][0]["result"]["weights"] = {"n_params": L.MAX_SAVED_PARAMETERS + 1, "data_b64": "AAAA", "dtype": "<f4"}
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.loads(json.dumps(doc))
    assert str(info.value) == ("runs.0.result.weights.n_params: must be <= 10000000 (the most weights a file stores), "
                               "got 10000001")


def test_the_readme_lists_every_bound():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Experiment files", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([A-Z_0-9]+)` \|", section, re.M))
    constants = {name for name in vars(L) if name.isupper()}
    assert constants <= listed, sorted(constants - listed)
