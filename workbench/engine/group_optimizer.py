"""Lockstep: N members of one update rule stepping together over ONE flat member-major
vector, each member's update bitwise its solo update (see :class:`GroupOptimizer`;
the network side: :mod:`workbench.engine.lockstep`)."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from . import optimizer_base as _base  # CHUNK read at construction (tests lower it)
from .optimizer_base import FLUSH_BELOW, MAX_FLUSH_INTERVAL, Optimizer, apply_decay, decay_plan
from .optimizers import HYPERPARAMETERS, optimizer_class, validate_arguments

ROWS_FROM = 1 << 17
"""A lockstep group of members with at least this many parameters each steps them one by one
(GroupOptimizer ``by_rows``) and trains their epochs one after the other
(``group_backend.GroupBackend.run_epoch_by_member``): measured crossover (4 members, Adam,
sequential solo runs / group): 6K parameters 1.47x stacked vs 0.90x by member, 20K 1.24 vs
0.93, 85K 1.03 vs 0.97, 235K 0.94 vs 1.02 (benchmarks/README.md, lockstep)."""


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
        width = max(1, _base.CHUNK // max(N, 1))
        self._bounds = [(a, min(a + width, P)) for a in range(0, P, width)]
        cols = min(P, width)
        flat = [np.empty(N * cols, self.dtype) for _ in range(max(cls._n_scratch, 1))]
        self._chunk_scratch = [[s[: N * (b - a)].reshape(N, b - a) for s in flat] for a, b in self._bounds]
        self._chunk_state = [[self.buffers[name].reshape(N, P)[:, a:b] for name in names] for a, b in self._bounds]
        self._decay_plan = decay_plan(self.decay_mask, self._bounds)
        # subnormal guard, one account per member (as its solo run keeps it)
        self._flush_below = FLUSH_BELOW
        self._flush_budget = first._flush_budget
        self._state_rates = [m._state_decay_rate for m in self.members]
        self._decay_acc = [0.0] * N  # while _accounts_shared, entry 0 is every member's
        self._since_flush = [0] * N
        self._accounts_shared = True
        self._tmp = np.empty(min(P, _base.CHUNK), self.dtype)
        self._flag = np.empty(min(P, _base.CHUNK), bool)

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
                apply_decay(w, self._decay_plan[ci], factor, scratch[0])
            kernel(w, g, self._chunk_state[ci], scratch, scalars)
        # subnormal guard: each member as its solo run would (one account while all agree)
        acc, since, budget = self._decay_acc, self._since_flush, self._flush_budget
        if uniform is not None and self._accounts_shared:
            acc[0] += uniform
            since[0] += 1
            if acc[0] + uniform > budget or since[0] >= MAX_FLUSH_INTERVAL:
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
            if acc[i] + rate > budget or since[i] >= MAX_FLUSH_INTERVAL:
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
            for a in range(0, P, _base.CHUNK):
                part = x[a : a + _base.CHUNK]
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
            cls, n, own, wd, mask, dt = validate_arguments(kind, n_params, wds[m], decay_mask, dtype, hypers[m])
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
