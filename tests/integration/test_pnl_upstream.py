"""The PnL job end to end against the fake upstream (issue 17): real workers sync a wallet from the fake
Helius, price it from the fake DexScreener and value it at trade time from the fake Pyth Benchmarks, over
real HTTP. The wallet holds a rugged token (no pair), a token whose only pool is thin (below
PRICE_MIN_LIQUIDITY_USD) and a priced one, traded a token in and out for USDC, and paid for a failed
transaction. Each bad answer of the SOL/USD history (garbage, no data, 0, "NaN", a negative price) leaves
the SOL figures as they were, names the reason, and does not fail the job.

This stack runs on its own Redis database, so its workers (pointed at the fake upstream) never take the
simulated stack's tasks, nor the simulated stack's workers this one's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import base58
import pytest
import redis
import requests
from celery import Celery
from django.conf import settings

from core.queues import ANALYSIS_QUEUE, WALLET_QUEUE
from jobs.models import Job
from tests.integration.conftest import ApiUser, _database_url, _require_services, make_api_user
from tests.support.fake_upstream import DEFAULT_API_KEY, FakeUpstream
from tests.support.stack import Stack, wait_for
from wallets.simulated_market import ANCHOR_TS, SPL_TOKEN_PROGRAM, SimulatedMarket
from wallets.swaps import SOL_MINT, USDC_MINT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MARKET = SimulatedMarket(seed=0)
JOB_TIMEOUT_S = 90
FEE = 5_000
FAILED_FEE = 105_000
RENT = 2_039_280
UNIT = 10**6


def address(label: str) -> str:
    return base58.b58encode(label.encode().ljust(32, b"\x01")[:32]).decode()


PRICED, RUG, THIN, STABLE = (
    address(name) for name in ("priced-mint", "rug-mint", "thin-mint", "stable-mint")
)
POOL = address("the-pool-authority")
PRICE_NATIVE = 0.0000025  # SOL per PRICED token on its deep SOL pool
CASES = ("good", "garbage", "no_data", "zero", "nan", "negative")


def wallet_of(case: str) -> str:
    return address(f"pnl-{case}-wallet")


def start_of(case: str) -> int:
    """Each wallet trades on its own day, so no wallet's minutes are stored by another's job."""
    start = ANCHOR_TS - (20 - CASES.index(case)) * 86_400
    return start - start % 60


def balance(account: str, lamports: int, *changes: tuple[str, str, int, int]) -> dict[str, Any]:
    return {
        "account": account,
        "nativeBalanceChange": lamports,
        "tokenBalanceChanges": [
            {
                "userAccount": owner,
                "tokenAccount": account,
                "rawTokenAmount": {"tokenAmount": str(raw), "decimals": decimals},
                "mint": mint,
            }
            for owner, mint, raw, decimals in changes
        ],
    }


def transaction(
    wallet: str, index: int, ts: int, accounts: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {
        "signature": base58.b58encode(f"{wallet[:12]}-tx-{index}".encode().ljust(64, b"\x02")).decode(),
        "slot": 400_000_000 + (ts - start_of("good")) // 60 * 150 + index,
        "timestamp": ts,
        "type": "SWAP",
        "source": "RAYDIUM",
        "description": "",
        "fee": FEE,
        "feePayer": wallet,
        "transactionError": None,
        "accountData": accounts,
        "tokenTransfers": [],
        "nativeTransfers": extra.pop("native", []),
        "events": {},
        "instructions": [],
        **extra,
    }


def sol_buy(wallet: str, index: int, ts: int, *, mint: str, qty: int, lamports: int) -> dict[str, Any]:
    account = address(f"{wallet[:8]}-{mint[:8]}")
    return transaction(
        wallet,
        index,
        ts,
        [
            balance(wallet, -lamports - RENT - FEE),
            balance(account, RENT, (wallet, mint, qty, 6)),
            balance(address(f"vault-{mint[:8]}"), 0, (POOL, mint, -qty, 6)),
            balance(address(f"wsol-{mint[:8]}"), lamports, (POOL, SOL_MINT, lamports, 9)),
        ],
        native=[{"fromUserAccount": wallet, "toUserAccount": account, "amount": RENT}],
    )


def usdc_trade(wallet: str, index: int, ts: int, qty: int, usdc: int, *, buying: bool) -> dict[str, Any]:
    sign = 1 if buying else -1
    account = address(f"{wallet[:8]}-{STABLE[:8]}")
    rent = RENT if buying else 0
    return transaction(
        wallet,
        index,
        ts,
        [
            balance(wallet, -rent - FEE),
            balance(account, rent, (wallet, STABLE, sign * qty, 6)),
            balance(address(f"{wallet[:8]}-usdc"), 0, (wallet, USDC_MINT, -sign * usdc, 6)),
            balance(address("vault-stable"), 0, (POOL, STABLE, -sign * qty, 6)),
            balance(address("vault-usdc"), 0, (POOL, USDC_MINT, sign * usdc, 6)),
        ],
        native=[{"fromUserAccount": wallet, "toUserAccount": account, "amount": rent}] if buying else [],
    )


def history(wallet: str, start: int) -> list[dict[str, Any]]:
    failed = transaction(wallet, 6, start + 3_000, [balance(wallet, -FAILED_FEE)], fee=FAILED_FEE)
    failed.update(type="UNKNOWN", transactionError={"InstructionError": [2, {"Custom": 6001}]})
    return [
        sol_buy(wallet, 1, start + 60, mint=PRICED, qty=1_000_000 * UNIT, lamports=1_000_000_000),
        sol_buy(wallet, 2, start + 600, mint=RUG, qty=5_000_000 * UNIT, lamports=2_000_000_000),
        sol_buy(wallet, 3, start + 1_200, mint=THIN, qty=7_000_000 * UNIT, lamports=500_000_000),
        usdc_trade(wallet, 4, start + 1_800, 42 * UNIT, 100 * UNIT, buying=True),
        usdc_trade(wallet, 5, start + 1_800 + 6 * 3_600, 42 * UNIT, 150 * UNIT, buying=False),
        failed,
    ]


def pair(mint: str, price_native: float, liquidity_usd: float) -> dict[str, Any]:
    sol_usd = MARKET.sol_usd_price()
    return {
        "chainId": "solana",
        "dexId": "raydium",
        "pairAddress": address(f"pair-{mint[:8]}"),
        "baseToken": {"address": mint, "name": mint[:6], "symbol": mint[:4].upper()},
        "quoteToken": {"address": SOL_MINT, "name": "Wrapped SOL", "symbol": "SOL"},
        "priceNative": f"{price_native:.10f}",
        "priceUsd": f"{price_native * sol_usd:.10f}",
        "liquidity": {"usd": liquidity_usd, "base": 1, "quote": 1},
        "fdv": 1000,
        "marketCap": 1000,
    }


def fixtures(root: Path) -> Path:
    """Recorded-style fixtures the fake serves: each wallet's history and DexScreener pairs (none for RUG)."""
    (root / "helius").mkdir(parents=True)
    (root / "dexscreener").mkdir()
    for case in CASES:
        wallet = wallet_of(case)
        (root / "helius" / f"wallet_{wallet[:10]}_pnl.json").write_text(
            json.dumps(history(wallet, start_of(case)))
        )
    # The fake answers a mint from these files alone once they name it (SOL is their quote), so SOL's own
    # reference pair against USDC comes along.
    pairs = [
        pair(PRICED, PRICE_NATIVE, 50_000.0),
        pair(THIN, 0.01, 3.0),
        pair(STABLE, 0.02, 80_000.0),
        *MARKET.get_dex_pairs([SOL_MINT]),
    ]
    (root / "dexscreener" / "pairs.json").write_text(json.dumps(pairs))
    return root


