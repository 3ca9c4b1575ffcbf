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
