"""Reading machine configurations from neuron values, and the :class:`Trace` of a network run.

A network's :class:`~turingrnn.compile.network.Readout` says how a configuration is
read at a readout tick: the state is ``state_table[state_code]`` and every
stack (or half-tape) is the word whose Cantor code is its value.
:func:`decode_configuration` applies it to neuron values given by label.

:class:`Trace` is what every network engine returns (:mod:`.exact`,
:mod:`.fast` and :mod:`.mp`, through :func:`turingrnn.engines.run`): the recorded neuron values, by label, and the
machine configuration decoded at every machine step, lazily. Its
:meth:`~Trace.decode` gives the same :class:`~turingrnn.machines.interpreter.RunResult`
as the reference interpreter, built by the same :func:`~turingrnn.machines.interpreter.finish`.

>>> from fractions import Fraction
>>> from turingrnn.compile.compiler import compile_machine
>>> from turingrnn.machines.parsing import load_machine
>>> net = compile_machine(load_machine("bb2"))
>>> values = {"code:0": 1, "tape:L/R": Fraction(1, 2), "tape:R/R": Fraction(1, 2)}  # state 1 = A, L = R = "1"
>>> decode_configuration(net, lambda label: Fraction(values.get(label, 0)))
TMConfiguration(state='A', tape='11', head=1)
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..compile.encoding import DecodeError
from ..compile.network import Network
from ..compile.readout import READOUT_KINDS, Action, Getter, reduction_of
from ..errors import NotRecordedError, TuringRNNError
from ..machines.interpreter import Configuration, RunResult, Status

__all__ = [
    "READOUT_KINDS",
    "STOP_REASONS",
    "Action",
    "Getter",
    "Recording",
    "Trace",
    "classify",
    "code_actions",
    "decode_configuration",
    "halting_states",
    "read_state",
    "reduction_of",
    "stop_reason",
]

STOP_REASONS = {Action.HALT: "halting state", Action.UNDEFINED: "undefined transition"}
"""The :attr:`Trace.stop` of a run that ends by itself, by the action of its last readout."""


def read_state(net: Network, get: Getter) -> str | None:
    """The state named by the state code, or ``None`` for a code in ``readout.undefined_codes``.

    Raises:
        DecodeError: The code is not an integer, or not in the state table.
    """
    return net.readout.read_state(get)


def halting_states(net: Network) -> frozenset[str]:
    """The states in which ``net``'s readout stops the run (those of the 2-stack reduction for kind ``reduced``)."""
    return net.readout.halting_states


def classify(net: Network, state: str | None) -> Action:
    """The action of a readout in ``state`` (``None``: an undefined-transition code): the one classification."""
    return net.readout.action(state)


def code_actions(net: Network) -> dict[int, Action]:
    """The action of every state code of ``net``'s readout; a code missing here is not a valid state code.

    >>> from turingrnn.compile.compiler import compile_machine
    >>> from turingrnn.machines.parsing import load_machine
    >>> {code: action.name for code, action in code_actions(compile_machine(load_machine("bb2"))).items()}
    {1: 'GO', 2: 'GO', 3: 'HALT'}
    """
    return dict(net.readout.actions)


def stop_reason(net: Network, state: str | None, step: int) -> str | None:
    """Why the machine stops at a readout in ``state`` (``None``: the undefined-transition code), or ``None``.

    Raises:
        TuringRNNError: The first readout holds the undefined-transition code.
    """
    action = net.readout.action(state)
    if action is Action.UNDEFINED and step == 0:
        raise TuringRNNError("the first readout holds the 'undefined transition' code: nothing ran before it")
    return STOP_REASONS.get(action)


def decode_configuration(net: Network, get: Getter) -> Configuration | None:
    """The machine configuration held by neuron values ``get(label)`` at a readout tick.

    Returns ``None`` when the state code is one of ``readout.undefined_codes``:
    the machine halted on a missing transition, and its configuration is the
    one read at the previous readout tick.

    Raises:
        DecodeError: A value is not a valid state code or stack code.
    """
    return net.readout.configuration(get)


