"""The update rules, each described once: its class (hyperparameters, formula, kernel) and
the registry the spec, the Optimizer dock and the tests read (:data:`OPTIMIZERS`,
:data:`HYPERPARAMETERS`, :func:`make_optimizer`).  How a step runs (chunks, the decay mask,
the subnormal flush): :mod:`.optimizer_base`; lockstep groups: :mod:`.group_optimizer`.

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

Why this module is long: it is the registry, and each rule is described here once (class,
hyperparameters, formula, kernel, state); nine rules at about fifty lines each make the
length, and adding a rule is meant to add its lines here and nowhere else.
"""

from __future__ import annotations

import math

import numpy as np

from .optimizer_base import CHUNK, FLUSH_BELOW, Optimizer  # noqa: F401  (CHUNK, FLUSH_BELOW: re-exported)
from .setting import Setting

MOMENTUM_FORMS = ("velocity", "accumulator")


# ---------------------------------------------------------------------------------------
# The registry: every hyperparameter and every rule described once.  The spec's
# OptimizerSpec fields, the Optimizer dock's rows, labels, tooltips and formulas, and
# the tests read these tables; adding a rule is adding its class below and to RULES (and,
# if it has a new hyperparameter, one HYPERPARAMETERS entry).


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


def _rms_step(w, u, s, eps, step, tmp) -> None:
    """w <- w - step u / sqrt(s + eps), in place (5 passes; ``tmp`` a scratch vector): the
    last step of Adagrad and RMSProp (u = g) and of Adam (u = v)."""
    np.add(s, eps, out=tmp)
    np.sqrt(tmp, out=tmp)
    np.divide(u, tmp, out=tmp)
    np.multiply(tmp, step, out=tmp)
    np.subtract(w, tmp, out=w)


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
        _rms_step(w, g, s, eps, eta, tmp)

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
        _rms_step(w, g, s, eps_s, step, tmp)

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


class _Moments(Optimizer):
    """The two moment averages of Adam and NAdam, stored unnormalised:
    v' = v/(1-beta1) obeys v'_t = beta1 v'_{t-1} + g_t, s' = s/(1-beta2) obeys
    s'_t = beta2 s'_{t-1} + g_t (.) g_t (4 passes); ``state`` gives v and s."""

    _buffer_names = ("v", "s")

    def _decay_factors(self):
        return (self.beta1, self.beta2)

    @staticmethod
    def _update_moments(v, s, g, tmp, b1, b2) -> None:
        np.multiply(v, b1, out=v)
        np.add(v, g, out=v)  # v'_t
        np.multiply(g, g, out=tmp)
        np.multiply(s, b2, out=s)
        np.add(s, tmp, out=s)  # s'_t

    @property
    def state(self):
        return {
            "v": (1.0 - self.beta1) * self.buffers["v"].astype(np.float64),
            "s": (1.0 - self.beta2) * self.buffers["s"].astype(np.float64),
        }


class Adam(_Moments):
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
        self._update_moments(v, s, g, tmp, b1, b2)
        _rms_step(w, v, s, eps_s, step, tmp)


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


class NAdam(_Moments):
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
        self._update_moments(v, s, g, tmp, b1, b2)
        np.add(s, eps_s, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.multiply(g, c_g, out=tmp2)
        np.divide(tmp2, tmp, out=tmp2)
        np.divide(v, tmp, out=tmp)
        np.multiply(tmp, c_v, out=tmp)
        np.add(tmp, tmp2, out=tmp)
        np.subtract(w, tmp, out=w)


RULES: tuple[type, ...] = (SGD, Momentum, Nesterov, Adagrad, RMSProp, Adadelta, Adam, AdamW, NAdam)
_REGISTRY: dict[str, type] = {cls.kind: cls for cls in RULES}

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


def validate_arguments(kind: str, n_params, weight_decay, decay_mask, dtype, hyper: dict):
    """The checks of :func:`make_optimizer` (and of each member of a lockstep group): ``(cls, n_params, own hyperparameters,
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
    cls, n, own, weight_decay, decay_mask, dt = validate_arguments(kind, n_params, weight_decay, decay_mask, dtype,
                                                                   hyper)
    return cls(n, weight_decay=weight_decay, decay_mask=decay_mask, dtype=dt, **own)


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


_IN_GROUP_OPTIMIZER = ("GroupOptimizer", "make_group_optimizer", "ROWS_FROM")


def __getattr__(name: str):
    """``GroupOptimizer``, ``make_group_optimizer`` and ``ROWS_FROM`` live in
    :mod:`.group_optimizer` (which imports this module) and are importable from here too."""
    if name in _IN_GROUP_OPTIMIZER:
        from . import group_optimizer

        return getattr(group_optimizer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # python -m workbench.engine.optimizers
    print(f"Adam.step on 235,146 float32 params: {_time_adam():.0f} us/step (best of 5)")
