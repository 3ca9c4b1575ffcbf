"""Construction and validation of the machine models."""

from __future__ import annotations

import dataclasses

import pytest

import turingrnn as tr
from turingrnn.machines.model import ANY, EMPTY


def tm(**overrides):
    fields = dict(
        states=("A", "B", "H"),
        symbols=("0", "1"),
        blank="0",
        start="A",
        halt=frozenset({"H"}),
        rules=(
            tr.TMRule(state="A", read="0", write="1", move="R", next="B"),
            tr.TMRule(state="B", read="0", write="1", move="L", next="H"),
        ),
    )
    fields.update(overrides)
    return tr.TuringMachine(**fields)


def sm(**overrides):
    fields = dict(
        stacks={"in": ("a", "b"), "aux": ("x",)},
        states=("q", "yes", "no"),
        start="q",
        accept={"yes"},
        reject={"no"},
        rules=(
            tr.StackRule(state="q", read=("a", ANY), next="q", ops=(tr.POP, tr.push("x"))),
            tr.StackRule(state="q", read=(EMPTY, ANY), next="yes", ops=(tr.NOOP, tr.NOOP)),
            tr.StackRule(state="q", read=("b", ANY), next="no", ops=(tr.NOOP, tr.NOOP)),
        ),
    )
    fields.update(overrides)
    return tr.StackMachine(**fields)


def test_machines_are_frozen_values() -> None:
    m = tm()
    assert m == tm()
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.start = "B"  # type: ignore[misc]


def test_machines_take_keyword_arguments_only() -> None:
    with pytest.raises(TypeError):
        tr.TuringMachine(("A",), ("0",), "0", "A")  # type: ignore[misc]


def test_rules_are_stored_in_canonical_order() -> None:
    m = tm()
    reordered = tm(rules=tuple(reversed(m.rules)))
    assert reordered == m
    assert [r.state for r in m.rules] == ["A", "B"]


def test_transition_to_unknown_state_raises() -> None:
    rules = (tr.TMRule(state="A", read="0", write="1", move="R", next="Q"),)
    with pytest.raises(tr.SpecError, match=r"next state 'Q' is not a state; states are: 'A', 'B', 'H'"):
        tm(rules=rules)


def test_unknown_start_state_raises() -> None:
    with pytest.raises(tr.SpecError, match=r"start state 'X' is not a state"):
        tm(start="X")


def test_symbol_outside_the_alphabet_raises() -> None:
    rules = (tr.TMRule(state="A", read="0", write="7", move="R", next="B"),)
    with pytest.raises(tr.SpecError, match=r"write symbol '7' is not a symbol; symbols are: '0', '1'"):
        tm(rules=rules)


def test_bad_move_raises() -> None:
    rules = (tr.TMRule(state="A", read="0", write="1", move="X", next="B"),)
    with pytest.raises(tr.SpecError, match=r"move 'X' is not one of 'L', 'R', 'S'"):
        tm(rules=rules)


def test_blank_must_be_a_symbol() -> None:
    with pytest.raises(tr.SpecError, match=r"blank '_' is not a symbol"):
        tm(blank="_")


def test_multi_character_symbols_are_rejected() -> None:
    with pytest.raises(tr.SpecError, match=r"symbol 'ab' is not allowed"):
        tm(symbols=("0", "1", "ab"))


def test_halting_states_have_no_transitions() -> None:
    rules = (tr.TMRule(state="H", read="0", write="1", move="R", next="A"),)
    with pytest.raises(tr.SpecError, match=r"'H' is a halting state, and halting states have no transitions"):
        tm(rules=rules)


def test_a_state_has_one_verdict() -> None:
    with pytest.raises(tr.SpecError, match=r"state 'H' is in both 'accept' and 'halt'"):
        tm(accept=frozenset({"H"}))


def test_two_transitions_for_one_configuration_name_both() -> None:
    rules = (
        tr.TMRule(state="A", read="0", write="1", move="R", next="B"),
        tr.TMRule(state="A", read="0", write="0", move="L", next="H"),
    )
    with pytest.raises(tr.ConflictingTransitionError) as err:
        tm(rules=rules)
    message = str(err.value)
    assert "transitions 0 (A, 0) -> (1, R, B) and 1 (A, 0) -> (0, L, H)" in message
    assert "reading '0'" in message


