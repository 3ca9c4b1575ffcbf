"""Trained cells (turingrnn.learning.cells) and their training (turingrnn.learning.training).

Gradients are checked against central finite differences, truncated BPTT
against the full gradient and against its definition, and the optimizer and
clipping against their formulas. The learning tests are small tasks that a
wrong gradient or a broken truncation would fail.
"""

import io

import numpy as np
import pytest
from gradcheck import numerical_gradient
from hypothesis import given, settings
from hypothesis import strategies as st

from turingrnn.errors import (
    ShapeError,
    TrainingConfigError,
    TrainingDivergedError,
    TuringRNNError,
    UnknownCellError,
)
from turingrnn.learning.cells import PARAMETER_NAMES
from turingrnn.learning.models import make_model
from turingrnn.learning.training import Adam, clip_by_global_norm, evaluate, global_norm, train, truncated_bptt

CELLS = ("elman_tanh", "elman_relu", "lstm", "gru")  # the classic one-layer cells; other models have their own tests


def random_batch(rng, batch, steps, inputs, outputs, *, one_hot=False, p_mask=0.6):
    if one_hot:
        x = np.eye(inputs)[rng.integers(0, inputs, (batch, steps))]
    else:
        x = rng.normal(size=(batch, steps, inputs))
    y = rng.integers(0, outputs, (batch, steps))
    mask = rng.random((batch, steps)) < p_mask
    mask[0, -1] = True  # at least one scored position
    return x, y, mask


def random_state(model, batch, rng):
    return tuple(0.5 * rng.normal(size=(batch, model.hidden_size)) for _ in range(model.state_size))


def recall_batch(rng, batch, steps):
    """Bit strings; the target at the last step is the first bit (only that position is scored)."""
    bits = rng.integers(0, 2, (batch, steps))
    y = np.zeros((batch, steps), dtype=np.int64)
    y[:, -1] = bits[:, 0]
    mask = np.zeros((batch, steps), dtype=bool)
    mask[:, -1] = True
    return np.eye(2)[bits], y, mask


# --- construction and the registry ----------------------------------------------


def test_registry_names_every_cell():
    from turingrnn.learning.models import MODELS

    assert list(MODELS)[:4] == ["elman_tanh", "elman_relu", "lstm", "gru"]
    assert [make_model(c, 2, 8, 2).name for c in MODELS] == list(MODELS)


def test_unknown_cell_name_lists_the_valid_names():
    with pytest.raises(
        UnknownCellError, match=r"unknown cell 'transformer'; the cells are: elman_tanh, elman_relu, lstm, gru, "
    ):
        make_model("transformer", 2, 3, 2)
    assert issubclass(UnknownCellError, LookupError)
    assert issubclass(UnknownCellError, TuringRNNError)


@pytest.mark.parametrize("cell, gates", [("elman_tanh", 1), ("elman_relu", 1), ("lstm", 4), ("gru", 3)])
def test_parameter_shapes_follow_pytorch(cell, gates):
    model = make_model(cell, 5, 7, 3)
    shapes = {name: p.shape for name, p in model.params.items()}
    assert shapes == {
        "weight_ih": (gates * 7, 5),
        "weight_hh": (gates * 7, 7),
        "bias_ih": (gates * 7,),
        "bias_hh": (gates * 7,),
        "weight_out": (3, 7),
        "bias_out": (3,),
    }
    assert model.parameter_count == sum(int(np.prod(s)) for s in shapes.values())


@pytest.mark.parametrize("cell", list(CELLS))
def test_initialisation_is_uniform_within_one_over_sqrt_hidden_and_seeded(cell):
    a = make_model(cell, 3, 16, 2, seed=5)
    b = make_model(cell, 3, 16, 2, seed=np.random.default_rng(5))
    c = make_model(cell, 3, 16, 2, seed=6)
    for name in PARAMETER_NAMES:
        assert np.abs(a.params[name]).max() <= 0.25
        np.testing.assert_array_equal(a.params[name], b.params[name])
        assert not np.array_equal(a.params[name], c.params[name])
    spread = np.concatenate([p.ravel() for p in a.params.values()])
    assert spread.min() < -0.2 and spread.max() > 0.2


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "4"])
def test_sizes_must_be_positive_ints(bad):
    with pytest.raises(ShapeError, match="hidden_size must be a positive int"):
        make_model("gru", 2, bad, 2)


def test_dtype_must_be_float64_or_float32():
    with pytest.raises(ShapeError, match="dtype must be float64 or float32, got int64"):
        make_model("lstm", 2, 3, 2, dtype=np.int64)


# --- gradients ------------------------------------------------------------------


