"""The similarity flow end to end: HTTP submit, real workers on the four queues, WebSocket events."""

from __future__ import annotations

import pytest
import requests

from core.redis import balance_key, get_redis
from jobs.models import Job, TaskRun
from tests.integration.conftest import ApiUser
from tests.support.stack import Stack, wait_for
from tests.support.ws import JobSocket
from wallets.models import Swap
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FLOW_TIMEOUT_S = 90


def _family_wallets() -> list[str]:
    market = SimulatedMarket(seed=0)
    family = market.families()[0]
    return [*family.members, *market.sample_wallets(2)]


def _submit(stack: Stack, user: ApiUser, wallets: list[str], **extra: object) -> requests.Response:
    return requests.post(
        f"{stack.base_url}/jobs/similarity/analyze",
        json={"wallets": wallets, **extra},
        headers=user.headers,
        timeout=10,
    )


def test_flow_runs_on_real_workers_and_reports_over_websocket(live_stack: Stack, api_user: ApiUser) -> None:
    wallets = _family_wallets()
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        response = _submit(live_stack, api_user, wallets)
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["deduplicated"] is False
        assert body["wallet_count"] == len(wallets)
        assert body["queue"] == "similarity-operations"
        job_id = body["job_id"]

        snapshot = socket.subscribe(job_id)
        assert snapshot["type"] == "job-snapshot" and snapshot["job_id"] == job_id
        completed = socket.wait_for(
            lambda e: e["type"] in {"job-completed", "job-failed"}, timeout_s=FLOW_TIMEOUT_S
        )
        assert completed["type"] == "job-completed", completed
        assert completed["result_url"] == f"/jobs/{job_id}/result"
        enriched = socket.wait_for(lambda e: e["type"] == "enrichment-completed", timeout_s=FLOW_TIMEOUT_S)

    progress = [e["progress"] for e in socket.received if e["type"] == "job-progress"]
    assert progress, "no job-progress events arrived"
    assert progress == sorted(progress), f"progress went down: {progress}"
    assert progress[-1] == 100
    assert any(5 < value < 60 for value in progress), f"no progress while wallets synced: {progress}"
    types = [e["type"] for e in socket.received]
    assert types.index("job-completed") < types.index("enrichment-completed")
    assert enriched["status"] == "completed" and len(enriched["balances"]) == len(wallets)

    result = requests.get(f"{live_stack.base_url}/jobs/{job_id}/result", headers=api_user.headers, timeout=10)
    assert result.status_code == 200
    payload = result.json()
    assert payload["status"] == "completed"
    similarity = payload["result"]
    assert sorted(similarity["wallets"]) == sorted(wallets)
    assert similarity["failed_wallets"] == []
    assert len(similarity["matrices"]["combined"]) == len(wallets)
    assert similarity["enrichment"]["status"] == "completed"

    # Swaps really were extracted and stored by the wallet workers.
    assert Swap.objects.filter(wallet_id__in=wallets).count() > 0


def test_sync_tasks_run_on_wallet_worker_and_body_on_similarity_worker(
    live_stack: Stack, api_user: ApiUser
) -> None:
    wallets = SimulatedMarket(seed=0).sample_wallets(3)
    get_redis().delete(*(balance_key(wallet) for wallet in wallets))  # an earlier test may have fetched them
    job_id = _submit(live_stack, api_user, wallets).json()["job_id"]
    wait_for(
        lambda: Job.objects.get(id=job_id).status == Job.Status.COMPLETED,
        timeout_s=FLOW_TIMEOUT_S,
        what="job completion",
    )
    wait_for(
        lambda: not TaskRun.objects.filter(job_id=job_id, finished_at__isnull=True).exists(),
        timeout_s=10,
        what="task runs to finish",
    )
    runs = list(TaskRun.objects.filter(job_id=job_id))
    by_name: dict[str, list[TaskRun]] = {}
    for run in runs:
        by_name.setdefault(run.task_name, []).append(run)

    syncs = by_name["jobs.similarity_sync_wallet"]
    assert len(syncs) == len(wallets)
    assert {run.queue for run in syncs} == {"wallet-operations"}
    assert all(run.worker.startswith("wallet@") for run in syncs)
    balances = by_name["jobs.similarity_fetch_balances"]
    assert len(balances) == len(wallets)  # one per wallet: the branch lasts as long as its slowest wallet
    assert all(run.worker.startswith("wallet@") and run.queue == "wallet-operations" for run in balances)
    [body] = by_name["jobs.similarity_finish"]
    assert body.queue == "similarity-operations" and body.worker.startswith("similarity@")
    [start] = by_name["jobs.similarity_flow"]
    assert start.worker.startswith("similarity@")
    wait_for(
        lambda: TaskRun.objects.filter(job_id=job_id, task_name="jobs.enrich_job_balances").exists(),
        timeout_s=30,
        what="enrichment task",
    )
    enrichment = TaskRun.objects.get(job_id=job_id, task_name="jobs.enrich_job_balances")
    assert enrichment.worker.startswith("enrichment@") and enrichment.queue == "enrichment-operations"


