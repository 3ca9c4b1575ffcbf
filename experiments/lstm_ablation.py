"""Question: why did the LSTM stay at chance on parity in the earlier standard tier, and what changed that?

The earlier standard tier trained every cell for 3,000 batches of 32 with a linear
readout ``Linear(h)``, no forget-gate bias and float64. Delétang et al.'s code trains
batches of 128, reads out ``Linear(ReLU(h))`` and uses Haiku's LSTM, which adds 1 to the
forget gate. This script trains the LSTM on parity (hidden 64, learning rate 1e-3, the
same 3 seeds) with the earlier protocol, with each of the changes alone, with all of
them, and with the earlier protocol for four times the batches (as many examples as 3,000
batches of 128), then scores every run on the protocol's test lengths and records its
learning curve.

Usage::

    python experiments/lstm_ablation.py [--task parity] [--cell lstm] [--seeds 3] [--workers 2]
        [--out experiments/results/lstm_ablation] [--figure docs/figures/lstm_ablation.png]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from turingrnn.learning.comparison import Tier, backend_for  # noqa: E402
from turingrnn.learning.comparison_figures import curve_legend, draw_curve, pyplot, save_figure  # noqa: E402
from turingrnn.learning.comparison_jobs import make_jobs, run_all  # noqa: E402
from turingrnn.learning.comparison_report import load_results, write_into_docs  # noqa: E402
from turingrnn.learning.protocol import TEST_EVAL_LENGTHS, TRAIN_EVAL_LENGTHS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

EARLIER = Tier(
    hidden=64, seeds=3, learning_rates=(1e-3,), steps=3000, batch=32,
    lengths=TRAIN_EVAL_LENGTHS + TEST_EVAL_LENGTHS, n_test=128, tasks=("parity",), models=("lstm",),
    readout="linear", forget_bias=0.0, dtype="float64", backend="torch", curve_every=250,
)  # fmt: skip
CONFIGS = {
    "earlier (3000 x 32, Linear(h), forget bias 0, float64)": EARLIER,
    "+ ReLU readout": replace(EARLIER, readout="relu"),
    "+ forget bias 1": replace(EARLIER, forget_bias=1.0),
    "+ float32": replace(EARLIER, dtype="float32"),
    "+ batch 128": replace(EARLIER, batch=128),
    "earlier, 12000 x 32": replace(EARLIER, steps=12000, curve_every=1000),
    "all four (3000 x 128, ReLU readout, forget bias 1, float32)": replace(
        EARLIER, batch=128, readout="relu", forget_bias=1.0, dtype="float32"),
}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="parity")
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "experiments/results/lstm_ablation")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs/figures/lstm_ablation.png")
    args = parser.parse_args()
    rows = []
    for k, (name, tier) in enumerate(CONFIGS.items()):
        tier = replace(tier, seeds=args.seeds, tasks=(args.task,), models=(args.cell,),
                       backend=backend_for(tier))  # fmt: skip
        out = args.out / args.task / f"config{k}"
        jobs = [j for j in make_jobs([args.task], [args.cell], tier, 0) if j["model"] != "compiled"]
        run_all(jobs, tier, 0, out, args.workers, progress=False)
        results = load_results(out)
        evals = [r["eval"] for r in results if r["status"] == "ok"]
        rows.append({
            "config": name, "tier": {"batch": tier.batch, "steps": tier.steps, "readout": tier.readout,
                                     "forget_bias": tier.forget_bias, "dtype": tier.dtype},
            "scores": [e["score"] for e in evals], "train_scores": [e["train_score"] for e in evals],
            "horizons": [e["horizon"] for e in evals], "diverged": sum(r["status"] != "ok" for r in results),
            "seconds": [r["train"]["seconds"] for r in results],
            "curves": [r["train"]["curve"] for r in results],
        })  # fmt: skip
    lines = [
        f"{args.cell} on {args.task}, hidden 64, learning rate 1e-3, {args.seeds} seeds; score and train score in %, "
        "each seed",
        "",
        "| configuration | test score per seed | train score per seed | horizon per seed | training s (mean) |",
        "|---|---|---|---|---:|",
    ]
    for r in rows:
        fmt = lambda v: ", ".join(f"{100 * x:.0f}" for x in v)  # noqa: E731
        lines.append(f"| {r['config']} | {fmt(r['scores'])} | {fmt(r['train_scores'])} | "
                     f"{', '.join(str(h) for h in r['horizons'])} | {np.mean(r['seconds']):.0f} |")  # fmt: skip
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.task}_{args.cell}.json").write_text(json.dumps({"rows": rows, "table": table}, indent=1))
    write_into_docs(ROOT / "docs/results.md", "lstm_ablation", table + "\n")
    plot(rows, args.figure, f"{args.cell} on {args.task}: per-token accuracy at length 500 while training")
    return 0


def plot(rows: list[dict], path: Path, title: str) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, len(rows), figsize=(2.9 * len(rows), 2.8), sharey=True, squeeze=False)
    for ax, r in zip(axes[0], rows, strict=True):
        for curve in r["curves"]:
            draw_curve(ax, curve, [p["step"] * r["tier"]["batch"] / 1000 for p in curve], lengths=("500",))
        ax.set_title(r["config"], fontsize=7)
        ax.set_xlabel("examples seen (thousands)", fontsize=7)
    axes[0][0].set_ylabel("accuracy")
    save_figure(plt, fig, path, title, curve_legend(plt, ("500",)), ncol=2, bottom=0.08)


if __name__ == "__main__":
    sys.exit(main())
