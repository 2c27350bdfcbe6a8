"""Render a :class:`~tasks.status.model.StatusPage` as one HTML document, readable without JS.

Times are written in UTC inside ``<time datetime>``; ``status.js`` shows them in the reader's
zone. Each service's 90 days are one SVG with one path per colour (a few bytes a day, so a page of
200 services stays small), described by its ``aria-label``; the days that missed the objective or
had maintenance are listed in a table inside ``<details>``, reachable from the keyboard.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from tasks.status.model import STATE_LABELS, DayBar, ServiceStatus, StatusPage

__all__ = ["BAR_STEP", "bar_class", "render_page"]

BAR_STEP = 5  # SVG units per day: a 4-unit bar and a 1-unit gap
_BAR_HEIGHT = 30
# below the objective by more than ten times its error budget: a bad day, not just a low one
_BAD_FACTOR = 10
# colour is never the only carrier: the days that missed are also listed as text per service
_LEGEND = (
    "Each bar is one UTC day: green met the objective, orange missed it, red missed it by more "
    "than ten error budgets, blue had planned maintenance, grey had no data."
)


def bar_class(day: DayBar, objective: float) -> str:
    """The colour class of one day: none, ok, low, bad, or plan (maintenance, objective met)."""
    availability = day.availability
    if availability is None:
        return "plan" if day.maintenance else "none"
    if availability >= objective:
        return "plan" if day.maintenance else "ok"
    return "bad" if availability < 1 - _BAD_FACTOR * (1 - objective) else "low"


def _percent(share: float | None, digits: int = 2) -> str:
    return "no data" if share is None else f"{share * 100:.{digits}f}%"


def _time(at: datetime) -> str:
    utc = at.strftime("%Y-%m-%d %H:%M UTC")
    return f'<time datetime="{at.isoformat()}" data-local>{utc}</time>'


def _bars(service: ServiceStatus) -> str:
    paths: dict[str, list[str]] = {}
    for k, day in enumerate(service.days):
        paths.setdefault(bar_class(day, service.objective), []).append(
            f"M{k * BAR_STEP} 0h4v{_BAR_HEIGHT}h-4z"
        )
    label = (
        f"Daily availability over the last {len(service.days)} days: "
        f"{_percent(service.uptime)} (objective {_percent(service.objective, 1)})"
    )
    body = "".join(f'<path class="b-{c}" d="{"".join(d)}"/>' for c, d in sorted(paths.items()))
    width = len(service.days) * BAR_STEP - 1
    return (
        f'<svg class="bars" viewBox="0 0 {width} {_BAR_HEIGHT}" preserveAspectRatio="none" '
        f'role="img" aria-label="{label}">{body}</svg>'
    )


def _notable_days(service: ServiceStatus) -> str:
    rows = []
    for day in reversed(service.days):
        kind = bar_class(day, service.objective)
        if kind in ("ok", "none") and not day.maintenance:
            continue
        note = "maintenance (planned failures not counted)" if day.maintenance else ""
        rows.append(
            f'<tr><td><time datetime="{day.day.isoformat()}">{day.day.isoformat()}</time></td>'
            f"<td>{_percent(day.availability, 3)}</td><td>{note}</td></tr>"
        )
    if not rows:
        return '<p class="muted">Every day with data met the objective.</p>'
    return (
        f"<details><summary>{len(rows)} day(s) below the objective or with maintenance"
        '</summary><table><thead><tr><th scope="col">Day (UTC)</th>'
        '<th scope="col">Availability</th><th scope="col">Note</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></details>"
    )


def _service(service: ServiceStatus) -> str:
    description = (
        f'<p class="desc">{escape(service.description)}</p>' if service.description else ""
    )
    days = len(service.days)
    return (
        f'<li class="service"><div class="head"><h4>{escape(service.name)}</h4>'
        f'<span class="state st-{service.state}">{STATE_LABELS[service.state]}</span></div>'
        f"{description}{_bars(service)}"
        f'<p class="legend" aria-hidden="true"><span>{days} days ago</span>'
        f"<span>{_percent(service.uptime)} uptime</span><span>Today</span></p>"
        f"{_notable_days(service)}</li>"
    )


def _incidents(page: StatusPage) -> str:
    if not page.incidents:
        return '<p class="muted">No open incidents.</p>'
    items = "".join(
        f"<li><strong>{escape(i.title)}</strong>, since {_time(i.started_at)}</li>"
        for i in page.incidents
    )
    return f'<ul class="incidents">{items}</ul>'


def _maintenance(page: StatusPage) -> str:
    if not page.maintenance:
        return '<p class="muted">No maintenance scheduled.</p>'
    items = "".join(
        f"<li><strong>{escape(m.title)}</strong>{' (in progress)' if m.active else ''}: "
        f"{escape(', '.join(m.services))}, {_time(m.starts_at)} to {_time(m.ends_at)}</li>"
        for m in page.maintenance
    )
    return f"<ul>{items}</ul>"


def render_page(page: StatusPage) -> str:
    """The page as a complete HTML document (links ``status.css`` and ``status.js`` beside it)."""
    state, description = page.headline
    title = escape(page.title)
    groups = "".join(
        f'<section aria-labelledby="g{n}"><h3 id="g{n}">{escape(name)}</h3>'
        f'<ul class="services">{"".join(_service(s) for s in services)}</ul></section>'
        for n, (name, services) in enumerate(page.groups())
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{title}</title><link rel="stylesheet" href="status.css">'
        '<script src="status.js" defer></script></head><body>'
        '<a class="skip" href="#services">Skip to services</a><div class="wrap">'
        f'<header><h1>{title}</h1><p class="banner st-{state}" role="status">'
        f"{escape(description)}</p>"
        f'<p class="updated">Updated {_time(page.generated_at)}</p></header><main>'
        f'<section aria-labelledby="incidents"><h2 id="incidents">Open incidents</h2>'
        f"{_incidents(page)}</section>"
        '<section aria-labelledby="maintenance"><h2 id="maintenance">Scheduled maintenance</h2>'
        f"{_maintenance(page)}</section>"
        '<section id="services" tabindex="-1" aria-labelledby="services-h">'
        f'<h2 id="services-h">Services</h2><p class="muted">{_LEGEND}</p>{groups}</section>'
        "</main></div></body></html>\n"
    )
