"""The 2-stack machine of a Turing machine follows it step for step."""

from __future__ import annotations

import itertools
import types
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import stack_inputs, stack_machines, tm_inputs, turing_machines

import turingrnn as tr
from turingrnn.machines.interpreter import StackConfiguration, Status, TMConfiguration, run
from turingrnn.machines.reduction import StackReduction, _pair_names, tm_to_stack_machine

BB4 = "1RB1LB_1LA0LC_---1LD_1RD0RA"
LIMIT = 80


def _draw_case(data: st.DataObject) -> tuple[tr.TuringMachine, str, int, StackReduction]:
    """A random Turing machine, an input word with a head position, and the machine's reduction."""
    tm = data.draw(turing_machines())
    word, head = data.draw(tm_inputs(tm))
    return tm, word, head, tm_to_stack_machine(tm)


def _same_class(sm: tr.StackMachine, sm_state: str, tm: tr.TuringMachine, tm_state: str) -> None:
    for kind in ("accept", "reject", "halt"):
        assert (sm_state in getattr(sm, kind)) == (tm_state in getattr(tm, kind)), kind


@settings(deadline=None, max_examples=300)
@given(data=st.data())
def test_stack_machine_follows_the_turing_machine_at_every_step(data: st.DataObject) -> None:
    tm, word, head, reduction = _draw_case(data)
    sm = reduction.machine
    expected = run(tm, word, head=head, max_steps=LIMIT, trace=True)
    assert expected.trace is not None
    simulated = run(sm, start=reduction.initial(word, head=head), max_steps=LIMIT, trace=True)
    assert simulated.trace is not None
    assert [reduction.to_tm(c) for c in simulated.trace] == list(expected.trace)  # type: ignore[arg-type]
    assert (simulated.status, simulated.steps, simulated.reason) == (expected.status, expected.steps, expected.reason)
    if expected.halted:
        _same_class(sm, simulated.state, tm, expected.state)
    assert sm.has_acceptance == tm.has_acceptance


@settings(deadline=None, max_examples=200)
@given(data=st.data())
def test_encoding_then_decoding_gives_the_configuration_back(data: st.DataObject) -> None:
    tm, word, head, reduction = _draw_case(data)
    for config in itertools.islice(tm.steps(word, head=head), LIMIT):
        assert reduction.to_tm(reduction.to_stack(config)) == config


@settings(deadline=None, max_examples=200)
@given(data=st.data())
def test_running_the_stack_machine_on_a_word_runs_the_tm_on_blank_plus_word(data: st.DataObject) -> None:
    tm = data.draw(turing_machines())
    word = data.draw(st.text(alphabet=st.sampled_from(tm.symbols), max_size=6))
    reduction = tm_to_stack_machine(tm)
    direct = run(reduction.machine, word, max_steps=LIMIT)
    expected = run(tm, tm.blank + word, head=0, max_steps=LIMIT)
    assert (direct.status, direct.steps, direct.accepted, direct.reason) == (
        expected.status,
        expected.steps,
        expected.accepted,
        expected.reason,
    )
    assert reduction.to_tm(direct.configuration) == expected.configuration  # type: ignore[arg-type]


@settings(deadline=None, max_examples=200)
@given(data=st.data())
def test_stepping_from_a_configuration_matches_the_interpreter(data: st.DataObject) -> None:
    sm = data.draw(stack_machines())
    word = data.draw(stack_inputs(sm))
    reference = list(itertools.islice(tr.steps(sm, word), LIMIT))
    ours = list(itertools.islice(tr.steps(sm, start=reference[0]), LIMIT))
    assert ours == reference


def test_bb4_through_the_reduction_takes_107_steps() -> None:
    tm = tr.parse_bbchallenge(BB4)
    reduction = tm_to_stack_machine(tm)
    configs = list(reduction.steps(""))
    assert len(configs) - 1 == 107
    assert reduction.to_tm(configs[-1]) == run(tm).configuration
    assert reduction.to_tm(configs[-1]).tape.count("1") == 12
    assert configs[-1] == configs[-2]  # the undefined halting step changes nothing


def test_halting_states_keep_their_verdicts() -> None:
    tm = tr.TuringMachine(
        states=("q", "yes", "no"),
        symbols=("_", "1", "0"),
        blank="_",
        start="q",
        accept=frozenset({"yes"}),
        reject=frozenset({"no"}),
        rules=(
            tr.TMRule(state="q", read="1", write="1", move="R", next="q"),
            tr.TMRule(state="q", read="_", write="_", move="S", next="yes"),
            tr.TMRule(state="q", read="0", write="0", move="L", next="no"),
        ),
    )
    reduction = tm_to_stack_machine(tm)
    sm = reduction.machine
    assert sm.accept == {"yes|_", "yes|1", "yes|0"}
    assert sm.reject == {"no|_", "no|1", "no|0"}
    assert sm.halt == frozenset()
    configs = list(reduction.steps("111"))
    assert (len(configs) - 1, configs[-1].state) == (4, "yes|_")
    assert sm.verdict(configs[-1].state) is True
    configs = list(reduction.steps("110"))
    assert (len(configs) - 1, configs[-1].state, sm.verdict(configs[-1].state)) == (3, "no|1", False)
    assert run(sm, "111").status is Status.ACCEPTED  # directly: "_111", accepted at once


