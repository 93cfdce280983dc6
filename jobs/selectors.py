"""Reads of the job ledger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from core.errors import NotFoundError
from jobs.events import result_url
from jobs.models import Job


def job_get_for_owner(*, job_id: str | uuid.UUID, user: AbstractBaseUser | AnonymousUser) -> Job:
    """The job if `user` owns it; any other case is the same 404, so ids of others' jobs leak nothing."""
    try:
        parsed = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
    except ValueError:
        raise NotFoundError(f"No job with id {job_id}.") from None
    job = Job.objects.filter(id=parsed, owner_id=user.pk).first() if user.is_authenticated else None
    if job is None:
        raise NotFoundError(f"No job with id {job_id}.")
    return job


_REUSABLE_SQL = f"""
    SELECT * FROM {Job._meta.db_table}
    WHERE dedup_key = %s AND (status IN (%s, %s) OR (status = %s AND finished_at >= %s))
    ORDER BY status = %s DESC, finished_at DESC NULLS LAST
    LIMIT 1
"""


def job_reusable(*, dedup_key: str, include_fresh: bool) -> Job | None:
    """The job an identical submission gets instead of a new one: a freshly completed one (preferred, its
    result is there; the freshest when several are) or the active one.

    One statement, so one snapshot: a job finishing between two separate reads (active, then fresh) could be
    missed by both, and a second identical job created beside a result that had just arrived.

    Raw SQL because every submission runs it: the ORM compiled the same query each time, ~0.9 ms of CPU
    against ~0.3 ms for this (docs/BENCHMARKS.md §1). Ordering by `finished_at` alone
    would put completed jobs first today (active ones have none: `job_redrive` clears it), but the explicit
    status key costs nothing here and does not lean on that.
    """
    fresh_since = timezone.now() - timedelta(seconds=settings.JOB_RESULT_FRESHNESS_S)
    params = [
        dedup_key,
        *(str(status) for status in Job.ACTIVE_STATUSES),
        # No job has an empty status: without `include_fresh` the completed branch matches nothing.
        str(Job.Status.COMPLETED) if include_fresh else "",
        connection.ops.adapt_datetimefield_value(fresh_since),
        str(Job.Status.COMPLETED),
    ]
    return next(iter(Job.objects.raw(_REUSABLE_SQL, params)), None)


