"""The clockwork RNNs (turingrnn.learning.clockwork): the clockwork RNN and the dense, shift-invariant one.

Checked: the modules tick (or read back) as their periods say and slow
modules never read fast ones; one period is the Elman RNN; the step counter
and the delay lines make pieces equal one run; the dense model is shift
invariant and the clockwork one is not; finite differences (alone, stacked,
bidirectional) and the torch twins give the same gradients.
"""

import numpy as np
import pytest
from gradcheck import assert_gradients_match
from hypothesis import given, settings
from hypothesis import strategies as st
from recurrent_checks import (
    assert_float32_close_to_float64,
    assert_stacked_torch_twin_matches,
    assert_start_gradient_matches,
    assert_torch_twin_matches,
    assert_two_pieces_equal_one_run,
    random_batch,
    random_state,
    scaled_model,
)

from turingrnn.errors import ShapeError, TrainingConfigError
from turingrnn.learning.models import make_model

CLOCKWORKS = ["clockwork_rnn", "dense_clockwork_rnn"]


def features(model, x, state=None):
    """The core's features ``(B, T, H)`` (the hidden states the readout reads)."""
    start = model._check_state(state, x.shape[0])
    fs, _ = model.core.forward(model.params, np.ascontiguousarray(x.transpose(1, 0, 2)), start)
    return fs.transpose(1, 0, 2)


def without_biases(name, periods, seed=0):
    model = scaled_model(name, 2, 6, 2, seed=seed, periods=periods)
    model.params["bias_ih"][:] = 0
    model.params["bias_hh"][:] = 0
    return model


# --- construction and options -------------------------------------------------------


