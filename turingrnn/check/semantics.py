"""The machine semantics per configuration class: symbolic words, the classes of a state, and their successors.

A class fixes the state and, per stack, either empty or its top symbol (or the
top two, for the constructions in :data:`LOOKAHEAD`) over an unknown rest
``r_S``. :class:`_Semantics` lists the classes the readout can see and steps a
class as :mod:`turingrnn.machines.interpreter` steps every configuration in it;
:func:`~turingrnn.check.prove.prove` checks the network against these successors.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..compile.encoding import digit_of
from ..compile.network import Network, StackReadout
from ..errors import ProofError
from ..machines.model import EMPTY, StackMachine, TuringMachine
from .affine import Affine, Domain, code_hull

LOOKAHEAD = ("realtime",)
"""Constructions whose encoding holds each stack's top thresholds (``Preload.tops``), so a step case needs
the symbol below a popped top: their classes are refined by it."""


@dataclass(frozen=True)
class Word:
    """A stack's contents: known ``symbols`` on top of an unknown ``rest`` (a code symbol), or of nothing."""

    symbols: tuple[str, ...] = ()
    rest: str | None = None

    def code(self, alphabet: Sequence[str], kind: str) -> Affine:
        """The code as an affine expression in the rest's symbol."""
        base = 2 * len(alphabet)
        value = Affine.symbol(self.rest) if self.rest else Affine(0)
        for a in reversed(self.symbols):
            value = (value + Affine(digit_of(alphabet.index(a), kind))).scale(Fraction(1, base))
        return value

    def __str__(self) -> str:
        if not self.symbols:
            return self.rest or "[]"
        return "[" + " ".join(self.symbols) + (f"|{self.rest}]" if self.rest else "]")


@dataclass(frozen=True)
class Configuration:
    """A symbolic configuration: a state and one :class:`Word` per stack (or half-tape)."""

    state: str
    stacks: tuple[tuple[str, Word], ...]

    def __str__(self) -> str:
        return " ".join([self.state, *(f"{s}={w}" for s, w in self.stacks)])


def rest_symbol(stack: str) -> str:
    """The symbol for the code below the top of ``stack``."""
    return f"r_{stack}"


