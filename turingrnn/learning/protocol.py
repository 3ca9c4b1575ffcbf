"""The training and test protocol of the trained models on a task: encoding, batches, test sets, answers, scores.

Delétang et al. (ICLR 2023) train on lengths 1–40 and test on 41–500. A
trained model reads one-hot input symbols, then blank steps: ``extra`` blank
"computation" steps, then one blank step per **output slot**, at which it
must emit a label. The loss and the accuracy count only the output slots
(the mask). For per-position tasks the label is read at each input symbol
(or at the last of the ``extra`` blanks that follow it).

**Output slots.** A task whose answer length is known from the input
(parity: 1; reverse: n; duplicate: 2n) gets exactly that many slots. For
``stack_manipulation`` and ``binary_addition`` the answer's length is not
told: as in Delétang et al.'s code, the model gets ``n + 1`` slots for an
input of length ``n`` and must emit the answer, then the terminator
:data:`END_LABEL`; the slots after it are trained to class 0 (their
padding) but not scored. The answer read from a model is its labels up to
its first terminator. (``terminator=False`` gives the older protocol that
tells the model the answer's length.)

The same test examples go to every model: ``n`` per length, drawn with
``numpy.random.default_rng([seed, length])``. Scores (:func:`summarize`):
the test **score** is the per-token accuracy averaged over the evaluated
lengths >= 41; the **train score** the same over the evaluated lengths
1–40 (how well the model fits its training range); the **horizon** the
largest evaluated length up to which every evaluated length has sequence
accuracy >= 99 %.

>>> from turingrnn.learning.tasks import TaskExample, get_task
>>> task = get_task("stack_manipulation")
>>> x, y, mask = encode(task, [TaskExample("abp", ("a",))])
>>> x.shape, mask[0].tolist(), [output_labels(task)[k] for k in y[0][mask[0]]]
((1, 7, 6), [False, False, False, True, True, True, True], ['a', '$', 'a', 'a'])
>>> scored_mask(task, [TaskExample("abp", ("a",))])[0].tolist()
[False, False, False, True, True, False, False]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TaskError
from .tasks import TRAIN_LENGTHS, Task, TaskExample, score, ticks_per_symbol

END_LABEL = "$"
"""The terminator a model emits after the answer, for the tasks with ``n + 1`` output slots."""
TERMINATED_TASKS = frozenset({"stack_manipulation", "binary_addition"})
"""Tasks whose models get ``n + 1`` output slots and a terminator (Delétang et al.'s code)."""
FIRST_TEST_LENGTH = 41
"""The shortest test length; shorter evaluated lengths are the training range."""

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


def terminated(task: Task, terminator: bool = True) -> bool:
    """Whether ``task``'s models answer in ``n + 1`` slots ending with :data:`END_LABEL`."""
    return terminator and task.name in TERMINATED_TASKS


def output_labels(task: Task, terminator: bool = True) -> tuple[str, ...]:
    """The classes a trained model emits: the task's labels, and :data:`END_LABEL` when terminated."""
    return task.output_alphabet + ((END_LABEL,) if terminated(task, terminator) else ())


def input_width(task: Task) -> int:
    """One-hot width of the inputs: the task's symbols and the blank (the last column)."""
    return len(task.input_alphabet) + 1


def blank_steps(task: Task, extra: str, example: TaskExample) -> int:
    """The blank steps offered after the input (final, sequence) or after each symbol (per position).

    ``extra`` is a number of steps, or ``"compiled"``: the ticks the task's
    compiled network spends after its input.
    """
    if extra != "compiled":
        if not str(extra).isdigit():
            raise TaskError(f"extra steps must be 'compiled' or a non-negative integer, got {extra!r}")
        return int(extra)
    ticks = ticks_per_symbol(task)
    if task.output_mode == "per_position":
        return ticks.ticks_per_step - 1
    return ticks.extra(example)


def _indices(task: Task, what: str, word: Sequence[str], index: Mapping[str, int], allowed: Sequence[str]) -> list[int]:
    """``index[s]`` for each symbol of ``word``, or a TaskError naming the first symbol outside ``allowed``."""
    try:
        return [index[s] for s in word]
    except KeyError as e:
        raise TaskError(f"task {task.name!r}: {what} {e.args[0]!r} is not one of {tuple(allowed)}") from None


def _slots(task: Task, example: TaskExample, terminator: bool) -> list[int]:
    """The class index of every output slot of ``example`` (terminated tasks: answer, END, padding 0)."""
    labels = {s: i for i, s in enumerate(output_labels(task, terminator))}
    answer = _indices(task, "target label", example.target, labels, task.output_alphabet)
    if not terminated(task, terminator):
        return answer
    slots = len(example.input) + 1
    return answer + [labels[END_LABEL]] + [0] * (slots - len(answer) - 1)


def _rows(task: Task, examples: Sequence[TaskExample], extra: str, terminator: bool):  # type: ignore[no-untyped-def]
    symbols = {s: i for i, s in enumerate(task.input_alphabet)}
    blank = len(symbols)
    for ex in examples:
        e = blank_steps(task, extra, ex)
        ids = _indices(task, "input symbol", ex.input, symbols, task.input_alphabet)
        slots = _slots(task, ex, terminator)
        if task.output_mode == "per_position":
            seq = [i for s in ids for i in [s] + [blank] * e]
            outputs = [(k + 1) * (e + 1) - 1 for k in range(len(ids))]
        else:
            seq = ids + [blank] * (e + len(slots))
            outputs = list(range(len(ids) + e, len(seq)))
        yield seq, outputs, slots


def encode(
    task: Task, examples: Sequence[TaskExample], extra: str = "0", *, terminator: bool = True, dtype: Any = np.float64
) -> Batch:
    """One-hot inputs ``(B, T, I)`` (the last column is the blank), targets ``(B, T)`` and the mask of the slots.

    Shorter examples are padded at the end with blanks, unmasked.
    """
    rows = list(_rows(task, examples, extra, terminator))
    if not rows:
        raise TaskError(f"task {task.name!r}: nothing to encode (no examples)")
    steps = max(len(seq) for seq, _, _ in rows)
    blank = len(task.input_alphabet)
    inputs = np.zeros((len(rows), steps, blank + 1), dtype=dtype)
    targets = np.zeros((len(rows), steps), dtype=np.int64)
    mask = np.zeros((len(rows), steps), dtype=bool)
    for b, (seq, outputs, slots) in enumerate(rows):
        padded = seq + [blank] * (steps - len(seq))
        inputs[b, np.arange(steps), padded] = 1.0
        targets[b, outputs] = slots
        mask[b, outputs] = True
    return inputs, targets, mask


def scored_mask(
    task: Task, examples: Sequence[TaskExample], extra: str = "0", *, terminator: bool = True
) -> np.ndarray:
    """The slots that count toward accuracy: for terminated tasks the answer and its terminator, not the padding."""
    rows = list(_rows(task, examples, extra, terminator))
    steps = max(len(seq) for seq, _, _ in rows)
    mask = np.zeros((len(rows), steps), dtype=bool)
    for b, ((_, outputs, _), ex) in enumerate(zip(rows, examples, strict=True)):
        keep = len(ex.target) + 1 if terminated(task, terminator) else len(outputs)
        mask[b, outputs[:keep]] = True
    return mask


def answers_from_classes(
    task: Task, classes: np.ndarray, mask: np.ndarray, *, terminator: bool = True
) -> list[tuple[str, ...]]:
    """The answer of each row: the labels at its masked slots, cut at the first terminator when terminated."""
    labels = output_labels(task, terminator)
    cut = terminated(task, terminator)
    answers = []
    for row, m in zip(classes, mask, strict=True):
        words = [labels[c] for c in row[m]]
        if cut and END_LABEL in words:
            words = words[: words.index(END_LABEL)]
        answers.append(tuple(words))
    return answers


def training_batches(
    task: Task,
    batch: int,
    rng: np.random.Generator,
    *,
    lengths: Sequence[int] = TRAIN_LENGTHS,
    extra: str = "0",
    terminator: bool = True,
    dtype: Any = np.float64,
) -> Iterator[Batch]:
    """Endless batches, each of ``batch`` examples of one length drawn uniformly from ``lengths``."""
    pool = list(lengths)
    if not pool:
        raise TaskError("training needs at least one length")
    while True:
        length = int(pool[int(rng.integers(0, len(pool)))])
        yield encode(task, task.sample(length, batch, rng), extra, terminator=terminator, dtype=dtype)


def evaluation_sets(task: Task, lengths: Sequence[int], n: int, seed: int) -> dict[int, list[TaskExample]]:
    """The same test examples for every model: ``n`` per length, ``default_rng([seed, length])`` for each."""
    return {int(k): task.sample(int(k), n, np.random.default_rng([seed, int(k)])) for k in lengths}


def predict(
    task: Task,
    model: Any,
    examples: Sequence[TaskExample],
    extra: str = "0",
    *,
    terminator: bool = True,
    teacher: bool = False,
    chunk: int = 64,
) -> list[tuple[str, ...]]:
    """The answers a trained model gives (free-running; ``teacher=True`` feeds an encoder–decoder the targets)."""
    answers: list[tuple[str, ...]] = []
    for i in range(0, len(examples), chunk):
        part = list(examples[i : i + chunk])
        inputs, targets, mask = encode(task, part, extra, terminator=terminator, dtype=model.dtype)
        if teacher:
            classes = model.predict(inputs, teacher=targets, mask=mask)
        else:
            classes = model.predict(inputs)
        answers += answers_from_classes(task, classes, mask, terminator=terminator)
    return answers


def summarize(answers: Mapping[int, Sequence[Any]], tests: Mapping[int, Sequence[TaskExample]]) -> dict[str, Any]:
    """Test score (lengths >= 41), train score (lengths < 41), horizon, and the accuracies per length."""
    pairs = {n: [(a, ex.target) for a, ex in zip(answers[n], tests[n], strict=True)] for n in tests}
    everything = score(pairs)
    tested = {n: p for n, p in pairs.items() if n >= FIRST_TEST_LENGTH}
    trained = {n: p for n, p in pairs.items() if n < FIRST_TEST_LENGTH}
    token = everything["per_token_accuracy"]
    sequence = everything["sequence_accuracy"]
    return {
        "score": score(tested)["score"] if tested else None,
        "train_score": score(trained)["score"] if trained else None,
        "train_sequence_accuracy": float(np.mean([sequence[n] for n in trained])) if trained else None,  # type: ignore[index]
        "horizon": everything["horizon"],
        "per_token_accuracy": {str(n): a for n, a in token.items()},  # type: ignore[attr-defined]
        "sequence_accuracy": {str(n): a for n, a in sequence.items()},  # type: ignore[attr-defined]
    }


def sampling_noise(n: int, lengths: int) -> float:
    """The largest standard error of a score averaged over ``lengths`` lengths of ``n`` examples each.

    Per-token accuracies lie in [0, 1], so each length's mean has variance
    at most 1/(4n); the mean over lengths at most 1/(4 n lengths).

    >>> round(100 * sampling_noise(128, 20), 2)
    0.99
    """
    return 0.5 / float(np.sqrt(n * lengths)) * 1.0 if n and lengths else float("nan")


@dataclass(frozen=True)
class Evaluation:
    """A trained model's results on a task's test sets (see :func:`summarize` for the keys of ``summary``)."""

    task: str
    lengths: tuple[int, ...]
    n: int
    seed: int
    summary: dict[str, Any]


def evaluate_on_task(
    task: Task,
    model: Any,
    lengths: Sequence[int],
    n: int,
    seed: int = 0,
    *,
    extra: str = "0",
    terminator: bool = True,
    teacher: bool = False,
) -> Evaluation:
    """Score ``model`` on ``n`` test examples per length (the shared test sets of :func:`evaluation_sets`)."""
    tests = evaluation_sets(task, lengths, n, seed)
    answers = {k: predict(task, model, exs, extra, terminator=terminator, teacher=teacher) for k, exs in tests.items()}
    return Evaluation(task.name, tuple(int(k) for k in lengths), n, seed, summarize(answers, tests))


TRAIN_EVAL_LENGTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 40)
"""The training lengths every trained model is also scored on (how well it fits its training range)."""
TEST_EVAL_LENGTHS = (41, 50, 60, 70, 80, 90, 100, 125, 150, 175, 200, 250, 300, 350, 400, 425, 450, 475, 490, 500)
"""Twenty test lengths spread over 41–500 (41, 60, 100, 200 and 500 among them)."""


