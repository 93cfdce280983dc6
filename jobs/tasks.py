"""Thin, idempotent tasks: take ids, re-read state, call one flow step (docs/ARCHITECTURE.md, "Tasks and
retries").

Each task is registered under its spec in `jobs.dispatch` by `core.task_policy.queue_task`, which applies
its queue's time limits and retries by error class. What a final failure means is the task's `on_give_up`:
- a step of a job fails the job and files a dead letter that records the step's arguments for replay;
- a chord header step (a wallet's sync or balances) never raises into the chord: it reports the wallet as
  failed and returns a failed `WalletStepResult`, so the body still runs;
- enrichment is a bonus on top of the raw result: its failure is attached to the result, the job stands.
A step that finds its run over (`JobNotRunningError`: cancelled, or replaced by the sweep) stops quietly.

Only the chord header tasks keep a result in the backend (`keep_result`), because the chord gathers them
for its body; every other task's outcome is in the ledger.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import Any

from celery import Task

from core.task_policy import describe, error_type, queue_task
from jobs import dispatch, recovery, services
from jobs.flows import analysis, bulk, enrichment, history, similarity, token_holders, wallet_sync
from jobs.maintenance import maintenance_cleanup


def _dead_letter(task: Task, exc: BaseException, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The failing task's details, for `job_fail(dead_letter=...)` or `dead_letter_record`."""
    return {
        "task_name": str(task.name),
        "task_id": str(task.request.id or ""),
        "queue": str(getattr(task, "policy_queue", "")),
        "kwargs": dict(kwargs),
        "traceback": "".join(traceback.format_exception(exc)),
        "attempts": int(task.request.retries) + 1,
    }


def fail_job(task: Task, exc: BaseException, kwargs: Mapping[str, Any]) -> None:
    if isinstance(exc, services.JobNotRunningError):
        return
    services.job_fail(
        job_id=kwargs["job_id"],
        error_type=error_type(exc),
        message=describe(exc),
        dead_letter=_dead_letter(task, exc, kwargs),
    )


def _sync_failed(
    task: Task, exc: BaseException, kwargs: Mapping[str, Any], *, count_failed: Callable[..., None]
) -> similarity.WalletStepResult:
    """A chord header's sync gave up: file its dead letter, count the wallet as ended in its flow
    (`count_failed`), and return the failure as the header's result, never raise into the chord."""
    error = describe(exc)
    if not isinstance(exc, services.JobNotRunningError):
        services.dead_letter_record(
            job_id=kwargs["job_id"],
            error_type=error_type(exc),
            message=error,
            **_dead_letter(task, exc, kwargs),
        )
        count_failed(**kwargs, error=error)
    return similarity.sync_result(wallet=kwargs["wallet"], error=error)


def report_sync_failed(
    task: Task, exc: BaseException, kwargs: Mapping[str, Any]
) -> similarity.WalletStepResult:
    return _sync_failed(task, exc, kwargs, count_failed=similarity.sync_wallet_failed)


def report_balances_failed(
    task: Task, exc: BaseException, kwargs: Mapping[str, Any]
) -> similarity.WalletStepResult:
    error = describe(exc)
    if not isinstance(exc, services.JobNotRunningError):
        # Missing balances only cost the holdings channels and enrichment: the job goes on without them.
        similarity.balances_ended(**kwargs, error=error)
    return similarity.balances_result(wallet=kwargs["wallet"], error=error)


def report_holders_sync_failed(
    task: Task, exc: BaseException, kwargs: Mapping[str, Any]
) -> similarity.WalletStepResult:
    return _sync_failed(task, exc, kwargs, count_failed=token_holders.sync_wallet_failed)


def record_metadata_failed(task: Task, exc: BaseException, kwargs: Mapping[str, Any]) -> None:
    # The metadata is a bonus the result asks for again; the failure stays inspectable as a dead letter.
    services.dead_letter_record(
        job_id=kwargs["job_id"],
        error_type=error_type(exc),
        message=describe(exc),
        **_dead_letter(task, exc, kwargs),
    )


def attach_enrichment_failed(task: Task, exc: BaseException, kwargs: Mapping[str, Any]) -> None:
    services.dead_letter_record(
        job_id=kwargs["job_id"],
        error_type=error_type(exc),
        message=describe(exc),
        **_dead_letter(task, exc, kwargs),
    )
    enrichment.enrichment_failed(job_id=kwargs["job_id"], reason=describe(exc))


# --- the similarity flow ---------------------------------------------------------------------------------


@queue_task(dispatch.SIMILARITY_FLOW, on_give_up=fail_job)
def similarity_flow_task(*, job_id: str) -> None:
    similarity.start(job_id=job_id)


@queue_task(dispatch.SIMILARITY_SYNC_WALLET, keep_result=True, on_give_up=report_sync_failed)
def similarity_sync_wallet_task(
    *, job_id: str, attempt: int, wallet: str, total_units: int
) -> similarity.WalletStepResult:
    return similarity.sync_wallet(job_id=job_id, attempt=attempt, wallet=wallet, total_units=total_units)


@queue_task(dispatch.SIMILARITY_FETCH_BALANCES, keep_result=True, on_give_up=report_balances_failed)
def similarity_fetch_balances_task(
    *, job_id: str, attempt: int, wallet: str, total_units: int, wallet_count: int
) -> similarity.WalletStepResult:
    return similarity.fetch_balances(
        job_id=job_id, attempt=attempt, wallet=wallet, total_units=total_units, wallet_count=wallet_count
    )


