"""Compiled networks against trained recurrent networks on the Delétang et al. (ICLR 2023) tasks.

Usage:
    python experiments/compiled_vs_trained.py --tier control|quick|standard|full [--tasks parity,anbn]
        [--models lstm,gru] [--steps N] [--workers 2] [--seed 0] [--backend numpy|torch]
        [--out experiments/results/compiled_vs_trained] [--figures docs/figures] [--report-only]

The protocol is :mod:`turingrnn.learning.protocol`: train on lengths 1-40 (one random length per batch),
test on lengths 41-500, the same test examples for every model (``n_test`` per evaluated length,
``numpy.random.default_rng([seed, length])``). Each trained job records its score on the test
lengths (per-token accuracy averaged over the evaluated lengths >= 41), its score on the training
lengths (the same over the evaluated lengths <= 40: how well it fits), the sequence accuracy per
length, the horizon, and a learning curve. The compiled networks (engines exact, float64, float32,
through ``run_compiled``) answer the same examples.

Tiers (``TIERS``): ``control`` reproduces the control of Delétang et al. (the four regular tasks,
where their RNN and LSTM reach 100); ``quick`` and ``standard`` run every model on every task;
``full`` is the paper's scale (not runnable on one machine).

Each finished (task, model, seed, learning rate) job, and each task's compiled job, is one JSON
file under ``<out>/<tier>/<task>/``; a job whose file exists is not run again, unless it was trained
with other steps, width or batch than the tier now plans (then it is rerun and replaced). A NaN or infinite
loss stops that job and records the message instead of numbers. At the end the script writes
``<out>/<tier>/summary.json``, ``<out>/<tier>/table.md`` and figures under ``<figures>``.

This script is the command line only: the tiers and models are :mod:`turingrnn.learning.comparison`,
the jobs :mod:`turingrnn.learning.comparison_jobs`, the report :mod:`turingrnn.learning.comparison_report`
and the figures :mod:`turingrnn.learning.comparison_figures`.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

from turingrnn.learning.comparison import TIERS, parse_names  # noqa: E402
from turingrnn.learning.comparison_jobs import make_jobs, run_all  # noqa: E402
from turingrnn.learning.comparison_report import markdown_table, report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "experiments/results/compiled_vs_trained"
DEFAULT_FIGURES = ROOT / "docs/figures"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tier", choices=sorted(TIERS), default="quick")
    parser.add_argument("--tasks", help="comma-separated (default: the tier's)")
    parser.add_argument("--models", help="comma-separated (default: the tier's)")
    parser.add_argument("--steps", type=int, help="training batches per job (default: the tier's)")
    parser.add_argument("--backend", choices=("numpy", "torch"), help="training backend (default: the tier's)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="test-set seed and first training seed")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results root; the tier is a subfolder")
    parser.add_argument("--figures", type=Path, default=DEFAULT_FIGURES)
    parser.add_argument(
        "--docs",
        type=Path,
        default=ROOT / "docs/results.md",
        help="page whose generated block for the tier is rewritten (default docs/results.md)",
    )
    parser.add_argument("--no-docs", action="store_true", help="leave the docs page alone")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="only aggregate the results already there")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    tier = TIERS[args.tier]
    if args.steps is not None:
        tier = replace(tier, steps=args.steps, per_task=tuple((t, replace(c, steps=None)) for t, c in tier.per_task))
    if args.backend is not None:
        tier = replace(tier, backend=args.backend)
    tasks = parse_names(args.tasks, tier.tasks, "task")
    models = parse_names(args.models, tier.models, "model")
    out = args.out / args.tier
    if not args.report_only:
        started = time.monotonic()
        run_all(make_jobs(tasks, models, tier, args.seed), tier, args.seed, out, args.workers, not args.no_progress)
        print(f"jobs done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    table = report(out, None if args.no_plot else args.figures, args.tier, None if args.no_docs else args.docs)
    print(markdown_table(table, tier=tier))
    return 0


if __name__ == "__main__":
    sys.exit(main())
