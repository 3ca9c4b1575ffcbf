"""The torch backend (turingrnn.learning.torch_backend): the numpy models are its oracle.

Skipped when torch is not installed; the CUDA cases skip where there is no CUDA device.
"""

import numpy as np
import pytest

from turingrnn.errors import BackendError, TrainingConfigError
from turingrnn.learning.models import MODELS, make_model
from turingrnn.learning.training import train

torch = pytest.importorskip("torch")
from turingrnn.learning.torch_backend import resolve_device, to_torch_module  # noqa: E402

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


def batch(rng, b=3, t=7, i=3, o=2):
    x = np.eye(i)[rng.integers(0, i, (b, t))]
    x[:, -2:] = np.eye(i)[-1]  # blank steps at the end (read by the encoder-decoder and the tape)
    y = rng.integers(0, o, (b, t))
    mask = np.zeros((b, t), bool)
    mask[:, -2:] = True
    return x, y, mask


def trained_pair(cell, steps=2, **kwargs):
    rng = np.random.default_rng(5)
    data = [batch(rng) for _ in range(steps)]
    a = make_model(cell, 3, 8, 2, seed=1, **kwargs)
    b = make_model(cell, 3, 8, 2, seed=1, **kwargs)
    ra = train(a, data, learning_rate=0.01)
    rb = train(b, data, learning_rate=0.01, backend="torch")
    return a, b, ra, rb


@pytest.mark.parametrize("cell", [c for c in MODELS if c != "esn"])
def test_one_training_step_gives_the_same_parameters_as_numpy_in_float64(cell):
    a, b, ra, rb = trained_pair(cell, steps=1)
    assert ra.updates == rb.updates == 1
    for k in a.params:
        np.testing.assert_allclose(b.params[k], a.params[k], rtol=0, atol=1e-10, err_msg=k)
    assert rb.losses[0] == pytest.approx(ra.losses[0], abs=1e-12)


@pytest.mark.parametrize(
    "cell, kwargs",
    [
        ("lstm", {"layers": 2, "forget_bias": 1.0}),
        ("gru", {"bidirectional": True}),
        ("elman_relu", {"readout": "relu"}),
    ],
)
def test_stacked_bidirectional_and_relu_readout_train_the_same_in_torch(cell, kwargs):
    a, b, _, _ = trained_pair(cell, steps=3, **kwargs)
    for k in a.params:
        np.testing.assert_allclose(b.params[k], a.params[k], rtol=0, atol=1e-10, err_msg=k)


def test_truncated_bptt_in_torch_equals_numpy_with_k2_beyond_k1():
    rng = np.random.default_rng(2)
    data = [batch(rng, t=9) for _ in range(2)]
    for _, _, mask in data:
        mask[:, ::2] = True  # a scored step in every window
    a, b = make_model("lstm", 3, 5, 2, seed=3), make_model("lstm", 3, 5, 2, seed=3)
    ra = train(a, data, learning_rate=0.01, k1=3, k2=5)
    rb = train(b, data, learning_rate=0.01, k1=3, k2=5, backend="torch")
    assert ra.updates == rb.updates == 6
    for k in a.params:
        np.testing.assert_allclose(b.params[k], a.params[k], rtol=0, atol=1e-10, err_msg=k)


@pytest.mark.parametrize("kwargs", [{}, {"layers": 2}, {"bidirectional": True}, {"layers": 2, "bidirectional": True}])
@pytest.mark.parametrize("cell", ["elman_tanh", "lstm", "gru"])
def test_a_trained_classic_model_moves_into_the_matching_torch_module(cell, kwargs):
    model = make_model(cell, 3, 5, 2, seed=2, readout="relu", **kwargs)
    module = to_torch_module(model)
    assert isinstance(module.rnn, {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(cell, torch.nn.RNN))
    assert module.rnn.num_layers == kwargs.get("layers", 1)
    x = np.eye(3)[np.random.default_rng(0).integers(0, 3, (2, 6))]
    np.testing.assert_allclose(module(torch.tensor(x)).detach().numpy(), model.forward(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell", [c for c in MODELS if c not in ("elman_tanh", "elman_relu", "lstm", "gru")])
def test_other_models_move_into_a_generic_module_with_the_same_logits(cell):
    model = make_model(cell, 3, 8, 2, seed=2)
    if hasattr(model, "torch_loss"):
        with pytest.raises(BackendError, match="has no torch module"):
            to_torch_module(model)
        return
    x, _, _ = batch(np.random.default_rng(0))
    module = to_torch_module(model)
    np.testing.assert_allclose(module(torch.tensor(x)).detach().numpy(), model.forward(x), rtol=0, atol=1e-10)


def test_a_bidirectional_model_refuses_truncated_bptt_in_both_backends():
    model = make_model("gru", 3, 4, 2, bidirectional=True)
    data = [batch(np.random.default_rng(0), t=9)]
    for backend in ("numpy", "torch"):
        with pytest.raises(TrainingConfigError, match="full BPTT only: k1 = 3 is shorter than the sequence"):
            train(model, data, k1=3, backend=backend)


def test_bad_backends_and_devices_get_clear_errors():
    model = make_model("gru", 3, 4, 2)
    with pytest.raises(TrainingConfigError, match="unknown backend 'jax'; backends are: numpy, torch"):
        train(model, [], backend="jax")
    with pytest.raises(BackendError, match="unknown torch device 'gpu7'"):
        resolve_device("gpu7")
    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="no CUDA device"):
            train(model, [batch(np.random.default_rng(0))], backend="torch", device="cuda")


@cuda
def test_training_on_cuda_gives_the_numpy_parameters():
    rng = np.random.default_rng(5)
    data = [batch(rng) for _ in range(2)]
    a, b = make_model("lstm", 3, 8, 2, seed=1), make_model("lstm", 3, 8, 2, seed=1)
    train(a, data, learning_rate=0.01)
    train(b, data, learning_rate=0.01, backend="torch", device="cuda")
    for k in a.params:
        np.testing.assert_allclose(b.params[k], a.params[k], rtol=0, atol=1e-8, err_msg=k)
