"""The Celery app: queues come from `config.queues`, everything else from Django settings (CELERY_*)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, setup_logging
from kombu import Exchange, Queue

from config.queues import QUEUES, QueueSpec

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("wallet_analysis")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The default exchange routes by queue name alone. Named exchanges need binding records in Redis, and when
# those vanish (a restart without persistence, FLUSHALL) kombu silently drops every message sent to them.
app.conf.task_queues = [Queue(name, Exchange(""), routing_key=name) for name in QUEUES]


def route_by_queue_policy(
    name: str, args: Any, kwargs: Any, options: dict[str, Any], task: Any = None, **_: Any
) -> dict[str, str] | None:
    """Route every task to the queue its policy names (see `queue_task_options`)."""
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
    """Refuse to start a second beat: two would send every periodic task twice (SPEC §8).

    The lock lives in Redis with a short expiry and a renewing thread, so a beat that dies frees it within
    BEAT_LOCK_TTL_S and a replacement can take over.
    """
    from config.beat_lock import BeatLock

    BeatLock().acquire_or_exit()


def queue_task_options(queue: str) -> dict[str, Any]:
    """Decorator options that bind a task to its queue's policy (SPEC §2).

    Retries are decided inside the tasks by error class (transient vs fatal), so no `autoretry_for` here;
    `max_retries` caps them at the queue's attempts.
    """
    spec: QueueSpec = QUEUES[queue]
    return {
        # Read by `route_by_queue_policy`: Celery 5.5+ deprecates routing through a `queue` task attribute.
        "policy_queue": queue,
        "soft_time_limit": spec.soft_time_limit_s,
        "time_limit": spec.hard_time_limit_s,
        "max_retries": spec.max_retries,
        "acks_late": True,
        "reject_on_worker_lost": True,
    }
