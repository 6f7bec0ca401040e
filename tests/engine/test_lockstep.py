"""Lockstep groups (engine.lockstep, trainer.train_group, group_optimizer.GroupOptimizer,
build.build_group): every member of a group reproduces its solo run.

Each test builds N members, runs them once as a group and once each as a solo run
(``train`` on a solo Network with the same seed and settings), and compares member m's
events (every field of every event but ``member`` and ``wall_time``; EpochEnd losses,
metrics, penalty, lr, samples; early stopping; divergence; final metrics) and final
weights with its solo run's.  The acceptance is 1e-5 relative; on this project's machine
(NumPy 2.4 + its OpenBLAS) the group is in fact bit-identical in float32 *and* float64,
and ``EXACT`` makes every comparison check that too: ``np.matmul`` on a stack calls the
same ``sgemm``/``dgemm`` per member as ``np.dot`` does for one matrix, and everything
else is the same elementwise operations on the same operands (see lockstep's docstring).
A BLAS that rounded batched products differently would fail only the exact checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math

import numpy as np
import pytest

from workbench.engine.events import BatchEnd, Diverged, EarlyStop, EpochEnd, Failed, Finished, LearningRateChanged
from workbench.engine.lockstep import StackedNetwork
from workbench.engine.network import LayerConfig, Network
from workbench.engine.optimizers import (
    OPTIMIZERS,
    GroupOptimizer,
    make_group_optimizer,
    make_optimizer,
)
from workbench.engine.schedules import make_schedule
from workbench.engine.stopping import EarlyStopping
from workbench.engine.trainer import LiveSettings, TrainConfig, TrainData, train, train_group

EXACT = True
"""Bit-identical member histories and weights (holds here, see the module docstring)."""
RTOL = 1e-5


# ----------------------------------------------------------------------------- data
def make_data(task: str, dtype=np.float32, n=96, n_val=40, n_test=24, d=3, K=3, seed=0) -> TrainData:
    rng = np.random.default_rng(seed)

    def split(m):
        X = rng.normal(size=(m, d)).astype(dtype)
        if task == "binary":
            y = ((X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=m)) > 0).astype(dtype)
        elif task == "multiclass":
            y = (np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5]) + (rng.random(m) < 0.1)).clip(0, K - 1)
            y = y.astype(np.int64)
        else:
            y = np.stack([np.sin(X[:, 0]) + 0.1 * X[:, 1], X[:, 1] * X[:, 2]], axis=1)[:, : K]
            y = (y + 0.05 * rng.normal(size=y.shape)).astype(dtype)
        return X, y

    X, y = split(n)
    Xv, yv = split(n_val)
    Xt, yt = split(n_test)
    return TrainData(X, y, Xv, yv, Xt, yt)


def n_outputs(task: str, K: int = 3) -> int:
    return {"binary": 1, "multiclass": K, "regression": min(K, 2)}[task]


# ----------------------------------------------------------------------------- members
@dataclasses.dataclass
class Member:
    """One run's settings (everything a group may vary per member)."""

    seed: int = 0
    init_seed: int = 0
    lr: float = 0.02
    schedule: str = "constant"
    schedule_kw: dict = dataclasses.field(default_factory=dict)
    hyper: dict = dataclasses.field(default_factory=dict)
    weight_decay: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    noise: float = 0.0
    input_dropout: float = 0.0
    dropout: tuple = ()  # per hidden layer (missing: 0)
    epochs: int = 8
    stopping: dict | None = None
    plateau_monitor: str = "val_loss"
    live: tuple = ()  # ((after epoch e, {setting: value}), ...)


@dataclasses.dataclass
class Shared:
    """What the members of a group share."""

    task: str = "binary"
    dtype: type = np.float32
    hidden: tuple = ((8, "tanh"),)
    kind: str = "adam"
    batch_size: int = 16
    method: str = "inverted"
    mc_samples: int = 5
    emit_batches: bool = False
    evaluate_train: bool = True
    penalize_biases: bool = False
    init: str = "xavier_uniform"


def _pieces(sh: Shared, m: Member, data: TrainData):
    d = data.X_train.shape[1]
    hidden = [LayerConfig(u, a, dropout=(m.dropout[i] if i < len(m.dropout) else 0.0), init=sh.init)
              for i, (u, a) in enumerate(sh.hidden)]
    net = Network(d, hidden, n_outputs(sh.task), sh.task, input_dropout=m.input_dropout,
                  dropout_method=sh.method, mc_samples=sh.mc_samples, dtype=sh.dtype, seed=m.init_seed)
    mask = np.ones(net.n_params, bool) if sh.penalize_biases else net.weight_mask
    opt = make_optimizer(sh.kind, net.n_params, weight_decay=m.weight_decay, decay_mask=mask, dtype=sh.dtype,
                         **m.hyper)
    sched = make_schedule(m.schedule, m.lr, m.epochs, **m.schedule_kw)
    stop = EarlyStopping(**m.stopping) if m.stopping is not None else None
    cfg = TrainConfig(epochs=m.epochs, batch_size=sh.batch_size, seed=m.seed, l1=m.l1, l2=m.l2, penalty_mask=mask,
                      input_noise=m.noise, plateau_monitor=m.plateau_monitor, emit_batches=sh.emit_batches,
                      evaluate_train=sh.evaluate_train)
    live = LiveSettings() if m.live else None
    return net, opt, sched, stop, cfg, live


