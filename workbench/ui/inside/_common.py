"""Colours and small helpers shared by the "look inside" widgets.

Signs: positive = Okabe-Ito orange, negative = Okabe-Ito blue -- the boundary view's
class colours (class 1, where the output's logit is > 0, is orange there; class 0 blue),
so a student sees one colour for one class -- on the dark theme lightened to
:data:`SIGN_CONTRAST` against the background.  Pass / fail: green / vermillion, always with a word as well.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PySide6 import QtGui

from workbench.ui import style as st

#: The colours of a positive and a negative value (the classes 1 and 0 of the boundary view).
POSITIVE, NEGATIVE = st.CLASS_COLORS[1], st.CLASS_COLORS[0]
#: Least contrast of the sign colours against the dark theme's background (lines, rings).
SIGN_CONTRAST = 3.0

#: The neutral middle of the diverging map scale, per theme.
MAP_CENTRE = {False: "#F7F7F7", True: "#303030"}

#: Shades of the diverging lookup table.
LUT_SIZE = 256


def sign_colors(style: st.Style) -> tuple[QtGui.QColor, QtGui.QColor]:
    """``(positive, negative)``: orange and blue, legible on the theme's background."""
    if not style.dark:
        return QtGui.QColor(POSITIVE), QtGui.QColor(NEGATIVE)
    bg = style.colors.background
    return st.legible_on(POSITIVE, bg, SIGN_CONTRAST), st.legible_on(NEGATIVE, bg, SIGN_CONTRAST)


def pass_fail_colors(style: st.Style) -> tuple[QtGui.QColor, QtGui.QColor]:
    """``(pass, fail)`` cell backgrounds: a pale green and a pale vermillion (light
    theme), or darkened ones (dark theme), so the cell's text stays readable."""
    bg = style.colors.background
    t = 0.35 if style.dark else 0.30
    return st.blend(st.GREEN, bg, t), st.blend(st.VERMILLION, bg, t)


@lru_cache(maxsize=8)
def diverging_lut(dark: bool) -> np.ndarray:
    """``(LUT_SIZE, 4)`` uint8 RGBA: blue (index 0, most negative) through the theme's
    neutral :data:`MAP_CENTRE` (the middle) to orange (last, most positive)."""
    style = st.Style.normal(dark=dark)
    pos, neg = sign_colors(style)
    mid = QtGui.QColor(MAP_CENTRE[dark])
    t = np.linspace(-1.0, 1.0, LUT_SIZE)
    lut = np.empty((LUT_SIZE, 4), np.uint8)
    for ch, getter in enumerate((QtGui.QColor.red, QtGui.QColor.green, QtGui.QColor.blue)):
        m, p, n = getter(mid), getter(pos), getter(neg)
        lut[:, ch] = np.round(np.where(t >= 0, m + (p - m) * t, m + (n - m) * (-t))).astype(np.uint8)
    lut[:, 3] = 255
    lut.flags.writeable = False
    return lut


def rgba_image(rgba: np.ndarray) -> QtGui.QImage:
    """A QImage (a deep copy) of an ``(h, w, 4)`` uint8 RGBA array, row 0 at the top."""
    a = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = a.shape[:2]
    img = QtGui.QImage(a.data, w, h, 4 * w, QtGui.QImage.Format.Format_RGBA8888)
    return img.copy()


def hexcolor(c: QtGui.QColor) -> str:
    return c.name(QtGui.QColor.NameFormat.HexRgb)


def fmt(v, digits: int = 4) -> str:
    """A number for a read-out: ``g`` format, NaN and infinities spelt out."""
    if v is None:
        return "–"
    v = float(v)
    if np.isnan(v):
        return "NaN"
    if np.isinf(v):
        return "∞" if v > 0 else "−∞"
    s = f"{v:.{digits}g}"
    return s.replace("-", "−")


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def sup(n: int) -> str:
    """``(n)`` as a superscript, e.g. ``W`` + ``sup(2)`` = W⁽²⁾ (the notes' layer index)."""
    return "⁽" + str(n).translate(_SUP) + "⁾"
