"""The training loop: one generator of events, used by the GUI, the CLI and the tests.

Per epoch e (1-based), with learning rate eta_e from the schedule (times any live
change of the base rate), the training set is shuffled and cut into mini-batches B;
for each batch::

    x <- x + sigma * N(0, I)                    (Gaussian input noise, if sigma > 0)
    g <- grad of (1/|B|) sum_B loss + l1 sum|w| + (l2/2) w^T w   (dropout masks drawn)
    w <- optimizer update of w with g and eta_e (decoupled decay inside the optimizer)

then the epoch is evaluated (train and validation loss and metrics, eval mode), the
reduce-on-plateau schedule and early stopping are fed, and an :class:`EpochEnd` is
yielded.  A NaN or infinite loss ends the run with :class:`Diverged` (never an
exception; any other error inside the run ends it with :class:`Failed`).  One seed determines shuffling, dropout masks and noise, so the same
inputs give bit-identical events.  Stopping and pausing are the caller's: it simply
stops iterating.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional

import numpy as np

from .regularization import add_penalty
from .events import (
    BatchEnd,
    Diverged,
    EarlyStop,
    EpochEnd,
    Event,
    Failed,
    Finished,
    LearningRateChanged,
    PhaseStarted,
    SettingChanged,
)

LIVE_SETTINGS = ("lr", "l1", "l2", "weight_decay")


@dataclass
class TrainData:
    """Arrays only: X float (n, d); y as the network expects.  Validation and test
    splits are optional (None or empty)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: Optional[np.ndarray] = None
    y_val: Optional[np.ndarray] = None
    X_test: Optional[np.ndarray] = None
    y_test: Optional[np.ndarray] = None

    @property
    def has_val(self) -> bool:
        return self.X_val is not None and len(self.X_val) > 0

    @property
    def has_test(self) -> bool:
        return self.X_test is not None and len(self.X_test) > 0


@dataclass
class TrainConfig:
    """How to train: ``epochs`` passes in mini-batches of ``batch_size``; ``seed`` for
    shuffling, dropout masks and noise.  ``l1``/``l2`` are the coupled penalties on the
    entries of ``penalty_mask`` (weights only unless biases are asked for).
    ``evaluate_train``: report the eval-mode training loss each epoch (else the mean
    of the batch losses, which is cheaper).  ``followup`` is ``none``, ``retrain`` or
    ``continue`` (seed 001), run after early stopping."""

    epochs: int
    batch_size: int
    seed: int = 0
    l1: float = 0.0
    l2: float = 0.0
    penalty_mask: Optional[np.ndarray] = None
    input_noise: float = 0.0
    plateau_monitor: str = "val_loss"
    followup: str = "none"
    emit_batches: bool = True
    evaluate_train: bool = True


