"""Question: how fast is the exact engine, against the Fraction reference and the interpreter, and how does depth cost?

Side by side in one process, each timed ``--rounds`` times (the fastest round is
reported, since the machine may be shared):

* the exact engine (:func:`turingrnn.engines.exact.run_exact` on the compiled network);
* the Fraction reference: a loop of :meth:`Network.tick <turingrnn.compile.network.Network.tick>`
  from the same start values (run for at most ``--reference-seconds`` per workload);
* the Python interpreter (:func:`turingrnn.machines.interpreter.run`) on the machine itself;

on three workloads:

* BB(4), the 4-state busy beaver champion (107 steps), compiled with the compact construction;
* Rogozhin's UTM(4,6) worked example (518 steps);
* a depth sweep: a 4-state, 6-symbol machine shaped like Rogozhin's (38 neurons,
  2 ticks per step) that walks right over a random word of length ``n`` and back,
  for ``n`` in ``--depths``; its tape codes hold ``n`` digits in base 12 throughout.
  The exact engine's setup (encoding the input, choosing the scale) is timed
  apart, so the per-tick cost is the kernel's.

Every exact run is checked against the interpreter (same status, steps and final
configuration).

Usage::

    python experiments/bench_exact.py [--out PATH] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.compile.network import Network
from turingrnn.engines.exact import run_exact
from turingrnn.machines.interpreter import run

BB4 = "1RB1LB_1LA0LC_1RZ1LD_1RD0RA"
ROGOZHIN_WORD, ROGOZHIN_HEAD = "<bb1b1bbb1c1c11111", 9
SWEEP_SYMBOLS = "01b<>c"  # Rogozhin's alphabet, blank first
DEFAULT_OUT = Path(__file__).parent / "results" / "bench_exact.json"


def sweep_machine() -> tr.TuringMachine:
    """A, C walk right (alternating) over non-blanks; at the blank B, D walk back left (alternating), and again."""
    rules = []
    turn = {"A": "C", "C": "A", "B": "D", "D": "B"}
    for q in "ABCD":
        right = q in "AC"
        for s in SWEEP_SYMBOLS:
            if s == SWEEP_SYMBOLS[0]:
                rules.append(
                    tr.TMRule(state=q, read=s, write=s, move="L" if right else "R", next="B" if right else "A")
                )
            else:
                rules.append(tr.TMRule(state=q, read=s, write=s, move="R" if right else "L", next=turn[q]))
    return tr.TuringMachine(
        name="sweep",
        description="Walk right to the blank and back, forever.",
        states=tuple("ABCD"),
        symbols=tuple(SWEEP_SYMBOLS),
        blank=SWEEP_SYMBOLS[0],
        start="A",
        rules=tuple(rules),
    )


def best_of(rounds: int, call: Callable[[], Any]) -> tuple[Any, float, list[float]]:
    """The last result, the fastest round's seconds, and every round's seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return result, min(times), times


def reference_steps(net: Network, word: str, head: int, max_steps: int, budget: float) -> tuple[int, float]:
    """Machine steps of the Fraction reference loop within ``budget`` seconds (at most ``max_steps``)."""
    start = run_exact(net, word, head=head, max_steps=0).values(0)
    values = {label: start(label) for label in net.labels}
    began = time.perf_counter()
    steps = 0
    while steps < max_steps and time.perf_counter() - began < budget:
        for _ in range(net.ticks_per_step):
            values = net.tick(values)
        steps += 1
    return steps, time.perf_counter() - began


def row(workload: str, engine: str, steps: int, ticks_per_step: int, seconds: float, **extra: Any) -> dict[str, Any]:
    ticks = steps * ticks_per_step
    return {
        "workload": workload,
        "engine": engine,
        "steps": steps,
        "ticks": ticks if engine != "interpreter" else None,
        "seconds": seconds,
        "steps_per_second": steps / seconds if seconds else None,
        "ticks_per_second": ticks / seconds if seconds and engine != "interpreter" else None,
        "us_per_tick": 1e6 * seconds / ticks if ticks and engine != "interpreter" else None,
    } | extra


def agree(net: Network, word: str, head: int, max_steps: int, trace: tr.RunResult) -> bool:
    return trace == run(net.machine, word, head=head, max_steps=max_steps)


