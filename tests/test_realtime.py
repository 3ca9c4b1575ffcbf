"""The realtime construction: one tick per machine step, exact, step for step with the interpreter."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import stack_inputs, stack_machines
from test_compact_stack import branching_stack_machines

import turingrnn as tr
from turingrnn.compiler import compile_machine
from turingrnn.exact import run_exact
from turingrnn.machines import ANY, EMPTY
from turingrnn.network import Network
from turingrnn.prove import count_cases, prove
from turingrnn.verify import all_inputs_up_to, verify

STACK_FILES = sorted((Path(__file__).parent.parent / "constructions" / "stack").glob("*.toml"))
WORDS = 120
"""Inputs per bundled machine: every word up to the longest length that keeps the count within this."""
BIG = {"modular_arithmetic_brackets"}
"""3192 neurons: fewer and shorter words."""


def short_words(machine: tr.StackMachine, budget: int) -> list[str]:
    """All words of length 0..n, for the largest n whose count stays within ``budget``."""
    words: list[str] = []
    for n in range(0, 12):
        batch = [w for w in all_inputs_up_to(machine, n) if len(w) == n]
        if words and len(words) + len(batch) > budget:
            break
        words += batch
    return words


def expected_size(sm: tr.StackMachine) -> int:
    """``N = Q + sum_S (|J_S| + 1) + sum_r (1 + w_r + sum_{S in u_r} |J_S|)``, counted from the machine."""
    alphabets = dict(sm.stacks)
    needed: dict[str, set[int]] = {s: set() for s in alphabets}
    for r in sm.rules:
        for s, v in zip(sm.stack_names, r.read, strict=True):
            if v == EMPTY:
                needed[s].add(0)
            elif v != ANY:
                a = alphabets[s].index(v)
                needed[s].update(j for j in (a, a + 1) if j < len(alphabets[s]))
    n = len(sm.states) + sum(len(js) + 1 for js in needed.values())
    for r in sm.rules:
        n += 1
        for s, v, op in zip(sm.stack_names, r.read, r.ops, strict=True):
            n += not (op.kind == "noop" and v == EMPTY)
            unknown_top = op.kind == "pop" or (op.kind == "noop" and v == ANY)
            if unknown_top and r.next not in sm.halting_states:
                n += len(needed[s])
    return n


# ---------------------------------------------------------------- agreement with the interpreter


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.stem)
def test_every_bundled_stack_machine_follows_the_interpreter_at_one_tick_per_step(path: Path) -> None:
    sm = tr.load_machine(path)
    net = compile_machine(sm, construction="realtime")
    assert net.ticks_per_step == 1
    words = short_words(sm, 30 if sm.name in BIG else WORDS)
    examples = [(ex.input, ex.head) for ex in sm.examples]
    report = verify(sm, [*words, *examples], net=net, max_steps=3000)
    assert report.ok, report.summary()
    assert report.inputs == len(words) + len(examples)


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.stem)
def test_the_neuron_count_follows_the_formula(path: Path) -> None:
    sm = tr.load_machine(path)
    net = compile_machine(sm, construction="realtime")
    assert net.size == expected_size(sm)


def test_step_n_is_read_at_tick_n() -> None:
    sm = tr.load_machine("dyck2")
    word = "([])[]"
    run = run_exact(compile_machine(sm, construction="realtime"), word, record="ticks")
    result = tr.run(sm, word)
    assert run.steps == result.steps == run.ticks
    assert run.first_readout == 0
    assert [run.readout_tick(k) for k in range(3)] == [0, 1, 2]
    assert list(run.configurations) == list(tr.steps(sm, word))


def test_transitions_that_pop_two_stacks_at_once_are_simulated() -> None:
    sm = tr.load_machine("anbn")
    assert any(sum(op.kind == "pop" for op in r.ops) == 2 for r in sm.rules)
    net = compile_machine(sm, construction="realtime")
    for word in ("aaabbb", "aaabb", "aabbb", "ab", ""):
        run = run_exact(net, word)
        assert run.decode(trace=True) == tr.run(sm, word, trace=True)


def test_turing_machines_run_through_the_two_stack_reduction() -> None:
    tm = tr.load_machine("bb3")
    net = compile_machine(tm, construction="realtime")
    assert net.readout.kind == "reduced" and net.ticks_per_step == 1
    run = run_exact(net, "")
    assert run.decode() == tm.run("")
    assert run.ticks == run.steps == 21
    assert verify(tm, ["", "1", "01", ("110", 2)], net=net, max_steps=500).ok


def test_streamed_input_is_refused_with_the_supported_mode() -> None:
    with pytest.raises(tr.CompileError, match=r"realtime construction takes preloaded input only"):
        compile_machine(tr.load_machine("dyck1"), construction="realtime", input_mode="streamed")
    with pytest.raises(tr.CompileError, match=r"realtime construction takes preloaded input only"):
        compile_machine(tr.load_machine("bb2"), construction="realtime", input_mode="streamed")


def test_the_preload_writes_the_top_thresholds_of_the_input() -> None:
    from turingrnn.exact import start_values

    net = compile_machine(tr.load_machine("dyck2"), construction="realtime")
    assert net.preload is not None and net.preload.tops
    values = dict(zip(net.labels, start_values(net, "[(", 0), strict=True))
    alphabet = tr.load_machine("dyck2").alphabet("in")  # ( ) [ ]: "[" is index 2
    for stack, j, label in net.preload.tops:
        expected = int(stack == "in" and alphabet.index("[") >= j)
        assert values[label] == expected, label
    assert values["state:scan"] == 1 and values["stack:in"] == tr.encoding.encode_word("[(", alphabet, "stack")


def test_compiling_is_deterministic_and_a_saved_network_keeps_its_preload(tmp_path: Path) -> None:
    sm = tr.load_machine("palindrome")
    a, b = compile_machine(sm, construction="realtime"), compile_machine(sm, construction="realtime")
    assert a.fingerprint() == b.fingerprint()
    a.save(tmp_path / "net.npz")
    loaded = Network.load(tmp_path / "net.npz")
    assert loaded.preload == a.preload and loaded.fingerprint() == a.fingerprint()
    assert all(x <= 0 for x in a.b)


@settings(max_examples=40, deadline=None)
@given(stack_machines().flatmap(lambda m: st.tuples(st.just(m), st.lists(stack_inputs(m, max_len=5), max_size=4))))
def test_random_stack_machines_follow_the_interpreter(case) -> None:
    sm, words = case
    net = compile_machine(sm, construction="realtime")
    assert net.size == expected_size(sm)
    report = verify(sm, words, net=net, max_steps=60)
    assert report.ok, report.summary()


@settings(max_examples=40, deadline=None)
@given(
    branching_stack_machines().flatmap(
        lambda m: st.tuples(st.just(m), st.lists(stack_inputs(m, max_len=5), max_size=4))
    )
)
def test_random_machines_reading_and_popping_several_stacks_at_once_follow_the_interpreter(case) -> None:
    sm, words = case
    net = compile_machine(sm, construction="realtime")
    report = verify(sm, words, net=net, max_steps=60)
    assert report.ok, report.summary()


# ---------------------------------------------------------------- proofs


@pytest.mark.parametrize("name", ["anbn", "dyck2", "palindrome", "anbncn_counters", "bb2"])
def test_prove_certifies_one_tick_per_step(name: str) -> None:
    machine = tr.load_machine(name)
    net = compile_machine(machine, construction="realtime")
    cert = prove(machine, net)
    assert cert.ok, cert.report(limit=5)
    assert cert.ticks_per_step == 1 and len(cert.cases) == count_cases(machine, net)


def test_prove_refines_a_popping_class_by_the_symbol_below_its_top() -> None:
    sm = tr.load_machine("dyck1")
    cert = prove(sm, compile_machine(sm, construction="realtime"))
    configurations = {c.configuration for c in cert.cases if c.kind == "step"}
    # ")" pops both stacks: both are split by the symbol below their tops, or nothing below
    assert {
        "scan in=[) (|r_in] open=[( (|r_open]",
        "scan in=[) (|r_in] open=[(]",
        "scan in=[)] open=[( (|r_open]",
        "scan in=[)] open=[(]",
    } <= configurations
    assert "scan in=[)|r_in] open=[]" in configurations  # a class whose transition pops nothing is not split


@settings(max_examples=25, deadline=None)
@given(branching_stack_machines())
def test_random_machines_reading_several_stacks_at_once_are_proved(sm) -> None:
    cert = prove(sm, compile_machine(sm, construction="realtime"))
    assert cert.ok, cert.report(limit=3)


def _shifted(net: Network, label: str, delta: Fraction) -> Network:
    b = list(net.b)
    b[net.index(label)] += delta
    return dataclasses.replace(net, b=tuple(b))


def test_a_broken_pop_threshold_fails_the_proof_naming_the_neuron() -> None:
    sm = tr.load_machine("dyck1")
    net = compile_machine(sm, construction="realtime")
    label = next(x for x in net.labels if x.startswith("next:in>=1@"))
    cert = prove(sm, _shifted(net, label, Fraction(1)))  # the threshold now tests the wrong digit
    assert not cert.ok
    assert {c.kind for c in cert.failures} == {"step"}
    assert any(c.neuron == label for c in cert.failures), cert.report(limit=5)
    assert all(run_exact(net, w).decode() == sm.run(w) for w in ("(())", "())"))


def test_a_gate_that_leaks_fails_the_proof() -> None:
    sm = tr.load_machine("reverse_string")
    net = compile_machine(sm, construction="realtime")
    label = next(x for x in net.labels if x.startswith("gate:in/"))
    cert = prove(sm, _shifted(net, label, Fraction(1, 2)))
    assert not cert.ok
    assert any(c.neuron == label for c in cert.failures), cert.report(limit=5)
