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
result's ``markers_left_out``).  The runs of one file share
:data:`~workbench.limits.MAX_FILE_MARKERS`: :func:`fit_runs` gives each run its share and
thins it with the same :func:`thin` when saving.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterable, Optional, Sequence

from .engine.events import Diverged, EarlyStop, EpochEnd, LearningRateChanged, PhaseStarted, SettingChanged
from .limits import MAX_EPOCHS, MAX_FILE_MARKERS, MAX_MARKERS
from .spec import EarlyStopSummary, Marker, RunResult

#: how a live setting is named on a marker
SETTING_LABELS = {"lr": "η", "l1": "L1", "l2": "L2", "weight_decay": "λ"}
#: markers the schedule makes by itself (thinned first when there are too many)
AUTOMATIC = ("plateau", "restart")
#: markers that say how a run went (kept before the user's changes when even those are too many)
OUTCOME = ("diverged", "phase")
#: the largest markers_left_out a result holds (spec.RunResult)
MAX_LEFT_OUT = 10 * MAX_EPOCHS


def _clean(value) -> Optional[float]:
    """JSON has no NaN: a missing or non-finite value is None."""
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
    """At most ``limit`` markers, in epoch order, and how many were left out.

    Kept first: every marker the user caused -- divergence and phases (:data:`OUTCOME`),
    then the user's own changes (``lr_change``, ``reg_change``), the first ones when even
    those are more than ``limit`` --; the room left goes to evenly spaced automatic
    markers (:data:`AUTOMATIC`: plateau drops, restarts)."""
    markers = list(markers)
    if len(markers) <= limit:
        return tuple(markers), 0
    order = {id(m): i for i, m in enumerate(markers)}
    own = ([m for m in markers if m.kind in OUTCOME]
           + [m for m in markers if m.kind not in AUTOMATIC and m.kind not in OUTCOME])[:max(0, limit)]
    auto = [m for m in markers if m.kind in AUTOMATIC]
    room = max(0, limit) - len(own)
    kept_auto = [auto[i * len(auto) // room] for i in range(room)] if room else []
    kept = sorted(own + kept_auto, key=lambda m: (m.epoch, m.kind in AUTOMATIC, order[id(m)]))
    return tuple(kept), len(markers) - len(kept)


def fair_shares(demands: Sequence[int], capacity: int) -> list[int]:
    """Max-min fair shares of ``capacity``: each ``demands[i]`` in full when they all fit;
    else those below a common level in full and the others the level (the remainder of
    the division to the later, larger ones), ``capacity`` in all."""
    demands = [max(0, int(d)) for d in demands]
    if sum(demands) <= capacity:
        return demands
    shares = [0] * len(demands)
    left, waiting = max(0, int(capacity)), len(demands)
    for i in sorted(range(len(demands)), key=lambda i: (demands[i], i)):
        shares[i] = min(demands[i], left // waiting)
        left -= shares[i]
        waiting -= 1
    return shares


def fit_runs(results: Sequence[Optional[RunResult]],
             budget: int = MAX_FILE_MARKERS) -> list[Optional[RunResult]]:
    """The runs' results with at most ``budget`` markers in all (a file's:
    :data:`~workbench.limits.MAX_FILE_MARKERS`), for saving them together.

    The rule: every run keeps its own markers (divergence, phases, the user's changes)
    when they fit the budget together, and the automatic ones (plateau drops, restarts)
    share what is left by :func:`fair_shares` -- a run with few keeps all of them, the
    others get equal shares, evenly spaced over each run by :func:`thin`.  Only when
    the runs' own markers alone exceed the budget are those shared the same way (and no
    automatic marker is kept).  What a run loses is added to its ``markers_left_out``;
    a run that keeps everything is returned as it was (the same object)."""
    results = list(results)
    markers = [r.markers if r is not None else () for r in results]
    own = [sum(m.kind not in AUTOMATIC for m in ms) for ms in markers]
    if sum(len(ms) for ms in markers) <= budget:
        return results
    if sum(own) <= budget:
        auto = [len(ms) - o for ms, o in zip(markers, own)]
        limits = [o + a for o, a in zip(own, fair_shares(auto, budget - sum(own)))]
    else:
        limits = fair_shares(own, budget)
    out: list[Optional[RunResult]] = []
    for result, limit in zip(results, limits):
        if result is None or len(result.markers) <= limit:
            out.append(result)
            continue
        kept, left_out = thin(result.markers, limit)
        out.append(dataclasses.replace(result, markers=kept,
                                       markers_left_out=min(MAX_LEFT_OUT, result.markers_left_out + left_out)))
    return out
