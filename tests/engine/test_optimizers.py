"""Optimizers vs the lecture-note formulas, computed here by plain float64 scalar arithmetic.

Test problem: L(w) = 0.5 * sum(a_i w_i^2), gradient a_i w_i.
"""

import math

import numpy as np
import pytest

from workbench.engine import optimizer_base
from workbench.engine.optimizers import OPTIMIZERS, make_optimizer

A = [1.0, 4.0, 0.25]
W0 = [1.0, -0.5, 2.0]
CONST_LRS = [0.1, 0.1, 0.1]
VARY_LRS = [0.1, 0.05, 0.2]


# ---------------------------------------------------------------------------
# Reference implementations: one parameter at a time, exactly as the notes write them.
def ref_sgd(lrs, wd=0.0, mask=None):
    out = []
    for i, (a, w) in enumerate(zip(A, W0)):
        lam = wd if (mask is None or mask[i]) else 0.0
        for eta in lrs:
            g = a * w
            w = w - eta * (g + lam * w)
        out.append(w)
    return out, {}


def ref_momentum_velocity(lrs, beta=0.9, nesterov=False):
    ws, vs = [], []
    for a, w in zip(A, W0):
        v = 0.0
        for eta in lrs:
            g = a * w
            v = beta * v + eta * g
            w = w - (eta * g + beta * v) if nesterov else w - v
        ws.append(w)
        vs.append(v)
    return ws, {"v": vs}


def ref_momentum_accumulator(lrs, beta=0.9, nesterov=False):
    ws, ms = [], []
    for a, w in zip(A, W0):
        m = 0.0
        for eta in lrs:
            g = a * w
            m = beta * m + g
            w = w - eta * (g + beta * m) if nesterov else w - eta * m
        ws.append(w)
        ms.append(m)
    return ws, {"M": ms}


def ref_adagrad(lrs, eps=1e-8):
    ws, ss = [], []
    for a, w in zip(A, W0):
        s = 0.0
        for eta in lrs:
            g = a * w
            s = s + g * g
            w = w - eta / math.sqrt(s + eps) * g
        ws.append(w)
        ss.append(s)
    return ws, {"s": ss}


def ref_rmsprop(lrs, gamma=0.9, eps=1e-8):
    ws, ss = [], []
    for a, w in zip(A, W0):
        s = 0.0
        for eta in lrs:
            g = a * w
            s = gamma * s + (1 - gamma) * g * g
            w = w - eta / math.sqrt(s + eps) * g
        ws.append(w)
        ss.append(s)
    return ws, {"s": ss}


def ref_adadelta(lrs, rho=0.9, eps=1e-8):
    ws, eg, ed = [], [], []
    for a, w in zip(A, W0):
        Eg2 = 0.0
        Edx2 = 0.0
        for eta in lrs:
            g = a * w
            Eg2 = rho * Eg2 + (1 - rho) * g * g
            dx = -math.sqrt(Edx2 + eps) / math.sqrt(Eg2 + eps) * g
            Edx2 = rho * Edx2 + (1 - rho) * dx * dx
            w = w + eta * dx
        ws.append(w)
        eg.append(Eg2)
        ed.append(Edx2)
    return ws, {"Eg2": eg, "Edx2": ed}


def ref_adam(lrs, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True, wd=0.0):
    ws, vs, ss = [], [], []
    for a, w in zip(A, W0):
        v = 0.0
        s = 0.0
        for t, eta in enumerate(lrs, start=1):
            g = a * w
            v = beta1 * v + (1 - beta1) * g
            s = beta2 * s + (1 - beta2) * g * g
            if bias_correction:
                v_hat = v / (1 - beta1**t)
                s_hat = s / (1 - beta2**t)
                adam_step = v_hat / math.sqrt(s_hat + eps)  # eq. 7
            else:
                adam_step = v / math.sqrt(s + eps)  # eq. 6
            w = w - eta * (adam_step + wd * w)  # seed 003 AdamW, W_{t-1} in the decay
        ws.append(w)
        vs.append(v)
        ss.append(s)
    return ws, {"v": vs, "s": ss}


