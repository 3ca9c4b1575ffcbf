"""Vanishing and exploding gradients, measured: the gradient reaching the state k steps back, at init and trained.

Usage:
    python experiments/gradient_lag.py [--seed 0] [--seeds 3] [--steps 3000] [--learning-rate 0.003]
        [--cells elman_tanh,elman_relu,lstm,gru] [--task parity] [--length 100]
        [--out experiments/results/gradient_lag.json] [--figure docs/figures/gradient_lag.png] [--quick] [--replot]

For each cell and seed, a fresh model (hidden 64, the protocol's sizes for the task) is measured,
trained on the task's lengths 1-40 with ``turingrnn.learning.protocol.train_on_task`` (batch 32, Adam), and
measured again. The measurement is ``turingrnn.learning.diagnostics.gradient_by_lag``: on one fixed batch
of ``--probe`` sequences of ``--length`` symbols (the same batch for every model), the loss at the
answer slot (the step after the input), and for each lag k the mean over the sequences of
``||dL/dS_{s-k}||``, the gradient reaching the recurrent state k steps before the scored step
(``(h, c)`` for the LSTM). The input gradient ``||dL/dx_{s-k}||`` is stored in the JSON too.

Across seeds the profiles are combined by the geometric mean (the mean of the log norms), so the
rate fitted to the combined profile is the geometric mean of the seeds' rates. The table gives that
rate per step (``turingrnn.learning.diagnostics.fit_decay_rate`` over lags 1..length) and the norm at lags
1, 10, 50 and 100, beside each trained model's train score (lengths 1-40), test score (41-500)
and accuracy on the probe batch itself.
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

from turingrnn.learning.diagnostics import fit_decay_rate, gradient_by_lag  # noqa: E402
from turingrnn.learning.protocol import encode, model_for_task  # noqa: E402
from turingrnn.learning.tasks import get_task  # noqa: E402
from turingrnn.learning.training import evaluate  # noqa: E402

CELLS = ("elman_tanh", "elman_relu", "lstm", "gru")
TABLE_LAGS = (0, 1, 10, 50, 100)
PHASES = ("init", "trained")
COLORS = {"elman_tanh": "tab:blue", "elman_relu": "tab:orange", "lstm": "tab:green", "gru": "tab:red"}


def probe_batch(task: Any, length: int, n: int, seed: int) -> tuple[np.ndarray, ...]:
    """The batch every model is measured on: ``n`` sequences of ``length`` symbols, answer slot last."""
    return encode(task, task.sample(length, n, np.random.default_rng([seed, length, 7])))


def measure(model: Any, batch: tuple[np.ndarray, ...]) -> dict[str, Any]:
    """Both lag profiles, and the model's accuracy on the probe batch."""
    return {
        "state": gradient_by_lag(model, *batch).tolist(),
        "input": gradient_by_lag(model, *batch, wrt="input").tolist(),
        "probe_accuracy": evaluate(model, *batch).accuracy,
    }


def run_one(task: Any, cell: str, seed: int, args: argparse.Namespace, batch: tuple[np.ndarray, ...]) -> dict[str, Any]:
    """Measure, train, score and measure again one (cell, seed)."""
    model = model_for_task(task, cell, args.hidden, seed=seed)
    run: dict[str, Any] = {"cell": cell, "seed": seed, "init": measure(model, batch)}
    run |= train_and_score(task, model, seed, args)
    run["trained"] = measure(model, batch)
    return run


def geometric_mean(profiles: list[list[float]]) -> np.ndarray:
    """The mean of the log norms over seeds (a zero norm counts as 1e-300)."""
    return np.exp(np.mean(np.log(np.maximum(np.array(profiles), 1e-300)), axis=0))


def summarize_cell(runs: list[dict[str, Any]], length: int) -> dict[str, Any]:
    """Per phase: the combined state profile, its fitted rate and the norms at the table's lags."""
    out: dict[str, Any] = {}
    for phase in PHASES:
        profile = geometric_mean([r[phase]["state"] for r in runs])
        out[phase] = {
            "profile": profile.tolist(),
            "rate": fit_decay_rate(profile, 1, length),
            "seed_rates": [fit_decay_rate(np.array(r[phase]["state"]), 1, length) for r in runs],
            "norm_at": {str(k): float(profile[k]) for k in TABLE_LAGS if k < len(profile)},
            "probe_accuracy": float(np.mean([r[phase]["probe_accuracy"] for r in runs])),
        }
    out["train_score"] = float(np.mean([r["train_score"] for r in runs]))
    out["score"] = float(np.mean([r["score"] for r in runs]))
    out["seed_train_scores"] = [r["train_score"] for r in runs]
    out["seed_scores"] = [r["score"] for r in runs]
    return out


