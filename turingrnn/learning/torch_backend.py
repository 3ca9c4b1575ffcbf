"""The optional torch backend: the same models, trained by PyTorch on CPU or CUDA, with the numpy cells as oracle.

``train(model, batches, backend="torch", device="cuda")`` trains a model of
:mod:`turingrnn.learning.models` with PyTorch: the parameters are copied to tensors
with the same names, the forward pass is the core's torch version, autograd
gives the gradients, and the same clipping (to a global norm) and Adam
(``torch.optim.Adam``, the same formula as :class:`~turingrnn.learning.training.Adam`)
update them; at the end the trained values are copied back into
``model.params``. The numpy implementation is the oracle: one training step
gives the same parameters to 1e-10 in float64 (``tests/test_torch_backend.py``).

The classic cells (Elman, LSTM, GRU) run through ``torch.nn.RNN``/``LSTM``/``GRU``
kernels (cuDNN on CUDA) by :func:`torch.func.functional_call` with our
parameter tensors; other cores give their own ``torch_forward``. Install with
``pip install "turingrnn[torch]"``.

:func:`to_torch_module` turns a trained model into a ``torch.nn.Module``:
``nn.RNN``/``nn.LSTM``/``nn.GRU`` and an ``nn.Linear`` readout for the classic
cells (stacked and bidirectional included), and a generic module over the
core's torch forward for the others.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

import numpy as np

from ..errors import BackendError, ShapeError, TrainingConfigError, TrainingDivergedError
from .cells import Core, ElmanCore, GRUCore, LSTMCore, SequenceModel
from .stacked import BidirectionalCore, StackedCore


def require_torch() -> Any:
    """The ``torch`` module, or a :class:`BackendError` that says how to install it."""
    try:
        import torch
    except ImportError:
        raise BackendError('the torch backend needs PyTorch: pip install "turingrnn[torch]"') from None
    return torch


def resolve_device(device: str) -> Any:
    """``torch.device(device)``, checked: ``"cuda"`` needs a CUDA device, and the name must be one torch knows."""
    torch = require_torch()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise BackendError(f"unknown torch device {device!r} ({e}); use 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BackendError(
            f"device {device!r} asked for, but this machine has no CUDA device (torch.cuda.is_available() is False)"
        )
    if dev.type not in ("cpu", "cuda"):
        raise BackendError(f"device {device!r}: only 'cpu' and 'cuda' are supported")
    return dev


def torch_dtype(dtype: np.dtype) -> Any:
    """The torch dtype of a numpy float dtype."""
    torch = require_torch()
    return {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]


# ---------------------------------------------------------------- forward passes


@functools.cache
def _module(kind: str, input_size: int, hidden_size: int, nonlinearity: str, dtype: Any, device: Any) -> Any:
    """An empty ``nn.RNN``/``nn.LSTM``/``nn.GRU`` to call with our parameters (one per shape, dtype and device)."""
    torch = require_torch()
    kwargs: dict[str, Any] = {"dtype": dtype, "device": device}
    if kind == "rnn":
        return torch.nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, **kwargs)
    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](input_size, hidden_size, **kwargs)


def _classic_forward(
    core: Core, params: dict[str, Any], xt: Any, start: tuple[Any, ...]
) -> tuple[Any, tuple[Any, ...]]:
    torch = require_torch()
    kind = "lstm" if isinstance(core, LSTMCore) else "gru" if isinstance(core, GRUCore) else "rnn"
    nonlinearity = getattr(core, "nonlinearity", "tanh")
    module = _module(kind, core.input_size, core.hidden_size, nonlinearity, xt.dtype, xt.device)
    weights = {f"{name}_l0": params[name] for name in core.param_names}
    hidden = (start[0][None], start[1][None]) if kind == "lstm" else start[0][None]
    out, last = torch.func.functional_call(module, weights, (xt, hidden))
    final = (last[0][0], last[1][0]) if kind == "lstm" else (last[0],)
    return out, final


CLASSIC_CORES = (ElmanCore, LSTMCore, GRUCore)
"""Cores whose torch forward is PyTorch's own fused layer."""


