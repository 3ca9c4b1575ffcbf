"""Trained recurrent models in numpy: a recurrent core, a readout and a masked cross-entropy, trained by BPTT.

These are the learned baselines the compiled networks are compared with. A
model (:class:`SequenceModel`) is a **core** (:class:`Core`: one recurrent
layer, a stack of them, or a memory-augmented network) that maps an input
sequence to a feature sequence, then a readout to output logits, then a
softmax cross-entropy taken only where a mask is true. Arrays are
batch-first, ``(batch, time, features)``; parameters are float64 by default
(float32 allowed).

This module holds the base classes and the three classic cells. The weights
follow PyTorch's layouts exactly, so a model's ``params`` can be copied into
``torch.nn.RNN``/``LSTM``/``GRU`` (``weight_ih`` → ``weight_ih_l0`` and so on)
and an ``nn.Linear`` readout (``weight_out`` → ``weight``, ``bias_out`` →
``bias``). With ``G`` gates, ``H`` hidden units, ``I`` inputs and ``O``
outputs:

- ``weight_ih`` ``(G H, I)``, ``weight_hh`` ``(G H, H)``, ``bias_ih`` and
  ``bias_hh`` ``(G H,)``, the gates stacked in PyTorch's order;
- ``weight_out`` ``(O, F)`` and ``bias_out`` ``(O,)``, ``F`` the core's
  feature width (``H`` for one layer).

Write ``a = W_ih x + b_ih`` and ``u = W_hh h + b_hh`` (split by gates):

- Elman (``G = 1``): ``h' = act(a + u)``, ``act`` tanh or ReLU;
- LSTM (``G = 4``, gates ``i|f|g|o``): ``i, f, o = sigma(.)``, ``g = tanh(.)``,
  ``c' = f c + i g``, ``h' = o tanh(c')``;
- GRU (``G = 3``, gates ``r|z|n``): ``r, z = sigma(a + u)``,
  ``n = tanh(a_n + r u_n)`` (the reset gate after the hidden matmul),
  ``h' = (1 - z) n + z h``.

The readout is ``logits = W_out h + b_out`` (``readout="linear"``) or
``W_out relu(h) + b_out`` (``readout="relu"``, Delétang et al.'s models).
Every gated cell gives, for each step, the gradients of the loss with respect
to ``a`` and ``u``; the weight gradients are then the same four sums for all
of them (:meth:`GatedCore.backward`).

>>> from turingrnn.learning.models import make_model
>>> model = make_model("lstm", input_size=2, hidden_size=3, output_size=2, seed=0)
>>> x = np.eye(2)[[[0, 1, 1]]]                      # one sequence of 3 one-hot steps
>>> model.forward(x).shape
(1, 3, 2)
>>> result = model.loss_and_grad(x, np.array([[0, 0, 1]]), np.array([[False, False, True]]))
>>> sorted(result.grads) == sorted(model.params)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ShapeError, TrainingConfigError

State = tuple[np.ndarray, ...]
"""A recurrent state: ``(h,)`` for Elman and GRU, ``(h, c)`` for LSTM, each ``(batch, hidden)``.

Other cores name theirs (:attr:`Core.state_names`)."""

PARAMETER_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_out", "bias_out")
"""The parameters of a one-layer gated model (Elman, LSTM, GRU), in a fixed order."""

READOUTS = ("linear", "relu")
"""``linear``: ``W_out h + b_out``; ``relu``: ``W_out relu(h) + b_out`` (Delétang et al.)."""


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, through tanh: no overflow for large ``|x|``, one vectorised call."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def outer_sum(d: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``sum over t, b of outer(d[t, b], v[t, b])``, as one matrix product."""
    return d.reshape(-1, d.shape[-1]).T @ v.reshape(-1, v.shape[-1])


