"""network: building a Network by labels, its views and reference tick, and the network file (save, load, damage)."""

from __future__ import annotations

import dataclasses
import json
import tempfile
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import turingrnn as tr
from turingrnn.compile.compiler import INPUT_MODES, compile_machine, constructions_for
from turingrnn.compile.network import (
    FORMAT_VERSION,
    Linear,
    Network,
    NetworkBuilder,
    Preload,
    Readout,
    StackReadout,
    sigma,
)
from turingrnn.errors import CompileError, NetworkFileError

# Bundled machines that compile in milliseconds under every construction (the universal machines and the
# arithmetic tasks take seconds under some; they are covered by test_compiler and test_constructions).
SMALL = (
    "bb2",
    "bb3",
    "bb4",
    "binary_increment",
    "anbn",
    "dyck1",
    "dyck2",
    "parity",
    "reverse_string",
    "even_pairs",
    "cycle_navigation",
    "stack_manipulation",
)


def small_network(**fields) -> Network:
    """Three neurons and one line: x copies half of itself, y reads x and the line, z is a binary threshold on y."""
    b = NetworkBuilder()
    b.neuron("x", role="copy", inputs={"x": Fraction(1, 2)}, bias=Fraction(1, 4))
    b.neuron("y", role="stack", inputs={"x": 1}, lines={"in:a": Fraction(1, 3)}, phase=1)
    b.neuron("z", role="detector", inputs={"y": 4}, bias=-1, binary=True, phase=0)
    return b.build(ticks_per_step=2, **fields)


def compiled(name: str, construction: str = "compact", input_mode: str = "preloaded") -> Network:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        return compile_machine(tr.load_machine(name), construction=construction, input_mode=input_mode)


@st.composite
def compiled_networks(draw) -> Network:
    name = draw(st.sampled_from(SMALL))
    kind = tr.load_machine(name).kind
    construction = draw(st.sampled_from(constructions_for(kind)))
    input_mode = draw(st.sampled_from(INPUT_MODES))
    try:
        return compiled(name, construction, input_mode)
    except CompileError:  # a construction without that input mode (realtime streams nothing)
        assume(False)
        raise


def saved(net: Network, path: Path) -> dict[str, np.ndarray]:
    net.save(path)
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


# ---------------------------------------------------------------- building


def test_the_builder_keeps_labels_roles_flags_and_phases_in_declaration_order() -> None:
    net = small_network()
    assert net.labels == ("x", "y", "z")
    assert net.size == 3
    assert net.roles == ("copy", "stack", "detector")
    assert net.binary == (False, False, True)
    assert net.phase == (-1, 1, 0)
    assert net.inputs == ("in:a",)
    assert net.ticks_per_step == 2
    assert net.b == (Fraction(1, 4), Fraction(0), Fraction(-1))
    assert [net.index(label) for label in net.labels] == [0, 1, 2]


def test_the_builder_resolves_labels_into_sorted_sparse_weights() -> None:
    net = small_network()
    assert net.W == ((0, 0, Fraction(1, 2)), (1, 0, Fraction(1)), (2, 1, Fraction(4)))
    assert net.U == ((1, 0, Fraction(1, 3)),)
    assert net.rows() == [[(0, Fraction(1, 2))], [(0, Fraction(1))], [(1, Fraction(4))]]
    assert net.input_rows() == [[], [(0, Fraction(1, 3))], []]
    assert net.nonzeros == 3 + 1 + 2  # W, U, and the nonzero biases


def test_a_neuron_may_read_one_declared_later() -> None:
    b = NetworkBuilder()
    b.neuron("a", role="copy", inputs={"b": 1})
    b.neuron("b", role="copy", bias=Fraction(1, 2))
    net = b.build(ticks_per_step=1)
    assert net.W == ((0, 1, Fraction(1)),)
    assert net.tick({"b": Fraction(1, 2)}) == {"a": Fraction(1, 2), "b": Fraction(1, 2)}


