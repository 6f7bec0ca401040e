"""workbench.compare: seed bands, paired differences with t-intervals, the t quantile,
readings at the best epoch and CSV export -- against hand-computed numbers, closed forms,
hard-coded reference values and independent NumPy computations."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from workbench import spec as S
from workbench.compare import (
    best_epoch,
    band,
    history_csv,
    mean_std,
    paired_difference,
    reading,
    t_quantile,
    table_csv,
)

# ---------------------------------------------------------------------------
# t quantile

# t_{p}(df).  The values the brief quoted from scipy agree with these to 1e-15 except two:
# t_0.995(3) was quoted as 5.84090929975643 (1.7e-9 off: the closed-form CDF of df = 3,
# 1/2 + (s/(1+s^2) + atan s)/pi with s = t/sqrt(3), is 0.995 at 5.840909309733355, checked
# at 40 digits) and t_0.95(10) as 1.8124611228107335 (5e-13 off; the closed form of even
# df confirms 1.8124611228116759).  Every value here was computed with mpmath 1.3.0 at 50
# digits by bisection on 1/2 I_{df/(df+t^2)}(df/2, 1/2) = 1 - p (the p's exact binary values).
T_REFERENCE = [
    (0.975, 1, 12.706204736174693),
    (0.975, 2, 4.3026527297494618),
    (0.975, 3, 3.1824463052837084),
    (0.975, 4, 2.7764451051977935),
    (0.975, 5, 2.5705818356363148),
    (0.975, 6, 2.4469118511449693),
    (0.975, 7, 2.3646242515927847),
    (0.975, 9, 2.2621571627982050),
    (0.975, 10, 2.2281388519862742),
    (0.975, 30, 2.0422724563012379),
    (0.975, 1000, 1.9623390808264081),
    (0.975, 1e5, 1.9599877075346093),
    (0.975, 1e9, 1.9599639869123251),
    (0.95, 2, 2.9199855803537242),
    (0.95, 7, 1.8945786050900068),
    (0.95, 10, 1.8124611228116759),
    (0.995, 3, 5.8409093097333554),
    (0.999, 100, 3.1737394937387827),
    (0.9, 1.5, 2.1963984175655378),
    (0.99, 2.5, 5.3531111730308723),
    (0.8, 12.75, 0.87072871038015087),
    (0.6, 7, 0.26316686135202275),
    (0.5000001, 9, 2.5770877222914438e-7),
    (0.9999999, 3, 222.57159098625124),
    (1 - 1e-12, 1, 318316927901.77965),
    (1e-30, 2.5, -876543788227.99917),
    (1e-200, 1, -3.1830988618379068e199),
    (1e-300, 3, -1.0331108360446529e100),
    (0.3, 4.2, -0.56643833257142925),
]


@pytest.mark.parametrize("p, df, expected", T_REFERENCE)
def test_t_quantile_matches_reference_values(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize("p", [0.001, 0.02, 0.2, 0.4, 0.49, 0.51, 0.75, 0.9, 0.975, 0.999])
def test_t_quantile_matches_closed_forms(p):
    # df = 1 (Cauchy): tan(pi (p - 1/2)); df = 2: (2p - 1) / sqrt(2 p (1 - p));
    # df = 4: 2 sqrt(q - 1) sign(p - 1/2) with q = cos(arccos(sqrt(a)) / 3) / sqrt(a), a = 4p(1-p)
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-13)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-13)
    a = 4 * p * (1 - p)
    q = math.cos(math.acos(math.sqrt(a)) / 3) / math.sqrt(a)
    assert t_quantile(p, 4) == pytest.approx(math.copysign(2 * math.sqrt(q - 1), p - 0.5), rel=1e-12)


@pytest.mark.parametrize("t", [-30.0, -4.0, -1.0, -0.3, 0.01, 0.5, 2.0, 7.5])
def test_t_quantile_inverts_the_closed_form_cdf_of_three_degrees_of_freedom(t):
    s = t / math.sqrt(3)
    p = 0.5 + (s / (1 + s * s) + math.atan(s)) / math.pi
    assert t_quantile(p, 3) == pytest.approx(t, rel=1e-12)


@pytest.mark.parametrize("df", [1, 1.5, 3, 29, 1000, 1e8])
@pytest.mark.parametrize("high", [1 - 1e-10, 0.99, 0.7, 0.55])
def test_t_quantile_is_symmetric_and_increasing(high, df):
    p = 1 - high  # exact: the pair (p, 1 - p) in floating point
    assert t_quantile(high, df) == -t_quantile(p, df)
    assert t_quantile(p, df) < t_quantile(p * 1.01, df) < 0
    assert t_quantile(0.5, df) == 0.0


def test_t_quantile_tends_to_the_normal_quantile():
    z975 = 1.959963984540054  # the standard normal 97.5 % point
    assert t_quantile(0.975, 1e15) == pytest.approx(z975, rel=1e-14)
    assert t_quantile(0.975, 1e12) == pytest.approx(z975 + (z975 ** 3 + z975) / 4e12, rel=1e-14)


@pytest.mark.parametrize("p, df", [(0.0, 3), (1.0, 3), (math.nan, 3), (-0.1, 3), (0.5, 0.5), (0.5, 0),
                                   (0.9, math.inf), (0.9, math.nan)])
def test_t_quantile_refuses_what_has_no_quantile(p, df):
    with pytest.raises(ValueError, match="p: |df: "):
        t_quantile(p, df)


# ---------------------------------------------------------------------------
# Bands


def test_band_by_hand_aligns_by_epoch_and_skips_holes():
    a = {"epoch": (1.0, 2.0, 3.0), "val_loss": (1.0, 2.0, 4.0)}
    b = {"epoch": (1.0, 2.0), "val_loss": (3.0, None)}
    c = {"epoch": (1.0, 2.0, 3.0, 4.0), "val_loss": (5.0, math.nan, None, math.nan)}
    got = band([a, b, c], "val_loss")
    assert got.epochs.tolist() == [1.0, 2.0, 3.0]  # epoch 4: no member has a value
    assert got.n.tolist() == [3, 1, 1]
    assert got.mean.tolist() == [3.0, 2.0, 4.0]
    assert got.std[0] == 2.0  # (1, 3, 5): sum of squares 8 / (3 - 1) = 4
    assert np.isnan(got.std[1:]).all()


def test_band_equals_numpy_mean_and_sample_std_on_random_histories():
    rng = np.random.default_rng(7)
    histories = []
    for _ in range(9):
        length = int(rng.integers(1, 40))  # early stopping: unequal lengths
        values = rng.normal(1.0, 0.5, length).tolist()
        for i in rng.choice(length, size=length // 5, replace=False):
            values[i] = None if rng.random() < 0.5 else math.nan
        histories.append({"epoch": tuple(float(e) for e in range(1, length + 1)), "train_loss": tuple(values)})
    got = band(histories, "train_loss")

    expected = {}
    for h in histories:
        for e, v in zip(h["epoch"], h["train_loss"]):
            if v is not None and math.isfinite(v):
                expected.setdefault(e, []).append(v)
    assert got.epochs.tolist() == sorted(expected)
    for k, e in enumerate(got.epochs):
        xs = np.array(expected[e])
        assert got.n[k] == len(xs)
        assert got.mean[k] == pytest.approx(np.mean(xs), rel=1e-13)
        if len(xs) >= 2:
            assert got.std[k] == pytest.approx(np.std(xs, ddof=1), rel=1e-12)
        else:
            assert np.isnan(got.std[k])
    assert got.mean.dtype == np.float64 and got.n.dtype.kind == "i"


def test_band_of_a_missing_column_is_empty_and_duplicate_epochs_are_refused():
    got = band([{"epoch": (1.0, 2.0), "train_loss": (0.5, 0.4)}], "val_accuracy")
    assert len(got.epochs) == len(got.mean) == len(got.std) == len(got.n) == 0
    with pytest.raises(ValueError, match="epoch number appears twice"):
        band([{"epoch": (1.0, 1.0), "train_loss": (0.5, 0.4)}], "train_loss")


def test_mean_std_of_scalars():
    assert mean_std([1.0, None, 3.0, math.nan, 5.0]) == (3.0, 2.0, 3)
    mean, std, n = mean_std([0.25])
    assert (mean, n) == (0.25, 1) and math.isnan(std)
    mean, std, n = mean_std([])
    assert n == 0 and math.isnan(mean) and math.isnan(std)


# ---------------------------------------------------------------------------
# Paired differences


def _hist(values, start=1):
    return {"epoch": tuple(float(e) for e in range(start, start + len(values))), "val_loss": tuple(values)}


def test_paired_difference_by_hand():
    a = {0: _hist([1.0, 1.0]), 1: _hist([2.0, 2.0]), 2: _hist([3.0, None]), 7: _hist([9.0, 9.0])}
    b = {0: _hist([2.0, 1.5]), 1: _hist([4.0, 2.0]), 2: _hist([3.0, 0.0]), 5: _hist([0.0, 0.0])}
    got = paired_difference(a, b, "val_loss")
    # epoch 1: d = (1, 2, 0): mean 1, s = 1, half width t_{2, 0.975} / sqrt(3)
    # epoch 2: d = (0.5, 0) (seed 2 has no value in A): mean 0.25, s = sqrt(0.125), t_{1, 0.975} s / sqrt(2)
    assert got.epochs.tolist() == [1.0, 2.0] and got.n.tolist() == [3, 2]
    assert got.mean.tolist() == [1.0, 0.25]
    half1 = 4.302652729749462 / math.sqrt(3)
    half2 = 12.706204736174693 * math.sqrt(0.125) / math.sqrt(2)
    assert got.low == pytest.approx([1 - half1, 0.25 - half2], rel=1e-12)
    assert got.high == pytest.approx([1 + half1, 0.25 + half2], rel=1e-12)
    assert got.confidence == 0.95


def test_paired_difference_equals_an_independent_t_interval():
    rng = np.random.default_rng(3)
    base = {s: rng.normal(0.5, 0.1, 30) for s in range(12)}
    a = {s: _hist(base[s].tolist()) for s in range(10)}  # seeds 0-9
    b = {s: _hist((base[s] - 0.05 + rng.normal(0, 0.02, 30)).tolist()) for s in range(2, 12)}  # seeds 2-11
    got = paired_difference(a, b, "val_loss", confidence=0.9)
    d = np.array([np.array(b[s]["val_loss"]) - np.array(a[s]["val_loss"]) for s in range(2, 10)])  # 8 shared seeds
    half = 1.8945786050900068 * d.std(axis=0, ddof=1) / math.sqrt(8)  # t_{7, 0.95}
    assert (got.n == 8).all()
    np.testing.assert_allclose(got.mean, d.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got.low, d.mean(axis=0) - half, rtol=1e-11)
    np.testing.assert_allclose(got.high, d.mean(axis=0) + half, rtol=1e-11)
    assert (got.high < 0).all()  # B is lower than A: the interval says so


def test_paired_difference_with_one_pair_has_no_interval_and_no_shared_seed_is_an_error():
    got = paired_difference({3: _hist([1.0])}, {3: _hist([1.5])}, "val_loss")
    assert got.mean.tolist() == [0.5] and got.n.tolist() == [1]
    assert np.isnan(got.low).all() and np.isnan(got.high).all()
    with pytest.raises(ValueError, match=r"share no seed \(A has seeds 0, 1; B has 2\)"):
        paired_difference({0: _hist([1.0]), 1: _hist([1.0])}, {2: _hist([1.0])}, "val_loss")
    with pytest.raises(ValueError, match="confidence"):
        paired_difference({0: _hist([1.0])}, {0: _hist([1.0])}, "val_loss", confidence=1.0)


# ---------------------------------------------------------------------------
# Readings


def _result(early_stop=None, val=(0.9, 0.5, 0.7, None)):
    history = {"epoch": tuple(float(e) for e in range(1, len(val) + 1)), "train_loss": (1.0, 0.8, 0.6, 0.5),
               "val_loss": val}
    return S.RunResult(history=history, early_stop=early_stop)


def _stop(best, restored=True):
    return S.EarlyStopSummary(monitor="val_loss", best_epoch=best, stopped_epoch=4, best_value=0.5, restored=restored)


def test_reading_at_the_best_epoch_and_at_the_last():
    stopped = _result(_stop(2))
    assert best_epoch(stopped) == 2
    assert reading(stopped, "val_loss") == 0.5 and reading(stopped, "train_loss", at="best") == 0.8
    assert reading(stopped, "val_loss", at="last") == 0.7  # the last finite value
    assert reading(stopped, "train_loss", at="last") == 0.5

    plain = _result()
    assert best_epoch(plain) is None
    assert reading(plain, "train_loss") == 0.5  # no early stopping: the last epoch's
    assert reading(plain, "val_loss") is None  # ... which has no value
    assert reading(plain, "val_accuracy") is None and reading(plain, "val_accuracy", at="last") is None

    never = _result(_stop(0, restored=False))  # the monitor was never finite: no best epoch
    assert best_epoch(never) is None and reading(never, "train_loss") == 0.5
    with pytest.raises(ValueError, match="at: must be"):
        reading(plain, "val_loss", at="first")


# ---------------------------------------------------------------------------
# CSV


def test_history_csv_round_trips_every_float_exactly():
    awkward = (0.1 + 0.2, 1e-300, 123456789.12345679, None)
    history = {"val_loss": (0.5, math.nan, 0.25, 0.125), "epoch": (1.0, 2.0, 3.0, 4.0),
               "train_loss": awkward, "lr": (0.01, 0.01, 0.005, 0.005)}
    rows = list(csv.reader(io.StringIO(history_csv(history))))
    assert rows[0] == ["epoch", "train_loss", "val_loss", "lr"]  # HISTORY_COLUMNS order
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    assert rows[2][2] == "" and rows[4][1] == ""  # NaN and None: empty cells
    for r, loss in zip(rows[1:], awkward):
        assert (float(r[1]) if r[1] else None) == loss
    assert float(rows[1][1]) == 0.30000000000000004


def test_table_csv_quotes_formulas_and_keeps_numbers():
    header = ["name", "=cmd", "val loss"]
    rows = [
        ["=HYPERLINK(\"http://x\")", 0.5, None],
        ["+1", -0.25, math.nan],
        ["-2", np.float32(0.5), 3],
        ["@SUM(A1)", np.int64(7), True],
        ["\tx", 1e-7, "plain, with \"quotes\""],
        ["\rx", 0, "SGD \u2192 momentum 0.9"],
    ]
    back = list(csv.reader(io.StringIO(table_csv(header, rows))))
    assert back[0] == ["name", "'=cmd", "val loss"]
    assert [r[0] for r in back[1:]] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx"]
    assert [r[1] for r in back[1:]] == ["0.5", "-0.25", "0.5", "7", "1e-07", "0"]  # numbers stay numbers
    assert [r[2] for r in back[1:]] == ["", "", "3", "yes", "plain, with \"quotes\"", "SGD \u2192 momentum 0.9"]
