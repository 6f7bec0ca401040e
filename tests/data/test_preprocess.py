"""Splits (seeded, stratified within one sample) and scaling fitted on the training split only."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.data import DataError, fit_scaler, split, split_indices
from workbench.data.preprocess import stratified_counts


def labels(sizes):
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def check_partition(idx, n):
    allidx = np.concatenate([idx.train, idx.val, idx.test])
    assert sorted(allidx.tolist()) == list(range(n))  # disjoint and complete


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(st.integers(2, 60), min_size=2, max_size=10),
    fv=st.floats(0.0, 0.9),
    ft=st.floats(0.0, 0.9),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_split_keeps_every_class_within_one_sample(sizes, fv, ft, seed):
    if fv + ft > 0.9:
        ft = 0.9 - fv
    y = labels(sizes)
    rng = np.random.default_rng(0)
    y = y[rng.permutation(len(y))]
    idx = split_indices(y, fv, ft, stratify=True, seed=seed)
    check_partition(idx, len(y))
    for c, n_c in enumerate(sizes):
        v = int((y[idx.val] == c).sum())
        t = int((y[idx.test] == c).sum())
        r = int((y[idx.train] == c).sum())
        assert abs(v - n_c * fv) <= 1 + 1e-9, (c, n_c, v, fv)
        assert abs(t - n_c * ft) <= 1 + 1e-9, (c, n_c, t, ft)
        assert abs(r - n_c * (1 - fv - ft)) <= 1 + 1e-9, (c, n_c, r)
        assert r >= 1


def test_stratified_totals_and_exact_proportions_on_iris_like_classes():
    y = labels([50, 50, 50])
    idx = split_indices(y, 0.2, 0.2, stratify=True, seed=0)
    assert (len(idx.train), len(idx.val), len(idx.test)) == (90, 30, 30)
    for part in (idx.val, idx.test):
        assert np.bincount(y[part]).tolist() == [10, 10, 10]
    # unequal classes: 357/212 at 0.2 -> 71.4 and 42.4, total round(113.8) = 114
    v, t = stratified_counts([357, 212], 0.2, 0.0)
    assert v.tolist() == [72, 42] or v.tolist() == [71, 43]
    assert int(v.sum()) == 114 and t.tolist() == [0, 0]


def test_split_is_seeded():
    y = labels([30, 20, 10])
    a = split_indices(y, 0.3, 0.1, True, seed=5)
    b = split_indices(y, 0.3, 0.1, True, seed=5)
    c = split_indices(y, 0.3, 0.1, True, seed=6)
    for p, q in zip(a, b):
        assert np.array_equal(p, q)
    assert not np.array_equal(a.val, c.val)


def test_unstratified_and_regression_splits():
    y = np.linspace(0, 1, 101, dtype=np.float32).reshape(-1, 1)
    idx = split_indices(y, 0.25, 0.1, stratify=True, seed=1)  # stratify ignored for regression
    check_partition(idx, 101)
    assert (len(idx.val), len(idx.test), len(idx.train)) == (25, 10, 66)
    X = np.arange(202, dtype=np.float32).reshape(101, 2)
    s = split(X, y, 0.25, 0.1, True, 1)
    assert np.array_equal(s.X_val, X[idx.val]) and np.array_equal(s.y_test, y[idx.test])


def test_empty_splits_keep_their_columns():
    X = np.ones((10, 3), dtype=np.float32)
    y = labels([5, 5])
    s = split(X, y, 0.0, 0.0, True, 0)
    assert s.X_val.shape == (0, 3) and s.y_val.shape == (0,) and s.X_test.shape == (0, 3)
    assert s.X_train.shape == (10, 3)


def test_stratify_needs_two_per_class():
    with pytest.raises(DataError, match=r"data.stratify: class 2 has only 1 sample"):
        split_indices(np.array([0, 0, 1, 1, 2]), 0.2, 0.0, True, 0)
    idx = split_indices(np.array([0, 0, 1, 1, 2]), 0.2, 0.0, False, 0)
    check_partition(idx, 5)


def test_tiny_sets_keep_a_training_sample_per_class():
    y = labels([2, 2])
    idx = split_indices(y, 0.45, 0.45, True, 0)
    assert sorted(np.bincount(y[idx.train], minlength=2).tolist()) == [1, 1]


def test_bad_fractions():
    with pytest.raises(DataError, match="data.val_fraction"):
        split_indices(labels([5, 5]), 1.5, 0.0)
    with pytest.raises(DataError, match=r"must be <= 0.9"):
        split_indices(labels([5, 5]), 0.6, 0.6)


# --- scaling -----------------------------------------------------------------------------------
def test_standard_scaler_formula():
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]], dtype=np.float32)
    s = fit_scaler(X, "standard")
    assert s.offset.tolist() == [3.0, 10.0]
    assert s.scale[0] == pytest.approx(math.sqrt(8 / 3)) and s.scale[1] == 1.0  # constant column -> 1
    assert s.constant == (1,)
    Z = s.transform(X)
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    assert Z[:, 1].tolist() == [0.0, 0.0, 0.0]
    assert np.allclose(Z[:, 0], np.array([-2, 0, 2]) / math.sqrt(8 / 3))
    assert np.allclose(s.inverse_transform(Z), X)


def test_minmax_and_none():
    X = np.array([[1.0, -2.0], [3.0, 6.0], [2.0, 2.0]])
    Z = fit_scaler(X, "minmax").transform(X)
    assert Z.min(axis=0).tolist() == [0.0, 0.0] and Z.max(axis=0).tolist() == [1.0, 1.0]
    assert Z[2].tolist() == [0.5, 0.5]
    n = fit_scaler(X, "none")
    assert np.array_equal(n.transform(X), X.astype(np.float32))
    with pytest.raises(DataError, match="data.scaling"):
        fit_scaler(X, "robust")
