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

With ``--cli`` (or ``--cli-only``, which skips the rest) it also measures what a user of the
command line gets, side by side with the API in the same run:

* single stream: ``turingrnn run 0RB---_0LA--- --engine float64 --max-steps N --kernel K --json``
  in a fresh interpreter (wall clock, end to end: imports, compile, Numba's cache load), against
  ``run_float(net, "", max_steps=N, record="final", kernel=K)`` in a warm process, for each
  ``--cli-steps`` N and both kernels; the same command with ``--max-steps 0`` gives the fixed
  start-up cost;
* batches of distinct task words: 4,096 distinct words of length 12-20 of Dyck-1, parity and
  binary addition (the task generators' words), through ``run_float(net, words)`` and through
  ``turingrnn run MACHINE --inputs FILE --engine float64 --json``, beside 4,096 copies of one word.

Usage (``PYTHONPATH=.`` runs the checkout's package rather than an installed copy)::

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python experiments/bench_float.py [--out PATH] [--seed N] [--cli]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
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


PING_PONG = "0RB---_0LA---"
"""Two states that swap forever on a blank tape: the float core's steady single-stream case."""


def cli_seconds(argv: list[str], rounds: int) -> tuple[dict[str, Any], float]:
    """The last JSON line of ``turingrnn ARGV`` in a fresh interpreter, and its fastest wall clock."""

    def call() -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-m", "turingrnn", *argv], capture_output=True, text=True)
        if done.returncode not in (0, 3, 4):  # 3: the step limit (a ping-pong run), 4: flagged words in a batch
            raise RuntimeError(f"turingrnn {' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    return best_of(rounds, call)


def cli_single_stream(steps_list: list[int], rounds: int) -> list[dict[str, Any]]:
    """``turingrnn run`` in float64 beside ``run_float`` on the ping-pong machine, per step count and kernel."""
    net = compile_machine(tr.parse_bbchallenge(PING_PONG))
    rows = []
    for kernel in KERNELS:
        base = ["run", PING_PONG, "--engine", "float64", "--kernel", kernel, "--json"]
        cli_seconds([*base, "--max-steps", str(max(steps_list))], 1)  # compile or load the kernel once
        _, startup = cli_seconds([*base, "--max-steps", "0"], rounds)
        for steps in steps_list:
            api, api_s = best_of(
                rounds, lambda m=steps, k=kernel: run_float(net, "", max_steps=m, record="final", kernel=k)
            )
            cli, cli_s = cli_seconds([*base, "--max-steps", str(steps)], rounds)
            assert cli["steps"] == api.steps == steps and cli["diverged_at"] is None
            rows.append(
                {
                    "workload": f"ping-pong {steps:,} steps",
                    "kernel": kernel,
                    "steps": steps,
                    "api_seconds": api_s,
                    "cli_seconds": cli_s,
                    "cli_startup_seconds": startup,
                    "api_steps_per_s": steps / api_s,
                    "cli_steps_per_s": steps / cli_s,
                    "cli_over_api": cli_s / api_s,
                }
            )
    return rows


def task_words(name: str, count: int, seed: int) -> tuple[tr.Network, list[str]]:
    """The compiled network of a task (``dyck1``: the bundled machine) and ``count`` distinct words of length 12-20."""
    import numpy as np

    from turingrnn.learning.compiled_tasks import compile_task
    from turingrnn.learning.tasks import get_task

    if name == "dyck1":
        rng, words = random.Random(seed), set()
        while len(words) < count:
            words.add(dyck_word(rng, 2 * rng.randint(6, 10)))
        return compile_machine(tr.load_machine("dyck1")), sorted(words)
    task, generator = get_task(name), np.random.default_rng(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        length = int(generator.integers(12, 21))
        for example in task.sample(length, 256, generator):
            found.setdefault(task.machine_word(example), None)
    return compile_task(task), list(found)[:count]


def distinct_words(rounds: int, seed: int, count: int = 4096) -> list[dict[str, Any]]:
    """Distinct task words and one word repeated, float64: the API (``run_batch`` with each kernel, ``run_float``
    with a trace per word) and ``turingrnn run --inputs`` (kernel ``auto`` and ``generated``)."""
    from turingrnn.engines.fast_batch import run_batch

    rows = []
    machines = {"dyck1": "dyck1", "parity": "parity", "binary_addition": "binary_addition"}
    for name, machine in machines.items():
        net, words = task_words(name, count, seed)
        for case, batch in (("distinct", words), ("one word repeated", [words[0]] * count)):
            for kernel in KERNELS:  # the kernels, loaded (the generated one compiled, if it is new)
                run_batch(net, batch[:64], max_steps=100_000, kernel=kernel)
            api: dict[str, float] = {}
            for kernel in KERNELS:
                result, api[kernel] = best_of(
                    rounds, lambda b=batch, n=net, k=kernel: run_batch(n, b, max_steps=100_000, kernel=k)
                )
            traces, api["traces"] = best_of(
                rounds, lambda b=batch, n=net: run_float(n, b, max_steps=100_000, record="final")
            )
            steps = int(result.steps.sum())
            flagged = int(result.flagged.sum())
            assert steps == sum(t.steps for t in traces) and flagged == sum(t.diverged_at is not None for t in traces)
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
                f.write("".join(json.dumps(w) + "\n" for w in batch))
            cli: dict[str, Any] = {}
            for kernel in ("auto", "generated"):
                argv = ["run", machine, "--inputs", f.name, "--engine", "float64", "--max-steps", "100000", "--json"]
                summary, seconds = cli_seconds([*argv, "--kernel", kernel], rounds)
                assert summary["words"] == count and summary["flagged"] == flagged, (summary, flagged)
                assert flagged or summary["machine_steps"] == steps  # a flagged word counts its last exact step
                cli[kernel] = {"seconds": seconds, "batch_seconds": summary["seconds"]}
            os.unlink(f.name)
            rows.append(
                {
                    "workload": f"{name}, {case}",
                    "neurons": net.size,
                    "words": count,
                    "steps": steps,
                    "flagged": flagged,
                    "api_seconds": api,
                    "api_steps_per_s": {k: steps / v for k, v in api.items()},
                    "cli": cli,
                    "cli_steps_per_s": {k: steps / v["seconds"] for k, v in cli.items()},
                    "cli_batch_steps_per_s": {k: steps / v["batch_seconds"] for k, v in cli.items()},
                }
            )
    return rows


def cli_markdown(single: list[dict[str, Any]], batches: list[dict[str, Any]]) -> str:
    lines = [
        "| workload | kernel | API s | CLI s | CLI start-up s | API steps/s | CLI steps/s | CLI / API |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['workload']} | {r['kernel']} | {r['api_seconds']:.3f} | {r['cli_seconds']:.3f} | "
        f"{r['cli_startup_seconds']:.3f} | {r['api_steps_per_s']:,.0f} | {r['cli_steps_per_s']:,.0f} | "
        f"{r['cli_over_api']:.2f} |"
        for r in single
    ]
    lines += ["", batch_markdown(batches)]
    return "\n".join(lines)


def batch_markdown(batches: list[dict[str, Any]]) -> str:
    lines = [
        "| batch (float64) | neurons | words | steps | flagged | run_batch generic | run_batch generated | "
        "run_float (traces) | CLI auto: run / process | CLI generated: run / process |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in batches:
        api, cli, run = r["api_steps_per_s"], r["cli_steps_per_s"], r["cli_batch_steps_per_s"]
        lines.append(
            f"| {r['workload']} | {r['neurons']} | {r['words']:,} | {r['steps']:,} | {r['flagged']:,} | "
            f"{api['generic'] / 1e6:.2f}M | {api['generated'] / 1e6:.2f}M | {api['traces'] / 1e6:.2f}M | "
            f"{run['auto'] / 1e6:.2f}M / {cli['auto'] / 1e6:.3f}M | "
            f"{run['generated'] / 1e6:.2f}M / {cli['generated'] / 1e6:.3f}M |"
        )
    return "\n".join(lines)


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
    parser.add_argument("--cli", action="store_true", help="also measure the command line beside the API")
    parser.add_argument("--cli-only", action="store_true", help="measure only the command line beside the API")
    parser.add_argument("--cli-steps", type=int, nargs="+", default=[10_000_000, 50_000_000])
    parser.add_argument("--batches-only", action="store_true", help="measure only the distinct-word batches")
    args = parser.parse_args(argv)
    if args.batches_only:
        return _batches_main(args)
    if args.cli_only:
        return _cli_main(args)
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
    cli = _cli_main(args, write=False) if args.cli else None
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
        "cli": cli,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    return out


def _cli_main(args: argparse.Namespace, write: bool = True) -> dict[str, Any]:
    load_before = os.getloadavg()
    single = cli_single_stream(args.cli_steps, args.rounds)
    batches = distinct_words(args.rounds, args.seed)
    table = cli_markdown(single, batches)
    print(table)
    out = {
        "question": "the float core through the command line beside the API, single stream and distinct-word batches",
        "config": {"rounds": args.rounds, "seed": args.seed, "cli_steps": args.cli_steps},
        "git_commit": git_commit(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "single_stream": single,
        "batches": batches,
        "table": table,
    }
    if write:
        path = args.out.with_name(args.out.stem + "_cli.json") if args.out == DEFAULT_OUT else args.out
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2) + "\n")
    return out


def _batches_main(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    batches = distinct_words(args.rounds, args.seed)
    table = batch_markdown(batches)
    print(table)
    out = {
        "question": "distinct task words on the float core, float64: machine steps per second, API and CLI",
        "config": {"rounds": args.rounds, "seed": args.seed, "words": 4096, "lengths": "12-20"},
        "git_commit": git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "numba_threads": numba.get_num_threads(),
            "python": platform.python_version(),
        },
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "batches": batches,
        "table": table,
    }
    path = args.out.with_name(args.out.stem + "_batches.json") if args.out == DEFAULT_OUT else args.out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
