"""Thin, idempotent tasks: take ids, re-read state, call one service (SPEC §2, §3).

Retries are by error class: a TransientError (or a lost database/Redis connection) is retried with the
queue's backoff while attempts remain; a busy wallet lock is retried on a short countdown without using up
attempts; anything else is final. A task that fails for good files a dead letter.

Only the chord header tasks keep a result in the backend, because the chord gathers them for its body; every
other task's outcome is in the ledger, so it stores none (a Redis write less per task, and no STARTED
state: TaskRun rows record starts).
"""

from __future__ import annotations

import logging
import random
import traceback
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import TransientError
from core.queues import ANALYSIS_QUEUE, ENRICHMENT_QUEUE, QUEUES, SIMILARITY_QUEUE, WALLET_QUEUE
from core.task_policy import queue_task_options
from jobs import flows, services
from wallets.locks import WalletLockBusyError

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (TransientError, DatabaseError, RedisConnectionError, RedisTimeoutError)
# A sync finding its wallet locked waits for the other sync this many times, LOCK_WAIT_S apart: together
# longer than the wallet queue's hard limit, so the holder either finishes or its lock expires.
LOCK_WAIT_S = 1.5
LOCK_WAIT_RETRIES = 300


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
    if isinstance(exc, WalletLockBusyError) and task.request.retries < LOCK_WAIT_RETRIES:
        raise task.retry(
            exc=exc, countdown=LOCK_WAIT_S * (1 + random.random() / 2), max_retries=LOCK_WAIT_RETRIES
        )
    spec = QUEUES[str(getattr(task, "policy_queue", ""))]
    if task.request.retries >= spec.max_retries:
        return
    countdown = spec.retry_countdown(task.request.retries, jitter_fraction=random.random() * 0.5)
    logger.info("retrying %s in %.1fs after %s", task.name, countdown, _describe(exc))
    raise task.retry(exc=exc, countdown=countdown)


