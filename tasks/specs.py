"""Loading YAML specs (checks, SLOs, ...) into pydantic models with errors that locate problems.

Every problem is reported as a :class:`~tasks.errors.SpecIssue` naming the file, the item (a check
or SLO name) and the field; all problems in all files are collected before raising one
:class:`~tasks.errors.SpecError`, so ``validate`` commands show everything at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tasks.errors import SpecError, SpecIssue

__all__ = ["field_path", "iter_spec_files", "load_documents", "load_specs", "validation_issues"]

M = TypeVar("M", bound=BaseModel)

SPEC_SUFFIXES = (".yaml", ".yml")


def iter_spec_files(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Yield each file path, or every ``*.yaml``/``*.yml`` below a directory path, sorted."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES)
        else:
            yield path


def load_documents(path: Path) -> list[Any]:
    """Parse every YAML document in ``path``; bad YAML raises :class:`SpecError` with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([SpecIssue(str(path), None, None, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([SpecIssue(str(path), None, None, f"cannot read: {exc}")]) from None
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(
            [SpecIssue(str(path), None, None, f"invalid YAML: {where}{problem}")]
        ) from None


def field_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``steps[1].assertions[0].operator``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validation_issues(
    file: Path | str, item: str | None, error: ValidationError, prefix: tuple[int | str, ...] = ()
) -> list[SpecIssue]:
    """Turn a pydantic ``ValidationError`` into one :class:`SpecIssue` per error."""
    issues = []
    for err in error.errors(include_url=False, include_input=False):
        loc = tuple(p for p in prefix + tuple(err["loc"]) if not _is_union_tag(p))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (not supported)"
        issues.append(SpecIssue(str(file), item, field_path(loc) or None, message))
    return issues


def _is_union_tag(part: int | str) -> bool:
    # pydantic adds the tagged-union discriminator or a function name to locations; hide them
    return isinstance(part, str) and ("function-" in part or part.startswith("tagged-union["))


def load_specs(
    paths: Iterable[Path | str],
    split: Callable[[Path, Any], Iterable[tuple[str | None, Any, tuple[int | str, ...]]]],
    model: type[M],
) -> list[M]:
    """Load and validate every item of every spec file under ``paths``.

    ``split(file, document)`` yields ``(item_name, raw_item, location_prefix)`` for each item in a
    document and may raise :class:`SpecError` for document-level problems.
    """
    items: list[M] = []
    issues: list[SpecIssue] = []
    files = list(iter_spec_files(paths))
    if not files:
        raise SpecError([SpecIssue(", ".join(map(str, paths)), None, None, "no YAML files found")])
    for file in files:
        try:
            documents = load_documents(file)
            for document in documents:
                for name, raw, prefix in split(file, document):
                    try:
                        items.append(model.model_validate(raw, context={"file": str(file)}))
                    except ValidationError as exc:
                        issues.extend(validation_issues(file, name, exc, prefix))
        except SpecError as exc:
            issues.extend(exc.issues)
    if issues:
        raise SpecError(issues)
    return items
