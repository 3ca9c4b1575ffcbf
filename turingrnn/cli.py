"""The ``turingrnn`` command line.

Commands:

* ``turingrnn interpret MACHINE --input WORD [--head K] [--max-steps N] [--trace] [--json] [--engine E]``
* ``turingrnn check FILE...``: report every problem in each machine file and run its examples
* ``turingrnn list``: the bundled machines
* ``turingrnn compile MACHINE -o net.npz [--construction C] [--input-mode M]``
* ``turingrnn run MACHINE|net.npz --input WORD [--head K] [--engine exact] [--kernel K] [--verify] [--json]``;
  ``--trace`` or ``--record every:N`` for configurations as they are reached, ``--inputs FILE`` for a
  batch (:mod:`turingrnn.cli_run`)
* ``turingrnn info MACHINE|net.npz``: neurons by role, nonzeros, ticks per step
* ``turingrnn trace MACHINE|net.npz --input WORD --neurons LABEL [--neurons LABEL ...]``: neuron values
  tick by tick (one ``--neurons`` value may also list labels separated by ``;``)
* ``turingrnn verify MACHINE [--input W ... | --all-up-to N] [--construction C]``
* ``turingrnn prove MACHINE [--construction C] [--input-mode M] [--max-cases N]``: a certificate for all inputs
* ``turingrnn train TASK --cell NAME [...] -o model.npz``, ``turingrnn evaluate model.npz``,
  ``turingrnn compare TASK [model.npz ...]``: the trained side (:mod:`turingrnn.cli_learning`)

MACHINE is a TOML path, a bundled machine name or a bbchallenge string.
Every command takes ``--json`` and then prints one JSON object.

Exit codes:

* 0: the run halted (accepted, rejected or without verdict); ``check`` found no problem;
  ``verify`` found every step of every input in agreement; ``prove`` proved the network
* 1: ``check`` found problems; ``verify`` (or ``run --verify``) found a disagreement; ``prove``'s
  certificate failed (or needed more cases than ``--max-cases``)
* 2: bad usage, a bad machine or a bad input (one line on stderr, no traceback)
* 3: the step limit was reached before the machine halted
* 4: ``run`` with a float or mpmath engine flagged that the network state left the code
  (``diverged_at`` in the JSON); the result shown is the last step that was still exact
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .cli_common import (  # noqa: F401  (the exit codes are this module's API)
    EXIT_DIVERGED,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_OUT_OF_STEPS,
    EXIT_PROBLEMS,
    MP_PREC,
    UsageError,
    load_quietly,
    network_of,
    nonnegative,
)
from .cli_learning import add_commands
from .cli_plot import add_plot_command, plot_command
from .cli_run import add_run_command, run_command
from .compile.compiler import CONSTRUCTIONS, compile_machine
from .compile.network import Network
from .engines.dispatch import ENGINES, engine_names  # noqa: F401  (ENGINES: the engines of this package)
from .engines.dispatch import run as run_engine
from .errors import TuringRNNError
from .machines.interpreter import DEFAULT_MAX_STEPS, RunResult, Status, check_examples, run
from .machines.model import Example, TuringMachine
from .machines.parsing import list_constructions

_LEARNING: dict[str, Any] = {}


class _Parser(argparse.ArgumentParser):
    """argparse that exits with :data:`EXIT_ERROR` and a one-line message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="turingrnn", description="Compile machines into recurrent networks, and run them.")
    parser.add_argument("--version", action="version", version=f"turingrnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("interpret", help="run a machine on the reference interpreter")
    p.add_argument("machine", help="TOML path, bundled machine name or bbchallenge string")
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

    ls = sub.add_parser("list", help="list the bundled machines")
    ls.add_argument("--json", action="store_true", help="print one JSON object")

    def network_source(p: argparse.ArgumentParser) -> None:
        p.add_argument("machine", help="TOML path, bundled name, bbchallenge string, or a compiled .npz network")
        p.add_argument("--construction", default="compact", help=f"one of {', '.join(CONSTRUCTIONS)} (default compact)")
        p.add_argument("--input-mode", default="preloaded", help="preloaded (default) or streamed")
        p.add_argument("--json", action="store_true", help="print one JSON object")

    cp = sub.add_parser("compile", help="compile a machine into a network file")
    network_source(cp)
    cp.add_argument("-o", "--output", required=True, metavar="NET.npz", help="where to write the network")
    cp.add_argument("--graphml", metavar="PATH", help="also write the network graph as GraphML")
    cp.add_argument("--dot", metavar="PATH", help="also write the network graph as Graphviz DOT")

    add_run_command(sub, network_source)
    add_plot_command(sub, network_source)

    i = sub.add_parser("info", help="neurons by role, nonzero weights, ticks per step")
    network_source(i)

    t = sub.add_parser("trace", help="print neuron values tick by tick")
    network_source(t)
    t.add_argument("--input", default="", metavar="WORD", help="input word (default: empty)")
    t.add_argument("--head", type=int, default=0, metavar="K", help="Turing machines: head on index K of WORD")
    t.add_argument("--max-steps", type=int, default=1000, metavar="N", help="machine step limit (default 1000)")
    t.add_argument(
        "--neurons",
        action="append",
        required=True,
        metavar="LABEL",
        help="a neuron label, e.g. 'config:as/in=a,count=empty' (repeatable); one value may list several "
        "labels separated by ';', or by ',' when the labels have no comma",
    )

    v = sub.add_parser("verify", help="check the network against the interpreter at every step")
    network_source(v)
    v.add_argument("--input", action="append", default=None, metavar="WORD", help="an input word (repeatable)")
    v.add_argument("--head", type=int, default=0, metavar="K", help="Turing machines: head on index K of each --input")
    v.add_argument("--all-up-to", type=nonnegative, default=None, metavar="N", help="every input word of length <= N")
    v.add_argument(
        "--max-steps",
        type=nonnegative,
        default=None,
        metavar="N",
        help="machine step limit per input (default 100,000; a worked example's own limit or step count)",
    )

    pv = sub.add_parser("prove", help="prove that the network simulates its machine for all stack contents")
    network_source(pv)
    pv.add_argument(
        "--max-cases", type=int, default=None, metavar="N", help="case budget (default 100000); over it, not proved"
    )
    _LEARNING.update(add_commands(sub))
    return parser


def _first_line(error: Exception) -> str:
    if isinstance(error, TuringRNNError) and getattr(error, "problems", None):
        problems = error.problems  # type: ignore[attr-defined]
        more = (
            f" (and {len(problems) - 1} more problems; run 'turingrnn check' to see all)" if len(problems) > 1 else ""
        )
        return problems[0] + more
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _interpret(args: argparse.Namespace) -> int:
    machine, notes = load_quietly(args.machine)
    if args.engine == "numba":
        if args.trace:
            raise UsageError("--trace needs --engine python; the numba kernel keeps no trace")
        if not isinstance(machine, TuringMachine):
            raise UsageError(f"--engine numba runs Turing machines only; {machine.name!r} is a stack machine")
        from .machines.fast_interpreter import run_tm_fast

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
            machine, entry["warnings"] = load_quietly(source)
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
        machine, _ = load_quietly(str(path))
        summary = machine.description.strip().splitlines()[0] if machine.description.strip() else ""
        rows.append({"name": name, "kind": machine.kind, "states": len(machine.states), "summary": summary})
    if args.json:
        print(json.dumps({"constructions": rows}))
    else:
        width = max((len(str(r["name"])) for r in rows), default=4)
        for r in rows:
            print(f"{r['name']:<{width}}  {r['kind']:<5}  {r['summary']}")
    return EXIT_OK


def _compile(args: argparse.Namespace) -> int:
    net = network_of(args)
    net.save(args.output)
    if args.graphml:
        net.to_graphml(args.graphml)
    if args.dot:
        Path(args.dot).write_text(net.to_dot())
    info = net.info() | {"output": args.output}
    if args.json:
        print(json.dumps(info))
    else:
        print(
            f"{args.output}: {info['neurons']} neurons, {info['ticks_per_step']} ticks per step, "
            f"{info['nonzeros']} nonzero weights ({info['construction']}, {info['input_mode']})"
        )
    return EXIT_OK


def _info(args: argparse.Namespace) -> int:
    info = network_of(args).info()
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key}: {value}")
    return EXIT_OK


