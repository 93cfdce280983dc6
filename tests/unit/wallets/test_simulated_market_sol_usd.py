"""SOL/USD in the simulated market: a deterministic minute path, Pyth-shaped candles, and stablecoin-quoted
swaps settled at the SOL/USD of their minute."""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any

import pytest

from wallets.simulated_market import (
    ANCHOR_TS,
    SOL_USD_HISTORY_DAYS,
    SOL_USD_PRICE,
    WINDOW_START_TS,
    SimulatedMarket,
)
from wallets.swaps import SOL_MINT, USDC_MINT

HISTORY_START_TS = ANCHOR_TS - SOL_USD_HISTORY_DAYS * 86_400


@cache
def market(seed: int = 0) -> SimulatedMarket:
    return SimulatedMarket(seed=seed)


def ok(answer: dict[str, Any]) -> list[dict[str, Any]]:
    assert answer["s"] == "ok", answer
    assert set(answer) == {"s", "t", "o", "h", "l", "c", "v"}
    assert len({len(answer[key]) for key in "tohlcv"}) == 1
    return [
        {"t": t, "o": o, "h": h, "l": low, "c": c, "v": v}
        for t, o, h, low, c, v in zip(*(answer[key] for key in "tohlcv"), strict=True)
    ]


# --- the path -----------------------------------------------------------------------------------------------


