"""Languages as next-symbol-set prediction (Gers & Schmidhuber): a^n b^n, a^n b^n c^n and Dyck-2.

After every input symbol the label is the set of symbols that may come next,
written like ``"{a,b}"`` (:func:`next_set`), with :data:`~.task_base.END` for
the end of the word (output mode ``"per_position"``). The label is read off
the machine's configuration right after it consumed each symbol, so decoding
needs a run that kept every configuration.
"""

from __future__ import annotations

import numpy as np

from ..errors import TaskError
from ..machines.interpreter import RunResult, StackConfiguration
from .task_base import END, Task


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
