"""Look inside the network: five widgets and the NumPy functions that feed them.

=====================  ================================================  ===========================
widget                 shows                                             fed with (plain data)
=====================  ================================================  ===========================
``NetworkDiagram``     units, weights (lines), biases (rings), unit      ``DiagramSnapshot`` from
                       heat maps over a 2-D input plane, dropped units   :func:`diagram_snapshot`
``LayerHealthPanel``   gradient norms, update ratios, saturated and      ``HealthSnapshot`` s
                       dead fractions over epochs; histograms            (engine.diagnostics)
``InitComparison``     activation spread per layer per initialiser       ``InitSpread``
                                                                         (:func:`spread_for_network`)
``ErrorsPanel``        confusion matrix / residuals, split chooser       ``SplitErrors`` per split
                                                                         (:func:`errors_for`)
``GradCheckPanel``     per-layer gradient check (runs it in a thread)    a network and a batch
=====================  ================================================  ===========================

``InsidePanel`` is the ``QTabWidget`` holding the five.  Every widget has
``apply_style(style)`` and draws a bounded number of items whatever the network's size.
"""

from .diagram import NetworkDiagram, line_style, max_line_width, ring_style
from .errors_view import ErrorsPanel, errors_for
from .gradcheck_view import GRADCHECK_ROWS, GradCheckPanel
from .health import MAX_SNAPSHOTS, HealthHistory, LayerHealthPanel
from .init_view import InitComparison, spread_for_network
from .maps import (
    AGGREGATE_LINES,
    MAP_RESOLUTION,
    MAX_LINES,
    WIDE_LAYER,
    DiagramSnapshot,
    DiagramSource,
    MapGrid,
    diagram_snapshot,
    dropped_units,
    map_grid,
    map_grid_for,
    neuron_maps,
)
from .panel import InsidePanel

__all__ = [
    "AGGREGATE_LINES", "DiagramSnapshot", "DiagramSource", "ErrorsPanel", "GRADCHECK_ROWS", "GradCheckPanel",
    "HealthHistory", "InitComparison", "InsidePanel", "LayerHealthPanel", "MAP_RESOLUTION", "MAX_LINES",
    "MAX_SNAPSHOTS", "MapGrid", "NetworkDiagram", "WIDE_LAYER", "diagram_snapshot", "dropped_units", "errors_for",
    "line_style", "map_grid", "map_grid_for", "max_line_width", "neuron_maps", "ring_style", "spread_for_network",
]
