"""What a new user tripped over in the window (the trust issue), one test per finding:
each says what the window showed or did, and checks what it does now.

Offscreen, no sleeps; every Qt warning fails a test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from workbench import spec as S
from workbench.experiment_file import load, save

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


# -- 5. a typed value is what Run, Save and the others use -----------------------------------


def test_run_uses_the_value_typed_but_not_entered(qtbot, make_window):
    """QA: typed 0.1 into η and pressed F5: the field showed 0.1, the run used 0.01."""
    w = make_window(quick_spec(epochs=3))
    box = w.editors["optimizer"].lr_spin
    type_into(box, "0.1")
    assert w.spec.optimizer.lr == 0.01  # not committed yet: no Enter, no Tab
    result = run_to_end(qtbot, w)
    assert w.spec.optimizer.lr == pytest.approx(0.1)
    assert result.history["lr"][0] == pytest.approx(0.1)
    assert w.result_is_current


def test_an_out_of_range_typed_value_refuses_run_and_save_with_the_reason(qtbot, make_window, tmp_path):
    w = make_window(quick_spec(epochs=3))
    type_into(w.editors["training"].epochs_spin, "999999999")
    assert not w.start_run() and not w.running
    reason = w.editors["training"].reason_text()
    assert "training.epochs: must be between 1 and 100,000, got 999999999" in reason
    assert "Cannot run" in w.statusBar().currentMessage()
    type_into(w.editors["training"].epochs_spin, "0")  # (the refused box went back to its value)
    assert not w.save_to(tmp_path / "x.json") and not (tmp_path / "x.json").exists()
    assert "training.epochs: must be between 1 and 100,000, got 0" in w.statusBar().currentMessage()


def test_save_writes_the_value_typed_but_not_entered(qtbot, make_window, tmp_path):
    w = make_window(quick_spec(epochs=3))
    type_into(w.editors["training"].batch_spin, "7")
    assert w.save_to(tmp_path / "typed.json")
    assert load(tmp_path / "typed.json").spec.training.batch_size == 7


# -- 6. the early-stopping star sits on the plot of the monitored quantity ---------------------


def test_best_epoch_star_is_on_the_metric_plot_live_and_reopened(qtbot, make_window, tmp_path):
    """QA: with val_accuracy monitored, the live view put the star on the loss plot at
    y = 0.9; the same file reopened put it on the metric plot."""
    spec = quick_spec(epochs=60, early_stopping=S.EarlyStoppingSpec(enabled=True, monitor="val_accuracy",
                                                                    patience=5))
    w = make_window(spec)
    result = run_to_end(qtbot, w)
    es = result.early_stop
    plot, x, y = probe.early_stop_symbol(w.curves)
    assert plot is w.curves.metric_plot and x == es.best_epoch and y == pytest.approx(es.best_value)
    assert w.save_to(tmp_path / "acc.json")
    assert w.open_path(tmp_path / "acc.json", ask=False)
    assert probe.early_stop_symbol(w.curves) == (w.curves.metric_plot, x, pytest.approx(y))


# -- 7. the headline is the restored model, and the test split is shown -----------------------


def test_headline_shows_the_restored_model_and_the_held_out_test_result(qtbot, make_window):
    """QA: early stopping restored epoch 6 (86.7 %), the read-out showed epoch 31's 73.3 %;
    test metrics were never shown in the window."""
    spec = quick_spec(epochs=400, data=S.DataSpec(name="two_spirals", n_samples=200, noise=0.3, val_fraction=0.25,
                                                  test_fraction=0.2, seed=2),
                      architecture=S.ArchitectureSpec(layers=(S.LayerSpec(64, "relu", 0.0, "he_uniform"),) * 2),
                      early_stopping=S.EarlyStoppingSpec(enabled=True, patience=15))
    w = make_window(spec)
    result = run_to_end(qtbot, w)
    es, final = result.early_stop, result.final_metrics
    assert es.restored and es.best_epoch < es.stopped_epoch
    text = w.readout.text()
    assert f"Weights of epoch {es.best_epoch}" in text and "(restored)" in text
    assert f"{100 * final['val_accuracy']:.1f} %" in text  # the restored model's, not the last epoch's
    assert f"test acc {100 * final['test_accuracy']:.1f} %" in text and "held out" in text
    assert f"last epoch {es.stopped_epoch}" in text


# -- 8. the follow-up marker and its legend entry ------------------------------------------


def test_retrain_marker_lands_where_the_file_puts_it_and_its_legend_entry_goes_with_new(qtbot, make_window):
    spec = quick_spec(epochs=200, early_stopping=S.EarlyStoppingSpec(enabled=True, patience=5, followup="retrain"))
    w = make_window(spec)
    result = run_to_end(qtbot, w)
    saved = [m.epoch for m in result.markers if m.kind == "phase"]
    live = [e for kind, e in probe.marker_items(w.curves) if kind == "phase"]
    assert saved and live == [float(e) for e in saved] == [float(len(result.history["epoch"]))]
    labels = [label.text for _sample, label in w.curves._legend.items]
    assert "follow-up (train+val)" in labels
    assert w.new_experiment()
    assert "follow-up (train+val)" not in [label.text for _sample, label in w.curves._legend.items]


# -- 9. the progress bar ------------------------------------------------------------------------


def test_progress_bar_stays_readable_when_epochs_drop_below_those_run(qtbot, make_window):
    w = make_window(quick_spec(epochs=20))
    run_to_end(qtbot, w)
    assert w.progress.value() == 20
    w.propose("training", S.replace(w.spec.training, epochs=10))
    assert w.progress.value() == 20 and w.progress.maximum() >= 20  # never blank (value > maximum)


# -- 10. the layer table and the docks hold still -------------------------------------------------


def test_editing_a_dropout_cell_does_not_scroll_the_layer_table_sideways(qtbot, window):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QFocusEvent
    from PySide6.QtWidgets import QApplication

    arch = window.editors["architecture"]
    bar = arch.table.horizontalScrollBar()
    for widget in arch._rows[1]:
        QApplication.sendEvent(widget, QFocusEvent(QEvent.Type.FocusIn))
        arch.table.scrollTo(arch.table.model().index(1, 3))  # what Qt does for a focused cell
        assert bar.value() == 0
    assert arch.table.horizontalHeaderItem(0).text() == "Units"


# -- 11. marker labels never overprint ------------------------------------------------------------


def test_marker_labels_never_overprint(qtbot, window):
    """QA: 15 reduce-on-plateau labels overlapped in the sine example."""
    curves = window.curves
    curves.load_result(_result_with_markers(300, [20 * k for k in range(1, 16)]))
    with qtbot.waitSignal(curves.painted, timeout=5000):
        curves.update()
    for width in (1200, 600, 300):
        window.splitter.setSizes([width, 400])
        qtbot.waitUntil(lambda: abs(curves.loss_plot.vb.sceneBoundingRect().width() - width) < width * 0.6,
                        timeout=3000)
        curves._place_marker_labels()
        shown = [e for e, _t, visible in probe.marker_labels(curves) if visible]
        vb = curves.loss_plot.vb
        from PySide6.QtCore import QPointF

        xs = sorted(vb.mapViewToScene(QPointF(e, 0)).x() for e in shown)
        height = curves._font(0.9).pointSizeF() * 1.4
        assert all(b - a >= height for a, b in zip(xs, xs[1:])), (width, xs)
        assert shown  # some are labelled, the rest are lines only


def _result_with_markers(epochs, marker_epochs):
    n = epochs
    history = {"epoch": tuple(float(e) for e in range(1, n + 1)), "train_loss": (0.5,) * n, "val_loss": (0.6,) * n,
               "penalty": (0.0,) * n, "lr": (0.01,) * n}
    markers = tuple(S.Marker("plateau", e, f"η {0.01 / 2 ** k:.3g} → {0.01 / 2 ** (k + 1):.3g}")
                    for k, e in enumerate(marker_epochs))
    return S.RunResult(history=history, markers=markers)


# -- 12. small screens ----------------------------------------------------------------------------


def _screen_run(tmp_path, width, height, code):
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"synchronousWindowSystemEvents": False, "windowFrameMargins": False,
                                  "screens": [{"name": "s", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    script = tmp_path / "screen.py"
    script.write_text(
        "import json\n"
        "from PySide6.QtCore import QSettings, QTimer, QEventLoop, QByteArray\n"
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


GEOMETRY = (
    "w = MainWindow(settings=settings); w.show(); spin(300)\n"
    "area = w.screen().availableGeometry(); g = w.frameGeometry()\n"
    "fits = area.contains(g)\n"
    "w.set_presentation_mode(True); spin(300)\n"
    "pres = area.contains(w.frameGeometry())\n"
    "cut = w.readout.heightForWidth(w.readout.width()) > w.readout.height() + 2\n"
    "w.set_presentation_mode(False); spin(300)\n"
    "back = (w.width(), w.height()) == (g.width(), g.height())\n"
    "print(json.dumps({'fits': fits, 'pres': pres, 'cut': cut, 'back': back, 'size': [g.width(), g.height()],\n"
    "                  'plots': w.curves.width()}))\n"
)


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768), (1920, 1080)])
def test_the_window_fits_small_screens_and_presentation_mode_too(tmp_path, size):
    """QA: the window opened at 1600 x 1000 on a 1280 x 720 screen; leaving F11 made it
    1437 px wide; in presentation mode the headline was cut ("early sto…")."""
    got = _screen_run(tmp_path, *size, GEOMETRY)
    assert got["fits"] and got["pres"] and got["back"] and not got["cut"], got
    assert got["plots"] >= 300


def test_a_size_restored_from_a_larger_monitor_is_clamped(tmp_path):
    big = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    from PySide6.QtCore import QByteArray

    got = _screen_run(tmp_path, 1920, 1200, (
        "w = MainWindow(settings=settings); w.resize(1900, 1150); w.show(); spin(300); w.save_layout()\n"
        "print(json.dumps({'ok': True}))\n"))
    assert got["ok"]
    big.sync()
    assert isinstance(big.value("window/geometry"), (QByteArray, bytes))
    got = _screen_run(tmp_path, 1280, 720, (
        "w = MainWindow(settings=settings); w.show(); spin(300)\n"
        "print(json.dumps({'fits': w.screen().availableGeometry().contains(w.frameGeometry()),\n"
        "                  'size': [w.width(), w.height()]}))\n"))
    assert got["fits"], got


# -- 13. messages in view; a flat loss stays flat ----------------------------------------------


def test_the_zero_init_warning_is_in_view(qtbot, make_window):
    """QA: the symmetry-trap warning sat below the visible part of the Architecture dock."""
    w = make_window()
    w.resize(1600, 1000)
    arch = w.editors["architecture"]
    arch.set_value(S.replace(arch.value(), layers=(S.LayerSpec(16, "tanh", 0.0, "zeros"),) * 2))
    assert "symmetry trap" in arch.reason_text()
    qtbot.waitUntil(lambda: arch.reason_label.isVisible())
    viewport = w.docks["architecture"].widget().viewport()
    top_left = arch.reason_label.mapTo(viewport, arch.reason_label.rect().topLeft())
    assert viewport.rect().contains(top_left)


def test_a_flat_loss_is_drawn_flat(qtbot, window):
    """QA: a loss between 0.69315 and 0.69318 autoscaled into what looked like wild spikes."""
    rng = np.random.default_rng(0)
    n = 200
    loss = tuple(float(v) for v in 0.693165 + 1.5e-5 * rng.standard_normal(n))
    history = {"epoch": tuple(float(e) for e in range(1, n + 1)), "train_loss": loss, "val_loss": loss,
               "penalty": (0.0,) * n, "lr": (0.01,) * n}
    window.curves.load_result(S.RunResult(history=history))
    lo, hi = window.curves.loss_plot.vb.viewRange()[1]
    assert hi - lo >= 1e-3 * 0.69  # the noise (3e-5) is a few percent of the height
    assert max(loss) - min(loss) < 0.1 * (hi - lo)


# -- 14. the exponential schedule's default ------------------------------------------------------


def test_exponential_schedule_defaults_fit_the_run(qtbot, window):
    """QA: γ = 0.5 drove η to 1e-62 over the default 200 epochs."""
    sched = window.editors["schedule"]
    sched.kind_combo.setCurrentIndex(sched.kind_combo.findData("exponential"))
    gamma = window.spec.schedule.gamma
    assert gamma == pytest.approx(0.01 ** (1 / 200), rel=1e-3)
    planned = sched.preview_data()
    assert planned[-1] / planned[0] == pytest.approx(0.01, rel=0.05)
    assert sched.reason_text() == ""
    sched.set_value(S.replace(window.spec.schedule, gamma=0.5))
    assert "the last epochs barely learn" in sched.reason_text()


# -- 15. the dark theme's boundary caption --------------------------------------------------------


def test_boundary_caption_matches_the_theme(qtbot, window):
    assert "pale where P &asymp; 0.5" in window.boundary.caption.text()
    window.theme_actions["dark"].trigger()
    text = window.boundary.caption.text()
    assert "pale" not in text and "dark where P &asymp; 0.5" in text
    window.theme_actions["light"].trigger()


# -- 16. the Nesterov text says what the code does -------------------------------------------------


def test_nesterov_formula_is_the_codes_and_its_form_is_shown(qtbot, window):
    opt = window.editors["optimizer"]
    opt.kind_combo.setCurrentIndex(opt.kind_combo.findData("nesterov"))
    text = opt.formula_label.text()
    assert "look-ahead point" not in text.split("<br>")[1]  # the rule itself: gradient at the stored weights
    assert "(η g<sub>t</sub> + β <b>v</b><sub>t</sub>)" in text and "the same method" in text
    assert "momentum_form" in opt.visible_fields()
    opt.form_combo.setCurrentIndex(opt.form_combo.findData("accumulator"))
    assert "η (g<sub>t</sub> + β <b>M</b><sub>t</sub>)" in opt.formula_label.text()
    assert window.spec.optimizer.momentum_form == "accumulator"


# -- 17. a Help menu ------------------------------------------------------------------------------------


def test_help_menu_has_shortcuts_features_and_about(qtbot, window):
    from workbench.ui.actions import ACTIONS, shortcut_texts
    from workbench.ui.help import about_html, features_html, shortcuts_html

    titles = [a.text() for a in window.menus["Help"].actions() if a.text()]
    assert titles == ["&Keyboard shortcuts", "&What you can switch on", "&About MLP Workbench"]
    shortcuts = shortcuts_html()
    for spec in ACTIONS:
        for key in shortcut_texts(spec):
            assert key in shortcuts, key
    features = features_html()
    assert "NAdam" in features and "Reduce on plateau" in features and "two_spirals" in features
    about = about_html()
    import numpy
    from PySide6.QtCore import qVersion

    assert numpy.__version__ in about and qVersion() in about and "CC BY 4.0" in about
    window.act_shortcuts.trigger()
    from workbench.ui.help import HelpDialog

    dialog = window.findChild(HelpDialog)
    assert dialog is not None and dialog.isVisible() and "F5" in dialog.browser.toPlainText()
    dialog.close()


# -- 18. shipped examples are never overwritten, and their description is shown ---------------------


def test_an_example_opens_as_an_untitled_copy_with_its_description(qtbot, window, dialogs, tmp_path):
    before = (EXAMPLES / "xor.json").read_bytes()
    assert window.open_path(EXAMPLES / "xor.json")
    assert window.path is None and window.windowTitle().startswith("XOR (seed 001)")
    assert "Try a linear model" in window.note.text() and window.note.isVisible()
    dialogs.save_path = str(tmp_path / "mine.json")
    window.act_save.trigger()  # Save asks where
    assert (tmp_path / "mine.json").exists() and window.path == (tmp_path / "mine.json").absolute()
    assert (EXAMPLES / "xor.json").read_bytes() == before
    assert window.new_experiment() and not window.note.isVisible()


# -- 19. a missing CSV file: the path looked for, and pointing to it -------------------------------


def test_a_missing_csv_says_where_it_looked_and_can_be_located(qtbot, window, dialogs, tmp_path):
    data = tmp_path / "data" / "points.csv"
    data.parent.mkdir()
    data.write_text("a,b,y\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40)))
    spec = S.ExperimentSpec(data=S.DataSpec(source="csv", name="points.csv", csv_path=str(data), target_column="y"))
    save(tmp_path / "exp.json", spec)
    assert load(tmp_path / "exp.json").spec.data.csv_path == "data/points.csv"  # stored relative
    moved = tmp_path / "elsewhere.csv"
    data.rename(moved)
    dialogs.located = None  # Cancel: nothing changes
    assert not window.open_path(tmp_path / "exp.json")
    assert dialogs.asked == [f"locate {data}"]
    dialogs.located = str(moved)
    assert window.open_path(tmp_path / "exp.json")
    assert window.spec.data.csv_path == str(moved) and window.dataset is not None
    assert window.isWindowModified()  # the new path is not saved yet


# -- issue 8 in the window: nothing lost, nothing hangs -------------------------------------------


def test_set_spec_respects_the_run_lock(qtbot, make_window):
    """QA: set_spec skipped the lock: the saved file could pair one network's weights with
    another's spec."""
    w = make_window(quick_spec(epochs=100_000))
    with qtbot.waitSignal(w.run_started, timeout=10_000):
        w.act_run.trigger()
    other = S.replace(w.spec, architecture=S.ArchitectureSpec(layers=(S.LayerSpec(3, "relu"),)))
    assert not w.set_spec(other) and w.spec != other
    assert "locked while training" in w.statusBar().currentMessage()
    live = S.replace(w.spec, optimizer=S.replace(w.spec.optimizer, lr=0.02))
    assert w.set_spec(live) and w.spec.optimizer.lr == 0.02  # a live setting may change
    with qtbot.waitSignal(w.run_finished, timeout=30_000):
        w.act_stop.trigger()


