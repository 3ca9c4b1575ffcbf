"""The Numba interpreter agrees with the reference interpreter, grows its tape, and is fast."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import tm_inputs, turing_machines

import turingrnn as tr
from turingrnn.machines.fast_interpreter import _MIN_TAPE, run_tm_fast
from turingrnn.machines.interpreter import Status, run

BB4 = "1RB1LB_1LA0LC_---1LD_1RD0RA"
BB5 = "1RB1LC_1RC1RB_1RD0LE_1LA1LD_---0LA"


def _same_run(fast: tr.RunResult, slow: tr.RunResult) -> None:
    assert (fast.status, fast.steps, fast.configuration, fast.accepted, fast.reason) == (
        slow.status,
        slow.steps,
        slow.configuration,
        slow.accepted,
        slow.reason,
    )
    assert fast.trace is None


@settings(deadline=None, max_examples=200)
@given(data=st.data())
def test_fast_run_equals_reference_run_on_random_machines(data: st.DataObject) -> None:
    tm = data.draw(turing_machines())
    word, head = data.draw(tm_inputs(tm))
    max_steps = data.draw(st.integers(0, 300))
    _same_run(run_tm_fast(tm, word, head=head, max_steps=max_steps), run(tm, word, head=head, max_steps=max_steps))


def _sweeper(move: str, write: str) -> tr.TuringMachine:
    """One state that writes ``write`` and moves ``move`` forever."""
    rules = tuple(tr.TMRule(state="A", read=a, write=write, move=move, next="A") for a in "01")
    return tr.TuringMachine(states=("A",), symbols=("0", "1"), blank="0", start="A", rules=rules)


@pytest.mark.parametrize("move", ["L", "R"])
@pytest.mark.parametrize("write", ["0", "1"])
def test_tape_grows_far_in_either_direction(move: str, write: str) -> None:
    tm = _sweeper(move, write)
    _same_run(run_tm_fast(tm, "0110", head=2, max_steps=20_000), run(tm, "0110", head=2, max_steps=20_000))
    n = 3_000_000
    result = run_tm_fast(tm, "0110", head=2, max_steps=n)
    assert (result.status, result.steps, result.state) == (Status.OUT_OF_STEPS, n, "A")
    if write == "1":  # "0110" with the head on index 2: the 1 on index 1 stays when moving right
        expected = ("0" + "1" * n, 0) if move == "L" else ("1" * (n + 1) + "0", n + 1)
        assert (result.tape, result.head) == expected


def test_tape_grows_on_both_sides_for_a_widening_zigzag() -> None:
    # Sweeps over its block of 1s and adds a 1 at each end in turn: the tape grows both ways.
    tm = tr.parse_bbchallenge("1LB1RA_1RA1LB")
    for limit in (0, 1, 5, 1000, 200_000):
        result = run_tm_fast(tm, max_steps=limit)
        _same_run(result, run(tm, max_steps=limit))
    assert len(result.tape) > 2 * _MIN_TAPE


def _walker(n: int, move: str) -> tr.TuringMachine:
    """Writes n 1s while moving ``move``, then halts; the last step enters the halting state."""
    states = [f"S{i}" for i in range(n)] + ["H"]
    rules = tuple(tr.TMRule(state=states[i], read="0", write="1", move=move, next=states[i + 1]) for i in range(n))
    return tr.TuringMachine(
        states=tuple(states), symbols=("0", "1"), blank="0", start="S0", halt=frozenset({"H"}), rules=rules
    )


@pytest.mark.parametrize("move", ["L", "R"])
@pytest.mark.parametrize("n", range(_MIN_TAPE - 2, _MIN_TAPE + 3))
def test_a_halting_step_that_leaves_the_tape_is_decoded(n: int, move: str) -> None:
    tm = _walker(n, move)
    result = run_tm_fast(tm)
    assert (result.status, result.steps, result.tape.count("1")) == (Status.HALTED, n, n)
    _same_run(result, run(tm))


def test_start_in_a_halting_state_takes_no_steps() -> None:
    tm = tr.TuringMachine(states=("Y",), symbols=("0",), blank="0", start="Y", accept=frozenset({"Y"}))
    result = run_tm_fast(tm, "000", head=3)
    assert (result.status, result.steps, result.accepted) == (Status.ACCEPTED, 0, True)
    _same_run(result, run(tm, "000", head=3))


def test_bb4_champion_halts_after_107_steps() -> None:
    # 12 ones, not the 13 of the usual Sigma(4): here the halting step is undefined ("---") and writes nothing.
    result = run_tm_fast(tr.parse_bbchallenge(BB4))
    assert (result.status, result.steps, result.tape.count("1")) == (Status.HALTED, 107, 12)
    _same_run(result, run(tr.parse_bbchallenge(BB4)))


def test_bb5_champion_halts_after_47176870_steps_with_4097_ones() -> None:
    tm = tr.parse_bbchallenge(BB5)
    run_tm_fast(tm, max_steps=10)  # compile (or load the cache) outside the timing
    start = time.perf_counter()
    result = run_tm_fast(tm, max_steps=100_000_000)
    seconds = time.perf_counter() - start
    assert (result.status, result.steps, result.tape.count("1")) == (Status.HALTED, 47_176_870, 4097)
    assert result.reason == "undefined transition"
    assert seconds < 10


def test_bb5_prefix_matches_the_reference_interpreter() -> None:
    tm = tr.parse_bbchallenge(BB5)
    _same_run(run_tm_fast(tm, max_steps=20_000), run(tm, max_steps=20_000))


def test_step_limits_beyond_int64_are_accepted() -> None:
    tm = tr.parse_bbchallenge(BB4)
    assert run_tm_fast(tm, max_steps=2**70).steps == 107


def test_symbol_outside_the_alphabet_raises() -> None:
    with pytest.raises(
        tr.InputError, match=r"input symbol '2' at position 1 is not in the tape alphabet; allowed: '0', '1'"
    ):
        run_tm_fast(tr.parse_bbchallenge(BB4), "120")


def test_head_outside_the_word_raises() -> None:
    with pytest.raises(
        tr.InputError, match=r"head position 4 is outside the input word of length 3 \(allowed: 0\.\.3\)"
    ):
        run_tm_fast(tr.parse_bbchallenge(BB4), "101", head=4)


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_bad_max_steps_raises(bad: object) -> None:
    with pytest.raises(tr.InputError, match=rf"max_steps must be a whole number >= 0, got {bad!r}"):
        run_tm_fast(tr.parse_bbchallenge(BB4), max_steps=bad)  # type: ignore[arg-type]


def test_a_stack_machine_is_refused() -> None:
    sm = tr.StackMachine(states=("q",), start="q", stacks=(("A", ("a",)),))
    with pytest.raises(tr.InputError, match="expected a TuringMachine, got StackMachine"):
        run_tm_fast(sm)  # type: ignore[arg-type]


def test_more_than_256_symbols_use_a_wider_tape() -> None:
    symbols = tuple(chr(0x100 + i) for i in range(300))
    rules = (tr.TMRule(state="A", read=symbols[0], write=symbols[299], move="R", next="A"),)
    tm = tr.TuringMachine(states=("A",), symbols=symbols, blank=symbols[0], start="A", rules=rules)
    _same_run(run_tm_fast(tm, max_steps=500), run(tm, max_steps=500))
