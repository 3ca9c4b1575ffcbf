"""The figures of the comparison: accuracy by length per task, and learning curves.

matplotlib is an optional extra (``pip install turingrnn[plot]``): it is
imported only when a figure is drawn (:func:`pyplot`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .comparison import VARIANTS, model_columns
from .tasks import TASKS, get_task


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
    """``metric`` by length, one panel per task, one line per model (trained: the median over seeds)."""
    plt = pyplot()
    tasks = [t for t in TASKS if t in table]
    cols = min(4, len(tasks))
    rows = (len(tasks) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False, sharey=True)
    models = model_columns(table)
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
