"""Sources that need no network: recorded Cost Explorer responses and in-memory FOCUS rows.

As in Dagster's example projects (``HNAPIClient`` / ``HNSnapshotClient``), code depends on the
interface and tests or demos run the whole pipeline on a snapshot. :class:`CostExplorerSnapshot`
stands in for a boto3 ``ce`` client inside the real
:class:`~tasks.cost.sources.aws_cost_explorer.CostExplorerSource` (paging and mapping included);
:class:`StaticCostSource` yields given FOCUS rows through the same validation as files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from tasks.cost.normalise import normalise
from tasks.cost.sources.base import CostChunk, CostSource

__all__ = ["CostExplorerSnapshot", "StaticCostSource"]


class CostExplorerSnapshot:
    """Replays recorded ``GetCostAndUsage`` pages, keyed by the request's ``GroupBy``.

    ``pages`` maps a GroupBy label (``"SERVICE,LINKED_ACCOUNT"``, ``"TAG:team"``) to that query's
    responses in order; a request with ``NextPageToken`` gets the page after the one that
    returned the token.
    """

    def __init__(self, pages: Mapping[str, Sequence[dict[str, Any]]]) -> None:
        self.pages = {label: list(responses) for label, responses in pages.items()}
        self.calls: list[dict[str, Any]] = []

    @classmethod
    def from_file(cls, path: Path) -> CostExplorerSnapshot:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def get_cost_and_usage(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        label = ",".join(
            g["Key"] if g["Type"] == "DIMENSION" else f"{g['Type']}:{g['Key']}"
            for g in request.get("GroupBy", [])
        )
        responses = self.pages.get(label, [])
        token = request.get("NextPageToken")
        if token is None:
            return responses[0] if responses else {"ResultsByTime": []}
        for index, response in enumerate(responses[:-1]):
            if response.get("NextPageToken") == token:
                return responses[index + 1]
        raise KeyError(f"no recorded page after token {token!r} for GroupBy {label}")


class StaticCostSource(CostSource):
    """FOCUS rows given in memory (FOCUS column names), validated like a file's rows."""

    kind = "static rows"

    def __init__(
        self, name: str, rows: Sequence[Mapping[str, Any]], *, estimated: bool = False
    ) -> None:
        self.name = name
        self.rows = [dict(r) for r in rows]
        self.estimated = estimated

    def fetch(self, start: date, end: date) -> Iterator[CostChunk]:
        origin = f"{self.name} (in memory)"
        names = list(dict.fromkeys(k for row in self.rows for k in row))
        raw = pa.table(
            {n: pa.array([_text(r.get(n)) for r in self.rows], pa.string()) for n in names}
        )
        yield CostChunk(origin=origin, lines=normalise(raw, origin, estimated=self.estimated))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return json.dumps(value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
