"""Learning rate per epoch.

``e`` is the 0-based epoch index, ``eta`` the base learning rate (``optimizer.lr``),
``W`` = ``warmup_epochs``, ``E = total_epochs - W`` the epochs of the main schedule
(at least 1) and ``t = e - W`` the epoch index inside it:

=================  ==========================================================================
constant           eta
step               eta gamma^floor(t / step_size)
multistep          eta gamma^(number of milestones <= t)
exponential        eta gamma^t
linear             eta (1 - (1 - end_factor) min(t, E) / E)   -- end_factor eta at t = E
inverse_scaling    eta / (t + 1)^power
cosine             min_lr + (eta - min_lr) (1 + cos(pi t_cur / T_i)) / 2, T = ``period``
                   (0 means E).  Without ``warm_restarts``: T_0 = T, t_cur = min(t, T)
                   (stays at min_lr after T).  With ``warm_restarts`` (SGDR, Loshchilov &
                   Hutter): cycle i lasts T_i = T t_mult^i epochs; t_cur counts epochs since
                   the cycle began and the lr jumps back to eta at each restart.
one_cycle          the up phase holds n_up = clamp(round(pct_start E), 1, max(E-1, 1)) epochs,
                   t = 0 .. p with p = n_up - 1: linear from eta/div_factor (t = 0) to eta
                   (t = p; when n_up = 1 the run starts at the peak); then cosine down, eta_end + (eta - eta_end)(1 + cos(pi (t-p)/(E-1-p)))/2
                   with eta_end = eta/(div_factor final_div_factor), reached at the last
                   epoch t = E-1 (and kept after it).
plateau            reduce-on-plateau (fed by :meth:`Schedule.observe`), see below.
=================  ==========================================================================

Warm-up: for e < W, lr = eta0 (f + (1-f) e / W), f = ``warmup_start_factor``, where
eta0 is the main schedule's first value (eta for every kind except ``one_cycle``,
whose first value is eta/div_factor).  The warm-up rises monotonically from f eta0
towards eta0, and at e = W the main schedule starts with t = 0, i.e. with eta0:
the two join without a jump.

Plateau (PyTorch ``ReduceLROnPlateau``, mode ``min``, threshold_mode ``rel``): after
each epoch e the trainer calls ``observe(e, loss)``.  The loss improves when
loss < best (1 - threshold); otherwise the epoch is *bad*.  Up to ``patience`` bad
epochs in a row are tolerated; the next one multiplies the lr by ``factor`` (never
below ``min_lr``), resets the count and starts ``cooldown`` epochs during which bad
epochs are not counted.  A NaN loss is a bad epoch.  Observations during the warm-up
(e < W) are ignored.  :meth:`Schedule.lr_for_epoch` returns the current (reduced)
value; :meth:`Schedule.preview` draws the constant base line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..limits import MAX_EPOCHS
from .setting import Setting


def _epochs(name, default, label, doc, low=0, special=""):
    return Setting(name, default, label, doc, kind="int", low=low, high=MAX_EPOCHS, special=special)


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    _epochs("step_size", 30, "Step size (epochs)", "Multiply η by γ every this many epochs.", low=1),
    Setting("milestones", (), "Milestones",
            "Epochs at which η is multiplied by γ: whole numbers ≥ 1, strictly increasing,\nseparated by commas.",
            kind="ints", low=1, high=MAX_EPOCHS),
    Setting("gamma", 0.5, "Factor γ", "γ ∈ (0, 1]: the factor η is multiplied by.",
            low=0.0, low_open=True, high=1.0),
    Setting("end_factor", 0.0, "End factor", "The last epoch runs at end factor · η (0 = decay to zero).",
            low=0.0, high=1.0, decimals=3),
    Setting("power", 0.5, "Power p", "Exponent p of ηₑ = η / (e + 1)ᵖ  (0.5: 1/√t decay).",
            low=0.0, high=5.0, step=0.1, decimals=3),
    _epochs("period", 0, "Period T", "Period T in epochs of one cosine half-wave (0 = the whole run).",
            special="whole run"),
    Setting("warm_restarts", False, "Warm restarts (SGDR)",
            "Jump back to η at the end of every period; the next period is T_mult times longer.", kind="bool"),
    Setting("t_mult", 1, "T_mult", "Each period is T_mult times as long as the previous one.",
            kind="int", low=1, high=10),
    Setting("min_lr", 0.0, "Minimum η_min", "Lower bound η_min of the learning rate.",
            scale="log", low=0.0, high=10.0),
    Setting("pct_start", 0.3, "Rise fraction", "Fraction of the epochs spent warming up from η/div to η.",
            low=0.0, low_open=True, high=1.0, high_open=True, decimals=2),
    Setting("div_factor", 25.0, "Start div", "The cycle starts at η / div.", scale="log", low=1.0, high=1e4,
            smallest=1.0),
    Setting("final_div_factor", 1e4, "Final div", "The cycle ends at η / (div · final div).",
            scale="log", low=1.0, high=1e6, smallest=1.0),
    Setting("factor", 0.5, "Factor", "η ← η · factor at each plateau.",
            low=0.0, low_open=True, high=1.0, high_open=True, decimals=3),
    _epochs("patience", 5, "Patience", "Epochs without improvement before η is reduced."),
    _epochs("cooldown", 0, "Cooldown", "Epochs to wait after a reduction before watching again."),
    Setting("threshold", 1e-4, "Threshold",
            "Relative improvement that counts: a new loss must be below best · (1 − threshold).",
            scale="log", low=0.0, high=1.0, smallest=1e-6),
    Setting("monitor", "val_loss", "Monitor", "The loss watched for a plateau.", kind="choice",
            choices=("val_loss", "train_loss"), choice_labels=("Validation loss", "Training loss")),
    _epochs("warmup_epochs", 0, "Warm-up epochs",
            "Linear warm-up over the first epochs: η rises from start factor · η to the schedule's\n"
            "value, then the schedule takes over.  0 = no warm-up."),
    Setting("warmup_start_factor", 0.1, "Start factor", "The first warm-up epoch runs at this fraction of η.",
            low=0.0, high=1.0, decimals=3),
)}
"""Every schedule parameter (the ScheduleSpec fields besides ``kind``), described once."""

DEFAULTS: dict[str, object] = {name: setting.default for name, setting in SETTINGS.items()}
"""The ScheduleSpec fields (besides ``kind``) and their defaults."""

WARMUP = ("warmup_epochs", "warmup_start_factor")
"""The parameters of the warm-up, which goes in front of any kind."""


@dataclass(frozen=True)
class ScheduleKind:
    """One kind of schedule: its name in files, ``label``, the parameters it ``uses``
    (besides the warm-up), its ``formula`` (e = epoch, 0-based; E = epochs) and values to
    ``suggest`` for a run of E epochs when the kind is chosen."""

    name: str
    label: str
    uses: tuple[str, ...]
    formula: str
    suggest: Optional[Callable[[int], dict]] = None


def _exponential_gamma(epochs: int) -> dict:
    """γ = 0.01^(1/E): η falls to η/100 by the last epoch (γ = 0.5 would reach 1e-60 over 200)."""
    return {"gamma": float(f"{0.01 ** (1.0 / max(int(epochs), 1)):.4g}")}


KINDS: dict[str, ScheduleKind] = {k.name: k for k in (
    ScheduleKind("constant", "Constant", (), "ηₑ = η"),
    ScheduleKind("step", "Step", ("step_size", "gamma"),
                 "ηₑ = η · γ^⌊e / step⌋  (multiply by γ every 'step' epochs)"),
    ScheduleKind("multistep", "Multi-step", ("milestones", "gamma"), "ηₑ = η · γ^(number of milestones ≤ e)"),
    ScheduleKind("exponential", "Exponential", ("gamma",), "ηₑ = η · γᵉ", _exponential_gamma),
    ScheduleKind("linear", "Linear decay", ("end_factor",),
                 "ηₑ = η · (1 − (1 − end factor) · e/E)  (from η down to end factor · η at the last epoch)"),
    ScheduleKind("inverse_scaling", "Inverse scaling η/tᵖ", ("power",), "ηₑ = η / (e + 1)ᵖ"),
    ScheduleKind("cosine", "Cosine annealing", ("period", "warm_restarts", "t_mult", "min_lr"),
                 "ηₑ = η_min + (η − η_min)(1 + cos(π t/T))/2, t the epoch within the period T;\n"
                 "with warm restarts t returns to 0 after each period and T grows by T_mult"),
    ScheduleKind("one_cycle", "One-cycle", ("pct_start", "div_factor", "final_div_factor"),
                 "one cycle: up from η/div to η over pct_start of the epochs, then (cosine) down to\n"
                 "η/(div · final div)"),
    ScheduleKind("plateau", "Reduce on plateau", ("monitor", "factor", "patience", "cooldown", "threshold", "min_lr"),
                 "η ← max(η · factor, η_min) whenever the monitored loss has not improved (by more than\n"
                 "threshold, relative) for 'patience' epochs; then 'cooldown' epochs without further drops"),
)}
"""Every kind of schedule, in the order the window lists them."""

SCHEDULES = tuple(KINDS)

FADE_WARNING = 1e-6
"""η planned to fall below this fraction of η by the last epoch earns a warning
(:func:`fade_warning`): the last epochs would barely learn (e.g. exponential γ = 0.5 over
200 epochs reaches 6e-61 η)."""


def fade_warning(planned: np.ndarray, lr: float) -> str:
    """'' or why ``planned`` (η of every epoch) fades out: its last value η_E below
    :data:`FADE_WARNING` · η."""
    if lr <= 0 or planned is None or not len(planned):
        return ""
    last = float(planned[-1])
    if 0 < last < FADE_WARNING * lr:
        return f"η falls to {last:.1e} by the last epoch ({last / lr:.0e} × η): the last epochs barely learn."
    return ""

_PLATEAU_EPS = 1e-8  # smaller lr changes are ignored (as PyTorch)


def _num(name: str, value, ok, rule: str) -> float:
    """``value`` as a finite float satisfying ``ok``, else ValueError("name: must be <rule>, got v")."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a number {rule}, got {value!r}") from None
    if not (math.isfinite(x) and ok(x)):
        raise ValueError(f"{name}: must be {rule}, got {value!r}")
    return x


