"""Bulk analysis without workers: children, settling the parent exactly once, cancel cascade, the sweep."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import base58
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobs import dispatch, recovery, services
from jobs.flows import bulk
from jobs.models import Job

pytestmark = pytest.mark.django_db

WALLETS = sorted(base58.b58encode(hashlib.sha256(f"bulk-{i}".encode()).digest()).decode() for i in range(3))


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record what would be enqueued instead of sending it: no worker runs here."""
    sent: list[str] = []
    monkeypatch.setattr(dispatch, "job_enqueue", lambda job: sent.append(str(job.id)))
    return sent


@pytest.fixture
def owner() -> User:
    return get_user_model().objects.create_user(username="bulk-owner")


@pytest.fixture
def run_on_commit(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Iterator[Callable[[Callable[[], Any]], Any]]:
    """Run `action` and the callbacks it registered for after its commit (the test holds one transaction)."""

    def run(action: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    yield run


def _start_parent(owner: User, run: Callable[[Callable[[], Any]], Any], types: list[str]) -> Job:
    parent = services.job_submit_bulk_analysis(owner=owner, wallets=WALLETS, types=types).job
    run(lambda: bulk.start(job_id=str(parent.id)))
    parent.refresh_from_db()
    return parent


def _end(child: Job, how: str) -> None:
    if how == "cancelled":
        services.job_cancel(job=child)
        return
    services.job_start(job_id=str(child.id))
    if how == "completed":
        services.job_complete(job_id=str(child.id), result={"ok": True}, enrichment=services.NO_ENRICHMENT)
    else:
        services.job_fail(job_id=str(child.id), error_type="fatal", message="boom")


def test_submit_over_http_makes_a_queued_parent(owner: User, no_broker: list[str]) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    body = {"wallets": [*WALLETS, WALLETS[0]], "types": ["similarity", "pnl", "behavior"]}
    response = api.post("/jobs/bulk-analysis", body, format="json")
    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["wallet_count"] == 3 and answer["queue"] == "analysis-operations"
    parent = Job.objects.get(id=answer["job_id"])
    assert parent.kind == Job.Kind.BULK_ANALYSIS
    assert parent.params == {"wallets": WALLETS, "types": ["pnl", "behavior", "similarity"], "force": False}
    again = api.post(
        "/jobs/bulk-analysis",
        {"wallets": WALLETS[::-1], "types": ["behavior", "similarity", "pnl"]},
        format="json",
    )
    assert again.status_code == 200 and again.json()["job_id"] == answer["job_id"]


def test_children_are_created_once_and_enqueued(
    owner: User, run_on_commit: Callable[..., Any], no_broker: list[str]
) -> None:
    parent = _start_parent(owner, run_on_commit, ["pnl", "behavior", "similarity"])
    children = list(parent.children.all())
    assert parent.status == Job.Status.RUNNING and parent.stage == "waiting_children"
    assert sorted(child.kind for child in children) == ["behavior"] * 3 + ["pnl"] * 3 + ["similarity"]
    assert all(child.owner_id == owner.pk and child.status == Job.Status.QUEUED for child in children)
    similarity = next(child for child in children if child.kind == Job.Kind.SIMILARITY)
    assert (
        similarity.params == {"wallets": WALLETS, "options": {}}
        and similarity.queue == "similarity-operations"
    )
    assert {child.params["wallet"] for child in children if child.kind == Job.Kind.PNL} == set(WALLETS)
    assert sorted(no_broker) == sorted(str(child.id) for child in children)

    # A second start (a duplicate message, a retry) creates nothing more.
    run_on_commit(lambda: bulk.start(job_id=str(parent.id)))
    assert parent.children.count() == 7


def test_a_standalone_job_is_never_taken_for_a_child(owner: User, run_on_commit: Callable[..., Any]) -> None:
    standalone = services.job_submit_wallet_job(kind=Job.Kind.PNL, owner=owner, wallet=WALLETS[0]).job
    parent = _start_parent(owner, run_on_commit, ["pnl"])
    child = parent.children.get(params__wallet=WALLETS[0])
    assert child.id != standalone.id and child.dedup_key != standalone.dedup_key


def test_parent_completes_once_when_the_last_child_ends_with_counts(
    owner: User, run_on_commit: Callable[..., Any]
) -> None:
    parent = _start_parent(owner, run_on_commit, ["pnl", "behavior"])
    children = list(parent.children.order_by("kind", "params__wallet"))
    endings = ["completed", "completed", "failed", "completed", "cancelled", "completed"]
    for child, how in zip(children[:-1], endings[:-1], strict=True):
        run_on_commit(lambda child=child, how=how: _end(child, how))
        parent.refresh_from_db()
        assert parent.status == Job.Status.RUNNING
    assert 5 < parent.progress < 100
    run_on_commit(lambda: _end(children[-1], endings[-1]))
    parent.refresh_from_db()
    assert parent.status == Job.Status.COMPLETED and parent.progress == 100
    result = parent.result
    assert result is not None
    assert result["counts"] == {
        "behavior": {"total": 3, "completed": 2, "failed": 1, "cancelled": 0},
        "pnl": {"total": 3, "completed": 2, "failed": 0, "cancelled": 1},
    }
    assert result["totals"] == {"total": 6, "completed": 4, "failed": 1, "cancelled": 1}
    assert sorted(child["job_id"] for child in result["children"]) == sorted(str(c.id) for c in children)
    assert result["enrichment"]["status"] == "not_applicable"
    finished_at = parent.finished_at

    # Settling again (a late check, the sweep) changes nothing.
    assert services.job_parent_settle(parent_id=str(parent.id)) is False
    parent.refresh_from_db()
    assert parent.finished_at == finished_at


def test_cancelling_the_parent_cancels_its_active_children(
    owner: User, run_on_commit: Callable[..., Any]
) -> None:
    parent = _start_parent(owner, run_on_commit, ["pnl", "similarity"])
    done = parent.children.filter(kind=Job.Kind.PNL).first()
    assert done is not None
    run_on_commit(lambda: _end(done, "completed"))
    assert run_on_commit(lambda: services.job_cancel(job=parent)) is True
    parent.refresh_from_db()
    assert parent.status == Job.Status.CANCELLED
    statuses = dict(parent.children.values_list("id", "status"))
    assert statuses.pop(done.id) == Job.Status.COMPLETED
    assert set(statuses.values()) == {Job.Status.CANCELLED} and len(statuses) == 3


def test_cancelled_queued_parent_never_creates_children(
    owner: User, run_on_commit: Callable[..., Any]
) -> None:
    parent = services.job_submit_bulk_analysis(owner=owner, wallets=WALLETS, types=["pnl"]).job
    services.job_cancel(job=parent)
    run_on_commit(lambda: bulk.start(job_id=str(parent.id)))
    assert not parent.children.exists()


def test_sweep_leaves_a_waiting_parent_alone_and_settles_a_lost_check(
    owner: User, run_on_commit: Callable[..., Any], settings: Any
) -> None:
    settings.JOB_STALL_TIMEOUT_S = 30
    parent = _start_parent(owner, run_on_commit, ["pnl"])
    long_ago = timezone.now() - timedelta(hours=2)
    Job.objects.filter(id=parent.id).update(heartbeat_at=long_ago)
    # Children still working: the parent is merely waiting, however old its heartbeat.
    for child in parent.children.all():
        services.job_start(job_id=str(child.id))
    Job.objects.filter(parent=parent).update(heartbeat_at=timezone.now())
    assert recovery.jobs_sweep_stalled() == {
        "redriven": 0,
        "dead_lettered": 0,
        "requeued": 0,
        "enrichment_resent": 0,
        "history_deepening_queued": 0,
    }
    parent.refresh_from_db()
    assert parent.status == Job.Status.RUNNING and parent.attempts == 1

    # The children end but their settle is lost (no commit callbacks run): the sweep completes the parent.
    for child in parent.children.all():
        services.job_complete(job_id=str(child.id), result={}, enrichment=services.NO_ENRICHMENT)
    parent.refresh_from_db()
    assert parent.status == Job.Status.RUNNING
    recovery.jobs_sweep_stalled()
    parent.refresh_from_db()
    assert parent.status == Job.Status.COMPLETED
    assert (parent.result or {})["totals"]["completed"] == 3


def test_sweep_redrives_a_parent_whose_fan_out_was_lost(owner: User, settings: Any) -> None:
    settings.JOB_STALL_TIMEOUT_S = 30
    parent = services.job_submit_bulk_analysis(owner=owner, wallets=WALLETS, types=["pnl"]).job
    services.job_start(job_id=str(parent.id))
    Job.objects.filter(id=parent.id).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert recovery.jobs_sweep_stalled()["redriven"] == 1
    parent.refresh_from_db()
    assert parent.status == Job.Status.QUEUED
