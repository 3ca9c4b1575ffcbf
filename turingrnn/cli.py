"""The ``turingrnn`` command line.

Commands:

* ``turingrnn interpret MACHINE --input WORD [--head K] [--max-steps N] [--trace] [--json] [--engine E]``
* ``turingrnn check FILE...``: report every problem in each machine file and run its examples
* ``turingrnn list``: the bundled constructions

MACHINE is a TOML path, a bundled construction name or a bbchallenge string.

Exit codes:

* 0: the run halted (accepted, rejected or without verdict); ``check`` found no problem
* 1: ``check`` found problems
* 2: bad usage, a bad machine or a bad input (one line on stderr, no traceback)
* 3: the step limit was reached before the machine halted
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from . import __version__
from .errors import SpecWarning, TuringRNNError
from .interpreter import DEFAULT_MAX_STEPS, RunResult, Status, check_examples, run
from .machines import Machine, TuringMachine
from .parsing import list_constructions, load_machine

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2
EXIT_OUT_OF_STEPS = 3


class _Parser(argparse.ArgumentParser):
    """argparse that exits with :data:`EXIT_ERROR` and a one-line message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="turingrnn", description="Compile machines into recurrent networks, and run them.")
    parser.add_argument("--version", action="version", version=f"turingrnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("interpret", help="run a machine on the reference interpreter")
    p.add_argument("machine", help="TOML path, bundled construction name or bbchallenge string")
    p.add_argument("--input", default="", metavar="WORD", help="input word (default: empty)")
    p.add_argument("--head", type=int, default=0, metavar="K", help="Turing machines: head on index K of WORD")
    p.add_argument("--max-steps", type=int, default=DEFAULT_MAX_STEPS, metavar="N", help="step limit")
    p.add_argument("--trace", action="store_true", help="print every configuration")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--engine",
        choices=("python", "numba"),
        default="python",
        help="python: reference interpreter; numba: compiled Turing machine kernel (no --trace)",
    )

    c = sub.add_parser("check", help="validate machine files and run their worked examples")
    c.add_argument("files", nargs="+", metavar="FILE", help="TOML paths, bundled names or bbchallenge strings")
    c.add_argument("--json", action="store_true", help="print one JSON object")

    ls = sub.add_parser("list", help="list the bundled constructions")
    ls.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _first_line(error: Exception) -> str:
    if isinstance(error, TuringRNNError) and getattr(error, "problems", None):
        problems = error.problems  # type: ignore[attr-defined]
        more = (
            f" (and {len(problems) - 1} more problems; run 'turingrnn check' to see all)" if len(problems) > 1 else ""
        )
        return problems[0] + more
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _load_quietly(source: str) -> tuple[Machine, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SpecWarning)
        machine = load_machine(source)
    return machine, [str(w.message) for w in caught if issubclass(w.category, SpecWarning)]


def _interpret(args: argparse.Namespace) -> int:
    machine, notes = _load_quietly(args.machine)
    if args.engine == "numba":
        if args.trace:
            raise _UsageError("--trace needs --engine python; the numba kernel keeps no trace")
        if not isinstance(machine, TuringMachine):
            raise _UsageError(f"--engine numba runs Turing machines only; {machine.name!r} is a stack machine")
        from .fast_interpreter import run_tm_fast

        result: RunResult = run_tm_fast(machine, args.input, head=args.head, max_steps=args.max_steps)
    else:
        result = run(machine, args.input, head=args.head, max_steps=args.max_steps, trace=args.trace)
    if args.json:
        out: dict[str, Any] = {"machine": machine.name, "kind": machine.kind, "engine": args.engine}
        out |= result.to_dict()
        if args.trace and result.trace is not None:
            out["trace"] = [str(c) for c in result.trace]
        print(json.dumps(out))
    else:
        for note in notes:
            print(f"warning: {note}", file=sys.stderr)
        if args.trace:
            print(result.format_trace())
        else:
            print(f"{result.status.value} after {result.steps} steps ({result.reason})")
        print(str(result.configuration))
    return EXIT_OUT_OF_STEPS if result.status is Status.OUT_OF_STEPS else EXIT_OK


def _check(args: argparse.Namespace) -> int:
    report = []
    for source in args.files:
        entry: dict[str, Any] = {"source": source, "problems": [], "warnings": [], "examples": 0}
        try:
            machine, entry["warnings"] = _load_quietly(source)
        except TuringRNNError as e:
            entry["problems"] = list(getattr(e, "problems", None) or [str(e)])
        else:
            entry["examples"] = len(machine.examples)
            entry["problems"] = [f"{source}: {p}" for p in check_examples(machine)]
        report.append(entry)
    failed = any(entry["problems"] for entry in report)
    if args.json:
        print(json.dumps({"ok": not failed, "files": report}))
    else:
        for entry in report:
            for w in entry["warnings"]:
                print(f"warning: {w}")
            for p in entry["problems"]:
                print(p)
            if not entry["problems"]:
                print(f"{entry['source']}: ok ({entry['examples']} examples pass)")
    return EXIT_PROBLEMS if failed else EXIT_OK


def _list(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    for name, path in list_constructions().items():
        machine, _ = _load_quietly(str(path))
        summary = machine.description.strip().splitlines()[0] if machine.description.strip() else ""
        rows.append({"name": name, "kind": machine.kind, "states": len(machine.states), "summary": summary})
    if args.json:
        print(json.dumps({"constructions": rows}))
    else:
        width = max((len(str(r["name"])) for r in rows), default=4)
        for r in rows:
            print(f"{r['name']:<{width}}  {r['kind']:<5}  {r['summary']}")
    return EXIT_OK


class _UsageError(TuringRNNError):
    """A combination of options that cannot work."""


_COMMANDS = {"interpret": _interpret, "check": _check, "list": _list}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except TuringRNNError as e:
        print(f"turingrnn: error: {_first_line(e)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("turingrnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
