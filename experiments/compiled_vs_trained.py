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
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import asdict, dataclass, field, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import turingrnn as tr  # noqa: E402
from turingrnn.errors import TrainingDivergedError, UnknownCellError  # noqa: E402
from turingrnn.learning.checkpoint import git_commit  # noqa: E402
from turingrnn.learning.protocol import (  # noqa: E402
    FIRST_TEST_LENGTH,
    TEST_EVAL_LENGTHS,
    TRAIN_EVAL_LENGTHS,
    evaluate_on_task,
    evaluation_sets,
    model_for_task,
    predict,
    sampling_noise,
    summarize,
    train_on_task,
)
from turingrnn.learning.tasks import ENGINES, TASKS, Task, get_task, run_compiled, ticks_per_symbol  # noqa: E402

SCHEMA = 2
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "experiments/results/compiled_vs_trained"
DEFAULT_FIGURES = ROOT / "docs/figures"
REGULAR = ("parity", "even_pairs", "cycle_navigation", "modular_arithmetic")
TRANSDUCTION = ("reverse_string", "duplicate_string", "binary_addition")
SHORT_LENGTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 40)
CURVE_LENGTHS = (40, 100, 500)


@dataclass(frozen=True)
class Variant:
    """One trained model of the comparison: a registered cell, its layers, direction and options.

    Attributes:
        name: The column name (``lstm``, ``lstm_x2``, ``bi_lstm``, ...).
        cell: The registry name of :func:`turingrnn.learning.models.make_model`.
        layers: Stacked layers.
        bidirectional: Reads the input from both ends (only tasks answered after the whole input).
        options: Cell options.
        tasks: ``"all"``, ``"after_input"`` (final and sequence tasks) or ``"transduction"``.
    """

    name: str
    cell: str
    layers: int = 1
    bidirectional: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    tasks: str = "all"

    def applies(self, task: Task) -> bool:
        """Whether this model runs on ``task``."""
        if self.tasks == "after_input":
            return task.output_mode != "per_position"
        if self.tasks == "transduction":
            return task.name in TRANSDUCTION
        return True


CLASSIC = ("elman_tanh", "elman_relu", "lstm", "gru")
RECURRENT = CLASSIC + ("peephole_lstm", "cifg_lstm", "clockwork_rnn", "dense_clockwork_rnn")
MEMORY = ("stack_rnn", "tape_rnn")
OTHER = ("esn", "tdnn")


def _variants() -> dict[str, Variant]:
    out = {c: Variant(c, c) for c in RECURRENT + MEMORY + OTHER}
    out.update({f"{c}_x2": Variant(f"{c}_x2", c, layers=2) for c in RECURRENT})
    out.update({f"bi_{c}": Variant(f"bi_{c}", c, bidirectional=True, tasks="after_input") for c in ("lstm", "gru")})
    out["encoder_decoder"] = Variant("encoder_decoder", "encoder_decoder", tasks="transduction")
    return out


VARIANTS = _variants()
"""Every trained model the comparison knows, by column name."""


@dataclass(frozen=True)
class TaskSettings:
    """What a tier changes for one task; ``None`` keeps the tier's own value.

    Attributes:
        steps: Training batches per job.
        hidden: Hidden units of every model.
    """

    steps: int | None = None
    hidden: int | None = None


