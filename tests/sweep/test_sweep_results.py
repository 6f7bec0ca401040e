"""A sweep's rows: read off the results (the validation metric at the best epoch, the test
metric, the final training loss), sorted best first by any column, as text and CSV, per
point mean ± std, and the trials as runs of a file (named, grouped, the best kept)."""

from __future__ import annotations

import csv
import io
import math

import pytest

from workbench.compare import reading
from workbench.data import load_dataset
from workbench.spec import DataSpec, EarlyStoppingSpec, ExperimentSpec, TrainingSpec
from workbench.sweep import results as R
from workbench.sweep.runner import SweepRunner
from workbench.sweep.spec import Axis, SweepSpec, check_sweep, trials
from workbench.sweep.trial import TrialOutcome

BASE = ExperimentSpec(data=DataSpec(n_samples=200, test_fraction=0.2), training=TrainingSpec(epochs=20),
                      early_stopping=EarlyStoppingSpec(enabled=True, patience=4))
SWEEP = SweepSpec(axes=(Axis("optimizer.lr", values=(0.003, 0.03, 0.3)), Axis("regularization.l2", values=(0.0, 1e-3))),
                  method="grid", repeats=2)


@pytest.fixture(scope="module")
def swept():
    runner = SweepRunner(BASE, SWEEP, load_dataset(BASE.data), workers=0)
    outcomes = {o.index: o for o in runner.run()}
    return runner.trials, outcomes, runner.infos


def test_rows_read_the_results_at_the_best_epoch(swept):
    trials_, outcomes, _ = swept
    table = R.rows(trials_, outcomes)
    assert [r.index for r in table] == list(range(12))
    for r in table:
        result = outcomes[r.index].result
        assert r.best_epoch == result.early_stop.best_epoch
        assert r.val_metric == reading(result, "val_accuracy", "best")
        assert r.val_loss == reading(result, "val_loss", "best")
        assert r.test_metric == result.final_metrics["test_accuracy"]
        assert r.train_loss == result.history["train_loss"][-1]
        assert r.seed == trials_[r.index].seed and r.point == trials_[r.index].point
        assert r.status == outcomes[r.index].status and r.epochs == len(result.history["epoch"])


def test_sorting_puts_the_best_first_for_every_column(swept):
    trials_, outcomes, _ = swept
    table = R.rows(trials_, outcomes)
    by_metric = R.sort_rows(table)
    values = [r.val_metric for r in by_metric]
    assert values == sorted(values, reverse=True)
    by_loss = R.sort_rows(table, "val_loss")
    assert [r.val_loss for r in by_loss] == sorted(r.val_loss for r in table)
    by_lr = R.sort_rows(table, "optimizer.lr", descending=True)
    assert [r.point["optimizer.lr"] for r in by_lr][:4] == [0.3] * 4
    assert R.sort_rows(table, "status")[0].status <= R.sort_rows(table, "status")[-1].status
    # rows without a value go last, whichever way
    failed = R.Row(99, 9, {"optimizer.lr": 1.0, "regularization.l2": 0.0}, 0, "failed", "boom")
    assert R.sort_rows(table + [failed])[-1] is failed
    assert R.sort_rows([failed] + table, "val_loss", descending=True)[-1] is failed


def test_text_and_csv_tables(swept):
    trials_, outcomes, infos = swept
    table = R.sort_rows(R.rows(trials_, outcomes))
    text = R.table_text(table, infos).splitlines()
    assert text[0].split()[:4] == ["Trial", "η", "L2", "α"]
    assert text[1].split()[0] == str(table[0].index) and len(text) == 13
    rows = list(csv.reader(io.StringIO(R.rows_csv(table, infos))))
    assert rows[0][:4] == ["trial", "optimizer.lr", "regularization.l2", "seed"]
    assert [int(r[0]) for r in rows[1:]] == [r.index for r in table]
    column = rows[0].index("val_metric")
    assert [float(r[column]) for r in rows[1:]] == [r.val_metric for r in table]  # full precision


def test_point_rows_are_mean_and_sample_std_over_the_seeds(swept):
    trials_, outcomes, _ = swept
    table = R.rows(trials_, outcomes)
    points = R.point_rows(table)
    assert len(points) == 6 and points[2].seeds == (0, 1)
    a, b = table[4].val_metric, table[5].val_metric
    assert points[2].means["val_metric"] == pytest.approx((a + b) / 2)
    assert points[2].stds["val_metric"] == pytest.approx(abs(a - b) / math.sqrt(2))


def test_trials_become_named_runs_the_seeds_of_a_point_one_group(swept):
    trials_, outcomes, infos = swept
    runs = R.saved_runs(trials_, outcomes, infos, repeats=2)
    assert len(runs) == 12
    assert runs[3].name == "trial 3: η 0.003, L2 α 0.001, seed 1"
    assert runs[2].group == runs[3].group == "point 1: η 0.003, L2 α 0.001"
    assert runs[3].spec == trials_[3].spec and runs[3].result is outcomes[3].result
    assert runs[2].color == runs[3].color != runs[4].color
    # a file keeps at most `limit` runs: the points of the best rows, whole
    best = R.saved_runs(trials_, outcomes, infos, repeats=2, limit=5)
    order = []
    for r in R.sort_rows(R.rows(trials_, outcomes)):
        if r.point_index not in order:
            order.append(r.point_index)
    assert len(best) == 4
    assert {run.group.split(":")[0] for run in best} == {f"point {p}" for p in order[:2]}


def test_failed_and_cancelled_trials_are_rows_without_numbers():
    t = trials(BASE, SweepSpec(axes=(Axis("optimizer.lr", values=(0.01,)),)))[0]
    r = R.row(t, TrialOutcome(0, "cancelled", reason="not run: cancelled before it started"))
    assert (r.status, r.reason, r.val_metric, r.best_epoch) == ("cancelled", "not run: cancelled before it started",
                                                               None, None)
    assert R.row(t, None).status == "queued" and R.row(t, None, running=True).status == "running"
    infos = check_sweep(BASE, SweepSpec(axes=(Axis("optimizer.lr", values=(0.01,)),)))
    text = R.table_text([r], infos)
    assert "cancelled" in text and "—" in text
