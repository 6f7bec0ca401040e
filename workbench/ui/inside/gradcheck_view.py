"""Gradient check, layer by layer: backpropagation against central differences.

The button runs :func:`~workbench.engine.gradcheck.check_gradients_per_layer` on the
network and batch given to :meth:`GradCheckPanel.set_source` -- on a float64 copy made
when the check starts, in a background thread (a 784-256-128-10 net on 32 rows takes a few
tens of ms, a big one longer; the window never waits).  Per layer the table shows the
largest relative error of the sampled weight entries and, separately, of the bias
entries, against :data:`~workbench.engine.gradcheck.GRADCHECK_THRESHOLD`: a green "pass"
or a vermillion "FAIL" (a word as well as a colour).

:attr:`GradCheckPanel.perturb` is a test hook: set it to
:func:`~workbench.engine.gradcheck.plant_error` ``(layer)`` and that layer's analytic
gradient is corrupted before the comparison, so the test sees exactly that layer turn red.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.engine.eval_batch import choose_eval_batch
from workbench.engine.gradcheck import GRADCHECK_THRESHOLD, GradCheckReport, check_gradients_per_layer
from workbench.ui import style as st

from . import _common as cm

GRADCHECK_ROWS = 32
"""Rows of the batch the check uses (a fixed, class-stratified subset of what is given)."""

COLUMNS = ("layer", "weights: max rel. error", "biases: max rel. error", "entries checked", "result")


class _Relay(QtCore.QObject):
    """Carries the background thread's answer to the GUI thread (queued)."""

    done = QtCore.Signal(object, int)
    error = QtCore.Signal(str, int)