@dataclass(frozen=True)
class Tier:
    """One size of the experiment.

    Attributes:
        hidden: Hidden units of every model.
        seeds: Training seeds per (task, model, learning rate).
        learning_rates: Adam step sizes, each trained separately.
        steps: Training batches per job.
        batch: Examples per training batch.
        lengths: The evaluated lengths; those >= 41 are the test lengths of the score.
        n_test: Test examples per evaluated length.
        tasks: The tasks run by default.
        models: The variants run by default (keys of :data:`VARIANTS`).
        readout: ``linear`` or ``relu`` (Delétang et al.: ``Linear(ReLU(h))``).
        forget_bias: Added to the LSTMs' forget-gate bias (Haiku's LSTM adds 1).
        dtype: The models' float type.
        backend: ``numpy`` or ``torch`` (the torch backend when installed, else numpy).
        extra_steps: Blank computation steps offered after the input (see turingrnn.learning.protocol).
        curve_every: Record the learning curve every this many batches (0: never).
        per_task: ``(task, TaskSettings)`` pairs: the steps and width of those tasks' jobs.
    """

    hidden: int
    seeds: int
    learning_rates: tuple[float, ...]
    steps: int
    batch: int
    lengths: tuple[int, ...]
    n_test: int
    tasks: tuple[str, ...]
    models: tuple[str, ...]
    readout: str = "relu"
    forget_bias: float = 1.0
    dtype: str = "float32"
    backend: str = "numpy"
    extra_steps: str = "0"
    curve_every: int = 0
    per_task: tuple[tuple[str, TaskSettings], ...] = ()

    def _setting(self, task: str, name: str) -> Any:
        value = getattr(dict(self.per_task).get(task, TaskSettings()), name)
        return getattr(self, name) if value is None else value

    def steps_for(self, task: str) -> int:
        """The training batches of ``task``'s jobs."""
        return int(self._setting(task, "steps"))

    def hidden_for(self, task: str) -> int:
        """The hidden units of ``task``'s models."""
        return int(self._setting(task, "hidden"))

    def planned(self, task: str) -> dict[str, int]:
        """The settings a finished job of ``task`` must have been trained with to count for this tier."""
        return {"steps": self.steps_for(task), "hidden": self.hidden_for(task), "batch": self.batch}


ALL_MODELS = tuple(VARIANTS)
QUICK_MODELS = tuple(m for m in VARIANTS if not m.endswith("_x2") or m.removesuffix("_x2") in CLASSIC)
TIERS = {
    "control": Tier(
        hidden=64, seeds=3, learning_rates=(1e-3,), steps=20_000, batch=128,
        lengths=TRAIN_EVAL_LENGTHS + TEST_EVAL_LENGTHS, n_test=128, tasks=REGULAR, models=CLASSIC,
        backend="torch", curve_every=1000,
        per_task=(
            ("parity", TaskSettings(steps=5000)), ("even_pairs", TaskSettings(steps=20_000)),
            ("modular_arithmetic", TaskSettings(hidden=128)),
        ),
    ),
    "quick": Tier(
        hidden=32, seeds=1, learning_rates=(1e-3,), steps=1000, batch=32,
        lengths=SHORT_LENGTHS + (41, 60, 100, 200), n_test=16, tasks=tuple(TASKS), models=QUICK_MODELS,
    ),
    "standard": Tier(
        hidden=64, seeds=3, learning_rates=(1e-3,), steps=3000, batch=128,
        lengths=TRAIN_EVAL_LENGTHS + TEST_EVAL_LENGTHS, n_test=128, tasks=tuple(TASKS), models=ALL_MODELS,
        curve_every=500,
    ),
    "full": Tier(
        hidden=256, seeds=10, learning_rates=(1e-4, 3e-4, 5e-4), steps=1_000_000, batch=128,
        lengths=SHORT_LENGTHS + tuple(range(41, 501)), n_test=128, tasks=tuple(TASKS), models=ALL_MODELS,
        backend="torch",
    ),
}  # fmt: skip


def backend_for(tier: Tier) -> str:
    """The tier's backend, or numpy when torch is not installed."""
    if tier.backend == "torch" and importlib.util.find_spec("torch") is None:
        return "numpy"
    return tier.backend


# --------------------------------------------------------------------- jobs


def job_path(out: Path, job: dict) -> Path:
    """Where a job's result lives."""
    if job["model"] == "compiled":
        return out / job["task"] / "compiled.json"
    name = f"{job['model']}_seed{job['seed']}_lr{job['learning_rate']:g}_extra{job['extra_steps']}.json"
    return out / job["task"] / name


def header(job: dict, tier: Tier, seed: int) -> dict:
    source = git_commit(ROOT)
    return {
        "schema": SCHEMA,
        **job,
        "config": {**asdict(tier), "test_seed": seed},
        "versions": {
            "turingrnn": tr.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "git_commit": source["commit"],
            "turingrnn_modified": source["modified"],
        },
        "ticks_per_step": ticks_per_symbol(get_task(job["task"])).ticks_per_step,
        **({} if job["model"] == "compiled" else {"planned": tier.planned(job["task"])}),
    }


