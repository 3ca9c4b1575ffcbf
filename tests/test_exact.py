"""The exact engine: tick for tick equal to Network.tick, precision growth, step for step equal to the interpreter."""

from __future__ import annotations

import warnings
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import stack_machines, tm_inputs, turing_machines

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.compile.network import Network, NetworkBuilder
from turingrnn.engines.exact import generated_source, idle_neurons, run_exact, run_ticks
from turingrnn.machines.interpreter import run

ROGOZHIN_WORD, ROGOZHIN_HEAD = "<bb1b1bbb1c1c11111", 9
DENOMINATORS = (1, 2, 3, 4, 5, 6, 12)


def reference_ticks(
    net: Network, start: dict[str, Fraction], ticks: int, inputs: list[dict[str, int]] | None = None
) -> list[dict[str, Fraction]]:
    """Values at ticks 0..ticks by the slow Fraction reference ``Network.tick``."""
    values = {label: Fraction(start.get(label, 0)) for label in net.labels}
    out = [values]
    for t in range(ticks):
        values = net.tick(values, (inputs or [])[t] if t < len(inputs or []) else None)
        out.append(values)
    return out


# ---------------------------------------------------------------- random networks


@st.composite
def rationals(draw: st.DrawFn, low: int = -2, high: int = 2) -> Fraction:
    den = draw(st.sampled_from(DENOMINATORS))
    return Fraction(draw(st.integers(low * den, high * den)), den)


@st.composite
def networks(draw: st.DrawFn) -> tuple[Network, dict[str, Fraction], list[dict[str, int]]]:
    """A random network, start values and input lines.

    Analog neurons take any rational weights; binary neurons read only binary
    neurons and input lines with integer weights and an integer bias, so they
    are 0 or 1 by construction. Phases are random; about half the neurons get
    inputs only from the previous phase and a bias <= 0, so the kernel has
    neurons to skip; the start values respect the phases half of the time.
    """
    T = draw(st.integers(1, 3))
    analog = [f"x{i}" for i in range(draw(st.integers(1, 5)))]
    binary = [f"b{i}" for i in range(draw(st.integers(0, 3)))]
    lines = [f"in:{i}" for i in range(draw(st.integers(0, 2)))]
    labels = analog + binary
    phase = {label: draw(st.integers(-1, T - 1)) for label in labels}
    b = NetworkBuilder()
    for label in labels:
        phased = phase[label] >= 0 and draw(st.booleans())
        sources = [s for s in labels if not phased or phase[s] == (phase[label] - 1) % T]
        if label in binary:
            sources = [s for s in sources if s in binary]
        chosen = draw(st.lists(st.sampled_from(sources), unique=True, max_size=4)) if sources else []
        if label in binary:
            inputs = {s: draw(st.integers(-2, 2)) for s in chosen}
            bias: Fraction | int = draw(st.integers(-2, 0 if phased else 2))
        else:
            inputs = {s: draw(rationals()) for s in chosen}
            bias = draw(rationals(-2, 0 if phased else 2))
        used_lines = {} if phased else {k: draw(st.integers(-1, 1)) for k in lines if draw(st.booleans())}
        b.neuron(
            label, role="test", inputs=inputs, bias=bias, lines=used_lines, binary=label in binary, phase=phase[label]
        )
    for k in lines:
        b.line(k)
    net = b.build(ticks_per_step=T)
    start = {x: draw(rationals(0, 1)) for x in analog} | {x: Fraction(draw(st.integers(0, 1))) for x in binary}
    if draw(st.booleans()):
        start = {k: v if phase[k] in (-1, 0) else Fraction(0) for k, v in start.items()}
    inputs_at = [{k: draw(st.integers(0, 1)) for k in lines} for _ in range(draw(st.integers(0, 3)))]
    return net, start, inputs_at


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.integers(0, 12))
def test_single_ticks_equal_the_fraction_reference(case, ticks: int) -> None:
    net, start, inputs = case
    assert run_ticks(net, start, ticks, inputs=inputs) == reference_ticks(net, start, ticks, inputs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.integers(0, 6))
def test_step_kernel_equals_the_fraction_reference_at_every_readout(case, steps: int) -> None:
    net, start, _ = case
    T = net.ticks_per_step
    got = run_ticks(net, start, steps * T, record="steps")
    assert got == reference_ticks(net, start, steps * T)[::T]


def halving_network(ticks_per_step: int = 1) -> Network:
    """x halves every tick; y goes to y/3 + 1/5; z = sigma(x + y - 1/4) mixes both scales."""
    b = NetworkBuilder()
    b.neuron("x", role="test", inputs={"x": Fraction(1, 2)})
    b.neuron("y", role="test", inputs={"y": Fraction(1, 3)}, bias=Fraction(1, 5))
    b.neuron("z", role="test", inputs={"x": 1, "y": 1}, bias=Fraction(-1, 4))
    return b.build(ticks_per_step=ticks_per_step)


