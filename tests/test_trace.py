"""Trace: neuron columns, decoding, the JSON view, divergence; decode_configuration for every readout kind."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.compile.encoding import DecodeError, encode_word
from turingrnn.compile.network import Linear, Network, NetworkBuilder, Readout, StackReadout
from turingrnn.engines.exact import run_exact
from turingrnn.engines.trace import NotRecordedError, decode_configuration
from turingrnn.machines.interpreter import run
from turingrnn.machines.reduction import tm_to_stack_machine


@pytest.fixture(scope="module")
def bb4() -> Network:
    return compile_machine(tr.load_machine("bb4"))


def values(mapping: dict[str, Fraction | int]):
    return lambda label: Fraction(mapping.get(label, 0))


# ---------------------------------------------------------------- neuron columns


def test_a_column_holds_one_exact_value_per_readout(bb4: Network) -> None:
    trace = run_exact(bb4, "")
    column = trace["tape:R/R"]
    assert len(column) == trace.steps + 1
    assert all(isinstance(v, Fraction) and 0 <= v <= 1 for v in column)
    assert trace["code:0"][0] == 1  # start state A has code 1


def test_record_ticks_keeps_every_tick_and_agrees_at_readouts(bb4: Network) -> None:
    every = run_exact(bb4, "", record="ticks")
    readouts = run_exact(bb4, "")
    assert len(every["copy:R"]) == every.ticks + 1 == 215
    for label in ("tape:L/R", "code:1", "copy:L"):
        assert every[label][::2] == readouts[label]


def test_phase_one_neurons_are_zero_at_readout_ticks(bb4: Network) -> None:
    trace = run_exact(bb4, "", record="ticks")
    assert set(trace["copy:R"][::2]) == {0}
    assert any(trace["copy:R"][1::2])


def test_unknown_label_names_it_and_close_labels(bb4: Network) -> None:
    trace = run_exact(bb4, "", max_steps=3)
    with pytest.raises(KeyError, match=r"no neuron 'tape:R/X' in this network; close labels: tape:R/"):
        trace["tape:R/X"]


def test_values_at_an_unrecorded_tick_raise(bb4: Network) -> None:
    trace = run_exact(bb4, "", max_steps=3)
    assert trace.values(2)("code:1") == 1  # after step 1 the state is B (code 2)
    with pytest.raises(NotRecordedError, match=r"tick 3 was not recorded \(record='steps'"):
        trace.values(3)


# ---------------------------------------------------------------- decoding


def test_decode_equals_the_interpreters_result(bb4: Network) -> None:
    trace = run_exact(bb4, "1")
    assert trace.decode() == run(bb4.machine, "1")
    assert trace.decode(trace=True) == run(bb4.machine, "1", trace=True)
    assert trace.decode().output == bb4.machine.run("1").output


def test_status_fields_mirror_the_run_result(bb4: Network) -> None:
    trace = run_exact(bb4, "")
    result = trace.decode()
    assert (trace.status, trace.halted, trace.accepted, trace.reason) == (
        result.status,
        result.halted,
        result.accepted,
        result.reason,
    )


def test_accepting_stack_machine_decodes_its_verdict() -> None:
    net = compile_machine(tr.load_machine("anbn"))
    assert run_exact(net, "aabb").accepted is True
    assert run_exact(net, "aab").status is tr.Status.REJECTED


def test_record_final_keeps_the_result_but_not_the_steps(bb4: Network) -> None:
    trace = run_exact(bb4, "", record="final")
    assert trace.decode() == run(bb4.machine, "")
    assert len(trace["code:0"]) == 2
    with pytest.raises(NotRecordedError, match=r"record='final' keeps only the last readout"):
        _ = trace.configurations


def test_to_dict_is_the_run_result_json_plus_engine_fields(bb4: Network) -> None:
    trace = run_exact(bb4, "")
    data = trace.to_dict()
    assert data == run(bb4.machine, "").to_dict() | {"engine": "exact", "ticks": 214, "neurons": bb4.size}
    json.dumps(data)


def test_first_divergence_of_equal_runs_is_none(bb4: Network) -> None:
    assert run_exact(bb4, "").first_divergence(run_exact(bb4, "", record="ticks")) is None


def test_first_divergence_finds_the_first_differing_step(bb4: Network) -> None:
    # BB(4) with one transition changed (D reading 1 writes 1 instead of 0): equal until that rule is first used
    variant = tr.parse_bbchallenge("1RB1LB_1LA0LC_1RZ1LD_1RD1RA")
    ours, theirs = run_exact(bb4, ""), run_exact(compile_machine(variant), "", max_steps=200)
    ref_a, ref_b = run(bb4.machine, "", trace=True).trace, run(variant, "", max_steps=200, trace=True).trace
    first = next(k for k, (x, y) in enumerate(zip(ref_a, ref_b, strict=False)) if x != y)
    assert first > 1
    assert ours.first_divergence(theirs) == first == theirs.first_divergence(ours)


def test_a_shorter_run_diverges_where_it_ends(bb4: Network) -> None:
    assert run_exact(bb4, "", max_steps=10).first_divergence(run_exact(bb4, "", max_steps=20)) == 11


# ---------------------------------------------------------------- decode_configuration, by readout kind


def test_tape_readout_puts_the_scanned_cell_on_top_of_r(bb4: Network) -> None:
    # L = "1" (nearest first), R = "01": tape 1[0]1, state B (code 2)
    get = values({"code:1": 1, "tape:L/R": encode_word("1", ("0", "1"), "tape"), "tape:R/R": Fraction(1, 8)})
    assert decode_configuration(bb4, get) == tr.TMConfiguration("B", "101", 1)


def test_tape_readout_reads_an_empty_r_as_a_blank_under_the_head(bb4: Network) -> None:
    get = values({"code:0": 1, "tape:L/R": Fraction(1, 2)})
    assert decode_configuration(bb4, get) == tr.TMConfiguration("A", "10", 1)


def test_stack_readout_lists_stacks_in_the_machines_order() -> None:
    net = compile_machine(tr.load_machine("anbn"))
    initial = run_exact(net, "ab", max_steps=0)
    assert initial.configurations[0] == run(net.machine, "ab", max_steps=0).configuration


def reduced_network(tm: tr.TuringMachine) -> Network:
    """A hand-made network whose readout is the 2-stack reduction of ``tm`` (state in binary, stacks L and R)."""
    reduction = tm_to_stack_machine(tm)
    b = NetworkBuilder()
    for label in ("code:0", "code:1", "code:2", "code:3", "stack:L", "stack:R"):
        b.neuron(label, role="test", binary=label.startswith("code"))
    states = reduction.machine.states
    readout = Readout(
        kind="reduced",
        state_code=Linear.of({f"code:{i}": 2**i for i in range(4)}),
        state_table=tuple((i + 1, q) for i, q in enumerate(states)),
        undefined_codes=(15,),
        stacks=tuple(
            StackReadout(name=h, value=Linear.of({f"stack:{h}": 1}), alphabet=tm.symbols, kind="stack") for h in "LR"
        ),
    )
    return b.build(ticks_per_step=1, readout=readout, machine=tm)


def test_reduced_readout_maps_back_through_the_reduction() -> None:
    tm = tr.parse_bbchallenge("1RB1LB_1LA---")
    net = reduced_network(tm)
    code = {q: c for c, q in net.readout.state_table}["B|1"]
    bits = {f"code:{i}": code >> i & 1 for i in range(4)}
    stack = {"stack:L": encode_word("1", tm.symbols, "stack"), "stack:R": encode_word("11", tm.symbols, "stack")}
    assert decode_configuration(net, values(bits | stack)) == tr.TMConfiguration("B", "1111", 1)


def test_undefined_code_decodes_to_none() -> None:
    net = reduced_network(tr.parse_bbchallenge("1RB1LB_1LA---"))
    assert decode_configuration(net, values({f"code:{i}": 1 for i in range(4)})) is None


def test_fractional_state_code_raises(bb4: Network) -> None:
    with pytest.raises(DecodeError, match=r"state code 1/2 is not an integer"):
        decode_configuration(bb4, values({"code:0": Fraction(1, 2)}))


def test_state_code_outside_the_table_raises(bb4: Network) -> None:
    with pytest.raises(DecodeError, match=r"state code 7 is not in the state table \(codes: \[1, 2, 3, 4, 5\]\)"):
        decode_configuration(bb4, values({"code:0": 1, "code:1": 1, "code:2": 1}))


def test_invalid_stack_code_raises(bb4: Network) -> None:
    with pytest.raises(DecodeError, match=r"digit 1 at depth 1 is not a tape digit of base 4"):
        decode_configuration(bb4, values({"code:0": 1, "tape:R/R": Fraction(1, 4)}))
