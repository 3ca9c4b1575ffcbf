"""The real-time construction: one network tick per machine step, exact.

Siegelmann and Sontag fold their layered construction into one tick per step
with a larger base and noisy readouts. This module gets one tick per step
*exactly*, with the ordinary codes (:mod:`turingrnn.compile.encoding`: base
``B_S = 2 k_S``, odd digits, empty = 0), by keeping the configuration in a form
from which the next one is a single saturated-linear layer.

**The form.** At every tick ``t`` three kinds of quantities are *linear
combinations* of neurons (they never need a neuron of their own):

* ``st_q(t)``: 1 when the state is ``q``, else 0;
* ``tau_{S,j}(t)``: 1 when the top index of stack ``S`` is ``>= j`` (``j = 0``:
  ``S`` is not empty), for the thresholds ``j in J_S`` that the machine's reads
  need (a read of symbol ``a`` needs ``a`` and ``a + 1``; a read of ``empty`` needs 0);
* ``q_S(t)``: the code of stack ``S``.

The indicator of "top of ``S`` is ``a``" is ``tau_{S,a} - tau_{S,a+1}`` (the
second term only when ``a + 1 < k_S``), of "``S`` is empty" ``1 - tau_{S,0}``.
A transition ``r`` (state ``q``, reads ``v_S``, ``m_r`` = 1 + the reads that
are not ``any``) has the 0/1 sum ``cond_r = st_q + sum_S ind_S(v_S)``, equal to
``m_r`` exactly when ``r`` applies. Each neuron of tick ``t + 1`` is sigma of an
affine function of these quantities, with the AND folded in:

* ``rule:r = sigma(cond_r - m_r + 1)``: ``r`` applied at ``t``;
* ``gate:S/r = sigma(cand + M (cond_r - m_r))`` for each stack ``r`` writes
  (``noop`` on a stack read ``empty`` needs none), with the candidates
  ``q_S`` (noop), ``(q_S + 2c + 1)/B`` (push ``c``; ``M = 1``) and
  ``B q_S - (2a + 1)`` (pop of the read symbol ``a``; ``M = B``). Every
  candidate lies in ``[0, 1)`` when ``r`` applies and below ``M`` always;
* ``next:S>=j@r``, the new top of ``S`` after ``r`` when the class does not
  know it: after a **pop** of ``a`` it is the *second* symbol of ``S``, read by
  a threshold at the next digit,
  ``sigma(B^2 q_S - B (2a + 1) - 2j + B^2 (cond_r - m_r))``. When ``r``
  applies, ``B^2 q_S - B(2a + 1) = B r_S`` is the code below the top times
  ``B``, whose integer part is the second digit, so the argument is ``>= 1``
  (second index ``>= j``) or ``<= 0`` (smaller, or nothing below); when ``r``
  does not apply, ``B^2 q_S < B^2`` and the argument is ``< 0``. This is an AND
  of 0/1 conditions and *one* interval threshold, which one sigma can do. After
  a ``noop`` under a read ``any`` the top is the old one:
  ``sigma(tau_{S,j} + cond_r - m_r)``. No neuron ever needs the AND of two
  interval thresholds, so transitions that pop several stacks at once are fine:
  each popped stack has its own thresholds. Transitions into halting states get
  no ``next:`` neurons (nothing reads the tops of a halting configuration).

The quantities at ``t + 1`` are sums over the transitions:

    st_q    = state:q + sum(rule:r, r goes to q)
    tau_S,j = top:S>=j + sum(rule:r over r that push c >= j on S, or leave a read a >= j)
              + sum(next:S>=j@r over r that pop S, or leave S read ``any``)
    q_S     = stack:S + sum(gate:S/r)

``state:q``, ``top:S>=j`` and ``stack:S`` are *hold* neurons with no inputs:
the preload (and the proof's canonical encoding) writes a configuration into
them at tick 0, including the top thresholds of each preloaded stack
(:attr:`turingrnn.compile.network.Preload.tops`), and they are 0 from tick 1 on. So
the first readout is tick 0 and step ``n`` is read at tick ``n``: no start-up
latency.

**Size.** With ``R`` transitions, ``w_r`` the stacks ``r`` writes, ``u_r`` the
stacks it pops or leaves under a read ``any`` (counted only when ``J_S`` is not
empty and ``r`` does not halt), ``Q`` states and ``p`` stacks:

    N = Q + sum_S (|J_S| + 1) + sum_r (1 + w_r + sum_{S in u_r} |J_S|)

at 1 tick per step, with ``|J_S| <= k_S``.

**Turing machines** (:func:`build_tm`) are compiled directly on two half-tapes
in tape codes (the readout has kind ``"tape"``, as under ``compact``): a move
pops one half-tape, whose new top is read at the second digit as above, and a
left move puts L's old top, a linear function of its thresholds, under the
head. With ``J_R`` the thresholds the reads need (``j >= 1``), ``J_L`` every
``j = 1 .. k-1`` when some transition moves left (else none), and per
transition ``n_r`` = ``|J_R|`` (right), ``|J_L| + |J_R|`` (left), ``|J_L|``
(stay), 0 into a halting state:

    N = Q + |J_L| + |J_R| + 2 + sum_r (3 + n_r)

at 1 tick per step: 216 neurons for Minsky's UTM(7,4) and 232 for Rogozhin's
UTM(4,6), where Siegelmann and Sontag's real-time universal net has 886.
**Streamed input** is not supported (:class:`~turingrnn.errors.CompileError`).

**Precision.** Stack values are the ordinary codes, ``log2(2k)`` bits per
symbol, so an exact binary float holds as deep a stack as under ``compact``;
the thresholds read the second digit with slope ``B^2``, so an *error* in a
stack value is amplified ``B^2`` times where ``compact`` amplifies it ``B``
times (see ``docs/precision.md``).

>>> from turingrnn.machines.parsing import load_machine
>>> built = build_stack(load_machine("anbn"))
>>> len(built.builder.build(ticks_per_step=built.ticks_per_step).labels), built.ticks_per_step
(27, 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from ..errors import CompileError
from ..machines.model import ANY, EMPTY, StackMachine, StackRule, TMRule, TuringMachine
from .gadgets import StreamHook, add, const, gated, scale
from .network import Built, Linear, NetworkBuilder, Preload, Readout, StackReadout

TICKS = 1
"""Network ticks per machine step."""


def rule_key(sm: StackMachine, rule: StackRule) -> str:
    """``q/S=v,...``: the state and the reads that are not ``any``, as in labels."""
    reads = ",".join(f"{s}={v}" for s, v in zip(sm.stack_names, rule.read, strict=True) if v != ANY)
    return f"{rule.state}/{reads}" if reads else rule.state


def thresholds(sm: StackMachine) -> dict[str, list[int]]:
    """``J_S``: the top thresholds the reads of each stack need."""
    out: dict[str, set[int]] = {s: set() for s in sm.stack_names}
    for r in sm.rules:
        for (s, alphabet), v in zip(sm.stacks, r.read, strict=True):
            if v == EMPTY:
                out[s].add(0)
            elif v != ANY:
                a = alphabet.index(v)
                out[s] |= {a, a + 1} if a + 1 < len(alphabet) else {a}
    return {s: sorted(js) for s, js in out.items()}


class _Form:
    """The linear combinations ``st_q``, ``tau_{S,j}`` and ``q_S``, collected while the neurons are declared."""

    def __init__(self, machine: StackMachine | TuringMachine, tops: Mapping[str, list[int]]) -> None:
        self.state: dict[str, dict[str, Fraction]] = {q: {f"state:{q}": Fraction(1)} for q in machine.states}
        self.top: dict[tuple[str, int], dict[str, Fraction]] = {
            (s, j): {f"top:{s}>={j}": Fraction(1)} for s, js in tops.items() for j in js
        }
        self.code: dict[str, dict[str, Fraction]] = {s: {f"stack:{s}": Fraction(1)} for s in tops}
        self._made: dict[object, Linear] = {}

    def _linear(self, key: object, terms: dict[str, Fraction]) -> Linear:
        """The expression, built once: call only after every contribution is registered."""
        if key not in self._made:
            self._made[key] = Linear.of(terms)
        return self._made[key]

    def st(self, q: str) -> Linear:
        return self._linear(("state", q), self.state[q])

    def tau(self, s: str, j: int) -> Linear:
        return self._linear(("top", s, j), self.top[s, j])

    def q(self, s: str) -> Linear:
        return self._linear(("code", s), self.code[s])


def _layer(sm: StackMachine) -> tuple[NetworkBuilder, _Form, dict[str, int], dict[str, list[int]]]:
    """Declare every neuron; returns the builder, the completed form, the state codes and ``J_S``."""
    names = sm.stack_names
    alphabets = dict(sm.stacks)
    tops = thresholds(sm)
    form = _Form(sm, tops)
    codes = {q: i + 1 for i, q in enumerate(sm.states)}
    b = NetworkBuilder()

    def indicator(s: str, v: str) -> Linear:
        if v == EMPTY:
            return add(const(1), scale(form.tau(s, 0), -1))
        a = alphabets[s].index(v)
        upper = scale(form.tau(s, a + 1), -1) if a + 1 < len(alphabets[s]) else Linear()
        return add(form.tau(s, a), upper)

    # ---- hold neurons: written at tick 0 only (no inputs)
    for q in sm.states:
        b.neuron(f"state:{q}", role="state", binary=True)
    for s in names:
        for j in tops[s]:
            b.neuron(f"top:{s}>={j}", role="top", binary=True)
        b.neuron(f"stack:{s}", role="stack")

    # ---- every transition's contributions to the form at the next tick
    plans: list[tuple[str, StackRule, int]] = []
    for r in sm.rules:
        key = rule_key(sm, r)
        m = 1 + sum(v != ANY for v in r.read)
        plans.append((key, r, m))
        fired = f"rule:{key}"
        form.state[r.next][fired] = Fraction(1)
        halts = r.next in sm.halting_states
        for i, s in enumerate(names):
            op, read = r.ops[i], r.read[i]
            if op.kind != "noop" or read != EMPTY:
                form.code[s][f"gate:{s}/{key}"] = Fraction(1)
            if halts:
                continue
            for j in tops[s]:
                if op.kind == "push":
                    known: int | None = alphabets[s].index(op.symbol)  # type: ignore[arg-type]
                elif op.kind == "noop" and read != ANY:
                    known = -1 if read == EMPTY else alphabets[s].index(read)
                else:
                    known = None
                if known is None:
                    form.top[s, j][f"next:{s}>={j}@{key}"] = Fraction(1)
                elif known >= j:
                    form.top[s, j][fired] = form.top[s, j].get(fired, Fraction(0)) + 1

    # ---- the neurons of the next tick
    for key, r, m in plans:
        cond = add(form.st(r.state), *(indicator(s, v) for s, v in zip(names, r.read, strict=True) if v != ANY))
        slack = add(cond, const(-m))  # 0 when r applies, <= -1 otherwise
        b.neuron(f"rule:{key}", role="rule", inputs=add(slack, const(1)), binary=True)
        halts = r.next in sm.halting_states
        for i, s in enumerate(names):
            op, read = r.ops[i], r.read[i]
            base = 2 * len(alphabets[s])
            qs = form.q(s)
            if op.kind == "noop" and read == EMPTY:
                pass
            elif op.kind == "noop":
                gated(b, f"gate:{s}/{key}", qs, add(slack, const(1)), role="gate")
            elif op.kind == "push":
                digit = 2 * alphabets[s].index(op.symbol) + 1  # type: ignore[arg-type]
                cand = scale(add(qs, const(digit)), Fraction(1, base))
                gated(b, f"gate:{s}/{key}", cand, add(slack, const(1)), role="gate")
            else:
                digit = 2 * alphabets[s].index(read) + 1
                cand = add(scale(qs, base), const(-digit))
                gated(b, f"gate:{s}/{key}", cand, add(slack, const(1)), big=base, role="gate")
            if halts or not tops[s] or not (op.kind == "pop" or (op.kind == "noop" and read == ANY)):
                continue
            for j in tops[s]:
                label = f"next:{s}>={j}@{key}"
                if op.kind == "pop":
                    digit = 2 * alphabets[s].index(read) + 1
                    arg = add(scale(qs, base * base), const(-base * digit - 2 * j), scale(slack, base * base))
                else:
                    arg = add(form.tau(s, j), slack)
                b.neuron(label, role="top", inputs=arg, binary=True)
    return b, form, codes, tops


def _readout(kind: str, sm: StackMachine, form: _Form, codes: Mapping[str, int]) -> Readout:
    return Readout(
        kind=kind,
        state_code=add(*(scale(form.st(q), c) for q, c in codes.items())),
        state_table=tuple((c, q) for q, c in codes.items()),
        undefined_codes=(0,),
        stacks=tuple(StackReadout(name=s, value=form.q(s), alphabet=a, kind="stack") for s, a in sm.stacks),
    )


def _preload(sm: StackMachine, tops: Mapping[str, list[int]]) -> Preload:
    return Preload(
        states=tuple((q, ((f"state:{q}", 1),)) for q in sm.states),
        stacks=tuple((s, f"stack:{s}") for s in sm.stack_names),
        tops=tuple((s, j, f"top:{s}>={j}") for s in sm.stack_names for j in tops[s]),
    )


def _no_stream(hook: StreamHook | None) -> None:
    if hook is not None:
        raise CompileError(
            "the realtime construction takes preloaded input only (input_mode='preloaded'); "
            "stream the word with the compact or ss95 construction"
        )


def build_stack(sm: StackMachine, hook: StreamHook | None = None) -> Built:
    """Build the real-time network of stack machine ``sm``: builder, readout, preload and ticks per step."""
    if not isinstance(sm, StackMachine):
        raise CompileError(f"the realtime stack construction needs a StackMachine, got {type(sm).__name__}")
    _no_stream(hook)
    b, form, codes, tops = _layer(sm)
    return Built(b, _readout("stack", sm, form, codes), _preload(sm, tops), TICKS)


def build_tm(tm: TuringMachine, hook: StreamHook | None = None) -> Built:
    """Build the real-time network of ``tm`` on two half-tapes; the readout has kind ``"tape"``.

    The half-tapes use tape codes (:mod:`turingrnn.compile.encoding`: blank = digit 0, so
    an all-blank half-tape is 0 and never "empty"); ``R`` holds the scanned cell
    on top. The form holds ``tau_{H,j}`` for ``j >= 1`` only. With ``d(L)`` =
    ``2 sum_j tau_{L,j}`` the digit on top of ``L`` (linear), a transition
    reading ``a``, writing ``w`` (digits ``d_a``, ``d_w``) gives:

    * right: ``gate:L/r`` = push ``(x_L + d_w)/B``; ``gate:R/r`` = pop
      ``B x_R - d_a`` (``M = B``); the new scanned cell is R's second symbol,
      ``next:R>=j@r = sigma(B^2 x_R - B d_a - 2j + 1 + B^2 (cond - m))``;
    * left: ``gate:L/r`` = pop ``B x_L - d(L)`` (``M = B``), with
      ``next:L>=j@r = sigma(B^2 x_L - B d(L) - 2j + 1 + B^2 (cond - m))``;
      ``gate:R/r = d(L)/B + (d_w - d_a)/B^2 + x_R/B`` (L's top, the written
      cell, the rest of R); the new scanned cell is L's old top,
      ``next:R>=j@r = sigma(tau_{L,j} + cond - m)``;
    * stay: ``gate:R/r = x_R + (d_w - d_a)/B`` (``M = 2``) and L carried over
      (``gate:L/r = x_L`` and ``next:L>=j@r = sigma(tau_{L,j} + cond - m)``).

    ``J_R`` holds the thresholds the reads need (``j >= 1``); ``J_L`` is every
    ``j = 1 .. k-1`` when some transition moves left, else empty.
    """
    if not isinstance(tm, TuringMachine):
        raise CompileError(f"the realtime Turing machine construction needs a TuringMachine, got {type(tm).__name__}")
    _no_stream(hook)
    from .compact_tm import tape_alphabet

    alphabet = tape_alphabet(tm)
    k, base = len(alphabet), 2 * len(alphabet)
    index = {a: i for i, a in enumerate(alphabet)}
    rules = list(tm.rules)
    need_r: set[int] = set()
    for r in rules:
        need_r |= {j for j in (index[r.read], index[r.read] + 1) if 1 <= j < k}
    tops = {"L": list(range(1, k)) if any(r.move == "L" for r in rules) else [], "R": sorted(need_r)}
    form = _Form(tm, tops)
    codes = {q: i + 1 for i, q in enumerate(tm.states)}
    b = NetworkBuilder()
    for q in tm.states:
        b.neuron(f"state:{q}", role="state", binary=True)
    for h in ("L", "R"):
        for j in tops[h]:
            b.neuron(f"top:{h}>={j}", role="top", binary=True)
        b.neuron(f"stack:{h}", role="tape")

    def key(r: TMRule) -> str:
        return f"{r.state}/R={r.read}"

    for r in rules:
        fired = f"rule:{key(r)}"
        form.state[r.next][fired] = Fraction(1)
        for h in ("L", "R"):
            form.code[h][f"gate:{h}/{key(r)}"] = Fraction(1)
        if r.next in tm.halting_states:
            continue
        known = {"R": index[r.write] if r.move == "S" else None, "L": index[r.write] if r.move == "R" else None}
        for h in ("L", "R"):
            top = known[h]
            for j in tops[h]:
                if top is None:
                    form.top[h, j][f"next:{h}>={j}@{key(r)}"] = Fraction(1)
                elif top >= j:
                    form.top[h, j][fired] = Fraction(1)

    def read_indicator(a: int) -> Linear:
        upper = scale(form.tau("R", a + 1), -1) if a + 1 < k else Linear()
        return add(form.tau("R", a) if a >= 1 else const(1), upper)

    top_l = _top_digit(form, "L", tops["L"])  # the digit on top of L: 2 sum tau_{L,j}
    for r in rules:
        a, w = index[r.read], index[r.write]
        da, dw = 2 * a, 2 * w
        slack = add(form.st(r.state), read_indicator(a), const(-2))  # 0 when r applies, <= -1 otherwise
        gate = add(slack, const(1))
        xl, xr = form.q("L"), form.q("R")
        b.neuron(f"rule:{key(r)}", role="rule", inputs=gate, binary=True)
        halts = r.next in tm.halting_states
        nexts: dict[str, list[tuple[int, Linear]]] = {"L": [], "R": []}
        if r.move == "R":
            gated(b, f"gate:L/{key(r)}", scale(add(xl, const(dw)), Fraction(1, base)), gate, role="gate")
            gated(b, f"gate:R/{key(r)}", add(scale(xr, base), const(-da)), gate, big=base, role="gate")
            below = add(scale(xr, base * base), const(-base * da))
            nexts["R"] = [(j, add(below, const(1 - 2 * j), scale(slack, base * base))) for j in tops["R"]]
        elif r.move == "L":
            gated(b, f"gate:L/{key(r)}", add(scale(xl, base), scale(top_l, -1)), gate, big=base, role="gate")
            cand = add(
                scale(top_l, Fraction(1, base)), const(Fraction(dw - da, base * base)), scale(xr, Fraction(1, base))
            )
            gated(b, f"gate:R/{key(r)}", cand, gate, role="gate")
            below = add(scale(xl, base * base), scale(top_l, -base))
            nexts["L"] = [(j, add(below, const(1 - 2 * j), scale(slack, base * base))) for j in tops["L"]]
            nexts["R"] = [(j, add(form.tau("L", j), slack)) for j in tops["R"]]
        else:
            gated(b, f"gate:L/{key(r)}", xl, gate, role="gate")
            gated(b, f"gate:R/{key(r)}", add(xr, const(Fraction(dw - da, base))), gate, big=2, role="gate")
            nexts["L"] = [(j, add(form.tau("L", j), slack)) for j in tops["L"]]
        if halts:
            continue
        for h in ("L", "R"):
            for j, arg in nexts[h]:
                b.neuron(f"next:{h}>={j}@{key(r)}", role="top", inputs=arg, binary=True)
    readout = Readout(
        kind="tape",
        state_code=add(*(scale(form.st(q), c) for q, c in codes.items())),
        state_table=tuple((c, q) for q, c in codes.items()),
        undefined_codes=(0,),
        stacks=tuple(StackReadout(name=h, value=form.q(h), alphabet=alphabet, kind="tape") for h in ("L", "R")),
    )
    preload = Preload(
        states=tuple((q, ((f"state:{q}", 1),)) for q in tm.states),
        stacks=(("L", "stack:L"), ("R", "stack:R")),
        tops=tuple((h, j, f"top:{h}>={j}") for h in ("L", "R") for j in tops[h]),
    )
    return Built(b, readout, preload, TICKS)


def _top_digit(form: _Form, h: str, js: list[int]) -> Linear:
    """``2 sum_j tau_{h,j}``: the digit on top of a half-tape (tape codes), when every ``j = 1 .. k-1`` is held."""
    return add(*(scale(form.tau(h, j), 2) for j in js))