class GradCheckPanel(QtWidgets.QWidget):
    """A "Check gradients" button and the per-layer result table (see the module docstring).

    ``finished(GradCheckReport)`` when a check ends, ``failed(str)`` if it raised."""

    finished = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None, style: Optional[st.Style] = None):
        super().__init__(parent)
        self._style = style or st.Style.normal()
        self._base_font = st.base_font()
        self._source: Optional[dict] = None
        self._report: Optional[GradCheckReport] = None
        self._running = 0  # the id of the check in flight (0: none)
        self._next_id = 0
        self._thread: Optional[threading.Thread] = None
        #: test hook: ``perturb(grad_weights, grad_biases)`` for the next checks (e.g. plant_error(2))
        self.perturb: Optional[Callable] = None

        self._relay = _Relay()
        self._relay.done.connect(self._done)
        self._relay.error.connect(self._error)
        self.button = QtWidgets.QPushButton("Check gradients")
        self.button.setObjectName("gradCheckButton")
        self.button.setToolTip("Compare backpropagation with central finite differences on a sample of every "
                               "layer's weights and biases (float64)")
        self.button.clicked.connect(lambda: self.check())
        self.caption = QtWidgets.QLabel("No network yet.")
        self.caption.setObjectName("gradCheckCaption")
        self.caption.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("gradCheckTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.button, 0)
        top.addWidget(self.caption, 1)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(8, 6, 8, 6)
        box.addLayout(top, 0)
        box.addWidget(self.table, 1)
        self.button.setEnabled(False)
        self.apply_style(self._style)

    # ------------------------------------------------------------------ inputs
    def set_source(self, network, X, y, *, l1: float = 0.0, l2: float = 0.0, penalty_mask=None, seed: int = 0,
                   rows: int = GRADCHECK_ROWS) -> None:
        """What to check: ``network`` (not changed; copied to float64 when a check starts --
        pass a network no other thread is training, e.g. the run's weights when it is
        paused or has ended), a batch chosen from ``(X, y)`` (at most ``rows`` rows, see
        :data:`GRADCHECK_ROWS`) and the run's L1/L2 penalties.  Clears the last result."""
        if network is None:
            self._source = None
            self.button.setEnabled(False)
            self.caption.setText("No network yet.")
            self.table.setRowCount(0)
            return
        Xb, yb = choose_eval_batch(X, y, seed, max_rows=rows)
        self._source = dict(network=network, X=Xb, y=yb, l1=float(l1), l2=float(l2), penalty_mask=penalty_mask,
                            seed=int(seed))
        self._report = None
        self.table.setRowCount(0)
        self.button.setEnabled(not self._running)
        self.caption.setText(f"Press the button to check {len(network.layer_sizes) - 1} layers on {len(Xb)} rows.")

    @property
    def report(self) -> Optional[GradCheckReport]:
        return self._report

    @property
    def running(self) -> bool:
        return bool(self._running)

    # ------------------------------------------------------------------ checking
    def check(self, perturb: Optional[Callable] = None) -> bool:
        """Start a check (what the button does); ``perturb`` (default :attr:`perturb`) is
        passed to the engine.  Returns False when there is nothing to check or a check is
        running.  The answer comes as ``finished(report)``."""
        if self._source is None or self._running:
            return False
        src = self._source
        net = src["network"].copy(dtype=np.float64)  # here, in the GUI thread: a consistent copy
        hook = perturb if perturb is not None else self.perturb
        self._next_id += 1
        job = self._running = self._next_id
        self.button.setEnabled(False)
        self.caption.setText("Checking…")
        relay = self._relay

        def work() -> None:
            try:
                report = check_gradients_per_layer(net, src["X"], src["y"], l1=src["l1"], l2=src["l2"],
                                                   penalty_mask=src["penalty_mask"], seed=src["seed"], perturb=hook)
            except Exception as exc:  # reported, never raised in a thread
                try:
                    relay.error.emit(f"{type(exc).__name__}: {exc}", job)
                except RuntimeError:  # the panel is gone
                    pass
                return
            try:
                relay.done.emit(report, job)
            except RuntimeError:
                pass

        self._thread = threading.Thread(target=work, name="gradcheck", daemon=True)
        self._thread.start()
        return True

    def wait(self, timeout: Optional[float] = None) -> None:
        """Join the background thread (tests, closing)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _done(self, report: GradCheckReport, job: int) -> None:
        if job != self._running:
            return
        self._running = 0
        self._report = report
        self.button.setEnabled(self._source is not None)
        self._show(report)
        self.finished.emit(report)

    def _error(self, message: str, job: int) -> None:
        if job != self._running:
            return
        self._running = 0
        self.button.setEnabled(self._source is not None)
        self.caption.setText(f"The check failed: {message}")
        self.failed.emit(message)

    # ------------------------------------------------------------------ drawing
    def _show(self, report: GradCheckReport) -> None:
        t = self.table
        t.setRowCount(len(report.layers))
        for r, layer in enumerate(report.layers):
            cells = (
                f"{layer.name} (W{cm.sup(layer.index)}, b{cm.sup(layer.index)})",
                _err(layer.weight_error, layer.weights_ok),
                _err(layer.bias_error, layer.biases_ok),
                f"{layer.weight_checked} of {layer.weight_total:,} weights, {layer.bias_checked} of "
                f"{layer.bias_total:,} biases" + (f" ({layer.weight_skipped + layer.bias_skipped} skipped at kinks)"
                                                  if layer.weight_skipped + layer.bias_skipped else ""),
                "pass" if layer.passed else "FAIL",
            )
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if c in (1, 2):
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                t.setItem(r, c, item)
        t.resizeColumnsToContents()
        self._colour()
        bad = report.failed_layers
        verdict = ("<b>every layer passes</b>" if not bad else
                   "<b>FAIL in " + ", ".join(report.layers[i - 1].name for i in bad) + "</b>")
        self.caption.setText(
            f"{verdict}: relative error |g_bp − g_fd| / (|g_bp| + |g_fd|) ≤ {report.threshold:g} "
            f"(fourth-order central differences, ε = {report.eps:g}, float64; J̃ = {cm.fmt(report.objective)}; "
            f"{1000 * report.seconds:.0f} ms).")

    def _colour(self) -> None:
        report = self._report
        if report is None:
            return
        ok, fail = cm.pass_fail_colors(self._style)
        for r, layer in enumerate(report.layers):
            states = {1: layer.weights_ok, 2: layer.biases_ok, 4: layer.passed}
            for c, good in states.items():
                item = self.table.item(r, c)
                if item is not None:
                    item.setBackground(QtGui.QBrush(ok if good else fail))

    def result_colors(self) -> list[QtGui.QColor]:
        """Background colour of each layer's "result" cell (tests)."""
        return [self.table.item(r, 4).background().color() for r in range(self.table.rowCount())]

    def apply_style(self, style: st.Style) -> None:
        self._style = style
        for w, factor in ((self.caption, 0.95), (self.table, 0.95), (self.button, 1.0)):
            w.setFont(st.scaled_font(self._base_font, style, factor))
        self._colour()
        if self._report is not None:
            self.table.resizeColumnsToContents()


def _err(v: float, ok: bool) -> str:
    return f"{v:.2e}  {'≤' if ok else '>'} {GRADCHECK_THRESHOLD:g}"
