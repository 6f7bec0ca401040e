"""The playground's picture: a surface's contour lines, its minimum, the start point and
the optimizers' paths, revealed step by step.

:class:`SurfacePlot` draws what it is given and computes no path: the window hands it the
engine's :class:`~workbench.engine.surfaces.Path` of every run (``set_paths``) and the
step to show (``reveal``); each path's line then holds its points w_0 .. w_t exactly as
the engine computed them (a path that stopped earlier shows all of its points).  A left
click inside the plot emits ``clicked(x, y)`` in the surface's coordinates (a drag pans,
the wheel zooms, as in every pyqtgraph plot).

Contours: ``Surface.levels`` (log-spaced, dense near the minimum, computed once over the
surface's view), traced by :func:`.contours.segments` over whatever part of the plane is
shown (redrawn after a pan or zoom); on the saddle, whose levels are symmetric about 0,
the negative levels are dashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui
from PySide6.QtCore import Qt, Signal

from workbench.engine.surfaces import Path, Surface

from .. import style as st
from ..plots._axis import fast_axes
from .contours import segments
from .tool_style import style_axes

#: grid points per side of the contour grid
GRID_POINTS = 161
#: contour levels drawn
N_LEVELS = 20
#: a contour level whose lines span fewer grid cells than this (in x or y) is left out
MIN_CONTOUR_CELLS = 4
#: closed contour pieces of fewer segments are left out (loops around one or two grid
#: points: a valley floor or a basin the grid cannot resolve; zoom in to see them)
MIN_PIECE = 16
#: decades of the saddle's symmetric levels (``Surface.levels``' default 4 packs the
#: levels near 0 so close to the asymptotes w₂ = ±w₁ that they merge into a band)
SYMMETRIC_DECADES = 2.0
#: least contrast (WCAG, graphics) of a path's colour against the plot background
PATH_CONTRAST = 3.0


@dataclass(frozen=True)
class PathView:
    """What one drawn path needs: the engine's ``path``, palette ``color`` (hex) and ``label``."""

    path: Path
    color: str
    label: str


class _PathItems:
    """The items of one path: its line (with a dot per iterate) and its head."""

    def __init__(self, plot: pg.PlotItem):
        self.line = pg.PlotDataItem()
        self.line.setZValue(20)
        self.head = pg.ScatterPlotItem()
        self.head.setZValue(30)
        plot.addItem(self.line)
        plot.addItem(self.head)

    def remove(self, plot: pg.PlotItem) -> None:
        plot.removeItem(self.line)
        plot.removeItem(self.head)


