"""Cost of "look inside the network": training throughput with and without layer health.

    python benchmarks/bench_diagnostics.py [--case tiny|medium|all] [--rounds N] [--quick] [--no-write]

Each variant trains with the real trainer generator ``train(...)`` (``emit_batches=False``,
``evaluate_train=True`` as the app does, no validation split) for a block of epochs, the
same data and initial weights:

``plain``       the trainer alone.
``per_epoch``   plus, as the integration proposed in ``workbench.engine.diagnostics`` would do
                it, ``UpdateProbe.before`` on the last optimizer step of every epoch (an
                optimizer wrapper here, since the trainer has no hook yet) and a
                ``HealthMonitor.snapshot`` after every ``EpochEnd`` (``min_interval=0``,
                ``budget=inf``).
``throttled``   the same with the monitor's default rate limit: a snapshot only when at
                least ``MIN_INTERVAL`` (0.5 s) of training has passed since the previous one
                and the snapshots so far used at most ``BUDGET`` (5 %) of the wall time;
                the first epoch of a block is always snapshotted.

Every block builds its ``HealthMonitor`` (choosing the evaluation batch) inside the timed
region, as a run would, and takes its first snapshot after the block's first epoch; blocks
last ~2.5 s of plain training so that the rate limit, not that first snapshot, decides.  Throughput = samples / s (epochs x n / wall time); the ratio
"with / plain" is taken per interleaved round (``bench_common.interleave``) and the median
reported; requirement: >= 0.90.  Separately timed (median of repeated calls): one snapshot,
``init_spread`` over the five default initialisers + current, and the per-layer gradient
check on 32 rows.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Optional

import bench_common as common  # also puts the repository root on sys.path
from bench_common import make_data, make_network

from workbench.engine import diagnostics as dg
from workbench.engine.events import EpochEnd
from workbench.engine.gradcheck import check_gradients_per_layer
from workbench.engine.optimizers import make_optimizer
from workbench.engine.schedules import make_schedule
from workbench.engine.trainer import TrainConfig, TrainData, train

TARGET = 0.90  # diagnostics on must keep >= 90 % of the training throughput


@dataclass(frozen=True)
class Case:
    name: str
    sizes: tuple[int, ...]  # (inputs, hidden..., outputs)
    activation: str
    task: str  # multiclass | binary
    optimizer: str  # adam | sgd
    lr: float
    batch: int
    n_samples: int
    epochs: int  # epochs per block (one variant, one round)
    quick_epochs: int
    init: str = "he_uniform"
    description: str = ""


CASES = {
    "tiny": Case(
        "tiny", (2, 16, 16, 1), "tanh", "binary", "sgd", 0.1, 10, 500, epochs=2000, quick_epochs=300,
        init="xavier_uniform", description="MLP 2-16-16-1 tanh, sigmoid BCE, SGD, batch 10, 500 samples",
    ),
    "medium": Case(
        "medium", (784, 256, 128, 10), "relu", "multiclass", "adam", 1e-3, 128, 5000, epochs=40, quick_epochs=8,
        description="MLP 784-256-128-10 ReLU, softmax CE, Adam, batch 128, 5000 random samples",
    ),
}

VARIANTS = ("plain", "per_epoch", "throttled")


class ProbingOptimizer:
    """Wraps an optimizer: ``probe.before(params)`` right before the last step of every
    epoch (``steps_per_epoch`` steps), as the trainer hook would."""

    def __init__(self, opt, probe: dg.UpdateProbe, steps_per_epoch: int):
        self.opt, self.probe, self.spe = opt, probe, steps_per_epoch
        self.count = 0
        self.weight_decay = opt.weight_decay

    def step(self, params, grads, lr):
        self.count += 1
        if self.count % self.spe == 0:
            self.probe.before(params)
        self.opt.step(params, grads, lr)


def make_runner(case: Case, variant: str, X=None, y=None):
    """``run(k)`` trains ``k`` epochs and returns ``(samples, seconds)``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: one of {VARIANTS}")
    if X is None:
        X, y = make_data(case)
    net = make_network(case)
    opt = make_optimizer(case.optimizer, net.n_params, dtype=net.dtype)
    data = TrainData(X, y)
    bs = min(case.batch, len(X))
    spe = -(-len(X) // bs)
    counter = [0]
    snapshots = []

    def run(k: int):
        schedule = make_schedule("constant", case.lr, k)
        counter[0] += 1
        cfg = TrainConfig(epochs=k, batch_size=case.batch, seed=counter[0], emit_batches=False)
        t0 = time.perf_counter()
        monitor = None
        optimizer = opt
        if variant != "plain":
            kw = {"min_interval": 0.0, "budget": math.inf} if variant == "per_epoch" else {}
            monitor = dg.HealthMonitor(net, X, y, seed=0, **kw)
            optimizer = ProbingOptimizer(opt, monitor.probe, spe)
        seen = 0
        gen = train(net, optimizer, schedule, data, cfg)
        for ev in gen:
            if isinstance(ev, EpochEnd):
                seen += 1
                if monitor is not None and monitor.due():
                    snapshots.append(monitor.snapshot(ev.epoch).seconds)
                if seen == k:
                    break
        dt = time.perf_counter() - t0
        gen.close()
        if monitor is not None:
            run.snapshots.append(monitor.count)
        return k * len(X), dt

    run.net, run.snapshots, run.snapshot_seconds = net, [], snapshots
    return run


def time_calls(fn, repeat: int) -> dict:
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return {"median_ms": 1e3 * statistics.median(ts), "min_ms": 1e3 * min(ts), "calls": repeat}


def component_costs(case: Case, X, y, repeat: int) -> dict:
    """Median time of one snapshot, of init_spread (default initialisers + current) and
    of the per-layer gradient check on 32 rows."""
    net = make_network(case)
    mon = dg.HealthMonitor(net, X, y, min_interval=0.0, budget=math.inf)
    mon.probe.before(net.params)
    out = {"snapshot": time_calls(lambda: mon.snapshot(1), repeat)}
    inits = (*dg.DEFAULT_INITIALIZERS, dg.current_initializers(net))
    acts = [case.activation] * (len(case.sizes) - 2)
    out["init_spread"] = time_calls(lambda: dg.init_spread(net.layer_sizes, acts, mon.X, inits, 0), max(3, repeat // 4))
    out["gradcheck_per_layer_32_rows"] = time_calls(
        lambda: check_gradients_per_layer(net, X[:32], y[:32]), max(3, repeat // 4)
    )
    return out


def run_case(case: Case, rounds: int, epochs: int, *, env=None, quiet: Optional[float] = 0.25, verbose=True) -> dict:
    say = print if verbose else (lambda *a: None)
    X, y = make_data(case)
    runners = {v: make_runner(case, v, X, y) for v in VARIANTS}
    say(f"\n== {case.name}: {case.description}; {epochs} epochs per block, {rounds} rounds")
    timings = common.interleave(runners, rounds, epochs, warmup=1, quiet=quiet, progress=say if verbose else None)
    clean = common.clean_rounds(timings)
    used = clean if len(clean) >= max(3, rounds // 2) else None
    ratios = {v: common.ratio_stats(timings[v], timings["plain"], used) for v in VARIANTS if v != "plain"}
    costs = component_costs(case, X, y, repeat=40 if case.name == "tiny" else 12)
    snaps = {v: runners[v].snapshots for v in VARIANTS if v != "plain"}
    epoch_seconds = case.n_samples / timings["plain"].median_sps
    rows = [[v, f"{100 * r['median']:.1f} %", f"{100 * r['min']:.1f} %", f"{100 * r['max']:.1f} %",
             f"{statistics.median(snaps[v][1:] or snaps[v]):.0f} / block", "yes" if r["median"] >= TARGET else "NO"]
            for v, r in ratios.items()]
    say(common.table(rows, ["variant", "throughput vs plain (median)", "min", "max", "snapshots", ">= 90 %"]))
    say(f"plain: {timings['plain'].median_sps:,.0f} samples/s, one epoch ~{1e3 * epoch_seconds:.1f} ms; "
        f"one snapshot {costs['snapshot']['median_ms']:.2f} ms (min {costs['snapshot']['min_ms']:.2f}); "
        f"init_spread {costs['init_spread']['median_ms']:.1f} ms; per-layer gradcheck "
        f"{costs['gradcheck_per_layer_32_rows']['median_ms']:.1f} ms")
    say(f"rounds used: {'all' if used is None else used} (clean: {clean})")
    return {
        "case": asdict(case),
        "rounds": rounds,
        "epochs_per_block": epochs,
        "samples_per_second": {v: t.sps for v, t in timings.items()},
        "foreign_load": {v: t.foreign for v, t in timings.items()},
        "clean_rounds": clean,
        "ratios_vs_plain": ratios,
        "snapshots_per_block": snaps,
        "epoch_ms": 1e3 * epoch_seconds,
        "component_costs": costs,
        "min_interval_s": dg.MIN_INTERVAL,
        "budget": dg.BUDGET,
        "eval_batch_rows": dg.EVAL_BATCH_ROWS,
        "env": env if env is not None else common.environment(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=[*CASES, "all"], default="all")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 7, quick 3)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs per block (default: per case)")
    ap.add_argument("--quick", action="store_true", help="few rounds and short blocks (a smoke run)")
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/diagnostics_<case>.json")
    ap.add_argument("--quiet-below", type=float, default=0.25,
                    help="before each round wait (<= 5 min) until other processes use fewer cores than this; 0: no wait")
    args = ap.parse_args(argv)
    names = list(CASES) if args.case == "all" else [args.case]
    rounds = args.rounds or (3 if args.quick else 7)
    env = common.environment()
    print(f"{env['cpu_model']} ({env['cpu_count']} cpus), numpy {env['numpy']} [{common.blas_summary(env)}]")
    for name in names:
        case = CASES[name]
        epochs = args.epochs or (case.quick_epochs if args.quick else case.epochs)
        result = run_case(case, rounds, epochs, env=env, quiet=args.quiet_below or None)
        result["quick"] = bool(args.quick)
        if not args.no_write:
            path = common.write_json(f"diagnostics_{name}" + ("_quick" if args.quick else ""), result)
            print(f"wrote {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
