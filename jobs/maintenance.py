"""Periodic housekeeping (README, Guarantees and operations): old ledger rows go, the newest state of
everything stays."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from jobs.models import DeadLetter, Job, TaskRun, TaskRunRollup
from wallets.services import balance_snapshots_prune

logger = logging.getLogger(__name__)

BALANCE_SNAPSHOT_RETENTION_DAYS = 7
# The statistics read the last hour of per-minute rollups (and the all-time rows, which stay); a day more is
# kept for operators looking back at an incident.
TASK_RUN_ROLLUP_MINUTES_KEPT = timedelta(days=2)


def maintenance_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """Delete ended jobs, task runs and replayed dead letters older than JOB_RETENTION_DAYS, per-minute task
    run rollups older than two days (not the all-time totals), and balance snapshots older than a week except
    each wallet's newest. Active jobs are never touched."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.JOB_RETENTION_DAYS)
    deleted = {
        "task_runs": TaskRun.objects.filter(started_at__lt=cutoff).delete()[0],
        "task_run_rollups": TaskRunRollup.objects.filter(minute__lt=now - TASK_RUN_ROLLUP_MINUTES_KEPT)
        .exclude(minute=TaskRunRollup.ALL_TIME)
        .delete()[0],
        "dead_letters": DeadLetter.objects.filter(created_at__lt=cutoff, replay_count__gt=0).delete()[0],
        "jobs": Job.objects.filter(
            status__in=Job.TERMINAL_STATUSES, finished_at__lt=cutoff, parent__isnull=True
        ).delete()[0],
        "balance_snapshots": balance_snapshots_prune(
            older_than=now - timedelta(days=BALANCE_SNAPSHOT_RETENTION_DAYS)
        ),
    }
    logger.info("cleanup deleted %s", deleted)
    return deleted
