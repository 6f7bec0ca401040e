"""Sweeps on Dask distributed: the speed-up of a local 2-worker cluster over running the
trials one after the other, the per-trial overhead of the Dask path, and the start-up of
a local cluster.

    python benchmarks/bench_sweep.py [--rounds 3] [--epochs 400] [--trials 32] [--startups 3]

* **speed-up**: 8 configurations (random η and L2 over two spirals, 2000 samples, a 2-32-32-1
  tanh network, Adam, batch 32, ``--epochs`` epochs each) run (a) one after the other in
  this process (``SweepRunner(workers=0)``: the same ``train_point`` the workers run) and
  (b) on a local cluster of 2 worker processes that is already up (its start-up is the
  third figure).  Blocks alternate (a, b, b, a, ...); the ratio is taken per round and
  its median reported.  Foreign CPU (other processes on this shared machine, not ours or
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
    rows = []
    for r in range(rounds):
        order = ("sequential", "cluster") if r % 2 == 0 else ("cluster", "sequential")
        got = {}
        for name in order:
            meter.start()
            seconds, _ = timed_sweep(base, sweep, dataset, **({"workers": 0} if name == "sequential"
                                                               else {"cluster": cluster}))
            got[name] = (seconds, meter.stop())
        rows.append({"sequential_s": got["sequential"][0], "cluster_s": got["cluster"][0],
                     "ratio": got["sequential"][0] / got["cluster"][0],
                     "foreign_cores": max(got["sequential"][1], got["cluster"][1])})
        log(f"round {r + 1}/{rounds}: sequential {got['sequential'][0]:.2f} s, cluster {got['cluster'][0]:.2f} s, "
            f"ratio {rows[-1]['ratio']:.2f} (others used up to {rows[-1]['foreign_cores']:.2f} cores)")
    trial_seconds = [o.seconds for o in there]
    return {"rounds": rows, "median_ratio": statistics.median(r["ratio"] for r in rows),
            "median_sequential_s": statistics.median(r["sequential_s"] for r in rows),
            "median_cluster_s": statistics.median(r["cluster_s"] for r in rows),
            "trial_seconds_on_workers": trial_seconds, "bit_identical": identical, "blas_here": blas_threads(),
            "epochs": epochs}


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
          f"{s['median_cluster_s']:.2f} s: {s['median_ratio']:.2f}x (median of {args.rounds} rounds; target >= 1.7x)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