def parse_lengths(text: str) -> tuple[int, ...]:
    """Lengths from ``"1-40,41,60,100-500/5"``: single lengths, ranges ``A-B``, and ``A-B/K`` (K evenly spaced).

    >>> parse_lengths("1-4,41,100-500/5")
    (1, 2, 3, 4, 41, 100, 200, 300, 400, 500)
    >>> parse_lengths("3-1")
    Traceback (most recent call last):
    ...
    turingrnn.errors.TaskError: bad lengths '3-1': a range A-B needs 1 <= A <= B
    """
    out: list[int] = []
    for item in (p.strip() for p in str(text).split(",")):
        if not item:
            continue
        body, _, count = item.partition("/")
        low, dash, high = body.partition("-")
        try:
            a = int(low)
            b = int(high) if dash else a
            k = int(count) if count else None
        except ValueError:
            raise TaskError(f"bad lengths {text!r}: {item!r} is not N, A-B or A-B/K") from None
        if a < 1 or b < a:
            raise TaskError(f"bad lengths {text!r}: a range A-B needs 1 <= A <= B")
        if k is None:
            out += range(a, b + 1)
        elif k < 2 or k > b - a + 1:
            raise TaskError(f"bad lengths {text!r}: A-B/K needs 2 <= K <= B - A + 1, got K = {k}")
        else:
            out += [int(round(v)) for v in np.linspace(a, b, k)]
    if not out:
        raise TaskError(f"bad lengths {text!r}: no length given")
    return tuple(sorted(set(out)))


