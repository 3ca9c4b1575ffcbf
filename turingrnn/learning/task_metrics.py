"""How answers are scored: per-token accuracy, whole-sequence correctness, Delétang's score and the horizon."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import TaskError

HORIZON_ACCURACY = 0.99
"""The sequence accuracy a length needs to count toward the generalization horizon."""

Prediction = Sequence[str] | None
"""A model's answer to one example: a label sequence, or ``None`` for no answer (counts as wrong)."""


def per_token_accuracy(pred: Prediction, target: Sequence[str]) -> float:
    """The fraction of positions where ``pred`` matches ``target``.

    Positions run over the longer of the two, so a missing or extra label is
    wrong; two empty sequences score 1, and no answer (``None``) scores 0.

    >>> per_token_accuracy(("0", "1", "1"), ("0", "1", "0")), per_token_accuracy(("0",), ("0", "1"))
    (0.6666666666666666, 0.5)
    """
    if pred is None:
        return 0.0
    size = max(len(pred), len(target))
    if size == 0:
        return 1.0
    return sum(p == t for p, t in zip(pred, target, strict=False)) / size


def sequence_correct(pred: Prediction, target: Sequence[str]) -> bool:
    """Whether ``pred`` is exactly ``target`` (``None`` never is).

    >>> sequence_correct(["1", "0"], ("1", "0")), sequence_correct(None, ())
    (True, False)
    """
    return pred is not None and tuple(pred) == tuple(target)


def score(results_by_length: Mapping[int, Sequence[tuple[Prediction, Sequence[str]]]]) -> dict[str, object]:
    """Delétang's score, the accuracies per length, and the generalization horizon.

    Args:
        results_by_length: For each tested length, the ``(prediction, target)`` pairs.

    Returns:
        ``score``: the mean over lengths of the mean per-token accuracy (the
        paper's score when the lengths are the test lengths);
        ``per_token_accuracy`` and ``sequence_accuracy``: length → mean;
        ``horizon``: the largest tested length L such that every tested length
        <= L has sequence accuracy >= :data:`HORIZON_ACCURACY` (0 if none).

    >>> r = score({1: [(("1",), ("1",))], 2: [(("0",), ("1",)), (("1",), ("1",))], 3: [(("1",), ("1",))]})
    >>> r["score"], r["sequence_accuracy"], r["horizon"]
    (0.8333333333333334, {1: 1.0, 2: 0.5, 3: 1.0}, 1)
    """
    if not results_by_length:
        raise TaskError("score needs results for at least one length")
    token: dict[int, float] = {}
    sequence: dict[int, float] = {}
    for length in sorted(results_by_length):
        pairs = results_by_length[length]
        if not pairs:
            raise TaskError(f"score: length {length} has no results")
        token[length] = float(np.mean([per_token_accuracy(p, t) for p, t in pairs]))
        sequence[length] = float(np.mean([sequence_correct(p, t) for p, t in pairs]))
    horizon = 0
    for length, accuracy in sequence.items():
        if accuracy < HORIZON_ACCURACY:
            break
        horizon = length
    return {
        "score": float(np.mean(list(token.values()))),
        "per_token_accuracy": token,
        "sequence_accuracy": sequence,
        "horizon": horizon,
    }
