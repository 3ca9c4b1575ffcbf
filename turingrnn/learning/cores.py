"""The contract of a recurrent core (:class:`Core`), one gated layer (:class:`GatedCore`), and the numerics they share.

A core maps an input sequence to a feature sequence and gives its backward
pass; every recurrent layer of :mod:`turingrnn.learning` is one (the classic
cells of :mod:`.cells`, and :mod:`.lstm_variants`, :mod:`.clockwork`,
:mod:`.stacked`, :mod:`.memory_rnn`, :mod:`.seq2seq`, :mod:`.reservoir`,
:mod:`.window`). A :class:`~.sequence_model.SequenceModel` puts a readout and a
loss on top. The helpers here (sizes and dtypes checked, PyTorch's uniform
initialisation, the logistic function, the sum of outer products of a
weight gradient) are the ones every core uses.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import ShapeError

State = tuple[np.ndarray, ...]
"""A recurrent state: ``(h,)`` for Elman and GRU, ``(h, c)`` for LSTM, each ``(batch, hidden)``.

Other cores name theirs (:attr:`Core.state_names`)."""

PARAMETER_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_out", "bias_out")
"""The parameters of a one-layer gated model (Elman, LSTM, GRU), in a fixed order."""


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, through tanh: no overflow for large ``|x|``, one vectorised call."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def outer_sum(d: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``sum over t, b of outer(d[t, b], v[t, b])``, as one matrix product."""
    return d.reshape(-1, d.shape[-1]).T @ v.reshape(-1, v.shape[-1])


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
