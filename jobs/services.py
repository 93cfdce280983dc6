"""Writes to the job ledger: submission with deduplication, state changes, results, dead letters
(docs/ARCHITECTURE.md, "The job ledger").

Starting work goes through `jobs.dispatch`, after the commit that records it; progress through
`jobs.progress`. Nothing here imports a flow: flows call the ledger, never the other way round.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from redis.exceptions import RedisError

from core.db import JSONSetKey, update_returning
from core.errors import ConflictError, FatalError, InvalidInputError, TooManyRequestsError
from core.queues import Priority
from core.redis import get_redis, job_cancelled_key
from holders.services import holders_params
from jobs import dispatch, selectors
from jobs.events import job_event_publish, job_events_publish, result_url
from jobs.models import DeadLetter, Job
from jobs.progress import job_report_progress
from similarity.services import SIMILARITY_MIN_WALLETS, similarity_validate_options
from wallets.addresses import validate_address, validate_addresses

logger = logging.getLogger(__name__)

_SUBMIT_ATTEMPTS = 5
# Progress a claimed job starts at (docs/ARCHITECTURE.md, "Progress").
STARTED_PROGRESS = 5
_DAY_S = 24 * 3600


NO_ENRICHMENT: dict[str, Any] = {
    "status": "not_applicable",
    "reason": "this kind of job starts no enrichment",
}


class JobNotRunningError(FatalError):
    """The job was cancelled or ended elsewhere; the task stops at its next checkpoint."""


@dataclass(frozen=True, slots=True)
class JobSubmission:
    job: Job
    deduplicated: bool


def job_dedup_key(*, kind: str, owner_id: Any, params: dict[str, Any], parent_id: Any = None) -> str:
    """Hash of (kind, owner, canonical params). Callers canonicalise params (sorted unique wallets).

    A child job's key also holds its parent: a child never stands in for a standalone job or another
    parent's child (its end drives its own parent), while the work beneath it is still shared through the
    wallet locks, sync freshness and stored analysis runs.
    """
    identity: dict[str, Any] = {"kind": kind, "owner": str(owner_id), "params": params}
    if parent_id is not None:
        identity["parent"] = str(parent_id)
    canonical = json.dumps(identity, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def job_submit(
    *,
    kind: str,
    owner: User,
    params: dict[str, Any],
    priority: int,
    force: bool = False,
) -> JobSubmission:
    """Create a job, or return the identical one already queued, running or freshly completed.

    The job's queue is its start task's (`dispatch.START_TASKS`). The partial unique index on `dedup_key`
    decides races: of concurrent identical submissions exactly one insert succeeds, the others hit
    IntegrityError and read the winner's row.
    """
    dedup_key = job_dedup_key(kind=kind, owner_id=owner.pk, params=params)
    for _ in range(_SUBMIT_ATTEMPTS):
        existing = selectors.job_reusable(dedup_key=dedup_key, include_fresh=not force)
        if existing is not None:
            return JobSubmission(existing, deduplicated=True)
        # On its own the INSERT is its own transaction: one statement, not BEGIN, INSERT, COMMIT (the common
        # case, a new job). Inside a caller's transaction a savepoint keeps that one usable after a lost race.
        in_transaction = transaction.get_connection().in_atomic_block
        try:
            with transaction.atomic() if in_transaction else nullcontext():
                job = Job.objects.create(
                    kind=kind,
                    owner=owner,
                    params=params,
                    dedup_key=dedup_key,
                    queue=dispatch.START_TASKS[Job.Kind(kind)].queue,
                    priority=priority,
                    celery_task_ids=[str(uuid.uuid4())],
                )
        except IntegrityError:
            continue
        # Enqueue only once the row is committed (right away when the insert was its own transaction), or a
        # fast worker could look for a job not yet there.
        transaction.on_commit(partial(dispatch.job_enqueue, job))
        return JobSubmission(job, deduplicated=False)
    raise ConflictError("The job changed state while being submitted; try again.", code="submit_conflict")


WALLET_JOB_KINDS = frozenset({Job.Kind.PNL, Job.Kind.BEHAVIOR, Job.Kind.WALLET_SYNC})


def _checked_types(types: object) -> list[str]:
    """Requested analysis types in canonical order, duplicates collapsed."""
    if not isinstance(types, list | tuple):
        message = f"must be a list drawn from {', '.join(selectors.BULK_ANALYSIS_TYPES)}"
        raise InvalidInputError(f"types {message}.", fields={"types": [message]})
    problems = {
        f"types[{index}]": [f"{value!r} is not one of {', '.join(selectors.BULK_ANALYSIS_TYPES)}"]
        for index, value in enumerate(types)
        if value not in selectors.BULK_ANALYSIS_TYPES
    }
    if problems:
        raise InvalidInputError(f"types: {len(problems)} unknown analysis type(s).", fields=problems)
    if not types:
        message = "needs at least one analysis type"
        raise InvalidInputError(f"types {message}.", fields={"types": [message]})
    return [kind for kind in selectors.BULK_ANALYSIS_TYPES if kind in types]


def job_submit_similarity(
    *,
    owner: User,
    wallets: object,
    options: dict[str, Any] | None = None,
    force: bool = False,
    priority: int = Priority.HIGH,
) -> JobSubmission:
    """A similarity job over 2 to MAX_WALLETS_PER_JOB distinct wallets (duplicates collapse).

    Options are checked here, so a bad one is a 400 at submission rather than a failed job later.
    """
    params: dict[str, Any] = {
        "wallets": sorted(
            validate_addresses(
                wallets, min_count=SIMILARITY_MIN_WALLETS, max_count=settings.MAX_WALLETS_PER_JOB
            )
        ),
        "options": similarity_validate_options(options or {}),
    }
    return job_submit(kind=Job.Kind.SIMILARITY, owner=owner, params=params, priority=priority, force=force)


HISTORY_DEPTHS = ("initial", "full")
"""How much of a wallet's history a one-wallet job reads: what is stored (a first sync stores the newest
WALLET_SYNC_INITIAL_SIGNATURES), or everything up to the caps, deepened by the job before it computes."""


def job_submit_wallet_job(
    *,
    kind: str,
    owner: User,
    wallet: object,
    force: bool = False,
    history: object = "initial",
    priority: int = Priority.HIGH,
) -> JobSubmission:
    """A one-wallet job: PnL, behaviour or sync (bodies `{wallet, force?, history?}`)."""
    if kind not in WALLET_JOB_KINDS:
        raise ValueError(f"{kind} is not a one-wallet job kind")
    if history not in HISTORY_DEPTHS:
        message = f"must be one of {', '.join(HISTORY_DEPTHS)}"
        raise InvalidInputError(f"history {message}.", fields={"history": [message]})
    # `force` is part of the request's identity: a forced job never stands in for an ordinary one. So is a
    # full history (kept out of the default's params, so the keys of existing jobs stay what they were).
    params: dict[str, Any] = {"wallet": validate_address(wallet), "force": bool(force)}
    if history == "full":
        params["history"] = "full"
    return job_submit(kind=kind, owner=owner, params=params, priority=priority, force=force)


def job_submit_bulk_analysis(
    *,
    owner: User,
    wallets: object,
    types: object,
    force: bool = False,
    priority: int = Priority.NORMAL,
) -> JobSubmission:
    """A parent job whose children are one PnL / behaviour job per wallet and one similarity job over the set.

    The minimum number of wallets is what the analyses need: one for PnL and behaviour, two with similarity.
    The children are created by the parent's start task (`bulk_analysis_create_children`).
    """
    kinds = _checked_types(types)
    minimum = SIMILARITY_MIN_WALLETS if Job.Kind.SIMILARITY in kinds else 1
    params: dict[str, Any] = {
        "wallets": sorted(
            validate_addresses(wallets, min_count=minimum, max_count=settings.MAX_WALLETS_PER_JOB)
        ),
        "types": kinds,
        "force": bool(force),
    }
    return job_submit(kind=Job.Kind.BULK_ANALYSIS, owner=owner, params=params, priority=priority, force=force)


def job_submit_token_holders(
    *,
    owner: User,
    mint: object,
    top: object = None,
    early: object = None,
    force: bool = False,
    priority: int = Priority.HIGH,
) -> JobSubmission:
    """Who holds a mint and who bought it first (docs/METHODS.md §6): `top` holders and `early` buyers, 1 to
    200 each.

    The mint is only checked for form here: whether it is a token mint is the chain's answer, so a wallet's
    address fails the job (not_a_token_mint), it is not refused at submission."""
    params = holders_params(mint=mint, top=top, early=early)
    return job_submit(kind=Job.Kind.TOKEN_HOLDERS, owner=owner, params=params, priority=priority, force=force)


def _bulk_children(parent: Job) -> list[Job]:
    """The children a bulk parent asks for (`selectors.bulk_analysis_children_wanted`), unsaved."""
    return [
        Job(
            kind=kind,
            owner_id=parent.owner_id,
            params=params,
            dedup_key=job_dedup_key(kind=kind, owner_id=parent.owner_id, params=params, parent_id=parent.id),
            queue=dispatch.START_TASKS[kind].queue,
            priority=parent.priority,
            parent=parent,
            celery_task_ids=[str(uuid.uuid4())],
        )
        for kind, params in selectors.bulk_analysis_children_wanted(params=parent.params)
    ]


def bulk_analysis_create_children(*, parent_id: str) -> int:
    """Create the missing children of a running bulk parent and enqueue them; returns how many were new.

    The parent's row is locked while its children are written, so a cancel of the parent (which waits on
    that lock) always sees them, and a re-driven parent never creates a child twice. Children whose start
    message is lost are re-sent by the stalled sweep like any queued job.
    """
    with transaction.atomic():
        parent = Job.objects.select_for_update().filter(id=parent_id, status=Job.Status.RUNNING).first()
        if parent is None:
            return 0
        existing = set(Job.objects.filter(parent_id=parent.id).values_list("dedup_key", flat=True))
        new = [child for child in _bulk_children(parent) if child.dedup_key not in existing]
        Job.objects.bulk_create(new)
        total = len(existing) + len(new)

        def enqueue() -> None:
            for child in new:
                try:
                    dispatch.job_enqueue(child)
                except Exception:  # noqa: BLE001 - the stalled sweep re-sends a child whose start was not sent
                    logger.warning("child job %s not enqueued; the stalled sweep re-sends it", child.id)
            # A re-driven parent may find every child ended already.
            job_parent_settle(parent_id=str(parent.id))

        transaction.on_commit(enqueue)
    job_report_progress(
        job_id=str(parent_id),
        progress=STARTED_PROGRESS,
        stage="waiting_children",
        detail={"children": total, "ended": 0},
    )
    logger.info("bulk job %s: %s child job(s) created, %s existed", parent_id, len(new), len(existing))
    return len(new)


def job_parent_settle(*, parent_id: str) -> bool:
    """Complete a running parent once every child has ended; True when this call completed it.

    Called after each child ends (after its commit, so the last child to end always sees all the others
    ended) and by the stalled sweep, which repairs a check lost to a crash. The parent's row lock makes the
    completion happen exactly once however many children end at the same moment.
    """
    with transaction.atomic():
        parent = Job.objects.select_for_update().filter(id=parent_id, status=Job.Status.RUNNING).first()
        if parent is None:
            return False
        children = selectors.job_children(parent_id=parent.id)
        if not children:
            return False
        ended = sum(1 for child in children if child.status in Job.TERMINAL_STATUSES)
        if ended < len(children):
            Job.objects.filter(id=parent.id).update(heartbeat_at=timezone.now())
            job_report_progress(
                job_id=str(parent.id),
                progress=5 + 94 * ended // len(children),
                stage="waiting_children",
                detail={"children": len(children), "ended": ended},
            )
            return False
        result = selectors.bulk_analysis_result(parent=parent, children=children)
        return job_complete(
            job_id=str(parent.id),
            result=result,
            summary={"children": result["totals"]},
            enrichment=NO_ENRICHMENT,
        )


_PARENT_UNKNOWN = object()


def _settle_parent_after_commit(*, job_id: str, parent_id: Any = _PARENT_UNKNOWN) -> None:
    """After the commit, let the job's parent (if it has one) settle; the caller passes the parent when it
    has the row at hand, which spares the lookup for the many jobs that have none."""
    if parent_id is _PARENT_UNKNOWN:
        parent_id = Job.objects.filter(id=job_id).values_list("parent_id", flat=True).first()
    if parent_id is not None:
        transaction.on_commit(partial(job_parent_settle, parent_id=str(parent_id)))


def job_start(*, job_id: str) -> Job | None:
    """Claim a queued job for running; None when it is not queued (cancelled, ended, or claimed already).

    Claiming only from `queued` makes a duplicate start message (a re-enqueue after a lost message that was
    not lost after all) a no-op instead of a second run of the flow.
    """
    now = timezone.now()
    # The claim writes the "started" milestone itself (never lowering a re-driven job's progress): the flow's
    # first report follows at once, so a separate report here would cost a Redis script, an event and a
    # ledger write per job for nothing a subscriber needs (its snapshot says the job runs).
    claimed = update_returning(
        Job.objects.filter(id=job_id, status=Job.Status.QUEUED),
        status=Job.Status.RUNNING,
        started_at=Coalesce(F("started_at"), now),
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        progress=Greatest(F("progress"), Value(STARTED_PROGRESS)),
        stage="started",
    )
    if not claimed:
        logger.info("job %s not started: it is no longer queued", job_id)
        return None
    job = claimed[0]
    logger.info("job %s started (%s, attempt %s)", job_id, job.kind, job.attempts)
    return job


def job_checkpoint(*, job_id: str, attempt: int | None = None) -> None:
    """Heartbeat and cancellation check in one statement: zero rows means this run of the job is over.

    With `attempt`, a task left over from an earlier run of a re-driven job stops too.
    """
    running = Job.objects.filter(id=job_id, status=Job.Status.RUNNING)
    if attempt is not None:
        running = running.filter(attempts=attempt)
    if not running.update(heartbeat_at=timezone.now()):
        raise JobNotRunningError(f"job {job_id} (attempt {attempt}) is no longer running")


def job_cancel(*, job: Job) -> bool:
    """Cancel in the ledger first (durable, holds with no worker online), then signal the workers.

    Tasks see the ledger at their start and at every checkpoint; the revoke only saves them the trip.
    Cancelling a parent cancels its active children; cancelling a child lets its parent settle.
    """
    now = timezone.now()
    cancelled = Job.objects.filter(id=job.id, status__in=Job.ACTIVE_STATUSES).update(
        status=Job.Status.CANCELLED, stage="cancelled", finished_at=now, heartbeat_at=now
    )
    if not cancelled:
        return False
    job.refresh_from_db()
    try:
        get_redis().set(job_cancelled_key(str(job.id)), 1, ex=_DAY_S)
    except RedisError:
        logger.warning("cancel flag of job %s not set: Redis unavailable (the ledger holds it)", job.id)
    try:
        dispatch.job_revoke_tasks(job)
    except Exception:  # the revoke only saves the workers a trip: the cancel is in the ledger already
        logger.warning("revoke of job %s not broadcast (the ledger holds the cancel)", job.id, exc_info=True)
    job_event_publish(job_id=str(job.id), event_type="job-cancelled", status=job.status)
    # Children are written under the parent's row lock, which the update above waited for: all are visible.
    for child in Job.objects.filter(parent_id=job.id, status__in=Job.ACTIVE_STATUSES):
        job_cancel(job=child)
    _settle_parent_after_commit(job_id=str(job.id), parent_id=job.parent_id)
    return True


def job_record_run_tasks(*, job: Job, task_ids: list[str]) -> None:
    """Remember the tasks a run's start step sends, so cancelling can revoke them.

    One UPDATE without a lock: the start step has just claimed the row (`job` is what the claim read), and
    nothing else writes the task ids of a run before its tasks are sent."""
    Job.objects.filter(id=job.id).update(celery_task_ids=[*job.celery_task_ids, *task_ids][-1000:])


def job_record_task_ids(*, job_id: str, task_ids: list[str]) -> None:
    """Remember more tasks of the current run (sent after its start) so cancelling can revoke them."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(id=job_id)
        job.celery_task_ids = [*job.celery_task_ids, *task_ids][-1000:]
        job.save(update_fields=["celery_task_ids"])


