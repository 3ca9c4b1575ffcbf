"""``prove``: a certificate that a compiled network simulates its machine for all stack contents.

Tests run a network on some inputs; a certificate covers every input. It
splits the configurations into finitely many *classes* (the state, and for each
stack: empty, or its top symbol) and shows, for each class, that one machine
step of the network (``ticks_per_step`` ticks) maps the encoding of *every*
configuration of the class to the encoding of its successor.

**Symbols.** In a class, a stack with top ``a`` holds the code
``(d(a) + r_S) / B`` (:mod:`turingrnn.compile.encoding`: ``B = 2k``, ``d`` the digit of
``a``), where the symbol ``r_S`` is the code of the stack below its top. It
ranges over the codes of all words, whose hull is ``[0, 1)`` for stack codes
and ``[0, (B-2)/(B-1)]`` for tape codes. An empty stack is the constant 0.

**One tick.** Every neuron's value is kept as an exact affine expression in
the symbols (:class:`Affine`, rational coefficients). A tick computes each
pre-activation ``z = W x + b`` as an affine expression, and checks on the whole
box of symbols that ``z <= 0``, ``z >= 1`` or ``0 <= z <= 1``: then sigma is 0,
1 or the identity on the class, and the value after the tick is affine again.
An affine function takes its extremes on a box at the box's corners, so each
check is two evaluations per symbol. The three conditions are closed, so
checking them on the closed hull is exact even where the code set is open
(``r < 1``). A neuron whose argument can fall on both sides of 0 or 1 is a
failure, named with its tick. Neurons flagged binary must come out as the
constants 0 or 1, and a neuron of phase ``p`` must be identically 0 at the
ticks ``t`` with ``t mod ticks_per_step != p`` (the idle phases).

**One step.** The class's configuration is encoded as the compiler's preload
would write it (the *canonical encoding*: the start values of the state, and
each stack's code in one neuron). After ``ticks_per_step`` ticks the result
``x'`` must be *equivalent* to the canonical encoding ``y`` of the successor:
the readout (state code, every stack code) is the same affine expression, and
every neuron's argument at the next tick is the same expression or saturates
the same way on the whole class. Then ``x'`` and ``y`` give the same values
from the next tick on. By induction over steps, every run of the network from
an encoded configuration reads out the machine's run. A class without a
transition must read out an undefined-transition code.

**Input.** A preloaded network writes the canonical encoding (the readout must
read back the state and symbolic codes ``v_S``). A streamed network reads the
word through :func:`turingrnn.compile.gadgets.stream_loader`; its invariant after ``t``
symbols, with ``s = B**-t`` and ``A`` the code of the first ``t - 1`` symbols,
is ``load:seen = 1``, ``load:scale = s``, ``load:digit:<last> = d(last) s``,
``load:acc = A``, every other neuron 0. The pair ``(s, A)`` lies in the triangle
``0 <= s <= 1/B``, ``0 <= A <= 1 - B s`` (checked at its corners). The first
symbol establishes it, every further symbol keeps it, and the end line hands
``Q = A + d(last) s``, the word's code, to the network, whose first readout must
be equivalent to the canonical encoding of the start configuration.

A certificate assumes exact arithmetic and relies on the machine semantics of
:mod:`turingrnn.machines.interpreter` (restated here per class); the reduction of
``ss95`` Turing machines is proved at the level of its 2-stack machine.

>>> from turingrnn.machines.parsing import load_machine
>>> from turingrnn.compile.compiler import compile_machine
>>> tm = load_machine("bb2")
>>> cert = prove(tm, compile_machine(tm))
>>> cert.ok, len(cert.cases)
(True, 12)
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..compile.compiler import CONSTRUCTIONS, INPUT_MODES, compile_machine
from ..compile.encoding import digit_of
from ..compile.network import Linear, Network, StackReadout, sigma
from ..engines.trace import READOUT_KINDS, reduction_of, stop_reason
from ..errors import InputError, ProofError
from ..machines.model import EMPTY, StackMachine, TuringMachine

DEFAULT_MAX_CASES = 100_000
"""The default case budget of :func:`prove`."""

LOOKAHEAD = ("realtime",)
"""Constructions whose encoding holds each stack's top thresholds (``Preload.tops``), so a step case needs
the symbol below a popped top: their classes are refined by it."""

LOADER = ("load:seen", "load:scale", "load:acc", "load:hand")
"""The stream loader's neurons that the input proof reads (plus ``load:digit:<a>``)."""


# ---------------------------------------------------------------- affine expressions over the symbols


