"""Where the gradient goes: the gradient of one step's loss at every earlier step, as a function of the lag.

This is the quantity behind the vanishing and exploding gradient analysis
(Bengio, Simard and Frasconi 1994; Hochreiter 1991, Hochreiter and
Schmidhuber 1997; Pascanu, Mikolov and Bengio 2013). Take one **scored step**
``s`` of a batch and, for each sequence ``b`` scored there, its own loss

    L_b = -log softmax(logits_{b, s})[y_{b, s}]

(one sequence's cross-entropy, not divided by the batch). The **lag** of step
``t`` is ``k = s - t``. :func:`gradient_by_lag` returns, for ``k = 0, 1, ...,
s``, the mean over those sequences of one of two norms:

- ``wrt="state"`` (the default, as the lectures draw it): ``||dL_b/dS_t||``,
  the gradient reaching the recurrent state ``S_t`` after step ``t``. ``S_t``
  is every state component the core carries to step ``t + 1``, as one vector:
  ``h_t`` for Elman and GRU, ``(h_t, c_t)`` for the LSTM. At lag 0 it is the
  gradient at the features the readout reads at ``s`` (``h_s``: the LSTM's
  ``c_s`` gets none there, since the readout does not read it).
- ``wrt="input"``: ``||dL_b/dx_t||``, the gradient reaching the input at
  step ``t`` (what an input perturbation ``k`` steps back does to the loss).
  This one works for every core, recurrent or not (``tdnn``).

**How the state gradient is taken.** The chain rule through one step at a
time, with the cores' public methods only. One forward pass gives the states
``S_{-1}`` (the start), ``S_0``, ..., ``S_s``. Then, for ``t = s, s - 1,
..., 0``, the core is run forward for the single step ``t`` from ``S_{t-1}``
and :meth:`~turingrnn.learning.cells.Core.backward_with_start` is given
``dL/dfeatures_t`` (nonzero only at ``t = s``, the readout's gradient) and
``dL/dS_t`` (``dfinal``; none at ``t = s``); it returns ``dL/dS_{t-1}``,
the gradient at lag ``s - t + 1``. This is exact (it is how BPTT carries its
gradient) and costs one pass over ``s`` steps. It needs a core that
implements ``backward_with_start``: Elman, LSTM, GRU and their variants.
(An "identity input" trick, extra input columns that add ``W_hh``-weighted
zeros into each step, would read ``W_hh^T dL/du``: that misses the GRU's
direct path ``z * h`` and the LSTM's cell ``c``, so it is not used.)

**Bounds the tests check.** For a tanh Elman network ``dL/dh_{t-1} =
W_hh^T (tanh'(pre_t) * dL/dh_t)``, so from one lag to the next the norm
shrinks at least by ``||W_hh||_2 max|tanh'| <= ||W_hh||_2`` (geometric
vanishing when that is below 1). With ``W_hh = 0`` the gradient at every lag
``>= 1`` is exactly zero, and a ``tdnn`` with window ``w`` has exactly zero
input gradient at lags ``>= w``.

>>> import numpy as np
>>> from turingrnn.learning.models import make_model
>>> model = make_model("elman_tanh", input_size=2, hidden_size=4, output_size=2, seed=0)
>>> x = np.eye(2)[[[0, 1, 1, 0, 1]]]                 # one sequence of 5 steps
>>> y, mask = np.zeros((1, 5), dtype=int), np.eye(5, dtype=bool)[[4]]  # scored at the last step
>>> profile = gradient_by_lag(model, x, y, mask)
>>> profile.shape, bool(profile[0] > profile[4] > 0)
((5,), True)
>>> bool(fit_decay_rate(profile) < 1)
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ShapeError, TrainingConfigError
from .cells import SequenceModel, State, log_softmax

MEASURES = ("state", "input")
"""What :func:`gradient_by_lag` takes the gradient with respect to: the recurrent state or the input."""


def scored_step(mask: np.ndarray) -> int:
    """The last step that any sequence of ``mask`` ``(batch, time)`` scores; a :class:`ShapeError` if none does."""
    m = np.asarray(mask)
    steps = np.flatnonzero(m.any(axis=0)) if m.ndim == 2 else np.array([])
    if steps.size == 0:
        raise ShapeError(f"mask of shape {m.shape} scores no step; expected (batch, time) with a True")
    return int(steps[-1])


def gradient_by_lag(
    model: SequenceModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    *,
    wrt: str = "state",
    step: int | None = None,
) -> np.ndarray:
    """The mean norm of the gradient of the loss at ``step`` with respect to the state (or input) ``lag`` steps back.

    Args:
        model: A model of one core and a readout (:func:`turingrnn.learning.models.make_model`).
        inputs: ``(batch, time, input_size)``.
        targets: ``(batch, time)`` class indices.
        mask: ``(batch, time)`` bools; the sequences scored at ``step`` are measured.
        wrt: ``"state"`` (``||dL/dS_t||``) or ``"input"`` (``||dL/dx_t||``), see the module docstring.
        step: The scored step ``s`` (default: the last step the mask scores).

    Returns:
        ``profile`` of shape ``(s + 1,)``: ``profile[k]`` is the norm at step
        ``s - k``, averaged over the sequences scored at ``s``.

    Raises:
        ShapeError: bad arrays, or no sequence scored at ``step``.
        TrainingConfigError: an unknown ``wrt``, or ``wrt="state"`` for a core
            without ``backward_with_start``.
    """
    if wrt not in MEASURES:
        raise TrainingConfigError(f"wrt must be one of {', '.join(MEASURES)}, got {wrt!r}")
    x, y, m = model.check_batch(inputs, targets, mask)
    s = scored_step(m) if step is None else int(step)
    if not 0 <= s < x.shape[1] or not m[:, s].any():
        raise ShapeError(f"step {s} is not a step the mask scores (the batch has {x.shape[1]} steps)")
    rows = np.flatnonzero(m[:, s])
    xt = np.ascontiguousarray(x[rows, : s + 1].transpose(1, 0, 2))  # (s + 1, B, I), nothing after s matters
    start = model.initial_state(len(rows))
    fs, cache = model.core.forward(model.params, xt, start)
    dfs = np.zeros_like(fs)
    dfs[s] = readout_gradient(model, fs[s], y[rows, s])
    if wrt == "input":
        _, dx = model.core.backward(model.params, cache, dfs)
        return _mean_norms([dx[s - k] for k in range(s + 1)])
    return _state_profile(model, xt, model.core.states(cache, start), dfs[s])


def readout_gradient(model: SequenceModel, features: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``dL_b/dfeatures`` ``(B, F)`` of each row's own cross-entropy at one step, through the model's readout."""
    read = np.maximum(features, 0) if model.readout == "relu" else features
    logits = read @ model.params["weight_out"].T + model.params["bias_out"]
    dlogits = np.exp(log_softmax(logits))
    dlogits[np.arange(len(targets)), targets] -= 1
    dfeatures = dlogits @ model.params["weight_out"]
    return dfeatures * (features > 0) if model.readout == "relu" else dfeatures


