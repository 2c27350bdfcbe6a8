"""One region's probe runs never overlap: the deployments ask Prefect to cancel a colliding run."""

from __future__ import annotations

from pathlib import Path

import yaml
from prefect.cli.deploy._models import PrefectYamlModel
from prefect.client.schemas.objects import (
    ConcurrencyLimitConfig,
    ConcurrencyLimitStrategy,
    ConcurrencyOptions,
)

PREFECT_YAML = Path(__file__).resolve().parents[2] / "deployments" / "prefect.yaml"


def _probe_deployments() -> list[dict]:
    document = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    PrefectYamlModel.model_validate(document)  # the shape `prefect deploy` accepts
    return [d for d in document["deployments"] if d["entrypoint"].startswith("flows/synthetic.py")]


def test_each_region_runs_one_probe_run_at_a_time_and_cancels_collisions() -> None:
    deployments = _probe_deployments()
    assert len(deployments) == 3
    for deployment in deployments:
        limit = deployment["concurrency_limit"]
        # what `prefect deploy` sends for a mapping (prefect/cli/deploy/_core.py)
        config = ConcurrencyLimitConfig(**limit)
        options = ConcurrencyOptions(collision_strategy=limit["collision_strategy"])
        assert config.limit == 1
        assert options.collision_strategy is ConcurrencyLimitStrategy.CANCEL_NEW
        assert deployment["schedules"][0]["cron"] == "* * * * *"  # the tick schedule.py assumes