def planned_of(result: dict) -> dict[str, int]:
    """The steps, width and batch a stored job was trained with (results before ``planned`` was stored: from
    their tier's ``task_steps`` and ``task_hidden`` pairs)."""
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
    for engine in ENGINES:
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


# --------------------------------------------------------------------- report


def load_results(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("*/*.json"))]


def _spread(values: list[float]) -> dict[str, float]:
    return {"max": float(np.max(values)), "median": float(np.median(values)), "min": float(np.min(values))}


def aggregate(results: list[dict]) -> dict:
    """Per task and model: median, max and min over seeds and learning rates, and the median curves."""
    table: dict[str, dict[str, dict]] = {}
    for r in results:
        models = table.setdefault(r["task"], {})
        if r["model"] == "compiled":
            for engine, e in r["engines"].items():
                models[f"compiled {engine}"] = {
                    "runs": 1, "diverged": 0, "score": _spread([e["score"]]), "horizon": _spread([e["horizon"]]),
                    "train_score": _spread([e["train_score"]]) if e.get("train_score") is not None else None,
                    "sequence_accuracy": e["sequence_accuracy"], "per_token_accuracy": e["per_token_accuracy"],
                }  # fmt: skip
            continue
        entry = models.setdefault(r["model"], {"runs": 0, "diverged": 0, "_ok": [], "_teacher": [], "trained": []})
        entry["runs"] += 1
        if planned_of(r) not in entry["trained"]:
            entry["trained"].append(planned_of(r))
        if r["status"] == "ok":
            entry["_ok"].append(r["eval"])
            if "eval_teacher_forced" in r:
                entry["_teacher"].append(r["eval_teacher_forced"])
        else:
            entry["diverged"] += 1
    for models in table.values():
        for entry in models.values():
            ok = entry.pop("_ok", None)
            teacher = entry.pop("_teacher", None)
            if ok is None:
                continue
            if not ok:
                entry.update(score=None, horizon=None, train_score=None)
                continue
            for key in ("score", "horizon", "train_score"):
                values = [e[key] for e in ok if e.get(key) is not None]
                entry[key] = _spread(values) if values else None
            for key in ("sequence_accuracy", "per_token_accuracy"):
                entry[key] = {n: float(np.median([e[key][n] for e in ok])) for n in ok[0][key]}
            if teacher:
                entry["teacher_forced_score"] = _spread([e["score"] for e in teacher])
    return table


def _columns(table: dict) -> list[str]:
    present = {m for t in table.values() for m in t}
    return [m for m in VARIANTS if m in present] + [f"compiled {e}" for e in ENGINES if f"compiled {e}" in present]


def _cell(e: dict | None, key: str) -> str:
    if e is None:
        return "—"
    if e["score"] is None:
        return f"diverged ({e['diverged']}/{e['runs']})"
    s = e[key]
    if key == "horizon":
        return f"{s['median']:.0f} ({s['max']:.0f})"
    train = e.get("train_score")
    text = f"{100 * s['median']:.0f} ({100 * s['max']:.0f})"
    if train is not None:
        text += f" [{100 * train['median']:.0f}]"
    if e.get("diverged"):
        text += f" {e['diverged']}/{e['runs']} div."
    return text


def stale_cells(table: dict, tier: Tier | None) -> dict[tuple[str, str], list[dict]]:
    """``(task, model)`` cells with a run trained otherwise than ``tier`` now plans, and how they were trained."""
    if tier is None:
        return {}
    return {
        (t, m): e["trained"]
        for t, models in table.items()
        for m, e in models.items()
        if any(p != tier.planned(t) for p in e.get("trained", []))
    }


