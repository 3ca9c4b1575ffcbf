"""A small task for the memoryless and reservoir models: recall the symbol from ``lag`` steps ago."""

import numpy as np


def delay_batch(rng, batch, steps, symbols=3, lag=2):
    """One-hot symbols; the target at step t is the symbol of step t - lag (scored from step lag on)."""
    s = rng.integers(0, symbols, (batch, steps))
    y = np.zeros_like(s)
    y[:, lag:] = s[:, :-lag]
    mask = np.zeros(s.shape, dtype=bool)
    mask[:, lag:] = True
    return np.eye(symbols)[s], y, mask
