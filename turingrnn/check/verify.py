"""Lockstep verification: the compiled network against the reference interpreter.

:func:`verify` compiles a machine (or takes a compiled network), runs the
interpreter and the exact network simulator on the same inputs, and compares
the decoded configuration after every machine step, then the final status,
step count and verdict. It reports the first disagreement of each input; a
correct compiler gives none.

>>> from turingrnn.machines.parsing import load_machine
>>> report = verify(load_machine("bb4"), [""])
>>> report.ok, report.inputs, report.steps
(True, 1, 107)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..compile.compiler import compile_machine
from ..compile.network import Network
from ..errors import DecodeError, InputError
from ..machines.interpreter import Status, run, steps
from ..machines.model import StackMachine, TuringMachine


@dataclass(frozen=True)
class Mismatch:
    """The first step at which the network and the interpreter disagree on one input."""

    input: str
    head: int
    step: int
    expected: str
    got: str

    def __str__(self) -> str:
        where = f"input {self.input!r}" + (f" head {self.head}" if self.head else "")
        return f"{where}, step {self.step}: interpreter {self.expected}, network {self.got}"


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` checked and what disagreed."""

    machine: str
    construction: str
    input_mode: str
    inputs: int
    steps: int
    mismatches: tuple[Mismatch, ...]
    limited: int = 0
    """Inputs whose run reached its step limit before the machine halted (checked up to the limit)."""

    @property
    def ok(self) -> bool:
        """Whether every step of every input agreed."""
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        """The JSON view used by ``turingrnn verify --json``."""
        return {
            "machine": self.machine,
            "construction": self.construction,
            "input_mode": self.input_mode,
            "ok": self.ok,
            "inputs": self.inputs,
            "steps": self.steps,
            "limited": self.limited,
            "mismatches": [str(m) for m in self.mismatches],
        }

    def summary(self) -> str:
        """One line, then one line per mismatch."""
        verdict = "agree" if self.ok else f"DISAGREE on {len(self.mismatches)} inputs"
        lines = [
            f"{self.machine} [{self.construction}, {self.input_mode}]: network and interpreter {verdict}: "
            f"{self.steps} steps over {self.inputs} inputs checked"
            + (f" ({self.limited} stopped at their step limit before halting)" if self.limited else "")
        ]
        lines += [f"  {m}" for m in self.mismatches]
        return "\n".join(lines)


def all_inputs_up_to(machine: TuringMachine | StackMachine, length: int) -> Iterator[str]:
    """Every input word of length ``0 .. length`` over the machine's input alphabet, shortest first."""
    if isinstance(machine, TuringMachine):
        alphabet: tuple[str, ...] = machine.symbols
    elif machine.input_stack is None:
        alphabet = ()
    else:
        alphabet = machine.alphabet(machine.input_stack)
    for n in range(length + 1):
        if n and not alphabet:
            return
        for letters in itertools.product(alphabet, repeat=n):
            yield "".join(letters)


CHUNK_STEPS = 10_000
"""Lockstep verification runs the network this many machine steps at a time, resuming from the last values,
so that it holds one chunk of readouts and one interpreter configuration, whatever the run's length."""

_MISSING = object()


def _compare(net: Network, word: str, head: int, max_steps: int) -> tuple[int, Mismatch | None, bool]:
    """Step the interpreter and the exact network side by side; the steps, the first mismatch, the step limit.

    Returns the steps checked, the first differing step (or ``None``), and whether the run reached
    ``max_steps`` before the machine halted.

    The network runs in chunks of :data:`CHUNK_STEPS` machine steps through the exact engine of the
    one dispatch; each chunk starts from the exact values the previous one ended with (no re-encoding),
    and the interpreter's configurations come one at a time from :func:`~turingrnn.machines.interpreter.steps`.
    """
    from ..engines.dispatch import run_chunks
    from . import verify_codes

    if verify_codes.eligible(net):
        return _compare_codes(net, word, head, max_steps)
    expected = run(net.machine, word, head=head, max_steps=max_steps)  # the verdict; no trace is kept
    wanted = steps(net.machine, word, head=head)
    offset = 0
    for offset, trace in run_chunks(net, word, head=head, chunk_steps=CHUNK_STEPS, max_steps=max_steps):
        for k in range(0 if offset == 0 else 1, trace.steps + 1):  # a resumed chunk's step 0 was checked
            step, want = offset + k, next(wanted, _MISSING)
            try:
                have = trace.configuration(k)
            except DecodeError as e:  # the network's values left the code: no configuration to compare
                return step, Mismatch(word, head, step, str(want), f"no configuration ({e})"), False
            if want != have:
                return step, Mismatch(word, head, step, "nothing" if want is _MISSING else str(want), str(have)), False
    offset += trace.steps
    return _verdict(net, word, head, trace, offset, expected)


