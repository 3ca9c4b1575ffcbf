"""TOML and bbchallenge formats: reading, writing, error locations, and fuzzing."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import stack_machines, turing_machines

import turingrnn as tr
from turingrnn.machines.parsing import looks_like_bbchallenge

FLIP = """\
kind = "tm"
name = "flip"
description = "Flips every bit."
symbols = ["_", "0", "1"]
blank = "_"
states = ["scan", "done"]
start = "scan"
halt = ["done"]
transitions = [
  { state = "scan", read = "0", write = "1", move = "R", next = "scan" },
  { state = "scan", read = "1", write = "0", move = "R", next = "scan" },
  { state = "scan", read = "_", write = "_", move = "S", next = "done" },
]

[[examples]]
input = "0110"
expect = { status = "halted", steps = 5, tape = "1001_", head = 4 }
"""

ANBN = """\
kind = "stack"
stacks = { in = "ab", count = ["x"] }
states = ["as", "bs", "yes", "no"]
start = "as"
accept = ["yes"]
reject = ["no"]
transitions = [
  { state = "as", read = { in = "a" }, next = "as", ops = { in = "pop", count = "push x" } },
  { state = "as", read = { in = "b" }, next = "bs" },
  { state = "as", read = { in = "empty" }, next = "yes" },
  { state = "bs", read = { in = "b", count = "x" }, next = "bs", ops = { in = "pop", count = "pop" } },
  { state = "bs", read = { in = "empty", count = "empty" }, next = "yes" },
  { state = "bs", read = { in = "a" }, next = "no" },
]

