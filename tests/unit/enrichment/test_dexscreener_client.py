"""DexScreenerClient over real HTTP against the local fake upstream (docs/ARCHITECTURE.md §13): at most 30
mints a call (seen
by the server), retries on 429/5xx, timeouts, the global limiter taken before every request, recorded
payloads parsed as they are. No database, no Redis: the limiter is a recording stub."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.http import UpstreamTransientError
from core.ratelimit import rate_limit_acquire
from enrichment.pricing import best_quotes
from enrichment.providers import MAX_MINTS_PER_CALL, DexScreenerClient
from tests.support.fake_upstream import FakeUpstream
from wallets.simulated_market import SimulatedMarket
from wallets.swaps import SOL_MINT

PREFIX = "/dex"
POPDOG = "EATGZHJViJsk7nEKkrdJicwNbfpkJfAtmrEmrjXR8NBj"
MARKET = SimulatedMarket(seed=0)


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(market=MARKET) as server:
        yield server
        assert server.internal_errors == []


def make_client(upstream: FakeUpstream, **overrides: Any) -> DexScreenerClient:
    options: dict[str, Any] = {
        "base_url": upstream.url + PREFIX,
        "timeout_s": 5.0,
        "rate_limit": "300/minute",
        "rate_limiter": lambda api, limit: None,
        "retries": 3,
        "backoff_factor": 0.0,
    }
    options.update(overrides)
    return DexScreenerClient(**options)


def market_mints(count: int) -> list[str]:
    return [token.mint for token in MARKET.tokens()[:count]]


def test_thirty_mints_go_in_one_request_and_more_are_refused_before_sending(upstream: FakeUpstream) -> None:
    client = make_client(upstream)

    pairs = client.get_pairs(market_mints(MAX_MINTS_PER_CALL))

    assert len(pairs) == MAX_MINTS_PER_CALL
    assert upstream.dex_batch_sizes == [MAX_MINTS_PER_CALL]
    with pytest.raises(ValueError, match="at most 30"):
        client.get_pairs(market_mints(MAX_MINTS_PER_CALL + 1))
    assert upstream.dex_batch_sizes == [MAX_MINTS_PER_CALL]
    assert client.get_pairs([]) == []
    assert upstream.requests_by_route["dexscreener"] == 1


def test_recorded_pairs_are_served_and_only_base_side_prices_count(upstream: FakeUpstream) -> None:
    pairs = make_client(upstream).get_pairs([POPDOG, SOL_MINT])

    assert upstream.requests_by_path[f"{PREFIX}/tokens/v1/solana/{POPDOG},{SOL_MINT}"] == 1
    assert len(pairs) == 4  # three recorded POPDOG pairs (one with POPDOG as quote) and the WSOL one
    quotes = best_quotes(pairs, [POPDOG, SOL_MINT])
    assert quotes[POPDOG].price_usd == pytest.approx(0.003025)
    assert quotes[SOL_MINT].price_usd == pytest.approx(100.17)


def test_unknown_mints_come_back_as_no_pairs(upstream: FakeUpstream) -> None:
    unknown = MARKET.sample_wallets(1)[0]  # a valid address that is no listed token

    assert make_client(upstream).get_pairs([unknown]) == []


@pytest.mark.parametrize("statuses", [(429,), (500, 502), (429, 503, 504)])
def test_429_and_5xx_are_retried_until_an_answer(upstream: FakeUpstream, statuses: tuple[int, ...]) -> None:
    upstream.fail_next(*statuses)
    mints = market_mints(3)

    pairs = make_client(upstream).get_pairs(mints)

    assert [pair["baseToken"]["address"] for pair in pairs] == mints
    assert upstream.requests_by_route["dexscreener"] == len(statuses) + 1
    assert upstream.responses_by_status[200] == 1


def test_retry_after_is_honoured(upstream: FakeUpstream) -> None:
    upstream.retry_after_s = 1
    upstream.fail_next(429)

    started = time.monotonic()
    make_client(upstream).get_pairs(market_mints(1))

    assert time.monotonic() - started >= 0.9
    assert upstream.requests_by_route["dexscreener"] == 2


def test_persistent_5xx_surfaces_as_transient_after_the_retries(upstream: FakeUpstream) -> None:
    upstream.dex_force_status = 503

    with pytest.raises(UpstreamTransientError, match="DexScreener answered HTTP 503 after retries"):
        make_client(upstream, retries=2).get_pairs(market_mints(2))

    assert upstream.requests_by_route["dexscreener"] == 3


def test_a_hanging_upstream_times_out(upstream: FakeUpstream) -> None:
    upstream.hang_s = 2.0

    started = time.monotonic()
    # requests reports a read timeout that exhausted urllib3's retries as a ConnectionError.
    with pytest.raises(UpstreamTransientError, match=r"DexScreener: .* after retries"):
        make_client(upstream, timeout_s=0.2, retries=1).get_pairs(market_mints(1))

    assert time.monotonic() - started < 1.5
    assert upstream.requests_by_route["dexscreener"] == 2


def test_global_limiter_is_taken_before_every_request(upstream: FakeUpstream) -> None:
    calls: list[tuple[str, str]] = []
    client = make_client(
        upstream, rate_limit="7/minute", rate_limiter=lambda api, limit: calls.append((api, limit))
    )

    client.get_pairs(market_mints(2))
    client.get_pairs(market_mints(5))
    client.get_pairs([])

    assert calls == [("dexscreener", "7/minute")] * 2


def test_every_retry_takes_its_own_slot_of_the_limit(upstream: FakeUpstream) -> None:
    calls: list[str] = []
    client = make_client(upstream, rate_limiter=lambda api, limit: calls.append(api))
    upstream.fail_next(429, 500)

    client.get_pairs(market_mints(2))

    assert calls == ["dexscreener"] * 3
    assert upstream.requests_by_route["dexscreener"] == 3


def test_from_settings_uses_the_shared_redis_limiter(settings: Any) -> None:
    settings.DEXSCREENER_API_URL = "https://dex.example.test/prefix/"
    settings.DEXSCREENER_RATE_LIMIT = "120/minute"
    settings.UPSTREAM_TIMEOUT_S = 4.5

    client = DexScreenerClient.from_settings()

    assert client.rate_limiter is rate_limit_acquire
    assert (client.base_url, client.rate_limit, client.timeout_s) == (
        "https://dex.example.test/prefix",
        "120/minute",
        4.5,
    )
