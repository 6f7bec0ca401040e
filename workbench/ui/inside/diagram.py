"""The network as a diagram: units as nodes, weights as lines, biases as rings.

Columns from left to right: the input, each hidden layer, the output.  What is drawn
(the :attr:`NetworkDiagram.legend` says the same under the picture):

* a **line** for weight ``w = W^(l)[i, j]`` (unit ``i`` of position ``l - 1`` to unit ``j``
  of position ``l``): width ``LINE_WIDTH * |w| / max|W^(l)|`` px (at least
  :data:`LINE_WIDTH_MIN`; ``LINE_WIDTH`` is :func:`max_line_width`, 6 px, 10.5 px in
  presentation mode), colour orange for ``w > 0``, blue for ``w < 0`` (the boundary view's
  class 1 and class 0), mixed with the
  background so that a small weight is paler: ``FADE_MIN + (1 - FADE_MIN) |w| / max|W^(l)|``
  of the colour (:func:`line_style`; opaque colours, stronger lines drawn on top --
  translucent wide antialiased lines cost six times as much to paint);
* a **ring** round each hidden and output unit for its bias ``b^(l)[j]``: the same
  colours, width ``RING_MIN + (RING_MAX - RING_MIN) |b| / max|b^(l)|``;
* inside each node, for 2-D inputs, the unit's value over the input plane (see
  :mod:`.maps`): orange above the layer's centre (0; 0.5 for sigmoid), blue below,
  pale at it; the scale is shared by the units of one layer (tanh and hard tanh
  ``[-1, 1]``, sigmoid ``[0, 1]``, otherwise ``± max |value|`` of the layer);
* a layer wider than :data:`~.maps.WIDE_LAYER` units is a **strip** (its biases as
  colour cells, at most :data:`STRIP_CELLS`, each the largest ``|b|`` of its units)
  with only the :data:`~.maps.AGGREGATE_LINES` strongest connections to each
  neighbour, attached where the unit lies along the strip;
* units dropped in the current step (:meth:`NetworkDiagram.set_dropped`) are faded and
  crossed, and so are their connections.

Items are created once per architecture (:meth:`NetworkDiagram.set_network`): a pool
of at most :data:`~.maps.MAX_LINES` line items, one node (square, ring, map image,
cross) per drawn unit, one strip per wide layer, one header per column.  Updates only
change pens, pixmaps and positions.  Hovering shows the value under the cursor in
:attr:`NetworkDiagram.readout` and as a tooltip.

Why this module is long: it is one widget, the network drawn; the item pool, the layout of
nodes and strips, the pens and pixmaps of each update and the hover description all work on
the same items, and the read-backs the tests use sit beside them.
"""

from __future__ import annotations

import weakref
from typing import Optional, Sequence

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.engine.layer_stats import layer_names
from workbench.ui import style as st

from . import _common as cm
from .maps import AGGREGATE_LINES, MAX_LINES, WIDE_LAYER, DiagramSnapshot, line_budget, snapshot_from_arrays

LINE_WIDTH = 6.0
"""Width (px) of a layer's strongest connection at the normal style (x pen_width / 2)."""
LINE_WIDTH_MIN = 0.5
"""Narrowest line (px): a zero weight is still a hairline (a QPen of width 0 would be 1 px)."""
FADE_MIN = 0.2
"""Share of the sign colour (the rest: the background) in a zero weight's line; the
strongest line has the full colour."""
RING_MIN = 1.0
"""Ring width (px) of a zero bias."""
RING_MAX = 5.0
"""Ring width (px) of the layer's largest ``|b|``."""
STRIP_CELLS = 128
"""Most colour cells of a wide layer's strip."""
NODE_MAX = 56.0
"""Largest node side (px, x font_scale)."""
FEW_UNITS = 4
"""A layer of at most this many units gets nodes up to :data:`FEW_NODE_MAX`."""
FEW_NODE_MAX = 120.0
"""Largest node side (px, x font_scale) in a layer of a few units (the output's map)."""
DROPPED_OPACITY = 0.18
"""Opacity of a dropped unit and of its connections."""
HOVER_PX = 5.0
"""A line is hovered within this distance (px) of the cursor."""

_BOUNDED = {"tanh": (-1.0, 0.0, 1.0), "hard_tanh": (-1.0, 0.0, 1.0), "sigmoid": (0.0, 0.5, 1.0)}
_POSITIVE = ("relu", "softplus")


def max_line_width(style: st.Style) -> float:
    """The strongest connection's width (px) under ``style``."""
    return LINE_WIDTH * style.pen_width / 2.0


def line_style(w: float, wmax: float, style: st.Style, dropped: bool = False) -> tuple[float, QtGui.QColor]:
    """``(width px, colour)`` of the line of weight ``w`` in a layer whose largest
    ``|w|`` is ``wmax`` (see the module docstring); ``dropped``: the line touches a unit
    dropped in this step (its colour is :data:`DROPPED_OPACITY` of itself)."""
    t = _share(w, wmax)
    width = max(LINE_WIDTH_MIN, max_line_width(style) * t)
    pos, neg = cm.sign_colors(style)
    color = cm.hexcolor(pos if w >= 0 else neg) if np.isfinite(w) else st.VERMILLION
    bg = style.colors.background
    mixed = st.blend(color, bg, FADE_MIN + (1.0 - FADE_MIN) * t)
    if dropped:
        mixed = st.blend(cm.hexcolor(mixed), bg, DROPPED_OPACITY)
    return width, mixed


