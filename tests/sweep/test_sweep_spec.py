"""Sweeps as data: the fields a sweep can vary, expansion into trials (grid and random,
deterministic), validation against the base experiment naming the field, bounds checked
before anything is expanded, and the ``sweep`` key of an experiment file."""

from __future__ import annotations

import dataclasses
import json
import time
import types

import numpy as np
import pytest

from workbench.spec import ExperimentSpec, LayerSpec, SpecError, parse
from workbench.sweep import file as sweep_file
from workbench.sweep import spec as sweep_spec_mod
from workbench.sweep.fields import field_info, format_value, sweepable_fields, with_value
from workbench.sweep.spec import (MAX_AXIS_VALUES, MAX_SWEEP_AXES, MAX_SWEEP_RUNS, Axis, Budget, SweepSpec,
                                  check_sweep, point_label, points, trials)

BASE = ExperimentSpec()


def sweep(*axes, **kw) -> SweepSpec:
    return SweepSpec(axes=tuple(axes), **kw)


def errors_of(call) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        call()
    return info.value.errors


# ---------------------------------------------------------------------------
# The fields


def test_fields_read_their_ranges_off_the_registries_and_the_spec():
    fields = sweepable_fields(BASE)
    lr = fields["optimizer.lr"]
    assert (lr.kind, lr.low, lr.low_open, lr.high, lr.scale, lr.label) == ("float", 0.0, True, 10.0, "log", "η")
    assert fields["optimizer.momentum"].high_open and fields["optimizer.momentum"].high == 1.0
    assert fields["optimizer.kind"].choices[:2] == ("sgd", "momentum")
    assert fields["regularization.l2"].label == "L2 α" and fields["regularization.l2"].scale == "log"
    units = fields["architecture.layers.0.units"]
    assert (units.kind, units.low, units.high, units.label) == ("int", 1.0, 4096.0, "units₁")
    assert fields["architecture.layers.*.activation"].kind == "choice"
    assert fields["schedule.gamma"].low_open and fields["schedule.gamma"].high == 1.0
    assert fields["early_stopping.enabled"].kind == "bool"
    # not sweepable: the data recipe, the seed, the milestones, a layer the base lacks
    for path in ("data.noise", "training.seed", "schedule.milestones", "name", "architecture.layers.2.units"):
        assert path not in fields
        with pytest.raises(ValueError):
            field_info(BASE, path)


def test_with_value_sets_one_layer_or_all_and_names_the_field():
    spec = with_value(BASE, "architecture.layers.1.units", 64)
    assert [layer.units for layer in spec.architecture.layers] == [16, 64]
    spec = with_value(BASE, "architecture.layers.*.dropout", 0.25)
    assert [layer.dropout for layer in spec.architecture.layers] == [0.25, 0.25]
    with pytest.raises(SpecError, match=r"^optimizer\.lr: must be > 0"):
        with_value(BASE, "optimizer.lr", 0.0)


def test_format_value_is_compact():
    assert [format_value(v) for v in (0.01, 1e-4, 0.0, 3, True, "adam", 0.30000000000000004)] == [
        "0.01", "1e-4", "0", "3", "on", "adam", "0.3"]


# ---------------------------------------------------------------------------
# Expansion


def test_grid_is_every_combination_first_axis_slowest_log_and_linear_spacing():
    s = sweep(Axis("optimizer.lr", "log_uniform", 1e-3, 1e-1), Axis("regularization.l2", "uniform", 0.0, 1e-3),
              Axis("optimizer.kind", values=("adam", "sgd")), method="grid", points_per_axis=3)
    got = points(BASE, s)
    assert len(got) == 3 * 3 * 2 == s.n_points
    assert [p["optimizer.lr"] for p in got[::6]] == [0.001, 0.01, 0.1]  # geometric spacing, exact ends
    assert [p["regularization.l2"] for p in got[:6:2]] == [0.0, 0.0005, 0.001]  # linear spacing
    assert [p["optimizer.kind"] for p in got[:2]] == ["adam", "sgd"]  # last axis fastest
    assert list(got[0]) == ["optimizer.lr", "regularization.l2", "optimizer.kind"]


def test_integer_ranges_round_and_never_repeat():
    s = sweep(Axis("architecture.layers.*.units", "int_uniform", 4, 6), method="grid", points_per_axis=5)
    assert s.n_points == 3  # min(points, 6 - 4 + 1), known before expanding
    assert [p["architecture.layers.*.units"] for p in points(BASE, s)] == [4, 5, 6]
    s = sweep(Axis("architecture.layers.*.units", "log_uniform", 1, 3), method="grid", points_per_axis=5)
    values = [p["architecture.layers.*.units"] for p in points(BASE, s)]
    assert values == sorted(set(values)) and all(type(v) is int for v in values) and values[0] == 1


