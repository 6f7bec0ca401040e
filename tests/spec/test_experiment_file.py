"""workbench.experiment_file: lossless round trips, readable layout, weights, versions,
atomic saving."""

import base64
import dataclasses
import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from workbench import experiment_file as ef
from workbench.files import migrations, safe_write
from workbench import spec as S


def _rich_result() -> S.RunResult:
    params = np.array([1.0, -2.5, 3.25e-8, np.float32(0.1), 0.0, -0.0, 65504.0], dtype=np.float32)
    return S.RunResult(
        history={
            "epoch": (1.0, 2.0, 3.0, 4.0),
            "train_loss": (0.6931471805599453, 0.1 + 0.2, 5e-324, 1.7976931348623157e308),
            "val_loss": (None, 0.5, None, 2.2250738585072014e-308),
            "penalty": (0.0, 0.0, 0.0, 0.0),
            "lr": (0.01, 0.01, 0.005, 0.0025),
            "train_accuracy": (0.25, 0.5, 0.75, 1.0),
            "val_accuracy": (None, None, None, None),
        },
        markers=(
            S.Marker("plateau", 3, "lr 0.01 -> 0.005"),
            S.Marker("restart", 4),
            S.Marker("diverged", 0, "ünïcödé ✓ \"quoted\" \\ back\nslash"),
        ),
        early_stop=S.EarlyStopSummary(
            monitor="val_loss", best_epoch=2, stopped_epoch=4, best_value=0.5, restored=True, patience=2,
            best_train_loss=None,
        ),
        final_metrics={"train_loss": 0.123456789012345678, "val_accuracy": None, "test_rmse": 1e-300},
        wall_time=12.345678901234567,
        status="early_stopped",
        message="stopped at epoch 4",
        followup_history={"epoch": (1.0, 2.0), "train_loss": (0.4, 0.3)},
        weights=ef.encode_weights(params),
    )


def _variants() -> list[S.ExperimentSpec]:
    base = S.ExperimentSpec()
    out = [base]
    for kind in S.OPTIMIZERS:
        out.append(dataclasses.replace(base, optimizer=S.OptimizerSpec(
            kind=kind, lr=0.0123, momentum=0.95, momentum_form="accumulator", beta1=0.8, beta2=0.99,
            rho=0.95, eps=1e-7, bias_correction=False)))
    for kind in S.SCHEDULES:
        out.append(dataclasses.replace(base, schedule=S.ScheduleSpec(
            kind=kind, step_size=7, gamma=0.3, milestones=(5, 50, 500), end_factor=0.1, power=1.5,
            period=20, warm_restarts=True, t_mult=2, min_lr=1e-5, pct_start=0.25, div_factor=10.0,
            final_div_factor=100.0, factor=0.2, patience=3, cooldown=1, threshold=1e-3,
            monitor="train_loss", warmup_epochs=5, warmup_start_factor=0.01)))
    layers = tuple(
        S.LayerSpec(units=u, activation=a, dropout=d, init=i)
        for u, a, d, i in zip(
            (1, 7, 64, 4096, 3, 5, 9, 2),
            S.ACTIVATIONS,
            (0.0, 0.1, 0.5, 0.95, 0.25, 0.0, 0.3333333333333333, 0.05),
            S.INITIALIZERS + ("he_uniform",),
        )
    )
    out.append(dataclasses.replace(base, architecture=S.ArchitectureSpec(
        layers=layers, input_dropout=0.2, output_init="zeros")))
    out.append(dataclasses.replace(base, architecture=S.ArchitectureSpec(layers=())))
    out.append(dataclasses.replace(base, architecture=S.ArchitectureSpec(layers=(S.LayerSpec(),) * S.MAX_LAYERS)))
    out.append(dataclasses.replace(base, early_stopping=S.EarlyStoppingSpec(
        enabled=True, monitor="val_accuracy", mode="max", patience=7, min_delta=1e-4, start_epoch=3,
        restore_best=False, followup="retrain")))
    out.append(S.ExperimentSpec(
        name="Wine from CSV — “quoted” ✓",
        description="line one\nline two\t[brackets] {braces} \"quotes\" \\",
        data=S.DataSpec(source="csv", name="", csv_path="data/wine quality.csv", csv_sha256="0123456789abcdef" * 4,
                        target_column="quality", task="regression", val_fraction=0.15, test_fraction=0.15,
                        stratify=False, scaling="minmax", seed=2**32 - 1),
        regularization=S.RegularizationSpec(l1=1e-5, l2=0.001, weight_decay=0.01, penalize_biases=True,
                                            input_noise=0.05, dropout_test_method="mc", mc_samples=50),
        training=S.TrainingSpec(epochs=100_000, batch_size=1, seed=123456789),
    ))
    out.append(dataclasses.replace(base, data=S.DataSpec(
        source="synthetic", name="moons", n_samples=200_000, noise=0.0, n_classes=2,
        derived_features=("x1_sq", "x2_sq", "x1x2", "sin_x1", "sin_x2"), val_fraction=0.0)))
    return out


