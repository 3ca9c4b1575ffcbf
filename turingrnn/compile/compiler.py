"""``compile_machine``: a machine in, a :class:`~turingrnn.compile.network.Network` out.

The compiler is a short list of passes:

1. check the request (machine kind, construction, input mode);
2. choose the stack that receives a streamed input (:class:`~turingrnn.compile.gadgets.StreamHook`);
3. build the construction's neurons, readout and preload;
4. add the input loader (streamed mode);
5. resolve labels into sparse exact weights.

Constructions, by machine kind:

* ``"compact"`` (default): Turing machines by :mod:`turingrnn.compile.compact_tm`
  (2 ticks per step); stack machines by :mod:`turingrnn.compile.compact_stack`.
* ``"ss95"``: the layered Siegelmann–Sontag construction of :mod:`turingrnn.compile.ss95`;
  Turing machines go through :func:`turingrnn.machines.reduction.tm_to_stack_machine` first.
* ``"realtime"``: :mod:`turingrnn.compile.realtime`, one tick per step, preloaded input
  only; Turing machines go through the same reduction.
* ``"small"``: Turing machines only, by :mod:`turingrnn.compile.small_tm`: the compact
  network with a searched digit order, state code and shared detectors
  (fewer neurons, 2 ticks per step; compiling searches, a few seconds for the
  universal machines).

Compiling is deterministic: the same machine gives bit-identical weights.

>>> from turingrnn.machines.parsing import load_machine
>>> net = compile_machine(load_machine("rogozhin_4_6"))
>>> net.size, net.ticks_per_step
(38, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import CompileError
from ..machines.model import StackMachine, TuringMachine
from . import compact_stack, compact_tm, realtime, small_tm, ss95
from .gadgets import StreamHook, stream_loader
from .network import Built, Network, Preload

INPUT_MODES = ("preloaded", "streamed")
"""``preloaded``: the input is encoded in the initial state; ``streamed``: it arrives one symbol per tick."""

_BUILDERS: dict[tuple[str, str], Callable[[Any, StreamHook | None], Built]] = {
    ("tm", "compact"): compact_tm.build,
    ("stack", "compact"): compact_stack.build,
    ("tm", "ss95"): ss95.build_tm,
    ("stack", "ss95"): ss95.build_stack,
    ("tm", "realtime"): realtime.build_tm,
    ("tm", "small"): small_tm.build,
    ("stack", "realtime"): realtime.build_stack,
}
CONSTRUCTIONS = tuple(dict.fromkeys(c for _, c in _BUILDERS))
"""The construction names."""


def _check_request(machine: Any, construction: str, input_mode: str) -> str:
    if not isinstance(machine, TuringMachine | StackMachine):
        raise CompileError(f"compile_machine needs a TuringMachine or StackMachine, got {type(machine).__name__}")
    if construction not in CONSTRUCTIONS:
        raise CompileError(f"unknown construction {construction!r}; constructions are: {', '.join(CONSTRUCTIONS)}")
    if input_mode not in INPUT_MODES:
        raise CompileError(f"unknown input mode {input_mode!r}; input modes are: {', '.join(INPUT_MODES)}")
    return machine.kind


def constructions_for(kind: str) -> tuple[str, ...]:
    """The constructions that compile machines of ``kind`` (``"tm"`` or ``"stack"``)."""
    return tuple(c for k, c in _BUILDERS if k == kind)


def _builder(kind: str, construction: str) -> Callable[[Any, StreamHook | None], Built]:
    if (kind, construction) not in _BUILDERS:
        raise CompileError(
            f"construction {construction!r} does not compile {kind} machines; "
            f"{kind} machines compile with: {', '.join(constructions_for(kind))}"
        )
    return _BUILDERS[kind, construction]


def _stream_hook(machine: TuringMachine | StackMachine, construction: str) -> tuple[StreamHook, tuple[str, ...], str]:
    """Which stack takes a streamed word, its alphabet in digit order, and the code kind."""
    if isinstance(machine, TuringMachine):
        if construction == "compact":
            return StreamHook(stack="R"), compact_tm.tape_alphabet(machine), "tape"
        if construction == "small":
            return StreamHook(stack="R"), small_tm.search_plan(machine).symbols, "tape"
        return StreamHook(stack="R", latency=ss95.TM_STREAM_LATENCY), machine.symbols, "stack"
    if machine.input_stack is None:
        raise CompileError(f"machine {machine.name!r} has no stacks, so it has no input to stream")
    return StreamHook(stack=machine.input_stack), machine.alphabet(machine.input_stack), "stack"


def compile_machine(
    machine: TuringMachine | StackMachine, *, construction: str = "compact", input_mode: str = "preloaded"
) -> Network:
    """Compile ``machine`` into a :class:`Network` with exact rational weights over named neurons."""
    kind = _check_request(machine, construction, input_mode)
    hook, alphabet, code_kind = _stream_hook(machine, construction) if input_mode == "streamed" else (None, (), "")
    built = _builder(kind, construction)(machine, hook)
    if hook is not None:
        stream_loader(built.builder, hook, alphabet, code_kind)
    return built.builder.build(
        ticks_per_step=built.ticks_per_step,
        readout=replace(built.readout, start_preload=built.preload),
        preload=built.preload if hook is None else None,
        stream_latency=hook.latency if hook is not None else None,
        machine=machine,
        construction=construction,
        input_mode=input_mode,
    )


def start_preload(machine: TuringMachine | StackMachine, construction: str) -> Preload:
    """The neurons that ``construction`` writes a start configuration of ``machine`` into (streamed networks too)."""
    return _builder(_check_request(machine, construction, "preloaded"), construction)(machine, None).preload
