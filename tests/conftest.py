"""Shared test configuration: the hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (the default) is the one CI runs: no deadline (the
first call of a Numba kernel compiles it, and CI machines are shared), and a
failing example printed so that it can be replayed. ``HYPOTHESIS_PROFILE=thorough``
runs ten times the examples of every property whose test does not fix its own
count, for a search before a release:

    HYPOTHESIS_PROFILE=thorough python -m pytest -k property
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
