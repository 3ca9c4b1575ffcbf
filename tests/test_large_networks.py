"""Large networks: every engine runs a network with thousands of neurons and rows of thousands of terms.

A 6-stack machine under ``ss95`` compiles to 4,454 neurons, one row of which reads 3,883 neurons.
The generated code of the exact engine and of the float kernels used to nest such a row's sum
too deep for Python's compiler (``RecursionError``); the generated float kernel refuses a network
this large by name, and ``auto`` keeps the generic kernel.
"""

from __future__ import annotations

import functools

import pytest

import turingrnn as tr
from turingrnn import engines
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
