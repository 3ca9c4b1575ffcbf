"""The exact engine's code generator: each neuron's row as straight-line Python over fixed-point ints.

A row ``sigma(W x + U u + b)`` is scaled by the lcm ``L`` of its denominators
into ints and split into a small part (binary inputs, input lines and bias:
machine ints) and a big part (analog inputs, fixed-point values over the
scale ``S``). :class:`_Source` writes the lines of one tick: when the small
part alone forces sigma to 0 or 1 whatever the analog inputs in ``[0, 1]``
are, the big arithmetic is skipped; when only a few small values are left,
each gets its own branch whose clamps are comparisons with constants; small
and big parts shared by several rows are computed once per tick. A value
finer than the scale raises ``_Grow`` (the runner grows the scale and redoes
the tick); a binary-flagged neuron's fractional value raises ``_Fractional``.
The whole design is described in :mod:`turingrnn.engines.exact`; the
per-network kernels that use these lines are in :mod:`.exact_engine`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..compile.network import Network

_CHAIN = 3
"""A row whose small part takes at most this many values in its arithmetic branch gets one branch per value."""

_TABLE = 64
"""Rows whose small part takes at most this many values read ``s * S`` from a table instead of multiplying."""


# ---------------------------------------------------------------- signals from generated code


class _Stop(Exception):
    """Raised by generated code inside sub-tick ``sub`` (0: the single-tick function) for neuron ``row``."""

    def __init__(self, sub: int, row: int, num: int, den: int) -> None:
        self.sub, self.row, self.num, self.den = sub, row, num, den


class _Grow(_Stop):
    """The exact value ``num / den`` is finer than the scale: grow it."""


class _Fractional(_Stop):
    """A binary-flagged neuron's exact value ``num / den`` is strictly between 0 and 1."""


def _fractional(sub: int, row: int, num: int, den: int) -> None:
    raise _Fractional(sub, row, num, den)


# ---------------------------------------------------------------- rows and their specialisations


@dataclass(frozen=True)
class _Row:
    """One neuron's row, scaled by the lcm ``L`` of its denominators into ints."""

    index: int
    L: int
    binary: bool
    weights: tuple[tuple[int, int], ...]  # (neuron, w * L)
    lines: tuple[tuple[int, int], ...]  # (input line, w * L)
    bias: int  # b * L


