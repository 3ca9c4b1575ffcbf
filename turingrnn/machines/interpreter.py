"""Reference interpreters: the slow, obviously correct semantics of both machine kinds.

:func:`steps` is a generator of configurations (the initial one, then one per
step); :func:`run` runs to a halt or a step limit and returns a
:class:`RunResult`. Reaching the step limit is a result, not an exception.

Step counting follows bbchallenge: every transition taken counts, and so does
the final halting step when the machine stops on an undefined transition. So
``1RB1LB_1LA---`` takes 6 steps and the 4-state champion 107.

>>> from turingrnn.machines.parsing import parse_bbchallenge
>>> r = run(parse_bbchallenge("1RB1LB_1LA---"), "")
>>> r.status.value, r.steps, r.tape, r.head
('halted', 6, '1111', 1)
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .model import EMPTY, Example, Machine, StackMachine, TuringMachine


class Status(enum.StrEnum):
    """How a run ended."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    HALTED = "halted"
    OUT_OF_STEPS = "out-of-steps"
    FLAGGED = "flagged"  # a network run on a rounding engine left the code (never an interpreter run)


@dataclass(frozen=True)
class TMConfiguration:
    """A Turing machine configuration.

    ``tape`` spans from the leftmost to the rightmost non-blank cell, widened
    to include the head cell; ``head`` indexes into it. Configurations that
    differ only by a shift of the whole tape are equal.
    """

    state: str
    tape: str
    head: int

    @classmethod
    def from_tape(cls, state: str, tape: str, head: int, blank: str) -> TMConfiguration:
        """The configuration of a tape with the head on index ``head``, trimmed to the span above."""
        lo = min(head, len(tape) - len(tape.lstrip(blank)))
        hi = max(head + 1, len(tape.rstrip(blank)))
        return cls(state, tape[lo:hi], head - lo)

    def __str__(self) -> str:
        t = self.tape
        return f"{self.state}: {t[: self.head]}[{t[self.head]}]{t[self.head + 1 :]}"


@dataclass(frozen=True)
class StackConfiguration:
    """A stack machine configuration: the state and each stack's contents, top first."""

    state: str
    stacks: tuple[tuple[str, str], ...]

    def stack(self, name: str) -> str:
        """Contents of stack ``name``, top first."""
        return dict(self.stacks)[name]

    def __str__(self) -> str:
        parts = [f"{n}={c or '(empty)'}" for n, c in self.stacks]
        return f"{self.state}: " + "  ".join(parts)


Configuration = TMConfiguration | StackConfiguration


@dataclass(frozen=True)
class RunResult:
    """The outcome of a run: status, step count, final configuration, optional trace."""

    status: Status
    steps: int
    configuration: Configuration
    accepted: bool | None
    reason: str
    trace: tuple[Configuration, ...] | None = None

    @property
    def halted(self) -> bool:
        """Whether the machine stopped by itself (not by the step limit, nor flagged by a rounding engine)."""
        return self.status not in (Status.OUT_OF_STEPS, Status.FLAGGED)

    @property
    def state(self) -> str:
        """The final state."""
        return self.configuration.state

    @property
    def tape(self) -> str:
        """Final tape span (Turing machines)."""
        if not isinstance(self.configuration, TMConfiguration):
            raise AttributeError("a stack machine result has 'stacks', not 'tape'")
        return self.configuration.tape

    @property
    def head(self) -> int:
        """Final head index into :attr:`tape` (Turing machines)."""
        if not isinstance(self.configuration, TMConfiguration):
            raise AttributeError("a stack machine result has 'stacks', not 'head'")
        return self.configuration.head

    @property
    def stacks(self) -> dict[str, str]:
        """Final stack contents, top first (stack machines)."""
        if not isinstance(self.configuration, StackConfiguration):
            raise AttributeError("a Turing machine result has 'tape' and 'head', not 'stacks'")
        return dict(self.configuration.stacks)

    @property
    def output(self) -> Any:
        """The machine's output: the final tape span, or the stacks as a dict."""
        if isinstance(self.configuration, TMConfiguration):
            return self.configuration.tape
        return self.stacks

    def to_dict(self) -> dict[str, Any]:
        """The JSON view used by ``turingrnn interpret --json``."""
        out: dict[str, Any] = {
            "status": self.status.value,
            "halted": self.halted,
            "accepted": self.accepted,
            "state": self.state,
            "steps": self.steps,
            "reason": self.reason,
        }
        if isinstance(self.configuration, TMConfiguration):
            out["tape"] = self.configuration.tape
            out["head"] = self.configuration.head
        else:
            out["stacks"] = self.stacks
        return out

    def format_trace(self) -> str:
        """The trace as readable lines, one per step (empty when no trace was kept)."""
        if self.trace is None:
            return ""
        width = len(str(len(self.trace)))
        lines = [f"{i:>{width}}  {c}" for i, c in enumerate(self.trace)]
        lines.append(f"{self.status.value} after {self.steps} steps ({self.reason})")
        return "\n".join(lines)


