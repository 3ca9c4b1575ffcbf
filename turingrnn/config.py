"""Numeric settings in one place: the Numba options every kernel uses.

``fastmath`` stays off: exactness arguments rely on IEEE rounding, and the
kernels must behave the same on every machine. ``cache=True`` keeps compiled
kernels between processes (the first call compiles).
"""

from __future__ import annotations

from typing import Any

NJIT_OPTIONS: dict[str, Any] = {"cache": True, "fastmath": False, "nogil": True}
"""Keyword arguments for every ``numba.njit`` in turingrnn."""
