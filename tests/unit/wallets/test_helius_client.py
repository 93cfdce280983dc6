"""HeliusChainProvider over real HTTP against the local fake upstream (docs/ARCHITECTURE.md §13): paging,
batching, both token
programs, retries on 429/5xx honouring Retry-After, timeouts, auth failures, JSON-RPC errors, key redaction.

No database and no Redis: the provider gets a no-op (or recording) rate limiter.
"""

from __future__ import annotations

import json
import logging
import random
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.http import UpstreamFatalError, UpstreamTransientError
from core.ratelimit import rate_limit_acquire
from tests.support.fake_upstream import DEFAULT_API_KEY, FakeUpstream
from tests.support.stack import free_port
from wallets.helius import (
    SPL_TOKEN_PROGRAM,
    TOKEN_2022_PROGRAM,
    HeliusChainProvider,
    no_rate_limit,
)
from wallets.simulated_market import Launch, SimulatedMarket

HELIUS_FIXTURES = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "helius"
FIXTURE_FILE = HELIUS_FIXTURES / "wallet_3JoVBiQE_20_transactions.json"
WALLET_3JOV = "3JoVBiQEA2QKsq7TzW5ez5jVRtbbYgTNijoZzp5qgkr2"
BIG_WALLET = "BxS8mTARsT2Qvnp9iXvRAmqPruEPrLfb4RU7nMi7fKev"
BIG_HISTORY = 5000  # the market makes "about that many": 4,573 for this wallet and seed
RPC_PREFIX = "/rpc/mainnet"
API_PREFIX = "/helius"


@pytest.fixture(scope="module")
def market() -> SimulatedMarket:
    # Shared across tests so the 5,000-transaction history is generated once.
    return SimulatedMarket(0, history_sizes={BIG_WALLET: BIG_HISTORY})


@pytest.fixture
def upstream(market: SimulatedMarket) -> Iterator[FakeUpstream]:
    # One server per test: a handler still parked in `hang_s` cannot leak requests into the next test.
    with FakeUpstream(market=market) as server:
        yield server
        assert server.internal_errors == []


def make_provider(upstream: FakeUpstream, **overrides: Any) -> HeliusChainProvider:
    options: dict[str, Any] = {
        "api_key": DEFAULT_API_KEY,
        "api_url": upstream.url + API_PREFIX,
        "rpc_url": upstream.url + RPC_PREFIX,
        "rate_limiter": no_rate_limit,
        "timeout_s": 5.0,
        "retries": 2,
        "backoff_factor": 0.0,
    }
    options.update(overrides)
    return HeliusChainProvider(**options)


def full_traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def wallet_with_both_token_programs(market: SimulatedMarket) -> str:
    for wallet in market.sample_wallets(60):
        owners = {entry["account"]["owner"] for entry in market.get_token_accounts(wallet)}
        if owners == {SPL_TOKEN_PROGRAM, TOKEN_2022_PROGRAM}:
            return wallet
    raise AssertionError("no sample wallet holds tokens of both programs")


def _market_pages(market: SimulatedMarket, wallet: str) -> list[list[dict[str, Any]]]:
    pages = [market.get_signatures(wallet, limit=1000)]
    while len(pages[-1]) == 1000:
        pages.append(market.get_signatures(wallet, before=pages[-1][-1]["signature"], limit=1000))
    return pages


# ----------------------------------------------------------------------------------------------- data paths


def test_signature_pages_cover_a_long_history(upstream: FakeUpstream, market: SimulatedMarket) -> None:
    provider = make_provider(upstream)
    collected: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        page = provider.get_signatures(BIG_WALLET, before=before, limit=1000)
        collected.extend(page)
        if len(page) < 1000:
            break
        before = page[-1]["signature"]

    assert len(collected) == market.history_length(BIG_WALLET) > 4000
    assert len({entry["signature"] for entry in collected}) == len(collected)
    assert collected == [entry for page in _market_pages(market, BIG_WALLET) for entry in page]
    sent_options = [params[1] for method, params in upstream.rpc_calls]
    assert all(options["limit"] == 1000 and options["commitment"] == "confirmed" for options in sent_options)
    assert upstream.requests_by_path[RPC_PREFIX] == len(sent_options)


