"""Sending alert notices through Prefect notification blocks (Slack, PagerDuty, custom webhooks).

Targets are named by block document slug, ``"<block-type-slug>/<block-name>"``, for example
``"slack-webhook/sre-alerts"``, ``"pager-duty-webhook/payments-oncall"`` or
``"custom-webhook/status-page"``; blocks are loaded at run time, never at import.
"""

from __future__ import annotations

from typing import Any, Protocol

from tasks.errors import ConfigurationError, ServiceUnavailableError
from tasks.redaction import redact

__all__ = ["BlockNotifier", "Notifier"]


class Notifier(Protocol):
    """Anything that can deliver a notice to a named target."""

    def send(self, target: str, subject: str, body: str) -> None: ...


class BlockNotifier:
    """Delivers notices with Prefect notification blocks, loading each block once."""

    def __init__(self, blocks: dict[str, Any] | None = None) -> None:
        # Pre-built blocks (e.g. unsaved ones in tests) take precedence over loading by name.
        self._blocks: dict[str, Any] = dict(blocks or {})

    def _block(self, target: str) -> Any:
        block = self._blocks.get(target)
        if block is None:
            from prefect.blocks.core import Block

            try:
                block = Block.load(target)
            except ValueError as exc:
                raise ConfigurationError(
                    f"notification target {target!r} is not a saved Prefect block: {exc}"
                ) from None
            self._blocks[target] = block
        return block

    def send(self, target: str, subject: str, body: str) -> None:
        block = self._block(target)
        try:
            block.notify(body=body, subject=subject, _sync=True)
        except Exception as exc:
            raise ServiceUnavailableError(
                f"notification to {target!r} failed: {redact(str(exc))[:300]}"
            ) from None