def test_late_subscriber_gets_final_state_in_snapshot(live_stack: Stack, api_user: ApiUser) -> None:
    wallets = SimulatedMarket(seed=0).sample_wallets(2)
    job_id = _submit(live_stack, api_user, wallets).json()["job_id"]
    wait_for(
        lambda: Job.objects.get(id=job_id).status == Job.Status.COMPLETED,
        timeout_s=FLOW_TIMEOUT_S,
        what="job completion",
    )

    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        snapshot = socket.subscribe(job_id)
    assert snapshot["type"] == "job-snapshot"
    assert snapshot["status"] == "completed"
    assert snapshot["progress"] == 100
    assert snapshot["result_url"] == f"/jobs/{job_id}/result"


def test_idle_websocket_still_receives_the_next_event(live_stack: Stack, api_user: ApiUser) -> None:
    """channels-redis with redis-py 8 used to drop sockets idle for ~5 s (docs/ARCHITECTURE.md §14); 30 s
    idle must be fine."""
    wallets = SimulatedMarket(seed=0).sample_wallets(2)
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        with pytest.raises(TimeoutError):
            socket.next_event(timeout_s=31)  # 31 s of silence: the connection must survive it
        job_id = _submit(live_stack, api_user, wallets).json()["job_id"]
        socket.subscribe(job_id)
        done = socket.wait_for(
            lambda e: e["type"] in {"job-completed", "job-failed"}, timeout_s=FLOW_TIMEOUT_S
        )
    assert done["type"] == "job-completed"
    assert any(e["type"] == "job-progress" for e in socket.received)


def test_identical_submission_is_deduplicated(live_stack: Stack, api_user: ApiUser) -> None:
    wallets = SimulatedMarket(seed=0).sample_wallets(2)
    first = _submit(live_stack, api_user, wallets)
    second = _submit(live_stack, api_user, [*list(reversed(wallets)), wallets[0]])
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["deduplicated"] is True
    assert second.json()["job_id"] == first.json()["job_id"]
    assert Job.objects.filter(owner__username=api_user.username).count() == 1


def test_other_users_cannot_see_or_subscribe_to_a_job(live_stack: Stack, api_user: ApiUser) -> None:
    from tests.integration.conftest import make_api_user

    stranger = make_api_user("stranger")
    job_id = _submit(live_stack, api_user, SimulatedMarket(seed=0).sample_wallets(2)).json()["job_id"]
    for suffix in ("", "/status", "/progress", "/result"):
        response = requests.get(
            f"{live_stack.base_url}/jobs/{job_id}{suffix}", headers=stranger.headers, timeout=10
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    with JobSocket(live_stack.ws_url, token=stranger.token) as socket:
        answer = socket.subscribe(job_id)
    assert answer["type"] == "error" and answer["error"]["code"] == "not_found"


def test_fresh_wallets_with_cached_balances_need_no_wallet_task(live_stack: Stack, api_user: ApiUser) -> None:
    """Wallets synced within WALLET_SYNC_FRESHNESS and balances fetched within 30 s are not fetched again:
    the start task runs the body itself, and the enrichment still arrives (from the cached balances)."""
    wallets = SimulatedMarket(seed=0).sample_wallets(5)[3:]
    first = _submit(live_stack, api_user, wallets).json()["job_id"]
    wait_for(lambda: Job.objects.get(id=first).status == Job.Status.COMPLETED, timeout_s=FLOW_TIMEOUT_S)
    assert all(get_redis().exists(balance_key(wallet)) for wallet in wallets)

    again = _submit(live_stack, api_user, wallets, force=True).json()["job_id"]
    job = wait_for(
        lambda: (j := Job.objects.get(id=again)).status == Job.Status.COMPLETED and j,
        timeout_s=FLOW_TIMEOUT_S,
    )
    names = set(TaskRun.objects.filter(job_id=again).values_list("task_name", flat=True))
    assert "jobs.similarity_flow" in names
    assert not names & {
        "jobs.similarity_sync_wallet",
        "jobs.similarity_fetch_balances",
        "jobs.similarity_finish",
    }
    assert sorted(job.result["wallets"]) == sorted(wallets)
    enriched = wait_for(
        lambda: ((j := Job.objects.get(id=again)).result or {})["enrichment"]["status"] == "completed" and j,
        timeout_s=FLOW_TIMEOUT_S,
        what="enrichment from the cached balances",
    )
    assert {balance["wallet"] for balance in enriched.result["enrichment"]["balances"]} == set(wallets)
