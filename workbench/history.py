"""Collect the trainer's events into a :class:`~workbench.spec.RunResult`.

The GUI, the CLI and the tests all record a run the same way, and the markers and the
early-stopping summary come from :mod:`workbench.markers`, the translation the live view
uses too: a saved file holds exactly what the curves showed.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .engine.events import Diverged, EarlyStop, EpochEnd, Failed, Finished
from .markers import Translator, _clean, early_stop_summary, thin
from .spec import HISTORY_COLUMNS, ExperimentSpec, Marker, RunResult


def _finite_or_none(values: list) -> tuple:
    """``values`` as floats, None where missing or not finite (JSON has no NaN); what
    ``markers._clean`` does to one value, for a whole column at once."""
    a = np.array(values, dtype=np.float64)  # (None -> NaN)
    out = a.tolist()
    for i in np.flatnonzero(~np.isfinite(a)):
        out[i] = None
    return tuple(out)


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
        self.failed: Optional[Failed] = None
        self._translator = Translator()

    @property
    def last_epoch(self) -> int:
        """The last training epoch recorded."""
        return self._translator.last_epoch

    def add(self, event) -> None:
        marker = self._translator.marker(event)
        if marker is not None:
            self.markers.append(marker)
        kind = type(event)
        if kind is EpochEnd:
            (self.rows if event.phase == "train" else self.followup_rows).append(event)
        elif kind is EarlyStop:
            self.early = event
        elif kind is Diverged:
            self.diverged = event
        elif kind is Failed:
            self.failed = event
        elif kind is Finished:
            self.finished = event

    def add_all(self, events) -> "Recorder":
        for event in events:
            self.add(event)
        return self

    @staticmethod
    def columns(rows: list[EpochEnd]) -> dict[str, tuple]:
        """History columns (a non-finite value is None); a metric column is kept only if
        some epoch reported it."""
        values = {"train_loss": [r.train_loss for r in rows], "val_loss": [r.val_loss for r in rows],
                  "penalty": [r.penalty for r in rows], "lr": [r.lr for r in rows]}
        for name in HISTORY_COLUMNS[5:]:
            values[name] = [r.metrics.get(name) for r in rows]
        cols = {"epoch": tuple(float(r.epoch) for r in rows)}
        for name in HISTORY_COLUMNS[1:]:
            col = _finite_or_none(values[name])
            if name in HISTORY_COLUMNS[:5] or any(x is not None for x in col):
                cols[name] = col
        return cols

    def message(self) -> str:
        """Why the run ended early, if it did ('' otherwise)."""
        if self.diverged is not None:
            return f"Diverged at epoch {self.diverged.epoch}: {self.diverged.reason}"
        if self.failed is not None:
            return f"Failed in epoch {self.failed.epoch}: {self.failed.reason}"[:2000]
        return ""

    def result(self, weights: Optional[np.ndarray] = None, status: Optional[str] = None) -> RunResult:
        """The run so far.  ``status`` overrides (e.g. ``stopped`` when the user stopped it)."""
        early = None
        if self.early is not None:
            early = early_stop_summary(self.early, self.spec.early_stopping.patience)
        if status is None:
            status = self.finished.status if self.finished is not None else "stopped"
        blob = None
        if weights is not None:
            from .experiment_file import encode_weights

            blob = encode_weights(weights)
        markers, left_out = thin(self.markers)
        finished = self.finished
        return RunResult(
            history=self.columns(self.rows),
            markers=markers,
            markers_left_out=left_out,
            early_stop=early,
            final_metrics={k: _clean(v) for k, v in (finished.final_metrics if finished else {}).items()},
            wall_time=float(finished.wall_time) if finished else 0.0,
            status=status,
            message=self.message(),
            followup_history=self.columns(self.followup_rows) if self.followup_rows else None,
            weights=blob,
        )
