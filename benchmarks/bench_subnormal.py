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

Two optimizers run interleaved on two identical networks, window by window (100 steps
of ours, 100 steps of the naive one, ...), so machine load hits both alike:

``ours``   ``make_optimizer("adam", ...)`` from the engine (it flushes |x| < 1e-30 to 0).
``naive``  the textbook NumPy Adam below (m, v, bias correction, temporaries; no flush).

Reported per window: median time of the optimizer update and of the whole training
step, and the number of subnormal entries in the optimizer state.  Pass criteria for
ours: last window / first window < 1.3 (update time), no subnormal value in the state
at any window boundary and at the end.
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


def run(steps=3000, window=100, kill_at=20, batch=128, n_samples=6000, sizes=(784, 256, 128, 10), lr=1e-3,
        verbose=True) -> dict:
    rng = np.random.default_rng(0)
    X = rng.random((n_samples, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], n_samples)
    nets = {"ours": make_net(sizes), "naive": make_net(sizes)}
    opts = {"ours": make_optimizer("adam", nets["ours"].n_params), "naive": NaiveAdam(nets["naive"].n_params)}
    order = {k: np.random.default_rng(1) for k in nets}
    pos = {k: n_samples for k in nets}
    perm = {k: None for k in nets}
    xb = np.empty((batch, sizes[0]), np.float32)
    yb = np.empty(batch, y.dtype)
    upd = {k: [] for k in nets}  # per-window median update time (s)
    full = {k: [] for k in nets}  # per-window median step time (s)
    subn = {k: [] for k in nets}
    zero_grad_share = None
    done = {k: 0 for k in nets}
    n_windows = steps // window
    for w in range(n_windows):
        for k in (("ours", "naive") if w % 2 == 0 else ("naive", "ours")):
            net, opt = nets[k], opts[k]
            tu, tf = [], []
            for _ in range(window):
                if done[k] == kill_at:
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
            upd[k].append(statistics.median(tu))
            full[k].append(statistics.median(tf))
            subn[k].append(state_subnormals(opt))
        if verbose:
            print(
                f"steps {(w + 1) * window:5d}: update us ours {upd['ours'][-1] * 1e6:7.0f}  naive "
                f"{upd['naive'][-1] * 1e6:7.0f} | step us ours {full['ours'][-1] * 1e6:7.0f}  naive "
                f"{full['naive'][-1] * 1e6:7.0f} | subnormal state entries ours {subn['ours'][-1]:7d}  "
                f"naive {subn['naive'][-1]:7d}"
            )

    def summary(k):
        u = upd[k]
        return {
            "update_last_over_first": u[-1] / u[0],
            "update_max_over_first": max(u) / u[0],
            "update_max_window": int(np.argmax(u) + 1) * window,
            "step_last_over_first": full[k][-1] / full[k][0],
            "step_max_over_first": max(full[k]) / full[k][0],
            "max_subnormal_state_entries": max(subn[k]),
            "subnormal_state_entries_at_end": subn[k][-1],
            "subnormal_params_at_end": common.count_subnormal(nets[k].params),
        }

    ours, naive = summary("ours"), summary("naive")
    ok = ours["update_last_over_first"] < 1.3 and ours["max_subnormal_state_entries"] == 0
    result = {
        "config": {"sizes": sizes, "batch": batch, "n_samples": n_samples, "steps": n_windows * window,
                   "window": window, "kill_at": kill_at, "lr": lr},
        "zero_grad_share_after_kill": zero_grad_share,
        "windows": {
            "end_step": [(i + 1) * window for i in range(n_windows)],
            "update_us": {k: [t * 1e6 for t in upd[k]] for k in nets},
            "step_us": {k: [t * 1e6 for t in full[k]] for k in nets},
            "subnormal_state_entries": subn,
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
            f"{s['update_last_over_first']:.2f}",
            f"{s['update_max_over_first']:.2f} (window ending {s['update_max_window']})",
            f"{s['step_last_over_first']:.2f}",
            f"{s['step_max_over_first']:.2f}",
            str(s["max_subnormal_state_entries"]),
            str(s["subnormal_state_entries_at_end"]),
        ])
    head = ["adam", "update last/first", "update max/first", "step last/first", "step max/first",
            "max subnormal state entries", "at end"]
    share = result["zero_grad_share_after_kill"]
    return "\n".join([
        f"{result['config']['steps']} Adam steps; {share:.0%} of the gradient entries exactly zero after the kill"
        if share is not None else "",
        common.table(rows, head),
        f"ours: {'PASS' if result['ours_passes'] else 'FAIL'} (update last/first < 1.3 and no subnormal state)",
    ])


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
    result = run(steps=steps, window=window, kill_at=args.kill_at)
    if not args.no_write:
        path = common.write_json("subnormal" + ("_quick" if args.quick else ""), result)
        print(f"wrote {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
