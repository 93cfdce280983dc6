"""Queue statistics from per-minute rollups (issue 15, item 3): the same figures as a direct computation
over every TaskRun row, read without scanning TaskRun."""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.queues import ANALYSIS_QUEUE, QUEUES, WALLET_QUEUE
from jobs import monitoring, task_runs
from jobs.models import TaskRun, TaskRunRollup

pytestmark = pytest.mark.django_db

# The rollups keep run times in buckets 2^(1/8) wide: a p95 read from them is the top of the bucket that
# holds the exact p95, so never below it and less than 9.1 % above it.
BUCKET_RATIO = 2 ** (1 / 8)
STATES = {"SUCCESS": TaskRun.State.SUCCEEDED, "FAILURE": TaskRun.State.FAILED, "RETRY": TaskRun.State.RETRIED}


# Every read computes afresh, except the workers' state: asking workers (none run here) waits out a timeout.
FRESH = ["queues", "health", "metrics"]


@pytest.fixture(autouse=True)
def cache(settings: Any) -> None:
    settings.HEALTH_CACHE_S = 60
    monitoring.monitoring_cache_clear()


def _statistics(queue: str) -> dict[str, Any]:
    monitoring.monitoring_cache_clear(reports=FRESH)
    return monitoring.queue_statistics(queue)


def _record(queue: str, celery_state: str, runtime_ms: int, finished_at: datetime) -> None:
    """One run through the functions the task signals call."""
    task_id = str(uuid.uuid4())
    task_runs.task_run_record_start(
        task_id=task_id,
        task_name="jobs.example",
        queue=queue,
        worker="worker@test",
        job_id=None,
        started_at=finished_at - timedelta(milliseconds=runtime_ms),
    )
    task_runs.task_run_record_end(
        task_id=task_id, celery_state=celery_state, runtime_ms=runtime_ms, finished_at=finished_at
    )


def _direct(queue: str, since: datetime | None) -> dict[str, Any]:
    """What the statistics mean, computed from every TaskRun row (the figures before the rollups)."""
    runs = TaskRun.objects.filter(queue=queue, finished_at__isnull=False)
    if since is not None:
        runs = runs.filter(finished_at__gte=since)
    rows = list(runs.values_list("state", "runtime_ms"))
    completed = sum(1 for state, _ in rows if state == TaskRun.State.SUCCEEDED)
    failed = sum(1 for state, _ in rows if state == TaskRun.State.FAILED)
    times = sorted(ms for state, ms in rows if state == TaskRun.State.SUCCEEDED and ms is not None)
    return {
        "completed": completed,
        "failed": failed,
        "retried": sum(1 for state, _ in rows if state == TaskRun.State.RETRIED),
        "mean_ms": round(sum(times) / len(times), 1) if times else None,
        "p95_ms": times[min(len(times) - 1, int(0.95 * len(times)))] if times else None,
        "success_rate": round(completed / (completed + failed), 4) if completed + failed else None,
    }


def _assert_same(rollup: dict[str, Any], direct: dict[str, Any]) -> None:
    exact_p95 = direct.pop("p95_ms")
    p95 = rollup.pop("p95_ms")
    assert rollup == direct
    if exact_p95 is None:
        assert p95 is None
    else:
        assert exact_p95 <= p95 <= exact_p95 * BUCKET_RATIO + 1


def test_rollup_statistics_match_a_direct_computation_over_every_run() -> None:
    rng = random.Random(15)
    now = timezone.now()
    for queue in (WALLET_QUEUE, ANALYSIS_QUEUE):
        for _ in range(300):
            # Clear of the hour's edge on either side, so the two computations agree on which runs are in it.
            minutes_ago = rng.choice([rng.uniform(0.1, 55), rng.uniform(65, 600)])
            state = rng.choices(list(STATES), weights=[8, 1, 1])[0]
            runtime = int(rng.lognormvariate(5, 1.5))
            _record(queue, state, runtime, now - timedelta(minutes=minutes_ago))

    for queue in QUEUES:
        stats = _statistics(queue)
        _assert_same(stats["last_hour"], _direct(queue, now - timedelta(hours=1)))
        _assert_same(stats["since_start"], _direct(queue, None))
    assert _statistics(WALLET_QUEUE)["last_hour"]["completed"] > 100

    monitoring.monitoring_cache_clear(reports=FRESH)
    health = monitoring.health_report()["queues"][WALLET_QUEUE]
    assert health["failures_last_hour"] == _direct(WALLET_QUEUE, now - timedelta(hours=1))["failed"]
    metrics = monitoring.prometheus_text()
    completed = _direct(ANALYSIS_QUEUE, now - timedelta(hours=1))["completed"]
    assert f'task_runs_last_hour{{queue="{ANALYSIS_QUEUE}",state="completed"}} {completed}.0' in metrics


