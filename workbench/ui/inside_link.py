"""The Inside dock's feed: what the network looks like, for the run training, the run
shown and the timeline's epoch.

While a run trains, the worker computes the diagram, the layer health and (at the end)
the errors at a bounded rate -- only while the dock is shown -- and they arrive here
(:meth:`InsideLink.receive`).  A finished or reopened run is shown from its weights, the
timeline's epoch k from that epoch's snapshot; the initialisation comparison is computed
in a thread when its tab is shown (one forward pass per initialiser: up to a few hundred
milliseconds for a large network).  Nothing here trains or changes a run.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, Signal

from workbench.build import network_with, task_of, training_targets
from workbench.engine.diagnostics import HealthSnapshot, current_initializers

from .inside import InsidePanel
from .inside.maps import DiagramSnapshot, diagram_snapshot, map_grid_for
from .inside.panel import OUTPUT_NAMES


class InsideLink(QObject):
    """Feeds ``panel`` (an :class:`~workbench.ui.inside.InsidePanel`) for ``session``;
    ``dataset()`` is the data set shown, ``visible()`` whether the dock is on screen."""

    _spread_ready = Signal(object, object)  # (key, spread) from the comparison's thread

    def __init__(self, session, panel: InsidePanel, dataset: Callable, visible: Callable[[], bool], parent=None):
        super().__init__(parent)
        self.session = session
        self.panel = panel
        self._dataset = dataset
        self._visible = visible
        self._grid_for = None
        self._grid = None
        self._arch = None  # the architecture the diagram is built for
        self._spread_key = None
        self._epoch: Optional[int] = None  # the timeline's epoch (None: the newest, or the final model)
        self._epoch_run = None
        self._run_spec = None  # the spec of the run training (its diagram is built when shown)
        self._spread_ready.connect(self._show_spread)
        panel.currentChanged.connect(lambda _i: self.refresh())

    # -- the data set's input plane ---------------------------------------------------------
    def grid(self):
        """The heat maps' grid for the data set shown (None: not a 2-D input)."""
        ds = self._dataset()
        if ds is not self._grid_for:
            self._grid_for, self._grid = ds, (map_grid_for(ds) if ds is not None else None)
        return self._grid

    def _set_architecture(self, spec, ds) -> None:
        key = (spec.architecture, spec.data)
        if key == self._arch:
            return
        self._arch = key
        task, n_out = task_of(ds)
        arch = spec.architecture
        sizes = (int(ds.X_train.shape[1]), *(layer.units for layer in arch.layers), n_out)
        self.panel.diagram.set_network(sizes, [layer.activation for layer in arch.layers],
                                       output=OUTPUT_NAMES.get(task, "logits"),
                                       input_names=getattr(ds, "feature_names", ()) or (),
                                       dropout=(arch.input_dropout, *(layer.dropout for layer in arch.layers)))

    # -- a run training ---------------------------------------------------------------------------
    def begin(self, spec) -> None:
        """A run of ``spec`` starts: an empty history, and the diagram for its
        architecture -- built when the dock is shown (~10 ms for a wide network, not
        spent on every run while the dock is hidden)."""
        self._run_spec = spec
        self._epoch = None
        self.panel.health.clear()
        ds = self._dataset()
        if ds is not None and self._visible():
            self._set_architecture(spec, ds)

    def receive(self, payload) -> None:
        """A picture the worker computed (the diagram's only while the timeline follows
        the newest epoch)."""
        if isinstance(payload, DiagramSnapshot):
            if self._epoch is None:
                self.panel.diagram.set_snapshot(payload)
        elif isinstance(payload, HealthSnapshot):
            self.panel.health.add_snapshot(payload)
        elif isinstance(payload, dict) and "errors" in payload:
            ds = self._dataset()
            self.panel.errors.set_errors(payload["errors"], getattr(ds, "class_names", None) or ())

    # -- a run shown, an epoch of the timeline ----------------------------------------------------
    def show_weights(self, spec, params: Optional[np.ndarray], epoch: int, errors: bool = True) -> bool:
        """Show the network of ``spec`` with ``params`` (a run's final weights or the
        snapshot of ``epoch``): the diagram, the errors and the gradient check's source.
        False when nothing can be shown (other data, weights that do not fit)."""
        ds = self._dataset()
        if ds is None or params is None or spec.data != self.session.spec.data or not self._visible():
            return False
        net = network_with(spec, ds, np.asarray(params, dtype=np.float32))
        if net is None:
            return False
        self._set_architecture(spec, ds)
        self.panel.diagram.set_snapshot(diagram_snapshot(net, self.grid(), epoch=epoch))
        if errors and self.panel.currentWidget() is self.panel.errors:
            from .inside.errors_view import errors_for

            self.panel.errors.set_errors(errors_for(net, ds), getattr(ds, "class_names", None) or ())
        reg = spec.regularization
        self.panel.gradcheck.set_source(net, ds.X_train, training_targets(ds), l1=reg.l1, l2=reg.l2,
                                        seed=spec.training.seed)
        return True

    def set_epoch(self, run, epoch: Optional[int]) -> None:
        """The timeline shows ``epoch`` of ``run`` (None: its newest epoch, or the model it
        ended with): the network of that epoch's snapshot."""
        self._epoch, self._epoch_run = epoch, run
        self.refresh()

    def refresh(self) -> None:
        """The dock or a tab was shown, or the timeline moved: bring what it shows up to
        date (the timeline's epoch from its snapshot; while training at the newest epoch
        the worker's pictures come by themselves)."""
        if not self._visible():
            return
        running = self.session.running()
        ds = self._dataset()
        if running and self._run_spec is not None and ds is not None:
            self._set_architecture(self._run_spec, ds)  # the worker's pictures are of this network
        if self._epoch is not None and self._epoch_run is not None:
            run = self._epoch_run
            found = self.session.snapshots.nearest(run.id, self._epoch)
            if found is not None:
                self.show_weights(run.spec, found[1], found[0])
        elif not running:
            run = self.session.current_run
            if run is not None and run.result is not None and run.result.weights is not None:
                from workbench.experiment_file import decode_weights

                self.show_weights(run.spec, decode_weights(run.result.weights), len(run.history.get("epoch", ())))
        if not running and self.panel.currentWidget() is self.panel.init:
            self._start_spread()

    # -- the initialisation comparison (a thread) ------------------------------------------------
    def _start_spread(self) -> None:
        spec, ds = self.session.spec, self._dataset()
        if ds is None:
            return
        key = (spec.architecture, spec.data, spec.training.seed)
        if key == self._spread_key:
            return
        self._spread_key = key
        from workbench.build import make_network

        from .inside.init_view import spread_for_network

        task, n_out = task_of(ds)
        net = make_network(spec, int(ds.X_train.shape[1]), task, n_out)
        X = np.array(ds.X_train[:512], copy=True)
        seed = np.random.SeedSequence([spec.training.seed, 1])

        def work():
            try:
                spread = spread_for_network(net, X, seed)
            except Exception:  # noqa: BLE001 - a picture is optional
                spread = None
            self._spread_ready.emit(key, (spread, current_initializers(net)))

        threading.Thread(target=work, name="initSpread", daemon=True).start()

    def _show_spread(self, key, payload) -> None:
        spread, current = payload
        if key == self._spread_key and spread is not None:
            self.panel.init.set_spread(spread, current=current)
