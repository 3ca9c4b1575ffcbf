"""The exact engine's per-network kernels: a step kernel and a tick function, generated once and cached.

:class:`_Engine` holds the kernels of one network. For a network of up to
:data:`GENERATED_MAX_WEIGHTS` recurrent weights they are generated code (from
the row source of :mod:`.exact_codegen`): the tick function for single ticks,
and step kernels that run whole machine steps with their ticks unrolled, with
or without the neurons that are provably zero outside their phase
(:func:`idle_neurons`). A larger network's generated source would take
gigabytes for Python to compile, so it gets the generic kernel
(:class:`_GenericTick`): the same fixed-point integers, computed from sparse
rows with numpy (the small part, over binary inputs and input lines, in int64
when every row's coefficients are bounded, in Python ints otherwise; the big
part, over analog inputs, in Python ints). It gives the same values and the
same signals as the generated code, at every tick. ``kernel="generic"`` or
``"generated"`` chooses one whatever the size. Engines are cached by network
identity and fingerprint (and kernel), so a network's code is generated once
per process.
"""

from __future__ import annotations

import math
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

import numpy as np

from ..compile.network import Network
from ..errors import InputError
from .exact_codegen import (
    _compile,
    _Fractional,
    _Generated,
    _Grow,
    _linear,
    _phase_safe,
    _Row,
    _rows,
    _Source,
    _Stop,
    _tuple,
)
from .trace import Action, code_actions

GENERATED_MAX_WEIGHTS = 200_000
"""Networks with more recurrent weights than this run the generic kernel (``kernel="auto"``).

The generated code of the 6-stack ``ss95`` network (70,081 weights) takes about 1 s and 250 MB to
build; that of the 8-stack one (1,084,881 weights) runs out of memory while Python compiles it.
"""

KERNELS = ("auto", "generic", "generated")
"""The exact engine's kernels: ``auto`` (generated up to :data:`GENERATED_MAX_WEIGHTS` weights), or either one."""


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

    def __init__(self, net: Network, generated: bool = True) -> None:
        self.generated = generated
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
        self.lines = len(net.inputs)
        self._tick: _Generated | None = None
        self._generic: _GenericTick | None = None
        self._kernels: dict[tuple[bool, bool], _Generated] = {}

    @property
    def tick(self) -> _Generated:
        """The single-tick function ``fn(vals, u, C)`` (built on first use)."""
        if self._tick is None:
            self._tick = self._generate_tick(self.lines) if self.generated else self.generic().tick_function()
        return self._tick

    def generic(self) -> _GenericTick:
        """The generic kernel (built on first use)."""
        if self._generic is None:
            self._generic = _GenericTick(self.rows, self.binary, self.lines)
        return self._generic

    def _state_code(self, net: Network) -> tuple[tuple[tuple[int, int], ...] | None, frozenset[int]]:
        """The readout's state code as int terms over binary neurons (times ``M``), and the codes that go on."""
        readout = net.readout
        terms = [(net.index(label), c) for label, c in readout.state_code.terms]
        if any(not self.binary[j] for j, _ in terms):
            return None, frozenset()  # analog state code: every readout is checked in Python
        M = math.lcm(readout.state_code.const.denominator, *(c.denominator for _, c in terms))
        code = (*((j, int(c * M)) for j, c in terms), (-1, int(readout.state_code.const * M)))
        go = frozenset(c * M for c, action in code_actions(net).items() if action is Action.GO)
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
        if not self.generated:  # the generic kernel computes every neuron: the same values (see the module docs)
            skip = False
        key = (skip, final)
        if key not in self._kernels:
            if self.generated:
                self._kernels[key] = self._generate_kernel(skip, final)
            else:
                self._kernels[key] = self.generic().step_kernel(self.ticks_per_step, self.code, final)
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


_INT64_BOUND = 2**62
"""The small part runs in int64 when every row's ``|bias| + sum |c|`` is below this (else in Python ints)."""


