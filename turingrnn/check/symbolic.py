"""Symbolic ticks: a network run on affine neuron values, with sigma checked to be affine on the class.

:class:`_Symbolic` computes each pre-activation ``W x + U u + b`` as an
:class:`~turingrnn.check.affine.Affine` expression and, on the whole
:class:`~turingrnn.check.affine.Domain`, shows that it saturates at 0 or 1 or
stays in ``[0, 1]`` (where sigma is the identity). A neuron that does neither,
a binary neuron that is not 0 or 1, or a neuron awake in another phase raises
:class:`_Failed` naming the neuron and the tick.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ..compile.network import Linear, Network, sigma
from .affine import Affine, Domain

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
