"""pyqtgraph helpers of the "look inside" widgets: styled plots, layer colours."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui

from workbench.ui import style as st
from workbench.ui.plots._axis import epoch_axes, fast_axes

#: Colour of the k-th shown layer (Okabe-Ito order, then darker variants).
LAYER_COLORS = st.CLASS_COLORS


def layer_color(k: int, style: st.Style) -> QtGui.QColor:
    """The k-th layer's colour, lightened on the dark theme to stay visible."""
    c = LAYER_COLORS[k % len(LAYER_COLORS)]
    if not style.dark:
        return QtGui.QColor(c)
    return st.legible_on(c, style.colors.background, st.DARK_LINE_CONTRAST)


def make_plot(epochs: bool = False) -> pg.PlotWidget:
    """A PlotWidget with the workbench's fast axes (whole epochs on x if ``epochs``)."""
    pw = pg.PlotWidget(axisItems=epoch_axes() if epochs else fast_axes())
    no_si_prefix(pw.getPlotItem())
    pw.getPlotItem().hideButtons()
    pw.getPlotItem().setMenuEnabled(False)
    return pw


def no_si_prefix(plot: pg.PlotItem) -> None:
    """Plain tick numbers: pyqtgraph's automatic SI prefix rescales a label-less log axis'
    ticks (a 1e-3 line was labelled 1)."""
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)


def style_plot(plot: pg.PlotItem, style: st.Style, base_font: QtGui.QFont, *, title: Optional[str] = None,
               left: Optional[str] = None, bottom: Optional[str] = None, factor: float = 1.0) -> None:
    """Axis pens, tick fonts, labels and title from ``style`` (``factor`` scales the fonts)."""
    colors = style.colors
    font = st.scaled_font(base_font, style, 0.9 * factor)
    size = f"{st.point_size(base_font) * style.font_scale * factor:.1f}pt"
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setStyle(tickFont=font)
        ax.setPen(pg.mkPen(colors.foreground))
        ax.setTextPen(pg.mkPen(colors.text))
    lab = {"font-size": size, "color": colors.text}
    if left is not None:
        plot.setLabel("left", left, **lab)
    if bottom is not None:
        plot.setLabel("bottom", bottom, **lab)
    if title is not None:
        plot.setTitle(title, color=colors.text, size=size)


def positive(values) -> np.ndarray:
    """float64 copy with non-positive and non-finite values as NaN (for a log axis)."""
    v = np.array(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        v[~(np.isfinite(v) & (v > 0))] = np.nan
    return v


def finite(values) -> np.ndarray:
    """float64 copy with non-finite values as NaN."""
    v = np.array(values, dtype=np.float64)
    v[~np.isfinite(v)] = np.nan
    return v