def ring_scale(style: st.Style) -> float:
    """Rings grow with the style's pens up to 1.25x (a thicker ring would cover the map)."""
    return min(style.pen_width / 2.0, 1.25)


def ring_style(b: float, bmax: float, style: st.Style) -> tuple[float, QtGui.QColor]:
    """``(width px, colour)`` of the ring of bias ``b`` in a layer whose largest ``|b|``
    is ``bmax``; a zero bias has a thin ring in the theme's foreground colour."""
    t = _share(b, bmax)
    k = ring_scale(style)
    width = (RING_MIN + (RING_MAX - RING_MIN) * t) * k
    if b == 0.0:
        return width, QtGui.QColor(style.colors.foreground)
    pos, neg = cm.sign_colors(style)
    return width, QtGui.QColor(pos if b > 0 else neg) if np.isfinite(b) else QtGui.QColor(st.VERMILLION)


def _share(v: float, vmax: float) -> float:
    """``|v| / vmax`` in [0, 1]; a non-finite ``v`` counts as the largest, a finite one
    next to a non-finite maximum as 0."""
    if not np.isfinite(v):
        return 1.0
    if not np.isfinite(vmax) or not vmax > 0.0:
        return 0.0
    return float(min(1.0, abs(v) / vmax))


def map_scale(kind: str, values: Optional[np.ndarray]) -> tuple[float, float, float]:
    """``(low, centre, high)`` of a layer's heat maps: fixed for bounded activations,
    ``[0, max]`` for relu and softplus, else ``± max |value|`` (see the module docstring)."""
    if kind in _BOUNDED:
        return _BOUNDED[kind]
    m = 0.0
    if values is not None and values.size:
        with np.errstate(all="ignore"):
            finite = values[np.isfinite(values)]
            m = float(np.abs(finite).max()) if finite.size else 0.0
    m = m if m > 0.0 else 1.0
    if kind in _POSITIVE:
        return 0.0, 0.0, m
    return -m, 0.0, m


def map_rgba(values: np.ndarray, scale: tuple[float, float, float], dark: bool) -> np.ndarray:
    """``(..., r, r, 4)`` uint8 colours of maps ``(..., r, r)`` (rows flipped: image row 0
    is the top, the map's row 0 the bottom of the plane)."""
    lo, c, hi = scale
    half = max(hi - c, c - lo, 1e-300)
    with np.errstate(all="ignore"):
        u = (np.asarray(values, dtype=np.float64) - c) / half
        u = np.nan_to_num(u, nan=0.0, posinf=1.0, neginf=-1.0)
    idx = np.clip(np.rint((u + 1.0) * 0.5 * (cm.LUT_SIZE - 1)), 0, cm.LUT_SIZE - 1).astype(np.intp)
    rgba = cm.diverging_lut(dark)[idx]
    return np.ascontiguousarray(np.flip(rgba, axis=-3))


# ----------------------------------------------------------------------------- items
class _Node(QtWidgets.QGraphicsRectItem):
    """One unit: a square with a ring (bias), a map image and a cross (dropped)."""

    def __init__(self, position: int, unit: int):
        super().__init__()
        self.position, self.unit = position, unit
        self.map_item = QtWidgets.QGraphicsPixmapItem(self)
        self.map_item.setTransformationMode(QtCore.Qt.TransformationMode.SmoothTransformation)
        self.map_item.setVisible(False)
        self.cross = QtWidgets.QGraphicsPathItem(self)
        self.cross.setVisible(False)
        self.cross.setZValue(2)
        self.ring = QtWidgets.QGraphicsRectItem(self)  # drawn above the map
        self.ring.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        self.ring.setZValue(1)
        self.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
        self.bias: Optional[float] = None
        self.dropped = False
        self.map_resolution = 0

    def place(self, cx: float, cy: float, s: float) -> None:
        self.setRect(cx - s / 2, cy - s / 2, s, s)
        self.ring.setRect(cx - s / 2, cy - s / 2, s, s)
        if self.map_resolution:
            self.map_item.setScale(s / self.map_resolution)
        self.map_item.setPos(cx - s / 2, cy - s / 2)
        path = QtGui.QPainterPath()
        d = s * 0.42
        path.moveTo(cx - d, cy - d)
        path.lineTo(cx + d, cy + d)
        path.moveTo(cx - d, cy + d)
        path.lineTo(cx + d, cy - d)
        self.cross.setPath(path)


class _Strip(QtWidgets.QGraphicsRectItem):
    """A wide layer: a column of colour cells (biases; dropped units grey)."""

    def __init__(self, position: int, units: int):
        super().__init__()
        self.position, self.units = position, units
        self.cells = QtWidgets.QGraphicsPixmapItem(self)
        self.cells.setTransformationMode(QtCore.Qt.TransformationMode.FastTransformation)
        self.cells.setZValue(-1)
        self.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        self.n_cells = 1

    def place(self, x: float, top: float, w: float, h: float) -> None:
        self.setRect(x - w / 2, top, w, h)
        self.cells.setPos(x - w / 2, top)
        self.cells.setTransform(QtGui.QTransform.fromScale(w, h / max(1, self.n_cells)))


