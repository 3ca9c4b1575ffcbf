"""Tag systems (turingrnn.machines.tags) and Rogozhin's UTM(4,6) simulating them.

The UTM is the bundled ``constructions/tm/rogozhin_4_6.toml``; every system run
on it here is checked against :func:`run_tag`, the reference run.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import turingrnn as tr
from turingrnn.machines.fast_interpreter import run_tm_fast
from turingrnn.machines.tags import (
    TagRun,
    TagSystem,
    decode_rogozhin,
    decode_rogozhin_codes,
    rogozhin_codes,
    rogozhin_tape,
    run_tag,
)

UTM = tr.load_machine("rogozhin_4_6")

# The paper's worked example: P(a1) = a1 a1, P(a2) = STOP, word a1 a1 a2.
WORKED = TagSystem(letters=("a1", "a2"), productions={"a1": ("a1", "a1")}, halt={"a2"})
WORKED_WORD = ("a1", "a1", "a2")

# The larger example of the UTM's documented implementation (n = 3, STOP = a4).
LARGER = TagSystem(
    letters=("a1", "a2", "a3", "a4"),
    productions={"a1": ("a3", "a3", "a2", "a1", "a4"), "a2": ("a3", "a3", "a1"), "a3": ("a3", "a3")},
    halt={"a4"},
)
LARGER_WORD = ("a2", "a1", "a1")

# A system of our own: n = 3 with a[n] = z; its final word contains STOP itself.
OWN = TagSystem(
    letters=("x", "y", "z", "H"),
    productions={"x": ("z", "z", "y", "y"), "y": ("z", "z", "H"), "z": ("z", "z")},
    halt="H",
)
OWN_WORD = ("x", "x", "y", "x")


def simulate(system: TagSystem, word, max_steps: int = 10_000_000) -> tuple[tr.RunResult, tuple[str, ...]]:
    """Run the UTM on the encoding of ``system`` and ``word``; return the run and the decoded word."""
    tape, head = rogozhin_tape(system, word)
    result = run_tm_fast(UTM, tape, head=head, max_steps=max_steps)
    assert result.status is tr.Status.HALTED, result
    assert (result.state, result.head, result.tape[0]) == ("3", 0, "<")  # halts on the leftmost '<'
    return result, decode_rogozhin(system, result.tape)


# ---------------------------------------------------------------- the worked example


def test_worked_example_encoding() -> None:
    tape, head = rogozhin_tape(WORKED, WORKED_WORD)
    assert tape == "<b" + "b1b1bbb1c1c11111"
    assert head == tape.rindex("b") + 1 == 9
    assert tape[head] == "1"
    assert rogozhin_codes(WORKED) == {"a1": "1", "a2": "11111"}


def test_worked_example_runs_518_steps_on_the_reference_interpreter() -> None:
    tape, head = rogozhin_tape(WORKED, WORKED_WORD)
    result = UTM.run(tape, head=head)
    assert (result.status.value, result.steps, result.state, result.head) == ("halted", 518, "3", 0)
    assert result.reason == "undefined transition"  # (3, '<') is the HALT cell
    assert decode_rogozhin_codes(result.tape) == "1c11111"
    assert decode_rogozhin(WORKED, result.tape) == ("a1",)
    assert run_tag(WORKED, WORKED_WORD) == TagRun(("a1",), 2, "halting letter")


def test_every_rule_of_the_utm_is_used_by_the_worked_example() -> None:
    tape, head = rogozhin_tape(WORKED, WORKED_WORD)
    trace = UTM.run(tape, head=head, trace=True).trace
    used = {(c.state, c.tape[c.head]) for c in trace[:-1]}
    assert used == {(r.state, r.read) for r in UTM.rules} | {("3", "<")}
    assert len(UTM.rules) == 22  # 24 cells less the HALT cell (3, <) and the unused (4, <)


# ---------------------------------------------------------------- larger systems


def test_larger_example_encoding_and_result() -> None:
    assert rogozhin_codes(LARGER) == {"a1": "1", "a2": "1" * 11, "a3": "1" * 17, "a4": "1" * 21}
    tape, head = rogozhin_tape(LARGER, LARGER_WORD)
    assert tape == (
        "<b"
        "b1b11111111111111111bbb1b1bb11111111111111111bb111111b1b111111111111111111111bb1bb11111111111bb"
        "11111111111111111bb1111111111111111b11111111111c1c1"
    )
    result, word = simulate(LARGER, LARGER_WORD)
    assert result.steps == 124768
    assert decode_rogozhin_codes(result.tape) == "c".join(["1" * 17] * 5 + ["1", "1" * 21])
    assert word == ("a3",) * 5 + ("a1",) == run_tag(LARGER, LARGER_WORD).word


def test_larger_example_tag_derivation() -> None:
    words = [run_tag(LARGER, LARGER_WORD, max_steps=k).word for k in range(7)]
    assert [" ".join(w) for w in words] == [
        "a2 a1 a1",
        "a1 a3 a3 a1",
        "a3 a1 a3 a3 a2 a1 a4",
        "a3 a3 a2 a1 a4 a3 a3",
        "a2 a1 a4 a3 a3 a3 a3",
        "a4 a3 a3 a3 a3 a3 a3 a1",
        "a3 a3 a3 a3 a3 a1",
    ]
    assert run_tag(LARGER, LARGER_WORD) == TagRun(words[-1], 6, "halting letter")


def test_own_system_with_stop_inside_the_result() -> None:
    reference = run_tag(OWN, OWN_WORD)
    assert reference == TagRun(("z", "z", "z", "H", "z", "z"), 6, "halting letter")
    result, word = simulate(OWN, OWN_WORD)
    assert result.steps == 117087
    assert word == reference.word


@st.composite
def rogozhin_systems(draw) -> TagSystem:
    """Random 2-tag systems of Rogozhin's form with 1 to 3 non-halting letters."""
    n = draw(st.integers(1, 3))
    letters = tuple(f"a{i}" for i in range(1, n + 2))
    last = letters[n - 1]
    productions = {last: (last, last)}
    for a in letters[: n - 1]:
        tail = draw(st.lists(st.sampled_from(letters), min_size=1, max_size=2))
        productions[a] = (last, last, *tail)
    return TagSystem(letters=letters, productions=productions, halt={letters[-1]})


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_utm_agrees_with_run_tag_on_random_systems(data) -> None:
    system = data.draw(rogozhin_systems())
    word = tuple(data.draw(st.lists(st.sampled_from(system.letters), min_size=2, max_size=4)))
    reference = run_tag(system, word, max_steps=8)
    if reference.reason != "halting letter":
        return  # runs on (or stops on a short word, which Rogozhin's form never reaches)
    _, decoded = simulate(system, word)
    assert decoded == reference.word


