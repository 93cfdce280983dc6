"""Issue 20 must-shows through real workers: token holders jobs on the simulated market's launches, served by
the fake upstream over real HTTP to the real Helius provider.

A stack of its own (four queue workers, gunicorn, daphne) runs with `CHAIN_PROVIDER=helius` pointed at a
`FakeUpstream` of the test settings' seed, on its own Redis database (its workers never take the simulated
stack's tasks). Each case submits one job over HTTP, follows it on the WebSocket and reads the result:

- the bundled launch: every participant's classes equal the catalogue's, the bundled and insider shares
  equal what the DAS amounts say to 0.01 %, the bundlers and insiders are one cluster held by funding, the
  risk is high, and every wallet's sync was reported as progress;
- the organic launch of 30 independent buyers: no cluster, risk low;
- the million-holder mint: the holder list stops at HOLDERS_MAX_ACCOUNTS and the history at
  HOLDERS_MAX_MINT_SIGNATURES, and the result says both;
- a wallet's address is no mint: the job fails with a clear error; a malformed mint is a 400.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings

from jobs.models import Job
from tests.integration.conftest import ApiUser, _database_url
from tests.support.fake_upstream import DEFAULT_API_KEY, FakeUpstream
from tests.support.stack import Stack, wait_for
from tests.support.ws import JobSocket
from wallets.simulated_market import Launch, SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

JOB_TIMEOUT_S = 180
HOLDERS_REDIS_DB = 4
MAX_ACCOUNTS = 20_000  # the default of HOLDERS_MAX_ACCOUNTS
MAX_SIGNATURES = 20_000


@pytest.fixture(scope="module")
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=settings.SIMULATED_SEED)


@pytest.fixture(scope="module")
def upstream(market: SimulatedMarket) -> Iterator[FakeUpstream]:
    with FakeUpstream(market=market) as server:
        yield server
        assert server.internal_errors == []


class _OwnRedisStack(Stack):
    """A stack whose workers listen on another Redis database than the test process's Celery app."""

    def consumed_queues(self) -> set[str]:
        logs = {name: self.log_dir / f"{name}.log" for name in self.processes}
        return {name for name, log in logs.items() if log.exists() and " ready." in log.read_text()}


@pytest.fixture(scope="module")
def holders_stack(
    django_db_setup: None, django_db_blocker: object, upstream: FakeUpstream, artifacts_dir: Path
) -> Iterator[Stack]:
    redis_url = urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{HOLDERS_REDIS_DB}"))
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "CHAIN_PROVIDER": "helius",
        "HELIUS_API_KEY": DEFAULT_API_KEY,
        "HELIUS_API_URL": upstream.url,
        "SOLANA_RPC_URL": upstream.url,
        "DEXSCREENER_API_URL": upstream.url,
        "SOL_PRICE_HISTORY_URL": upstream.url,
        "HELIUS_RPC_RATE_LIMIT": "2000/second",
        "HELIUS_API_RATE_LIMIT": "2000/second",
        "HOLDERS_MAX_ACCOUNTS": str(MAX_ACCOUNTS),
        "HOLDERS_MAX_MINT_SIGNATURES": str(MAX_SIGNATURES),
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    stack = _OwnRedisStack(env=env, log_dir=artifacts_dir / "logs" / "holders")
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def launch(market: SimulatedMarket, kind: str) -> Launch:
    return next(item for item in market.launches() if item.kind == kind)


def submit(stack: Stack, user: ApiUser, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{stack.base_url}/jobs/token-holders/analyze", json=body, headers=user.headers, timeout=30
    )


def run_job(stack: Stack, user: ApiUser, body: dict[str, Any]) -> tuple[Job, list[dict[str, Any]]]:
    """Submit, follow the job's events on the WebSocket to its end; the job and the events received."""
    response = submit(stack, user, body)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    with JobSocket(stack.ws_url, token=user.token) as socket:
        socket.subscribe(job_id)
        socket.wait_for(
            lambda event: (
                event.get("type") in {"job-completed", "job-failed", "job-cancelled"}
                or (event.get("type") == "job-snapshot" and event.get("status") in {"completed", "failed"})
            ),
            timeout_s=JOB_TIMEOUT_S,
        )
        events = list(socket.received)
    job: Job = wait_for(
        lambda: (j := Job.objects.get(id=job_id)).is_terminal and j, timeout_s=30, what="the job row to end"
    )
    return job, events