@pytest.mark.parametrize("cell", list(CELLS))
def test_gradient_matches_central_finite_differences_for_every_parameter(cell):
    rng = np.random.default_rng(11)
    model = make_model(cell, 3, 4, 3, seed=2)
    for p in model.params.values():  # larger weights than the init, so that every path matters
        p *= 2.0
    x, y, mask = random_batch(rng, 3, 5, 3, 3)
    state = random_state(model, 3, rng)
    analytic = model.loss_and_grad(x, y, mask, state).grads
    for name in PARAMETER_NAMES:
        numeric = numerical_gradient(model, x, y, mask, state, name)
        a = analytic[name]
        assert np.linalg.norm(a) > 1e-4, name
        rel = np.linalg.norm(a - numeric) / (np.linalg.norm(a) + np.linalg.norm(numeric))
        assert rel < 1e-6, (name, rel)


@pytest.mark.parametrize("cell", list(CELLS))
def test_loss_is_the_masked_mean_cross_entropy_of_the_logits(cell):
    rng = np.random.default_rng(3)
    model = make_model(cell, 4, 5, 3, seed=1)
    x, y, mask = random_batch(rng, 4, 6, 4, 3)
    y_junk = np.where(mask, y, -7)  # unscored targets are never read
    result = model.loss_and_grad(x, y_junk, mask)
    logits = model.forward(x)
    np.testing.assert_array_equal(result.logits, logits)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.mean([logp[b, t, y[b, t]] for b, t in zip(*np.nonzero(mask), strict=True)])
    assert result.loss == pytest.approx(expected, rel=1e-12)
    assert result.count == mask.sum()
    assert result.correct == ((logits.argmax(-1) == y) & mask).sum()
    np.testing.assert_array_equal(model.predict(x), logits.argmax(-1))


def test_an_empty_mask_gives_zero_loss_and_zero_gradients():
    rng = np.random.default_rng(0)
    model = make_model("lstm", 2, 3, 2)
    x, y, _ = random_batch(rng, 2, 4, 2, 2)
    result = model.loss_and_grad(x, y, np.zeros((2, 4), dtype=bool))
    assert (result.loss, result.count) == (0.0, 0)
    assert global_norm(result.grads) == 0.0


