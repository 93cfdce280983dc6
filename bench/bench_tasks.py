"""Task-overhead benchmark: jobs per second through the job machinery against plain Celery tasks of the
same shape on the same workers.

    .venv/bin/python -m bench.bench_tasks [--jobs 100] [--rounds 2] [--refetch-balances] [--db-reuse-max N]

- machinery: similarity jobs of the same two small wallets, synced beforehand, each with a different
  `co_trade_window_s` option (so none is deduplicated), submitted with `job_submit_similarity` and
  counted when the ledger says completed. The wallets are fresh and their balances were fetched within
  30 s, so each job is its start task on similarity-operations (claim, progress, the body: PnL/behaviour
  summaries, similarity, completion) plus the enrichment task on enrichment-operations; TaskRun rows for
  every task. With `--refetch-balances` the workers run with BALANCE_REUSE_S=0, so each job has the full
  shape: the start task, a chord of two balances tasks on wallet-operations (upstream
  latency 0), the last of which fires the enrichment task, and the body on similarity-operations.
- plain Celery: `bench.noop_start` from `bench.celery_tasks`, the same messages on the same queues (start,
  chord of one header task that sends one enrichment-queue task, body) with no work, no ledger, no
  progress, no TaskRun rows; counted by a Redis counter the body increments.

`--db-reuse-max N` is an experiment: it sets CELERY_DB_REUSE_MAX in the workers (bench.settings), so
Celery's Django fixup stops closing the database connection around every task.

Rounds alternate (machinery, plain, machinery, plain); between rounds the enrichment queue drains. CPU per
job is read from /proc for each worker's process tree, PostgreSQL's backends and Redis.
"""

from __future__ import annotations

import argparse
import itertools
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.harness import (
    Harness,
    WalletPool,
    command_line,
    cpu_seconds,
    load_average,
    markdown_table,
    postmaster_pid,
    process_tree,
)
from tests.support.stack import wait_for

MACHINERY = "machinery (similarity jobs)"
PLAIN = "plain Celery (bench.noop_start)"


@dataclass
class Round:
    jobs: int = 0
    seconds: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)
    loads: list[str] = field(default_factory=list)


def _cpu_snapshot(bench: Harness) -> dict[str, float]:
    snapshot = {
        queue: cpu_seconds(process_tree(process.pid))
        for queue, process in bench.stack.processes.items()
        if queue.endswith("-operations")
    }
    snapshot["postgres"] = cpu_seconds(process_tree(postmaster_pid(bench.postgres)))
    assert bench.redis.process is not None
    snapshot["redis"] = cpu_seconds([bench.redis.process.pid])
    return snapshot


def _measure(
    bench: Harness, name: str, jobs: int, go: Callable[[int], None], rounds: dict[str, Round]
) -> None:
    before = _cpu_snapshot(bench)
    load = load_average()
    start = time.perf_counter()
    go(jobs)
    seconds = time.perf_counter() - start
    after = _cpu_snapshot(bench)
    result = rounds.setdefault(name, Round())
    result.jobs += jobs
    result.seconds += seconds
    for key in after:
        result.cpu_s[key] = result.cpu_s.get(key, 0.0) + after[key] - before.get(key, 0.0)
    result.loads.append(load)


