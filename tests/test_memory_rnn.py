"""The memory-augmented baselines (turingrnn.learning.memory_rnn): the Stack-RNN and the Tape-RNN.

Gradients are checked against central finite differences and against torch
autograd of the same forward pass; the memory updates against hand-computed
stacks and tapes with the action probabilities forced by large biases.
"""

import numpy as np
import pytest
from gradcheck import assert_gradients_match
from recurrent_checks import assert_two_pieces_equal_one_run

from turingrnn.errors import ShapeError, TrainingConfigError
from turingrnn.learning.memory_rnn import STACK_ACTIONS, TAPE_ACTIONS, StackRNNCore, TapeRNNCore, input_lengths
from turingrnn.learning.models import MODELS, make_model
from turingrnn.learning.training import truncated_bptt

SMALL_STACK = {"stack_size": 5, "stack_cell_size": 2}
SMALL_TAPE = {"memory_size": 5, "memory_cell_size": 2, "mlp_sizes": (3,)}
CONFIGS = [
    ("stack_rnn", {**SMALL_STACK}),
    ("stack_rnn", {**SMALL_STACK, "controller": "elman_tanh"}),
    ("stack_rnn", {**SMALL_STACK, "controller": "lstm", "stacks": 2}),
    ("stack_rnn", {**SMALL_STACK, "controller": "gru"}),
    ("tape_rnn", {**SMALL_TAPE}),
    ("tape_rnn", {**SMALL_TAPE, "controller": "lstm", "mlp_sizes": (3, 2), "tapes": 2}),
    ("tape_rnn", {**SMALL_TAPE, "controller": "gru", "mlp_sizes": (), "jumps": False}),
]
CHOICES = "controller must be one of elman_relu, elman_tanh, lstm, gru, got "
CONFIG_IDS = [f"{cell}-{opts.get('controller', 'elman_relu')}" for cell, opts in CONFIGS]


def blank_inputs(rng, batch, steps, inputs, lengths):
    """One-hot symbols, the blank (last column) from step ``lengths[b]`` on."""
    ids = rng.integers(0, inputs - 1, (batch, steps))
    for b, n in enumerate(lengths):
        ids[b, n:] = inputs - 1
    return np.eye(inputs)[ids]


def random_start(model, batch, rng):
    """A random state; the tape's ``length`` state is the zero one (nothing counted yet)."""
    return tuple(
        np.zeros((batch, 2)) if name == "length" else 0.5 * rng.normal(size=(batch, *shape))
        for name, shape in zip(model.core.state_names, model.core.state_shapes(), strict=True)
    )


def forced(model, action, value=None):
    """Make ``model`` take ``action`` with probability 1 - O(e^-60) at every step, writing ``value`` if given."""
    p = model.params
    actions = model.core.actions
    p["weight_action"][:] = 0
    p["bias_action"][:] = np.tile(np.where(np.array(actions) == action, 60.0, 0.0), model.core.memories)
    if value is not None:
        last = model.core.value_layers[-1]
        p[last[0]][:] = 0
        p[last[1]][:] = value
    return model


def identity_controller(model, scale=2.0):
    """``h_t = scale x_t`` (Elman, ReLU, ``H = I``): no recurrence and no read."""
    p = model.params
    p["weight_ih"][:] = 0
    p["weight_ih"][:, : model.input_size] = scale * np.eye(model.input_size)
    p["weight_hh"][:] = p["bias_ih"][:] = p["bias_hh"][:] = 0
    return model


def run_states(model, x, state=None):
    """Every state component after every step, batch-first ``(B, T, ...)``."""
    y = np.zeros(x.shape[:2], dtype=int)
    return model.loss_and_grad(x, y, np.ones(x.shape[:2], bool), state, keep_states=True).states


# --- the registry and the options ------------------------------------------------


