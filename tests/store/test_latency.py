"""Latency percentiles from the rollups' histograms: exact to one ladder step, any span."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from click.testing import CliRunner

from tasks.store.check_results import upsert_check_results
from tasks.store.latency import ALL_REGIONS, latency_percentiles
from tasks.store.rollup_cells import LADDER

NOW = datetime(2026, 11, 20, 12, 0, 30, tzinfo=UTC)


def results(
    durations: dict[str, list[float]], minutes_ago: int = 0, now: datetime = NOW
) -> list[dict]:
    rows = []
    for region, values in durations.items():
        for i, ms in enumerate(values):
            at = now - timedelta(minutes=minutes_ago + i + 1)
            rows.append(
                {
                    "check_id": "api",
                    "region": region,
                    "scheduled_at": at,
                    "started_at": at,
                    "verdict": "pass",
                    "duration_ms": ms,
                }
            )
    return rows


def ladder_percentile(values: list[float], q: float) -> float:
    """The ladder bound at or above numpy's inverted-CDF percentile."""
    true = float(np.percentile(values, q, method="inverted_cdf"))
    return float(LADDER[np.searchsorted(LADDER, true, side="left")])


def test_percentiles_per_region_and_overall_match_the_raw_durations(store_engine) -> None:
    rng = np.random.default_rng(3)
    # Three days of one result a minute: days, hours and minutes all take part.
    eu = rng.lognormal(np.log(120), 0.5, 3 * 1440).round(1).tolist()
    us = rng.lognormal(np.log(300), 0.3, 3 * 1440).round(1).tolist()
    upsert_check_results(store_engine, results({"eu-west-1": eu, "us-east-1": us}))

    got = {
        s.region: s
        for s in latency_percentiles(
            store_engine, "api", NOW - timedelta(days=3), NOW, (50, 95, 99.9)
        )
    }

    assert list(got) == ["eu-west-1", "us-east-1", ALL_REGIONS]
    for region, values in (("eu-west-1", eu), ("us-east-1", us), (ALL_REGIONS, eu + us)):
        assert got[region].results == len(values)
        assert got[region].percentiles == {q: ladder_percentile(values, q) for q in (50, 95, 99.9)}


def test_only_the_span_counts_and_a_value_on_a_bound_reads_as_itself(store_engine) -> None:
    upsert_check_results(store_engine, results({"eu-west-1": [300.0] * 10}))
    upsert_check_results(store_engine, results({"eu-west-1": [9000.0] * 50}, minutes_ago=60))

    (region, overall) = latency_percentiles(store_engine, "api", NOW - timedelta(minutes=30), NOW)

    assert (region.results, region.percentiles) == (10, {50: 300.0, 95: 300.0, 99: 300.0})
    assert overall.results == 10


def test_the_command_prints_a_row_per_region(store_engine, monkeypatch) -> None:
    from deployments.cli import main

    now = datetime.now(UTC)  # the command reads up to now
    upsert_check_results(store_engine, results({"eu-west-1": [100.0, 200.0]}, now=now))
    monkeypatch.setenv("TRACEO_DATABASE_URL", str(store_engine.url.render_as_string(False)))
    from tasks.settings import get_settings

    get_settings.cache_clear()
    found = CliRunner().invoke(main, ["checks", "latency", "api", "--since", "2h"])
    assert found.exit_code == 0, found.output
    assert "eu-west-1" in found.output and "all regions" in found.output
    assert found.output.splitlines()[2].split() == ["eu-west-1", "2", "100", "200", "200"]
    bad = CliRunner().invoke(main, ["checks", "latency", "api", "--percentiles", "0"])
    assert bad.exit_code == 2 and "between 0 and 100" in bad.output