def _drive(events, lives: dict, plans: dict) -> list:
    """Consume ``events``; after member i's EpochEnd of epoch e, apply its live changes."""
    out = []
    for ev in events:
        out.append(ev)
        if isinstance(ev, EpochEnd) and ev.phase == "train":
            for after, values in plans.get(ev.member, ()):
                if ev.epoch == after:
                    lives[ev.member].set(**values)
    return out


def run_solo(sh: Shared, m: Member, data: TrainData):
    net, opt, sched, stop, cfg, live = _pieces(sh, m, data)
    events = _drive(train(net, opt, sched, data, cfg, stop, live), {0: live}, {0: m.live})
    return events, net.params.copy()


def run_group(sh: Shared, members: list, data: TrainData, stack_optimizers=True):
    parts = [_pieces(sh, m, data) for m in members]
    group = StackedNetwork([p[0] for p in parts])
    if stack_optimizers:
        opt = GroupOptimizer.from_optimizers([p[1] for p in parts])
    else:
        mask = parts[0][4].penalty_mask
        opt = make_group_optimizer(sh.kind, len(members), group.n_params, hypers=[m.hyper for m in members],
                                   weight_decay=[m.weight_decay for m in members], decay_mask=mask, dtype=sh.dtype)
    lives = [p[5] for p in parts]
    gen = train_group(group, opt, [p[2] for p in parts], data, [p[4] for p in parts], [p[3] for p in parts], lives)
    events = _drive(gen, dict(enumerate(lives)), {i: m.live for i, m in enumerate(members)})
    return events, group


