"""``mlp-workbench sweep FILE``: the trials on a local cluster with a progress bar, the final
table best first, the experiment with its sweep and trials written as runs; one-line errors
(status 2) for a file without a sweep, a bad sweep, an unreachable scheduler."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from workbench.cli import main
from workbench.spec import DataSpec, ExperimentSpec, TrainingSpec
from workbench.sweep import file as sweep_file
from workbench.sweep.spec import Axis, SweepSpec

ROOT = Path(__file__).resolve().parent.parent
BASE = ExperimentSpec(name="CLI sweep", data=DataSpec(n_samples=200), training=TrainingSpec(epochs=15))
SWEEP = SweepSpec(axes=(Axis("optimizer.lr", "log_uniform", 1e-3, 0.3),
                        Axis("architecture.layers.*.units", values=(4, 16))), samples=5, seed=1, repeats=2)


def sweep_path(tmp_path, sweep=SWEEP, spec=BASE) -> Path:
    path = tmp_path / "exp.json"
    sweep_file.save(path, spec, sweep)
    return path


def table_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("Trial"))
    rows = []
    for line in lines[start + 1:]:
        if not re.match(r"^\s*\d+\s", line):
            break
        rows.append(line.split())
    return rows


def test_sweep_runs_on_a_local_cluster_prints_best_first_and_writes_runs(tmp_path, capsys):
    path = sweep_path(tmp_path)
    out, rows_csv = tmp_path / "out.json", tmp_path / "rows.csv"
    code = main(["sweep", str(path), "--workers", "2", "--out", str(out), "--csv", str(rows_csv)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "CLI sweep: 5 random points (seed 1) × 2 seeds = 10 runs on a local cluster of 2 workers" in captured.err
    assert "10/10" in captured.err  # the progress bar over the trials
    rows = table_rows(captured.out)
    assert len(rows) == 10
    # the val. metric column: after trial, η, units, seed, status, best epoch
    values = [float(r[6]) for r in rows]
    assert values == sorted(values, reverse=True)
    assert "per point, mean ± std over 2 seeds:" in captured.out
    found = sweep_file.load(out)
    assert found.sweep == SWEEP and found.spec == BASE
    runs = found.experiment.runs
    assert len(runs) == 10 and all(run.result is not None for run in runs)
    assert runs[found.experiment.current].name.startswith(f"trial {rows[0][0]}:")
    assert runs[0].group == runs[1].group and runs[0].group.startswith("point 0: η ")
    with open(rows_csv, newline="") as f:
        table = list(csv.reader(f))
    assert table[0][:4] == ["trial", "optimizer.lr", "architecture.layers.*.units", "seed"]
    assert [r[0] for r in table[1:]] == [r[0] for r in rows]


def test_sweep_errors_are_one_line(tmp_path, capsys):
    plain = tmp_path / "plain.json"
    sweep_file.save(plain, BASE, None)
    assert main(["sweep", str(plain)]) == 2
    assert capsys.readouterr().err.strip() == (f"mlp-workbench: error: {plain}: the file has no \"sweep\" key "
                                               "(the settings to vary); see README, Sweeps")
    doc = json.loads(sweep_path(tmp_path).read_text())
    doc["sweep"]["axes"][0]["field"] = "optimizer.eta"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert main(["sweep", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "mlp-workbench: error: sweep.axes.0.field: 'optimizer.eta' is not a sweepable setting")
    assert main(["sweep", str(bad.with_name("missing.json"))]) == 2
    assert "missing.json" in capsys.readouterr().err
    assert main(["sweep", str(sweep_path(tmp_path)), "--workers", "0"]) == 2
    assert "--workers: must be at least 1, got 0" in capsys.readouterr().err
    assert main(["sweep", str(sweep_path(tmp_path)), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "give one of them" in capsys.readouterr().err


def test_an_unreachable_scheduler_answers_at_once_with_status_2(tmp_path, capsys, monkeypatch):
    # "At once": not when the connection timeout has run out.  Told apart without timing
    # this machine: the command's cluster is given a timeout of two minutes, so the answer
    # coming within one (a guard a loaded machine cannot reach) shows it did not wait for it.
    from workbench.sweep import runner as runner_mod

    made = []

    class PatientCluster(runner_mod.Cluster):
        def __init__(self, workers=None, scheduler=None, **kwargs):
            super().__init__(workers, scheduler, **{**kwargs, "timeout": 120.0})
            made.append(self)

    monkeypatch.setattr(runner_mod, "Cluster", PatientCluster)  # (the command imports it when it runs)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    assert main(["sweep", str(sweep_path(tmp_path)), "--scheduler", f"tcp://127.0.0.1:{port}", "--quiet"]) == 2
    assert time.monotonic() - start < 60
    assert [c.timeout for c in made] == [120.0]  # (the command's cluster was the patient one)
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"mlp-workbench: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: "
                       "Connection refused")
    assert not (tmp_path / "exp.sweep.json").exists()


def test_main_py_sweep_in_a_process_of_its_own(tmp_path):
    """The real entry point: worker processes are spawned from ``python main.py``."""
    sweep = dataclasses.replace(SWEEP, samples=2, repeats=1)
    path = sweep_path(tmp_path, sweep)
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "sweep", str(path), "--workers", "1", "--quiet",
                           "--no-weights"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(table_rows(done.stdout)) == 2
    runs = sweep_file.load(tmp_path / "exp.sweep.json").experiment.runs
    assert len(runs) == 2 and all(run.result.weights is None for run in runs)
    assert "results written to exp.sweep.json" in done.stdout
