"""Question: how long does one training step take in the numpy cells (float64, float32) and in the torch backend?

One step is a forward pass, BPTT over every step, gradient clipping and an
Adam update: ``turingrnn.learning.training.train`` on one batch. Timed side by side in
one process with every thread pinned to one (``OPENBLAS_NUM_THREADS=1``,
``torch.set_num_threads(1)``), rounds interleaved, the fastest round of each
reported (the machine is shared). The default shape is the one of issue 11:
an LSTM with hidden 128, batch 64, length 80 (the loss at every step).

Usage::

    python experiments/bench_training.py [--cells lstm,gru,elman_tanh] [--hidden 128] [--batch 64]
        [--length 80] [--rounds 7] [--steps 5] [--out experiments/results/bench_training.json]
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _results import finish  # noqa: E402

import turingrnn as tr  # noqa: E402
from turingrnn.learning.checkpoint import git_commit  # noqa: E402
from turingrnn.learning.models import make_model  # noqa: E402
from turingrnn.learning.training import train  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def batch(rng: np.random.Generator, b: int, t: int, i: int, o: int, dtype: str):  # type: ignore[no-untyped-def]
    x = np.eye(i, dtype=dtype)[rng.integers(0, i, (b, t))]
    return x, rng.integers(0, o, (b, t)), np.ones((b, t), bool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", default="lstm,gru,elman_tanh")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=80)
    parser.add_argument("--inputs", type=int, default=6)
    parser.add_argument("--outputs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5, help="training steps per round")
    parser.add_argument("--out", type=Path, default=ROOT / "experiments/results/bench_training.json")
    args = parser.parse_args()
    backends = [("numpy", "float64"), ("numpy", "float32")]
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(1)
        backends += [("torch", "float32"), ("torch", "float64")]
    rng = np.random.default_rng(0)
    rows = []
    load = os.getloadavg()
    for cell in args.cells.split(","):
        models = {key: make_model(cell, args.inputs, args.hidden, args.outputs, dtype=key[1]) for key in backends}
        data = {key: [batch(rng, args.batch, args.length, args.inputs, args.outputs, key[1])] * args.steps
                for key in backends}  # fmt: skip
        for key in backends:  # warm up (first calls allocate, torch imports its optimizer)
            train(models[key], data[key][:1], backend=key[0])
        best = {key: float("inf") for key in backends}
        for _ in range(args.rounds):
            for key in backends:
                started = time.perf_counter()
                train(models[key], data[key], backend=key[0])
                best[key] = min(best[key], (time.perf_counter() - started) / args.steps)
        torch32 = best.get(("torch", "float32"))
        for key in backends:
            rows.append({
                "cell": cell, "backend": key[0], "dtype": key[1], "ms_per_step": 1e3 * best[key],
                "vs_torch_float32": best[key] / torch32 if torch32 else None,
            })  # fmt: skip
    lines = [
        f"{args.hidden} hidden, batch {args.batch}, length {args.length}, one thread, fastest of {args.rounds} rounds "
        f"of {args.steps} steps (load average before: {load[0]:.2f})",
        "",
        "| cell | backend | dtype | ms per step | ratio to torch float32 |",
        "|---|---|---|---:|---:|",
    ]
    for r in rows:
        ratio = "—" if r["vs_torch_float32"] is None else f"{r['vs_torch_float32']:.2f}"
        lines.append(f"| `{r['cell']}` | {r['backend']} | {r['dtype']} | {r['ms_per_step']:.1f} | {ratio} |")
    finish(
        {
            "config": vars(args) | {"out": str(args.out)},
            "rows": rows,
            "load_average_before": load,
            "versions": {
                "turingrnn": tr.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
                **git_commit(ROOT),
            },  # fmt: skip
            "table": "\n".join(lines),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