# ---------------------------------------------------------------- run_tag


def collatz_tag() -> TagSystem:
    """De Mol's 2-tag system a -> bc, b -> a, c -> aaa: a^n becomes a^(n/2) or a^((3n+1)/2)."""
    return TagSystem(letters="abc", productions={"a": "bc", "b": "a", "c": "aaa"})


@pytest.mark.parametrize("n", [3, 6, 7, 9])
def test_run_tag_follows_collatz(n: int) -> None:
    system = collatz_tag()
    word: tuple[str, ...] = ("a",) * n
    seen = [n]
    while len(word) >= 2:
        word = run_tag(system, word, max_steps=1).word
        if set(word) == {"a"}:
            seen.append(len(word))
    expected = [n]
    while expected[-1] != 1:
        k = expected[-1]
        expected.append(k // 2 if k % 2 == 0 else (3 * k + 1) // 2)
    assert seen == expected
    final = run_tag(system, "a" * n)
    assert (final.word, final.reason) == (("a",), "short word")


def test_run_tag_step_limit_and_edge_cases() -> None:
    system = TagSystem(letters="ab", productions={"a": "ab", "b": ""}, m=2)
    assert run_tag(system, "ab", max_steps=0) == TagRun(("a", "b"), 0, "step limit")
    assert run_tag(system, "ab", max_steps=5) == TagRun(("a", "b"), 5, "step limit")
    assert not run_tag(system, "ab", max_steps=5).halted
    assert run_tag(system, "ba") == TagRun((), 1, "short word")
    assert run_tag(system, "b", max_steps=0) == TagRun(("b",), 0, "short word")
    assert run_tag(system, "") == TagRun((), 0, "short word")
    three = TagSystem(letters="abH", productions={"a": "bbb", "b": "aH"}, halt="H", m=3)
    # aaa -> bbb -> aH -> (short)
    assert run_tag(three, "aaa") == TagRun(("a", "H"), 2, "short word")
    # the halting letter stops only when it comes first; its m letters are removed
    assert run_tag(three, "Hab") == TagRun((), 1, "halting letter")


def test_tag_system_value_semantics() -> None:
    same = TagSystem(letters=["a1", "a2"], productions={"a1": ["a1", "a1"]}, halt=["a2"])
    assert same == WORKED and hash(same) == hash(WORKED)
    assert WORKED.productions == {"a1": ("a1", "a1")}
    assert WORKED.halt == frozenset({"a2"})
    with pytest.raises(TypeError):
        WORKED.productions["a2"] = ()  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        WORKED.m = 3  # type: ignore[misc]
    assert WORKED.production("a1") == ("a1", "a1")
    with pytest.raises(tr.InputError, match="'a2' has no production: it is a halting letter"):
        WORKED.production("a2")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(letters=(), productions={}), "letters is empty"),
        (dict(letters=("a", "a"), productions={"a": ()}), "letter 'a' is listed twice"),
        (dict(letters=("a", "b c"), productions={"a": ()}, halt="b c"), "letter 'b c' is not allowed"),
        (dict(letters=("a", ""), productions={"a": ()}), "letter '' is not allowed"),
        (dict(letters=("a",), productions={"a": ()}, halt="H"), "halting letter 'H' is not a letter"),
        (dict(letters=("a",), productions={"a": (), "z": ()}), "production for 'z': 'z' is not a letter"),
        (
            dict(letters=("a", "H"), productions={"a": (), "H": ()}, halt="H"),
            "production for 'H': 'H' is a halting letter",
        ),
        (dict(letters=("a",), productions={"a": ("a", "q")}), "production for 'a' uses 'q', which is not a letter"),
        (
            dict(letters=("a1", "a2"), productions={"a1": "a1"}, halt="a2"),
            "production for 'a1' uses '1', which is not a letter",
        ),
        (dict(letters=("a", "b"), productions={"a": ()}), "letter 'b' has no production"),
        (dict(letters=("a",), productions={"a": ()}, m=0), "deletion number m must be a whole number >= 1, got 0"),
        (dict(letters=("a",), productions={"a": ()}, m=True), "got True"),
        (dict(letters=("a",), productions=[("a", ())]), "productions must be a mapping"),
        (dict(letters=("a",), productions={"a": None}), "production for 'a' must be a sequence of letters, got None"),
        (dict(letters=("a",), productions={"a": ()}, halt=3), "halt must be a set of letters or one letter, got 3"),
        (dict(letters=("a", ["b"]), productions={"a": ()}), "letter ['b'] is not allowed"),
    ],
)
def test_invalid_tag_systems(kwargs: dict, message: str) -> None:
    with pytest.raises(tr.SpecError, match=re.escape(message)):
        TagSystem(**kwargs)


