"""What the network diagram shows, computed with NumPy only (the worker thread calls it).

:func:`diagram_snapshot` reads a network once and returns a :class:`DiagramSnapshot` of
plain, read-only arrays -- cheap to emit from the training thread to the window:

* per layer ``l`` the connections of ``W^(l)`` (shape ``(fan_in, fan_out)``) the diagram
  draws: every weight when both ends are drawn unit by unit (at most
  :data:`WIDE_LAYER` units each), else the :data:`AGGREGATE_LINES` strongest (largest
  ``|w|``); in all cases ``wmax = max |W^(l)|`` of the whole layer (the width scale) and
  at most :data:`MAX_LINES` connections over the whole network (:func:`line_budget`);
* every bias ``b^(l)`` (a copy; at most ``4096`` per layer);
* for 2-D inputs the heat map of every drawn unit over the input plane
  (:func:`neuron_maps` on a :class:`MapGrid`), as TensorFlow Playground shows them.

Cost (medians measured on the shared 2-core development machine, float32):

==========================  ================  ==============================================
network                     diagram_snapshot  what dominates
==========================  ================  ==============================================
2-16-16-1, 24 x 24 maps     0.06 ms           the maps' forward pass (576 points)
784-256-128-10, no maps     0.3 ms            one ``argpartition`` of each wide layer's ``|W|``
2-24x32-1 (33 layers)       0.9 ms            maps (cut at :data:`MAP_BUDGET`: 26 of 34 positions)
2-4096-4096-1               120 ms            ``argpartition`` of 16.8 M weights
==========================  ================  ==============================================

so the worker can call it after any epoch; :class:`DiagramSource` limits it to every
:data:`MIN_INTERVAL` s and :data:`BUDGET` of the wall time (the last row: once every
2.4 s).  The maps cost at most :data:`MAP_BUDGET` multiply-adds: units behind a layer
that would exceed it get no map (None).  Drawing a snapshot in the window
(:meth:`NetworkDiagram.set_snapshot` + one repaint at 1400 x 900) took 9 ms for
2-16-16-1, 3 ms for 784-256-128-10 and 53 ms for the 33-layer worst case (1500 lines,
771 nodes).

The heat map of unit ``j`` at position ``k`` is its value on the test-time pass
(no dropout masks; the ``classic`` method's ``(1 - p)`` scaling applied)::

    k = 0          the network input x_j (after derived features and scaling)
    k = 1 .. L-1   H^(k)[:, j] = g_k(A^(k))[:, j]      hidden unit j of layer k
    k = L          A^(L)[:, j]                          the output logit (> 0: class 1 for binary)

on the grid's cell centres, row ``i`` = ``ys[i]``, column ``c`` = ``xs[c]`` (row-major,
``maps[k][j, 0, 0]`` is the bottom-left cell), the layout of :mod:`workbench.boundary`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from workbench.engine import activations as _act
from workbench.engine.rate_limit import RateLimit
from workbench.engine.readonly import readonly_copy

# ----------------------------------------------------------------------------- bounds
WIDE_LAYER = 24
"""A layer (the input too) with more units is drawn aggregated: a strip instead of one
node per unit, and only the strongest connections to and from it."""

AGGREGATE_LINES = 32
"""Connections drawn for a weight matrix touching a wide layer: the largest ``|w|``."""

MAX_LINES = 1500
"""Connections drawn in the whole diagram at most (line items of the scene)."""

MAP_RESOLUTION = 24
"""Cells per side of a unit's heat map (24 x 24: readable on a 20-60 px node)."""

MAP_BUDGET = 8_000_000
"""Multiply-adds one :func:`neuron_maps` call may spend (about 5 ms): ``r^2 fan_in fan_out``
per layer, summed from the input on; the units of layers beyond get no map."""

MIN_INTERVAL = 0.25
""":class:`DiagramSource`: at least this many seconds between two snapshots."""

BUDGET = 0.05
""":class:`DiagramSource`: snapshots may use at most this fraction of the wall time."""


# ----------------------------------------------------------------------------- records
@dataclass(frozen=True, eq=False)
class Connections:
    """The connections of ``W^(l)`` to draw: ``values[k] = W^(l)[rows[k], cols[k]]``,
    ``shape = (fan_in, fan_out)``, ``wmax = max |W^(l)|`` over the whole layer (0 for an
    all-zero layer), ``complete``: every entry is present (row-major order)."""

    shape: tuple[int, int]
    rows: np.ndarray  # (k,) int32
    cols: np.ndarray  # (k,) int32
    values: np.ndarray  # (k,) float64
    wmax: float
    complete: bool

    def __len__(self) -> int:
        return int(self.values.size)

    def dense(self) -> Optional[np.ndarray]:
        """The whole matrix when ``complete``, else None."""
        if not self.complete:
            return None
        return self.values.reshape(self.shape)