def log_softmax(z: np.ndarray) -> np.ndarray:
    """``log softmax`` over the last axis, shifted by the maximum for stability."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def masked_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray
) -> tuple[float, int, int, np.ndarray]:
    """The mean softmax cross-entropy of ``logits`` ``(..., O)`` over the positions ``mask`` ``(...)`` selects.

    Returns the loss (0 when nothing is selected), how many positions are
    selected, how many of them the argmax gets right, and ``dL/dlogits``.
    ``targets`` must be valid class indices everywhere (0 where unmasked).
    """
    count = int(mask.sum())
    logp = log_softmax(logits)
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    loss = -float(picked[mask].sum()) / max(count, 1)
    correct = int((logits.argmax(axis=-1) == targets)[mask].sum())
    dlogits = np.exp(logp)
    index = targets[..., None]
    np.put_along_axis(dlogits, index, np.take_along_axis(dlogits, index, axis=-1) - 1, axis=-1)
    dlogits *= (mask / max(count, 1))[..., None].astype(logits.dtype)
    return loss, count, correct, dlogits


def check_size(label: str, value: Any) -> int:
    """``value`` as an int if it is a positive int, else a :class:`ShapeError` naming ``label``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ShapeError(f"{label} must be a positive int, got {value!r}")
    return int(value)


def check_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a numpy dtype if it is float64 or float32, else a :class:`ShapeError`."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ShapeError(f"dtype must be float64 or float32, got {dt}")
    return dt


