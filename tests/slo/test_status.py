from __future__ import annotations

import re
from pathlib import Path

from tasks.slo.evaluate import evaluate_slo
from tasks.slo.events import Events
from tasks.slo.loader import load_slos
from tasks.slo.status import render_table, status_rows
from tests.slo.helpers import NOW, REGIONS, slo, traffic

EU, US, _ = REGIONS
EXAMPLES = Path(__file__).resolve().parents[2] / "deployments" / "slos"
DEFAULT_BURN_COLUMNS = [
    "burn 5m",
    "burn 30m",
    "burn 1h",
    "burn 2h",
    "burn 6h",
    "burn 1d",
    "burn 3d",
]


def burning(**overrides: object):
    """Three days of traffic with 4 failures in the last 15 minutes (a page:1h/5m burn)."""

    def bad(age: int, region: str) -> bool:
        return (age in (10, 11, 12) and region == EU) or (age == 2 and region == US)

    return evaluate_slo(slo(**overrides), traffic(3 * 1440, bad), NOW)


def test_row_shows_objective_sli_budget_burn_per_window_and_firing_alerts() -> None:
    (row,) = status_rows([burning()])

    assert list(row) == [
        "slo",
        "service",
        "objective",
        "window",
        "sli",
        "budget left",
        *DEFAULT_BURN_COLUMNS,
        "alerts firing",
    ]
    # 12,960 results, 4 failed; budget 12.96 results; burn = error ratio / 0.001.
    assert row == {
        "slo": "test-slo",
        "service": "shop-api",
        "objective": "99.90%",
        "window": "30d rolling",
        "sli": "99.969%",  # 12,956 / 12,960
        "budget left": "69.1%",  # 1 - 4 / 12.96
        "burn 5m": "66.7x",  # 1 of 15
        "burn 30m": "44.4x",  # 4 of 90
        "burn 1h": "22.2x",  # 4 of 180
        "burn 2h": "11.1x",
        "burn 6h": "3.7x",
        "burn 1d": "0.9x",
        "burn 3d": "0.3x",
        "alerts firing": "page:1h/5m",
    }


def test_row_without_firing_alerts_shows_a_dash() -> None:
    (row,) = status_rows([evaluate_slo(slo(), traffic(3 * 1440), NOW)])

    assert row["alerts firing"] == "-"
    assert row["sli"] == "100.000%" and row["budget left"] == "100.0%"
    assert row["burn 1h"] == "0.0x"


def test_windows_below_the_min_events_render_as_low_traffic() -> None:
    # 15 results per 5 minutes: below a guard of 20, so that burn is not computed.
    (row,) = status_rows([burning(min_events=20)])

    assert row["burn 5m"] == "low traffic"
    assert row["burn 30m"] == "44.4x"
    assert row["alerts firing"] == "-"  # page:1h/5m needs its 5m window


def test_slo_without_data_renders_no_data() -> None:
    (row,) = status_rows([evaluate_slo(slo(), Events.empty(), NOW)])

    assert row["sli"] == "no data"
    assert row["budget left"] == "no data"
    assert all(row[c] == "no data" for c in DEFAULT_BURN_COLUMNS)
    assert row["alerts firing"] == "no-data"


def test_firing_alerts_list_pages_before_tickets() -> None:
    # A steady 10% failure rate for 3 days fires every tier.
    report = evaluate_slo(slo(), traffic(3 * 1440, lambda age, region: age % 10 == 0), NOW)

    (row,) = status_rows([report])

    assert row["alerts firing"] == "page:1h/5m, page:6h/30m, ticket:1d/2h, ticket:3d/6h"


def test_rows_follow_each_slos_own_alert_windows() -> None:
    orders = next(s for s in load_slos([EXAMPLES]) if s.id == "shop-order-journey")
    journey = evaluate_slo(orders, traffic(3 * 1440, every=300), NOW)

    (row,) = status_rows([journey])

    assert [k for k in row if k.startswith("burn ")] == [
        "burn 30m",
        "burn 2h",
        "burn 6h",
        "burn 1d",
    ]
    assert row["objective"] == "99.50%"
    assert row["window"] == "1M calendar (Europe/Paris)"


def cells(line: str) -> list[str]:
    return re.split(r" {2,}", line.strip())


def test_table_has_a_header_a_rule_and_one_aligned_line_per_slo() -> None:
    rows = status_rows([burning(), evaluate_slo(slo(id="quiet-slo"), Events.empty(), NOW)])

    header, rule, first, second = render_table(rows).splitlines()

    assert cells(header) == list(rows[0])
    assert cells(first)[:6] == ["test-slo", "shop-api", "99.90%", "30d rolling", "99.969%", "69.1%"]
    quiet = ["quiet-slo", "shop-api", "99.90%", "30d rolling", "no data", "no data"]
    assert cells(second)[:6] == quiet
    # Every column starts where its rule starts, on every line.
    starts = [m.start() for m in re.finditer(r"-+", rule)]
    assert len(starts) == len(rows[0])
    for line in (header, first, second):
        assert [line[s - 2 : s] for s in starts[1:]] == ["  "] * (len(starts) - 1)
        assert all(line[s] != " " for s in starts)
    widths = [len(m.group()) for m in re.finditer(r"-+", rule)]
    assert widths[list(rows[0]).index("sli")] == len("99.969%")
    assert widths[list(rows[0]).index("alerts firing")] == len("alerts firing")


def test_table_columns_are_the_union_of_every_rows_keys() -> None:
    table = render_table([{"slo": "a", "burn 5m": "1.0x"}, {"slo": "bb", "burn 1d": "2.0x"}])

    assert table.splitlines() == [
        "slo  burn 5m  burn 1d",
        "---  -------  -------",
        "a    1.0x            ",
        "bb            2.0x   ",
    ]


def test_table_of_nothing_says_so() -> None:
    assert render_table([]) == "no SLOs"
