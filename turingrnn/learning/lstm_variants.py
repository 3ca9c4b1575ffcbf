"""Two LSTM variants in numpy: peephole connections and the coupled input-forget gate.

Both keep :class:`~turingrnn.learning.cells.LSTMCore`'s state ``(h, c)``, its four
PyTorch-layout parameters (``weight_ih`` ``(G H, I)``, ``weight_hh``
``(G H, H)``, ``bias_ih`` and ``bias_hh`` ``(G H,)``) and its loops over the
steps; each writes only what one step does differently (the gates, the cell
update and their derivatives). With ``z = W_ih x + b_ih + W_hh h + b_hh``
split by gates, ``c`` the cell before the step and ``c'`` after it:

- **Peephole LSTM** (``peephole_lstm``, Gers & Schmidhuber 2000), gates
  ``i|f|g|o`` and three diagonal peephole weights ``weight_ci``,
  ``weight_cf``, ``weight_co`` ``(H,)``::

      i = sigma(z_i + w_ci * c)      f = sigma(z_f + w_cf * c)      g = tanh(z_g)
      c' = f * c + i * g
      o = sigma(z_o + w_co * c')     h' = o * tanh(c')

  The input and forget gates look at the cell before the step, the output
  gate at the cell after it (Gers, Schraudolph & Schmidhuber 2002, the
  "vanilla" LSTM of Greff et al. 2016). With the peepholes at zero it is
  exactly :class:`~turingrnn.learning.cells.LSTMCore`.
- **CIFG** (``cifg_lstm``, "coupled input and forget gate", Greff et al.
  2016, "LSTM: A Search Space Odyssey"), gates ``f|g|o`` (``G = 3``), no
  input gate of its own::

      f = sigma(z_f)      g = tanh(z_g)      o = sigma(z_o)
      c' = f * c + (1 - f) * g      h' = o * tanh(c')

  Greff et al. keep the input gate and set ``f = 1 - i``; since
  ``1 - sigma(z) = sigma(-z)`` the two are the same model with the gate's
  weights negated. This one is without peepholes (Greff et al.'s variants
  all have them); it equals an LSTM whose input-gate weights are minus its
  forget-gate weights.

Both take ``forget_bias`` (added to the forget slice of ``bias_hh`` at
initialisation, as for the LSTM) and have a :meth:`torch_forward` for the
torch backend.

>>> from turingrnn.learning.models import make_model
>>> model = make_model("peephole_lstm", 3, 4, 2)
>>> [(k, v.shape) for k, v in model.params.items() if k.startswith("weight_c")]
[('weight_ci', (4,)), ('weight_cf', (4,)), ('weight_co', (4,))]
>>> make_model("cifg_lstm", 3, 4, 2, forget_bias=1.0).params["weight_hh"].shape
(12, 4)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .cells import PARAMETER_NAMES, LSTMCore, sigmoid, uniform

PEEPHOLE_NAMES = ("weight_ci", "weight_cf", "weight_co")
"""The peephole weights: ``c`` into the input and forget gates, ``c'`` into the output gate."""


