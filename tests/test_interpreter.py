"""Runtime semantics of the reference interpreters."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import stack_inputs, stack_machines, tm_inputs, turing_machines

import turingrnn as tr
from turingrnn.machines.interpreter import Status


def test_busy_beaver_2_counts_the_undefined_halting_step() -> None:
    r = tr.parse_bbchallenge("1RB1LB_1LA---").run()
    assert (r.status, r.steps, r.tape.count("1"), r.reason) == (Status.HALTED, 6, 4, "undefined transition")


def test_busy_beaver_2_in_halt_state_form_takes_the_same_steps() -> None:
    r = tr.parse_bbchallenge("1RB1LB_1LA1RZ").run()
    assert (r.steps, r.tape.count("1"), r.state, r.reason) == (6, 4, "Z", "halting state")


def test_busy_beaver_4_takes_107_steps() -> None:
    r = tr.parse_bbchallenge("1RB1LB_1LA0LC_1RZ1LD_1RD0RA").run()
    assert (r.steps, r.tape.count("1")) == (107, 13)


def test_step_limit_is_a_result_not_an_exception() -> None:
    r = tr.parse_bbchallenge("1RB1LB_1LA0RA").run(max_steps=50)
    assert r.status is Status.OUT_OF_STEPS and r.steps == 50 and not r.halted and r.accepted is None


def test_a_machine_halting_exactly_at_the_limit_has_halted() -> None:
    r = tr.parse_bbchallenge("1RB1LB_1LA1RZ").run(max_steps=6)
    assert r.status is Status.HALTED


def test_step_generator_yields_one_configuration_per_step() -> None:
    m = tr.parse_bbchallenge("1RB1LB_1LA---")
    configs = list(m.steps())
    assert len(configs) == m.run().steps + 1
    assert str(configs[0]) == "A: [0]"
    assert configs[-1] == configs[-2]  # the undefined halting step changes nothing


def test_trace_lists_every_configuration() -> None:
    r = tr.parse_bbchallenge("1RB1LB_1LA---").run(trace=True)
    assert len(r.trace) == 7
    assert r.format_trace().splitlines()[-1] == "halted after 6 steps (undefined transition)"


def test_tape_span_includes_the_head_and_trims_blanks() -> None:
    m = tr.parse_bbchallenge("0RB---_0RC---_---1LA")  # walks right over blanks
    r = m.run("")
    assert r.configuration == tr.TMConfiguration("C", "0", 0)
    r2 = tr.parse_bbchallenge("1LB---_---1LA").run("")
    assert (r2.tape, r2.head) == ("01", 0)


def test_head_can_start_anywhere_in_the_word() -> None:
    m = tr.parse_bbchallenge("1RB---_---1LA")
    r = m.run("0010", head=1)
    assert (r.steps, r.tape, r.head, r.state) == (3, "11", 0, "A")  # 0 is the blank, so it is trimmed
    r = m.run("00", head=2)  # the head starts on the blank just after the word
    assert (r.steps, r.tape, r.head, r.state) == (2, "10", 1, "B")


def test_head_outside_the_word_raises() -> None:
    with pytest.raises(tr.InputError, match=r"head position 5 is outside the input word of length 2 \(allowed: 0..2\)"):
        tr.parse_bbchallenge("1RB---_---1LA").run("01", head=5)


def test_input_symbol_outside_the_alphabet_raises() -> None:
    with pytest.raises(
        tr.InputError, match=r"input symbol '2' at position 1 is not in the tape alphabet; allowed: '0', '1'"
    ):
        tr.parse_bbchallenge("1RB---_---1LA").run("02")


def test_negative_step_limit_raises() -> None:
    with pytest.raises(tr.InputError, match=r"max_steps must be a whole number >= 0, got -1"):
        tr.parse_bbchallenge("1RB---_---1LA").run(max_steps=-1)


def dyck1() -> tr.StackMachine:
    from turingrnn.machines.model import ANY, EMPTY

    return tr.StackMachine(
        stacks={"in": "()", "depth": "x"},
        states=("scan", "yes", "no"),
        start="scan",
        accept={"yes"},
        reject={"no"},
        rules=(
            tr.StackRule(state="scan", read=("(", ANY), next="scan", ops=(tr.POP, tr.push("x"))),
            tr.StackRule(state="scan", read=(")", "x"), next="scan", ops=(tr.POP, tr.POP)),
            tr.StackRule(state="scan", read=(")", EMPTY), next="no", ops=(tr.NOOP, tr.NOOP)),
            tr.StackRule(state="scan", read=(EMPTY, EMPTY), next="yes", ops=(tr.NOOP, tr.NOOP)),
        ),
    )


def is_balanced(w: str) -> bool:
    depth = 0
    for c in w:
        depth += 1 if c == "(" else -1
        if depth < 0:
            return False
    return depth == 0


def test_stack_machine_accepts_exactly_balanced_words() -> None:
    m = dyck1()
    for n in range(9):
        for w in map("".join, itertools.product("()", repeat=n)):
            r = m.run(w)
            assert r.accepted == is_balanced(w), w


def test_stuck_stack_machine_halts_and_rejects_counting_the_step() -> None:
    r = dyck1().run("(")  # ends in 'scan' with depth x and empty input: no rule
    assert (r.status, r.reason, r.steps) == (Status.REJECTED, "undefined transition", 2)
    assert r.stacks == {"in": "", "depth": "x"}


def test_input_word_is_pushed_first_symbol_on_top() -> None:
    config = next(dyck1().steps("(()"))
    assert config.stack("in") == "(()"


def test_stack_input_outside_the_alphabet_raises() -> None:
    with pytest.raises(
        tr.InputError, match=r"input symbol 'a' at position 0 is not in the alphabet of input stack 'in'"
    ):
        dyck1().run("a")


@settings(max_examples=150, deadline=None)
@given(turing_machines().flatmap(lambda m: st.tuples(st.just(m), tm_inputs(m))))
def test_run_agrees_with_the_step_generator(case) -> None:
    m, (word, head) = case
    r = m.run(word, head=head, max_steps=60, trace=True)
    configs = list(itertools.islice(m.steps(word, head=head), 61))
    assert list(r.trace) == configs[: len(r.trace)]
    assert len(configs) == (r.steps + 1 if r.halted else 61)


@settings(max_examples=150, deadline=None)
@given(stack_machines().flatmap(lambda m: st.tuples(st.just(m), stack_inputs(m))))
def test_stack_runs_agree_with_the_step_generator(case) -> None:
    m, word = case
    r = m.run(word, max_steps=40, trace=True)
    configs = list(itertools.islice(m.steps(word), 41))
    assert list(r.trace) == configs[: len(r.trace)]
    assert len(configs) == (r.steps + 1 if r.halted else 41)
