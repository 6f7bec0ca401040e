"""``mlp-workbench run FILE --seeds 0-7``: one lockstep group (or one run after the other),
each seed equal to its solo run, mean ± std printed, every run written to one file."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest

from workbench import experiment_file
from workbench.build import build_run
from workbench.cli import main
from workbench.runs import parse_seeds, seeds_text
from workbench.data import load_dataset
from workbench.history import Recorder

EXAMPLES = Path(__file__).resolve().parent.parent / "resources" / "examples"


def example(tmp_path, name="overfitting.json", **early_stopping):
    """A bundled example with 15 epochs (and early-stopping changes), saved in tmp_path."""
    spec = experiment_file.load(EXAMPLES / name).spec
    spec = dataclasses.replace(spec, training=dataclasses.replace(spec.training, epochs=15),
                               early_stopping=dataclasses.replace(spec.early_stopping, **early_stopping))
    path = tmp_path / name
    experiment_file.save(path, spec)
    return path, spec


def solo(spec, seed):
    """The solo run of ``spec`` with ``seed``: its result and final weights."""
    spec = dataclasses.replace(spec, training=dataclasses.replace(spec.training, seed=seed))
    run = build_run(spec, load_dataset(spec.data))
    result = Recorder(spec).add_all(run.events()).result()
    return spec, result, run.network.params.copy()


def assert_histories_close(got, expected, rtol):
    assert got.keys() == expected.keys()
    for column in expected:
        a, b = got[column], expected[column]
        assert [v is None for v in a] == [v is None for v in b], column
        np.testing.assert_allclose([v for v in a if v is not None], [v for v in b if v is not None], rtol=rtol,
                                   err_msg=column)


def printed_table(text):
    """{label: (mean, std, n)} from the printed table."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^  (\S.*?)\s{2,}(\S+)\s+(\S+)\s+(\d+)$", line)
        if m and m.group(1) != "mean":
            rows[m.group(1)] = (float(m.group(2)), float("nan") if m.group(3) == "-" else float(m.group(3)),
                                int(m.group(4)))
    return rows


