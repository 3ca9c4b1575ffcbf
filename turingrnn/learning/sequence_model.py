"""A trained model: a recurrent core, a readout and a masked softmax cross-entropy, with its gradient by BPTT.

:class:`SequenceModel` wraps any :class:`~.cores.Core` (build one by name with
:func:`~turingrnn.learning.models.make_model`); :meth:`SequenceModel.loss_and_grad`
returns a :class:`LossAndGradients`. The readout is ``W_out h + b_out`` or
``W_out relu(h) + b_out`` (:data:`READOUTS`); the loss is taken only where a
mask is true (:func:`masked_cross_entropy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ShapeError, TrainingConfigError
from .cores import Core, State, check_size, outer_sum, uniform

READOUTS = ("linear", "relu")
"""``linear``: ``W_out h + b_out``; ``relu``: ``W_out relu(h) + b_out`` (Delétang et al.)."""


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
