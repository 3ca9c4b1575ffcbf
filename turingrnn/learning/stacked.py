"""Stacked (multi-layer) and bidirectional cores, built from any registered layer.

A stack of ``L`` layers feeds each layer's features to the next; the model
reads the top layer's. Parameters are named as PyTorch names them in a
multi-layer ``nn.LSTM``: ``weight_ih_l0``, ``weight_ih_l1``, … and, for the
backward direction of a bidirectional stack, ``weight_ih_l0_reverse``. A
bidirectional layer runs one core forwards and one over the reversed
sequence and concatenates their features (width ``2 H``), as
``nn.LSTM(bidirectional=True)`` does; every layer of a bidirectional stack
reads the concatenated features of the layer below.

A bidirectional model reads the whole sequence before its first output, so
it cannot be trained by truncated BPTT (``carries_state`` is false) and its
state has no meaning between calls: it always starts from zero in both
directions, and a state handed to it must be the zero state's shape.

>>> from turingrnn.learning.models import make_model
>>> m = make_model("lstm", 3, 4, 2, layers=2)
>>> [k for k in m.params if k.startswith("weight")]
['weight_ih_l0', 'weight_hh_l0', 'weight_ih_l1', 'weight_hh_l1', 'weight_out']
>>> make_model("gru", 3, 4, 2, bidirectional=True).params["weight_out"].shape
(2, 8)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .cells import Core, State


class StackedCore(Core):
    """Layers run one after the other; each reads the features of the one below.

    Args:
        layers: The cores, bottom first. Layer ``k + 1``'s input size must be
            layer ``k``'s feature width.
        suffixes: The parameter-name suffix of each layer (``_l0``, …).
    """

    def __init__(self, layers: list[Core], suffixes: list[str]) -> None:
        super().__init__(layers[0].input_size, layers[-1].hidden_size, dtype=layers[0].dtype)
        self.layers = layers
        self.suffixes = suffixes
        self.name = f"{layers[0].name}x{len(layers)}"  # type: ignore[misc]
        self.carries_state = all(c.carries_state for c in layers)  # type: ignore[misc]
        self.state_names = tuple(  # type: ignore[misc]
            f"{s}{suffix}" for layer, suffix in zip(layers, suffixes, strict=True) for s in layer.state_names
        )

    @property
    def features(self) -> int:
        """The top layer's feature width."""
        return self.layers[-1].features

    @property
    def param_names(self) -> tuple[str, ...]:
        """Every layer's names with its suffix."""
        return tuple(n + s for layer, s in zip(self.layers, self.suffixes, strict=True) for n in layer.param_names)

    def options(self) -> dict[str, Any]:
        """The bottom layer's options and the number of layers."""
        return {**self.layers[0].options(), "layers": len(self.layers)}

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Every layer's state shapes, bottom first."""
        return tuple(shape for layer in self.layers for shape in layer.state_shapes())

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Each layer's parameters, bottom first, renamed with its suffix."""
        return {
            name + s: value
            for layer, s in zip(self.layers, self.suffixes, strict=True)
            for name, value in layer.init_params(rng).items()
        }

    def _split_state(self, start: State) -> list[State]:
        parts, k = [], 0
        for layer in self.layers:
            n = len(layer.state_names)
            parts.append(tuple(start[k : k + n]))
            k += n
        return parts

    @staticmethod
    def _local(params: dict[str, np.ndarray], layer: Core, suffix: str) -> dict[str, np.ndarray]:
        return {n: params[n + suffix] for n in layer.param_names}

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """Each layer on the features of the one below."""
        caches = []
        feats = xt
        for layer, suffix, part in zip(self.layers, self.suffixes, self._split_state(start), strict=True):
            feats, cache = layer.forward(self._local(params, layer, suffix), feats, part)
            caches.append(cache)
        out: dict[str, Any] = {"layers": caches}
        for layer, suffix, cache in zip(self.layers, self.suffixes, caches, strict=True):
            for s in layer.state_names:
                out[s + suffix] = cache[s]
        return feats, out

    def backward(
        self, params: dict[str, np.ndarray], cache: dict, dfeatures: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Top layer first; each layer's input gradient is the gradient of the features below."""
        grads: dict[str, np.ndarray] = {}
        d = dfeatures
        for layer, suffix, c in reversed(list(zip(self.layers, self.suffixes, cache["layers"], strict=True))):
            g, d = layer.backward(self._local(params, layer, suffix), c, d)
            grads.update({n + suffix: v for n, v in g.items()})
        return grads, d


class BidirectionalCore(Core):
    """A forward core and a core over the reversed sequence, features concatenated (forward first).

    Args:
        forward_core: Reads steps ``0 .. T - 1``.
        backward_core: Reads steps ``T - 1 .. 0``; its features are put back in time order.
    """

    carries_state = False

    def __init__(self, forward_core: Core, backward_core: Core) -> None:
        super().__init__(forward_core.input_size, forward_core.hidden_size, dtype=forward_core.dtype)
        self.cores = (forward_core, backward_core)
        self.name = f"bi{forward_core.name}"  # type: ignore[misc]
        self.state_names = forward_core.state_names + tuple(  # type: ignore[misc]
            f"{s}_reverse" for s in backward_core.state_names
        )

    @property
    def features(self) -> int:
        """Both directions' features side by side."""
        return sum(c.features for c in self.cores)

    @property
    def param_names(self) -> tuple[str, ...]:
        """The forward core's names, then the backward core's with ``_reverse``."""
        f, b = self.cores
        return f.param_names + tuple(n + "_reverse" for n in b.param_names)

    def options(self) -> dict[str, Any]:
        """The forward core's options."""
        return {**self.cores[0].options(), "bidirectional": True}

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Both cores' state shapes."""
        return self.cores[0].state_shapes() + self.cores[1].state_shapes()

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The forward core's parameters, then the backward core's."""
        f, b = self.cores
        return {**f.init_params(rng), **{n + "_reverse": v for n, v in b.init_params(rng).items()}}

    def _locals(self, params: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        f, b = self.cores
        return {n: params[n] for n in f.param_names}, {n: params[n + "_reverse"] for n in b.param_names}

    def forward(self, params: dict[str, np.ndarray], xt: np.ndarray, start: State) -> tuple[np.ndarray, dict]:
        """Both directions from ``start`` (the zero state in training)."""
        f, b = self.cores
        pf, pb = self._locals(params)
        n = len(f.state_names)
        ff, cf = f.forward(pf, xt, tuple(start[:n]))
        fb, cb = b.forward(pb, np.ascontiguousarray(xt[::-1]), tuple(start[n:]))
        out: dict[str, Any] = {"forward": cf, "backward": cb}
        for s in f.state_names:
            out[s] = cf[s]
        for s in b.state_names:
            out[s + "_reverse"] = cb[s][::-1]
        return np.concatenate([ff, fb[::-1]], axis=-1), out

    def final_state(self, cache: dict, start: State) -> State:
        """The forward core's state after the last step and the backward core's after the first."""
        f, b = self.cores
        n = len(f.state_names)
        return f.final_state(cache["forward"], tuple(start[:n])) + b.final_state(cache["backward"], tuple(start[n:]))

    def backward(
        self, params: dict[str, np.ndarray], cache: dict, dfeatures: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Each direction on its half of the feature gradient."""
        f, b = self.cores
        pf, pb = self._locals(params)
        width = f.features
        gf, dxf = f.backward(pf, cache["forward"], np.ascontiguousarray(dfeatures[..., :width]))
        gb, dxb = b.backward(pb, cache["backward"], np.ascontiguousarray(dfeatures[::-1, :, width:]))
        return {**gf, **{n + "_reverse": v for n, v in gb.items()}}, dxf + dxb[::-1]


def build_stacked(build: Callable[[int], Core], input_size: int, *, layers: int, bidirectional: bool) -> Core:
    """``layers`` layers made by ``build(input_width)``, each bidirectional or not, as one core."""
    cores: list[Core] = []
    width = input_size
    for _ in range(layers):
        core = BidirectionalCore(build(width), build(width)) if bidirectional else build(width)
        cores.append(core)
        width = core.features
    if layers == 1:
        return cores[0]
    return StackedCore(cores, [f"_l{k}" for k in range(layers)])
