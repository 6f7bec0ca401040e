"""Early stopping: patience, min_delta, start_epoch, max mode, best weights, NaN."""

import numpy as np
import pytest

from workbench.engine.stopping import EarlyStopping, resolve_mode


def feed(es, values, params=None):
    """Feed 1-based epochs; the params of epoch k are filled with k. Returns the epoch
    at which update() first said stop (None if never)."""
    params = np.zeros(4, np.float32) if params is None else params
    for epoch, v in enumerate(values, start=1):
        params.fill(epoch)
        if es.update(epoch, v, params):
            return epoch
    return None


def test_patience_counts_consecutive_non_improving_epochs():
    es = EarlyStopping(patience=3)
    # improvements at epochs 1, 2, 5 (3.9); epochs 3-4 are two bad epochs (reset at 5);
    # 6, 7, 8 do not improve -> stop after epoch 8 (epoch 9 would have improved)
    stop = feed(es, [5, 4, 4.5, 4.2, 3.9, 4, 3.9, 4, 1.0])
    assert stop == 8
    assert es.stopped_epoch == 8
    assert es.best_epoch == 5
    assert es.best_value == 3.9
    assert es.wait == 3
    np.testing.assert_array_equal(es.best_params, np.full(4, 5.0, np.float32))


def test_patience_zero_stops_at_first_non_improvement():
    es = EarlyStopping(patience=0)
    assert feed(es, [3, 2, 2]) == 3
    assert es.best_epoch == 2


def test_min_delta():
    es = EarlyStopping(patience=2, min_delta=0.5)
    # best 5 (e1); 4.6 is not < 4.5 -> wait 1; 4.4 < 4.5 -> best (e3); 4.0 not < 3.9 -> wait 1;
    # 3.95 not < 3.9 -> wait 2 -> stop at epoch 5
    assert feed(es, [5, 4.6, 4.4, 4.0, 3.95]) == 5
    assert (es.best_epoch, es.best_value) == (3, 4.4)


def test_start_epoch_ignores_earlier_epochs_entirely():
    es = EarlyStopping(patience=2, start_epoch=3)
    # epochs 1-2 (values 0.1, 0.2) are ignored: not best, no patience; epoch 3 is the first best
    stop = feed(es, [0.1, 0.2, 1.0, 1.1, 0.9, 1.0, 1.0])
    assert es.best_epoch == 5 and es.best_value == 0.9
    assert stop == 7
    es = EarlyStopping(patience=1, start_epoch=4)
    assert feed(es, [1, 2, 3]) is None  # nothing counted yet
    assert es.best_epoch == 0 and es.best_value is None and es.wait == 0
    assert es.update(4, 3.5, np.zeros(4, np.float32)) is False
    assert es.best_epoch == 4


def test_max_mode_and_auto():
    assert resolve_mode("val_accuracy") == "max"
    assert resolve_mode("val_r2") == "max"
    assert resolve_mode("val_loss") == "min"
    assert resolve_mode("val_rmse") == "min"
    assert resolve_mode("val_accuracy", "min") == "min"
    es = EarlyStopping(monitor="val_accuracy", patience=2)
    assert es.mode == "max"
    assert feed(es, [0.5, 0.6, 0.6, 0.55]) == 4
    assert (es.best_epoch, es.best_value) == (2, 0.6)
    es = EarlyStopping(monitor="val_r2", mode="max", patience=5, min_delta=0.05)
    feed(es, [0.1, 0.14, 0.16])
    assert es.best_epoch == 3 and es.wait == 0  # 0.14 is not > 0.15; 0.16 is


def test_best_params_copied_into_one_buffer_and_restored():
    es = EarlyStopping(patience=5)
    p = np.array([1.0, 2.0, 3.0], np.float32)
    es.update(1, 1.0, p)
    buf = es.best_params
    assert buf is not p
    p += 10  # training goes on; the copy must not follow
    np.testing.assert_array_equal(es.best_params, [1, 2, 3])
    es.update(2, 2.0, p)  # worse: no copy
    np.testing.assert_array_equal(es.best_params, [1, 2, 3])
    es.update(3, 0.5, p)  # better: copied into the same buffer
    assert es.best_params is buf
    np.testing.assert_array_equal(buf, [11, 12, 13])
    p[:] = -1
    assert es.restore(p) is True
    np.testing.assert_array_equal(p, [11, 12, 13])
    # restore_best=False leaves the parameters alone
    es2 = EarlyStopping(restore_best=False)
    es2.update(1, 1.0, np.ones(3, np.float32))
    q = np.zeros(3, np.float32)
    assert es2.restore(q) is False
    assert not q.any()
    # nothing to restore before any best epoch
    assert EarlyStopping().restore(q) is False


def test_nan_never_improves():
    es = EarlyStopping(patience=2)
    nan = float("nan")
    assert es.update(1, nan, np.zeros(2)) is False
    assert es.best_value is None and es.best_epoch == 0 and es.wait == 1
    assert es.update(2, 3.0, np.zeros(2)) is False  # first finite value is the best
    assert es.best_epoch == 2
    assert es.update(3, nan, np.zeros(2)) is False
    assert es.update(4, nan, np.zeros(2)) is True
    assert es.stopped_epoch == 4 and es.best_value == 3.0
    es = EarlyStopping(monitor="val_accuracy", patience=1)
    es.update(1, 0.5, np.zeros(2))
    assert es.update(2, nan, np.zeros(2)) is True  # NaN is not > 0.5 either


def test_reset_and_validation():
    es = EarlyStopping(patience=1)
    feed(es, [1, 2, 3])
    es.reset()
    assert (es.best_epoch, es.best_value, es.stopped_epoch, es.wait) == (0, None, 0, 0)
    with pytest.raises(ValueError, match="mode: must be one of auto, min, max, got 'up'"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience: must be an integer >= 0, got -1"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="min_delta: must be >= 0"):
        EarlyStopping(min_delta=-0.1)
    with pytest.raises(ValueError, match="start_epoch: must be an integer >= 0"):
        EarlyStopping(start_epoch=-2)