def ref_nadam(lrs, beta1=0.9, beta2=0.999, eps=1e-8, psi=0.004):
    """NAdam as PyTorch documents it (Dozat 2016), eps inside the root as our Adam."""
    ws, vs, ss = [], [], []
    for a, w in zip(A, W0):
        v = s = 0.0
        prod = 1.0
        for t, eta in enumerate(lrs, start=1):
            g = a * w
            mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
            mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
            prod *= mu
            v = beta1 * v + (1 - beta1) * g
            s = beta2 * s + (1 - beta2) * g * g
            v_hat = mu_next * v / (1 - prod * mu_next) + (1 - mu) * g / (1 - prod)
            s_hat = s / (1 - beta2**t)
            w = w - eta * v_hat / math.sqrt(s_hat + eps)
        ws.append(w)
        vs.append(v)
        ss.append(s)
    return ws, {"v": vs, "s": ss}


CASES = {
    "sgd": (dict(), ref_sgd),
    "sgd+wd": (dict(weight_decay=0.3), lambda lrs: ref_sgd(lrs, wd=0.3)),
    "momentum-velocity": (dict(momentum=0.9), ref_momentum_velocity),
    "momentum-accumulator": (dict(momentum=0.9, momentum_form="accumulator"), ref_momentum_accumulator),
    "nesterov-velocity": (dict(momentum=0.8), lambda lrs: ref_momentum_velocity(lrs, 0.8, nesterov=True)),
    "nesterov-accumulator": (
        dict(momentum=0.8, momentum_form="accumulator"),
        lambda lrs: ref_momentum_accumulator(lrs, 0.8, nesterov=True),
    ),
    "adagrad": (dict(eps=1e-8), ref_adagrad),
    "rmsprop": (dict(rho=0.9), ref_rmsprop),
    "adadelta": (dict(rho=0.9, eps=1e-2), lambda lrs: ref_adadelta(lrs, eps=1e-2)),
    # eta = 1 is Zeiler's original rule (lrs scaled by LR_SCALE below)
    "adadelta-zeiler": (dict(rho=0.95, eps=1e-6), lambda lrs: ref_adadelta(lrs, rho=0.95, eps=1e-6)),
    "adam": (dict(), ref_adam),
    "nadam": (dict(), ref_nadam),
    "nadam-psi": (dict(beta1=0.8, beta2=0.99, momentum_decay=0.1), lambda lrs: ref_nadam(lrs, 0.8, 0.99, psi=0.1)),
    "adam-eq6": (dict(bias_correction=False), lambda lrs: ref_adam(lrs, bias_correction=False)),
    "adamw": (dict(weight_decay=0.5), lambda lrs: ref_adam(lrs, wd=0.5)),
    "adamw-eq6": (
        dict(weight_decay=0.5, bias_correction=False, beta1=0.8, beta2=0.99, eps=1e-3),
        lambda lrs: ref_adam(lrs, beta1=0.8, beta2=0.99, eps=1e-3, bias_correction=False, wd=0.5),
    ),
}


LR_SCALE = {"adadelta-zeiler": 10.0}


def kind_of(case):
    return case.split("-")[0].split("+")[0]


def run(kind, lrs, dtype=np.float64, **kw):
    opt = make_optimizer(kind, len(A), dtype=dtype, **kw)
    w = np.array(W0, dtype=dtype)
    a = np.array(A, dtype=dtype)
    for lr in lrs:
        g = a * w
        opt.step(w, g, lr)
    return w, opt


@pytest.mark.parametrize("lrs", [CONST_LRS, VARY_LRS], ids=["const_lr", "varying_lr"])
@pytest.mark.parametrize("case", list(CASES))
def test_three_steps_match_formula(case, lrs):
    kw, ref = CASES[case]
    lrs = [lr * LR_SCALE.get(case, 1.0) for lr in lrs]
    expected_w, expected_state = ref(lrs)
    # the weights really moved (the formula is not trivially satisfied by w0)
    assert max(abs(e - w0) for e, w0 in zip(expected_w, W0)) > 1e-3
    w64, opt64 = run(kind_of(case), lrs, np.float64, **kw)
    np.testing.assert_allclose(w64, expected_w, rtol=1e-12, atol=1e-14)
    for name, values in expected_state.items():
        np.testing.assert_allclose(opt64.state[name], values, rtol=1e-12, atol=1e-15)
    assert opt64.t == 3
    w32, _ = run(kind_of(case), lrs, np.float32, **kw)
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, expected_w, rtol=1e-6, atol=1e-6)


