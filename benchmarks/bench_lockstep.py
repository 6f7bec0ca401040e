"""Lockstep groups vs solo runs: N seeds of one network trained as ONE stacked network.

    python benchmarks/bench_lockstep.py [--case tiny|medium|all] [--rounds N] [--quick]
                                        [--before REV] [--profile] [--crossover] [--solo-only]
                                        [--no-write]

Per case, in interleaved rounds (``bench_common.interleave``: A, B, C, D, A, B, ...; the
start rotates; every block waits for a quiet machine and measures the others' CPU use):

``solo``         one solo run: ``train()`` of the seed-0 network for E epochs (the whole
                 generator, its final metrics included)
``sequential``   the N seeds' solo runs one after the other (seeds 0 .. N-1)
``lockstep``     the same N runs as one group: ``train_group()`` on a ``StackedNetwork``
``solo_before``  the ``solo`` run with the engine's trainer, events and optimizers of
                 ``--before REV`` (default: the commit before lockstep), everything else
                 the working tree's: is the solo path any slower?

Every run: ``emit_batches=False``, ``evaluate_train=False``, no validation split (what
``bench_training``'s ``ours_trainer`` measures), random data (uniform features, random
labels: speed does not depend on what is learnt).  Ratios are taken per round and the
median is reported, over the rounds in which no block saw > 0.25 foreign cores when at
least 3 such rounds exist (else over all rounds, said so):

* ``lockstep / solo`` time  -- Tiny target: <= 2 (N = 8 seeds cost at most two solo runs)
* ``sequential / lockstep`` -- Tiny target: >= 4; Medium target: >= 1
* ``solo after / before``   -- speed of the solo path now vs before (1.0 = unchanged)

Results go to ``results/lockstep.json`` (``--no-write`` to keep it).  ``--profile`` prints
a cProfile listing of one lockstep run per case and where a group step's time goes;
``--crossover`` adds stacked vs member-by-member groups for widening networks (where
``group_optimizer.ROWS_FROM`` is set).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import bench_common as common  # also puts the repository root on sys.path
from bench_common import make_data

DEFAULT_BEFORE = "2a3e479^"
"""The engine before lockstep: the parent of the commit that introduced it."""
BEFORE_FILES = ("engine/trainer.py", "engine/events.py", "engine/optimizers.py")


@dataclass(frozen=True)
class Case:
    name: str
    sizes: tuple[int, ...]
    activation: str
    task: str
    optimizer: str
    lr: float
    batch: int
    n_samples: int
    members: int
    epochs: int
    quick_epochs: int
    init: str
    targets: tuple  # (ratio name, ">=" or "<=", bound)
    description: str = ""


CASES = {
    "tiny": Case("tiny", (2, 8, 8, 1), "tanh", "binary", "sgd", 0.1, 10, 500, members=8, epochs=20, quick_epochs=4,
                 init="xavier_uniform", targets=(("lockstep_over_solo", "<=", 2.0), ("speedup", ">=", 4.0)),
                 description="MLP 2-8-8-1 tanh, sigmoid BCE, SGD, batch 10, 500 samples; 8 seeds"),
    "medium": Case("medium", (784, 256, 128, 10), "relu", "multiclass", "adam", 1e-3, 128, 4096, members=4,
                   epochs=3, quick_epochs=1, init="he_uniform", targets=(("speedup", ">=", 1.0),),
                   description="MLP 784-256-128-10 ReLU, softmax CE, Adam, batch 128, 4096 samples; 4 seeds"),
}


# ----------------------------------------------------------------------------- engines
def engine(package: str = "workbench"):
    """The engine modules of ``package`` (``workbench`` or the before-copy)."""
    mods = {}
    for name in ("network", "optimizers", "schedules", "trainer", "events"):
        mods[name] = importlib.import_module(f"{package}.engine.{name}")
    try:
        mods["lockstep"] = importlib.import_module(f"{package}.engine.lockstep")
    except ImportError:
        mods["lockstep"] = None
    return mods


def before_engine(rev: str):
    """A copy of the working tree's ``workbench`` package as ``wb_before``, with the
    trainer, events and optimizers of git revision ``rev``; None if git cannot give them."""
    tmp = Path(tempfile.mkdtemp(prefix="wb_before_"))
    dst = tmp / "wb_before"
    shutil.copytree(common.ROOT / "workbench", dst, ignore=shutil.ignore_patterns("ui", "__pycache__"))
    for rel in BEFORE_FILES:
        try:
            text = subprocess.run(["git", "show", f"{rev}:workbench/{rel}"], cwd=common.ROOT, check=True,
                                  capture_output=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"solo_before skipped: git show {rev}:workbench/{rel} failed ({exc})")
            return None
        (dst / rel).write_text(text)
    sys.path.insert(0, str(tmp))
    return engine("wb_before")


# ----------------------------------------------------------------------------- runs
def _pieces(E, case: Case, seed: int, epochs: int):
    net = E["network"].Network(case.sizes[0], [E["network"].LayerConfig(u, case.activation, init=case.init)
                                               for u in case.sizes[1:-1]], case.sizes[-1], case.task, seed=seed)
    opt = E["optimizers"].make_optimizer(case.optimizer, net.n_params)
    sched = E["schedules"].make_schedule("constant", case.lr, epochs)
    cfg = E["trainer"].TrainConfig(epochs=epochs, batch_size=case.batch, seed=seed, emit_batches=False,
                                   evaluate_train=False)
    return net, opt, sched, cfg


def solo_run(E, case: Case, data, seed: int, epochs: int) -> float:
    """Seconds of one solo run (building the network included, as for the group)."""
    t0 = time.perf_counter()
    net, opt, sched, cfg = _pieces(E, case, seed, epochs)
    for _ in E["trainer"].train(net, opt, sched, data, cfg):
        pass
    return time.perf_counter() - t0


def group_run(E, case: Case, data, seeds, epochs: int) -> float:
    t0 = time.perf_counter()
    parts = [_pieces(E, case, s, epochs) for s in seeds]
    group = E["lockstep"].StackedNetwork([p[0] for p in parts])
    opt = E["optimizers"].GroupOptimizer.from_optimizers([p[1] for p in parts])
    for _ in E["trainer"].train_group(group, opt, [p[2] for p in parts], data, [p[3] for p in parts]):
        pass
    return time.perf_counter() - t0


def runners(case: Case, epochs: int, before=None) -> dict:
    E = engine()
    X, y = make_data(case)
    data = E["trainer"].TrainData(X, y)
    seeds = list(range(case.members))

    def timed(fn):
        def run(_k):
            return 1, fn()
        return run

    out = {
        "solo": timed(lambda: solo_run(E, case, data, 0, epochs)),
        "sequential": timed(lambda: sum(solo_run(E, case, data, s, epochs) for s in seeds)),
        "lockstep": timed(lambda: group_run(E, case, data, seeds, epochs)),
    }
    if before is not None:
        data_before = before["trainer"].TrainData(X, y)
        out["solo_before"] = timed(lambda: solo_run(before, case, data_before, 0, epochs))
    return out


def check_equal(case: Case, epochs: int) -> bool:
    """The benchmark's group gives exactly its solo runs (a guard: speed of a wrong thing
    does not count)."""
    E = engine()
    X, y = make_data(case)
    data = E["trainer"].TrainData(X, y)
    seeds = list(range(case.members))
    parts = [_pieces(E, case, s, epochs) for s in seeds]
    group = E["lockstep"].StackedNetwork([p[0] for p in parts])
    opt = E["optimizers"].GroupOptimizer.from_optimizers([p[1] for p in parts])
    for _ in E["trainer"].train_group(group, opt, [p[2] for p in parts], data, [p[3] for p in parts]):
        pass
    for s in seeds:
        net, o, sched, cfg = _pieces(E, case, s, epochs)
        for _ in E["trainer"].train(net, o, sched, data, cfg):
            pass
        if not np.array_equal(net.params, group.member_params(s)):
            return False
    return True


# ----------------------------------------------------------------------------- profile
def profile(case: Case, epochs: int) -> str:
    """cProfile of one lockstep run and, in isolation, the parts of one group step."""
    E = engine()
    X, y = make_data(case)
    data = E["trainer"].TrainData(X, y)
    seeds = list(range(case.members))
    group_run(E, case, data, seeds, epochs)
    prof = cProfile.Profile()
    prof.enable()
    group_run(E, case, data, seeds, epochs)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(14)
    # parts of one step, group vs the N solo steps, cache-warm, best of 5
    parts = [_pieces(E, case, s, epochs) for s in seeds]
    nets = [p[0] for p in parts]
    group = E["lockstep"].StackedNetwork(nets)
    gopt = E["optimizers"].GroupOptimizer.from_optimizers([p[1] for p in parts])
    rng = np.random.default_rng(3)
    idx = np.stack([rng.permutation(len(X))[: case.batch] for _ in seeds])
    xb, yb = X[idx], y[idx]
    xs, ys = [xb[i].copy() for i in seeds], [yb[i].copy() for i in seeds]
    lrs = [case.lr] * len(seeds)

    def best(f, k):
        f()
        t = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(k):
                f()
            t.append((time.perf_counter() - t0) / k)
        return min(t) * 1e6

    k = 2000 if case.name == "tiny" else 20
    rows = [
        ["gather", best(lambda: X.take(idx, axis=0, out=xb), k),
         best(lambda: [X.take(idx[i], axis=0, out=xs[i]) for i in seeds], k)],
        ["forward + backward", best(lambda: group.loss_and_grad(xb, yb), k),
         best(lambda: [nets[i].loss_and_grad(xs[i], ys[i]) for i in seeds], k)],
        ["optimizer", best(lambda: gopt.step(group.params, group.grads, lrs), k),
         best(lambda: [parts[i][1].step(nets[i].params, nets[i].grads, case.lr) for i in seeds], k)],
    ]
    table = common.table([[r[0], f"{r[1]:.1f}", f"{r[2]:.1f}", f"{r[2] / r[1]:.2f}x"] for r in rows],
                         ["part of a step", f"group of {len(seeds)} (us)", f"{len(seeds)} solo steps (us)",
                          "group speedup"])
    return buf.getvalue() + "\n" + table


# ----------------------------------------------------------------------------- crossover
CROSSOVER = (((20, 64, 64, 10), 32), ((20, 128, 128, 10), 32), ((64, 256, 256, 10), 64), ((784, 256, 128, 10), 128))


def crossover(rounds: int, quiet: float) -> list[dict]:
    """Stacked vs member-by-member lockstep vs sequential solo runs for widening networks
    (4 members, Adam, ReLU, 2000 samples, 2 epochs): where ``group_optimizer.ROWS_FROM`` goes."""
    from workbench.engine import group_optimizer

    E = engine()
    rows = []
    for sizes, batch in CROSSOVER:
        case = Case("crossover", sizes, "relu", "multiclass", "adam", 1e-3, batch, 2000, members=4, epochs=2,
                    quick_epochs=1, init="he_uniform", targets=())
        X, y = make_data(case)
        data = E["trainer"].TrainData(X, y)
        saved = group_optimizer.ROWS_FROM

        def layout(rows_from):
            def run(_k):
                group_optimizer.ROWS_FROM = rows_from
                try:
                    return 1, group_run(E, case, data, range(case.members), case.epochs)
                finally:
                    group_optimizer.ROWS_FROM = saved
            return run

        t = common.interleave({
            "stacked": layout(1 << 62), "by_member": layout(1),
            "sequential": lambda _k: (1, sum(solo_run(E, case, data, s, case.epochs) for s in range(case.members))),
        }, rounds, 1, warmup=1, quiet=quiet)
        P = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
        row = {"sizes": sizes, "n_params": P, "default": "by_member" if P >= saved else "stacked",
               "stacked": common.ratio_stats(t["stacked"], t["sequential"]),
               "by_member": common.ratio_stats(t["by_member"], t["sequential"])}
        print(f"  {'-'.join(map(str, sizes))} ({P} parameters): sequential / stacked "
              f"{row['stacked']['median']:.2f}, sequential / by member {row['by_member']['median']:.2f} "
              f"(default here: {row['default']})", flush=True)
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- main
def run_case(case: Case, rounds: int, quick: bool, before, quiet: float, solo_only: bool = False) -> dict:
    epochs = case.quick_epochs if quick else case.epochs
    ok = check_equal(case, min(epochs, 2))
    print(f"\n== {case.name}: {case.description}, {epochs} epochs; group == solo runs bit for bit: {ok}")
    run = runners(case, epochs, before)
    if solo_only:  # the solo path before/after only, many short blocks
        if before is None:
            raise SystemExit("--solo-only needs --before")
        t = common.interleave({k: run[k] for k in ("solo", "solo_before")}, rounds, 1, warmup=2, pause=0.1,
                              quiet=quiet)
        r = common.ratio_stats(t["solo"], t["solo_before"])
        print(f"  solo after / before speed: median {r['median']:.3f} ({r['min']:.2f}-{r['max']:.2f}, "
              f"{r['rounds']} rounds); median run {1e3 / t['solo'].median_sps:.1f} ms after, "
              f"{1e3 / t['solo_before'].median_sps:.1f} ms before")
        return {"case": asdict(case), "epochs": epochs, "solo_after_over_before": r}
    timings = common.interleave(run, rounds, 1, warmup=1, quiet=quiet,
                                progress=lambda s: print("  " + s, flush=True))
    clean = common.clean_rounds(timings)
    use = clean if len(clean) >= 3 else None
    note = f"{len(clean)} of {rounds} rounds quiet" + ("" if use is not None else " (too few: all rounds used)")
    t = timings
    ratios = {
        # time ratio lockstep / solo = speed ratio solo / lockstep
        "lockstep_over_solo": common.ratio_stats(t["solo"], t["lockstep"], use),
        "speedup": common.ratio_stats(t["lockstep"], t["sequential"], use),
    }
    if "solo_before" in t:
        ratios["solo_after_over_before"] = common.ratio_stats(t["solo"], t["solo_before"], use)
    verdicts = {}
    for name, op, bound in case.targets:
        v = ratios[name]["median"]
        verdicts[name] = {"target": f"{op} {bound}", "median": v,
                          "met": bool(v <= bound if op == "<=" else v >= bound)}
    rows = []
    for name, r in ratios.items():
        target = verdicts.get(name, {}).get("target", "-")
        met = verdicts.get(name, {}).get("met")
        rows.append([name, f"{r['median']:.2f}", f"{r['min']:.2f}-{r['max']:.2f}", str(r["rounds"]), target,
                     "-" if met is None else ("met" if met else "MISSED")])
    print(common.table(rows, ["ratio", "median", "range", "rounds", "target", "verdict"]))
    times = {k: 1e3 / v.median_sps for k, v in t.items()}
    print("  median run times: " + ", ".join(f"{k} {ms:.0f} ms" for k, ms in times.items()) + f"; {note}")
    return {
        "case": asdict(case), "epochs": epochs, "bit_identical": ok, "rounds": rounds, "quiet_rounds": clean,
        "note": note, "ratios": ratios, "verdicts": verdicts, "median_ms": times,
        "per_round": {k: {"runs_per_s": v.sps, "foreign_cores": v.foreign} for k, v in t.items()},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", default="all", choices=[*CASES, "all"])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="3 rounds of short runs (a smoke run)")
    ap.add_argument("--before", default=DEFAULT_BEFORE, help="git revision of the solo engine to compare with "
                                                             "('none' to skip)")
    ap.add_argument("--quiet", type=float, default=0.15, help="wait for other processes to use < this many cores")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--crossover", action="store_true", help="also measure stacked vs member-by-member groups "
                                                              "for widening networks")
    ap.add_argument("--solo-only", action="store_true", help="only the solo path before/after (short blocks, "
                                                              "many rounds); writes results/lockstep_solo.json")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    cases = list(CASES.values()) if args.case == "all" else [CASES[args.case]]
    if args.profile:
        for case in cases:
            print(f"\n== profile: {case.name}")
            print(profile(case, case.quick_epochs))
        return 0
    rounds = 3 if args.quick else args.rounds
    before = None if args.before == "none" else before_engine(args.before)
    env = common.environment()
    print(f"numpy {env['numpy']}, {common.blas_summary(env)}, {env['cpu_model']}, load {env['loadavg_1_5_15']}")
    results = {"environment": env, "before": args.before, "cases": {}}
    for case in cases:
        results["cases"][case.name] = run_case(case, rounds, args.quick, before, args.quiet, args.solo_only)
    if args.solo_only:
        if not args.no_write:
            print(f"\nwritten {common.write_json('lockstep_solo', results)}")
        return 0
    if args.crossover:
        print("\n== crossover: stacked vs member-by-member lockstep (4 members, Adam)")
        results["crossover"] = crossover(3 if args.quick else 5, args.quiet)
    if not args.no_write:
        print(f"\nwritten {common.write_json('lockstep', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
