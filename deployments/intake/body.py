"""Reading a webhook body within a fixed size, whatever the headers claim.

The body is pulled from the ASGI server chunk by chunk and refused as soon as the next chunk
would take it past :data:`MAX_BODY_BYTES`, so no more than the limit is ever buffered by the app:
a chunked upload (no ``Content-Length``), or a ``Content-Length`` that understates the body, is cut
off at the limit; a declared length over the limit is refused before a byte is read.
"""

from __future__ import annotations

from starlette.types import Receive

from tasks.errors import PermanentError

__all__ = ["MAX_BODY_BYTES", "BodyTooLargeError", "IncompleteBodyError", "read_body"]

# Webhook bodies are small JSON documents (a Jira issue webhook is a few KiB).
MAX_BODY_BYTES = 256 * 1024


class BodyTooLargeError(PermanentError):
    """The body is over :data:`MAX_BODY_BYTES` (answered 413; the rest is never read)."""


class IncompleteBodyError(PermanentError):
    """The client went away before sending its whole body (answered 400, nothing stored)."""


def _declared_too_large(declared: str | None) -> bool:
    if declared is None or not (declared.isascii() and declared.isdigit()):
        return False  # absent (chunked) or malformed: the count below is what decides
    return len(declared) > len(str(MAX_BODY_BYTES)) or int(declared) > MAX_BODY_BYTES


async def read_body(receive: Receive, content_length: str | None) -> bytes:
    """The whole body from ``receive``, at most :data:`MAX_BODY_BYTES` of it ever held.

    Reads the ASGI messages themselves (Starlette's ``request.stream()`` is an async generator,
    which costs a webhook more than the reading does). ``content_length`` is the header as sent,
    if any: only a help to refuse early, never trusted.

    Raises:
        BodyTooLargeError: the declared or the received length passes the limit.
        IncompleteBodyError: the client disconnected mid-body.
    """
    too_large = BodyTooLargeError(f"body larger than {MAX_BODY_BYTES} bytes")
    if _declared_too_large(content_length):
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise IncompleteBodyError("client disconnected before the end of the body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