def run(*, jobs: int, rounds: int, db_reuse_max: int, refetch_balances: bool = False) -> str:
    env = {"SIMULATED_LATENCY_MS": "0", "BALANCE_REUSE_S": "0" if refetch_balances else "30"}
    if db_reuse_max:
        env["BENCH_CELERY_DB_REUSE_MAX"] = str(db_reuse_max)
    with Harness("tasks", env=env) as bench:
        bench.start(web=False)
        from django.contrib.auth import get_user_model

        from analysis.services import analysis_prefetch_sol_usd
        from bench.celery_tasks import PRIORITY, noop_done_key
        from config.celery import app as celery_app
        from core.queues import SIMILARITY_QUEUE
        from jobs.models import Job
        from jobs.services import job_submit_similarity
        from wallets.services import wallet_sync

        owner = get_user_model().objects.get(username=bench.user.username)
        pool = WalletPool()
        wallets = sorted(pool.take(40), key=pool.market.history_length)[:2]
        for wallet in wallets:
            # As a sync step of any flow leaves them: synced, with the SOL/USD history of their trades.
            wallet_sync(address=wallet)
            analysis_prefetch_sol_usd(address=wallet)
        redis = bench.redis_client()

        distinct = itertools.count(1)

        def submit() -> Any:
            # A different (valid) option value per job makes each one a new job, not a deduplicated one.
            return job_submit_similarity(
                owner=owner, wallets=wallets, options={"co_trade_window_s": next(distinct)}
            ).job.id

        def machinery(count: int) -> None:
            ids = [submit() for _ in range(count)]
            wait_for(
                lambda: Job.objects.filter(id__in=ids, status=Job.Status.COMPLETED).count() == count,
                timeout_s=600,
                interval_s=0.05,
                what="jobs to complete",
            )
            failed = Job.objects.filter(id__in=ids).exclude(status=Job.Status.COMPLETED).count()
            if failed:
                raise RuntimeError(f"{failed} jobs did not complete")

        def plain(count: int) -> None:
            run_id = uuid.uuid4().hex
            for _ in range(count):
                celery_app.send_task(
                    "bench.noop_start", kwargs={"run": run_id}, queue=SIMILARITY_QUEUE, priority=PRIORITY
                )
            wait_for(
                lambda: int(redis.get(noop_done_key(run_id)) or 0) >= count,
                timeout_s=600,
                interval_s=0.02,
                what="no-op flows to finish",
            )

        def enrichment_drained() -> bool:
            return not Job.objects.filter(result__enrichment__status="pending").exists()

        machinery(5)  # warm-up: imports, connections, caches of every worker
        plain(5)
        wait_for(enrichment_drained, timeout_s=120, what="enrichment to drain")

        results: dict[str, Round] = {}
        for _ in range(rounds):
            _measure(bench, MACHINERY, jobs, machinery, results)
            wait_for(enrichment_drained, timeout_s=300, what="enrichment to drain")
            time.sleep(1)
            _measure(bench, PLAIN, jobs, plain, results)
            time.sleep(1)

    machinery_rate = results[MACHINERY].jobs / results[MACHINERY].seconds
    plain_rate = results[PLAIN].jobs / results[PLAIN].seconds
    cpu_keys = sorted(results[MACHINERY].cpu_s)
    rows = [
        [
            name,
            r.jobs,
            f"{r.seconds:.1f}",
            f"{r.jobs / r.seconds:.1f}",
            *[f"{r.cpu_s.get(key, 0.0) / r.jobs * 1000:.1f}" for key in cpu_keys],
            ", ".join(r.loads),
        ]
        for name, r in results.items()
    ]
    table = markdown_table(
        ["variant", "jobs", "s", "jobs/s", *[f"CPU ms/job: {key}" for key in cpu_keys], "load avg"],
        rows,
    )
    return (
        f"{table}\n\n**machinery ÷ plain Celery throughput: {machinery_rate / plain_rate:.2f}x** "
        f"(target ≥ 0.5x)\n\n```bash\n{command_line()}\n```"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100, help="jobs per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--db-reuse-max", type=int, default=0, help="experiment: CELERY_DB_REUSE_MAX")
    parser.add_argument(
        "--refetch-balances", action="store_true", help="drop the cached balances before every job"
    )
    args = parser.parse_args(argv)
    print(
        run(
            jobs=args.jobs,
            rounds=args.rounds,
            db_reuse_max=args.db_reuse_max,
            refetch_balances=args.refetch_balances,
        )
    )


if __name__ == "__main__":
    main()