class SurfacePlot(pg.PlotWidget):
    """Contours, minimum, start point and paths (see the module docstring).

    ``clicked(x, y)``: a left click at (x, y) in surface coordinates."""

    clicked = Signal(float, float)

    def __init__(self, parent=None, base_font: Optional[QtGui.QFont] = None):
        super().__init__(parent, axisItems=fast_axes())
        self.setObjectName("surfacePlot")
        self._base_font = QtGui.QFont(base_font) if base_font is not None else st.base_font()
        self._style = st.Style.normal()
        self._surface: Optional[Surface] = None
        self._levels = np.empty(0)
        self._contours: list[pg.PlotCurveItem] = []
        self._views: list[PathView] = []
        self._items: list[_PathItems] = []
        self._shown = 0
        self._start: Optional[tuple[float, float]] = None
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setAspectLocked(True, ratio=1.0)
        item.vb.disableAutoRange()
        for name in ("left", "bottom"):
            item.getAxis(name).enableAutoSIPrefix(False)
        self.setMinimumSize(320, 260)
        self.minimum_item = pg.ScatterPlotItem()
        self.minimum_item.setZValue(40)
        self.minimum_label = pg.TextItem(anchor=(-0.15, -0.05))
        self.minimum_label.setZValue(40)
        self.start_item = pg.ScatterPlotItem()
        self.start_item.setZValue(35)
        self.start_label = pg.TextItem("w₀", anchor=(1.0, 1.0))
        self.start_label.setZValue(35)
        for it in (self.minimum_item, self.minimum_label, self.start_item, self.start_label):
            item.addItem(it)
        # top left: the paths of the presets head for the minimum, right of and below it
        self.legend = pg.LegendItem(offset=(8, 8), verSpacing=-2)
        self.legend.setParentItem(item.vb)
        self.legend.setZValue(50)
        self.scene().sigMouseClicked.connect(self._on_scene_click)
        self._contour_rect = None
        self._contour_timer = QtCore.QTimer(self)
        self._contour_timer.setSingleShot(True)
        self._contour_timer.setInterval(0)
        self._contour_timer.timeout.connect(self._draw_contours)
        item.vb.sigRangeChanged.connect(self._on_range_changed)
        self.apply_style(self._style)

    # -- the surface ------------------------------------------------------------------
    def set_surface(self, surface: Surface) -> None:
        """Draw ``surface``: its contour levels (``Surface.levels`` over its view), its
        minimum (or saddle point), and the view range set to its view."""
        self._surface = surface
        Z = surface.grid(n=GRID_POINTS)
        if surface.min_value is None:
            self._levels = surface.levels(N_LEVELS, Z, decades=SYMMETRIC_DECADES)
        else:
            self._levels = surface.levels(N_LEVELS, Z)
        item = self.getPlotItem()
        for curve in self._contours:
            item.removeItem(curve)
        self._contours = []
        for _level in self._levels:
            curve = pg.PlotCurveItem(connect="pairs", antialias=True)
            curve.setZValue(5)
            item.addItem(curve)
            self._contours.append(curve)
        self._contour_rect = None
        self.reset_view()
        self._draw_minimum()
        self._style_contours()
        self._draw_contours()

    def _draw_contours(self) -> None:
        """The contour lines over the visible range (and a margin), at the surface's levels:
        panning and zooming redraw them, so they fill whatever part of the plane is shown."""
        self._contour_timer.stop()
        s = self._surface
        if s is None:
            return
        (x0, x1), (y0, y1) = self.getPlotItem().vb.viewRange()
        mx, my = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
        x0, x1, y0, y1 = x0 - mx, x1 + mx, y0 - my, y1 + my
        rect = (x0, x1, y0, y1)
        if rect == self._contour_rect:
            return
        self._contour_rect = rect
        wide = (x1 - x0) >= (y1 - y0)
        ratio = (y1 - y0) / (x1 - x0) if wide else (x1 - x0) / (y1 - y0)
        n_short = max(int(round(GRID_POINTS * ratio)), 16)
        nx, ny = (GRID_POINTS, n_short) if wide else (n_short, GRID_POINTS)
        xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
        X, Y = np.meshgrid(xs, ys)
        with np.errstate(all="ignore"):
            Z = np.asarray(s.value(np.stack([X, Y], axis=-1)), dtype=np.float64)
        cell = max((x1 - x0) / (nx - 1), (y1 - y0) / (ny - 1))
        for level, curve in zip(self._levels, self._contours):
            seg = segments(xs, ys, Z, level, min_piece=MIN_PIECE)
            if len(seg) and min(np.ptp(seg[:, 0]), np.ptp(seg[:, 1])) < MIN_CONTOUR_CELLS * cell:
                seg = seg[:0]  # smaller than the grid can draw faithfully (zoom in to see it)
            curve.setData(seg[:, 0], seg[:, 1], connect="pairs")

    def _on_range_changed(self, *_args) -> None:
        if self._surface is not None:
            self._contour_timer.start()

    @property
    def surface(self) -> Optional[Surface]:
        return self._surface

    def levels(self) -> np.ndarray:
        """The contour levels drawn (``Surface.levels``)."""
        return self._levels.copy()

    def contour_items(self) -> list:
        return list(self._contours)

    def reset_view(self) -> None:
        """Back to the surface's view (after panning or zooming)."""
        if self._surface is not None:
            (x0, x1), (y0, y1) = self._surface.view
            self.getPlotItem().vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)

    def _draw_minimum(self) -> None:
        s = self._surface
        point = s.minimum if s is not None else None
        if point is None and s is not None and s.name == "saddle":
            point, text = (0.0, 0.0), "saddle"
        else:
            text = "w*"
        if point is None:
            self.minimum_item.setData([], [])
            self.minimum_label.setText("")
            return
        self.minimum_item.setData([point[0]], [point[1]])
        self.minimum_item.setSymbol("star" if s.minimum is not None else "x")
        self.minimum_item.setProperty("minimumPoint", point)
        self.minimum_label.setText(text)
        self.minimum_label.setPos(*point)

    def minimum_point(self) -> Optional[tuple[float, float]]:
        """Where the minimum (or the saddle point) is marked (None: not marked)."""
        x, y = self.minimum_item.getData()
        return (float(x[0]), float(y[0])) if len(x) else None

    # -- start and paths ----------------------------------------------------------------
    def set_start(self, point: Sequence[float]) -> None:
        self._start = (float(point[0]), float(point[1]))
        self.start_item.setData([self._start[0]], [self._start[1]])
        self.start_label.setPos(*self._start)

    def start_point(self) -> Optional[tuple[float, float]]:
        return self._start

    def set_paths(self, views: Sequence[PathView]) -> None:
        """The paths to draw (one per run, in order); shown up to the current step."""
        item = self.getPlotItem()
        while len(self._items) > len(views):
            self._items.pop().remove(item)
        while len(self._items) < len(views):
            self._items.append(_PathItems(item))
        self._views = list(views)
        self._style_paths()
        self._rebuild_legend()
        self.reveal(self._shown)

    def reveal(self, t: int) -> None:
        """Show every path's points w_0 .. w_min(t, its steps)."""
        self._shown = max(int(t), 0)
        for view, items in zip(self._views, self._items):
            k = min(self._shown, view.path.steps)
            pts = view.path.points[: k + 1]
            items.line.setData(pts[:, 0], pts[:, 1])
            items.head.setData([pts[-1, 0]], [pts[-1, 1]])

    def path_items(self) -> list[pg.PlotDataItem]:
        """The line item of each path (its ``getData()`` are the points drawn)."""
        return [items.line for items in self._items]

    def drawn_points(self, index: int) -> np.ndarray:
        """The points path ``index`` shows now, read back from its plot item, shape (k+1, 2)."""
        x, y = self._items[index].line.getData()
        if x is None:
            return np.empty((0, 2))
        return np.column_stack([x, y])

    def path_color(self, index: int) -> QtGui.QColor:
        """The colour path ``index`` is drawn in (its line's pen)."""
        return QtGui.QColor(self._items[index].line.opts["pen"].color())

    # -- style ----------------------------------------------------------------------------
    def current_style(self) -> st.Style:
        return self._style

    def path_pen_color(self, color: str) -> QtGui.QColor:
        """A palette colour as paths are drawn: legible (3:1) on the theme's background."""
        return st.legible_on(color, self._style.colors.background, PATH_CONTRAST)

    def apply_style(self, style: st.Style) -> None:
        """Background, axes, fonts, contour and path pens for ``style`` (theme and
        presentation scale)."""
        self._style = style
        colors = style.colors
        self.setBackground(colors.background)
        item = self.getPlotItem()
        font = style_axes(item, style, self._base_font, bottom="w₁", left="w₂", widest_tick="−00.0")
        item.getAxis("bottom").setHeight(int(QtGui.QFontMetricsF(font).height() * 2.4 + 8))
        text = QtGui.QColor(colors.text)
        size = style.marker_size
        self.minimum_item.setSymbol("star" if self._surface is None or self._surface.minimum is not None else "x")
        self.minimum_item.setSize(size * 2.2)
        self.minimum_item.setBrush(pg.mkBrush(text))
        self.minimum_item.setPen(pg.mkPen(colors.background, width=style.px(1)))
        self.start_item.setSymbol("o")
        self.start_item.setSize(size * 1.8)
        self.start_item.setBrush(pg.mkBrush(None))
        self.start_item.setPen(pg.mkPen(text, width=style.px(max(1.5, style.pen_width * 0.8))))
        small = st.scaled_font(self._base_font, style, 0.95)
        for label_item in (self.minimum_label, self.start_label):
            label_item.setColor(text)
            label_item.setFont(small)
        self._style_contours()
        self._style_paths()
        self._rebuild_legend()

    def _style_contours(self) -> None:
        colors = self._style.colors
        n = len(self._contours)
        symmetric = self._surface is not None and self._surface.min_value is None
        for i, curve in enumerate(self._contours):
            level = self._levels[i]
            if symmetric:  # the same weight for +c and -c, heavier away from the asymptotes
                half = len(self._levels) // 2
                closeness = abs(i - half) / max(half, 1) * 0.6
            else:
                closeness = 1.0 - i / max(n - 1, 1)
            alpha = int(70 + 120 * closeness)
            pen = pg.mkPen(st.with_alpha(colors.foreground, alpha), width=self._style.px(1.0))
            if symmetric and level < 0:
                pen.setStyle(Qt.PenStyle.DashLine)
            curve.setPen(pen)

    def _style_paths(self) -> None:
        style = self._style
        for view, items in zip(self._views, self._items):
            color = self.path_pen_color(view.color)
            items.line.setPen(pg.mkPen(color, width=style.px(style.pen_width)))
            items.line.setSymbol("o")
            items.line.setSymbolSize(max(3.0, style.marker_size * 0.55))
            items.line.setSymbolBrush(pg.mkBrush(color))
            items.line.setSymbolPen(None)
            items.head.setSymbol("o")
            items.head.setSize(style.marker_size * 1.6)
            items.head.setBrush(pg.mkBrush(color))
            items.head.setPen(pg.mkPen(style.colors.background, width=style.px(1.5)))

    def set_legend_visible(self, on: bool) -> None:
        self.legend.setVisible(bool(on))

    def _rebuild_legend(self) -> None:
        legend = self.legend
        legend.clear()
        colors = self._style.colors
        legend.setBrush(pg.mkBrush(*colors.legend_fill))
        legend.setPen(pg.mkPen(st.with_alpha(colors.foreground, 90)))
        legend.setLabelTextColor(colors.text)
        legend.setLabelTextSize(f"{st.point_size(self._base_font) * self._style.font_scale * 0.95:.1f}pt")
        for view, items in zip(self._views, self._items):
            legend.addItem(items.line, view.label)

    # -- clicks ----------------------------------------------------------------------------
    def _on_scene_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        vb = self.getPlotItem().vb
        pos = event.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        point = vb.mapSceneToView(pos)
        event.accept()
        self.clicked.emit(float(point.x()), float(point.y()))

    def view_to_widget(self, x: float, y: float) -> QtCore.QPoint:
        """Where the surface point (x, y) is in this widget's coordinates (tests click there)."""
        scene = self.getPlotItem().vb.mapViewToScene(QtCore.QPointF(x, y))
        return self.mapFromScene(scene)


__all__ = ["SurfacePlot", "PathView", "GRID_POINTS", "N_LEVELS"]