@settings(max_examples=25, deadline=None)
@given(
    cell=st.sampled_from(list(CELLS)),
    batch=st.integers(1, 3),
    steps=st.integers(2, 7),
    split=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_running_in_two_pieces_with_the_carried_state_equals_one_run(cell, batch, steps, split, seed):
    split = min(split, steps - 1)
    rng = np.random.default_rng(seed)
    model = make_model(cell, 3, 4, 2, seed=seed)
    x = rng.normal(size=(batch, steps, 3))
    whole, final = model.run(x)
    first, middle = model.run(x[:, :split])
    second, end = model.run(x[:, split:], middle)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=0, atol=1e-13)
    for a, b in zip(end, final, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    states = model.loss_and_grad(
        x, np.zeros((batch, steps), dtype=int), np.ones((batch, steps), bool), keep_states=True
    )
    assert states.states is not None
    for part, mid in zip(states.states, middle, strict=True):
        assert part.shape == (batch, steps + 1, 4)
        np.testing.assert_allclose(part[:, split], mid, rtol=0, atol=1e-13)


@pytest.mark.parametrize("cell", list(CELLS))
def test_float32_models_compute_in_float32_close_to_float64(cell):
    rng = np.random.default_rng(4)
    wide = make_model(cell, 3, 6, 2, seed=3)
    narrow = make_model(cell, 3, 6, 2, seed=3, dtype="float32")
    x, y, mask = random_batch(rng, 2, 5, 3, 2)
    r64 = wide.loss_and_grad(x, y, mask)
    r32 = narrow.loss_and_grad(x, y, mask)
    assert r32.logits.dtype == np.float32
    assert all(g.dtype == np.float32 for g in r32.grads.values())
    np.testing.assert_allclose(r32.logits, r64.logits, atol=1e-5)
    for name in PARAMETER_NAMES:
        np.testing.assert_allclose(r32.grads[name], r64.grads[name], atol=1e-5)


# --- shapes -----------------------------------------------------------------------


def test_wrong_input_width_names_both_shapes():
    model = make_model("gru", 3, 4, 2)
    with pytest.raises(
        ShapeError, match=r"inputs have shape \(2, 5, 4\); expected \(batch, time, 3\) for this gru model"
    ):
        model.forward(np.zeros((2, 5, 4)))
    with pytest.raises(ShapeError, match=r"inputs have shape \(5, 3\)"):
        model.forward(np.zeros((5, 3)))


def test_wrong_targets_and_mask_name_the_shapes():
    model = make_model("lstm", 3, 4, 2)
    x = np.zeros((2, 5, 3))
    ok_y, ok_mask = np.zeros((2, 5), dtype=int), np.ones((2, 5), dtype=bool)
    with pytest.raises(ShapeError, match=r"targets have shape \(2, 4\); expected \(2, 5\)"):
        model.loss_and_grad(x, np.zeros((2, 4), dtype=int), ok_mask)
    with pytest.raises(ShapeError, match=r"mask has shape \(5, 2\); expected \(2, 5\)"):
        model.loss_and_grad(x, ok_y, ok_mask.T)
    with pytest.raises(ShapeError, match="mask must be a bool array, got dtype int64"):
        model.loss_and_grad(x, ok_y, ok_mask.astype(np.int64))
    with pytest.raises(ShapeError, match="targets must be integer class indices, got dtype float64"):
        model.loss_and_grad(x, ok_y.astype(float), ok_mask)
    with pytest.raises(ShapeError, match=r"target 2 at a masked position is outside the 2 output classes 0..1"):
        model.loss_and_grad(x, ok_y + 2, ok_mask)


def test_wrong_state_names_the_expected_shape():
    model = make_model("lstm", 3, 4, 2)
    with pytest.raises(ShapeError, match=r"a lstm state is 2 array\(s\) of shape \(2, 4\)"):
        model.forward(np.zeros((2, 5, 3)), (np.zeros((2, 4)),))
    with pytest.raises(ShapeError, match=r"state has 1 part\(s\) of shapes \[\(3, 4\)\]"):
        make_model("gru", 3, 4, 2).forward(np.zeros((2, 5, 3)), (np.zeros((3, 4)),))


def test_train_reports_a_bad_batch_with_its_shapes():
    model = make_model("elman_tanh", 3, 4, 2)
    good = recall_batch(np.random.default_rng(0), 4, 5)
    with pytest.raises(ShapeError, match=r"inputs have shape \(4, 5, 2\); expected \(batch, time, 3\)"):
        train(model, [good])
    model = make_model("elman_tanh", 2, 4, 2)
    with pytest.raises(ShapeError, match="batch 1 is not an \\(inputs, targets, mask\\) triple"):
        train(model, [good, good[:2]])


# --- truncated BPTT ----------------------------------------------------------------


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("k", [None, 9, 20])
def test_truncated_bptt_with_k1_equal_k2_at_least_the_length_is_full_bptt(cell, k):
    rng = np.random.default_rng(8)
    model = make_model(cell, 3, 4, 3, seed=1)
    x, y, mask = random_batch(rng, 3, 9, 3, 3)
    full = model.loss_and_grad(x, y, mask)
    windows = list(truncated_bptt(model, x, y, mask, k1=k, k2=k))
    assert [(w.back, w.start, w.stop) for w in windows] == [(0, 0, 9)]
    assert windows[0].result.loss == full.loss
    for name in PARAMETER_NAMES:
        np.testing.assert_array_equal(windows[0].result.grads[name], full.grads[name])


@pytest.mark.parametrize("cell", list(CELLS))
def test_each_truncated_window_is_the_full_gradient_of_its_steps_from_the_carried_state(cell):
    rng = np.random.default_rng(9)
    model = make_model(cell, 3, 4, 3, seed=4)
    x, y, mask = random_batch(rng, 2, 9, 3, 3, p_mask=0.8)
    states = model.loss_and_grad(x, y, mask, keep_states=True).states
    windows = list(truncated_bptt(model, x, y, mask, k1=3, k2=5))
    assert [(w.back, w.start, w.stop) for w in windows] == [(0, 0, 3), (1, 3, 6), (4, 6, 9)]
    for w in windows:
        scored = mask.copy()
        scored[:, : w.start] = False
        scored[:, w.stop :] = False
        start = tuple(s[:, w.back] for s in states) if w.back else None
        expected = model.loss_and_grad(x[:, w.back : w.stop], y[:, w.back : w.stop], scored[:, w.back : w.stop], start)
        assert w.result.count == scored.sum()
        assert w.result.loss == pytest.approx(expected.loss, rel=1e-12)
        for name in PARAMETER_NAMES:
            np.testing.assert_allclose(w.result.grads[name], expected.grads[name], rtol=1e-10, atol=1e-14)
    # Truncation cuts paths: the windows' gradients do not add up to the full one.
    full = model.loss_and_grad(x, y, mask)
    summed = sum(w.result.grads["weight_hh"] * w.result.count for w in windows) / full.count
    assert not np.allclose(summed, full.grads["weight_hh"], rtol=1e-6)


@pytest.mark.parametrize(
    "k1, k2, match", [(0, 3, "k1 must be a positive int, got 0"), (4, 3, "k2 must be an int >= k1 = 4, got 3")]
)
def test_bad_truncation_settings_raise(k1, k2, match):
    model = make_model("gru", 2, 3, 2)
    with pytest.raises(TrainingConfigError, match=match):
        next(truncated_bptt(model, *recall_batch(np.random.default_rng(0), 2, 6), k1=k1, k2=k2))


# --- Adam and clipping ---------------------------------------------------------------


def test_adam_first_step_moves_each_parameter_by_the_learning_rate_against_its_gradient_sign():
    params = {"w": np.array([1.0, -2.0, 0.5]), "b": np.array([0.0])}
    opt = Adam(params, learning_rate=0.1)
    opt.step({"w": np.array([3.0, -0.01, 1e-3]), "b": np.array([-5.0])})
    np.testing.assert_allclose(params["w"], [0.9, -1.9, 0.4], atol=1e-5)
    np.testing.assert_allclose(params["b"], [0.1], atol=1e-7)


def test_adam_follows_its_formula_over_several_steps():
    rng = np.random.default_rng(0)
    p = rng.normal(size=5)
    params = {"p": p.copy()}
    opt = Adam(params, learning_rate=0.01, betas=(0.8, 0.99), eps=1e-6)
    m = v = np.zeros(5)
    for t in range(1, 6):
        g = rng.normal(size=5)
        opt.step({"p": g})
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g * g
        p = p - 0.01 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-6)
        np.testing.assert_allclose(params["p"], p, rtol=1e-13)
    assert opt.t == 5


