"""The encoder-decoder (learning.seq2seq): gradients, teacher forcing against free running, boundaries, learning.

Gradients are checked against central finite differences and against torch
autograd; the two decoding modes against the law that they agree until the
model's first wrong prediction; the per-example boundary against running each
example alone; and the whole against a small transduction task it must learn.
"""

import itertools

import numpy as np
import pytest
from gradcheck import assert_gradients_match

from turingrnn.errors import ShapeError, TrainingConfigError
from turingrnn.learning.models import CELLS, MODELS, make_model
from turingrnn.learning.protocol import encode
from turingrnn.learning.seq2seq import CELLS as SEQ2SEQ_CELLS
from turingrnn.learning.seq2seq import EncoderDecoder, first_blanks
from turingrnn.learning.tasks import TaskExample, get_task
from turingrnn.learning.training import train

REVERSE = get_task("reverse_string")
BLANK = 2


def reverse_batch(words, extra="0"):
    return encode(REVERSE, [TaskExample(w, REVERSE.solve(w)) for w in words], extra)


def ragged_batch(rng):
    """Three examples: one with an extra blank before its outputs, one short (padded), one with an empty input."""
    rows = [([0, 1], 1, 2), ([1], 0, 1), ([], 0, 3)]  # (input symbols, extra blanks, outputs)
    steps = max(len(s) + e + o for s, e, o in rows) + 1
    x = np.zeros((len(rows), steps, 3))
    x[:, :, BLANK] = 1.0
    mask = np.zeros((len(rows), steps), dtype=bool)
    for b, (symbols, extra, outputs) in enumerate(rows):
        x[b, : len(symbols)] = np.eye(3)[symbols]
        mask[b, len(symbols) + extra : len(symbols) + extra + outputs] = True
    return x, rng.integers(0, 2, mask.shape), mask


def bent_model(cell, seed=1, hidden=3):
    model = make_model("encoder_decoder", 3, hidden, 2, cell_type=cell, seed=seed)
    for p in model.params.values():
        p *= 1.5  # away from the small-weight regime, so that every nonlinearity bends
    return model


# --- construction and the registry ------------------------------------------------


