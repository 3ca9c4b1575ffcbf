"""Turing machine → 2-stack machine, one stack-machine step per Turing machine step.

The finite control keeps the scanned symbol: the stack machine's states are
pairs ``(q, s)`` of a Turing machine state and the symbol under the head, named
``f"{q}|{s}"``. Stack ``L`` holds the cells left of the head and stack ``R``
the cells right of it, nearest cell on top; an empty stack reads as blank. Both
stacks have the Turing machine's alphabet.

For the rule ``(q, s) -> (b, move, p)``:

* move ``R``: push ``b`` on ``L``; the new scanned symbol ``t`` is popped from
  ``R`` (blank if ``R`` is empty); go to ``p|t``. This takes one stack rule per
  possible top of ``R`` (each symbol, and ``empty``), reading ``any`` on ``L``.
* move ``L``: the mirror image, with the stacks swapped.
* move ``S``: go to ``p|b``; the stacks stay as they are.

So each Turing machine step is exactly one stack machine step. A pair ``q|s``
whose Turing machine rule is missing has no stack rules, so both machines halt
there on an undefined transition, counted as one step. A halting state ``h``
gives halting states ``h|s`` for every symbol ``s``, with the same verdict
(accept, reject or plain halt).

The decoded tape is ``reverse(L) + s + R``. Cells pushed while the head walks
over blanks stay on the stacks as blanks, so several stack configurations decode
to the same Turing machine configuration; :meth:`StackReduction.to_stack` gives
the one without such blanks.

Start a simulation with :meth:`StackReduction.initial`, the stack configuration
of the Turing machine's initial configuration, and step it with
:meth:`StackReduction.steps`, or pass it as ``start=`` to
:func:`.interpreter.run` or :func:`~.interpreter.steps`. The stack machine's own start
state is ``f"{tm.start}|{blank}"`` with input stack ``R``: running it directly
on a word ``w`` (``interpreter.run(machine, w)``) simulates the Turing machine
on ``blank + w`` with the head on that leading blank.

>>> from turingrnn.machines.parsing import parse_bbchallenge
>>> reduction = tm_to_stack_machine(parse_bbchallenge("1RB1LB_1LA---"))
>>> reduction.machine.start, reduction.machine.stack_names
('A|0', ('L', 'R'))
>>> configs = list(reduction.steps(""))
>>> len(configs) - 1, str(configs[-1]), reduction.to_tm(configs[-1])
(6, 'B|1: L=1  R=11', TMConfiguration(state='B', tape='1111', head=1))
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import cast

from ..errors import InputError, SpecError, SpecWarning
from .interpreter import StackConfiguration, TMConfiguration, steps
from .model import ANY, EMPTY, NOOP, POP, StackMachine, StackOp, StackRule, TuringMachine, push

LEFT = "L"
"""Stack holding the cells left of the head, nearest first."""
RIGHT = "R"
"""Stack holding the cells right of the head, nearest first."""


def pair_state(state: str, symbol: str) -> str:
    """The stack machine state for Turing machine ``state`` scanning ``symbol``."""
    return f"{state}|{symbol}"


@dataclass(frozen=True)
class StackReduction:
    """A Turing machine, the 2-stack machine simulating it, and the maps between them.

    Attributes:
        machine: The stack machine (stacks ``L`` and ``R``).
        tm: The source Turing machine.
        pair_of: Stack machine state → (Turing machine state, scanned symbol).
        state_of: (Turing machine state, scanned symbol) → stack machine state.
    """

    machine: StackMachine
    tm: TuringMachine
    pair_of: Mapping[str, tuple[str, str]] = field(compare=False, repr=False)
    state_of: Mapping[tuple[str, str], str] = field(compare=False, repr=False)

    def initial(self, word: str = "", *, head: int = 0) -> StackConfiguration:
        """The stack configuration of the Turing machine started on ``word`` with the head on ``head``.

        Raises:
            InputError: ``word`` or ``head`` does not fit the Turing machine.
        """
        return self.to_stack(cast(TMConfiguration, next(steps(self.tm, word, head=head))))

    def to_stack(self, config: TMConfiguration) -> StackConfiguration:
        """Encode a Turing machine configuration (no blanks beyond its tape span)."""
        tape, head = config.tape, config.head
        if not 0 <= head < len(tape):
            raise InputError(f"head {head} is outside the tape {tape!r} (allowed: 0..{len(tape) - 1})")
        state = self.state_of.get((config.state, tape[head]))
        if state is None:
            raise InputError(f"configuration {config}: state or scanned symbol is not the machine's")
        return StackConfiguration(state, ((LEFT, tape[:head][::-1]), (RIGHT, tape[head + 1 :])))

    def to_tm(self, config: StackConfiguration) -> TMConfiguration:
        """Decode a stack configuration: tape ``reverse(L) + s + R``, trimmed as in :class:`TMConfiguration`."""
        if config.state not in self.pair_of:
            raise InputError(f"state {config.state!r} is not a state of the reduction's stack machine")
        state, scanned = self.pair_of[config.state]
        left, right = config.stack(LEFT), config.stack(RIGHT)
        return TMConfiguration.from_tape(state, left[::-1] + scanned + right, len(left), self.tm.blank)

    def steps(self, word: str = "", *, head: int = 0) -> Iterator[StackConfiguration]:
        """Stack configurations of the simulation of the Turing machine on ``word``, one per step."""
        return cast(Iterator[StackConfiguration], steps(self.machine, start=self.initial(word, head=head)))


def _pair_names(tm: TuringMachine) -> dict[tuple[str, str], str]:
    """Name every (state, symbol) pair; raise :class:`SpecError` if two pairs get one name.

    With single-character symbols ``pair_state`` is injective (the last
    character is the symbol), so this guards against a change of naming.
    """
    names: dict[tuple[str, str], str] = {}
    seen: dict[str, tuple[str, str]] = {}
    for q in tm.states:
        for s in tm.symbols:
            name = pair_state(q, s)
            if name in seen:
                raise SpecError(
                    f"stack machine state name {name!r} stands for both {seen[name]} and {(q, s)}; "
                    "rename a state so that 'STATE|SYMBOL' names are distinct"
                )
            seen[name] = (q, s)
            names[q, s] = name
    return names


def _step_rules(tm: TuringMachine, names: Mapping[tuple[str, str], str]) -> list[StackRule]:
    """The stack rules of every Turing machine rule (see the module docs)."""
    rules = []
    for r in tm.rules:
        here = names[r.state, r.read]
        if r.move == "S":
            rules.append(StackRule(state=here, read=(ANY, ANY), next=names[r.next, r.write], ops=(NOOP, NOOP)))
            continue
        for top in (*tm.symbols, EMPTY):
            scanned, pop = (tm.blank, NOOP) if top == EMPTY else (top, POP)
            # Moving right: write onto L, take the new scanned cell from R; moving left: the mirror image.
            read: tuple[str, str] = (ANY, top) if r.move == "R" else (top, ANY)
            ops: tuple[StackOp, StackOp] = (push(r.write), pop) if r.move == "R" else (pop, push(r.write))
            rules.append(StackRule(state=here, read=read, next=names[r.next, scanned], ops=ops))
    return rules


def tm_to_stack_machine(tm: TuringMachine) -> StackReduction:
    """Build the 2-stack machine that simulates ``tm`` step for step.

    Args:
        tm: The Turing machine.

    Returns:
        The :class:`StackReduction` holding the stack machine and the state maps.

    Raises:
        SpecError: Two (state, symbol) pairs would get the same state name.
    """
    names = _pair_names(tm)

    def lift(states: frozenset[str]) -> frozenset[str]:
        return frozenset(names[q, s] for q in states for s in tm.symbols)

    with warnings.catch_warnings():
        # Most machines never reach some pairs (e.g. a state only entered on blanks).
        warnings.simplefilter("ignore", SpecWarning)
        machine = StackMachine(
            name=f"{tm.name} as 2-stack machine" if tm.name else "",
            description=f"Pair-state 2-stack simulation of Turing machine {tm.name!r}, one step per step.",
            states=tuple(names.values()),
            start=names[tm.start, tm.blank],
            accept=lift(tm.accept),
            reject=lift(tm.reject),
            halt=lift(tm.halt),
            stacks=((LEFT, tm.symbols), (RIGHT, tm.symbols)),
            input_stack=RIGHT,
            rules=tuple(_step_rules(tm, names)),
        )
    return StackReduction(machine, tm, {v: k for k, v in names.items()}, names)
