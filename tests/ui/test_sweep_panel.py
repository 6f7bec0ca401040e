"""The Sweep panel: the form builds the sweep (and refuses what a file would refuse), the
sweep runs off the GUI thread, and the table, the parallel coordinates and the small
multiples are read back against the trials' results; Cancel keeps finished rows; a row
opens its trial as a run; closing shuts the local cluster down; themes and screenshots."""

from __future__ import annotations

import math
import os
import shutil
import threading

import numpy as np
import psutil
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from workbench.data import load_dataset
from workbench.engine.optimizers import RULES
from workbench.spec import ExperimentSpec, SavedRun, parse
from workbench.sweep import results as R
from workbench.sweep.fields import with_values
from workbench.sweep.runner import Cluster
from workbench.sweep.spec import Axis, SweepSpec
from workbench.ui import style as st
from workbench.ui.sweep import SweepPanel
from workbench.ui.sweep.multiples import MAX_SHOWN, ranked

BASE = parse(ExperimentSpec, {"name": "panel", "data": {"n_samples": 200}, "training": {"epochs": 20},
                              "early_stopping": {"enabled": True, "patience": 6}})
SWEEP = SweepSpec(axes=(Axis("optimizer.lr", "log_uniform", 1e-3, 0.3),
                        Axis("regularization.l2", values=(0.0, 1e-4, 1e-3)),
                        Axis("optimizer.kind", values=("adam", "sgd"))), samples=18, seed=2,
                  budget={"max_runs": 64})


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(BASE.data)


@pytest.fixture
def make_panel(qtbot, dataset):
    panels = []

    def make(base=BASE, sweep=SWEEP, workers=0, size=(1280, 800)):
        p = SweepPanel(base, dataset if base.data == BASE.data else None)
        qtbot.addWidget(p)
        p.set_sweep(sweep)
        p.editor.workers_spin.setValue(workers)
        p.resize(*size)
        p.show()
        qtbot.waitExposed(p)
        panels.append(p)
        return p

    yield make
    for p in panels:
        p.shutdown()


def run(qtbot, panel, timeout=60_000) -> str:
    with qtbot.waitSignal(panel.sweep_finished, timeout=timeout) as blocker:
        panel.start_button.click()
    return blocker.args[0]


# ---------------------------------------------------------------------------
# The form


def test_the_form_builds_the_sweep_and_refuses_what_a_file_would(make_panel):
    p = make_panel()
    assert p.sweep() == SWEEP
    assert p.plan_label.text() == "18 random points (seed 2) = 18 runs" and p.start_button.isEnabled()
    row = p.editor.rows[0]
    assert row.info.path == "optimizer.lr" and row.kind_combo.currentData() == "log_uniform"
    assert [row.kind_combo.itemData(i) for i in range(row.kind_combo.count())] == ["log_uniform", "uniform", "values"]
    kinds = p.editor.rows[2]
    assert [kinds.kind_combo.itemData(i) for i in range(kinds.kind_combo.count())] == ["values"]
    row.high_edit.setText("20")
    row.high_edit.textEdited.emit("20")
    assert p.reason_label.text() == "sweep.axes.0.high: optimizer.lr must be in (0, 10], got 20"
    assert p.reason_label.isVisible() and not p.start_button.isEnabled() and p.plan_label.text() == ""
    row.high_edit.setText("0.3")
    row.high_edit.textEdited.emit("0.3")
    assert p.reason_label.text() == "" and p.start_button.isEnabled()
    # a new row proposes the next classic field with a range around the base's value
    added = p.editor.add_axis()
    assert added.info.path == "architecture.layers.*.units"
    assert added.axis() == {"field": "architecture.layers.*.units", "kind": "int_uniform", "low": 8, "high": 32}
    set_field = added.field_combo.findData("optimizer.momentum")
    added.field_combo.setCurrentIndex(set_field)
    assert added.axis()["kind"] == "uniform" and 0.0 <= added.axis()["low"] < added.axis()["high"] < 1.0
    # grid: the points per range replace the samples
    p.editor.method_combo.setCurrentIndex(p.editor.method_combo.findData("grid"))
    assert p.editor.points_spin.isVisible() and not p.editor.samples_spin.isVisible()
    assert p.plan_label.text().startswith("grid of 3×3×2×3 points")
    p.editor.remove_axis(added)
    assert p.sweep().method == "grid" and len(p.sweep().axes) == 3


