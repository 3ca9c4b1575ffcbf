"""The compact Turing machine construction: two half-tape codes, two ticks per step.

Write ``k`` for the number of tape symbols (the blank first, index 0), ``B = 2k``,
and give symbol ``a`` the even digit ``2a``, so an all-blank half-tape is exactly
0. The tape is held by two codes, ``x_L`` (the cells left of the head, nearest
first) and ``x_R`` (the scanned cell, then the cells to its right). The state is
held in binary by ``ceil(log2(n + 1))`` neurons ``code:b`` (code 0 is unused, so
an all-zero phase is quiet); ``n`` counts the states plus one code ``U`` for
"halted on a missing transition" when the machine has missing transitions.

The network is bipartite: **phase 1** reads the configuration, **phase 0**
writes the next one (and is the readout phase). Every bias is ``<= 0``, so the
phase that is not running stays exactly 0.

Phase 1, from ``x_L = sum(tape:L/*)``, ``x_R = sum(tape:R/*)`` and the code bits,
with ``match_q = sum(code bits that are 1 in code(q)) - sum(the others) - popcount(code(q))``
(0 for the current state, ``<= -1`` otherwise):

* ``state:q = sigma(match_q + 1)`` for each non-halting state ``q``;
* ``top:R>=j@q = sigma(B x_R - 2j + 1 + B match_q)`` for ``j = 1 .. k-1``: the
  scanned symbol index is ``>= j`` and the state is ``q``;
* ``top:L>=j = sigma(B x_L - 2j + 1)``;
* ``copy:L = sigma(x_L)``, ``copy:R = sigma(x_R)``.

Phase 0 uses only linear functions of phase 1. The indicator of "state ``q``,
scanned ``a``" is ``I(q, a) = top:R>=a@q - top:R>=a+1@q`` (``state:q`` in place
of ``top:R>=0@q``); the move, written digit ``D`` and next-state bits are sums of
indicators. With ``top_R = sum(top:R>=j@q)`` and ``top_L = sum(top:L>=j)``:

* ``tape:L/R = sigma(copy:L/B + D/B + (m_R - 1))``: push the written symbol on L;
* ``tape:R/R = sigma(B copy:R - 2 top_R + (m_R - 1))``: pop R;
* ``tape:L/L = sigma(B copy:L - 2 top_L + (m_L - 1))``: pop L;
* ``tape:R/L = sigma(2 top_L/B + (D - 2 top_R)/B^2 + copy:R/B + (m_L - 1))``:
  replace the scanned symbol by ``D`` and push L's top;
* ``tape:L/S``, ``tape:R/S`` for machines with stay moves;
* ``code:b = sigma(sum over (q, a) of bit b of the next code * I(q, a))``.

Every candidate lies in ``[0, 1)``, so a gate constant of 1 suffices. For a
machine without stay moves this is ``Q k + k + ceil(log2(n + 1)) + 5`` neurons
(``Q`` non-halting states): 38 for Rogozhin's UTM(4,6) and 41 for Minsky's
UTM(7,4), at 2 ticks per step.

**Layouts.** A :class:`Plan` fixes the digit order, the state codes and the
phase-1 detectors. :func:`default_plan` is the layout above (one detector per
working state and level); phase 0 takes every quantity it needs (move gates,
written digit, next-state bits, scanned index) as a linear function of the
plan's detectors, with coefficients solved exactly by :func:`coefficients`
(for the default plan they are the indicator sums above). The ``small``
construction (:mod:`turingrnn.compile.small_tm`) searches for plans with fewer
detectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from ..errors import CompileError
from ..machines.model import TuringMachine
from .gadgets import StreamHook, add, const, gated, scale, start_lines, threshold, total, with_hand
from .network import Built, Linear, NetworkBuilder, Preload, Readout, StackReadout

READ, WRITE = 1, 0
"""Phases: 1 reads the configuration, 0 writes the next one (and is read out)."""


def tape_alphabet(tm: TuringMachine) -> tuple[str, ...]:
    """The symbols with the blank first (digit 0), then the others in order."""
    return (tm.blank,) + tuple(s for s in tm.symbols if s != tm.blank)


def state_codes(tm: TuringMachine) -> tuple[dict[str, int], int | None, int]:
    """Codes 1.. for the states in order, the code ``U`` of a missing-transition halt, and the bit count."""
    codes = {q: i + 1 for i, q in enumerate(tm.states)}
    working = [q for q in tm.states if q not in tm.halting_states]
    missing = any(tm.rule(q, a) is None for q in working for a in tm.symbols)
    undefined = len(codes) + 1 if missing else None
    top = undefined or len(codes)
    return codes, undefined, top.bit_length()


@dataclass(frozen=True)
class Detector:
    """A phase-1 neuron that reads the state code, and from level 1 on the scanned symbol.

    Level 0: ``sigma(w . bits - threshold + 1)``, 1 when ``w . code >= threshold``
    (``threshold >= 1``, so it is 0 on the all-zero idle phase). Level ``j >= 1``:
    ``sigma(B x_R - 2j + 1 + B (w . bits - threshold))``, 1 when the scanned index
    is ``>= j`` and ``w . code == threshold``; ``w . c <= threshold`` must hold for
    every assigned code ``c`` and for 0 (a face of their hull), so the argument is
    ``<= 0`` elsewhere. ``states`` lists the working states it fires for.
    """

    level: int
    weights: tuple[int, ...]
    threshold: int
    states: tuple[str, ...]

    def label(self) -> str:
        """``state:q`` or ``top:R>=j@q``; a detector of several states joins them with ``|``."""
        who = "|".join(self.states)
        return f"state:{who}" if self.level == 0 else f"top:R>={self.level}@{who}"


@dataclass(frozen=True)
class Plan:
    """How the compact construction lays out a machine: digit order, state codes and detectors.

    ``symbols`` is the tape alphabet in digit order (blank first), ``codes`` the
    state codes, ``undefined`` the code read out on a missing transition (0 or
    ``None`` when there is none), ``nbits`` the number of ``code:b`` neurons, and
    ``detectors`` the phase-1 neurons; every move gate, written digit,
    next-state bit and the scanned index must be a linear function of them
    (:func:`coefficients` solves for it exactly).
    """

    symbols: tuple[str, ...]
    codes: tuple[tuple[str, int], ...]
    undefined: int | None
    nbits: int
    detectors: tuple[Detector, ...]


def point_weights(code: int, nbits: int) -> tuple[tuple[int, ...], int]:
    """``(w, t)`` with ``w . c <= t`` for every ``nbits``-bit code ``c``, equal only at ``c == code``."""
    w = tuple(1 if code >> i & 1 else -1 for i in range(nbits))
    return w, bin(code).count("1")


def default_plan(tm: TuringMachine) -> Plan:
    """The plain layout: symbols in order, codes ``1..``, one detector per (working state, level)."""
    syms = tape_alphabet(tm)
    codes, undefined, nbits = state_codes(tm)
    working = [q for q in tm.states if q not in tm.halting_states]
    detectors = [Detector(level, *point_weights(codes[q], nbits), (q,)) for q in working for level in range(len(syms))]
    return Plan(syms, tuple(codes.items()), undefined, nbits, tuple(detectors))


def components(
    tm: TuringMachine, plan: Plan, missing: Mapping[tuple[str, str], tuple[str, str]] | None = None
) -> tuple[tuple[str, ...], dict[tuple[str, int], tuple[int, ...]]]:
    """The quantities phase 0 needs, per (working state, scanned index).

    Names: ``move:M`` (1 when the rule moves ``M``), ``digit`` (the written
    digit ``2 * index``), ``bit:i`` (bit ``i`` of the next code, or of the
    undefined code), ``index`` (the scanned index). A missing transition moves
    nowhere and writes digit 0, unless ``missing`` gives it a (write, move):
    its tape is never read, so any will do.
    """
    moves = ("R", "L", "S") if any(r.move == "S" for r in tm.rules) else ("R", "L")
    names = (*(f"move:{m}" for m in moves), "digit", *(f"bit:{i}" for i in range(plan.nbits)), "index")
    idx = {a: i for i, a in enumerate(plan.symbols)}
    codes = dict(plan.codes)
    table = {}
    for q in codes:
        if q in tm.halting_states:
            continue
        for a, i in idx.items():
            rule = tm.rule(q, a)
            code = (plan.undefined or 0) if rule is None else codes[rule.next]
            write, went = (rule.write, rule.move) if rule else (missing or {}).get((q, a), (None, None))
            move = tuple(int(went == m) for m in moves)
            digit = 0 if write is None else 2 * idx[write]
            table[q, i] = (*move, digit, *(code >> b & 1 for b in range(plan.nbits)), i)
    return names, table


def coefficients(tm: TuringMachine, plan: Plan) -> dict[str, dict[int, Fraction]]:
    """Each component as exact coefficients over the plan's detectors (by position).

    Level 0 carries the component's value at scanned index 0, level ``j`` its
    change from ``j - 1`` to ``j``; each level is solved over the working states
    with the detectors of that level. Raises :class:`CompileError` when a level's
    detectors do not span what it needs.
    """
    names, table = components(tm, plan)
    codes = dict(plan.codes)
    working = [q for q in codes if q not in tm.halting_states]
    out: dict[str, dict[int, Fraction]] = {name: {} for name in names}
    for level in range(len(plan.symbols)):
        members = [i for i, d in enumerate(plan.detectors) if d.level == level]
        rows = [[Fraction(int(q in plan.detectors[i].states)) for q in working] for i in members]
        for c, name in enumerate(names):
            if level == 0:
                target = [Fraction(table[q, 0][c]) for q in working]
            else:
                target = [Fraction(table[q, level][c] - table[q, level - 1][c]) for q in working]
            coef = solve_span(rows, target)
            if coef is None:
                raise CompileError(f"the plan's level-{level} detectors do not give {name} of machine {tm.name!r}")
            out[name].update({members[i]: v for i, v in enumerate(coef) if v})
    return out


def solve_span(rows: list[list[Fraction]], target: list[Fraction]) -> list[Fraction] | None:
    """Exact ``c`` with ``sum(c[i] * rows[i]) == target``, or ``None``; rows must be independent."""
    m = len(rows)
    if not any(target):
        return [Fraction(0)] * m
    # Gaussian elimination on the columns (one equation per working state)
    eqs = [[rows[i][s] for i in range(m)] + [target[s]] for s in range(len(target))]
    pivots: list[int] = []
    r = 0
    for col in range(m):
        p = next((i for i in range(r, len(eqs)) if eqs[i][col] != 0), None)
        if p is None:
            continue
        eqs[r], eqs[p] = eqs[p], eqs[r]
        inv = 1 / eqs[r][col]
        eqs[r] = [v * inv for v in eqs[r]]
        for i in range(len(eqs)):
            if i != r and eqs[i][col] != 0:
                f = eqs[i][col]
                eqs[i] = [a - f * b for a, b in zip(eqs[i], eqs[r], strict=True)]
        pivots.append(col)
        r += 1
    if any(row[m] != 0 for row in eqs[r:]) or len(pivots) < m:
        return None
    coef = [Fraction(0)] * m
    for i, col in enumerate(pivots):
        coef[col] = eqs[i][m]
    return coef


def build(tm: TuringMachine, hook: StreamHook | None = None) -> Built:
    """Build the compact network of ``tm``: its neurons, readout, preload and ticks per step."""
    if not isinstance(tm, TuringMachine):
        raise CompileError(f"the compact Turing machine construction needs a TuringMachine, got {type(tm).__name__}")
    return build_plan(tm, default_plan(tm), hook)


def build_plan(tm: TuringMachine, plan: Plan, hook: StreamHook | None = None) -> Built:
    """The compact network of ``tm`` laid out by ``plan``."""
    syms = plan.symbols
    k, base = len(syms), 2 * len(syms)
    codes, undefined, nbits = dict(plan.codes), plan.undefined, plan.nbits
    moves = ("R", "L", "S") if any(r.move == "S" for r in tm.rules) else ("R", "L")
    bits = [f"code:{i}" for i in range(nbits)]
    halves = {h: [f"tape:{h}/{m}" for m in moves] for h in ("L", "R")}
    x = {h: with_hand(total(halves[h]), hook, h) for h in ("L", "R")}
    b = NetworkBuilder()

    # ---- phase 1: read the configuration
    def reads(d: Detector) -> Linear:
        return add(*(scale(Linear.of({bits[i]: 1}), w) for i, w in enumerate(d.weights) if w), const(-d.threshold))

    neurons = []
    for d in plan.detectors:
        if d.level == 0:
            neurons.append(b.neuron(d.label(), role="state", inputs=add(reads(d), const(1)), binary=True, phase=READ))
        else:
            gate = add(scale(x["R"], base), scale(reads(d), base))
            neurons.append(threshold(b, d.label(), gate, base=1, offset=2 * d.level - 1, phase=READ, role="detector"))
    tops_l = [threshold(b, f"top:L>={j}", x["L"], base=base, offset=2 * j - 1, phase=READ) for j in range(1, k)]
    for h in ("L", "R"):
        b.neuron(f"copy:{h}", role="copy", inputs=x[h], phase=READ)

    # ---- phase 0: write the next configuration, as linear functions of phase 1
    coef = coefficients(tm, plan)

    def linear(name: str) -> Linear:
        return Linear.of({neurons[i]: v for i, v in sorted(coef[name].items())})

    move_gate = {m: linear(f"move:{m}") for m in moves}
    digit = linear("digit")
    next_bits = [linear(f"bit:{i}") for i in range(nbits)]
    top_r = linear("index")
    top_l = total(tops_l)
    copy_l, copy_r = Linear.of({"copy:L": 1}), Linear.of({"copy:R": 1})
    inv = Fraction(1, base)
    candidates = {
        ("L", "R"): add(scale(copy_l, inv), scale(digit, inv)),
        ("R", "R"): add(scale(copy_r, base), scale(top_r, -2)),
        ("L", "L"): add(scale(copy_l, base), scale(top_l, -2)),
        ("R", "L"): add(scale(top_l, 2 * inv), scale(add(digit, scale(top_r, -2)), inv * inv), scale(copy_r, inv)),
        ("L", "S"): copy_l,
        ("R", "S"): add(copy_r, scale(add(digit, scale(top_r, -2)), inv)),
    }
    for m in moves:
        for h in ("L", "R"):
            gated(b, f"tape:{h}/{m}", candidates[h, m], move_gate[m], role="tape", phase=WRITE)
    start_units = {bits[i]: codes[tm.start] >> i & 1 for i in range(nbits)}
    lines = start_lines(hook, start_units)
    for i in range(nbits):
        b.neuron(bits[i], role="state-code", inputs=next_bits[i], lines=lines.get(bits[i]), binary=True, phase=WRITE)

    readout = Readout(
        kind="tape",
        state_code=Linear.of({bits[i]: 2**i for i in range(nbits)}),
        state_table=tuple((c, q) for q, c in codes.items()),
        undefined_codes=() if undefined is None else (undefined,),
        stacks=tuple(StackReadout(name=h, value=x[h], alphabet=syms, kind="tape") for h in ("L", "R")),
    )
    preload = Preload(
        states=tuple((q, tuple((bits[i], c >> i & 1) for i in range(nbits))) for q, c in codes.items()),
        stacks=(("L", "tape:L/R"), ("R", "tape:R/R")),
    )
    return Built(b, readout, preload, 2)
