"""Periodic enrichment work. Per-job enrichment runs from `jobs.tasks` (the job ledger's owner)."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import DatabaseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import TransientError
from core.queues import ENRICHMENT_QUEUE, QUEUES
from core.task_policy import queue_task_options
from enrichment.services import token_metadata_refresh

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (TransientError, DatabaseError, RedisConnectionError, RedisTimeoutError)


@shared_task(bind=True, name="enrichment.refresh_token_metadata", **queue_task_options(ENRICHMENT_QUEUE))
def refresh_token_metadata_task(self: Task) -> dict[str, int]:
    """Idempotent: a retry re-selects only the tokens still stale, so finished chunks are not asked again."""
    try:
        return token_metadata_refresh()
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= QUEUES[ENRICHMENT_QUEUE].max_retries:
            raise
        countdown = QUEUES[ENRICHMENT_QUEUE].retry_countdown(self.request.retries)
        logger.info("retrying the token metadata refresh in %.0fs after %s", countdown, exc)
        raise self.retry(exc=exc, countdown=countdown) from exc
