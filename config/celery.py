"""The Celery app: queues come from `core.queues`, everything else from Django settings (CELERY_*)."""

from __future__ import annotations

import os
from typing import Any

import celery
from celery import Celery
from celery.signals import beat_init, setup_logging
from celery.utils.threads import bound_open_broker_sockets  # type: ignore[attr-defined]  # not in celery-types 0.26
from celery.worker.consumer import Consumer
from kombu import Connection, Exchange, Queue
from kombu.common import ignore_errors

from core.queues import QUEUES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Celery 5.7.0 closes the broker connection again after `collect()` on a connection loss (see
# `WorkerConsumer`); drop the workaround once a release stops doing so (its test tells).
CLOSES_CONNECTION_AFTER_COLLECT = celery.VERSION[:2] == (5, 7)
# Celery's own bound for reads on the old connection's sockets during that clean-up.
BROKEN_CONNECTION_SOCKET_TIMEOUT_S = 5.0


class WorkerConsumer(Consumer):
    """Celery's worker consumer, made to survive a Redis restart while tasks are in flight.

    On a connection loss Celery 5.7.0 calls `connection.collect()`, then `connection.close()`. `collect()`
    detaches kombu's transport even when it could not close the default channel: with a BRPOP in flight
    that channel's first `close()` only ends the read, and a pub/sub channel (gossip, control) failing to
    close stops the transport from closing the rest. `close()` then closes the default channel, restoring
    its unacknowledged messages through a Redis client built from the detached transport:
    `AttributeError: 'NoneType' object has no attribute 'hostname'` (kombu/transport/redis.py
    `_connparams`), which `ignore_errors` lets through, and the worker stops with exit code 0
    (docs/BENCHMARKS.md §6; the family of celery#9250, unfixed in Celery and kombu 5.7.0). Setting
    `worker_cancel_long_running_tasks_on_connection_loss` to False would not help: it is read afterwards.

    So the default channel is closed first, while the transport is attached, as `collect()` meant to. With
    Redis down its restore fails like any command and the messages stay in Redis's unacknowledged set: a
    task that ends after the reconnect acknowledges its message through that channel's client; a message
    whose task ended while Redis was down is delivered again after the visibility timeout (tasks are
    idempotent, and the stalled sweep has re-driven the job long before).
    """

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        if CLOSES_CONNECTION_AFTER_COLLECT and self.connection is not None:
            close_default_channel(self.connection)
        super().on_connection_error_after_connected(exc)


def close_default_channel(connection: Connection) -> None:
    """Close a broken connection's default channel while its transport is still attached."""
    channel = getattr(connection, "_default_channel", None)
    if channel is None:
        return
    # Without this, a read on a socket whose peer went silent (no RST) would never return.
    bound_open_broker_sockets(connection, BROKEN_CONNECTION_SOCKET_TIMEOUT_S)
    # Twice at most: with a BRPOP in flight the first close only ends that read.
    for _ in range(2):
        if getattr(channel, "closed", True):
            return
        ignore_errors(connection, channel.close)


app = Celery("wallet_analysis")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The default exchange routes by queue name alone. Named exchanges need binding records in Redis, and when
# those vanish (a restart without persistence, FLUSHALL) kombu silently drops every message sent to them.
app.conf.task_queues = [Queue(name, Exchange(""), routing_key=name) for name in QUEUES]
app.conf.worker_consumer = "config.celery:WorkerConsumer"


def route_by_queue_policy(
    name: str, args: Any, kwargs: Any, options: dict[str, Any], task: Any = None, **_: Any
) -> dict[str, str] | None:
    """Route every task to the queue its policy names (see `core.task_policy.queue_task_options`)."""
    task = task or app.tasks.get(name)
    queue = getattr(task, "policy_queue", None)
    return {"queue": queue} if queue else None


app.conf.task_routes = (route_by_queue_policy,)
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**_: Any) -> None:
    """Workers log through Django's LOGGING, so task lines carry the job and task ids like all others."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@beat_init.connect
def hold_the_beat_lock(**_: Any) -> None:
    """Refuse to start a second beat: two would send every periodic task twice (docs/ARCHITECTURE.md §14).

    The lock lives in Redis with a short expiry and a renewing thread, so a beat that dies frees it within
    `BEAT_LOCK_TTL_S` (a setting) and a replacement can take over.
    """
    from core.beat_lock import BeatLock

    BeatLock().acquire_or_exit()
