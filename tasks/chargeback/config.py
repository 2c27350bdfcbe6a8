"""Chargeback configuration: teams, ownership rules, shared-cost policies and the rate card.

``teams.yaml``::

    currency: USD
    cost_metric: effective      # effective (EffectiveCost: commitments amortised, the default)
                                # | billed (BilledCost: as invoiced, purchases when paid)
    teams:                      # tier: showback | soft | hard (the chargeback ladder)
      - {name: data-platform, tier: hard}
    rules:                      # priority order: the first matching rule owns the line
      - {team: data-platform, tags: {business_unit: PeoriaData}}
    shared:                     # checked before the rules: a matched line is shared, not owned
      - name: tax
        match: {charge_categories: [Tax]}
        split: proportional     # even | proportional (to direct cost) | weights
        teams: [a, b]           # optional: who shares it (default: every team)
        weights: {a: 0.7, b: 0.3}   # split: weights only; must sum to 1
    unowned: {split: even}      # optional: share unowned cost; absent -> an `unallocated` line

``ratecard.yaml`` is a :class:`~tasks.chargeback.ratecard.RateCard`. Every problem is reported as
a :class:`~tasks.errors.SpecIssue` naming the file, the team (or policy) and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tasks.chargeback.ratecard import RateCard
from tasks.chargeback.rules import MAX_GLOBS, Selector
from tasks.errors import SpecError, SpecIssue
from tasks.specs import field_path, load_documents

__all__ = [
    "COST_METRICS",
    "ChargebackConfig",
    "OwnershipRule",
    "SharedPolicy",
    "Split",
    "Team",
    "load_chargeback_config",
]

M = TypeVar("M", bound=BaseModel)
Tier = Literal["showback", "soft", "hard"]
SplitMethod = Literal["even", "proportional", "weights"]
CostMetric = Literal["effective", "billed"]
# ``cost_metric`` -> the FOCUS column charged.
COST_METRICS: dict[str, str] = {"effective": "EffectiveCost", "billed": "BilledCost"}


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    tier: Tier = "showback"


class OwnershipRule(Selector):
    """A selector whose matching lines belong to ``team``."""

    team: str

    @model_validator(mode="after")
    def _not_empty(self) -> OwnershipRule:
        if not any(getattr(self, name) for name in Selector.model_fields):
            raise ValueError("a rule needs at least one of: " + ", ".join(Selector.model_fields))
        return self


class Split(BaseModel):
    """How a pool of cost is split between teams."""

    model_config = ConfigDict(extra="forbid")

    split: SplitMethod
    teams: list[str] | None = None
    weights: dict[str, Decimal] | None = None

    @model_validator(mode="after")
    def _weights_fit_method(self) -> Split:
        if self.split == "weights":
            if not self.weights:
                raise ValueError("split 'weights' needs a 'weights' mapping of team -> fraction")
            if any(w < 0 for w in self.weights.values()):
                raise ValueError("weights must not be negative")
            total = sum(self.weights.values(), Decimal(0))
            if total != 1:
                raise ValueError(f"weights must sum to 1 (they sum to {total})")
        elif self.weights is not None:
            raise ValueError(f"'weights' is only allowed with split 'weights', not {self.split!r}")
        return self


class SharedPolicy(Split):
    """Cost matched by ``match`` is pooled and split between teams."""

    name: str = Field(min_length=1)
    match: Selector


class _TeamsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str | None = Field(default=None, min_length=3, max_length=3)
    cost_metric: CostMetric = "effective"
    teams: list[Team] = Field(min_length=1)
    rules: list[OwnershipRule] = Field(default_factory=list)
    shared: list[SharedPolicy] = Field(default_factory=list)
    unowned: Split | None = None


@dataclass(frozen=True)
class ChargebackConfig:
    """Validated teams, rules, shared policies and rate card."""

    teams: tuple[Team, ...]
    rules: tuple[OwnershipRule, ...]
    shared: tuple[SharedPolicy, ...]
    unowned: Split | None
    ratecard: RateCard
    #: The FOCUS column charged: ``EffectiveCost`` (amortised) unless the teams file says billed.
    metric: str = COST_METRICS["effective"]

    @property
    def currency(self) -> str:
        return self.ratecard.currency

    @property
    def team_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.teams)

    def tier(self, team: str) -> Tier:
        return next(t.tier for t in self.teams if t.name == team)


def load_chargeback_config(teams_path: Path | str, ratecard_path: Path | str) -> ChargebackConfig:
    """Load and cross-check ``teams.yaml`` and ``ratecard.yaml``.

    Raises:
        SpecError: every problem in both files, each naming file, team/policy and field.
    """
    issues: list[SpecIssue] = []
    teams_file = _validate(Path(teams_path), _TeamsFile, issues)
    ratecard = _validate(Path(ratecard_path), RateCard, issues)
    if teams_file is not None:
        issues.extend(_cross_check(str(teams_path), teams_file))
        if ratecard is not None and teams_file.currency not in (None, ratecard.currency):
            issues.append(
                SpecIssue(
                    str(teams_path),
                    None,
                    "currency",
                    f"{teams_file.currency} differs from the rate card's {ratecard.currency}",
                )
            )
    if issues or teams_file is None or ratecard is None:
        raise SpecError(issues)
    return ChargebackConfig(
        tuple(teams_file.teams),
        tuple(teams_file.rules),
        tuple(teams_file.shared),
        teams_file.unowned,
        ratecard,
        COST_METRICS[teams_file.cost_metric],
    )


def _validate(path: Path, model: type[M], issues: list[SpecIssue]) -> M | None:
    try:
        documents = load_documents(path)
    except SpecError as exc:
        issues.extend(exc.issues)
        return None
    if len(documents) != 1 or not isinstance(documents[0], dict):
        issues.append(SpecIssue(str(path), None, None, "expected one YAML mapping"))
        return None
    raw = documents[0]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            loc = tuple(err["loc"])
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = "unknown field (not supported)"
            issues.append(SpecIssue(str(path), _item(raw, loc), field_path(loc), message))
        return None


def _item(raw: dict[str, Any], loc: tuple[Any, ...]) -> str | None:
    """The team, policy or metric an error location points into (``teams[2]`` -> its name)."""
    if len(loc) >= 2 and loc[0] == "metrics":
        return f"metric {loc[1]}"
    if len(loc) < 2 or not isinstance(loc[1], int):
        return None
    items = raw.get(str(loc[0]))
    entry = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
    if not isinstance(entry, dict):
        return None
    if loc[0] == "teams":
        return f"team {entry.get('name')}"
    if loc[0] == "rules":
        return f"rule {loc[1] + 1} (team {entry.get('team')})"
    return f"policy {entry.get('name')}"


def _cross_check(file: str, spec: _TeamsFile) -> list[SpecIssue]:
    issues = []
    names = [t.name for t in spec.teams]
    known = set(names)
    for i, team in enumerate(spec.teams):
        if team.name in names[:i]:
            issues.append(SpecIssue(file, f"team {team.name}", f"teams[{i}].name", "duplicate"))
    for i, rule in enumerate(spec.rules):
        if rule.team not in known:
            where = f"rule {i + 1} (team {rule.team})"
            issues.append(SpecIssue(file, where, f"rules[{i}].team", "unknown team"))
    seen: set[str] = set()
    splits: list[tuple[str, str, Split]] = [
        (f"policy {p.name}", f"shared[{i}]", p) for i, p in enumerate(spec.shared)
    ]
    if spec.unowned is not None:
        splits.append(("unowned", "unowned", spec.unowned))
    for i, policy in enumerate(spec.shared):
        if policy.name in seen or policy.name == "unowned":
            issues.append(
                SpecIssue(file, f"policy {policy.name}", f"shared[{i}].name", "duplicate")
            )
        seen.add(policy.name)
    for item, where, split in splits:
        for name in split.teams or ():
            if name not in known:
                issues.append(SpecIssue(file, item, f"{where}.teams", f"unknown team {name!r}"))
        for name in split.weights or {}:
            if name not in known or (split.teams and name not in split.teams):
                issues.append(
                    SpecIssue(file, item, f"{where}.weights.{name}", "not a sharing team")
                )
    globs = {g for s in [*spec.rules, *(p.match for p in spec.shared)] for g in s.resource_ids}
    if len(globs) > MAX_GLOBS:
        issues.append(SpecIssue(file, None, None, f"at most {MAX_GLOBS} resource_ids globs"))
    return issues
