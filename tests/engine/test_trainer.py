"""The trainer generator: XOR, determinism, divergence, early stopping and its follow-ups,
live settings, and that the engine never imports Qt."""

import subprocess
import sys

import numpy as np
import pytest

from workbench.engine.events import (
    BatchEnd,
    Diverged,
    EarlyStop,
    EpochEnd,
    Finished,
    LearningRateChanged,
    PhaseStarted,
    SettingChanged,
)
from workbench.engine.network import LayerConfig, Network
from workbench.engine.optimizers import make_optimizer
from workbench.engine.schedules import make_schedule
from workbench.engine.stopping import EarlyStopping
from workbench.engine.trainer import LiveSettings, TrainConfig, TrainData, train

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0], dtype=np.float32)


def run_all(net, opt, sched, data, cfg, stopping=None, live=None):
    return list(train(net, opt, sched, data, cfg, stopping, live))


def epochs_of(events, phase="train"):
    return [e for e in events if isinstance(e, EpochEnd) and e.phase == phase]


def test_xor_2_4_1_tanh_reaches_full_accuracy():
    net = Network(2, [LayerConfig(4, "tanh", init="xavier_uniform")], 1, "binary", seed=3)
    net.initialize(np.random.default_rng(3))
    opt = make_optimizer("adam", net.n_params)
    sched = make_schedule("constant", 0.05, 300)
    events = run_all(net, opt, sched, TrainData(XOR_X, XOR_Y), TrainConfig(epochs=300, batch_size=4, seed=3))
    last = epochs_of(events)[-1]
    assert last.metrics["train_accuracy"] == 1.0
    assert np.array_equal(net.predict(XOR_X) > 0.5, XOR_Y > 0.5)
    assert isinstance(events[-1], Finished) and events[-1].status == "finished"


def test_linear_model_on_xor_converges_to_w0_b_half():
    """Seed 001: the linear model f(x) = x^T w + b under MSE on XOR has w = 0, b = 1/2."""
    net = Network(2, [], 1, "regression", dtype=np.float64, seed=0)
    net.initialize(np.random.default_rng(0))
    opt = make_optimizer("sgd", net.n_params, dtype=np.float64)
    sched = make_schedule("constant", 0.5, 2000)
    data = TrainData(XOR_X.astype(np.float64), XOR_Y.reshape(-1, 1).astype(np.float64))
    run_all(net, opt, sched, data, TrainConfig(epochs=2000, batch_size=4, emit_batches=False))
    np.testing.assert_allclose(net.weights[0].ravel(), [0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(net.biases[0], [0.5], atol=1e-6)


def test_zero_init_keeps_hidden_units_identical():
    net = Network(
        2, [LayerConfig(5, "tanh", init="zeros"), LayerConfig(3, "tanh", init="zeros")], 1, "binary",
        output_init="zeros",
    )
    net.initialize(np.random.default_rng(0))
    opt = make_optimizer("momentum", net.n_params)
    sched = make_schedule("constant", 0.1, 50)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float32)
    run_all(net, opt, sched, TrainData(X, y), TrainConfig(epochs=50, batch_size=16))
    for W in net.weights[:2]:
        assert np.all(W == W[:, :1]), "columns (hidden units) diverged"
    # Zero init of *every* layer leaves the hidden weights at exactly zero (no gradient reaches them).
    assert np.all(net.weights[0] == 0)


def _blobs(seed=0, n=120):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    y = (X[:, 0] + 0.7 * X[:, 1] + 0.8 * rng.normal(size=n) > 0).astype(np.float32)
    return X, y


def _setup(seed, epochs=40, dropout=0.2, noise=0.1, stopping=None, followup="none", lr=0.01):
    X, y = _blobs(0)
    Xv, yv = _blobs(1, 60)
    net = Network(2, [LayerConfig(32, "relu", dropout=dropout), LayerConfig(32, "relu")], 1, "binary")
    net.initialize(np.random.default_rng(seed))
    opt = make_optimizer("adam", net.n_params)
    sched = make_schedule("constant", lr, epochs)
    cfg = TrainConfig(epochs=epochs, batch_size=16, seed=seed, input_noise=noise, l2=1e-3, followup=followup)
    return net, opt, sched, TrainData(X, y, Xv, yv), cfg, stopping


def test_same_seed_gives_bit_identical_history_and_other_seed_differs():
    a = [e for e in run_all(*_setup(7)) if not isinstance(e, Finished)]
    b = [e for e in run_all(*_setup(7)) if not isinstance(e, Finished)]
    c = [e for e in run_all(*_setup(8)) if not isinstance(e, Finished)]
    assert a == b
    assert [e.train_loss for e in epochs_of(a)] != [e.train_loss for e in epochs_of(c)]


def test_nan_loss_ends_with_diverged_event_not_exception():
    net, opt, sched, data, cfg, _ = _setup(0, epochs=30, lr=1e4)
    opt = make_optimizer("sgd", net.n_params)
    events = run_all(net, opt, sched, data, cfg)
    kinds = [type(e) for e in events]
    assert Diverged in kinds
    assert isinstance(events[-1], Finished) and events[-1].status == "diverged"
    assert kinds.index(Diverged) == len(events) - 2


def test_inf_input_diverges_immediately():
    net, opt, sched, data, cfg, _ = _setup(0, epochs=3)
    data.X_train = data.X_train.copy()
    data.X_train[:] = np.inf
    events = run_all(net, opt, sched, data, cfg)
    div = [e for e in events if isinstance(e, Diverged)]
    assert div and div[0].epoch == 1 and div[0].batch == 1


def _overfit_setup(restore=True, followup="none", patience=8):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)).astype(np.float32)
    y = (X[:, 0] + 1.5 * rng.normal(size=40) > 0).astype(np.float32)  # heavy label noise
    Xv = rng.normal(size=(200, 2)).astype(np.float32)
    yv = (Xv[:, 0] + 1.5 * rng.normal(size=200) > 0).astype(np.float32)
    net = Network(2, [LayerConfig(128, "relu"), LayerConfig(128, "relu")], 1, "binary")
    net.initialize(np.random.default_rng(0))
    opt = make_optimizer("adam", net.n_params)
    sched = make_schedule("constant", 0.01, 400)
    stop = EarlyStopping(monitor="val_loss", patience=patience, restore_best=restore)
    cfg = TrainConfig(epochs=400, batch_size=8, seed=0, followup=followup)
    return net, opt, sched, TrainData(X, y, Xv, yv), cfg, stop


