"""Queue statistics and health (README, Guarantees and operations): what operators and monitoring systems
read.

Numbers come from three places: the broker (waiting messages and the age of the oldest), the workers
(`inspect`: which queues each consumes, what is active) and the task-run rollups (completions, failures,
processing times per queue and minute, `jobs/task_runs.py`), which cost the same however many tasks ran.
Each report (health, queue statistics, metrics, worker state) is computed at most once per HEALTH_CACHE_S by
one caller of every process together (`core.single_flight`); the others wait for its answer. Nothing here
carries user data; who may read it is decided by `core.monitoring_access`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from config.celery import app as celery_app
from core.metrics import metric_counters
from core.queues import PRIORITY_STEPS, QUEUES
from core.single_flight import single_flight, single_flight_forget
from jobs.models import DeadLetter, Job, TaskRun, TaskRunRollup
from jobs.runtime_histogram import RunTotals, histogram_percentile_ms

SENT_AT_HEADER = "sent_at"
REPORTS = ["health", "queues", "workers", "metrics"]


def _report(name: str, compute: Any) -> Any:
    return single_flight(
        name=name, period_s=settings.HEALTH_CACHE_S, compute=compute, client=_monitoring_redis()
    )


def monitoring_cache_clear(*, reports: Sequence[str] = REPORTS) -> None:
    """Forget the cached reports: the next caller of each computes it."""
    single_flight_forget(names=list(reports), client=_monitoring_redis())


def broker_lists(queue: str) -> list[str]:
    """The Redis lists holding a queue's messages: one per priority step (kombu's naming)."""
    return [queue if step == 0 else f"{queue}:{step}" for step in PRIORITY_STEPS]


def _monitoring_redis() -> redis.Redis:
    return _redis_client(settings.REDIS_URL)


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    # Short timeouts: a health check that hangs on a dead Redis is worse than no health check.
    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True)


def _oldest_sent_at(client: Any, lists: Iterable[str]) -> float | None:
    oldest: float | None = None
    for name in lists:
        raw = client.lindex(name, -1)  # kombu pushes on the left and pops on the right: the tail is oldest
        if not raw:
            continue
        try:
            sent_at = float(json.loads(raw).get("headers", {}).get(SENT_AT_HEADER))
        except (TypeError, ValueError):
            continue
        oldest = sent_at if oldest is None else min(oldest, sent_at)
    return oldest


def broker_queue_state(client: Any, queue: str) -> dict[str, Any]:
    lists = broker_lists(queue)
    pipe = client.pipeline()
    for name in lists:
        pipe.llen(name)
    waiting = sum(int(n) for n in pipe.execute())
    oldest = _oldest_sent_at(client, lists) if waiting else None
    return {"waiting": waiting, "oldest_waiting_age_s": round(time.time() - oldest, 3) if oldest else None}


def worker_state() -> dict[str, Any]:
    """Which workers consume which queue and what they run now; cached, since inspect takes up to 1 s."""

    def compute() -> dict[str, Any]:
        inspector = celery_app.control.inspect(timeout=1.0)
        queues = inspector.active_queues() or {}
        active = inspector.active() or {}
        consumers: dict[str, list[str]] = {name: [] for name in QUEUES}
        running: dict[str, int] = dict.fromkeys(QUEUES, 0)
        for worker, worker_queues in queues.items():
            for queue in worker_queues:
                consumers.setdefault(queue["name"], []).append(worker)
        for tasks in active.values():
            for task in tasks:
                routing_key = (task.get("delivery_info") or {}).get("routing_key")
                if routing_key in running:
                    running[routing_key] += 1
        return {"consumers": consumers, "active": running}

    state: dict[str, Any] = _report("workers", compute)
    return state


def last_hour_start(now: datetime) -> datetime:
    """The start of "the last hour": whole minutes, the current one and the 59 before it."""
    return now.replace(second=0, microsecond=0) - timedelta(minutes=59)


def _run_totals(*, since: datetime | None) -> dict[str, dict[str, RunTotals]]:
    """Runs that ended, per queue and state, from the rollups: since a minute, or since they began (None).
    One statement, reading O(queues x minutes x buckets) rows."""
    rows = TaskRunRollup.objects.filter(
        Q(minute=TaskRunRollup.ALL_TIME) if since is None else Q(minute__gte=since)
    )
    totals: dict[str, dict[str, RunTotals]] = {}
    for row in rows.values("queue", "state", "bucket").annotate(runs=Sum("runs"), ms=Sum("runtime_ms_sum")):
        by_state = totals.setdefault(row["queue"], {})
        by_state.setdefault(row["state"], RunTotals()).add(
            bucket=row["bucket"], runs=row["runs"], runtime_ms_sum=row["ms"]
        )
    return totals


def _runtime_stats(by_state: dict[str, RunTotals]) -> dict[str, Any]:
    succeeded = by_state.get(TaskRun.State.SUCCEEDED, RunTotals())
    completed = succeeded.runs
    failed = by_state.get(TaskRun.State.FAILED, RunTotals()).runs
    ended = completed + failed
    return {
        "completed": completed,
        "failed": failed,
        "retried": by_state.get(TaskRun.State.RETRIED, RunTotals()).runs,
        "mean_ms": round(succeeded.runtime_ms_sum / succeeded.timed_runs, 1)
        if succeeded.timed_runs
        else None,
        "p95_ms": histogram_percentile_ms(succeeded.histogram, 0.95),
        "success_rate": round(completed / ended, 4) if ended else None,
    }


def _dead_letters_last_hour(now: datetime) -> dict[str, int]:
    recent = DeadLetter.objects.filter(created_at__gte=now - timedelta(hours=1))
    return dict(recent.values("queue").annotate(n=Count("id")).values_list("queue", "n"))


def queues_report() -> list[dict[str, Any]]:
    """Every queue's waiting, active, completed and failed counts, mean and p95 processing time (p95 to
    within 9 %, `jobs/runtime_histogram.py`) and success rate, over the last hour and since the rollups
    began."""

    def compute() -> list[dict[str, Any]]:
        now = timezone.now()
        last_hour, since_start = _run_totals(since=last_hour_start(now)), _run_totals(since=None)
        dead_letters = _dead_letters_last_hour(now)
        client = _monitoring_redis()
        workers = worker_state()
        report = []
        for queue in QUEUES:
            state = broker_queue_state(client, queue)
            report.append(
                {
                    "queue": queue,
                    "waiting": state["waiting"],
                    "oldest_waiting_age_s": state["oldest_waiting_age_s"],
                    "active": workers["active"].get(queue, 0),
                    "consuming_workers": len(workers["consumers"].get(queue, [])),
                    "last_hour": _runtime_stats(last_hour.get(queue, {})),
                    "since_start": _runtime_stats(since_start.get(queue, {})),
                    "dead_letters_last_hour": dead_letters.get(queue, 0),
                }
            )
        return report

    report: list[dict[str, Any]] = _report("queues", compute)
    return report


def queue_statistics(queue: str) -> dict[str, Any]:
    """One queue's entry of `queues_report`."""
    return next(stats for stats in queues_report() if stats["queue"] == queue)


