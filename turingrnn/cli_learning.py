"""The command line of the trained side: ``turingrnn train``, ``evaluate`` and ``compare``.

* ``turingrnn train TASK --cell NAME [--hidden H --layers L --steps N --lr X --seed S ...] -o model.npz``
  trains a model on the task's training lengths and writes a checkpoint
  (the arrays and a JSON header: cell, sizes, task, seed, steps, version, commit).
* ``turingrnn evaluate model.npz [--lengths ...] [--n N] [--json]``: the score, the accuracy at each
  length, the train-range score and the horizon.
* ``turingrnn compare TASK [CHECKPOINT ...] [--engines exact,float64,float32]``: the task's compiled
  network and the checkpoints on the same test set, as one table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .errors import CheckpointError, TaskError, TrainingConfigError
from .learning.checkpoint import load_checkpoint, save_checkpoint
from .learning.models import MODELS, get_spec
from .learning.protocol import (
    TEST_EVAL_LENGTHS,
    TRAIN_EVAL_LENGTHS,
    evaluate_on_task,
    evaluation_sets,
    model_for_task,
    parse_lengths,
    sampling_noise,
    summarize,
    train_on_task,
)
from .learning.tasks import ENGINES, TASKS, get_task, run_compiled
from .learning.training import BACKENDS

DEFAULT_LENGTHS = ",".join(str(n) for n in TRAIN_EVAL_LENGTHS + TEST_EVAL_LENGTHS)


def _option(text: str) -> tuple[str, Any]:
    key, eq, value = text.partition("=")
    if not eq or not key:
        raise argparse.ArgumentTypeError(f"--option takes KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def add_commands(sub: Any) -> dict[str, Any]:
    """Add ``train``, ``evaluate`` and ``compare`` to the ``turingrnn`` subparsers; return their handlers."""
    tr = sub.add_parser("train", help="train a recurrent model on a task and write a checkpoint")
    tr.add_argument("task", help=f"one of: {', '.join(TASKS)}")
    tr.add_argument("--cell", required=True, help=f"one of: {', '.join(MODELS)}")
    tr.add_argument("--hidden", type=int, default=64, metavar="H", help="hidden units (default 64)")
    tr.add_argument("--layers", type=int, default=1, metavar="L", help="stacked layers (default 1)")
    tr.add_argument("--bidirectional", action="store_true", help="read the input in both directions")
    tr.add_argument("--steps", type=int, default=1000, metavar="N", help="training batches (default 1000)")
    tr.add_argument("--batch", type=int, default=32, metavar="B", help="examples per batch (default 32)")
    tr.add_argument("--lr", type=float, default=1e-3, metavar="X", help="Adam learning rate (default 1e-3)")
    tr.add_argument("--seed", type=int, default=0, metavar="S", help="initialisation and data seed (default 0)")
    tr.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    tr.add_argument("--readout", choices=("linear", "relu"), default="linear")
    tr.add_argument("--option", type=_option, action="append", default=[], metavar="KEY=VALUE",
                    help="a cell option, e.g. forget_bias=1 (repeatable)")  # fmt: skip
    tr.add_argument("--backend", choices=BACKENDS, default="numpy")
    tr.add_argument("--device", default="cpu", help="torch device: cpu or cuda (torch backend)")
    tr.add_argument("--threads", type=int, default=1, metavar="N",
                    help="torch CPU threads (torch backend; default 1: fastest for these sizes)")  # fmt: skip
    tr.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.npz", help="checkpoint to write")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.add_argument("--json", action="store_true", help="print one JSON object")

    ev = sub.add_parser("evaluate", help="score a checkpoint on its task's test lengths")
    ev.add_argument("checkpoint", type=Path)
    ev.add_argument("--lengths", default=DEFAULT_LENGTHS, help="e.g. 1-40,41,60,100-500/5 (default: 11 training "
                    "lengths and 20 test lengths over 41-500)")  # fmt: skip
    ev.add_argument("--n", type=int, default=128, help="test examples per length (default 128)")
    ev.add_argument("--seed", type=int, default=0, help="test-set seed (default 0)")
    ev.add_argument("--teacher", action="store_true", help="encoder-decoder: feed the targets (teacher forcing)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")

    cm = sub.add_parser("compare", help="the compiled network and trained checkpoints on the same test set")
    cm.add_argument("task", help=f"one of: {', '.join(TASKS)}")
    cm.add_argument("checkpoints", nargs="*", type=Path, help="checkpoints trained on TASK")
    cm.add_argument("--engines", default="exact", help=f"compiled engines, comma-separated ({', '.join(ENGINES)})")
    cm.add_argument("--lengths", default=DEFAULT_LENGTHS, help="as for evaluate")
    cm.add_argument("--n", type=int, default=32, help="test examples per length (default 32)")
    cm.add_argument("--seed", type=int, default=0, help="test-set seed (default 0)")
    cm.add_argument("--json", action="store_true", help="print one JSON object")
    return {"train": _train, "evaluate": _evaluate, "compare": _compare}


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise TrainingConfigError(f"--{name} must be a positive integer, got {value}")


def _train(args: argparse.Namespace) -> int:
    task = get_task(args.task)
    get_spec(args.cell)
    for name in ("hidden", "layers", "steps", "batch", "threads"):
        _positive(name, getattr(args, name))
    if args.backend == "torch":
        from .learning.torch_backend import require_torch

        require_torch().set_num_threads(args.threads)
    if args.output.suffix != ".npz":
        raise CheckpointError(f"-o {str(args.output)!r}: a checkpoint file name must end in .npz")
    options = dict(args.option)
    model = model_for_task(
        task, args.cell, args.hidden, seed=args.seed, dtype=args.dtype, readout=args.readout, layers=args.layers,
        bidirectional=args.bidirectional, **options,
    )  # fmt: skip
    history = train_on_task(
        task, model, steps=args.steps, batch=args.batch, learning_rate=args.lr, seed=args.seed,
        backend=args.backend, device=args.device, progress=not args.no_progress and not args.json,
    )  # fmt: skip
    tail = max(1, min(50, history.steps))
    meta = {
        "task": task.name,
        "seed": args.seed,
        "steps": history.steps,
        "batch": args.batch,
        "learning_rate": args.lr,
        "backend": args.backend,
        "seconds": history.seconds,
        "final_loss": sum(history.losses[-tail:]) / tail if history.losses else None,
        "final_accuracy": sum(history.accuracies[-tail:]) / tail if history.accuracies else None,
        "interrupted": history.interrupted,
    }
    save_checkpoint(model, args.output, meta=meta)
    out = {"checkpoint": str(args.output), "cell": args.cell, "parameters": model.parameter_count, **meta}
    if args.json:
        print(json.dumps(out))
    else:
        acc = meta["final_accuracy"]
        print(
            f"{args.cell} on {task.name}: {history.steps} batches in {history.seconds:.1f} s, "
            f"training accuracy (last {tail} batches) {100 * acc:.1f}%, {model.parameter_count} parameters; "
            f"wrote {args.output}"
        )
    return 130 if history.interrupted else 0


def _evaluate(args: argparse.Namespace) -> int:
    _positive("n", args.n)
    checkpoint = load_checkpoint(args.checkpoint)
    task_name = checkpoint.meta.get("task")
    if task_name not in TASKS:
        raise CheckpointError(f"{str(args.checkpoint)!r} names no known task (meta.task = {task_name!r})")
    task = get_task(task_name)
    if args.teacher and not hasattr(checkpoint.model, "teacher_forced"):
        raise TrainingConfigError(f"--teacher applies to encoder-decoder models, not {checkpoint.model.name}")
    lengths = parse_lengths(args.lengths)
    result = evaluate_on_task(task, checkpoint.model, lengths, args.n, args.seed, teacher=args.teacher)
    summary = result.summary
    tests = [n for n in lengths if n >= 41]
    out = {
        "checkpoint": str(args.checkpoint), "task": task.name, "cell": checkpoint.model.name, "n": args.n,
        "seed": args.seed, "noise": sampling_noise(args.n, len(tests)) if tests else None, **summary,
    }  # fmt: skip
    if args.json:
        print(json.dumps(out))
        return 0
    print(_describe(f"{checkpoint.model.name} ({args.checkpoint})", summary))
    print("length  per-token  sequence")
    for n in lengths:
        print(
            f"{n:6d}  {100 * summary['per_token_accuracy'][str(n)]:8.1f}%  "
            f"{100 * summary['sequence_accuracy'][str(n)]:7.1f}%"
        )
    return 0


def _describe(name: str, s: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "—" if v is None else f"{100 * v:.1f}"

    return f"{name}: score {pct(s['score'])}, train score {pct(s['train_score'])}, horizon {s['horizon']}"


def _compare(args: argparse.Namespace) -> int:
    _positive("n", args.n)
    task = get_task(args.task)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ENGINES:
            raise TaskError(f"unknown engine {e!r}; engines are: {', '.join(ENGINES)}")
    lengths = parse_lengths(args.lengths)
    tests = evaluation_sets(task, lengths, args.n, args.seed)
    rows: list[tuple[str, dict[str, Any]]] = []
    for engine in engines:
        answers = {n: run_compiled(task, exs, engine=engine) for n, exs in tests.items()}
        rows.append((f"compiled {engine}", summarize(answers, tests)))
    for path in args.checkpoints:
        checkpoint = load_checkpoint(path)
        if checkpoint.meta.get("task") != task.name:
            raise CheckpointError(f"{str(path)!r} was trained on {checkpoint.meta.get('task')!r}, not {task.name!r}")
        rows.append((f"{checkpoint.model.name} ({path.name})", evaluate_on_task(
            task, checkpoint.model, lengths, args.n, args.seed).summary))  # fmt: skip
    if args.json:
        print(json.dumps({"task": task.name, "n": args.n, "seed": args.seed, "lengths": list(lengths),
                          "models": {name: s for name, s in rows}}))  # fmt: skip
        return 0
    print(f"{task.name}: {args.n} examples per length, seed {args.seed}; score = per-token accuracy (%) over lengths "
          ">= 41, train score over lengths <= 40, horizon = longest length up to which every length is >= 99% "
          "right")  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print(f"{'model':<{width}}  score  train  horizon")
    for name, s in rows:
        score = "—" if s["score"] is None else f"{100 * s['score']:5.1f}"
        train = "—" if s["train_score"] is None else f"{100 * s['train_score']:5.1f}"
        print(f"{name:<{width}}  {score:>5}  {train:>5}  {s['horizon']:>7}")
    return 0
