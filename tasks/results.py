"""Where flow and task results persist, so that a retried flow run re-runs only what failed.

Prefect reuses a completed task's result in a retry of the same flow run (same inputs, same run:
its default cache policy) only when that result was persisted. Every Traceo flow therefore
persists its results, to the storage named by ``TRACEO_RESULT_STORAGE``:

- unset: the directory ``$TRACEO_HOME/results`` (a single machine: ``traceo serve``, the demo);
- an absolute path (``/srv/traceo/results``, ``~/results``): that directory, which every worker
  must share (one machine, or a shared volume);
- ``BLOCK-TYPE/BLOCK-NAME``, e.g. ``s3-bucket/traceo-results``: a saved Prefect storage block,
  loaded by Prefect when each run starts (production: a prefect-aws ``S3Bucket`` that every
  worker in every region can reach).

Apply to each flow: ``@flow(name=..., **rerunnable())``. The value is read when the flow module is
imported, which for a deployment run is when its process starts. A task whose completed result a
retry must reuse says so with ``@task(name=..., **reused_in_retry())``; a task that must run again
in every attempt (it probes, notifies or injects) declares ``cache_policy=NO_CACHE``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from prefect.cache_policies import INPUTS, RUN_ID, TASK_SOURCE, Inputs

from tasks.errors import ConfigurationError
from tasks.settings import get_settings

__all__ = [
    "RESULT_STORAGE_ENV",
    "check_result_storage",
    "rerunnable",
    "result_storage",
    "reused_in_retry",
    "save_s3_result_storage",
]

RESULT_STORAGE_ENV = "TRACEO_RESULT_STORAGE"
# A block document slug as Prefect writes them: "<block-type-slug>/<block-document-name>".
_BLOCK_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*/[A-Za-z0-9][A-Za-z0-9_-]*$")


def result_storage(value: str | None = None, home: Path | None = None) -> str | Path:
    """The ``result_storage`` for a flow: a block slug (str) or a local directory (Path).

    Args:
        value: the setting (default: ``TRACEO_RESULT_STORAGE``)
        home: ``TRACEO_HOME`` (default: from the environment).

    Raises:
        ConfigurationError: the value is neither an absolute path nor ``block-type/name``.
    """
    if value is None:
        value = get_settings().result_storage
    text = (value or "").strip()
    if not text:
        return Path(home or get_settings().home).expanduser() / "results"
    if text.startswith("file://"):
        text = text.removeprefix("file://")
    if text.startswith(("/", "~")):
        return Path(text).expanduser()
    if _BLOCK_SLUG.match(text):
        return text
    raise ConfigurationError(
        f"{RESULT_STORAGE_ENV}={value!r} is neither an absolute directory nor a Prefect block "
        "slug like 's3-bucket/traceo-results'"
    )


def rerunnable(value: str | None = None) -> dict[str, Any]:
    """Flow settings that persist results where :func:`result_storage` says.

    Use as ``@flow(name="cost-ingestion", **rerunnable())``. Tasks inherit persistence from
    their flow; in a retry of the run, tasks that completed return their stored result instead
    of running again (Prefect's default cache key: the task's code, inputs and the flow run).
    """
    return {"persist_result": True, "result_storage": result_storage(value)}


def reused_in_retry(*ignored: str) -> dict[str, Any]:
    """Task settings: a retry of the same flow run reuses this task's stored result.

    The cache key is the task's inputs, its code and the flow run: a retry with the same inputs
    returns the result persisted by the attempt that completed it, while the next scheduled run
    (a new flow run) computes it afresh.

    Args:
        ignored: parameters left out of the key, because a retry passes them differently
            without changing the result (e.g. whether to wait for each check's instant).
    """
    inputs = Inputs(exclude=[*INPUTS.exclude, *ignored])
    return {"cache_policy": inputs + TASK_SOURCE + RUN_ID, "persist_result": True}


def check_result_storage(value: str | None = None) -> str:
    """Resolve the configured storage now and say where results go; fail clearly if unusable.

    A directory is created; a block is loaded from the Prefect API (``PREFECT_API_URL``).

    Raises:
        ConfigurationError: the setting is malformed, the directory cannot be created, or the
            block does not exist.
    """
    target = result_storage(value)
    if isinstance(target, Path):
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"{RESULT_STORAGE_ENV}: cannot create {target}: {exc.strerror}"
            ) from None
        return f"directory {target}"
    from prefect.blocks.core import Block

    try:
        Block.load(target)
    except ValueError as exc:
        raise ConfigurationError(
            f"{RESULT_STORAGE_ENV}={target!r}: no such saved Prefect block ({exc})"
        ) from None
    return f"block {target}"


def save_s3_result_storage(
    name: str,
    bucket: str,
    folder: str = "prefect-results",
    credentials_block: str | None = None,
) -> str:
    """Save a prefect-aws ``S3Bucket`` block for results; returns the slug to set.

    Args:
        name: the block document name (the slug is ``s3-bucket/<name>``).
        bucket: the bucket; every worker needs read and write access to ``folder`` in it.
        folder: the key prefix results are written under.
        credentials_block: a saved ``AwsCredentials`` document name (its client parameters
            carry an S3-compatible endpoint, MinIO or moto, when there is one); None uses the
            workers' own credentials (instance role, environment).
    """
    from prefect_aws import AwsCredentials, S3Bucket

    credentials: AwsCredentials = (
        cast(AwsCredentials, AwsCredentials.load(credentials_block))
        if credentials_block
        else AwsCredentials()
    )
    S3Bucket(bucket_name=bucket, bucket_folder=folder, credentials=credentials).save(
        name, overwrite=True
    )
    return f"s3-bucket/{name}"
