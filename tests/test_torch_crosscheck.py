"""The numpy cells equal PyTorch's nn.RNN/LSTM/GRU: forward, loss and every gradient, to ~1e-10 in float64.

Skipped when torch is not installed (``pip install ".[torch]"``).
"""

import numpy as np
import pytest

from turingrnn.learning.cells import PARAMETER_NAMES
from turingrnn.learning.models import make_model
from turingrnn.learning.training import Adam, clip_by_global_norm

CELLS = ("elman_tanh", "elman_relu", "lstm", "gru")  # the classic one-layer cells; other models have their own tests

torch = pytest.importorskip("torch")
F = torch.nn.functional

SIZES = {"batch": 3, "steps": 7, "inputs": 4, "hidden": 5, "outputs": 3}


def torch_layer(cell, model):
    i, h = model.input_size, model.hidden_size
    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    if cell == "lstm":
        layer = torch.nn.LSTM(i, h, batch_first=True, dtype=dtype)
    elif cell == "gru":
        layer = torch.nn.GRU(i, h, batch_first=True, dtype=dtype)
    else:
        layer = torch.nn.RNN(i, h, batch_first=True, nonlinearity=cell.removeprefix("elman_"), dtype=dtype)
    readout = torch.nn.Linear(h, model.output_size, dtype=dtype)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(layer, f"{name}_l0").copy_(torch.from_numpy(model.params[name]))
        readout.weight.copy_(torch.from_numpy(model.params["weight_out"]))
        readout.bias.copy_(torch.from_numpy(model.params["bias_out"]))
    return layer, readout


def torch_grads(layer, readout):
    grads = {
        name: getattr(layer, f"{name}_l0").grad.numpy() for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    }
    grads["weight_out"] = readout.weight.grad.numpy()
    grads["bias_out"] = readout.bias.grad.numpy()
    return grads


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("one_hot", [True, False])
def test_forward_loss_and_every_gradient_equal_torch(cell, one_hot):
    rng = np.random.default_rng(7)
    b, t, i, o = SIZES["batch"], SIZES["steps"], SIZES["inputs"], SIZES["outputs"]
    model = make_model(cell, i, SIZES["hidden"], o, seed=3)
    for p in model.params.values():
        p *= 1.5  # away from the small-weight regime, so that every nonlinearity bends
    x = np.eye(i)[rng.integers(0, i, (b, t))] if one_hot else rng.normal(size=(b, t, i))
    y = rng.integers(0, o, (b, t))
    mask = rng.random((b, t)) < 0.5
    mask[0, -1] = True
    state = tuple(0.5 * rng.normal(size=(b, model.hidden_size)) for _ in range(model.state_size))

    ours = model.loss_and_grad(x, y, mask, state)

    layer, readout = torch_layer(cell, model)
    h0 = tuple(torch.from_numpy(s)[None] for s in state)
    out, final = layer(torch.from_numpy(x), h0 if cell == "lstm" else h0[0])
    logits = readout(out)
    keep = torch.from_numpy(mask)
    loss = F.cross_entropy(logits[keep], torch.from_numpy(y)[keep])
    loss.backward()

    np.testing.assert_allclose(ours.logits, logits.detach().numpy(), rtol=0, atol=1e-10)
    assert ours.loss == pytest.approx(loss.item(), abs=1e-10)
    finals = final if cell == "lstm" else (final,)
    for a, expected in zip(ours.final_state, finals, strict=True):
        np.testing.assert_allclose(a, expected.detach().numpy()[0], rtol=0, atol=1e-10)
    theirs = torch_grads(layer, readout)
    for name in PARAMETER_NAMES:
        assert np.abs(theirs[name]).max() > 1e-3, name
        np.testing.assert_allclose(ours.grads[name], theirs[name], rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("cell", list(CELLS))
def test_float32_models_agree_with_torch_float32(cell):
    rng = np.random.default_rng(2)
    model = make_model(cell, 3, 6, 2, seed=1, dtype=np.float32)
    x = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (2, 6))]
    y = rng.integers(0, 2, (2, 6))
    mask = np.ones((2, 6), dtype=bool)
    ours = model.loss_and_grad(x, y, mask)
    layer, readout = torch_layer(cell, model)
    out, _ = layer(torch.from_numpy(x))
    logits = readout(out)
    F.cross_entropy(logits.reshape(-1, 2), torch.from_numpy(y).reshape(-1)).backward()
    np.testing.assert_allclose(ours.logits, logits.detach().numpy(), atol=1e-5)
    theirs = torch_grads(layer, readout)
    for name in PARAMETER_NAMES:
        np.testing.assert_allclose(ours.grads[name], theirs[name], atol=1e-5, err_msg=name)


def test_adam_equals_torch_adam():
    rng = np.random.default_rng(0)
    start = {"a": rng.normal(size=(3, 2)), "b": rng.normal(size=4)}
    params = {k: v.copy() for k, v in start.items()}
    ours = Adam(params, learning_rate=0.03, betas=(0.85, 0.995), eps=1e-7)
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    theirs = torch.optim.Adam(list(tensors.values()), lr=0.03, betas=(0.85, 0.995), eps=1e-7)
    for _ in range(6):
        grads = {k: rng.normal(size=v.shape) for k, v in start.items()}
        ours.step(grads)
        for k, tensor in tensors.items():
            tensor.grad = torch.from_numpy(grads[k])
        theirs.step()
        for k, tensor in tensors.items():
            np.testing.assert_allclose(params[k], tensor.detach().numpy(), rtol=0, atol=1e-12)


def test_clipping_equals_torch_clip_grad_norm():
    rng = np.random.default_rng(1)
    grads = {"a": 10 * rng.normal(size=(4, 3)), "b": 10 * rng.normal(size=5)}
    clipped, norm = clip_by_global_norm(grads, 2.0)
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for tensor, g in zip(tensors, grads.values(), strict=True):
        tensor.grad = torch.from_numpy(g.copy())
    total = torch.nn.utils.clip_grad_norm_(tensors, 2.0)
    assert norm == pytest.approx(total.item(), rel=1e-12)
    for tensor, g in zip(tensors, clipped.values(), strict=True):
        # torch divides by norm + 1e-6, hence the tolerance
        np.testing.assert_allclose(g, tensor.grad.numpy(), rtol=1e-6)
