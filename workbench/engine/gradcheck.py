"""Gradient checking: backpropagation against central finite differences.

For every parameter ``theta_j`` of the (float64) network, with the penalised objective
``J~(theta) = J(theta) + l1 ||w||_1 + (l2/2) w^T w`` and ``D(h) = J~(theta + h e_j) -
J~(theta - h e_j)``, the fourth-order central difference::

    g_fd_j = (8 D(eps) - D(2 eps)) / (12 eps)          (truncation error O(eps^4))
    err_j  = |g_bp_j - g_fd_j| / max(|g_bp_j| + |g_fd_j|, floor)

The rounding noise of ``g_fd`` is about ``1e-16 |J| / eps``; with the default
``eps = 1e-6`` that is ~1e-10, which dominates ``err_j`` for parameters whose
gradient is below ~1e-4 (e.g. the first layer of a deep sigmoid net).  A larger
``eps`` (1e-4) makes such checks sharper, as long as ``2 eps`` stays clear of kinks.

The result is ``max_j err_j``.  ``J`` is the training-mode data loss of
:meth:`Network.loss_and_grad` with the dropout ``masks`` held fixed (no rng, so the
objective is deterministic).  Entries whose true gradient is exactly zero (dead ReLU
units, dropped units) give exactly zero differences, hence ``err_j = 0``.  Choose
points away from kinks (ReLU at 0, hard-tanh at ±1, L1 at w = 0).
"""

from __future__ import annotations

import numpy as np

from .regularization import add_penalty


def check_gradients(
    network,
    X,
    y,
    l1: float = 0.0,
    l2: float = 0.0,
    masks=None,
    eps: float = 1e-6,
    *,
    penalty_mask=None,
    floor: float = 1e-8,
) -> float:
    """Max relative error between backprop and central-difference gradients.

    A float32 ``network`` is checked through a float64 copy (its own parameters are
    left unchanged).  ``penalty_mask`` defaults to ``network.weight_mask`` (weights
    only); pass an all-True mask to penalise the biases as well.
    """
    net = network if network.dtype == np.float64 else network.copy(dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    if masks is not None:
        masks = [None if m is None else np.asarray(m, dtype=np.float64) for m in masks]
    mask = net.weight_mask if penalty_mask is None else np.asarray(penalty_mask, bool)
    params = net.params
    saved_grads = net.grads.copy()
    scratch = np.empty_like(params)

    def objective() -> float:
        value = net.loss_and_grad(X, y, masks=masks)
        return value + add_penalty(params, net.grads, mask, l1, l2)

    try:
        objective()
        g_bp = net.grads.copy()
        g_fd = np.empty_like(g_bp)
        for j in range(params.size):
            old = params[j]
            params[j] = old + eps
            p1 = objective()
            params[j] = old - eps
            m1 = objective()
            params[j] = old + 2.0 * eps
            p2 = objective()
            params[j] = old - 2.0 * eps
            m2 = objective()
            params[j] = old
            g_fd[j] = (8.0 * (p1 - m1) - (p2 - m2)) / (12.0 * eps)
    finally:
        np.copyto(net.grads, saved_grads)
    np.abs(g_bp - g_fd, out=scratch)
    denom = np.maximum(np.abs(g_bp) + np.abs(g_fd), floor)
    return float((scratch / denom).max()) if params.size else 0.0
