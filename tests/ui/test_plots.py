"""CurvesPanel and BoundaryView: data held, markers, early stopping, styles, exports."""

import csv
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("pytestqt")

import pyqtgraph as pg  # noqa: E402
from PySide6 import QtGui  # noqa: E402

from workbench.engine.events import BatchEnd, EpochEnd  # noqa: E402
from workbench.spec import EarlyStopSummary, Marker, RunResult  # noqa: E402
from workbench.ui.plots import BoundaryView, CurvesPanel  # noqa: E402
from workbench.ui.style import Style  # noqa: E402

import curves_probe as probe

# A Qt warning during a test is a bug.
pytestmark = pytest.mark.qt_log_level_fail("WARNING")


def epochs(start, stop, *, regression=False, val=True):
    out = []
    for e in range(start, stop):
        metrics = (
            {"train_r2": 1 - 1 / e, "val_r2": 0.9 - 1 / e, "train_rmse": 1 / e, "val_rmse": 1.1 / e}
            if regression
            else {"train_accuracy": 1 - 0.5 / e, "val_accuracy": 0.9 - 0.5 / e}
        )
        out.append(EpochEnd(e, 1.0 / e, (1.5 / e + 0.001 * e) if val else None, 0.01, 0.1 / (1 + e // 10), metrics, 100))
    return out


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def panel(qtbot):
    p = CurvesPanel()
    qtbot.addWidget(p)
    p.resize(900, 700)
    return p


def test_curves_hold_exactly_the_events_across_buffer_growth(panel):
    # 700 epochs in uneven chunks: the 256-slot buffers double twice on the way.
    all_events = epochs(1, 701)
    for i in range(0, 700, 37):
        panel.add_epochs(all_events[i : i + 37])
    e = np.arange(1, 701, dtype=float)
    x, y = probe.curve_data(panel, "train_loss")
    np.testing.assert_array_equal(x, e)
    np.testing.assert_array_equal(y, 1.0 / e)
    x, y = probe.curve_data(panel, "val_loss")
    np.testing.assert_array_equal(x, e)
    np.testing.assert_allclose(y, 1.5 / e + 0.001 * e)
    x, y = probe.curve_data(panel, "train_metric")
    np.testing.assert_allclose(y, 1 - 0.5 / e)
    x, y = probe.curve_data(panel, "val_metric")
    np.testing.assert_allclose(y, 0.9 - 0.5 / e)
    x, y = probe.curve_data(panel, "lr")
    np.testing.assert_allclose(y, 0.1 / (1 + e.astype(int) // 10))
    assert panel.history_length() == 700


def test_one_set_data_per_curve_per_add_epochs(panel, monkeypatch):
    panel.add_epochs(epochs(1, 5))
    calls = {}
    for name, item in panel._curves.items():
        original = item.setData

        def counting(*a, _name=name, _orig=original, **k):
            calls[_name] = calls.get(_name, 0) + 1
            return _orig(*a, **k)

        monkeypatch.setattr(item, "setData", counting)
    panel.add_epochs(epochs(5, 105))
    assert calls == {"train_loss": 1, "val_loss": 1, "train_metric": 1, "val_metric": 1, "lr": 1}


def test_missing_validation_and_non_finite_values_become_gaps(panel):
    ev = epochs(1, 4, val=False) + [EpochEnd(4, float("nan"), float("inf"), 0.0, 0.1, {}, 1)]
    panel.add_epochs(ev)
    _, v = probe.curve_data(panel, "val_loss")
    assert np.isnan(v).all()
    _, t = probe.curve_data(panel, "train_loss")
    assert np.isnan(t[3]) and np.isfinite(t[:3]).all()


def test_batches_sit_at_fractional_epochs_with_a_debiased_ema(panel):
    panel.set_show_batches(True)
    losses = np.linspace(2.0, 1.0, 12)
    batches = [BatchEnd(1 + i // 4, 1 + i % 4, i + 1, float(losses[i])) for i in range(12)]
    # Chunks split epochs: x is fixed up once each epoch is complete.
    panel.add_batches(batches[:3])
    panel.add_batches(batches[3:6])
    panel.add_epochs(epochs(1, 2))
    panel.add_batches(batches[6:12])
    panel.add_epochs(epochs(2, 4))
    x, y = probe.curve_data(panel, "batch_loss")
    np.testing.assert_allclose(x, np.arange(1, 13) / 4)
    np.testing.assert_allclose(y, losses)
    xe, ema = probe.curve_data(panel, "batch_loss_ema")
    np.testing.assert_allclose(xe, x)
    a = 0.9
    s, ref = 0.0, []
    for t, v in enumerate(losses, start=1):
        s = a * s + (1 - a) * v
        ref.append(s / (1 - a**t))
    np.testing.assert_allclose(ema, ref, rtol=1e-10)
    assert ema[0] == pytest.approx(losses[0])


def test_zero_based_batches_and_hidden_batch_curves(panel):
    panel.add_batches([BatchEnd(1, b, b + 1, 1.0) for b in range(5)])
    panel.add_epochs(epochs(1, 2))
    x, _ = probe.curve_data(panel, "batch_loss")
    assert x.size == 0  # hidden: not redrawn
    panel.set_show_batches(True)
    x, _ = probe.curve_data(panel, "batch_loss")
    np.testing.assert_allclose(x, np.arange(1, 6) / 5)


def test_markers_at_their_epochs(panel):
    panel.add_epochs(epochs(1, 50))
    kinds = ["plateau", "restart", "lr_change", "reg_change", "phase", "diverged"]
    for i, kind in enumerate(kinds):
        panel.add_marker(kind, 5 + 7 * i, f"{kind} text")
    assert probe.marker_items(panel) == [(k, float(5 + 7 * i)) for i, k in enumerate(kinds)]
    # each marker is drawn on all three plots and labelled on the loss plot
    rec = panel.markers.records[0]
    assert len(rec["lines"]) == 3 and rec["lines"][0].label.toPlainText() == "plateau text"
    panel.reset()
    assert probe.marker_items(panel) == []


def test_early_stop_lines_region_and_notes(panel):
    panel.add_epochs(epochs(1, 61))
    panel.set_early_stop(EarlyStopSummary(best_epoch=40, stopped_epoch=60, best_value=0.123, patience=20, restored=True, monitor="val_loss"))
    assert probe.early_stop_items(panel) == (40.0, 60.0)
    assert probe.early_stop_region(panel) == (40.0, 60.0)
    best, stop = probe.early_stop_texts(panel)
    assert best.startswith("best 0.1230 @ 40")
    assert "weights restored from epoch 40" in " ".join(best.split())
    assert "stopped @ 60" in stop and "patience 20" in stop
    for region in panel.early_stop.regions:
        assert not region.movable
    # a second call replaces, not adds
    panel.set_early_stop(EarlyStopSummary(best_epoch=30, stopped_epoch=45, best_value=0.2, patience=15, restored=False, monitor="val_loss"))
    assert probe.early_stop_items(panel) == (30.0, 45.0)
    assert "restored" not in probe.early_stop_texts(panel)[0]
    n_regions = sum(
        1 for p in panel.plots for it in p.items if type(it).__name__ == "LinearRegionItem"
    )
    assert n_regions == 3


def _result(n=60, status="early_stopped", message=""):
    e = np.arange(1, n + 1)
    history = {
        "epoch": tuple(float(v) for v in e),
        "train_loss": tuple(float(v) for v in 1 / e),
        "val_loss": tuple(float(v) for v in 1.2 / e + 0.002 * e),
        "penalty": tuple(0.0 for _ in e),
        "lr": tuple(0.01 for _ in e),
        "train_accuracy": tuple(float(v) for v in 1 - 0.5 / e),
        "val_accuracy": tuple(None if v == 3 else float(0.9 - 0.5 / v) for v in e),
    }
    return RunResult(
        history=history,
        markers=(Marker("plateau", 30, "plateau: lr 0.01 -> 0.005"), Marker("lr_change", 35, "")),
        early_stop=EarlyStopSummary("val_loss", 24, 44, 0.0978, True, patience=20),
        status=status,
        message=message,
    )


def test_load_result_draws_history_markers_and_early_stop(panel):
    panel.add_epochs(epochs(1, 200))  # replaced, not appended to
    panel.load_result(_result())
    x, y = probe.curve_data(panel, "train_loss")
    np.testing.assert_array_equal(x, np.arange(1, 61))
    np.testing.assert_allclose(y, 1 / np.arange(1, 61))
    _, va = probe.curve_data(panel, "val_metric")
    assert np.isnan(va[2]) and np.isfinite(np.delete(va, 2)).all()
    assert probe.marker_items(panel) == [("plateau", 30.0), ("lr_change", 35.0)]
    assert probe.early_stop_items(panel) == (24.0, 44.0)
    assert probe.early_stop_texts(panel)[0].startswith("best 0.09780 @ 24")
    assert probe.message_text(panel) == ""


def test_load_result_of_a_diverged_run_shows_the_message(panel):
    msg = "Diverged at epoch 12: loss is NaN — lower the learning rate"
    panel.load_result(_result(12, status="diverged", message=msg))
    assert probe.message_text(panel) == msg


def test_show_message_and_clear(panel):
    panel.show_message("Diverged at epoch 12: loss is NaN — lower the learning rate")
    assert "Diverged at epoch 12" in probe.message_text(panel)
    assert panel._message.parentItem() is panel.loss_plot.vb
    panel.clear_message()
    assert probe.message_text(panel) == ""


def test_metric_kind_follows_regression_events_and_explicit_choice(panel):
    panel.add_epochs(epochs(1, 10, regression=True))
    assert panel.metric_kind() == "r2"
    _, y = probe.curve_data(panel, "train_metric")
    np.testing.assert_allclose(y, 1 - 1 / np.arange(1, 10))
    assert panel.metric_plot.getAxis("left").labelText == "R²"
    panel.set_metric_kind("accuracy")
    _, y = probe.curve_data(panel, "train_metric")
    assert np.isnan(y).all()
    with pytest.raises(ValueError):
        panel.set_metric_kind("f1")


def test_log_scale_toggles(panel):
    panel.add_epochs(epochs(1, 20))
    assert not panel.log_scale()
    panel.set_log_scale(True)
    assert panel.log_scale()
    assert panel.loss_plot.getAxis("left").logMode
    assert panel._curves["train_loss"].opts["logMode"] == [False, True]
    # the raw data are unchanged
    _, y = probe.curve_data(panel, "train_loss")
    np.testing.assert_allclose(y, 1 / np.arange(1, 20))
    panel.set_log_scale(False)
    assert not panel.loss_plot.getAxis("left").logMode
    assert panel._curves["train_loss"].opts["logMode"] == [False, False]


def test_presentation_style_enlarges_and_normal_restores(panel):
    panel.add_epochs(epochs(1, 30))
    panel.add_marker("plateau", 10, "plateau")
    panel.set_early_stop(EarlyStopSummary(best_epoch=20, stopped_epoch=29, best_value=0.05, patience=9, restored=True, monitor="val_loss"))
    pen0, font0 = probe.current_pen_width(panel), probe.current_font_point_size(panel)
    marker_font0 = panel.markers.records[0]["lines"][0].label.textItem.font().pointSizeF()
    legend0 = panel._legend.opts["labelTextSize"]
    panel.apply_style(Style.presentation())
    assert probe.current_pen_width(panel) >= 1.5 * pen0
    assert probe.current_font_point_size(panel) >= 1.5 * font0
    assert panel.markers.records[0]["lines"][0].label.textItem.font().pointSizeF() >= 1.5 * marker_font0
    assert float(panel._legend.opts["labelTextSize"][:-2]) >= 1.5 * float(legend0[:-2])
    panel.apply_style(Style.normal())
    assert probe.current_pen_width(panel) == pen0
    assert probe.current_font_point_size(panel) == font0
    assert panel.markers.records[0]["lines"][0].label.textItem.font().pointSizeF() == marker_font0
    assert panel._legend.opts["labelTextSize"] == legend0


def test_contrast_ratio_matches_wcag_reference_values():
    from workbench.ui import style as st

    assert st.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert st.contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # the classic 4.5 edge
    assert st.contrast_ratio("#0072B2", "#1E1E1E") < 4.5  # why the dark theme lightens the blue


def test_dark_theme_curves_are_lightened_to_a_legible_contrast(panel):
    from workbench.ui import style as st

    dark, light = Style.normal(dark=True), Style.normal()
    background = dark.colors.background
    for role in ("train", "val", "lr", "followup"):
        assert st.contrast_ratio(dark.line_color(role), background) >= st.DARK_LINE_CONTRAST
        assert light.line_color(role).name() == st.ROLE_COLORS[role].lower()  # light: the palette as is
    train = dark.line_color("train")
    assert train.name() != st.BLUE.lower() and train.hue() == pytest.approx(QtGui.QColor(st.BLUE).hue(), abs=3)
    panel.apply_style(dark)
    assert panel._curves["train_loss"].opts["pen"].color().name() == train.name()
    panel.apply_style(light)
    assert panel._curves["train_loss"].opts["pen"].color().name() == st.BLUE.lower()


def test_dark_style_changes_the_background(panel):
    panel.apply_style(Style.normal(dark=True))
    assert panel._glw.backgroundBrush().color().name() == Style.normal(dark=True).colors.background.lower()
    panel.apply_style(Style.normal())
    assert panel._glw.backgroundBrush().color().name() == "#ffffff"


def test_hover_read_out(panel):
    panel.add_epochs(epochs(1, 30))
    text = panel.hover_at(12.3)
    assert "epoch 12" in text and "train loss 0.08333" in text and "η 0.05" in text
    assert all(line.value() == 12 and line.isVisible() for line in panel.hover.lines)
    assert "epoch 29" in panel.hover_at(1e6)


def test_read_out_wraps_inside_a_narrow_panel_instead_of_clipping(qtbot, panel):
    panel.add_epochs(epochs(1, 30))
    panel.show()
    qtbot.waitExposed(panel)
    label = panel._readout.item
    one_line = label.boundingRect().height()
    assert label.boundingRect().width() <= panel.width()
    panel.resize(330, 700)
    qtbot.waitUntil(lambda: label.boundingRect().height() > 1.5 * one_line)
    assert label.boundingRect().width() <= panel.width()
    assert probe.readout_text(panel).split()[-2] == "η"  # wrapped, nothing cut off


def test_read_out_shows_the_latest_epoch_while_not_hovering(panel):
    panel.add_epochs(epochs(1, 8))
    assert "latest epoch 7" in probe.readout_text(panel)
    panel.add_epochs(epochs(8, 10))
    assert "latest epoch 9" in probe.readout_text(panel)


def test_system_theme_follows_the_platform_colour_scheme(monkeypatch):
    """(The offscreen platform cannot switch its scheme: the style module gets a fake
    application whose style hints report one.)"""
    from types import SimpleNamespace

    from PySide6.QtCore import Qt

    from workbench.ui import style as st

    for scheme, expected in ((Qt.ColorScheme.Dark, "dark"), (Qt.ColorScheme.Light, "light"),
                             (Qt.ColorScheme.Unknown, "light")):
        app = SimpleNamespace(styleHints=lambda scheme=scheme: SimpleNamespace(colorScheme=lambda: scheme))
        fake_gui = SimpleNamespace(QGuiApplication=SimpleNamespace(instance=lambda app=app: app))
        monkeypatch.setattr(st, "QtGui", fake_gui)
        assert st.resolve_theme("system") == expected


def test_apply_theme_sets_palette_and_pyqtgraph_colours(qapp):
    import pyqtgraph as pg

    from workbench.ui.style import apply_theme, resolve_theme

    old_palette, old_style = qapp.palette(), qapp.style().name()
    old_bg, old_fg = pg.getConfigOption("background"), pg.getConfigOption("foreground")
    try:
        assert apply_theme(qapp, "dark") == "dark"
        assert qapp.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 80
        assert pg.mkColor(pg.getConfigOption("background")).lightness() < 60
        assert apply_theme(qapp, "light") == "light"
        assert qapp.palette().color(QtGui.QPalette.ColorRole.Window).lightness() > 200
        assert resolve_theme("light") == "light" and resolve_theme("dark") == "dark"
        with pytest.raises(ValueError):
            resolve_theme("sepia")
    finally:
        qapp.setPalette(old_palette)
        qapp.setStyle(old_style)
        pg.setConfigOptions(background=old_bg, foreground=old_fg)


def test_exports_png_svg_csv(panel, tmp_path):
    panel.add_epochs(epochs(1, 41))
    panel.add_marker("plateau", 20, "plateau")
    panel.set_early_stop(EarlyStopSummary(best_epoch=25, stopped_epoch=40, best_value=0.07, patience=15, restored=True, monitor="val_loss"))
    png, svg, csv_path = tmp_path / "c.png", tmp_path / "c.svg", tmp_path / "c.csv"
    panel.export_png(png)
    img = QtGui.QImage(str(png))
    assert png.stat().st_size > 1000 and not img.isNull() and img.width() > 100
    panel.export_svg(svg)
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert "<svg" in svg.read_text(encoding="utf-8")
    assert sum(1 for el in root.iter() if el.tag.endswith(("path", "polyline"))) > 5
    panel.export_csv(csv_path)
    rows = read_csv(csv_path)
    assert rows[0] == ["epoch", "train_loss", "val_loss", "penalty", "lr", "train_accuracy", "val_accuracy"]
    assert len(rows) == 41
    assert rows[1][0] == "1" and float(rows[10][1]) == pytest.approx(0.1)
    assert float(rows[40][2]) == pytest.approx(1.5 / 40 + 0.04)


def test_follow_up_phase_gets_its_own_curve_and_csv_rows(panel, tmp_path):
    panel.add_epochs(epochs(1, 11))
    follow = [EpochEnd(e, 0.5 / e, None, 0.0, 0.01, {}, 100, phase="retrain") for e in range(1, 6)]
    panel.add_epochs(follow)
    x, y = probe.curve_data(panel, "train_loss")
    assert x.size == 10  # the main history is untouched
    fx, fy = probe.curve_data(panel, "followup_loss")
    np.testing.assert_array_equal(fx, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(fy, 0.5 / fx)
    path = tmp_path / "f.csv"
    panel.export_csv(path)
    rows = read_csv(path)
    assert rows[0][-1] == "phase" and len(rows) == 1 + 10 + 5
    assert rows[10][-1] == "train" and rows[11][-1] == "followup" and rows[11][0] == "1"


def test_csv_leaves_missing_values_empty(panel, tmp_path):
    panel.add_epochs(epochs(1, 4, val=False))
    path = tmp_path / "h.csv"
    panel.export_csv(path)
    rows = read_csv(path)
    assert [r[2] for r in rows[1:]] == ["", "", ""]


def test_large_history_is_downsampled_for_display(panel, qtbot):
    n = 100_000
    e = np.arange(1, n + 1, dtype=float)
    panel.load_result(
        RunResult(history={"epoch": tuple(e.tolist()), "train_loss": tuple((1 / e).tolist()), "lr": (0.01,) * n})
    )
    panel.grab()  # lays out and paints without showing a window
    x, y = panel._curves["train_loss"].getData()
    assert 0 < x.size < n / 4
    ox, _ = probe.curve_data(panel, "train_loss")
    assert ox.size == n


def test_reset_clears_everything(panel):
    panel.add_epochs(epochs(1, 10))
    panel.add_marker("restart", 5, "")
    panel.set_early_stop(EarlyStopSummary(best_epoch=4, stopped_epoch=9, best_value=0.2, patience=5, restored=False, monitor="val_loss"))
    panel.show_message("boom")
    panel.reset()
    assert probe.curve_data(panel, "train_loss")[0].size == 0
    assert probe.marker_items(panel) == [] and probe.early_stop_items(panel) is None
    assert probe.message_text(panel) == ""
    panel.add_epochs(epochs(1, 3))
    np.testing.assert_array_equal(probe.curve_data(panel, "train_loss")[0], [1, 2])


# --------------------------------------------------------------------- BoundaryView
def test_boundary_view_binary_points_and_image(view):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    view.set_points(X[:40], y[:40], X[40:], y[40:], "binary", 2)
    assert view.point_counts() == (40, 10)
    img = np.linspace(0, 1, 36).reshape(6, 6)
    view.set_image(img, (-3, 3), (-2, 2))
    assert view.image_levels() == (0.0, 1.0)
    assert view.image_item.image.shape == (6, 6)
    r = view.image_item.mapRectToParent(view.image_item.boundingRect())
    assert (r.left(), r.top(), r.width(), r.height()) == pytest.approx((-3, -2, 6, 4))
    lut = view.lookup_table()
    assert lut.shape == (256, 3)
    # class 0 end is blue-ish, class 1 end orange-ish, middle is the background
    assert lut[0, 2] > lut[0, 0] and lut[-1, 0] > lut[-1, 2]
    assert (np.abs(lut[127:129].astype(int) - 255) <= 3).all()


def test_boundary_image_is_scaled_up_smoothly(qtbot, view):
    """A 2x2 checkerboard of P = 0 / 1 drawn over the view: bilinear filtering gives a
    gradient of many shades along a row, nearest-neighbour would give two blocks."""
    corners = np.array([[-1.0, -1.0], [1.0, 1.0]])
    view.set_points(corners, np.array([0, 1]), None, None, "binary", 2)
    view.set_image(np.array([[0.0, 1.0], [1.0, 0.0]]), (-1, 1), (-1, 1))
    view.show()
    qtbot.waitExposed(view)
    image = view._pw.grab().toImage()
    item = view.image_item
    rect = item.mapRectToScene(item.boundingRect())
    top_left = view._pw.mapFromScene(rect.topLeft())
    bottom_right = view._pw.mapFromScene(rect.bottomRight())
    y = (top_left.y() + bottom_right.y()) // 4  # inside the top row of cells
    shades = {image.pixelColor(x, y).name() for x in range(top_left.x() + 3, bottom_right.x() - 3)}
    assert bottom_right.x() - top_left.x() > 100
    assert len(shades) > 20


def test_boundary_view_multiclass_lut_and_levels(view):
    X = np.random.default_rng(1).normal(size=(30, 2))
    y = np.arange(30) % 4
    view.set_points(X, y, X[:5], y[:5], "multiclass", 4)
    img = np.array([[0.5, 1.2], [2.9, 3.0]])
    view.set_image(img, (0, 1), (0, 1))
    assert view.image_levels() == (0.0, 4.0)
    assert view.lookup_table().shape == (4 * 64, 3)
    key = view.caption.text()  # the key under the plot: train, validation, 4 classes
    assert "train" in key and "validation" in key
    assert all(f"class {k}" in key for k in range(4))


def test_boundary_view_regression_curve_and_clear(view):
    x = np.linspace(-3, 3, 40)
    view.set_points(x[:30, None], np.sin(x[:30]), x[30:, None], np.sin(x[30:]), "regression", 0)
    xs = np.linspace(-3, 3, 200)
    view.set_curve(xs, np.sin(xs))
    cx, cy = view.curve_data()
    np.testing.assert_allclose(cy, np.sin(cx))
    assert view.point_counts() == (30, 10)
    assert view.plot.getAxis("left").labelText == "y"
    view.clear()
    assert view.point_counts() == (0, 0) and view.curve_data()[0].size == 0


def test_boundary_view_presentation_style(view):
    f0 = view.current_font_point_size()
    view.apply_style(Style.presentation())
    assert view.current_font_point_size() >= 1.5 * f0
    view.apply_style(Style.normal())
    assert view.current_font_point_size() == f0


def test_boundary_view_fits_the_data_range_with_padding(qtbot):
    """The view shows the data (train and validation) plus VIEW_PADDING of their span,
    not the aspect-locked range of a tall pane (which was -25..25 for data in -5..5)."""
    from workbench.ui.plots.boundary_view import VIEW_PADDING

    view = BoundaryView()
    qtbot.addWidget(view)
    view.resize(300, 880)  # a tall, narrow pane, as in the main window
    view.show()
    qtbot.waitExposed(view)
    rng = np.random.default_rng(0)
    Xt = rng.uniform(-5.0, 5.0, size=(200, 2))
    Xv = rng.uniform(-4.0, 6.0, size=(40, 2))
    y = np.arange(200) % 2
    view.set_points(Xt, y, Xv, np.arange(40) % 2, "binary", 2)
    both = np.vstack([Xt, Xv])
    lo, hi = both.min(axis=0), both.max(axis=0)
    pad = VIEW_PADDING * (hi - lo)
    x0, x1, y0, y1 = view.data_view_range()
    np.testing.assert_allclose([x0, x1, y0, y1], [lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]])
    # the plot is (about) square and the view (aspect locked) shows that box, not much more
    pw = view._pw
    qtbot.waitUntil(lambda: abs(pw.width() - pw.height()) <= 0.05 * pw.width(), timeout=3000)
    (vx0, vx1), (vy0, vy1) = view.view_range()
    assert vx0 <= x0 + 1e-9 and vx1 >= x1 - 1e-9 and vy0 <= y0 + 1e-9 and vy1 >= y1 - 1e-9
    assert (vx1 - vx0) <= 1.25 * (x1 - x0) and (vy1 - vy0) <= 1.25 * (y1 - y0)
    # the key sits under the plot and says what the symbols and colours mean
    assert view.caption.geometry().top() >= pw.geometry().bottom()
    assert "validation" in view.caption.text() and "boundary" in view.caption.text()


def test_boundary_view_puts_the_key_beside_the_plot_in_a_wide_pane(qtbot):
    view = BoundaryView()
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    X = np.random.default_rng(2).normal(size=(50, 2))
    view.set_points(X, np.arange(50) % 3, None, None, "multiclass", 3)
    pw = view._pw
    qtbot.waitUntil(lambda: abs(pw.width() - pw.height()) <= 0.05 * pw.height(), timeout=3000)
    assert view.caption.geometry().left() >= pw.geometry().right()


def test_fast_axis_draws_what_pyqtgraph_draws(qtbot):
    """FastAxisItem (draw specs kept, no QPicture; pixmap cache) paints the same ticks,
    grid and labels as pyqtgraph's AxisItem."""
    import pyqtgraph as pg

    from workbench.ui.plots._axis import FastAxisItem, fast_axes

    images = []
    for axes in (None, fast_axes()):
        w = pg.PlotWidget(axisItems=axes) if axes else pg.PlotWidget()
        qtbot.addWidget(w)
        w.resize(420, 300)
        w.setBackground("w")
        w.showGrid(x=True, y=True, alpha=0.3)
        w.plot(np.arange(50.0), np.sqrt(np.arange(50.0)), pen=None)
        w.setRange(xRange=(0, 49), yRange=(0, 7), padding=0)
        w.getAxis("left").setLabel("loss")
        images.append(w.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32))
    assert isinstance(fast_axes()["left"], FastAxisItem) and set(fast_axes()) == {"left", "bottom"}
    a, b = (np.frombuffer(im.constBits(), np.uint8, im.sizeInBytes()).reshape(im.height(), -1) for im in images)
    assert a.shape == b.shape
    differing = np.mean(np.any(a.reshape(a.shape[0], -1, 4) != b.reshape(b.shape[0], -1, 4), axis=2))
    assert differing < 0.001, differing  # a few glyph pixels at most


def test_live_epoch_axis_grows_in_steps_and_fits_when_the_run_ends(panel):
    """While live, the x range is [0, next 1-2-5 step] (at most the planned epochs),
    so it changes a handful of times per run, not on every frame."""
    panel.set_live(True, total_epochs=300)
    ranges = []
    for start in range(1, 200, 7):
        panel.add_epochs(epochs(start, start + 7))
        panel.settle()
        ranges.append(tuple(round(v, 6) for v in panel.loss_plot.vb.viewRange()[0]))
    his = sorted({r[1] for r in ranges})
    assert len(his) <= 6  # 10, 20, 50, 100, 200 (+ padding), not ~28
    last = panel.loss_plot.vb.viewRange()[0]
    assert last[0] <= 0.0 and 200 <= last[1] <= 300 * 1.05
    # the metric and learning-rate plots follow (linked x)
    assert panel.lr_plot.vb.viewRange()[0] == pytest.approx(last)
    panel.set_live(False)
    panel.settle()
    x0, x1 = panel.loss_plot.vb.viewRange()[0]
    assert x1 < 215  # fitted to the 203 epochs again


def test_live_y_range_keeps_still_for_small_changes(panel):
    """Live y ranges have hysteresis: a slowly falling loss does not move the axis on
    every frame; the data stay inside the range."""
    panel.set_live(True, total_epochs=1000)
    changes, previous = 0, None
    for start in range(1, 400, 5):
        panel.add_epochs(epochs(start, start + 5))
        panel.settle()
        y = tuple(panel.loss_plot.vb.viewRange()[1])
        changes += y != previous
        previous = y
        lo, hi = y
        losses = probe.curve_data(panel, "train_loss")[1]
        assert lo <= np.nanmin(losses) and np.nanmax(losses) <= hi
    assert changes <= 12  # of 80 frames
    assert previous[0] >= -0.1  # a loss axis does not reach far below 0


def test_line_widths_are_logical_pixels_on_hidpi_screens(panel):
    """pyqtgraph pens are cosmetic (device pixels): a style for a pixel ratio of 2
    doubles every line width, so curves keep their weight next to doubled text."""
    panel.apply_style(Style.normal())
    normal = probe.current_pen_width(panel)
    axis = panel.loss_plot.getAxis("left").pen().widthF()
    panel.apply_style(Style.normal(pixel_ratio=2.0))
    assert probe.current_pen_width(panel) == 2 * normal
    assert panel.loss_plot.getAxis("left").pen().widthF() == 2 * axis
    assert Style.presentation(pixel_ratio=2.0).px(3.5) == 7.0
    assert Style.normal(pixel_ratio=0.5).px(2.0) == 2.0  # never thinner than asked


def test_learning_rate_log_scale_spans_the_decades_of_a_decay(qtbot, panel):
    """An exponential decay over four decades: on a log axis the lr plot's range covers
    log10 of the first and last η, and the zero line (meaningless there) is hidden."""
    lrs = 0.1 * 0.9 ** np.arange(90)  # 0.1 -> 8.7e-6
    panel.set_live(True, 90)
    panel.add_epochs([EpochEnd(e + 1, 1.0 / (e + 1), None, 0.0, float(lr), {}, 10) for e, lr in enumerate(lrs)])
    panel.set_lr_log_scale(True)
    lo, hi = panel.lr_plot.vb.viewRange()[1]
    assert lo <= np.log10(lrs[-1]) and np.log10(lrs[0]) <= hi and hi - lo < 6
    assert not panel._lr_zero.isVisible() and probe.lr_log_scale(panel)
    panel.set_lr_log_scale(False)
    lo, hi = panel.lr_plot.vb.viewRange()[1]
    assert lo <= 0.0 and hi >= lrs[0] and panel._lr_zero.isVisible()


def test_planned_learning_rate_on_a_log_axis(panel):
    lrs = 0.05 * 0.5 ** np.arange(20)
    panel.show_plan(lrs, 20)
    panel.set_lr_log_scale(True)
    lo, hi = panel.lr_plot.vb.viewRange()[1]
    assert lo < np.log10(lrs.min()) < np.log10(lrs.max()) < hi


def test_thousands_of_markers_stay_cheap(qtbot, panel):
    """QA: a reduce-on-plateau run with ~900 η changes made three labelled lines each
    and froze the window (3.8 s per repaint; a 10 000-marker file took 78 s to open).
    Past MAX_LABELLED_MARKERS the lines are one item per plot, one line per pixel."""
    from workbench.ui.plots import overlays

    panel.show()
    qtbot.waitExposed(panel)
    markers = tuple(Marker("plateau", e, f"η drop {e}") for e in range(1, 10_001))
    result = RunResult(history={"epoch": tuple(float(e) for e in range(1, 10_001)),
                                "train_loss": tuple(1.0 / e for e in range(1, 10_001))}, markers=markers)
    t0 = time.thread_time()
    panel.load_result(result)
    panel.grab()  # a full paint
    cost = time.thread_time() - t0
    assert cost < 3.0, f"{cost:.1f} s of CPU"
    lines = [item for item in panel.loss_plot.items if isinstance(item, pg.InfiniteLine) and getattr(item, "label", None)]
    assert len(lines) == overlays.MAX_LABELLED_MARKERS
    items = probe.marker_items(panel)
    assert len(items) == 10_000 and items[-1] == ("plateau", 10_000.0) and items[0] == ("plateau", 1.0)
    t0 = time.thread_time()
    panel.grab()
    assert time.thread_time() - t0 < 0.5  # a repaint
    panel.reset()
    assert probe.marker_items(panel) == [] and panel.markers._rugs[0].xs().size == 0


def test_the_read_out_follows_a_theme_switch(panel):
    """QA: its HTML kept the old theme's colours (1.02:1 on the dark background)."""
    from workbench.ui import style as st

    panel.add_epochs(epochs(1, 5))
    dark = Style.normal(dark=True)
    panel.apply_style(dark)
    html = panel._readout.text
    text = dark.colors.text.lower()
    assert f"color:{text}" in html.lower()  # "latest epoch": the dark theme's text colour
    train = st.text_color(st.ROLE_COLORS["train"], True).name()
    assert f"color:{train}" in html and st.contrast_ratio(train, dark.colors.background) >= 4.5
    panel.hover_at(2.2)
    panel.apply_style(Style.normal())
    assert "epoch 2 " in probe.readout_text(panel) + " "  # still the hovered row, in light colours
    assert f"color:{Style.normal().colors.text.lower()}" in panel._readout.text.lower()


def test_read_out_numbers_keep_four_significant_digits():
    from workbench.ui.plots.series import fmt as _fmt

    assert [_fmt(v) for v in (0.6, 0.6344, 0.08333, 1234.5, 12345.0, 5e-4)] == \
        ["0.6000", "0.6344", "0.08333", "1234", "1.234e+04", "0.0005000"]


def test_coloured_text_reads_at_4_5_to_1_on_both_themes():
    """QA: orange "val" text was 2.2:1 on white (projectors wash out low contrast)."""
    from workbench.ui import style as st

    for dark in (False, True):
        background = st.theme_colors(dark).background
        for color in st.OKABE_ITO[:-1]:  # (black is never used as a text colour on dark)
            shown = st.text_color(color, dark)
            assert st.contrast_ratio(shown, background) >= st.TEXT_CONTRAST, (color, dark, shown.name())
    assert st.text_color(st.BLUE, False).name() == st.BLUE.lower()  # already legible: unchanged


def test_crowded_automatic_markers_become_ticks_but_user_changes_keep_their_label(panel):
    """QA: 20 η drops at epochs 1-20 of a 1500-epoch run overprinted into one block."""
    from workbench.ui.plots import overlays

    panel.set_live(True, 1500)
    for e in range(1, 21):
        panel.add_marker("plateau", e, f"η drop {e}")
    panel.add_marker("lr_change", 3, "η 0.01 → 0.005")  # the user's own change: always labelled
    panel.add_marker("plateau", 400, "η drop 400")  # far enough from the first one
    labelled = [(rec["kind"], rec["epoch"]) for rec in panel.markers.records if rec["lines"]]
    assert labelled == [("plateau", 1.0), ("lr_change", 3.0), ("plateau", 400.0)]
    assert 1500 / overlays.MARKER_LABEL_SPACING > 20 - 1  # (why epochs 2-20 had no room)
    assert sorted(panel.markers._rugs[0].xs()) == [float(e) for e in range(2, 21)]
    assert len(probe.marker_items(panel)) == 22


def test_log_axis_ticks_follow_the_1_2_5_series(panel):
    """QA: a one-decade log η axis labelled every mantissa (0.009, 0.008, ...) in a smear."""
    axis = panel.lr_plot.getAxis("left")
    axis.setLogMode(False, True)

    def labelled(lo, hi):
        levels = axis.logTickValues(lo, hi, 200, [])  # (pyqtgraph's own ticks matter only past 6 decades)
        return sorted(round(10 ** v, 12) for _spacing, values in levels for v in values)

    assert labelled(np.log10(0.0009), np.log10(0.011)) == [0.001, 0.002, 0.005, 0.01]  # one decade
    assert labelled(-6.2, -1.9) == [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]  # four decades: decades only
    assert labelled(np.log10(0.003), np.log10(0.007)) == [0.005]


def test_the_epoch_axis_counts_whole_epochs(panel):
    axis = panel.lr_plot.getAxis("bottom")
    values = sorted(v for _s, level in axis.tickValues(0.8, 3.2, 400) for v in level)
    assert values == [1.0, 2.0, 3.0]  # not 1.0, 1.5, 2.0, ...
    assert all(float(v).is_integer() for _s, level in axis.tickValues(0, 1500, 400) for v in level)


def test_a_short_live_run_spans_its_planned_epochs_from_the_start(panel):
    """A live run of at most SHORT_RUN_EPOCHS epochs: the x range is [0, planned] from the
    first epoch on (no 1-2-5 steps), so the epoch axis never moves during it."""
    from workbench.ui.plots.live_range import SHORT_RUN_EPOCHS

    assert SHORT_RUN_EPOCHS == 10
    for total in (4, 10):
        panel.reset()
        panel.set_live(True, total_epochs=total)
        ranges = set()
        for e in range(1, total + 1):
            panel.add_epochs(epochs(e, e + 1))
            panel.settle()
            ranges.add(tuple(round(v, 6) for v in panel.loss_plot.vb.viewRange()[0]))
        assert len(ranges) == 1
        x0, x1 = ranges.pop()
        assert x0 <= 0.0 and total <= x1 <= total * 1.05
    panel.reset()
    panel.set_live(True, total_epochs=11)  # one more: the steps again (2, 5, 10, 11)
    panel.add_epochs(epochs(1, 2))
    panel.settle()
    assert panel.loss_plot.vb.viewRange()[0][1] < 3
    panel.set_live(False)


def test_the_legend_names_the_newest_overlaid_runs_and_counts_the_others(panel):
    """Comparing many runs, the legend names MAX_LEGEND_RUNS of them (the newest) and says
    how many older ones the Runs dock lists; it is rebuilt only when that changes."""
    from workbench.ui.plots.legend import MAX_LEGEND_RUNS

    entries = [(i, f"run {i}") for i in range(12)]
    panel.set_comparison(3, "run 12", entries[:MAX_LEGEND_RUNS])
    assert panel._legend.full_texts == ["validation", "train", "▶ run 12",
                                        *[f"run {i}" for i in range(MAX_LEGEND_RUNS)]]
    panel.set_comparison(3, "run 12", entries)
    legend = panel._legend
    assert legend.full_texts == ["validation", "train", "▶ run 12",
                                 *[f"run {i}" for i in range(12 - MAX_LEGEND_RUNS, 12)], "+ 4 older"]
    panel.set_comparison(3, "run 12", entries)  # nothing changed: the same legend
    assert panel._legend is legend
    panel.set_comparison(None, "", [])  # no comparison: the roles again
    assert panel._legend.full_texts == ["train", "validation"]


@pytest.mark.parametrize("width", [320, 491, 900])
def test_the_legend_fits_the_panel_with_batch_losses_shown(panel, width):
    """QA: at 1280x720 "train (per batch, smoothed)" ran off the panel (four columns
    whatever the width); the entries now take as many columns as fit."""
    from workbench.ui.plots.legend import ENTRY_EXTRA, legend_columns

    panel.resize(width, 600)
    panel.set_show_batches(True)
    panel.settle()
    legend = panel._legend
    right = legend.mapRectToScene(legend.boundingRect()).right()
    assert right <= panel._glw.width() + 1, (right, panel._glw.width())
    texts = legend.full_texts
    assert len(texts) == 3
    font = panel._font(0.95)
    assert legend_columns(texts, font, 10_000) == 3
    assert legend_columns(texts, font, 1) == 1
    fm = QtGui.QFontMetricsF(font)
    two = max(fm.horizontalAdvance(texts[0]), fm.horizontalAdvance(texts[2])) + fm.horizontalAdvance(texts[1])
    assert legend_columns(texts, font, two + 2 * ENTRY_EXTRA) == 2


@pytest.mark.parametrize("width", [260, 330, 420])
def test_the_read_out_wraps_between_its_parts_not_inside_one(qtbot, width):
    """QA: at 1280x720 the big read-out wrapped inside "val acc 58.8 %"."""
    from PySide6.QtGui import QTextDocument

    from workbench.ui.readout import one_line

    parts = ["<b>Epoch 50</b> / 50", "<span style='color:#1f77b4'>■</span> train loss <b>0.3155</b>",
             "<span style='color:#ff7f0e'>■</span> val loss <b>0.3335</b>", "val acc <b>87.5 %</b>"]
    doc = QTextDocument()
    doc.setHtml(one_line(parts))
    doc.setTextWidth(width)
    doc.documentLayout().documentSize()  # lays the text out
    block = doc.firstBlock()
    layout = block.layout()
    lines = [block.text()[layout.lineAt(i).textStart():][:layout.lineAt(i).textLength()].replace("\xa0", " ").strip()
             for i in range(layout.lineCount())]
    assert len(lines) > 1  # it did wrap
    wholes = ["Epoch 50 / 50", "■ train loss 0.3155", "■ val loss 0.3335", "val acc 87.5 %"]
    for whole in wholes:
        assert any(whole in line for line in lines), (whole, lines)
