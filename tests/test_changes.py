"""workbench.changes: legend text for what a run changed, and what it shares with the run
it was made from -- every fairness claim checked on the engine's arrays (initial
parameters, the batches the network trains on, dropout masks and the random state they
are drawn from, input noise)."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pytest

from workbench import spec as S
from workbench.build import build_run
from workbench.changes import Fairness, changes, describe_change, fairness
from workbench.data import load_dataset
from workbench.engine import optimizers, schedules

XAV = "xavier_uniform"
BASE = S.ExperimentSpec(
    name="fairness",
    data=S.DataSpec(name="moons", n_samples=100, noise=0.2, val_fraction=0.2, seed=0),
    architecture=S.ArchitectureSpec(layers=(S.LayerSpec(8, "tanh", 0.2, XAV), S.LayerSpec(8, "tanh", 0.0, XAV))),
    optimizer=S.OptimizerSpec(kind="sgd", lr=0.05),
    training=S.TrainingSpec(epochs=2, batch_size=10, seed=3),
)


def edit(spec=BASE, **sections):
    """``spec`` with fields of its sections replaced: edit(optimizer={"lr": 0.1})."""
    return dataclasses.replace(spec, **{name: dataclasses.replace(getattr(spec, name), **values)
                                        for name, values in sections.items()})


def layers(*specs):
    return {"layers": tuple(S.LayerSpec(*s) for s in specs)}


# ---------------------------------------------------------------------------
# describe_change


@pytest.mark.parametrize("new, expected", [
    (edit(optimizer={"lr": 0.5}), "η 0.05 → 0.5"),
    (edit(optimizer={"kind": "momentum"}), "SGD → Momentum β 0.9"),
    (edit(optimizer={"kind": "adagrad", "lr": 0.1}), "SGD → Adagrad, η 0.05 → 0.1"),
    (edit(regularization={"l2": 1e-4}), "L2 α 0 → 0.0001"),
    (edit(regularization={"l1": 1e-5}), "L1 α 0 → 1e-5"),
    (edit(regularization={"weight_decay": 0.01, "input_noise": 0.1}), "weight decay λ 0 → 0.01, input noise σ 0 → 0.1"),
    (edit(architecture=layers((8, "tanh", 0.5, XAV), (8, "tanh", 0.0, XAV))), "dropout p₁ 0.2 → 0.5"),
    (edit(architecture=layers((8, "tanh", 0.5, XAV), (8, "tanh", 0.5, XAV))), "dropout p₁ 0.2 → 0.5, dropout p₂ 0 → 0.5"),
    (edit(architecture={"input_dropout": 0.1}), "dropout p₀ 0 → 0.1"),
    (edit(architecture=layers((16, "tanh", 0.2, XAV), (16, "tanh", 0.0, XAV))), "layers 8-8 → 16-16"),
    (edit(architecture=layers((8, "relu", 0.2, XAV), (8, "relu", 0.0, XAV))), "activation tanh → relu"),
    (edit(architecture=layers((8, "tanh", 0.2, "he_uniform"), (8, "tanh", 0.0, XAV))), "init₁ xavier_uniform → he_uniform"),
    (edit(architecture=layers((8, "tanh", 0.2, XAV))), "layers 8-8 → 8"),
    (edit(training={"batch_size": 32}), "batch 10 → 32"),
    (edit(training={"seed": 4}), "seed 3 → 4"),
    (edit(schedule={"kind": "step"}), "schedule constant → step"),
    (edit(schedule={"kind": "cosine"}), "schedule constant → cosine annealing"),
    (edit(early_stopping={"enabled": True}), "early stopping off → on"),
    (edit(data={"seed": 1}), "data seed 0 → 1"),
    (edit(optimizer={"lr": 0.1 + 0.2}), "η 0.05 → 0.3"),  # never 0.30000000000000004
    (edit(optimizer={"lr": 0.0500001}), "η 0.05 → 0.0500001"),  # as many digits as tell them apart
])
def test_describe_change_in_the_notes_notation(new, expected):
    assert describe_change(BASE, new) == expected


def test_nothing_that_changes_training_gives_an_empty_string():
    assert describe_change(BASE, BASE) == ""
    assert describe_change(BASE, dataclasses.replace(BASE, name="other", description="words")) == ""
    assert describe_change(BASE, edit(optimizer={"momentum": 0.5, "beta1": 0.5})) == ""  # SGD uses neither
    assert describe_change(BASE, edit(schedule={"gamma": 0.1})) == ""  # constant does not use γ
    assert describe_change(BASE, edit(early_stopping={"patience": 3})) == ""  # early stopping is off
    assert describe_change(BASE, edit(regularization={"mc_samples": 7})) == ""  # no MC dropout


def test_more_changes_than_max_items_are_counted():
    new = edit(optimizer={"lr": 0.1}, regularization={"l2": 1e-4, "l1": 1e-3}, training={"batch_size": 5, "seed": 9})
    assert changes(BASE, new) == ["η 0.05 → 0.1", "L1 α 0 → 0.001", "L2 α 0 → 0.0001", "batch 10 → 5", "seed 3 → 9"]
    assert describe_change(BASE, new) == "η 0.05 → 0.1, L1 α 0 → 0.001, L2 α 0 → 0.0001 and 2 more"
    assert describe_change(BASE, new, max_items=1) == "η 0.05 → 0.1 and 4 more"
    assert describe_change(BASE, new, max_items=5).count(",") == 4


def test_settings_that_only_one_section_uses_and_names_that_collide():
    adam = edit(optimizer={"kind": "adam", "lr": 0.01})
    assert describe_change(adam, edit(adam, optimizer={"beta2": 0.99, "bias_correction": False})) == \
        "β₂ 0.999 → 0.99, bias correction on → off"
    rms = edit(optimizer={"kind": "rmsprop"})
    assert describe_change(rms, edit(rms, optimizer={"rho": 0.99})) == "γ 0.9 → 0.99"
    assert describe_change(rms, edit(rms, optimizer={"kind": "adadelta"})) == "RMSProp → Adadelta ρ 0.9"
    plateau = edit(schedule={"kind": "plateau"}, early_stopping={"enabled": True})
    new = edit(plateau, schedule={"patience": 9}, early_stopping={"patience": 4})
    assert describe_change(plateau, new) == "schedule patience 5 → 9, patience 10 → 4"
    step = edit(schedule={"kind": "step"})
    assert describe_change(step, edit(step, schedule={"gamma": 0.1, "step_size": 10})) == \
        "step size 30 → 10, schedule γ 0.5 → 0.1"  # γ is RMSProp's too


def test_labels_are_read_off_the_registries(monkeypatch):
    lr = optimizers.HYPERPARAMETERS["lr"]
    monkeypatch.setitem(optimizers.HYPERPARAMETERS, "lr", dataclasses.replace(lr, label="Step length ζ"))
    monkeypatch.setattr(optimizers.optimizer_class("momentum"), "label", "Heavy ball")
    monkeypatch.setitem(schedules.KINDS, "step", dataclasses.replace(schedules.KINDS["step"], label="Staircase"))
    assert describe_change(BASE, edit(optimizer={"lr": 0.5})) == "ζ 0.05 → 0.5"
    assert describe_change(BASE, edit(optimizer={"kind": "momentum"})) == "SGD → Heavy ball β 0.9"
    assert describe_change(BASE, edit(schedule={"kind": "step"})) == "schedule constant → staircase"


# ---------------------------------------------------------------------------
# fairness, checked on the arrays


@dataclass
class Trace:
    """What a run trained on: its initial parameters, every batch (inputs, targets), and
    at each dropout draw the generator's state before it and the masks drawn."""

    initial: np.ndarray
    batches: list = field(default_factory=list)
    draws: list = field(default_factory=list)

    def masks(self, position):
        return [dict(masks).get(position) for _, masks in self.draws]


