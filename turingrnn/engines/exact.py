"""The exact engine: run a network in exact rational arithmetic, fast.

:func:`run_exact` gives the same values as :meth:`Network.tick
<turingrnn.compile.network.Network.tick>` (the slow :class:`~fractions.Fraction`
reference) at every tick, and returns a :class:`~turingrnn.engines.trace.Trace`.

Fixed point:
    Every analog value is an integer ``X`` over one common scale ``S``, the
    value being ``X / S``. ``S`` is a product of powers of the primes of ``D``,
    the lcm of all weight and bias denominators (a network may mix bases, so
    each prime has its own exponent). Neurons the network flags as binary are
    kept as the small ints 0 and 1. For a row with denominators of lcm ``L``,
    ``T = sum((w L) X) + (b L) S`` is an integer and the new value is
    ``T / L``, clamped to ``[0, S]``. If ``L`` does not divide ``T`` the scale
    is too coarse for the exact value: the engine multiplies the exponents of
    the missing primes by 1.5, rescales every stored analog value exactly and
    redoes the tick. A value is never rounded; past ``max_digits`` decimal
    digits of ``S`` the run stops with :class:`~turingrnn.errors.PrecisionError`.

Code generation:
    Each network gets straight-line Python, compiled once and cached by the
    network's fingerprint: a kernel that runs whole machine steps (one loop
    iteration per step, its ticks unrolled) and a tick function for single
    ticks (streamed input, ``record="ticks"``, and the rest of a step after a
    precision growth). Each row splits into a small part (binary inputs, input
    lines and bias: machine ints) and a big part (analog inputs). When the
    small part alone forces sigma to 0 or 1 whatever the analog inputs in
    ``[0, 1]`` are, the big arithmetic is skipped; when only a few small values
    are left, each gets its own branch whose clamps are comparisons with
    constants. Small and big parts shared by several rows (after dividing out
    their gcd) are computed once per tick.

Phases:
    A neuron of phase ``p`` whose inputs all have phase ``p - 1 (mod T)``, with
    no input lines and bias ``<= 0``, is zero outside the ticks of phase ``p``
    once it is zero there at a readout tick (induction over ticks). The kernel
    neither computes such neurons outside their phase nor reads them; it
    checks the induction's start whenever it is entered, and falls back to
    computing every neuron at every tick when the start does not hold.

>>> from turingrnn.compile.compiler import compile_machine
>>> from turingrnn.machines.parsing import load_machine
>>> tm = load_machine("bb4")
>>> run = run_exact(compile_machine(tm), "")
>>> run.steps, run.ticks, run.decode() == tm.run("")
(107, 214, True)
"""

from __future__ import annotations

import math
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..compile.encoding import encode_word
from ..compile.network import Network
from ..errors import InputError, PrecisionError, TuringRNNError
from ..machines.interpreter import check_max_steps, check_stack_input, check_tm_input, steps
from ..machines.model import StackMachine, TuringMachine
from ..progress import Progress, ProgressBar, ProgressCallback, monotonic
from .trace import Getter, Trace, read_state, reduction_of, stop_reason

RECORD_MODES = ("steps", "ticks", "final")
"""``steps``: values at every readout tick; ``ticks``: at every tick; ``final``: the last readouts only."""

DEFAULT_MAX_DIGITS = 2_000_000
"""Largest fixed-point scale allowed by default, in decimal digits (about 830 KB per analog value)."""

DEFAULT_MAX_MEMORY = 4 * 2**30
"""Largest estimated size of the recorded values allowed by default, in bytes."""

_CHUNK = 4096
"""The kernel runs at most this many steps per call, so the recording's size is checked between calls."""

_CHAIN = 3
"""A row whose small part takes at most this many values in its arithmetic branch gets one branch per value."""

_TABLE = 64
"""Rows whose small part takes at most this many values read ``s * S`` from a table instead of multiplying."""

_GROWTH = (3, 2)
"""Precision growth factor: a prime's exponent grows to about 3/2 of itself."""


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


class _Everything:
    """A container holding every state code (run ticks without readout checks)."""

    def __contains__(self, item: object) -> bool:
        return True


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
                weights=tuple((j, int(w * L)) for j, w in ws),
                lines=tuple((k, int(w * L)) for k, w in us),
                bias=int(b * L),
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


# ---------------------------------------------------------------- the per-network engine