def workload(
    name: str, net: Network, word: str, head: int, max_steps: int, repeats: int, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """The three engines on one machine run; ``repeats`` runs per timed round for the fast ones."""
    T = net.ticks_per_step
    first = time.perf_counter()
    run_exact(net, word, head=head, max_steps=max_steps, record="final")
    first = time.perf_counter() - first

    def exact() -> tr.RunResult:
        for _ in range(repeats):
            trace = run_exact(net, word, head=head, max_steps=max_steps, record="final")
        return trace.decode()

    result, seconds, times = best_of(args.rounds, exact)
    steps = result.steps * repeats
    rows = [
        row(
            name,
            "exact",
            steps,
            T,
            seconds,
            repeats=repeats,
            first_call_seconds=first,
            rounds=times,
            agrees_with_interpreter=agree(net, word, head, max_steps, result),
            neurons=net.size,
        )
    ]
    ref_steps, ref_seconds = reference_steps(net, word, head, result.steps, args.reference_seconds)
    rows.append(row(name, "fraction reference", ref_steps, T, ref_seconds, neurons=net.size))

    def interpret() -> tr.RunResult:
        for _ in range(repeats):
            r = run(net.machine, word, head=head, max_steps=max_steps)
        return r

    _, seconds, times = best_of(args.rounds, interpret)
    rows.append(row(name, "interpreter", steps, T, seconds, repeats=repeats, rounds=times))
    return rows


def depth_sweep(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Exact engine (kernel time apart from setup) and reference at each depth."""
    rng = random.Random(args.seed)
    tm = sweep_machine()
    net = compile_machine(tm)
    rows = []
    for n in args.depths:
        word = "".join(rng.choice(SWEEP_SYMBOLS[1:]) for _ in range(n))
        steps = max(args.sweep_steps, 2 * n + 2)
        _, setup, _ = best_of(args.rounds, lambda word=word: run_exact(net, word, max_steps=0, record="final"))
        trace, total, times = best_of(
            args.rounds, lambda word=word, steps=steps: run_exact(net, word, max_steps=steps, record="final")
        )
        kernel = max(total - setup, 1e-9)
        rows.append(
            row(
                f"sweep n={n}",
                "exact",
                steps,
                net.ticks_per_step,
                kernel,
                depth=n,
                setup_seconds=setup,
                total_seconds=total,
                rounds=times,
                scale_digits=trace.info["scale_digits"],
                agrees_with_interpreter=agree(net, word, 0, steps, trace.decode()),
                neurons=net.size,
            )
        )
        ref_steps, ref_seconds = reference_steps(net, word, 0, steps, args.reference_seconds)
        rows.append(row(f"sweep n={n}", "fraction reference", ref_steps, net.ticks_per_step, ref_seconds, depth=n))
        _, seconds, _ = best_of(args.rounds, lambda word=word, steps=steps: run(tm, word, max_steps=steps))
        rows.append(row(f"sweep n={n}", "interpreter", steps, net.ticks_per_step, seconds, depth=n))
    return rows


def linear_fit(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Least squares ``us_per_tick = a + b * depth`` over the exact sweep rows."""
    pts = [(r["depth"], r["us_per_tick"]) for r in rows if r["engine"] == "exact" and "depth" in r]
    n = len(pts)
    mx, my = sum(x for x, _ in pts) / n, sum(y for _, y in pts) / n
    b = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
    return {"us_per_tick_at_depth_0": my - b * mx, "us_per_tick_per_1000_symbols": 1000 * b}


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| workload | engine | steps | seconds | steps/s | ticks/s | µs/tick |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]

    def fmt(x: float | None, spec: str) -> str:
        return "–" if x is None else format(x, spec)

    for r in results["runs"]:
        lines.append(
            f"| {r['workload']} | {r['engine']} | {r['steps']:,} | {r['seconds']:.4f} | "
            f"{fmt(r['steps_per_second'], ',.0f')} | {fmt(r['ticks_per_second'], ',.0f')} | "
            f"{fmt(r['us_per_tick'], '.2f')} |"
        )
    fit = results["depth_fit"]
    lines.append("")
    lines.append(
        f"Exact kernel cost per tick ≈ {fit['us_per_tick_at_depth_0']:.2f} µs + "
        f"{fit['us_per_tick_per_1000_symbols']:.2f} µs per 1000 symbols of depth (least squares over the sweep)."
    )
    bad = [r["workload"] for r in results["runs"] if r.get("agrees_with_interpreter") is False]
    lines.append("All exact runs agree with the interpreter." if not bad else f"DISAGREE: {bad}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, write the JSON to ``--out`` and print a markdown table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random words of the depth sweep")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per run; the fastest is reported")
    parser.add_argument("--bb4-repeats", type=int, default=200, help="BB(4) runs per timed round")
    parser.add_argument("--rogozhin-repeats", type=int, default=40, help="Rogozhin runs per timed round")
    parser.add_argument("--depths", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--sweep-steps", type=int, default=20_000, help="least machine steps per sweep run")
    parser.add_argument("--reference-seconds", type=float, default=2.0, help="time budget of each reference run")
    args = parser.parse_args(argv)

    bb4 = compile_machine(tr.parse_bbchallenge(BB4))
    rogozhin = compile_machine(tr.load_machine("rogozhin_4_6"))
    runs = workload("BB(4)", bb4, "", 0, 1_000, args.bb4_repeats, args)
    runs += workload(
        "Rogozhin UTM(4,6) example", rogozhin, ROGOZHIN_WORD, ROGOZHIN_HEAD, 1_000, args.rogozhin_repeats, args
    )
    runs += depth_sweep(args)
    results = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "turingrnn_version": tr.__version__,
        "platform": {
            "python": platform.python_version(),
            "system": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
        },
        "networks": {
            "BB(4)": bb4.info(),
            "Rogozhin": rogozhin.info(),
            "sweep": compile_machine(sweep_machine()).info(),
        },
        "runs": runs,
        "depth_fit": linear_fit(runs),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    print(f"\nwrote {args.out}")
    return results


if __name__ == "__main__":
    main()