def test_early_stopping_fires_and_restored_weights_reproduce_best_val_loss():
    net, opt, sched, data, cfg, stop = _overfit_setup()
    events = run_all(net, opt, sched, data, cfg, stop)
    early = [e for e in events if isinstance(e, EarlyStop)]
    assert len(early) == 1
    es = early[0]
    assert es.best_epoch < es.stopped_epoch == es.best_epoch + 8
    hist = epochs_of(events)
    assert len(hist) == es.stopped_epoch
    best_val = hist[es.best_epoch - 1].val_loss
    assert best_val == min(e.val_loss for e in hist)
    assert es.best_value == best_val
    # The restored weights give exactly the best epoch's validation loss.
    assert net.loss(data.X_val, data.y_val) == pytest.approx(best_val, rel=1e-6)
    assert events[-1].status == "early_stopped"


def test_followup_retrain_runs_best_epochs_on_train_plus_val():
    net, opt, sched, data, cfg, stop = _overfit_setup(followup="retrain")
    events = run_all(net, opt, sched, data, cfg, stop)
    es = next(e for e in events if isinstance(e, EarlyStop))
    phase = next(e for e in events if isinstance(e, PhaseStarted))
    assert phase.phase == "retrain" and phase.target_epochs == es.best_epoch
    retrain = epochs_of(events, "retrain")
    assert [e.epoch for e in retrain] == list(range(1, es.best_epoch + 1))
    n_all = len(data.X_train) + len(data.X_val)
    assert retrain[0].samples - epochs_of(events)[-1].samples == n_all


def test_followup_continue_stops_when_train_loss_reaches_best_epoch_value():
    net, opt, sched, data, cfg, stop = _overfit_setup(followup="continue")
    events = run_all(net, opt, sched, data, cfg, stop)
    es = next(e for e in events if isinstance(e, EarlyStop))
    phase = next(e for e in events if isinstance(e, PhaseStarted))
    target = epochs_of(events)[es.best_epoch - 1].train_loss
    assert phase.phase == "continue" and phase.target_loss == target
    cont = epochs_of(events, "continue")
    assert cont and cont[-1].train_loss <= target
    assert all(e.train_loss > target for e in cont[:-1])


