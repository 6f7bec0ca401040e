"""How the step of every update rule runs (the rules, their formulas and the registry:
:mod:`.optimizers`; N members in lockstep: :mod:`.group_optimizer`).

An :class:`Optimizer` keeps its state in buffers the size of the flat parameter vector
and updates the parameters in place: ``step(params, grads, lr)`` applies the decoupled
weight decay ``w <- (1 - eta lambda) w`` on the ``decay_mask`` entries (:func:`apply_decay`),
then the rule's kernel, chunk by chunk.

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

CHUNK = 1 << 18
"""Elements per chunk: vectors longer than this are updated chunk by chunk."""

FLUSH_BELOW = 1e-30
"""State entries (and decayed weights) with magnitude below this are flushed to 0."""

MAX_FLUSH_INTERVAL = 1024
_FEW_RUNS = 4


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
        self._decay_plan: list = decay_plan(self.decay_mask, self._bounds)

    def _decay(self, w: np.ndarray, ci: int, factor: float, tmp: np.ndarray) -> None:
        apply_decay(w, self._decay_plan[ci], factor, tmp)

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
        if self._decay_acc + rate > self._flush_budget or self._since_flush >= MAX_FLUSH_INTERVAL:
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


def decay_plan(mask: Optional[np.ndarray], bounds: list) -> list:
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


def apply_decay(w: np.ndarray, plan, factor, tmp: np.ndarray) -> None:
    """w <- w - eta lambda w_{t-1} = (1 - eta lambda) w_{t-1} on the masked entries of a
    chunk ``w`` (its last axis; a lockstep stack's rows alike), ``plan`` the chunk's entry
    of :func:`decay_plan`: its runs get one in-place multiply each, a mask a 0/1 factor
    vector in ``tmp`` (both paths multiply by the same rounded factor: bitwise equal)."""
    if isinstance(plan, list):
        for lo, hi in plan:
            part = w[..., lo:hi]
            np.multiply(part, factor, out=part)
    else:
        tmp.fill(1.0)
        np.copyto(tmp, factor, where=plan)
        np.multiply(w, tmp, out=w)
