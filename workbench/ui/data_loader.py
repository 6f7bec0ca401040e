"""Loading a data set without freezing the window.

:func:`load_with_progress` reads, parses, splits and scales a data set in a worker thread
while the window keeps painting; when it takes longer than :data:`NOTICE_MS` a modal
progress dialog shows how far it is (the CSV parser reports its progress) and lets the
user cancel.  Parsed CSV files are cached by content (:mod:`workbench.data.csv_import`), so
changing the split of a large file only re-splits it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from workbench.data import DataError, load_dataset

#: a load that takes longer than this shows its progress (and Cancel)
NOTICE_MS = 300
#: how often the dialog polls the loader's progress
POLL_MS = 50


class Cancelled(DataError):
    """The user cancelled loading."""


class _Relay(QObject):
    done = Signal()


def load_with_progress(parent: QWidget, data_spec, base_dir: Path):
    """The loaded data set of ``data_spec``; raises what ``load_dataset`` raises, or
    :class:`Cancelled`.  The window stays responsive (its events run) while it loads."""
    state = {"fraction": 0.0, "message": "Loading data…", "result": None, "error": None}
    cancel = threading.Event()
    relay = _Relay()

    def progress(fraction: float, message: str) -> None:  # called in the loader thread
        if cancel.is_set():
            raise Cancelled("data: loading was cancelled")
        state["fraction"], state["message"] = float(fraction), message or state["message"]

    def work() -> None:
        try:
            state["result"] = load_dataset(data_spec, base_dir, progress=progress)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread
            state["error"] = exc
        relay.done.emit()

    loop = QEventLoop()
    relay.done.connect(loop.quit, Qt.ConnectionType.QueuedConnection)
    thread = threading.Thread(target=work, name="dataLoader", daemon=True)
    thread.start()
    thread.join(NOTICE_MS / 1000.0)  # most loads are done by now: no dialog, no event loop
    if thread.is_alive():
        dialog = QProgressDialog("Loading data…", "Cancel", 0, 1000, parent)
        dialog.setObjectName("dataProgress")
        dialog.setWindowTitle("Loading data")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.canceled.connect(cancel.set)
        timer = QTimer(dialog)
        timer.setInterval(POLL_MS)
        timer.timeout.connect(lambda: (dialog.setValue(int(1000 * state["fraction"])),
                                       dialog.setLabelText(state["message"])))
        timer.start()
        dialog.show()
        if thread.is_alive():
            loop.exec()
        timer.stop()
        dialog.close()
        dialog.deleteLater()
    thread.join()
    if state["error"] is not None:
        raise state["error"]
    return state["result"]
