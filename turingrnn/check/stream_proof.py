"""The input proof of a streamed network: the stream loader's invariant, then the first readout of every word.

:class:`_StreamProof` shows that the loader of
:func:`turingrnn.compile.gadgets.stream_loader` keeps its invariant symbol by
symbol, hands the word's code to the network at the end line, and that the first
readout is equivalent to the canonical encoding of the start configuration.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

from ..compile.encoding import digit_of
from ..errors import ProofError
from ..machines.model import StackMachine, TuringMachine
from .affine import Affine, Domain, code_hull
from .canonical import _Encoding, _equivalent
from .certificate import Case, _run_case
from .semantics import Configuration, Word, _Semantics
from .symbolic import Vector, _Failed, _Failure, _Symbolic

LOADER = ("load:seen", "load:scale", "load:acc", "load:hand")
"""The stream loader's neurons that the input proof reads (plus ``load:digit:<a>``)."""


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
            reduction: Any = self.sym.net.readout.reduction
            state = reduction.state_of[tm.start, top if top is not None else tm.blank]
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
