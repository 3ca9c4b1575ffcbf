"""Batches on the float core: the side-by-side start encoding equals the per-word one bit for bit, and run_batch
equals run_float."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import stack_machines, turing_machines

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.engines import fast, fast_batch
from turingrnn.engines.fast import run_float
from turingrnn.engines.fast_batch import run_batch, word_arrays
from turingrnn.engines.fast_plan import _cached_plan
from turingrnn.engines.inputs import prepare
from turingrnn.errors import InputError, TuringRNNError

DTYPES = (np.float64, np.float32)


def per_word(plan: object, words: list[str], heads: list[int]) -> tuple[np.ndarray, ...]:
    return fast._start_arrays(plan, [prepare(plan.net, w, h) for w, h in zip(words, heads, strict=True)])  # type: ignore[attr-defined]


def assert_same_arrays(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> None:
    """Equal shapes, dtypes and bits (the float arrays compared as their bytes)."""
    names = ("values", "bounds", "lines", "first", "lengths")
    for name, x, y in zip(names, a, b, strict=True):
        if name == "lines":  # the side-by-side matrix may be wider only by columns of -1
            assert x.shape[0] == y.shape[0]
            width = max(x.shape[1], y.shape[1])
            x, y = (np.pad(z, ((0, 0), (0, width - z.shape[1])), constant_values=-1) for z in (x, y))
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), name


def machine_words(machine: tr.Machine, draw: st.DrawFn, count: int, longest: int) -> tuple[list[str], list[int]]:
    if isinstance(machine, tr.TuringMachine):
        symbols = list(machine.symbols)
    elif machine.input_stack is not None:
        symbols = list(machine.alphabet(machine.input_stack))
    else:
        symbols = []
    words, heads = [], []
    for _ in range(count):
        word = draw(st.text(st.sampled_from(symbols), max_size=longest)) if symbols else ""
        words.append(word)
        tm = isinstance(machine, tr.TuringMachine)
        heads.append(draw(st.integers(0, len(word))) if tm else 0)
    return words, heads


@st.composite
def networks_and_words(draw: st.DrawFn) -> tuple[tr.Network, list[str], list[int], np.dtype]:
    tm = draw(st.booleans())
    machine = draw(turing_machines() if tm else stack_machines())
    choices = ("compact", "ss95", "realtime", "small") if tm else ("compact", "ss95", "realtime")
    construction = draw(st.sampled_from(choices))
    mode = draw(st.sampled_from(("preloaded", "preloaded", "streamed")))
    if not tm and machine.input_stack is None:
        mode = "preloaded"  # nothing to stream
    try:
        net = compile_machine(machine, construction=construction, input_mode=mode)
    except TuringRNNError:
        net = compile_machine(machine, construction="compact", input_mode=mode)
    words, heads = machine_words(machine, draw, draw(st.integers(1, 12)), longest=40)
    if net.input_mode == "streamed" or not tm:
        heads = [0] * len(words)
    return net, words, heads, np.dtype(draw(st.sampled_from(DTYPES)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(networks_and_words())
def test_side_by_side_starts_equal_the_per_word_starts_bit_for_bit(case: tuple) -> None:
    net, words, heads, dtype = case
    plan = _cached_plan(net, dtype)
    layout = fast_batch._layout(plan)
    event("per-word path" if layout is None else f"side by side, {layout[1]}")
    assert_same_arrays(word_arrays(plan, words, heads), per_word(plan, words, heads))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("machine", "construction", "mode", "words"),
    [
        ("bb4", "compact", "preloaded", ["", "1", "0110", "1" * 30]),  # B = 4; the last word's code is too long
        ("minsky_7_4", "compact", "preloaded", ["", "0y0", "y" * 20]),  # B = 8
        ("binary_increment", "small", "preloaded", ["", "1011", "1" * 25]),
        ("anbn", "compact", "streamed", ["", "ab", "aabb", "aab"]),
        ("dyck1", "realtime", "preloaded", ["", "()", "(())", "(" * 30]),  # the realtime construction's top bits
        ("parity", "ss95", "streamed", ["", "0", "0110111"]),
    ],
)
def test_bundled_starts_equal_bit_for_bit(machine: str, construction: str, mode: str, words: list[str], dtype) -> None:
    m = tr.load_machine(machine)
    net = compile_machine(m, construction=construction, input_mode=mode)
    plan = _cached_plan(net, np.dtype(dtype))
    heads = [len(w) // 2 if isinstance(m, tr.TuringMachine) and mode == "preloaded" else 0 for w in words]
    assert fast_batch._layout(plan) is not None  # these networks take the side-by-side path
    assert_same_arrays(word_arrays(plan, words, heads), per_word(plan, words, heads))


def test_reduced_networks_take_the_per_word_path() -> None:
    net = compile_machine(tr.load_machine("bb3"), construction="ss95")  # a TM through its 2-stack reduction
    plan = _cached_plan(net, np.dtype(np.float64))
    assert fast_batch._layout(plan) is None
    words, heads = ["", "1", "11"], [0, 1, 1]
    assert_same_arrays(word_arrays(plan, words, heads), per_word(plan, words, heads))


# ---------------------------------------------------------------- run_batch


@pytest.mark.parametrize("kernel", ["generic", "generated"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_run_batch_equals_run_float(kernel: str, dtype: str) -> None:
    net = compile_machine(tr.load_machine("binary_increment"))
    words = ["", "1", "10", "111", "1011", "1" * 12, "1" * 30, "10" * 14]
    heads = [0, 1, 0, 3, 2, 6, 0, 28]
    batch = run_batch(net, words, heads=heads, dtype=dtype, max_steps=200, kernel=kernel)
    assert len(batch) == len(words) and batch.words == tuple(words)
    traces = [
        run_float(net, w, head=h, dtype=dtype, max_steps=200, record="final") for w, h in zip(words, heads, strict=True)
    ]
    assert batch.steps.tolist() == [t.steps for t in traces]
    assert batch.diverged_at.tolist() == [-1 if t.diverged_at is None else t.diverged_at for t in traces]
    stops = ["flagged" if t.diverged_at is not None else t.stop for t in traces]
    assert batch.stops == stops
    for k, t in enumerate(traces):
        got = batch.trace(k)
        assert (got.steps, got.stop, got.diverged_at) == (t.steps, t.stop, t.diverged_at)
        if t.diverged_at is None:
            assert got.decode() == t.decode()
            assert got.decode() == tr.run(net.machine, words[k], head=heads[k], max_steps=200)
    summary = batch.summary()
    assert summary["words"] == len(words) and summary["machine_steps"] == sum(t.steps for t in traces)
    assert summary["halted"] + summary["flagged"] + summary["out_of_steps"] == len(words)


def test_float32_flags_what_float64_runs() -> None:
    net = compile_machine(tr.load_machine("parity"))
    words = ["01" * 10, "1" * 20]  # 40 bits: within float64, beyond float32
    assert not run_batch(net, words).flagged.any()
    assert run_batch(net, words, dtype="float32").flagged.all()


def test_auto_runs_the_generated_kernel_once_this_process_has_loaded_it(monkeypatch: pytest.MonkeyPatch) -> None:
    net = compile_machine(tr.load_machine("parity"))
    words = ["0110", "1", "111", "10" * 5]
    generated = run_batch(net, words, kernel="generated")
    calls = []
    real = fast._run_generated
    monkeypatch.setattr(fast, "_run_generated", lambda *a: calls.append(1) or real(*a))
    auto = run_batch(net, words)
    assert calls and auto.steps.tolist() == generated.steps.tolist()


def test_bad_words_and_heads_are_named() -> None:
    net = compile_machine(tr.load_machine("bb4"))
    with pytest.raises(InputError, match=r"'x' at position 2"):
        run_batch(net, ["11", "10x1"])
    with pytest.raises(InputError, match=r"head position 5"):
        run_batch(net, ["11", "1"], heads=[0, 5])
    with pytest.raises(InputError, match=r"heads must be an integer or a list of 2"):
        run_batch(net, ["11", "1"], heads=[0])
    with pytest.raises(InputError, match=r"every head must be an integer"):
        run_batch(net, ["11", "1"], heads=[0, "1"])  # type: ignore[list-item]
    with pytest.raises(InputError, match=r"list of str"):
        run_batch(net, "11")
    stack = compile_machine(tr.load_machine("dyck1"), input_mode="streamed")
    with pytest.raises(InputError, match=r"'\]'"):
        run_batch(stack, ["()", "(]"])
    with pytest.raises(InputError, match=r"index 9"):
        run_batch(stack, ["()"]).trace(9)


@pytest.mark.parametrize("chunk", [3, 1 << 16])
def test_generated_blocks_sorted_and_dealt_equal_generic(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many words of mixed lengths: blocks sorted by length, dealt round the threads, repacked every few steps."""
    monkeypatch.setattr(fast, "_GEN_CHUNK", chunk)
    net = compile_machine(tr.load_machine("binary_increment"))
    rng = np.random.default_rng(5)
    words = ["".join(rng.choice(["0", "1"], size=int(n))) for n in rng.integers(0, 24, size=150)]
    heads = [int(rng.integers(0, len(w) + 1)) for w in words]
    results = [run_batch(net, words, heads=heads, max_steps=300, kernel=k) for k in ("generic", "generated")]
    generic, generated = results
    assert generated.steps.tolist() == generic.steps.tolist()
    assert generated.diverged_at.tolist() == generic.diverged_at.tolist()
    for k in range(0, len(words), 7):
        a, b = generic.trace(k), generated.trace(k)
        assert a.recording.values.tobytes() == b.recording.values.tobytes()
        assert a.recording.codes.tolist() == b.recording.codes.tolist()
