"""turingrnn.learning.diagnostics: the gradient by lag against finite differences, and the bounds it must obey."""

import numpy as np
import pytest

from turingrnn.errors import ShapeError, TrainingConfigError
from turingrnn.learning.cells import log_softmax
from turingrnn.learning.diagnostics import fit_decay_rate, gradient_by_lag, scored_step
from turingrnn.learning.models import make_model

EPS = 1e-6


def batch(seed, batch_size=2, steps=6, inputs=3, outputs=2):
    """Random one-hot inputs, random targets, every row scored at the last step."""
    rng = np.random.default_rng(seed)
    x = np.eye(inputs)[rng.integers(0, inputs, size=(batch_size, steps))]
    y = rng.integers(0, outputs, size=(batch_size, steps))
    mask = np.zeros((batch_size, steps), dtype=bool)
    mask[:, -1] = True
    return x, y, mask


def row_losses(model, x, y, state=None):
    """Each row's cross-entropy at the last step of ``x``, run from ``state``."""
    logp = log_softmax(model.forward(x, state)[:, -1])
    return -logp[np.arange(len(y)), y]


def finite_difference_state_norms(model, x, y, t):
    """Mean over rows of ``||dL_b/dS_t||`` by central differences: run from the perturbed state after step ``t``."""
    _, state = model.run(x[:, : t + 1])
    target = y[:, -1]
    grads = [np.zeros_like(s) for s in state]
    for c, component in enumerate(state):
        for idx in np.ndindex(component.shape[1:]):
            for sign in (1, -1):
                moved = [s.copy() for s in state]
                moved[c][(slice(None),) + idx] += sign * EPS
                grads[c][(slice(None),) + idx] += (
                    sign * row_losses(model, x[:, t + 1 :], target, tuple(moved)) / (2 * EPS)
                )
    flat = np.concatenate([g.reshape(len(target), -1) for g in grads], axis=1)
    return np.linalg.norm(flat, axis=1).mean()


def finite_difference_input_norms(model, x, y, t):
    """Mean over rows of ``||dL_b/dx_t||`` by central differences on the inputs at step ``t``."""
    grad = np.zeros((x.shape[0], x.shape[2]))
    for i in range(x.shape[2]):
        for sign in (1, -1):
            moved = x.copy()
            moved[:, t, i] += sign * EPS
            grad[:, i] += sign * row_losses(model, moved, y[:, -1]) / (2 * EPS)
    return np.linalg.norm(grad, axis=1).mean()


@pytest.mark.parametrize("cell", ["elman_tanh", "elman_relu", "lstm", "gru"])
def test_state_profile_equals_finite_differences_of_the_loss(cell):
    model = make_model(cell, 3, 4, 2, seed=3, readout="relu" if cell == "gru" else "linear")
    x, y, mask = batch(1)
    profile = gradient_by_lag(model, x, y, mask)
    s = x.shape[1] - 1
    assert profile.shape == (s + 1,)
    for lag in (1, 2, 5):
        numeric = finite_difference_state_norms(model, x, y, s - lag)
        assert numeric > 1e-6
        assert profile[lag] == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("cell", ["elman_tanh", "lstm", "gru", "tdnn"])
def test_input_profile_equals_finite_differences_of_the_loss(cell):
    options = {"window": 3} if cell == "tdnn" else {}
    model = make_model(cell, 3, 4, 2, seed=5, **options)
    x, y, mask = batch(2)
    profile = gradient_by_lag(model, x, y, mask, wrt="input")
    s = x.shape[1] - 1
    for lag in (0, 1, 2, 4):
        assert profile[lag] == pytest.approx(finite_difference_input_norms(model, x, y, s - lag), rel=1e-6, abs=1e-12)


