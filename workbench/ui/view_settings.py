"""How the window looks, remembered between sessions: the theme, the log scales, the batch
losses, the window's size and dock layout, and presentation mode.

:class:`ViewSettings` is one small object saved to and read from ``QSettings`` (values,
never widget indices; a version key for future migrations, as Orange's settings do).
:func:`fit_to_screen` keeps the window on the screen it opens on: a size remembered from
a larger monitor, or the default size on a 1280×720 laptop, is shrunk to fit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional

from PySide6.QtCore import QByteArray, QRect, QSettings, QSize
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QApplication, QMainWindow

#: version of the saved view settings (bump with a migration when their meaning changes)
VIEW_SETTINGS_VERSION = 1
#: version of the dock layout (QMainWindow.saveState)
STATE_VERSION = 3
#: the window's size on a screen that has room for it
DEFAULT_SIZE = QSize(1600, 1000)
#: share of the available screen the window may take at most when it opens
SCREEN_SHARE = 0.96
THEMES = ("system", "light", "dark")

# the QSettings keys (those of earlier versions: files from them keep working)
_KEYS = {"theme": "theme", "log_loss": "view/logScale", "log_lr": "view/logLr", "show_batches": "view/showBatches"}


def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes", "on")
    return bool(value)


CURVES_MIN_HEIGHT = 380
"""Pixels the curves and the boundary view keep whatever the bottom panels take (at 300
a 1280x720 window with the Runs dock open drew plots 30-50 px tall under a three-row
legend); with presentation mode's menus and read-out a 1280x720 window still fits a
bottom panel (~220 px)."""


@dataclass
class ViewSettings:
    """What the user chose for the view: ``theme`` (system, light, dark), log-scale loss
    and η axes, and the faint per-batch losses."""

    theme: str = "system"
    log_loss: bool = False
    log_lr: bool = False
    show_batches: bool = False

    @classmethod
    def load(cls, settings: QSettings) -> "ViewSettings":
        out = cls()
        for f in fields(cls):
            value = settings.value(_KEYS[f.name], getattr(out, f.name))
            setattr(out, f.name, _as_bool(value) if isinstance(getattr(out, f.name), bool) else str(value or ""))
        if out.theme not in THEMES:
            out.theme = "system"
        return out

    def save(self, settings: QSettings) -> None:
        settings.setValue("view/version", VIEW_SETTINGS_VERSION)
        for f in fields(self):
            settings.setValue(_KEYS[f.name], getattr(self, f.name))


def available_geometry(window: QMainWindow) -> QRect:
    """The usable part of the screen the window is on (its primary screen before it is shown)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, DEFAULT_SIZE.width(), DEFAULT_SIZE.height())


def fit_to_screen(window: QMainWindow, size: Optional[QSize] = None) -> None:
    """Resize ``window`` to ``size`` (default: its current size) but no larger than
    :data:`SCREEN_SHARE` of the available screen, and move it onto that screen."""
    area = available_geometry(window)
    want = size if size is not None else window.size()
    width = min(want.width(), int(area.width() * SCREEN_SHARE))
    height = min(want.height(), int(area.height() * SCREEN_SHARE))
    window.resize(max(width, window.minimumSizeHint().width() // 2), height)
    frame = window.frameGeometry()
    x = min(max(frame.x(), area.x()), area.right() - window.width())
    y = min(max(frame.y(), area.y()), area.bottom() - window.height())
    if (x, y) != (frame.x(), frame.y()):
        window.move(max(x, area.x()), max(y, area.y()))


def restore_geometry(window: QMainWindow, settings: QSettings) -> Optional[QByteArray]:
    """The saved window geometry (fitted to today's screen) and the saved dock layout,
    which is restored when the window is first shown (returned)."""
    geometry = settings.value("window/geometry")
    if isinstance(geometry, (QByteArray, bytes)) and geometry:
        window.restoreGeometry(QByteArray(geometry))
        fit_to_screen(window)
    else:
        fit_to_screen(window, DEFAULT_SIZE)
    state = settings.value("window/state")
    return QByteArray(state) if isinstance(state, (QByteArray, bytes)) and state else None


class Presentation:
    """Presentation mode's saved state: the application font, the dock layout and the
    window's size before it was switched on, restored exactly when it goes off (a larger
    font's minimum sizes could otherwise leave the window larger or smaller)."""

    def __init__(self) -> None:
        self.on = False
        self.font: Optional[QFont] = None
        self.state: Optional[QByteArray] = None
        self.geometry: Optional[QByteArray] = None
        self.size: Optional[QSize] = None

    def enter(self, window: QMainWindow, scale: float) -> None:
        app = QApplication.instance()
        self.font = QFont(app.font())
        self.state = window.saveState(STATE_VERSION)
        self.geometry = window.saveGeometry()
        self.size = window.size()
        font = QFont(self.font)
        size = self.font.pointSizeF() if self.font.pointSizeF() > 0 else 9.0
        font.setPointSizeF(size * scale)
        self.on = True
        app.setFont(font)

    def leave(self, window: QMainWindow) -> None:
        self.on = False
        if self.font is not None:
            QApplication.instance().setFont(self.font)
        if self.state is not None:
            window.restoreState(self.state, STATE_VERSION)
        if self.size is not None and not window.isMaximized() and not window.isFullScreen():
            window.resize(self.size)
