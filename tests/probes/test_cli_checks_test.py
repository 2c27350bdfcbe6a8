"""`traceo checks test` and `traceo synthetic run`: checks run once against a local server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from deployments.cli import main
from tests.services import require_chromium


def _write(path: Path, target: str, *, status_target: str = "UP", frequency: str = "1m") -> Path:
    path.write_text(
        "defaults: {service: shop-api, regions: [eu-west-1]}\n"
        "checks:\n"
        "  - id: doc-up\n"
        f"    frequency: {frequency}\n"
        f"    request: {{url: '{target}/json'}}\n"
        "    assertions:\n"
        "      - {source: status_code, operator: equals, target: 200}\n"
        f"      - {{source: json_body, property: $.status, operator: equals, "
        f"target: {status_target}}}\n",
        encoding="utf-8",
    )
    return path


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_a_passing_check_prints_its_verdict_and_timings_and_exits_0(
    target: str, tmp_path: Path
) -> None:
    result = _invoke("checks", "test", str(_write(tmp_path / "c.yaml", target)))
    assert result.exit_code == 0, result.output
    verdict = result.output.splitlines()[0]
    assert verdict.startswith("PASS") and "doc-up" in verdict
    assert "ttfb" in verdict and "HTTP 200" in verdict
    assert result.output.splitlines()[-1] == "1 ran: 1 passed, 0 degraded, 0 failed"


def test_a_failing_assertion_exits_1_and_is_named(target: str, tmp_path: Path) -> None:
    file = _write(tmp_path / "c.yaml", target, status_target="DOWN")
    result = _invoke("checks", "test", str(file))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("FAIL") and "doc-up" in lines[0]
    assert "    assertion failed: json_body $.status equals 'DOWN' (actual UP)" in lines
    assert not any("status_code" in line for line in lines)  # the passing assertion is not listed


def test_a_check_is_found_by_name_in_the_checks_directory(target: str, tmp_path: Path) -> None:
    _write(tmp_path / "c.yaml", target)
    result = _invoke("synthetic", "run", "doc-up", "--checks", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PASS")


def test_an_unknown_name_is_one_clear_line(target: str, tmp_path: Path) -> None:
    _write(tmp_path / "c.yaml", target)
    result = _invoke("checks", "test", "doc-upp", "--checks", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: no check named 'doc-upp' in {tmp_path} (did you mean 'doc-up'?)\n"
    )
    assert result.stdout == ""


def test_a_check_outside_the_region_is_skipped(target: str, tmp_path: Path) -> None:
    result = _invoke("checks", "test", str(_write(tmp_path / "c.yaml", target)), "--region", "mars")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "SKIP     doc-up: does not run in mars",
        "0 ran: 0 passed, 0 degraded, 0 failed",
    ]


def test_record_needs_a_region(target: str, tmp_path: Path) -> None:
    result = _invoke("checks", "test", str(_write(tmp_path / "c.yaml", target)), "--record")
    assert result.exit_code == 2 and "--record needs --region" in result.output


def test_record_stores_one_result_per_slot_however_often_it_runs(
    target: str, tmp_path: Path
) -> None:
    from tasks.store import get_engine
    from tasks.store.models import CheckResult

    file = str(_write(tmp_path / "c.yaml", target, frequency="5m"))
    for at in ("2026-11-01T12:01:10+00:00", "2026-11-01T12:03:50+00:00"):  # one 5-minute slot
        result = _invoke("checks", "test", file, "--region", "eu-west-1", "--record", "--at", at)
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1] == "recorded 1 result(s) in eu-west-1"
    with get_engine().connect() as conn:
        rows = conn.execute(select(CheckResult.region, CheckResult.scheduled_at)).all()
    assert [(r, s.replace(tzinfo=UTC)) for r, s in rows] == [
        ("eu-west-1", datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    ]


def test_without_record_nothing_is_stored(target: str, tmp_path: Path) -> None:
    from tasks.store import get_engine
    from tasks.store.models import CheckResult

    _invoke("checks", "test", str(_write(tmp_path / "c.yaml", target)), "--region", "eu-west-1")
    with get_engine().connect() as conn:
        assert conn.execute(select(CheckResult.id)).all() == []


def _browser_file(tmp_path: Path, target: str) -> Path:
    file = tmp_path / "web.yaml"
    file.write_text(
        "checks:\n"
        "  - id: web-text\n"
        "    service: shop-web\n"
        "    type: browser\n"
        "    steps:\n"
        f"      - goto: '{target}/text'\n"
        "      - assert_text: {selector: body, contains: hello world}\n",
        encoding="utf-8",
    )
    return file


def test_a_browser_check_is_skipped_in_one_line_without_chromium(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEO_CHROMIUM_PATH", str(tmp_path / "no-chromium"))
    result = _invoke("checks", "test", str(_browser_file(tmp_path, target)))
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "SKIP     web-text: browser check skipped: no Chromium here",
        "0 ran: 0 passed, 0 degraded, 0 failed, 1 skipped",
    ]


def test_a_browser_check_is_skipped_naming_the_extra_without_playwright(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.extras import EXTRA_MODULES

    monkeypatch.setitem(EXTRA_MODULES, "browser", ("playwright_not_installed_here",))
    result = _invoke("checks", "test", str(_browser_file(tmp_path, target)))
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        "SKIP     web-text: browser check skipped: playwright_not_installed_here not installed: "
        "pip install 'traceo-jobs[browser]'"
    )


def test_a_browser_check_runs_in_chromium(target: str, tmp_path: Path) -> None:
    require_chromium()
    result = _invoke("checks", "test", str(_browser_file(tmp_path, target)))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PASS") and "web-text" in result.output
