"""Collect the trainer's events into a :class:`~workbench.spec.RunResult`.

The GUI, the CLI and the tests all record a run the same way, so a saved file holds
exactly what the curves showed.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from .engine.events import (
    Diverged,
    EarlyStop,
    EpochEnd,
    Finished,
    LearningRateChanged,
    PhaseStarted,
    SettingChanged,
)
from .spec import HISTORY_COLUMNS, EarlyStopSummary, ExperimentSpec, Marker, RunResult

_SETTING_LABELS = {"lr": "η", "l1": "L1", "l2": "L2", "weight_decay": "λ"}


def _clean(value) -> Optional[float]:
    """JSON has no NaN: a missing or non-finite value is stored as None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class Recorder:
    """Feed every event with :meth:`add`; :meth:`result` gives the RunResult so far."""

    def __init__(self, spec: ExperimentSpec):
        self.spec = spec
        self.rows: list[EpochEnd] = []
        self.followup_rows: list[EpochEnd] = []
        self.markers: list[Marker] = []
        self.early: Optional[EarlyStop] = None
        self.finished: Optional[Finished] = None
        self.diverged: Optional[Diverged] = None
        self.last_epoch = 0

    def add(self, event) -> None:
        if isinstance(event, EpochEnd):
            (self.rows if event.phase == "train" else self.followup_rows).append(event)
            if event.phase == "train":
                self.last_epoch = event.epoch
        elif isinstance(event, LearningRateChanged):
            self.markers.append(
                Marker(event.kind, event.epoch, f"η {event.old_lr:.3g} → {event.new_lr:.3g}")
            )
        elif isinstance(event, SettingChanged):
            kind = "lr_change" if event.name == "lr" else "reg_change"
            label = _SETTING_LABELS.get(event.name, event.name)
            self.markers.append(Marker(kind, event.epoch, f"{label} {event.old:.3g} → {event.new:.3g}"))
        elif isinstance(event, PhaseStarted):
            text = f"{event.phase} on train+validation"
            self.markers.append(Marker("phase", self.last_epoch, text))
        elif isinstance(event, EarlyStop):
            self.early = event
        elif isinstance(event, Diverged):
            self.diverged = event
            self.markers.append(Marker("diverged", event.epoch, event.reason))
        elif isinstance(event, Finished):
            self.finished = event

    def add_all(self, events) -> "Recorder":
        for event in events:
            self.add(event)
        return self

    @staticmethod
    def columns(rows: list[EpochEnd]) -> dict[str, tuple]:
        """History columns; a metric column is kept only if some epoch reported it."""
        cols: dict[str, list] = {name: [] for name in HISTORY_COLUMNS}
        for r in rows:
            cols["epoch"].append(float(r.epoch))
            cols["train_loss"].append(_clean(r.train_loss))
            cols["val_loss"].append(_clean(r.val_loss))
            cols["penalty"].append(_clean(r.penalty))
            cols["lr"].append(_clean(r.lr))
            for name in HISTORY_COLUMNS[5:]:
                cols[name].append(_clean(r.metrics.get(name)))
        return {k: tuple(v) for k, v in cols.items() if k in HISTORY_COLUMNS[:5] or any(x is not None for x in v)}

    def result(self, weights: Optional[np.ndarray] = None, status: Optional[str] = None) -> RunResult:
        """The run so far.  ``status`` overrides (e.g. ``stopped`` when the user stopped it)."""
        early = None
        if self.early is not None:
            e = self.early
            patience = self.spec.early_stopping.patience
            early = EarlyStopSummary(
                monitor=e.monitor,
                best_epoch=e.best_epoch,
                stopped_epoch=e.stopped_epoch,
                best_value=_clean(e.best_value),
                restored=e.restored,
                patience=patience,
                best_train_loss=_clean(e.best_train_loss),
            )
        if status is None:
            status = self.finished.status if self.finished is not None else "stopped"
        message = ""
        if self.diverged is not None:
            message = f"Diverged at epoch {self.diverged.epoch}: {self.diverged.reason}"
        blob = None
        if weights is not None:
            from .experiment_file import encode_weights

            blob = encode_weights(weights)
        return RunResult(
            history=self.columns(self.rows),
            markers=tuple(self.markers),
            early_stop=early,
            final_metrics={k: _clean(v) for k, v in (self.finished.final_metrics if self.finished else {}).items()},
            wall_time=float(self.finished.wall_time) if self.finished else 0.0,
            status=status,
            message=message,
            followup_history=self.columns(self.followup_rows) if self.followup_rows else None,
            weights=blob,
        )