def markdown_table(table: dict, key: str = "score", tier: Tier | None = None, footnotes: bool = True) -> str:
    """One row per model, one column per task: ``median (max) [train median]`` of the score, or the horizon.

    With ``tier``, a cell holding runs trained otherwise than the tier now plans is marked †, and a
    footnote says how they were trained.
    """
    tasks = [t for t in TASKS if t in table]
    stale = stale_cells(table, tier)
    lines = [
        "| model | " + " | ".join(f"`{t}` ({get_task(t).chomsky})" for t in tasks) + " |",
        "|---|" + "---:|" * len(tasks),
    ]
    for m in _columns(table):
        cells = (_cell(table[t].get(m), key) + (" †" if (t, m) in stale else "") for t in tasks)
        lines.append(f"| `{m}` | " + " | ".join(cells) + " |")
    if stale and tier is not None and footnotes:
        lines.append("")
        for (t, m), trained in stale.items():
            how = "; ".join(f"{p['steps']:,} batches of {p['batch']}, hidden {p['hidden']}" for p in trained)
            p = tier.planned(t)
            lines.append(f"† `{m}` on `{t}`: trained with {how}; the tier now plans {p['steps']:,} batches of "
                         f"{p['batch']}, hidden {p['hidden']} (not yet rerun).  ")  # fmt: skip
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


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


CURVE_COLORS = {"train": "gray", "40": "tab:blue", "100": "tab:orange", "500": "tab:red"}
"""The colour of the training accuracy and of each probe length in the learning-curve figures."""


def draw_curve(ax: Any, curve: list[dict], x: list[float], lengths: Sequence[str] = ("40", "100", "500")) -> None:
    """One run's learning curve on ``ax``: the recent training accuracy and the accuracy at ``lengths``."""
    ax.plot(x, [p["train_accuracy"] for p in curve], color=CURVE_COLORS["train"], lw=0.8)
    for n in lengths:
        ax.plot(x, [p["per_token_accuracy"][n] for p in curve], color=CURVE_COLORS[n], lw=0.9)
    ax.set_ylim(-0.03, 1.03)


def curve_legend(plt: Any, lengths: Sequence[str] = ("40", "100", "500")) -> list[Any]:
    """Legend handles for :func:`draw_curve`'s lines."""
    keys = ("train",) + tuple(lengths)
    return [plt.Line2D([], [], color=CURVE_COLORS[k], label="training batches" if k == "train" else f"length {k}")
            for k in keys]  # fmt: skip