def core_forward(core: Core, params: dict[str, Any], xt: Any, start: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """``core``'s forward pass in torch: features ``(T, B, F)`` and the final state.

    The classic cells use PyTorch's layers, stacks and bidirectional cores
    are composed here, every other core gives its own ``torch_forward``.
    """
    if type(core) in CLASSIC_CORES:
        return _classic_forward(core, params, xt, start)
    if isinstance(core, StackedCore):
        finals: list[Any] = []
        feats, k = xt, 0
        for layer, suffix in zip(core.layers, core.suffixes, strict=True):
            n = len(layer.state_names)
            local = {name: params[name + suffix] for name in layer.param_names}
            feats, final = core_forward(layer, local, feats, tuple(start[k : k + n]))
            finals += final
            k += n
        return feats, tuple(finals)
    if isinstance(core, BidirectionalCore):
        torch = require_torch()
        f, b = core.cores
        n = len(f.state_names)
        ff, sf = core_forward(f, {k: params[k] for k in f.param_names}, xt, tuple(start[:n]))
        pb = {k: params[k + "_reverse"] for k in b.param_names}
        fb, sb = core_forward(b, pb, torch.flip(xt, (0,)), tuple(start[n:]))
        return torch.cat([ff, torch.flip(fb, (0,))], dim=-1), sf + sb
    try:
        return core.torch_forward(params, xt, start)
    except NotImplementedError as e:
        raise BackendError(str(e)) from None


class TorchModel:
    """A :class:`~turingrnn.learning.cells.SequenceModel`'s parameters as leaf tensors, and its loss in torch.

    Args:
        model: The numpy model (its parameters are copied, not shared).
        device: A torch device.
    """

    def __init__(self, model: SequenceModel, device: Any) -> None:
        torch = require_torch()
        self.model = model
        self.device = device
        self.dtype = torch_dtype(model.dtype)
        self.params = {
            k: torch.tensor(v, dtype=self.dtype, device=device, requires_grad=True) for k, v in model.params.items()
        }

    def tensor(self, array: np.ndarray, dtype: Any = None) -> Any:
        """``array`` on the device (in the model's dtype unless ``dtype`` is given)."""
        torch = require_torch()
        return torch.as_tensor(np.asarray(array), dtype=dtype or self.dtype, device=self.device)

    def features(self, xt: Any, start: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """The core's features ``(T, B, F)`` and final state."""
        return core_forward(self.model.core, self.params, xt, start)

    def logits(self, feats: Any) -> Any:
        """The readout of ``feats``."""
        torch = require_torch()
        read = torch.relu(feats) if self.model.readout == "relu" else feats
        return read @ self.params["weight_out"].T + self.params["bias_out"]

    def start_state(self, state: tuple[np.ndarray, ...] | tuple[Any, ...] | None, batch: int) -> tuple[Any, ...]:
        """The state as tensors (zeros when ``None``)."""
        torch = require_torch()
        if state is None:
            state = self.model.initial_state(batch)
        return tuple(s.detach() if isinstance(s, torch.Tensor) else self.tensor(s) for s in state)

    def masked_loss(self, logits: Any, y: Any, m: Any) -> tuple[Any, int, int]:
        """The mean cross-entropy over the masked positions, their count and how many the argmax gets right."""
        torch = require_torch()
        count = int(m.sum())
        picked = logits[m]
        loss = torch.nn.functional.cross_entropy(picked, y[m], reduction="sum") / max(count, 1)
        correct = int((picked.argmax(-1) == y[m]).sum()) if count else 0
        return loss, count, correct

    def copy_back(self) -> None:
        """Write the tensors' values into the numpy model's arrays, in place."""
        for k, v in self.params.items():
            self.model.params[k][...] = v.detach().cpu().numpy()


def _window_loss(tm: TorchModel, x: Any, y: Any, m: Any, start: tuple[Any, ...], split: int) -> tuple[Any, ...]:
    """Loss of one truncated-BPTT window, and the state ``split`` steps in (carried to the next window)."""
    torch = require_torch()
    xt = x.transpose(0, 1)
    f1, mid = tm.features(xt[:split], start)
    if split < xt.shape[0]:
        f2, _ = tm.features(xt[split:], mid)
        feats = torch.cat([f1, f2], dim=0)
    else:
        feats = f1
    logits = tm.logits(feats).transpose(0, 1)
    return (*tm.masked_loss(logits, y, m), mid)


def train_torch(
    model: SequenceModel,
    batches: Iterable[Any],
    *,
    steps: int | None,
    learning_rate: float,
    k1: int | None,
    k2: int | None,
    max_grad_norm: float | None,
    device: str = "cpu",
    bar: Callable[..., None] | None = None,
    callback: Callable[[Any], bool | None] | None = None,
    record: Callable[..., Any],
) -> tuple[int, bool, bool]:
    """The loop of :func:`turingrnn.learning.training.train` with ``backend="torch"`` (see there).

    ``record(index, loss, accuracy, norm, updates)`` builds and stores each
    batch's :class:`~turingrnn.learning.training.TrainingStep`; returns the number of
    updates and whether the callback stopped it or Ctrl-C interrupted it.
    """
    torch = require_torch()
    if hasattr(model, "torch_loss") and (k1 is not None or k2 is not None):
        raise TrainingConfigError(f"the {model.name} model trains by full BPTT only: leave k1 and k2 unset")
    tm = TorchModel(model, resolve_device(device))
    optimizer = torch.optim.Adam(list(tm.params.values()), lr=learning_rate, betas=(0.9, 0.999), eps=1e-8)
    updates = 0
    stopped = interrupted = False
    last = None
    try:
        for index, batch in enumerate(islice(batches, steps)):
            if not isinstance(batch, tuple | list) or len(batch) != 3:
                raise ShapeError(f"batch {index} is not an (inputs, targets, mask) triple: {type(batch).__name__}")
            x_np, y_np, m_np = model.check_batch(*batch)
            x, y, m = tm.tensor(x_np), tm.tensor(y_np, torch.int64), tm.tensor(m_np, torch.bool)
            loss_sum, count, correct, worst = 0.0, 0, 0, 0.0
            for back, start, stop, split in _windows(model, x.shape[1], k1, k2):
                window_mask = m[:, back:stop].clone()
                window_mask[:, : start - back] = False
                if hasattr(model, "torch_loss"):
                    loss, n, right = model.torch_loss(tm, x, y, window_mask)
                    mid = None
                else:
                    state = tm.start_state(last if back else None, x.shape[0])
                    loss, n, right, mid = _window_loss(tm, x[:, back:stop], y[:, back:stop], window_mask, state, split)
                last = mid
                if n == 0:
                    continue
                optimizer.zero_grad(set_to_none=False)
                loss.backward()
                norm = float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in tm.params.values())))
                value = float(loss.detach())
                if not (np.isfinite(value) and np.isfinite(norm)):
                    tm.copy_back()
                    raise TrainingDivergedError(
                        f"training diverged at batch {index}, update {updates + 1} (steps {start}..{stop}): "
                        f"loss {value}, gradient norm {norm}; stopped before the update, the model keeps its last "
                        "finite parameters (try a lower learning rate or max_grad_norm)",
                        step=index, update=updates + 1, loss=value, grad_norm=norm,
                    )  # fmt: skip
                if max_grad_norm is not None and norm > max_grad_norm:
                    scale = max_grad_norm / norm
                    for p in tm.params.values():
                        p.grad.mul_(scale)
                optimizer.step()
                updates += 1
                loss_sum += value * n
                count += n
                correct += right
                worst = max(worst, norm)
            step = record(
                index, loss_sum / count if count else float("nan"), correct / count if count else float("nan"),
                worst, updates,
            )  # fmt: skip
            if bar is not None:
                bar(step)
            if callback is not None:
                tm.copy_back()  # the callback may read the model
            if callback is not None and callback(step):
                stopped = True
                break
    except KeyboardInterrupt:
        interrupted = True
    tm.copy_back()
    return updates, stopped, interrupted


