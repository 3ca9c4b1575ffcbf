"""The float core: step for step equal to the exact engine until it flags, batched equal to one by one, clear errors."""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import stack_inputs, stack_machines, tm_inputs, turing_machines

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.compile.encoding import DecodeError
from turingrnn.engines.exact import run_exact
from turingrnn.engines.fast import run_float

CONSTRUCTIONS = ("compact", "ss95")
MODES = ("preloaded", "streamed")
MACHINES = ("bb2", "bb3", "binary_increment", "anbn", "dyck1", "dyck2", "reverse_string", "palindrome", "parity")
ROGOZHIN_WORD, ROGOZHIN_HEAD = "<bb1b1bbb1c1c11111", 9


def short_words(machine: tr.TuringMachine | tr.StackMachine, longest: int = 3) -> list[str]:
    if isinstance(machine, tr.TuringMachine):
        symbols = machine.symbols
    else:
        symbols = machine.alphabet(machine.input_stack) if machine.input_stack else ()
    return ["".join(p) for n in range(longest + 1) for p in itertools.product(symbols, repeat=n)][:40]


def assert_equal_or_flagged(fast: tr.Trace, exact: tr.Trace) -> None:
    """The float run decodes to the exact configurations at every step before its flag, and stops at the flag."""
    if fast.diverged_at is None:
        assert fast.configurations == exact.configurations
        assert (fast.steps, fast.stop, fast.status) == (exact.steps, exact.stop, exact.status)
    else:
        assert fast.steps == fast.diverged_at
        assert [fast.configuration(k) for k in range(fast.steps)] == list(exact.configurations[: fast.steps])
        assert fast.first_divergence(exact) == fast.diverged_at


# ---------------------------------------------------------------- equal to the exact engine


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("construction", CONSTRUCTIONS)
@pytest.mark.parametrize("name", MACHINES)
def test_float64_equals_the_exact_engine_on_short_inputs(name: str, construction: str, mode: str) -> None:
    machine = tr.load_machine(name)
    net = compile_machine(machine, construction=construction, input_mode=mode)
    words = short_words(machine)
    for word, fast in zip(words, run_float(net, words, max_steps=400), strict=True):
        exact = run_exact(net, word, max_steps=400)
        assert fast.diverged_at is None, fast.info["divergence"]
        assert_equal_or_flagged(fast, exact)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("construction", CONSTRUCTIONS)
def test_float32_equals_the_exact_engine_or_flags(construction: str, mode: str) -> None:
    for name in ("bb4", "dyck2", "binary_increment"):
        machine = tr.load_machine(name)
        net = compile_machine(machine, construction=construction, input_mode=mode)
        words = short_words(machine, 5)
        for word, fast in zip(words, run_float(net, words, dtype=np.float32, max_steps=300), strict=True):
            assert_equal_or_flagged(fast, run_exact(net, word, max_steps=300))


def test_bb4_runs_to_its_halt_in_float64() -> None:
    net = compile_machine(tr.load_machine("bb4"))
    fast = run_float(net, "")
    assert (fast.steps, fast.diverged_at, fast.reason) == (107, None, "halting state")
    assert fast.decode() == tr.load_machine("bb4").run("")
    assert fast.to_dict()["engine"] == "float64"


def test_minsky_runs_thousands_of_steps_in_both_dtypes() -> None:
    net = compile_machine(tr.load_machine("minsky_7_4"))
    exact = run_exact(net, "", max_steps=2000)
    for dtype in ("float64", "float32"):
        fast = run_float(net, "", dtype=dtype, max_steps=2000)
        assert fast.diverged_at is None
        assert fast.configurations == exact.configurations


def test_rogozhin_worked_example_is_flagged_where_its_tape_outgrows_float64() -> None:
    net = compile_machine(tr.load_machine("rogozhin_4_6"))
    fast = run_float(net, ROGOZHIN_WORD, head=ROGOZHIN_HEAD)
    assert fast.diverged_at is not None and fast.diverged_at < 518
    assert_equal_or_flagged(fast, run_exact(net, ROGOZHIN_WORD, head=ROGOZHIN_HEAD))
    assert "precision exhausted" in fast.info["divergence"]