def test_every_kind_is_covered():
    assert {kind_of(c) for c in CASES} == set(OPTIMIZERS)


def test_first_steps_by_hand():
    # SGD, eta 0.1: w1 = w0 - 0.1 a w0 -> [0.9, -0.3, 1.95]
    w, _ = run("sgd", [0.1])
    np.testing.assert_allclose(w, [0.9, -0.3, 1.95], rtol=1e-12)
    # Adam eq. 7 step 1: v_hat = g, s_hat = g^2, so w1 = w0 - eta g / sqrt(g^2 + eps) ~ w0 - eta sign(g)
    w, _ = run("adam", [0.1])
    np.testing.assert_allclose(w, [0.9, -0.4, 1.9], atol=1e-8)


def test_momentum_forms_agree_at_constant_lr():
    lrs = [0.05] * 4
    wv, ov = run("momentum", lrs, momentum=0.9, momentum_form="velocity")
    wa, oa = run("momentum", lrs, momentum=0.9, momentum_form="accumulator")
    np.testing.assert_allclose(wv, wa, rtol=1e-12)
    np.testing.assert_allclose(ov.state["v"], 0.05 * oa.state["M"], rtol=1e-12)  # v = eta M


def test_momentum_forms_differ_when_lr_changes():
    # one weight, a = 1, w0 = 1, beta = 0.9, eta = 0.1, 0.1, then 0.5
    # velocity:    v = 0.1, 0.18, 0.9*0.18 + 0.5*0.72 = 0.522   -> w = 0.9, 0.72, 0.198
    # accumulator: M = 1, 1.8, 0.9*1.8 + 0.72 = 2.34; w3 = 0.72 - 0.5*2.34 -> -0.45
    out = {}
    for form in ("velocity", "accumulator"):
        opt = make_optimizer("momentum", 1, momentum=0.9, momentum_form=form, dtype=np.float64)
        w = np.array([1.0])
        for lr in (0.1, 0.1, 0.5):
            opt.step(w, w.copy(), lr)
        out[form] = w[0]
    assert out["velocity"] == pytest.approx(0.198, abs=1e-12)
    assert out["accumulator"] == pytest.approx(-0.45, abs=1e-12)


def test_adam_bias_correction_ratio_on_step_one():
    # step 1: eq. 7 moves by eta g / sqrt(g^2 + eps); eq. 6 by eta (1-b1) g / sqrt((1-b2) g^2 + eps)
    # g = a w0 = [1, -2, 0.5]; ratio eq6/eq7 = (1-b1) sqrt(g^2+eps) / sqrt((1-b2) g^2 + eps) ~ 0.1/sqrt(0.001)
    w7, _ = run("adam", [0.01], bias_correction=True)
    w6, _ = run("adam", [0.01], bias_correction=False)
    d7 = np.array(W0) - w7
    d6 = np.array(W0) - w6
    g = np.array(A) * np.array(W0)
    expected = [0.1 * math.sqrt(gi * gi + 1e-8) / math.sqrt(0.001 * gi * gi + 1e-8) for gi in g]
    np.testing.assert_allclose(d6 / d7, expected, rtol=1e-10)
    assert expected[0] == pytest.approx(3.16227766, rel=1e-5)  # 0.1 / sqrt(0.001), up to eps


