"""What the command-line modules share: exit codes, argument types, and the network named on the command line."""

from __future__ import annotations

import argparse
import warnings

from .compile.compiler import compile_machine
from .compile.network import Network
from .errors import SpecWarning, UsageError  # noqa: F401  (UsageError: raised by the CLI modules)
from .machines.model import Machine
from .machines.parsing import load_machine

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2
EXIT_OUT_OF_STEPS = 3
EXIT_DIVERGED = 4
MP_PREC = 113
"""The mp engine's significand bits when ``--prec`` is not given."""


def nonnegative(text: str) -> int:
    """An argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def positive(text: str) -> int:
    """An argparse type: an integer >= 1."""
    value = nonnegative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def load_quietly(source: str) -> tuple[Machine, list[str]]:
    """The machine named by ``source``, and its specification warnings as text (not printed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SpecWarning)
        machine = load_machine(source)
    return machine, [str(w.message) for w in caught if issubclass(w.category, SpecWarning)]


def network_of(args: argparse.Namespace) -> Network:
    """The network named on the command line: a saved ``.npz``, or a machine compiled now."""
    if args.machine.endswith(".npz"):
        return Network.load(args.machine)
    machine, _ = load_quietly(args.machine)
    return compile_machine(machine, construction=args.construction, input_mode=args.input_mode)
