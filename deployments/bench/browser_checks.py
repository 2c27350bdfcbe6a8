"""Browser checks: one reused Chromium (our engine) vs a Chromium launched per check.

Both sides run the same check, the sample shop's login journey from
``deployments/checks/shop-web.yaml`` (open the page, fill the form, sign in, see the welcome
message), against :class:`~infra.sandbox.sample_service.server.SampleService` on 127.0.0.1:

- ours: ``tasks.probes.browser.run_checks`` over N checks (10; 3 with ``--quick``): one browser,
  a fresh context per check, ``TRACEO_BROWSER_CONTEXTS`` (2) at once;
- reference: the same engine called once per check, one after another, so every check launches
  and closes its own Chromium (what one task per check would do).

A warm-up run first takes the cold start (disk cache, Playwright's driver) out of both figures.
Without a browser the workload reports the reason instead of figures.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployments.bench import Measurement

__all__ = ["run"]

TARGET_RATIO = 1.5
TARGET_SECONDS = 25.0
_EXAMPLE = Path(__file__).resolve().parents[1] / "checks" / "shop-web.yaml"
_TARGET = "≥1.5x faster than a browser per check and < 25 s for 10"


def _checks(n: int) -> list[Any]:
    from tasks.probes.browser_spec import BrowserCheck
    from tasks.probes.loader import load_checks

    (example,) = [c for c in load_checks([_EXAMPLE]) if isinstance(c, BrowserCheck)]
    return [example.model_copy(update={"id": f"bench-web-{i:02d}"}) for i in range(n)]


def _timed(checks: list[Any], env: dict[str, str], store: Any, **kwargs: Any) -> tuple[float, list]:
    from tasks.probes.browser import run_checks

    at = datetime.now(UTC)
    start = time.perf_counter()
    results = asyncio.run(run_checks(checks, "us-east-1", at, env=env, evidence=store, **kwargs))
    return time.perf_counter() - start, results


def run(quick: bool) -> list[Measurement]:
    """Seconds for N browser checks, ours next to a browser per check (module docstring)."""
    from infra.sandbox.sample_service.server import SampleService
    from tasks.probes.evidence import LocalEvidenceStore
    from tasks.settings import get_settings

    n = 3 if quick else 10
    contexts = get_settings().browser_contexts
    checks = _checks(n)
    with SampleService() as shop, tempfile.TemporaryDirectory(prefix="traceo-bench-") as tmp:
        env = {"SAMPLE_URL": shop.url}
        store = LocalEvidenceStore(Path(tmp))
        _, warm = _timed(checks[:1], env, store)
        if warm[0].verdict == "error":  # no browser: say so rather than time errors
            return [
                Measurement(
                    "browser_checks", 0.0, 0.0, "s", 0.0, _TARGET, False, warm[0].error or ""
                )
            ]
        ours, results = _timed(checks, env, store)
        reference = 0.0
        for check in checks:
            seconds, single = _timed([check], env, store)
            reference += seconds
            results += single
        sequential = None if quick else _timed(checks, env, store, contexts=1)[0]
    verdicts = sorted({r.verdict for r in results})
    ratio = reference / ours
    passed = verdicts == ["pass"]
    met = passed and ratio >= TARGET_RATIO and (quick or ours < TARGET_SECONDS)
    note = (
        f"{n} login journeys on the sample shop; ours = one Chromium, {contexts} contexts at once"
        + (f" ({sequential:.2f} s with 1 context)" if sequential is not None else "")
        + "; reference = a Chromium launched per check, one after another; verdicts: "
        + ", ".join(verdicts)
    )
    return [
        Measurement(
            workload="browser_checks",
            ours=ours,
            reference=reference,
            unit="s",
            ratio=ratio,
            target=_TARGET,
            met=met,
            note=note,
        )
    ]
