"""The page's colours (checked for WCAG AA contrast), its stylesheet and its one small script.

Colours live in :data:`PALETTE` only; the stylesheet is generated from it, so the contrast test
covers every colour the page uses. The script is progressive enhancement: it rewrites
``<time data-local>`` from UTC into the reader's zone; without it the page reads the same in UTC.
"""

from __future__ import annotations

__all__ = ["PALETTE", "SCRIPT", "STYLESHEET", "contrast_ratio"]

BACKGROUND = "#ffffff"
TEXT = "#1f2328"
MUTED = "#59636e"
# state badges and bars: white text on the colour, and the colour as a bar on the background
PALETTE: dict[str, str] = {
    "operational": "#1a7f37",
    "degraded_performance": "#8a5a00",
    "partial_outage": "#b34700",
    "major_outage": "#c4111e",
    "under_maintenance": "#0860ca",
    "unknown": "#59636e",
}
# bar classes -> palette entries (maintenance days show as planned unless the SLI also missed)
BARS: dict[str, str] = {
    "ok": "operational",
    "low": "partial_outage",
    "bad": "major_outage",
    "plan": "under_maintenance",
    "none": "unknown",
}


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _stylesheet() -> str:
    states = "\n".join(f".st-{name}{{background:{colour}}}" for name, colour in PALETTE.items())
    bars = "\n".join(f".b-{name}{{fill:{PALETTE[entry]}}}" for name, entry in BARS.items())
    return f"""*{{box-sizing:border-box}}
body{{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:{TEXT};
background:{BACKGROUND}}}
.wrap{{max-width:56rem;margin:0 auto;padding:1rem}}
a{{color:{PALETTE["under_maintenance"]}}}
:focus-visible{{outline:3px solid {TEXT};outline-offset:2px}}
.skip{{position:absolute;left:-999px;top:0;background:{TEXT};color:{BACKGROUND};padding:.5rem}}
.skip:focus{{left:.5rem}}
h1{{font-size:1.6rem;margin:.5rem 0}}
h2{{font-size:1.25rem;margin:1.5rem 0 .5rem}}
h3{{font-size:1.1rem;margin:1rem 0 .25rem}}
h4{{font-size:1rem;margin:0}}
.banner{{color:#fff;font-weight:600;padding:.75rem 1rem;border-radius:.375rem;margin:.5rem 0}}
.muted,.updated,.legend,.desc{{color:{MUTED}}}
.services{{list-style:none;margin:0;padding:0}}
.service{{border:1px solid #d1d9e0;border-radius:.375rem;padding:.75rem;margin:.5rem 0}}
.head{{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.5rem;align-items:center}}
.state{{color:#fff;font-size:.875rem;font-weight:600;padding:.125rem .5rem;border-radius:1rem}}
.bars{{display:block;width:100%;height:2rem;margin:.5rem 0 .25rem}}
.legend{{display:flex;justify-content:space-between;font-size:.8125rem;margin:0}}
table{{border-collapse:collapse;font-size:.875rem;margin:.5rem 0}}
th,td{{text-align:left;padding:.25rem .75rem .25rem 0;border-bottom:1px solid #d1d9e0}}
summary{{cursor:pointer;font-size:.875rem}}
{states}
{bars}
"""


STYLESHEET = _stylesheet()

SCRIPT = """(function () {
  var format = new Intl.DateTimeFormat(undefined, {year: "numeric", month: "short",
    day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"});
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var at = new Date(el.getAttribute("datetime"));
    if (!isNaN(at)) { el.title = el.textContent; el.textContent = format.format(at); }
  });
})();
"""
