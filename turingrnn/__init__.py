"""turingrnn: compile Turing machines and p-stack machines into recurrent neural networks.

The pipeline, one module per stage: machine description (:mod:`turingrnn.parsing`)
→ validated machine (:mod:`turingrnn.machines`) → reference run
(:mod:`turingrnn.interpreter`, :mod:`turingrnn.fast_interpreter`) and the
Turing machine → 2-stack reduction (:mod:`turingrnn.reduction`).
"""

from .errors import (
    CompileError,
    ConflictingTransitionError,
    InputError,
    ParseError,
    PrecisionError,
    SpecError,
    SpecWarning,
    TuringRNNError,
    UnknownMachineError,
)
from .interpreter import RunResult, StackConfiguration, Status, TMConfiguration, run, steps
from .machines import ANY, EMPTY, NOOP, POP, Example, StackMachine, StackOp, StackRule, TMRule, TuringMachine, push
from .parsing import (
    dump,
    dump_bbchallenge,
    dump_toml,
    list_constructions,
    load_machine,
    loads_toml,
    parse_bbchallenge,
)

__version__ = "0.1.0"

__all__ = [
    "ANY",
    "EMPTY",
    "NOOP",
    "POP",
    "CompileError",
    "ConflictingTransitionError",
    "Example",
    "InputError",
    "ParseError",
    "PrecisionError",
    "RunResult",
    "SpecError",
    "SpecWarning",
    "StackConfiguration",
    "StackMachine",
    "StackOp",
    "StackRule",
    "Status",
    "TMConfiguration",
    "TMRule",
    "TuringMachine",
    "TuringRNNError",
    "UnknownMachineError",
    "__version__",
    "dump",
    "dump_bbchallenge",
    "dump_toml",
    "list_constructions",
    "load_machine",
    "loads_toml",
    "parse_bbchallenge",
    "push",
    "run",
    "steps",
]
