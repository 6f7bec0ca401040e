"""Smoke test of benchmarks/bench_sweep.py: its cases build and run (in this process, a
few epochs), so the script cannot rot.  Timings are not checked here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_sweep  # noqa: E402

from workbench.data import load_dataset  # noqa: E402


def test_the_benchmark_cases_run():
    base, sweep = bench_sweep.speed_case(epochs=2)
    assert sweep.n_runs == 8
    seconds, outcomes = bench_sweep.timed_sweep(base, sweep, load_dataset(base.data), workers=0)
    assert seconds > 0 and [o.status for o in outcomes] == ["finished"] * 8
    base, sweep = bench_sweep.overhead_case(trials=3)
    assert base.training.epochs == 1 and sweep.n_runs == 3
    meter = bench_sweep.ForeignMeter()
    meter.start()
    bench_sweep.timed_sweep(base, sweep, load_dataset(base.data), workers=0)
    assert meter.stop() >= 0.0
    assert bench_sweep.blas_threads()