def _rows(net: Network) -> list[_Row]:
    out = []
    for i, (ws, us, b) in enumerate(zip(net.rows(), net.input_rows(), net.b, strict=True)):
        L = math.lcm(b.denominator, *(w.denominator for _, w in ws), *(w.denominator for _, w in us))
        out.append(
            _Row(
                index=i,
                L=L,
                binary=net.binary[i],
                weights=tuple((j, w.numerator * (L // w.denominator)) for j, w in ws),
                lines=tuple((k, w.numerator * (L // w.denominator)) for k, w in us),
                bias=b.numerator * (L // b.denominator),
            )
        )
    return out


def _phase_safe(net: Network, rows: list[_Row]) -> list[bool]:
    """Neurons provably zero outside their phase (see the module docs): the largest self-consistent set."""
    T = net.ticks_per_step
    safe = [0 <= net.phase[r.index] < T and not r.lines and r.bias <= 0 for r in rows]
    changed = True
    while changed:
        changed = False
        for r in rows:
            if safe[r.index]:
                before = (net.phase[r.index] - 1) % T
                if any(not safe[j] or net.phase[j] != before for j, _ in r.weights):
                    safe[r.index] = False
                    changed = True
    return safe


_FLAT = 100
"""Linear forms with more terms than this are generated as ``sum((...))``, not as a chain of ``+``."""


def _key(terms: list[tuple[str, int]]) -> tuple[int, tuple[tuple[str, int], ...]]:
    """``sum(c * var)`` as ``g * key`` with ``g`` the (positive) gcd of the coefficients."""
    if not terms:
        return 0, ()
    g = math.gcd(*(c for _, c in terms))
    return g, tuple(sorted((v, c // g) for v, c in terms))


def _linear(key: tuple[tuple[str, int], ...], big: bool = False) -> str:
    """``sum(c * var)`` as Python; for big values ``a + b`` skips the copy when one side is 0."""
    if big and len(key) == 2 and key[0][1] == key[1][1] == 1:
        a, b = key[0][0], key[1][0]
        return f"{a} + {b} if {a} and {b} else {a} or {b}"
    parts = [v if c == 1 else f"-{v}" if c == -1 else f"{c}*{v}" for v, c in key]
    if len(parts) > _FLAT:  # a long a + b + ... nests too deep for Python's compiler: sum a flat tuple
        return f"sum(({', '.join(parts)},))"
    return " + ".join(parts).replace("+ -", "- ")


@dataclass
class _Spec:
    """A row in one sub-tick: ``sigma((A m + c) / L + B V / (L S))`` with ``m``, ``V`` integer linear forms."""

    row: _Row
    A: int
    mkey: tuple[tuple[str, int], ...]
    c: int
    B: int
    vkey: tuple[tuple[str, int], ...]
    mname: str | None = None
    mline: str | None = None
    vname: str | None = None
    vline: str | None = None

    @property
    def mrange(self) -> tuple[int, int]:
        return sum(min(c, 0) for _, c in self.mkey), sum(max(c, 0) for _, c in self.mkey)

    @property
    def wrange(self) -> tuple[int, int]:
        """The range of ``B V / S`` for analog values in ``[0, 1]``."""
        return self.B * sum(min(c, 0) for _, c in self.vkey), self.B * sum(max(c, 0) for _, c in self.vkey)


def _branches(conds: list[tuple[str, list[str]]], last: list[str] | None) -> list[str]:
    """An if/elif/else chain; without ``last`` the final condition becomes the ``else``."""
    conds = list(conds)
    if last is None:
        last = conds.pop()[1]
    if not conds:
        return last
    out = []
    for k, (cond, body) in enumerate(conds):
        out.append(f"{'if' if k == 0 else 'elif'} {cond}:")
        out += ["    " + line for line in body]
    out.append("else:")
    out += ["    " + line for line in last]
    return out


class _Source:
    """Generated lines and the constants they use, each ``floor(num * S / den)`` (or its ceiling)."""

    def __init__(self) -> None:
        self.specs: dict[tuple[int, int, bool], str] = {}
        self.tables: dict[tuple[int, ...], str] = {}

    def const(self, num: int, den: int = 1, ceil: bool = False) -> str:
        g = math.gcd(num, den)
        num, den = num // g, den // g
        if num == 0:
            return "0"
        if (num, den) == (1, 1):
            return "S"
        key = (num, den, ceil and den != 1)
        if key not in self.specs:
            self.specs[key] = f"k{len(self.specs)}"
        return self.specs[key]

    def table(self, nums: tuple[int, ...]) -> str:
        """The name of the constant tuple ``(num * S for num in nums)``."""
        if nums not in self.tables:
            self.tables[nums] = f"K{len(self.tables)}"
        return self.tables[nums]

    def values(self, S: int) -> tuple[Any, ...]:
        """``S``, every constant and every table, for the scale ``S``."""
        consts = (-((-num * S) // den) if ceil else (num * S) // den for num, den, ceil in self.specs)
        return (S, *consts, *(tuple(num * S for num in nums) for nums in self.tables))

    def header(self) -> str:
        return ", ".join(["S", *self.specs.values(), *self.tables.values()]) + ", = C"

    # ------------------------------------------------------------ one row

    def row(self, spec: _Spec, out: str, sub: int) -> list[str]:
        """Lines that set ``out`` to the row's new value (or raise ``_Grow`` / ``_Fractional``)."""
        r = spec.row
        L, i = r.L, r.index
        one = "1" if r.binary else "S"
        B, V = spec.B, spec.vname
        wlo, whi = spec.wrange
        bv = f"{V}" if B == 1 else f"({V} << {B.bit_length() - 1})" if B & (B - 1) == 0 else f"{B}*{V}"

        def with_v(lines: list[str]) -> list[str]:
            return ([spec.vline] if spec.vline else []) + lines

        def middle(t: str) -> list[str]:
            """``0 < t < L S``: the value is ``t / L``."""
            if r.binary:
                return [f"_fractional({sub}, {i}, {t}, {self.const(L)})"]
            if L == 1:
                return [f"{out} = {t}"]
            head = [] if t == "t" else [f"t = {t}"]
            if L & (L - 1) == 0:  # a power of two: mask and shift
                return head + [
                    f"if t & {L - 1}:",
                    f"    raise _Grow({sub}, {i}, t, {L})",
                    f"{out} = t >> {L.bit_length() - 1}",
                ]
            return head + [f"{out}, r = divmod(t, {L})", "if r:", f"    raise _Grow({sub}, {i}, t, {L})"]

        def fixed(s: int) -> list[str]:
            """The row when its small part is the constant ``s``."""
            if s + whi <= 0:
                return [f"{out} = 0"]
            if s + wlo >= L:
                return [f"{out} = {one}"]
            if V is None:
                return [f"_fractional({sub}, {i}, {s}, {L})"] if r.binary else [f"{out} = {self.const(s, L)}"]
            conds = []
            if s + wlo <= 0:
                conds.append((f"{V} <= {self.const(-s, B)}", [f"{out} = 0"]))
            if s + whi >= L:
                conds.append((f"{V} >= {self.const(L - s, B, ceil=True)}", [f"{out} = {one}"]))
            t = f"{self.const(s)} + {bv}" if s else bv
            return with_v(_branches(conds, middle(t)))

        def generic(m: str, lo: int, hi: int) -> list[str]:
            """The row for ``m`` in ``lo .. hi``, with ``s S`` from a table of constants when it is short."""
            s = _linear((("@", spec.A),)).replace("@", m) + (f" + {spec.c}" if spec.c else "")
            s = s.replace("+ -", "- ")
            if V is None:
                last = [f"_fractional({sub}, {i}, s, {L})"] if r.binary else [f"{out} = s * {self.const(1, L)}"]
                return [f"s = {s}"] + _branches([("s <= 0", [f"{out} = 0"]), (f"s >= {L}", [f"{out} = {one}"])], last)
            zero = [v for v in range(lo, hi + 1) if spec.A * v + spec.c == 0]
            if hi - lo < _TABLE:
                table = self.table(tuple(spec.A * v + spec.c for v in range(lo, hi + 1)))
                sS = f"{table}[{m}]" if lo == 0 else f"{table}[{m} - {lo}]".replace("- -", "+ ")
            else:
                sS = f"({s}) * S"
            conds = [("t <= 0", [f"{out} = 0"]), (f"t >= {self.const(L)}", [f"{out} = {one}"])]
            # s = 0 (such as reading a blank): no big addition of a zero constant
            t = f"{bv} if {m} == {zero[0]} else {sS} + {bv}" if zero else f"{sS} + {bv}"
            return with_v([f"t = {t}"] + _branches(conds, middle("t")))

        if spec.mname is None:
            return fixed(spec.c)
        m, A, c = spec.mname, spec.A, spec.c
        mlo, mhi = spec.mrange
        zero_below = (-c - whi) // A  # m <= this: sigma is 0 whatever V is
        one_above = -((c + wlo - L) // A)  # m >= this: sigma is 1
        conds = []
        if mlo <= zero_below:
            conds.append((f"{m} <= {zero_below}", [f"{out} = 0"]))
        if mhi >= one_above:
            conds.append((f"{m} >= {one_above}", [f"{out} = {one}"]))
        lo, hi = max(mlo, zero_below + 1), min(mhi, one_above - 1)
        last: list[str] | None = None
        if lo <= hi and hi - lo < _CHAIN:
            conds += [(f"{m} == {v}", fixed(A * v + c)) for v in range(lo, hi)]
            last = fixed(A * hi + c)
        elif lo <= hi:
            last = generic(m, lo, hi)
        return ([spec.mline] if spec.mline else []) + _branches(conds, last)

    # ------------------------------------------------------------ one tick

    def tick(
        self,
        rows: Sequence[_Row],
        binary: Sequence[bool],
        read: Callable[[int], str | None],
        line: Callable[[int], str | None],
        write: Callable[[int], str],
        sub: int,
    ) -> list[str]:
        """Lines computing ``rows`` from the variables ``read(j)`` (``None``: known to be 0)."""
        specs = []
        for r in rows:
            small = [(read(j), c) for j, c in r.weights if binary[j]] + [(line(k), c) for k, c in r.lines]
            big = [(read(j), c) for j, c in r.weights if not binary[j]]
            A, mkey = _key([(v, c) for v, c in small if v is not None])
            B, vkey = _key([(v, c) for v, c in big if v is not None])
            specs.append(_Spec(r, A, mkey, r.bias, B, vkey))
        lines: list[str] = []
        for kind in ("m", "v"):
            uses: dict[tuple[tuple[str, int], ...], int] = {}
            for spec in specs:
                key = spec.mkey if kind == "m" else spec.vkey
                uses[key] = uses.get(key, 0) + 1
            shared: dict[tuple[tuple[str, int], ...], str] = {}
            for spec in specs:
                key = spec.mkey if kind == "m" else spec.vkey
                if not key:
                    continue
                if len(key) == 1 and key[0][1] == 1:
                    name, local = key[0][0], None
                elif uses[key] > 1:
                    if key not in shared:
                        shared[key] = f"{kind}{sub}_{len(shared)}"
                        lines.append(f"{shared[key]} = {_linear(key, kind == 'v')}")
                    name, local = shared[key], None
                else:
                    name, local = kind, f"{kind} = {_linear(key, kind == 'v')}"
                if kind == "m":
                    spec.mname, spec.mline = name, local
                else:
                    spec.vname, spec.vline = name, local
        for spec in specs:
            lines += self.row(spec, write(spec.row.index), sub)
        return lines


def _tuple(items: Sequence[str]) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _compile(source: str, name: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"_Grow": _Grow, "_Stop": _Stop, "_fractional": _fractional}
    exec(compile(source, f"<turingrnn.engines.exact {name}>", "exec"), namespace)
    return namespace[name]  # type: ignore[no-any-return]


@dataclass
class _Generated:
    """A generated function, its source, and the constants it needs for a scale ``S``."""

    fn: Callable[..., Any]
    source: str
    consts: _Source
