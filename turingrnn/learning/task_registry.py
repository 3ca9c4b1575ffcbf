"""The registry of tasks: :data:`TASKS` maps each name to its task, :func:`get_task` looks one up."""

from __future__ import annotations

from ..errors import UnknownTaskError
from .context_free_tasks import ModularArithmeticBrackets, ReverseString, StackManipulation
from .context_sensitive_tasks import BinaryAddition, DuplicateString
from .next_symbol_tasks import AnBn, AnBnCn, Dyck2
from .regular_tasks import CycleNavigation, EvenPairs, ModularArithmetic, ParityCheck
from .task_base import Task

TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        ParityCheck(),
        EvenPairs(),
        CycleNavigation(),
        ModularArithmetic(),
        StackManipulation(),
        ReverseString(),
        ModularArithmeticBrackets(),
        BinaryAddition(),
        DuplicateString(),
        AnBn(),
        AnBnCn(),
        Dyck2(),
    )
}
"""The registry: task name → task."""


def get_task(name: str) -> Task:
    """The task called ``name``.

    >>> get_task("parity").chomsky
    'R'
    """
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise UnknownTaskError(f"unknown task {name!r}; tasks are: {', '.join(TASKS)}") from None
