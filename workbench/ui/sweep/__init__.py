"""The Sweep dock's content: :class:`SweepPanel` (the form, Start/Cancel with progress, the
results table, parallel coordinates and small multiples of the curves).  The sweep itself
(Qt-free) is :mod:`workbench.sweep`."""

from .panel import SweepPanel

__all__ = ["SweepPanel"]
