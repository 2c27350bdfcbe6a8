"""The one interface every cost source implements, and what it yields.

A source reads one provider's cost for a charge period and yields :class:`CostChunk` s already
normalised to the FOCUS store schema; :mod:`tasks.cost.ingest` validates across chunks and writes
them. Sources never write to the store and never see the store's connection.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from tasks.cost.focus import DECIMAL, TIMESTAMP

__all__ = ["TAG_TOTALS_SCHEMA", "CostChunk", "CostSource"]

# Daily totals per cost-allocation tag value (AWS Cost Explorer's GroupBy TAG view).
TAG_TOTALS_SCHEMA = pa.schema(
    [
        pa.field("provider_name", pa.string(), nullable=False),
        pa.field("billing_account_id", pa.string(), nullable=False),
        pa.field("tag_key", pa.string(), nullable=False),
        pa.field("tag_value", pa.string(), nullable=False),
        pa.field("charge_period_start", TIMESTAMP, nullable=False),
        pa.field("charge_period_end", TIMESTAMP, nullable=False),
        pa.field("billed_cost", DECIMAL, nullable=False),
        pa.field("effective_cost", DECIMAL, nullable=False),
        pa.field("contracted_cost", DECIMAL),
        pa.field("billing_currency", pa.string(), nullable=False),
        pa.field("estimated", pa.bool_(), nullable=False),
    ]
)


@dataclass(frozen=True)
class CostChunk:
    """Normalised cost from one origin (a file, or one API query).

    ``lines`` follows :data:`tasks.cost.focus.STORE_SCHEMA`; ``tag_totals`` (optional) follows
    :data:`TAG_TOTALS_SCHEMA`. ``origin`` names a path, URI or request, never a credential.
    """

    origin: str
    lines: pa.Table
    tag_totals: pa.Table | None = None
    #: The data-row number of ``lines``' first row in ``origin`` (files are read in batches).
    first_row: int = 1
    #: Observations worth reporting (e.g. prices checked against the catalogue); no row data.
    notes: tuple[str, ...] = ()


class CostSource(ABC):
    """A provider's cost for a charge period ``[start, end)`` (UTC days).

    Implementations: :class:`~tasks.cost.sources.aws_cost_explorer.CostExplorerSource`,
    :class:`~tasks.cost.sources.aws_data_exports.DataExportSource`,
    :class:`~tasks.cost.sources.focus_files.FocusFileSource`,
    :class:`~tasks.cost.sources.gcp_billing.GcpBillingSource`,
    :class:`~tasks.cost.sources.bigquery_export.BigQueryBillingExportSource`, and the in-memory
    :class:`~tasks.cost.sources.snapshot.StaticCostSource` for tests.
    """

    #: The configured name; the store's rows are owned (and replaced) per source name.
    name: str
    #: A short description for logs and reports (no secrets).
    kind: str = "source"

    @abstractmethod
    def fetch(self, start: date, end: date) -> Iterator[CostChunk]:
        """Yield the cost charged in ``[start, end)``; raise before yielding bad data."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
