"""The spread of every layer's activations at epoch 0 under several initialisers (seed 004):
with inputs of variance ``gamma^2`` and weights of variance ``sigma^2``,
``Var[w_i^T x] = d_in sigma^2 gamma^2``, so the spread of ``A^(l)`` (and of ``H^(l)``) from
layer to layer shows whether an initialiser keeps the signal alive; with all-zero weights
every hidden unit computes the same thing (the symmetry problem).  See :func:`init_spread`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np

from . import activations as _act
from .eval_batch import EVAL_BATCH_ROWS
from .initializers import initialize as _initialize
from .layer_stats import ActivationStats, activation_stats, layer_names

DEFAULT_INITIALIZERS = ("he_normal", "xavier_uniform", "pytorch_default", "zeros")
"""The initialisers :func:`init_spread` compares by default (seed 004's list plus the trap)."""


@dataclass(frozen=True, eq=False)
class InitSpread:
    """:func:`init_spread`'s answer: ``stats[label]`` holds one :class:`ActivationStats`
    per layer (``layer_names``; the last is the output's logits ``A^(L)``)."""

    labels: tuple[str, ...]
    layer_names: tuple[str, ...]
    activations: tuple[str, ...]
    stats: dict
    rows: int

    def std_table(self) -> np.ndarray:
        """``(len(labels), len(layer_names))`` array of the activations' std."""
        return np.array([[s.std for s in self.stats[k]] for k in self.labels])


InitChoice = Union[str, Sequence[str]]


def current_initializers(network) -> tuple[str, ...]:
    """The network's initialiser per layer: the hidden layers' ``init`` and ``output_init``."""
    return tuple(h.init for h in network.hidden) + (network.output_init,)


def init_spread(
    layer_sizes: Sequence[int],
    activations: Union[str, Sequence[str]],
    X,
    initializers: Sequence[InitChoice] = DEFAULT_INITIALIZERS,
    seed=0,
    *,
    labels: Optional[Sequence[str]] = None,
    max_rows: int = EVAL_BATCH_ROWS,
    dtype=np.float32,
) -> InitSpread:
    """Activation spread per layer at epoch 0 under several initialisers (seed 004).

    ``layer_sizes`` = ``(d, hidden units..., outputs)``; ``activations`` one name per
    hidden layer (or one for all).  Each entry of ``initializers`` is a name (used for
    every layer, the output too) or a tuple of names, one per layer (e.g.
    :func:`current_initializers`); ``labels`` name them (default: the name, or
    "current" for a tuple).  Every entry draws from a fresh ``default_rng(seed)`` layer
    by layer as :meth:`Network.initialize` does, so with ``seed =
    SeedSequence([spec seed, 1])`` the "current" entry has exactly the weights
    ``build.make_network`` starts from, and the named rules share their random numbers.

    The pass is ``H^(l) = g_l(H^(l-1) W^(l) + b^(l))`` without dropout on at most
    ``max_rows`` rows of ``X`` (evenly spaced when there are more).  Per entry and layer
    the answer holds :class:`ActivationStats` (std, mean, saturation, dead units, and
    ``identical_units``: with ``zeros`` every unit of every layer is the same)."""
    sizes = tuple(int(s) for s in layer_sizes)
    L = len(sizes) - 1
    if L < 1:
        raise ValueError(f"layer_sizes: need at least inputs and outputs, got {sizes}")
    acts = (activations,) * (L - 1) if isinstance(activations, str) else tuple(activations)
    if len(acts) != L - 1:
        raise ValueError(f"activations: expected {L - 1} names (one per hidden layer), got {len(acts)}")
    for a in acts:
        _act.get(a)
    kinds = acts + ("logits",)
    X = np.asarray(X, dtype=dtype)
    if X.ndim != 2 or X.shape[1] != sizes[0]:
        raise ValueError(f"X: expected shape (n, {sizes[0]}), got {X.shape}")
    if X.shape[0] > max_rows:
        X = X[np.linspace(0, X.shape[0] - 1, max_rows).round().astype(np.int64)]
    choices = []
    for entry in initializers:
        names = (entry,) * L if isinstance(entry, str) else tuple(entry)
        if len(names) != L:
            raise ValueError(f"initializers: a per-layer entry needs {L} names, got {len(names)}")
        choices.append(names)
    if labels is None:
        labels = tuple(e if isinstance(e, str) else "current" for e in initializers)
    labels = tuple(labels)
    if len(labels) != len(choices) or len(set(labels)) != len(labels):
        raise ValueError("labels: need one distinct label per initializer")
    stats = {}
    with np.errstate(all="ignore"):
        for label, names in zip(labels, choices):
            stats[label] = _spread_of(names, sizes, kinds, X, seed, dtype)
    return InitSpread(labels, layer_names(L), kinds, stats, int(X.shape[0]))


def _spread_of(names, sizes, kinds, X, seed, dtype) -> tuple[ActivationStats, ...]:
    """One :func:`init_spread` entry: draw every layer from a fresh ``default_rng(seed)``
    (layer by layer, ``W`` then ``b``, as :meth:`Network.initialize`), then one pass."""
    rng = np.random.default_rng(seed)
    Ws, bs = [], []
    for l, name in enumerate(names):
        W = np.empty((sizes[l], sizes[l + 1]), dtype)
        b = np.empty(sizes[l + 1], dtype)
        _initialize(name, sizes[l], sizes[l + 1], rng, W, b)
        Ws.append(W)
        bs.append(b)
    values = _forward_plain(X, Ws, bs, kinds)
    return tuple(activation_stats(k, v) for k, v in zip(kinds, values))


def _forward_plain(X, weights, biases, kinds) -> list[np.ndarray]:
    out = []
    inp = X
    for l, (W, b) in enumerate(zip(weights, biases)):
        A = np.dot(inp, W)
        A += b
        if kinds[l] != "logits":
            _act.get(kinds[l]).forward(A, A)
        out.append(A)
        inp = A
    return out
