"""The learning-rate range test of several seeds as ONE lockstep group
(``engine.lr_finder.range_test_group``, and ``lr_find`` choosing it by ``group_plan``):
every member's curve is its solo ``range_test`` curve -- the same eta grid, its batches
from its seed, the same smoothing and stop rule -- also when members stop at different
steps (the stopped ones are frozen while the others go on); the networks and optimizers
passed in are left as they were; and ``lr_find`` falls back to one seed after the other
where a group is refused or would not pay (one seed, a group over the memory budget,
networks of >= ``group_optimizer.ROWS_FROM`` parameters).

The acceptance is 1e-5 relative (float32); on this project's machine the group is in fact
bit-identical to the solo tests, and ``EXACT`` makes every comparison check that too (the
lockstep's promise, see ``engine/lockstep.py``: a BLAS that rounded batched products
differently would fail only the exact checks)."""

from __future__ import annotations

import numpy as np
import pytest

from workbench import build as build_mod
from workbench import lr_find as lr_find_mod
from workbench import spec as S
from workbench.build import build_run, estimate_memory, task_of
from workbench.data import load_dataset
from workbench.engine.group_optimizer import ROWS_FROM
from workbench.engine.lr_finder import RangeCurve, RangeStep, RangeTestResult, range_test, range_test_group
from workbench.engine.network import LayerConfig, Network
from workbench.engine.optimizers import OPTIMIZERS, make_optimizer
from workbench.lr_find import group_plan, lr_find, seeds_for

EXACT = True
"""Bit-identical curves (holds here, see the module docstring)."""
RTOL = 1e-5


# ----------------------------------------------------------------------------- helpers
def data(task="binary", n=90, d=3, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    if task == "binary":
        y = ((X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=n)) > 0).astype(np.float32)
    elif task == "multiclass":
        y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5]).astype(np.int64)
    else:
        y = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1).astype(np.float32)
    return X, y


def n_out(task, K=3):
    return {"binary": 1, "multiclass": K, "regression": 2}[task]


def member(task, init_seed, dropout=0.0, input_dropout=0.0, d=3):
    hidden = [LayerConfig(7, "tanh", dropout=dropout), LayerConfig(5, "relu")]
    return Network(d, hidden, n_out(task), task, input_dropout=input_dropout, seed=init_seed)


