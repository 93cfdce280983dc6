"""The fake upstream's Pyth Benchmarks route over real HTTP: the market's SOL/USD candles in the UDF shape,
its validation, and the knobs the PnL tests need (faults, garbage, empty answers, unusable prices)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.fake_upstream import SOL_USD_SYMBOL, FakeUpstream
from wallets.simulated_market import WINDOW_START_TS, SimulatedMarket

PREFIX = "/pyth"
FROM = WINDOW_START_TS + 2 * 86_400
TO = FROM + 5 * 60


@pytest.fixture(scope="module")
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=0)


@pytest.fixture
def upstream(market: SimulatedMarket) -> Iterator[FakeUpstream]:
    with FakeUpstream(market=market) as server:
        yield server
        assert server.internal_errors == []


def history(upstream: FakeUpstream, **params: Any) -> requests.Response:
    query = {"symbol": SOL_USD_SYMBOL, "resolution": "1", "from": FROM, "to": TO, **params}
    query = {name: value for name, value in query.items() if value is not None}
    return requests.get(f"{upstream.url}{PREFIX}/v1/shims/tradingview/history", params=query, timeout=10)


def test_candles_come_from_the_market(upstream: FakeUpstream, market: SimulatedMarket) -> None:
    response = history(upstream)
    assert response.status_code == 200
    assert response.json() == market.sol_usd_candles(FROM, TO, "1")
    assert response.json()["s"] == "ok" and len(response.json()["t"]) == 6
    daily = history(upstream, resolution="D", **{"from": FROM, "to": FROM + 3 * 86_400}).json()
    assert daily == market.sol_usd_candles(FROM, FROM + 3 * 86_400, "D")
    assert upstream.requests_by_route["sol_usd"] == 2
    assert upstream.candle_requests == [("1", str(FROM), str(TO)), ("D", str(FROM), str(FROM + 3 * 86_400))]


def test_no_key_is_needed_and_the_path_prefix_is_free(upstream: FakeUpstream) -> None:
    params: dict[str, str | int] = {
        "symbol": SOL_USD_SYMBOL,
        "resolution": "60",
        "from": FROM,
        "to": FROM + 7200,
    }
    response = requests.get(f"{upstream.url}/v1/shims/tradingview/history", params=params, timeout=10)
    assert response.status_code == 200 and response.json()["s"] == "ok"


@pytest.mark.parametrize("missing", ["symbol", "resolution", "from", "to"])
def test_a_missing_parameter_is_422(upstream: FakeUpstream, missing: str) -> None:
    response = history(upstream, **{missing: None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", missing]


def test_a_non_integer_time_is_422_and_other_errors_are_udf_errors(upstream: FakeUpstream) -> None:
    assert history(upstream, **{"from": "yesterday"}).status_code == 422
    unknown = history(upstream, symbol="Crypto.DOGE/USD")
    assert unknown.status_code == 200 and unknown.json()["s"] == "error"
    assert history(upstream, resolution="7").json()["s"] == "error"
    assert history(upstream, **{"from": TO, "to": FROM}).json()["s"] == "error"


def test_no_data_outside_the_history(upstream: FakeUpstream, market: SimulatedMarket) -> None:
    future = market.sol_usd_candles(2_000_000_000, 2_000_003_600, "1")
    assert history(upstream, **{"from": 2_000_000_000, "to": 2_000_003_600}).json() == future
    assert future["s"] == "no_data" and "nextTime" in future


def test_fault_knobs_apply(upstream: FakeUpstream) -> None:
    upstream.retry_after_s = 2
    upstream.fail_next(429, 503)
    first, second, third = (history(upstream) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 503, 200)
    assert first.headers["Retry-After"] == "2"
    upstream.candles_force_status = 500
    assert history(upstream).status_code == 500
    upstream.candles_force_status = None
    assert history(upstream).status_code == 200


def test_answer_knobs_garbage_no_data_and_error(upstream: FakeUpstream) -> None:
    upstream.candles_answer = "garbage"
    garbage = history(upstream)
    assert garbage.status_code == 200
    with pytest.raises(ValueError):
        garbage.json()
    upstream.candles_answer = "no_data"
    assert history(upstream).json() == {"s": "no_data"}
    upstream.candles_answer = "error"
    assert history(upstream).json()["s"] == "error"


@pytest.mark.parametrize(
    ("how", "check"),
    [
        ("zero", lambda value: value == 0),
        ("nan", lambda value: value == "NaN"),
        ("negative", lambda value: isinstance(value, float) and value < 0),
    ],
)
def test_prices_can_be_made_unusable(upstream: FakeUpstream, how: str, check: Any) -> None:
    clean = history(upstream).json()
    upstream.candles_corrupt = how  # type: ignore[assignment]
    upstream.candles_corrupt_times = {clean["t"][2]}
    answer = history(upstream).json()
    assert answer["t"] == clean["t"]
    for key in "ohlc":
        assert check(answer[key][2])
        assert [v for i, v in enumerate(answer[key]) if i != 2] == [
            v for i, v in enumerate(clean[key]) if i != 2
        ]
    upstream.candles_corrupt_times = None
    everything = history(upstream).json()
    assert all(check(value) for key in "ohlc" for value in everything[key])
    assert all(isinstance(value, float) and math.isfinite(value) for value in clean["c"])