class TradedUpstream(FakeUpstream):
    """The fake with these wallets' token balances as their histories leave them."""

    HELD = {PRICED: 1_000_000 * UNIT, RUG: 5_000_000 * UNIT, THIN: 7_000_000 * UNIT}

    def _get_token_accounts(self, params: list[Any]) -> dict[str, Any]:
        wallet = params[0]
        if wallet not in {wallet_of(case) for case in CASES}:
            return super()._get_token_accounts(params)
        program = (params[1] if len(params) > 1 and isinstance(params[1], dict) else {}).get("programId")
        accounts = [
            {
                "pubkey": address(f"{wallet[:8]}-{mint[:8]}"),
                "account": {
                    "data": {
                        "parsed": {
                            "info": {
                                "isNative": False,
                                "mint": mint,
                                "owner": wallet,
                                "state": "initialized",
                                "tokenAmount": {
                                    "amount": str(raw),
                                    "decimals": 6,
                                    "uiAmount": raw / UNIT,
                                    "uiAmountString": str(raw / UNIT),
                                },
                            },
                            "type": "account",
                        },
                        "program": "spl-token",
                        "space": 165,
                    },
                    "executable": False,
                    "lamports": RENT,
                    "owner": SPL_TOKEN_PROGRAM,
                    "rentEpoch": 18446744073709551615,
                    "space": 165,
                },
            }
            for mint, raw in self.HELD.items()
            if program in (None, SPL_TOKEN_PROGRAM)
        ]
        return {"context": {"apiVersion": "2.2.16", "slot": 400_000_000}, "value": accounts}