def test_the_path_moves_plausibly_and_ends_at_todays_price() -> None:
    m = market()
    hourly = [m.sol_usd_at(at) for at in range(HISTORY_START_TS, ANCHOR_TS, 3600)]
    assert all(100 <= price <= 250 for price in hourly)
    assert max(hourly) / min(hourly) > 1.2  # it moves
    assert m.sol_usd_at(ANCHOR_TS - 1) == SOL_USD_PRICE == m.sol_usd_price()
    daily = ok(m.sol_usd_candles(ANCHOR_TS - 120 * 86_400, ANCHOR_TS, "D"))
    assert len(daily) == 120
    assert daily[-1]["c"] == SOL_USD_PRICE
    assert all(100 <= bar["l"] <= bar["h"] <= 250 for bar in daily)
    closes = [bar["c"] for bar in daily]
    day_moves = [abs(b / a - 1) for a, b in itertools.pairwise(closes)]
    assert max(day_moves) < 0.2  # like a big coin, not a memecoin
    assert 0.01 < sorted(day_moves)[len(day_moves) // 2] < 0.06


def test_the_history_covers_the_deepest_wallets() -> None:
    m = market()
    (first,) = ok(m.sol_usd_candles(HISTORY_START_TS - 86_400, HISTORY_START_TS, "D"))
    assert first["t"] == HISTORY_START_TS
    assert SOL_USD_HISTORY_DAYS >= 365


def test_minutes_are_continuous_and_deterministic_per_seed() -> None:
    window = (WINDOW_START_TS + 3 * 86_400, WINDOW_START_TS + 3 * 86_400 + 6 * 3600)
    minutes = ok(market().sol_usd_candles(*window, "1"))
    assert len(minutes) == 6 * 60 + 1
    for previous, bar in itertools.pairwise(minutes):
        assert bar["t"] - previous["t"] == 60
        assert bar["o"] == previous["c"]  # a candle closes where the next one opens
        assert abs(bar["c"] / bar["o"] - 1) < 0.01
    assert SimulatedMarket(seed=0).sol_usd_candles(*window, "1") == market().sol_usd_candles(*window, "1")
    assert market(1).sol_usd_candles(*window, "1") != market().sol_usd_candles(*window, "1")
    assert market(1).sol_usd_price() == SOL_USD_PRICE  # every seed's path ends at today's price


def test_the_dexscreener_sol_pair_shows_todays_price() -> None:
    m = market()
    (pair,) = m.get_dex_pairs([SOL_MINT])
    assert float(pair["priceUsd"]) == SOL_USD_PRICE
    (usdc,) = m.get_dex_pairs([USDC_MINT])
    assert float(usdc["priceNative"]) == pytest.approx(1 / SOL_USD_PRICE, rel=1e-3)
    last = ok(m.sol_usd_candles(ANCHOR_TS - 60, ANCHOR_TS, "1"))
    assert last[-1]["c"] == SOL_USD_PRICE


# --- candles ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("resolution", "seconds"), [("1", 60), ("5", 300), ("60", 3600), ("240", 14_400)])
def test_coarser_candles_aggregate_the_minutes(resolution: str, seconds: int) -> None:
    m = market()
    start = WINDOW_START_TS + 10 * 86_400
    bars = ok(m.sol_usd_candles(start, start + 4 * seconds - 1, resolution))
    assert [bar["t"] for bar in bars] == [start + step * seconds for step in range(4)]
    for bar in bars:
        minutes = ok(m.sol_usd_candles(bar["t"], bar["t"] + seconds - 60, "1"))
        assert len(minutes) == seconds // 60
        assert bar["o"] == minutes[0]["o"]
        assert bar["c"] == minutes[-1]["c"]
        assert bar["h"] == max(minute["h"] for minute in minutes)
        assert bar["l"] == min(minute["l"] for minute in minutes)
        assert bar["l"] <= min(bar["o"], bar["c"]) <= max(bar["o"], bar["c"]) <= bar["h"]
        assert bar["v"] == 0.0


def test_daily_candles_match_their_hours() -> None:
    m = market()
    day = WINDOW_START_TS + 5 * 86_400
    (daily,) = ok(m.sol_usd_candles(day, day, "D"))
    hours = ok(m.sol_usd_candles(day, day + 86_399, "60"))
    assert len(hours) == 24
    assert (daily["o"], daily["c"]) == (hours[0]["o"], hours[-1]["c"])
    assert daily["h"] == max(hour["h"] for hour in hours)
    assert daily["l"] == min(hour["l"] for hour in hours)
    assert ok(m.sol_usd_candles(day, day, "1D")) == [daily]


def test_ranges_are_inclusive_and_aligned_to_the_resolution() -> None:
    m = market()
    start = WINDOW_START_TS + 86_400
    bars = ok(m.sol_usd_candles(start + 1, start + 3 * 3600, "60"))
    assert [bar["t"] for bar in bars] == [start + 3600, start + 7200, start + 10_800]


def test_no_data_names_the_last_candle_before_the_range() -> None:
    m = market()
    assert m.sol_usd_candles(ANCHOR_TS + 3600, ANCHOR_TS + 7200, "1") == {
        "s": "no_data",
        "nextTime": ANCHOR_TS - 60,
    }
    assert m.sol_usd_candles(ANCHOR_TS, ANCHOR_TS + 86_400 * 3, "D") == {
        "s": "no_data",
        "nextTime": ANCHOR_TS - 86_400,
    }
    inside = WINDOW_START_TS + 86_400 + 10
    assert m.sol_usd_candles(inside, inside + 20, "1") == {"s": "no_data", "nextTime": inside - 10}
    before = HISTORY_START_TS - 10 * 86_400
    assert m.sol_usd_candles(before, before + 3600, "1") == {"s": "no_data"}


@pytest.mark.parametrize("resolution", ["2", "W", "", "1m", "-1"])
def test_unsupported_resolutions_are_errors(resolution: str) -> None:
    answer = market().sol_usd_candles(WINDOW_START_TS, WINDOW_START_TS + 3600, resolution)
    assert answer["s"] == "error"
    assert resolution in answer["errmsg"]


def test_a_reversed_range_is_an_error() -> None:
    answer = market().sol_usd_candles(WINDOW_START_TS + 3600, WINDOW_START_TS, "1")
    assert answer == {"s": "error", "errmsg": "from must not be after to"}


# --- stablecoin-quoted swaps --------------------------------------------------------------------------------


def test_stablecoin_swaps_are_settled_at_the_sol_usd_of_their_minute() -> None:
    m = market()
    settled = 0
    for wallet in m.sample_wallets(30):
        for trade in m.intended_trades(wallet):
            if trade.quote_mint != USDC_MINT:
                continue
            minute = trade.timestamp - trade.timestamp % 60
            (candle,) = ok(m.sol_usd_candles(minute, minute, "1"))
            assert m.sol_usd_at(trade.timestamp) == candle["c"]
            # The SOL value a reader recovers from the USDC amount and the candle is the market's, to within
            # one USDC unit of rounding.
            recovered = trade.quote_amount_raw / 1e6 / candle["c"] * 1e9
            assert recovered == pytest.approx(trade.sol_amount_lamports, abs=1e3 / candle["c"] + 1)
            assert m.price_sol(USDC_MINT, trade.timestamp) == pytest.approx(1 / candle["c"])
            settled += 1
    assert settled >= 20


def test_usdc_traders_are_funded_with_usdc_and_hold_what_is_left() -> None:
    m = market()
    wallet = next(
        w for w in m.sample_wallets(30) if any(t.quote_mint == USDC_MINT for t in m.intended_trades(w))
    )
    entries = m.get_signatures(wallet, limit=1000)[::-1]
    first, second = m.get_transactions([entries[0]["signature"], entries[1]["signature"]])
    assert first["nativeTransfers"][0]["toUserAccount"] == wallet  # SOL first
    assert second["type"] == "TRANSFER" and second["tokenTransfers"][0]["mint"] == USDC_MINT
    assert second["tokenTransfers"][0]["toUserAccount"] == wallet
    assert second["feePayer"] != wallet  # the exchange pays, and funds the new USDC account's rent
    balance = 0
    signatures = [entry["signature"] for entry in entries]
    for start in range(0, len(signatures), 100):
        for tx in m.get_transactions(signatures[start : start + 100]):
            for entry in tx["accountData"]:
                for change in entry["tokenBalanceChanges"]:
                    if change["userAccount"] == wallet and change["mint"] == USDC_MINT:
                        balance += int(change["rawTokenAmount"]["tokenAmount"])
                        assert balance >= 0
    (usdc,) = [
        entry
        for entry in m.get_token_accounts(wallet)
        if entry["account"]["data"]["parsed"]["info"]["mint"] == USDC_MINT
    ]
    assert int(usdc["account"]["data"]["parsed"]["info"]["tokenAmount"]["amount"]) == balance > 0
