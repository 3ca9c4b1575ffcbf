"""What every task is: the :class:`Task` interface, its examples, and the protocol's lengths and output modes.

A task draws examples (:meth:`Task.sample`), knows its answer for any input
(:meth:`Task.solve`), names the bundled machine that solves it
(:attr:`Task.machine`), and maps an example to that machine's input word
(:meth:`Task.machine_word`) and a run of the machine back to an answer
(:meth:`Task.decode`). The tasks themselves are in :mod:`.regular_tasks`,
:mod:`.context_free_tasks`, :mod:`.context_sensitive_tasks` and
:mod:`.next_symbol_tasks`; :mod:`.tasks` is the registry. This module also
holds the small pieces those modules share: drawing uniform words and
reading an answer off a machine's stack or halting state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import TaskError
from ..machines.interpreter import RunResult

TRAIN_LENGTHS = range(1, 41)
"""Training lengths of the paper: 1 to 40."""
TEST_LENGTHS = range(41, 501)
"""Test lengths of the paper: 41 to 500."""
OUTPUT_MODES = ("final", "sequence", "per_position")
"""How a task answers: one label, a label sequence after the input, or one label per input position."""
CHOMSKY_CLASSES = ("R", "DCF", "CS")
"""The paper's classes: regular, deterministic context-free, context-sensitive."""
END = "$"
"""The end of the word, in next-symbol sets."""


@dataclass(frozen=True)
class TaskExample:
    """One example: the input word and the target labels."""

    input: str
    target: tuple[str, ...]


class Task:
    """One task: examples, answers, and the bundled machine that solves it.

    Attributes:
        name: The registry name.
        input_alphabet: The input symbols.
        output_alphabet: The output labels (sets written as strings for next-set tasks).
        output_mode: ``"final"``, ``"sequence"`` or ``"per_position"``.
        machine: The bundled construction in ``constructions/`` that solves the task.
        chomsky: ``"R"``, ``"DCF"`` or ``"CS"``, as in the paper.
        length: What ``length`` counts in :meth:`sample`.
    """

    name: ClassVar[str]
    input_alphabet: ClassVar[tuple[str, ...]]
    output_alphabet: ClassVar[tuple[str, ...]]
    output_mode: ClassVar[str]
    machine: ClassVar[str]
    chomsky: ClassVar[str]
    length: ClassVar[str]

    def sample(self, length: int, n: int, rng: np.random.Generator) -> list[TaskExample]:
        """``n`` examples of length ``length`` (in the task's sense), drawn with ``rng``."""
        if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
            raise TaskError(f"task {self.name!r}: length must be an int >= 1 ({self.length}); got {length!r}")
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise TaskError(f"task {self.name!r}: n must be an int >= 0; got {n!r}")
        if not isinstance(rng, np.random.Generator):
            raise TaskError(f"task {self.name!r}: rng must be a numpy.random.Generator; got {type(rng).__name__}")
        words = [self.draw(int(length), rng) for _ in range(int(n))]
        return [TaskExample(word, self.solve(word)) for word in words]

    def draw(self, length: int, rng: np.random.Generator) -> str:
        """One input word of length ``length`` (in the task's sense); by default uniform over the alphabet."""
        return _symbols(self.input_alphabet, length, rng)

    def solve(self, word: str) -> tuple[str, ...]:
        """The target for the input ``word``."""
        raise NotImplementedError

    def machine_word(self, example: TaskExample) -> str:
        """The input word of the task's machine for ``example`` (by default the input itself)."""
        return example.input

    def decode(self, result: RunResult) -> tuple[str, ...] | None:
        """The answer read from a run of the task's machine, or ``None`` when the run gives none."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<task {self.name} ({self.chomsky}, {self.output_mode}, machine {self.machine})>"


def _symbols(alphabet: Sequence[str], length: int, rng: np.random.Generator) -> str:
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), size=length))


def _final_stack(result: RunResult, stack: str) -> str | None:
    """The contents of ``stack`` after an accepting run, else ``None``."""
    return result.stacks[stack] if result.accepted else None


def _halting_suffix(result: RunResult, prefix: str) -> tuple[str, ...] | None:
    """``(k,)`` for a run that halted by itself in the state ``<prefix><k>``, else ``None``."""
    state = result.state
    if not result.halted or not state.startswith(prefix):
        return None
    return (state[len(prefix) :],)


class _WordToStackOut(Task):
    """A task from a bit string to a bit string that the machine leaves on its stack ``out``."""

    input_alphabet = ("0", "1")
    output_alphabet = ("0", "1")
    output_mode = "sequence"
    length = "the word's length"

    def decode(self, result: RunResult) -> tuple[str, ...] | None:
        """The machine's stack ``out``, top first, after it accepted."""
        out = _final_stack(result, "out")
        return None if out is None else tuple(out)
