"""How a machine configuration is read from a network's neuron values, and written into its start values.

:class:`Linear` is a linear expression over neuron labels. A :class:`Readout`
reads a configuration at a readout tick: the state is
``state_table[state_code]`` and every stack (or half-tape) is the word whose
code is its :class:`StackReadout` value. A :class:`Preload` writes a
configuration into the values at tick 0 (``input_mode="preloaded"``). All of
them are frozen values with a JSON form, stored in network files
(:meth:`turingrnn.compile.network.Network.save`).

>>> Linear.of({"x": 2, "y": 0}, const=1).value(lambda label: Fraction(1, 4))
Fraction(3, 2)
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from ..errors import DecodeError, InputError, TuringRNNError
from ..machines.interpreter import (
    Configuration,
    RunResult,
    StackConfiguration,
    TMConfiguration,
    check_stack_input,
    check_tm_input,
    finish,
    steps,
)
from ..machines.model import StackMachine, TuringMachine
from ..machines.reduction import LEFT, RIGHT, StackReduction, tm_to_stack_machine
from .encoding import decode_word

Getter = Callable[[str], Fraction]
"""Neuron values by label, as exact fractions."""

READOUT_KINDS = ("stack", "tape", "reduced")
"""The kinds of :class:`Readout`."""


class Action(enum.IntEnum):
    """What a state code tells the engines at a readout: go on, halt, or halt on an undefined transition."""

    GO = 0
    HALT = 1
    UNDEFINED = 2


@functools.lru_cache(maxsize=64)
def reduction_of(tm: TuringMachine) -> StackReduction:
    """The 2-stack reduction of ``tm`` (cached: a readout of kind ``reduced`` maps back through it)."""
    return tm_to_stack_machine(tm)


@dataclass(frozen=True)
class Linear:
    """A linear expression ``sum(c * neuron) + const`` over neuron labels."""

    terms: tuple[tuple[str, Fraction], ...] = ()
    const: Fraction = Fraction(0)

    @classmethod
    def of(cls, terms: Mapping[str, Fraction | int] | None = None, const: Fraction | int = 0) -> Linear:
        """Build from a mapping, dropping zero coefficients and sorting by label."""
        items = tuple(sorted((k, Fraction(v)) for k, v in (terms or {}).items() if v != 0))
        return cls(items, Fraction(const))

    def value(self, get: Callable[[str], Fraction]) -> Fraction:
        """Evaluate with neuron values from ``get(label)``."""
        return sum((c * get(k) for k, c in self.terms), self.const)

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in network files."""
        return {"terms": [[k, str(c)] for k, c in self.terms], "const": str(self.const)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Linear:
        """Read the JSON form written by ``to_json``."""
        return cls(tuple((k, Fraction(c)) for k, c in data["terms"]), Fraction(data["const"]))


@dataclass(frozen=True, kw_only=True)
class StackReadout:
    """How one stack (or half-tape) is read: its code value, alphabet and digit kind."""

    name: str
    value: Linear
    alphabet: tuple[str, ...]
    kind: str  # "stack" (odd digits, empty = 0) or "tape" (even digits, blank = 0)


@dataclass(frozen=True, kw_only=True)
class Readout:
    """How a machine configuration is read from the neuron values at a readout tick.

    ``kind`` is ``"stack"`` (a stack machine configuration), ``"tape"`` (a
    Turing machine from half-tapes ``L`` and ``R``, the scanned cell on top of
    ``R``) or ``"reduced"`` (the 2-stack machine of
    :func:`turingrnn.machines.reduction.tm_to_stack_machine`, mapped back to the Turing
    machine). The state is ``state_table[state_code]``; a code in
    ``undefined_codes`` means the machine halted on a missing transition, so the
    configuration is the one read at the previous readout tick.
    """

    kind: str
    state_code: Linear
    state_table: tuple[tuple[int, str], ...]
    undefined_codes: tuple[int, ...] = ()
    stacks: tuple[StackReadout, ...] = ()
    # Filled by complete() (a Network completes its readout): what the engines need from the machine.
    actions: Mapping[int, Action] = field(default_factory=dict, compare=False, repr=False)
    halting_states: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    reduction: StackReduction | None = field(default=None, compare=False, repr=False)
    machine: Any = field(default=None, compare=False, repr=False)
    start_preload: Preload | None = field(default=None, compare=False, repr=False)

    # ------------------------------------------------------------ the engine contract

    def complete(self, machine: Any, start_preload: Preload | None = None) -> Readout:
        """This readout with everything an engine needs from ``machine`` filled in.

        That is the code → :class:`Action` table (``actions``), the halting states
        (those of the 2-stack reduction for kind ``reduced``), the ``reduction`` to map
        back through, and ``start_preload``: the neurons that a start configuration is
        written into, which streamed networks keep too (the proofs encode classes with it).
        ``machine`` may be ``None`` (a hand-built network): nothing halts, and the
        methods that need a machine say so.
        """
        reduction = reduction_of(machine) if self.kind == "reduced" and isinstance(machine, TuringMachine) else None
        if reduction is not None:
            halting = reduction.machine.halting_states
        elif isinstance(machine, TuringMachine | StackMachine):
            halting = machine.halting_states
        else:
            halting = frozenset()
        actions = {code: Action.HALT if state in halting else Action.GO for code, state in self.state_table}
        actions |= dict.fromkeys(self.undefined_codes, Action.UNDEFINED)
        return replace(
            self,
            actions=actions,
            halting_states=halting,
            reduction=reduction,
            machine=machine,
            start_preload=start_preload if start_preload is not None else self.start_preload,
        )

    def action(self, state: str | None) -> Action:
        """The action of a readout in ``state`` (``None``: an undefined-transition code)."""
        if state is None:
            return Action.UNDEFINED
        return Action.HALT if state in self.halting_states else Action.GO

    def read_state(self, get: Getter) -> str | None:
        """The state named by the state code, or ``None`` for a code in ``undefined_codes``.

        Raises:
            DecodeError: The code is not an integer, or not in the state table.
        """
        code = self.state_code.value(get)
        if code.denominator != 1:
            raise DecodeError(f"state code {code} is not an integer (the network left the state code)")
        if int(code) in self.undefined_codes:
            return None
        table = dict(self.state_table)
        if int(code) not in table:
            raise DecodeError(f"state code {code} is not in the state table (codes: {sorted(table)})")
        return table[int(code)]

    def configuration(self, get: Getter) -> Configuration | None:
        """The machine configuration held by neuron values ``get(label)`` (``None``: an undefined-transition code).

        Raises:
            DecodeError: A value is not a valid state or stack code, or the readout needs a machine it lacks.
        """
        if self.kind not in READOUT_KINDS:
            raise DecodeError(f"readout kind {self.kind!r} is unknown (allowed: {', '.join(READOUT_KINDS)})")
        state = self.read_state(get)
        if state is None:
            return None
        words = {s.name: decode_word(s.value.value(get), s.alphabet, s.kind) for s in self.stacks}
        if self.kind == "stack":
            return StackConfiguration(state, tuple(words.items()))
        tm = self.machine
        if not isinstance(tm, TuringMachine):
            raise DecodeError(f"readout kind {self.kind!r} needs a Turing machine, got {type(tm).__name__}")
        if self.reduction is not None:
            return self.reduction.to_tm(StackConfiguration(state, ((LEFT, words[LEFT]), (RIGHT, words[RIGHT]))))
        # kind "tape": the scanned cell is on top of R (blank when R is all blank)
        left = words[LEFT]
        return TMConfiguration.from_tape(state, left[::-1] + (words[RIGHT] or tm.blank), len(left), tm.blank)

    def initial(self, word: str, head: int = 0) -> tuple[str, dict[str, str]]:
        """The state and the stack (or half-tape) words that a run on ``word`` starts from, as the readout reads them.

        Raises:
            InputError: The word or head does not fit the machine, or the readout has no machine.
        """
        machine = self.machine
        if self.reduction is not None:
            config = self.reduction.initial(word, head=head)
            return config.state, dict(config.stacks)
        if isinstance(machine, TuringMachine):
            tm_config = next(steps(machine, word, head=head))
            tape, at = tm_config.tape, tm_config.head  # type: ignore[union-attr]
            return tm_config.state, {LEFT: tape[:at][::-1], RIGHT: tape[at:]}
        if isinstance(machine, StackMachine):
            stack_config = next(steps(machine, word, head=head))
            return stack_config.state, dict(stack_config.stacks)  # type: ignore[union-attr]
        raise InputError(f"the network's machine is {type(machine).__name__}; a run needs a machine to load")

    def check_input(self, word: str, head: int = 0) -> None:
        """Raise :class:`InputError` unless ``word`` (and ``head``) fit the machine (no machine: no check)."""
        if isinstance(self.machine, TuringMachine):
            check_tm_input(self.machine, word, head)
        elif isinstance(self.machine, StackMachine):
            check_stack_input(self.machine, word)

    def finish(
        self, steps: int, final: Configuration, stop: str | None, trace: list[Configuration] | None = None
    ) -> RunResult:
        """The interpreter's :class:`~turingrnn.machines.interpreter.RunResult` of a run read through this readout.

        Raises:
            TuringRNNError: The readout has no machine, so a halting state has no verdict.
        """
        if not isinstance(self.machine, TuringMachine | StackMachine):
            raise TuringRNNError("the network carries no machine, so its run has no machine-level result")
        return finish(self.machine, steps, final, stop, trace)

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in network files."""
        return {
            "kind": self.kind,
            "state_code": self.state_code.to_json(),
            "state_table": [list(x) for x in self.state_table],
            "undefined_codes": list(self.undefined_codes),
            "stacks": [
                {"name": s.name, "value": s.value.to_json(), "alphabet": list(s.alphabet), "kind": s.kind}
                for s in self.stacks
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Readout:
        """Read the JSON form written by ``to_json``."""
        return cls(
            kind=data["kind"],
            state_code=Linear.from_json(data["state_code"]),
            state_table=tuple((int(c), str(s)) for c, s in data["state_table"]),
            undefined_codes=tuple(int(c) for c in data["undefined_codes"]),
            stacks=tuple(
                StackReadout(
                    name=s["name"], value=Linear.from_json(s["value"]), alphabet=tuple(s["alphabet"]), kind=s["kind"]
                )
                for s in data["stacks"]
            ),
        )


@dataclass(frozen=True, kw_only=True)
class Preload:
    """How a configuration is written into the state at tick 0 (``input_mode="preloaded"``).

    ``states`` maps a machine state to the neuron values (0/1) that encode it;
    ``stacks`` maps a stack (or half-tape) name to the neuron that receives its
    code; ``tops`` lists ``(stack, j, neuron)``: the neuron receives 1 when the
    stack's top symbol index is ``>= j`` (``j = 0``: the stack is not empty),
    else 0 (used by the ``realtime`` construction). All other neurons start at 0.
    """

    states: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
    stacks: tuple[tuple[str, str], ...]
    tops: tuple[tuple[str, int, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in network files (``tops`` only when there are any)."""
        out: dict[str, Any] = {
            "states": [[s, [list(a) for a in v]] for s, v in self.states],
            "stacks": [list(x) for x in self.stacks],
        }
        if self.tops:
            out["tops"] = [list(x) for x in self.tops]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Preload:
        """Read the JSON form written by ``to_json``."""
        return cls(
            states=tuple((s, tuple((str(k), int(v)) for k, v in vals)) for s, vals in data["states"]),
            stacks=tuple((str(a), str(b)) for a, b in data["stacks"]),
            tops=tuple((str(a), int(j), str(n)) for a, j, n in data.get("tops", [])),
        )
