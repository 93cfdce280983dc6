"""Tasks that exist only in the benchmark stack; workers import them through `bench.settings`.

Plain Celery, for the task-overhead baseline: `bench.noop_start` mirrors the shape of a similarity job on
fresh wallets (a start task on the similarity queue, a chord of one header task on the wallet queue that
fires one task on the enrichment queue, a body on the similarity queue) with none of our machinery: no
ledger, no progress, no locks, and no TaskRun rows (`jobs.signals` records every other task as usual).

`bench.publish_progress` publishes progress reports from inside a worker, through the application's own
`job_report_progress`, stamping each with the wall-clock time it was published.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Task, chord, shared_task
from celery.signals import task_postrun, task_prerun

from core.queues import ENRICHMENT_QUEUE, SIMILARITY_QUEUE, WALLET_QUEUE, Priority, transport_priority
from core.redis import get_redis
from jobs import signals as job_signals

PRIORITY = transport_priority(Priority.HIGH)  # what similarity jobs are sent with


def noop_done_key(run: str) -> str:
    return f"bench:noop:done:{run}"


def _ours(task: Task) -> bool:
    return not str(task.name).startswith("bench.")


task_prerun.disconnect(job_signals.record_task_start)
task_postrun.disconnect(job_signals.record_task_end)


@task_prerun.connect
def record_task_start_unless_bench(task_id: str, task: Task, **kwargs: Any) -> None:
    if _ours(task):
        job_signals.record_task_start(task_id=task_id, task=task, **kwargs)


@task_postrun.connect
def record_task_end_unless_bench(task_id: str, task: Task, **kwargs: Any) -> None:
    if _ours(task):
        job_signals.record_task_end(task_id=task_id, task=task, **kwargs)


@shared_task(name="bench.noop")
def noop(*args: Any, **kwargs: Any) -> None:
    return None


@shared_task(name="bench.noop_start")
def noop_start(*, run: str) -> None:
    header = [noop_header.si().set(queue=WALLET_QUEUE, priority=PRIORITY)]
    chord(header)(noop_done.s(run=run).set(queue=SIMILARITY_QUEUE, priority=PRIORITY))


@shared_task(name="bench.noop_header")
def noop_header() -> dict[str, Any]:
    noop.apply_async(queue=ENRICHMENT_QUEUE, priority=PRIORITY)
    return {"ok": True}


@shared_task(name="bench.noop_done")
def noop_done(results: list[Any], *, run: str) -> None:
    get_redis().incr(noop_done_key(run))


@shared_task(name="bench.publish_progress")
def publish_progress(*, job_ids: list[str], steps: int, interval_s: float) -> int:
    from jobs.progress import job_report_progress

    sent = 0
    for step in range(1, steps + 1):
        for job_id in job_ids:
            job_report_progress(
                job_id=job_id, progress=step, stage="bench", detail={"sent_at": time.time(), "step": step}
            )
            sent += 1
            time.sleep(interval_s)
    return sent
