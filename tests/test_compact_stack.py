"""The compact stack machine construction: step-for-step agreement, counts, phases, determinism, errors.

The helpers at the top (a reference run with :meth:`Network.tick`, the input
bound, a strategy for machines that read several stacks at once) are shared
with ``test_ss95.py``.
"""

from __future__ import annotations

import itertools
import warnings
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import stack_inputs, stack_machines

import turingrnn as tr
from turingrnn.check.verify import all_inputs_up_to, verify
from turingrnn.compile import compact_stack
from turingrnn.compile.compiler import compile_machine
from turingrnn.compile.encoding import encode_word
from turingrnn.compile.gadgets import StreamHook
from turingrnn.compile.network import Network
from turingrnn.engines.trace import decode_configuration
from turingrnn.machines.interpreter import Configuration
from turingrnn.machines.model import ANY, EMPTY
from turingrnn.machines.reduction import tm_to_stack_machine

STACK_FILES = sorted((Path(__file__).parent.parent / "constructions" / "stack").glob("*.toml"))
TM_FILES = sorted((Path(__file__).parent.parent / "constructions" / "tm").glob("*.toml"))
MODES = ("preloaded", "streamed")

# ---------------------------------------------------------------- shared helpers


def length_bound(alphabet_size: int, budget: int = 400) -> int:
    """The longest length n such that all words of length <= n number at most ``budget``."""
    n = 0
    while sum(alphabet_size**i for i in range(n + 2)) <= budget and alphabet_size > 1:
        n += 1
    return n if alphabet_size > 1 else 8


def example_inputs(machine: tr.TuringMachine | tr.StackMachine, streamed: bool) -> list[tuple[str, int]]:
    """The file's worked examples as (word, head) pairs; streamed networks take head 0 only."""
    return [(ex.input, ex.head) for ex in machine.examples if not (streamed and ex.head)]


def own_neurons(net: Network) -> int:
    """Neurons of the construction itself (the streamed-input loader not counted)."""
    return sum(not label.startswith("load:") for label in net.labels)


def reference_run(
    net: Network, machine: tr.TuringMachine | tr.StackMachine, word: str, *, head: int = 0, max_steps: int
) -> list[Configuration | None]:
    """Decoded configurations at every readout tick of a :meth:`Network.tick` run, checking invariants at every tick.

    Before the stream has arrived every neuron but the loader's (and a boot's)
    is 0; afterwards a neuron of phase ``p`` is 0 outside the ticks of phase
    ``p``, and neurons flagged binary are 0 or 1.
    """
    T = net.ticks_per_step
    values: dict[str, Fraction] = {}
    if net.input_mode == "streamed":
        first = len(word) + (net.stream_latency or 0)
        for t in range(first):
            line = f"in:{word[t]}" if t < len(word) else "in:end" if t == len(word) else None
            values = net.tick(values, {line: 1} if line else {})
            quiet = [k for k, v in values.items() if v and not k.startswith(("load:", "boot"))]
            assert t + 1 > len(word) or not quiet, f"tick {t + 1}: {quiet} nonzero before the word has arrived"
            if t + 1 > len(word):
                check_tick(net, values, (t + 1 - first) % T)
    else:
        assert net.preload is not None
        first = 0
        if net.readout.kind == "reduced":
            config = tm_to_stack_machine(machine).initial(word, head=head)  # type: ignore[arg-type]
        else:
            config = next(tr.steps(machine, word))  # type: ignore[assignment]
        values = {k: Fraction(v) for k, v in dict(net.preload.states)[config.state]}
        alphabets = {s.name: s.alphabet for s in net.readout.stacks}
        for name, label in net.preload.stacks:
            values[label] = encode_word(config.stack(name), alphabets[name], "stack")
    out: list[Configuration | None] = []
    for step in itertools.count():
        check_tick(net, values, 0)
        config = decode_configuration(net, reader(values))
        out.append(config)
        if config is None or config.state in machine.halting_states or step == max_steps:
            return out
        for t in range(1, T + 1):
            values = net.tick(values)
            check_tick(net, values, t % T)


def reader(values: dict[str, Fraction]):
    return lambda label: values.get(label, Fraction(0))


def check_tick(net: Network, values: dict[str, Fraction], phase: int) -> None:
    for label, ph, binary in zip(net.labels, net.phase, net.binary, strict=True):
        v = values.get(label, Fraction(0))
        assert ph in (-1, phase) or v == 0, f"{label} (phase {ph}) is {v} at phase {phase}"
        assert not binary or v in (0, 1), f"{label} is flagged binary but is {v}"


def interpreter_configurations(machine, word: str, head: int, max_steps: int) -> list[Configuration | None]:
    """The interpreter's configurations, with ``None`` for an undefined halt as the network reads it."""
    configs: list[Configuration | None] = list(itertools.islice(tr.steps(machine, word, head=head), max_steps + 1))
    result = tr.run(machine, word, head=head, max_steps=max_steps)
    if result.reason == "undefined transition":
        configs[-1] = None
    return configs


