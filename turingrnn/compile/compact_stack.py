"""The compact stack machine construction: one code per stack, two ticks per step.

Stack ``S`` with ``k_S`` symbols is held by the code ``x_S = sum_i (2 a_i + 1) / B_S**i``
(``B_S = 2 k_S``, empty = 0; see :mod:`turingrnn.compile.encoding`). The threshold
``sigma(B_S x_S - 2j)`` is 1 exactly when the top index is ``>= j`` (``j = 0``:
the stack is not empty). States get the codes ``c(q) = 1 .. n`` in machine order,
held in binary by ``nb = bit_length(n)`` neurons ``code:b``; code 0 means "no
transition applied", so it is the readout's undefined code, and an idle phase is
quiet.

The network is bipartite: **phase 1** reads the configuration, **phase 0** writes
the next one and is read out. Every bias is ``<= 0`` and each phase reads only
the other, so the idle phase stays exactly 0.

**Primary stacks.** Each working state ``q`` (not halting, with transitions)
branches mostly on one stack ``P(q)``: the stack that makes the most of its
transitions *simple*, that is, reading ``any`` on every other stack. A
transition that also reads another stack is *complex*.

**Phase 1**, with ``match_q`` (0 in state ``q``, ``<= -1`` otherwise) defined below:

* ``top:S>=j@q = sigma(B_S x_S - 2j + B_S match_q)``, ``S = P(q)``, for the
  thresholds ``j`` that q's reads need: a read of symbol ``a`` needs ``a`` and
  ``a + 1``, a read of ``empty`` needs 0. It is the threshold when the state is
  ``q`` and 0 otherwise, because ``B_S x_S - 2j < B_S``;
* ``state:q = sigma(match_q + 1)`` when ``q`` reads ``empty`` or ``any`` on ``P(q)``;
* ``top:S>=j = sigma(B_S x_S - 2j)``, the thresholds complex transitions read on
  their other stacks;
* ``copy:S = sigma(x_S)``.

The indicator of "state ``q``, top of ``P(q)`` is ``v``" is linear in phase 1:
``top:S>=a@q - top:S>=a+1@q`` for a symbol ``a`` (the second term only when
``a + 1 < k``), ``state:q - top:S>=0@q`` for ``empty``, ``state:q`` for ``any``.
So a simple transition ``r`` has a linear 0/1 indicator ``I_r``, and the
indicators of different transitions are never 1 together (the machine is
deterministic). A complex transition is the AND of its primary indicator and the
secondary factors ``top:T>=a - top:T>=a+1`` (top of ``T`` is ``a``) or
``1 - top:T>=0`` (``T`` is empty).

**Phase 0**, sums over simple transitions unless said otherwise:

* ``code:b = sigma(sum of I_r over r whose next code has bit b)``;
* ``gate:S/noop = sigma(copy:S + G - 1)``, ``G = sum of I_r`` over the transitions
  that leave ``S`` alone and do not read it empty (an empty stack stays 0 anyway);
* ``gate:S/push = sigma((copy:S + D)/B_S + G - 1)``, ``D = sum of (2c_r + 1) I_r``
  the digit pushed;
* ``gate:S/pop = sigma(B_S copy:S - D + B_S (G - 1))``, ``D = sum of (2a_r + 1) I_r``
  the digit popped: ``B_S x - (2a + 1)`` is the code below the top.

Complex transitions are grouped by their secondary reads ``C`` (and their next
state, or their operation on ``S``); within a group the primary indicators add
up to a 0/1 sum ``P``, and with ``m = 1 + |C|`` factors:

* ``rule:q'@C = sigma(P + sum of factors of C - (m - 1))`` (the AND), for the
  group going to ``q'``;
* ``gate:S/op@C = sigma(candidate + M (P + sum of factors of C - m))``, the
  candidate as above (``M = B_S`` for pop, 1 otherwise): the AND folded into the gate.

The next value of ``x_S`` is the sum of its ``gate:S/*`` neurons; every
candidate lies in ``[0, 1)``, and one applies at a time. The state code read out
is ``sum 2^b code:b + sum c(q') rule:q'@C``, and the state match read by phase 1 is

    match_q = sum(code:b, bit b of c(q) is 1) - sum(code:b, the other bits) - |c(q)|
              + |c(q)| * sum(rule:q@C over the groups going to q)

(``|c|`` counts the 1 bits): when a rule neuron carries the state the code bits
are all 0, so ``match_q`` is 0 for its target and ``-|c(q)|`` for the others.

**Size.** With ``J_q`` the detectors of state ``q``, ``e_q = 1`` when it needs
``state:q``, ``J_S`` the shared thresholds, ``o_S <= 3`` the simple ``gate:S/*``
neurons, and ``R`` and ``G`` the complex rule and gate groups,

    N = nb + sum_q (|J_q| + e_q) + sum_S (|J_S| + [S has gates] + o_S) + R + G

at 2 ticks per step. A stack that no operation ever writes gets one ``stack:S``
neuron that holds its preloaded code for tick 0. When every transition reads at
most one stack (``R = G = J_S = 0``) this is at most
``nb + sum_q (k_P(q) + 1) + 4p``.

>>> from turingrnn.machines.parsing import load_machine
>>> built = build(load_machine("anbn"))
>>> len(built.builder.build(ticks_per_step=built.ticks_per_step).labels), built.ticks_per_step
(17, 2)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from ..errors import CompileError
from ..machines.model import ANY, EMPTY, StackMachine, StackRule
from .gadgets import StreamHook, add, conjunction, const, gated, scale, start_lines, threshold, total, with_hand
from .network import Built, Linear, NetworkBuilder, Preload, Readout, StackReadout

READ, WRITE = 1, 0
"""Phases: 1 reads the configuration, 0 writes the next one (and is read out)."""

Conditions = tuple[tuple[str, str], ...]
"""Secondary reads of a complex transition: ``(stack, read)`` in stack order."""


def primary_stacks(sm: StackMachine) -> dict[str, str | None]:
    """The stack each working state branches on (``None`` when it reads no stack).

    The choice maximises the transitions that read no other stack, then the
    transitions that read this one; ties go to the first stack.
    """
    out: dict[str, str | None] = {}
    for q in sm.states:
        rules = [r for r in sm.rules if r.state == q]
        if not rules:
            continue
        best: tuple[int, int, int] | None = None
        out[q] = None
        for i, s in enumerate(sm.stack_names):
            simple = sum(all(v == ANY for t, v in zip(sm.stack_names, r.read, strict=True) if t != s) for r in rules)
            reading = sum(r.read[i] != ANY for r in rules)
            if reading and (best is None or (simple, reading, -i) > best):
                best, out[q] = (simple, reading, -i), s
    return out


def secondary(sm: StackMachine, rule: StackRule, primary: str | None) -> Conditions:
    """The reads of ``rule`` on stacks other than its state's primary stack (``any`` left out)."""
    return tuple((s, v) for s, v in zip(sm.stack_names, rule.read, strict=True) if s != primary and v != ANY)


