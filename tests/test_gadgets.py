"""The weight gadgets on their own, exactly, over every value they are meant for."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turingrnn.compile.encoding import encode_word
from turingrnn.compile.gadgets import StreamHook, conjunction, gated, stream_loader, threshold
from turingrnn.compile.network import Linear, NetworkBuilder

ALPHABET = ("_", "a", "b", "c")


def words(max_len: int = 4):
    return st.text(alphabet=st.sampled_from(ALPHABET), max_size=max_len)


@pytest.mark.parametrize("kind", ["stack", "tape"])
@settings(max_examples=150, deadline=None)
@given(word=words(6), j=st.integers(0, len(ALPHABET) - 1))
def test_threshold_reads_the_first_digit_exactly(kind: str, word: str, j: int) -> None:
    if kind == "tape" and j == 0:
        return  # a tape code has no "nonempty" test: the blank is digit 0
    b = NetworkBuilder()
    b.neuron("x", role="stack")
    offset = 2 * j if kind == "stack" else 2 * j - 1
    threshold(b, "t", Linear.of({"x": 1}), base=2 * len(ALPHABET), offset=offset)
    value = b.build(ticks_per_step=1).tick({"x": encode_word(word, ALPHABET, kind)})["t"]
    if kind == "stack":
        expected = 1 if word and ALPHABET.index(word[0]) >= j else 0
    else:
        expected = 1 if ALPHABET.index((word or "_")[0]) >= j else 0
    assert value == expected


@settings(max_examples=100, deadline=None)
@given(candidate=st.fractions(min_value=0, max_value=1), gate=st.sampled_from([0, 1]))
def test_gated_neuron_passes_its_candidate_only_when_the_gate_is_on(candidate: Fraction, gate: int) -> None:
    b = NetworkBuilder()
    b.neuron("c", role="copy")
    b.neuron("g", role="state", binary=True)
    gated(b, "out", Linear.of({"c": 1}), Linear.of({"g": 1}), role="gate")
    out = b.build(ticks_per_step=1).tick({"c": candidate, "g": Fraction(gate)})["out"]
    assert out == (candidate if gate else 0)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_conjunction_is_the_and_of_its_conditions(m: int) -> None:
    b = NetworkBuilder()
    names = [f"c{i}" for i in range(m)]
    for name in names:
        b.neuron(name, role="state", binary=True)
    conjunction(b, "and", [Linear.of({n: 1}) for n in names], role="rule")
    net = b.build(ticks_per_step=1)
    for bits in itertools.product([0, 1], repeat=m):
        assert net.tick({n: Fraction(v) for n, v in zip(names, bits, strict=True)})["and"] == all(bits)


@pytest.mark.parametrize("kind", ["stack", "tape"])
@settings(max_examples=60, deadline=None)
@given(word=words(6))
def test_stream_loader_hands_over_the_words_code_once(kind: str, word: str) -> None:
    hook = StreamHook(stack="in")
    b = NetworkBuilder()
    stream_loader(b, hook, ALPHABET, kind)
    net = b.build(ticks_per_step=1)
    values: dict[str, Fraction] = {}
    hands = []
    for t in range(len(word) + 4):
        line = f"in:{word[t]}" if t < len(word) else ("in:end" if t == len(word) else None)
        values = net.tick(values, {line: 1} if line else {})
        hands.append(values[hook.hand])
    arrival = len(word) + hook.latency - 1  # index into hands (tick t + 1)
    assert hands[arrival] == encode_word(word, ALPHABET, kind)
    assert all(h == 0 for i, h in enumerate(hands) if i != arrival)