# ---------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("spec", _variants(), ids=lambda s: f"{s.optimizer.kind}-{s.schedule.kind}-{len(s.architecture.layers)}")
def test_spec_round_trip_is_lossless(spec):
    text = ef.dumps(spec)
    exp = ef.loads(text)
    assert exp.spec == spec
    assert exp.result is None
    assert exp.path is None
    assert exp.source_version == ef.CURRENT_VERSION
    assert ef.dumps(exp.spec) == text  # stable: writing again gives the same bytes


def test_variants_differ_from_default():
    variants = _variants()
    assert len({ef.dumps(v) for v in variants}) == len(variants)


def test_result_round_trip_is_lossless():
    spec = _variants()[-2]
    result = _rich_result()
    exp = ef.loads(ef.dumps(spec, result))
    assert exp.spec == spec
    assert exp.result == result
    # floats are bit-exact, including the extremes
    assert exp.result.history["train_loss"][2] == 5e-324
    assert exp.result.history["train_loss"][3] == 1.7976931348623157e308
    assert exp.result.history["train_loss"][1] == 0.30000000000000004
    assert exp.result.final_metrics["val_accuracy"] is None
    assert exp.result.early_stop.best_train_loss is None
    assert exp.result.weights.data_b64 == result.weights.data_b64
    assert ef.dumps(exp.spec, exp.result) == ef.dumps(spec, result)


def test_minimal_result_round_trip():
    result = S.RunResult(history={})
    exp = ef.loads(ef.dumps(S.ExperimentSpec(), result))
    assert exp.result == result
    assert exp.result.weights is None and exp.result.followup_history is None


def test_non_finite_result_values_are_written_as_null():
    result = S.RunResult(
        history={"epoch": (1.0, 2.0, 3.0), "train_loss": (1.0, math.inf, math.nan)},
        final_metrics={"loss": -math.inf},
        early_stop=S.EarlyStopSummary("val_loss", 1, 3, math.nan, False),
        status="diverged",
    )
    text = ef.dumps(S.ExperimentSpec(), result)
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text)
    assert doc["runs"][0]["result"]["history"]["train_loss"] == [1.0, None, None]
    assert doc["runs"][0]["result"]["final_metrics"] == {"loss": None}
    back = ef.loads(text).result
    assert back.history["train_loss"] == (1.0, None, None)
    assert back.early_stop.best_value is None
    assert back.status == "diverged"


def test_surrogate_pairs_load_and_lone_surrogates_are_refused():
    doc = json.loads(ef.dumps(S.ExperimentSpec()))
    doc["spec"]["description"] = "emoji \U0001F600"
    text = json.dumps(doc)  # ensure_ascii: written as the escape pair \ud83d\ude00
    assert "\\ud83d\\ude00" in text
    assert ef.loads(text).spec.description == "emoji \U0001F600"
    doc["spec"]["description"] = "lone \ud800"
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.loads(json.dumps(doc))
    assert str(info.value) == "spec.description: contains an unpaired surrogate \\ud800"


# ---------------------------------------------------------------------------
# Layout


