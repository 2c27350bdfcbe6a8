"""Rows for the metrics tests, and reading an exposition back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from tasks.probes.metrics import StoreCollector, build_registry
from tasks.store.check_results import upsert_check_results

NOW = datetime.now(UTC).replace(microsecond=0)
EXPIRY = datetime(2027, 3, 1, tzinfo=UTC)


def row(check: str, region: str, minutes_ago: int, verdict: str, **fields: Any) -> dict:
    at = NOW - timedelta(minutes=minutes_ago)
    return {
        "check_id": check,
        "region": region,
        "scheduled_at": at,
        "started_at": at + timedelta(seconds=7),
        "verdict": verdict,
        "duration_ms": fields.pop("duration_ms", 120.0),
        "detail": fields.pop("detail", {}),
        **fields,
    }


def seed(engine: Engine) -> None:
    """Two checks in two regions with history, a simulated row and a stale one."""
    http_timings = {"connect": 1.5, "tls": 4.0, "ttfb": 30.0, "transfer": 2.5, "total": 38.0}
    tcp_timings = {"resolve": 0.1, "connect": 0.8, "tls": 3.2, "total": 4.5}
    upsert_check_results(
        engine,
        [
            row("shop-health", "us-east-1", 3, "fail"),
            row(
                "shop-health",
                "us-east-1",
                2,
                "pass",
                duration_ms=38.0,
                detail={"timings": http_timings},
                cert_expires_at=EXPIRY,
            ),
            row("shop-health", "eu-west-1", 2, "degraded", duration_ms=900.0),
            row("shop-port", "eu-west-1", 4, "pass"),
            row(
                "shop-port",
                "eu-west-1",
                1,
                "error",
                duration_ms=None,
                detail={"timings": tcp_timings},
            ),
            row("gone", "eu-west-1", 60 * 5, "pass"),  # older than the 2 h lookback
        ],
    )
    upsert_check_results(engine, [row("shop-health", "us-east-1", 1, "fail")], simulated=True)


def scrape(collector: StoreCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(name, sorted labels): value}`` from a full exposition of ``collector``."""
    text = generate_latest(build_registry(collector)).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))
