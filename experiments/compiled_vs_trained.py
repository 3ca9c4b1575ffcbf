"""Compiled networks against trained gated RNNs on the Delétang et al. (ICLR 2023) tasks.

Usage:
    python experiments/compiled_vs_trained.py --tier quick|standard|full [--tasks parity,anbn]
        [--cells lstm,gru] [--extra-steps compiled|0|N] [--workers 2] [--seed 0]
        [--out experiments/results/compiled_vs_trained] [--figures docs/figures] [--report-only]

Protocol (Delétang et al. 2023): each cell is trained on lengths 1-40 (one random length per
batch) and tested on lengths 41-500. The trained models read one-hot symbols, then blank
symbols: ``extra`` blank "computation" steps, then one blank step per output label, where they
must emit the label (the loss and the accuracy count only those positions, via the mask). For
per-position tasks the label is emitted at each input symbol, or at the last of the ``extra``
blanks that follow each symbol. ``--extra-steps compiled`` offers the trained models the ticks
the compiled network spends after its input (``ticks_per_symbol(task).extra(example)``), or
``ticks_per_step - 1`` blanks after each symbol for per-position tasks; an integer offers that
many.

The compiled networks (engines exact, float64, float32, through ``run_compiled``) and every
trained model answer the same test examples: ``n_test`` examples per evaluated length, drawn
with ``numpy.random.default_rng([seed, length])``. Metrics (``turingrnn.tasks.score``): the
score (per-token accuracy averaged over the test lengths >= 41), sequence accuracy per length,
and the horizon (largest evaluated length up to which every evaluated length, the short ones
included, has sequence accuracy >= 99%).

Each finished (task, cell, seed, learning rate) job, and each task's compiled job, is one JSON
file under ``<out>/<tier>/<task>/``; a job whose file exists is not run again. A NaN or infinite
loss stops that job and records the message instead of numbers. At the end the script writes
``<out>/<tier>/summary.json``, ``<out>/<tier>/table.md`` and ``<figures>/compiled_vs_trained_<tier>.png``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import asdict, dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import turingrnn as tr  # noqa: E402
from turingrnn.models import CELLS, make_model  # noqa: E402
from turingrnn.errors import TrainingDivergedError, UnknownCellError  # noqa: E402
from turingrnn.tasks import (  # noqa: E402
    ENGINES,
    TASKS,
    TRAIN_LENGTHS,
    Task,
    TaskExample,
    get_task,
    run_compiled,
    score,
    ticks_per_symbol,
)
from turingrnn.training import train  # noqa: E402

SCHEMA = 1
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "experiments/results/compiled_vs_trained"
DEFAULT_FIGURES = ROOT / "docs/figures"
OPTIONAL_TASKS = ("anbncn", "dyck2")
DEFAULT_TASKS = tuple(t for t in TASKS if t not in OPTIONAL_TASKS)
DEFAULT_CELLS = ("elman_tanh", "elman_relu", "lstm", "gru")
FIRST_TEST_LENGTH = 41
SHORT_LENGTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 40)


@dataclass(frozen=True)
class Tier:
    """One size of the experiment.

    Attributes:
        hidden: Hidden units of every cell.
        seeds: How many training seeds per (task, cell, learning rate).
        learning_rates: Adam step sizes, each trained separately.
        steps: Training batches per job.
        batch: Examples per training batch.
        lengths: The evaluated lengths; those >= 41 are the test lengths of the score.
        n_test: Test examples per evaluated length.
        extra_steps: ``"compiled"`` or a number of blank steps (see the module docstring).
    """

    hidden: int
    seeds: int
    learning_rates: tuple[float, ...]
    steps: int
    batch: int
    lengths: tuple[int, ...]
    n_test: int
    extra_steps: str = "0"


TIERS = {
    "quick": Tier(
        hidden=32, seeds=1, learning_rates=(1e-3,), steps=1000, batch=32,
        lengths=SHORT_LENGTHS + (41, 60, 100, 200), n_test=16,
    ),
    "standard": Tier(
        hidden=64, seeds=3, learning_rates=(1e-3,), steps=3000, batch=32,
        lengths=SHORT_LENGTHS + (41, 60, 100, 200, 500), n_test=32,
    ),
    "full": Tier(
        hidden=256, seeds=10, learning_rates=(1e-3, 3e-4, 1e-4), steps=1_000_000, batch=128,
        lengths=SHORT_LENGTHS + tuple(range(41, 501)), n_test=100,
    ),
}  # fmt: skip


# --------------------------------------------------------------------- encoding


def blank_steps(task: Task, extra: str, example: TaskExample) -> int:
    """The blank steps offered after the input (final, sequence) or after each symbol (per position)."""
    if extra != "compiled":
        return int(extra)
    ticks = ticks_per_symbol(task)
    if task.output_mode == "per_position":
        return ticks.ticks_per_step - 1
    return ticks.extra(example)


def encode(task: Task, examples: Sequence[TaskExample], extra: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-hot inputs (the last column is the blank), targets and the mask of the output positions."""
    symbols = {s: i for i, s in enumerate(task.input_alphabet)}
    labels = {s: i for i, s in enumerate(task.output_alphabet)}
    blank = len(symbols)
    rows: list[tuple[list[int], list[int]]] = []  # (input ids, output positions)
    for ex in examples:
        e = blank_steps(task, extra, ex)
        ids = [symbols[s] for s in ex.input]
        if task.output_mode == "per_position":
            seq = [i for s in ids for i in [s] + [blank] * e]
            outputs = [(k + 1) * (e + 1) - 1 for k in range(len(ids))]
        else:
            seq = ids + [blank] * (e + len(ex.target))
            outputs = list(range(len(ids) + e, len(seq)))
        rows.append((seq, outputs))
    steps = max(len(seq) for seq, _ in rows)
    inputs = np.zeros((len(rows), steps, blank + 1))
    targets = np.zeros((len(rows), steps), dtype=np.int64)
    mask = np.zeros((len(rows), steps), dtype=bool)
    for b, ((seq, outputs), ex) in enumerate(zip(rows, examples, strict=True)):
        padded = seq + [blank] * (steps - len(seq))
        inputs[b, np.arange(steps), padded] = 1.0
        targets[b, outputs] = [labels[t] for t in ex.target]
        mask[b, outputs] = True
    return inputs, targets, mask


