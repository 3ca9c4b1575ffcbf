"""Exact affine expressions over named symbols, and the domains the symbols range over.

The algebra of :func:`~turingrnn.check.prove.prove`: every neuron value in a
configuration class is an :class:`Affine` expression with rational
coefficients in the class's symbols (the codes of the unknown stack rests), and
a :class:`Domain` (a box, or the hull of a few vertices) bounds an expression
by evaluating it at the corners. :func:`code_hull` gives the interval of the
codes of all words of a stack or tape alphabet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


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