def test_adamw_is_not_adam_plus_l2():
    lam, lrs = 0.5, [0.1, 0.1, 0.1]
    w_adamw, _ = run("adamw", lrs, weight_decay=lam)
    np.testing.assert_allclose(w_adamw, ref_adam(lrs, wd=lam)[0], rtol=1e-12)
    # Adam with the L2 gradient g + lambda w (the decay goes through the moments)
    opt = make_optimizer("adam", 3, dtype=np.float64)
    w = np.array(W0)
    for lr in lrs:
        opt.step(w, np.array(A) * w + lam * w, lr)
    # by hand, step 1 of Adam+L2 moves each weight by ~eta sign(g + lam w) = 0.1 only,
    # AdamW by eta (sign(g) + lam w): w0 = 2 (a = 0.25) moves 0.1 + 0.1*0.5*2 = 0.2
    assert np.max(np.abs(w - w_adamw)) > 0.05
    w1_l2, _ = run("adam", [0.1], weight_decay=0.0)
    w1_w, _ = run("adamw", [0.1], weight_decay=lam)
    assert w1_l2[2] == pytest.approx(1.9, abs=1e-7)
    assert w1_w[2] == pytest.approx(1.8, abs=1e-7)


def test_adam_and_adamw_identical_without_decay():
    wa, _ = run("adam", VARY_LRS)
    ww, _ = run("adamw", VARY_LRS)
    np.testing.assert_array_equal(wa, ww)


@pytest.mark.parametrize("kind", ["sgd", "adam", "momentum"])
def test_decoupled_decay_respects_mask(kind):
    mask = np.array([True, False, True])
    opt = make_optimizer(kind, 3, weight_decay=0.5, decay_mask=mask, dtype=np.float64)
    w = np.array(W0)
    for lr in (0.1, 0.2):
        opt.step(w, np.zeros(3), lr)  # zero gradient: only the decay acts
    # masked: w0 (1 - 0.1*0.5)(1 - 0.2*0.5) = w0 * 0.95 * 0.9 ; unmasked: unchanged
    np.testing.assert_allclose(w, [1.0 * 0.855, -0.5, 2.0 * 0.855], rtol=1e-12)


def test_sgdw_with_mask_matches_formula():
    mask = [False, True, True]
    w, _ = run("sgd", VARY_LRS, weight_decay=0.3, decay_mask=np.array(mask))
    np.testing.assert_allclose(w, ref_sgd(VARY_LRS, wd=0.3, mask=mask)[0], rtol=1e-12)


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_chunked_update_equals_whole(kind, monkeypatch):
    """Vectors longer than CHUNK are updated chunk by chunk; the result must not change.
    A fragmented decay mask (many runs) takes the 0/1-vector path, a blocky one the runs path."""
    n = 50
    rng = np.random.default_rng(1)
    a = rng.uniform(0.1, 3.0, n)
    w0 = rng.standard_normal(n)
    for mask in (rng.random(n) < 0.5, np.arange(n) < 30):
        results = []
        for chunk in (1 << 18, 7):
            monkeypatch.setattr(optimizer_base, "CHUNK", chunk)
            opt = make_optimizer(kind, n, weight_decay=0.2, decay_mask=mask, dtype=np.float64)
            assert len(opt._bounds) == (1 if chunk > n else 8)
            w = w0.copy()
            for lr in VARY_LRS:
                opt.step(w, a * w, lr)
            results.append(w)
        np.testing.assert_array_equal(results[0], results[1])
        assert np.max(np.abs(results[0] - w0)) > 1e-3


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_reset_zeroes_state(kind):
    w_fresh, fresh = run(kind, [0.1])
    opt = make_optimizer(kind, 3, dtype=np.float64)
    w = np.array([3.0, 1.0, -2.0])
    for _ in range(3):
        opt.step(w, w.copy(), 0.1)
    opt.reset()
    assert opt.t == 0
    for buf in opt.buffers.values():
        assert not buf.any()
    w = np.array(W0)
    opt.step(w, np.array(A) * w, 0.1)
    np.testing.assert_array_equal(w, w_fresh)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(kind="momentum", momentum=1.5), "momentum: must be in [0, 1), got 1.5"),
        (dict(kind="momentum", momentum=-0.1), "momentum: must be in [0, 1), got -0.1"),
        (dict(kind="adam", beta1=1.0), "beta1: must be in [0, 1), got 1"),
        (dict(kind="adam", beta2=-0.5), "beta2: must be in [0, 1), got -0.5"),
        (dict(kind="rmsprop", rho=2.0), "rho: must be in [0, 1), got 2"),
        (dict(kind="adam", eps=0.0), "eps: must be in (0, 1], got 0"),
        (dict(kind="adamw", weight_decay=-1.0), "weight_decay: must be >= 0"),
        (dict(kind="momentum", momentum_form="heavy"), "momentum_form: must be one of velocity, accumulator"),
        (dict(kind="lbfgs"), "kind: must be one of sgd, momentum"),
        (dict(kind="nesterov", momentum=0.0), "nesterov requires momentum > 0"),
        (dict(kind="sgd", weight_decay=0.1, decay_mask=np.ones(2, bool)), "decay_mask: must be a bool array of shape (3,)"),
        (dict(kind="sgd", decay_mask=np.ones(3)), "decay_mask: must be a bool array"),
        (dict(kind="sgd", dtype=np.int32), "dtype: must be float32 or float64"),
    ],
)
def test_validation_names_the_parameter(kwargs, message):
    kind = kwargs.pop("kind")
    with pytest.raises(ValueError) as err:
        make_optimizer(kind, 3, **kwargs)
    assert message in str(err.value)


