"""Shared checks for trained models: central finite differences against the analytic gradient."""

import numpy as np


def numerical_gradient(model, x, y, mask, state, name, eps=1e-6):
    """Central differences of ``model.loss_and_grad(...).loss`` for every entry of ``model.params[name]``."""
    p = model.params[name]
    grad = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        old = p[idx]
        p[idx] = old + eps
        plus = model.loss_and_grad(x, y, mask, state).loss
        p[idx] = old - eps
        minus = model.loss_and_grad(x, y, mask, state).loss
        p[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def assert_gradients_match(model, x, y, mask, state=None, *, rtol=1e-6, names=None, min_norm=1e-4):
    """Every parameter's analytic gradient equals central finite differences (relative error below ``rtol``).

    ``min_norm`` guards against a test that cannot fail: each checked gradient must be nonzero.
    """
    analytic = model.loss_and_grad(x, y, mask, state).grads
    assert sorted(analytic) == sorted(model.params)
    for name in names or list(model.params):
        numeric = numerical_gradient(model, x, y, mask, state, name)
        a = analytic[name]
        assert np.linalg.norm(a) > min_norm, (name, np.linalg.norm(a))
        rel = np.linalg.norm(a - numeric) / (np.linalg.norm(a) + np.linalg.norm(numeric))
        assert rel < rtol, (name, rel)
