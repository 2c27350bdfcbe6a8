"""A local Prometheus loaded with known series, for the ``prometheus_sli`` bench and its tests.

The series are written as OpenMetrics, turned into TSDB blocks by ``promtool tsdb
create-blocks-from openmetrics``, and served by ``prometheus`` on 127.0.0.1 with a retention
long enough to keep them, whatever their age.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

__all__ = ["LocalPrometheus", "Series", "write_openmetrics"]

Series = tuple[str, Mapping[str, str], npt.NDArray[np.int64], npt.NDArray[np.float64]]
# name, labels, timestamps (epoch seconds, ascending), values


def write_openmetrics(path: Path, series: Iterable[Series]) -> None:
    """Write ``series`` as an OpenMetrics text file (untyped samples, ``# EOF`` at the end)."""
    with path.open("w", encoding="utf-8") as out:
        for name, labels, ts, values in series:
            selector = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            head = f"{name}{{{selector}}} "
            out.writelines(f"{head}{v:g} {t}\n" for t, v in zip(ts, values, strict=True))
        out.write("# EOF\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalPrometheus:
    """``prometheus`` serving the blocks built from ``openmetrics`` under ``directory``.

    Use as a context manager; ``url`` is its base URL. No scrape targets: the data is what was
    loaded.
    """

    def __init__(self, binary: str, openmetrics: Path, directory: Path) -> None:
        self.binary = binary
        self.data = directory / "data"
        subprocess.run(
            [
                str(Path(binary).with_name("promtool")),
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                str(openmetrics),
                str(self.data),
            ],
            check=True,
            capture_output=True,
        )
        self.config = directory / "prometheus.yml"
        self.config.write_text("global: {}\n", encoding="utf-8")
        self.log = directory / "prometheus.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalPrometheus:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    f"--config.file={self.config}",
                    f"--storage.tsdb.path={self.data}",
                    "--storage.tsdb.retention.time=100y",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:  # not listening yet
                pass
            time.sleep(0.1)
        raise RuntimeError(f"prometheus not ready after {timeout:.0f}s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