def conditions_label(conditions: Conditions) -> str:
    """``T=a,U=empty``: the secondary reads, as they appear in labels."""
    return ",".join(f"{s}={v}" for s, v in conditions)


def _digit_sum(pairs: Sequence[tuple[int, Linear]]) -> Linear:
    """``sum d * indicator``; a constant when every indicator has the same digit and they sum to a 0/1 gate."""
    digits = {d for d, _ in pairs}
    if len(digits) == 1:
        return const(digits.pop())
    return add(*(scale(ind, d) for d, ind in pairs))


class _Stack:
    """Per-stack data: alphabet, base, value expression and the thresholds in use."""

    def __init__(self, sm: StackMachine, name: str, hook: StreamHook | None) -> None:
        self.name = name
        self.alphabet = sm.alphabet(name)
        self.k = len(self.alphabet)
        self.base = 2 * self.k
        self.index = {a: i for i, a in enumerate(self.alphabet)}
        self.gates: list[str] = []
        self.hook = hook

    def value(self) -> Linear:
        """``x_S``: the sum of the stack's phase-0 neurons (and the streamed word)."""
        return with_hand(total(self.gates), self.hook, self.name)

    def copy(self) -> Linear:
        return Linear.of({f"copy:{self.name}": 1})

    def bounds(self, read: str) -> list[int]:
        """The thresholds ``j`` a read needs."""
        if read == EMPTY:
            return [0]
        if read == ANY:
            return []
        a = self.index[read]
        return [a, a + 1] if a + 1 < self.k else [a]


