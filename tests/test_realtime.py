"""The realtime construction: one tick per machine step, exact, step for step with the interpreter."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import stack_inputs, stack_machines, tm_inputs, turing_machines
from test_compact_stack import branching_stack_machines

import turingrnn as tr
from turingrnn.check.prove import count_cases, prove
from turingrnn.check.verify import all_inputs_up_to, verify
from turingrnn.compile.compiler import compile_machine
from turingrnn.compile.network import Network
from turingrnn.engines.exact import run_exact
from turingrnn.machines.model import ANY, EMPTY

STACK_FILES = sorted((Path(__file__).parent.parent / "constructions" / "stack").glob("*.toml"))
WORDS = 120
"""Inputs per bundled machine: every word up to the longest length that keeps the count within this."""
UTMS = ("minsky_7_4", "rogozhin_4_6")
BIG = {"modular_arithmetic_brackets"}
"""3192 neurons: fewer and shorter words."""
SLOW = {"modular_arithmetic"}
"""2089 neurons and 1.1 million weights: the realtime compile alone takes about 20 s."""
STACK_PARAMS = [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW else []) for p in STACK_FILES]


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


def lockstep(machine: tr.TuringMachine | tr.StackMachine, words: list, size: int | None = None) -> Network:
    """Compile ``machine`` under realtime, check its size if given, and run it in lockstep on ``words``."""
    net = compile_machine(machine, construction="realtime")
    assert size is None or net.size == size
    report = verify(machine, words, net=net, max_steps=60)
    assert report.ok, report.summary()
    return net


# ---------------------------------------------------------------- agreement with the interpreter


@pytest.mark.parametrize("path", STACK_PARAMS)
def test_every_bundled_stack_machine_follows_the_interpreter_at_one_tick_per_step(path: Path) -> None:
    sm = tr.load_machine(path)
    net = compile_machine(sm, construction="realtime")
    assert net.ticks_per_step == 1
    words = short_words(sm, 30 if sm.name in BIG else WORDS)
    examples = [(ex.input, ex.head) for ex in sm.examples]
    report = verify(sm, [*words, *examples], net=net, max_steps=3000)
    assert report.ok, report.summary()
    assert report.inputs == len(words) + len(examples)


@pytest.mark.parametrize("path", STACK_PARAMS)
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


def tm_expected_size(tm: tr.TuringMachine) -> int:
    """``N = Q + |J_L| + |J_R| + 2 + sum_r (3 + n_r)``, counted from the machine."""
    alphabet = (tm.blank, *(a for a in tm.symbols if a != tm.blank))
    k = len(alphabet)
    j_r = {j for r in tm.rules for j in (alphabet.index(r.read), alphabet.index(r.read) + 1) if 1 <= j < k}
    j_l = k - 1 if any(r.move == "L" for r in tm.rules) else 0
    n = len(tm.states) + j_l + len(j_r) + 2
    for r in tm.rules:
        n += 3
        if r.next not in tm.halting_states:
            n += {"R": len(j_r), "L": j_l + len(j_r), "S": j_l}[r.move]
    return n


TM_FILES = sorted((Path(__file__).parent.parent / "constructions" / "tm").glob("*.toml"))


@pytest.mark.parametrize("path", TM_FILES, ids=lambda p: p.stem)
def test_every_bundled_turing_machine_follows_the_interpreter_on_two_half_tapes(path: Path) -> None:
    tm = tr.load_machine(path)
    net = compile_machine(tm, construction="realtime")
    assert net.readout.kind == "tape" and net.ticks_per_step == 1
    assert net.size == tm_expected_size(tm)
    words = list(all_inputs_up_to(tm, 3))[:30]
    report = verify(tm, words, net=net, max_steps=200)  # random tapes of the UTMs may never halt
    assert report.ok, report.summary()
    report = verify(tm, [(ex.input, ex.head) for ex in tm.examples], net=net, max_steps=3000)
    assert report.ok, report.summary()


def test_the_universal_machines_take_fewer_neurons_than_the_published_real_time_net() -> None:
    sizes = {name: compile_machine(tr.load_machine(name), construction="realtime").size for name in UTMS}
    assert sizes == {"minsky_7_4": 216, "rogozhin_4_6": 232}
    assert max(sizes.values()) < 886  # Siegelmann & Sontag 1995, at 1 tick per step as well


def test_a_turing_machine_runs_one_tick_per_step() -> None:
    tm = tr.load_machine("bb3")
    run = run_exact(compile_machine(tm, construction="realtime"), "")
    assert run.decode() == tm.run("")
    assert run.ticks == run.steps == 21


@settings(max_examples=30, deadline=None)
@given(turing_machines().flatmap(lambda m: st.tuples(st.just(m), st.lists(tm_inputs(m, max_len=4), max_size=3))))
def test_random_turing_machines_follow_the_interpreter_and_are_proved(case) -> None:
    tm, words = case
    net = lockstep(tm, words, tm_expected_size(tm))
    cert = prove(tm, net)
    assert cert.ok, cert.report(limit=3)


def test_streamed_input_is_refused_with_the_supported_mode() -> None:
    with pytest.raises(tr.CompileError, match=r"realtime construction takes preloaded input only"):
        compile_machine(tr.load_machine("dyck1"), construction="realtime", input_mode="streamed")
    with pytest.raises(tr.CompileError, match=r"realtime construction takes preloaded input only"):
        compile_machine(tr.load_machine("bb2"), construction="realtime", input_mode="streamed")


def test_the_preload_writes_the_top_thresholds_of_the_input() -> None:
    from turingrnn.engines.exact import start_values

    net = compile_machine(tr.load_machine("dyck2"), construction="realtime")
    assert net.preload is not None and net.preload.tops
    values = dict(zip(net.labels, start_values(net, "[(", 0), strict=True))
    alphabet = tr.load_machine("dyck2").alphabet("in")  # ( ) [ ]: "[" is index 2
    for stack, j, label in net.preload.tops:
        expected = int(stack == "in" and alphabet.index("[") >= j)
        assert values[label] == expected, label
    assert values["state:scan"] == 1 and values["stack:in"] == tr.compile.encoding.encode_word("[(", alphabet, "stack")


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
    lockstep(sm, words, expected_size(sm))


@settings(max_examples=40, deadline=None)
@given(
    branching_stack_machines().flatmap(
        lambda m: st.tuples(st.just(m), st.lists(stack_inputs(m, max_len=5), max_size=4))
    )
)
def test_random_machines_reading_and_popping_several_stacks_at_once_follow_the_interpreter(case) -> None:
    sm, words = case
    lockstep(sm, words, expected_size(sm))


# ---------------------------------------------------------------- proofs


@pytest.mark.parametrize("name", ["anbn", "dyck2", "palindrome", "anbncn_counters", "bb2", "minsky_7_4"])
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