def test_both_models_are_registered_with_deletangs_sizes_as_defaults():
    assert MODELS["stack_rnn"].options == {
        "controller": "elman_relu",
        "stack_size": 30,
        "stack_cell_size": 8,
        "stacks": 1,
    }
    tape = MODELS["tape_rnn"].options
    assert (tape["controller"], tape["memory_size"], tape["memory_cell_size"]) == ("elman_relu", 40, 8)
    assert (tape["tapes"], tape["mlp_sizes"], tape["jumps"]) == (1, [64, 64], True) and len(tape) == 6
    assert TapeRNNCore.DEFAULTS == {**tape, "mlp_sizes": (64, 64)}
    stack = make_model("stack_rnn", 3, 4, 2)
    assert stack.core.state_names == ("h", "stack")
    assert [s.shape for s in stack.initial_state(2)] == [(2, 4), (2, 1, 30, 8)]
    tape = make_model("tape_rnn", 3, 4, 2, controller="lstm")
    assert tape.core.state_names == ("h", "c", "tape", "length")
    assert [s.shape for s in tape.initial_state(2)] == [(2, 4), (2, 4), (2, 1, 40, 8), (2, 2)]
    assert repr(tape) == ("TapeRNNCore(input_size=3, hidden_size=4, output_size=2, controller='lstm', dtype=float64)")


def test_parameter_shapes_name_the_controller_the_value_head_and_the_actions():
    stack = make_model("stack_rnn", 3, 4, 2, controller="gru", stacks=2, **SMALL_STACK)
    assert {k: v.shape for k, v in stack.params.items()} == {
        "weight_ih": (12, 3 + 2 * 2),
        "weight_hh": (12, 4),
        "bias_ih": (12,),
        "bias_hh": (12,),
        "weight_push": (4, 4),
        "bias_push": (4,),
        "weight_action": (2 * len(STACK_ACTIONS), 4),
        "bias_action": (6,),
        "weight_out": (2, 4),
        "bias_out": (2,),
    }
    tape = make_model("tape_rnn", 3, 4, 2, memory_size=6, memory_cell_size=2, mlp_sizes=(5, 7))
    assert {k: v.shape for k, v in tape.params.items() if "write" in k or "action" in k} == {
        "weight_write_l0": (5, 4),
        "bias_write_l0": (5,),
        "weight_write_l1": (7, 5),
        "bias_write_l1": (7,),
        "weight_write_l2": (2, 7),
        "bias_write_l2": (2,),
        "weight_action": (len(TAPE_ACTIONS), 4),
        "bias_action": (5,),
    }
    plain = make_model("tape_rnn", 3, 4, 2, jumps=False)
    assert plain.params["weight_action"].shape == (3, 4)
    assert plain.core.state_names == ("h", "tape")


def test_linear_layers_are_uniform_within_one_over_sqrt_fan_in_and_seeded():
    a = make_model("tape_rnn", 3, 16, 2, seed=5, mlp_sizes=(64,))
    b = make_model("tape_rnn", 3, 16, 2, seed=np.random.default_rng(5), mlp_sizes=(64,))
    for name, p in a.params.items():
        np.testing.assert_array_equal(p, b.params[name])
    assert 0.12 < np.abs(a.params["weight_write_l1"]).max() <= 1 / 8  # fan-in 64
    assert 0.2 < np.abs(a.params["weight_action"]).max() <= 1 / 4  # fan-in 16
    assert not np.array_equal(
        a.params["weight_action"], make_model("tape_rnn", 3, 16, 2, seed=6).params["weight_action"]
    )


