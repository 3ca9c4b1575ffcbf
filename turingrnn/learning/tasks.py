"""The tasks of Delétang et al., "Neural Networks and the Chomsky Hierarchy" (ICLR 2023), for both model kinds.

A :class:`Task` draws examples (:meth:`Task.sample`), knows its answer for any
input (:meth:`Task.solve`), names the bundled machine that solves it
(:attr:`Task.machine`), and maps an example to that machine's input word
(:meth:`Task.machine_word`) and a run of the machine back to an answer
(:meth:`Task.decode`). :data:`TASKS` maps names to tasks; :func:`get_task`
looks one up. The generators are written from the paper's definitions:
training lengths 1–40 (:data:`TRAIN_LENGTHS`), test lengths 41–500
(:data:`TEST_LENGTHS`); what a length counts is given per task.

Output modes: ``"final"`` (one label after the whole input), ``"sequence"``
(a label sequence emitted after the input) and ``"per_position"`` (one label
per input position: the set of symbols that may come next, written like
``"{a,b}"``, with :data:`END` for the end of the word).

The compiled side: :func:`run_compiled` compiles a task's machine once and
runs examples through the network, exactly or in float64/float32 (a float run
flagged as diverged answers ``None``); :func:`run_reference` runs the same
machine on the reference interpreter; :func:`ticks_per_symbol` counts the
network ticks an example costs. Metrics: :func:`per_token_accuracy`,
:func:`sequence_correct` and :func:`score` (Delétang's score and the
generalization horizon).

>>> import numpy as np
>>> task = get_task("cycle_navigation")
>>> task.solve("010211")
('2',)
>>> task.sample(4, 2, np.random.default_rng(0))
[TaskExample(input='2110', target=('1',)), TaskExample(input='0000', target=('0',))]
>>> examples = [TaskExample("010211", ("2",)), TaskExample("22", ("3",))]
>>> run_compiled(task, examples) == [ex.target for ex in examples]
True
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, cast

import numpy as np

from ..compile.compiler import CONSTRUCTIONS, INPUT_MODES, compile_machine
from ..compile.network import Network
from ..engines.exact import run_exact
from ..engines.trace import Trace
from ..errors import TaskError, UnknownTaskError
from ..machines.interpreter import RunResult, StackConfiguration, run
from ..machines.model import StackMachine, TuringMachine
from ..machines.parsing import load_machine

TRAIN_LENGTHS = range(1, 41)
"""Training lengths of the paper: 1 to 40."""
TEST_LENGTHS = range(41, 501)
"""Test lengths of the paper: 41 to 500."""
OUTPUT_MODES = ("final", "sequence", "per_position")
"""How a task answers: one label, a label sequence after the input, or one label per input position."""
CHOMSKY_CLASSES = ("R", "DCF", "CS")
"""The paper's classes: regular, deterministic context-free, context-sensitive."""
ENGINES = ("exact", "float64", "float32")
"""The engines :func:`run_compiled` runs a network on."""
END = "$"
"""The end of the word, in next-symbol sets."""
HORIZON_ACCURACY = 0.99
"""The sequence accuracy a length needs to count toward the generalization horizon."""
MAX_STEPS = 1_000_000
"""Default step limit of compiled and reference runs."""

Prediction = Sequence[str] | None
"""A model's answer to one example: a label sequence, or ``None`` for no answer (counts as wrong)."""


@dataclass(frozen=True)
class TaskExample:
    """One example: the input word and the target labels."""

    input: str
    target: tuple[str, ...]


# ---------------------------------------------------------------- tasks


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


# ------------------------------------------------------------ next-symbol sets


def next_set(symbols: str) -> str:
    """The label of a set of next symbols, in the given order: ``next_set("ab$") == "{a,b,$}"``."""
    return "{" + ",".join(symbols) + "}"


def _after_each_symbol(result: RunResult) -> list[StackConfiguration] | None:
    """The configuration right after each input symbol was consumed (popped from ``in``), in order.

    ``None`` when the run stopped before it consumed the whole input.
    """
    if result.trace is None:
        raise TaskError("decoding a per-position task needs a run with trace=True (every configuration)")
    configs = [c for c in result.trace if isinstance(c, StackConfiguration)]
    if not configs:
        return None
    n = len(configs[0].stack("in"))
    after: list[StackConfiguration] = []
    for config in configs:
        if n - len(config.stack("in")) == len(after) + 1:
            after.append(config)
    return after if len(after) == n else None


class NextSymbolTask(Task):
    """A language, and after every input symbol the set of symbols that may come next (Gers & Schmidhuber).

    The inputs are words of the language; the label of position ``i`` is the
    set of symbols ``s`` (and :data:`END`) such that ``word[: i + 1] + s`` is
    a prefix of a word of the language (ends it, for :data:`END`). The
    machine reads one symbol per step, so the label of position ``i`` is read
    off the configuration right after it consumed symbol ``i``
    (:meth:`label_of`); :meth:`decode` needs a run with ``trace=True``.
    """

    output_mode = "per_position"

    def label_of(self, config: StackConfiguration) -> str | None:
        """The label read off the machine configuration after a symbol."""
        raise NotImplementedError

    def decode(self, result: RunResult) -> tuple[str, ...] | None:
        """The label after each input symbol, from the run's configurations."""
        after = _after_each_symbol(result)
        if after is None:
            return None
        labels = [self.label_of(config) for config in after]
        return None if None in labels else tuple(label for label in labels if label is not None)