# ---------------------------------------------------------------- input checks


def check_tm_input(tm: TuringMachine, word: str, head: int) -> None:
    """Raise :class:`InputError` unless ``word`` and ``head`` fit ``tm``."""
    if not isinstance(word, str):
        raise InputError(f"input word must be a string, got {type(word).__name__}")
    allowed = set(tm.symbols)
    for i, c in enumerate(word):
        if c not in allowed:
            raise InputError(
                f"input symbol {c!r} at position {i} is not in the tape alphabet; allowed: "
                + ", ".join(repr(s) for s in tm.symbols)
            )
    if not isinstance(head, int) or isinstance(head, bool) or not 0 <= head <= max(len(word), 0):
        raise InputError(
            f"head position {head!r} is outside the input word of length {len(word)} (allowed: 0..{len(word)})"
        )


def check_stack_input(sm: StackMachine, word: str) -> None:
    """Raise :class:`InputError` unless ``word`` fits the input stack's alphabet."""
    if not isinstance(word, str):
        raise InputError(f"input word must be a string, got {type(word).__name__}")
    if sm.input_stack is None:
        if word:
            raise InputError(f"machine {sm.name!r} has no stacks, so its input must be empty; got {word!r}")
        return
    alphabet = sm.alphabet(sm.input_stack)
    for i, c in enumerate(word):
        if c not in alphabet:
            raise InputError(
                f"input symbol {c!r} at position {i} is not in the alphabet of input stack "
                f"{sm.input_stack!r}; allowed: " + ", ".join(repr(s) for s in alphabet)
            )


# ---------------------------------------------------------------- Turing machines


class _TMRun:
    """Mutable state of one Turing machine run (tape as a growable list)."""

    def __init__(self, tm: TuringMachine, tape: str, head: int, state: str) -> None:
        self.tm = tm
        self.cells = list(tape) if tape else [tm.blank]
        if head == len(self.cells):
            self.cells.append(tm.blank)
        self.head = head
        self.state = state

    def configuration(self) -> TMConfiguration:
        return TMConfiguration.from_tape(self.state, "".join(self.cells), self.head, self.tm.blank)

    def step(self) -> str | None:
        """Take one step; return why the machine halted, or ``None`` if it goes on."""
        rule = self.tm.rule(self.state, self.cells[self.head])
        if rule is None:
            return "undefined transition"
        self.cells[self.head] = rule.write
        if rule.move == "R":
            self.head += 1
            if self.head == len(self.cells):
                self.cells.append(self.tm.blank)
        elif rule.move == "L":
            if self.head == 0:
                self.cells.insert(0, self.tm.blank)
            else:
                self.head -= 1
        self.state = rule.next
        return "halting state" if rule.next in self.tm.halting_states else None