def test_eight_seeds_in_lockstep_equal_their_solo_runs_and_are_written_together(tmp_path, capsys):
    path, spec = example(tmp_path, patience=3)  # early stopping fires at different epochs
    out = tmp_path / "seeds.json"
    assert main(["run", str(path), "--seeds", "0-7", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "in lockstep" in captured.out and "8 seeds (0-7)" in captured.out
    assert "/120" in captured.err  # the progress bar: 8 seeds x 15 epochs, on stderr

    saved = experiment_file.load(out)
    assert saved.spec == spec and saved.current == 0 and len(saved.runs) == 8
    assert [r.name for r in saved.runs] == [f"seed {s}" for s in range(8)]
    assert {r.group for r in saved.runs} == {"seeds 0-7"} and len({r.color for r in saved.runs}) == 1
    stopped = set()
    for seed, run in enumerate(saved.runs):
        expected_spec, expected, weights = solo(spec, seed)
        assert run.spec == expected_spec
        assert_histories_close(run.result.history, expected.history, rtol=1e-5)
        assert run.result.early_stop.best_epoch == expected.early_stop.best_epoch
        assert run.result.status == expected.status == "early_stopped"
        assert run.result.final_metrics.keys() == expected.final_metrics.keys()
        for key, value in expected.final_metrics.items():
            assert run.result.final_metrics[key] == pytest.approx(value, rel=1e-5)
        np.testing.assert_allclose(experiment_file.decode_weights(run.result.weights), weights, rtol=1e-4, atol=1e-6)
        stopped.add(run.result.early_stop.stopped_epoch)
    assert len(stopped) > 1  # members stopped at different epochs

    # the printed means and standard deviations, against NumPy over the saved runs
    results = [r.result for r in saved.runs]

    def at_best(r, column):
        return r.history[column][r.history["epoch"].index(float(r.early_stop.best_epoch))]

    expected_rows = {
        "final val loss": [r.final_metrics["val_loss"] for r in results],
        "final val accuracy": [r.final_metrics["val_accuracy"] for r in results],
        "final train loss": [r.final_metrics["train_loss"] for r in results],
        "best epoch": [r.early_stop.best_epoch for r in results],
        "val loss at best epoch": [at_best(r, "val_loss") for r in results],
        "val accuracy at best epoch": [at_best(r, "val_accuracy") for r in results],
    }
    table = printed_table(captured.out)
    assert set(table) == set(expected_rows)
    for label, values in expected_rows.items():
        mean, std, n = table[label]
        assert n == 8
        assert mean == pytest.approx(np.mean(values), rel=1e-5), label
        assert std == pytest.approx(np.std(values, ddof=1), rel=1e-5), label
    assert table["best epoch"][1] > 0  # the seeds disagree: a real spread


def test_a_test_split_and_a_follow_up_train_the_seeds_one_after_the_other(tmp_path, capsys):
    path, spec = example(tmp_path, "iris.json", enabled=True, patience=3, followup="retrain")
    assert spec.data.test_fraction > 0
    out = tmp_path / "seq.json"
    assert main(["run", str(path), "--seeds", "4,2", "--out", str(out), "--quiet", "--no-weights"]) == 0
    printed = capsys.readouterr().out
    assert "2 seeds (4,2) one after the other" in printed  # follow-ups are not run in lockstep

    saved = experiment_file.load(out)
    assert [r.name for r in saved.runs] == ["seed 4", "seed 2"] and {r.group for r in saved.runs} == {"seeds 4,2"}
    for seed, run in zip((4, 2), saved.runs):
        _, expected, _ = solo(spec, seed)
        assert run.result.history == expected.history  # the same code path: bit for bit
        assert run.result.followup_history == expected.followup_history is not None
        assert run.result.weights is None
    table = printed_table(printed)
    tests = [r.result.final_metrics["test_accuracy"] for r in saved.runs]
    assert table["final test accuracy"][0] == pytest.approx(np.mean(tests), rel=1e-5)
    assert table["final test accuracy"][2] == 2


def test_one_seed_has_no_spread(tmp_path, capsys):
    path, _ = example(tmp_path, "sine_regression.json")
    assert main(["run", str(path), "--seeds", "5", "--out", str(tmp_path / "one.json"), "--quiet"]) == 0
    table = printed_table(capsys.readouterr().out)
    assert set(table) == {"final val loss", "final val rmse", "final val r2", "final train loss"}
    assert all(n == 1 and math.isnan(std) for _, std, n in table.values())


@pytest.mark.parametrize("text, seeds", [
    ("0-7", list(range(8))), ("1,3,5", [1, 3, 5]), ("0-3,9", [0, 1, 2, 3, 9]), (" 2 , 0-1", [2, 0, 1]),
    ("4294967295", [4294967295]), ("0-63", list(range(64))),
])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


def test_seeds_text_is_compact():
    assert seeds_text([0, 1, 2, 3, 9]) == "0-3,9" and seeds_text([4, 2]) == "4,2" and seeds_text([7]) == "7"
    long = seeds_text(list(range(0, 128, 2)))
    assert len(long) <= 160 and long.endswith(",… (64)")


@pytest.mark.parametrize("text, message", [
    ("3-1", "'3-1' is an empty range: 3 > 1"),
    ("x", "'x' is neither a seed nor a range"),
    ("1-", "'1-' is neither a seed nor a range"),
    ("0-3,,4", "'' is neither a seed nor a range"),
    ("-2", "'-2' is neither a seed nor a range"),
    ("0-64", "more than 64 seeds"),
    ("1,0-2", "seed 1 is given twice"),
    ("4294967296", "a seed is at most 4294967295"),
])
def test_malformed_seeds_exit_with_one_clear_line(tmp_path, capsys, text, message):
    path, _ = example(tmp_path, "sine_regression.json")
    out = tmp_path / "never.json"
    assert main(["run", str(path), "--seeds", text, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mlp-workbench: error: --seeds: ") and message in err and "\n" not in err
    assert not out.exists()


def test_seed_and_seeds_together_are_refused(tmp_path, capsys):
    path, _ = example(tmp_path, "sine_regression.json")
    assert main(["run", str(path), "--seeds", "0-1", "--seed", "3", "--quiet"]) == 2
    assert "--seed and --seeds" in capsys.readouterr().err


def test_seeds_that_would_not_fit_in_memory_together_train_one_after_the_other(tmp_path, capsys, monkeypatch):
    from workbench import build

    path, spec = example(tmp_path, "sine_regression.json")
    monkeypatch.setattr(build, "group_fits", lambda specs, dataset: False)  # each run still fits alone
    out = tmp_path / "apart.json"
    assert main(["run", str(path), "--seeds", "0-2", "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "3 seeds (0-2) one after the other" in captured.out and "memory budget" in captured.err
    for seed, run in enumerate(experiment_file.load(out).runs):
        assert run.result.history == solo(spec, seed)[1].history
