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
"""

from __future__ import annotations

from fractions import Fraction

from .errors import CompileError
from .gadgets import StreamHook, add, const, gated, scale, start_lines, threshold, total, with_hand
from .machines import TuringMachine
from .network import Linear, NetworkBuilder, Preload, Readout, StackReadout

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


def build(tm: TuringMachine, hook: StreamHook | None = None) -> tuple[NetworkBuilder, Readout, Preload, int]:
    """Build the compact network of ``tm``; returns the builder, readout, preload and ticks per step."""
    if not isinstance(tm, TuringMachine):
        raise CompileError(f"the compact Turing machine construction needs a TuringMachine, got {type(tm).__name__}")
    syms = tape_alphabet(tm)
    k, base = len(syms), 2 * len(syms)
    idx = {a: i for i, a in enumerate(syms)}
    codes, undefined, nbits = state_codes(tm)
    working = [q for q in tm.states if q not in tm.halting_states]
    moves = ("R", "L", "S") if any(r.move == "S" for r in tm.rules) else ("R", "L")
    bits = [f"code:{i}" for i in range(nbits)]
    halves = {h: [f"tape:{h}/{m}" for m in moves] for h in ("L", "R")}
    x = {h: with_hand(total(halves[h]), hook, h) for h in ("L", "R")}
    b = NetworkBuilder()

    # ---- phase 1: read the configuration
    def match(q: str) -> Linear:
        on = [bits[i] for i in range(nbits) if codes[q] >> i & 1]
        off = [bits[i] for i in range(nbits) if not codes[q] >> i & 1]
        return add(total(on), total(off, -1), const(-len(on)))

    detector: dict[tuple[str, int], str] = {}
    for q in working:
        b.neuron(f"state:{q}", role="state", inputs=add(match(q), const(1)), binary=True, phase=READ)
        for j in range(1, k):
            detector[q, j] = threshold(
                b,
                f"top:R>={j}@{q}",
                add(scale(x["R"], base), scale(match(q), base)),
                base=1,
                offset=2 * j - 1,
                phase=READ,
                role="detector",
            )
    tops_l = [threshold(b, f"top:L>={j}", x["L"], base=base, offset=2 * j - 1, phase=READ) for j in range(1, k)]
    for h in ("L", "R"):
        b.neuron(f"copy:{h}", role="copy", inputs=x[h], phase=READ)

    # ---- phase 0: write the next configuration, as linear functions of phase 1
    def indicator(q: str, a: int) -> Linear:
        upper = Linear.of({detector[q, a + 1]: 1}) if a + 1 < k else Linear()
        lower = Linear.of({f"state:{q}" if a == 0 else detector[q, a]: 1})
        return add(lower, scale(upper, -1))

    move_gate = {m: Linear() for m in moves}
    digit = Linear()
    next_bits = [Linear() for _ in range(nbits)]
    for q in working:
        for a in syms:
            rule = tm.rule(q, a)
            ind = indicator(q, idx[a])
            code = undefined if rule is None else codes[rule.next]
            for i in range(nbits):
                if code >> i & 1:  # type: ignore[operator]
                    next_bits[i] = add(next_bits[i], ind)
            if rule is not None:
                move_gate[rule.move] = add(move_gate[rule.move], ind)
                digit = add(digit, scale(ind, 2 * idx[rule.write]))
    top_r = total(list(detector.values()))
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
        undefined_codes=(undefined,) if undefined else (),
        stacks=tuple(StackReadout(name=h, value=x[h], alphabet=syms, kind="tape") for h in ("L", "R")),
    )
    preload = Preload(
        states=tuple((q, tuple((bits[i], c >> i & 1) for i in range(nbits))) for q, c in codes.items()),
        stacks=(("L", "tape:L/R"), ("R", "tape:R/R")),
    )
    return b, readout, preload, 2