def test_invalid_tag_system_reports_every_problem() -> None:
    with pytest.raises(tr.SpecError) as info:
        TagSystem(letters=("a", "a", "b"), productions={"c": ()}, halt="z", m=-1)
    assert [p.split(":")[0].split(" is ")[0] for p in info.value.problems] == [
        "letter 'a'",
        "halting letter 'z'",
        "deletion number m must be a whole number >= 1, got -1",
        "production for 'c'",
        "letter 'a' has no production; give one (possibly empty) or list it in halt",
        "letter 'b' has no production; give one (possibly empty) or list it in halt",
    ]


def test_run_tag_bad_input() -> None:
    with pytest.raises(tr.InputError, match=r"letter 'a3' at position 1 of the word is not a letter"):
        run_tag(WORKED, ("a1", "a3"))
    with pytest.raises(tr.InputError, match="max_steps must be a whole number >= 0, got -1"):
        run_tag(WORKED, WORKED_WORD, max_steps=-1)


@pytest.mark.parametrize(
    ("system", "message"),
    [
        (dataclasses.replace(WORKED, m=3), "simulates 2-tag systems; this system has m = 3"),
        (TagSystem(letters=("a1",), productions={"a1": ("a1", "a1")}), "exactly one halting letter (STOP), got 0"),
        (
            TagSystem(letters=("a", "H", "K"), productions={"a": "aa"}, halt={"H", "K"}),
            "exactly one halting letter (STOP), got 2: 'H', 'K'",
        ),
        (TagSystem(letters=("H",), productions={}, halt="H"), "at least one non-halting letter"),
        (
            TagSystem(letters="abH", productions={"a": "baH", "b": "bb"}, halt="H"),
            "P(a) = b a H must start with a[n] a[n] = b b",
        ),
        (
            TagSystem(letters="abH", productions={"a": "", "b": "bb"}, halt="H"),
            "P(a) = (empty) must start with a[n] a[n] = b b",
        ),
        (
            TagSystem(letters="abH", productions={"a": "bba", "b": "bbH"}, halt="H"),
            "a[n] = 'b' must have exactly P(a[n]) = b b",
        ),
        (
            TagSystem(letters="abH", productions={"a": "bb", "b": "bb"}, halt="H"),
            "only a[n] = 'b' may have P = a[n] a[n]; 'a' needs at least one more letter",
        ),
    ],
)
def test_rogozhin_rejects_systems_of_another_form(system: TagSystem, message: str) -> None:
    with pytest.raises(tr.SpecError, match=re.escape(message)):
        rogozhin_tape(system, system.letters[:1] * 2)
    with pytest.raises(tr.SpecError, match=re.escape(message)):
        rogozhin_codes(system)


