"""Run a sweep's trials on Dask distributed: a local cluster of worker processes, or a
scheduler given by its address -- the same code either way.

:class:`Cluster` starts (or connects to) the cluster lazily, once, and keeps it until
:meth:`Cluster.close`: a ``distributed.LocalCluster(processes=True, threads_per_worker=1,
dashboard_address=None)`` of one worker process per core (training is Python-heavy: threads
would share one interpreter lock), each with its BLAS limited to one thread
(``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` = 1, set before the
worker process starts); or a ``distributed.Client`` of ``tcp://host:port``.  A scheduler
that cannot be reached (or has no workers) is one :class:`SweepError` within
``timeout`` (:data:`CONNECT_TIMEOUT`) seconds; a refused connection answers at once.

:class:`SweepRunner` runs one sweep on it:

* the data set is scattered once to every worker (``Client.scatter(broadcast=True)``);
* each *point* of the sweep is one task (:func:`workbench.sweep.trial.dask_task`): its seeds
  train as one lockstep group where :func:`workbench.build.lockstep_plan` allows it;
* each task's epochs stream back at a bounded rate through the worker's ``log_event`` on
  the sweep's topic (``Client.subscribe_topic``), at most 5 messages a second per trial;
* Cancel (and the time budget) sets the sweep's ``distributed.Event``, which every task
  checks after every epoch: running trials stop at their next epoch (status ``stopped``,
  cut short), trials not started end at once (``cancelled``); finished ones stand;
* a trial that fails or diverges is an outcome with its reason; the others go on.  A task
  lost with its worker makes its trials failed outcomes too.

Two ways to drive it: :meth:`SweepRunner.run` blocks until the sweep is over (the CLI, the
tests); :meth:`start` returns at once and :meth:`poll` reports progress, new outcomes and
the live curves (the window calls it from a timer).  ``workers=0`` trains the trials in
this process, one after the other, through the very same :func:`train_point` (the
sequential reference of the tests and the benchmark; no Dask needed).

Results cross processes as pickled frozen dataclasses inside Dask's own protocol; a *file*
is never pickled (see :mod:`workbench.sweep.file`).

This module holds two jobs: the cluster (starting a local one or connecting to a scheduler,
with its timeouts and shutdown: :class:`Cluster`) and driving one sweep on it
(:class:`SweepRunner`).  They share only Dask; the cluster could move to a module of its
own.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field, replace as _replace
from typing import Callable, Optional

from ..spec import ExperimentSpec
from .spec import SweepSpec, Trial, check_sweep, trials as expand
from .trial import STREAM_RATE, TrialOutcome, dask_task, train_point

#: Seconds to reach a scheduler (and find a worker there) before giving up.
CONNECT_TIMEOUT = 8.0
#: Environment of the local workers: one BLAS thread each (set before the process starts).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: Points a live curve keeps, at most (more: every other one is dropped).
MAX_LIVE_POINTS = 2000
#: How often the runner's thread looks at the clock and the Cancel flag (seconds).
TICK = 0.1

_ADDRESS_RE = re.compile(r"^(?:tcp://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")


class SweepError(RuntimeError):
    """The sweep could not run at all (no cluster, an unreachable scheduler); one line."""


def parse_address(address: str) -> tuple[str, int]:
    """``tcp://host:port`` (or ``host:port``) -> ``(host, port)``; SweepError otherwise."""
    m = _ADDRESS_RE.match(address.strip())
    if m is None or not 0 < int(m.group(2)) < 65536:
        raise SweepError(f"scheduler address {address!r}: expected tcp://host:port, e.g. tcp://127.0.0.1:8786")
    return m.group(1).strip("[]"), int(m.group(2))