def test_random_points_are_seeded_rounded_in_range_and_axes_draw_apart():
    big = Budget(max_runs=200)
    one = sweep(Axis("optimizer.lr", "log_uniform", 1e-4, 1.0), samples=200, seed=7, budget=big)
    two = sweep(Axis("optimizer.lr", "log_uniform", 1e-4, 1.0), Axis("optimizer.momentum", "uniform", 0.5, 0.99),
                samples=200, seed=7, budget=big)
    a, b = points(BASE, one), points(BASE, two)
    assert a == points(BASE, one)  # deterministic
    assert [p["optimizer.lr"] for p in a] == [p["optimizer.lr"] for p in b]  # adding an axis changes no other
    lrs = np.array([p["optimizer.lr"] for p in a])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1.0
    assert all(float(f"{x:.4g}") == x for x in lrs)  # 4 significant digits
    # log-uniform: about as many draws per decade (4 decades, 50 each expected)
    counts = np.histogram(np.log10(lrs), bins=4, range=(-4, 0))[0]
    assert counts.min() > 25, counts
    other = points(BASE, dataclasses.replace(one, seed=8))
    assert [p["optimizer.lr"] for p in other] != [p["optimizer.lr"] for p in a]
    kinds = {p["optimizer.kind"] for p in points(BASE, sweep(Axis("optimizer.kind", values=("sgd", "adam")),
                                                         samples=40))}
    assert kinds == {"sgd", "adam"}


def test_trials_repeat_each_point_with_consecutive_seeds():
    base = dataclasses.replace(BASE, training=dataclasses.replace(BASE.training, seed=5))
    s = sweep(Axis("optimizer.lr", values=(0.01, 0.1)), method="grid", repeats=3)
    got = trials(base, s)
    assert [(t.index, t.point_index, t.seed) for t in got] == [(0, 0, 5), (1, 0, 6), (2, 0, 7), (3, 1, 5), (4, 1, 6),
                                                                (5, 1, 7)]
    assert [t.spec.training.seed for t in got] == [5, 6, 7, 5, 6, 7]
    assert [t.spec.optimizer.lr for t in got] == [0.01] * 3 + [0.1] * 3
    assert all(t.spec.data == base.data and t.problem == "" for t in got)


def test_a_point_that_breaks_a_rule_only_in_combination_is_a_trial_with_its_problem():
    s = sweep(Axis("optimizer.kind", values=("sgd", "nesterov")), Axis("optimizer.momentum", values=(0.0, 0.9)),
              method="grid")
    got = trials(BASE, s)
    bad = [t for t in got if t.spec is None]
    assert [(t.point["optimizer.kind"], t.point["optimizer.momentum"]) for t in bad] == [("nesterov", 0.0)]
    assert bad[0].problem.startswith("invalid settings: optimizer") and "momentum" in bad[0].problem
    assert len(got) == 4


def test_point_label_uses_the_short_names():
    infos = check_sweep(BASE, sweep(Axis("optimizer.lr", values=(0.01,)), Axis("regularization.l2", values=(1e-4,))))
    assert point_label({"optimizer.lr": 0.01, "regularization.l2": 1e-4}, infos) == "η 0.01, L2 α 1e-4"


# ---------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize("axis, path, words", [
    (Axis("optimizer.foo", "uniform", 0, 1), "sweep.axes.0.field", "not a sweepable setting"),
    (Axis("data.noise", "uniform", 0, 1), "sweep.axes.0.field", "data set is loaded once"),
    (Axis("training.seed", values=(1, 2)), "sweep.axes.0.field", "repeats"),
    (Axis("architecture.layers.4.units", values=(8,)), "sweep.axes.0.field", "2 hidden layers"),
    (Axis("optimizer.lr", "uniform", 0.0, 1.0), "sweep.axes.0.low", "optimizer.lr must be in (0, 10], got 0"),
    (Axis("optimizer.lr", "log_uniform", 1e-3, 20.0), "sweep.axes.0.high", "got 20"),
    (Axis("optimizer.kind", "uniform", 0, 1), "sweep.axes.0.kind", "kind 'values'"),
    (Axis("early_stopping.enabled", "uniform", 0, 1), "sweep.axes.0.kind", "on/off"),
    (Axis("optimizer.lr", "int_uniform", 1, 3), "sweep.axes.0.kind", "not a whole number"),
    (Axis("optimizer.kind", values=("adam", "lbfgs")), "sweep.axes.0.values.1", "'lbfgs'"),
    (Axis("optimizer.lr", values=(0.1, "0.2")), "sweep.axes.0.values.1", "must be a number"),
    (Axis("architecture.layers.0.units", values=(8, 8.5)), "sweep.axes.0.values.1", "an integer"),
    (Axis("early_stopping.enabled", values=(True, 1)), "sweep.axes.0.values.1", "true or false"),
])
def test_every_problem_names_its_field(axis, path, words):
    errors = errors_of(lambda: trials(BASE, sweep(axis)))
    assert errors[0][0] == path and words in errors[0][1], errors


