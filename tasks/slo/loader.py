"""Load OpenSLO v1 files into :class:`~tasks.slo.definition.SloDefinition` objects.

Files may hold many documents (``---``); references (``indicatorRef``, ``alertPolicyRef``,
``conditionRef``, ``targetRef``) resolve across every file loaded together. All problems in all
files are collected and raised as one :class:`~tasks.errors.SpecError` whose issues name the
file, the document (``SLO shop-availability``) and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from tasks.errors import SpecError, SpecIssue
from tasks.slo.definition import DEFAULT_MIN_EVENTS, Indicator, SloDefinition
from tasks.slo.indicator import IndicatorBuilder
from tasks.slo.policies import PolicyResolver
from tasks.slo.spec import (
    ANNOTATION_PREFIX,
    DOCUMENT_MODELS,
    Objective,
    SloDocument,
    parse_annotation,
)
from tasks.slo.windows import CalendarWindow, RollingWindow, TimeWindow, parse_duration
from tasks.specs import (
    iter_spec_files,
    load_documents,
    parse_yaml,
    validation_issues,
    yaml_problem,
)

__all__ = ["SloSet", "load_slo_set", "load_slos", "load_slos_from_text"]


@dataclass
class SloSet:
    """Everything loaded from a set of files: the SLO objectives and what they were built from."""

    slos: list[SloDefinition] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    documents: dict[str, int] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)


def load_slos(paths: Iterable[Path | str]) -> list[SloDefinition]:
    """Load every SLO objective from files or directories; raise SpecError listing every problem."""
    return load_slo_set(paths).slos


def load_slo_set(paths: Iterable[Path | str]) -> SloSet:
    """Like :func:`load_slos`, also returning files, document counts and notification targets."""
    paths = list(paths)
    files = list(iter_spec_files(paths))
    if not files:
        raise SpecError([SpecIssue(", ".join(map(str, paths)), None, None, "no YAML files found")])
    loader = _Loader()
    for file in files:
        try:
            loader.add(str(file), load_documents(file))
        except SpecError as exc:
            loader.issues.extend(exc.issues)
    return loader.build([str(f) for f in files])


def load_slos_from_text(text: str, file: str = "<string>") -> list[SloDefinition]:
    """Load SLO objectives from YAML text (handy for tests and one-off evaluations)."""
    import yaml

    try:
        documents = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise SpecError([SpecIssue(file, None, None, yaml_problem(exc))]) from None
    loader = _Loader()
    loader.add(file, documents)
    return loader.build([file]).slos


@dataclass
class _Entry:
    file: str
    item: str
    document: Any


class _Loader:
    def __init__(self) -> None:
        self.issues: list[SpecIssue] = []
        self.registry: dict[str, dict[str, _Entry]] = {kind: {} for kind in DOCUMENT_MODELS}
        self.policies = PolicyResolver(self.registry, self.issue)

    def issue(self, file: str, item: str | None, where: str | None, reason: str) -> None:
        self.issues.append(SpecIssue(file, item, where, reason))

    def add(self, file: str, documents: list[Any]) -> None:
        # A YAML document may also be a list of OpenSLO objects (as oslo reads and writes them).
        documents = [o for d in documents for o in (d if isinstance(d, list) else [d])]
        for index, raw in enumerate(documents, start=1):
            if not isinstance(raw, dict):
                self.issue(
                    file, f"document {index}", None, "expected a mapping (an OpenSLO object)"
                )
                continue
            kind = str(raw.get("kind") or "document")
            meta = raw.get("metadata")
            name = meta.get("name") if isinstance(meta, dict) else None
            item = f"{kind} {name}" if name else f"{kind} #{index}"
            if raw.get("apiVersion") != "openslo/v1":
                got = raw.get("apiVersion")
                self.issue(file, item, "apiVersion", f"must be openslo/v1, got {got!r}")
                continue
            model = DOCUMENT_MODELS.get(kind)
            if model is None:
                known = ", ".join(DOCUMENT_MODELS)
                self.issue(file, item, "kind", f"{kind!r} is not supported (use {known})")
                continue
            try:
                document = model.model_validate(raw)
            except ValidationError as exc:
                self.issues.extend(validation_issues(file, item, exc, plain=True))
                continue
            existing = self.registry[kind].get(document.metadata.name)
            if existing is not None:
                self.issue(file, item, "metadata.name", f"duplicate name (also in {existing.file})")
                continue
            self.registry[kind][document.metadata.name] = _Entry(file, item, document)

    def build(self, files: list[str]) -> SloSet:
        result = SloSet(files=files)
        result.documents = {k: len(v) for k, v in self.registry.items() if v}
        result.targets = {
            n: e.document.spec.target for n, e in self.registry["AlertNotificationTarget"].items()
        }
        indicators = IndicatorBuilder(self.issue)
        for name, entry in self.registry["SLI"].items():
            indicators.add_document(name, entry.file, entry.item, entry.document.spec)
        for entry in self.registry["SLO"].values():
            before = len(self.issues)
            slos = self._build_slo(entry, indicators)
            if len(self.issues) == before:
                result.slos.extend(slos)
        if self.issues:
            raise SpecError(self.issues)
        return result

    def _build_slo(self, entry: _Entry, indicators: IndicatorBuilder) -> list[SloDefinition]:
        doc: SloDocument = entry.document
        file, item, spec = entry.file, entry.item, doc.spec
        before = len(self.issues)
        annotations = {
            k.removeprefix(ANNOTATION_PREFIX): parse_annotation(
                k.removeprefix(ANNOTATION_PREFIX), v
            )
            for k, v in doc.metadata.annotations.items()
            if k.startswith(ANNOTATION_PREFIX)
        }

        sli = None
        if spec.indicator is not None and spec.indicatorRef is not None:
            self.issue(file, item, "spec.indicator", "give indicator or indicatorRef, not both")
        elif spec.indicator is not None:
            sli = indicators.build(
                spec.indicator.metadata.name, file, item, spec.indicator.spec, "spec.indicator.spec"
            )
        elif spec.indicatorRef is None:
            self.issue(file, item, "spec.indicatorRef", "give indicator or indicatorRef")
        elif spec.indicatorRef not in indicators.documents:
            self.issue(
                file,
                item,
                "spec.indicatorRef",
                f"no SLI named {spec.indicatorRef!r} in the loaded files",
            )
        else:
            sli = indicators.resolved(spec.indicatorRef)

        window = self._window(file, item, spec.timeWindow[0])
        tiers, no_data = self.policies.resolve(file, item, spec.alertPolicies, annotations)
        timeslices = spec.budgetingMethod == "Timeslices"
        if timeslices and "slot" in annotations:
            self.issue(
                file,
                item,
                "metadata.annotations",
                f"{ANNOTATION_PREFIX}slot is for Occurrences; Timeslices use timeSliceWindow",
            )
        latency = sli is not None and sli.latency_op is not None
        if len(spec.objectives) > 1 and latency:
            self.issue(file, item, "spec.objectives", "a thresholdMetric SLI takes one objective")
        elif len(spec.objectives) > 1:
            names = [o.displayName for o in spec.objectives]
            if None in names or len({_slug(n or "") for n in names}) != len(names):
                self.issue(
                    file,
                    item,
                    "spec.objectives",
                    "with several objectives each needs a distinct displayName (it names the id)",
                )
        targets = [
            self._objective(file, item, f"spec.objectives[{i}]", o, sli, timeslices)
            for i, o in enumerate(spec.objectives)
        ]
        if sli is None or window is None or tiers is None or len(self.issues) > before:
            return []

        out = []
        for objective, target in zip(spec.objectives, targets, strict=True):
            assert target is not None
            suffix = _slug(objective.displayName or "") if len(spec.objectives) > 1 else None
            slot = (
                parse_duration(objective.timeSliceWindow, fixed=True).seconds  # type: ignore[arg-type]
                if timeslices
                else int(annotations.get("slot", 60))
            )
            indicator = sli
            if sli.latency_op is not None:
                op: Literal["lt", "lte"] = "lt" if objective.op == "lt" else "lte"  # validated
                indicator = indicators.with_threshold(sli, op, objective.value)
            out.append(
                SloDefinition(
                    id=f"{doc.metadata.name}/{suffix}" if suffix else doc.metadata.name,
                    service=spec.service,
                    indicator=indicator,
                    target=target,
                    window=window,
                    budgeting_method=spec.budgetingMethod,  # type: ignore[arg-type]
                    time_slice_target=objective.timeSliceTarget if timeslices else None,
                    slot_seconds=slot,
                    tiers=tiers,
                    no_data=no_data,
                    min_events=int(annotations.get("min-events", DEFAULT_MIN_EVENTS)),
                    min_failing_regions=int(annotations.get("global-min-failing-regions", 1)),
                    name=doc.metadata.name,
                    objective=objective.displayName,
                    display_name=doc.metadata.displayName,
                    description=spec.description,
                    file=file,
                    labels=dict(doc.metadata.labels),
                )
            )
        return out

    def _objective(
        self,
        file: str,
        item: str,
        where: str,
        objective: Objective,
        sli: Indicator | None,
        timeslices: bool,
    ) -> float | None:
        """Check one objective's fields against the SLI and budgeting method; return its target."""
        problems: list[tuple[str, str]] = []
        if (objective.target is None) == (objective.targetPercent is None):
            problems.append(("target", "give target or targetPercent (exactly one)"))
        for name in ("timeSliceTarget", "timeSliceWindow"):
            value = getattr(objective, name)
            if timeslices and value is None:
                problems.append((name, "required with budgetingMethod: Timeslices"))
            if not timeslices and value is not None:
                problems.append((name, "only used with budgetingMethod: Timeslices"))
        if sli is None:
            pass  # the SLI's own problems are reported; op/value cannot be judged without it
        elif sli.latency_op is not None:
            if objective.op not in ("lt", "lte"):
                got = "missing" if objective.op is None else f"{objective.op} is not supported"
                problems.append(("op", f"{got}: a latency SLI needs op lt or lte"))
            if objective.value is None or objective.value <= 0:
                problems.append(("value", "a latency SLI needs a positive value (milliseconds)"))
        elif objective.value is not None:
            # op alone is accepted and ignored, as OpenSLO's examples write it on ratio objectives
            problems.append(("value", "only used with a thresholdMetric SLI"))
        for name, reason in problems:
            self.issue(file, item, f"{where}.{name}", reason)
        if problems:
            return None
        if objective.target is not None:
            return objective.target
        return float(Decimal(repr(objective.targetPercent)) / 100)

    def _window(self, file: str, item: str, spec: Any) -> TimeWindow | None:
        where = "spec.timeWindow[0]"
        duration = parse_duration(spec.duration)
        rolling = spec.isRolling if spec.isRolling is not None else spec.calendar is None
        if rolling:
            if spec.calendar is not None:
                self.issue(file, item, f"{where}.calendar", "a rolling window takes no calendar")
                return None
            if not duration.is_fixed:
                self.issue(
                    file,
                    item,
                    f"{where}.duration",
                    f"a rolling window needs a fixed length (m, h, d, w), got {duration.label}; "
                    "use 30d or 28d, or a calendar window for months",
                )
                return None
            if spec.isRolling is None:
                self.issue(file, item, f"{where}.isRolling", "set isRolling: true, or a calendar")
                return None
            return RollingWindow(duration)
        if spec.calendar is None:
            self.issue(
                file,
                item,
                f"{where}.calendar",
                "a calendar-aligned window needs calendar.startTime and calendar.timeZone",
            )
            return None
        return CalendarWindow(duration, spec.calendar.startTime, spec.calendar.timeZone)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
