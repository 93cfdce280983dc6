"""Monitoring benchmark: queue statistics over 100,000 task runs, before and after the rollups, and 12
callers at once against one computation.

    .venv/bin/python -m bench.bench_monitoring [--runs 100000] [--repeat 5] [--callers 12]

The runs are written straight into TaskRun (spread over a day, every tenth failed, run times 0-5 s) and
rolled up as the migration does (`task_run_rollups_rebuild`, timed). Then, in this process on the same
database, median of `repeat`:
- before: the statistics' database reads as they were (per queue: the newest 20,000 ended runs of the last
  hour and of all time, summarised in Python; health: failures and ended runs of the last hour, counted);
- after: the same figures from the rollups (`jobs.monitoring._run_totals`, one statement per window).
Over HTTP (gunicorn, 2 workers x 4 threads, no Celery worker: asking workers waits its 2 x 1 s timeout, as
it does for every caller of an uncached report): one caller with the cache empty and with it full, and
`callers` callers at once with it empty, counting the computations (`monitoring_computations_total`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import requests

from bench.harness import Harness, command_line, load_average, markdown_table, median
from tests.support.parallel import run_in_parallel

TOKEN = "bench-monitoring-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def _write_runs(count: int) -> None:
    from django.db import connection

    from core.queues import QUEUES
    from jobs.models import TaskRun

    queues = "ARRAY[" + ", ".join(f"'{queue}'" for queue in QUEUES) + "]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {TaskRun._meta.db_table}
                (task_id, task_name, queue, worker, state, started_at, finished_at, runtime_ms)
            SELECT 'bench-' || i, 'jobs.example', ({queues})[1 + i %% {len(QUEUES)}], 'w',
                   CASE WHEN i %% 10 = 0 THEN 'failed' ELSE 'succeeded' END,
                   now() - (i %% 1440) * interval '1 minute' - ((i * 7919) %% 5000) * interval '1 ms',
                   now() - (i %% 1440) * interval '1 minute',
                   (i * 7919) %% 5000
            FROM generate_series(1, %s) AS i
            """,
            [count],
        )


def _before() -> None:
    """The database reads of /jobs/queues and /health/queues before the rollups (jobs/monitoring.py then)."""
    from django.utils import timezone

    from core.queues import QUEUES
    from jobs.models import TaskRun

    since_hour = timezone.now() - timedelta(hours=1)
    for queue in QUEUES:
        runs = TaskRun.objects.filter(queue=queue, finished_at__isnull=False).order_by("-started_at")
        for rows in (
            list(runs.filter(started_at__gte=since_hour).values_list("state", "runtime_ms")[:20_000]),
            list(runs.values_list("state", "runtime_ms")[:20_000]),
        ):
            times = sorted(ms for state, ms in rows if ms is not None and state == TaskRun.State.SUCCEEDED)
            if times:
                statistics.fmean(times)
        TaskRun.objects.filter(queue=queue, state=TaskRun.State.FAILED, started_at__gte=since_hour).count()
        TaskRun.objects.filter(queue=queue, finished_at__gte=since_hour).count()


def _after() -> None:
    from django.utils import timezone

    from jobs import monitoring

    for since in (monitoring.last_hour_start(timezone.now()), None):
        for by_state in monitoring._run_totals(since=since).values():
            monitoring._runtime_stats(by_state)


def _timed(call: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return median(times)


def _computations(report: str) -> int:
    from core.metrics import metric_counters

    return sum(
        value
        for name, labels, value in metric_counters()
        if name == "monitoring_computations_total" and labels.get("report") == report
    )


def run(runs: int, repeat: int, callers: int) -> str:
    with Harness("monitoring", env={"MONITORING_TOKEN": TOKEN}) as bench:
        bench.start(queues=[])
        from jobs import monitoring, task_runs

        started = time.perf_counter()
        _write_runs(runs)
        written_s = time.perf_counter() - started
        started = time.perf_counter()
        rollup_rows = task_runs.task_run_rollups_rebuild()
        rebuild_s = time.perf_counter() - started
        loads = [load_average()]
        before_s, after_s = _timed(_before, repeat), _timed(_after, repeat)
        loads.append(load_average())

        url = f"{bench.base_url}/jobs/queues"

        def get() -> float:
            started = time.perf_counter()
            requests.get(url, headers=HEADERS, timeout=60).raise_for_status()
            return time.perf_counter() - started

        get()  # warm-up: imports and connections of whichever worker answers
        cold, stats_only, warm = [], [], []
        for _ in range(repeat):
            monitoring.monitoring_cache_clear()
            cold.append(get())
            warm.append(get())
            monitoring.monitoring_cache_clear(reports=["queues"])
            stats_only.append(get())
        monitoring.monitoring_cache_clear()
        before_computations = _computations("queues")
        started = time.perf_counter()
        together = run_in_parallel(callers, lambda _: get())
        together_s = time.perf_counter() - started
        computed = _computations("queues") - before_computations
        loads.append(load_average())

    database = markdown_table(
        ["database reads of /jobs/queues + /health/queues", "median ms", "table"],
        [
            [
                "before: TaskRun scans (newest 20,000 per queue and window)",
                f"{before_s * 1000:.1f}",
                f"{runs:,} TaskRun rows",
            ],
            [
                "after: rollups (one statement per window)",
                f"{after_s * 1000:.1f}",
                f"{rollup_rows:,} rollup rows",
            ],
            ["**before ÷ after**", f"**{before_s / after_s:.0f}x**", ""],
        ],
    )
    http = markdown_table(
        ["GET /jobs/queues over gunicorn", "ms", "computations"],
        [
            ["one caller, cache empty (median; asking workers: 2 x 1 s)", f"{median(cold) * 1000:.0f}", "1"],
            ["one caller, statistics expired, worker state cached", f"{median(stats_only) * 1000:.0f}", "1"],
            ["one caller, cache full (median)", f"{median(warm) * 1000:.1f}", "0"],
            [
                f"{callers} callers at once, cache empty: slowest / wall (statistics computed)",
                f"{max(together) * 1000:.0f} / {together_s * 1000:.0f}",
                str(computed),
            ],
        ],
    )
    return (
        f"{runs:,} runs written in {written_s:.1f} s; rolled up in {rebuild_s:.1f} s into {rollup_rows} rows "
        f"(what the migration costs). Load average (1/5/15 min): {'; '.join(loads)}.\n\n"
        f"{database}\n\n{http}\n\n```bash\n{command_line()}\n```"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--callers", type=int, default=12)
    args = parser.parse_args(argv)
    print(run(args.runs, args.repeat, args.callers))


if __name__ == "__main__":
    main()
