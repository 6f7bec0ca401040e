"""Update rules over the single flat parameter vector.

Notation of the lecture notes (seed 000 section 4, seed 003): ``w`` the
parameters, ``g_t`` the gradient at step ``t`` (1-based), ``eta`` the learning
rate *of this step* (the schedule may change it between steps), ``beta`` the
momentum, ``gamma``/``rho`` the decay of a squared-gradient average, ``eps``
the small constant -- which the notes put **inside** the square root,
``eta / sqrt(s_t + eps)``, and so do we.

================  =============================================================
``sgd``           w_t = w_{t-1} - eta g_t
``momentum``      velocity form (seed 000 eq. 1-2): v_t = beta v_{t-1} + eta g_t,
                  w_t = w_{t-1} - v_t;  accumulator form (seed 003 Alg. 1):
                  M_t = beta M_{t-1} + g_t,  w_t = w_{t-1} - eta M_t.
``nesterov``      Sutskever form as PyTorch implements it: accumulator
                  M_t = beta M_{t-1} + g_t,  w_t = w_{t-1} - eta (g_t + beta M_t);
                  velocity form v_t = beta v_{t-1} + eta g_t,
                  w_t = w_{t-1} - (eta g_t + beta v_t).
``adagrad``       s_t = s_{t-1} + g_t (.) g_t,  w_t = w_{t-1} - eta / sqrt(s_t + eps) (.) g_t
``rmsprop``       s_t = gamma s_{t-1} + (1-gamma) g_t (.) g_t (gamma = ``rho``),
                  w_t = w_{t-1} - eta / sqrt(s_t + eps) (.) g_t
``adadelta``      (Zeiler 2012, as PyTorch) E[g^2]_t = rho E[g^2]_{t-1} + (1-rho) g_t^2,
                  dx_t = -sqrt(E[dx^2]_{t-1} + eps) / sqrt(E[g^2]_t + eps) (.) g_t,
                  E[dx^2]_t = rho E[dx^2]_{t-1} + (1-rho) dx_t^2,  w_t = w_{t-1} + eta dx_t.
                  ``eta`` is a multiplier: eta = 1 is Zeiler's original rule.
``adam``          v_t = beta1 v_{t-1} + (1-beta1) g_t,  s_t = beta2 s_{t-1} + (1-beta2) g_t (.) g_t;
                  ``bias_correction=False`` (seed 000 eq. 6): w_t = w_{t-1} - eta / sqrt(s_t + eps) (.) v_t;
                  ``bias_correction=True``  (eq. 7): s^_t = s_t / (1-beta2^t), v^_t = v_t / (1-beta1^t),
                  w_t = w_{t-1} - eta / sqrt(s^_t + eps) (.) v^_t.
``nadam``         NAdam (Dozat 2016, as PyTorch's ``NAdam``): Adam with Nesterov momentum and
                  momentum decay psi: mu_t = beta1 (1 - 0.96^(t psi) / 2), P_t = prod_{i<=t} mu_i,
                  v^_t = mu_{t+1} v_t / (1 - P_{t+1}) + (1 - mu_t) g_t / (1 - P_t),  s^_t = s_t/(1-beta2^t),
                  w_t = w_{t-1} - eta / sqrt(s^_t + eps) (.) v^_t   (eps inside the root, as Adam here;
                  PyTorch adds it outside: the two agree to O(eps)).
``adamw``         Adam plus decoupled weight decay (seed 003, Loshchilov & Hutter):
                  W_t = W_{t-1} - eta (adam_step_t + lambda W_{t-1}), where adam_step is the
                  eq. 6/7 step above.  (Seed 003 writes the Adam step with eps inside the
                  *uncorrected* root, sqrt(1-beta2^t)/(1-beta1^t) m_t / sqrt(v_t + eps); we keep
                  eq. 7's eps inside the corrected root so that ``adamw`` with lambda = 0 is
                  exactly ``adam``.)
================  =============================================================

The two momentum forms agree while eta is constant (then v_t = eta M_t) and differ
as soon as eta changes: the velocity keeps the old step sizes (v carries eta of past
steps), the accumulator rescales the whole accumulated direction by the new eta.

Decoupled weight decay ``weight_decay`` = lambda works with **every** kind (SGDW for
``sgd``, AdamW for ``adam``): before the update, w <- w - eta lambda w_{t-1} on the
entries where ``decay_mask`` is True (all entries when it is None).  It never enters
the gradient or the moment estimates; ``adamw`` is ``adam`` with this switched on by
name only -- both honour ``weight_decay`` the same way.

Implementation notes (speed).  ``step`` updates the parameters in place with
preallocated buffers and ``out=`` ufuncs; no array is allocated per step.  The
constant factors are folded into scalars, which is algebraically exact:

* RMSProp, Adadelta and Adam keep their averages *unnormalised*:
  ``s' = s / (1-gamma)`` obeys s'_t = gamma s'_{t-1} + g^2 (one pass fewer), and
  ``v' = v / (1-beta1)`` obeys v'_t = beta1 v'_{t-1} + g.
* Adam, eq. 7:  v^/sqrt(s^ + eps) = (1-beta1)/c1 * sqrt(c2/(1-beta2)) * v' / sqrt(s' + eps c2/(1-beta2))
  with c1 = 1-beta1^t, c2 = 1-beta2^t, so the step is 10 elementwise passes
  (naive NumPy: ~14 passes plus five temporaries); eq. 6 is the same with c1 = c2 = 1.
* Vectors longer than 2^18 entries are processed in chunks of 2^18 so that the
  several passes hit cache (1.45x faster at 8M parameters); shorter vectors are
  one chunk (smaller chunks were slower at 235K: per-call overhead).  Splitting
  the chunks over two threads was measured and did not pay off (GIL hand-offs
  between the short ufunc calls).

Adam.step on 235,146 float32 parameters: about 0.34-0.37 ms on an idle core here,
half of it the sqrt and the divide (a naive NumPy version with temporaries: ~3.6 ms).
``python -m workbench.engine.optimizers`` prints the timing.  ``state`` returns the quantities in the notes' notation
(v, s, M, E[g^2], ...) as float64 copies; ``buffers`` holds the raw (scaled) arrays.

Subnormal trap.  With float32, a moment whose gradient is exactly zero decays as
beta^t and after some hundreds of steps becomes *subnormal*; arithmetic on
subnormals is ~5x slower on x86.  Every few dozen steps (before any value that was
>= 1e-30 can have decayed below the smallest normal number), entries of the
state buffers -- and of the parameters when ``weight_decay`` > 0 -- with
|x| < 1e-30 are set to 0.  Such an entry moves a weight by at most
eta * 1e-30 / sqrt(eps') (eps' >= eps), i.e. < 1e-26 eta for eps = 1e-8: below
half an ulp of any float32 weight with |w| > ~1e-19, so normal results are unchanged.
(Gradients that are themselves tiny -- |g| < 1e-30 -- can still put subnormals into
the state between two flushes; the next flush removes them.)
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from .setting import Setting

MOMENTUM_FORMS = ("velocity", "accumulator")

CHUNK = 1 << 18
"""Elements per chunk: vectors longer than this are updated chunk by chunk."""

FLUSH_BELOW = 1e-30
"""State entries (and decayed weights) with magnitude below this are flushed to 0."""

_MAX_FLUSH_INTERVAL = 1024
ROWS_FROM = 1 << 17
"""A lockstep group of members with at least this many parameters each steps them one by one
(GroupOptimizer ``by_rows``) and trains their epochs one after the other
(``lockstep.GroupBackend.run_epoch_by_member``): measured crossover (4 members, Adam,
sequential solo runs / group): 6K parameters 1.47x stacked vs 0.90x by member, 20K 1.24 vs
0.93, 85K 1.03 vs 0.97, 235K 0.94 vs 1.02 (benchmarks/README.md, lockstep)."""
_FEW_RUNS = 4


# ---------------------------------------------------------------------------------------
# The registry: every hyperparameter and every rule described once.  The spec's
# OptimizerSpec fields, the Optimizer dock's rows, labels, tooltips and formulas, and
# the tests read these tables; adding a rule is adding its class below (and, if it has a
# new hyperparameter, one HYPERPARAMETERS entry).


def _unit(name, default, label, doc, step=0.05):
    return Setting(name, default, label, doc, low=0.0, high=1.0, high_open=True, step=step)


HYPERPARAMETERS: dict[str, Setting] = {h.name: h for h in (
    Setting(
        "lr", 0.01, "Learning rate η",
        "Learning rate η > 0: the step size of every update (for Adadelta a multiplier of its own step).\n"
        "Arrows step on a log grid 1, 2, 3, 5 × 10ᵏ; type e.g. 3e-4.  Stays editable during a run\n"
        "(the schedule then scales this base value).",
        scale="log", low=0.0, low_open=True, high=10.0, smallest=1e-6),
    _unit("momentum", 0.9, "Momentum β",
          "Momentum β ∈ [0, 1): how much of the previous step is kept.\n"
          "v_t = β v_{t−1} + η g_t, w_t = w_{t−1} − v_t: an exponentially weighted sum of past gradients."),
    Setting(
        "momentum_form", "velocity", "Form",
        "Two ways to write momentum (lecture notes 000 and 003):\n"
        "velocity:     v_t = β v_{t−1} + η g_t,  w_t = w_{t−1} − v_t\n"
        "accumulator:  M_t = β M_{t−1} + g_t,  W_t = W_{t−1} − η M_t\n"
        "Identical for a constant η; they differ when η changes during training.",
        kind="choice", choices=MOMENTUM_FORMS,
        choice_labels=("velocity  v ← βv + ηg", "accumulator  M ← βM + g")),
    _unit("beta1", 0.9, "β₁",
          "β₁ ∈ [0, 1): decay of the first-moment (momentum) average  v_t = β₁ v_{t−1} + (1 − β₁) g_t.", 0.01),
    _unit("beta2", 0.999, "β₂",
          "β₂ ∈ [0, 1): decay of the second-moment average  s_t = β₂ s_{t−1} + (1 − β₂) g_t ⊙ g_t.", 0.001),
    _unit("rho", 0.9, "Decay γ",
          "γ ∈ [0, 1): decay of the running average of squared gradients,\n"
          "s_t = γ s_{t−1} + (1 − γ) g_t ⊙ g_t (RMSProp, lecture notes 000 eq. 5).", 0.01),
    Setting(
        "eps", 1e-8, "ε",
        "ε > 0 inside the square root √(s_t + ε): keeps the step finite while s_t is still ≈ 0.",
        scale="log", low=0.0, low_open=True, high=1.0, smallest=1e-12),
    Setting(
        "bias_correction", True, "Bias correction",
        "On (eq. 7): divide by (1 − β₁ᵗ) and (1 − β₂ᵗ), so the first steps are not shrunk towards 0\n"
        "(v and s start at 0).  Off (eq. 6): w_t = w_{t−1} − η/√(s_t + ε) ⊙ v_t.",
        kind="bool"),
    Setting(
        "momentum_decay", 0.004, "Momentum decay ψ",
        "ψ ≥ 0: NAdam's momentum schedule μ_t = β₁ (1 − ½ · 0.96^(t ψ)) (Dozat 2016; PyTorch's default 0.004).",
        scale="log", low=0.0, high=1.0, smallest=1e-4),
)}
"""Every hyperparameter of every rule, in the order the dock shows them."""


_REGISTRY: dict[str, type] = {}


class Optimizer:
    """Base class: one update rule over a flat vector of ``n_params`` entries.

    ``step(params, grads, lr)`` performs one update in place; ``reset()`` zeroes
    the state and the step counter ``t``.  Subclasses define the kernel.
    """

    #: the registry entry: name in files, label, the hyperparameters the rule uses (lr first),
    #: labels/tooltips it gives a shared hyperparameter (``relabel``), values to switch to
    #: when the rule is chosen while a value is still the default or refused (``suggested``),
    #: a hint beside the settings (``note``) and a line under the formula (``explanation``)
    kind = ""
    label = ""
    uses: tuple[str, ...] = ("lr",)
    relabel: dict[str, tuple[str, str]] = {}
    suggested: dict[str, Any] = {}
    note = ""
    explanation = ""
    _buffer_names: tuple[str, ...] = ()
    _n_scratch = 1
    #: whether ``_scalars`` depends on the step counter t (or keeps state): a lockstep group
    #: recomputes such numbers every step, others only when the learning rates change
    _scalars_depend_on_t = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _REGISTRY[cls.kind] = cls

    @classmethod
    def formula(cls, **hyper) -> tuple[str, ...]:
        """The update rule in the notes' notation, one equation per line.  Markup (read by
        the window): ``*w*`` a vector (bold), ``_t`` / ``_{t−1}`` subscripts, ``^t`` superscripts."""
        raise NotImplementedError

    @classmethod
    def check(cls, hyper: dict) -> None:
        """Cross-field rules of this kind (ValueError)."""

    def __init__(self, n_params: int, *, weight_decay: float = 0.0, decay_mask=None, dtype=np.float32):
        self.n_params = int(n_params)
        self.dtype = np.dtype(dtype)
        self.weight_decay = float(weight_decay)
        self.decay_mask = None if decay_mask is None else np.array(decay_mask, dtype=bool, copy=True)
        self.t = 0
        n = self.n_params
        self.buffers: dict[str, np.ndarray] = {name: np.zeros(n, self.dtype) for name in self._buffer_names}
        self._bounds = [(a, min(a + CHUNK, n)) for a in range(0, n, CHUNK)]
        width = min(n, CHUNK)
        self._scratch = [np.empty(width, self.dtype) for _ in range(max(self._n_scratch, 1))]
        self._flag = np.empty(width, bool)
        self._chunk_state = [
            [self.buffers[name][a:b] for name in self._buffer_names] for a, b in self._bounds
        ]
        self._chunk_scratch = [[s[: b - a] for s in self._scratch] for a, b in self._bounds]
        self._setup_decay()
        self._view_cache: Optional[tuple] = None
        # subnormal guard
        self._flush_below = FLUSH_BELOW
        tiny = float(np.finfo(self.dtype).tiny)
        self._flush_budget = 0.5 * math.log(FLUSH_BELOW / tiny)
        rates = [-math.log(f) for f in self._decay_factors() if 0.0 < f < 1.0]
        self._state_decay_rate = max(rates) if rates else 0.0
        self._decay_acc = 0.0
        self._since_flush = 0

    # -- decay mask -------------------------------------------------------------
    @property
    def weight_decay(self) -> float:
        """Decoupled weight decay lambda; may change between steps (a live edit), also
        from 0 to a positive value: the decay plan is built for every optimizer."""
        return self._weight_decay

    @weight_decay.setter
    def weight_decay(self, value: float) -> None:
        value = float(value)
        if not (0.0 <= value < math.inf):
            raise ValueError(f"weight_decay: must be >= 0 and finite, got {value:g}")
        self._weight_decay = value

    def _setup_decay(self) -> None:
        """Turn ``decay_mask`` into, per chunk, either a few contiguous runs (weights
        of each layer: one in-place multiply per run) or, when the mask is fragmented,
        a factor vector (three passes), whichever is cheaper.  Built whatever lambda is
        now, so that switching decay on mid-run needs nothing else."""
        self._decay_plan: list = _decay_plan(self.decay_mask, self._bounds)

    def _decay(self, w: np.ndarray, ci: int, factor: float, tmp: np.ndarray) -> None:
        """w <- w - eta lambda w_{t-1} = (1 - eta lambda) w_{t-1} on the masked entries of
        chunk ``ci`` (both paths multiply by the same rounded factor: bitwise equal)."""
        plan = self._decay_plan[ci]
        if isinstance(plan, list):
            for lo, hi in plan:
                part = w[lo:hi]
                np.multiply(part, factor, out=part)
        else:
            tmp.fill(1.0)
            np.copyto(tmp, factor, where=plan)
            np.multiply(w, tmp, out=w)

    # -- the step ---------------------------------------------------------------
    def _views(self, params: np.ndarray, grads: np.ndarray):
        cache = self._view_cache
        if cache is not None and cache[0] is params and cache[1] is grads:
            return cache[2]
        views = [(params[a:b], grads[a:b]) for a, b in self._bounds]
        self._view_cache = (params, grads, views)
        return views

    def _check_arrays(self, params: np.ndarray, grads: np.ndarray) -> None:
        for name, arr in (("params", params), ("grads", grads)):
            if not isinstance(arr, np.ndarray) or arr.shape != (self.n_params,) or arr.dtype != self.dtype:
                shape = getattr(arr, "shape", None)
                dt = getattr(arr, "dtype", type(arr).__name__)
                raise ValueError(
                    f"{name}: must be a flat {self.dtype} array of shape ({self.n_params},), got shape {shape} dtype {dt}"
                )

    def step(self, params: np.ndarray, grads: np.ndarray, lr: float) -> None:
        """One update of ``params`` (in place) from ``grads`` with learning rate ``lr``."""
        lr = float(lr)
        if not (0.0 <= lr < math.inf):
            raise ValueError(f"lr: must be a finite number >= 0, got {lr!r}")
        try:
            ok = (
                params.dtype == self.dtype
                and grads.dtype == self.dtype
                and params.shape == (self.n_params,)
                and grads.shape == (self.n_params,)
            )
        except AttributeError:
            ok = False
        if not ok:
            self._check_arrays(params, grads)
        views = self._views(params, grads)
        self.t += 1
        scalars = self._scalars(lr)
        wd = self.weight_decay
        decay = wd > 0.0 and lr > 0.0
        eta_lambda = lr * wd
        factor = 1.0 - eta_lambda
        for ci, (w, g) in enumerate(views):
            scratch = self._chunk_scratch[ci]
            if decay:
                self._decay(w, ci, factor, scratch[0])
            self._kernel(w, g, self._chunk_state[ci], scratch, scalars)
        # subnormal guard: flush before anything >= FLUSH_BELOW can decay below tiny
        rate = self._state_decay_rate
        if decay:
            rate = max(rate, -math.log(factor)) if factor > 0.0 else math.inf
        self._decay_acc += rate
        self._since_flush += 1
        if self._decay_acc + rate > self._flush_budget or self._since_flush >= _MAX_FLUSH_INTERVAL:
            self._flush(params if decay else None)

    def _flush(self, params: Optional[np.ndarray]) -> None:
        self._decay_acc = 0.0
        self._since_flush = 0
        limit = self._flush_below
        if limit <= 0.0:
            return
        targets = [[b for b in self._chunk_state[ci]] for ci in range(len(self._bounds))]
        if params is not None:
            for ci, (a, b) in enumerate(self._bounds):
                targets[ci].append(params[a:b])
        for ci, (a, b) in enumerate(self._bounds):
            tmp = self._chunk_scratch[ci][0]
            flag = self._flag[: b - a]
            for x in targets[ci]:
                np.abs(x, out=tmp)
                np.less(tmp, limit, out=flag)
                np.copyto(x, 0, where=flag)

    def reset(self) -> None:
        """Zero the state (moments, accumulators) and the step counter."""
        for buf in self.buffers.values():
            buf.fill(0)
        self.t = 0
        self._decay_acc = 0.0
        self._since_flush = 0

    # -- per-kind ---------------------------------------------------------------
    def _decay_factors(self) -> tuple[float, ...]:
        """Per-step multipliers of the state buffers (for the subnormal guard)."""
        return ()

    def _scalars(self, lr: float):
        return lr

    def _kernel(self, w, g, state, scratch, scalars) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def state(self) -> dict[str, np.ndarray]:
        """The state in the notes' notation, as float64 copies."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} kind={self.kind!r} n_params={self.n_params} t={self.t}>"


