"""The precision cliff: how deep a stack can get in binary floating point before the network leaves the code.

Usage:
    python experiments/precision_cliff.py [--seed 0] [--out experiments/results/precision_cliff.json] [--quick]

For each construction (compact, ss95), input mode, machine and arithmetic, random inputs of
increasing length are run and compared step by step with the exact engine. A run is exact when
it is not flagged and its configurations equal run_exact's at every step. The cliff is the
largest length n such that every sampled input of every length up to n ran exactly. A run that
is wrong at some step before it is flagged (or never flagged) counts as wrong-but-unflagged.

Machines: reverse_string (two binary stacks: base 4), dyck2 (its input stack has 4 symbols:
base 8; the bracket stack base 4) and reverse_3 (reverse_string over 3 symbols: base 6). The
theoretical bound is significand_bits / log2(2k) symbols for a stack of k symbols.

Arithmetics: turingrnn.engines.mp.run_mp at several significand widths, with its rounding check (the
default) and without it (only the checks a float core can make from values: binary neurons,
state code, stack codes); and turingrnn.engines.fast.run_float in float32 and float64 when that module
is importable.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import turingrnn as tr
from turingrnn.compile.compiler import compile_machine
from turingrnn.engines.exact import run_exact
from turingrnn.engines.mp import run_mp
from turingrnn.machines.parsing import loads_toml

PRECISIONS = (24, 53, 64, 80, 106, 128, 160, 200)
QUICK_PRECISIONS = (24, 53, 64)
CONSTRUCTIONS = ("compact", "ss95")
INPUT_MODES = ("preloaded", "streamed")
MACHINES = ("reverse_string", "dyck2", "reverse_3")
FLOAT_BITS = {"float32": 24, "float64": 53}


def reverse_3() -> Any:
    """reverse_string over {0, 1, 2}: two stacks of base 6."""
    source = (Path(tr.__file__).parent.parent / "constructions/stack/reverse_string.toml").read_text()
    source = source.replace('stacks = { in = "01", out = "01" }', 'stacks = { in = "012", out = "012" }')
    rule = '  { state = "move", read = { in = "1" }, next = "move", ops = { in = "pop", out = "push 1" } },\n'
    source = source.replace(rule, rule + rule.replace('"1"', '"2"').replace("push 1", "push 2"))
    source = source.replace('name = "reverse_string"', 'name = "reverse_3"')
    return loads_toml(source)


def load(name: str) -> Any:
    return reverse_3() if name == "reverse_3" else tr.load_machine(name)


def random_word(name: str, n: int, rng: random.Random) -> str:
    """A random input of length n (dyck2: brackets that never close wrongly; balanced or with brackets left open)."""
    if name == "reverse_string":
        return "".join(rng.choice("01") for _ in range(n))
    if name == "reverse_3":
        return "".join(rng.choice("012") for _ in range(n))
    word: list[str] = []
    open_: list[str] = []
    while len(word) < n:
        if open_ and (rng.random() < 0.5 or len(open_) == n - len(word)):
            word.append(")" if open_.pop() == "(" else "]")
        else:
            open_.append(rng.choice("(["))
            word.append(open_[-1])
    return "".join(word)


def bases(machine: Any) -> list[int]:
    return sorted({2 * len(alphabet) for _, alphabet in machine.stacks})


def bound(bits: int, machine: Any, name: str) -> float:
    """Theoretical depth: bits / log2(2k) for the stack that gets deepest (dyck2: its 4-symbol input)."""
    base = max(bases(machine)) if name == "dyck2" else min(bases(machine))
    return bits / math.log2(base)


def classify(run: Any, exact: Any) -> str:
    """'exact', 'flagged' (right at every step before the flag) or 'wrong_unflagged'."""
    first = run.first_divergence(exact)
    if first is None and run.diverged_at is None:
        return "exact"
    if run.diverged_at is not None and first == run.diverged_at:
        return "flagged"
    return "wrong_unflagged"


Runner = Callable[[Any, list[str]], list[Any]]


def scan(name: str, net: Any, runner: Runner, expected: float, samples: int, seed: int) -> dict[str, Any]:
    """Lengths increasing from 1 (sparsely below the expected cliff): counts per length and the cliff."""
    rng = random.Random(f"{seed}/{name}/{net.construction}/{net.input_mode}/{expected}")
    per_length: dict[int, dict[str, int]] = {}
    first_diverged: dict[int, list[int]] = {}

    def run_length(n: int) -> bool:
        words = [random_word(name, n, rng) for _ in range(samples)]
        counts = {"exact": 0, "flagged": 0, "wrong_unflagged": 0}
        for word, run in zip(words, runner(net, words), strict=True):
            counts[classify(run, run_exact(net, word, max_steps=100_000))] += 1
            if run.diverged_at is not None:
                first_diverged.setdefault(n, []).append(run.diverged_at)
        per_length[n] = counts
        return counts["exact"] == samples

    step = max(1, int(expected) // 8)
    low = 1
    for n in range(1, max(1, int(expected) - 4), step):  # sparse below the expected cliff
        if not run_length(n):
            break
        low = n
    n, all_failed = low, 0
    while all_failed < 2 and n <= 2 * expected + 8:
        n += 1
        run_length(n)
        all_failed = all_failed + 1 if per_length[n]["exact"] == 0 else 0
    cliff = 0
    for length in sorted(per_length):
        if per_length[length]["exact"] < samples:
            break
        cliff = length
    return {
        "cliff": cliff,
        "first_all_wrong": next((k for k in sorted(per_length) if per_length[k]["exact"] == 0), None),
        "wrong_unflagged": sum(c["wrong_unflagged"] for c in per_length.values()),
        "per_length": {str(k): v for k, v in sorted(per_length.items())},
        "diverged_at": {str(k): v for k, v in sorted(first_diverged.items())},
    }


def mp_runner(bits: int, check_rounding: bool) -> Runner:
    return lambda net, words: [run_mp(net, w, prec=bits, check_rounding=check_rounding) for w in words]


def float_runner(dtype: str) -> Runner | None:
    try:
        from turingrnn.engines.fast import run_float
    except ImportError:
        return None

    def run(net: Any, words: list[str]) -> list[Any]:
        traces = run_float(net, words, dtype=dtype, max_steps=100_000, parallel=False)
        return traces if isinstance(traces, list) else [traces]

    return run


def arithmetics(precisions: tuple[int, ...]) -> list[tuple[str, int, Runner]]:
    out: list[tuple[str, int, Runner]] = []
    for dtype, bits in FLOAT_BITS.items():
        runner = float_runner(dtype)
        if runner is not None:
            out.append((f"run_float {dtype}", bits, runner))
    for bits in precisions:
        out.append(("run_mp", bits, mp_runner(bits, True)))
        out.append(("run_mp code checks only", bits, mp_runner(bits, False)))
    return out


def plot(results: list[dict[str, Any]], path: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install 'turingrnn[plot]'): no plot written"
    fig, ax = plt.subplots(figsize=(8, 5.5))
    lines: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for r in results:
        if r["arithmetic"] == "run_mp":
            lines.setdefault((r["machine"], r["construction"], r["input_mode"]), []).append((r["bits"], r["cliff"]))
    styles = {"compact": "-", "ss95": "--"}
    colors = {"reverse_string": "tab:blue", "dyck2": "tab:green", "reverse_3": "tab:red"}
    markers = {"preloaded": "o", "streamed": "x"}
    for (machine, construction, mode), points in sorted(lines.items()):
        xs, ys = zip(*sorted(points), strict=True)
        ax.plot(
            xs,
            ys,
            styles[construction],
            color=colors[machine],
            marker=markers[mode],
            alpha=0.8,
            label=f"{machine} {construction} {mode}",
        )
    bits = sorted({r["bits"] for r in results})
    for base, color in ((4, "tab:blue"), (8, "tab:green"), (6, "tab:red")):
        ax.plot(
            bits, [b / math.log2(base) for b in bits], ":", color=color, linewidth=2, label=f"bound bits/log2({base})"
        )
    for r in results:
        if r["arithmetic"].startswith("run_float"):
            ax.scatter([r["bits"]], [r["cliff"]], color="black", marker="*", zorder=5)
    ax.set_xlabel("significand bits")
    ax.set_ylabel("largest input length run exactly (stack depth)")
    ax.set_title("The precision cliff (run_mp with rounding check; stars: run_float)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return f"wrote {path}"


def source_state() -> dict[str, Any]:
    """The git commit and whether the tree (for example an unfinished turingrnn/engines/fast.py) had changes."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    status = git("status", "--porcelain", "--", "turingrnn")
    return {"commit": git("rev-parse", "HEAD"), "uncommitted_package_files": status.splitlines()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("experiments/results/precision_cliff.json"))
    parser.add_argument("--quick", action="store_true", help="fewer precisions and samples")
    args = parser.parse_args(argv)
    precisions = QUICK_PRECISIONS if args.quick else PRECISIONS
    samples = 3 if args.quick else 8
    results = []
    started = time.time()
    for name in MACHINES:
        machine = load(name)
        for construction in CONSTRUCTIONS:
            for mode in INPUT_MODES:
                net = compile_machine(machine, construction=construction, input_mode=mode)
                for arithmetic, bits, runner in arithmetics(precisions):
                    expected = bound(bits, machine, name)
                    found = scan(name, net, runner, expected, samples, args.seed)
                    results.append(
                        {
                            "machine": name,
                            "bases": bases(machine),
                            "construction": construction,
                            "input_mode": mode,
                            "arithmetic": arithmetic,
                            "bits": bits,
                            "bound": round(expected, 2),
                        }
                        | found
                    )
                    print(
                        f"{name:15} {construction:8} {mode:9} {arithmetic:25} {bits:4} bits: cliff {found['cliff']:3} "
                        f"(bound {expected:5.1f}), wrong unflagged {found['wrong_unflagged']}",
                        flush=True,
                    )
    out = {
        "config": {
            "seed": args.seed,
            "quick": args.quick,
            "precisions": list(precisions),
            "samples": samples,
            "machines": list(MACHINES),
            "constructions": list(CONSTRUCTIONS),
            "input_modes": list(INPUT_MODES),
        },
        "turingrnn_version": tr.__version__,
        "source": source_state(),
        "run_float": "turingrnn.engines.fast.run_float" if float_runner("float64") else "not importable: not measured",
        "platform": {"python": sys.version.split()[0], "machine": platform.platform()},
        "seconds": round(time.time() - started, 1),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")
    print(plot(results, args.out.with_suffix(".png")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
