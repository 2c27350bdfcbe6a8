"""A read-only file route: artifact links open from a browser, not ``file://`` on a worker.

``GET /files/<path>`` serves a file under ``$TRACEO_HOME`` (point ``TRACEO_FILES_URL`` at
``http://<intake>/files``, and :func:`tasks.links.browser_link` builds such links):

- chargeback statements and drift reports (:data:`PUBLIC_DIRS`) as they are;
- local access bundles only through the expiring signed link the fulfilment flow wrote
  (:func:`tasks.privacy.package.verify_signed_path`), decrypted on the way out;
- nothing else: other paths, directories, dot segments, symlinks leading out, control characters
  and over-long paths are all 404, a missing, forged or expired bundle signature 403.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from tasks.errors import PermanentError, TraceoError
from tasks.links import browser_link
from tasks.privacy.characters import identifier_problem

__all__ = ["MAX_PATH_CHARS", "PUBLIC_DIRS", "files_router"]

logger = logging.getLogger("traceo.intake")

PUBLIC_DIRS = ("chargeback", "ml/reports")  # under $TRACEO_HOME: what artifacts link to
MAX_PATH_CHARS = 1024


def _not_found() -> JSONResponse:
    return JSONResponse({"error": "not found"}, status_code=404)


def _target(home: Path, path: str) -> Path | None:
    """The file ``path`` names under ``home``, or None if it is not a plain path inside it."""
    if len(path) > MAX_PATH_CHARS or "\\" in path or identifier_problem(path):
        return None
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    try:
        target = home.joinpath(*parts).resolve()
    except (OSError, ValueError):
        return None
    return target if target.is_relative_to(home) else None


def _bundle_access() -> tuple[Path, bytes]:
    """Where local bundles live and the key that signs their links and seals them (read per
    request: the data map may change while the intake runs, and these requests are rare)."""
    from tasks.privacy.config import hash_key, privacy_settings, resolve_datamap

    datamap = resolve_datamap()
    destination = datamap.access.destination
    if destination and not destination.startswith("s3://"):
        root = Path(destination)
    else:
        root = privacy_settings().resolved_bundle_dir
    return root.expanduser().resolve(), hash_key(datamap)


def _bundle(target: Path, key: bytes, request: Request) -> Response:
    from tasks.privacy.package import open_sealed, verify_signed_path

    signed_path = unquote(urlsplit(browser_link(target)).path)
    query = request.query_params
    try:
        verify_signed_path(signed_path, query.get("expires", ""), query.get("signature", ""), key)
    except PermanentError as exc:
        return JSONResponse({"error": "forbidden", "detail": str(exc)}, status_code=403)
    if not target.is_file():
        return _not_found()
    try:
        data = open_sealed(key, target.read_bytes())
    except PermanentError as exc:  # altered on disk, or sealed under another key
        logger.error("bundle not served: %s", exc)
        return _not_found()
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    headers = {"Cache-Control": "no-store", "Content-Disposition": "attachment"}
    return Response(data, media_type=kind, headers=headers)


def files_router(home: Path) -> APIRouter:
    """``GET /files/{path}`` over ``home`` (``$TRACEO_HOME``)."""
    home = home.expanduser().resolve()
    public = [home.joinpath(*d.split("/")) for d in PUBLIC_DIRS]
    router = APIRouter()

    @router.get("/files/{path:path}", include_in_schema=False)
    def read_file(path: str, request: Request) -> Response:
        target = _target(home, path)
        if target is None:
            return _not_found()
        root: Path | None = None
        try:
            root, key = _bundle_access()
        except TraceoError as exc:  # privacy not configured: no bundle is served
            logger.warning("bundle links unavailable: %s", exc.__class__.__name__)
        if root is not None and target.is_relative_to(root):
            return _bundle(target, key, request)
        if not any(target.is_relative_to(d) for d in public) or not target.is_file():
            return _not_found()
        return FileResponse(target)

    return router
