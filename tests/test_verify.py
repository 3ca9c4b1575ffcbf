"""verify: compiled networks agree with the interpreter, and a wrong network is reported at its first wrong step."""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import stack_inputs, stack_machines

import turingrnn as tr
from turingrnn.check.verify import Mismatch, VerifyReport, all_inputs_up_to, verify
from turingrnn.compile.compiler import CONSTRUCTIONS, INPUT_MODES, compile_machine, constructions_for
from turingrnn.compile.network import Network
from turingrnn.engines.exact import run_exact
from turingrnn.errors import CompileError, DecodeError, InputError, TuringRNNError
from turingrnn.machines.interpreter import run

# Bundled machines whose networks are small under every construction (tens to a few hundred neurons).
SMALL = ("bb2", "bb3", "binary_increment", "anbn", "dyck1", "dyck2", "parity", "even_pairs", "palindrome")
CASES = [
    (name, construction, mode)
    for name in SMALL
    for construction in constructions_for(tr.load_machine(name).kind)
    for mode in INPUT_MODES
]


def compiled(machine, construction: str = "compact", input_mode: str = "preloaded") -> Network:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        return compile_machine(machine, construction=construction, input_mode=input_mode)


def with_weight(net: Network, row: str, column: str, weight: Fraction) -> Network:
    """``net`` with the weight from ``column`` to ``row`` set to ``weight``."""
    i, j = net.index(row), net.index(column)
    assert any((r, c) == (i, j) for r, c, _ in net.W), (row, column)
    return dataclasses.replace(net, W=tuple((r, c, weight if (r, c) == (i, j) else w) for r, c, w in net.W))


def first_difference(a, b) -> int | None:
    """The first index at which two sequences differ (one ending early counts), or ``None``."""
    return next((k for k, (x, y) in enumerate(itertools.zip_longest(a, b)) if x != y), None)


def bb2_variant() -> tr.TuringMachine:
    """bb2 with one rule changed: in state B on 0 it writes 0 instead of 1 (and then never halts)."""
    tm = tr.load_machine("bb2")
    rules = tuple(dataclasses.replace(r, write="0") if (r.state, r.read) == ("B", "0") else r for r in tm.rules)
    assert rules != tm.rules
    return dataclasses.replace(tm, rules=rules)


# ---------------------------------------------------------------- correct networks pass


@pytest.mark.parametrize(("name", "construction", "input_mode"), CASES)
def test_bundled_machines_verify_under_every_construction_and_input_mode(name, construction, input_mode) -> None:
    machine = tr.load_machine(name)
    try:
        net = compiled(machine, construction, input_mode)
    except CompileError as e:  # realtime reads a preloaded input only
        pytest.skip(str(e))
    inputs = list(itertools.islice(all_inputs_up_to(machine, 3), 40))
    report = verify(machine, inputs, net=net, max_steps=300)
    assert report.ok, report.summary()
    assert (report.machine, report.construction, report.input_mode) == (name, construction, input_mode)
    assert report.inputs == len(inputs)
    assert report.steps == sum(run(machine, w, max_steps=300).steps for w in inputs)


def test_every_construction_is_exercised() -> None:
    assert {c for _, c, _ in CASES} == set(CONSTRUCTIONS)


def test_verify_compiles_with_the_construction_it_is_given() -> None:
    report = verify(tr.load_machine("dyck1"), ["(())", ")("], construction="ss95", input_mode="streamed")
    assert report.ok and (report.construction, report.input_mode) == ("ss95", "streamed")


def test_turing_machines_verify_from_any_head_position() -> None:
    tm = tr.load_machine("binary_increment")
    inputs = [(w, h) for w in ("", "1", "10", "111") for h in range(len(w) + 1)]
    report = verify(tm, inputs)
    assert report.ok, report.summary()
    assert report.inputs == len(inputs)


@settings(max_examples=15, deadline=None)
@given(
    stack_machines(max_stacks=2, max_symbols=2, max_states=3).flatmap(
        lambda m: st.tuples(st.just(m), stack_inputs(m, 4))
    ),
    st.sampled_from(constructions_for("stack")),
)
def test_property_random_stack_machines_verify(case, construction) -> None:
    machine, word = case
    report = verify(machine, [word], net=compiled(machine, construction), max_steps=40)
    assert report.ok, report.summary()


