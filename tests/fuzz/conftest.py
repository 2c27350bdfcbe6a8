"""Hypothesis profiles for the fuzz tests: ``ci`` (default, bounded, reproducible) and ``long``.

Pick one with ``TRACEO_FUZZ_PROFILE`` (see docs/fuzzing.md). ``ci`` is derandomised, so a
failure in CI fails again on every machine, and keeps the whole fuzz run to a few minutes.
``long`` draws fresh random inputs and many more of them, for runs by hand; Hypothesis keeps the
failures it finds under ``.hypothesis/`` and replays them first next time.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=_QUIET,
)  # fmt: skip
settings.register_profile(
    "long", max_examples=5_000, deadline=None, suppress_health_check=_QUIET, print_blob=True
)
settings.load_profile(os.environ.get("TRACEO_FUZZ_PROFILE", "ci"))
