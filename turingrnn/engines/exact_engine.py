"""The exact engine's per-network kernels: a step kernel and a tick function, generated once and cached.

:class:`_Engine` holds the generated code of one network (from the row
source of :mod:`.exact_codegen`): the tick function for single ticks, and
step kernels that run whole machine steps with their ticks unrolled, with or
without the neurons that are provably zero outside their phase
(:func:`idle_neurons`). Engines are cached by network identity and
fingerprint, so a network's code is generated once per process.
"""

from __future__ import annotations

import math
import weakref
from collections import OrderedDict
from collections.abc import Sequence

from ..compile.network import Network
from .exact_codegen import _compile, _Generated, _linear, _phase_safe, _rows, _Source, _tuple
from .trace import Action, code_actions


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
    """The engine of ``net``, cached by identity and by :meth:`~turingrnn.compile.network.Network.engine_key`."""
    hit = _BY_ID.get(id(net))
    if hit is not None and hit[0]() is net:
        return hit[1]
    key = net.engine_key()
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