def test_flagged_step_does_not_decode() -> None:
    net = compile_machine(tr.load_machine("reverse_string"))
    fast = run_float(net, "01" * 20, dtype="float32")
    assert fast.diverged_at == 0
    with pytest.raises(DecodeError, match="step 0: float32 left the code: stack 'in'"):
        fast.configuration(0)
    assert fast.first_divergence(run_exact(net, "01" * 20)) == 0


def test_undefined_transition_halts_with_the_previous_configuration() -> None:
    tm = tr.parse_bbchallenge("1RB---_1LA0RB")
    net = compile_machine(tm)
    fast, exact = run_float(net, "0"), run_exact(net, "0")
    assert fast.reason == exact.reason == "undefined transition"
    assert fast.configurations == exact.configurations


def test_record_final_keeps_the_last_readouts_and_the_result() -> None:
    net = compile_machine(tr.load_machine("bb4"))
    fast = run_float(net, "", record="final")
    assert fast.record == "final" and len(fast["code:0"]) == 2
    assert fast.decode() == tr.load_machine("bb4").run("")


def test_step_limit_gives_out_of_steps() -> None:
    net = compile_machine(tr.load_machine("bb4"))
    fast = run_float(net, "", max_steps=10)
    assert (fast.steps, fast.status, fast.diverged_at) == (10, tr.Status.OUT_OF_STEPS, None)
    assert run_float(net, "", max_steps=0).configurations == run_exact(net, "", max_steps=0).configurations


def test_float_values_are_recorded_by_label() -> None:
    net = compile_machine(tr.load_machine("bb2"))
    fast, exact = run_float(net, ""), run_exact(net, "")
    assert fast["tape:L/R"] == [float(x) for x in exact["tape:L/R"]]


# ---------------------------------------------------------------- batches


@pytest.mark.parametrize("construction", CONSTRUCTIONS)
def test_batched_runs_equal_one_by_one(construction: str) -> None:
    machine = tr.load_machine("dyck2")
    net = compile_machine(machine, construction=construction)
    words = short_words(machine, 4)
    for dtype in ("float64", "float32"):
        batch = run_float(net, words, dtype=dtype, max_steps=200)
        serial = run_float(net, words, dtype=dtype, max_steps=200, parallel=False)
        for word, fast, other in zip(words, batch, serial, strict=True):
            single = run_float(net, word, dtype=dtype, max_steps=200)
            for t in (fast, other):
                assert (t.steps, t.stop, t.diverged_at) == (single.steps, single.stop, single.diverged_at)
                assert t[net.labels[-1]] == single[net.labels[-1]]
                if single.diverged_at is None:
                    assert t.configurations == single.configurations


def test_words_halting_at_different_steps_keep_their_own_results() -> None:
    machine = tr.load_machine("reverse_string")
    net = compile_machine(machine, input_mode="streamed")
    words = ["", "0", "0110", "1" * 9]
    for word, fast in zip(words, run_float(net, words), strict=True):
        assert fast.decode() == machine.run(word)
        assert fast.info["word"] == word


def test_a_long_batch_records_every_step_across_kernel_calls() -> None:
    net = compile_machine(tr.load_machine("minsky_7_4"))
    fast = run_float(net, ["", ""], max_steps=5000)
    exact = run_exact(net, "", max_steps=5000)
    assert fast[0].configurations == fast[1].configurations == exact.configurations