def job_redrive(*, job: Job, reset_attempts: bool = False, reason: str) -> bool:
    """Run a job again from the ledger: back to `queued` under a new start task, enqueued after commit.

    Used by the stalled sweep (attempts kept) and by dead-letter replay (attempts reset). Fails with a
    ConflictError when an identical job is already active, since two may not be.
    """
    start_task_id = str(uuid.uuid4())
    updates: dict[str, Any] = {
        "status": Job.Status.QUEUED,
        "stage": "requeued",
        "error": None,
        "finished_at": None,
        "heartbeat_at": timezone.now(),
        "celery_task_ids": [start_task_id],
    }
    if reset_attempts:
        updates["attempts"] = 0
    try:
        with transaction.atomic():
            moved = Job.objects.filter(id=job.id, status=job.status, attempts=job.attempts).update(**updates)
            if not moved:
                return False
            job.refresh_from_db()
            transaction.on_commit(partial(dispatch.job_enqueue, job))
    except IntegrityError:
        raise ConflictError(
            "An identical job is already queued or running; follow that one instead.", code="job_active"
        ) from None
    logger.info("job %s re-driven: %s", job.id, reason)
    job_event_publish(
        job_id=str(job.id),
        event_type="job-progress",
        progress=job.progress,
        stage="requeued",
        detail={"reason": reason},
    )
    return True


