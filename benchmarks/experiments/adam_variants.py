"""Experiment: faster Adam updates over the flat float32 parameter vector.

    python benchmarks/experiments/adam_variants.py [--rounds 7]

Every variant implements exactly the engine's Adam (``optimizers.Adam``: eq. 7 with
bias correction, eps inside the root, state stored as v' = v/(1-beta1),
s' = s/(1-beta2)); they are checked against it to float32 round-off first, then timed
in interleaved rounds on the Medium (235 146) and Wide (1 126 410) parameter counts:

``engine``       ``make_optimizer("adam")`` as it is (10 NumPy passes, one chunk of 2^18)
``np_chunk16k``  the same 10 passes in chunks of 2^14 entries (5 arrays x 64 KiB stay in L2)
``np_2threads``  the same passes, chunks of 2^14 shared out to 2 Python threads
                 (NumPy releases the GIL inside ufunc loops)
``numexpr``      3 ``numexpr.evaluate`` calls (v, s, w), each one fused, blocked,
                 multi-threaded pass: 10 array-streams instead of ~27
``torch_fused``  reference: ``torch._fused_adam_`` via ``torch.optim.Adam(fused=True)``
                 on one flat tensor (PyTorch's eps-outside formula; same cost)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bench_common as common  # noqa: E402

from workbench.engine import optimizers as _opt  # noqa: E402

B1, B2, EPS = 0.9, 0.999, 1e-8


def _scalars(t, lr):
    c1, c2 = 1.0 - B1**t, 1.0 - B2**t
    k2 = c2 / (1.0 - B2)
    return lr * (1.0 - B1) / c1 * math.sqrt(k2), EPS * k2


def engine_adam(n, chunk=None):
    if chunk is None:
        return _opt.make_optimizer("adam", n)
    saved = _opt.CHUNK
    _opt.CHUNK = chunk
    try:
        return _opt.make_optimizer("adam", n)
    finally:
        _opt.CHUNK = saved


class ThreadedAdam:
    """The engine's 10-pass kernel over chunks, chunks split between ``threads`` threads."""

    def __init__(self, n, chunk=1 << 14, threads=2):
        self.v = np.zeros(n, np.float32)
        self.s = np.zeros(n, np.float32)
        self.t = 0
        bounds = [(a, min(a + chunk, n)) for a in range(0, n, chunk)]
        per = math.ceil(len(bounds) / threads)
        self.groups = [bounds[i * per : (i + 1) * per] for i in range(threads)]
        self.scratch = [np.empty(chunk, np.float32) for _ in range(threads)]
        self.pool = ThreadPoolExecutor(threads - 1) if threads > 1 else None

    def _work(self, i, w, g, step, eps_s):
        tmp_full = self.scratch[i]
        v, s = self.v, self.s
        for a, b in self.groups[i]:
            tmp = tmp_full[: b - a]
            vv, ss, gg, ww = v[a:b], s[a:b], g[a:b], w[a:b]
            np.multiply(vv, B1, out=vv)
            np.add(vv, gg, out=vv)
            np.multiply(gg, gg, out=tmp)
            np.multiply(ss, B2, out=ss)
            np.add(ss, tmp, out=ss)
            np.add(ss, eps_s, out=tmp)
            np.sqrt(tmp, out=tmp)
            np.divide(vv, tmp, out=tmp)
            np.multiply(tmp, step, out=tmp)
            np.subtract(ww, tmp, out=ww)

    def step(self, w, g, lr):
        self.t += 1
        step, eps_s = _scalars(self.t, lr)
        futs = [self.pool.submit(self._work, i, w, g, step, eps_s) for i in range(1, len(self.groups))]
        self._work(0, w, g, step, eps_s)
        for f in futs:
            f.result()


