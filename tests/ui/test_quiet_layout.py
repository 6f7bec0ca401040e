"""What a run must not redo on the GUI thread: lay out the main window when a status-bar
text changes, move the editors' contents when they lock, set an axis label that did not
change, rebuild an empty layer-health panel.  (Each cost the trainer time on two cores:
benchmarks/README.md, "Issue 9, fifth pass".)"""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

from tests.ui.test_docks import ALL_DOCKS, make


class _Count(QObject):
    """Counts the events of one type delivered to the object it is installed on."""

    def __init__(self, kind):
        super().__init__()
        self.kind, self.n = kind, 0

    def eventFilter(self, obj, event):  # noqa: N802 - Qt override
        if event.type() == self.kind:
            self.n += 1
        return False


def settle(qtbot=None):
    """Deliver every posted event (layout requests post further ones), timers due included."""
    app = QApplication.instance()
    for _ in range(5):
        app.sendPostedEvents()
        app.processEvents()


def test_status_bar_texts_do_not_lay_out_the_window(window):
    """The clock and speed labels change on every frame; a label of fixed size does not
    ask the status bar, and through it the main window with its docks, to be laid out
    again.  (Posted events are delivered synchronously: no timing involved.)"""
    settle()
    counters = {w: _Count(QEvent.Type.LayoutRequest) for w in (window, window.statusBar())}
    for w, counter in counters.items():
        w.installEventFilter(counter)
    try:
        for k in range(20):
            window.time_label.setText(f"elapsed 0:{k:02d} · left {k}:00")
            window.speed_label.setText(f"{1000 * k + 7:,} samples/s")
            QApplication.instance().sendPostedEvents()
    finally:
        for w, counter in counters.items():
            w.removeEventFilter(counter)
    assert [c.n for c in counters.values()] == [0, 0]


@pytest.mark.parametrize("presentation", [False, True])
def test_status_labels_fit_their_longest_texts(window, presentation):
    window.set_presentation_mode(presentation)
    window.speed_label.setVisible(True)
    window.time_label.setVisible(True)
    for label, text in ((window.speed_label, "12,345,678 samples/s"),
                        (window.time_label, "elapsed 10:00:00 · left 123:45:59")):
        room = label.contentsRect().width()
        assert label.fontMetrics().horizontalAdvance(text) <= room, (text, room)
        assert label.minimumSize() == label.maximumSize()  # fixed: no layout requests


def test_status_labels_follow_the_font_into_and_out_of_presentation_mode(window):
    """Sized for the font in effect: 1.6x in presentation mode, the normal one again after
    it (QA: they kept the big font's width, and the status message lost ~190 px)."""
    from PySide6.QtGui import QFontMetrics

    def widths():
        return window.speed_label.width(), window.time_label.width()

    normal = widths()
    fm = QFontMetrics(QApplication.font(window.speed_label))
    assert normal[0] == fm.horizontalAdvance("99,999,999 samples/s") + 20
    window.set_presentation_mode(True)
    big = widths()
    assert big[0] > 1.4 * normal[0] and big[1] > 1.4 * normal[1]
    window.set_presentation_mode(False)
    assert widths() == normal


@pytest.mark.parametrize("cls", ALL_DOCKS, ids=lambda c: c.__name__)
def test_locking_an_editor_moves_nothing(qtbot, cls):
    """Run shows the lock line in a place kept for it: no widget of the editor moves or
    is resized, and the previews are not redrawn at every run's start and end."""
    editor = make(qtbot, cls)
    editor.resize(360, 900)
    editor.show()
    qtbot.waitExposed(editor)
    settle(qtbot)

    views = editor.findChildren(QAbstractItemView)  # they place their cell widgets lazily

    def geometries():
        return {id(w): (w.objectName(), w.geometry().getRect()) for w in editor.findChildren(QWidget)
                if w.isVisible() and w is not editor.lock_label and not any(v.isAncestorOf(w) for v in views)}

    before = geometries()
    editor.set_running(True)
    settle(qtbot)
    assert editor.lock_label.isVisible()
    assert geometries() == before
    previews = {k: v for k, v in before.items() if k in set(map(id, editor.preview_plots()))}
    editor.set_running(False)
    settle(qtbot)
    assert not editor.lock_label.isVisible()
    assert {k: v for k, v in geometries().items() if k in previews} == previews