def test_signatures_honour_before_until_and_limit(upstream: FakeUpstream, market: SimulatedMarket) -> None:
    provider = make_provider(upstream)
    newest = market.get_signatures(BIG_WALLET, limit=20)
    signatures = [entry["signature"] for entry in newest]

    assert provider.get_signatures(BIG_WALLET, limit=7) == newest[:7]
    assert provider.get_signatures(BIG_WALLET, before=signatures[4], limit=3) == newest[5:8]
    assert provider.get_signatures(BIG_WALLET, until=signatures[10]) == newest[:10]
    assert provider.get_signatures(BIG_WALLET, before=signatures[3], until=signatures[8]) == newest[4:8]
    with pytest.raises(ValueError, match="limit"):
        provider.get_signatures(BIG_WALLET, limit=1001)
    assert upstream.rpc_calls[1] == (
        "getSignaturesForAddress",
        [BIG_WALLET, {"limit": 3, "commitment": "confirmed", "before": signatures[4]}],
    )


def test_balances_cover_both_token_programs(upstream: FakeUpstream, market: SimulatedMarket) -> None:
    wallet = wallet_with_both_token_programs(market)
    provider = make_provider(upstream)

    accounts = provider.get_token_accounts(wallet)

    assert accounts == market.get_token_accounts(wallet, program_id=SPL_TOKEN_PROGRAM) + (
        market.get_token_accounts(wallet, program_id=TOKEN_2022_PROGRAM)
    )
    assert {entry["account"]["owner"] for entry in accounts} == {SPL_TOKEN_PROGRAM, TOKEN_2022_PROGRAM}
    assert provider.get_sol_balance(wallet) == market.get_sol_balance(wallet)
    token_calls = [params for method, params in upstream.rpc_calls if method == "getTokenAccountsByOwner"]
    # Both programs are asked at once, so the calls may arrive in either order.
    assert sorted(params[1]["programId"] for params in token_calls) == sorted(
        [SPL_TOKEN_PROGRAM, TOKEN_2022_PROGRAM]
    )
    assert all(params[2] == {"encoding": "jsonParsed", "commitment": "confirmed"} for params in token_calls)


def test_transactions_are_batched_by_100_in_parallel_and_keep_input_order(
    upstream: FakeUpstream, market: SimulatedMarket
) -> None:
    simulated = [entry["signature"] for entry in market.get_signatures(BIG_WALLET, limit=230)]
    recorded = [tx["signature"] for tx in json.loads(FIXTURE_FILE.read_text())]
    unknown = SimulatedMarket(99).get_signatures(BIG_WALLET, limit=1)[0]["signature"]
    signatures = [*simulated, *recorded, unknown]
    random.Random(7).shuffle(signatures)
    limiter_calls: list[tuple[str, str]] = []
    provider = make_provider(
        upstream, rate_limiter=lambda api, limit: limiter_calls.append((api, limit)), max_parallel_batches=3
    )

    transactions = provider.get_transactions(signatures)

    assert [tx["signature"] for tx in transactions] == [sig for sig in signatures if sig != unknown]
    assert sorted(upstream.transaction_batch_sizes) == [51, 100, 100]
    assert upstream.requests_by_path[API_PREFIX + "/v0/transactions"] == 3
    assert limiter_calls == [("helius-api", "2/second")] * 3
    by_signature = {tx["signature"]: tx for tx in transactions}
    assert [by_signature[sig] for sig in simulated] == [
        tx for start in range(0, 230, 100) for tx in market.get_transactions(simulated[start : start + 100])
    ]


def test_transaction_batches_run_concurrently(upstream: FakeUpstream, market: SimulatedMarket) -> None:
    signatures = [entry["signature"] for entry in market.get_signatures(BIG_WALLET, limit=300)]
    upstream.hang_s = 0.3
    provider = make_provider(upstream, max_parallel_batches=3)

    assert len(provider.get_transactions(signatures)) == 300

    # Three batches held 0.3 s each by the fake were in flight together (one after another would show 1).
    assert upstream.max_in_flight == 3


def test_recorded_wallet_comes_back_byte_identical(upstream: FakeUpstream) -> None:
    provider = make_provider(upstream)
    fixture_text = FIXTURE_FILE.read_text()

    signatures = [entry["signature"] for entry in provider.get_signatures(WALLET_3JOV)]
    transactions = provider.get_transactions(signatures)

    assert signatures == [tx["signature"] for tx in json.loads(fixture_text)]
    assert json.dumps(transactions, indent=2) == fixture_text
    assert (
        provider.get_signatures(WALLET_3JOV, before=signatures[4], until=signatures[9])
        == (provider.get_signatures(WALLET_3JOV)[5:9])
    )