def test_saving_over_a_read_only_file_asks(qtbot, make_window, dialogs, tmp_path):
    w = make_window(quick_spec(epochs=2))
    path = tmp_path / "ro.json"
    path.write_text("{}")
    path.chmod(0o444)
    dialogs.readonly_answer = False
    assert not w.save_to(path) and path.read_text() == "{}"
    assert dialogs.asked == ["readonly ro.json"]
    dialogs.readonly_answer = True
    assert w.save_to(path)
    assert load(path).spec == w.spec and (path.stat().st_mode & 0o777) == 0o444


def test_weights_too_large_for_a_file_can_be_saved_without_them(qtbot, make_window, dialogs, tmp_path,
                                                                  monkeypatch):
    from workbench import experiment_file

    w = make_window(quick_spec(epochs=2))
    result = run_to_end(qtbot, w)
    assert result.weights is not None
    monkeypatch.setattr(experiment_file, "MAX_SAVED_PARAMETERS", 10)  # this net has more
    dialogs.without_weights_answer = False
    assert not w.save_to(tmp_path / "big.json") and not (tmp_path / "big.json").exists()
    dialogs.without_weights_answer = True
    assert w.save_to(tmp_path / "big.json")
    saved = load(tmp_path / "big.json").result
    assert saved is not None and saved.weights is None and saved.history == result.history
    assert "without the trained weights" in w.statusBar().currentMessage()


