"""Question: does the exact engine carry BB(5) through its compiled network to halt, and how fast?

BB(5), the 5-state busy beaver champion ``1RB1LC_1RC1RB_1RD0LE_1LA1LD_---0LA``,
halts after 47,176,870 steps with 4097 ones on its tape (bbchallenge). This
script compiles it with the compact construction (20 neurons, 2 ticks per
step, half-tapes in base 4), runs the network with
:func:`turingrnn.engines.exact.run_exact` (``record="final"``) until it halts, decodes
the final readout and checks it against the Numba interpreter
(:func:`turingrnn.machines.fast_interpreter.run_tm_fast`): the same status, step count,
verdict and final configuration, 47,176,870 steps and 4097 ones.

Usage::

    python experiments/bb5_exact.py [--out PATH] [--progress] [--max-steps N]

With a smaller ``--max-steps`` it runs a prefix and checks it against the
interpreter with the same limit. Ctrl-C stops the run and reports the partial
result (not checked).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.engines.exact import run_exact
from turingrnn.machines.fast_interpreter import run_tm_fast

BB5 = "1RB1LC_1RC1RB_1RD0LE_1LA1LD_---0LA"
BB5_STEPS, BB5_ONES = 47_176_870, 4097
DEFAULT_OUT = Path(__file__).parent / "results" / "bb5_exact.json"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run BB(5) through its exact network, check it, write the JSON to ``--out`` and print a summary."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file to write")
    parser.add_argument("--progress", action="store_true", help="show a progress line on stderr")
    parser.add_argument("--max-steps", type=int, default=50_000_000, help="step limit of the run")
    args = parser.parse_args(argv)

    tm = tr.parse_bbchallenge(BB5)
    t0 = time.perf_counter()
    net = compile_machine(tm)
    compile_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = run_exact(net, "", max_steps=args.max_steps, record="final", progress=True if args.progress else None)
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = run.decode()
    decode_seconds = time.perf_counter() - t0
    ones = result.tape.count("1")  # type: ignore[union-attr]

    interrupted = bool(run.info.get("interrupted"))
    checks: dict[str, bool] = {}
    if not interrupted:
        reference = run_tm_fast(tm, max_steps=args.max_steps)
        checks["same_result_as_numba_interpreter"] = result == reference  # status, steps, final configuration
        if args.max_steps >= BB5_STEPS:
            checks["halted"] = run.status.value == "halted"
            checks[f"steps_{BB5_STEPS}"] = run.steps == BB5_STEPS
            checks[f"ones_{BB5_ONES}"] = ones == BB5_ONES
    results: dict[str, Any] = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()} | {"machine": BB5},
        "turingrnn_version": tr.__version__,
        "platform": {
            "python": platform.python_version(),
            "system": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
        },
        "network": net.info(),
        "status": run.status.value,
        "reason": run.reason,
        "interrupted": interrupted,
        "steps": run.steps,
        "ticks": run.ticks,
        "ones": ones,
        "compile_seconds": round(compile_seconds, 3),
        "seconds": round(seconds, 3),
        "decode_seconds": round(decode_seconds, 3),
        "steps_per_second": round(run.steps / seconds) if seconds > 0 else None,
        "peak_scale_digits": run.info["scale_digits"],
        "peak_scale_bits": round(run.info["scale_digits"] / 0.30102999566398120, 1),
        "growths": run.info["growths"],
        "checks": checks,
        "all_checks_passed": bool(checks) and all(checks.values()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"BB(5) through its exact network ({net.size} neurons, {net.ticks_per_step} ticks per step): "
        f"{results['status']} after {run.steps:,} steps ({run.reason}), {ones:,} ones\n"
        f"  {seconds:,.1f} s, {results['steps_per_second'] or 0:,} steps/s; "
        f"peak scale {results['peak_scale_digits']:,.0f} decimal digits ({results['growths']} growths)\n"
        f"  checks: {', '.join(f'{k}={v}' for k, v in checks.items()) or 'none (interrupted)'}\n"
        f"  written to {args.out}"
    )
    return results


if __name__ == "__main__":
    sys.exit(0 if main()["all_checks_passed"] else 1)
