"""Question: how many steps per second do the reference and the Numba Turing machine interpreters take?

Side by side in one process, on the same machine:

* the first call of :func:`~turingrnn.machines.fast_interpreter.run_tm_fast` (compile or
  cache load), and a cold compile measured in a fresh process with an empty
  Numba cache directory;
* the BB(4) champion (107 steps) run ``--bb4-repeats`` times with both interpreters (for
  Numba this measures the per-call overhead, not the kernel);
* the first ``--prefix-steps`` steps of the BB(5) champion with both;
* the BB(5) champion to its halt (47,176,870 steps) with Numba only;
* each timed ``--rounds`` times, reporting the fastest round (the machine may be shared);
* an agreement check: ``--random-machines`` random 5-state machines (from
  ``--seed``) run with both for ``--random-steps`` steps must give equal results.

Usage::

    python experiments/bench_interpreter.py [--out PATH] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

import turingrnn as tr
from turingrnn.machines.fast_interpreter import run_tm_fast
from turingrnn.machines.interpreter import run

BB4 = "1RB1LB_1LA0LC_---1LD_1RD0RA"
BB5 = "1RB1LC_1RC1RB_1RD0LE_1LA1LD_---0LA"
DEFAULT_OUT = Path(__file__).parent / "results" / "bench_interpreter.json"

COLD_COMPILE = """
import time
start = time.perf_counter()
from turingrnn import parse_bbchallenge
from turingrnn.machines.fast_interpreter import run_tm_fast
imported = time.perf_counter()
run_tm_fast(parse_bbchallenge("1RB1LB_1LA---"))
print(imported - start, time.perf_counter() - imported)
"""


def _timed(call: Callable[[], tr.RunResult], repeats: int = 1) -> tuple[tr.RunResult, float]:
    """The last result of ``repeats`` calls and the total wall time in seconds."""
    start = time.perf_counter()
    for _ in range(repeats):
        result = call()
    return result, time.perf_counter() - start


def _row(name: str, call: Callable[[], tr.RunResult], rounds: int, repeats: int = 1) -> dict[str, Any]:
    """Time ``repeats`` calls ``rounds`` times; the row reports the fastest round."""
    times = []
    for _ in range(rounds):
        result, seconds = _timed(call, repeats)
        times.append(seconds)
    steps = result.steps * repeats
    return {
        "name": name,
        "repeats": repeats,
        "steps": steps,
        "seconds": min(times),
        "seconds_per_round": times,
        "steps_per_second": steps / min(times),
        "status": result.status.value,
        "ones": result.tape.count("1"),
    }


def _cold_compile_seconds() -> dict[str, float]:
    """Import and first-call time in a fresh process whose Numba cache is empty."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        out = subprocess.run([sys.executable, "-c", COLD_COMPILE], env=env, capture_output=True, text=True, check=True)
    imported, first_call = map(float, out.stdout.split())
    return {"import_seconds": imported, "first_call_seconds": first_call}


def _random_machine(rng: np.random.Generator, n: int = 5) -> tr.TuringMachine:
    """A random n-state, 2-symbol machine in bbchallenge form; about 1 in 10 transitions undefined."""
    letters = [chr(ord("A") + i) for i in range(n)]
    groups = []
    for _ in letters:
        cells = []
        for _ in range(2):
            if rng.random() < 0.1:
                cells.append("---")
            else:
                cells.append(f"{rng.integers(2)}{'LR'[rng.integers(2)]}{letters[rng.integers(n)]}")
        groups.append("".join(cells))
    with warnings.catch_warnings():  # random machines often have unreachable states
        warnings.simplefilter("ignore", tr.SpecWarning)
        return tr.parse_bbchallenge("_".join(groups))


def _agreement(seed: int, machines: int, steps: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    disagree = []
    for _ in range(machines):
        tm = _random_machine(rng)
        fast, slow = run_tm_fast(tm, max_steps=steps), run(tm, max_steps=steps)
        if (fast.status, fast.steps, fast.configuration) != (slow.status, slow.steps, slow.configuration):
            disagree.append(tr.dump_bbchallenge(tm))
    return {"machines": machines, "max_steps": steps, "disagreements": disagree}


def _markdown(results: dict[str, Any]) -> str:
    lines = [
        "| run | interpreter | steps | seconds (best round) | steps/s |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in results["runs"]:
        what, who = row["name"].rsplit(" / ", 1)
        lines.append(f"| {what} | {who} | {row['steps']:,} | {row['seconds']:.3f} | {row['steps_per_second']:,.0f} |")
    c = results["compile"]
    lines.append("")
    lines.append(
        f"Numba first call in this process: {c['first_call_seconds']:.3f} s; cold compile in a fresh process: "
        f"{c['cold']['first_call_seconds']:.3f} s (+ {c['cold']['import_seconds']:.3f} s import)."
    )
    bb5 = next(r for r in results["runs"] if r["name"].startswith("BB(5) to halt"))
    lines.append(f"BB(5) to halt: {bb5['steps']:,} steps, {bb5['ones']} ones, {bb5['seconds']:.3f} s.")
    a = results["agreement"]
    lines.append(f"Agreement on {a['machines']} random machines: {a['machines'] - len(a['disagreements'])} equal.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, write the JSON to ``--out`` and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random machines of the agreement check")
    parser.add_argument("--bb4-repeats", type=int, default=2000, help="how many times to run BB(4)")
    parser.add_argument("--prefix-steps", type=int, default=2_000_000, help="BB(5) steps run with both interpreters")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per run; the fastest is reported")
    parser.add_argument("--random-machines", type=int, default=50)
    parser.add_argument("--random-steps", type=int, default=10_000)
    args = parser.parse_args(argv)

    bb4, bb5 = tr.parse_bbchallenge(BB4), tr.parse_bbchallenge(BB5)
    _, first_call = _timed(lambda: run_tm_fast(bb4))
    compile_info = {"first_call_seconds": first_call, "cold": _cold_compile_seconds()}

    n = args.bb4_repeats
    p = args.prefix_steps
    r = args.rounds
    runs = [
        _row(f"BB(4) x {n} / Python", lambda: run(bb4), r, n),
        _row(f"BB(4) x {n} / Numba", lambda: run_tm_fast(bb4), r, n),
        _row(f"BB(5) first {p:,} steps / Python", lambda: run(bb5, max_steps=p), r),
        _row(f"BB(5) first {p:,} steps / Numba", lambda: run_tm_fast(bb5, max_steps=p), r),
        _row("BB(5) to halt / Numba", lambda: run_tm_fast(bb5, max_steps=100_000_000), r),
    ]
    results = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "turingrnn_version": tr.__version__,
        "platform": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "numba": numba.__version__,
            "system": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
        },
        "compile": compile_info,
        "runs": runs,
        "agreement": _agreement(args.seed, args.random_machines, args.random_steps),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(_markdown(results))
    print(f"\nwrote {args.out}")
    return results


if __name__ == "__main__":
    main()
