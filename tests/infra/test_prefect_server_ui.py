"""infra/prefect/server.py with the UI on: in a real browser, the UI calls its own server."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.prefect.server import PrefectServer
from tests.services import require_chromium

pytestmark = pytest.mark.slow


def test_the_ui_on_any_port_lists_its_own_servers_deployments(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright
    from prefect.client.orchestration import SyncPrefectClient

    from tasks.probes.browser_launch import chromium_executable

    with PrefectServer(tmp_path / "server", ui=True, services=False) as server:
        assert server.port != 4200
        with SyncPrefectClient(server.api_url) as client:
            flow_id = client.create_flow_from_name("traceo-ui-probe")
            client.create_deployment(flow_id, name="wired-to-itself")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_executable()[0])
            try:
                page = browser.new_page()
                api_calls: list[str] = []
                page.on("request", lambda r: "/api/" in r.url and api_calls.append(r.url))
                page.goto(f"{server.url}/deployments", timeout=60_000)
                page.get_by_text("wired-to-itself").first.wait_for(timeout=60_000)
            finally:
                browser.close()
    assert api_calls and all(url.startswith(server.api_url) for url in api_calls)
