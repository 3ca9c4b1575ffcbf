"""Machine models: Turing machines and p-stack machines as frozen, validated values.

Both kinds are built with keyword-only arguments and checked on construction:
an invalid machine is never created. Every problem found is reported at once
in one :class:`~turingrnn.errors.SpecError` (``err.problems`` lists them).

Shared semantics (see ``docs/machines.md``):

* Symbols are single non-whitespace characters, so words and tapes are strings.
* Names and symbols may not contain the characters of :data:`RESERVED`, which
  neuron labels use as separators (:mod:`turingrnn.compile.labels`).
* A state is *halting* when it is listed in ``accept``, ``reject`` or ``halt``.
  Halting states have no transitions.
* A non-halting state with no transition for the current configuration halts
  the machine ("undefined transition"); that halting step is counted, as in
  the bbchallenge convention.
* ``accepted`` is ``None`` for a machine that declares no accepting state.
  Otherwise it is ``True`` exactly when the machine halts in an accepting state.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..errors import ConflictingTransitionError, SpecError, SpecWarning

ANY = "any"
"""Stack read that matches every top, including the empty stack."""
EMPTY = "empty"
"""Stack read that matches only the empty stack."""
MOVES = ("L", "R", "S")
"""Head moves of a Turing machine: left, right, stay."""


RESERVED = "/@=,;|"
"""Characters that state names, stack names and symbols may not contain: neuron labels use them as separators.