def test_encoder_decoder_is_registered_as_a_model_but_not_as_a_cell():
    model = make_model("encoder_decoder", 3, 4, 2, cell_type="gru", seed=0)
    assert isinstance(model, EncoderDecoder)
    assert "encoder_decoder" in MODELS and "encoder_decoder" not in CELLS
    assert model.config["options"] == {"cell_type": "gru"} and model.name == "encoder_decoder"
    assert list(model.params) == [
        *(f"enc_{k}" for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")),
        *(f"dec_{k}" for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")),
        "weight_out",
        "bias_out",
    ]
    assert model.params["enc_weight_ih"].shape == (12, 3) and model.params["dec_weight_ih"].shape == (12, 3)
    assert repr(model) == "EncoderDecoder(cell_type='gru', input_size=3, hidden_size=4, output_size=2, dtype=float64)"


def test_config_rebuilds_the_same_model():
    model = make_model("encoder_decoder", 3, 4, 2, cell_type="elman_relu", seed=5, readout="relu")
    config = model.config
    again = make_model(**{k: v for k, v in config.items() if k != "options"}, **config["options"], seed=5)
    assert again.readout == "relu" and again.cell_type == "elman_relu"
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, again.params[name], err_msg=name)


def test_unknown_cell_type_lists_the_valid_ones():
    with pytest.raises(
        TrainingConfigError, match=r"cell_type must be one of elman_tanh, elman_relu, lstm, gru, got 'transformer'"
    ):
        make_model("encoder_decoder", 3, 4, 2, cell_type="transformer")
    assert SEQ2SEQ_CELLS == ("elman_tanh", "elman_relu", "lstm", "gru")


def test_encoder_decoder_cannot_be_stacked():
    with pytest.raises(TrainingConfigError, match=r"cannot be stacked or made bidirectional"):
        make_model("encoder_decoder", 3, 4, 2, layers=2)


# --- gradients ----------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradient_matches_central_finite_differences_for_every_parameter(cell):
    x, y, mask = ragged_batch(np.random.default_rng(0))
    assert first_blanks(x).tolist() == [2, 1, 0]
    assert_gradients_match(bent_model(cell), x, y, mask)


@pytest.mark.parametrize("cell", ["elman_tanh", "elman_relu"])
def test_elman_encoder_decoders_gradients_match_finite_differences_too(cell):
    x, y, mask = ragged_batch(np.random.default_rng(1))
    assert_gradients_match(bent_model(cell, hidden=4), x, y, mask)


# --- teacher forcing and free running ------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_teacher_forced_logits_equal_free_running_ones_until_the_first_wrong_prediction(cell):
    model = bent_model(cell, seed=3, hidden=5)
    x, _, mask = reverse_batch(["0110", "1011", "0010"], extra="1")
    free = model.forward(x)
    guess = free.argmax(axis=-1)
    np.testing.assert_allclose(model.loss_and_grad(x, guess, mask).logits, free, rtol=0, atol=1e-12)
    wrong = [(b, np.flatnonzero(mask[b])[k]) for b, k in enumerate((0, 1, 2))]  # one wrong label per example
    targets = guess.copy()
    for b, t in wrong:
        targets[b, t] = 1 - guess[b, t]
    forced = model.loss_and_grad(x, targets, mask).logits
    np.testing.assert_allclose(model.forward(x, teacher=targets, mask=mask), forced, rtol=0, atol=1e-12)
    for b, t in wrong:
        np.testing.assert_allclose(forced[b, : t + 1], free[b, : t + 1], rtol=0, atol=1e-12)
        if t + 1 < x.shape[1]:
            assert np.abs(forced[b, t + 1] - free[b, t + 1]).max() > 1e-6, (b, t)


def test_predict_runs_free_by_default_and_feeds_the_teacher_when_given():
    model = bent_model("lstm", seed=4)
    x, y, mask = reverse_batch(["01101", "11100"])
    free = model.predict(x)
    taught = model.predict(x, teacher=y)
    np.testing.assert_array_equal(taught, model.loss_and_grad(x, y, mask).logits.argmax(axis=-1))
    np.testing.assert_array_equal(free, model.predict(x, teacher=free))
    assert (free != y)[mask].any()  # an untrained model: so the two modes see other labels, and part
    assert np.abs(model.forward(x) - model.forward(x, teacher=y)).max() > 1e-6


# --- boundaries ------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "elman_tanh"])
def test_each_example_of_a_mixed_length_batch_gets_the_answer_it_gets_alone(cell):
    model = bent_model(cell, seed=2, hidden=4)
    words = ["0110", "10", "1", "001"]
    x, y, mask = reverse_batch(words)
    assert first_blanks(x).tolist() == [4, 2, 1, 3]
    together = model.forward(x)
    forced = model.loss_and_grad(x, y, mask).logits
    for b, w in enumerate(words):
        xa, ya, ma = reverse_batch([w])
        steps = xa.shape[1]
        np.testing.assert_allclose(together[b, :steps], model.forward(xa)[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(forced[b, :steps], model.loss_and_grad(xa, ya, ma).logits[0], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(together[b, : len(w)], 0.0)  # no logits before the boundary


def test_a_batch_without_a_blank_step_raises():
    model = make_model("encoder_decoder", 3, 4, 2)
    x = np.eye(3)[[[0, 1, 2], [0, 1, 1]]]
    with pytest.raises(ShapeError, match=r"example 1 of the batch has no blank step \(the one-hot of the last input"):
        model.predict(x)
    with pytest.raises(ShapeError, match=r"example 1 of the batch has no blank step"):
        model.loss_and_grad(x, np.zeros((2, 3), dtype=int), np.ones((2, 3), dtype=bool))


def test_a_masked_step_before_the_first_blank_raises():
    model = make_model("encoder_decoder", 3, 4, 2)
    x, y, mask = reverse_batch(["011"])
    mask[0, 1] = True
    with pytest.raises(ShapeError, match=r"the mask selects step 1 of example 0, before its first blank step 3"):
        model.check_batch(x, y, mask)


def test_truncated_bptt_and_a_given_state_are_refused():
    model = make_model("encoder_decoder", 3, 4, 2)
    x, y, mask = reverse_batch(["011", "110"])
    with pytest.raises(TrainingConfigError, match=r"full BPTT"):
        train(model, [(x, y, mask)], k1=2)
    with pytest.raises(TrainingConfigError, match=r"takes no state .* full BPTT \(k1=None\)"):
        model.loss_and_grad(x, y, mask, model.initial_state(2))
    assert model.loss_and_grad(x, y, mask, keep_states=True).states is None


# --- learning ------------------------------------------------------------------------


def test_it_learns_to_reverse_short_strings_and_then_decodes_them_free_running():
    rng = np.random.default_rng(0)

    def batches():
        while True:
            n = int(rng.integers(1, 6))
            yield reverse_batch(["".join(rng.choice(["0", "1"], n)) for _ in range(32)])

    model = make_model("encoder_decoder", 3, 16, 2, cell_type="lstm", seed=0)
    result = train(model, batches(), steps=400, learning_rate=0.02)
    assert result.losses[0] > 0.5
    words = ["".join(p) for n in range(1, 6) for p in itertools.product("01", repeat=n)]
    x, y, mask = reverse_batch(words)
    right = (model.predict(x) == y) | ~mask
    assert right[mask].mean() >= 0.98
    assert right.all(axis=1).mean() >= 0.95


# --- torch ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", list(SEQ2SEQ_CELLS))
def test_torch_loss_and_every_gradient_equal_numpy(cell):
    torch = pytest.importorskip("torch")
    model = bent_model(cell, seed=6, hidden=4)
    x, y, mask = ragged_batch(np.random.default_rng(2))
    ours = model.loss_and_grad(x, y, mask)
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    loss, count, correct = model.torch_loss(tensors, torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(mask))
    loss.backward()
    assert loss.item() == pytest.approx(ours.loss, abs=1e-10)
    assert (count, correct) == (ours.count, ours.correct)
    for name, t in tensors.items():
        assert np.abs(ours.grads[name]).max() > 1e-4, name
        np.testing.assert_allclose(t.grad.numpy(), ours.grads[name], rtol=0, atol=1e-10, err_msg=name)


def test_one_torch_backend_step_equals_one_numpy_step():
    pytest.importorskip("torch")
    x, y, mask = reverse_batch(["0110", "10", "111"])
    ours, theirs = (make_model("encoder_decoder", 3, 4, 2, cell_type="gru", seed=7) for _ in range(2))
    train(ours, [(x, y, mask)], learning_rate=0.1)
    train(theirs, [(x, y, mask)], learning_rate=0.1, backend="torch")
    for name, p in ours.params.items():
        np.testing.assert_allclose(theirs.params[name], p, rtol=0, atol=1e-10, err_msg=name)