@dataclass(frozen=True, eq=False)
class DiagramSnapshot:
    """Everything :class:`~workbench.ui.inside.NetworkDiagram` draws, as plain arrays.

    ``sizes`` = ``(d, units..., outputs)``; ``activations`` one name per hidden layer;
    ``connections[l - 1]`` of ``W^(l)``; ``biases[l - 1]`` = ``b^(l)``; ``maps`` None
    (no 2-D input) or one entry per position ``0 .. L`` (None for a wide position or one
    beyond :data:`MAP_BUDGET`, else ``(units, r, r)`` float32); ``epoch`` as given;
    ``seconds`` what building it took; ``dropped`` None (no dropout in the last step) or
    per position ``0 .. L-1`` the units that step dropped (bool, or None: no dropout
    there), as :func:`dropped_units` gives them."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    connections: tuple[Connections, ...]
    biases: tuple[np.ndarray, ...]
    maps: Optional[tuple[Optional[np.ndarray], ...]] = None
    epoch: int = 0
    seconds: float = 0.0
    dropped: Optional[tuple[Optional[np.ndarray], ...]] = None


@dataclass(frozen=True, eq=False)
class MapGrid:
    """The input plane of the heat maps: ``features`` ``(r*r, d)`` are the network
    inputs of the cell centres ``(xs[c], ys[i])`` at row ``i*r + c`` (row-major), over
    ``x_range x y_range`` of the raw inputs named ``names``."""

    features: np.ndarray
    resolution: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    names: tuple[str, str] = ("x₁", "x₂")


# ----------------------------------------------------------------------------- grid
def map_grid(x_range, y_range, to_features: Optional[Callable] = None, resolution: int = MAP_RESOLUTION,
             names: Sequence[str] = ("x₁", "x₂")) -> MapGrid:
    """A :class:`MapGrid` of ``resolution x resolution`` cell centres over the raw plane;
    ``to_features`` maps raw points ``(m, 2)`` to network inputs (None: the identity)."""
    from workbench.boundary import grid_for  # noqa: PLC0415 (NumPy only)

    _, _, points = grid_for(x_range, y_range, resolution)
    feats = points if to_features is None else to_features(points)
    feats = np.ascontiguousarray(np.asarray(feats, dtype=np.float32))
    if feats.ndim != 2 or feats.shape[0] != points.shape[0]:
        raise ValueError(f"to_features: expected ({points.shape[0]}, d) features, got {feats.shape}")
    feats.flags.writeable = False
    n0, n1 = (tuple(names) + ("x₁", "x₂"))[:2]
    return MapGrid(feats, int(resolution), (float(x_range[0]), float(x_range[1])),
                   (float(y_range[0]), float(y_range[1])), (str(n0), str(n1)))


def map_grid_for(dataset, resolution: int = MAP_RESOLUTION) -> Optional[MapGrid]:
    """The grid for a data set with two raw inputs (classification or regression): the
    boundary view's square range over the training and validation inputs, through the
    data set's derived features and scaling; None for any other data set."""
    if dataset is None or not getattr(dataset, "raw_2d", False) or dataset.raw_train is None:
        return None
    from workbench import boundary as bd  # noqa: PLC0415
    from workbench.ui.boundary_source import square  # noqa: PLC0415 (pure function)

    raw = np.asarray(dataset.raw_train)
    if dataset.raw_val is not None and len(dataset.raw_val):
        raw = np.concatenate([raw, np.asarray(dataset.raw_val)])
    if not len(raw):
        return None
    xr, yr = square(bd.data_range(raw[:, 0]), bd.data_range(raw[:, 1]))
    names = tuple(dataset.raw_feature_names) or ("x₁", "x₂")
    return map_grid(xr, yr, dataset.to_features, resolution, names)


