"""Property tests: whatever text arrives, loads either succeeds or raises
ExperimentFileError, and what it accepts it writes back unchanged."""

import copy
import json

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from workbench import experiment_file as ef
from workbench import spec as S

FUZZ = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
QUICK = settings(FUZZ, max_examples=100)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()  # NaN and +-inf too: json.dumps writes them as NaN / Infinity
    | st.text(max_size=20)
    | st.sampled_from(["adam", "sgd", "relu", "csv", "plateau", "train_loss", "epoch", "<f4", "", "mlp-workbench-experiment"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=15,
)
small_json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _valid_doc() -> dict:
    result = S.RunResult(
        history={"epoch": (1.0, 2.0), "train_loss": (0.5, 0.25), "val_accuracy": (None, 0.75)},
        markers=(S.Marker("lr_change", 1, "x"),),
        early_stop=S.EarlyStopSummary("val_loss", 1, 2, 0.3, True),
        final_metrics={"train_loss": 0.25},
        followup_history={"epoch": (1.0,)},
        weights=ef.encode_weights(np.arange(3, dtype=np.float32)),
    )
    spec = S.ExperimentSpec(
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(8, "relu", 0.1), S.LayerSpec(4, "elu"))),
        schedule=S.ScheduleSpec(kind="multistep", milestones=(10, 20)),
        early_stopping=S.EarlyStoppingSpec(enabled=True),
    )
    return json.loads(ef.dumps(spec, result))


VALID = _valid_doc()


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(VALID) if p]


def _check(text):
    """loads succeeds or raises ExperimentFileError (nothing else); accepted documents
    survive a second round trip unchanged."""
    try:
        exp = ef.loads(text)
    except ef.ExperimentFileError as exc:
        assert exc.errors, "an error without any message"
        assert str(exc)
        return None
    again = ef.dumps(exp.spec, exp.result)
    exp2 = ef.loads(again)
    assert exp2.spec == exp.spec and exp2.result == exp.result
    assert ef.dumps(exp2.spec, exp2.result) == again
    return exp


def test_the_mutation_base_is_valid():
    assert _check(json.dumps(VALID)) is not None
    assert len(PATHS) > 100


@FUZZ
@given(json_values)
def test_random_json_values(value):
    _check(json.dumps(value))


@FUZZ
@given(json_values)
def test_random_json_as_spec(value):
    _check(json.dumps({"format": ef.FORMAT_ID, "version": 1, "spec": value}))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.booleans(), small_json_values), min_size=1, max_size=3))
def test_mutations_of_a_valid_document(mutations):
    doc = copy.deepcopy(VALID)
    for path, delete, value in mutations:
        node = doc
        try:
            for key in path[:-1]:
                node = node[key]
            if delete:
                del node[path[-1]]
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    _check(json.dumps(doc))


@QUICK
@given(st.sampled_from(PATHS), json_scalars)
def test_scalar_replacements_keep_the_path_in_the_message(path, value):
    doc = copy.deepcopy(VALID)
    node = doc
    for key in path[:-1]:
        node = node[key]
    assume(node[path[-1]] != value or type(node[path[-1]]) is not type(value))
    node[path[-1]] = value
    try:
        ef.loads(json.dumps(doc))
    except ef.ExperimentFileError as exc:
        # Some error names the changed field, an object enclosing it, or (for a rule
        # across fields, e.g. weights.n_params vs weights.data_b64) a sibling of it.
        full = ".".join(str(k) for k in path)
        parent = ".".join(str(k) for k in path[:-1])
        paths = [p for p, _ in exc.errors]
        assert any(
            p == full or full.startswith(p + ".") or (parent and (p == parent or p.startswith(parent + ".")))
            for p in paths
        ), (full, value, str(exc))


@QUICK
@given(st.text(max_size=200))
def test_random_text(text):
    _check(text)


@QUICK
@given(st.binary(max_size=200))
def test_random_bytes(data):
    _check(data)


@QUICK
@given(st.integers(min_value=0, max_value=4000), st.sampled_from(["[", "{", "]", "}", '"', "\\", ",", ":", "1", "e", "N"]))
def test_single_character_damage(position, char):
    text = ef.dumps(S.ExperimentSpec())
    position = position % len(text)
    _check(text[:position] + char + text[position:])
    _check(text[:position] + text[position + 1 :])