def _check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "round_trip_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure instead of raising it
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def _check_redis(client: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        client.ping()
        return {"ok": True, "round_trip_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure instead of raising it
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def health_report() -> dict[str, Any]:
    """`healthy`, `degraded` or `unhealthy`, by these rules:

    - unhealthy: Redis or the database does not answer (nothing can be queued or recorded);
    - degraded: a queue has no consuming worker, or messages wait longer than QUEUE_STUCK_AFTER_S while
      nothing of that queue is active (a worker that looks connected but does not consume), or more than
      half of a queue's tasks failed in the last hour (with at least 10 ended);
    - healthy otherwise.
    """

    def compute() -> dict[str, Any]:
        client = _monitoring_redis()
        redis_check, database_check = _check_redis(client), _check_database()
        report: dict[str, Any] = {
            "redis": redis_check,
            "database": database_check,
            "queues": {},
            "problems": [],
        }
        if not redis_check["ok"] or not database_check["ok"]:
            report["status"] = "unhealthy"
            report["problems"] += [
                f"{name} unavailable" for name in ("redis", "database") if not report[name]["ok"]
            ]
            return report
        workers = worker_state()
        now = timezone.now()
        last_hour, dead_letters = _run_totals(since=last_hour_start(now)), _dead_letters_last_hour(now)
        for queue in QUEUES:
            state = broker_queue_state(client, queue)
            consumers = workers["consumers"].get(queue, [])
            active = workers["active"].get(queue, 0)
            runs = last_hour.get(queue, {})
            failed = runs.get(TaskRun.State.FAILED, RunTotals()).runs + dead_letters.get(queue, 0)
            ended = sum(totals.runs for totals in runs.values())
            report["queues"][queue] = {
                **state,
                "active": active,
                "consuming_workers": len(consumers),
                "workers": sorted(consumers),
                "failures_last_hour": failed,
            }
            age = state["oldest_waiting_age_s"]
            if not consumers:
                report["problems"].append(f"{queue}: no consuming worker")
            elif age is not None and age > settings.QUEUE_STUCK_AFTER_S and active == 0:
                report["problems"].append(f"{queue}: messages waiting {age:.0f}s with nothing active")
            if ended >= 10 and failed / ended > 0.5:
                report["problems"].append(f"{queue}: {failed} of {ended} tasks failed in the last hour")
        report["status"] = "degraded" if report["problems"] else "healthy"
        return report

    report: dict[str, Any] = _report("health", compute)
    return report


class _Collector:
    """Reads everything at scrape time: shared counters from Redis, the ledger and the broker."""

    def collect(self) -> Iterator[Metric]:
        counters: dict[str, CounterMetricFamily] = {}
        for name, labels, value in metric_counters():
            if name == "websocket_connections":
                gauge = GaugeMetricFamily("websocket_connections", "Open WebSocket connections")
                gauge.add_metric([], max(0, value))
                yield gauge
                continue
            family = counters.get(name)
            if family is None:
                family = counters[name] = CounterMetricFamily(
                    name.removesuffix("_total"), _HELP.get(name, name), labels=sorted(labels)
                )
            family.add_metric([labels[key] for key in sorted(labels)], value)
        yield from counters.values()

        jobs = GaugeMetricFamily("jobs", "Jobs in the ledger by kind and status", labels=["kind", "status"])
        for kind, status, count in (
            Job.objects.values_list("kind", "status").annotate(n=Count("id")).order_by()
        ):
            jobs.add_metric([kind, status], count)
        yield jobs

        last_hour = _run_totals(since=last_hour_start(timezone.now()))
        duration = GaugeMetricFamily(
            "task_duration_seconds", "Task run time over the last hour", labels=["queue", "quantile"]
        )
        runs = GaugeMetricFamily(
            "task_runs_last_hour", "Task runs ended in the last hour", labels=["queue", "state"]
        )
        client = _monitoring_redis()
        depth = GaugeMetricFamily("queue_depth", "Messages waiting in the broker", labels=["queue"])
        for queue in QUEUES:
            stats = _runtime_stats(last_hour.get(queue, {}))
            for quantile, key in (("mean", "mean_ms"), ("0.95", "p95_ms")):
                if stats[key] is not None:
                    duration.add_metric([queue, quantile], stats[key] / 1000)
            for state in ("completed", "failed", "retried"):
                runs.add_metric([queue, state], stats[state])
            depth.add_metric([queue], broker_queue_state(client, queue)["waiting"])
        yield from (duration, runs, depth)


_HELP = {
    "upstream_calls_total": "Calls to upstream APIs",
    "upstream_errors_total": "Upstream calls that failed, by kind (HTTP status or network)",
    "upstream_retries_total": "Upstream answers retried by the HTTP client",
    "upstream_rate_limited_total": "HTTP 429 answers from upstream APIs",
    "cache_requests_total": "Cache lookups by cache and result (hit or miss)",
}


def prometheus_text() -> str:
    """Every metric in the Prometheus text format."""

    def compute() -> str:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector())
        return bytes(generate_latest(registry)).decode()

    text: str = _report("metrics", compute)
    return text
