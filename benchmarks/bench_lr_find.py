"""The multi-seed learning-rate range test: its seeds as one lockstep group vs one after the other.

    python benchmarks/bench_lr_find.py [--seeds 4] [--steps 100 1000] [--rounds 11] [--block 20]
                                       [--quiet-wait] [--json PATH]

The whole of ``workbench.lr_find.lr_find(spec, dataset, seeds=S, steps=K)`` on the default
spec (two spirals, 400 samples, 2-16-16-1 tanh, Adam, batch 32; the default range 1e-6 .. 10),
consumed to its RangeTestResult -- building the S networks, the tests, the band and the
suggestions -- two ways, in interleaved rounds in one process (``bench_common.interleave``:
A, B, A, B, ... with the start rotating, the foreign CPU load of every block measured):

``lockstep``    what lr_find does when ``group_plan`` allows it (it does here): one group
``sequential``  the same call with ``group_plan`` answering "no": range_test per seed

A runner's "step" is one whole range test; a block is ``--block`` of them.  The ratio
sequential time / lockstep time is taken per round and its median reported, over the
rounds in which no block saw > 0.25 foreign cores when at least 3 such rounds exist (else
over all rounds, said so).  First the script checks that both ways give the same curves
bit for bit.  Nothing is written unless ``--json`` names a file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from contextlib import contextmanager

import numpy as np

import bench_common as common  # also puts the repository root on sys.path

from workbench import lr_find as lr_find_mod  # noqa: E402
from workbench import spec as S  # noqa: E402
from workbench.data import load_dataset  # noqa: E402
from workbench.engine.lr_finder import RangeTestResult  # noqa: E402


@contextmanager
def sequential_plan():
    """lr_find's plan answering "one after the other" (its fallback path) meanwhile."""
    saved = lr_find_mod.group_plan
    lr_find_mod.group_plan = lambda spec, dataset, seeds: (False, "forced by the benchmark")
    try:
        yield
    finally:
        lr_find_mod.group_plan = saved


def one_test(spec, dataset, seeds: int, steps: int) -> RangeTestResult:
    *_, result = lr_find_mod.lr_find(spec, dataset, seeds=seeds, steps=steps)
    return result


def runners(spec, dataset, seeds: int, steps: int) -> dict:
    def lockstep(n: int):
        t0 = time.perf_counter()
        for _ in range(n):
            one_test(spec, dataset, seeds, steps)
        return n, time.perf_counter() - t0

    def sequential(n: int):
        with sequential_plan():
            t0 = time.perf_counter()
            for _ in range(n):
                one_test(spec, dataset, seeds, steps)
            return n, time.perf_counter() - t0

    return {"lockstep": lockstep, "sequential": sequential}


def check_equal(spec, dataset, seeds: int, steps: int) -> bool:
    """Both ways give the same curves, bit for bit."""
    a = one_test(spec, dataset, seeds, steps)
    with sequential_plan():
        b = one_test(spec, dataset, seeds, steps)
    return all(np.array_equal(x.losses, y.losses) and np.array_equal(x.smoothed, y.smoothed)
               and x.stopped_reason == y.stopped_reason for x, y in zip(a.curves, b.curves, strict=True))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--steps", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--block", type=int, default=20, help="range tests per block (100 steps; scaled down for more)")
    ap.add_argument("--quiet-wait", action="store_true", help="wait for a quiet machine before each round")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args(argv)

    spec = S.ExperimentSpec()
    dataset = load_dataset(spec.data)
    ok, why = lr_find_mod.group_plan(spec, dataset, args.seeds)
    env = common.environment()
    print(f"numpy {env['numpy']}, {common.blas_summary(env)}, {env['cpu_model']}, load {env['loadavg_1_5_15']}")
    print(f"default spec ({spec.data.name}, {len(dataset.X_train)} training samples), {args.seeds} seeds: "
          f"group_plan -> {ok} {why}")
    results = {"environment": env, "seeds": args.seeds, "cases": {}}
    for steps in args.steps:
        same = check_equal(spec, dataset, args.seeds, steps)
        print(f"steps {steps}: lockstep curves == sequential curves bit for bit: {same}", flush=True)
        block = max(1, args.block * 100 // steps)
        t = common.interleave(runners(spec, dataset, args.seeds, steps), args.rounds, block, warmup=1,
                              quiet=0.25 if args.quiet_wait else None,
                              progress=lambda s: print("  " + re.sub(r"(\d) us", r"\1 us/test", s), flush=True))
        clean = common.clean_rounds(t)
        use = clean if len(clean) >= 3 else None
        r = common.ratio_stats(t["lockstep"], t["sequential"], use)
        note = f"{len(clean)} of {args.rounds} rounds quiet" + ("" if use is not None else " (too few: all used)")
        ms = {k: 1e3 / (t[k].median_sps_of(use) if use is not None else t[k].median_sps) for k in t}
        print(f"steps {steps}: sequential / lockstep time = {r['median']:.2f} (min {r['min']:.2f}, max "
              f"{r['max']:.2f}, {r['rounds']} rounds; {note}); median test {ms['lockstep']:.1f} ms lockstep, "
              f"{ms['sequential']:.1f} ms sequential", flush=True)
        results["cases"][str(steps)] = {"same_bits": same, "ratio": r, "median_ms": ms, "note": note,
                                        "foreign": {k: v.foreign for k, v in t.items()}}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
