"""Grid and prediction-image helpers of workbench.boundary (NumPy only)."""

import numpy as np
import pytest

from workbench import boundary as bd


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_grid_shapes_and_row_major_order():
    xs, ys, pts = bd.grid_for((-1.0, 1.0), (0.0, 4.0), resolution=4)
    assert xs.shape == (4,) and ys.shape == (4,) and pts.shape == (16, 2)
    np.testing.assert_allclose(xs, [-0.75, -0.25, 0.25, 0.75])  # cell centres
    np.testing.assert_allclose(ys, [0.5, 1.5, 2.5, 3.5])
    # points[i*r + j] = (xs[j], ys[i])
    np.testing.assert_allclose(pts[1], [xs[1], ys[0]])
    np.testing.assert_allclose(pts[4], [xs[0], ys[1]])
    np.testing.assert_allclose(pts[15], [xs[3], ys[3]])


def test_grid_default_resolution_and_bad_ranges():
    xs, ys, pts = bd.grid_for((0, 1), (0, 1))
    assert pts.shape == (80 * 80, 2)
    with pytest.raises(ValueError):
        bd.grid_for((1, 0), (0, 1))
    with pytest.raises(ValueError):
        bd.grid_for((0, np.nan), (0, 1))
    with pytest.raises(ValueError):
        bd.grid_for((0, 1), (0, 1), resolution=1)


def test_binary_image_is_half_on_the_x0_column():
    r = 81  # odd: the middle column's centre is exactly x = 0
    xs, ys, pts = bd.grid_for((-2.0, 2.0), (-1.0, 1.0), r)
    img = bd.boundary_image(lambda p: sigmoid(p[:, 0]), pts, "binary", 2, r)
    assert img.shape == (r, r)
    mid = r // 2
    assert xs[mid] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(img[:, mid], 0.5)
    # rows are y, columns are x: left half < 0.5, right half > 0.5, constant along y
    assert (img[:, :mid] < 0.5).all() and (img[:, mid + 1 :] > 0.5).all()
    np.testing.assert_allclose(img[0], img[-1])
    np.testing.assert_allclose(img[3, 10], sigmoid(xs[10]))


def test_binary_accepts_column_output_and_classification_task():
    r = 5
    _, _, pts = bd.grid_for((-1, 1), (-1, 1), r)
    img = bd.boundary_image(lambda p: sigmoid(p[:, 1])[:, None], pts, "classification", 2, r)
    # depends on y only: constant along each row
    np.testing.assert_allclose(img[2], 0.5)
    assert (np.ptp(img, axis=1) == 0).all()


def test_multiclass_image_encodes_argmax_and_confidence():
    r = 3
    _, _, pts = bd.grid_for((0, 3), (0, 3), r)

    def predict(p):  # class = column index; confidence grows with y
        k = np.floor(p[:, 0]).astype(int)
        conf = np.array([0.4, 0.7, 1.0])[np.floor(p[:, 1]).astype(int)]
        probs = np.repeat(((1 - conf) / 2)[:, None], 3, axis=1)
        probs[np.arange(len(p)), k] = conf
        return probs

    img = bd.boundary_image(predict, pts, "multiclass", 3, r)
    cls, conf = bd.decode_multiclass(img)
    np.testing.assert_array_equal(cls, [[0, 1, 2]] * 3)
    # c = (pmax - 1/K) / (1 - 1/K), capped below 1
    expected = np.clip((np.array([0.4, 0.7, 1.0]) - 1 / 3) / (2 / 3), 0, 0.999)
    np.testing.assert_allclose(conf[:, 0], expected)
    assert (conf < 1).all() and (conf >= 0).all()


def test_regression_image_and_chunked_prediction():
    r = 130  # 16 900 points: more than one prediction chunk
    calls = []

    def predict(p):
        calls.append(len(p))
        return (p[:, 0] + 2 * p[:, 1])[:, None]

    xs, ys, pts = bd.grid_for((0, 1), (0, 1), r)
    img = bd.boundary_image(predict, pts, "regression", 0, r)
    assert len(calls) == 2 and sum(calls) == r * r
    np.testing.assert_allclose(img, xs[None, :] + 2 * ys[:, None])


def test_compute_boundary_uses_the_feature_transform():
    seen = {}

    def to_features(raw):
        seen["raw"] = raw.copy()
        return np.column_stack([raw, raw[:, 0] * raw[:, 1]])  # a derived x1*x2 column

    def predict(f):
        assert f.shape[1] == 3
        return sigmoid(f[:, 2])

    img, xr, yr = bd.compute_boundary(predict, to_features, (-1, 1), (-1, 1), "binary", 2, resolution=10)
    assert img.shape == (10, 10) and xr == (-1.0, 1.0) and yr == (-1.0, 1.0)
    assert seen["raw"].shape == (100, 2)
    # x1*x2 > 0 in the first and third quadrants
    assert img[9, 9] > 0.5 and img[0, 0] > 0.5 and img[0, 9] < 0.5 and img[9, 0] < 0.5


def test_curve_for_and_compute_curve():
    xs, pts = bd.curve_for((-3, 3))
    assert xs.shape == (200,) and pts.shape == (200, 1)
    assert xs[0] == -3 and xs[-1] == 3
    cx, cy = bd.compute_curve(lambda f: f * 2.0, lambda raw: raw + 1.0, (0, 1), n=5)
    np.testing.assert_allclose(cy, 2 * (cx + 1))


def test_data_range_margin_and_degenerate_input():
    assert bd.data_range(np.array([0.0, 10.0]), margin=0.1) == pytest.approx((-1.0, 11.0))
    lo, hi = bd.data_range(np.array([5.0, 5.0]))
    assert lo < 5 < hi
    assert bd.data_range(np.array([np.nan])) == (-1.0, 1.0)


def test_wrong_number_of_rows_is_an_error():
    with pytest.raises(ValueError, match="expected 16 rows"):
        bd.boundary_image(lambda p: p[:, 0], np.zeros((10, 2)), "binary", 2, 4)