def test_zero_weights_are_dropped_and_a_linear_constant_joins_the_bias() -> None:
    b = NetworkBuilder()
    b.neuron("a", role="copy", inputs={"a": 0}, lines={"in:x": 0})
    b.neuron("b", role="copy", inputs=Linear.of({"a": 2, "b": 0}, const=Fraction(1, 3)), bias=Fraction(1, 6))
    net = b.build(ticks_per_step=1)
    assert net.W == ((1, 0, Fraction(2)),)
    assert net.U == ()
    assert net.inputs == ("in:x",)  # the line is declared even though its weight is 0
    assert net.b == (Fraction(0), Fraction(1, 2))


def test_an_unknown_label_raises_naming_it_and_its_reader() -> None:
    b = NetworkBuilder()
    b.neuron("x", role="copy", inputs={"ghost": 1})
    with pytest.raises(CompileError, match=r"neuron 'x' reads 'ghost', which is not a neuron"):
        b.build(ticks_per_step=1)


def test_a_label_declared_twice_raises() -> None:
    b = NetworkBuilder()
    b.neuron("x", role="copy")
    assert "x" in b and "y" not in b
    with pytest.raises(CompileError, match=r"neuron 'x' is declared twice"):
        b.neuron("x", role="stack")


def test_lines_are_declared_once() -> None:
    b = NetworkBuilder()
    assert b.line("in:a") == "in:a"
    b.line("in:a")
    b.neuron("x", role="copy", lines={"in:b": 1, "in:a": 1})
    assert b.build(ticks_per_step=1).inputs == ("in:a", "in:b")


def test_a_network_with_repeated_labels_is_refused() -> None:
    net = small_network()
    with pytest.raises(CompileError, match="neuron labels are not unique"):
        dataclasses.replace(net, labels=("x", "x", "z"))


@pytest.mark.parametrize("matrix", ["W", "U"])
def test_an_explicit_zero_weight_is_refused_naming_where_it_is(matrix: str) -> None:
    net = small_network()
    triples = {"W": net.W, "U": net.U or ((0, 0, Fraction(1)),)}[matrix]
    i, j, _ = triples[0]
    fields = {matrix: ((i, j, Fraction(0)), *triples[1:])}
    if matrix == "U" and not net.inputs:
        fields["inputs"] = ("in:a",)
    with pytest.raises(CompileError, match=rf"{matrix} holds an explicit zero weight at \(row, column\) \({i}, {j}\)"):
        dataclasses.replace(net, **fields)


def test_an_unknown_neuron_index_names_the_label() -> None:
    with pytest.raises(KeyError, match=r"no neuron 'w' in this network"):
        small_network().index("w")


# ---------------------------------------------------------------- the reference tick and the views


def test_tick_is_sigma_of_w_x_plus_u_u_plus_b() -> None:
    net = small_network()
    out = net.tick({"x": Fraction(1), "y": Fraction(1, 2)}, {"in:a": 1})
    assert out == {
        "x": sigma(Fraction(1, 2) + Fraction(1, 4)),
        "y": sigma(Fraction(1) + Fraction(1, 3)),  # saturates at 1
        "z": sigma(4 * Fraction(1, 2) - 1),  # saturates at 1
    }
    assert out["y"] == 1 and out["x"] == Fraction(3, 4)
    assert net.tick({}) == {"x": Fraction(1, 4), "y": Fraction(0), "z": Fraction(0)}


def test_sigma_is_the_saturated_identity() -> None:
    assert [sigma(Fraction(z, 4)) for z in (-8, -1, 0, 1, 3, 4, 9)] == [0, 0, 0, Fraction(1, 4), Fraction(3, 4), 1, 1]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.fractions(-3, 3, max_denominator=12), min_size=9, max_size=9),
    st.lists(st.fractions(-2, 2, max_denominator=8), min_size=3, max_size=3),
    st.lists(st.fractions(0, 1, max_denominator=16), min_size=3, max_size=3),
)
def test_property_tick_matches_the_definition(weights, biases, values) -> None:
    labels = ("p", "q", "r")
    b = NetworkBuilder()
    for i, label in enumerate(labels):
        b.neuron(label, role="copy", inputs=dict(zip(labels, weights[3 * i : 3 * i + 3], strict=True)), bias=biases[i])
    net = b.build(ticks_per_step=1)
    x = dict(zip(labels, values, strict=True))
    for i, label in enumerate(labels):
        z = biases[i] + sum(w * x[src] for w, src in zip(weights[3 * i : 3 * i + 3], labels, strict=True))
        assert net.tick(x)[label] == sigma(z)


