"""Undo commands: the spec difference computed once, live changes each way, and edits of
one field merging into one step."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoStack

from workbench import spec as S
from workbench.ui.commands import SpecCommand, changed_fields, describe, live_changes

BASE = S.ExperimentSpec()


def with_(section, **changes):
    return S.replace(BASE, **{section: S.replace(getattr(BASE, section), **changes)})


def test_changed_fields_and_describe():
    new = S.replace(with_("optimizer", lr=0.1), training=S.replace(BASE.training, epochs=5, seed=3))
    assert changed_fields(BASE, new) == {"optimizer": ("lr",), "training": ("epochs", "seed")}
    assert describe(BASE, new) == "Change optimizer.lr, training.epochs, training.seed"
    arch = S.replace(BASE, architecture=S.ArchitectureSpec(layers=(), input_dropout=0.1, output_init="zeros"))
    assert describe(BASE, arch) == "Change architecture"
    assert describe(BASE, BASE) == "Change experiment"


def test_live_changes_only_for_settings_the_trainer_takes_mid_run():
    assert live_changes(BASE, with_("optimizer", lr=0.2)) == {"lr": 0.2}
    both = S.replace(with_("optimizer", lr=0.2), regularization=S.replace(BASE.regularization, l2=0.01,
                                                                         weight_decay=0.5))
    assert live_changes(BASE, both) == {"lr": 0.2, "l2": 0.01, "weight_decay": 0.5}
    assert live_changes(BASE, with_("optimizer", momentum=0.5)) is None
    assert live_changes(BASE, with_("training", epochs=7)) is None


@pytest.fixture
def applied():
    return []


def command(applied, old, new):
    diff = changed_fields(old, new)  # as the session computes it, once per edit
    return SpecCommand(lambda spec, live: applied.append((spec, live)), old, new, diff, live_changes(old, new, diff))


def test_redo_and_undo_apply_the_live_change_of_each_direction(applied):
    cmd = command(applied, BASE, with_("optimizer", lr=0.2))
    cmd.redo()
    cmd.undo()
    assert applied == [(with_("optimizer", lr=0.2), {"lr": 0.2}), (BASE, {"lr": 0.01})]
    locked = command(applied, BASE, with_("training", epochs=9))
    assert locked.live is None and locked.live_back is None


def test_edits_of_one_field_merge_into_one_undo_step(qtbot, applied):
    stack = QUndoStack()
    specs = [BASE] + [with_("optimizer", lr=v) for v in (0.02, 0.05, 0.1)]
    for old, new in zip(specs, specs[1:]):
        stack.push(command(applied, old, new))
    assert stack.count() == 1 and stack.command(0).new == specs[-1] and stack.command(0).old == BASE
    assert stack.command(0).live == {"lr": 0.1}
    stack.push(command(applied, specs[-1], S.replace(specs[-1], training=S.replace(BASE.training, epochs=9))))
    assert stack.count() == 2  # another field: another step
    stack.undo()
    stack.undo()
    assert applied[-1] == (BASE, {"lr": 0.01})  # one undo takes all the η edits back


def test_merging_back_to_the_start_leaves_nothing_to_undo(qtbot, applied):
    stack = QUndoStack()
    stack.push(command(applied, BASE, with_("optimizer", lr=0.3)))
    stack.push(command(applied, with_("optimizer", lr=0.3), BASE))
    assert stack.count() == 0


def test_a_change_of_two_fields_never_merges(qtbot, applied):
    stack = QUndoStack()
    two = with_("optimizer", lr=0.2, momentum=0.5)
    stack.push(command(applied, BASE, two))
    stack.push(command(applied, two, S.replace(two, optimizer=S.replace(two.optimizer, lr=0.3, momentum=0.6))))
    assert stack.count() == 2


def test_run_fields_command_sets_and_restores_names_and_pins_and_skips_deleted_runs():
    from workbench.runs import RunList
    from workbench.ui.commands import RunFieldsCommand

    runs = RunList()
    a, b = runs.add(S.ExperimentSpec()), runs.add(S.ExperimentSpec())
    calls = []
    cmd = RunFieldsCommand(runs, {a.id: {"name": ("run 1", "base"), "pinned": (False, True)},
                                  b.id: {"pinned": (False, True)}}, lambda: calls.append(1), "x")
    cmd.redo()
    assert (a.name, a.pinned, b.pinned) == ("base", True, True) and len(calls) == 1
    cmd.undo()
    assert (a.name, a.pinned, b.pinned) == ("run 1", False, False) and len(calls) == 2
    runs.remove([b.id])  # deleted since: skipped, the rest still applies
    cmd.redo()
    assert (a.name, a.pinned, b.pinned) == ("base", True, False)