class _TorchLSTMLoop:
    """The torch version of :class:`~turingrnn.learning.cells.LSTMCore`'s loop; a variant gives :meth:`_torch_cell`."""

    hidden_size: int

    def torch_forward(self, params: dict[str, Any], xt: Any, start: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """The same recursion in torch ops: features ``(T, B, H)`` and the final ``(h, c)``."""
        import torch

        a = xt @ params["weight_ih"].T + params["bias_ih"]
        h, c = start
        hs = []
        for t in range(xt.shape[0]):
            c, o = self._torch_cell(params, a[t] + h @ params["weight_hh"].T + params["bias_hh"], c)
            h = o * torch.tanh(c)
            hs.append(h)
        features = torch.stack(hs) if hs else h.new_zeros((0,) + tuple(h.shape))
        return features, (h, c)

    def _torch_cell(self, params: dict[str, Any], z: Any, c: Any) -> tuple[Any, Any]:
        """One step in torch: the new cell and the output gate."""
        raise NotImplementedError


class PeepholeLSTMCore(_TorchLSTMLoop, LSTMCore):
    """An LSTM whose gates also read the cell through diagonal peephole weights (Gers & Schmidhuber 2000).

    Parameters: :class:`~turingrnn.learning.cells.LSTMCore`'s four (gates ``i|f|g|o``)
    and ``weight_ci``, ``weight_cf``, ``weight_co`` ``(H,)``, every one
    uniform on ``±1/sqrt(H)`` at initialisation.

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        forget_bias: Added to the forget gate's ``bias_hh`` at initialisation.
        dtype: float64 or float32.
    """

    name = "peephole_lstm"

    @property
    def param_names(self) -> tuple[str, ...]:
        """The LSTM's four, then ``weight_ci``, ``weight_cf``, ``weight_co``."""
        return PARAMETER_NAMES[:4] + PEEPHOLE_NAMES

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The LSTM's initialisation, then the peepholes, uniform on ``±1/sqrt(H)`` like the rest."""
        params = super().init_params(rng)
        bound = 1.0 / np.sqrt(self.hidden_size)
        for name in PEEPHOLE_NAMES:
            params[name] = uniform(rng, bound, (self.hidden_size,), self.dtype)
        return params

    def _cell_forward(
        self, params: dict[str, np.ndarray], z: np.ndarray, c: np.ndarray, gate: np.ndarray
    ) -> np.ndarray:
        n = self.hidden_size
        z[:, :n] += params["weight_ci"] * c
        z[:, n : 2 * n] += params["weight_cf"] * c
        c_new = super()._cell_forward(params, z, c, gate)
        gate[:, 3 * n :] = sigmoid(z[:, 3 * n :] + params["weight_co"] * c_new)
        return c_new

    def _cell_backward(
        self, params: dict[str, np.ndarray], gate: np.ndarray, c_prev: np.ndarray, dc: np.ndarray, d: np.ndarray
    ) -> np.ndarray:
        n = self.hidden_size
        dc = dc + d[:, 3 * n :] * params["weight_co"]  # the output gate reads c'
        dc_prev = super()._cell_backward(params, gate, c_prev, dc, d)
        return dc_prev + d[:, :n] * params["weight_ci"] + d[:, n : 2 * n] * params["weight_cf"]

    def _weight_gradients(
        self, params: dict[str, np.ndarray], cache: dict, da: np.ndarray, du: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The LSTM's four sums, and ``dw_ci = sum dz_i c``, ``dw_cf = sum dz_f c``, ``dw_co = sum dz_o c'``."""
        n, dz = self.hidden_size, du
        grads, dx = super()._weight_gradients(params, cache, da, du)
        cs = cache["c"]
        c_prev = np.concatenate([cache["c0"][None], cs[:-1]], axis=0)
        grads["weight_ci"] = (dz[..., :n] * c_prev).sum(axis=(0, 1))
        grads["weight_cf"] = (dz[..., n : 2 * n] * c_prev).sum(axis=(0, 1))
        grads["weight_co"] = (dz[..., 3 * n :] * cs).sum(axis=(0, 1))
        return grads, dx

    def _torch_cell(self, params: dict[str, Any], z: Any, c: Any) -> tuple[Any, Any]:
        import torch

        n = self.hidden_size
        i = torch.sigmoid(z[:, :n] + params["weight_ci"] * c)
        f = torch.sigmoid(z[:, n : 2 * n] + params["weight_cf"] * c)
        c_new = f * c + i * torch.tanh(z[:, 2 * n : 3 * n])
        return c_new, torch.sigmoid(z[:, 3 * n :] + params["weight_co"] * c_new)


class CIFGCore(_TorchLSTMLoop, LSTMCore):
    """An LSTM with coupled input and forget gates, ``i = 1 - f`` (Greff et al. 2016): gates ``f|g|o``.

    Parameters: ``weight_ih`` ``(3 H, I)``, ``weight_hh`` ``(3 H, H)``,
    ``bias_ih`` and ``bias_hh`` ``(3 H,)``, the gates stacked ``f|g|o``.

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        forget_bias: Added to the forget gate's ``bias_hh`` at initialisation.
        dtype: float64 or float32.
    """

    name = "cifg_lstm"
    gates = 3
    forget_gate = 0

    def _cell_forward(
        self, params: dict[str, np.ndarray], z: np.ndarray, c: np.ndarray, gate: np.ndarray
    ) -> np.ndarray:
        n = self.hidden_size
        gate[:, :n] = sigmoid(z[:, :n])
        gate[:, n : 2 * n] = np.tanh(z[:, n : 2 * n])
        gate[:, 2 * n :] = sigmoid(z[:, 2 * n :])
        f, g = gate[:, :n], gate[:, n : 2 * n]
        return f * c + (1 - f) * g

    def _cell_backward(
        self, params: dict[str, np.ndarray], gate: np.ndarray, c_prev: np.ndarray, dc: np.ndarray, d: np.ndarray
    ) -> np.ndarray:
        n = self.hidden_size
        f, g = gate[:, :n], gate[:, n : 2 * n]
        d[:, :n] = dc * (c_prev - g) * f * (1 - f)
        d[:, n : 2 * n] = dc * (1 - f) * (1 - g * g)
        return dc * f

    def _torch_cell(self, params: dict[str, Any], z: Any, c: Any) -> tuple[Any, Any]:
        import torch

        n = self.hidden_size
        f = torch.sigmoid(z[:, :n])
        c_new = f * c + (1 - f) * torch.tanh(z[:, n : 2 * n])
        return c_new, torch.sigmoid(z[:, 2 * n :])


def cifg_as_lstm_params(params: dict[str, np.ndarray], hidden_size: int) -> dict[str, np.ndarray]:
    """The parameters of a plain LSTM that computes what a CIFG with ``params`` computes.

    Its input gate gets minus the forget gate's weights and biases, so that
    ``i = sigma(-z_f) = 1 - f``; the other gates are copied.
    """
    n = hidden_size
    out = {}
    for name in PARAMETER_NAMES[:4]:
        p = params[name]
        out[name] = np.concatenate([-p[:n], p[:n], p[n:]], axis=0)
    return out
