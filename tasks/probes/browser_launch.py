"""Find and launch headless Chromium for browser checks, with a timeout and a clear error.

Chromium is found in this order: ``TRACEO_CHROMIUM_PATH`` if set, else ``/usr/bin/chromium``
(Debian's ``chromium`` package), else Playwright's own download. The launch args keep the browser
on loopback-safe behaviour (no background networking, component updates, sync or QUIC; no name
resolution except 127.0.0.1); Playwright's own ``--disable-features`` are left alone.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.errors import ConfigurationError
from tasks.extras import missing_modules
from tasks.settings import get_settings

if TYPE_CHECKING:
    from playwright.async_api import Browser

__all__ = [
    "DRIVER_START_SECONDS",
    "INSTALL_HINT",
    "LAUNCH_ARGS",
    "SYSTEM_CHROMIUM",
    "BrowserUnavailableError",
    "browser_available",
    "chromium_executable",
    "first_line",
    "open_browser",
]

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
INSTALL_HINT = (
    "install Debian's chromium (apt-get install chromium) or set TRACEO_CHROMIUM_PATH "
    "to a Chromium executable"
)
_CLOSE_SECONDS = 10.0
DRIVER_START_SECONDS = 30.0


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (Playwright appends call logs and banners)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class BrowserUnavailableError(ConfigurationError):
    """No Chromium could be launched; the message says what was tried and how to fix it."""


def chromium_executable(configured: Path | str | None = None) -> tuple[str | None, list[str]]:
    """The Chromium to launch (None: Playwright's own) and notes on what was not found."""
    if configured is not None and str(configured) not in ("", "."):
        path = Path(configured).expanduser()
        if path.is_file():
            return str(path), []
        return None, [f"TRACEO_CHROMIUM_PATH={path} does not exist"]
    if SYSTEM_CHROMIUM.is_file():
        return str(SYSTEM_CHROMIUM), []
    return None, [f"{SYSTEM_CHROMIUM} is not installed"]


def browser_available(configured: Path | str | None = None) -> bool:
    """Whether a browser can be launched: the one configured, Debian's, or Playwright's own.

    False without Playwright (the ``browser`` extra), whatever Chromium there is.
    """
    if missing_modules("browser"):
        return False
    if chromium_executable(configured)[0] is not None:
        return True
    if configured is not None and str(configured) not in ("", "."):
        return False  # an explicit path that does not exist: do not fall back silently
    cache = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache/ms-playwright"
    return any(Path(cache).glob("chromium*"))


@asynccontextmanager
async def open_browser(
    executable_path: Path | str | None = None, *, launch_timeout: float | None = None
) -> AsyncIterator[Browser]:
    """Start Playwright and launch headless Chromium; close both on exit.

    Args:
        executable_path: a Chromium binary (default: ``TRACEO_CHROMIUM_PATH``, /usr/bin/chromium).
        launch_timeout: seconds for the browser to start (default:
            ``TRACEO_BROWSER_LAUNCH_TIMEOUT_SECONDS``); Playwright's driver gets at least
            :data:`DRIVER_START_SECONDS`, since a busy machine starts it slowly.

    Raises:
        BrowserUnavailableError: no browser, or it did not start in time.
    """
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    settings = get_settings()
    path, notes = chromium_executable(executable_path or settings.chromium_path)
    timeout = launch_timeout or settings.browser_launch_timeout_seconds
    try:
        async with asyncio.timeout(max(timeout, DRIVER_START_SECONDS)):
            playwright = await async_playwright().start()
    except (TimeoutError, PlaywrightError, OSError) as exc:
        raise BrowserUnavailableError(f"Playwright did not start: {first_line(exc)}") from None
    try:
        try:
            async with asyncio.timeout(timeout + 5):  # backstop for Playwright's own timeout
                browser = await playwright.chromium.launch(
                    executable_path=path,
                    headless=True,
                    args=list(LAUNCH_ARGS),
                    timeout=timeout * 1000,
                )
        except (TimeoutError, PlaywrightError) as exc:
            raise BrowserUnavailableError(_launch_problem(path, notes, exc, timeout)) from None
        try:
            yield browser
        finally:
            with suppress(Exception):
                async with asyncio.timeout(_CLOSE_SECONDS):
                    await browser.close()
    finally:
        with suppress(Exception):
            async with asyncio.timeout(_CLOSE_SECONDS):
                await playwright.stop()


def _launch_problem(path: str | None, notes: list[str], exc: BaseException, timeout: float) -> str:
    detail = first_line(exc)
    if isinstance(exc, TimeoutError) or "Timeout" in detail:
        return f"Chromium ({path or 'Playwright build'}) did not start within {timeout:g}s"
    if path is None and "Executable doesn't exist" in detail:
        tried = "; ".join([*notes, f"Playwright's own browser is missing ({detail})"])
        return f"no usable Chromium: {tried}. Fix: {INSTALL_HINT}"
    where = path or "Playwright build"
    return f"could not launch Chromium ({where}): {detail}. Fix: {INSTALL_HINT}"
