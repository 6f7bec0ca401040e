"""The "look inside" widgets (workbench.ui.inside): what they draw is read back from their
items and compared with numbers computed here, directly, from the network."""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from workbench import spec as S  # noqa: E402
from workbench.engine.diagnostics import HealthMonitor, confusion_matrix  # noqa: E402
from workbench.engine.gradcheck import plant_error  # noqa: E402
from workbench.engine.network import LayerConfig, Network  # noqa: E402
from workbench.engine.optimizers import make_optimizer  # noqa: E402
from workbench.ui import style as st  # noqa: E402
from workbench.ui.inside import (  # noqa: E402
    AGGREGATE_LINES,
    MAX_LINES,
    WIDE_LAYER,
    DiagramSource,
    ErrorsPanel,
    GradCheckPanel,
    HealthHistory,
    InitComparison,
    InsidePanel,
    LayerHealthPanel,
    NetworkDiagram,
    diagram_snapshot,
    dropped_units,
    errors_for,
    map_grid,
    map_grid_for,
    neuron_maps,
    spread_for_network,
)
from workbench.ui.inside import _common as cm  # noqa: E402
from workbench.ui.inside import diagram as dg  # noqa: E402
from workbench.ui.inside.maps import line_budget  # noqa: E402

# A Qt warning during a test is a bug.
pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]


