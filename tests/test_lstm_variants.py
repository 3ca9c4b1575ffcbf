"""The LSTM variants (turingrnn.learning.lstm_variants): peephole connections and the coupled input-forget gate.

Each is checked against a slow step-by-step reference written from the
papers' equations, against finite differences (alone, stacked and
bidirectional), against the plain LSTM it reduces to, against its torch
twin, and for running in pieces.
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

from turingrnn.errors import TrainingConfigError
from turingrnn.learning.lstm_variants import cifg_as_lstm_params
from turingrnn.learning.models import make_model

VARIANTS = ["peephole_lstm", "cifg_lstm"]


def sigma(v):
    return 1 / (1 + np.exp(-v))


def reference_run(name, params, x, h, c):
    """One sequence ``x`` ``(T, I)``, one step at a time: the features ``(T, H)`` and the last cell."""
    n = h.shape[-1]
    hs = []
    for x_t in x:
        z = params["weight_ih"] @ x_t + params["bias_ih"] + params["weight_hh"] @ h + params["bias_hh"]
        if name == "peephole_lstm":
            i = sigma(z[:n] + params["weight_ci"] * c)  # the input and forget gates see the old cell ...
            f = sigma(z[n : 2 * n] + params["weight_cf"] * c)
            c = f * c + i * np.tanh(z[2 * n : 3 * n])
            o = sigma(z[3 * n :] + params["weight_co"] * c)  # ... the output gate the new one
        else:
            f = sigma(z[:n])
            c = f * c + (1 - f) * np.tanh(z[n : 2 * n])
            o = sigma(z[2 * n :])
        h = o * np.tanh(c)
        hs.append(h)
    return np.array(hs), c


# --- construction -----------------------------------------------------------------


def test_parameters_are_the_lstm_layout_plus_peepholes_or_three_gates():
    peep = make_model("peephole_lstm", 3, 5, 2)
    assert {k: v.shape for k, v in peep.params.items()} == {
        "weight_ih": (20, 3),
        "weight_hh": (20, 5),
        "bias_ih": (20,),
        "bias_hh": (20,),
        "weight_ci": (5,),
        "weight_cf": (5,),
        "weight_co": (5,),
        "weight_out": (2, 5),
        "bias_out": (2,),
    }
    cifg = make_model("cifg_lstm", 3, 5, 2)
    assert cifg.params["weight_ih"].shape == (15, 3) and cifg.params["bias_hh"].shape == (15,)


def test_peepholes_are_drawn_uniform_within_one_over_sqrt_hidden():
    params = make_model("peephole_lstm", 3, 16, 2, seed=4).params
    peep = np.concatenate([params[k] for k in ("weight_ci", "weight_cf", "weight_co")])
    assert np.abs(peep).max() <= 0.25 and peep.min() < -0.15 and peep.max() > 0.15
    assert len(set(peep.tolist())) == peep.size


@pytest.mark.parametrize("name, forget", [("peephole_lstm", slice(4, 8)), ("cifg_lstm", slice(0, 4))])
def test_forget_bias_goes_to_the_forget_gate_slice_of_bias_hh(name, forget):
    plain = make_model(name, 3, 4, 2, seed=1).params
    biased = make_model(name, 3, 4, 2, seed=1, forget_bias=1.5).params
    expected = np.zeros_like(plain["bias_hh"])
    expected[forget] = 1.5
    np.testing.assert_allclose(biased["bias_hh"] - plain["bias_hh"], expected, rtol=0, atol=1e-15)
    assert make_model(name, 3, 4, 2, forget_bias=1.5).core.options() == {"forget_bias": 1.5}


@pytest.mark.parametrize("name", VARIANTS)
def test_bad_options_are_named_with_what_is_allowed(name):
    with pytest.raises(TrainingConfigError, match="forget_bias must be a finite number, got nan"):
        make_model(name, 3, 4, 2, forget_bias=float("nan"))
    with pytest.raises(
        TrainingConfigError, match=f"cell '{name}' takes no option 'peepholes'; its options are: forget_bias"
    ):
        make_model(name, 3, 4, 2, peepholes=True)


# --- the equations ----------------------------------------------------------------


@pytest.mark.parametrize("name", VARIANTS)
def test_forward_equals_the_step_by_step_reference(name):
    rng = np.random.default_rng(0)
    model = scaled_model(name, 3, 4, 2, seed=3)
    x = rng.normal(size=(3, 6, 3))
    h0, c0 = random_state(model, 3, rng)
    features, cache = model.core.forward(model.params, np.ascontiguousarray(x.transpose(1, 0, 2)), (h0, c0))
    for b in range(3):
        hs, c = reference_run(name, model.params, x[b], h0[b], c0[b])
        np.testing.assert_allclose(features[:, b], hs, rtol=0, atol=1e-14)
        np.testing.assert_allclose(cache["c"][-1, b], c, rtol=0, atol=1e-14)


def test_peepholes_at_zero_give_exactly_the_plain_lstm():
    rng = np.random.default_rng(1)
    peep = scaled_model("peephole_lstm", 3, 4, 2, seed=5)
    for k in ("weight_ci", "weight_cf", "weight_co"):
        peep.params[k][:] = 0
    lstm = make_model("lstm", 3, 4, 2)
    lstm.params.update({k: v.copy() for k, v in peep.params.items() if k in lstm.params})
    x, y, mask = random_batch(rng, 3, 7, 3, 2)
    state = random_state(peep, 3, rng)
    ours, theirs = peep.loss_and_grad(x, y, mask, state), lstm.loss_and_grad(x, y, mask, state)
    np.testing.assert_array_equal(ours.logits, theirs.logits)
    for a, b in zip(ours.final_state, theirs.final_state, strict=True):
        np.testing.assert_array_equal(a, b)
    for k, g in theirs.grads.items():
        np.testing.assert_allclose(ours.grads[k], g, rtol=1e-13, atol=1e-16)
    assert min(np.abs(ours.grads[k]).max() for k in ("weight_ci", "weight_cf", "weight_co")) > 1e-3
    peep.params["weight_co"][0] = 1.0  # and each peephole matters
    assert not np.allclose(peep.forward(x, state), theirs.logits)


def test_cifg_is_an_lstm_whose_input_gate_is_one_minus_its_forget_gate():
    rng = np.random.default_rng(2)
    cifg = scaled_model("cifg_lstm", 3, 4, 2, seed=6)
    lstm = make_model("lstm", 3, 4, 2)
    lstm.params.update(cifg_as_lstm_params(cifg.params, 4))
    lstm.params.update({k: cifg.params[k].copy() for k in ("weight_out", "bias_out")})
    x = rng.normal(size=(3, 8, 3))
    state = random_state(cifg, 3, rng)
    np.testing.assert_allclose(cifg.forward(x, state), lstm.forward(x, state), rtol=0, atol=1e-14)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2))
    _, cache = lstm.core.forward(lstm.params, xt, state)
    _, mine = cifg.core.forward(cifg.params, xt, state)
    np.testing.assert_allclose(cache["acts"][..., :4], 1 - mine["acts"][..., :4], rtol=0, atol=1e-15)  # i = 1 - f


# --- gradients, pieces, torch -----------------------------------------------------


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("stack", [{}, {"layers": 2}, {"bidirectional": True}], ids=["one", "layers2", "bidi"])
def test_gradient_matches_central_finite_differences_for_every_parameter(name, stack):
    rng = np.random.default_rng(7)
    model = scaled_model(name, 3, 4, 3, seed=2, **stack)
    x, y, mask = random_batch(rng, 3, 6, 3, 3)
    state = random_state(model, 3, rng) if model.core.carries_state else None
    assert_gradients_match(model, x, y, mask, state)


@pytest.mark.parametrize("name", VARIANTS)
def test_start_gradient_with_a_final_state_gradient_matches_finite_differences(name):
    rng = np.random.default_rng(12)
    model = scaled_model(name, 3, 4, 2, seed=4)
    x = rng.normal(size=(2, 5, 3))
    assert_start_gradient_matches(model, x, random_state(model, 2, rng))


@settings(max_examples=15, deadline=None)
@given(
    name=st.sampled_from(VARIANTS),
    batch=st.integers(1, 3),
    steps=st.integers(2, 8),
    split=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_running_in_two_pieces_with_the_carried_state_equals_one_run(name, batch, steps, split, seed):
    rng = np.random.default_rng(seed)
    model = make_model(name, 3, 4, 2, seed=seed)
    assert_two_pieces_equal_one_run(model, rng.normal(size=(batch, steps, 3)), min(split, steps - 1))


@pytest.mark.parametrize("name", VARIANTS)
def test_torch_twin_gives_the_same_features_and_every_gradient(name):
    rng = np.random.default_rng(3)
    model = scaled_model(name, 4, 5, 3, scale=1.5, seed=3)
    x, y, mask = random_batch(rng, 3, 7, 4, 3, p_mask=0.5)
    assert_torch_twin_matches(model, x, y, mask, random_state(model, 3, rng))


@pytest.mark.parametrize("stack", [{"layers": 2}, {"bidirectional": True}], ids=["layers2", "bidi"])
def test_torch_twins_compose_into_stacked_and_bidirectional_models(stack):
    assert_stacked_torch_twin_matches("peephole_lstm", stack)


@pytest.mark.parametrize("name", VARIANTS)
def test_float32_variants_compute_in_float32_close_to_float64(name):
    assert_float32_close_to_float64(name, steps=5, hidden=6)
