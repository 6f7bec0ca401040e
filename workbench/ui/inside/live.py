"""What the Inside dock draws while a run trains, computed in the training worker.

:class:`LiveDiagnostics` wraps the network the worker trains: the diagram's snapshots
(:class:`~.maps.DiagramSource`) and the layer health (:class:`~workbench.engine.diagnostics.HealthMonitor`),
both at a bounded rate (at least 0.25 s / 0.5 s apart, at most 5 % of the wall time).
The update-to-weight ratio of the epoch's *last* optimizer step needs the parameters
from just before it: after every step (a training ``BatchEnd``) the parameters are copied
into one of two alternating buffers, so at the end of an epoch the older buffer holds them
(one ``np.copyto`` per step, and only while the dock is shown).  With dropout, the units
the step dropped for the first sample of its batch (``M^(k)[0] == 0``, from the network's
:attr:`~workbench.engine.network.Network.last_masks`) are kept the same way, so the diagram
shows the units dropped in the epoch's last step.  NumPy only; nothing here changes the run
(its numbers are bit-identical with or without it).
"""

from __future__ import annotations

import dataclasses
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
        self._dropped: Optional[list] = None  # per position: units dropped in the last step, or None
        self._sent_epoch: Optional[int] = None  # the epoch of the last diagram sent

    def step_done(self) -> None:
        """After an optimizer step (a training BatchEnd): keep the parameters, and the
        units its dropout dropped."""
        if self._steps:
            np.copyto(self._steps[self._n % 2], self.network.params)
            self._n += 1
            masks = self.network.last_masks
            if masks is None:
                self._dropped = None
                return
            if self._dropped is None:
                self._dropped = [None if m is None else np.zeros(m.shape[1], bool) for m in masks]
            for m, out in zip(masks, self._dropped):
                if m is not None:
                    np.equal(m[0], 0, out=out)

    def start(self) -> list:
        """The pictures before the first epoch (epoch 0)."""
        return self.epoch_done(0)

    def finish(self, epoch: int) -> list:
        """The pictures of the model the run ended with (``epoch``: the one its weights are
        from), whatever the rate; no unit is dropped in a trained model."""
        self._dropped = None
        return self.epoch_done(epoch, force=True)

    def epoch_done(self, epoch: int, force: bool = False, only_new: bool = False) -> list:
        """The snapshots that are due after ``epoch`` (a DiagramSnapshot, a HealthSnapshot);
        ``force``: whatever the rate; ``only_new``: nothing when this epoch's diagram was sent."""
        if only_new and epoch == self._sent_epoch:
            return []
        out = []
        if force or self.diagram.due():
            self._sent_epoch = epoch
            if self._copy is not None:
                self.diagram.network = self._copy()
            snap = self.diagram.snapshot(epoch)
            if self._dropped is not None:
                snap = dataclasses.replace(snap, dropped=tuple(None if d is None else d.copy() for d in self._dropped))
            out.append(snap)
        if self.health is not None and (force or self.health.due()):
            if self._n >= 2:  # the parameters before the last step (written two steps ago)
                self.health.probe.before(self._steps[self._n % 2])
            out.append(self.health.snapshot(epoch))
        return out
