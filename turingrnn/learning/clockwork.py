"""Clockwork RNNs in numpy: hidden modules that run at their own periods, and the dense, shift-invariant version.

Both are Elman networks (tanh) with PyTorch's ``nn.RNN`` parameters,
``weight_ih`` ``(H, I)``, ``weight_hh`` ``(H, H)``, ``bias_ih`` and ``bias_hh``
``(H,)``, whose ``H`` hidden units are split into ``g`` equal modules of
``k = H / g`` units, module ``i`` (units ``i k .. (i + 1) k - 1``) with period
``T_i`` (option ``periods``, strictly increasing, default ``(1, 2, 4, 8)``).
Recurrent connections run only from slower-or-equal modules to faster ones:
``weight_hh`` keeps its full ``(H, H)`` shape, but only its block upper
triangle (row block ``i``, column block ``j >= i``) is used; the rest is set to
zero at initialisation, never read, and its gradient is zero. Write
``a_t = W_ih x_t + b_ih + b_hh`` and ``W`` for the masked ``weight_hh``, rows
of module ``i`` ``W_i``:

- **Clockwork RNN** (``clockwork_rnn``, Koutník, Greff, Gomez & Schmidhuber
  2014, "A Clockwork RNN", ICML)::

      h_t[i] = tanh(a_t[i] + W_i h_{t-1})   if t mod T_i == 0
      h_t[i] = h_{t-1}[i]                   otherwise

  ``t`` counts the steps from 0. The counter is part of the state,
  ``(h, t)`` with ``t`` of shape ``(B, 1)`` (a float holding a whole number,
  the index of the next step), so that a sequence run in pieces with the
  carried state ticks as in one run, and truncated BPTT keeps the phase.
- **Dense clockwork RNN** (``dense_clockwork_rnn``, Neverova, Wolf, Lacey,
  Fridman, Chandra, Barbello & Taylor 2016, "Learning Human Identity from
  Motion Patterns", IEEE Access 4; their DCWRNN)::

      h_t[i] = tanh(a_t[i] + W_i h_{t - T_i})      every step, every module

  Every module updates at every step, but its whole recurrent input (its
  own and the slower modules' units) is read ``T_i`` steps back. Module
  ``i`` is thus ``T_i`` interleaved copies of the clockwork module, one per
  phase ``t mod T_i``, each an ordinary recursion over the steps
  ``p, p + T_i, p + 2 T_i, ...``; the step rule never looks at ``t``, so the
  output does not depend on where the clock's ticks fall (shift
  invariance): delaying an input by ``s`` steps that keep the state where
  it was (zero input and zero biases from the zero state) delays the output
  by ``s`` steps, which the clockwork RNN does not do unless ``s`` is a
  multiple of every period. Module ``j`` must keep its last ``T_j`` states
  (the modules ``i <= j`` read it at delays ``T_i <= T_j``), so the state is
  one delay line per module: ``h_T<T_j>`` of shape ``(B, T_j, k)``, row ``d``
  the module's state ``d`` steps ago (row 0 the newest). This is our
  reading of the paper's dense update (the public pages we could read give
  its abstract, the CWRNN's phase dependence it fixes and the dense,
  shift-invariant idea, not the equations); the delay of a slower module's
  input is the reading module's period ``T_i``, not the slower one's.

>>> from turingrnn.learning.models import make_model
>>> model = make_model("clockwork_rnn", 2, 4, 2, periods=(1, 2))
>>> model.core.state_names, model.core.state_shapes()
(('h', 't'), ((4,), (1,)))
>>> model.params["weight_hh"][2:, :2]              # the slow module never reads the fast one
array([[0., 0.],
       [0., 0.]])
>>> make_model("dense_clockwork_rnn", 2, 4, 2, periods=(1, 2)).core.state_shapes()
((1, 2), (2, 2))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError, TrainingConfigError
from .cells import GatedCore, State, outer_sum

DEFAULT_PERIODS = (1, 2, 4, 8)
"""The periods of the four modules unless ``periods`` is given (Koutník et al.'s exponential series)."""


def check_periods(periods: Any, hidden_size: int) -> tuple[int, ...]:
    """``periods`` as a tuple of ints if it is a strictly increasing sequence of positive ints dividing ``hidden_size``.

    Raises:
        TrainingConfigError: naming the periods and what is allowed.
    """
    try:
        values = tuple(periods)
    except TypeError:
        values = ()
    if not values or any(isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 1 for p in values):
        raise TrainingConfigError(f"periods must be a non-empty sequence of positive ints, got {periods!r}")
    values = tuple(int(p) for p in values)
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise TrainingConfigError(f"periods must be strictly increasing (fastest module first), got {values}")
    if hidden_size % len(values):
        raise TrainingConfigError(
            f"hidden_size {hidden_size} does not split into {len(values)} equal modules for periods {values}; "
            f"use a multiple of {len(values)}"
        )
    return values


class _ModularCore(GatedCore):
    """An Elman layer whose hidden units form modules with periods, and the block upper-triangular recurrence."""

    gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, *, periods: Any = DEFAULT_PERIODS, dtype: Any = np.float64
    ) -> None:
        super().__init__(input_size, hidden_size, dtype=dtype)
        self.periods = check_periods(periods, self.hidden_size)
        self.module_size = self.hidden_size // len(self.periods)
        self.unit_periods = np.repeat(self.periods, self.module_size)
        """The period of each hidden unit ``(H,)``."""
        self.mask = (self.unit_periods[None, :] >= self.unit_periods[:, None]).astype(self.dtype)
        """``(H, H)``: 1 where ``weight_hh`` is used (the source unit's period at least the target's)."""

    def options(self) -> dict[str, Any]:
        """``periods``."""
        return {"periods": self.periods}

    def modules(self) -> list[tuple[int, int, int]]:
        """``(period, first unit, end)`` of each module, fastest first."""
        k = self.module_size
        return [(p, i * k, (i + 1) * k) for i, p in enumerate(self.periods)]

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """PyTorch's initialisation (uniform on ``±1/sqrt(H)``), ``weight_hh`` zero outside the mask."""
        params = super().init_params(rng)
        params["weight_hh"][self.mask == 0] = 0
        return params