@st.composite
def branching_stack_machines(draw, max_stacks: int = 3, max_symbols: int = 4, max_states: int = 4) -> tr.StackMachine:
    """Random deterministic stack machines whose transitions read several stacks at once.

    Rules are drawn with random reads (``any``, ``empty`` or a symbol on every
    stack); a rule that overlaps an earlier one of its state is dropped.
    """
    p = draw(st.integers(0, max_stacks))
    names = [f"s{i}" for i in range(p)]
    alphabets = [tuple("abcd"[: draw(st.integers(1, max_symbols))]) for _ in names]
    states = [f"q{i}" for i in range(draw(st.integers(1, max_states)))]
    targets = [*states, "acc", "rej"]
    rules: list[tr.StackRule] = []
    for _ in range(draw(st.integers(0, 10))):
        q = draw(st.sampled_from(states))
        reads = tuple(draw(st.sampled_from((ANY, EMPTY, *a))) for a in alphabets)
        overlaps = (
            all(x == y or ANY in (x, y) for x, y in zip(r.read, reads, strict=True)) for r in rules if r.state == q
        )
        if any(overlaps):
            continue
        ops = []
        for a, read in zip(alphabets, reads, strict=True):
            options = [tr.NOOP, *(tr.push(c) for c in a)] + ([tr.POP] if read not in (ANY, EMPTY) else [])
            ops.append(draw(st.sampled_from(options)))
        rules.append(tr.StackRule(state=q, read=reads, next=draw(st.sampled_from(targets)), ops=tuple(ops)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        return tr.StackMachine(
            stacks=tuple(zip(names, alphabets, strict=True)),
            states=tuple(targets),
            start="q0",
            accept=frozenset({"acc"}),
            reject=frozenset({"rej"}),
            rules=tuple(rules),
        )


def with_inputs(machines: st.SearchStrategy) -> st.SearchStrategy:
    return machines.flatmap(lambda m: st.tuples(st.just(m), st.lists(stack_inputs(m, max_len=5), max_size=4)))


def check_random_case(case: tuple[tr.StackMachine, list[str]], mode: str, construction: str) -> None:
    """Compile a random machine and check it on its words (a machine without stacks is only preloaded)."""
    sm, words = case
    mode = mode if sm.input_stack is not None else "preloaded"
    net = compile_machine(sm, construction=construction, input_mode=mode)
    report = verify(sm, words, net=net, max_steps=60)
    assert report.ok, report.summary()


# ---------------------------------------------------------------- agreement with the interpreter


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.stem)
def test_every_bundled_stack_machine_agrees_with_the_interpreter_at_every_step(path: Path, mode: str) -> None:
    sm = tr.load_machine(path)
    net = compile_machine(sm, input_mode=mode)
    bound = length_bound(len(sm.alphabet(sm.input_stack)))  # type: ignore[arg-type]
    report = verify(sm, list(all_inputs_up_to(sm, bound)) + example_inputs(sm, False), net=net, max_steps=5000)
    assert report.ok, report.summary()


@settings(max_examples=40, deadline=None)
@given(with_inputs(stack_machines()), st.sampled_from(MODES))
def test_random_stack_machines_agree_with_the_interpreter(case, mode: str) -> None:
    check_random_case(case, mode, "compact")


@settings(max_examples=60, deadline=None)
@given(with_inputs(branching_stack_machines()), st.sampled_from(MODES))
def test_random_machines_reading_several_stacks_at_once_agree_with_the_interpreter(case, mode: str) -> None:
    check_random_case(case, mode, "compact")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("name", "words"),
    [("anbn", ["", "aabb", "aab", "ba"]), ("dyck2", ["([])", "(]", "(("]), ("palindrome", ["ab#ba", "a#b"])],
)
def test_reference_ticks_agree_with_the_interpreter_and_respect_phases(name: str, words: list[str], mode: str) -> None:
    sm = tr.load_machine(name)
    net = compile_machine(sm, input_mode=mode)
    for word in words:
        assert reference_run(net, sm, word, max_steps=100) == interpreter_configurations(sm, word, 0, 100)


# ---------------------------------------------------------------- size, labels, determinism

COMPACT_SIZES = {
    "anbn": 17,
    "anbncn": 26,
    "anbncn_counters": 35,
    "binary_addition": 85,
    "cycle_navigation": 26,
    "duplicate_string": 26,
    "dyck1": 18,
    "dyck2": 20,
    "even_pairs": 21,
    "modular_arithmetic": 283,
    "modular_arithmetic_brackets": 159,
    "palindrome": 23,
    "parity": 12,
    "reverse_string": 10,
    "stack_manipulation": 23,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "neurons"), COMPACT_SIZES.items())
def test_bundled_machines_have_the_recorded_neuron_counts(name: str, neurons: int, mode: str) -> None:
    net = compile_machine(tr.load_machine(name), input_mode=mode)
    assert own_neurons(net) == neurons
    assert net.ticks_per_step == 2


def test_the_counts_table_covers_every_bundled_stack_machine() -> None:
    assert sorted(COMPACT_SIZES) == [p.stem for p in STACK_FILES]