def test_step_validates_lr_and_arrays():
    opt = make_optimizer("sgd", 3)
    w = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="lr: must be a finite number >= 0, got -0.1"):
        opt.step(w, w.copy(), -0.1)
    with pytest.raises(ValueError, match="lr: .*nan"):
        opt.step(w, w.copy(), float("nan"))
    with pytest.raises(ValueError, match=r"grads: must be a flat float32 array of shape \(3,\)"):
        opt.step(w, np.zeros(4, np.float32), 0.1)
    with pytest.raises(ValueError, match="params: .*float64"):
        opt.step(np.zeros(3), w, 0.1)
    assert opt.t == 0


# ---------------------------------------------------------------------------
# The subnormal trap
def _has_subnormal(x):
    return bool(np.any((x != 0) & (np.abs(x) < np.finfo(np.float32).tiny)))


N_LONG = 64
HALF = np.arange(N_LONG) >= N_LONG // 2

DECAYING = {
    "momentum": dict(momentum=0.9),
    "nesterov": dict(momentum=0.9, momentum_form="accumulator"),
    "rmsprop": dict(rho=0.9),
    "adadelta": dict(rho=0.9),
    "adam": dict(),
    "adamw": dict(weight_decay=0.01),
    # the weights themselves decay by (1 - 0.1*0.5) per step where the gradient is zero
    "sgd": dict(weight_decay=0.5, decay_mask=HALF),
}


def _long_run(kind, kw, flush):
    """3000 steps; the first half of the entries get a noisy gradient 0.01 (w - 1) + noise
    (never subnormal), the second half the same for 10 steps and then exactly zero
    (a dead unit or an always-zero input feature)."""
    rng = np.random.default_rng(0)
    opt = make_optimizer(kind, N_LONG, **kw)
    if not flush:
        opt._flush_below = 0.0
    w = rng.uniform(0.5, 2.0, N_LONG).astype(np.float32)
    noise = (1e-3 * rng.standard_normal((3000, N_LONG))).astype(np.float32)
    g = np.empty(N_LONG, np.float32)
    for t in range(3000):
        np.subtract(w, 1.0, out=g)
        np.multiply(g, 0.01, out=g)
        np.add(g, noise[t], out=g)
        if t >= 10:
            g[HALF] = 0.0
        opt.step(w, g, 0.1)
    return w, opt


