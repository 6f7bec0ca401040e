"""What the playground shows, without Qt: the surface, the runs and their paths.

Every number of a path comes from :func:`workbench.engine.surfaces.optimizer_path`, which
steps the engine's own optimizer classes on the surface's analytic gradient; this module
only turns the playground's settings into its arguments:

``PlaygroundRun``
    one optimizer: an :class:`~workbench.spec.OptimizerSpec` (rule, η and every
    hyperparameter, validated by the spec), a schedule kind evaluated per step (one
    schedule "epoch" = one step), decoupled weight decay λ, a colour (an index into
    :data:`workbench.ui.style.OKABE_ITO`) and a legend label ('' = made from the settings).

``run_path(run, surface, start, steps)``
    ``optimizer_path(surface, kind, {hyperparameters the rule uses}, start, steps, lr=η,
    schedule=..., weight_decay=λ)``.

``SURFACE_LABELS`` / ``make_surface(name, kappa)``
    the surfaces offered (``surfaces.SURFACES``) with a ravine condition number κ.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

from workbench import spec as S
from workbench.engine.optimizers import HYPERPARAMETERS, hyperparameter_info, optimizer_class
from workbench.engine.schedules import KINDS as SCHEDULE_KINDS
from workbench.engine.surfaces import PRESETS, SURFACES, Path, Preset, PresetRun, Surface, optimizer_path

from ..style import OKABE_ITO

#: the surfaces offered, in menu order (names of ``surfaces.SURFACES``)
SURFACE_LABELS: dict[str, str] = {
    "quadratic": "Ravine  ½ wᵀAw",
    "saddle": "Saddle  w₁² − w₂²",
    "rosenbrock": "Rosenbrock",
    "beale": "Beale",
    "rastrigin": "Rastrigin",
}
assert set(SURFACE_LABELS) == set(SURFACES), "a surface of the engine is missing from the playground"

#: one-line notes on the surfaces (shown when no preset explains the picture)
SURFACE_NOTES: dict[str, str] = {
    "quadratic": "An ill-conditioned bowl: curvature 1 along w₁ and κ along w₂ (condition number κ). "
                 "Gradient descent converges only for η < 2/κ, zig-zags across the ravine when ηκ > 1 and "
                 "crawls along it at rate 1 − η.",
    "saddle": "A saddle point at (0, 0): a minimum along w₁, a maximum along w₂; the gradient vanishes there, "
              "so plain gradient descent started near the ridge w₂ = 0 lingers before it escapes.",
    "rosenbrock": "A long, curved, flat-bottomed valley with its minimum at (a, a²) = (1, 1).",
    "beale": "Flat plateaus and steep walls; the minimum is at (3, ½).",
    "rastrigin": "A bowl covered with local minima near the integer points; the global minimum is at (0, 0).",
}

KAPPA_RANGE = (1.0, 1000.0)
"""The condition numbers the ravine's κ box offers."""
STEPS_RANGE = (1, 5000)
"""Steps a path may be asked for."""
MAX_RUNS = len(OKABE_ITO)
"""At most one run per palette colour."""


def make_surface(name: str, kappa: float = 25.0) -> Surface:
    """The surface ``name`` (``quadratic`` with condition number ``kappa``)."""
    cls = SURFACES[name]
    return cls(kappa=float(kappa)) if name == "quadratic" else cls()


