"""The cost-ingestion flow on a Prefect test server: month tasks, the artifact, blocks, reruns."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select

from flows.cost import ingest_costs
from tasks.cost.sources.snapshot import StaticCostSource
from tasks.errors import NotFoundError
from tasks.store import CostLine
from tests.cost.helpers import SAMPLE, ce_day, ce_group, ce_page, focus_row, lake_rows
from tests.retrying import retry_flow_run

pytestmark = pytest.mark.engine


def _count() -> int:
    return lake_rows(select(func.count()).select_from(CostLine))[0][0]


def test_the_flow_ingests_month_by_month_publishes_a_table_and_reruns_identically(
    prefect_server, tmp_path
):
    from prefect.client.orchestration import get_client

    sources = tmp_path / "sources.yaml"
    sources.write_text(f"sources:\n  sample:\n    type: focus_files\n    location: {SAMPLE}\n")
    args = {"source": "sample", "start": date(2024, 8, 20), "end": date(2024, 10, 1)}
    first = ingest_costs(**args, sources_file=str(sources))
    second = ingest_costs(**args, sources_file=str(sources))

    assert [(s["start"], s["end"], s["rows"]) for s in first] == [
        ("2024-08-20", "2024-09-01", 0),
        ("2024-09-01", "2024-10-01", 1000),
    ]
    assert [s["scopes"] for s in first] == [s["scopes"] for s in second]
    assert _count() == 1000

    async def latest():
        async with get_client() as client:
            return await client.read_latest_artifacts(limit=50)

    table = next(a for a in asyncio.run(latest()) if a.key == "cost-ingestion")
    assert "Microsoft" in str(table.data) and "18.006639" in str(table.data)


def test_credentials_come_from_a_saved_aws_credentials_block(
    prefect_server, tmp_path, aws, monkeypatch
):
    from prefect_aws import AwsCredentials
    from prefect_aws.client_parameters import AwsClientParameters

    for key in aws.environment():  # only the block may know the endpoint and the keys
        monkeypatch.delenv(key)
    AwsCredentials(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
        aws_client_parameters=AwsClientParameters(endpoint_url=aws.url),
    ).save("finops-test", overwrite=True)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  aws-ce:\n    type: aws_cost_explorer\n    aws_credentials: finops-test\n"
        "    billing_account_id: '999'\n"
    )
    aws.seed_cost_and_usage(
        [
            ce_page([ce_day("2024-09-01", [ce_group(["AWS Lambda", "111"], "2.5")])]),
            ce_page([ce_day("2024-09-01", [ce_group(["team$shop"], "2.5")])]),
        ]
    )
    [summary] = ingest_costs(
        "aws-ce", date(2024, 9, 1), date(2024, 9, 2), sources_file=str(sources)
    )
    assert summary["providers"] == [
        {
            "source": "aws-ce",
            "period": "2024-09-01..2024-09-02",
            "provider": "AWS",
            "currency": "USD",
            "rows": 1,
            "billed_cost": "2.500000",
            "estimated": "no",
        }
    ]


class _LateExport(StaticCostSource):
    """September rows whose export is missing until ``september_ready``; logs every fetch."""

    def __init__(self) -> None:
        super().__init__("late", [focus_row(1), focus_row(2)])
        self.september_ready = False
        self.fetched: list[str] = []

    def fetch(self, start: date, end: date):  # type: ignore[no-untyped-def]
        self.fetched.append(start.isoformat())
        if start.month == 9 and not self.september_ready:
            raise NotFoundError("the September export is not there yet")
        yield from super().fetch(start, end)


def test_a_retried_run_reuses_the_months_already_ingested(prefect_server, tmp_path, monkeypatch):
    import tasks.cost.sources as sources_module

    source = _LateExport()
    monkeypatch.setattr(sources_module, "build_source", lambda config: source)
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"sources:\n  late:\n    type: focus_files\n    location: {tmp_path}\n")
    failed = ingest_costs(
        "late", date(2024, 8, 1), date(2024, 10, 1), str(sources), return_state=True
    )
    assert failed.is_failed() and source.fetched == ["2024-08-01", "2024-09-01"]

    source.september_ready = True
    retried = retry_flow_run(ingest_costs, failed.state_details.flow_run_id)
    assert retried.is_completed(), retried.message
    # August was reused from the first attempt's stored result; only September ran again.
    assert source.fetched == ["2024-08-01", "2024-09-01", "2024-09-01"]
    assert [(s["start"], s["rows"]) for s in retried.result()] == [
        ("2024-08-01", 0),
        ("2024-09-01", 2),
    ]
