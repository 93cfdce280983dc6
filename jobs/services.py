"""Writes to the job ledger: submission with deduplication, state changes, progress, results (SPEC §3)."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis.exceptions import RedisError

from config.errors import ConflictError, FatalError
from config.redis import get_redis, job_progress_key, job_progress_write_key, job_synced_key
from jobs import selectors
from jobs.events import job_event_publish, result_url
from jobs.models import Job

logger = logging.getLogger(__name__)

_SUBMIT_ATTEMPTS = 5
_DAY_S = 24 * 3600


class JobNotRunningError(FatalError):
    """The job was cancelled or ended elsewhere; the task stops at its next checkpoint."""


@dataclass(frozen=True, slots=True)
class JobSubmission:
    job: Job
    deduplicated: bool


def job_dedup_key(*, kind: str, owner_id: Any, params: dict[str, Any]) -> str:
    """Hash of (kind, owner, canonical params). Callers canonicalise params (sorted unique wallets)."""
    canonical = json.dumps({"kind": kind, "owner": str(owner_id), "params": params}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def job_submit(
    *,
    kind: str,
    owner: User,
    params: dict[str, Any],
    queue: str,
    priority: int,
    force: bool = False,
) -> JobSubmission:
    """Create a job, or return the identical one already queued, running or freshly completed.

    The partial unique index on `dedup_key` decides races: of concurrent identical submissions exactly one
    insert succeeds, the others hit IntegrityError and read the winner's row.
    """
    from jobs.flows import job_enqueue

    dedup_key = job_dedup_key(kind=kind, owner_id=owner.pk, params=params)
    for _ in range(_SUBMIT_ATTEMPTS):
        if not force:
            fresh = selectors.job_fresh_completed(dedup_key=dedup_key)
            if fresh is not None:
                return JobSubmission(fresh, deduplicated=True)
        active = selectors.job_active(dedup_key=dedup_key)
        if active is not None:
            return JobSubmission(active, deduplicated=True)
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    kind=kind,
                    owner=owner,
                    params=params,
                    dedup_key=dedup_key,
                    queue=queue,
                    priority=priority,
                    celery_task_ids=[str(uuid.uuid4())],
                )
                # Enqueue only once the row is committed, or a fast worker could look for a job not yet there.
                transaction.on_commit(partial(job_enqueue, job))
            return JobSubmission(job, deduplicated=False)
        except IntegrityError:
            continue
    raise ConflictError("The job changed state while being submitted; try again.", code="submit_conflict")


def job_start(*, job_id: str) -> Job | None:
    """Claim a job for running. None when it already ended (completed, failed or cancelled)."""
    now = timezone.now()
    claimed = Job.objects.filter(id=job_id, status__in=Job.ACTIVE_STATUSES).update(
        status=Job.Status.RUNNING,
        started_at=Coalesce(F("started_at"), now),
        heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    job_report_progress(job_id=job_id, progress=5, stage="started")
    return Job.objects.get(id=job_id)


def job_checkpoint(*, job_id: str) -> None:
    """Heartbeat and cancellation check in one statement: zero rows means the job is no longer running."""
    if not Job.objects.filter(id=job_id, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now()):
        raise JobNotRunningError(f"job {job_id} is no longer running")


_RAISE_PROGRESS = """
local current = tonumber(redis.call('HGET', KEYS[1], 'p') or '-1')
local stage = redis.call('HGET', KEYS[1], 's')
local wanted = tonumber(ARGV[1])
if wanted < current or (wanted == current and stage == ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'p', ARGV[1], 's', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if stage ~= ARGV[2] then return 2 end
return 1
"""


def job_report_progress(
    *, job_id: str, progress: int, stage: str, detail: dict[str, Any] | None = None
) -> None:
    """Publish a progress report at once and write it to the ledger, throttled (stage changes always).

    Reports from parallel tasks arrive out of order; a Redis script keeps the highest one so progress
    never goes down. Without Redis the ledger alone is updated, with the same never-down rule.
    """
    progress = max(0, min(100, int(progress)))
    job_id = str(job_id)
    write_to_ledger = True
    try:
        client = get_redis()
        change = int(client.eval(_RAISE_PROGRESS, 1, job_progress_key(job_id), progress, stage, _DAY_S))
        if change == 0:
            return
        if change == 1 and settings.PROGRESS_DB_WRITE_INTERVAL_MS:
            write_to_ledger = bool(
                client.set(
                    job_progress_write_key(job_id), 1, nx=True, px=settings.PROGRESS_DB_WRITE_INTERVAL_MS
                )
            )
        job_event_publish(
            job_id=job_id, event_type="job-progress", progress=progress, stage=stage, detail=detail or {}
        )
    except RedisError:
        logger.warning("progress for job %s kept in the ledger only: Redis unavailable", job_id)
    if write_to_ledger:
        Job.objects.filter(id=job_id, status=Job.Status.RUNNING, progress__lte=progress).update(
            progress=progress, stage=stage, heartbeat_at=timezone.now()
        )


def job_progress_units_done(*, job_id: str, total_units: int, done_already: int = 0) -> int:
    """Count one more finished unit of a job's parallel phase; returns how many are done."""
    key = job_synced_key(str(job_id))
    try:
        client = get_redis()
        pipe = client.pipeline()
        pipe.setnx(key, done_already)
        pipe.incr(key)
        pipe.expire(key, _DAY_S)
        return int(pipe.execute()[1])
    except RedisError:
        return min(total_units, done_already)


@transaction.atomic
def job_complete(*, job_id: str, result: dict[str, Any], summary: dict[str, Any] | None = None) -> bool:
    """Store the result and end the job. A job cancelled meanwhile stays cancelled."""
    job = Job.objects.select_for_update().get(id=job_id)
    if job.status != Job.Status.RUNNING:
        return False
    enrichment = (job.result or {}).get("enrichment") or {"status": "pending"}
    job.result = {**result, "enrichment": enrichment}
    job.status = Job.Status.COMPLETED
    job.progress = 100
    job.stage = "completed"
    job.finished_at = job.heartbeat_at = timezone.now()
    job.save(update_fields=["result", "status", "progress", "stage", "finished_at", "heartbeat_at"])

    def publish() -> None:
        job_event_publish(
            job_id=job_id, event_type="job-progress", progress=100, stage="completed", detail={}
        )
        job_event_publish(
            job_id=job_id, event_type="job-completed", result_url=result_url(job_id), summary=summary or {}
        )
        # Enrichment that finished first was held back so subscribers always see the job complete first.
        if enrichment.get("status") != "pending":
            job_event_publish(job_id=job_id, event_type="enrichment-completed", **enrichment)

    transaction.on_commit(publish)
    return True


def job_fail(*, job_id: str, error_type: str, message: str) -> bool:
    now = timezone.now()
    failed = Job.objects.filter(id=job_id, status__in=Job.ACTIVE_STATUSES).update(
        status=Job.Status.FAILED,
        stage="failed",
        error={"type": error_type, "message": message},
        finished_at=now,
        heartbeat_at=now,
    )
    if failed:
        job_event_publish(
            job_id=job_id, event_type="job-failed", error={"type": error_type, "message": message}
        )
    return bool(failed)


@transaction.atomic
def job_attach_enrichment(*, job_id: str, enrichment: dict[str, Any]) -> None:
    """Merge enrichment into the job's result; announce it now if the job is complete, else at completion."""
    job = Job.objects.select_for_update().get(id=job_id)
    job.result = {**(job.result or {}), "enrichment": enrichment}
    job.save(update_fields=["result"])
    if job.status == Job.Status.COMPLETED:
        transaction.on_commit(
            lambda: job_event_publish(job_id=job_id, event_type="enrichment-completed", **enrichment)
        )


def job_progress_between(*, start: int, end: int, done: int, total: int) -> int:
    if total <= 0:
        return end
    return start + (end - start) * min(done, total) // total
