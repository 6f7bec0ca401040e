"""Two-dimensional test functions and the paths the engine's optimizers take on them:
"See the optimizers" (headless and plain data, NumPy only; a window draws it).

* :mod:`.functions` -- the surfaces f(w) with analytic gradients (:data:`SURFACES`) and
  log-spaced contour levels;
* :mod:`.paths` -- :func:`optimizer_path` / :func:`iter_path`: the engine's own optimizer
  classes stepped on a surface (no update rule is written a second time);
* :mod:`.presets` -- :data:`PRESETS`, the pictures of the notes.

Every name is importable from here (``from workbench.engine.surfaces import PRESETS``).
"""

from .functions import SURFACES, Beale, Box, Quadratic, Rastrigin, Rosenbrock, Saddle, Surface, log_levels
from .paths import (
    DEFAULT_BOUND,
    RESERVED,
    Path,
    PathEnd,
    PathStep,
    ScheduleArg,
    iter_path,
    optimizer_path,
)
from .presets import PRESETS, Preset, PresetRun

__all__ = [
    "Beale", "Box", "DEFAULT_BOUND", "PRESETS", "Path", "PathEnd", "PathStep", "Preset", "PresetRun", "Quadratic",
    "RESERVED", "Rastrigin", "Rosenbrock", "SURFACES", "Saddle", "ScheduleArg", "Surface", "iter_path",
    "log_levels", "optimizer_path",
]