_DATA = {}


def trace(spec) -> Trace:
    """Train ``spec`` (2 epochs) with probes on its network's batches and dropout draws."""
    if spec.data not in _DATA:
        _DATA[spec.data] = load_dataset(spec.data)
    run = build_run(spec, _DATA[spec.data])
    net = run.network
    out = Trace(initial=net.params.copy())
    train_step, draw = net.loss_and_grad, net._draw_masks

    def probed_step(X, y, rng=None, masks=None):
        out.batches.append((np.array(X, copy=True), np.array(y, copy=True)))
        return train_step(X, y, rng=rng, masks=masks)

    def probed_draw(buffers, rng, scaled):
        state = copy.deepcopy(rng.bit_generator.state)
        masks = draw(buffers, rng, scaled)
        out.draws.append((state, [(k, m.copy()) for k, m in enumerate(masks) if m is not None]))
        return masks

    net.loss_and_grad, net._draw_masks = probed_step, probed_draw
    events = list(run.events())
    assert type(events[-1]).__name__ == "Finished" and events[-1].status == "finished"
    return out


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def same_batches(a: Trace, b: Trace) -> bool:
    return len(a.batches) == len(b.batches) and all(
        same_bits(xa, xb) and same_bits(ya, yb) for (xa, ya), (xb, yb) in zip(a.batches, b.batches))


