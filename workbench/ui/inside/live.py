"""What the Inside dock draws while a run trains, computed in the training worker.

:class:`LiveDiagnostics` wraps the network the worker trains: the diagram's snapshots
(:class:`~.maps.DiagramSource`) and the layer health (:class:`~workbench.engine.diagnostics.HealthMonitor`),
both at a bounded rate (at least 0.25 s / 0.5 s apart, at most 5 % of the wall time).
The update-to-weight ratio of the epoch's *last* optimizer step needs the parameters
from just before it: after every step (a training ``BatchEnd``) the parameters are copied
into one of two alternating buffers, so at the end of an epoch the older buffer holds them
(one ``np.copyto`` per step, and only while the dock is shown).  NumPy only; nothing here
changes the run (its numbers are bit-identical with or without it).
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from workbench.engine.diagnostics import HealthMonitor

from .maps import DiagramSource, MapGrid


class LiveDiagnostics:
    """See the module docstring.  ``data``: the run's TrainData (its training arrays give
    the fixed evaluation batch).  ``copy``: a callable giving a fresh copy of the network
    instead (a lockstep member's, made only when a diagram is due), which has no steps to
    probe: no layer health then."""

    def __init__(self, network, data, grid: Optional[MapGrid], seed: int, *, copy: Optional[Callable] = None):
        health = copy is None
        self.network = network
        self._copy = copy
        self.diagram = DiagramSource(network, grid)
        self.health = HealthMonitor(network, data.X_train, data.y_train, seed=seed) if health else None
        self._steps = [np.empty_like(network.params), np.empty_like(network.params)] if health else []
        self._n = 0  # steps copied (the last one into _steps[(n - 1) % 2])

    def step_done(self) -> None:
        """After an optimizer step (a training BatchEnd): keep the parameters."""
        if self._steps:
            np.copyto(self._steps[self._n % 2], self.network.params)
            self._n += 1

    def start(self) -> list:
        """The pictures before the first epoch (epoch 0)."""
        return self.epoch_done(0)

    def finish(self, epoch: int) -> list:
        """The pictures of the model the run ended with (``epoch``: the one its weights are
        from), whatever the rate."""
        return self.epoch_done(epoch, force=True)

    def epoch_done(self, epoch: int, force: bool = False) -> list:
        """The snapshots that are due after ``epoch`` (a DiagramSnapshot, a HealthSnapshot)."""
        out = []
        if force or self.diagram.due():
            if self._copy is not None:
                self.diagram.network = self._copy()
            out.append(self.diagram.snapshot(epoch))
        if self.health is not None and (force or self.health.due()):
            if self._n >= 2:  # the parameters before the last step (written two steps ago)
                self.health.probe.before(self._steps[self._n % 2])
            out.append(self.health.snapshot(epoch))
        return out
