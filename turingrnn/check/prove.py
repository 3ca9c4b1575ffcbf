"""``prove``: a certificate that a compiled network simulates its machine for all stack contents.

Tests run a network on some inputs; a certificate covers every input. It
splits the configurations into finitely many *classes* (the state, and for each
stack: empty, or its top symbol) and shows, for each class, that one machine
step of the network (``ticks_per_step`` ticks) maps the encoding of *every*
configuration of the class to the encoding of its successor.

**Symbols.** In a class, a stack with top ``a`` holds the code
``(d(a) + r_S) / B`` (:mod:`turingrnn.compile.encoding`: ``B = 2k``, ``d`` the digit of
``a``), where the symbol ``r_S`` is the code of the stack below its top. It
ranges over the codes of all words, whose hull is ``[0, 1)`` for stack codes
and ``[0, (B-2)/(B-1)]`` for tape codes. An empty stack is the constant 0.

**One tick.** Every neuron's value is kept as an exact affine expression in
the symbols (:class:`Affine`, rational coefficients). A tick computes each
pre-activation ``z = W x + b`` as an affine expression, and checks on the whole
box of symbols that ``z <= 0``, ``z >= 1`` or ``0 <= z <= 1``: then sigma is 0,
1 or the identity on the class, and the value after the tick is affine again.
An affine function takes its extremes on a box at the box's corners, so each
check is two evaluations per symbol. The three conditions are closed, so
checking them on the closed hull is exact even where the code set is open
(``r < 1``). A neuron whose argument can fall on both sides of 0 or 1 is a
failure, named with its tick. Neurons flagged binary must come out as the
constants 0 or 1, and a neuron of phase ``p`` must be identically 0 at the
ticks ``t`` with ``t mod ticks_per_step != p`` (the idle phases).

**One step.** The class's configuration is encoded as the compiler's preload
would write it (the *canonical encoding*: the start values of the state, and
each stack's code in one neuron). After ``ticks_per_step`` ticks the result
``x'`` must be *equivalent* to the canonical encoding ``y`` of the successor:
the readout (state code, every stack code) is the same affine expression, and
every neuron's argument at the next tick is the same expression or saturates
the same way on the whole class. Then ``x'`` and ``y`` give the same values
from the next tick on. By induction over steps, every run of the network from
an encoded configuration reads out the machine's run. A class without a
transition must read out an undefined-transition code.

**Input.** A preloaded network writes the canonical encoding (the readout must
read back the state and symbolic codes ``v_S``). A streamed network reads the
word through :func:`turingrnn.compile.gadgets.stream_loader`; its invariant after ``t``
symbols, with ``s = B**-t`` and ``A`` the code of the first ``t - 1`` symbols,
is ``load:seen = 1``, ``load:scale = s``, ``load:digit:<last> = d(last) s``,
``load:acc = A``, every other neuron 0. The pair ``(s, A)`` lies in the triangle
``0 <= s <= 1/B``, ``0 <= A <= 1 - B s`` (checked at its corners). The first
symbol establishes it, every further symbol keeps it, and the end line hands
``Q = A + d(last) s``, the word's code, to the network, whose first readout must
be equivalent to the canonical encoding of the start configuration.

A certificate assumes exact arithmetic and relies on the machine semantics of
:mod:`turingrnn.machines.interpreter` (restated here per class); the reduction of
``ss95`` Turing machines is proved at the level of its 2-stack machine.

**Modules.** This module holds the proof's driver (the readout, preload and step
cases, and :func:`prove`); its parts live beside it, in the order they are used:
:mod:`.affine` (the algebra of :class:`Affine` and :class:`Domain`),
:mod:`.semantics` (configuration classes and their successors),
:mod:`.symbolic` (symbolic ticks), :mod:`.canonical` (the canonical encoding and
the equivalence of encodings), :mod:`.certificate` (:class:`Case`,
:class:`Certificate`) and :mod:`.stream_proof` (the input proof of a streamed
network). Their names are importable from here as well.

>>> from turingrnn.machines.parsing import load_machine
>>> from turingrnn.compile.compiler import compile_machine
>>> tm = load_machine("bb2")
>>> cert = prove(tm, compile_machine(tm))
>>> cert.ok, len(cert.cases)
(True, 12)
"""

from __future__ import annotations

import time

