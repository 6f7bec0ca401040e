"""The headless runner: same numbers as the engine, clear one-line errors, results written."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import experiment_file, spec as S
from workbench.build import build_run
from workbench.cli import main
from workbench.data import load_dataset
from workbench.history import Recorder

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "resources" / "examples"


def small_spec(**training):
    return S.ExperimentSpec(
        name="cli test",
        data=S.DataSpec(name="moons", n_samples=120, noise=0.2, val_fraction=0.25),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(8, "tanh", 0.0, "xavier_uniform"),)),
        training=S.TrainingSpec(**{"epochs": 12, "batch_size": 16, "seed": 4, **training}),
    )


def test_run_writes_results_equal_to_a_direct_engine_run(tmp_path, capsys):
    spec = small_spec()
    src = tmp_path / "exp.json"
    experiment_file.save(src, spec)
    out = tmp_path / "out.json"
    assert main(["run", str(src), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "finished after 12 epochs" in printed and str(out) in printed

    saved = experiment_file.load(out)
    assert saved.spec == spec
    direct = Recorder(spec).add_all(build_run(spec, load_dataset(spec.data)).events()).result()
    assert saved.result.history == direct.history
    assert saved.result.final_metrics == direct.final_metrics
    assert saved.result.weights is not None
    assert len(saved.result.history["epoch"]) == 12


def test_epochs_and_seed_overrides(tmp_path):
    src = tmp_path / "exp.json"
    experiment_file.save(src, small_spec())
    out = tmp_path / "o.json"
    assert main(["run", str(src), "--out", str(out), "--epochs", "3", "--seed", "9", "--quiet"]) == 0
    res = experiment_file.load(out)
    assert res.spec.training.epochs == 3 and res.spec.training.seed == 9
    assert res.result.history["epoch"] == (1.0, 2.0, 3.0)


@pytest.mark.parametrize(
    "content, expected",
    [
        ("{not json", "line 1"),
        ('{"format": "mlp-workbench-experiment", "version": 1, "spec": {"optimizer": {"lr": -1}}}', "spec.optimizer.lr"),
    ],
)
def test_invalid_file_exits_nonzero_with_one_line(tmp_path, content, expected):
    src = tmp_path / "bad.json"
    src.write_text(content)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "run", str(src), "--out", str(tmp_path / "o.json"), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_and_bad_override(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.json"), "--quiet"]) == 2
    assert "nope.json" in capsys.readouterr().err
    src = tmp_path / "exp.json"
    experiment_file.save(src, small_spec())
    assert main(["run", str(src), "--epochs", "0", "--quiet"]) == 2
    assert "training.epochs" in capsys.readouterr().err


def test_help_explains_both_modes():
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "run FILE" in proc.stdout and "open the workbench window" in proc.stdout


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_examples_are_valid(name):
    exp = experiment_file.load(EXAMPLES / f"{name}.json")
    assert exp.spec.name
    json.loads((EXAMPLES / f"{name}.json").read_text())


def test_overfitting_example_stops_early(tmp_path):
    out = tmp_path / "o.json"
    assert main(["run", str(EXAMPLES / "overfitting.json"), "--out", str(out), "--quiet"]) == 0
    res = experiment_file.load(out).result
    es = res.early_stop
    assert res.status == "early_stopped"
    assert es.best_epoch < es.stopped_epoch < 600
    assert es.restored


def test_xor_example_learns_xor(tmp_path):
    out = tmp_path / "o.json"
    assert main(["run", str(EXAMPLES / "xor.json"), "--out", str(out), "--quiet"]) == 0
    res = experiment_file.load(out).result
    assert res.final_metrics["train_accuracy"] == 1.0


def test_a_spec_that_does_not_fit_its_data_exits_2_with_one_line(tmp_path):
    """Early stopping on RMSE for a classification set: refused before training."""
    spec = S.replace(small_spec(), early_stopping=S.EarlyStoppingSpec(enabled=True, monitor="val_rmse", patience=2))
    src = tmp_path / "rmse.json"
    experiment_file.save(src, spec)
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", str(src), "--quiet"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "early_stopping.monitor: val_rmse is not measured for classification data" in lines[0]
    assert not (tmp_path / "rmse.result.json").exists() and "Traceback" not in proc.stderr


@pytest.mark.parametrize("where, reason", [
    ("missing/out.json", "the folder"),
    (".", "it is a folder"),
])
def test_an_unwritable_output_is_refused_before_training(tmp_path, capsys, where, reason):
    src = tmp_path / "exp.json"
    experiment_file.save(src, small_spec(epochs=100_000))  # would take minutes if it trained
    out = tmp_path / where
    assert main(["run", str(src), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"mlp-workbench: error: cannot write {out}") and reason in err[0]


def test_a_schedule_that_fades_out_is_a_warning(tmp_path, capsys):
    """Issue 7 item 14 outside the window: exponential γ = 0.5 (the spec's default γ) over
    60 epochs takes η to 8.7e-19 η -- the CLI says so, as the Schedule editor does."""
    base = S.ExperimentSpec()
    spec = S.replace(base, schedule=S.ScheduleSpec(kind="exponential"),
                     data=S.replace(base.data, n_samples=60), training=S.replace(base.training, epochs=60))
    src = tmp_path / "fade.json"
    experiment_file.save(src, spec)
    assert main(["run", str(src), "--out", str(tmp_path / "out.json"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning: η falls to" in err and "the last epochs barely learn" in err
    # a sensible γ (the editor's suggestion, η/100 by the last epoch) is not warned about
    spec = S.replace(spec, schedule=S.ScheduleSpec(kind="exponential", gamma=0.01 ** (1 / 60)))
    experiment_file.save(src, spec)
    assert main(["run", str(src), "--out", str(tmp_path / "out.json"), "--quiet"]) == 0
    assert "barely learn" not in capsys.readouterr().err
