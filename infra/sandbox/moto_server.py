"""A local AWS (moto) server on a free 127.0.0.1 port, for tests and the cost demo.

Cost Explorer returns nothing by itself in moto: :meth:`MotoServer.seed_cost_and_usage` queues
``GetCostAndUsage`` responses (``POST /moto-api/static/ce/cost-and-usage-results``). Each distinct
request body takes the next queued response and keeps it (a repeated body gets the same one), so
queue them in the order the source asks: every page of the SERVICE x LINKED_ACCOUNT query, then
every page of the tag query. :meth:`reset` clears all state (and the queue).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from types import TracebackType
from typing import IO, Any

import httpx

from tasks.errors import ServiceUnavailableError
from tasks.local_server import free_port

__all__ = ["MotoServer"]

# moto accepts any credentials; these are obviously not real ones.
DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "region_name": "us-east-1",
}


class MotoServer:
    """``with MotoServer() as aws: aws.client("s3")`` serves until the block ends.

    The server is a child process: moto keeps its state per process, so two servers in one
    process would share buckets and Cost Explorer answers, and one's :meth:`reset` would empty
    the other's. Each instance here owns its state.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> MotoServer:
        """Start the server and wait until it answers.

        Raises:
            ServiceUnavailableError: it exited or did not answer within ``timeout`` s.
        """
        command = [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]
        # It logs every request: a file (not a pipe nobody reads) keeps the tail for errors.
        self._log = log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                log.seek(0)
                tail = log.read()[-500:].decode(errors="replace").strip()
                self.stop()
                raise ServiceUnavailableError(f"moto server exited with {code}: {tail}")
            try:
                httpx.get(f"{self.url}/moto-api/data.json", timeout=2).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise ServiceUnavailableError(f"moto server did not answer on {self.url} in {timeout:g}s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every bucket, object and queued Cost Explorer response."""
        httpx.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def seed_cost_and_usage(self, results: list[dict[str, Any]]) -> None:
        """Queue ``GetCostAndUsage`` responses, one per distinct request, in order."""
        response = httpx.post(
            f"{self.url}/moto-api/static/ce/cost-and-usage-results",
            json={"results": results},
            timeout=10,
        )
        response.raise_for_status()

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service`` against this server (dummy credentials)."""
        import boto3

        return boto3.client(service, endpoint_url=self.url, **{**DUMMY_CREDENTIALS, **kwargs})

    def environment(self) -> dict[str, str]:
        """Environment variables that point boto3 (and ``traceo``) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": DUMMY_CREDENTIALS["region_name"],
        }