@pytest.mark.parametrize(
    "cell, options, message",
    [
        ("stack_rnn", {"controller": "transformer"}, CHOICES + "'transformer'"),
        ("stack_rnn", {"stack_size": 0}, "stack_size must be an int >= 1, got 0"),
        ("stack_rnn", {"stacks": True}, "stacks must be an int >= 1, got True"),
        ("stack_rnn", {"stack_cell_size": 2.0}, r"stack_cell_size must be an int >= 1, got 2.0"),
        ("tape_rnn", {"memory_size": -3}, "memory_size must be an int >= 1, got -3"),
        ("tape_rnn", {"mlp_sizes": 64}, "mlp_sizes must be a sequence of ints >= 1, got 64"),
        ("tape_rnn", {"mlp_sizes": "64"}, "mlp_sizes must be a sequence of ints >= 1, got '64'"),
        ("tape_rnn", {"mlp_sizes": (64, 0)}, "each of mlp_sizes must be an int >= 1, got 0"),
        ("tape_rnn", {"jumps": "yes"}, "jumps must be True or False, got 'yes'"),
        ("tape_rnn", {"controller": "lstm2"}, CHOICES + "'lstm2'"),
        (
            "stack_rnn",
            {"memory_size": 4},
            "cell 'stack_rnn' takes no option 'memory_size'; its options are: controller, stack_size, stack_cell_size, "
            "stacks",
        ),
        ("tape_rnn", {"layers": 2}, "cell 'tape_rnn' cannot be stacked or made bidirectional"),
    ],
)
def test_bad_options_name_the_value_and_what_is_allowed(cell, options, message):
    with pytest.raises(TrainingConfigError, match=message):
        make_model(cell, 3, 4, 2, **options)


def test_a_state_of_the_wrong_shape_names_the_memory_shape():
    model = make_model("stack_rnn", 3, 4, 2, **SMALL_STACK)
    with pytest.raises(ShapeError, match=r"a stack_rnn state is 2 array\(s\) of shape \(2, 4\), \(2, 1, 5, 2\)"):
        model.forward(np.zeros((2, 3, 3)), (np.zeros((2, 4)), np.zeros((2, 5, 2))))


# --- gradients ---------------------------------------------------------------------


@pytest.mark.parametrize("cell, options", CONFIGS, ids=CONFIG_IDS)
def test_gradient_matches_central_finite_differences_for_every_parameter(cell, options):
    rng = np.random.default_rng(11)
    model = make_model(cell, 4, 4, 3, seed=2, readout="relu", **options)
    for p in model.params.values():  # larger weights than the init, so that every path matters
        p *= 2.0
    x = blank_inputs(rng, 3, 6, 4, [2, 4, 6])
    y = rng.integers(0, 3, (3, 6))
    mask = rng.random((3, 6)) < 0.7
    mask[0, -1] = True
    assert_gradients_match(model, x, y, mask, random_start(model, 3, rng))


@pytest.mark.parametrize("layout", [{"layers": 2}, {"bidirectional": True}])
def test_stacked_and_bidirectional_stack_rnns_have_the_finite_difference_gradient(layout):
    rng = np.random.default_rng(3)
    model = make_model("stack_rnn", 3, 4, 2, seed=1, controller="elman_tanh", **layout, **SMALL_STACK)
    x = rng.normal(size=(2, 5, 3))
    y = rng.integers(0, 2, (2, 5))
    assert_gradients_match(model, x, y, np.ones((2, 5), bool))


# --- carried state ---------------------------------------------------------------


