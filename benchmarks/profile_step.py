"""Where the time of one training step of our engine goes.

    python benchmarks/profile_step.py [--case medium|wide|tiny|all] [--rounds N] [--cprofile]

The real engine pieces are timed one at a time on the network's own buffers and
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


def profile_case(case: bt.Case, rounds: int, steps: int, verbose=True) -> dict:
    runners, full = components(case)
    t = common.interleave(runners, rounds, steps, warmup=max(3, steps // 10))
    us = {k: v.median_step_us for k, v in t.items()}
    total = us["full_step"]
    parts = {k: us[k] for k in PARTS}
    parts["rest"] = total - sum(parts.values())
    share = {k: v / total for k, v in parts.items()}
    out = {"case": case.name, "median_us": us, "parts_us": parts, "share_of_full_step": share,
           "rounds": rounds, "steps": steps}
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
        results[name] = profile_case(case, args.rounds, case.steps)
        if args.cprofile:
            print(cprofile_case(case, case.steps))
    if not args.no_write:
        path = common.write_json("profile", {"profiles": results, "environment": env})
        print(f"wrote {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
