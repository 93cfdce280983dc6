"""Log records carry the job and task they belong to, on every line a task writes (docs/ARCHITECTURE.md
§8)."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [job=%(job_id)s task=%(task_id)s] %(message)s"


class TaskContextFilter(logging.Filter):
    """Adds `job_id`, `task_id` and `task_name` from the Celery task running in this thread, or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        from celery import current_task

        request = getattr(current_task, "request", None) if current_task else None
        task_id = getattr(request, "id", None)
        kwargs = getattr(request, "kwargs", None) or {}
        record.task_id = task_id or "-"
        record.task_name = current_task.name if task_id and current_task else "-"
        record.job_id = kwargs.get("job_id") or "-"
        return True