from ..compile.compiler import CONSTRUCTIONS, INPUT_MODES
from ..compile.network import Network
from ..engines.trace import READOUT_KINDS, stop_reason
from ..errors import InputError, ProofError
from ..machines.model import StackMachine, TuringMachine
from .affine import Affine, Domain, code_hull
from .canonical import _Encoding, _equivalent
from .certificate import Case, Certificate, _run_case
from .semantics import LOOKAHEAD, Configuration, Word, _Semantics, rest_symbol
from .stream_proof import LOADER, _stream_target, _StreamProof
from .symbolic import Vector, _Failure, _Symbolic, _value

__all__ = [
    "DEFAULT_MAX_CASES",
    "LOADER",
    "LOOKAHEAD",
    "Affine",
    "Case",
    "Certificate",
    "Configuration",
    "Domain",
    "ProofError",
    "Vector",
    "Word",
    "code_hull",
    "count_cases",
    "prove",
    "rest_symbol",
]

DEFAULT_MAX_CASES = 100_000
"""The default case budget of :func:`prove`."""


# ---------------------------------------------------------------- the proof


def _check_network(machine: object, net: object) -> Network:
    if not isinstance(net, Network):
        raise ProofError(f"prove needs a compiled Network, got {type(net).__name__}")
    if not isinstance(net.machine, TuringMachine | StackMachine):
        raise ProofError(
            "this network carries no machine, so it did not come from compile_machine; "
            "prove checks compiled networks against their machine"
        )
    if machine != net.machine:
        raise ProofError(f"the network was compiled from machine {net.machine.name!r}, not from the one given")
    if net.construction not in CONSTRUCTIONS:
        raise ProofError(f"unknown construction {net.construction!r} (prove knows: {', '.join(CONSTRUCTIONS)})")
    if net.input_mode not in INPUT_MODES:
        raise ProofError(f"unknown input mode {net.input_mode!r} (prove knows: {', '.join(INPUT_MODES)})")
    tm_kinds = {"compact": "tape", "ss95": "reduced", "realtime": "tape", "small": "tape"}
    expected = tm_kinds if isinstance(net.machine, TuringMachine) else None
    kind = net.readout.kind
    if (
        kind not in READOUT_KINDS
        or (expected and kind != expected[net.construction])
        or (not expected and kind != "stack")
    ):
        raise ProofError(f"readout kind {kind!r} does not fit a {net.machine.kind} machine under {net.construction}")
    if net.ticks_per_step < 1:
        raise ProofError(f"ticks_per_step is {net.ticks_per_step}; a compiled network has at least 1")
    try:
        for expr in [net.readout.state_code, *(s.value for s in net.readout.stacks)]:
            for label, _ in expr.terms:
                net.index(label)
    except KeyError as e:
        raise ProofError(f"the readout names a neuron the network lacks: {e}") from None
    return net


def _start_states(sem: _Semantics, machine: TuringMachine | StackMachine) -> list[str]:
    """The states an initial configuration can have."""
    reduction = sem.net.readout.reduction
    if isinstance(machine, TuringMachine) and reduction is not None:
        return [reduction.state_of[machine.start, a] for a in machine.symbols]
    return [machine.start]


def _readout_case(net: Network, sem: _Semantics, enc: _Encoding, state: str) -> Case:
    """The encoding of ``state`` with free codes ``v_S`` reads back as ``state`` and ``v_S``; halting is read right."""
    free = {s: Affine.symbol(f"v_{s}") for s in sem.stacks}
    halting = state in sem.halting
    claim = f"reads back state {state} and every code v_S; " + (
        f"halting ({sem.verdict(state)})" if halting else "the run goes on"
    )

    def body() -> _Failure | None:
        x = enc.vector(state, free)
        code = _value(net.readout.state_code, x, net)
        table = dict(net.readout.state_table)
        if not code.is_const or code.const.denominator != 1 or table.get(int(code.const)) != state:
            return _Failure(None, 0, f"the state code is {code}, which the state table does not map to {state!r}")
        if int(code.const) in net.readout.undefined_codes:
            return _Failure(None, 0, f"state code {code} is also an undefined-transition code")
        for s, v in free.items():
            got = _value(sem.stacks[s].value, x, net)
            if got != v:
                return _Failure(net.labels[enc.stacks[s]], 0, f"stack {s} reads {got}, not {v}")
        reason = stop_reason(net, state, 1)
        if reason != ("halting state" if halting else None):
            return _Failure(None, 0, f"the run's stop reason in state {state!r} is {reason!r}")
        _Symbolic(net).check_idle(x, 0)
        return None

    return _run_case("readout", f"state {state}", claim, body)


