"""The LSTM on cycle navigation: which change of the control protocol makes it generalize?

Usage:
    python experiments/cycle_lstm_search.py --hidden 256 --lr 1e-3 --steps 20000 --seed 0 [--init haiku]
        [--out experiments/results/cycle_lstm_search] [--checkpoint model.npz]
    python experiments/cycle_lstm_search.py --report [--docs docs/results.md]

One run trains an LSTM (forget bias 1, ``Linear(ReLU(h))`` readout, float32, the torch backend,
batches of 128 over lengths 1-40: the control tier's protocol) on cycle navigation with the given
width, learning rate, steps, seed and initialisation, and scores it on the control tier's test sets
(the 11 training lengths and the 20 test lengths, 128 examples each, test seed 0). ``--init haiku``
replaces PyTorch's initialisation by Haiku's, as Delétang et al. train: weights from a normal
distribution truncated at two standard deviations, standard deviation ``1/sqrt(fan_in)`` (the fan-in
of ``hk.LSTM``'s one linear map over ``[x, h]`` is ``inputs + hidden``), zero biases, and the forget
bias of 1 kept. Every ``steps // 8`` batches (at least 1,000) the run records the accuracy at lengths
40, 100, 200 and 500 on 64 probe examples each (probe seed 5).

Each run is one JSON file under ``--out``, named by its settings; a run whose file exists is not run
again. ``--report`` prints the table of every stored run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from turingrnn.learning.initialisation import haiku_init  # noqa: E402
from turingrnn.learning.protocol import (  # noqa: E402
    TEST_EVAL_LENGTHS,
    TRAIN_EVAL_LENGTHS,
    evaluate_on_task,
    model_for_task,
    train_on_task,
)
from turingrnn.learning.tasks import get_task  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "experiments/results/cycle_lstm_search"
PROBE_LENGTHS = (40, 100, 200, 500)
TAG = re.compile(
    r"cycle_navigation_lstm_h(?P<h>\d+)_lr(?P<lr>[0-9.e-]+)_s(?P<s>\d+)_seed(?P<seed>\d+)_b\d+_(?P<init>\w+)"
)


def tag(hidden: int, lr: float, steps: int, seed: int, batch: int, init: str) -> str:
    """The file name (without ``.json``) of a run's result."""
    return f"cycle_navigation_lstm_h{hidden}_lr{lr:g}_s{steps}_seed{seed}_b{batch}_{init}"


def run(args: argparse.Namespace) -> dict:
    """Train and score one LSTM; return its result (also written under ``args.out``)."""
    import torch

    torch.set_num_threads(1)
    name = tag(args.hidden, args.lr, args.steps, args.seed, args.batch, args.init)
    task = get_task("cycle_navigation")
    model = model_for_task(task, "lstm", args.hidden, seed=args.seed, dtype="float32", readout="relu", forget_bias=1.0)
    if args.init == "haiku":
        haiku_init(model, args.seed)
    curve: list = []
    every = max(args.steps // 8, 1000)

    def record(step) -> None:  # type: ignore[no-untyped-def]
        if (step.step + 1) % every == 0:
            acc = evaluate_on_task(task, model, PROBE_LENGTHS, 64, seed=5).summary["per_token_accuracy"]
            curve.append((step.step + 1, round(step.loss, 4), {k: round(v, 3) for k, v in acc.items()}))
            print(name, curve[-1], flush=True)

    started = time.monotonic()
    train_on_task(task, model, steps=args.steps, batch=args.batch, learning_rate=args.lr, seed=args.seed,
                  backend="torch", callback=record)  # fmt: skip
    seconds = time.monotonic() - started
    summary = evaluate_on_task(task, model, TRAIN_EVAL_LENGTHS + TEST_EVAL_LENGTHS, 128, seed=0).summary
    result = {"tag": name, "seconds": seconds, "eval": summary, "curve": curve}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result) + "\n")
    if args.checkpoint:
        from turingrnn.learning.checkpoint import save_checkpoint

        save_checkpoint(model, args.checkpoint, meta={"task": "cycle_navigation", "steps": args.steps})
    return result


def report(out: Path) -> str:
    """Markdown: one row per stored run, its settings, score, train score, horizon and seconds."""
    lines = ["| hidden | learning rate | batches | seed | init | score | train score | horizon | s |",
             "|---:|---:|---:|---:|---|---:|---:|---:|---:|"]  # fmt: skip
    rows = []
    for path in sorted(out.glob("*.json")):
        r = json.loads(path.read_text())
        m = TAG.fullmatch(r["tag"])
        if m is None:
            raise SystemExit(f"{path}: tag {r['tag']!r} is not one this script writes")
        rows.append((int(m["h"]), float(m["lr"]), int(m["s"]), int(m["seed"]), m["init"], r))
    for h, lr, s, seed, init, r in sorted(rows, key=lambda x: x[:5]):
        e = r["eval"]
        lines.append(f"| {h} | {lr:g} | {s:,} | {seed} | {init} | {100 * e['score']:.0f} | "
                     f"{100 * e['train_score']:.0f} | {e['horizon']} | {r['seconds']:.0f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--init", choices=("torch", "haiku"), default="torch")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--checkpoint", type=Path, help="also write the trained model here (.npz)")
    parser.add_argument("--report", action="store_true", help="print the table of the stored runs")
    parser.add_argument("--docs", type=Path, help="with --report: page whose block 'cycle_lstm_search' is rewritten")
    args = parser.parse_args(argv)
    if args.report:
        text = report(args.out)
        print(text)
        if args.docs:
            from turingrnn.learning.comparison_report import write_into_docs

            write_into_docs(args.docs, "cycle_lstm_search", text)
        return 0
    name = tag(args.hidden, args.lr, args.steps, args.seed, args.batch, args.init)
    if (args.out / f"{name}.json").exists():
        print(f"{name}: already stored", file=sys.stderr)
        return 0
    r = run(args)
    print(name, f"{r['seconds']:.0f} s", {k: v for k, v in r["eval"].items() if not isinstance(v, dict)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
