"""Colours, themes and the presentation-mode scale shared by every plot and panel.

Palette: Okabe & Ito's colour-blind-safe set (2008).  Roles are fixed so the same
thing has the same colour everywhere: training = blue, validation = orange,
learning rate = green, event markers = purple, early stopping / divergence =
vermillion.

Themes: :func:`apply_theme` sets the application's ``QPalette`` (Fusion style)
and pyqtgraph's default background/foreground; widgets that already exist pick
the theme up through ``apply_style(style)`` with ``style.dark`` set.

Presentation mode: :meth:`Style.presentation` scales fonts by 1.6 and thickens
pens so a projected screen stays readable; :meth:`Style.normal` restores them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import Qt

# --- Okabe-Ito -------------------------------------------------------------
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
SKY = "#56B4E9"
YELLOW = "#F0E442"
BLACK = "#000000"

OKABE_ITO = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK)

#: Colour of each role on the plots.
ROLE_COLORS = {
    "train": BLUE,
    "val": ORANGE,
    "lr": GREEN,
    "marker": PURPLE,
    "early_stop": VERMILLION,
    "diverged": VERMILLION,
    "followup": PURPLE,
}

#: Class colours for classification plots (index = class).  Black is left out
#: (it vanishes on dark backgrounds); the last slots reuse darker variants.
CLASS_COLORS = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, "#7F7F7F", "#004D7A", "#8C5A00")

Theme = Literal["system", "light", "dark"]


@dataclass(frozen=True)
class ThemeColors:
    """Concrete colours of one theme for plot backgrounds, axes and text."""

    background: str
    foreground: str
    text: str
    grid_alpha: float
    legend_fill: tuple  # (r, g, b, a)
    message_fill: tuple  # (r, g, b, a)
    region_alpha: int  # alpha of shaded windows (early-stopping patience)


LIGHT = ThemeColors("#FFFFFF", "#404040", "#202020", 0.15, (255, 255, 255, 215), (255, 244, 236, 240), 34)
DARK = ThemeColors("#1E1E1E", "#C8C8C8", "#E8E8E8", 0.20, (40, 40, 40, 215), (58, 36, 24, 240), 30)


def theme_colors(dark: bool) -> ThemeColors:
    return DARK if dark else LIGHT


@dataclass(frozen=True)
class Style:
    """How big and how heavy things are drawn.

    ``font_scale`` multiplies every font's base point size, ``pen_width`` is the
    width (logical px) of data curves, ``marker_size`` the scatter symbol size (px),
    ``dark`` selects the dark plot colours, ``pixel_ratio`` is the screen's device
    pixel ratio (2 on a typical HiDPI screen).
    """

    font_scale: float = 1.0
    pen_width: float = 2.0
    marker_size: float = 7.0
    dark: bool = False
    pixel_ratio: float = 1.0

    @classmethod
    def normal(cls, dark: bool = False, pixel_ratio: float = 1.0) -> "Style":
        return cls(font_scale=1.0, pen_width=2.0, marker_size=7.0, dark=dark, pixel_ratio=pixel_ratio)

    @classmethod
    def presentation(cls, dark: bool = False, pixel_ratio: float = 1.0) -> "Style":
        return cls(font_scale=1.6, pen_width=3.5, marker_size=11.0, dark=dark, pixel_ratio=pixel_ratio)

    def px(self, width: float) -> float:
        """A line width in device pixels for ``width`` logical pixels.  pyqtgraph's pens
        are cosmetic: their width is in device pixels, so without this a 2 px curve
        is drawn 1 logical px thin on a HiDPI screen while the text doubles."""
        return float(width) * max(1.0, float(self.pixel_ratio))

    def with_dark(self, dark: bool) -> "Style":
        return replace(self, dark=dark)

    @property
    def colors(self) -> ThemeColors:
        return theme_colors(self.dark)

    def line_color(self, role: str) -> QtGui.QColor:
        """The colour of a plot role (``ROLE_COLORS``).  On the dark theme it is
        lightened until it has :data:`DARK_LINE_CONTRAST` against the background (the
        Okabe-Ito blue is dim on dark grey); the light theme keeps the palette's hues."""
        color = ROLE_COLORS[role]
        if not self.dark:
            return QtGui.QColor(color)
        return legible_on(color, self.colors.background, DARK_LINE_CONTRAST)