def assert_same(a, b, what=""):
    """Equal to RTOL (and bit for bit when EXACT)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    if EXACT:
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, rtol=RTOL, err_msg=what)


def assert_same_curve(got: RangeCurve, want: RangeCurve, what=""):
    assert got.seed == want.seed and got.steps == want.steps, what
    np.testing.assert_array_equal(got.lrs, want.lrs, err_msg=what)  # the same grid, the same length
    assert_same(got.losses, want.losses, f"{what} raw losses")
    assert_same(got.smoothed, want.smoothed, f"{what} smoothed")
    if EXACT:
        assert got.stopped_reason == want.stopped_reason, what
    else:
        assert (got.stopped_reason is None) == (want.stopped_reason is None), what


def solo(net, opt, X, y, bs, seed, **kw):
    items = list(range_test(net, opt, X, y, bs, seed, **kw))
    return items[:-1], items[-1]


def group(nets, opts, X, y, bs, seeds, **kw):
    items = list(range_test_group(nets, opts, X, y, bs, seeds, **kw))
    curves = [i for i in items if isinstance(i, RangeCurve)]
    steps = [i for i in items if isinstance(i, RangeStep)]
    assert len(curves) + len(steps) == len(items)
    return items, sorted(curves, key=lambda c: seeds.index(c.seed)), steps


def snapshot(nets, opts):
    return ([n.params.tobytes() for n in nets],
            [({k: v.tobytes() for k, v in o.buffers.items()}, o.t, o._decay_acc, o._since_flush) for o in opts])


# ----------------------------------------------------------------------------- the engine
@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_each_member_is_its_solo_test_for_every_rule(kind):
    """Four members (own initial weights and seeds, per-member float hyperparameters,
    weight decay, dropout, input noise and L1/L2), the default grid's upper part: every
    member's events and curve are its solo range test's."""
    X, y = data("binary")
    seeds = [3, 11, 4, 2**32 - 1]
    drop = [0.0, 0.2, 0.0, 0.1]
    nets = [member("binary", s, dropout=p) for s, p in zip((0, 1, 2, 3), drop)]
    hyper = {"momentum": [{"momentum": m} for m in (0.9, 0.5, 0.8, 0.0)],
             "adam": [{"beta1": b} for b in (0.9, 0.8, 0.9, 0.5)]}.get(kind, [{}] * 4)
    wd = [0.0, 1e-3, 0.0, 0.01]
    opts = [make_optimizer(kind, n.n_params, weight_decay=w, decay_mask=n.weight_mask, **h)
            for n, h, w in zip(nets, hyper, wd)]
    kw = dict(lr_min=1e-4, lr_max=1e2, steps=60)
    per = dict(l1=[0.0, 1e-3, 0.0, 0.0], l2=[0.0, 0.0, 1e-2, 1e-3], input_noise=[0.0, 0.1, 0.0, 0.05])
    items, curves, steps = group(nets, opts, X, y, 16, seeds, **kw, **per)
    for m in range(4):
        ref_net = member("binary", m, dropout=drop[m])
        ref_opt = make_optimizer(kind, ref_net.n_params, weight_decay=wd[m], decay_mask=ref_net.weight_mask,
                                 **hyper[m])
        events, want = solo(ref_net, ref_opt, X, y, 16, seeds[m], **kw,
                            **{k: v[m] for k, v in per.items()})
        assert_same_curve(curves[m], want, f"{kind} member {m}")
        mine = [e for e in steps if e.seed == seeds[m]]
        assert [(e.step, e.lr) for e in mine] == [(e.step, e.lr) for e in events]
        assert_same([e.loss for e in mine], [e.loss for e in events], f"{kind} member {m} events")


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_members_that_stop_early_are_frozen_while_the_others_go_on(task):
    """SGD up to eta = 1e4: the members diverge at different steps.  Each stopped member's
    curve ends where its solo curve ends (its reason included) while the others record
    more steps, each still exactly its solo curve."""
    X, y = data(task, n=64)
    seeds = [0, 1, 2, 3, 4]
    nets = [member(task, s) for s in seeds]
    opts = [make_optimizer("momentum", n.n_params, momentum=0.9) for n in nets]
    kw = dict(lr_min=1e-3, lr_max=1e4, steps=150)
    items, curves, steps = group(nets, opts, X, y, 8, seeds, **kw)
    for m, s in enumerate(seeds):
        ref = member(task, s)
        _, want = solo(ref, make_optimizer("momentum", ref.n_params, momentum=0.9), X, y, 8, s, **kw)
        assert_same_curve(curves[m], want, f"{task} member {m}")
    lengths = [len(c.lrs) for c in curves]
    assert all(c.stopped_reason for c in curves) and min(lengths) < max(lengths) < 150, lengths
    # order="step": step k of every member still running before step k+1; a curve right
    # after the step at which its member stopped
    done: set[int] = set()
    last_step = -1
    for item in items:
        if isinstance(item, RangeStep):
            assert item.seed not in done and item.step >= last_step
            last_step = item.step
        else:
            done.add(item.seed)
            assert len(item.lrs) - 1 in (last_step, last_step + 1)


def test_a_member_whose_loss_is_not_finite_stops_unrecorded_and_the_others_go_on():
    """Linear regression with targets ~1e3 up to eta = 1e30 and no divergence factor to
    speak of: the losses overflow to inf at member-dependent steps (the batch sizes'
    rows and the initial weights differ); each member stops at its own non-finite loss,
    which it does not record, exactly as solo."""
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (64, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5], np.float32))[:, None] * 1e3
    seeds = [0, 5, 9]
    nets = [Network(3, [], 1, "regression", seed=s) for s in seeds]
    opts = [make_optimizer("sgd", n.n_params) for n in nets]
    kw = dict(lr_min=1.0, lr_max=1e30, steps=100, diverge_factor=1e300)
    _, curves, _ = group(nets, opts, X, y, 16, seeds, **kw)
    for m, s in enumerate(seeds):
        ref = Network(3, [], 1, "regression", seed=s)
        _, want = solo(ref, make_optimizer("sgd", ref.n_params), X, y, 16, s, **kw)
        assert_same_curve(curves[m], want, f"member {m}")
        assert "not finite" in curves[m].stopped_reason
        assert np.all(np.isfinite(curves[m].losses))


def test_member_order_is_the_stream_of_the_solo_tests_one_after_the_other():
    X, y = data("multiclass")
    seeds = [7, 8, 9]
    kw = dict(lr_min=1e-3, lr_max=1e3, steps=80)

    def fresh():
        nets = [member("multiclass", s, dropout=0.1) for s in seeds]
        return nets, [make_optimizer("adam", n.n_params) for n in nets]

    nets, opts = fresh()
    got = list(range_test_group(nets, opts, X, y, 10, seeds, order="member", **kw))
    want = []
    for net, opt, s in zip(*fresh(), seeds):
        want += list(range_test(net, opt, X, y, 10, s, **kw))
    assert [type(i) for i in got] == [type(i) for i in want]
    assert len({len(i.lrs) for i in got if isinstance(i, RangeCurve)}) > 1  # they stop at different steps
    for a, b in zip(got, want):
        if isinstance(a, RangeStep):
            assert (a.seed, a.step, a.lr) == (b.seed, b.step, b.lr)
            assert_same([a.loss, a.smoothed], [b.loss, b.smoothed])
        else:
            assert_same_curve(a, b)


def test_the_networks_and_optimizers_passed_in_are_left_as_they_were():
    """Networks and optimizers with state (some Adam steps): unchanged bit for bit after
    a whole group test and after one closed early; the optimizers' state played no part
    (each member's curve is that of a reset optimizer, as the solo test resets it)."""
    X, y = data("binary")
    seeds = [0, 1, 2]
    nets = [member("binary", s) for s in seeds]
    opts = [make_optimizer("adam", n.n_params) for n in nets]
    for net, opt in zip(nets, opts):
        for _ in range(3 + net.seed):  # different step counts: a group could not adopt them
            net.loss_and_grad(X[:20], y[:20])
            opt.step(net.params, net.grads, 0.01)
    before = snapshot(nets, opts)
    kw = dict(lr_min=1e-4, lr_max=1e3, steps=60)
    _, curves, _ = group(nets, opts, X, y, 16, seeds, **kw)
    assert snapshot(nets, opts) == before
    assert max(c.losses.max() for c in curves) > 1.0  # the members' weights were wrecked in the group
    for m, s in enumerate(seeds):
        ref_net, ref_opt = member("binary", s), make_optimizer("adam", nets[m].n_params)
        ref_net.params[:] = nets[m].params
        assert_same_curve(curves[m], solo(ref_net, ref_opt, X, y, 16, s, **kw)[1], f"member {m}")
    for order in ("step", "member"):
        gen = range_test_group(nets, opts, X, y, 16, seeds, order=order, **kw)
        for _ in range(25):
            next(gen)
        gen.close()
        assert snapshot(nets, opts) == before


def test_bad_arguments_raise_before_anything_runs():
    X, y = data("binary")
    nets = [member("binary", s) for s in (0, 1)]
    opts = [make_optimizer("sgd", n.n_params) for n in nets]
    with pytest.raises(ValueError, match="seeds"):
        range_test_group(nets, opts, X, y, 8, [0])
    with pytest.raises(ValueError, match="order"):
        range_test_group(nets, opts, X, y, 8, [0, 1], order="seed")
    with pytest.raises(ValueError, match="lr_max"):
        range_test_group(nets, opts, X, y, 8, [0, 1], lr_min=1.0, lr_max=0.5)
    with pytest.raises(ValueError, match="optimizers\\[1\\].kind"):
        range_test_group(nets, [opts[0], make_optimizer("adam", nets[1].n_params)], X, y, 8, [0, 1])
    with pytest.raises(ValueError, match="l2"):
        range_test_group(nets, opts, X, y, 8, [0, 1], l2=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="networks\\[1\\]"):
        range_test_group([nets[0], Network(3, [LayerConfig(4, "tanh")], 1, "binary")], opts, X, y, 8, [0, 1])


# ----------------------------------------------------------------------------- lr_find
@pytest.fixture(scope="module")
def spirals():
    """The default spec: two spirals, 2-16-16-1 tanh, Adam, batch 32."""
    spec = S.ExperimentSpec()
    return spec, load_dataset(spec.data)


def seed_spec(spec, seed):
    return S.replace(spec, training=S.replace(spec.training, "training", seed=seed))


def solo_curves(spec, dataset, n_seeds, **kw):
    """The range test of each seed alone, on the network build_run makes for it."""
    out = []
    for seed in seeds_for(spec, n_seeds):
        run = build_run(seed_spec(spec, seed), dataset, emit_batches=False)
        cfg = run.config
        out.append(solo(run.network, run.optimizer, run.data.X_train, run.data.y_train, spec.training.batch_size,
                        seed, l1=cfg.l1, l2=cfg.l2, penalty_mask=cfg.penalty_mask, input_noise=cfg.input_noise,
                        **kw)[1])
    return out


def forbid(monkeypatch, name):
    def refuse(*args, **kwargs):
        raise AssertionError(f"lr_find took the path through {name}")
    monkeypatch.setattr(lr_find_mod, name, refuse)


@pytest.mark.parametrize("kw", [dict(steps=100), dict(steps=100, lr_max=1e3)], ids=["to 10", "to 1e3"])
def test_lr_find_runs_the_seeds_as_one_group_equal_to_their_solo_tests(monkeypatch, spirals, kw):
    """The default spec, 4 seeds: grouped (the solo range_test is never called), every
    seed's curve its solo test's, the items in the solo order (seed after seed); up to
    eta = 1e3 one seed stops earlier than the others."""
    spec, dataset = spirals
    assert group_plan(spec, dataset, 4) == (True, "")
    X_before = dataset.X_train.copy()
    forbid(monkeypatch, "range_test")
    items = list(lr_find(spec, dataset, seeds=4, **kw))
    assert isinstance(items[-1], RangeTestResult)
    curves = [i for i in items if isinstance(i, RangeCurve)]
    assert [c.seed for c in curves] == seeds_for(spec, 4)
    seen = [i.seed for i in items if isinstance(i, (RangeStep, RangeCurve))]
    assert seen == sorted(seen, key=seeds_for(spec, 4).index)  # seed after seed
    monkeypatch.undo()
    for got, want in zip(curves, solo_curves(spec, dataset, 4, **kw)):
        assert_same_curve(got, want, f"seed {got.seed}")
    if "lr_max" in kw:
        lengths = [len(c.lrs) for c in curves]
        assert min(lengths) < max(lengths), lengths
    np.testing.assert_array_equal(dataset.X_train, X_before)


def test_an_early_stopping_follow_up_does_not_keep_the_seeds_apart(spirals):
    """The range test plays no early stopping: a spec whose follow-up phase a training
    group refuses (build.can_lockstep) still runs its range test as a group."""
    spec, dataset = spirals
    es = S.replace(spec.early_stopping, "early_stopping", enabled=True, followup="retrain")
    followup = S.replace(spec, early_stopping=es)
    assert not build_mod.lockstep_plan([seed_spec(followup, s) for s in (0, 1)], dataset)[0]
    assert group_plan(followup, dataset, 3) == (True, "")


def test_fallback_for_networks_of_rows_from_parameters(monkeypatch, spirals):
    """The spec the group does not take: two spirals through 512-256 tanh layers,
    133,121 parameters >= ROWS_FROM (2^17).  A lockstep group would step such members
    one after the other anyway (and a stacked step is slower than solo ones, see
    group_optimizer.ROWS_FROM), so lr_find runs the seeds one after the other
    (range_test_group is never called), each its solo curve."""
    spec, dataset = spirals
    arch = S.replace(spec.architecture, "architecture",
                     layers=(S.LayerSpec(512, "tanh", 0.0, "xavier_uniform"),
                             S.LayerSpec(256, "tanh", 0.0, "xavier_uniform")))
    wide = S.replace(spec, architecture=arch)
    assert build_mod.count_parameters(wide, 2, 1) == 133_121 >= ROWS_FROM
    ok, why = group_plan(wide, dataset, 3)
    assert not ok and "133,121 parameters" in why
    forbid(monkeypatch, "range_test_group")
    kw = dict(steps=12, lr_min=1e-4, lr_max=1.0)
    curves = [i for i in lr_find(wide, dataset, seeds=3, **kw) if isinstance(i, RangeCurve)]
    monkeypatch.undo()
    for got, want in zip(curves, solo_curves(wide, dataset, 3, **kw), strict=True):
        assert_same_curve(got, want, f"seed {got.seed}")


def test_fallback_when_the_group_would_exceed_the_memory_budget(monkeypatch, spirals):
    """A budget that holds one run but not four: build.lockstep_plan refuses the group,
    lr_find runs the seeds one after the other."""
    spec, dataset = spirals
    splits = [0 if a is None else len(a) for a in (dataset.X_train, dataset.X_val, dataset.X_test)]
    one = estimate_memory(spec, int(dataset.X_train.shape[1]), task_of(dataset)[1], *splits)
    monkeypatch.setattr(build_mod, "MAX_RUN_MEMORY", 2 * one)
    ok, why = group_plan(spec, dataset, 4)
    assert not ok and "memory budget" in why
    forbid(monkeypatch, "range_test_group")
    curves = [i for i in lr_find(spec, dataset, seeds=4, steps=20) if isinstance(i, RangeCurve)]
    assert len(curves) == 4


def test_one_seed_runs_alone(monkeypatch, spirals):
    spec, dataset = spirals
    assert group_plan(spec, dataset, 1) == (False, "one seed: nothing to group")
    forbid(monkeypatch, "range_test_group")
    *_, result = lr_find(spec, dataset, seeds=1, steps=20)
    assert len(result.curves) == 1
