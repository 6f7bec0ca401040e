"""The curves panel's key, in its own row above the three plots (inside a plot it hid
curves): what its entries are (:func:`legend_rows`), a legend made of them
(:func:`make_legend`) and the layout cell that holds it (:class:`LegendRow`).

Comparing runs, the line styles come first (validation solid, train dashed), then the
shown run (marked ▶, drawn thicker) and the :data:`MAX_LEGEND_RUNS` newest overlays in
their colours, then how many older ones there are; otherwise the train and validation
roles.  Run names are elided in the middle to the room there is: "η 0.01 → 0.1" keeps
what it changed and the new value.
"""

from __future__ import annotations

from typing import Optional

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.ui import style as st

#: The legend names at most this many overlaid runs (the newest), then how many more
#: there are: a legend of dozens of runs would push the plots off a laptop's screen, and
#: the Runs dock lists them all with their colours.
MAX_LEGEND_RUNS = 8


def legend_rows(style: st.Style, shown_run: Optional[tuple[int, str]], run_entries: list,
                extra: list) -> list[tuple]:
    """``(sample, text)`` of each entry; a sample is the name of one of the panel's
    curves or ``(colour rgba, width, dashed)`` of a line drawn for the legend alone
    (width 0: a line of text alone).  ``shown_run``: (colour, label) of the shown run
    while ``run_entries`` ((colour, label) of each overlay) are compared; ``extra``: rows
    of the panel's own optional curves."""
    if not run_entries:
        return [("train_loss", "train"), ("val_loss", "validation")] + extra
    neutral, w = QtGui.QColor(style.colors.foreground).rgba(), style.px(style.pen_width * 0.85)
    rows = [((neutral, w, False), "validation"), ((neutral, w * 0.7, True), "train")]
    more = max(0, len(run_entries) - MAX_LEGEND_RUNS)
    runs = ([(shown_run[0], f"▶ {shown_run[1]}", 1.3)] if shown_run else []) + \
        [(color, text, 1.0) for color, text in run_entries[more:]]
    rows += [((st.run_color(color, style.dark).rgba(), w * k, False), text) for color, text, k in runs]
    if more:
        rows.append(((0, 0.0, False), f"+ {more} older"))
    return rows + extra


#: A legend entry's width besides its text: the line sample and the spacing (pixels).
ENTRY_EXTRA = 60


def legend_columns(texts: list[str], font: QtGui.QFont, room: float, most: int = 4) -> int:
    """The most columns (at most ``most``) whose entries fit side by side in ``room``
    pixels, laid out as pyqtgraph lays them (row by row, each column as wide as its widest
    entry); 1 when not even two fit."""
    fm = QtGui.QFontMetricsF(font)
    widths = [fm.horizontalAdvance(text) + ENTRY_EXTRA for text in texts]
    for columns in range(min(most, len(widths)), 1, -1):
        if sum(max(widths[c::columns]) for c in range(columns)) <= room:
            return columns
    return 1


def make_legend(rows: list, curves: dict, *, columns: int, size: str, text_color, font: QtGui.QFont,
                room: Optional[float]) -> pg.LegendItem:
    """A legend of ``rows`` (see :func:`legend_rows`; ``curves`` maps a curve's name to
    its item) in ``columns``, its labels ``size`` and ``text_color``; texts elided in the
    middle to ``room`` pixels (None: not elided).  ``full_texts`` keeps them whole."""
    legend = pg.LegendItem(colCount=columns, horSpacing=18, frame=False)
    legend.setBrush(pg.mkBrush(None))
    legend.setPen(pg.mkPen(None))
    legend.setLabelTextColor(text_color)
    legend.setLabelTextSize(size)
    fm = QtGui.QFontMetricsF(font)
    legend.full_texts = [text for _sample, text in rows]
    for sample, text in rows:
        if isinstance(sample, str):
            item = curves[sample]
        else:
            color, width, dashed = sample
            pen = pg.mkPen(QtGui.QColor.fromRgba(color), width=width,
                           style=QtCore.Qt.PenStyle.DashLine if dashed else QtCore.Qt.PenStyle.SolidLine)
            item = pg.PlotDataItem(pen=pen if width else None)
        legend.addItem(item, text if room is None else
                       fm.elidedText(text, QtCore.Qt.TextElideMode.ElideMiddle, max(60.0, room)))
    return legend


class LegendRow(pg.GraphicsWidget):
    """A layout cell holding the panel's legend at its left, as tall as the legend."""

    def __init__(self, legend: pg.LegendItem):
        super().__init__()
        self.legend = None
        self.set_legend(legend)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

    def set_legend(self, legend: pg.LegendItem) -> None:
        """Hold ``legend`` instead of the one before (which leaves the scene)."""
        old = self.legend
        if old is not None:
            old.setParentItem(None)
            if old.scene() is not None:
                old.scene().removeItem(old)
        self.legend = legend
        legend.setParentItem(self)
        legend.anchor = lambda *a, **k: None  # placed by this row, not anchored to a parent

    def fit(self, left: float = 40.0) -> None:
        """Follow the legend's size; ``left``: where the plots' data areas begin."""
        self.legend.updateSize()
        h = self.legend.boundingRect().height()
        self.setMinimumHeight(h)
        self.setMaximumHeight(h)
        self.legend.setPos(left, 0)
        self.updateGeometry()