def test_values_are_typed_for_their_field(make_panel):
    p = make_panel()
    kinds = p.editor.rows[2]
    # the rule lists every optimizer of the engine's registry, in its order (read off
    # RULES, so adding an optimizer does not break this test)
    known = [rule.kind for rule in RULES]
    assert "adam" in known and "nesterov" in known
    unknown = "lbfgs"
    while unknown in known:  # (should an 'lbfgs' ever be added)
        unknown += "_"
    kinds.values_edit.setText(f"adam, nesterov, {unknown}")
    kinds.values_edit.textEdited.emit("")
    assert p.reason_label.text() == ("sweep.axes.2.values.2: optimizer.kind must be one of "
                                     + ", ".join(repr(kind) for kind in known) + f", got {unknown!r}")
    l2 = p.editor.rows[1]
    l2.values_edit.setText("0, 1e-4, lots")
    l2.values_edit.textEdited.emit("")
    assert p.reason_label.text().startswith("sweep.axes.1.values.2: regularization.l2 must be a number")


# ---------------------------------------------------------------------------
# Running, and what the views show


def expected_rows(panel) -> list[R.Row]:
    runner, progress = panel.runner, panel.runner.poll()
    return R.rows(runner.trials, progress.outcomes)


def test_a_sweep_runs_off_the_gui_thread_and_every_view_reads_back_its_results(qtbot, make_panel, monkeypatch):
    import workbench.sweep.runner as runner_mod

    threads = []
    real = runner_mod.train_point

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(runner_mod, "train_point", recording)
    p = make_panel()
    assert run(qtbot, p) == "finished"
    assert threads and threading.main_thread() not in threads
    rows = expected_rows(p)
    assert len(rows) == 18 and all(r.status in ("finished", "early_stopped") for r in rows)
    assert p.status_label.text().startswith("18 trials in ") and p.progress_bar.value() == 1000

    # the table: best first by the validation metric at the best epoch, cells as computed
    model = p.model
    assert [r.index for r in model.rows] == [r.index for r in R.sort_rows(rows, "val_metric")]
    metric_col, lr_col = model.column_of("val_metric"), model.column_of("optimizer.lr")
    assert model.headerData(lr_col, Qt.Orientation.Horizontal) == "η"
    for k, r in enumerate(model.rows):
        assert model.index(k, metric_col).data() == R.cell_text("val_metric", r.val_metric)
        assert model.index(k, lr_col).data(Qt.ItemDataRole.UserRole) == r.point["optimizer.lr"]
    p.table.sortByColumn(model.column_of("val_loss"), Qt.SortOrder.AscendingOrder)
    assert [r.index for r in model.rows] == [r.index for r in R.sort_rows(rows, "val_loss", False)]
    p.table.sortByColumn(model.column_of("optimizer.kind"), Qt.SortOrder.AscendingOrder)
    kinds = [r.point["optimizer.kind"] for r in model.rows]
    assert kinds == sorted(kinds)

    # the parallel coordinates: every trial's positions and colour from its values and metric
    par = p.parallel
    metrics = [r.val_metric for r in rows]
    lo, hi = min(metrics), max(metrics)
    assert par.levels == (lo, hi) and tuple(par.colorbar.levels()) == pytest.approx((lo, hi))
    assert [a.key for a in par.axes] == ["optimizer.lr", "regularization.l2", "optimizer.kind", "metric"]
    lr_low, lr_high = par.axes[0].low, par.axes[0].high
    assert par.axes[0].scale == "log" and lr_low <= 1e-3 * 1.0001 and lr_high >= 0.3 * 0.9999
    for r in rows:
        ys, metric, k = par.lines[r.index]
        lr = math.log10(r.point["optimizer.lr"])
        assert ys[0] == pytest.approx((lr - math.log10(lr_low)) / (math.log10(lr_high) - math.log10(lr_low)))
        assert ys[1] == pytest.approx(r.point["regularization.l2"] / 1e-3)  # 0 .. 1e-3, linear (0 listed)
        assert ys[2] == (0.0 if r.point["optimizer.kind"] == "adam" else 1.0)
        assert ys[3] == pytest.approx((r.val_metric - lo) / (hi - lo)) and metric == r.val_metric
        assert k == min(15, int((r.val_metric - lo) / (hi - lo) * 16))
    drawn = {}
    for k, item in enumerate(par.bin_items):
        x, y = item.getData()
        if x is None or not len(x):
            continue
        assert item.opts["pen"].color() == par.bin_color(k)
        for segment in np.split(y, np.flatnonzero(np.isnan(y)) + 1):
            if len(segment) > 1:
                drawn.setdefault(k, []).append(tuple(np.round(segment[:4], 9)))
    for r in rows:
        ys, _, k = par.lines[r.index]
        assert tuple(np.round(ys, 9)) in drawn[k]
    assert sum(len(v) for v in drawn.values()) == 18
    assert par.cmap.map(0.0, mode="qcolor").name() == "#00204d"  # cividis
    assert par.bin_color(0).name() == par.cmap.map(0.5 / 16, mode="qcolor").name()  # light theme: all of it

    # the small multiples: the best trials' curves, as the results hold them
    shown = p.multiples.shown()
    best = [r.index for r in R.sort_rows(rows, "val_metric")][:MAX_SHOWN]
    assert shown == best, "the panels show the best trials, best first"
    outcomes = p.runner.poll().outcomes
    for index in shown:
        epochs, train, val = p.multiples.curve(index)
        history = outcomes[index].result.history
        np.testing.assert_array_equal(epochs, history["epoch"])
        np.testing.assert_allclose(val, history["val_loss"])
        np.testing.assert_allclose(train, history["train_loss"])
        row = next(r for r in rows if r.index == index)
        assert p.multiples.caption(index) == f"#{index} · {row.val_metric:.3f}"


