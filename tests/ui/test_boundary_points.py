"""BoundaryView with a large data set: a capped, class-stratified, fixed sample of the points
is drawn (fast, the same every time, every class present) and the key says so; small
sets are drawn whole, exactly as given."""

import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from workbench.ui.plots import BoundaryView  # noqa: E402
from workbench.ui.plots.boundary_view import MAX_SHOWN_POINTS, MAX_SHOWN_VAL_POINTS, sample_indices  # noqa: E402

# A Qt warning during a test is a bug.
pytestmark = pytest.mark.qt_log_level_fail("WARNING")

N = 200_000  # the largest data set allowed (spec.MAX_SAMPLES)
N_TRAIN = 160_000


def big_set(n_classes=5, seed=0):
    """200 000 points; class 4 is rare (25 training and 5 validation points) and lies far out."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, 2))
    y = rng.integers(0, n_classes - 1, size=N)
    rare_train = rng.choice(N_TRAIN, size=25, replace=False)
    rare_val = N_TRAIN + rng.choice(N - N_TRAIN, size=5, replace=False)
    y[rare_train] = y[rare_val] = n_classes - 1
    X[rare_train] += 10.0
    X[rare_val] += 10.0
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def drawn(view):
    """The drawn (x, y) of the training and validation scatters."""
    return tuple(np.column_stack([item.data["x"], item.data["y"]]) for item in (view._train, view._val))


def test_the_caps():
    assert 0 < MAX_SHOWN_POINTS <= 4000 and 0 < MAX_SHOWN_VAL_POINTS <= 2000


def test_200k_points_draw_a_capped_stratified_sample_quickly(view):
    Xt, yt, Xv, yv = big_set()
    t0 = time.thread_time()
    view.set_points(Xt, yt, Xv, yv, "classification", 5)
    cpu = time.thread_time() - t0
    assert cpu < 1.0, f"set_points took {cpu:.2f} s of CPU time"

    n_train, n_val = view.point_counts()
    assert n_train <= MAX_SHOWN_POINTS and n_val <= MAX_SHOWN_VAL_POINTS
    assert (n_train, n_val) == (MAX_SHOWN_POINTS, MAX_SHOWN_VAL_POINTS)
    assert view.total_point_counts() == (N_TRAIN, N - N_TRAIN)

    it, iv = view.shown_indices()
    assert len(it) == n_train and len(iv) == n_val
    assert len(np.unique(it)) == n_train and len(np.unique(iv)) == n_val  # no point twice
    # the drawn points are the given points at those indices, with their own labels
    dt, dv = drawn(view)
    np.testing.assert_array_equal(dt, Xt[it])
    np.testing.assert_array_equal(dv, Xv[iv])
    lt, lv = view._labels
    np.testing.assert_array_equal(lt, yt[it])
    np.testing.assert_array_equal(lv, yv[iv])
    # every class is present, the rare one included, in about its share
    assert set(yt[it].tolist()) == set(range(5)) and set(yv[iv].tolist()) == set(range(5))
    for y, idx, cap in ((yt, it, MAX_SHOWN_POINTS), (yv, iv, MAX_SHOWN_VAL_POINTS)):
        share = np.bincount(y, minlength=5) / len(y)
        got = np.bincount(y[idx], minlength=5)
        assert np.all(np.abs(got - share * cap) <= 1.0 + 1e-9), (got, share * cap)
    # the view still fits every point, not only the drawn ones (the rare class lies far out)
    x0, x1, y0, y1 = view.data_view_range()
    both = np.vstack([Xt, Xv])
    assert x0 < both[:, 0].min() and x1 > both[:, 0].max() and y0 < both[:, 1].min() and y1 > both[:, 1].max()


def test_the_same_sample_every_time(qtbot, view):
    Xt, yt, Xv, yv = big_set()
    view.set_points(Xt, yt, Xv, yv, "classification", 5)
    first = view.shown_indices(), drawn(view)
    view.set_points(Xt[:10], yt[:10], None, None, "classification", 5)  # something else in between
    view.set_points(Xt, yt, Xv, yv, "classification", 5)
    other = BoundaryView()  # and a fresh view
    qtbot.addWidget(other)
    other.set_points(Xt, yt, Xv, yv, "classification", 5)
    for v in (view, other):
        (it, iv), (dt, dv) = v.shown_indices(), drawn(v)
        np.testing.assert_array_equal(it, first[0][0])
        np.testing.assert_array_equal(iv, first[0][1])
        np.testing.assert_array_equal(dt, first[1][0])
        np.testing.assert_array_equal(dv, first[1][1])


def test_the_key_says_a_sample_is_shown(view):
    Xt, yt, Xv, yv = big_set()
    view.set_points(Xt, yt, Xv, yv, "classification", 5)
    key = view.caption.text()
    assert "showing 4,000 of 160,000 training points" in key.lower()
    assert "2,000 of 40,000 validation points" in key
    assert view.sampling_note() in key
    # a restyle keeps it, a small set drops it, clear() forgets it
    from workbench.ui.style import Style

    view.apply_style(Style.presentation())
    assert "4,000 of 160,000 training points" in view.caption.text()
    view.set_points(Xt[:100], yt[:100], Xv[:50], yv[:50], "classification", 5)
    assert "of" not in view.sampling_note() and "Showing" not in view.caption.text()
    view.set_points(Xt, yt, Xv, yv, "classification", 5)
    view.clear()
    assert view.sampling_note() == "" and view.total_point_counts() == (0, 0)


def test_only_training_points_over_the_cap(view):
    Xt, yt, Xv, yv = big_set()
    view.set_points(Xt, yt, Xv[:300], yv[:300], "classification", 5)
    assert view.point_counts() == (MAX_SHOWN_POINTS, 300)
    note = view.sampling_note()
    assert "4,000 of 160,000 training points" in note and "validation" not in note


def test_regression_points_are_capped_too(view):
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, size=N)
    y = np.sin(x) + rng.normal(scale=0.1, size=N)
    t0 = time.thread_time()
    view.set_points(x[:N_TRAIN, None], y[:N_TRAIN], x[N_TRAIN:, None], y[N_TRAIN:], "regression", 0)
    assert time.thread_time() - t0 < 1.0
    assert view.point_counts() == (MAX_SHOWN_POINTS, MAX_SHOWN_VAL_POINTS)
    it, _ = view.shown_indices()
    dt, _ = drawn(view)
    np.testing.assert_array_equal(dt, np.column_stack([x[it], y[it]]))
    assert "4,000 of 160,000 training points" in view.caption.text()


def test_small_sets_are_drawn_exactly_as_given(view):
    rng = np.random.default_rng(4)
    Xt = rng.normal(size=(MAX_SHOWN_POINTS, 2))
    yt = rng.integers(0, 3, size=MAX_SHOWN_POINTS)
    Xv = rng.normal(size=(MAX_SHOWN_VAL_POINTS, 2))
    yv = rng.integers(0, 3, size=MAX_SHOWN_VAL_POINTS)
    view.set_points(Xt, yt, Xv, yv, "classification", 3)
    assert view.point_counts() == view.total_point_counts() == (MAX_SHOWN_POINTS, MAX_SHOWN_VAL_POINTS)
    dt, dv = drawn(view)
    np.testing.assert_array_equal(dt, Xt)  # every point, in the given order
    np.testing.assert_array_equal(dv, Xv)
    np.testing.assert_array_equal(view._labels[0], yt)
    np.testing.assert_array_equal(view.shown_indices()[0], np.arange(MAX_SHOWN_POINTS))
    assert view.sampling_note() == "" and "Showing" not in view.caption.text()


@pytest.mark.parametrize("n,cap,k", [(10, 10, 2), (11, 10, 2), (1000, 7, 3), (50_000, 2000, 100)])
def test_sample_indices_keeps_every_class(n, cap, k):
    labels = np.arange(n) % k
    labels[: n // 2] = 0  # a dominant class
    idx = sample_indices(n, cap, labels)
    if n <= cap:
        assert idx is None
        return
    assert len(idx) == cap and np.all(np.diff(idx) > 0) and idx[0] >= 0 and idx[-1] < n
    assert set(labels[idx].tolist()) == set(labels.tolist())
    np.testing.assert_array_equal(idx, sample_indices(n, cap, labels))