def test_adam_minimises_a_quadratic():
    params = {"x": np.array([3.0, -4.0])}
    opt = Adam(params, learning_rate=0.1)
    for _ in range(500):
        opt.step({"x": 2 * params["x"]})
    assert np.abs(params["x"]).max() < 1e-2


def test_adam_rejects_bad_settings_and_mismatched_gradients():
    with pytest.raises(TrainingConfigError, match="learning_rate must be positive, got 0"):
        Adam({"x": np.zeros(1)}, learning_rate=0)
    with pytest.raises(ShapeError, match=r"gradients for \['y'\]; the optimizer holds \['x'\]"):
        Adam({"x": np.zeros(1)}).step({"y": np.zeros(1)})


@settings(max_examples=50, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    scale=st.floats(1e-3, 1e3),
    max_norm=st.floats(1e-2, 10),
    seed=st.integers(0, 2**16),
)
def test_clipping_bounds_the_norm_and_keeps_the_direction(sizes, scale, max_norm, seed):
    rng = np.random.default_rng(seed)
    grads = {f"g{i}": scale * rng.normal(size=n) for i, n in enumerate(sizes)}
    before = {k: g.copy() for k, g in grads.items()}
    clipped, norm = clip_by_global_norm(grads, max_norm)
    flat = np.concatenate(list(before.values()))
    assert norm == pytest.approx(np.linalg.norm(flat), rel=1e-12)
    out = np.concatenate([clipped[k] for k in before])
    assert np.linalg.norm(out) <= max_norm * (1 + 1e-12)
    if norm <= max_norm:
        np.testing.assert_array_equal(out, flat)
    else:
        assert np.linalg.norm(out) == pytest.approx(max_norm, rel=1e-12)
        ratio = out / flat
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)  # one positive factor: same direction
        assert ratio[0] > 0
    for k in before:  # the input is not modified
        np.testing.assert_array_equal(grads[k], before[k])


def test_clipping_needs_a_positive_bound():
    with pytest.raises(TrainingConfigError, match="max_norm must be positive, got 0.0"):
        clip_by_global_norm({"x": np.ones(2)}, 0.0)


# --- the training loop ------------------------------------------------------------------


def test_training_stops_with_an_error_when_the_loss_is_not_finite_and_keeps_the_last_parameters():
    model = make_model("lstm", 2, 4, 2, seed=0)
    rng = np.random.default_rng(0)
    snapshots = []

    def batches():
        for i in range(10):
            x, y, mask = recall_batch(rng, 4, 5)
            if i == 3:
                x = x.copy()
                x[1, 2, 0] = np.nan
            yield x, y, mask

    def remember(step):
        snapshots.append({k: p.copy() for k, p in model.params.items()})

    with pytest.raises(
        TrainingDivergedError, match=r"training diverged at batch 3, update 4 \(steps 0..5\): loss nan"
    ) as info:
        train(model, batches(), learning_rate=0.01, callback=remember)
    assert (info.value.step, info.value.update) == (3, 4)
    assert np.isnan(info.value.loss)
    assert isinstance(info.value, ArithmeticError)
    assert len(snapshots) == 3
    for name, p in model.params.items():
        assert np.isfinite(p).all()
        np.testing.assert_array_equal(p, snapshots[-1][name])


