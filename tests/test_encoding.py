"""encoding: Cantor codes of stacks and half-tapes, their digits, thresholds, round trip and decode errors."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turingrnn.compile.encoding import base_of, decode_word, digit_of, encode_word
from turingrnn.compile.network import sigma
from turingrnn.errors import DecodeError

KINDS = ("stack", "tape")

# Single characters: encode_word and decode_word treat a word as a string of one-character symbols.
alphabets = st.lists(st.sampled_from("_01abcxyz#()[]"), min_size=1, max_size=7, unique=True).map(tuple)


def words(alphabet: tuple[str, ...], max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(alphabet=st.sampled_from(alphabet), max_size=max_size)


# ---------------------------------------------------------------- digits and bases


def test_base_is_twice_the_alphabet_size() -> None:
    assert [base_of(tuple("abcdefg"[:k])) for k in range(1, 5)] == [2, 4, 6, 8]


def test_stack_digits_are_odd_and_tape_digits_even() -> None:
    assert [digit_of(i, "stack") for i in range(4)] == [1, 3, 5, 7]
    assert [digit_of(i, "tape") for i in range(4)] == [0, 2, 4, 6]


@pytest.mark.parametrize("kind", ["Stack", "queue", "", None])
def test_an_unknown_code_kind_raises_naming_it(kind: object) -> None:
    with pytest.raises(ValueError, match=rf"code kind must be 'stack' or 'tape', got {kind!r}"):
        digit_of(0, kind)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="code kind must be"):
        encode_word("a", ("a",), kind)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="code kind must be"):
        decode_word(Fraction(0), ("a",), kind)  # type: ignore[arg-type]


# ---------------------------------------------------------------- encode_word


def test_worked_stack_codes() -> None:
    # base 4, digits a=1, b=3: "ba" = 3/4 + 1/16, first symbol on top (the most significant digit)
    assert encode_word("ba", ("a", "b"), "stack") == Fraction(13, 16)
    assert encode_word("ab", ("a", "b"), "stack") == Fraction(7, 16)
    assert encode_word("a", ("a", "b"), "stack") == Fraction(1, 4)
    assert encode_word("", ("a", "b"), "stack") == 0


def test_worked_tape_codes() -> None:
    # base 6, digits _=0, 1=2, 0=4
    assert encode_word("1", ("_", "1", "0"), "tape") == Fraction(2, 6)
    assert encode_word("01", ("_", "1", "0"), "tape") == Fraction(4, 6) + Fraction(2, 36)
    assert encode_word("___", ("_", "1", "0"), "tape") == 0


def test_codes_are_exact_fractions_whose_denominator_divides_a_power_of_the_base() -> None:
    code = encode_word("abcabc", ("a", "b", "c"), "stack")
    assert isinstance(code, Fraction)
    assert (6**6) % code.denominator == 0
    assert code == sum(Fraction(digit_of("abc".index(s), "stack"), 6**i) for i, s in enumerate("abcabc", 1))


def test_a_symbol_outside_the_alphabet_raises_naming_it() -> None:
    with pytest.raises(KeyError, match="'z'"):
        encode_word("abz", ("a", "b"), "stack")


def test_trailing_blanks_do_not_change_a_tape_code() -> None:
    alphabet = ("_", "1")
    assert encode_word("1_1__", alphabet, "tape") == encode_word("1_1", alphabet, "tape")
    assert encode_word("1_1__", alphabet, "stack") != encode_word("1_1", alphabet, "stack")


# ---------------------------------------------------------------- decode_word and its errors


def test_decoding_drops_trailing_blanks_of_a_tape() -> None:
    assert decode_word(encode_word("1_1__", ("_", "1"), "tape"), ("_", "1"), "tape") == "1_1"
    assert decode_word(Fraction(0), ("_", "1"), "tape") == ""


@pytest.mark.parametrize("value", [Fraction(-1, 4), Fraction(1), Fraction(5, 4)])
def test_a_value_outside_the_unit_interval_raises(value: Fraction) -> None:
    with pytest.raises(DecodeError, match=rf"code value {float(value)!r} is outside \[0, 1\)"):
        decode_word(value, ("a", "b"), "stack")


def test_a_value_that_never_ends_in_the_base_raises() -> None:
    with pytest.raises(DecodeError, match=r"code value 0\.333.* does not end within \d+ digits of base 4"):
        decode_word(Fraction(1, 3), ("a", "b"), "stack")


def test_the_digit_limit_is_respected() -> None:
    code = encode_word("aaaa", ("a", "b"), "stack")
    assert decode_word(code, ("a", "b"), "stack", limit=4) == "aaaa"
    with pytest.raises(DecodeError, match="does not end within 3 digits of base 4"):
        decode_word(code, ("a", "b"), "stack", limit=3)


def test_a_digit_of_the_other_kind_raises_naming_digit_and_depth() -> None:
    # 3/4 + 2/16: digit 3 (b) then the even digit 2, which no stack symbol has
    with pytest.raises(DecodeError, match=r"digit 2 at depth 2 is not a stack digit of base 4 \(allowed: \[1, 3\]\)"):
        decode_word(Fraction(3, 4) + Fraction(2, 16), ("a", "b"), "stack")
    with pytest.raises(DecodeError, match=r"digit 1 at depth 1 is not a tape digit of base 4 \(allowed: \[0, 2\]\)"):
        decode_word(Fraction(1, 4), ("_", "1"), "tape")


def test_a_digit_beyond_the_alphabet_raises() -> None:
    # base 4: the tape digits are 0 and 2; the digit 3 is too large for a two-symbol tape (and odd)
    with pytest.raises(DecodeError, match=r"digit 3 at depth 1 is not a tape digit"):
        decode_word(Fraction(3, 4), ("_", "1"), "tape")


def test_decode_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        decode_word(Fraction(1, 3), ("a", "b"), "stack")


# ---------------------------------------------------------------- laws


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_property_decode_inverts_encode_for_stack_codes(data: st.DataObject) -> None:
    alphabet = data.draw(alphabets)
    word = data.draw(words(alphabet))
    code = encode_word(word, alphabet, "stack")
    assert decode_word(code, alphabet, "stack") == word
    assert 0 <= code < 1


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_property_decode_inverts_encode_for_tape_codes_up_to_trailing_blanks(data: st.DataObject) -> None:
    alphabet = data.draw(alphabets)
    word = data.draw(words(alphabet))
    blank = alphabet[0]
    code = encode_word(word, alphabet, "tape")
    assert decode_word(code, alphabet, "tape") == word.rstrip(blank)
    if not word.endswith(blank):
        assert decode_word(code, alphabet, "tape") == word
    assert 0 <= code <= Fraction(base_of(alphabet) - 2, base_of(alphabet) - 1)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_property_distinct_words_have_distinct_codes(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    alphabet = data.draw(alphabets)
    u, v = data.draw(words(alphabet, 6)), data.draw(words(alphabet, 6))
    if kind == "tape":
        u, v = u.rstrip(alphabet[0]), v.rstrip(alphabet[0])
    assert (encode_word(u, alphabet, kind) == encode_word(v, alphabet, kind)) == (u == v)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_property_thresholds_read_the_top_symbol(data: st.DataObject) -> None:
    # sigma(B q - 2j) is 1 iff a stack's top index is >= j (j = 0: not empty);
    # sigma(B q - 2j + 1) is 1 iff a tape's scanned index is >= j.
    kind = data.draw(st.sampled_from(KINDS))
    alphabet = data.draw(alphabets)
    word = data.draw(words(alphabet, 8))
    base = base_of(alphabet)
    q = encode_word(word, alphabet, kind)
    for j in range(len(alphabet)):
        if kind == "stack":
            top = alphabet.index(word[0]) if word else -1
            assert sigma(base * q - 2 * j) == (1 if top >= j else 0)
        else:
            scanned = alphabet.index(word[0]) if word else 0
            assert sigma(base * q - 2 * j + 1) == (1 if scanned >= j else 0)
