"""``traceo checks test`` (also ``traceo synthetic run``): run checks once, now, from here.

Only click is imported at module level, so ``traceo --help`` stays fast.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from deployments.cli_errors import fail_on_traceo_error

__all__ = ["checks_test", "synthetic"]

LOCAL_REGION = "local"


@click.command()
@click.argument("targets", nargs=-1, metavar="[PATH | NAME]...")
@click.option(
    "--region",
    default=None,
    help="Run only the checks listing this region, and label the results with it.",
)
@click.option(
    "--checks",
    "checks_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Where NAMEs are looked up (default: TRACEO_CHECKS_PATH).",
)
@click.option(
    "--record",
    is_flag=True,
    help="Store the results like a scheduled run (needs --region; a slot recorded twice "
    "is replaced, not counted twice).",
)
@click.option(
    "--at",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    default=None,
    help="Record under the slots holding this instant, e.g. 2026-11-01T12:00+00:00 (default: now).",
)
@fail_on_traceo_error
def checks_test(
    targets: tuple[str, ...],
    region: str | None,
    checks_path: Path | None,
    record: bool,
    at: datetime | None,
) -> None:
    """Run checks once, now, from this machine; print each verdict; exit 1 on any failure.

    Each PATH is a check file or directory; each NAME a check id. With neither, every check
    in TRACEO_CHECKS_PATH runs.
    """
    from datetime import UTC

    from tasks.probes.browser_launch import browser_available
    from tasks.probes.loader import select_checks
    from tasks.probes.local_run import describe_result, resolve_checks, run_locally
    from tasks.redaction import install_redaction
    from tasks.settings import get_settings

    if record and region is None:
        raise click.UsageError("--record needs --region: results are stored per region")
    if at is not None and at.tzinfo is None:
        raise click.BadParameter("give a UTC offset, e.g. +00:00", param_hint="--at")
    install_redaction()
    settings = get_settings()
    checks = resolve_checks(targets, checks_path or settings.checks_path)
    if region is not None:
        outside = [c.id for c in checks if region not in c.regions]
        checks = select_checks(checks, region=region)
        for check_id in outside:
            click.echo(f"{'SKIP':<8} {check_id}: does not run in {region}")
    run = run_locally(
        checks,
        region or LOCAL_REGION,
        (at or datetime.now(UTC)).astimezone(UTC),
        browser_ready=browser_available(settings.chromium_path),
    )
    for check_id, why in run.skipped:
        click.echo(f"{'SKIP':<8} {check_id}: {why}")
    for result in run.results:
        click.echo("\n".join(describe_result(result)))
    counts = {v: sum(r.verdict == v for r in run.results) for v in ("pass", "degraded")}
    summary = (
        f"{len(run.results)} ran: {counts['pass']} passed, {counts['degraded']} degraded, "
        f"{len(run.failed)} failed"
    )
    if run.skipped:
        summary += f", {len(run.skipped)} skipped"
    click.echo(summary)
    if record and run.results:
        from tasks.store import get_engine
        from tasks.store.check_results import upsert_check_results

        written = upsert_check_results(get_engine(), run.results)
        click.echo(f"recorded {written} result(s) in {region}")
    sys.exit(1 if run.failed else 0)


@click.group()
def synthetic() -> None:
    """Synthetic checks, spelled as a job: ``traceo synthetic run NAME`` runs checks now."""


synthetic.add_command(checks_test, "run")
