"""The style the tool windows share (the optimizer playground, the learning-rate range
test): their plots' axes, and following the application's theme while they are open."""

from __future__ import annotations

from typing import Optional

import pyqtgraph as pg
from PySide6 import QtGui
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QApplication

from workbench.ui import style as st


def unscaled_base_font(style: Optional[st.Style]) -> QtGui.QFont:
    """The application's base font without ``style``'s presentation scale (the plots
    scale it by the style's factor again)."""
    base = st.base_font()
    if style is not None and style.font_scale != 1.0:
        base.setPointSizeF(st.point_size(base) / style.font_scale)
    return base


def style_axes(item: pg.PlotItem, style: st.Style, base_font: QtGui.QFont, *, bottom: str, left: str,
               widest_tick: str) -> QtGui.QFont:
    """Background-independent axis look of ``item`` for ``style``: tick fonts (``base_font``
    scaled by the presentation scale), axis and text pens, the ``bottom``/``left`` labels, and
    a left axis wide enough for ``widest_tick``.  Returns the tick font."""
    colors = style.colors
    font = st.scaled_font(base_font, style)
    for name in ("left", "bottom"):
        ax = item.getAxis(name)
        ax.setStyle(tickFont=font, tickTextOffset=max(3, int(3 * style.font_scale)))
        ax.setPen(pg.mkPen(colors.foreground, width=style.px(1)))
        ax.setTextPen(pg.mkPen(colors.text))
    label = {"font-size": f"{st.point_size(base_font) * style.font_scale:.1f}pt", "color": colors.text}
    item.setLabel("bottom", bottom, **label)
    item.setLabel("left", left, **label)
    fm = QtGui.QFontMetricsF(font)
    item.getAxis("left").setWidth(int(fm.horizontalAdvance(widest_tick) + fm.height() * 1.4 + 6))
    return font


def palette_is_dark() -> bool:
    """Whether the application's palette has a dark window colour."""
    return QApplication.palette().window().color().lightness() < 128


class FollowsApplicationStyle:
    """Mixin (first base) of a tool window that has ``_style`` and ``apply_style(style)``:
    after a palette or font change of the application it takes its parent's style (the
    workbench's theme and presentation mode: ``parent.current_style()``), or for a window
    without one its own style made dark or light by the palette's lightness."""

    _follow_pending = False

    def _parent_style(self) -> Optional[st.Style]:
        getter = getattr(self.parentWidget(), "current_style", None)
        return getter() if callable(getter) else None

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange) and not self._follow_pending:
            self._follow_pending = True
            QTimer.singleShot(0, self._follow_application)
        super().changeEvent(event)

    def _follow_application(self) -> None:
        self._follow_pending = False
        style = self._parent_style()
        if style is None:
            style = self._style.with_dark(palette_is_dark())
        if style != self._style:
            self.apply_style(style)
