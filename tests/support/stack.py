"""Real processes for integration tests and benchmarks: the four queue workers, gunicorn and daphne.

They run against the same Redis and PostgreSQL as the test process, each in its own OS process, exactly as
in production (`python -m config.worker QUEUE`, gunicorn for REST, daphne for WebSockets).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from core.queues import QUEUES

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    condition: Callable[[], Any], *, timeout_s: float, interval_s: float = 0.05, what: str = ""
) -> Any:
    """Poll until `condition()` is truthy; fail with `what` when the deadline passes."""
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - polling: any error means "not yet", kept for the timeout
            last_error = exc
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s}s waiting for {what or condition}: {last_error!r}")


@dataclass
class Stack:
    env: dict[str, str]
    log_dir: Path
    web_port: int = field(default_factory=free_port)
    ws_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Development mode unless the caller chose (the settings default to production, HTTPS only). Pages
        # served by gunicorn open the WebSocket on this stack's daphne (no proxy joins them in tests): another
        # origin, which daphne must trust to take the page's session cookie.
        trusted = [origin for origin in self.env.get("CSRF_TRUSTED_ORIGINS", "").split(",") if origin]
        self.env = {
            "DEBUG": "true",
            **self.env,
            "WEBSOCKET_PUBLIC_URL": self.ws_url,
            "CSRF_TRUSTED_ORIGINS": ",".join([*trusted, self.base_url]),
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/ws/job-progress/"

    def _spawn(
        self,
        name: str,
        argv: list[str],
        *,
        extra_env: Mapping[str, str] | None = None,
        prefix: Sequence[str] = (),
    ) -> None:
        """`prefix` runs the command through another one, e.g. `ip netns exec HOST` (benchmarks)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [*prefix, *argv],
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(
        self, queue: str, *, extra_env: Mapping[str, str] | None = None, prefix: Sequence[str] = ()
    ) -> None:
        """One worker process for the queue, with all the threads or children the deployment spreads over
        its processes (core/queues.py: the wallet queue's 2 x 6 threads run here as one process of 12), so a
        test can stop, kill or restart "the queue's worker" as one; the benchmarks run the deployment's
        processes (bench/harness.py)."""
        from core.queues import QUEUES

        spec = QUEUES[queue]
        concurrency = {
            f"{spec.env_prefix}_CONCURRENCY": str(spec.default_concurrency * spec.default_processes)
        }
        self._spawn(
            queue,
            [sys.executable, "-m", "config.worker", queue],
            extra_env={**concurrency, **(extra_env or {})},
            prefix=prefix,
        )

    def start_web(self) -> None:
        self.start_gunicorn()
        self.start_daphne()

    def start_gunicorn(self) -> None:
        self._spawn(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--worker-class",
                "gthread",
                "--timeout",
                "60",
            ],
        )

    def start_daphne(self) -> None:
        self._spawn(
            "daphne",
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.ws_port),
                "config.asgi:application",
            ],
        )

    def start_beat(self) -> None:
        # The file scheduler reads CELERY_BEAT_SCHEDULE from settings; the tests flush database tables between
        # tests, which the database scheduler of production would trip over.
        schedule = self.log_dir / f"beat-schedule-{self.web_port}"
        self._spawn(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--scheduler",
                "celery.beat:PersistentScheduler",
                "--schedule",
                str(schedule),
                "--pidfile",
                "",
            ],
        )

    def start(self, queues: Iterable[str] = tuple(QUEUES), *, beat: bool = False) -> Stack:
        for queue in queues:
            self.start_worker(queue)
        self.start_web()
        if beat:
            self.start_beat()
        self.wait_ready(queues)
        return self

    def kill_hard(self, name: str) -> None:
        """SIGKILL the whole process group, as a crash or the OOM killer would."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def restart_workers(self, queues: Iterable[str]) -> None:
        queues = list(queues)
        for queue in queues:
            self.start_worker(queue)
        wanted = set(queues)
        wait_for(lambda: wanted <= self.consumed_queues(), timeout_s=60, what=f"workers on {sorted(wanted)}")

    def wait_ready(self, queues: Iterable[str], timeout_s: float = 60.0, *, daphne: bool = True) -> None:
        wait_for(
            lambda: requests.get(f"{self.base_url}/health", timeout=2).ok,
            timeout_s=timeout_s,
            what="gunicorn",
        )
        if daphne:
            wait_for(
                lambda: self._port_open(self.ws_port),
                timeout_s=timeout_s,
                what="daphne",
            )
        wanted = set(queues)
        if wanted:
            wait_for(
                lambda: wanted <= self.consumed_queues(),
                timeout_s=timeout_s,
                what=f"workers on {sorted(wanted)}",
            )

    @staticmethod
    def _port_open(port: int) -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    def consumed_queues(self) -> set[str]:
        from config.celery import app

        replies = app.control.inspect(timeout=1.0).active_queues() or {}
        return {queue["name"] for queues in replies.values() for queue in queues}

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout_s: float = 15.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=timeout_s)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)