class Affine:
    """``const + sum(coef[v] * v)``: an exact affine expression in named symbols."""

    __slots__ = ("const", "coef")

    def __init__(self, const: Fraction | int = 0, coef: Mapping[str, Fraction | int] | None = None) -> None:
        self.const = Fraction(const)
        self.coef: dict[str, Fraction] = {v: Fraction(c) for v, c in (coef or {}).items() if c != 0}

    @classmethod
    def make(cls, const: Fraction, coef: dict[str, Fraction] | None = None) -> Affine:
        """Build from a Fraction and a dict of Fractions (zero coefficients are dropped), without conversions."""
        out = cls.__new__(cls)
        out.const = const
        out.coef = {v: c for v, c in coef.items() if c} if coef else {}
        return out

    @classmethod
    def symbol(cls, name: str) -> Affine:
        """The symbol ``name`` itself."""
        return cls(0, {name: 1})

    def __add__(self, other: Affine) -> Affine:
        coef = dict(self.coef)
        for v, c in other.coef.items():
            coef[v] = coef.get(v, 0) + c
        return Affine.make(self.const + other.const, coef)

    def __sub__(self, other: Affine) -> Affine:
        return self + other.scale(-1)

    def scale(self, w: Fraction | int) -> Affine:
        """``w * self``."""
        w = Fraction(w)
        return Affine.make(self.const * w, {v: c * w for v, c in self.coef.items()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Affine) and self.const == other.const and self.coef == other.coef

    def __hash__(self) -> int:
        return hash((self.const, tuple(sorted(self.coef.items()))))

    @property
    def is_const(self) -> bool:
        """Whether no symbol occurs."""
        return not self.coef

    def substitute(self, values: Mapping[str, Affine]) -> Affine:
        """Replace symbols by affine expressions (symbols not in ``values`` stay)."""
        out = Affine(self.const)
        for v, c in self.coef.items():
            out = out + (values[v].scale(c) if v in values else Affine(0, {v: c}))
        return out

    def to_sympy(self) -> Any:
        """The same expression in sympy (exact rationals)."""
        import sympy

        def rat(x: Fraction) -> Any:
            return sympy.Rational(x.numerator, x.denominator)

        return rat(self.const) + sum((rat(c) * sympy.Symbol(v) for v, c in sorted(self.coef.items())), sympy.Integer(0))

    def __str__(self) -> str:
        return str(self.to_sympy())

    def __repr__(self) -> str:
        return f"Affine({self})"


@dataclass(frozen=True)
class Domain:
    """Where the symbols range: a box of closed intervals, or the convex hull of ``vertices``.

    The conditions checked on it (``<= 0``, ``>= 1``, in ``[0, 1]``) are closed,
    so a half-open end such as ``r < 1`` is checked at its closure.
    """

    box: tuple[tuple[str, Fraction, Fraction], ...] = ()
    vertices: tuple[tuple[tuple[str, Fraction], ...], ...] = ()

    def bounds(self, e: Affine) -> tuple[Fraction, Fraction]:
        """The least and greatest value of ``e`` on the domain."""
        if not e.coef:
            return e.const, e.const
        if self.vertices:
            values = [e.const + sum(c * dict(p)[v] for v, c in e.coef.items()) for p in self.vertices]
            return min(values), max(values)
        box = {v: (lo, hi) for v, lo, hi in self.box}
        lo = hi = e.const
        for v, c in e.coef.items():
            a, b = c * box[v][0], c * box[v][1]
            lo, hi = lo + min(a, b), hi + max(a, b)
        return lo, hi


def code_hull(alphabet: Sequence[str], kind: str) -> tuple[Fraction, Fraction, bool]:
    """The hull of the codes of all words: ``(lo, hi, hi_open)``."""
    base = 2 * len(alphabet)
    if kind == "stack":
        return Fraction(0), Fraction(1), True  # sum (B-1)/B**i tends to 1
    return Fraction(0), Fraction(base - 2, base - 1), False


# ---------------------------------------------------------------- symbolic stack words and configuration classes


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
            self.sm = reduction_of(machine).machine
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


# ---------------------------------------------------------------- symbolic ticks

Vector = dict[int, Affine]
"""Neuron values by index; missing neurons are 0."""


@dataclass(frozen=True)
class _Failure:
    neuron: str | None
    tick: int | None
    detail: str


class _Failed(Exception):
    def __init__(self, failure: _Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


class _Symbolic:
    """Ticks of a network on affine neuron values, with sigma checked to be affine on the domain."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.cols: list[list[tuple[int, Fraction]]] = [[] for _ in net.labels]
        for i, j, w in net.W:
            self.cols[j].append((i, w))
        self.line_cols: dict[str, list[tuple[int, Fraction]]] = {line: [] for line in net.inputs}
        for i, j, w in net.U:
            self.line_cols[net.inputs[j]].append((i, w))
        # Constant parts are summed over integers: every weight and bias times their common denominator.
        self.den = math.lcm(*(w.denominator for _, _, w in (*net.W, *net.U)), *(b.denominator for b in net.b))
        self.int_cols = [[(i, int(w * self.den)) for i, w in col] for col in self.cols]
        self.int_lines = {line: [(i, int(w * self.den)) for i, w in col] for line, col in self.line_cols.items()}
        self.int_b = [int(b * self.den) for b in net.b]
        # A row no nonzero neuron reaches has the argument b: its value is sigma(b), the same every tick.
        self.rest = {i: Affine(sigma(b)) for i, b in enumerate(net.b) if sigma(b)}
        self.linear = self.saturated = 0

    def arguments(self, x: Vector, lines: Iterable[str] = ()) -> dict[int, Affine]:
        """The pre-activations ``W x + U u + b`` of the rows that ``x`` or the ``lines`` (at 1) reach.

        Every other row's argument is its bias.
        """
        # Everything is summed over integers: with dx the common denominator of the values, each term is
        # (w * den) * (value * dx), and a row's sum is divided by den * dx once.
        dx = math.lcm(1, *(v.const.denominator for v in x.values()))
        dx = math.lcm(dx, *(c.denominator for v in x.values() for c in v.coef.values()))
        const: dict[int, int] = {}
        coef: dict[int, dict[str, int]] = {}
        for j, v in x.items():
            k = v.const.numerator * (dx // v.const.denominator)
            col = self.int_cols[j]
            if k:
                for i, w in col:
                    const[i] = const.get(i, 0) + w * k
            else:
                for i, _ in col:
                    if i not in const:
                        const[i] = 0
            if v.coef:
                scaled = [(s, c.numerator * (dx // c.denominator)) for s, c in v.coef.items()]
                for i, w in col:
                    row = coef.setdefault(i, {})
                    for s, c in scaled:
                        row[s] = row.get(s, 0) + w * c
        for line in lines:
            for i, w in self.int_lines[line]:
                const[i] = const.get(i, 0) + w * dx
        b, scale = self.int_b, self.den * dx
        out = {}
        for i, c in const.items():
            terms = coef.get(i)
            out[i] = Affine.make(
                Fraction(c + b[i] * dx, scale), {s: Fraction(t, scale) for s, t in terms.items()} if terms else None
            )
        return out

    def tick(self, x: Vector, domain: Domain, tick: int, lines: Iterable[str] = (), phases: bool = True) -> Vector:
        """One tick; raise :class:`_Failed` if an argument leaves its regime, or a binary or idle neuron is wrong."""
        net = self.net
        args = self.arguments(x, lines)
        out = {i: v for i, v in self.rest.items() if i not in args}
        self.saturated += net.size - len(args)
        for i, z in args.items():
            lo, hi = domain.bounds(z)
            if hi <= 0:
                self.saturated += 1
                continue
            if lo >= 1:
                value = Affine.make(Fraction(1))
                self.saturated += 1
            elif lo >= 0 and hi <= 1:
                value = z
                self.linear += 1
            else:
                raise _Failed(
                    _Failure(
                        net.labels[i],
                        tick,
                        f"its argument {z} ranges over [{lo}, {hi}] on the class: sigma is not affine there",
                    )
                )
            if net.binary[i] and (value.coef or value.const != 1):
                raise _Failed(_Failure(net.labels[i], tick, f"flagged binary, but its value is {value}"))
            if value.const or value.coef:
                out[i] = value
        for i, v in out.items():
            if net.binary[i] and (v.coef or v.const not in (0, 1)):
                raise _Failed(_Failure(net.labels[i], tick, f"flagged binary, but its value is {v}"))
        if phases:
            self.check_idle(out, tick)
        return out

    def check_idle(self, x: Vector, tick: int) -> None:
        """Neurons of phase ``p >= 0`` must be 0 at ticks ``t`` with ``t mod ticks_per_step != p``."""
        period = self.net.ticks_per_step
        for i, v in x.items():
            p = self.net.phase[i]
            if p >= 0 and tick % period != p:
                raise _Failed(_Failure(self.net.labels[i], tick, f"phase {p}, but it is {v} in phase {tick % period}"))

    def run(self, x: Vector, domain: Domain, ticks: int) -> Vector:
        """``ticks`` ticks without input lines, from a readout tick."""
        for t in range(1, ticks + 1):
            x = self.tick(x, domain, t)
        return x

    def run_lines(self, x: Vector, domain: Domain, ticks: int, lines: Sequence[str]) -> Vector:
        """``ticks`` ticks before the first readout (no phase checks), the ``lines`` on at the first."""
        for t in range(1, ticks + 1):
            x = self.tick(x, domain, t, lines if t == 1 else (), phases=False)
        return x


def _value(expr: Linear, x: Vector, net: Network) -> Affine:
    """A readout expression on symbolic neuron values."""
    out = Affine(expr.const)
    for label, c in expr.terms:
        v = x.get(net.index(label))
        if v is not None:
            out = out + v.scale(c)
    return out


# ---------------------------------------------------------------- the canonical encoding


class _Encoding:
    """The compiler's preload map: the neuron values of each state, and the neuron that holds each stack's code."""

    def __init__(self, net: Network, sem: _Semantics) -> None:
        preload = net.preload
        if preload is None:  # streamed: the same compiler, preloaded, names the same neurons
            preload = compile_machine(net.machine, construction=net.construction, input_mode="preloaded").preload
        if preload is None:
            raise ProofError("the network has no preload map, and compiling its machine preloaded gives none")
        try:
            self.states = {q: {net.index(label): Fraction(v) for label, v in vals} for q, vals in preload.states}
            self.stacks = {s: net.index(label) for s, label in preload.stacks}
            self.tops = [(s, j, net.index(label)) for s, j, label in preload.tops]
        except KeyError as e:
            raise ProofError(f"the preload map names a neuron the network lacks: {e}") from None
        if set(self.stacks) != set(sem.stacks):
            raise ProofError(f"the preload writes stacks {sorted(self.stacks)}; the readout has {sorted(sem.stacks)}")
        self.residual: Vector = {}
        terms = [t for s in net.readout.stacks for t, _ in s.value.terms] + [t for t, _ in net.readout.state_code.terms]
        self.carriers = {net.index(t) for t in terms} | set(self.stacks.values())
        self.carriers |= {i for vals in self.states.values() for i in vals}
        self.sem = sem

    def vector(self, state: str, codes: Mapping[str, Affine], tops: Mapping[str, int] | None = None) -> Vector:
        """The canonical encoding of ``state`` with stack codes ``codes`` and top indices ``tops`` (-1: empty).

        Top thresholds (``Preload.tops``) of stacks missing from ``tops`` are left at 0.
        """
        x = dict(self.residual)
        for s, j, i in self.tops:
            if s in (tops or {}) and tops[s] >= j:  # type: ignore[index]
                x[i] = Affine(1)
        for i, v in self.states[state].items():
            if v:
                x[i] = Affine(v)
        for s, code in codes.items():
            if code.const or code.coef:
                x[self.stacks[s]] = code
        return x

    def of(self, c: Configuration) -> Vector:
        tops = {}
        for s, w in c.stacks:
            if w.symbols:
                tops[s] = list(self.sem.stacks[s].alphabet).index(w.symbols[0])
            elif w.rest is None:
                tops[s] = -1
        return self.vector(c.state, self.sem.codes(c), tops)


def _equivalent(sym: _Symbolic, x: Vector, y: Vector, domain: Domain) -> _Failure | None:
    """``None`` when ``x`` reads out as ``y`` and gives the same values at the next tick, on the whole domain."""
    net = sym.net
    code_x, code_y = _value(net.readout.state_code, x, net), _value(net.readout.state_code, y, net)
    if code_x != code_y:
        wrong = next((t for t, _ in net.readout.state_code.terms if x.get(net.index(t)) != y.get(net.index(t))), None)
        return _Failure(wrong, net.ticks_per_step, f"the state code reads {code_x}, the successor's is {code_y}")
    for s in net.readout.stacks:
        got, want = _value(s.value, x, net), _value(s.value, y, net)
        if got != want:
            held = {t: x[net.index(t)] for t, _ in s.value.terms if net.index(t) in x}
            parts = ", ".join(f"{t} = {v}" for t, v in held.items())
            return _Failure(
                ", ".join(held) or None,
                net.ticks_per_step,
                f"stack {s.name} reads {got} ({parts or 'all 0'}), the successor's code is {want}",
            )
    if x == y:
        return None
    ax, ay = sym.arguments(x), sym.arguments(y)
    for i in sorted(set(ax) | set(ay)):
        bias = Affine.make(net.b[i])
        zx, zy = ax.get(i, bias), ay.get(i, bias)
        if zx == zy:
            continue
        (lx, hx), (ly, hy) = domain.bounds(zx), domain.bounds(zy)
        if (hx <= 0 and hy <= 0) or (lx >= 1 and ly >= 1):
            continue
        return _Failure(
            net.labels[i],
            net.ticks_per_step + 1,
            f"next tick: its argument is {zx}, but {zy} from the successor's encoding",
        )
    return None


# ---------------------------------------------------------------- the certificate


@dataclass(frozen=True, kw_only=True)
class Case:
    """One claim of a certificate.

    Attributes:
        kind: ``readout`` (a state's encoding reads back), ``preload``, ``stream``
            (the input protocol), ``step`` (one configuration class) or ``budget``.
        configuration: The configuration class (or the stream situation).
        claim: What was shown (or was to be shown).
        ok: Whether it was shown.
        neuron: On failure, the neuron whose argument left its regime or whose value is wrong.
        tick: On failure, the tick (from the case's readout tick) where that happened.
        detail: On failure, why.
    """

    kind: str
    configuration: str
    claim: str
    ok: bool
    neuron: str | None = None
    tick: int | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON view."""
        return dict(self.__dict__)


@dataclass(frozen=True, kw_only=True)
class Certificate:
    """The result of :func:`prove`: every case, and whether all of them were shown.

    A certificate whose cases would exceed the budget holds no proved cases and is not ok.
    """

    machine: str
    construction: str
    input_mode: str
    neurons: int
    ticks_per_step: int
    cases: tuple[Case, ...]
    needed: int
    max_cases: int
    linear: int = 0
    saturated: int = 0
    seconds: float = 0.0

    @property
    def budget_exceeded(self) -> bool:
        """Whether the proof needed more cases than allowed (and was not attempted)."""
        return self.needed > self.max_cases

    @property
    def ok(self) -> bool:
        """Whether every case was shown (never true when the budget was exceeded)."""
        return not self.budget_exceeded and bool(self.cases) and all(c.ok for c in self.cases)

    @property
    def failures(self) -> tuple[Case, ...]:
        """The cases not shown."""
        return tuple(c for c in self.cases if not c.ok)

    def to_dict(self) -> dict[str, Any]:
        """The JSON view."""
        return {
            "ok": self.ok,
            "machine": self.machine,
            "construction": self.construction,
            "input_mode": self.input_mode,
            "neurons": self.neurons,
            "ticks_per_step": self.ticks_per_step,
            "needed": self.needed,
            "max_cases": self.max_cases,
            "budget_exceeded": self.budget_exceeded,
            "linear": self.linear,
            "saturated": self.saturated,
            "seconds": round(self.seconds, 3),
            "cases": [c.to_dict() for c in self.cases],
        }

    def report(self, *, limit: int | None = None) -> str:
        """A human-readable report: the verdict, what it covers, then one line per case (``limit`` lines at most)."""
        head = (
            f"certificate for {self.machine!r}: construction {self.construction}, input {self.input_mode}, "
            f"{self.neurons} neurons, {self.ticks_per_step} ticks per step"
        )
        lines = [head]
        if self.budget_exceeded:
            lines.append(
                f"NOT PROVED: the proof needs {self.needed} cases, more than the budget of {self.max_cases} "
                "(raise --max-cases); nothing was checked"
            )
            return "\n".join(lines)
        failed = len(self.failures)
        verdict = "PROVED" if self.ok else f"NOT PROVED: {failed} of {len(self.cases)} cases fail"
        lines += [
            f"{verdict}: {len(self.cases)} cases, {self.linear} neuron updates in the linear regime and "
            f"{self.saturated} saturated, {self.seconds:.2f} s",
            "A class [a b|r_S] is a stack with a, b on top of the rest r_S (its code, over every word); "
            "[] is an empty stack.",
            "Each step case: from the class's encoding, one macro-step gives the successor's encoding "
            "for every value of the rests.",
        ]
        shown = sorted(self.cases, key=lambda c: c.ok)  # failures first
        for c in shown[:limit] if limit is not None else shown:
            mark = "ok  " if c.ok else "FAIL"
            lines.append(f"{mark} {c.kind:<7} {c.configuration}: {c.claim}")
            if not c.ok:
                where = f"neuron {c.neuron}" if c.neuron else "readout"
                at = f" at tick {c.tick}" if c.tick is not None else ""
                lines.append(f"       {where}{at}: {c.detail}")
        if limit is not None and len(shown) > limit:
            lines.append(f"... {len(shown) - limit} more cases")
        return "\n".join(lines)


# ---------------------------------------------------------------- the proof


def _check_network(machine: object, net: object) -> Network:
    if not isinstance(net, Network):
        raise ProofError(f"prove needs a compiled Network, got {type(net).__name__}")
    if not isinstance(net.machine, TuringMachine | StackMachine):
        raise ProofError(
            "this network carries no machine, so it did not come from compile_machine; "
            "prove checks compiled networks against their machine"
        )
    if machine != net.machine:
        raise ProofError(f"the network was compiled from machine {net.machine.name!r}, not from the one given")
    if net.construction not in CONSTRUCTIONS:
        raise ProofError(f"unknown construction {net.construction!r} (prove knows: {', '.join(CONSTRUCTIONS)})")
    if net.input_mode not in INPUT_MODES:
        raise ProofError(f"unknown input mode {net.input_mode!r} (prove knows: {', '.join(INPUT_MODES)})")
    tm_kinds = {"compact": "tape", "ss95": "reduced", "realtime": "tape", "small": "tape"}
    expected = tm_kinds if isinstance(net.machine, TuringMachine) else None
    kind = net.readout.kind
    if (
        kind not in READOUT_KINDS
        or (expected and kind != expected[net.construction])
        or (not expected and kind != "stack")
    ):
        raise ProofError(f"readout kind {kind!r} does not fit a {net.machine.kind} machine under {net.construction}")
    if net.ticks_per_step < 1:
        raise ProofError(f"ticks_per_step is {net.ticks_per_step}; a compiled network has at least 1")
    try:
        for expr in [net.readout.state_code, *(s.value for s in net.readout.stacks)]:
            for label, _ in expr.terms:
                net.index(label)
    except KeyError as e:
        raise ProofError(f"the readout names a neuron the network lacks: {e}") from None
    return net


def _start_states(sem: _Semantics, machine: TuringMachine | StackMachine) -> list[str]:
    """The states an initial configuration can have."""
    if isinstance(machine, TuringMachine) and sem.kind == "reduced":
        reduction = reduction_of(machine)
        return [reduction.state_of[machine.start, a] for a in machine.symbols]
    return [machine.start]


def _run_case(kind: str, configuration: str, claim: str, body: Any) -> Case:
    try:
        failure = body()
    except _Failed as e:
        failure = e.failure
    if failure is None:
        return Case(kind=kind, configuration=configuration, claim=claim, ok=True)
    return Case(
        kind=kind,
        configuration=configuration,
        claim=claim,
        ok=False,
        neuron=failure.neuron,
        tick=failure.tick,
        detail=failure.detail,
    )


def _readout_case(net: Network, sem: _Semantics, enc: _Encoding, state: str) -> Case:
    """The encoding of ``state`` with free codes ``v_S`` reads back as ``state`` and ``v_S``; halting is read right."""
    free = {s: Affine.symbol(f"v_{s}") for s in sem.stacks}
    halting = state in sem.halting
    claim = f"reads back state {state} and every code v_S; " + (
        f"halting ({sem.verdict(state)})" if halting else "the run goes on"
    )

    def body() -> _Failure | None:
        x = enc.vector(state, free)
        code = _value(net.readout.state_code, x, net)
        table = dict(net.readout.state_table)
        if not code.is_const or code.const.denominator != 1 or table.get(int(code.const)) != state:
            return _Failure(None, 0, f"the state code is {code}, which the state table does not map to {state!r}")
        if int(code.const) in net.readout.undefined_codes:
            return _Failure(None, 0, f"state code {code} is also an undefined-transition code")
        for s, v in free.items():
            got = _value(sem.stacks[s].value, x, net)
            if got != v:
                return _Failure(net.labels[enc.stacks[s]], 0, f"stack {s} reads {got}, not {v}")
        reason = stop_reason(net, state, 1)
        if reason != ("halting state" if halting else None):
            return _Failure(None, 0, f"the run's stop reason in state {state!r} is {reason!r}")
        _Symbolic(net).check_idle(x, 0)
        return None

    return _run_case("readout", f"state {state}", claim, body)


def _step_case(sym: _Symbolic, sem: _Semantics, enc: _Encoding, c: Configuration) -> Case:
    net = sym.net
    nxt = sem.successor(c)
    claim = "halts: undefined-transition code" if nxt is None else f"-> {nxt}"

    def body() -> _Failure | None:
        domain = sem.domain(c)
        x = sym.run(enc.of(c), domain, net.ticks_per_step)
        if nxt is None:
            code = _value(net.readout.state_code, x, net)
            if code.is_const and code.const in net.readout.undefined_codes:
                return None
            return _Failure(None, net.ticks_per_step, f"the state code is {code}, not an undefined-transition code")
        if nxt.state not in enc.states:
            return _Failure(None, net.ticks_per_step, f"the successor state {nxt.state!r} has no encoding")
        return _equivalent(sym, x, enc.of(nxt), domain)

    return _run_case("step", str(c), claim, body)


def _stream_target(machine: TuringMachine | StackMachine) -> str:
    """The stack (or half-tape) a streamed word is written to."""
    return "R" if isinstance(machine, TuringMachine) else str(machine.input_stack)


class _StreamProof:
    """The input protocol of a streamed network: the loader's invariant, then the first readout of every word class.

    After ``t >= 1`` symbols, the last one ``y``, the invariant is
    ``load:seen = 1``, ``load:scale = s``, ``load:digit:<y> = d(y) s``,
    ``load:acc = A`` and every other neuron 0, with ``s = B**-t`` and ``A`` the
    code of the first ``t - 1`` symbols: ``(s, A)`` lies in the triangle with
    corners ``(0, 0)``, ``(0, 1)``, ``(1/B, 0)``.
    """

    def __init__(self, sym: _Symbolic, sem: _Semantics, enc: _Encoding, machine: TuringMachine | StackMachine) -> None:
        net = sym.net
        self.sym, self.sem, self.enc, self.machine = sym, sem, enc, machine
        self.name = _stream_target(machine)
        if self.name not in sem.stacks:
            raise ProofError(f"the streamed word goes to stack {self.name!r}, which the readout does not read")
        self.alphabet, self.kind = sem.stacks[self.name].alphabet, sem.stacks[self.name].kind
        self.base = 2 * len(self.alphabet)
        self.digit = {a: digit_of(i, self.kind) for i, a in enumerate(self.alphabet)}
        needed = [*LOADER, *(f"load:digit:{a}" for a in self.alphabet if self.digit[a])]
        lines = [f"in:{a}" for a in self.alphabet] + ["in:end"]
        missing = [x for x in needed if x not in net.labels] + [x for x in lines if x not in net.inputs]
        if missing or net.stream_latency is None:
            raise ProofError(f"this streamed network lacks the loader's {', '.join(missing) or 'stream_latency'}")
        self.latency = net.stream_latency
        self.idx = {label: net.index(label) for label in needed}
        self.s, self.A = Affine.symbol("s"), Affine.symbol("A")
        corners = ((0, 0), (0, 1), (Fraction(1, self.base), 0))
        self.triangle = Domain(vertices=tuple((("s", Fraction(a)), ("A", Fraction(b))) for a, b in corners))
        self.handed: dict[str, Vector] = {}  # after the end line, as functions of the word's code Q

    def loading(self, scale: Affine, acc: Affine, last: str) -> Vector:
        """The invariant's vector."""
        x = {self.idx["load:seen"]: Affine(1), self.idx["load:scale"]: scale}
        if self.digit[last]:
            x[self.idx[f"load:digit:{last}"]] = scale.scale(self.digit[last])
        if acc.const or acc.coef:
            x[self.idx["load:acc"]] = acc
        return x

    def same(self, got: Vector, want: Vector) -> _Failure | None:
        for i in sorted(set(got) | set(want)):
            g, w = got.get(i, Affine(0)), want.get(i, Affine(0))
            if g != w:
                return _Failure(self.sym.net.labels[i], 1, f"is {g}, the invariant says {w}")
        return None

    def first_symbol(self, a: str) -> _Failure | None:
        got = self.sym.tick({}, Domain(), 1, [f"in:{a}"], phases=False)
        return self.same(got, self.loading(Affine(Fraction(1, self.base)), Affine(0), a))

    def next_symbol(self, x: str, y: str) -> _Failure | None:
        got = self.sym.tick(self.loading(self.s, self.A, x), self.triangle, 1, [f"in:{y}"], phases=False)
        return self.same(
            got, self.loading(self.s.scale(Fraction(1, self.base)), self.A + self.s.scale(self.digit[x]), y)
        )

    def end_line(self, x: str) -> _Failure | None:
        """After the end line every neuron must depend on ``(s, A)`` only through ``Q = A + d(x) s``."""
        got = self.sym.tick(self.loading(self.s, self.A, x), self.triangle, 1, ["in:end"], phases=False)
        handed: Vector = {}
        for i, v in got.items():
            k = v.coef.get("A", Fraction(0))
            if v.coef.get("s", Fraction(0)) != k * self.digit[x]:
                return _Failure(self.sym.net.labels[i], 1, f"is {v}: more than a function of the word's code")
            handed[i] = Affine.make(v.const, {"Q": k})
        self.handed[x] = handed
        return None

    def start(self, top: str | None) -> Configuration:
        """The start configuration of the words with first symbol ``top`` (``None``: the empty word)."""
        rest = self.sem.rest(self.name)
        stacks = {s: Word() for s in self.sem.stacks}
        if self.sem.kind == "reduced":
            tm: Any = self.machine
            state = reduction_of(tm).state_of[tm.start, top if top is not None else tm.blank]
            stacks[self.name] = Word((), rest if top is not None else None)
        else:
            state = self.machine.start
            stacks[self.name] = Word((top,), rest) if top is not None else Word()
        return Configuration(state, tuple(stacks.items()))

    def first_readout(self, top: str | None) -> tuple[Vector, Domain]:
        """The vector at the first readout tick for the words with first symbol ``top``, and their domain."""
        if top is None:
            return self.sym.run_lines({}, Domain(), self.latency, ["in:end"]), Domain()
        rest = self.sem.rest(self.name)
        lo, hi, _ = code_hull(self.alphabet, self.kind)
        domain = Domain(box=((rest, lo, hi),) if rest else ())
        q = Word((top,), rest).code(self.alphabet, self.kind)
        x = {i: v.substitute({"Q": q}) for i, v in next(iter(self.handed.values())).items()}
        x = {i: v for i, v in x.items() if v.const or v.coef}
        for t in range(2, self.latency + 1):
            x = self.sym.tick(x, domain, t, phases=False)
        return x, domain

    def readout(self, x: Vector, config: Configuration, domain: Domain) -> _Failure | None:
        """The first readout: the loader's residue is the same for every word, and the rest is the start's encoding."""
        enc, net = self.enc, self.sym.net
        for i in sorted(set(enc.residual) | {i for i in x if i not in enc.carriers}):
            got, want = x.get(i, Affine(0)), enc.residual.get(i, Affine(0))
            if got != want or not got.is_const:
                return _Failure(net.labels[i], self.latency, f"is {got} here but {want} after the empty word")
        self.sym.check_idle(x, 0)
        if config.state not in enc.states:
            return _Failure(None, self.latency, f"the start state {config.state!r} has no encoding")
        return _equivalent(self.sym, x, enc.of(config), domain)

    def cases(self) -> list[Case]:
        invariant = "load:seen=1, load:scale=s, load:digit:<last>=d*s, load:acc=A, all else 0"
        cases = [
            _run_case(
                "stream",
                f"first symbol {a}",
                f"gives the invariant {invariant}, s=1/{self.base}, A=0",
                lambda a=a: self.first_symbol(a),
            )
            for a in self.alphabet
        ]
        for x, y in itertools.product(self.alphabet, self.alphabet):
            claim = f"keeps the invariant: s -> s/{self.base}, A -> A + {self.digit[x]}s"
            cases.append(_run_case("stream", f"last {x}, next {y}", claim, lambda x=x, y=y: self.next_symbol(x, y)))
        for x in self.alphabet:
            claim = "hands over the word's code Q = A + d(last)s"
            cases.append(_run_case("stream", f"last {x}, end line", claim, lambda x=x: self.end_line(x)))
        handed = {tuple(sorted(v.items(), key=lambda item: item[0])) for v in self.handed.values()}
        if len(self.handed) < len(self.alphabet) or len({str(h) for h in handed}) > 1:
            cases.append(
                Case(
                    kind="stream",
                    configuration="end line",
                    claim="the same function of Q for every last symbol",
                    ok=False,
                    detail="the end-line cases failed or disagree; the first readout was not checked",
                )
            )
            return cases
        firsts: dict[str | None, tuple[Vector, Domain]] = {}
        for top in [None, *self.alphabet]:
            label = "empty word" if top is None else f"word {Word((top,), self.sem.rest(self.name))}"
            try:
                firsts[top] = self.first_readout(top)
            except _Failed as e:
                f = e.failure
                cases.append(
                    Case(
                        kind="stream",
                        configuration=label,
                        claim="reaches the first readout",
                        ok=False,
                        neuron=f.neuron,
                        tick=f.tick,
                        detail=f.detail,
                    )
                )
        if None not in firsts:
            return cases
        self.enc.residual = {i: v for i, v in firsts[None][0].items() if i not in self.enc.carriers}
        for top, (vector, domain) in firsts.items():
            config = self.start(top)
            label = "empty word" if top is None else f"word {Word((top,), self.sem.rest(self.name))}"
            claim = f"first readout encodes the start configuration {config}"
            cases.append(_run_case("stream", label, claim, lambda v=vector, c=config, d=domain: self.readout(v, c, d)))
        return cases


def count_cases(machine: TuringMachine | StackMachine, net: Network) -> int:
    """The number of cases :func:`prove` checks for ``net``."""
    sem = _Semantics(net, machine)
    states = [q for _, q in net.readout.state_table]
    working = [q for q in states if q not in sem.halting]
    per_state = 1
    for r in sem.stacks.values():
        per_state *= len(r.alphabet) + (r.kind == "stack")
    n = len(states) + len(working) * per_state
    if sem.lookahead:
        n = len(states) + sum(len(sem.classes(q)) for q in working)
    if net.input_mode != "streamed":
        return n + 1  # the preload
    k = len(sem.stacks[_stream_target(machine)].alphabet)
    return n + k * k + 3 * k + 1  # first symbols, further symbols, end lines, first readouts


def prove(machine: TuringMachine | StackMachine, net: Network, *, max_cases: int = DEFAULT_MAX_CASES) -> Certificate:
    """Prove that ``net`` simulates ``machine`` step for step, for all stack contents.

    Args:
        machine: The machine ``net`` was compiled from.
        net: A network from :func:`~turingrnn.compile.compiler.compile_machine` (any construction and input mode).
        max_cases: The most cases to check; a proof that needs more is not attempted, and is not ok.

    Returns:
        The :class:`Certificate`: ``ok`` when every case was shown.

    Raises:
        ProofError: The network did not come from the compiler, or its labels or metadata cannot be interpreted.
        InputError: ``max_cases`` is not a whole number >= 1.
    """
    if not isinstance(max_cases, int) or isinstance(max_cases, bool) or max_cases < 1:
        raise InputError(f"max_cases must be a whole number >= 1, got {max_cases!r}")
    net = _check_network(machine, net)
    began = time.perf_counter()
    sem = _Semantics(net, machine)
    fields = {
        "machine": machine.name,
        "construction": net.construction,
        "input_mode": net.input_mode,
        "neurons": net.size,
        "ticks_per_step": net.ticks_per_step,
        "max_cases": max_cases,
    }
    needed = count_cases(machine, net)
    if needed > max_cases:
        return Certificate(cases=(), needed=needed, **fields)  # type: ignore[arg-type]
    enc = _Encoding(net, sem)
    sym = _Symbolic(net)
    cases: list[Case] = []
    if net.input_mode == "streamed":
        cases += _StreamProof(sym, sem, enc, machine).cases()
    else:
        starts = _start_states(sem, machine)
        missing = [q for q in starts if q not in enc.states]
        cases.append(
            Case(
                kind="preload",
                configuration="start",
                claim=f"every start state ({', '.join(starts)}) has a preload",
                ok=not missing,
                detail=f"no preload for {', '.join(missing)}" if missing else "",
            )
        )
    for _, state in net.readout.state_table:
        if state not in enc.states:
            cases.append(
                Case(
                    kind="readout",
                    configuration=f"state {state}",
                    claim="has an encoding",
                    ok=False,
                    detail="the state table names a state the preload map lacks",
                )
            )
            continue
        cases.append(_readout_case(net, sem, enc, state))
        if state not in sem.halting:
            cases += [_step_case(sym, sem, enc, c) for c in sem.classes(state)]
    return Certificate(
        cases=tuple(cases),
        needed=needed,
        linear=sym.linear,
        saturated=sym.saturated,
        seconds=time.perf_counter() - began,
        **fields,  # type: ignore[arg-type]
    )