class ClockworkCore(_ModularCore):
    """The clockwork RNN (Koutník et al. 2014): module ``i`` updates only at the steps ``t`` with ``t mod T_i == 0``.

    State ``(h, t)``: ``h`` ``(B, H)`` and the step counter ``t`` ``(B, 1)``.

    Args:
        input_size: ``I``.
        hidden_size: ``H``, a multiple of ``len(periods)``.
        periods: The modules' periods, strictly increasing.
        dtype: float64 or float32.
    """

    name = "clockwork_rnn"
    state_names = ("h", "t")

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        """``(H,)`` and ``(1,)``."""
        return ((self.hidden_size,), (1,))

    @staticmethod
    def start_steps(clock: np.ndarray) -> np.ndarray:
        """The step counter of a state ``(B, 1)`` as ints ``(B,)``; a :class:`ShapeError` unless whole and >= 0."""
        t = np.asarray(clock)[:, 0]
        bad = ~((t >= 0) & (t == np.round(t)))
        if bad.any():
            raise ShapeError(f"a clockwork state's step counter t must hold whole numbers >= 0, got {t[bad][0]!r}")
        return t.astype(np.int64)

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """The clockwork recursion over all steps."""
        h0, clock = start
        times = self.start_steps(clock)[None, :] + np.arange(xt.shape[0])[:, None]  # (T, B)
        active = times[..., None] % self.unit_periods == 0  # (T, B, H)
        a, whh_t, b_hh = self.projections(params, xt)
        whh_t = whh_t * self.mask.T
        cand = np.empty(a.shape, dtype=self.dtype)  # tanh(...) of every unit, kept where it ticks
        hs = np.empty_like(cand)
        h = h0
        for t in range(a.shape[0]):
            cand[t] = np.tanh(a[t] + h @ whh_t + b_hh)
            h = np.where(active[t], cand[t], h)
            hs[t] = h
        counter = (times + 1)[..., None].astype(self.dtype)
        return hs, {"h": hs, "t": counter, "x": xt, "h0": h0, "cand": cand, "active": active}

    def _gate_backward_with_start(
        self, params: dict[str, np.ndarray], cache: dict, dhs: np.ndarray, dfinal: State | None = None
    ) -> tuple[np.ndarray, np.ndarray, State]:
        w_hh = params["weight_hh"] * self.mask
        active, cand = cache["active"], cache["cand"]
        slope = active * (1 - cand * cand)
        dpre = np.empty_like(cand)
        carry, dclock = self._final_gradient(dfinal, dhs.shape[1])
        for t in range(dhs.shape[0] - 1, -1, -1):
            dh = dhs[t] + carry
            dpre[t] = dh * slope[t]
            carry = np.where(active[t], 0, dh) + dpre[t] @ w_hh
        return dpre, dpre, (carry, np.zeros_like(dclock))  # the counter is a whole number: no gradient

    def _recurrent_gradient(self, cache: dict, du: np.ndarray) -> np.ndarray:
        return super()._recurrent_gradient(cache, du) * self.mask

    def torch_forward(self, params: dict[str, Any], xt: Any, start: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """The same recursion in torch ops: features ``(T, B, H)`` and the final ``(h, t)``."""
        import torch

        h, clock = start
        w_hh = params["weight_hh"] * torch.as_tensor(self.mask, dtype=xt.dtype, device=xt.device)
        periods = torch.as_tensor(self.unit_periods, device=xt.device)
        first = clock[:, :1].detach().round().to(torch.int64)
        a = xt @ params["weight_ih"].T + params["bias_ih"]
        hs = []
        for t in range(xt.shape[0]):
            cand = torch.tanh(a[t] + h @ w_hh.T + params["bias_hh"])
            h = torch.where((first + t) % periods == 0, cand, h)
            hs.append(h)
        features = torch.stack(hs) if hs else h.new_zeros((0,) + tuple(h.shape))
        return features, (h, clock + xt.shape[0])


class DenseClockworkCore(_ModularCore):
    """The dense clockwork RNN (Neverova et al. 2016): every module updates every step, reading ``T_i`` steps back.

    State: one delay line per module, ``h_T<T_i>`` ``(B, T_i, k)``, row ``d``
    the module's state ``d`` steps before the newest.

    Args:
        input_size: ``I``.
        hidden_size: ``H``, a multiple of ``len(periods)``.
        periods: The modules' periods (their delays), strictly increasing.
        dtype: float64 or float32.
    """

    name = "dense_clockwork_rnn"

    def __init__(
        self, input_size: int, hidden_size: int, *, periods: Any = DEFAULT_PERIODS, dtype: Any = np.float64
    ) -> None:
        super().__init__(input_size, hidden_size, periods=periods, dtype=dtype)
        self.state_names = tuple(f"h_T{p}" for p in self.periods)  # type: ignore[misc]
        self.lag = self.periods[-1]
        """The longest delay: how many past states the history keeps."""

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        """``(T_i, k)`` for each module."""
        return tuple((p, self.module_size) for p in self.periods)

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """The dense recursion over all steps, on a history ``hist[lag + t] = h_t`` that starts with the delay lines."""
        lag, steps, batch = self.lag, xt.shape[0], xt.shape[1]
        a, _, b_hh = self.projections(params, xt)
        w_hh = params["weight_hh"]
        hist = np.zeros((lag + steps, batch, self.hidden_size), dtype=self.dtype)
        for (period, lo, hi), line in zip(self.modules(), start, strict=True):
            hist[lag - period : lag, :, lo:hi] = line[:, ::-1].transpose(1, 0, 2)
        for t in range(steps):
            z = a[t] + b_hh
            for period, lo, hi in self.modules():
                z[:, lo:hi] += hist[lag + t - period, :, lo:] @ w_hh[lo:hi, lo:].T
            hist[lag + t] = np.tanh(z)
        cache: dict[str, Any] = {"x": xt, "hist": hist}
        for name, (period, lo, hi) in zip(self.state_names, self.modules(), strict=True):
            cache[name] = self._delay_lines(hist, period, lo, hi, steps)
        return hist[lag:], cache

    def _delay_lines(self, hist: np.ndarray, period: int, lo: int, hi: int, steps: int) -> np.ndarray:
        """One module's delay line after each step ``(T, B, period, k)``, newest first."""
        if steps == 0:
            return np.zeros((0, hist.shape[1], period, hi - lo), dtype=self.dtype)
        seg = hist[self.lag - period + 1 : self.lag + steps, :, lo:hi]  # h_{1 - period} .. h_{steps - 1}
        windows = np.lib.stride_tricks.sliding_window_view(seg, period, axis=0)  # (T, B, k, period), oldest first
        return np.ascontiguousarray(windows[..., ::-1].transpose(0, 1, 3, 2))

    def _gate_backward_with_start(
        self, params: dict[str, np.ndarray], cache: dict, dhs: np.ndarray, dfinal: State | None = None
    ) -> tuple[np.ndarray, np.ndarray, State]:
        lag, hist, w_hh, steps = self.lag, cache["hist"], params["weight_hh"], dhs.shape[0]
        dhist = np.zeros_like(hist)  # dL/dh_t from the final state and the later steps that read h_t
        for (period, lo, hi), line in zip(self.modules(), self._final_gradient(dfinal, dhs.shape[1]), strict=True):
            dhist[lag + steps - period : lag + steps, :, lo:hi] += line[:, ::-1].transpose(1, 0, 2)
        dpre = np.empty_like(dhs)
        for t in range(steps - 1, -1, -1):
            h = hist[lag + t]
            dpre[t] = (dhs[t] + dhist[lag + t]) * (1 - h * h)
            for period, lo, hi in self.modules():
                dhist[lag + t - period, :, lo:] += dpre[t, :, lo:hi] @ w_hh[lo:hi, lo:]
        dstart = tuple(dhist[lag - p : lag, :, lo:hi][::-1].transpose(1, 0, 2).copy() for p, lo, hi in self.modules())
        return dpre, dpre, dstart

    def _recurrent_gradient(self, cache: dict, du: np.ndarray) -> np.ndarray:
        """``dW_i = sum du_t[i] h_{t - T_i}^T`` on each module's block row (slower-or-equal columns), 0 elsewhere."""
        lag, hist, steps = self.lag, cache["hist"], du.shape[0]
        grad = np.zeros((self.hidden_size, self.hidden_size), dtype=self.dtype)
        for period, lo, hi in self.modules():
            grad[lo:hi, lo:] = outer_sum(du[..., lo:hi], hist[lag - period : lag - period + steps, :, lo:])
        return grad

    def torch_forward(self, params: dict[str, Any], xt: Any, start: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """The same recursion in torch ops: features ``(T, B, H)`` and the final delay lines."""
        import torch

        lag, steps, batch = self.lag, xt.shape[0], xt.shape[1]
        gap = xt.new_zeros((batch, self.module_size))  # the units of a module older than its delay line
        hist = []  # hist[lag + t] = h_t, from t = -lag
        for d in range(lag, 0, -1):
            parts = [line[:, d - 1] if d <= p else gap for (p, _, _), line in zip(self.modules(), start, strict=True)]
            hist.append(torch.cat(parts, dim=1))
        a = xt @ params["weight_ih"].T + params["bias_ih"] + params["bias_hh"]
        w_hh = params["weight_hh"]
        for t in range(steps):
            parts = [a[t, :, lo:hi] + hist[lag + t - p][:, lo:] @ w_hh[lo:hi, lo:].T for p, lo, hi in self.modules()]
            hist.append(torch.tanh(torch.cat(parts, dim=1)))
        features = torch.stack(hist[lag:]) if steps else xt.new_zeros((0, batch, self.hidden_size))
        final = tuple(torch.stack([hist[-1 - d][:, lo:hi] for d in range(p)], dim=1) for p, lo, hi in self.modules())
        return features, final