def _factor(n: int) -> dict[int, int]:
    out: dict[int, int] = {}
    p = 2
    while p * p <= n:
        while n % p == 0:
            out[p] = out.get(p, 0) + 1
            n //= p
        p += 1
    if n > 1:
        out[n] = out.get(n, 0) + 1
    return out


class _Engine:
    """The generated code of one network, and what a run needs to know about it."""

    def __init__(self, net: Network) -> None:
        self.size = net.size
        self.labels = net.labels
        self.binary = net.binary
        self.phase = net.phase
        self.ticks_per_step = net.ticks_per_step
        self.rows = _rows(net)
        self.L = [r.L for r in self.rows]
        self.primes = _factor(math.lcm(1, *self.L))  # the primes of D, with their exponents in D
        self.safe = _phase_safe(net, self.rows)
        self.code, self.cont = self._state_code(net)
        self.tick = self._generate_tick(len(net.inputs))
        self._kernels: dict[tuple[bool, bool], _Generated] = {}

    def _state_code(self, net: Network) -> tuple[tuple[tuple[int, int], ...] | None, frozenset[int]]:
        """The readout's state code as int terms over binary neurons (times ``M``), and the codes that go on."""
        readout = net.readout
        terms = [(net.index(label), c) for label, c in readout.state_code.terms]
        if any(not self.binary[j] for j, _ in terms):
            return None, frozenset()  # analog state code: every readout is checked in Python
        M = math.lcm(readout.state_code.const.denominator, *(c.denominator for _, c in terms))
        code = (*((j, int(c * M)) for j, c in terms), (-1, int(readout.state_code.const * M)))
        halting: frozenset[str] = frozenset()
        if isinstance(net.machine, TuringMachine | StackMachine):
            halting = net.machine.halting_states
            if readout.kind == "reduced" and isinstance(net.machine, TuringMachine):
                halting = reduction_of(net.machine).machine.halting_states
        go = frozenset(c * M for c, q in readout.state_table if c not in readout.undefined_codes and q not in halting)
        return code, go

    def _generate_tick(self, lines: int) -> _Generated:
        n = self.size
        src = _Source()
        body = src.tick(self.rows, self.binary, lambda j: f"a{j}", lambda k: f"u{k}", lambda i: f"b{i}", 0)
        code = [
            "def _tick(vals, u, C):",
            f"    {src.header()}",
            f"    {_tuple([f'a{i}' for i in range(n)])} = vals",
            f"    {_tuple([f'u{k}' for k in range(lines)])} = u",
            *("    " + x for x in body),
            f"    return {_tuple([f'b{i}' for i in range(n)])}",
        ]
        source = "\n".join(code) + "\n"
        return _Generated(_compile(source, "_tick"), source, src)

    def kernel(self, skip: bool, final: bool = False) -> _Generated:
        """The step kernel; ``skip``: leave out neurons that are zero outside their phase.

        The kernel ``fn(vals, C, steps_left, rec, cont)`` returns ``(status, done, signal, vals, prev)``:
        status 0 (a code not in ``cont``), 1 (a ``_Stop`` signal, in ``signal``) or 2 (``steps_left`` done),
        the steps done, and the values at the last readout tick (status 0 and 2) or before the failing
        sub-tick (status 1). It calls ``rec(row)`` at every readout tick, except with ``final``: then it
        only keeps the last two readout rows, ``prev`` (``None`` if fewer than two steps were done) and
        the row of step ``done``, which is ``vals`` unless the status is 1 (``rec`` is unused).
        """
        key = (skip, final)
        if key not in self._kernels:
            self._kernels[key] = self._generate_kernel(skip, final)
        return self._kernels[key]

    def _generate_kernel(self, skip: bool, final: bool) -> _Generated:
        n, T = self.size, self.ticks_per_step
        safe = self.safe if skip else [False] * n
        src = _Source()

        def live(i: int, phase: int) -> bool:
            return not safe[i] or self.phase[i] == phase

        def values(var: str, phase: int) -> str:
            return _tuple([f"{var}{i}" if live(i, phase) else "0" for i in range(n)])

        loop: list[str] = []
        handlers: list[str] = []
        prev = "(prev if done > 1 else None, row)" if final else "None"
        names = ("a", "b")
        for sub in range(1, T + 1):
            r, w = names[(sub - 1) % 2], names[sub % 2]
            phase, before = sub % T, (sub - 1) % T
            rows = [row for row in self.rows if live(row.index, phase)]
            loop += src.tick(
                rows,
                self.binary,
                lambda j, r=r, before=before: f"{r}{j}" if live(j, before) else None,  # type: ignore[misc]
                lambda k: None,
                lambda i, w=w: f"{w}{i}",  # type: ignore[misc]
                sub,
            )
            handlers += [f"if e.sub == {sub}:", f"    return 1, done, e, {values(r, before)}, {prev}"]
        if T % 2:  # the last sub-tick wrote the b's
            loop += [f"a{i} = b{i}" for i in range(n) if live(i, 0)]
        if self.code is None:
            code = "None"
        else:
            terms = [(f"a{j}", c) for j, c in self.code if j >= 0 and live(j, 0)]
            const = sum(c for j, c in self.code if j < 0)
            code = ((_linear(tuple(terms)) if terms else "0") + (f" + {const}" if const else "")).replace("+ -", "- ")
        lines = [
            "def _kernel(vals, C, steps_left, rec, cont):",
            f"    {src.header()}",
            f"    {_tuple([f'a{i}' for i in range(n)])} = vals",
            "    done = 0",
            "    row = vals",
            "    try:",
            "        while done < steps_left:",
            *("            " + x for x in loop),
            "            done += 1",
            *(["            prev = row"] if final else []),
            f"            row = {values('a', 0)}",
            *([] if final else ["            rec(row)"]),
            f"            if {code} not in cont:",
            f"                return 0, done, None, row, {prev}",
            "    except _Stop as e:",
            *("        " + x for x in handlers),
            "        raise",
            f"    return 2, done, None, row, {prev}",
        ]
        source = "\n".join(lines) + "\n"
        return _Generated(_compile(source, "_kernel"), source, src)

    def respects_phases(self, values: Sequence[int]) -> bool:
        """Whether every phase-safe neuron outside phase 0 is zero (the induction's start at a readout tick)."""
        return all(not s or self.phase[i] == 0 or values[i] == 0 for i, s in enumerate(self.safe))


