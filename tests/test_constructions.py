"""Every bundled machine file loads, documents itself, and passes its worked examples."""

from __future__ import annotations

import warnings

import pytest

import turingrnn as tr
from turingrnn.interpreter import check_examples

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