class _GenericTick:
    """Ticks without generated code (the generic kernel): the same fixed-point ints, from sparse rows.

    Row ``i``'s small part ``s_i`` (its bias and its terms over binary neurons and input lines) is one
    gather, product and cumulative sum over all rows at once, in int64 when every row's
    ``|bias| + sum |c|`` is below ``2**62`` (the cumulative sum may wrap around, but a row's difference
    of two of them is its exact sum) and in Python ints otherwise. A binary row with no analog inputs
    is then ``1`` if ``s_i >= L_i`` and ``0`` if ``s_i <= 0``. Every other row (a non-binary neuron, or
    one that reads analog neurons) takes ``T = s_i S + sum(c X_j)`` in Python ints, clamped to
    ``[0, L S]`` and divided by ``L`` exactly. The first row, by index, whose value is finer than the
    scale or a fraction of a binary neuron raises the signal the generated code raises there.
    """

    def __init__(self, rows: Sequence[_Row], binary: Sequence[bool], lines: int, int64: bool | None = None) -> None:
        self.size = len(rows)
        self.binary = tuple(binary)
        self.columns = [j for j, b in enumerate(binary) if b]  # the binary neurons, then the input lines
        column = {j: k for k, j in enumerate(self.columns)}
        self.width = len(self.columns) + lines
        indices: list[int] = []
        data: list[int] = []
        ends: list[int] = []
        self.special: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = []  # (row, analog inputs, coefficients)
        bound = 0
        for r in rows:
            analog = [(j, c) for j, c in r.weights if not binary[j]]
            small = [(column[j], c) for j, c in r.weights if binary[j]] + [
                (len(self.columns) + k, c) for k, c in r.lines
            ]
            indices += [k for k, _ in small]
            data += [c for _, c in small]
            ends.append(len(indices))
            bound = max(bound, abs(r.bias) + sum(abs(c) for _, c in small), r.L)
            if analog or not binary[r.index]:
                self.special.append((r.index, tuple(j for j, _ in analog), tuple(c for _, c in analog)))
        self.int64 = bound < _INT64_BOUND if int64 is None else int64
        dtype: Any = np.int64 if self.int64 else object
        self.dtype = dtype
        self.indices = np.array(indices, dtype=np.intp)
        self.data = np.array(data, dtype=dtype)
        self.bias = np.array([r.bias for r in rows], dtype=dtype)
        self.L = np.array([r.L for r in rows], dtype=dtype)
        self.Ls = [r.L for r in rows]
        self.ends = np.array(ends, dtype=np.intp)
        self.starts = np.concatenate(([0], self.ends[:-1])).astype(np.intp)
        plain = np.array(binary, dtype=bool)
        plain[[i for i, _, _ in self.special]] = False
        self.plain = plain  # binary rows without analog inputs: decided by s alone

    def small(self, vals: Sequence[int], u: Sequence[int]) -> Any:
        """Every row's small part ``s`` (an array of ints)."""
        dtype = self.dtype if all(v in (0, 1) for v in u) else object  # the int64 bound assumes lines in {0, 1}
        x = np.fromiter(chain(map(vals.__getitem__, self.columns), u), dtype=dtype, count=self.width)
        sums = np.concatenate((np.zeros(1, dtype=dtype), np.cumsum(self.data * x[self.indices], dtype=dtype)))
        return sums[self.ends] - sums[self.starts] + self.bias

    def tick(self, vals: Sequence[int], u: Sequence[int], S: int, sub: int) -> tuple[int, ...]:
        """The values one tick after ``vals``; raises the generated code's signals (as in sub-tick ``sub``)."""
        s = self.small(vals, u)
        one = np.asarray(s >= self.L, dtype=bool)
        fractional = np.flatnonzero(np.asarray(s > 0, dtype=bool) & ~one & self.plain)
        first = int(fractional[0]) if len(fractional) else self.size
        out: list[int] = one.astype(np.int64).tolist()
        for i, js, cs in self.special:
            if i > first:
                break
            t = int(s[i]) * S + sum(c * vals[j] for j, c in zip(js, cs, strict=True))
            L = self.Ls[i]
            if t <= 0:
                out[i] = 0
            elif t >= L * S:
                out[i] = 1 if self.binary[i] else S
            elif self.binary[i]:
                raise _Fractional(sub, i, t, L * S)
            else:
                q, r = divmod(t, L)
                if r:
                    raise _Grow(sub, i, t, L)
                out[i] = q
        if first < self.size:
            raise _Fractional(sub, first, int(s[first]), self.Ls[first])
        return tuple(out)

    def tick_function(self) -> _Generated:
        """The single-tick function ``fn(vals, u, C)`` of the generated code's signature (``C = (S,)``)."""

        def fn(vals: Sequence[int], u: Sequence[int], C: Sequence[int]) -> tuple[int, ...]:
            return self.tick(vals, u, C[0], 0)

        return _Generated(fn, "# the generic kernel: no generated code\n", _Source())

    def step_kernel(self, T: int, code: tuple[tuple[int, int], ...] | None, final: bool) -> _Generated:
        """A step kernel of the generated one's signature and results (see :meth:`_Engine.kernel`)."""
        terms = [(j, c) for j, c in code or () if j >= 0]
        const = sum(c for j, c in code or () if j < 0)
        tick = self.tick

        def fn(vals: tuple[int, ...], C: Sequence[int], steps_left: int, rec: Callable[[Any], None], cont: Any) -> Any:
            S, zeros = C[0], (0,) * (self.width - len(self.columns))
            done, row, prev = 0, vals, vals
            while done < steps_left:
                now = row
                for sub in range(1, T + 1):
                    try:
                        now = tick(now, zeros, S, sub)
                    except _Stop as e:
                        return 1, done, e, now, (prev if done > 1 else None, row) if final else None
                done += 1
                prev, row = row, now
                if not final:
                    rec(row)
                state = None if code is None else sum(c * row[j] for j, c in terms) + const
                if state not in cont:
                    return 0, done, None, row, (prev if done > 1 else None, row) if final else None
            return 2, done, None, row, (prev if done > 1 else None, row) if final else None

        return _Generated(fn, "# the generic kernel: no generated code\n", _Source())


