"""Stage 1 of the pipeline: machines.

A machine description (a TOML file, a bbchallenge string, or Python) is
parsed (:mod:`.parsing`, which gathers :mod:`.bbchallenge`, :mod:`.toml_read`,
:mod:`.toml_write` and :mod:`.bundled`) into a validated machine (:mod:`.model`), run by the
reference interpreters (:mod:`.interpreter`, and the Numba kernel of
:mod:`.fast_interpreter` for Turing machines), and, for the constructions that
need it, reduced from a Turing machine to a 2-stack machine
(:mod:`.reduction`). :mod:`.tags` builds tag systems for Rogozhin's universal
machine. The bundled machine files are in the top-level folder ``constructions/``
(:func:`.bundled.list_machines`); the folder's name is historical, and
*construction* in the code means a compile recipe (:mod:`turingrnn.compile`).
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
