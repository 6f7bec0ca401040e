"""Train the trials of one sweep point: the task a Dask worker (or this process) runs.

:func:`train_point` builds the point's runs -- one lockstep group for the seeds of a point
when :func:`workbench.build.lockstep_plan` allows it, else one run after the other --,
iterates the engine's trainer generator (the same one the window and the CLI iterate),
records every run with its own :class:`~workbench.history.Recorder` and returns one
:class:`TrialOutcome` per trial: plain data (frozen dataclasses) that pickles across
processes.  It never raises for a trial's sake: a run that cannot be built or that fails
is an outcome with status ``failed`` and its reason, a diverged run one with status
``diverged``.

Two callables connect it to whoever watches:

* ``should_stop()`` is asked before each run and after every epoch; True stops the
  running trials there (status ``stopped``: cut short, their epochs so far kept) and
  leaves the ones not started out (status ``cancelled``);
* ``publish(message)`` receives each trial's new epochs at most ``rate`` times a second
  per trial (and once at its end), as a small msgpack-able dict
  ``{"trial": i, "epoch": [...], "train_loss": [...], "val_loss": [...], "val_metric": [...]}``
  of at most :data:`MAX_MESSAGE_POINTS` epochs (more are thinned evenly; the outcome keeps
  every epoch).

:func:`dask_task` wraps it for a Dask worker: the stop flag is a ``distributed.Event``
(asked of the scheduler at most every :data:`STOP_CHECK_SECONDS`, a cached answer in
between, so a 1-ms epoch is not slowed by a round trip) and ``publish`` is the worker's
``log_event`` on the sweep's topic (fire and forget; the client subscribes to it).
"""

from __future__ import annotations

import math
import os
import socket
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from ..spec import ExperimentSpec, RunResult

#: Messages per second per trial, at most.
STREAM_RATE = 5.0
#: Epochs one message carries, at most.
MAX_MESSAGE_POINTS = 256
#: How often a worker asks the scheduler whether the sweep was stopped, at most (seconds).
STOP_CHECK_SECONDS = 0.1
#: Trained weights are kept for networks up to this many parameters (a file stores them).
KEEP_WEIGHTS_UP_TO = 1_000_000


@dataclass(frozen=True)
class TrialOutcome:
    """How one trial ended: ``status`` is the run's (``finished``, ``early_stopped``,
    ``diverged``, ``failed``, ``stopped`` -- cut short by Cancel or the time budget) or
    ``cancelled`` (never started); ``result`` its RunResult (None when it never trained);
    ``reason`` why it failed, diverged, stopped or was left out; ``seconds`` the wall time
    of its training; ``where`` the worker (host:pid); ``lockstep`` whether it trained in a
    lockstep group with the other seeds of its point."""

    index: int
    status: str
    result: Optional[RunResult] = None
    reason: str = ""
    seconds: float = 0.0
    where: str = ""
    lockstep: bool = False


def _metric_key(metrics: dict) -> Optional[str]:
    for key in ("val_accuracy", "val_r2"):
        if key in metrics:
            return key
    return None


def _finite(x) -> Optional[float]:
    return float(x) if x is not None and math.isfinite(x) else None


class _Streamer:
    """Buffers each trial's epochs and hands them to ``publish`` at most ``rate`` times a
    second per trial (bounded messages: at most MAX_MESSAGE_POINTS epochs, thinned evenly)."""

    def __init__(self, publish: Optional[Callable[[dict], None]], rate: float):
        self.publish = publish
        self.period = 1.0 / rate if rate > 0 else math.inf
        self.buffers: dict[int, list] = {}
        self.sent: dict[int, float] = {}

    def add(self, trial: int, event) -> None:
        if self.publish is None:
            return
        metric = _metric_key(event.metrics)
        self.buffers.setdefault(trial, []).append(
            (event.epoch, _finite(event.train_loss), _finite(event.val_loss),
             _finite(event.metrics.get(metric)) if metric else None))
        now = time.monotonic()
        if now - self.sent.get(trial, -math.inf) >= self.period:
            self.flush(trial, now)

    def flush(self, trial: int, now: Optional[float] = None) -> None:
        rows = self.buffers.pop(trial, None)
        if not rows or self.publish is None:
            return
        if len(rows) > MAX_MESSAGE_POINTS:  # evenly thinned, the last epoch kept
            step = len(rows) / MAX_MESSAGE_POINTS
            rows = [rows[min(len(rows) - 1, math.ceil((k + 1) * step) - 1)] for k in range(MAX_MESSAGE_POINTS)]
        self.sent[trial] = time.monotonic() if now is None else now
        epoch, train, val, metric = (list(column) for column in zip(*rows))
        try:
            self.publish({"trial": trial, "epoch": epoch, "train_loss": train, "val_loss": val, "val_metric": metric})
        except Exception:  # noqa: BLE001 - a watcher that went away never stops training
            self.publish = None