def _net(sizes, acts, task="binary", seed=0, init="xavier_uniform"):
    hidden = [LayerConfig(u, a, init=init) for u, a in zip(sizes[1:-1], acts)]
    net = Network(sizes[0], hidden, sizes[-1], task, seed=seed)
    net.initialize(np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    for b in net.biases:  # biases of both signs (the initialisers leave them 0)
        b[...] = rng.normal(0.0, 0.3, b.shape)
    return net


@pytest.fixture
def diagram(qtbot):
    d = NetworkDiagram()
    qtbot.addWidget(d)
    d.resize(1000, 700)
    d.show()
    qtbot.waitExposed(d)
    return d


def _show_net(d, net, grid=None):
    snap = diagram_snapshot(net, grid)
    d.set_network(snap.sizes, snap.activations)
    d.set_snapshot(snap)
    return snap


# ----------------------------------------------------------------------------- diagram
@pytest.mark.parametrize("style", [st.Style.normal(), st.Style.normal(dark=True), st.Style.presentation()],
                         ids=["light", "dark", "presentation"])
def test_line_of_each_weight_has_the_width_and_colour_the_legend_states(diagram, style):
    net = _net((3, 5, 4, 2), ("tanh", "relu"), task="multiclass")
    diagram.apply_style(style)
    _show_net(diagram, net)
    # the legend's mapping, stated in its text
    widest = dg.LINE_WIDTH * style.pen_width / 2.0
    assert f"width {widest:g} px × |w| / max|w| of the layer" in diagram.legend.text()
    assert "orange: w &gt; 0" in diagram.legend.text() and "blue: w &lt; 0" in diagram.legend.text()
    blue, orange = (QtGui.QColor(st.BLUE), QtGui.QColor(st.ORANGE)) if not style.dark else (
        st.legible_on(st.BLUE, style.colors.background, cm.SIGN_CONTRAST),
        st.legible_on(st.ORANGE, style.colors.background, cm.SIGN_CONTRAST))
    checked = 0
    for l, W in enumerate(net.weights, start=1):
        W = W.astype(np.float64)
        wmax = np.abs(W).max()
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                item = diagram.line_for(l, i, j)
                assert item is not None and item.isVisible()
                w = W[i, j]
                pen = item.pen()
                t = abs(w) / wmax
                assert pen.widthF() == pytest.approx(max(dg.LINE_WIDTH_MIN, widest * t), rel=1e-6)
                c = pen.color()
                sign = orange if w > 0 else blue  # mixed with the background: paler when smaller
                share = dg.FADE_MIN + (1 - dg.FADE_MIN) * t
                bg = QtGui.QColor(style.colors.background)
                want = [round(getattr(sign, ch)() * share + getattr(bg, ch)() * (1 - share))
                        for ch in ("red", "green", "blue")]
                assert [c.red(), c.green(), c.blue()] == want and c.alpha() == 255
                # and it joins unit i on the left to unit j on the right
                line = item.line()
                a, b = diagram.node_center(l - 1, i), diagram.node_center(l, j)
                assert line.y1() == pytest.approx(a.y()) and line.y2() == pytest.approx(b.y())
                assert a.x() < line.x1() < line.x2() < b.x()
                assert diagram.line_weight(item) == pytest.approx(w)
                checked += 1
    assert checked == 3 * 5 + 5 * 4 + 4 * 2 == diagram.item_counts()["lines"]


def test_bias_rings_follow_the_legend(diagram):
    net = _net((2, 6, 1), ("tanh",))
    net.biases[0][0] = 0.0
    _show_net(diagram, net)
    b = net.biases[0].astype(np.float64)
    bmax = np.abs(b).max()
    for j in range(6):
        pen = diagram.node(1, j).ring.pen()
        assert pen.widthF() == pytest.approx(dg.RING_MIN + (dg.RING_MAX - dg.RING_MIN) * abs(b[j]) / bmax)
        want = st.ORANGE if b[j] > 0 else st.BLUE if b[j] < 0 else st.LIGHT.foreground
        assert pen.color().name().upper() == want.upper()


def test_hover_names_the_weight_and_the_bias(diagram, monkeypatch):
    net = _net((2, 3, 1), ("tanh",))
    _show_net(diagram, net)
    node = diagram.node_center(1, 2)
    text = diagram.describe_at(node)
    assert "hidden 1 unit 2" in text and f"b⁽¹⁾[2] = {cm.fmt(net.biases[0][2])}" in text
    item = diagram.line_for(2, 1, 0)
    mid = item.line().center()
    text = diagram.describe_at(mid)
    assert f"W⁽²⁾[1, 0] = {cm.fmt(net.weights[1][1, 0])}" in text
    # a real mouse move shows the same in the read-out label
    view = diagram.view
    pos = view.mapFromScene(node)
    ev = QtGui.QMouseEvent(QtCore.QEvent.Type.MouseMove, QtCore.QPointF(pos), QtCore.QPointF(view.mapToGlobal(pos)),
                           QtCore.Qt.MouseButton.NoButton, QtCore.Qt.MouseButton.NoButton,
                           QtCore.Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(view.viewport(), ev)
    assert "hidden 1 unit 2" in diagram.readout.text()
    # and a tooltip event there shows the same text (captured: the offscreen platform
    # warns that it cannot raise a tooltip window)
    shown = []
    monkeypatch.setattr(QtWidgets.QToolTip, "showText", lambda where, text, widget=None: shown.append(text))
    help_ev = QtGui.QHelpEvent(QtCore.QEvent.Type.ToolTip, pos, view.mapToGlobal(pos))
    QtWidgets.QApplication.sendEvent(view.viewport(), help_ev)
    assert len(shown) == 1 and "hidden 1 unit 2" in shown[0]


def test_neuron_map_equals_a_direct_forward_pass(diagram):
    net = _net((2, 5, 3, 1), ("tanh", "relu"))
    r = 16
    grid = map_grid((-2.0, 2.0), (-1.0, 3.0), resolution=r)
    maps = neuron_maps(net.weights, net.biases, ("tanh", "relu"), grid)
    # the grid by hand: cell centres, row i = y_i (bottom row first), column c = x_c
    xs = -2.0 + (np.arange(r) + 0.5) * 4.0 / r
    ys = -1.0 + (np.arange(r) + 0.5) * 4.0 / r
    P = np.array([(x, y) for y in ys for x in xs])
    W = [w.astype(np.float64) for w in net.weights]
    b = [v.astype(np.float64) for v in net.biases]
    H1 = np.tanh(P @ W[0] + b[0])
    H2 = np.maximum(H1 @ W[1] + b[1], 0.0)
    A3 = H2 @ W[2] + b[2]
    for k, ref in ((0, P), (1, H1), (2, H2), (3, A3)):
        assert maps[k].shape == (ref.shape[1], r, r)
        for j in range(ref.shape[1]):
            np.testing.assert_allclose(maps[k][j], ref[:, j].reshape(r, r), rtol=1e-5, atol=1e-6)
    # the diagram shows exactly these maps, the plane's top row at the image's top
    _show_net(diagram, net, grid)
    for k, units in ((1, 5), (2, 3), (3, 1)):
        for j in range(units):
            np.testing.assert_array_equal(diagram.shown_map(k, j), maps[k][j])
    node = diagram.node(1, 4)
    img = node.map_item.pixmap().toImage()
    assert (img.width(), img.height()) == (r, r)
    scale = diagram.map_scale_of(1)
    assert scale == (-1.0, 0.0, 1.0)  # tanh
    lut = cm.diverging_lut(False)
    for (row, col), value in (((0, 0), maps[1][4][r - 1, 0]), ((r - 1, r - 1), maps[1][4][0, r - 1])):
        want = lut[int(np.clip(np.rint((value + 1.0) * 0.5 * (cm.LUT_SIZE - 1)), 0, cm.LUT_SIZE - 1))]
        got = img.pixelColor(col, row)
        assert (got.red(), got.green(), got.blue()) == tuple(int(v) for v in want[:3])


def test_map_grid_of_a_data_set_goes_through_its_scaling():
    from workbench.data import load_dataset

    ds = load_dataset(S.DataSpec(source="synthetic", name="moons", n_samples=200))
    grid = map_grid_for(ds, resolution=12)
    assert grid.features.shape == (144, ds.n_features)
    x0, x1 = grid.x_range
    y0, y1 = grid.y_range
    xs = x0 + (np.arange(12) + 0.5) * (x1 - x0) / 12
    ys = y0 + (np.arange(12) + 0.5) * (y1 - y0) / 12
    raw = np.array([(x, y) for y in ys for x in xs])
    np.testing.assert_allclose(grid.features, ds.to_features(raw), rtol=1e-6)
    iris = load_dataset(S.DataSpec(source="bundled", name="iris"))
    assert map_grid_for(iris) is None  # four raw inputs: no plane


def test_wide_layers_are_drawn_aggregated_with_a_bounded_number_of_items(diagram):
    net = Network(784, [LayerConfig(256, "relu"), LayerConfig(128, "relu")], 10, "multiclass", seed=3)
    net.initialize(np.random.default_rng(3))
    _show_net(diagram, net)
    assert [diagram.is_aggregated(k) for k in range(4)] == [True, True, True, False]
    counts = diagram.item_counts()
    assert counts["lines"] == counts["line_items"] == 3 * AGGREGATE_LINES <= MAX_LINES
    assert counts["strips"] == 3 and counts["nodes"] == 10
    assert counts["total"] <= diagram.max_items() <= MAX_LINES + 4 * 10 + 2 * 3 + 2 * 4 + 3 + 1
    # the lines drawn are the strongest connections, with the width of the whole layer's max |w|
    W = net.weights[0].astype(np.float64)
    drawn = diagram.drawn_connections(1)
    assert len(drawn) == AGGREGATE_LINES
    mags = np.sort(np.abs(W).ravel())[::-1]
    assert min(abs(w) for _, _, w in drawn) >= mags[AGGREGATE_LINES - 1] - 1e-12
    for i, j, w in drawn:
        assert W[i, j] == pytest.approx(w)
        pen = diagram.line_for(1, i, j).pen()
        assert pen.widthF() == pytest.approx(max(dg.LINE_WIDTH_MIN, dg.LINE_WIDTH * abs(w) / mags[0]), rel=1e-6)
    assert "32 strongest connections" in diagram.legend.text()


def test_line_budget_bounds_any_network():
    deep = (2,) + (WIDE_LAYER,) * 32 + (1,)
    assert sum(line_budget(deep)) <= MAX_LINES
    assert sum(line_budget((4096,) * 33 + (100,))) <= MAX_LINES
    assert line_budget((2, 16, 16, 1)) == (32, 256, 16)
    assert line_budget((784, 256, 128, 10)) == (AGGREGATE_LINES,) * 3


def test_dropped_units_are_faded_and_crossed_with_their_lines(diagram):
    net = Network(4, [LayerConfig(6, "relu", 0.5), LayerConfig(30, "tanh", 0.5)], 3, "multiclass", seed=1)
    _show_net(diagram, net)
    rng = np.random.default_rng(0)
    engine_masks = [None, (rng.random((8, 6)) > 0.5) / 0.5, (rng.random((8, 30)) > 0.5) / 0.5]
    dropped = dropped_units(engine_masks, row=3)
    np.testing.assert_array_equal(dropped[1], engine_masks[1][3] == 0)
    diagram.set_dropped(dropped)
    for j in range(6):
        node = diagram.node(1, j)
        assert node.cross.isVisible() == bool(dropped[1][j])
        assert node.opacity() == pytest.approx(dg.DROPPED_OPACITY if dropped[1][j] else 1.0)
        for i in range(4):  # its lines are faded to DROPPED_OPACITY of their colour
            w, wmax = float(net.weights[0][i, j]), float(np.abs(net.weights[0]).max())
            normal = dg.line_style(w, wmax, st.Style.normal())[1]
            want = st.blend(normal.name(), "#FFFFFF", dg.DROPPED_OPACITY) if dropped[1][j] else normal
            assert diagram.line_for(1, i, j).pen().color().name() == want.name()
    assert diagram.is_aggregated(2)
    assert "dropped in this step" in diagram.describe_at(diagram.node_center(1, int(np.argmax(dropped[1]))))
    diagram.set_dropped(None)
    assert not any(diagram.node(1, j).cross.isVisible() for j in range(6))


def test_diagram_source_rate_limit_with_a_fake_clock():
    net = _net((2, 4, 1), ("tanh",))
    now = [0.0]
    src = DiagramSource(net, None, min_interval=0.25, budget=0.05, clock=lambda: now[0])
    assert src.due()
    src.snapshot(1)
    now[0] = 0.1
    assert not src.due()  # too soon
    now[0] = 10.0
    assert src.due()
    snap = src.snapshot(2)
    assert snap.epoch == 2 and src.count == 2
    assert not snap.biases[0].flags.writeable  # plain read-only copies


# ----------------------------------------------------------------------------- health
def _health_snapshots(n_epochs=6, act="tanh", seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float32)
    net = Network(3, [LayerConfig(8, act), LayerConfig(5, "relu")], 1, "binary", seed=seed)
    net.initialize(np.random.default_rng(seed))
    opt = make_optimizer("sgd", net.n_params)
    mon = HealthMonitor(net, X, y, seed=seed, min_interval=0.0, budget=math.inf)
    snaps = [mon.snapshot(0)]
    for e in range(1, n_epochs + 1):
        for s in range(0, 80, 20):
            net.loss_and_grad(X[s:s + 20], y[s:s + 20])
            if s == 60:
                mon.probe.before(net.params)
            opt.step(net.params, net.grads, 0.5)
        snaps.append(mon.snapshot(e))
    return snaps


def test_health_panel_plots_the_snapshots_numbers(qtbot):
    panel = LayerHealthPanel()
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    snaps = _health_snapshots()
    for s in snaps:
        panel.add_snapshot(s)
    epochs = np.array([s.epoch for s in snaps], float)
    assert panel.shown_layers() == (0, 1, 2)
    for k in panel.shown_layers():
        layers = [s.layers[k] for s in snaps]
        wanted = {
            "grad_norm": [l.grad_weight_norm for l in layers],
            "update_ratio": [np.nan if l.update_ratio is None else l.update_ratio for l in layers],
            "saturated": [np.nan if l.activations.saturated_fraction is None else l.activations.saturated_fraction
                          for l in layers],
            "dead": [np.nan if l.activations.dead_fraction is None else l.activations.dead_fraction for l in layers],
        }
        for name, values in wanted.items():
            x, y = panel.curve_data(name, k)
            values = np.array(values, float)
            if np.isnan(values).all():  # no rule for this activation: no curve
                assert x.size == 0
                continue
            np.testing.assert_array_equal(x, epochs)
            np.testing.assert_array_equal(y, values)
    # tanh has a saturation rule and no dead rule; relu the other way round
    assert panel.curve_data("saturated", 0)[1].size and not panel.curve_data("dead", 0)[1].size
    assert panel.curve_data("dead", 1)[1].size and not panel.curve_data("saturated", 1)[1].size
    assert "|h| > 0.97" in panel.plots["saturated"].toolTip()
    assert "h = 0 on every sample" in panel.plots["dead"].toolTip()
    assert panel.guide.value() == pytest.approx(-3.0)  # log10(1e-3) on the log axis
    # histograms: those of the latest snapshot
    last = snaps[-1]
    for k in panel.hist_layers():
        edges, counts = panel.histogram_data(k, "weights")
        np.testing.assert_array_equal(edges, last.layers[k].weights.hist.edges)
        np.testing.assert_array_equal(counts, last.layers[k].weights.hist.counts)
        edges, counts = panel.histogram_data(k, "activations")
        np.testing.assert_array_equal(counts, last.layers[k].activations.hist.counts)
    panel.apply_style(st.Style.presentation(dark=True))
    panel.apply_style(st.Style.normal())


def test_health_history_thins_evenly_and_keeps_the_newest():
    snap = _health_snapshots(1)[0]
    h = HealthHistory(capacity=8)
    for e in range(1, 41):
        h.add(dataclasses.replace(snap, epoch=e))
        assert len(h) <= 9
        ep = h.epochs()
        assert ep[-1] == e  # the newest is always shown
        gaps = np.diff(ep[:h.n])
        assert (gaps == gaps[0]).all() if gaps.size else True  # the kept ones evenly spaced
    assert h.stride == 8
    np.testing.assert_array_equal(h.epochs(), [1, 9, 17, 25, 33, 40])
    # another architecture starts over
    other = _health_snapshots(1, seed=1)[0]
    other = dataclasses.replace(other, layers=other.layers[:2])
    h.add(other)
    assert len(h) == 1


def test_health_panel_bounds_layers_drawn(qtbot):
    panel = LayerHealthPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    snap = _health_snapshots(1)[0]
    many = dataclasses.replace(snap, layers=tuple(
        dataclasses.replace(snap.layers[i % 3], name=f"hidden {i + 1}", index=i + 1) for i in range(20)))
    panel.add_snapshot(many)
    assert len(panel.shown_layers()) == 8 and panel.shown_layers()[0] == 0 and panel.shown_layers()[-1] == 19
    assert len(panel.hist_layers()) <= 6
    assert "8 of 20 layers" in panel.caption.text()


# ----------------------------------------------------------------------------- initialisation
def test_init_comparison_draws_the_std_table(qtbot):
    panel = InitComparison()
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    net = _net((5, 16, 16, 16, 3), ("relu", "relu", "relu"), task="multiclass", init="he_uniform")
    X = np.random.default_rng(2).normal(size=(300, 5)).astype(np.float32)
    spread = spread_for_network(net, X, seed=7)
    panel.set_spread(spread, current=("he_uniform",) * 3 + ("xavier_uniform",))
    table = spread.std_table()
    L = table.shape[1]
    for n, label in enumerate(spread.labels):
        x, y = panel.plotted(label)
        row = table[n]
        if (row > 0).any():
            np.testing.assert_array_equal(x, np.arange(1, L + 1))
            np.testing.assert_array_equal(y[row > 0], row[row > 0])
            assert np.isnan(y[row <= 0]).all()
        np.testing.assert_array_equal(panel.zero_markers(label), np.flatnonzero(row == 0.0) + 1)
        for c in range(L):
            assert panel.table.item(n, c).data(QtCore.Qt.ItemDataRole.UserRole) == row[c]
    # zeros: every layer spread 0 and all units identical -- flagged in the caption and table
    z = spread.labels.index("zeros")
    assert (table[z] == 0).all()
    assert "all units of every layer are identical" in panel.caption.text()
    assert "(all units identical)" in panel.table.item(z, 0).text()
    assert "this network (He uniform; output Xavier uniform)" in panel.key.text().replace("&nbsp;", " ")
    panel.apply_style(st.Style.presentation(dark=True))


# ----------------------------------------------------------------------------- errors
def _trained(spec):
    from workbench.build import build_run
    from workbench.data import load_dataset

    ds = load_dataset(spec.data)
    run = build_run(spec, ds, emit_batches=False)
    for _ in run.events():
        pass
    return run.network, ds


def test_confusion_matrix_cells_equal_confusion_matrix_counts(qtbot):
    spec = S.ExperimentSpec(data=S.DataSpec(source="synthetic", name="blobs", n_samples=300, n_classes=4,
                                            noise=1.5, test_fraction=0.2),
                            training=S.TrainingSpec(epochs=3))
    net, ds = _trained(spec)
    panel = ErrorsPanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    errs = errors_for(net, ds)
    panel.set_errors(errs, ds.class_names)
    assert panel.split == "validation"
    for split, X, y in (("validation", ds.X_val, ds.y_val), ("test", ds.X_test, ds.y_test)):
        if split == "test":
            with qtbot.waitSignal(panel.split_changed) as sig:
                panel.set_split("test")
            assert sig.args == ["test"]
        want = confusion_matrix(y, net.predict(X).argmax(axis=1), 4)
        np.testing.assert_array_equal(panel.cell_texts(), want)
        good, bad = cm.sign_colors(st.Style.normal())[0], QtGui.QColor(st.VERMILLION)
        for i in range(4):
            for j in range(4):
                c = panel.cell_color(i, j)
                if want[i, j] == 0:
                    assert c.name() == "#ffffff"
                else:
                    hue = good if i == j else bad
                    assert c.name() != "#ffffff" and abs(c.hueF() - hue.hueF()) < 0.03
    assert "true" in panel.describe(1.0, 2.0) and "predicted" in panel.describe(1.0, 2.0)


def test_residuals_are_observed_minus_predicted(qtbot):
    spec = S.ExperimentSpec(data=S.DataSpec(source="synthetic", name="sine_1d", n_samples=200),
                            training=S.TrainingSpec(epochs=3))
    net, ds = _trained(spec)
    panel = ErrorsPanel()
    qtbot.addWidget(panel)
    panel.set_errors(errors_for(net, ds))
    x, y = panel.shown_residuals()
    pred = net.predict(ds.X_val).astype(np.float64).reshape(-1)
    np.testing.assert_allclose(x, pred, rtol=1e-6)
    np.testing.assert_allclose(y, ds.y_val.astype(np.float64).reshape(-1) - pred, rtol=1e-6, atol=1e-9)
    assert panel.zero_line.isVisible() and panel.zero_line.value() == 0.0


# ----------------------------------------------------------------------------- gradient check
def test_gradcheck_panel_green_on_a_correct_net_and_only_the_planted_layer_red(qtbot):
    panel = GradCheckPanel()
    qtbot.addWidget(panel)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    net = Network(4, [LayerConfig(6, "tanh"), LayerConfig(5, "sigmoid")], 3, "multiclass", seed=0)
    net.initialize(np.random.default_rng(0))
    before = net.params.copy()
    panel.set_source(net, X, y)
    ok, fail = cm.pass_fail_colors(st.Style.normal())
    with qtbot.waitSignal(panel.finished, timeout=20_000) as sig:
        assert panel.check()
    assert sig.args[0].passed
    assert [c.name() for c in panel.result_colors()] == [ok.name()] * 3
    assert [panel.table.item(r, 4).text() for r in range(3)] == ["pass"] * 3
    panel.perturb = plant_error(2)
    with qtbot.waitSignal(panel.finished, timeout=20_000) as sig:
        qtbot.mouseClick(panel.button, QtCore.Qt.MouseButton.LeftButton)
    assert sig.args[0].failed_layers == (2,)
    assert [c.name() for c in panel.result_colors()] == [ok.name(), fail.name(), ok.name()]
    assert panel.table.item(1, 4).text() == "FAIL"
    np.testing.assert_array_equal(net.params, before)  # the network itself is untouched
    panel.wait()


# ----------------------------------------------------------------------------- container
def test_inside_panel_holds_the_five_and_follows_the_style(qtbot):
    panel = InsidePanel()
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    assert [panel.tabText(i) for i in range(panel.count())] == [
        "Network", "Layer health", "Initialisation", "Errors", "Gradient check"]
    net = _net((2, 8, 1), ("tanh",))
    X = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    panel.show_network(net, grid=map_grid((-1, 1), (-1, 1), resolution=8), X=X, y=(X[:, 0] > 0).astype(np.float32))
    assert panel.diagram.shown_map(1, 0).shape == (8, 8)
    assert panel.gradcheck.button.isEnabled()
    for style in (st.Style.presentation(), st.Style.normal(dark=True), st.Style.normal()):
        panel.apply_style(style)
        for i in range(panel.count()):
            panel.setCurrentIndex(i)
            panel.grab()


# ----------------------------------------------------------------------------- screenshots
SHOTS = os.environ.get("WORKBENCH_INSIDE_SHOTS") or os.environ.get("WORKBENCH_SCREENSHOT_DIR")
STYLES = (("light", st.Style.normal()), ("dark", st.Style.normal(dark=True)), ("presentation", st.Style.presentation()))


def _save(widget, tmp_path, name):
    """Grab ``widget`` (after a first paint, so every axis has its final width), save it,
    copy it to the screenshot folder if one is set, and check it is not blank."""
    app = QtWidgets.QApplication.instance()
    app.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
    widget.grab()
    app.processEvents()
    image = widget.grab().toImage()
    path = tmp_path / f"{name}.png"
    assert image.save(str(path))
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(SHOTS) / path.name)
    arr = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    assert len(np.unique(arr.reshape(-1, 4)[::97], axis=0)) > 20
    return path


def _styled(qtbot, widget, style, size):
    st.apply_theme(QtWidgets.QApplication.instance(), "dark" if style.dark else "light")
    qtbot.addWidget(widget)
    widget.apply_style(style)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def light_after():
    yield
    st.apply_theme(QtWidgets.QApplication.instance(), "light")


def test_screenshots_diagram_on_two_spirals(qtbot, tmp_path, light_after):
    spec = S.ExperimentSpec(
        data=S.DataSpec(source="synthetic", name="two_spirals", n_samples=400, noise=0.1, n_classes=2),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(units=16, activation="tanh", init="xavier_uniform"),
                                                S.LayerSpec(units=16, activation="tanh", init="xavier_uniform"))),
        optimizer=S.OptimizerSpec(kind="adam", lr=0.01), training=S.TrainingSpec(epochs=300, batch_size=32))
    net, ds = _trained(spec)
    assert net.evaluate(ds.X_val, ds.y_val)["accuracy"] > 0.9
    grid = map_grid_for(ds)
    for (theme, style), size in [(s, (1600, 1000)) for s in STYLES] + [(STYLES[0], (1280, 720))]:
        panel = _styled(qtbot, InsidePanel(), style, size)
        panel.show_network(net, grid=grid, input_names=ds.raw_feature_names)
        _save(panel, tmp_path, f"diagram_spirals_{theme}_{size[0]}x{size[1]}")