# ---------------------------------------------------------------- wrong networks are caught


def test_a_changed_weight_is_reported_at_the_first_differing_step() -> None:
    tm = tr.load_machine("bb2")
    net = compiled(tm)
    bad = with_weight(net, "tape:L/R", "state:A", Fraction(1, 2))  # was 3/2: the 1 written in state A is lost
    assert verify(tm, [""], net=net).ok
    report = verify(tm, [""], net=bad)
    assert not report.ok
    (m,) = report.mismatches
    assert (m.input, m.head, m.step) == ("", 0, 1)
    assert (m.expected, m.got) == ("B: 1[0]", "B: [0]")
    expected = run(tm, "", trace=True).trace
    got = run_exact(bad, "").configurations
    assert first_difference(expected, got) == m.step
    assert "DISAGREE on 1 inputs" in report.summary() and "input '', step 1: interpreter B: 1[0]" in report.summary()


def decodes(trace, step: int) -> bool:
    try:
        trace.configuration(step)
    except DecodeError:
        return False
    return True


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_property_a_changed_weight_is_reported_where_the_runs_first_differ(data: st.DataObject) -> None:
    tm = tr.load_machine("bb2")
    net = compiled(tm)
    i, j, w = data.draw(st.sampled_from(net.W))
    new = w + data.draw(st.sampled_from([Fraction(-1), Fraction(-1, 2), Fraction(1, 2), Fraction(1)]))
    assume(new != 0)  # a zero triple is not a network the builder makes
    bad = with_weight(net, net.labels[i], net.labels[j], new)
    try:
        report = verify(tm, [""], net=bad, max_steps=40)
    except TuringRNNError:  # a binary neuron took another value: the exact run stops with that error
        assume(False)
        raise
    expected = run(tm, "", max_steps=40, trace=True)
    got = run_exact(bad, "", max_steps=40)
    # the first step whose configuration differs or does not decode (the values left the code)
    step = next(
        (
            k
            for k in range(min(got.steps, expected.steps) + 1)
            if not decodes(got, k) or got.configuration(k) != expected.trace[k]
        ),
        None if got.steps == expected.steps else min(got.steps, expected.steps) + 1,
    )
    if report.ok:
        assert step is None and got.decode().status == expected.status
    elif step is not None:
        (m,) = report.mismatches
        assert m.step == step and m.expected == str(expected.trace[step])


@pytest.mark.parametrize(("construction", "input_mode"), [(c, m) for c in constructions_for("tm") for m in INPUT_MODES])
def test_a_network_of_a_machine_one_rule_off_is_caught_under_every_construction(construction, input_mode) -> None:
    tm, variant = tr.load_machine("bb2"), bb2_variant()
    try:
        net = compiled(variant, construction, input_mode).with_machine(tm)
    except CompileError as e:
        pytest.skip(str(e))
    step = first_difference(run(tm, "", trace=True).trace, run(variant, "", max_steps=50, trace=True).trace)
    assert step == 2
    report = verify(tm, [""], net=net, max_steps=50)
    assert [(m.step, m.expected, m.got) for m in report.mismatches] == [(2, "A: [1]1", "A: [1]")]


def test_only_the_inputs_that_disagree_are_reported() -> None:
    sm = tr.load_machine("dyck1")
    undefined = dataclasses.replace(sm, rules=tuple(r for r in sm.rules if r.read != (")", "empty")))
    net = compiled(undefined).with_machine(sm)
    report = verify(sm, ["()", ")", "(()", "())"], net=net)
    assert report.inputs == 4
    assert [(m.input, m.step) for m in report.mismatches] == [(")", 1), ("())", 3)]
    assert report.mismatches[0].expected.startswith("reject:") and report.mismatches[0].got.startswith("scan:")