_ENGINES: OrderedDict[str, _Engine] = OrderedDict()
_BY_ID: dict[int, tuple[weakref.ref[Network], _Engine]] = {}
_CACHE_SIZE = 32


def _engine(net: Network) -> _Engine:
    """The engine of ``net``, cached by identity and by fingerprint."""
    hit = _BY_ID.get(id(net))
    if hit is not None and hit[0]() is net:
        return hit[1]
    key = net.fingerprint()
    engine = _ENGINES.get(key)
    if engine is None:
        engine = _ENGINES[key] = _Engine(net)
        while len(_ENGINES) > _CACHE_SIZE:
            _ENGINES.popitem(last=False)
    else:
        _ENGINES.move_to_end(key)
    if len(_BY_ID) > 4 * _CACHE_SIZE:
        for k in [k for k, (ref, _) in _BY_ID.items() if ref() is None]:
            del _BY_ID[k]
    _BY_ID[id(net)] = (weakref.ref(net), engine)
    return engine


def idle_neurons(net: Network) -> tuple[str, ...]:
    """Labels of the neurons the step kernel leaves out outside their phase (provably zero there)."""
    return tuple(label for label, safe in zip(net.labels, _engine(net).safe, strict=True) if safe)


def generated_source(net: Network) -> str:
    """The generated Python of ``net``'s step kernel and tick function (for inspection and debugging)."""
    engine = _engine(net)
    return engine.kernel(True).source + "\n" + engine.tick.source


# ---------------------------------------------------------------- the scale


