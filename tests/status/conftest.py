"""The sample shop's status page over a store the tests fill: specs from ``deployments/``."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tasks.status.publish import PageSources, load_sources

DEPLOYMENTS = Path(__file__).resolve().parents[2] / "deployments"
NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
REGIONS = ("eu-west-1", "us-east-1", "ap-northeast-1")
STOREFRONT = ("shop-health", "shop-products-list")


def results(
    check_id: str,
    minutes: int,
    verdict: Callable[[int, str], str] = lambda age, region: "pass",
    every: int = 600,
    now: datetime = NOW,
) -> Iterator[dict[str, Any]]:
    """One result per region every ``every`` seconds for ``minutes`` up to ``now`` (inclusive).

    ``verdict(age_minutes, region)`` gives each result's verdict.
    """
    for offset in range(0, minutes * 60, every):
        at = now - timedelta(seconds=offset)
        for region in REGIONS:
            yield {
                "check_id": check_id,
                "region": region,
                "scheduled_at": at,
                "started_at": at,
                "verdict": verdict(offset // 60, region),
                "duration_ms": 100.0,
            }


@pytest.fixture
def checks_dir(tmp_path) -> Path:
    """A copy of the shop's checks, so a test may add maintenance windows beside them."""
    target = tmp_path / "checks"
    shutil.copytree(DEPLOYMENTS / "checks", target)
    return target


def sources(checks_dir: Path, page: Path = DEPLOYMENTS / "status" / "shop.yaml") -> PageSources:
    return load_sources(page, checks_dir, DEPLOYMENTS / "slos")


def add_window(checks_dir: Path, body: str) -> None:
    (checks_dir / "test-window.yaml").write_text(f"maintenance:\n{body}")