@pytest.fixture(scope="module")
def base():
    return trace(BASE)


@pytest.mark.parametrize("new", [
    edit(optimizer={"lr": 0.2}),
    edit(optimizer={"kind": "momentum", "momentum": 0.9}),
    edit(regularization={"l2": 1e-3}),
    edit(regularization={"l1": 1e-4, "weight_decay": 0.01}),
    edit(schedule={"kind": "exponential", "gamma": 0.9}),
    edit(early_stopping={"enabled": True, "patience": 50}),
    edit(architecture=layers((8, "relu", 0.2, XAV), (8, "elu", 0.0, XAV))),  # activations play no part
], ids=["eta", "momentum", "l2", "l1-decay", "schedule", "early-stopping", "activation"])
def test_changes_that_keep_everything_keep_it_on_the_arrays(base, new):
    assert fairness(BASE, new) == Fairness(True, True, True, "")
    run = trace(new)
    assert same_bits(run.initial, base.initial)
    assert len(base.batches) == 16 and same_batches(run, base)  # 2 epochs x 8 batches of 10
    assert len(run.draws) == len(base.draws) == 16
    for (_, a), (_, b) in zip(run.draws, base.draws):  # equal rates: equal masks, bit for bit
        assert [k for k, _ in a] == [k for k, _ in b] == [1]
        assert same_bits(a[0][1], b[0][1])


def test_a_dropout_rate_change_keeps_weights_batches_and_the_masks_random_numbers(base):
    new = edit(architecture=layers((8, "tanh", 0.5, XAV), (8, "tanh", 0.0, XAV)))
    assert fairness(BASE, new) == Fairness(True, True, True, "")
    run = trace(new)
    assert same_bits(run.initial, base.initial) and same_batches(run, base)
    assert [s for s, _ in run.draws] == [s for s, _ in base.draws]  # each batch's masks from the same state
    for m_new, m_old in zip(run.masks(1), base.masks(1)):  # U >= 0.5 implies U >= 0.2: kept units nest
        assert m_new.shape == m_old.shape
        assert not np.any((m_new > 0) & (m_old == 0)) and np.any((m_new == 0) & (m_old > 0))


def test_dropout_switched_on_where_the_other_run_draws_none():
    old = edit(architecture=layers((8, "tanh", 0.0, XAV), (8, "tanh", 0.0, XAV)))
    assert fairness(old, BASE) == Fairness(True, True, True, "")
    a, b = trace(old), trace(BASE)
    assert a.draws == [] and len(b.draws) == 16  # nothing drawn in common
    assert same_bits(a.initial, b.initial) and same_batches(a, b)


def test_dropout_at_another_position_draws_other_masks(base):
    new = edit(architecture=layers((8, "tanh", 0.2, XAV), (8, "tanh", 0.3, XAV)))
    assert fairness(BASE, new) == Fairness(True, True, False, "other dropout layers: new dropout masks")
    run = trace(new)
    assert same_bits(run.initial, base.initial) and same_batches(run, base)
    assert same_bits(run.masks(1)[0], base.masks(1)[0])  # the first draw starts from the same state...
    assert not all(same_bits(a, b) for a, b in zip(run.masks(1), base.masks(1)))  # ...then position 2's draws shift it


def test_another_seed_shares_nothing(base):
    new = edit(training={"seed": 4})
    got = fairness(BASE, new)
    assert got == Fairness(False, False, False, "other seed: new initial weights, batches and dropout")
    run = trace(new)
    assert run.initial.shape == base.initial.shape and not np.array_equal(run.initial, base.initial)
    assert not same_bits(run.batches[0][0], base.batches[0][0])
    assert not same_bits(run.masks(1)[0], base.masks(1)[0])


def test_a_wider_later_layer_gets_new_weights_but_the_same_batches_and_masks(base):
    new = edit(architecture=layers((8, "tanh", 0.2, XAV), (16, "tanh", 0.0, XAV)))
    assert fairness(BASE, new) == Fairness(False, True, True, "other architecture: new initial weights")
    run = trace(new)
    assert run.initial.shape != base.initial.shape
    assert same_batches(run, base)
    assert all(same_bits(a, b) for a, b in zip(run.masks(1), base.masks(1)))  # layer 1 is 8 wide in both


