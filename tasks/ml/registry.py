"""The model registry in the store: versions, ``champion``/``challenger`` aliases, rollback.

A version records what a reviewer needs to trust it: metrics (overall and per slice), the
training window, the features used and where the artefact lives (a joblib file under
``TRACEO_HOME/models`` by default). Every alias move is an event, so :func:`rollback` can return
to the champion that preceded the current one, and repeated rollbacks walk further back.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from tasks.errors import ConfigurationError, NotFoundError, PermanentError
from tasks.store.engine import session_scope
from tasks.store.model_registry_models import ModelAlias, ModelAliasEvent, ModelVersion

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "NoPreviousChampionError",
    "VersionInfo",
    "alias_version",
    "check_model_name",
    "get_version",
    "list_versions",
    "load_artifact",
    "promote",
    "register",
    "rollback",
    "set_alias",
]

CHAMPION = "champion"
CHALLENGER = "challenger"
_ALIASES = (CHAMPION, CHALLENGER)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")


class NoPreviousChampionError(PermanentError):
    """A rollback was asked for but no earlier champion exists to return to."""


@dataclass(frozen=True)
class VersionInfo:
    """A registered version as the CLI, flows and the promotion gate see it."""

    model: str
    version: int
    created_at: datetime
    algorithm: str
    metrics: dict[str, Any]
    features: list[str]
    artifact_uri: str
    train_start: datetime | None = None
    train_end: datetime | None = None
    rolled_back: bool = False
    note: str | None = None
    aliases: tuple[str, ...] = field(default=())


def check_model_name(model: str) -> str:
    """Model names become file names and concurrency-limit names: keep them plain."""
    if not _NAME.match(model):
        raise ConfigurationError(
            f"model name {model!r} is invalid: use lowercase letters, digits, '-', '_' or '.'"
            " (at most 100 characters, starting with a letter or digit)"
        )
    return model


def _info(row: ModelVersion, aliases: dict[int, list[str]]) -> VersionInfo:
    return VersionInfo(
        model=row.model,
        version=row.version,
        created_at=row.created_at,
        algorithm=row.algorithm,
        metrics=dict(row.metrics or {}),
        features=list(row.features or []),
        artifact_uri=row.artifact_uri,
        train_start=row.train_start,
        train_end=row.train_end,
        rolled_back=row.rolled_back,
        note=row.note,
        aliases=tuple(sorted(aliases.get(row.version, []))),
    )


def _aliases(session: Any, model: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for alias in session.scalars(select(ModelAlias).where(ModelAlias.model == model)):
        out.setdefault(alias.version, []).append(alias.alias)
    return out


def register(
    engine: Engine,
    model: str,
    estimator: Any,
    *,
    algorithm: str,
    metrics: dict[str, Any],
    features: list[str],
    train_start: datetime | None = None,
    train_end: datetime | None = None,
    artifact_dir: Path | None = None,
    flow_run_id: str | None = None,
    note: str | None = None,
) -> VersionInfo:
    """Save ``estimator`` with joblib and register it as the model's next version.

    The artefact's file name carries a random suffix, so two concurrent registrations never
    overwrite each other's file even while they race for the same version number.
    """
    import joblib

    from tasks.settings import get_settings

    check_model_name(model)
    directory = (artifact_dir or get_settings().home / "models") / model
    directory.mkdir(parents=True, exist_ok=True)
    for _attempt in range(5):
        with session_scope(engine) as session:
            latest = session.scalar(
                select(func.max(ModelVersion.version)).where(ModelVersion.model == model)
            )
            version = (latest or 0) + 1
            path = directory / f"v{version:04d}-{uuid.uuid4().hex[:8]}.joblib"
            joblib.dump(estimator, path)
            row = ModelVersion(
                model=model,
                version=version,
                created_at=datetime.now(UTC),
                algorithm=algorithm,
                metrics=metrics,
                train_start=train_start,
                train_end=train_end,
                features=list(features),
                artifact_uri=str(path),
                rolled_back=False,
                flow_run_id=flow_run_id,
                note=note,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                path.unlink(missing_ok=True)
                continue
            return _info(row, {})
    raise ConfigurationError(f"could not allocate a version number for model {model!r}")


def load_artifact(info: VersionInfo) -> Any:
    """Load a version's estimator from its artefact file."""
    import joblib

    path = Path(info.artifact_uri)
    if not path.is_file():
        raise NotFoundError(
            f"artefact of {info.model} v{info.version} is missing at {info.artifact_uri}"
        )
    return joblib.load(path)