class _StackRun:
    """Mutable state of one stack machine run (each stack a list, top at the end)."""

    def __init__(self, sm: StackMachine, contents: list[str], state: str) -> None:
        self.sm = sm
        self.lists: list[list[str]] = [list(reversed(c)) for c in contents]
        self.state = state

    def configuration(self) -> StackConfiguration:
        return StackConfiguration(
            self.state, tuple((n, "".join(reversed(s))) for n, s in zip(self.sm.stack_names, self.lists, strict=True))
        )

    def step(self) -> str | None:
        tops = tuple(s[-1] if s else EMPTY for s in self.lists)
        rule = self.sm.rule(self.state, tops)
        if rule is None:
            return "undefined transition"
        for s, op in zip(self.lists, rule.ops, strict=True):
            if op.kind == "pop":
                s.pop()
            elif op.kind == "push":
                s.append(op.symbol)  # type: ignore[arg-type]
        self.state = rule.next
        return "halting state" if rule.next in self.sm.halting_states else None


def _check_start(machine: Machine, start: Configuration) -> None:
    """Raise :class:`InputError` unless ``start`` is a configuration of ``machine``."""
    if start.state not in machine.states:
        raise InputError(f"start configuration state {start.state!r} is not a state; states are: {machine.states}")
    if isinstance(machine, TuringMachine) and isinstance(start, TMConfiguration):
        check_tm_input(machine, start.tape, start.head)
        if start.head == len(start.tape):
            raise InputError(f"start configuration head {start.head} is outside its tape {start.tape!r}")
        return
    if isinstance(machine, StackMachine) and isinstance(start, StackConfiguration):
        names = tuple(n for n, _ in start.stacks)
        if names != machine.stack_names:
            raise InputError(f"start configuration has stacks {names}; the machine's stacks are {machine.stack_names}")
        for (name, alphabet), (_, contents) in zip(machine.stacks, start.stacks, strict=True):
            bad = [c for c in contents if c not in alphabet]
            if bad:
                raise InputError(f"stack {name!r} holds {bad[0]!r}, which is not in its alphabet {alphabet}")
        return
    raise InputError(f"a {type(start).__name__} cannot start a {type(machine).__name__}")


def _start(machine: Machine, word: str, head: int, start: Configuration | None) -> _TMRun | _StackRun:
    if not isinstance(machine, TuringMachine | StackMachine):
        raise InputError(f"expected a TuringMachine or StackMachine, got {type(machine).__name__}")
    if start is not None:
        if word or head:
            raise InputError("give either an input word (and head) or a start configuration, not both")
        _check_start(machine, start)
        if isinstance(start, TMConfiguration):
            return _TMRun(machine, start.tape, start.head, start.state)  # type: ignore[arg-type]
        return _StackRun(machine, [c for _, c in start.stacks], start.state)  # type: ignore[arg-type]
    if isinstance(machine, TuringMachine):
        check_tm_input(machine, word, head)
        return _TMRun(machine, word, head, machine.start)
    if head != 0:
        raise InputError(f"head position {head} given, but stack machines have no head (allowed: 0)")
    check_stack_input(machine, word)
    contents = ["" for _ in machine.stacks]
    if machine.input_stack is not None:
        contents[machine.stack_names.index(machine.input_stack)] = word
    return _StackRun(machine, contents, machine.start)


def steps(
    machine: Machine, word: str = "", *, head: int = 0, start: Configuration | None = None
) -> Iterator[Configuration]:
    """Yield the initial configuration, then the configuration after each step.

    The run starts from ``word`` (and ``head``), or from the configuration
    ``start`` when one is given.

    A halting step on an undefined transition yields the unchanged
    configuration, so the number of configurations yielded is ``steps + 1``.
    The generator ends when the machine halts; it may run forever otherwise.
    """
    state = _start(machine, word, head, start)
    yield state.configuration()
    if state.state in machine.halting_states:
        return
    while True:
        reason = state.step()
        yield state.configuration()
        if reason is not None:
            return


def check_max_steps(max_steps: object) -> None:
    """Raise :class:`InputError` unless ``max_steps`` is a whole number ``>= 0``."""
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 0:
        raise InputError(f"max_steps must be a whole number >= 0, got {max_steps!r}")


