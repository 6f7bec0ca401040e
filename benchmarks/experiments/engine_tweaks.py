"""Experiment: measured prototypes of engine changes, in full training steps.

    python benchmarks/experiments/engine_tweaks.py [--case medium|wide|all] [--rounds 7]

Nothing in ``workbench/`` is edited: the variants patch a network *instance* (its
``_fwd``/``_bwd`` activation tuples) or swap the optimizer object, then run the same
training step as ``bench_training.ours_runner`` (gather + ``loss_and_grad`` +
``step``), interleaved with the unchanged engine and PyTorch fused Adam.

``engine``        the engine as it is
``relu_zeros``    ReLU forward as ``np.maximum(z, ZEROS, out=)`` with a cached zero array
                  of z's shape instead of the scalar ``0.0``: NumPy 2.4's maximum with a
                  scalar operand takes a slow (non-SIMD) loop, 4-5x slower here; the
                  backward mask goes to a bool buffer (no float cast).  Same results.
``relu+adam2t``   plus the Adam update split over 2 threads in chunks of 2^17 entries
                  when the vector has >= 2^19 entries (Wide); unchanged below.
``torch_adam_fused`` the PyTorch reference of bench_training.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common as common  # noqa: E402
import bench_training as bt  # noqa: E402
from adam_variants import ThreadedAdam  # noqa: E402


def relu_forward_zeros():
    cache: dict = {}

    def forward(z, out):
        zeros = cache.get(z.shape)
        if zeros is None:
            zeros = cache[z.shape] = np.zeros(z.shape, z.dtype)
        return np.maximum(z, zeros, out=out)

    return forward


def relu_backward_bool():
    cache: dict = {}

    def backward(a, g, scratch):
        m = cache.get(a.shape)
        if m is None:
            m = cache[a.shape] = np.empty(a.shape, bool)
        np.greater(a, 0.0, out=m)
        return np.multiply(g, m, out=g)

    return backward


def patched_runner(case, X, y, relu=True, threaded_adam=False):
    run = bt.ours_runner(case, X, y)
    net = run.net
    if relu and case.activation == "relu":
        net._fwd = tuple(relu_forward_zeros() for _ in net._fwd)
        net._bwd = tuple(relu_backward_bool() for _ in net._bwd)
    if threaded_adam and net.n_params >= (1 << 19):
        # swap the optimizer object the runner closes over
        fast = ThreadedAdam(net.n_params, chunk=1 << 17, threads=2)
        run.opt.step = fast.step  # instance attribute shadows the method
    return run


def check_same_results(case):
    """The ReLU patch gives bit-identical gradients."""
    X, y = bt.make_data(bt.Case(**{**case.__dict__, "n_samples": 512}))
    a, b = bt.make_network(case), bt.make_network(case)
    b._fwd = tuple(relu_forward_zeros() for _ in b._fwd)
    b._bwd = tuple(relu_backward_bool() for _ in b._bwd)
    la = a.loss_and_grad(X[: case.batch], y[: case.batch])
    lb = b.loss_and_grad(X[: case.batch], y[: case.batch])
    return la == lb and np.array_equal(a.grads, b.grads)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", choices=["medium", "wide", "all"], default="all")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    env = common.environment()
    print(f"{env['cpu_model']}, numpy {env['numpy']} [{common.blas_summary(env)}], torch {env['torch']}")
    out = {"environment": env}
    for name in (["medium", "wide"] if args.case == "all" else [args.case]):
        case = bt.CASES[name]
        print(f"\n== {name}: ReLU patch gives identical loss and gradients: {check_same_results(case)}")
        X, y = bt.make_data(case)
        runners = {
            "engine": bt.ours_runner(case, X, y),
            "relu_zeros": patched_runner(case, X, y),
            "relu+adam2t": patched_runner(case, X, y, threaded_adam=True),
        }
        if common.optional_import("torch") is not None:
            runners["torch_adam_fused"] = bt.torch_runner(case, X, y, "adam_fused")
        t = common.interleave(runners, args.rounds, case.steps, warmup=max(3, case.steps // 10), quiet=0.15,
                              progress=print)
        clean = common.clean_rounds(t)
        used = clean if len(clean) >= 3 else list(range(args.rounds))
        rows, res = [], {}
        for k, tm in t.items():
            vs_engine = common.ratio_stats(tm, t["engine"], used)["median"]
            vs_torch = common.ratio_stats(tm, t["torch_adam_fused"], used)["median"] if "torch_adam_fused" in t else None
            res[k] = {"median_us": 1e6 / tm.median_sps_of(used), "vs_engine": vs_engine, "vs_torch_fused": vs_torch}
            rows.append([k, f"{res[k]['median_us']:.0f}", f"{vs_engine:.3f}x", common.fmt_ratio(vs_torch)])
        print(f"{name}: medians over {len(used)} rounds")
        print(common.table(rows, ["variant", "median us/step", "speed vs engine", "speed vs torch fused"]))
        out[name] = {"rounds_used": used, "results": res,
                     "steps_per_second": {k: v.sps for k, v in t.items()},
                     "foreign_load_cores": {k: v.foreign for k, v in t.items()}}
    if not args.no_write:
        path = common.write_json("engine_tweaks", out)
        print(f"wrote {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
