"""PnL and behaviour jobs end to end (issue 5): HTTP submit, real workers, WebSocket events, results."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import requests
from django.conf import settings

from analysis.models import AnalysisRun
from core.redis import SIMULATED_FAULT_RATE_KEY
from jobs.models import DeadLetter, Job, TaskRun
from tests.integration.conftest import ApiUser, make_api_user
from tests.support.stack import Stack, wait_for
from tests.support.ws import JobSocket
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FLOW_TIMEOUT_S = 60
# Wallets no other integration test uses, so none of them is synced already.
WALLETS = SimulatedMarket(seed=0).sample_wallets(46)[40:]

PNL_FIELDS = {
    "realized_pnl_sol",
    "unrealized_pnl_sol",
    "total_pnl_sol",
    "net_pnl_sol",
    "invested_sol",
    "proceeds_sol",
    "fees_sol",
    "roi",
    "win_rate",
    "profit_factor",
    "median_token_pnl_sol",
    "trimmed_mean_token_pnl_sol",
    "tokens_traded",
    "swaps_parsed",
    "swaps_unparsed",
    "window",
    "sol_price_usd",
    "realized_pnl_usd",
    "total_pnl_usd",
}
TOKEN_FIELDS = {
    "mint",
    "bought_qty",
    "sold_qty",
    "invested_sol",
    "proceeds_sol",
    "realized_pnl_sol",
    "unrealized_pnl_sol",
    "total_pnl_sol",
    "roi",
    "fees_sol",
    "buy_count",
    "sell_count",
    "first_trade_at",
    "last_trade_at",
    "hold_time_s",
    "status",
    "unknown_basis_qty",
}
BEHAVIOR_FIELDS = {
    "trades",
    "buys",
    "sells",
    "tokens_traded",
    "active_days",
    "trades_per_active_day",
    "buy_sell_ratio",
    "buy_sell_symmetry",
    "hold_median_s",
    "hold_p25_s",
    "hold_p75_s",
    "exit_within_60s_share",
    "exit_within_5m_share",
    "exit_within_1h_share",
    "reentry_rate",
    "never_sold_share",
    "median_position_size_sol",
    "hour_histogram_utc",
    "session_count",
    "session_mean_length_s",
    "flipper_score",
    "speed_class",
    "tags",
    "confidence",
}


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    yield client
    client.delete(SIMULATED_FAULT_RATE_KEY)


def _submit(stack: Stack, user: ApiUser, kind: str, wallet: object, **extra: object) -> requests.Response:
    return requests.post(
        f"{stack.base_url}/jobs/analysis/{kind}",
        json={"wallet": wallet, **extra},
        headers=user.headers,
        timeout=10,
    )


def _result(stack: Stack, user: ApiUser, job_id: str) -> dict:
    response = requests.get(f"{stack.base_url}/jobs/{job_id}/result", headers=user.headers, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json()["result"])


def _wait_completed(socket: JobSocket, job_id: str) -> dict:
    def ended(event: dict) -> bool:
        return event.get("job_id") == job_id and event["type"] in {"job-completed", "job-failed"}

    # The two jobs run in parallel: the one not waited for first may already have ended.
    seen = next((event for event in socket.received if ended(event)), None)
    return seen or socket.wait_for(ended, timeout_s=FLOW_TIMEOUT_S)


def test_pnl_and_behavior_jobs_sync_compute_and_report(live_stack: Stack, api_user: ApiUser) -> None:
    wallet = WALLETS[0]
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        pnl_submit = _submit(live_stack, api_user, "pnl", wallet)
        behavior_submit = _submit(live_stack, api_user, "behavior", wallet)
        assert pnl_submit.status_code == behavior_submit.status_code == 202, pnl_submit.text
        body = pnl_submit.json()
        assert body["queue"] == "analysis-operations" and body["wallet_count"] == 1
        pnl_id, behavior_id = body["job_id"], behavior_submit.json()["job_id"]
        socket.subscribe(pnl_id)
        socket.subscribe(behavior_id)
        pnl_done = _wait_completed(socket, pnl_id)
        behavior_done = _wait_completed(socket, behavior_id)

    assert pnl_done["type"] == "job-completed", pnl_done
    assert behavior_done["type"] == "job-completed", behavior_done
    assert pnl_done["result_url"] == f"/jobs/{pnl_id}/result"
    assert pnl_done["summary"]["wallet"] == wallet and "realized_pnl_sol" in pnl_done["summary"]
    assert "speed_class" in behavior_done["summary"]
    for job_id in (pnl_id, behavior_id):
        progress = [e for e in socket.received if e["type"] == "job-progress" and e["job_id"] == job_id]
        values = [e["progress"] for e in progress]
        assert values == sorted(values) and values[-1] == 100, values
        stages = [e["stage"] for e in progress]
        assert "computing" in stages and stages[-1] == "completed", stages
    pnl_stages = [e["stage"] for e in socket.received if e.get("job_id") == pnl_id and "stage" in e]
    expected = [
        "queued",
        "started",
        "syncing",
        "synced",
        "balances",
        "computing",
        "pnl_computed",
        "completed",
    ]
    # Events sent before the subscription are summed up by the snapshot; the rest arrive in flow order.
    assert [expected.index(stage) for stage in pnl_stages] == sorted(expected.index(s) for s in pnl_stages)

    pnl = _result(live_stack, api_user, pnl_id)
    assert pnl["wallet"] == wallet and pnl["analysis"] == "pnl" and pnl["recomputed"] is True
    assert set(pnl["pnl"]) >= PNL_FIELDS, PNL_FIELDS - set(pnl["pnl"])
    assert pnl["pnl"]["tokens"], "a simulated wallet trades tokens"
    assert all(set(token) >= TOKEN_FIELDS for token in pnl["pnl"]["tokens"])
    assert pnl["pnl"]["swaps_parsed"] > 0 and pnl["pnl"]["sol_price_usd"] > 0
    assert pnl["inputs"]["holdings_source"] == "balances"
    held = [token for token in pnl["pnl"]["tokens"] if token["status"] != "closed"]
    assert all(token["unrealized_pnl_sol"] is not None or token["price_sol"] is None for token in held)
    behavior = _result(live_stack, api_user, behavior_id)
    assert set(behavior["behavior"]) >= BEHAVIOR_FIELDS, BEHAVIOR_FIELDS - set(behavior["behavior"])
    assert behavior["behavior"]["trades"] > 0 and len(behavior["behavior"]["hour_histogram_utc"]) == 24

    runs = {run.task_name: run for run in TaskRun.objects.filter(job_id=pnl_id)}
    assert runs["jobs.analysis_flow"].worker.startswith("analysis@")
    assert runs["jobs.analysis_prepare_wallet"].worker.startswith("wallet@")
    assert runs["jobs.analysis_compute"].worker.startswith("analysis@")
    assert runs["jobs.analysis_compute"].queue == "analysis-operations"

    # Within the freshness windows: the same request is the same job; another user's request is a new job
    # that reuses the stored analysis instead of computing it again.
    again = _submit(live_stack, api_user, "pnl", wallet)
    assert again.status_code == 200 and again.json()["job_id"] == pnl_id
    assert again.json()["deduplicated"] is True
    other = make_api_user("other")
    second = _submit(live_stack, other, "pnl", wallet)
    assert second.status_code == 202
    second_id = second.json()["job_id"]
    wait_for(
        lambda: Job.objects.get(id=second_id).status == Job.Status.COMPLETED,
        timeout_s=FLOW_TIMEOUT_S,
        what="second pnl job",
    )
    reused = _result(live_stack, other, second_id)
    assert reused["recomputed"] is False and reused["computed_at"] == pnl["computed_at"]
    assert reused["pnl"] == pnl["pnl"]
    assert AnalysisRun.objects.get(wallet=wallet, kind="pnl").compute_count == 1
    # The wallet was fresh: no preparation on the wallet queue this time.
    assert not TaskRun.objects.filter(job_id=second_id, task_name="jobs.analysis_prepare_wallet").exists()


def test_invalid_wallet_is_400(live_stack: Stack, api_user: ApiUser) -> None:
    for kind in ("pnl", "behavior"):
        response = _submit(live_stack, api_user, kind, "0OIl-not-an-address")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and list(error["fields"]) == ["wallet"]


def test_similarity_result_carries_each_wallets_pnl_and_behavior(
    live_stack: Stack, api_user: ApiUser
) -> None:
    wallets = WALLETS[1:3]
    response = requests.post(
        f"{live_stack.base_url}/jobs/similarity/analyze",
        json={"wallets": wallets},
        headers=api_user.headers,
        timeout=10,
    )
    job_id = response.json()["job_id"]
    wait_for(
        lambda: Job.objects.get(id=job_id).is_terminal,
        timeout_s=FLOW_TIMEOUT_S,
        what="similarity job",
    )
    result = _result(live_stack, api_user, job_id)
    summaries = result["wallet_summaries"]
    assert set(summaries) == set(wallets)
    for summary in summaries.values():
        assert {"realized_pnl_sol", "unrealized_pnl_sol", "total_pnl_sol", "win_rate"} <= set(summary["pnl"])
        assert "tokens" not in summary["pnl"]
        assert {"trades", "hold_median_s", "speed_class", "confidence"} <= set(summary["behavior"])
        assert summary["behavior"]["trades"] > 0


def test_sync_that_keeps_failing_fails_the_job_into_the_dead_letters(
    live_stack: Stack, api_user: ApiUser, broker: redis.Redis
) -> None:
    broker.set(SIMULATED_FAULT_RATE_KEY, 1.0)
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        job_id = _submit(live_stack, api_user, "behavior", WALLETS[3]).json()["job_id"]
        socket.subscribe(job_id)
        failed = _wait_completed(socket, job_id)
    assert failed["type"] == "job-failed"
    assert failed["error"]["type"] == "transient" and "HTTP 503" in failed["error"]["message"]
    [letter] = DeadLetter.objects.filter(job_id=job_id)
    assert letter.task_name == "jobs.analysis_prepare_wallet" and letter.queue == "wallet-operations"
    assert letter.attempts == 3  # the wallet queue's attempts, retried with backoff
    compute = TaskRun.objects.filter(job_id=job_id, task_name="jobs.analysis_compute")
    assert not compute.exists() or not AnalysisRun.objects.filter(wallet=WALLETS[3]).exists()
    result = requests.get(f"{live_stack.base_url}/jobs/{job_id}/result", headers=api_user.headers, timeout=10)
    assert result.status_code == 409