class AnBn(NextSymbolTask):
    """a^n b^n as next-symbol-set prediction (DCF). Length: n (the word has 2n symbols).

    >>> AnBn().sample(2, 1, np.random.default_rng(0))
    [TaskExample(input='aabb', target=('{a,b}', '{a,b}', '{b}', '{$}'))]
    """

    name = "anbn"
    input_alphabet = ("a", "b")
    output_alphabet = (next_set("ab"), next_set("b"), next_set(END))
    machine = "anbn"
    chomsky = "DCF"
    length = "n, the word a^n b^n has 2n symbols"

    def draw(self, length: int, rng: np.random.Generator) -> str:
        """The word a^n b^n (``rng`` is not used)."""
        return "a" * length + "b" * length

    def solve(self, word: str) -> tuple[str, ...]:
        """{a,b} during the a's, {b} during the b's, {$} after the last b."""
        n = word.count("a")
        return (next_set("ab"),) * n + (next_set("b"),) * (n - 1) + (next_set(END),)

    def label_of(self, config: StackConfiguration) -> str | None:
        """State ``as``: {a,b}; state ``bs``: {b} while ``count`` holds an a, else {$}."""
        if config.state == "as":
            return next_set("ab")
        if config.state == "bs":
            return next_set("b") if config.stack("count") else next_set(END)
        return None


class AnBnCn(NextSymbolTask):
    """a^n b^n c^n as next-symbol-set prediction (CS). Length: n (the word has 3n symbols).

    >>> AnBnCn().solve("aabbcc")
    ('{a,b}', '{a,b}', '{b}', '{c}', '{c}', '{$}')
    """

    name = "anbncn"
    input_alphabet = ("a", "b", "c")
    output_alphabet = (next_set("ab"), next_set("b"), next_set("c"), next_set(END))
    machine = "anbncn_counters"
    chomsky = "CS"
    length = "n, the word a^n b^n c^n has 3n symbols"

    def draw(self, length: int, rng: np.random.Generator) -> str:
        """The word a^n b^n c^n (``rng`` is not used)."""
        return "a" * length + "b" * length + "c" * length

    def solve(self, word: str) -> tuple[str, ...]:
        """{a,b} during the a's, {b} then {c} after the last b, {c} then {$} after the last c."""
        n = word.count("a")
        b, c, end = next_set("b"), next_set("c"), next_set(END)
        return (next_set("ab"),) * n + (b,) * (n - 1) + (c,) + (c,) * (n - 1) + (end,)

    def label_of(self, config: StackConfiguration) -> str | None:
        """State ``ra``: {a,b}; ``rb``: {b} while ``acount`` is not empty, else {c}; ``rc``: {c} or {$} likewise."""
        if config.state == "ra":
            return next_set("ab")
        if config.state == "rb":
            return next_set("b") if config.stack("acount") else next_set("c")
        if config.state == "rc":
            return next_set("c") if config.stack("bcount") else next_set(END)
        return None


class Dyck2(NextSymbolTask):
    """Dyck-2 words as next-symbol-set prediction (DCF). Length: n, the number of bracket pairs (2n symbols).

    The shape is uniform over the balanced words of 2n brackets (cycle lemma:
    a random arrangement of n openings and n + 1 closings, rotated after its
    first lowest point, loses its last closing); each pair is ( ) or [ ] with
    probability 1/2. Opening brackets may always come next; a closing one when
    it matches the innermost open bracket; the end when nothing is open.

    >>> Dyck2().solve("([])")
    ('{(,),[}', '{(,[,]}', '{(,),[}', '{(,[,$}')
    """

    name = "dyck2"
    input_alphabet = ("(", ")", "[", "]")
    output_alphabet = (next_set("()["), next_set("([]"), next_set("([" + END))
    machine = "dyck2"
    chomsky = "DCF"
    length = "n, the number of bracket pairs (2n symbols)"

    def draw(self, length: int, rng: np.random.Generator) -> str:
        """A uniform balanced shape with uniform bracket kinds."""
        steps = rng.permutation([1] * length + [-1] * (length + 1))
        heights = np.cumsum(steps)
        first_low = int(np.argmin(heights)) + 1
        shape = np.concatenate([steps[first_low:], steps[:first_low]])[:-1]
        word, open_ = [], []
        for step in shape:
            if step > 0:
                open_.append("(["[int(rng.integers(0, 2))])
                word.append(open_[-1])
            else:
                word.append(")" if open_.pop() == "(" else "]")
        return "".join(word)

    def solve(self, word: str) -> tuple[str, ...]:
        """The open brackets, the closing bracket of the innermost open one, or the end."""
        labels, open_ = [], []
        for symbol in word:
            if symbol in "([":
                open_.append(symbol)
            else:
                open_.pop()
            labels.append(self._label(open_[-1] if open_ else ""))
        return tuple(labels)

    @staticmethod
    def _label(top: str) -> str:
        return {"(": next_set("()["), "[": next_set("([]"), "": next_set("([" + END)}[top]

    def label_of(self, config: StackConfiguration) -> str | None:
        """The label of the top of the machine's stack ``open``."""
        return self._label(config.stack("open")[:1]) if config.state == "scan" else None


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        ParityCheck(),
        EvenPairs(),
        CycleNavigation(),
        ModularArithmetic(),
        StackManipulation(),
        ReverseString(),
        ModularArithmeticBrackets(),
        BinaryAddition(),
        DuplicateString(),
        AnBn(),
        AnBnCn(),
        Dyck2(),
    )
}
"""The registry: task name → task."""