@pytest.mark.parametrize("name", CLOCKWORKS)
def test_weight_hh_is_block_upper_triangular_slow_to_fast(name):
    model = make_model(name, 3, 6, 2, periods=(1, 2, 4))
    w = model.params["weight_hh"]
    assert w.shape == (6, 6)
    for i in range(3):
        for j in range(3):
            block = w[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            assert (np.abs(block) > 0).all() if j >= i else (block == 0).all(), (i, j)
    assert model.core.options() == {"periods": (1, 2, 4)}
    assert make_model(name, 3, 8, 2).core.periods == (1, 2, 4, 8)


@pytest.mark.parametrize("name", CLOCKWORKS)
@pytest.mark.parametrize(
    "periods, message",
    [
        ((2, 1), r"periods must be strictly increasing \(fastest module first\), got \(2, 1\)"),
        ((1, 1), r"periods must be strictly increasing .*got \(1, 1\)"),
        ((0, 2), r"periods must be a non-empty sequence of positive ints, got \(0, 2\)"),
        ((1, 2.5), r"periods must be a non-empty sequence of positive ints, got \(1, 2.5\)"),
        ((), r"periods must be a non-empty sequence of positive ints, got \(\)"),
        (4, r"periods must be a non-empty sequence of positive ints, got 4"),
        (
            (1, 2, 4, 8, 16),
            r"hidden_size 6 does not split into 5 equal modules for periods \(1, 2, 4, 8, 16\); use a mult",
        ),
    ],
)
def test_bad_periods_are_named_with_what_is_allowed(name, periods, message):
    with pytest.raises(TrainingConfigError, match=message):
        make_model(name, 3, 6, 2, periods=periods)


def test_a_step_counter_that_is_not_a_whole_number_is_refused():
    model = make_model("clockwork_rnn", 2, 4, 2, periods=(1, 2))
    x = np.zeros((2, 3, 2))
    for bad in (-1.0, 2.5, np.nan):
        with pytest.raises(ShapeError, match="step counter t must hold whole numbers >= 0, got"):
            model.forward(x, (np.zeros((2, 4)), np.array([[0.0], [bad]])))


# --- the equations ---------------------------------------------------------------------


def reference_run(name, params, periods, x, start):
    """One sequence ``x`` ``(T, I)``, one step and one module at a time, from the papers' equations.

    The dense model's history starts with NaN where a delay line keeps nothing, so that reading it shows.
    """
    k = params["weight_hh"].shape[0] // len(periods)
    blocks = [slice(i * k, (i + 1) * k) for i in range(len(periods))]
    if name == "clockwork_rnn":
        h, t0 = start[0], int(start[1][0])
        history = [h]
    else:
        t0 = 0
        history = [np.full(len(periods) * k, np.nan) for _ in range(max(periods))]  # history[-d] = h_{-d}
        for d in range(1, max(periods) + 1):
            for i, line in enumerate(start):
                if d <= periods[i]:
                    history[-d][blocks[i]] = line[d - 1]
    for t, x_t in enumerate(x):
        a = params["weight_ih"] @ x_t + params["bias_ih"] + params["bias_hh"]
        h = history[-1].copy()
        for i, period in enumerate(periods):
            if name == "clockwork_rnn" and (t0 + t) % period:
                continue  # module i holds still
            read = history[-1] if name == "clockwork_rnn" else history[-period]  # the dense model reads T_i back
            u = sum(params["weight_hh"][blocks[i], blocks[j]] @ read[blocks[j]] for j in range(i, len(periods)))
            h[blocks[i]] = np.tanh(a[blocks[i]] + u)
        history.append(h)
    return np.array(history[-len(x) :])


@pytest.mark.parametrize("name", CLOCKWORKS)
@pytest.mark.parametrize("periods", [(1, 2, 4), (2, 3, 5)])
def test_forward_equals_the_step_by_step_reference(name, periods):
    rng = np.random.default_rng(11)
    model = scaled_model(name, 2, 6, 2, seed=1, periods=periods)
    x = rng.normal(size=(3, 11, 2))
    state = random_state(model, 3, rng)
    hs = features(model, x, state)
    for b in range(3):
        expected = reference_run(name, model.params, periods, x[b], [s[b] for s in state])
        np.testing.assert_allclose(hs[b], expected, rtol=0, atol=1e-14)


# --- the clockwork RNN ------------------------------------------------------------------


def test_each_clockwork_module_holds_still_between_its_ticks_and_moves_on_them():
    rng = np.random.default_rng(0)
    model = scaled_model("clockwork_rnn", 2, 8, 2, seed=1, periods=(1, 2, 3, 5))
    x = rng.normal(size=(3, 12, 2))
    h0 = rng.normal(size=(3, 8))
    clock = np.array([[0.0], [1.0], [7.0]])
    hs = features(model, x, (h0, clock))
    before = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    for b in range(3):
        for t in range(12):
            for i, period in enumerate((1, 2, 3, 5)):
                units = slice(2 * i, 2 * i + 2)
                ticks = (clock[b, 0] + t) % period == 0
                same = np.array_equal(hs[b, t, units], before[b, t, units])
                assert same != ticks, (b, t, period)
    _, (h, t) = model.run(x, (h0, clock))
    np.testing.assert_array_equal(t, clock + 12)


@pytest.mark.parametrize("name", CLOCKWORKS)
def test_slow_modules_never_read_fast_ones(name):
    rng = np.random.default_rng(1)
    model = scaled_model(name, 2, 6, 2, seed=2, periods=(1, 2, 4))
    x = rng.normal(size=(2, 10, 2))
    state = random_state(model, 2, rng)
    other = list(state)
    if name == "clockwork_rnn":
        other[0] = state[0].copy()
        other[0][:, :2] += 1.0  # the fastest module's start
    else:
        other[0] = state[0] + 1.0  # the fastest module's delay line
    base, moved = features(model, x, state), features(model, x, tuple(other))
    np.testing.assert_array_equal(moved[..., 2:], base[..., 2:])
    assert not np.allclose(moved[..., :2], base[..., :2])
    unread = np.kron(np.tril(np.ones((3, 3)), -1), np.ones((2, 2))) == 1  # the blocks below the diagonal
    y, mask = rng.integers(0, 2, (2, 10)), np.ones((2, 10), bool)
    result = model.loss_and_grad(x, y, mask, state)
    model.params["weight_hh"][unread] = 50.0
    np.testing.assert_array_equal(features(model, x, state), base)
    grad = model.loss_and_grad(x, y, mask, state).grads["weight_hh"]
    np.testing.assert_array_equal(grad, result.grads["weight_hh"])
    assert (grad[unread] == 0).all() and (grad[~unread] != 0).all()


@pytest.mark.parametrize("name", CLOCKWORKS)
def test_one_period_of_one_is_the_elman_rnn(name):
    rng = np.random.default_rng(2)
    model = scaled_model(name, 3, 4, 2, seed=3, periods=(1,))
    elman = make_model("elman_tanh", 3, 4, 2)
    elman.params.update({k: v.copy() for k, v in model.params.items()})
    x, y, mask = random_batch(rng, 3, 6, 3, 2)
    h0 = rng.normal(size=(3, 4))
    state = (h0, np.array([[0.0], [3.0], [5.0]])) if name == "clockwork_rnn" else (h0[:, None],)
    ours, theirs = model.loss_and_grad(x, y, mask, state), elman.loss_and_grad(x, y, mask, (h0,))
    np.testing.assert_allclose(ours.logits, theirs.logits, rtol=0, atol=1e-14)
    for k, g in theirs.grads.items():
        np.testing.assert_allclose(ours.grads[k], g, rtol=0, atol=1e-14, err_msg=k)


def test_starting_the_clock_at_s_is_running_s_silent_steps_first():
    rng = np.random.default_rng(3)
    model = without_biases("clockwork_rnn", (1, 2, 3))
    x = rng.normal(size=(2, 9, 2))
    for s in range(1, 7):
        delayed = features(model, np.concatenate([np.zeros((2, s, 2)), x], axis=1))
        np.testing.assert_allclose(delayed[:, :s], 0, atol=0)
        clock = np.full((2, 1), float(s))
        np.testing.assert_allclose(delayed[:, s:], features(model, x, (np.zeros((2, 6)), clock)), rtol=0, atol=1e-15)


# --- the dense clockwork RNN ----------------------------------------------------------------


def test_the_dense_model_is_shift_invariant_and_the_clockwork_model_is_not():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 10, 2))
    dense, clock = without_biases("dense_clockwork_rnn", (1, 2, 4)), without_biases("clockwork_rnn", (1, 2, 4))
    for model in (dense, clock):
        model.params.update({k: dense.params[k].copy() for k in ("weight_ih", "weight_hh")})
    for s in range(1, 6):
        shifted = np.concatenate([np.zeros((2, s, 2)), x], axis=1)
        np.testing.assert_allclose(features(dense, shifted)[:, s:], features(dense, x), rtol=0, atol=1e-15)
        moved = features(clock, shifted)[:, s:]
        assert np.allclose(moved, features(clock, x), atol=1e-12) == (s % 4 == 0), s


