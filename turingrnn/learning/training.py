"""Training the cells of :mod:`turingrnn.learning.cells`: truncated BPTT, Adam, gradient clipping and the loop.

A batch is three arrays: one-hot ``inputs`` ``(B, T, I)``, int ``targets``
``(B, T)`` and a bool ``mask`` ``(B, T)`` that selects the positions the loss and
the accuracy count. Every batch starts from the zero state.

**Truncated BPTT (k1, k2)** (Williams and Peng's BPTT(h; h') with ``h = k2``,
``h' = k1``): the network runs ``k1`` steps between updates; each update
backpropagates the loss of those ``k1`` newest steps through the last ``k2``
steps (``k2 >= k1``), starting from the state reached ``k2`` steps before the
update. ``k1 = k2 = T`` (the default) is full BPTT: one update a batch. The
loss of an update is the mean over the masked positions among its ``k1``
steps; an update with none is skipped.

Every update clips the gradient to a global norm, then takes an Adam step. A
loss or gradient that is NaN or infinite raises
:class:`~turingrnn.errors.TrainingDivergedError` before the update, so the
model keeps its last finite parameters and no garbage is reported.

>>> from turingrnn.learning.models import make_model
>>> model = make_model("gru", input_size=2, hidden_size=8, output_size=2, seed=0)
>>> x = np.eye(2)[[[0, 1], [1, 0]]]                  # two sequences of two steps
>>> y = np.array([[0, 0], [0, 1]])
>>> mask = np.array([[False, True], [False, True]])  # score only the last step
>>> result = train(model, [(x, y, mask)] * 200, learning_rate=0.05)
>>> result.steps, result.updates, evaluate(model, x, y, mask).accuracy
(200, 200, 1.0)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass
from itertools import islice
from typing import TextIO

import numpy as np

from ..errors import ShapeError, TrainingConfigError, TrainingDivergedError
from ..progress import monotonic
from .cells import LossAndGradients, SequenceModel, State

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(inputs (B, T, I) float, targets (B, T) int, mask (B, T) bool)``."""


# --- gradients ------------------------------------------------------------------


def global_norm(grads: dict[str, np.ndarray]) -> float:
    """The Euclidean norm of all gradients taken together as one vector."""
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    """Scale ``grads`` so that their global norm is at most ``max_norm``; also return the norm before clipping.

    The direction is kept; gradients already within the bound are returned unchanged.

    >>> clipped, norm = clip_by_global_norm({"w": np.array([3.0, 4.0])}, 1.0)
    >>> norm, clipped["w"].tolist()
    (5.0, [0.6000000000000001, 0.8])
    """
    if not max_norm > 0:
        raise TrainingConfigError(f"max_norm must be positive, got {max_norm!r}")
    norm = global_norm(grads)
    if norm <= max_norm or not np.isfinite(norm):
        return grads, norm
    scale = max_norm / norm
    return {name: g * np.asarray(scale, dtype=g.dtype) for name, g in grads.items()}, norm


class Adam:
    """Adam (Kingma and Ba), updating a dict of parameter arrays in place, as ``torch.optim.Adam`` does.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``, and
    ``p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``.
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        *,
        learning_rate: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        if not learning_rate > 0:
            raise TrainingConfigError(f"learning_rate must be positive, got {learning_rate!r}")
        if not all(0 <= b < 1 for b in betas):
            raise TrainingConfigError(f"betas must lie in [0, 1), got {betas!r}")
        self.params = params
        self.learning_rate = learning_rate
        self.betas = betas
        self.eps = eps
        self.t = 0
        self.m = {name: np.zeros_like(p) for name, p in params.items()}
        self.v = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """Apply one update with ``grads`` (keyed like ``params``)."""
        if grads.keys() != self.params.keys():
            raise ShapeError(f"gradients for {sorted(grads)}; the optimizer holds {sorted(self.params)}")
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for name, p in self.params.items():
            g = grads[name]
            m, v = self.m[name], self.v[name]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= self.learning_rate * (m / c1) / (np.sqrt(v / c2) + self.eps)


# --- truncated BPTT ---------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One update of truncated BPTT: the loss of steps ``[start, stop)`` backpropagated from ``back``.

    ``result`` holds the loss, the counts, the gradients and the logits of
    steps ``[back, stop)``.
    """

    back: int
    start: int
    stop: int
    result: LossAndGradients


