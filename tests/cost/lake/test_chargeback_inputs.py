"""Chargeback's inputs from the lake, summed by DuckDB, allocate exactly as the FOCUS rows do."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from tasks.chargeback import (
    CostColumns,
    allocate,
    lines_from_lake,
    load_chargeback_config,
    load_usage_csv,
    needed_columns,
    period_bounds,
)
from tasks.chargeback.tasks import DEFAULT_CONFIG_DIR
from tasks.cost.ingest import ingest_source
from tasks.cost.sources.focus_files import FocusFileSource
from tasks.store import get_engine
from tests.cost.helpers import SAMPLE

PERIOD = "2024-09"


@pytest.mark.parametrize("metric", ["BilledCost", "EffectiveCost"])
def test_grouped_lake_lines_allocate_to_the_cent_like_the_rows(metric):
    ingest_source(
        get_engine(), FocusFileSource("sample", str(SAMPLE)), date(2024, 9, 1), date(2024, 10, 1)
    )
    config = load_chargeback_config(
        DEFAULT_CONFIG_DIR / "teams.yaml", DEFAULT_CONFIG_DIR / "ratecard.yaml"
    )
    usage = load_usage_csv(DEFAULT_CONFIG_DIR / "usage.csv", PERIOD)
    with SAMPLE.open(newline="") as file:
        rows = CostColumns.from_rows(csv.DictReader(file))
    start, end = period_bounds(PERIOD)

    grouped = lines_from_lake(start, end, needed_columns(config))
    every_line = lines_from_lake(start, end)
    expected = allocate(rows, config, usage, PERIOD, metric)

    assert len(grouped) < len(every_line) == 1000
    for lines in (grouped, every_line):
        got = allocate(lines, config, usage, PERIOD, metric)
        assert got.source_total == expected.source_total
        assert got.statements == expected.statements
        assert got.unallocated == expected.unallocated
