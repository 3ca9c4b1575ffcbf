"""The compiled side of the tasks: each task's machine compiled into a network, run on the task's examples.

:func:`run_compiled` compiles a task's machine once and runs examples through
the network, exactly or in float64/float32 (a float run flagged as diverged
answers ``None``); :func:`run_reference` runs the same machine on the
reference interpreter; :func:`ticks_per_symbol` counts the network ticks an
example costs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from ..compile.compiler import CONSTRUCTIONS, INPUT_MODES, compile_machine
from ..compile.network import Network
from ..engines.dispatch import engine_names, run_many
from ..errors import TaskError
from ..machines.interpreter import run
from ..machines.model import StackMachine, TuringMachine
from ..machines.parsing import load_machine
from .task_base import Task, TaskExample
from .task_registry import get_task

MAX_STEPS = 1_000_000
"""Default step limit of compiled and reference runs."""


@functools.cache
def _machine(name: str) -> TuringMachine | StackMachine:
    return load_machine(name)


@functools.cache
def _network(name: str, construction: str, input_mode: str) -> Network:
    return compile_machine(_machine(name), construction=construction, input_mode=input_mode)


def compile_task(task: Task, construction: str = "compact", input_mode: str = "preloaded") -> Network:
    """The compiled network of ``task``'s machine (compiled once per process and cached)."""
    if construction not in CONSTRUCTIONS:
        raise TaskError(f"unknown construction {construction!r}; constructions are: {', '.join(CONSTRUCTIONS)}")
    if input_mode not in INPUT_MODES:
        raise TaskError(f"unknown input mode {input_mode!r}; input modes are: {', '.join(INPUT_MODES)}")
    return _network(task.machine, construction, input_mode)


def run_reference(
    task: Task, examples: Sequence[TaskExample], max_steps: int = MAX_STEPS
) -> list[tuple[str, ...] | None]:
    """Each example's answer from the task's machine on the reference interpreter."""
    machine, keep = _machine(task.machine), task.output_mode == "per_position"
    return [task.decode(run(machine, task.machine_word(ex), max_steps=max_steps, trace=keep)) for ex in examples]


def run_compiled(
    task: Task,
    examples: Sequence[TaskExample],
    engine: str = "exact",
    construction: str = "compact",
    input_mode: str = "preloaded",
    max_steps: int = MAX_STEPS,
) -> list[tuple[str, ...] | None]:
    """Each example's answer from the task's compiled network: the decoded run, or ``None``.

    The machine is compiled once (:func:`compile_task`) and run on every
    example through the one engine dispatch (:func:`~turingrnn.engines.dispatch.run_many`):
    ``"exact"`` one run after another, ``"float64"`` and ``"float32"`` in one
    batch, ``"mp"`` at its default precision. A run flagged as diverged
    (``diverged_at``) answers ``None``.
    Per-position tasks record every readout and decode the configuration
    after each input symbol; the others decode the final configuration.
    """
    if engine not in engine_names():
        raise TaskError(f"unknown engine {engine!r}; engines are: {', '.join(engine_names())}")
    net = compile_task(task, construction, input_mode)
    words = [task.machine_word(ex) for ex in examples]
    keep = task.output_mode == "per_position"
    record = "steps" if keep else "final"
    traces = run_many(net, words, engine=engine, max_steps=max_steps, record=record)
    return [None if t.diverged_at is not None else task.decode(t.decode(trace=keep)) for t in traces]


@dataclass(frozen=True)
class TickCount:
    """How many network ticks a task's compiled network spends on an example.

    A preloaded network starts with the whole input in its state and reads a
    machine step out every ``ticks_per_step`` ticks. A streamed one first
    reads the machine word one symbol per tick, then ``stream_latency`` more
    ticks pass before its first readout.

    Attributes:
        task: The task's name.
        construction: ``"compact"`` or ``"ss95"``.
        input_mode: ``"preloaded"`` or ``"streamed"``.
        ticks_per_step: Network ticks per machine step.
        stream_latency: Ticks between the end of a streamed word and the first readout (0 when preloaded).
    """

    task: str
    construction: str
    input_mode: str
    ticks_per_step: int
    stream_latency: int

    def total(self, example: TaskExample) -> int:
        """All ticks of the run on ``example``: the reading (streamed) and every machine step to the halt."""
        task = get_task(self.task)
        word = task.machine_word(example)
        steps = run(_machine(task.machine), word).steps
        reading = len(word) + self.stream_latency if self.input_mode == "streamed" else 0
        return reading + steps * self.ticks_per_step

    def extra(self, example: TaskExample) -> int:
        """The ticks after the whole input is available: all of them when preloaded, the rest when streamed.

        These are the blank steps a trained model that reads one symbol per
        tick gets after the input, for a fair comparison.
        """
        word = get_task(self.task).machine_word(example)
        return self.total(example) - (len(word) if self.input_mode == "streamed" else 0)

    def per_symbol(self, example: TaskExample) -> float:
        """``total(example)`` per input symbol."""
        return self.total(example) / max(1, len(example.input))


def ticks_per_symbol(task: Task, construction: str = "compact", input_mode: str = "preloaded") -> TickCount:
    """The tick counts of ``task``'s compiled network (see :class:`TickCount`).

    >>> ticks = ticks_per_symbol(get_task("reverse_string"))
    >>> ticks.ticks_per_step, ticks.total(TaskExample("0011", tuple("1100"))), ticks.per_symbol(TaskExample("0011", ()))
    (2, 10, 2.5)
    """
    net = compile_task(task, construction, input_mode)
    return TickCount(
        task=task.name,
        construction=construction,
        input_mode=input_mode,
        ticks_per_step=net.ticks_per_step,
        stream_latency=net.stream_latency or 0,
    )