def training_batches(task: Task, tier: Tier, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """Endless batches, each of one length drawn uniformly from the training lengths 1-40."""
    while True:
        length = int(rng.integers(TRAIN_LENGTHS.start, TRAIN_LENGTHS.stop))
        yield encode(task, task.sample(length, tier.batch, rng), tier.extra_steps)


def test_sets(task: Task, tier: Tier, seed: int) -> dict[int, list[TaskExample]]:
    """The same test examples for every model: ``default_rng([seed, length])`` per length."""
    return {n: task.sample(n, tier.n_test, np.random.default_rng([seed, n])) for n in tier.lengths}


def summarize(task: Task, tier: Tier, answers: dict[int, list[Any]], tests: dict[int, list[TaskExample]]) -> dict:
    """Score over the test lengths, accuracies per length, horizon over all evaluated lengths."""
    pairs = {n: [(a, ex.target) for a, ex in zip(answers[n], tests[n], strict=True)] for n in tests}
    everything = score(pairs)
    tested = score({n: p for n, p in pairs.items() if n >= FIRST_TEST_LENGTH} or pairs)
    return {
        "score": tested["score"],
        "horizon": everything["horizon"],
        "per_token_accuracy": {str(n): a for n, a in everything["per_token_accuracy"].items()},  # type: ignore[attr-defined]
        "sequence_accuracy": {str(n): a for n, a in everything["sequence_accuracy"].items()},  # type: ignore[attr-defined]
    }


# --------------------------------------------------------------------- jobs


def job_path(out: Path, job: dict) -> Path:
    """Where a job's result lives."""
    if job["model"] == "compiled":
        return out / job["task"] / "compiled.json"
    name = f"{job['model']}_seed{job['seed']}_lr{job['learning_rate']:g}_extra{job['extra_steps']}.json"
    return out / job["task"] / name


def git_state() -> dict[str, object]:
    """The commit the package was run at, and whether ``turingrnn/`` had uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        status = subprocess.run(
            ["git", "status", "--porcelain", "turingrnn"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return {"git_commit": None}
    return {"git_commit": commit.stdout.strip(), "turingrnn_modified": bool(status.stdout.strip())}


def header(job: dict, tier: Tier, seed: int) -> dict:
    return {
        "schema": SCHEMA,
        **job,
        "config": {**asdict(tier), "test_seed": seed},
        "versions": {
            "turingrnn": tr.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            **git_state(),
        },
        "ticks_per_step": ticks_per_symbol(get_task(job["task"])).ticks_per_step,
    }


def run_compiled_job(job: dict, tier: Tier, seed: int) -> dict:
    """The task's compact preloaded network on every test example, in each engine."""
    task = get_task(job["task"])
    tests = test_sets(task, tier, seed)
    result = header(job, tier, seed)
    ticks = ticks_per_symbol(task)
    result["ticks_per_symbol"] = {
        str(n): float(np.mean([ticks.per_symbol(ex) for ex in exs])) for n, exs in tests.items()
    }
    result["engines"] = {}
    for engine in ENGINES:
        started = time.monotonic()
        answers = {n: run_compiled(task, exs, engine=engine) for n, exs in tests.items()}
        result["engines"][engine] = {**summarize(task, tier, answers, tests), "seconds": time.monotonic() - started}
    result["status"] = "ok"
    return result


def predict(task: Task, model: Any, examples: list[TaskExample], extra: str, chunk: int = 64) -> list[tuple[str, ...]]:
    """The labels a trained model emits at the output positions."""
    answers: list[tuple[str, ...]] = []
    for i in range(0, len(examples), chunk):
        part = examples[i : i + chunk]
        inputs, _, mask = encode(task, part, extra)
        classes = model.predict(inputs)
        answers += [tuple(task.output_alphabet[c] for c in classes[b][mask[b]]) for b in range(len(part))]
    return answers


def run_trained_job(job: dict, tier: Tier, seed: int, progress: bool = True) -> dict:
    """Train one cell on one task with one seed and learning rate, then test it."""
    task = get_task(job["task"])
    result = header(job, tier, seed)
    model = make_model(
        job["model"], len(task.input_alphabet) + 1, tier.hidden, len(task.output_alphabet), seed=job["seed"]
    )
    batches = training_batches(task, tier, np.random.default_rng([job["seed"], 1]))
    if progress:
        print(f"training {job['task']} {job['model']} seed {job['seed']} lr {job['learning_rate']:g}", file=sys.stderr)
    started = time.monotonic()
    try:
        history = train(model, batches, steps=tier.steps, learning_rate=job["learning_rate"], progress=progress)
    except TrainingDivergedError as e:
        result.update(
            status="diverged",
            message=str(e),
            train={"seconds": time.monotonic() - started, "diverged_at_batch": e.step},
        )
        return result
    chunks = np.array_split(np.array(history.losses), min(20, max(1, history.steps)))
    result["train"] = {
        "steps": history.steps,
        "seconds": history.seconds,
        "loss_curve": [float(c.mean()) for c in chunks if len(c)],
        "final_accuracy": float(np.mean(history.accuracies[-50:])),
    }
    tests = test_sets(task, tier, seed)
    started = time.monotonic()
    answers = {n: predict(task, model, exs, tier.extra_steps) for n, exs in tests.items()}
    result["eval"] = {**summarize(task, tier, answers, tests), "seconds": time.monotonic() - started}
    result["status"] = "ok"
    return result


def run_job(args: tuple[dict, Tier, int, Path, bool]) -> tuple[str, str]:
    """Run one job and write its JSON (atomically); return its path and status."""
    job, tier, seed, out, progress = args
    path = job_path(out, job)
    started = time.monotonic()
    if job["model"] == "compiled":
        result = run_compiled_job(job, tier, seed)
    else:
        result = run_trained_job(job, tier, seed, progress)
    result["seconds"] = time.monotonic() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(path)
    return str(path), result["status"]


def make_jobs(tasks: Sequence[str], cells: Sequence[str], tier: Tier, seed: int) -> list[dict]:
    """The compiled job of each task, then every (task, cell, seed, learning rate)."""
    jobs: list[dict] = [{"task": t, "model": "compiled"} for t in tasks]
    for t in tasks:
        for c in cells:
            for lr in tier.learning_rates:
                jobs += [
                    {"task": t, "model": c, "seed": seed + k, "learning_rate": lr, "extra_steps": tier.extra_steps}
                    for k in range(tier.seeds)
                ]
    return jobs


def run_all(jobs: list[dict], tier: Tier, seed: int, out: Path, workers: int = 2, progress: bool = True) -> list[str]:
    """Run the jobs whose result file is missing, ``workers`` at a time; return the paths written."""
    todo = [(j, tier, seed, out, progress) for j in jobs if not job_path(out, j).exists()]
    print(f"{len(jobs) - len(todo)} of {len(jobs)} jobs already done; running {len(todo)}", file=sys.stderr)
    if workers <= 1:
        done = [run_job(a) for a in todo]
    else:
        with multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=1) as pool:
            done = []
            for path, status in pool.imap_unordered(run_job, todo):
                print(f"wrote {path} ({status})", file=sys.stderr)
                done.append((path, status))
    return [p for p, _ in done]