def _valuation(d: int, p: int) -> int:
    """The exponent of prime ``p`` in ``d > 0``, fast for huge ``d`` (one gcd instead of a division per power)."""
    if p == 2:
        return (d & -d).bit_length() - 1
    power = math.gcd(d, p ** (d.bit_length() // max(1, p.bit_length() - 1)))
    e = round(math.log(power, p)) if power > 1 else 0
    while p**e > power:
        e -= 1
    while power % p ** (e + 1) == 0:
        e += 1
    return e


class _Scale:
    """``S = extra * prod(p ** e_p)``: each prime of ``D`` with its own exponent."""

    def __init__(self, primes: Mapping[int, int], denominators: Sequence[int], max_digits: int) -> None:
        self.primes = dict(primes)
        self.max_digits = max_digits
        need = {p: 0 for p in primes}
        extra = 1
        for d in denominators:
            for p in primes:
                e = _valuation(d, p)
                d //= p**e
                need[p] = max(need[p], e)
            extra = math.lcm(extra, d)
        self.extra = extra  # denominators of start values with primes outside D (they never need to grow)
        self.exps = {p: need[p] + 8 * v for p, v in primes.items()}
        self.S = extra * math.prod(p**e for p, e in self.exps.items())
        self._check("for the start values")

    def digits(self, exps: Mapping[int, int]) -> float:
        return math.log10(self.extra) + sum(e * math.log10(p) for p, e in exps.items())

    def _check(self, where: str, exps: Mapping[int, int] | None = None) -> None:
        digits = self.digits(self.exps if exps is None else exps)
        if digits > self.max_digits:
            raise PrecisionError(
                f"exact values need a fixed-point scale of {digits:,.0f} decimal digits ({where}), more than "
                f"max_digits={self.max_digits:,}; raise max_digits (and memory) to go on"
            )

    def grow(self, L: int, num: int, where: str) -> int:
        """Grow the exponents of the primes that ``num / L`` lacks; return the factor ``S`` was multiplied by."""
        lacking = L // math.gcd(num, L)
        exps = dict(self.exps)
        for p, e in self.exps.items():
            if lacking % p == 0:
                exps[p] = max(e * _GROWTH[0] // _GROWTH[1], e + _factor(L)[p])
        self._check(where, exps)
        factor = math.prod(p ** (exps[p] - e) for p, e in self.exps.items())
        self.exps = exps
        self.S *= factor
        return factor


# ---------------------------------------------------------------- recording


@dataclass
class _Recording:
    """Rows of fixed-point values in segments of one scale each (a scale changes when precision grows)."""

    labels: tuple[str, ...]
    binary: tuple[bool, ...]
    final: bool
    segments: list[tuple[int, deque[tuple[int, ...]] | list[tuple[int, ...]]]] = field(default_factory=list)

    def start(self, S: int) -> None:
        self.segments.append((S, deque(maxlen=2) if self.final else []))

    def rescale(self, S: int, factor: int) -> None:
        """Precision grew: keep the last rows (``final``) or open a new segment."""
        if self.final:
            rows = self.segments[-1][1]
            self.segments[-1] = (S, deque((_rescaled(row, self.binary, factor) for row in rows), maxlen=2))
        else:
            self.start(S)

    def __len__(self) -> int:
        return sum(len(rows) for _, rows in self.segments)

    def _locate(self, row: int) -> tuple[int, tuple[int, ...]]:
        if row < 0:
            row += len(self)
        for S, rows in self.segments:
            if row < len(rows):
                return S, rows[row]
            row -= len(rows)
        raise IndexError("row out of range")

    def column(self, neuron: int) -> list[Fraction]:
        if self.binary[neuron]:
            return [Fraction(row[neuron]) for _, rows in self.segments for row in rows]
        return [Fraction(row[neuron], S) for S, rows in self.segments for row in rows]

    def getter(self, row: int) -> Getter:
        S, values = self._locate(row)
        return _getter(self.labels, self.binary, values, S)

    def row_dict(self, row: int) -> dict[str, Fraction]:
        get = self.getter(row)
        return {label: get(label) for label in self.labels}


def _rescaled(values: Sequence[int], binary: Sequence[bool], factor: int) -> tuple[int, ...]:
    return tuple(v if b else v * factor for v, b in zip(values, binary, strict=True))


# ---------------------------------------------------------------- the run


Inputs = Callable[[int], tuple[int, ...]]


class _Runner:
    """Advance a network from fixed-point start values, growing precision and recording as asked."""

    def __init__(
        self, engine: _Engine, start: Sequence[Fraction], record: str, first: int, max_digits: int, max_memory: int
    ) -> None:
        self.engine = engine
        self.record = record
        self.first = first
        self.max_memory = max_memory
        self.scale = _Scale(engine.primes, [v.denominator for v in start], max_digits)
        self.growths = 0
        self.phase_skipping = False
        self.interrupted = False
        self.started = monotonic()
        S = self.scale.S
        values = []
        for i, v in enumerate(start):
            if not v:
                values.append(0)
                continue
            if not 0 <= v <= 1:
                raise InputError(f"start value of neuron {engine.labels[i]!r} is {v}, outside [0, 1]")
            if engine.binary[i]:
                if v not in (0, 1):
                    raise TuringRNNError(f"binary neuron {engine.labels[i]!r} starts at {v}, not 0 or 1")
                values.append(int(v))
            else:
                values.append(v.numerator * (S // v.denominator))
        self.vals = tuple(values)
        self.t = 0
        self.steps = 0
        self.recording = _Recording(engine.labels, engine.binary, final=record == "final")
        self.recording.start(S)
        self._consts: dict[int, tuple[int, ...]] = {}
        if record == "ticks":
            self._keep()

    def _keep(self) -> None:
        self.recording.segments[-1][1].append(self.vals)

    def consts(self, gen: _Generated) -> tuple[int, ...]:
        key = id(gen)
        if key not in self._consts:
            self._consts[key] = gen.consts.values(self.scale.S)
        return self._consts[key]

    def _signal(self, e: _Stop, tick: int) -> None:
        """Handle a signal from generated code while computing tick ``tick + 1`` from tick ``tick``."""
        label = self.engine.labels[e.row]
        if isinstance(e, _Fractional):
            raise TuringRNNError(
                f"binary neuron {label!r} took the value {Fraction(e.num, e.den)} at tick {tick + 1}; "
                "the network flags it as always 0 or 1"
            )
        factor = self.scale.grow(e.den, e.num, f"for neuron {label!r} at tick {tick + 1}")
        self.growths += 1
        self.vals = _rescaled(self.vals, self.engine.binary, factor)
        self.recording.rescale(self.scale.S, factor)
        self._consts.clear()

    def tick(self, u: tuple[int, ...]) -> None:
        """One tick with the single-tick function, growing precision as often as needed."""
        while True:
            try:
                vals = self.engine.tick.fn(self.vals, u, self.consts(self.engine.tick))
                break
            except _Stop as e:
                self._signal(e, self.t)
        self.vals = vals
        self.t += 1
        if self.record == "ticks":
            self._keep()

    def readout(self) -> None:
        """Record the values at a readout tick (``record="ticks"`` has them already)."""
        if self.record != "ticks":
            self._keep()

    def run_steps(
        self,
        max_steps: int,
        cont: Any,
        stop_reason: Callable[[tuple[int, ...], int], str | None],
        inputs: Inputs,
        last_input: int,
        progress: ProgressCallback | None = None,
    ) -> str | None:
        """From the first readout tick, take machine steps until ``stop_reason`` names one or ``max_steps``.

        ``progress`` is called between chunks of steps (and once more at the end, with ``done=True``). A
        ``KeyboardInterrupt`` raised anywhere (Ctrl-C, or by ``progress``) ends the run at the last readout
        tick that was completed and checked: ``interrupted`` is set and the reason is ``None``.
        """
        T = self.engine.ticks_per_step
        self.readout()
        reason = stop_reason(self.vals, self.steps)
        chunk = _CHUNK
        saved = self._checkpoint()
        try:
            while reason is None and self.steps < max_steps:
                saved = self._checkpoint()
                began = monotonic()
                if progress is not None:
                    progress(self.progress(max_steps))
                reason = self._advance(max_steps, chunk, cont, stop_reason, inputs, last_input, T)
                # keep chunks short enough for progress reports and Ctrl-C (a few per second at any depth)
                took = monotonic() - began
                chunk = max(64, chunk // 2) if took > 0.1 else min(_CHUNK, chunk * 2) if took < 0.02 else chunk
        except KeyboardInterrupt:
            self._restore(saved)
            self.interrupted = True
            reason = None
        if progress is not None:
            progress(self.progress(max_steps, done=True))
        return reason

    def _advance(
        self,
        max_steps: int,
        chunk: int,
        cont: Any,
        stop_reason: Callable[[tuple[int, ...], int], str | None],
        inputs: Inputs,
        last_input: int,
        T: int,
    ) -> str | None:
        """Up to ``chunk`` machine steps (at least one); returns the stop reason or ``None``."""
        if self.record == "ticks" or self.t <= last_input:
            self._check_memory()
            for _ in range(min(chunk, max_steps - self.steps)):
                for _ in range(T):
                    self.tick(inputs(self.t))
                self.steps += 1
                self.readout()
                reason = stop_reason(self.vals, self.steps)
                if reason is not None or (self.record != "ticks" and self.t > last_input):
                    return reason  # the kernel takes over once the input is read
            return None
        skip = self.engine.respects_phases(self.vals)
        self.phase_skipping |= skip and any(self.engine.safe)
        final = self.record == "final"
        kernel = self.engine.kernel(skip, final)
        rec = self.recording.segments[-1][1].append
        self._check_memory()
        left = min(max_steps - self.steps, chunk)
        status, done, signal, vals, last = kernel.fn(self.vals, self.consts(kernel), left, rec, cont)
        if final and done:
            if last[0] is not None:
                rec(last[0])
            rec(last[1])
        self.steps += done
        self.t += done * T
        self.vals = vals
        if status == 2:
            return None
        if status == 0:
            return stop_reason(vals, self.steps)
        # a signal in sub-tick `sub`: finish this step tick by tick from the values before it
        self.t += signal.sub - 1
        self._signal(signal, self.t)
        for _ in range(T - signal.sub + 1):
            self.tick(inputs(self.t))
        self.steps += 1
        self.readout()
        return stop_reason(self.vals, self.steps)

    def _checkpoint(self) -> tuple[Any, ...]:
        """What :meth:`_restore` needs to go back to this readout tick."""
        segments = self.recording.segments
        last = segments[-1][1]
        kept = tuple(last) if self.recording.final else len(last)
        return (self.vals, self.t, self.steps, self.growths, dict(self.scale.exps), self.scale.S, len(segments), kept)

    def _restore(self, saved: tuple[Any, ...]) -> None:
        """Go back to a checkpoint (after an interrupt that may have come in the middle of anything)."""
        self.vals, self.t, self.steps, self.growths, exps, S, n, kept = saved
        self.scale.exps, self.scale.S = exps, S
        self._consts.clear()
        segments = self.recording.segments
        del segments[n:]
        rows = segments[-1][1]
        if isinstance(rows, deque):
            segments[-1] = (S, deque(kept, maxlen=2))
        else:
            del rows[kept:]

    def progress(self, max_steps: int, done: bool = False) -> Progress:
        """A :class:`~turingrnn.progress.Progress` snapshot of the run."""
        return Progress(
            steps=self.steps,
            max_steps=max_steps,
            ticks=self.t,
            seconds=monotonic() - self.started,
            scale_digits=self.scale.digits(self.scale.exps),
            done=done,
            interrupted=self.interrupted,
        )

    def _check_memory(self) -> None:
        """Raise :class:`PrecisionError` when the recorded rows would pass ``max_memory`` (estimated from the last)."""
        rows = len(self.recording)
        if self.record == "final" or rows < _CHUNK:
            return
        per_row = 64 + 8 * len(self.vals) + sum(28 + v.bit_length() // 8 for v in self.vals if v > 1)
        if (rows + _CHUNK) * per_row > self.max_memory:
            raise PrecisionError(
                f"the recorded values would take more than max_memory={self.max_memory:,} bytes after step "
                f"{self.steps:,} ({rows:,} rows of about {per_row:,} bytes); run with record='final' or fewer steps"
            )

    def info(self) -> dict[str, Any]:
        """Statistics for :attr:`Trace.info <turingrnn.engines.trace.Trace.info>`."""
        return {
            "scale_digits": round(self.scale.digits(self.scale.exps), 1),
            "growths": self.growths,
            "phase_skipping": self.phase_skipping,
            "interrupted": self.interrupted,
            "seconds": round(monotonic() - self.started, 6),
        }

    def row_ticks(self) -> Sequence[int]:
        """The tick of every recorded row (the run ends at a readout tick)."""
        if self.record == "ticks":
            return range(self.t + 1)
        T, kept = self.engine.ticks_per_step, len(self.recording)
        return range(self.t - (kept - 1) * T, self.t + 1, T)


# ---------------------------------------------------------------- input


def start_values(net: Network, word: str, head: int) -> list[Fraction]:
    """``x(0)`` of a preloaded network: the machine's initial configuration written by ``net.preload``."""
    machine, readout, preload = net.machine, net.readout, net.preload
    if preload is None:
        raise InputError("this preloaded network has no preload map (it cannot take an input)")
    if readout.kind == "reduced" and isinstance(machine, TuringMachine):
        config = reduction_of(machine).initial(word, head=head)
        state, words = config.state, dict(config.stacks)
    elif isinstance(machine, TuringMachine):
        tm_config = next(steps(machine, word, head=head))
        tape, at = tm_config.tape, tm_config.head  # type: ignore[union-attr]
        state, words = tm_config.state, {"L": tape[:at][::-1], "R": tape[at:]}
    elif isinstance(machine, StackMachine):
        stack_config = next(steps(machine, word, head=head))
        state, words = stack_config.state, dict(stack_config.stacks)  # type: ignore[union-attr]
    else:
        raise InputError(f"the network's machine is {type(machine).__name__}; run_exact needs a machine to load")
    values = [Fraction(0)] * net.size
    states = dict(preload.states)
    if state not in states:
        raise InputError(f"the network's preload has no values for state {state!r}")
    for label, v in states[state]:
        values[net.index(label)] = Fraction(v)
    codes = {s.name: s for s in readout.stacks}
    for name, label in preload.stacks:
        if name not in codes or name not in words:
            raise InputError(f"the preload writes stack {name!r}, which the readout or the machine does not have")
        s = codes[name]
        values[net.index(label)] = encode_word(words[name], s.alphabet, s.kind)
    for name, j, label in preload.tops:
        if name not in codes or name not in words:
            raise InputError(f"the preload reads the top of stack {name!r}, which the readout or the machine lacks")
        word = words[name]
        values[net.index(label)] = Fraction(int(bool(word) and codes[name].alphabet.index(word[0]) >= j))
    return values


def stream_inputs(net: Network, word: str, head: int) -> tuple[Inputs, int]:
    """The input lines of a streamed run, tick by tick, and the first readout tick."""
    if head != 0:
        raise InputError(f"a streamed network reads the word from its first symbol; head must be 0, got {head!r}")
    if isinstance(net.machine, TuringMachine):
        check_tm_input(net.machine, word, 0)
    elif isinstance(net.machine, StackMachine):
        check_stack_input(net.machine, word)
    line = {label: k for k, label in enumerate(net.inputs)}
    for needed in [*(f"in:{c}" for c in dict.fromkeys(word)), "in:end"]:
        if needed not in line:
            raise InputError(f"the network has no input line {needed!r}; its lines are: {', '.join(net.inputs)}")
    if net.stream_latency is None:
        raise InputError("this streamed network has no stream_latency (its first readout tick is unknown)")
    zeros = (0,) * len(net.inputs)
    one_hot = {}
    for label, k in line.items():
        one_hot[label] = tuple(1 if j == k else 0 for j in range(len(net.inputs)))

    def inputs(t: int) -> tuple[int, ...]:
        if t < len(word):
            return one_hot[f"in:{word[t]}"]
        return one_hot["in:end"] if t == len(word) else zeros

    return inputs, len(word) + net.stream_latency


def _check_record(record: str) -> None:
    if record not in RECORD_MODES:
        raise InputError(f"record must be one of {', '.join(RECORD_MODES)}; got {record!r}")


def run_exact(
    net: Network,
    word: str = "",
    *,
    head: int = 0,
    max_steps: int = 1_000_000,
    record: str = "steps",
    max_digits: int = DEFAULT_MAX_DIGITS,
    max_memory: int = DEFAULT_MAX_MEMORY,
    progress: bool | ProgressCallback | None = None,
) -> Trace:
    """Run ``net`` on ``word`` in exact arithmetic until its machine halts or ``max_steps`` steps were taken.

    Long runs: ``progress=True`` prints a progress line on ``stderr`` (steps,
    depth in digits of the scale, steps per second), at most four times a
    second; a callable gets every :class:`~turingrnn.progress.Progress`
    snapshot instead (every few thousand steps, and once with ``done=True``).
    Ctrl-C (a ``KeyboardInterrupt``, also one raised by the callback) does not
    raise: the run returns its trace up to the last readout tick it completed.
    Such a partial trace has ``trace.info["interrupted"] == True`` and the
    semantics of a step limit (``stop`` is ``None``, status ``out-of-steps``),
    and decodes like any other. An interrupt before the first readout tick
    (while a streamed network reads its word) is raised.

    Args:
        net: A compiled network (``input_mode`` ``"preloaded"`` or ``"streamed"``).
        word: The input word, checked against the machine's alphabet.
        head: The Turing machine head's start index in ``word`` (preloaded networks only).
        max_steps: The most machine steps (readouts after the first) to take.
        record: ``"steps"`` keeps the values at every readout tick, ``"ticks"``
            at every tick, ``"final"`` only the last readouts (for long runs).
        max_digits: The largest fixed-point scale, in decimal digits, before
            :class:`~turingrnn.errors.PrecisionError`.
        max_memory: The largest estimated size of the recorded values, in
            bytes, before :class:`~turingrnn.errors.PrecisionError`.
        progress: ``True`` for a progress line on ``stderr``, or a callback taking
            :class:`~turingrnn.progress.Progress` snapshots.

    Returns:
        The :class:`~turingrnn.engines.trace.Trace`; ``trace.decode()`` is the interpreter's result.
        ``trace.info`` holds ``scale_digits``, ``growths``, ``phase_skipping``,
        ``interrupted`` and ``seconds``.

    Raises:
        InputError: The word or head does not fit the machine, or an argument is invalid.
        PrecisionError: The run needs more than ``max_digits`` digits or ``max_memory`` bytes, or memory ran out.
        TuringRNNError: A neuron flagged binary took a fractional value.
        DecodeError: A readout tick holds no valid state code.
    """
    check_max_steps(max_steps)
    _check_record(record)
    engine = _engine(net)
    if net.input_mode == "streamed":
        inputs, first = stream_inputs(net, word, head)
        start = [Fraction(0)] * net.size
        last_input = len(word)
    elif net.input_mode == "preloaded":
        start, first, last_input = start_values(net, word, head), 0, -1
        inputs = no_inputs(net)
    else:
        raise InputError(f"input mode {net.input_mode!r} is unknown (allowed: preloaded, streamed)")

    def reason_at(values: tuple[int, ...], step: int) -> str | None:
        return stop_reason(net, read_state(net, _getter(engine.labels, engine.binary, values, runner.scale.S)), step)

    report = ProgressBar() if progress is True else progress or None
    try:
        runner = _Runner(engine, start, record, first, max_digits, max_memory)
        while runner.t < first:
            runner.tick(inputs(runner.t))
        reason = runner.run_steps(max_steps, engine.cont, reason_at, inputs, last_input, report)
    except MemoryError:
        raise PrecisionError(
            f"memory ran out in an exact run of {net.size} neurons (record={record!r}); "
            "try record='final', fewer steps or a smaller max_digits"
        ) from None
    return Trace(
        network=net,
        engine="exact",
        record=record,
        recording=runner.recording,
        row_ticks=runner.row_ticks(),
        first_readout=first,
        ticks=runner.t,
        steps=runner.steps,
        stop=reason,
        info=runner.info(),
    )


def no_inputs(net: Network) -> Inputs:
    """The input lines of a preloaded run: all off, at every tick."""
    zeros = (0,) * len(net.inputs)
    return lambda t: zeros


def _getter(labels: Sequence[str], binary: Sequence[bool], values: Sequence[int], S: int) -> Getter:
    """Fixed-point ``values`` over the scale ``S`` as exact fractions, by label."""
    index = {label: i for i, label in enumerate(labels)}

    def get(label: str) -> Fraction:
        i = index[label]
        return Fraction(values[i]) if binary[i] else Fraction(values[i], S)

    return get


def run_ticks(
    net: Network,
    start: Mapping[str, Fraction | int] | None = None,
    ticks: int = 1,
    *,
    inputs: Sequence[Mapping[str, int]] = (),
    record: str = "ticks",
    max_digits: int = DEFAULT_MAX_DIGITS,
    max_memory: int = DEFAULT_MAX_MEMORY,
) -> list[dict[str, Fraction]]:
    """Neuron values from ``start`` (tick 0) to tick ``ticks``, without any machine semantics.

    With ``record="ticks"`` every tick is returned, computed by the generated
    single-tick function; ``inputs[t]`` gives the input lines at tick ``t``.
    With ``record="steps"`` every ``ticks_per_step``-th tick is returned,
    computed by the generated step kernel (tick 0 counts as a readout tick;
    ``ticks`` must be a multiple of ``ticks_per_step``, and there are no inputs).
    """
    _check_record(record)
    if record == "final":
        raise InputError("run_ticks records 'ticks' or 'steps'")
    engine = _engine(net)
    T = net.ticks_per_step
    values = [Fraction((start or {}).get(label, 0)) for label in net.labels]
    for label in start or {}:
        net.index(label)
    lines = {label: k for k, label in enumerate(net.inputs)}
    vectors = []
    for u in inputs:
        vec = [0] * len(net.inputs)
        for label, v in u.items():
            if label not in lines:
                raise InputError(f"no input line {label!r}; lines are: {', '.join(net.inputs)}")
            vec[lines[label]] = v
        vectors.append(tuple(vec))
    zeros = (0,) * len(net.inputs)

    def at(t: int) -> tuple[int, ...]:
        return vectors[t] if t < len(vectors) else zeros

    runner = _Runner(engine, values, record, 0, max_digits, max_memory)
    if record == "ticks":
        for _ in range(ticks):
            runner.tick(at(runner.t))
    else:
        if ticks % T or vectors:
            raise InputError(f"record='steps' needs no inputs and a multiple of {T} ticks; got {ticks} ticks")
        runner.run_steps(ticks // T, _Everything(), lambda values, step: None, at, -1)
    return [runner.recording.row_dict(k) for k in range(len(runner.recording))]
