"""BatchSeries keeps at most MAX_BATCH_POINTS per-batch losses (NumPy only, no Qt)."""

import numpy as np
import pytest

from workbench.ui.plots import series
from workbench.ui.plots.series import BatchSeries, ema_block


def feed(s: BatchSeries, epochs: int, per_epoch: int, chunk: int, losses: np.ndarray) -> None:
    """Batches 1..per_epoch of each epoch, ``chunk`` at a time, the epochs finished as the
    curves panel finishes them (when the next epoch's first batches arrive)."""
    ep = np.repeat(np.arange(1, epochs + 1), per_epoch).astype(float)
    pos = np.tile(np.arange(1, per_epoch + 1), epochs).astype(float)
    for start in range(0, len(ep), chunk):
        sl = slice(start, start + chunk)
        s.add(ep[sl], pos[sl], losses[sl])
        done = int(ep[sl][-1]) - 1
        if done >= 1:
            s.finish_epochs(done)
    s.finish_epochs(epochs)


@pytest.mark.parametrize("chunk", [7, 20, 64])
def test_batch_series_thins_past_its_limit_and_keeps_exact_points(monkeypatch, chunk):
    monkeypatch.setattr(series, "MAX_BATCH_POINTS", 50)
    epochs, per_epoch = 12, 20  # 240 batches: halved to 120 / 60 / 30 ... kept under 50
    rng = np.random.default_rng(3)
    losses = rng.random(epochs * per_epoch) + 0.5
    s = BatchSeries(smoothing=0.9)
    feed(s, epochs, per_epoch, chunk, losses)
    assert s.stride == 8 and s.n <= 50
    kept = np.arange(0, epochs * per_epoch, s.stride)  # global batch indices kept
    assert s.n == len(kept)
    ep, pos = kept // per_epoch + 1, kept % per_epoch + 1
    # each kept batch sits at its exact fractional epoch (the epoch's true batch count,
    # not the largest position kept)
    np.testing.assert_allclose(s.view("x"), ep - 1 + pos / per_epoch, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(s.view("loss"), losses[kept])
    # the moving average was taken over every batch
    _, ema = ema_block(losses, 0.9, 0.0, 0)
    np.testing.assert_allclose(s.view("ema"), ema[kept], rtol=1e-12)


def test_batch_series_under_its_limit_keeps_every_batch():
    losses = np.linspace(2.0, 1.0, 60)
    s = BatchSeries(smoothing=0.5)
    feed(s, 3, 20, 9, losses)
    assert s.stride == 1 and s.n == 60
    np.testing.assert_array_equal(s.view("loss"), losses)
    np.testing.assert_allclose(s.view("x"), np.arange(1, 61) / 20, atol=1e-12)


def test_the_limit_holds_for_a_long_run(monkeypatch):
    """Memory stays bounded: ~10x the limit in batches, never more than the limit kept."""
    monkeypatch.setattr(series, "MAX_BATCH_POINTS", 1000)
    s = BatchSeries()
    for e in range(1, 101):
        s.add(np.full(100, float(e)), np.arange(1.0, 101.0), np.ones(100))
        assert s.n <= 1000
    assert s.stride == 16 and s.n == len(range(0, 10_000, 16))
