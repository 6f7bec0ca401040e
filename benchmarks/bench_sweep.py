"""Sweeps on Dask distributed: the speed-up of a local 2-worker cluster over running the
trials one after the other, the per-trial overhead of the Dask path, and the start-up of
a local cluster.

    python benchmarks/bench_sweep.py [--rounds 3] [--epochs 400] [--trials 32] [--startups 3]

* **speed-up**: 8 configurations (random η and L2 over two spirals, 2000 samples, a 2-32-32-1
  tanh network, Adam, batch 32, ``--epochs`` epochs each) run (a) one after the other in
  this process (``SweepRunner(workers=0)``: the same ``train_point`` the workers run,
  OpenBLAS with its default threads, as the window and ``run`` train), (b) on a local
  cluster of 2 worker processes that is already up (its start-up is the third figure),
  (c) two plain spawned processes with one BLAS thread each (no Dask: the ceiling this
  machine gives two trainers at once), and, with threadpoolctl installed, (d) as (a) with
  one BLAS thread (the workers' setting).
  The order rotates every round; the ratios a/b and c/b are taken per round and their
  medians reported.  Foreign CPU (other processes on this shared machine, not ours or
  our workers') is measured during every block.  The script checks first that (a) and
  (b) give bit-identical results.
* **per-trial overhead** of the Dask path: ``--trials`` one-epoch trials (two spirals, 400
  samples) on a 1-worker cluster minus the same trials in this process, per trial
  (submitting the point, scattering nothing new, the stop-flag check, the Event, the
  streamed message, pickling the result back); also a no-op task's round trip for scale.
* **start-up**: ``Cluster(workers=2).client()`` on a fresh cluster (scheduler, two
  worker processes spawned, importing NumPy and the workbench), and ``close()``.

Guarded by ``if __name__ == "__main__"``: the workers are spawned processes that import
this file as their main module.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

RESULTS = Path(__file__).resolve().parent / "results" / "sweep.json"


def speed_case(epochs: int):
    """The base experiment and the 8-configuration sweep of the speed-up figure."""
    from workbench.spec import ExperimentSpec, parse
    from workbench.sweep.spec import Axis, SweepSpec

    base = parse(ExperimentSpec, {
        "name": "bench sweep", "data": {"name": "two_spirals", "n_samples": 2000},
        "architecture": {"layers": [{"units": 32, "activation": "tanh"}, {"units": 32, "activation": "tanh"}]},
        "optimizer": {"kind": "adam"}, "training": {"epochs": epochs, "batch_size": 32}})
    sweep = SweepSpec(axes=(Axis("optimizer.lr", "log_uniform", 1e-3, 3e-2),
                            Axis("regularization.l2", "log_uniform", 1e-6, 1e-3)), samples=8, seed=0)
    return base, sweep


def overhead_case(trials: int):
    """``trials`` one-epoch trials on a small data set."""
    from workbench.spec import ExperimentSpec, parse
    from workbench.sweep.spec import Axis, Budget, SweepSpec

    base = parse(ExperimentSpec, {"data": {"name": "two_spirals", "n_samples": 400}, "training": {"epochs": 1}})
    sweep = SweepSpec(axes=(Axis("optimizer.lr", "log_uniform", 1e-3, 1e-1),), samples=trials, seed=1,
                      budget=Budget(max_runs=max(64, trials)))
    return base, sweep


class ForeignMeter:
    """CPU used on the machine by processes other than this one and its children (our
    workers), in cores, between :meth:`start` and :meth:`stop` (Linux; else None)."""

    def _snapshot(self):
        import psutil

        total = psutil.cpu_times()
        busy = total.user + total.nice + total.system + getattr(total, "irq", 0) + getattr(total, "softirq", 0) \
            + getattr(total, "steal", 0)
        me = psutil.Process()
        ours = sum(sum(p.cpu_times()[:2]) for p in [me] + me.children(recursive=True) if p.is_running())
        return busy, ours, time.perf_counter()

    def start(self):
        self._a = self._snapshot()

    def stop(self):
        b, a = self._snapshot(), self._a
        return max(0.0, (b[0] - a[0]) - (b[1] - a[1])) / (b[2] - a[2])


def blas_threads() -> str:
    """This process's BLAS thread count (threadpoolctl, if installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    return ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info()) or "none"


