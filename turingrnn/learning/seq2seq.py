"""An encoder–decoder (sequence-to-sequence) model for the transduction tasks, trained with teacher forcing.

The model of Sutskever, Vinyals and Le (2014) and Cho et al. (2014), in
numpy. It takes the same batches as every other trained model (one-hot
input symbols, then blank steps, the blank being the last input column;
targets and a mask at the output positions) and emits logits at every step:

- the **encoder** core reads each example's steps before its first blank
  (found per example, so a batch may mix input lengths);
- its final state starts the **decoder** core (separate weights), which runs
  from that blank to the end of the batch; the readout
  ``logits = W_out h + b_out`` (or ``W_out relu(h) + b_out``) reads the
  decoder's ``h``. Steps before the first blank get zero logits and may not
  be masked.
- The decoder's input at its first step is a GO symbol; at each later step it
  is the one-hot of the label at the step before: the target there
  (**teacher forcing**, where a teacher is given and that step is an output
  position), else the decoder's own argmax (**free running**). The decoder's
  input has ``O + 1`` columns: the ``O`` labels, then GO.

``loss_and_grad`` is teacher-forced with the batch's targets and mask, and
``predict``/``forward`` run free unless given ``teacher=targets``. Steps
that are not output positions (``extra`` blank "computation" steps,
padding) are fed the model's own argmax in both modes, so as long as the
model's predictions equal the targets both modes give the same logits.
Gradients flow from the loss through the decoder into its start state and
on into the encoder (:meth:`~turingrnn.learning.cells.Core.backward_with_start`);
none flow through the fed-back argmax, which is piecewise constant.

Parameters: the encoder's core parameters prefixed ``enc_``, the decoder's
prefixed ``dec_`` (``enc_weight_ih`` ``(G H, I)``, ``dec_weight_ih``
``(G H, O + 1)``, and so on, PyTorch's layouts), and the readout
``weight_out`` ``(O, H)``, ``bias_out`` ``(O,)``.

The encoder's final state is handed to the decoder inside one batch, so a
truncated BPTT window cannot start in between: the model trains by full
BPTT only and takes no state.

>>> from turingrnn.learning.models import make_model
>>> model = make_model("encoder_decoder", 3, 4, 2, cell_type="gru", seed=0)
>>> [k for k in model.params if k.endswith("weight_ih")], model.params["dec_weight_ih"].shape
(['enc_weight_ih', 'dec_weight_ih'], (12, 3))
>>> x = np.eye(3)[[[0, 1, 2, 2]]]                  # "01", then two blanks (the last column)
>>> model.predict(x).shape, first_blanks(x).tolist()
((1, 4), [2])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ShapeError, TrainingConfigError
from .cells import (
    Core,
    ElmanCore,
    GRUCore,
    LossAndGradients,
    LSTMCore,
    SequenceModel,
    State,
    check_dtype,
    check_size,
    masked_cross_entropy,
    uniform,
)

CELLS = ("elman_tanh", "elman_relu", "lstm", "gru")
"""The cells an encoder–decoder can be built of (its ``cell_type`` option)."""

PREFIXES = ("enc_", "dec_")
"""The prefixes of the encoder's and the decoder's parameter names."""


def build_core(input_size: int, hidden_size: int, *, cell_type: str = "lstm", dtype: Any = np.float64) -> Core:
    """One core of the cell called ``cell_type`` (one of :data:`CELLS`)."""
    if cell_type not in CELLS:
        raise TrainingConfigError(
            f"the encoder-decoder's cell_type must be one of {', '.join(CELLS)}, got {cell_type!r}"
        )
    if cell_type == "lstm":
        return LSTMCore(input_size, hidden_size, dtype=dtype)
    if cell_type == "gru":
        return GRUCore(input_size, hidden_size, dtype=dtype)
    return ElmanCore(input_size, hidden_size, nonlinearity=cell_type.removeprefix("elman_"), dtype=dtype)


def first_blanks(inputs: np.ndarray) -> np.ndarray:
    """The first step of each example whose input is the blank one-hot (the last column), ``(B,)`` ints.

    Raises:
        ShapeError: an example has no blank step.
    """
    x = np.asarray(inputs)
    blank = (x[..., -1] == 1) & (x[..., :-1] == 0).all(axis=-1)
    missing = np.flatnonzero(~blank.any(axis=1))
    if missing.size:
        raise ShapeError(
            f"example {int(missing[0])} of the batch has no blank step (the one-hot of the last input column, "
            f"{x.shape[-1] - 1}): an encoder-decoder reads the input up to its first blank and decodes from there"
        )
    return blank.argmax(axis=1)


@dataclass(frozen=True)
class DecoderSteps:
    """Where the decoder's steps lie in a batch: step ``j`` of example ``b`` is batch step ``first[b] + j``.

    Attributes:
        first: ``(B,)`` each example's first blank step.
        steps: ``(D, B)`` the batch step of each decoder step (clipped to the
            last), ``D = T - min(first)``.
        valid: ``(D, B)`` whether that step is inside the batch.
    """

    first: np.ndarray
    steps: np.ndarray
    valid: np.ndarray

    @classmethod
    def of(cls, first: np.ndarray, length: int) -> DecoderSteps:
        """The layout for boundaries ``first`` in a batch of ``length`` steps."""
        steps = first[None, :] + np.arange(length - int(first.min()))[:, None]
        return cls(first=first, steps=np.minimum(steps, length - 1), valid=steps < length)

    def gather(self, a: np.ndarray) -> np.ndarray:
        """``a`` ``(B, T, ...)`` at the decoder's steps, ``(D, B, ...)``, zero (or false) outside the batch."""
        picked = a[np.arange(a.shape[0])[None, :], self.steps]
        return np.where(self.valid.reshape(self.valid.shape + (1,) * (picked.ndim - 2)), picked, 0)

    def scatter(self, a: np.ndarray, length: int) -> np.ndarray:
        """``a`` ``(D, B, ...)`` put back at its batch steps, ``(B, length, ...)``, zero before each boundary."""
        out = np.zeros((a.shape[1], length) + a.shape[2:], dtype=a.dtype)
        rows = np.broadcast_to(np.arange(a.shape[1]), self.valid.shape)
        out[rows[self.valid], self.steps[self.valid]] = a[self.valid]
        return out


