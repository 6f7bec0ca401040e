"""Smoke test of benchmarks/: every benchmark function runs a couple of steps on tiny
sizes, so the scripts cannot rot.  References that are not installed (PyTorch,
scikit-learn, numexpr) are skipped.  Timing numbers are not checked here."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_common  # noqa: E402
import bench_subnormal  # noqa: E402
import bench_training as bt  # noqa: E402
import profile_step  # noqa: E402

MULTI = bt.Case(
    "smoke_multi", (6, 5, 4, 3), "relu", "multiclass", "adam", 1e-3, 8, 40,
    steps=2, quick_steps=2, targets=(("torch_adam_fused", 1.2), ("sklearn_fit", 2.5)),
)
BINARY = bt.Case(
    "smoke_binary", (2, 4, 4, 1), "tanh", "binary", "sgd", 0.1, 5, 30,
    steps=2, quick_steps=2, targets=(("torch_sgd", 5.0),), init="xavier_uniform",
)
bench_common.PAUSE = 0.0  # no need to let BLAS threads settle in a smoke test


@pytest.mark.parametrize("case", [MULTI, BINARY], ids=lambda c: c.name)
@pytest.mark.parametrize("impl", list(bt.IMPLEMENTATIONS))
def test_each_implementation_runs_two_steps(case, impl):
    pkg = bt.NEEDS.get(impl)
    if pkg:
        pytest.importorskip(pkg)
    if impl == "torch_sgd" and case.optimizer != "sgd" or impl.startswith("torch_adam") and case.optimizer != "adam":
        pytest.skip("not a reference of this case")
    X, y = bt.make_data(case)
    run = bt.IMPLEMENTATIONS[impl](case, X, y)
    done, secs = run(2)
    assert done > 0 and secs > 0


def test_ours_runner_trains_with_the_real_api():
    X, y = bt.make_data(MULTI)
    run = bt.ours_runner(MULTI, X, y)
    before = run.net.params.copy()
    run(3)
    assert not np.array_equal(before, run.net.params)
    assert run.opt.t == 3


def test_torch_starts_from_our_initial_weights():
    torch = pytest.importorskip("torch")
    X, y = bt.make_data(MULTI)
    net = bt.make_network(MULTI)
    xb, yb = X[:8], y[:8]
    ours = net.loss_and_grad(xb, yb)
    # the torch runner copies the same initial weights; its first loss must agree
    from torch import nn

    layers = []
    for l in range(len(net.weights)):
        lin = nn.Linear(*net.weights[l].shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(net.weights[l].T)))
            lin.bias.copy_(torch.from_numpy(net.biases[l].copy()))
        layers += [lin, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    theirs = nn.CrossEntropyLoss()(model(torch.from_numpy(xb)), torch.from_numpy(yb)).item()
    assert theirs == pytest.approx(ours, rel=1e-5)


def test_run_case_reports_ratios_and_targets():
    result = bt.run_case(MULTI, rounds=1, steps=2, verbose=False, quiet=None,
                         names=["ours", "ours_trainer", "gemm"], env={"stub": True})
    assert set(result["median_step_us"]) == {"ours", "ours_trainer", "gemm"}
    assert result["ratios_ours_over"]["gemm"]["rounds"] == 1
    assert [t["reference"] for t in result["targets"]] == ["torch_adam_fused", "sklearn_fit"]
    assert all(t["met"] is None for t in result["targets"])  # references not run
    assert "fraction of pure-GEMM" in bt.report_case(result)


def test_interleave_and_ratio(monkeypatch):
    monkeypatch.setattr(bench_common.CpuMeter, "snapshot", staticmethod(lambda: None))  # no /proc: load unknown
    calls = []

    def runner(name, secs):
        def run(k):
            calls.append(name)
            return k, secs * k
        return run

    t = bench_common.interleave({"a": runner("a", 1.0), "b": runner("b", 2.0)}, rounds=3, steps=2,
                                warmup=0, pause=0.0)
    assert calls == ["a", "b", "b", "a", "a", "b"]  # start rotates each round
    assert bench_common.ratio_stats(t["a"], t["b"])["median"] == pytest.approx(2.0)
    assert t["a"].foreign == [None] * 3 and bench_common.clean_rounds(t) == [0, 1, 2]  # unknown counts as quiet


def test_clean_rounds_drop_rounds_where_others_used_the_cpu():
    t = {"a": bench_common.Timing("a", [1.0] * 4, [0.0, 0.5, None, 0.1]),
         "b": bench_common.Timing("b", [1.0] * 4, [0.1, 0.0, 0.0, 0.3])}
    assert bench_common.clean_rounds(t, limit=0.25) == [0, 2]
    assert bench_common.clean_rounds(t, limit=1.0) == [0, 1, 2, 3]


def test_cpu_meter_counts_other_processes_and_refuses_too_short_intervals(monkeypatch):
    hz = bench_common.CpuMeter.HZ
    # /proc snapshots: (busy ticks of the machine, stolen ticks, this process's ticks, time)
    snaps = iter([(1000, 0, 100, 10.0), (1000 + hz, hz // 2, 100 + hz // 2, 12.0),
                  (0, 0, 0, 20.0), (1, 0, 0, 20.001)])
    monkeypatch.setattr(bench_common.CpuMeter, "snapshot", staticmethod(lambda: next(snaps)))
    meter = bench_common.CpuMeter()
    meter.start()
    # 2 s: others used hz - hz/2 ticks, the hypervisor stole hz/2: one core-second -> 0.5 cores
    assert meter.stop() == pytest.approx((hz - hz // 2 + hz // 2) / (hz * 2.0))
    meter.start()
    assert meter.stop() is None  # 1 ms apart: one stray tick is not "10 cores"


def test_environment_and_subnormal_count():
    env = bench_common.environment()
    assert env["numpy"] == np.__version__ and "blas" in env
    a = np.array([0.0, 1e-40, -1e-41, 1.0, np.finfo(np.float32).tiny], np.float32)
    assert bench_common.count_subnormal(a) == 2


def test_subnormal_benchmark_runs():
    result = bench_subnormal.run(steps=18, window=3, kill_at=2, batch=4, n_samples=32, sizes=(8, 6, 4, 3),
                                 verbose=False)
    assert result["ours"]["max_subnormal_state_entries"] == 0
    assert result["zero_grad_share_after_kill"] > 0.2
    assert len(result["windows"]["update_us"]["naive"]) == 6
    assert "late/early" in bench_subnormal.report(result)
    penalty = bench_subnormal.probe_penalty(n=1000, rounds=1, reps=2)
    assert set(penalty) == {"multiply", "add", "divide", "sqrt"}


def test_naive_adam_is_the_textbook_formula():
    opt = bench_subnormal.NaiveAdam(3)
    w = np.zeros(3, np.float32)
    g = np.array([1.0, -2.0, 0.0], np.float32)
    opt.step(w, g, 0.1)
    # first step: m^ = g, v^ = g^2 -> w = -lr * g/(|g| + eps)
    np.testing.assert_allclose(w, [-0.1, 0.1, 0.0], rtol=1e-5)


def test_profile_step_runs():
    small = replace(MULTI, steps=2)
    out = profile_step.insitu_case(small, rounds=1, steps=2, verbose=False, quiet=None)
    assert out["median_us"]["gemm"] > 0 and out["median_us"]["total"] > 0
    comp = profile_step.profile_case(small, rounds=1, steps=2, verbose=False, quiet=None)
    assert set(comp["parts_us"]) == {*profile_step.PARTS, "rest"}


def test_adam_variants_match_the_engine():
    sys.path.insert(0, str(BENCH / "experiments"))
    import adam_variants

    errs = adam_variants.check(n=1001)
    assert all(e < 1e-6 for e in errs.values())


# -- benchmarks/ui_responsiveness.py: its window path runs against today's window ------------


def test_ui_responsiveness_window_path_runs(qapp, monkeypatch):
    """The medium case on a tiny set, one round, all three variants through the real
    ``MainWindow`` (data handed over through the session, the run started, its frames
    counted through the FrameGate, the window closed without a dialog) and the repaint
    measurement.  Any exception in a Qt callback fails the script, so it fails here."""
    import ui_responsiveness as ur

    monkeypatch.setattr(bench_common, "PAUSE", 0.0)
    lines = []
    payload = ur.run(["--case", "medium", "--quick", "--epochs", "1", "--samples", "384", "--no-wait",
                      "--before", "none", "--out", ""], log=lines.append)
    case = payload["cases"]["medium"]
    assert case["n_train"] == 384 and case["rounds_run"] == 1
    assert set(case["runs"]) == {"headless", "window", "window+batches"}
    for variant in ("window", "window+batches"):
        m = case["runs"][variant][0]
        assert m["epochs"] == 1 and m["samples"] == 384
        assert m["updates"] >= 1 and "n" in m["lateness_ms"]  # a tiny run may end before the probe's first tick
        assert m["frame_cost_ms"]["n"] >= m["frames"]
        assert set(case["summary"][variant]) >= {"ratio_median", "lateness_p99_median_ms", "meets_latency"}
    assert case["repaint_ms"]["window_ms"] > 0 and case["repaint_ms"]["boundary_ms"] is None
    assert payload["targets"]["lateness_p99_ms"] == 20.0 and payload["targets"]["throughput_ratio"] == 0.95
    assert [(r["case"], r["variant"]) for r in payload["side_by_side"]] == [("medium", "window"),
                                                                            ("medium", "window+batches")]
    assert isinstance(payload["targets_met"], bool)  # timing: whichever it is, not checked here
    assert any("window+batches" in line for line in lines)


def test_ui_responsiveness_repaint_draws_the_boundary(qapp, tmp_path):
    """The repaint measurement of the spirals case draws the boundary of the run's weights
    (a picture that cannot be made raises instead of being skipped)."""
    import ui_responsiveness as ur

    spec, dataset = ur.make_case("spirals", 2)
    out = ur.measure_repaint(spec, dataset, ur.finished_result(spec, dataset), str(tmp_path), repeats=1)
    assert out["boundary_ms"] is not None and out["curves_ms"] > 0


@pytest.mark.qt_no_exception_capture  # the script's own capture is what is tested
def test_ui_responsiveness_fails_loudly_on_an_exception_in_a_slot(qapp):
    """An exception in a slot while the run's event loop runs (Qt prints it and carries on)
    ends the benchmark: the stale script once measured a window whose frame counting
    raised in a slot, and reported an empty frame cost."""
    from PySide6.QtCore import QEventLoop, QTimer

    import ui_responsiveness as ur

    def broken():
        raise AttributeError("'TrainingWorker' object has no attribute 'acknowledge'")

    loop = QEventLoop()
    with pytest.raises(RuntimeError, match="exception.*in Qt callbacks.*acknowledge"), ur.QtErrors():
        QTimer.singleShot(0, broken)
        QTimer.singleShot(10, loop.quit)
        loop.exec()


def test_ui_responsiveness_reads_the_numbers_from_before_the_split():
    import subprocess

    import ui_responsiveness as ur

    if subprocess.run(["git", "-C", str(BENCH.parent), "cat-file", "-e", f"{ur.BEFORE_REF}:{ur.BEFORE_PATH}"],
                      capture_output=True, check=False).returncode != 0:
        pytest.skip(f"not a checkout with {ur.BEFORE_REF}")
    before = ur.load_before()
    summary = before["cases"]["medium"]["summary"]
    assert set(summary) == {"window", "window+batches"}
    assert summary["window"]["ratio_median"] > 0 and summary["window+batches"]["lateness_p99_median_ms"] > 0


def test_ui_responsiveness_results_file_serves_as_a_later_before():
    """The results file this script writes is read back as 'before' numbers
    (``--before LABEL=PATH``), and the side-by-side rows put them next to a run's."""
    import ui_responsiveness as ur

    path = BENCH / "results" / "ui_responsiveness.json"
    before = ur.load_before(f"today={path}")
    assert before["label"] == "today" and "medium" in before["cases"]
    medium = before["cases"]["medium"]
    results = {"medium": {"compared_with": "medium", "epochs": medium["epochs"],
                          "summary": {v: {**s, "meets_latency": True, "meets_throughput": False}
                                      for v, s in medium["summary"].items()}}}
    rows = ur.side_by_side([before], results)
    assert [(r["variant"], r["code"].split(":")[0], r["meets_targets"]) for r in rows] == [
        ("window", "before", None), ("window", "after", False),
        ("window+batches", "before", None), ("window+batches", "after", False)]
    assert "window+batches" in ur.format_side_by_side(rows)
