"""Recovery of jobs that stopped moving: the stalled-job sweep (docs/ARCHITECTURE.md, "Recovery").

Covers a worker killed mid-task (its message sits unacknowledged until the visibility timeout) and Redis
losing queued messages or chord state (a restart without persistence, FLUSHALL): the ledger still knows every
job, so the sweep re-drives from it, or files the job as a dead letter when its attempts are spent. The
wallets table likewise knows every history short of its caps: the sweep queues the background deepening
of those that have none queued (a lost message, a sync outside a job, a deepening that gave up).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.queues import ENRICHMENT_QUEUE, QUEUES
from jobs import dispatch, progress, services
from jobs.flows import history
from jobs.models import Job
from wallets.selectors import wallets_wanting_history_work

logger = logging.getLogger(__name__)

STALL_MARGIN_S = 60
SWEEP_BATCH = 500
# Wallets whose background deepening the sweep may queue at a time (each is one task a page).
HISTORY_SWEEP_BATCH = 100


def stall_timeout_s(queue: str) -> int:
    """How long a running job of this queue may stay silent: the queue's hard limit plus a margin."""
    if settings.JOB_STALL_TIMEOUT_S:
        return int(settings.JOB_STALL_TIMEOUT_S)
    return QUEUES[queue].hard_time_limit_s + STALL_MARGIN_S


def jobs_sweep_stalled() -> dict[str, int]:
    """Re-drive stalled running jobs while attempts remain, else dead-letter them; re-send queued jobs whose
    start message was lost, and enrichments that never arrived."""
    now = timezone.now()
    counts = {"redriven": 0, "dead_lettered": 0, "requeued": 0, "enrichment_resent": 0}
    for job in Job.objects.filter(status=Job.Status.RUNNING).order_by("heartbeat_at")[:SWEEP_BATCH]:
        if job.kind == Job.Kind.BULK_ANALYSIS and job.children.exists():
            # Merely waiting: its children are recovered on their own. Settling repairs a lost settle.
            if services.job_parent_settle(parent_id=str(job.id)):
                logger.info("bulk job %s settled by the sweep", job.id)
            continue
        cutoff = now - timedelta(seconds=stall_timeout_s(job.queue))
        if job.heartbeat_at is not None and job.heartbeat_at >= cutoff:
            continue
        silent_s = int((now - (job.heartbeat_at or job.created_at)).total_seconds())
        if job.attempts < QUEUES[job.queue].max_attempts:
            if services.job_redrive(job=job, reason=f"stalled: no heartbeat for {silent_s}s"):
                counts["redriven"] += 1
            continue
        message = f"stalled: no heartbeat for {silent_s}s after {job.attempts} attempt(s)"
        start_task = dispatch.START_TASKS[Job.Kind(job.kind)]
        if services.job_fail(
            job_id=str(job.id),
            error_type="stalled",
            message=message,
            dead_letter={
                "task_name": start_task.name,
                "queue": start_task.queue,
                "kwargs": {"job_id": str(job.id)},
                "attempts": job.attempts,
            },
        ):
            counts["dead_lettered"] += 1
    lost_before = now - timedelta(seconds=settings.JOB_QUEUED_LOST_AFTER_S)
    for job in Job.objects.filter(status=Job.Status.QUEUED, heartbeat_at__lt=lost_before)[:SWEEP_BATCH]:
        # A duplicate start message is harmless (the claim only takes queued jobs), so re-sending is safe.
        if services.job_redrive(job=job, reason="queued message presumed lost"):
            counts["requeued"] += 1
    for job in Job.objects.filter(
        status=Job.Status.QUEUED, heartbeat_at__isnull=True, created_at__lt=lost_before
    )[:SWEEP_BATCH]:
        if services.job_redrive(job=job, reason="queued message presumed lost"):
            counts["requeued"] += 1
    counts["enrichment_resent"] = _resend_pending_enrichment(now=now)
    counts["history_deepening_queued"] = sum(
        history.queue_background_deepening(wallet=wallet)
        for wallet in wallets_wanting_history_work(limit=HISTORY_SWEEP_BATCH)
    )
    return counts


def _resend_pending_enrichment(*, now: datetime) -> int:
    """Completed jobs whose enrichment stayed pending past its queue's stall window lost the enrichment
    task (a killed worker's message waits out the visibility timeout): send it again, once per window."""
    window_s = stall_timeout_s(ENRICHMENT_QUEUE)
    pending = Job.objects.filter(
        kind=Job.Kind.SIMILARITY,
        status=Job.Status.COMPLETED,
        result__enrichment__status="pending",
        finished_at__lt=now - timedelta(seconds=window_s),
    ).values_list("id", flat=True)[:200]
    resent = 0
    for job_id in pending:
        if not progress.job_enrichment_resend_claim(job_id=str(job_id), window_s=window_s):
            continue
        dispatch.signature(
            dispatch.ENRICH_JOB_BALANCES, priority=dispatch.ENRICHMENT_PRIORITY, job_id=str(job_id)
        ).apply_async()
        resent += 1
    return resent
