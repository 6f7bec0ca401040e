"""The settings docks: each shows one spec part, emits a new value per real user edit,
refuses invalid combinations with a visible reason, and locks what a run may not change.

Offscreen, no sleeps: edits are driven through the widgets (setValue + editingFinished,
combo indices, mouse clicks) and observed with signal spies or ``qtbot.waitSignal``.
Widgets are never shown (showing a dock on the offscreen platform prints a Qt warning);
screenshots are grabbed from hidden windows, which Qt lays out and renders all the same.
"""

from __future__ import annotations

import hashlib
import random
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QScrollArea

from workbench import spec as S
from workbench.build import schedule_kwargs
from workbench.ui.editors import (
    EDITORS,
    ArchitectureEditor,
    DataEditor,
    EarlyStoppingEditor,
    EditorDock,
    OptimizerEditor,
    RegularizationEditor,
    ScheduleEditor,
    SpecEditor,
    TrainingEditor,
)
from workbench.ui.editors.optimizer import RELEVANT as OPT_RELEVANT
from workbench.ui.editors.schedule import RELEVANT as SCHED_RELEVANT
from workbench.ui.widgets.forms import LOCK_TEXT

ALL_DOCKS = tuple(EDITORS.values())

pytestmark = pytest.mark.qt_log_level_fail("WARNING")

OBJECT_NAMES = {
    DataEditor: "dataDock",
    ArchitectureEditor: "architectureDock",
    OptimizerEditor: "optimizerDock",
    RegularizationEditor: "regularizationDock",
    ScheduleEditor: "scheduleDock",
    EarlyStoppingEditor: "earlyStoppingDock",
    TrainingEditor: "trainingDock",
}


def make(qtbot, cls, *args, **kwargs):
    dock = cls(*args, **kwargs)
    qtbot.addWidget(dock)
    return dock


def spy(dock: SpecEditor) -> list:
    got: list = []
    dock.edited.connect(got.append)
    return got