def test_axis_sets_its_label_only_when_text_or_font_change(qtbot):
    import pyqtgraph as pg

    from workbench.ui.plots._axis import FastAxisItem

    axis = FastAxisItem(orientation="left")
    plot = pg.PlotWidget(axisItems={"left": axis})
    qtbot.addWidget(plot)
    axis.setLabel("loss")
    calls = []
    set_html = axis.label.setHtml
    axis.label.setHtml = lambda html: (calls.append(html), set_html(html))
    for k in range(5):
        axis.setRange(0.0, 1.0 + k)  # pyqtgraph re-labels on every range (SI prefix)
    assert calls == []
    assert axis.picture is None  # the ticks are still redrawn
    axis.setLabel("accuracy")
    assert len(calls) == 1 and "accuracy" in axis.label.toPlainText()
    width = axis.maximumWidth()
    font = QFont(axis.label.font())
    font.setPointSizeF(font.pointSizeF() * 3)
    axis.label.setFont(font)
    axis.setRange(0.0, 2.0)
    assert len(calls) == 2 and axis.maximumWidth() > width  # re-sized for the bigger label


def test_empty_health_panel_is_not_rebuilt_for_a_new_run(qtbot):
    from tests.ui.test_inside import _health_snapshots
    from workbench.ui.inside.health import LayerHealthPanel

    panel = LayerHealthPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    rebuilt = []
    rebuild = panel._rebuild
    panel._rebuild = lambda: (rebuilt.append(1), rebuild())
    panel.clear()
    assert rebuilt == []
    for snap in _health_snapshots():
        panel.add_snapshot(snap)
    assert panel.shown_layers() and rebuilt == [1]
    panel.clear()  # a new run after one with snapshots: their curves go
    assert rebuilt == [1, 1] and panel.shown_layers() == ()
    assert all(not items for items in panel._curves.values())


def test_difference_plot_keeps_the_theme_and_takes_the_group_colour(qtbot):
    from workbench.compare import PairedDifference
    from workbench.ui import style as st
    from workbench.ui.plots.difference import DifferencePlot

    plot = DifferencePlot()
    qtbot.addWidget(plot)
    dark = st.Style.normal(dark=True)
    plot.apply_style(dark)
    diff = PairedDifference(epochs=np.arange(1, 4), mean=np.zeros(3), low=-np.ones(3), high=np.ones(3), n=np.full(3, 3))
    for color in (2, 5):
        plot.show_difference(diff, "B − A val loss", color=color)
        assert plot._mean.opts["pen"].color() == st.run_color(color, True)
        assert plot.getAxis("left").textPen().color().name() == dark.colors.text.lower()


@pytest.mark.parametrize("presentation", [False, True])
def test_the_read_out_keeps_its_height_from_ready_to_a_live_epoch(window, presentation):
    """QA: at 1280x720 the read-out wrapped onto a second line at Run (and back at Stop),
    moving the plots below; it now keeps the room of an epoch's line at its width."""
    from workbench.engine.events import EpochEnd

    window.resize(1280, 720)
    window.set_presentation_mode(presentation)
    settle()
    readout = window.readout
    readout.clear_values()
    settle()
    ready = readout.height(), window.curves.geometry().getRect()
    ev = EpochEnd(epoch=9999, train_loss=0.3155, val_loss=0.3335, penalty=0.0, lr=0.01)
    readout.show_epoch(9999, 10000, ev, metric=("val_accuracy", 0.875))
    settle()
    assert (readout.height(), window.curves.geometry().getRect()) == ready
    assert readout.heightForWidth(readout.width()) <= readout.height()  # nothing cut
