"""The layered Siegelmann–Sontag construction: stack machines, and Turing machines through the reduction."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import stack_machines, tm_inputs, turing_machines
from test_compact_stack import (
    MODES,
    STACK_FILES,
    TM_FILES,
    branching_stack_machines,
    check_random_case,
    example_inputs,
    interpreter_configurations,
    length_bound,
    own_neurons,
    reference_run,
    with_inputs,
)

import turingrnn as tr
from turingrnn.check.verify import all_inputs_up_to, verify
from turingrnn.compile import ss95
from turingrnn.compile.compiler import compile_machine
from turingrnn.compile.gadgets import StreamHook
from turingrnn.compile.network import Network
from turingrnn.machines.model import EMPTY
from turingrnn.machines.reduction import pair_state, tm_to_stack_machine


def compile_tm(tm: tr.TuringMachine, mode: str) -> Network:
    return compile_machine(tm, construction="ss95", input_mode=mode)


def with_heads(words: list[str]) -> list[tuple[str, int]]:
    """Every word with every head position in it."""
    return [(w, h) for w in words for h in range(len(w) + 1)]


# ---------------------------------------------------------------- agreement with the interpreter


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.stem)
def test_every_bundled_stack_machine_agrees_with_the_interpreter_at_every_step(path: Path, mode: str) -> None:
    sm = tr.load_machine(path)
    net = compile_machine(sm, construction="ss95", input_mode=mode)
    bound = length_bound(len(sm.alphabet(sm.input_stack)), budget=200)  # type: ignore[arg-type]
    report = verify(sm, list(all_inputs_up_to(sm, bound)) + example_inputs(sm, False), net=net, max_steps=5000)
    assert report.ok, report.summary()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", TM_FILES, ids=lambda p: p.stem)
def test_every_bundled_turing_machine_agrees_with_the_interpreter_through_the_reduction(path: Path, mode: str) -> None:
    tm = tr.load_machine(path)
    net = compile_tm(tm, mode)
    words = list(all_inputs_up_to(tm, length_bound(len(tm.symbols), budget=40)))
    inputs = [(w, 0) for w in words] if mode == "streamed" else with_heads(words)
    report = verify(tm, inputs, net=net, max_steps=100)
    assert report.ok, report.summary()
    # The worked examples take up to 1,870 steps, except BB(5) (47 million), which stops at the limit.
    report = verify(tm, example_inputs(tm, mode == "streamed"), net=net, max_steps=2000)
    assert report.ok, report.summary()


@settings(max_examples=30, deadline=None)
@given(with_inputs(stack_machines()), st.sampled_from(MODES))
def test_random_stack_machines_agree_with_the_interpreter(case, mode: str) -> None:
    check_random_case(case, mode, "ss95")


@settings(max_examples=40, deadline=None)
@given(with_inputs(branching_stack_machines()), st.sampled_from(MODES))
def test_random_machines_reading_several_stacks_at_once_agree_with_the_interpreter(case, mode: str) -> None:
    check_random_case(case, mode, "ss95")


@settings(max_examples=40, deadline=None)
@given(turing_machines().flatmap(lambda m: st.tuples(st.just(m), tm_inputs(m, max_len=5))), st.sampled_from(MODES))
def test_random_turing_machines_agree_with_the_interpreter_at_every_step(case, mode: str) -> None:
    tm, (word, head) = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        report = verify(tm, [(word, head if mode == "preloaded" else 0)], net=compile_tm(tm, mode), max_steps=60)
    assert report.ok, report.summary()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "words"), [("anbn", ["", "ab", "aab", "ba"]), ("dyck1", ["(())", "())"])])
def test_reference_ticks_of_stack_machines_agree_and_respect_phases(name: str, words: list[str], mode: str) -> None:
    sm = tr.load_machine(name)
    net = compile_machine(sm, construction="ss95", input_mode=mode)
    for word in words:
        assert reference_run(net, sm, word, max_steps=40) == interpreter_configurations(sm, word, 0, 40)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "inputs"), [("bb2", [("", 0)]), ("binary_increment", [("1011", 0), ("11", 1)])])
def test_reference_ticks_of_turing_machines_agree_and_respect_phases(name: str, inputs, mode: str) -> None:
    tm = tr.load_machine(name)
    net = compile_tm(tm, mode)
    for word, head in inputs:
        if mode == "streamed" and head:
            continue
        got = reference_run(net, tm, word, head=head, max_steps=40)
        assert got == interpreter_configurations(tm, word, head, 40)


# ---------------------------------------------------------------- the streamed boot of Turing machines


@pytest.mark.parametrize("word", ["", "0", "1", "0110", "1100"])
def test_the_boot_makes_the_first_readout_the_turing_machines_initial_configuration(word: str) -> None:
    tm = tr.load_machine("binary_increment")
    got = reference_run(compile_tm(tm, "streamed"), tm, word, max_steps=0)
    assert got == [next(tr.steps(tm, word))]


def test_the_boot_reads_the_first_symbol_into_the_state() -> None:
    tm = tr.load_machine("bb2")
    net = compile_tm(tm, "streamed")
    assert {"boot", "boot:R>=0", "boot:R>=1", "boot:R=empty"} <= set(net.labels)
    assert net.stream_latency == ss95.TM_STREAM_LATENCY == 4  # the compiler takes the boot's latency
    assert own_neurons(net) == own_neurons(compile_tm(tm, "preloaded")) + len(tm.symbols) + 2


# ---------------------------------------------------------------- size and structure

SS95_STACK_SIZES = {
    "anbn": 29,
    "anbncn": 89,
    "anbncn_counters": 49,
    "binary_addition": 342,
    "cycle_navigation": 54,
    "duplicate_string": 150,
    "dyck1": 28,
    "dyck2": 34,
    "even_pairs": 42,
    "modular_arithmetic": 399,
    "modular_arithmetic_brackets": 1599,
    "palindrome": 39,
    "parity": 25,
    "reverse_string": 30,
    "stack_manipulation": 44,
}
SS95_TM_SIZES = {
    "bb2": 70,
    "bb3": 95,
    "bb4": 120,
    "bb5": 129,
    "binary_increment": 201,
    "minsky_7_4": 786,
    "rogozhin_4_6": 1183,
    "unary_to_binary": 564,
}


def test_the_counts_tables_cover_every_bundled_machine() -> None:
    assert sorted(SS95_STACK_SIZES) == [p.stem for p in STACK_FILES]
    assert sorted(SS95_TM_SIZES) == [p.stem for p in TM_FILES]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "neurons"), SS95_STACK_SIZES.items())
def test_bundled_stack_machines_have_the_recorded_neuron_counts(name: str, neurons: int, mode: str) -> None:
    net = compile_machine(tr.load_machine(name), construction="ss95", input_mode=mode)
    assert own_neurons(net) == neurons
    assert net.ticks_per_step == 4


@pytest.mark.parametrize(("name", "neurons"), SS95_TM_SIZES.items())
def test_bundled_turing_machines_have_the_recorded_neuron_counts(name: str, neurons: int) -> None:
    tm = tr.load_machine(name)
    preloaded, streamed = compile_tm(tm, "preloaded"), compile_tm(tm, "streamed")
    assert preloaded.size == neurons
    # Streamed: the boot's neurons, and a next-state neuron for every start pair (and a pop of R) if missing.
    boot = {"boot", "boot:R=empty", *(f"boot:R>={j}" for j in range(len(tm.symbols)))}
    starts = {f"state:{pair_state(tm.start, a)}@3" for a in tm.symbols} | {"gate:R/pop"}
    added = {label for label in streamed.labels if not label.startswith("load:")} - set(preloaded.labels)
    assert added == boot | (starts - set(preloaded.labels))


def expected_size(sm: tr.StackMachine, starts: list[str]) -> int:
    """The module's formula ``s0 + w + C + t + p' + sum_S (k_S + 3 + o_S)``, counted from the machine."""
    reachable = set(starts)
    while (grown := reachable | {r.next for r in sm.rules if r.state in reachable}) != reachable:
        reachable = grown
    configs = [(q, tops) for q in reachable - sm.halting_states for tops in classes(sm) if sm.rule(q, tops)]
    rules = [sm.rule(q, tops) for q, tops in configs]
    working = {q for q, _ in configs}
    targets = {r.next for r in rules if r}
    ops = [{str(r.ops[i]) for r in rules if r} for i in range(len(sm.stacks))]
    popped = sum("pop" in o and len(a) >= 2 for o, (_, a) in zip(ops, sm.stacks, strict=True))
    per_stack = sum(len(a) + 3 + len(o) for o, (_, a) in zip(ops, sm.stacks, strict=True))
    return len(reachable) + len(working) + len(configs) + len(targets) + popped + per_stack


def classes(sm: tr.StackMachine) -> list[tuple[str, ...]]:
    return list(itertools.product(*((*a, EMPTY) for _, a in sm.stacks)))


@settings(max_examples=40, deadline=None)
@given(st.one_of(stack_machines(), branching_stack_machines()))
def test_the_neuron_count_follows_the_formula(sm: tr.StackMachine) -> None:
    net = compile_machine(sm, construction="ss95")
    assert net.size == expected_size(sm, [sm.start])
    detectors = [label for label in net.labels if label.startswith("config:")]
    assert len(detectors) <= len(sm.states) * len(classes(sm))


def test_binary_stacks_get_the_top_and_nonempty_readouts_and_at_most_s_3_to_the_p_detectors() -> None:
    tm = tr.load_machine("bb4")
    sm = tm_to_stack_machine(tm).machine
    net = compile_machine(tm, construction="ss95")
    assert {label for label in net.labels if label.startswith("top:") and "@" not in label} == {
        "top:L>=0",
        "top:L>=1",
        "top:R>=0",
        "top:R>=1",
    }
    working = [q for q in sm.states if q not in sm.halting_states]
    assert sum(label.startswith("config:") for label in net.labels) <= len(working) * 3**2
    assert "config:A|0/L=1,R=empty" in net.labels and "gate:R/push 1" in net.labels


def test_layers_follow_each_other_and_idle_layers_are_quiet() -> None:
    for net in [
        compile_machine(tr.load_machine("palindrome"), construction="ss95"),
        compile_tm(tr.load_machine("bb3"), "streamed"),
    ]:
        assert all(bias <= 0 for label, bias in zip(net.labels, net.b, strict=True) if not label.startswith("load:"))
        phase = dict(zip(net.labels, net.phase, strict=True))
        for i, j, _ in net.W:
            if phase[net.labels[j]] != -1:
                assert phase[net.labels[i]] == (phase[net.labels[j]] + 1) % 4, (net.labels[j], net.labels[i])


def test_compiling_twice_gives_identical_weights() -> None:
    tm = tr.load_machine("rogozhin_4_6")
    assert (
        compile_tm(tm, "preloaded").fingerprint()
        == compile_tm(tr.load_machine("rogozhin_4_6"), "preloaded").fingerprint()
    )
    assert compile_tm(tm, "streamed") == compile_tm(tm, "streamed")
    sm = tr.load_machine("binary_addition")
    assert compile_machine(sm, construction="ss95") == compile_machine(sm, construction="ss95")


def test_every_start_pair_of_a_turing_machine_can_be_preloaded() -> None:
    tm = tr.load_machine("binary_increment")
    net = compile_tm(tm, "preloaded")
    assert net.preload is not None and net.readout.kind == "reduced"
    assert {pair_state(tm.start, a) for a in tm.symbols} <= {q for q, _ in net.preload.states}
    assert dict(net.preload.stacks) == {"L": "stack:L", "R": "stack:R"}


# ---------------------------------------------------------------- errors


def test_build_stack_needs_a_stack_machine() -> None:
    with pytest.raises(tr.CompileError, match=r"ss95 stack construction needs a StackMachine, got TuringMachine"):
        ss95.build_stack(tr.load_machine("bb2"))  # type: ignore[arg-type]


def test_build_tm_needs_a_turing_machine() -> None:
    with pytest.raises(
        tr.CompileError, match=r"ss95 Turing machine construction needs a TuringMachine, got StackMachine"
    ):
        ss95.build_tm(tr.load_machine("anbn"))  # type: ignore[arg-type]


def test_streamed_turing_machines_need_the_boot_latency() -> None:
    with pytest.raises(tr.CompileError, match=r"onto stack 'R' with latency 4 .* got stack 'R', latency 1"):
        ss95.build_tm(tr.load_machine("bb2"), StreamHook(stack="R"))