def finish(
    machine: Machine, steps: int, final: Configuration, reason: str | None, trace: list[Configuration] | None = None
) -> RunResult:
    """The :class:`RunResult` of a run that stopped for ``reason`` (``None``: the step limit)."""
    kept = tuple(trace) if trace is not None else None
    if reason is None:
        return RunResult(Status.OUT_OF_STEPS, steps, final, None, "step limit", kept)
    accepted = machine.verdict(final.state) if reason == "halting state" else (False if machine.accept else None)
    if accepted is None:
        status = Status.HALTED
    else:
        status = Status.ACCEPTED if accepted else Status.REJECTED
    return RunResult(status, steps, final, accepted, reason, kept)


def run(
    machine: Machine,
    word: str = "",
    *,
    head: int = 0,
    max_steps: int = 1_000_000,
    trace: bool = False,
    start: Configuration | None = None,
) -> RunResult:
    """Run ``machine`` on ``word`` until it halts or ``max_steps`` steps were taken.

    For a Turing machine the word is written on a blank tape with the head on
    index ``head``; for a stack machine it is pushed on the input stack, first
    symbol on top. Alternatively the run starts from the configuration
    ``start``. With ``trace=True`` every configuration is kept.
    """
    check_max_steps(max_steps)
    state = _start(machine, word, head, start)
    kept = [state.configuration()] if trace else None
    count = 0
    reason = "halting state" if state.state in machine.halting_states else None
    while reason is None and count < max_steps:
        reason = state.step()
        count += 1
        if kept is not None:
            kept.append(state.configuration())
    return finish(machine, count, state.configuration(), reason, kept)


# ---------------------------------------------------------------- worked examples

DEFAULT_MAX_STEPS = 1_000_000
"""Step limit for runs and examples that do not set their own."""
FAST_EXAMPLE_STEPS = 2_000_000
"""Turing machine examples allowed more steps than this run on the Numba interpreter."""


def check_example(machine: Machine, example: Example) -> list[str]:
    """Run one worked example and return a message per mismatch (empty when it holds)."""
    limit = example.max_steps if example.max_steps is not None else DEFAULT_MAX_STEPS
    label = f"example input {example.input!r}"
    try:
        if isinstance(machine, TuringMachine) and limit > FAST_EXAMPLE_STEPS:
            from .fast_interpreter import run_tm_fast

            result = run_tm_fast(machine, example.input, head=example.head, max_steps=limit)
        else:
            result = run(machine, example.input, head=example.head, max_steps=limit)
    except InputError as e:
        return [f"{label}: {e}"]
    found: dict[str, Any] = {"status": result.status.value, "steps": result.steps, "state": result.state}
    if isinstance(machine, TuringMachine):
        found |= {
            "tape": result.tape,
            "final_head": result.head,
            "nonblank": sum(c != machine.blank for c in result.tape),
        }
    problems = []
    for attr, value in found.items():
        want = getattr(example, attr)
        if want is not None and want != value:
            problems.append(f"{label}: expected {attr} {want!r}, got {value!r}")
    if example.stacks is not None:
        if not isinstance(result.configuration, StackConfiguration):
            problems.append(f"{label}: expects stacks, but the machine is a Turing machine")
        else:
            got = result.stacks
            for name, want in example.stacks:
                if name not in got:
                    problems.append(f"{label}: expects stack {name!r}, but stacks are {', '.join(got)}")
                elif got[name] != want:
                    problems.append(f"{label}: expected stack {name!r} = {want!r}, got {got[name]!r}")
    if isinstance(machine, StackMachine) and any(
        getattr(example, a) is not None for a in ("tape", "final_head", "nonblank")
    ):
        problems.append(f"{label}: tape, head and nonblank apply to Turing machines only")
    return problems


def check_examples(machine: Machine) -> list[str]:
    """Run every worked example of ``machine``; return all mismatches."""
    return [p for ex in machine.examples for p in check_example(machine, ex)]
