"""The small preview plots of the editors (data points, the planned η)."""

from __future__ import annotations

from PySide6.QtCore import QSize

#: A preview plot shrinks to this height before its dock has to scroll.
MIN_PREVIEW_HEIGHT = 100


def make_preview_plot(object_name: str, height: int = 180):
    """A small, non-interactive pyqtgraph plot that does not ask for more width than the form."""
    import pyqtgraph as pg

    class _PreviewPlot(pg.PlotWidget):
        def sizeHint(self):  # noqa: N802 - Qt override
            return QSize(280, height)

        def minimumSizeHint(self):  # noqa: N802 - Qt override
            return QSize(200, min(height, MIN_PREVIEW_HEIGHT))

    from workbench.ui.plots._axis import fast_axes

    plot = _PreviewPlot(axisItems=fast_axes())
    plot.setObjectName(object_name)
    plot.setProperty("previewPlot", True)
    plot.setBackground(pg.getConfigOption("background"))
    plot.setMinimumHeight(min(height, MIN_PREVIEW_HEIGHT))
    plot.setMaximumHeight(height + 60)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.getPlotItem().setMouseEnabled(False, False)
    plot.showGrid(x=True, y=True, alpha=0.2)
    return plot


def style_preview_plot(plot, style) -> None:
    """Background, axis lines, tick labels and axis titles of a preview plot in the
    colours of ``style``'s theme (the main plots' colours)."""
    import pyqtgraph as pg

    colors = style.colors
    plot.setBackground(colors.background)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(colors.foreground, width=style.px(1)))
        axis.setTextPen(pg.mkPen(colors.text))  # also the axis title's colour
    grid = colors.grid_alpha
    item.showGrid(x=item.getAxis("bottom").grid is not False, y=item.getAxis("left").grid is not False, alpha=grid)
