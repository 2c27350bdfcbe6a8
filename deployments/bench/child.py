"""Run one measured path in a fresh process, so that its peak memory is its own."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

__all__ = ["in_child"]


def in_child(label: str, target: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``target(*args)`` in a spawned process: its result, plus ``peak_mb``, the child's peak RSS
    (``getrusage(RUSAGE_SELF).ru_maxrss``: interpreter and imports included).

    ``target`` must be a module-level function and ``args`` picklable (the ``spawn`` method).
    Raises RuntimeError naming ``label`` when the child fails.
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_run, args=(target, args, queue))
    child.start()
    result = queue.get(timeout=3600)
    child.join(timeout=60)
    if isinstance(result, str):
        raise RuntimeError(f"{label} failed: {result}")
    return dict(result)


def _run(target: Callable[..., dict[str, Any]], args: tuple[Any, ...], queue: Any) -> None:
    import resource

    try:
        result = target(*args)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put(result)
    except Exception as exc:  # report to the parent instead of hanging it
        queue.put(f"{type(exc).__name__}: {exc}")