def test_state_gradient_at_lag_zero_is_the_readout_gradient_of_the_features():
    model = make_model("lstm", 3, 4, 2, seed=0)
    x, y, mask = batch(4)
    logits = model.forward(x)[:, -1]
    dlogits = np.exp(log_softmax(logits))
    dlogits[np.arange(2), y[:, -1]] -= 1
    expected = np.linalg.norm(dlogits @ model.params["weight_out"], axis=1).mean()
    assert gradient_by_lag(model, x, y, mask)[0] == pytest.approx(expected, rel=1e-12)


def test_tanh_rnn_with_small_recurrent_weights_vanishes_geometrically():
    model = make_model("elman_tanh", 3, 16, 2, seed=0)
    w = model.params["weight_hh"]
    w *= 0.5 / np.linalg.norm(w, 2)  # ||W_hh||_2 = 0.5
    x, y, mask = batch(0, batch_size=8, steps=30)
    profile = gradient_by_lag(model, x, y, mask)
    hs = model.loss_and_grad(x, y, mask, keep_states=True).states[0][:, 1:]
    bound = 0.5 * float(np.max(1 - hs * hs))  # ||W_hh||_2 max tanh'
    assert np.all(profile > 0)
    assert np.all(profile[1:] <= bound * profile[:-1] * (1 + 1e-12))
    assert fit_decay_rate(profile) <= 0.5
    assert profile[-1] < 1e-8 * profile[0]


def test_zero_recurrent_weights_carry_no_gradient_past_one_step():
    model = make_model("elman_tanh", 3, 5, 2, seed=1)
    model.params["weight_hh"][:] = 0
    x, y, mask = batch(3, steps=8)
    for wrt in ("state", "input"):
        profile = gradient_by_lag(model, x, y, mask, wrt=wrt)
        assert profile[0] > 0
        assert np.all(profile[1:] == 0)


def test_tdnn_has_exactly_zero_input_gradient_beyond_its_window():
    model = make_model("tdnn", 3, 5, 2, seed=2, window=4)
    x, y, mask = batch(5, steps=10)
    profile = gradient_by_lag(model, x, y, mask, wrt="input")
    assert np.all(profile[:4] > 0)
    assert np.all(profile[4:] == 0)


def test_only_the_rows_scored_at_the_step_are_averaged():
    model = make_model("gru", 3, 4, 2, seed=0)
    x, y, mask = batch(6)
    mask[1, -1] = False
    mask[1, 2] = True
    assert scored_step(mask) == 5
    profile = gradient_by_lag(model, x, y, mask)
    alone = gradient_by_lag(model, x[:1], y[:1], mask[:1])
    np.testing.assert_allclose(profile, alone, rtol=1e-12)
    assert gradient_by_lag(model, x, y, mask, step=2).shape == (3,)


def test_state_gradient_of_a_core_without_backward_with_start_raises():
    model = make_model("tdnn", 3, 4, 2, window=2)
    with pytest.raises(TrainingConfigError, match="use wrt='input'"):
        gradient_by_lag(model, *batch(0))


def test_unknown_measure_and_unscored_step_raise():
    model = make_model("elman_tanh", 3, 4, 2)
    x, y, mask = batch(0)
    with pytest.raises(TrainingConfigError, match="wrt must be one of state, input, got 'output'"):
        gradient_by_lag(model, x, y, mask, wrt="output")
    with pytest.raises(ShapeError, match="step 2 is not a step the mask scores"):
        gradient_by_lag(model, x, y, mask, step=2)
    with pytest.raises(ShapeError, match="scores no step"):
        gradient_by_lag(model, x, y, np.zeros_like(mask))


def test_decay_rate_of_a_geometric_profile_is_its_ratio():
    profile = 3.0 * 0.8 ** np.arange(20)
    assert fit_decay_rate(profile) == pytest.approx(0.8)
    assert fit_decay_rate(profile, first=5, last=9) == pytest.approx(0.8)
    assert np.isnan(fit_decay_rate(np.array([1.0, 0.0, 0.0])))
