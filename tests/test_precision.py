"""Precision: on 100,000+ random (machine, input) pairs the float core equals the exact run or flags the step.

Inputs are long enough to push float64 (up to 60 symbols) and float32 (up to 20)
past their precision: deep stacks in base 4 and 6 hold about 26 and 20 digits
in float64 and about 12 and 9 in float32. The oracle is the reference
interpreter, which the exact engine equals step for step (``tests/test_exact.py``):
a run that is not flagged must give the interpreter's result (status, steps,
final configuration); a run flagged at step ``d`` must have stopped there, and
its last certified configuration (step ``d - 1``) must be the interpreter's. A
sample of the pairs is compared at every step.
"""

from __future__ import annotations

import numpy as np
import pytest
from strategies import _quiet

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.engines.fast import run_float

SEED = 20240604
TASKS = ("reverse_string", "duplicate_string", "binary_increment", "dyck1", "dyck2")
LONGEST = {"float64": 60, "float32": 20}
MAX_STEPS = 400


def random_tm(rng: np.random.Generator) -> tr.TuringMachine:
    """A random TM: up to 4 states and 3 symbols, some transitions missing, some into a halting state."""
    states = [f"q{i}" for i in range(int(rng.integers(1, 5)))]
    symbols = list("_01")[: int(rng.integers(2, 4))]
    targets = [*states, "h"]
    rules = [
        tr.TMRule(
            state=q,
            read=a,
            write=str(rng.choice(symbols)),
            move=str(rng.choice(["L", "R", "S"])),
            next=str(rng.choice(targets)),
        )
        for q in states
        for a in symbols
        if rng.random() > 0.15
    ]
    return _quiet(
        tr.TuringMachine,
        states=(*states, "h"),
        symbols=tuple(symbols),
        blank="_",
        start="q0",
        rules=tuple(rules),
        halt=frozenset({"h"}),
    )


def random_stack_machine(rng: np.random.Generator) -> tr.StackMachine:
    """A random deterministic stack machine with 1 or 2 stacks; each state branches on one stack or on none."""
    names = [f"s{i}" for i in range(int(rng.integers(1, 3)))]
    alphabets = [tuple("abc"[: int(rng.integers(1, 4))]) for _ in names]
    states = [f"q{i}" for i in range(int(rng.integers(1, 4)))]
    targets = [*states, "acc", "rej"]
    rules = []
    for q in states:
        branch = int(rng.integers(-1, len(names)))
        cases = (
            [tuple(tr.ANY for _ in names)]
            if branch < 0
            else [
                tuple(top if i == branch else tr.ANY for i in range(len(names)))
                for top in (*alphabets[branch], tr.EMPTY)
            ]
        )
        for reads in cases:
            if rng.random() < 0.1:
                continue
            ops = []
            for i, read in enumerate(reads):
                options = [tr.NOOP, *(tr.push(a) for a in alphabets[i])] + (
                    [tr.POP] if read not in (tr.ANY, tr.EMPTY) else []
                )
                ops.append(options[int(rng.integers(len(options)))])
            rules.append(tr.StackRule(state=q, read=reads, next=str(rng.choice(targets)), ops=tuple(ops)))
    return _quiet(
        tr.StackMachine,
        stacks=tuple(zip(names, alphabets, strict=True)),
        states=tuple(targets),
        start="q0",
        accept=frozenset({"acc"}),
        reject=frozenset({"rej"}),
        rules=tuple(rules),
    )


def input_symbols(machine: tr.TuringMachine | tr.StackMachine) -> tuple[str, ...]:
    if isinstance(machine, tr.TuringMachine):
        return machine.symbols
    return machine.alphabet(machine.input_stack) if machine.input_stack else ()


def random_words(rng: np.random.Generator, symbols: tuple[str, ...], count: int, longest: int) -> list[str]:
    if not symbols:
        return [""] * count
    lengths = rng.integers(0, longest + 1, size=count)
    return ["".join(rng.choice(symbols, size=int(n))) for n in lengths]


def check(machine: tr.TuringMachine | tr.StackMachine, word: str, fast: tr.Trace, every_step: bool) -> bool:
    """Assert the float run equals the interpreter or is flagged; return whether it was flagged."""
    if fast.diverged_at is None:
        expected = machine.run(word, max_steps=MAX_STEPS, trace=every_step)
        assert fast.decode(trace=every_step) == expected, word
        return False
    d = fast.diverged_at
    assert fast.steps == d
    if d > 0:
        expected = machine.run(word, max_steps=d - 1, trace=every_step)
        assert fast.configuration(d - 1) == expected.configuration, word
        if every_step:
            assert [fast.configuration(k) for k in range(d)] == list(expected.trace), word
    return True


def networks(rng: np.random.Generator) -> list[tuple[tr.TuringMachine | tr.StackMachine, tr.Network]]:
    nets = []
    for name in TASKS:
        machine = tr.load_machine(name)
        for construction in ("compact", "ss95"):
            for mode in ("preloaded", "streamed"):
                nets.append((machine, compile_machine(machine, construction=construction, input_mode=mode)))
    for k in range(24):
        machine = random_tm(rng) if k % 2 else random_stack_machine(rng)
        for construction in ("compact", "ss95"):
            mode = ("preloaded", "streamed")[int(rng.integers(2))]
            nets.append((machine, compile_machine(machine, construction=construction, input_mode=mode)))
    return nets


def test_float_runs_equal_the_exact_run_or_are_flagged_on_100k_random_pairs() -> None:
    rng = np.random.default_rng(SEED)
    pairs = flagged = 0
    for machine, net in networks(rng):
        for dtype, longest in LONGEST.items():
            words = random_words(rng, input_symbols(machine), 1100, longest)
            sample = set(rng.choice(len(words), size=20, replace=False).tolist())
            for k, (word, fast) in enumerate(
                zip(words, run_float(net, words, dtype=dtype, max_steps=MAX_STEPS, record="final"), strict=True)
            ):
                if k in sample:
                    fast = run_float(net, word, dtype=dtype, max_steps=MAX_STEPS)
                flagged += check(machine, word, fast, every_step=k in sample)
                pairs += 1
    assert pairs >= 100_000
    assert 0.05 * pairs < flagged < 0.95 * pairs  # the inputs do reach past both precisions


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_deep_stacks_are_flagged_before_they_decode_wrongly(dtype: str) -> None:
    machine = tr.load_machine("reverse_string")
    net = compile_machine(machine)
    word = "0110" * 15
    fast = run_float(net, word, dtype=dtype)
    assert fast.diverged_at is not None
    check(machine, word, fast, every_step=True)


def test_regression_blank_half_tape_grows_two_cells_in_one_step() -> None:
    # Found while building the check: BB(4) at step 2 writes on a blank scanned
    # cell and moves left, so R's code grows from 0 digits to 2 in one step. A
    # depth bound of "last length + 1" flagged it as off the lattice.
    machine = tr.load_machine("bb4")
    fast = run_float(compile_machine(machine), "", max_steps=MAX_STEPS)
    assert fast.diverged_at is None
    check(machine, "", fast, every_step=True)