def timed_sweep(base, sweep, dataset, **how) -> tuple[float, list]:
    """Seconds from start() until the sweep is over, and its outcomes."""
    from workbench.sweep.runner import SweepRunner

    runner = SweepRunner(base, sweep, dataset, **how)
    start = time.perf_counter()
    outcomes = runner.run()
    seconds = time.perf_counter() - start
    runner.close()
    return seconds, outcomes


def _train_one(args):
    """One trial in a plain worker process (the ceiling: no Dask)."""
    from workbench.sweep.trial import train_point

    index, spec, dataset = args
    return train_point([(index, spec)], dataset)[0].seconds


def process_pool():
    """Two plain spawned processes with one BLAS thread each, warmed up (NumPy and the
    workbench imported): what the machine gives two single-threaded trainers at once."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update({k: "1" for k in saved})
    try:
        pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
        list(pool.map(abs, [1, 2]))  # start both
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return pool


def measure_speedup(rounds: int, epochs: int, cluster, log=print) -> dict:
    from workbench.data import load_dataset

    base, sweep = speed_case(epochs)
    dataset = load_dataset(base.data)
    _, here = timed_sweep(base, sweep, dataset, workers=0)
    _, there = timed_sweep(base, sweep, dataset, cluster=cluster)
    identical = all(a.result.history == b.result.history and a.result.weights == b.result.weights
                    for a, b in zip(here, there))
    log(f"results of the cluster and of this process bit-identical: {identical} (BLAS threads here: "
        f"{blas_threads()}; on the workers: 1)")
    meter = ForeignMeter()
    from workbench.sweep.spec import trials as expand

    pool = process_pool()
    jobs = [(t.index, t.spec, dataset) for t in expand(base, sweep)]
    list(pool.map(_train_one, jobs[:2]))  # warm: the workbench imported in both

    def processes() -> float:
        start = time.perf_counter()
        list(pool.map(_train_one, jobs))
        return time.perf_counter() - start

    variants = {"sequential": lambda: timed_sweep(base, sweep, dataset, workers=0)[0],
                "cluster": lambda: timed_sweep(base, sweep, dataset, cluster=cluster)[0],
                "processes": processes}
    try:
        from threadpoolctl import threadpool_limits

        def one_blas_thread() -> float:
            with threadpool_limits(1):
                return timed_sweep(base, sweep, dataset, workers=0)[0]

        variants["sequential_1blas"] = one_blas_thread
    except ImportError:
        log("threadpoolctl is not installed: no sequential run with one BLAS thread")
    names = list(variants)
    rows = []
    for r in range(rounds):
        got = {}
        for name in names[r % len(names):] + names[:r % len(names)]:
            meter.start()
            got[name] = (variants[name](), meter.stop())
        row = {f"{name}_s": got[name][0] for name in names}
        row["ratio"] = got["sequential"][0] / got["cluster"][0]
        row["ratio_processes"] = got["sequential"][0] / got["processes"][0]
        if "sequential_1blas" in got:
            row["ratio_1blas"] = got["sequential_1blas"][0] / got["cluster"][0]
        row["foreign_cores"] = max(f for _, f in got.values())
        rows.append(row)
        log(f"round {r + 1}/{rounds}: " + ", ".join(f"{name} {got[name][0]:.2f} s" for name in names)
            + f": ratio {row['ratio']:.2f}" + (f" ({row['ratio_1blas']:.2f} against one BLAS thread)"
                                                if "ratio_1blas" in row else "")
            + f"; plain processes {row['ratio_processes']:.2f}"
            + f" (others used up to {row['foreign_cores']:.2f} cores)")
    pool.shutdown()
    trial_seconds = [o.seconds for o in there]
    out = {"rounds": rows, "median_ratio": statistics.median(r["ratio"] for r in rows),
           "median_ratio_processes": statistics.median(r["ratio_processes"] for r in rows),
           "median_processes_s": statistics.median(r["processes_s"] for r in rows),
           "median_sequential_s": statistics.median(r["sequential_s"] for r in rows),
           "median_cluster_s": statistics.median(r["cluster_s"] for r in rows),
           "trial_seconds_on_workers": trial_seconds, "bit_identical": identical, "blas_here": blas_threads(),
           "epochs": epochs}
    if "sequential_1blas" in variants:
        out["median_ratio_1blas"] = statistics.median(r["ratio_1blas"] for r in rows)
        out["median_sequential_1blas_s"] = statistics.median(r["sequential_1blas_s"] for r in rows)
    return out


def measure_overhead(trials: int, log=print) -> dict:
    from workbench.data import load_dataset
    from workbench.sweep.runner import Cluster

    base, sweep = overhead_case(trials)
    dataset = load_dataset(base.data)
    one = Cluster(workers=1)
    client = one.client()
    try:
        timed_sweep(base, sweep, dataset, cluster=one)  # warm: imports on the worker, the worker's client
        here = [timed_sweep(base, sweep, dataset, workers=0)[0] for _ in range(3)]
        there = [timed_sweep(base, sweep, dataset, cluster=one)[0] for _ in range(3)]
        noop = []
        for _ in range(3):
            start = time.perf_counter()
            client.gather([client.submit(int, k, pure=False) for k in range(trials)])
            noop.append((time.perf_counter() - start) / trials)
    finally:
        one.close()
    per_trial_here = statistics.median(here) / trials
    per_trial_there = statistics.median(there) / trials
    out = {"trials": trials, "in_process_ms": 1e3 * per_trial_here, "one_worker_ms": 1e3 * per_trial_there,
           "overhead_ms": 1e3 * (per_trial_there - per_trial_here), "noop_task_ms": 1e3 * statistics.median(noop)}
    log(f"1-epoch trial: {out['in_process_ms']:.1f} ms in this process, {out['one_worker_ms']:.1f} ms on one "
        f"worker: overhead {out['overhead_ms']:.1f} ms per trial (a no-op task: {out['noop_task_ms']:.2f} ms)")
    return out


def measure_startup(n: int, log=print) -> dict:
    from workbench.sweep.runner import Cluster

    start = time.perf_counter()
    import distributed  # noqa: F401  (once per process: the first cluster pays for it)

    imported = time.perf_counter() - start
    starts, stops = [], []
    for _ in range(n):
        cluster = Cluster(workers=2)
        start = time.perf_counter()
        cluster.client()
        starts.append(time.perf_counter() - start)
        start = time.perf_counter()
        cluster.close()
        stops.append(time.perf_counter() - start)
    log(f"importing distributed {imported:.2f} s; local cluster of 2 workers: start-up "
        f"{', '.join(f'{s:.2f}' for s in starts)} s, shut-down {', '.join(f'{s:.2f}' for s in stops)} s")
    return {"import_s": imported, "startup_s": starts, "shutdown_s": stops,
            "median_startup_s": statistics.median(starts)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=400)
    p.add_argument("--trials", type=int, default=32)
    p.add_argument("--startups", type=int, default=3)
    p.add_argument("--json", default=str(RESULTS))
    args = p.parse_args(argv)

    import numpy as np

    from workbench.sweep.runner import Cluster

    out = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "numpy": np.__version__}
    out["startup"] = measure_startup(args.startups)
    cluster = Cluster(workers=2)
    cluster.client()
    try:
        out["speedup"] = measure_speedup(args.rounds, args.epochs, cluster)
    finally:
        cluster.close()
    out["overhead"] = measure_overhead(args.trials)
    s = out["speedup"]
    print(f"\n8 configurations x {args.epochs} epochs: sequential {s['median_sequential_s']:.2f} s, 2 local workers "
          f"{s['median_cluster_s']:.2f} s: {s['median_ratio']:.2f}x (median of {args.rounds} rounds; target >= 1.7x)"
          + (f"; against one BLAS thread {s['median_ratio_1blas']:.2f}x" if "median_ratio_1blas" in s else "")
          + f"; two plain processes (no Dask) {s['median_ratio_processes']:.2f}x")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