class SGD(Optimizer):
    """w_t = w_{t-1} - eta g_t  (2 passes)."""

    _scalars_depend_on_t = False
    kind = "sgd"
    label = "SGD"

    @classmethod
    def formula(cls, **hyper):
        return ("*w*_t = *w*_{t−1} − η g_t",)

    def _kernel(self, w, g, state, scratch, eta):
        tmp = scratch[0]
        np.multiply(g, eta, out=tmp)
        np.subtract(w, tmp, out=w)


class Momentum(Optimizer):
    """Heavy-ball momentum.

    ``velocity`` (seed 000 eq. 1-2): v_t = beta v_{t-1} + eta g_t,  w_t = w_{t-1} - v_t.
    ``accumulator`` (seed 003 Alg. 1): M_t = beta M_{t-1} + g_t,  w_t = w_{t-1} - eta M_t.
    Identical at constant eta (v = eta M); after eta changes the velocity still carries
    the old step sizes while the accumulator applies the new eta to all of M.
    """

    _scalars_depend_on_t = False
    kind = "momentum"
    label = "Momentum"
    uses = ("lr", "momentum", "momentum_form")

    @classmethod
    def formula(cls, momentum_form="velocity", **hyper):
        if momentum_form == "accumulator":
            return ("*M*_t = β *M*_{t−1} + g_t", "*w*_t = *w*_{t−1} − η *M*_t")
        return ("*v*_t = β *v*_{t−1} + η g_t", "*w*_t = *w*_{t−1} − *v*_t")

    def __init__(self, n_params, *, momentum=0.9, momentum_form="velocity", **kw):
        self.momentum = momentum
        self.momentum_form = momentum_form
        self._buffer_names = ("v",) if momentum_form == "velocity" else ("M",)
        super().__init__(n_params, **kw)

    def _decay_factors(self):
        return (self.momentum,)

    def _scalars(self, lr):
        return lr, self.momentum

    def _kernel(self, w, g, state, scratch, scalars):
        eta, beta = scalars
        buf, tmp = state[0], scratch[0]
        np.multiply(buf, beta, out=buf)
        if self.momentum_form == "velocity":
            np.multiply(g, eta, out=tmp)
            np.add(buf, tmp, out=buf)
            np.subtract(w, buf, out=w)
        else:
            np.add(buf, g, out=buf)
            np.multiply(buf, eta, out=tmp)
            np.subtract(w, tmp, out=w)

    @property
    def state(self):
        name = self._buffer_names[0]
        return {name: self.buffers[name].astype(np.float64)}