class IsolatedStack(Stack):
    """A stack on its own Redis database: its readiness is asked of its own broker."""

    def consumed_queues(self) -> set[str]:
        # The project's broker settings (the key separator above all) with this stack's database.
        app = Celery(set_as_current=False)
        app.config_from_object("django.conf:settings", namespace="CELERY")
        app.conf.update(broker_url=self.env["REDIS_URL"], result_backend=self.env["REDIS_URL"])
        try:
            replies = app.control.inspect(timeout=1.0).active_queues() or {}
        finally:
            app.close()
        return {queue["name"] for queues in replies.values() for queue in queues}


def _redis_database(url: str, database: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TradedUpstream]:
    server = TradedUpstream(market=MARKET, fixtures_dir=fixtures(tmp_path_factory.mktemp("pnl-upstream")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def upstream_stack(
    django_db_setup: None, django_db_blocker: object, artifacts_dir: Path, upstream: TradedUpstream
) -> Iterator[IsolatedStack]:
    _require_services()
    redis_url = _redis_database(settings.REDIS_URL, 7)
    redis.Redis.from_url(redis_url).flushdb()  # a run killed half way may have left tasks behind
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "CHAIN_PROVIDER": "helius",
        "HELIUS_API_KEY": DEFAULT_API_KEY,
        "HELIUS_API_URL": f"{upstream.url}/helius",
        "SOLANA_RPC_URL": f"{upstream.url}/rpc",
        "DEXSCREENER_API_URL": f"{upstream.url}/dex",
        "SOL_PRICE_HISTORY_URL": f"{upstream.url}/pyth",
        "HELIUS_RPC_RATE_LIMIT": "1000/second",
        "HELIUS_API_RATE_LIMIT": "1000/second",
        "UPSTREAM_TIMEOUT_S": "10",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    stack = IsolatedStack(env=env, log_dir=artifacts_dir / "logs-pnl-upstream")
    try:
        stack.start(queues=(WALLET_QUEUE, ANALYSIS_QUEUE))
        yield stack
    finally:
        stack.stop()


def run_pnl(stack: Stack, user: ApiUser, wallet: str) -> dict[str, Any]:
    response = requests.post(
        f"{stack.base_url}/jobs/analysis/pnl", json={"wallet": wallet}, headers=user.headers, timeout=10
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    wait_for(
        lambda: Job.objects.get(id=job_id).is_terminal,
        timeout_s=JOB_TIMEOUT_S,
        what=f"the PnL job of {wallet}",
    )
    job = Job.objects.get(id=job_id)
    assert job.status == Job.Status.COMPLETED, job.error
    result = requests.get(f"{stack.base_url}/jobs/{job_id}/result", headers=user.headers, timeout=10)
    assert result.status_code == 200
    return dict(result.json()["result"])


def test_the_pnl_job_marks_every_position_and_values_usd_at_trade_time(
    upstream_stack: IsolatedStack, upstream: TradedUpstream
) -> None:
    user = make_api_user("pnl-upstream")
    start = start_of("good")
    result = run_pnl(upstream_stack, user, wallet_of("good"))
    pnl = result["pnl"]
    tokens = {token["mint"]: token for token in pnl["tokens"]}

    # The priced token: 1,000,000 held at 0.0000025 SOL = 2.5 SOL against a 1 SOL cost.
    assert (tokens[PRICED]["price_status"], tokens[PRICED]["mark_price_sol"]) == ("priced", PRICE_NATIVE)
    assert tokens[PRICED]["unrealized_pnl_sol"] == pytest.approx(2.5 - 1.0)
    # The rugged token has no pair; the thin one's pool holds $3: both marked at zero, their cost a loss.
    assert tokens[RUG]["price_status"] == "unpriced" and "no pair" in tokens[RUG]["unpriced_reason"]
    assert tokens[RUG]["unrealized_pnl_sol"] == pytest.approx(-2.0)
    assert tokens[THIN]["price_status"] == "unpriced" and "liquidity $3.00" in tokens[THIN]["unpriced_reason"]
    assert tokens[THIN]["unrealized_pnl_sol"] == pytest.approx(-0.5)
    assert (pnl["tokens_unpriced"], pnl["unpriced_open_cost_sol"]) == (2, pytest.approx(2.5))
    # The USDC round trip: 100 USDC in and 150 USDC out, each at SOL/USD of its own minute.
    bought_at = MARKET.sol_usd_at(start + 1_800)
    sold_at = MARKET.sol_usd_at(start + 1_800 + 6 * 3_600)
    stable = tokens[STABLE]
    assert stable["status"] == "closed"
    assert stable["invested_sol"] == pytest.approx(100 / bought_at)
    assert stable["proceeds_sol"] == pytest.approx(150 / sold_at)
    assert stable["realized_pnl_sol"] == pytest.approx(150 / sold_at - 100 / bought_at)
    assert stable["realized_pnl_usd"] == pytest.approx(50.0)
    # Wallet: every token counts; the failed transaction's fee too; the legs balance with the chain.
    assert pnl["total_pnl_sol"] == pytest.approx(1.5 - 2.0 - 0.5 + 150 / sold_at - 100 / bought_at)
    assert pnl["win_rate"] == pytest.approx((1 + (150 / sold_at > 100 / bought_at)) / 4)
    assert (pnl["failed_tx_count"], pnl["failed_tx_fees_sol"]) == (1, pytest.approx(FAILED_FEE / 1e9))
    assert pnl["fees_sol"] == pytest.approx((5 * FEE + FAILED_FEE) / 1e9)
    reconciliation = pnl["reconciliation"]
    assert reconciliation["transactions"] == 5 and reconciliation["unexplained_lamports"] == 0
    assert reconciliation["chain_change_lamports"] == reconciliation["legs_cash_flow_lamports"]
    assert pnl["usd_unavailable_reason"] is None and pnl["total_pnl_usd"] is not None
    assert upstream.requests_by_route["sol_usd"] >= 1 and upstream.internal_errors == []


# (case, the fake's knob, its value, what the reason says)
BAD_HISTORY = [
    pytest.param(("garbage", "candles_answer", "garbage", "not JSON"), id="garbage"),
    pytest.param(("no_data", "candles_answer", "no_data", "no data"), id="empty"),
    pytest.param(("zero", "candles_corrupt", "zero", "not a finite positive number"), id="zero"),
    pytest.param(("nan", "candles_corrupt", "nan", "not a finite positive number"), id="nan"),
    pytest.param(("negative", "candles_corrupt", "negative", "not a finite positive number"), id="negative"),
]


@pytest.mark.parametrize("bad", BAD_HISTORY)
def test_a_bad_sol_usd_history_leaves_the_sol_figures_and_names_the_reason(
    upstream_stack: IsolatedStack, upstream: TradedUpstream, bad: tuple[str, str, str, str]
) -> None:
    case, knob, value, reason = bad
    user = make_api_user(f"pnl-{case}")
    setattr(upstream, knob, value)
    try:
        pnl = run_pnl(upstream_stack, user, wallet_of(case))["pnl"]
    finally:
        setattr(upstream, knob, None)
    assert pnl["usd_unavailable_reason"] is not None and reason in pnl["usd_unavailable_reason"]
    for field in ("invested_usd", "realized_pnl_usd", "unrealized_pnl_usd", "total_pnl_usd"):
        assert pnl[field] is None
    tokens = {token["mint"]: token for token in pnl["tokens"]}
    # The SOL-quoted positions are exactly what they are with a good history.
    assert tokens[PRICED]["unrealized_pnl_sol"] == pytest.approx(1.5)
    assert tokens[RUG]["unrealized_pnl_sol"] == pytest.approx(-2.0)
    assert tokens[THIN]["unrealized_pnl_sol"] == pytest.approx(-0.5)
    # Without SOL/USD a USDC payment has no SOL value: the round trip is unvalued, not priced at today's SOL.
    assert tokens[STABLE]["unvalued_legs"] == 2 and tokens[STABLE]["invested_sol"] == 0.0
    assert pnl["reconciliation"]["unexplained_lamports"] == 0
