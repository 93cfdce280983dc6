"""The shared Redis client and every key the application writes itself, documented in one place.

Celery (broker `<queue>` lists, `_kombu.*`, `unacked*`; results `celery-task-meta-*`), the Django cache
(`cache:*`) and the channel layer (`asgi*`) keep their own prefixes in the same database.

| key | holds | lifetime |
|---|---|---|
| `balance:{wallet}` | the wallet's latest balances (JSON) | 30 s |
| `enrich:{job_id}` | a job's enriched balances (JSON) | 300 s |
| `lock:wallet:sync:{wallet}` | token of the task syncing the wallet | renewed while syncing, 60 s |
| `lock:wallet:history:{wallet}` | token of the task deepening the wallet | renewed at every page, 60 s |
| `wallet:history-queued:{wallet}` | the wallet's deepening is queued or running | 10 min, renewed per page |
| `job:progress:{job_id}` | highest progress published for the job | 1 day |
| `job:progress-write:{job_id}` | throttle for progress writes to the ledger | PROGRESS_DB_WRITE_INTERVAL_MS |
| `job:synced:{job_id}:{attempt}` | units of the job's parallel phase that ended, per run | 1 day |
| `job:balances:{job_id}:{attempt}` | balances fetched per run (the last starts enrichment) | 1 day |
| `job:enrichment-resent:{job_id}` | sweep re-sent a pending enrichment | enrichment stall window |
| `job:cancelled:{job_id}` | cancellation flag (the ledger is the source of truth) | 1 day |
| `job:holders:{job_id}:{attempt}` | a holders run's plan: the mint as read, wallets, batches | 1 day |
| `job:holders-reports:{job_id}:{attempt}` | a holders run's reports (hash: wallet -> JSON) | 1 day |
| `job:holders-window:{job_id}:{attempt}` | batches whose body sent the next batch (set) | 1 day |
| `job:holders-ended:{job_id}:{attempt}` | batches analysed (set; the last one starts the finish) | 1 day |
| `sim:fault-rate`, `sim:latency-ms` | run-time overrides of the simulated market | until deleted |
| `sim:fault-rate:dexscreener`, `sim:latency-ms:dexscreener` | the same, for prices only | until deleted |
| `throttle:submit:user:{id}` | a user's submission units in the window (core/throttles.py) | the window |
| `slots:sync-analysis:user:{id}`, `…:all` | leases of synchronous analyses (core/concurrency.py) | 15 s |
| `report:{name}` | health, queues, workers or metrics report (core/single_flight.py) | HEALTH_CACHE_S |
| `report:{name}:computing` | token of the caller computing that report | 15 s |
| `lock:sol-usd:{day}` | a caller fetching that day's SOL/USD candles (enrichment/services.py) | ≤ 30 s |
| `ratelimit:*` | global upstream rate-limit windows (core/ratelimit.py) | the window |
| `lock:beat`, `lock:beat:holder` | the one running beat (core/beat_lock.py) | `BEAT_LOCK_TTL_S`, renewed |
| `metrics:counters` | counters shared by every process for /metrics (core/metrics.py) | kept |
"""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


def balance_key(wallet: str) -> str:
    return f"balance:{wallet}"


def enrichment_key(job_id: str) -> str:
    return f"enrich:{job_id}"


def wallet_sync_lock_key(wallet: str) -> str:
    return f"lock:wallet:sync:{wallet}"


def wallet_history_lock_key(wallet: str) -> str:
    return f"lock:wallet:history:{wallet}"


def wallet_history_queued_key(wallet: str) -> str:
    return f"wallet:history-queued:{wallet}"


def job_progress_key(job_id: str) -> str:
    return f"job:progress:{job_id}"


def job_progress_write_key(job_id: str) -> str:
    return f"job:progress-write:{job_id}"


def job_synced_key(job_id: str, attempt: int) -> str:
    return f"job:synced:{job_id}:{attempt}"


def job_balances_key(job_id: str, attempt: int) -> str:
    return f"job:balances:{job_id}:{attempt}"


def enrichment_resent_key(job_id: str) -> str:
    return f"job:enrichment-resent:{job_id}"


def sol_usd_fetch_lock_key(day_start: int) -> str:
    return f"lock:sol-usd:{day_start}"


def job_cancelled_key(job_id: str) -> str:
    return f"job:cancelled:{job_id}"


def job_holders_plan_key(job_id: str, attempt: int) -> str:
    return f"job:holders:{job_id}:{attempt}"


def job_holders_reports_key(job_id: str, attempt: int) -> str:
    return f"job:holders-reports:{job_id}:{attempt}"


def job_holders_window_key(job_id: str, attempt: int) -> str:
    return f"job:holders-window:{job_id}:{attempt}"


def job_holders_ended_key(job_id: str, attempt: int) -> str:
    return f"job:holders-ended:{job_id}:{attempt}"


SIMULATED_FAULT_RATE_KEY = "sim:fault-rate"
SIMULATED_LATENCY_KEY = "sim:latency-ms"
SIMULATED_DEXSCREENER_FAULT_RATE_KEY = "sim:fault-rate:dexscreener"
SIMULATED_DEXSCREENER_LATENCY_KEY = "sim:latency-ms:dexscreener"


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    """One pooled client per process; every call has a socket timeout so Redis trouble cannot hang a task."""
    return redis.Redis.from_url(
        settings.REDIS_URL,
        decode_responses=True,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT_S,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT_S,
        health_check_interval=10,
        retry_on_timeout=True,
    )
