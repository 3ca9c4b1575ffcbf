"""The package's exceptions: one root, one class per kind of defect.

Every message says what is wrong, where, the offending value and what was
allowed. Specific classes also inherit the matching builtin (``ValueError``,
``LookupError``, ``ArithmeticError``) so that generic handlers keep working.
"""

from __future__ import annotations

from collections.abc import Sequence


class TuringRNNError(Exception):
    """Root of every error raised on purpose by turingrnn."""


class SpecError(TuringRNNError, ValueError):
    """A machine specification is invalid.

    ``problems`` lists every defect found, so that one report can name them
    all; the message joins them. ``file``, ``line`` and ``column`` (1-based)
    locate the first problem when the machine came from a file or string.
    """

    def __init__(
        self,
        problems: str | Sequence[str],
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: tuple[str, ...] = tuple(problems)
        self.file = file
        self.line = line
        self.column = column
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            lines = [f"{len(self.problems)} problems:"]
            lines += [f"  - {p}" for p in self.problems]
            message = "\n".join(lines)
        super().__init__(message)


class ConflictingTransitionError(SpecError):
    """Two transitions apply to the same configuration (nondeterminism)."""


class ParseError(SpecError):
    """A machine file or string is malformed (syntax, types, unknown keys).

    Each problem starts with ``file:line:column:`` where that is known.
    """


def locate(file: str | None, line: int | None = None, column: int | None = None) -> str:
    """The ``file:line:column`` prefix for a message (parts that are unknown are left out)."""
    return ":".join(str(x) for x in (file, line, column) if x is not None)


class InputError(TuringRNNError, ValueError):
    """An input word or start position does not fit the machine."""


class UnknownMachineError(TuringRNNError, LookupError):
    """A machine source is neither a file, a bbchallenge string nor a bundled name."""


class CompileError(TuringRNNError, ValueError):
    """The compiler cannot handle a machine."""


class PrecisionError(TuringRNNError, ArithmeticError):
    """Arithmetic precision ran out before the result could be exact."""


class SpecWarning(UserWarning):
    """A machine is valid but probably not what was meant (e.g. unreachable states)."""


class ShapeError(TuringRNNError, ValueError):
    """An array given to a trained cell has the wrong shape, dtype or values (inputs, targets, mask, state)."""


class UnknownCellError(TuringRNNError, LookupError):
    """A trained-cell name is not in the registry :data:`turingrnn.learning.models.MODELS`."""


class TrainingConfigError(TuringRNNError, ValueError):
    """A training setting is invalid (``k1``, ``k2``, learning rate, clipping norm, step count, optimizer)."""


class TrainingDivergedError(TuringRNNError, ArithmeticError):
    """Training produced a loss or gradient that is NaN or infinite.

    Training stops before the update, so the model keeps the last finite
    parameters. ``step`` is the batch (0-based) and ``update`` the optimizer
    update at which it happened; ``loss`` and ``grad_norm`` are the offending
    values.
    """

    def __init__(self, message: str, *, step: int, update: int, loss: float, grad_norm: float) -> None:
        super().__init__(message)
        self.step = step
        self.update = update
        self.loss = loss
        self.grad_norm = grad_norm


class TaskError(TuringRNNError, ValueError):
    """A task was asked for something it cannot give (a bad length, count, engine, or results to score)."""


class UnknownTaskError(TuringRNNError, LookupError):
    """A task name is not in the registry :data:`turingrnn.learning.tasks.TASKS`."""


class BackendError(TuringRNNError, RuntimeError):
    """A training backend cannot run here (PyTorch missing, no CUDA device, a model without a torch version)."""


class CheckpointError(TuringRNNError, ValueError):
    """A checkpoint file is missing, malformed, from another cell, or does not fit the model asked for."""


class DecodeError(TuringRNNError, ValueError):
    """A neuron value is not a valid code (the network state left the code)."""


class NetworkFileError(TuringRNNError, ValueError):
    """A network file is corrupted, or does not match what it claims."""


class ProofError(TuringRNNError, ValueError):
    """``prove`` cannot interpret a network: it is not from the compiler, or its labels or metadata are unknown."""


class NotRecordedError(TuringRNNError, LookupError):
    """A trace was asked for values or configurations its ``record`` mode did not keep."""


class UsageError(TuringRNNError, ValueError):
    """A combination of command-line options that cannot work (``turingrnn run --trace --engine float64``)."""


class PlotError(TuringRNNError, RuntimeError):
    """A picture cannot be drawn: matplotlib (the ``plot`` extra) is missing, or there is nothing to draw."""
