"""The bundled Turing machines in constructions/tm compute what their descriptions say."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import turingrnn as tr
from turingrnn.machines.fast_interpreter import run_tm_fast

INCREMENT = tr.load_machine("binary_increment")
UNARY = tr.load_machine("unary_to_binary")


def binary_words(max_len: int):
    for n in range(max_len + 1):
        for bits in itertools.product("01", repeat=n):
            yield "".join(bits)


def check_increment(word: str) -> None:
    result = INCREMENT.run(word)
    assert (result.status.value, result.state, result.head) == ("halted", "done", 0)
    assert result.tape == format(int(word or "0", 2) + 1, f"0{len(word)}b")


def test_binary_increment_all_words_up_to_length_10() -> None:
    for word in binary_words(10):
        check_increment(word)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="01", min_size=11, max_size=300))
def test_binary_increment_long_words(word: str) -> None:
    check_increment(word)


def test_binary_increment_step_count() -> None:
    # n + 1 steps right to the blank, k + 1 back over the k trailing 1s and onto the digit
    # that takes the carry, then back to the first digit: 2n + 2 steps, one more when the
    # number gains a digit.
    for word in binary_words(8):
        gains_digit = "0" not in word
        assert INCREMENT.run(word).steps == 2 * len(word) + 2 + gains_digit, word


@pytest.mark.parametrize("n", range(41))
def test_unary_to_binary(n: int) -> None:
    result = UNARY.run("1" * n)
    assert (result.status.value, result.state, result.head) == ("halted", "done", 0)
    assert result.tape == format(n, "b")


@pytest.mark.parametrize(
    ("name", "steps", "ones"),
    [("bb2", 6, 4), ("bb3", 21, 5), ("bb4", 107, 13)],
)
def test_busy_beavers(name: str, steps: int, ones: int) -> None:
    result = tr.load_machine(name).run("")
    assert (result.status.value, result.state, result.steps) == ("halted", "Z", steps)
    assert result.tape.count("1") == ones


@pytest.mark.parametrize(
    ("name", "undefined_form", "steps", "ones"),
    [
        ("bb2", "1RB1LB_1LA---", 6, 4),
        ("bb3", "1RB---_1LB0RC_1LC1LA", 21, 5),
        ("bb4", "1RB1LB_1LA0LC_---1LD_1RD0RA", 107, 12),
    ],
)
def test_busy_beavers_in_the_undefined_transition_form(name: str, undefined_form: str, steps: int, ones: int) -> None:
    z_form = tr.dump_bbchallenge(tr.load_machine(name))
    assert z_form.replace("1RZ", "---") == undefined_form
    result = tr.parse_bbchallenge(undefined_form).run()
    assert (result.status.value, result.steps, result.tape.count("1")) == ("halted", steps, ones)


def test_bb5() -> None:
    machine = tr.load_machine("bb5")
    assert tr.dump_bbchallenge(machine) == "1RB1LC_1RC1RB_1RD0LE_1LA1LD_---0LA"
    result = run_tm_fast(machine, max_steps=50_000_000)
    assert (result.status.value, result.state, result.steps) == ("halted", "E", 47_176_870)
    assert result.tape.count("1") == 4097


# ---------------------------------------------------------------- the small universal machines

# The tables as printed in the literature: one row per state, cells "write move next" in
# symbol order, "HALT" or "-" where there is no transition.
ROGOZHIN_4_6 = """
1: <L1 <L1 >R1 0R1 bL1 0R4
2: 1L2 0R2 >L3 >L2 <R2 bR2
3: cR1 1R3 <R4 HALT bR3 1R1
4: cL2 0R4 cL2 - <R4 bR4
"""
MINSKY_7_4 = """
q1: 0Lq1 0Lq1 1Lq2 1Lq1
q2: 0Lq1 yRq2 ARq2 yRq6
q3: yLq3 HALT ALq3 1Lq4
q4: yLq4 yRq5 1Lq7 1Lq4
q5: yRq5 yLq3 ARq5 1Rq5
q6: yRq6 ALq3 ARq6 1Rq6
q7: 0Rq7 yRq6 1Rq7 0Rq2
"""


def table_rules(table: str, symbols: str) -> set[tr.TMRule]:
    rules = set()
    for line in table.strip().splitlines():
        state, cells = line.split(":")
        for symbol, cell in zip(symbols, cells.split(), strict=True):
            if cell not in ("HALT", "-"):
                rules.add(tr.TMRule(state=state, read=symbol, write=cell[0], move=cell[1], next=cell[2:]))
    return rules


@pytest.mark.parametrize(
    ("name", "table", "symbols", "blank", "start", "halt_cell"),
    [
        ("rogozhin_4_6", ROGOZHIN_4_6, "01b<>c", "0", "1", ("3", "<")),
        ("minsky_7_4", MINSKY_7_4, "y01A", "0", "q1", ("q3", "0")),
    ],
    ids=["rogozhin_4_6", "minsky_7_4"],
)
def test_universal_machine_tables(name: str, table: str, symbols: str, blank: str, start: str, halt_cell) -> None:
    machine = tr.load_machine(name)
    assert machine.symbols == tuple(symbols) and machine.blank == blank and machine.start == start
    assert not machine.halting_states
    assert set(machine.rules) == table_rules(table, symbols)
    assert machine.rule(*halt_cell) is None
