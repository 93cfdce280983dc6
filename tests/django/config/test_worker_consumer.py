"""The worker's consumer survives losing Redis while it holds unacknowledged messages (docs/BENCHMARKS.md §6).

Real kombu against a throwaway redis-server that the test kills, in the state a wallet worker is in when
Redis dies mid-sync: tasks in flight (messages delivered, not acknowledged), a BRPOP waiting on the default
channel, and a pub/sub channel (like gossip and the control box) whose auto-delete queue cannot be removed.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest
import redis
from celery.worker.consumer import Consumer
from kombu import Connection, Exchange, Message, Queue

from config.celery import CLOSES_CONNECTION_AFTER_COLLECT, WorkerConsumer, app
from tests.support.stack import free_port, wait_for

QUEUE = Queue("wallet-operations", Exchange(""), routing_key="wallet-operations")
IN_FLIGHT = 2


class ThrowawayRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, decode_responses=True)

    def start(self) -> None:
        # appendfsync always: every unacknowledged message is on disk before the SIGKILL.
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.directory)]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.client().ping(), timeout_s=10, interval_s=0.02, what="redis-server")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def _connection_lost_mid_task(server: ThrowawayRedis) -> tuple[Connection, list[Message]]:
    connection = Connection(server.url, transport_options={"socket_timeout": 2, "socket_connect_timeout": 2})
    with connection.Producer() as producer:
        for i in range(IN_FLIGHT + 1):
            producer.publish({"i": i}, routing_key=QUEUE.routing_key, declare=[QUEUE])
    in_flight: list[Message] = []
    tasks = connection.Consumer([QUEUE], callbacks=[lambda _body, message: in_flight.append(message)])
    tasks.qos(prefetch_count=IN_FLIGHT)
    tasks.consume()
    wait_for(lambda: _received(connection, in_flight) == IN_FLIGHT, timeout_s=10, what="deliveries")
    broadcast = Queue("broadcast", Exchange("broadcast", type="fanout"), auto_delete=True)
    connection.Consumer([broadcast], channel=connection.channel(), callbacks=[lambda *_: None]).consume()
    default_channel: Any = connection.default_channel
    default_channel._brpop_start()  # what the event loop leaves waiting
    server.kill()
    return connection, in_flight


def _received(connection: Connection, messages: list[Message]) -> int:
    with contextlib.suppress(TimeoutError):
        connection.drain_events(timeout=0.05)
    return len(messages)


def _consumer(cls: type[Consumer]) -> Consumer:
    return cls(
        on_task_request=Mock(),
        init_callback=Mock(),
        pool=Mock(num_processes=8),
        app=app,
        timer=Mock(),
        controller=Mock(),
        hub=None,
    )


def test_connection_loss_with_tasks_in_flight_leaves_the_consumer_running(
    redis_server: ThrowawayRedis,
) -> None:
    consumer = _consumer(WorkerConsumer)
    consumer.connection, in_flight = _connection_lost_mid_task(redis_server)

    consumer.on_connection_error_after_connected(ConnectionError("Connection closed by server."))

    assert consumer.connection is None  # handed back to Celery, which reconnects
    redis_server.start()  # from its AOF
    unacked = redis_server.client()
    assert unacked.hlen("unacked") == IN_FLIGHT  # kept for redelivery after the visibility timeout
    for message in in_flight:  # tasks that end after the reconnect still acknowledge their message
        message.ack()
    assert unacked.hlen("unacked") == 0


@pytest.mark.skipif(not CLOSES_CONNECTION_AFTER_COLLECT, reason="only Celery 5.7 needs WorkerConsumer")
def test_celerys_own_consumer_still_crashes_there(redis_server: ThrowawayRedis) -> None:
    """Once this fails, an upgrade fixed the crash: remove WorkerConsumer."""
    consumer = _consumer(Consumer)
    consumer.connection, _ = _connection_lost_mid_task(redis_server)

    with pytest.raises(AttributeError, match="hostname"):
        consumer.on_connection_error_after_connected(ConnectionError("Connection closed by server."))
