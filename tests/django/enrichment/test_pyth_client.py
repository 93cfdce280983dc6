"""The SOL/USD history client over real HTTP against the fake Pyth Benchmarks route (issue 17): candles come
back and are stored once, a path prefix is honoured, 429s are retried, the global limit is taken per request,
and every bad answer (garbage, no data, an error, 0, "NaN", a negative price, a dead server) becomes a
reason, never an exception, with nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from enrichment.models import SolUsdCandle
from enrichment.providers import PythBenchmarksClient
from enrichment.services import sol_usd_history
from tests.support.fake_upstream import FakeUpstream
from wallets.simulated_market import WINDOW_START_TS, SimulatedMarket

pytestmark = pytest.mark.django_db

MARKET = SimulatedMarket(seed=0)
T0 = WINDOW_START_TS + 3 * 86_400 - (WINDOW_START_TS + 3 * 86_400) % 60
NOW = datetime(2026, 12, 1, tzinfo=UTC)
MINUTES = [T0, T0 + 60, T0 + 3_600]


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(market=MARKET) as server:
        yield server
        assert server.internal_errors == []


def client(
    upstream: FakeUpstream, calls: list[tuple[str, str]] | None = None, **options: Any
) -> PythBenchmarksClient:
    def limiter(api: str, limit: str) -> None:
        if calls is not None:
            calls.append((api, limit))

    return PythBenchmarksClient(
        base_url=f"{upstream.url}/pyth/",
        timeout_s=5.0,
        rate_limit="90/10seconds",
        rate_limiter=limiter,
        retries=options.pop("retries", 2),
        backoff_factor=0.01,
        **options,
    )


def test_candles_are_fetched_in_one_range_stored_and_not_asked_again(upstream: FakeUpstream) -> None:
    limits: list[tuple[str, str]] = []
    provider = client(upstream, limits)

    result = sol_usd_history(minutes=MINUTES, provider=provider, now=NOW)

    assert result.error is None
    assert result.by_minute == {minute: pytest.approx(MARKET.sol_usd_at(minute)) for minute in MINUTES}
    day = T0 - T0 % 86_400  # the whole UTC day of the wanted minutes, in one request
    assert upstream.candle_requests == [("1", str(day), str(day + 86_399))]
    assert upstream.requests_by_path == {"/pyth/v1/shims/tradingview/history": 1}
    assert limits == [("sol-price-history", "90/10seconds")]
    assert SolUsdCandle.objects.count() == 1_440
    again = sol_usd_history(minutes=MINUTES, provider=provider, now=NOW)
    assert again.by_minute == result.by_minute and again.calls == 0
    assert len(upstream.candle_requests) == 1


def test_a_429_is_retried_honouring_retry_after(upstream: FakeUpstream) -> None:
    upstream.retry_after_s = 1
    upstream.fail_next(429)
    result = sol_usd_history(minutes=[T0], provider=client(upstream), now=NOW)
    assert result.error is None and upstream.responses_by_status[429] == 1
    assert upstream.requests_by_route["sol_usd"] == 2  # the 429, then the answer


@pytest.mark.parametrize(
    ("knob", "value", "reason"),
    [
        ("candles_answer", "garbage", "not JSON"),
        ("candles_answer", "no_data", "has no data"),
        ("candles_answer", "error", "Internal error"),
        ("candles_corrupt", "zero", "not a finite positive number"),
        ("candles_corrupt", "nan", "not a finite positive number"),
        ("candles_corrupt", "negative", "not a finite positive number"),
        ("candles_force_status", 503, "HTTP 503"),
    ],
)
def test_a_bad_answer_is_a_reason_and_nothing_is_stored(
    upstream: FakeUpstream, knob: str, value: Any, reason: str
) -> None:
    setattr(upstream, knob, value)
    result = sol_usd_history(minutes=MINUTES, provider=client(upstream, retries=0), now=NOW)
    assert result.by_minute is None
    assert result.error is not None and reason in result.error, result.error
    assert SolUsdCandle.objects.count() == 0


def test_a_dead_server_is_a_reason_in_bounded_time(upstream: FakeUpstream) -> None:
    provider = client(upstream, retries=0)
    upstream.stop()
    result = sol_usd_history(minutes=[T0], provider=provider, now=NOW)
    assert result.by_minute is None and result.error is not None and "unavailable" in result.error
    upstream.start()  # the fixture's teardown stops it again
