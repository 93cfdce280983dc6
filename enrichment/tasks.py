"""Periodic enrichment work. Per-job enrichment runs from `jobs.tasks` (the job ledger's owner)."""

from __future__ import annotations

from core.queues import ENRICHMENT_QUEUE
from core.task_policy import TaskSpec, queue_task
from enrichment.services import token_metadata_refresh

# config.settings.CELERY_BEAT_SCHEDULE names it; a test holds the two together.
REFRESH_TOKEN_METADATA = TaskSpec("enrichment.refresh_token_metadata", ENRICHMENT_QUEUE)


@queue_task(REFRESH_TOKEN_METADATA, keep_result=True)
def refresh_token_metadata_task() -> dict[str, int]:
    """Idempotent: a retry re-selects only the tokens still stale, so finished chunks are not asked again."""
    return token_metadata_refresh()
