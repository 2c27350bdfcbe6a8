"""Columnar inputs of the SLO engine: raw check results, and the good/bad events of one SLI."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tasks.errors import ConfigurationError
from tasks.slo.definition import Indicator

if TYPE_CHECKING:
    from tasks.slo.maintenance import MaintenanceCalendar

__all__ = ["CheckResults", "Events", "indicator_checks", "select_events"]


@dataclass(frozen=True)
class Events:
    """The events of one SLI: when, where, and whether each was good.

    ``region`` holds integer codes into ``regions``. Excluded results (probe errors) are not
    events and are absent here. ``weight`` (None: one each) lets one entry stand for several
    events of one region and slot, as a rollup bucket does.
    """

    ts: npt.NDArray[np.int64]
    region: npt.NDArray[np.intp]
    good: npt.NDArray[np.bool_]
    regions: tuple[str, ...]
    weight: npt.NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        if not (len(self.ts) == len(self.region) == len(self.good)):
            raise ValueError("ts, region and good must have the same length")
        if self.weight is not None and len(self.weight) != len(self.ts):
            raise ValueError("weight must have one entry per event")

    def weights(self) -> npt.NDArray[np.int64]:
        """Events each entry stands for."""
        return np.ones(len(self.ts), np.int64) if self.weight is None else self.weight

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls) -> Events:
        return cls(np.empty(0, np.int64), np.empty(0, np.intp), np.empty(0, np.bool_), regions=())

    @classmethod
    def from_arrays(cls, ts: Iterable[int], region: Iterable[str], good: Iterable[bool]) -> Events:
        """Build events from plain sequences of epoch seconds, region names and booleans."""
        names, codes = np.unique(np.asarray(list(region), dtype=object), return_inverse=True)
        return cls(
            np.asarray(list(ts), dtype=np.int64),
            codes.astype(np.intp).reshape(-1),
            np.asarray(list(good), dtype=np.bool_),
            tuple(str(n) for n in names),
        )


@dataclass(frozen=True)
class CheckResults:
    """Check results as columns (what the probe engine stores), ``started_at`` in epoch seconds."""

    check_id: npt.NDArray[Any]
    region: npt.NDArray[Any]
    started_at: npt.NDArray[np.int64]
    verdict: npt.NDArray[Any]
    duration_ms: npt.NDArray[np.float64]

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> CheckResults:
        """Build columns from mappings with check_id, region, started_at, verdict, duration_ms.

        ``started_at`` may be epoch seconds or a timezone-aware datetime.
        """
        rows = list(records)

        def epoch(value: Any) -> int:
            return int(value.timestamp()) if isinstance(value, datetime) else int(value)

        duration = [r.get("duration_ms") for r in rows]
        return cls(
            np.asarray([r["check_id"] for r in rows], dtype=object),
            np.asarray([r["region"] for r in rows], dtype=object),
            np.asarray([epoch(r["started_at"]) for r in rows], dtype=np.int64),
            np.asarray([r["verdict"] for r in rows], dtype=object),
            np.asarray([np.nan if d is None else d for d in duration], dtype=np.float64),
        )


def indicator_checks(
    indicator: Indicator, check_services: Mapping[str, str] | None = None
) -> list[str]:
    """The check ids an SLI counts.

    Raises:
        ConfigurationError: the SLI selects by service and ``check_services`` is missing.
    """
    if indicator.service is None:
        return list(indicator.checks)
    if check_services is None:
        raise ConfigurationError(
            f"SLI {indicator.name} selects checks by service; pass check_services"
        )
    return sorted(c for c, s in check_services.items() if s == indicator.service)


def select_events(
    indicator: Indicator,
    results: CheckResults,
    check_services: Mapping[str, str] | None = None,
    maintenance: MaintenanceCalendar | None = None,
) -> Events:
    """Pick the results an SLI counts and classify them good or bad.

    Args:
        indicator: the SLI (which checks, which verdicts, an optional latency threshold).
        results: check results of any checks; only the selected ones are used.
        check_services: check id -> service, needed when the SLI selects checks by service.
        maintenance: planned windows; a bad result inside one of its check's windows is dropped
            (it spends no budget), a good one still counts.

    Raises:
        ConfigurationError: the SLI selects by service and ``check_services`` is missing.
    """
    check_ids = indicator_checks(indicator, check_services)
    mask = np.isin(results.check_id, np.asarray(check_ids, dtype=object))
    mask &= np.isin(results.verdict, np.asarray(indicator.total_verdicts, dtype=object))
    if indicator.latency_op is not None:
        duration = results.duration_ms[mask]
        counted = ~np.isnan(duration)
        idx = np.flatnonzero(mask)[counted]
        duration = duration[counted]
        limit = float("nan") if indicator.latency_ms is None else indicator.latency_ms
        good = duration < limit if indicator.latency_op == "lt" else duration <= limit
    else:
        idx = np.flatnonzero(mask)
        good = np.isin(results.verdict[idx], np.asarray(indicator.good_verdicts, dtype=object))
    if maintenance:
        kept = good | ~maintenance.covered(results.check_id[idx], results.started_at[idx])
        idx, good = idx[kept], good[kept]
    names, codes = np.unique(results.region[idx].astype(str), return_inverse=True)
    return Events(
        results.started_at[idx].astype(np.int64),
        codes.astype(np.intp).reshape(-1),
        np.asarray(good, dtype=np.bool_),
        tuple(str(n) for n in names),
    )