_ENGINES: OrderedDict[tuple[str, bool], _Engine] = OrderedDict()
_BY_ID: dict[tuple[int, bool], tuple[weakref.ref[Network], _Engine]] = {}
_CACHE_SIZE = 32


def uses_generated(net: Network, kernel: str = "auto") -> bool:
    """Whether the exact engine runs ``net`` on generated code: ``kernel`` is one of :data:`KERNELS`."""
    if kernel not in KERNELS:
        raise InputError(f"kernel must be one of {', '.join(KERNELS)}; got {kernel!r}")
    return kernel == "generated" or (kernel == "auto" and len(net.W) <= GENERATED_MAX_WEIGHTS)


def _engine(net: Network, kernel: str = "auto") -> _Engine:
    """The engine of ``net``, cached by identity and by :meth:`~turingrnn.compile.network.Network.engine_key`."""
    generated = uses_generated(net, kernel)
    hit = _BY_ID.get((id(net), generated))
    if hit is not None and hit[0]() is net:
        return hit[1]
    key = (net.engine_key(), generated)
    engine = _ENGINES.get(key)
    if engine is None:
        engine = _ENGINES[key] = _Engine(net, generated)
        while len(_ENGINES) > _CACHE_SIZE:
            _ENGINES.popitem(last=False)
    else:
        _ENGINES.move_to_end(key)
    if len(_BY_ID) > 4 * _CACHE_SIZE:
        for k in [k for k, (ref, _) in _BY_ID.items() if ref() is None]:
            del _BY_ID[k]
    _BY_ID[(id(net), generated)] = (weakref.ref(net), engine)
    return engine


def idle_neurons(net: Network) -> tuple[str, ...]:
    """Labels of the neurons the step kernel leaves out outside their phase (provably zero there)."""
    return tuple(label for label, safe in zip(net.labels, _engine(net).safe, strict=True) if safe)


def generated_source(net: Network) -> str:
    """The generated Python of ``net``'s step kernel and tick function (for inspection and debugging).

    The code is generated whatever the network's size (see :data:`GENERATED_MAX_WEIGHTS`).
    """
    engine = _engine(net, "generated")
    return engine.kernel(True).source + "\n" + engine.tick.source
