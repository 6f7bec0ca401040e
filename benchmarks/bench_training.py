"""Training-step throughput: our engine vs PyTorch eager, scikit-learn and pure GEMM.

    python benchmarks/bench_training.py [--case medium|tiny|wide|all] [--rounds N] [--quick]

A *training step* is: gather one mini-batch from preshuffled data (rows picked by a
random permutation, re-drawn every epoch) + forward + backward + optimizer update.
Every implementation below does exactly that, on the same random data, same
architecture, same initial weights (copied from our network into PyTorch):

``ours``           ``Network.loss_and_grad`` + ``Optimizer.step`` through the public API,
                   batches gathered with ``np.take(..., out=)`` as the trainer does.
``ours_trainer``   the full trainer generator ``train(...)`` (``emit_batches=False``,
                   ``evaluate_train=False``, no validation), timed from creating the
                   generator to its last ``EpochEnd`` of the block (the final
                   ``Finished`` evaluation is not run); steps = epochs * n / batch.
``torch_adam`` / ``torch_adam_fused`` / ``torch_sgd``
                   PyTorch eager on CPU, ``torch.set_num_threads(2)``; per step
                   ``index_select(out=)`` gather, ``zero_grad()``, forward, loss,
                   ``backward()``, ``opt.step()``, ``loss.item()`` (our API returns the
                   loss as a float every step, so PyTorch pays for it too).
``sklearn_fit``    ``MLPClassifier(..., warm_start=True, max_iter=E, tol=0,
                   n_iter_no_change=huge, alpha=0, shuffle=True)``; one ``fit`` runs E
                   epochs of scikit-learn's own mini-batch loop (its shuffling and
                   batch indexing included) on float32 data; steps = E * n / batch.
                   This is scikit-learn at its fastest and is the reference for targets.
``sklearn_fit_f64`` the same with the data as float64, scikit-learn's usual input (it then
                   computes in float64): informational.
``sklearn_partial_fit``
                   one ``partial_fit(xb, yb)`` per gathered batch (input validation
                   every call): informational.
``gemm``           only the matrix products of one forward + backward pass (same
                   shapes and transposes as the engine, ``out=`` buffers): a lower bound.

Timing: ``--rounds`` interleaved rounds (A, B, C, A, B, C, ...), each implementation
running one block of steps per round; ratios ours/theirs in steps per second are taken
per round and the median is reported (see ``bench_common.interleave``).  Data are random
(uniform features, random labels): speed does not depend on what is learnt.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

import bench_common as common  # also puts the repository root on sys.path
from bench_common import make_data, make_network

from workbench.engine.events import EpochEnd
from workbench.engine.network import Network
from workbench.engine.optimizers import make_optimizer
from workbench.engine.schedules import make_schedule
from workbench.engine.trainer import TrainConfig, TrainData, train


@dataclass(frozen=True)
class Case:
    name: str
    sizes: tuple[int, ...]  # (inputs, hidden..., outputs)
    activation: str  # hidden activation: relu | tanh
    task: str  # multiclass | binary
    optimizer: str  # adam | sgd
    lr: float
    batch: int
    n_samples: int
    steps: int  # steps per block (one implementation, one round)
    quick_steps: int
    targets: tuple[tuple[str, float], ...]  # (reference implementation, min ratio ours/ref)
    init: str = "he_uniform"
    description: str = ""

    @property
    def n_classes(self) -> int:
        return 2 if self.task == "binary" else self.sizes[-1]


CASES = {
    "medium": Case(
        "medium", (784, 256, 128, 10), "relu", "multiclass", "adam", 1e-3, 128, 60_000,
        steps=200, quick_steps=40, targets=(("torch_adam_fused", 1.2), ("sklearn_fit", 2.5)),
        description="MLP 784-256-128-10 ReLU, softmax CE, Adam, batch 128, 60 000 random samples",
    ),
    "tiny": Case(
        "tiny", (2, 8, 8, 1), "tanh", "binary", "sgd", 0.1, 10, 500,
        steps=2000, quick_steps=300, targets=(("torch_sgd", 5.0),), init="xavier_uniform",
        description="MLP 2-8-8-1 tanh, sigmoid BCE, SGD, batch 10, 500 samples",
    ),
    "wide": Case(
        "wide", (64, 1024, 1024, 10), "relu", "multiclass", "adam", 1e-3, 256, 20_000,
        steps=50, quick_steps=10, targets=(("torch_adam_fused", 0.9),),
        description="MLP 64-1024-1024-10 ReLU, softmax CE, Adam, batch 256, 20 000 random samples",
    ),
}


# ----------------------------------------------------------------------------- data
class Batches:
    """Full mini-batches of row indices from a permutation re-drawn every epoch."""

    def __init__(self, n: int, batch: int, seed: int = 1):
        self.n, self.batch = n, min(batch, n)
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(n)
        self.pos = 0

    def next(self) -> np.ndarray:
        if self.pos + self.batch > self.n:
            self.order = self.rng.permutation(self.n)
            self.pos = 0
        idx = self.order[self.pos : self.pos + self.batch]
        self.pos += self.batch
        return idx


def make_engine_optimizer(case: Case, net: Network):
    return make_optimizer(case.optimizer, net.n_params, dtype=net.dtype)


# ----------------------------------------------------------------------------- runners
def ours_runner(case: Case, X, y):
    net = make_network(case)
    opt = make_engine_optimizer(case, net)
    batches = Batches(len(X), case.batch)
    bs = batches.batch
    xb = np.empty((bs, X.shape[1]), X.dtype)
    yb = np.empty((bs,) + y.shape[1:], y.dtype)
    lr = case.lr
    take = np.take

    def run(k: int):
        t0 = time.perf_counter()
        for _ in range(k):
            idx = batches.next()
            take(X, idx, axis=0, out=xb)
            take(y, idx, axis=0, out=yb)
            net.loss_and_grad(xb, yb)
            opt.step(net.params, net.grads, lr)
        return k, time.perf_counter() - t0

    run.net, run.opt = net, opt  # for profiling / checks
    return run


def trainer_runner(case: Case, X, y):
    net = make_network(case)
    opt = make_engine_optimizer(case, net)
    data = TrainData(X, y)
    per_epoch = len(X) / min(case.batch, len(X))  # sample-equivalent steps per epoch
    counter = [0]

    def run(k: int):
        epochs = max(1, round(k / per_epoch))
        schedule = make_schedule("constant", case.lr, epochs)
        counter[0] += 1
        cfg = TrainConfig(
            epochs=epochs, batch_size=case.batch, seed=counter[0], emit_batches=False, evaluate_train=False
        )
        t0 = time.perf_counter()
        gen = train(net, opt, schedule, data, cfg)
        seen = 0
        for ev in gen:
            if isinstance(ev, EpochEnd):
                seen += 1
                if seen == epochs:
                    break
        dt = time.perf_counter() - t0
        gen.close()
        return epochs * per_epoch, dt

    run.net, run.opt = net, opt
    return run


def torch_runner(case: Case, X, y, variant: str):
    """variant: adam | adam_fused | sgd."""
    import torch
    from torch import nn

    torch.set_num_threads(2)
    ref = make_network(case)  # same initial weights as ours
    act = {"relu": nn.ReLU, "tanh": nn.Tanh}[case.activation]
    layers: list = []
    L = len(case.sizes) - 1
    for l in range(L):
        lin = nn.Linear(case.sizes[l], case.sizes[l + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(ref.weights[l].T)))
            lin.bias.copy_(torch.from_numpy(ref.biases[l].copy()))
        layers.append(lin)
        if l < L - 1:
            layers.append(act())
    model = nn.Sequential(*layers)
    if variant == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=case.lr)
    elif variant == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=case.lr)
    elif variant == "adam_fused":
        opt = torch.optim.Adam(model.parameters(), lr=case.lr, fused=True)
    else:
        raise ValueError(variant)
    binary = case.task == "binary"
    loss_fn = nn.BCEWithLogitsLoss() if binary else nn.CrossEntropyLoss()
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)
    batches = Batches(len(X), case.batch)
    bs = batches.batch
    xb = torch.empty((bs, X.shape[1]), dtype=Xt.dtype)
    yb = torch.empty((bs,), dtype=yt.dtype)
    index_select = torch.index_select

    def run(k: int):
        t0 = time.perf_counter()
        for _ in range(k):
            idx = torch.from_numpy(batches.next())
            index_select(Xt, 0, idx, out=xb)
            index_select(yt, 0, idx, out=yb)
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            if binary:
                out = out.squeeze(1)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            loss.item()
        return k, time.perf_counter() - t0

    return run


def _sk_classifier(case: Case, max_iter: int, warm_start: bool = True):
    from sklearn.neural_network import MLPClassifier

    kw = dict(
        hidden_layer_sizes=case.sizes[1:-1],
        activation=case.activation,
        solver=case.optimizer,
        alpha=0.0,
        batch_size=case.batch,
        learning_rate_init=case.lr,
        max_iter=max_iter,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=10**9,
        warm_start=warm_start,
        random_state=0,
    )
    if case.optimizer == "sgd":
        kw.update(momentum=0.0, nesterovs_momentum=False, learning_rate="constant")
    return MLPClassifier(**kw)


def sklearn_fit_runner(case: Case, X, y, dtype=None):
    if dtype is not None:
        X = X.astype(dtype)  # once, outside the timing
    per_epoch = len(X) / min(case.batch, len(X))
    labels = y.astype(np.int64)
    clf = _sk_classifier(case, 1)

    def run(k: int):
        epochs = max(1, round(k / per_epoch))
        clf.max_iter = epochs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, on purpose
            t0 = time.perf_counter()
            clf.fit(X, labels)
            dt = time.perf_counter() - t0
        return epochs * per_epoch, dt

    run.clf = clf
    return run


def sklearn_partial_fit_runner(case: Case, X, y):
    labels = y.astype(np.int64)
    classes = np.arange(case.n_classes)
    clf = _sk_classifier(case, 1, warm_start=False)  # partial_fit continues anyway
    batches = Batches(len(X), case.batch)
    bs = batches.batch
    xb = np.empty((bs, X.shape[1]), X.dtype)
    yb = np.empty(bs, labels.dtype)

    def run(k: int):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            for _ in range(k):
                idx = batches.next()
                np.take(X, idx, axis=0, out=xb)
                np.take(labels, idx, axis=0, out=yb)
                clf.partial_fit(xb, yb, classes=classes)
            dt = time.perf_counter() - t0
        return k, dt

    return run


def gemm_runner(case: Case, X=None, y=None):
    """Only the GEMMs of forward + backward, with the engine's shapes and transposes:
    forward Z_l = A_{l-1} W_l; backward dW_l = A_{l-1}^T G_l, G_{l-1} = G_l W_l^T (l > 1)."""
    rng = np.random.default_rng(0)
    s, n = case.sizes, min(case.batch, case.n_samples)
    L = len(s) - 1
    f32 = np.float32
    A = [rng.standard_normal((n, s[l]), dtype=f32) for l in range(L)]  # layer inputs
    W = [rng.standard_normal((s[l], s[l + 1]), dtype=f32) * f32(0.05) for l in range(L)]
    Z = [np.empty((n, s[l + 1]), f32) for l in range(L)]
    G = [rng.standard_normal((n, s[l + 1]), dtype=f32) for l in range(L)]
    dW = [np.empty_like(w) for w in W]
    matmul = np.dot  # as the engine calls it (np.dot(out=): sgemm, less per-call overhead)

    def run(k: int):
        t0 = time.perf_counter()
        for _ in range(k):
            for l in range(L):
                matmul(A[l], W[l], out=Z[l])
            for l in range(L - 1, -1, -1):
                matmul(A[l].T, G[l], out=dW[l])
                if l > 0:
                    matmul(G[l], W[l].T, out=G[l - 1])
        return k, time.perf_counter() - t0

    return run


IMPLEMENTATIONS = {
    "ours": lambda c, X, y: ours_runner(c, X, y),
    "ours_trainer": lambda c, X, y: trainer_runner(c, X, y),
    "torch_adam": lambda c, X, y: torch_runner(c, X, y, "adam"),
    "torch_adam_fused": lambda c, X, y: torch_runner(c, X, y, "adam_fused"),
    "torch_sgd": lambda c, X, y: torch_runner(c, X, y, "sgd"),
    "sklearn_fit": lambda c, X, y: sklearn_fit_runner(c, X, y),
    "sklearn_fit_f64": lambda c, X, y: sklearn_fit_runner(c, X, y, np.float64),
    "sklearn_partial_fit": lambda c, X, y: sklearn_partial_fit_runner(c, X, y),
    "gemm": lambda c, X, y: gemm_runner(c, X, y),
}
NEEDS = {"torch_adam": "torch", "torch_adam_fused": "torch", "torch_sgd": "torch",
         "sklearn_fit": "sklearn", "sklearn_fit_f64": "sklearn", "sklearn_partial_fit": "sklearn"}


def implementations_for(case: Case) -> list[str]:
    names = ["ours", "ours_trainer"]
    names += ["torch_sgd"] if case.optimizer == "sgd" else ["torch_adam", "torch_adam_fused"]
    names += ["sklearn_fit", "sklearn_fit_f64", "sklearn_partial_fit", "gemm"]
    return names


def make_runners(case: Case, X, y, names: Optional[list[str]] = None) -> tuple[dict, dict]:
    """(runners, skipped): references whose package is missing are skipped with a reason."""
    runners, skipped = {}, {}
    for name in names or implementations_for(case):
        pkg = NEEDS.get(name)
        if pkg and common.optional_import(pkg) is None:
            skipped[name] = f"{pkg} not installed"
            continue
        runners[name] = IMPLEMENTATIONS[name](case, X, y)
    return runners, skipped


def block_steps(case: Case, steps: int) -> dict[str, int]:
    """Steps per block; the epoch-based runners get whole epochs (at least one)."""
    per_epoch = case.n_samples / case.batch
    out = {}
    for name in IMPLEMENTATIONS:
        if name in ("ours_trainer", "sklearn_fit", "sklearn_fit_f64"):
            out[name] = int(max(1, round(steps / per_epoch)) * per_epoch + 0.5)
        else:
            out[name] = steps
    return out


# ----------------------------------------------------------------------------- run
def run_case(
    case: Case,
    rounds: int,
    steps: int,
    *,
    verbose: bool = True,
    env: Optional[dict] = None,
    quiet: Optional[float] = 0.15,
    names: Optional[list[str]] = None,
) -> dict:
    X, y = make_data(case)
    runners, skipped = make_runners(case, X, y, names)
    say = print if verbose else (lambda *a, **k: None)
    say(f"\n== {case.name}: {case.description}")
    for name, why in skipped.items():
        say(f"   skipped {name}: {why}")
    per = block_steps(case, steps)
    warm = {k: (1 if k in ("ours_trainer", "sklearn_fit", "sklearn_fit_f64") else max(3, steps // 10)) for k in runners}
    timings = common.interleave(
        runners, rounds, {k: per[k] for k in runners}, warmup=warm, quiet=quiet, progress=say if verbose else None
    )
    # Rounds disturbed by other processes (> 0.25 cores) are left out when >= 3 clean remain.
    clean = common.clean_rounds(timings)
    used = clean if len(clean) >= 3 else list(range(rounds))
    ours = timings["ours"]
    ratios = {name: common.ratio_stats(ours, t, used) for name, t in timings.items() if name != "ours"}
    trainer_ratios = {}
    if "ours_trainer" in timings:
        trainer_ratios = {
            name: common.ratio_stats(timings["ours_trainer"], t, used)
            for name, t in timings.items()
            if name not in ("ours", "ours_trainer")
        }
    targets = []
    for ref, need in case.targets:
        r = ratios.get(ref, {}).get("median", float("nan"))
        rt = trainer_ratios.get(ref, {}).get("median", float("nan"))
        targets.append(
            {
                "reference": ref,
                "target": need,
                "ours": r,
                "met": bool(math.isfinite(r) and r >= need) if ref in timings else None,
                "ours_trainer": rt,
                "trainer_met": bool(math.isfinite(rt) and rt >= need) if ref in timings else None,
            }
        )
    env = env or common.environment()
    result = {
        "case": asdict(case),
        "rounds": rounds,
        "rounds_used": used,
        "clean_rounds": clean,
        "block_steps": {k: per[k] for k in runners},
        "skipped": skipped,
        "median_step_us": {k: 1e6 / t.median_sps_of(used) for k, t in timings.items()},
        "steps_per_second": {k: t.sps for k, t in timings.items()},
        "foreign_load_cores": {k: t.foreign for k, t in timings.items()},
        "ratios_ours_over": ratios,
        "ratios_trainer_over": trainer_ratios,
        "gemm_fraction": ratios.get("gemm", {}).get("median"),
        "targets": targets,
        "environment": env,
    }
    say(report_case(result))
    return result


def report_case(result: dict) -> str:
    case = result["case"]
    rows = []
    us = result["median_step_us"]
    for name in us:
        r = result["ratios_ours_over"].get(name, {})
        rt = result["ratios_trainer_over"].get(name, {})
        rows.append(
            [
                name,
                f"{us[name]:.1f}",
                "1.00x" if name == "ours" else common.fmt_ratio(r.get("median")),
                "" if name == "ours" else f"{r.get('min', float('nan')):.2f}-{r.get('max', float('nan')):.2f}",
                common.fmt_ratio(rt.get("median")) if rt else "",
            ]
        )
    out = [
        f"{case['name']}: medians over {len(result['rounds_used'])} of {result['rounds']} interleaved rounds"
        f" ({len(result['clean_rounds'])} undisturbed by other processes); step times are indicative only",
        common.table(rows, ["implementation", "median step us", "ours/it", "per-round range", "trainer/it"]),
    ]
    if result.get("gemm_fraction") is not None:
        out.append(f"fraction of pure-GEMM speed reached by ours: {result['gemm_fraction']:.2f}")
    for t in result["targets"]:
        state = "n/a (reference missing)" if t["met"] is None else ("MET" if t["met"] else "MISSED")
        out.append(
            f"target ours >= {t['target']}x {t['reference']}: {common.fmt_ratio(t['ours'])} -> {state}"
            f"   (through the trainer: {common.fmt_ratio(t['ours_trainer'])})"
        )
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=[*CASES, "all"], default="all")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 7, quick 3)")
    ap.add_argument("--steps", type=int, default=None, help="steps per block (default: per case)")
    ap.add_argument("--quick", action="store_true", help="few rounds and short blocks (a smoke run)")
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/<case>.json")
    ap.add_argument("--quiet-below", type=float, default=0.15,
                    help="before each round wait (<= 5 min) until other processes use fewer cores than this; 0: no wait")
    ap.add_argument("--only", default=None, help="comma-separated implementations (default: all for the case)")
    args = ap.parse_args(argv)
    names = list(CASES) if args.case == "all" else [args.case]
    rounds = args.rounds or (3 if args.quick else 7)
    env = common.environment()
    print(f"{env['cpu_model']} ({env['cpu_count']} cpus), numpy {env['numpy']} [{common.blas_summary(env)}], "
          f"torch {env['torch']}, sklearn {env['sklearn']}, env {env['env'] or '{}'}")
    for name in names:
        case = CASES[name]
        steps = args.steps or (case.quick_steps if args.quick else case.steps)
        only = args.only.split(",") if args.only else None
        result = run_case(case, rounds, steps, env=env, quiet=args.quiet_below or None, names=only)
        result["quick"] = bool(args.quick)
        if not args.no_write:
            path = common.write_json(name + ("_quick" if args.quick else ""), result)
            print(f"wrote {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
