"""The paired difference of two groups of seeds: B − A per epoch with its 95 % interval.

Two groups trained on the same seeds differ, seed by seed, only by what was changed: the
per-epoch difference d_i(e) = B_i(e) − A_i(e) and its t-interval
d̄ ± t_{n−1, 0.975} s_d / √n (:func:`workbench.compare.paired_difference`) say whether "B is
better" is more than seed noise -- where the band excludes 0, the sign is settled.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from workbench.compare import PairedDifference
from workbench.ui import style as st
from workbench.ui.plots._axis import epoch_axes


class DifferencePlot(pg.PlotWidget):
    """B − A over epochs: the mean difference, its confidence band and the zero line."""

    def __init__(self, parent=None):
        super().__init__(parent, axisItems=epoch_axes())
        self.setMinimumSize(260, 160)
        self.plotItem.hideButtons()
        self.plotItem.showGrid(x=True, y=True, alpha=0.15)
        for name in ("left", "bottom"):
            self.plotItem.getAxis(name).enableAutoSIPrefix(False)  # -0.6 is -0.6, not -600 (x0.001)
        self._mean = self.plot(connect="finite")
        self._low = self.plot(connect="finite")
        self._high = self.plot(connect="finite")
        self._band = pg.FillBetweenItem(self._low, self._high)
        self.addItem(self._band)
        self._zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.addItem(self._zero)
        self._color = 0
        self.difference: Optional[PairedDifference] = None
        self.apply_style(st.Style.normal())

    def show_difference(self, diff: Optional[PairedDifference], label: str, color: int = 0) -> None:
        """Draw ``diff`` (None: nothing) with the y-axis ``label`` (e.g. "B − A val loss")."""
        self.difference = diff
        self._color = color
        if diff is None or not len(diff.epochs):
            for item in (self._mean, self._low, self._high):
                item.setData([], [])
        else:
            x = np.asarray(diff.epochs, dtype=np.float64)
            self._mean.setData(x, diff.mean)
            self._low.setData(x, diff.low)
            self._high.setData(x, diff.high)
        self.setLabel("left", label)
        self.setLabel("bottom", "epoch")
        self._color_series()
        self.plotItem.enableAutoRange()

    def apply_style(self, style: st.Style) -> None:
        self._style = style
        colors = style.colors
        self.setBackground(colors.background)
        self._color_series()
        for item in (self._low, self._high):
            item.setPen(None)
        self._zero.setPen(pg.mkPen(colors.foreground, width=style.px(1), style=QtCore.Qt.PenStyle.DashLine))
        for name in ("left", "bottom"):
            ax = self.plotItem.getAxis(name)
            ax.setPen(pg.mkPen(colors.foreground))
            ax.setTextPen(pg.mkPen(colors.text))

    def _color_series(self) -> None:
        """The mean line and band in the B group's colour (the axes keep the theme's)."""
        color = st.run_color(self._color, self._style.dark)
        self._mean.setPen(pg.mkPen(color, width=self._style.px(self._style.pen_width)))
        self._band.setBrush(pg.mkBrush(st.with_alpha(color.getRgb(), 60)))