def job_complete(
    *,
    job_id: str,
    result: dict[str, Any],
    summary: dict[str, Any] | None = None,
    enrichment: dict[str, Any] | None = None,
) -> bool:
    """Store the result and end the job. A job cancelled meanwhile stays cancelled.

    Without `enrichment`, the result's enrichment stays pending until an enrichment task attaches it (or
    keeps what one attached first); a job that starts no enrichment passes `NO_ENRICHMENT`.
    """
    now = timezone.now()
    ending = {
        "status": Job.Status.COMPLETED,
        "progress": 100,
        "stage": "completed",
        "finished_at": now,
        "heartbeat_at": now,
    }
    if enrichment is None:
        # Usually nothing is attached yet (the result is still empty): then the job ends in one statement,
        # with no row lock and no read of the row first.
        pending = {"status": "pending"}
        ended = update_returning(
            Job.objects.filter(id=job_id, status=Job.Status.RUNNING, result__isnull=True),
            fields=("parent_id",),
            result={**result, "enrichment": pending},
            **ending,
        )
        if ended:
            _after_completion(
                job_id=job_id, parent_id=ended[0].parent_id, summary=summary, enrichment=pending
            )
            return True
    with transaction.atomic():
        job = Job.objects.select_for_update().only("status", "result", "parent_id").get(id=job_id)
        if job.status != Job.Status.RUNNING:
            return False
        if enrichment is None:
            enrichment = (job.result or {}).get("enrichment") or {"status": "pending"}
        Job.objects.filter(id=job_id).update(result={**result, "enrichment": enrichment}, **ending)
        _after_completion(job_id=job_id, parent_id=job.parent_id, summary=summary, enrichment=enrichment)
    return True


