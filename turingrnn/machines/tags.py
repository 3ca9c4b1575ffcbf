"""Tag systems and their encoding for Rogozhin's universal Turing machine UTM(4,6).

A *tag system* with deletion number ``m`` rewrites a word of letters. One step:

1. if the word has fewer than ``m`` letters, stop;
2. remove the first ``m`` letters; call the first removed letter ``x``;
3. if ``x`` is a halting letter, stop;
4. append the production ``P(x)``.

This is the convention of Rogozhin's machine (``constructions/tm/rogozhin_4_6.toml``):
when the STOP letter comes first, it is removed together with the letter after
it, and what is left is the result.

:func:`rogozhin_tape` writes a 2-tag system of Rogozhin's form as a tape of
that machine; :func:`decode_rogozhin` reads the result back from the halted
tape. The paper's worked example, P(a1) = a1 a1, P(a2) = STOP, on a1 a1 a2:

>>> system = TagSystem(letters=("a1", "a2"), productions={"a1": ("a1", "a1")}, halt={"a2"})
>>> run_tag(system, ("a1", "a1", "a2")).word
('a1',)
>>> tape, head = rogozhin_tape(system, ("a1", "a1", "a2"))
>>> tape, head
('<bb1b1bbb1c1c11111', 9)
>>> from turingrnn.machines.parsing import load_machine
>>> result = load_machine("rogozhin_4_6").run(tape, head=head)
>>> result.steps, decode_rogozhin_codes(result.tape), decode_rogozhin(system, result.tape)
(518, '1c11111', ('a1',))
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import InputError, SpecError

ROGOZHIN_BLANK = "0"
"""The blank symbol of Rogozhin's UTM(4,6)."""