def test_rate_limiter_is_taken_before_every_rpc_call(upstream: FakeUpstream) -> None:
    calls: list[tuple[str, str]] = []
    provider = make_provider(
        upstream, rate_limiter=lambda api, limit: calls.append((api, limit)), rpc_rate_limit="7/second"
    )

    provider.get_sol_balance(WALLET_3JOV)
    provider.get_token_accounts(WALLET_3JOV)

    assert calls == [("helius-rpc", "7/second")] * 3


def test_from_settings_reads_django_settings(settings: Any) -> None:
    settings.HELIUS_API_KEY = "settings-secret-key"
    settings.HELIUS_API_URL = "https://api.example.test/prefix"
    settings.SOLANA_RPC_URL = "https://rpc.example.test/base?cluster=mainnet"
    settings.HELIUS_RPC_RATE_LIMIT = "5/second"
    settings.HELIUS_API_RATE_LIMIT = "1/second"
    settings.UPSTREAM_TIMEOUT_S = 3.5

    provider = HeliusChainProvider.from_settings()

    assert provider.rate_limiter is rate_limit_acquire
    assert (provider.rpc_rate_limit, provider.api_rate_limit, provider.timeout_s) == (
        "5/second",
        "1/second",
        3.5,
    )
    assert "settings-secret-key" not in repr(provider)
    assert "rpc.example.test/base?cluster=mainnet&api-key=" in repr(provider)


# ----------------------------------------------------------------------------------------------- faults


def test_flaky_upstream_is_retried_until_every_call_succeeds(
    upstream: FakeUpstream, market: SimulatedMarket
) -> None:
    wallet = wallet_with_both_token_programs(market)
    upstream.fault_rate = 0.3
    # 0.3 ** 9 per call: no call exhausts its retries in a realistic run; the fault RNG is seeded anyway.
    provider = make_provider(upstream, retries=8)

    pages = [provider.get_signatures(BIG_WALLET, limit=1000)]
    pages.append(provider.get_signatures(BIG_WALLET, before=pages[0][-1]["signature"], limit=1000))
    signatures = [entry["signature"] for entry in pages[1][:450]]
    transactions = provider.get_transactions(signatures)
    balances = [provider.get_sol_balance(wallet) for _ in range(20)]
    accounts = provider.get_token_accounts(wallet)

    assert pages == _market_pages(market, BIG_WALLET)[:2]
    assert [tx["signature"] for tx in transactions] == signatures
    assert balances == [market.get_sol_balance(wallet)] * 20
    assert len(accounts) == len(market.get_token_accounts(wallet))
    assert upstream.responses_by_status[429] > 0
    assert upstream.responses_by_status[500] > 0
    logical_calls = 2 + 5 + 20 + 2
    assert upstream.responses_by_status[200] == logical_calls
    assert (
        upstream.total_requests
        == logical_calls + upstream.responses_by_status[429] + (upstream.responses_by_status[500])
    )


def test_retry_after_is_honoured(upstream: FakeUpstream) -> None:
    upstream.retry_after_s = 1
    upstream.fail_next(429)
    provider = make_provider(upstream, backoff_factor=0.0)

    started = time.monotonic()
    provider.get_sol_balance(WALLET_3JOV)

    assert time.monotonic() - started >= 0.95
    assert upstream.responses_by_status == {429: 1, 200: 1}


def test_a_retry_takes_a_new_slot_of_its_apis_limit_after_the_retry_after_wait(
    upstream: FakeUpstream,
) -> None:
    slots: list[tuple[str, float]] = []
    provider = make_provider(
        upstream,
        rate_limiter=lambda api, limit: slots.append((api, time.monotonic())),
        backoff_factor=0.0,
    )
    newest = provider.get_signatures(BIG_WALLET, limit=1)[0]["signature"]
    upstream.retry_after_s = 1
    upstream.fail_next(429)
    provider.get_transactions([newest])
    upstream.fail_next(503)
    provider.get_sol_balance(WALLET_3JOV)

    assert [api for api, _ in slots] == ["helius-rpc", "helius-api", "helius-api", "helius-rpc", "helius-rpc"]
    # The retried enhanced-transactions call took its slot once the 1 s Retry-After had passed.
    assert slots[2][1] - slots[1][1] >= 0.95
    assert upstream.responses_by_status == {200: 3, 429: 1, 503: 1}


