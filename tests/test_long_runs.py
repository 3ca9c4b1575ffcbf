"""Long exact runs: progress reports, Ctrl-C partial traces, and BB(5) to halt (slow)."""

from __future__ import annotations

import dataclasses
import io

import pytest

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.engines.exact import run_exact
from turingrnn.machines.interpreter import Status, run
from turingrnn.progress import Progress, ProgressBar

BB5 = "1RB1LC_1RC1RB_1RD0LE_1LA1LD_---0LA"


@pytest.fixture(scope="module")
def bb5() -> tr.TuringMachine:
    return tr.parse_bbchallenge(BB5)


@pytest.mark.parametrize("record", ["final", "steps"])
def test_progress_callback_gets_increasing_step_counts(bb5: tr.TuringMachine, record: str) -> None:
    seen: list[Progress] = []
    trace = run_exact(compile_machine(bb5), "", max_steps=30_000, record=record, progress=seen.append)
    steps = [p.steps for p in seen]
    assert len(seen) >= 3 and steps == sorted(steps) and steps[0] == 0
    assert [p.done for p in seen] == [False] * (len(seen) - 1) + [True]
    last = seen[-1]
    assert last.steps == trace.steps == 30_000 and last.max_steps == 30_000 and not last.interrupted
    assert last.ticks == trace.ticks and last.scale_digits == pytest.approx(trace.info["scale_digits"], abs=0.1)
    assert trace.info["interrupted"] is False
    assert trace.decode() == run(bb5, max_steps=30_000)


def test_progress_true_prints_a_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    tm = tr.load_machine("bb4")
    trace = run_exact(compile_machine(tm), "", progress=True)
    err = capsys.readouterr().err
    assert trace.steps == 107 and "107/1,000,000 steps" in err and "steps/s" in err and err.endswith("done\n")


def test_progress_bar_throttles_and_always_prints_the_last_line() -> None:
    out = io.StringIO()
    bar = ProgressBar(stream=out, interval=10.0)
    for k in range(100):
        bar(Progress(steps=k, max_steps=100, ticks=2 * k, seconds=k / 1000, scale_digits=5.0))
    bar(Progress(steps=100, max_steps=100, ticks=200, seconds=0.1, scale_digits=5.0, done=True, interrupted=True))
    lines = out.getvalue().split("\r")[1:]
    assert len(lines) == 2 and lines[-1].endswith("interrupted\n") and "100/100 steps" in lines[-1]


@pytest.mark.parametrize("record", ["final", "steps", "ticks"])
def test_keyboard_interrupt_returns_the_partial_trace(bb5: tr.TuringMachine, record: str) -> None:
    """Ctrl-C, simulated by the progress callback: the run stops at its last checked readout and decodes."""
    calls = 0

    def interrupt(p: Progress) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt

    trace = run_exact(compile_machine(bb5), "", max_steps=1_000_000, record=record, progress=interrupt)
    assert trace.info["interrupted"] is True and trace.stop is None
    assert 0 < trace.steps < 1_000_000 and trace.status is Status.OUT_OF_STEPS
    assert trace.ticks == 2 * trace.steps
    expected = run(bb5, max_steps=trace.steps)
    assert trace.decode() == dataclasses.replace(expected, reason="interrupted")
    assert trace.reason == "interrupted"
    if record != "final":
        assert trace.first_divergence(run_exact(compile_machine(bb5), "", max_steps=trace.steps)) is None