class EncoderDecoder(SequenceModel):
    """An encoder core, a decoder core started from its final state, a readout and the masked loss.

    Build one with ``make_model("encoder_decoder", I, H, O, cell_type=...)``.

    Args:
        input_size: ``I``, the input symbols and the blank (the last column).
        hidden_size: ``H``, of both cores.
        output_size: ``O``, the output classes.
        cell_type: One of :data:`CELLS`, for both cores.
        seed: An int seed or a ``Generator``: the encoder's weights, then the
            decoder's, then the readout's (uniform on ``±1/sqrt(H)``).
        dtype: float64 or float32.
        readout: ``"linear"`` or ``"relu"``.
        name: The registry name.
        config: The :func:`~turingrnn.learning.models.make_model` arguments (for checkpoints).
    """

    carries_state = False
    """Full BPTT only: the decoder starts from the encoder's final state within the batch."""
    teacher_forced = True
    """Trained with teacher forcing; :meth:`predict` takes ``teacher=targets`` to score that way too."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        cell_type: str = "lstm",
        seed: int | np.random.Generator = 0,
        dtype: Any = np.float64,
        readout: str = "linear",
        name: str = "encoder_decoder",
        config: dict[str, Any] | None = None,
    ) -> None:
        out = check_size("output_size", output_size)
        self.cell_type = cell_type
        self.encoder = build_core(input_size, hidden_size, cell_type=cell_type, dtype=check_dtype(dtype))
        self.decoder = build_core(out + 1, hidden_size, cell_type=cell_type, dtype=self.encoder.dtype)
        self.decoder.carries_state = False  # type: ignore[misc]  # no truncated BPTT window may start in it
        # The base class checks the readout and sets the names; the weights are drawn again below.
        super().__init__(self.decoder, out, seed=np.random.default_rng(0), readout=readout, name=name, config=config)
        self.input_size = self.encoder.input_size
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        params: dict[str, np.ndarray] = {}
        for prefix, core in zip(PREFIXES, (self.encoder, self.decoder), strict=True):
            params.update({prefix + k: v for k, v in core.init_params(rng).items()})
        bound = 1.0 / np.sqrt(self.decoder.features)
        params["weight_out"] = uniform(rng, bound, (out, self.decoder.features), self.dtype)
        params["bias_out"] = uniform(rng, bound, (out,), self.dtype)
        self.params = params

    def __repr__(self) -> str:
        extra = f", readout={self.readout!r}" if self.readout != "linear" else ""
        return (
            f"EncoderDecoder(cell_type={self.cell_type!r}, input_size={self.input_size}, "
            f"hidden_size={self.hidden_size}, output_size={self.output_size}{extra}, dtype={self.dtype.name})"
        )

    @property
    def go(self) -> int:
        """The decoder's input column of the GO symbol (after the ``O`` labels)."""
        return self.output_size

    # --- validation -------------------------------------------------------------

    def _refuse_state(self, state: State | None) -> None:
        if state is not None:
            raise TrainingConfigError(
                f"the {self.name} model starts every batch from the zero state and takes no state (got "
                f"{len(state)} array(s)): truncated BPTT cannot cut between its encoder and decoder, so train it "
                "with full BPTT (k1=None)"
            )

    def _validated(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, ...]:
        x = self._check_inputs(inputs)
        y, m = self._check_targets(targets, mask, x.shape[:2])
        first = first_blanks(x)
        early = m & (np.arange(x.shape[1])[None, :] < first[:, None])
        if early.any():
            b, t = (int(i) for i in np.argwhere(early)[0])
            raise ShapeError(
                f"the mask selects step {t} of example {b}, before its first blank step {int(first[b])}: an "
                "encoder-decoder emits outputs only from the first blank on"
            )
        return x, y, m, first

    def check_batch(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, ...]:
        """Validate a batch: shapes and targets, a blank step in every example, no masked step before it.

        Raises:
            ShapeError: naming the offending shape, value, example or step.
        """
        x, _, m, _ = self._validated(inputs, targets, mask)
        return x, np.asarray(targets), m

    # --- the two cores ----------------------------------------------------------

    def _part(self, params: dict[str, Any], prefix: str) -> dict[str, Any]:
        core = self.encoder if prefix == PREFIXES[0] else self.decoder
        return {k: params[prefix + k] for k in core.param_names}

    def _encode(self, params: dict[str, np.ndarray], x: np.ndarray, first: np.ndarray) -> tuple[State, list]:
        """The encoder's final state for every example, and ``(rows, steps, cache)`` for each boundary but 0."""
        p = self._part(params, PREFIXES[0])
        final = [np.zeros((x.shape[0],) + s, dtype=self.dtype) for s in self.encoder.state_shapes()]
        runs = []
        for f in np.unique(first[first > 0]):
            rows = np.flatnonzero(first == f)
            start = tuple(s[rows] for s in final)
            _, cache = self.encoder.forward(p, np.ascontiguousarray(x[rows, :f].transpose(1, 0, 2)), start)
            for k, s in enumerate(self.encoder.final_state(cache, start)):
                final[k][rows] = s
            runs.append((rows, int(f), cache))
        return tuple(final), runs

    def _feedback(
        self, layout: DecoderSteps, teacher: np.ndarray | None, known: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The labels fed at each decoder step ``(D, B)`` (GO first), and where the decoder feeds its own argmax."""
        valid = layout.valid
        ids = np.full(valid.shape, self.go)
        free = np.zeros(valid.shape, dtype=bool)
        taught = np.zeros(valid.shape, dtype=bool) if known is None else layout.gather(known).astype(bool)
        if teacher is not None:
            ids[1:] = np.where(taught[:-1], layout.gather(teacher)[:-1], self.go)
        free[1:] = valid[1:] & ~taught[:-1]
        return ids, free

    def _one_hot(self, ids: np.ndarray) -> np.ndarray:
        return np.eye(self.output_size + 1, dtype=self.dtype)[ids]

    def _decode(
        self, params: dict[str, np.ndarray], start: State, ids: np.ndarray, free: np.ndarray, *, keep_cache: bool
    ) -> tuple[np.ndarray, State, dict | None, np.ndarray]:
        """Run the decoder, filling the free steps' labels with its previous argmax.

        Returns its features ``(D, B, H)``, its state after every step, its
        cache (when ``keep_cache`` or nothing is free, else ``None``) and the
        labels it was fed.
        """
        p = self._part(params, PREFIXES[1])
        if free.any():
            ids = ids.copy()
            state, feats, states = start, [], []
            for j in range(ids.shape[0]):
                fs, cache = self.decoder.forward(p, self._one_hot(ids[j : j + 1]), state)
                state = self.decoder.final_state(cache, state)
                feats.append(fs[0])
                states.append(state)
                if j + 1 < ids.shape[0]:
                    ids[j + 1] = np.where(free[j + 1], self._readout(fs[0], params).argmax(axis=-1), ids[j + 1])
            if not keep_cache:
                return np.stack(feats), tuple(np.stack(s) for s in zip(*states, strict=True)), None, ids
        fs, cache = self.decoder.forward(p, self._one_hot(ids), start)
        return fs, tuple(cache[k] for k in self.decoder.state_names), cache, ids

    @staticmethod
    def _last(states: State, layout: DecoderSteps, length: int) -> State:
        last = length - 1 - layout.first
        return tuple(s[last, np.arange(last.size)] for s in states)

    # --- running ----------------------------------------------------------------

    def run(
        self,
        inputs: np.ndarray,
        state: State | None = None,
        *,
        teacher: np.ndarray | None = None,
        mask: np.ndarray | None = None,
    ) -> tuple[np.ndarray, State]:
        """Logits ``(B, T, O)`` and the decoder's state after each example's last step.

        Args:
            inputs: ``(B, T, I)``, every example with a blank step after its input.
            state: Must be ``None`` (the model starts from zero).
            teacher: ``None`` to run free, or targets ``(B, T)`` to feed
                (teacher forcing) at the steps after ``mask``'s positions.
            mask: Where ``teacher`` holds labels (default: everywhere).
        """
        self._refuse_state(state)
        x = self._check_inputs(inputs)
        known = None
        if teacher is not None:
            where = np.ones(x.shape[:2], dtype=bool) if mask is None else mask
            teacher, known = self._check_targets(teacher, where, x.shape[:2])
        first = first_blanks(x)
        layout = DecoderSteps.of(first, x.shape[1])
        ids, free = self._feedback(layout, teacher, known)
        start, _ = self._encode(self.params, x, first)
        fs, states, _, _ = self._decode(self.params, start, ids, free, keep_cache=False)
        return layout.scatter(self._readout(fs), x.shape[1]), self._last(states, layout, x.shape[1])

    def forward(self, inputs: np.ndarray, state: State | None = None, **teaching: Any) -> np.ndarray:
        """Logits ``(B, T, O)``: free-running, or teacher-forced with ``teacher=targets`` (see :meth:`run`)."""
        return self.run(inputs, state, **teaching)[0]

    def predict(self, inputs: np.ndarray, state: State | None = None, **teaching: Any) -> np.ndarray:
        """The argmax class at every step ``(B, T)``: free-running, or teacher-forced with ``teacher=targets``."""
        return self.run(inputs, state, **teaching)[0].argmax(axis=-1)

    def loss_and_grad(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray,
        state: State | None = None,
        *,
        keep_states: bool = False,
    ) -> LossAndGradients:
        """The teacher-forced masked mean cross-entropy and its gradient for every parameter.

        Args:
            inputs: ``(B, T, I)`` one-hot steps, a blank after each input.
            targets: ``(B, T)`` class indices, read (and fed back) at the masked steps.
            mask: ``(B, T)`` the output positions, none before an example's first blank.
            state: Must be ``None``: a given state means a truncated BPTT window.
            keep_states: Accepted for the training loop; ``states`` is ``None``
                (there is no single state sequence to cut).
        """
        self._refuse_state(state)
        x, y, m, first = self._validated(inputs, targets, mask)
        p = self.params
        layout = DecoderSteps.of(first, x.shape[1])
        ids, free = self._feedback(layout, y, m)
        start, runs = self._encode(p, x, first)
        fs, states, cache, _ = self._decode(p, start, ids, free, keep_cache=True)
        assert cache is not None  # keep_cache: always one
        logits = self._readout(fs, p)  # (D, B, O)
        loss, count, correct, dlogits = masked_cross_entropy(logits, layout.gather(y), layout.gather(m).astype(bool))
        dfs, grads = self._readout_backward(fs, dlogits)
        dec, _, dstart = self.decoder.backward_with_start(self._part(p, PREFIXES[1]), cache, dfs)
        grads.update({PREFIXES[1] + k: v for k, v in dec.items()})
        enc_params = self._part(p, PREFIXES[0])
        grads.update({PREFIXES[0] + k: np.zeros_like(v) for k, v in enc_params.items()})
        for rows, steps, run in runs:
            zero = np.zeros((steps, rows.size, self.encoder.features), dtype=self.dtype)
            enc, _, _ = self.encoder.backward_with_start(enc_params, run, zero, tuple(d[rows] for d in dstart))
            for k, v in enc.items():
                grads[PREFIXES[0] + k] += v
        return LossAndGradients(
            loss=loss,
            count=count,
            correct=correct,
            grads={k: grads[k].astype(self.dtype, copy=False) for k in p},
            logits=layout.scatter(logits, x.shape[1]),
            final_state=self._last(states, layout, x.shape[1]),
            states=None,
        )

    # --- torch ------------------------------------------------------------------

    def torch_loss(self, params: Any, inputs: Any, targets: Any, mask: Any) -> tuple[Any, int, int]:
        """The teacher-forced loss of :meth:`loss_and_grad` in torch ops, for autograd and the torch backend.

        Args:
            params: A dict of tensors keyed like :attr:`params`, or an object
                holding one as ``.params`` (the torch backend's ``TorchModel``).
            inputs: ``(B, T, I)``, a numpy array or a tensor.
            targets: ``(B, T)`` ints, likewise.
            mask: ``(B, T)`` bools, likewise.

        Returns:
            ``(loss, count, correct)``: the mean cross-entropy over the masked
            steps as a 0-d tensor (``loss.backward()`` gives the gradients of
            :meth:`loss_and_grad`, tested to 1e-10 in float64), how many steps
            are masked, and how many of them the argmax gets right. The labels
            fed back at free steps are computed from the tensors' current
            values (no gradient flows through them).
        """
        from .torch_backend import core_forward, require_torch

        torch = require_torch()
        tensors = getattr(params, "params", params)
        x, y, m, first = self._validated(*(_as_array(a) for a in (inputs, targets, mask)))
        layout = DecoderSteps.of(first, x.shape[1])
        ids, free = self._feedback(layout, y, m)
        if free.any():
            values = {k: v.detach().cpu().numpy().astype(self.dtype) for k, v in tensors.items()}
            _, _, _, ids = self._decode(values, self._encode(values, x, first)[0], ids, free, keep_cache=False)
        ref = tensors["weight_out"]

        def tensor(a: np.ndarray) -> Any:
            return torch.as_tensor(a, device=ref.device, dtype=ref.dtype if a.dtype.kind == "f" else None)

        penc, pdec = self._part(tensors, PREFIXES[0]), self._part(tensors, PREFIXES[1])
        zeros = tuple(tensor(s) for s in self.initial_state(x.shape[0]))
        order = [np.flatnonzero(first == 0)]
        finals = [tuple(z[tensor(order[0])] for z in zeros)]  # an empty input: the zero state
        for f in np.unique(first[first > 0]):
            rows = np.flatnonzero(first == f)
            xt = tensor(np.ascontiguousarray(x[rows, :f].transpose(1, 0, 2)))
            finals.append(core_forward(self.encoder, penc, xt, tuple(z[tensor(rows)] for z in zeros))[1])
            order.append(rows)
        back = tensor(np.argsort(np.concatenate(order)))
        start = tuple(torch.cat(parts)[back] for parts in zip(*finals, strict=True))
        fs, _ = core_forward(self.decoder, pdec, tensor(self._one_hot(ids)), start)
        read = torch.relu(fs) if self.readout == "relu" else fs
        logits = read @ tensors["weight_out"].T + tensors["bias_out"]
        keep = tensor(layout.gather(m).astype(bool))
        labels = tensor(layout.gather(y))
        count = int(keep.sum())
        loss = torch.nn.functional.cross_entropy(logits[keep], labels[keep], reduction="sum") / max(count, 1)
        correct = int((logits[keep].argmax(-1) == labels[keep]).sum()) if count else 0
        return loss, count, correct


def _as_array(a: Any) -> np.ndarray:
    """A numpy array from a numpy array or a torch tensor."""
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)
