"""``mlp-workbench lr-find``: the spec-facing range test (one network per seed, as
build_run makes it), its CSV, the printed suggestions, and one-line errors (status 2)."""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workbench import experiment_file, spec as S
from workbench.build import build_run
from workbench.cli import main
from workbench.data import load_dataset
from workbench.engine.lr_finder import SUGGESTIONS, RangeCurve, RangeStep, RangeTestResult, range_test
from workbench.lr_find import csv_text, lr_find, seeds_for

ROOT = Path(__file__).resolve().parent.parent
XOR = ROOT / "resources" / "examples" / "xor.json"


@pytest.fixture(scope="module")
def xor():
    spec = experiment_file.load(XOR).spec
    return spec, load_dataset(spec.data, base_dir=XOR.parent)


def read_csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def test_each_seed_is_the_engine_test_on_that_seeds_built_network(xor):
    spec, data = xor
    items = list(lr_find(spec, data, seeds=2, steps=25))
    assert isinstance(items[-1], RangeTestResult)
    curves = [i for i in items if isinstance(i, RangeCurve)]
    assert [c.seed for c in curves] == seeds_for(spec, 2) == [spec.training.seed, spec.training.seed + 1]
    assert sum(isinstance(i, RangeStep) for i in items) == sum(len(c.lrs) for c in curves)
    for c in curves:
        run = build_run(S.replace(spec, training=S.replace(spec.training, "training", seed=c.seed)), data)
        direct = list(range_test(run.network, run.optimizer, run.data.X_train, run.data.y_train,
                                 spec.training.batch_size, c.seed, steps=25))[-1]
        np.testing.assert_array_equal(c.losses, direct.losses)
        np.testing.assert_array_equal(c.smoothed, direct.smoothed)
    # the seeds' initial weights differ, so do their curves
    assert not np.array_equal(curves[0].losses, curves[1].losses)


def test_lr_find_writes_the_curve_and_prints_named_suggestions(tmp_path, capsys, xor):
    out = tmp_path / "curve.csv"
    code = main(["lr-find", str(XOR), "--seeds", "2", "--steps", "40", "--min", "1e-5", "--max", "1",
                 "--out", str(out), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("XOR (seed 001): learning-rate range test, adam, batch size 4")
    for name in SUGGESTIONS:
        lines = [l for l in printed if l.startswith(name + " ")]
        assert len(lines) == 1, printed
        eta = float(lines[0].split()[1])
        assert 1e-5 / 10 <= eta <= 1.0
    assert printed[-1] == f"curve written to {out}"

    header, rows = read_csv(out)
    spec, data = xor
    seeds = seeds_for(spec, 2)
    assert header == ["lr", "loss_mean", "loss_std",
                      f"seed{seeds[0]}_loss", f"seed{seeds[0]}_smoothed", f"seed{seeds[1]}_loss", f"seed{seeds[1]}_smoothed"]
    # the same numbers as the library call
    result = list(lr_find(spec, data, seeds=2, steps=40, lr_min=1e-5, lr_max=1.0))[-1]
    assert out.read_text() == csv_text(result)
    assert len(rows) == max(len(c.lrs) for c in result.curves)
    lrs = np.array([float(r[0]) for r in rows])
    np.testing.assert_allclose(lrs, 1e-5 * (1.0 / 1e-5) ** (np.arange(len(rows)) / 39), rtol=1e-14)
    m = len(result.band.lrs)
    S_ = np.array([[float(r[4]), float(r[6])] for r in rows[:m]])
    np.testing.assert_allclose([float(r[1]) for r in rows[:m]], S_.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose([float(r[2]) for r in rows[:m]], S_.std(axis=1, ddof=1), rtol=1e-9, atol=1e-15)


def test_a_diverging_curve_leaves_blank_cells_and_says_why(tmp_path, capsys):
    spec = S.ExperimentSpec(
        name="diverges",
        data=S.DataSpec(name="moons", n_samples=120, noise=0.2, val_fraction=0.0),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(8, "relu", 0.0, "he_uniform"),)),
        optimizer=S.OptimizerSpec(kind="sgd", lr=0.1),
        training=S.TrainingSpec(epochs=5, batch_size=16, seed=3),
    )
    src = tmp_path / "div.json"
    experiment_file.save(src, spec)
    out = tmp_path / "div.csv"
    assert main(["lr-find", str(src), "--seeds", "2", "--steps", "60", "--min", "1e-3", "--max", "1e4",
                 "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "diverged at step" in captured.err
    assert "did not diverge" not in captured.out
    header, rows = read_csv(out)
    lengths = [sum(1 for r in rows if r[3 + 2 * i] != "") for i in range(2)]
    assert max(lengths) == len(rows) and min(lengths) < 60
    band_rows = sum(1 for r in rows if r[1] != "")
    assert band_rows == min(lengths)  # the band stops with the shortest curve


def test_default_output_name_and_progress_bar(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "lr-find", str(XOR), "--seeds", "1", "--steps", "20"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "xor.lr_find.csv").is_file()
    assert "20/20" in proc.stderr  # tqdm's bar
    assert "curve written to xor.lr_find.csv" in proc.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--steps", "3"], "--steps: must be an integer from 10 to 10,000, got 3"),
        (["--seeds", "0"], "--seeds: must be an integer from 1 to 20, got 0"),
        (["--min", "0"], "--min: must be a finite number > 0"),
        (["--min", "1", "--max", "0.5"], "--max: must be a finite number > min (1)"),
        (["--max", "nan"], "--max: must be a finite number"),
        (["--steps", "many"], "argument --steps: invalid int value: 'many'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_invalid_options_exit_2_with_one_line(tmp_path, capsys, args, expected):
    assert main(["lr-find", str(XOR), "--out", str(tmp_path / "o.csv"), "--quiet", *args]) == 2
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert len(err) == 1 and err[0].startswith("mlp-workbench: error: ") and expected in err[0], err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    "content, expected",
    [
        ("{not json", "line 1"),
        ('{"format": "mlp-workbench-experiment", "version": 1, "spec": {"optimizer": {"lr": -1}}}', "spec.optimizer.lr"),
    ],
)
def test_an_invalid_file_exits_2_with_one_line(tmp_path, content, expected):
    src = tmp_path / "bad.json"
    src.write_text(content)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "lr-find", str(src), "--out", str(tmp_path / "o.csv"), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_missing_file_and_unwritable_output(tmp_path, capsys):
    assert main(["lr-find", str(tmp_path / "nope.json"), "--quiet"]) == 2
    assert "nope.json" in capsys.readouterr().err
    assert main(["lr-find", str(XOR), "--out", str(tmp_path / "missing" / "c.csv"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write" in err[0] and "the folder" in err[0]


def test_help_mentions_lr_find():
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "lr-find FILE" in proc.stdout
    sub = subprocess.run([sys.executable, str(ROOT / "main.py"), "lr-find", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert sub.returncode == 0 and "--seeds" in sub.stdout and "--max" in sub.stdout
