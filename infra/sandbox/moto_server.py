"""A local AWS (moto) server on a free 127.0.0.1 port, for tests and the cost demo.

Cost Explorer returns nothing by itself in moto: :meth:`MotoServer.seed_cost_and_usage` queues
``GetCostAndUsage`` responses (``POST /moto-api/static/ce/cost-and-usage-results``). Each distinct
request body takes the next queued response and keeps it (a repeated body gets the same one), so
queue them in the order the source asks: every page of the SERVICE x LINKED_ACCOUNT query, then
every page of the tag query. :meth:`reset` clears all state (and the queue).
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import httpx

from tasks.local_server import free_port

__all__ = ["MotoServer"]

# moto accepts any credentials; these are obviously not real ones.
DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "region_name": "us-east-1",
}


class MotoServer:
    """``with MotoServer() as aws: aws.client("s3")`` serves until the block ends."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        self.host = host
        self.port = port or free_port(host)
        self._server = ThreadedMotoServer(ip_address=host, port=self.port, verbose=False)
        self._running = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MotoServer:
        # werkzeug logs every request at INFO: keep test and demo output readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._server.stop()
            self._running = False

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
