"""Which optional libraries each worker role needs, and one line naming a missing extra.

A worker installs the core (``pip install traceo-jobs``) plus the extras of its role
(``pip install 'traceo-jobs[drift]'``; pyproject.toml lists them). Each flow module calls
:func:`require_extras` before importing its tasks, so a worker without its role's extra fails
with one :class:`MissingExtraError` line (permanent: never retried) instead of an
``ImportError`` deep in a task module; the probe engine does the same for the ``browser`` extra;
the ``traceo`` CLI turns a ``ModuleNotFoundError`` of one of these libraries into the same kind
of line (:func:`missing_extra_message`). Nothing here imports the libraries themselves.
"""

from __future__ import annotations

import importlib.util

from tasks.errors import PermanentError

__all__ = [
    "EXTRA_MODULES",
    "MissingExtraError",
    "install_hint",
    "missing_extra_message",
    "missing_modules",
    "require_extras",
]

# extra -> the top-level modules it installs that Traceo imports (the distribution's import name).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "probes": ("cryptography",),
    "browser": ("playwright",),
    "cost": (
        "pyarrow",
        "pandas",
        "holidays",
        "boto3",
        "botocore",
        "prefect_aws",
        "google.cloud.billing_v1",
        "duckdb",
        "sqlglot",
    ),
    "chargeback": ("pyarrow", "pandas", "duckdb", "sqlglot"),
    # cost query engines beyond DuckDB (tasks.cost.lake.engines): one extra each
    "spark": ("pyspark",),
    "bigquery": ("google.cloud.bigquery",),
    "athena": ("boto3", "botocore"),
    "privacy": ("boto3", "botocore", "redis", "pymysql"),
    "chaos": ("chaoslib", "kubernetes", "jsonschema"),
    "drift": ("pandas", "scipy", "sklearn", "joblib", "feast", "evidently"),
    "s3": ("boto3", "botocore", "prefect_aws"),
}


class MissingExtraError(PermanentError):
    """A role's optional library is not installed in this environment."""

    def __init__(self, extra: str, modules: list[str]) -> None:
        self.extra = extra
        self.modules = modules
        super().__init__(f"{', '.join(modules)} not installed: {install_hint(extra)}")


def install_hint(extra: str) -> str:
    """The command that installs ``extra`` (the package name as published)."""
    return f"pip install 'traceo-jobs[{extra}]'"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package of a dotted name is missing
        return False


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that this environment cannot import (empty when it is complete)."""
    return [module for module in EXTRA_MODULES[extra] if not _installed(module)]


def require_extras(*extras: str) -> None:
    """Raise :class:`MissingExtraError` naming the first of ``extras`` that is not installed."""
    for extra in extras:
        missing = missing_modules(extra)
        if missing:
            raise MissingExtraError(extra, missing)


def missing_extra_message(exc: ModuleNotFoundError) -> str | None:
    """One line naming the extras that provide the missing module, or None if no extra does."""
    top = (exc.name or "").split(".")[0]
    extras = [
        extra
        for extra, modules in EXTRA_MODULES.items()
        if any(module.split(".")[0] == top for module in modules)
    ]
    if not extras:
        return None
    return f"{top} not installed: " + " or ".join(install_hint(extra) for extra in extras)
