"""Chaos Toolkit experiment files: loading, validation, safety limits and the ``--dry-run`` plan.

An experiment is a Chaos Toolkit document (JSON or YAML). Traceo reads its own settings from an
extension named ``traceo`` (Chaos Toolkit's place for tool-specific data, see
:class:`TraceoExtension`). Validation runs in three passes and reports every problem with the
file, the experiment title and the field:

1. pydantic models of the document (unknown top-level keys, missing title, bad types);
2. chaostoolkit-lib's own ``ensure_experiment_is_valid`` (providers importable, arguments match
   the function, tolerances well formed, configuration resolvable);
3. safety: every injected fault's target is on the allowlist (``TRACEO_CHAOS_ALLOWED_TARGETS``
   and the extension's ``allowed_targets``; both apply when both are set), and the planned
   duration fits ``max_duration_seconds`` and the operator's cap
   (``TRACEO_CHAOS_MAX_DURATION_SECONDS``).
"""

from __future__ import annotations

import copy
import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from tasks.errors import SpecError, SpecIssue
from tasks.specs import load_documents, validation_issues

__all__ = [
    "FAULTS_MODULE",
    "ChaosSettings",
    "ExperimentSpec",
    "LoadedExperiment",
    "TraceoExtension",
    "load_experiment",
    "parse_experiment_file",
    "resolve_configuration",
    "target_allowed",
]

FAULTS_MODULE = "tasks.chaos.activities.faults"
_STRICT = ConfigDict(extra="forbid", populate_by_name=True)


class ChaosSettings(BaseSettings):
    """The operator's limits (env ``TRACEO_CHAOS_*``), stronger than any experiment's own."""

    model_config = SettingsConfigDict(env_prefix="TRACEO_CHAOS_", extra="ignore")

    allowed_targets: str | None = None  # comma-separated patterns: "proxy:shop,process:*"
    max_duration_seconds: float = Field(default=900.0, gt=0)

    @property
    def allowlist(self) -> list[str] | None:
        if self.allowed_targets is None:
            return None
        return [p.strip() for p in self.allowed_targets.split(",") if p.strip()]


