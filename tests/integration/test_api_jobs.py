"""Wallet sync and bulk analysis jobs end to end: HTTP submit, real workers, WebSocket events, the ledger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import requests
from django.conf import settings

from core.redis import SIMULATED_LATENCY_KEY
from jobs.models import Job, TaskRun
from tests.integration.conftest import ApiUser
from tests.support.stack import Stack, wait_for
from tests.support.ws import JobSocket
from wallets.models import Wallet
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BULK_TIMEOUT_S = 240
FLOW_TIMEOUT_S = 90
# Wallets no other integration test uses, so every one needs a real sync here.
_SAMPLE = SimulatedMarket(seed=0).sample_wallets(130)
BULK_WALLETS = _SAMPLE[100:120]
CANCEL_WALLETS = _SAMPLE[120:126]
SYNC_WALLET = _SAMPLE[126]


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    yield client
    client.delete(SIMULATED_LATENCY_KEY)


def _post(stack: Stack, user: ApiUser, path: str, body: dict[str, object]) -> requests.Response:
    return requests.post(f"{stack.base_url}{path}", json=body, headers=user.headers, timeout=30)


def _get(stack: Stack, user: ApiUser, path: str) -> requests.Response:
    return requests.get(f"{stack.base_url}{path}", headers=user.headers, timeout=30)


def _ended(job_id: str, timeout_s: float) -> Job:
    job: Job = wait_for(
        lambda: (j := Job.objects.get(id=job_id)).is_terminal and j,
        timeout_s=timeout_s,
        interval_s=0.25,
        what=f"job {job_id} to end",
    )
    return job


def test_bulk_analysis_of_20_wallets_runs_40_children_then_completes_the_parent(
    live_stack: Stack, api_user: ApiUser
) -> None:
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        response = _post(
            live_stack,
            api_user,
            "/jobs/bulk-analysis",
            {"wallets": BULK_WALLETS, "types": ["pnl", "behavior"]},
        )
        assert response.status_code == 202, response.text
        parent_id = response.json()["job_id"]
        assert response.json()["wallet_count"] == 20
        socket.subscribe(parent_id)
        completed = socket.wait_for(
            lambda e: e["type"] in {"job-completed", "job-failed", "job-cancelled"}, timeout_s=BULK_TIMEOUT_S
        )
    assert completed["type"] == "job-completed", completed
    assert completed["summary"]["children"] == {"total": 40, "completed": 40, "failed": 0, "cancelled": 0}
    progress = [e["progress"] for e in socket.received if e["type"] == "job-progress"]
    assert progress == sorted(progress) and progress[-1] == 100
    assert any(5 < value < 100 for value in progress), f"no progress as children ended: {progress}"

    parent = Job.objects.get(id=parent_id)
    children = list(Job.objects.filter(parent_id=parent_id))
    assert parent.status == Job.Status.COMPLETED and parent.progress == 100
    assert len(children) == 40
    assert {child.status for child in children} == {Job.Status.COMPLETED}
    assert parent.finished_at is not None
    assert all(
        child.finished_at is not None and child.finished_at <= parent.finished_at for child in children
    )
    for kind in (Job.Kind.PNL, Job.Kind.BEHAVIOR):
        wallets = sorted(child.params["wallet"] for child in children if child.kind == kind)
        assert wallets == sorted(BULK_WALLETS), kind
        assert all((c.result or {}).get("analysis") == kind for c in children if c.kind == kind)

    result = _get(live_stack, api_user, f"/jobs/{parent_id}/result").json()["result"]
    assert result["counts"] == {
        "pnl": {"total": 20, "completed": 20, "failed": 0, "cancelled": 0},
        "behavior": {"total": 20, "completed": 20, "failed": 0, "cancelled": 0},
    }
    assert sorted(child["job_id"] for child in result["children"]) == sorted(str(c.id) for c in children)
    listed = _get(live_stack, api_user, f"/jobs?parent_id={parent_id}&limit=100").json()
    assert listed["count"] == 40

    # The PnL and behaviour children of a wallet shared its sync: each wallet reached the upstream once.
    assert dict(Wallet.objects.filter(address__in=BULK_WALLETS).values_list("address", "sync_count")) == (
        dict.fromkeys(BULK_WALLETS, 1)
    )
    # The parent ran one task (the fan-out); a waiting parent is never re-driven.
    assert parent.attempts == 1
    assert (
        TaskRun.objects.filter(job_id=parent_id).values_list("task_name", flat=True).distinct().count() == 1
    )


def test_cancelling_a_bulk_parent_cancels_its_children(
    live_stack: Stack, api_user: ApiUser, broker: redis.Redis
) -> None:
    broker.set(SIMULATED_LATENCY_KEY, 400)  # slow syncs, so the children are still at work when cancelled
    response = _post(
        live_stack,
        api_user,
        "/jobs/bulk-analysis",
        {"wallets": CANCEL_WALLETS, "types": ["pnl", "behavior", "similarity"]},
    )
    parent_id = response.json()["job_id"]
    wait_for(
        lambda: Job.objects.filter(parent_id=parent_id).count() == 13,
        timeout_s=FLOW_TIMEOUT_S,
        what="the children to be created",
    )
    cancel = requests.post(
        f"{live_stack.base_url}/jobs/{parent_id}/cancel", headers=api_user.headers, timeout=30
    )
    assert cancel.status_code == 200 and cancel.json()["cancelled"] is True
    parent = _ended(parent_id, 10)
    assert parent.status == Job.Status.CANCELLED and parent.result is None
    children = {child.id: child.status for child in Job.objects.filter(parent_id=parent_id)}
    assert Job.Status.CANCELLED in children.values()
    assert not set(children.values()) & set(Job.ACTIVE_STATUSES)
    broker.delete(SIMULATED_LATENCY_KEY)
    # Nothing ends differently afterwards: cancelled children stay cancelled.
    wait_for(
        lambda: not TaskRun.objects.filter(job__parent_id=parent_id, finished_at__isnull=True).exists(),
        timeout_s=FLOW_TIMEOUT_S,
        what="the children's tasks to stop",
    )
    after = {child.id: child.status for child in Job.objects.filter(parent_id=parent_id)}
    assert after == children


def test_wallet_sync_job_reports_what_it_found(live_stack: Stack, api_user: ApiUser) -> None:
    first = _post(live_stack, api_user, "/jobs/wallets/sync", {"wallet": SYNC_WALLET})
    assert first.status_code == 202, first.text
    assert first.json()["queue"] == "wallet-operations"
    job = _ended(first.json()["job_id"], FLOW_TIMEOUT_S)
    assert job.status == Job.Status.COMPLETED, job.error
    result = _get(live_stack, api_user, f"/jobs/{job.id}/result").json()["result"]
    assert result["wallet"] == SYNC_WALLET and result["skipped_fresh"] is False
    assert result["new_transactions"] > 0 and result["new_swaps"] > 0
    assert result["last_synced_at"] is not None
    assert result["balances"]["ok"] is True and result["enrichment"]["status"] == "not_applicable"
    runs = TaskRun.objects.filter(job_id=job.id)
    assert {run.queue for run in runs} == {"wallet-operations"}

    # The same request answers the fresh job; forced, it syncs again and finds nothing new.
    again = _post(live_stack, api_user, "/jobs/wallets/sync", {"wallet": SYNC_WALLET})
    assert again.status_code == 200 and again.json()["job_id"] == str(job.id)
    forced = _post(live_stack, api_user, "/jobs/wallets/sync", {"wallet": SYNC_WALLET, "force": True})
    assert forced.status_code == 202
    resync = _ended(forced.json()["job_id"], FLOW_TIMEOUT_S)
    assert resync.status == Job.Status.COMPLETED
    assert resync.result is not None
    assert resync.result["skipped_fresh"] is False and resync.result["new_transactions"] == 0
    assert Wallet.objects.get(address=SYNC_WALLET).sync_count == 2
