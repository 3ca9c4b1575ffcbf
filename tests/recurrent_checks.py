"""Shared checks for the trained cores beyond the classic cells: random batches and states, pieces, torch twins."""

import numpy as np
import pytest

from turingrnn.learning.models import make_model


def random_batch(rng, batch, steps, inputs, outputs, *, p_mask=0.7):
    """Normal inputs, random targets, a random mask with at least one scored position."""
    mask = rng.random((batch, steps)) < p_mask
    mask[0, -1] = True
    return rng.normal(size=(batch, steps, inputs)), rng.integers(0, outputs, (batch, steps)), mask


def scaled_model(name, inputs, hidden, outputs, *, scale=2.0, seed=0, **kwargs):
    """``make_model`` with every parameter multiplied by ``scale``, so that every nonlinearity bends."""
    model = make_model(name, inputs, hidden, outputs, seed=seed, **kwargs)
    for p in model.params.values():
        p *= scale
    return model


def random_state(model, batch, rng):
    """A random state: normal arrays, and whole numbers for a clockwork step counter (state ``t``)."""
    core = model.core
    return tuple(
        rng.integers(0, 20, (batch,) + shape).astype(float)
        if name.split("_")[0] == "t"
        else rng.normal(size=(batch,) + shape)
        for name, shape in zip(core.state_names, core.state_shapes(), strict=True)
    )


def assert_two_pieces_equal_one_run(model, x, split, state=None):
    """Running ``x[:, :split]`` then ``x[:, split:]`` from the carried state equals one run, state included."""
    whole, final = model.run(x, state)
    first, middle = model.run(x[:, :split], state)
    second, end = model.run(x[:, split:], middle)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=0, atol=1e-13)
    for a, b in zip(end, final, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    steps = x.shape[1]
    kept = model.loss_and_grad(x, np.zeros(x.shape[:2], dtype=int), np.ones(x.shape[:2], bool), state, keep_states=True)
    for part, mid in zip(kept.states, middle, strict=True):
        assert part.shape[:2] == (x.shape[0], steps + 1)
        np.testing.assert_allclose(part[:, split], mid, rtol=0, atol=1e-13)


def assert_torch_twin_matches(model, x, y, mask, state=None, *, atol=1e-10):
    """The core's ``torch_forward`` with autograd gives the numpy logits, loss, final state and every gradient.

    Stacked and bidirectional cores go through :func:`turingrnn.learning.torch_backend.core_forward`, which composes the
    layers' ``torch_forward``.
    """
    torch = pytest.importorskip("torch")
    from turingrnn.learning.torch_backend import core_forward

    state = model.initial_state(x.shape[0]) if state is None else state
    ours = model.loss_and_grad(x, y, mask, state)
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    core = model.core
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(1, 0, 2)))
    start = tuple(torch.from_numpy(np.asarray(s, dtype=float)) for s in state)
    features, final = core_forward(core, {k: tensors[k] for k in core.param_names}, xt, start)
    logits = features @ tensors["weight_out"].T + tensors["bias_out"]  # (T, B, O)
    keep = torch.from_numpy(np.ascontiguousarray(mask.T))
    loss = torch.nn.functional.cross_entropy(logits[keep], torch.from_numpy(np.ascontiguousarray(y.T))[keep])
    loss.backward()
    np.testing.assert_allclose(ours.logits, logits.detach().numpy().transpose(1, 0, 2), rtol=0, atol=atol)
    assert ours.loss == pytest.approx(loss.item(), abs=atol)
    for a, b in zip(ours.final_state, final, strict=True):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=0, atol=atol)
    for name, tensor in tensors.items():
        assert np.abs(ours.grads[name]).max() > 1e-3, name
        np.testing.assert_allclose(ours.grads[name], tensor.grad.numpy(), rtol=0, atol=atol, err_msg=name)


def assert_start_gradient_matches(model, x, state, *, eps=1e-6, rtol=1e-6):
    """``backward_with_start`` with a gradient on the final state: ``dL/dstart`` equals central differences.

    ``L = sum(features * r) + sum_k sum(final_k * s_k)`` for random ``r``, ``s``; a step counter gets gradient 0.
    With no final gradient, the parameter gradients are :meth:`backward`'s.
    """
    core, params = model.core, model.params
    rng = np.random.default_rng(0)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2))
    fs, cache = core.forward(params, xt, state)
    r = rng.normal(size=fs.shape)
    s = tuple(rng.normal(size=np.shape(p)) for p in state)

    def loss(start):
        f, c = core.forward(params, xt, start)
        return float((f * r).sum() + sum((a * b).sum() for a, b in zip(core.final_state(c, start), s, strict=True)))

    plain, _ = core.backward(params, cache, r)
    for k, g in core.backward_with_start(params, cache, r)[0].items():
        np.testing.assert_array_equal(g, plain[k])
    _, _, dstart = core.backward_with_start(params, cache, r, s)
    for k, name in enumerate(core.state_names):
        if name.split("_")[0] == "t":
            assert (dstart[k] == 0).all()
            continue
        numeric = np.zeros_like(state[k])
        for idx in np.ndindex(state[k].shape):
            moved = [[p.copy() for p in state] for _ in range(2)]
            moved[0][k][idx] += eps
            moved[1][k][idx] -= eps
            numeric[idx] = (loss(tuple(moved[0])) - loss(tuple(moved[1]))) / (2 * eps)
        assert np.linalg.norm(dstart[k]) > 1e-4, name
        rel = np.linalg.norm(dstart[k] - numeric) / (np.linalg.norm(dstart[k]) + np.linalg.norm(numeric))
        assert rel < rtol, (name, rel)


def assert_float32_close_to_float64(name, *, steps, hidden, **options):
    """A float32 model computes in float32 (logits, gradients, state) within ``1e-5`` of the float64 one."""
    x, y, mask = random_batch(np.random.default_rng(4), 2, steps, 3, 2)
    wide = make_model(name, 3, hidden, 2, seed=3, **options).loss_and_grad(x, y, mask)
    narrow = make_model(name, 3, hidden, 2, seed=3, dtype="float32", **options).loss_and_grad(x, y, mask)
    assert narrow.logits.dtype == np.float32 and all(g.dtype == np.float32 for g in narrow.grads.values())
    assert all(s.dtype == np.float32 for s in narrow.final_state)
    np.testing.assert_allclose(narrow.logits, wide.logits, atol=1e-5)
    for k, g in wide.grads.items():
        np.testing.assert_allclose(narrow.grads[k], g, atol=1e-5, err_msg=k)


def assert_stacked_torch_twin_matches(name, stack, **options):
    """:func:`assert_torch_twin_matches` for ``make_model(name, ..., **stack)`` (``layers=2`` or bidirectional)."""
    rng = np.random.default_rng(13)
    model = scaled_model(name, 3, 4, 2, scale=1.5, seed=5, **stack, **options)
    x, y, mask = random_batch(rng, 2, 6, 3, 2, p_mask=0.5)
    assert_torch_twin_matches(model, x, y, mask, random_state(model, 2, rng) if model.core.carries_state else None)
