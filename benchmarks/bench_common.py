"""Shared helpers of the benchmarks: interleaved timing, medians, machine description.

Only *ratios from interleaved rounds in one process* count on a shared, noisy 2-core
machine.  :func:`interleave` runs every implementation for one block of steps, then
the next implementation, ... (A, B, C, A, B, C, ...) for ``rounds`` rounds; the start
of the sequence rotates each round so that no implementation always runs right after
the pause.  A ratio "ours / theirs" is computed *per round* (both measured within
seconds of each other) and the median over the rounds is reported.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"

if str(ROOT) not in sys.path:  # run as `python benchmarks/x.py` from a checkout
    sys.path.insert(0, str(ROOT))

from workbench.allocator import keep_freed_memory  # noqa: E402

keep_freed_memory()  # every benchmark measures the allocator as the app sets it (cli.main)

PAUSE = 0.3
"""Default sleep between blocks (s): OpenBLAS worker threads spin ~0.1 s after a call."""

# A runner performs about ``n`` training steps and returns (steps actually done, seconds).
Runner = Callable[[int], "tuple[int, float]"]


def optional_import(name: str):
    """The module ``name``, or None when it is not installed (references are optional)."""
    try:
        return __import__(name, fromlist=["_"])
    except ImportError:
        return None


def make_data(case, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random data for a benchmark ``case`` (``sizes``, ``task``, ``n_samples``): float32
    features in [0, 1) and random labels (int64 classes; binary 0/1 as float32) -- speed
    does not depend on what is learnt."""
    rng = np.random.default_rng(seed)
    X = rng.random((case.n_samples, case.sizes[0]), dtype=np.float32)
    if case.task == "binary":
        y = (rng.random(case.n_samples) < 0.5).astype(np.float32)
    else:
        y = rng.integers(0, case.sizes[-1], case.n_samples, dtype=np.int64)
    return X, y


def make_network(case, seed: int = 0):
    """The engine's :class:`~workbench.engine.network.Network` of a benchmark ``case``
    (``sizes``, ``activation``, ``init``, ``task``)."""
    from workbench.engine.network import LayerConfig, Network

    hidden = [LayerConfig(u, case.activation, init=case.init) for u in case.sizes[1:-1]]
    return Network(case.sizes[0], hidden, case.sizes[-1], case.task, seed=seed)


@dataclass
class Timing:
    """Per-round steps per second of one implementation."""

    name: str
    sps: list[float] = field(default_factory=list)
    foreign: list[Optional[float]] = field(default_factory=list)  # others' CPU use per block (cores)

    @property
    def median_sps(self) -> float:
        return statistics.median(self.sps) if self.sps else float("nan")

    def median_sps_of(self, rounds: list[int]) -> float:
        v = [self.sps[i] for i in rounds]
        return statistics.median(v) if v else float("nan")

    @property
    def median_step_us(self) -> float:
        m = self.median_sps
        return 1e6 / m if m and m > 0 else float("nan")


class CpuMeter:
    """CPU used on the whole machine by *others* (all busy time minus this process's),
    and time stolen by the hypervisor, in cores, between :meth:`start` and :meth:`stop`.
    Linux only (``/proc``); elsewhere it reports None.  The kernel counts in ticks of
    1/HZ s, so an interval shorter than ``MIN_TICKS`` ticks cannot be measured (one stray
    tick in 1 ms would read as 10 cores): it reports None too."""

    HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    MIN_TICKS = 5

    @staticmethod
    def snapshot():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:9]]
            with open("/proc/self/stat") as f:
                s = f.read()
            fields = s[s.rindex(")") + 2 :].split()
            mine = int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            return None
        user, nice, system, idle, iowait, irq, softirq, steal = v
        return user + nice + system + irq + softirq, steal, mine, time.perf_counter()

    def start(self):
        self._a = self.snapshot()

    def stop(self) -> Optional[float]:
        """Foreign CPU load (other processes + steal) since :meth:`start`, in cores."""
        b = self.snapshot()
        a = self._a
        if a is None or b is None or (b[3] - a[3]) * self.HZ < self.MIN_TICKS:
            return None
        ticks = (b[0] - a[0]) - (b[2] - a[2]) + (b[1] - a[1])
        return max(ticks, 0) / (self.HZ * (b[3] - a[3]))


def wait_quiet(threshold: float = 0.15, probe: float = 1.0, timeout: float = 300.0) -> Optional[float]:
    """Sleep until other processes use < ``threshold`` cores over ``probe`` seconds (or
    ``timeout`` passes).  Returns the last measured foreign load (None off Linux)."""
    meter = CpuMeter()
    t_end = time.perf_counter() + timeout
    while True:
        meter.start()
        time.sleep(probe)
        load = meter.stop()
        if load is None or load < threshold or time.perf_counter() > t_end:
            return load