def _int(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name}: must be an integer >= {lo}, got {value!r}")
    return int(value)


class Schedule:
    """Learning rate per 0-based epoch for one schedule ``kind`` (see the module docstring).

    Build it with :func:`make_schedule`, which validates the parameters.  The
    ScheduleSpec fields are attributes of the same name; ``main_epochs`` is E;
    plateau state: ``current_lr``, ``best``, ``num_bad_epochs``, ``cooldown_counter``.
    """

    step_size: int
    gamma: float
    milestones: tuple[int, ...]
    end_factor: float
    power: float
    period: int
    warm_restarts: bool
    t_mult: int
    min_lr: float
    pct_start: float
    div_factor: float
    final_div_factor: float
    factor: float
    patience: int
    cooldown: int
    threshold: float
    monitor: str
    warmup_epochs: int
    warmup_start_factor: float

    def __init__(self, kind: str, base_lr: float, total_epochs: int, **params):
        self.kind = kind
        self.base_lr = base_lr
        self.total_epochs = total_epochs
        for key in DEFAULTS:
            setattr(self, key, params[key])
        self.main_epochs = max(total_epochs - self.warmup_epochs, 1)
        period = self.period if self.period > 0 else self.main_epochs
        self._cycle0 = period
        n_up = int(math.floor(self.pct_start * self.main_epochs + 0.5))
        self._peak = min(max(n_up, 1), max(self.main_epochs - 1, 1)) - 1
        self.reset()

    # -- plateau state ----------------------------------------------------------
    def reset(self) -> None:
        """Forget plateau history: back to the base lr, best = +inf, counters 0."""
        self.current_lr = self.base_lr
        self.best = math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    # -- formulas ---------------------------------------------------------------
    def _main(self, t: np.ndarray) -> np.ndarray:
        """The main schedule at its own epoch indices ``t`` >= 0 (int array; plateau:
        the base lr), as float64."""
        eta, kind = self.base_lr, self.kind
        t = np.asarray(t, dtype=np.int64)
        if kind in ("constant", "plateau"):
            return np.full(t.shape, eta)
        if kind == "step":
            return eta * self.gamma ** (t // self.step_size)
        if kind == "multistep":
            return eta * self.gamma ** np.searchsorted(np.asarray(self.milestones, np.int64), t, side="right")
        if kind == "exponential":
            return eta * self.gamma ** t.astype(np.float64)
        if kind == "linear":
            E = self.main_epochs
            return eta * (1.0 - (1.0 - self.end_factor) * np.minimum(t, E) / E)
        if kind == "inverse_scaling":
            return eta / (t + 1.0) ** self.power
        if kind == "cosine":
            t_cur, T_i = self._cosine_position(t)
            return self.min_lr + (eta - self.min_lr) * (1.0 + np.cos(np.pi * t_cur / T_i)) / 2.0
        if kind == "one_cycle":
            lo = eta / self.div_factor
            end = lo / self.final_div_factor
            p, last = self._peak, self.main_epochs - 1
            up = np.full(t.shape, eta) if p == 0 else lo + (eta - lo) * t / p
            span = max(last - p, 1)
            down = end + (eta - end) * (1.0 + np.cos(np.pi * (t - p) / span)) / 2.0
            return np.where(t <= p, up, np.where(t >= last, end, down))
        raise ValueError(f"kind: must be one of {', '.join(SCHEDULES)}, got {kind!r}")

    def _cycle_starts(self, t_max: int) -> np.ndarray:
        """Main-schedule epochs at which cosine cycles begin (0 first), up to ``t_max``."""
        starts, start, T = [0], 0, self._cycle0
        while start + T <= t_max:
            start += T
            T *= self.t_mult
            starts.append(start)
        return np.asarray(starts, np.int64)

    def _cosine_position(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(t_cur, T_i): epochs into the current cosine cycle and that cycle's length."""
        T = self._cycle0
        if not self.warm_restarts:
            return np.minimum(t, T), np.full(t.shape, T)
        if self.t_mult == 1:
            return t % T, np.full(t.shape, T)
        starts = self._cycle_starts(int(t.max()) if t.size else 0)
        i = np.searchsorted(starts, t, side="right") - 1
        return t - starts[i], T * self.t_mult ** i

    def lr_for_epoch(self, e: int) -> float:
        """The learning rate for 0-based epoch ``e`` (plateau: the current value)."""
        if e < 0:
            raise ValueError(f"epoch: must be >= 0, got {e}")
        W = self.warmup_epochs
        if e < W:
            f = self.warmup_start_factor
            return float(self._main(np.zeros(1))[0]) * (f + (1.0 - f) * e / W)
        if self.kind == "plateau":
            return self.current_lr
        return float(self._main(np.array([e - W]))[0])

    def observe(self, e: int, value: float) -> Optional[tuple[str, float, float]]:
        """Feed the monitored loss after 0-based epoch ``e`` (plateau only).

        Returns ``("plateau", old_lr, new_lr)`` when the lr drops; the new lr holds
        from epoch e + 1 on.  Other kinds, and warm-up epochs, return None.
        """
        if self.kind != "plateau" or e < self.warmup_epochs:
            return None
        value = float(value)
        if value < self.best * (1.0 - self.threshold):  # False for NaN
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self.num_bad_epochs = 0
            self.cooldown_counter = self.cooldown
            old = self.current_lr
            new = max(old * self.factor, self.min_lr)
            if old - new > _PLATEAU_EPS:
                self.current_lr = new
                return ("plateau", old, new)
        return None

    def restart_epochs(self, total: int) -> list[int]:
        """0-based epochs (< ``total``) at which a cosine warm restart begins (the lr
        jumps back to eta); the start of the first cycle is not a restart."""
        if self.kind != "cosine" or not self.warm_restarts:
            return []
        out = []
        e, T = self.warmup_epochs + self._cycle0, self._cycle0
        while e < total:
            out.append(e)
            T *= self.t_mult
            e += T
        return out

    def preview(self, total_epochs: Optional[int] = None) -> np.ndarray:
        """The lr of every epoch 0 .. total_epochs-1 (float64); plateau: the base line
        (warm-up, then the base lr), since its drops depend on the losses."""
        n = max(self.total_epochs if total_epochs is None else int(total_epochs), 0)
        W = self.warmup_epochs
        e = np.arange(n, dtype=np.int64)
        out = self._main(np.maximum(e - W, 0)).astype(np.float64)
        if W > 0:
            f = self.warmup_start_factor
            first = float(self._main(np.zeros(1))[0])
            warm = e < W
            out[warm] = first * (f + (1.0 - f) * e[warm] / W)
        return out

    def __repr__(self) -> str:
        return f"<Schedule {self.kind} base_lr={self.base_lr:g} total_epochs={self.total_epochs}>"


def make_schedule(kind: str, base_lr: float, total_epochs: int, **kwargs) -> Schedule:
    """Build a :class:`Schedule`.  ``kwargs`` are ``ScheduleSpec`` field names
    (see :data:`DEFAULTS`); fields the kind does not use are ignored, any other
    name raises ``TypeError``.  Bad values raise ``ValueError`` naming the field."""
    if kind not in SCHEDULES:
        raise ValueError(f"kind: must be one of {', '.join(SCHEDULES)}, got {kind!r}")
    unknown = sorted(set(kwargs) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"make_schedule: unknown schedule field {unknown[0]!r}")
    p = {**DEFAULTS, **kwargs}
    base_lr = _num("base_lr", base_lr, lambda x: x > 0.0, "> 0")
    total_epochs = _int("total_epochs", total_epochs, 1)
    clean = {name: setting.check(p[name]) for name, setting in SETTINGS.items()}
    return Schedule(kind, base_lr, total_epochs, **clean)
