"""The jobs of the comparison: one trained model or one compiled network on one task, each stored as one JSON file.

:func:`make_jobs` lists a tier's jobs, :func:`run_all` runs those whose result
file is missing or stale (trained with other steps, width or batch than the
tier now plans: :func:`is_current`), and :func:`run_job` runs one and writes
its file (:func:`job_path`). A trained job whose loss turns NaN or infinite
records the message instead of numbers.
"""

from __future__ import annotations

import json
import multiprocessing
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import TrainingDivergedError
from .checkpoint import git_commit
from .comparison import COMPILED_ENGINES, CURVE_LENGTHS, SCHEMA, VARIANTS, Tier, backend_for
from .protocol import evaluate_on_task, evaluation_sets, model_for_task, predict, summarize, train_on_task
from .tasks import Task, get_task, run_compiled, ticks_per_symbol

SOURCE_ROOT = Path(__file__).resolve().parents[2]
"""The source tree whose git commit and changes a result records (the checkout the package runs from)."""


def job_path(out: Path, job: dict) -> Path:
    """Where a job's result lives."""
    if job["model"] == "compiled":
        return out / job["task"] / "compiled.json"
    name = f"{job['model']}_seed{job['seed']}_lr{job['learning_rate']:g}_extra{job['extra_steps']}.json"
    return out / job["task"] / name


def header(job: dict, tier: Tier, seed: int) -> dict:
    """The fields every result file starts with: the job, the tier, the versions and the ticks per step."""
    source = git_commit(SOURCE_ROOT)
    return {
        "schema": SCHEMA,
        **job,
        "config": {**asdict(tier), "test_seed": seed},
        "versions": {
            "turingrnn": __version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "git_commit": source["commit"],
            "turingrnn_modified": source["modified"],
        },
        "ticks_per_step": ticks_per_symbol(get_task(job["task"])).ticks_per_step,
        **({} if job["model"] == "compiled" else {"planned": tier.planned(job["task"])}),
    }


def planned_of(result: dict) -> dict[str, int]:
    """The steps, width and batch a stored job was trained with.

    Results stored before ``planned`` was: from their tier's ``task_steps`` and ``task_hidden`` pairs.
    """
    if "planned" in result:
        return result["planned"]
    config, task = result["config"], result["task"]
    return {
        "steps": dict(map(tuple, config.get("task_steps", []))).get(task, config["steps"]),
        "hidden": dict(map(tuple, config.get("task_hidden", []))).get(task, config["hidden"]),
        "batch": config["batch"],
    }


def is_current(path: Path, job: dict, tier: Tier) -> bool:
    """Whether the result at ``path`` exists and was trained as ``tier`` now plans (a compiled job: exists)."""
    if not path.exists():
        return False
    return job["model"] == "compiled" or planned_of(json.loads(path.read_text())) == tier.planned(job["task"])


def run_compiled_job(job: dict, tier: Tier, seed: int) -> dict:
    """The task's compact preloaded network on every test example, in each engine."""
    task = get_task(job["task"])
    tests = evaluation_sets(task, tier.lengths, tier.n_test, seed)
    result = header(job, tier, seed)
    ticks = ticks_per_symbol(task)
    result["ticks_per_symbol"] = {
        str(n): float(np.mean([ticks.per_symbol(ex) for ex in exs])) for n, exs in tests.items()
    }
    result["engines"] = {}
    for engine in COMPILED_ENGINES:
        started = time.monotonic()
        answers = {n: run_compiled(task, exs, engine=engine) for n, exs in tests.items()}
        result["engines"][engine] = {**summarize(answers, tests), "seconds": time.monotonic() - started}
    result["status"] = "ok"
    return result


def build_model(job: dict, tier: Tier) -> Any:
    """The job's fresh model."""
    task, variant = get_task(job["task"]), VARIANTS[job["model"]]
    options = dict(variant.options)
    if variant.cell in ("lstm", "peephole_lstm", "cifg_lstm") and tier.forget_bias:
        options.setdefault("forget_bias", tier.forget_bias)
    return model_for_task(
        task, variant.cell, tier.hidden_for(job["task"]), seed=job["seed"], dtype=tier.dtype, readout=tier.readout,
        layers=variant.layers, bidirectional=variant.bidirectional, **options,
    )  # fmt: skip


def curve_recorder(task: Task, model: Any, tier: Tier, curve: list[dict]) -> Any:
    """A training callback that records the recent training accuracy and the accuracy at a few lengths."""
    probes = evaluation_sets(task, CURVE_LENGTHS, 64, 10_000)
    recent: list[float] = []

    def callback(step: Any) -> None:
        recent.append(step.accuracy)
        if (step.step + 1) % tier.curve_every:
            return
        point: dict[str, Any] = {"step": step.step + 1, "seconds": step.seconds, "loss": step.loss,
                                 "train_accuracy": float(np.nanmean(recent[-tier.curve_every:]))}  # fmt: skip
        answers = {n: predict(task, model, exs) for n, exs in probes.items()}
        point["per_token_accuracy"] = summarize(answers, probes)["per_token_accuracy"]
        curve.append(point)

    return callback


