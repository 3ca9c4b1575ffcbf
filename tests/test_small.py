"""The small construction: searched layouts of the compact Turing machine network."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import tm_inputs, turing_machines

import turingrnn as tr
from turingrnn.check.prove import prove
from turingrnn.compile.compact_tm import build_plan, default_plan, solve_span
from turingrnn.compile.compiler import compile_machine, constructions_for
from turingrnn.compile.small_tm import search_plan
from turingrnn.errors import CompileError


@pytest.mark.parametrize(("name", "compact", "small"), [("minsky_7_4", 41, 33), ("rogozhin_4_6", 38, 34)])
def test_universal_machines_get_smaller_networks(name: str, compact: int, small: int) -> None:
    machine = tr.load_machine(name)
    net = compile_machine(machine, construction="small")
    assert (compile_machine(machine).size, net.size, net.ticks_per_step) == (compact, small, 2)
    detectors = [label for label, role in zip(net.labels, net.roles, strict=True) if role in ("state", "detector")]
    assert any("|" in label for label in detectors)  # detectors shared by several states
    assert prove(machine, net).ok


def test_rogozhin_minimal_example_runs_exactly_through_the_small_network() -> None:
    machine = tr.load_machine("rogozhin_4_6")
    example = machine.examples[0]
    assert (example.input, example.steps) == ("<bb1b1bbb1c1c11111", 518)
    report = tr.verify(machine, [(example.input, example.head)], construction="small", max_steps=1000)
    assert report.ok and report.steps == 518


def _bundled_turing_machines() -> list:
    names = sorted(n for n in tr.list_constructions() if tr.load_machine(n).kind == "tm")
    slow = {"unary_to_binary"}  # 30 s of layout search (9 states)
    return [pytest.param(n, marks=[pytest.mark.slow] if n in slow else []) for n in names]


@pytest.mark.parametrize("name", _bundled_turing_machines())
def test_every_bundled_turing_machine_runs_its_examples_under_small(name: str) -> None:
    machine = tr.load_machine(name)
    examples = [(e.input, e.head) for e in machine.examples if (e.steps or 0) < 5_000]
    report = tr.verify(machine, examples, construction="small", max_steps=5_000)
    assert examples and report.ok, report.mismatches[:1]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_small_equals_the_interpreter_step_for_step(data) -> None:
    tm = data.draw(turing_machines())
    mode = data.draw(st.sampled_from(tr.compile.compiler.INPUT_MODES))
    inputs = [data.draw(tm_inputs(tm)) for _ in range(3)]
    if mode == "streamed":
        inputs = [(word, 0) for word, _ in inputs]
    small = compile_machine(tm, construction="small", input_mode=mode)
    assert small.size <= compile_machine(tm, input_mode=mode).size
    report = tr.verify(tm, inputs, net=small, max_steps=60)
    assert report.ok, report.mismatches[:1]


@settings(max_examples=20, deadline=None)
@given(turing_machines(max_states=3, max_symbols=3))
def test_random_small_networks_are_proved(tm) -> None:
    cert = prove(tm, compile_machine(tm, construction="small"))
    assert cert.ok, cert.report(limit=3)


@pytest.mark.parametrize("mode", ["preloaded", "streamed"])
def test_a_machine_that_starts_halted_needs_no_detectors(mode: str) -> None:
    tm = tr.TuringMachine(states=("h",), symbols=("0", "1"), blank="0", start="h", rules=(), halt=frozenset({"h"}))
    net = compile_machine(tm, construction="small", input_mode=mode)
    assert not [role for role in net.roles if role in ("state", "detector")]
    assert tr.verify(tm, ["01", ""], net=net).ok and prove(tm, net).ok


def test_the_default_plan_gives_the_compact_network() -> None:
    tm = tr.load_machine("binary_increment")
    builder = build_plan(tm, default_plan(tm)).builder
    assert builder.build(ticks_per_step=2).labels == compile_machine(tm).labels


def test_a_plan_missing_a_detector_is_refused() -> None:
    tm = tr.load_machine("bb3")
    plan = search_plan(tm)
    broken = dataclasses.replace(plan, detectors=plan.detectors[1:])
    with pytest.raises(CompileError, match="level-0 detectors do not give"):
        build_plan(tm, broken)


def test_stack_machines_are_refused_with_the_constructions_that_fit() -> None:
    with pytest.raises(CompileError, match="does not compile stack machines; stack machines compile with: compact"):
        compile_machine(tr.load_machine("dyck1"), construction="small")
    assert "small" in constructions_for("tm") and "small" not in constructions_for("stack")


@settings(deadline=None)
@given(
    st.lists(st.lists(st.integers(-3, 3), min_size=4, max_size=4), min_size=1, max_size=4),
    st.lists(st.integers(-5, 5), min_size=4, max_size=4),
)
def test_solve_span_finds_exact_coefficients_or_none(rows: list[list[int]], coef: list[int]) -> None:
    rows_f = [[Fraction(v) for v in row] for row in rows]
    coef = coef[: len(rows)]
    target = [sum((c * row[s] for c, row in zip(coef, rows_f, strict=True)), Fraction(0)) for s in range(4)]
    found = solve_span(rows_f, target)
    if _rank(rows_f) == len(rows_f):
        assert found == [Fraction(c) for c in coef]
    if found is not None:
        again = [sum((c * row[s] for c, row in zip(found, rows_f, strict=True)), Fraction(0)) for s in range(4)]
        assert again == target


def test_solve_span_refuses_a_target_outside_the_span() -> None:
    rows = [[Fraction(1), Fraction(0), Fraction(0)]]
    assert solve_span(rows, [Fraction(1), Fraction(1), Fraction(0)]) is None


def _rank(rows: list[list[Fraction]]) -> int:
    return int(sympy.Matrix(rows).rank())
