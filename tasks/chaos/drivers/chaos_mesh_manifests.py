"""Chaos Mesh fault specs (pydantic) and the manifests built from them, checked against schemas.

A fault spec is the mapping an experiment gives the ``chaos-mesh`` driver. Its keys follow Chaos
Mesh's own spelling (``labelSelectors``, ``containerNames``, ``gracePeriod``) so a reader who knows
the CRDs recognises them::

    kind: NetworkChaos            # NetworkChaos | HTTPChaos | PodChaos | StressChaos
    target: shop/catalogue        # for the allowlist; starts with the selected namespace
    action: delay                 # per kind, see the models below
    selector: {namespaces: [shop], labelSelectors: {app: shop}}
    mode: one                     # one | all | fixed | fixed-percent | random-max-percent
    value: "1"                    # required for fixed / fixed-percent / random-max-percent
    duration: 30s
    delay: {latency: 100ms, jitter: 10ms}

Every manifest is validated with ``jsonschema`` against ``tasks/chaos/schemas/<kind>.json``
(reduced from the CRDs' openAPIV3Schema) before it is sent, so a builder bug fails here, not in
the cluster.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from tasks.errors import SpecError, SpecIssue
from tasks.specs import validation_issues

__all__ = [
    "API_VERSION",
    "GROUP",
    "KINDS",
    "MANAGED_BY",
    "TARGET_ANNOTATION",
    "VERSION",
    "ChaosMeshFault",
    "HTTPFault",
    "NetworkFault",
    "PodFault",
    "StressFault",
    "build_manifest",
    "parse_fault",
    "resource_name",
    "validate_manifest",
]

GROUP = "chaos-mesh.org"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
# kind -> plural (the REST resource name; also the schema file's stem)
KINDS: dict[str, str] = {
    "NetworkChaos": "networkchaos",
    "HTTPChaos": "httpchaos",
    "PodChaos": "podchaos",
    "StressChaos": "stresschaos",
}
MANAGED_BY = "traceo"
TARGET_ANNOTATION = "traceo.dev/target"  # the fault's target, so leftovers can be matched
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"

_ENVELOPE = re.compile(r"^fault\.?(NetworkChaos|HTTPChaos|PodChaos|StressChaos)?\.?")
_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_PERCENT = re.compile(r"^\d+(\.\d+)?$")
_DNS_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"

GoDuration = Annotated[str, Field(pattern=_GO_DURATION.pattern, description="e.g. 30s, 1m30s")]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class Selector(_Model):
    """Which pods: Chaos Mesh's selector (namespaces and labels are what experiments use)."""

    namespaces: list[Annotated[str, Field(pattern=_DNS_NAME)]] = Field(min_length=1)
    label_selectors: dict[str, str] = Field(default_factory=dict)
    annotation_selectors: dict[str, str] = Field(default_factory=dict)
    pods: dict[str, list[str]] = Field(default_factory=dict)


Mode = Literal["one", "all", "fixed", "fixed-percent", "random-max-percent"]


class _Pods(_Model):
    mode: Mode = "one"
    value: str | None = None
    selector: Selector

    @model_validator(mode="after")
    def _value_matches_mode(self) -> _Pods:
        if self.mode in ("one", "all"):
            if self.value is not None:
                raise ValueError(f"value is only used with fixed modes, not mode {self.mode!r}")
        elif self.value is None:
            raise ValueError(f"mode {self.mode!r} needs a value")
        elif self.mode == "fixed" and not self.value.isdigit():
            raise ValueError("value must be a whole number of pods for mode 'fixed'")
        elif self.mode != "fixed" and not (
            _PERCENT.match(self.value) and 0 < float(self.value) <= 100
        ):
            raise ValueError(f"value must be a percentage in (0, 100] for mode {self.mode!r}")
        return self


class _Fault(_Pods):
    """Fields every kind shares; ``name``/``namespace`` default to a hash and the configuration.

    ``target`` is what the experiment's allowlist matches (``chaos-mesh:shop/*``): it starts with
    the one namespace the selector picks pods from, so allowing a target bounds the blast radius.
    """

    target: Annotated[str, Field(min_length=1, max_length=200)]
    name: Annotated[str, Field(pattern=_DNS_NAME)] | None = None
    namespace: Annotated[str, Field(pattern=_DNS_NAME)] | None = None
    duration: GoDuration | None = None

    @model_validator(mode="after")
    def _target_names_the_namespace(self) -> _Fault:
        namespace = self.target.split("/", 1)[0]
        if self.selector.namespaces != [namespace]:
            raise ValueError(
                f"target {self.target!r} must start with the one namespace the selector picks "
                f"(selector.namespaces is {self.selector.namespaces})"
            )
        return self

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"mode": self.mode, "selector": _selector(self.selector)}
        if self.value is not None:
            spec["value"] = self.value
        if self.duration is not None:
            spec["duration"] = self.duration
        return spec


