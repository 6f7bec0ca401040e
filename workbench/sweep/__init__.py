"""Sweeps: grid and random search over any numeric or choice setting, run on Dask distributed.

Seed 004: "How to choose [hyperparameters]? Big grid search or random search, optimize for
development set."  A sweep is the base experiment plus the settings to vary; it runs on a
local cluster of worker processes (every core) or on a Dask scheduler (``tcp://host:8786``),
the same trials either way, each the engine's own trainer generator.

* :mod:`.fields` -- which settings can vary, their kinds and ranges (read off the spec and
  the engine's registries);
* :mod:`.spec` -- :class:`SweepSpec` (axes, grid or random, repeats, budget), validated and
  bounded; :func:`trials` expands it deterministically;
* :mod:`.file` -- the ``"sweep"`` key of an experiment file;
* :mod:`.trial` -- what a worker runs for one point (its seeds in lockstep);
* :mod:`.runner` -- :class:`~.runner.Cluster` and :class:`~.runner.SweepRunner` (imports
  ``distributed`` only when a cluster is used);
* :mod:`.results` -- rows, sorting, text and CSV tables, trials as runs;
* :mod:`.cli` -- ``mlp-workbench sweep FILE``.

No Qt here; the window's panel is :mod:`workbench.ui.sweep`.
"""

from .spec import Axis, Budget, SweepSpec, Trial, check_sweep, trials

__all__ = ["Axis", "Budget", "SweepSpec", "Trial", "check_sweep", "trials"]