def test_hanging_upstream_times_out_in_bounded_time(upstream: FakeUpstream) -> None:
    upstream.hang_s = 3.0
    provider = make_provider(upstream, timeout_s=0.3, retries=1)

    started = time.monotonic()
    with pytest.raises(UpstreamTransientError, match="getBalance") as caught:
        provider.get_sol_balance(WALLET_3JOV)

    assert time.monotonic() - started < 1.5
    assert upstream.requests_by_route["rpc"] == 2
    assert DEFAULT_API_KEY not in full_traceback(caught.value)


def test_unreachable_upstream_is_transient_without_leaking_the_key() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    provider = HeliusChainProvider(
        api_key=DEFAULT_API_KEY,
        api_url=url,
        rpc_url=url,
        rate_limiter=no_rate_limit,
        retries=1,
        timeout_s=1.0,
    )

    with pytest.raises(UpstreamTransientError, match="getBalance") as caught:
        provider.get_sol_balance(WALLET_3JOV)

    assert DEFAULT_API_KEY not in full_traceback(caught.value)
    assert "api-key=[redacted]" in str(caught.value)


def test_rejected_key_is_fatal_names_the_credentials_and_hides_the_key(upstream: FakeUpstream) -> None:
    wrong_key = "wrong-secret-key-5f2a9c"
    provider = make_provider(upstream, api_key=wrong_key)

    with pytest.raises(UpstreamFatalError, match="credentials") as caught:
        provider.get_sol_balance(WALLET_3JOV)
    with pytest.raises(UpstreamFatalError, match="credentials"):
        provider.get_transactions(
            ["5g5rkbqii8rkHfgC8CWLDB2bBzKeoXcqmjyFbMvxUW9xXEEHnFc1QRqiG9eEcxdmLk6XgjVpJRnwYqqbWZKg3eBP"]
        )

    assert wrong_key not in full_traceback(caught.value)
    assert upstream.responses_by_status == {401: 2}  # a 401 is never retried


def test_forced_401_and_403_are_fatal(upstream: FakeUpstream) -> None:
    provider = make_provider(upstream)
    for status in (401, 403):
        upstream.force_status = status
        with pytest.raises(UpstreamFatalError, match="API key"):
            provider.get_signatures(WALLET_3JOV)


def test_persistent_503_gives_up_after_bounded_retries(upstream: FakeUpstream) -> None:
    upstream.force_status = 503
    provider = make_provider(upstream, retries=2)

    with pytest.raises(UpstreamTransientError, match="503"):
        provider.get_transactions(
            ["5g5rkbqii8rkHfgC8CWLDB2bBzKeoXcqmjyFbMvxUW9xXEEHnFc1QRqiG9eEcxdmLk6XgjVpJRnwYqqbWZKg3eBP"]
        )

    assert upstream.responses_by_status == {503: 3}


def test_urllib3_debug_logs_do_not_show_the_key(
    upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.fail_next(500)
    provider = make_provider(upstream)

    with caplog.at_level(logging.DEBUG, logger="urllib3"):
        provider.get_sol_balance(WALLET_3JOV)

    assert "api-key=[redacted]" in caplog.text
    assert DEFAULT_API_KEY not in caplog.text


# ------------------------------------------------------------------------------------------- JSON-RPC errors


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"code": -32429, "message": "rate limited"}, UpstreamTransientError),
        ({"code": -32000, "message": "Too many requests for a specific RPC call"}, UpstreamTransientError),
        ({"code": -32005, "message": "Node is unhealthy"}, UpstreamTransientError),
        ({"code": -32016, "message": "Minimum context slot has not been reached"}, UpstreamTransientError),
        ({"code": -32603, "message": "Internal error"}, UpstreamTransientError),
        ({"code": -32602, "message": "Invalid param: WrongSize"}, UpstreamFatalError),
        ({"code": -32602, "message": "Invalid param: cannot separate accounts"}, UpstreamFatalError),
        ({"code": -32001, "message": "Invalid param: not a base58 pubkey"}, UpstreamFatalError),
        ({"code": -32601, "message": "Method not found"}, UpstreamFatalError),
    ],
)
def test_json_rpc_error_objects_map_to_error_classes(
    upstream: FakeUpstream, error: dict[str, Any], expected: type[Exception]
) -> None:
    upstream.rpc_error = error
    provider = make_provider(upstream)

    with pytest.raises(expected, match="getBalance") as caught:
        provider.get_sol_balance(WALLET_3JOV)

    assert error["message"] in str(caught.value)
    assert upstream.responses_by_status == {200: 1}  # an error object in a 200 is not retried by urllib3


