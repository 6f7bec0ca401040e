"""Contour lines of a grid as line segments (marching squares, vectorised with NumPy).

``segments(xs, ys, Z, level, min_piece=0)`` returns an array of shape (2 k, 2): k
segments, each two consecutive rows (x, y), ready for a pyqtgraph curve with
``connect="pairs"``.  Marching squares closes every curve or ends it on the grid's border;
a closed piece of fewer than ``min_piece`` segments (a loop around one or two grid points:
a thin valley floor or a tiny basin the grid cannot resolve, drawn as broken dashes) is
left out when ``min_piece`` > 0.  ``Z[i, j]``
is the value at ``(xs[j], ys[i])`` (rows follow y, as ``Surface.grid`` makes them).
Crossings are placed by linear interpolation along the cell's edges; a cell whose four
edges are all crossed (a saddle of the grid) is split by the value at its centre, the mean
of its corners.  Cells with a non-finite corner are left out.  This draws the surface; no
path number passes through here.
"""

from __future__ import annotations

import numpy as np

# edges of a cell: 0 bottom (a-b), 1 right (b-c), 2 top (d-c), 3 left (a-d);
# corners a = (x0, y0), b = (x1, y0), c = (x1, y1), d = (x0, y1)
_PAIRS = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))


def segments(xs, ys, Z, level: float, min_piece: int = 0) -> np.ndarray:
    """The contour ``Z = level`` as segments (see the module docstring)."""
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    if Z.shape != (len(ys), len(xs)) or Z.shape[0] < 2 or Z.shape[1] < 2:
        raise ValueError(f"Z: must have shape (len(ys), len(xs)) >= (2, 2), got {Z.shape}")
    level = float(level)
    a, b, c, d = Z[:-1, :-1], Z[:-1, 1:], Z[1:, 1:], Z[1:, :-1]
    finite = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    above = [v > level for v in (a, b, c, d)]
    ends = ((a, b), (b, c), (d, c), (a, d))
    flags = ((0, 1), (1, 2), (3, 2), (0, 3))
    crossed = np.stack([(above[i] != above[j]) & finite for i, j in flags])
    x0, x1 = xs[:-1][None, :], xs[1:][None, :]
    y0, y1 = ys[:-1][:, None], ys[1:][:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = [np.clip((level - p) / (q - p), 0.0, 1.0) for p, q in ends]
    shape = a.shape
    px = (np.broadcast_to(x0 + t[0] * (x1 - x0), shape), np.broadcast_to(x1, shape),
          np.broadcast_to(x0 + t[2] * (x1 - x0), shape), np.broadcast_to(x0, shape))
    py = (np.broadcast_to(y0, shape), np.broadcast_to(y0 + t[1] * (y1 - y0), shape),
          np.broadcast_to(y1, shape), np.broadcast_to(y0 + t[3] * (y1 - y0), shape))
    count = crossed.sum(axis=0)
    pieces, ends = [], []
    # ids of the grid's edges: horizontal edge (i, j) -> i (nx-1) + j; vertical (i, j) -> offset + i nx + j
    ny, nx = Z.shape
    ii, jj = np.indices(shape)
    offset = ny * (nx - 1)
    edge_id = (ii * (nx - 1) + jj, offset + ii * nx + jj + 1, (ii + 1) * (nx - 1) + jj, offset + ii * nx + jj)

    def add(mask, i, j):
        if mask.any():
            seg = np.empty((int(mask.sum()), 2, 2))
            seg[:, 0, 0], seg[:, 0, 1] = px[i][mask], py[i][mask]
            seg[:, 1, 0], seg[:, 1, 1] = px[j][mask], py[j][mask]
            pieces.append(seg.reshape(-1, 2))
            ends.append(np.stack([edge_id[i][mask], edge_id[j][mask]], axis=1))

    two = count == 2
    for i, j in _PAIRS:
        add(two & crossed[i] & crossed[j], i, j)
    four = count == 4
    if four.any():
        centre_above = (a + b + c + d) / 4.0 > level
        joined = four & (centre_above == above[0])  # a and c joined through the centre
        add(joined, 0, 1)
        add(joined, 2, 3)
        split = four & ~(centre_above == above[0])
        add(split, 0, 3)
        add(split, 1, 2)
    if not pieces:
        return np.empty((0, 2))
    out = np.concatenate(pieces)
    if min_piece > 0:
        keep = _pieces_kept(np.concatenate(ends), int(min_piece))
        out = out.reshape(-1, 2, 2)[keep].reshape(-1, 2)
    return out


def _pieces_kept(ends: np.ndarray, min_piece: int) -> np.ndarray:
    """For segments joining grid edges ``ends`` (k, 2): True for those whose piece (the
    segments linked through shared edges) is open -- it ends on the border -- or has at
    least ``min_piece`` segments.  Connected pieces by label propagation with pointer
    jumping (a few dozen vector passes, no Python loop over segments)."""
    nodes, inv = np.unique(ends, return_inverse=True)
    a, b = inv.reshape(-1, 2).T
    label = np.arange(len(nodes))
    while True:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    root = label[a]
    size = np.bincount(root, minlength=len(nodes))
    degree = np.bincount(np.concatenate([a, b]), minlength=len(nodes))
    open_piece = np.zeros(len(nodes), dtype=bool)
    open_piece[label[degree == 1]] = True
    return open_piece[root] | (size[root] >= min_piece)


__all__ = ["segments"]
