"""A memoryless baseline: the time-delay window model (TDNN), one hidden layer over the last ``k`` inputs.

This is the lectures' answer to "is memory needed?". At step ``t`` the model
sees only the window ``[x_t, x_{t-1}, ..., x_{t-k+1}]`` (zeros before the
start) and computes

    features_t = act(W_ih [x_t; x_{t-1}; ...; x_{t-k+1}] + b_ih)

with ``act`` tanh or ReLU and ``H`` hidden units; a readout turns the
features into logits as for every other core (:class:`~turingrnn.learning.cells.SequenceModel`).
There is no recurrence: whatever the target depends on more than ``k`` steps
back is out of its reach, however it is trained. A task that a TDNN with a
large window solves needs no memory beyond that window; a task it fails at
every window needs a recurrent state.

Parameters, with ``I`` inputs and window ``k``: ``weight_ih`` ``(H, k I)``,
whose column block ``j`` (columns ``j I .. (j + 1) I - 1``) multiplies
``x_{t-j}``, and ``bias_ih`` ``(H,)``, both uniform on ``±1/sqrt(k I)`` as
``nn.Linear(k I, H)`` initialises. The **state** is the last ``k - 1``
inputs, newest first, ``(k - 1, I)`` per sequence (zero at the start): it is
what the next window needs, so running in two pieces with the carried state
equals one run, and truncated BPTT works as for a recurrent core (no
gradient flows into the carried inputs).

Stacking (``layers > 1``) gives Waibel et al.'s multi-layer TDNN: each layer
is a causal window over the features of the layer below, so ``L`` layers see
``L (k - 1) + 1`` steps back, still a finite horizon.

>>> from turingrnn.learning.models import make_model
>>> model = make_model("tdnn", input_size=2, hidden_size=3, output_size=2, window=4)
>>> model.params["weight_ih"].shape, model.initial_state(5)[0].shape
((3, 8), (5, 3, 2))
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import TrainingConfigError
from .cells import Core, State, outer_sum, uniform


class TimeDelayCore(Core):
    """``features_t = act(W_ih [x_t; ...; x_{t-k+1}] + b_ih)``: a window of the last ``k`` inputs, no recurrence.

    Args:
        input_size: ``I``.
        hidden_size: ``H``, the hidden units (the feature width).
        window: ``k``, how many inputs each step sees (the current one included).
        nonlinearity: ``"tanh"`` or ``"relu"``.
        dtype: float64 or float32.
    """

    name = "tdnn"
    state_names = ("window",)
    NONLINEARITIES: ClassVar[tuple[str, ...]] = ("tanh", "relu")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        window: int = 8,
        nonlinearity: str = "tanh",
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(input_size, hidden_size, dtype=dtype)
        if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
            raise TrainingConfigError(f"window must be a positive int (the steps each output sees), got {window!r}")
        if nonlinearity not in self.NONLINEARITIES:
            raise TrainingConfigError(
                f"nonlinearity must be one of {', '.join(self.NONLINEARITIES)}, got {nonlinearity!r}"
            )
        self.window = int(window)
        self.nonlinearity = nonlinearity

    @property
    def param_names(self) -> tuple[str, ...]:
        """``weight_ih`` and ``bias_ih``."""
        return ("weight_ih", "bias_ih")

    def options(self) -> dict[str, Any]:
        """``window`` and ``nonlinearity``."""
        return {"window": self.window, "nonlinearity": self.nonlinearity}

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        """The last ``k - 1`` inputs, newest first: ``(k - 1, I)``."""
        return ((self.window - 1, self.input_size),)

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Uniform on ``±1/sqrt(k I)``, as ``nn.Linear(k I, H)``."""
        fan_in = self.window * self.input_size
        bound = 1.0 / np.sqrt(fan_in)
        return {
            "weight_ih": uniform(rng, bound, (self.hidden_size, fan_in), self.dtype),
            "bias_ih": uniform(rng, bound, (self.hidden_size,), self.dtype),
        }

    def windows(self, xt: np.ndarray, start: np.ndarray) -> np.ndarray:
        """The window at every step, ``(T, B, k, I)``: ``[t, :, j]`` is ``x_{t-j}`` (from ``start`` before step 0)."""
        k, steps = self.window, xt.shape[0]
        past = np.moveaxis(start[:, ::-1], 1, 0)  # (k - 1, B, I), oldest first
        padded = np.concatenate([past, xt], axis=0)
        return np.stack([padded[k - 1 - j : k - 1 - j + steps] for j in range(k)], axis=2)

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """One matrix product over all windows at once (no loop over time)."""
        steps, batch, _ = xt.shape
        win = self.windows(xt, start[0])
        flat = win.reshape(steps, batch, -1)
        pre = flat @ params["weight_ih"].T + params["bias_ih"]
        features = np.maximum(pre, 0) if self.nonlinearity == "relu" else np.tanh(pre)
        return features, {"window": win[:, :, : self.window - 1], "flat": flat, "features": features}

    def backward(
        self, params: dict[str, np.ndarray], cache: dict, dfeatures: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """``dW_ih = sum dpre window^T``, ``db_ih = sum dpre``; ``dx_t`` sums the ``k`` windows ``x_t`` is in."""
        fs, flat = cache["features"], cache["flat"]
        slope = (fs > 0).astype(self.dtype) if self.nonlinearity == "relu" else 1 - fs * fs
        dpre = dfeatures * slope
        grads = {"weight_ih": outer_sum(dpre, flat), "bias_ih": dpre.sum(axis=(0, 1))}
        steps, batch, _ = dpre.shape
        dwin = (dpre @ params["weight_ih"]).reshape(steps, batch, self.window, self.input_size)
        dx = np.zeros((steps, batch, self.input_size), dtype=self.dtype)
        for j in range(min(self.window, steps)):  # x_t is place j of the window at step t + j
            dx[: steps - j] += dwin[j:, :, j]
        return grads, dx

    def torch_forward(self, params: dict[str, Any], xt: Any, start: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """The same windows and layer in torch ops; autograd gives :meth:`backward`."""
        import torch

        k, (steps, batch, _) = self.window, xt.shape
        padded = torch.cat([start[0].flip(1).transpose(0, 1), xt], dim=0)
        win = torch.stack([padded[k - 1 - j : k - 1 - j + steps] for j in range(k)], dim=2)
        pre = win.reshape(steps, batch, -1) @ params["weight_ih"].T + params["bias_ih"]
        features = torch.relu(pre) if self.nonlinearity == "relu" else torch.tanh(pre)
        final = win[-1, :, : k - 1] if steps else start[0]
        return features, (final,)
