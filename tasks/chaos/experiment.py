"""Chaos Toolkit experiment files: loading, validation, safety limits and the ``--dry-run`` plan.

An experiment is a Chaos Toolkit document (JSON or YAML). Traceo reads its own settings from an
extension named ``traceo`` (Chaos Toolkit's place for tool-specific data, see
:class:`TraceoExtension`). Validation reports every problem in one pass, each with the file, the
experiment title and the field, most important first:

1. the Chaos Toolkit format: the models of :mod:`tasks.chaos.document` (shapes, missing title,
   what Traceo does not support), then, on a well-formed document, chaostoolkit-lib's own
   ``ensure_experiment_is_valid`` (providers importable, arguments match the function,
   tolerances well formed, configuration resolvable);
2. the ``traceo`` extension: present once and valid;
3. safety, once both are sound: every injected fault's target is on the allowlist
   (``TRACEO_CHAOS_ALLOWED_TARGETS`` and the extension's ``allowed_targets``; both apply when
   both are set), and the planned duration fits ``max_duration_seconds`` and the operator's cap
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

from tasks.chaos.document import Activity, ExperimentSpec, Provider
from tasks.errors import SpecError, SpecIssue
from tasks.settings import load
from tasks.settings.areas import ChaosSettings
from tasks.specs import load_documents, validation_issues

__all__ = [
    "FAULTS_MODULE",
    "ChaosSettings",
    "LoadedExperiment",
    "TraceoExtension",
    "load_experiment",
    "parse_experiment_file",
    "resolve_configuration",
    "target_allowed",
]

FAULTS_MODULE = "tasks.chaos.activities.faults"
_STRICT = ConfigDict(extra="forbid", populate_by_name=True)


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
            if _fault_call(a.provider, "inject_fault") is not None
        ]

    def planned_seconds(self) -> float:
        """Time the method is planned to take: its holds and pauses (probes count as zero)."""
        total = 0.0
        for activity in self.spec.method:
            for pause in (activity.pauses or {}).values():
                total += float(pause) if not isinstance(pause, str) else 0.0
            hold = _fault_call(activity.provider, "hold")
            if hold is not None:
                total += float(hold.get("seconds", 0))
        return total


def _fault_call(provider: Provider | None, func: str) -> dict[str, Any] | None:
    """The arguments when ``provider`` calls ``func`` of Traceo's fault activities, else None."""
    if provider is None or provider.module != FAULTS_MODULE or provider.func != func:
        return None
    return provider.arguments if isinstance(provider.arguments, dict) else {}


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
    path: Path, title: str | None, extensions: Any
) -> TraceoExtension | list[SpecIssue]:
    listed = extensions if isinstance(extensions, list) else []  # a wrong shape is a format issue
    found = [
        (i, e) for i, e in enumerate(listed) if isinstance(e, dict) and e.get("name") == "traceo"
    ]
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


def _read_format(
    path: Path, title: str | None, document: dict[str, Any]
) -> tuple[ExperimentSpec | None, list[SpecIssue]]:
    """The document read as Chaos Toolkit's format, and its problems with that format.

    Our models check first, then chaostoolkit-lib's validator.

    chaostoolkit-lib stops at its first problem and assumes the shapes the models check, so it
    runs on a well-formed document only (and reports nothing the models already did).
    """
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid

    try:
        spec = ExperimentSpec.model_validate(document)
    except ValidationError as exc:
        return None, validation_issues(path, title, exc)
    try:
        ensure_experiment_is_valid(copy.deepcopy(document))
    except ChaosException as exc:
        return spec, [SpecIssue(str(path), title, None, f"chaostoolkit: {exc}")]
    except ValueError:  # an env variable chaostoolkit-lib converts (int, float, json); no value
        reason = "an environment variable's value does not convert to its env_var_type"
        return spec, [SpecIssue(str(path), title, "configuration", reason)]
    except Exception as exc:  # its validator assumes shapes it does not check; never a traceback
        reason = f"chaostoolkit-lib could not validate it ({type(exc).__name__}): check its format"
        return spec, [SpecIssue(str(path), title, None, reason)]
    return spec, []


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
        arguments = substitute(_fault_call(activity.provider, "inject_fault"), config, secrets)
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
    settings = settings or load(ChaosSettings)
    document = parse_experiment_file(path)
    if not isinstance(document, dict):
        raise SpecError([SpecIssue(str(path), None, None, "expected a mapping (an experiment)")])
    # A key written with no value counts as absent (as in OpenSLO files): chaostoolkit-lib
    # crashed on `steady-state-hypothesis: null`; a required key left empty is reported missing.
    document = {key: value for key, value in document.items() if value is not None}
    title = document.get("title") if isinstance(document.get("title"), str) else None
    spec, issues = _read_format(path, title, document)
    traceo = _traceo_extension(path, title, document.get("extensions"))
    if isinstance(traceo, list):
        issues.extend(traceo)
    if issues or spec is None or isinstance(traceo, list):
        raise SpecError(issues)
    loaded = LoadedExperiment(path, document, spec, traceo)
    issues = _safety_issues(loaded, settings)
    if issues:
        raise SpecError(issues)
    return loaded
