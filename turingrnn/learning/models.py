"""The registry of trained models: every recurrent network the comparison trains, built by name.

:func:`make_model` builds a :class:`~turingrnn.learning.cells.SequenceModel` from a
registered core, optionally stacked (``layers``) and read in both directions
(``bidirectional``). :data:`MODELS` maps each name to its :class:`ModelSpec`:
the builder of its core, the options it takes, and a one-line description.

>>> make_model("gru", 3, 8, 2, seed=1)
GRUCore(input_size=3, hidden_size=8, output_size=2, dtype=float64)
>>> make_model("lstm", 3, 8, 2, forget_bias=1.0, readout="relu").name
'lstm'
>>> make_model("rnn", 3, 8, 2)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
turingrnn.errors.UnknownCellError: unknown cell 'rnn'; the cells are: elman_tanh, elman_relu, lstm, gru, ...
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TrainingConfigError, UnknownCellError
from .cells import Core, ElmanCore, GRUCore, LSTMCore, SequenceModel
from .clockwork import DEFAULT_PERIODS, ClockworkCore, DenseClockworkCore
from .lstm_variants import CIFGCore, PeepholeLSTMCore
from .memory_rnn import StackRNNCore, TapeRNNCore
from .reservoir import EchoStateCore
from .seq2seq import EncoderDecoder, build_core
from .window import TimeDelayCore


@dataclass(frozen=True)
class ModelSpec:
    """How to build one registered model.

    Attributes:
        name: The registry name.
        build: ``build(input_size, hidden_size, dtype=..., **options) -> Core``.
        options: The option names ``build`` takes, with their defaults.
        description: One line for ``turingrnn train --help`` and the docs.
        stackable: Whether ``layers > 1`` and ``bidirectional`` apply.
        model: For a model that is not one core and a readout (the
            encoder–decoder): ``model(input_size, hidden_size, output_size,
            seed=..., dtype=..., readout=..., name=..., **options)`` builds it
            whole (its ``core`` is the core the readout reads); ``None``: a
            :class:`~turingrnn.learning.cells.SequenceModel` around ``build``'s core.
    """

    name: str
    build: Callable[..., Core]
    options: dict[str, Any]
    description: str
    stackable: bool = True
    model: Callable[..., SequenceModel] | None = None


MODELS: dict[str, ModelSpec] = {}
"""The registry: model name → :class:`ModelSpec`."""

CELLS: dict[str, ModelSpec] = {}
"""The entries of :data:`MODELS` that are one core and a readout (all but those with their own ``model``)."""


def register(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to :data:`MODELS` (a name may be registered once)."""
    if spec.name in MODELS:
        raise TrainingConfigError(f"model {spec.name!r} is registered twice")
    MODELS[spec.name] = spec
    if spec.model is None:
        CELLS[spec.name] = spec
    return spec


