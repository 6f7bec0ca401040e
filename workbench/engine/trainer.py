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

Why this module is long: it is the one epoch loop, shared by solo runs and lockstep groups
(through a backend: :class:`_Solo` here, :class:`~.group_backend.GroupBackend` for groups),
with what each epoch needs around it: live settings, the penalties, early stopping and the
follow-up phase.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

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
        """Change settings from the next epoch on (ValueError naming a bad one)."""
        LiveSettings.set_all([self], **values)

    @staticmethod
    def set_all(lives, **values: float) -> None:
        """Give every channel of ``lives`` (a group's members) the same changes, validated
        once: each name one of LIVE_SETTINGS, each value finite, ``lr`` > 0, others >= 0."""
        checked: dict[str, float] = {}
        for name, value in values.items():
            if name not in LIVE_SETTINGS:
                raise ValueError(f"{name}: not a live setting (one of {', '.join(LIVE_SETTINGS)})")
            value = float(value)
            if not math.isfinite(value) or value < 0 or (name == "lr" and value == 0):
                raise ValueError(f"{name}: must be a finite number {'> 0' if name == 'lr' else '>= 0'}, got {value}")
            checked[name] = value
        for live in lives:
            with live._lock:
                live._pending.update(checked)

    def take(self) -> dict[str, float]:
        with self._lock:
            pending, self._pending = self._pending, {}
        return pending


def _finite(value: float) -> bool:
    return math.isfinite(value)


class _Member:
    """The state of one run: its seed's streams, schedule, early stopping, live settings
    and progress.  A solo run is a group of one member; a lockstep group has one per member."""

    def __init__(self, index: int, schedule, config: TrainConfig, stopping, live, penalty_mask):
        self.index = index
        self.cfg = config
        self.schedule = schedule
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
        self.lr = 0.0  # the rate of the epoch being trained
        self.l1 = float(config.l1)
        self.l2 = float(config.l2)
        self.penalty_mask = penalty_mask
        self.train_losses: dict[int, float] = {}
        self.diverged: Optional[Diverged] = None
        self.batch_mean_loss = float("nan")
        self.step = 0
        self.samples = 0
        self.restart_epochs = set(schedule.restart_epochs(config.epochs)) if schedule is not None else set()
        self.epochs_run = 0
        self.running = True


class _Solo:
    """The numbers of a solo run: one network and its optimizer (see ``group_backend.GroupBackend``
    for a group's)."""

    def __init__(self, network, optimizer):
        self.net = network
        self.opt = optimizer
        self.initial_params = network.params.copy()

    def params_of(self, member: int) -> np.ndarray:
        return self.net.params

    def evaluate(self, X, y, members) -> list[dict]:
        return [self.net.evaluate(X, y)]

    def weight_decay(self, member: int) -> float:
        return self.opt.weight_decay

    def set_weight_decay(self, member: int, value: float) -> None:
        self.opt.weight_decay = value

    def freeze(self, member: int) -> None:
        """Nothing moves a finished solo run."""

    def restart(self, member: int) -> None:
        """Back to the initial weights and a fresh optimizer (the retrain follow-up)."""
        self.net.params[:] = self.initial_params
        self.opt.reset()

    def run_epoch(self, members, X, y, epoch: int, phase: str, emit: bool) -> Iterator[Event]:
        """Yield BatchEnd events; on divergence yield Diverged and set ``m.diverged``."""
        (m,) = members
        n = len(X)
        bs = min(m.cfg.batch_size, n)
        order = m.shuffle_rng.permutation(n)
        xbuf = np.empty((bs,) + X.shape[1:], dtype=X.dtype)
        ybuf = np.empty((bs,) + y.shape[1:], dtype=y.dtype)
        net, opt = self.net, self.opt
        noise = m.cfg.input_noise
        penalised = m.l1 != 0.0 or m.l2 != 0.0
        lr = m.lr
        loss_sum = 0.0
        batches = 0
        for batch, start in enumerate(range(0, n, bs), start=1):
            idx = order[start : start + bs]
            k = len(idx)
            xb = xbuf[:k]
            yb = ybuf[:k]
            np.take(X, idx, axis=0, out=xb)
            np.take(y, idx, axis=0, out=yb)
            if noise > 0.0:
                xb += (noise * m.noise_rng.standard_normal(xb.shape)).astype(xb.dtype, copy=False)
            loss = float(net.loss_and_grad(xb, yb, rng=m.dropout_rng))
            if not _finite(loss):
                m.diverged = Diverged(epoch=epoch, batch=batch, reason=f"training loss is {loss}")
                yield m.diverged
                return
            if penalised:
                add_penalty(net.params, net.grads, m.penalty_mask, m.l1, m.l2)
            opt.step(net.params, net.grads, lr)
            m.step += 1
            m.samples += k
            loss_sum += loss
            batches += 1
            if emit:
                yield BatchEnd(epoch=epoch, batch=batch, step=m.step, loss=loss, phase=phase)
        m.batch_mean_loss = loss_sum / max(batches, 1)


