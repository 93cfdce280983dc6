"""Writes of the task-run ledger: a `TaskRun` per execution, and the per-minute rollups the monitoring reads.

Called by the task signals (`jobs/signals.py`). A run's end updates its row, then adds it to two rollup rows
(its minute, and the all-time totals), so the rollups count the runs that ended and only those: a second end
signal for the same run finds it ended and adds nothing. The two statements commit one after the other, not
as one transaction: a transaction holding locks on both tables deadlocked against a TRUNCATE of both (the
tests' flush between tests, with workers still running), and nothing else needs them together. A process
killed between the two leaves that one run out of the statistics; none is ever counted twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction

from jobs.models import TaskRun, TaskRunRollup
from jobs.runtime_histogram import rollup_runs, runtime_bucket

_STATES = {
    "SUCCESS": TaskRun.State.SUCCEEDED,
    "RETRY": TaskRun.State.RETRIED,
    "FAILURE": TaskRun.State.FAILED,
}

# One statement ends the runs and says which queues they ran on (RETURNING: PostgreSQL, SQLite 3.35+).
_END_RUNS = f"""
    UPDATE {TaskRun._meta.db_table} SET state = %s, finished_at = %s, runtime_ms = %s
    WHERE task_id = %s AND finished_at IS NULL
    RETURNING queue
"""
_TABLE = TaskRunRollup._meta.db_table
# PostgreSQL and SQLite (3.24+) both read this upsert: a new (queue, minute, state, bucket) row, or the sums
# of the existing one. Rows are always locked in the same order (the minute's, then the totals'), so two
# runs ending at once cannot deadlock.
_ADD_TO_ROLLUPS = f"""
    INSERT INTO {_TABLE} (queue, minute, state, bucket, runs, runtime_ms_sum)
    VALUES (%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (queue, minute, state, bucket) DO UPDATE SET
        runs = {_TABLE}.runs + excluded.runs,
        runtime_ms_sum = {_TABLE}.runtime_ms_sum + excluded.runtime_ms_sum
"""


def task_run_record_start(
    *, task_id: str, task_name: str, queue: str, worker: str, job_id: Any, started_at: datetime
) -> None:
    TaskRun.objects.create(
        task_id=task_id, task_name=task_name, queue=queue, worker=worker, job_id=job_id, started_at=started_at
    )


def task_run_record_end(
    *, task_id: str, celery_state: str | None, runtime_ms: int | None, finished_at: datetime
) -> int:
    """End the task's unfinished runs (normally one; more when a worker died in an earlier delivery) and add
    them to the rollups; returns how many ended. Celery states other than success and retry are failures."""
    state = _STATES.get(celery_state or "", TaskRun.State.FAILED)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(_END_RUNS, [state, adapt(finished_at), runtime_ms, task_id])
        ended = [queue for (queue,) in cursor.fetchall()]
        if not ended:
            return 0
        minute, all_time = adapt(finished_at.replace(second=0, microsecond=0)), adapt(TaskRunRollup.ALL_TIME)
        bucket = runtime_bucket(runtime_ms)
        by_queue: dict[str, int] = {}
        for queue in ended:
            by_queue[queue] = by_queue.get(queue, 0) + 1
        for queue, runs in by_queue.items():
            runtime_sum = (runtime_ms or 0) * runs
            cursor.execute(
                _ADD_TO_ROLLUPS,
                [
                    queue,
                    minute,
                    state,
                    bucket,
                    runs,
                    runtime_sum,
                    queue,
                    all_time,
                    state,
                    bucket,
                    runs,
                    runtime_sum,
                ],
            )
    return len(ended)


@transaction.atomic
def task_run_rollups_rebuild() -> int:
    """Replace the rollups by a count of the TaskRun rows that ended (after a data import or a repair; the
    migration that introduced them ran the same count). Returns how many rollup rows it wrote."""
    TaskRunRollup.objects.all().delete()
    ended = TaskRun.objects.filter(finished_at__isnull=False).values_list(
        "queue", "finished_at", "state", "runtime_ms"
    )
    rows = rollup_runs(
        (
            (queue, finished_at, state, runtime_ms)
            for queue, finished_at, state, runtime_ms in ended.iterator(chunk_size=10_000)
            if finished_at is not None
        ),
        all_time=TaskRunRollup.ALL_TIME,
    )
    TaskRunRollup.objects.bulk_create(
        [
            TaskRunRollup(
                queue=queue, minute=minute, state=state, bucket=bucket, runs=runs, runtime_ms_sum=ms
            )
            for (queue, minute, state, bucket), (runs, ms) in rows.items()
        ],
        batch_size=5_000,
    )
    return len(rows)