# --------------------------------------------------------------------- report


def load_results(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("*/*.json"))]


def aggregate(results: list[dict]) -> dict:
    """Per task and model: max and median over seeds and learning rates of score and horizon, and the curves."""
    table: dict[str, dict[str, dict]] = {}
    for r in results:
        models = table.setdefault(r["task"], {})
        if r["model"] == "compiled":
            for engine, e in r["engines"].items():
                models[f"compiled {engine}"] = {
                    "runs": 1, "diverged": 0, "score": {"max": e["score"], "median": e["score"]},
                    "horizon": {"max": e["horizon"], "median": e["horizon"]},
                    "sequence_accuracy": e["sequence_accuracy"], "per_token_accuracy": e["per_token_accuracy"],
                }  # fmt: skip
            continue
        entry = models.setdefault(r["model"], {"runs": 0, "diverged": 0, "_ok": []})
        entry["runs"] += 1
        if r["status"] == "ok":
            entry["_ok"].append(r["eval"])
        else:
            entry["diverged"] += 1
    for models in table.values():
        for entry in models.values():
            ok = entry.pop("_ok", None)
            if ok is None:
                continue
            if not ok:
                entry.update(score=None, horizon=None)
                continue
            for key in ("score", "horizon"):
                values = [e[key] for e in ok]
                entry[key] = {"max": float(np.max(values)), "median": float(np.median(values))}
            for key in ("sequence_accuracy", "per_token_accuracy"):
                entry[key] = {n: float(np.median([e[key][n] for e in ok])) for n in ok[0][key]}
    return table