# ----------------------------------------------------------------------------- comparison
def _close(a, b, exact: bool, where: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            _close(a[k], b[k], exact, f"{where}.{k}")
    elif isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            assert math.isnan(a) and math.isnan(b), f"{where}: {a} vs {b}"
        elif exact:
            assert a == b, f"{where}: {a!r} vs {b!r} (not bit-identical)"
        else:
            assert a == pytest.approx(b, rel=RTOL, abs=1e-12), f"{where}: {a!r} vs {b!r}"
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def compare(solo_events, solo_params, group_events, group, member: int, exact: bool = EXACT) -> list:
    """Member ``member``'s events and weights against its solo run; returns its events."""
    mine = [e for e in group_events if getattr(e, "member", 0) == member]
    assert [type(e).__name__ for e in mine] == [type(e).__name__ for e in solo_events], f"member {member}"
    for k, (s, g) in enumerate(zip(solo_events, mine)):
        assert g.member == member
        for f in dataclasses.fields(s):
            if f.name in ("member", "wall_time"):
                continue
            _close(getattr(s, f.name), getattr(g, f.name), exact, f"member {member} event {k} {type(s).__name__}.{f.name}")
    params = group.member_params(member)
    if exact:
        assert np.array_equal(params, solo_params, equal_nan=True), f"member {member}: final weights differ"
    else:
        np.testing.assert_allclose(params, solo_params, rtol=RTOL, atol=RTOL * float(np.abs(solo_params).max()))
    return mine


def check_group(sh: Shared, members: list, data: TrainData | None = None, **kw) -> list:
    """Run ``members`` as a group and solo; compare every member; returns per-member events."""
    data = data if data is not None else make_data(sh.task, sh.dtype)
    group_events, group = run_group(sh, members, data, **kw)
    per = []
    for i, m in enumerate(members):
        solo_events, solo_params = run_solo(sh, m, data)
        per.append(compare(solo_events, solo_params, group_events, group, i))
    # the group's events end with every member's Finished, one each
    assert sorted(e.member for e in group_events if isinstance(e, Finished)) == list(range(len(members)))
    return per


def epoch_ends(events):
    return [e for e in events if isinstance(e, EpochEnd)]


# ============================================================================= optimizers
def _hypers(N):
    return [dict(momentum=0.95 - 0.1 * m, beta1=0.9 - 0.04 * m, beta2=0.999 - 0.01 * m, rho=0.9 - 0.05 * m,
                 eps=1e-8 * (m + 1), momentum_decay=0.004 * (m + 1)) for m in range(N)]


@pytest.mark.parametrize("layout", ["stack", "rows"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_group_optimizer_steps_every_member_as_its_solo_optimizer(kind, dtype, layout, monkeypatch):
    """Per-member eta, float hyperparameters and weight decay; 300 steps (subnormal flushes
    included, accounted per member): each block and state equals the solo one bit for bit,
    in both layouts (2-D column chunks of all members; member by member in solo chunks)."""
    from workbench.engine import group_optimizer, optimizer_base

    monkeypatch.setattr(group_optimizer, "ROWS_FROM", 1 if layout == "rows" else 1 << 40)
    monkeypatch.setattr(optimizer_base, "CHUNK", 256)  # several chunks per member / per stack
    rng = np.random.default_rng(1)
    N, P = 4, 700
    forms = [{}] if kind not in ("momentum", "nesterov", "adam", "adamw") else \
        [{"momentum_form": "accumulator"}, {"momentum_form": "velocity"}] if kind in ("momentum", "nesterov") else \
        [{"bias_correction": True}, {"bias_correction": False}]
    for form in forms:
        hy = [{**h, **form} for h in _hypers(N)]
        wds = [0.0, 0.02, 0.0, 0.3]
        mask = rng.random(P) < 0.6
        group = make_group_optimizer(kind, N, P, hypers=hy, weight_decay=wds, decay_mask=mask, dtype=dtype)
        assert group.by_rows == (layout == "rows")
        solos = [make_optimizer(kind, P, weight_decay=wds[m], decay_mask=mask, dtype=dtype, **hy[m]) for m in range(N)]
        w = rng.standard_normal(N * P).astype(dtype)
        ws = [w[m * P:(m + 1) * P].copy() for m in range(N)]
        for s in range(300):
            g = (rng.standard_normal(N * P) * (1e-3 if s % 5 else 1.0)).astype(dtype)
            g[: P // 4] = 0.0  # dead entries: their state decays towards subnormals
            lrs = [0.01 * (m + 1) * (1 + 0.1 * (s % 3)) for m in range(N)]
            lrs[2] = 0.0 if s > 250 else lrs[2]  # a frozen member: no decay
            group.step(w, g, lrs)
            for m in range(N):
                solos[m].step(ws[m], g[m * P:(m + 1) * P], lrs[m])
        for m in range(N):
            assert np.array_equal(w[m * P:(m + 1) * P], ws[m]), (kind, form, m)
            back = group.to_solo(m)
            assert back.t == solos[m].t
            for name in solos[m].buffers:
                assert np.array_equal(back.buffers[name], solos[m].buffers[name]), (kind, form, m, name)


def test_group_optimizer_from_solo_optimizers_continues_them():
    rng = np.random.default_rng(2)
    P, N = 50, 3
    solos = [make_optimizer("nadam", P, beta1=0.9 - 0.05 * m, weight_decay=0.01 * m) for m in range(N)]
    w = [rng.standard_normal(P).astype(np.float32) for _ in range(N)]
    for _ in range(5):
        for m in range(N):
            solos[m].step(w[m], rng.standard_normal(P).astype(np.float32), 0.01)
    group = GroupOptimizer.from_optimizers(solos)
    flat = np.concatenate(w)
    g = rng.standard_normal(N * P).astype(np.float32)
    group.step(flat, g, [0.01, 0.02, 0.03])
    for m in range(N):
        solos[m].step(w[m], g[m * P:(m + 1) * P], 0.01 * (m + 1))
        assert np.array_equal(flat[m * P:(m + 1) * P], w[m])


def test_group_optimizer_validates_like_make_optimizer():
    with pytest.raises(ValueError) as solo:
        make_optimizer("momentum", 10, momentum=1.5)
    with pytest.raises(ValueError) as shared:
        make_group_optimizer("momentum", 2, 10, hypers={"momentum": 1.5})
    assert str(shared.value) == str(solo.value) == "momentum: must be in [0, 1), got 1.5"
    with pytest.raises(ValueError, match=r"^member 1: momentum: must be in \[0, 1\), got 1.5$"):
        make_group_optimizer("momentum", 2, 10, hypers=[{"momentum": 0.5}, {"momentum": 1.5}])
    with pytest.raises(ValueError, match="momentum_form: must be the same for every member"):
        make_group_optimizer("momentum", 2, 10, hypers=[{"momentum_form": "velocity"}, {"momentum_form": "accumulator"}])
    with pytest.raises(ValueError, match="lrs: expected 2 learning rates"):
        make_group_optimizer("sgd", 2, 10).step(np.zeros(20, np.float32), np.zeros(20, np.float32), [0.1])
    with pytest.raises(ValueError, match="kind"):
        GroupOptimizer.from_optimizers([make_optimizer("sgd", 10), make_optimizer("adam", 10)])


# Solo results did not move: fingerprints of 60 solo steps of every rule, computed with the
# optimizers of commit 70239a5 (before the kernels were generalised to stacks).  Only
# correctly rounded elementwise float operations are involved: the same on any IEEE machine.
SOLO_FINGERPRINTS = {
    ("sgd", "float32", 0.0, False, ()): "9df47a4d61e1af79",
    ("sgd", "float64", 0.01, True, ()): "339977d5a701064f",
    ("momentum", "float32", 0.01, True, (("momentum_form", "velocity"),)): "fd53ef464fa491ca",
    ("momentum", "float32", 0.01, True, (("momentum_form", "accumulator"),)): "2d59e980f03e94db",
    ("momentum", "float64", 0.0, False, (("momentum_form", "velocity"),)): "a87428e2431eec28",
    ("nesterov", "float32", 0.01, True, (("momentum_form", "velocity"),)): "b41c8f6cd465c3db",
    ("nesterov", "float32", 0.01, False, (("momentum_form", "accumulator"),)): "2a34fbeb85f12b03",
    ("nesterov", "float64", 0.01, True, (("momentum_form", "accumulator"),)): "0988af8141ac1427",
    ("adagrad", "float32", 0.01, True, ()): "af426c9faf3c2208",
    ("adagrad", "float64", 0.0, False, ()): "a600490b8fce3ea8",
    ("rmsprop", "float32", 0.01, True, ()): "97cd69c56607bd10",
    ("rmsprop", "float64", 0.0, False, ()): "c58d1aff97d2af86",
    ("adadelta", "float32", 0.01, True, ()): "6a8ac45de9a79be4",
    ("adadelta", "float64", 0.01, False, ()): "ddb93f49f536e0f6",
    ("adam", "float32", 0.0, False, (("bias_correction", True),)): "ded3e83a0323437a",
    ("adam", "float32", 0.01, True, (("bias_correction", False),)): "c471d536cf7e1051",
    ("adam", "float64", 0.01, True, (("bias_correction", True),)): "9f603c467e5234ec",
    ("adamw", "float32", 0.01, False, (("bias_correction", True),)): "a12fce0a3c3c0f52",
    ("nadam", "float32", 0.0, False, ()): "9873eb0522916c0e",
    ("nadam", "float32", 0.01, True, ()): "6d013820cdd8078d",
    ("nadam", "float64", 0.01, True, ()): "9511efa63d6624a9",
}


@pytest.mark.parametrize("key", list(SOLO_FINGERPRINTS), ids=lambda k: "-".join(map(str, k[:4])))
def test_solo_optimizer_results_are_bit_identical_to_before_lockstep(key):
    kind, dt, wd, masked, extra = key
    n = 1000
    rng = np.random.default_rng(1)
    w = rng.standard_normal(n).astype(dt)
    mask = (rng.random(n) < 0.7) if masked else None
    opt = make_optimizer(kind, n, weight_decay=wd, decay_mask=mask, dtype=dt, **dict(extra))
    for s in range(60):
        g = (rng.standard_normal(n) * (1e-3 if s % 7 else 1.0)).astype(dt)
        g[:50] = 0
        opt.step(w, g, 0.01 * (1 + 0.1 * (s % 5)))
    digest = hashlib.sha256()
    for a in (w, *opt.buffers.values()):
        digest.update(np.ascontiguousarray(a).tobytes())
    assert digest.hexdigest()[:16] == SOLO_FINGERPRINTS[key]


# ============================================================================= the solo trainer
def test_solo_trainer_is_the_engine_pieces_bit_for_bit():
    """train() (a group of one on the solo backend) is exactly: per epoch the member's
    permutation, per batch noise, loss_and_grad with its dropout stream, L2, the optimizer
    step; then eval-mode losses.  A hand-written loop over the pieces gives the same bits."""
    sh = Shared(task="multiclass", hidden=((16, "relu"),), kind="adam")
    m = Member(seed=5, init_seed=3, lr=0.01, l2=1e-3, noise=0.1, dropout=(0.2,), epochs=4)
    data = make_data("multiclass")
    events, params = run_solo(sh, m, data)
    net, opt, sched, _, cfg, _ = _pieces(sh, m, data)
    shuffle, dropout, noise = (np.random.default_rng(s) for s in np.random.SeedSequence(m.seed).spawn(3))
    from workbench.engine.regularization import add_penalty

    X, y = data.X_train, data.y_train
    for e0 in range(m.epochs):
        order = shuffle.permutation(len(X))
        for start in range(0, len(X), sh.batch_size):
            idx = order[start:start + sh.batch_size]
            xb = X[idx].copy()
            xb += (m.noise * noise.standard_normal(xb.shape)).astype(xb.dtype)
            net.loss_and_grad(xb, y[idx], rng=dropout)
            add_penalty(net.params, net.grads, net.weight_mask, 0.0, m.l2)
            opt.step(net.params, net.grads, sched.lr_for_epoch(e0))
        ev = epoch_ends(events)[e0]
        assert ev.train_loss == net.evaluate(X, y)["loss"] and ev.val_loss == net.evaluate(data.X_val, data.y_val)["loss"]
    assert np.array_equal(net.params, params)


# ============================================================================= groups vs solo runs
def _members(N=3, **common):
    return [Member(seed=10 + i, init_seed=i, lr=0.01 * (1 + i), **common) for i in range(N)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("hidden", [(), ((12, "relu"),), ((10, "tanh"), (8, "sigmoid"), (6, "relu"))],
                         ids=["0-hidden", "1-hidden-relu", "3-hidden-tanh-sigmoid-relu"])
def test_architectures_and_tasks(hidden, task, dtype):
    sh = Shared(task=task, dtype=dtype, hidden=hidden, kind="adam")
    check_group(sh, _members(3, epochs=6))


def test_a_group_of_one_is_its_solo_run(layout):
    sh = Shared(task="multiclass", hidden=((9, "relu"), (7, "tanh")), kind="nadam", emit_batches=True)
    check_group(sh, [Member(seed=3, init_seed=4, lr=0.02, dropout=(0.1, 0.0), noise=0.05, l2=1e-3, epochs=5,
                            stopping=dict(patience=2))])


def test_every_activation():
    sh = Shared(hidden=((6, "leaky_relu"), (6, "elu"), (6, "softplus"), (6, "hard_tanh"), (5, "identity")),
                kind="momentum")
    check_group(sh, _members(2, epochs=5))


def _kind_cases():
    for kind in OPTIMIZERS:
        if kind in ("momentum", "nesterov"):
            yield kind, {"momentum_form": "velocity"}
            yield kind, {"momentum_form": "accumulator"}
        elif kind in ("adam", "adamw"):
            yield kind, {"bias_correction": True}
            yield kind, {"bias_correction": False}
        else:
            yield kind, {}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,choice", list(_kind_cases()), ids=lambda v: v if isinstance(v, str) else
                         "-".join(f"{k}={x}" for k, x in v.items()) or "default")
def test_every_optimizer_kind_with_per_member_hyperparameters(kind, choice, dtype):
    sh = Shared(task="multiclass", dtype=dtype, hidden=((10, "tanh"),), kind=kind)
    hy = _hypers(3)
    members = [Member(seed=20 + i, init_seed=i, lr=[0.05, 0.01, 0.03][i] * (10 if kind == "adadelta" else 1),
                      hyper={**hy[i], **choice}, weight_decay=[0.0, 0.01, 0.1][i], epochs=6) for i in range(3)]
    check_group(sh, members)
    check_group(sh, members, stack_optimizers=False)  # make_group_optimizer from the values


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["inverted", "classic", "mc"])
def test_dropout_with_per_member_rates(method, dtype, layout):
    """Rates differ per member and position; one member has none at all, one only on its
    input: each draws exactly its solo stream (none where its rate is 0)."""
    sh = Shared(task="binary", dtype=dtype, hidden=((12, "relu"), (8, "tanh")), method=method, mc_samples=4)
    members = [
        Member(seed=1, init_seed=1, input_dropout=0.1, dropout=(0.3, 0.2), epochs=5),
        Member(seed=2, init_seed=2, dropout=(0.0, 0.5), epochs=5),
        Member(seed=3, init_seed=3, epochs=5),
        Member(seed=4, init_seed=4, input_dropout=0.25, epochs=5),
    ]
    check_group(sh, members)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("penalize_biases", [False, True])
def test_noise_l1_l2_and_weight_decay_per_member(penalize_biases, dtype, layout):
    sh = Shared(task="regression", dtype=dtype, hidden=((10, "tanh"),), kind="sgd", penalize_biases=penalize_biases)
    members = [
        Member(seed=1, init_seed=1, lr=0.05, noise=0.2, l2=1e-2, epochs=6),
        Member(seed=2, init_seed=2, lr=0.05, l1=1e-3, weight_decay=0.05, epochs=6),
        Member(seed=3, init_seed=3, lr=0.02, noise=0.05, l1=1e-3, l2=1e-3, weight_decay=0.01, epochs=6),
        Member(seed=4, init_seed=4, lr=0.03, epochs=6),
    ]
    per = check_group(sh, members)
    assert epoch_ends(per[0])[-1].penalty > 0 and epoch_ends(per[3])[-1].penalty == 0.0


def test_per_member_learning_rates_and_schedules():
    sh = Shared(task="multiclass", hidden=((12, "relu"),), kind="momentum")
    members = [
        Member(seed=1, lr=0.05, schedule="step", schedule_kw=dict(step_size=3, gamma=0.5), epochs=10),
        Member(seed=2, lr=0.1, schedule="cosine", schedule_kw=dict(period=3, warm_restarts=True), epochs=10),
        Member(seed=3, lr=0.2, schedule="one_cycle", epochs=10),
        Member(seed=4, lr=0.05, schedule="plateau", schedule_kw=dict(patience=0, factor=0.5, threshold=0.3, warmup_epochs=2),
               epochs=10),
        Member(seed=5, lr=0.02, schedule="exponential", schedule_kw=dict(gamma=0.8), epochs=10),
    ]
    per = check_group(sh, members)
    lrs = [[e.lr for e in epoch_ends(events)] for events in per]
    assert len({tuple(v) for v in lrs}) == len(members)  # five different eta curves
    assert any(isinstance(e, LearningRateChanged) and e.kind == "restart" for e in per[1])
    assert any(isinstance(e, LearningRateChanged) and e.kind == "plateau" for e in per[3])


@pytest.fixture(params=["batched", "by-member"])
def layout(request, monkeypatch):
    """Both ways a group can run its elementwise work: all members per call (small
    networks) or member by member -- the optimizer stepping each member's block in solo
    chunks (skipping frozen members) and evaluation one member per pass (large networks)."""
    if request.param == "by-member":
        from workbench.engine import group_optimizer, lockstep

        monkeypatch.setattr(group_optimizer, "ROWS_FROM", 1)
        monkeypatch.setattr(lockstep, "EVAL_BYTES", 1)
    return request.param


def test_early_stopping_fires_at_different_epochs_and_restores_the_best_weights(layout):
    sh = Shared(task="binary", hidden=((16, "relu"),), kind="adam", batch_size=8)
    data = make_data("binary", n=64, n_val=24)
    members = [
        Member(seed=1, init_seed=1, lr=0.05, epochs=30, stopping=dict(patience=2)),
        Member(seed=2, init_seed=2, lr=0.01, epochs=30, stopping=dict(patience=5, min_delta=1e-3)),
        Member(seed=3, init_seed=3, lr=0.2, epochs=30, stopping=dict(monitor="val_accuracy", patience=3)),
        Member(seed=4, init_seed=4, lr=0.001, epochs=12, stopping=dict(patience=50)),  # runs to its end
        Member(seed=5, init_seed=5, lr=0.02, epochs=30),  # no early stopping
    ]
    per = check_group(sh, members, data)
    stops = [next(e for e in events if isinstance(e, EarlyStop)) for events in per[:4]]
    fired = [s.stopped_epoch for s in stops if s.fired]
    assert len(fired) >= 2 and len(set(fired)) >= 2, f"members should stop at different epochs, got {fired}"
    assert not stops[3].fired and stops[3].stopped_epoch == 12 and stops[3].restored
    assert all(s.restored for s in stops)
    finished = [events[-1] for events in per]
    assert [f.status for f in finished[:4]] == ["early_stopped" if s.fired else "finished" for s in stops]
    assert [f.epochs_run for f in finished[:4]] == [s.stopped_epoch for s in stops]
    assert finished[4].epochs_run == 30


def test_a_member_that_diverges_is_frozen_and_the_others_finish(layout):
    """Member 1's eta makes its loss overflow within a few batches: it gets Diverged and
    Finished(diverged) at the batch its solo run does, its weights stay those before that
    batch, and no NaN reaches the other members (all equal to their solo runs)."""
    sh = Shared(task="binary", hidden=((16, "relu"),), kind="sgd")
    members = [Member(seed=1, lr=0.05, epochs=8), Member(seed=2, lr=1e6, epochs=8),
               Member(seed=3, lr=0.02, epochs=8, stopping=dict(patience=2))]
    per = check_group(sh, members)
    diverged = [e for e in per[1] if isinstance(e, Diverged)]
    assert len(diverged) == 1 and per[1][-1].status == "diverged"
    assert per[0][-1].status == "finished" and per[0][-1].epochs_run == 8


def test_members_with_different_epochs(layout):
    sh = Shared(task="regression", hidden=((8, "tanh"),), kind="rmsprop")
    per = check_group(sh, [Member(seed=i, lr=0.01, epochs=e) for i, e in enumerate([3, 9, 6])])
    assert [events[-1].epochs_run for events in per] == [3, 9, 6]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_events_and_training_loss_from_batches(dtype, layout):
    sh = Shared(task="multiclass", dtype=dtype, hidden=((8, "relu"),), kind="nadam", emit_batches=True,
                evaluate_train=False, batch_size=13)  # a shorter last batch
    per = check_group(sh, _members(3, epochs=4, noise=0.1, dropout=(0.2,)))
    batches = [e for e in per[0] if isinstance(e, BatchEnd)]
    assert len(batches) == 4 * math.ceil(96 / 13) and batches[-1].step == len(batches)


def test_live_settings_per_member(layout):
    sh = Shared(task="binary", hidden=((8, "tanh"),), kind="adamw")
    members = [
        Member(seed=1, epochs=8, live=((2, {"lr": 0.05}), (5, {"weight_decay": 0.1}))),
        Member(seed=2, epochs=8, live=((3, {"l2": 1e-2, "l1": 1e-3}),)),
        Member(seed=3, epochs=8),
    ]
    per = check_group(sh, members)
    assert [type(e).__name__ for e in per[0]].count("SettingChanged") == 2


def test_an_error_inside_the_run_fails_every_member_still_running():
    sh = Shared(task="binary", hidden=((8, "tanh"),), kind="sgd")
    data = make_data("binary")
    data.y_val = data.y_val[:-1]  # evaluation raises after the first epoch
    events, _ = run_group(sh, _members(3, epochs=3), data)
    for i in range(3):
        mine = [e for e in events if e.member == i]
        assert isinstance(mine[-2], Failed) and mine[-2].epoch == 1 and "y:" in mine[-2].reason
        assert isinstance(mine[-1], Finished) and mine[-1].status == "failed"


def test_train_group_checks_its_arguments():
    sh = Shared()
    data = make_data("binary")
    parts = [_pieces(sh, m, data) for m in _members(2)]
    group = StackedNetwork([p[0] for p in parts])
    opt = GroupOptimizer.from_optimizers([p[1] for p in parts])
    scheds = [p[2] for p in parts]
    cfgs = [p[4] for p in parts]
    with pytest.raises(ValueError, match="schedules: expected 2"):
        train_group(group, opt, scheds[:1], data, cfgs)
    bad = [cfgs[0], dataclasses.replace(cfgs[1], batch_size=7)]
    with pytest.raises(ValueError, match=r"configs\[1\].batch_size: must be the same"):
        train_group(group, opt, scheds, data, bad)
    with pytest.raises(ValueError, match="follow-up phases are not run in lockstep"):
        train_group(group, opt, scheds, data, [cfgs[0], dataclasses.replace(cfgs[1], followup="retrain")])


# ============================================================================= the stacked network
def test_stacked_layout_is_member_major_solo_blocks():
    sh = Shared(hidden=((5, "tanh"), (4, "relu")))
    data = make_data("binary")
    nets = [_pieces(sh, m, data)[0] for m in _members(3)]
    group = StackedNetwork(nets)
    P = nets[0].n_params
    for i, net in enumerate(nets):
        assert np.array_equal(group.params[i * P:(i + 1) * P], net.params)
        for l in range(3):
            assert np.shares_memory(group.weights[l], group.params)
            assert np.array_equal(group.weights[l][i], net.weights[l])
            assert np.array_equal(group.biases[l][i, 0], net.biases[l])
        solo = group.to_network(i)
        assert np.array_equal(solo.params, net.params) and solo.layer_sizes == net.layer_sizes
    X = data.X_val
    for got, net in zip(group.predict(X), nets):
        assert np.array_equal(got, net.predict(X))
    other = Network(3, [LayerConfig(6, "tanh"), LayerConfig(4, "relu")], 1, "binary")
    with pytest.raises(ValueError, match=r"networks\[1\].layer_sizes"):
        StackedNetwork([nets[0], other])


def test_standardised_regression_targets():
    """Members trained on standardised targets (Network.set_target_scaling) report in the
    targets' units, as their solo runs do."""
    if not hasattr(Network, "set_target_scaling"):
        pytest.skip("this engine has no target scaling")
    sh = Shared(task="regression", hidden=((8, "tanh"),), kind="adam")
    data = make_data("regression")
    data.y_train = data.y_train * 50 + 7
    data.y_val = data.y_val * 50 + 7
    data.y_test = data.y_test * 50 + 7
    shift, scale = data.y_train.astype(np.float64).mean(0), data.y_train.astype(np.float64).std(0)
    members = _members(3, epochs=5)
    parts = [_pieces(sh, m, data) for m in members]
    for p in parts:
        p[0].set_target_scaling(shift, scale)
    group = StackedNetwork([p[0] for p in parts])
    gen = train_group(group, GroupOptimizer.from_optimizers([p[1] for p in parts]), [p[2] for p in parts], data,
                      [p[4] for p in parts])
    events = list(gen)
    for i, m in enumerate(members):
        net, opt, sched, stop, cfg, _ = _pieces(sh, m, data)
        net.set_target_scaling(shift, scale)
        solo = list(train(net, opt, sched, data, cfg))
        compare(solo, net.params.copy(), events, group, i)


# ============================================================================= build
def _spec(**changes):
    from workbench import spec as S

    base = S.ExperimentSpec(
        data=S.DataSpec(source="synthetic", name="moons", n_samples=160, noise=0.2, seed=3),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(units=12, activation="relu"),
                                                S.LayerSpec(units=8, activation="tanh"))),
        optimizer=S.parse(S.OptimizerSpec, {"kind": "adam", "lr": 0.01}),
        training=S.TrainingSpec(epochs=8, batch_size=16, seed=0),
    )
    for part, values in changes.items():
        base = S.replace(base, "", **{part: S.replace(getattr(base, part), part, **values)})
    return base


def test_build_group_members_equal_build_run():
    from workbench.build import build_group, build_run, make_network, task_of
    from workbench.data import load_dataset

    specs = [
        _spec(training={"seed": 1}),
        _spec(training={"seed": 2, "epochs": 12}, optimizer={"lr": 0.03, "beta1": 0.8},
              regularization={"l2": 1e-3, "input_noise": 0.1}),
        _spec(training={"seed": 3}, regularization={"weight_decay": 0.01},
              early_stopping={"enabled": True, "patience": 2}, schedule={"kind": "cosine"}),
    ]
    specs[2] = _spec(training={"seed": 3}, regularization={"weight_decay": 0.01},
                     early_stopping={"enabled": True, "patience": 2}, schedule={"kind": "cosine"},
                     architecture={"input_dropout": 0.1})
    dataset = load_dataset(specs[0].data)
    run = build_group(specs, dataset)
    task, k = task_of(dataset)
    for i, spec in enumerate(specs):
        initial = make_network(spec, dataset.X_train.shape[1], task, k).params
        assert np.array_equal(run.member_params(i), initial)
    events = list(run.events())
    for i, spec in enumerate(specs):
        solo = build_run(spec, dataset, emit_batches=False)
        solo_events = list(solo.events())
        compare(solo_events, solo.network.params, events, run.network, i)
        assert np.array_equal(run.member_network(i).params, solo.network.params)


def test_build_group_regression_with_standardised_targets():
    from workbench.build import build_group, build_run
    from workbench.data import load_dataset

    specs = [_spec(data={"name": "sine_1d", "n_samples": 120, "seed": 2}, training={"seed": s},
                   optimizer={"lr": 0.01 * (s + 1)}) for s in range(3)]
    dataset = load_dataset(specs[0].data)
    assert dataset.task == "regression"
    run = build_group(specs, dataset)
    events = list(run.events())
    for i, spec in enumerate(specs):
        solo = build_run(spec, dataset, emit_batches=False)
        compare(list(solo.events()), solo.network.params, events, run.network, i)


def test_can_lockstep_says_why_not():
    from workbench.build import build_group, can_lockstep, lockstep_key

    ok, reason = can_lockstep([_spec(), _spec(training={"seed": 4, "epochs": 3}, optimizer={"lr": 0.2, "eps": 1e-6},
                                                  regularization={"l1": 0.1, "dropout_test_method": "inverted"},
                                                  architecture={"input_dropout": 0.2})])
    assert ok and reason == ""
    cases = [
        ({"optimizer": {"kind": "sgd"}}, "optimizer.kind differs: run 0 has 'adam', run 1 has 'sgd'"),
        ({"training": {"batch_size": 32}}, "training.batch_size differs: run 0 has 16, run 1 has 32"),
        ({"optimizer": {"bias_correction": False}}, "optimizer.bias_correction differs"),
        ({"regularization": {"dropout_test_method": "mc"}}, "regularization.dropout_test_method differs"),
        ({"data": {"seed": 9}}, "data differs: run 1 trains on another data set"),
        ({"early_stopping": {"enabled": True, "followup": "retrain"}}, "run 1: early_stopping.followup is 'retrain'"),
    ]
    for change, expected in cases:
        ok, reason = can_lockstep([_spec(), _spec(**change)])
        assert not ok and reason.startswith(expected), reason
    from workbench import spec as S

    wider = _spec(architecture={"layers": (S.LayerSpec(units=16, activation="relu"),
                                           S.LayerSpec(units=8, activation="tanh"))})
    ok, reason = can_lockstep([_spec(), _spec(), wider])
    assert reason == "architecture.layers differs: run 0 has (12 relu, 8 tanh), run 2 has (16 relu, 8 tanh)"
    assert can_lockstep([]) == (False, "no runs to group")
    assert lockstep_key(_spec()) == lockstep_key(_spec(training={"seed": 7}))
    with pytest.raises(ValueError, match="optimizer.kind differs"):
        build_group([_spec(), _spec(optimizer={"kind": "sgd"})], None)


# ============================================================================= the benchmark
def test_benchmark_script_runs_on_tiny_sizes():
    """benchmarks/bench_lockstep.py cannot rot: its runs (and its equality guard) work."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_lockstep as bl

    case = dataclasses.replace(bl.CASES["tiny"], n_samples=40, members=3)
    assert bl.check_equal(case, 1)
    for name, run in bl.runners(case, 1).items():
        done, seconds = run(1)
        assert done == 1 and seconds > 0, name
