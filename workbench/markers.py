"""Engine events as what the curves and a saved file show: markers and the early-stopping
verdict.  One translation, used by the recorder (the saved results) and by the window's
live view alike, so the two can never disagree.

=====================  ================================================  ==================
event                  marker kind                                        text
=====================  ================================================  ==================
LearningRateChanged    ``plateau`` / ``restart`` at the epoch it acts     ``η 0.1 → 0.05``
SettingChanged         ``lr_change`` (η) / ``reg_change`` (L1, L2, λ)     ``L2 0 → 0.001``
PhaseStarted           ``phase`` at the last training epoch               ``retrain on train+validation``
Diverged               ``diverged`` at its epoch                          the reason
EarlyStop              the early-stopping overlay (:class:`EarlyStopSummary`)
=====================  ================================================  ==================

A run may mark more than a file keeps (a cosine schedule restarting every epoch for
100 000 epochs): :func:`thin` keeps at most :data:`~workbench.limits.MAX_MARKERS`, every
marker the user caused and evenly spaced automatic ones, and counts the others (the
result's ``markers_left_out``).
"""

from __future__ import annotations

from typing import Iterable, Optional

from .engine.events import Diverged, EarlyStop, EpochEnd, LearningRateChanged, PhaseStarted, SettingChanged
from .limits import MAX_MARKERS
from .spec import EarlyStopSummary, Marker

#: how a live setting is named on a marker
SETTING_LABELS = {"lr": "η", "l1": "L1", "l2": "L2", "weight_decay": "λ"}
#: markers the schedule makes by itself (thinned first when there are too many)
AUTOMATIC = ("plateau", "restart")


def _clean(value) -> Optional[float]:
    """JSON has no NaN: a missing or non-finite value is None."""
    import math

    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def early_stop_summary(event: EarlyStop, patience: int) -> EarlyStopSummary:
    """What the curves draw and the file keeps of an :class:`EarlyStop` event."""
    return EarlyStopSummary(
        monitor=event.monitor,
        best_epoch=event.best_epoch,
        stopped_epoch=event.stopped_epoch,
        best_value=_clean(event.best_value),
        restored=event.restored,
        patience=patience,
        best_train_loss=_clean(event.best_train_loss),
        fired=event.fired,
    )


class Translator:
    """Follows one run's events in order and turns each into its :class:`Marker` (or None).

    It remembers the last training epoch, where a follow-up phase is marked."""

    def __init__(self) -> None:
        self.last_epoch = 0

    def marker(self, event) -> Optional[Marker]:
        kind = type(event)
        if kind is EpochEnd:
            if event.phase == "train":
                self.last_epoch = event.epoch
            return None
        if kind is LearningRateChanged:
            return Marker(event.kind, event.epoch, f"η {event.old_lr:.3g} → {event.new_lr:.3g}")
        if kind is SettingChanged:
            label = SETTING_LABELS.get(event.name, event.name)
            return Marker("lr_change" if event.name == "lr" else "reg_change", event.epoch,
                          f"{label} {event.old:.3g} → {event.new:.3g}")
        if kind is PhaseStarted:
            return Marker("phase", self.last_epoch, f"{event.phase} on train+validation")
        if kind is Diverged:
            return Marker("diverged", event.epoch, event.reason[:500])
        return None


def thin(markers: Iterable[Marker], limit: int = MAX_MARKERS) -> tuple[tuple[Marker, ...], int]:
    """At most ``limit`` markers, in epoch order: every one the user caused (up to the
    limit), then evenly spaced automatic ones; and how many were left out."""
    markers = list(markers)
    if len(markers) <= limit:
        return tuple(markers), 0
    own = [m for m in markers if m.kind not in AUTOMATIC][:limit]
    auto = [m for m in markers if m.kind in AUTOMATIC]
    room = limit - len(own)
    kept_auto = [auto[i * len(auto) // room] for i in range(room)] if room else []
    kept = sorted(own + kept_auto, key=lambda m: m.epoch)
    return tuple(kept), len(markers) - len(kept)