class Delay(_Model):
    latency: GoDuration
    jitter: GoDuration | None = None
    correlation: Annotated[str, Field(pattern=_PERCENT.pattern)] | None = None


class Loss(_Model):
    loss: Annotated[str, Field(pattern=_PERCENT.pattern)]
    correlation: Annotated[str, Field(pattern=_PERCENT.pattern)] | None = None


class Bandwidth(_Model):
    rate: Annotated[str, Field(pattern=r"^\d+(bps|kbps|mbps|gbps|tbps)$")]
    limit: int = Field(ge=1, le=2**31 - 1)
    buffer: int = Field(ge=1, le=2**31 - 1)


class NetworkFault(_Fault):
    """NetworkChaos: delay, loss, partition or bandwidth between the selected pods and a peer.

    ``peer`` is Chaos Mesh's ``spec.target`` (the other side), renamed because ``target`` is the
    allowlist name.
    """

    kind: Literal["NetworkChaos"]
    action: Literal["delay", "loss", "partition", "bandwidth"]
    direction: Literal["to", "from", "both"] = "to"
    delay: Delay | None = None
    loss: Loss | None = None
    bandwidth: Bandwidth | None = None
    peer: _Pods | None = None
    external_targets: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _action_has_its_block(self) -> NetworkFault:
        for block in ("delay", "loss", "bandwidth"):
            present = getattr(self, block) is not None
            if block == self.action and not present:
                raise ValueError(f"action {self.action!r} needs a {block!r} block")
            if block != self.action and present:
                raise ValueError(f"{block!r} is not used by action {self.action!r}")
        if self.action == "partition" and self.peer is None and not self.external_targets:
            raise ValueError("action 'partition' needs a peer or externalTargets")
        return self

    def spec(self) -> dict[str, Any]:
        spec = super().spec() | {"action": self.action, "direction": self.direction}
        block = getattr(self, self.action, None)
        if isinstance(block, BaseModel):
            spec[self.action] = block.model_dump(by_alias=True, exclude_none=True)
        if self.peer is not None:
            spec["target"] = {"mode": self.peer.mode, "selector": _selector(self.peer.selector)}
            if self.peer.value is not None:
                spec["target"]["value"] = self.peer.value
        if self.external_targets:
            spec["externalTargets"] = list(self.external_targets)
        return spec


class Replace(_Model):
    code: int | None = Field(default=None, ge=100, le=599)
    body: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class HTTPFault(_Fault):
    """HTTPChaos: abort, delay or replace requests/responses on one port (and path) of the pods."""

    kind: Literal["HTTPChaos"]
    action: Literal["abort", "delay", "replace"]
    phase: Literal["Request", "Response"] = "Request"  # Chaos Mesh's spec.target
    port: int = Field(ge=1, le=65535)
    path: str = "*"
    method: str | None = None
    delay: GoDuration | None = None
    replace: Replace | None = None

    @model_validator(mode="after")
    def _action_has_its_value(self) -> HTTPFault:
        if self.action == "delay" and self.delay is None:
            raise ValueError("action 'delay' needs delay (e.g. 500ms)")
        if self.action != "delay" and self.delay is not None:
            raise ValueError(f"delay is not used by action {self.action!r}")
        if self.action == "replace" and (self.replace is None or self.replace == Replace()):
            raise ValueError("action 'replace' needs a replace block with code, body or headers")
        if self.action != "replace" and self.replace is not None:
            raise ValueError(f"replace is not used by action {self.action!r}")
        return self

    def spec(self) -> dict[str, Any]:
        spec = super().spec() | {"target": self.phase, "port": self.port, "path": self.path}
        if self.method:
            spec["method"] = self.method
        if self.action == "abort":
            spec["abort"] = True
        elif self.action == "delay":
            spec["delay"] = self.delay
        elif self.replace is not None:
            replace: dict[str, Any] = {}
            if self.replace.code is not None:
                replace["code"] = self.replace.code
            if self.replace.body is not None:  # the CRD's body is `format: byte` (base64)
                replace["body"] = base64.b64encode(self.replace.body.encode()).decode("ascii")
            if self.replace.headers:
                replace["headers"] = dict(self.replace.headers)
            spec["replace"] = replace
        return spec


class PodFault(_Fault):
    """PodChaos: kill pods, make them fail (pause image) for a duration, or kill a container."""

    kind: Literal["PodChaos"]
    action: Literal["pod-kill", "pod-failure", "container-kill"]
    container_names: list[str] = Field(default_factory=list)
    grace_period: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _action_needs(self) -> PodFault:
        if self.action == "container-kill" and not self.container_names:
            raise ValueError("action 'container-kill' needs containerNames")
        if self.action == "pod-failure" and self.duration is None:
            raise ValueError("action 'pod-failure' needs a duration")
        if self.grace_period is not None and self.action != "pod-kill":
            raise ValueError("gracePeriod is only used by action 'pod-kill'")
        return self

    def spec(self) -> dict[str, Any]:
        spec = super().spec() | {"action": self.action}
        if self.container_names:
            spec["containerNames"] = list(self.container_names)
        if self.grace_period is not None:
            spec["gracePeriod"] = self.grace_period
        return spec


