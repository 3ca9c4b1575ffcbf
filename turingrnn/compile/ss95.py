"""The Siegelmann–Sontag construction, layered: four ticks per machine step.

H. T. Siegelmann and E. D. Sontag, "On the computational power of neural nets",
J. Comput. Syst. Sci. 50 (1995) 132-150 (S&S below) simulate a p-stack machine
with saturated-linear neurons. This module builds their network in its layered
form, exactly as a composition of four saturated-linear layers per machine step;
the paper goes on to fold the layers into one tick per step (real time), with a
larger base and noisy readouts, which this module does not do.

**Stack codes (S&S's Cantor code, generalized).** S&S hold a binary stack
``w1 w2 ... wn`` (``w1`` on top) in one neuron as ``q = sum (2 w_i + 1) / 4**i``
(empty: 0), read ``top = sigma(4q - 2)`` and ``nonempty = sigma(4q)``, and update
it by ``q/4 + 1/4`` (push 0), ``q/4 + 3/4`` (push 1) and ``4q - 2 top - 1``
(pop). Here a stack ``S`` with ``k`` symbols uses base ``B = 2k`` and odd digits
(:mod:`turingrnn.compile.encoding`): ``top:S>=j = sigma(B q - 2j)`` for ``j = 0 .. k-1``
(``j = 0`` is S&S's nonempty, ``j = 1`` their top when ``k = 2``); push ``a`` is
``(q + 2a + 1)/B`` and pop is ``B q - 2 top - 1`` with ``top = sum_{j>=1} top:S>=j``.

**The layers.** Ticks are numbered from the readout tick (phase 0); each phase
reads only the one before it, every bias is ``<= 0``, so the three idle phases
stay exactly 0.

1. *Readouts* (phase 1), S&S's top and nonempty units: ``top:S>=j`` as above,
   ``copy:S = sigma(q_S)``, and ``state:q@1 = sigma(state:q)`` for each state that
   has transitions.
2. *Configuration detectors* (phase 2): one AND neuron
   ``config:q/S=v,... = sigma(state:q@1 + sum_S I_S(v_S) - p)`` for each state
   ``q`` and each per-stack class ``v_S`` (``empty`` or a top symbol ``a``) on
   which the machine has a transition, with ``I_S(empty) = 1 - top:S>=0`` and
   ``I_S(a) = top:S>=a - top:S>=a+1``. As in S&S these are all the classes, not
   the transitions: a read ``any`` is expanded, so there are at most
   ``s (k+1)^p`` detectors (``s 3^p`` for binary stacks, S&S's count). The stack
   copies go on: ``copy:S@2 = sigma(copy:S)``, and for a popped stack with
   ``k >= 2`` its top index, scaled into ``[0, 1]``:
   ``top:S@2 = sigma(sum_{j>=1} top:S>=j / (k - 1))``.
3. *Next state and sub-stacks* (phase 3): ``state:q@3 = sigma(sum of the
   detectors whose transition goes to q)``, and for each stack and each
   operation the machine uses on it, S&S's gated sub-stack
   ``gate:S/op = sigma(candidate + selected - 1)``, ``selected`` the sum of the
   detectors that choose ``op`` on ``S``, candidates ``copy:S@2`` (noop),
   ``(copy:S@2 + 2a + 1)/B`` (``push a``) and ``B copy:S@2 - 2 (k-1) top:S@2 - 1``
   (pop). Every candidate lies in ``[0, 1)`` when selected and below 1 always,
   so the gate constant 1 of S&S suffices.
4. *New configuration* (phase 0, read out): ``stack:S = sigma(sum_op gate:S/op)``
   and ``state:q = sigma(state:q@3)``.

With ``s0`` states reachable from the start states, ``w`` of them with
transitions, ``t`` targets of transitions, ``C`` detectors, ``o_S`` the
operations used on stack ``S`` and ``p'`` the popped stacks with ``k >= 2``, the
network has ``s0 + w + C + t + p' + sum_S (k_S + 3 + o_S)`` neurons (the 3 are
``stack:S``, ``copy:S`` and ``copy:S@2``) at 4 ticks per step.

**Where this differs from S&S.** ``k`` symbols per stack instead of 2 and any
number of stacks, each with its own alphabet; ``any`` and ``empty`` reads;
detectors only for classes that have a transition, and state neurons only for
reachable states; a missing transition leaves every state neuron 0 (code 0, the
readout's "undefined"), where S&S's transition functions are total; named
neurons; the pop reads the top index from a copy carried into layer 2, so that
every layer reads only the one before; and two input modes: *preloaded* (the input's
code is written into ``stack:S`` at tick 0) and *streamed* (the word arrives one
symbol per tick and :func:`turingrnn.compile.gadgets.stream_loader` hands its code to
the input stack at the first readout tick; S&S also stream the input, through a
data line and a validation line).

**Turing machines** (:func:`build_tm`) go through
:func:`turingrnn.machines.reduction.tm_to_stack_machine`, one stack step per Turing
machine step; the readout is of kind ``"reduced"``. Streamed, the reduced
machine must start in ``q0|w1`` with ``w1`` popped off ``R``, which depends on
the word. A *boot* does that during the stream latency: ``boot``
(phase 1, from the end line), ``boot:R>=j = sigma(B h - 2j)`` and
``boot:R=empty = sigma(boot - B h)`` (phase 2, ``h`` the loader's code) feed
``state:q0|a@3``, ``gate:R/pop`` and ``copy:R@2`` like detectors of one
extra step, so the first readout, :data:`TM_STREAM_LATENCY` = 4 ticks after the
end line, is the Turing machine's initial configuration; the compiler creates
the hook with ``latency=TM_STREAM_LATENCY`` for this construction. The boot adds
``k + 2`` neurons, plus ``state:q0|a@3`` for start pairs that are no target (and
``gate:R/pop`` if no transition pops ``R``).

>>> from turingrnn.machines.parsing import load_machine
>>> built = build_stack(load_machine("anbn"))
>>> len(built.builder.build(ticks_per_step=built.ticks_per_step).labels), built.ticks_per_step
(29, 4)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from fractions import Fraction

from ..errors import CompileError
from ..machines.model import EMPTY, StackMachine, StackRule, TuringMachine
from ..machines.reduction import RIGHT, pair_state, tm_to_stack_machine
from .gadgets import StreamHook, add, conjunction, const, gated, scale, start_lines, threshold, total, with_hand
from .network import Built, Linear, NetworkBuilder, Preload, Readout, StackReadout

TICKS = 4
"""Network ticks per machine step."""
TM_STREAM_LATENCY = 4
"""Streamed Turing machines: ticks from the end line to the first readout (the boot takes one step)."""
OPS = ("noop", "push", "pop")


def op_name(rule: StackRule, i: int) -> str:
    """``noop``, ``push a`` or ``pop``: the operation of ``rule`` on stack number ``i``, as in labels."""
    return str(rule.ops[i])


def configurations(sm: StackMachine) -> list[tuple[str, tuple[str, ...], StackRule]]:
    """Every (state, per-stack class) with a transition, in machine order; a class is ``empty`` or a top symbol."""
    classes = [(*alphabet, EMPTY) for _, alphabet in sm.stacks]
    out = []
    for q in sm.states:
        if q in sm.halting_states:
            continue
        for tops in itertools.product(*classes):
            rule = sm.rule(q, tops)
            if rule is not None:
                out.append((q, tops, rule))
    return out


def _layers(
    sm: StackMachine,
    hook: StreamHook | None,
    *,
    starts: Sequence[str],
    extra: Mapping[str, Linear] | None = None,
    boot_ops: Mapping[str, Sequence[str]] | None = None,
) -> tuple[NetworkBuilder, dict[str, int], dict[str, Linear]]:
    """The four layers for the states reachable from ``starts``.

    A boot adds inputs to named neurons (``extra``), so it makes every start
    state a target, and may need gates (``boot_ops``) that no transition uses.
    Returns the builder, the codes of the states with a phase-0 neuron, and the
    stack value expressions.
    """
    extra = extra or {}
    names = sm.stack_names
    alphabets = dict(sm.stacks)
    index = {s: {a: i for i, a in enumerate(alphabets[s])} for s in names}
    reachable, todo = set(starts), list(starts)
    while todo:
        q = todo.pop()
        for r in sm.rules:
            if r.state == q and r.next not in reachable:
                reachable.add(r.next)
                todo.append(r.next)
    configs = [c for c in configurations(sm) if c[0] in reachable]
    targets = {r.next for _, _, r in configs} | (set(starts) if boot_ops is not None else set())
    occupied = [q for q in sm.states if q in reachable]
    working = [q for q in occupied if any(c[0] == q for c in configs)]
    codes = {q: sm.states.index(q) + 1 for q in occupied}
    ops: dict[str, list[str]] = {}
    for i, s in enumerate(names):
        used = {op_name(r, i) for _, _, r in configs} | set((boot_ops or {}).get(s, ()))
        ops[s] = sorted(used, key=lambda o: (OPS.index(o.split()[0]), o))
    popped = [s for s in names if "pop" in ops[s] and len(alphabets[s]) >= 2]
    value = {s: with_hand(Linear.of({f"stack:{s}": 1}), hook, s) for s in names}

    def det_label(q: str, tops: tuple[str, ...]) -> str:
        cls = ",".join(f"{s}={v}" for s, v in zip(names, tops, strict=True))
        return f"config:{q}/{cls}" if cls else f"config:{q}"

    def inputs(label: str, expr: Linear) -> Linear:
        return add(expr, extra[label]) if label in extra else expr

    b = NetworkBuilder()
    # ---- layer 4 (phase 0, read out): the new configuration
    lines = start_lines(hook, {f"state:{sm.start}": 1})
    for q in occupied:
        label = f"state:{q}"
        feed = Linear.of({f"state:{q}@3": 1}) if q in targets else Linear()
        b.neuron(label, role="state", inputs=inputs(label, feed), lines=lines.get(label), binary=True, phase=0)
    for s in names:
        b.neuron(f"stack:{s}", role="stack", inputs=total([f"gate:{s}/{o}" for o in ops[s]]), phase=0)

    # ---- layer 1 (phase 1): readouts
    for q in working:
        b.neuron(f"state:{q}@1", role="state", inputs={f"state:{q}": 1}, binary=True, phase=1)
    for s in names:
        base = 2 * len(alphabets[s])
        for j in range(len(alphabets[s])):
            threshold(b, f"top:{s}>={j}", value[s], base=base, offset=2 * j, phase=1)
        b.neuron(f"copy:{s}", role="copy", inputs=value[s], phase=1)

    # ---- layer 2 (phase 2): configuration detectors, and the stacks carried on
    def class_indicator(s: str, v: str) -> Linear:
        if v == EMPTY:
            return Linear.of({f"top:{s}>=0": -1}, 1)
        a = index[s][v]
        upper = {f"top:{s}>={a + 1}": -1} if a + 1 < len(alphabets[s]) else {}
        return Linear.of({f"top:{s}>={a}": 1, **upper})

    for q, tops, _ in configs:
        conditions = [Linear.of({f"state:{q}@1": 1})] + [
            class_indicator(s, v) for s, v in zip(names, tops, strict=True)
        ]
        conjunction(b, det_label(q, tops), conditions, role="detector", phase=2)
    for s in names:
        label = f"copy:{s}@2"
        b.neuron(label, role="copy", inputs=inputs(label, Linear.of({f"copy:{s}": 1})), phase=2)
    for s in popped:
        k = len(alphabets[s])
        tops_above = total([f"top:{s}>={j}" for j in range(1, k)], Fraction(1, k - 1))
        b.neuron(f"top:{s}@2", role="copy", inputs=tops_above, phase=2)

    # ---- layer 3 (phase 3): next state and gated sub-stacks
    for q in occupied:
        if q in targets:
            label = f"state:{q}@3"
            chosen = total([det_label(c, t) for c, t, r in configs if r.next == q])
            b.neuron(label, role="state", inputs=inputs(label, chosen), binary=True, phase=3)
    for i, s in enumerate(names):
        k, base = len(alphabets[s]), 2 * len(alphabets[s])
        copy = Linear.of({f"copy:{s}@2": 1})
        for o in ops[s]:
            selected = total([det_label(q, t) for q, t, r in configs if op_name(r, i) == o])
            if o == "noop":
                candidate = copy
            elif o == "pop":
                top = Linear.of({f"top:{s}@2": -2 * (k - 1)}) if s in popped else Linear()
                candidate = add(scale(copy, base), top, const(-1))
            else:
                candidate = scale(add(copy, const(2 * index[s][o[5:]] + 1)), Fraction(1, base))
            label = f"gate:{s}/{o}"
            gated(b, label, inputs(label, candidate), selected, role="gate", phase=3)
    return b, codes, value


def _readout(kind: str, sm: StackMachine, codes: Mapping[str, int], value: Mapping[str, Linear]) -> Readout:
    return Readout(
        kind=kind,
        state_code=Linear.of({f"state:{q}": c for q, c in codes.items()}),
        state_table=tuple((c, q) for q, c in codes.items()),
        undefined_codes=(0,),
        stacks=tuple(StackReadout(name=s, value=value[s], alphabet=a, kind="stack") for s, a in sm.stacks),
    )


def _preload(sm: StackMachine, codes: Mapping[str, int]) -> Preload:
    return Preload(
        states=tuple((q, ((f"state:{q}", 1),)) for q in codes),
        stacks=tuple((s, f"stack:{s}") for s in sm.stack_names),
    )


def build_stack(sm: StackMachine, hook: StreamHook | None = None) -> Built:
    """Build the layered S&S network of stack machine ``sm``: builder, readout, preload and ticks per step."""
    if not isinstance(sm, StackMachine):
        raise CompileError(f"the ss95 stack construction needs a StackMachine, got {type(sm).__name__}")
    if hook is not None and hook.latency != 1:
        raise CompileError(f"the ss95 stack construction reads a streamed word with latency 1, not {hook.latency}")
    b, codes, value = _layers(sm, hook, starts=[sm.start])
    return Built(b, _readout("stack", sm, codes, value), _preload(sm, codes), TICKS)


def build_tm(tm: TuringMachine, hook: StreamHook | None = None) -> Built:
    """Build the layered S&S network of ``tm`` through the 2-stack reduction; the readout has kind ``"reduced"``.

    Streamed, the hook must put the word on ``R`` with ``latency=TM_STREAM_LATENCY``
    (see the module docs: a boot step reads the first symbol into the state).
    """
    if not isinstance(tm, TuringMachine):
        raise CompileError(f"the ss95 Turing machine construction needs a TuringMachine, got {type(tm).__name__}")
    sm = tm_to_stack_machine(tm).machine
    starts = [pair_state(tm.start, a) for a in tm.symbols]
    if hook is None:
        b, codes, value = _layers(sm, None, starts=starts)
        return Built(b, _readout("reduced", sm, codes, value), _preload(sm, codes), TICKS)
    if hook.stack != RIGHT or hook.latency != TM_STREAM_LATENCY:
        raise CompileError(
            f"the ss95 Turing machine construction streams the word onto stack {RIGHT!r} with latency "
            f"{TM_STREAM_LATENCY} (a boot step reads the first symbol); "
            f"got stack {hook.stack!r}, latency {hook.latency}"
        )
    k, base = len(tm.symbols), 2 * len(tm.symbols)
    hand = Linear.of({hook.hand: 1})
    above = [f"boot:R>={j}" for j in range(k)]
    empty = "boot:R=empty"
    extra: dict[str, Linear] = {f"state:{pair_state(tm.start, a)}@3": Linear() for a in tm.symbols}
    for j, a in enumerate(tm.symbols):
        upper = {above[j + 1]: -1} if j + 1 < k else {}
        extra[f"state:{pair_state(tm.start, a)}@3"] = Linear.of({above[j]: 1, **upper})
    blank = f"state:{pair_state(tm.start, tm.blank)}@3"
    extra[blank] = add(extra[blank], Linear.of({empty: 1}))
    extra[f"copy:{RIGHT}@2"] = hand
    extra[f"gate:{RIGHT}/pop"] = add(total(above[1:], -2), Linear.of({above[0]: 1}))
    b, codes, value = _layers(sm, None, starts=starts, extra=extra, boot_ops={RIGHT: ["pop"]})
    b.neuron("boot", role="boot", lines={hook.end: 1}, binary=True, phase=1)
    for j in range(k):
        threshold(b, above[j], hand, base=base, offset=2 * j, phase=2, role="boot")
    b.neuron(empty, role="boot", inputs=add(Linear.of({"boot": 1}), scale(hand, -base)), binary=True, phase=2)
    return Built(b, _readout("reduced", sm, codes, value), _preload(sm, codes), TICKS)