def test_live_settings_change_lr_and_l2_and_are_reported():
    net, opt, sched, data, cfg, _ = _setup(0, epochs=6, dropout=0.0, noise=0.0)
    live = LiveSettings()
    seen = []
    for event in train(net, opt, sched, data, cfg, None, live):
        seen.append(event)
        if isinstance(event, EpochEnd) and event.epoch == 2:
            live.set(lr=0.002, l2=0.5)
    changes = [e for e in seen if isinstance(e, SettingChanged)]
    assert {(c.name, c.epoch, c.new) for c in changes} == {("lr", 3, 0.002), ("l2", 3, 0.5)}
    lrs = [e.lr for e in epochs_of(seen)]
    assert lrs[:2] == [0.01, 0.01] and lrs[2:] == pytest.approx([0.002] * 4)
    with pytest.raises(ValueError, match="lr"):
        live.set(lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        live.set(momentum=0.5)


def test_plateau_and_restart_events():
    net, opt, _, data, cfg, _ = _setup(0, epochs=12, dropout=0.0, noise=0.0)
    sched = make_schedule("cosine", 0.01, 12, period=4, warm_restarts=True)
    events = run_all(net, opt, sched, data, cfg)
    restarts = [e.epoch for e in events if isinstance(e, LearningRateChanged) and e.kind == "restart"]
    assert restarts == [5, 9]
    net, opt, _, data, cfg, _ = _setup(0, epochs=30, dropout=0.0, noise=0.0, lr=0.05)
    sched = make_schedule("plateau", 0.05, 30, patience=0, factor=0.5, monitor="val_loss")
    events = run_all(net, opt, sched, data, cfg)
    drops = [e for e in events if isinstance(e, LearningRateChanged) and e.kind == "plateau"]
    assert drops, "a patience-0 plateau schedule must drop at least once in 30 epochs"
    first = drops[0]
    assert first.new_lr == pytest.approx(first.old_lr * 0.5)
    lr_after = next(e.lr for e in epochs_of(events) if e.epoch == first.epoch)
    assert lr_after == pytest.approx(first.new_lr)


def test_batch_events_count_steps():
    net, opt, sched, data, cfg, _ = _setup(0, epochs=2)
    events = run_all(net, opt, sched, data, cfg)
    batches = [e for e in events if isinstance(e, BatchEnd)]
    assert len(batches) == 2 * int(np.ceil(120 / 16))
    assert [b.step for b in batches] == list(range(1, len(batches) + 1))


def test_engine_imports_without_qt():
    code = (
        "import sys, workbench.engine.trainer, workbench.engine.network, workbench.engine.optimizers, "
        "workbench.engine.schedules, workbench.engine.stopping, workbench.engine.gradcheck\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'PyQt', 'pyqtgraph', 'workbench.spec', "
        "'workbench.data', 'pydantic'))]\n"
        "assert not bad, bad\nprint('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# -- trust fixes: live eta under warm-up and one-cycle, live decay 0 -> lambda, restore at
# the end, no plateau drop announced past the end, errors end the run as events

@pytest.mark.parametrize(
    "kind, params",
    [
        ("constant", dict(warmup_epochs=10, warmup_start_factor=0.1)),
        ("cosine", dict(warmup_epochs=10)),
        ("one_cycle", dict()),
        ("step", dict(step_size=3, gamma=0.5, warmup_epochs=2)),
    ],
)
def test_live_lr_change_scales_the_whole_schedule_by_new_over_old_eta(kind, params):
    """Doubling eta after epoch 3 doubles the rate of every later epoch (seed 003: the
    schedule multiplies the base rate eta); the reported old value is eta, not the rate."""
    epochs = 12
    net, opt, _, data, cfg, _ = _setup(0, epochs=epochs, dropout=0.0, noise=0.0)
    sched = make_schedule(kind, 0.1, epochs, **params)
    planned = sched.preview(epochs)
    live = LiveSettings()
    seen = []
    for event in train(net, opt, sched, data, cfg, None, live):
        seen.append(event)
        if isinstance(event, EpochEnd) and event.epoch == 3:
            live.set(lr=0.2)
    lrs = np.array([e.lr for e in epochs_of(seen)])
    np.testing.assert_allclose(lrs[:3], planned[:3], rtol=1e-12)
    np.testing.assert_allclose(lrs[3:], 2.0 * planned[3:], rtol=1e-12)
    change = next(e for e in seen if isinstance(e, SettingChanged))
    assert (change.name, change.epoch, change.old, change.new) == ("lr", 4, 0.1, 0.2)


@pytest.mark.parametrize("kind", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw"])
def test_switching_weight_decay_on_mid_run_works_for_every_optimizer(kind):
    net, _, sched, data, cfg, _ = _setup(0, epochs=4, dropout=0.0, noise=0.0)
    opt = make_optimizer(kind, net.n_params, decay_mask=net.weight_mask)  # created with lambda = 0
    live = LiveSettings()
    seen = []
    for event in train(net, opt, sched, data, cfg, None, live):
        seen.append(event)
        if isinstance(event, EpochEnd) and event.epoch == 2:
            live.set(weight_decay=0.5)
    assert seen[-1].status == "finished", seen[-1]
    assert any(isinstance(e, SettingChanged) and e.name == "weight_decay" and e.new == 0.5 for e in seen)
    assert opt.weight_decay == 0.5


def test_decay_switched_on_later_equals_decay_from_the_start_of_that_step():
    """w <- (1 - eta lambda) w before the update: the same numbers whether lambda was set
    at construction or switched on later."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=7)
    g = rng.normal(size=7)
    mask = np.array([True, True, False, True, False, True, True])
    a = make_optimizer("sgd", 7, weight_decay=0.3, decay_mask=mask, dtype=np.float64)
    b = make_optimizer("sgd", 7, decay_mask=mask, dtype=np.float64)
    b.weight_decay = 0.3
    wa, wb = w0.copy(), w0.copy()
    a.step(wa, g, 0.1)
    b.step(wb, g, 0.1)
    expected = np.where(mask, (1 - 0.1 * 0.3) * w0, w0) - 0.1 * g
    np.testing.assert_allclose(wa, expected, rtol=1e-15)
    np.testing.assert_array_equal(wa, wb)
    with pytest.raises(ValueError, match="weight_decay"):
        b.weight_decay = -1.0


def test_an_error_inside_a_run_ends_it_with_failed_not_an_exception():
    from workbench.engine.events import Failed

    net, opt, sched, data, cfg, _ = _setup(0, epochs=5, dropout=0.0, noise=0.0)
    calls = {"n": 0}
    original = opt.step

    def broken_step(params, grads, lr):
        calls["n"] += 1
        if calls["n"] == 20:
            raise RuntimeError("planted")
        original(params, grads, lr)

    opt.step = broken_step
    events = run_all(net, opt, sched, data, cfg)
    failed = [e for e in events if isinstance(e, Failed)]
    assert len(failed) == 1 and "RuntimeError: planted" in failed[0].reason
    assert failed[0].epoch == 3  # 8 steps per epoch: the 20th is in epoch 3
    assert isinstance(events[-1], Finished) and events[-1].status == "failed"
    assert events[-1].epochs_run == 2
    assert len(epochs_of(events)) == 2


def test_restore_best_weights_also_when_the_run_reaches_its_last_epoch():
    """Patience never runs out here (patience 1000), yet the user asked for the best
    weights: they are restored at the end and an EarlyStop(fired=False) says so."""
    net, opt, sched, data, cfg, stop = _overfit_setup(patience=1000)
    cfg.epochs = 60
    sched = make_schedule("constant", 0.01, 60)
    events = run_all(net, opt, sched, data, cfg, stop)
    early = [e for e in events if isinstance(e, EarlyStop)]
    assert len(early) == 1
    es = early[0]
    assert es.fired is False and es.restored is True and es.stopped_epoch == 60
    hist = epochs_of(events)
    assert len(hist) == 60 and es.best_epoch < 60
    best_val = hist[es.best_epoch - 1].val_loss
    assert net.loss(data.X_val, data.y_val) == pytest.approx(best_val, rel=1e-6)
    assert events[-1].status == "finished"
    assert events[-1].final_metrics["val_loss"] == pytest.approx(best_val, rel=1e-6)
    assert events.index(es) == len(events) - 2  # after the last epoch, before Finished


def test_without_restore_the_last_weights_stay_and_the_best_epoch_is_still_reported():
    net, opt, sched, data, cfg, stop = _overfit_setup(restore=False, patience=1000)
    cfg.epochs = 30
    sched = make_schedule("constant", 0.01, 30)
    events = run_all(net, opt, sched, data, cfg, stop)
    es = next(e for e in events if isinstance(e, EarlyStop))
    assert es.fired is False and es.restored is False
    assert net.loss(data.X_val, data.y_val) == pytest.approx(epochs_of(events)[-1].val_loss, rel=1e-6)


def test_no_plateau_drop_is_announced_for_an_epoch_after_the_last():
    """A zero network on zero targets never improves after epoch 1, so a patience-0
    plateau schedule drops after every epoch -- including the last, whose drop would
    take effect in an epoch that never comes."""
    net = Network(2, [LayerConfig(4, "tanh", init="zeros")], 1, "regression", output_init="zeros")
    X = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    y = np.zeros((32, 1), np.float32)
    opt = make_optimizer("sgd", net.n_params)
    sched = make_schedule("plateau", 1.0, 10, patience=0, factor=0.5, monitor="train_loss")
    cfg = TrainConfig(epochs=10, batch_size=8, plateau_monitor="train_loss")
    events = run_all(net, opt, sched, TrainData(X, y), cfg)
    drops = [e.epoch for e in events if isinstance(e, LearningRateChanged)]
    assert drops == list(range(3, 11))