def _where() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _weights(params, keep: bool):
    return params.copy() if keep and params.size <= KEEP_WEIGHTS_UP_TO else None


def _reason(result: RunResult, stopped_by: str) -> str:
    if result.status == "stopped":
        return stopped_by
    return result.message


def _train(events, recorders, indices, streamer, should_stop) -> bool:
    """Iterate ``events`` into the recorders (by member) and the streamer; True when
    ``should_stop`` cut it short."""
    from ..engine.events import EpochEnd

    try:
        for event in events:
            member = getattr(event, "member", 0)
            recorders[member].add(event)
            if type(event) is EpochEnd:
                if event.phase == "train":
                    streamer.add(indices[member], event)
                if should_stop():
                    return True
    finally:
        events.close()
    return False


def train_point(items: Sequence[tuple[int, ExperimentSpec]], dataset, *,
                should_stop: Callable[[], bool] = lambda: False,
                publish: Optional[Callable[[dict], None]] = None, rate: float = STREAM_RATE,
                keep_weights: bool = True, stopped_by: str = "cut short") -> list[TrialOutcome]:
    """Train the trials ``items`` = ``[(trial index, spec), ...]`` (the seeds of one point)
    on ``dataset`` and return their outcomes in the same order (see the module docstring).
    ``stopped_by``: the reason given to a trial cut short."""
    from ..build import build_group, build_run, lockstep_plan
    from ..history import Recorder

    indices = [i for i, _ in items]
    specs = [s for _, s in items]
    if should_stop():
        return [TrialOutcome(i, "cancelled", reason="cancelled before it started", where=_where()) for i in indices]
    streamer = _Streamer(publish, rate)
    lockstep = False
    if len(specs) > 1:
        try:
            lockstep, _why = lockstep_plan(specs, dataset)
        except Exception:  # noqa: BLE001 - a spec that cannot train is found below, run by run
            lockstep = False
    outcomes: dict[int, TrialOutcome] = {}

    def failed(index: int, exc: BaseException, seconds: float = 0.0) -> TrialOutcome:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return TrialOutcome(index, "failed", reason=text[:500], seconds=seconds, where=_where(), lockstep=lockstep)

    def finish(index: int, recorder, params, seconds: float) -> TrialOutcome:
        result = recorder.result(weights=_weights(params, keep_weights))
        return TrialOutcome(index, result.status, result, _reason(result, stopped_by), seconds, _where(), lockstep)

    if lockstep:
        start = time.perf_counter()
        try:
            group = build_group(specs, dataset, emit_batches=False)
            recorders = [Recorder(s) for s in specs]
            _train(group.events(), recorders, indices, streamer, should_stop)
        except Exception as exc:  # noqa: BLE001 - the point's trials are failed rows; the sweep goes on
            return [failed(i, exc, time.perf_counter() - start) for i in indices]
        seconds = time.perf_counter() - start
        for m, index in enumerate(indices):
            streamer.flush(index)
            outcomes[index] = finish(index, recorders[m], group.member_params(m), seconds)
        return [outcomes[i] for i in indices]

    for index, spec in items:
        if outcomes and should_stop():
            outcomes[index] = TrialOutcome(index, "cancelled", reason="cancelled before it started", where=_where())
            continue
        start = time.perf_counter()
        try:
            run = build_run(spec, dataset, emit_batches=False)
            recorder = Recorder(spec)
            _train(run.events(), [recorder], [index], streamer, should_stop)
        except Exception as exc:  # noqa: BLE001 - a failed row; the sweep goes on
            outcomes[index] = failed(index, exc, time.perf_counter() - start)
            continue
        streamer.flush(index)
        outcomes[index] = finish(index, recorder, run.network.params, time.perf_counter() - start)
    return [outcomes[i] for i in indices]


class CachedFlag:
    """``ask()`` at most every ``interval`` seconds; the last answer in between.  Once
    True it stays True."""

    def __init__(self, ask: Callable[[], bool], interval: float = STOP_CHECK_SECONDS):
        self.ask = ask
        self.interval = interval
        self.value = False
        self.asked = -math.inf

    def __call__(self) -> bool:
        if self.value:
            return True
        now = time.monotonic()
        if now - self.asked >= self.interval:
            self.asked = now
            self.value = bool(self.ask())
        return self.value


def dask_task(items, dataset, stop_name: str, topic: str, rate: float = STREAM_RATE,
              keep_weights: bool = True) -> list[TrialOutcome]:
    """:func:`train_point` on a Dask worker: ``stop_name`` names the sweep's
    ``distributed.Event`` (its stop flag), ``topic`` the event topic its epochs go to."""
    from distributed import Event, get_worker

    worker = get_worker()
    event = Event(stop_name)
    flag = CachedFlag(lambda: event.is_set())
    return train_point(items, dataset, should_stop=flag, publish=lambda msg: worker.log_event(topic, msg),
                       rate=rate, keep_weights=keep_weights)
