"""Issue 10 in the window, what test_runs.py leaves out: the history and table CSV exports
through their menu actions, every seed as a thin line, the group row's mean ± std of every
numeric column, sorting the runs table, and each overlaid run's own early-stopping star."""

from __future__ import annotations

import csv
import io

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from window_kit import quick_spec, run_to_end

from workbench import compare
from workbench import spec as S
from workbench.runs import COLUMNS, NUMERIC_COLUMNS
from workbench.spec import HISTORY_COLUMNS
from workbench.ui.runs_model import fmt_mean_std

KEYS = [k for k, _h, _t in COLUMNS]


def repeat(qtbot, w, n, timeout=60_000):
    with qtbot.waitSignal(w.run_finished, timeout=timeout):
        assert w.repeat_run(n)


def read_csv(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def export_action(w, text: str):
    return next(a for a in w.runs_panel.export_button.actions() if a.text().startswith(text))


def cell_value(text: str):
    return None if text == "" else float(text)


def es_spec(kind: str, lr: float, monitor: str = "val_loss", epochs: int = 40) -> S.ExperimentSpec:
    return quick_spec(epochs=epochs, optimizer=S.OptimizerSpec(kind=kind, lr=lr),
                      early_stopping=S.EarlyStoppingSpec(enabled=True, patience=3, monitor=monitor))


def with_test_split(spec: S.ExperimentSpec) -> S.ExperimentSpec:
    """A test split too, so that every column of the table has a value."""
    return S.replace(spec, data=S.replace(spec.data, test_fraction=0.2))


# ---------------------------------------------------------------------------
# CSV exports


def test_history_csv_of_a_run_through_the_runs_dock_and_the_file_menu(qtbot, make_window, dialogs, tmp_path):
    w = make_window(quick_spec(epochs=6))
    first = run_to_end(qtbot, w)
    w.propose("optimizer", S.replace(w.spec.optimizer, lr=0.1))
    second = run_to_end(qtbot, w)
    assert first.history != second.history
    run1, _run2 = list(w.session.runs)

    # the Runs dock: Export… → "Selected run's history as CSV…" with the first run selected
    w.runs_panel.select_run(run1.id)
    dialogs.save_path = str(tmp_path / "run1.csv")
    export_action(w, "Selected run's history").trigger()
    rows = read_csv(tmp_path / "run1.csv")
    columns = [c for c in HISTORY_COLUMNS if c in run1.result.history]
    assert rows[0] == columns and len(rows) == 1 + 6
    for i, row in enumerate(rows[1:]):
        for c, cell in zip(columns, row):
            assert cell_value(cell) == run1.result.history[c][i], (c, i)  # every float exactly

    # the File menu's History as CSV exports the run shown: show the first run, export it
    w.runs_panel.select_run(run1.id)
    w.runs_panel.show_selected()
    assert w.session.current_run is run1
    dialogs.save_path = str(tmp_path / "shown.csv")
    w.actions["export_csv"].trigger()
    rows = read_csv(tmp_path / "shown.csv")
    header = rows[0]
    assert header[0] == "epoch" and len(rows) == 1 + 6
    for c in header:
        want = [None if v is None else float(v) for v in run1.result.history[c]]
        got = [cell_value(r[header.index(c)]) for r in rows[1:]]
        assert got == want, c
    assert not dialogs.errors


def test_runs_table_csv_has_one_row_per_run(qtbot, make_window, dialogs, tmp_path):
    w = make_window(with_test_split(es_spec("adam", 0.02)))
    run_to_end(qtbot, w)
    w.propose("optimizer", S.OptimizerSpec(kind="sgd", lr=0.5))
    repeat(qtbot, w, 3)
    runs = list(w.session.runs)
    assert len(runs) == 4
    dialogs.save_path = str(tmp_path / "table.csv")
    export_action(w, "Runs table as CSV").trigger()
    rows = read_csv(tmp_path / "table.csv")
    assert rows[0] == [h for _k, h, _t in COLUMNS] + ["seed", "group"]
    assert len(rows) == 1 + len(runs)
    for run, row in zip(runs, rows[1:]):
        values = w.session.runs.row(run, "best", w._parameters_of(run))
        assert row[KEYS.index("name")] == run.name and int(row[-2]) == run.seed and row[-1] == (run.group or "")
        for key in NUMERIC_COLUMNS:
            assert values[key] is not None and cell_value(row[KEYS.index(key)]) == values[key], key
    assert not dialogs.errors


# ---------------------------------------------------------------------------
# Every seed as a thin line


def _visible_curves(plot) -> list:
    return [i for i in plot.items if isinstance(i, pg.PlotDataItem) and i.isVisible()]


def test_every_seed_as_a_thin_line_on_demand(qtbot, make_window):
    w = make_window(quick_spec(epochs=6))
    repeat(qtbot, w, 3)
    members = list(w.session.runs)
    group = members[0].group
    assert [m.group for m in members] == [group] * 3
    loss_plot = w.curves.loss_plot
    before = _visible_curves(loss_plot)
    overlay = w.curves.overlays._overlays[group]
    assert not any(item.isVisible() for _p, item in overlay.member_lines)

    w.runs_panel.members_check.click()  # on
    assert w.runs_panel.members_check.isChecked() and w.curves.overlays.show_members()
    after = _visible_curves(loss_plot)
    added = [i for i in after if i not in before]
    assert len(added) == 3
    got = sorted(tuple(np.asarray(i.getData()[1], float)) for i in added)
    want = sorted(tuple(np.array([np.nan if v is None else v for v in m.result.history["val_loss"]], float))
                  for m in members)
    assert len(got) == len(want)
    for g, e in zip(got, want):
        np.testing.assert_array_equal(g, e)  # each thin line is one seed's validation loss
    for i in added:
        np.testing.assert_array_equal(i.getData()[0], members[0].result.history["epoch"])

    w.runs_panel.members_check.click()  # off
    assert not w.curves.overlays.show_members()
    assert _visible_curves(loss_plot) == before


# ---------------------------------------------------------------------------
# The group row: mean ± std of every numeric column


def test_the_group_row_is_mean_and_sample_std_of_every_numeric_column(qtbot, make_window):
    w = make_window(with_test_split(es_spec("sgd", 0.5)))
    repeat(qtbot, w, 3)
    members = list(w.session.runs)
    model = w.runs_panel.model
    group_row = model.rows[0]
    member_rows = model.rows[1:]
    assert group_row.kind == "group" and [r.kind for r in member_rows] == ["member"] * 3
    assert [r.key for r in member_rows] == [m.id for m in members]
    # each member row holds that run's own values
    for m, row in zip(members, member_rows):
        assert row.sort[KEYS.index("wall_time")] == m.result.wall_time
        assert row.sort[KEYS.index("params")] == m.result.weights.n_params
        assert row.sort[KEYS.index("test_metric")] == m.result.final_metrics["test_accuracy"]
        assert row.sort[KEYS.index("best_epoch")] == m.result.early_stop.best_epoch
        assert row.sort[KEYS.index("val_metric")] == compare.reading(m.result, "val_accuracy", "best")
        assert row.sort[KEYS.index("train_loss")] == compare.reading(m.result, "train_loss", "best")
    for key in NUMERIC_COLUMNS:
        col = KEYS.index(key)
        values = np.array([r.sort[col] for r in member_rows], dtype=np.float64)
        mean, std = float(np.mean(values)), float(np.std(values, ddof=1))
        assert group_row.sort[col] == pytest.approx(mean, rel=1e-12, abs=1e-300), key
        assert group_row.texts[col] == fmt_mean_std(key, (mean, std, 3)), key
        if key != "params":
            assert " ± " in group_row.texts[col], key
    # read at the last epoch, the group row follows
    w.runs_panel.at_combo.setCurrentIndex(w.runs_panel.at_combo.findData("last"))
    group_row, member_rows = model.rows[0], model.rows[1:]
    for key in ("val_metric", "train_loss"):
        col = KEYS.index(key)
        column = "val_accuracy" if key == "val_metric" else "train_loss"
        values = np.array([compare.reading(m.result, column, "last") for m in members])
        assert group_row.sort[col] == pytest.approx(float(np.mean(values)), rel=1e-12)
        assert group_row.texts[col] == fmt_mean_std(key, (float(np.mean(values)), float(np.std(values, ddof=1)), 3))


# ---------------------------------------------------------------------------
# Sorting


def _click_header(qtbot, view, column: int) -> None:
    header = view.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def _blocks(model) -> list[list]:
    blocks = []
    for row in model.rows:
        if row.kind == "member":
            blocks[-1].append(row)
        else:
            blocks.append([row])
    return blocks


def test_sorting_the_runs_table_orders_rows_by_that_column(qtbot, make_window):
    w = make_window(quick_spec(epochs=5))
    for lr in (0.01, 0.2, 0.05):
        w.propose("optimizer", S.replace(w.spec.optimizer, lr=lr))
        run_to_end(qtbot, w)
    w.propose("optimizer", S.replace(w.spec.optimizer, lr=0.1))
    repeat(qtbot, w, 2)
    w.panels.show_bottom("runs")
    view, model = w.runs_panel.view, w.runs_panel.model
    qtbot.waitExposed(view)
    assert len(model.rows) == 3 + 1 + 2
    order_ran = [r.key for r in model.rows]
    col = KEYS.index("train_loss")

    _click_header(qtbot, view, col)
    assert view.horizontalHeader().sortIndicatorSection() == col
    first_order = view.horizontalHeader().sortIndicatorOrder()
    for order in (first_order, None):
        if order is None:  # the second click reverses the order
            _click_header(qtbot, view, col)
            order = view.horizontalHeader().sortIndicatorOrder()
            assert order != first_order
        descending = order == Qt.SortOrder.DescendingOrder
        blocks = _blocks(model)
        tops = [b[0].sort[col] for b in blocks]
        assert tops == sorted(tops, reverse=descending) and len(set(tops)) == len(tops)
        # what the view shows follows the same order
        shown = [float(model.index(r, col).data().split(" ± ")[0]) for r in range(model.rowCount())
                 if model.rows[r].kind != "member"]
        assert shown == sorted(shown, reverse=descending)
        # a group's seeds stay under their summary row, themselves in order
        group = next(b for b in blocks if b[0].kind == "group")
        assert [r.kind for r in group] == ["group", "member", "member"]
        seeds = [r.sort[col] for r in group[1:]]
        assert seeds == sorted(seeds, reverse=descending)
        assert sorted(map(str, (r.key for r in model.rows))) == sorted(map(str, order_ran))

    # by the name (text): case-insensitive
    name_col = KEYS.index("name")
    view.sortByColumn(name_col, Qt.SortOrder.AscendingOrder)
    names = [b[0].sort[name_col].lower() for b in _blocks(model)]
    assert names == sorted(names)


# ---------------------------------------------------------------------------
# Early-stopping stars, one per run


def _stars(plot) -> list[tuple[float, float]]:
    """Every star drawn on ``plot``: (epoch, value)."""
    out = []
    for item in plot.items:
        if not (isinstance(item, (pg.ScatterPlotItem, pg.PlotDataItem)) and item.opts.get("symbol") == "star"
                and item.isVisible()):
            continue
        x, y = item.getData()
        if x is not None:
            out += [(float(a), float(b)) for a, b in zip(x, y)]
    return sorted(out)


def _best_point(result, column: str) -> tuple[float, float]:
    es = result.early_stop
    return float(es.best_epoch), float(result.history[column][es.best_epoch - 1])


def test_each_overlaid_run_has_its_own_early_stopping_star(qtbot, make_window):
    w = make_window(es_spec("adam", 0.02))
    a = run_to_end(qtbot, w)
    w.propose("optimizer", S.OptimizerSpec(kind="sgd", lr=0.5))
    b = run_to_end(qtbot, w)
    assert a.status == b.status == "early_stopped"
    assert a.early_stop.best_epoch != b.early_stop.best_epoch  # they fire at different epochs
    run_a, run_b = list(w.session.runs)
    # b is shown (its own star), a is overlaid (its star in its colour)
    assert w.curves.overlays.keys() == [run_a.id]
    assert _stars(w.curves.loss_plot) == sorted([_best_point(a, "val_loss"), _best_point(b, "val_loss")])
    assert _stars(w.curves.metric_plot) == []
    overlay = w.curves.overlays._overlays[run_a.id]
    x, y = overlay.stars.getData()
    assert list(x) == [a.early_stop.best_epoch] and list(y) == [a.early_stop.best_value]
    # nothing shown: both runs overlaid, each with its own star
    w.reset_curves()
    assert sorted(w.curves.overlays.keys()) == sorted([run_a.id, run_b.id])
    assert _stars(w.curves.loss_plot) == sorted([_best_point(a, "val_loss"), _best_point(b, "val_loss")])
    for run in (run_a, run_b):
        x, y = w.curves.overlays._overlays[run.id].stars.getData()
        assert list(x) == [run.result.early_stop.best_epoch] and list(y) == [run.result.early_stop.best_value]


def test_an_overlaid_runs_star_sits_on_the_monitored_metric_plot(qtbot, make_window):
    w = make_window(es_spec("adam", 0.05, monitor="val_accuracy"))
    a = run_to_end(qtbot, w)
    w.propose("optimizer", S.OptimizerSpec(kind="adam", lr=0.02))
    b = run_to_end(qtbot, w)
    assert a.early_stop.monitor == b.early_stop.monitor == "val_accuracy"
    assert a.early_stop.best_epoch != b.early_stop.best_epoch
    # the shown run (b): its star is on the metric plot, at its best validation accuracy
    assert _best_point(b, "val_accuracy") in _stars(w.curves.metric_plot)
    # the overlaid run (a) should be drawn the same way
    assert _stars(w.curves.metric_plot) == sorted([_best_point(a, "val_accuracy"), _best_point(b, "val_accuracy")])
    assert _stars(w.curves.loss_plot) == []


# ---------------------------------------------------------------------------
# Frame budgets by kind of run


def test_frames_get_the_budget_of_the_run_a_solo_a_group_or_a_paced_one(qtbot, make_window):
    """The window's pacer asks frame_budget with the run's pace and its number of members:
    10 % for a solo run at full speed, 5 % for a group, 25 % while a pace throttles."""
    from workbench.ui import frame_pacer

    w = make_window(quick_spec(epochs=100_000))
    budget = w.run_controller.pacer._budget
    for start, want in ((lambda: w.start_run(), frame_pacer.GUI_BUDGET),
                        (lambda: w.repeat_run(3), frame_pacer.GROUP_GUI_BUDGET)):
        with qtbot.waitSignal(w.run_started, timeout=10_000):
            assert start()
        assert budget() == want
        w.run_controller.pace.set_rate(2.0)  # far slower than it trains: the pace throttles
        qtbot.waitUntil(lambda: w.run_controller.pace.throttling, timeout=30_000)
        assert budget() == frame_pacer.PACED_GUI_BUDGET
        w.run_controller.pace.set_rate(None)
        assert budget() == want
        with qtbot.waitSignal(w.run_finished, timeout=30_000):
            w.act_stop.trigger()


def test_frames_of_batch_losses_alone_come_at_the_batch_or_the_quiet_rate(qtbot, make_window):
    """The window's pacer asks _frame_rate: batch losses alone are worth BATCH_FRAME_RATE
    while their curve is shown, QUIET_FRAME_RATE while hidden; an epoch, every frame."""
    from workbench.engine.events import BatchEnd, EpochEnd
    from workbench.ui import frame_pacer

    w = make_window(quick_spec())
    rate = w.run_controller.pacer._frame_rate
    batches = [BatchEnd(epoch=1, batch=b, step=b, loss=0.5) for b in (1, 2)]
    epoch = EpochEnd(epoch=1, train_loss=0.5, val_loss=None, penalty=0.0, lr=0.1)
    w.act_batches.setChecked(False)
    assert rate(batches) == frame_pacer.QUIET_FRAME_RATE == 4
    w.act_batches.setChecked(True)
    assert rate(batches) == frame_pacer.BATCH_FRAME_RATE == 6
    assert rate([*batches, epoch]) == rate([epoch]) == frame_pacer.MAX_FRAME_RATE == 12


def test_renaming_a_run_in_the_table_keeps_one_line(qtbot, make_window):
    """A name typed or pasted into the Run cell: tabs and newlines become spaces (the row
    stays one line), a blank one is refused and the old name stays."""
    from PySide6.QtCore import Qt

    w = make_window(quick_spec(epochs=3))
    run_to_end(qtbot, w)
    (run,) = list(w.session.runs)
    model = w.runs_panel.model
    index = model.index(0, 0)
    assert model.setData(index, "base\tline\nrun", Qt.ItemDataRole.EditRole)
    assert run.name == "base line run"
    assert not model.setData(index, " \n\t", Qt.ItemDataRole.EditRole)
    assert run.name == "base line run"


def test_table_cells_say_a_status_in_words_and_a_mean_best_epoch_to_one_decimal():
    from workbench.runs import STATUS_TEXT

    assert fmt_mean_std("best_epoch", (3.875, 1.807722, 8)) == "3.9 ± 1.8"
    assert fmt_mean_std("best_epoch", (12.0, float("nan"), 1)) == "12.0"
    assert fmt_mean_std("val_metric", (0.912345, 0.0123456, 8)) == "0.9123 ± 0.01235"
    assert STATUS_TEXT["early_stopped"] == "early stopped" and STATUS_TEXT["finished"] == "done"


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Delete])
def test_keys_typed_while_renaming_a_run_go_to_its_name(qtbot, make_window, key):
    """F2 opens the name for editing; Enter then commits it (QA: the dock's Enter shortcut,
    "show the selected run", took the key and the name was lost) and Delete deletes a
    character, not the run."""
    from PySide6.QtWidgets import QApplication, QLineEdit

    w = make_window(quick_spec(epochs=3))
    run_to_end(qtbot, w)
    run_to_end(qtbot, w)
    first, second = list(w.session.runs)
    shown = w.session.current_run.id
    view, model = w.runs_panel.view, w.runs_panel.model
    view.setFocus()
    view.setCurrentIndex(model.index(model.row_of(first.id), 0))
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and view.isAncestorOf(editor)
    editor.selectAll()
    qtbot.keyClicks(editor, "baselinex" if key == Qt.Key.Key_Delete else "baseline")
    if key == Qt.Key.Key_Delete:
        qtbot.keyClick(editor, Qt.Key.Key_Left)
        qtbot.keyClick(editor, Qt.Key.Key_Delete)  # the "x" goes, the run stays
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    else:
        qtbot.keyClick(editor, key)
    QApplication.sendPostedEvents()  # the delegate commits and closes the editor queued
    assert view.state() != view.State.EditingState
    assert [r.id for r in w.session.runs] == [first.id, second.id]
    assert first.name == "baseline"
    assert w.session.current_run.id == shown  # Enter committed the name, it did not show the run
    QApplication.processEvents()  # the table, rebuilt once the editor closed, shows it
    assert model.index(model.row_of(first.id), 0).data() == "baseline"


def test_runs_toolbar_overflow_is_visible_and_read_goes_with_its_choice(qtbot, make_window):
    """In a narrow Runs dock what does not fit goes to the toolbar's » menu: its button has
    an arrow to draw (QA: an icon size of 0 drew it as a blank square) and "Read" is not
    left behind without its at-best/at-last choice."""
    from PySide6.QtWidgets import QLabel, QToolBar, QToolButton

    w = make_window(quick_spec(epochs=3))
    w.resize(1000, 700)
    w.panels.show_bottom("runs")
    panel = w.runs_panel
    qtbot.waitUntil(lambda: panel.isVisible() and panel.width() < 700)
    bar = panel.findChild(QToolBar, "runsToolBar")
    qtbot.waitUntil(lambda: not panel.at_combo.isVisible())
    ext = [b for b in bar.findChildren(QToolButton) if b.objectName() == "qt_toolbar_ext_button"]
    assert ext and ext[0].isVisible()
    assert min(bar.iconSize().width(), bar.iconSize().height()) >= 8
    (read,) = [label for label in bar.findChildren(QLabel) if label.text().strip() == "Read"]
    assert not panel.at_combo.isVisible()
    assert read.isVisible() == panel.at_combo.isVisible()