class LiveSettings:
    """Settings a caller in another thread may change mid-run (``lr``, ``l1``, ``l2``,
    ``weight_decay``).  Changes are picked up at the start of the next epoch and
    reported back as :class:`SettingChanged` events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, float] = {}

    def set(self, **values: float) -> None:
        for name, value in values.items():
            if name not in LIVE_SETTINGS:
                raise ValueError(f"{name}: not a live setting (one of {', '.join(LIVE_SETTINGS)})")
            value = float(value)
            if not math.isfinite(value) or value < 0 or (name == "lr" and value == 0):
                raise ValueError(f"{name}: must be a finite number {'> 0' if name == 'lr' else '>= 0'}, got {value}")
        with self._lock:
            self._pending.update({k: float(v) for k, v in values.items()})

    def take(self) -> dict[str, float]:
        with self._lock:
            pending, self._pending = self._pending, {}
        return pending


def _finite(value: float) -> bool:
    return math.isfinite(value)


class _Trainer:
    """State of one run; :func:`train` drives it.  Kept private: the generator is the API."""

    def __init__(self, network, optimizer, schedule, data: TrainData, config: TrainConfig, stopping, live):
        self.net = network
        self.opt = optimizer
        self.schedule = schedule
        self.data = data
        self.cfg = config
        self.stopping = stopping
        self.live = live
        root = np.random.SeedSequence(config.seed)
        shuffle_seq, dropout_seq, noise_seq = root.spawn(3)
        self.shuffle_rng = np.random.default_rng(shuffle_seq)
        self.dropout_rng = np.random.default_rng(dropout_seq)
        self.noise_rng = np.random.default_rng(noise_seq)
        # eta, the schedule's base rate: a live change of eta scales the whole schedule
        # (warm-up, cycles and decays included) by new/old eta
        self.base_lr = float(schedule.base_lr) if schedule is not None else 0.0
        self.lr_scale = 1.0
        self.l1 = float(config.l1)
        self.l2 = float(config.l2)
        mask = config.penalty_mask
        self.penalty_mask = network.weight_mask if mask is None else mask
        self.initial_params = network.params.copy()
        self.train_losses: dict[int, float] = {}
        self.diverged: Optional[Diverged] = None
        self.batch_mean_loss = float("nan")
        self.step = 0
        self.samples = 0
        self.restart_epochs = set(schedule.restart_epochs(config.epochs)) if schedule is not None else set()
        self.epochs_run = 0
        self.t0 = time.perf_counter()

    # -- numbers -------------------------------------------------------------
    def penalty(self) -> float:
        """l1 sum|w| + (l2/2) w^T w over the penalised entries (reported apart from the loss)."""
        if self.l1 == 0.0 and self.l2 == 0.0:
            return 0.0
        w = self.net.params[self.penalty_mask].astype(np.float64)
        return float(self.l1 * np.abs(w).sum() + 0.5 * self.l2 * (w @ w))

    def evaluate(self, X, y) -> dict:
        return self.net.evaluate(X, y)

    # -- live settings -------------------------------------------------------
    def apply_live(self, epoch: int) -> Iterator[Event]:
        """Apply the pending live settings before ``epoch``.  ``lr`` is the base rate eta:
        the schedule's rate of every epoch is scaled by new eta / first eta."""
        if self.live is None:
            return
        for name, new in self.live.take().items():
            if name == "lr":
                old = self.base_lr * self.lr_scale
                self.lr_scale = new / self.base_lr if self.base_lr > 0 else 1.0
            elif name == "weight_decay":
                old = float(self.opt.weight_decay)
                self.opt.weight_decay = new
            else:
                old = getattr(self, name)
                setattr(self, name, new)
            if old != new:
                yield SettingChanged(epoch=epoch, name=name, old=old, new=new)

    # -- one epoch -----------------------------------------------------------
    def run_epoch(self, X, y, epoch: int, lr: float, phase: str) -> Iterator[Event]:
        """Yield BatchEnd events; on divergence yield Diverged and set self.diverged."""
        n = len(X)
        bs = min(self.cfg.batch_size, n)
        order = self.shuffle_rng.permutation(n)
        xbuf = np.empty((bs,) + X.shape[1:], dtype=X.dtype)
        ybuf = np.empty((bs,) + y.shape[1:], dtype=y.dtype)
        net, opt = self.net, self.opt
        noise = self.cfg.input_noise
        penalised = self.l1 != 0.0 or self.l2 != 0.0
        emit = self.cfg.emit_batches
        loss_sum = 0.0
        batches = 0
        for batch, start in enumerate(range(0, n, bs), start=1):
            idx = order[start : start + bs]
            m = len(idx)
            xb = xbuf[:m]
            yb = ybuf[:m]
            np.take(X, idx, axis=0, out=xb)
            np.take(y, idx, axis=0, out=yb)
            if noise > 0.0:
                xb += (noise * self.noise_rng.standard_normal(xb.shape)).astype(xb.dtype, copy=False)
            loss = float(net.loss_and_grad(xb, yb, rng=self.dropout_rng))
            if not _finite(loss):
                self.diverged = Diverged(epoch=epoch, batch=batch, reason=f"training loss is {loss}")
                yield self.diverged
                return
            if penalised:
                add_penalty(net.params, net.grads, self.penalty_mask, self.l1, self.l2)
            opt.step(net.params, net.grads, lr)
            self.step += 1
            self.samples += m
            loss_sum += loss
            batches += 1
            if emit:
                yield BatchEnd(epoch=epoch, batch=batch, step=self.step, loss=loss, phase=phase)
        self.batch_mean_loss = loss_sum / max(batches, 1)

    def epoch_summary(self, epoch: int, lr: float, phase: str, X_train, y_train, with_val: bool) -> EpochEnd:
        metrics: dict[str, float] = {}
        if self.cfg.evaluate_train:
            train = self.evaluate(X_train, y_train)
            train_loss = float(train.pop("loss"))
            metrics.update({f"train_{k}": float(v) for k, v in train.items()})
        else:
            train_loss = float(self.batch_mean_loss)
        val_loss = None
        if with_val and self.data.has_val:
            val = self.evaluate(self.data.X_val, self.data.y_val)
            val_loss = float(val.pop("loss"))
            metrics.update({f"val_{k}": float(v) for k, v in val.items()})
        return EpochEnd(
            epoch=epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            penalty=self.penalty(),
            lr=lr,
            metrics=metrics,
            samples=self.samples,
            phase=phase,
        )

    def final_metrics(self) -> dict:
        out: dict[str, float] = {}
        splits = [("train", self.data.X_train, self.data.y_train)]
        if self.data.has_val:
            splits.append(("val", self.data.X_val, self.data.y_val))
        if self.data.has_test:
            splits.append(("test", self.data.X_test, self.data.y_test))
        for name, X, y in splits:
            for k, v in self.evaluate(X, y).items():
                out[f"{name}_{k}"] = float(v)
        return out

    # -- the run -------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        self.t0 = t0 = time.perf_counter()
        status = "finished"
        epochs_run = 0
        early = None
        X, y = self.data.X_train, self.data.y_train
        for e0 in range(self.cfg.epochs):
            epoch = e0 + 1
            yield from self.apply_live(epoch)
            lr = float(self.schedule.lr_for_epoch(e0)) * self.lr_scale
            if e0 in self.restart_epochs and e0 > 0:
                before = float(self.schedule.lr_for_epoch(e0 - 1)) * self.lr_scale
                yield LearningRateChanged(epoch=epoch, kind="restart", old_lr=before, new_lr=lr)
            yield from self.run_epoch(X, y, epoch, lr, "train")
            if self.diverged is not None:
                status = "diverged"
                break
            summary = self.epoch_summary(epoch, lr, "train", X, y, with_val=True)
            epochs_run = self.epochs_run = epoch
            if not (_finite(summary.train_loss) and (summary.val_loss is None or _finite(summary.val_loss))):
                yield summary
                self.diverged = Diverged(epoch=epoch, batch=0, reason="evaluation loss is not finite")
                yield self.diverged
                status = "diverged"
                break
            self.train_losses[epoch] = summary.train_loss
            yield summary
            plateau_value = summary.val_loss if self.cfg.plateau_monitor == "val_loss" else summary.train_loss
            if plateau_value is not None:
                change = self.schedule.observe(e0, plateau_value)
                if change is not None and epoch < self.cfg.epochs:  # no drop announced past the end
                    _, old, new = change
                    yield LearningRateChanged(
                        epoch=epoch + 1, kind="plateau", old_lr=old * self.lr_scale, new_lr=new * self.lr_scale
                    )
            if self.stopping is not None:
                value = self._monitored(summary)
                if self.stopping.update(epoch, value, self.net.params):
                    early = self._early_stop(epoch)
                    yield early
                    status = "early_stopped"
                    break
        if status == "finished" and self.stopping is not None and self.stopping.best_epoch:
            # the run reached its last epoch: the best weights are restored all the same
            # (as Keras 3 does), and said so with the same event
            early = self._early_stop(epochs_run, fired=False)
            yield early
        if status != "diverged" and self.stopping is not None and self.cfg.followup != "none":
            yield from self.followup()
            if self.diverged is not None:
                status = "diverged"
        final = self.final_metrics() if status != "diverged" else {}
        yield Finished(status=status, epochs_run=epochs_run, wall_time=time.perf_counter() - t0, final_metrics=final)

    def _monitored(self, summary: EpochEnd) -> float:
        monitor = self.stopping.monitor
        if monitor == "val_loss":
            return summary.val_loss if summary.val_loss is not None else float("nan")
        if monitor == "train_loss":
            return summary.train_loss
        return summary.metrics.get(monitor, float("nan"))

    def _early_stop(self, epoch: int, fired: bool = True) -> EarlyStop:
        """The EarlyStop event (``fired``: patience ran out after ``epoch``; else the run
        ended at its last epoch ``epoch``); the best weights are restored if asked.  If the
        monitored value was never finite (no best epoch) nothing is restored and the best
        value is NaN."""
        s = self.stopping
        restored = s.restore(self.net.params)
        return EarlyStop(
            monitor=s.monitor,
            best_epoch=int(s.best_epoch),
            stopped_epoch=int((s.stopped_epoch or epoch) if fired else epoch),
            best_value=float("nan") if s.best_value is None else float(s.best_value),
            restored=restored,
            best_train_loss=float(self.best_train_loss_at(s.best_epoch)),
            fired=fired,
        )

    def best_train_loss_at(self, best_epoch: int) -> float:
        return self.train_losses.get(best_epoch, float("nan"))

    def followup(self) -> Iterator[Event]:
        """Seed 001's two ways of using the validation data after early stopping."""
        best = int(self.stopping.best_epoch)
        if best <= 0 or not self.data.has_val:
            return
        X = np.concatenate([self.data.X_train, self.data.X_val])
        y = np.concatenate([self.data.y_train, self.data.y_val])
        self.schedule.reset()
        if self.cfg.followup == "retrain":
            yield PhaseStarted(phase="retrain", target_epochs=best)
            self.net.params[:] = self.initial_params
            self.opt.reset()
            for e0 in range(best):
                lr = float(self.schedule.lr_for_epoch(e0)) * self.lr_scale
                yield from self.run_epoch(X, y, e0 + 1, lr, "retrain")
                if self.diverged is not None:
                    return
                yield self.epoch_summary(e0 + 1, lr, "retrain", X, y, with_val=False)
        else:
            target = self.best_train_loss_at(best)
            yield PhaseStarted(phase="continue", target_epochs=self.cfg.epochs, target_loss=target)
            for e0 in range(self.cfg.epochs):
                lr = float(self.schedule.lr_for_epoch(best + e0)) * self.lr_scale
                yield from self.run_epoch(X, y, e0 + 1, lr, "continue")
                if self.diverged is not None:
                    return
                summary = self.epoch_summary(e0 + 1, lr, "continue", X, y, with_val=False)
                yield summary
                if summary.train_loss <= target:
                    return


def train(
    network,
    optimizer,
    schedule,
    data: TrainData,
    config: TrainConfig,
    stopping=None,
    live: Optional[LiveSettings] = None,
) -> Iterator[Event]:
    """Train ``network`` and yield events (see module docstring).  The caller stops by
    no longer iterating; the last event of a complete run is :class:`Finished`.

    Floating-point warnings are silenced while the trainer runs: overflow and NaN are
    reported as a :class:`Diverged` event instead."""
    trainer = _Trainer(network, optimizer, schedule, data, config, stopping, live)
    with np.errstate(all="ignore"):
        try:
            yield from trainer.events()
        except Exception as exc:  # noqa: BLE001 - an error inside a run ends it as an event
            yield Failed(epoch=trainer.epochs_run + 1, reason=f"{type(exc).__name__}: {exc}")
            yield Finished(status="failed", epochs_run=trainer.epochs_run,
                           wall_time=time.perf_counter() - trainer.t0, final_metrics={})
