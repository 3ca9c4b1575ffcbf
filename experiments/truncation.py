"""Truncated BPTT: the score against k1 and k2, beside full BPTT, on a local task and on one with a long memory.

Usage:
    python experiments/truncation.py [--seed 0] [--seeds 3] [--steps 1500] [--cell elman_relu]
        [--tasks parity,even_pairs]
        [--k1 1,2,5,10,20] [--out experiments/results/truncation.json] [--figure docs/figures/truncation.png]
        [--quick] [--replot]

Truncated BPTT(k1, k2) (Williams and Peng's BPTT(h; h'), h = k2, h' = k1; ``turingrnn.learning.training``)
runs k1 steps between updates and backpropagates each update through the last k2 steps. The grid
is k1 in ``--k1`` and, for each, k2 in {k1, 2 k1, 40} (k2 = 40 covers a whole training sequence of
up to 40 symbols but the answer slot), and full BPTT. Every cell of the grid trains the same cell
type from the same seeds on the same batches (``turingrnn.learning.protocol.train_on_task``, hidden 64,
batch 32, Adam), for the same number of batches, and is scored with
``turingrnn.learning.protocol.evaluate_on_task``: the test score on ``TEST_EVAL_LENGTHS`` (41-500) and the
train score on ``TRAIN_EVAL_LENGTHS`` (1-40), ``--n-eval`` examples per length.

The two default tasks differ in how far back the credit must go. Parity is a running XOR: given
the state before the last symbol, one step decides the answer. Even pairs is "does the first bit
differ from the last one": the first bit must be written at step 0 and held to the end.

On a task with one answer at the end (parity, even_pairs) only the window holding the answer
slot has a loss, so every run makes exactly one update per batch: what the grid changes is only how
far back that update's gradient reaches, the **depth** ``T - back`` of the last window, which for a
sequence of T steps lies between k2 - k1 + 1 and k2 (it depends on T mod k1). The table gives the
mean and the range of that depth over the training lengths, and the training wall time, which grows
as k1 shrinks below k2 (each of the T / k1 windows runs k2 steps forward and back).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from _results import finish  # noqa: E402
from _training_runs import add_run_arguments, provenance, pyplot, replot, save, train_and_score  # noqa: E402

from turingrnn.learning.protocol import encode, model_for_task  # noqa: E402
from turingrnn.learning.tasks import TRAIN_LENGTHS, get_task  # noqa: E402
from turingrnn.learning.training import window_bounds  # noqa: E402

K1 = (1, 2, 5, 10, 20)
LONG_K2 = 40


def grid(k1s: list[int]) -> list[tuple[int | None, int | None]]:
    """``(k1, k2)`` for k2 in {k1, 2 k1, 40} (those >= k1, once each), then ``(None, None)``: full BPTT."""
    cells: list[tuple[int | None, int | None]] = []
    for k1 in k1s:
        for k2 in sorted({k1, 2 * k1, max(LONG_K2, k1)}):
            cells.append((k1, k2))
    return cells + [(None, None)]


def label(k1: int | None, k2: int | None) -> str:
    return "full BPTT" if k1 is None else f"k1={k1}, k2={k2}"


def depths(task: Any, model: Any, k1: int | None, k2: int | None) -> list[int]:
    """For each training length, how many steps back the answer's update reaches (``T - back`` of its window)."""
    out = []
    for n in TRAIN_LENGTHS:
        x, _, mask = encode(task, task.sample(n, 1, np.random.default_rng(n)))
        steps = x.shape[1]
        last = int(np.flatnonzero(mask[0])[-1])
        for back, start, stop, _ in window_bounds(model, steps, k1, k2):
            if start <= last < stop:
                out.append(last + 1 - back)
    return out


