"""Memory-augmented baselines of Delétang et al. (ICLR 2023) in numpy: the Stack-RNN and the Tape-RNN.

Both are a controller cell (an Elman ReLU layer by default, as Haiku's
``VanillaRNN`` in Delétang et al.'s code; or any cell of :mod:`turingrnn.learning.cells`)
beside ``K`` differentiable memories of ``n`` cells of ``c`` floats, held as
one array ``M`` ``(B, K, n, c)``. Cell 0 of each memory is what the
controller reads: the top of a stack, the cell under a tape's head. One step,
from ``(h, M)``::

    r  = [M[k, 0] for k < K]                     (B, K c)   the reads
    h' = controller([x, r], h)                              (the features)
    v  = value(h')                               (B, K, c)  push or write value
    p  = softmax_a(W_action h' + b_action)       (B, K, A)  per memory
    M' = sum_a p[a] C_a(M, v)                               the candidates C_a

:class:`StackRNNCore` (Joulin and Mikolov 2015, as Delétang et al. use it)
has ``A = 3`` candidates, ``push``: ``[v, M[0], ..., M[n-2]]``, ``pop``:
``[M[1], ..., M[n-1], 0]`` and ``no_op``: ``M``; ``value`` is linear.
:class:`TapeRNNCore` writes ``v`` into cell 0, ``W = [v, M[1], ..., M[n-1]]``,
then moves: candidate ``a`` is ``W`` rolled circularly by ``s_a``,
``C_a[m] = W[(m - s_a) mod n]``, with shifts ``stay 0, left -1, right +1,
jump_left -L, jump_right +L`` (``L`` the input length; the jumps are an
option); ``value`` is an MLP with ReLU hidden layers. After ``left`` the head
reads what was cell 1.

The memories are part of the state (``("h", "stack")``, ``("h", "c",
"stack")`` for an LSTM controller, ``("h", "tape", "length")`` with jumps), so
truncated BPTT and split runs carry them. The backward pass is explicit BPTT
through the mixing, the softmax, the value head and the controller. The same
step code (:meth:`MemoryCore._run`) runs on numpy arrays and on torch tensors
(:meth:`MemoryCore.torch_forward`), so autograd checks the numpy backward.

>>> from turingrnn.learning.models import make_model
>>> model = make_model("stack_rnn", 3, 4, 2, stack_size=5, stack_cell_size=2)
>>> [s.shape for s in model.initial_state(2)]
[(2, 4), (2, 1, 5, 2)]
>>> model.forward(np.eye(3)[[[0, 1, 2]]]).shape
(1, 3, 2)
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import TrainingConfigError
from .cells import Core, State, outer_sum, uniform
from .controller import (
    NUMPY,
    build_controller,
    controller_step,
    controller_step_backward,
    to_numpy,
    torch_ops,
)

STACK_ACTIONS = ("push", "pop", "no_op")
"""The Stack-RNN's actions, in the order of ``weight_action``'s rows (Delétang et al.'s order)."""
TAPE_ACTIONS = ("stay", "left", "right", "jump_left", "jump_right")
"""The Tape-RNN's actions, in the order of ``weight_action``'s rows; the jumps only with ``jumps=True``."""


def _check_int(label: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise TrainingConfigError(f"{label} must be an int >= {low}, got {value!r}")
    return int(value)


# ---------------------------------------------------------------- the shared core


class MemoryCore(Core):
    """A controller cell with ``K`` differentiable memories read at cell 0 (the shared part of both models).

    Subclasses set :attr:`memory` (the state name), :attr:`value_name` (of the
    value head's parameters) and :attr:`SIZE_OPTIONS`, take their options as
    keyword-only arguments (:attr:`DEFAULTS`), and write :meth:`_candidates` and
    :meth:`_candidates_backward`.

    Args:
        input_size: ``I``.
        hidden_size: ``H``, the controller's width (the features).
        options: The subclass's options: ``controller`` names the cell
            (:data:`~turingrnn.learning.controller.CONTROLLERS`); the three
            :attr:`SIZE_OPTIONS` are ``K``, ``n`` and ``c``.
        value_sizes: The hidden widths of the value MLP (empty: linear).
        actions: The action names, ``A`` of them.
        dtype: float64 or float32.
    """

    memory: ClassVar[str]
    value_name: ClassVar[str]
    DEFAULTS: ClassVar[dict[str, Any]]
    """The subclass's options and defaults: the keyword-only arguments of its ``__init__`` but ``dtype``."""
    SIZE_OPTIONS: ClassVar[tuple[str, str, str]]
    """The option names of ``K`` (memories), ``n`` (cells each) and ``c`` (floats a cell)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        options: dict[str, Any],
        *,
        value_sizes: Sequence[int],
        actions: tuple[str, ...],
        dtype: Any,
    ) -> None:
        super().__init__(input_size, hidden_size, dtype=dtype)
        for name in self.SIZE_OPTIONS:
            options[name] = _check_int(name, options[name])
        self.kind, self.options_given = options["controller"], options
        self.memories, self.size, self.cell_size = (options[name] for name in self.SIZE_OPTIONS)
        reads = self.memories * self.cell_size
        self.controller = build_controller(self.kind, input_size + reads, hidden_size, dtype)
        self.actions = actions
        sizes = [hidden_size, *value_sizes, reads]
        tags = [f"{self.value_name}_l{j}" for j in range(len(value_sizes) + 1)] if value_sizes else [self.value_name]
        self.value_layers = [(f"weight_{tag}", f"bias_{tag}", sizes[j + 1], sizes[j]) for j, tag in enumerate(tags)]
        self.state_names = (*self.controller.state_names, self.memory)  # type: ignore[misc]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        arguments = inspect.signature(cls.__init__).parameters.values()
        cls.DEFAULTS = {a.name: a.default for a in arguments if a.kind is a.KEYWORD_ONLY and a.name != "dtype"}

    def options(self) -> dict[str, Any]:
        """The options that differ from :attr:`DEFAULTS`."""
        return {k: v for k, v in self.options_given.items() if v != self.DEFAULTS[k]}

    @property
    def param_names(self) -> tuple[str, ...]:
        """The controller's (``weight_ih``, ...), the value head's, then ``weight_action`` and ``bias_action``."""
        value = tuple(name for w, b, _, _ in self.value_layers for name in (w, b))
        return (*self.controller.param_names, *value, "weight_action", "bias_action")

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        """The controller's state, then the memories ``(K, n, c)``."""
        return (*self.controller.state_shapes(), (self.memories, self.size, self.cell_size))

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The controller as its cell initialises; each linear layer uniform on ``±1/sqrt(fan_in)`` (``nn.Linear``)."""
        params = self.controller.init_params(rng)
        layers = [
            *self.value_layers,
            ("weight_action", "bias_action", self.memories * len(self.actions), self.hidden_size),
        ]
        for w, b, out, fan_in in layers:
            bound = 1.0 / np.sqrt(fan_in)
            params[w] = uniform(rng, bound, (out, fan_in), self.dtype)
            params[b] = uniform(rng, bound, (out,), self.dtype)
        return params

    # --- what a subclass supplies ----------------------------------------------------

    def _context(self, ops: Any, xt: Any, start: tuple) -> dict:
        """Per-call constants of the memory update (the tape's shifts), and their state at each step."""
        return {}

    def _candidates(self, ops: Any, mem: Any, values: Any, ctx: dict) -> Any:
        """``C`` ``(B, K, A, n, c)`` from ``M`` ``(B, K, n, c)`` and ``v`` ``(B, K, c)``."""
        raise NotImplementedError

    def _candidates_backward(self, dcand: np.ndarray, ctx: dict) -> tuple[np.ndarray, np.ndarray]:
        """``dL/dM`` (a fresh array) and ``dL/dv`` from ``dL/dC``."""
        raise NotImplementedError

    # --- forward ---------------------------------------------------------------------

    def _run(self, ops: Any, params: dict, xt: Any, start: tuple, record: list | None) -> tuple[list, tuple, dict]:
        """The steps over ``xt`` in ``ops`` (numpy or torch): the features, the final state and the context."""
        steps, batch = xt.shape[0], xt.shape[1]
        i_size, k, c, n_ctrl = self.input_size, self.memories, self.cell_size, len(self.controller.state_names)
        w_ih = params["weight_ih"]
        xa = xt @ w_ih[:, :i_size].T + params["bias_ih"]
        w_read_t, w_hh_t, b_hh = w_ih[:, i_size:].T, params["weight_hh"].T, params["bias_hh"]
        layers = [(params[w], params[b]) for w, b, _, _ in self.value_layers]
        w_act, b_act = params["weight_action"], params["bias_action"]
        state, mem = tuple(start[:n_ctrl]), start[n_ctrl]
        ctx = self._context(ops, xt, start)
        features = []
        for t in range(steps):
            read = mem[:, :, 0, :].reshape(batch, k * c)
            state, saved = controller_step(ops, self.kind, xa[t] + read @ w_read_t, state, w_hh_t, b_hh)
            h = state[0]
            hidden = [h]
            for j, (w, b) in enumerate(layers):
                z = hidden[-1] @ w.T + b
                hidden.append(ops.relu(z) if j < len(layers) - 1 else z)
            values = hidden[-1].reshape(batch, k, c)
            probs = ops.softmax((h @ w_act.T + b_act).reshape(batch, k, len(self.actions)))
            mem = ops.einsum("bka,bkamc->bkmc", probs, self._candidates(ops, mem, values, ctx))
            features.append(h)
            if record is not None:
                record.append(
                    {"read": read, "saved": saved, "state": state, "hidden": hidden, "probs": probs, "mem": mem}
                )
        return features, (*state, mem), ctx

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """Run ``xt`` ``(T, B, I)`` from ``start``; the features are the controller's ``h`` ``(T, B, H)``."""
        record: list[dict] = []
        _, _, ctx = self._run(NUMPY, params, xt, start, record)
        batch = xt.shape[1]

        def stacked(values: list, shape: tuple[int, ...]) -> np.ndarray:
            return np.stack(values) if values else np.empty((0, batch, *shape), dtype=self.dtype)

        shapes = self.state_shapes()
        cache: dict[str, Any] = {"steps": record, "x": xt, "start": start, "ctx": ctx}
        for j, name in enumerate(self.controller.state_names):
            cache[name] = stacked([s["state"][j] for s in record], shapes[j])
        cache[self.memory] = stacked([s["mem"] for s in record], shapes[len(self.controller.state_names)])
        cache.update(ctx.get("states", {}))
        return cache["h"], cache

    def torch_forward(self, params: dict[str, Any], xt: Any, start: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """The same steps in torch ops (autograd gives :meth:`backward`): the features and the final state."""
        import torch

        features, final, ctx = self._run(torch_ops(xt.device), params, xt, start, None)
        if not features:
            return xt.new_zeros((0, xt.shape[1], self.hidden_size)), tuple(start)
        extra = tuple(torch.as_tensor(s[-1], dtype=xt.dtype, device=xt.device) for s in ctx.get("states", {}).values())
        return torch.stack(features), (*final, *extra)

    # --- backward --------------------------------------------------------------------

    def backward(
        self, params: dict[str, np.ndarray], cache: dict, dfeatures: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """BPTT: at each step back through the mixing, the softmax, the value MLP, the controller and the read."""
        grads, dx, _ = self.backward_with_start(params, cache, dfeatures)
        return grads, dx

    def backward_with_start(
        self, params: dict[str, np.ndarray], cache: dict, dfeatures: np.ndarray, dfinal: State | None = None
    ) -> tuple[dict[str, np.ndarray], np.ndarray, State]:
        """:meth:`backward` with ``dL/d(final state)`` added in; also ``dL/d(start state)`` (0 for ``length``)."""
        record, xt, start, ctx = cache["steps"], cache["x"], cache["start"], cache["ctx"]
        steps, batch = xt.shape[:2]
        i_size, k, c, n_ctrl = self.input_size, self.memories, self.cell_size, len(self.controller.state_names)
        w_ih, w_hh, w_act = params["weight_ih"], params["weight_hh"], params["weight_action"]
        gh = w_ih.shape[0]
        da_all = np.zeros((steps, batch, gh), dtype=self.dtype)
        du_all = np.zeros_like(da_all)
        dlogits = np.zeros((steps, batch, w_act.shape[0]), dtype=self.dtype)
        deltas = [np.zeros((steps, batch, out), dtype=self.dtype) for _, _, out, _ in self.value_layers]
        carried = [
            np.zeros((batch, *shape), dtype=self.dtype) if dfinal is None else np.array(d, dtype=self.dtype)
            for shape, d in zip(self.state_shapes(), dfinal or self.state_shapes(), strict=True)
        ]
        dh_next, dc_next, dmem = carried[0], carried[1] if n_ctrl == 2 else None, carried[n_ctrl]
        for t in range(steps - 1, -1, -1):
            s = record[t]
            prev_state = record[t - 1]["state"] if t else tuple(start[:n_ctrl])
            prev_mem = record[t - 1]["mem"] if t else start[n_ctrl]
            probs, hidden = s["probs"], s["hidden"]
            cand = self._candidates(NUMPY, prev_mem, hidden[-1].reshape(batch, k, c), ctx)
            dprobs = np.einsum("bkmc,bkamc->bka", dmem, cand)
            dmem_prev, dvalues = self._candidates_backward(probs[..., None, None] * dmem[:, :, None], ctx)
            dlog = probs * (dprobs - (dprobs * probs).sum(axis=-1, keepdims=True))
            dlogits[t] = dlog.reshape(batch, -1)
            d = dvalues.reshape(batch, -1)
            for j in range(len(self.value_layers) - 1, -1, -1):
                deltas[j][t] = d
                d = d @ params[self.value_layers[j][0]]
                if j:
                    d = d * (hidden[j] > 0)
            dh = dfeatures[t] + dh_next + dlogits[t] @ w_act + d
            da, du, dh_next, dc_next = controller_step_backward(
                self.kind, s["saved"], prev_state, s["state"], dh, dc_next, w_hh
            )
            da_all[t], du_all[t] = da, du
            dmem = dmem_prev
            dmem[:, :, 0, :] += (da @ w_ih[:, i_size:]).reshape(batch, k, c)
        hs = cache["h"]
        reads = np.stack([s["read"] for s in record]) if record else np.empty((0, batch, k * c), dtype=self.dtype)
        h_prev = np.concatenate([start[0][None], hs[:-1]], axis=0)
        grads = {
            "weight_ih": outer_sum(da_all, np.concatenate([xt, reads], axis=-1)),
            "weight_hh": outer_sum(du_all, h_prev),
            "bias_ih": da_all.sum(axis=(0, 1)),
            "bias_hh": du_all.sum(axis=(0, 1)),
            "weight_action": outer_sum(dlogits, hs),
            "bias_action": dlogits.sum(axis=(0, 1)),
        }
        for j, (w, b, _, fan_in) in enumerate(self.value_layers):
            inputs = np.stack([s["hidden"][j] for s in record]) if record else np.empty((0, batch, fan_in), self.dtype)
            grads[w] = outer_sum(deltas[j], inputs)
            grads[b] = deltas[j].sum(axis=(0, 1))
        dstart = (
            dh_next,
            *([dc_next] if n_ctrl == 2 else []),
            dmem,
            *(np.zeros_like(d) for d in carried[n_ctrl + 1 :]),
        )
        start_grads: Any = dstart  # the carried slots past the memory may be None
        return {name: grads[name] for name in self.param_names}, da_all @ w_ih[:, :i_size], start_grads


# ---------------------------------------------------------------- the two models


class StackRNNCore(MemoryCore):
    """The Stack-RNN (Joulin and Mikolov 2015) as Delétang et al. use it: ``stacks`` stacks mixed by push/pop/no-op.

    Push is ``[v, M[0], ..., M[n-2]]`` (the bottom cell falls off), pop is
    ``[M[1], ..., M[n-1], 0]``, no-op is ``M``; ``v = W_push h' + b_push``.

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        controller: One of :data:`~turingrnn.learning.controller.CONTROLLERS` (default ``elman_relu``).
        stack_size: ``n``, cells per stack (default 30, Delétang et al.'s).
        stack_cell_size: ``c`` (default 8, Delétang et al.'s).
        stacks: ``K`` (default 1).
        dtype: float64 or float32.
    """

    name = "stack_rnn"
    memory = "stack"
    value_name = "push"
    SIZE_OPTIONS = ("stacks", "stack_size", "stack_cell_size")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        controller: str = "elman_relu",
        stack_size: int = 30,
        stack_cell_size: int = 8,
        stacks: int = 1,
        dtype: Any = np.float64,
    ) -> None:
        options = {"controller": controller, "stacks": stacks, "stack_size": stack_size}
        options["stack_cell_size"] = stack_cell_size
        super().__init__(input_size, hidden_size, options, value_sizes=(), actions=STACK_ACTIONS, dtype=dtype)

    def _candidates(self, ops: Any, mem: Any, values: Any, ctx: dict) -> Any:
        push = ops.cat([values[:, :, None], mem[:, :, :-1]], 2)
        pop = ops.cat([mem[:, :, 1:], ops.zeros_like(mem[:, :, :1])], 2)
        return ops.stack([push, pop, mem], 2)

    def _candidates_backward(self, dcand: np.ndarray, ctx: dict) -> tuple[np.ndarray, np.ndarray]:
        dpush, dpop, dmem = dcand[:, :, 0], dcand[:, :, 1], dcand[:, :, 2].copy()
        dmem[:, :, :-1] += dpush[:, :, 1:]
        dmem[:, :, 1:] += dpop[:, :, :-1]
        return dmem, dpush[:, :, 0]


def input_lengths(xt: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each example's input length ``L`` for the tape's jumps, and the ``length`` state after every step.

    A step is blank when its last input column is above 0.5 (the blank of the
    one-hot task encoding, :func:`turingrnn.learning.protocol.encode`). ``L`` is the
    number of steps before the example's first blank step, or all the steps if
    there is none. The state ``(count, found)`` carries this across calls:
    ``count`` is the number of input steps seen so far and ``found`` is 1 once
    a blank has been seen; a call that starts with ``found`` uses ``count`` as
    ``L``, else ``L = count +`` the steps of this call before its first blank.
    So a run cut into pieces agrees with one run on every piece after the one
    that holds the first blank; a piece that ends inside the input uses the
    length seen so far.

    Args:
        xt: ``(T, B, I)`` inputs.
        start: ``(B, 2)``, the ``length`` state before the first step.

    Returns:
        ``L`` ``(B,)`` ints, and the state after each step ``(T, B, 2)``.

    >>> x = np.eye(3)[[[0, 1, 2, 2], [2, 2, 0, 2]]].transpose(1, 0, 2)   # blank is column 2
    >>> lengths, states = input_lengths(x, np.zeros((2, 2)))
    >>> lengths.tolist(), states[:, 0].tolist()
    ([2, 0], [[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [2.0, 1.0]])
    """
    steps = xt.shape[0]
    blank = xt[:, :, -1] > 0.5
    first = np.where(blank.any(axis=0), blank.argmax(axis=0), steps)
    count, found = start[:, 0], start[:, 1] > 0.5
    t = np.arange(steps)[:, None]
    counts = np.where(found, count, count + np.minimum(t + 1, first))
    states = np.stack([counts, (found | (t >= first)).astype(counts.dtype)], axis=-1)
    return np.rint(np.where(found, count, count + first)).astype(np.int64), states


class TapeRNNCore(MemoryCore):
    """Delétang et al.'s Tape-RNN: write the head cell, then a mix of moves on a circular tape.

    With ``W = [v, M[1], ..., M[n-1]]``, candidate ``a`` is ``W`` rolled by
    ``s_a``: ``C_a[m] = W[(m - s_a) mod n]``, ``s`` being ``0, -1, +1`` (stay,
    left, right) and, with ``jumps``, ``-L, +L`` (jump left and right by the
    input length, :func:`input_lengths`). ``v`` is an MLP of ``h'`` with ReLU
    hidden layers ``mlp_sizes`` and a linear last layer.

    Args:
        input_size: ``I``; the last input column is the blank.
        hidden_size: ``H``.
        controller: One of :data:`~turingrnn.learning.controller.CONTROLLERS` (default ``elman_relu``).
        memory_size: ``n`` (default 40, Delétang et al.'s example).
        memory_cell_size: ``c`` (default 8).
        tapes: ``K`` (default 1).
        mlp_sizes: The write MLP's hidden widths (default ``(64, 64)``; empty: linear).
        jumps: The two jump actions (default on; off: 3 actions and no ``length`` state).
        dtype: float64 or float32.
    """

    name = "tape_rnn"
    memory = "tape"
    value_name = "write"
    SIZE_OPTIONS = ("tapes", "memory_size", "memory_cell_size")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        controller: str = "elman_relu",
        memory_size: int = 40,
        memory_cell_size: int = 8,
        tapes: int = 1,
        mlp_sizes: Sequence[int] = (64, 64),
        jumps: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        if isinstance(mlp_sizes, str | bytes) or not isinstance(mlp_sizes, Sequence):
            raise TrainingConfigError(f"mlp_sizes must be a sequence of ints >= 1, got {mlp_sizes!r}")
        sizes = tuple(_check_int("each of mlp_sizes", s) for s in mlp_sizes)
        if not isinstance(jumps, bool | np.bool_):
            raise TrainingConfigError(f"jumps must be True or False, got {jumps!r}")
        self.jumps = bool(jumps)
        options = {"controller": controller, "tapes": tapes, "memory_size": memory_size}
        options |= {"memory_cell_size": memory_cell_size, "mlp_sizes": sizes, "jumps": self.jumps}
        actions = TAPE_ACTIONS if self.jumps else TAPE_ACTIONS[:3]
        super().__init__(input_size, hidden_size, options, value_sizes=sizes, actions=actions, dtype=dtype)
        if self.jumps:
            self.state_names = (*self.state_names, "length")  # type: ignore[misc]

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        """The controller's state, the tapes ``(K, n, c)`` and, with jumps, ``length`` ``(2,)``."""
        return (*super().state_shapes(), *([(2,)] if self.jumps else []))

    def _context(self, ops: Any, xt: Any, start: tuple) -> dict:
        batch = xt.shape[1]
        ctx: dict[str, Any] = {}
        shifts = np.zeros((batch, len(self.actions)), dtype=np.int64)
        shifts[:, 1:3] = (-1, 1)
        if self.jumps:
            lengths, states = input_lengths(to_numpy(xt), to_numpy(start[-1]))
            shifts[:, 3], shifts[:, 4] = -lengths, lengths
            ctx["states"] = {"length": states.astype(self.dtype)}
        cells = np.arange(self.size)
        b_index = np.arange(batch)[:, None, None, None]
        k_index = np.arange(self.memories)[None, :, None, None]
        gather = ((cells - shifts[..., None]) % self.size)[:, None]  # (B, 1, A, n)
        ctx["gather"] = (ops.index(b_index), ops.index(k_index), ops.index(gather))
        ctx["scatter"] = (
            b_index,
            k_index,
            np.arange(len(self.actions))[:, None],
            (cells + shifts[..., None]) % self.size,
        )
        return ctx

    def _candidates(self, ops: Any, mem: Any, values: Any, ctx: dict) -> Any:
        b_index, k_index, gather = ctx["gather"]
        return ops.cat([values[:, :, None], mem[:, :, 1:]], 2)[b_index, k_index, gather]

    def _candidates_backward(self, dcand: np.ndarray, ctx: dict) -> tuple[np.ndarray, np.ndarray]:
        b_index, k_index, a_index, scatter = ctx["scatter"]
        dwritten = dcand[b_index, k_index, a_index, scatter[:, None]].sum(axis=2)
        dvalues = dwritten[:, :, 0].copy()
        dwritten[:, :, 0] = 0
        return dwritten, dvalues