def resolve_theme(theme: Theme) -> Literal["light", "dark"]:
    """``"system"`` follows ``QStyleHints.colorScheme()`` (light when unknown)."""
    if theme == "light" or theme == "dark":
        return theme
    if theme != "system":
        raise ValueError(f"theme: must be one of 'system', 'light', 'dark', got {theme!r}")
    app = QtGui.QGuiApplication.instance()
    if app is not None and app.styleHints().colorScheme() == Qt.ColorScheme.Dark:
        return "dark"
    return "light"


def make_palette(dark: bool) -> QtGui.QPalette:
    """A complete Fusion palette for the light or dark theme."""
    pal = QtGui.QPalette()
    C = QtGui.QColor
    R = QtGui.QPalette.ColorRole
    G = QtGui.QPalette.ColorGroup
    if dark:
        window, base, alt, text, button = C("#2B2B2B"), C("#1E1E1E"), C("#323232"), C("#E8E8E8"), C("#353535")
        highlight, link, disabled = C(BLUE), C(SKY), C("#7A7A7A")
        tooltip_base, tooltip_text = C("#3A3A3A"), C("#E8E8E8")
        placeholder = C("#8A8A8A")
    else:
        window, base, alt, text, button = C("#F2F2F2"), C("#FFFFFF"), C("#F5F5F5"), C("#1A1A1A"), C("#E8E8E8")
        highlight, link, disabled = C(BLUE), C(BLUE), C("#9A9A9A")
        tooltip_base, tooltip_text = C("#FFFFE6"), C("#1A1A1A")
        placeholder = C("#808080")
    pal.setColor(R.Window, window)
    pal.setColor(R.WindowText, text)
    pal.setColor(R.Base, base)
    pal.setColor(R.AlternateBase, alt)
    pal.setColor(R.ToolTipBase, tooltip_base)
    pal.setColor(R.ToolTipText, tooltip_text)
    pal.setColor(R.PlaceholderText, placeholder)
    pal.setColor(R.Text, text)
    pal.setColor(R.Button, button)
    pal.setColor(R.ButtonText, text)
    pal.setColor(R.BrightText, C("#FF5555"))
    pal.setColor(R.Highlight, highlight)
    pal.setColor(R.HighlightedText, C("#FFFFFF"))
    pal.setColor(R.Link, link)
    for role in (R.WindowText, R.Text, R.ButtonText):
        pal.setColor(G.Disabled, role, disabled)
    pal.setColor(G.Disabled, R.Highlight, C("#606060") if dark else C("#B0B0B0"))
    return pal


def apply_theme(app: QtWidgets.QApplication, theme: Theme = "system") -> Literal["light", "dark"]:
    """Set the Fusion style, a light or dark ``QPalette`` and pyqtgraph's default
    background/foreground.  Returns the resolved theme (``"light"`` or ``"dark"``).

    Plots created before the call update when given ``apply_style(style)`` with
    ``style.dark`` equal to ``apply_theme(...) == "dark"``.
    """
    import pyqtgraph as pg  # noqa: PLC0415 (keep style importable before pyqtgraph is configured)

    resolved = resolve_theme(theme)
    dark = resolved == "dark"
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(make_palette(dark))
    colors = theme_colors(dark)
    pg.setConfigOptions(background=colors.background, foreground=colors.foreground)
    return resolved


#: The point size assumed for a font given in pixels (pointSizeF() is then -1).
FALLBACK_POINT_SIZE = 9.0


def point_size(font: QtGui.QFont) -> float:
    """``font``'s point size, or :data:`FALLBACK_POINT_SIZE` for a pixel-sized font."""
    return font.pointSizeF() if font.pointSizeF() > 0 else FALLBACK_POINT_SIZE


