"""run_mp: binary floating point of any precision, checked against the exact engine and flagged off the code."""

from __future__ import annotations

from fractions import Fraction

import mpmath  # type: ignore[import-untyped]
import pytest

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.compile.encoding import DecodeError, encode_word
from turingrnn.engines.exact import run_exact
from turingrnn.engines.mp import binary_fraction_rows, is_exact_base, nearest_code, run_mp
from turingrnn.errors import InputError
from turingrnn.machines.interpreter import StackConfiguration

# Machines whose stacks and half-tapes all have a base that is a power of two (2 or 4 symbols).
EXACT_BASE_CASES = [
    ("reverse_string", "0110100111", 0),
    ("dyck2", "([()[]])[]", 0),
    ("dyck2", "([)]", 0),
    ("duplicate_string", "0111", 0),
    ("parity", "1011", 0),
    ("bb4", "", 0),
    ("unary_to_binary", "111", 0),
    ("minsky_7_4", "", 0),
]


def networks(name: str) -> list[tr.Network]:
    machine = tr.load_machine(name)
    return [
        compile_machine(machine, construction=c, input_mode=m)
        for c in ("compact", "ss95")
        for m in ("preloaded", "streamed")
    ]


@pytest.mark.parametrize(("name", "word", "head"), EXACT_BASE_CASES)
def test_at_2000_bits_every_step_equals_the_exact_engine(name: str, word: str, head: int) -> None:
    for net in networks(name):
        exact = run_exact(net, word, head=head, max_steps=300)
        run = run_mp(net, word, prec=2000, head=head, max_steps=300)
        assert run.diverged_at is None, run.divergence
        assert run.first_divergence(exact) is None
        assert exact.first_divergence(run) is None
        assert run.configurations == exact.configurations
        assert (run.steps, run.stop) == (exact.steps, exact.stop)
        if exact.halted:
            assert run.decode() == exact.decode()


def test_float64_holds_26_binary_symbols_and_flags_27() -> None:
    """Base 4 at 53 bits: the push computes 1 + q/4, which needs 2n + 3 bits for n symbols after the push."""
    net = compile_machine(tr.load_machine("reverse_string"), input_mode="streamed")
    for n, exact_expected in ((26, True), (27, False)):
        word = "1" * n
        run = run_mp(net, word, prec=53)
        assert (run.diverged_at is None) == exact_expected, run.divergence
        if not exact_expected:
            assert run.first_divergence(run_exact(net, word)) == run.diverged_at


def test_a_deep_input_at_low_precision_is_flagged_not_silently_wrong() -> None:
    word = "0110" * 10  # 40 symbols in base 4 need about 80 bits
    for net in networks("reverse_string"):
        exact = run_exact(net, word)
        run = run_mp(net, word, prec=53)
        assert run.diverged_at is not None
        assert run.first_divergence(exact) == run.diverged_at  # every step before the flag is right
        with pytest.raises(DecodeError, match=f"step {run.diverged_at}"):
            run.configuration(run.diverged_at)
        with pytest.raises(DecodeError, match="left the code"):
            run.decode()


def test_without_the_rounding_check_a_deep_streamed_input_loads_silently_truncated() -> None:
    """The code checks alone cannot see it: the loader rounds the bottom symbols away, leaving a valid shorter code."""
    net = compile_machine(tr.load_machine("reverse_string"), input_mode="streamed")
    word = "0110" * 10
    exact = run_exact(net, word)
    blind = run_mp(net, word, prec=53, check_rounding=False)
    assert blind.diverged_at is None and blind.first_divergence(exact) == 0
    config = blind.configuration(0)
    assert isinstance(config, StackConfiguration) and config.stacks[0][1] == word[:27]
    run = run_mp(net, word, prec=53)
    assert run.diverged_at == 0 and "was rounded" in (run.divergence or "")