def run_trained_job(job: dict, tier: Tier, seed: int, progress: bool = True) -> dict:
    """Train one model on one task with one seed and learning rate, then test it."""
    task = get_task(job["task"])
    result = header(job, tier, seed)
    model = build_model(job, tier)
    backend = backend_for(tier)
    result["backend"] = backend
    result["parameters"] = model.parameter_count
    if progress:
        print(f"training {job['task']} {job['model']} seed {job['seed']} lr {job['learning_rate']:g}", file=sys.stderr)
    curve: list[dict] = []
    callback = curve_recorder(task, model, tier, curve) if tier.curve_every else None
    started = time.monotonic()
    try:
        history = train_on_task(
            task, model, steps=tier.steps_for(job["task"]), batch=tier.batch, learning_rate=job["learning_rate"],
            seed=job["seed"], backend=backend, progress=progress, callback=callback,
        )  # fmt: skip
    except TrainingDivergedError as e:
        result.update(
            status="diverged",
            message=str(e),
            train={"seconds": time.monotonic() - started, "diverged_at_batch": e.step, "curve": curve},
        )
        return result
    chunks = np.array_split(np.array(history.losses), min(20, max(1, history.steps)))
    result["train"] = {
        "steps": history.steps,
        "seconds": history.seconds,
        "loss_curve": [float(c.mean()) for c in chunks if len(c)],
        "final_accuracy": float(np.nanmean(history.accuracies[-50:])) if history.accuracies else None,
        "curve": curve,
    }
    started = time.monotonic()
    result["eval"] = {**evaluate_on_task(task, model, tier.lengths, tier.n_test, seed).summary,
                      "seconds": time.monotonic() - started}  # fmt: skip
    if VARIANTS[job["model"]].cell == "encoder_decoder":
        result["eval_teacher_forced"] = evaluate_on_task(task, model, tier.lengths, tier.n_test, seed,
                                                         teacher=True).summary  # fmt: skip
    result["status"] = "ok"
    return result


def run_job(args: tuple[dict, Tier, int, Path, bool]) -> tuple[str, str]:
    """Run one job and write its JSON (atomically); return its path and status."""
    job, tier, seed, out, progress = args
    if backend_for(tier) == "torch":
        import torch

        torch.set_num_threads(1)
    path = job_path(out, job)
    started = time.monotonic()
    result = run_compiled_job(job, tier, seed) if job["model"] == "compiled" else run_trained_job(
        job, tier, seed, progress)  # fmt: skip
    result["seconds"] = time.monotonic() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(path)
    return str(path), result["status"]


def make_jobs(tasks: Sequence[str], models: Sequence[str], tier: Tier, seed: int) -> list[dict]:
    """The compiled job of each task, then every (task, model, seed, learning rate) that applies.

    The trained jobs come seed by seed: all of the first seed's jobs before any of the second's, so
    that a tier stopped part way has every model on every task once before it has any twice.
    """
    jobs: list[dict] = [{"task": t, "model": "compiled"} for t in tasks]
    for k in range(tier.seeds):
        for t in tasks:
            for m in (m for m in models if VARIANTS[m].applies(get_task(t))):
                jobs += [
                    {"task": t, "model": m, "seed": seed + k, "learning_rate": lr, "extra_steps": tier.extra_steps}
                    for lr in tier.learning_rates
                ]
    return jobs


def run_all(jobs: list[dict], tier: Tier, seed: int, out: Path, workers: int = 2, progress: bool = True) -> list[str]:
    """Run the jobs whose result file is missing, ``workers`` at a time; return the paths written."""
    todo = [(j, tier, seed, out, progress) for j in jobs if not is_current(job_path(out, j), j, tier)]
    stale = sum(job_path(out, j).exists() for j, *_ in todo)
    print(
        f"{len(jobs) - len(todo)} of {len(jobs)} jobs already done; running {len(todo)}"
        + (f" ({stale} of them stored with other steps, width or batch: replaced)" if stale else ""),
        file=sys.stderr,
    )
    if workers <= 1:
        done = [run_job(a) for a in todo]
    else:
        with multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=1) as pool:
            done = []
            for path, status in pool.imap_unordered(run_job, todo):
                print(f"wrote {path} ({status})", file=sys.stderr)
                done.append((path, status))
    return [p for p, _ in done]