def window_bounds(model: SequenceModel, steps: int, k1: int | None, k2: int | None) -> Iterator[tuple[int, ...]]:
    """``(back, start, stop, next_back)`` of each update of truncated BPTT(k1, k2) over ``steps`` steps.

    The update runs steps ``[back, stop)``, scores ``[start, stop)``, and
    hands the state at ``next_back`` to the next window.

    >>> from turingrnn.learning.models import make_model
    >>> list(window_bounds(make_model("gru", 1, 2, 2), 9, 3, 5))
    [(0, 0, 3, 1), (1, 3, 6, 4), (4, 6, 9, 7)]
    """
    k1 = max(steps, 1) if k1 is None else k1
    k2 = k1 if k2 is None else k2
    if isinstance(k1, bool) or not isinstance(k1, int | np.integer) or k1 < 1:
        raise TrainingConfigError(f"k1 must be a positive int, got {k1!r}")
    if isinstance(k2, bool) or not isinstance(k2, int | np.integer) or k2 < k1:
        raise TrainingConfigError(f"k2 must be an int >= k1 = {k1}, got {k2!r}")
    if k1 < steps and not model.core.carries_state:
        raise TrainingConfigError(
            f"the {model.name} model reads the whole sequence before it answers (bidirectional or encoder-decoder), "
            f"so it trains by full BPTT only: k1 = {k1} is shorter than the sequence ({steps} steps)"
        )
    back = 0
    for start in range(0, steps, k1):
        stop = min(start + k1, steps)
        next_back = max(0, stop + k1 - k2)
        yield back, start, stop, next_back
        back = next_back


def truncated_bptt(
    model: SequenceModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    *,
    k1: int | None = None,
    k2: int | None = None,
) -> Iterator[Window]:
    """Yield the updates of truncated BPTT(k1, k2) over one batch, one :class:`Window` each.

    The caller may change ``model.params`` between windows (that is training);
    each window runs forward from the state it was handed with the current
    parameters. ``k1`` defaults to the sequence length and ``k2`` to ``k1``.
    """
    x, y, m = model.check_batch(inputs, targets, mask)
    state: State | None = None  # the state at step `back` of the next window
    for back, start, stop, next_back in window_bounds(model, x.shape[1], k1, k2):
        window_mask = m[:, back:stop].copy()
        window_mask[:, : start - back] = False
        result = model.loss_and_grad(x[:, back:stop], y[:, back:stop], window_mask, state, keep_states=True)
        yield Window(back=back, start=start, stop=stop, result=result)
        state = tuple(s[:, next_back - back] for s in result.states or ())