@queue_task(dispatch.SIMILARITY_FINISH, on_give_up=fail_job)
def similarity_finish_task(
    header_results: list[similarity.WalletStepResult], *, job_id: str, attempt: int
) -> None:
    similarity.finish(job_id=job_id, attempt=attempt, header_results=header_results)


@queue_task(dispatch.ENRICH_JOB_BALANCES, on_give_up=attach_enrichment_failed)
def enrich_job_balances_task(*, job_id: str) -> None:
    enrichment.enrich_balances(job_id=job_id)


# --- PnL and behaviour of one wallet -----------------------------------------------------------------------


@queue_task(dispatch.ANALYSIS_FLOW, on_give_up=fail_job)
def analysis_flow_task(*, job_id: str) -> None:
    analysis.start(job_id=job_id)


@queue_task(dispatch.ANALYSIS_PREPARE_WALLET, on_give_up=fail_job)
def analysis_prepare_wallet_task(*, job_id: str, attempt: int, sync: bool, balances: bool) -> None:
    # A failure fails the job here; the chained compute task then finds the run over and stops.
    analysis.prepare_wallet(job_id=job_id, attempt=attempt, sync=sync, balances=balances)


@queue_task(dispatch.ANALYSIS_COMPUTE, on_give_up=fail_job)
def analysis_compute_task(*, job_id: str, attempt: int) -> None:
    analysis.compute(job_id=job_id, attempt=attempt)


# --- sync of one wallet ------------------------------------------------------------------------------------


@queue_task(dispatch.WALLET_SYNC_FLOW, on_give_up=fail_job)
def wallet_sync_flow_task(*, job_id: str) -> None:
    wallet_sync.start(job_id=job_id)


@queue_task(dispatch.WALLET_SYNC_RUN, on_give_up=fail_job)
def wallet_sync_run_task(*, job_id: str, attempt: int) -> None:
    wallet_sync.run(job_id=job_id, attempt=attempt)


@queue_task(dispatch.WALLET_SYNC_FINISH, on_give_up=fail_job)
def wallet_sync_finish_task(*, job_id: str, attempt: int, synced: dict[str, Any]) -> None:
    wallet_sync.finish(job_id=job_id, attempt=attempt, synced=synced)


# --- history depth -----------------------------------------------------------------------------------------


def history_background_failed(task: Task, exc: BaseException, kwargs: Mapping[str, Any]) -> None:
    """A background deepening that failed for good is filed (replayable) and forgotten, so the next sync of
    the wallet, or the sweep, queues it again; the wallet records the error (`history_error`)."""
    services.dead_letter_record(
        error_type=error_type(exc), message=describe(exc), **_dead_letter(task, exc, kwargs)
    )
    history.background_ended(wallet=kwargs["wallet"])


@queue_task(dispatch.WALLET_HISTORY_DEEPEN, on_give_up=history_background_failed)
def wallet_history_deepen_task(*, wallet: str) -> None:
    history.background_slice(wallet=wallet)


@queue_task(dispatch.JOB_HISTORY_DEEPEN, on_give_up=fail_job)
def job_history_deepen_task(*, job_id: str, attempt: int, then: str, then_kwargs: dict[str, Any]) -> None:
    history.job_deepen(job_id=job_id, attempt=attempt, then=then, then_kwargs=then_kwargs)


# --- bulk analysis -----------------------------------------------------------------------------------------


@queue_task(dispatch.BULK_ANALYSIS_FLOW, on_give_up=fail_job)
def bulk_analysis_flow_task(*, job_id: str) -> None:
    bulk.start(job_id=job_id)


# --- token holders -----------------------------------------------------------------------------------------


@queue_task(dispatch.HOLDERS_FLOW, on_give_up=fail_job)
def holders_flow_task(*, job_id: str) -> None:
    token_holders.start(job_id=job_id)


@queue_task(dispatch.HOLDERS_DISCOVER, on_give_up=fail_job)
def holders_discover_task(*, job_id: str, attempt: int) -> None:
    token_holders.discover(job_id=job_id, attempt=attempt)


@queue_task(dispatch.HOLDERS_SYNC_WALLET, keep_result=True, on_give_up=report_holders_sync_failed)
def holders_sync_wallet_task(
    *, job_id: str, attempt: int, wallet: str, total_units: int
) -> similarity.WalletStepResult:
    return token_holders.sync_wallet(job_id=job_id, attempt=attempt, wallet=wallet, total_units=total_units)


@queue_task(dispatch.HOLDERS_ANALYSE_BATCH, on_give_up=fail_job)
def holders_analyse_batch_task(
    header_results: list[similarity.WalletStepResult] | None = None, *, job_id: str, attempt: int, batch: int
) -> None:
    token_holders.analyse_batch(
        job_id=job_id, attempt=attempt, batch=batch, header_results=header_results or []
    )


@queue_task(dispatch.HOLDERS_TOKEN_METADATA, on_give_up=record_metadata_failed)
def holders_token_metadata_task(*, job_id: str, mint: str) -> None:
    token_holders.token_metadata(job_id=job_id, mint=mint)


@queue_task(dispatch.HOLDERS_FINISH, on_give_up=fail_job)
def holders_finish_task(*, job_id: str, attempt: int) -> None:
    token_holders.finish(job_id=job_id, attempt=attempt)


# --- periodic ----------------------------------------------------------------------------------------------


@queue_task(dispatch.SWEEP_STALLED)
def sweep_stalled_task() -> dict[str, int]:
    return recovery.jobs_sweep_stalled()


@queue_task(dispatch.CLEANUP)
def cleanup_task() -> dict[str, int]:
    return maintenance_cleanup()
