"""The multilayer perceptron: forward pass, backpropagation, prediction.

Notation (seed 001, "Multiple Input-Output Pairs"; one row per sample)::

    H^(0) = X                                     (n, d)
    A^(l) = H^(l-1) W^(l) + b^(l)                 W^(l): (fan_in, fan_out), b^(l): (fan_out,)
    H^(l) = g_l(A^(l))             l = 1 .. L-1   (hidden layers)
    A^(L)                                         output pre-activation ("logits")

and the output unit + loss of the task (see :mod:`.losses`).  Backpropagation with
``G^(l) = dJ/dA^(l)``::

    G^(L)       = dJ/dA^(L)                       (from the loss, already / n)
    dJ/dW^(l)   = H^(l-1)^T G^(l)                 dJ/db^(l) = sum_i G^(l)_i
    G^(l-1)     = (G^(l) W^(l)^T) ⊙ g'_{l-1}(A^(l-1))

Dropout (seed 000 §2.2, seed 004): a mask ``M^(l)`` multiplies ``H^(l)`` (and ``M^(0)``
the input) during training; the backward pass uses the post-dropout values, i.e.
``G^(l-1)`` is also multiplied by ``M^(l-1)``.  With rate ``p`` (probability of
dropping a unit) the three treatments are

``inverted`` (default)
    train: ``M = B / (1 - p)``, ``B ~ Bernoulli(1 - p)``; test: plain forward pass.
``classic``
    train: ``M = B`` (0/1, no scaling); test: Method 2 of seed 000 — the weights
    leaving a layer whose units were dropped with rate ``p`` are multiplied by
    ``(1 - p)``.  This is computed as ``(H (1 - p)) W`` which equals ``H ((1 - p) W)``.
``mc``
    train as ``inverted``; test: Method 1 of seed 000 — the average over
    ``mc_samples`` masked (inverted) forward passes.  Predictions are the mean of the
    passes' outputs (probabilities for classification); the classification loss is
    that of the averaged probability, ``-log((1/S) sum_s p_s(y|x))``, computed stably
    as ``-(logsumexp_s(-l_s) - log S)`` from the per-pass losses ``l_s``.  Masks come
    from ``rng`` if given, else from a fixed internal seed, so results are repeatable.

Regression on standardised targets (:meth:`Network.set_target_scaling`): with the
training split's per-output mean ``m`` and std ``s`` the output unit becomes
``yhat = m + s ⊙ A^(L)`` and the network is trained on ``y~ = (y - m) / s``: the
gradient is that of ``J~ = (1/(nK)) sum (A^(L) - y~)^2`` (the standardised problem),
while every value it returns — the batch loss of :meth:`loss_and_grad`, :meth:`loss`,
:meth:`evaluate`, :meth:`predict` — is in the targets' units,
``J = (1/(nK)) sum (yhat - y)^2 = (1/(nK)) sum_k s_k^2 sum_i (A^(L)_ik - y~_ik)^2``.
``y`` is always given in the targets' units.

All parameters live in ONE flat buffer ``params`` (layer by layer: ``W^(1)``, ``b^(1)``,
``W^(2)``, ...); ``weights[l]`` and ``biases[l]`` are views into it, and ``grads``,
``grad_weights[l]``, ``grad_biases[l]`` likewise.  Activation buffers are allocated
once per batch size and reused.

Why this module is long: it is one class, the network: forward pass, backpropagation and
evaluation, each with the three dropout treatments and target scaling, on buffers reused per
batch size; this docstring is the mathematics they implement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from . import activations as _act
from . import losses as _losses
from .initializers import INITIALIZER_NAMES, initialize as _initialize

TASKS = _losses.TASKS
DROPOUT_METHODS = ("inverted", "classic", "mc")
EVAL_CHUNK = 4096
MC_SEED = 20240917  # fixed seed of the mc test-time masks when no rng is given
_MAX_CACHED_BATCH_SIZES = 8


def checked_targets(y, n: int, task: str, n_outputs: int) -> np.ndarray:
    """The targets ``y`` of ``n`` evaluated rows as an array (ValueError when the rows
    differ); a 1-D regression target of a one-output network becomes one column."""
    y = np.asarray(y)
    if y.shape[0] != n:
        raise ValueError(f"y: expected {n} rows, got shape {y.shape}")
    if task == "regression" and y.ndim == 1:
        if n_outputs != 1:
            raise ValueError(f"y: expected shape ({n}, {n_outputs}), got {y.shape}")
        y = y.reshape(-1, 1)
    return y


@dataclass(frozen=True)
class LayerConfig:
    """One hidden dense layer: ``H = g(H_prev W + b)`` with ``units`` units, activation
    ``g`` (a name of :data:`activations.ACTIVATION_NAMES`), dropout rate ``p`` on its
    output and the initialiser ``init`` (a name of :data:`initializers.INITIALIZER_NAMES`)."""

    units: int
    activation: str
    dropout: float = 0.0
    init: str = "he_uniform"


class _Buffers:
    """Preallocated arrays for one batch size ``n``.

    ``H[l]``: ``A^(l+1)`` then, in place, ``H^(l+1)``; the last is the logits.
    ``D[k]`` / ``M[k]``: post-dropout values / mask at position ``k`` (0 = input,
    ``k`` = output of hidden layer ``k``).  ``G[l]``, ``S[l]``: deltas and scratch."""

    __slots__ = ("n", "H", "D", "M", "G", "S", "ins", "masks")

    def __init__(self, n: int, sizes: tuple[int, ...], dtype: np.dtype):
        L = len(sizes) - 1
        self.n = n
        self.H = [np.empty((n, sizes[l + 1]), dtype) for l in range(L)]
        self.D = [None] * L
        self.M = [None] * L
        self.G = None
        self.S = None
        self.ins = [None] * L
        self.masks = [None] * L


class Network:
    """A fully connected network ``n_inputs -> hidden... -> n_outputs`` for ``task``.

    ``task``: ``regression`` (linear output + MSE), ``binary`` (one sigmoid output +
    BCE from logits; ``n_outputs`` must be 1) or ``multiclass`` (softmax + cross entropy;
    ``n_outputs`` = number of classes >= 2).  ``hidden=[]`` gives a linear / logistic /
    softmax regression model.  The parameters are initialised from ``seed`` by each
    layer's initialiser (``output_init`` for the output layer).
    """

    def __init__(
        self,
        n_inputs: int,
        hidden: Sequence[LayerConfig],
        n_outputs: int,
        task: str,
        *,
        input_dropout: float = 0.0,
        output_init: str = "xavier_uniform",
        dropout_method: str = "inverted",
        mc_samples: int = 20,
        dtype=np.float32,
        seed: int = 0,
    ):
        hidden = tuple(hidden)
        if task not in TASKS:
            raise ValueError(f"task: must be one of {', '.join(TASKS)}, got {task!r}")
        if int(n_inputs) < 1:
            raise ValueError(f"n_inputs: must be >= 1, got {n_inputs}")
        if task == "binary" and n_outputs != 1:
            raise ValueError(f"n_outputs: must be 1 for a binary task, got {n_outputs}")
        if task == "multiclass" and n_outputs < 2:
            raise ValueError(f"n_outputs: must be >= 2 for a multiclass task, got {n_outputs}")
        if n_outputs < 1:
            raise ValueError(f"n_outputs: must be >= 1, got {n_outputs}")
        if dropout_method not in DROPOUT_METHODS:
            raise ValueError(f"dropout_method: must be one of {', '.join(DROPOUT_METHODS)}, got {dropout_method!r}")
        if int(mc_samples) < 1:
            raise ValueError(f"mc_samples: must be >= 1, got {mc_samples}")
        if not 0.0 <= input_dropout < 1.0:
            raise ValueError(f"input_dropout: must be in [0, 1), got {input_dropout}")
        if output_init not in INITIALIZER_NAMES:
            raise ValueError(f"output_init: must be one of {', '.join(INITIALIZER_NAMES)}, got {output_init!r}")
        for i, h in enumerate(hidden):
            if not isinstance(h, LayerConfig):
                raise TypeError(f"hidden[{i}]: expected LayerConfig, got {type(h).__name__}")
            if int(h.units) < 1:
                raise ValueError(f"hidden[{i}].units: must be >= 1, got {h.units}")
            _act.get(h.activation)
            if not 0.0 <= h.dropout < 1.0:
                raise ValueError(f"hidden[{i}].dropout: must be in [0, 1), got {h.dropout}")
            if h.init not in INITIALIZER_NAMES:
                raise ValueError(f"hidden[{i}].init: must be one of {', '.join(INITIALIZER_NAMES)}, got {h.init!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"dtype: must be float32 or float64, got {dtype}")

        self.n_inputs = int(n_inputs)
        self.n_outputs = int(n_outputs)
        self.task = task
        self.hidden = hidden
        self.input_dropout = float(input_dropout)
        self.output_init = output_init
        self.dropout_method = dropout_method
        self.mc_samples = int(mc_samples)
        self.dtype = dtype
        self.seed = seed

        sizes = (self.n_inputs, *(int(h.units) for h in hidden), self.n_outputs)
        self.layer_sizes = sizes
        L = len(sizes) - 1
        self._L = L
        n_params = sum(sizes[l] * sizes[l + 1] + sizes[l + 1] for l in range(L))
        self.n_params = n_params
        self.params = np.zeros(n_params, dtype)
        self.grads = np.zeros(n_params, dtype)
        self.weight_mask = np.zeros(n_params, bool)
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        self.grad_weights: list[np.ndarray] = []
        self.grad_biases: list[np.ndarray] = []
        off = 0
        for l in range(L):
            fi, fo = sizes[l], sizes[l + 1]
            self.weights.append(self.params[off : off + fi * fo].reshape(fi, fo))
            self.grad_weights.append(self.grads[off : off + fi * fo].reshape(fi, fo))
            self.weight_mask[off : off + fi * fo] = True
            off += fi * fo
            self.biases.append(self.params[off : off + fo])
            self.grad_biases.append(self.grads[off : off + fo])
            off += fo
        assert off == n_params

        acts = [_act.get(h.activation) for h in hidden]
        self._fwd = tuple(a.forward for a in acts)
        self._bwd = tuple(a.backward for a in acts)
        self._identity = tuple(a.name == "identity" for a in acts)
        # dropout rate at position k: 0 = input, k >= 1 = output of hidden layer k-1
        self._rates = (self.input_dropout, *(float(h.dropout) for h in hidden))
        self._has_dropout = any(p > 0.0 for p in self._rates)
        self._last_masks: Optional[list] = None  # the masks of the last training step (see last_masks)
        self._train_scaled = dropout_method != "classic"
        self._classic_scales = [(1.0 - p) if p > 0.0 else None for p in self._rates]
        self._loss_grad = _losses.LOSS_GRAD[task]
        self._sample_losses = _losses.SAMPLE_LOSSES[task]
        self._target_shift: Optional[np.ndarray] = None  # regression on standardised targets: m, s
        self._target_scale: Optional[np.ndarray] = None
        self._cache: dict[int, _Buffers] = {}
        self.initialize(np.random.default_rng(seed))

    # ------------------------------------------------------------------ parameters
    @property
    def layers(self) -> tuple[LayerConfig, ...]:
        """The hidden layer configurations (same as ``hidden``)."""
        return self.hidden

    def initialize(self, rng: np.random.Generator) -> None:
        """Re-initialise every layer by its initialiser (output layer: ``output_init``)."""
        sizes = self.layer_sizes
        inits = [h.init for h in self.hidden] + [self.output_init]
        for l, name in enumerate(inits):
            _initialize(name, sizes[l], sizes[l + 1], rng, self.weights[l], self.biases[l])
        self.grads.fill(0.0)

    def set_target_scaling(self, shift, scale) -> None:
        """Regression: train on ``y~ = (y - shift) / scale`` and report in the targets'
        units through the output unit ``yhat = shift + scale ⊙ A^(L)`` (see the module
        docstring).  ``shift``, ``scale``: ``(n_outputs,)``, finite, ``scale > 0``
        (the training split's mean and std per output).  ``None, None``: the identity."""
        if shift is None and scale is None:
            self._target_shift = self._target_scale = None
            self._loss_grad = _losses.LOSS_GRAD[self.task]
            return
        if self.task != "regression":
            raise ValueError(f"target scaling: only for a regression network, this one is {self.task}")
        m = np.asarray(shift, dtype=np.float64).reshape(-1)
        s = np.asarray(scale, dtype=np.float64).reshape(-1)
        if m.shape != (self.n_outputs,) or s.shape != (self.n_outputs,):
            raise ValueError(f"target scaling: shift and scale must have shape ({self.n_outputs},), "
                             f"got {m.shape} and {s.shape}")
        if not (np.isfinite(m).all() and np.isfinite(s).all() and (s > 0).all()):
            raise ValueError(f"target scaling: shift must be finite and scale finite and > 0, got {m} and {s}")
        self._target_shift, self._target_scale = m, s
        m.flags.writeable = False
        s.flags.writeable = False

        def loss_grad(Z, y, out, _m=m, _s=s):
            return _losses.standardized_regression_loss_grad(Z, y, out, _m, _s)

        self._loss_grad = loss_grad

    @property
    def target_scaling(self) -> Optional[tuple[np.ndarray, np.ndarray]]:
        """``(shift, scale)`` of the output unit ``yhat = shift + scale ⊙ A^(L)``, or None."""
        if self._target_shift is None:
            return None
        return self._target_shift, self._target_scale

    def get_params(self) -> np.ndarray:
        """A copy of the flat parameter vector."""
        return self.params.copy()

    def set_params(self, vec) -> None:
        """Copy ``vec`` (length ``n_params``) into the flat parameter buffer (views stay valid)."""
        vec = np.asarray(vec)
        if vec.shape != (self.n_params,):
            raise ValueError(f"params: expected shape ({self.n_params},), got {vec.shape}")
        np.copyto(self.params, vec, casting="same_kind")

    def copy(self, dtype=None) -> "Network":
        """An independent network with the same configuration and parameters
        (cast to ``dtype`` if given, e.g. float64 for gradient checking)."""
        other = Network(
            self.n_inputs,
            self.hidden,
            self.n_outputs,
            self.task,
            input_dropout=self.input_dropout,
            output_init=self.output_init,
            dropout_method=self.dropout_method,
            mc_samples=self.mc_samples,
            dtype=self.dtype if dtype is None else dtype,
            seed=self.seed,
        )
        other.params[...] = self.params
        if self._target_shift is not None:
            other.set_target_scaling(self._target_shift, self._target_scale)
        return other

    def __repr__(self) -> str:
        arch = "-".join(str(s) for s in self.layer_sizes)
        return f"Network({arch}, task={self.task!r}, n_params={self.n_params}, dtype={self.dtype.name})"

    # ------------------------------------------------------------------ buffers
    def _buffers(self, n: int) -> _Buffers:
        b = self._cache.get(n)
        if b is None:
            if len(self._cache) >= _MAX_CACHED_BATCH_SIZES:
                self._cache.pop(next(iter(self._cache)))
            b = self._cache[n] = _Buffers(n, self.layer_sizes, self.dtype)
        return b

    def _alloc_backward(self, b: _Buffers) -> None:
        n, dt = b.n, self.dtype
        b.G = [np.empty((n, s), dt) for s in self.layer_sizes[1:]]
        b.S = [np.empty((n, s), dt) for s in self.layer_sizes[1:-1]]

    def _draw_masks(self, b: _Buffers, rng: np.random.Generator, scaled: bool) -> list:
        """Fresh dropout masks at every position with rate p > 0: Bernoulli(1-p) keep,
        scaled by 1/(1-p) when ``scaled`` (inverted), 0/1 otherwise (classic)."""
        masks = b.masks
        sizes = self.layer_sizes
        dt = self.dtype
        for k, p in enumerate(self._rates):
            if p > 0.0:
                M = b.M[k]
                if M is None:
                    M = b.M[k] = np.empty((b.n, sizes[k]), dt)
                rng.random(dtype=dt, out=M)
                np.greater_equal(M, p, out=M, casting="unsafe")
                if scaled:
                    M *= 1.0 / (1.0 - p)
                masks[k] = M
            else:
                masks[k] = None
        return masks

    def _as_input(self, X) -> np.ndarray:
        if not isinstance(X, np.ndarray) or X.dtype != self.dtype:
            X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"X: expected shape (n, {self.n_inputs}), got {X.shape}")
        return X

    # ------------------------------------------------------------------ forward
    def _forward(self, X: np.ndarray, b: _Buffers, masks) -> np.ndarray:
        """One forward pass into ``b``; ``masks[k]`` (array or scalar) multiplies the
        values at position k.  Returns the logits buffer ``A^(L)`` (reused!)."""
        W, B, fwd, L = self.weights, self.biases, self._fwd, self._L
        ins = b.ins
        dot = np.dot  # np.dot(out=) has less per-call overhead than np.matmul for tiny layers
        inp = X
        if masks is not None and masks[0] is not None:
            D = b.D[0]
            if D is None:
                D = b.D[0] = np.empty(X.shape, self.dtype)
            np.multiply(X, masks[0], out=D)
            inp = D
        for l in range(L):
            ins[l] = inp
            Z = b.H[l]
            dot(inp, W[l], out=Z)
            Z += B[l]
            if l < L - 1:
                fwd[l](Z, Z)
                inp = Z
                if masks is not None:
                    m = masks[l + 1]
                    if m is not None:
                        D = b.D[l + 1]
                        if D is None:
                            D = b.D[l + 1] = np.empty(Z.shape, self.dtype)
                        np.multiply(Z, m, out=D)
                        inp = D
        return Z

    @property
    def last_masks(self) -> Optional[list]:
        """The dropout masks ``M^(k)`` the last training step (:meth:`loss_and_grad`) used,
        per position ``0 .. L-1`` (input, then each hidden layer): an ``(n, units)`` array
        (``B/(1-p)`` inverted, ``B`` classic) or None where no unit can drop; None when that
        step had no dropout.  The arrays are the network's buffers, overwritten by the next
        step: copy what you keep (the Inside dock keeps one row of each)."""
        return self._last_masks

    def forward(self, X, rng: Optional[np.random.Generator] = None, masks=None) -> np.ndarray:
        """One *training-mode* pass; returns a copy of the output pre-activation ``A^(L)``
        (shape ``(n, n_outputs)``).  Dropout masks as in :meth:`loss_and_grad`."""
        X = self._as_input(X)
        b = self._buffers(X.shape[0])
        if masks is None:
            if rng is not None and self._has_dropout:
                masks = self._draw_masks(b, rng, self._train_scaled)
        elif len(masks) != self._L:
            raise ValueError(f"masks: expected {self._L} entries (input + one per hidden layer), got {len(masks)}")
        return self._forward(X, b, masks).copy()

    # ------------------------------------------------------------------ training
    def loss_and_grad(self, X, y, rng: Optional[np.random.Generator] = None, masks=None) -> float:
        """Mean data loss ``J`` of the batch (training mode) and ``grads <- dJ/dparams``.

        Dropout masks are drawn from ``rng`` when it is given (``None``: no dropout,
        deterministic).  ``masks`` overrides drawing: a list with the input mask first
        and then one per hidden layer (``None`` = no dropout there), each shaped like
        that position's values for this batch and already scaled (e.g. ``B/(1-p)``).
        No penalty is included (see :func:`regularization.add_penalty`).
        """
        dt = self.dtype
        if not isinstance(X, np.ndarray) or X.dtype != dt:
            X = np.asarray(X, dtype=dt)
        n = X.shape[0]
        b = self._cache.get(n)
        if b is None:
            b = self._buffers(n)
        if b.G is None:
            self._alloc_backward(b)
        if masks is None:
            if rng is not None and self._has_dropout:
                masks = self._draw_masks(b, rng, self._train_scaled)
        elif len(masks) != self._L:
            raise ValueError(f"masks: expected {self._L} entries (input + one per hidden layer), got {len(masks)}")
        self._last_masks = masks

        Z = self._forward(X, b, masks)
        W, H, ins, last, dot = self.weights, b.H, b.ins, self._L - 1, np.dot

        # loss and backward
        G, S, gW, gB, bwd = b.G, b.S, self.grad_weights, self.grad_biases, self._bwd
        g = G[last]
        loss = self._loss_grad(Z, y, g)
        reduce = np.add.reduce
        for l in range(last, 0, -1):
            dot(ins[l].T, g, out=gW[l])
            reduce(g, 0, out=gB[l])
            gp = G[l - 1]
            dot(g, W[l].T, out=gp)
            if masks is not None:
                m = masks[l]
                if m is not None:
                    gp *= m
            bwd[l - 1](H[l - 1], gp, S[l - 1])
            g = gp
        dot(ins[0].T, g, out=gW[0])
        reduce(g, 0, out=gB[0])
        return loss

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, X, y, rng, keep_pred: bool):
        """Test-time pass over ``X`` in chunks of EVAL_CHUNK rows.

        Returns ``(loss, pred, extra)``: ``loss`` is None without ``y``; ``pred`` the
        predictions if ``keep_pred``; ``extra`` holds ``correct`` (classification) or
        ``sse`` (regression) when ``y`` is given."""
        X = self._as_input(X)
        n = X.shape[0]
        if n == 0:
            raise ValueError("X: no rows")
        task = self.task
        K = self.n_outputs
        if y is not None:
            y = checked_targets(y, n, task, K)
        pred = None
        if keep_pred:
            pred = np.empty((n,) if task == "binary" else (n, K), self.dtype)
        method = self.dropout_method
        mc = method == "mc" and self._has_dropout
        masks = self._classic_scales if (method == "classic" and self._has_dropout) else None
        if mc and rng is None:
            rng = np.random.default_rng(MC_SEED)
        S = self.mc_samples
        total = 0.0
        correct = 0
        output = _losses.OUTPUT[task]
        affine = self._target_shift is not None  # regression on standardised targets
        for start in range(0, n, EVAL_CHUNK):
            stop = min(start + EVAL_CHUNK, n)
            Xc = X[start:stop]
            yc = None if y is None else y[start:stop]
            b = self._buffers(stop - start)
            if not mc:
                Z = self._forward(Xc, b, masks)
                P = output(Z)
                if yc is not None and not affine:
                    total += float(self._sample_losses(Z, yc).sum())
            else:
                acc = None
                lpass = np.empty((S, stop - start)) if (yc is not None and task != "regression") else None
                for s in range(S):
                    Z = self._forward(Xc, b, self._draw_masks(b, rng, True))
                    P = output(Z)  # new array: regression copies Z
                    if acc is None:
                        acc = P
                    else:
                        acc += P
                    if lpass is not None:
                        lpass[s] = self._sample_losses(Z, yc)
                P = acc
                P /= S
                if yc is not None and not affine:
                    if task == "regression":
                        total += float(_losses.regression_sample_losses(P, yc).sum())
                    else:
                        # -log((1/S) sum_s exp(-l_s)) = -(logsumexp_s(-l_s) - log S)
                        np.negative(lpass, out=lpass)
                        mx = lpass.max(axis=0)
                        lse = mx + np.log(np.exp(lpass - mx).sum(axis=0))
                        total += float(np.sum(math.log(S) - lse))
            if affine:  # yhat = m + s z (after the mc average), rounded to the dtype as predict returns it
                P = _losses.unstandardize(P, self._target_shift, self._target_scale).astype(self.dtype)
                if yc is not None:
                    d = P.astype(np.float64) - yc
                    total += float(np.vdot(d, d))
            if yc is not None and task != "regression":
                if task == "binary":
                    correct += int(np.count_nonzero((P > 0.5) == (yc.reshape(-1) > 0.5)))
                else:
                    correct += int(np.count_nonzero(P.argmax(axis=1) == yc.reshape(-1)))
            if keep_pred:
                pred[start:stop] = P
        if y is None:
            return None, pred, None
        if task == "regression":
            return total / (n * K), pred, {"sse": total, "y": y}
        return total / n, pred, {"correct": correct}

    def predict(self, X, rng: Optional[np.random.Generator] = None) -> np.ndarray:
        """Test-time predictions: regression ``(n, n_out)`` values; binary ``(n,)``
        ``P(y=1|x)``; multiclass ``(n, K)`` class probabilities.  ``rng`` only matters
        for ``mc`` dropout (default: a fixed internal seed)."""
        return self._evaluate(X, None, rng, True)[1]

    def loss(self, X, y, rng: Optional[np.random.Generator] = None) -> float:
        """Test-time (eval-mode) mean data loss on ``(X, y)``."""
        return self._evaluate(X, y, rng, False)[0]

    def evaluate(self, X, y, rng: Optional[np.random.Generator] = None) -> dict:
        """Test-time metrics: ``{"loss", "accuracy"}`` for classification (binary:
        class 1 when ``P(y=1|x) > 0.5``; multiclass: arg max), ``{"loss", "rmse",
        "r2"}`` for regression with ``rmse = sqrt(MSE over all entries)`` and
        ``r2 = 1 - SS_res/SS_tot`` (``SS_tot`` around each output's mean, summed over
        the outputs; 1.0 for a perfect fit of constant targets, else 0.0 when SS_tot = 0)."""
        loss, _, extra = self._evaluate(X, y, rng, False)
        if self.task != "regression":
            n = np.asarray(X).shape[0]
            return {"loss": loss, "accuracy": extra["correct"] / n}
        y = extra["y"]
        yd = y.astype(np.float64)
        ss_tot = float(((yd - yd.mean(axis=0)) ** 2).sum())
        ss_res = extra["sse"]
        if ss_tot > 0.0:
            r2 = 1.0 - ss_res / ss_tot
        else:
            r2 = 1.0 if ss_res == 0.0 else 0.0
        return {"loss": loss, "rmse": math.sqrt(loss), "r2": r2}