def test_a_dense_module_of_period_t_is_t_independent_chains():
    rng = np.random.default_rng(5)
    model = scaled_model("dense_clockwork_rnn", 2, 6, 2, seed=4, periods=(1, 2, 4))
    x = rng.normal(size=(2, 13, 2))
    state = random_state(model, 2, rng)
    poked = x.copy()
    poked[:, 1] += 1.0
    diff = np.abs(features(model, poked, state) - features(model, x, state))
    slow = diff[..., 4:].max(axis=(0, 2))
    assert (slow[[1, 5, 9]] > 0).all() and (slow[[0, 2, 3, 4, 6, 7, 8, 10, 11, 12]] == 0).all()
    assert (diff[:, 1:, :2].max(axis=(0, 2)) > 0).all()  # the fastest module reads every slower one a step back


def test_the_dense_delay_lines_hold_each_modules_last_states_newest_first():
    rng = np.random.default_rng(6)
    model = make_model("dense_clockwork_rnn", 2, 6, 2, seed=5, periods=(1, 2, 4))
    x = rng.normal(size=(3, 7, 2))
    hs = features(model, x)
    _, final = model.run(x)
    assert [f.shape for f in final] == [(3, 1, 2), (3, 2, 2), (3, 4, 2)]
    for i, line in enumerate(final):
        for d in range(line.shape[1]):
            np.testing.assert_array_equal(line[:, d], hs[:, -1 - d, 2 * i : 2 * i + 2])
    _, empty = model.run(x[:, :0], final)
    for a, b in zip(empty, final, strict=True):
        np.testing.assert_array_equal(a, b)


