"""Question: how fast is the float core, single stream and batched, beside the exact engine, and how far does it get?

Side by side in one process (each figure the fastest of ``--rounds`` rounds, since
the machine may be shared; end to end, Python setup and traces included):

* the exact engine, :func:`turingrnn.engines.exact.run_exact` (one word after another);
* the float core, :func:`turingrnn.engines.fast.run_float` in float64 and float32, with its
  generic CSR kernel and with the network's generated kernel (:mod:`turingrnn.engines.fastgen`;
  compiled or loaded from the cache before timing, the seconds that took are reported as
  ``warm_up_seconds``), one word (serial kernel) and batches of 16, 256 and 4096 words
  (parallel kernel, every core);

on the compact networks of

* Rogozhin's UTM(4,6) worked example (``<bb1b1bbb1c1c11111``, head 9; 38 neurons,
  2 ticks per step): its half-tapes need up to 18 base-12 digits (64 bits), more
  than float64 holds, so the float runs are flagged early (``diverged_at``);
* Minsky's UTM(7,4) from a blank tape (41 neurons, 2 ticks per step): it runs
  ``--minsky-steps`` steps in both dtypes without leaving the code, the throughput case
  (a batch runs ``--minsky-budget`` steps in all; the exact engine runs one round, its runs are long);
* dyck1 on random balanced words of several lengths (18 neurons, 2 ticks per step).

Reported per row: machine steps and ticks per second, the steps taken, and how
many words were flagged. Every float run is checked: unflagged runs against the
exact engine's result, flagged ones at their last certified step.

Usage (``PYTHONPATH=.`` runs the checkout's package rather than an installed copy)::

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python experiments/bench_float.py [--out PATH] [--seed N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.engines.exact import run_exact
from turingrnn.engines.fast import run_float

ROGOZHIN_WORD, ROGOZHIN_HEAD = "<bb1b1bbb1c1c11111", 9
BATCHES = (1, 16, 256, 4096)
KERNELS = ("generic", "generated")
DEFAULT_OUT = Path(__file__).parent / "results" / "bench_float.json"


def dyck_word(rng: random.Random, n: int) -> str:
    """A random balanced word of ``n`` brackets (``n`` even)."""
    out, depth = [], 0
    for k in range(n):
        left = n - k
        if depth == 0 or (depth < left and rng.random() < 0.5):
            out.append("(")
            depth += 1
        else:
            out.append(")")
            depth -= 1
    return "".join(out)


def best_of(rounds: int, call: Callable[[], Any]) -> tuple[Any, float]:
    """The last result and the fastest round's seconds."""
    best, result = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return result, best


def row(workload: str, engine: str, batch: int, traces: list[Any], seconds: float, T: int) -> dict[str, Any]:
    steps = sum(t.steps for t in traces)
    flagged = sum(getattr(t, "diverged_at", None) is not None for t in traces)
    return {
        "workload": workload,
        "engine": engine,
        "batch": batch,
        "steps": steps,
        "seconds": seconds,
        "steps_per_s": steps / seconds,
        "ticks_per_s": steps * T / seconds,
        "flagged": flagged,
        "first_flag": min((t.diverged_at for t in traces if getattr(t, "diverged_at", None) is not None), default=None),
    }


def check(fast: Any, exact: Any) -> None:
    """An unflagged float run equals the exact run; a flagged one agrees up to its flag."""
    if fast.diverged_at is None:
        assert (fast.steps, fast.stop, fast.final_configuration) == (exact.steps, exact.stop, exact.final_configuration)
    elif fast.diverged_at > 0:
        assert fast.configuration(fast.diverged_at - 1) == exact.configurations[fast.diverged_at - 1]