def uniform(rng: np.random.Generator, bound: float, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An array uniform on ``±bound`` (PyTorch's initialisation of recurrent and linear layers)."""
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


@dataclass(frozen=True)
class LossAndGradients:
    """What :meth:`SequenceModel.loss_and_grad` returns.

    Attributes:
        loss: Mean cross-entropy over the masked positions (0 when there are none).
        count: How many positions the mask selects.
        correct: How many of them the argmax of the logits gets right.
        grads: The gradient of ``loss`` for every parameter, keyed like ``params``.
        logits: The readout, ``(batch, time, outputs)``.
        final_state: The state after the last step.
        states: With ``keep_states=True``, each state component at every step,
            ``(batch, time + 1, ...)``, index 0 the initial state; else ``None``.
    """

    loss: float
    count: int
    correct: int
    grads: dict[str, np.ndarray]
    logits: np.ndarray
    final_state: State
    states: State | None = None


# ---------------------------------------------------------------- cores


class Core:
    """A recurrent core: input sequence → feature sequence, with its state, its parameters and its backward pass.

    A core owns no arrays: :meth:`init_params` draws its parameters once, and
    every call is handed the parameter dict (keyed by :attr:`param_names`), so
    a model, a stack of layers or an optimizer can hold them. Arrays inside
    the core are time-major: ``xt`` is ``(T, B, I)``.

    Subclasses set :attr:`name`, :attr:`state_names` and write
    :meth:`init_params`, :meth:`forward` and :meth:`backward`; they override
    :meth:`state_shapes` and :attr:`features` when those are not ``(H,)`` and
    ``H``. ``forward`` must put, for every state name, the state after each
    step into the cache (``cache[name]`` of shape ``(T, B, ...)``), so that
    the final state and the states of truncated BPTT are read the same way
    for every core.

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        dtype: float64 or float32.
    """

    name: ClassVar[str]
    state_names: ClassVar[tuple[str, ...]] = ("h",)
    carries_state: ClassVar[bool] = True
    """False for cores that read the whole sequence at once (bidirectional): no truncated BPTT."""

    def __init__(self, input_size: int, hidden_size: int, *, dtype: Any = np.float64) -> None:
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.dtype = check_dtype(dtype)

    @property
    def features(self) -> int:
        """The width of the core's output at each step (what the readout reads)."""
        return self.hidden_size

    @property
    def param_names(self) -> tuple[str, ...]:
        """The keys of the core's parameters, in the order :meth:`init_params` draws them."""
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """The core's own constructor options (beyond sizes and dtype), for checkpoints and ``repr``."""
        return {}

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        """The shape of each state component for one sequence (without the batch axis)."""
        return ((self.hidden_size,),) * len(self.state_names)

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Freshly drawn parameters, keyed by :attr:`param_names`."""
        raise NotImplementedError

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """Run ``xt`` ``(T, B, I)`` from ``start``: the features ``(T, B, F)`` and what :meth:`backward` needs."""
        raise NotImplementedError

    def backward(
        self, params: dict[str, np.ndarray], cache: dict, dfeatures: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Given ``dL/dfeatures`` ``(T, B, F)``: the gradient of every parameter and ``dL/dxt`` ``(T, B, I)``."""
        raise NotImplementedError

    def backward_with_start(
        self, params: dict[str, np.ndarray], cache: dict, dfeatures: np.ndarray, dfinal: State | None = None
    ) -> tuple[dict[str, np.ndarray], np.ndarray, State]:
        """:meth:`backward` with a gradient ``dfinal`` on the final state too (default 0); also returns ``dL/dstart``.

        This chains two cores through a state (the encoder–decoder of :mod:`turingrnn.learning.seq2seq`).
        """
        raise NotImplementedError(f"core {self.name!r} gives no gradient for its start state")

    def torch_forward(self, params: dict[str, Any], xt: Any, start: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """The same forward pass in torch ops, for the torch backend (:mod:`turingrnn.learning.torch_backend`).

        ``params`` maps :attr:`param_names` to tensors, ``xt`` is ``(T, B, I)``
        and ``start`` the state as tensors; returns the features ``(T, B, F)``
        and the final state. Autograd gives the backward pass, which must
        equal :meth:`backward` (tested to 1e-10 in float64).
        """
        raise NotImplementedError(f"core {self.name!r} has no torch version")

    def final_state(self, cache: dict, start: State) -> State:
        """The state after the last step (``start`` for an empty sequence)."""
        if cache[self.state_names[0]].shape[0] == 0:
            return start
        return tuple(cache[k][-1] for k in self.state_names)

    def states(self, cache: dict, start: State) -> State:
        """Each state component at every step, batch-first ``(B, T + 1, ...)``, index 0 the start."""
        return tuple(
            np.moveaxis(np.concatenate([s[None], cache[k]], axis=0), 0, 1)
            for s, k in zip(start, self.state_names, strict=True)
        )


class GatedCore(Core):
    """One gated layer with PyTorch's four parameters: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``.

    Subclasses set :attr:`gates` and write :meth:`forward` and
    :meth:`_gate_backward_with_start`, which gives ``dL/da`` and ``dL/du`` at
    every step and ``dL/dstart``; :meth:`backward` turns them into the weight
    gradients and ``dL/dx``.
    """

    gates: ClassVar[int]

    @property
    def param_names(self) -> tuple[str, ...]:
        """``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""
        return PARAMETER_NAMES[:4]

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        gh = self.gates * self.hidden_size
        return {
            "weight_ih": (gh, self.input_size),
            "weight_hh": (gh, self.hidden_size),
            "bias_ih": (gh,),
            "bias_hh": (gh,),
        }

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Every parameter uniform on ``±1/sqrt(H)``, as PyTorch initialises its recurrent layers."""
        bound = 1.0 / np.sqrt(self.hidden_size)
        return {name: uniform(rng, bound, shape, self.dtype) for name, shape in self._shapes().items()}

    @staticmethod
    def projections(params: dict[str, np.ndarray], xt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``a = W_ih x + b_ih`` for all steps at once ``(T, B, G H)``, and ``W_hh^T`` and ``b_hh`` for the loop."""
        return xt @ params["weight_ih"].T + params["bias_ih"], params["weight_hh"].T, params["bias_hh"]

    def backward(
        self, params: dict[str, np.ndarray], cache: dict, dfeatures: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The four sums ``dW_ih = sum da x^T``, ``db_ih = sum da``, ``dW_hh = sum du h_prev^T``, ``db_hh = sum du``."""
        da, du = self._gate_backward(params, cache, dfeatures)
        return self._weight_gradients(params, cache, da, du)

    def backward_with_start(
        self, params: dict[str, np.ndarray], cache: dict, dfeatures: np.ndarray, dfinal: State | None = None
    ) -> tuple[dict[str, np.ndarray], np.ndarray, State]:
        """:meth:`backward` with ``dL/d(final state)`` added in; also returns ``dL/d(start state)``."""
        if type(self).backward is not GatedCore.backward:
            raise NotImplementedError(f"core {self.name!r} has its own backward and gives no gradient for its start")
        da, du, dstart = self._gate_backward_with_start(params, cache, dfeatures, dfinal)
        return (*self._weight_gradients(params, cache, da, du), dstart)

    def _weight_gradients(
        self, params: dict[str, np.ndarray], cache: dict, da: np.ndarray, du: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The four parameters' gradients from ``dL/da`` and ``dL/du``, and ``dL/dx = da W_ih``."""
        grads = {
            "weight_ih": outer_sum(da, cache["x"]),
            "weight_hh": self._recurrent_gradient(cache, du),
            "bias_ih": da.sum(axis=(0, 1)),
            "bias_hh": du.sum(axis=(0, 1)),
        }
        return grads, da @ params["weight_ih"]

    def _recurrent_gradient(self, cache: dict, du: np.ndarray) -> np.ndarray:
        """``dW_hh = sum du h_prev^T``, ``h_prev`` the state before each step."""
        h_prev = np.concatenate([cache["h0"][None], cache["h"][:-1]], axis=0)
        return outer_sum(du, h_prev)

    def _gate_backward(
        self, params: dict[str, np.ndarray], cache: dict, dhs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Given ``dL/dh`` from above ``(T, B, H)``: ``dL/da`` and ``dL/du``, each ``(T, B, G H)``."""
        da, du, _ = self._gate_backward_with_start(params, cache, dhs)
        return da, du

    def _gate_backward_with_start(
        self, params: dict[str, np.ndarray], cache: dict, dhs: np.ndarray, dfinal: State | None = None
    ) -> tuple[np.ndarray, np.ndarray, State]:
        """:meth:`_gate_backward` with ``dL/d(final state)`` (default 0) added in; also gives ``dL/d(start state)``."""
        raise NotImplementedError

    def _final_gradient(self, dfinal: State | None, batch: int) -> State:
        """``dL/d(final state)`` as fresh arrays in the core's dtype: a copy of ``dfinal``, or zeros."""
        if dfinal is None:
            return tuple(np.zeros((batch,) + s, dtype=self.dtype) for s in self.state_shapes())
        return tuple(np.array(d, dtype=self.dtype) for d in dfinal)


class ElmanCore(GatedCore):
    """``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, as ``torch.nn.RNN(nonlinearity=...)``."""

    gates = 1
    NONLINEARITIES: ClassVar[tuple[str, ...]] = ("tanh", "relu")

    def __init__(self, input_size: int, hidden_size: int, *, nonlinearity: str = "tanh", dtype: Any = np.float64):
        super().__init__(input_size, hidden_size, dtype=dtype)
        if nonlinearity not in self.NONLINEARITIES:
            allowed = ", ".join(self.NONLINEARITIES)
            raise TrainingConfigError(f"nonlinearity must be one of {allowed}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.name = f"elman_{nonlinearity}"  # type: ignore[misc]

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """The Elman recursion over all steps."""
        a, whh_t, b_hh = self.projections(params, xt)
        hs = np.empty(a.shape, dtype=self.dtype)
        h = start[0]
        relu = self.nonlinearity == "relu"
        for t in range(a.shape[0]):
            pre = a[t] + h @ whh_t + b_hh
            h = np.maximum(pre, 0) if relu else np.tanh(pre)
            hs[t] = h
        return hs, {"h": hs, "x": xt, "h0": start[0]}

    def _gate_backward_with_start(
        self, params: dict[str, np.ndarray], cache: dict, dhs: np.ndarray, dfinal: State | None = None
    ) -> tuple[np.ndarray, np.ndarray, State]:
        hs = cache["h"]
        w_hh = params["weight_hh"]
        # ReLU: h > 0 exactly where the pre-activation is > 0 (PyTorch's derivative at 0 is 0 too).
        slope = (hs > 0).astype(self.dtype) if self.nonlinearity == "relu" else 1 - hs * hs
        dpre = np.empty_like(hs)
        (carry,) = self._final_gradient(dfinal, hs.shape[1])
        for t in range(hs.shape[0] - 1, -1, -1):
            dpre[t] = (dhs[t] + carry) * slope[t]
            carry = dpre[t] @ w_hh
        return dpre, dpre, (carry,)


class LSTMCore(GatedCore):
    """Long short-term memory, as ``torch.nn.LSTM``: gates ``i|f|g|o``, state ``(h, c)``.

    ``forget_bias`` is added to the forget slice of ``bias_hh`` at
    initialisation (the bias stays trainable). Haiku's ``hk.LSTM``, which
    Delétang et al. train, adds a constant 1 inside the forget sigmoid
    instead; since the bias is trainable and its gradient is the same, the
    two give the same training trajectory from the same other weights.

    The loops over the steps are shared with the LSTM variants
    (:mod:`turingrnn.learning.lstm_variants`): a variant writes :meth:`_cell_forward`
    and :meth:`_cell_backward` for one step, keeps the output gate as the last
    slice of its gates and the forget gate at :attr:`forget_gate`.
    """

    name = "lstm"
    gates = 4
    state_names = ("h", "c")
    forget_gate: ClassVar[int] = 1
    """The position of the forget gate among the gates (where ``forget_bias`` goes)."""

    def __init__(self, input_size: int, hidden_size: int, *, forget_bias: float = 0.0, dtype: Any = np.float64):
        super().__init__(input_size, hidden_size, dtype=dtype)
        if not np.isfinite(forget_bias):
            raise TrainingConfigError(f"forget_bias must be a finite number, got {forget_bias!r}")
        self.forget_bias = float(forget_bias)

    def options(self) -> dict[str, Any]:
        """``forget_bias`` (when not 0)."""
        return {"forget_bias": self.forget_bias} if self.forget_bias else {}

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """PyTorch's initialisation, plus ``forget_bias`` on the forget gate's ``bias_hh``."""
        params = super().init_params(rng)
        n, k = self.hidden_size, self.forget_gate
        params["bias_hh"][k * n : (k + 1) * n] += self.dtype.type(self.forget_bias)
        return params

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """The LSTM recursion over all steps."""
        n = self.hidden_size
        a, whh_t, b_hh = self.projections(params, xt)
        steps = a.shape[0]
        acts = np.empty(a.shape, dtype=self.dtype)  # the gates after their nonlinearities
        hs = np.empty((steps,) + start[0].shape, dtype=self.dtype)
        cs = np.empty_like(hs)
        tcs = np.empty_like(hs)
        h, c = start
        for t in range(steps):
            c = self._cell_forward(params, a[t] + h @ whh_t + b_hh, c, acts[t])
            tcs[t] = np.tanh(c)
            h = acts[t, :, -n:] * tcs[t]
            hs[t], cs[t] = h, c
        return hs, {"h": hs, "c": cs, "tc": tcs, "acts": acts, "x": xt, "h0": start[0], "c0": start[1]}

    def _cell_forward(
        self, params: dict[str, np.ndarray], z: np.ndarray, c: np.ndarray, gate: np.ndarray
    ) -> np.ndarray:
        """One step: write the gates for the pre-activations ``z`` into ``gate``; return the new cell ``c'``."""
        n = self.hidden_size
        gate[:, : 2 * n] = sigmoid(z[:, : 2 * n])
        gate[:, 2 * n : 3 * n] = np.tanh(z[:, 2 * n : 3 * n])
        gate[:, 3 * n :] = sigmoid(z[:, 3 * n :])
        return gate[:, n : 2 * n] * c + gate[:, :n] * gate[:, 2 * n : 3 * n]

    def _gate_backward_with_start(
        self, params: dict[str, np.ndarray], cache: dict, dhs: np.ndarray, dfinal: State | None = None
    ) -> tuple[np.ndarray, np.ndarray, State]:
        n = self.hidden_size
        w_hh = params["weight_hh"]
        acts, cs, tcs = cache["acts"], cache["c"], cache["tc"]
        dz = np.empty_like(acts)
        dh_next, dc_next = self._final_gradient(dfinal, dhs.shape[1])
        for t in range(dhs.shape[0] - 1, -1, -1):
            o, tc, d = acts[t, :, -n:], tcs[t], dz[t]
            dh = dhs[t] + dh_next
            d[:, -n:] = dh * tc * o * (1 - o)
            dc = dc_next + dh * o * (1 - tc * tc)
            dc_next = self._cell_backward(params, acts[t], cs[t - 1] if t else cache["c0"], dc, d)
            dh_next = d @ w_hh
        return dz, dz, (dh_next, dc_next)

    def _cell_backward(
        self, params: dict[str, np.ndarray], gate: np.ndarray, c_prev: np.ndarray, dc: np.ndarray, d: np.ndarray
    ) -> np.ndarray:
        """One step back: fill in the gates' ``dL/dz`` and return ``dL/dc``.

        ``dc`` is ``dL/dc'`` through ``h'`` and the next step; ``d`` holds ``dL/dz`` of the output gate.
        """
        n = self.hidden_size
        i, f, g = gate[:, :n], gate[:, n : 2 * n], gate[:, 2 * n : 3 * n]
        d[:, :n] = dc * g * i * (1 - i)
        d[:, n : 2 * n] = dc * c_prev * f * (1 - f)
        d[:, 2 * n : 3 * n] = dc * i * (1 - g * g)
        return dc * f


class GRUCore(GatedCore):
    """Gated recurrent unit, as ``torch.nn.GRU``: gates ``r|z|n``, the reset gate applied after the hidden matmul."""

    name = "gru"
    gates = 3

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """The GRU recursion over all steps."""
        n = self.hidden_size
        a, whh_t, b_hh = self.projections(params, xt)
        steps = a.shape[0]
        acts = np.empty(a.shape, dtype=self.dtype)  # r, z, n after their nonlinearities
        un = np.empty((steps,) + start[0].shape, dtype=self.dtype)  # W_hn h + b_hn, before the reset gate
        hs = np.empty_like(un)
        h = start[0]
        for t in range(steps):
            u = h @ whh_t + b_hh
            gate = acts[t]
            gate[:, : 2 * n] = sigmoid(a[t, :, : 2 * n] + u[:, : 2 * n])
            un[t] = u[:, 2 * n :]
            gate[:, 2 * n :] = np.tanh(a[t, :, 2 * n :] + gate[:, :n] * un[t])
            z = gate[:, n : 2 * n]
            h = (1 - z) * gate[:, 2 * n :] + z * h
            hs[t] = h
        return hs, {"h": hs, "acts": acts, "un": un, "x": xt, "h0": start[0]}

    def _gate_backward_with_start(
        self, params: dict[str, np.ndarray], cache: dict, dhs: np.ndarray, dfinal: State | None = None
    ) -> tuple[np.ndarray, np.ndarray, State]:
        n = self.hidden_size
        w_hh = params["weight_hh"]
        acts, un, hs = cache["acts"], cache["un"], cache["h"]
        da = np.empty_like(acts)
        du = np.empty_like(acts)
        (dh_next,) = self._final_gradient(dfinal, dhs.shape[1])
        for t in range(dhs.shape[0] - 1, -1, -1):
            r, z, cand = acts[t, :, :n], acts[t, :, n : 2 * n], acts[t, :, 2 * n :]
            h_prev = hs[t - 1] if t else cache["h0"]
            dh = dhs[t] + dh_next
            dn = dh * (1 - z) * (1 - cand * cand)
            da[t, :, :n] = dn * un[t] * r * (1 - r)
            da[t, :, n : 2 * n] = dh * (h_prev - cand) * z * (1 - z)
            da[t, :, 2 * n :] = dn
            du[t, :, : 2 * n] = da[t, :, : 2 * n]
            du[t, :, 2 * n :] = dn * r
            dh_next = dh * z + du[t] @ w_hh
        return da, du, (dh_next,)


# ---------------------------------------------------------------- the model


class SequenceModel:
    """A core, a readout and a masked softmax cross-entropy loss.

    Build one with :func:`turingrnn.learning.models.make_model`. ``params`` holds
    every trainable array: the core's (keyed by ``core.param_names``) and
    the readout's ``weight_out`` ``(O, F)`` and ``bias_out`` ``(O,)``.
    Optimizers update them in place.

    Args:
        core: The recurrent core.
        output_size: ``O``, the number of output classes (logits).
        seed: An int seed or a ``numpy.random.Generator`` for the initial
            weights: the core's, then the readout's, uniform on
            ``±1/sqrt(F)`` as ``nn.Linear`` initialises.
        readout: ``"linear"`` or ``"relu"`` (:data:`READOUTS`).
        name: The registry name (default: the core's name).
        config: The :func:`~turingrnn.learning.models.make_model` arguments that rebuild
            this model (kept for checkpoints).
    """

    def __init__(
        self,
        core: Core,
        output_size: int,
        *,
        seed: int | np.random.Generator = 0,
        readout: str = "linear",
        name: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.core = core
        self.output_size = check_size("output_size", output_size)
        if readout not in READOUTS:
            raise TrainingConfigError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
        self.readout = readout
        self.name = name or core.name
        self.config = dict(config or {})
        self.dtype = core.dtype
        self.input_size = core.input_size
        self.hidden_size = core.hidden_size
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        params = core.init_params(rng)
        if set(params) & {"weight_out", "bias_out"} or tuple(params) != core.param_names:
            raise ShapeError(f"core {core.name!r} drew parameters {sorted(params)}, not its param_names")
        bound = 1.0 / np.sqrt(core.features)
        params["weight_out"] = uniform(rng, bound, (self.output_size, core.features), self.dtype)
        params["bias_out"] = uniform(rng, bound, (self.output_size,), self.dtype)
        self.params: dict[str, np.ndarray] = params

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.core.options().items())
        if self.readout != "linear":
            extra += f", readout={self.readout!r}"
        return (
            f"{type(self.core).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"output_size={self.output_size}{extra}, dtype={self.dtype.name})"
        )

    @property
    def state_size(self) -> int:
        """How many arrays a state has."""
        return len(self.core.state_names)

    @property
    def parameter_count(self) -> int:
        """The number of trainable scalars."""
        return sum(p.size for p in self.params.values())

    # --- validation -------------------------------------------------------------

    def _check_inputs(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ShapeError(
                f"inputs have shape {x.shape}; expected (batch, time, {self.input_size}) for this {self.name} model"
            )
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer) or x.dtype == bool):
            raise ShapeError(f"inputs must be numbers, got dtype {x.dtype}")
        return x.astype(self.dtype, copy=False)

    def _check_state(self, state: State | None, batch: int) -> State:
        if state is None:
            return self.initial_state(batch)
        expected = [(batch,) + s for s in self.core.state_shapes()]
        if len(state) != len(expected) or any(np.shape(s) != e for s, e in zip(state, expected, strict=False)):
            got = [np.shape(s) for s in state]
            shapes = ", ".join(str(e) for e in dict.fromkeys(expected))
            raise ShapeError(
                f"state has {len(state)} part(s) of shapes {got}; a {self.name} state is "
                f"{len(expected)} array(s) of shape {shapes}"
            )
        return tuple(np.asarray(s, dtype=self.dtype) for s in state)

    def _check_targets(self, targets: np.ndarray, mask: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
        y = np.asarray(targets)
        m = np.asarray(mask)
        if y.shape != shape:
            raise ShapeError(f"targets have shape {y.shape}; expected {shape} (batch, time) like the inputs")
        if m.shape != shape:
            raise ShapeError(f"mask has shape {m.shape}; expected {shape} (batch, time) like the inputs")
        if not np.issubdtype(y.dtype, np.integer):
            raise ShapeError(f"targets must be integer class indices, got dtype {y.dtype}")
        if m.dtype != bool:
            raise ShapeError(f"mask must be a bool array, got dtype {m.dtype}")
        picked = y[m]
        bad = picked[(picked < 0) | (picked >= self.output_size)]
        if bad.size:
            raise ShapeError(
                f"target {int(bad[0])} at a masked position is outside the {self.output_size} "
                f"output classes 0..{self.output_size - 1}"
            )
        return np.where(m, y, 0), m

    def check_batch(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, ...]:
        """Validate a batch for this model; return it as arrays (inputs in the model's dtype).

        Raises:
            ShapeError: naming the offending shape, dtype or target value.
        """
        x = self._check_inputs(inputs)
        _, m = self._check_targets(targets, mask, x.shape[:2])
        return x, np.asarray(targets), m

    # --- running ----------------------------------------------------------------

    def initial_state(self, batch: int) -> State:
        """The zero state for ``batch`` sequences."""
        return tuple(np.zeros((batch,) + s, dtype=self.dtype) for s in self.core.state_shapes())

    def run(self, inputs: np.ndarray, state: State | None = None) -> tuple[np.ndarray, State]:
        """Logits ``(batch, time, outputs)`` for ``inputs`` ``(batch, time, input_size)``, and the final state."""
        x = self._check_inputs(inputs)
        start = self._check_state(state, x.shape[0])
        fs, cache = self.core.forward(self.params, np.ascontiguousarray(x.transpose(1, 0, 2)), start)
        return self._readout(fs).transpose(1, 0, 2), self.core.final_state(cache, start)

    def forward(self, inputs: np.ndarray, state: State | None = None) -> np.ndarray:
        """Logits ``(batch, time, outputs)`` for ``inputs`` ``(batch, time, input_size)`` from ``state`` (default 0)."""
        return self.run(inputs, state)[0]

    def predict(self, inputs: np.ndarray, state: State | None = None) -> np.ndarray:
        """The most likely class at every step, an int array ``(batch, time)``."""
        return self.forward(inputs, state).argmax(axis=-1)

    def loss_and_grad(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray,
        state: State | None = None,
        *,
        keep_states: bool = False,
    ) -> LossAndGradients:
        """The masked mean cross-entropy and its gradient for every parameter, by backpropagation through time.

        Args:
            inputs: ``(batch, time, input_size)`` floats (one-hot in the tasks).
            targets: ``(batch, time)`` class indices; only masked positions are read.
            mask: ``(batch, time)`` bools: the positions the loss counts.
            state: The state before the first step (default zero). Gradients do
                not flow into it.
            keep_states: Also return the state at every step (for truncated BPTT).
        """
        x = self._check_inputs(inputs)
        y, m = self._check_targets(targets, mask, x.shape[:2])
        start = self._check_state(state, x.shape[0])
        xt = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, I)
        fs, cache = self.core.forward(self.params, xt, start)  # (T, B, F)
        p = self.params
        logits = self._readout(fs)  # (T, B, O)
        loss, count, correct, dlogits = masked_cross_entropy(logits, y.T, m.T)
        dfs, out_grads = self._readout_backward(fs, dlogits)
        grads, _ = self.core.backward(p, cache, dfs)
        grads.update(out_grads)
        return LossAndGradients(
            loss=loss,
            count=count,
            correct=correct,
            grads={name: grads[name].astype(self.dtype, copy=False) for name in p},
            logits=logits.transpose(1, 0, 2),
            final_state=self.core.final_state(cache, start),
            states=self.core.states(cache, start) if keep_states else None,
        )

    def _readout(self, fs: np.ndarray, params: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Logits from the core's features ``fs`` (``(..., F)``): ``Linear(fs)`` or ``Linear(ReLU(fs))``."""
        p = self.params if params is None else params
        read = np.maximum(fs, 0) if self.readout == "relu" else fs
        return read @ p["weight_out"].T + p["bias_out"]

    def _readout_backward(self, fs: np.ndarray, dlogits: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The gradient into the features ``(T, B, F)`` and the readout's own gradients, from ``dlogits``."""
        dfs = dlogits @ self.params["weight_out"]
        read = fs
        if self.readout == "relu":
            dfs *= fs > 0
            read = np.maximum(fs, 0)
        return dfs, {"weight_out": outer_sum(dlogits, read), "bias_out": dlogits.sum(axis=(0, 1))}


RecurrentModel = SequenceModel
"""The earlier name of :class:`SequenceModel`."""
