"""Reads of the job ledger."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from config.errors import NotFoundError
from jobs.events import result_url
from jobs.models import Job


def job_get_for_owner(*, job_id: str | uuid.UUID, user: AbstractBaseUser | AnonymousUser) -> Job:
    """The job if `user` owns it; any other case is the same 404, so ids of others' jobs leak nothing."""
    try:
        parsed = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
    except ValueError:
        raise NotFoundError(f"No job with id {job_id}.") from None
    job = Job.objects.filter(id=parsed, owner_id=user.pk).first() if user.is_authenticated else None
    if job is None:
        raise NotFoundError(f"No job with id {job_id}.")
    return job


def job_fresh_completed(*, dedup_key: str) -> Job | None:
    fresh_since = timezone.now() - timedelta(seconds=settings.JOB_RESULT_FRESHNESS_S)
    return (
        Job.objects.filter(dedup_key=dedup_key, status=Job.Status.COMPLETED, finished_at__gte=fresh_since)
        .order_by("-finished_at")
        .first()
    )


def job_active(*, dedup_key: str) -> Job | None:
    return Job.objects.filter(dedup_key=dedup_key, status__in=Job.ACTIVE_STATUSES).first()


def job_snapshot(*, job: Job) -> dict[str, Any]:
    """What a WebSocket subscriber needs to catch up: everything but the (possibly large) result body."""
    enrichment = (job.result or {}).get("enrichment") if job.status == Job.Status.COMPLETED else None
    return {
        "job_id": str(job.id),
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "stage": job.stage,
        "error": job.error,
        "result_url": result_url(str(job.id)) if job.status == Job.Status.COMPLETED else None,
        "enrichment_status": (enrichment or {}).get("status"),
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
