"""Upstream answers are bounded (core/http.py), through the real Helius and DexScreener clients over real
HTTP against the local fake upstream (tests/support/fake_upstream.py). No database, no Redis.

- A body over UPSTREAM_MAX_RESPONSE_BYTES fails as a transient upstream error, without reading it: refused
  from its Content-Length, or, sent chunked, as soon as the count passes the limit. Before, a body was read
  whole, whatever its size.
- A `Retry-After` over UPSTREAM_MAX_RETRY_AFTER_S is not waited for: the call fails at once as transient,
  and the task's own retry (with its queue's backoff) takes over. Before, the thread slept as long as the
  upstream asked (6 hours is a valid answer), on thread pools where Celery's time limits do not apply.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.errors import TransientError
from core.http import UpstreamTransientError
from enrichment.providers import DexScreenerClient
from tests.support.fake_upstream import DEFAULT_API_KEY, FakeUpstream
from wallets.helius import HeliusChainProvider, no_rate_limit
from wallets.simulated_market import SimulatedMarket

WALLET = "3JoVBiQEA2QKsq7TzW5ez5jVRtbbYgTNijoZzp5qgkr2"
MARKET = SimulatedMarket(seed=0)
LIMIT = 1024 * 1024


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(market=MARKET) as server:
        yield server
        assert server.internal_errors == []


@pytest.fixture(autouse=True)
def small_limits(settings: Any) -> None:
    settings.UPSTREAM_MAX_RESPONSE_BYTES = LIMIT
    settings.UPSTREAM_MAX_RETRY_AFTER_S = 2.0


def helius(upstream: FakeUpstream) -> HeliusChainProvider:
    return HeliusChainProvider(
        api_key=DEFAULT_API_KEY,
        api_url=upstream.url + "/helius",
        rpc_url=upstream.url + "/rpc",
        rate_limiter=no_rate_limit,
        timeout_s=5.0,
        retries=2,
        backoff_factor=0.0,
    )


def dexscreener(upstream: FakeUpstream) -> DexScreenerClient:
    return DexScreenerClient(
        base_url=upstream.url + "/dex",
        timeout_s=5.0,
        rate_limit="300/minute",
        rate_limiter=lambda api, limit: None,
        retries=2,
        backoff_factor=0.0,
    )


def calls(upstream: FakeUpstream) -> dict[str, Callable[[], Any]]:
    mint = MARKET.tokens()[0].mint
    return {
        "helius-rpc": lambda: helius(upstream).get_sol_balance(WALLET),
        "dexscreener": lambda: dexscreener(upstream).get_pairs([mint]),
    }


def finishes_within(seconds: float, call: Callable[[], Any]) -> BaseException | None:
    """Run `call` on a daemon thread; fail the test if it is still running after `seconds` (it would sleep
    for hours on the old code), else return what it raised."""
    outcome: dict[str, BaseException | None] = {"raised": None}

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - the thread hands whatever it raised to the test
            outcome["raised"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the call was still waiting after {seconds}s"
    return outcome["raised"]


@pytest.mark.parametrize("client", ["helius-rpc", "dexscreener"])
def test_padding_under_the_limit_is_read_as_usual(upstream: FakeUpstream, client: str) -> None:
    upstream.padding_bytes = LIMIT // 2
    assert calls(upstream)[client]() is not None
    upstream.padding_chunked = True
    assert calls(upstream)[client]() is not None


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("client", ["helius-rpc", "dexscreener"])
def test_a_body_over_the_limit_fails_as_transient_without_being_read(
    upstream: FakeUpstream, client: str, chunked: bool
) -> None:
    total = 64 * LIMIT
    upstream.padding_bytes = total
    upstream.padding_chunked = chunked

    started = time.monotonic()
    with pytest.raises(UpstreamTransientError, match="UPSTREAM_MAX_RESPONSE_BYTES") as caught:
        calls(upstream)[client]()

    assert isinstance(caught.value, TransientError)
    assert time.monotonic() - started < 5
    # What the server got out before the client hung up: socket buffers' worth, not the 64 MiB.
    deadline = time.monotonic() + 5
    while upstream.padded_streams_open and time.monotonic() < deadline:
        time.sleep(0.02)
    assert upstream.padded_bytes_sent < total / 4, upstream.padded_bytes_sent
    assert upstream.responses_by_status == {200: 1}  # not retried inside the call: the task retries


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("client", ["helius-rpc", "dexscreener"])
def test_a_retry_after_over_the_limit_fails_at_once_as_transient(
    upstream: FakeUpstream, client: str, status: int
) -> None:
    upstream.retry_after_s = 6 * 3600
    upstream.fail_next(status)

    raised = finishes_within(5, calls(upstream)[client])

    assert isinstance(raised, UpstreamTransientError), raised
    assert "Retry-After" in str(raised) and "UPSTREAM_MAX_RETRY_AFTER_S" in str(raised)
    assert upstream.responses_by_status == {status: 1}


def test_a_retry_after_within_the_limit_is_still_honoured(upstream: FakeUpstream) -> None:
    upstream.retry_after_s = 1
    upstream.fail_next(429)

    started = time.monotonic()
    assert helius(upstream).get_sol_balance(WALLET) == MARKET.get_sol_balance(WALLET)

    assert time.monotonic() - started >= 0.95
    assert upstream.responses_by_status == {429: 1, 200: 1}
