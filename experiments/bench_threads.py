"""What a user's ``turingrnn train`` costs with one BLAS or torch thread against two, measured side by side.

Usage:
    python experiments/bench_threads.py [--steps 100] [--repeats 3] [--json out.json]

Runs the command a user runs, ``turingrnn train parity --cell lstm --hidden 64 --batch 128
--steps N``, as a subprocess, interleaving the configurations in each repeat so that load on a
shared machine falls on all of them alike:

* numpy backend, ``OPENBLAS_NUM_THREADS`` unset (the package's default: one thread);
* numpy backend, ``OPENBLAS_NUM_THREADS=2``;
* torch backend, ``--threads 1`` (the default) and ``--threads 2`` (skipped without torch).

Reports the median wall-clock seconds of each, and the ratios to the default. The wall clock
includes start-up (importing the package, about 2 s), the same for all.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def configurations(with_torch: bool) -> dict[str, tuple[dict[str, str], list[str]]]:
    """Name -> (environment changes, extra CLI arguments); an empty value unsets the variable."""
    out = {
        "numpy, default (1 BLAS thread)": ({"OPENBLAS_NUM_THREADS": ""}, []),
        "numpy, OPENBLAS_NUM_THREADS=2": ({"OPENBLAS_NUM_THREADS": "2"}, []),
    }
    if with_torch:
        out["torch, --threads 1 (default)"] = ({}, ["--backend", "torch", "--threads", "1"])
        out["torch, --threads 2"] = ({}, ["--backend", "torch", "--threads", "2"])
    return out


def run_once(command: list[str], env_changes: dict[str, str]) -> float:
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value:
            env[key] = value
        else:
            env.pop(key, None)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    exe = shutil.which("turingrnn")
    if exe is None:
        raise SystemExit("the turingrnn command is not on PATH: pip install the package first")
    configs = configurations(importlib.util.find_spec("torch") is not None)
    times: dict[str, list[float]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory() as tmp:
        base = [exe, "train", "parity", "--cell", "lstm", "--hidden", "64", "--batch", "128",
                "--steps", str(args.steps), "--no-progress", "-o", str(Path(tmp) / "m.npz")]  # fmt: skip
        for _ in range(args.repeats):
            for name, (env, extra) in configs.items():
                times[name].append(run_once(base + extra, env))
    medians = {name: float(np.median(t)) for name, t in times.items()}
    default = medians["numpy, default (1 BLAS thread)"]
    print(f"turingrnn train parity --cell lstm --hidden 64 --batch 128 --steps {args.steps}; "
          f"median of {args.repeats}, interleaved; load average at the end {os.getloadavg()[0]:.1f}\n")  # fmt: skip
    print("| configuration | seconds | ratio to numpy default |\n|---|---:|---:|")
    for name, m in medians.items():
        print(f"| {name} | {m:.1f} | {m / default:.2f} |")
    if args.json:
        args.json.write_text(json.dumps({"steps": args.steps, "times": times, "medians": medians}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