def test_all_problems_are_reported_at_once() -> None:
    rules = (
        tr.TMRule(state="A", read="9", write="1", move="R", next="B"),
        tr.TMRule(state="Z", read="0", write="1", move="R", next="B"),
    )
    with pytest.raises(tr.SpecError) as err:
        tm(rules=rules, start="nowhere")
    assert len(err.value.problems) == 3


def test_unreachable_states_warn() -> None:
    with pytest.warns(tr.SpecWarning, match=r"states 'H' cannot be reached from start state 'A'"):
        tm(rules=(tr.TMRule(state="A", read="0", write="1", move="R", next="B"),))


def test_overlapping_any_wildcards_conflict() -> None:
    rules = (
        tr.StackRule(state="q", read=("a", ANY), next="q", ops=(tr.POP, tr.NOOP)),
        tr.StackRule(state="q", read=(ANY, "x"), next="no", ops=(tr.NOOP, tr.POP)),
        tr.StackRule(state="q", read=(EMPTY, ANY), next="yes", ops=(tr.NOOP, tr.NOOP)),
    )
    with pytest.raises(tr.ConflictingTransitionError, match=r"transitions 0 .* and 1 .* both apply in state 'q'"):
        sm(rules=rules)


def test_disjoint_reads_do_not_conflict() -> None:
    m = sm()
    assert m.rule("q", ("a", EMPTY)).next == "q"
    assert m.rule("q", (EMPTY, "x")).next == "yes"
    assert m.rule("q", ("b", EMPTY)).next == "no"


def test_stack_arity_mismatch_raises() -> None:
    rules = (tr.StackRule(state="q", read=("a",), next="q", ops=(tr.POP,)),)
    with pytest.raises(tr.SpecError, match=r"has 1 reads and 1 ops, but the machine has 2 stacks \('in', 'aux'\)"):
        sm(rules=rules)


def test_pop_needs_a_read_symbol() -> None:
    rules = (tr.StackRule(state="q", read=(ANY, ANY), next="q", ops=(tr.POP, tr.NOOP)),)
    with pytest.raises(tr.SpecError, match=r"pops stack 'in' but reads 'any' there; a pop needs a read symbol"):
        sm(rules=rules)


def test_push_outside_the_stack_alphabet_raises() -> None:
    rules = (tr.StackRule(state="q", read=("a", ANY), next="yes", ops=(tr.POP, tr.push("a"))),)
    with pytest.raises(tr.SpecError, match=r"push 'a' on stack 'aux' is not in its alphabet 'x'"):
        sm(rules=rules)


def test_unknown_read_symbol_raises_and_lists_what_is_allowed() -> None:
    rules = (tr.StackRule(state="q", read=("c", ANY), next="yes", ops=(tr.NOOP, tr.NOOP)),)
    with pytest.raises(tr.SpecError, match=r"read 'c' on stack 'in' is not allowed; allowed: 'a', 'b', 'any', 'empty'"):
        sm(rules=rules)


def test_stack_operations_parse_and_print() -> None:
    assert tr.StackOp.parse("push a") == tr.push("a")
    assert str(tr.push("a")) == "push a"
    assert tr.StackOp.parse("pop") == tr.POP
    with pytest.raises(tr.SpecError, match=r"stack operation 'shove' is not one of"):
        tr.StackOp.parse("shove")


def test_input_stack_defaults_to_the_first_stack() -> None:
    assert sm().input_stack == "in"
    with pytest.raises(tr.SpecError, match=r"input stack 'zz' is not a stack; stacks are: 'in', 'aux'"):
        sm(input_stack="zz")


def test_a_machine_with_no_stacks_is_a_finite_control() -> None:
    m = tr.StackMachine(
        states=("a", "b"), start="a", halt={"b"}, rules=(tr.StackRule(state="a", read=(), next="b", ops=()),)
    )
    assert m.input_stack is None
    assert m.run().steps == 1


def test_names_with_label_separators_are_rejected() -> None:
    with pytest.raises(tr.SpecError, match=r"state name 'q@1' contains '@', which neuron labels use as a separator"):
        tm(states=("A", "B", "H", "q@1"))
    with pytest.raises(tr.SpecError, match=r"stack name 'a=b' contains '='"):
        sm(stacks={"in": ("a", "b"), "a=b": ("x",)})
