"""Job progress and the counters of a job's parallel phase, kept in Redis (docs/ARCHITECTURE.md,
"Progress").

A report is published to the job's WebSocket group at once and written to the ledger, throttled (a stage
change always goes through). Reports from parallel tasks arrive out of order; one Redis script keeps the
highest, so progress never goes down. Without Redis the ledger alone is updated, with the same rule.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from core.redis import (
    enrichment_resent_key,
    get_redis,
    job_balances_key,
    job_holders_ended_key,
    job_holders_plan_key,
    job_holders_reports_key,
    job_holders_window_key,
    job_progress_key,
    job_progress_write_key,
    job_synced_key,
)
from jobs.events import job_event_publish
from jobs.models import Job

logger = logging.getLogger(__name__)

_DAY_S = 24 * 3600


# Keeps the highest report (0: not higher, nothing to do) and decides in the same round trip whether the
# ledger gets it too: always on a stage change (2), else at most once per write interval (2, or 1: skip).
# One script rather than a script and a SET: each round trip is a wait for the GIL in a busy thread pool.
_RAISE_PROGRESS = """
local current = tonumber(redis.call('HGET', KEYS[1], 'p') or '-1')
local stage = redis.call('HGET', KEYS[1], 's')
local wanted = tonumber(ARGV[1])
if wanted < current or (wanted == current and stage == ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'p', ARGV[1], 's', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if stage == ARGV[2] and tonumber(ARGV[4]) > 0 then
  if not redis.call('SET', KEYS[2], 1, 'NX', 'PX', ARGV[4]) then return 1 end
end
return 2
"""


def job_report_progress(
    *, job_id: str, progress: int, stage: str, detail: dict[str, Any] | None = None
) -> None:
    """Publish a progress report at once and write it to the ledger, throttled (stage changes always).

    Reports from parallel tasks arrive out of order; a Redis script keeps the highest one so progress
    never goes down. Without Redis the ledger alone is updated, with the same never-down rule.
    """
    progress = max(0, min(100, int(progress)))
    job_id = str(job_id)
    write_to_ledger = True
    try:
        change = int(
            get_redis().eval(
                _RAISE_PROGRESS,
                2,
                job_progress_key(job_id),
                job_progress_write_key(job_id),
                progress,
                stage,
                _DAY_S,
                settings.PROGRESS_DB_WRITE_INTERVAL_MS,
            )
        )
        if change == 0:
            return
        write_to_ledger = change == 2
        job_event_publish(
            job_id=job_id, event_type="job-progress", progress=progress, stage=stage, detail=detail or {}
        )
    except RedisError:
        logger.warning("progress for job %s kept in the ledger only: Redis unavailable", job_id)
    if write_to_ledger:
        Job.objects.filter(id=job_id, status=Job.Status.RUNNING, progress__lte=progress).update(
            progress=progress, stage=stage, heartbeat_at=timezone.now()
        )


def job_enrichment_resend_claim(*, job_id: str, window_s: int) -> bool:
    """True once per window per job, so the sweep re-sends a lost enrichment at most that often."""
    try:
        return bool(get_redis().set(enrichment_resent_key(job_id), 1, nx=True, ex=window_s))
    except RedisError:
        return False


def job_balances_all_ended(*, job_id: str, attempt: int, wallet_count: int) -> bool:
    """Count one wallet's balances branch as ended; True for exactly one caller: the last of the run.

    Without Redis the count is lost: enrichment then waits for the stalled sweep's pending-enrichment check.
    """
    key = job_balances_key(str(job_id), attempt)
    try:
        client = get_redis()
        pipe = client.pipeline()
        pipe.incr(key)
        pipe.expire(key, _DAY_S)
        return int(pipe.execute()[0]) == wallet_count
    except RedisError:
        logger.warning("balances count of job %s lost: Redis unavailable", job_id)
        return False


def job_progress_units_done(
    *, job_id: str, attempt: int, total_units: int, done_already: int = 0, count: int = 1
) -> int:
    """Count `count` more finished units of a job's parallel phase; returns how many are done."""
    key = job_synced_key(str(job_id), attempt)
    try:
        client = get_redis()
        pipe = client.pipeline()
        pipe.setnx(key, done_already)
        pipe.incrby(key, count)
        pipe.expire(key, _DAY_S)
        return int(pipe.execute()[1])
    except RedisError:
        return min(total_units, done_already)


# --- A holders run's state (jobs.flows.token_holders). Lost with Redis like chord state: the run then stalls
# and the stalled sweep re-drives the job from the ledger. Redis errors propagate: the task retries.


def job_holders_plan_store(*, job_id: str, attempt: int, plan: Mapping[str, Any]) -> None:
    get_redis().set(job_holders_plan_key(str(job_id), attempt), json.dumps(plan), ex=_DAY_S)


def job_holders_plan(*, job_id: str, attempt: int) -> dict[str, Any] | None:
    raw = get_redis().get(job_holders_plan_key(str(job_id), attempt))
    return None if raw is None else dict(json.loads(raw))


def job_holders_reports_store(*, job_id: str, attempt: int, reports: Mapping[str, Mapping[str, Any]]) -> None:
    """Keep each wallet's report (a re-run of a batch overwrites its own wallets, nothing else)."""
    if not reports:
        return
    key = job_holders_reports_key(str(job_id), attempt)
    pipe = get_redis().pipeline()
    pipe.hset(key, mapping={wallet: json.dumps(report) for wallet, report in reports.items()})
    pipe.expire(key, _DAY_S)
    pipe.execute()


def job_holders_reports(*, job_id: str, attempt: int) -> dict[str, dict[str, Any]]:
    stored = get_redis().hgetall(job_holders_reports_key(str(job_id), attempt))
    return {str(wallet): json.loads(report) for wallet, report in stored.items()}


def job_holders_window_claim(*, job_id: str, attempt: int, batch: int) -> bool:
    """True once per batch: the one body run that sends the batch after it (a retried body does not)."""
    key = job_holders_window_key(str(job_id), attempt)
    pipe = get_redis().pipeline()
    pipe.sadd(key, batch)
    pipe.expire(key, _DAY_S)
    return bool(pipe.execute()[0])


def job_holders_batch_ended(*, job_id: str, attempt: int, batch: int, batches: int) -> bool:
    """Count a batch as analysed; True for exactly one caller: the one that ended the run's last batch.

    The add and the count are one transaction, so two batches ending together cannot both see the last."""
    key = job_holders_ended_key(str(job_id), attempt)
    pipe = get_redis().pipeline(transaction=True)
    pipe.sadd(key, batch)
    pipe.scard(key)
    pipe.expire(key, _DAY_S)
    added, ended, _ = pipe.execute()
    return bool(added) and int(ended) == batches


def job_progress_between(*, start: int, end: int, done: int, total: int) -> int:
    if total <= 0:
        return end
    return start + (end - start) * min(done, total) // total
