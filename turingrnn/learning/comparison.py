"""The comparison of compiled networks with trained ones: which models, on which tasks, at which size.

The experiment (``experiments/compiled_vs_trained.py``) trains every model of
a tier on every task of the tier and scores it beside the task's compiled
network. This module says what is compared: the trained models
(:class:`Variant`, all of them in :data:`VARIANTS`), and the sizes of the
experiment (:class:`Tier`, with per-task :class:`TaskSettings`; the tiers in
:data:`TIERS`). Running the jobs is :mod:`.comparison_jobs`, the tables and the
summary :mod:`.comparison_report`, the figures :mod:`.comparison_figures`.

>>> tier = TIERS["control"]
>>> tier.planned("parity"), tier.planned("modular_arithmetic")
({'steps': 5000, 'hidden': 64, 'batch': 128}, {'steps': 20000, 'hidden': 128, 'batch': 128})
>>> VARIANTS["bi_lstm"].applies(TASKS["anbn"]), model_columns({"parity": {"compiled exact": {}, "gru": {}, "lstm": {}}})
(False, ['lstm', 'gru', 'compiled exact'])
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import UnknownCellError
from .protocol import TEST_EVAL_LENGTHS, TRAIN_EVAL_LENGTHS
from .tasks import TASKS, Task, get_task

SCHEMA = 2
"""The version of the result files' format."""
REGULAR = ("parity", "even_pairs", "cycle_navigation", "modular_arithmetic")
TRANSDUCTION = ("reverse_string", "duplicate_string", "binary_addition")
SHORT_LENGTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 40)
CURVE_LENGTHS = (40, 100, 500)
COMPILED_ENGINES = ("exact", "float64", "float32")
"""The engines the compiled networks of a comparison run on (the mp engine is for precision studies, not here)."""


@dataclass(frozen=True)
class Variant:
    """One trained model of the comparison: a registered cell, its layers, direction and options.

    Attributes:
        name: The column name (``lstm``, ``lstm_x2``, ``bi_lstm``, ...).
        cell: The registry name of :func:`turingrnn.learning.models.make_model`.
        layers: Stacked layers.
        bidirectional: Reads the input from both ends (only tasks answered after the whole input).
        options: Cell options.
        tasks: ``"all"``, ``"after_input"`` (final and sequence tasks) or ``"transduction"``.
    """

    name: str
    cell: str
    layers: int = 1
    bidirectional: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    tasks: str = "all"

    def applies(self, task: Task) -> bool:
        """Whether this model runs on ``task``."""
        if self.tasks == "after_input":
            return task.output_mode != "per_position"
        if self.tasks == "transduction":
            return task.name in TRANSDUCTION
        return True


CLASSIC = ("elman_tanh", "elman_relu", "lstm", "gru")
RECURRENT = CLASSIC + ("peephole_lstm", "cifg_lstm", "clockwork_rnn", "dense_clockwork_rnn")
MEMORY = ("stack_rnn", "tape_rnn")
OTHER = ("esn", "tdnn")


def _variants() -> dict[str, Variant]:
    out = {c: Variant(c, c) for c in RECURRENT + MEMORY + OTHER}
    out.update({f"{c}_x2": Variant(f"{c}_x2", c, layers=2) for c in RECURRENT})
    out.update({f"bi_{c}": Variant(f"bi_{c}", c, bidirectional=True, tasks="after_input") for c in ("lstm", "gru")})
    out["encoder_decoder"] = Variant("encoder_decoder", "encoder_decoder", tasks="transduction")
    return out


VARIANTS = _variants()
"""Every trained model the comparison knows, by column name."""


@dataclass(frozen=True)
class TaskSettings:
    """What a tier changes for one task; ``None`` keeps the tier's own value.

    Attributes:
        steps: Training batches per job.
        hidden: Hidden units of every model.
    """

    steps: int | None = None
    hidden: int | None = None