def _windows(model: SequenceModel, steps: int, k1: int | None, k2: int | None):  # type: ignore[no-untyped-def]
    """``(back, start, stop, split)`` of each truncated-BPTT window, as :func:`.training.truncated_bptt`.

    ``split`` is where, counted from ``back``, the state carried to the next window is taken.
    """
    from .training import window_bounds

    for back, start, stop, next_back in window_bounds(model, steps, k1, k2):
        yield back, start, stop, next_back - back if next_back > back else stop - back


# ---------------------------------------------------------------- modules


def to_torch_module(model: SequenceModel, device: str = "cpu") -> Any:
    """A ``torch.nn.Module`` computing the same logits as ``model`` from batch-first inputs.

    The classic cells (one or more layers, either direction) become
    ``nn.RNN``/``nn.LSTM``/``nn.GRU`` with PyTorch's parameter names
    (``weight_ih_l0``, ``weight_ih_l0_reverse``, ...), then an optional ReLU
    and an ``nn.Linear`` readout: ``module(x)`` gives the logits
    ``(B, T, O)``. Any other model becomes a module over its core's torch
    forward, with our parameter names.
    """
    require_torch()
    if hasattr(model, "torch_loss"):
        raise BackendError(f"the {model.name} model has no torch module (its torch version is torch_loss)")
    dev = resolve_device(device)
    dtype = torch_dtype(model.dtype)
    layers = model.core.layers if isinstance(model.core, StackedCore) else [model.core]
    bidirectional = isinstance(layers[0], BidirectionalCore)
    bases = [layer.cores[0] if isinstance(layer, BidirectionalCore) else layer for layer in layers]
    if all(type(b) in CLASSIC_CORES for b in bases) and len({type(b) for b in bases}) == 1:
        return _ClassicModule(model, layers, bidirectional, dtype, dev)
    return _GenericModule(model, dtype, dev)