def _dead_letter(task: Task, exc: BaseException, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The failing task's details, for `job_fail(dead_letter=...)` or `dead_letter_record`."""
    return {
        "task_name": str(task.name),
        "task_id": str(task.request.id or ""),
        "queue": str(getattr(task, "policy_queue", "")),
        "kwargs": kwargs,
        "traceback": "".join(traceback.format_exception(exc)),
        "attempts": int(task.request.retries) + 1,
    }


def _fail_job(task: Task, exc: BaseException, *, job_id: str, kwargs: dict[str, Any]) -> None:
    if isinstance(exc, services.JobNotRunningError):
        return
    services.job_fail(
        job_id=job_id,
        error_type=_error_type(exc),
        message=_describe(exc),
        dead_letter=_dead_letter(task, exc, kwargs),
    )


def _run_or_fail_job(task: Task, step: Callable[..., None], **kwargs: Any) -> None:
    """Run one step of a job: transient errors are retried, anything else fails the job with a dead letter
    that records the step's arguments for replay."""
    try:
        step(**kwargs)
    except Exception as exc:
        _retry_if_transient(task, exc)
        _fail_job(task, exc, job_id=kwargs["job_id"], kwargs=kwargs)


@shared_task(
    bind=True, name="jobs.similarity_flow", ignore_result=True, **queue_task_options(SIMILARITY_QUEUE)
)
def similarity_flow_task(self: Task, *, job_id: str) -> None:
    _run_or_fail_job(self, flows.similarity_flow_start, job_id=job_id)


@shared_task(bind=True, name="jobs.similarity_sync_wallet", **queue_task_options(WALLET_QUEUE))
def similarity_sync_wallet_task(
    self: Task, *, job_id: str, attempt: int, wallet: str, total_units: int, done_already: int
) -> dict[str, Any]:
    kwargs = {"job_id": job_id, "attempt": attempt, "wallet": wallet}
    try:
        return flows.similarity_flow_sync_wallet(
            job_id=job_id, attempt=attempt, wallet=wallet, total_units=total_units, done_already=done_already
        )
    except Exception as exc:
        _retry_if_transient(self, exc)
        error = _describe(exc)
        if not isinstance(exc, services.JobNotRunningError):
            services.dead_letter_record(
                job_id=job_id, error_type=_error_type(exc), message=error, **_dead_letter(self, exc, kwargs)
            )
            flows.similarity_flow_sync_failed(
                job_id=job_id,
                attempt=attempt,
                wallet=wallet,
                total_units=total_units,
                done_already=done_already,
                error=error,
            )
        return {"kind": "sync", "wallet": wallet, "ok": False, "error": error}


@shared_task(bind=True, name="jobs.similarity_fetch_balances", **queue_task_options(WALLET_QUEUE))
def similarity_fetch_balances_task(
    self: Task, *, job_id: str, attempt: int, wallet: str, total_units: int, done_already: int
) -> dict[str, Any]:
    try:
        return flows.similarity_flow_fetch_balances(
            job_id=job_id, attempt=attempt, wallet=wallet, total_units=total_units, done_already=done_already
        )
    except Exception as exc:
        _retry_if_transient(self, exc)
        error = _describe(exc)
        if not isinstance(exc, services.JobNotRunningError):
            # Missing balances only cost the holdings channels and enrichment: the job goes on without them.
            flows.similarity_flow_balances_ended(
                job_id=job_id,
                attempt=attempt,
                wallet=wallet,
                total_units=total_units,
                done_already=done_already,
                error=error,
            )
        return {"kind": "balances", "wallet": wallet, "ok": False, "error": error}


@shared_task(
    bind=True, name="jobs.similarity_finish", ignore_result=True, **queue_task_options(SIMILARITY_QUEUE)
)
def similarity_finish_task(
    self: Task, header_results: list[dict[str, Any]], *, job_id: str, attempt: int
) -> None:
    try:
        flows.similarity_flow_finish(job_id=job_id, attempt=attempt, header_results=header_results)
    except Exception as exc:
        _retry_if_transient(self, exc)
        _fail_job(self, exc, job_id=job_id, kwargs={"job_id": job_id, "attempt": attempt})


@shared_task(
    bind=True, name="jobs.enrich_job_balances", ignore_result=True, **queue_task_options(ENRICHMENT_QUEUE)
)
def enrich_job_balances_task(self: Task, *, job_id: str) -> None:
    try:
        flows.job_enrich_balances(job_id=job_id)
    except Exception as exc:
        _retry_if_transient(self, exc)
        # Enrichment is a bonus on top of the raw result: its failure never fails the job.
        services.dead_letter_record(
            job_id=job_id,
            error_type=_error_type(exc),
            message=_describe(exc),
            **_dead_letter(self, exc, {"job_id": job_id}),
        )
        flows.job_enrichment_failed(job_id=job_id, reason=_describe(exc))


@shared_task(bind=True, name="jobs.analysis_flow", ignore_result=True, **queue_task_options(ANALYSIS_QUEUE))
def analysis_flow_task(self: Task, *, job_id: str) -> None:
    _run_or_fail_job(self, flows.analysis_flow_start, job_id=job_id)


@shared_task(
    bind=True, name="jobs.analysis_prepare_wallet", ignore_result=True, **queue_task_options(WALLET_QUEUE)
)
def analysis_prepare_wallet_task(
    self: Task, *, job_id: str, attempt: int, sync: bool, balances: bool
) -> None:
    # A failure fails the job here; the chained compute task then finds the run over and stops.
    _run_or_fail_job(
        self, flows.analysis_flow_prepare_wallet, job_id=job_id, attempt=attempt, sync=sync, balances=balances
    )


@shared_task(
    bind=True, name="jobs.analysis_compute", ignore_result=True, **queue_task_options(ANALYSIS_QUEUE)
)
def analysis_compute_task(self: Task, *, job_id: str, attempt: int) -> None:
    _run_or_fail_job(self, flows.analysis_flow_compute, job_id=job_id, attempt=attempt)


@shared_task(bind=True, name="jobs.wallet_sync_flow", ignore_result=True, **queue_task_options(WALLET_QUEUE))
def wallet_sync_flow_task(self: Task, *, job_id: str) -> None:
    _run_or_fail_job(self, flows.wallet_sync_flow_start, job_id=job_id)


@shared_task(bind=True, name="jobs.wallet_sync_run", ignore_result=True, **queue_task_options(WALLET_QUEUE))
def wallet_sync_run_task(self: Task, *, job_id: str, attempt: int) -> None:
    _run_or_fail_job(self, flows.wallet_sync_flow_run, job_id=job_id, attempt=attempt)


@shared_task(
    bind=True, name="jobs.bulk_analysis_flow", ignore_result=True, **queue_task_options(ANALYSIS_QUEUE)
)
def bulk_analysis_flow_task(self: Task, *, job_id: str) -> None:
    _run_or_fail_job(self, flows.bulk_analysis_flow_start, job_id=job_id)


@shared_task(name="jobs.sweep_stalled", ignore_result=True, **queue_task_options(ENRICHMENT_QUEUE))
def sweep_stalled_task() -> dict[str, int]:
    return flows.jobs_sweep_stalled()