def default_workers() -> int:
    """Worker processes of a local cluster: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class Cluster:
    """A Dask cluster for sweeps, started or connected on first use (:meth:`client`,
    blocking: call it off the GUI thread) and kept until :meth:`close`.  ``scheduler``:
    the address of an existing cluster; else a local cluster of ``workers`` processes
    (default: one per core) with no dashboard unless ``dashboard`` (e.g. ``":8787"``)."""

    def __init__(self, workers: Optional[int] = None, scheduler: Optional[str] = None, *,
                 timeout: float = CONNECT_TIMEOUT, dashboard: Optional[str] = None):
        if scheduler is not None:
            parse_address(scheduler)  # a malformed address is told at once
        if workers is not None and workers < 1:
            raise SweepError(f"workers: must be at least 1, got {workers}")
        self.workers = workers
        self.scheduler = scheduler
        self.timeout = timeout
        self.dashboard = dashboard
        self.startup_seconds: Optional[float] = None
        self._lock = threading.Lock()
        self._client = None
        self._local = None
        self._closed = False

    @property
    def local(self) -> bool:
        return self.scheduler is None

    @property
    def started(self) -> bool:
        return self._client is not None

    @property
    def address(self) -> str:
        return self.scheduler or (self._local.scheduler_address if self._local is not None else "")

    def client(self):
        """The ``distributed.Client`` (starting the local cluster or connecting first)."""
        with self._lock:
            if self._closed:
                raise SweepError("the cluster was shut down")
            if self._client is None:
                start = time.perf_counter()
                self._client = self._connect() if self.scheduler else self._start_local()
                self.startup_seconds = time.perf_counter() - start
            return self._client

    def _start_local(self):
        from distributed import Client, LocalCluster

        n = self.workers or default_workers()
        try:
            # no dashboard unless asked; the scheduler's small HTTP server (health, metrics)
            # listens on a free local port rather than taking 8787
            quiet_http = {} if self.dashboard else {"scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"}}
            self._local = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       dashboard_address=self.dashboard, silence_logs=logging.ERROR,
                                       env=dict(WORKER_ENV), **quiet_http)
            client = Client(self._local, set_as_default=False)
            client.wait_for_workers(n, timeout=max(30.0, 10 * self.timeout))
        except Exception as exc:  # noqa: BLE001 - one line for the user
            self._shutdown()
            raise SweepError(f"cannot start a local cluster of {n} workers: {type(exc).__name__}: {exc}") from None
        return client

    def _connect(self):
        host, port = parse_address(self.scheduler)
        deadline = time.monotonic() + self.timeout
        where = f"the Dask scheduler at {self.scheduler}"
        silent = (f"cannot reach {where}: no answer within {self.timeout:g} s (is it a Dask scheduler's address? "
                  "the usual port is 8786)")
        # A refused or unresolvable address answers at once.  A Dask scheduler writes its
        # handshake as soon as it accepts a connection: a peer that says nothing within the
        # timeout is not one (distributed's Client would wait for it without end).
        try:
            with socket.create_connection((host, port), timeout=self.timeout) as probe:
                probe.settimeout(max(0.1, deadline - time.monotonic()))
                if not probe.recv(1):
                    raise SweepError(f"cannot reach {where}: it closed the connection at once")
        except socket.timeout:
            raise SweepError(silent) from None
        except OSError as exc:
            raise SweepError(f"cannot reach {where}: {exc.strerror or exc or type(exc).__name__}") from None
        client = _within(deadline, self._new_client, silent)
        try:
            client.wait_for_workers(1, timeout=max(0.5, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001
            client.close()
            raise SweepError(f"{where} has no workers (waited {self.timeout:g} s); start some with "
                             f"'dask worker {self.scheduler}'") from None
        return client

    def _new_client(self, seconds: float):
        from distributed import Client

        try:
            return Client(self.scheduler, timeout=seconds, set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, a comm error: one line
            raise SweepError(f"cannot reach the Dask scheduler at {self.scheduler}: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")) from None

    def n_workers(self) -> int:
        """Workers the cluster has now (starts it first)."""
        return len(self.client().nthreads())

    def worker_pids(self) -> list[int]:
        """Process ids of the workers (starts the cluster first)."""
        return sorted(self.client().run(os.getpid).values())

    def close(self) -> None:
        """Disconnect; a local cluster is shut down with its worker processes.  Idempotent."""
        with self._lock:
            self._closed = True
            self._shutdown()

    def _shutdown(self) -> None:
        client, local = self._client, self._local
        self._client = self._local = None
        for thing in (client, local):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001 - closing what is already gone
                    pass


def _within(deadline: float, make, message: str):
    """``make(seconds)`` in a thread of its own, given until ``deadline`` (time.monotonic);
    SweepError(``message``) if it has not returned by then (what it makes later is closed)."""
    box: dict = {}
    late = threading.Event()

    def target() -> None:
        try:
            box["value"] = make(max(0.5, deadline - time.monotonic()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc
        if late.is_set() and "value" in box:
            box["value"].close()

    thread = threading.Thread(target=target, name="sweep-connect", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()) + 0.5)
    if thread.is_alive():
        late.set()
        raise SweepError(message)
    if "error" in box:
        raise box["error"]
    return box["value"]


# ---------------------------------------------------------------------------
# Progress


@dataclass
class LiveCurve:
    """A trial's epochs so far (streamed; at most MAX_LIVE_POINTS, thinned evenly)."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_metric: list = field(default_factory=list)

    def extend(self, message: dict) -> None:
        for name in ("epoch", "train_loss", "val_loss", "val_metric"):
            getattr(self, name).extend(message.get(name, ()))
        if len(self.epoch) > MAX_LIVE_POINTS:
            for name in ("epoch", "train_loss", "val_loss", "val_metric"):
                column = getattr(self, name)
                setattr(self, name, column[-1::-2][::-1])  # every other point, the newest kept

    def copy(self) -> "LiveCurve":
        return LiveCurve(list(self.epoch), list(self.train_loss), list(self.val_loss), list(self.val_metric))


