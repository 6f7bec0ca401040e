"""The small frozen events the trainer yields.

Epochs are 1-based in events (``epoch=1`` is the first pass over the data);
``step`` counts optimizer updates from 1.  Events carry plain floats and
dicts, never live arrays, so they can cross threads safely.

``member`` (the last field of every per-run event, default 0) says which member of a
lockstep group (:func:`workbench.engine.trainer.train_group`) the event belongs to; a
solo run's events all have ``member=0``.  The events of one member, in order, carry the
same values as its solo run's (``wall_time`` aside).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True, slots=True)
class BatchEnd:
    """One optimizer update done; ``loss`` is the data loss of that mini-batch."""

    epoch: int
    batch: int
    step: int
    loss: float
    phase: str = "train"
    member: int = 0


@dataclass(frozen=True, slots=True)
class EpochEnd:
    """One epoch done.  Losses are data losses (penalty reported apart);
    ``val_loss`` is None without a validation split.  ``metrics`` holds
    ``train_accuracy``/``val_accuracy`` (classification) or ``train_rmse``,
    ``val_rmse``, ``train_r2``, ``val_r2`` (regression).  ``lr`` is the
    learning rate used during this epoch; ``samples`` the training samples seen."""

    epoch: int
    train_loss: float
    val_loss: Optional[float]
    penalty: float
    lr: float
    metrics: dict = field(default_factory=dict)
    samples: int = 0
    phase: str = "train"
    member: int = 0


@dataclass(frozen=True, slots=True)
class LearningRateChanged:
    """The schedule changed the learning rate for a reason worth marking:
    ``kind`` is ``plateau`` (reduce-on-plateau drop) or ``restart`` (cosine warm restart)."""

    epoch: int
    kind: str
    old_lr: float
    new_lr: float
    member: int = 0


@dataclass(frozen=True, slots=True)
class SettingChanged:
    """A live setting (``lr``, ``l1``, ``l2`` or ``weight_decay``) changed mid-run; it
    takes effect from ``epoch`` on (the first epoch trained with the new value)."""

    epoch: int
    name: str
    old: float
    new: float
    member: int = 0


@dataclass(frozen=True, slots=True)
class EarlyStop:
    """Early stopping's verdict.  ``fired``: patience ran out and training stopped after
    ``stopped_epoch``; not ``fired``: the run reached its last epoch ``stopped_epoch``.
    Either way ``best_epoch`` had ``best_value`` of ``monitor`` and ``restored`` says
    the best weights were copied back (restore best weights is honoured at the end of
    every run, as Keras 3 does)."""

    monitor: str
    best_epoch: int
    stopped_epoch: int
    best_value: float
    restored: bool
    best_train_loss: float
    fired: bool = True
    member: int = 0


@dataclass(frozen=True, slots=True)
class PhaseStarted:
    """A follow-up phase begins (seed 001): ``retrain`` from scratch on train+validation
    for ``target_epochs`` epochs, or ``continue`` on train+validation until the training
    loss falls to ``target_loss``."""

    phase: str
    target_epochs: int
    target_loss: Optional[float] = None
    member: int = 0


@dataclass(frozen=True, slots=True)
class Diverged:
    """The loss became NaN or infinite; the run ends here."""

    epoch: int
    batch: int
    reason: str
    member: int = 0


@dataclass(frozen=True, slots=True)
class Failed:
    """An unexpected error ended the run during ``epoch`` (the run's events so far stand)."""

    epoch: int
    reason: str
    member: int = 0


@dataclass(frozen=True, slots=True)
class Finished:
    """The run is over.  ``status`` is ``finished``, ``early_stopped``, ``stopped``,
    ``diverged`` or ``failed``; ``final_metrics`` are measured on train/val/test with the final
    (possibly restored) weights."""

    status: str
    epochs_run: int
    wall_time: float
    final_metrics: dict = field(default_factory=dict)
    member: int = 0


Event = (BatchEnd | EpochEnd | LearningRateChanged | SettingChanged | EarlyStop | PhaseStarted | Diverged | Failed
         | Finished)
