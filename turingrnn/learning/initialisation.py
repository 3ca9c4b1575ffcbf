"""Initialisations other than PyTorch's, for comparing with models trained elsewhere.

The models of :mod:`.models` are initialised as PyTorch initialises its layers
(uniform on ``±1/sqrt(H)``). Delétang et al. train Haiku's LSTM instead:
:func:`haiku_init` redraws an LSTM model's parameters that way.

>>> from turingrnn.learning.models import make_model
>>> model = make_model("lstm", input_size=3, hidden_size=4, output_size=5, forget_bias=1.0)
>>> haiku_init(model, 0)
>>> float(model.params["bias_ih"].sum()), model.params["bias_hh"][4:8].tolist()
(0.0, [1.0, 1.0, 1.0, 1.0])
"""

from __future__ import annotations

import numpy as np

from .sequence_model import SequenceModel


def haiku_init(model: SequenceModel, seed: int) -> None:
    """Haiku's initialisation of an LSTM in place: truncated normal weights, zero biases, forget bias 1 kept."""
    rng = np.random.default_rng([seed, 77])
    p = model.params
    fan_in = p["weight_ih"].shape[1] + p["weight_hh"].shape[1]

    def normal(shape: tuple[int, ...], std: float) -> np.ndarray:
        return (np.clip(rng.standard_normal(shape), -2, 2) * std).astype(model.dtype)

    for name in p:
        if name.startswith("bias"):
            p[name][...] = 0
    p["weight_ih"][...] = normal(p["weight_ih"].shape, fan_in**-0.5)
    p["weight_hh"][...] = normal(p["weight_hh"].shape, fan_in**-0.5)
    p["weight_out"][...] = normal(p["weight_out"].shape, p["weight_out"].shape[1] ** -0.5)
    n = model.core.hidden_size
    p["bias_hh"][n : 2 * n] = 1.0