def test_live_curves_grow_while_trials_run_and_cancel_keeps_the_finished_rows(qtbot, make_panel, tmp_path):
    sweep = SweepSpec(axes=(Axis("training.epochs", values=(5, 100_000)), Axis("optimizer.lr", values=(0.01, 0.02))),
                      method="grid")
    base = with_values(BASE, {"early_stopping.enabled": False})
    p = make_panel(base=base, sweep=sweep)
    p.start_button.click()
    qtbot.waitUntil(lambda: p.runner is not None and 2 in p.multiples.shown()
                    and len(p.multiples.curve(2)[0]) > 3, timeout=30_000)
    last = p.multiples.curve(2)[0][-1]
    qtbot.waitUntil(lambda: p.multiples.curve(2)[0][-1] > last, timeout=30_000)  # it grows
    assert len(p.multiples.curve(2)[0]) <= 2000  # bounded (thinned evenly)
    assert "trials ·" in p.eta_label.text() and "left" in p.eta_label.text()
    _save(p, "sweep_panel_live.png", tmp_path)
    assert p.cancel_button.isEnabled() and not p.start_button.isEnabled() and not p.editor.add_button.isEnabled()
    statuses = {r.index: r.status for r in p.model.rows}
    assert statuses[0] == statuses[1] == "finished" and statuses[2] == "running"
    with qtbot.waitSignal(p.sweep_finished, timeout=30_000) as blocker:
        p.cancel_button.click()
    assert blocker.args == ["cancelled"]
    rows = {r.index: r for r in p.model.rows}
    assert rows[0].status == rows[1].status == "finished" and rows[0].epochs == 5
    assert rows[2].status == "stopped" and rows[2].reason == f"cut short by Cancel after epoch {rows[2].epochs}"
    assert rows[3].status == "cancelled" and rows[3].reason == "not run: cancelled before it started"
    assert p.status_label.text().endswith("(cancelled)") and p.start_button.isEnabled()
    assert p.parallel.lines[3][1] is None  # no metric: grey, dashed