# ---------------------------------------------------------------- random machines


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_turing_machines_equal_the_exact_engine_or_flag(data: st.DataObject) -> None:
    tm = data.draw(turing_machines())
    word, head = data.draw(tm_inputs(tm))
    mode = data.draw(st.sampled_from(MODES))
    construction = data.draw(st.sampled_from(CONSTRUCTIONS))
    dtype = data.draw(st.sampled_from(("float32", "float64")))
    net = compile_machine(tm, construction=construction, input_mode=mode)
    head = head if mode == "preloaded" else 0
    fast = run_float(net, word, head=head, dtype=dtype, max_steps=60)
    assert_equal_or_flagged(fast, run_exact(net, word, head=head, max_steps=60))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_stack_machines_equal_the_exact_engine_or_flag(data: st.DataObject) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        sm = data.draw(stack_machines())
    word = data.draw(stack_inputs(sm))
    mode = data.draw(st.sampled_from(MODES)) if sm.input_stack is not None else "preloaded"
    construction = data.draw(st.sampled_from(CONSTRUCTIONS))
    dtype = data.draw(st.sampled_from(("float32", "float64")))
    net = compile_machine(sm, construction=construction, input_mode=mode)
    fast = run_float(net, word, dtype=dtype, max_steps=60)
    assert_equal_or_flagged(fast, run_exact(net, word, max_steps=60))


# ---------------------------------------------------------------- bad input


def test_float16_is_refused_naming_the_allowed_dtypes() -> None:
    net = compile_machine(tr.load_machine("bb2"))
    with pytest.raises(tr.InputError, match=r"dtype must be one of float32, float64; got <class 'numpy.float16'>"):
        run_float(net, "", dtype=np.float16)
    with pytest.raises(tr.InputError, match=r"dtype must be one of float32, float64; got 'fast'"):
        run_float(net, "", dtype="fast")


def test_symbol_outside_the_alphabet_is_refused_by_name() -> None:
    net = compile_machine(tr.load_machine("dyck1"))
    with pytest.raises(tr.InputError, match=r"input symbol 'x' at position 1 is not in the alphabet"):
        run_float(net, ["()", "(x"])


def test_negative_step_limit_is_refused() -> None:
    net = compile_machine(tr.load_machine("bb2"))
    with pytest.raises(tr.InputError, match="max_steps must be a whole number >= 0, got -1"):
        run_float(net, "", max_steps=-1)


def test_words_must_be_a_string_or_a_list_of_strings() -> None:
    net = compile_machine(tr.load_machine("bb2"))
    with pytest.raises(tr.InputError, match="words must be a str or a list of str; got int"):
        run_float(net, 3)  # type: ignore[arg-type]
    with pytest.raises(tr.InputError, match="words must be a str or a list of str; got list"):
        run_float(net, ["0", 1])  # type: ignore[list-item]


def test_unknown_record_mode_lists_the_valid_ones() -> None:
    net = compile_machine(tr.load_machine("bb2"))
    with pytest.raises(tr.InputError, match="record must be one of steps, final; got 'ticks'"):
        run_float(net, "", record="ticks")


# ---------------------------------------------------------------- generated kernels (turingrnn.engines.fastgen)


def assert_same_run(a: tr.Trace, b: tr.Trace) -> None:
    """Two float runs of one word agree bit for bit: values, certified codes, steps, stop and divergence."""
    assert (a.steps, a.stop, a.diverged_at, a.info) == (b.steps, b.stop, b.diverged_at, b.info)
    assert a.row_ticks == b.row_ticks
    assert np.array_equal(a.recording.values, b.recording.values)
    assert np.array_equal(a.recording.codes, b.recording.codes)
    assert np.array_equal(a.recording.lengths, b.recording.lengths)


@pytest.mark.parametrize(
    ("name", "mode", "dtype", "record", "single"),
    [
        ("bb4", "preloaded", "float64", "steps", True),
        # Two more compile a kernel each (40-90 s cold): kept out of the default run to hold it under 10 minutes.
        pytest.param("bb4", "preloaded", "float32", "final", True, marks=pytest.mark.slow),
        pytest.param("dyck1", "streamed", "float64", "final", True, marks=pytest.mark.slow),
        # base 6 (scalar readout); lanes the tick flags and the generic check passes; no 1-lane kernel (compile time)
        ("binary_increment", "preloaded", "float32", "final", False),
    ],
)
def test_generated_kernel_equals_the_generic_one_bit_for_bit(
    name: str, mode: str, dtype: str, record: str, single: bool
) -> None:
    machine = tr.load_machine(name)
    net = compile_machine(machine, input_mode=mode)
    words = short_words(machine, 4)
    generic = run_float(net, words, dtype=dtype, record=record, kernel="generic", max_steps=300)
    generated = run_float(net, words, dtype=dtype, record=record, kernel="generated", max_steps=300)
    for a, b in zip(generic, generated, strict=True):
        assert_same_run(a, b)
    assert any(t.diverged_at is not None for t in generic) or (name, dtype) != ("bb4", "float32")
    if single:
        one = run_float(net, words[-1], dtype=dtype, record=record, kernel="generated", max_steps=300)
        assert_same_run(one, generic[-1])


