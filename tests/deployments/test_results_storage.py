"""tasks/results.py: where results persist, from TRACEO_RESULT_STORAGE, and its clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import ConfigurationError
from tasks.results import check_result_storage, rerunnable, result_storage


def test_results_default_to_a_directory_under_traceo_home(traceo_home: Path, monkeypatch) -> None:
    monkeypatch.delenv("TRACEO_RESULT_STORAGE", raising=False)
    assert result_storage() == traceo_home / "results"
    assert rerunnable() == {"persist_result": True, "result_storage": traceo_home / "results"}


def test_a_block_slug_is_left_for_prefect_to_load_at_run_time(monkeypatch) -> None:
    monkeypatch.setenv("TRACEO_RESULT_STORAGE", "s3-bucket/traceo-results")
    assert result_storage() == "s3-bucket/traceo-results"
    assert rerunnable()["result_storage"] == "s3-bucket/traceo-results"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/srv/traceo/results", Path("/srv/traceo/results")),
        ("file:///srv/shared/results", Path("/srv/shared/results")),
        ("~/results", Path.home() / "results"),
        ("  ", None),  # blank means unset
    ],
)
def test_directories_are_absolute_paths(value: str, expected: Path | None, traceo_home) -> None:
    assert result_storage(value) == (expected or traceo_home / "results")


@pytest.mark.parametrize("value", ["results", "./results", "S3 bucket/x", "s3-bucket/", "a/b/c"])
def test_anything_else_is_a_configuration_error_naming_the_setting(value: str) -> None:
    with pytest.raises(ConfigurationError, match="TRACEO_RESULT_STORAGE") as caught:
        result_storage(value)
    assert repr(value) in str(caught.value)


def test_check_creates_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "results"
    assert check_result_storage(str(target)) == f"directory {target}"
    assert target.is_dir()


def test_check_fails_clearly_when_the_directory_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigurationError, match="cannot create"):
        check_result_storage(str(blocker / "results"))
