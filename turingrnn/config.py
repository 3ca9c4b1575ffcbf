"""Numeric settings in one place: the Numba options every kernel uses, and the float core's margins.

``fastmath`` stays off: exactness arguments rely on IEEE rounding, and the
kernels must behave the same on every machine. ``cache=True`` keeps compiled
kernels between processes (the first call compiles).
"""

from __future__ import annotations

from typing import Any

NJIT_OPTIONS: dict[str, Any] = {"cache": True, "fastmath": False, "nogil": True}
"""Keyword arguments for every ``numba.njit`` in turingrnn."""

NJIT_PARALLEL_OPTIONS: dict[str, Any] = {**NJIT_OPTIONS, "parallel": True}
"""The same, for kernels that spread independent runs over cores with ``numba.prange``."""

BINARY_LIMIT = 0.25
"""Largest certified error bound a neuron flagged binary may carry (:mod:`turingrnn.engines.fast`).

Any bound below 1/2 names the exact value (0 or 1) uniquely; 1/4 leaves room
for the rounding of the check itself. In practice the bounds are about
``1e-15`` (float64) and ``1e-6`` (float32).
"""
