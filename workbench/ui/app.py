"""Start the GUI: ``run_gui(path)`` creates the QApplication, applies the saved theme,
opens the main window (with ``path`` if given) and runs the event loop."""

from __future__ import annotations

import os
import sys
from typing import Optional, Sequence

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def create_application(argv: Optional[Sequence[str]] = None):
    """The QApplication (created once) with organisation/application names set, so
    ``QSettings()`` finds the workbench's settings."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from .dialogs import APP_NAME, ORG_NAME

    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationDisplayName(APP_NAME)
    return app


def open_window(path: Optional[str] = None, settings=None):
    """Create and show the main window; open ``path`` if given (an invalid file shows
    its error dialog and the default experiment stays)."""
    from .main_window import MainWindow

    window = MainWindow(settings=settings)
    window.show()
    if path:
        window.open_path(path, ask=False)
    return window


def run_gui(path: Optional[str] = None) -> int:
    """Open the workbench (with ``path`` if given); returns the exit code.

    Ctrl+C in the terminal closes the window like the close button (a running
    training is stopped, unsaved changes are asked about)."""
    import signal

    from PySide6.QtCore import QTimer

    from .frame_pacer import FULL_GC_EVERY, GcGuard
    from .lr_range import live_threads
    from .run_controller import wait_for_stragglers

    app = create_application()
    # cyclic garbage (Qt objects among it) is collected in this thread only, never in a
    # sweep's, a loader's or Dask's thread (see GcGuard)
    gc_guard = GcGuard(app, full_every=FULL_GC_EVERY)
    gc_guard.set_running(True)
    window = open_window(path)
    window.raise_()

    close = window.close

    def interrupt(*_args):
        QTimer.singleShot(0, close)

    previous = signal.signal(signal.SIGINT, interrupt)
    # the interpreter handles signals only when Python code runs: wake it regularly
    tick = QTimer()
    tick.timeout.connect(lambda: None)
    tick.start(250)
    try:
        code = app.exec()
    finally:
        tick.stop()
        gc_guard.set_running(False)
        signal.signal(signal.SIGINT, previous)
        wait_for_stragglers()  # a run still finishing its batch is joined, never destroyed running
        for thread in live_threads():  # a learning-rate range test stopping at its next step
            thread.wait()
    return int(code)