@pytest.mark.parametrize("cell, options", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("split", [3, 5])
def test_running_in_two_pieces_with_the_carried_state_equals_one_run(cell, options, split):
    rng = np.random.default_rng(split)
    model = make_model(cell, 4, 4, 2, seed=split, **options)
    x = blank_inputs(rng, 3, 7, 4, [1, 2, 3])  # every first blank falls in the first piece
    assert_two_pieces_equal_one_run(model, x, split)
    assert_two_pieces_equal_one_run(model, x, split, random_start(model, 3, rng))


def test_truncated_windows_carry_the_stacks():
    rng = np.random.default_rng(9)
    model = make_model("stack_rnn", 3, 4, 3, seed=4, controller="lstm", **SMALL_STACK)
    x = rng.normal(size=(2, 9, 3))
    y = rng.integers(0, 3, (2, 9))
    mask = rng.random((2, 9)) < 0.8
    states = model.loss_and_grad(x, y, mask, keep_states=True).states
    for w in truncated_bptt(model, x, y, mask, k1=3, k2=5):
        scored = mask.copy()
        scored[:, : w.start] = scored[:, w.stop :] = False
        start = tuple(s[:, w.back] for s in states) if w.back else None
        expected = model.loss_and_grad(x[:, w.back : w.stop], y[:, w.back : w.stop], scored[:, w.back : w.stop], start)
        for name, g in expected.grads.items():
            np.testing.assert_allclose(w.result.grads[name], g, rtol=1e-10, atol=1e-14)


# --- the stack ---------------------------------------------------------------------


def test_always_pushing_stacks_the_pushed_values_newest_on_top_and_drops_the_bottom():
    rng = np.random.default_rng(0)
    model = identity_controller(forced(make_model("stack_rnn", 3, 3, 2, stack_size=5, stack_cell_size=2), "push"))
    model.params["weight_push"][:] = rng.normal(size=(2, 3))
    model.params["bias_push"][:] = rng.normal(size=2)
    x = np.eye(3)[rng.integers(0, 3, (2, 7))]
    pushed = 2 * x @ model.params["weight_push"].T + model.params["bias_push"]  # v_t, (B, T, c)
    stacks = run_states(model, x)[1][:, 1:, 0]  # (B, T, n, c)
    for t in range(7):
        expected = np.zeros((2, 5, 2))
        depth = min(t + 1, 5)
        expected[:, :depth] = pushed[:, t::-1][:, :depth]
        np.testing.assert_allclose(stacks[:, t], expected, rtol=0, atol=1e-12)


def test_always_popping_empties_the_stack_from_the_top():
    rng = np.random.default_rng(1)
    model = forced(make_model("stack_rnn", 3, 4, 2, stack_size=5, stack_cell_size=2, stacks=2), "pop")
    start = random_start(model, 2, rng)
    stacks = run_states(model, rng.normal(size=(2, 6, 3)), start)[1]  # (B, T + 1, K, n, c)
    for t in range(1, 7):
        expected = np.zeros_like(start[1])
        expected[:, :, : max(5 - t, 0)] = start[1][:, :, t:]
        np.testing.assert_allclose(stacks[:, t], expected, rtol=0, atol=1e-12)


def test_a_mix_of_actions_is_the_probability_weighted_sum_of_push_pop_and_no_op():
    rng = np.random.default_rng(2)
    model = make_model("stack_rnn", 3, 4, 2, stack_size=5, stack_cell_size=2)
    probs = np.array([0.2, 0.5, 0.3])
    model.params["weight_action"][:] = 0
    model.params["bias_action"][:] = np.log(probs)
    v = np.array([1.5, -2.0])
    model.params["weight_push"][:] = 0
    model.params["bias_push"][:] = v
    h, stack = random_start(model, 2, rng)
    after = run_states(model, rng.normal(size=(2, 1, 3)), (h, stack))[1][:, 1, 0]
    s = stack[:, 0]
    push = np.concatenate([np.broadcast_to(v, (2, 1, 2)), s[:, :-1]], axis=1)
    pop = np.concatenate([s[:, 1:], np.zeros((2, 1, 2))], axis=1)
    np.testing.assert_allclose(after, 0.2 * push + 0.5 * pop + 0.3 * s, rtol=0, atol=1e-14)


def test_the_controller_reads_the_top_of_every_stack():
    rng = np.random.default_rng(4)
    model = make_model("stack_rnn", 3, 4, 2, controller="elman_tanh", stacks=2, **SMALL_STACK)
    p = model.params
    p["weight_hh"][:] = p["bias_hh"][:] = 0
    h, stack = random_start(model, 2, rng)
    features, _ = model.core.forward(p, rng.normal(size=(1, 2, 3)) * 0, (h, stack))
    tops = stack[:, :, 0].reshape(2, 4)
    np.testing.assert_allclose(features[0], np.tanh(tops @ p["weight_ih"][:, 3:].T + p["bias_ih"]), rtol=0, atol=1e-14)


# --- the tape ----------------------------------------------------------------------


@pytest.mark.parametrize("action, shift", [("stay", 0), ("left", -1), ("right", 1)])
def test_a_forced_move_writes_the_head_cell_then_rolls_the_tape_by_one(action, shift):
    rng = np.random.default_rng(5)
    model = forced(make_model("tape_rnn", 3, 4, 2, memory_size=6, memory_cell_size=2, mlp_sizes=()), action, [7.0, 8.0])
    h, tape, length = random_start(model, 2, rng)
    after = run_states(model, blank_inputs(rng, 2, 1, 3, [1, 1]), (h, tape, length))[1][:, 1]
    written = tape.copy()
    written[:, :, 0] = (7.0, 8.0)
    np.testing.assert_allclose(after, np.roll(written, shift, axis=2), rtol=0, atol=1e-12)
    if action == "left":  # the head now reads what was cell 1; the written cell is one behind it
        np.testing.assert_allclose(after[:, 0, 0], tape[:, 0, 1], atol=1e-12)
        np.testing.assert_allclose(after[:, 0, -1], np.broadcast_to([7.0, 8.0], (2, 2)), atol=1e-12)


def test_moving_right_every_step_lays_the_written_values_out_in_reverse_order():
    rng = np.random.default_rng(6)
    model = make_model("tape_rnn", 3, 3, 2, memory_size=8, memory_cell_size=2, mlp_sizes=(), jumps=False)
    identity_controller(forced(model, "right"))
    model.params["weight_write"][:] = rng.normal(size=(2, 3))
    x = np.eye(3)[rng.integers(0, 3, (2, 4))]
    written = 2 * x @ model.params["weight_write"].T + model.params["bias_write"]  # (B, T, c)
    tape = run_states(model, x)[1][:, -1, 0]
    np.testing.assert_allclose(tape[:, 1:5], written[:, ::-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(tape[:, [0, 5, 6, 7]], 0, atol=1e-12)


@pytest.mark.parametrize("action, sign", [("jump_left", -1), ("jump_right", 1)])
def test_a_jump_rolls_the_tape_by_each_examples_input_length_modulo_the_tape(action, sign):
    rng = np.random.default_rng(7)
    model = forced(make_model("tape_rnn", 3, 4, 2, memory_size=7, memory_cell_size=2, mlp_sizes=()), action, [1.0, 2.0])
    lengths = [2, 3, 9, 0, 12]  # 9 wraps to 2; 12 (no blank in 12 steps) to 5
    x = blank_inputs(rng, 5, 12, 3, lengths)
    h, tape, length = random_start(model, 5, rng)
    after = run_states(model, x, (h, tape, length))[1][:, 1]
    written = tape.copy()
    written[:, :, 0] = (1.0, 2.0)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(after[b], np.roll(written[b], sign * n, axis=1), rtol=0, atol=1e-12)


def test_the_input_length_is_the_steps_before_the_first_blank_column():
    x = np.zeros((6, 4, 3))
    x[:, 0] = np.eye(3)[[0, 1, 1, 2, 0, 2]]  # blank first at step 3
    x[:, 1] = np.eye(3)[[2, 0, 0, 0, 0, 0]]  # blank at once
    x[:, 2] = np.eye(3)[[0, 1, 0, 1, 0, 1]]  # no blank
    x[:, 3] = 0.3  # below 0.5: not blank
    lengths, states = input_lengths(x, np.zeros((4, 2)))
    assert lengths.tolist() == [3, 0, 6, 6]
    assert states[:, 0].tolist() == [[1, 0], [2, 0], [3, 0], [3, 1], [3, 1], [3, 1]]
    assert states[:, 1].tolist() == [[0, 1]] * 6
    # Carried across calls: a later piece adds its steps before the first blank to the count so far.
    head, carried = input_lengths(x[:2], np.zeros((4, 2)))
    tail, tail_states = input_lengths(x[2:], carried[-1])
    assert head.tolist() == [2, 0, 2, 2]  # a piece inside the input uses the length so far
    assert tail.tolist() == lengths.tolist()
    np.testing.assert_array_equal(np.concatenate([carried, tail_states]), states)


def test_the_tape_length_state_is_the_input_length_once_the_blank_is_seen():
    rng = np.random.default_rng(8)
    model = make_model("tape_rnn", 4, 4, 2, **SMALL_TAPE)
    _, final = model.run(blank_inputs(rng, 3, 6, 4, [1, 4, 6]))
    assert final[-1].tolist() == [[1, 1], [4, 1], [6, 0]]


# --- dtype and torch -------------------------------------------------------------


@pytest.mark.parametrize("cell, options", CONFIGS[2:6:3], ids=CONFIG_IDS[2:6:3])
def test_float32_models_compute_in_float32_close_to_float64(cell, options):
    rng = np.random.default_rng(4)
    x = blank_inputs(rng, 2, 5, 3, [2, 3])
    y, mask = rng.integers(0, 2, (2, 5)), np.ones((2, 5), bool)
    r64 = make_model(cell, 3, 6, 2, seed=3, **options).loss_and_grad(x, y, mask)
    r32 = make_model(cell, 3, 6, 2, seed=3, dtype="float32", **options).loss_and_grad(x, y, mask)
    assert r32.logits.dtype == np.float32 and all(g.dtype == np.float32 for g in r32.grads.values())
    assert all(s.dtype == np.float32 for s in r32.final_state)
    for name, g in r64.grads.items():
        np.testing.assert_allclose(r32.grads[name], g, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("cell, options", CONFIGS, ids=CONFIG_IDS)
def test_torch_forward_and_autograd_equal_the_numpy_forward_and_backward(cell, options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    model = make_model(cell, 4, 5, 2, seed=6, **options)
    for p in model.params.values():
        p *= 1.5
    core = model.core
    xt = blank_inputs(rng, 3, 7, 4, [2, 5, 7]).transpose(1, 0, 2)
    start = random_start(model, 3, rng)
    features, cache = core.forward(model.params, xt, start)
    dfeatures = rng.normal(size=features.shape)
    dfinal = tuple(rng.normal(size=s.shape) for s in start)  # the length state takes no gradient
    grads, dx = core.backward(model.params, cache, dfeatures)
    grads_with_final, dx_with_final, dstart = core.backward_with_start(model.params, cache, dfeatures, dfinal)

    params = {k: torch.tensor(model.params[k], requires_grad=True) for k in core.param_names}
    x = torch.tensor(xt, requires_grad=True)
    out, final = core.torch_forward(params, x, tuple(torch.tensor(s) for s in start))
    (out * torch.from_numpy(dfeatures)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), features, rtol=0, atol=1e-10)
    for ours, theirs in zip(core.final_state(cache, start), final, strict=True):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=1e-10)
    assert sorted(grads) == sorted(params)
    for name, tensor in params.items():
        assert np.abs(grads[name]).max() > 1e-4, name
        np.testing.assert_allclose(grads[name], tensor.grad.numpy(), rtol=0, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=0, atol=1e-10)

    # With a gradient on the final state, and the gradient of the start state.
    params = {k: torch.tensor(model.params[k], requires_grad=True) for k in core.param_names}
    names = core.state_names
    state = tuple(torch.tensor(s, requires_grad=name != "length") for s, name in zip(start, names, strict=True))
    x = torch.tensor(xt, requires_grad=True)
    out, final = core.torch_forward(params, x, state)
    loss = (out * torch.from_numpy(dfeatures)).sum()
    for name, f, d in zip(core.state_names, final, dfinal, strict=True):
        loss = loss + (f * torch.from_numpy(d)).sum() if name != "length" else loss
    loss.backward()
    for name, tensor in params.items():
        np.testing.assert_allclose(grads_with_final[name], tensor.grad.numpy(), rtol=0, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(dx_with_final, x.grad.numpy(), rtol=0, atol=1e-10)
    for name, ours, tensor in zip(core.state_names, dstart, state, strict=True):
        theirs = np.zeros(tensor.shape) if name == "length" else tensor.grad.numpy()
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10, err_msg=name)


def test_torch_forward_of_an_empty_sequence_returns_the_start_state():
    torch = pytest.importorskip("torch")
    core = StackRNNCore(3, 4, **SMALL_STACK)
    params = {k: torch.from_numpy(v) for k, v in core.init_params(np.random.default_rng(0)).items()}
    start = (torch.zeros(2, 4), torch.ones(2, 1, 5, 2))
    out, final = core.torch_forward(params, torch.zeros(0, 2, 3, dtype=torch.float64), start)
    assert tuple(out.shape) == (0, 2, 4) and final[1] is start[1]
    assert TapeRNNCore(3, 4).state_names == ("h", "tape", "length")
