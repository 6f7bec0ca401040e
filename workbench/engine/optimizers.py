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
from typing import Optional

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw")
MOMENTUM_FORMS = ("velocity", "accumulator")

CHUNK = 1 << 18
"""Elements per chunk: vectors longer than this are updated chunk by chunk."""

FLUSH_BELOW = 1e-30
"""State entries (and decayed weights) with magnitude below this are flushed to 0."""

_MAX_FLUSH_INTERVAL = 1024
_FEW_RUNS = 4


def _check_unit(name: str, value: float) -> float:
    value = float(value)
    if not (0.0 <= value < 1.0):
        raise ValueError(f"{name}: must be in [0, 1), got {value:g}")
    return value


class Optimizer:
    """Base class: one update rule over a flat vector of ``n_params`` entries.

    ``step(params, grads, lr)`` performs one update in place; ``reset()`` zeroes
    the state and the step counter ``t``.  Subclasses define the kernel.
    """

    kind = ""
    _buffer_names: tuple[str, ...] = ()
    _n_scratch = 1

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
        self._decay_plan: list = []
        mask = self.decay_mask
        if mask is None:
            self._decay_plan = [[(0, b - a)] for a, b in self._bounds]
            return
        edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
        starts, ends = edges[0::2].tolist(), edges[1::2].tolist()
        for a, b in self._bounds:
            local = [(max(s, a) - a, min(e, b) - a) for s, e in zip(starts, ends) if max(s, a) < min(e, b)]
            # one ufunc call costs about as much as ~8K elements of a pass
            if len(local) <= max(_FEW_RUNS, (b - a) // 8192):
                self._decay_plan.append(local)
            else:
                self._decay_plan.append(mask[a:b])

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

    kind = "sgd"

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

    kind = "momentum"

    def __init__(self, n_params, *, momentum=0.9, momentum_form="velocity", **kw):
        self.momentum = momentum
        self.momentum_form = momentum_form
        self._buffer_names = ("v",) if momentum_form == "velocity" else ("M",)
        super().__init__(n_params, **kw)

    def _decay_factors(self):
        return (self.momentum,)

    def _kernel(self, w, g, state, scratch, eta):
        buf, tmp, beta = state[0], scratch[0], self.momentum
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

    def _kernel(self, w, g, state, scratch, eta):
        buf, tmp, beta = state[0], scratch[0], self.momentum
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
            np.multiply(buf, eta * beta, out=tmp)  # eta beta M_t
        np.subtract(w, tmp, out=w)


class Adagrad(Optimizer):
    """s_t = s_{t-1} + g_t (.) g_t,  w_t = w_{t-1} - eta / sqrt(s_t + eps) (.) g_t  (7 passes)."""

    kind = "adagrad"
    _buffer_names = ("s",)

    def __init__(self, n_params, *, eps=1e-8, **kw):
        self.eps = eps
        super().__init__(n_params, **kw)

    def _kernel(self, w, g, state, scratch, eta):
        s, tmp = state[0], scratch[0]
        np.multiply(g, g, out=tmp)
        np.add(s, tmp, out=s)
        np.add(s, self.eps, out=tmp)
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

    kind = "rmsprop"
    _buffer_names = ("s",)

    def __init__(self, n_params, *, rho=0.9, eps=1e-8, **kw):
        self.rho = rho
        self.eps = eps
        super().__init__(n_params, **kw)

    def _decay_factors(self):
        return (self.rho,)

    def _scalars(self, lr):
        one_minus = 1.0 - self.rho
        return lr / math.sqrt(one_minus), self.eps / one_minus

    def _kernel(self, w, g, state, scratch, scalars):
        step, eps_s = scalars
        s, tmp = state[0], scratch[0]
        np.multiply(g, g, out=tmp)
        np.multiply(s, self.rho, out=s)
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

    kind = "adadelta"
    _buffer_names = ("Eg2", "Edx2")
    _n_scratch = 2

    def __init__(self, n_params, *, rho=0.9, eps=1e-6, **kw):
        self.rho = rho
        self.eps = eps
        super().__init__(n_params, **kw)

    def _decay_factors(self):
        return (self.rho,)

    def _kernel(self, w, g, state, scratch, eta):
        a, b = state
        tmp, tmp2 = scratch
        rho, eps_s = self.rho, self.eps / (1.0 - self.rho)
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
    _buffer_names = ("v", "s")

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
        return lr * (1.0 - b1) / c1 * math.sqrt(k2), self.eps * k2

    def _kernel(self, w, g, state, scratch, scalars):
        step, eps_s = scalars
        v, s = state
        tmp = scratch[0]
        np.multiply(v, self.beta1, out=v)
        np.add(v, g, out=v)
        np.multiply(g, g, out=tmp)
        np.multiply(s, self.beta2, out=s)
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


_CLASSES = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": Adagrad,
    "rmsprop": RMSProp,
    "adadelta": Adadelta,
    "adam": Adam,
    "adamw": AdamW,
}


def make_optimizer(
    kind: str,
    n_params: int,
    *,
    momentum: float = 0.9,
    momentum_form: str = "velocity",
    beta1: float = 0.9,
    beta2: float = 0.999,
    rho: float = 0.9,
    eps: float = 1e-8,
    bias_correction: bool = True,
    weight_decay: float = 0.0,
    decay_mask=None,
    dtype=np.float32,
) -> Optimizer:
    """Build the optimizer ``kind`` (one of :data:`OPTIMIZERS`) for ``n_params`` parameters.

    Every hyperparameter is validated (whether or not ``kind`` uses it); a bad one
    raises ``ValueError`` naming it, e.g. ``momentum: must be in [0, 1), got 1.5``.
    ``decay_mask`` (bool, shape ``(n_params,)``) selects the entries that
    ``weight_decay`` shrinks; None means all.
    """
    if kind not in _CLASSES:
        raise ValueError(f"kind: must be one of {', '.join(OPTIMIZERS)}, got {kind!r}")
    if isinstance(n_params, bool) or not isinstance(n_params, (int, np.integer)) or n_params < 0:
        raise ValueError(f"n_params: must be an integer >= 0, got {n_params!r}")
    momentum = _check_unit("momentum", momentum)
    if momentum_form not in MOMENTUM_FORMS:
        raise ValueError(f"momentum_form: must be one of {', '.join(MOMENTUM_FORMS)}, got {momentum_form!r}")
    beta1 = _check_unit("beta1", beta1)
    beta2 = _check_unit("beta2", beta2)
    rho = _check_unit("rho", rho)
    eps = float(eps)
    if not (0.0 < eps < math.inf):
        raise ValueError(f"eps: must be > 0 and finite, got {eps:g}")
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
    if kind == "nesterov" and momentum == 0.0:
        raise ValueError("nesterov requires momentum > 0, got momentum 0")
    common = dict(weight_decay=weight_decay, decay_mask=decay_mask, dtype=dt)
    n = int(n_params)
    if kind == "sgd":
        return SGD(n, **common)
    if kind in ("momentum", "nesterov"):
        return _CLASSES[kind](n, momentum=momentum, momentum_form=momentum_form, **common)
    if kind == "adagrad":
        return Adagrad(n, eps=eps, **common)
    if kind == "rmsprop":
        return RMSProp(n, rho=rho, eps=eps, **common)
    if kind == "adadelta":
        return Adadelta(n, rho=rho, eps=eps, **common)
    return _CLASSES[kind](n, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction, **common)


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
