"""Synthetic generators: shapes, dtypes, balance, determinism and the formulas themselves."""

import math

import numpy as np
import pytest

from workbench.data import DERIVED_FEATURES, GENERATORS, DataError, add_derived_features, generate
from workbench.data.synthetic import (
    GAUSSIAN_AMPLITUDES,
    GAUSSIAN_CENTRES,
    GAUSSIAN_WIDTH,
    INPUT_RADIUS,
    class_counts,
)

R = INPUT_RADIUS
CLASSIFIERS = [n for n, g in GENERATORS.items() if g.task == "classification"]
REGRESSORS = [n for n, g in GENERATORS.items() if g.task == "regression"]


def test_registry_lists_every_generator_of_the_brief():
    assert set(GENERATORS) == {
        "xor", "xor4", "circles", "moons", "two_spirals", "three_spirals", "blobs", "checkerboard",
        "sine_1d", "poly_1d", "plane_2d", "gaussians_2d",
    }
    for g in GENERATORS.values():
        assert g.task in ("classification", "regression")
        assert len(g.description) > 20 and callable(g.function)


@pytest.mark.parametrize("name", list(GENERATORS))
@pytest.mark.parametrize("n", [7, 400])
def test_shapes_and_dtypes(name, n):
    g = GENERATORS[name]
    X, y = generate(name, n_samples=n, noise=0.1, seed=3, n_classes=3)
    rows = 4 if g.fixed else n
    assert X.dtype == np.float32 and X.shape == (rows, g.n_inputs)
    assert np.isfinite(X).all()
    if g.task == "classification":
        assert y.dtype == np.int64 and y.shape == (rows,)
    else:
        assert y.dtype == np.float32 and y.shape == (rows, 1)
        assert np.isfinite(y).all()


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("n", [8, 401, 1000])
def test_classes_are_balanced_up_to_one(name, n):
    k_asked = 4
    X, y = generate(name, n_samples=n, noise=0.2, seed=1, n_classes=k_asked)
    g = GENERATORS[name]
    k = g.classes_for(k_asked)
    counts = np.bincount(y, minlength=k)
    assert len(counts) == k
    if g.fixed:
        assert counts.tolist() == [2, 2]
    else:
        assert counts.sum() == n
        assert counts.max() - counts.min() <= 1
        assert counts.tolist() == class_counts(n, k).tolist()


def test_class_counts_formula():
    assert class_counts(10, 3).tolist() == [4, 3, 3]
    assert class_counts(9, 3).tolist() == [3, 3, 3]
    assert class_counts(401, 2).tolist() == [201, 200]


@pytest.mark.parametrize("name", list(GENERATORS))
def test_same_seed_same_arrays_other_seed_other_arrays(name):
    X1, y1 = generate(name, 300, 0.15, seed=42, n_classes=3)
    X2, y2 = generate(name, 300, 0.15, seed=42, n_classes=3)
    assert X1.tobytes() == X2.tobytes() and y1.tobytes() == y2.tobytes()
    X3, _ = generate(name, 300, 0.15, seed=43, n_classes=3)
    if GENERATORS[name].fixed:
        assert X3.tobytes() == X1.tobytes()
    else:
        assert not np.array_equal(X1, X3)


def test_blobs_follow_n_classes_and_reject_too_few_samples():
    for k in (2, 5, 10):
        X, y = generate("blobs", 100, 0.05, seed=0, n_classes=k)
        assert sorted(set(y.tolist())) == list(range(k))
        # centres 0.6 R (cos 2 pi c/k, sin 2 pi c/k); class means within 4 standard errors
        for c in range(k):
            centre = 0.6 * R * np.array([math.cos(2 * math.pi * c / k), math.sin(2 * math.pi * c / k)])
            m = X[y == c].mean(axis=0)
            assert np.abs(m - centre).max() < 4 * 0.05 * R / math.sqrt((y == c).sum())
    with pytest.raises(DataError, match=r"data.n_samples: blobs with 10 classes needs at least 20"):
        generate("blobs", 10, 0.1, 0, n_classes=10)


def test_xor4_is_exactly_the_seed_001_points_and_the_hand_solution_fits():
    X, y = generate("xor4", n_samples=1000, noise=3.0, seed=9)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    # lecture notes: W = [[1,1],[1,1]], c = [0,-1], w = [1,-2], b = 0
    h = np.maximum(0.0, X @ np.array([[1.0, 1.0], [1.0, 1.0]]) + np.array([0.0, -1.0]))
    f = h @ np.array([1.0, -2.0]) + 0.0
    assert f.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_xor_labels_are_the_xor_of_the_quadrant_signs():
    X, y = generate("xor", 2000, 0.0, seed=5)
    assert np.array_equal(y, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64))
    assert np.abs(X).min() >= 0.05 * R * (1 - 1e-6) and np.abs(X).max() <= R * (1 + 1e-6)


def test_circles_radii():
    X, y = generate("circles", 2000, 0.0, seed=5)
    r = np.hypot(X[:, 0], X[:, 1]) / R
    assert r[y == 0].max() <= 0.5 + 1e-6
    assert r[y == 1].min() >= 0.7 - 1e-6 and r[y == 1].max() <= 1.0 + 1e-6