def test_rounding_is_watched_where_exact_values_are_binary_fractions_even_in_a_network_with_thirds() -> None:
    """ss95 carries a 4-symbol stack's top index as j/3; the loader's rows stay watched and catch the truncation."""
    net = compile_machine(tr.load_machine("dyck2"), construction="ss95", input_mode="streamed")
    watched = dict(zip(net.labels, binary_fraction_rows(net), strict=True))
    assert not watched["top:in@2"] and not watched["stack:in"] and watched["load:acc"] and watched["stack:open"]
    run = run_mp(net, "[]((([])))", prec=24)  # 10 symbols of base 8 need 30 bits
    assert run.diverged_at == 0 and "'load:acc' was rounded" in (run.divergence or "")


def test_a_preloaded_code_deeper_than_the_precision_is_flagged_at_step_0() -> None:
    net = compile_machine(tr.load_machine("reverse_string"))
    run = run_mp(net, "01" * 20, prec=24)
    assert run.diverged_at == 0
    assert "needs more than 24 significand bits" in (run.divergence or "")


def test_base_6_stacks_leave_the_code_at_any_precision_and_are_flagged() -> None:
    """1/6 is not a binary fraction: a code rounded down makes a top detector 1 - 2**-prec."""
    for net in networks("binary_addition"):
        exact = run_exact(net, "011+1")
        run = run_mp(net, "011+1", prec=2000)
        assert run.diverged_at is not None
        assert "binary neuron" in (run.divergence or "")
        assert run.first_divergence(exact) == run.diverged_at


def test_the_global_mpmath_precision_is_untouched() -> None:
    before = (mpmath.mp.prec, mpmath.mp.dps)
    net = compile_machine(tr.load_machine("reverse_string"))
    for prec in (24, 2000):
        run_mp(net, "0110", prec=prec)
        assert (mpmath.mp.prec, mpmath.mp.dps) == before


@pytest.mark.parametrize("prec", [0, -5, 1, 53.0, "53", True, None])
def test_bad_precision_is_refused_with_the_value(prec: object) -> None:
    net = compile_machine(tr.load_machine("reverse_string"))
    with pytest.raises(InputError, match=rf"prec must be a whole number of significand bits >= 2, got {prec!r}"):
        run_mp(net, "01", prec=prec)  # type: ignore[arg-type]


def test_step_limit_and_halting_follow_the_exact_engine() -> None:
    net = compile_machine(tr.load_machine("bb4"))
    run, exact = run_mp(net, "", max_steps=10), run_exact(net, "", max_steps=10)
    assert (run.steps, run.stop, run.decode()) == (exact.steps, exact.stop, exact.decode())
    with pytest.raises(InputError, match="max_steps"):
        run_mp(net, "", max_steps=-1)


def test_readout_values_are_the_exact_rationals_of_the_floats() -> None:
    net = compile_machine(tr.load_machine("reverse_string"), construction="ss95")
    run = run_mp(net, "01", prec=53)
    assert run.values(run.readout_tick(0))("stack:in") == encode_word("01", ("0", "1"), "stack")
    assert run.values(run.readout_tick(run.steps))("stack:out") == encode_word("10", ("0", "1"), "stack")


def test_nearest_code_accepts_within_half_a_gap_and_refuses_beyond() -> None:
    abc = ("a", "b", "c")
    code = encode_word("cab", abc, "stack")  # depth 3 in base 6: the gap is 6**-4
    assert nearest_code(code + Fraction(1, 6**4 * 3), abc, 10) == code
    assert nearest_code(code - Fraction(1, 6**4 * 3), abc, 10) == code
    with pytest.raises(DecodeError, match="remainder after depth 3"):
        nearest_code(code - Fraction(1, 6**4), abc, 10)
    with pytest.raises(DecodeError, match="depth <= 2"):
        nearest_code(code, abc, 2)
    assert is_exact_base(("0", "1")) and is_exact_base(("(", ")", "[", "]")) and not is_exact_base(abc)