def test_keyboard_interrupt_in_the_middle_of_a_precision_growth_rolls_back(bb5: tr.TuringMachine) -> None:
    """An interrupt can come anywhere; the trace goes back to the last completed chunk, scale included."""
    from turingrnn.engines import exact

    net = compile_machine(bb5)
    original = exact._Runner._signal
    calls = 0

    def signal(self: exact._Runner, e: exact._Stop, tick: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            self.scale.grow(4, 1, "test")  # half-done: the scale grew, the values did not
            raise KeyboardInterrupt
        original(self, e, tick)

    exact._Runner._signal = signal  # type: ignore[method-assign]
    try:
        trace = run_exact(net, "", max_steps=1_000_000, record="final")
    finally:
        exact._Runner._signal = original  # type: ignore[method-assign]
    assert trace.info["interrupted"] is True and calls == 5
    assert trace.decode() == dataclasses.replace(run(bb5, max_steps=trace.steps), reason="interrupted")


@pytest.mark.slow
def test_bb5_runs_to_halt_through_its_exact_network(bb5: tr.TuringMachine) -> None:
    """BB(5): 47,176,870 steps and 4097 ones, exactly (a few minutes)."""
    trace = run_exact(compile_machine(bb5), "", max_steps=50_000_000, record="final")
    result = trace.decode()
    assert trace.status is Status.HALTED and trace.reason == "undefined transition"
    assert trace.steps == 47_176_870 and result.tape.count("1") == 4097  # type: ignore[union-attr]


def _tag_through_network(
    productions: dict[str, tuple[str, ...]], letters: tuple[str, ...], halt: str, word: tuple[str, ...]
) -> None:
    """A Rogozhin-form tag system, as a tape of UTM(4,6), through the compact network, verified at every step."""
    from turingrnn.check.verify import verify
    from turingrnn.machines.tags import TagSystem, decode_rogozhin, rogozhin_tape, run_tag

    system = TagSystem(letters=letters, productions=productions, halt=frozenset({halt}))
    machine = tr.load_machine("rogozhin_4_6")
    tape, head = rogozhin_tape(system, word)
    net = compile_machine(machine)
    assert verify(machine, [(tape, head)], net=net, max_steps=1_000_000).ok
    result = run_exact(net, tape, head=head, max_steps=1_000_000, record="final").decode()
    assert result.status == Status.HALTED
    assert decode_rogozhin(system, result.tape) == run_tag(system, word).word


def test_our_tag_system_runs_exactly_through_the_universal_network() -> None:
    _tag_through_network({"a1": ("a2", "a2", "a3"), "a2": ("a2", "a2")}, ("a1", "a2", "a3"), "a3", ("a1",) * 4)


@pytest.mark.slow
def test_rogozhins_worked_example_runs_exactly_through_the_universal_network() -> None:
    productions = {"a1": ("a3", "a3", "a2", "a1", "a4"), "a2": ("a3", "a3", "a1"), "a3": ("a3", "a3")}
    _tag_through_network(productions, ("a1", "a2", "a3", "a4"), "a4", ("a2", "a1", "a1"))


def _peak_rss_mb(*argv: str) -> float:
    """The peak resident memory (MB) of ``turingrnn run ARGV`` in a fresh interpreter."""
    import json
    import subprocess
    import sys

    probe = (
        "import resource, sys, turingrnn.cli as cli; code = cli.main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", probe, "run", *argv], capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert json.loads(lines[-2])["steps"] == int(argv[argv.index("--max-steps") + 1])
    return float(lines[-1])


def test_a_million_step_cli_run_takes_no_more_memory_than_a_thousand_steps() -> None:
    # the ping-pong machine keeps a bounded tape, so a run's own state is the same size at every step;
    # a recorded history would be about 150 MB at 10^6 steps (15 MB per 10^5 readouts of its 20 neurons)
    small = _peak_rss_mb("0RB---_0LA---", "--max-steps", "1000", "--json")
    large = _peak_rss_mb("0RB---_0LA---", "--max-steps", "1000000", "--json")
    assert large - small < 20, (small, large)


def test_a_million_step_run_recorded_in_chunks_takes_no_more_memory_than_a_thousand_steps() -> None:
    # --record every:N runs the exact network in chunks of 10^4 steps, each resumed from the last one's values
    small = _peak_rss_mb("0RB---_0LA---", "--max-steps", "1000", "--record", "every:250000", "--json")
    large = _peak_rss_mb("0RB---_0LA---", "--max-steps", "1000000", "--record", "every:250000", "--json")
    assert large - small < 20, (small, large)