def _trace(args: argparse.Namespace) -> int:
    net = network_of(args)
    labels = _neuron_labels(args.neurons, net.labels)
    trace = run_engine(net, args.input, head=args.head, engine="exact", max_steps=args.max_steps, record="ticks")
    columns = {label: [str(v) for v in trace[label]] for label in labels}
    if args.json:
        print(json.dumps({"machine": net.machine.name, "ticks": trace.ticks, "columns": columns}))
    else:
        print("tick  " + "  ".join(labels))
        for t in range(len(columns[labels[0]]) if labels else 0):
            print(f"{t:>4}  " + "  ".join(columns[label][t] for label in labels))
    return EXIT_OK


def _neuron_labels(values: Sequence[str], known: Sequence[str]) -> list[str]:
    """The neuron labels named by the ``--neurons`` values, in order, each once.

    A value is one label, or several separated by ``;`` (no label contains it,
    :data:`turingrnn.compile.labels.LIST_SEPARATOR`). A value without ``;``
    that is not a label itself but splits at ``,`` into pieces some of which
    are labels is the older comma-separated list: labels with a comma in them
    (``config:as/in=a,count=empty``) are never split, since the piece after
    such a comma (``count=empty``) is never a label.

    Raises:
        UsageError: A label is not a neuron of the network, or no label is named.
    """
    from .compile.labels import LIST_SEPARATOR, parse

    names = set(known)
    out: list[str] = []
    for value in values:
        if LIST_SEPARATOR in value:
            items = value.split(LIST_SEPARATOR)
        elif value.strip() in names or not any(x.strip() in names for x in value.split(",")):
            items = [value]
        else:
            items = value.split(",")
        out += [x for x in (item.strip() for item in items) if x and x not in out]
    if not out:
        raise UsageError("--neurons names no neuron label")
    for label in out:
        if label not in names:
            try:
                role = parse(label).role
            except TuringRNNError:
                role = None
            close = [x for x in known if x.partition(":")[0] == role][:8] or list(known[:8])
            raise UsageError(f"no neuron {label!r}; neurons include: {', '.join(close)}")
    return out


