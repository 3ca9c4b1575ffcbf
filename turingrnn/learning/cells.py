"""Trained recurrent models in numpy: a recurrent core, a readout and a masked cross-entropy, trained by BPTT.

These are the learned baselines the compiled networks are compared with. A
model (:class:`SequenceModel`) is a **core** (:class:`Core`: one recurrent
layer, a stack of them, or a memory-augmented network) that maps an input
sequence to a feature sequence, then a readout to output logits, then a
softmax cross-entropy taken only where a mask is true. Arrays are
batch-first, ``(batch, time, features)``; parameters are float64 by default
(float32 allowed).

This module holds the three classic cells; the base classes are in
:mod:`.cores` and the model (core, readout, loss) in :mod:`.sequence_model`,
and every name is also importable from here. The weights
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

from typing import Any, ClassVar

import numpy as np

from ..errors import TrainingConfigError
from .cores import (
    PARAMETER_NAMES,
    Core,
    GatedCore,
    State,
    check_dtype,
    check_size,
    outer_sum,
    sigmoid,
    uniform,
)
from .sequence_model import (
    READOUTS,
    LossAndGradients,
    RecurrentModel,
    SequenceModel,
    log_softmax,
    masked_cross_entropy,
)

__all__ = [
    "PARAMETER_NAMES",
    "READOUTS",
    "Core",
    "ElmanCore",
    "GRUCore",
    "GatedCore",
    "LSTMCore",
    "LossAndGradients",
    "RecurrentModel",
    "SequenceModel",
    "State",
    "check_dtype",
    "check_size",
    "log_softmax",
    "masked_cross_entropy",
    "outer_sum",
    "sigmoid",
    "uniform",
]


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