register(
    ModelSpec(
        "elman_tanh",
        lambda i, h, **kw: ElmanCore(i, h, nonlinearity="tanh", **kw),
        {},
        "Elman RNN, tanh (torch.nn.RNN)",
    )
)
register(
    ModelSpec(
        "elman_relu",
        lambda i, h, **kw: ElmanCore(i, h, nonlinearity="relu", **kw),
        {},
        "Elman RNN, ReLU (torch.nn.RNN(nonlinearity='relu'), Deletang et al.'s RNN)",
    )
)
register(ModelSpec("lstm", LSTMCore, {"forget_bias": 0.0}, "LSTM (torch.nn.LSTM)"))
register(ModelSpec("gru", GRUCore, {}, "GRU, reset gate after the hidden matmul (torch.nn.GRU)"))  # fmt: skip
register(
    ModelSpec(
        "stack_rnn",
        StackRNNCore,
        dict(StackRNNCore.DEFAULTS),
        "Stack-RNN (Joulin and Mikolov 2015, Deletang et al.'s): a controller cell with differentiable stacks",
    )
)
register(
    ModelSpec(
        "tape_rnn",
        TapeRNNCore,
        dict(TapeRNNCore.DEFAULTS, mlp_sizes=[64, 64]),  # as JSON reads it back
        "Tape-RNN (Deletang et al.): a controller cell with a circular tape, moves and jumps by the input length",
        stackable=False,
    )
)
register(
    ModelSpec(
        "esn",
        EchoStateCore,
        {
            "spectral_radius": 0.9,
            "input_scaling": 1.0,
            "bias_scaling": 0.0,
            "leak_rate": 1.0,
            "density": 1.0,
            "reservoir_seed": 0,
        },
        "echo state network: fixed random leaky tanh reservoir, ridge-regression readout (Jaeger 2001)",
        stackable=False,
    )
)
register(
    ModelSpec(
        "tdnn",
        TimeDelayCore,
        {"window": 8, "nonlinearity": "tanh"},
        "time-delay window model: one hidden layer over the last `window` inputs, no recurrence",
    )
)
register(
    ModelSpec(
        "peephole_lstm",
        PeepholeLSTMCore,
        {"forget_bias": 0.0},
        "LSTM with diagonal peephole weights from the cell into the gates (Gers and Schmidhuber 2000)",
    )
)
register(
    ModelSpec(
        "cifg_lstm",
        CIFGCore,
        {"forget_bias": 0.0},
        "LSTM with coupled input and forget gates, i = 1 - f (Greff et al. 2016's CIFG)",
    )
)
register(
    ModelSpec(
        "clockwork_rnn",
        ClockworkCore,
        {"periods": DEFAULT_PERIODS},
        "clockwork RNN: tanh modules that update every T_i steps, slow modules feed fast ones (Koutnik et al. 2014)",
    )
)
register(
    ModelSpec(
        "dense_clockwork_rnn",
        DenseClockworkCore,
        {"periods": DEFAULT_PERIODS},
        "dense clockwork RNN: every module updates every step from T_i steps back, shift invariant "
        "(Neverova et al. 2016)",
    )
)
register(
    ModelSpec(
        "encoder_decoder",
        build_core,
        {"cell_type": "lstm"},
        "encoder-decoder (Sutskever et al. 2014): one core reads the input, its final state starts a second that "
        "emits the output, teacher-forced in training",
        stackable=False,
        model=EncoderDecoder,
    )
)


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` called ``name``, or an :class:`UnknownCellError` listing the names."""
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise UnknownCellError(f"unknown cell {name!r}; the cells are: {', '.join(MODELS)}") from None


def make_model(
    cell: str,
    input_size: int,
    hidden_size: int,
    output_size: int,
    *,
    seed: int | np.random.Generator = 0,
    dtype: type[np.floating] | np.dtype | str = np.float64,
    readout: str = "linear",
    layers: int = 1,
    bidirectional: bool = False,
    **options: Any,
) -> SequenceModel:
    """A freshly initialised model of the cell named ``cell`` (a key of :data:`MODELS`).

    Args:
        cell: The registry name.
        input_size: ``I``.
        hidden_size: ``H`` (of every layer).
        output_size: ``O``.
        seed: An int seed or a ``Generator`` for the initial weights.
        dtype: float64 (default) or float32.
        readout: ``"linear"`` or ``"relu"``.
        layers: Stacked layers of the cell (each reads the layer below's features).
        bidirectional: Read the input forwards and backwards, features concatenated.
        **options: The cell's own options (:attr:`ModelSpec.options`).

    Raises:
        UnknownCellError: ``cell`` is not registered.
        TrainingConfigError: an option the cell does not take, or a bad ``layers``.
    """
    spec = get_spec(cell)
    bad = sorted(set(options) - set(spec.options))
    if bad:
        allowed = ", ".join(spec.options) or "none"
        raise TrainingConfigError(f"cell {cell!r} takes no option {bad[0]!r}; its options are: {allowed}")
    if isinstance(layers, bool) or not isinstance(layers, int | np.integer) or layers < 1:
        raise TrainingConfigError(f"layers must be a positive int, got {layers!r}")
    if (layers > 1 or bidirectional) and not spec.stackable:
        raise TrainingConfigError(f"cell {cell!r} cannot be stacked or made bidirectional")
    dt = np.dtype(dtype) if not isinstance(dtype, str) else dtype

    def build(width: int) -> Core:
        return spec.build(width, hidden_size, dtype=dt, **options)

    built: SequenceModel | None = None
    if spec.model is not None:
        built = spec.model(
            input_size, hidden_size, output_size, seed=seed, dtype=dt, readout=readout, name=cell, **options
        )
        core = built.core
    elif layers == 1 and not bidirectional:
        core = build(input_size)
    else:
        from .stacked import build_stacked

        core = build_stacked(build, input_size, layers=int(layers), bidirectional=bool(bidirectional))
    config = {
        "cell": cell,
        "input_size": int(input_size),
        "hidden_size": int(hidden_size),
        "output_size": int(output_size),
        "dtype": np.dtype(core.dtype).name,
        "readout": readout,
        "layers": int(layers),
        "bidirectional": bool(bidirectional),
        "options": _as_json({k: options.get(k, v) for k, v in spec.options.items()}),
    }
    if built is not None:
        built.config = config
        return built
    return SequenceModel(core, output_size, seed=seed, readout=readout, name=cell, config=config)


def _as_json(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` as they read back from JSON (tuples as lists), so that a checkpoint's config compares equal."""
    try:
        return json.loads(json.dumps(options))
    except (TypeError, ValueError):
        return options


def _named(cell: str) -> Callable[..., SequenceModel]:
    def build(input_size: int, hidden_size: int, output_size: int, **kwargs: Any) -> SequenceModel:
        return make_model(cell, input_size, hidden_size, output_size, **kwargs)

    build.__name__ = build.__qualname__ = "".join(p.capitalize() for p in cell.split("_"))
    build.__doc__ = (
        f"``make_model({cell!r}, input_size, hidden_size, output_size, **kwargs)``: {MODELS[cell].description}."
    )
    return build


ElmanTanh = _named("elman_tanh")
ElmanReLU = _named("elman_relu")
LSTM = _named("lstm")
GRU = _named("gru")
