"""What the trainer's epoch loop drives for a lockstep group (:class:`GroupBackend`; a solo
run's counterpart is ``trainer._Solo``): the members' epochs of mini-batches on a
:class:`~.lockstep.StackedNetwork` -- all members in one stacked step, or member by
member for large members -- evaluation, per-member parameters and weight decay, and
freezing the members that stopped."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from .events import BatchEnd, Diverged
from .regularization import add_penalty

_MAX_CACHED = 8
"""Batch buffers kept per backend (one per distinct batch shape; the last batch of an epoch
may be shorter)."""


class GroupBackend:
    """What the trainer's epoch loop drives for a lockstep group (``network`` a
    :class:`~.lockstep.StackedNetwork`, ``optimizer`` a
    :class:`~.group_optimizer.GroupOptimizer` for it): one epoch of batches for the members
    still training (each its own shuffle, dropout and noise streams, all in one stacked
    step), evaluation, per-member parameters and weight decay, and freezing.

    ``members`` passed to :meth:`run_epoch` are the trainer's member records (index, lr,
    l1, l2, penalty_mask, cfg.input_noise, shuffle/dropout/noise generators, step,
    samples, batch_mean_loss, diverged)."""

    def __init__(self, network, optimizer, batch_size: int):
        if optimizer.n_members != network.n_members or optimizer.n_params != network.n_params:
            raise ValueError(f"optimizer: built for {optimizer.n_members} x {optimizer.n_params} parameters, the "
                             f"network has {network.n_members} x {network.n_params}")
        if optimizer.dtype != network.dtype:
            raise ValueError(f"optimizer: dtype {optimizer.dtype} differs from the network's {network.dtype}")
        self.net, self.opt = network, optimizer
        self.batch_size = int(batch_size)
        self._frozen: dict[int, np.ndarray] = {}
        self._frozen_idx: Optional[np.ndarray] = None
        self._frozen_rows: Optional[np.ndarray] = None
        self._batches: dict[tuple, tuple] = {}
        self._orders: Optional[np.ndarray] = None

    # -- per member ----------------------------------------------------------
    def params_of(self, member: int) -> np.ndarray:
        return self.net.params2d[member]

    def evaluate(self, X, y, members: Sequence[int]) -> list[dict]:
        return self.net.evaluate(X, y, members)

    def weight_decay(self, member: int) -> float:
        return self.opt.members[member].weight_decay

    def set_weight_decay(self, member: int, value: float) -> None:
        self.opt.set_weight_decay(member, value)

    def freeze(self, member: int) -> None:
        """From now on member ``member``'s parameters stay as they are now."""
        if member in self._frozen:
            return
        self._frozen[member] = self.net.params2d[member].copy()
        order = sorted(self._frozen)
        self._frozen_idx = np.array(order, dtype=np.intp)
        self._frozen_rows = np.stack([self._frozen[i] for i in order])

    def restart(self, member: int) -> None:  # pragma: no cover - train_group refuses follow-ups
        raise NotImplementedError("follow-up phases are not run in lockstep")

    # -- one epoch -----------------------------------------------------------
    def _batch_buffers(self, k: int, X: np.ndarray, y: np.ndarray, rows: Optional[int] = None) -> tuple:
        N = self.net.n_members if rows is None else rows
        key = (N, k, X.shape[1:], X.dtype, y.shape[1:], y.dtype)
        bufs = self._batches.get(key)
        if bufs is None:
            if len(self._batches) >= _MAX_CACHED:
                self._batches.pop(next(iter(self._batches)))
            bufs = self._batches[key] = (np.empty((N, k) + X.shape[1:], X.dtype),
                                         np.empty((N, k) + y.shape[1:], y.dtype))
        return bufs

    def _penalties(self, members) -> Optional[tuple]:
        """(l1 column, l2 column, where-l1, where-l2, scratch) for the members' coupled
        penalties, or None when no member has one.  Frozen members: none."""
        net = self.net
        N, P, dt = net.n_members, net.n_params, net.dtype
        l1 = [0.0] * N
        l2 = [0.0] * N
        masks = [None] * N
        for m in members:
            l1[m.index], l2[m.index], masks[m.index] = m.l1, m.l2, m.penalty_mask
        if not any(l1) and not any(l2):
            return None
        parts = []
        for values in (l1, l2):
            if not any(values):
                parts.append((None, None))
                continue
            where = np.zeros((N, P), bool)
            for i, v in enumerate(values):
                if v:
                    where[i] = masks[i]
            parts.append((np.array(values, dtype=dt).reshape(N, 1), where))
        (c1, w1), (c2, w2) = parts
        return c1, c2, w1, w2, np.empty((N, P), dt)

    def run_epoch(self, members, X, y, epoch: int, phase: str, emit: bool):
        """Train ``members`` one epoch on ``(X, y)`` in lockstep; yields BatchEnd (if
        ``emit``) and Diverged events.  A member whose batch loss is not finite is frozen
        at its parameters before that batch (as its solo run ends there).  Members stepped
        by rows (large ones) train their epochs one after the other (see
        :meth:`run_epoch_by_member`)."""
        if getattr(self.opt, "by_rows", False):
            yield from self.run_epoch_by_member(members, X, y, epoch, phase, emit)
            return
        net, opt = self.net, self.opt
        N = net.n_members
        n = len(X)
        bs = min(self.batch_size, n)
        if self._orders is None or self._orders.shape[1] != n:
            self._orders = np.zeros((N, n), dtype=np.intp)
        orders = self._orders
        live = list(members)
        for m in live:
            orders[m.index] = m.shuffle_rng.permutation(n)
        lrs = [0.0] * N
        for m in live:
            lrs[m.index] = m.lr
        rngs = [None] * N
        for m in live:
            if net.member_has_dropout[m.index]:
                rngs[m.index] = m.dropout_rng
        if not any(r is not None for r in rngs):
            rngs = None
        noisy = [(m.index, m.cfg.input_noise, m.noise_rng) for m in live if m.cfg.input_noise > 0.0]
        pen = self._penalties(live)
        params2d, grads2d = net.params2d, net.grads2d
        loss_sum = np.zeros(N)
        steps0 = [m.step for m in live]
        batches = 0
        samples = 0
        take_x, take_y, isfinite = X.take, y.take, math.isfinite
        full = self._batch_buffers(bs, X, y)
        for batch, start in enumerate(range(0, n, bs), start=1):
            k = min(bs, n - start)
            xb, yb = full if k == bs else self._batch_buffers(k, X, y)
            idx = orders[:, start : start + k]
            take_x(idx, axis=0, out=xb)
            take_y(idx, axis=0, out=yb)
            for i, sigma, rng in noisy:
                xi = xb[i]
                xi += (sigma * rng.standard_normal(xi.shape)).astype(xi.dtype, copy=False)
            losses = net.loss_and_grad(xb, yb, rngs)
            values = losses.tolist()
            if not all(map(isfinite, values)):
                for m in [m for m in live if not isfinite(values[m.index])]:
                    i = m.index
                    m.diverged = Diverged(epoch=epoch, batch=batch, reason=f"training loss is {values[i]}",
                                          member=i)
                    m.step += batches
                    m.samples += samples
                    self.freeze(i)
                    lrs[i] = 0.0
                    if rngs is not None:
                        rngs[i] = None
                    noisy = [t for t in noisy if t[0] != i]
                    pos = live.index(m)
                    del live[pos], steps0[pos]
                    pen = self._penalties(live) if pen is not None else None
                    yield m.diverged
            if pen is not None:
                c1, c2, w1, w2, tmp = pen
                if c2 is not None:
                    np.multiply(params2d, c2, out=tmp)
                    np.add(grads2d, tmp, out=grads2d, where=w2)
                if c1 is not None:
                    np.sign(params2d, out=tmp)
                    tmp *= c1
                    np.add(grads2d, tmp, out=grads2d, where=w1)
            opt.step(net.params, net.grads, lrs, self._frozen)
            if self._frozen_idx is not None:
                params2d[self._frozen_idx] = self._frozen_rows
            loss_sum += losses
            batches += 1
            samples += k
            if emit:
                for m, s0 in zip(live, steps0):
                    i = m.index
                    yield BatchEnd(epoch=epoch, batch=batch, step=s0 + batches, loss=values[i], phase=phase,
                                   member=i)
        for m in live:
            m.step += batches
            m.samples += samples
            m.batch_mean_loss = float(loss_sum[m.index]) / max(batches, 1)

    def run_epoch_by_member(self, members, X, y, epoch: int, phase: str, emit: bool):
        """One epoch of each member in turn, batch by batch exactly as its solo run does it
        (its shuffle, noise, dropout stream, L1/L2, its optimizer step), on its views of
        the group's buffers.  For large members: a step is then GEMM- and memory-bound and
        batching members saves nothing, while one member's weights, gradients and optimizer
        state stay in cache through its epoch (at 784-256-128-10 the stacked step took
        1.06x the time of four solo runs, member by member 0.98x)."""
        net, opt = self.net, self.opt
        n = len(X)
        bs = min(self.batch_size, n)
        isfinite = math.isfinite
        for m in members:
            i = m.index
            order = m.shuffle_rng.permutation(n)
            rngs = [m.dropout_rng] if net.member_has_dropout[i] else None
            noise = m.cfg.input_noise
            penalised = m.l1 != 0.0 or m.l2 != 0.0
            prow, grow = net.params2d[i], net.grads2d[i]
            lr = m.lr
            loss_sum = 0.0
            batches = 0
            for batch, start in enumerate(range(0, n, bs), start=1):
                idx = order[start : start + bs]
                k = len(idx)
                xb, yb = self._batch_buffers(k, X, y, rows=1)
                xi = xb[0]
                X.take(idx, axis=0, out=xi)
                y.take(idx, axis=0, out=yb[0])
                if noise > 0.0:
                    xi += (noise * m.noise_rng.standard_normal(xi.shape)).astype(xi.dtype, copy=False)
                loss = float(net.loss_and_grad(xb, yb, rngs, member=i)[0])
                if not isfinite(loss):
                    m.diverged = Diverged(epoch=epoch, batch=batch, reason=f"training loss is {loss}", member=i)
                    self.freeze(i)
                    yield m.diverged
                    break
                if penalised:
                    add_penalty(prow, grow, m.penalty_mask, m.l1, m.l2)
                opt.step_member(net.params, net.grads, i, lr)
                m.step += 1
                m.samples += k
                loss_sum += loss
                batches += 1
                if emit:
                    yield BatchEnd(epoch=epoch, batch=batch, step=m.step, loss=loss, phase=phase, member=i)
            else:
                m.batch_mean_loss = loss_sum / max(batches, 1)
