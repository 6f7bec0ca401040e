"""The optimizer playground ("See the optimizers"): the engine's optimizers walking over
2-D test surfaces, animated step by step.  See :mod:`.window`."""

from .model import PlaygroundRun, describe, make_surface, run_path
from .plot import PathView, SurfacePlot
from .runs import RunEditor, RunsTable
from .window import PlaygroundWindow, open_playground

__all__ = ["PlaygroundWindow", "open_playground", "PlaygroundRun", "SurfacePlot", "PathView", "RunEditor",
           "RunsTable", "describe", "make_surface", "run_path"]
