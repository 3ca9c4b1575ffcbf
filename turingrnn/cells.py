"""Trained recurrent cells in numpy: Elman (tanh, ReLU), LSTM and GRU, with a linear readout and BPTT.

These are the learned baselines the compiled networks are compared with. Each
model is one recurrent layer, a linear readout from the hidden state to output
logits, and a softmax cross-entropy loss taken only where a mask is true.
Arrays are batch-first, ``(batch, time, features)``; parameters are float64 by
default (float32 allowed).

The weights follow PyTorch's layouts exactly, so a model's ``params`` can be
copied into ``torch.nn.RNN``/``LSTM``/``GRU`` (``weight_ih`` →
``weight_ih_l0`` and so on) and an ``nn.Linear`` readout (``weight_out`` →
``weight``, ``bias_out`` → ``bias``). With ``G`` gates, ``H`` hidden units,
``I`` inputs and ``O`` outputs:

- ``weight_ih`` ``(G H, I)``, ``weight_hh`` ``(G H, H)``, ``bias_ih`` and
  ``bias_hh`` ``(G H,)``, the gates stacked in PyTorch's order;
- ``weight_out`` ``(O, H)`` and ``bias_out`` ``(O,)``.

Write ``a = W_ih x + b_ih`` and ``u = W_hh h + b_hh`` (split by gates):

- Elman (``G = 1``): ``h' = act(a + u)``, ``act`` tanh or ReLU;
- LSTM (``G = 4``, gates ``i|f|g|o``): ``i, f, o = sigma(.)``, ``g = tanh(.)``,
  ``c' = f c + i g``, ``h' = o tanh(c')``;
- GRU (``G = 3``, gates ``r|z|n``): ``r, z = sigma(a + u)``,
  ``n = tanh(a_n + r u_n)`` (the reset gate after the hidden matmul),
  ``h' = (1 - z) n + z h``.

Every cell gives, for each step, the gradients of the loss with respect to
``a`` and ``u``; the weight gradients are then the same four sums for all
cells (:meth:`RecurrentModel.loss_and_grad`).

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
from typing import ClassVar

import numpy as np

from .errors import ShapeError, UnknownCellError

State = tuple[np.ndarray, ...]
"""A recurrent state: ``(h,)`` for Elman and GRU, ``(h, c)`` for LSTM, each ``(batch, hidden)``."""

PARAMETER_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_out", "bias_out")
"""The names of every model's parameters, in a fixed order."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # Through tanh: no overflow for large |x|, and one vectorised call.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _outer_sum(d: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``sum over t, b of outer(d[t, b], v[t, b])``, as one matrix product."""
    return d.reshape(-1, d.shape[-1]).T @ v.reshape(-1, v.shape[-1])


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class LossAndGradients:
    """What :meth:`RecurrentModel.loss_and_grad` returns.

    Attributes:
        loss: Mean cross-entropy over the masked positions (0 when there are none).
        count: How many positions the mask selects.
        correct: How many of them the argmax of the logits gets right.
        grads: The gradient of ``loss`` for every parameter, keyed like ``params``.
        logits: The readout, ``(batch, time, outputs)``.
        final_state: The state after the last step.
        states: With ``keep_states=True``, each state component at every step,
            ``(batch, time + 1, hidden)``, index 0 the initial state; else ``None``.
    """

    loss: float
    count: int
    correct: int
    grads: dict[str, np.ndarray]
    logits: np.ndarray
    final_state: State
    states: State | None = None