def test_the_same_configurations_with_another_ending_are_reported() -> None:
    # The machine loops on ")" with an empty stack; the network halts there (undefined transition): after one step
    # both show the same configuration, but the run is out of steps for one and rejected for the other.
    sm = tr.load_machine("dyck1")
    loop = dataclasses.replace(
        sm, rules=tuple(dataclasses.replace(r, next="scan") if r.read == (")", "empty") else r for r in sm.rules)
    )
    undefined = dataclasses.replace(sm, rules=tuple(r for r in sm.rules if r.read != (")", "empty")))
    report = verify(loop, [")"], net=compiled(undefined).with_machine(loop), max_steps=1)
    (m,) = report.mismatches
    assert m.step == 1
    assert m.expected.startswith("status") and "out-of-steps" in m.expected
    assert m.got.startswith("status") and "rejected" in m.got


def test_a_network_that_leaves_the_code_is_reported_not_raised() -> None:
    tm = tr.load_machine("bb2")
    bad = with_weight(compiled(tm), "copy:R", "tape:R/L", Fraction(2))  # was 1: the tape code reaches 1.25
    try:
        report = verify(tm, [""], net=bad)
    except DecodeError:
        pytest.fail("DecodeError escaped verify")
    assert not report.ok
    (m,) = report.mismatches
    assert m.got.startswith("no configuration (") and "outside [0, 1)" in m.got


def test_a_network_of_another_machine_is_refused() -> None:
    with pytest.raises(InputError, match=r"the network was compiled from machine 'bb2', not 'bb3'"):
        verify(tr.load_machine("bb3"), [""], net=compiled(tr.load_machine("bb2")))


# ---------------------------------------------------------------- the report and the inputs


def test_the_report_views() -> None:
    report = VerifyReport("m", "compact", "preloaded", 2, 9, (Mismatch("ab", 0, 3, "q: x", "q: y"),))
    assert not report.ok and VerifyReport("m", "compact", "preloaded", 2, 9, ()).ok
    assert report.to_dict() == {
        "machine": "m",
        "construction": "compact",
        "input_mode": "preloaded",
        "ok": False,
        "inputs": 2,
        "steps": 9,
        "limited": 0,
        "mismatches": ["input 'ab', step 3: interpreter q: x, network q: y"],
    }
    assert report.summary().splitlines() == [
        "m [compact, preloaded]: network and interpreter DISAGREE on 1 inputs: 9 steps over 2 inputs checked",
        "  input 'ab', step 3: interpreter q: x, network q: y",
    ]
    assert str(Mismatch("ab", 2, 0, "a", "b")) == "input 'ab' head 2, step 0: interpreter a, network b"
    assert "agree: 4 steps over 1 inputs" in VerifyReport("m", "ss95", "streamed", 1, 4, ()).summary()
    assert "(1 stopped at their step limit before halting)" in VerifyReport("m", "c", "p", 1, 4, (), 1).summary()


def test_an_input_may_carry_its_own_step_limit_and_the_report_counts_the_limited_ones() -> None:
    bb3 = tr.load_machine("bb3")  # halts after 21 steps
    report = verify(bb3, [("", 0, 5), ("", 0, 30), ""], max_steps=10)
    assert (report.ok, report.inputs, report.steps, report.limited) == (True, 3, 5 + 21 + 10, 2)