class NumexprAdam:
    """v' = b1 v' + g;  s' = b2 s' + g^2;  w -= step v' / sqrt(s' + eps') -- 3 fused passes."""

    def __init__(self, n, threads=2):
        import numexpr

        self.ne = numexpr
        numexpr.set_num_threads(threads)
        self.v = np.zeros(n, np.float32)
        self.s = np.zeros(n, np.float32)
        self.t = 0
        self.b1, self.b2 = np.float32(B1), np.float32(B2)

    def step(self, w, g, lr):
        self.t += 1
        step, eps_s = _scalars(self.t, lr)
        ev = self.ne.evaluate
        b1, b2 = self.b1, self.b2
        v, s = self.v, self.s
        ev("b1 * v + g", out=v, casting="same_kind")
        ev("b2 * s + g * g", out=s, casting="same_kind")
        step, eps_s = np.float32(step), np.float32(eps_s)
        ev("w - step * v / sqrt(s + eps_s)", out=w, casting="same_kind")


class TorchFused:
    def __init__(self, n):
        import torch

        torch.set_num_threads(2)
        self.torch = torch
        self.p = torch.zeros(n, requires_grad=True)
        self.opt = torch.optim.Adam([self.p], lr=1e-3, fused=True)

    def bind(self, w, g):
        self.p.data = self.torch.from_numpy(w)
        self.p.grad = self.torch.from_numpy(g)

    def step(self, w, g, lr):
        self.opt.step()


def check(n=10_007):
    rng = np.random.default_rng(0)
    ref_w = rng.standard_normal(n).astype(np.float32)
    variants = {"np_chunk16k": engine_adam(n, 1 << 14), "np_2threads": ThreadedAdam(n, 1 << 12)}
    if common.optional_import("numexpr") is not None:
        variants["numexpr"] = NumexprAdam(n)
    ref = engine_adam(n)
    ws = {k: ref_w.copy() for k in variants}
    w0 = ref_w.copy()
    for t in range(5):
        g = rng.standard_normal(n).astype(np.float32) * 1e-2
        ref.step(w0, g, 1e-3)
        for k, o in variants.items():
            o.step(ws[k], g, 1e-3)
    return {k: float(np.max(np.abs(ws[k] - w0))) for k in variants}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    print("max |w - w_engine| after 5 steps:", check())
    env = common.environment()
    print(f"{env['cpu_model']}, numpy {env['numpy']} [{common.blas_summary(env)}]")
    out = {}
    for label, n, steps in (("medium", 235_146, 400), ("wide", 1_126_410, 100)):
        rng = np.random.default_rng(1)
        w = rng.standard_normal(n).astype(np.float32)
        g = (rng.standard_normal(n) * 1e-2).astype(np.float32)
        opts = {
            "engine": engine_adam(n),
            "np_chunk16k": engine_adam(n, 1 << 14),
            "np_2threads": ThreadedAdam(n, 1 << 14),
        }
        if common.optional_import("numexpr") is not None:
            opts["numexpr"] = NumexprAdam(n)
        if common.optional_import("torch") is not None:
            tf = TorchFused(n)
            tf.bind(w, g)
            opts["torch_fused"] = tf

        def runner(o):
            def run(k):
                t0 = time.perf_counter()
                for _ in range(k):
                    o.step(w, g, 1e-3)
                return k, time.perf_counter() - t0
            return run

        t = common.interleave({k: runner(o) for k, o in opts.items()}, args.rounds, steps, warmup=10, quiet=0.15)
        clean = common.clean_rounds(t)
        used = clean if len(clean) >= 3 else list(range(args.rounds))
        base = t["engine"]
        rows = []
        for k, tm in t.items():
            us = 1e6 / tm.median_sps_of(used)
            sp = common.ratio_stats(tm, base, used)["median"]
            rows.append([k, f"{us:.0f}", f"{sp:.2f}x"])
        out[label] = rows
        print(f"\n{label}: Adam update of {n} float32 parameters ({len(used)} rounds used)")
        print(common.table(rows, ["variant", "median us/update", "speed vs engine"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
