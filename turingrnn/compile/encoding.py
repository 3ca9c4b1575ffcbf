"""Cantor codes: stacks and half-tapes as exact rationals in [0, 1).

A stack ``w = w1 w2 ... wn`` (``w1`` on top) over an alphabet of ``k`` symbols
is held by one neuron as

    q = sum_i d(w_i) / B**i

with base ``B = 2k``. Two digit maps are used:

* **stack** codes give symbol ``a`` (its index in the alphabet) the odd digit
  ``2a + 1``; the empty stack is 0, and ``sigma(B q - 2j)`` is 1 exactly when
  the top symbol index is ``>= j`` (``j = 0``: the stack is not empty).
* **tape** codes (half-tapes of a Turing machine, blank first in the alphabet)
  give symbol ``a`` the even digit ``2a``, so the blank is digit 0 and an
  all-blank half-tape is exactly 0; ``sigma(B q - 2j + 1)`` is 1 exactly when
  the scanned symbol index is ``>= j``.

Every code is a rational with denominator dividing ``B**n``; the tail after the
first digit is always strictly below 1 so thresholds are exact.

>>> code = encode_word("ba", ("a", "b"), "stack")
>>> code, decode_word(code, ("a", "b"), "stack")
(Fraction(13, 16), 'ba')
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import DecodeError


def base_of(alphabet: tuple[str, ...]) -> int:
    """The base ``2k`` for an alphabet of ``k`` symbols."""
    return 2 * len(alphabet)


def digit_of(index: int, kind: str) -> int:
    """The digit of symbol number ``index``: ``2a + 1`` for stacks, ``2a`` for tapes."""
    if kind == "stack":
        return 2 * index + 1
    if kind == "tape":
        return 2 * index
    raise ValueError(f"code kind must be 'stack' or 'tape', got {kind!r}")


def encode_word(word: str, alphabet: tuple[str, ...], kind: str) -> Fraction:
    """The code of ``word`` (first symbol on top).

    Computed with integers (Horner's rule over the digits), one Fraction at the end.
    """
    base = base_of(alphabet)
    digit = {a: digit_of(i, kind) for i, a in enumerate(alphabet)}
    numerator = 0
    for symbol in word:
        numerator = numerator * base + digit[symbol]
    return Fraction(numerator, base ** len(word))


def decode_word(value: Fraction, alphabet: tuple[str, ...], kind: str, *, limit: int | None = None) -> str:
    """The word whose code is ``value``; :class:`DecodeError` if there is none.

    For tape codes trailing blanks are not returned (they are the same code):
    the shortest expansion of a code never ends in the digit 0.
    """
    base = base_of(alphabet)
    symbols = {digit_of(i, kind): a for i, a in enumerate(alphabet)}
    if not 0 <= value < 1:
        raise DecodeError(f"code value {float(value)!r} is outside [0, 1)")
    numerator, denominator = value.numerator, value.denominator
    # The code ends after n digits exactly when the denominator divides base**n.
    depth, power = 0, 1
    bound = limit if limit is not None else max(64, 4 * denominator.bit_length())
    while power % denominator:
        depth += 1
        power *= base
        if depth > bound:
            raise DecodeError(f"code value {float(value)!r} does not end within {bound} digits of base {base}")
    scaled = numerator * (power // denominator)  # value * base**depth, an integer
    digits = []
    for _ in range(depth):
        scaled, d = divmod(scaled, base)
        digits.append(d)
    out = []
    for position, d in enumerate(reversed(digits), start=1):
        if d not in symbols:
            raise DecodeError(
                f"code value {float(value)!r}: digit {d} at depth {position} is not a {kind} digit of base {base} "
                f"(allowed: {sorted(symbols)})"
            )
        out.append(symbols[d])
    return "".join(out)