def base_font() -> QtGui.QFont:
    """A copy of the application font with a point size (the base that presentation
    mode and the plots scale; taken at creation so that scaling back is exact)."""
    font = QtGui.QFont(QtWidgets.QApplication.font())
    font.setPointSizeF(point_size(font))
    return font


def scaled_font(base: QtGui.QFont, style: Style, factor: float = 1.0) -> QtGui.QFont:
    """A copy of ``base`` scaled by ``style.font_scale * factor`` (point size)."""
    font = QtGui.QFont(base)
    font.setPointSizeF(point_size(base) * style.font_scale * factor)
    return font


#: Least contrast ratio (WCAG) of a curve against the dark theme's background.
DARK_LINE_CONTRAST = 4.5
#: Least contrast ratio of coloured text (WCAG AA for normal text) on either theme.
TEXT_CONTRAST = 4.5


def relative_luminance(color) -> float:
    """WCAG 2 relative luminance of an sRGB colour: 0.2126 R + 0.7152 G + 0.0722 B of
    the linearised channels."""
    c = QtGui.QColor(color)

    def lin(v: int) -> float:
        x = v / 255.0
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c.red()) + 0.7152 * lin(c.green()) + 0.0722 * lin(c.blue())


def contrast_ratio(a, b) -> float:
    """WCAG contrast ratio (L_light + 0.05) / (L_dark + 0.05), from 1 to 21."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def legible_on(color: str, background: str, ratio: float) -> QtGui.QColor:
    """``color`` blended towards white (dark background) or black (light) in 5 % steps
    until its contrast against ``background`` reaches ``ratio``.  (Remembered: live
    frames ask for the same few colours on every epoch.)"""
    rgba = _legible_rgba(QtGui.QColor(color).rgba(), QtGui.QColor(background).rgba(), float(ratio))
    return QtGui.QColor.fromRgba(rgba)


@lru_cache(maxsize=1024)
def _legible_rgba(color: int, background: int, ratio: float) -> int:
    color, background = QtGui.QColor.fromRgba(color), QtGui.QColor.fromRgba(background)
    towards = "#FFFFFF" if relative_luminance(background) < 0.18 else "#000000"
    for step in range(21):
        c = blend(color, towards, 1.0 - 0.05 * step)
        if contrast_ratio(c, background) >= ratio:
            return c.rgba()
    return QtGui.QColor(towards).rgba()


def text_color(color: str, dark: bool) -> QtGui.QColor:
    """``color`` as used for text: blended towards white (dark theme) or black (light)
    until it reads at :data:`TEXT_CONTRAST` on the theme's background (WCAG AA for text:
    the Okabe-Ito orange is 2.2:1 on white); the hue stays recognisable."""
    return legible_on(color, theme_colors(dark).background, TEXT_CONTRAST)


def with_alpha(color, alpha: int) -> QtGui.QColor:
    """``color`` with ``alpha`` (0..255)."""
    c = QtGui.QColor(*color) if isinstance(color, tuple) else QtGui.QColor(color)
    c.setAlpha(int(alpha))
    return c


def blend(color: str, background: str, t: float) -> QtGui.QColor:
    """Mix ``t`` of ``color`` with ``1 - t`` of ``background`` (opaque)."""
    a, b = QtGui.QColor(color), QtGui.QColor(background)
    return QtGui.QColor(
        round(a.red() * t + b.red() * (1 - t)),
        round(a.green() * t + b.green() * (1 - t)),
        round(a.blue() * t + b.blue() * (1 - t)),
    )


#: Colours of runs compared on one plot (index = a run's colour, :mod:`workbench.runs`):
#: Okabe & Ito's set without black (it vanishes on dark backgrounds), grey last.
RUN_COLORS = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, YELLOW, "#7F7F7F")
#: the contrast a run's colour keeps against the plot background (yellow on white is darkened)
RUN_LINE_CONTRAST = 2.2


def run_color(index: int, dark: bool) -> QtGui.QColor:
    """The colour of run colour ``index`` on the light or dark plot background."""
    return legible_on(RUN_COLORS[int(index) % len(RUN_COLORS)], theme_colors(dark).background, RUN_LINE_CONTRAST)