def _digits_health(act, init, lr, epochs=24):
    from workbench.data import load_dataset

    ds = load_dataset(S.DataSpec(source="bundled", name="digits"))
    net = Network(ds.n_features, [LayerConfig(64, act, init=init)] * 5, ds.n_classes, "multiclass", seed=0)
    net.initialize(np.random.default_rng(0))
    opt = make_optimizer("sgd", net.n_params)
    mon = HealthMonitor(net, ds.X_train, ds.y_train, seed=0, min_interval=0.0, budget=math.inf)
    snaps = [mon.snapshot(0)]
    order_rng = np.random.default_rng(1)
    n = len(ds.X_train)
    for e in range(1, epochs + 1):
        order = order_rng.permutation(n)
        for s in range(0, n, 32):
            idx = order[s:s + 32]
            net.loss_and_grad(ds.X_train[idx], ds.y_train[idx])
            if s + 32 >= n:
                mon.probe.before(net.params)
            opt.step(net.params, net.grads, lr)
        snaps.append(mon.snapshot(e))
    return snaps


def test_screenshots_layer_health_sigmoid_against_relu(qtbot, tmp_path, light_after):
    sigmoid = _digits_health("sigmoid", "he_normal", 2.0)
    relu = _digits_health("relu", "he_normal", 0.05)
    assert max(s.layers[4].activations.saturated_fraction for s in sigmoid) > 0.5  # it does saturate
    for (theme, style), size in [(s, (1600, 1000)) for s in STYLES] + [(STYLES[0], (1280, 720))]:
        st.apply_theme(QtWidgets.QApplication.instance(), "dark" if style.dark else "light")
        window = QtWidgets.QWidget()
        qtbot.addWidget(window)
        row = QtWidgets.QHBoxLayout(window)
        for title, snaps in (("sigmoid · He normal · SGD η = 2 (saturates)", sigmoid),
                             ("ReLU · He normal · SGD η = 0.05", relu)):
            col = QtWidgets.QVBoxLayout()
            label = QtWidgets.QLabel(f"<b>{title}</b>")
            label.setFont(st.scaled_font(st.base_font(), style, 1.1))
            col.addWidget(label)
            panel = LayerHealthPanel(style=style)
            panel.add_snapshots(snaps)
            col.addWidget(panel, 1)
            row.addLayout(col, 1)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        _save(window, tmp_path, f"health_sigmoid_vs_relu_{theme}_{size[0]}x{size[1]}")


