"""``turingrnn run``: one word or a batch of words through a compiled network, in bounded memory.

* ``turingrnn run MACHINE --input WORD [--engine E] [--kernel K] [--verify] [--progress] [--json]``
  keeps only the last readouts, so memory stays flat however long the run.
* ``--trace`` prints every configuration as it is reached, ``--record every:N`` every ``N``-th
  (and the last); both run the exact network in chunks, each resumed from the exact values the
  last one ended with, so they too hold one chunk of readouts at a time. With ``--json`` each
  configuration is a JSON line (``{"step": K, "configuration": "..."}``) before the result's.
* ``--inputs FILE`` runs every word of a file in one call (one batch on the float core): one JSON
  line per word, then a summary line (``words``, ``machine_steps``, ``seconds``, ``steps_per_s``,
  ``flagged``). A line of the file is a word as it stands, a JSON string (``""`` is the empty
  word) or a JSON object ``{"word": "...", "head": K}``; blank lines are skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from .cli_common import (
    EXIT_DIVERGED,
    EXIT_OK,
    EXIT_OUT_OF_STEPS,
    EXIT_PROBLEMS,
    MP_PREC,
    UsageError,
    network_of,
    nonnegative,
    positive,
)
from .compile.network import Network
from .engines.dispatch import engine_names, lookup, run_chunks, run_starts
from .engines.fast import KERNELS
from .engines.inputs import Start, prepare
from .engines.trace import Trace
from .errors import InputError, TuringRNNError
from .machines.interpreter import DEFAULT_MAX_STEPS, RunResult, Status, finish
from .machines.interpreter import steps as iter_steps
from .progress import Progress, ProgressBar

FLOAT_ENGINES = ("float64", "float32")
CHUNK_STEPS = 10_000
"""``--trace`` and ``--record every:N`` hold at most this many machine steps of readouts at a time."""


def record_option(text: str) -> int | None:
    """An argparse type for ``--record``: ``final`` (``None``) or ``every:N`` with ``N >= 1``."""
    if text == "final":
        return None
    kind, _, count = text.partition(":")
    if kind == "every":
        try:
            every = int(count)
        except ValueError:
            every = 0
        if every >= 1:
            return every
    raise argparse.ArgumentTypeError(f"expected 'final' or 'every:N' with an integer N >= 1, got {text!r}")


def add_run_command(sub: Any, network_source: Callable[[argparse.ArgumentParser], None]) -> None:
    """The ``run`` parser and its options."""
    r = sub.add_parser("run", help="run a compiled network on a word, or on every word of a file")
    network_source(r)
    r.add_argument("--input", default=None, metavar="WORD", help="input word (default: empty)")
    r.add_argument(
        "--inputs",
        metavar="FILE",
        help="run every word of FILE (a word, a JSON string or a JSON object {word, head} per line) in one batch",
    )
    r.add_argument("--head", type=int, default=0, metavar="K", help="Turing machines: head on index K of WORD")
    r.add_argument("--max-steps", type=nonnegative, default=DEFAULT_MAX_STEPS, metavar="N", help="machine step limit")
    r.add_argument(
        "--engine",
        choices=engine_names(),
        default="exact",
        help="exact (rational, the default); float64 or float32 (Numba float core); mp (mpmath, --prec bits)",
    )
    r.add_argument(
        "--prec", type=positive, default=None, metavar="BITS", help=f"significand bits for --engine mp ({MP_PREC})"
    )
    r.add_argument(
        "--kernel",
        choices=KERNELS,
        default=None,
        help="exact and float engines: auto (the default), generic or generated kernel (docs/simulation.md)",
    )
    r.add_argument(
        "--record",
        type=record_option,
        default=None,
        metavar="final|every:N",
        help="final (the default): the last configuration only; every:N: also every N-th step's, as it is reached",
    )
    r.add_argument("--trace", action="store_true", help="print every configuration as it is reached")
    r.add_argument("--verify", action="store_true", help="also check every step against the interpreter")
    r.add_argument(
        "--progress",
        action="store_true",
        help="show steps, depth and steps/s on stderr; Ctrl-C stops with the partial result",
    )


def _check_usage(args: argparse.Namespace) -> None:
    if args.engine != "mp" and args.prec is not None:
        raise UsageError(f"--prec sets the mp engine's precision; it does nothing with --engine {args.engine}")
    if args.kernel is not None and args.engine == "mp":
        raise UsageError(
            "--kernel chooses the exact engine's or the float core's kernel; it does nothing with --engine mp"
        )
    if args.progress and args.engine != "exact":
        raise UsageError("--progress needs --engine exact")
    recorded = args.trace or args.record is not None
    if recorded and args.engine != "exact":
        raise UsageError("--trace and --record every:N run the exact engine in chunks; they need --engine exact")
    if args.trace and args.record is not None:
        raise UsageError("--trace prints every configuration; --record every:N a selection: give one of them")
    if args.inputs is not None:
        if args.input is not None:
            raise UsageError("give --input WORD or --inputs FILE, not both")
        if recorded or args.progress:
            raise UsageError("--inputs runs a batch: --trace, --record and --progress are for one --input")


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options for the chosen engine's runner, keeping only the last readouts."""
    options: dict[str, Any] = {"max_steps": args.max_steps, "record": "final"}
    if args.engine == "mp":
        options["prec"] = MP_PREC if args.prec is None else args.prec
    elif args.engine in FLOAT_ENGINES or args.kernel is not None:
        options["kernel"] = args.kernel or "auto"
    return options


