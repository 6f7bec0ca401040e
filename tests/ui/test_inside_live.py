"""LiveDiagnostics (the Inside dock's source in the worker), without a window."""

from types import SimpleNamespace

import numpy as np

from workbench.engine.network import LayerConfig, Network
from workbench.ui.inside.live import LiveDiagnostics


def _net_and_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    net = Network(2, [LayerConfig(10, "relu", dropout=0.4), LayerConfig(6, "tanh")], 1, "binary", seed=1,
                  input_dropout=0.25)
    return net, SimpleNamespace(X_train=X, y_train=y), X, y


def test_the_diagram_shows_the_units_the_last_step_dropped_for_its_first_sample():
    net, data, X, y = _net_and_data()
    live = LiveDiagnostics(net, data, None, seed=0)
    rng = np.random.default_rng(7)
    for start in (0, 10, 20):  # three steps; the last one's masks are shown
        net.loss_and_grad(X[start:start + 10], y[start:start + 10], rng=rng)
        live.step_done()
    expected = [None if m is None else m[0] == 0 for m in net.last_masks]
    net.loss(X, y)  # evaluation between the step and the snapshot changes nothing
    snap = next(p for p in live.epoch_done(1, force=True) if hasattr(p, "dropped"))
    assert snap.dropped[2] is None
    for k in (0, 1):
        np.testing.assert_array_equal(snap.dropped[k], expected[k])
    assert 0 < snap.dropped[1].sum() < 10
    # paused right after: nothing new for an epoch already drawn
    assert live.epoch_done(1, force=True, only_new=True) == []
    # the final model drops nothing
    final = next(p for p in live.finish(1) if hasattr(p, "dropped"))
    assert final.dropped is None


def test_no_dropout_step_means_nothing_dropped():
    net, data, X, y = _net_and_data()
    live = LiveDiagnostics(net, data, None, seed=0)
    net.loss_and_grad(X[:10], y[:10])  # no rng: no dropout
    live.step_done()
    snap = next(p for p in live.epoch_done(1, force=True) if hasattr(p, "dropped"))
    assert snap.dropped is None