@settings(max_examples=60, deadline=None)
@given(stack_machines())
def test_machines_reading_one_stack_at_a_time_meet_the_size_bound(sm: tr.StackMachine) -> None:
    net = compile_machine(sm)
    primary = compact_stack.primary_stacks(sm)
    k = {s: len(a) for s, a in sm.stacks}
    bound = len(sm.states).bit_length() + sum(k[s] + 1 if s else 1 for s in primary.values()) + 4 * len(sm.stacks)
    assert net.size <= bound
    assert not any(label.startswith("rule:") for label in net.labels)


def test_anbn_neurons_are_named_by_what_they_hold() -> None:
    net = compile_machine(tr.load_machine("anbn"))
    assert set(net.labels) == {
        "state:as",
        "top:in>=0@as",
        "top:in>=1@as",
        "state:bs",
        "top:in>=0@bs",
        "top:in>=1@bs",
        "top:count>=0",
        "copy:in",
        "copy:count",
        "gate:in/pop",
        "gate:in/pop@count=a",
        "gate:count/push",
        "gate:count/pop@count=a",
        "rule:bs@count=a",
        "rule:accept@count=empty",
        "code:0",
        "code:1",
    }
    assert {label for label, ph in zip(net.labels, net.phase, strict=True) if ph == 0} >= {"code:0", "gate:in/pop"}


def test_compiling_twice_gives_identical_weights() -> None:
    for mode in MODES:
        first = compile_machine(tr.load_machine("binary_addition"), input_mode=mode)
        again = compile_machine(tr.load_machine("binary_addition"), input_mode=mode)
        assert first.fingerprint() == again.fingerprint()
        assert first == again


def test_idle_phases_are_quiet_by_construction() -> None:
    for path in STACK_FILES:
        net = compile_machine(tr.load_machine(path))
        assert all(bias <= 0 for bias in net.b)
        assert set(net.phase) == {0, 1}
        phase = dict(zip(net.labels, net.phase, strict=True))
        for i, j, _ in net.W:
            assert phase[net.labels[i]] != phase[net.labels[j]], (net.labels[i], net.labels[j])


# ---------------------------------------------------------------- preload and edge cases


def test_every_state_can_be_preloaded_and_every_stack_has_its_own_neuron() -> None:
    sm = tr.load_machine("binary_addition")
    net = compile_machine(sm)
    assert net.preload is not None
    assert [q for q, _ in net.preload.states] == list(sm.states)
    targets = [label for _, label in net.preload.stacks]
    assert [s for s, _ in net.preload.stacks] == list(sm.stack_names) and len(set(targets)) == len(targets)


def test_a_run_may_start_from_any_configuration() -> None:
    sm = tr.load_machine("reverse_string")
    net = compile_machine(sm)
    assert net.preload is not None
    values = {k: Fraction(v) for k, v in dict(net.preload.states)["move"]}
    values[dict(net.preload.stacks)["in"]] = encode_word("01", ("0", "1"), "stack")
    values[dict(net.preload.stacks)["out"]] = encode_word("1", ("0", "1"), "stack")
    for _ in range(2):
        values = net.tick(values)
    start = tr.StackConfiguration("move", (("in", "01"), ("out", "1")))
    assert decode_configuration(net, reader(values)) == list(tr.steps(sm, start=start))[1]


def test_machine_without_stacks_counts_in_its_state() -> None:
    sm = tr.StackMachine(
        states=("a", "b", "c", "done"),
        start="a",
        halt=frozenset({"done"}),
        rules=tuple(tr.StackRule(state=q, read=(), next=n, ops=()) for q, n in [("a", "b"), ("b", "c"), ("c", "done")]),
    )
    net = compile_machine(sm)
    assert net.size == 3 + 3  # three code bits, one state neuron per working state
    report = verify(sm, [""], net=net)
    assert report.ok and report.steps == 3


def test_a_stack_no_transition_writes_holds_its_preloaded_code_for_tick_0() -> None:
    sm = tr.StackMachine(
        stacks=(("in", ("x",)),),
        states=("start", "yes"),
        start="start",
        accept=frozenset({"yes"}),
        rules=(tr.StackRule(state="start", read=(EMPTY,), next="yes", ops=(tr.NOOP,)),),
    )
    net = compile_machine(sm)
    assert "stack:in" in net.labels and dict(net.preload.stacks)["in"] == "stack:in"  # type: ignore[union-attr]
    report = verify(sm, ["", "x", "xx"], net=net)
    assert report.ok, report.summary()


def test_compact_stack_needs_a_stack_machine() -> None:
    with pytest.raises(tr.CompileError, match=r"compact stack construction needs a StackMachine, got TuringMachine"):
        compact_stack.build(tr.load_machine("bb2"))  # type: ignore[arg-type]


def test_streamed_input_must_arrive_with_latency_1() -> None:
    with pytest.raises(tr.CompileError, match=r"reads a streamed word with latency 1, not 3"):
        compact_stack.build(tr.load_machine("anbn"), StreamHook(stack="in", latency=3))