def _indicator(stack: _Stack, read: str, above: dict[int, str], base: Linear) -> Linear:
    """Top of ``stack`` is ``read``, from threshold neurons ``above[j]`` and the 0/1 ``base`` (state or 1)."""
    if read == ANY:
        return base
    if read == EMPTY:
        return add(base, Linear.of({above[0]: -1}))
    a = stack.index[read]
    upper = {above[a + 1]: -1} if a + 1 < stack.k else {}
    return Linear.of({above[a]: 1, **upper})


def build(sm: StackMachine, hook: StreamHook | None = None) -> Built:
    """Build the compact network of ``sm``: its neurons, readout, preload and ticks per step."""
    if not isinstance(sm, StackMachine):
        raise CompileError(f"the compact stack construction needs a StackMachine, got {type(sm).__name__}")
    if hook is not None and hook.latency != 1:
        raise CompileError(f"the compact stack construction reads a streamed word with latency 1, not {hook.latency}")
    stacks = {s: _Stack(sm, s, hook) for s in sm.stack_names}
    codes = {q: i + 1 for i, q in enumerate(sm.states)}
    nbits = len(sm.states).bit_length()
    bits = [f"code:{i}" for i in range(nbits)]
    primary = primary_stacks(sm)
    simple = [r for r in sm.rules if not secondary(sm, r, primary[r.state])]
    complex_ = [r for r in sm.rules if secondary(sm, r, primary[r.state])]

    # ---- plan the groups of complex transitions, so phase 1 knows the rule neurons that carry a state
    rule_groups: dict[tuple[str, Conditions], list[StackRule]] = {}
    for r in complex_:
        rule_groups.setdefault((r.next, secondary(sm, r, primary[r.state])), []).append(r)
    rule_label = {key: f"rule:{key[0]}@{conditions_label(key[1])}" for key in rule_groups}

    # ---- which gates each stack has, so its value expression is known before phase 1 reads it
    def writes(rules: Iterable[StackRule], s: str) -> dict[str, list[StackRule]]:
        i = sm.stack_names.index(s)
        by_op: dict[str, list[StackRule]] = {}
        for r in rules:
            if r.ops[i].kind == "noop" and r.read[i] == EMPTY:
                continue  # an empty stack left alone stays 0: no candidate needed
            by_op.setdefault(r.ops[i].kind, []).append(r)
        return by_op

    simple_writes = {s: writes(simple, s) for s in stacks}
    complex_writes: dict[str, dict[tuple[Conditions, str], list[StackRule]]] = {}
    for s in stacks:
        groups: dict[tuple[Conditions, str], list[StackRule]] = {}
        for r in complex_:
            for op, members in writes([r], s).items():
                groups.setdefault((secondary(sm, r, primary[r.state]), op), []).extend(members)
        complex_writes[s] = groups
    for s, st in stacks.items():
        st.gates = [f"gate:{s}/{op}" for op in ("noop", "push", "pop") if op in simple_writes[s]]
        st.gates += [f"gate:{s}/{op}@{conditions_label(c)}" for c, op in complex_writes[s]]
        if not st.gates:
            st.gates = [f"stack:{s}"]  # holds a preloaded code for tick 0; never written

    b = NetworkBuilder()

    # ---- phase 1: read the configuration
    def match(q: str) -> Linear:
        c = codes[q]
        on = [bits[i] for i in range(nbits) if c >> i & 1]
        off = [bits[i] for i in range(nbits) if not c >> i & 1]
        carriers = [rule_label[key] for key in rule_groups if key[0] == q]
        return add(total(on), total(off, -1), const(-len(on)), total(carriers, len(on)))

    primary_ind: dict[tuple[str, str], Linear] = {}  # (state, read on its primary stack) -> indicator
    for q, home in primary.items():
        reads = {r.read[sm.stack_names.index(home)] if home else ANY for r in sm.rules if r.state == q}
        state = Linear()
        if reads & {ANY, EMPTY}:
            label = b.neuron(f"state:{q}", role="state", inputs=add(match(q), const(1)), binary=True, phase=READ)
            state = Linear.of({label: 1})
        if home is None:
            primary_ind[q, ANY] = state
            continue
        st = stacks[home]
        detectors = {
            j: threshold(
                b,
                f"top:{home}>={j}@{q}",
                add(scale(st.value(), st.base), scale(match(q), st.base)),
                base=1,
                offset=2 * j,
                phase=READ,
                role="detector",
            )
            for j in sorted({j for v in reads for j in st.bounds(v)})
        }
        for v in reads:
            primary_ind[q, v] = _indicator(st, v, detectors, state)

    shared: dict[tuple[str, int], str] = {}
    for s, st in stacks.items():
        needed = sorted(
            {j for r in complex_ for t, v in secondary(sm, r, primary[r.state]) if t == s for j in st.bounds(v)}
        )
        for j in needed:
            shared[s, j] = threshold(b, f"top:{s}>={j}", st.value(), base=st.base, offset=2 * j, phase=READ)
    for s, st in stacks.items():
        if st.gates != [f"stack:{s}"]:
            b.neuron(f"copy:{s}", role="copy", inputs=st.value(), phase=READ)

    def ind(r: StackRule) -> Linear:
        s = primary[r.state]
        return primary_ind[r.state, r.read[sm.stack_names.index(s)] if s else ANY]

    def factors(key: Conditions, members: Sequence[StackRule]) -> list[Linear]:
        """The primary indicators summed, then one factor per secondary read."""
        out = [add(*(ind(r) for r in members))]
        for t, v in key:
            above = {j: lab for (u, j), lab in shared.items() if u == t}
            out.append(_indicator(stacks[t], v, above, const(1)))
        return out

    # ---- phase 0: write the next configuration
    def candidate(st: _Stack, op: str, members: Sequence[StackRule]) -> tuple[Linear, int]:
        """The candidate of ``op`` on ``st`` for a group of transitions, and the gate constant it needs."""
        i = sm.stack_names.index(st.name)
        if op == "noop":
            return st.copy(), 1
        if op == "push":
            pushed = _digit_sum([(2 * st.index[r.ops[i].symbol] + 1, ind(r)) for r in members])  # type: ignore[index]
            return scale(add(st.copy(), pushed), Fraction(1, st.base)), 1
        popped = _digit_sum([(2 * st.index[r.read[i]] + 1, ind(r)) for r in members])
        return add(scale(st.copy(), st.base), scale(popped, -1)), st.base

    for s, st in stacks.items():
        for op in ("noop", "push", "pop"):
            members = simple_writes[s].get(op, [])
            if members:
                cand, big = candidate(st, op, members)
                gate = add(*(ind(r) for r in members))
                gated(b, f"gate:{s}/{op}", cand, gate, big=big, role="gate", phase=WRITE)
        for (conds, op), members in complex_writes[s].items():
            cand, big = candidate(st, op, members)
            fs = factors(conds, members)
            gated(
                b,
                f"gate:{s}/{op}@{conditions_label(conds)}",
                cand,
                add(*fs, const(-(len(fs) - 1))),
                big=big,
                role="gate",
                phase=WRITE,
            )
        if st.gates == [f"stack:{s}"]:
            b.neuron(f"stack:{s}", role="stack", phase=WRITE)
    for key, members in rule_groups.items():
        conjunction(b, rule_label[key], factors(key[1], members), role="rule", phase=WRITE)
    next_bits = [Linear() for _ in range(nbits)]
    for r in simple:
        for i in range(nbits):
            if codes[r.next] >> i & 1:
                next_bits[i] = add(next_bits[i], ind(r))
    lines = start_lines(hook, {bits[i]: codes[sm.start] >> i & 1 for i in range(nbits)})
    for i in range(nbits):
        b.neuron(bits[i], role="state-code", inputs=next_bits[i], lines=lines.get(bits[i]), binary=True, phase=WRITE)

    readout = Readout(
        kind="stack",
        state_code=add(
            Linear.of({bits[i]: 2**i for i in range(nbits)}),
            *(scale(Linear.of({rule_label[k]: 1}), codes[k[0]]) for k in rule_groups),
        ),
        state_table=tuple((c, q) for q, c in codes.items()),
        undefined_codes=(0,),
        stacks=tuple(
            StackReadout(name=s, value=st.value(), alphabet=st.alphabet, kind="stack") for s, st in stacks.items()
        ),
    )
    preload = Preload(
        states=tuple((q, tuple((bits[i], c >> i & 1) for i in range(nbits))) for q, c in codes.items()),
        stacks=tuple((s, st.gates[0]) for s, st in stacks.items()),
    )
    return Built(b, readout, preload, 2)