def test_training_stops_when_a_weight_overflows_to_infinity():
    model = make_model("elman_relu", 2, 4, 2, seed=0)
    model.params["weight_out"][0, 0] = np.inf
    with pytest.raises(TrainingDivergedError, match="training diverged at batch 0, update 1"):
        train(model, [recall_batch(np.random.default_rng(0), 4, 5)])


def test_train_takes_steps_batches_from_an_endless_generator_and_can_be_stopped_by_the_callback():
    rng = np.random.default_rng(0)

    def endless():
        while True:
            yield recall_batch(rng, 4, 5)

    model = make_model("gru", 2, 4, 2)
    result = train(model, endless(), steps=7)
    assert (result.steps, result.updates, len(result.losses), result.stopped_early) == (7, 7, 7, False)
    seen = []
    result = train(model, endless(), steps=50, callback=lambda s: seen.append(s.step) or s.step == 4)
    assert (result.steps, result.stopped_early, seen) == (5, True, [0, 1, 2, 3, 4])


def test_train_continues_with_a_given_optimizer_and_rejects_a_foreign_one():
    model = make_model("gru", 2, 4, 2)
    opt = Adam(model.params, learning_rate=0.01)
    batch = recall_batch(np.random.default_rng(0), 4, 5)
    train(model, [batch] * 3, optimizer=opt)
    train(model, [batch] * 2, optimizer=opt)
    assert opt.t == 5
    with pytest.raises(TrainingConfigError, match="the optimizer was made for other parameters"):
        train(make_model("gru", 2, 4, 2), [batch], optimizer=opt)


def test_progress_bar_shows_batches_loss_and_accuracy():
    out = io.StringIO()
    model = make_model("elman_tanh", 2, 4, 2)
    train(model, [recall_batch(np.random.default_rng(0), 4, 5)] * 3, progress=out)
    last = out.getvalue().split("\r")[-1]
    assert last.startswith("[####################] 100.0%  3/3 batches  loss ")
    assert "acc " in last and "batches/s" in last and last.endswith("  done\n")


def test_evaluate_scores_positions_and_whole_sequences():
    model = make_model("lstm", 2, 3, 2, seed=0)
    x, y, mask = recall_batch(np.random.default_rng(1), 6, 4)
    mask[:, 1] = True
    pred = model.predict(x)
    y = np.where(mask, pred, 0)
    y[0, -1] = 1 - pred[0, -1]  # one wrong position in sequence 0
    ev = evaluate(model, x, y, mask)
    assert (ev.count, ev.accuracy, ev.sequence_accuracy) == (12, 11 / 12, 5 / 6)


@pytest.mark.parametrize("cell", ["lstm", "gru", "elman_tanh"])
def test_cells_learn_to_recall_the_first_bit_after_eight_steps(cell):
    rng = np.random.default_rng(0)
    model = make_model(cell, 2, 8, 2, seed=0)
    result = train(model, (recall_batch(rng, 32, 8) for _ in range(150)), learning_rate=0.02)
    assert result.losses[0] > 0.6
    assert evaluate(model, *recall_batch(np.random.default_rng(100), 1000, 8)).accuracy > 0.95


def test_elman_relu_learns_to_recall_the_first_bit_after_four_steps():
    rng = np.random.default_rng(0)
    model = make_model("elman_relu", 2, 8, 2, seed=0)
    train(model, (recall_batch(rng, 32, 4) for _ in range(300)), learning_rate=0.005)
    assert evaluate(model, *recall_batch(np.random.default_rng(100), 1000, 4)).accuracy > 0.95


@pytest.mark.parametrize("k1, k2, learns", [(4, 4, False), (4, 8, True), (2, 7, False), (2, 8, True)])
def test_truncation_decides_whether_the_first_bit_can_be_learned(k1, k2, learns):
    """The only scored step is 7; its update backpropagates to step 8 - k2, which must reach step 0."""
    rng = np.random.default_rng(0)
    model = make_model("lstm", 2, 8, 2, seed=0)
    train(model, (recall_batch(rng, 32, 8) for _ in range(150)), learning_rate=0.02, k1=k1, k2=k2)
    accuracy = evaluate(model, *recall_batch(np.random.default_rng(100), 1000, 8)).accuracy
    assert accuracy > 0.95 if learns else accuracy < 0.7