@dataclass(frozen=True)
class SweepProgress:
    """What :meth:`SweepRunner.poll` reports: ``state`` (``idle``, ``starting`` the
    cluster, ``running``, ``cancelling``, then ``finished``, ``cancelled`` or ``failed``
    with ``error``), trials ``done`` of ``total``, the ``fraction`` of all epochs trained,
    ``elapsed`` seconds since the first trial was submitted and the ``eta`` (seconds, None
    until something is known), every outcome so far (``outcomes``, by trial index), the
    ones new since the last poll and the live curves that changed since then."""

    state: str
    total: int
    done: int
    fraction: float
    elapsed: float
    eta: Optional[float]
    outcomes: dict
    new_outcomes: tuple
    curves: dict
    error: str = ""
    running: tuple = ()

    @property
    def over(self) -> bool:
        return self.state in ("finished", "cancelled", "failed")


class SweepRunner:
    """One sweep of ``base_spec`` (an ExperimentSpec) over ``sweep`` (a SweepSpec) on
    ``dataset`` (loaded once, from ``base_spec.data``).  ``cluster``: a :class:`Cluster`
    to use and keep (the window's session cluster); else one is made from ``workers`` and
    ``scheduler`` and shut down by :meth:`close`.  ``workers=0``: train in this process
    (no Dask).  ``on_progress(outcome, done, total)`` is called (from the runner's thread)
    for every trial that ends.  SpecError (naming the field) when the sweep does not fit
    the base experiment."""

    def __init__(self, base_spec: ExperimentSpec, sweep: SweepSpec, dataset, *, workers: Optional[int] = None,
                 scheduler: Optional[str] = None, on_progress: Optional[Callable] = None,
                 cluster: Optional[Cluster] = None, rate: float = STREAM_RATE, keep_weights: bool = True):
        self.base_spec = base_spec
        self.sweep = sweep
        self.dataset = dataset
        self.infos = check_sweep(base_spec, sweep)
        self.trials: list[Trial] = expand(base_spec, sweep)
        self.on_progress = on_progress
        self.rate = rate
        self.keep_weights = keep_weights
        self.in_process = cluster is None and workers == 0 and scheduler is None
        self._owns_cluster = cluster is None and not self.in_process
        self.cluster = cluster if cluster is not None else (None if self.in_process else Cluster(workers, scheduler))
        self._lock = threading.Lock()
        self._outcomes: dict[int, TrialOutcome] = {}
        self._new: list[TrialOutcome] = []
        self._curves: dict[int, LiveCurve] = {}
        self._changed: set[int] = set()
        self._running: set[int] = set()
        self._state = "idle"
        self._error = ""
        self._cancel = threading.Event()
        self._over = threading.Event()
        self._stop_reason = ""
        self._t0: Optional[float] = None
        self._thread: Optional[threading.Thread] = None
        self._epochs_total = sum(t.spec.training.epochs if t.spec is not None else 0 for t in self.trials) or 1

    # -- public API --------------------------------------------------------------------------
    @property
    def total(self) -> int:
        return len(self.trials)

    @property
    def over(self) -> bool:
        """Whether the sweep has ended (finished, cancelled or failed)."""
        return self._over.is_set()

    def start(self) -> None:
        """Start the sweep in a thread of its own (the cluster starts there too); returns at once."""
        if self._thread is not None:
            raise RuntimeError("a SweepRunner runs once")
        self._state = "starting"
        self._thread = threading.Thread(target=self._drive, name="sweep-runner", daemon=True)
        self._thread.start()

    def run(self) -> list[TrialOutcome]:
        """Run the sweep to its end (blocking) and return every trial's outcome, by index.
        SweepError when it could not run at all."""
        self.start()
        self.wait()
        progress = self.poll()
        if progress.state == "failed":
            raise SweepError(progress.error)
        return [progress.outcomes[t.index] for t in self.trials]

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait until the sweep is over; False if ``timeout`` seconds passed first."""
        return self._over.wait(timeout)

    def cancel(self) -> None:
        """Stop the sweep: running trials stop at their next epoch, others do not start.
        Returns at once (the runner's thread tells the workers)."""
        with self._lock:
            if not self._stop_reason:
                self._stop_reason = "cancel"
            if self._state in ("starting", "running"):
                self._state = "cancelling"
        self._cancel.set()

    def close(self, timeout: float = 30.0) -> None:
        """Cancel what still runs, wait for the runner's thread (at most ``timeout`` s) and
        shut down the cluster this runner started (a cluster given to it is kept)."""
        if self._thread is not None and not self._over.is_set():
            self.cancel()
            self._over.wait(timeout)
        if self._owns_cluster and self.cluster is not None:
            self.cluster.close()

    def poll(self) -> SweepProgress:
        """Progress since the last poll (see :class:`SweepProgress`); cheap, never blocks."""
        with self._lock:
            new, self._new = tuple(self._new), []
            curves = {i: self._curves[i].copy() for i in sorted(self._changed) if i in self._curves}
            self._changed.clear()
            elapsed = time.perf_counter() - self._t0 if self._t0 is not None else 0.0
            fraction = self._fraction()
            eta = None
            if self._t0 is not None and fraction > 0:
                eta = 0.0 if self._over.is_set() else elapsed * (1 - fraction) / fraction
            return SweepProgress(self._state, len(self.trials), len(self._outcomes), fraction, elapsed, eta,
                                 dict(self._outcomes), new, curves, self._error, tuple(sorted(self._running)))

    def curve(self, index: int) -> LiveCurve:
        """A copy of trial ``index``'s live curve (empty before its first epoch)."""
        with self._lock:
            return self._curves.get(index, LiveCurve()).copy()

    # -- bookkeeping ---------------------------------------------------------------------------
    def _fraction(self) -> float:
        done = 0
        for t in self.trials:
            if t.index in self._outcomes:
                done += t.spec.training.epochs if t.spec is not None else 0
            elif t.index in self._curves and self._curves[t.index].epoch:
                done += min(self._curves[t.index].epoch[-1], t.spec.training.epochs)
        return min(1.0, done / self._epochs_total)

    def _on_message(self, message: dict) -> None:
        index = message.get("trial")
        if not isinstance(index, int) or not 0 <= index < len(self.trials):
            return
        with self._lock:
            self._curves.setdefault(index, LiveCurve()).extend(message)
            self._changed.add(index)
            self._running.add(index)

    def _on_event(self, event) -> None:  # a Dask topic event: (timestamp, message)
        message = event[1] if isinstance(event, (tuple, list)) and len(event) == 2 else event
        if isinstance(message, dict):
            self._on_message(message)

    def _record(self, outcomes) -> None:
        for outcome in outcomes:
            outcome = self._explained(outcome)
            with self._lock:
                self._outcomes[outcome.index] = outcome
                self._new.append(outcome)
                self._running.discard(outcome.index)
                done = len(self._outcomes)
            if self.on_progress is not None:
                self.on_progress(outcome, done, len(self.trials))

    def _explained(self, outcome: TrialOutcome) -> TrialOutcome:
        """Say why a trial was cut short or left out: Cancel or the time budget."""
        budget = self._stop_reason == "budget"
        if outcome.status == "stopped":
            epochs = len(outcome.result.history.get("epoch", ())) if outcome.result is not None else 0
            why = (f"cut short after epoch {epochs}: the time budget of {self.sweep.budget.max_seconds:g} s ran out"
                   if budget else f"cut short by Cancel after epoch {epochs}")
            return _replace(outcome, reason=why)
        if outcome.status == "cancelled":
            why = "not run: the time budget ran out" if budget else "not run: cancelled before it started"
            return _replace(outcome, reason=why)
        return outcome

    def _should_stop(self) -> bool:
        if self._cancel.is_set():
            return True
        limit = self.sweep.budget.max_seconds
        if limit is not None and self._t0 is not None and time.perf_counter() - self._t0 > limit:
            with self._lock:
                self._stop_reason = self._stop_reason or "budget"
            self._cancel.set()
            return True
        return False

    def _point_items(self) -> list[list[tuple[int, ExperimentSpec]]]:
        """The trials to train, one list per point (a point's trials are one task); trials
        whose point breaks a rule are recorded as failed at once."""
        by_point: dict[int, list] = {}
        invalid = []
        for t in self.trials:
            if t.spec is None:
                invalid.append(TrialOutcome(t.index, "failed", reason=t.problem))
            else:
                by_point.setdefault(t.point_index, []).append((t.index, t.spec))
        self._record(invalid)
        return list(by_point.values())

    # -- driving -------------------------------------------------------------------------------
    def _drive(self) -> None:
        final = "finished"
        try:
            if self.in_process:
                self._drive_here()
            else:
                self._drive_dask()
            if self._stop_reason == "cancel":
                final = "cancelled"
        except SweepError as exc:
            final, self._error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - the sweep as a whole failed: one line for the user
            final, self._error = "failed", f"the sweep failed: {type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._state = final
                self._running.clear()
            self._over.set()

    def _set_running(self) -> None:
        with self._lock:
            self._t0 = time.perf_counter()
            if self._state == "starting":
                self._state = "running"

    def _drive_here(self) -> None:
        self._set_running()
        for items in self._point_items():
            with self._lock:
                self._running.update(i for i, _ in items)
            self._record(train_point(items, self.dataset, should_stop=self._should_stop, publish=self._on_message,
                                     rate=self.rate, keep_weights=self.keep_weights))

    def _drive_dask(self) -> None:
        from distributed import Event

        client = self.cluster.client()
        if self._cancel.is_set():  # cancelled while the cluster started
            self._record(TrialOutcome(t.index, "cancelled") for t in self.trials if t.index not in self._outcomes)
            return
        tag = uuid.uuid4().hex[:12]
        topic, stop = f"mlpw-sweep-{tag}", Event(f"mlpw-sweep-stop-{tag}", client=client)
        client.subscribe_topic(topic, self._on_event)
        done: queue.SimpleQueue = queue.SimpleQueue()
        futures = {}
        data = None
        try:
            data = client.scatter(self.dataset, broadcast=True, hash=False)
            self._set_running()
            for p, items in enumerate(self._point_items()):
                future = client.submit(dask_task, items, data, stop.name, topic, self.rate, self.keep_weights,
                                       key=f"mlpw-point-{tag}-{p}", pure=False, priority=-p)
                futures[future.key] = (future, items)
                future.add_done_callback(done.put)
            flagged = False
            remaining = len(futures)
            while remaining:
                if not flagged and self._should_stop():
                    stop.set()  # every task sees it at its next epoch
                    flagged = True
                try:
                    future = done.get(timeout=TICK)
                except queue.Empty:
                    continue
                remaining -= 1
                _, items = futures[future.key]
                self._record(self._task_outcomes(future, items))
        finally:
            try:
                client.unsubscribe_topic(topic)
            except Exception:  # noqa: BLE001
                pass
            for future, _ in futures.values():
                future.release()
            if data is not None:
                data.release()

    @staticmethod
    def _task_outcomes(future, items) -> list[TrialOutcome]:
        try:
            return list(future.result())
        except BaseException as exc:  # noqa: BLE001 - a worker died, the task was lost: failed rows
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return [TrialOutcome(i, "failed", reason=f"the task was lost: {text}"[:500]) for i, _ in items]


__all__ = ["CONNECT_TIMEOUT", "Cluster", "LiveCurve", "SweepError", "SweepProgress", "SweepRunner", "WORKER_ENV",
           "default_workers", "parse_address"]
