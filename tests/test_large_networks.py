"""Large networks: every engine runs a network with thousands of neurons and rows of thousands of terms.

A 6-stack machine under ``ss95`` compiles to 4,454 neurons, one row of which reads 3,883 neurons.
The generated code of the exact engine and of the float kernels used to nest such a row's sum
too deep for Python's compiler (``RecursionError``); the generated float kernel refuses a network
this large by name, and ``auto`` keeps the generic kernel.

The 8-stack machine under ``ss95`` compiles to 52,594 neurons and 1,084,881 weights (about 11 s).
Python runs out of memory compiling the exact engine's generated code for it, so the exact engine
runs its generic kernel (sparse rows, no generated code), which is checked here to equal the
generated code tick for tick on small networks.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Iterator
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_exact import ROGOZHIN_HEAD, ROGOZHIN_WORD, fractional_binary_network, halving_network, networks

import turingrnn as tr
from turingrnn import engines
from turingrnn.compile.network import Network
from turingrnn.engines import exact_engine
from turingrnn.engines.exact import run_exact, run_ticks
from turingrnn.engines.fast_plan import GENERATED_MAX_WEIGHTS


def ring_machine(stacks: int, alphabet: str = "ab") -> tr.StackMachine:
    """State ``q<k>`` moves stack ``k`` onto stack ``k + 1`` (reversed), symbol by symbol; then ``done``."""
    rules = []
    for k in range(stacks):
        nxt = (k + 1) % stacks
        for a in alphabet:
            rules.append(f'{{ state = "q{k}", read = {{ s{k} = "{a}" }}, next = "q{k}", '
                         f'ops = {{ s{k} = "pop", s{nxt} = "push {a}" }} }},')  # fmt: skip
        after = f"q{k + 1}" if k + 1 < stacks else "done"
        rules.append(f'{{ state = "q{k}", read = {{ s{k} = "empty" }}, next = "{after}" }},')
    text = "\n".join(
        [
            'kind = "stack"',
            f'name = "ring{stacks}"',
            "stacks = { " + ", ".join(f's{k} = "{alphabet}"' for k in range(stacks)) + " }",
            "states = [" + ", ".join(f'"q{k}"' for k in range(stacks)) + ', "done"]',
            'start = "q0"',
            'halt = ["done"]',
            'input_stack = "s0"',
            "transitions = [",
            *rules,
            "]",
        ]
    )
    return tr.loads_toml(text + "\n")


@functools.cache
def ring6() -> tuple[tr.StackMachine, tr.Network]:
    machine = ring_machine(6)
    return machine, tr.compile_machine(machine, construction="ss95")


def test_the_six_stack_network_has_a_row_too_long_for_a_nested_sum() -> None:
    _, net = ring6()
    longest = max(len(row) for row in net.rows())
    assert net.size == 4454 and longest > 3000 and len(net.W) > GENERATED_MAX_WEIGHTS


@pytest.mark.parametrize("engine", ["exact", "float64", "float32", "mp"])
def test_every_engine_runs_the_six_stack_network(engine: str) -> None:
    machine, net = ring6()
    trace = engines.run(net, "abba", engine=engine)
    assert trace.decode(trace=True) == tr.run(machine, "abba", trace=True)
    assert trace.final_configuration.stack("s0") == "abba" and trace.steps == 30


def test_the_generated_kernel_refuses_it_by_name_and_auto_runs_generic() -> None:
    machine, net = ring6()
    with pytest.raises(tr.InputError, match=r"has 70,081 recurrent weights, more than the generated kernel takes"):
        tr.run_float(net, "ab", kernel="generated")
    assert tr.run_float(net, "ab", kernel="auto").decode() == tr.run(machine, "ab")


@pytest.mark.slow  # about 110 s
def test_the_six_stack_network_is_proved() -> None:
    machine, net = ring6()
    assert tr.prove(machine, net).ok


# ---------------------------------------------------------------- the exact engine's generic kernel


def without_timing(info: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in info.items() if k not in ("kernel", "seconds", "phase_skipping")}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.integers(0, 12), st.booleans())
def test_the_generic_exact_tick_equals_the_generated_one_at_every_tick(case, ticks: int, int64: bool) -> None:
    net, start, inputs = case
    with pytest.MonkeyPatch.context() as patch:  # a fresh engine, its small parts in int64 or in Python ints
        patch.setattr(exact_engine, "_ENGINES", OrderedDict())
        patch.setattr(exact_engine, "_BY_ID", {})
        patch.setattr(exact_engine, "_INT64_BOUND", 2**62 if int64 else 0)
        generic = run_ticks(net, start, ticks, inputs=inputs, kernel="generic")
        assert exact_engine._engine(net, "generic").generic().int64 is int64
    assert generic == run_ticks(net, start, ticks, inputs=inputs, kernel="generated")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.integers(0, 6))
def test_the_generic_exact_step_kernel_equals_the_generated_one_at_every_readout(case, steps: int) -> None:
    net, start, _ = case
    T = net.ticks_per_step
    assert run_ticks(net, start, steps * T, record="steps", kernel="generic") == run_ticks(
        net, start, steps * T, record="steps", kernel="generated"
    )


@pytest.mark.parametrize("record", ["ticks", "steps"])
def test_the_generic_exact_kernel_grows_the_precision_like_the_generated_one(record: str) -> None:
    net = halving_network(ticks_per_step=2)
    got = run_ticks(net, {"x": 1, "y": 1}, 300, record=record, kernel="generic")
    assert got == run_ticks(net, {"x": 1, "y": 1}, 300, record=record, kernel="generated")
    assert got[-1]["x"] == Fraction(1, 2**300)


@pytest.mark.parametrize("record", ["ticks", "steps"])
def test_the_generic_exact_kernel_raises_on_a_fractional_binary_neuron(record: str) -> None:
    with pytest.raises(tr.TuringRNNError, match=r"binary neuron 'flag' took the value 1/3 at tick 1"):
        run_ticks(fractional_binary_network(), {"x": Fraction(1, 3)}, 2, record=record, kernel="generic")


@pytest.mark.parametrize(
    ("name", "word", "head", "mode"),
    [
        ("bb4", "", 0, "preloaded"),
        ("bb4", "", 0, "streamed"),
        ("rogozhin_4_6", ROGOZHIN_WORD, ROGOZHIN_HEAD, "preloaded"),
    ],
)
@pytest.mark.parametrize("record", ["steps", "ticks", "final"])
def test_the_generic_exact_kernel_runs_machines_like_the_generated_one(
    name: str, word: str, head: int, mode: str, record: str
) -> None:
    net = tr.compile_machine(tr.load_machine(name), input_mode=mode)
    generic = run_exact(net, word, head=head, record=record, kernel="generic")
    generated = run_exact(net, word, head=head, record=record, kernel="generated")
    assert generic.recording.segments == generated.recording.segments  # the same ints over the same scales
    assert (generic.steps, generic.ticks, generic.stop) == (generated.steps, generated.ticks, generated.stop)
    assert without_timing(generic.info) == without_timing(generated.info)
    assert (generic.info["kernel"], generated.info["kernel"]) == ("generic", "generated")


def test_auto_chooses_the_exact_kernel_by_weight_count_and_refuses_an_unknown_one() -> None:
    _, net = ring6()
    assert len(net.W) <= exact_engine.GENERATED_MAX_WEIGHTS and exact_engine.uses_generated(net)
    assert not exact_engine.uses_generated(net, "generic")
    with pytest.raises(tr.InputError, match=r"kernel must be one of auto, generic, generated; got 'numba'"):
        run_exact(net, "ab", kernel="numba")


# ---------------------------------------------------------------- 8 stacks: over 50,000 neurons


@pytest.fixture(scope="module")
def ring8() -> Iterator[tuple[tr.StackMachine, Network]]:
    machine = ring_machine(8)
    yield machine, tr.compile_machine(machine, construction="ss95")


def test_the_eight_stack_network_has_over_fifty_thousand_neurons_and_a_million_weights(ring8) -> None:
    _, net = ring8
    assert net.size == 52_594 and len(net.W) == 1_084_881
    assert not exact_engine.uses_generated(net)  # too big: auto runs the generic kernel


@pytest.mark.parametrize(
    "engine", ["exact", pytest.param("float64", marks=pytest.mark.slow), pytest.param("mp", marks=pytest.mark.slow)]
)  # float64 about 13 s, mp about 11 s (on top of the compile)
def test_every_engine_runs_the_eight_stack_network(ring8, engine: str) -> None:
    machine, net = ring8
    trace = engines.run(net, "ab", engine=engine, max_steps=100)
    assert trace.decode(trace=True) == tr.run(machine, "ab", trace=True)
    assert trace.final_configuration.stack("s0") == "ab" and trace.steps == 24