def test_closing_during_a_long_batch_waits_and_saves_the_results(qtbot, make_window, dialogs, tmp_path,
                                                                 monkeypatch):
    """QA: closing while a batch of seconds ran aborted at exit ("QThread: Destroyed while
    thread is still running"), and Save at that close wrote no results but said "Saved"."""
    import threading

    from workbench import build as build_mod
    from workbench.engine.events import BatchEnd
    from workbench.ui import files as files_mod
    from workbench.ui import run_controller as rc

    slow, done = threading.Event(), threading.Event()
    real_build_run = build_mod.build_run

    def slow_build_run(spec, dataset, **kw):
        run = real_build_run(spec, dataset, **kw)
        inner = run.events

        def events():
            for ev in inner():
                yield ev
                if slow.is_set() and type(ev) is BatchEnd:
                    done.wait(30)  # a batch that takes until the test says so
        run.events = events
        return run

    monkeypatch.setattr(build_mod, "build_run", slow_build_run)
    monkeypatch.setattr(files_mod, "LIVE_WORK_SECONDS", 0.0)
    w = make_window(quick_spec(epochs=100_000))
    with qtbot.waitSignal(w.epochs_shown, timeout=30_000):
        w.act_run.trigger()
    slow.set()  # from now on a batch takes seconds
    dialogs.answer = "save"
    dialogs.save_path = str(tmp_path / "kept.json")
    threading.Timer(1.0, done.set).start()  # the batch ends a second after Close was asked
    assert w.close()
    saved = load(tmp_path / "kept.json")
    assert saved.result is not None and len(saved.result.history["epoch"]) >= 1
    assert saved.result.status == "stopped" and saved.result.weights is not None
    assert "with 1 run" in w.statusBar().currentMessage()
    assert not rc._STRAGGLERS


def test_live_edits_merge_and_the_undo_stack_is_bounded(qtbot, window):
    from workbench.ui.commands import MAX_UNDO_STEPS

    for i in range(1, 1201):
        window.propose("optimizer", S.replace(window.spec.optimizer, lr=round(0.001 * (1 + i % 300), 6)))
    assert window.undo_stack.count() == 1  # consecutive edits of one field: one step
    for i in range(MAX_UNDO_STEPS + 50):
        section = ("training", "regularization")[i % 2]
        part = getattr(window.spec, section)
        change = {"epochs": 100 + i} if section == "training" else {"l2": 1e-4 * (i + 1)}
        window.propose(section, S.replace(part, **change))
    assert window.undo_stack.count() == MAX_UNDO_STEPS