def test_invalid_address_is_fatal(upstream: FakeUpstream) -> None:
    provider = make_provider(upstream)

    with pytest.raises(UpstreamFatalError, match=r"getSignaturesForAddress.*-32602"):
        provider.get_signatures("not-a-solana-address")


# --- token holders: supply, DAS token accounts, account owners, a mint's signatures ------------------------


def bundled_launch(market: SimulatedMarket) -> Launch:
    return next(item for item in market.launches() if item.kind == "bundled")


def test_token_supply_of_a_mint_and_a_fatal_error_for_a_non_mint(
    upstream: FakeUpstream, market: SimulatedMarket
) -> None:
    provider = make_provider(upstream)
    item = bundled_launch(market)

    supply = provider.get_token_supply(item.mint)

    assert supply == market.get_token_supply(item.mint)
    assert int(supply["amount"]) == item.supply_raw and supply["decimals"] == item.decimals
    with pytest.raises(UpstreamFatalError, match="not a Token mint"):
        provider.get_token_supply(WALLET_3JOV)


def test_das_token_accounts_page_by_mint_until_a_short_page(
    upstream: FakeUpstream, market: SimulatedMarket
) -> None:
    provider = make_provider(upstream)
    item = bundled_launch(market)

    accounts: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = provider.get_mint_token_accounts(item.mint, page=page, limit=10)
        accounts += answer["token_accounts"]
        if answer["total"] < 10:
            break
        page += 1

    assert sum(account["amount"] for account in accounts) == item.supply_raw
    assert {"address", "mint", "owner", "amount", "delegated_amount", "frozen"} == set(accounts[0])
    das_calls = [params for method, params in upstream.rpc_calls if method == "getTokenAccounts"]
    assert das_calls[0] == {"mint": item.mint, "page": 1, "limit": 10}
    assert len(das_calls) == page


def test_multiple_accounts_are_batched_by_100_in_order(
    upstream: FakeUpstream, market: SimulatedMarket
) -> None:
    provider = make_provider(upstream)
    item = bundled_launch(market)
    addresses = [item.pool, *market.sample_wallets(148), item.mint]

    accounts = provider.get_multiple_accounts(addresses)

    assert accounts == market.get_multiple_accounts(addresses[:100]) + market.get_multiple_accounts(
        addresses[100:]
    )
    pool, wallet = accounts[0], accounts[1]
    assert pool is not None and wallet is not None
    assert pool["owner"] != wallet["owner"]  # a pool is not a wallet
    assert [len(params[0]) for method, params in upstream.rpc_calls if method == "getMultipleAccounts"] == [
        100,
        50,
    ]


def test_a_mints_signatures_page_back_to_its_creation(
    upstream: FakeUpstream, market: SimulatedMarket
) -> None:
    provider = make_provider(upstream)
    item = bundled_launch(market)

    signatures: list[str] = []
    before: str | None = None
    while True:
        page = provider.get_signatures(item.mint, before=before, limit=10)
        signatures += [entry["signature"] for entry in page]
        if len(page) < 10:
            break
        before = signatures[-1]
    oldest = provider.get_transactions(signatures[::-1][:5])

    assert oldest[0]["type"] == "CREATE" and oldest[0]["feePayer"] == item.creator
    assert {tx["slot"] for tx in oldest[1:5]} == {item.creation_slot}


def test_holder_calls_take_the_rate_limit_and_retry_429(
    upstream: FakeUpstream, market: SimulatedMarket
) -> None:
    calls: list[tuple[str, str]] = []
    provider = make_provider(upstream, rate_limiter=lambda api, limit: calls.append((api, limit)))
    item = bundled_launch(market)
    upstream.fail_next(429, 503)

    provider.get_token_supply(item.mint)
    provider.get_mint_token_accounts(item.mint, page=1)
    provider.get_multiple_accounts([item.pool])

    # Three calls and two retries: every request sent took its own slot of the limit.
    assert [api for api, _ in calls] == ["helius-rpc"] * 5
    assert upstream.responses_by_status[429] == 1 and upstream.responses_by_status[503] == 1