def _show(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


@dataclass(frozen=True, kw_only=True)
class TagSystem:
    """A tag system: letters, one production per non-halting letter, deletion number ``m``.

    Invalid systems are never created: every problem found is reported at once
    in one :class:`~turingrnn.errors.SpecError`.

    Attributes:
        letters: The alphabet, in order (for Rogozhin's encoding the non-halting
            letters in this order are a[1] .. a[n]). Letters are non-empty
            strings without whitespace; a word is a sequence of letters, so
            with one-character letters a plain string is a word too (and
            ``letters="abH"`` lists three letters).
        productions: Letter -> the word it appends (a sequence of letters). Every non-halting letter has
            one (possibly empty); halting letters have none.
        halt: The halting letters, or one halting letter as a string (may be
            empty: then only a word shorter than ``m`` stops the system).
        m: The deletion number, at least 1.

    >>> TagSystem(letters=("a", "H"), productions={"a": ("a", "H")}, halt={"H"}).production("a")
    ('a', 'H')
    """

    letters: tuple[str, ...]
    productions: Mapping[str, tuple[str, ...]]
    halt: frozenset[str] = frozenset()
    m: int = 2

    def __post_init__(self) -> None:
        problems: list[str] = []
        letters = tuple(self.letters) if isinstance(self.letters, Iterable) else ()
        if not isinstance(self.letters, Iterable):
            problems.append(f"letters must be a sequence of strings, got {self.letters!r}")
        seen: dict[str, None] = {}  # the valid letters, in order
        for a in letters:
            if not isinstance(a, str) or not a or any(c.isspace() for c in a):
                problems.append(f"letter {a!r} is not allowed: letters are non-empty strings without whitespace")
            elif a in seen:
                problems.append(f"letter {a!r} is listed twice in letters")
            else:
                seen[a] = None
        if not letters and not problems:
            problems.append("letters is empty: a tag system needs at least one letter")
        if isinstance(self.halt, str):
            halt = frozenset([self.halt])
        elif isinstance(self.halt, Iterable):
            halt = frozenset(self.halt)
        else:
            problems.append(f"halt must be a set of letters or one letter, got {self.halt!r}")
            halt = frozenset()
        for a in sorted(halt - seen.keys(), key=str):
            problems.append(f"halting letter {a!r} is not a letter; letters are: {_show(letters)}")
        if not isinstance(self.m, int) or isinstance(self.m, bool) or self.m < 1:
            problems.append(f"deletion number m must be a whole number >= 1, got {self.m!r}")
        if not isinstance(self.productions, Mapping):
            problems.append(f"productions must be a mapping letter -> word, got {self.productions!r}")
            raw: Mapping[str, Sequence[str]] = {}
        else:
            raw = self.productions
        productions: dict[str, tuple[str, ...]] = {}
        for a, word in raw.items():
            if a not in seen:
                problems.append(f"production for {a!r}: {a!r} is not a letter; letters are: {_show(letters)}")
                continue
            if a in halt:
                problems.append(f"production for {a!r}: {a!r} is a halting letter, and halting letters have none")
                continue
            if not isinstance(word, Iterable):
                problems.append(f"production for {a!r} must be a sequence of letters, got {word!r}")
                continue
            word = tuple(word)
            for b in word:
                if not isinstance(b, str) or b not in seen:
                    problems.append(
                        f"production for {a!r} uses {b!r}, which is not a letter; letters are: {_show(letters)}"
                    )
            productions[a] = word
        for a in seen:
            if a not in halt and a not in raw:
                problems.append(f"letter {a!r} has no production; give one (possibly empty) or list it in halt")
        if problems:
            raise SpecError(problems)
        object.__setattr__(self, "letters", letters)
        object.__setattr__(self, "halt", halt)
        ordered = {a: productions[a] for a in seen if a in productions}
        object.__setattr__(self, "productions", types.MappingProxyType(ordered))

    def __hash__(self) -> int:
        return hash((self.letters, tuple(self.productions.items()), self.halt, self.m))

    def production(self, letter: str) -> tuple[str, ...]:
        """The word appended after ``letter`` is read; raise :class:`InputError` for a halting or unknown letter."""
        if letter not in self.productions:
            why = "a halting letter" if letter in self.halt else "not a letter of the system"
            raise InputError(f"{letter!r} has no production: it is {why}")
        return self.productions[letter]

    def check_word(self, word: Sequence[str]) -> tuple[str, ...]:
        """``word`` as a tuple; raise :class:`InputError` if it uses a letter the system lacks."""
        letters = set(self.letters)
        for i, a in enumerate(word):
            if a not in letters:
                raise InputError(
                    f"letter {a!r} at position {i} of the word is not a letter of the system; "
                    f"letters are: {_show(self.letters)}"
                )
        return tuple(word)


@dataclass(frozen=True)
class TagRun:
    """The outcome of :func:`run_tag`.

    Attributes:
        word: The final word.
        steps: How many times ``m`` letters were removed (the step that removes
            a halting letter counts; a stop on a short word does not).
        reason: ``"halting letter"``, ``"short word"`` (fewer than ``m``
            letters) or ``"step limit"``.
    """

    word: tuple[str, ...]
    steps: int
    reason: str

    @property
    def halted(self) -> bool:
        """Whether the system stopped by itself (not by the step limit)."""
        return self.reason != "step limit"


def run_tag(system: TagSystem, word: Sequence[str], max_steps: int = 100_000) -> TagRun:
    """Run ``system`` on ``word`` until it stops or ``max_steps`` steps were taken.

    A step follows the module's convention: stop on a word shorter than ``m``;
    otherwise remove ``m`` letters, stop if the first of them is a halting
    letter, else append its production. Reaching the step limit is a result.

    Args:
        system: The tag system.
        word: The initial word, a sequence of letters.
        max_steps: Step limit, a whole number ``>= 0``.

    Returns:
        The final word, the step count and why the run ended.

    Raises:
        InputError: ``word`` uses a letter the system lacks, or ``max_steps`` is invalid.

    >>> s = TagSystem(letters="abH", productions={"a": "bH", "b": "a"}, halt="H")
    >>> run_tag(s, "aab")  # aab -> bbH -> Ha -> (H read: stop)
    TagRun(word=(), steps=3, reason='halting letter')
    >>> run_tag(s, "ab")  # ab -> bH -> a
    TagRun(word=('a',), steps=2, reason='short word')
    """
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 0:
        raise InputError(f"max_steps must be a whole number >= 0, got {max_steps!r}")
    current = list(system.check_word(word))
    start = 0  # the word is current[start:]; removing letters only moves start
    steps = 0
    while True:
        if len(current) - start < system.m:
            return TagRun(tuple(current[start:]), steps, "short word")
        if steps == max_steps:
            return TagRun(tuple(current[start:]), steps, "step limit")
        first = current[start]
        start += system.m
        steps += 1
        if first in system.halt:
            return TagRun(tuple(current[start:]), steps, "halting letter")
        current.extend(system.productions[first])
        if start > len(current) // 2:
            del current[:start]
            start = 0


# ---------------------------------------------------------------- Rogozhin's UTM(4,6)


def _rogozhin_codes(system: TagSystem) -> tuple[tuple[str, ...], dict[str, int]]:
    """Rogozhin's letter order a[1..n+1] and each letter's code length; check the required form."""
    problems = []
    if system.m != 2:
        problems.append(f"Rogozhin's machine simulates 2-tag systems; this system has m = {system.m}")
    if len(system.halt) != 1:
        problems.append(
            f"Rogozhin's machine needs exactly one halting letter (STOP), got {len(system.halt)}: "
            f"{_show(sorted(system.halt))}"
        )
    order = tuple(a for a in system.letters if a not in system.halt)
    if not order:
        problems.append("Rogozhin's machine needs at least one non-halting letter")
    if problems:
        raise SpecError(problems)
    last = order[-1]
    for a in order:
        p = system.productions[a]
        if p[:2] != (last, last):
            problems.append(f"P({a}) = {' '.join(p) or '(empty)'} must start with a[n] a[n] = {last} {last}")
        elif a == last and len(p) != 2:
            problems.append(f"P({a}) = {' '.join(p)}: a[n] = {last!r} must have exactly P(a[n]) = {last} {last}")
        elif a != last and len(p) == 2:
            problems.append(
                f"P({a}) = {' '.join(p)}: only a[n] = {last!r} may have P = a[n] a[n]; "
                f"{a!r} needs at least one more letter"
            )
    if problems:
        raise SpecError(problems)
    lengths: dict[str, int] = {}
    total = 0
    for a in order:
        lengths[a] = 1 + 2 * total
        total += len(system.productions[a])
    (stop,) = system.halt
    lengths[stop] = 1 + 2 * total
    return order + (stop,), lengths


def rogozhin_codes(system: TagSystem) -> dict[str, str]:
    """Each letter's code on Rogozhin's tape: ``1`` repeated 1 + 2 * (total length of earlier productions).

    Raises:
        SpecError: ``system`` does not have the form Rogozhin's machine simulates
            (see :func:`rogozhin_tape`).

    >>> s = TagSystem(letters=("a1", "a2"), productions={"a1": ("a1", "a1")}, halt={"a2"})
    >>> rogozhin_codes(s)
    {'a1': '1', 'a2': '11111'}
    """
    order, lengths = _rogozhin_codes(system)
    return {a: "1" * lengths[a] for a in order}


def rogozhin_tape(system: TagSystem, word: Sequence[str]) -> tuple[str, int]:
    """The input tape and head position of Rogozhin's UTM(4,6) simulating ``system`` on ``word``.

    The required form: ``m = 2``; exactly one halting letter, STOP = a[n+1];
    the non-halting letters, in the order of ``system.letters``, are
    a[1] .. a[n]; every P(a[i]) is a[n] a[n] B[i] with B[i] empty exactly for
    i = n; the word has at least 2 letters.

    The tape is ``<b`` (the STOP production), then P(a[n]) .. P(a[1]), then
    one ``b``, then the word as letter codes (see :func:`rogozhin_codes`)
    separated by ``c``. P(a[i]) = a[n] a[n] B[i] is written ``b1``, then
    ``b`` code ``b`` for each letter of B[i] from last to first, then ``b``
    code(a[n]) ``b``, then ``b`` and |code(a[n])| - |code(a[i])| ones.

    Args:
        system: A 2-tag system of the required form.
        word: The initial word.

    Returns:
        ``(tape, head)``: the tape as a string over ``0 1 b < > c`` and the
        index of the head, on the first ``1`` of the word; start in state ``1``.

    Raises:
        SpecError: The system or the word length does not have the required form.
        InputError: The word uses a letter the system lacks.
    """
    order, lengths = _rogozhin_codes(system)
    word = system.check_word(word)
    if len(word) < 2:
        raise SpecError(f"Rogozhin's machine needs an initial word of at least 2 letters, got {word!r}")
    last = order[-2]
    parts = ["<b"]
    for a in reversed(order[:-1]):
        parts.append("b1")
        parts += [f"b{'1' * lengths[x]}b" for x in reversed(system.productions[a][2:])]
        parts.append(f"b{'1' * lengths[last]}b")
        parts.append("b" + "1" * (lengths[last] - lengths[a]))
    parts.append("b")
    head = len("".join(parts))
    parts.append("c".join("1" * lengths[a] for a in word))
    return "".join(parts), head


def decode_rogozhin_codes(tape: str) -> str:
    """The result part of a halted Rogozhin tape: everything after the leftmost ``c``.

    Trailing blanks are ignored. The result is letter codes separated by
    ``c``; its last code is STOP's (see :func:`decode_rogozhin`).

    Raises:
        InputError: The tape has no ``c``, or the part after it is not made of ``1`` and ``c``.

    >>> decode_rogozhin_codes("<>>1>1>>>11111111111c1c11111")
    '1c11111'
    """
    first = tape.find("c")
    if first < 0:
        raise InputError(f"tape {tape!r} has no 'c', so it holds no result word")
    codes = tape[first + 1 :].rstrip(ROGOZHIN_BLANK)
    bad = sorted(set(codes) - {"1", "c"})
    if bad or not codes:
        raise InputError(
            f"the result part {codes!r} of the tape must be runs of '1' separated by 'c'"
            + (f"; found {_show(bad)}" if bad else "")
        )
    return codes


def decode_rogozhin(system: TagSystem, tape: str) -> tuple[str, ...]:
    """The final word of ``system`` read from a halted Rogozhin tape.

    The machine leaves the final word followed by one extra STOP letter (a
    leftover of its algorithm). This returns the word without that letter, so
    it equals ``run_tag(system, word).word``.

    Raises:
        SpecError: ``system`` does not have Rogozhin's form.
        InputError: The tape's result part is not codes of ``system`` ending in STOP.
    """
    order, lengths = _rogozhin_codes(system)
    by_length = {n: a for a, n in lengths.items()}
    letters = []
    for i, run in enumerate(decode_rogozhin_codes(tape).split("c")):
        if len(run) not in by_length:
            raise InputError(
                f"code {i} of the result has {len(run)} ones, which is no letter's code; "
                f"codes: " + ", ".join(f"{a}={n}" for a, n in lengths.items())
            )
        letters.append(by_length[len(run)])
    if letters[-1] != order[-1]:
        raise InputError(
            f"the result word {' '.join(letters)} does not end with STOP {order[-1]!r}; "
            "was the tape taken from a halted run?"
        )
    return tuple(letters[:-1])
