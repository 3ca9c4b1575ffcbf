"""The report of the comparison: the stored results aggregated into summary.json, table.md and the docs block.

:func:`report` reads every result file of a tier's folder (:func:`load_results`),
aggregates them per task and model (:func:`aggregate`: median, max and min over
seeds), writes ``summary.json`` and ``table.md`` (:func:`markdown_table`,
:func:`ticks_table`), rewrites the tier's generated block of a docs page
(:func:`write_into_docs`) and draws the figures (:mod:`.comparison_figures`).
A cell with runs trained otherwise than the tier now plans is marked †.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .comparison import TIERS, Tier, model_columns
from .comparison_figures import plot, plot_curves
from .comparison_jobs import planned_of
from .protocol import FIRST_TEST_LENGTH, sampling_noise
from .tasks import TASKS, get_task


def load_results(out: Path) -> list[dict]:
    """Every result file of ``out`` (``<task>/<job>.json``), in path order."""
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
    for m in model_columns(table):
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