def job_snapshot(*, job: Job) -> dict[str, Any]:
    """What a WebSocket subscriber needs to catch up: everything but the (possibly large) result body."""
    enrichment = (job.result or {}).get("enrichment") if job.status == Job.Status.COMPLETED else None
    return {
        "job_id": str(job.id),
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "stage": job.stage,
        "error": job.error,
        "result_url": result_url(str(job.id)) if job.status == Job.Status.COMPLETED else None,
        "enrichment_status": (enrichment or {}).get("status"),
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def job_list_for_owner(
    *,
    user: AbstractBaseUser,
    status: str | None = None,
    kind: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    parent_id: uuid.UUID | None = None,
) -> QuerySet[Job]:
    """The user's jobs, newest first (the `owner, -created_at` index serves it), optionally filtered."""
    jobs = Job.objects.filter(owner_id=user.pk)
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    if created_after is not None:
        jobs = jobs.filter(created_at__gte=created_after)
    if created_before is not None:
        jobs = jobs.filter(created_at__lt=created_before)
    if parent_id is not None:
        jobs = jobs.filter(parent_id=parent_id)
    # The id breaks ties between jobs created in the same microsecond, so pages never overlap.
    return jobs.order_by("-created_at", "-id")


@dataclass(frozen=True, slots=True)
class ChildJob:
    id: uuid.UUID
    kind: str
    status: str
    wallet: str | None  # None for the similarity child, which covers every wallet
    error_type: str | None


def job_children(*, parent_id: uuid.UUID) -> list[ChildJob]:
    rows = Job.objects.filter(parent_id=parent_id).order_by("kind", "created_at", "id")
    return [
        ChildJob(
            id=row["id"],
            kind=row["kind"],
            status=row["status"],
            wallet=(row["params"] or {}).get("wallet"),
            error_type=(row["error"] or {}).get("type"),
        )
        for row in rows.values("id", "kind", "status", "params", "error")
    ]


def bulk_analysis_result(*, parent: Job, children: list[ChildJob]) -> dict[str, Any]:
    """A bulk parent's result: counts per analysis type and status, totals, and every child job."""
    statuses = [str(status) for status in Job.TERMINAL_STATUSES]
    empty = {"total": 0, **dict.fromkeys(statuses, 0)}
    counts: dict[str, dict[str, int]] = {kind: dict(empty) for kind in parent.params.get("types", [])}
    totals = dict(empty)
    for child in children:
        per_kind = counts.setdefault(child.kind, dict(empty))
        for bucket in (per_kind, totals):
            bucket["total"] += 1
            if child.status in bucket:
                bucket[child.status] += 1
    return {
        "wallets": len(parent.params.get("wallets", [])),
        "types": list(parent.params.get("types", [])),
        "counts": counts,
        "totals": totals,
        "children": [
            {
                "job_id": str(child.id),
                "kind": child.kind,
                "wallet": child.wallet,
                "status": child.status,
                "error_type": child.error_type,
            }
            for child in children
        ],
    }


@dataclass(frozen=True, slots=True)
class JobTreeState:
    """Where a job and its children stand, for a waiting command's progress bar."""

    job: Job
    children_total: int
    children_ended: int
    by_status: dict[str, int]


def job_tree_state(*, job_id: uuid.UUID | str) -> JobTreeState:
    job = Job.objects.get(id=job_id)
    by_status: dict[str, int] = {}
    for status in Job.objects.filter(parent_id=job.id).values_list("status", flat=True):
        by_status[status] = by_status.get(status, 0) + 1
    ended = sum(count for status, count in by_status.items() if status in Job.TERMINAL_STATUSES)
    return JobTreeState(job, sum(by_status.values()), ended, by_status)


@dataclass(frozen=True, slots=True)
class BulkWalletProgress:
    """Where the wallets of bulk jobs stand, for a waiting command's progress bar: a wallet is done when
    every one-wallet analysis of it (PnL, behaviour) has ended, failed when one of them did not complete."""

    wallets_total: int
    wallets_done: int
    wallets_failed: int
    analyses_total: int
    analyses_ended: int


def bulk_wallet_progress(*, parents: Sequence[Job]) -> BulkWalletProgress:
    """One light query over the parents' children (kind, wallet, status; not their results)."""
    wanted: dict[str, int] = {}
    analyses_total = 0
    for parent in parents:
        per_wallet = [kind for kind in parent.params.get("types", []) if kind != Job.Kind.SIMILARITY]
        for wallet in parent.params.get("wallets", []):
            wanted[wallet] = wanted.get(wallet, 0) + len(per_wallet)
        analyses_total += len(bulk_analysis_children_wanted(params=parent.params))
    ended: dict[str, int] = {}
    failed: set[str] = set()
    analyses_ended = 0
    rows = Job.objects.filter(parent_id__in=[parent.id for parent in parents]).values_list(
        "kind", "params__wallet", "status"
    )
    for kind, wallet, status in rows.iterator(chunk_size=5000):
        if status not in Job.TERMINAL_STATUSES:
            continue
        analyses_ended += 1
        if kind == Job.Kind.SIMILARITY:
            continue
        ended[wallet] = ended.get(wallet, 0) + 1
        if status != Job.Status.COMPLETED:
            failed.add(wallet)
    done = [wallet for wallet, count in wanted.items() if count and ended.get(wallet, 0) >= count]
    return BulkWalletProgress(
        wallets_total=sum(1 for count in wanted.values() if count),
        wallets_done=len(done),
        wallets_failed=len(failed.intersection(done)),
        analyses_total=analyses_total,
        analyses_ended=analyses_ended,
    )


def jobs_statuses(*, job_ids: list[str]) -> dict[str, str]:
    """{job id: status}, without the jobs' results (a command polling thousands of jobs reads this)."""
    return {
        str(job_id): status
        for job_id, status in Job.objects.filter(id__in=job_ids).values_list("id", "status")
    }


def jobs_by_ids(*, job_ids: list[str]) -> list[Job]:
    """Jobs in the order of `job_ids` (ids with no job are left out)."""
    found = {str(job.id): job for job in Job.objects.filter(id__in=job_ids)}
    return [found[job_id] for job_id in job_ids if job_id in found]


BULK_ANALYSIS_TYPES: tuple[Job.Kind, ...] = (Job.Kind.PNL, Job.Kind.BEHAVIOR, Job.Kind.SIMILARITY)


def bulk_analysis_children_wanted(*, params: dict[str, Any]) -> list[tuple[Job.Kind, dict[str, Any]]]:
    """The children a bulk job with these params has, as (kind, params): one PnL or behaviour job per wallet
    per type, and one similarity job over the whole set."""
    wallets: list[str] = list(params.get("wallets", []))
    force = bool(params.get("force"))
    wanted: list[tuple[Job.Kind, dict[str, Any]]] = []
    for kind in params.get("types", []):
        if kind == Job.Kind.SIMILARITY:
            wanted.append((Job.Kind.SIMILARITY, {"wallets": wallets, "options": {}}))
        else:
            wanted.extend((Job.Kind(kind), {"wallet": wallet, "force": force}) for wallet in wallets)
    return wanted


# Raw SQL because every submission runs it (the ORM compiled its two queries each time, ~1 ms of CPU).
_ACTIVE_SQL = f"""
    SELECT COUNT(*), COALESCE(SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END), 0) FROM (
        SELECT kind FROM {Job._meta.db_table} WHERE owner_id = %s AND status IN (%s, %s) LIMIT %s
    ) AS active
"""


def job_active_load_for_owner(*, owner_id: Any, at_most: int) -> int:
    """The owner's queued and running jobs, counting a bulk parent's children before they exist; the count
    stops a little past `at_most` (the cap on active jobs only needs to know whether it is reached).

    Reads the partial index `job_owner_active` (queued and running rows only), so it costs O(active jobs),
    not O(the owner's history). A parent's children replace its pending count one for one as they are
    created, so the sum holds while its start task writes them.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _ACTIVE_SQL,
            [Job.Kind.BULK_ANALYSIS, owner_id, *(str(status) for status in Job.ACTIVE_STATUSES), at_most + 1],
        )
        count, bulk_parents = cursor.fetchone()
    if count > at_most or not bulk_parents:
        return int(count)
    active = Job.objects.filter(owner_id=owner_id, status__in=Job.ACTIVE_STATUSES)
    parents = dict(active.filter(kind=Job.Kind.BULK_ANALYSIS).values_list("id", "params")[: at_most + 1])
    created: dict[uuid.UUID, int] = {
        row["parent_id"]: row["created"]
        for row in Job.objects.filter(parent_id__in=list(parents))
        .values("parent_id")
        .annotate(created=Count("id"))
    }
    pending = sum(
        max(0, len(bulk_analysis_children_wanted(params=params)) - created.get(parent_id, 0))
        for parent_id, params in parents.items()
    )
    return int(count) + pending
