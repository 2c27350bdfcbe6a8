"""deployments/prefect.yaml declares each job's schedule, trigger, pool and concurrency.

Fast: the file is read with PyYAML and checked with Prefect's own models of it (the ones
``prefect deploy`` uses), without importing any flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOC = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
BY_NAME: dict[str, dict[str, Any]] = {d["name"]: d for d in DOC["deployments"]}


def _crons(name: str) -> list[str]:
    return [s["cron"] for s in BY_NAME[name].get("schedules") or []]


def test_the_file_validates_against_prefects_deploy_model() -> None:
    from prefect.cli.deploy._models import PrefectYamlModel

    model = PrefectYamlModel.model_validate(DOC)
    assert len(model.deployments) == len(DOC["deployments"]) == len(BY_NAME)


@pytest.mark.parametrize(
    ("name", "crons"),
    [
        ("probes-us-east-1", ["* * * * *"]),
        ("probes-eu-west-1", ["* * * * *"]),
        ("probes-ap-northeast-1", ["* * * * *"]),
        ("slo-evaluation", ["*/5 * * * *"]),
        ("cost-ingestion-aws", ["0 6 * * *"]),
        ("chargeback-monthly", ["0 7 3 * *"]),
        ("privacy-deadline-watch", ["0 8 * * *"]),
        ("privacy-retention", ["0 2 * * *"]),
        ("store-retention", ["30 * * * *"]),
        ("drift-feature-materialization", ["0 4 * * *"]),
        ("drift-monitoring", ["0 5 * * *"]),
        ("chaos-game-day", ["0 14 * * 2"]),
        ("cost-anomalies", []),
        ("fulfil-data-subject-request", []),
        ("drift-retrain", []),
    ],
)
def test_each_job_runs_on_its_schedule_in_utc(name: str, crons: list[str]) -> None:
    assert _crons(name) == crons
    assert all(s["timezone"] == "UTC" for s in BY_NAME[name].get("schedules") or [])


def test_features_are_materialised_before_drift_is_monitored() -> None:
    materialise = int(_crons("drift-feature-materialization")[0].split()[1])
    monitor = int(_crons("drift-monitoring")[0].split()[1])
    assert materialise < monitor


def test_anomaly_scoring_runs_when_a_cost_ingestion_run_completes() -> None:
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

    (raw,) = BY_NAME["cost-anomalies"]["triggers"]
    trigger = DeploymentEventTrigger.model_validate(raw)
    assert trigger.expect == {"prefect.flow-run.Completed"}
    assert trigger.posture == "Reactive" and trigger.threshold == 1
    related = trigger.match_related
    assert not isinstance(related, list)
    # The flow name ingest_costs is declared with; any ingestion deployment triggers scoring.
    flow_name = related.root["prefect.resource.name"]
    assert related.root["prefect.resource.role"] == "flow"
    assert f'@flow(name="{flow_name}"' in (ROOT / "flows" / "cost.py").read_text()


def test_chaos_game_days_are_weekly_paused_and_alone_in_their_pool() -> None:
    chaos = BY_NAME["chaos-game-day"]
    assert [s["active"] for s in chaos["schedules"]] == [False]
    assert chaos["concurrency_limit"] == 1
    assert chaos["work_pool"]["name"] == "chaos"
    assert {d["work_pool"]["name"] for d in BY_NAME.values() if d is not chaos} >= {"traceo"}
    assert all(d["work_pool"]["name"] != "chaos" for d in BY_NAME.values() if d is not chaos)


def test_only_the_chaos_game_day_is_paused_and_every_job_has_a_concurrency_limit() -> None:
    inactive = [
        n for n, d in BY_NAME.items() for s in d.get("schedules") or [] if not s.get("active", True)
    ]
    assert inactive == ["chaos-game-day"]
    assert not any(d.get("paused") for d in BY_NAME.values())
    assert all(d.get("concurrency_limit") for d in BY_NAME.values())


def test_the_intake_starts_dsr_fulfilment_by_its_contract_name() -> None:
    dsr = BY_NAME["fulfil-data-subject-request"]
    assert dsr["entrypoint"] == "flows/privacy.py:fulfil_request"
    assert not dsr.get("schedules") and not dsr.get("parameters")