class Nesterov(Momentum):
    """Nesterov momentum in the Sutskever et al. (2013) form that PyTorch's SGD uses.

    ``accumulator``: M_t = beta M_{t-1} + g_t,  w_t = w_{t-1} - eta (g_t + beta M_t).
    ``velocity``:    v_t = beta v_{t-1} + eta g_t,  w_t = w_{t-1} - (eta g_t + beta v_t).
    The gradient is taken at w_{t-1} (no look-ahead evaluation is needed); the two
    forms agree at constant eta.  Requires beta > 0.
    """

    kind = "nesterov"
    label = "Nesterov"
    uses = ("lr", "momentum", "momentum_form")
    suggested = {"momentum": 0.9}  # Nesterov refuses beta = 0
    explanation = ("Nesterov's look-ahead, v_t = β v_{t−1} + η ∇L(w_{t−1} − β v_{t−1}), written for the "
                   "look-ahead point w̃ = w − β v (Sutskever et al. 2013, as PyTorch): the same method, "
                   "with the gradient g_t taken at the stored weights — no second gradient evaluation.")

    @classmethod
    def formula(cls, momentum_form="velocity", **hyper):
        if momentum_form == "accumulator":
            return ("*M*_t = β *M*_{t−1} + g_t", "*w*_t = *w*_{t−1} − η (g_t + β *M*_t)")
        return ("*v*_t = β *v*_{t−1} + η g_t", "*w*_t = *w*_{t−1} − (η g_t + β *v*_t)")

    @classmethod
    def check(cls, hyper):
        if float(hyper.get("momentum", 0.9)) == 0.0:
            raise ValueError(f"nesterov requires momentum > 0, got momentum {hyper['momentum']:g}")

    def _scalars(self, lr):
        return lr, self.momentum, lr * self.momentum

    def _kernel(self, w, g, state, scratch, scalars):
        eta, beta, eta_beta = scalars
        buf, tmp = state[0], scratch[0]
        np.multiply(buf, beta, out=buf)
        if self.momentum_form == "velocity":
            np.multiply(g, eta, out=tmp)  # eta g
            np.add(buf, tmp, out=buf)  # v_t
            np.subtract(w, tmp, out=w)
            np.multiply(buf, beta, out=tmp)  # beta v_t
        else:
            np.add(buf, g, out=buf)  # M_t
            np.multiply(g, eta, out=tmp)
            np.subtract(w, tmp, out=w)
            np.multiply(buf, eta_beta, out=tmp)  # eta beta M_t
        np.subtract(w, tmp, out=w)


