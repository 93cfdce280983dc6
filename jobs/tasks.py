"""Thin, idempotent tasks: take ids, re-read state, call one service (SPEC §2, §3).

Retries are by error class: a TransientError (or a lost database/Redis connection) is retried with the
queue's backoff while attempts remain; anything else fails the job at once with a clear error.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.celery import queue_task_options
from config.errors import TransientError
from config.queues import ENRICHMENT_QUEUE, QUEUES, SIMILARITY_QUEUE, WALLET_QUEUE
from jobs import flows, services

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (TransientError, DatabaseError, RedisConnectionError, RedisTimeoutError)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _error_type(exc: BaseException) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        return "timeout"
    return str(getattr(exc, "error_type", "transient" if isinstance(exc, TRANSIENT_ERRORS) else "fatal"))


def _retry_if_transient(task: Task, exc: BaseException) -> None:
    """Raise Celery's Retry when another attempt may help; return when the error is final."""
    if isinstance(exc, services.JobNotRunningError) or not isinstance(exc, TRANSIENT_ERRORS):
        return
    spec = QUEUES[str(getattr(task, "queue", ""))]
    if task.request.retries >= spec.max_retries:
        return
    countdown = spec.retry_countdown(task.request.retries, jitter_fraction=random.random() * 0.5)
    logger.info("retrying %s in %.1fs after %s", task.name, countdown, _describe(exc))
    raise task.retry(exc=exc, countdown=countdown)


@shared_task(bind=True, name="jobs.similarity_flow", **queue_task_options(SIMILARITY_QUEUE))
def similarity_flow_task(self: Task, *, job_id: str) -> None:
    try:
        flows.similarity_flow_start(job_id=job_id)
    except Exception as exc:
        _retry_if_transient(self, exc)
        services.job_fail(job_id=job_id, error_type=_error_type(exc), message=_describe(exc))


@shared_task(bind=True, name="jobs.similarity_sync_wallet", **queue_task_options(WALLET_QUEUE))
def similarity_sync_wallet_task(
    self: Task, *, job_id: str, wallet: str, total_units: int, done_already: int
) -> dict[str, Any]:
    try:
        return flows.similarity_flow_sync_wallet(
            job_id=job_id, wallet=wallet, total_units=total_units, done_already=done_already
        )
    except Exception as exc:
        _retry_if_transient(self, exc)
        error = _describe(exc)
        flows.similarity_flow_sync_failed(
            job_id=job_id, wallet=wallet, total_units=total_units, done_already=done_already, error=error
        )
        return {"kind": "sync", "wallet": wallet, "ok": False, "error": error}


@shared_task(bind=True, name="jobs.similarity_fetch_balances", **queue_task_options(WALLET_QUEUE))
def similarity_fetch_balances_task(
    self: Task, *, job_id: str, total_units: int, done_already: int
) -> dict[str, Any]:
    try:
        return flows.similarity_flow_fetch_balances(
            job_id=job_id, total_units=total_units, done_already=done_already
        )
    except Exception as exc:
        _retry_if_transient(self, exc)
        return {
            "kind": "balances",
            "wallet": None,
            "ok": False,
            "error": _describe(exc),
            "fetched": [],
            "failed": {},
        }


@shared_task(bind=True, name="jobs.similarity_finish", **queue_task_options(SIMILARITY_QUEUE))
def similarity_finish_task(self: Task, header_results: list[dict[str, Any]], *, job_id: str) -> None:
    try:
        flows.similarity_flow_finish(job_id=job_id, header_results=header_results)
    except Exception as exc:
        _retry_if_transient(self, exc)
        services.job_fail(job_id=job_id, error_type=_error_type(exc), message=_describe(exc))


@shared_task(bind=True, name="jobs.enrich_job_balances", **queue_task_options(ENRICHMENT_QUEUE))
def enrich_job_balances_task(self: Task, *, job_id: str) -> None:
    try:
        flows.job_enrich_balances(job_id=job_id)
    except Exception as exc:
        _retry_if_transient(self, exc)
        # Enrichment is a bonus on top of the raw result: its failure never fails the job.
        flows.job_enrichment_failed(job_id=job_id, reason=_describe(exc))
