"""Where the time of one training step of our engine goes.

    python benchmarks/profile_step.py [--case medium|wide|tiny|all] [--rounds N] [--cprofile]

Two views.  *In situ*: real training steps (``loss_and_grad`` + ``Optimizer.step``)
with ``np.dot``/``np.matmul`` of the network module wrapped by a timer, and the gather, the
``loss_and_grad`` call and the optimizer step timed around the calls; the GEMM share
is exact, "elementwise_loss_overhead" is the rest of ``loss_and_grad`` (bias adds,
activations, softmax/BCE, bias-gradient sums, Python overhead).

*Components*: the real engine pieces are timed one at a time on the network's own buffers and
the same batch, in interleaved rounds (medians), next to the whole step of
``bench_training.ours_runner``:

``gather``        the two ``np.take(..., out=)`` of the batch (X rows, labels)
``gemm``          the GEMMs of forward + backward only (``bench_training.gemm_runner``)
``fwd_elem``      per layer ``Z += b`` and the hidden activation (in place)
``loss``          the task's ``loss_and_grad`` output function (softmax CE / BCE + its delta)
``bwd_elem``      per layer the bias-gradient reduction and the activation derivative
``optimizer``     ``Optimizer.step(params, grads, lr)``
``rest``          full step minus the sum above: Python overhead of the calls

Shares are of the median full step; they add up to ~100 % only approximately
(each piece runs warm in cache on its own).  With ``--cprofile`` a cProfile listing
of the Python-level functions of a few hundred full steps is printed too (ufunc
calls themselves are invisible to cProfile: they are counted in their caller).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time

import numpy as np

import bench_common as common
import bench_training as bt


def components(case: bt.Case):
    X, y = bt.make_data(case)
    full = bt.ours_runner(case, X, y)
    net, opt = full.net, full.opt
    bs = case.batch
    rng = np.random.default_rng(5)
    idx = rng.permutation(len(X))[:bs]
    xb = np.take(X, idx, axis=0)
    yb = np.take(y, idx, axis=0)
    net.loss_and_grad(xb, yb)  # allocate buffers
    b = net._cache[bs]  # the network's own per-batch buffers (benchmark-only peek)
    L = len(net.weights)
    H, G, S = b.H, b.G, b.S
    fwd, bwd = net._fwd, net._bwd
    lossf = net._loss_grad
    Bias, gB = net.biases, net.grad_biases
    xbuf = np.empty_like(xb)
    ybuf = np.empty_like(yb)
    reduce = np.add.reduce
    lr = case.lr

    def timed(body):
        def run(k):
            t0 = time.perf_counter()
            for _ in range(k):
                body()
            return k, time.perf_counter() - t0
        return run

    def gather():
        np.take(X, idx, axis=0, out=xbuf)
        np.take(y, idx, axis=0, out=ybuf)

    def fwd_elem():
        for l in range(L):
            Z = H[l]
            Z += Bias[l]
            if l < L - 1:
                fwd[l](Z, Z)

    def loss():
        lossf(H[L - 1], yb, G[L - 1])

    def bwd_elem():
        for l in range(L - 1, 0, -1):
            reduce(G[l], 0, out=gB[l])
            bwd[l - 1](H[l - 1], G[l - 1], S[l - 1])
        reduce(G[0], 0, out=gB[0])

    opt2 = bt.make_engine_optimizer(case, net)
    params2 = net.params.copy()
    grads2 = net.grads.copy()

    def optimizer():
        opt2.step(params2, grads2, lr)

    return {
        "full_step": full,
        "loss_and_grad": timed(lambda: net.loss_and_grad(xb, yb)),
        "gather": timed(gather),
        "gemm": bt.gemm_runner(case),
        "fwd_elem": timed(fwd_elem),
        "loss": timed(loss),
        "bwd_elem": timed(bwd_elem),
        "optimizer": timed(optimizer),
    }, full


PARTS = ("gather", "gemm", "fwd_elem", "loss", "bwd_elem", "optimizer")


class _TimedNumpy:
    """Stands in for the ``np`` global of ``workbench.engine.network`` during an in-situ
    profile: ``np.dot`` and ``np.matmul`` are timed, everything else is numpy's own."""

    def __init__(self, acc: list):
        import numpy as _np

        self._np = _np
        self._acc = acc
        clock = time.perf_counter

        def timed(real):
            def f(*a, **k):
                t0 = clock()
                r = real(*a, **k)
                acc[0] += clock() - t0
                return r

            return f

        self.matmul = timed(_np.matmul)
        self.dot = timed(_np.dot)

    def __getattr__(self, name):
        return getattr(self._np, name)


