"""prove: certificates for every bundled machine, failures that name the class and neuron, and the CLI."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import stack_machines, turing_machines

import turingrnn as tr
import turingrnn.compile.compact_stack
from turingrnn.check.prove import (
    Affine,
    Certificate,
    Domain,
    ProofError,
    _Encoding,
    _Semantics,
    _Symbolic,
    count_cases,
    prove,
)
from turingrnn.cli import EXIT_ERROR, EXIT_OK, EXIT_PROBLEMS, main
from turingrnn.compile.compiler import INPUT_MODES, compile_machine, constructions_for
from turingrnn.compile.gadgets import gated
from turingrnn.compile.network import Network, NetworkBuilder

SLOW = {
    # (machine, construction): 9 to 40 s each (1183 neurons, or 3202 classes); minsky_7_4 under ss95 (3 s) stays in
    ("rogozhin_4_6", "ss95"),
    ("modular_arithmetic_brackets", "compact"),
    ("modular_arithmetic_brackets", "ss95"),
    ("unary_to_binary", "small"),  # 30 s: the layout search over 9 states (4-bit codes, sampled)
    # realtime: dense rows (every rule reads the top thresholds, sums over many neurons) and refined classes
    ("rogozhin_4_6", "realtime"),  # 9 s
    ("binary_addition", "realtime"),  # 8 s
    ("modular_arithmetic_brackets", "realtime"),  # 27 min (23,602 cases, 3,192 neurons), proved (docs/proofs.md)
    ("modular_arithmetic", "realtime"),  # 8 min (2,106 cases, 2,089 neurons, 1.1 million weights), proved
}
PRELOADED_ONLY = {"realtime"}
"""Constructions that refuse streamed input."""


def _every_network() -> list:
    out = []
    for name in tr.list_constructions():
        for construction in constructions_for(tr.load_machine(name).kind):
            for mode in INPUT_MODES:
                if mode == "streamed" and construction in PRELOADED_ONLY:
                    continue
                marks = [pytest.mark.slow] if (name, construction) in SLOW else []
                out.append(pytest.param(name, construction, mode, marks=marks, id=f"{name}-{construction}-{mode}"))
    return out


@pytest.mark.parametrize(("name", "construction", "mode"), _every_network())
def test_every_bundled_network_is_proved(name: str, construction: str, mode: str) -> None:
    machine = tr.load_machine(name)
    net = compile_machine(machine, construction=construction, input_mode=mode)
    cert = prove(machine, net)
    assert cert.ok, cert.report(limit=5)
    assert len(cert.cases) == cert.needed == count_cases(machine, net)
    assert {c.kind for c in cert.cases} >= {"readout", "step", "stream" if mode == "streamed" else "preload"}


def test_a_certificate_covers_every_class_of_every_working_state() -> None:
    tm = tr.load_machine("bb2")  # states A, B working, Z halting; symbols 0, 1
    cert = prove(tm, compile_machine(tm))
    steps = [c for c in cert.cases if c.kind == "step"]
    assert len(steps) == 2 * 2 * 2  # state x scanned symbol x left symbol
    assert "A L=[0|r_L] R=[0|r_R]: -> B L=[1 0|r_L] R=r_R" in cert.report()
    assert cert.linear > 0 and cert.saturated > 0


def test_undefined_transitions_are_proved_to_read_out_the_undefined_code() -> None:
    tm = tr.load_machine("1RB1LB_1LA---")
    cert = prove(tm, compile_machine(tm))
    assert cert.ok
    assert [c.configuration for c in cert.cases if c.claim.startswith("halts")] == [
        "B L=[0|r_L] R=[1|r_R]",
        "B L=[1|r_L] R=[1|r_R]",
    ]


def test_halting_states_are_read_with_their_verdict() -> None:
    sm = tr.load_machine("dyck1")
    cert = prove(sm, compile_machine(sm))
    claims = {c.configuration: c.claim for c in cert.cases if c.kind == "readout"}
    assert any("halting (accept)" in claim for claim in claims.values())
    assert any("halting (reject)" in claim for claim in claims.values())


# ---------------------------------------------------------------- the symbolic engine against the exact tick


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_symbolic_ticks_equal_exact_ticks_at_concrete_codes(data) -> None:
    name = data.draw(st.sampled_from(["bb3", "dyck2", "anbncn", "binary_increment"]))
    machine = tr.load_machine(name)
    construction = data.draw(st.sampled_from(constructions_for(machine.kind)))
    net = compile_machine(machine, construction=construction)
    sem = _Semantics(net, machine)
    enc, sym = _Encoding(net, sem), _Symbolic(net)
    state = data.draw(st.sampled_from([q for _, q in net.readout.state_table if q not in sem.halting]))
    c = data.draw(st.sampled_from(sem.classes(state)))
    values = {}
    for s, w in c.stacks:
        if w.rest:
            r = sem.stacks[s]
            word = data.draw(st.text(alphabet=r.alphabet, max_size=4))
            values[w.rest] = Affine(tr.compile.encoding.encode_word(word, r.alphabet, r.kind) if word else 0)
    x = enc.of(c)
    exact = {net.labels[i]: v.substitute(values).const for i, v in x.items()}
    symbolic = sym.run(x, sem.domain(c), net.ticks_per_step)
    for _ in range(net.ticks_per_step):
        exact = net.tick(exact)
    for i, label in enumerate(net.labels):
        assert symbolic.get(i, Affine(0)).substitute(values).const == exact[label], label


def test_domain_bounds_are_attained_at_the_corners() -> None:
    e = Affine(Fraction(1, 2), {"r": Fraction(-1, 4), "s": 2})
    box = Domain(box=(("r", Fraction(0), Fraction(1)), ("s", Fraction(0), Fraction(1, 8))))
    assert box.bounds(e) == (Fraction(1, 4), Fraction(3, 4))
    triangle = Domain(vertices=((("r", Fraction(0)), ("s", Fraction(0))), (("r", Fraction(1)), ("s", Fraction(1)))))
    assert triangle.bounds(e) == (Fraction(1, 2), Fraction(9, 4))


@settings(max_examples=30, deadline=None)
@given(turing_machines(), st.sampled_from(constructions_for("tm")), st.sampled_from(INPUT_MODES))
def test_random_turing_machines_are_proved(tm, construction: str, mode: str) -> None:
    if mode == "streamed" and construction in PRELOADED_ONLY:
        return
    cert = prove(tm, compile_machine(tm, construction=construction, input_mode=mode))
    assert cert.ok, cert.report(limit=3)


@settings(max_examples=30, deadline=None)
@given(stack_machines(), st.sampled_from(constructions_for("stack")), st.sampled_from(INPUT_MODES))
def test_random_stack_machines_are_proved(sm, construction: str, mode: str) -> None:
    if mode == "streamed" and (sm.input_stack is None or construction in PRELOADED_ONLY):
        return  # no stack to stream into, or a construction without streamed input: the compiler refuses
    cert = prove(sm, compile_machine(sm, construction=construction, input_mode=mode))
    assert cert.ok, cert.report(limit=3)


# ---------------------------------------------------------------- broken networks fail, naming class and neuron


def _with_weight(net: Network, row: str, column: str, factor: Fraction) -> Network:
    i, j = net.index(row), net.index(column)
    assert any((r, c) == (i, j) for r, c, _ in net.W)
    return dataclasses.replace(net, W=tuple((r, c, w * factor if (r, c) == (i, j) else w) for r, c, w in net.W))


def test_a_wrong_weight_fails_naming_the_class_and_the_neuron() -> None:
    tm = tr.load_machine("bb2")
    broken = _with_weight(compile_machine(tm), "tape:R/L", "copy:R", Fraction(1, 2))
    cert = prove(tm, broken)
    assert not cert.ok
    failure = next(c for c in cert.failures if c.configuration == "A L=[0|r_L] R=[1|r_R]")
    assert failure.neuron == "tape:R/L"
    assert failure.tick == 2
    assert "stack R reads r_R/32 + 1/16" in failure.detail and "r_R/16 + 1/8" in failure.detail
    assert "FAIL step    A L=[0|r_L] R=[1|r_R]" in cert.report()
    assert "neuron tape:R/L at tick 2" in cert.report()


def test_a_gate_constant_too_small_lets_a_pop_leak(monkeypatch) -> None:
    def small_gate(b, label, candidate, gate, *, big=1, **kwargs):
        return gated(b, label, candidate, gate, big=1, **kwargs)  # pop needs big = B_S

    monkeypatch.setattr(turingrnn.compile.compact_stack, "gated", small_gate)
    sm = tr.load_machine("anbn")
    cert = prove(sm, compile_machine(sm))
    assert not cert.ok
    assert {c.kind for c in cert.failures} == {"step"}
    leaks = [c for c in cert.failures if c.neuron and "/pop" in c.neuron]
    assert leaks, cert.report()
    assert all(c.tick in (2, 3) for c in leaks)


def test_an_idle_neuron_that_wakes_up_fails_the_phase_check() -> None:
    tm = tr.load_machine("bb2")
    net = compile_machine(tm)
    b = list(net.b)
    b[net.index("top:L>=1")] = Fraction(1, 2)  # the idle phase no longer sees only its bias <= 0
    b[net.index("tape:L/R")] -= Fraction(1, 2)
    cert = prove(tm, dataclasses.replace(net, b=tuple(b)))
    assert not cert.ok
    assert any(c.neuron == "top:L>=1" for c in cert.failures), cert.report()


def test_a_wrong_preload_fails_the_readout_case() -> None:
    sm = tr.load_machine("dyck1")
    net = compile_machine(sm)
    assert net.preload is not None
    stacks = tuple((s, "copy:" + s if s == "in" else label) for s, label in net.preload.stacks)
    cert = prove(sm, dataclasses.replace(net, preload=dataclasses.replace(net.preload, stacks=stacks)))
    assert not cert.ok
    failed = [c for c in cert.failures if c.kind == "readout"]
    assert failed and failed[0].neuron == "copy:in" and "stack in reads 0, not v_in" in failed[0].detail


def test_a_broken_loader_fails_the_stream_cases() -> None:
    sm = tr.load_machine("dyck1")
    net = _with_weight(compile_machine(sm, input_mode="streamed"), "load:acc", "load:acc", Fraction(1, 2))
    cert = prove(sm, net)
    assert not cert.ok
    failure = cert.failures[0]
    assert (failure.kind, failure.neuron) == ("stream", "load:acc")
    assert "the invariant says A" in failure.detail


def test_a_certificate_never_claims_success_past_its_budget() -> None:
    tm = tr.load_machine("rogozhin_4_6")
    net = compile_machine(tm, construction="ss95")
    cert = prove(tm, net, max_cases=100)
    assert not cert.ok and cert.budget_exceeded and cert.cases == ()
    assert cert.needed == count_cases(tm, net) > 100
    assert "NOT PROVED: the proof needs" in cert.report()
    assert cert.to_dict()["ok"] is False


def test_max_cases_must_be_a_positive_whole_number() -> None:
    tm = tr.load_machine("bb2")
    with pytest.raises(tr.InputError, match="max_cases must be a whole number >= 1, got 0"):
        prove(tm, compile_machine(tm), max_cases=0)


# ---------------------------------------------------------------- networks prove cannot interpret


def test_a_network_not_from_the_compiler_raises_a_clear_error() -> None:
    b = NetworkBuilder()
    b.neuron("x", role="copy", inputs={"x": 1})
    with pytest.raises(ProofError, match="carries no machine, so it did not come from compile_machine"):
        prove(tr.load_machine("bb2"), b.build(ticks_per_step=1))


def test_a_network_of_another_machine_raises() -> None:
    with pytest.raises(ProofError, match="compiled from machine 'bb3', not from the one given"):
        prove(tr.load_machine("bb2"), compile_machine(tr.load_machine("bb3")))


def test_unknown_metadata_raises() -> None:
    tm = tr.load_machine("bb2")
    net = compile_machine(tm)
    with pytest.raises(ProofError, match="unknown construction 'mine'"):
        prove(tm, dataclasses.replace(net, construction="mine"))
    with pytest.raises(ProofError, match="readout kind 'stack' does not fit a tm machine under compact"):
        prove(tm, dataclasses.replace(net, readout=dataclasses.replace(net.readout, kind="stack")))
    with pytest.raises(ProofError, match="prove needs a compiled Network, got str"):
        prove(tm, "net")  # type: ignore[arg-type]


def test_a_streamed_network_without_its_loader_raises() -> None:
    sm = tr.load_machine("dyck1")
    net = compile_machine(sm, input_mode="streamed")
    with pytest.raises(ProofError, match="lacks the loader's stream_latency"):
        prove(sm, dataclasses.replace(net, stream_latency=None))


# ---------------------------------------------------------------- the certificate and the command line


def test_report_and_json_view() -> None:
    sm = tr.load_machine("parity")
    cert = prove(sm, compile_machine(sm, construction="ss95", input_mode="streamed"))
    assert isinstance(cert, Certificate)
    text = cert.report()
    assert text.splitlines()[1].startswith(f"PROVED: {len(cert.cases)} cases")
    assert "stream  empty word: first readout encodes the start configuration" in text
    data = cert.to_dict()
    assert data["ok"] is True and data["construction"] == "ss95" and len(data["cases"]) == len(cert.cases)
    assert cert.report(limit=2).endswith(f"... {len(cert.cases) - 2} more cases")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prove_exits_0_with_a_report(capsys) -> None:
    code, out, _ = run_cli(capsys, "prove", "1RB1LB_1LA---", "--construction", "ss95", "--input-mode", "streamed")
    assert code == EXIT_OK
    assert "PROVED:" in out.splitlines()[1]


def test_cli_prove_json(capsys) -> None:
    code, out, _ = run_cli(capsys, "prove", "dyck2", "--json")
    data = json.loads(out)
    assert code == EXIT_OK and data["ok"] is True and data["machine"] == "dyck2"


def test_cli_prove_over_budget_exits_1(capsys) -> None:
    code, out, _ = run_cli(capsys, "prove", "bb2", "--max-cases", "3")
    assert code == EXIT_PROBLEMS
    assert "NOT PROVED: the proof needs 12 cases, more than the budget of 3" in out


def test_cli_prove_a_broken_network_file_exits_1(capsys, tmp_path) -> None:
    tm = tr.load_machine("bb2")
    path = tmp_path / "broken.npz"
    _with_weight(compile_machine(tm), "tape:R/L", "copy:R", Fraction(1, 2)).save(path)
    code, out, _ = run_cli(capsys, "prove", str(path))
    assert code == EXIT_PROBLEMS
    assert "FAIL step" in out and "neuron tape:R/L" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prove", "no_such_machine"], "unknown machine 'no_such_machine'"),
        (["prove", "bb2", "--construction", "nope"], "unknown construction 'nope'"),
        (["prove", "bb2", "--max-cases", "0"], "max_cases must be a whole number >= 1"),
    ],
)
def test_cli_prove_errors_exit_2(capsys, argv: list[str], message: str) -> None:
    code, _, err = run_cli(capsys, *argv)
    assert code == EXIT_ERROR
    assert message in err
