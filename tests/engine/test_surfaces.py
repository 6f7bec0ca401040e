"""2-D test surfaces and optimizer paths: gradients vs finite differences, paths vs the
engine's optimizers stepped by hand, the closed form of SGD on the ravine, and the
phenomena of the notes (seed 000 figure 6, seed 004): zig-zag vs momentum, escaping the
saddle, Adam's first step with and without bias correction, Adagrad's vanishing steps."""

import math

import numpy as np
import pytest

from workbench.engine.optimizers import OPTIMIZERS, make_optimizer
from workbench.engine.schedules import make_schedule
from workbench.engine.surfaces import (
    RESERVED,
    PRESETS,
    SURFACES,
    Beale,
    Path,
    PathEnd,
    PathStep,
    Quadratic,
    Rastrigin,
    Rosenbrock,
    Saddle,
    iter_path,
    log_levels,
    optimizer_path,
)

ALL_SURFACES = [Quadratic(), Quadratic(kappa=50.0, angle=0.6), Saddle(), Rosenbrock(), Rosenbrock(a=0.5, b=10.0),
                Beale(), Rastrigin(), Rastrigin(A=3.0)]
IDS = ["quadratic", "quadratic_rotated", "saddle", "rosenbrock", "rosenbrock_a0.5", "beale", "rastrigin", "rastrigin_A3"]


# ---------------------------------------------------------------------------------------
# surfaces
@pytest.mark.parametrize("surface", ALL_SURFACES, ids=IDS)
def test_gradient_matches_central_differences(surface):
    """grad f against (f(w + h e_j) - f(w - h e_j)) / 2h at 50 points of the view box."""
    rng = np.random.default_rng(7)
    (x0, x1), (y0, y1) = surface.view
    pts = np.column_stack([rng.uniform(x0, x1, 50), rng.uniform(y0, y1, 50)])
    h = 1e-6
    g = surface.grad(pts)
    assert g.shape == (50, 2) and g.dtype == np.float64
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        fd = (surface.value(pts + e) - surface.value(pts - e)) / (2 * h)
        scale = np.maximum(np.abs(g[:, j]), 1.0)
        assert np.max(np.abs(fd - g[:, j]) / scale) < 1e-5, surface
    # one point: a float and a (2,) gradient
    assert isinstance(surface.value(pts[0]), float)
    assert surface.grad(pts[0]).shape == (2,)
    np.testing.assert_array_equal(surface.grad(pts[3]), g[3])


@pytest.mark.parametrize("surface", ALL_SURFACES, ids=IDS)
def test_minimum_is_a_stationary_point_below_the_grid(surface):
    if isinstance(surface, Saddle):
        assert surface.minimum is None and surface.min_value is None
        np.testing.assert_array_equal(surface.grad(np.zeros(2)), [0.0, 0.0])
        return
    w = np.array(surface.minimum)
    assert np.max(np.abs(surface.grad(w))) < 1e-12
    Z = surface.grid(n=81)
    assert surface.min_value <= Z.min() + 1e-12
    assert surface.min_value == pytest.approx(0.0, abs=1e-12)
    # small moves in any direction go up
    for d in ((1e-3, 0), (0, 1e-3), (-1e-3, 1e-3)):
        assert surface.value(w + np.array(d)) > surface.min_value