def table(summary: dict[str, dict[str, Any]]) -> str:
    lags = " | ".join(f"lag {k}" for k in TABLE_LAGS)
    lines = [
        f"| cell | phase | rate per step | {lags} | train score | test score | probe accuracy |",
        "|---|---|---:|" + "---:|" * len(TABLE_LAGS) + "---:|---:|---:|",
    ]
    for cell, s in summary.items():
        for phase in PHASES:
            p = s[phase]
            norms = " | ".join(f"{p['norm_at'].get(str(k), float('nan')):.2e}" for k in TABLE_LAGS)
            scores = f"{100 * s['train_score']:.0f} | {100 * s['score']:.0f}" if phase == "trained" else "- | -"
            lines.append(
                f"| {cell} | {phase} | {p['rate']:.3f} | {norms} | {scores} | {100 * p['probe_accuracy']:.0f} |"
            )
    return "\n".join(lines)


def plot(runs: list[dict[str, Any]], summary: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    plt = pyplot()
    if plt is None:
        return "matplotlib is not installed: no figure written"
    fig, axes = plt.subplots(2, 2, figsize=(12, 9), sharex=True, sharey="row")
    for column, phase in enumerate(PHASES):
        for cell, s in summary.items():
            color = COLORS.get(cell)
            mine = [np.array(r[phase]["state"]) for r in runs if r["cell"] == cell]
            label = f"{cell}: {s[phase]['rate']:.3f}/step"
            if phase == "trained":
                label += f", train {100 * s['train_score']:.0f}%, test {100 * s['score']:.0f}%"
            profile = np.array(s[phase]["profile"])
            for row, scale in enumerate((1.0, profile[0])):
                ax = axes[row, column]
                for p in mine:
                    ax.semilogy(p / (1.0 if row == 0 else p[0]), color=color, lw=0.6, alpha=0.35)
                ax.semilogy(profile / scale, color=color, lw=2.2, label=label)
        axes[0, column].set_title(
            "at initialisation" if phase == "init" else f"after {args.steps} batches of {args.batch} (lengths 1-40)"
        )
        axes[1, column].set_xlabel("lag k (steps before the scored step)")
        axes[0, column].legend(fontsize=8, loc="lower left")
    for ax in axes.flat:
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel(r"$\|\partial L / \partial S_{s-k}\|$ (mean over sequences)")
    axes[1, 0].set_ylabel(r"relative to lag 0: $\|\partial L / \partial S_{s-k}\| \,/\, \|\partial L / \partial S_s\|$")
    fig.suptitle(
        f"Gradient reaching the recurrent state k steps back: {args.task}, {args.length} symbols, loss at the answer, "
        f"hidden {args.hidden}\nthin: {args.seeds} seeds, thick: geometric mean; rate: fitted factor per step; "
        "train / test: score on lengths 1-40 / 41-500",
        fontsize=10,
    )
    fig.tight_layout()
    return save(fig, args.figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, name="gradient_lag", steps=3000, seeds=3)
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--task", default="parity")
    parser.add_argument("--length", type=int, default=100, help="symbols in each probe sequence")
    parser.add_argument("--probe", type=int, default=64, help="sequences in the probe batch")
    parser.add_argument("--quick", action="store_true", help="1 seed, 100 batches, probe of 8 (a smoke test)")
    args = parser.parse_args(argv)
    if args.replot:
        return replot(args, lambda out, saved: plot(out["runs"], out["summary"], saved))
    if args.quick:
        args.seeds, args.steps, args.probe, args.n_eval = 1, 100, 8, 8
    task = get_task(args.task)
    batch = probe_batch(task, args.length, args.probe, args.seed)
    started = time.monotonic()
    runs = []
    for cell in args.cells.split(","):
        for k in range(args.seeds):
            run = run_one(task, cell, args.seed + k, args, batch)
            runs.append(run)
            print(
                f"{cell:10} seed {run['seed']}: {run['status']}, {run['train_seconds']:.0f} s, "
                f"train score {100 * run['train_score']:.0f}, test score {100 * run['score']:.0f}, "
                f"rate {fit_decay_rate(np.array(run['init']['state']), 1):.3f} -> "
                f"{fit_decay_rate(np.array(run['trained']['state']), 1):.3f}",
                file=sys.stderr,
                flush=True,
            )
    summary = {
        cell: summarize_cell([r for r in runs if r["cell"] == cell], args.length) for cell in args.cells.split(",")
    }
    out = {
        **provenance(args, started),
        "measure": "mean over the probe sequences of ||dL/dS_{s-k}||, turingrnn.learning.diagnostics.gradient_by_lag",
        "table": table(summary),
        "summary": summary,
        "runs": runs,
    }
    finish(out, args.out)
    print(plot(runs, summary, args))
    print(f"{out['seconds']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
