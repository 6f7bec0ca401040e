"""Audit of issue 7 (trust): tests for what the issue asks and no other test covered.

Offscreen, no sleeps; every Qt warning fails a test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from workbench import spec as S

import curves_probe as probe
from window_kit import quick_spec, run_to_end

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"


def type_into(box, text: str) -> None:
    """What a user does: type into a number box, no Enter, no Tab."""
    box.lineEdit().selectAll()
    box.lineEdit().insert(text)


def settle() -> None:
    """Deliver the posted events (layout requests, deferred slots) without waiting on a clock."""
    for _ in range(5):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


# -- 2. weight decay switched on mid-run: every registered optimizer (NAdam was not tested) -------


def test_live_weight_decay_from_zero_works_for_every_registered_optimizer():
    from workbench.engine.events import EpochEnd, Finished, SettingChanged
    from workbench.engine.network import LayerConfig, Network
    from workbench.engine.optimizers import RULES, make_optimizer
    from workbench.engine.schedules import make_schedule
    from workbench.engine.trainer import LiveSettings, TrainConfig, TrainData, train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    y = (X[:, :1] * X[:, 1:] > 0).astype(np.float32)
    for cls in RULES:
        net = Network(2, [LayerConfig(6, "tanh")], 1, "binary", seed=1)
        opt = make_optimizer(cls.kind, net.n_params, decay_mask=net.weight_mask,
                             **{k: v for k, v in getattr(cls, "suggested", {}).items() if k != "lr"})  # lambda = 0
        live = LiveSettings()
        events = []
        for ev in train(net, opt, make_schedule("constant", 0.01, 4), TrainData(X, y), TrainConfig(epochs=4,
                                                                                                  batch_size=16),
                        None, live):
            events.append(ev)
            if isinstance(ev, EpochEnd) and ev.epoch == 2:
                live.set(weight_decay=0.5)
        assert isinstance(events[-1], Finished) and events[-1].status == "finished", (cls.kind, events[-1])
        assert any(isinstance(e, SettingChanged) and e.name == "weight_decay" for e in events), cls.kind
        assert opt.weight_decay == 0.5 and np.isfinite(net.params).all(), cls.kind


# -- 3. restore-best at the last epoch, as the window shows it --------------------------------------


def test_best_weights_restored_at_the_last_epoch_are_the_windows_result(qtbot, make_window):
    """Patience never runs out: the run ends at its last epoch, the best weights are
    restored all the same, and the window says so (headline, overlay, status)."""
    spec = quick_spec(epochs=60, data=S.DataSpec(name="two_spirals", n_samples=200, noise=0.3, val_fraction=0.25,
                                                 seed=2),
                      architecture=S.ArchitectureSpec(layers=(S.LayerSpec(64, "relu", 0.0, "he_uniform"),) * 2),
                      early_stopping=S.EarlyStoppingSpec(enabled=True, patience=1000))
    w = make_window(spec)
    result = run_to_end(qtbot, w)
    es = result.early_stop
    assert result.status == "finished" and es is not None and not es.fired and es.restored
    assert es.best_epoch < 60
    text = w.readout.text()
    assert f"Weights of epoch {es.best_epoch}</b> (restored)" in text and "last epoch 60" in text
    assert result.final_metrics["val_loss"] == pytest.approx(es.best_value, rel=1e-5)
    labels = probe.early_stop_texts(w.curves)
    assert any(f"weights restored\nfrom epoch {es.best_epoch}" in t for t in labels), labels
    assert f"weights of epoch {es.best_epoch} restored" in w.statusBar().currentMessage()


# -- 5. every action that reads the spec commits the value being typed (gaps) ----------------------


def test_new_with_a_typed_value_asks_before_discarding_it(qtbot, make_window, dialogs):
    w = make_window(quick_spec(epochs=3))
    type_into(w.editors["optimizer"].lr_spin, "0.1")
    dialogs.answer = "cancel"
    assert not w.new_experiment()
    assert dialogs.questions and w.spec.optimizer.lr == pytest.approx(0.1)


def test_open_with_a_typed_value_asks_before_discarding_it(qtbot, make_window, dialogs, tmp_path):
    from workbench.experiment_file import save

    save(tmp_path / "other.json", quick_spec(epochs=4))
    w = make_window(quick_spec(epochs=3))
    type_into(w.editors["optimizer"].lr_spin, "0.1")
    dialogs.answer = "cancel"
    assert not w.open_path(tmp_path / "other.json")
    assert dialogs.questions and w.spec.optimizer.lr == pytest.approx(0.1)


def test_close_with_a_typed_value_asks_before_discarding_it(qtbot, make_window, dialogs):
    w = make_window(quick_spec(epochs=3))
    type_into(w.editors["optimizer"].lr_spin, "0.1")
    dialogs.answer = "cancel"
    closed = w.close()
    assert not closed and dialogs.questions


def test_step_of_a_paused_run_uses_the_typed_learning_rate(qtbot, make_window):
    w = make_window(quick_spec(epochs=50))
    with qtbot.waitSignal(w.epochs_shown, timeout=30_000):
        w.step_epoch()  # starts paused, trains one epoch
    type_into(w.editors["optimizer"].lr_spin, "0.05")
    with qtbot.waitSignal(w.epochs_shown, timeout=30_000):
        w.step_epoch()
    try:
        assert w.spec.optimizer.lr == pytest.approx(0.05)
    finally:
        with qtbot.waitSignal(w.run_finished, timeout=30_000):
            w.act_stop.trigger()


# -- 7. the headline after a follow-up phase (gap) ------------------------------------------------


def test_the_headline_after_a_retrain_follow_up_does_not_claim_the_restored_model(qtbot, make_window):
    spec = quick_spec(epochs=200, early_stopping=S.EarlyStoppingSpec(enabled=True, patience=5, followup="retrain"))
    w = make_window(spec)
    result = run_to_end(qtbot, w)
    assert any(m.kind == "phase" for m in result.markers)
    text = w.readout.text()
    assert "Retrained on train + validation" in text and "(restored)" not in text
    assert "validation seen in training" in text
    assert "val loss –" not in text
    es = result.early_stop
    assert f"last training epoch {es.stopped_epoch}:" in text


# -- 10. the docks hold still when a file is opened; Iris's Data dock is not blank ------------------


def test_opening_examples_keeps_the_dock_sizes_and_iris_has_a_preview(qtbot, make_window):
    w = make_window()
    w.resize(1600, 1000)
    settle()

    def sizes():
        return {k: (d.width(), d.height()) for k, d in w.docks.items() if d.isVisible()}

    before = sizes()
    data = w.editors["data"]
    for name in ("iris.json", "xor.json", "sine_regression.json", "iris.json"):
        assert w.open_path(EXAMPLES / name, ask=False)
        settle()
        assert sizes() == before, name
        assert data.preview_plot.isVisible() and data.preview_points() is not None, name
    assert "4 features" in data.summary_label.text()


# -- 12. presentation mode: a long headline is not cut at 1280 x 720 ------------------------------


def _screen_run(tmp_path, width, height, code):
    """Run ``code`` in a subprocess whose offscreen screen is ``width`` x ``height``
    (as tests/ui/test_trust.py does); its last printed line is JSON."""
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"synchronousWindowSystemEvents": False, "windowFrameMargins": False,
                                  "screens": [{"name": "s", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    script = tmp_path / "screen.py"
    script.write_text(
        "import json\n"
        "from PySide6.QtCore import QSettings, QTimer, QEventLoop\n"
        "from workbench.ui.app import create_application\n"
        "from workbench.ui.main_window import MainWindow\n"
        "app = create_application()\n"
        "def spin(ms):\n"
        "    loop = QEventLoop(); QTimer.singleShot(ms, loop.quit); loop.exec()\n"
        f"settings = QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat)\n"
        + code)
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", PYQTGRAPH_QT_LIB="PySide6")
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


LONG_HEADLINE = (
    "from workbench.engine.events import EpochEnd\n"
    "w = MainWindow(settings=settings); w.show(); spin(300)\n"
    "last = EpochEnd(epoch=31, train_loss=0.312, val_loss=0.5871, penalty=0.0, lr=0.01,\n"
    "                metrics={'val_accuracy': 0.7333})\n"
    "final = {'train_loss': 0.2861, 'val_loss': 0.3512, 'val_accuracy': 0.8667, 'test_accuracy': 0.85}\n"
    "out = {}\n"
    "for pres in (False, True):\n"
    "    w.set_presentation_mode(pres); spin(300)\n"
    "    w.readout.show_result(final, 6, last, 400, 'early stop · best epoch 6'); spin(100)\n"
    "    r = w.readout\n"
    "    out[str(pres)] = {'cut': r.heightForWidth(r.width()) > r.height() + 2,\n"
    "                      'fits': w.screen().availableGeometry().contains(w.frameGeometry())}\n"
    "w.set_presentation_mode(False); spin(300)\n"
    "print(json.dumps(out))\n"
)


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_a_long_headline_is_not_cut_in_presentation_mode(tmp_path, size):
    """The issue's "early sto…": the test of item 12 only checks the short 'Ready' text."""
    got = _screen_run(tmp_path, *size, LONG_HEADLINE)
    assert not got["False"]["cut"] and not got["True"]["cut"], got
    assert got["False"]["fits"] and got["True"]["fits"], got


# -- 20. CSV import in the window: detected dialect, missing values dropped or filled, counted -----


def test_a_semicolon_csv_with_decimal_commas_and_empty_cells_loads_in_the_window(qtbot, make_window, tmp_path):
    rows = ["alpha;beta;target"] + [f"{i % 7},5;{(i * 3) % 5},25;{'a' if i % 2 else 'b'}" for i in range(40)]
    rows[5] = "2,5;;a"  # an empty cell (file line 6)
    path = tmp_path / "semi.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    w = make_window()
    data = w.editors["data"]
    assert data.choose_csv(str(path))
    assert w.spec.data.source == "csv" and w.spec.data.target_column == "target"
    assert w.dataset is not None and w.dataset.X_train.shape[1] == 2
    assert "dropped 1 row with missing values (of 40): line 6" in data.summary_label.text()
    assert w.propose("data", S.replace(w.spec.data, missing="fill"))
    assert w.dataset is not None
    assert "filled 1 missing value with the training split's means" in data.summary_label.text()