def list_versions(engine: Engine, model: str | None = None) -> list[VersionInfo]:
    """Every registered version (of ``model``, or of all models), newest first per model."""
    with session_scope(engine) as session:
        query = select(ModelVersion).order_by(ModelVersion.model, ModelVersion.version.desc())
        if model is not None:
            query = query.where(ModelVersion.model == model)
        rows = list(session.scalars(query))
        aliases = {m: _aliases(session, m) for m in {r.model for r in rows}}
        return [_info(r, aliases[r.model]) for r in rows]


def get_version(engine: Engine, model: str, version: int) -> VersionInfo:
    """One version, or :class:`NotFoundError` naming the model and version."""
    with session_scope(engine) as session:
        row = session.scalar(
            select(ModelVersion).where(ModelVersion.model == model, ModelVersion.version == version)
        )
        if row is None:
            raise NotFoundError(f"model {model!r} has no version {version}")
        return _info(row, _aliases(session, model))


def alias_version(engine: Engine, model: str, alias: str) -> VersionInfo | None:
    """The version an alias points to, or ``None`` when the alias is unset."""
    with session_scope(engine) as session:
        row = session.get(ModelAlias, (model, alias))
        version = row.version if row else None
    return None if version is None else get_version(engine, model, version)


def _move(session: Any, model: str, alias: str, version: int | None, reason: str) -> None:
    current = session.get(ModelAlias, (model, alias))
    previous = current.version if current else None
    if previous == version:
        return
    now = datetime.now(UTC)
    if version is None:
        session.delete(current)
    elif current is None:
        session.add(ModelAlias(model=model, alias=alias, version=version, updated_at=now))
    else:
        current.version, current.updated_at = version, now
    session.add(
        ModelAliasEvent(
            model=model,
            alias=alias,
            version=version,
            previous_version=previous,
            at=now,
            reason=reason,
        )
    )


def set_alias(engine: Engine, model: str, alias: str, version: int | None, reason: str) -> None:
    """Point ``alias`` at ``version`` (``None`` removes it), recording the move and its reason."""
    if alias not in _ALIASES:
        raise ConfigurationError(f"unknown alias {alias!r}; expected one of {', '.join(_ALIASES)}")
    if version is not None:
        get_version(engine, model, version)
    with session_scope(engine) as session:
        _move(session, model, alias, version, reason)


def promote(engine: Engine, model: str, version: int, reason: str = "promoted") -> VersionInfo:
    """Make ``version`` the champion; it stops being the challenger if it was one."""
    get_version(engine, model, version)
    with session_scope(engine) as session:
        _move(session, model, CHAMPION, version, reason)
        challenger = session.get(ModelAlias, (model, CHALLENGER))
        if challenger is not None and challenger.version == version:
            _move(session, model, CHALLENGER, None, f"v{version} promoted to champion")
        row = session.scalars(
            select(ModelVersion).where(ModelVersion.model == model, ModelVersion.version == version)
        ).one()
        row.rolled_back = False
    return get_version(engine, model, version)


def rollback(engine: Engine, model: str, reason: str = "rollback") -> VersionInfo:
    """Return ``champion`` to the champion before the current one; the current is marked.

    The current champion is flagged ``rolled_back`` so that a second rollback goes one step
    further back instead of bouncing between two versions.
    """
    with session_scope(engine) as session:
        current = session.get(ModelAlias, (model, CHAMPION))
        if current is None:
            raise NotFoundError(f"model {model!r} has no champion to roll back")
        flagged = set(
            session.scalars(
                select(ModelVersion.version).where(
                    ModelVersion.model == model, ModelVersion.rolled_back.is_(True)
                )
            )
        )
        events = session.scalars(
            select(ModelAliasEvent)
            .where(ModelAliasEvent.model == model, ModelAliasEvent.alias == CHAMPION)
            .order_by(ModelAliasEvent.id.desc())
        )
        target = next(
            (
                e.version
                for e in events
                if e.version is not None
                and e.version != current.version
                and e.version not in flagged
            ),
            None,
        )
        if target is None:
            raise NoPreviousChampionError(
                f"model {model!r}: no earlier champion than v{current.version} to roll back to"
            )
        rolled = session.scalars(
            select(ModelVersion).where(
                ModelVersion.model == model, ModelVersion.version == current.version
            )
        ).one()
        rolled.rolled_back = True
        _move(session, model, CHAMPION, target, f"{reason} (from v{current.version})")
    return get_version(engine, model, target)