def result_of(net: Network, trace: Trace, word: str, head: int) -> tuple[RunResult, int | None, str | None]:
    """The machine-level result of a run, the step that left the code and why (if any).

    A run that left the code shows its last step that was still exact, with the status ``flagged``.
    """
    diverged = trace.diverged_at
    if diverged is None:
        return trace.decode(), None, None
    last = max(diverged - 1, 0)
    if diverged == 0:  # not even the input fits: show the initial configuration, known exactly
        configuration = next(iter_steps(net.machine, word, head=head))
    else:
        configuration = trace.configuration(last)
    result = replace(finish(net.machine, last, configuration, None), status=Status.FLAGGED, reason="left the code")
    divergence = trace.info.get("divergence", trace.divergence)  # the float core's names its step
    return result, diverged, divergence


class _ChunkProgress:
    """One progress line over all chunks of a run: each chunk's snapshots, shifted by the steps before it."""

    def __init__(self, max_steps: int) -> None:
        self.bar, self.max_steps, self.started = ProgressBar(), max_steps, time.perf_counter()
        self.steps = self.ticks = 0
        self.last: Progress | None = None

    def __call__(self, p: Progress) -> None:
        seconds = time.perf_counter() - self.started
        shifted = replace(p, steps=self.steps + p.steps, ticks=self.ticks + p.ticks, max_steps=self.max_steps)
        self.last = replace(shifted, seconds=seconds, done=False, interrupted=False)
        if p.interrupted or not p.done:
            self.bar(replace(self.last, done=p.interrupted, interrupted=p.interrupted))

    def advance(self, trace: Trace) -> None:
        self.steps += trace.steps
        self.ticks += trace.ticks

    def end(self) -> None:
        if self.last is not None and not self.last.interrupted:
            self.bar(replace(self.last, steps=self.steps, ticks=self.ticks, done=True))