See :mod:`turingrnn.compile.labels` for what each one separates. A stack
machine's state names may contain ``|``: the states of the 2-stack reduction
are named ``q|s`` (:func:`turingrnn.machines.reduction.pair_state`).
"""


def _allowed(reserved: str = RESERVED) -> str:
    return f"printable characters other than whitespace and {' '.join(reserved)}"


def _name_problem(what: str, name: object, reserved: str = RESERVED) -> str | None:
    """Why ``name`` cannot be a state or stack name (``what``), or ``None``."""
    allowed = f"names are non-empty strings of {_allowed(reserved)}"
    if not isinstance(name, str) or name == "":
        return f"{what} {name!r} is not allowed: {allowed}"
    for c in name:
        if c in reserved:
            return f"{what} {name!r} contains {c!r}, which neuron labels use as a separator; {allowed}"
        if c.isspace() or not c.isprintable():
            return f"{what} {name!r} contains {c!r}; {allowed}"
    return None


def _symbol_problem(what: str, symbol: object) -> str | None:
    """Why ``symbol`` cannot be a symbol, or ``None``."""
    allowed = f"symbols are single {_allowed()}"
    if not isinstance(symbol, str) or len(symbol) != 1 or symbol.isspace() or not symbol.isprintable():
        return f"{what} {symbol!r} is not allowed: {allowed}"
    if symbol in RESERVED:
        return f"{what} {symbol!r} is a character that neuron labels use as a separator; {allowed}"
    return None


def _show(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


@dataclass(frozen=True)
class StackOp:
    """One stack operation: ``noop``, ``pop`` or ``push SYMBOL``."""

    kind: Literal["noop", "pop", "push"]
    symbol: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("noop", "pop", "push"):
            raise SpecError(f"unknown stack operation {self.kind!r}; allowed: 'noop', 'pop', 'push SYMBOL'")
        if (self.kind == "push") != (self.symbol is not None):
            raise SpecError(f"stack operation {self.kind!r} with symbol {self.symbol!r}: only 'push' takes a symbol")

    def __str__(self) -> str:
        return f"push {self.symbol}" if self.kind == "push" else self.kind

    @classmethod
    def parse(cls, text: object) -> StackOp:
        """Read ``'noop'``, ``'pop'`` or ``'push X'``; raise :class:`SpecError` otherwise."""
        if isinstance(text, str):
            if text in ("noop", "pop"):
                return cls(text)  # type: ignore[arg-type]
            head, _, rest = text.partition(" ")
            if head == "push" and rest.strip():
                return cls("push", rest.strip())
        raise SpecError(f"stack operation {text!r} is not one of 'noop', 'pop', 'push SYMBOL'")


NOOP = StackOp("noop")
POP = StackOp("pop")


def push(symbol: str) -> StackOp:
    """The operation that pushes ``symbol``."""
    return StackOp("push", symbol)


@dataclass(frozen=True, kw_only=True)
class TMRule:
    """Turing machine transition: in ``state`` reading ``read``, write, move, go to ``next``."""

    state: str
    read: str
    write: str
    move: str
    next: str

    def __str__(self) -> str:
        return f"({self.state}, {self.read}) -> ({self.write}, {self.move}, {self.next})"


@dataclass(frozen=True, kw_only=True)
class StackRule:
    """Stack machine transition.

    ``read`` and ``ops`` have one entry per stack, in the machine's stack order.
    A read is a symbol, :data:`EMPTY` or :data:`ANY`; an op is a :class:`StackOp`.
    """

    state: str
    read: tuple[str, ...]
    next: str
    ops: tuple[StackOp, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "read", tuple(self.read))
        ops = tuple(op if isinstance(op, StackOp) else StackOp.parse(op) for op in self.ops)
        object.__setattr__(self, "ops", ops)

    def __str__(self) -> str:
        reads = ", ".join(self.read)
        ops = ", ".join(str(op) for op in self.ops)
        return f"({self.state}; {reads}) -> ({self.next}; {ops})"


@dataclass(frozen=True, kw_only=True)
class Example:
    """A worked example stored with a machine; ``None`` fields are not checked.

    ``head`` is the start position (Turing machines). The ``expect_*`` fields
    describe the result: ``status`` is one of ``accepted``, ``rejected``,
    ``halted`` or ``out-of-steps``; ``tape``/``final_head`` are the final tape
    span and head index; ``nonblank`` counts non-blank cells; ``stacks`` maps
    stack names to their contents, top first.
    """

    input: str = ""
    head: int = 0
    max_steps: int | None = None
    status: str | None = None
    steps: int | None = None
    state: str | None = None
    tape: str | None = None
    final_head: int | None = None
    nonblank: int | None = None
    stacks: tuple[tuple[str, str], ...] | None = None

    STATUSES = ("accepted", "rejected", "halted", "out-of-steps")

    def __post_init__(self) -> None:
        if isinstance(self.stacks, Mapping):
            object.__setattr__(self, "stacks", tuple(self.stacks.items()))
        elif self.stacks is not None:
            object.__setattr__(self, "stacks", tuple(tuple(p) for p in self.stacks))


@dataclass(frozen=True, kw_only=True)
class _Machine:
    """Fields and checks shared by both machine kinds."""

    name: str = ""
    description: str = ""
    states: tuple[str, ...]
    start: str
    accept: frozenset[str] = frozenset()
    reject: frozenset[str] = frozenset()
    halt: frozenset[str] = frozenset()
    examples: tuple[Example, ...] = ()

    _state_reserved = RESERVED
    """The characters state names may not contain."""

    def _normalize_common(self) -> None:
        object.__setattr__(self, "states", tuple(self.states))
        for attr in ("accept", "reject", "halt"):
            object.__setattr__(self, attr, frozenset(getattr(self, attr)))
        object.__setattr__(self, "examples", tuple(self.examples))

    def _common_problems(self) -> list[str]:
        problems: list[str] = []
        seen = _distinct(
            self.states,
            lambda s: _name_problem("state name", s, self._state_reserved),
            "state {!r} is listed twice in 'states'",
            problems,
        )
        if not self.states:
            problems.append("'states' is empty: a machine needs at least its start state")
        if self.start not in seen:
            problems.append(f"start state {self.start!r} is not a state; states are: {_show(self.states)}")
        for attr in ("accept", "reject", "halt"):
            for s in sorted(getattr(self, attr)):
                if s not in seen:
                    problems.append(f"{attr} state {s!r} is not a state; states are: {_show(self.states)}")
        for a, b in (("accept", "reject"), ("accept", "halt"), ("reject", "halt")):
            for s in sorted(getattr(self, a) & getattr(self, b)):
                problems.append(f"state {s!r} is in both '{a}' and '{b}'; a halting state has one verdict")
        return problems

    def _transition_problems(self, i: int, r: object, cls: type) -> tuple[str | None, list[str]]:
        """Checks every transition shares: its type, its state and its next state.

        Returns the transition's name for further messages (``None`` if it is
        not a ``cls`` at all) and the problems found.
        """
        if not isinstance(r, cls):
            return None, [f"transition {i} is {r!r}, not a {cls.__name__}"]
        where = f"transition {i} {r}"
        problems = []
        state, nxt = r.state, r.next  # type: ignore[attr-defined]
        if state not in self.states:
            problems.append(f"{where}: state {state!r} is not a state; states are: {_show(self.states)}")
        elif state in self.halting_states:
            problems.append(f"{where}: {state!r} is a halting state, and halting states have no transitions")
        if nxt not in self.states:
            problems.append(f"{where}: next state {nxt!r} is not a state; states are: {_show(self.states)}")
        return where, problems

    @property
    def halting_states(self) -> frozenset[str]:
        """States in which the machine stops: accept, reject and halt."""
        return self.accept | self.reject | self.halt

    @property
    def has_acceptance(self) -> bool:
        """Whether the machine declares accepting states (then every halt has a verdict)."""
        return bool(self.accept)

    def verdict(self, state: str) -> bool | None:
        """``accepted`` for a machine that halted in ``state`` (see module docs)."""
        if not self.accept:
            return None
        return state in self.accept

    def _warn_unreachable(self, successors: Mapping[str, set[str]]) -> None:
        reached = {self.start}
        todo = [self.start]
        while todo:
            for t in successors.get(todo.pop(), ()):
                if t not in reached:
                    reached.add(t)
                    todo.append(t)
        unreachable = [s for s in self.states if s not in reached]
        if unreachable:
            label = f"machine {self.name!r}" if self.name else "machine"
            warnings.warn(
                f"{label}: states {_show(unreachable)} cannot be reached from start state {self.start!r}",
                SpecWarning,
                stacklevel=4,
            )


def _distinct(names: Iterable[str], check: Callable[[str], str | None], twice: str, problems: list[str]) -> set[str]:
    """The set of ``names``; appends to ``problems`` what ``check`` finds of a name, or ``twice`` for a repeat."""
    seen: set[str] = set()
    for name in names:
        bad = check(name)
        if bad:
            problems.append(bad)
        elif name in seen:
            problems.append(twice.format(name))
        seen.add(name)
    return seen


def _raise(problems: list[str], conflicts: list[str]) -> None:
    if problems:
        raise SpecError(problems + conflicts)
    if conflicts:
        raise ConflictingTransitionError(conflicts)


@dataclass(frozen=True, kw_only=True)
class TuringMachine(_Machine):
    """A one-tape Turing machine.

    ``symbols`` lists the tape alphabet (single characters, ``blank`` among
    them); its order is the digit order used by formats and compilers.
    ``rules`` holds at most one :class:`TMRule` per (state, read symbol); they
    are stored sorted by state and symbol order. Moves are ``L``, ``R`` and
    ``S`` (stay). A missing rule halts the machine.

    >>> tm = TuringMachine(states=("A", "B"), symbols=("0", "1"), blank="0", start="A",
    ...     rules=[TMRule(state="A", read="0", write="1", move="R", next="B")])
    >>> tm.rule("A", "0").next
    'B'
    >>> tm.rule("B", "0") is None
    True
    """

    symbols: tuple[str, ...]
    blank: str
    rules: tuple[TMRule, ...] = ()
    _table: dict[tuple[str, str], TMRule] = field(init=False, repr=False, compare=False)

    kind = "tm"

    def __post_init__(self) -> None:
        self._normalize_common()
        object.__setattr__(self, "symbols", tuple(self.symbols))
        object.__setattr__(self, "rules", tuple(self.rules))
        problems = self._common_problems()
        syms = _distinct(
            self.symbols, lambda s: _symbol_problem("symbol", s), "symbol {!r} is listed twice in 'symbols'", problems
        )
        if self.blank not in syms:
            problems.append(f"blank {self.blank!r} is not a symbol; symbols are: {_show(self.symbols)}")
        table: dict[tuple[str, str], TMRule] = {}
        conflicts = []
        for i, r in enumerate(self.rules):
            where, found = self._transition_problems(i, r, TMRule)
            problems += found
            if where is None:
                continue
            for what, sym in (("read", r.read), ("write", r.write)):
                if sym not in syms:
                    problems.append(
                        f"{where}: {what} symbol {sym!r} is not a symbol; symbols are: {_show(self.symbols)}"
                    )
            if r.move not in MOVES:
                problems.append(f"{where}: move {r.move!r} is not one of {_show(MOVES)}")
            key = (r.state, r.read)
            if key in table:
                j = self.rules.index(table[key])
                conflicts.append(
                    f"transitions {j} {table[key]} and {i} {r} both apply in state {r.state!r} reading {r.read!r}"
                )
            else:
                table[key] = r
        _raise(problems, conflicts)
        order_s = {s: i for i, s in enumerate(self.states)}
        order_a = {a: i for i, a in enumerate(self.symbols)}
        rules = tuple(sorted(self.rules, key=lambda r: (order_s[r.state], order_a[r.read])))
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "_table", table)
        successors: dict[str, set[str]] = {}
        for r in rules:
            successors.setdefault(r.state, set()).add(r.next)
        self._warn_unreachable(successors)

    def rule(self, state: str, symbol: str) -> TMRule | None:
        """The rule for ``state`` reading ``symbol``, or ``None`` (the machine halts)."""
        return self._table.get((state, symbol))

    def run(self, word: str = "", *, head: int = 0, max_steps: int = 1_000_000, trace: bool = False):  # noqa: ANN201
        """Run on ``word`` (head on index ``head``); see :func:`turingrnn.machines.interpreter.run`."""
        from .interpreter import run

        return run(self, word, head=head, max_steps=max_steps, trace=trace)

    def steps(self, word: str = "", *, head: int = 0):  # noqa: ANN201
        """Step generator; see :func:`turingrnn.machines.interpreter.steps`."""
        from .interpreter import steps

        return steps(self, word, head=head)


@dataclass(frozen=True, kw_only=True)
class StackMachine(_Machine):
    """A deterministic machine with ``p >= 0`` named stacks.

    ``stacks`` maps each stack name to its alphabet (single characters), in a
    fixed order; every :class:`StackRule` gives one read and one op per stack
    in that order. The input word is pushed on ``input_stack`` (default: the
    first stack) so that its first symbol ends on top. A ``pop`` is only
    allowed where the rule reads a symbol on that stack, so it never meets an
    empty stack.
    """

    stacks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    input_stack: str | None = None
    rules: tuple[StackRule, ...] = ()
    _by_state: dict[str, tuple[StackRule, ...]] = field(init=False, repr=False, compare=False)
    _cache: dict[tuple[str, tuple[str, ...]], StackRule | None] = field(init=False, repr=False, compare=False)

    kind = "stack"
    _state_reserved = RESERVED.replace("|", "")  # the reduction's states are named q|s

    def __post_init__(self) -> None:
        self._normalize_common()
        stacks = self.stacks.items() if isinstance(self.stacks, Mapping) else self.stacks
        object.__setattr__(self, "stacks", tuple((n, tuple(a)) for n, a in stacks))
        object.__setattr__(self, "rules", tuple(self.rules))
        if self.input_stack is None and self.stacks:
            object.__setattr__(self, "input_stack", self.stacks[0][0])
        problems = self._common_problems()
        names = [n for n, _ in self.stacks]
        _distinct(names, lambda n: _name_problem("stack name", n), "stack {!r} is listed twice", problems)
        for n, alphabet in self.stacks:
            if len(set(alphabet)) != len(alphabet):
                problems.append(f"stack {n!r} lists a symbol twice in its alphabet {_show(alphabet)}")
            for s in alphabet:
                bad = _symbol_problem(f"stack {n!r}: symbol", s)
                if bad:
                    problems.append(bad)
        if self.input_stack is not None and self.input_stack not in names:
            problems.append(f"input stack {self.input_stack!r} is not a stack; stacks are: {_show(names)}")
        p = len(self.stacks)
        by_state: dict[str, list[tuple[int, StackRule]]] = {}
        conflicts = []
        for i, r in enumerate(self.rules):
            where, found = self._transition_problems(i, r, StackRule)
            problems += found
            if where is None:
                continue
            if len(r.read) != p or len(r.ops) != p:
                problems.append(
                    f"{where}: has {len(r.read)} reads and {len(r.ops)} ops, "
                    f"but the machine has {p} stacks ({_show(names)})"
                )
                continue
            for (n, alphabet), read, op in zip(self.stacks, r.read, r.ops, strict=True):
                if read not in alphabet and read not in (ANY, EMPTY):
                    allowed = _show([*alphabet, ANY, EMPTY])
                    problems.append(f"{where}: read {read!r} on stack {n!r} is not allowed; allowed: {allowed}")
                if op.kind == "push" and op.symbol not in alphabet:
                    problems.append(
                        f"{where}: push {op.symbol!r} on stack {n!r} is not in its alphabet {_show(alphabet)}"
                    )
                if op.kind == "pop" and read in (ANY, EMPTY):
                    problems.append(f"{where}: pops stack {n!r} but reads {read!r} there; a pop needs a read symbol")
            for j, other in by_state.get(r.state, []):
                if all(a == b or ANY in (a, b) for a, b in zip(r.read, other.read, strict=True)):
                    conflicts.append(f"transitions {j} {other} and {i} {r} both apply in state {r.state!r}")
            by_state.setdefault(r.state, []).append((i, r))
        _raise(problems, conflicts)
        order = {s: i for i, s in enumerate(self.states)}
        rules = tuple(sorted(self.rules, key=lambda r: (order[r.state], r.read, r.next, tuple(map(str, r.ops)))))
        object.__setattr__(self, "rules", rules)
        grouped: dict[str, tuple[StackRule, ...]] = {}
        for r in rules:
            grouped[r.state] = grouped.get(r.state, ()) + (r,)
        object.__setattr__(self, "_by_state", grouped)
        object.__setattr__(self, "_cache", {})
        self._warn_unreachable({s: {r.next for r in rs} for s, rs in grouped.items()})

    @property
    def stack_names(self) -> tuple[str, ...]:
        """Stack names in order."""
        return tuple(n for n, _ in self.stacks)

    def alphabet(self, stack: str) -> tuple[str, ...]:
        """The alphabet of ``stack``."""
        for n, a in self.stacks:
            if n == stack:
                return a
        raise SpecError(f"unknown stack {stack!r}; stacks are: {_show(self.stack_names)}")

    def rule(self, state: str, tops: tuple[str, ...]) -> StackRule | None:
        """The rule for ``state`` when the stack tops are ``tops`` (a symbol or :data:`EMPTY` each)."""
        key = (state, tops)
        try:
            return self._cache[key]
        except KeyError:
            pass
        found = None
        for r in self._by_state.get(state, ()):
            if all(rd == ANY or rd == t for rd, t in zip(r.read, tops, strict=True)):
                found = r
                break
        self._cache[key] = found
        return found

    def run(self, word: str = "", *, max_steps: int = 1_000_000, trace: bool = False):  # noqa: ANN201
        """Run on ``word``; see :func:`turingrnn.machines.interpreter.run`."""
        from .interpreter import run

        return run(self, word, max_steps=max_steps, trace=trace)

    def steps(self, word: str = ""):  # noqa: ANN201
        """Step generator; see :func:`turingrnn.machines.interpreter.steps`."""
        from .interpreter import steps

        return steps(self, word)


Machine = TuringMachine | StackMachine