@pytest.mark.parametrize("record", ["ticks", "steps"])
def test_precision_grows_until_values_are_exact(record: str) -> None:
    net = halving_network(ticks_per_step=2)
    got = run_ticks(net, {"x": 1, "y": 1}, 300, record=record)
    want = reference_ticks(net, {"x": Fraction(1), "y": Fraction(1)}, 300)
    assert got == (want if record == "ticks" else want[::2])
    assert got[-1]["x"] == Fraction(1, 2**300)


def test_precision_cap_raises_instead_of_rounding() -> None:
    with pytest.raises(
        tr.PrecisionError,
        match=r"scale of \d+ decimal digits \(for neuron '[xy]' at tick \d+\), more than max_digits=60",
    ):
        run_ticks(halving_network(), {"x": 1}, 500, max_digits=60)


def fractional_binary_network() -> Network:
    b = NetworkBuilder()
    b.neuron("x", role="test", inputs={"x": 1})
    b.neuron("flag", role="test", inputs={"x": 1}, binary=True)
    return b.build(ticks_per_step=1)


@pytest.mark.parametrize("record", ["ticks", "steps"])
def test_binary_neuron_taking_a_fractional_value_raises(record: str) -> None:
    with pytest.raises(tr.TuringRNNError, match=r"binary neuron 'flag' took the value 1/3 at tick 1"):
        run_ticks(fractional_binary_network(), {"x": Fraction(1, 3)}, 2, record=record)


def test_binary_neuron_starting_fractional_raises() -> None:
    with pytest.raises(tr.TuringRNNError, match=r"binary neuron 'flag' starts at 1/2, not 0 or 1"):
        run_ticks(fractional_binary_network(), {"flag": Fraction(1, 2)}, 1)


def test_start_value_outside_the_unit_interval_raises() -> None:
    with pytest.raises(tr.InputError, match=r"start value of neuron 'x' is 3/2, outside \[0, 1\]"):
        run_ticks(halving_network(), {"x": Fraction(3, 2)}, 1)


# ---------------------------------------------------------------- compiled machines, end to end


def assert_lockstep(net: Network, word: str, head: int = 0, max_steps: int = 10_000, record: str = "steps") -> None:
    """Every decoded configuration (unless only the final one is kept), and the result, equal the interpreter's."""
    got = run_exact(net, word, head=head, max_steps=max_steps, record=record)
    keep = record != "final"
    assert got.decode(trace=keep) == run(net.machine, word, head=head, max_steps=max_steps, trace=keep)


def test_bb4_champion_runs_step_for_step_with_the_interpreter() -> None:
    net = compile_machine(tr.load_machine("bb4"))
    assert_lockstep(net, "")
    trace = run_exact(net, "")
    assert (trace.steps, trace.ticks, trace.decode().tape) == (107, 214, "10111111111111")


def test_rogozhin_worked_example_runs_step_for_step_with_the_interpreter() -> None:
    tm = tr.load_machine("rogozhin_4_6")
    net = compile_machine(tm)
    assert_lockstep(net, ROGOZHIN_WORD, ROGOZHIN_HEAD)
    result = run_exact(net, ROGOZHIN_WORD, head=ROGOZHIN_HEAD).decode()
    assert (result.steps, result.state, result.reason) == (518, "3", "undefined transition")


def test_minsky_worked_example_runs_step_for_step_with_the_interpreter() -> None:
    tm = tr.load_machine("minsky_7_4")
    example = tm.examples[0]
    assert_lockstep(compile_machine(tm), example.input, example.head)


@pytest.mark.parametrize("record", ["steps", "ticks", "final"])
def test_every_record_mode_gives_the_interpreters_result(record: str) -> None:
    assert_lockstep(compile_machine(tr.load_machine("bb3")), "", record=record)


def test_undefined_transition_halts_with_the_previous_configuration() -> None:
    tm = tr.parse_bbchallenge("1RB1LB_1LA---")
    trace = run_exact(compile_machine(tm), "")
    assert (trace.steps, trace.stop, trace.status) == (6, "undefined transition", tr.Status.HALTED)
    assert trace.configurations[6] == trace.configurations[5] == run(tm, "").configuration


def test_step_limit_gives_out_of_steps_like_the_interpreter() -> None:
    tm = tr.load_machine("bb4")
    trace = run_exact(compile_machine(tm), "", max_steps=50)
    assert trace.decode() == run(tm, "", max_steps=50)
    assert (trace.status, trace.halted, trace.steps) == (tr.Status.OUT_OF_STEPS, False, 50)


def test_zero_steps_reads_only_the_initial_configuration() -> None:
    tm = tr.load_machine("bb4")
    trace = run_exact(compile_machine(tm), "1", max_steps=0)
    assert trace.decode() == run(tm, "1", max_steps=0)
    assert trace.ticks == 0


