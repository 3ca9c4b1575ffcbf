"""The compiler: determinism, counts, errors, and the compact Turing machine construction step for step."""

from __future__ import annotations

import warnings
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import tm_inputs, turing_machines

import turingrnn as tr
from turingrnn.check.verify import all_inputs_up_to, verify
from turingrnn.compile.compiler import compile_machine
from turingrnn.compile.network import Network, NetworkFileError


def test_compiling_twice_gives_identical_weights() -> None:
    tm = tr.load_machine("rogozhin_4_6")
    assert compile_machine(tm).fingerprint() == compile_machine(tr.load_machine("rogozhin_4_6")).fingerprint()


@pytest.mark.parametrize(("name", "neurons"), [("rogozhin_4_6", 38), ("minsky_7_4", 41)])
def test_universal_machines_meet_the_compact_targets(name: str, neurons: int) -> None:
    tm = tr.load_machine(name)
    q = len([s for s in tm.states if s not in tm.halting_states])
    k = len(tm.symbols)
    target = q * k + k + (q + 1).bit_length() + 6  # Q*G + G + ceil(log2(Q+1)) + 6
    net = compile_machine(tm)
    assert net.size == neurons <= target
    assert net.ticks_per_step == 2


def test_every_neuron_has_a_unique_readable_label() -> None:
    net = compile_machine(tr.load_machine("bb4"))
    assert len(set(net.labels)) == net.size
    assert {"state:A", "top:R>=1@A", "copy:L", "tape:R/L", "code:0"} <= set(net.labels)


def test_weights_are_exact_rationals() -> None:
    net = compile_machine(tr.load_machine("rogozhin_4_6"))
    assert all(isinstance(w, Fraction) for _, _, w in net.W)
    assert Fraction(1, 12) in {w for _, _, w in net.W}


def test_idle_phase_biases_are_never_positive() -> None:
    for name in ("rogozhin_4_6", "minsky_7_4", "bb4"):
        net = compile_machine(tr.load_machine(name))
        assert all(bias <= 0 for bias in net.b)


def test_unknown_construction_lists_the_valid_ones() -> None:
    with pytest.raises(tr.CompileError, match=r"unknown construction 'fancy'; constructions are: compact, ss95"):
        compile_machine(tr.load_machine("bb2"), construction="fancy")


def test_unknown_input_mode_lists_the_valid_ones() -> None:
    with pytest.raises(tr.CompileError, match=r"unknown input mode 'later'; input modes are: preloaded, streamed"):
        compile_machine(tr.load_machine("bb2"), input_mode="later")


def test_compiling_something_that_is_not_a_machine_raises() -> None:
    with pytest.raises(tr.CompileError, match=r"needs a TuringMachine or StackMachine, got str"):
        compile_machine("1RB1LB_1LA---")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["preloaded", "streamed"])
@pytest.mark.parametrize(
    ("name", "word", "head", "steps"),
    [("bb4", "", 0, 107), ("rogozhin_4_6", "<bb1b1bbb1c1c11111", 9, 518), ("binary_increment", "1011", 0, 10)],
)
def test_compact_network_follows_the_interpreter_at_every_step(
    name: str, word: str, head: int, steps: int, mode: str
) -> None:
    if mode == "streamed" and head:
        pytest.skip("streamed input starts with the head on index 0")
    report = verify(tr.load_machine(name), [(word, head)], input_mode=mode)
    assert report.ok, report.summary()
    assert report.steps == steps


@pytest.mark.parametrize("name", ["binary_increment", "unary_to_binary", "bb2", "bb3", "bb4"])
def test_compact_network_agrees_on_all_short_inputs(name: str) -> None:
    tm = tr.load_machine(name)
    report = verify(tm, list(all_inputs_up_to(tm, 4)), max_steps=2000)
    assert report.ok, report.summary()


@settings(max_examples=60, deadline=None)
@given(turing_machines().flatmap(lambda m: st.tuples(st.just(m), tm_inputs(m, max_len=5))))
def test_random_turing_machines_compile_and_agree_at_every_step(case) -> None:
    tm, (word, head) = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        report = verify(tm, [(word, head)], max_steps=60)
    assert report.ok, report.summary()


def test_network_file_round_trip(tmp_path) -> None:
    net = compile_machine(tr.load_machine("minsky_7_4"))
    path = tmp_path / "net.npz"
    net.save(path)
    loaded = Network.load(path)
    assert loaded == net and loaded.fingerprint() == net.fingerprint()


def test_corrupted_network_file_is_rejected(tmp_path) -> None:
    import numpy as np

    net = compile_machine(tr.load_machine("bb2"))
    path = tmp_path / "net.npz"
    net.save(path)
    data = dict(np.load(path))
    data["W_num"] = np.array(["7"] * len(data["W_num"]))
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(NetworkFileError, match=r"do not match the file's fingerprint"):
        Network.load(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(NetworkFileError, match=r"not a network file"):
        Network.load(tmp_path / "junk.npz")


def test_network_views() -> None:
    net = compile_machine(tr.load_machine("bb2"))
    W, U, b = net.as_float()
    assert W.shape == (net.size, net.size) and not W.flags.writeable
    Ws, _, bs = net.as_sympy()
    assert Ws.shape == (net.size, net.size) and bs.shape == (net.size, 1)
    g = net.to_networkx()
    assert g.number_of_nodes() == net.size and g.number_of_edges() == len(net.W)
    assert g.nodes["copy:L"]["role"] == "copy"
    assert net.to_dot().startswith('digraph "compact"')
    info = net.info()
    assert info["neurons"] == net.size and sum(info["roles"].values()) == net.size
