"""History depth end to end (issue 19): real workers, the simulated market's million-transaction bot.

The live stack caps histories at 3,000 transactions (WALLET_HISTORY_MAX_SIGNATURES), with the default first
window of 1,000 (WALLET_SYNC_INITIAL_SIGNATURES). The upstream is slowed (`sim:latency-ms`) where a test must
see a deepening still under way.
"""

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
from wallets.models import Transaction, TransactionEffect, Wallet
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MILLION_BOT, BOT_200K = SimulatedMarket(seed=0).heavy_bots()
CAP = 3_000
FIRST_WINDOW = 999  # the default window of 1,000 less the slot its page may have cut
TIMEOUT_S = 120


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    yield client
    client.delete(SIMULATED_LATENCY_KEY)


def _submit(stack: Stack, user: ApiUser, path: str, wallet: str, **extra: object) -> str:
    response = requests.post(
        f"{stack.base_url}/jobs/{path}", json={"wallet": wallet, **extra}, headers=user.headers, timeout=10
    )
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


def _ended(job_id: str) -> Job:
    return wait_for(
        lambda: (job := Job.objects.get(id=job_id)).is_terminal and job,
        timeout_s=TIMEOUT_S,
        interval_s=0.1,
        what=f"job {job_id} to end",
    )


def _result(stack: Stack, user: ApiUser, job_id: str) -> dict:
    response = requests.get(f"{stack.base_url}/jobs/{job_id}/result", headers=user.headers, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json()["result"])


def _deepened_to_the_cap(wallet: str) -> Wallet:
    return wait_for(
        lambda: (row := Wallet.objects.get(address=wallet)).history_limited_by == "signatures" and row,
        timeout_s=TIMEOUT_S,
        interval_s=0.2,
        what=f"the history of {wallet} to reach the cap",
    )


def _rows(wallet: str) -> tuple[int, int]:
    return (
        TransactionEffect.objects.filter(wallet_id=wallet).count(),
        Transaction.objects.filter(wallets=wallet).count(),
    )


def test_a_pnl_job_answers_on_the_first_window_while_the_history_deepens_behind_it(
    live_stack: Stack, api_user: ApiUser, broker: redis.Redis
) -> None:
    broker.set(SIMULATED_LATENCY_KEY, 150)  # deepening to the cap takes seconds: the job must not wait
    job_id = _submit(live_stack, api_user, "analysis/pnl", MILLION_BOT)

    job = _ended(job_id)
    deep_at_the_end = Wallet.objects.get(address=MILLION_BOT).history_signatures

    assert job.status == Job.Status.COMPLETED, job.error
    result = _result(live_stack, api_user, job_id)
    assert result["history"]["signatures"] == FIRST_WINDOW and result["history"]["complete"] is False
    assert result["pnl"]["history"] == result["history"]
    assert result["pnl"]["swaps_parsed"] > 0 and result["pnl"]["reconciliation"]["unexplained_lamports"] == 0
    assert deep_at_the_end < CAP, "the job waited for the deepening it did not ask for"

    wallet = _deepened_to_the_cap(MILLION_BOT)
    assert (wallet.history_signatures, wallet.history_complete) == (CAP, False)
    assert _rows(MILLION_BOT) == (CAP, CAP)
    deepenings = TaskRun.objects.filter(task_name="jobs.wallet_history_deepen")
    assert deepenings.count() >= 2 and {run.worker.split("@")[0] for run in deepenings} == {"wallet"}

    # The same job again reads the deeper history: the stored run no longer stands for it.
    again = _submit(live_stack, api_user, "analysis/pnl", MILLION_BOT, force=True)
    assert _ended(again).status == Job.Status.COMPLETED
    assert _result(live_stack, api_user, again)["history"]["signatures"] == CAP


def test_history_full_makes_the_job_deepen_to_the_cap_before_it_computes(
    live_stack: Stack, api_user: ApiUser
) -> None:
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        job_id = _submit(live_stack, api_user, "analysis/behavior", BOT_200K, history="full")
        socket.subscribe(job_id)
        socket.wait_for(
            lambda event: event.get("job_id") == job_id and event["type"] in {"job-completed", "job-failed"},
            timeout_s=TIMEOUT_S,
        )
    job = Job.objects.get(id=job_id)

    assert job.status == Job.Status.COMPLETED, job.error
    result = _result(live_stack, api_user, job_id)
    assert result["history"] == {**result["history"], "signatures": CAP, "limited_by": "signatures"}
    assert result["behavior"]["trades"] > 0
    names = list(
        TaskRun.objects.filter(job_id=job_id).order_by("started_at").values_list("task_name", flat=True)
    )
    assert names.index("jobs.job_history_deepen") < names.index("jobs.analysis_compute")
    assert not TaskRun.objects.filter(
        task_name="jobs.wallet_history_deepen"
    ).exists()  # none in the background
    stages = [event.get("stage") for event in socket.received if event.get("job_id") == job_id]
    assert "deepening" in stages
    assert _rows(BOT_200K) == (CAP, CAP)

    # The wallet sync job takes the same option, and says what the stored history covers.
    sync_id = _submit(live_stack, api_user, "wallets/sync", BOT_200K, history="full", force=True)
    assert _ended(sync_id).status == Job.Status.COMPLETED
    synced = _result(live_stack, api_user, sync_id)
    assert synced["history"]["signatures"] == CAP and synced["history"]["limited_by"] == "signatures"


def test_cancelling_a_full_history_job_stops_its_deepening_at_the_next_page(
    live_stack: Stack, api_user: ApiUser, broker: redis.Redis
) -> None:
    broker.set(SIMULATED_LATENCY_KEY, 300)  # a page of signatures and its 10 fetches take seconds
    job_id = _submit(live_stack, api_user, "analysis/pnl", MILLION_BOT, history="full")
    wait_for(
        lambda: TaskRun.objects.filter(job_id=job_id, task_name="jobs.job_history_deepen").exists(),
        timeout_s=TIMEOUT_S,
        what="the job's deepening to start",
    )
    cancel = requests.post(
        f"{live_stack.base_url}/jobs/{job_id}/cancel", headers=api_user.headers, timeout=10
    )
    assert cancel.status_code in (200, 202), cancel.text

    ended = wait_for(
        lambda: (
            not TaskRun.objects.filter(
                job_id=job_id, task_name="jobs.job_history_deepen", finished_at__isnull=True
            ).exists()
        ),
        timeout_s=20,  # one page at most: a signature page and ten fetches of 300 ms, stored
        interval_s=0.1,
        what="the deepening to stop",
    )
    assert ended
    job = Job.objects.get(id=job_id)
    assert job.status == Job.Status.CANCELLED
    assert not TaskRun.objects.filter(job_id=job_id, task_name="jobs.analysis_compute").exists()
    stopped_at = Wallet.objects.get(address=MILLION_BOT)
    assert stopped_at.history_signatures < CAP
    # Rows stay exact whatever page it stopped at: each transaction stored once, all of them linked.
    records, links = _rows(MILLION_BOT)
    assert records == links == stopped_at.transactions_seen

    # The wallet's history belongs to no job: the sweep hands what is left to the background deepening.
    broker.delete(SIMULATED_LATENCY_KEY)
    assert _deepened_to_the_cap(MILLION_BOT).history_signatures == CAP
