"""Echo state networks: a fixed random reservoir and a readout fitted in closed form by ridge regression.

Jaeger (2001) and the recipe of Lukoševičius (2012), "A practical guide to
applying echo state networks". The reservoir is a leaky tanh layer whose
weights are drawn once and never trained:

    x' = (1 - a) x + a tanh(W_in u + W x + b)

with leak rate ``a`` in ``(0, 1]``. ``W`` ``(H, H)`` has a random fraction
``density`` of nonzero entries, uniform on ``±1``, then is rescaled so that
its spectral radius (the largest ``|eigenvalue|``, computed with
``numpy.linalg.eigvals`` at construction) is exactly ``spectral_radius``;
``W_in`` ``(H, I)`` is uniform on ``±input_scaling`` and ``b`` ``(H,)`` on
``±bias_scaling``. All three are drawn from
``numpy.random.default_rng(reservoir_seed)`` and depend on nothing else, so
a checkpoint (which stores the options, not these arrays) rebuilds them
exactly. They are read-only attributes of the core, not parameters:
``param_names`` is empty, and the model's only trainable arrays are the
readout's ``weight_out`` and ``bias_out``.

:func:`fit_readout` trains an echo state network: it runs the reservoir over
the batches, gathers the features at the masked positions and solves the
ridge regression onto one-hot targets in closed form. The core's
:attr:`~EchoStateCore.closed_form` flag tells the training loop to do so
instead of BPTT. The core's backward pass still gives ``dL/dx`` (no
parameter gradients), so gradients of the readout and of anything below the
reservoir are exact.

>>> from turingrnn.learning.models import make_model
>>> model = make_model("esn", input_size=2, hidden_size=20, output_size=2, spectral_radius=0.5)
>>> sorted(model.params), model.core.closed_form
(['bias_out', 'weight_out'], True)
>>> round(float(np.abs(np.linalg.eigvals(model.core.W)).max()), 12)
0.5
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sized
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

import numpy as np

from ..errors import ShapeError, TrainingConfigError, TrainingDivergedError
from ..progress import monotonic
from .cells import Core, SequenceModel, State, log_softmax

if TYPE_CHECKING:
    from .training import Batch, TrainingResult, TrainingStep


def _number(label: str, value: Any, *, low: float, high: float = np.inf, open_low: bool) -> float:
    """``value`` as a float if it is a real number in the range, else a :class:`TrainingConfigError` naming it."""
    ok = not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)
    if ok:
        v = float(value)
        ok = bool(np.isfinite(v)) and (v > low if open_low else v >= low) and v <= high
    if not ok:
        if high == np.inf:
            allowed = f"a finite number {'>' if open_low else '>='} {low:g}"
        else:
            allowed = f"a number in {'(' if open_low else '['}{low:g}, {high:g}]"
        raise TrainingConfigError(f"{label} must be {allowed}, got {value!r}")
    return float(value)


class EchoStateCore(Core):
    """A leaky tanh reservoir with fixed random weights ``W_in``, ``W``, ``b`` (no trainable parameters).

    Args:
        input_size: ``I``.
        hidden_size: ``H``, the reservoir units (the feature width).
        spectral_radius: The largest ``|eigenvalue|`` of ``W`` after rescaling (``>= 0``).
        input_scaling: ``W_in`` is uniform on ``±input_scaling`` (``> 0``).
        bias_scaling: ``b`` is uniform on ``±bias_scaling`` (``>= 0``; 0: no bias).
        leak_rate: ``a`` in ``(0, 1]``; 1 is the plain (non-leaky) reservoir.
        density: The fraction of nonzero entries of ``W``, in ``(0, 1]``.
        reservoir_seed: The seed of the fixed weights (a non-negative int).
        dtype: float64 or float32.

    Raises:
        TrainingConfigError: an option outside its range, or a drawn ``W`` whose
            spectral radius is 0 (too sparse to rescale).
    """

    name = "esn"
    closed_form: ClassVar[bool] = True
    """Trained by :func:`fit_readout` (ridge regression), not by BPTT."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        spectral_radius: float = 0.9,
        input_scaling: float = 1.0,
        bias_scaling: float = 0.0,
        leak_rate: float = 1.0,
        density: float = 1.0,
        reservoir_seed: int = 0,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(input_size, hidden_size, dtype=dtype)
        self.spectral_radius = _number("spectral_radius", spectral_radius, low=0, open_low=False)
        self.input_scaling = _number("input_scaling", input_scaling, low=0, open_low=True)
        self.bias_scaling = _number("bias_scaling", bias_scaling, low=0, open_low=False)
        self.leak_rate = _number("leak_rate", leak_rate, low=0, high=1, open_low=True)
        self.density = _number("density", density, low=0, high=1, open_low=True)
        if isinstance(reservoir_seed, bool) or not isinstance(reservoir_seed, int | np.integer) or reservoir_seed < 0:
            raise TrainingConfigError(f"reservoir_seed must be a non-negative int, got {reservoir_seed!r}")
        self.reservoir_seed = int(reservoir_seed)
        self.W_in, self.W, self.b = self._draw()

    def _draw(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``W_in``, ``W`` (rescaled to the spectral radius) and ``b``, from ``reservoir_seed`` alone, read-only."""
        h, rng = self.hidden_size, np.random.default_rng(self.reservoir_seed)
        w_in = rng.uniform(-self.input_scaling, self.input_scaling, size=(h, self.input_size))
        w = rng.uniform(-1.0, 1.0, size=(h, h)) * (rng.random((h, h)) < self.density)
        b = rng.uniform(-self.bias_scaling, self.bias_scaling, size=h)
        radius = float(np.abs(np.linalg.eigvals(w)).max())
        if radius == 0.0 and self.spectral_radius > 0:
            raise TrainingConfigError(
                f"the reservoir drawn with density {self.density} and {h} units has spectral radius 0 and cannot be "
                f"rescaled to {self.spectral_radius}; raise density or hidden_size, or change reservoir_seed"
            )
        w = w * (self.spectral_radius / radius) if radius else w
        arrays = tuple(np.asarray(a, dtype=self.dtype) for a in (w_in, w, b))
        for a in arrays:
            a.flags.writeable = False
        return arrays  # type: ignore[return-value]

    @property
    def param_names(self) -> tuple[str, ...]:
        """None: the reservoir is fixed."""
        return ()

    def options(self) -> dict[str, Any]:
        """Every option (they rebuild the fixed weights)."""
        return {
            "spectral_radius": self.spectral_radius,
            "input_scaling": self.input_scaling,
            "bias_scaling": self.bias_scaling,
            "leak_rate": self.leak_rate,
            "density": self.density,
            "reservoir_seed": self.reservoir_seed,
        }

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """No parameters (``rng`` is not touched, so the readout's initialisation does not depend on the reservoir)."""
        return {}

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """The leaky reservoir over all steps; the features are the states ``x``."""
        a = xt @ self.W_in.T + self.b
        w_t, leak = self.W.T, self.dtype.type(self.leak_rate)
        hs = np.empty(a.shape, dtype=self.dtype)
        acts = np.empty_like(hs)  # tanh(W_in u + W x + b) at each step
        h = start[0]
        for t in range(a.shape[0]):
            acts[t] = np.tanh(a[t] + h @ w_t)
            h = (1 - leak) * h + leak * acts[t]
            hs[t] = h
        return hs, {"h": hs, "acts": acts}

    def backward(
        self, params: dict[str, np.ndarray], cache: dict, dfeatures: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """No parameter gradients; ``dL/du`` through ``dx_{t+1}/dx_t = (1 - a) I + a diag(1 - tanh^2) W``."""
        acts, leak = cache["acts"], self.dtype.type(self.leak_rate)
        dz = np.empty_like(acts)  # dL/d(W_in u + W x + b)
        carry = np.zeros(acts.shape[1:], dtype=self.dtype)
        for t in range(acts.shape[0] - 1, -1, -1):
            dh = dfeatures[t] + carry
            dz[t] = dh * leak * (1 - acts[t] * acts[t])
            carry = (1 - leak) * dh + dz[t] @ self.W
        return {}, dz @ self.W_in

    def torch_forward(self, params: dict[str, Any], xt: Any, start: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """The same reservoir in torch ops (the fixed weights as constants)."""
        import torch

        w_in, w, b = (torch.tensor(m, dtype=xt.dtype, device=xt.device) for m in (self.W_in, self.W, self.b))
        a = xt @ w_in.T + b
        h, hs = start[0], []
        for t in range(xt.shape[0]):
            h = (1 - self.leak_rate) * h + self.leak_rate * torch.tanh(a[t] + h @ w.T)
            hs.append(h)
        features = torch.stack(hs) if hs else xt.new_zeros((0, xt.shape[1], self.hidden_size))
        return features, (h,)


# ---------------------------------------------------------------- fitting the readout


class RidgeReadout:
    """The normal equations of a ridge regression onto one-hot targets, accumulated batch by batch.

    With ``Z`` the features of the masked positions and a column of ones,
    ``Y`` the one-hot targets and ``D`` the identity with a 0 for the bias,
    the fit minimises ``|Z beta - Y|^2 + ridge |D beta|^2`` (the bias is not
    shrunk), whose solution is ``(Z^T Z + ridge D) beta = Z^T Y``. Only
    ``Z^T Z`` ``(F + 1, F + 1)`` and ``Z^T Y`` ``(F + 1, O)`` are kept.
    """

    def __init__(self, features: int, outputs: int, ridge: float) -> None:
        self.gram = np.zeros((features + 1, features + 1))
        self.moment = np.zeros((features + 1, outputs))
        self.penalty = np.diag(np.r_[np.full(features, ridge), 0.0])
        self.count = 0

    def add(self, features: np.ndarray, targets: np.ndarray) -> None:
        """Add the rows ``features`` ``(N, F)`` with class indices ``targets`` ``(N,)``."""
        z = np.concatenate([features.astype(np.float64), np.ones((len(features), 1))], axis=1)
        self.gram += z.T @ z
        onehot = np.zeros((len(targets), self.moment.shape[1]))
        onehot[np.arange(len(targets)), targets] = 1.0
        self.moment += z.T @ onehot
        self.count += len(features)

    def solve(self) -> tuple[np.ndarray, np.ndarray]:
        """``weight_out`` ``(O, F)`` and ``bias_out`` ``(O,)`` (float64)."""
        beta = np.linalg.solve(self.gram + self.penalty, self.moment)
        return beta[:-1].T, beta[-1]


def fit_readout(
    model: SequenceModel,
    batches: Iterable[Batch],
    *,
    steps: int | None = None,
    ridge: float = 1e-6,
    progress: bool | TextIO = False,
    callback: Callable[[TrainingStep], bool | None] | None = None,
) -> TrainingResult:
    """Fit ``model``'s readout in place by ridge regression on its core's features; the core stays as it is.

    Every batch runs from the zero state; the features at its masked
    positions (after the ReLU for ``readout="relu"``) are added to the
    normal equations of :class:`RidgeReadout`, which are solved again after
    each batch and written into ``weight_out`` and ``bias_out``. So the model
    always holds the fit of the batches seen so far (also when the callback
    stops or Ctrl-C interrupts), and memory stays ``O(F^2)`` however many
    batches there are. Unmasked positions (a washout, the input phase) are
    never fitted.

    The result reads like :func:`~turingrnn.learning.training.train`'s: ``losses[i]``
    and ``accuracies[i]`` are those of batch ``i`` under the readout fitted to
    batches ``0..i`` (NaN before any masked position), ``updates`` counts the
    solves, and ``grad_norms`` are NaN (no gradient is taken). The loss is
    the softmax cross-entropy of the least-squares logits, which stays well
    above 0 even for a perfect fit (about 0.31 with two classes); the
    accuracy is the measure.

    Args:
        model: A model from :func:`turingrnn.learning.models.make_model`; any core
            works, ``esn`` is the one meant (its ``closed_form`` flag).
        batches: ``(inputs, targets, mask)`` triples, as for ``train``.
        steps: How many batches to take (default: all of ``batches``).
        ridge: The regularisation ``> 0`` of the readout weights (not the bias).
        progress: ``True`` for a progress bar on stderr, or a stream to write it to.
        callback: Called with a :class:`~turingrnn.learning.training.TrainingStep` after
            each batch; return ``True`` to stop.

    Raises:
        TrainingConfigError: a bad ``ridge`` or ``steps``, or no masked position in any batch.
        ShapeError: a batch's arrays do not fit the model or each other.
        TrainingDivergedError: the features or the solution are not finite.
    """
    from .training import TrainingProgressBar, TrainingResult, TrainingStep

    ridge = _number("ridge", ridge, low=0, open_low=True)
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
        raise TrainingConfigError(f"steps must be a non-negative int or None, got {steps!r}")
    total = steps if steps is not None else (len(batches) if isinstance(batches, Sized) else None)
    bar = TrainingProgressBar(total, stream=None if progress is True else progress) if progress else None
    system = RidgeReadout(model.core.features, model.output_size, ridge)
    losses: list[float] = []
    accuracies: list[float] = []
    started = monotonic()
    record: TrainingStep | None = None
    stopped = interrupted = False
    solves = 0
    try:
        for index, batch in enumerate(islice(batches, steps)):
            feats, labels = _masked_features(model, batch, index, solves + 1)
            if len(labels):
                system.add(feats, labels)
                _write_readout(model, system, index, solves + 1)
                solves += 1
                logits = feats @ model.params["weight_out"].T + model.params["bias_out"]
                picked = np.take_along_axis(log_softmax(logits), labels[:, None], axis=1)
                losses.append(-float(picked.mean()))
                accuracies.append(float((logits.argmax(axis=1) == labels).mean()))
            else:
                losses.append(float("nan"))
                accuracies.append(float("nan"))
            record = TrainingStep(index, losses[-1], accuracies[-1], float("nan"), solves, monotonic() - started)
            if bar is not None:
                bar(record)
            if callback is not None and callback(record):
                stopped = True
                break
    except KeyboardInterrupt:
        interrupted = True
    if bar is not None and record is not None:
        bar(record, done="interrupted" if interrupted else "stopped" if stopped else "done")
    if not system.count and not interrupted:
        raise TrainingConfigError(
            f"fit_readout found no masked position in {len(losses)} batch(es): there is nothing to fit the readout to"
        )
    return TrainingResult(
        losses=tuple(losses),
        accuracies=tuple(accuracies),
        grad_norms=(float("nan"),) * len(losses),
        steps=len(losses),
        updates=solves,
        seconds=monotonic() - started,
        stopped_early=stopped,
        interrupted=interrupted,
    )


def _masked_features(model: SequenceModel, batch: Any, index: int, update: int) -> tuple[np.ndarray, np.ndarray]:
    """The readout's input at the masked positions of ``batch`` ``(N, F)`` and their targets ``(N,)``."""
    if not isinstance(batch, tuple | list) or len(batch) != 3:
        raise ShapeError(f"batch {index} is not an (inputs, targets, mask) triple: {type(batch).__name__}")
    x, y, m = model.check_batch(*batch)
    start = model.initial_state(x.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        fs, _ = model.core.forward(model.params, np.ascontiguousarray(x.transpose(1, 0, 2)), start)
    read = fs.transpose(1, 0, 2)[m]
    if model.readout == "relu":
        read = np.maximum(read, 0)
    if not np.isfinite(read).all():
        what = f"the features of batch {index} are not finite (check the inputs and the core's options)"
        raise _not_finite(what, index, update)
    return read, y[m]


def _write_readout(model: SequenceModel, system: RidgeReadout, index: int, update: int) -> None:
    """Solve ``system`` and copy the result into the model's readout in place (optimizers keep their arrays)."""
    weight, bias = system.solve()
    if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
        raise _not_finite(f"the ridge solution after batch {index} is not finite (raise ridge)", index, update)
    model.params["weight_out"][...] = weight
    model.params["bias_out"][...] = bias


def _not_finite(what: str, index: int, update: int) -> TrainingDivergedError:
    """The error for a non-finite fit at batch ``index`` (no loss or gradient norm to report: both NaN)."""
    nan = float("nan")
    return TrainingDivergedError(f"fit_readout: {what}", step=index, update=update, loss=nan, grad_norm=nan)
