"""Stage 1 of the pipeline: machines.

A machine description (a TOML file, a bbchallenge string, or Python) is
parsed (:mod:`.parsing`) into a validated machine (:mod:`.model`), run by the
reference interpreters (:mod:`.interpreter`, and the Numba kernel of
:mod:`.fast_interpreter` for Turing machines), and, for the constructions that
need it, reduced from a Turing machine to a 2-stack machine
(:mod:`.reduction`). :mod:`.tags` builds tag systems for Rogozhin's universal
machine.
"""

from .model import ANY, EMPTY, NOOP, POP, Example, StackMachine, StackOp, StackRule, TMRule, TuringMachine, push

__all__ = [
    "ANY",
    "EMPTY",
    "NOOP",
    "POP",
    "Example",
    "StackMachine",
    "StackOp",
    "StackRule",
    "TMRule",
    "TuringMachine",
    "push",
]