class RecurrentModel:
    """One recurrent layer, a linear readout and a masked softmax cross-entropy loss.

    Subclasses set ``gates``, ``state_size`` (1, or 2 for LSTM's ``(h, c)``) and
    write ``_forward`` and ``_backward`` over time-major arrays.

    Args:
        input_size: ``I``, the width of each input vector.
        hidden_size: ``H``.
        output_size: ``O``, the number of output classes (logits).
        seed: An int seed or a ``numpy.random.Generator`` for the initial weights:
            every parameter uniform on ``±1/sqrt(H)``, as PyTorch initialises
            its recurrent layers and (with fan-in ``H``) the readout.
        dtype: ``float64`` (default) or ``float32``.
    """

    name: ClassVar[str]
    gates: ClassVar[int]
    state_size: ClassVar[int] = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        seed: int | np.random.Generator = 0,
        dtype: type[np.floating] | np.dtype | str = np.float64,
    ) -> None:
        for label, value in (("input_size", input_size), ("hidden_size", hidden_size), ("output_size", output_size)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ShapeError(f"{label} must be a positive int, got {value!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise ShapeError(f"dtype must be float64 or float32, got {self.dtype}")
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.output_size = int(output_size)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(self.hidden_size)
        gh = self.gates * self.hidden_size
        shapes = {
            "weight_ih": (gh, self.input_size),
            "weight_hh": (gh, self.hidden_size),
            "bias_ih": (gh,),
            "bias_hh": (gh,),
            "weight_out": (self.output_size, self.hidden_size),
            "bias_out": (self.output_size,),
        }
        self.params: dict[str, np.ndarray] = {
            name: rng.uniform(-bound, bound, size=shapes[name]).astype(self.dtype) for name in PARAMETER_NAMES
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"output_size={self.output_size}, dtype={self.dtype.name})"
        )

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
        expected = (batch, self.hidden_size)
        if len(state) != self.state_size or any(np.shape(s) != expected for s in state):
            got = [np.shape(s) for s in state]
            raise ShapeError(
                f"state has {len(state)} part(s) of shapes {got}; a {self.name} state is "
                f"{self.state_size} array(s) of shape {expected}"
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
        return tuple(np.zeros((batch, self.hidden_size), dtype=self.dtype) for _ in range(self.state_size))

    def run(self, inputs: np.ndarray, state: State | None = None) -> tuple[np.ndarray, State]:
        """Logits ``(batch, time, outputs)`` for ``inputs`` ``(batch, time, input_size)``, and the final state."""
        x = self._check_inputs(inputs)
        start = self._check_state(state, x.shape[0])
        hs, cache = self._forward(np.ascontiguousarray(x.transpose(1, 0, 2)), start)
        return self._readout(hs).transpose(1, 0, 2), self._final_state(cache, start)

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
        hs, cache = self._forward(xt, start)  # hs: (T, B, H)
        p = self.params
        logits = self._readout(hs)  # (T, B, O)
        mt, yt = m.T, y.T
        count = int(mt.sum())
        logp = _log_softmax(logits)
        picked = np.take_along_axis(logp, yt[..., None], axis=-1)[..., 0]
        loss = -float(picked[mt].sum()) / max(count, 1)
        correct = int((logits.argmax(axis=-1) == yt)[mt].sum())
        dlogits = np.exp(logp)
        np.put_along_axis(dlogits, yt[..., None], np.take_along_axis(dlogits, yt[..., None], axis=-1) - 1, axis=-1)
        dlogits *= (mt / max(count, 1))[..., None].astype(self.dtype)
        grads = {
            "weight_out": _outer_sum(dlogits, hs),
            "bias_out": dlogits.sum(axis=(0, 1)),
        }
        da, du = self._backward(cache, dlogits @ p["weight_out"])
        h_prev = np.concatenate([start[0][None], hs[:-1]], axis=0)
        grads["weight_ih"] = _outer_sum(da, xt)
        grads["bias_ih"] = da.sum(axis=(0, 1))
        grads["weight_hh"] = _outer_sum(du, h_prev)
        grads["bias_hh"] = du.sum(axis=(0, 1))
        states = self._states(cache, start) if keep_states else None
        return LossAndGradients(
            loss=loss,
            count=count,
            correct=correct,
            grads={name: grads[name].astype(self.dtype, copy=False) for name in PARAMETER_NAMES},
            logits=logits.transpose(1, 0, 2),
            final_state=self._final_state(cache, start),
            states=states,
        )

    def _projections(self, xt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``a = W_ih x + b_ih`` for all steps at once ``(T, B, G H)``, and ``W_hh^T`` and ``b_hh`` for the loop."""
        p = self.params
        return xt @ p["weight_ih"].T + p["bias_ih"], p["weight_hh"].T, p["bias_hh"]

    def _readout(self, hs: np.ndarray) -> np.ndarray:
        return hs @ self.params["weight_out"].T + self.params["bias_out"]

    def _final_state(self, cache: dict[str, np.ndarray], start: State) -> State:
        if cache["h"].shape[0] == 0:
            return start
        return tuple(cache[k][-1] for k in ("h", "c")[: self.state_size])

    def _states(self, cache: dict[str, np.ndarray], start: State) -> State:
        return tuple(
            np.concatenate([s[None], cache[k]], axis=0).transpose(1, 0, 2)
            for s, k in zip(start, ("h", "c")[: self.state_size], strict=True)
        )

    # --- per-cell -----------------------------------------------------------------

    def _forward(self, xt: np.ndarray, start: State) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Run ``xt`` ``(T, B, I)`` from ``start``: hidden states ``(T, B, H)`` and what backward needs.

        The cache holds ``h`` (the hidden states) and, for LSTM, ``c``.
        """
        raise NotImplementedError

    def _backward(self, cache: dict[str, np.ndarray], dhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Given ``dL/dh`` from the readout ``(T, B, H)``: ``dL/da`` and ``dL/du``, each ``(T, B, G H)``."""
        raise NotImplementedError


class ElmanRNN(RecurrentModel):
    """``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, as ``torch.nn.RNN(nonlinearity=...)``."""

    gates = 1
    nonlinearity: ClassVar[str]

    def _forward(self, xt: np.ndarray, start: State) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        a, whh_t, b_hh = self._projections(xt)
        hs = np.empty(a.shape, dtype=self.dtype)
        h = start[0]
        relu = self.nonlinearity == "relu"
        for t in range(a.shape[0]):
            pre = a[t] + h @ whh_t + b_hh
            h = np.maximum(pre, 0) if relu else np.tanh(pre)
            hs[t] = h
        return hs, {"h": hs}

    def _backward(self, cache: dict[str, np.ndarray], dhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hs = cache["h"]
        w_hh = self.params["weight_hh"]
        # ReLU: h > 0 exactly where the pre-activation is > 0 (PyTorch's derivative at 0 is 0 too).
        slope = (hs > 0).astype(self.dtype) if self.nonlinearity == "relu" else 1 - hs * hs
        dpre = np.empty_like(hs)
        carry = np.zeros(hs.shape[1:], dtype=self.dtype)
        for t in range(hs.shape[0] - 1, -1, -1):
            dpre[t] = (dhs[t] + carry) * slope[t]
            carry = dpre[t] @ w_hh
        return dpre, dpre


class ElmanTanh(ElmanRNN):
    """Elman RNN with tanh: ``torch.nn.RNN(nonlinearity="tanh")``."""

    name = "elman_tanh"
    nonlinearity = "tanh"


class ElmanReLU(ElmanRNN):
    """Elman RNN with ReLU: ``torch.nn.RNN(nonlinearity="relu")``, Delétang et al.'s "RNN"."""

    name = "elman_relu"
    nonlinearity = "relu"


class LSTM(RecurrentModel):
    """Long short-term memory, as ``torch.nn.LSTM``: gates ``i|f|g|o``, state ``(h, c)``."""

    name = "lstm"
    gates = 4
    state_size = 2

    def _forward(self, xt: np.ndarray, start: State) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n = self.hidden_size
        a, whh_t, b_hh = self._projections(xt)
        steps = a.shape[0]
        acts = np.empty(a.shape, dtype=self.dtype)  # i, f, g, o after their nonlinearities
        hs = np.empty((steps,) + start[0].shape, dtype=self.dtype)
        cs = np.empty_like(hs)
        h, c = start
        for t in range(steps):
            z = a[t] + h @ whh_t + b_hh
            gate = acts[t]
            gate[:, : 2 * n] = _sigmoid(z[:, : 2 * n])
            gate[:, 2 * n : 3 * n] = np.tanh(z[:, 2 * n : 3 * n])
            gate[:, 3 * n :] = _sigmoid(z[:, 3 * n :])
            c = gate[:, n : 2 * n] * c + gate[:, :n] * gate[:, 2 * n : 3 * n]
            h = gate[:, 3 * n :] * np.tanh(c)
            hs[t], cs[t] = h, c
        return hs, {"h": hs, "c": cs, "acts": acts, "c0": start[1]}

    def _backward(self, cache: dict[str, np.ndarray], dhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = self.hidden_size
        w_hh = self.params["weight_hh"]
        acts, cs = cache["acts"], cache["c"]
        dz = np.empty_like(acts)
        dh_next = np.zeros(dhs.shape[1:], dtype=self.dtype)
        dc_next = np.zeros_like(dh_next)
        for t in range(dhs.shape[0] - 1, -1, -1):
            i, f, g, o = acts[t, :, :n], acts[t, :, n : 2 * n], acts[t, :, 2 * n : 3 * n], acts[t, :, 3 * n :]
            c_prev = cs[t - 1] if t else cache["c0"]
            tc = np.tanh(cs[t])
            dh = dhs[t] + dh_next
            dc = dc_next + dh * o * (1 - tc * tc)
            d = dz[t]
            d[:, :n] = dc * g * i * (1 - i)
            d[:, n : 2 * n] = dc * c_prev * f * (1 - f)
            d[:, 2 * n : 3 * n] = dc * i * (1 - g * g)
            d[:, 3 * n :] = dh * tc * o * (1 - o)
            dc_next = dc * f
            dh_next = d @ w_hh
        return dz, dz


class GRU(RecurrentModel):
    """Gated recurrent unit, as ``torch.nn.GRU``: gates ``r|z|n``, the reset gate applied after the hidden matmul."""

    name = "gru"
    gates = 3

    def _forward(self, xt: np.ndarray, start: State) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n = self.hidden_size
        a, whh_t, b_hh = self._projections(xt)
        steps = a.shape[0]
        acts = np.empty(a.shape, dtype=self.dtype)  # r, z, n after their nonlinearities
        un = np.empty((steps,) + start[0].shape, dtype=self.dtype)  # W_hn h + b_hn, before the reset gate
        hs = np.empty_like(un)
        h = start[0]
        for t in range(steps):
            u = h @ whh_t + b_hh
            gate = acts[t]
            gate[:, : 2 * n] = _sigmoid(a[t, :, : 2 * n] + u[:, : 2 * n])
            un[t] = u[:, 2 * n :]
            gate[:, 2 * n :] = np.tanh(a[t, :, 2 * n :] + gate[:, :n] * un[t])
            z = gate[:, n : 2 * n]
            h = (1 - z) * gate[:, 2 * n :] + z * h
            hs[t] = h
        return hs, {"h": hs, "acts": acts, "un": un, "h0": start[0]}

    def _backward(self, cache: dict[str, np.ndarray], dhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = self.hidden_size
        w_hh = self.params["weight_hh"]
        acts, un, hs = cache["acts"], cache["un"], cache["h"]
        da = np.empty_like(acts)
        du = np.empty_like(acts)
        dh_next = np.zeros(dhs.shape[1:], dtype=self.dtype)
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
        return da, du


CELLS: dict[str, type[RecurrentModel]] = {cls.name: cls for cls in (ElmanTanh, ElmanReLU, LSTM, GRU)}
"""The trained cells by name: ``elman_tanh``, ``elman_relu``, ``lstm``, ``gru``."""


def make_model(
    cell: str,
    input_size: int,
    hidden_size: int,
    output_size: int,
    *,
    seed: int | np.random.Generator = 0,
    dtype: type[np.floating] | np.dtype | str = np.float64,
) -> RecurrentModel:
    """A freshly initialised model of the cell named ``cell`` (a key of :data:`CELLS`).

    >>> make_model("gru", 3, 8, 2, seed=1)
    GRU(input_size=3, hidden_size=8, output_size=2, dtype=float64)
    >>> make_model("rnn", 3, 8, 2)
    Traceback (most recent call last):
    ...
    turingrnn.errors.UnknownCellError: unknown cell 'rnn'; the cells are: elman_tanh, elman_relu, lstm, gru
    """
    try:
        cls = CELLS[cell]
    except (KeyError, TypeError):
        raise UnknownCellError(f"unknown cell {cell!r}; the cells are: {', '.join(CELLS)}") from None
    return cls(input_size, hidden_size, output_size, seed=seed, dtype=dtype)
