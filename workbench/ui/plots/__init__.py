"""Plots: training curves and the decision-boundary / fitted-curve view."""

from workbench.ui.plots.boundary_view import BoundaryView
from workbench.ui.plots.curves import CURVE_NAMES, CurvesPanel
from workbench.ui.plots.overlays import MARKER_KINDS

__all__ = ["BoundaryView", "CurvesPanel", "CURVE_NAMES", "MARKER_KINDS"]
