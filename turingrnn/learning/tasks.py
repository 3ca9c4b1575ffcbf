"""The tasks of Delétang et al., "Neural Networks and the Chomsky Hierarchy" (ICLR 2023), for both model kinds.

A :class:`Task` draws examples (:meth:`Task.sample`), knows its answer for any
input (:meth:`Task.solve`), names the bundled machine that solves it
(:attr:`Task.machine`), and maps an example to that machine's input word
(:meth:`Task.machine_word`) and a run of the machine back to an answer
(:meth:`Task.decode`). :data:`TASKS` maps names to tasks; :func:`get_task`
looks one up. The generators are written from the paper's definitions:
training lengths 1–40 (:data:`TRAIN_LENGTHS`), test lengths 41–500
(:data:`TEST_LENGTHS`); what a length counts is given per task.

Output modes: ``"final"`` (one label after the whole input), ``"sequence"``
(a label sequence emitted after the input) and ``"per_position"`` (one label
per input position: the set of symbols that may come next, written like
``"{a,b}"``, with :data:`END` for the end of the word).

The compiled side (:mod:`.compiled_tasks`): :func:`run_compiled` compiles a task's machine once and
runs examples through the network, exactly or in float64/float32 (a float run
flagged as diverged answers ``None``); :func:`run_reference` runs the same
machine on the reference interpreter; :func:`ticks_per_symbol` counts the
network ticks an example costs. Metrics (:mod:`.task_metrics`):
:func:`per_token_accuracy`, :func:`sequence_correct` and :func:`score`
(Delétang's score and the generalization horizon).

This module is where the tasks are imported from; it gathers the modules that
define them: :mod:`.task_base` (the :class:`Task` interface and the lengths),
:mod:`.regular_tasks`, :mod:`.context_free_tasks`,
:mod:`.context_sensitive_tasks`, :mod:`.next_symbol_tasks`, the registry
:mod:`.task_registry`, :mod:`.compiled_tasks` and :mod:`.task_metrics`.

>>> import numpy as np
>>> task = get_task("cycle_navigation")
>>> task.solve("010211")
('2',)
>>> task.sample(4, 2, np.random.default_rng(0))
[TaskExample(input='2110', target=('1',)), TaskExample(input='0000', target=('0',))]
>>> examples = [TaskExample("010211", ("2",)), TaskExample("22", ("3",))]
>>> run_compiled(task, examples) == [ex.target for ex in examples]
True
"""

from __future__ import annotations

from ..engines.dispatch import ENGINES
from ..errors import TaskError, UnknownTaskError
from .compiled_tasks import MAX_STEPS, TickCount, compile_task, run_compiled, run_reference, ticks_per_symbol
from .context_free_tasks import ModularArithmeticBrackets, ReverseString, StackManipulation
from .context_sensitive_tasks import BinaryAddition, DuplicateString
from .next_symbol_tasks import AnBn, AnBnCn, Dyck2, NextSymbolTask, next_set
from .regular_tasks import CycleNavigation, EvenPairs, ModularArithmetic, ParityCheck
from .task_base import CHOMSKY_CLASSES, END, OUTPUT_MODES, TEST_LENGTHS, TRAIN_LENGTHS, Task, TaskExample
from .task_metrics import HORIZON_ACCURACY, Prediction, per_token_accuracy, score, sequence_correct
from .task_registry import TASKS, get_task

__all__ = [
    "CHOMSKY_CLASSES",
    "END",
    "ENGINES",
    "HORIZON_ACCURACY",
    "MAX_STEPS",
    "OUTPUT_MODES",
    "TASKS",
    "TEST_LENGTHS",
    "TRAIN_LENGTHS",
    "AnBn",
    "AnBnCn",
    "BinaryAddition",
    "CycleNavigation",
    "DuplicateString",
    "Dyck2",
    "EvenPairs",
    "ModularArithmetic",
    "ModularArithmeticBrackets",
    "NextSymbolTask",
    "ParityCheck",
    "Prediction",
    "ReverseString",
    "StackManipulation",
    "Task",
    "TaskError",
    "TaskExample",
    "TickCount",
    "UnknownTaskError",
    "compile_task",
    "get_task",
    "next_set",
    "per_token_accuracy",
    "run_compiled",
    "run_reference",
    "score",
    "sequence_correct",
    "ticks_per_symbol",
]