def test_document_layout_and_key_order():
    text = ef.dumps(S.ExperimentSpec(), _rich_result())
    doc = json.loads(text)
    assert list(doc) == ["format", "version", "spec", "runs", "current"]
    assert doc["format"] == "mlp-workbench-experiment" and doc["version"] == 2
    assert list(doc["spec"]) == [f.name for f in dataclasses.fields(S.ExperimentSpec)]
    assert list(doc["spec"]["optimizer"]) == [f.name for f in dataclasses.fields(S.OptimizerSpec)]
    run = doc["runs"][0]
    assert list(run) == [f.name for f in dataclasses.fields(S.SavedRun)]
    assert list(run["result"]) == [f.name for f in dataclasses.fields(S.RunResult)]
    assert list(run["result"]["history"]) == [c for c in S.HISTORY_COLUMNS if c in run["result"]["history"]]
    assert text.endswith("}\n")
    assert text.startswith('{\n  "format": "mlp-workbench-experiment",\n  "version": 2,\n  "spec": {\n    "name": ')
    assert '      "lr": 0.01,\n' in text  # indent 2, one key per line
    assert "ünïcödé ✓" in text  # readable, not \u-escaped
    assert list(json.loads(ef.dumps(S.ExperimentSpec()))) == ["format", "version", "spec"]


