"""The bundled stack machines do their tasks.

Each machine is compared with a plain-Python reference of its task on every word
over its input alphabet up to a length bound, and with hypothesis on longer words.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import turingrnn as tr

# ---------------------------------------------------------------- references


def has_even_ones(w: str) -> bool:
    return w.count("1") % 2 == 0


def is_balanced(w: str, pairs: str = "()[]") -> bool:
    """Whether ``w`` is a correctly nested word over the bracket pairs ``pairs``."""
    closer = dict(zip(pairs[::2], pairs[1::2], strict=True))
    expected: list[str] = []
    for c in w:
        if c in closer:
            expected.append(closer[c])
        elif not expected or expected.pop() != c:
            return False
    return not expected


def is_anbn(w: str) -> bool:
    n = len(w) // 2
    return w == "a" * n + "b" * n


def is_anbncn(w: str) -> bool:
    n = len(w) // 3
    return w == "a" * n + "b" * n + "c" * n


def is_marked_palindrome(w: str) -> bool:
    left, marker, right = w.partition("#")
    return marker == "#" and left == right[::-1]


def reverse(w: str) -> str:
    return w[::-1]


def duplicate(w: str) -> str:
    return w + w


def lsb_first_sum(word: str) -> str | None:
    """The sum of ``x+y`` (bits least significant first), or ``None`` for a malformed word.

    The sum has max(len(x), len(y)) bits, one more when the top column carries;
    an empty operand is 0 with no bits.
    """
    if word.count("+") != 1:
        return None
    x, _, y = word.partition("+")
    total = sum(int(v[::-1] or "0", 2) for v in (x, y))
    width = max(len(x), len(y), total.bit_length())
    return "".join(str(total >> i & 1) for i in range(width))


def test_the_references_agree_with_hand_worked_cases() -> None:
    assert is_balanced("([])[]") and not is_balanced("([)]") and not is_balanced("(")
    assert is_balanced("(())", "()") and not is_balanced("())(", "()")
    assert is_marked_palindrome("ab#ba") and not is_marked_palindrome("ab#ab") and not is_marked_palindrome("a#a#a")
    sums = {"011+1": "111", "1+1": "01", "10+0": "10", "11+1": "001", "+": "", "1": None, "1+1+1": None}
    assert {w: lsb_first_sum(w) for w in sums} == sums


# ---------------------------------------------------------------- helpers


@functools.cache
def machine(name: str) -> tr.StackMachine:
    return tr.load_machine(name)


def words(alphabet: str, max_len: int) -> Iterator[str]:
    """Every word over ``alphabet`` of length 0 to ``max_len``."""
    for n in range(max_len + 1):
        for letters in product(alphabet, repeat=n):
            yield "".join(letters)


def run(name: str, word: str) -> tr.RunResult:
    result = machine(name).run(word)
    assert result.halted, f"{name} did not halt on {word!r}"
    return result


def assert_decides(name: str, word: str, member: Callable[[str], bool]) -> None:
    expected = tr.Status.ACCEPTED if member(word) else tr.Status.REJECTED
    assert run(name, word).status is expected, f"{name} on {word!r}"


def assert_outputs(name: str, word: str, expected: str | None) -> None:
    """``expected`` on stack ``out`` and every other stack empty, or a rejection for ``None``."""
    result = run(name, word)
    if expected is None:
        assert result.status is tr.Status.REJECTED, f"{name} on {word!r}"
        return
    assert result.status is tr.Status.ACCEPTED, f"{name} on {word!r}"
    assert result.stacks == {n: expected if n == "out" else "" for n in result.stacks}, f"{name} on {word!r}"


# ---------------------------------------------------------------- exhaustive checks on short words

LANGUAGES = {  # recognizer: (input alphabet, longest word tried, the language as a predicate)
    "parity": ("01", 10, has_even_ones),
    "dyck1": ("()", 12, functools.partial(is_balanced, pairs="()")),
    "dyck2": ("()[]", 8, is_balanced),
    "anbn": ("ab", 12, is_anbn),
    "anbncn": ("abc", 10, is_anbncn),
    "palindrome": ("ab#", 9, is_marked_palindrome),
}

TASKS = {  # transducer: (input alphabet, longest word tried, the output on `out`, None to reject)
    "reverse_string": ("01", 10, reverse),
    "duplicate_string": ("01", 10, duplicate),
    "binary_addition": ("01+", 8, lsb_first_sum),
}


@pytest.mark.parametrize("name", LANGUAGES)
def test_recognizer_accepts_exactly_the_words_of_its_language_up_to_the_length_bound(name: str) -> None:
    alphabet, max_len, member = LANGUAGES[name]
    for w in words(alphabet, max_len):
        assert_decides(name, w, member)


@pytest.mark.parametrize("name", TASKS)
def test_transducer_leaves_exactly_the_reference_output_on_out_up_to_the_length_bound(name: str) -> None:
    alphabet, max_len, task = TASKS[name]
    for w in words(alphabet, max_len):
        assert_outputs(name, w, task(w))


def test_parity_leaves_the_parity_bit_on_its_only_stack() -> None:
    for w in words("01", 10):
        assert run("parity", w).stacks == {"in": str(w.count("1") % 2)}


def test_binary_addition_adds_all_operands_of_up_to_five_bits() -> None:
    operands = list(words("01", 5))
    for x, y in product(operands, operands):
        assert_outputs("binary_addition", f"{x}+{y}", lsb_first_sum(f"{x}+{y}"))


@pytest.mark.parametrize(("name", "stacks"), [("parity", 1), ("anbncn", 2), ("binary_addition", 2)])
def test_machines_promised_to_be_small_use_exactly_that_many_stacks(name: str, stacks: int) -> None:
    assert len(machine(name).stacks) == stacks


# ---------------------------------------------------------------- longer random words

balanced_words = st.recursive(
    st.just(""),
    lambda inner: st.builds(lambda pair, a, b: pair[0] + a + pair[1] + b, st.sampled_from(["()", "[]"]), inner, inner),
    max_leaves=40,
)


@st.composite
def nearly_balanced_words(draw: st.DrawFn) -> str:
    """Balanced words, and balanced words with one symbol replaced (mostly unbalanced)."""
    w = draw(balanced_words)
    if w and draw(st.booleans()):
        i = draw(st.integers(0, len(w) - 1))
        w = w[:i] + draw(st.sampled_from("()[]")) + w[i + 1 :]
    return w


@settings(max_examples=50, deadline=None)
@given(nearly_balanced_words())
def test_dyck2_decides_long_nearly_balanced_words(w: str) -> None:
    assert_decides("dyck2", w, is_balanced)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 20), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.booleans())
def test_anbncn_decides_long_words_with_blocks_of_nearly_equal_length(
    n: int, da: int, db: int, dc: int, shuffle_tail: bool
) -> None:
    w = "a" * (n + da) + "b" * (n + db) + "c" * (n + dc)
    if shuffle_tail:
        w = w[:-2] + w[-1:-3:-1]
    assert_decides("anbncn", w, is_anbncn)


@settings(max_examples=50, deadline=None)
@given(st.text("ab", max_size=30), st.text("ab", max_size=2))
def test_palindrome_decides_long_marked_words(w: str, noise: str) -> None:
    assert_decides("palindrome", w + "#" + reverse(w) + noise, is_marked_palindrome)


@settings(max_examples=50, deadline=None)
@given(st.text("01", max_size=16), st.text("01", max_size=16))
def test_binary_addition_adds_long_operands(x: str, y: str) -> None:
    assert_outputs("binary_addition", f"{x}+{y}", lsb_first_sum(f"{x}+{y}"))
