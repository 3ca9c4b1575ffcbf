"""Question: how fast is every engine, measured side by side in one run?

Engines, each on the same workload and timed ``--rounds`` times (fastest round reported,
since the machine is shared):

* ``interpreter`` and ``interpreter-numba``: the reference interpreters (machine, not network);
* ``exact``: :func:`turingrnn.engines.exact.run_exact` on the compiled network;
* ``mp``: :func:`turingrnn.engines.mp.run_mp` at 113 bits;
* ``float64``: :func:`turingrnn.engines.fast.run_float`, one word;
* ``float64 xB``: :func:`turingrnn.engines.fast.run_float` on a batch of ``B`` copies of the word
  (steps counted over the whole batch), for B in ``--batches``.

Workloads: BB(4) (107 steps), Rogozhin's UTM(4,6) worked example (518 steps), and
Dyck-1 words ``(^n )^n`` for n in ``--dyck``. Peak memory is the largest resident
set size of the process after each engine (``resource.getrusage``), so it only grows.

Usage::

    OPENBLAS_NUM_THREADS=1 python experiments/bench.py [--out PATH] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import turingrnn as tr
from turingrnn.engines.exact import run_exact
from turingrnn.engines.fast import run_float
from turingrnn.engines.mp import run_mp
from turingrnn.machines.fast_interpreter import run_tm_fast

DEFAULT_OUT = Path("experiments/results/bench.json")


def best(rounds: int, call: Callable[[], Any]) -> tuple[Any, float]:
    """The result of ``call`` and its fastest wall time over ``rounds`` rounds."""
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return result, min(times)


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def workloads(args: argparse.Namespace) -> list[tuple[str, tr.TuringMachine | tr.StackMachine, str, int]]:
    items: list[tuple[str, tr.TuringMachine | tr.StackMachine, str, int]] = [
        ("BB(4)", tr.load_machine("bb4"), "", 0),
        ("Rogozhin UTM(4,6) example", tr.load_machine("rogozhin_4_6"), "<bb1b1bbb1c1c11111", 9),
    ]
    dyck = tr.load_machine("dyck1")
    items += [(f"Dyck-1 n={n}", dyck, "(" * n + ")" * n, 0) for n in args.dyck]
    return items


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, machine, word, head in workloads(args):
        rows += measure_workload(args, name, machine, word, head)
    return rows


def measure_workload(
    args: argparse.Namespace, name: str, machine: tr.TuringMachine | tr.StackMachine, word: str, head: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    net = tr.compile_machine(machine)
    limit = 10**7
    engines: list[tuple[str, Callable[[], Any]]] = [
        ("interpreter", lambda: tr.run(machine, word, head=head, max_steps=limit)),
        ("exact", lambda: run_exact(net, word, head=head, max_steps=limit, record="final")),
        ("mp (113 bits)", lambda: run_mp(net, word, head=head, prec=113, max_steps=limit)),
        ("float64", lambda: run_float(net, word, head=head, max_steps=limit, record="final")),
    ]
    if isinstance(machine, tr.TuringMachine):
        tm = machine
        engines.insert(1, ("interpreter-numba", lambda: run_tm_fast(tm, word, head=head, max_steps=limit)))
    for batch in args.batches:
        words = [word] * batch
        engines.append(
            (f"float64 x{batch}", lambda w=words: run_float(net, w, head=head, max_steps=limit, record="final"))
        )
    for engine, call in engines:
        call()  # warm-up: Numba compilation and code generation are not timed
        result, seconds = best(args.rounds, call)
        results = result if isinstance(result, list) else [result]
        diverged = getattr(results[0], "diverged_at", None)
        total = sum(r.steps for r in results)  # machine steps actually taken (fewer if the code was left)
        network_engine = engine not in ("interpreter", "interpreter-numba")
        rows.append(
            {
                "workload": name,
                "engine": engine,
                "neurons": net.size,
                "machine_steps": total,
                "ticks": total * net.ticks_per_step if network_engine else None,
                "seconds": seconds,
                "steps_per_s": total / seconds if seconds else None,
                "diverged_at": diverged,
                "peak_mb": round(peak_mb(), 1),
            }
        )
        print(f"{name:28} {engine:18} {total / seconds:>14,.0f} steps/s", file=sys.stderr)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| workload | engine | machine steps | seconds | machine steps/s | ticks/s | left the code | peak MB |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for r in rows:
        ticks = f"{r['ticks'] / r['seconds']:,.0f}" if r["ticks"] else "–"
        flag = "–" if r["diverged_at"] is None else f"step {r['diverged_at']}"
        lines.append(
            f"| {r['workload']} | {r['engine']} | {r['machine_steps']:,} | {r['seconds']:.4f} | "
            f"{r['steps_per_s']:,.0f} | {ticks} | {flag} | {r['peak_mb']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file to write")
    parser.add_argument("--seed", type=int, default=0, help="unused: the workloads are fixed")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per engine; the fastest is reported")
    parser.add_argument("--dyck", type=int, nargs="+", default=[10, 20, 25, 100, 1000])
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 256, 4096])
    parser.add_argument("--quick", action="store_true", help="one round, small batches")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.batches, args.dyck = 1, [16], [10, 100]
    rows = measure(args)
    results = {
        "command": "python experiments/bench.py" + (" --quick" if args.quick else ""),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "turingrnn": tr.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(rows))
    print(f"\nwrote {args.out}")
    return results


if __name__ == "__main__":
    main()
