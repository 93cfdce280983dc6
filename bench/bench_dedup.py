"""Dedup under load: 200 concurrent identical submissions, and the executions they cause.

    .venv/bin/python -m bench.bench_dedup [--submissions 200] [--wallets 5]

Wave 1: `submissions` threads, released together by a barrier, each POST the same never-synced wallets
(upstream latency 50 ms, so the job is still running while they arrive). Wave 2: the same once the job has
completed (a completed job younger than JOB_RESULT_FRESHNESS answers). Counted from the ledger: jobs with
the request's dedup key, executions of the flow's start and body tasks (TaskRun rows), syncs per wallet.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from collections.abc import Sequence
from functools import partial

import requests

from bench.harness import (
    Harness,
    WalletPool,
    command_line,
    load_average,
    markdown_table,
    percentile,
)
from tests.support.stack import wait_for


def _wave(
    bench: Harness, wallets: list[str], submissions: int
) -> tuple[Counter[int], set[str], list[float], float]:
    barrier = threading.Barrier(submissions)
    statuses: Counter[int] = Counter()
    job_ids: set[str] = set()
    latencies: list[float] = []
    lock = threading.Lock()

    def submit() -> None:
        barrier.wait()
        start = time.perf_counter()
        try:
            response = requests.post(
                f"{bench.base_url}/jobs/similarity/analyze",
                json={"wallets": wallets},
                headers=bench.user.headers,
                timeout=120,
            )
            status, job_id = response.status_code, response.json().get("job_id")
        except (requests.RequestException, ValueError):
            status, job_id = -1, None
        elapsed = time.perf_counter() - start
        with lock:
            statuses[status] += 1
            latencies.append(elapsed)
            if job_id:
                job_ids.add(str(job_id))

    threads = [threading.Thread(target=submit) for _ in range(submissions)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, job_ids, latencies, time.perf_counter() - start


def _all_ended(job_ids: set[str]) -> bool:
    from jobs.models import Job

    return not Job.objects.filter(id__in=job_ids, status__in=Job.ACTIVE_STATUSES).exists()


def run(*, submissions: int, wallet_count: int) -> str:
    from core.redis import SIMULATED_LATENCY_KEY

    with Harness("dedup", env={"SIMULATED_LATENCY_MS": "0"}) as bench:
        bench.start()
        from jobs.models import Job, TaskRun
        from wallets.models import Wallet

        pool = WalletPool()
        bench.submit_similarity(pool.take(3))  # warm-up of every process
        bench.redis_client().set(SIMULATED_LATENCY_KEY, 50)
        wallets = pool.take(wallet_count)
        rows = []
        all_ids: set[str] = set()
        for wave in ("1: no job yet", "2: after the job completed"):
            load = load_average()
            statuses, job_ids, latencies, seconds = _wave(bench, wallets, submissions)
            all_ids |= job_ids
            wait_for(partial(_all_ended, job_ids), timeout_s=180, interval_s=0.2, what="the job to end")
            rows.append(
                [
                    wave,
                    ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items())),
                    len(job_ids),
                    f"{seconds:.2f}",
                    f"{percentile(latencies, 50) * 1000:.0f} / {percentile(latencies, 99) * 1000:.0f}",
                    load,
                ]
            )
        dedup_keys = set(Job.objects.filter(id__in=all_ids).values_list("dedup_key", flat=True))
        jobs = Job.objects.filter(dedup_key__in=dedup_keys)
        statuses_of_jobs = Counter(jobs.values_list("status", flat=True))
        runs = Counter(
            TaskRun.objects.filter(job_id__in=jobs.values("id")).values_list("task_name", flat=True)
        )
        syncs = sorted(Wallet.objects.filter(address__in=wallets).values_list("sync_count", flat=True))

    table = markdown_table(
        ["wave", "HTTP answers", "distinct job ids", "wall s", "p50 / p99 ms", "load avg"], rows
    )
    counts = markdown_table(
        ["counted after both waves", "value"],
        [
            [
                "ledger rows with this dedup key",
                f"{sum(statuses_of_jobs.values())} ({dict(statuses_of_jobs)})",
            ],
            ["executions of `jobs.similarity_flow` (TaskRun rows)", runs.get("jobs.similarity_flow", 0)],
            ["executions of `jobs.similarity_finish`", runs.get("jobs.similarity_finish", 0)],
            ["executions of `jobs.similarity_sync_wallet`", runs.get("jobs.similarity_sync_wallet", 0)],
            [f"syncs per wallet ({wallet_count} wallets)", ", ".join(str(n) for n in syncs)],
        ],
    )
    return (
        f"{submissions} concurrent identical submissions of {wallet_count} wallets per wave.\n\n{table}\n\n"
        f"{counts}\n\n```bash\n{command_line()}\n```"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--wallets", type=int, default=5)
    args = parser.parse_args(argv)
    print(run(submissions=args.submissions, wallet_count=args.wallets))


if __name__ == "__main__":
    main()