def test_a_row_opens_its_trial_and_use_these_settings_gives_its_point(qtbot, make_panel):
    sweep = SweepSpec(axes=(Axis("optimizer.lr", values=(0.01, 0.05)),), method="grid", repeats=2)
    p = make_panel(sweep=sweep)
    assert run(qtbot, p) == "finished"
    row = p.model.row_of(3)
    with qtbot.waitSignal(p.open_trial) as blocker:
        p.table.clicked.emit(p.model.index(row, 0))
    runs = blocker.args[0]
    assert isinstance(runs, tuple) and [r.name for r in runs] == ["trial 2: η 0.05, seed 0", "trial 3: η 0.05, seed 1"]
    assert runs[0].group == runs[1].group == "point 1: η 0.05" and all(isinstance(r, SavedRun) for r in runs)
    outcomes = p.runner.poll().outcomes
    assert runs[1].result is outcomes[3].result and runs[1].spec.training.seed == 1
    p.table.selectRow(row)
    with qtbot.waitSignal(p.use_settings) as blocker:
        p.use_button.click()
    spec = blocker.args[0]
    assert spec == with_values(BASE, {"optimizer.lr": 0.05}) and spec.training.seed == BASE.training.seed
    assert p.parallel.highlighted == 3


def test_a_failed_trial_is_a_row_with_its_reason(qtbot, make_panel):
    sweep = SweepSpec(axes=(Axis("early_stopping.monitor", values=("val_loss", "val_rmse")),), method="grid")
    p = make_panel(sweep=sweep)
    assert run(qtbot, p) == "finished"
    rows = {r.index: r for r in p.model.rows}
    assert rows[1].status == "failed" and rows[1].reason.startswith("early_stopping.monitor: val_rmse is not measured")
    assert p.model.rows[-1].index == 1  # no metric: last
    assert p.parallel.lines[1][1] is None and 1 not in p.multiples.shown()
    reason_col = p.model.column_of("reason")
    assert p.model.index(len(p.model.rows) - 1, reason_col).data(Qt.ItemDataRole.ToolTipRole) == rows[1].reason


def test_a_local_cluster_starts_off_the_gui_thread_and_closing_shuts_it_down(qtbot, make_panel, monkeypatch):
    p = make_panel(sweep=SweepSpec(axes=(Axis("optimizer.lr", values=(0.01, 0.03, 0.1)),), method="grid"),
                   workers=2)
    before = {c.pid for c in psutil.Process().children(recursive=True)}
    # The cluster's start is held until the test lets it go, so "Start returned before the
    # cluster was up" is a matter of order, not of speed.  Were the cluster started in the
    # GUI thread, it would not wait (that would hang the click): it is recorded, starts at
    # once and the checks below fail.
    entered, release, starters = threading.Event(), threading.Event(), []
    start_local = Cluster._start_local

    def held_start_local(cluster):
        starters.append(threading.current_thread())
        entered.set()
        if threading.current_thread() is not threading.main_thread():
            assert release.wait(60), "the test never released the cluster's start"
        return start_local(cluster)

    monkeypatch.setattr(Cluster, "_start_local", held_start_local)
    with qtbot.waitSignal(p.sweep_finished, timeout=60_000) as blocker:
        try:
            p.start_button.click()
            # Start has returned; the cluster's start has not (it is held)
            assert p.cluster is not None and not p.cluster.started, "Start waited for the cluster"
            assert p.eta_label.text() == "starting the cluster…"
            assert p.running and not p.start_button.isEnabled()
            assert entered.wait(30), "the cluster was never started"
            assert starters and all(t is not threading.main_thread() for t in starters), \
                "the cluster started in the GUI thread"
        finally:
            release.set()
    assert blocker.args == ["finished"] and len(p.model.rows) == 3
    assert len(starters) == 1  # started once, off the GUI thread
    cluster = p.cluster
    pids = cluster.worker_pids()
    assert len(pids) == 2
    # the session keeps its cluster: a second sweep uses the same workers
    assert run(qtbot, p) == "finished" and p.cluster is cluster and cluster.worker_pids() == pids
    p.close()
    assert p.cluster is None and not cluster.started
    _, alive = psutil.wait_procs([psutil.Process(pid) for pid in pids if psutil.pid_exists(pid)], timeout=10)
    assert not alive, "a worker process outlived the panel"
    assert {c.pid for c in psutil.Process().children(recursive=True)} - before <= _resource_trackers()


