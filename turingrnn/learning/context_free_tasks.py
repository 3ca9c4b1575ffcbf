"""The deterministic context-free (DCF) tasks of Delétang et al. (2023) that answer with labels.

Stack manipulation, reverse string and modular arithmetic with brackets. (The
DCF languages a^n b^n and Dyck-2, answered position by position, are in
:mod:`.next_symbol_tasks`.)
"""

from __future__ import annotations

import numpy as np

from ..errors import TaskError
from ..machines.interpreter import RunResult
from .task_base import Task, _final_stack, _halting_suffix, _symbols, _WordToStackOut


class StackManipulation(Task):
    """Stack manipulation (DCF): run actions on a stack, output the final stack top first.

    Input: the initial stack over {a, b} bottom to top, then actions ``p``
    (pop; ignored on an empty stack), ``A`` (push a), ``B`` (push b). Length:
    the whole input. As in the paper, a length-1 input is one stack symbol;
    otherwise the initial stack has a length drawn uniformly from 1 to
    length - 1 and the rest are actions, each uniform over the three.

    >>> StackManipulation().solve("abpA"), StackManipulation().solve("abppp")
    (('a', 'a'), ())
    """

    name = "stack_manipulation"
    input_alphabet = ("a", "b", "p", "A", "B")
    output_alphabet = ("a", "b")
    output_mode = "sequence"
    machine = "stack_manipulation"
    chomsky = "DCF"
    length = "the initial stack plus the actions"

    def draw(self, length: int, rng: np.random.Generator) -> str:
        """An initial stack, then actions."""
        size = 1 if length == 1 else int(rng.integers(1, length))
        return _symbols("ab", size, rng) + _symbols("pAB", length - size, rng)

    def solve(self, word: str) -> tuple[str, ...]:
        """The stack after the actions, top first."""
        stack: list[str] = []
        for symbol in word:
            if symbol == "p":
                if stack:
                    stack.pop()
            else:
                stack.append(symbol.lower())
        return tuple(reversed(stack))

    def decode(self, result: RunResult) -> tuple[str, ...] | None:
        """The machine's stack ``stack``, top first, after it accepted."""
        stack = _final_stack(result, "stack")
        return None if stack is None else tuple(stack)


class ReverseString(_WordToStackOut):
    """Reverse string (DCF): the input reversed. Length: the word's length.

    >>> ReverseString().solve("0011")
    ('1', '1', '0', '0')
    """

    name = "reverse_string"
    machine = "reverse_string"
    chomsky = "DCF"

    def solve(self, word: str) -> tuple[str, ...]:
        """The word reversed."""
        return tuple(reversed(word))


class ModularArithmeticBrackets(Task):
    """Modular arithmetic with brackets (DCF): an expression's value modulo 5. Length: the expression's length.

    The generator follows the paper's released code (with multiplication on,
    as the paper's text has it; the code's default leaves it off): an
    expression of length 1 is a digit d, of length 2 ``-d``, of length 3
    ``(d)``, of length 4 ``(-d)``; a longer one is ``(E o F)`` with ``o``
    uniform over ``+ - *``, ``E`` of a length drawn uniformly from 1 to
    length - 4 and ``F`` taking the rest. Every operator therefore has its
    own brackets, and a minus sign only negates a digit; the paper's
    illustration ``-(1-2)·(4-3·(-2))`` is not of this form.

    >>> task = ModularArithmeticBrackets()
    >>> task.solve("((-2)*(3-4))"), task.solve("(4*(2-(0+3)))")
    (('2',), ('1',))
    """

    name = "modular_arithmetic_brackets"
    input_alphabet = tuple("01234+-*()")
    output_alphabet = ("0", "1", "2", "3", "4")
    output_mode = "final"
    machine = "modular_arithmetic_brackets"
    chomsky = "DCF"
    length = "the number of symbols of the expression"

    def draw(self, length: int, rng: np.random.Generator) -> str:
        """A random expression of exactly ``length`` symbols."""
        if length <= 4:
            digit = str(rng.integers(0, 5))
            return ["", digit, "-" + digit, f"({digit})", f"(-{digit})"][length]
        left = int(rng.integers(1, length - 3))
        op = "+-*"[int(rng.integers(0, 3))]
        return "(" + self.draw(left, rng) + op + self.draw(length - 3 - left, rng) + ")"

    def solve(self, word: str) -> tuple[str, ...]:
        """The expression's value modulo 5."""
        value, end = _evaluate(word, 0)
        if end != len(word):
            raise TaskError(f"{word!r} is not an expression: unexpected {word[end]!r} at position {end}")
        return (str(value),)

    def decode(self, result: RunResult) -> tuple[str, ...] | None:
        """The value ``v`` of the accepting state ``is<v>``."""
        return _halting_suffix(result, "is") if result.accepted else None


def _evaluate(word: str, i: int) -> tuple[int, int]:
    """The value modulo 5 of the expression starting at ``word[i]``, and the index after it."""
    head = word[i : i + 1]
    if head.isdigit():
        return int(head) % 5, i + 1
    if head == "-" and word[i + 1 : i + 2].isdigit():
        return -int(word[i + 1]) % 5, i + 2
    if head == "(":
        left, j = _evaluate(word, i + 1)
        if word[j : j + 1] == ")":
            return left, j + 1
        op = word[j : j + 1]
        if op in ("+", "-", "*"):
            right, k = _evaluate(word, j + 1)
            if word[k : k + 1] == ")":
                value = {"+": left + right, "-": left - right, "*": left * right}[op]
                return value % 5, k + 1
            j = k
        raise TaskError(f"{word!r} is not an expression: expected an operator or ')' at position {j}")
    raise TaskError(f"{word!r} is not an expression: expected a digit, '-' or '(' at position {i}")