def edit_spin(spin, value) -> None:
    """What a user does: change the number, then leave the box."""
    spin.setValue(value)
    spin.editingFinished.emit()


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_check(qtbot, box) -> None:
    """Click inside a checkbox's indicator (its left edge), where a user clicks."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def combo_to(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


# ---------------------------------------------------------------------------
# Non-default values that touch every field (round trips)


def _csv_file(tmp_path, text="a,b,label\n0,1,x\n1,0,y\n1,1,x\n0,0,y\n2,1,x\n1,2,y\n"):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def round_trip_values(tmp_path):
    path = _csv_file(tmp_path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return [
        (
            DataEditor,
            S.DataSpec(
                source="synthetic",
                name="blobs",
                n_samples=1234,
                noise=0.25,
                n_classes=5,
                derived_features=("x1_sq", "x1x2"),
                val_fraction=0.15,
                test_fraction=0.1,
                stratify=False,
                scaling="minmax",
                seed=4_000_000_000,
            ),
        ),
        (DataEditor, S.DataSpec(source="bundled", name="wine", val_fraction=0.3, scaling="none", seed=7)),
        (
            DataEditor,
            S.DataSpec(
                source="csv",
                name="data.csv",
                csv_path=str(path),
                csv_sha256=sha,
                target_column="a",
                task="regression",
                val_fraction=0.25,
            ),
        ),
        (
            ArchitectureEditor,
            S.ArchitectureSpec(
                layers=(S.LayerSpec(8, "relu", 0.1, "he_normal"), S.LayerSpec(4, "sigmoid", 0.0, "lecun_normal")),
                input_dropout=0.2,
                output_init="pytorch_default",
            ),
        ),
        (ArchitectureEditor, S.ArchitectureSpec(layers=(), input_dropout=0.0, output_init="he_uniform")),
        (
            OptimizerEditor,
            S.OptimizerSpec(
                kind="rmsprop",
                lr=0.0003,
                momentum=0.5,
                momentum_form="accumulator",
                beta1=0.8,
                beta2=0.99,
                rho=0.95,
                eps=1e-7,
                bias_correction=False,
            ),
        ),
        (OptimizerEditor, S.OptimizerSpec(kind="adadelta", lr=1.0, rho=0.9, eps=1e-6)),
        (
            RegularizationEditor,
            S.RegularizationSpec(
                l1=1e-4,
                l2=0.003,
                weight_decay=0.05,
                penalize_biases=True,
                input_noise=0.2,
                dropout_test_method="mc",
                mc_samples=7,
            ),
        ),
        (
            ScheduleEditor,
            S.ScheduleSpec(
                kind="multistep",
                step_size=7,
                gamma=0.3,
                milestones=(10, 20, 50),
                end_factor=0.1,
                power=0.75,
                period=40,
                warm_restarts=True,
                t_mult=2,
                min_lr=1e-5,
                pct_start=0.25,
                div_factor=10.0,
                final_div_factor=100.0,
                factor=0.2,
                patience=3,
                cooldown=2,
                threshold=0.001,
                monitor="train_loss",
                warmup_epochs=5,
                warmup_start_factor=0.2,
            ),
        ),
        (
            EarlyStoppingEditor,
            S.EarlyStoppingSpec(
                enabled=True,
                monitor="val_accuracy",
                mode="max",
                patience=4,
                min_delta=0.001,
                start_epoch=10,
                restore_best=False,
                followup="continue",
            ),
        ),
        (TrainingEditor, S.TrainingSpec(epochs=500, batch_size=64, seed=123_456_789)),
    ]


@pytest.mark.parametrize("cls", ALL_DOCKS, ids=lambda c: c.__name__)
def test_dock_frame(qtbot, cls):
    dock = EditorDock(cls())
    qtbot.addWidget(dock)
    assert isinstance(dock, QDockWidget) and isinstance(dock.editor, SpecEditor)
    assert dock.objectName() == OBJECT_NAMES[cls]
    features = dock.features()
    for flag in (
        QDockWidget.DockWidgetFeature.DockWidgetMovable,
        QDockWidget.DockWidgetFeature.DockWidgetClosable,
        QDockWidget.DockWidgetFeature.DockWidgetFloatable,
    ):
        assert features & flag
    assert isinstance(dock.widget(), QScrollArea) and dock.widget().widgetResizable()
    # the scroll area asks for its content's width, so a dock does not open squeezed
    assert dock.widget().sizeHint().width() >= dock.widget().widget().sizeHint().width()
    assert dock.editor.reason_text() == ""


@pytest.mark.parametrize("index", range(11))
def test_set_value_round_trip_emits_nothing(qtbot, tmp_path, index):
    cls, value = round_trip_values(tmp_path)[index]
    dock = make(qtbot, cls)
    got = spy(dock)
    dock.set_value(value)
    assert dock.value() == value
    assert got == []
    # the widgets reproduce the value exactly: re-reading them is not a change
    dock._commit()
    assert got == []
    assert dock.value() == value
    assert dock.reason_text() == ""


@pytest.mark.parametrize("cls", ALL_DOCKS, ids=lambda c: c.__name__)
def test_every_input_has_a_tooltip(qtbot, cls):
    dock = make(qtbot, cls)
    for widget in dock._all_inputs():
        if widget is getattr(dock, "table", None):
            continue
        assert widget.toolTip().strip(), f"{cls.__name__}: {widget.objectName() or type(widget).__name__}"


# ---------------------------------------------------------------------------
# Data


def test_data_user_edits_emit_one_value_each(qtbot):
    dock = make(qtbot, DataEditor)
    old = dock.value()
    got = spy(dock)
    with qtbot.waitSignal(dock.edited) as blocker:
        edit_spin(dock.samples_spin, 1000)
    assert blocker.args == [S.replace(old, "data", n_samples=1000)]
    assert got == [S.replace(old, "data", n_samples=1000)]

    click_check(qtbot, dock.derived_checks["x1_sq"])
    assert len(got) == 2 and got[-1].derived_features == ("x1_sq",)

    combo_to(dock.scaling_combo, "minmax")
    assert len(got) == 3 and got[-1] == S.replace(got[1], "data", scaling="minmax")

    edit_spin(dock.val_spin, 0.3)
    assert len(got) == 4 and got[-1].val_fraction == 0.3


def test_data_source_and_name(qtbot):
    dock = make(qtbot, DataEditor)
    got = spy(dock)
    combo_to(dock.source_combo, "bundled")
    assert len(got) == 1
    assert got[0].source == "bundled"
    assert got[0].name == dock.name_combo.itemData(0)
    assert "iris" in [dock.name_combo.itemData(i) for i in range(dock.name_combo.count())]
    # the task is shown next to the name
    assert "classification" in dock.name_combo.itemText(dock.name_combo.findData("iris"))
    # only synthetic sets have a sample count, noise and derived features
    assert dock.samples_spin.isHidden() and dock.noise_spin.isHidden() and dock.derived_widget.isHidden()

    combo_to(dock.source_combo, "synthetic")
    combo_to(dock.name_combo, "blobs")
    assert not dock.classes_spin.isHidden()
    assert not dock.derived_widget.isHidden()
    combo_to(dock.name_combo, "sine_1d")  # 1-D: no x2, no derived features
    assert dock.classes_spin.isHidden() and dock.derived_widget.isHidden()
    assert got[-1].name == "sine_1d" and got[-1].derived_features == ()


def test_data_invalid_split_is_refused_with_reason(qtbot):
    dock = make(qtbot, DataEditor)
    old = dock.value()
    got = spy(dock)
    edit_spin(dock.test_spin, 0.8)  # 0.2 + 0.8 > 0.9
    assert got == []
    assert dock.value() == old
    assert "val_fraction + test_fraction must be <= 0.9" in dock.reason_text()
    assert not dock.reason_label.isHidden()
    # the form shows a value not in effect: Run is told why it must wait
    assert "val_fraction + test_fraction must be <= 0.9" in dock.commit_typed()
    edit_spin(dock.val_spin, 0.05)  # now 0.85: valid, both fields in one new value
    assert got == [S.replace(old, "data", val_fraction=0.05, test_fraction=0.8)]
    assert dock.reason_text() == ""
    assert dock.commit_typed() is None


def test_data_typed_out_of_range_value_is_refused_visibly(qtbot):
    dock = make(qtbot, DataEditor)
    got = spy(dock)
    dock.samples_spin.setFocus()
    dock.samples_spin.lineEdit().selectAll()
    qtbot.keyClicks(dock.samples_spin.lineEdit(), "999999999")
    qtbot.keyClick(dock.samples_spin, Qt.Key.Key_Return)
    assert got == []
    assert dock.samples_spin.value() == 400
    assert "data.n_samples: must be between 4 and 200,000, got 999999999" in dock.reason_text()


def test_data_csv_choose_browse_and_errors(qtbot, tmp_path, monkeypatch):
    path = _csv_file(tmp_path)
    dock = make(qtbot, DataEditor)
    got = spy(dock)
    # choosing the CSV source before a file only asks for one
    combo_to(dock.source_combo, "csv")
    assert got == []
    assert "Choose a CSV file" in dock.reason_text()
    assert not dock.path_row.isHidden() and not dock.target_combo.isHidden()

    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "CSV files (*.csv)")))
    click(qtbot, dock.browse_button)
    assert len(got) == 1
    v = got[0]
    assert v.source == "csv" and v.csv_path == str(path) and v.name == "data.csv"
    assert v.csv_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert v.target_column == "label"  # the last column by default
    assert [dock.target_combo.itemData(i) for i in range(dock.target_combo.count())] == ["a", "b", "label"]

    combo_to(dock.target_combo, "b")
    assert len(got) == 2 and got[-1].target_column == "b"
    combo_to(dock.task_combo, "regression")
    assert len(got) == 3 and got[-1].task == "regression"

    # a reading error is shown and changes nothing
    assert dock.choose_csv(str(tmp_path / "missing.csv")) is False
    assert len(got) == 3
    assert "missing.csv" in dock.reason_text()
    bad = tmp_path / "bad.csv"
    bad.write_text("")
    assert dock.choose_csv(str(bad)) is False
    assert len(got) == 3 and dock.reason_text()


def test_data_preview_scatter_and_summary(qtbot):
    dock = make(qtbot, DataEditor)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    ds = SimpleNamespace(
        X_train=X, y_train=y, X_val=X[:5], X_test=X[:0], task="classification", n_classes=2, warnings=()
    )
    dock.set_preview(ds)
    px, py = dock.preview_points()
    assert np.allclose(px, X[:, 0]) and np.allclose(py, X[:, 1])
    assert not dock.preview_plot.isHidden()
    assert "25 samples (20 train) · 2 features · 2 classes" == dock.summary_label.text()

    x1 = np.linspace(-1, 1, 9, dtype=np.float32)[:, None]
    reg = SimpleNamespace(
        X_train=x1, y_train=np.sin(x1), X_val=x1[:0], X_test=x1[:0], task="regression", n_classes=0, warnings=()
    )
    dock.set_preview(reg)
    px, py = dock.preview_points()
    assert np.allclose(px, x1[:, 0]) and np.allclose(py, np.sin(x1[:, 0]))

    wide = SimpleNamespace(
        X_train=np.zeros((30, 4), np.float32),
        y_train=np.zeros(30, np.int64),
        X_val=np.zeros((10, 4), np.float32),
        X_test=np.zeros((0, 4), np.float32),
        task="classification",
        n_classes=3,
        warnings=("a warning",),
    )
    dock.set_preview(wide)
    assert dock.preview_points() is not None  # first two features of a 4-feature set
    dock.set_preview(None)
    assert dock.preview_points() is None and dock.preview_plot.isHidden()
    assert dock.summary_label.text() == "No data loaded yet."


def test_data_preview_of_a_real_dataset(qtbot):
    data = pytest.importorskip("workbench.data")
    if not hasattr(data, "load_dataset"):
        pytest.skip("workbench.data.load_dataset not there yet")
    dock = make(qtbot, DataEditor)
    ds = data.load_dataset(S.DataSpec(name="moons", n_samples=100))
    dock.set_preview(ds)
    px, py = dock.preview_points()
    assert np.allclose(px, ds.X_train[:, 0]) and np.allclose(py, ds.X_train[:, 1])
    assert "2 features" in dock.summary_label.text()


# ---------------------------------------------------------------------------
# Architecture


def test_architecture_parameter_count_2_16_16_1(qtbot):
    dock = make(qtbot, ArchitectureEditor)
    dock.set_value(S.ArchitectureSpec(layers=(S.LayerSpec(16, "relu"), S.LayerSpec(16, "relu"))))
    assert "parameters known once the data is set" in dock.shapes_text()
    dock.set_io(2, 1, "sigmoid + BCE")
    # 2*16+16 + 16*16+16 + 16*1+1 = 337
    assert dock.shapes_text() == "2 → 16 → 16 → 1 · 337 parameters"
    assert dock.output_label.text() == "1 unit · sigmoid + BCE"
    dock.set_io(64, 10, "softmax + cross-entropy")
    # 64*16+16 + 16*16+16 + 16*10+10 = 1040 + 272 + 170 = 1482
    assert dock.shapes_text() == "64 → 16 → 16 → 10 · 1,482 parameters"


def test_architecture_buttons_build_the_expected_spec(qtbot):
    dock = make(qtbot, ArchitectureEditor)
    dock.set_value(S.ArchitectureSpec(layers=()))
    dock.set_io(2, 1, "sigmoid + BCE")
    got = spy(dock)
    assert not dock.remove_button.isEnabled()

    for _ in range(3):
        click(qtbot, dock.add_button)
    assert len(got) == 3
    relu = S.LayerSpec(16, "relu", 0.0, "he_uniform")
    assert got[-1].layers == (relu, relu, relu)
    assert dock.selected_row() == 2

    # edit cells of row 0: units and activation
    units0, act0, drop0, init0 = dock._rows[0]
    edit_spin(units0, 8)
    assert len(got) == 4 and got[-1].layers[0] == S.LayerSpec(8, "relu", 0.0, "he_uniform")
    combo_to(act0, "tanh")
    assert len(got) == 5 and got[-1].layers[0] == S.LayerSpec(8, "tanh", 0.0, "he_uniform")
    edit_spin(dock._rows[1][2], 0.25)
    assert len(got) == 6 and got[-1].layers[1].dropout == 0.25
    a = S.LayerSpec(8, "tanh", 0.0, "he_uniform")
    b = S.LayerSpec(16, "relu", 0.25, "he_uniform")
    c = relu
    assert got[-1].layers == (a, b, c)
    assert dock.shapes_text() == "2 → 8 → 16 → 16 → 1 · " + f"{2*8+8 + 8*16+16 + 16*16+16 + 16+1} parameters"

    # move row 0 down -> (b, a, c)
    dock.table.selectRow(0)
    click(qtbot, dock.down_button)
    assert len(got) == 7 and got[-1].layers == (b, a, c)
    assert dock.selected_row() == 1
    # move it back up -> (a, b, c)
    click(qtbot, dock.up_button)
    assert len(got) == 8 and got[-1].layers == (a, b, c)
    assert dock.selected_row() == 0
    # duplicate row 1 -> (a, b, b, c)
    dock.table.selectRow(1)
    click(qtbot, dock.duplicate_button)
    assert len(got) == 9 and got[-1].layers == (a, b, b, c)
    assert dock.selected_row() == 2
    # insert above row 0 (copies its activation/init, 16 units, no dropout)
    dock.table.selectRow(0)
    click(qtbot, dock.insert_button)
    new = S.LayerSpec(16, "tanh", 0.0, "he_uniform")
    assert len(got) == 10 and got[-1].layers == (new, a, b, b, c)
    # remove the selected (inserted) row
    click(qtbot, dock.remove_button)
    assert len(got) == 11 and got[-1].layers == (a, b, b, c)
    assert dock.value() == got[-1]
    assert dock.table.rowCount() == 4


def test_architecture_max_layers_and_shortcuts(qtbot):
    dock = make(qtbot, ArchitectureEditor)
    dock.set_value(S.ArchitectureSpec(layers=tuple(S.LayerSpec(4) for _ in range(S.MAX_LAYERS))))
    got = spy(dock)
    assert not dock.add_button.isEnabled() and not dock.insert_button.isEnabled()
    dock.add_layer()
    assert got == []
    assert f"at most {S.MAX_LAYERS}" in dock.reason_text()
    for button in (dock.add_button, dock.insert_button, dock.remove_button, dock.up_button, dock.down_button,
                   dock.duplicate_button):
        assert "Ctrl+Alt+" in button.toolTip() or "Ctrl+Alt+" in button.toolTip().replace("⌃⌥", "Ctrl+Alt+")


def test_architecture_zero_init_warns_but_emits(qtbot):
    dock = make(qtbot, ArchitectureEditor)
    got = spy(dock)
    combo_to(dock._rows[1][3], "zeros")
    assert len(got) == 1 and got[0].layers[1].init == "zeros"
    assert "symmetry trap" in dock.reason_text() and "layer 2" in dock.reason_text()
    combo_to(dock._rows[1][3], "he_normal")
    assert len(got) == 2 and dock.reason_text() == ""


# ---------------------------------------------------------------------------
# Optimizer


def test_optimizer_shows_only_relevant_fields(qtbot):
    dock = make(qtbot, OptimizerEditor)
    for kind in S.OPTIMIZERS:
        combo_to(dock.kind_combo, kind)
        assert dock.visible_fields() == [f for f in dock._rows if f in OPT_RELEVANT[kind]], kind
        for name, widget in dock._rows.items():
            assert widget.isHidden() == (name not in OPT_RELEVANT[kind]), (kind, name)
            assert widget.isVisibleTo(dock) == (name in OPT_RELEVANT[kind]), (kind, name)
        assert dock.adamw_note.isHidden() == (kind != "adamw")
        assert dock.formula_label.text()
    combo_to(dock.kind_combo, "rmsprop")
    assert "γ" in dock.rho_label.text() and "(1 − γ)" in dock.formula_label.text()
    combo_to(dock.kind_combo, "adam")
    assert "eq. 7" in dock.formula_label.text()
    click_check(qtbot, dock.bias_check)
    assert "eq. 6" in dock.formula_label.text()


def test_optimizer_edits(qtbot):
    dock = make(qtbot, OptimizerEditor)
    old = dock.value()
    got = spy(dock)
    with qtbot.waitSignal(dock.edited) as blocker:
        edit_spin(dock.lr_spin, 0.003)
    assert blocker.args == [S.replace(old, "optimizer", lr=0.003)]
    assert len(got) == 1
    combo_to(dock.kind_combo, "sgd")
    assert got[-1] == S.replace(old, "optimizer", lr=0.003, kind="sgd") and len(got) == 2
    # the log-grid arrows (1, 2, 3, 5 x 10^k): 0.003 -> 0.005 -> 0.01, then two down -> 0.003
    dock.lr_spin.stepBy(1)
    assert got[-1].lr == 0.005
    dock.lr_spin.stepBy(1)
    assert got[-1].lr == 0.01
    dock.lr_spin.stepBy(-2)
    assert got[-1].lr == 0.003
    assert len(got) == 5
    assert dock.lr_spin.text() == "0.003"


def test_optimizer_nesterov_needs_momentum(qtbot):
    dock = make(qtbot, OptimizerEditor)
    combo_to(dock.kind_combo, "nesterov")
    good = dock.value()
    got = spy(dock)
    edit_spin(dock.momentum_spin, 0.0)
    assert got == []
    assert dock.value() == good
    assert "nesterov requires momentum > 0" in dock.reason_text()
    edit_spin(dock.momentum_spin, 0.5)
    assert got == [S.replace(good, "optimizer", momentum=0.5)]
    assert dock.reason_text() == ""


def test_optimizer_kind_switch_defaults(qtbot):
    dock = make(qtbot, OptimizerEditor)
    got = spy(dock)
    combo_to(dock.kind_combo, "adadelta")
    assert len(got) == 1
    assert (got[0].kind, got[0].lr, got[0].rho, got[0].eps) == ("adadelta", 1.0, 0.9, 1e-6)
    combo_to(dock.kind_combo, "adam")
    assert (got[-1].kind, got[-1].lr, got[-1].eps) == ("adam", 0.01, 1e-8)
    # a user-chosen lr survives the switch
    edit_spin(dock.lr_spin, 0.05)
    combo_to(dock.kind_combo, "adadelta")
    assert (got[-1].kind, got[-1].lr) == ("adadelta", 0.05)
    # nesterov with momentum 0 becomes momentum 0.9
    dock.set_value(S.OptimizerSpec(kind="momentum", momentum=0.0))
    combo_to(dock.kind_combo, "nesterov")
    assert (got[-1].kind, got[-1].momentum) == ("nesterov", 0.9)


def test_optimizer_eps_accepts_scientific_notation(qtbot):
    dock = make(qtbot, OptimizerEditor)
    got = spy(dock)
    assert dock.eps_spin.text() == "1e-08"
    dock.eps_spin.lineEdit().setText("3e-7")
    dock.eps_spin.interpretText()
    dock.eps_spin.editingFinished.emit()
    assert len(got) == 1 and got[0].eps == pytest.approx(3e-7)


# ---------------------------------------------------------------------------
# Regularization


def test_regularization_edits_and_mc_visibility(qtbot):
    dock = make(qtbot, RegularizationEditor)
    old = dock.value()
    got = spy(dock)
    edit_spin(dock.l2_spin, 0.001)
    assert got == [S.replace(old, "regularization", l2=0.001)]
    assert dock.mc_spin.isHidden()
    combo_to(dock.method_combo, "mc")
    assert not dock.mc_spin.isHidden()
    assert got[-1].dropout_test_method == "mc" and len(got) == 2
    edit_spin(dock.mc_spin, 50)
    assert got[-1].mc_samples == 50 and len(got) == 3
    click_check(qtbot, dock.biases_check)
    assert got[-1].penalize_biases is True and len(got) == 4
    combo_to(dock.method_combo, "classic")
    assert dock.mc_spin.isHidden()
    assert "(α/2)" in dock.l2_spin.toolTip() and "ηλw" in dock.wd_spin.toolTip()


# ---------------------------------------------------------------------------
# Schedule


def test_schedule_fields_per_kind_and_milestones(qtbot):
    dock = make(qtbot, ScheduleEditor)
    old = dock.value()
    got = spy(dock)
    combo_to(dock.kind_combo, "multistep")
    assert got == [S.replace(old, "schedule", kind="multistep")]
    assert sorted(dock.visible_fields()) == sorted(SCHED_RELEVANT["multistep"])
    # not increasing: refused with the reason
    dock.milestones_edit.setText("30, 10")
    dock.milestones_edit.editingFinished.emit()
    assert len(got) == 1
    assert "schedule.milestones: must be strictly increasing" in dock.reason_text()
    dock.milestones_edit.setText("ten")
    dock.milestones_edit.editingFinished.emit()
    assert len(got) == 1 and "whole epoch numbers" in dock.reason_text()
    dock.milestones_edit.setText("10, 30,60")
    dock.milestones_edit.editingFinished.emit()
    assert len(got) == 2 and got[-1].milestones == (10, 30, 60)
    assert dock.reason_text() == ""
    assert dock.milestones_edit.isHidden() is False

    for kind in S.SCHEDULES:
        combo_to(dock.kind_combo, kind)
        expected = set(SCHED_RELEVANT[kind])
        if kind == "cosine" and not dock.restarts_check.isChecked():
            expected.discard("t_mult")
        assert set(dock.visible_fields()) == expected, kind
    combo_to(dock.kind_combo, "cosine")
    assert dock.tmult_spin.isHidden()
    click_check(qtbot, dock.restarts_check)
    assert not dock.tmult_spin.isHidden() and got[-1].warm_restarts is True
    # warm-up is there for every kind
    assert not dock.warmup_spin.isHidden() and not dock.warmup_factor_spin.isHidden()


def test_schedule_preview_matches_engine(qtbot):
    dock = make(qtbot, ScheduleEditor)
    spec = S.ScheduleSpec(kind="step", step_size=10, gamma=0.5, warmup_epochs=3)
    dock.set_value(spec)
    dock.set_context(0.1, 50)
    try:
        from workbench.engine.schedules import make_schedule
    except ImportError:
        assert dock.preview_data() is None
        assert "unavailable" in dock.preview_note.text()
        pytest.skip("workbench.engine.schedules not there yet")
    expected = make_schedule("step", 0.1, 50, **schedule_kwargs(spec)).preview(50)
    data = dock.preview_data()
    assert data is not None and np.array_equal(data, expected)
    x, y = dock._curve.getData()
    assert np.array_equal(x, np.arange(1, 51)) and np.array_equal(y, expected)
    # a user edit redraws the preview
    edit_spin(dock.gamma_spin, 0.25)
    expected = make_schedule("step", 0.1, 50, **schedule_kwargs(dock.value())).preview(50)
    assert np.array_equal(dock.preview_data(), expected)
    # plateau: the base line and a note that the drops depend on the run
    combo_to(dock.kind_combo, "plateau")
    assert "depend on the run" in dock.preview_note.text()
    assert len(dock.preview_data()) == 50


# ---------------------------------------------------------------------------
# Early stopping and training


def test_early_stopping_edits(qtbot):
    dock = make(qtbot, EarlyStoppingEditor)
    old = dock.value()
    got = spy(dock)
    dock.group.setChecked(True)
    assert got == [S.replace(old, "early_stopping", enabled=True)]
    edit_spin(dock.patience_spin, 25)
    assert got[-1].patience == 25 and len(got) == 2
    combo_to(dock.followup_combo, "retrain")
    assert got[-1].followup == "retrain" and len(got) == 3
    combo_to(dock.monitor_combo, "val_r2")
    assert got[-1].monitor == "val_r2" and len(got) == 4
    click_check(qtbot, dock.restore_check)
    assert got[-1].restore_best is False and len(got) == 5


def test_training_edits_and_new_seed(qtbot):
    dock = make(qtbot, TrainingEditor, rng=random.Random(1))
    old = dock.value()
    got = spy(dock)
    edit_spin(dock.epochs_spin, 1000)
    assert got == [S.replace(old, "training", epochs=1000)]
    edit_spin(dock.batch_spin, 1)
    assert got[-1].batch_size == 1 and len(got) == 2
    click(qtbot, dock.new_seed_button)
    assert len(got) == 3
    expected_seed = random.Random(1).randint(0, 999_999)
    assert got[-1].seed == expected_seed != 0
    assert dock.seed_spin.int_value() == expected_seed
    dock.set_value(S.TrainingSpec(seed=S.MAX_SEED))
    assert dock.seed_spin.int_value() == S.MAX_SEED and len(got) == 3


# ---------------------------------------------------------------------------
# Locking during a run


LIVE = {
    OptimizerEditor: {"lr_spin"},
    RegularizationEditor: {"l1_spin", "l2_spin", "wd_spin"},
}


@pytest.mark.parametrize("cls", ALL_DOCKS, ids=lambda c: c.__name__)
def test_set_running_locks_all_but_live_fields(qtbot, cls):
    dock = make(qtbot, cls)
    live = {getattr(dock, name) for name in LIVE.get(cls, set())}
    inputs = dock._all_inputs()
    assert inputs
    dock.set_running(True)
    assert not dock.lock_label.isHidden() and dock.lock_label.text().startswith(LOCK_TEXT)
    for widget in inputs:
        assert widget.isEnabled() == (widget in live), (cls.__name__, widget.objectName(), type(widget).__name__)
    dock.set_running(False)
    assert dock.lock_label.isHidden()
    for widget in inputs:
        if widget in (getattr(dock, "remove_button", None), getattr(dock, "up_button", None),
                      getattr(dock, "down_button", None), getattr(dock, "duplicate_button", None)):
            continue  # enabled by the selection, not by the lock
        if cls is EarlyStoppingEditor and widget is not dock.group:
            continue  # enabled by the group's checkbox
        assert widget.isEnabled(), (cls.__name__, widget.objectName())


def test_live_edit_while_running_still_emits(qtbot):
    dock = make(qtbot, OptimizerEditor)
    got = spy(dock)
    dock.set_running(True)
    edit_spin(dock.lr_spin, 0.02)
    assert len(got) == 1 and got[0].lr == 0.02
    reg = make(qtbot, RegularizationEditor)
    rgot = spy(reg)
    reg.set_running(True)
    edit_spin(reg.wd_spin, 0.01)
    assert len(rgot) == 1 and rgot[0].weight_decay == 0.01


def test_show_error_is_cleared_by_set_value(qtbot):
    dock = make(qtbot, TrainingEditor)
    dock.show_error("data: something went wrong")
    assert dock.reason_text() == "data: something went wrong"
    dock.set_value(dock.value())
    assert dock.reason_text() == ""


# ---------------------------------------------------------------------------
# Screenshots (looked at by a person; the test checks only that they are written)


def test_screenshots(qtbot, tmp_path):
    from pathlib import Path

    for cls in ALL_DOCKS:
        window = QMainWindow()
        qtbot.addWidget(window)
        central = QLabel("(plots)")
        central.setAlignment(Qt.AlignmentFlag.AlignCenter)
        central.setMinimumSize(260, 200)
        window.setCentralWidget(central)
        dock = cls()
        if cls is ArchitectureEditor:
            dock.set_io(2, 1, "sigmoid + BCE")
            combo_to(dock._rows[0][3], "zeros")
        elif cls is ScheduleEditor:
            dock.set_value(S.ScheduleSpec(kind="cosine", warm_restarts=True, period=40, t_mult=2, warmup_epochs=5))
            dock.set_context(0.05, 200)
        elif cls is OptimizerEditor:
            combo_to(dock.kind_combo, "nesterov")
            edit_spin(dock.momentum_spin, 0.0)  # shows the red reason
        elif cls is DataEditor:
            rng = np.random.default_rng(1)
            X = rng.normal(size=(150, 2)).astype(np.float32)
            y = (np.hypot(X[:, 0], X[:, 1]) > 1).astype(np.int64) + (X[:, 0] > 1).astype(np.int64)
            dock.set_preview(SimpleNamespace(X_train=X, y_train=y, X_val=X[:30], X_test=X[:0],
                                             task="classification", n_classes=3, warnings=()))
        elif cls is RegularizationEditor:
            combo_to(dock.method_combo, "mc")
            dock.set_running(True)
        frame = EditorDock(dock, window)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, frame)
        window.resize(max(760, frame.sizeHint().width() + 300), 660)
        out = Path("/tmp") / f"docks_{frame.objectName()}.png"
        assert window.grab().save(str(out))
        assert out.stat().st_size > 1000


def test_wheel_does_not_change_an_unfocused_box(qtbot):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    dock = make(qtbot, TrainingEditor)
    got = spy(dock)
    for widget in (dock.epochs_spin, make(qtbot, OptimizerEditor).kind_combo):
        before = widget.value() if hasattr(widget, "value") else widget.currentIndex()
        event = QWheelEvent(
            QPointF(5, 5), QPointF(5, 5), QPoint(0, 0), QPoint(0, -120),
            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
        )
        QApplication.sendEvent(widget, event)
        after = widget.value() if hasattr(widget, "value") else widget.currentIndex()
        assert after == before
    assert got == []


def test_focusing_a_cell_selects_its_layer(qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QFocusEvent
    from PySide6.QtWidgets import QApplication

    dock = make(qtbot, ArchitectureEditor)
    assert dock.selected_row() is None
    QApplication.sendEvent(dock._rows[1][1], QFocusEvent(QEvent.Type.FocusIn))
    assert dock.selected_row() == 1
    assert dock.remove_button.isEnabled() and dock.up_button.isEnabled() and not dock.down_button.isEnabled()


def test_data_preview_of_a_large_set_draws_a_sample(qtbot):
    """A 60 000 x 784 set is previewed with at most PREVIEW_MAX_POINTS evenly spaced
    points of its first two features (it once took 11 s: a float64 copy of the whole
    matrix and a brush per point); the summary still counts every sample."""
    from workbench.ui.editors.data import PREVIEW_MAX_POINTS

    dock = make(qtbot, DataEditor)
    rng = np.random.default_rng(0)
    X = rng.random((60_000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 60_000)
    ds = SimpleNamespace(X_train=X, y_train=y, X_val=X[:0], X_test=X[:0], task="classification",
                         n_classes=10, warnings=())
    dock.set_preview(ds)
    px, py = dock.preview_points()
    assert 1000 <= len(px) <= PREVIEW_MAX_POINTS
    step = -(-60_000 // PREVIEW_MAX_POINTS)
    np.testing.assert_allclose(px, X[::step, 0], rtol=1e-6)
    np.testing.assert_allclose(py, X[::step, 1], rtol=1e-6)
    assert dock.summary_label.text() == "60,000 samples (60,000 train) · 784 features · 10 classes"


def test_schedule_preview_note_follows_the_dark_theme(qtbot, qapp):
    """QA: the note under the preview kept the light theme's dark text on dark grey."""
    from workbench.ui.style import Style, apply_theme, contrast_ratio

    dock = make(qtbot, ScheduleEditor)
    dock.set_value(S.ScheduleSpec(kind="plateau"))
    dock.set_context(0.1, 50)
    assert dock.preview_note.text()
    try:
        apply_theme(qapp, "dark")
        dock.apply_style(Style.normal(dark=True))
        note = dock.preview_note.palette().color(dock.preview_note.foregroundRole())
        window = dock.palette().color(dock.backgroundRole())
        assert contrast_ratio(note.name(), window.name()) >= 4.5
        assert dock.preview_note.property("note") is True
    finally:
        apply_theme(qapp, "light")
