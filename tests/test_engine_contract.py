"""The engine contract: prepare gives every engine its start, one classification of state codes, one dispatch."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import stack_inputs, stack_machines, tm_inputs, turing_machines

import turingrnn as tr
from turingrnn import engines
from turingrnn.compile.compiler import compile_machine
from turingrnn.engines import dispatch
from turingrnn.engines.exact_engine import _engine
from turingrnn.engines.fast_plan import _cached_plan
from turingrnn.engines.inputs import prepare
from turingrnn.engines.trace import STOP_REASONS, Action, classify, code_actions, decode_configuration, stop_reason
from turingrnn.errors import InputError
from turingrnn.machines.interpreter import steps

# ---------------------------------------------------------------- prepare


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_preloaded_start_holds_the_interpreters_initial_configuration(data: st.DataObject) -> None:
    tm = data.draw(turing_machines())
    word, head = data.draw(tm_inputs(tm))
    net = compile_machine(tm)
    start = prepare(net, word, head)
    values = dict(zip(net.labels, start.values, strict=True))
    assert decode_configuration(net, lambda label: values[label]) == next(steps(tm, word, head=head))
    assert (start.first_readout, start.last_input, start.inputs(0)) == (0, -1, (0,) * len(net.inputs))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_streamed_start_is_zero_and_reads_the_word_one_line_per_tick_then_the_end(data: st.DataObject) -> None:
    sm = data.draw(stack_machines(max_stacks=2))
    try:
        net = compile_machine(sm, input_mode="streamed")
    except tr.CompileError:
        assume(False)  # nothing to stream (no stacks)
    word = data.draw(stack_inputs(sm))
    start = prepare(net, word)
    assert set(start.values) <= {Fraction(0)}
    on = [[net.inputs[k] for k, x in enumerate(start.inputs(t)) if x] for t in range(len(word) + 3)]
    assert on == [[f"in:{c}"] for c in word] + [["in:end"], [], []]
    assert (start.first_readout, start.last_input) == (len(word) + net.stream_latency, len(word))


def test_an_unknown_input_mode_is_refused_with_the_allowed_ones() -> None:
    net = dataclasses.replace(compile_machine(tr.load_machine("bb2")), input_mode="spoken")
    with pytest.raises(InputError, match="input mode 'spoken' is unknown \\(allowed: preloaded, streamed\\)"):
        prepare(net, "")


def test_a_streamed_start_needs_the_head_on_the_first_symbol() -> None:
    net = compile_machine(tr.load_machine("bb2"), input_mode="streamed")
    with pytest.raises(InputError, match="head must be 0, got 1"):
        prepare(net, "11", 1)


# ---------------------------------------------------------------- the classification of state codes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turing_machines())
def test_every_engine_reads_a_state_code_as_the_one_classification_says(tm: tr.TuringMachine) -> None:
    """The exact kernel's go set, the float plan's action table and stop_reason all follow code_actions."""
    net = compile_machine(tm)
    actions = code_actions(net)
    table = dict(net.readout.state_table)
    assert set(actions) == set(table) | set(net.readout.undefined_codes)
    for code, action in actions.items():
        state = None if code in net.readout.undefined_codes else table[code]
        assert action is classify(net, state)
        assert action is (Action.HALT if state in tm.halting_states else Action.GO if state else Action.UNDEFINED)
        assert stop_reason(net, state, 1) == STOP_REASONS.get(action)
    assert _engine(net).cont == {code for code, action in actions.items() if action is Action.GO}
    arrays = _cached_plan(net, np.dtype("float64")).arrays
    for code, action in actions.items():
        assert arrays["action"][code - arrays["code_lo"]] == action


def test_an_undefined_code_at_the_first_readout_is_refused() -> None:
    with pytest.raises(tr.TuringRNNError, match="first readout holds the 'undefined transition' code"):
        stop_reason(compile_machine(tr.load_machine("bb2")), None, 0)


# ---------------------------------------------------------------- the dispatch


def assert_equal_traces(a: tr.Trace, b: tr.Trace) -> None:
    for field in ("steps", "stop", "diverged_at", "first_readout", "ticks"):
        assert getattr(a, field) == getattr(b, field), field
    assert a.configurations == b.configurations
    assert a.decode(trace=True) == b.decode(trace=True)
    assert a.first_divergence(b) is None and b.first_divergence(a) is None


@pytest.mark.parametrize(
    ("name", "mode", "word"),
    [("bb2", "preloaded", ""), ("bb2", "streamed", "11"), ("dyck2", "preloaded", "([])"), ("dyck2", "streamed", "([)")],
)
def test_every_engine_gives_an_equal_trace_on_a_small_machine(name: str, mode: str, word: str) -> None:
    machine = tr.load_machine(name)
    net = compile_machine(machine, input_mode=mode)
    traces = {engine: engines.run(net, word, engine=engine) for engine in engines.ENGINES}
    assert set(traces) == {"exact", "float64", "float32", "mp"}
    for engine, trace in traces.items():
        assert isinstance(trace, tr.Trace) and trace.engine == engine
        assert_equal_traces(trace, traces["exact"])
        assert trace.decode() == machine.run(word)
    assert {engine: t.prec for engine, t in traces.items()} == {"exact": None, "float64": 53, "float32": 24, "mp": 256}


def test_engine_options_reach_the_runner() -> None:
    net = compile_machine(tr.load_machine("bb4"))
    assert engines.run(net, engine="mp", prec=64, max_steps=5).prec == 64
    assert engines.run(net, engine="float32", max_steps=5).steps == 5
    assert engines.run(net, engine="exact", record="final").record == "final"
    with pytest.raises(InputError, match="prec must be a whole number"):
        engines.run(net, engine="mp", prec=1)


def test_run_many_equals_one_run_per_word_on_every_engine() -> None:
    machine = tr.load_machine("parity")
    net = compile_machine(machine)
    words = ["", "1", "1011", "1"]
    for engine in engines.ENGINES:
        batch = engines.run_many(net, words, engine=engine)
        assert len(batch) == len(words)
        for word, trace in zip(words, batch, strict=True):
            assert_equal_traces(trace, engines.run(net, word, engine=engine))
    assert engines.run_many(net, [], engine="float64") == []


def test_an_unknown_engine_is_refused_with_its_name_and_the_engines_there_are() -> None:
    net = compile_machine(tr.load_machine("bb2"))
    with pytest.raises(InputError, match="unknown engine 'float16'; engines are: exact, float64, float32, mp"):
        engines.run(net, "", engine="float16")
    with pytest.raises(InputError, match="unknown engine 'gpu'"):
        engines.run_many(net, [""], engine="gpu")


def test_a_new_engine_plugs_in_at_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "_REGISTRY", dict(dispatch._REGISTRY))
    seen = []

    def runner(net: tr.Network, start: engines.Start, **options: object) -> tr.Trace:
        seen.append(start.word)
        return dataclasses.replace(engines.run(net, start.word, **options), engine="mirror")

    engines.register("mirror", runner, summary="the exact engine under another name")
    net = compile_machine(tr.load_machine("bb2"))
    trace = engines.run(net, "1", engine="mirror", max_steps=3)
    assert trace.engine == "mirror" and trace.steps == 3 and seen == ["1"]
    assert "mirror" in engines.engine_names() and engines.lookup("mirror").summary.startswith("the exact")
    assert [t.engine for t in engines.run_many(net, ["", "1"], engine="mirror")] == ["mirror", "mirror"]
    engines.unregister("mirror")
    with pytest.raises(InputError, match="unknown engine 'mirror'"):
        engines.run(net, "1", engine="mirror")
