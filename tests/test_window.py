"""The time-delay window model (turingrnn.learning.window): a memoryless baseline that sees the last k inputs.

Its window is checked from both sides (inputs older than k steps never
matter, inputs inside it do), its gradients against finite differences
(alone and stacked, which checks the input gradient) and torch, its carried
state against one run, and its reach on a delay task: it learns to recall
the symbol from d steps ago exactly when d < k.
"""

import inspect

import numpy as np
import pytest
from delay_task import delay_batch
from gradcheck import assert_gradients_match
from hypothesis import given, settings
from hypothesis import strategies as st

from turingrnn.errors import TrainingConfigError
from turingrnn.learning.models import MODELS, make_model
from turingrnn.learning.training import evaluate, train, truncated_bptt
from turingrnn.learning.window import TimeDelayCore


def random_problem(rng, model, batch=3, steps=6):
    x = rng.normal(size=(batch, steps, model.input_size))
    y = rng.integers(0, model.output_size, (batch, steps))
    mask = rng.random((batch, steps)) < 0.7
    mask[0, -1] = True
    state = tuple(rng.normal(size=(batch,) + s) for s in model.core.state_shapes())
    return x, y, mask, state


# --- construction ----------------------------------------------------------------------


def test_registry_defaults_are_the_constructor_defaults():
    spec = MODELS["tdnn"]
    params = inspect.signature(TimeDelayCore).parameters
    assert spec.options == {k: params[k].default for k in spec.options}
    assert set(spec.options) == set(params) - {"input_size", "hidden_size", "dtype"}
    assert spec.stackable


def test_parameters_are_one_layer_over_the_flattened_window_with_linear_initialisation():
    model = make_model("tdnn", 3, 5, 2, window=4, seed=1)
    assert {k: v.shape for k, v in model.params.items()} == {
        "weight_ih": (5, 12),
        "bias_ih": (5,),
        "weight_out": (2, 5),
        "bias_out": (2,),
    }
    bound = 1 / np.sqrt(12)
    assert bound * 0.8 < np.abs(model.params["weight_ih"]).max() <= bound
    assert model.core.state_shapes() == ((3, 3),) and model.core.options() == {"window": 4, "nonlinearity": "tanh"}


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_each_step_is_the_layer_applied_to_the_window_newest_first(nonlinearity):
    rng = np.random.default_rng(0)
    model = make_model("tdnn", 2, 4, 2, window=3, nonlinearity=nonlinearity)
    x = rng.normal(size=(2, 5, 2))
    p = model.params
    fs, _ = model.core.forward(p, x.transpose(1, 0, 2), model.initial_state(2))
    padded = np.concatenate([np.zeros((2, 2, 2)), x], axis=1)
    for t in range(5):
        window = np.concatenate([padded[:, t + 2], padded[:, t + 1], padded[:, t]], axis=1)
        pre = window @ p["weight_ih"].T + p["bias_ih"]
        np.testing.assert_allclose(fs[t], np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0), atol=1e-15)


# --- the window ------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [1, 3, 6])
def test_the_output_at_step_t_depends_on_exactly_the_last_k_inputs(window):
    rng = np.random.default_rng(window)
    model = make_model("tdnn", 3, 6, 3, window=window, seed=2)
    x = rng.normal(size=(1, 12, 3))
    t = 9
    base = model.forward(x)[0, t]
    for back in range(t + 1):
        changed = x.copy()
        changed[0, t - back] += rng.normal(size=3)
        out = model.forward(changed)[0, t]
        if back < window:
            assert np.abs(out - base).max() > 1e-6, back
        else:
            np.testing.assert_array_equal(out, base)
    later = x.copy()
    later[0, t + 1 :] = rng.normal(size=(12 - t - 1, 3))
    np.testing.assert_array_equal(model.forward(later)[0, t], base)  # causal: the future never matters


