"""The Runs dock: every run of the session, compared fairly.

A table (a group of seeds is one row with mean ± std, its seeds below it) lists each
run with the columns of :data:`workbench.runs.COLUMNS` -- read at each run's best epoch or
at its last -- a colour swatch and a show/hide box.  Below it: Show, Duplicate and change,
Repeat × N, Pin, Delete (an undo step), seeds as thin lines, the CSV exports, and the
paired difference of two groups trained on the same seeds (B − A per epoch with its 95 %
interval, and read at the best epochs).

Everything here goes through the :class:`~workbench.ui.session.Session`; the window
only starts runs (``repeat_requested``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSpinBox, QSplitter, QTableView, QToolBar, QToolButton, QVBoxLayout,
                               QWidget)

from workbench import compare
from workbench.runs import Run, metric_columns

from . import dialogs
from . import style as st
from .plots.difference import DifferencePlot
from .runs_model import RunsModel

#: seeds Repeat × N trains by default, and at most
DEFAULT_SEEDS, MAX_SEEDS = 8, 32
#: what the difference plot can compare: (column of the history, label)
#: widest the name and "differs" columns get (pixels; longer text is elided)
MAX_TEXT_COLUMN = 170
DIFFERENCE_COLUMNS = (("val_loss", "validation loss"), ("val_metric", "validation metric"),
                      ("train_loss", "training loss"))


DELETE_TIP = "Delete the selected runs (Del; Undo brings them back)"
DELETE_TRAINING_TIP = "A run that is training cannot be deleted: stop it first (Esc)"


class RunsPanel(QWidget):
    """See the module docstring.  ``params(run)`` gives a run's parameter count (or None)."""

    repeat_requested = Signal(int)
    #: an action on the selected runs was refused, and why (the window says it in its status bar)
    refused = Signal(str)

    def __init__(self, session, params: Callable[[Run], Optional[int]], parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self.session = session
        self.params = params
        self._at = "best"
        self._style = st.Style.normal()
        self._building = False

        self.model = RunsModel(params, lambda c: st.run_color(c, self._style.dark), self._set_visible,
                               lambda run_id, name: session.update_run(run_id, name=name), self)
        self.view = QTableView(self)
        self.view.setObjectName("runsTable")
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # in the order they ran, until asked
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.verticalHeader().hide()
        self.view.setWordWrap(False)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._rebuild_after_edit = False
        self.view.itemDelegate().closeEditor.connect(self._edit_closed)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.SelectedClicked)
        self.view.doubleClicked.connect(lambda _i: self.show_selected())
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.selectionModel().selectionChanged.connect(lambda *_a: self.update_buttons())

        def button(text: str, tip: str, slot, name: str) -> QPushButton:
            b = QPushButton(text, self)
            b.setObjectName(name)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            return b

        self.show_button = button("Show", "Show the selected run on the curves (Enter, or double-click)",
                                  self.show_selected, "showRunButton")
        self.branch_button = button(
            "Duplicate and change", "Put the selected run's settings into the docks: change something and press "
            "Run.\nThe new run keeps the seed, so it starts from the same initial weights and sees the same "
            "batches\n(and dropout masks) wherever the change allows — a fair A/B comparison (Ctrl+D)",
            self.branch_selected, "branchButton")
        self.seeds_spin = QSpinBox(self)
        self.seeds_spin.setObjectName("seedsSpin")
        self.seeds_spin.setRange(2, MAX_SEEDS)
        self.seeds_spin.setValue(DEFAULT_SEEDS)
        self.seeds_spin.setPrefix("× ")
        self.seeds_spin.setToolTip("How many seeds Repeat trains (seeds s, s+1, …, from the Training dock's seed)")
        self.repeat_button = button(
            "Repeat", "Train the current settings with N seeds at once (in lockstep) and draw their mean ± standard "
            "deviation.\nTwo groups repeated from the same seed share their seeds: their paired difference is below",
            lambda: self.repeat_requested.emit(self.seeds_spin.value()), "repeatButton")
        self.pin_button = button("Pin", "Pinned runs are never removed to make room for new ones", self.pin_selected,
                                 "pinButton")
        self.delete_button = button("Delete", DELETE_TIP, self.delete_selected, "deleteRunsButton")
        self.members_check = QCheckBox("Every seed", self)
        self.members_check.setObjectName("membersCheck")
        self.members_check.setToolTip("Draw every seed of a group as a thin line, besides the mean ± std band")
        self.at_combo = QComboBox(self)
        self.at_combo.setObjectName("readAtCombo")
        self.at_combo.addItem("at the best epoch", "best")
        self.at_combo.addItem("at the last epoch", "last")
        self.at_combo.setToolTip("Read each run at its best (restored) epoch — what early stopping keeps — or at "
                                 "its last epoch")
        self.at_combo.currentIndexChanged.connect(lambda _i: self._set_at(self.at_combo.currentData()))
        self.export_button = QToolButton(self)
        self.export_button.setObjectName("exportRunsButton")
        self.export_button.setText("Export…")
        self.export_button.setToolTip("Export the table, or the selected run's history, as CSV")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.addAction("Runs table as CSV…", self.export_table)
        self.export_button.addAction("Selected run's history as CSV…", self.export_history)

        bar = QToolBar(self)  # what does not fit goes to its » menu: the dock stays narrow
        bar.setObjectName("runsToolBar")
        side = self.fontMetrics().height()  # the » button's arrow (the buttons here are text)
        bar.setIconSize(QSize(side, side))
        for w in (self.show_button, self.branch_button, self.seeds_spin, self.repeat_button, self.pin_button,
                  self.delete_button):
            bar.addWidget(w)
        bar.addSeparator()
        read_at = QWidget(self)  # "Read" and its choice go to the » menu together
        row = QHBoxLayout(read_at)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(" Read ", read_at))
        row.addWidget(self.at_combo)
        for w in (self.members_check, read_at, self.export_button):
            bar.addWidget(w)

        # the paired difference
        self.diff_a = QComboBox(self)
        self.diff_b = QComboBox(self)
        self.diff_column = QComboBox(self)
        for combo, name in ((self.diff_a, "groupA"), (self.diff_b, "groupB"), (self.diff_column, "diffColumn")):
            combo.setObjectName(name)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(5)  # (their lists show the whole names; the table needs the room)
        for key, label in DIFFERENCE_COLUMNS:
            self.diff_column.addItem(label, key)
        self.diff_a.setToolTip("Group A (the baseline)")
        self.diff_b.setToolTip("Group B (the change)")
        self.diff_plot = DifferencePlot(self)
        self.diff_plot.setObjectName("differencePlot")
        self.diff_text = QLabel(self)
        self.diff_text.setObjectName("differenceText")
        self.diff_text.setWordWrap(True)
        for combo in (self.diff_a, self.diff_b, self.diff_column):
            combo.currentIndexChanged.connect(lambda _i: self.update_difference())
        diff_box = QWidget(self)
        dl = QVBoxLayout(diff_box)
        dl.setContentsMargins(0, 0, 0, 0)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("B", self))
        pick.addWidget(self.diff_b, 1)
        pick.addWidget(QLabel("− A", self))
        pick.addWidget(self.diff_a, 1)
        pick.addWidget(self.diff_column)
        dl.addLayout(pick)
        dl.addWidget(self.diff_plot, 1)
        dl.addWidget(self.diff_text)
        self.diff_box = diff_box

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(diff_box)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(bar)
        layout.addWidget(self.splitter, 1)

        for keys, slot in ((QKeySequence.StandardKey.Delete, self.delete_selected), ("Return", self.show_selected),
                           ("Ctrl+D", self.branch_selected)):
            sc = QShortcut(QKeySequence(keys), self.view)
            # the table itself, not its children: while a name is edited, Enter commits it
            # and Delete deletes a character (QA: Enter showed the run and lost the name)
            sc.setContext(Qt.ShortcutContext.WidgetShortcut)
            sc.activated.connect(slot)
        session.runs_changed.connect(self.rebuild)
        session.current_changed.connect(self._mark_current)
        self.rebuild()

    # -- the table -------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Fill the table from the session's runs (bounded: at most MAX_RUNS rows); while
        a name is being edited, once the editor has closed (a committed name is itself a
        change of the runs: the table must not be reset under its editor)."""
        if self.view.state() == QAbstractItemView.State.EditingState:
            self._rebuild_after_edit = True
            return
        selected = self.selected_keys()
        current = self.session.current_run
        self.model.fill(self.session.runs, self._at, current.id if current is not None else None)
        sel = self.view.selectionModel()
        for key in selected:
            row = self.model.row_of(key)
            if row >= 0:
                sel.select(self.model.index(row, 0),
                           QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
        self._fit_columns()
        self._fill_group_combos()
        self.update_buttons()

    def _edit_closed(self, *_args) -> None:
        if self._rebuild_after_edit:
            self._rebuild_after_edit = False
            QTimer.singleShot(0, self.rebuild)  # after the view has let the editor go

    def _fit_columns(self) -> None:
        """Columns as wide as their contents, the run's name and what differs at most
        :data:`MAX_TEXT_COLUMN` pixels (the full text is in the tooltip)."""
        self.view.resizeColumnsToContents()
        for column in (0, 1):
            if self.view.columnWidth(column) > MAX_TEXT_COLUMN:
                self.view.setColumnWidth(column, MAX_TEXT_COLUMN)

    def _set_visible(self, key, visible: bool) -> None:
        """The show/hide box of a run, or of a group (all its seeds)."""
        runs = self.session.runs
        targets = runs.members(key) if isinstance(key, str) else [runs.get(key)]
        for run in targets:
            if run is not None and run.visible != visible:
                self.session.update_run(run.id, visible=visible)

    # -- selection -------------------------------------------------------------------------------
    def selected_keys(self) -> list:
        return [self.model.key_at(i.row()) for i in self.view.selectionModel().selectedRows(0)]

    def selected_ids(self) -> list[int]:
        """The runs selected (a group row selects its seeds)."""
        ids: list[int] = []
        for key in self.selected_keys():
            if isinstance(key, str):
                ids += [m.id for m in self.session.runs.members(key)]
            elif key is not None:
                ids.append(int(key))
        return list(dict.fromkeys(ids))

    def select_run(self, run_id: int) -> None:
        """Select ``run_id``'s row (tests, the window)."""
        self.view.selectionModel().clearSelection()
        row = self.model.row_of(run_id)
        if row >= 0:
            self.view.selectionModel().select(
                self.model.index(row, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)

    def _mark_current(self) -> None:
        """The shown run's name is underlined."""
        current = self.session.current_run
        self.model.current = current.id if current is not None else None
        if self.model.rowCount():
            self.model.dataChanged.emit(self.model.index(0, 0), self.model.index(self.model.rowCount() - 1, 0))

    def update_buttons(self) -> None:
        ids = self.selected_ids()
        running = self.session.running()
        one = len(ids) == 1
        self.show_button.setEnabled(one and not running)
        self.branch_button.setEnabled(one and not running)
        runs = [self.session.runs.get(i) for i in ids]
        training = any(r is not None and not r.done for r in runs)  # (as Session.delete_runs refuses)
        self.delete_button.setEnabled(bool(ids) and not training)
        self.delete_button.setToolTip(DELETE_TRAINING_TIP if training else DELETE_TIP)
        self.pin_button.setEnabled(bool(ids))
        self.pin_button.setText("Unpin" if runs and all(r.pinned for r in runs) else "Pin")
        self.repeat_button.setEnabled(not running)

    # -- actions ---------------------------------------------------------------------------------
    def show_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1 and not self.session.running():
            self.session.select_run(ids[0])

    def branch_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1 and not self.session.running():
            self.session.branch_from(ids[0])

    def delete_selected(self) -> str:
        reason = self.session.delete_runs(self.selected_ids())
        if reason:
            self.refused.emit(reason)
        return reason

    def pin_selected(self) -> None:
        ids = self.selected_ids()
        runs = [self.session.runs.get(i) for i in ids]
        self.session.update_runs(ids, pinned=not all(r.pinned for r in runs))

    def _set_at(self, at: str) -> None:
        if at in ("best", "last") and at != self._at:
            self._at = at
            self.rebuild()

    def export_table(self, path=None) -> bool:
        """The runs table (read as shown) as CSV."""
        path = path or dialogs.get_save_path(self, "Export runs table", "runs.csv", "CSV (*.csv)")
        if not path:
            return False
        return self._write(path, self.session.runs.table_csv(self._at, self.params))

    def export_history(self, path=None) -> bool:
        """The selected run's per-epoch history as CSV."""
        ids = self.selected_ids()
        run = self.session.runs.get(ids[0]) if len(ids) == 1 else self.session.current_run
        if run is None or run.result is None:
            self.diff_text.setText("Select one finished run to export its history.")
            return False
        path = path or dialogs.get_save_path(self, "Export run history", f"{run.name}.csv", "CSV (*.csv)")
        if not path:
            return False
        return self._write(path, compare.history_csv(run.result.history))

    def _write(self, path, text: str) -> bool:
        try:
            Path(path).write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            dialogs.show_error(self, "Export failed", f"{path}: {exc.strerror or exc}")
            return False
        return True

    # -- the paired difference --------------------------------------------------------------------
    def _fill_group_combos(self) -> None:
        groups = [g for g, members in self.session.runs.groups().items() if any(m.result for m in members)]
        for combo, default in ((self.diff_a, -2), (self.diff_b, -1)):
            keep = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for g in groups:
                combo.addItem(self.session.runs.label(self.session.runs.members(g)[0]), g)
            index = combo.findData(keep) if keep is not None else -1
            if index < 0 and len(groups) >= 2:
                index = len(groups) + default
            combo.setCurrentIndex(index)
            combo.blockSignals(False)
        self.diff_box.setVisible(len(groups) >= 2)
        self.update_difference()

    def update_difference(self) -> None:
        """Draw B − A of the chosen column and read it at the best (or last) epochs."""
        a, b = self.diff_a.currentData(), self.diff_b.currentData()
        key = self.diff_column.currentData()
        if a is None or b is None or a == b:
            self.diff_plot.show_difference(None, "B − A")
            self.diff_text.setText("Repeat two settings × N from the same seed to compare them seed by seed.")
            return
        runs = self.session.runs
        column = key
        if key == "val_metric":
            column = metric_columns(runs.members(a)[0].result)[0]
        hist_a, hist_b = runs.paired_histories(a, b)
        try:
            diff = compare.paired_difference(hist_a, hist_b, column)
            mean, low, high, n = runs.paired_reading(a, b, column, self._at)
        except ValueError as exc:
            self.diff_plot.show_difference(None, "B − A")
            self.diff_text.setText(str(exc))
            return
        label = self.diff_column.currentText()
        self.diff_plot.show_difference(diff, f"B − A {label}", runs.members(b)[0].color)
        where = "best" if self._at == "best" else "last"
        if n >= 2:
            verdict = ("B is lower" if high < 0 else "B is higher" if low > 0 else "no difference beyond seed noise")
            self.diff_text.setText(f"At each seed's {where} epoch: B − A = {mean:.4g}, 95 % interval "
                                   f"[{low:.4g}, {high:.4g}] over {n} seeds — {verdict}.")
        else:
            self.diff_text.setText(f"At the {where} epoch: B − A = {mean:.4g} (one seed: no interval).")

    def apply_style(self, style: st.Style) -> None:
        self._style = style
        self.diff_plot.apply_style(style)
        self.rebuild()
