"""The readout contract: a compiled network's readout carries all that the engines need from its machine.

The engines read the code → action table, the map back through a reduction,
the start configuration and the machine-level verdict from ``net.readout``,
never from ``net.machine``; a streamed network keeps its start preload, in
memory and in its file, so the proofs need not recompile it.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import turingrnn as tr
from turingrnn import engines
from turingrnn.compile.compiler import compile_machine, start_preload
from turingrnn.compile.network import Network, NetworkBuilder
from turingrnn.compile.readout import Action, reduction_of
from turingrnn.errors import InputError, TuringRNNError


class _Untouchable:
    """A machine stand-in that fails on any use: engines that read ``net.machine`` fail the test."""

    def __getattribute__(self, name: str) -> object:
        raise AssertionError(f"an engine read net.machine.{name}")


def _blinded(net: Network) -> Network:
    """``net`` with ``net.machine`` replaced after the readout was completed from the real machine."""
    object.__setattr__(net, "machine", _Untouchable())
    return net


CASES = [
    ("bb2", "compact", "preloaded", ""),  # readout kind "tape"
    ("bb2", "ss95", "preloaded", ""),  # kind "reduced": the map back goes through the 2-stack reduction
    ("anbn", "ss95", "streamed", "aabb"),
    ("dyck1", "compact", "preloaded", "(())()"),  # kind "stack"
    ("dyck1", "compact", "streamed", "(()"),
    ("dyck1", "realtime", "preloaded", "(()))"),
]


@pytest.mark.parametrize(("name", "construction", "mode", "word"), CASES)
@pytest.mark.parametrize("engine", ["exact", "float64", "mp"])
def test_every_engine_runs_from_the_readout_alone(
    name: str, construction: str, mode: str, word: str, engine: str
) -> None:
    machine = tr.load_machine(name)
    net = compile_machine(machine, construction=construction, input_mode=mode)
    expected = tr.run(machine, word, trace=True)
    got = engines.run(_blinded(net), word, engine=engine).decode(trace=True)
    assert got == expected


def test_the_generated_float_kernel_runs_from_the_readout_alone() -> None:
    machine = tr.load_machine("dyck1")
    net = _blinded(compile_machine(machine, construction="compact"))
    trace = engines.run(net, "(()())", engine="float64", kernel="generated")
    assert trace.decode() == tr.run(machine, "(()())")


def test_a_reduced_readout_carries_the_reduction_and_its_halting_states() -> None:
    tm = tr.load_machine("bb2")
    readout = compile_machine(tm, construction="ss95").readout
    reduction = reduction_of(tm)
    assert readout.reduction is reduction and readout.halting_states == reduction.machine.halting_states
    halting = {code for code, state in readout.state_table if state in reduction.machine.halting_states}
    assert halting and {c for c, a in readout.actions.items() if a is Action.HALT} == halting
    assert compile_machine(tm).readout.reduction is None  # kind "tape" reads the tape directly


def test_a_streamed_network_keeps_the_preloaded_networks_start_map() -> None:
    sm = tr.load_machine("dyck1")
    streamed = compile_machine(sm, input_mode="streamed")
    assert streamed.preload is None  # it takes no preloaded word ...
    assert streamed.readout.start_preload == compile_machine(sm).preload  # ... but knows where a start is written
    assert streamed.readout.start_preload == start_preload(sm, "compact")


def test_a_streamed_network_file_keeps_its_start_map(tmp_path: Path) -> None:
    net = compile_machine(tr.load_machine("anbn"), construction="ss95", input_mode="streamed")
    net.save(tmp_path / "n.npz")
    loaded = Network.load(tmp_path / "n.npz")
    assert loaded == net and loaded.readout.start_preload == net.readout.start_preload
    assert loaded.fingerprint() == net.fingerprint()


def test_a_streamed_file_written_before_the_start_map_was_kept_gets_it_from_its_machine(tmp_path: Path) -> None:
    net = compile_machine(tr.load_machine("dyck1"), input_mode="streamed")
    net.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz") as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    assert "start_preload" in meta
    del meta["start_preload"]
    arrays["meta"] = np.array(json.dumps(meta))
    with open(tmp_path / "old.npz", "wb") as f:
        np.savez_compressed(f, **arrays)  # type: ignore[arg-type]
    assert zipfile.is_zipfile(tmp_path / "old.npz")
    old = Network.load(tmp_path / "old.npz")
    assert old.readout.start_preload == net.readout.start_preload
    assert tr.prove(old.machine, old).ok


def test_a_network_without_a_machine_says_what_it_cannot_do() -> None:
    b = NetworkBuilder()
    b.neuron("x", role="copy", inputs={"x": 1})
    net = b.build(ticks_per_step=1)
    assert net.readout.halting_states == frozenset() and net.readout.start_preload is None
    with pytest.raises(InputError, match="the network's machine is NoneType; a run needs a machine to load"):
        net.readout.initial("ab")
    with pytest.raises(TuringRNNError, match="the network carries no machine"):
        net.readout.finish(0, tr.StackConfiguration("q", ()), "halting state")


def test_attaching_another_machine_recomputes_the_readouts_table() -> None:
    tm = tr.load_machine("bb2")
    net = compile_machine(tm)
    other = dataclasses.replace(tm, name="bb2-renamed")
    assert net.with_machine(other).readout.machine is other
    assert net.with_machine(other).readout.actions == net.readout.actions
