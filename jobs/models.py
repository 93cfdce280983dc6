from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q


class Job(models.Model):
    """The job ledger (docs/ARCHITECTURE.md §4): every job from submission to its end. PostgreSQL is the
    source of truth."""

    class Kind(models.TextChoices):
        SIMILARITY = "similarity", "Similarity"
        WALLET_SYNC = "wallet_sync", "Wallet sync"
        PNL = "pnl", "PnL"
        BEHAVIOR = "behavior", "Behaviour"
        BULK_ANALYSIS = "bulk_analysis", "Bulk analysis"
        TOKEN_HOLDERS = "token_holders", "Token holders"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
    TERMINAL_STATUSES = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    params = models.JSONField(default=dict)
    dedup_key = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=40, default="queued")
    result = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True, help_text="{type, message}")
    queue = models.CharField(max_length=40)
    priority = models.PositiveSmallIntegerField(default=5)
    attempts = models.PositiveSmallIntegerField(default=0)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    celery_task_ids = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            # At most one queued or running job per dedup key: concurrent identical submissions race on this
            # index, and the losers read the winner's job instead of creating a second one.
            models.UniqueConstraint(
                fields=["dedup_key"],
                condition=Q(status__in=["queued", "running"]),
                name="job_one_active_per_dedup_key",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="job_progress_at_most_100"),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # A user's active jobs, for their cap (MAX_ACTIVE_JOBS_PER_USER), read at every submission: only
            # queued and running rows, so counting costs O(active jobs), not O(the user's history).
            models.Index(
                fields=["owner"], condition=Q(status__in=["queued", "running"]), name="job_owner_active"
            ),
            models.Index(fields=["dedup_key", "status", "-finished_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
            models.Index(fields=["kind", "status"]),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL_STATUSES


class TaskRun(models.Model):
    """One execution of a task by a worker: where it ran, how long, how it ended.

    Written from Celery's task signals, so every task is recorded the same way; queue statistics and the
    proof of which worker ran what read from here.
    """

    class State(models.TextChoices):
        STARTED = "started", "Started"
        SUCCEEDED = "succeeded", "Succeeded"
        RETRIED = "retried", "Retried"
        FAILED = "failed", "Failed"

    task_id = models.CharField(max_length=64)
    task_name = models.CharField(max_length=120)
    queue = models.CharField(max_length=40)
    worker = models.CharField(max_length=120)
    # No database constraint: a task may outlive its job row (cleanup), and its record must still be written.
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="task_runs"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.STARTED)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    runtime_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["queue", "started_at"]),
            models.Index(fields=["task_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} on {self.worker} ({self.state})"


class TaskRunRollup(models.Model):
    """Task runs that ended, counted per queue, minute, state and run-time bucket (`jobs.runtime_histogram`).

    Added to right after the run's end is recorded (`jobs.task_runs`), so queue statistics, health and
    metrics read O(queues x minutes x buckets) rows instead of every TaskRun. The rows whose `minute` is
    ALL_TIME hold the totals since the rollups began (kept when the minute rows and the runs are cleaned up).
    """

    ALL_TIME = datetime(1970, 1, 1, tzinfo=UTC)

    queue = models.CharField(max_length=40)
    minute = models.DateTimeField(help_text="Start of the minute the runs ended in; 1970-01-01 for all time")
    state = models.CharField(max_length=12, choices=TaskRun.State.choices)
    bucket = models.SmallIntegerField(help_text="Run-time bucket (jobs/runtime_histogram.py); -1: unknown")
    runs = models.PositiveBigIntegerField(default=0)
    runtime_ms_sum = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index the statistics read by: every queue's rows of a range of minutes (or all time).
            models.UniqueConstraint(
                fields=["minute", "queue", "state", "bucket"], name="task_run_rollup_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue} {self.minute:%Y-%m-%d %H:%M} {self.state} bucket {self.bucket}: {self.runs}"


class DeadLetter(models.Model):
    """A task that failed for good (docs/ARCHITECTURE.md §4): enough to inspect it and to replay it."""

    task_name = models.CharField(max_length=120)
    task_id = models.CharField(max_length=64, blank=True, default="")
    queue = models.CharField(max_length=40, blank=True, default="")
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    error_type = models.CharField(max_length=40)
    message = models.TextField()
    traceback = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    job = models.ForeignKey(
        Job,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="dead_letters",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    replay_count = models.PositiveSmallIntegerField(default=0)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replay_outcome = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["queue", "created_at"]),
            models.Index(fields=["error_type", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.task_name}: {self.error_type} ({self.created_at:%Y-%m-%d %H:%M})"
