"""What the lecture notes show of the optimizers on 2-D test functions (seed 000 figure 6,
seed 004): SGD vs momentum in the ravine, escaping the saddle, Adam with and without bias
correction, Adagrad's vanishing steps vs RMSProp, and all optimizers on Beale's function.
``PRESETS[name].paths()`` gives every run's :class:`~.paths.Path`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .functions import Beale, Quadratic, Saddle, Surface
from .paths import Path, ScheduleArg, optimizer_path


@dataclass(frozen=True)
class PresetRun:
    """One optimizer of a preset: legend ``label``, engine ``kind``, ``hyper`` (keyword
    arguments of ``make_optimizer``), learning rate ``lr`` and ``schedule`` (as :func:`iter_path`)."""

    label: str
    kind: str
    hyper: Mapping = field(default_factory=dict)
    lr: float = 0.01
    schedule: ScheduleArg = None

    def path(self, surface: Surface, start, steps: int, **kw) -> Path:
        return optimizer_path(surface, self.kind, self.hyper, start, steps, lr=self.lr,
                              schedule=self.schedule, **kw)


@dataclass(frozen=True)
class Preset:
    """A picture of the notes: ``surface`` and ``start``, the ``runs`` to compare over
    ``steps`` steps, and a one-line ``explanation`` in the notes' terms."""

    name: str
    title: str
    surface: Surface
    start: tuple[float, float]
    runs: tuple[PresetRun, ...]
    steps: int
    explanation: str

    def paths(self, **kw) -> dict[str, Path]:
        """label -> :class:`Path` for every run."""
        return {run.label: run.path(self.surface, self.start, self.steps, **kw) for run in self.runs}


_RAVINE = Quadratic(kappa=25.0)
_SADDLE = Saddle()

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "ravine",
            "SGD vs momentum in a ravine (κ = 25)",
            _RAVINE,
            _RAVINE.start,
            (
                PresetRun("SGD, η = 0.07", "sgd", {}, 0.07),
                PresetRun("SGD, η = 0.01", "sgd", {}, 0.01),
                PresetRun("momentum β = 0.8, η = 0.07", "momentum", {"momentum": 0.8}, 0.07),
            ),
            150,
            "Ill-conditioned loss: at η = 0.07 SGD zig-zags across the steep direction "
            "(1 − ηκ = −0.75) and crawls along the shallow one (1 − η = 0.93); a small η stops the "
            "zig-zag but crawls even slower; momentum's velocity v_t = βv_{t−1} + ηg_t cancels the "
            "zig-zag and builds up speed along the ravine (rate √β ≈ 0.89 per step).",
        ),
        Preset(
            "saddle",
            "Escaping a saddle point from the ridge",
            _SADDLE,
            (1.0, 1e-3),
            (
                PresetRun("SGD, η = 0.05", "sgd", {}, 0.05),
                PresetRun("momentum β = 0.9, η = 0.05", "momentum", {"momentum": 0.9}, 0.05),
                PresetRun("RMSProp γ = 0.9, η = 0.05", "rmsprop", {"rho": 0.9}, 0.05),
                PresetRun("Adagrad, η = 0.1", "adagrad", {}, 0.1),
                PresetRun("Adam, η = 0.05", "adam", {}, 0.05),
            ),
            100,
            "Saddle point: on the ridge w₂ ≈ 0 the gradient's w₂ part is tiny, so SGD walks down "
            "to the flat saddle and leaves only as fast as (1 + 2η)^t grows the offset; momentum "
            "accumulates the small push, and the per-parameter rates η/√(s_t + ε) of Adagrad, "
            "RMSProp and Adam blow the tiny gradient up to a step of about η at once.",
        ),
        Preset(
            "adam_bias",
            "Adam with and without bias correction (first 40 steps)",
            _RAVINE,
            _RAVINE.start,
            (
                PresetRun("Adam, bias-corrected (eq. 7), η = 0.5", "adam", {"bias_correction": True}, 0.5),
                PresetRun("Adam, no correction (eq. 6), η = 0.5", "adam", {"bias_correction": False}, 0.5),
            ),
            40,
            "With v_0 = s_0 = 0 the moments start biased toward 0: eq. 7 divides by (1 − β^t) and "
            "(1 − γ^t), so the first step is ≈ η in every coordinate; for a steady gradient eq. 6 steps "
            "η(1 − β^t)/√(1 − γ^t) instead — (1 − β)/√(1 − γ) ≈ 3.2η at t = 1 and up to ≈ 6.6η "
            "at t = 12 with β = 0.9, γ = 0.999 — and overshoots.",
        ),
        Preset(
            "adagrad_rmsprop",
            "Adagrad's vanishing steps vs RMSProp",
            _RAVINE,
            _RAVINE.start,
            (
                PresetRun("Adagrad, η = 0.1", "adagrad", {}, 0.1),
                PresetRun("RMSProp γ = 0.9, η = 0.1", "rmsprop", {"rho": 0.9}, 0.1),
            ),
            150,
            "Adagrad's s_t = s_{t−1} + g_t⊙g_t only grows, so its effective rate η/√(s_t + ε) keeps "
            "falling and the steps vanish before the minimum; RMSProp's s_t = γs_{t−1} + (1 − γ)g_t⊙g_t "
            "forgets old gradients and keeps moving.",
        ),
        Preset(
            "beale",
            "All optimizers on Beale's function",
            Beale(),
            Beale().start,
            (
                PresetRun("SGD, η = 0.001", "sgd", {}, 1e-3),
                PresetRun("momentum β = 0.9, η = 0.001", "momentum", {"momentum": 0.9}, 1e-3),
                PresetRun("Nesterov β = 0.9, η = 0.001", "nesterov", {"momentum": 0.9}, 1e-3),
                PresetRun("Adagrad, η = 0.5", "adagrad", {}, 0.5),
                PresetRun("RMSProp γ = 0.9, η = 0.01", "rmsprop", {"rho": 0.9}, 0.01),
                PresetRun("Adadelta ρ = 0.95, ε = 1e-4", "adadelta", {"rho": 0.95, "eps": 1e-4}, 1.0),
                PresetRun("Adam, η = 0.05", "adam", {}, 0.05),
            ),
            300,
            "Seed 000 figure 6: plain SGD creeps over the plateau, momentum and Nesterov gather "
            "speed (and overshoot), the adaptive rates η/√(s_t + ε) move each coordinate at its own pace.",
        ),
    )
}
"""What the notes show; ``PRESETS[name].paths()`` gives every run's :class:`Path`."""