def interleave(
    runners: dict[str, Runner],
    rounds: int,
    steps: "dict[str, int] | int",
    *,
    warmup: "dict[str, int] | int" = 3,
    pause: Optional[float] = None,
    quiet: Optional[float] = None,
    progress: Optional[Callable[[str], None]] = None,
) -> dict[str, Timing]:
    """Run ``runners`` in interleaved rounds; returns per-round steps/s per runner.

    ``steps`` is the block length (per runner or one for all); each runner is called
    ``warmup`` steps first (not timed).  ``pause`` seconds of sleep between blocks let
    the spinning worker threads of the previous implementation (OpenBLAS spins ~0.1 s
    after a call, OpenMP a little) go idle.  With ``quiet`` (cores), each round first
    waits until other processes use less than that (see :func:`wait_quiet`).  The
    foreign load measured during every block is kept in ``Timing.foreign``."""
    names = list(runners)
    pause = PAUSE if pause is None else pause
    steps_of = steps if isinstance(steps, dict) else {k: steps for k in names}
    warm_of = warmup if isinstance(warmup, dict) else {k: warmup for k in names}
    for name in names:
        if warm_of[name] > 0:
            runners[name](warm_of[name])
    out = {k: Timing(k) for k in names}
    meter = CpuMeter()
    for r in range(rounds):
        if quiet is not None:
            wait_quiet(quiet)
        k0 = r % len(names)
        for name in names[k0:] + names[:k0]:
            time.sleep(pause)
            meter.start()
            done, secs = runners[name](steps_of[name])
            out[name].foreign.append(meter.stop())
            out[name].sps.append(done / secs if secs > 0 else float("inf"))
        if progress is not None:
            worst = max((out[k].foreign[-1] or 0.0) for k in names)
            progress(
                f"round {r + 1}/{rounds} (others used up to {worst:.2f} cores): "
                + ", ".join(f"{k} {1e6 / out[k].sps[-1]:.0f} us" for k in names)
            )
    return out


def clean_rounds(timings: dict[str, Timing], limit: float = 0.25) -> list[int]:
    """Rounds in which no block saw other processes use more than ``limit`` cores."""
    n = min(len(t.sps) for t in timings.values())
    return [r for r in range(n) if all((t.foreign[r] or 0.0) <= limit for t in timings.values())]


def ratio_stats(a: Timing, b: Timing, rounds: Optional[list[int]] = None) -> dict:
    """Median (and spread) of the per-round ratio ``a.sps / b.sps`` (>1: a is faster),
    over ``rounds`` (indices; default all)."""
    idx = range(min(len(a.sps), len(b.sps))) if rounds is None else rounds
    rs = [a.sps[i] / b.sps[i] for i in idx if b.sps[i] > 0]
    if not rs:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "rounds": 0}
    return {"median": statistics.median(rs), "min": min(rs), "max": max(rs), "rounds": len(rs)}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                return sorted(f for f in flags if f.startswith(("avx", "fma", "sse4")))
    except OSError:
        pass
    return []


def blas_info() -> list[dict]:
    """threadpoolctl's view of the loaded BLAS / OpenMP libraries (kernel, version, threads)."""
    tpc = optional_import("threadpoolctl")
    if tpc is None:
        return [{"note": "threadpoolctl not installed"}]
    keep = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads", "threading_layer")
    out = []
    for d in tpc.threadpool_info():
        row = {k: d.get(k) for k in keep if k in d}
        fp = Path(str(d.get("filepath", "")))
        row["library"] = f"{fp.parent.name}/{fp.name}"  # e.g. numpy.libs/libscipy_openblas64_-....so
        out.append(row)
    return out


def environment() -> dict:
    """Everything needed to read a result later: versions, CPU, BLAS kernel, env vars."""
    env = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "loadavg_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_"))},
    }
    torch = optional_import("torch")
    env["torch"] = None if torch is None else torch.__version__
    if torch is not None:
        env["torch_threads"] = torch.get_num_threads()
        try:
            env["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        except Exception:  # pragma: no cover - older torch
            pass
    sk = optional_import("sklearn")
    env["sklearn"] = None if sk is None else sk.__version__
    env["blas"] = blas_info()  # after importing torch/sklearn so their pools show too
    return env


def blas_summary(env: dict) -> str:
    """One line: numpy's OpenBLAS kernel, e.g. ``openblas 0.3.31 Haswell x2``."""
    for d in env.get("blas", []):
        if d.get("user_api") == "blas" and str(d.get("library", "")).startswith("numpy"):
            return f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')} x{d.get('num_threads')}"
    for d in env.get("blas", []):
        if d.get("user_api") == "blas":
            return f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')} x{d.get('num_threads')}"
    return "unknown"


def write_json(name: str, payload: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=False, default=_jsonable) + "\n")
    return path


def _jsonable(x):
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    raise TypeError(type(x).__name__)


def fmt_ratio(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.2f}x"


def table(rows: list[list[str]], header: list[str]) -> str:
    """A GitHub-markdown table (also readable in a terminal)."""
    cols = list(zip(*([header] + rows))) if rows else [[h] for h in header]
    widths = [max(len(str(c)) for c in col) for col in cols]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def count_subnormal(a: np.ndarray) -> int:
    """Number of nonzero entries of a float array with |x| < smallest normal number."""
    if not np.issubdtype(a.dtype, np.floating):
        return 0
    tiny = np.finfo(a.dtype).tiny
    x = np.abs(a)
    return int(np.count_nonzero((x < tiny) & (x > 0)))
