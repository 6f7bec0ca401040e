"""Output units and their losses, one pair per task (seed 001, "Output Units").

All losses are *means over the samples* of the batch, so the gradient handed to
backpropagation is already divided by ``n``.  ``Z`` is always the output layer's
pre-activation ``A^(L) = H W + b`` (shape ``(n, K)``), never a probability: the
losses are computed from these logits, never as ``log(sigmoid(z))``.

regression (linear output unit, Gaussian likelihood)
    ``yhat = z``;  ``J = (1/(n K)) sum_i sum_k (yhat_ik - y_ik)^2`` (mean over samples
    *and* outputs; for one output this is the notes' ``(1/n) sum_i (y_i - yhat_i)^2``);
    ``dJ/dz_ik = 2 (yhat_ik - y_ik) / (n K)``.
binary (sigmoid output unit, Bernoulli likelihood)
    ``P(y=1|x) = s(z)``;  ``J = (1/n) sum_i zeta((1 - 2 y_i) z_i)``
    ``= (1/n) sum_i [max(z_i, 0) - z_i y_i + log1p(exp(-|z_i|))]``;
    ``dJ/dz_i = (s(z_i) - y_i) / n``.  Finite for any finite ``z`` (``z=1000, y=0`` gives 1000).
multiclass (softmax output unit, multinoulli likelihood)
    ``yhat_ik = exp(z_ik) / sum_j exp(z_ij)``;
    ``J = (1/n) sum_i [logsumexp(z_i) - z_{i,y_i}]`` with
    ``logsumexp(z) = m + log sum_j exp(z_j - m)``, ``m = max_j z_j``;
    ``dJ/dz_ik = (yhat_ik - [y_i = k]) / n``.

``y`` is ``(n, K)`` floats for regression (``(n,)`` accepted when K = 1),
``(n,)`` 0/1 labels for binary and ``(n,)`` integer class indices for multiclass.

Every task offers ``*_loss_grad(Z, y, out) -> float`` (mean loss; ``out`` receives
``dJ/dZ``), ``*_sample_losses(Z, y) -> (n,)`` (per-sample loss; for regression the
per-sample *sum* of squared errors) and ``*_output(Z, out)`` (the prediction).

regression on standardised targets (:func:`standardized_regression_loss_grad`)
    With the training split's mean ``m_k`` and std ``s_k`` of output ``k``, the network
    learns ``y~_ik = (y_ik - m_k) / s_k`` and its output unit is ``yhat_ik = m_k + s_k z_ik``.
    The objective is ``J~ = (1/(nK)) sum (z_ik - y~_ik)^2`` (``out = dJ~/dZ``: the gradient of
    the standardised problem); the value reported is the MSE in the targets' units,
    ``J = (1/(nK)) sum (yhat_ik - y_ik)^2 = (1/(nK)) sum_k s_k^2 sum_i (z_ik - y~_ik)^2``.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid

TASKS = ("regression", "binary", "multiclass")

# C-level reductions (ndarray.sum/max go through a Python wrapper: slower on tiny batches)
_sum = np.add.reduce
_max = np.maximum.reduce


# --------------------------------------------------------------------------- regression
def _as_2d(y: np.ndarray, like: np.ndarray) -> np.ndarray:
    if y.ndim == 1:
        if like.shape[1] != 1:
            raise ValueError(f"y: expected shape {like.shape}, got {y.shape}")
        return y.reshape(-1, 1)
    if y.shape != like.shape:
        raise ValueError(f"y: expected shape {like.shape}, got {y.shape}")
    return y


def regression_loss_grad(Z: np.ndarray, y: np.ndarray, out: np.ndarray) -> float:
    """MSE ``J = (1/(nK)) sum (z - y)^2``; ``out = 2 (z - y)/(nK)``; returns ``J``."""
    y = _as_2d(y, Z)
    np.subtract(Z, y, out=out)
    size = out.size
    loss = float(np.vdot(out, out)) / size
    out *= 2.0 / size
    return loss


def regression_sample_losses(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample sum of squared errors ``sum_k (z_ik - y_ik)^2`` (divide the total by nK)."""
    d = Z - _as_2d(y, Z)
    return np.einsum("ij,ij->i", d, d)


def mse(Z: np.ndarray, y: np.ndarray) -> float:
    """``(1/(nK)) sum (z - y)^2`` without a gradient."""
    d = Z - _as_2d(y, Z)
    return float(np.vdot(d, d)) / d.size