def _resource_trackers() -> set:
    out = set()
    for c in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" in " ".join(c.cmdline()):
                out.add(c.pid)
        except psutil.Error:
            pass
    return out


# ---------------------------------------------------------------------------
# Themes, presentation mode, screenshots


def _save(panel, name: str, tmp_path) -> np.ndarray:
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    QApplication.processEvents()
    image = panel.grab().toImage()
    path = tmp_path / name
    assert image.save(str(path))
    out = os.environ.get("WORKBENCH_SCREENSHOT_DIR")
    if out:
        os.makedirs(out, exist_ok=True)
        shutil.copy(path, out)
    # a copy: the array must not outlive the image's memory
    return np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes()).reshape(-1, 4).copy()


@pytest.mark.parametrize("size", [(1600, 1000), (1280, 720)], ids=["1600x1000", "1280x720"])
def test_styles_and_screenshots(qtbot, make_panel, tmp_path, size):
    app = QApplication.instance()
    p = make_panel(size=size)
    assert run(qtbot, p) == "finished"
    p.table.selectRow(0)
    assert p.minimumSizeHint().width() <= size[0] and p.width() == size[0]
    pen = p.parallel.bin_items[0].opts["pen"].widthF()
    font = p.table.font().pointSizeF()
    for name, style, dark in (("light", st.Style.normal(), False), ("dark", st.Style.normal(dark=True), True),
                              ("presentation", st.Style.presentation(), False)):
        st.apply_theme(app, "dark" if dark else "light")
        p.apply_style(style)
        pixels = _save(p, f"sweep_panel_{name}_{size[0]}x{size[1]}.png", tmp_path)
        assert len(np.unique(pixels[::97], axis=0)) > 30, f"{name}: a blank screenshot"
        background = st.DARK.background if dark else st.LIGHT.background
        lowest = p.parallel.bin_color(0)
        assert st.contrast_ratio(lowest, st.QtGui.QColor(background)) >= (1.5 if dark else 3.0), name
        assert p.parallel.backgroundBrush().color() == st.QtGui.QColor(background)
        assert p.multiples.backgroundBrush().color() == st.QtGui.QColor(background)
        if name == "presentation":
            assert p.parallel.bin_items[0].opts["pen"].widthF() > pen
            assert p.table.font().pointSizeF() == pytest.approx(1.6 * font)
    st.apply_theme(app, "light")
    p.apply_style(st.Style.normal())
    assert p.table.font().pointSizeF() == pytest.approx(font)


def test_ranked_puts_the_best_metric_first_and_unknown_last():
    from workbench.ui.sweep.multiples import TrialCurve

    curves = [TrialCurve(i, [], [], [], m, "running", "") for i, m in enumerate((0.5, None, 0.9, 0.9, float("nan")))]
    assert [c.index for c in ranked(curves)] == [2, 3, 0, 1, 4]
    assert len(ranked(curves * 10, limit=16)) == 16