@dataclass(frozen=True)
class PlaygroundRun:
    """One optimizer of the playground (see the module docstring)."""

    optimizer: S.OptimizerSpec = field(default_factory=lambda: S.OptimizerSpec(kind="sgd", lr=0.01))
    schedule: str = "constant"
    schedule_params: tuple = ()
    weight_decay: float = 0.0
    color: int = 0
    label: str = ""

    def __post_init__(self):
        if self.schedule not in SCHEDULE_KINDS:
            raise ValueError(f"schedule: must be one of {', '.join(SCHEDULE_KINDS)}, got {self.schedule!r}")
        if not 0 <= int(self.color) < len(OKABE_ITO):
            raise ValueError(f"color: must be an index into OKABE_ITO (0..{len(OKABE_ITO) - 1}), got {self.color!r}")
        if not (self.weight_decay >= 0.0):
            raise ValueError(f"weight_decay: must be >= 0, got {self.weight_decay!r}")

    @property
    def kind(self) -> str:
        return self.optimizer.kind

    @property
    def lr(self) -> float:
        return float(self.optimizer.lr)

    @property
    def hyper(self) -> dict:
        """The hyperparameters the rule uses (η aside): ``make_optimizer``'s keyword arguments."""
        return {name: getattr(self.optimizer, name) for name in optimizer_class(self.kind).uses if name != "lr"}

    def schedule_arg(self, steps: int):
        """``iter_path``'s ``schedule``: None for a constant η, else ``(kind, params)`` with the
        kind's values suggested for a run of ``steps`` steps (exponential: η falls to η/100)
        and the run's own parameters on top."""
        if self.schedule == "constant" and not self.schedule_params:
            return None
        suggest = SCHEDULE_KINDS[self.schedule].suggest
        params = dict(suggest(max(int(steps), 1))) if suggest is not None else {}
        params.update(dict(self.schedule_params))
        return (self.schedule, params)

    @property
    def title(self) -> str:
        """The legend label: ``label`` or, when empty, :func:`describe`."""
        return self.label or describe(self)

    def replace(self, **changes) -> "PlaygroundRun":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_preset(cls, run: PresetRun, color: int) -> "PlaygroundRun":
        """A preset's run (its label kept; its hyperparameters validated by the spec)."""
        schedule, params = "constant", ()
        if isinstance(run.schedule, str):
            schedule = run.schedule
        elif isinstance(run.schedule, Mapping):
            items = dict(run.schedule)
            schedule = items.pop("kind")
            params = tuple(sorted(items.items()))
        elif run.schedule is not None:
            schedule, p = run.schedule
            params = tuple(sorted(dict(p).items()))
        optimizer = S.OptimizerSpec(kind=run.kind, lr=run.lr, **dict(run.hyper))
        return cls(optimizer, schedule, params, 0.0, color, run.label)


def _symbol(kind: str, name: str) -> str:
    """The symbol of a hyperparameter as rule ``kind`` labels it ("Momentum β" -> "β")."""
    label = hyperparameter_info(kind, name)[0]
    return label.split()[-1]


#: hyperparameters a label always shows (the others only when they differ from the default)
ALWAYS_SHOWN = ("momentum", "rho")


def describe(run: PlaygroundRun) -> str:
    """A label from the settings: the rule, its momentum β or decay γ/ρ, what else differs
    from the registry's defaults, η, λ and the schedule: ``Momentum β = 0.8, η = 0.07``,
    ``Adam, no bias correction, η = 0.5``."""
    kind = run.kind
    cls = optimizer_class(kind)
    symbols, words = [], []
    for name in cls.uses:
        h = HYPERPARAMETERS[name]
        value = getattr(run.optimizer, name)
        if name == "lr" or (value == h.default and name not in ALWAYS_SHOWN):
            continue
        if h.kind == "bool":
            words.append(f"{'with' if value else 'no'} {h.label.lower()}")
        elif h.kind == "choice":
            words.append(f"{value} form")
        else:
            symbols.append(f"{_symbol(kind, name)} = {value:g}")
    text = cls.label + (" " + ", ".join(symbols) if symbols else "")
    text += "".join(f", {w}" for w in words)
    text += f", η = {run.lr:g}"
    if run.weight_decay:
        text += f", λ = {run.weight_decay:g}"
    if run.schedule != "constant":
        text += f", {SCHEDULE_KINDS[run.schedule].label.lower()}"
    return text


def run_path(run: PlaygroundRun, surface: Surface, start: Sequence[float], steps: int) -> Path:
    """The run's path: :func:`workbench.engine.surfaces.optimizer_path` (see the module docstring)."""
    return optimizer_path(surface, run.kind, run.hyper, tuple(start), int(steps), lr=run.lr,
                          schedule=run.schedule_arg(steps), weight_decay=run.weight_decay)


def next_color(used: Sequence[int]) -> int:
    """The first palette index not in ``used`` (the first one again when all are taken)."""
    for i in range(len(OKABE_ITO)):
        if i not in used:
            return i
    return 0


def preset_runs(preset: Preset) -> list[PlaygroundRun]:
    """A preset's runs, coloured in palette order."""
    return [PlaygroundRun.from_preset(r, i % len(OKABE_ITO)) for i, r in enumerate(preset.runs)]


def preset_kappa(preset: Preset) -> Optional[float]:
    """The ravine's κ of a preset (None for other surfaces)."""
    return float(preset.surface.kappa) if preset.surface.name == "quadratic" else None


PRESET_NAMES = tuple(PRESETS)

__all__ = ["PlaygroundRun", "SURFACE_LABELS", "SURFACE_NOTES", "KAPPA_RANGE", "STEPS_RANGE", "MAX_RUNS",
           "make_surface", "describe", "run_path", "next_color", "preset_runs", "preset_kappa", "PRESET_NAMES"]