# --- the loop ---------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """Loss and accuracy over the masked positions of a batch.

    Attributes:
        loss: Mean cross-entropy over the masked positions.
        accuracy: Fraction of masked positions whose argmax is the target.
        sequence_accuracy: Fraction of sequences with every masked position
            right (sequences without one are left out).
        count: How many positions the mask selects.
    """

    loss: float
    accuracy: float
    sequence_accuracy: float
    count: int


def evaluate(model: SequenceModel, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> Evaluation:
    """Run ``model`` on a batch from the zero state and score it (NaN accuracies when the mask is empty)."""
    result = model.loss_and_grad(inputs, targets, mask)
    m = np.asarray(mask)
    right = (result.logits.argmax(axis=-1) == np.asarray(targets)) | ~m
    scored = m.any(axis=1)
    return Evaluation(
        loss=result.loss,
        accuracy=result.correct / result.count if result.count else float("nan"),
        sequence_accuracy=float(right.all(axis=1)[scored].mean()) if scored.any() else float("nan"),
        count=result.count,
    )


@dataclass(frozen=True)
class TrainingStep:
    """What the ``callback`` of :func:`train` sees after each batch.

    Attributes:
        step: The batch index (0-based).
        loss: Mean cross-entropy over the batch's masked positions (as seen by the updates).
        accuracy: Fraction of those positions the model got right (NaN if none).
        grad_norm: The largest global gradient norm before clipping among the batch's updates.
        updates: Optimizer updates so far.
        seconds: Wall-clock seconds since training started.
    """

    step: int
    loss: float
    accuracy: float
    grad_norm: float
    updates: int
    seconds: float


@dataclass(frozen=True)
class TrainingResult:
    """The history of a :func:`train` run (the model itself is trained in place).

    Attributes:
        losses: The loss of each batch.
        accuracies: The accuracy of each batch (on its masked positions, during training).
        grad_norms: The largest pre-clipping gradient norm of each batch.
        steps: Batches done.
        updates: Optimizer updates done.
        seconds: Wall-clock time.
        stopped_early: The callback asked to stop.
        interrupted: Training ended by Ctrl-C (the result holds what was done).
    """

    losses: tuple[float, ...]
    accuracies: tuple[float, ...]
    grad_norms: tuple[float, ...]
    steps: int
    updates: int
    seconds: float
    stopped_early: bool = False
    interrupted: bool = False


class TrainingProgressBar:
    """One line on ``stderr``, rewritten at most every ``interval`` seconds: batches, loss, accuracy, speed."""

    def __init__(self, total: int | None, stream: TextIO | None = None, interval: float = 0.25, width: int = 20):
        self.total = total
        self.stream = stream
        self.interval = interval
        self.width = width
        self._shown = -float("inf")

    def __call__(self, s: TrainingStep, done: str = "") -> None:
        """Show ``s``; a non-empty ``done`` ("done", "interrupted") always shows, is appended, and ends the line."""
        if not done and s.seconds - self._shown < self.interval:
            return
        self._shown = s.seconds
        count = s.step + 1
        if self.total:
            frac = min(1.0, count / self.total)
            full = round(frac * self.width)
            head = f"[{'#' * full}{'-' * (self.width - full)}] {100 * frac:5.1f}%  {count:,}/{self.total:,}"
        else:
            head = f"{count:,}"
        rate = count / s.seconds if s.seconds > 0 else 0.0
        clock = int(s.seconds)
        line = (
            f"{head} batches  loss {s.loss:.4f}  acc {100 * s.accuracy:5.1f}%  {rate:,.1f} batches/s  "
            f"{clock // 3600}:{clock // 60 % 60:02d}:{clock % 60:02d}{'  ' + done if done else ''}"
        )
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write("\r" + line + ("\n" if done else ""))
        stream.flush()


BACKENDS = ("numpy", "torch")
"""``numpy``: the reference BPTT of :mod:`.cells`; ``torch``: :mod:`.torch_backend`."""


def train(
    model: SequenceModel,
    batches: Iterable[Batch],
    *,
    steps: int | None = None,
    learning_rate: float = 1e-3,
    k1: int | None = None,
    k2: int | None = None,
    max_grad_norm: float | None = 1.0,
    optimizer: Adam | None = None,
    progress: bool | TextIO = False,
    callback: Callable[[TrainingStep], bool | None] | None = None,
    backend: str = "numpy",
    device: str = "cpu",
) -> TrainingResult:
    """Train ``model`` in place on ``batches`` with truncated BPTT(k1, k2), gradient clipping and Adam.

    A model whose core is fitted in closed form (the echo state network's
    ridge-regression readout) is fitted by its own method on the same
    batches instead; ``learning_rate``, ``k1``, ``k2`` and the backend do not
    apply to it.

    Args:
        model: A model from :func:`turingrnn.learning.models.make_model`.
        batches: ``(inputs, targets, mask)`` triples (see :data:`Batch`); a
            list or a generator. Each batch starts from the zero state.
        steps: How many batches to take (default: all of ``batches``).
        learning_rate: Adam's step size (ignored when ``optimizer`` is given).
        k1: Steps run between updates (default: the batch's length, full BPTT).
        k2: Steps backpropagated per update, ``>= k1`` (default ``k1``).
        max_grad_norm: Clip each update's gradient to this global norm (``None``: no clipping).
        optimizer: An :class:`Adam` over ``model.params`` to continue with
            (default: a fresh one; numpy backend only).
        progress: ``True`` for a progress bar on stderr, or a stream to write it to.
        callback: Called with a :class:`TrainingStep` after each batch; return
            ``True`` to stop.
        backend: ``"numpy"`` (default) or ``"torch"`` (:mod:`turingrnn.learning.torch_backend`).
        device: The torch device, ``"cpu"`` or ``"cuda"`` (torch backend only).

    Raises:
        TrainingDivergedError: A loss or gradient became NaN or infinite (the
            model keeps the parameters from before that update).
        ShapeError: A batch's arrays do not fit the model or each other.
        BackendError: The torch backend cannot run here.
    """
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
        raise TrainingConfigError(f"steps must be a non-negative int or None, got {steps!r}")
    if backend not in BACKENDS:
        raise TrainingConfigError(f"unknown backend {backend!r}; backends are: {', '.join(BACKENDS)}")
    if getattr(model.core, "closed_form", False):
        from .reservoir import fit_readout

        return fit_readout(model, batches, steps=steps, progress=progress, callback=callback)
    if not learning_rate > 0:
        raise TrainingConfigError(f"learning_rate must be positive, got {learning_rate!r}")
    if backend == "torch" and optimizer is not None:
        raise TrainingConfigError("an Adam optimizer state can only be continued with the numpy backend")
    if optimizer is None and backend == "numpy":
        optimizer = Adam(model.params, learning_rate=learning_rate)
    elif optimizer is not None and optimizer.params is not model.params:
        raise TrainingConfigError("the optimizer was made for other parameters than this model's")
    total = steps if steps is not None else (len(batches) if isinstance(batches, Sized) else None)
    bar = None
    if progress:
        bar = TrainingProgressBar(total, stream=None if progress is True else progress)
    losses: list[float] = []
    accuracies: list[float] = []
    norms: list[float] = []
    started = monotonic()
    records: list[TrainingStep] = []

    def record(index: int, loss: float, accuracy: float, norm: float, updates: int) -> TrainingStep:
        step = TrainingStep(index, loss, accuracy, norm, updates, monotonic() - started)
        records.append(step)
        losses.append(loss)
        accuracies.append(accuracy)
        norms.append(norm)
        return step

    stopped = interrupted = False
    if backend == "torch":
        from .torch_backend import train_torch

        updates, stopped, interrupted = train_torch(
            model, batches, steps=steps, learning_rate=learning_rate, k1=k1, k2=k2, max_grad_norm=max_grad_norm,
            device=device, bar=bar, callback=callback, record=record,
        )  # fmt: skip
    else:
        assert optimizer is not None
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                for index, batch in enumerate(islice(batches, steps)):
                    r = _train_batch(model, optimizer, batch, index, k1, k2, max_grad_norm)
                    step = record(index, *r, optimizer.t)
                    if bar is not None:
                        bar(step)
                    if callback is not None and callback(step):
                        stopped = True
                        break
        except KeyboardInterrupt:
            interrupted = True
        updates = optimizer.t
    if bar is not None and records:
        bar(records[-1], done="interrupted" if interrupted else "stopped" if stopped else "done")
    return TrainingResult(
        losses=tuple(losses),
        accuracies=tuple(accuracies),
        grad_norms=tuple(norms),
        steps=len(losses),
        updates=updates,
        seconds=monotonic() - started,
        stopped_early=stopped,
        interrupted=interrupted,
    )


def _train_batch(
    model: SequenceModel,
    optimizer: Adam,
    batch: Batch,
    index: int,
    k1: int | None,
    k2: int | None,
    max_grad_norm: float | None,
) -> tuple[float, float, float]:
    """One batch of updates: its loss and accuracy over the scored positions, and the largest gradient norm."""
    if not isinstance(batch, tuple | list) or len(batch) != 3:
        raise ShapeError(f"batch {index} is not an (inputs, targets, mask) triple: {type(batch).__name__}")
    loss_sum = 0.0
    count = correct = 0
    worst = 0.0
    for window in truncated_bptt(model, *batch, k1=k1, k2=k2):
        r = window.result
        if r.count == 0:
            continue
        norm = global_norm(r.grads)
        if not (np.isfinite(r.loss) and np.isfinite(norm)):
            raise TrainingDivergedError(
                f"training diverged at batch {index}, update {optimizer.t + 1} (steps {window.start}..{window.stop}): "
                f"loss {r.loss}, gradient norm {norm}; stopped before the update, the model keeps its last finite "
                "parameters (try a lower learning rate or max_grad_norm)",
                step=index,
                update=optimizer.t + 1,
                loss=r.loss,
                grad_norm=norm,
            )
        grads = r.grads if max_grad_norm is None else clip_by_global_norm(r.grads, max_grad_norm)[0]
        optimizer.step(grads)
        loss_sum += r.loss * r.count
        count += r.count
        correct += r.correct
        worst = max(worst, norm)
    return (loss_sum / count if count else float("nan"), correct / count if count else float("nan"), worst)