def test_a_wider_dropout_layer_gets_new_weights_and_new_masks(base):
    new = edit(architecture=layers((12, "tanh", 0.2, XAV), (8, "tanh", 0.0, XAV)))
    got = fairness(BASE, new)
    assert got == Fairness(False, True, False, "other architecture: new initial weights; other dropout layers: "
                                               "new dropout masks")
    run = trace(new)
    assert same_batches(run, base)
    assert run.masks(1)[0].shape == (10, 12) and base.masks(1)[0].shape == (10, 8)


def test_another_initialiser_gets_new_weights_only(base):
    new = edit(architecture=layers((8, "tanh", 0.2, "he_uniform"), (8, "tanh", 0.0, XAV)))
    assert fairness(BASE, new) == Fairness(False, True, True, "other initialisation: new initial weights")
    run = trace(new)
    assert run.initial.shape == base.initial.shape and not np.array_equal(run.initial, base.initial)
    assert same_batches(run, base)
    assert all(same_bits(a, b) for a, b in zip(run.masks(1), base.masks(1)))


def test_another_batch_size_keeps_the_weights_and_the_sample_order_of_each_epoch(base):
    new = edit(training={"batch_size": 16})
    assert fairness(BASE, new) == Fairness(True, False, False, "other batch size: same sample order, other batches")
    run = trace(new)
    assert same_bits(run.initial, base.initial)
    assert not same_batches(run, base)
    # 80 training samples: 8 batches of 10 or 5 of 16 per epoch, the samples in the same order
    assert [len(x) for x, _ in run.batches] == [16] * 10
    for epoch in range(2):
        old = np.concatenate([x for x, _ in base.batches[8 * epoch: 8 * epoch + 8]])
        new_x = np.concatenate([x for x, _ in run.batches[5 * epoch: 5 * epoch + 5]])
        assert same_bits(new_x, old)
    assert run.masks(1)[0].shape != base.masks(1)[0].shape


def test_other_data_of_the_same_widths_keeps_the_weights_but_not_the_batches(base):
    new = edit(data={"seed": 1})
    assert fairness(BASE, new) == Fairness(True, False, False, "other data: other batches")
    run = trace(new)
    assert same_bits(run.initial, base.initial)
    assert not same_bits(run.batches[0][0], base.batches[0][0])


def test_data_of_other_widths_gets_new_weights(base):
    new = edit(data={"derived_features": ("x1_sq",)})  # three inputs
    assert fairness(BASE, new) == Fairness(False, False, False, "other data: new initial weights and batches")
    run = trace(new)
    assert run.initial.shape != base.initial.shape and run.batches[0][0].shape == (10, 3)


def test_input_noise_of_another_strength_is_drawn_from_the_same_normals():
    quiet = edit(architecture=layers((8, "tanh", 0.0, XAV), (8, "tanh", 0.0, XAV)))

    def noisy(sigma, seed=3):
        return edit(quiet, regularization={"input_noise": sigma}, training={"seed": seed})

    assert fairness(noisy(0.1), noisy(0.2)) == Fairness(True, True, True, "")
    assert fairness(quiet, noisy(0.1)) == Fairness(True, True, True, "")  # the quiet run draws none
    assert not fairness(noisy(0.1), noisy(0.1, seed=4)).same_dropout_streams

    def normals(sigma, seed=3):
        """Each batch's noise divided by sigma: (noisy batch - clean batch) / sigma."""
        clean, run = trace(noisy(0.0, seed)), trace(noisy(sigma, seed))
        assert same_batches(clean, trace(noisy(0.0, seed)))
        for (x, y), (x0, y0) in zip(run.batches, clean.batches):
            assert same_bits(y, y0)  # the same samples, noise added
        return [(x - x0) / sigma for (x, _), (x0, _) in zip(run.batches, clean.batches)]

    weak, strong, other_seed = normals(0.1), normals(0.2), normals(0.1, seed=4)
    assert len(weak) == len(strong) == 16
    for z1, z2 in zip(weak, strong):
        assert np.abs(z1).max() > 0.5
        np.testing.assert_allclose(z1, z2, atol=1e-5)  # float32 rounding of x + sigma z
    assert np.abs(weak[0] - other_seed[0]).max() > 0.5