@pytest.mark.parametrize(("dtype", "record"), [("float32", "final"), ("float64", "steps")])
def test_generated_kernel_stops_each_lane_at_its_own_step_across_short_calls(
    monkeypatch: pytest.MonkeyPatch, dtype: str, record: str
) -> None:
    import turingrnn.engines.fast as fast

    net = compile_machine(tr.load_machine("bb4"))
    words = short_words(tr.load_machine("bb4"), 4)
    generic = run_float(net, words, dtype=dtype, record=record, kernel="generic", max_steps=90)
    monkeypatch.setattr(fast, "_GEN_CHUNK", 7)  # lanes halt, diverge and reach the step limit inside and at chunk ends
    monkeypatch.setattr(fast, "_CHUNK_BYTES", 7 * len(words) * net.size * np.dtype(dtype).itemsize)
    generated = run_float(net, words, dtype=dtype, record=record, kernel="generated", max_steps=90)
    assert {t.stop for t in generic} >= {None, "halting state"}
    for a, b in zip(generic, generated, strict=True):
        assert_same_run(a, b)


def test_generated_kernel_names_the_binary_neuron_that_left_the_code_as_the_generic_one_does() -> None:
    # Biases moved by -1/3 put an exact row (code:2) and a row with rounded terms (top:R>=1@B) between 0 and 1.
    machine = tr.load_machine("bb4")
    net = compile_machine(machine)
    moved = {net.index("code:2"), net.index("top:R>=1@B")}
    broken = dataclasses.replace(net, b=tuple(x - Fraction(1, 3) if i in moved else x for i, x in enumerate(net.b)))
    words = short_words(machine, 4)
    generic = run_float(broken, words, kernel="generic", max_steps=100, record="final")
    generated = run_float(broken, words, kernel="generated", max_steps=100, record="final")
    flagged = {(t.diverged_at, t.info["divergence"].split("'")[1]) for t in generic if t.diverged_at}
    assert {(2, "top:R>=1@B"), (5, "code:2")} <= flagged
    for a, b in zip(generic, generated, strict=True):
        assert_same_run(a, b)


@pytest.mark.slow
def test_generated_kernel_follows_the_exact_engine_through_a_long_run() -> None:
    net = compile_machine(tr.load_machine("minsky_7_4"))
    fast = run_float(net, ["", ""], max_steps=3000, kernel="generated")
    exact = run_exact(net, "", max_steps=3000)
    for run in fast:
        assert run.diverged_at is None and run.first_divergence(exact) is None


def test_auto_switches_to_the_generated_kernel_for_long_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import turingrnn.engines.fast as fast

    net = compile_machine(tr.load_machine("bb4"))
    expected = run_float(net, ["", "1"], kernel="generic")
    monkeypatch.setattr(fast, "AUTO_WORK", 10)
    monkeypatch.setattr(fast, "_AUTO_FIRST", 8)
    plan = fast._cached_plan(net, np.dtype("float64"))
    plan.generated.clear()
    switched = run_float(net, ["", "1"], kernel="auto")
    assert plan.generated, "auto did not generate a kernel"
    for a, b in zip(expected, switched, strict=True):
        assert_same_run(a, b)


def test_unknown_kernel_lists_the_valid_ones() -> None:
    net = compile_machine(tr.load_machine("bb2"))
    with pytest.raises(tr.InputError, match="auto, generic, generated"):
        run_float(net, "", kernel="fastest")