def test_rogozhin_order_follows_letters_with_stop_last() -> None:
    stop_first = TagSystem(letters=("a2", "a1"), productions={"a1": ("a1", "a1")}, halt={"a2"})
    assert rogozhin_tape(stop_first, WORKED_WORD) == rogozhin_tape(WORKED, WORKED_WORD)


def test_rogozhin_tape_bad_words() -> None:
    with pytest.raises(tr.SpecError, match=re.escape("initial word of at least 2 letters, got ('a1',)")):
        rogozhin_tape(WORKED, ("a1",))
    with pytest.raises(tr.InputError, match="letter 'b' at position 0"):
        rogozhin_tape(WORKED, ("b", "a1"))


@pytest.mark.parametrize(
    ("tape", "message"),
    [
        ("<b111", "has no 'c'"),
        ("<bc", "must be runs of '1' separated by 'c'"),
        ("<bc1b1", "found 'b'"),
    ],
)
def test_decode_rogozhin_codes_bad_tapes(tape: str, message: str) -> None:
    with pytest.raises(tr.InputError, match=re.escape(message)):
        decode_rogozhin_codes(tape)


def test_decode_rogozhin_trailing_blanks_and_bad_codes() -> None:
    assert decode_rogozhin_codes("<>1c1c1111100") == "1c11111"
    with pytest.raises(tr.InputError, match=re.escape("code 1 of the result has 3 ones, which is no letter's code")):
        decode_rogozhin(WORKED, "<c1c111c11111")
    with pytest.raises(tr.InputError, match="does not end with STOP 'a2'"):
        decode_rogozhin(WORKED, "<c1c1")
