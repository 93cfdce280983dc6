"""A small synchronous client for the job-progress WebSocket, on the `websockets` library."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from websockets.sync.client import ClientConnection, connect


class JobSocket:
    def __init__(self, url: str, *, token: str | None = None, headers: dict[str, str] | None = None) -> None:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Token {token}"
        # Entered at once (websockets 17 deprecates unentered connections); __exit__ closes it.
        opened = connect(url, additional_headers=all_headers, open_timeout=10)
        self.connection: ClientConnection = opened.__enter__()
        self.received: list[dict[str, Any]] = []

    def __enter__(self) -> JobSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.connection.close()

    def send(self, message: dict[str, Any]) -> None:
        self.connection.send(json.dumps(message))

    def next_event(self, timeout_s: float) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.connection.recv(timeout=timeout_s))
        self.received.append(event)
        return event

    def subscribe(self, job_id: str, timeout_s: float = 10.0) -> dict[str, Any]:
        """Subscribe and return the `job-snapshot` (events that raced ahead of it stay in `received`)."""
        self.send({"action": "subscribe", "job_id": job_id})
        return self.wait_for(lambda e: e.get("type") in {"job-snapshot", "error"}, timeout_s=timeout_s)

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], *, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching event within {timeout_s}s; received {self.received[-5:]}")
            event = self.next_event(remaining)
            if predicate(event):
                return event
