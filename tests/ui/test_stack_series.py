"""A group's band: StackSeries' mean and std per epoch equal numpy's over the members that
have a value, and compare.band's; only new epochs are recomputed."""

import numpy as np
import pytest

from workbench import compare
from workbench.ui.plots.stack_series import MAX_POINTS, StackSeries, stride_for


def _histories(rng, n_members=5):
    out = []
    for m in range(n_members):
        n = int(rng.integers(3, 40))  # members stop at different epochs
        loss = rng.normal(1.0, 0.3, n)
        loss[rng.random(n) < 0.1] = np.nan  # holes
        out.append({"epoch": tuple(float(e) for e in range(1, n + 1)), "val_loss": tuple(loss)})
    return out


def test_mean_and_sample_std_per_epoch_equal_numpy_and_compare_band():
    rng = np.random.default_rng(3)
    hists = _histories(rng)
    s = StackSeries(len(hists), ("val_loss",))
    for m, h in enumerate(hists):
        s.add(m, h["epoch"], {"val_loss": h["val_loss"]})
    mean, std, count = s.stats("val_loss")
    for e in range(1, s.n + 1):
        values = np.array([h["val_loss"][e - 1] for h in hists if len(h["epoch"]) >= e])
        values = values[np.isfinite(values)]
        assert count[e - 1] == values.size
        if values.size:
            assert mean[e - 1] == pytest.approx(np.mean(values), rel=1e-12)
        if values.size >= 2:
            assert std[e - 1] == pytest.approx(np.std(values, ddof=1), rel=1e-12)
        else:
            assert np.isnan(std[e - 1])
    band = compare.band(hists, "val_loss")
    keep = count > 0
    np.testing.assert_allclose(band.epochs, s.epochs()[keep])
    np.testing.assert_allclose(band.mean, mean[keep], rtol=1e-12)
    np.testing.assert_allclose(band.std, std[keep], rtol=1e-12, equal_nan=True)


def test_live_epochs_update_only_what_changed_and_agree_with_a_fresh_computation():
    rng = np.random.default_rng(5)
    live = StackSeries(3, ("train_loss",), capacity=2)  # grows by doubling
    values = rng.normal(size=(3, 50))
    for e in range(1, 51):
        for m in range(3):
            live.add(m, [e], {"train_loss": [values[m, e - 1]]})
        if e % 7 == 0:
            live.stats("train_loss")  # partial recomputation along the way
    mean, std, _n = live.stats("train_loss")
    np.testing.assert_allclose(mean, values.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, values.std(axis=0, ddof=1), rtol=1e-12)


def test_a_long_history_keeps_every_kth_epoch_within_max_points():
    n = 10 * MAX_POINTS + 3
    k = stride_for(n)
    assert k == 11 and -(-n // k) <= MAX_POINTS
    s = StackSeries(1, ("lr",), stride=k)
    epochs = np.arange(1, n + 1, dtype=float)
    s.add(0, epochs, {"lr": epochs * 2.0})
    assert s.n <= MAX_POINTS
    np.testing.assert_array_equal(s.epochs(), epochs[::k])
    np.testing.assert_array_equal(s.stats("lr")[0], epochs[::k] * 2.0)


def test_epochs_are_one_based():
    with pytest.raises(ValueError):
        StackSeries(1, ("lr",)).add(0, [0], {"lr": [1.0]})
