"""The canonical encoding of a configuration class, and the equivalence of two encodings.

:class:`_Encoding` writes a class the way the compiler's preload map would (the
state's start values, each stack's code in its neuron, the top thresholds);
:func:`_equivalent` shows that the vector a step ends in reads out and acts at
the next tick like the canonical encoding of the successor.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from ..compile.network import Network
from ..errors import ProofError
from .affine import Affine, Domain
from .semantics import Configuration, _Semantics
from .symbolic import Vector, _Failure, _Symbolic, _value


class _Encoding:
    """The compiler's preload map: the neuron values of each state, and the neuron that holds each stack's code."""

    def __init__(self, net: Network, sem: _Semantics) -> None:
        preload = net.readout.start_preload  # streamed networks keep it too
        if preload is None:
            raise ProofError("the network's readout has no start preload (a hand-built network?): nothing to encode")
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