class _Trainer:
    """The epoch logic of a run, written once for ``members`` that train together on one
    ``backend`` (:class:`_Solo`, or a lockstep group's ``group_backend.GroupBackend``): live
    settings, the schedule's rate, the epoch of batches, evaluation, divergence, plateau,
    early stopping, follow-ups and the end of each member's run.  Kept private: the
    generators :func:`train` and :func:`train_group` are the API."""

    def __init__(self, backend, members: list, data: TrainData, *, emit_batches: bool = True,
                 evaluate_train: bool = True):
        self.backend = backend
        self.members = members
        self.data = data
        self.emit_batches = emit_batches
        self.evaluate_train = evaluate_train
        self.t0 = time.perf_counter()

    # -- numbers -------------------------------------------------------------
    def penalty(self, m: _Member) -> float:
        """l1 sum|w| + (l2/2) w^T w over the penalised entries (reported apart from the loss)."""
        if m.l1 == 0.0 and m.l2 == 0.0:
            return 0.0
        w = self.backend.params_of(m.index)[m.penalty_mask].astype(np.float64)
        return float(m.l1 * np.abs(w).sum() + 0.5 * m.l2 * (w @ w))

    # -- live settings -------------------------------------------------------
    def apply_live(self, m: _Member, epoch: int) -> Iterator[Event]:
        """Apply the member's pending live settings before ``epoch``.  ``lr`` is the base
        rate eta: the schedule's rate of every epoch is scaled by new eta / first eta."""
        if m.live is None:
            return
        for name, new in m.live.take().items():
            if name == "lr":
                old = m.base_lr * m.lr_scale
                m.lr_scale = new / m.base_lr if m.base_lr > 0 else 1.0
            elif name == "weight_decay":
                old = float(self.backend.weight_decay(m.index))
                self.backend.set_weight_decay(m.index, new)
            else:
                old = getattr(m, name)
                setattr(m, name, new)
            if old != new:
                yield SettingChanged(epoch=epoch, name=name, old=old, new=new, member=m.index)

    # -- one epoch -----------------------------------------------------------
    def epoch_summaries(self, members: list, epoch: int, phase: str, X_train, y_train, with_val: bool) -> list:
        """One EpochEnd per member (the members' evaluations batched by the backend)."""
        indices = [m.index for m in members]
        trains = self.backend.evaluate(X_train, y_train, indices) if self.evaluate_train else None
        vals = None
        if with_val and self.data.has_val:
            vals = self.backend.evaluate(self.data.X_val, self.data.y_val, indices)
        out = []
        for k, m in enumerate(members):
            metrics: dict[str, float] = {}
            if trains is not None:
                train = trains[k]
                train_loss = float(train.pop("loss"))
                metrics.update({f"train_{key}": float(v) for key, v in train.items()})
            else:
                train_loss = float(m.batch_mean_loss)
            val_loss = None
            if vals is not None:
                val = vals[k]
                val_loss = float(val.pop("loss"))
                metrics.update({f"val_{key}": float(v) for key, v in val.items()})
            out.append(EpochEnd(
                epoch=epoch,
                train_loss=train_loss,
                val_loss=val_loss,
                penalty=self.penalty(m),
                lr=m.lr,
                metrics=metrics,
                samples=m.samples,
                phase=phase,
                member=m.index,
            ))
        return out

    def final_metrics(self, members: list) -> dict[int, dict]:
        """Each member's metrics on train/val/test with its final weights, by index."""
        out: dict[int, dict] = {m.index: {} for m in members}
        if not members:
            return out
        indices = [m.index for m in members]
        splits = [("train", self.data.X_train, self.data.y_train)]
        if self.data.has_val:
            splits.append(("val", self.data.X_val, self.data.y_val))
        if self.data.has_test:
            splits.append(("test", self.data.X_test, self.data.y_test))
        for name, X, y in splits:
            for i, metrics in zip(indices, self.backend.evaluate(X, y, indices)):
                for k, v in metrics.items():
                    out[i][f"{name}_{k}"] = float(v)
        return out

    # -- the run -------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        self.t0 = time.perf_counter()
        X, y = self.data.X_train, self.data.y_train
        backend = self.backend
        for e0 in range(max(m.cfg.epochs for m in self.members)):
            epoch = e0 + 1
            active = [m for m in self.members if m.running]
            if not active:
                break
            for m in active:
                yield from self.apply_live(m, epoch)
                m.lr = float(m.schedule.lr_for_epoch(e0)) * m.lr_scale
                if e0 in m.restart_epochs and e0 > 0:
                    before = float(m.schedule.lr_for_epoch(e0 - 1)) * m.lr_scale
                    yield LearningRateChanged(epoch=epoch, kind="restart", old_lr=before, new_lr=m.lr, member=m.index)
            yield from backend.run_epoch(active, X, y, epoch, "train", self.emit_batches)
            ending = [(m, "diverged") for m in active if m.diverged is not None]
            trained = [m for m in active if m.diverged is None]
            summaries = self.epoch_summaries(trained, epoch, "train", X, y, with_val=True) if trained else []
            for m, summary in zip(trained, summaries):
                m.epochs_run = epoch
                if not (_finite(summary.train_loss) and (summary.val_loss is None or _finite(summary.val_loss))):
                    yield summary
                    m.diverged = Diverged(epoch=epoch, batch=0, reason="evaluation loss is not finite", member=m.index)
                    yield m.diverged
                    ending.append((m, "diverged"))
                    continue
                m.train_losses[epoch] = summary.train_loss
                yield summary
                plateau_value = summary.val_loss if m.cfg.plateau_monitor == "val_loss" else summary.train_loss
                if plateau_value is not None:
                    change = m.schedule.observe(e0, plateau_value)
                    if change is not None and epoch < m.cfg.epochs:  # no drop announced past the end
                        _, old, new = change
                        yield LearningRateChanged(epoch=epoch + 1, kind="plateau", old_lr=old * m.lr_scale,
                                                  new_lr=new * m.lr_scale, member=m.index)
                if m.stopping is not None:
                    value = self._monitored(m, summary)
                    if m.stopping.update(epoch, value, backend.params_of(m.index)):
                        yield self._early_stop(m, epoch)
                        ending.append((m, "early_stopped"))
                        continue
                if epoch >= m.cfg.epochs:
                    ending.append((m, "finished"))
            if ending:
                yield from self.finish(ending)
        ending = [(m, "finished") for m in self.members if m.running]  # runs of no epochs
        if ending:
            yield from self.finish(ending)

    def finish(self, ending: list) -> Iterator[Event]:
        """The end of the runs of ``ending`` (member, status) pairs: restore-best at the
        last epoch, the follow-up, the final metrics (evaluated for all of them at once),
        :class:`Finished`.  The members are frozen from here on."""
        done = []
        for m, status in ending:
            if status == "finished" and m.stopping is not None and m.stopping.best_epoch:
                # the run reached its last epoch: the best weights are restored all the same
                # (as Keras 3 does), and said so with the same event
                yield self._early_stop(m, m.epochs_run, fired=False)
            if status != "diverged" and m.stopping is not None and m.cfg.followup != "none":
                yield from self.followup(m)
                if m.diverged is not None:
                    status = "diverged"
            self.backend.freeze(m.index)
            done.append((m, status))
        finals = self.final_metrics([m for m, status in done if status != "diverged"])
        for m, status in done:
            m.running = False
            yield Finished(status=status, epochs_run=m.epochs_run, wall_time=time.perf_counter() - self.t0,
                           final_metrics=finals.get(m.index, {}), member=m.index)

    def _monitored(self, m: _Member, summary: EpochEnd) -> float:
        monitor = m.stopping.monitor
        if monitor == "val_loss":
            return summary.val_loss if summary.val_loss is not None else float("nan")
        if monitor == "train_loss":
            return summary.train_loss
        return summary.metrics.get(monitor, float("nan"))

    def _early_stop(self, m: _Member, epoch: int, fired: bool = True) -> EarlyStop:
        """The EarlyStop event (``fired``: patience ran out after ``epoch``; else the run
        ended at its last epoch ``epoch``); the best weights are restored if asked.  If the
        monitored value was never finite (no best epoch) nothing is restored and the best
        value is NaN."""
        s = m.stopping
        restored = s.restore(self.backend.params_of(m.index))
        return EarlyStop(
            monitor=s.monitor,
            best_epoch=int(s.best_epoch),
            stopped_epoch=int((s.stopped_epoch or epoch) if fired else epoch),
            best_value=float("nan") if s.best_value is None else float(s.best_value),
            restored=restored,
            best_train_loss=float(m.train_losses.get(s.best_epoch, float("nan"))),
            fired=fired,
            member=m.index,
        )

    def followup(self, m: _Member) -> Iterator[Event]:
        """Seed 001's two ways of using the validation data after early stopping."""
        best = int(m.stopping.best_epoch)
        if best <= 0 or not self.data.has_val:
            return
        X = np.concatenate([self.data.X_train, self.data.X_val])
        y = np.concatenate([self.data.y_train, self.data.y_val])
        m.schedule.reset()
        if m.cfg.followup == "retrain":
            yield PhaseStarted(phase="retrain", target_epochs=best, member=m.index)
            self.backend.restart(m.index)
            for e0 in range(best):
                m.lr = float(m.schedule.lr_for_epoch(e0)) * m.lr_scale
                yield from self.backend.run_epoch([m], X, y, e0 + 1, "retrain", self.emit_batches)
                if m.diverged is not None:
                    return
                yield self.epoch_summaries([m], e0 + 1, "retrain", X, y, with_val=False)[0]
        else:
            target = float(m.train_losses.get(best, float("nan")))
            yield PhaseStarted(phase="continue", target_epochs=m.cfg.epochs, target_loss=target, member=m.index)
            for e0 in range(m.cfg.epochs):
                m.lr = float(m.schedule.lr_for_epoch(best + e0)) * m.lr_scale
                yield from self.backend.run_epoch([m], X, y, e0 + 1, "continue", self.emit_batches)
                if m.diverged is not None:
                    return
                summary = self.epoch_summaries([m], e0 + 1, "continue", X, y, with_val=False)[0]
                yield summary
                if summary.train_loss <= target:
                    return


