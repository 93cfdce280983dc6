"""Record every task execution (which worker, which queue, how long, how it ended) in `TaskRun`, and add it
to the per-minute rollups that queue statistics read (`jobs/task_runs.py`)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.db import DatabaseError
from django.utils import timezone

from jobs.monitoring import SENT_AT_HEADER
from jobs.task_runs import task_run_record_end, task_run_record_start

logger = logging.getLogger(__name__)

_started: dict[str, float] = {}


def _queue_of(task: Task) -> str:
    delivery = getattr(task.request, "delivery_info", None) or {}
    return str(delivery.get("routing_key") or getattr(task, "policy_queue", None) or "")


@before_task_publish.connect
def stamp_sent_at(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Stamp when a message was sent, so health can tell how long the oldest message has waited."""
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


@task_prerun.connect
def record_task_start(task_id: str, task: Task, kwargs: dict[str, Any] | None = None, **_: Any) -> None:
    _started[task_id] = time.monotonic()
    try:
        task_run_record_start(
            task_id=task_id,
            task_name=task.name,
            queue=_queue_of(task),
            worker=str(task.request.hostname or ""),
            job_id=(kwargs or {}).get("job_id"),
            started_at=timezone.now(),
        )
    except DatabaseError:
        logger.warning("could not record the start of task %s", task_id, exc_info=True)


@task_postrun.connect
def record_task_end(task_id: str, task: Task, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id, None)
    runtime_ms = int((time.monotonic() - started) * 1000) if started is not None else None
    try:
        task_run_record_end(
            task_id=task_id, celery_state=state, runtime_ms=runtime_ms, finished_at=timezone.now()
        )
    except DatabaseError:
        logger.warning("could not record the end of task %s", task_id, exc_info=True)
