"""The "look inside" tabs: network, layer health, initialisation, errors, gradient check.

:class:`InsidePanel` only holds the five widgets and forwards the style; the window feeds
each widget directly (see the package docstring for what comes from where).
:meth:`InsidePanel.show_network` is the convenience for a network no thread is training
(before a run, after it, a reopened file).
"""

from __future__ import annotations

from typing import Optional, Sequence

from PySide6 import QtWidgets

from workbench.ui import style as st

from .diagram import NetworkDiagram
from .errors_view import ErrorsPanel
from .gradcheck_view import GradCheckPanel
from .health import LayerHealthPanel
from .init_view import InitComparison
from .maps import MapGrid, diagram_snapshot

#: Output unit of each task, as the diagram's header names it.
OUTPUT_NAMES = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}


class InsidePanel(QtWidgets.QTabWidget):
    """Tabs "Network", "Layer health", "Initialisation", "Errors", "Gradient check"."""

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None, style: Optional[st.Style] = None):
        super().__init__(parent)
        self.setObjectName("insidePanel")
        self._style = style or st.Style.normal()
        self.diagram = NetworkDiagram(style=self._style)
        self.health = LayerHealthPanel(style=self._style)
        self.init = InitComparison(style=self._style)
        self.errors = ErrorsPanel(style=self._style)
        self.gradcheck = GradCheckPanel(style=self._style)
        for widget, title, name, tip in (
            (self.diagram, "Network", "insideNetwork", "Units, weights, biases and (2-D inputs) each unit's output"),
            (self.health, "Layer health", "insideHealth", "Gradient norms, update ratios, saturated and dead units"),
            (self.init, "Initialisation", "insideInit", "Spread of each layer's outputs at epoch 0 per initialiser"),
            (self.errors, "Errors", "insideErrors", "Confusion matrix or residuals on a held-out split"),
            (self.gradcheck, "Gradient check", "insideGradcheck", "Backpropagation against finite differences"),
        ):
            widget.setObjectName(name)
            i = self.addTab(widget, title)
            self.setTabToolTip(i, tip)

    def widgets(self) -> tuple:
        return self.diagram, self.health, self.init, self.errors, self.gradcheck

    def apply_style(self, style: st.Style) -> None:
        self._style = style
        self.setFont(st.scaled_font(st.base_font(), style))
        for w in self.widgets():
            w.apply_style(style)

    def show_network(self, network, *, grid: Optional[MapGrid] = None, input_names: Sequence[str] = (),
                     X=None, y=None, l1: float = 0.0, l2: float = 0.0) -> None:
        """Show a network no other thread is changing: the diagram (:func:`~.maps.diagram_snapshot`
        with maps on ``grid``) and, given a batch ``(X, y)``, the gradient check's source.
        Cost: the snapshot (< 1 ms for small nets, one pass over each wide layer's weights)."""
        snap = diagram_snapshot(network, grid)
        rates = (float(network.input_dropout), *(float(h.dropout) for h in network.hidden))
        self.diagram.set_network(snap.sizes, snap.activations, output=OUTPUT_NAMES.get(network.task, "logits"),
                                 input_names=input_names, dropout=rates)
        self.diagram.set_snapshot(snap)
        if X is not None and y is not None:
            self.gradcheck.set_source(network, X, y, l1=l1, l2=l2)