[[examples]]
input = "aabb"
expect = { status = "accepted", steps = 6, stacks = { in = "", count = "" } }
"""


def test_toml_machine_loads_and_passes_its_example() -> None:
    from turingrnn.machines.interpreter import check_examples

    for text in (FLIP, ANBN):
        m = tr.loads_toml(text, file="x.toml")
        assert check_examples(m) == []


def test_name_defaults_to_the_file_stem() -> None:
    assert tr.loads_toml(ANBN, file="some/dir/anbn.toml").name == "anbn"


def test_stack_reads_and_ops_default_to_any_and_noop() -> None:
    m = tr.loads_toml(ANBN)
    rule = m.rule("as", ("b", "empty"))
    assert rule.read == ("b", "any") and [str(op) for op in rule.ops] == ["noop", "noop"]


@pytest.mark.parametrize("text", [FLIP, ANBN])
def test_dump_then_load_gives_the_same_machine(text: str) -> None:
    m = tr.loads_toml(text, file="m.toml")
    assert tr.loads_toml(tr.dump_toml(m), file="m.toml") == m


@settings(max_examples=100, deadline=None)
@given(turing_machines())
def test_load_dump_round_trip_for_random_turing_machines(m: tr.TuringMachine) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        assert tr.loads_toml(tr.dump_toml(m)) == m


@settings(max_examples=100, deadline=None)
@given(stack_machines())
def test_load_dump_round_trip_for_random_stack_machines(m: tr.StackMachine) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        assert tr.loads_toml(tr.dump_toml(m)) == m


@st.composite
def bbchallenge_strings(draw) -> str:
    n = draw(st.integers(1, 6))
    k = draw(st.integers(2, 4))
    letters = [chr(ord("A") + i) for i in range(n)] + draw(st.sampled_from([[], ["Z"], ["H"]]))
    cell = st.one_of(
        st.just("---"),
        st.tuples(st.integers(0, k - 1), st.sampled_from("LR"), st.sampled_from(letters)).map(
            lambda t: f"{t[0]}{t[1]}{t[2]}"
        ),
    )
    return "_".join("".join(draw(st.lists(cell, min_size=k, max_size=k))) for _ in range(n))


@settings(max_examples=200, deadline=None)
@given(bbchallenge_strings())
def test_bbchallenge_strings_round_trip(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        m = tr.parse_bbchallenge(text)
        assert tr.dump_bbchallenge(m) == text
        assert tr.parse_bbchallenge(tr.dump_bbchallenge(m)) == m
        assert tr.loads_toml(tr.dump_toml(m)) == m


def test_bbchallenge_with_three_symbols() -> None:
    m = tr.parse_bbchallenge("1RB2LB1RZ_2LA2RB1LB")
    assert m.symbols == ("0", "1", "2") and m.run().steps == 38


def test_bbchallenge_group_of_the_wrong_length_is_located() -> None:
    with pytest.raises(tr.ParseError, match=r"<bbchallenge>:1:8: group 2 '1LA--' has 5 characters; expected 6") as e:
        tr.parse_bbchallenge("1RB1LB_1LA--")
    assert (e.value.line, e.value.column) == (1, 8)


def test_bbchallenge_unknown_next_state_lists_the_allowed_ones() -> None:
    with pytest.raises(tr.ParseError, match=r"next state 'Q' is not one of A-B, 'Z' or 'H'"):
        tr.parse_bbchallenge("1RB1LB_1LQ---")


def test_bbchallenge_symbol_beyond_the_alphabet_raises() -> None:
    with pytest.raises(tr.ParseError, match=r"written symbol '2' is not one of 0-1"):
        tr.parse_bbchallenge("2RB1LB_1LA---")
    with pytest.raises(tr.ParseError, match=r"written symbol '²' is not one of 0-1"):  # found by fuzzing
        tr.parse_bbchallenge("²RB1LB_1LA---")


def test_machine_that_is_not_bbchallenge_expressible_says_why() -> None:
    m = tr.loads_toml(FLIP)
    with pytest.raises(tr.SpecError, match=r"cannot be written in bbchallenge form: symbols must be '0'"):
        tr.dump_bbchallenge(m)


def test_bbchallenge_key_in_a_toml_file() -> None:
    m = tr.loads_toml('kind = "tm"\nname = "bb2"\nbbchallenge = "1RB1LB_1LA1RZ"\n')
    assert m.name == "bb2" and m.run().steps == 6
    assert "bbchallenge = " in tr.dump_toml(m)


def test_bbchallenge_key_errors_point_into_the_string() -> None:
    with pytest.raises(tr.ParseError, match=r"^f.toml:2:26: bbchallenge transition '1RQ'") as e:
        tr.loads_toml('kind = "tm"\nbbchallenge = "1RB1LB_1LA1RQ"\n', file="f.toml")
    assert (e.value.line, e.value.column) == (2, 26)


def test_bbchallenge_key_excludes_an_explicit_table() -> None:
    with pytest.raises(tr.ParseError, match=r"'states' cannot be combined with 'bbchallenge'"):
        tr.loads_toml('kind = "tm"\nstates = ["A"]\nbbchallenge = "1RB1LB_1LA1RZ"\n')


def test_malformed_toml_gives_file_line_and_column() -> None:
    with pytest.raises(tr.ParseError, match=r"^m.toml:4:1: invalid TOML") as e:
        tr.loads_toml('kind = "tm"\nstates = ["A",\n  "B"\n', file="m.toml")
    assert (e.value.file, e.value.line, e.value.column) == ("m.toml", 4, 1)


def test_semantic_errors_point_at_the_transition_line() -> None:
    text = FLIP.replace('next = "done"', 'next = "gone"')
    with pytest.raises(tr.SpecError, match=r"^m.toml:12:3: transition 2 .* next state 'gone' is not a state") as e:
        tr.loads_toml(text, file="m.toml")
    assert e.value.line == 12


def test_conflicting_transitions_name_both_lines() -> None:
    text = FLIP.replace('read = "1", write = "0"', 'read = "0", write = "0"')
    with pytest.raises(tr.ConflictingTransitionError, match=r"m.toml:10:3: transitions 0 .* and 1 \(line 11\)"):
        tr.loads_toml(text, file="m.toml")


def test_unknown_keys_are_reported_with_the_allowed_ones() -> None:
    with pytest.raises(tr.ParseError, match=r"unknown key 'nxt' in transition 0; allowed keys: state, read, write"):
        tr.loads_toml(
            FLIP.replace(
                'next = "scan" },\n  { state = "scan", read = "1"', 'nxt = "scan" },\n  { state = "scan", read = "1"'
            )
        )


def test_wrong_kind_is_reported() -> None:
    with pytest.raises(tr.ParseError, match=r"'kind' must be \"tm\" or \"stack\", got 'pda'"):
        tr.loads_toml('kind = "pda"\n')


def test_every_shape_problem_is_reported_at_once() -> None:
    text = 'kind = "tm"\nsymbols = 3\nstates = ["A"]\nstart = "A"\ntransitions = [{ state = "A" }]\n'
    with pytest.raises(tr.ParseError) as e:
        tr.loads_toml(text)
    assert len(e.value.problems) >= 5  # symbols type, blank missing, read/write/move/next missing


def test_stack_transition_naming_an_unknown_stack_raises() -> None:
    with pytest.raises(tr.ParseError, match=r"read names stack 'cnt'; stacks are: 'in', 'count'"):
        tr.loads_toml(ANBN.replace('read = { in = "b", count = "x" }', 'read = { in = "b", cnt = "x" }'))


def test_nothing_is_half_loaded() -> None:
    bad = ANBN.replace('start = "as"', 'start = "zz"')
    with pytest.raises(tr.SpecError, match=r"start state 'zz' is not a state"):
        tr.loads_toml(bad)


def test_load_machine_dispatches_on_the_source(tmp_path) -> None:
    path = tmp_path / "flip.toml"
    path.write_text(FLIP)
    assert tr.load_machine(str(path)).name == "flip"
    assert tr.load_machine(path).name == "flip"
    assert tr.load_machine("1RB1LB_1LA---").run().steps == 6


def test_unknown_machine_name_lists_the_bundled_ones() -> None:
    with pytest.raises(tr.UnknownMachineError, match=r"unknown machine 'no_such_machine': not a file"):
        tr.load_machine("no_such_machine")


def test_missing_toml_file_raises() -> None:
    with pytest.raises(tr.UnknownMachineError, match=r"machine file 'missing.toml' does not exist"):
        tr.load_machine("missing.toml")


def test_bbchallenge_shape_detection() -> None:
    assert looks_like_bbchallenge("1RB1LB_1LA---")
    assert not looks_like_bbchallenge("binary_increment")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_package_errors(text: str) -> None:
    for parse in (tr.loads_toml, tr.parse_bbchallenge):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", tr.SpecWarning)
                parse(text)
        except tr.TuringRNNError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([FLIP, ANBN]), st.data())
def test_mutated_machine_files_raise_only_package_errors(text: str, data) -> None:
    i = data.draw(st.integers(0, len(text) - 1))
    j = data.draw(st.integers(i, min(len(text), i + 8)))
    insert = data.draw(st.text(alphabet='"{}[]=,#\n abxyz0129_LRS-', max_size=6))
    mutated = text[:i] + insert + text[j:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tr.SpecWarning)
            tr.loads_toml(mutated, file="m.toml")
    except tr.TuringRNNError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789LRSZH-_ABCDx", max_size=40))
def test_bbchallenge_like_strings_raise_only_package_errors(text: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tr.SpecWarning)
            tr.parse_bbchallenge(text)
    except tr.TuringRNNError:
        pass


def test_bundled_names_must_be_unique(tmp_path) -> None:
    from turingrnn.machines.parsing import list_constructions

    for sub in ("tm", "stack"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same.toml").write_text("")
    with pytest.raises(tr.SpecError, match=r"share the name 'same'"):
        list_constructions(tmp_path)


def test_list_machines_and_its_old_name() -> None:
    from turingrnn.machines import parsing

    machines = parsing.list_machines()
    assert parsing.list_constructions is parsing.list_machines
    assert tr.list_constructions() == machines
    assert {"bb2", "anbn"} <= set(machines) and all(p.suffix == ".toml" for p in machines.values())


def test_split_modules_are_reexported() -> None:
    from turingrnn.machines import bbchallenge, bundled, parsing, toml_read, toml_write

    for module in (bbchallenge, bundled, toml_read, toml_write):
        for name in dir(module):
            if name in parsing.__all__:
                assert getattr(parsing, name) is getattr(module, name)
    assert set(parsing.__all__) <= set(dir(parsing))


def test_a_file_without_kind_names_the_missing_key() -> None:
    with pytest.raises(tr.ParseError, match=r"the key 'kind' is missing: it must be \"tm\" or \"stack\""):
        tr.loads_toml("")


def test_a_read_that_is_not_a_table_is_one_problem_not_a_cascade() -> None:
    text = tr.dump_toml(tr.load_machine("dyck1"))
    bad = text.replace('read = { in = ")", open = "(" }', 'read = [")"]', 1)
    assert bad != text
    with pytest.raises(tr.ParseError) as e:
        tr.loads_toml(bad)
    assert str(e.value).count("\n") == 0 and "'read' must be a table, got [')']" in str(e.value)