def test_known_values():
    assert Rosenbrock().value(np.array([-1.2, 1.0])) == pytest.approx(24.2)
    assert Beale().value(np.array([0.0, 0.0])) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)
    assert Rastrigin().value(np.array([1.0, 0.0])) == pytest.approx(1.0)
    assert Saddle().value(np.array([2.0, 3.0])) == -5.0
    q = Quadratic(kappa=9.0, angle=math.pi / 2)  # steep axis rotated onto w_1
    np.testing.assert_allclose(q.A, [[9.0, 0.0], [0.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(Quadratic(kappa=40.0, angle=0.3).A), [1.0, 40.0])


def test_grid_layout_and_view():
    s = Rosenbrock()
    Z = s.grid(xlim=(-2, 2), ylim=(-1, 3), n=11)
    xs, ys = s.grid_axes((-2, 2), (-1, 3), 11)
    assert Z.shape == (11, 11)
    for i, j in ((0, 0), (2, 7), (10, 3)):
        assert Z[i, j] == s.value(np.array([xs[j], ys[i]]))
    np.testing.assert_array_equal(s.grid(n=11), Z)  # the default view is that box
    assert s.grid(n=5, xlim=(0, 1), ylim=(0, 1)).shape == (5, 5)


@pytest.mark.parametrize("surface", ALL_SURFACES, ids=IDS)
def test_levels_are_increasing_and_log_spaced(surface):
    lv = surface.levels(n=12)
    assert np.all(np.diff(lv) > 0)
    if surface.min_value is None:  # symmetric around 0 for the saddle
        np.testing.assert_allclose(lv, -lv[::-1], atol=1e-12)
        pos = lv[lv > 0]
    else:
        pos = lv - surface.min_value
        assert lv.size == 12 and pos.max() == pytest.approx(surface.grid().max() - surface.min_value)
    ratios = pos[1:] / pos[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    assert pos.max() / pos.min() == pytest.approx(1e4)


def test_log_levels_rejects_nonsense():
    with pytest.raises(ValueError, match="n: must be >= 2"):
        log_levels(np.ones((3, 3)), 1)
    with pytest.raises(ValueError, match="no finite value"):
        log_levels(np.full((2, 2), np.nan))


def test_surfaces_are_frozen_and_registered():
    assert set(SURFACES) == {"quadratic", "saddle", "rosenbrock", "beale", "rastrigin"}
    with pytest.raises(Exception):
        Quadratic().kappa = 3.0
    with pytest.raises(ValueError, match="kappa"):
        Quadratic(kappa=0.5)


# ---------------------------------------------------------------------------------------
# paths are the engine's optimizers, stepped on the analytic gradient
HYPER = {
    "sgd": {},
    "momentum": {"momentum": 0.8, "momentum_form": "accumulator"},
    "nesterov": {"momentum": 0.9},
    "adagrad": {"eps": 1e-6},
    "rmsprop": {"rho": 0.95},
    "adadelta": {"rho": 0.9, "eps": 1e-4},
    "adam": {"beta1": 0.85, "beta2": 0.99},
    "adamw": {"bias_correction": False},
}
STEP_SCHEDULE = ("step", {"step_size": 7, "gamma": 0.5})


def by_hand(surface, kind, hyper, start, steps, lrs, weight_decay=0.0):
    opt = make_optimizer(kind, 2, weight_decay=weight_decay, dtype=np.float64, **hyper)
    w = np.array(start, dtype=np.float64)
    points = [w.copy()]
    for eta in lrs[:steps]:
        g = surface.grad(w)
        opt.step(w, g, eta)
        points.append(w.copy())
    return np.array(points)


@pytest.mark.parametrize("schedule", [None, STEP_SCHEDULE], ids=["constant", "step"])
@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_path_equals_the_engine_optimizer_stepped_by_hand(kind, schedule):
    hyper = HYPER.get(kind, {})  # every kind the engine has; defaults for one added later
    surface, start, steps, lr = Rosenbrock(), (-1.2, 1.0), 40, 2e-3
    path = optimizer_path(surface, kind, hyper, start, steps, lr=lr, schedule=schedule)
    lrs = [lr] * steps if schedule is None else list(make_schedule("step", lr, steps, **schedule[1]).preview(steps))
    if schedule is not None:
        assert lrs[0] == lr and lrs[7] == lr / 2 and lrs[39] == lr / 32
    expected = by_hand(surface, kind, hyper, start, steps, lrs)
    assert path.stopped_reason is None and path.steps == steps
    np.testing.assert_array_equal(path.points, expected)  # bit for bit: the same code ran
    np.testing.assert_array_equal(path.lrs, lrs)
    np.testing.assert_array_equal(path.losses, surface.value(expected))


def test_decoupled_weight_decay_is_the_optimizers():
    s = Quadratic(kappa=4.0)
    path = optimizer_path(s, "adam", {}, (3.0, -2.0), 25, lr=0.1, weight_decay=0.3)
    np.testing.assert_array_equal(path.points, by_hand(s, "adam", {}, (3.0, -2.0), 25, [0.1] * 25, weight_decay=0.3))
    plain = optimizer_path(s, "adam", {}, (3.0, -2.0), 25, lr=0.1)
    assert not np.array_equal(plain.points, path.points)


def test_generator_yields_the_same_path_then_an_end():
    items = list(iter_path(Beale(), "momentum", {"momentum": 0.9}, None, 30, lr=1e-3))
    assert isinstance(items[-1], PathEnd) and items[-1] == PathEnd(30, None)
    steps = items[:-1]
    assert all(isinstance(s, PathStep) for s in steps) and [s.t for s in steps] == list(range(31))
    path = optimizer_path(Beale(), "momentum", {"momentum": 0.9}, None, 30, lr=1e-3)
    np.testing.assert_array_equal(np.array([s.point for s in steps]), path.points)
    assert steps[0].lr is None and steps[0].grad is None and steps[0].point == Beale().start
    # the gradient of step t is grad f(w_{t-1})
    np.testing.assert_array_equal(steps[5].grad, Beale().grad(np.array(steps[4].point)))
    # a consumer may stop early (animation): nothing else runs
    gen = iter_path(Beale(), "sgd", {}, None, 10**9, lr=1e-3)
    assert next(gen).t == 0 and next(gen).t == 1
    gen.close()


def test_schedule_is_evaluated_per_step():
    sched = ("cosine", {"period": 0})
    path = optimizer_path(Quadratic(), "sgd", {}, None, 50, lr=0.05, schedule=sched)
    np.testing.assert_allclose(path.lrs, make_schedule("cosine", 0.05, 50).preview(50), rtol=0, atol=0)
    assert path.lrs[0] == 0.05 and path.lrs[-1] < 1e-4
    also = optimizer_path(Quadratic(), "sgd", {}, None, 50, lr=0.05, schedule={"kind": "cosine"})
    np.testing.assert_array_equal(also.points, path.points)


def test_sgd_on_the_ravine_is_the_closed_form():
    """w_t = (I - eta A)^t w_0 for f = 1/2 w^T A w (rotated ravine, kappa 30)."""
    s = Quadratic(kappa=30.0, angle=0.4)
    eta, w0, T = 0.06, np.array(s.start), 80
    path = optimizer_path(s, "sgd", {}, w0, T, lr=eta)
    M = np.eye(2) - eta * s.A
    for t in range(T + 1):
        expected = np.linalg.matrix_power(M, t) @ w0
        np.testing.assert_allclose(path.points[t], expected, rtol=0, atol=1e-12)


def test_divergence_stops_the_path_with_the_reason_and_only_finite_points():
    path = optimizer_path(Rosenbrock(), "sgd", {}, None, 200, lr=0.05)
    assert path.stopped_reason is not None and path.steps < 200
    assert np.all(np.isfinite(path.points)) and np.all(np.isfinite(path.losses))
    assert len(path.lrs) == path.steps and len(path.losses) == path.steps + 1
    assert ("not finite" in path.stopped_reason or "left the box" in path.stopped_reason)


def test_leaving_the_box_stops_the_path():
    path = optimizer_path(Saddle(), "momentum", {"momentum": 0.9}, (1.0, 1e-3), 500, lr=0.05, bound=100.0)
    assert path.stopped_reason == f"left the box |w| <= 100 at step {path.steps}"
    assert np.max(np.abs(path.points[-1])) > 100 and np.max(np.abs(path.points[-2])) <= 100
    assert path.steps < 60


def test_paths_are_frozen():
    path = optimizer_path(Saddle(), "sgd", {}, None, 3, lr=0.1)
    with pytest.raises(ValueError):
        path.points[0, 0] = 5.0
    with pytest.raises(Exception):
        path.stopped_reason = "x"
    assert isinstance(path, Path)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(kind="lbfgs"), "kind: must be one of"),
        (dict(hyper={"beta": 0.9}), "hyper: .*'beta'"),
        (dict(hyper={"dtype": np.float32}), "hyper: 'dtype' is set by the path"),
        (dict(hyper={"momentum": 1.5}), "momentum: must be in"),
        (dict(start=(1.0, float("nan"))), "start"),
        (dict(lr=-1.0), "lr: must be"),
        (dict(schedule=("sometimes", {})), "schedule: kind must be one of"),
        (dict(schedule=("step", {"step_size": 0})), "step_size"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(kw, match):
    args = dict(kind="sgd", hyper={}, start=None, lr=0.1)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        optimizer_path(Quadratic(), args.pop("kind"), args.pop("hyper"), args.pop("start"), 5, **args)
    assert "dtype" in RESERVED  # a path is always float64


# ---------------------------------------------------------------------------------------
# the phenomena of the notes
def test_ravine_sgd_zigzags_where_momentum_converges_faster():
    """Seed 004 "ill-conditioned loss": at eta = 0.07, kappa = 25 the steep coordinate of
    SGD flips sign every step (1 - eta kappa = -0.75); momentum (beta 0.8, same eta)
    reaches ||w|| < 1e-3 and stays there in fewer steps than SGD."""
    preset = PRESETS["ravine"]
    runs = {r.kind: r for r in preset.runs if r.lr == 0.07}
    sgd = runs["sgd"].path(preset.surface, preset.start, 400)
    mom = runs["momentum"].path(preset.surface, preset.start, 400)
    steep = sgd.points[:60, 1]
    assert np.all(np.sign(steep[1:]) == -np.sign(steep[:-1]))
    np.testing.assert_allclose(steep[1:] / steep[:-1], -0.75, rtol=1e-12)
    t_sgd, t_mom = sgd.steps_to((0, 0), 1e-3), mom.steps_to((0, 0), 1e-3)
    assert t_sgd is not None and t_mom is not None
    assert t_mom < t_sgd
    assert t_sgd > 120 and t_mom < 90  # 0.93^t vs ~0.89^t with an oscillation
    assert not np.all(np.sign(mom.points[1:40, 1]) == -np.sign(mom.points[:39, 1]))


def test_saddle_momentum_and_adaptive_methods_escape_before_sgd():
    """Seed 004 "saddle points": from (1, 1e-3) on the ridge, SGD needs about
    ln(1.5e3)/ln(1 + 2 eta) = 77 steps to get farther than 1.5 from the saddle point;
    momentum and the per-parameter rates are out much sooner."""
    preset = PRESETS["saddle"]
    assert preset.start == (1.0, 1e-3)
    exits = {r.kind: r.path(preset.surface, preset.start, preset.steps).exit_step(1.5) for r in preset.runs}
    assert exits["sgd"] == math.ceil(math.log(1.5e3) / math.log(1.1))  # |w_2| = 1e-3 * 1.1^t, w_1 -> 0
    assert exits["momentum"] < exits["sgd"] / 2
    for kind in ("rmsprop", "adagrad", "adam"):
        assert exits[kind] is not None and exits[kind] < exits["sgd"], kind


@pytest.mark.parametrize("beta1, beta2", [(0.9, 0.999), (0.99, 0.999), (0.9, 0.9)])
def test_adam_first_step_with_and_without_bias_correction(beta1, beta2):
    """Step 1 from v_0 = s_0 = 0: v_1 = (1-beta1) g, s_1 = (1-beta2) g^2.  Eq. 7 (corrected)
    moves every coordinate by eta g/sqrt(g^2 + eps) ~ eta; eq. 6 by
    eta (1-beta1) g / sqrt((1-beta2) g^2 + eps) ~ eta (1-beta1)/sqrt(1-beta2): 3.16 eta for
    the defaults (larger!), 0.316 eta for beta1 = 0.99 (much smaller), 0.316 for beta2 = 0.9."""
    s, eta = Quadratic(kappa=25.0), 0.01
    w0 = np.array(s.start)  # g_1 = (-9, 37.5): both coordinates far above sqrt(eps)
    hyper = {"beta1": beta1, "beta2": beta2}
    on = optimizer_path(s, "adam", {**hyper, "bias_correction": True}, w0, 1, lr=eta)
    off = optimizer_path(s, "adam", {**hyper, "bias_correction": False}, w0, 1, lr=eta)
    step_on = np.abs(on.points[1] - w0)
    step_off = np.abs(off.points[1] - w0)
    np.testing.assert_allclose(step_on, eta, rtol=1e-9)
    factor = (1 - beta1) / math.sqrt(1 - beta2)
    np.testing.assert_allclose(step_off, factor * eta, rtol=1e-7)
    np.testing.assert_allclose(step_off / step_on, factor, rtol=1e-7)
    # both move against the gradient
    assert np.all(np.sign(on.points[1] - w0) == -np.sign(s.grad(w0)))


def test_adam_without_correction_takes_steps_larger_than_eta_early_on():
    """Constant gradient sign in the shallow coordinate: uncorrected steps are
    eta (1 - beta1^t)/sqrt(1 - beta2^t) (peak 6.57 eta at t = 12 for 0.9/0.999)."""
    preset = PRESETS["adam_bias"]
    on, off = (r.path(preset.surface, preset.start, 12) for r in preset.runs)
    eta = preset.runs[0].lr
    d_on = np.abs(np.diff(on.points[:, 0]))
    d_off = np.abs(np.diff(off.points[:, 0]))
    assert d_on[0] == pytest.approx(eta, rel=1e-9)
    assert d_off[0] == pytest.approx(eta * 0.1 / math.sqrt(0.001), rel=1e-7)
    assert np.all(d_off[:3] > 3 * eta) and np.all(d_on <= eta * 1.0000001)


def test_adagrad_steps_vanish_where_rmsprop_keeps_moving():
    """Adagrad's s_t only grows: its step length falls (4x smaller after 150 steps than
    after 10) and it is still far from the minimum; RMSProp, same eta, gets close."""
    preset = PRESETS["adagrad_rmsprop"]
    paths = {r.kind: r.path(preset.surface, preset.start, preset.steps) for r in preset.runs}
    ada, rms = paths["adagrad"], paths["rmsprop"]
    lengths = np.linalg.norm(np.diff(ada.points, axis=0), axis=1)
    assert lengths[-1] < lengths[10] / 4
    assert np.all(np.diff(lengths[10:]) < 0)
    assert np.linalg.norm(ada.points[-1]) > 5.0
    assert rms.steps_to((0.0, 0.0), 0.5) is not None and np.linalg.norm(rms.points[-1]) < 0.1


def test_presets_are_complete_and_run():
    assert set(PRESETS) >= {"ravine", "saddle", "adam_bias", "adagrad_rmsprop"}
    for name, preset in PRESETS.items():
        assert preset.name == name and preset.runs and preset.steps > 0
        assert "\n" not in preset.explanation and len(preset.explanation) > 40
        labels = [r.label for r in preset.runs]
        assert len(set(labels)) == len(labels)
        for run in preset.runs:
            assert run.kind in OPTIMIZERS
            make_optimizer(run.kind, 2, dtype=np.float64, **run.hyper)  # valid hyperparameters
        paths = preset.paths()
        for label, path in paths.items():
            assert path.steps >= 1 and np.all(np.isfinite(path.points))
            if preset.surface.minimum is not None:  # no run diverges on a surface with a minimum
                assert path.stopped_reason is None, (name, label)
    kinds = {r.kind for r in PRESETS["saddle"].runs}
    assert kinds == {"sgd", "momentum", "rmsprop", "adagrad", "adam"}


def test_torch_sgd_momentum_follows_the_same_path():
    """Optional reference: torch.optim.SGD with momentum is the accumulator form
    M_t = beta M_{t-1} + g_t, w_t = w_{t-1} - eta_t M_t; with a StepLR per step."""
    torch = pytest.importorskip("torch")
    s, steps = Rosenbrock(), 60
    path = optimizer_path(s, "momentum", {"momentum": 0.9, "momentum_form": "accumulator"}, None, steps,
                          lr=1e-3, schedule=("step", {"step_size": 20, "gamma": 0.5}))
    w = torch.tensor(s.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=1e-3, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.5)
    points = [w.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        w.grad = torch.tensor(s.grad(w.detach().numpy()), dtype=torch.float64)
        opt.step()
        sched.step()
        points.append(w.detach().numpy().copy())
    np.testing.assert_allclose(path.points, np.array(points), rtol=1e-12, atol=1e-14)