@pytest.mark.parametrize(("name", "word"), [("anbn", "aaabbb"), ("anbn", "aab"), ("palindrome", "abba")])
def test_stack_machines_run_step_for_step_with_the_interpreter(name: str, word: str) -> None:
    assert_lockstep(compile_machine(tr.load_machine(name)), word)


@pytest.mark.parametrize("mode", ["preloaded", "streamed"])
def test_reduced_readout_networks_run_step_for_step_with_the_interpreter(mode: str) -> None:
    net = compile_machine(tr.load_machine("bb3"), construction="ss95", input_mode=mode)
    assert net.readout.kind == "reduced"
    assert_lockstep(net, "")
    assert_lockstep(net, "101", 1 if mode == "preloaded" else 0)


def test_streamed_input_gives_the_same_configurations_as_preloaded() -> None:
    tm = tr.load_machine("bb4")
    streamed = run_exact(compile_machine(tm, input_mode="streamed"), "1101")
    preloaded = run_exact(compile_machine(tm), "1101")
    assert streamed.configurations == preloaded.configurations
    assert streamed.first_readout == 4 + streamed.network.stream_latency
    assert streamed.ticks == streamed.first_readout + 2 * streamed.steps


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_turing_machines_run_step_for_step_in_both_input_modes(data: st.DataObject) -> None:
    tm = data.draw(turing_machines())
    word, head = data.draw(tm_inputs(tm))
    mode = data.draw(st.sampled_from(["preloaded", "streamed"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        net = compile_machine(tm, input_mode=mode)
    assert_lockstep(net, word, head if mode == "preloaded" else 0, max_steps=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_stack_machines_run_step_for_step_with_the_interpreter(data: st.DataObject) -> None:
    sm = data.draw(stack_machines())
    alphabet = sm.alphabet(sm.input_stack) if sm.input_stack else ()
    word = data.draw(st.text(alphabet=st.sampled_from(alphabet), max_size=5)) if alphabet else ""
    try:
        net = compile_machine(sm)
    except tr.CompileError:
        return  # no construction for this machine (e.g. no stacks)
    assert_lockstep(net, word, max_steps=40)


def test_compact_networks_skip_every_neuron_outside_its_phase() -> None:
    net = compile_machine(tr.load_machine("rogozhin_4_6"))
    assert set(idle_neurons(net)) == set(net.labels)
    assert run_exact(net, ROGOZHIN_WORD, head=ROGOZHIN_HEAD).info["phase_skipping"] is True


def test_rogozhin_tape_grows_the_precision_inside_the_kernel() -> None:
    net = compile_machine(tr.load_machine("rogozhin_4_6"))
    info = run_exact(net, ROGOZHIN_WORD, head=ROGOZHIN_HEAD).info
    assert info["growths"] >= 1


def test_generated_code_is_inspectable_python() -> None:
    source = generated_source(compile_machine(tr.load_machine("bb2")))
    assert source.startswith("def _kernel(vals, C, steps_left, rec, cont):")
    assert "def _tick(vals, u, C):" in source


@pytest.mark.parametrize("record", ["steps", "ticks"])
def test_recording_past_the_memory_cap_raises_instead_of_exhausting_memory(record: str) -> None:
    runaway = compile_machine(tr.parse_bbchallenge("1RA1RA"))  # walks right forever, the tape grows
    with pytest.raises(tr.PrecisionError, match=r"would take more than max_memory=200,000 bytes after step"):
        run_exact(runaway, "", max_steps=100_000, record=record, max_memory=200_000)
    assert run_exact(runaway, "", max_steps=100_000, record="final", max_memory=200_000).steps == 100_000


# ---------------------------------------------------------------- bad input


def test_symbol_outside_the_alphabet_names_it_and_the_allowed_ones() -> None:
    net = compile_machine(tr.load_machine("bb4"))
    with pytest.raises(tr.InputError, match=r"input symbol 'x' at position 1 .* allowed: '0', '1'"):
        run_exact(net, "1x")


def test_streamed_networks_refuse_a_head_position() -> None:
    net = compile_machine(tr.load_machine("bb4"), input_mode="streamed")
    with pytest.raises(tr.InputError, match=r"head must be 0, got 1"):
        run_exact(net, "11", head=1)


def test_unknown_record_mode_lists_the_valid_ones() -> None:
    net = compile_machine(tr.load_machine("bb2"))
    with pytest.raises(tr.InputError, match=r"record must be one of steps, ticks, final; got 'all'"):
        run_exact(net, "", record="all")


def test_negative_step_limit_is_refused() -> None:
    with pytest.raises(tr.InputError, match=r"max_steps must be a whole number >= 0, got -1"):
        run_exact(compile_machine(tr.load_machine("bb2")), "", max_steps=-1)