def test_history_is_compact_and_changing_one_value_changes_one_line():
    n = 100
    hist = {"epoch": tuple(float(i) for i in range(1, n + 1)), "train_loss": tuple(1.0 / i for i in range(1, n + 1))}
    a = ef.dumps(S.ExperimentSpec(), S.RunResult(history=hist))
    changed = dict(hist, train_loss=hist["train_loss"][:50] + (123.0,) + hist["train_loss"][51:])
    b = ef.dumps(S.ExperimentSpec(), S.RunResult(history=changed))
    empty = ef.dumps(S.ExperimentSpec(), S.RunResult(history={}))
    # eight numbers a line: two columns of ceil(n / 8) lines between their brackets, and the closing brace
    assert len(a.splitlines()) - len(empty.splitlines()) == 2 * (-(-n // 8) + 2) + 1
    diff = [(x, y) for x, y in zip(a.splitlines(), b.splitlines()) if x != y]
    assert len(a.splitlines()) == len(b.splitlines()) and len(diff) == 1
    assert "123.0" in diff[0][1]


def test_changing_one_setting_changes_one_line():
    a = ef.dumps(S.ExperimentSpec()).splitlines()
    b = ef.dumps(dataclasses.replace(S.ExperimentSpec(), optimizer=S.OptimizerSpec(lr=0.05))).splitlines()
    assert [(x, y) for x, y in zip(a, b) if x != y] == [('      "lr": 0.01,', '      "lr": 0.05,')]


def test_short_hand_written_file_takes_defaults():
    text = '{"format": "mlp-workbench-experiment", "version": 1, "spec": {"optimizer": {"kind": "sgd", "lr": 0.5}}}'
    exp = ef.loads(text)
    assert exp.spec == dataclasses.replace(S.ExperimentSpec(), optimizer=S.OptimizerSpec(kind="sgd", lr=0.5))
    text = '{"format": "mlp-workbench-experiment", "version": 1, "spec": {}, "results": null}'
    assert ef.loads(text) == ef.Experiment(S.ExperimentSpec(), source_version=1)


def test_bytes_and_bom_are_accepted():
    text = ef.dumps(S.ExperimentSpec(name="Grüße"))
    assert ef.loads(text.encode("utf-8")).spec.name == "Grüße"
    assert ef.loads(b"\xef\xbb\xbf" + text.encode("utf-8")).spec.name == "Grüße"
    assert ef.loads("\ufeff" + text).spec.name == "Grüße"


def test_dumps_rejects_wrong_types():
    with pytest.raises(TypeError):
        ef.dumps(S.to_plain(S.ExperimentSpec()))
    with pytest.raises(TypeError):
        ef.dumps(S.ExperimentSpec(), {"history": {}})


def test_dumps_refuses_a_file_it_could_not_load(monkeypatch, tmp_path):
    monkeypatch.setattr(ef, "MAX_FILE_BYTES", 2000)
    with pytest.raises(ef.ExperimentFileError, match="more than the limit of 2000"):
        ef.dumps(S.ExperimentSpec(), _rich_result(), without_weights=True)
    with pytest.raises(ef.WeightsTooLarge):  # with weights: "save without weights" is offered first
        ef.dumps(S.ExperimentSpec(), _rich_result())
    with pytest.raises(ef.ExperimentFileError):
        ef.save(tmp_path / "big.json", S.ExperimentSpec(), _rich_result())
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# Weights


def test_encode_weights_is_little_endian_float32_base64():
    blob = ef.encode_weights(np.array([1.0, -2.0], dtype=np.float32))
    assert blob == S.WeightsBlob(n_params=2, data_b64="AACAPwAAAMA=", dtype="<f4")
    assert base64.b64decode(blob.data_b64) == bytes.fromhex("0000803f000000c0")


def test_weights_round_trip_exactly():
    rng = np.random.default_rng(0)
    params = rng.standard_normal(1001).astype(np.float32)
    params[:3] = [np.float32(1e-45), np.float32(3.4028235e38), -0.0]
    back = ef.decode_weights(ef.encode_weights(params))
    assert back.dtype == np.float32 and back.shape == (1001,)
    assert back.tobytes() == params.tobytes()
    assert back.flags.writeable and back.flags.owndata
    back[0] = 5.0  # a copy: writing to it is fine


def test_encode_weights_converts_and_validates():
    assert ef.decode_weights(ef.encode_weights(np.array([0.1, 2.0]))).tolist() == [np.float32(0.1), 2.0]
    assert ef.encode_weights(np.zeros(0, dtype=np.float32)) == S.WeightsBlob(0, "")
    with pytest.raises(ValueError, match="shape"):
        ef.encode_weights(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="dtype"):
        ef.encode_weights(np.array(["a", "b"]))


def test_decode_weights_rejects_a_wrong_length():
    good = ef.encode_weights(np.arange(4, dtype=np.float32))
    with pytest.raises(ef.ExperimentFileError, match="holds 16 bytes, but n_params 5 needs 20"):
        ef.decode_weights(S.WeightsBlob(n_params=5, data_b64=good.data_b64))
    with pytest.raises(ef.ExperimentFileError, match="base64"):
        ef.decode_weights(S.WeightsBlob(n_params=1, data_b64="!!!!"))
    with pytest.raises(ef.ExperimentFileError, match="holds 3 bytes"):
        ef.decode_weights(S.WeightsBlob(n_params=1, data_b64=base64.b64encode(b"abc").decode()))


# ---------------------------------------------------------------------------
# Versions


def _doc(version: int, **optimizer) -> str:
    doc = json.loads(ef.dumps(S.ExperimentSpec()))
    doc["version"] = version
    doc["spec"]["optimizer"] = dict(doc["spec"]["optimizer"], **optimizer)
    return json.dumps(doc)


def test_migration_hook_upgrades_old_files(monkeypatch):
    def v0_to_v1(doc):
        opt = doc["spec"]["optimizer"]
        opt["lr"] = opt.pop("learning_rate")
        return doc

    old = json.loads(_doc(0, learning_rate=0.05))
    del old["spec"]["optimizer"]["lr"]
    with pytest.raises(ef.ExperimentFileError, match="version 0 files cannot be read"):
        ef.loads(json.dumps(old))
    monkeypatch.setitem(ef.MIGRATIONS, 0, v0_to_v1)
    exp = ef.loads(json.dumps(old))
    assert exp.spec.optimizer.lr == 0.05
    assert exp.source_version == 0
    assert ef.loads(ef.dumps(exp.spec)).source_version == ef.CURRENT_VERSION


def test_migrations_apply_in_order(monkeypatch):
    calls = []

    def step(v):
        def upgrade(doc):
            assert doc["version"] == v
            calls.append(v)
            doc["spec"]["optimizer"]["lr"] *= 2
            return doc

        return upgrade

    monkeypatch.setattr(migrations, "CURRENT_VERSION", 3)
    for v in (0, 1, 2):
        monkeypatch.setitem(ef.MIGRATIONS, v, step(v))
    assert ef.loads(_doc(0, lr=0.01)).spec.optimizer.lr == 0.08
    assert calls == [0, 1, 2]
    calls.clear()
    assert ef.loads(_doc(2, lr=0.01)).spec.optimizer.lr == 0.02
    assert calls == [2]


def test_failing_migration_is_a_file_error(monkeypatch):
    monkeypatch.setitem(ef.MIGRATIONS, 0, lambda doc: doc["no such key"])
    with pytest.raises(ef.ExperimentFileError, match="version: upgrading from version 0 failed: KeyError"):
        ef.loads(_doc(0))
    monkeypatch.setitem(ef.MIGRATIONS, 0, lambda doc: [doc])
    with pytest.raises(ef.ExperimentFileError, match="did not give a JSON object"):
        ef.loads(_doc(0))


def test_newer_version_is_refused():
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.loads(_doc(7))
    assert str(info.value) == "version: version 7 is newer than this program supports (2)"


# ---------------------------------------------------------------------------
# Files


def test_save_and_load(tmp_path):
    spec = _variants()[-2]
    result = _rich_result()
    path = tmp_path / "run.json"
    ef.save(path, spec, result)
    assert path.read_text(encoding="utf-8") == ef.dumps(spec, result)
    exp = ef.load(path)
    assert exp == ef.Experiment(spec, (S.SavedRun(name="run 1", spec=spec, result=result),), 0, path=path)
    assert exp.result == result
    ef.save(str(path), S.ExperimentSpec())  # overwrite, str path
    assert ef.load(str(path)).result is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_save_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "run.json"
    ef.save(path, S.ExperimentSpec())
    os.chmod(path, 0o640)
    ef.save(path, S.ExperimentSpec(name="again"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert ef.load(path).spec.name == "again"


def test_save_writes_through_a_symlink(tmp_path):
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    ef.save(real, S.ExperimentSpec())
    link.symlink_to(real)
    ef.save(link, S.ExperimentSpec(name="via link"))
    assert link.is_symlink()
    assert ef.load(real).spec.name == "via link"


def _fail_half_way(f, data, chunk=1 << 20):
    f.write(data[: len(data) // 2])
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("where", ["write", "fsync", "replace", "interrupt"])
def test_save_is_atomic(tmp_path, monkeypatch, where):
    path = tmp_path / "experiment.json"
    ef.save(path, S.ExperimentSpec(name="original"), _rich_result())
    before = path.read_bytes()
    if where == "write":
        monkeypatch.setattr(safe_write, "_write_all", _fail_half_way)
    elif where == "fsync":
        monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(5, "I/O error")))
    elif where == "replace":
        monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(OSError(13, "denied")))
    else:
        def interrupted(f, data, chunk=1 << 20):
            f.write(data[:100])
            raise KeyboardInterrupt

        monkeypatch.setattr(safe_write, "_write_all", interrupted)
    with pytest.raises((OSError, KeyboardInterrupt)):
        ef.save(path, S.ExperimentSpec(name="replacement"))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["experiment.json"]
    assert ef.load(path).spec.name == "original"


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(safe_write, "_write_all", _fail_half_way)
    with pytest.raises(OSError):
        ef.save(tmp_path / "new.json", S.ExperimentSpec())
    assert list(tmp_path.iterdir()) == []


def test_load_errors_for_missing_file_and_directory(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.load(missing)
    assert str(info.value) == f"cannot read {missing}: No such file or directory"
    assert info.value.source == str(missing)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with pytest.raises(ef.ExperimentFileError, match=f"^{tmp_path} is a folder, not an experiment file$"):
        ef.load(tmp_path)


def test_experiment_file_error_is_a_spec_error():
    assert issubclass(ef.ExperimentFileError, S.SpecError)
    assert issubclass(ef.ExperimentFileError, ValueError)
    err = ef.ExperimentFileError([("a", "x")] * 50, source="f.json")
    assert len(err.errors) == ef.MAX_REPORTED_ERRORS + 1
    assert err.errors[-1] == ("", "... and 30 more problems")
    assert err.source == "f.json"


def test_example_files_in_resources_load():
    root = Path(__file__).resolve().parents[2] / "resources"
    files = sorted(root.rglob("*.json")) if root.is_dir() else []
    for f in files:
        try:
            head = json.loads(f.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(head, dict) and head.get("format") == ef.FORMAT_ID:
            ef.load(f)  # every shipped experiment must open