def get_task(name: str) -> Task:
    """The task called ``name``.

    >>> get_task("parity").chomsky
    'R'
    """
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise UnknownTaskError(f"unknown task {name!r}; tasks are: {', '.join(TASKS)}") from None


# ---------------------------------------------------------------- the compiled side


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

    The machine is compiled once (:func:`compile_task`). ``engine="exact"``
    runs :func:`~turingrnn.engines.exact.run_exact` on each example; ``"float64"`` and
    ``"float32"`` run :func:`~turingrnn.engines.fast.run_float` on all of them in one
    batch, and a run flagged as diverged (``diverged_at``) answers ``None``.
    Per-position tasks record every readout and decode the configuration
    after each input symbol; the others decode the final configuration.
    """
    if engine not in ENGINES:
        raise TaskError(f"unknown engine {engine!r}; engines are: {', '.join(ENGINES)}")
    net = compile_task(task, construction, input_mode)
    words = [task.machine_word(ex) for ex in examples]
    keep = task.output_mode == "per_position"
    record = "steps" if keep else "final"
    if engine == "exact":
        traces = [run_exact(net, word, max_steps=max_steps, record=record) for word in words]
        return [task.decode(t.decode(trace=keep)) for t in traces]
    if not words:
        return []
    from ..engines.fast import run_float

    float_traces = cast(list[Trace], run_float(net, words, dtype=engine, max_steps=max_steps, record=record))
    return [None if t.diverged_at is not None else task.decode(t.decode(trace=keep)) for t in float_traces]


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


# ---------------------------------------------------------------- metrics


def per_token_accuracy(pred: Prediction, target: Sequence[str]) -> float:
    """The fraction of positions where ``pred`` matches ``target``.

    Positions run over the longer of the two, so a missing or extra label is
    wrong; two empty sequences score 1, and no answer (``None``) scores 0.

    >>> per_token_accuracy(("0", "1", "1"), ("0", "1", "0")), per_token_accuracy(("0",), ("0", "1"))
    (0.6666666666666666, 0.5)
    """
    if pred is None:
        return 0.0
    size = max(len(pred), len(target))
    if size == 0:
        return 1.0
    return sum(p == t for p, t in zip(pred, target, strict=False)) / size


def sequence_correct(pred: Prediction, target: Sequence[str]) -> bool:
    """Whether ``pred`` is exactly ``target`` (``None`` never is).

    >>> sequence_correct(["1", "0"], ("1", "0")), sequence_correct(None, ())
    (True, False)
    """
    return pred is not None and tuple(pred) == tuple(target)


def score(results_by_length: Mapping[int, Sequence[tuple[Prediction, Sequence[str]]]]) -> dict[str, object]:
    """Delétang's score, the accuracies per length, and the generalization horizon.

    Args:
        results_by_length: For each tested length, the ``(prediction, target)`` pairs.

    Returns:
        ``score``: the mean over lengths of the mean per-token accuracy (the
        paper's score when the lengths are the test lengths);
        ``per_token_accuracy`` and ``sequence_accuracy``: length → mean;
        ``horizon``: the largest tested length L such that every tested length
        <= L has sequence accuracy >= :data:`HORIZON_ACCURACY` (0 if none).

    >>> r = score({1: [(("1",), ("1",))], 2: [(("0",), ("1",)), (("1",), ("1",))], 3: [(("1",), ("1",))]})
    >>> r["score"], r["sequence_accuracy"], r["horizon"]
    (0.8333333333333334, {1: 1.0, 2: 0.5, 3: 1.0}, 1)
    """
    if not results_by_length:
        raise TaskError("score needs results for at least one length")
    token: dict[int, float] = {}
    sequence: dict[int, float] = {}
    for length in sorted(results_by_length):
        pairs = results_by_length[length]
        if not pairs:
            raise TaskError(f"score: length {length} has no results")
        token[length] = float(np.mean([per_token_accuracy(p, t) for p, t in pairs]))
        sequence[length] = float(np.mean([sequence_correct(p, t) for p, t in pairs]))
    horizon = 0
    for length, accuracy in sequence.items():
        if accuracy < HORIZON_ACCURACY:
            break
        horizon = length
    return {
        "score": float(np.mean(list(token.values()))),
        "per_token_accuracy": token,
        "sequence_accuracy": sequence,
        "horizon": horizon,
    }