def _after_completion(
    *, job_id: str, parent_id: Any, summary: dict[str, Any] | None, enrichment: dict[str, Any]
) -> None:
    """After the commit: tell subscribers (held-back enrichment last, so they always see the job complete
    first), and let the parent settle."""
    events: list[dict[str, Any]] = [
        {"type": "job-progress", "progress": 100, "stage": "completed", "detail": {}},
        {"type": "job-completed", "result_url": result_url(job_id), "summary": summary or {}},
    ]
    if enrichment.get("status") not in ("pending", NO_ENRICHMENT["status"]):
        events.append({"type": "enrichment-completed", **enrichment})
    transaction.on_commit(partial(job_events_publish, job_id=job_id, events=events))
    _settle_parent_after_commit(job_id=job_id, parent_id=parent_id)


def job_fail(
    *, job_id: str, error_type: str, message: str, dead_letter: dict[str, Any] | None = None
) -> bool:
    """End a job as failed; with `dead_letter` (the failing task's details) also file it for replay."""
    now = timezone.now()
    failed = Job.objects.filter(id=job_id, status__in=Job.ACTIVE_STATUSES).update(
        status=Job.Status.FAILED,
        stage="failed",
        error={"type": error_type, "message": message},
        finished_at=now,
        heartbeat_at=now,
    )
    if failed:
        if dead_letter is not None:
            dead_letter_record(job_id=job_id, error_type=error_type, message=message, **dead_letter)
        job_event_publish(
            job_id=job_id, event_type="job-failed", error={"type": error_type, "message": message}
        )
        _settle_parent_after_commit(job_id=job_id)
    return bool(failed)


