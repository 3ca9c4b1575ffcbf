"""Shared by the experiments that train models on a task and score them: arguments, one run, provenance, figures."""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import turingrnn as tr
from turingrnn.errors import TrainingDivergedError
from turingrnn.learning.checkpoint import git_commit
from turingrnn.learning.protocol import TEST_EVAL_LENGTHS, TRAIN_EVAL_LENGTHS, evaluate_on_task, train_on_task


def add_run_arguments(parser: argparse.ArgumentParser, *, name: str, steps: int, seeds: int) -> None:
    """The options every such script takes; ``--out`` and ``--figure`` default to ``name``'s JSON and PNG."""
    parser.add_argument("--seed", type=int, default=0, help="first model seed; also seeds the test sets")
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=steps, help="training batches per run")
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--n-eval", type=int, default=64, help="test examples per evaluated length")
    parser.add_argument("--out", type=Path, default=Path(f"experiments/results/{name}.json"))
    parser.add_argument("--figure", type=Path, default=Path(f"docs/figures/{name}.png"))
    parser.add_argument("--replot", action="store_true", help="redraw the figure and the table from --out")


def train_and_score(task: Any, model: Any, seed: int, args: argparse.Namespace, **train_kwargs: Any) -> dict[str, Any]:
    """Train ``model`` in place (``train_on_task``), then score it on the training and the test lengths.

    A diverged run keeps its last finite parameters and is scored all the same (``status`` says so).
    """
    run: dict[str, Any] = {}
    started = time.monotonic()
    try:
        history = train_on_task(
            task, model, steps=args.steps, batch=args.batch, learning_rate=args.learning_rate, seed=seed,
            **train_kwargs,
        )  # fmt: skip
        run["status"] = "ok"
        run["updates"] = history.updates
        run["final_batch_accuracy"] = float(np.nanmean(history.accuracies[-100:]))
    except TrainingDivergedError as e:
        run["status"] = f"diverged at batch {e.step}"
    run["train_seconds"] = round(time.monotonic() - started, 2)
    train = evaluate_on_task(task, model, TRAIN_EVAL_LENGTHS, args.n_eval, seed=args.seed).summary
    test = evaluate_on_task(task, model, TEST_EVAL_LENGTHS, args.n_eval, seed=args.seed).summary
    run |= {"train_score": train["train_score"], "score": test["score"], "horizon": test["horizon"]}
    run["per_token_accuracy"] = train["per_token_accuracy"] | test["per_token_accuracy"]
    return run


def provenance(args: argparse.Namespace, started: float) -> dict[str, Any]:
    """The configuration, versions, commit, platform and seconds since ``started`` (``time.monotonic()``)."""
    return {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "turingrnn_version": tr.__version__,
        "source": git_commit(),
        "platform": {"python": platform.python_version(), "numpy": np.__version__, "system": platform.platform()},
        "seconds": round(time.monotonic() - started, 1),
    }


def replot(args: argparse.Namespace, draw: Callable[[dict[str, Any], argparse.Namespace], str]) -> int:
    """Print the table saved in ``args.out`` and redraw its figure to ``args.figure`` with ``draw(out, config)``."""
    out = json.loads(args.out.read_text())
    print(out["table"])
    print(draw(out, argparse.Namespace(**{**out["config"], "figure": args.figure})))
    return 0


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend, or ``None`` when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save(fig: Any, path: Path) -> str:
    """Write ``fig`` to ``path`` (parents created) at 120 dpi."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return f"wrote {path}"