def standardize_targets(y: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``y~ = (y - m) / s`` per output (float64)."""
    return (np.asarray(y, dtype=np.float64) - shift) / scale


def unstandardize(Z: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The output unit of a network trained on standardised targets: ``yhat = m + s z`` (float64)."""
    return shift + scale * np.asarray(Z, dtype=np.float64)


def standardized_regression_loss_grad(Z: np.ndarray, y: np.ndarray, out: np.ndarray, shift: np.ndarray,
                                      scale: np.ndarray) -> float:
    """Trains on standardised targets, reports in the targets' units (see the module docstring).

    ``y`` is in the targets' units, ``(n, K)`` (``(n,)`` when K = 1); ``shift = m``,
    ``scale = s`` are ``(K,)`` float64.  ``out <- dJ~/dZ = 2 (z - y~)/(nK)`` with
    ``y~ = (y - m)/s`` computed in float64; returns ``J = (1/(nK)) sum (m + s z - y)^2``
    computed in float64 (finite even for targets of 1e20, whose squares overflow float32)."""
    y = _as_2d(y, Z)
    y_std = standardize_targets(y, shift, scale)
    np.subtract(Z, y_std, out=out, casting="unsafe")  # z - y~, rounded once to the network's dtype
    size = out.size
    d = unstandardize(Z, shift, scale)
    d -= y
    loss = float(np.vdot(d, d)) / size
    out *= 2.0 / size
    return loss


def regression_output(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Identity output unit: ``yhat = z``."""
    if out is None:
        return Z.copy()
    np.copyto(out, Z)
    return out


# --------------------------------------------------------------------------- binary
def binary_sample_losses(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``max(z,0) - z y + log1p(exp(-|z|))`` per sample (``Z`` is ``(n,)`` or ``(n, 1)``).

    For 0/1 labels ``max(z,0) - z y`` is exact (``0`` or ``|z|``), so a confident
    correct prediction costs ``log1p(exp(-|z|))`` to full relative precision."""
    z = Z.reshape(-1)
    y = np.asarray(y).reshape(-1).astype(z.dtype, copy=False)
    t = np.abs(z)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    r = np.maximum(z, 0.0)
    r -= z * y
    r += t
    return r


def binary_loss_grad(Z: np.ndarray, y: np.ndarray, out: np.ndarray) -> float:
    """BCE from logits, mean over the batch; ``out = (s(z) - y)/n``; returns ``J``.

    ``J = (1/n) sum_i [max(z_i,0) - z_i y_i + log1p(exp(-|z_i|))]``; with
    ``zeta(z) = max(z,0) + log1p(exp(-|z|)) = log(1 + e^z)`` the sigmoid is
    ``s(z) = exp(z - zeta(z))`` (the exponent is <= 0, so nothing overflows)."""
    z = Z.reshape(-1)
    n = z.shape[0]
    yf = y.reshape(-1)
    if yf.shape[0] != n:
        raise ValueError(f"y: expected {n} labels, got shape {y.shape}")
    if yf.dtype != z.dtype:
        yf = yf.astype(z.dtype)
    t = np.abs(z)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)  # log1p(exp(-|z|))
    mz = np.maximum(z, 0.0)
    r = np.multiply(z, yf)
    np.subtract(mz, r, out=r)  # max(z,0) - z y, exact per sample for 0/1 labels
    r += t
    loss = float(_sum(r)) / n
    mz += t  # zeta(z)
    g = out.reshape(-1)
    np.subtract(z, mz, out=g)
    np.exp(g, out=g)
    g -= yf
    g *= 1.0 / n
    return loss


def binary_output(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``P(y=1|x) = s(z)`` as an ``(n,)`` array."""
    return sigmoid(Z.reshape(-1), out)


# --------------------------------------------------------------------------- multiclass
def _check_labels(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    y = y.reshape(-1)
    if y.shape[0] != Z.shape[0]:
        raise ValueError(f"y: expected {Z.shape[0]} labels, got shape {y.shape}")
    return y


def softmax(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``exp(z_k - m) / sum_j exp(z_j - m)`` row by row, ``m = max_j z_j``."""
    out = np.subtract(Z, Z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def multiclass_sample_losses(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``logsumexp(z_i) - z_{i, y_i}`` per sample."""
    y = _check_labels(Z, y)
    shifted = Z - Z.max(axis=1, keepdims=True)
    s = np.exp(shifted).sum(axis=1)
    return np.log(s) - shifted[np.arange(Z.shape[0]), y]


def multiclass_loss_grad(Z: np.ndarray, y: np.ndarray, out: np.ndarray) -> float:
    """Softmax cross entropy via log-sum-exp, mean over the batch;
    ``out = (softmax(z) - onehot(y))/n``; returns ``J``."""
    y = _check_labels(Z, y)
    n = Z.shape[0]
    rows = np.arange(n)
    m = _max(Z, axis=1, keepdims=True)
    np.subtract(Z, m, out=out)
    zy = out[rows, y]  # z_{i,y_i} - m_i
    np.exp(out, out=out)
    s = _sum(out, axis=1, keepdims=True)
    loss = (float(_sum(np.log(s), axis=None)) - float(_sum(zy))) / n
    out /= s
    out[rows, y] -= 1.0
    out *= 1.0 / n
    return loss


def multiclass_output(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Class probabilities ``softmax(z)``, shape ``(n, K)``."""
    return softmax(Z, out)


LOSS_GRAD = {"regression": regression_loss_grad, "binary": binary_loss_grad, "multiclass": multiclass_loss_grad}
SAMPLE_LOSSES = {
    "regression": regression_sample_losses,
    "binary": binary_sample_losses,
    "multiclass": multiclass_sample_losses,
}
OUTPUT = {"regression": regression_output, "binary": binary_output, "multiclass": multiclass_output}


def loss(task: str, Z: np.ndarray, y: np.ndarray) -> float:
    """Mean data loss of ``task`` for logits ``Z`` (no gradient)."""
    if task == "regression":
        return mse(Z, y)
    return float(SAMPLE_LOSSES[task](Z, y).mean())