def test_the_float_and_sympy_views_hold_the_same_weights() -> None:
    net = small_network()
    W, U, b = net.as_float()
    assert W[2, 1] == 4.0 and W[0, 0] == 0.5 and U[1, 0] == pytest.approx(1 / 3) and list(b) == [0.25, 0.0, -1.0]
    assert not W.flags.writeable
    Ws, _, bs = net.as_sympy()
    assert str(Ws[0, 0]) == "1/2" and str(bs[0]) == "1/4"


def test_linear_of_sorts_drops_zeros_and_evaluates() -> None:
    e = Linear.of({"b": 2, "a": Fraction(1, 2), "c": 0}, const=1)
    assert e.terms == (("a", Fraction(1, 2)), ("b", Fraction(2)))
    assert e.value({"a": Fraction(2), "b": Fraction(1, 4)}.__getitem__) == Fraction(5, 2)
    assert Linear.from_json(e.to_json()) == e


def test_readout_and_preload_survive_their_json_form() -> None:
    readout = Readout(
        kind="stack",
        state_code=Linear.of({"state:q1": 1}, const=2),
        state_table=((2, "q0"), (3, "q1")),
        undefined_codes=(7,),
        stacks=(StackReadout(name="S", value=Linear.of({"stack:S": 1}), alphabet=("a", "b"), kind="stack"),),
    )
    preload = Preload(states=(("q0", (("state:q1", 0),)),), stacks=(("S", "stack:S"),), tops=(("S", 1, "top:S>=1"),))
    assert Readout.from_json(readout.to_json()) == readout
    assert Preload.from_json(preload.to_json()) == preload
    assert "tops" not in Preload(states=(), stacks=()).to_json()


# ---------------------------------------------------------------- compiled networks


@pytest.mark.parametrize(
    ("name", "construction", "ticks"),
    [("bb2", "compact", 2), ("bb2", "realtime", 1), ("dyck1", "realtime", 1), ("bb2", "small", 2)],
)
def test_compiled_networks_report_their_construction_and_ticks_per_step(name, construction, ticks) -> None:
    net = compiled(name, construction)
    assert (net.construction, net.input_mode, net.ticks_per_step) == (construction, "preloaded", ticks)
    assert net.machine == tr.load_machine(name)
    assert net.info()["neurons"] == net.size == len(net.labels) == len(set(net.labels))


def test_a_streamed_network_has_input_lines_and_no_preload() -> None:
    net = compiled("dyck1", "compact", "streamed")
    assert net.preload is None and net.stream_latency is not None
    assert {"in:end"} <= set(net.inputs)
    assert compiled("dyck1").preload is not None


@settings(max_examples=12, deadline=None)
@given(compiled_networks())
def test_property_compiling_twice_gives_bit_identical_networks(net: Network) -> None:
    again = compile_machine(net.machine, construction=net.construction, input_mode=net.input_mode)
    assert again == net
    assert again.W == net.W and again.b == net.b and again.labels == net.labels
    assert again.fingerprint() == net.fingerprint()


# ---------------------------------------------------------------- the network file


def test_a_built_network_without_a_machine_survives_save_and_load(tmp_path: Path) -> None:
    net = small_network()
    net.save(tmp_path / "net.npz")
    loaded = Network.load(tmp_path / "net.npz")
    assert loaded == net and loaded.machine is None
    assert loaded.tick({"x": Fraction(1)}, {"in:a": 1}) == net.tick({"x": Fraction(1)}, {"in:a": 1})


@settings(max_examples=12, deadline=None)
@given(compiled_networks())
def test_property_load_inverts_save(net: Network) -> None:
    with tempfile.TemporaryDirectory() as d:
        net.save(Path(d) / "net.npz")
        loaded = Network.load(Path(d) / "net.npz")
    assert loaded == net
    assert loaded.fingerprint() == net.fingerprint()
    assert loaded.preload == net.preload and loaded.readout == net.readout and loaded.machine == net.machine


