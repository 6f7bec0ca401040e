"""RunList without a window: what a run's "differs" column and legend say."""

from workbench import spec as S
from workbench.runs import RunList


def _spec(lr=0.01, seed=0):
    base = S.ExperimentSpec()
    return S.replace(base, optimizer=S.replace(base.optimizer, lr=lr),
                     training=S.replace(base.training, seed=seed))


def test_a_group_made_from_a_group_names_the_change_not_the_seeds():
    runs = RunList()
    a = runs.add_group(_spec(0.01), [0, 1, 2])
    b = runs.add_group(_spec(0.1), [0, 1, 2], parent=a[0].id)
    assert [runs.differs(r) for r in b] == ["η 0.01 → 0.1"] * 3
    assert runs.label(b[1]).startswith("η 0.01 → 0.1 × 3")


def test_a_solo_run_names_a_seed_change():
    runs = RunList()
    a = runs.add(_spec(0.01, seed=0))
    b = runs.add(_spec(0.01, seed=4), parent=a.id)
    assert runs.differs(b) == "seed 0 → 4"
    assert runs.differs(a) == ""
def test_a_run_name_is_one_trimmed_line_of_bounded_length():
    from workbench.runs import MAX_RUN_NAME, run_name

    assert run_name("  baseline\tη 0.1\nwith\r\nmomentum \x00 ") == "baseline η 0.1 with momentum"
    assert run_name(" \n\t ") == ""
    assert run_name("x" * 10_000) == "x" * MAX_RUN_NAME == "x" * 200
    assert run_name(42) == "42"
