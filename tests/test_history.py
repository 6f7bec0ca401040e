"""The recorder (events -> the saved RunResult) and the one translation of events into
markers that the live view uses too."""

from __future__ import annotations

import math

import pytest

from workbench import spec as S
from workbench.engine.events import (
    BatchEnd,
    Diverged,
    EarlyStop,
    EpochEnd,
    Failed,
    Finished,
    LearningRateChanged,
    PhaseStarted,
    SettingChanged,
)
from workbench.history import Recorder
from workbench.markers import Translator, early_stop_summary, thin


def epoch(e, train=0.5, val=0.6, phase="train", **metrics):
    return EpochEnd(epoch=e, train_loss=train, val_loss=val, penalty=0.0, lr=0.01, metrics=metrics, phase=phase)


def test_columns_keep_only_metrics_that_were_reported_and_nan_becomes_none():
    rec = Recorder(S.ExperimentSpec())
    rec.add_all([epoch(1, val_accuracy=0.5), epoch(2, train=math.nan, val=None, val_accuracy=0.75),
                 BatchEnd(epoch=3, batch=1, step=9, loss=0.1)])
    result = rec.result()
    assert result.history["epoch"] == (1.0, 2.0)
    assert result.history["train_loss"] == (0.5, None) and result.history["val_loss"] == (0.6, None)
    assert result.history["val_accuracy"] == (0.5, 0.75)
    assert "train_r2" not in result.history and "val_rmse" not in result.history
    assert result.status == "stopped"  # no Finished yet: the run was stopped


def test_columns_equal_cleaning_each_value_one_by_one():
    """The column at once (NumPy) equals markers._clean per value: floats, None for
    missing, NaN and ±inf, in order, with every column of HISTORY_COLUMNS in order."""
    from workbench.markers import _clean

    values = [0.25, None, math.nan, math.inf, -math.inf, 3, 1e-300, -0.0]
    rows = [epoch(i + 1, train=v, val=values[-1 - i], train_accuracy=v) for i, v in enumerate(values)]
    cols = Recorder.columns(rows)
    assert list(cols) == [c for c in S.HISTORY_COLUMNS if c in cols]
    assert cols["train_loss"] == tuple(_clean(v) for v in values)
    assert cols["val_loss"] == tuple(_clean(v) for v in reversed(values))
    assert cols["train_accuracy"] == tuple(_clean(v) for v in values)
    assert all(type(x) is float for x in cols["train_loss"] if x is not None)
    assert Recorder.columns([]) == {name: () for name in S.HISTORY_COLUMNS[:5]}


def test_markers_are_the_translation_the_live_view_uses():
    events = [epoch(1), epoch(2), LearningRateChanged(epoch=3, kind="plateau", old_lr=0.1, new_lr=0.05),
              SettingChanged(epoch=3, name="l2", old=0.0, new=0.001), epoch(3),
              PhaseStarted(phase="retrain", target_epochs=2), epoch(1, phase="retrain"),
              Diverged(epoch=4, batch=2, reason="training loss is nan")]
    rec = Recorder(S.ExperimentSpec()).add_all(events)
    live = Translator()
    shown = [m for m in map(live.marker, events) if m is not None]
    assert list(rec.result().markers) == shown
    assert [(m.kind, m.epoch, m.text) for m in shown] == [
        ("plateau", 3, "η 0.1 → 0.05"), ("reg_change", 3, "L2 0 → 0.001"),
        ("phase", 3, "retrain on train+validation"),  # at the last *training* epoch
        ("diverged", 4, "training loss is nan")]


def test_early_stop_summary_fired_and_restored_at_the_end():
    spec = S.ExperimentSpec(early_stopping=S.EarlyStoppingSpec(enabled=True, patience=7))
    fired = EarlyStop(monitor="val_loss", best_epoch=4, stopped_epoch=11, best_value=0.2, restored=True,
                      best_train_loss=0.1)
    at_end = EarlyStop(monitor="val_accuracy", best_epoch=9, stopped_epoch=20, best_value=0.9, restored=True,
                       best_train_loss=math.nan, fired=False)
    for event in (fired, at_end):
        rec = Recorder(spec).add_all([event, Finished(status="finished", epochs_run=20, wall_time=1.5)])
        summary = rec.result().early_stop
        assert summary == early_stop_summary(event, 7)
        assert summary.patience == 7 and summary.fired == event.fired and summary.restored
    assert early_stop_summary(at_end, 7).best_train_loss is None  # JSON has no NaN


def test_a_failed_run_keeps_its_epochs_and_says_why():
    rec = Recorder(S.ExperimentSpec()).add_all([
        epoch(1), epoch(2), Failed(epoch=3, reason="MemoryError: planted"),
        Finished(status="failed", epochs_run=2, wall_time=0.5)])
    result = rec.result()
    assert result.status == "failed" and result.history["epoch"] == (1.0, 2.0)
    assert result.message == "Failed in epoch 3: MemoryError: planted"


def test_more_markers_than_a_file_keeps_are_thinned_evenly_and_counted(monkeypatch):
    """A cosine schedule restarting every epoch for 100 000 epochs makes more markers than
    a file keeps: the result still validates, keeps every user change, and counts the rest."""
    from workbench import markers

    monkeypatch.setattr(markers, "MAX_MARKERS", 10)
    rec = Recorder(S.ExperimentSpec())
    for e in range(1, 101):
        rec.add(LearningRateChanged(epoch=e, kind="restart", old_lr=0.001, new_lr=0.1))
        if e in (30, 60):
            rec.add(SettingChanged(epoch=e, name="lr", old=0.1, new=0.2))
    kept, left = thin(rec.markers, 10)
    assert len(kept) == 10 and left == 92
    assert [m.epoch for m in kept if m.kind == "lr_change"] == [30, 60]
    autos = [m.epoch for m in kept if m.kind == "restart"]
    assert autos == [1, 13, 26, 38, 51, 63, 76, 88]  # every 100/8-th: evenly spread
    assert [m.epoch for m in kept] == sorted(m.epoch for m in kept)


def test_the_real_bound_holds_with_ten_thousand_and_one_markers():
    from workbench.limits import MAX_MARKERS

    rec = Recorder(S.ExperimentSpec())
    for e in range(1, MAX_MARKERS + 2):
        rec.add(LearningRateChanged(epoch=e, kind="restart", old_lr=0.001, new_lr=0.1))
    result = rec.result()  # validates: never "Training failed: ValidationError"
    assert len(result.markers) == MAX_MARKERS and result.markers_left_out == 1


def test_thin_leaves_a_short_list_alone():
    few = [S.Marker("plateau", e, "x") for e in (5, 1, 3)]
    assert thin(few, 10) == (tuple(few), 0)


@pytest.mark.parametrize("name, label", [("lr", "η"), ("l1", "L1"), ("l2", "L2"), ("weight_decay", "λ")])
def test_setting_markers_name_the_setting(name, label):
    marker = Translator().marker(SettingChanged(epoch=2, name=name, old=0.5, new=0.25))
    assert marker.kind == ("lr_change" if name == "lr" else "reg_change")
    assert marker.text == f"{label} 0.5 → 0.25"
