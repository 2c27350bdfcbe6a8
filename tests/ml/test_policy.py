"""The trigger policy: loading (malformed files rejected) and the retrain decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tasks.errors import NotFoundError, SpecError
from tasks.ml.decisions import Decision
from tasks.ml.policy import (
    DEFAULT_POLICY_PATH,
    ModelPolicy,
    WindowEvidence,
    decide_trigger,
    load_policy,
)

POLICY = ModelPolicy(
    name="m", window_days=7, consecutive_windows=2, min_rows=100, cooldown_hours=72
)
T0 = datetime(2026, 5, 4, tzinfo=UTC)
WEEK = timedelta(days=7)


def _window(i: int, drift: bool = True, rows: int = 500, version: int | None = 1) -> WindowEvidence:
    return WindowEvidence(
        T0 + i * WEEK, T0 + (i + 1) * WEEK, rows, drift, 0.6 if drift else 0.1, version
    )


def _recorded(window: WindowEvidence, counts: bool) -> Decision:
    return Decision(
        model="m",
        kind="monitor",
        action="none",
        at=window.window_end,
        reasons=[],
        window_start=window.window_start,
        window_end=window.window_end,
        drifted=window.dataset_drift,
        version=window.champion_version,
        detail={"counts_as_drift": counts},
    )


def _retrain(end: datetime, action: str = "promoted") -> Decision:
    return Decision(model="m", kind="retrain", action=action, at=end, reasons=[], window_end=end)


def test_shipped_policy_loads():
    policy = load_policy(DEFAULT_POLICY_PATH)
    model = policy.for_model("payments-fraud")
    assert model.consecutive_windows >= 2 and model.promotion.slices
    with pytest.raises(NotFoundError, match="no policy for model 'other'"):
        policy.for_model("other")


def test_no_retrain_on_one_noisy_window():
    verdict = decide_trigger(POLICY, _window(1), [_recorded(_window(0, drift=False), False)], [])
    assert verdict.action == "none"
    assert verdict.counts_as_drift
    assert "drift in 1 of 2 required consecutive windows" in verdict.reasons[-1]


def test_drift_in_k_consecutive_windows_triggers_a_retrain():
    verdict = decide_trigger(POLICY, _window(1), [_recorded(_window(0), True)], [])
    assert verdict.action == "retrain" and verdict.drifted_windows == 2


def test_a_gap_or_a_new_champion_breaks_the_streak():
    gap = decide_trigger(POLICY, _window(2), [_recorded(_window(0), True)], [])
    assert gap.action == "none"
    older_champion = decide_trigger(
        POLICY, _window(1, version=2), [_recorded(_window(0), True)], []
    )
    assert older_champion.action == "none"


def test_a_rerun_of_the_same_window_does_not_count_twice():
    window = _window(1)
    verdict = decide_trigger(POLICY, window, [_recorded(window, True)], [])
    assert verdict.action == "none"


def test_too_few_rows_is_no_evidence():
    verdict = decide_trigger(POLICY, _window(1, rows=99), [_recorded(_window(0), True)], [])
    assert verdict.action == "none" and not verdict.counts_as_drift
    assert "below min_rows=100" in verdict.reasons[0]


def test_cooldown_is_respected_then_expires():
    history = [_recorded(_window(1), True), _recorded(_window(0), True)]
    recent = [_retrain(_window(2).window_end - timedelta(days=1))]
    held = decide_trigger(POLICY, _window(2), history, recent)
    assert held.action == "skip" and "cooldown" in held.reasons[-1]
    refused = [_retrain(_window(1).window_end, action="refused")]  # does not start a cooldown
    assert decide_trigger(POLICY, _window(2), history, refused).action == "retrain"
    old = [_retrain(_window(2).window_end - timedelta(hours=73))]
    assert decide_trigger(POLICY, _window(2), history, old).action == "retrain"


def test_a_running_retrain_holds_the_trigger_back():
    verdict = decide_trigger(POLICY, _window(1), [_recorded(_window(0), True)], [], True)
    assert verdict.action == "skip" and "already running" in verdict.reasons[-1]


def _write(tmp_path, text: str):
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models: []\n", "policy.yaml: models: must be a non-empty list"),
        (
            "models:\n  - name: m\n    consecutive_windows: 0\n",
            "m: consecutive_windows: Input should be greater",
        ),
        ("models:\n  - name: m\n    cooldown: 3\n", "m: cooldown: unknown field"),
        ("models:\n  - name: Bad Name\n", "Bad Name: name: String should match pattern"),
        (
            "models:\n  - name: m\n    training: {days: 7, holdout_days: 7}\n",
            "m: training: Value error",
        ),
        (
            "models:\n  - name: m\n    promotion: {metric: accuracy}\n",
            "m: promotion.metric: Input should be",
        ),
        ("models:\n  - name: m\n  - name: m\n", "m: name: model listed more than once"),
        ("models:\n  - {name: m}\nextra: 1\n", "extra: unknown field"),
        ("models: [\n", "invalid YAML: line"),
        ("- just a list\n", "expected one mapping"),
    ],
)
def test_malformed_policy_files_are_rejected_naming_file_model_and_field(tmp_path, text, expected):
    with pytest.raises(SpecError) as info:
        load_policy(_write(tmp_path, text))
    assert expected in str(info.value)
    assert str(tmp_path / "policy.yaml") in str(info.value)


def test_missing_policy_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="file not found"):
        load_policy(tmp_path / "nope.yaml")


def test_daily_runs_of_a_weekly_window_chain_through_the_tiling_windows():
    daily = [
        _recorded(
            WindowEvidence(
                T0 + timedelta(days=d), T0 + timedelta(days=d) + WEEK, 500, d == 0, 0.6, 1
            ),
            d == 0,
        )
        for d in range(6, -1, -1)
    ]  # windows ending on each of the 7 days before the checked one; only the tiling one drifted
    assert decide_trigger(POLICY, _window(1), daily, []).action == "retrain"
    quiet = [d for d in daily if d.window_end != T0 + WEEK]
    assert decide_trigger(POLICY, _window(1), quiet, []).action == "none"


def test_a_partial_check_does_not_count_as_drift_unless_the_policy_allows_it():
    partial = WindowEvidence(
        T0, T0 + WEEK, 500, True, 0.6, 1, ("data quality: feature 'x' is missing",)
    )
    strict = decide_trigger(POLICY.model_copy(update={"consecutive_windows": 1}), partial, [], [])
    assert strict.action == "none" and not strict.counts_as_drift
    assert "partial check (1 feature problem(s))" in strict.reasons[0]
    lenient = POLICY.model_copy(
        update={"consecutive_windows": 1, "partial_check_may_retrain": True}
    )
    assert decide_trigger(lenient, partial, [], []).action == "retrain"
