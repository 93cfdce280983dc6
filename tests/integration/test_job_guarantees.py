"""docs/ARCHITECTURE.md §4 guarantees, each proven through real workers on real Redis and PostgreSQL (issue
4)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
from django.conf import settings
from django.contrib.auth import get_user_model

from core.queues import SIMILARITY_QUEUE, WALLET_QUEUE, Priority
from core.redis import SIMULATED_FAULT_RATE_KEY, SIMULATED_LATENCY_KEY
from jobs import services
from jobs.models import DeadLetter, Job, TaskRun
from tests.integration.conftest import ApiUser, make_api_user
from tests.support.stack import Stack, wait_for
from tests.support.ws import JobSocket
from wallets.extraction import extract_wallet_swaps
from wallets.models import Swap, Wallet
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FLOW_TIMEOUT_S = 120
MARKET = SimulatedMarket(seed=0)


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    yield client
    client.delete(SIMULATED_FAULT_RATE_KEY, SIMULATED_LATENCY_KEY)


def _submit(stack: Stack, user: ApiUser, wallets: list[str], **extra: object) -> requests.Response:
    return requests.post(
        f"{stack.base_url}/jobs/similarity/analyze",
        json={"wallets": wallets, **extra},
        headers=user.headers,
        timeout=30,
    )


def _job_ends(job_id: str, timeout_s: float = FLOW_TIMEOUT_S) -> Job:
    job: Job = wait_for(
        lambda: (j := Job.objects.get(id=job_id)).is_terminal and j,
        timeout_s=timeout_s,
        interval_s=0.2,
        what=f"job {job_id} to end",
    )
    return job


def _expected_swap_count(wallet: str) -> int:
    signatures = [s["signature"] for s in MARKET.get_signatures(wallet) if s["err"] is None]
    transactions = [
        tx for i in range(0, len(signatures), 100) for tx in MARKET.get_transactions(signatures[i : i + 100])
    ]
    return len(extract_wallet_swaps(transactions, wallet).legs)


def test_200_concurrent_identical_submissions_make_one_job(live_stack: Stack, api_user: ApiUser) -> None:
    wallets = MARKET.sample_wallets(3, archetype="holder")
    with ThreadPoolExecutor(max_workers=32) as pool:
        responses = list(pool.map(lambda _: _submit(live_stack, api_user, wallets), range(200)))
    assert all(r.status_code in (200, 202) for r in responses), {r.status_code for r in responses}
    job_ids = {r.json()["job_id"] for r in responses}
    assert len(job_ids) == 1
    assert sum(r.status_code == 202 for r in responses) == 1
    [job_id] = job_ids
    assert _job_ends(job_id).status == Job.Status.COMPLETED
    assert Job.objects.filter(owner__username=api_user.username).count() == 1
    assert TaskRun.objects.filter(job_id=job_id, task_name="jobs.similarity_flow").count() == 1
    assert TaskRun.objects.filter(job_id=job_id, task_name="jobs.similarity_finish").count() == 1


def test_overlapping_jobs_sync_each_shared_wallet_once(
    live_stack: Stack, api_user: ApiUser, broker: redis.Redis
) -> None:
    broker.set(SIMULATED_LATENCY_KEY, 100)  # long enough that the two jobs' syncs overlap
    shared = MARKET.sample_wallets(8)[:5]
    own_a, own_b = MARKET.sample_wallets(10)[8:]
    other = make_api_user("other")
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(
            lambda args: _submit(live_stack, *args), [(api_user, [*shared, own_a]), (other, [*shared, own_b])]
        )
    for response in (first, second):
        assert response.status_code == 202
        assert _job_ends(response.json()["job_id"]).status == Job.Status.COMPLETED
    sync_counts = dict(Wallet.objects.filter(address__in=shared).values_list("address", "sync_count"))
    assert sync_counts == dict.fromkeys(shared, 1)


def test_cancelled_queued_job_does_no_work_even_across_worker_restarts(
    live_stack: Stack, api_user: ApiUser
) -> None:
    queues = [WALLET_QUEUE, SIMILARITY_QUEUE]
    for queue in queues:
        live_stack.stop_process(queue)
    wallets = MARKET.sample_wallets(14)[12:]
    job_id = _submit(live_stack, api_user, wallets).json()["job_id"]
    cancel = requests.post(
        f"{live_stack.base_url}/jobs/{job_id}/cancel", headers=api_user.headers, timeout=10
    )
    assert cancel.status_code == 200 and cancel.json()["cancelled"] is True
    live_stack.restart_workers(queues)

    # The start message is delivered to a worker that never saw the revoke; the ledger stops it.
    wait_for(
        lambda: TaskRun.objects.filter(
            job_id=job_id, task_name="jobs.similarity_flow", finished_at__isnull=False
        ).exists(),
        timeout_s=30,
        what="the start task to be delivered",
    )
    job = Job.objects.get(id=job_id)
    assert job.status == Job.Status.CANCELLED and job.attempts == 0 and job.result is None
    assert not TaskRun.objects.filter(job_id=job_id).exclude(task_name="jobs.similarity_flow").exists()
    assert not Swap.objects.filter(wallet_id__in=wallets).exists()
    again = requests.delete(f"{live_stack.base_url}/jobs/{job_id}", headers=api_user.headers, timeout=10)
    assert again.status_code == 200 and again.json()["cancelled"] is False


def test_job_cancelled_while_syncing_never_runs_its_body(
    live_stack: Stack, api_user: ApiUser, broker: redis.Redis
) -> None:
    broker.set(SIMULATED_LATENCY_KEY, 400)
    wallets = MARKET.sample_wallets(17)[14:]
    job_id = _submit(live_stack, api_user, wallets).json()["job_id"]
    wait_for(
        lambda: TaskRun.objects.filter(job_id=job_id, task_name="jobs.similarity_sync_wallet").exists(),
        timeout_s=30,
        what="a sync to start",
    )
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        socket.subscribe(job_id)
        response = requests.delete(
            f"{live_stack.base_url}/jobs/{job_id}", headers=api_user.headers, timeout=10
        )
        assert response.status_code == 200 and response.json()["cancelled"] is True
        cancelled = socket.wait_for(lambda e: e["type"] == "job-cancelled", timeout_s=10)
    assert cancelled["job_id"] == job_id and cancelled["status"] == "cancelled"
    wait_for(
        lambda: not TaskRun.objects.filter(job_id=job_id, finished_at__isnull=True).exists(),
        timeout_s=60,
        what="in-flight tasks to stop",
    )
    broker.delete(SIMULATED_LATENCY_KEY)
    job = Job.objects.get(id=job_id)
    assert job.status == Job.Status.CANCELLED and job.result is None
    assert not TaskRun.objects.filter(job_id=job_id, task_name="jobs.similarity_finish").exists()


def test_critical_job_starts_before_fifty_low_jobs_queued_ahead(live_stack: Stack, api_user: ApiUser) -> None:
    live_stack.stop_process(SIMILARITY_QUEUE)
    owner = get_user_model().objects.get(username=api_user.username)
    wallets = sorted(MARKET.sample_wallets(19)[17:])

    def submit(priority: int, tag: str) -> Job:
        params = {"wallets": wallets, "options": {"tag": tag}}
        return services.job_submit(
            kind=Job.Kind.SIMILARITY, owner=owner, params=params, priority=priority
        ).job

    low_jobs = [submit(Priority.LOW, f"low-{i}") for i in range(50)]
    critical = submit(Priority.CRITICAL, "critical")
    try:
        live_stack.restart_workers([SIMILARITY_QUEUE])
        assert _job_ends(str(critical.id)).status == Job.Status.COMPLETED
        critical.refresh_from_db()
        started_low = [
            j.started_at for j in Job.objects.filter(id__in=[j.id for j in low_jobs]) if j.started_at
        ]
        assert critical.started_at is not None
        assert all(critical.started_at < started for started in started_low), "a LOW job started first"
    finally:
        for job in Job.objects.filter(id__in=[j.id for j in low_jobs], status__in=Job.ACTIVE_STATUSES):
            services.job_cancel(job=job)


def test_killed_wallet_worker_mid_sync_recovers_without_duplicates(
    live_stack: Stack, api_user: ApiUser, broker: redis.Redis
) -> None:
    broker.set(SIMULATED_LATENCY_KEY, 300)
    wallets = MARKET.sample_wallets(23)[19:]
    job_id = _submit(live_stack, api_user, wallets).json()["job_id"]
    wait_for(
        lambda: Swap.objects.filter(wallet_id__in=wallets).exists(),
        timeout_s=60,
        what="a sync to write swaps",
    )
    live_stack.kill_hard(WALLET_QUEUE)
    broker.delete(SIMULATED_LATENCY_KEY)
    live_stack.restart_workers([WALLET_QUEUE])

    job = _job_ends(job_id)
    assert job.status == Job.Status.COMPLETED, job.error
    assert job.attempts == 2  # re-driven once by the stalled sweep
    for wallet in wallets:
        assert Swap.objects.filter(wallet_id=wallet).count() == _expected_swap_count(wallet)


def test_redis_flush_mid_flow_is_recovered_from_the_ledger(
    live_stack: Stack, api_user: ApiUser, broker: redis.Redis
) -> None:
    broker.set(SIMULATED_LATENCY_KEY, 300)
    # More header tasks (a sync and a balances fetch per wallet: 20) than the wallet worker's 12 threads hold,
    # so some are still waiting in Redis when it is flushed: those are lost and only the ledger can re-drive.
    wallets = MARKET.sample_wallets(160)[150:]
    job_id = _submit(live_stack, api_user, wallets).json()["job_id"]
    wait_for(
        lambda: TaskRun.objects.filter(job_id=job_id, task_name="jobs.similarity_sync_wallet").exists(),
        timeout_s=30,
        what="syncs to start",
    )
    broker.flushall()  # queued messages, chord state and results are gone; the ledger is not
    job = _job_ends(job_id)
    assert job.status == Job.Status.COMPLETED, job.error
    assert job.attempts >= 2
    for wallet in wallets:
        assert Swap.objects.filter(wallet_id=wallet).count() == _expected_swap_count(wallet)


def test_permanent_upstream_failure_dead_letters_and_replay_completes(
    live_stack: Stack, api_user: ApiUser, broker: redis.Redis
) -> None:
    broker.set(SIMULATED_FAULT_RATE_KEY, 1.0)
    wallets = MARKET.sample_wallets(30)[27:]
    job_id = _submit(live_stack, api_user, wallets).json()["job_id"]
    job = _job_ends(job_id)
    assert job.status == Job.Status.FAILED
    error = job.error or {}
    assert error["type"] == "insufficient_data"
    assert "simulated upstream fault" in error["message"]
    letters = DeadLetter.objects.filter(job_id=job_id)
    assert letters.filter(task_name="jobs.similarity_sync_wallet").count() == len(wallets)
    assert all(
        letter.attempts == 3 and "HTTP 503" in letter.message
        for letter in letters.filter(task_name="jobs.similarity_sync_wallet")
    )

    staff = make_api_user("ops")
    get_user_model().objects.filter(username=staff.username).update(is_staff=True)
    broker.delete(SIMULATED_FAULT_RATE_KEY)  # the upstream recovers
    stats = requests.get(f"{live_stack.base_url}/jobs/failed/stats", headers=staff.headers, timeout=10).json()
    assert stats["total"] >= len(wallets)
    recent = requests.get(
        f"{live_stack.base_url}/jobs/failed/recent", headers=staff.headers, timeout=10
    ).json()
    letter_id = next(item["id"] for item in recent if item["job"] == job_id)
    forbidden = requests.post(
        f"{live_stack.base_url}/jobs/failed/{letter_id}/retry", headers=api_user.headers, timeout=10
    )
    assert forbidden.status_code == 403
    replay = requests.post(
        f"{live_stack.base_url}/jobs/failed/{letter_id}/retry", headers=staff.headers, timeout=10
    )
    assert replay.status_code == 202, replay.text
    with contextlib.suppress(TimeoutError):
        wait_for(lambda: Job.objects.get(id=job_id).status != Job.Status.FAILED, timeout_s=10)
    assert _job_ends(job_id).status == Job.Status.COMPLETED
