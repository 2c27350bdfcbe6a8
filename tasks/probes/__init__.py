"""Synthetic probes: checks as code (HTTP and multi-step API checks) and the engine that runs them.

- :mod:`~tasks.probes.spec`: pydantic models of a check file;
- :mod:`~tasks.probes.loader`: :func:`load_checks` from YAML with precise errors;
- :mod:`~tasks.probes.http`: :func:`run_checks`, the async batch engine, and :class:`ProbeResult`;
- :mod:`~tasks.probes.assertions`, :mod:`~tasks.probes.templating`, :mod:`~tasks.probes.retries`,
  :mod:`~tasks.probes.tls`: the pure parts, each tested on its own;
- :mod:`~tasks.probes.tasks`: the Prefect tasks flows use (one task per batch).

Verdicts: ``pass``; ``degraded`` (assertions pass, duration >= ``degraded_ms``; counts as good);
``fail`` (an assertion failed, duration >= ``failed_ms``, a network/TLS error or timeout, or a
certificate expiring within ``tls_expiry_days``); ``error`` (the probe could not run, e.g. an
unset environment variable; excluded from availability).
"""

from tasks.probes.catalog import AnyCheck
from tasks.probes.http import (
    VERDICTS,
    ProbeResult,
    Verdict,
    count_verdicts,
    run_checks,
    run_checks_sync,
)
from tasks.probes.loader import load_checks, select_checks
from tasks.probes.spec import HttpCheck, MultistepCheck

__all__ = [
    "VERDICTS",
    "AnyCheck",
    "HttpCheck",
    "MultistepCheck",
    "ProbeResult",
    "Verdict",
    "count_verdicts",
    "load_checks",
    "run_checks",
    "run_checks_sync",
    "select_checks",
]
