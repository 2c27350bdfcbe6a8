"""``traceo model`` (the registry) and ``traceo drift`` (monitoring by hand).

Only click is imported at module level: the registry, Prefect, Feast and Evidently load when a
command runs, so ``traceo --help`` stays fast.
"""

from __future__ import annotations

import click

from deployments.cli_errors import fail_on_traceo_error

__all__ = ["drift", "model"]

DEFAULT_MODEL = "payments-fraud"


_model_option = click.option(
    "--model", "name", default=DEFAULT_MODEL, show_default=True, help="The model's name."
)


@click.group()
def model() -> None:
    """The model registry: versions, metrics, the champion and the challenger."""


@model.command("list")
@click.option("--model", "name", default=None, help="Only this model (default: every model).")
@fail_on_traceo_error
def model_list(name: str | None) -> None:
    """List registered versions, newest first, with aliases, holdout metric and training window."""
    from tasks.ml.registry import list_versions
    from tasks.store import get_engine

    versions = list_versions(get_engine(), name)
    if not versions:
        click.echo("no registered versions" + (f" of {name}" if name else ""))
        return
    click.echo(
        f"{'model':<20} {'ver':>4}  {'aliases':<20} {'metric':<20} {'trained on':<23} created"
    )
    for v in versions:
        challenger = (v.metrics or {}).get("challenger") or {}
        metric = f"{challenger.get('metric', '?')}={challenger.get('overall', float('nan')):.4f}"
        window = (
            f"{v.train_start:%Y-%m-%d}..{v.train_end:%Y-%m-%d}"
            if v.train_start and v.train_end
            else "-"
        )
        aliases = ",".join(v.aliases) + (" (rolled back)" if v.rolled_back else "")
        click.echo(
            f"{v.model:<20} {v.version:>4}  {aliases or '-':<20} {metric:<20} {window:<23} "
            f"{v.created_at:%Y-%m-%d %H:%M}"
        )


@model.command("promote")
@click.argument("version", type=int)
@_model_option
@click.option("--reason", default="promoted by hand", show_default=True, help="Recorded reason.")
@fail_on_traceo_error
def model_promote(version: int, name: str, reason: str) -> None:
    """Make VERSION the champion (the move and its reason are recorded)."""
    from tasks.ml.registry import CHAMPION, alias_version, promote
    from tasks.store import get_engine

    engine = get_engine()
    before = alias_version(engine, name, CHAMPION)
    promote(engine, name, version, reason)
    was = f"v{before.version}" if before else "none"
    click.echo(f"{name}: champion is now v{version} (was {was})")


@model.command("rollback")
@_model_option
@click.option("--reason", default="rolled back by hand", show_default=True, help="Recorded reason.")
@fail_on_traceo_error
def model_rollback(name: str, reason: str) -> None:
    """Return the champion to the one before it; the current one is marked rolled back."""
    from tasks.ml.registry import CHAMPION, alias_version, rollback
    from tasks.store import get_engine

    engine = get_engine()
    current = alias_version(engine, name, CHAMPION)
    info = rollback(engine, name, reason)
    was = f"v{current.version}" if current else "none"
    click.echo(f"{name}: champion rolled back from {was} to v{info.version}")


@click.group()
def drift() -> None:
    """Drift monitoring: check a window by hand, read the recorded decisions."""


@drift.command("check")
@_model_option
@click.option(
    "--window-end",
    default=None,
    help="End of the window, ISO date or datetime (default: today 00:00 UTC).",
)
@click.option("--policy", "policy_path", default=None, help="Policy file (default: shipped).")
@click.option("--no-report", is_flag=True, help="Skip the Evidently HTML report (faster).")
@click.option(
    "--notify-via",
    default=None,
    help="Notification block for data-quality notices (default: the policy's notify).",
)
@fail_on_traceo_error
def drift_check(
    name: str,
    window_end: str | None,
    policy_path: str | None,
    no_report: bool,
    notify_via: str | None,
) -> None:
    """Run one monitoring window (the monitor-drift flow): drift, decision, retrain if due."""
    from flows.drift import monitor_drift

    out = monitor_drift(name, window_end, policy_path, report=not no_report, notify_via=notify_via)
    flag = "yes" if out["dataset_drift"] else "no"
    click.echo(
        f"{out['model']} window {out['window_start']} .. {out['window_end']}: {out['rows']} rows, "
        f"dataset drift {flag} ({out['drifted_share']:.0%}: "
        f"{', '.join(out['drifted_columns']) or 'no column'})"
    )
    click.echo(f"decision: {out['action']}")
    for reason in [*out["reasons"], *out["evidence"]]:
        click.echo(f"  - {reason}")
    retrained = out.get("retrain")
    if retrained:
        click.echo(f"retrain: {retrained['action']} (version {retrained['version']})")
        for reason in retrained["reasons"]:
            click.echo(f"  - {reason}")
    if out.get("report"):
        click.echo(f"Evidently report: {out['report']}")


@drift.command("seed")
@click.option("--weeks", type=click.IntRange(2, 104), default=6, show_default=True)
@click.option("--rows-per-day", type=click.IntRange(10, 100_000), default=400, show_default=True)
@click.option(
    "--scenario",
    type=click.Choice(["none", "covariate_shift", "prior_shift", "concept_drift"]),
    default="none",
    show_default=True,
    help="Drift applied to the last --drift-days (tasks/ml/dataset.py documents each).",
)
@click.option("--drift-days", type=click.IntRange(1), default=14, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@fail_on_traceo_error
def drift_seed(weeks: int, rows_per_day: int, scenario: str, drift_days: int, seed: int) -> None:
    """Write the reference use case's generated payments (up to today) to the feature source.

    For an install without its own payment pipeline: the scheduled materialisation and drift
    monitoring then have data (the first monitoring run trains the first champion). Idempotent:
    the same options add nothing the second time.
    """
    from datetime import UTC, datetime, timedelta

    from tasks.ml.dataset import generate
    from tasks.ml.features import FeatureRepo, write_source

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(weeks=weeks)
    drift_start = today - timedelta(days=drift_days) if scenario != "none" else None
    frame = generate(start, 7 * weeks, rows_per_day, scenario, drift_start, seed)
    repo = FeatureRepo.default()
    added = write_source(repo, frame)
    click.echo(
        f"{added:,} new payments ({len(frame):,} generated, {start:%Y-%m-%d}..{today:%Y-%m-%d}, "
        f"scenario {scenario}) in {repo.source_path}"
    )


@drift.command("history")
@_model_option
@click.option("--limit", default=20, show_default=True, help="Decisions shown.")
@fail_on_traceo_error
def drift_history(name: str, limit: int) -> None:
    """Recorded monitoring and retrain decisions, newest first, with their reasons."""
    from tasks.ml.decisions import list_decisions
    from tasks.store import get_engine

    decisions = list_decisions(get_engine(), name, limit=limit)
    if not decisions:
        click.echo(f"no decisions recorded for {name}")
    for d in decisions:
        window = f" window ending {d.window_end:%Y-%m-%d}" if d.window_end else ""
        version = f" v{d.version}" if d.version is not None else ""
        click.echo(f"{d.at:%Y-%m-%d %H:%M} {d.kind:<8} {d.action:<8}{version}{window}")
        for reason in d.reasons:
            click.echo(f"    - {reason}")