class Provider(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["python", "http", "process"]
    module: str | None = None
    func: str | None = None
    arguments: dict[str, Any] | None = None


class Activity(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["action", "probe"] | None = None
    name: str | None = None
    ref: str | None = None
    provider: Provider | None = None
    background: bool = False
    pauses: dict[str, float | str] | None = None


class HypothesisProbe(Activity):
    tolerance: Any = None


class Hypothesis(BaseModel):
    model_config = _STRICT

    title: str
    probes: list[HypothesisProbe] = Field(default_factory=list)


class HypothesisRuntime(BaseModel):
    """How the steady state is checked: Chaos Toolkit's strategies, ``continuous`` included."""

    model_config = _STRICT

    strategy: Literal[
        "default", "continuous", "before-method-only", "after-method-only", "skip"
    ] = "default"
    frequency_seconds: float = Field(default=5.0, gt=0, le=600)
    fail_fast: bool = True


class Preflight(BaseModel):
    """Refuse to start when ``slo`` already burns faster than ``max_burn_rate``."""

    model_config = _STRICT

    slo: str
    window_seconds: float = Field(default=300.0, gt=0)
    max_burn_rate: float = Field(gt=0)


class Safeguard(BaseModel):
    """Abort the method when the SLO breaks: burn rate over a limit, or N failed checks in a row."""

    model_config = _STRICT

    slo: str | None = None
    window_seconds: float = Field(default=30.0, gt=0)
    max_burn_rate: float | None = Field(default=None, gt=0)
    max_consecutive_failures: int | None = Field(default=None, ge=1)


class TraceoExtension(BaseModel):
    """``extensions: [{name: traceo, ...}]``: the service, its checks and the safety limits."""

    model_config = _STRICT

    name: Literal["traceo"]
    service: str = Field(min_length=1, max_length=200)
    checks: list[str] = Field(default_factory=list)
    check_env: dict[str, str] = Field(default_factory=dict)
    check_interval_seconds: float = Field(default=2.0, ge=0.2, le=60)
    region: str = Field(default="chaos", min_length=1, max_length=64)
    count_in_slo: bool = False
    max_duration_seconds: float = Field(default=300.0, gt=0)
    allowed_targets: list[str] | None = None
    weight: int = Field(default=1, ge=1, le=100)
    hypothesis: HypothesisRuntime = Field(default_factory=HypothesisRuntime)
    rollback_strategy: Literal["always", "default", "never", "deviated"] = "always"
    preflight: Preflight | None = None
    safeguard: Safeguard | None = None


class ExperimentSpec(BaseModel):
    """The parts of a Chaos Toolkit experiment Traceo reads (the rest goes to chaostoolkit-lib)."""

    model_config = _STRICT

    version: str | None = None
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    contributions: dict[str, str] | None = None
    configuration: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, Any] = Field(default_factory=dict)
    extensions: list[dict[str, Any]] = Field(default_factory=list)
    controls: list[dict[str, Any]] = Field(default_factory=list)
    steady_state_hypothesis: Hypothesis | None = Field(
        default=None, alias="steady-state-hypothesis"
    )
    method: list[Activity]
    rollbacks: list[Activity] = Field(default_factory=list)
    runtime: dict[str, Any] | None = None


@dataclass(frozen=True)
class LoadedExperiment:
    """A validated experiment: its file, the raw document (for chaostoolkit-lib) and our view."""

    path: Path
    document: dict[str, Any]
    spec: ExperimentSpec
    traceo: TraceoExtension

    @property
    def title(self) -> str:
        return self.spec.title

    def fault_activities(self) -> list[tuple[str, Activity]]:
        """``(field path, activity)`` of every ``inject_fault`` in the method."""
        return [
            (f"method[{i}]", a)
            for i, a in enumerate(self.spec.method)
            if a.provider
            and a.provider.module == FAULTS_MODULE
            and a.provider.func == "inject_fault"
        ]

    def planned_seconds(self) -> float:
        """Time the method is planned to take: its holds and pauses (probes count as zero)."""
        total = 0.0
        for activity in self.spec.method:
            for pause in (activity.pauses or {}).values():
                total += float(pause) if not isinstance(pause, str) else 0.0
            provider = activity.provider
            if provider and provider.module == FAULTS_MODULE and provider.func == "hold":
                total += float((provider.arguments or {}).get("seconds", 0))
        return total


def parse_experiment_file(path: Path | str) -> Any:
    """The parsed JSON or YAML document of an experiment file (not validated).

    Raises:
        SpecError: the file is missing or is not valid JSON / YAML.
    """
    path = Path(path)
    if path.suffix == ".json":
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SpecError([SpecIssue(str(path), None, None, "file not found")]) from None
        except (OSError, ValueError) as exc:
            raise SpecError([SpecIssue(str(path), None, None, f"invalid JSON: {exc}")]) from None
    documents = load_documents(path)
    if len(documents) != 1:
        raise SpecError([SpecIssue(str(path), None, None, "expected exactly one YAML document")])
    return documents[0]


def _traceo_extension(
    path: Path, title: str, extensions: list[dict[str, Any]]
) -> TraceoExtension | list[SpecIssue]:
    found = [(i, e) for i, e in enumerate(extensions) if e.get("name") == "traceo"]
    if len(found) != 1:
        reason = "needs exactly one extension named traceo (the service, its checks, limits)"
        return [SpecIssue(str(path), title, "extensions", reason)]
    index, raw = found[0]
    try:
        return TraceoExtension.model_validate(raw)
    except ValidationError as exc:
        return validation_issues(path, title, exc, ("extensions", index))


def resolve_configuration(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The experiment's configuration and secrets, resolved as chaostoolkit-lib does (env...)."""
    from chaoslib.configuration import load_configuration
    from chaoslib.secret import load_secrets

    config = load_configuration(copy.deepcopy(document.get("configuration") or {}))
    secrets = load_secrets(copy.deepcopy(document.get("secrets") or {}), config)
    return dict(config), dict(secrets)


def target_allowed(driver: str, target: str, patterns: list[str] | None) -> bool:
    """Whether ``driver:target`` matches a pattern (``proxy:shop``, ``shop``, ``proxy:*``).

    No allowlist (None) allows everything; an empty one allows nothing.
    """
    if patterns is None:
        return True
    for pattern in patterns:
        scope, sep, name = pattern.partition(":")
        if sep and fnmatch.fnmatchcase(driver, scope) and fnmatch.fnmatchcase(target, name):
            return True
        if not sep and fnmatch.fnmatchcase(target, pattern):
            return True
    return False


def _ctk_issues(path: Path, title: str, document: dict[str, Any]) -> list[SpecIssue]:
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid

    try:
        ensure_experiment_is_valid(copy.deepcopy(document))
    except ChaosException as exc:
        return [SpecIssue(str(path), title, None, f"chaostoolkit: {exc}")]
    return []


def _safety_issues(loaded: LoadedExperiment, settings: ChaosSettings) -> list[SpecIssue]:
    from chaoslib import substitute

    file, title = str(loaded.path), loaded.title
    issues: list[SpecIssue] = []
    limit = loaded.traceo.max_duration_seconds
    if limit > settings.max_duration_seconds:
        issues.append(
            SpecIssue(
                file,
                title,
                "extensions.traceo.max_duration_seconds",
                f"{limit:g} s is over the operator's cap of {settings.max_duration_seconds:g} s "
                "(TRACEO_CHAOS_MAX_DURATION_SECONDS)",
            )
        )
    planned = loaded.planned_seconds()
    if planned > min(limit, settings.max_duration_seconds):
        issues.append(
            SpecIssue(
                file,
                title,
                "method",
                f"holds and pauses add up to {planned:g} s, over max_duration_seconds {limit:g}",
            )
        )
    config, secrets = resolve_configuration(loaded.document)
    for where, activity in loaded.fault_activities():
        assert activity.provider is not None
        arguments = substitute(activity.provider.arguments or {}, config, secrets)
        driver, target = str(arguments.get("driver")), str(arguments.get("fault", {}).get("target"))
        field = f"{where}.provider.arguments.fault.target"
        for source, patterns in (
            ("TRACEO_CHAOS_ALLOWED_TARGETS", settings.allowlist),
            ("extensions.traceo.allowed_targets", loaded.traceo.allowed_targets),
        ):
            if not target_allowed(driver, target, patterns):
                reason = f"target {driver}:{target} is not on the allowlist ({source})"
                issues.append(SpecIssue(file, title, field, reason))
    return issues


def load_experiment(path: Path | str, settings: ChaosSettings | None = None) -> LoadedExperiment:
    """Load and validate one experiment file.

    Raises:
        SpecError: the file is unreadable or invalid, or breaks a safety limit; every issue
            names the file, the experiment title and the field.
    """
    path = Path(path)
    settings = settings or ChaosSettings()
    document = parse_experiment_file(path)
    if not isinstance(document, dict):
        raise SpecError([SpecIssue(str(path), None, None, "expected a mapping (an experiment)")])
    title = document.get("title") if isinstance(document.get("title"), str) else None
    try:
        spec = ExperimentSpec.model_validate(document)
    except ValidationError as exc:
        raise SpecError(validation_issues(path, title, exc)) from None
    traceo = _traceo_extension(path, spec.title, spec.extensions)
    if isinstance(traceo, list):
        raise SpecError(traceo)
    issues = _ctk_issues(path, spec.title, document)
    if issues:
        raise SpecError(issues)
    loaded = LoadedExperiment(path, document, spec, traceo)
    issues = _safety_issues(loaded, settings)
    if issues:
        raise SpecError(issues)
    return loaded
