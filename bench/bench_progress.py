"""Progress-latency benchmark: from a worker's publish to the WebSocket client's receipt.

    .venv/bin/python -m bench.bench_progress [--jobs 5] [--steps 99] [--interval-ms 10] [--queue Q]

A task running on the wallet-operations worker (`bench.publish_progress`; `--queue` picks another)
reports progress for `jobs` running jobs through the application's `job_report_progress` (the Redis
never-down script, the channel layer's group_send, the throttled ledger write), stamping each report's
`detail.sent_at` with the wall clock just before the call. One WebSocket client on daphne, subscribed to
those jobs, takes the difference on receipt. Same machine, same clock. Measured twice: on an idle stack,
and while two 10-wallet similarity flows run (upstream latency 50 ms), which keeps the worker, daphne,
Redis and PostgreSQL busy.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Sequence
from typing import Any

from bench.harness import (
    Harness,
    WalletPool,
    command_line,
    load_average,
    markdown_table,
    percentile,
    wallet_worker_split,
)


def _running_jobs(bench: Harness, count: int) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from core.queues import SIMILARITY_QUEUE
    from jobs.models import Job

    owner = get_user_model().objects.get(username=bench.user.username)
    now = timezone.now()
    return [
        str(
            Job.objects.create(
                kind=Job.Kind.SIMILARITY,
                owner=owner,
                params={"wallets": [], "options": {"bench": "progress"}},
                dedup_key=uuid.uuid4().hex,
                status=Job.Status.RUNNING,
                queue=SIMILARITY_QUEUE,
                started_at=now,
                heartbeat_at=now,
            ).id
        )
        for _ in range(count)
    ]


def _measure(
    bench: Harness, *, jobs: int, steps: int, interval_ms: int, queue: str
) -> tuple[list[float], int]:
    from config.celery import app as celery_app
    from tests.support.ws import JobSocket

    job_ids = _running_jobs(bench, jobs)
    expected = jobs * steps
    latencies: list[float] = []
    with JobSocket(bench.stack.ws_url, token=bench.user.token) as socket:
        for job_id in job_ids:
            socket.subscribe(job_id)
        celery_app.send_task(
            "bench.publish_progress",
            kwargs={"job_ids": job_ids, "steps": steps, "interval_s": interval_ms / 1000},
            queue=queue,
        )
        deadline = time.monotonic() + 60 + expected * interval_ms / 1000 * 3
        while len(latencies) < expected and time.monotonic() < deadline:
            try:
                event: dict[str, Any] = socket.next_event(max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            received = time.time()
            sent_at = (event.get("detail") or {}).get("sent_at")
            if event.get("type") == "job-progress" and event.get("job_id") in job_ids and sent_at:
                latencies.append(received - float(sent_at))
    return latencies, expected


def run(*, jobs: int, steps: int, interval_ms: int, queue: str, wallet_processes: int | None = None) -> str:
    from core.redis import SIMULATED_LATENCY_KEY

    rows = []
    with Harness("progress", env={"SIMULATED_LATENCY_MS": "0"}) as bench:
        bench.start(**(wallet_worker_split(wallet_processes) if wallet_processes else {}))
        _measure(bench, jobs=1, steps=20, interval_ms=interval_ms, queue=queue)  # warm-up
        for scenario in ("idle stack", "two 10-wallet flows running"):
            load = load_average()
            if scenario != "idle stack":
                bench.redis_client().set(SIMULATED_LATENCY_KEY, 50)
                pool = WalletPool()
                for _ in range(2):
                    bench.submit_similarity(pool.take(10))
                time.sleep(1.0)  # the flows are syncing
            latencies, expected = _measure(
                bench, jobs=jobs, steps=steps, interval_ms=interval_ms, queue=queue
            )
            ms = [x * 1000 for x in latencies]
            rows.append(
                [
                    scenario,
                    f"{len(ms)} / {expected}",
                    f"{percentile(ms, 50):.1f}",
                    f"{percentile(ms, 90):.1f}",
                    f"**{percentile(ms, 99):.1f}**",
                    f"{max(ms):.1f}" if ms else "-",
                    f"{load} → {load_average()}",
                ]
            )
        publish = _publish_cost(bench)
    table = markdown_table(
        [
            "scenario",
            "received / published",
            "p50 ms",
            "p90 ms",
            "p99 ms (target < 50)",
            "max ms",
            "load avg",
        ],
        rows,
    )
    return (
        f"{jobs} jobs x {steps} reports, one every {interval_ms} ms, published from `{queue}`."
        f"\n\n{table}\n\n{publish}\n\n```bash\n{command_line()}\n```"
    )


def _publish_cost(bench: Harness, count: int = 200) -> str:
    """The publish call alone, in this (idle) process, and the Redis connections it opens."""
    from jobs.events import job_event_publish

    redis = bench.redis_client()
    before = int(redis.info("stats")["total_connections_received"])
    seconds = []
    for _ in range(count):
        start = time.perf_counter()
        job_event_publish(job_id="bench", event_type="job-progress", progress=1, stage="bench", detail={})
        seconds.append(time.perf_counter() - start)
    opened = int(redis.info("stats")["total_connections_received"]) - before
    return (
        f"`job_event_publish` alone, {count} calls in the benchmark process: p50 "
        f"{percentile(seconds, 50) * 1000:.2f} ms, p99 {percentile(seconds, 99) * 1000:.2f} ms; Redis "
        f"connections opened: {opened} ({opened / count:.2f} per publish)."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=99, help="reports per job (progress 1..steps, ≤ 99)")
    parser.add_argument("--interval-ms", type=int, default=10)
    parser.add_argument("--queue", default="wallet-operations", help="the worker that publishes")
    parser.add_argument(
        "--wallet-processes",
        type=int,
        default=None,
        help="wallet-worker processes sharing the queue's 8 threads (default: the deployment's, 2)",
    )
    args = parser.parse_args(argv)
    print(
        run(
            jobs=args.jobs,
            steps=min(args.steps, 99),
            interval_ms=args.interval_ms,
            queue=args.queue,
            wallet_processes=args.wallet_processes,
        )
    )


if __name__ == "__main__":
    main()
