"""tasks/failure.py: the failure message names what failed and how to retry, and leaks nothing."""

from __future__ import annotations

from tasks.failure import FailedTask, FailureReport, failure_message

RUN_ID = "0b6f3c3e-2f6b-4d3c-9a44-1b8f2f0d7e11"


def _report(**changes) -> FailureReport:  # type: ignore[no-untyped-def]
    base = dict(
        flow_name="cost-ingestion",
        flow_run_id=RUN_ID,
        flow_run_name="brave-otter",
        error="Flow run encountered an exception: ServiceUnavailableError: Cost Explorer down",
        failed_tasks=[FailedTask("ingest_cost_period-a1f", "ServiceUnavailableError: CE 503")],
        deployment="5f3e2c1d-0000-4000-8000-000000000001",
        ui_url=f"http://127.0.0.1:4200/runs/flow-run/{RUN_ID}",
    )
    base.update(changes)
    return FailureReport(**base)  # type: ignore[arg-type]


def test_message_names_the_flow_the_failed_task_the_error_and_the_retry() -> None:
    text = failure_message(_report())
    assert text.startswith("**cost-ingestion** run `brave-otter` failed:")
    assert "- `ingest_cost_period-a1f`: ServiceUnavailableError: CE 503" in text
    assert f"`prefect flow-run retry {RUN_ID}`" in text
    assert f"Retry button on http://127.0.0.1:4200/runs/flow-run/{RUN_ID}" in text
    assert "only the failed ones" in text


def test_a_run_without_deployment_is_retried_with_its_entrypoint() -> None:
    text = failure_message(_report(deployment=None, entrypoint="flows/cost.py:ingest_costs"))
    assert f"prefect flow-run retry {RUN_ID} --entrypoint flows/cost.py:ingest_costs" in text


def test_a_flow_failing_before_any_task_says_so() -> None:
    text = failure_message(_report(failed_tasks=[], error="Validation of flow parameters failed"))
    assert "No task run failed: the flow itself failed" in text
    assert "Validation of flow parameters failed" in text


def test_a_flow_without_persisted_results_warns_that_everything_reruns() -> None:
    text = failure_message(_report(results_persisted=False))
    assert "a retry runs every task again" in text
    assert "reused" not in text


def test_errors_are_redacted_cut_to_one_line_and_long_task_lists_summarised() -> None:
    tasks = [FailedTask(f"erase-{i}", "x" * 1000 + "\nsecond line") for i in range(12)]
    error = "lookup for jane.doe@example.com failed: password=hunter2 rejected"
    text = failure_message(_report(error=error, failed_tasks=tasks))
    assert "jane.doe@example.com" not in text and "hunter2" not in text
    assert "second line" not in text
    assert max(len(line) for line in text.splitlines()) < 400
    assert "- and 2 more" in text and "erase-9" in text and "erase-10" not in text


def test_each_flow_failure_is_keyed_so_the_artifacts_page_lists_it() -> None:
    from tasks.failure import failure_artifact_key

    assert failure_artifact_key("run_experiment") == "failure-run-experiment"
    assert failure_artifact_key("cost-ingestion") == "failure-cost-ingestion"