@dataclass(frozen=True)
class Tier:
    """One size of the experiment.

    Attributes:
        hidden: Hidden units of every model.
        seeds: Training seeds per (task, model, learning rate).
        learning_rates: Adam step sizes, each trained separately.
        steps: Training batches per job.
        batch: Examples per training batch.
        lengths: The evaluated lengths; those >= 41 are the test lengths of the score.
        n_test: Test examples per evaluated length.
        tasks: The tasks run by default.
        models: The variants run by default (keys of :data:`VARIANTS`).
        readout: ``linear`` or ``relu`` (Delétang et al.: ``Linear(ReLU(h))``).
        forget_bias: Added to the LSTMs' forget-gate bias (Haiku's LSTM adds 1).
        dtype: The models' float type.
        backend: ``numpy`` or ``torch`` (the torch backend when installed, else numpy).
        extra_steps: Blank computation steps offered after the input (see turingrnn.learning.protocol).
        curve_every: Record the learning curve every this many batches (0: never).
        per_task: ``(task, TaskSettings)`` pairs: the steps and width of those tasks' jobs.
    """

    hidden: int
    seeds: int
    learning_rates: tuple[float, ...]
    steps: int
    batch: int
    lengths: tuple[int, ...]
    n_test: int
    tasks: tuple[str, ...]
    models: tuple[str, ...]
    readout: str = "relu"
    forget_bias: float = 1.0
    dtype: str = "float32"
    backend: str = "numpy"
    extra_steps: str = "0"
    curve_every: int = 0
    per_task: tuple[tuple[str, TaskSettings], ...] = ()

    def _setting(self, task: str, name: str) -> Any:
        value = getattr(dict(self.per_task).get(task, TaskSettings()), name)
        return getattr(self, name) if value is None else value

    def steps_for(self, task: str) -> int:
        """The training batches of ``task``'s jobs."""
        return int(self._setting(task, "steps"))

    def hidden_for(self, task: str) -> int:
        """The hidden units of ``task``'s models."""
        return int(self._setting(task, "hidden"))

    def planned(self, task: str) -> dict[str, int]:
        """The settings a finished job of ``task`` must have been trained with to count for this tier."""
        return {"steps": self.steps_for(task), "hidden": self.hidden_for(task), "batch": self.batch}


ALL_MODELS = tuple(VARIANTS)
QUICK_MODELS = tuple(m for m in VARIANTS if not m.endswith("_x2") or m.removesuffix("_x2") in CLASSIC)
TIERS = {
    "control": Tier(
        hidden=64, seeds=3, learning_rates=(1e-3,), steps=20_000, batch=128,
        lengths=TRAIN_EVAL_LENGTHS + TEST_EVAL_LENGTHS, n_test=128, tasks=REGULAR, models=CLASSIC,
        backend="torch", curve_every=1000,
        per_task=(
            ("parity", TaskSettings(steps=5000)), ("even_pairs", TaskSettings(steps=20_000)),
            ("modular_arithmetic", TaskSettings(hidden=128)),
        ),
    ),
    "quick": Tier(
        hidden=32, seeds=1, learning_rates=(1e-3,), steps=1000, batch=32,
        lengths=SHORT_LENGTHS + (41, 60, 100, 200), n_test=16, tasks=tuple(TASKS), models=QUICK_MODELS,
    ),
    "standard": Tier(
        hidden=64, seeds=3, learning_rates=(1e-3,), steps=3000, batch=128,
        lengths=TRAIN_EVAL_LENGTHS + TEST_EVAL_LENGTHS, n_test=128, tasks=tuple(TASKS), models=ALL_MODELS,
        curve_every=500,
    ),
    "full": Tier(
        hidden=256, seeds=10, learning_rates=(1e-4, 3e-4, 5e-4), steps=1_000_000, batch=128,
        lengths=SHORT_LENGTHS + tuple(range(41, 501)), n_test=128, tasks=tuple(TASKS), models=ALL_MODELS,
        backend="torch",
    ),
}  # fmt: skip


def backend_for(tier: Tier) -> str:
    """The tier's backend, or numpy when torch is not installed."""
    if tier.backend == "torch" and importlib.util.find_spec("torch") is None:
        return "numpy"
    return tier.backend


def model_columns(table: dict) -> list[str]:
    """The models of an aggregated ``table`` in column order: trained ones as in :data:`VARIANTS`, then engines."""
    present = {m for t in table.values() for m in t}
    return [m for m in VARIANTS if m in present] + [
        f"compiled {e}" for e in COMPILED_ENGINES if f"compiled {e}" in present
    ]


def parse_names(text: str | None, default: Sequence[str], kind: str) -> list[str]:
    """The names in the comma-separated ``text`` (``default`` when empty), each checked.

    Raises:
        UnknownTaskError: for an unknown task (``kind="task"``), listing the tasks.
        UnknownCellError: for an unknown model (any other ``kind``), listing the models.
    """
    names = list(default) if not text else [n.strip() for n in text.split(",") if n.strip()]
    for n in names:
        if kind == "task":
            get_task(n)  # raises UnknownTaskError listing the tasks
        elif n not in VARIANTS:
            raise UnknownCellError(f"unknown model {n!r}; models are: {', '.join(VARIANTS)}")
    return names
