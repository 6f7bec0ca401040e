"""Which runs the curves compare, and the live events of a group's other members.

:class:`Comparison` follows the session's runs: every visible run other than the shown one
is overlaid (:class:`~workbench.ui.plots.run_overlays.RunOverlays`), a group of seeds as
one overlay (mean ± std over its members, the shown member included), each named in the
legend by what differs from the run it was made from.  While a group trains, the window's
frames carry every member's events: the shown member's go to the run view, the others'
here (:meth:`route`).
"""

from __future__ import annotations

from typing import Optional

from workbench.engine.events import EarlyStop
from workbench.runs import Run

from .plots.run_overlays import OverlayRun


class Comparison:
    """Overlays for ``session``'s runs on ``curves`` (see the module docstring)."""

    def __init__(self, session, curves):
        self.session = session
        self.curves = curves
        self.overlays = curves.overlays
        self._live: list[int] = []  # run ids training, by member index
        self._where: dict[int, tuple] = {}  # member index -> (overlay key, member in overlay)
        session.runs_changed.connect(self.update)
        session.current_changed.connect(self.update)

    # -- what is overlaid ----------------------------------------------------------------
    def sources(self) -> list[OverlayRun]:
        """The overlays for the session's runs now (see the module docstring)."""
        runs = self.session.runs
        shown = self.session.current_run
        out, groups_done = [], set()
        for run in runs:
            if not run.visible:
                continue
            if run.group is not None:
                if run.group in groups_done:
                    continue
                groups_done.add(run.group)
                members = [m for m in runs.members(run.group)]
                out.append(OverlayRun(key=run.group, label=runs.label(run), color=run.color,
                                      histories=[_history(m) for m in members], best=[_best(m) for m in members],
                                      epochs=run.spec.training.epochs, monitor=run.spec.early_stopping.monitor))
            elif shown is None or run.id != shown.id:
                out.append(OverlayRun(key=run.id, label=runs.label(run), color=run.color,
                                      histories=[_history(run)], best=[_best(run)], epochs=run.spec.training.epochs,
                                      monitor=run.spec.early_stopping.monitor))
        return out

    def update(self) -> None:
        """Overlay what the session's runs say now."""
        sources = self.sources()
        shown = self.session.current_run
        comparing = bool(sources) and shown is not None
        # the shown run by its name when it is one seed of a group (the group has the label)
        label = "" if shown is None else shown.name if shown.group else self.session.runs.label(shown)
        self.overlays.set_runs(sources)
        self.curves.set_comparison(shown.color if comparing else None, label, [(s.color, s.label) for s in sources])
        self._map_live()

    # -- live -------------------------------------------------------------------------------
    def begin(self, runs: list[Run]) -> None:
        """A run of ``runs`` (member m = runs[m]) starts."""
        self._live = [r.id for r in runs]
        self._map_live()

    def end(self) -> None:
        self._live = []
        self._where = {}

    def _map_live(self) -> None:
        runs = self.session.runs
        self._where = {}
        for m, run_id in enumerate(self._live):
            run = runs.get(run_id)
            if run is None or not run.visible:
                continue
            if run.group is not None:
                members = [r.id for r in runs.members(run.group)]
                self._where[m] = (run.group, members.index(run_id))
            elif m > 0:
                self._where[m] = (run_id, 0)

    @property
    def several(self) -> bool:
        """Whether the run training has several members (a frame must be split)."""
        return len(self._live) > 1

    def route(self, events: list) -> list:
        """Send every member's events to its overlay; returns the shown member's (member 0)."""
        shown, by_member = [], {}
        for ev in events:
            m = ev.member
            if m == 0:
                shown.append(ev)
            if m in self._where:
                by_member.setdefault(m, []).append(ev)
        for m, evs in by_member.items():
            key, index = self._where[m]
            self.overlays.add_events(key, index, evs)
            for ev in evs:
                if type(ev) is EarlyStop:
                    self.overlays.set_best(key, index, ev.best_epoch)
        self.overlays.refresh()
        return shown


def _history(run: Run) -> Optional[dict]:
    return run.result.history if run.result is not None else None


def _best(run: Run) -> Optional[int]:
    es = run.result.early_stop if run.result is not None else None
    return es.best_epoch if es is not None else None
