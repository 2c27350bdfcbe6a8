"""A tiny local site for browser-engine tests: a form, a landing page, statuses, a slow page."""

from __future__ import annotations

import asyncio
import threading
import time

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

FORM = """<!doctype html>
<html><head><meta charset="utf-8"><title>Test form</title></head><body>
<label>Search <input id="q" name="q"></label>
<label>Note <input id="note" name="note"></label>
<select id="size"><option value="s">Small</option><option value="m">Medium</option></select>
<p id="chosen"></p>
<p id="typed"></p>
<button id="go" onclick="location.href='/done?from=form'">Go</button>
<button id="reveal" onclick="setTimeout(() => { document.getElementById('late').hidden = false; }, 300)">Reveal</button>
<div id="late" hidden>Now you see me</div>
<div id="gone">Vanishing</div>
<div id="hidden" style="display: none">Layout only</div>
<script>
  document.getElementById('size').addEventListener('change',
    (e) => { document.getElementById('chosen').textContent = 'Size: ' + e.target.value; });
  document.getElementById('q').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') document.getElementById('typed').textContent = 'Searched: ' + e.target.value;
  });
  setTimeout(() => document.getElementById('gone').remove(), 200);
</script>
</body></html>
"""  # noqa: E501

DONE = """<!doctype html><html><head><title>Done</title></head>
<body><h1 id="done">All done</h1></body></html>"""


class Gauge:
    """Counts requests in flight and remembers the highest count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.current -= 1


def create_pages() -> FastAPI:
    app = FastAPI()
    app.state.slow = Gauge()

    @app.get("/form", response_class=HTMLResponse)
    def form() -> str:
        return FORM

    @app.get("/done", response_class=HTMLResponse)
    def done() -> str:
        return DONE

    @app.get("/status/{code}")
    def status(code: int) -> HTMLResponse:
        return HTMLResponse(f"<title>Status {code}</title><p>{code}</p>", status_code=code)

    @app.get("/slow", response_class=HTMLResponse)
    async def slow(ms: int = 300, peak: int = 0) -> str:
        """Answer after ``ms``, or as soon as ``peak`` requests have been in flight at once."""
        gauge: Gauge = app.state.slow
        with gauge:
            deadline = time.monotonic() + ms / 1000
            while time.monotonic() < deadline and not (peak and gauge.peak >= peak):
                await asyncio.sleep(0.01)
        return "<title>Slow</title><p id='slow'>finally</p>"

    return app
