"""The float32 subnormal trap of Adam: does the step time stay flat over thousands of steps?

    python benchmarks/bench_subnormal.py [--steps 3000] [--window 100] [--quick]

Set-up: the Medium network (784-256-128-10 ReLU, softmax CE, batch 128, random data,
Adam lr 1e-3).  After ``--kill-at`` steps (default 20, when every moment estimate is
nonzero) half of the units of each hidden layer are killed the way a dying ReLU unit
dies: incoming weights set to 0 and bias to -5, so the unit outputs 0 for every input
and the gradients of its incoming weights, its bias and its outgoing weights are
*exactly* zero from then on (about half of all parameters).  Adam's first moment of
those entries then decays as beta1^t = 0.9^t: it passes below float32's smallest
normal number (1.2e-38) after some 700-900 steps and is *subnormal* for the next ~150
steps of each entry; arithmetic on subnormal operands is far slower on x86 unless the
values are flushed.

Three runs go interleaved, window by window (100 steps of each in turn), so machine
load hits all alike:

``ours``     ``make_optimizer("adam", ...)`` from the engine (it flushes |x| < 1e-30 to 0).
``naive``    the textbook NumPy Adam below (m, v, bias correction, temporaries; no flush).
``control``  the engine's Adam on the same network *without* dead units: no gradient is
             exactly zero, so no moment can decay into subnormals.

Reported per window: median time of the optimizer update (and of the whole step) and
the number of subnormal entries in the optimizer state.  The trap is measured as the
update time relative to ``control`` in the same window, late (last 5 windows) over
early (windows 2-6): machine load cancels out.  Pass criteria for ours: late/early
< 1.3 and no subnormal value in the state at any window boundary.  Note that a
subnormal moment does not underflow to 0 by itself: 0.9 * (k ulps) rounds back to
k ulps for k <= 4, so without a flush the trap is permanent.

A probe first measures how much slower this CPU runs float32 multiply / add /
divide / sqrt on subnormal operands (AMD Zen: small, except divide and sqrt; Intel
cores take microcode assists and are much slower).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import bench_common as common  # also puts the repository root on sys.path
from workbench.engine.network import LayerConfig, Network
from workbench.engine.optimizers import make_optimizer


class NaiveAdam:
    """Textbook Adam (Kingma & Ba), float32, one expression per line, no flushing:
    m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  w -= lr m^/(sqrt(v^) + eps)."""

    def __init__(self, n: int, beta1=0.9, beta2=0.999, eps=1e-8, dtype=np.float32):
        self.m = np.zeros(n, dtype)
        self.v = np.zeros(n, dtype)
        self.b1, self.b2, self.eps, self.t = beta1, beta2, eps, 0
        self.dtype = np.dtype(dtype)

    def step(self, params, grads, lr):
        self.t += 1
        b1, b2 = self.dtype.type(self.b1), self.dtype.type(self.b2)
        self.m = b1 * self.m + (1 - b1) * grads
        self.v = b2 * self.v + (1 - b2) * grads * grads
        mhat = self.m / self.dtype.type(1 - self.b1**self.t)
        vhat = self.v / self.dtype.type(1 - self.b2**self.t)
        params -= self.dtype.type(lr) * mhat / (np.sqrt(vhat) + self.dtype.type(self.eps))

    @property
    def buffers(self):
        return {"m": self.m, "v": self.v}


def make_net(sizes=(784, 256, 128, 10), seed=0) -> Network:
    return Network(sizes[0], [LayerConfig(u, "relu") for u in sizes[1:-1]], sizes[-1], "multiclass", seed=seed)


def kill_half(net: Network) -> None:
    """Kill every other unit of each hidden layer (incoming weights 0, bias -5)."""
    for l in range(len(net.weights) - 1):
        units = np.arange(0, net.weights[l].shape[1], 2)
        net.weights[l][:, units] = 0.0
        net.biases[l][units] = -5.0


def state_subnormals(opt) -> int:
    return sum(common.count_subnormal(b) for b in opt.buffers.values())


def _early_late(values: list[float], k: int = 5) -> tuple[float, float]:
    """Median of windows 2..k+1 (before any subnormal can appear) and of the last k."""
    early = values[1 : k + 1] or values[:1]
    return statistics.median(early), statistics.median(values[-k:])


def run(steps=3000, window=100, kill_at=20, batch=128, n_samples=6000, sizes=(784, 256, 128, 10), lr=1e-3,
        verbose=True) -> dict:
    rng = np.random.default_rng(0)
    X = rng.random((n_samples, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], n_samples)
    names = ("ours", "naive", "control")
    nets = {k: make_net(sizes) for k in names}
    opts = {
        "ours": make_optimizer("adam", nets["ours"].n_params),
        "naive": NaiveAdam(nets["naive"].n_params),
        "control": make_optimizer("adam", nets["control"].n_params),  # no dead units: no trap possible
    }
    order = {k: np.random.default_rng(1) for k in names}
    pos = {k: n_samples for k in names}
    perm = {k: None for k in names}
    xb = np.empty((batch, sizes[0]), np.float32)
    yb = np.empty(batch, y.dtype)
    meter = common.CpuMeter()
    foreign = {k: [] for k in names}  # other processes' CPU use during each window (cores)
    upd = {k: [] for k in names}  # per-window median update time (s)
    full = {k: [] for k in names}  # per-window median step time (s)
    subn = {k: [] for k in names}
    zero_grad_share = None
    done = {k: 0 for k in names}
    n_windows = steps // window
    for w in range(n_windows):
        for k in names[w % 3 :] + names[: w % 3]:
            net, opt = nets[k], opts[k]
            tu, tf = [], []
            meter.start()
            for _ in range(window):
                if done[k] == kill_at and k != "control":
                    kill_half(net)
                if pos[k] + batch > n_samples:
                    perm[k] = order[k].permutation(n_samples)
                    pos[k] = 0
                idx = perm[k][pos[k] : pos[k] + batch]
                pos[k] += batch
                t0 = time.perf_counter()
                np.take(X, idx, axis=0, out=xb)
                np.take(y, idx, axis=0, out=yb)
                net.loss_and_grad(xb, yb)
                t1 = time.perf_counter()
                opt.step(net.params, net.grads, lr)
                t2 = time.perf_counter()
                tu.append(t2 - t1)
                tf.append(t2 - t0)
                done[k] += 1
                if done[k] == kill_at + 1 and k == "ours":
                    zero_grad_share = float(np.mean(net.grads == 0.0))
            foreign[k].append(meter.stop())
            upd[k].append(statistics.median(tu))
            full[k].append(statistics.median(tf))
            subn[k].append(state_subnormals(opt))
        if verbose:
            print(
                f"steps {(w + 1) * window:5d}: update us ours {upd['ours'][-1] * 1e6:6.0f} naive "
                f"{upd['naive'][-1] * 1e6:6.0f} control {upd['control'][-1] * 1e6:6.0f} | subnormal state "
                f"entries ours {subn['ours'][-1]:6d} naive {subn['naive'][-1]:6d} | others' load "
                f"{max(f[-1] or 0.0 for f in foreign.values()):.2f} cores"
            )

    def summary(k):
        u = upd[k]
        rel = [a / b for a, b in zip(u, upd["control"])]  # same window, same machine load
        e, l = _early_late(rel)
        eu, lu = _early_late(u)
        return {
            "update_over_control_early": e,
            "update_over_control_late": l,
            "update_over_control_max": max(rel),
            "slowdown_late_over_early": l / e,  # the load-robust measure of the trap
            "slowdown_max_over_early": max(rel) / e,
            "raw_update_late_over_early": lu / eu,
            "max_subnormal_state_entries": max(subn[k]),
            "subnormal_state_entries_at_end": subn[k][-1],
            "subnormal_params_at_end": common.count_subnormal(nets[k].params),
        }

    ours, naive = summary("ours"), summary("naive")
    ok = ours["slowdown_late_over_early"] < 1.3 and ours["max_subnormal_state_entries"] == 0
    result = {
        "config": {"sizes": sizes, "batch": batch, "n_samples": n_samples, "steps": n_windows * window,
                   "window": window, "kill_at": kill_at, "lr": lr},
        "zero_grad_share_after_kill": zero_grad_share,
        "windows": {
            "end_step": [(i + 1) * window for i in range(n_windows)],
            "update_us": {k: [t * 1e6 for t in upd[k]] for k in names},
            "step_us": {k: [t * 1e6 for t in full[k]] for k in names},
            "subnormal_state_entries": subn,
            "foreign_load_cores": foreign,
        },
        "ours": ours,
        "naive": naive,
        "ours_passes": bool(ok),
        "environment": common.environment(),
    }
    if verbose:
        print(report(result))
    return result


def report(result: dict) -> str:
    rows = []
    for k in ("ours", "naive"):
        s = result[k]
        rows.append([
            k,
            f"{s['update_over_control_early']:.2f}",
            f"{s['update_over_control_late']:.2f}",
            f"{s['slowdown_late_over_early']:.2f}",
            f"{s['slowdown_max_over_early']:.2f}",
            f"{s['raw_update_late_over_early']:.2f}",
            str(s["max_subnormal_state_entries"]),
            str(s["subnormal_state_entries_at_end"]),
        ])
    head = ["adam", "update/control early", "late", "late/early", "worst/early", "raw late/early",
            "max subnormal state", "at end"]
    share = result["zero_grad_share_after_kill"]
    cfg = result["config"]
    return "\n".join([
        f"{cfg['steps']} Adam steps, windows of {cfg['window']}; "
        + (f"{share:.0%} of the gradient entries exactly zero after the kill" if share is not None else ""),
        "early = median of windows 2-6, late = median of the last 5; 'control' is the engine's Adam on the",
        "same network without dead units (no trap possible), run in the same windows: ratios to it cancel load.",
        common.table(rows, head),
        f"ours: {'PASS' if result['ours_passes'] else 'FAIL'} (late/early < 1.3 and never a subnormal in the state)",
    ])


def probe_penalty(n: int = 235_146, rounds: int = 7, reps: int = 100) -> dict:
    """How much slower this CPU runs float32 ufuncs on subnormal operands than on normal
    ones (median over interleaved rounds): the size of the trap on this machine."""
    normal = np.full(n, 1e-3, np.float32)
    sub = np.full(n, 1e-40, np.float32)
    out = np.empty(n, np.float32)
    ops = {
        "multiply": lambda a: np.multiply(a, np.float32(0.9), out=out),
        "add": lambda a: np.add(a, a, out=out),
        "divide": lambda a: np.divide(a, np.float32(3.0), out=out),
        "sqrt": lambda a: np.sqrt(a, out=out),
    }

    def t(f, a):
        f(a)
        t0 = time.perf_counter()
        for _ in range(reps):
            f(a)
        return time.perf_counter() - t0

    res = {}
    for name, f in ops.items():
        res[name] = statistics.median(t(f, sub) / t(f, normal) for _ in range(rounds))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--kill-at", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="300 steps of 50 (does not reach the trap)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    steps, window = (300, 50) if args.quick else (args.steps, args.window)
    env = common.environment()
    print(f"{env['cpu_model']}, numpy {env['numpy']} [{common.blas_summary(env)}]")
    penalty = probe_penalty()
    print("this CPU, float32 ufunc on subnormal / on normal operands: "
          + ", ".join(f"{k} {v:.2f}x" for k, v in penalty.items()))
    result = run(steps=steps, window=window, kill_at=args.kill_at)
    result["cpu_subnormal_penalty"] = penalty
    if not args.no_write:
        path = common.write_json("subnormal" + ("_quick" if args.quick else ""), result)
        print(f"wrote {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