def test_a_run_recorded_twice_counts_once() -> None:
    task_id = str(uuid.uuid4())
    now = timezone.now()
    task_runs.task_run_record_start(
        task_id=task_id, task_name="jobs.example", queue=WALLET_QUEUE, worker="w", job_id=None, started_at=now
    )
    for _ in range(2):  # a second end signal for the same run finds it ended already
        task_runs.task_run_record_end(task_id=task_id, celery_state="SUCCESS", runtime_ms=40, finished_at=now)

    assert _statistics(WALLET_QUEUE)["since_start"]["completed"] == 1


def _taskrun_reads(queries: list[dict[str, str]]) -> list[str]:
    return [query["sql"] for query in queries if re.search(r'"jobs_taskrun"', query["sql"])]


def test_statistics_over_100k_runs_read_rollups_not_runs() -> None:
    """100,000 TaskRun rows (written straight into the table, then rolled up as the migration does): the
    statistics, health and metrics read a few rows per queue and minute, never the runs. Timings are in
    docs/BENCHMARKS.md, not here."""
    assert connection.vendor == "postgresql", "this test writes its runs with PostgreSQL's generate_series"
    queues = "ARRAY[" + ", ".join(f"'{queue}'" for queue in QUEUES) + "]"
    with connection.cursor() as cursor:
        # Spread over a day; every tenth run failed; run times 0 to 5 s.
        cursor.execute(
            f"""
            INSERT INTO {TaskRun._meta.db_table}
                (task_id, task_name, queue, worker, state, started_at, finished_at, runtime_ms)
            SELECT 'bulk-' || i, 'jobs.example', ({queues})[1 + i % {len(QUEUES)}], 'w',
                   CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
                   now() - (i % 1440) * interval '1 minute' - ((i * 7919) % 5000) * interval '1 millisecond',
                   now() - (i % 1440) * interval '1 minute',
                   (i * 7919) % 5000
            FROM generate_series(1, 100000) AS i
            """
        )
    assert TaskRun.objects.count() == 100_000
    task_runs.task_run_rollups_rebuild()

    monitoring.worker_state()
    monitoring.monitoring_cache_clear(reports=FRESH)
    with CaptureQueriesContext(connection) as stats_queries:
        every = monitoring.queues_report()
    with CaptureQueriesContext(connection) as health_queries:
        monitoring.health_report()
    with CaptureQueriesContext(connection) as metrics_queries:
        monitoring.prometheus_text()

    for queries in (stats_queries, health_queries, metrics_queries):
        assert _taskrun_reads(queries.captured_queries) == []
    # Every queue at once: two statements on the rollups (the last hour, all time) and one on the dead
    # letters, whatever the number of runs.
    assert len(stats_queries.captured_queries) == 3
    for stats in every:
        _assert_same(stats["since_start"], _direct(stats["queue"], None))


def test_cleanup_drops_old_minutes_and_keeps_the_totals() -> None:
    from jobs.maintenance import maintenance_cleanup

    now = timezone.now()
    _record(WALLET_QUEUE, "SUCCESS", 30, now - timedelta(days=3))
    _record(WALLET_QUEUE, "SUCCESS", 30, now - timedelta(minutes=5))

    assert maintenance_cleanup(now=now)["task_run_rollups"] == 1

    assert _statistics(WALLET_QUEUE)["since_start"]["completed"] == 2
    assert TaskRunRollup.objects.exclude(minute=TaskRunRollup.ALL_TIME).count() == 1