def _step_case(sym: _Symbolic, sem: _Semantics, enc: _Encoding, c: Configuration) -> Case:
    net = sym.net
    nxt = sem.successor(c)
    claim = "halts: undefined-transition code" if nxt is None else f"-> {nxt}"

    def body() -> _Failure | None:
        domain = sem.domain(c)
        x = sym.run(enc.of(c), domain, net.ticks_per_step)
        if nxt is None:
            code = _value(net.readout.state_code, x, net)
            if code.is_const and code.const in net.readout.undefined_codes:
                return None
            return _Failure(None, net.ticks_per_step, f"the state code is {code}, not an undefined-transition code")
        if nxt.state not in enc.states:
            return _Failure(None, net.ticks_per_step, f"the successor state {nxt.state!r} has no encoding")
        return _equivalent(sym, x, enc.of(nxt), domain)

    return _run_case("step", str(c), claim, body)


def count_cases(machine: TuringMachine | StackMachine, net: Network) -> int:
    """The number of cases :func:`prove` checks for ``net``."""
    sem = _Semantics(net, machine)
    states = [q for _, q in net.readout.state_table]
    working = [q for q in states if q not in sem.halting]
    per_state = 1
    for r in sem.stacks.values():
        per_state *= len(r.alphabet) + (r.kind == "stack")
    n = len(states) + len(working) * per_state
    if sem.lookahead:
        n = len(states) + sum(len(sem.classes(q)) for q in working)
    if net.input_mode != "streamed":
        return n + 1  # the preload
    k = len(sem.stacks[_stream_target(machine)].alphabet)
    return n + k * k + 3 * k + 1  # first symbols, further symbols, end lines, first readouts


def prove(machine: TuringMachine | StackMachine, net: Network, *, max_cases: int = DEFAULT_MAX_CASES) -> Certificate:
    """Prove that ``net`` simulates ``machine`` step for step, for all stack contents.

    Args:
        machine: The machine ``net`` was compiled from.
        net: A network from :func:`~turingrnn.compile.compiler.compile_machine` (any construction and input mode).
        max_cases: The most cases to check; a proof that needs more is not attempted, and is not ok.

    Returns:
        The :class:`Certificate`: ``ok`` when every case was shown.

    Raises:
        ProofError: The network did not come from the compiler, or its labels or metadata cannot be interpreted.
        InputError: ``max_cases`` is not a whole number >= 1.
    """
    if not isinstance(max_cases, int) or isinstance(max_cases, bool) or max_cases < 1:
        raise InputError(f"max_cases must be a whole number >= 1, got {max_cases!r}")
    net = _check_network(machine, net)
    began = time.perf_counter()
    sem = _Semantics(net, machine)
    fields = {
        "machine": machine.name,
        "construction": net.construction,
        "input_mode": net.input_mode,
        "neurons": net.size,
        "ticks_per_step": net.ticks_per_step,
        "max_cases": max_cases,
    }
    needed = count_cases(machine, net)
    if needed > max_cases:
        return Certificate(cases=(), needed=needed, **fields)  # type: ignore[arg-type]
    enc = _Encoding(net, sem)
    sym = _Symbolic(net)
    cases: list[Case] = []
    if net.input_mode == "streamed":
        cases += _StreamProof(sym, sem, enc, machine).cases()
    else:
        starts = _start_states(sem, machine)
        missing = [q for q in starts if q not in enc.states]
        cases.append(
            Case(
                kind="preload",
                configuration="start",
                claim=f"every start state ({', '.join(starts)}) has a preload",
                ok=not missing,
                detail=f"no preload for {', '.join(missing)}" if missing else "",
            )
        )
    for _, state in net.readout.state_table:
        if state not in enc.states:
            cases.append(
                Case(
                    kind="readout",
                    configuration=f"state {state}",
                    claim="has an encoding",
                    ok=False,
                    detail="the state table names a state the preload map lacks",
                )
            )
            continue
        cases.append(_readout_case(net, sem, enc, state))
        if state not in sem.halting:
            cases += [_step_case(sym, sem, enc, c) for c in sem.classes(state)]
    return Certificate(
        cases=tuple(cases),
        needed=needed,
        linear=sym.linear,
        saturated=sym.saturated,
        seconds=time.perf_counter() - began,
        **fields,  # type: ignore[arg-type]
    )