def test_screenshots_init_comparison_at_epoch_0(qtbot, tmp_path, light_after):
    from workbench.build import make_network, task_of
    from workbench.data import load_dataset
    from workbench.engine.diagnostics import current_initializers

    spec = S.ExperimentSpec(data=S.DataSpec(source="bundled", name="digits"), architecture=S.ArchitectureSpec(
        layers=tuple(S.LayerSpec(units=128, activation="relu", init="he_uniform") for _ in range(6))))
    ds = load_dataset(spec.data)
    task, k = task_of(ds)
    net = make_network(spec, ds.n_features, task, k)
    spread = spread_for_network(net, ds.X_train, np.random.SeedSequence([spec.training.seed, 1]))
    for (theme, style), size in [(s, (1600, 1000)) for s in STYLES] + [(STYLES[0], (1280, 720))]:
        panel = _styled(qtbot, InitComparison(), style, size)
        panel.set_spread(spread, current=current_initializers(net))
        _save(panel, tmp_path, f"init_comparison_{theme}_{size[0]}x{size[1]}")


def test_screenshots_confusion_matrix_on_digits(qtbot, tmp_path, light_after):
    spec = S.ExperimentSpec(data=S.DataSpec(source="bundled", name="digits", test_fraction=0.2),
                            architecture=S.ArchitectureSpec(layers=(S.LayerSpec(units=32, activation="relu"),)),
                            training=S.TrainingSpec(epochs=8, batch_size=64))
    net, ds = _trained(spec)
    errs = errors_for(net, ds)
    for (theme, style), size in [(s, (1600, 1000)) for s in STYLES] + [(STYLES[0], (1280, 720))]:
        panel = _styled(qtbot, ErrorsPanel(), style, size)
        panel.set_errors(errs, ds.class_names)
        panel.set_split("test")
        _save(panel, tmp_path, f"confusion_digits_{theme}_{size[0]}x{size[1]}")


def test_confusion_matrix_of_many_classes_stays_bounded(qtbot):
    from workbench.engine.diagnostics import SplitErrors

    rng = np.random.default_rng(0)
    K = 100
    C = rng.integers(0, 5, (K, K)) + np.diag(rng.integers(20, 40, K))
    panel = ErrorsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.set_errors({"validation": SplitErrors("multiclass", int(C.sum()), confusion=C,
                                                accuracy=float(np.trace(C) / C.sum()))},
                     [f"class number {k}" for k in range(K)])
    assert (panel.cell_texts() == -1).all()  # no text items beyond MAX_CELL_TEXT classes
    assert sum(t.isVisible() for t in panel._texts) == 0
    assert panel.cell_color(3, 3).name() != panel.cell_color(3, 4).name()
    ticks = panel.plot.getAxis("bottom")._tickLevels[0]
    assert len(ticks) <= 20
    assert panel.describe(7.0, 5.0).startswith("true class number 5, predicted class number 7: ")