def dead_letter_record(
    *,
    task_name: str,
    error_type: str,
    message: str,
    job_id: str | None = None,
    task_id: str = "",
    queue: str = "",
    args: list[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    traceback: str = "",
    attempts: int = 0,
) -> DeadLetter:
    return DeadLetter.objects.create(
        task_name=task_name,
        task_id=task_id or "",
        queue=queue,
        args=list(args or []),
        kwargs=dict(kwargs or {}),
        error_type=error_type[:40],
        message=message,
        traceback=traceback[-20_000:],
        attempts=attempts,
        job_id=job_id,
    )


def dead_letter_replay(*, dead_letter: DeadLetter) -> str:
    """Replay a dead letter: its job runs again from the ledger, or a job-less task is sent again."""
    job = Job.objects.filter(id=dead_letter.job_id).first() if dead_letter.job_id else None
    if job is not None and job.status in Job.ACTIVE_STATUSES:
        outcome = f"job {job.id} is already {job.status}; nothing replayed"
    elif job is not None:
        job_redrive(job=job, reset_attempts=True, reason=f"replay of dead letter {dead_letter.pk}")
        outcome = f"job {job.id} re-queued"
    else:
        task_id = dispatch.task_resend(
            task_name=dead_letter.task_name,
            args=dead_letter.args,
            kwargs=dead_letter.kwargs,
            queue=dead_letter.queue,
        )
        outcome = f"task {dead_letter.task_name} sent again as {task_id}"
    DeadLetter.objects.filter(pk=dead_letter.pk).update(
        replay_count=F("replay_count") + 1, replayed_at=timezone.now(), replay_outcome=outcome[:200]
    )
    return outcome


def job_attach_enrichment(*, job_id: str, enrichment: dict[str, Any]) -> None:
    """Merge enrichment into the job's result; announce it now if the job is complete, else at completion.

    One statement sets the key in the database and says the job's status after it: the completion either
    ended the job before (it is completed: announce now) or will find the enrichment in the result under
    its row lock and announce it itself, never both."""
    updated = update_returning(
        Job.objects.filter(id=job_id),
        fields=("status",),
        result=JSONSetKey("result", key="enrichment", value=enrichment),
    )
    if updated and updated[0].status == Job.Status.COMPLETED:
        transaction.on_commit(
            lambda: job_event_publish(job_id=job_id, event_type="enrichment-completed", **enrichment)
        )


# --- The cap on a user's active jobs (API submissions; the management commands are not capped) ---


class TooManyActiveJobsError(TooManyRequestsError):
    code = "too_many_active_jobs"


# pg_advisory_xact_lock's first key for "a user's submissions" ("JOBS" in ASCII); the second is the user id.
_OWNER_SUBMISSIONS_LOCK = 0x4A4F4253
# What a refused submitter is told to wait: jobs end in seconds to minutes; sooner retries would be refused.
_ACTIVE_JOBS_RETRY_AFTER_S = 10


def job_submit_admitted(
    *, owner: User, submit: Callable[[], JobSubmission], charge: Callable[[int], None] | None = None
) -> JobSubmission:
    """Run a submission (`submit`, a `job_submit_*` call) only if the owner has room for the jobs it creates.

    A new job must fit beside the owner's active jobs under MAX_ACTIVE_JOBS_PER_USER, a bulk job counting
    with its children (a job bigger than the cap fits only when nothing else is active); `charge(jobs)` may
    refuse it too (the API's throttle, one unit per job). The owner's submissions are serialised by a
    transaction-scoped lock (a PostgreSQL advisory lock; SQLite's immediate transactions serialise every
    writer), so parallel submissions cannot all see the same room. A refusal raises inside the transaction:
    the insert is rolled back, and the job is never enqueued (that waits for the commit). A deduplicated
    submission creates nothing and is never refused.
    """
    cap = settings.MAX_ACTIVE_JOBS_PER_USER
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Ids past 2^31 share a lock with another id: that only serialises two users' submissions.
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [_OWNER_SUBMISSIONS_LOCK, owner.pk % 2**31]
                )
        active = selectors.job_active_load_for_owner(owner_id=owner.pk, at_most=cap)
        submission = submit()
        if submission.deduplicated:
            return submission
        job = submission.job
        jobs = 1
        if job.kind == Job.Kind.BULK_ANALYSIS:
            jobs += len(selectors.bulk_analysis_children_wanted(params=job.params))
        if active + min(jobs, cap) > cap:
            raise TooManyActiveJobsError(
                f"You have {active} active job(s) (queued or running; a bulk job counts with its children) "
                f"and may have {cap}; this submission would add {jobs}. Wait for some to end or cancel some.",
                retry_after_s=_ACTIVE_JOBS_RETRY_AFTER_S,
            )
        if charge is not None:
            charge(jobs)
    return submission