def run_one(task: Any, k1: int | None, k2: int | None, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Train one model by BPTT(k1, k2) and score it."""
    model = model_for_task(task, args.cell, args.hidden, seed=seed)
    return {"task": task.name, "k1": k1, "k2": k2, "seed": seed} | train_and_score(
        task, model, seed, args, k1=k1, k2=k2
    )


def summarize(runs: list[dict[str, Any]], task: Any, model: Any, cells: list[tuple[int | None, int | None]]) -> list:
    rows = []
    for k1, k2 in cells:
        mine = [r for r in runs if r["task"] == task.name and r["k1"] == k1 and r["k2"] == k2]
        d = depths(task, model, k1, k2)
        rows.append(
            {
                "task": task.name,
                "k1": k1,
                "k2": k2,
                "label": label(k1, k2),
                "score": float(np.mean([r["score"] for r in mine])),
                "train_score": float(np.mean([r["train_score"] for r in mine])),
                "seed_scores": [r["score"] for r in mine],
                "seed_train_scores": [r["train_score"] for r in mine],
                "train_seconds": float(np.mean([r["train_seconds"] for r in mine])),
                "depth_mean": float(np.mean(d)),
                "depth_min": int(min(d)),
                "depth_max": int(max(d)),
                "diverged": sum(r["status"] != "ok" for r in mine),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| task | k1 | k2 | depth at the answer (mean, range) | test score | train score | seeds (test / train) | "
        "train wall time (s) |",
        "|---|---:|---:|---|---:|---:|---|---:|",
    ]
    for r in rows:
        seeds = ", ".join(
            f"{100 * a:.0f}/{100 * b:.0f}" for a, b in zip(r["seed_scores"], r["seed_train_scores"], strict=True)
        )
        k1, k2 = ("full", "full") if r["k1"] is None else (r["k1"], r["k2"])
        lines.append(
            f"| {r['task']} | {k1} | {k2} | {r['depth_mean']:.1f} ({r['depth_min']}-{r['depth_max']}) | "
            f"{100 * r['score']:.1f} | {100 * r['train_score']:.1f} | {seeds} | {r['train_seconds']:.1f} |"
        )
    return "\n".join(lines)


def k2_axis(ax: Any, rows: list[dict[str, Any]]) -> None:
    """A log axis of k2 with the grid's values as plain-number ticks."""
    import matplotlib.ticker

    ax.set_xscale("log")
    ax.set_xticks(sorted({r["k2"] for r in rows if r["k2"] is not None}))
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel("k2 (steps backpropagated per update)")
    ax.grid(alpha=0.3, which="both")


def plot(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    plt = pyplot()
    if plt is None:
        return "matplotlib is not installed: no figure written"
    import matplotlib.ticker

    names = list(dict.fromkeys(r["task"] for r in rows))
    fig, grid_axes = plt.subplots(len(names), 3, figsize=(15, 4.3 * len(names) + 0.6), squeeze=False)
    k1s = sorted({r["k1"] for r in rows if r["k1"] is not None})
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(k1s)))
    panels = (("score", "test score, lengths 41-500 (%)"), ("train_score", "train score, lengths 1-40 (%)"))
    for name, axes in zip(names, grid_axes, strict=True):
        mine_task = [r for r in rows if r["task"] == name]
        full = next(r for r in mine_task if r["k1"] is None)
        for ax, (key, title) in zip(axes[:2], panels, strict=True):
            for k1, color in zip(k1s, colors, strict=True):
                mine = [r for r in mine_task if r["k1"] == k1]
                ax.plot([r["k2"] for r in mine], [100 * r[key] for r in mine], "o-", color=color, label=f"k1 = {k1}")
                for r in mine:
                    ax.scatter([r["k2"]] * len(r[f"seed_{key}s"]), [100 * v for v in r[f"seed_{key}s"]],
                               color=color, s=10, alpha=0.4)  # fmt: skip
            ax.axhline(100 * full[key], color="black", ls="--", label="full BPTT")
            ax.axhline(50, color="grey", ls=":", lw=1, label="chance (50%)")
            k2_axis(ax, rows)
            ax.set_ylabel(title)
            ax.set_ylim(40, 102)
            ax.set_title(f"{name}: {title.split(',')[0]}")
        for k1, color in zip(k1s, colors, strict=True):
            mine = [r for r in mine_task if r["k1"] == k1]
            axes[2].plot([r["k2"] for r in mine], [r["train_seconds"] for r in mine], "o-", color=color)
        axes[2].axhline(full["train_seconds"], color="black", ls="--")
        k2_axis(axes[2], rows)
        axes[2].set_yscale("log")
        axes[2].yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        axes[2].yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        axes[2].yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axes[2].set_ylabel(f"training wall time for {args.steps} batches (s)")
        axes[2].set_title(f"{name}: cost")
    handles, labels = grid_axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9)
    fig.suptitle(
        f"Truncated BPTT(k1, k2): {args.cell}, hidden {args.hidden}, {args.steps} batches of "
        f"{args.batch}, mean of {args.seeds} seeds (small dots: seeds)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.5 / (4.3 * len(names) + 0.6), 1, 1))
    return save(fig, args.figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, name="truncation", steps=1500, seeds=3)
    parser.add_argument("--cell", default="elman_relu")
    parser.add_argument("--tasks", default="parity,even_pairs", help="comma-separated task names")
    parser.add_argument("--k1", default=",".join(map(str, K1)), help="comma-separated k1 values")
    parser.add_argument("--quick", action="store_true", help="1 seed, 50 batches, k1 in {1, 5} (a smoke test)")
    args = parser.parse_args(argv)
    if args.replot:
        return replot(args, lambda out, saved: plot(out["rows"], saved))
    if args.quick:
        args.seeds, args.steps, args.n_eval, args.k1 = 1, 50, 8, "1,5"
    tasks = [get_task(name) for name in args.tasks.split(",")]
    cells = grid([int(k) for k in args.k1.split(",")])
    started = time.monotonic()
    runs = []
    for task in tasks:
        for k1, k2 in cells:
            for k in range(args.seeds):
                run = run_one(task, k1, k2, args.seed + k, args)
                runs.append(run)
                print(
                    f"{task.name:10} {label(k1, k2):16} seed {run['seed']}: {run['status']}, "
                    f"{run['train_seconds']:.1f} s, train score {100 * run['train_score']:.0f}, "
                    f"test score {100 * run['score']:.0f}",
                    file=sys.stderr,
                    flush=True,
                )
    rows = [row for t in tasks for row in summarize(runs, t, model_for_task(t, args.cell, args.hidden), cells)]
    out = {
        **provenance(args, started),
        "table": table(rows),
        "rows": rows,
        "runs": runs,
    }
    finish(out, args.out)
    print(plot(rows, args))
    print(f"{out['seconds']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