def test_all_problems_are_listed_and_seeds_stay_in_range():
    from workbench.limits import MAX_SEED

    base = dataclasses.replace(BASE, training=dataclasses.replace(BASE.training, seed=MAX_SEED))
    errors = errors_of(lambda: check_sweep(base, sweep(Axis("optimizer.foo", values=(1,)),
                                                       Axis("optimizer.lr", values=(-1.0,)), repeats=2)))
    assert [p for p, _ in errors] == ["sweep.axes.0.field", "sweep.axes.1.values.0", "sweep.repeats"]


@pytest.mark.parametrize("data, path, words", [
    ({"axes": []}, "sweep.axes", "at least 1"),
    ({"axes": [{"field": "optimizer.lr", "kind": "uniform", "low": 0.1}]}, "sweep.axes.0.high", "needs low and high"),
    ({"axes": [{"field": "optimizer.lr", "kind": "uniform", "low": 0.2, "high": 0.1}]}, "sweep.axes.0.high", "> low"),
    ({"axes": [{"field": "optimizer.lr", "kind": "log_uniform", "low": 0, "high": 1}]}, "sweep.axes.0.low", "low > 0"),
    ({"axes": [{"field": "optimizer.lr", "kind": "values", "values": [0.1, 0.1]}]}, "sweep.axes.0.values", "twice"),
    ({"axes": [{"field": "optimizer.lr", "values": [0.1], "low": 0.1}]}, "sweep.axes.0.low", "not low/high"),
    ({"axes": [{"field": "optimizer.lr", "values": [0.1]}] * 2}, "sweep.axes.1.field", "two axes"),
    ({"axes": [{"field": "optimizer.lr", "values": [0.1]}], "method": "bayes"}, "sweep.method", "one of"),
    ({"axes": [{"field": "optimizer.lr", "values": [0.1]}], "bogus": 1}, "sweep.bogus", "unknown key"),
    ({"axes": [{"field": "optimizer.lr", "values": [0.1]}], "samples": 100, "repeats": 2},
     "sweep.budget.max_runs", "100 samples x 2 repeats = 200 runs, more than max_runs 64"),
    ({"axes": [{"field": "optimizer.lr", "values": [0.1]}], "budget": {"max_runs": MAX_SWEEP_RUNS + 1}},
     "sweep.budget.max_runs", f"<= {MAX_SWEEP_RUNS}"),
    ({"axes": [{"field": "optimizer.lr", "values": [0.1]}], "budget": {"max_seconds": 0}},
     "sweep.budget.max_seconds", "> 0"),
    ({"axes": [{"field": "optimizer.lr", "values": [True]}]}, "sweep.axes.0.values.0", "must be a number"),
])
def test_bad_sweeps_are_refused_naming_the_path(data, path, words):
    errors = errors_of(lambda: sweep_file.parse_sweep(data, BASE))
    assert errors[0][0] == path and words in errors[0][1], errors


