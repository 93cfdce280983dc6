"""How a task is bound to its queue's policy (docs/ARCHITECTURE.md, "Queues")."""

from __future__ import annotations

from typing import Any

from core.queues import QUEUES, QueueSpec


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