@settings(max_examples=25, deadline=None)
@given(
    window=st.integers(1, 5),
    batch=st.integers(1, 3),
    steps=st.integers(2, 9),
    split=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_running_in_two_pieces_with_the_carried_state_equals_one_run(window, batch, steps, split, seed):
    split = min(split, steps - 1)
    rng = np.random.default_rng(seed)
    model = make_model("tdnn", 2, 3, 2, window=window, seed=seed)
    x = rng.normal(size=(batch, steps, 2))
    whole, final = model.run(x)
    first, middle = model.run(x[:, :split])
    second, end = model.run(x[:, split:], middle)
    np.testing.assert_array_equal(np.concatenate([first, second], axis=1), whole)
    np.testing.assert_array_equal(end[0], final[0])
    # The state is the last k - 1 inputs, newest first (zeros before the start).
    padded = np.concatenate([np.zeros((batch, window - 1, 2)), x], axis=1)
    np.testing.assert_array_equal(final[0], padded[:, ::-1][:, : window - 1])


def test_truncated_bptt_windows_are_the_full_gradient_of_their_steps_from_the_carried_state():
    rng = np.random.default_rng(1)
    model = make_model("tdnn", 3, 4, 3, window=3, seed=4)
    x, y, mask = delay_batch(rng, 2, 9)
    states = model.loss_and_grad(x, y, mask, keep_states=True).states
    for w in truncated_bptt(model, x, y, mask, k1=3, k2=5):
        scored = mask.copy()
        scored[:, : w.start] = False
        start = tuple(s[:, w.back] for s in states) if w.back else None
        expected = model.loss_and_grad(x[:, w.back : w.stop], y[:, w.back : w.stop], scored[:, w.back : w.stop], start)
        for name in model.params:
            np.testing.assert_allclose(w.result.grads[name], expected.grads[name], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("window, learns", [(2, False), (3, True)])
def test_a_tdnn_recalls_the_symbol_from_two_steps_ago_only_when_the_window_reaches_it(window, learns):
    rng = np.random.default_rng(0)
    model = make_model("tdnn", 3, 16, 3, window=window, seed=0)
    train(model, (delay_batch(rng, 32, 12) for _ in range(150)), learning_rate=0.03)
    accuracy = evaluate(model, *delay_batch(np.random.default_rng(1), 500, 12)).accuracy
    assert accuracy > 0.99 if learns else accuracy < 0.45  # chance is 1/3


# --- gradients -------------------------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("readout", ["linear", "relu"])
def test_gradient_matches_central_finite_differences_for_every_parameter(nonlinearity, readout):
    rng = np.random.default_rng(2)
    model = make_model("tdnn", 3, 4, 3, window=3, nonlinearity=nonlinearity, readout=readout, seed=1)
    for p in model.params.values():
        p *= 2.0
    assert_gradients_match(model, *random_problem(rng, model))


@pytest.mark.parametrize("layers, bidirectional", [(2, False), (1, True)])
def test_stacked_and_bidirectional_gradients_match_finite_differences_through_the_input_gradient(layers, bidirectional):
    rng = np.random.default_rng(3)
    model = make_model("tdnn", 2, 3, 2, window=2, layers=layers, bidirectional=bidirectional, seed=5)
    for p in model.params.values():
        p *= 2.0
    x, y, mask, _ = random_problem(rng, model, steps=5)
    assert_gradients_match(model, x, y, mask)  # the lower layer's gradient passes through the upper's dx


def test_a_stack_of_two_windows_of_k_sees_2k_minus_1_steps_back():
    rng = np.random.default_rng(4)
    model = make_model("tdnn", 2, 4, 2, window=3, layers=2, seed=1)
    x = rng.normal(size=(1, 10, 2))
    base = model.forward(x)[0, 8]
    for back, matters in [(4, True), (5, False)]:
        changed = x.copy()
        changed[0, 8 - back] += 1.0
        assert (np.abs(model.forward(changed)[0, 8] - base).max() > 1e-6) == matters


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_torch_forward_and_autograd_equal_numpy_in_float64(nonlinearity):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    model = make_model("tdnn", 3, 5, 2, window=4, nonlinearity=nonlinearity, seed=3)
    core = model.core
    xt = rng.normal(size=(7, 2, 3))
    start = (rng.normal(size=(2, 3, 3)),)
    weights = rng.normal(size=(7, 2, 5))  # the loss is sum(weights * features)
    params = {k: model.params[k] for k in core.param_names}
    fs, cache = core.forward(params, xt, start)
    grads, dx = core.backward(params, cache, weights)
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    xt_t = torch.tensor(xt, requires_grad=True)
    features, (final,) = core.torch_forward(tensors, xt_t, (torch.tensor(start[0]),))
    (features * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(features.detach().numpy(), fs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(final.detach().numpy(), core.final_state(cache, start)[0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(xt_t.grad.numpy(), dx, rtol=0, atol=1e-10)
    for name in core.param_names:
        assert np.abs(grads[name]).max() > 1e-3, name
        np.testing.assert_allclose(tensors[name].grad.numpy(), grads[name], rtol=0, atol=1e-10, err_msg=name)


def test_the_torch_backend_trains_the_tdnn_to_the_same_parameters_and_exports_it():
    torch = pytest.importorskip("torch")
    from turingrnn.learning.torch_backend import to_torch_module

    batches = [delay_batch(np.random.default_rng(k), 4, 8) for k in range(3)]
    ours = make_model("tdnn", 3, 5, 3, window=3, layers=2, seed=2)
    theirs = make_model("tdnn", 3, 5, 3, window=3, layers=2, seed=2)
    train(ours, batches, learning_rate=0.05, k1=4, k2=6)
    train(theirs, batches, learning_rate=0.05, k1=4, k2=6, backend="torch")
    for name in ours.params:
        np.testing.assert_allclose(theirs.params[name], ours.params[name], rtol=0, atol=1e-10, err_msg=name)
    x = batches[0][0]
    logits = to_torch_module(ours)(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(logits, ours.forward(x), rtol=0, atol=1e-12)


def test_float32_models_compute_in_float32_close_to_float64():
    rng = np.random.default_rng(6)
    wide = make_model("tdnn", 3, 6, 2, window=3, seed=3)
    narrow = make_model("tdnn", 3, 6, 2, window=3, seed=3, dtype="float32")
    x, y, mask, _ = random_problem(rng, wide)
    r64, r32 = wide.loss_and_grad(x, y, mask), narrow.loss_and_grad(x, y, mask)
    assert r32.logits.dtype == np.float32 and all(g.dtype == np.float32 for g in r32.grads.values())
    np.testing.assert_allclose(r32.logits, r64.logits, atol=1e-5)
    for name in wide.params:
        np.testing.assert_allclose(r32.grads[name], r64.grads[name], atol=1e-5)


# --- bad options ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option, value, match",
    [
        ("window", 0, r"window must be a positive int \(the steps each output sees\), got 0"),
        ("window", -2, "window must be a positive int .*, got -2"),
        ("window", 2.5, "window must be a positive int .*, got 2.5"),
        ("window", True, "window must be a positive int .*, got True"),
        ("nonlinearity", "sigmoid", "nonlinearity must be one of tanh, relu, got 'sigmoid'"),
    ],
)
def test_bad_window_options_name_the_value_and_what_is_allowed(option, value, match):
    with pytest.raises(TrainingConfigError, match=match):
        make_model("tdnn", 3, 4, 2, **{option: value})
