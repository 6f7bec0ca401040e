"""Lockstep groups: N members of one network trained as ONE stacked network.

A *member* is one run: its own seed (shuffling, dropout and noise streams, exactly those
of its solo run), learning rate and schedule, optimizer float hyperparameters, L1/L2,
weight decay, dropout rates, input noise, epochs and early stopping.  What the members
share is what makes them one network: the layer sizes and activations, the task, the
test-time dropout treatment, the optimizer rule (and its choices), the batch size and the
data.

Layout.  All members' parameters live in ONE flat buffer, member-major: member m's
parameters are the block ``[m P, (m+1) P)`` in exactly the solo :class:`Network`'s layout
(``W^(1)``, ``b^(1)``, ``W^(2)``, ...), so a member's block can be copied to and from a
solo network.  ``weights[l]`` are ``(N, fan_in, fan_out)`` strided views into it,
``biases[l]`` ``(N, 1, fan_out)``; ``grads`` likewise.  Each member trains on its own
mini-batch (its own shuffle), so a batch is ``(N, B, d)`` and every layer is one batched
matrix product ``np.matmul((N, B, fan_in), (N, fan_in, fan_out), out=(N, B, fan_out))``;
the elementwise work (bias, activation, dropout, loss, the optimizer) is one pass over all
members.

Equality with solo runs.  ``np.matmul`` on a stack makes one BLAS call per member's
matrices, with the same shapes and transposes as the solo network's ``np.dot`` (each
member's matrix is contiguous in its block, so nothing is copied first), and OpenBLAS
rounds a product the same way whichever way it is called for given shapes and threads:
batched and per-member products were measured bitwise equal for every layer shape here,
float32 and float64.  Every elementwise operation sees the same operands (a per-member
number is an array of the parameter dtype holding exactly the value the solo ufunc rounds
its Python float to), reductions run over the same contiguous axes in the same order, and
each member's random numbers come from its own generators in the solo order.  So every
member reproduces its solo run *bit for bit*, float32 and float64
(``tests/engine/test_lockstep.py`` checks it).  A BLAS that split batched products
differently could change the last bits; the tests' exact checks would then fail while
the 1e-5 acceptance would hold.

Frozen members.  A member that stops (early stopping, its last epoch, divergence) is
frozen: it is stepped with eta = 0 (no decay) and its block is restored from a copy after
every step, so its parameters no longer change whatever the rule (velocity momentum keeps
moving with eta = 0).  In a stacked step its rows are still computed (wasted, never read);
NaN in a member stays in its rows: nothing mixes members.

Small and large members.  What a group saves is per-call overhead: for a small network
(Tiny, 2-8-8-1) a step is ~50 NumPy calls whatever N is, so N seeds cost little more
than one.  A large network's step is GEMM- and memory-bound: the group does the same
FLOPs and passes as N solo steps, and N members' weights and optimizer state are N times
the cache footprint of one.  So members of at least ``group_optimizer.ROWS_FROM`` parameters
train their epochs one after the other on their views of the group's buffers (each its
solo steps; frozen members cost nothing), and evaluation runs as many members per pass as
keep a pass's activations within ``EVAL_BYTES`` (consecutive members: their weights are
views).  Events, evaluation, early stopping and the rest of the epoch logic are the same
either way, and each member sees exactly its solo operations.

``StackedNetwork`` (here) holds the numbers; :class:`~.group_backend.GroupBackend` is what
the trainer's one epoch loop (:func:`workbench.engine.trainer.train_group`) drives for a
group (importable from here too).

Why this module is long: it is one class, the stacked counterpart of
:class:`~.network.Network` (forward, backpropagation, evaluation of N members at once, with
the per-task loss gradients it needs); its operations must match the solo network's bit for
bit, which is what this docstring explains.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from . import losses as _losses
from .group_backend import GroupBackend  # noqa: F401  (re-exported)
from .network import EVAL_CHUNK, MC_SEED, Network, checked_targets

_MAX_CACHED = 8
"""Activation buffer sets kept per stacked network (one per (members, rows) shape)."""
EVAL_BYTES = 8 << 20
"""Activation bytes one evaluation pass may use for the members it evaluates together."""
_sum = np.add.reduce
_max = np.maximum.reduce


# --------------------------------------------------------------------------- batched losses
# The task losses of :mod:`.losses` over a stack (N, B, K): the same operations member by
# member (reductions over the same contiguous axis), the loss of each member as float64
# exactly as the solo function computes it in Python floats.


def _regression_loss_grad(Z: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.subtract(Z, y, out=out)
    size = out.shape[1] * out.shape[2]
    # np.vdot is the BLAS dot the solo loss uses: one call per member keeps its rounding
    loss = np.array([float(np.vdot(o, o)) for o in out]) / size
    out *= 2.0 / size
    return loss


def _binary_loss_grad(Z: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    N, n = Z.shape[0], Z.shape[1]
    z = Z.reshape(N, n)
    yf = y.reshape(N, n)
    if yf.dtype != z.dtype:
        yf = yf.astype(z.dtype)
    t = np.abs(z)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    mz = np.maximum(z, 0.0)
    r = np.multiply(z, yf)
    np.subtract(mz, r, out=r)
    r += t
    loss = _sum(r, axis=1).astype(np.float64) / n
    mz += t
    g = out.reshape(N, n)
    np.subtract(z, mz, out=g)
    np.exp(g, out=g)
    g -= yf
    g *= 1.0 / n
    return loss


def _multiclass_loss_grad(Z: np.ndarray, y: np.ndarray, out: np.ndarray, index) -> np.ndarray:
    N, n = Z.shape[0], Z.shape[1]
    members, rows = index
    m = _max(Z, axis=2, keepdims=True)
    np.subtract(Z, m, out=out)
    zy = out[members, rows, y]
    np.exp(out, out=out)
    s = _sum(out, axis=2, keepdims=True)
    loss = (_sum(np.log(s).reshape(N, n), axis=1).astype(np.float64) - _sum(zy, axis=1).astype(np.float64)) / n
    out /= s
    out[members, rows, y] -= 1.0
    out *= 1.0 / n
    return loss


class _Buffers:
    """Preallocated stacks for ``N`` members and ``n`` rows (see ``network._Buffers``);
    ``H2``/``G2``/``S2`` are the same buffers as 2-D ``(N n, width)`` views (the
    activations' fast paths are for 2-D arrays)."""

    __slots__ = ("n", "N", "H", "H2", "HT", "D", "DT", "M", "G", "G2", "S", "S2", "ins", "insT", "masks", "index")

    def __init__(self, N: int, n: int, sizes: tuple[int, ...], dtype: np.dtype):
        L = len(sizes) - 1
        self.N, self.n = N, n
        self.H = [np.empty((N, n, sizes[l + 1]), dtype) for l in range(L)]
        self.H2 = [h.reshape(N * n, -1) for h in self.H]
        self.HT = [h.transpose(0, 2, 1) for h in self.H]  # (N, width, n): the inputs of dJ/dW
        self.D = [None] * L
        self.DT = [None] * L
        self.M = [None] * L
        self.G = self.G2 = self.S = self.S2 = None
        self.ins = [None] * L
        self.insT = [None] * L
        self.masks = [None] * L
        self.index = (np.arange(N).reshape(N, 1), np.arange(n).reshape(1, n))


class StackedNetwork:
    """N member networks of one architecture as one stacked network (module docstring).

    Built from solo :class:`Network` s (``networks[m]`` gives member m its parameters,
    dropout rates and configuration); they must agree on the layer sizes and activations,
    task, test-time dropout method (and MC samples for ``mc``) and dtype.  Dropout rates (input and each
    hidden layer) may differ per member.

    ``params``/``grads``: flat ``N P`` buffers (member-major); ``params2d``/``grads2d`` their
    ``(N, P)`` views; ``weights[l]`` ``(N, fan_in, fan_out)``, ``biases[l]`` ``(N, 1, fan_out)``
    views.  ``loss_and_grad(X, y, rngs)`` trains on a stack of batches ``(N, B, d)``;
    ``evaluate(X, y, members)`` evaluates members on one shared ``X``.
    """

    def __init__(self, networks: Sequence[Network]):
        nets = list(networks)
        if not nets:
            raise ValueError("networks: a group needs at least one member")
        first = nets[0]
        for i, net in enumerate(nets):
            if not isinstance(net, Network):
                raise TypeError(f"networks[{i}]: expected Network, got {type(net).__name__}")
            for what in ("layer_sizes", "task", "dropout_method", "mc_samples", "dtype"):
                if what == "mc_samples" and first.dropout_method != "mc":
                    continue
                a, b = getattr(first, what), getattr(net, what)
                if a != b:
                    raise ValueError(f"networks[{i}].{what}: must match member 0 to train in lockstep, "
                                     f"got {b!r} vs {a!r}")
            acts = tuple(h.activation for h in net.hidden)
            if acts != tuple(h.activation for h in first.hidden):
                raise ValueError(f"networks[{i}]: hidden activations {acts} differ from member 0's")
        N = len(nets)
        self.n_members = N
        self.n_inputs, self.n_outputs, self.task = first.n_inputs, first.n_outputs, first.task
        self.dtype = first.dtype
        self.layer_sizes = first.layer_sizes
        self.dropout_method, self.mc_samples = first.dropout_method, first.mc_samples
        self._configs = [(net.hidden, net.input_dropout, net.output_init, net.seed) for net in nets]
        P = first.n_params
        self.n_params = P
        dt = self.dtype
        self.params = np.empty(N * P, dt)
        self.grads = np.zeros(N * P, dt)
        self.params2d = self.params.reshape(N, P)
        self.grads2d = self.grads.reshape(N, P)
        for i, net in enumerate(nets):
            self.params2d[i] = net.params
        self.weight_mask = first.weight_mask.copy()
        self.weights, self.biases, self.grad_weights, self.grad_biases = [], [], [], []
        off = 0
        sizes = self.layer_sizes
        L = len(sizes) - 1
        self._L = L
        for l in range(L):
            fi, fo = sizes[l], sizes[l + 1]
            self.weights.append(self.params2d[:, off : off + fi * fo].reshape(N, fi, fo))
            self.grad_weights.append(self.grads2d[:, off : off + fi * fo].reshape(N, fi, fo))
            off += fi * fo
            self.biases.append(self.params2d[:, off : off + fo].reshape(N, 1, fo))
            self.grad_biases.append(self.grads2d[:, off : off + fo])
            off += fo
        assert off == P
        self._weights_t = [w.transpose(0, 2, 1) for w in self.weights]
        self._fwd, self._bwd = first._fwd, first._bwd
        # dropout rate of member i at position k (0 = input, k = output of hidden layer k)
        self.rates = np.array([net._rates for net in nets], dtype=np.float64).reshape(N, L)
        self.member_has_dropout = [bool(np.any(r > 0.0)) for r in self.rates]
        self._has_dropout = any(self.member_has_dropout)
        self._sample_losses = _losses.SAMPLE_LOSSES[self.task]
        self._output = _losses.OUTPUT[self.task]
        # a member whose training loss is not the task's plain one (regression on
        # standardised targets, Network.set_target_scaling) computes it with its own
        # network's function, one call per member; its test-time output is yhat = m + s z
        self._member_loss = [net._loss_grad for net in nets]
        self._plain_loss = all(f is _losses.LOSS_GRAD[self.task] for f in self._member_loss)
        self._target = [getattr(net, "target_scaling", None) for net in nets]
        self._cache: dict[tuple[int, int], _Buffers] = {}
        self._rate_cache: dict[tuple, tuple] = {}
        self._all = tuple(range(N))
        self._member_views: dict[int, tuple] = {}

    # ------------------------------------------------------------------ members
    def member_params(self, member: int) -> np.ndarray:
        """Member ``member``'s parameters: a view of its block (solo layout)."""
        return self.params2d[member]

    def to_network(self, member: int) -> Network:
        """A solo :class:`Network` of member ``member`` (its configuration, a copy of its
        parameters)."""
        hidden, input_dropout, output_init, seed = self._configs[member]
        net = Network(self.n_inputs, hidden, self.n_outputs, self.task, input_dropout=input_dropout,
                      output_init=output_init, dropout_method=self.dropout_method, mc_samples=self.mc_samples,
                      dtype=self.dtype, seed=seed)
        net.params[...] = self.params2d[member]
        if self._target[member] is not None:
            net.set_target_scaling(*self._target[member])
        return net

    def __repr__(self) -> str:
        arch = "-".join(str(s) for s in self.layer_sizes)
        return (f"StackedNetwork({self.n_members} x {arch}, task={self.task!r}, n_params={self.n_params} each, "
                f"dtype={self.dtype.name})")

    # ------------------------------------------------------------------ buffers and masks
    def _buffers(self, N: int, n: int) -> _Buffers:
        key = (N, n)
        b = self._cache.get(key)
        if b is None:
            if len(self._cache) >= _MAX_CACHED:
                self._cache.pop(next(iter(self._cache)))
            b = self._cache[key] = _Buffers(N, n, self.layer_sizes, self.dtype)
        return b

    def _alloc_backward(self, b: _Buffers) -> None:
        N, n, dt = b.N, b.n, self.dtype
        b.G = [np.empty((N, n, s), dt) for s in self.layer_sizes[1:]]
        b.S = [np.empty((N, n, s), dt) for s in self.layer_sizes[1:-1]]
        b.G2 = [g.reshape(N * n, -1) for g in b.G]
        b.S2 = [s.reshape(N * n, -1) for s in b.S]

    def _rate_arrays(self, members: tuple) -> tuple:
        """Per position k: (threshold p, inverted scale 1/(1-p), classic scale 1-p) as
        (N', 1, 1) arrays of the dtype for ``members`` -- each the value the solo ufunc
        rounds its Python float to -- or None where no member drops anything."""
        cached = self._rate_cache.get(members)
        if cached is None:
            rates = self.rates[list(members)]
            dt = self.dtype
            cached = []
            for k in range(self._L):
                p = rates[:, k]
                if not np.any(p > 0.0):
                    cached.append(None)
                    continue
                col = lambda v: np.array(v, dtype=dt).reshape(-1, 1, 1)  # noqa: E731
                cached.append((col(p.tolist()), col([1.0 / (1.0 - q) for q in p.tolist()]),
                               col([1.0 - q for q in p.tolist()])))
            cached = self._rate_cache[members] = tuple(cached)
        return cached

    def _draw_masks(self, b: _Buffers, rngs: Sequence, members: tuple, scaled: bool) -> list:
        """Fresh dropout masks: member j (of ``members``) draws from ``rngs[j]`` (None: no
        draw; its rows are not used or its rate there is 0) at each position where its
        rate is > 0, in the solo order; then one threshold and one scale over the stack.
        A member whose rate at a position is 0 gets a mask of exactly 1 there."""
        masks = b.masks
        dt = self.dtype
        rates = self.rates
        for k, arrays in enumerate(self._rate_arrays(members)):
            if arrays is None:
                masks[k] = None
                continue
            M = b.M[k]
            if M is None:
                M = b.M[k] = np.zeros((b.N, b.n, self.layer_sizes[k]), dt)
            for j, rng in enumerate(rngs):
                if rng is not None and rates[members[j], k] > 0.0:
                    rng.random(dtype=dt, out=M[j])
            p, inv, _ = arrays
            np.greater_equal(M, p, out=M, casting="unsafe")
            if scaled:
                M *= inv
            masks[k] = M
        return masks

    # ------------------------------------------------------------------ forward
    def _forward(self, X: np.ndarray, b: _Buffers, masks, W, B) -> np.ndarray:
        """One pass of every member into ``b``; ``X`` is ``(N, n, d)`` (training: each
        member its batch) or ``(n, d)`` (evaluation: shared).  Returns the logits stack."""
        fwd, L, ins, insT = self._fwd, self._L, b.ins, b.insT
        matmul = np.matmul
        inp = X
        inpT = None  # X's transpose, made when the backward pass needs it
        if masks is not None and masks[0] is not None:
            D = b.D[0]
            if D is None:
                D = b.D[0] = np.empty((b.N, b.n, self.n_inputs), self.dtype)
                b.DT[0] = D.transpose(0, 2, 1)
            np.multiply(X, masks[0], out=D)
            inp, inpT = D, b.DT[0]
        for l in range(L):
            ins[l] = inp
            insT[l] = inpT
            Z = b.H[l]
            matmul(inp, W[l], out=Z)
            Z += B[l]
            if l < L - 1:
                Z2 = b.H2[l]
                fwd[l](Z2, Z2)
                inp, inpT = Z, b.HT[l]
                if masks is not None:
                    m = masks[l + 1]
                    if m is not None:
                        D = b.D[l + 1]
                        if D is None:
                            D = b.D[l + 1] = np.empty(Z.shape, self.dtype)
                            b.DT[l + 1] = D.transpose(0, 2, 1)
                        np.multiply(Z, m, out=D)
                        inp, inpT = D, b.DT[l + 1]
        return Z

    # ------------------------------------------------------------------ training
    def _views_of(self, member: Optional[int]) -> tuple:
        """(members, weights, biases, transposed weights, weight grads, bias grads) of all
        members (None) or of member ``member`` alone (views of its block)."""
        if member is None:
            return (self._all, self.weights, self.biases, self._weights_t, self.grad_weights, self.grad_biases)
        views = self._member_views.get(member)
        if views is None:
            i, j = member, member + 1
            views = self._member_views[member] = (
                (member,), [w[i:j] for w in self.weights], [b[i:j] for b in self.biases],
                [w[i:j] for w in self._weights_t], [w[i:j] for w in self.grad_weights],
                [b[i:j] for b in self.grad_biases])
        return views

    def loss_and_grad(self, X: np.ndarray, y: np.ndarray, rngs: Optional[Sequence] = None,
                      member: Optional[int] = None) -> np.ndarray:
        """Mean data loss of every member's batch (training mode; float64, shape (N,)) and
        ``grads`` <- each member's gradient.  ``X``: ``(N, B, d)``; ``y``: ``(N, B)`` labels
        or ``(N, B, K)`` targets.  ``rngs[m]``: member m's dropout stream (None: no draw).
        ``member``: train only that member (``X`` ``(1, B, d)``, one loss, one stream)."""
        members, W, Bv, Wt, gW, gB = self._views_of(member)
        N = len(members)
        if not isinstance(X, np.ndarray) or X.dtype != self.dtype:
            X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 3 or X.shape[0] != N or X.shape[2] != self.n_inputs:
            raise ValueError(f"X: expected shape ({N}, n, {self.n_inputs}), got {X.shape}")
        n = X.shape[1]
        b = self._cache.get((N, n))
        if b is None:
            b = self._buffers(N, n)
        if b.G is None:
            self._alloc_backward(b)
        masks = None
        if rngs is not None and self._has_dropout:
            masks = self._draw_masks(b, rngs, members, self.dropout_method != "classic")
        Z = self._forward(X, b, masks, W, Bv)
        last = self._L - 1
        G, G2, S2, H2 = b.G, b.G2, b.S2, b.H2
        g = G[last]
        task = self.task
        if task == "regression" and y.ndim == 2:
            y = y.reshape(N, n, 1)
        if not self._plain_loss:
            funcs = self._member_loss
            loss = np.array([funcs[i](Z[j], y[j], g[j]) for j, i in enumerate(members)], dtype=np.float64)
        elif task == "binary":
            loss = _binary_loss_grad(Z, y, g)
        elif task == "multiclass":
            loss = _multiclass_loss_grad(Z, y, g, b.index)
        else:
            loss = _regression_loss_grad(Z, y, g)
        matmul, reduce = np.matmul, np.add.reduce
        insT, bwd = b.insT, self._bwd
        for l in range(last, 0, -1):
            matmul(insT[l], g, out=gW[l])
            reduce(g, 1, out=gB[l])
            gp = G[l - 1]
            matmul(g, Wt[l], out=gp)
            if masks is not None:
                m = masks[l]
                if m is not None:
                    gp *= m
            bwd[l - 1](H2[l - 1], G2[l - 1], S2[l - 1])
            g = gp
        matmul(X.transpose(0, 2, 1) if insT[0] is None else insT[0], g, out=gW[0])
        reduce(g, 1, out=gB[0])
        return loss

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, X, y, members: Optional[Sequence[int]] = None, rngs=None) -> list[dict]:
        """Test-time metrics of each of ``members`` (default: all) on ``(X, y)``, as
        :meth:`Network.evaluate` computes them for that member's solo network: one batched
        forward pass per chunk of rows for all of them.  ``mc`` dropout: each member's
        passes draw from its own ``default_rng(MC_SEED)`` (as solo), or from ``rngs[j]``."""
        idx = tuple(range(self.n_members)) if members is None else tuple(int(i) for i in members)
        results = self._evaluate(X, y, idx, rngs)
        out = []
        task = self.task
        n = results["n"]
        if task == "regression":
            yd = results["y"].astype(np.float64)
            ss_tot = float(((yd - yd.mean(axis=0)) ** 2).sum())
        for j in range(len(idx)):
            loss = results["loss"][j]
            if task != "regression":
                out.append({"loss": loss, "accuracy": results["correct"][j] / n})
                continue
            ss_res = results["sse"][j]
            if ss_tot > 0.0:
                r2 = 1.0 - ss_res / ss_tot
            else:
                r2 = 1.0 if ss_res == 0.0 else 0.0
            out.append({"loss": loss, "rmse": math.sqrt(loss), "r2": r2})
        return out

    def predict(self, X, members: Optional[Sequence[int]] = None, rngs=None) -> list[np.ndarray]:
        """Test-time predictions of each of ``members`` (as :meth:`Network.predict`)."""
        idx = tuple(range(self.n_members)) if members is None else tuple(int(i) for i in members)
        return self._evaluate(X, None, idx, rngs, keep_pred=True)["pred"]

    def _evaluate(self, X, y, idx: tuple, rngs=None, keep_pred: bool = False) -> dict:
        """The batched counterpart of ``Network._evaluate``: chunks of EVAL_CHUNK rows,
        one stacked forward pass per chunk, then each member's loss and counts exactly as
        the solo network computes them on its own logits."""
        if not isinstance(X, np.ndarray) or X.dtype != self.dtype:
            X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"X: expected shape (n, {self.n_inputs}), got {X.shape}")
        n = X.shape[0]
        if n == 0:
            raise ValueError("X: no rows")
        if y is not None:
            y = checked_targets(y, n, self.task, self.n_outputs)
        # members in runs of consecutive indices (their weights are views, no copies), as
        # many per pass as keep the pass's activations within EVAL_BYTES (a solo network's
        # 4096-row chunk of a wide layer is already a few MB: more would only spill caches)
        per_member = min(n, EVAL_CHUNK) * sum(self.layer_sizes) * self.dtype.itemsize
        most = max(1, EVAL_BYTES // per_member)
        runs: list[list[int]] = []
        for j, i in enumerate(idx):
            if runs and idx[runs[-1][-1]] == i - 1 and len(runs[-1]) < most:
                runs[-1].append(j)
            else:
                runs.append([j])
        out = {"n": n, "y": y, "pred": [None] * len(idx), "loss": [None] * len(idx), "sse": [None] * len(idx),
               "correct": [None] * len(idx)}
        for run in runs:
            sub = self._evaluate_members(X, y, tuple(idx[j] for j in run),
                                         None if rngs is None else [rngs[j] for j in run], keep_pred)
            for key in ("pred", "loss", "sse", "correct"):
                if sub.get(key) is not None:
                    for j, v in zip(run, sub[key]):
                        out[key][j] = v
        return out

    def _evaluate_members(self, X, y, idx: tuple, rngs, keep_pred: bool) -> dict:
        """``_evaluate`` for members ``idx`` together (validated ``X``, ``y``)."""
        n = X.shape[0]
        task, K = self.task, self.n_outputs
        Ns = len(idx)
        lo, hi = idx[0], idx[-1] + 1
        if idx == tuple(range(lo, hi)):
            W, B = [w[lo:hi] for w in self.weights], [v[lo:hi] for v in self.biases]
        else:
            sel = list(idx)
            W, B = [w[sel] for w in self.weights], [v[sel] for v in self.biases]
        method = self.dropout_method
        has = [self.member_has_dropout[i] for i in idx]
        mc = [j for j in range(Ns) if method == "mc" and has[j]]
        plain = [j for j in range(Ns) if not (method == "mc" and has[j])]
        masks = None
        if method == "classic" and any(has):
            masks = [None if a is None else a[2] for a in self._rate_arrays(idx)]
        if mc:
            if rngs is None:
                rngs = [np.random.default_rng(MC_SEED) if j in mc else None for j in range(Ns)]
            else:
                rngs = [rngs[j] if j in mc else None for j in range(Ns)]
        S = self.mc_samples
        affine = [self._target[i] for i in idx]  # regression on standardised targets: (m, s) or None
        totals = [0.0] * Ns
        correct = [0] * Ns
        pred = None
        if keep_pred:
            pred = [np.empty((n,) if task == "binary" else (n, K), self.dtype) for _ in range(Ns)]
        output, sample_losses = self._output, self._sample_losses
        for start in range(0, n, EVAL_CHUNK):
            stop = min(start + EVAL_CHUNK, n)
            Xc = X[start:stop]
            yc = None if y is None else y[start:stop]
            rows = stop - start
            b = self._buffers(Ns, rows)
            Ps: dict[int, np.ndarray] = {}
            if plain:
                Z = self._forward(Xc, b, masks, W, B)
                for j in plain:
                    Zj = Z[j]
                    Ps[j] = output(Zj)
                    if yc is not None and affine[j] is None:
                        totals[j] += float(sample_losses(Zj, yc).sum())
            if mc:
                acc: dict[int, np.ndarray] = {}
                lpass = None
                if yc is not None and task != "regression":
                    lpass = {j: np.empty((S, rows)) for j in mc}
                for s in range(S):
                    Z = self._forward(Xc, b, self._draw_masks(b, rngs, idx, True), W, B)
                    for j in mc:
                        P = output(Z[j])
                        if j in acc:
                            acc[j] += P
                        else:
                            acc[j] = P
                        if lpass is not None:
                            lpass[j][s] = sample_losses(Z[j], yc)
                for j in mc:
                    P = acc[j]
                    P /= S
                    Ps[j] = P
                    if yc is not None and affine[j] is None:
                        if task == "regression":
                            totals[j] += float(_losses.regression_sample_losses(P, yc).sum())
                        else:
                            lp = lpass[j]
                            np.negative(lp, out=lp)
                            mx = lp.max(axis=0)
                            lse = mx + np.log(np.exp(lp - mx).sum(axis=0))
                            totals[j] += float(np.sum(math.log(S) - lse))
            for j in range(Ns):
                P = Ps[j]
                if affine[j] is not None:  # yhat = m + s z, rounded to the dtype as predict returns it
                    P = _losses.unstandardize(P, *affine[j]).astype(self.dtype)
                    if yc is not None:
                        d = P.astype(np.float64) - yc
                        totals[j] += float(np.vdot(d, d))
                if yc is not None and task != "regression":
                    if task == "binary":
                        correct[j] += int(np.count_nonzero((P > 0.5) == (yc.reshape(-1) > 0.5)))
                    else:
                        correct[j] += int(np.count_nonzero(P.argmax(axis=1) == yc.reshape(-1)))
                if keep_pred:
                    pred[j][start:stop] = P
        out = {"n": n, "pred": pred, "y": y}
        if y is not None:
            if task == "regression":
                out["loss"] = [t / (n * K) for t in totals]
                out["sse"] = totals
            else:
                out["loss"] = [t / n for t in totals]
                out["correct"] = correct
        return out