class Adagrad(Optimizer):
    """s_t = s_{t-1} + g_t (.) g_t,  w_t = w_{t-1} - eta / sqrt(s_t + eps) (.) g_t  (7 passes)."""

    _scalars_depend_on_t = False
    kind = "adagrad"
    label = "Adagrad"
    uses = ("lr", "eps")
    _buffer_names = ("s",)

    @classmethod
    def formula(cls, **hyper):
        return ("*s*_t = *s*_{t−1} + g_t ⊙ g_t", "*w*_t = *w*_{t−1} − η / √(*s*_t + ε) ⊙ g_t")

    def __init__(self, n_params, *, eps=1e-8, **kw):
        self.eps = eps
        super().__init__(n_params, **kw)

    def _scalars(self, lr):
        return lr, self.eps

    def _kernel(self, w, g, state, scratch, scalars):
        eta, eps = scalars
        s, tmp = state[0], scratch[0]
        np.multiply(g, g, out=tmp)
        np.add(s, tmp, out=s)
        np.add(s, eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        np.multiply(tmp, eta, out=tmp)
        np.subtract(w, tmp, out=w)

    @property
    def state(self):
        return {"s": self.buffers["s"].astype(np.float64)}


class RMSProp(Optimizer):
    """s_t = gamma s_{t-1} + (1-gamma) g_t (.) g_t,  w_t = w_{t-1} - eta / sqrt(s_t + eps) (.) g_t,
    gamma = ``rho``.

    Stored as s' = s/(1-gamma): s'_t = gamma s'_{t-1} + g_t^2 and
    eta/sqrt(s_t+eps) = eta/sqrt(1-gamma) / sqrt(s'_t + eps/(1-gamma))  (8 passes).
    """

    _scalars_depend_on_t = False
    kind = "rmsprop"
    label = "RMSProp"
    uses = ("lr", "rho", "eps")
    _buffer_names = ("s",)

    @classmethod
    def formula(cls, **hyper):
        return ("*s*_t = γ *s*_{t−1} + (1 − γ) g_t ⊙ g_t", "*w*_t = *w*_{t−1} − η / √(*s*_t + ε) ⊙ g_t")

    def __init__(self, n_params, *, rho=0.9, eps=1e-8, **kw):
        self.rho = rho
        self.eps = eps
        super().__init__(n_params, **kw)

    def _decay_factors(self):
        return (self.rho,)

    def _scalars(self, lr):
        one_minus = 1.0 - self.rho
        return lr / math.sqrt(one_minus), self.eps / one_minus, self.rho

    def _kernel(self, w, g, state, scratch, scalars):
        step, eps_s, rho = scalars
        s, tmp = state[0], scratch[0]
        np.multiply(g, g, out=tmp)
        np.multiply(s, rho, out=s)
        np.add(s, tmp, out=s)
        np.add(s, eps_s, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        np.multiply(tmp, step, out=tmp)
        np.subtract(w, tmp, out=w)

    @property
    def state(self):
        return {"s": (1.0 - self.rho) * self.buffers["s"].astype(np.float64)}


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012) with PyTorch's learning-rate multiplier:

    E[g^2]_t  = rho E[g^2]_{t-1} + (1-rho) g_t^2
    dx_t      = -sqrt(E[dx^2]_{t-1} + eps) / sqrt(E[g^2]_t + eps) (.) g_t
    E[dx^2]_t = rho E[dx^2]_{t-1} + (1-rho) dx_t^2      (dx before scaling by eta)
    w_t       = w_{t-1} + eta dx_t                     (eta = 1: Zeiler's original)

    Both averages are stored divided by (1-rho); the (1-rho) factors cancel in the
    ratio, so dx_t = -sqrt((E'[dx^2] + eps')/(E'[g^2] + eps')) g_t with eps' = eps/(1-rho).
    """

    _scalars_depend_on_t = False
    kind = "adadelta"
    label = "Adadelta"
    uses = ("lr", "rho", "eps")
    relabel = {"rho": ("Decay ρ", "ρ ∈ [0, 1): decay of both running averages of Adadelta,\n"
                                  "s_t = ρ s_{t−1} + (1 − ρ) g_t ⊙ g_t and u_t = ρ u_{t−1} + (1 − ρ) Δw_t ⊙ Δw_t.")}
    #: Adadelta's own step has unit scale; eta only multiplies it (eta = 1: Zeiler's rule)
    suggested = {"lr": 1.0, "rho": 0.9, "eps": 1e-6}
    _buffer_names = ("Eg2", "Edx2")
    _n_scratch = 2

    @classmethod
    def formula(cls, **hyper):
        return (
            "*s*_t = ρ *s*_{t−1} + (1 − ρ) g_t ⊙ g_t",
            "Δ*w*_t = − √(*u*_{t−1} + ε) / √(*s*_t + ε) ⊙ g_t",
            "*u*_t = ρ *u*_{t−1} + (1 − ρ) Δ*w*_t ⊙ Δ*w*_t",
            "*w*_t = *w*_{t−1} + η Δ*w*_t",
        )

    def __init__(self, n_params, *, rho=0.9, eps=1e-6, **kw):
        self.rho = rho
        self.eps = eps
        super().__init__(n_params, **kw)

    def _decay_factors(self):
        return (self.rho,)

    def _scalars(self, lr):
        return lr, self.rho, self.eps / (1.0 - self.rho)

    def _kernel(self, w, g, state, scratch, scalars):
        eta, rho, eps_s = scalars
        a, b = state
        tmp, tmp2 = scratch
        np.multiply(g, g, out=tmp)
        np.multiply(a, rho, out=a)
        np.add(a, tmp, out=a)  # E'[g^2]_t
        np.add(a, eps_s, out=tmp)
        np.add(b, eps_s, out=tmp2)
        np.divide(tmp2, tmp, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.multiply(tmp, g, out=tmp)  # -dx_t
        np.multiply(b, rho, out=b)
        np.multiply(tmp, tmp, out=tmp2)
        np.add(b, tmp2, out=b)  # E'[dx^2]_t
        np.multiply(tmp, eta, out=tmp)
        np.subtract(w, tmp, out=w)

    @property
    def state(self):
        k = 1.0 - self.rho
        return {
            "Eg2": k * self.buffers["Eg2"].astype(np.float64),
            "Edx2": k * self.buffers["Edx2"].astype(np.float64),
        }


class Adam(Optimizer):
    """Adam, seed 000 section 4.4:

    v_t = beta1 v_{t-1} + (1-beta1) g_t,   s_t = beta2 s_{t-1} + (1-beta2) g_t (.) g_t
    eq. 6 (``bias_correction=False``): w_t = w_{t-1} - eta / sqrt(s_t + eps) (.) v_t
    eq. 7 (``bias_correction=True``):  w_t = w_{t-1} - eta / sqrt(s^_t + eps) (.) v^_t,
                                      s^_t = s_t/(1-beta2^t),  v^_t = v_t/(1-beta1^t)

    Stored as v' = v/(1-beta1), s' = s/(1-beta2); with c1 = 1-beta1^t, c2 = 1-beta2^t
    (c1 = c2 = 1 for eq. 6) the step is exactly
    w -= [eta (1-beta1)/c1 sqrt(c2/(1-beta2))] v' / sqrt(s' + eps c2/(1-beta2))   (10 passes).
    """

    kind = "adam"
    label = "Adam"
    uses = ("lr", "beta1", "beta2", "eps", "bias_correction")
    _buffer_names = ("v", "s")

    @classmethod
    def _moments(cls, bias_correction=True):
        lines = ["*v*_t = β₁ *v*_{t−1} + (1 − β₁) g_t", "*s*_t = β₂ *s*_{t−1} + (1 − β₂) g_t ⊙ g_t"]
        if bias_correction:
            lines.append("*v̂*_t = *v*_t / (1 − β₁^t),  *ŝ*_t = *s*_t / (1 − β₂^t)")
            return lines, "*v̂*_t", "*ŝ*_t", "(eq. 7)"
        return lines, "*v*_t", "*s*_t", "(eq. 6, no bias correction)"

    @classmethod
    def formula(cls, bias_correction=True, **hyper):
        lines, v, s, eq = cls._moments(bias_correction)
        return (*lines, f"*w*_t = *w*_{{t−1}} − η / √({s} + ε) ⊙ {v}   {eq}")

    def __init__(self, n_params, *, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True, **kw):
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.bias_correction = bool(bias_correction)
        super().__init__(n_params, **kw)

    def _decay_factors(self):
        return (self.beta1, self.beta2)

    def _scalars(self, lr):
        b1, b2, t = self.beta1, self.beta2, self.t
        if self.bias_correction:
            c1 = 1.0 - b1**t
            c2 = 1.0 - b2**t
        else:
            c1 = c2 = 1.0
        k2 = c2 / (1.0 - b2)
        return lr * (1.0 - b1) / c1 * math.sqrt(k2), self.eps * k2, b1, b2

    def _kernel(self, w, g, state, scratch, scalars):
        step, eps_s, b1, b2 = scalars
        v, s = state
        tmp = scratch[0]
        np.multiply(v, b1, out=v)
        np.add(v, g, out=v)
        np.multiply(g, g, out=tmp)
        np.multiply(s, b2, out=s)
        np.add(s, tmp, out=s)
        np.add(s, eps_s, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(v, tmp, out=tmp)
        np.multiply(tmp, step, out=tmp)
        np.subtract(w, tmp, out=w)

    @property
    def state(self):
        return {
            "v": (1.0 - self.beta1) * self.buffers["v"].astype(np.float64),
            "s": (1.0 - self.beta2) * self.buffers["s"].astype(np.float64),
        }


class AdamW(Adam):
    """AdamW (seed 003): W_t = W_{t-1} - eta (adam_step_t + lambda W_{t-1}),
    lambda = ``weight_decay`` on the ``decay_mask`` entries; adam_step is eq. 7 (or eq. 6)."""

    kind = "adamw"
    label = "AdamW"
    note = "The decoupled weight decay λ of AdamW is set in the Regularization dock (“Weight decay λ”)."

    @classmethod
    def formula(cls, bias_correction=True, **hyper):
        lines, v, s, _ = cls._moments(bias_correction)
        return (*lines, f"*w*_t = *w*_{{t−1}} − η ( {v} / √({s} + ε) + λ *w*_{{t−1}} )")


class NAdam(Optimizer):
    """NAdam (Dozat 2016), as PyTorch's ``torch.optim.NAdam`` (momentum decay included):

    mu_t = beta1 (1 - 0.96^(t psi) / 2),   P_t = prod_{i=1..t} mu_i
    v_t  = beta1 v_{t-1} + (1-beta1) g_t,  s_t = beta2 s_{t-1} + (1-beta2) g_t (.) g_t
    v^_t = mu_{t+1} v_t / (1 - P_{t+1}) + (1 - mu_t) g_t / (1 - P_t),   s^_t = s_t / (1 - beta2^t)
    w_t  = w_{t-1} - eta / sqrt(s^_t + eps) (.) v^_t

    eps sits inside the root as everywhere here (PyTorch: sqrt(s^_t) + eps; the two agree to
    O(eps)).  Stored as v' = v/(1-beta1), s' = s/(1-beta2); with k = (1-beta2)/(1-beta2^t):
    w -= [c_g g + c_v v'] / sqrt(s' + eps/k),  c_g = eta (1-mu_t)/(1-P_t)/sqrt(k),
    c_v = eta mu_{t+1} (1-beta1)/(1-P_{t+1})/sqrt(k)   (12 passes).
    """

    kind = "nadam"
    label = "NAdam"
    uses = ("lr", "beta1", "beta2", "eps", "momentum_decay")
    _buffer_names = ("v", "s")
    _n_scratch = 2

    def __init__(self, n_params, *, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=0.004, **kw):
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.momentum_decay = momentum_decay
        self.mu_product = 1.0
        super().__init__(n_params, **kw)

    @classmethod
    def formula(cls, **hyper):
        return (
            "μ_t = β₁ (1 − ½ · 0.96^{t ψ}),  Π_t = μ_1 ⋯ μ_t",
            "*v*_t = β₁ *v*_{t−1} + (1 − β₁) g_t,  *s*_t = β₂ *s*_{t−1} + (1 − β₂) g_t ⊙ g_t",
            "*v̂*_t = μ_{t+1} *v*_t / (1 − Π_{t+1}) + (1 − μ_t) g_t / (1 − Π_t),  *ŝ*_t = *s*_t / (1 − β₂^t)",
            "*w*_t = *w*_{t−1} − η / √(*ŝ*_t + ε) ⊙ *v̂*_t",
        )

    def _mu(self, t: int) -> float:
        return self.beta1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def _decay_factors(self):
        return (self.beta1, self.beta2)

    def reset(self) -> None:
        super().reset()
        self.mu_product = 1.0

    def _scalars(self, lr):
        t, b1, b2 = self.t, self.beta1, self.beta2
        mu, mu_next = self._mu(t), self._mu(t + 1)
        self.mu_product *= mu
        k = (1.0 - b2) / (1.0 - b2**t)
        root_k = math.sqrt(k)
        c_g = lr * (1.0 - mu) / (1.0 - self.mu_product) / root_k
        c_v = lr * mu_next * (1.0 - b1) / (1.0 - self.mu_product * mu_next) / root_k
        return c_g, c_v, self.eps / k, b1, b2

    def _kernel(self, w, g, state, scratch, scalars):
        c_g, c_v, eps_s, b1, b2 = scalars
        v, s = state
        tmp, tmp2 = scratch
        np.multiply(v, b1, out=v)
        np.add(v, g, out=v)  # v'_t
        np.multiply(g, g, out=tmp)
        np.multiply(s, b2, out=s)
        np.add(s, tmp, out=s)  # s'_t
        np.add(s, eps_s, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.multiply(g, c_g, out=tmp2)
        np.divide(tmp2, tmp, out=tmp2)
        np.divide(v, tmp, out=tmp)
        np.multiply(tmp, c_v, out=tmp)
        np.add(tmp, tmp2, out=tmp)
        np.subtract(w, tmp, out=w)

    @property
    def state(self):
        return {
            "v": (1.0 - self.beta1) * self.buffers["v"].astype(np.float64),
            "s": (1.0 - self.beta2) * self.buffers["s"].astype(np.float64),
        }


OPTIMIZERS: tuple[str, ...] = tuple(_REGISTRY)
"""Every rule's name, in the order the window lists them."""


def optimizer_class(kind: str) -> type:
    """The registered class of rule ``kind`` (ValueError naming the known kinds)."""
    try:
        return _REGISTRY[kind]
    except (KeyError, TypeError):
        raise ValueError(f"kind: must be one of {', '.join(OPTIMIZERS)}, got {kind!r}") from None


def hyperparameter_info(kind: str, name: str) -> tuple[str, str]:
    """(label, tooltip) of hyperparameter ``name`` as rule ``kind`` shows it."""
    cls = optimizer_class(kind)
    h = HYPERPARAMETERS[name]
    return cls.relabel.get(name, (h.label, h.doc))


def _decay_plan(mask: Optional[np.ndarray], bounds: list) -> list:
    """Per chunk ``[a, b)`` of ``bounds``: the runs ``(lo, hi)`` (chunk-local) where
    ``mask`` is True, or -- when the mask is too fragmented for one multiply per run --
    the chunk's slice of the mask itself.  None: every entry, one run per chunk."""
    if mask is None:
        return [[(0, b - a)] for a, b in bounds]
    plan: list = []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    starts, ends = edges[0::2].tolist(), edges[1::2].tolist()
    for a, b in bounds:
        local = [(max(s, a) - a, min(e, b) - a) for s, e in zip(starts, ends) if max(s, a) < min(e, b)]
        # one ufunc call costs about as much as ~8K elements of a pass
        if len(local) <= max(_FEW_RUNS, (b - a) // 8192):
            plan.append(local)
        else:
            plan.append(mask[a:b])
    return plan


def _validated(kind: str, n_params, weight_decay, decay_mask, dtype, hyper: dict):
    """The checks of :func:`make_optimizer`: ``(cls, n_params, own hyperparameters,
    weight_decay, decay_mask, dtype)`` or the error naming the first bad argument."""
    cls = optimizer_class(kind)
    if isinstance(n_params, bool) or not isinstance(n_params, (int, np.integer)) or n_params < 0:
        raise ValueError(f"n_params: must be an integer >= 0, got {n_params!r}")
    unknown = sorted(set(hyper) - set(HYPERPARAMETERS) | ({"lr"} & set(hyper)))
    if unknown:
        raise TypeError(f"make_optimizer: unknown hyperparameter {unknown[0]!r}")
    values = {name: h.check(hyper.get(name, h.default)) for name, h in HYPERPARAMETERS.items() if name != "lr"}
    weight_decay = float(weight_decay)
    if not (0.0 <= weight_decay < math.inf):
        raise ValueError(f"weight_decay: must be >= 0 and finite, got {weight_decay:g}")
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype: must be float32 or float64, got {dt}")
    if decay_mask is not None:
        arr = np.asarray(decay_mask)
        if arr.dtype != np.bool_ or arr.shape != (int(n_params),):
            raise ValueError(
                f"decay_mask: must be a bool array of shape ({int(n_params)},), got {arr.dtype} of shape {arr.shape}"
            )
        decay_mask = arr
    cls.check(values)
    own = {name: values[name] for name in cls.uses if name != "lr"}
    return cls, int(n_params), own, weight_decay, decay_mask, dt


def make_optimizer(
    kind: str,
    n_params: int,
    *,
    weight_decay: float = 0.0,
    decay_mask=None,
    dtype=np.float32,
    **hyper,
) -> Optimizer:
    """Build the optimizer ``kind`` (one of :data:`OPTIMIZERS`) for ``n_params`` parameters.

    ``hyper`` are :data:`HYPERPARAMETERS` names other than ``lr`` (the rate is given per
    step); each is validated whether or not ``kind`` uses it, so a bad one raises
    ``ValueError`` naming it, e.g. ``momentum: must be in [0, 1), got 1.5``; an unknown
    name raises ``TypeError``.  ``decay_mask`` (bool, shape ``(n_params,)``) selects the
    entries that ``weight_decay`` shrinks; None means all.
    """
    cls, n, own, weight_decay, decay_mask, dt = _validated(kind, n_params, weight_decay, decay_mask, dtype, hyper)
    return cls(n, weight_decay=weight_decay, decay_mask=decay_mask, dtype=dt, **own)


# ---------------------------------------------------------------------------------------
# Lockstep: N members of one rule stepping together (see workbench.engine.lockstep).


def _adopt_buffers(opt: "Optimizer", buffers: dict) -> None:
    """Make ``opt`` keep its state in ``buffers`` (same names and sizes; e.g. views of a
    lockstep group's state vectors) instead of its own."""
    opt.buffers = buffers
    opt._chunk_state = [[buffers[name][a:b] for name in opt._buffer_names] for a, b in opt._bounds]


class GroupOptimizer:
    """``n_members`` optimizers of one rule stepping together over ONE flat member-major
    vector: member m's parameters (and each state vector's entries) are the block
    ``[m P, (m+1) P)`` of ``N P`` entries, in exactly a solo optimizer's layout.
    Learning rate, float hyperparameters (momentum, beta1, beta2, rho, eps,
    momentum_decay) and decoupled weight decay may differ per member; the choices
    (``momentum_form``, ``bias_correction``) must agree.  Each member's update is bitwise
    its solo update, in one of two layouts (``by_rows``):

    *stacked* (``P <`` :data:`ROWS_FROM`: small members, where per-call overhead
    dominates): the rule's own kernel runs once per 2-D ``(N, c)`` column chunk of the
    ``(N, P)`` view for all members.  Every number the kernel uses comes from the rule's
    ``_scalars(lr)``, evaluated per member in Python floats exactly as the solo rule does;
    a number all members share is passed as that Python float (the solo path), one that
    differs as an ``(N, 1)`` array of the parameter dtype holding each member's float
    rounded exactly as the ufunc rounds the solo float.  The step counter ``t`` (bias
    corrections, NAdam's mu schedule) is shared: all members step together; the
    subnormal flush is accounted per member, so it happens at the same steps as solo.

    *by rows* (large members, whose steps are memory-bound): member m is a solo optimizer
    ``solos[m]`` whose state vectors are views of its block; :meth:`step` steps each
    member in turn in the solo chunks (each pass streams through one member's block, as
    cache-friendly as a solo step), :meth:`step_member` one member alone (its own
    counter: a group may step its members one after the other).

    A member stepped with ``lr = 0`` gets no decay; the caller freezes a finished member
    (its rule may still move it, e.g. velocity momentum) by restoring its block, or
    passes it in ``skip``.  ``members[m]`` holds member m's hyperparameters;
    :meth:`to_solo` gives a solo optimizer with its state.
    """

    def __init__(self, kind: str, n_members: int, n_params: int, *, hypers: list, weight_decays: list,
                 decay_mask=None, dtype=np.float32):
        cls = optimizer_class(kind)
        N, P = int(n_members), int(n_params)
        self.kind = kind
        self.n_members, self.n_params = N, P
        self.dtype = np.dtype(dtype)
        self.decay_mask = None if decay_mask is None else np.array(decay_mask, dtype=bool, copy=True)
        self._own = [dict(h) for h in hypers]
        self.by_rows = P >= ROWS_FROM
        size = P if self.by_rows else 0
        self.members: list[Optimizer] = [
            cls(size, weight_decay=wd, decay_mask=self.decay_mask if self.by_rows else None, dtype=self.dtype, **own)
            for own, wd in zip(self._own, weight_decays)
        ]
        first = self.members[0]
        names = first._buffer_names
        # written once now (np.zeros' lazily zeroed pages would fault twice on the first
        # read-modify-write pass of a step: a measurable cost for tens of MB on this VM)
        self.buffers: dict[str, np.ndarray] = {name: np.empty(N * P, self.dtype) for name in names}
        for buf in self.buffers.values():
            buf.fill(0)
        self._view_cache: Optional[tuple] = None
        self._last_plan: Optional[tuple] = None
        if self.by_rows:
            for i, m in enumerate(self.members):
                _adopt_buffers(m, {name: buf[i * P : (i + 1) * P] for name, buf in self.buffers.items()})
                # the members step one after the other: one set of scratch vectors serves all
                m._scratch, m._chunk_scratch, m._flag = first._scratch, first._chunk_scratch, first._flag
            return
        self._t = 0
        self._kernel = first._kernel  # reads only the choices, which all members share
        width = max(1, CHUNK // max(N, 1))
        self._bounds = [(a, min(a + width, P)) for a in range(0, P, width)]
        cols = min(P, width)
        flat = [np.empty(N * cols, self.dtype) for _ in range(max(cls._n_scratch, 1))]
        self._chunk_scratch = [[s[: N * (b - a)].reshape(N, b - a) for s in flat] for a, b in self._bounds]
        self._chunk_state = [[self.buffers[name].reshape(N, P)[:, a:b] for name in names] for a, b in self._bounds]
        self._decay_plan = _decay_plan(self.decay_mask, self._bounds)
        # subnormal guard, one account per member (as its solo run keeps it)
        self._flush_below = FLUSH_BELOW
        self._flush_budget = first._flush_budget
        self._state_rates = [m._state_decay_rate for m in self.members]
        self._decay_acc = [0.0] * N  # while _accounts_shared, entry 0 is every member's
        self._since_flush = [0] * N
        self._accounts_shared = True
        self._tmp = np.empty(min(P, CHUNK), self.dtype)
        self._flag = np.empty(min(P, CHUNK), bool)

    # -- per member -------------------------------------------------------------
    @property
    def t(self) -> int:
        """The step counter (by rows: the largest of the members' own counters)."""
        return max(m.t for m in self.members) if self.by_rows else self._t

    @property
    def weight_decays(self) -> list[float]:
        return [m.weight_decay for m in self.members]

    def set_weight_decay(self, member: int, value: float) -> None:
        """Member ``member``'s decoupled weight decay (a live edit; validated as solo)."""
        self.members[member].weight_decay = value
        self._last_plan = None

    def _account(self, member: int) -> tuple:
        if self.by_rows:
            m = self.members[member]
            return m.t, m._decay_acc, m._since_flush
        k = 0 if self._accounts_shared else member
        return self._t, self._decay_acc[k], self._since_flush[k]

    @classmethod
    def from_optimizers(cls, optimizers) -> "GroupOptimizer":
        """The group of solo optimizers ``optimizers`` (one rule, one size, dtype and decay
        mask; equal step counters): their hyperparameters, weight decays and state,
        member m = ``optimizers[m]``."""
        opts = list(optimizers)
        if not opts:
            raise ValueError("optimizers: a group needs at least one member")
        first = opts[0]
        for i, o in enumerate(opts):
            if not isinstance(o, Optimizer):
                raise TypeError(f"optimizers[{i}]: expected an Optimizer, got {type(o).__name__}")
            for what in ("kind", "n_params", "dtype", "t"):
                if getattr(o, what) != getattr(first, what):
                    raise ValueError(f"optimizers[{i}].{what}: must match member 0 to step in lockstep, got "
                                     f"{getattr(o, what)!r} vs {getattr(first, what)!r}")
            same_mask = (o.decay_mask is None and first.decay_mask is None) or (
                o.decay_mask is not None and first.decay_mask is not None
                and np.array_equal(o.decay_mask, first.decay_mask))
            if not same_mask:
                raise ValueError(f"optimizers[{i}].decay_mask: must match member 0's to step in lockstep")
        uses = [name for name in type(first).uses if name != "lr"]
        group = make_group_optimizer(
            first.kind, len(opts), first.n_params, hypers=[{name: getattr(o, name) for name in uses} for o in opts],
            weight_decay=[o.weight_decay for o in opts], decay_mask=first.decay_mask, dtype=first.dtype)
        N, P = group.n_members, group.n_params
        for i, o in enumerate(opts):
            if o.t > 0:  # a fresh (or reset) optimizer's state is zero: nothing to copy
                for name, buf in group.buffers.items():
                    buf.reshape(N, P)[i] = o.buffers[name]
            m = group.members[i]
            if hasattr(o, "mu_product"):
                m.mu_product = o.mu_product
            if group.by_rows:
                m.t, m._decay_acc, m._since_flush = o.t, o._decay_acc, o._since_flush
            else:
                group._decay_acc[i] = o._decay_acc
                group._since_flush[i] = o._since_flush
        if not group.by_rows:
            group._accounts_shared = len(set(group._decay_acc)) == 1 and len(set(group._since_flush)) == 1
            group._t = first.t
        return group

    def to_solo(self, member: int) -> Optimizer:
        """A solo optimizer of member ``member`` with its state, step counter and flush
        account: stepping it continues exactly as the member would."""
        m = self.members[member]
        opt = type(m)(self.n_params, weight_decay=m.weight_decay, decay_mask=self.decay_mask, dtype=self.dtype,
                      **self._own[member])
        N, P = self.n_members, self.n_params
        for name, buf in self.buffers.items():
            np.copyto(opt.buffers[name], buf.reshape(N, P)[member])
        opt.t, opt._decay_acc, opt._since_flush = self._account(member)
        if hasattr(m, "mu_product"):
            opt.mu_product = m.mu_product
        return opt

    # -- the step ---------------------------------------------------------------
    def _combine(self, values: list):
        """One kernel argument from the members' values: the Python float when all are
        equal, else an (N, 1) array of the dtype (each value rounded as the ufunc would)."""
        first = values[0]
        for v in values:
            if v != first:
                return np.array(values, dtype=self.dtype).reshape(-1, 1)
        return first

    def _views(self, params: np.ndarray, grads: np.ndarray):
        cache = self._view_cache
        if cache is not None and cache[0] is params and cache[1] is grads:
            return cache[2]
        shape = (self.n_members * self.n_params,)
        for name, arr in (("params", params), ("grads", grads)):
            if not isinstance(arr, np.ndarray) or arr.shape != shape or arr.dtype != self.dtype \
                    or not arr.flags.c_contiguous:
                raise ValueError(f"{name}: must be a flat contiguous {self.dtype} array of shape {shape}, got "
                                 f"shape {getattr(arr, 'shape', None)} dtype {getattr(arr, 'dtype', type(arr).__name__)}")
        N, P = self.n_members, self.n_params
        if self.by_rows:
            views = [(params[i * P : (i + 1) * P], grads[i * P : (i + 1) * P]) for i in range(N)]
        else:
            p2, g2 = params.reshape(N, P), grads.reshape(N, P)
            views = [(p2[:, a:b], g2[:, a:b]) for a, b in self._bounds]
        self._view_cache = (params, grads, views)
        return views

    def _decay(self, w: np.ndarray, ci: int, factor, tmp: np.ndarray) -> None:
        plan = self._decay_plan[ci]
        if isinstance(plan, list):
            for lo, hi in plan:
                part = w[:, lo:hi]
                np.multiply(part, factor, out=part)
        else:
            tmp.fill(1.0)
            np.copyto(tmp, factor, where=plan)
            np.multiply(w, tmp, out=w)

    def _plan(self, lrs) -> tuple:
        """What a step with rates ``lrs`` needs besides the step counter, worked out once
        for as long as the rates stay the same: the rates (validated), which members decay
        and by what factor, each member's flush rate, and -- for a rule whose numbers do
        not depend on t -- the kernel's numbers."""
        N = self.n_members
        if isinstance(lrs, (int, float)):
            rates = [float(lrs)] * N
        else:
            rates = [float(v) for v in lrs]
            if len(rates) != N:
                raise ValueError(f"lrs: expected {N} learning rates, got {len(rates)}")
        for lr in rates:
            if not (0.0 <= lr < math.inf):
                raise ValueError(f"lr: must be a finite number >= 0, got {lr!r}")
        key = lrs if isinstance(lrs, (int, float)) else tuple(lrs)
        if self.by_rows:
            plan = (key, rates)
            self._last_plan = plan
            return plan
        members = self.members
        decaying = [m.weight_decay > 0.0 and lr > 0.0 for m, lr in zip(members, rates)]
        factors = [1.0 - lr * m.weight_decay if d else 1.0 for m, lr, d in zip(members, rates, decaying)]
        factor = self._combine(factors) if any(decaying) else None
        flush_rates = []
        for i in range(N):
            rate = self._state_rates[i]
            if decaying[i]:
                f = factors[i]
                rate = max(rate, -math.log(f)) if f > 0.0 else math.inf
            flush_rates.append(rate)
        uniform = flush_rates[0] if all(r == flush_rates[0] for r in flush_rates) else None
        scalars = None if members[0]._scalars_depend_on_t else self._kernel_numbers(rates)
        plan = (key, rates, decaying, factor, flush_rates, uniform, scalars)
        self._last_plan = plan
        return plan

    def _kernel_numbers(self, rates: list):
        """The kernel's numbers for rates ``rates``, from each member's ``_scalars`` at the
        shared t, combined: the Python floats when all members agree, (N, 1) arrays where
        they differ."""
        t = self._t
        per = []
        for m, lr in zip(self.members, rates):
            m.t = t
            per.append(m._scalars(lr))
        first = per[0]
        if not isinstance(first, tuple):
            return self._combine(per)
        for p in per:
            if p != first:
                return tuple(self._combine(list(col)) for col in zip(*per))
        return first

    def step(self, params: np.ndarray, grads: np.ndarray, lrs, skip=()) -> None:
        """One update of every member (in place): member m with learning rate ``lrs[m]``
        (a sequence of N rates; one float: the same for all).  Members in ``skip`` (frozen:
        the caller restores their blocks) may be left out of the work."""
        views = self._views(params, grads)
        plan = self._last_plan
        if plan is None or plan[0] != (lrs if isinstance(lrs, (int, float)) else tuple(lrs)):
            plan = self._plan(lrs)
        if self.by_rows:
            rates = plan[1]
            for i, (m, (w, g)) in enumerate(zip(self.members, views)):
                if not (skip and i in skip):
                    m.step(w, g, rates[i])
            return
        _, rates, decaying, factor, flush_rates, uniform, scalars = plan
        self._t += 1
        if scalars is None:
            scalars = self._kernel_numbers(rates)
        kernel = self._kernel
        for ci, (w, g) in enumerate(views):
            scratch = self._chunk_scratch[ci]
            if factor is not None:
                self._decay(w, ci, factor, scratch[0])
            kernel(w, g, self._chunk_state[ci], scratch, scalars)
        # subnormal guard: each member as its solo run would (one account while all agree)
        acc, since, budget = self._decay_acc, self._since_flush, self._flush_budget
        if uniform is not None and self._accounts_shared:
            acc[0] += uniform
            since[0] += 1
            if acc[0] + uniform > budget or since[0] >= _MAX_FLUSH_INTERVAL:
                self._flush(range(self.n_members), params, decaying)
            return
        if self._accounts_shared:
            self._decay_acc = acc = [acc[0]] * self.n_members
            self._since_flush = since = [since[0]] * self.n_members
            self._accounts_shared = False
        due = None
        for i, rate in enumerate(flush_rates):
            acc[i] += rate
            since[i] += 1
            if acc[i] + rate > budget or since[i] >= _MAX_FLUSH_INTERVAL:
                if due is None:
                    due = []
                due.append(i)
        if due is not None:
            self._flush(due, params, decaying)

    def step_member(self, params: np.ndarray, grads: np.ndarray, member: int, lr: float) -> None:
        """One update of member ``member`` alone, exactly its solo step (its own step
        counter): for a group stepped by rows whose members train one after the other."""
        if not self.by_rows:
            raise ValueError(f"step_member: members of {self.n_params} parameters step together "
                             f"(one at a time from {ROWS_FROM})")
        w, g = self._views(params, grads)[member]
        self.members[member].step(w, g, lr)

    def _flush(self, due, params: np.ndarray, decaying: list) -> None:
        N, P = self.n_members, self.n_params
        limit = self._flush_below
        rows = []
        shared = self._accounts_shared
        for i in due:
            if not shared:
                self._decay_acc[i] = 0.0
                self._since_flush[i] = 0
            rows.extend(buf.reshape(N, P)[i] for buf in self.buffers.values())
            if decaying[i]:
                rows.append(params.reshape(N, P)[i])
        if shared:
            self._decay_acc[0] = 0.0
            self._since_flush[0] = 0
        if limit <= 0.0:
            return
        for x in rows:
            for a in range(0, P, CHUNK):
                part = x[a : a + CHUNK]
                k = len(part)
                tmp, flag = self._tmp[:k], self._flag[:k]
                np.abs(part, out=tmp)
                np.less(tmp, limit, out=flag)
                np.copyto(part, 0, where=flag)

    def reset(self) -> None:
        """Zero every member's state and the step counter(s)."""
        for buf in self.buffers.values():
            buf.fill(0)
        for m in self.members:
            m.reset()
        self._last_plan = None
        if not self.by_rows:
            self._t = 0
            self._decay_acc = [0.0] * self.n_members
            self._since_flush = [0] * self.n_members
            self._accounts_shared = True

    def __repr__(self) -> str:
        layout = "by rows" if self.by_rows else "stacked"
        return (f"<GroupOptimizer kind={self.kind!r} n_members={self.n_members} n_params={self.n_params} "
                f"{layout} t={self.t}>")


def make_group_optimizer(
    kind: str,
    n_members: int,
    n_params: int,
    *,
    hypers=None,
    weight_decay=0.0,
    decay_mask=None,
    dtype=np.float32,
) -> GroupOptimizer:
    """:class:`GroupOptimizer` of rule ``kind`` for ``n_members`` members of ``n_params``
    parameters each.  ``hypers``: one dict of hyperparameters for all members, or one per
    member; ``weight_decay``: one value or one per member.  Each member is validated as
    :func:`make_optimizer` validates a solo optimizer (the same messages, prefixed with
    ``member m:`` when the values are per member); the choices (``momentum_form``,
    ``bias_correction``) must agree across members."""
    if isinstance(n_members, bool) or not isinstance(n_members, (int, np.integer)) or n_members < 1:
        raise ValueError(f"n_members: must be an integer >= 1, got {n_members!r}")
    N = int(n_members)
    per_hyper = not (hypers is None or isinstance(hypers, dict))
    hypers = list(hypers) if per_hyper else [dict(hypers or {})] * N
    per_wd = not isinstance(weight_decay, (int, float, np.floating, np.integer))
    wds = list(weight_decay) if per_wd else [weight_decay] * N
    for name, values in (("hypers", hypers), ("weight_decay", wds)):
        if len(values) != N:
            raise ValueError(f"{name}: expected {N} entries (one per member), got {len(values)}")
    owns, decays = [], []
    cls = dt = mask = None
    for m in range(N):
        try:
            cls, n, own, wd, mask, dt = _validated(kind, n_params, wds[m], decay_mask, dtype, hypers[m])
        except (TypeError, ValueError) as exc:
            if per_hyper or per_wd:
                raise type(exc)(f"member {m}: {exc}") from None
            raise
        owns.append(own)
        decays.append(wd)
    for name in cls.uses:
        h = HYPERPARAMETERS[name]
        if name != "lr" and h.kind in ("bool", "choice"):
            values = [own[name] for own in owns]
            if any(v != values[0] for v in values):
                raise ValueError(f"{name}: must be the same for every member of a lockstep group, got "
                                 f"{', '.join(repr(v) for v in values)}")
    return GroupOptimizer(kind, N, n, hypers=owns, weight_decays=decays, decay_mask=mask, dtype=dt)


def _time_adam(n_params: int = 235_146, steps: int = 300) -> float:
    """Informal timing (not a test): microseconds per Adam.step on ``n_params``
    float32 parameters (235,146 = a 784-256-128-10 MLP)."""
    import time

    rng = np.random.default_rng(0)
    w = rng.standard_normal(n_params).astype(np.float32)
    g = (rng.standard_normal(n_params) * 1e-2).astype(np.float32)
    opt = make_optimizer("adam", n_params)
    for _ in range(10):
        opt.step(w, g, 1e-3)
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.step(w, g, 1e-3)
        best = min(best, (time.perf_counter() - t0) / steps * 1e6)
    return best


if __name__ == "__main__":  # python -m workbench.engine.optimizers
    print(f"Adam.step on 235,146 float32 params: {_time_adam():.0f} us/step (best of 5)")