def result_of(stack: Stack, user: ApiUser, job: Job) -> dict[str, Any]:
    assert job.status == Job.Status.COMPLETED, (job.status, job.error)
    answer = requests.get(f"{stack.base_url}/jobs/{job.id}/result", headers=user.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["result"]
    return result


def das_amounts(market: SimulatedMarket, item: Launch) -> dict[str, int]:
    accounts = market.get_mint_token_accounts(item.mint, page=1, limit=1000)["token_accounts"]
    return {account["owner"]: account["amount"] for account in accounts}


def rows_by_wallet(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = {row["wallet"]: row for row in result["early_buyers"]}
    rows.update({row["wallet"]: row for row in result["holders"]})
    return rows


def test_the_bundled_launch_finds_every_class_its_shares_one_cluster_and_high_risk(
    holders_stack: Stack, api_user: ApiUser, market: SimulatedMarket
) -> None:
    bundled = launch(market, "bundled")
    job, events = run_job(holders_stack, api_user, {"mint": bundled.mint, "top": 50, "early": 50})
    result = result_of(holders_stack, api_user, job)

    assert result["failed_wallets"] == []
    rows = rows_by_wallet(result)
    assert set(rows) == {p.wallet for p in bundled.participants}
    for participant in bundled.participants:
        row = rows[participant.wallet]
        # `bot` is the analysis's own behaviour class; the market plants every other one.
        assert set(row["classes"]) - {"bot"} == set(participant.classes), (participant.role, row["classes"])
        assert row["undetermined"] == [], (participant.role, row["undetermined"])
        assert row["funding"]["first_funder_known"] is True
    assert result["creation"]["creator"] == bundled.creator
    assert result["creation"]["slot"] == bundled.creation_slot
    assert [pool["owner"] for pool in result["pools"]] == [bundled.pool]

    amounts, supply = das_amounts(market, bundled), bundled.supply_raw
    by_role = {
        role: [p.wallet for p in bundled.participants if p.role == role] for role in ("bundler", "insider")
    }
    bundled_pct = 100 * sum(amounts[w] for w in by_role["bundler"]) / supply
    insider_pct = 100 * sum(amounts[w] for w in by_role["bundler"] + by_role["insider"]) / supply
    assert result["risk"]["bundled_supply_pct"] == pytest.approx(bundled_pct, abs=0.01)
    assert result["risk"]["insider_supply_pct"] == pytest.approx(insider_pct, abs=0.01)
    assert result["class_supply_pct"]["bundler"] == pytest.approx(bundled_pct, abs=0.01)
    assert result["risk"]["level"] == "high"

    together = set(by_role["bundler"] + by_role["insider"])
    (cluster,) = [c for c in result["clusters"] if together <= set(c["wallets"])]
    assert {"funding", "co_trade"} & set(cluster["reasons"])
    assert cluster["supply_pct"] == pytest.approx(
        100 * sum(amounts.get(w, 0) for w in cluster["wallets"]) / supply
    )
    assert all(rows[w]["cluster"] == cluster["id"] for w in together)

    # Progress per wallet: each sync and each wallet analysed is a unit of the fan-out's range (10-85). A
    # report no higher than the last one published is not sent again, so not every wallet shows up by name.
    progress = [e for e in events if e.get("type") == "job-progress"]
    assert [e["progress"] for e in progress] == sorted(e["progress"] for e in progress)
    units = [
        e["detail"] for e in progress if e["stage"] in ("syncing", "analysing") and "total" in e["detail"]
    ]
    assert {detail["total"] for detail in units} == {2 * len(rows)}  # every wallet: its sync, its analysis
    named = {detail["wallet"] for detail in units if "wallet" in detail}
    assert named <= set(rows) and len(named) >= len(rows) // 2
    assert progress[-1]["progress"] == 100


def test_the_organic_launch_has_no_cluster_and_low_risk(
    holders_stack: Stack, api_user: ApiUser, market: SimulatedMarket
) -> None:
    organic = launch(market, "organic")
    job, _ = run_job(holders_stack, api_user, {"mint": organic.mint})
    result = result_of(holders_stack, api_user, job)
    assert result["failed_wallets"] == []
    assert result["clusters"] == []
    assert result["risk"]["level"] == "low", result["risk"]
    rows = rows_by_wallet(result)
    assert set(rows) == {p.wallet for p in organic.participants}
    for participant in organic.participants:
        assert set(rows[participant.wallet]["classes"]) - {"bot"} == set(participant.classes)


def test_the_million_holder_mint_is_capped_and_says_so(
    holders_stack: Stack, api_user: ApiUser, market: SimulatedMarket
) -> None:
    mega = launch(market, "mega")
    job, _ = run_job(holders_stack, api_user, {"mint": mega.mint, "top": 20, "early": 20})
    result = result_of(holders_stack, api_user, job)
    accounts = result["coverage"]["token_accounts"]
    assert accounts["capped"] is True and accounts["read"] == MAX_ACCOUNTS
    history = result["coverage"]["mint_history"]
    assert history["reached_first"] is False and history["signatures_read"] == MAX_SIGNATURES
    notes = " ".join(result["coverage"]["notes"])
    assert "HOLDERS_MAX_ACCOUNTS" in notes and "HOLDERS_MAX_MINT_SIGNATURES" in notes
    assert len(result["holders"]) == 20 and result["early_buyers"] == [] and result["creation"] is None
    # Without the creation, the launch classes and their shares are unknown, not guessed (nor 0).
    launch_shares = {"bundled_supply_pct", "insider_supply_pct", "sniper_supply_pct", "creator_supply_pct"}
    assert set(result["risk"]["unknown"]) == launch_shares
    assert all(result["risk"][name] is None for name in launch_shares)
    assert all(
        {"creator", "bundler", "sniper", "insider"} <= set(row["undetermined"]) for row in result["holders"]
    )


def test_an_address_that_is_no_mint_fails_the_job_clearly_and_a_malformed_one_is_a_400(
    holders_stack: Stack, api_user: ApiUser, market: SimulatedMarket
) -> None:
    wallet = market.sample_wallets(1)[0]
    job, events = run_job(holders_stack, api_user, {"mint": wallet})
    assert job.status == Job.Status.FAILED
    assert job.error is not None and job.error["type"] == "not_a_token_mint"
    assert f"{wallet} is not a token mint" in job.error["message"]
    assert any(e.get("type") == "job-failed" for e in events) or job.status == Job.Status.FAILED

    refused = submit(holders_stack, api_user, {"mint": "0OIl-not-base58"})
    assert refused.status_code == 400
    assert "mint" in refused.json()["error"]["fields"]