class _Semantics:
    """The machine the network's readout speaks about, stepped one configuration class at a time."""

    def __init__(self, net: Network, machine: TuringMachine | StackMachine) -> None:
        self.net = net
        self.kind = net.readout.kind
        self.tm = machine if isinstance(machine, TuringMachine) else None
        self.sm: StackMachine | None = None
        if isinstance(machine, StackMachine):
            self.sm = machine
        elif self.kind == "reduced":
            self.sm = net.readout.reduction.machine if net.readout.reduction else None
        names = self.sm.stack_names if self.sm is not None else ("L", "R")
        readouts = {s.name: s for s in net.readout.stacks}
        if set(readouts) != set(names):
            raise ProofError(f"the readout reads stacks {sorted(readouts)}; the machine has {sorted(names)}")
        self.stacks: dict[str, StackReadout] = {s: readouts[s] for s in names}
        self.halting = self.sm.halting_states if self.sm else machine.halting_states
        self.lookahead = net.construction in LOOKAHEAD

    def classes(self, state: str) -> list[Configuration]:
        """Every class of ``state``: per stack, empty or a top symbol over its rest (tapes: no empty, blank on top).

        Networks that read the new top of a popped stack one tick ahead (``lookahead``) get each class
        refined by the symbol below the top of every stack its transition pops (or nothing below it),
        so that the successor's tops are known.
        """
        options = []
        for s, r in self.stacks.items():
            tops = [Word((a,), self.rest(s)) for a in r.alphabet]
            options.append(tops if r.kind == "tape" else [*tops, Word()])
        out = [Configuration(state, tuple(zip(self.stacks, ws, strict=True))) for ws in itertools.product(*options)]
        return [d for c in out for d in self.refine(c)] if self.lookahead else out

    def refine(self, c: Configuration) -> list[Configuration]:
        """``c`` split by the second symbol of every stack its transition pops (or nothing below it).

        For half-tapes: the tape the head leaves (``R`` moving right, ``L`` moving left), whose second
        symbol is always there (a blank tail codes 0).
        """
        words = dict(c.stacks)
        popped: set[str] = set()
        if self.sm is not None:
            rule = self.sm.rule(c.state, tuple(w.symbols[0] if w.symbols else EMPTY for w in words.values()))
            if rule is not None:
                popped = {s for s, op in zip(words, rule.ops, strict=True) if op.kind == "pop"}
        elif self.tm is not None:
            tm_rule = self.tm.rule(c.state, words["R"].symbols[0])
            if tm_rule is not None and tm_rule.move != "S":
                popped = {"R" if tm_rule.move == "R" else "L"}
        options = []
        for s, w in c.stacks:
            if s not in popped or w.rest is None:
                options.append([w])
                continue
            below = [Word((*w.symbols, b), w.rest) for b in self.stacks[s].alphabet]
            options.append(below if self.stacks[s].kind == "tape" else [*below, Word(w.symbols)])
        return [Configuration(c.state, tuple(zip(self.stacks, ws, strict=True))) for ws in itertools.product(*options)]

    def rest(self, stack: str) -> str | None:
        """The symbol for the rest of ``stack`` below its top, or ``None`` when every rest codes 0 (one tape symbol)."""
        lo, hi, _ = code_hull(self.stacks[stack].alphabet, self.stacks[stack].kind)
        return rest_symbol(stack) if hi > lo else None

    def successor(self, c: Configuration) -> Configuration | None:
        """The configuration after one step of the class, or ``None`` for a missing transition."""
        words = dict(c.stacks)
        if self.tm is not None and self.kind == "tape":
            left, right = words["L"], words["R"]
            rule = self.tm.rule(c.state, right.symbols[0])
            if rule is None:
                return None
            below = Word(right.symbols[1:], right.rest)
            if rule.move == "R":
                new = {"L": Word((rule.write, *left.symbols), left.rest), "R": below}
            elif rule.move == "L":
                new = {"L": Word(left.symbols[1:], left.rest), "R": Word((left.symbols[0], rule.write), right.rest)}
            else:
                new = {"L": left, "R": Word((rule.write, *below.symbols), below.rest)}
            return Configuration(rule.next, (("L", new["L"]), ("R", new["R"])))
        assert self.sm is not None
        tops = tuple(w.symbols[0] if w.symbols else EMPTY for w in words.values())
        stack_rule = self.sm.rule(c.state, tops)
        if stack_rule is None:
            return None
        out = []
        for (s, w), op in zip(c.stacks, stack_rule.ops, strict=True):
            if op.kind == "pop":
                w = Word(w.symbols[1:], w.rest)
            elif op.kind == "push":
                w = Word((op.symbol, *w.symbols), w.rest)  # type: ignore[arg-type]
            out.append((s, w))
        return Configuration(stack_rule.next, tuple(out))

    def domain(self, c: Configuration) -> Domain:
        """The box of the class's rest symbols."""
        box = []
        for s, w in c.stacks:
            if w.rest:
                lo, hi, _ = code_hull(self.stacks[s].alphabet, self.stacks[s].kind)
                box.append((w.rest, lo, hi))
        return Domain(box=tuple(box))

    def codes(self, c: Configuration) -> dict[str, Affine]:
        """Each stack's code in the configuration."""
        return {s: w.code(self.stacks[s].alphabet, self.stacks[s].kind) for s, w in c.stacks}

    def verdict(self, state: str) -> str:
        """``accept``, ``reject`` or ``halt`` for a halting state (of the Turing machine, for reduced readouts)."""
        machine: Any = self.sm if self.sm is not None else self.tm
        return "accept" if state in machine.accept else "reject" if state in machine.reject else "halt"