def _run(trainer: _Trainer) -> Iterator[Event]:
    """Drive ``trainer`` with floating-point warnings silenced; an error inside the run
    ends every member still running with Failed + Finished(status 'failed')."""
    with np.errstate(all="ignore"):
        try:
            yield from trainer.events()
        except Exception as exc:  # noqa: BLE001 - an error inside a run ends it as an event
            reason = f"{type(exc).__name__}: {exc}"
            for m in trainer.members:
                if m.running:
                    m.running = False
                    yield Failed(epoch=m.epochs_run + 1, reason=reason, member=m.index)
                    yield Finished(status="failed", epochs_run=m.epochs_run,
                                   wall_time=time.perf_counter() - trainer.t0, final_metrics={}, member=m.index)


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
    mask = network.weight_mask if config.penalty_mask is None else config.penalty_mask
    member = _Member(0, schedule, config, stopping, live, mask)
    trainer = _Trainer(_Solo(network, optimizer), [member], data, emit_batches=config.emit_batches,
                       evaluate_train=config.evaluate_train)
    yield from _run(trainer)


def train_group(
    group,
    optimizer,
    schedules: Sequence,
    data: TrainData,
    configs: Sequence[TrainConfig],
    stoppings: Optional[Sequence] = None,
    lives: Optional[Sequence[Optional[LiveSettings]]] = None,
) -> Iterator[Event]:
    """Train the members of a lockstep group together and yield every member's events
    (``member`` = its index); member m's events, in order, are those of its solo run
    ``train(group.to_network(m), ..., schedules[m], data, configs[m], stoppings[m],
    lives[m])``.

    ``group``: a :class:`~workbench.engine.lockstep.StackedNetwork`; ``optimizer``: a
    :class:`~workbench.engine.group_optimizer.GroupOptimizer` for it; one schedule, config,
    early stopping (or None) and live-settings object (or None) per member.  The configs
    may differ in everything per-member (seed, epochs, l1, l2, input noise, plateau
    monitor) but must share ``batch_size``, ``emit_batches`` and ``evaluate_train``, and
    have no follow-up (``followup='none'``: follow-up phases are not run in lockstep).
    A member that stops or diverges is frozen while the others go on; the generator ends
    after the last member's :class:`Finished`.  The arguments are checked now (ValueError);
    the run starts at the first ``next()``."""
    from .group_backend import GroupBackend

    N = group.n_members
    schedules, configs = list(schedules), list(configs)
    stoppings = [None] * N if stoppings is None else list(stoppings)
    lives = [None] * N if lives is None else list(lives)
    for name, values in (("schedules", schedules), ("configs", configs), ("stoppings", stoppings), ("lives", lives)):
        if len(values) != N:
            raise ValueError(f"{name}: expected {N} (one per member), got {len(values)}")
    first = configs[0]
    for i, cfg in enumerate(configs):
        for name in ("batch_size", "emit_batches", "evaluate_train"):
            if getattr(cfg, name) != getattr(first, name):
                raise ValueError(f"configs[{i}].{name}: must be the same for every member of a lockstep group, got "
                                 f"{getattr(cfg, name)!r} vs {getattr(first, name)!r}")
        if cfg.followup != "none":
            raise ValueError(f"configs[{i}].followup: follow-up phases are not run in lockstep, got {cfg.followup!r}")
    members = [
        _Member(i, schedules[i], configs[i], stoppings[i], lives[i],
                group.weight_mask if configs[i].penalty_mask is None else configs[i].penalty_mask)
        for i in range(N)
    ]
    trainer = _Trainer(GroupBackend(group, optimizer, first.batch_size), members, data,
                       emit_batches=first.emit_batches, evaluate_train=first.evaluate_train)
    return _run(trainer)