# ----------------------------------------------------------------------------- lines
def line_budget(sizes: Sequence[int], max_lines: int = MAX_LINES, wide: int = WIDE_LAYER,
                aggregate: int = AGGREGATE_LINES) -> tuple[int, ...]:
    """Connections drawn per layer: ``fan_in * fan_out`` when both ends have at most
    ``wide`` units, else ``min(aggregate, fan_in * fan_out)``; when these add up to more
    than ``max_lines`` the unit-by-unit layers share what the aggregated ones leave
    (water-filling: a small layer keeps all its lines, the others get equal shares of
    the rest, each at least ``aggregate``), so the sum stays within ``max_lines`` for any
    network the workbench builds (at most 33 layers)."""
    sizes = [int(s) for s in sizes]
    n = [a * b for a, b in zip(sizes, sizes[1:])]
    agg = [max(a, b) > wide for a, b in zip(sizes, sizes[1:])]
    out = [min(aggregate, k) if g else k for k, g in zip(n, agg)]
    if sum(out) <= max_lines:
        return tuple(out)
    free = [i for i, g in enumerate(agg) if not g]
    left = max_lines - sum(out[i] for i in range(len(out)) if agg[i])
    # water-filling over the unit-by-unit layers
    order = sorted(free, key=lambda i: n[i])
    for pos, i in enumerate(order):
        share = max(aggregate, left // (len(order) - pos)) if left > 0 else aggregate
        out[i] = min(n[i], share)
        left -= out[i]
    return tuple(out)


def strongest(W: np.ndarray, limit: int) -> Connections:
    """The ``limit`` entries of ``W`` with the largest ``|w|`` (all of them, row-major,
    when there are no more), with ``wmax = max |W|``.  One pass over ``W``
    (``np.argpartition``: linear in its size)."""
    W = np.asarray(W)
    fi, fo = W.shape
    flat = W.reshape(-1)
    with np.errstate(all="ignore"):
        mag = np.abs(flat)
        finite = np.isfinite(mag)
        if not finite.all():
            mag = np.where(finite, mag, np.inf)  # a diverged weight is the strongest
        wmax = float(mag.max()) if mag.size else 0.0
    if flat.size <= limit:
        idx = np.arange(flat.size)
        complete = True
    else:
        idx = np.sort(np.argpartition(mag, flat.size - limit)[flat.size - limit:]) if limit > 0 else np.empty(0, int)
        complete = False
    rows, cols = np.divmod(idx, fo)
    return Connections((int(fi), int(fo)), readonly_copy(rows, np.int32), readonly_copy(cols, np.int32),
                       readonly_copy(flat[idx], np.float64), wmax, complete)


# ----------------------------------------------------------------------------- maps
def map_costs(sizes: Sequence[int], resolution: int) -> tuple[int, ...]:
    """Multiply-adds of each layer's pass over an ``r x r`` grid: ``r^2 fan_in fan_out``."""
    r2 = int(resolution) ** 2
    sizes = [int(s) for s in sizes]
    return tuple(r2 * a * b for a, b in zip(sizes, sizes[1:]))


def neuron_maps(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activations: Sequence[str],
                grid, resolution: Optional[int] = None, *, scales: Optional[Sequence[float]] = None,
                max_units: int = WIDE_LAYER, budget: float = MAP_BUDGET) -> tuple[Optional[np.ndarray], ...]:
    """Each unit's value over the input plane (see the module docstring), per position
    ``k = 0 .. L``: ``(units_k, r, r)`` float32, or None for a position with more than
    ``max_units`` units (computed through, not returned) or beyond ``budget``
    multiply-adds (:func:`map_costs`, summed from the input on).

    ``weights[l]`` ``(fan_in, fan_out)``, ``biases[l]``; ``activations`` one name per
    hidden layer; ``grid`` a :class:`MapGrid` or the ``(r*r, d)`` inputs with
    ``resolution`` r; ``scales``: one factor per position ``0 .. L-1`` multiplying the
    values leaving it (the ``classic`` dropout method's ``1 - p``; None: none)."""
    if isinstance(grid, MapGrid):
        X, r = grid.features, grid.resolution
    else:
        X, r = np.asarray(grid), int(resolution)
    L = len(weights)
    if len(biases) != L or len(activations) != L - 1:
        raise ValueError(f"expected {L} biases and {L - 1} activations, got {len(biases)} and {len(activations)}")
    if X.ndim != 2 or X.shape[0] != r * r:
        raise ValueError(f"grid: expected ({r * r}, d) inputs for resolution {r}, got {X.shape}")
    sizes = [int(np.shape(weights[0])[0])] + [int(np.shape(w)[1]) for w in weights]
    costs = map_costs(sizes, r)
    dtype = np.result_type(np.asarray(weights[0]).dtype, np.float32)
    out: list[Optional[np.ndarray]] = []

    def keep(values: np.ndarray, units: int) -> Optional[np.ndarray]:
        if units > max_units:
            return None
        return readonly_copy(values.T.reshape(units, r, r), np.float32)

    H = np.asarray(X, dtype=dtype)
    out.append(keep(H, sizes[0]))
    spent = 0
    with np.errstate(all="ignore"):  # a diverged network is drawn, never warned about
        for l in range(L):
            spent += costs[l]
            if spent > budget:
                out.extend([None] * (L - l))
                break
            inp = H if scales is None or scales[l] == 1.0 else H * scales[l]
            A = np.dot(inp, np.asarray(weights[l], dtype=dtype))
            A += np.asarray(biases[l], dtype=dtype)
            if l < L - 1:
                _act.get(activations[l]).forward(A, A)
            H = A
            out.append(keep(H, sizes[l + 1]))
    return tuple(out)


# ----------------------------------------------------------------------------- snapshot
def _network_scales(network) -> Optional[tuple[float, ...]]:
    if getattr(network, "dropout_method", "inverted") != "classic":
        return None
    rates = (float(network.input_dropout), *(float(h.dropout) for h in network.hidden))
    return tuple(1.0 - p for p in rates)


def diagram_snapshot(network, grid: Optional[MapGrid] = None, *, epoch: int = 0,
                     max_lines: int = MAX_LINES, budget: float = MAP_BUDGET) -> DiagramSnapshot:
    """What the diagram needs of ``network`` now (copies; the network is only read):
    the connections :func:`line_budget` allows per layer (:func:`strongest`), every
    bias, and with a ``grid`` the units' heat maps (:func:`neuron_maps`).  Cost: one pass
    over each aggregated layer's weights plus at most ``budget`` multiply-adds of maps."""
    t0 = time.perf_counter()
    sizes = tuple(int(s) for s in network.layer_sizes)
    acts = tuple(h.activation for h in network.hidden)
    limits = line_budget(sizes, max_lines)
    conns = tuple(strongest(W, k) for W, k in zip(network.weights, limits))
    biases = tuple(readonly_copy(b, np.float64) for b in network.biases)
    maps = None
    if grid is not None:
        maps = neuron_maps(network.weights, network.biases, acts, grid, scales=_network_scales(network),
                           budget=budget)
    return DiagramSnapshot(sizes, acts, conns, biases, maps, int(epoch), time.perf_counter() - t0)


def snapshot_from_arrays(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activations: Sequence[str],
                         *, maps=None, epoch: int = 0, max_lines: int = MAX_LINES) -> DiagramSnapshot:
    """:func:`diagram_snapshot` from plain arrays (``weights[l]`` ``(fan_in, fan_out)``)."""
    t0 = time.perf_counter()
    sizes = tuple([int(np.shape(weights[0])[0])] + [int(np.shape(w)[1]) for w in weights])
    limits = line_budget(sizes, max_lines)
    conns = tuple(strongest(W, k) for W, k in zip(weights, limits))
    bs = tuple(readonly_copy(b, np.float64) for b in biases)
    return DiagramSnapshot(sizes, tuple(activations), conns, bs, maps, int(epoch), time.perf_counter() - t0)


class DiagramSource(RateLimit):
    """The diagram's snapshots at a bounded rate (a :class:`~workbench.engine.rate_limit.RateLimit`,
    as :class:`~workbench.engine.diagnostics.HealthMonitor`), for the training worker::

        source = DiagramSource(run.network, map_grid_for(dataset))   # once per run
        ... after an epoch:  if source.due(): emit(source.snapshot(epoch))

    ``due()`` is True for the first snapshot, then only when ``min_interval`` seconds
    have passed since the last one ended and the snapshots so far used at most
    ``budget`` of the wall time.  ``clock`` is injectable for tests."""

    def __init__(self, network, grid: Optional[MapGrid] = None, *, min_interval: float = MIN_INTERVAL,
                 budget: float = BUDGET, clock: Callable[[], float] = time.perf_counter):
        self.network = network
        self.grid = grid
        super().__init__(min_interval, budget, clock)

    def snapshot(self, epoch: int = 0) -> DiagramSnapshot:
        return self.measured(lambda: diagram_snapshot(self.network, self.grid, epoch=epoch))


# ----------------------------------------------------------------------------- dropout
def dropped_units(masks: Sequence[Optional[np.ndarray]], row: int = 0) -> tuple[Optional[np.ndarray], ...]:
    """Per position (0 = input, ``k`` = hidden layer ``k``) which units a step's dropout
    masks dropped for sample ``row`` of the batch: ``mask == 0`` (the engine's masks are
    ``(n, units)``, ``B / (1 - p)`` or ``B``); None where there was no mask."""
    out = []
    for m in masks:
        if m is None:
            out.append(None)
            continue
        m = np.asarray(m)
        v = m[row] if m.ndim == 2 else m
        out.append(readonly_copy(v == 0, bool))
    return tuple(out)


__all__ = [
    "AGGREGATE_LINES", "BUDGET", "Connections", "DiagramSnapshot", "DiagramSource", "MAP_BUDGET",
    "MAP_RESOLUTION", "MAX_LINES", "MIN_INTERVAL", "MapGrid", "WIDE_LAYER", "diagram_snapshot",
    "dropped_units", "line_budget", "map_costs", "map_grid", "map_grid_for", "neuron_maps",
    "snapshot_from_arrays", "strongest",
]

