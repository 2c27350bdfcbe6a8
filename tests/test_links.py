"""tasks/links.py: artifact links open from a browser when TRACEO_FILES_URL is set."""

from __future__ import annotations

from pathlib import Path

from tasks.links import browser_link
from tasks.settings import get_settings


def test_a_file_under_traceo_home_links_through_the_files_url(traceo_home: Path, monkeypatch):
    monkeypatch.setenv("TRACEO_FILES_URL", "https://reports.example.com/traceo/")
    get_settings.cache_clear()
    statement = traceo_home / "chargeback" / "2024-09" / "team a.csv"
    assert browser_link(statement) == (
        "https://reports.example.com/traceo/chargeback/2024-09/team%20a.csv"
    )
    outside = Path("/srv/elsewhere/report.html")
    assert browser_link(outside) == "file:///srv/elsewhere/report.html"


def test_without_a_files_url_links_stay_file_urls(traceo_home: Path) -> None:
    report = traceo_home / "ml" / "report.html"
    assert browser_link(report) == report.resolve().as_uri()
