"""Every bundled machine file loads, documents itself, and passes its worked examples."""

from __future__ import annotations

import warnings

import pytest

import turingrnn as tr
from turingrnn.machines.interpreter import check_examples

CONSTRUCTIONS = tr.list_constructions()


def test_constructions_are_found() -> None:
    assert len(CONSTRUCTIONS) >= 1


@pytest.mark.parametrize("name", sorted(CONSTRUCTIONS))
def test_construction_loads_without_warnings_and_passes_its_examples(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", tr.SpecWarning)
        machine = tr.load_machine(name)
    assert machine.name == name
    assert machine.description.strip(), f"{name} has no description"
    assert machine.examples, f"{name} has no worked examples"
    assert check_examples(machine) == []


@pytest.mark.parametrize("name", sorted(CONSTRUCTIONS))
def test_construction_round_trips_through_toml(name: str) -> None:
    machine = tr.load_machine(name)
    assert tr.loads_toml(tr.dump_toml(machine)) == machine


EXAMPLE_STEPS = {"compact": 3000, "ss95": 600, "realtime": 3000}
"""Machine steps checked per worked example: longer examples are checked up to this cap."""
SHORT_INPUT_STEPS = 200
"""Machine steps checked per short input (random short tapes of the UTMs may never halt)."""


def _short_inputs(machine: tr.TuringMachine | tr.StackMachine, budget: int = 40) -> list[str]:
    """All inputs up to the longest length whose count stays within ``budget``."""
    from turingrnn.check.verify import all_inputs_up_to

    words = list(all_inputs_up_to(machine, 0))
    for length in range(1, 6):
        batch = [w for w in all_inputs_up_to(machine, length) if len(w) == length]
        if len(words) + len(batch) > budget:
            break
        words += batch
    return words


MATRIX = [("compact", "preloaded"), ("compact", "streamed"), ("ss95", "preloaded"), ("ss95", "streamed")]
MATRIX += [("realtime", "preloaded")]  # realtime refuses streamed input
SLOW = {("modular_arithmetic_brackets", "realtime"), ("modular_arithmetic", "realtime")}
"""Dense realtime networks (3192 and 2089 neurons, about a million weights each): tens of seconds."""


@pytest.mark.parametrize(
    ("construction", "mode", "name"),
    [
        pytest.param(c, m, n, marks=[pytest.mark.slow] if (n, c) in SLOW else [], id=f"{n}-{c}-{m}")
        for c, m in MATRIX
        for n in sorted(CONSTRUCTIONS)
    ],
)
def test_every_construction_file_compiles_and_its_network_follows_the_interpreter(
    name: str, construction: str, mode: str
) -> None:
    from turingrnn.check.verify import verify

    machine = tr.load_machine(name)
    net = tr.compile_machine(machine, construction=construction, input_mode=mode)
    short = _short_inputs(machine)
    examples = [(ex.input, ex.head) for ex in machine.examples if mode == "preloaded" or ex.head == 0]
    for inputs, cap in ((short, SHORT_INPUT_STEPS), (examples, EXAMPLE_STEPS[construction])):
        report = verify(machine, inputs, net=net, max_steps=cap)
        assert report.ok, report.summary()
        assert report.inputs == len(inputs)