def markdown_table(table: dict) -> str:
    models = [*(m for m in DEFAULT_CELLS if any(m in t for t in table.values())), *(f"compiled {e}" for e in ENGINES)]
    lines = [
        "| task | " + " | ".join(models) + " |",
        "|---|" + "---:|" * len(models),
    ]
    for task in [t for t in TASKS if t in table]:
        cells = []
        for m in models:
            e = table[task].get(m)
            if e is None or e["score"] is None:
                cells.append("—" if e is None else f"diverged ({e['diverged']}/{e['runs']})")
                continue
            s, h = e["score"], e["horizon"]
            text = f"{100 * s['median']:.0f} ({100 * s['max']:.0f}) / {h['median']:.0f} ({h['max']:.0f})"
            if e.get("diverged"):
                text += f" [{e['diverged']}/{e['runs']} diverged]"
            cells.append(text)
        lines.append(f"| `{task}` ({get_task(task).chomsky}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def ticks_table(results: list[dict]) -> str:
    """Ticks per input symbol of each task's compiled network, mean over the test examples of some lengths."""
    compiled = {r["task"]: r for r in results if r["model"] == "compiled"}
    if not compiled:
        return ""
    lengths = sorted({int(n) for r in compiled.values() for n in r["ticks_per_symbol"]})
    shown = [n for n in lengths if n in (1, 8, 40, 41, 100, 200, 500)]
    lines = [
        "| task | ticks per step | " + " | ".join(f"length {n}" for n in shown) + " |",
        "|---|---:|" + "---:|" * len(shown),
    ]
    for task in [t for t in TASKS if t in compiled]:
        per = compiled[task]["ticks_per_symbol"]
        lines.append(
            f"| `{task}` | {compiled[task]['ticks_per_step']} | "
            + " | ".join(f"{per[str(n)]:.1f}" for n in shown)
            + " |"
        )
    return "\n".join(lines) + "\n"


def plot(table: dict, path: Path, title: str, metric: str = "sequence_accuracy") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t for t in TASKS if t in table]
    cols = min(4, len(tasks))
    rows = (len(tasks) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False, sharey=True)
    styles: dict[str, dict[str, Any]] = {
        "compiled exact": dict(color="black", lw=2.5, ls="-"),
        "compiled float64": dict(color="tab:purple", lw=2, ls="--"),
        "compiled float32": dict(color="tab:pink", lw=2, ls=":"),
    }
    for model, color in zip(DEFAULT_CELLS, ("tab:orange", "tab:blue", "tab:red", "tab:green"), strict=True):
        styles[model] = dict(color=color, lw=1.3, ls="-")
    for ax, task in zip(axes.flat, tasks, strict=False):
        for model in styles:
            entry = table[task].get(model)
            if entry is None or entry.get(metric) is None:
                continue
            acc = entry[metric]
            lengths = sorted(acc, key=int)
            ax.plot([int(n) for n in lengths], [acc[n] for n in lengths], marker=".", label=model,
                    **styles[model])  # fmt: skip
        ax.axvline(40.5, color="gray", lw=0.8)
        ax.set_xscale("log")
        ax.set_title(f"{task} ({get_task(task).chomsky})", fontsize=10)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("length")
    for ax in axes[:, 0]:
        ax.set_ylabel(metric.replace("_", " "))
    for ax in list(axes.flat)[len(tasks) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(out: Path, figures: Path | None, tier_name: str) -> dict:
    """Aggregate the result files of ``out``: summary.json, table.md and (with ``figures``) the plot."""
    results = load_results(out)
    table = aggregate(results)
    (out / "summary.json").write_text(json.dumps(table, indent=1) + "\n")
    (out / "table.md").write_text(markdown_table(table) + "\n" + ticks_table(results))
    if figures is not None:
        for metric, suffix in (("sequence_accuracy", ""), ("per_token_accuracy", "_per_token")):
            title = f"tier {tier_name}: {metric.replace('_', ' ')} by length (trained: median over seeds, lengths 1-40)"
            plot(table, figures / f"compiled_vs_trained_{tier_name}{suffix}.png", title, metric)
    return table


# --------------------------------------------------------------------- main


def parse_names(text: str | None, default: Sequence[str], valid: Sequence[str], kind: str) -> list[str]:
    names = list(default) if not text else [n.strip() for n in text.split(",") if n.strip()]
    if kind == "task":
        for n in names:
            get_task(n)  # raises UnknownTaskError listing the tasks
    else:
        bad = [n for n in names if n not in valid]
        if bad:
            raise UnknownCellError(f"unknown cell {bad[0]!r}; cells are: {', '.join(valid)}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tier", choices=sorted(TIERS), default="quick")
    parser.add_argument("--tasks", help=f"comma-separated (default: {','.join(DEFAULT_TASKS)})")
    parser.add_argument("--cells", help=f"comma-separated (default: {','.join(DEFAULT_CELLS)})")
    parser.add_argument("--extra-steps", help="compiled, 0 or N blank steps (default: the tier's)")
    parser.add_argument("--steps", type=int, help="training batches per job (default: the tier's)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="test-set seed and first training seed")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results root; the tier is a subfolder")
    parser.add_argument("--figures", type=Path, default=DEFAULT_FIGURES)
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="only aggregate the results already there")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    tier = TIERS[args.tier]
    if args.extra_steps is not None:
        if args.extra_steps != "compiled" and not args.extra_steps.isdigit():
            parser.error(f"--extra-steps must be compiled or a non-negative integer, got {args.extra_steps!r}")
        tier = replace(tier, extra_steps=args.extra_steps)
    if args.steps is not None:
        tier = replace(tier, steps=args.steps)
    tasks = parse_names(args.tasks, DEFAULT_TASKS, list(TASKS), "task")
    cells = parse_names(args.cells, DEFAULT_CELLS, list(CELLS), "cell")
    out = args.out / args.tier
    if not args.report_only:
        started = time.monotonic()
        run_all(make_jobs(tasks, cells, tier, args.seed), tier, args.seed, out, args.workers, not args.no_progress)
        print(f"jobs done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    table = report(out, None if args.no_plot else args.figures, args.tier)
    print(markdown_table(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
