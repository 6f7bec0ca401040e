"""build.group_fits / lockstep_plan: a group trains in lockstep only when the members'
memory estimates together stay within MAX_RUN_MEMORY."""

from workbench import build
from workbench import spec as S
from workbench.data import load_dataset


def test_a_group_over_the_memory_budget_trains_one_after_the_other(monkeypatch, tmp_path):
    spec = S.ExperimentSpec()
    ds = load_dataset(spec.data, tmp_path)
    specs = [S.replace(spec, "", training=S.replace(spec.training, "training", seed=s)) for s in range(4)]
    one = build.estimate_memory(spec, int(ds.X_train.shape[1]), build.task_of(ds)[1],
                                *(0 if X is None else len(X) for X in (ds.X_train, ds.X_val, ds.X_test)))
    assert build.lockstep_plan(specs, ds) == (True, "")
    monkeypatch.setattr(build, "MAX_RUN_MEMORY", 4 * one)
    assert build.group_fits(specs, ds)
    monkeypatch.setattr(build, "MAX_RUN_MEMORY", 4 * one - 1)
    ok, why = build.lockstep_plan(specs, ds)
    assert not ok and "memory budget" in why
