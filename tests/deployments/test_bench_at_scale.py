"""The at-scale cost benchmarks' parts on a small generated month (speed is `traceo bench`'s)."""

from __future__ import annotations

from pathlib import Path

from deployments.bench.anomaly_series_at_scale import _same, reference_series, series_of_month
from deployments.bench.chargeback_at_scale import charge_month
from deployments.bench.lake_month import PERIOD, month_lake


def test_the_month_is_generated_once_into_the_lake_and_reused(tmp_path: Path) -> None:
    lake = month_lake(30_000, tmp_path)
    keys = lake.partitions([PERIOD])
    assert len(keys) == 5
    assert lake.dataset(keys).count_rows() == 30_000
    files = lake.files(keys)
    assert month_lake(30_000, tmp_path).files(keys) == files  # cached: the same version


def test_the_grouped_lake_run_posts_the_cents_of_the_in_memory_run(tmp_path: Path) -> None:
    lake = month_lake(30_000, tmp_path)
    grouped = charge_month(lake.root, True)
    whole = charge_month(lake.root, False)
    assert grouped["groups"] < whole["groups"] == 30_000
    assert grouped["status"] == whole["status"] == "posted"
    assert grouped["checksum"] == whole["checksum"]
    assert grouped["totals"] == whole["totals"] and len(grouped["totals"]) > 100


def test_the_lake_series_equal_the_pandas_reference(tmp_path: Path) -> None:
    lake = month_lake(30_000, tmp_path)
    ours, reference = series_of_month(lake.root), reference_series(lake.root)
    assert ours["count"] > 200  # 10 services, 40 accounts, 221 tag values, the total
    assert _same(ours["series"], reference["series"])
    broken = {**reference["series"]}
    key = next(iter(broken))
    broken[key] = [v + 1 for v in broken[key]]
    assert not _same(ours["series"], broken)