def _recorded(net: Network, args: argparse.Namespace, emit: Callable[[int, Any], None]) -> tuple[Trace, int, int]:
    """Run the exact network in chunks, emitting the configurations asked for; the last chunk, steps and ticks."""
    every = 1 if args.trace else args.record
    chunk = every * max(1, CHUNK_STEPS // every)
    record = "steps" if every < chunk or every == 1 else "final"
    bar = _ChunkProgress(args.max_steps) if args.progress else None
    steps = ticks = 0
    word = args.input or ""
    if record == "final":  # a chunk keeps its last readouts only: step 0 comes from a run of no steps
        emit(0, lookup("exact").runner(net, prepare(net, word, args.head), max_steps=0).configuration(0))
    trace: Trace | None = None
    kernel = {"kernel": args.kernel} if args.kernel else {}
    chunks = run_chunks(
        net, word, head=args.head, chunk_steps=chunk, max_steps=args.max_steps, record=record, progress=bar, **kernel
    )
    for offset, trace in chunks:
        if record == "steps":  # a resumed chunk's step 0 was the last one's final step
            wanted = range(0 if offset == 0 else 1, trace.steps + 1)
        else:
            wanted = range(trace.steps, trace.steps + 1) if trace.steps else range(0)
        for k in wanted:
            if (offset + k) % every == 0:
                emit(offset + k, trace.configuration(k))
        steps, ticks = offset + trace.steps, ticks + trace.ticks
        if bar is not None:
            bar.advance(trace)
    if bar is not None:
        bar.end()
    assert trace is not None  # run_chunks yields at least one chunk
    if steps % every:  # the last configuration, when it is not on the grid
        emit(steps, trace.configuration(trace.steps))
    return trace, steps, ticks


def run_command(args: argparse.Namespace) -> int:
    """``turingrnn run``."""
    _check_usage(args)
    net = network_of(args)
    if args.inputs is not None:
        return _batch(net, args)
    from .check.verify import verify

    word = args.input or ""
    if args.trace or args.record is not None:

        def emit(step: int, configuration: Any) -> None:
            line = {"step": step, "configuration": str(configuration)}
            print(json.dumps(line) if args.json else f"step {step}: {configuration}", flush=True)

        trace, steps, ticks = _recorded(net, args, emit)
        result, diverged_at, divergence = trace.decode(), None, None
        result = replace(result, steps=steps)
    else:
        options = engine_options(args) | ({"progress": True} if args.progress else {})
        trace = lookup(args.engine).runner(net, prepare(net, word, args.head), **options)
        result, diverged_at, divergence = result_of(net, trace, word, args.head)
        ticks = trace.ticks if diverged_at is None else result.steps * net.ticks_per_step
    verified = False
    if args.verify:
        verified = verify(net.machine, [(word, args.head)], net=net, max_steps=args.max_steps).ok
    if args.json:
        out: dict[str, Any] = {"machine": net.machine.name, "kind": net.machine.kind, "engine": args.engine}
        out |= result.to_dict()
        out |= {"ticks": ticks, "neurons": net.size, "construction": net.construction, "verified": verified}
        if args.engine != "exact":
            out |= {"diverged_at": diverged_at, "divergence": divergence}
        print(json.dumps(out))
    else:
        if diverged_at is not None:
            print(
                f"engine {args.engine} left the code at step {diverged_at} ({divergence}); the last exact step is shown"
            )
        print(
            f"{result.status.value} after {result.steps} steps, {ticks} ticks "
            f"({net.size} neurons, {net.construction}, engine {args.engine})"
            + (", verified against the interpreter" if verified else "")
        )
        print(str(result.configuration))
    if args.verify and not verified:
        print(
            "turingrnn: the network disagreed with the interpreter (run 'turingrnn verify' for details)",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    if diverged_at is not None:
        return EXIT_DIVERGED
    return EXIT_OUT_OF_STEPS if result.status is Status.OUT_OF_STEPS else EXIT_OK


# ---------------------------------------------------------------- batches


@dataclasses.dataclass(frozen=True)
class InputLine:
    """A word of an ``--inputs`` file, with its head and the line it is on."""

    line: int
    word: str
    head: int


def read_inputs(path: str, head: int = 0) -> list[InputLine]:
    """The words of an ``--inputs`` file (see the module docstring for its lines).

    Raises:
        UsageError: The file is not UTF-8 text, a line is not a word or a valid JSON line, or there is no word.
        OSError: The file cannot be read (the CLI prints it as one line).
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    words = [entry for n, text in enumerate(lines, 1) if (entry := _input_line(path, n, text, head)) is not None]
    if not words:
        raise UsageError(f'{path}: no input words (the empty word is written "")')
    return words


def _input_line(path: str, n: int, text: str, head: int) -> InputLine | None:
    stripped = text.strip()
    if not stripped:
        return None
    if stripped[0] not in '{"':
        return InputLine(n, stripped, head)
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as e:
        raise UsageError(f"{path} line {n}: not a valid JSON line ({e.msg}): {stripped[:60]!r}") from None
    if isinstance(value, str):
        return InputLine(n, value, head)
    if not isinstance(value, dict):
        raise UsageError(f"{path} line {n}: expected a word, a JSON string or an object {{word, head}}")
    unknown = sorted(set(value) - {"word", "head"})
    if unknown or not isinstance(value.get("word"), str):
        why = f"unknown keys {unknown}" if unknown else f"'word' must be a string, got {value.get('word')!r}"
        raise UsageError(f"{path} line {n}: {why}; an object has the keys 'word' (a string) and 'head' (an integer)")
    at = value.get("head", head)
    if not isinstance(at, int) or isinstance(at, bool):
        raise UsageError(f"{path} line {n}: 'head' must be an integer, got {at!r}")
    return InputLine(n, value["word"], at)


def _starts(net: Network, path: str, lines: list[InputLine]) -> list[Start]:
    """Each line's start, once per distinct (word, head); a bad word names its line."""
    distinct: dict[tuple[str, int], Start] = {}
    for item in lines:
        key = (item.word, item.head)
        if key not in distinct:
            try:
                distinct[key] = prepare(net, item.word, item.head)
            except TuringRNNError as e:
                raise UsageError(f"{path} line {item.line}: {str(e).splitlines()[0]}") from None
    return [distinct[(item.word, item.head)] for item in lines]


def _batch(net: Network, args: argparse.Namespace) -> int:
    from .check.verify import verify

    lines = read_inputs(args.inputs, args.head)
    began = time.perf_counter()
    if args.engine in FLOAT_ENGINES:
        traces: Sequence[Trace] = _float_batch(net, args, lines)
    else:
        traces = run_starts(net, _starts(net, args.inputs, lines), engine=args.engine, **engine_options(args))
    seconds = time.perf_counter() - began
    summary: dict[str, Any] = {"words": len(lines), "machine_steps": 0, "seconds": round(seconds, 6), "flagged": 0}
    summary |= {"out_of_steps": 0, "verified": 0 if args.verify else None}
    for item, trace in zip(lines, traces, strict=True):
        result, diverged_at, divergence = result_of(net, trace, item.word, item.head)
        out: dict[str, Any] = {"line": item.line, "word": item.word, "start_head": item.head} | result.to_dict()
        if args.engine != "exact":
            out |= {"diverged_at": diverged_at, "divergence": divergence}
        if args.verify:
            out["verified"] = verify(net.machine, [(item.word, item.head)], net=net, max_steps=args.max_steps).ok
            summary["verified"] += out["verified"]
        summary["machine_steps"] += result.steps
        summary["flagged"] += diverged_at is not None
        summary["out_of_steps"] += result.status is Status.OUT_OF_STEPS
        print(json.dumps(out) if args.json else _line_text(item, result, diverged_at))
    summary["steps_per_s"] = round(summary["machine_steps"] / seconds) if seconds > 0 else None
    summary |= {"machine": net.machine.name, "engine": args.engine, "neurons": net.size}
    print(json.dumps(summary) if args.json else _summary_text(summary))
    if args.verify and summary["verified"] < len(lines):
        return EXIT_PROBLEMS
    if summary["flagged"]:
        return EXIT_DIVERGED
    return EXIT_OUT_OF_STEPS if summary["out_of_steps"] else EXIT_OK


def _float_batch(net: Network, args: argparse.Namespace, lines: list[InputLine]) -> Sequence[Trace]:
    """The words as one batch on the float core, their starts encoded side by side (see ``fast_batch``).

    A word's trace is built when its line is printed.
    """
    from .engines.fast_batch import run_batch

    options = engine_options(args)
    del options["record"]
    words, heads = [item.word for item in lines], [item.head for item in lines]
    try:
        return run_batch(net, words, heads=heads, dtype=args.engine, **options)
    except InputError:
        _starts(net, args.inputs, lines)  # names the line of the first bad word
        raise


def _line_text(item: InputLine, result: RunResult, diverged_at: int | None) -> str:
    flag = f", left the code at step {diverged_at}" if diverged_at is not None else ""
    head = f"line {item.line}: {item.word!r} {result.status.value} after {result.steps} steps{flag}"
    return f"{head}: {result.configuration}"


def _summary_text(s: dict[str, Any]) -> str:
    checked = f", {s['verified']} verified" if s["verified"] is not None else ""
    rate = f"{s['steps_per_s']:,} steps/s" if s["steps_per_s"] is not None else "-"
    return (
        f"{s['words']} words, {s['machine_steps']:,} machine steps in {s['seconds']:.3f} s ({rate}), "
        f"{s['flagged']} flagged, {s['out_of_steps']} out of steps{checked} (engine {s['engine']})"
    )
