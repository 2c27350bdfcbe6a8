"""Activities used by test experiments to break the method in ways the runner must survive."""

from __future__ import annotations


class Stop(BaseException):
    """Stands in for a cancellation signal (Prefect's TerminationSignal) arriving mid-method."""


def interrupt() -> None:
    raise KeyboardInterrupt


def stop() -> None:
    raise Stop


def crash() -> None:
    raise RuntimeError("the method broke")