class _Scene(QtWidgets.QGraphicsView):
    def __init__(self, owner: "NetworkDiagram"):
        super().__init__()
        self._owner_ref = weakref.ref(owner)  # no reference cycle through Qt wrappers
        self.setScene(QtWidgets.QGraphicsScene(self))
        self.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        self.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 200)

    def _owner(self) -> Optional["NetworkDiagram"]:
        return self._owner_ref()

    def _call_hover(self, p) -> None:
        owner = self._owner()
        if owner is not None:
            owner._hover(p)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        owner = self._owner()
        if owner is not None:
            owner._layout()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().mouseMoveEvent(event)
        self._call_hover(self.mapToScene(event.position().toPoint()))

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().leaveEvent(event)
        self._call_hover(None)

    def viewportEvent(self, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QtCore.QEvent.Type.ToolTip:
            owner = self._owner()
            text = "" if owner is None else owner.describe_at(self.mapToScene(event.pos()))
            if text:
                QtWidgets.QToolTip.showText(event.globalPos(), text, self)
            else:
                QtWidgets.QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)


# ----------------------------------------------------------------------------- widget
class NetworkDiagram(QtWidgets.QWidget):
    """Units, weights and biases of a network; heat maps of 2-D inputs (see the module
    docstring).  Feed it plain data: :meth:`set_network` once per architecture, then
    :meth:`set_snapshot` (a :class:`~.maps.DiagramSnapshot` from the worker) or
    :meth:`set_weights` / :meth:`set_maps` / :meth:`set_dropped`."""

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None, style: Optional[st.Style] = None):
        super().__init__(parent)
        self._style = style or st.Style.normal()
        self._base_font = st.base_font()
        self.view = _Scene(self)
        self.scene: QtWidgets.QGraphicsScene = self.view.scene()
        self.readout = QtWidgets.QLabel(" ")
        self.readout.setObjectName("diagramReadout")
        self.readout.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.readout.setContentsMargins(10, 2, 10, 2)
        self.legend = QtWidgets.QLabel()
        self.legend.setObjectName("diagramLegend")
        self.legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setContentsMargins(10, 4, 10, 6)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.view, 1)
        box.addWidget(self.readout, 0)
        box.addWidget(self.legend, 0)

        self._sizes: tuple[int, ...] = ()
        self._acts: tuple[str, ...] = ()
        self._output = "logits"
        self._input_names: tuple[str, ...] = ()
        self._rates: Optional[tuple[float, ...]] = None
        self._nodes: list[Optional[list[_Node]]] = []
        self._strips: list[Optional[_Strip]] = []
        self._headers: list[QtWidgets.QGraphicsSimpleTextItem] = []
        self._names: list[QtWidgets.QGraphicsSimpleTextItem] = []
        self._notes: list[Optional[QtWidgets.QGraphicsSimpleTextItem]] = []  # per layer: "32 of 200,704"
        self._lines: list[QtWidgets.QGraphicsLineItem] = []
        self._budget: tuple[int, ...] = ()
        self._offsets: tuple[int, ...] = ()
        n = 0
        self._line_layer = np.zeros(n, np.int32)  # 0-based layer of each pool slot
        self._line_i = np.zeros(n, np.int32)
        self._line_j = np.zeros(n, np.int32)
        self._line_w = np.zeros(n)
        self._line_on = np.zeros(n, bool)
        self._seg = np.zeros((n, 4))  # x1, y1, x2, y2
        self._wmax: list[float] = []
        self._biases: list[Optional[np.ndarray]] = []
        self._maps: list[Optional[np.ndarray]] = []
        self._scales: list[Optional[tuple[float, float, float]]] = []
        self._dropped: list[Optional[np.ndarray]] = []
        self._snapshot: Optional[DiagramSnapshot] = None
        self._geom: dict = {}
        self._placeholder = self.scene.addSimpleText("No network yet: choose a data set and layers.")
        self.apply_style(self._style)

    # ------------------------------------------------------------------ inputs
    def set_network(self, sizes: Sequence[int], activations: Sequence[str], *, output: str = "logits",
                    input_names: Sequence[str] = (), dropout: Optional[Sequence[float]] = None) -> None:
        """The architecture: ``sizes = (d, units..., outputs)``, one activation per hidden
        layer, ``output`` the output unit's name for the header (e.g. "sigmoid"),
        ``input_names`` one per input (shown when the input is drawn unit by unit),
        ``dropout`` the rate per position ``0 .. L-1`` (shown in the headers).  Creates
        the scene's items; weights, maps and dropped units are cleared."""
        sizes = tuple(int(s) for s in sizes)
        acts = tuple(activations)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes: need at least inputs and outputs, got {sizes}")
        if len(acts) != len(sizes) - 2:
            raise ValueError(f"activations: expected {len(sizes) - 2}, got {len(acts)}")
        self._sizes, self._acts, self._output = sizes, acts, str(output)
        self._input_names = tuple(str(n) for n in input_names)
        self._rates = None if dropout is None else tuple(float(p) for p in dropout)
        self._build_items()
        self._layout()
        self._update_legend()

    def set_snapshot(self, snap: DiagramSnapshot) -> None:
        """Everything of a :class:`~.maps.DiagramSnapshot` (the architecture is set from it
        when it differs from the current one)."""
        if snap.sizes != self._sizes or snap.activations != self._acts:
            self.set_network(snap.sizes, snap.activations, output=self._output, input_names=self._input_names)
        self._snapshot = snap
        self._apply_connections(snap)
        if snap.maps is not None:
            self.set_maps(snap.maps)
        if snap.dropped is not None or any(d is not None for d in self._dropped):
            self.set_dropped(snap.dropped)

    def set_weights(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> None:
        """Full weight matrices ``(fan_in, fan_out)`` and bias vectors, one per layer
        (reduced here by :func:`~.maps.snapshot_from_arrays`: one pass over each; for a
        big network let the worker send a snapshot instead)."""
        if not self._sizes:
            raise RuntimeError("set_network first")
        snap = snapshot_from_arrays(weights, biases, self._acts)
        if snap.sizes != self._sizes:
            raise ValueError(f"weights: shapes give sizes {snap.sizes}, the network has {self._sizes}")
        self._snapshot = snap
        self._apply_connections(snap)

    def set_maps(self, maps: Optional[Sequence[Optional[np.ndarray]]]) -> None:
        """Heat maps per position ``0 .. L`` (``(units, r, r)`` or None; None: none at all)."""
        P = len(self._sizes)
        maps = [None] * P if maps is None else list(maps)
        if len(maps) != P:
            raise ValueError(f"maps: expected {P} entries (input, hidden layers, output), got {len(maps)}")
        self._maps = [None] * P
        self._scales = [None] * P
        kinds = ("identity",) + self._acts + ("logits",)
        for k in range(P):
            nodes = self._nodes[k]
            m = maps[k]
            if nodes is None or m is None:
                for node in nodes or ():
                    node.map_item.setVisible(False)
                    node.map_resolution = 0
                continue
            m = np.asarray(m)
            if m.ndim != 3 or m.shape[0] != self._sizes[k] or m.shape[1] != m.shape[2]:
                raise ValueError(f"maps[{k}]: expected ({self._sizes[k]}, r, r), got {m.shape}")
            scale = map_scale(kinds[k], m)
            rgba = map_rgba(m, scale, self._style.dark)
            r = m.shape[1]
            for j, node in enumerate(nodes):
                node.map_item.setPixmap(QtGui.QPixmap.fromImage(cm.rgba_image(rgba[j])))
                node.map_resolution = r
                node.map_item.setVisible(True)
            self._maps[k] = m
            self._scales[k] = scale
        self._layout()
        self._update_legend()

    def set_dropped(self, masks: Optional[Sequence[Optional[np.ndarray]]]) -> None:
        """Units dropped in the current step, per position ``0 .. L-1`` (the input and
        each hidden layer): a boolean ``(units,)`` array (True = dropped) or None; None
        for all: nothing dropped (see :func:`~.maps.dropped_units`)."""
        P = len(self._sizes)
        masks = [] if masks is None else list(masks)
        if len(masks) > P - 1:
            raise ValueError(f"masks: expected at most {P - 1} entries (input and hidden layers), got {len(masks)}")
        self._dropped = [None] * P
        for k, m in enumerate(masks):
            if m is None:
                continue
            m = np.asarray(m, dtype=bool).reshape(-1)
            if m.size != self._sizes[k]:
                raise ValueError(f"masks[{k}]: expected {self._sizes[k]} units, got {m.size}")
            self._dropped[k] = m
        for k in range(P):
            d = self._dropped[k]
            for j, node in enumerate(self._nodes[k] or ()):
                node.dropped = bool(d is not None and d[j])
                node.setOpacity(DROPPED_OPACITY if node.dropped else 1.0)
                node.cross.setVisible(node.dropped)
            if self._strips[k] is not None:
                self._paint_strip(k)
        self._apply_line_pens()

    # ------------------------------------------------------------------ style
    def apply_style(self, style: st.Style) -> None:
        self._style = style
        colors = style.colors
        self.view.setBackgroundBrush(QtGui.QColor(colors.background))
        for label, factor in ((self.readout, 0.95), (self.legend, 0.9)):
            label.setFont(st.scaled_font(self._base_font, style, factor))
            pal = label.palette()
            pal.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor(colors.background))
            pal.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor(colors.text))
            label.setPalette(pal)
            label.setAutoFillBackground(True)
        font = st.scaled_font(self._base_font, style)
        bold = QtGui.QFont(font)
        bold.setBold(True)
        for n, item in enumerate([*self._headers, *self._names, self._placeholder]):
            item.setFont(bold if n < len(self._headers) and n % 2 == 0 else font)
            item.setBrush(QtGui.QColor(colors.text))
        small = st.scaled_font(self._base_font, style, 0.85)
        for note in self._notes:
            if note is not None:
                note.setFont(small)
                note.setBrush(QtGui.QColor(colors.text))
        cross_pen = QtGui.QPen(QtGui.QColor(colors.text), 2.0 * style.pen_width / 2.0)
        fill = QtGui.QBrush(QtGui.QColor(cm.MAP_CENTRE[style.dark]))
        for nodes in self._nodes:
            for node in nodes or ():
                node.cross.setPen(cross_pen)
                node.setBrush(fill)
        for strip in self._strips:
            if strip is not None:
                strip.setPen(QtGui.QPen(QtGui.QColor(colors.foreground), 1.0))
        if self._maps and any(m is not None for m in self._maps):
            self.set_maps(self._maps)
        if self._snapshot is not None:
            self._apply_connections(self._snapshot)
        else:
            self._apply_biases()
        for k in range(len(self._strips)):
            if self._strips[k] is not None:
                self._paint_strip(k)
        self._layout()
        self._update_legend()

    # ------------------------------------------------------------------ read-backs
    def line_for(self, layer: int, i: int, j: int) -> Optional[QtWidgets.QGraphicsLineItem]:
        """The line item drawing ``W^(layer)[i, j]`` (1-based ``layer``), or None when that
        weight is not drawn (an aggregated layer's weaker connections)."""
        sel = self._line_on & (self._line_layer == layer - 1)
        hit = np.flatnonzero(sel & (self._line_i == i) & (self._line_j == j))
        return self._lines[int(hit[0])] if hit.size else None

    def line_weight(self, item: QtWidgets.QGraphicsLineItem) -> float:
        """The weight a line item draws."""
        return float(self._line_w[self._lines.index(item)])

    def drawn_connections(self, layer: int) -> list[tuple[int, int, float]]:
        """``(i, j, w)`` of every line drawn for ``W^(layer)`` (1-based)."""
        sel = np.flatnonzero(self._line_on & (self._line_layer == layer - 1))
        return [(int(self._line_i[s]), int(self._line_j[s]), float(self._line_w[s])) for s in sel]

    def node(self, position: int, unit: int) -> Optional[_Node]:
        """Node of ``unit`` at ``position`` (0 = input, ``L`` = output), None inside a strip."""
        nodes = self._nodes[position]
        return None if nodes is None else nodes[unit]

    def strip(self, position: int) -> Optional[_Strip]:
        return self._strips[position]

    def shown_map(self, position: int, unit: int) -> Optional[np.ndarray]:
        """The values of the heat map shown in a node (None: no map)."""
        m = self._maps[position] if self._maps else None
        return None if m is None else m[unit]

    def map_scale_of(self, position: int) -> Optional[tuple[float, float, float]]:
        return self._scales[position] if self._scales else None

    def is_aggregated(self, position: int) -> bool:
        return self._strips[position] is not None

    def item_counts(self) -> dict:
        """Items of the scene: ``lines`` drawn, ``line_items`` in the pool, ``nodes``,
        ``strips`` and ``total`` (every QGraphicsItem, children included)."""
        return {
            "lines": int(self._line_on.sum()),
            "line_items": len(self._lines),
            "nodes": sum(len(n) for n in self._nodes if n is not None),
            "strips": sum(s is not None for s in self._strips),
            "total": len(self.scene.items()),
        }

    def max_items(self) -> int:
        """Upper bound of ``item_counts()["total"]`` for the current architecture: the
        line pool, 4 items per node, 2 per strip, the headers, input names, placeholder."""
        nodes = sum(len(n) for n in self._nodes if n is not None)
        notes = sum(n is not None for n in self._notes)
        return len(self._lines) + 4 * nodes + 2 * len([s for s in self._strips if s]) + len(self._headers) + len(
            self._names) + notes + 1

    def node_center(self, position: int, unit: int) -> QtCore.QPointF:
        """Scene position of a unit (a node's centre, or its place on a strip)."""
        g = self._geom
        x = g["xs"][position]
        return QtCore.QPointF(x, self._unit_y(position, unit))

    # ------------------------------------------------------------------ hover
    def describe_at(self, p: Optional[QtCore.QPointF]) -> str:
        """What lies under scene point ``p``: a unit (its bias, activation, map scale), a
        strip, or a line (its weight); "" for nothing."""
        if p is None or not self._sizes or not self._geom:
            return ""
        x, y = p.x(), p.y()
        names = ("input",) + layer_names(len(self._sizes) - 1)
        g = self._geom
        for k, nodes in enumerate(self._nodes):
            if nodes is not None:
                for node in nodes:
                    if node.rect().adjusted(-2, -2, 2, 2).contains(p):
                        return self._describe_unit(k, node.unit, names[k])
            else:
                strip = self._strips[k]
                if strip.rect().adjusted(-3, 0, 3, 0).contains(p):
                    top, h = g["strip"][k]
                    j = int(np.clip((y - top) / h * self._sizes[k], 0, self._sizes[k] - 1))
                    return self._describe_unit(k, j, names[k], strip=True)
        on = np.flatnonzero(self._line_on)
        if on.size:
            s = self._seg[on]
            d = _segment_distance(x, y, s)
            best = int(np.argmin(d))
            if d[best] <= HOVER_PX + 0.5 * self._lines[on[best]].pen().widthF():
                slot = on[best]
                l = int(self._line_layer[slot])
                i, j, w = int(self._line_i[slot]), int(self._line_j[slot]), float(self._line_w[slot])
                dropped = self._touches_dropped(l, i, j)
                extra = " · dropped in this step" if dropped else ""
                return (f"w = W{cm.sup(l + 1)}[{i}, {j}] = {cm.fmt(w)}  ({names[l]} unit {i} → "
                        f"{names[l + 1]} unit {j}; max |w| of the layer {cm.fmt(self._wmax[l])}){extra}")
        return ""

    def _describe_unit(self, k: int, j: int, name: str, strip: bool = False) -> str:
        where = f"{name} unit {j}"
        if strip:
            where += f" (of {self._sizes[k]})"
        parts = [where]
        if k == 0:
            if j < len(self._input_names):
                parts.append(self._input_names[j])
        else:
            act = self._acts[k - 1] if k < len(self._sizes) - 1 else f"output ({self._output})"
            parts.append(act)
            b = self._biases[k] if self._biases else None
            if b is not None:
                parts.append(f"bias b{cm.sup(k)}[{j}] = {cm.fmt(b[j])}")
        if self._dropped and self._dropped[k] is not None and self._dropped[k][j]:
            parts.append("dropped in this step")
        scale = self._scales[k] if self._scales else None
        m = self._maps[k] if self._maps else None
        if m is not None and scale is not None:
            v = m[j]
            with np.errstate(all="ignore"):
                parts.append(f"map: {cm.fmt(np.nanmin(v), 3)} … {cm.fmt(np.nanmax(v), 3)} "
                             f"(colour scale {cm.fmt(scale[0], 3)} … {cm.fmt(scale[2], 3)})")
        return " · ".join(parts)

    def _hover(self, p: Optional[QtCore.QPointF]) -> None:
        text = self.describe_at(p)
        self.readout.setText(text or " ")

    # ------------------------------------------------------------------ building
    def _build_items(self) -> None:
        scene = self.scene
        # every item goes (deleted by the scene; the Python lists holding them are reset
        # right here, so no wrapper outlives its item)
        self._nodes, self._strips, self._headers, self._names, self._lines = [], [], [], [], []
        self._notes = []
        self._geom = {}  # the old network's layout; _layout() places the new items
        self._placeholder = None
        scene.clear()
        self._placeholder = scene.addSimpleText("No network yet: choose a data set and layers.")
        sizes = self._sizes
        P = len(sizes)
        self._placeholder.setVisible(False)
        for k in range(P):
            if sizes[k] > WIDE_LAYER:
                strip = _Strip(k, sizes[k])
                strip.setZValue(10)
                scene.addItem(strip)
                self._nodes.append(None)
                self._strips.append(strip)
            else:
                nodes = []
                for j in range(sizes[k]):
                    node = _Node(k, j)
                    node.setZValue(10)
                    scene.addItem(node)
                    nodes.append(node)
                self._nodes.append(nodes)
                self._strips.append(None)
            self._headers.append(scene.addSimpleText(""))  # title
            self._headers.append(scene.addSimpleText(""))  # units, dropout
        if sizes[0] <= WIDE_LAYER:
            for j in range(sizes[0]):
                self._names.append(scene.addSimpleText(""))
        self._budget = line_budget(sizes)
        for l in range(P - 1):  # layers whose lines are a selection say so under them
            full = sizes[l] * sizes[l + 1]
            note = scene.addSimpleText(f"{self._budget[l]:,} strongest of {full:,}") if self._budget[l] < full else None
            self._notes.append(note)
        self._offsets = tuple(int(v) for v in np.concatenate([[0], np.cumsum(self._budget)[:-1]]))
        n = int(sum(self._budget))
        assert n <= MAX_LINES
        self._lines = []
        for _ in range(n):
            line = QtWidgets.QGraphicsLineItem()
            line.setVisible(False)
            scene.addItem(line)
            self._lines.append(line)
        self._line_layer = np.zeros(n, np.int32)
        for l, (off, b) in enumerate(zip(self._offsets, self._budget)):
            self._line_layer[off:off + b] = l
        self._line_i = np.zeros(n, np.int32)
        self._line_j = np.zeros(n, np.int32)
        self._line_w = np.zeros(n)
        self._line_on = np.zeros(n, bool)
        self._seg = np.zeros((n, 4))
        self._wmax = [0.0] * (P - 1)
        self._biases = [None] * P
        self._maps = [None] * P
        self._scales = [None] * P
        self._dropped = [None] * P
        self._snapshot = None
        self._set_header_texts()
        self.apply_style(self._style)

    def _set_header_texts(self) -> None:
        sizes = self._sizes
        L = len(sizes) - 1
        for k in range(len(sizes)):
            n = sizes[k]
            if k == 0:
                title = "input"
            elif k == L:
                title = f"output · {self._output}"
            else:
                title = f"hidden {k} · {self._acts[k - 1]}"
            unit = "input" if k == 0 else "unit"
            line2 = f"{n:,} {unit}{'s' if n != 1 else ''}"
            if self._rates is not None and k < len(self._rates) and self._rates[k] > 0:
                line2 += f" · dropout {self._rates[k]:g}"
            self._headers[2 * k].setText(title)
            self._headers[2 * k + 1].setText(line2)
        for j, item in enumerate(self._names):
            name = self._input_names[j] if j < len(self._input_names) else f"x{_sub(j + 1)}"
            item.setText(name if len(name) <= 16 else name[:15] + "…")

    # ------------------------------------------------------------------ layout
    def _layout(self) -> None:
        vp = self.view.viewport().size()
        W, H = float(max(vp.width(), 100)), float(max(vp.height(), 100))
        self.scene.setSceneRect(0, 0, W, H)
        if not self._sizes:
            r = self._placeholder.boundingRect()
            self._placeholder.setPos((W - r.width()) / 2, (H - r.height()) / 2)
            return
        sizes = self._sizes
        P = len(sizes)
        fs = self._style.font_scale
        line_h = max((h.boundingRect().height() for h in self._headers), default=0.0)
        header_h = 2 * line_h
        name_w = max((t.boundingRect().width() for t in self._names), default=0.0)
        top = header_h + 14.0
        note_h = max((n.boundingRect().height() for n in self._notes if n is not None), default=0.0)
        bottom = 12.0 + (note_h + 4.0 if note_h else 0.0)
        left = 16.0 + (name_w + 8.0 if self._names else 0.0)
        right = 16.0
        cs = (W - left - right) / P
        xs = [left + (k + 0.5) * cs for k in range(P)]
        avail = max(40.0, H - top - bottom)
        narrow = [n for n in sizes if n <= WIDE_LAYER] or [1]
        s = min(NODE_MAX * fs, 0.86 * avail / max(narrow), 0.42 * cs)
        s = max(6.0, s)
        # a layer of a few units (the output, 2-D inputs) gets bigger nodes: their maps matter most
        sizes_k = [max(6.0, min(FEW_NODE_MAX * fs, 0.86 * avail / n, 0.42 * cs)) if n <= FEW_UNITS else s
                   for n in sizes]
        g = {"xs": xs, "s": s, "size": sizes_k, "ys": [None] * P, "strip": [None] * P, "sw": max(10.0, 0.5 * s),
             "top": top, "avail": avail}
        for k in range(P):
            n = sizes[k]
            if self._nodes[k] is not None:
                sk = sizes_k[k]
                pitch = min(avail / n, 1.55 * sk)
                ys = top + avail / 2 + (np.arange(n) - (n - 1) / 2) * pitch
                g["ys"][k] = ys
                for j, node in enumerate(self._nodes[k]):
                    node.place(xs[k], float(ys[j]), sk)
            else:
                h = avail * 0.94
                t0 = top + (avail - h) / 2
                g["strip"][k] = (t0, h)
                self._strips[k].place(xs[k], t0, g["sw"], h)
            for row in (0, 1):
                header = self._headers[2 * k + row]
                r = header.boundingRect()
                hx = min(max(2.0, xs[k] - r.width() / 2), W - r.width() - 2)
                header.setPos(hx, 4.0 + row * line_h)
        for l, note in enumerate(self._notes):
            if note is not None:
                r = note.boundingRect()
                note.setPos((xs[l] + xs[l + 1]) / 2 - r.width() / 2, H - bottom + 4.0)
        for j, item in enumerate(self._names):
            r = item.boundingRect()
            item.setPos(xs[0] - sizes_k[0] / 2 - 8 - r.width(), float(g["ys"][0][j]) - r.height() / 2)
        self._geom = g
        self._place_lines()

    def _unit_y(self, k: int, j) -> np.ndarray:
        g = self._geom
        if g["ys"][k] is not None:
            return g["ys"][k][j]
        t0, h = g["strip"][k]
        return t0 + (np.asarray(j) + 0.5) / self._sizes[k] * h

    def _half_width(self, k: int) -> float:
        g = self._geom
        return g["size"][k] / 2 if self._nodes[k] is not None else g["sw"] / 2

    def _place_lines(self) -> None:
        if not self._geom or not self._lines:
            return
        xs = self._geom["xs"]
        for l in range(len(self._sizes) - 1):
            off, b = self._offsets[l], self._budget[l]
            sl = slice(off, off + b)
            x1 = xs[l] + self._half_width(l)
            x2 = xs[l + 1] - self._half_width(l + 1)
            self._seg[sl, 0] = x1
            self._seg[sl, 2] = x2
            self._seg[sl, 1] = self._unit_y(l, self._line_i[sl])
            self._seg[sl, 3] = self._unit_y(l + 1, self._line_j[sl])
        for slot in np.flatnonzero(self._line_on):
            self._lines[slot].setLine(*self._seg[slot])

    # ------------------------------------------------------------------ drawing
    def _apply_connections(self, snap: DiagramSnapshot) -> None:
        for l, conn in enumerate(snap.connections):
            off, b = self._offsets[l], self._budget[l]
            k = min(len(conn), b)
            sl = slice(off, off + k)
            self._line_i[sl] = conn.rows[:k]
            self._line_j[sl] = conn.cols[:k]
            self._line_w[sl] = conn.values[:k]
            self._line_on[off:off + b] = False
            self._line_on[sl] = True
            self._wmax[l] = conn.wmax
            order = np.argsort(np.abs(np.nan_to_num(conn.values[:k], nan=np.inf)), kind="stable")
            for rank, idx in enumerate(order):  # stronger lines above weaker ones
                item = self._lines[off + int(idx)]
                item.setZValue(rank / max(1, k))
                item.setVisible(True)
            for slot in range(off + k, off + b):
                self._lines[slot].setVisible(False)
        self._biases = [None] + [np.asarray(b_) for b_ in snap.biases]
        self._place_lines()
        self._apply_biases()
        self._apply_line_pens()

    def _apply_biases(self) -> None:
        style = self._style
        for k, b in enumerate(self._biases or ()):
            nodes = self._nodes[k] if k < len(self._nodes) else None
            if nodes is not None:
                if b is None:
                    pen = QtGui.QPen(QtGui.QColor(style.colors.foreground), RING_MIN * ring_scale(style))
                    for node in nodes:
                        node.ring.setPen(pen)
                    continue
                bmax = _absmax(b)
                for j, node in enumerate(nodes):
                    width, color = ring_style(float(b[j]), bmax, style)
                    pen = QtGui.QPen(color, width)
                    pen.setJoinStyle(QtCore.Qt.PenJoinStyle.MiterJoin)
                    node.ring.setPen(pen)
                    node.bias = float(b[j])
            elif k < len(self._strips) and self._strips[k] is not None:
                self._paint_strip(k)
        for k, nodes in enumerate(self._nodes):
            if k == 0 and nodes is not None:
                pen = QtGui.QPen(QtGui.QColor(style.colors.foreground), RING_MIN * ring_scale(style))
                for node in nodes:
                    node.ring.setPen(pen)

    def _paint_strip(self, k: int) -> None:
        strip = self._strips[k]
        n = self._sizes[k]
        cells = min(n, STRIP_CELLS)
        strip.n_cells = cells
        edges = np.linspace(0, n, cells + 1).round().astype(np.intp)
        bg = QtGui.QColor(self._style.colors.background)
        b = self._biases[k] if self._biases and k < len(self._biases) else None
        rgba = np.empty((cells, 1, 4), np.uint8)
        rgba[:, 0, :] = (bg.red(), bg.green(), bg.blue(), 255)
        if k == 0 or b is None:
            neutral = st.blend(self._style.colors.foreground, self._style.colors.background, 0.25)
            rgba[:, 0, :3] = (neutral.red(), neutral.green(), neutral.blue())
        else:
            bmax = _absmax(b)
            pos, neg = cm.sign_colors(self._style)
            with np.errstate(all="ignore"):
                mag = np.abs(np.nan_to_num(b, nan=np.inf))
                # each cell: the unit with the largest |b| in it
                idx = np.array([edges[c] + int(np.argmax(mag[edges[c]:edges[c + 1]])) for c in range(cells)])
                v = b[idx]
                t = np.clip(np.nan_to_num(np.abs(v) / bmax if bmax > 0 else np.zeros_like(v), nan=1.0), 0, 1)
            for ch, getter in enumerate((QtGui.QColor.red, QtGui.QColor.green, QtGui.QColor.blue)):
                c_pos, c_neg, c_bg = getter(pos), getter(neg), getter(bg)
                target = np.where(v >= 0, c_pos, c_neg)
                weight = np.where(v == 0, 0.0, 0.15 + 0.85 * t)  # a zero bias: a blank cell
                rgba[:, 0, ch] = np.round(c_bg + (target - c_bg) * weight).astype(np.uint8)
        d = self._dropped[k] if self._dropped and k < len(self._dropped) else None
        if d is not None:
            frac = np.add.reduceat(d.astype(float), edges[:-1]) / np.maximum(1, np.diff(edges))
            grey = np.array([128, 128, 128], float)
            rgba[:, 0, :3] = np.round(rgba[:, 0, :3] * (1 - frac[:, None]) + grey * frac[:, None]).astype(np.uint8)
        strip.cells.setPixmap(QtGui.QPixmap.fromImage(cm.rgba_image(rgba)))
        if self._geom:
            t0, h = self._geom["strip"][k]
            strip.place(self._geom["xs"][k], t0, self._geom["sw"], h)

    def _touches_dropped(self, l: int, i: int, j: int) -> bool:
        d = self._dropped
        if not d:
            return False
        return bool((d[l] is not None and d[l][i]) or (d[l + 1] is not None and d[l + 1][j]))

    def _apply_line_pens(self) -> None:
        """Every drawn line's pen from its weight, its layer's max |w| and dropped units."""
        d = self._dropped
        any_dropped = bool(d) and any(m is not None for m in d)
        style = self._style
        cap = QtCore.Qt.PenCapStyle.FlatCap
        for slot in np.flatnonzero(self._line_on):
            l, i, j = int(self._line_layer[slot]), int(self._line_i[slot]), int(self._line_j[slot])
            faded = any_dropped and self._touches_dropped(l, i, j)
            width, color = line_style(float(self._line_w[slot]), self._wmax[l], style, faded)
            pen = QtGui.QPen(color, width)
            pen.setCapStyle(cap)
            self._lines[slot].setPen(pen)

    def _update_legend(self) -> None:
        style = self._style
        pos, neg = cm.sign_colors(style)
        tp, tn = st.text_color(cm.hexcolor(pos), style.dark).name(), st.text_color(cm.hexcolor(neg), style.dark).name()
        k = ring_scale(style)
        parts = [
            "<b>Lines</b>: weight w = W⁽ˡ⁾[i, j] (unit i of the layer on the left, unit j on the right); "
            f"width {max_line_width(style):g} px × |w| / max|w| of the layer "
            f"(at least {LINE_WIDTH_MIN:g} px), fainter (nearer the background colour) when smaller; "
            f"<span style='color:{tp}'>■ orange: w &gt; 0</span>, "
            f"<span style='color:{tn}'>■ blue: w &lt; 0</span>.",
            f"<b>Ring</b>: bias b, same colours, {RING_MIN * k:g} + {(RING_MAX - RING_MIN) * k:g} px × |b| / max|b| "
            f"of the layer.",
        ]
        if self._maps and any(m is not None for m in self._maps):
            parts.append("<b>Squares</b>: each unit's value over the input plane "
                         "(x₁ across, x₂ up): orange above 0 (sigmoid: 0.5), blue below, pale at it; "
                         "one scale per layer (hover for it). The output shows its logit: &gt; 0 (orange) means "
                         "class 1, as in the boundary view.")
        wide = [k_ for k_, n in enumerate(self._sizes) if n > WIDE_LAYER]
        if wide:
            parts.append(f"<b>Layers over {WIDE_LAYER} units</b> are strips (bias colours) with only the "
                         f"{AGGREGATE_LINES} strongest connections to each neighbour.")
        parts.append("<b>Crossed</b>: dropped in this step.")
        self.legend.setText(" ".join(parts))

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt override
        return QtCore.QSize(800, 600)


def _absmax(v: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        a = np.abs(np.asarray(v, dtype=np.float64))
        a = a[np.isfinite(a)]
    return float(a.max()) if a.size else 0.0


def _segment_distance(x: float, y: float, seg: np.ndarray) -> np.ndarray:
    """Distance from ``(x, y)`` to each segment ``(x1, y1, x2, y2)``."""
    x1, y1, x2, y2 = seg.T
    dx, dy = x2 - x1, y2 - y1
    den = dx * dx + dy * dy
    with np.errstate(all="ignore"):
        t = np.where(den > 0, ((x - x1) * dx + (y - y1) * dy) / den, 0.0)
    t = np.clip(t, 0.0, 1.0)
    px, py = x1 + t * dx, y1 + t * dy
    return np.hypot(px - x, py - y)


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