def test_the_file_stores_exact_weights_as_numerators_and_denominators(tmp_path: Path) -> None:
    data = saved(small_network(), tmp_path / "net.npz")
    assert data["labels"].tolist() == ["x", "y", "z"]
    assert list(zip(data["W_num"].tolist(), data["W_den"].tolist(), strict=True)) == [
        ("1", "2"),
        ("1", "1"),
        ("4", "1"),
    ]
    assert data["b_num"].tolist() == ["1", "0", "-1"] and data["b_den"].tolist() == ["4", "1", "1"]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2), st.fractions(-5, 5, max_denominator=9))
def test_property_changing_one_weight_changes_the_fingerprint(k: int, w: Fraction) -> None:
    net = small_network()
    i, j, old = net.W[k]
    assume(w != old and w != 0)
    other = dataclasses.replace(net, W=tuple((i, j, w) if n == k else t for n, t in enumerate(net.W)))
    assert other != net and other.fingerprint() != net.fingerprint()


def test_a_missing_file_is_a_network_file_error(tmp_path: Path) -> None:
    with pytest.raises(NetworkFileError, match=r"absent\.npz: cannot read network file"):
        Network.load(tmp_path / "absent.npz")


@pytest.mark.parametrize("damage", ["junk", "truncated", "empty"])
def test_a_file_that_is_not_an_archive_is_refused(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "net.npz"
    small_network().save(path)
    raw = path.read_bytes()
    path.write_bytes({"junk": b"not a zip", "truncated": raw[: len(raw) // 2], "empty": b""}[damage])
    with pytest.raises(
        NetworkFileError, match=r"not a network file \(expected an \.npz archive written by turingrnn\)"
    ):
        Network.load(path)


def test_an_edited_weight_is_caught_by_the_fingerprint(tmp_path: Path) -> None:
    data = saved(compiled("bb2"), tmp_path / "net.npz")
    data["W_num"] = data["W_num"].copy()
    data["W_num"][0] = str(int(data["W_num"][0]) + 1)
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(NetworkFileError, match=r"bad\.npz: the weights do not match the file's fingerprint"):
        Network.load(tmp_path / "bad.npz")


def test_another_format_version_is_refused_naming_both(tmp_path: Path) -> None:
    data = saved(small_network(), tmp_path / "net.npz")
    meta = json.loads(str(data["meta"]))
    meta["format_version"] = FORMAT_VERSION + 1
    data["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "new.npz", **data)
    with pytest.raises(NetworkFileError, match=rf"network file format {FORMAT_VERSION + 1}; this turingrnn reads 1"):
        Network.load(tmp_path / "new.npz")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("meta"), r"corrupted network file \(KeyError"),
        (lambda d: d.pop("W_rows"), r"corrupted network file \(KeyError"),
        (lambda d: d.update(b_den=np.array(["4", "0", "1"])), r"corrupted network file \(ZeroDivisionError"),
        (lambda d: d.update(b_num=np.array(["1", "0"])), r"corrupted network file \(ValueError"),
        (lambda d: d.update(meta=np.array("{not json")), r"corrupted network file \(JSONDecodeError"),
        (lambda d: d.update(phase=np.array(["a", "b", "c"])), r"corrupted network file \(ValueError"),
    ],
)
def test_a_damaged_archive_names_what_is_wrong(tmp_path: Path, edit, message: str) -> None:
    data = saved(small_network(), tmp_path / "net.npz")
    edit(data)
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(NetworkFileError, match=message):
        Network.load(tmp_path / "bad.npz")


def test_a_weight_index_outside_the_network_is_refused_even_with_a_matching_fingerprint(tmp_path: Path) -> None:
    net = small_network()
    dataclasses.replace(net, W=((0, 7, Fraction(1)),)).save(tmp_path / "w.npz")  # save does not check
    with pytest.raises(NetworkFileError, match=r"W has an index outside the network"):
        Network.load(tmp_path / "w.npz")
    dataclasses.replace(net, U=((1, 3, Fraction(1)),)).save(tmp_path / "u.npz")
    with pytest.raises(NetworkFileError, match=r"U has an index outside the network"):
        Network.load(tmp_path / "u.npz")


def test_per_neuron_arrays_of_different_lengths_are_refused(tmp_path: Path) -> None:
    dataclasses.replace(small_network(), roles=("copy", "stack")).save(tmp_path / "short.npz")
    with pytest.raises(NetworkFileError, match=r"per-neuron arrays disagree on the number of neurons"):
        Network.load(tmp_path / "short.npz")
