"""Controller cells one step at a time, for the memory-augmented cores of :mod:`turingrnn.learning.memory_rnn`.

The cores of :mod:`turingrnn.learning.cells` run a whole sequence at once, but a
memory core's controller reads the memory, which the previous step wrote, so
it must be run step by step. :func:`controller_step` is one step of an Elman,
LSTM or GRU cell (the same equations and parameters as
:class:`~turingrnn.learning.cells.ElmanCore`, :class:`~turingrnn.learning.cells.LSTMCore` and
:class:`~turingrnn.learning.cells.GRUCore`), written on an operations namespace
(:data:`NUMPY` or :func:`torch_ops`) so that the same code runs in numpy and
in torch; :func:`controller_step_backward` is its numpy backward step, which
takes the gradients carried from the step after.

>>> from turingrnn.learning.cells import ElmanCore
>>> core = build_controller("elman_relu", 3, 2, np.float64)
>>> isinstance(core, ElmanCore), core.nonlinearity
(True, 'relu')
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import TrainingConfigError
from .cells import Core, ElmanCore, GRUCore, LSTMCore, sigmoid

CONTROLLERS = ("elman_relu", "elman_tanh", "lstm", "gru")
"""The controller cells a memory core can use (registry names of :mod:`turingrnn.learning.models`)."""


def numpy_ops() -> SimpleNamespace:
    """The array operations the step code uses, on numpy arrays."""

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    return SimpleNamespace(
        cat=lambda xs, axis: np.concatenate(xs, axis=axis),
        stack=lambda xs, axis: np.stack(xs, axis=axis),
        tanh=np.tanh,
        relu=lambda z: np.maximum(z, 0),
        sigmoid=sigmoid,
        softmax=softmax,
        einsum=np.einsum,
        zeros_like=np.zeros_like,
        index=np.asarray,
    )


def torch_ops(device: Any = None) -> SimpleNamespace:
    """The same operations on torch tensors (differentiable by autograd); index arrays go to ``device``."""
    import torch

    return SimpleNamespace(
        cat=lambda xs, axis: torch.cat(xs, dim=axis),
        stack=lambda xs, axis: torch.stack(xs, dim=axis),
        tanh=torch.tanh,
        relu=torch.relu,
        sigmoid=torch.sigmoid,
        softmax=lambda z: torch.softmax(z, dim=-1),
        einsum=torch.einsum,
        zeros_like=torch.zeros_like,
        index=lambda a: torch.as_tensor(a, dtype=torch.long, device=device),
    )


NUMPY = numpy_ops()
"""The numpy operations (built once)."""


def to_numpy(a: Any) -> np.ndarray:
    """A numpy view of an array or a (detached) torch tensor."""
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def controller_step(ops: Any, kind: str, pre: Any, state: tuple, w_hh_t: Any, b_hh: Any) -> tuple[tuple, dict]:
    """One step of the controller from ``pre = W_ih [x, r] + b_ih``: the new state and what the backward needs."""
    h = state[0]
    n = h.shape[-1]
    if kind in ("elman_relu", "elman_tanh"):
        z = pre + h @ w_hh_t + b_hh
        return ((ops.relu(z) if kind == "elman_relu" else ops.tanh(z)),), {}
    if kind == "lstm":
        z = pre + h @ w_hh_t + b_hh
        i, f, o = ops.sigmoid(z[:, :n]), ops.sigmoid(z[:, n : 2 * n]), ops.sigmoid(z[:, 3 * n :])
        g = ops.tanh(z[:, 2 * n : 3 * n])
        c = f * state[1] + i * g
        tc = ops.tanh(c)
        return (o * tc, c), {"gates": (i, f, g, o), "tc": tc}
    u = h @ w_hh_t + b_hh
    r = ops.sigmoid(pre[:, :n] + u[:, :n])
    z = ops.sigmoid(pre[:, n : 2 * n] + u[:, n : 2 * n])
    cand = ops.tanh(pre[:, 2 * n :] + r * u[:, 2 * n :])
    return ((1 - z) * cand + z * h,), {"gates": (r, z, cand), "un": u[:, 2 * n :]}


def controller_step_backward(
    kind: str, saved: dict, prev: tuple, new: tuple, dh: np.ndarray, dc: np.ndarray | None, w_hh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """``dL/da``, ``dL/du`` (as in :class:`~.cells.GatedCore`), ``dL/dh`` and ``dL/dc`` before the step."""
    if kind in ("elman_relu", "elman_tanh"):
        h = new[0]
        d = dh * ((h > 0) if kind == "elman_relu" else (1 - h * h))
        return d, d, d @ w_hh, None
    if kind == "lstm":
        i, f, g, o = saved["gates"]
        tc = saved["tc"]
        dc = (0 if dc is None else dc) + dh * o * (1 - tc * tc)
        dz = np.concatenate(
            [dc * g * i * (1 - i), dc * prev[1] * f * (1 - f), dc * i * (1 - g * g), dh * tc * o * (1 - o)], axis=1
        )
        return dz, dz, dz @ w_hh, dc * f
    r, z, cand = saved["gates"]
    dn = dh * (1 - z) * (1 - cand * cand)
    da = np.concatenate([dn * saved["un"] * r * (1 - r), dh * (prev[0] - cand) * z * (1 - z), dn], axis=1)
    du = np.concatenate([da[:, : 2 * r.shape[1]], dn * r], axis=1)
    return da, du, dh * z + du @ w_hh, None


def build_controller(kind: str, input_size: int, hidden_size: int, dtype: Any) -> Core:
    """The cell of :mod:`.cells` named ``kind`` (one of :data:`CONTROLLERS`): its parameters and state."""
    if kind not in CONTROLLERS:
        raise TrainingConfigError(f"controller must be one of {', '.join(CONTROLLERS)}, got {kind!r}")
    if kind == "lstm":
        return LSTMCore(input_size, hidden_size, dtype=dtype)
    if kind == "gru":
        return GRUCore(input_size, hidden_size, dtype=dtype)
    return ElmanCore(input_size, hidden_size, nonlinearity=kind.removeprefix("elman_"), dtype=dtype)
