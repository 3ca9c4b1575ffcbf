"""Does a trained network navigate the cycle, or count? Accuracy on cycle navigation by walk excursion.

A network can answer cycle navigation as a five-state automaton (right at any
length) or by keeping the running count in an analogue variable and reading its
residue at the end (right only while the count stays in the range it was
trained on). A counter's accuracy falls once the walk's *excursion* (the
largest absolute running count, :func:`excursion`) leaves the training range,
at every length alike; an automaton's does not depend on it. :func:`probe`
scores a checkpoint in bins of the excursion (:data:`BINS`), per length;
:func:`table` prints the result. The script is ``experiments/cycle_probe.py``.

>>> excursion(TaskExample("1121220", ("1",))), [bin_label(k) for k in (0, 1, len(BINS) - 1)]
(2, ['0-5', '6-10', '51+'])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import TaskError
from .checkpoint import load_checkpoint
from .protocol import evaluation_sets, predict
from .tasks import TaskExample, get_task

BINS = (0, 6, 11, 16, 21, 31, 51)
"""Lower edges of the excursion bins: 0-5, 6-10, 11-15, 16-20, 21-30, 31-50, 51 and more."""
MOVES = {"0": 0, "1": 1, "2": -1}
"""The step on the cycle of each move symbol."""


def excursion(example: TaskExample) -> int:
    """The largest absolute running count of the walk (0 for the empty walk)."""
    running = np.cumsum([MOVES[s] for s in example.input])
    return int(np.abs(running).max()) if running.size else 0


def bin_label(k: int) -> str:
    """The label of excursion bin ``k`` (an index into :data:`BINS`)."""
    low = BINS[k]
    return f"{low}+" if k == len(BINS) - 1 else f"{low}-{BINS[k + 1] - 1}"


def probe(path: Path, lengths: tuple[int, ...], n: int, seed: int) -> dict:
    """Accuracy and counts per (length, excursion bin) of the checkpoint at ``path``.

    ``n`` walks at each of ``lengths``, drawn with ``numpy.random.default_rng([seed, length])``.

    Raises:
        TaskError: when the checkpoint was not trained on cycle navigation.
    """
    checkpoint = load_checkpoint(path)
    task_name = checkpoint.meta.get("task")
    if task_name != "cycle_navigation":
        raise TaskError(f"{path}: a checkpoint trained on {task_name!r}; this probe reads cycle_navigation models")
    task = get_task("cycle_navigation")
    tests = evaluation_sets(task, lengths, n, seed)
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for length, examples in tests.items():
        answers = predict(task, checkpoint.model, examples)
        right = np.array([a == ex.target for a, ex in zip(answers, examples, strict=True)])
        bins = np.searchsorted(BINS, [excursion(ex) for ex in examples], side="right") - 1
        rows[str(length)] = {
            bin_label(k): {"accuracy": float(right[bins == k].mean()), "walks": int((bins == k).sum())}
            for k in range(len(BINS))
            if (bins == k).any()
        }
        rows[str(length)]["all"] = {"accuracy": float(right.mean()), "walks": len(examples)}
    model = checkpoint.header.get("model", {})
    return {"checkpoint": str(path), "cell": model.get("cell"), "hidden": model.get("hidden_size"),
            "steps": checkpoint.meta.get("steps"), "by_length": rows}  # fmt: skip


def table(result: dict) -> str:
    """Markdown: one row per length, one column per excursion bin, ``accuracy % (walks)``."""
    labels = [bin_label(k) for k in range(len(BINS))] + ["all"]
    lines = ["| length | " + " | ".join(f"excursion {b}" if b != "all" else "all" for b in labels) + " |",
             "|---:|" + "---:|" * len(labels)]  # fmt: skip
    for length, bins in result["by_length"].items():
        cells = [f"{100 * bins[b]['accuracy']:.0f} ({bins[b]['walks']})" if b in bins else "—" for b in labels]
        lines.append(f"| {length} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