@pytest.mark.parametrize("kind", list(DECAYING))
def test_no_subnormals_after_3000_steps(kind):
    kw = DECAYING[kind]
    w_guard, guarded = _long_run(kind, kw, flush=True)
    for name, buf in guarded.buffers.items():
        assert not _has_subnormal(buf), name
    assert not _has_subnormal(w_guard)
    # without the guard the trap is real (so this test can fail) ...
    w_raw, raw = _long_run(kind, kw, flush=False)
    assert any(_has_subnormal(b) for b in [*raw.buffers.values(), w_raw])
    # ... and the guard does not change any normal result: the weights agree exactly
    # wherever they are normal, and differ by less than 1e-30 elsewhere
    normal = np.abs(w_raw) >= 1e-20
    assert normal[~HALF].all()
    np.testing.assert_array_equal(w_guard[normal], w_raw[normal])
    assert np.all(np.abs(w_guard[~normal] - w_raw[~normal]) < 1e-30)
    for name in guarded.buffers:
        x, y = guarded.buffers[name], raw.buffers[name]
        big = np.abs(y) >= 1e-29
        np.testing.assert_array_equal(x[big], y[big])


def test_nadam_three_steps_by_hand():
    """One weight, a = 1, w0 = 1 (g_t = w_{t-1}), eta 0.1, beta1 0.9, beta2 0.999, psi 0.004,
    eps 1e-8.  mu_1 = 0.9 (1 - 0.5 * 0.96^0.004) = 0.45007347..., mu_2 = 0.45014693...;
    step 1: v = 0.1, s = 0.001, v^ = mu_2 0.1/(1 - mu_1 mu_2) + (1 - mu_1) 1/(1 - mu_1)
    = 0.056452 + 1 = 1.056452, s^ = 1, w1 = 1 - 0.1 * 1.056452/sqrt(1 + 1e-8)."""
    opt = make_optimizer("nadam", 1, dtype=np.float64)
    w = np.array([1.0])
    mu1 = 0.9 * (1 - 0.5 * 0.96**0.004)
    mu2 = 0.9 * (1 - 0.5 * 0.96**0.008)
    assert mu1 == pytest.approx(0.450073472, rel=1e-8)
    v_hat = mu2 * 0.1 / (1 - mu1 * mu2) + 1.0
    assert v_hat == pytest.approx(1.0564518, rel=1e-7)
    opt.step(w, w.copy(), 0.1)
    assert w[0] == pytest.approx(1 - 0.1 * v_hat / math.sqrt(1 + 1e-8), rel=1e-14)
    for _ in range(2):
        opt.step(w, w.copy(), 0.1)
    expected, _ = ref_nadam([0.1] * 3)
    # the same three steps, weight by weight: A[0] = 1, W0[0] = 1
    assert w[0] == pytest.approx(expected[0], rel=1e-14)


def test_nadam_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 3.0, 5)
    w0 = rng.standard_normal(5)
    # PyTorch keeps NAdam's running product of mu_t in its default dtype: float64 here
    old_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _nadam_against_torch(torch, a, w0)
    finally:
        torch.set_default_dtype(old_dtype)


def _nadam_against_torch(torch, a, w0):
    ours = make_optimizer("nadam", 5, beta1=0.85, beta2=0.99, eps=1e-16, momentum_decay=0.004, dtype=np.float64)
    w = w0.copy()
    p = torch.tensor(w0.copy(), requires_grad=True)
    ref = torch.optim.NAdam([p], lr=0.05, betas=(0.85, 0.99), eps=1e-16, momentum_decay=0.004)
    for lr in (0.05, 0.05, 0.02, 0.05, 0.1):
        for group in ref.param_groups:
            group["lr"] = lr
        ours.step(w, a * w, lr)
        ref.zero_grad()
        p.grad = torch.tensor(a) * p.detach()
        ref.step()
    # eps 1e-16 inside vs outside the root: equal to rounding
    np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-13)


def test_registry_describes_every_rule_once():
    from workbench.engine.optimizers import HYPERPARAMETERS, optimizer_class

    for kind in OPTIMIZERS:
        cls = optimizer_class(kind)
        assert cls.kind == kind and cls.label and cls.uses[0] == "lr"
        assert set(cls.uses) <= set(HYPERPARAMETERS)
        hyper = {h.name: h.default for h in HYPERPARAMETERS.values()}
        assert all(cls.formula(**hyper)), kind
    assert OPTIMIZERS[:8] == ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw")
