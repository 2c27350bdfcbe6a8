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

__all__ = [
    "SpecLimitError",
    "field_path",
    "iter_spec_files",
    "load_documents",
    "load_specs",
    "parse_yaml",
    "validation_issues",
    "yaml_problem",
]

M = TypeVar("M", bound=BaseModel)

SPEC_SUFFIXES = (".yaml", ".yml")
MAX_SPEC_BYTES = 1_000_000
MAX_SPEC_DEPTH = 64
MAX_SPEC_VALUES = 100_000
MAX_SPEC_NUMBER_CHARS = 64


def iter_spec_files(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Yield each file path, or every ``*.yaml``/``*.yml`` below a directory path, sorted."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES)
        else:
            yield path


class SpecLimitError(yaml.YAMLError):
    """A spec past one of the loading limits (size, nesting, alias expansion, number length)."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with limits, so a hostile spec fails fast instead of hanging.

    Aliases are not copied by PyYAML, but everything downstream (validation, dumping) walks
    them expanded: nine levels of nine aliases (the "billion laughs", 357 bytes) are 9**9
    values. Each document's expanded size is counted over the node graph (each node once), and
    nesting is capped before PyYAML's recursive composer reaches Python's recursion limit.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_SPEC_DEPTH:
                raise SpecLimitError(f"nested deeper than {MAX_SPEC_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, IndexError, OverflowError) as exc:
            # PyYAML's constructors trust a value's tag: `!!int _`, `2024-02-30`, `!!float .`
            tag = str(node.tag).rpartition(":")[2]
            raise yaml.constructor.ConstructorError(
                None, None, f"not a valid {tag} ({exc})", node.start_mark
            ) from None

    def construct_document(self, node: Any) -> Any:
        sizes: dict[int, int] = {}

        def size(current: Any) -> int:  # expanded node count, each distinct node computed once
            known = sizes.get(id(current))
            if known is not None:
                return known
            sizes[id(current)] = 1  # a cycle counts once (the safe loader builds no cycles)
            if isinstance(current, yaml.ScalarNode):
                too_long = len(current.value) > MAX_SPEC_NUMBER_CHARS
                if too_long and current.tag.endswith((":int", ":float")):
                    raise SpecLimitError(
                        f"line {current.start_mark.line + 1}: a number of "
                        f"{len(current.value)} characters (at most {MAX_SPEC_NUMBER_CHARS})"
                    )
                total = 1
            elif isinstance(current, yaml.SequenceNode):
                total = 1 + sum(size(item) for item in current.value)
            else:
                total = 1 + sum(size(k) + size(v) for k, v in current.value)
            sizes[id(current)] = total
            return total

        if size(node) > MAX_SPEC_VALUES:
            raise SpecLimitError(
                f"the document expands to more than {MAX_SPEC_VALUES:,} values (aliases)"
            )
        return super().construct_document(node)


def parse_yaml(text: str) -> list[Any]:
    """Every non-empty document of ``text``, within the loading limits.

    Raises:
        yaml.YAMLError: invalid YAML, or :class:`SpecLimitError` past a limit.
    """
    if len(text) > MAX_SPEC_BYTES:
        raise SpecLimitError(f"{len(text):,} characters (specs are limited to {MAX_SPEC_BYTES:,})")
    loader = _BoundedLoader(text)
    try:
        documents = []
        while loader.check_data():
            document = loader.get_data()
            if document is not None:
                documents.append(document)
        return documents
    finally:
        loader.dispose()


def yaml_problem(exc: yaml.YAMLError) -> str:
    """One line for a YAML error: where and what (``refused: ...`` past a limit)."""
    if isinstance(exc, SpecLimitError):
        return f"refused: {exc}"
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return f"invalid YAML: {where}{problem}"


def load_documents(path: Path) -> list[Any]:
    """Parse every YAML document in ``path``; bad YAML raises :class:`SpecError` with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([SpecIssue(str(path), None, None, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([SpecIssue(str(path), None, None, f"cannot read: {exc}")]) from None
    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        raise SpecError([SpecIssue(str(path), None, None, yaml_problem(exc))]) from None


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
    file: Path | str,
    item: str | None,
    error: ValidationError,
    prefix: tuple[int | str, ...] = (),
    *,
    plain: bool = False,
) -> list[SpecIssue]:
    """Turn a pydantic ``ValidationError`` into one :class:`SpecIssue` per error.

    ``plain`` words the common errors for people ("must be a list") instead of pydantic's
    ("Input should be a valid list").
    """
    issues = []
    for err in error.errors(include_url=False, include_input=plain):
        loc = tuple(p for p in prefix + tuple(err["loc"]) if not _is_union_tag(p))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (not supported)"
        elif plain:
            message = _plain_words(err)
        issues.append(SpecIssue(str(file), item, field_path(loc) or None, message))
    return issues


_EXPECTED = {
    "list_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "datetime_type": "a date and time (2024-01-31T00:00:00)",
    "datetime_parsing": "a date and time (2024-01-31T00:00:00)",
    "datetime_from_date_parsing": "a date and time (2024-01-31T00:00:00)",
}


def _plain_words(err: Any) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return "required, but missing"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}"
    if kind in ("too_short", "string_too_short"):
        count = ctx.get("min_length", 1)
        return "must not be empty" if count == 1 else f"needs at least {count} items"
    if kind in ("too_long", "string_too_long"):
        return f"takes at most {ctx.get('max_length')}"
    if kind in _EXPECTED:
        got = "it is empty" if err.get("input") is None else f"got {type(err['input']).__name__}"
        return f"must be {_EXPECTED[kind]}; {got}"
    return str(err["msg"])


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
