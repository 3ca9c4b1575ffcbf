"""The context-sensitive (CS) tasks of Delétang et al. (2023) that answer with labels: binary addition, duplication.

(The CS language a^n b^n c^n, answered position by position, is in :mod:`.next_symbol_tasks`.)
"""

from __future__ import annotations

import numpy as np

from ..machines.interpreter import RunResult
from .task_base import Task, TaskExample, _final_stack, _symbols, _WordToStackOut


class BinaryAddition(Task):
    """Binary addition (CS): ``x+y`` least significant bit first, output the sum the same way.

    Length: the whole input, ``+`` included. As in the paper's code, for
    length >= 3 the operand lengths split length - 1 uniformly (each >= 1) and
    each operand is uniform over the nonzero numbers of its length, written
    with exactly that many bits (high zeros last); for lengths 1 and 2 the
    input is one number of that many bits, uniform over all of them, with no
    ``+``. The sum has no high zeros; zero is ``0``. The machine
    ``binary_addition`` needs a ``+``, so :meth:`machine_word` appends one to
    a lone number, and it keeps the operands' high zeros, which
    :meth:`decode` drops.

    >>> BinaryAddition().solve("01001+011"), BinaryAddition().solve("00")
    (('0', '0', '0', '1', '1'), ('0',))
    """

    name = "binary_addition"
    input_alphabet = ("0", "1", "+")
    output_alphabet = ("0", "1")
    output_mode = "sequence"
    machine = "binary_addition"
    chomsky = "CS"
    length = "the number of symbols of x+y"

    def draw(self, length: int, rng: np.random.Generator) -> str:
        """``x+y`` (or one number, for lengths 1 and 2)."""
        if length <= 2:
            return _symbols("01", length, rng)
        size = int(rng.integers(1, length - 1))
        return _operand(size, rng) + "+" + _operand(length - 1 - size, rng)

    def solve(self, word: str) -> tuple[str, ...]:
        """The sum, least significant bit first, without high zeros."""
        x, _, y = word.partition("+")
        total = _lsb_value(x) + _lsb_value(y)
        return tuple(f"{total:b}"[::-1])

    def machine_word(self, example: TaskExample) -> str:
        """The input, with a ``+`` after a lone number."""
        return example.input if "+" in example.input else example.input + "+"

    def decode(self, result: RunResult) -> tuple[str, ...] | None:
        """The machine's stack ``out`` without its high zeros, after it accepted."""
        out = _final_stack(result, "out")
        return None if out is None else tuple(out.rstrip("0") or "0")


def _operand(bits: int, rng: np.random.Generator) -> str:
    """A uniform nonzero number of ``bits`` bits, least significant bit first, high zeros kept."""
    while True:
        word = _symbols("01", bits, rng)
        if "1" in word:
            return word


def _lsb_value(bits: str) -> int:
    return int(bits[::-1], 2) if bits else 0


class DuplicateString(_WordToStackOut):
    """Duplicate string (CS): the input twice. Length: the word's length.

    >>> DuplicateString().solve("011")
    ('0', '1', '1', '0', '1', '1')
    """

    name = "duplicate_string"
    machine = "duplicate_string"
    chomsky = "CS"

    def solve(self, word: str) -> tuple[str, ...]:
        """The word twice."""
        return tuple(word + word)
