"""The session's one path for an edit: validated once, its difference computed once, live
changes handed to the run before anything is redrawn, refusals announced; and the run
controller's live channel (validated once for every member, refusals reported)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QWidget

from workbench import spec as S
from workbench.engine.trainer import LiveSettings
from workbench.ui import commands, session as session_mod
from workbench.ui.run_controller import RunController
from workbench.ui.session import LOCKED, Session

BASE = S.ExperimentSpec()


def optimizer(**changes):
    return S.replace(BASE.optimizer, **changes)


@pytest.fixture
def session(qtbot):
    s = Session(BASE)
    s.order = []  # what was announced, in order
    s.spec_changed.connect(lambda new, old: s.order.append(("spec", new.optimizer.lr)))
    s.live_changed.connect(lambda live: s.order.append(("live", dict(live))))
    s.refused.connect(lambda section, reason: s.order.append(("refused", section, reason)))
    return s


@pytest.fixture
def diffs(monkeypatch):
    """How often the spec difference is computed (in the session and in the commands)."""
    calls = []
    real = commands.changed_fields

    def counting(old, new):
        calls.append((old, new))
        return real(old, new)

    monkeypatch.setattr(session_mod, "changed_fields", counting)
    monkeypatch.setattr(commands, "changed_fields", counting)
    return calls


def test_a_live_edit_during_a_run_reaches_the_run_before_the_redraw_with_one_difference(session, diffs):
    session.running = lambda: True
    assert session.propose("optimizer", optimizer(lr=0.1)) == ""
    assert session.order == [("live", {"lr": 0.1}), ("spec", 0.1)]
    assert len(diffs) == 1
    assert session.undo_stack.count() == 1 and session.spec.optimizer.lr == 0.1
    # undo and redo may run mid-run (both directions are live) without computing it again
    assert session.can_step(-1) and not session.can_step(+1)
    session.undo()
    assert session.order[-2:] == [("live", {"lr": BASE.optimizer.lr}), ("spec", BASE.optimizer.lr)]
    assert session.can_step(+1)
    session.redo()
    assert session.order[-2:] == [("live", {"lr": 0.1}), ("spec", 0.1)]
    assert len(diffs) == 1


def test_the_pushed_command_is_not_applied_twice(session):
    session.propose("optimizer", optimizer(lr=0.1))
    assert session.order == [("spec", 0.1)]  # idle: no live change, one redraw


def test_a_locked_edit_during_a_run_is_refused_and_announced(session):
    session.running = lambda: True
    epochs = S.replace(BASE.training, epochs=BASE.training.epochs + 1)
    assert session.propose("training", epochs) == LOCKED
    assert session.order == [("refused", "training", LOCKED)]
    assert session.spec == BASE and session.undo_stack.count() == 0
    assert session.set_spec(S.replace(BASE, training=epochs)) == LOCKED  # the whole spec too
    assert session.order[-1] == ("refused", "", LOCKED)


def test_an_edit_made_while_idle_cannot_be_undone_mid_run_unless_it_is_live(session):
    session.propose("training", S.replace(BASE.training, epochs=7))
    session.propose("optimizer", optimizer(lr=0.2))
    session.running = lambda: True
    assert session.can_step(-1)  # η: live
    session.undo()
    assert session.spec.optimizer.lr == BASE.optimizer.lr
    assert not session.can_step(-1)  # epochs: locked
    session.undo()
    assert session.spec.training.epochs == 7


def test_data_that_do_not_load_are_refused_with_the_reason(session, tmp_path):
    missing = S.DataSpec(source="csv", csv_path=str(tmp_path / "gone.csv"), target_column="y")
    reason = session.propose("data", missing)
    assert reason.startswith("data: ") and "gone.csv" in reason
    assert session.order == [("refused", "data", reason)] and session.spec == BASE


def test_consecutive_live_edits_merge_into_one_step_and_keep_the_way_back(session, diffs):
    session.running = lambda: True
    for lr in (0.02, 0.05, 0.1):
        session.propose("optimizer", optimizer(lr=lr))
    assert session.undo_stack.count() == 1 and len(diffs) == 3
    session.undo()
    assert session.order[-2:] == [("live", {"lr": BASE.optimizer.lr}), ("spec", BASE.optimizer.lr)]


def test_the_run_controller_hands_changes_to_every_member_and_reports_a_refusal(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    rc = RunController(parent, (), lambda: True)
    refusals = []
    rc.live_refused.connect(refusals.append)
    rc.set_live({"lr": 0.1})
    assert refusals == ["no run is training"]
    lives = [LiveSettings() for _ in range(3)]
    rc._worker = SimpleNamespace(lives=lives)  # the channel of a 3-member run
    rc.set_live({"lr": 0.1, "l2": 0.01})
    assert [live.take() for live in lives] == [{"lr": 0.1, "l2": 0.01}] * 3
    rc.set_live({"lr": 0.3, "l2": -1.0})  # refused as a whole: no member gets η either
    assert refusals[-1] == "l2: must be a finite number >= 0, got -1.0"
    assert [live.take() for live in lives] == [{}] * 3
    rc._worker = None