def insitu_case(case: bt.Case, rounds: int, steps: int, verbose=True, quiet: "float | None" = 0.15) -> dict:
    """Time the parts *inside* real training steps: GEMMs (np.matmul of the network
    module, wrapped), the optimizer step and the gather are timed with perf_counter
    around the calls; ``elementwise + loss + overhead`` is the rest of loss_and_grad."""
    import workbench.engine.network as netmod

    X, y = bt.make_data(case)
    net = bt.make_network(case)
    opt = bt.make_engine_optimizer(case, net)
    batches = bt.Batches(len(X), case.batch)
    bs = batches.batch
    xb = np.empty((bs, X.shape[1]), X.dtype)
    yb = np.empty((bs,), y.dtype)
    acc = [0.0]
    clock = time.perf_counter
    meter = common.CpuMeter()
    per_round = []
    real_np = netmod.np
    netmod.np = _TimedNumpy(acc)
    try:
        for r in range(rounds + 1):  # round 0 is warm-up
            if quiet is not None:
                common.wait_quiet(quiet, timeout=60)
            acc[0] = 0.0
            t_gather = t_lg = t_opt = 0.0
            meter.start()
            t_start = clock()
            for _ in range(steps):
                t0 = clock()
                idx = batches.next()
                np.take(X, idx, axis=0, out=xb)
                np.take(y, idx, axis=0, out=yb)
                t1 = clock()
                net.loss_and_grad(xb, yb)
                t2 = clock()
                opt.step(net.params, net.grads, case.lr)
                t3 = clock()
                t_gather += t1 - t0
                t_lg += t2 - t1
                t_opt += t3 - t2
            total = clock() - t_start
            foreign = meter.stop()
            if r == 0:
                continue
            per_round.append({
                "total": total / steps, "gather": t_gather / steps, "gemm": acc[0] / steps,
                "elementwise_loss_overhead": (t_lg - acc[0]) / steps, "optimizer": t_opt / steps,
                "loop": (total - t_gather - t_lg - t_opt) / steps, "foreign": foreign,
            })
    finally:
        netmod.np = real_np
    clean = [p for p in per_round if (p["foreign"] or 0.0) <= 0.25] or per_round
    keys = ("gather", "gemm", "elementwise_loss_overhead", "optimizer", "loop", "total")
    med = {k: statistics.median(p[k] for p in clean) * 1e6 for k in keys}
    share = {k: med[k] / med["total"] for k in keys}
    out = {"case": case.name, "median_us": med, "share": share, "rounds_used": len(clean), "rounds": rounds,
           "steps": steps}
    if verbose:
        rows = [[k, f"{med[k]:.1f}", f"{100 * share[k]:.0f} %"] for k in keys]
        print(f"\n{case.name} in situ ({len(clean)}/{rounds} clean rounds of {steps} steps): {case.description}")
        print(common.table(rows, ["part", "median us/step", "share"]))
    return out


def profile_case(case: bt.Case, rounds: int, steps: int, verbose=True, quiet: "float | None" = 0.15) -> dict:
    runners, full = components(case)
    t = common.interleave(runners, rounds, steps, warmup=max(3, steps // 10), quiet=quiet)
    clean = common.clean_rounds(t)
    used = clean if len(clean) >= 3 else list(range(rounds))
    us = {k: 1e6 / v.median_sps_of(used) for k, v in t.items()}
    total = us["full_step"]
    parts = {k: us[k] for k in PARTS}
    parts["rest"] = total - sum(parts.values())
    share = {k: v / total for k, v in parts.items()}
    out = {"case": case.name, "median_us": us, "parts_us": parts, "share_of_full_step": share,
           "rounds": rounds, "rounds_used": used, "steps": steps}
    if verbose:
        rows = [[k, f"{parts[k]:.1f}", f"{100 * share[k]:.0f} %"] for k in (*PARTS, "rest")]
        rows.append(["full step", f"{total:.1f}", "100 %"])
        rows.append(["(loss_and_grad alone)", f"{us['loss_and_grad']:.1f}", f"{100 * us['loss_and_grad'] / total:.0f} %"])
        print(f"\n{case.name}: {case.description}")
        print(common.table(rows, ["part", "median us", "share"]))
    return out


def cprofile_case(case: bt.Case, steps: int) -> str:
    X, y = bt.make_data(case)
    run = bt.ours_runner(case, X, y)
    run(10)
    pr = cProfile.Profile()
    pr.enable()
    run(steps)
    pr.disable()
    s = io.StringIO()
    pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(14)
    return s.getvalue()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=[*bt.CASES, "all"], default="all")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    names = list(bt.CASES) if args.case == "all" else [args.case]
    env = common.environment()
    print(f"{env['cpu_model']}, numpy {env['numpy']} [{common.blas_summary(env)}], load {env['loadavg_1_5_15']}")
    results = {}
    for name in names:
        case = bt.CASES[name]
        results[name] = {
            "in_situ": insitu_case(case, args.rounds, case.steps),
            "components": profile_case(case, args.rounds, case.steps),
        }
        if args.cprofile:
            print(cprofile_case(case, case.steps))
    if not args.no_write:
        path = common.write_json("profile", {"profiles": results, "environment": env})
        print(f"wrote {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