# --- gradients, pieces, torch -----------------------------------------------------------------


@pytest.mark.parametrize("name", CLOCKWORKS)
@pytest.mark.parametrize("periods", [(1, 2, 4), (2, 3)])
def test_gradient_matches_central_finite_differences_for_every_parameter(name, periods):
    rng = np.random.default_rng(7)
    model = scaled_model(name, 3, 6, 3, seed=2, periods=periods)
    x, y, mask = random_batch(rng, 3, 9, 3, 3)
    assert_gradients_match(model, x, y, mask, random_state(model, 3, rng))


@pytest.mark.parametrize("name", CLOCKWORKS)
@pytest.mark.parametrize("stack", [{"layers": 2}, {"bidirectional": True}], ids=["layers2", "bidi"])
def test_gradient_matches_finite_differences_stacked_and_bidirectional(name, stack):
    rng = np.random.default_rng(8)
    model = scaled_model(name, 2, 4, 2, seed=3, periods=(1, 2), **stack)
    x, y, mask = random_batch(rng, 3, 7, 2, 2)
    state = random_state(model, 3, rng) if model.core.carries_state else None
    assert_gradients_match(model, x, y, mask, state)


@pytest.mark.parametrize("name", CLOCKWORKS)
@pytest.mark.parametrize("steps", [9, 2])
def test_start_gradient_with_a_final_state_gradient_matches_finite_differences(name, steps):
    rng = np.random.default_rng(12)
    model = scaled_model(name, 3, 6, 2, seed=4, periods=(1, 2, 4))
    x = rng.normal(size=(2, steps, 3))
    assert_start_gradient_matches(model, x, random_state(model, 2, rng))


@settings(max_examples=15, deadline=None)
@given(
    name=st.sampled_from(CLOCKWORKS),
    periods=st.sampled_from([(1, 2, 4), (1, 3), (2, 5)]),
    batch=st.integers(1, 3),
    steps=st.integers(2, 12),
    split=st.integers(1, 11),
    seed=st.integers(0, 2**16),
)
def test_running_in_two_pieces_with_the_carried_state_equals_one_run(name, periods, batch, steps, split, seed):
    rng = np.random.default_rng(seed)
    model = make_model(name, 3, 6, 2, seed=seed, periods=periods)
    x = rng.normal(size=(batch, steps, 3))
    assert_two_pieces_equal_one_run(model, x, min(split, steps - 1), random_state(model, batch, rng))


@pytest.mark.parametrize("name", CLOCKWORKS)
def test_torch_twin_gives_the_same_features_and_every_gradient(name):
    rng = np.random.default_rng(9)
    model = scaled_model(name, 4, 6, 3, scale=1.5, seed=3, periods=(1, 2, 3))
    x, y, mask = random_batch(rng, 3, 8, 4, 3, p_mask=0.5)
    assert_torch_twin_matches(model, x, y, mask, random_state(model, 3, rng))


@pytest.mark.parametrize("stack", [{"layers": 2}, {"bidirectional": True}], ids=["layers2", "bidi"])
def test_torch_twins_compose_into_stacked_and_bidirectional_models(stack):
    assert_stacked_torch_twin_matches("dense_clockwork_rnn", stack, periods=(1, 2))


@pytest.mark.parametrize("name", CLOCKWORKS)
def test_float32_clockworks_compute_in_float32_close_to_float64(name):
    assert_float32_close_to_float64(name, steps=9, hidden=8)