def bench(
    workload: str,
    net: tr.Network,
    words: list[str],
    head: int,
    max_steps: int,
    rounds: int,
    exact_batches: int,
    budget: int | None = None,
    exact_rounds: int | None = None,
) -> list[dict[str, Any]]:
    """Rows for every batch size; with ``budget``, ``b`` words run ``min(max_steps, budget // b)`` steps each."""
    T = net.ticks_per_step
    rows = []
    exact = {w: run_exact(net, w, head=head, max_steps=max_steps) for w in dict.fromkeys(words)}
    for batch in BATCHES:
        chosen = (words * (batch // len(words) + 1))[:batch]
        limit = max_steps if budget is None else max(1, min(max_steps, budget // batch))
        if batch <= exact_batches:

            def exact_runs(c: list[str] = chosen, m: int = limit) -> list[Any]:
                return [run_exact(net, w, head=head, max_steps=m, record="final") for w in c]

            traces, seconds = best_of(exact_rounds or rounds, exact_runs)
            rows.append(row(workload, "exact", batch, traces, seconds, T))
        for dtype, kernel in itertools.product(("float64", "float32"), KERNELS):

            def float_runs(a: list[str] = chosen, d: str = dtype, m: int = limit, k: str = kernel) -> list[Any]:
                one = a[0] if len(a) == 1 else a
                out = run_float(net, one, head=head, dtype=d, max_steps=m, record="final", kernel=k)
                return out if isinstance(out, list) else [out]

            traces, seconds = best_of(rounds, float_runs)
            for w, t in zip(chosen, traces, strict=True):
                check(t, exact[w] if limit == max_steps else run_exact(net, w, head=head, max_steps=limit))
            rows.append(row(workload, f"{dtype} {kernel}", batch, traces, seconds, T))
    return rows


def warm_up(net: tr.Network) -> float:
    """Compile (or load from the cache) the generated kernels of ``net`` before timing; returns the seconds."""
    start = time.perf_counter()
    for dtype in ("float64", "float32"):
        run_float(net, "", max_steps=2, dtype=dtype, kernel="generated")
        run_float(net, ["", ""], max_steps=2, dtype=dtype, kernel="generated")  # one block: the serial kernel
        run_float(net, [""] * 64, max_steps=2, dtype=dtype, kernel="generated")  # two blocks: the parallel kernel
        run_float(net, ["", ""], max_steps=2, dtype=dtype, kernel="generic")
    return time.perf_counter() - start


def git_commit() -> str | None:
    """The checkout's commit (``None`` outside a git checkout)."""
    try:
        run = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True)
    except OSError:
        return None
    return run.stdout.strip() or None


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| workload | engine | batch | steps | seconds | steps/s | ticks/s | flagged (first step) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        flag = f"{r['flagged']} ({r['first_flag']})" if r["flagged"] else "0"
        lines.append(
            f"| {r['workload']} | {r['engine']} | {r['batch']:,} | {r['steps']:,} | {r['seconds']:.4f} | "
            f"{r['steps_per_s']:,.0f} | {r['ticks_per_s']:,.0f} | {flag} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--minsky-steps", type=int, default=200_000, help="steps of a single Minsky run")
    parser.add_argument("--minsky-budget", type=int, default=4_000_000, help="steps of a Minsky batch, all words")
    parser.add_argument("--dyck-lengths", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--exact-batches", type=int, default=16, help="largest batch also run by the exact engine")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    config = vars(args) | {"out": str(args.out), "batches": BATCHES}
    load_before = os.getloadavg()

    rogozhin = compile_machine(tr.load_machine("rogozhin_4_6"))
    minsky = compile_machine(tr.load_machine("minsky_7_4"))
    dyck = compile_machine(tr.load_machine("dyck1"))
    dyck_words = {n: [dyck_word(rng, n) for _ in range(64)] for n in args.dyck_lengths}
    warm = {name: warm_up(net) for name, net in (("rogozhin_4_6", rogozhin), ("minsky_7_4", minsky), ("dyck1", dyck))}
    results = []
    results += bench(
        "Rogozhin UTM(4,6) example", rogozhin, [ROGOZHIN_WORD], ROGOZHIN_HEAD, 1000, args.rounds, args.exact_batches
    )
    results += bench(
        "Minsky UTM(7,4), blank tape",
        minsky,
        [""],
        0,
        args.minsky_steps,
        args.rounds,
        args.exact_batches,
        args.minsky_budget,
        exact_rounds=1,
    )
    for n, words in dyck_words.items():
        results += bench(f"dyck1 n={n}", dyck, words, 0, 10 * n + 10, args.rounds, args.exact_batches)
    table = markdown(results)
    print(table)
    out = {
        "question": "float core throughput, single and batched, beside the exact engine",
        "config": config,
        "turingrnn_version": tr.__version__,
        "turingrnn_file": tr.__file__,  # which copy ran: the checkout (PYTHONPATH=.) or an installed one
        "git_commit": git_commit(),
        "load_average": {"before": load_before, "after": os.getloadavg()},  # 1, 5, 15 minutes; 2 cores
        "platform": {
            "python": platform.python_version(),
            "numba": numba.__version__,
            "machine": platform.machine(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "numba_threads": numba.get_num_threads(),
        },
        "warm_up_seconds": warm,
        "results": results,
        "table": table,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