class CpuStressor(_Model):
    workers: int = Field(ge=1, le=8192)
    load: int | None = Field(default=None, ge=0, le=100)


class MemoryStressor(_Model):
    workers: int = Field(ge=1, le=8192)
    size: Annotated[str, Field(pattern=r"^\d+(%|B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)$")] | None = None


class Stressors(_Model):
    cpu: CpuStressor | None = None
    memory: MemoryStressor | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Stressors:
        if self.cpu is None and self.memory is None:
            raise ValueError("needs at least one of cpu, memory")
        return self


class StressFault(_Fault):
    """StressChaos: burn CPU and/or memory inside the selected pods' containers."""

    kind: Literal["StressChaos"]
    stressors: Stressors
    container_names: list[str] = Field(default_factory=list)

    def spec(self) -> dict[str, Any]:
        spec = super().spec() | {
            "stressors": self.stressors.model_dump(by_alias=True, exclude_none=True)
        }
        if self.container_names:
            spec["containerNames"] = list(self.container_names)
        return spec


ChaosMeshFault = Annotated[
    NetworkFault | HTTPFault | PodFault | StressFault, Field(discriminator="kind")
]


class _Envelope(BaseModel):
    fault: ChaosMeshFault


def parse_fault(
    fault: Mapping[str, Any], source: str = "chaos-mesh fault"
) -> NetworkFault | HTTPFault | PodFault | StressFault:
    """Validate a fault mapping; :class:`SpecError` names every bad field (and ``source``)."""
    item = str(fault.get("name") or fault.get("kind") or "fault")
    if fault.get("kind") not in KINDS:
        reason = f"must be one of {', '.join(KINDS)}, got {fault.get('kind')!r}"
        raise SpecError([SpecIssue(source, item, "kind", reason)])
    try:
        return _Envelope.model_validate({"fault": dict(fault)}).fault
    except ValidationError as exc:
        issues = []
        for issue in validation_issues(source, item, exc):
            # drop the envelope and the union's tag from the path: "fault.PodChaos.mode" -> "mode"
            field = _ENVELOPE.sub("", issue.field or "")
            issues.append(dataclasses.replace(issue, field=field or None))
        raise SpecError(issues) from None


def resource_name(fault: NetworkFault | HTTPFault | PodFault | StressFault) -> str:
    """The resource's name: the spec's, else ``traceo-<kind>-<hash of the spec>``.

    A name derived from the spec makes a rerun after a crash find (and adopt) the resource the
    crashed run created instead of creating a second one.
    """
    if fault.name:
        return fault.name
    digest = hashlib.sha256(json.dumps(fault.spec(), sort_keys=True).encode()).hexdigest()
    return f"traceo-{KINDS[fault.kind]}-{digest[:10]}"


def build_manifest(
    fault: NetworkFault | HTTPFault | PodFault | StressFault, namespace: str
) -> dict[str, Any]:
    """The schema-checked Chaos Mesh resource for ``fault`` in ``fault.namespace or namespace``."""
    manifest = {
        "apiVersion": API_VERSION,
        "kind": fault.kind,
        "metadata": {
            "name": resource_name(fault),
            "namespace": fault.namespace or namespace,
            "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
            "annotations": {TARGET_ANNOTATION: fault.target},
        },
        "spec": fault.spec(),
    }
    validate_manifest(manifest)
    return manifest


def validate_manifest(manifest: Mapping[str, Any]) -> None:
    """Check ``manifest`` against its kind's schema; :class:`SpecError` names the bad field."""
    from jsonschema import Draft202012Validator

    kind = manifest.get("kind")
    if kind not in KINDS:
        raise SpecError([SpecIssue("manifest", None, "kind", f"unsupported kind {kind!r}")])
    name = str((manifest.get("metadata") or {}).get("name") or kind)
    validator = Draft202012Validator(_schema(KINDS[str(kind)]))
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if errors:
        source = f"{kind} manifest (schemas/{KINDS[str(kind)]}.json)"
        raise SpecError(
            [
                SpecIssue(source, name, ".".join(map(str, e.absolute_path)) or None, e.message)
                for e in errors
            ]
        )


@cache
def _schema(plural: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{plural}.json").read_text(encoding="utf-8"))


def _selector(selector: Selector) -> dict[str, Any]:
    return selector.model_dump(by_alias=True, exclude_defaults=True) | {
        "namespaces": list(selector.namespaces)
    }