def _state_profile(model: SequenceModel, xt: np.ndarray, states: State, dlast: np.ndarray) -> np.ndarray:
    """Lag 0: ``dlast``; lag ``k >= 1``: ``dL/dS_{s-k}``, one step of ``backward_with_start`` at a time."""
    core, params = model.core, model.params
    s = xt.shape[0] - 1
    norms = [dlast]
    dfeatures = np.zeros((1,) + dlast.shape, dtype=dlast.dtype)
    dfeatures[0] = dlast
    dstate: State | None = None
    for t in range(s, 0, -1):
        before = tuple(component[:, t] for component in states)  # S_{t-1}: index 0 of `states` is the start
        _, cache = core.forward(params, xt[t : t + 1], before)
        try:
            _, _, dstate = core.backward_with_start(params, cache, dfeatures, dstate)
        except NotImplementedError:
            raise TrainingConfigError(
                f"the {model.name} core gives no gradient for its state (no backward_with_start); use wrt='input'"
            ) from None
        norms.append(np.concatenate([d.reshape(d.shape[0], -1) for d in dstate], axis=1))
        dfeatures = np.zeros_like(dfeatures)
    return _mean_norms(norms)


def _mean_norms(gradients: Sequence[np.ndarray]) -> np.ndarray:
    """For each ``(B, ...)`` array, the mean over ``B`` of each row's Euclidean norm (in float64)."""
    return np.array(
        [float(np.mean(np.linalg.norm(g.reshape(g.shape[0], -1).astype(np.float64), axis=1))) for g in gradients]
    )


def fit_decay_rate(profile: np.ndarray, first: int = 1, last: int | None = None) -> float:
    """The factor per step of a geometric fit ``profile[k] ~ A r^k`` over lags ``first..last``: ``r``.

    The fit is least squares on ``log profile[k]`` over the lags whose value
    is positive and finite; ``r < 1`` means the gradient vanishes with the
    lag, ``r > 1`` that it grows. NaN when fewer than two lags qualify.

    >>> round(fit_decay_rate(np.array([1.0, 0.5, 0.25, 0.125])), 6)
    0.5
    """
    p = np.asarray(profile, dtype=np.float64)
    lags = np.arange(first, len(p) if last is None else min(last + 1, len(p)))
    values = p[lags]
    keep = np.isfinite(values) & (values > 0)
    if keep.sum() < 2:
        return float("nan")
    slope = np.polyfit(lags[keep], np.log(values[keep]), 1)[0]
    return float(np.exp(slope))