def _modules() -> tuple[type, type]:
    torch: Any = require_torch()

    class Classic(torch.nn.Module):
        def __init__(self, model: SequenceModel, layers: list[Core], bidirectional: bool, dtype: Any, dev: Any):
            super().__init__()
            base: Any = layers[0].cores[0] if bidirectional else layers[0]  # type: ignore[attr-defined]
            kwargs = {"num_layers": len(layers), "bidirectional": bidirectional, "batch_first": True}
            kwargs.update(dtype=dtype, device=dev)
            if isinstance(base, LSTMCore):
                self.rnn = torch.nn.LSTM(model.input_size, model.hidden_size, **kwargs)
            elif isinstance(base, GRUCore):
                self.rnn = torch.nn.GRU(model.input_size, model.hidden_size, **kwargs)
            else:
                self.rnn = torch.nn.RNN(model.input_size, model.hidden_size, nonlinearity=base.nonlinearity, **kwargs)
            self.relu = model.readout == "relu"
            self.readout = torch.nn.Linear(model.core.features, model.output_size, dtype=dtype, device=dev)
            with torch.no_grad():
                for ours, theirs in _torch_names(model).items():
                    getattr(self.rnn, theirs).copy_(torch.as_tensor(model.params[ours]))
                self.readout.weight.copy_(torch.as_tensor(model.params["weight_out"]))
                self.readout.bias.copy_(torch.as_tensor(model.params["bias_out"]))

        def forward(self, x: Any) -> Any:
            out, _ = self.rnn(x)
            return self.readout(torch.relu(out) if self.relu else out)

    class Generic(torch.nn.Module):
        def __init__(self, model: SequenceModel, dtype: Any, dev: Any):
            super().__init__()
            self.model = model
            self.weights = torch.nn.ParameterDict(
                {k: torch.nn.Parameter(torch.as_tensor(v, dtype=dtype, device=dev)) for k, v in model.params.items()}
            )

        def forward(self, x: Any) -> Any:
            start = tuple(
                torch.as_tensor(s, dtype=x.dtype, device=x.device) for s in self.model.initial_state(x.shape[0])
            )
            feats, _ = core_forward(self.model.core, dict(self.weights), x.transpose(0, 1), start)
            read = torch.relu(feats) if self.model.readout == "relu" else feats
            return (read @ self.weights["weight_out"].T + self.weights["bias_out"]).transpose(0, 1)

    return Classic, Generic


def _ClassicModule(*args: Any) -> Any:  # noqa: N802 - a class built on demand, so torch stays optional
    return _modules()[0](*args)


def _GenericModule(*args: Any) -> Any:  # noqa: N802
    return _modules()[1](*args)


def _torch_names(model: SequenceModel) -> dict[str, str]:
    """Our parameter names → PyTorch's, (``weight_ih_reverse_l1`` → ``weight_ih_l1_reverse``)."""
    names = {}
    for ours in model.params:
        if ours in ("weight_out", "bias_out"):
            continue
        base, _, layer = ours.partition("_l") if "_l" in ours else (ours, "", "0")
        reverse = base.endswith("_reverse")
        base = base.removesuffix("_reverse")
        names[ours] = f"{base}_l{layer or '0'}{'_reverse' if reverse else ''}"
    return names