def test_moons_lie_on_their_half_circles_without_noise():
    X, y = generate("moons", 1000, 0.0, seed=2)
    m = X.astype(np.float64) / R * 1.5 + np.array([0.5, 0.25])  # back to moon coordinates
    r0 = np.hypot(m[y == 0, 0], m[y == 0, 1])
    r1 = np.hypot(m[y == 1, 0] - 1.0, m[y == 1, 1] - 0.5)
    assert np.allclose(r0, 1.0, atol=1e-5) and np.allclose(r1, 1.0, atol=1e-5)
    assert (m[y == 0, 1] >= -1e-5).all() and (m[y == 1, 1] <= 0.5 + 1e-5).all()


@pytest.mark.parametrize("name,k,turns", [("two_spirals", 2, 1.5), ("three_spirals", 3, 1.0)])
def test_spiral_points_lie_on_their_arm_without_noise(name, k, turns):
    X, y = generate(name, 900, 0.0, seed=4)
    u = X.astype(np.float64) / R
    s = np.hypot(u[:, 0], u[:, 1])
    angle = np.arctan2(u[:, 1], u[:, 0])
    expected = 2 * math.pi * y / k + 2 * math.pi * turns * s
    wrapped = np.angle(np.exp(1j * (angle - expected)))
    assert np.abs(wrapped).max() < 1e-4
    assert s.min() >= 0.05 - 1e-6 and s.max() <= 1.0 + 1e-6


def test_checkerboard_cells():
    X, y = generate("checkerboard", 3000, 0.0, seed=8)
    u = X.astype(np.float64) / R
    cell = (np.floor((u[:, 0] + 1) * 2) + np.floor((u[:, 1] + 1) * 2)).astype(int) % 2
    assert np.array_equal(cell, y)
    assert np.abs(u).max() <= 1.0 + 1e-6
    # all 16 cells are used
    ij = set(zip(np.floor((u[:, 0] + 1) * 2).astype(int).tolist(), np.floor((u[:, 1] + 1) * 2).astype(int).tolist()))
    assert len(ij) == 16


@pytest.mark.parametrize("name,length", [
    ("xor", 1.0), ("circles", 1.0), ("blobs", 1.0), ("moons", 1 / 1.5),
    ("two_spirals", 1 / 3), ("three_spirals", 1 / 3), ("checkerboard", 1 / 2),
])
def test_noise_is_a_gaussian_jitter_of_the_documented_length(name, length):
    # the jitter is drawn after the shape and before the shuffle, so with the same seed the
    # noisy and the noise-free sets are row-aligned: X_noisy - X_clean = R * noise * L * e
    noise = 0.2
    X0, y0 = generate(name, 20000, 0.0, seed=11, n_classes=3)
    X1, y1 = generate(name, 20000, noise, seed=11, n_classes=3)
    assert np.array_equal(y0, y1)
    e = (X1.astype(np.float64) - X0) / (R * noise * length)
    assert abs(e.std() - 1.0) < 0.02 and abs(e.mean()) < 0.02, e.std()


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_regression_targets_follow_their_formulas(noise):
    n = 20000
    for name, f in [
        ("sine_1d", lambda x: np.sin(x[:, 0])),
        ("poly_1d", lambda x: 4 * (x[:, 0] / R) ** 3 - 3 * (x[:, 0] / R)),
        ("plane_2d", lambda x: 0.1 * x[:, 0] - 0.2 * x[:, 1]),
        ("gaussians_2d", lambda x: (GAUSSIAN_AMPLITUDES * np.exp(
            -((x[:, None, :] - GAUSSIAN_CENTRES[None]) ** 2).sum(axis=2) / (2 * GAUSSIAN_WIDTH**2))).sum(axis=1)),
    ]:
        X, y = generate(name, n, noise, seed=7)
        assert X.min() >= -R and X.max() <= R
        resid = y[:, 0].astype(np.float64) - f(X.astype(np.float64))
        if noise == 0.0:
            assert np.abs(resid).max() < 1e-5, name
        else:
            # residual std = noise within 3 % (n = 20000: standard error 0.5 %)
            assert abs(resid.std() - noise) < 0.03 * noise, (name, resid.std())
            assert abs(resid.mean()) < 0.02, name


def test_unknown_generator_names_the_field_and_lists_valid_names():
    with pytest.raises(DataError) as info:
        generate("spirals", 100)
    msg = str(info.value)
    assert msg.startswith("data.name: unknown synthetic data set 'spirals'")
    assert "two_spirals" in msg and "gaussians_2d" in msg


def test_derived_features_values_and_fixed_order():
    X = np.array([[1.0, 2.0], [-0.5, 3.0]], dtype=np.float32)
    out, names = add_derived_features(X, ("sin_x2", "x1x2", "x1_sq"))
    assert names == ("x1", "x2", "x1_sq", "x1x2", "sin_x2")
    assert out.dtype == np.float32
    expected = np.array([[1, 2, 1, 2, math.sin(2.0)], [-0.5, 3, 0.25, -1.5, math.sin(3.0)]], dtype=np.float32)
    assert np.array_equal(out, expected)
    out, names = add_derived_features(X, DERIVED_FEATURES)
    assert names == ("x1", "x2") + DERIVED_FEATURES and out.shape == (2, 7)
    with pytest.raises(DataError, match="data.derived_features"):
        add_derived_features(X, ("cos_x1",))