def save_figure(
    plt: Any, fig: Any, path: Path, title: str, handles: list[Any], *, ncol: int, bottom: float, dpi: int = 100
) -> None:
    """Legend below, title above, tight layout, written to ``path`` (its folder made), and closed."""
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=7 if ncol > 4 else 8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, bottom, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def plot(table: dict, path: Path, title: str, metric: str = "sequence_accuracy") -> None:
    plt = pyplot()
    tasks = [t for t in TASKS if t in table]
    cols = min(4, len(tasks))
    rows = (len(tasks) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False, sharey=True)
    models = _columns(table)
    cmap = plt.get_cmap("tab20")
    styles: dict[str, dict[str, Any]] = {
        "compiled exact": dict(color="black", lw=2.5, ls="-"),
        "compiled float64": dict(color="tab:purple", lw=2, ls="--"),
        "compiled float32": dict(color="tab:pink", lw=2, ls=":"),
    }
    trained = [m for m in models if not m.startswith("compiled")]
    for k, m in enumerate(trained):
        styles[m] = dict(color=cmap(k % 20), lw=1.2, ls="-" if k < 20 else "--")
    for ax, task in zip(axes.flat, tasks, strict=False):
        for model in models:
            entry = table[task].get(model)
            if entry is None or entry.get(metric) is None:
                continue
            acc = entry[metric]
            lengths = sorted(acc, key=int)
            ax.plot([int(n) for n in lengths], [acc[n] for n in lengths], marker=".", ms=3, label=model,
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
    handles: dict[str, Any] = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    legend_rows = (len(handles) + 7) // 8
    save_figure(plt, fig, path, title, list(handles.values()), ncol=min(8, len(handles)),
                bottom=0.03 + 0.03 * legend_rows, dpi=110)  # fmt: skip


def plot_curves(results: list[dict], path: Path, title: str) -> None:
    """Learning curves: training accuracy and the accuracy at lengths 40, 100 and 500, every seed."""
    plt = pyplot()
    runs = [r for r in results if r["model"] != "compiled" and r.get("train", {}).get("curve")]
    if not runs:
        return
    tasks = [t for t in TASKS if any(r["task"] == t for r in runs)]
    models = [m for m in VARIANTS if any(r["model"] == m for r in runs)]
    fig, axes = plt.subplots(len(models), len(tasks), figsize=(3.6 * len(tasks), 2.6 * len(models)),
                             squeeze=False, sharex=True, sharey=True)  # fmt: skip
    for i, m in enumerate(models):
        for j, t in enumerate(tasks):
            ax = axes[i, j]
            for r in (r for r in runs if r["model"] == m and r["task"] == t):
                draw_curve(ax, r["train"]["curve"], [p["step"] for p in r["train"]["curve"]])
            ax.set_ylim(-0.03, 1.03)
            if i == 0:
                ax.set_title(t, fontsize=9)
            if j == 0:
                ax.set_ylabel(m, fontsize=9)
            if i == len(models) - 1:
                ax.set_xlabel("batches")
    save_figure(plt, fig, path, title, curve_legend(plt), ncol=4, bottom=0.05)


def write_into_docs(docs: Path, tier_name: str, text: str) -> bool:
    """Replace the generated block of ``tier_name`` in ``docs`` (between its BEGIN and END markers) by ``text``."""
    begin, end = f"<!-- BEGIN generated: tier {tier_name} -->", f"<!-- END generated: tier {tier_name} -->"
    page = docs.read_text() if docs.exists() else ""
    if begin not in page or end not in page:
        print(f"{docs}: no generated block for tier {tier_name} (markers {begin!r} ... {end!r}); not updated",
              file=sys.stderr)  # fmt: skip
        return False
    head, rest = page.split(begin, 1)
    _, tail = rest.split(end, 1)
    docs.write_text(f"{head}{begin}\n{text}{end}{tail}")
    return True


def report(out: Path, figures: Path | None, tier_name: str, docs: Path | None = None) -> dict:
    """Aggregate the result files of ``out``: summary.json, table.md, plots (with ``figures``), the docs block."""
    results = load_results(out)
    table = aggregate(results)
    tier = TIERS.get(tier_name)
    (out / "summary.json").write_text(json.dumps(table, indent=1) + "\n")
    noise = ""
    if tier is not None:
        tests = [n for n in tier.lengths if n >= FIRST_TEST_LENGTH]
        noise = (f"Sampling noise of a score: at most {100 * sampling_noise(tier.n_test, len(tests)):.1f} points "
                 f"(standard error; {tier.n_test} examples at each of {len(tests)} test lengths).\n\n")  # fmt: skip
    runs = [r for r in results if r["model"] != "compiled"]
    seconds = sum(r.get("seconds", 0.0) for r in results)
    text = (
        "Score in % over the test lengths (median over seeds, max in brackets) [median score on the training "
        "lengths]:\n\n" + markdown_table(table, tier=tier) + "\n" + noise + "Horizon (median (max)):\n\n"
        + markdown_table(table, "horizon", tier=tier, footnotes=False) + "\n"
        + f"{len(runs)} trained jobs and {len(results) - len(runs)} compiled jobs; {seconds / 3600:.2f} hours of "
        "job time in all (the sum over jobs, each on one core).\n"
    )  # fmt: skip
    (out / "table.md").write_text(text + "\n" + ticks_table(results))
    if docs is not None:
        write_into_docs(docs, tier_name, text)
    if figures is not None:
        for metric, suffix in (("sequence_accuracy", ""), ("per_token_accuracy", "_per_token")):
            title = f"tier {tier_name}: {metric.replace('_', ' ')} by length (trained: median over seeds, lengths 1-40)"
            plot(table, figures / f"compiled_vs_trained_{tier_name}{suffix}.png", title, metric)
        plot_curves(results, figures / f"learning_curves_{tier_name}.png",
                    f"tier {tier_name}: per-token accuracy during training (every seed)")  # fmt: skip
    return table


# --------------------------------------------------------------------- main


def parse_names(text: str | None, default: Sequence[str], kind: str) -> list[str]:
    names = list(default) if not text else [n.strip() for n in text.split(",") if n.strip()]
    for n in names:
        if kind == "task":
            get_task(n)  # raises UnknownTaskError listing the tasks
        elif n not in VARIANTS:
            raise UnknownCellError(f"unknown model {n!r}; models are: {', '.join(VARIANTS)}")
    return names


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