def _compare_codes(net: Network, word: str, head: int, max_steps: int) -> tuple[int, Mismatch | None, bool]:
    """:func:`_compare` for a Turing machine's tape readout, by codes (:mod:`.verify_codes`); the same verdicts."""
    from ..engines.dispatch import run_chunks
    from .verify_codes import CodeRun, CodeSignal, network_configuration

    expected = run(net.machine, word, head=head, max_steps=max_steps)  # the verdict; no trace is kept
    codes, offset = CodeRun(net, word, head), 0
    for offset, trace in run_chunks(net, word, head=head, chunk_steps=CHUNK_STEPS, max_steps=max_steps, record="steps"):
        rec = trace.recording
        for k in range(0 if offset == 0 else 1, trace.steps + 1):
            step = offset + k
            if step > expected.steps:
                return step, Mismatch(word, head, step, "nothing", network_configuration(trace, k)), False
            if step > 0:
                codes.advance()
            try:
                if k == trace.steps and trace.stop == "undefined transition":
                    continue  # that readout holds the undefined-transition code; the anchor below checks the end
                scale, row = rec.raw(k)  # type: ignore[attr-defined]
                codes.check(step, scale, row, stepped=step > 0)
            except CodeSignal as e:
                got, want = network_configuration(trace, k), str(codes.configuration())
                got = got if got != want else f"{got} ({e.what})"  # the codes differ where the text does not
                return step, Mismatch(word, head, step, want, got), False
        end, want = offset + trace.steps, codes.configuration()  # the anchor: whole configurations
        try:
            have = trace.configuration(trace.steps)
        except DecodeError as e:
            return end, Mismatch(word, head, end, str(want), f"no configuration ({e})"), False
        if have != want:
            return end, Mismatch(word, head, end, str(want), str(have)), False
    offset += trace.steps
    return _verdict(net, word, head, trace, offset, expected)


def _verdict(
    net: Network, word: str, head: int, trace: Any, offset: int, expected: Any
) -> tuple[int, Mismatch | None, bool]:
    """Compare the network's final result (``offset`` steps in all) with the interpreter's verdict."""
    final = replace(trace.decode(), steps=offset)
    for field in ("status", "steps", "accepted", "reason"):
        if getattr(final, field) != getattr(expected, field):
            detail = f"{field} {getattr(expected, field)!r}", f"{field} {getattr(final, field)!r}"
            return expected.steps, Mismatch(word, head, expected.steps, *detail), False
    return expected.steps, None, expected.status is Status.OUT_OF_STEPS


def verify(
    machine: TuringMachine | StackMachine,
    inputs: Iterable[str | tuple[str, int] | tuple[str, int, int]],
    *,
    construction: str = "compact",
    input_mode: str = "preloaded",
    max_steps: int = 100_000,
    net: Network | None = None,
) -> VerifyReport:
    """Run interpreter and network in lockstep on every input.

    An input is a word, a ``(word, head)`` pair, or a ``(word, head, step limit)`` triple whose limit
    replaces ``max_steps`` for it. The report counts the inputs that reached their limit before halting.
    """
    if net is None:
        net = compile_machine(machine, construction=construction, input_mode=input_mode)
    elif net.machine != machine:
        raise InputError(f"the network was compiled from machine {net.machine.name!r}, not {machine.name!r}")
    count = steps = limited = 0
    mismatches = []
    for item in inputs:
        word, head, limit = _item(item, max_steps)
        taken, mismatch, stopped = _compare(net, word, head, limit)
        count += 1
        steps += taken
        limited += stopped
        if mismatch is not None:
            mismatches.append(mismatch)
    return VerifyReport(machine.name, net.construction, net.input_mode, count, steps, tuple(mismatches), limited)


def _item(item: str | tuple[str, int] | tuple[str, int, int], max_steps: int) -> tuple[str, int, int]:
    """An input of :func:`verify` as ``(word, head, step limit)``."""
    if isinstance(item, str):
        return item, 0, max_steps
    if len(item) == 3:
        return item  # type: ignore[return-value]
    return item[0], item[1], max_steps
