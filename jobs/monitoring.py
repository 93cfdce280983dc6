"""Queue statistics and health (SPEC §7): what operators and monitoring systems read.

Numbers come from three places: the broker (waiting messages and the age of the oldest), the workers
(`inspect`: which queues each consumes, what is active) and the `TaskRun` ledger (completions, failures,
processing times). Nothing here carries user data.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from config.celery import app as celery_app
from core.metrics import metric_counters
from core.queues import PRIORITY_STEPS, QUEUES
from jobs.models import DeadLetter, Job, TaskRun

SENT_AT_HEADER = "sent_at"
_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, Any]] = {}


def _cached(key: str, ttl_s: float, compute: Any) -> Any:
    """A per-process cache: health must answer even when Redis (the shared cache) is down."""
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < ttl_s:
            return hit[1]
    value = compute()
    with _cache_lock:
        _cache[key] = (now, value)
    return value


def broker_lists(queue: str) -> list[str]:
    """The Redis lists holding a queue's messages: one per priority step (kombu's naming)."""
    return [queue if step == 0 else f"{queue}:{step}" for step in PRIORITY_STEPS]


def _monitoring_redis() -> Any:
    import redis

    # Short timeouts: a health check that hangs on a dead Redis is worse than no health check.
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True
    )


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

    state: dict[str, Any] = _cached("workers", settings.HEALTH_CACHE_S, compute)
    return state


def _runtime_stats(runs: list[tuple[str, int | None]]) -> dict[str, Any]:
    completed = sum(1 for state, _ in runs if state == TaskRun.State.SUCCEEDED)
    failed = sum(1 for state, _ in runs if state == TaskRun.State.FAILED)
    times = sorted(ms for state, ms in runs if ms is not None and state == TaskRun.State.SUCCEEDED)
    ended = completed + failed
    return {
        "completed": completed,
        "failed": failed,
        "retried": sum(1 for state, _ in runs if state == TaskRun.State.RETRIED),
        "mean_ms": round(statistics.fmean(times), 1) if times else None,
        "p95_ms": times[min(len(times) - 1, int(0.95 * len(times)))] if times else None,
        "success_rate": round(completed / ended, 4) if ended else None,
    }


def queue_statistics(queue: str) -> dict[str, Any]:
    """Waiting, active, completed and failed counts, mean and p95 processing time, success rate."""
    since_hour = timezone.now() - timedelta(hours=1)
    runs = TaskRun.objects.filter(queue=queue, finished_at__isnull=False).order_by("-started_at")
    recent = list(runs.filter(started_at__gte=since_hour).values_list("state", "runtime_ms")[:20_000])
    overall = list(runs.values_list("state", "runtime_ms")[:20_000])
    state = broker_queue_state(_monitoring_redis(), queue)
    workers = worker_state()
    return {
        "queue": queue,
        "waiting": state["waiting"],
        "oldest_waiting_age_s": state["oldest_waiting_age_s"],
        "active": workers["active"].get(queue, 0),
        "consuming_workers": len(workers["consumers"].get(queue, [])),
        "last_hour": _runtime_stats(recent),
        "since_start": _runtime_stats(overall),
        "dead_letters_last_hour": DeadLetter.objects.filter(queue=queue, created_at__gte=since_hour).count(),
    }


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
        since_hour = timezone.now() - timedelta(hours=1)
        for queue in QUEUES:
            state = broker_queue_state(client, queue)
            consumers = workers["consumers"].get(queue, [])
            active = workers["active"].get(queue, 0)
            failures = TaskRun.objects.filter(
                queue=queue, state=TaskRun.State.FAILED, started_at__gte=since_hour
            )
            failed = (
                failures.count() + DeadLetter.objects.filter(queue=queue, created_at__gte=since_hour).count()
            )
            ended = TaskRun.objects.filter(queue=queue, finished_at__gte=since_hour).count()
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

    report: dict[str, Any] = _cached("health", settings.HEALTH_CACHE_S, compute)
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

        since_hour = timezone.now() - timedelta(hours=1)
        duration = GaugeMetricFamily(
            "task_duration_seconds", "Task run time over the last hour", labels=["queue", "quantile"]
        )
        runs = GaugeMetricFamily(
            "task_runs_last_hour", "Task runs ended in the last hour", labels=["queue", "state"]
        )
        client = _monitoring_redis()
        depth = GaugeMetricFamily("queue_depth", "Messages waiting in the broker", labels=["queue"])
        for queue in QUEUES:
            finished = TaskRun.objects.filter(queue=queue, finished_at__gte=since_hour)
            stats = _runtime_stats(list(finished.values_list("state", "runtime_ms")[:20_000]))
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


def prometheus_text() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return bytes(generate_latest(registry))
