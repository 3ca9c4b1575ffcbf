"""The regular (R) tasks of Delétang et al. (2023): parity, even pairs, cycle navigation, modular arithmetic.

Each answers with one label after the whole input (output mode ``"final"``).
"""

from __future__ import annotations

import numpy as np

from ..errors import TaskError
from ..machines.interpreter import RunResult
from .task_base import Task, _halting_suffix, _symbols


class _BitOnInput(Task):
    """A regular task from a bit string to a bit that the machine leaves on its emptied stack ``in``."""

    input_alphabet = ("0", "1")
    output_alphabet = ("0", "1")
    output_mode = "final"
    chomsky = "R"
    length = "the number of bits"

    def decode(self, result: RunResult) -> tuple[str, ...] | None:
        """The bit the machine leaves on its stack ``in``."""
        bit = result.stacks["in"] if result.halted else None
        return (bit,) if bit in self.output_alphabet else None


class ParityCheck(_BitOnInput):
    """Parity check (R): is the number of 1s even? Length: the word's length.

    The label is the number of 1s modulo 2. The machine ``parity`` leaves that
    bit on its input stack.

    >>> ParityCheck().solve("1010100"), ParityCheck().solve("01111")
    (('1',), ('0',))
    """

    name = "parity"
    machine = "parity"

    def solve(self, word: str) -> tuple[str, ...]:
        """The number of 1s modulo 2."""
        return (str(word.count("1") % 2),)


class EvenPairs(_BitOnInput):
    """Even pairs (R): is the number of 01 and 10 pairs even? Length: the word's length.

    The words are uniform bit strings. The label is the number of neighbouring
    pairs 01 and 10 modulo 2, as in the paper's code; it is 1 exactly when the
    first and the last bit differ, and 0 for a single bit (no pairs). The
    machine ``even_pairs`` leaves that bit on its input stack.

    >>> task = EvenPairs()
    >>> task.solve("001110"), task.solve("0101001"), task.solve("1")
    (('0',), ('1',), ('0',))
    """

    name = "even_pairs"
    machine = "even_pairs"

    def solve(self, word: str) -> tuple[str, ...]:
        """The number of 01 and 10 pairs modulo 2."""
        return (str(sum(a != b for a, b in zip(word, word[1:], strict=False)) % 2),)


class CycleNavigation(Task):
    """Cycle navigation (R): the final position on a cycle of length 5. Length: the number of moves.

    Moves as in the paper's text: 0 stays, 1 steps +1, 2 steps -1; the walk
    starts at 0. (The paper's code maps token t to the move t - 1; that is the
    same task with the symbols renamed.) The machine halts in ``at<k>``.

    >>> CycleNavigation().solve("010211"), CycleNavigation().solve("22")
    (('2',), ('3',))
    """

    name = "cycle_navigation"
    input_alphabet = ("0", "1", "2")
    output_alphabet = ("0", "1", "2", "3", "4")
    output_mode = "final"
    machine = "cycle_navigation"
    chomsky = "R"
    length = "the number of moves"

    def solve(self, word: str) -> tuple[str, ...]:
        """The number of +1 moves less the -1 moves, modulo 5."""
        return (str((word.count("1") - word.count("2")) % 5),)

    def decode(self, result: RunResult) -> tuple[str, ...] | None:
        """The position ``k`` of the halting state ``at<k>``."""
        return _halting_suffix(result, "at")


class ModularArithmetic(Task):
    """Modular arithmetic (R): the value modulo 5 of an expression without brackets. Length: the expression's, made odd.

    An expression alternates digits and operators, ``d o d o ... o d``, so it
    has an odd number of symbols. As in the paper's code, an even ``length`` is
    reduced by one: lengths 1 and 2 both give a single digit, 3 and 4 give
    ``d o d``, and length 2k or 2k + 1 gives k operators between k + 1 digits.
    The digits are uniform over 0-4 and the operators over ``+ - *``. The value
    is the usual one, modulo 5: ``*`` binds tighter than ``+`` and ``-``, which
    go left to right, and a ``-`` subtracts the whole product after it. (The
    paper's code turns each ``- d`` into ``+ (-d)`` and sums the products of
    the runs joined by ``*``: the same value.) The machine ``modular_arithmetic``
    accepts in the state ``is<v>``.

    >>> task = ModularArithmetic()
    >>> task.solve("1+2*3"), task.solve("1-1-1"), task.solve("0*1+4*3-2"), task.solve("4-3*2*2")
    (('2',), ('4',), ('0',), ('2',))
    >>> [len(task.draw(length, np.random.default_rng(0))) for length in (1, 2, 3, 4, 5)]
    [1, 1, 3, 3, 5]
    """

    name = "modular_arithmetic"
    input_alphabet = tuple("01234+-*")
    output_alphabet = ("0", "1", "2", "3", "4")
    output_mode = "final"
    machine = "modular_arithmetic"
    chomsky = "R"
    length = "the number of symbols of the expression, reduced by one when even"

    def draw(self, length: int, rng: np.random.Generator) -> str:
        """``(length - 1) // 2`` uniform operators between uniform digits (one digit more)."""
        count = (length - 1) // 2  # length, made odd, is 2 * count + 1
        digits = _symbols("01234", count + 1, rng)
        operators = _symbols("+-*", count, rng)
        return digits[0] + "".join(o + d for o, d in zip(operators, digits[1:], strict=True))

    def solve(self, word: str) -> tuple[str, ...]:
        """The sum of the signed products between ``+`` and ``-``, modulo 5."""
        if len(word) % 2 == 0 or not set(word[::2]) <= set("01234") or not set(word[1::2]) <= set("+-*"):
            raise TaskError(f"{word!r} is not an expression d o d ... o d (digits 0-4, operators + - *)")
        total, term = 0, int(word[0])
        for op, digit in zip(word[1::2], word[2::2], strict=True):
            if op == "*":
                term = term * int(digit) % 5
            else:
                total, term = (total + term) % 5, int(digit) if op == "+" else -int(digit)
        return (str((total + term) % 5),)

    def decode(self, result: RunResult) -> tuple[str, ...] | None:
        """The value ``v`` of the accepting state ``is<v>``."""
        return _halting_suffix(result, "is") if result.accepted else None