def test_bounds_are_checked_before_anything_is_expanded(monkeypatch):
    # 32^8 grid points would take hours to expand: refused at once, by arithmetic.  Checked
    # by what runs, not by the clock: the expansion steps are made to fail if they are
    # reached at all, and the CPU time of this thread (not the wall time, which a loaded
    # machine stretches) stays far below what even starting to expand would cost.
    class Expanded(RuntimeError):  # (not a ValueError/AssertionError: pydantic would report those as invalid)
        pass

    def expanded(*args, **kwargs):
        raise Expanded("the sweep was expanded before its bounds were checked")

    for step in ("points", "trials", "_grid_values", "_random_values"):
        monkeypatch.setattr(sweep_spec_mod, step, expanded)
    monkeypatch.setattr(sweep_spec_mod, "itertools", types.SimpleNamespace(product=expanded))
    axes = [{"field": f"optimizer.{name}", "kind": "uniform", "low": 0.1, "high": 0.5}
            for name in ("momentum", "beta1", "beta2", "rho")]
    axes += [{"field": f"architecture.layers.{i}.dropout", "kind": "uniform", "low": 0.1, "high": 0.5}
             for i in range(2)]
    axes += [{"field": "regularization.l2", "kind": "uniform", "low": 0.1, "high": 0.5},
             {"field": "regularization.l1", "kind": "uniform", "low": 0.1, "high": 0.5}]
    data = {"axes": axes, "method": "grid", "points_per_axis": MAX_AXIS_VALUES, "budget": {"max_runs": 512}}
    start = time.thread_time()
    errors = errors_of(lambda: sweep_file.parse_sweep(data, BASE))
    assert time.thread_time() - start < 1.0
    assert errors[0][0] == "sweep.budget.max_runs" and f"{32 ** 8} runs" in errors[0][1]
    too_many_axes = {"axes": [{"field": "optimizer.lr", "values": [0.1]}] * (MAX_SWEEP_AXES + 1)}
    assert errors_of(lambda: sweep_file.parse_sweep(too_many_axes))[0] == (
        "sweep.axes", f"must have at most {MAX_SWEEP_AXES} items, got {MAX_SWEEP_AXES + 1}")
    long_values = {"axes": [{"field": "optimizer.lr", "values": [0.1] * 10_000}]}
    assert errors_of(lambda: sweep_file.parse_sweep(long_values))[0] == (
        "sweep.axes.0.values", f"must have at most {MAX_AXIS_VALUES} items, got 10000")


def test_a_sweep_at_its_bounds_is_accepted():
    s = sweep(Axis("optimizer.lr", "log_uniform", 1e-4, 1.0), samples=MAX_SWEEP_RUNS,
              budget=Budget(max_runs=MAX_SWEEP_RUNS))
    assert len(trials(BASE, s)) == MAX_SWEEP_RUNS


# ---------------------------------------------------------------------------
# The experiment file's "sweep" key


def test_a_file_keeps_its_sweep_and_reads_it_back(tmp_path):
    s = sweep(Axis("optimizer.lr", "log_uniform", 1e-3, 1e-1), Axis("regularization.l2", values=(0.0, 1e-4)),
              Axis("architecture.layers.0.activation", values=("relu", "tanh")), method="grid", repeats=2,
              budget=Budget(max_runs=24, max_seconds=60.0))
    path = tmp_path / "sweep.json"
    sweep_file.save(path, BASE, s)
    found = sweep_file.load(path)
    assert found.sweep == s and found.spec == BASE
    doc = json.loads(path.read_text())
    assert doc["sweep"]["axes"][1] == {"field": "regularization.l2", "kind": "values", "values": [0.0, 0.0001]}
    assert doc["format"] == "mlp-workbench-experiment"
    # a file without a sweep: None
    plain = tmp_path / "plain.json"
    sweep_file.save(plain, BASE, None)
    assert sweep_file.load(plain).sweep is None


def test_a_bad_sweep_in_a_file_names_its_json_path():
    from workbench.experiment_file import ExperimentFileError

    doc = json.loads(sweep_file.dumps(BASE, sweep(Axis("optimizer.lr", values=(0.1,)))))
    doc["sweep"]["axes"][0]["values"] = ["0.1"]
    with pytest.raises(ExperimentFileError, match=r"sweep\.axes\.0\.values\.0: optimizer\.lr must be a number"):
        sweep_file.loads(json.dumps(doc))
    doc["sweep"]["axes"][0] = {"field": "optimizer.lr", "values": [0.1], "code": "__import__('os')"}
    with pytest.raises(ExperimentFileError, match=r"sweep\.axes\.0\.code: unknown key"):
        sweep_file.loads(json.dumps(doc))
    doc["sweep"] = {"axes": [{"field": "optimizer.lr", "values": [0.1] * 100}]}
    with pytest.raises(ExperimentFileError, match=r"sweep\.axes\.0\.values: must have at most"):
        sweep_file.loads(json.dumps(doc))


def test_the_sweep_of_a_spec_with_one_layer_and_no_layers():
    one = parse(ExperimentSpec, {"architecture": {"layers": [{"units": 8}]}})
    assert "architecture.layers.0.units" in sweepable_fields(one)
    got = trials(one, sweep(Axis("architecture.layers.*.units", values=(4, 12)), method="grid"))
    assert [t.spec.architecture.layers for t in got] == [(LayerSpec(4),), (LayerSpec(12),)]
    none = dataclasses.replace(BASE, architecture=dataclasses.replace(BASE.architecture, layers=()))
    assert not any(p.startswith("architecture.layers") for p in sweepable_fields(none))