def model_for_task(task: Task, cell: str, hidden: int, *, terminator: bool = True, seed: int = 0, **kwargs: Any) -> Any:
    """A fresh ``cell`` model sized for ``task``: its input symbols and the blank in, its labels out."""
    from .models import make_model

    return make_model(cell, input_width(task), hidden, len(output_labels(task, terminator)), seed=seed, **kwargs)


def train_on_task(
    task: Task,
    model: Any,
    *,
    steps: int,
    batch: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
    lengths: Sequence[int] = TRAIN_LENGTHS,
    extra: str = "0",
    terminator: bool = True,
    **train_kwargs: Any,
) -> Any:
    """Train ``model`` in place on batches of ``task`` (one length per batch, drawn from ``lengths``).

    The batches are drawn with ``numpy.random.default_rng([seed, 1])``; the
    other keyword arguments go to :func:`turingrnn.learning.training.train`
    (``k1``, ``k2``, ``backend``, ``device``, ``progress``, ``callback``, ...).
    """
    from .training import train

    rng = np.random.default_rng([seed, 1])
    batches = training_batches(task, batch, rng, lengths=lengths, extra=extra, terminator=terminator, dtype=model.dtype)
    return train(model, batches, steps=steps, learning_rate=learning_rate, **train_kwargs)