class Recording(Protocol):
    """Neuron values kept by an engine: one row per recorded tick."""

    def __len__(self) -> int:
        """The number of recorded rows."""

    def column(self, neuron: int) -> list[Any]:
        """The values of neuron number ``neuron`` over all rows."""

    def getter(self, row: int) -> Getter:
        """The values of row ``row`` by label, as exact fractions."""


@dataclass(frozen=True, eq=False)
class Trace:
    """The result of running a network: recorded neuron values and decoded configurations.

    Attributes:
        network: The network that ran.
        engine: The engine's name (``"exact"``, ``"float64"``, ``"float32"`` or ``"mp"``).
        record: What was recorded: ``"steps"`` (every readout tick), ``"ticks"``
            (every tick) or ``"final"`` (the last readout ticks only).
        recording: The recorded values.
        row_ticks: The tick of each recorded row.
        first_readout: The tick of the first readout (machine step 0).
        ticks: The number of ticks run (the tick of the last readout).
        steps: Machine steps taken.
        stop: Why the machine stopped: ``"halting state"``, ``"undefined
            transition"``, or ``None`` when the step limit was reached.
        info: Engine statistics (the exact engine: ``scale_digits``, ``growths``, ``phase_skipping``,
            ``seconds``, and ``interrupted`` when Ctrl-C stopped the run: it then ends like a step
            limit with the reason ``"interrupted"``).
        diverged_at: Float and mp engines: the first machine step whose readout could not be shown
            to hold the exact run's configuration (the run stopped there, and that step does not
            decode), or ``None``. Always ``None`` for the exact engine.
        divergence: What left the code at ``diverged_at`` (a sentence), or ``None``.
        prec: The significand bits the values were computed with (float64: 53, float32: 24, mp:
            its ``prec``), or ``None`` for the exact engine (no rounding at all).
    """

    network: Network
    engine: str
    record: str
    recording: Recording
    row_ticks: Sequence[int]
    first_readout: int
    ticks: int
    steps: int
    stop: str | None
    info: Mapping[str, Any] = field(default_factory=dict)
    diverged_at: int | None = None
    divergence: str | None = None
    prec: int | None = None

    # ------------------------------------------------------------ neuron values

    @property
    def labels(self) -> tuple[str, ...]:
        """The neuron labels, in index order."""
        return self.network.labels

    def __getitem__(self, label: str) -> list[Any]:
        """The values of neuron ``label`` at every recorded tick (exact fractions for the exact engine)."""
        try:
            index = self.network.index(label)
        except KeyError:
            close = difflib.get_close_matches(label, self.labels, n=3, cutoff=0.5)
            hint = f"; close labels: {', '.join(close)}" if close else f"; labels start {', '.join(self.labels[:3])}"
            raise KeyError(f"no neuron {label!r} in this network{hint}") from None
        return self.recording.column(index)

    def readout_tick(self, step: int) -> int:
        """The tick at which machine step ``step`` is read out."""
        return self.first_readout + step * self.network.ticks_per_step

    def values(self, tick: int) -> Getter:
        """The recorded neuron values at ``tick``, by label."""
        try:
            row = self.row_ticks.index(tick)
        except ValueError:
            raise NotRecordedError(
                f"tick {tick} was not recorded (record={self.record!r}; run with record='ticks' to keep every tick)"
            ) from None
        return self.recording.getter(row)

    # ------------------------------------------------------------ configurations

    def configuration(self, step: int) -> Configuration:
        """The configuration decoded at machine step ``step`` (``0 .. steps``).

        Raises:
            DecodeError: The recorded values are not a valid configuration.
            NotRecordedError: The step's readout tick was not recorded.
        """
        if not 0 <= step <= self.steps:
            raise IndexError(f"step {step} is outside the run (steps 0..{self.steps})")
        if step == self.diverged_at:
            raise DecodeError(f"step {step}: {self.divergence or 'the run left the code'}")
        if step == self.steps and self.stop == "undefined transition":
            step -= 1  # the halting step on a missing transition leaves the configuration as it was
        config = decode_configuration(self.network, self.values(self.readout_tick(step)))
        if config is None:
            raise DecodeError(f"step {step}: the state code says 'undefined transition', but the run went on")
        return config

    @functools.cached_property
    def configurations(self) -> tuple[Configuration, ...]:
        """The configuration at every machine step, the initial one first (``steps + 1`` of them)."""
        if self.record == "final":
            raise NotRecordedError("record='final' keeps only the last readout; run with record='steps'")
        return tuple(self.configuration(k) for k in range(self.steps + 1))

    @functools.cached_property
    def final_configuration(self) -> Configuration:
        """The configuration at the end of the run."""
        return self.configuration(self.steps)

    # ------------------------------------------------------------ the machine-level result

    @functools.cached_property
    def result(self) -> RunResult:
        """The run as an interpreter :class:`~turingrnn.machines.interpreter.RunResult` (no configuration trace).

        Raises:
            DecodeError: The run left the code (``diverged_at``): it has no machine-level result.
        """
        if self.diverged_at is not None:
            raise DecodeError(f"the run left the code at step {self.diverged_at}: {self.divergence}")
        return self._mark(self.network.readout.finish(self.steps, self.final_configuration, self.stop))

    def _mark(self, result: RunResult) -> RunResult:
        """A run stopped by Ctrl-C ends like a step limit, with the reason ``"interrupted"``."""
        return dataclasses.replace(result, reason="interrupted") if self.info.get("interrupted") else result

    def decode(self, *, trace: bool = False) -> RunResult:
        """The :class:`~turingrnn.machines.interpreter.RunResult` the interpreter gives for the same run.

        With ``trace=True`` it carries every configuration, like ``interpreter.run(..., trace=True)``.
        """
        if not trace:
            return self.result
        configs = list(self.configurations)
        return self._mark(self.network.readout.finish(self.steps, self.final_configuration, self.stop, configs))

    @property
    def status(self) -> Status:
        """How the run ended (the interpreter's :class:`~turingrnn.machines.interpreter.Status`)."""
        return self.result.status

    @property
    def diverged(self) -> bool:
        """Whether the run left the code (and so stopped early, at ``diverged_at``)."""
        return self.diverged_at is not None

    @property
    def halted(self) -> bool:
        """Whether the machine stopped by itself (not by the step limit)."""
        return self.stop is not None

    @property
    def accepted(self) -> bool | None:
        """The verdict, as in :attr:`~turingrnn.machines.interpreter.RunResult.accepted`."""
        return self.result.accepted

    @property
    def reason(self) -> str:
        """Why the run ended, as in :attr:`~turingrnn.machines.interpreter.RunResult.reason`."""
        return self.result.reason

    def to_dict(self) -> dict[str, Any]:
        """The JSON view: the fields of ``RunResult.to_dict`` plus ``engine``, ``ticks`` and ``neurons``."""
        return self.result.to_dict() | {"engine": self.engine, "ticks": self.ticks, "neurons": self.network.size}

    def first_divergence(self, other: Trace) -> int | None:
        """The first machine step at which the two traces decode to different configurations, or ``None``.

        A step that does not decode counts as different from everything, and
        so does a step that only one of the traces reached.
        """

        def decoded(trace: Trace, step: int) -> Configuration | object:
            try:
                return trace.configuration(step)
            except DecodeError:
                return object()  # equal to nothing

        last = min(self.steps, other.steps)
        for step in range(last + 1):
            if decoded(self, step) != decoded(other, step):
                return step
        return None if self.steps == other.steps else last + 1
