"""A faster pyqtgraph axis: same look, a fraction of the paint cost.

``pyqtgraph.AxisItem`` records its ticks, grid lines and labels into a ``QPicture``
and replays it on every paint.  Measured on the workbench's curves (offscreen, 2
cores), the replay was the biggest single cost of a live frame: text goes through
font resolution again on every replay, and long semi-transparent grid lines drawn
without a clip rectangle take the raster engine's slow path (~300 us per line
against ~10 us with a clip).  :class:`FastAxisItem` keeps the draw *specs* pyqtgraph
computes instead of a picture (regenerated exactly when pyqtgraph would have
regenerated the picture: it sets ``self.picture = None`` on every change) and
draws them directly, clipped to the item's bounding rectangle (the axis plus, with
a grid, the plot area -- so nothing drawn changes).

It also keeps its pixels: the item uses ``DeviceCoordinateCache``, so a frame in
which the axis did not change (the live curves keep their ranges for many frames,
see ``CurvesPanel.set_live``) blits a pixmap instead of calling back into Python.
pyqtgraph calls ``update()`` on every change, which drops the cached pixels.
Exports to other devices (SVG) switch the cache off meanwhile (:func:`uncached`).
"""

from __future__ import annotations

import math

from contextlib import contextmanager

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

_CACHE = QtWidgets.QGraphicsItem.CacheMode


class FastAxisItem(pg.AxisItem):
    """``pg.AxisItem`` without the ``QPicture`` round trip (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setCacheMode(_CACHE.DeviceCoordinateCache)

    def _updateLabel(self):  # noqa: N802 - pyqtgraph override
        """pyqtgraph's, without setting the label's HTML and re-sizing the axis when
        neither its text nor its font changed: pyqtgraph calls this on every range change
        (for the SI prefix), where those two took ~60 us of each live frame's refit."""
        key = (self.labelString(), self.label.font().key())
        if key != getattr(self, "_label_key", None):
            self._label_key = key
            self.label.setHtml(key[0])
            self._adjustSize()
        self.picture = None
        self.update()

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802,N803 - pyqtgraph override
        """Log-axis ticks on the 1-2-5 series: decades, and 2x / 5x between them when the
        view spans fewer than three decades.  (pyqtgraph labels every mantissa 1..9 there,
        which printed "0.009 0.008 ... 0.002" on top of each other.)"""
        lo, hi = sorted((float(minVal), float(maxVal)))
        if hi - lo > 6:  # many decades: pyqtgraph's decade spacing (every 2nd, 5th ...)
            major = [(s, t) for s, t in stdTicks if s is not None and s >= 1.0]
            if major:
                return major
        decades = [float(k) for k in range(math.ceil(lo), math.floor(hi) + 1)]
        if len(decades) >= 3:
            return [(1.0, decades)]
        between = [k + math.log10(m) for k in range(math.floor(lo), math.ceil(hi)) for m in (2, 5)]
        return [(1.0, decades), (None, [v for v in between if lo < v < hi])]

    def paint(self, p, opt, widget):  # noqa: D102 - QGraphicsItem override
        specs = self.picture
        if specs is None:
            p.save()
            try:
                if self.style["tickFont"]:
                    p.setFont(self.style["tickFont"])
                specs = self.generateDrawSpecs(p) or ()
            finally:
                p.restore()
            self.picture = specs  # not None: valid until pyqtgraph resets it
        if not specs:
            return
        p.save()
        try:
            # (a clip, slightly larger than the item so the axis line on its edge survives,
            # keeps long translucent grid lines on the raster engine's fast path)
            p.setClipRect(self.boundingRect().adjusted(-2, -2, 2, 2), QtCore.Qt.ClipOperation.IntersectClip)
            self.drawPicture(p, *specs)
        finally:
            p.restore()


class EpochAxisItem(FastAxisItem):
    """An epoch axis: whole epochs only (a 3-epoch run was labelled 1.0, 1.5, 2.0 ...)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802,N803 - pyqtgraph override
        levels = [(s, v) for s, v in super().tickValues(minVal, maxVal, size) if s is not None and s >= 1.0]
        if levels:
            return levels
        lo, hi = sorted((minVal, maxVal))
        return [(1.0, [float(e) for e in range(math.ceil(lo), math.floor(hi) + 1)])]


def epoch_axes() -> dict[str, FastAxisItem]:
    """:func:`fast_axes` whose bottom axis counts whole epochs."""
    return {"left": FastAxisItem(orientation="left"), "bottom": EpochAxisItem(orientation="bottom")}


def fast_axes(*names: str) -> dict[str, FastAxisItem]:
    """``axisItems`` for ``PlotItem``/``addPlot``: a :class:`FastAxisItem` for each named
    side (default left and bottom).  ``PlotItem`` shows every axis it is given, so the
    hidden top and right axes are left to pyqtgraph."""
    return {name: FastAxisItem(orientation=name) for name in (names or ("left", "bottom"))}


@contextmanager
def uncached(scene):
    """Draw every :class:`FastAxisItem` of ``scene`` directly (no pixmap cache) inside
    the ``with`` block: exports render vectors, not cached pixels."""
    axes = [item for item in scene.items() if isinstance(item, FastAxisItem)]
    for item in axes:
        item.setCacheMode(_CACHE.NoCache)
    try:
        yield
    finally:
        for item in axes:
            item.setCacheMode(_CACHE.DeviceCoordinateCache)
