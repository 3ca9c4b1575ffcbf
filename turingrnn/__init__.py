"""turingrnn: compile Turing machines and p-stack machines into recurrent neural networks.

The pipeline, one module per stage: machine description (:mod:`turingrnn.machines.parsing`)
→ validated machine (:mod:`turingrnn.machines.model`) → (Turing machine → 2-stack
machine, :mod:`turingrnn.machines.reduction`) → compiler (:mod:`turingrnn.compile.compiler`) →
:class:`Network` (:mod:`turingrnn.compile.network`) → exact simulator
(:mod:`turingrnn.engines.exact`) → decoded configurations (:mod:`turingrnn.engines.trace`) →
verification against the reference interpreter (:mod:`turingrnn.machines.interpreter`,
:mod:`turingrnn.check.verify`).

BLAS threads: unless ``OPENBLAS_NUM_THREADS`` is already set, or numpy was
imported before turingrnn, importing turingrnn pins OpenBLAS to one thread.
The package's matrix products are small (recurrent steps, batches of 128 or
less); on this project's 2-core machines multi-threaded BLAS made a training
step slower, not faster (see docs/performance.md, "Threads").
"""

import os as _os
import sys as _sys

if "numpy" not in _sys.modules:
    _os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .check.verify import verify  # noqa: E402
from .compile.compiler import compile_machine  # noqa: E402
from .compile.network import Network  # noqa: E402
from .engines.exact import run_exact  # noqa: E402
from .engines.trace import Trace  # noqa: E402
from .errors import (  # noqa: E402
    BackendError,
    CheckpointError,
    CompileError,
    ConflictingTransitionError,
    DecodeError,
    InputError,
    NetworkFileError,
    NotRecordedError,
    ParseError,
    PlotError,
    PrecisionError,
    SpecError,
    SpecWarning,
    TuringRNNError,
    UnknownMachineError,
    UsageError,
)
from .machines.interpreter import RunResult, StackConfiguration, Status, TMConfiguration, run, steps  # noqa: E402
from .machines.model import (  # noqa: E402
    ANY,
    EMPTY,
    NOOP,
    POP,
    Example,
    StackMachine,
    StackOp,
    StackRule,
    TMRule,
    TuringMachine,
    push,
)
from .machines.parsing import (  # noqa: E402
    dump,
    dump_bbchallenge,
    dump_toml,
    list_constructions,
    list_machines,
    load_machine,
    loads_toml,
    parse_bbchallenge,
)
from .machines.reduction import tm_to_stack_machine  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "CheckpointError",
    "DecodeError",
    "NetworkFileError",
    "NotRecordedError",
    "PlotError",
    "UsageError",
    "ANY",
    "EMPTY",
    "NOOP",
    "POP",
    "CompileError",
    "ConflictingTransitionError",
    "Network",
    "Trace",
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
    "compile_machine",
    "dump",
    "dump_bbchallenge",
    "dump_toml",
    "list_constructions",
    "list_machines",
    "load_machine",
    "loads_toml",
    "parse_bbchallenge",
    "push",
    "run",
    "run_exact",
    "steps",
    "tm_to_stack_machine",
    "verify",
]

# The tasks of Delétang et al. (2023), shared by the compiled networks and the trained RNNs.
from .errors import TaskError, UnknownTaskError  # noqa: E402
from .learning.tasks import TASKS, Task, TaskExample, get_task, run_compiled  # noqa: E402

__all__ += ["TASKS", "Task", "TaskError", "TaskExample", "UnknownTaskError", "get_task", "run_compiled"]

# Trained gated RNNs, the baselines the compiled networks are compared with.
from .errors import ShapeError, TrainingConfigError, TrainingDivergedError, UnknownCellError  # noqa: E402
from .learning.cells import Core, RecurrentModel, SequenceModel  # noqa: E402
from .learning.models import CELLS, GRU, LSTM, MODELS, ElmanReLU, ElmanTanh, make_model  # noqa: E402
from .learning.training import Adam, evaluate, train, truncated_bptt  # noqa: E402

__all__ += [
    "CELLS",
    "GRU",
    "LSTM",
    "Adam",
    "ElmanReLU",
    "ElmanTanh",
    "Core",
    "MODELS",
    "RecurrentModel",
    "SequenceModel",
    "ShapeError",
    "TrainingConfigError",
    "TrainingDivergedError",
    "UnknownCellError",
    "evaluate",
    "make_model",
    "train",
    "truncated_bptt",
]

# The proof stage: certificates for all stack contents (docs/proofs.md).
from .check.prove import Certificate, ProofError, prove  # noqa: E402

__all__ += ["Certificate", "ProofError", "prove"]

from .engines.fast import run_float  # noqa: E402
from .engines.fast_batch import FloatBatch, run_batch  # noqa: E402
from .engines.mp import run_mp  # noqa: E402

__all__ += ["FloatBatch", "run_batch", "run_float", "run_mp"]
