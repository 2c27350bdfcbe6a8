"""Links in artifacts that open from a browser, not ``file://`` paths on the worker that wrote them.

Flows write files for people under ``$TRACEO_HOME`` (chargeback statements, drift reports, local
access bundles). With ``TRACEO_FILES_URL`` set, the link to such a file is that base URL plus the
file's path under ``$TRACEO_HOME``: the intake's ``/files`` route serves them
(:mod:`deployments.intake.files`), or sync them to a bucket whose URL it is (docs/operations.md).
Unset, or for a file elsewhere, the link stays a ``file://`` URL.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from tasks.settings import get_settings

__all__ = ["browser_link"]


def browser_link(path: Path) -> str:
    """The URL an artifact links ``path`` with."""
    settings = get_settings()
    path = path.resolve()
    home = settings.home.expanduser().resolve()
    if not settings.files_url or not path.is_relative_to(home):
        return path.as_uri()
    return f"{settings.files_url.rstrip('/')}/{quote(path.relative_to(home).as_posix())}"