def _verify(args: argparse.Namespace) -> int:
    from .check.verify import all_inputs_up_to, verify

    if args.machine.endswith(".npz"):
        net = Network.load(args.machine)
        machine = net.machine
    else:
        machine, _ = load_quietly(args.machine)
        net = compile_machine(machine, construction=args.construction, input_mode=args.input_mode)
    limit = VERIFY_MAX_STEPS if args.max_steps is None else args.max_steps
    inputs: list[tuple[str, int, int]] = [(word, args.head, limit) for word in args.input or []]
    if args.all_up_to is not None:
        inputs += [(word, 0, limit) for word in all_inputs_up_to(machine, args.all_up_to)]
    if not inputs:  # the file's examples, each to its own step limit (or its step count) unless --max-steps is given
        inputs = [(e.input, e.head or 0, _example_limit(e, args.max_steps)) for e in machine.examples]
        inputs = inputs or [("", 0, limit)]
    report = verify(machine, inputs, net=net, max_steps=limit)
    print(json.dumps(report.to_dict()) if args.json else report.summary())
    return EXIT_OK if report.ok else EXIT_PROBLEMS


VERIFY_MAX_STEPS = 100_000
"""``turingrnn verify``'s step limit per input word, unless ``--max-steps`` is given."""


def _example_limit(example: Example, max_steps: int | None) -> int:
    """A worked example's step limit: ``--max-steps``, else its own limit, else its step count (or the default)."""
    if max_steps is not None:
        return max_steps
    return example.max_steps or max(example.steps or 0, VERIFY_MAX_STEPS)


def _prove(args: argparse.Namespace) -> int:
    from .check.prove import DEFAULT_MAX_CASES, prove

    net = network_of(args)
    cert = prove(net.machine, net, max_cases=DEFAULT_MAX_CASES if args.max_cases is None else args.max_cases)
    print(json.dumps(cert.to_dict()) if args.json else cert.report())
    return EXIT_OK if cert.ok else EXIT_PROBLEMS


_COMMANDS = {
    "interpret": _interpret,
    "check": _check,
    "list": _list,
    "compile": _compile,
    "run": run_command,
    "plot": plot_command,
    "info": _info,
    "trace": _trace,
    "verify": _verify,
    "prove": _prove,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return {**_COMMANDS, **_LEARNING}[args.command](args)
    except TuringRNNError as e:
        print(f"turingrnn: error: {_first_line(e)}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as e:  # a file named on the command line cannot be read or written
        where = f"{e.filename}: " if e.filename else ""
        print(f"turingrnn: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("turingrnn: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (e.g. `head`) stopped early
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter shutdown from failing on flush
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
