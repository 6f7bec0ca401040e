"""Smoke test of benchmarks/bench_lr_find.py: both of its runners run a range test, the
sequential one through lr_find's fallback path, and lr_find's plan is put back after."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_lr_find as bl  # noqa: E402

from workbench import lr_find as lr_find_mod  # noqa: E402
from workbench import spec as S  # noqa: E402
from workbench.data import load_dataset  # noqa: E402


def test_runners_and_check_on_the_default_spec(monkeypatch):
    spec = S.ExperimentSpec()
    dataset = load_dataset(spec.data)
    plan = lr_find_mod.group_plan
    assert bl.check_equal(spec, dataset, 2, 12)
    assert lr_find_mod.group_plan is plan
    run = bl.runners(spec, dataset, 2, 12)
    done, secs = run["lockstep"](1)
    assert done == 1 and secs > 0
    monkeypatch.setattr(lr_find_mod, "range_test_group", None)  # the sequential runner must not group
    done, secs = run["sequential"](1)
    assert done == 1 and secs > 0
    assert lr_find_mod.group_plan is plan