def test_cli_verify_runs_each_worked_example_to_its_own_step_count(capsys, monkeypatch) -> None:
    import json

    import turingrnn.cli as cli
    from turingrnn.cli import main

    monkeypatch.setattr(cli, "VERIFY_MAX_STEPS", 50)  # below bb4's 107 steps: its examples must raise it
    path = str(tr.machines.parsing.list_constructions()["bb4"])
    assert main(["verify", path, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["steps"], report["limited"]) == (107 + 50 + 19, 1)  # the second example stops at its limit, 50
    assert main(["verify", path, "--json", "--max-steps", "40"]) == 0
    assert json.loads(capsys.readouterr().out)["limited"] == 2


def test_all_inputs_up_to_lists_every_word_shortest_first() -> None:
    sm = tr.load_machine("dyck1")  # input alphabet ( )
    words = list(all_inputs_up_to(sm, 2))
    assert words == ["", "(", ")", "((", "()", ")(", "))"]
    tm = tr.load_machine("bb2")
    assert len(list(all_inputs_up_to(tm, 3))) == 1 + 2 + 4 + 8
    assert list(all_inputs_up_to(tm, 0)) == [""]


def test_a_machine_without_stacks_has_only_the_empty_input() -> None:
    sm = tr.StackMachine(
        stacks=(),
        states=("q", "acc"),
        start="q",
        accept=frozenset({"acc"}),
        rules=(tr.StackRule(state="q", read=(), next="acc", ops=()),),
    )
    assert list(all_inputs_up_to(sm, 3)) == [""]


# ---------------------------------------------------------------- lockstep in chunks: bounded memory


@pytest.mark.parametrize("chunk", [1, 2, 7])
@pytest.mark.parametrize(
    ("name", "construction", "input_mode", "word"),
    [
        ("bb4", "compact", "preloaded", ""),  # 107 steps: many chunks
        ("bb2", "ss95", "streamed", ""),  # the reduced readout, through a streamed start
        ("dyck1", "compact", "streamed", "(()())"),
        ("dyck1", "realtime", "preloaded", "(()))"),  # rejects part way
    ],
)
def test_chunked_lockstep_gives_the_unchunked_verdict(monkeypatch, chunk, name, construction, input_mode, word) -> None:
    import turingrnn.check.verify as checking

    machine = tr.load_machine(name)
    net = compile_machine(machine, construction=construction, input_mode=input_mode)
    whole = verify(machine, [word], net=net)
    monkeypatch.setattr(checking, "CHUNK_STEPS", chunk)
    chunked = verify(machine, [word], net=net)
    assert whole.ok and chunked.ok and chunked.steps == whole.steps == run(machine, word).steps


@pytest.mark.parametrize("chunk", [1, 3])
def test_a_changed_weight_is_caught_at_the_same_step_in_chunks(monkeypatch, chunk: int) -> None:
    import turingrnn.check.verify as checking

    tm = tr.load_machine("bb2")
    bad = with_weight(compiled(tm), "tape:L/R", "state:A", Fraction(1, 2))
    monkeypatch.setattr(checking, "CHUNK_STEPS", chunk)
    (m,) = verify(tm, [""], net=bad).mismatches
    assert (m.step, m.expected, m.got) == (1, "B: 1[0]", "B: [0]")


def test_a_step_limit_in_the_middle_of_a_chunk_is_kept(monkeypatch) -> None:
    import turingrnn.check.verify as checking

    tm = tr.load_machine("bb4")
    monkeypatch.setattr(checking, "CHUNK_STEPS", 10)
    report = verify(tm, [""], max_steps=25)
    assert report.ok and report.steps == 25


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(["bb2", "bb3", "bb4", "binary_increment", "unary_to_binary"]),
    data=st.data(),
    edit=st.integers(0, 10**6),
    scale=st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(2), Fraction(-1)]),
)
def test_codes_and_configurations_give_the_same_verdict(name, data, edit, scale) -> None:
    """Lockstep by codes (verify_codes) finds the same first mismatch as decoding every configuration."""
    import turingrnn.check.verify_codes as verify_codes

    tm = tr.load_machine(name)
    word = data.draw(st.text(st.sampled_from([a for a in tm.symbols if a != tm.blank]), max_size=6))
    net = compiled(tm)
    assert verify_codes.eligible(net)
    k = edit % len(net.W)
    triples = [(r, c, w * scale) if n == k else (r, c, w) for n, (r, c, w) in enumerate(net.W)]
    bad = dataclasses.replace(net, W=tuple(t for t in triples if t[2] != 0))

    def outcome(candidate: Network) -> tuple:
        try:
            report = verify(tm, [word], net=candidate, max_steps=300)
        except TuringRNNError as e:  # the exact engine's own checks (a binary neuron off 0/1): the same either way
            return type(e), str(e)
        return report.ok, report.steps, [x.step for x in report.mismatches]

    for candidate in (net, bad):
        by_codes = outcome(candidate)
        with pytest.MonkeyPatch.context() as m:
            m.setattr(verify_codes, "eligible", lambda _net: False)
            by_words = outcome(candidate)
        assert by_codes == by_words
    assert verify(tm, [word], net=net, max_steps=300).ok
