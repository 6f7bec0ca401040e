"""workbench.spec: defaults, bounds, whole-object checks and error messages naming paths."""

import dataclasses
import math

import pytest

from workbench import spec as S


def test_defaults_are_valid_and_round_trip_through_plain_data():
    spec = S.ExperimentSpec()
    plain = S.to_plain(spec)
    assert plain["optimizer"]["lr"] == 0.01
    assert plain["architecture"]["layers"][0] == {
        "units": 16,
        "activation": "tanh",
        "dropout": 0.0,
        "init": "xavier_uniform",
    }
    assert list(plain) == [f.name for f in dataclasses.fields(S.ExperimentSpec)]
    assert S.parse(S.ExperimentSpec, plain) == spec


def test_specs_are_frozen():
    spec = S.ExperimentSpec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.optimizer.lr = 1.0  # type: ignore[misc]


def test_parse_error_names_path_and_value():
    with pytest.raises(S.SpecError) as info:
        S.parse(S.ExperimentSpec, {"optimizer": {"lr": -0.1}})
    assert str(info.value) == "optimizer.lr: must be > 0.0, got -0.1"
    assert info.value.errors == [("optimizer.lr", "must be > 0.0, got -0.1")]
    assert info.value.first_line == "optimizer.lr: must be > 0.0, got -0.1"
    assert isinstance(info.value, ValueError)


def test_parse_with_prefix_and_unknown_key():
    with pytest.raises(S.SpecError) as info:
        S.parse(S.OptimizerSpec, {"foo": 1}, prefix="optimizer")
    assert str(info.value) == "optimizer.foo: unknown key"


def test_replace_validates_and_names_field():
    opt = S.OptimizerSpec()
    assert S.replace(opt, "optimizer", lr=0.5).lr == 0.5
    with pytest.raises(S.SpecError) as info:
        S.replace(opt, "optimizer", beta1=1.0)
    assert str(info.value) == "optimizer.beta1: must be < 1.0, got 1.0"
    with pytest.raises(S.SpecError) as info:
        S.replace(S.LayerSpec(), "architecture.layers.0", activation="swish")
    assert info.value.errors[0][0] == "architecture.layers.0.activation"
    assert "'swish'" in str(info.value)


@pytest.mark.parametrize(
    "data, path",
    [
        ({"architecture": {"layers": [{}] * (S.MAX_LAYERS + 1)}}, "architecture.layers"),
        ({"architecture": {"layers": [{"units": S.MAX_UNITS + 1}]}}, "architecture.layers.0.units"),
        ({"architecture": {"layers": [{"units": 0}]}}, "architecture.layers.0.units"),
        ({"architecture": {"layers": [{"dropout": 0.96}]}}, "architecture.layers.0.dropout"),
        ({"training": {"epochs": S.MAX_EPOCHS + 1}}, "training.epochs"),
        ({"training": {"batch_size": 0}}, "training.batch_size"),
        ({"training": {"batch_size": S.MAX_BATCH + 1}}, "training.batch_size"),
        ({"training": {"seed": S.MAX_SEED + 1}}, "training.seed"),
        ({"training": {"seed": -1}}, "training.seed"),
        ({"data": {"n_samples": S.MAX_SAMPLES + 1}}, "data.n_samples"),
        ({"data": {"n_samples": 3}}, "data.n_samples"),
        ({"data": {"csv_sha256": "ABC"}}, "data.csv_sha256"),
        ({"description": "x" * (S.MAX_TEXT + 1)}, "description"),
        ({"name": ""}, "name"),
        ({"optimizer": {"eps": 0.0}}, "optimizer.eps"),
        ({"optimizer": {"lr": math.inf}}, "optimizer.lr"),
        ({"optimizer": {"lr": math.nan}}, "optimizer.lr"),
        ({"schedule": {"milestones": list(range(1, 66))}}, "schedule.milestones"),
        ({"regularization": {"l2": 101.0}}, "regularization.l2"),
        ({"regularization": {"mc_samples": 0}}, "regularization.mc_samples"),
    ],
)
def test_bounds_are_enforced(data, path):
    with pytest.raises(S.SpecError) as info:
        S.parse(S.ExperimentSpec, data)
    assert path in [p for p, _ in info.value.errors], str(info.value)


@pytest.mark.parametrize(
    "data, text",
    [
        ({"optimizer": {"kind": "nesterov", "momentum": 0.0}}, "nesterov requires momentum > 0"),
        ({"schedule": {"milestones": [10, 5]}}, "milestones must be strictly increasing"),
        ({"schedule": {"milestones": [5, 5]}}, "milestones must be strictly increasing"),
        ({"data": {"derived_features": ["x1_sq", "x1_sq"]}}, "must not repeat"),
        ({"data": {"source": "csv"}}, "csv_path is required"),
        ({"data": {"val_fraction": 0.5, "test_fraction": 0.45}}, "val_fraction + test_fraction must be <= 0.9"),
        (
            {"early_stopping": {"enabled": True}, "data": {"val_fraction": 0.0}},
            "data.val_fraction: must be > 0",
        ),
        (
            {"schedule": {"kind": "plateau", "monitor": "val_loss"}, "data": {"val_fraction": 0.0}},
            "data.val_fraction: must be > 0",
        ),
    ],
)
def test_whole_object_checks(data, text):
    with pytest.raises(S.SpecError) as info:
        S.parse(S.ExperimentSpec, data)
    assert text in str(info.value)


def test_whole_object_checks_accept_the_edge():
    spec = S.parse(S.ExperimentSpec, {"data": {"val_fraction": 0.45, "test_fraction": 0.45}})
    assert spec.data.val_fraction + spec.data.test_fraction == pytest.approx(0.9)
    spec = S.parse(S.ExperimentSpec, {"schedule": {"kind": "plateau", "monitor": "train_loss"}, "data": {"val_fraction": 0.0}})
    assert spec.schedule.kind == "plateau"


def test_run_result_checks_history_columns():
    ok = S.RunResult(history={"epoch": (1.0, 2.0), "val_loss": (None, 0.5)})
    assert ok.history["val_loss"] == (None, 0.5)
    with pytest.raises(S.SpecError, match="unknown column 'foo'"):
        S.parse(S.RunResult, {"history": {"foo": [1.0]}})
    with pytest.raises(S.SpecError, match=r"equal lengths, got \[1, 2\]"):
        S.parse(S.RunResult, {"history": {"epoch": [1.0, 2.0], "lr": [0.1]}})
    with pytest.raises(S.SpecError, match="followup_history: unknown column"):
        S.parse(S.RunResult, {"history": {}, "followup_history": {"bar": []}})
    with pytest.raises(S.SpecError, match="at most 64 entries"):
        S.parse(S.RunResult, {"history": {}, "final_metrics": {f"m{i}": 1.0 for i in range(65)}})
    with pytest.raises(S.SpecError) as info:
        S.parse(S.RunResult, {"history": {}, "status": "exploded"})
    assert info.value.errors[0][0] == "status"
