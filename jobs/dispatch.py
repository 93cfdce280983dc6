"""The one module that sends job tasks: every task's name and queue, starting a job, revoking its tasks,
re-sending a dead letter's task (docs/ARCHITECTURE.md, "Jobs and their flows").

The task specs below are the only place a task's name and queue are written: `jobs.tasks` registers each
task under its spec (`core.task_policy.queue_task`) and the flows build their chains and chords from the
same specs through `signature`. Nothing here imports the flows or the ledger's services, so the ledger can
start work without an import circle: services -> dispatch -> Celery.
"""

from __future__ import annotations

import uuid
from typing import Any

from celery.canvas import Signature

from config.celery import app as celery_app
from core.queues import (
    ANALYSIS_QUEUE,
    ENRICHMENT_QUEUE,
    SIMILARITY_QUEUE,
    WALLET_QUEUE,
    Priority,
    transport_priority,
)
from core.task_policy import TaskSpec
from jobs.models import Job

# The similarity flow (jobs.flows.similarity)
SIMILARITY_FLOW = TaskSpec("jobs.similarity_flow", SIMILARITY_QUEUE)
SIMILARITY_SYNC_WALLET = TaskSpec("jobs.similarity_sync_wallet", WALLET_QUEUE)
SIMILARITY_FETCH_BALANCES = TaskSpec("jobs.similarity_fetch_balances", WALLET_QUEUE)
SIMILARITY_FINISH = TaskSpec("jobs.similarity_finish", SIMILARITY_QUEUE)
# Enrichment of a job's balances (jobs.flows.enrichment), started by the similarity flow, never awaited
ENRICH_JOB_BALANCES = TaskSpec("jobs.enrich_job_balances", ENRICHMENT_QUEUE)
# PnL and behaviour of one wallet (jobs.flows.analysis)
ANALYSIS_FLOW = TaskSpec("jobs.analysis_flow", ANALYSIS_QUEUE)
ANALYSIS_PREPARE_WALLET = TaskSpec("jobs.analysis_prepare_wallet", WALLET_QUEUE)
ANALYSIS_COMPUTE = TaskSpec("jobs.analysis_compute", ANALYSIS_QUEUE)
# Sync of one wallet (jobs.flows.wallet_sync)
WALLET_SYNC_FLOW = TaskSpec("jobs.wallet_sync_flow", WALLET_QUEUE)
WALLET_SYNC_RUN = TaskSpec("jobs.wallet_sync_run", WALLET_QUEUE)
# Bulk analysis: a parent job whose children run the flows above (jobs.flows.bulk)
BULK_ANALYSIS_FLOW = TaskSpec("jobs.bulk_analysis_flow", ANALYSIS_QUEUE)
# Token holders of a mint (jobs.flows.token_holders)
HOLDERS_FLOW = TaskSpec("jobs.holders_flow", SIMILARITY_QUEUE)
HOLDERS_DISCOVER = TaskSpec("jobs.holders_discover", WALLET_QUEUE)
HOLDERS_SYNC_WALLET = TaskSpec("jobs.holders_sync_wallet", WALLET_QUEUE)
HOLDERS_ANALYSE_BATCH = TaskSpec("jobs.holders_analyse_batch", ANALYSIS_QUEUE)
HOLDERS_TOKEN_METADATA = TaskSpec("jobs.holders_token_metadata", ENRICHMENT_QUEUE)
HOLDERS_FINISH = TaskSpec("jobs.holders_finish", SIMILARITY_QUEUE)
# History depth (jobs.flows.history): a wallet's deepening in the background, one page a task, and a job's
# own deepening (`history: "full"`), which then sends the job's next step: one of HISTORY_NEXT_STEPS.
WALLET_HISTORY_DEEPEN = TaskSpec("jobs.wallet_history_deepen", WALLET_QUEUE)
JOB_HISTORY_DEEPEN = TaskSpec("jobs.job_history_deepen", WALLET_QUEUE)
WALLET_SYNC_FINISH = TaskSpec("jobs.wallet_sync_finish", WALLET_QUEUE)
# Periodic (config.settings.CELERY_BEAT_SCHEDULE names them; a test holds the two together). The sweep is
# not on wallet-operations: a dead wallet worker must not also stop the recovery of its own jobs.
SWEEP_STALLED = TaskSpec("jobs.sweep_stalled", ENRICHMENT_QUEUE)
CLEANUP = TaskSpec("jobs.cleanup", WALLET_QUEUE)

# Background enrichment runs below user-facing work.
ENRICHMENT_PRIORITY = Priority.LOW
# So does background deepening: a job never waits on a deepening it did not ask for.
HISTORY_PRIORITY = Priority.LOW
HISTORY_NEXT_STEPS: dict[str, TaskSpec] = {spec.name: spec for spec in (ANALYSIS_COMPUTE, WALLET_SYNC_FINISH)}
"""The steps a job's own deepening may hand over to, by name (task arguments are JSON)."""

START_TASKS: dict[Job.Kind, TaskSpec] = {
    Job.Kind.SIMILARITY: SIMILARITY_FLOW,
    Job.Kind.PNL: ANALYSIS_FLOW,
    Job.Kind.BEHAVIOR: ANALYSIS_FLOW,
    Job.Kind.WALLET_SYNC: WALLET_SYNC_FLOW,
    Job.Kind.BULK_ANALYSIS: BULK_ANALYSIS_FLOW,
    Job.Kind.TOKEN_HOLDERS: HOLDERS_FLOW,
}
"""The task that claims a queued job of each kind and starts its flow."""


def signature(
    spec: TaskSpec, *, priority: int, immutable: bool = False, task_id: str | None = None, **kwargs: Any
) -> Signature:
    """A signature of the task under its own queue, at a job priority (higher runs first), with its id
    chosen now so the ledger can record it before the task is sent."""
    return celery_app.signature(
        spec.name,
        kwargs=kwargs,
        queue=spec.queue,
        priority=transport_priority(priority),
        task_id=task_id or str(uuid.uuid4()),
        immutable=immutable,
    )


def job_enqueue(job: Job) -> None:
    """Send the job's start task under the task id recorded in the ledger.

    Nothing reads a start task's result (the ledger holds the job's state): without `ignore_result` every
    submission subscribed the web process to the task's result channel, and the worker stored the result.
    """
    start = signature(START_TASKS[Job.Kind(job.kind)], priority=job.priority, job_id=str(job.id))
    start.apply_async(task_id=job.celery_task_ids[0], ignore_result=True)


def job_revoke_tasks(job: Job) -> None:
    """Revoke every recorded task of the job; workers that restart forget revokes, the ledger does not."""
    if job.celery_task_ids:
        celery_app.control.revoke(list(job.celery_task_ids))


def task_resend(*, task_name: str, args: list[Any], kwargs: dict[str, Any], queue: str) -> str:
    """Send a task again by the name a dead letter recorded (a job-less task: the sweep, the cleanup)."""
    result = celery_app.send_task(task_name, args=args, kwargs=kwargs, queue=queue or None)
    return str(result.id)
