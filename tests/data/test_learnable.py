"""The bundled labels are sane: a plain softmax regression learns each set.

Multinomial logistic regression, trained here by full-batch gradient descent
(no engine, no scikit-learn):

    p = softmax(X W + b),  J = -(1/n) sum_i log p_{i, y_i} + (lam/2) ||W||^2,
    dJ/dW = X^T (p - Y) / n + lam W,  dJ/db = mean(p - Y),

on standard-scaled features (fitted on the training split), evaluated on a
stratified 25 % test split.  The products use ``np.einsum`` (single-threaded)
rather than BLAS: on a busy 2-core machine OpenBLAS threads made these tiny
products 60x slower.
"""

import numpy as np
import pytest

from workbench.data import load_dataset
from workbench.spec import DataSpec


def softmax_regression(X, y, k, steps=1000, lr=0.5, lam=1e-3):
    X = X.astype(np.float64)
    n, d = X.shape
    W = np.zeros((d, k))
    b = np.zeros(k)
    Y = np.eye(k)[y]
    for _ in range(steps):
        z = np.einsum("nd,dk->nk", X, W) + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = p - Y
        W -= lr * (np.einsum("nd,nk->dk", X, g) / n + lam * W)
        b -= lr * g.mean(axis=0)
    return W, b


@pytest.mark.parametrize("name,minimum", [("iris", 0.90), ("wine", 0.90), ("breast_cancer", 0.90),
                                          ("digits", 0.90)])
def test_softmax_regression_reaches_the_accuracy(name, minimum):
    ds = load_dataset(DataSpec(source="bundled", name=name, val_fraction=0.0, test_fraction=0.25, seed=0))
    W, b = softmax_regression(ds.X_train, ds.y_train, ds.n_classes)
    train_acc = float(((ds.X_train.astype(np.float64) @ W + b).argmax(axis=1) == ds.y_train).mean())
    test_acc = float(((ds.X_test.astype(np.float64) @ W + b).argmax(axis=1) == ds.y_test).mean())
    assert test_acc >= minimum, (name, train_acc, test_acc)
    # well above always answering the most frequent class
    majority = np.bincount(ds.y_test).max() / len(ds.y_test)
    assert test_acc > majority + 0.25, (name, majority, test_acc)