def test_each_moving_rule_gives_one_stack_rule_per_top_and_a_stay_rule_gives_one() -> None:
    tm = tr.parse_bbchallenge("1RB1LB_1LA---")
    assert len(tm_to_stack_machine(tm).machine.rules) == 3 * (len(tm.symbols) + 1)
    stay = tr.TuringMachine(
        states=("A",),
        symbols=("0", "1"),
        blank="0",
        start="A",
        rules=(tr.TMRule(state="A", read="0", write="1", move="S", next="A"),),
    )
    (rule,) = tm_to_stack_machine(stay).machine.rules
    assert (rule.state, rule.read, rule.next, rule.ops) == ("A|0", (tr.ANY, tr.ANY), "A|1", (tr.NOOP, tr.NOOP))


def test_the_reduction_raises_no_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reduction = tm_to_stack_machine(tr.parse_bbchallenge(BB4))
    assert reduction.machine.start == "A|0"
    assert reduction.machine.input_stack == "R"


def test_bar_is_reserved_in_turing_machine_names_and_symbols() -> None:
    # '|' joins a state and its scanned symbol in the reduced machine's state names (and in
    # neuron labels), so a Turing machine may not use it; the reduced stack machine's states may.
    with pytest.raises(tr.SpecError) as e:
        tr.TuringMachine(
            states=("a", "a|"),
            symbols=("|", "x"),
            blank="|",
            start="a",
            rules=(tr.TMRule(state="a", read="|", write="x", move="R", next="a|"),),
        )
    assert "state name 'a|' contains '|', which neuron labels use as a separator" in str(e.value)
    assert "symbol '|' is a character that neuron labels use as a separator" in str(e.value)
    tm = tr.TuringMachine(
        states=("a", "b"),
        symbols=("_", "x"),
        blank="_",
        start="a",
        rules=(tr.TMRule(state="a", read="_", write="x", move="R", next="b"),),
    )
    reduction = tm_to_stack_machine(tm)
    assert set(reduction.pair_of) == {"a|_", "a|x", "b|_", "b|x"}
    assert reduction.to_tm(list(reduction.steps())[-1]) == run(tm).configuration


def test_a_name_collision_raises() -> None:
    # Valid Turing machines cannot collide (symbols are one character); the guard is tested directly.
    clash = types.SimpleNamespace(states=("a|b", "a"), symbols=("c", "b|c"))
    with pytest.raises(tr.SpecError, match=r"state name 'a\|b\|c' stands for both \('a\|b', 'c'\) and \('a', 'b\|c'\)"):
        _pair_names(clash)  # type: ignore[arg-type]


def test_encoding_a_foreign_configuration_raises() -> None:
    reduction = tm_to_stack_machine(tr.parse_bbchallenge(BB4))
    with pytest.raises(tr.InputError, match=r"configuration Q: \[1\]: state or scanned symbol is not the machine's"):
        reduction.to_stack(TMConfiguration("Q", "1", 0))
    with pytest.raises(tr.InputError, match=r"head 3 is outside the tape '101' \(allowed: 0\.\.2\)"):
        reduction.to_stack(TMConfiguration("A", "101", 3))
    with pytest.raises(tr.InputError, match=r"state 'A' is not a state of the reduction's stack machine"):
        reduction.to_tm(StackConfiguration("A", (("L", ""), ("R", ""))))


def test_stepping_from_a_foreign_configuration_raises() -> None:
    sm = tm_to_stack_machine(tr.parse_bbchallenge(BB4)).machine
    with pytest.raises(tr.InputError, match=r"start configuration state 'A' is not a state"):
        next(tr.steps(sm, start=StackConfiguration("A", (("L", ""), ("R", "")))))
    with pytest.raises(tr.InputError, match=r"start configuration has stacks \('R', 'L'\); the machine's stacks are"):
        next(tr.steps(sm, start=StackConfiguration("A|0", (("R", ""), ("L", "")))))
    with pytest.raises(tr.InputError, match=r"stack 'L' holds '7', which is not in its alphabet"):
        next(tr.steps(sm, start=StackConfiguration("A|0", (("L", "7"), ("R", "")))))
    with pytest.raises(tr.InputError, match=r"give either an input word \(and head\) or a start configuration"):
        next(tr.steps(sm, "01", start=StackConfiguration("A|0", (("L", ""), ("R", "")))))


def test_initial_checks_the_input() -> None:
    reduction = tm_to_stack_machine(tr.parse_bbchallenge(BB4))
    with pytest.raises(tr.InputError, match=r"input symbol '2' at position 0 is not in the tape alphabet"):
        reduction.initial("2")
    assert reduction.initial("0110", head=1) == StackConfiguration("A|1", (("L", ""), ("R", "1"))), "blanks trimmed"
