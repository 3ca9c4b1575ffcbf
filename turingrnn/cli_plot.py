"""``turingrnn plot orbit|activations|graph|depth MACHINE [--input W] [-o PATH]``: pictures (:mod:`turingrnn.plots`).

Each writes one image (PNG, SVG or PDF, by the path's suffix) and prints its path. Without
matplotlib each is a one-line error naming the ``plot`` extra.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cli_common import EXIT_OK, UsageError, network_of, nonnegative
from .plots import KINDS

DEFAULT_OUTPUT = {"orbit": "orbit.png", "activations": "activations.png", "graph": "net.svg", "depth": "depth.png"}
SUFFIXES = (".png", ".svg", ".pdf")


def add_plot_command(sub: Any, network_source: Callable[[argparse.ArgumentParser], None]) -> None:
    """The ``plot`` parser."""
    p = sub.add_parser("plot", help="draw a network or a run: orbit, activations, graph or depth (needs [plot])")
    p.add_argument("kind", choices=KINDS, help="orbit | activations | graph | depth")
    network_source(p)
    p.add_argument("--input", default="", metavar="WORD", help="input word (default: empty)")
    p.add_argument("--head", type=int, default=0, metavar="K", help="Turing machines: head on index K of WORD")
    p.add_argument("--max-steps", type=nonnegative, default=200, metavar="N", help="machine steps drawn (default 200)")
    p.add_argument("-o", "--output", default=None, metavar="PATH", help="the image (.png, .svg or .pdf)")


def plot_command(args: argparse.Namespace) -> int:
    """``turingrnn plot``."""
    from . import plots

    output = args.output or DEFAULT_OUTPUT[args.kind]
    if Path(output).suffix.lower() not in SUFFIXES:
        raise UsageError(f"-o {output!r}: the image's suffix must be one of {', '.join(SUFFIXES)}")
    plots.pyplot()  # the missing extra is named before anything is compiled
    net = network_of(args)
    extra: dict[str, Any] = {}
    if args.kind == "graph":
        extra["layout"] = plots.graph(net, output)
    else:
        draw = {"orbit": plots.orbit, "activations": plots.activations, "depth": plots.depth}[args.kind]
        draw(net, output, args.input, head=args.head, max_steps=args.max_steps)
    info = {"kind": args.kind, "output": output, "machine": net.machine.name, "neurons": net.size} | extra
    print(json.dumps(info) if args.json else f"{output}: {args.kind} of {net.machine.name} ({net.size} neurons)")
    return EXIT_OK
