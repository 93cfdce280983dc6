"""Heavy bots: a million transactions served page by page, each page costing what the first one costs."""

from __future__ import annotations

import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from wallets.custodians import is_custodian
from wallets.simulated_market import ANCHOR_TS, SimulatedMarket, b58encode
from wallets.simulated_market.heavy import BLOCK_SIZE, HEAVY_SPAN_DAYS, WORKING_LAMPORTS

MILLION = 1_000_000
CHOSEN = b58encode(bytes([7] * 32))
CHOSEN_SIZE = 2_345


@cache
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=0, heavy_bots={CHOSEN: CHOSEN_SIZE})


def heavy() -> str:
    bot = market().heavy_bots()[0]
    assert market().history_length(bot) == MILLION
    return bot


def measured(call: Callable[[], Any]) -> tuple[Any, float, int]:
    """The call's answer, its wall time and its peak of newly allocated memory."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        answer = call()
        return answer, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def page_and_transactions(m: SimulatedMarket, address: str, before: str | None) -> list[dict[str, Any]]:
    page = m.get_signatures(address, before=before, limit=1000)
    m.get_transactions([entry["signature"] for entry in page[:100]])
    return page


def test_the_market_has_heavy_bots_and_takes_chosen_ones() -> None:
    m = market()
    bots = m.heavy_bots()
    assert [m.history_length(bot) for bot in bots] == [MILLION, 200_000, CHOSEN_SIZE]
    assert all(m.profile(bot).archetype == "heavy_bot" for bot in bots)
    assert m.sample_wallets(2, archetype="heavy_bot") == bots[:2]
    assert is_custodian(m.funder_of(bots[0]) or "")
    with pytest.raises(ValueError):
        m.intended_trades(bots[0])
    for size in (0, BLOCK_SIZE - 1, 10**9):
        with pytest.raises(ValueError):
            SimulatedMarket(seed=0, heavy_bots={CHOSEN: size})


def test_a_deep_page_costs_what_the_first_page_costs() -> None:
    bot = heavy()
    depth = 900_000
    # Fresh markets: nothing generated before the measured call.
    first = SimulatedMarket(seed=0)
    first_page, first_s, first_bytes = measured(lambda: page_and_transactions(first, bot, None))
    deep = SimulatedMarket(seed=0)
    cursor = deep.signature_at(bot, MILLION - depth)
    deep_page, deep_s, deep_bytes = measured(lambda: page_and_transactions(deep, bot, cursor))
    assert len(first_page) == len(deep_page) == 1000
    assert deep_s < 3 * first_s + 0.5, (first_s, deep_s)
    assert deep_bytes < 3 * first_bytes and deep_bytes < 20_000_000, (first_bytes, deep_bytes)
    # The page is the right one: the thousand transactions just older than the cursor.
    assert deep_page[0]["signature"] == deep.signature_at(bot, MILLION - depth - 1)
    assert deep_page[-1]["signature"] == deep.signature_at(bot, MILLION - depth - 1000)
    times = [entry["blockTime"] for entry in deep_page]
    assert times == sorted(times, reverse=True)


def test_pages_chain_without_gaps_across_blocks() -> None:
    m, bot = market(), heavy()
    cursor = m.signature_at(bot, 500_500)  # pages then straddle a block boundary
    seen: list[str] = []
    for _ in range(3):
        page = m.get_signatures(bot, before=cursor, limit=1000)
        seen += [entry["signature"] for entry in page]
        cursor = page[-1]["signature"]
    assert seen == [m.signature_at(bot, index) for index in range(500_499, 497_499, -1)]
    assert len(set(seen)) == 3000
    until = m.get_signatures(bot, before=seen[0], until=seen[10], limit=1000)
    assert [entry["signature"] for entry in until] == seen[1:10]


def test_the_history_spans_a_year_so_day_and_signature_caps_both_bind() -> None:
    m, bot = market(), heavy()
    newest = m.get_signatures(bot, limit=1)[0]["blockTime"]
    oldest = m.get_transactions([m.signature_at(bot, 0)])[0]["timestamp"]
    assert ANCHOR_TS - newest < 3600
    assert HEAVY_SPAN_DAYS - 1 <= (ANCHOR_TS - oldest) / 86_400 <= HEAVY_SPAN_DAYS
    fifty_thousand_back = m.get_transactions([m.signature_at(bot, MILLION - 50_000)])[0]["timestamp"]
    assert 7 < (ANCHOR_TS - fifty_thousand_back) / 86_400 < 30


def test_a_foreign_signature_bounds_a_heavy_page_by_slot() -> None:
    m, bot = market(), heavy()
    other = m.sample_wallets(1)[0]
    foreign = m.get_signatures(other)[5]
    page = m.get_signatures(bot, before=foreign["signature"], limit=50)
    assert all(entry["slot"] < foreign["slot"] for entry in page)
    newer = m.get_signatures(bot, until=foreign["signature"], limit=1000)
    assert newer and all(entry["slot"] > foreign["slot"] for entry in newer)
    # Nothing is skipped: the transaction just newer than the page's first is past the foreign slot.
    just_newer = m.get_signatures(bot, until=page[0]["signature"], limit=1000)[-1]
    assert just_newer["slot"] > foreign["slot"]


def check_block(transactions: list[dict[str, Any]], wallet: str, balance: int) -> tuple[int, dict[str, int]]:
    """Replay transactions; every one conserves lamports and the wallet never goes below zero."""
    held: dict[str, int] = defaultdict(int)
    for tx in transactions:
        assert sum(entry["nativeBalanceChange"] for entry in tx["accountData"]) == -tx["fee"]
        for entry in tx["accountData"]:
            if entry["account"] == wallet:
                balance += entry["nativeBalanceChange"]
            for change in entry["tokenBalanceChanges"]:
                if change["userAccount"] == wallet:
                    held[change["mint"]] += int(change["rawTokenAmount"]["tokenAmount"])
        assert balance >= 0
    return balance, {mint: raw for mint, raw in held.items() if raw}


@pytest.mark.parametrize("block", [0, 417, 999])
def test_every_block_balances_back_to_the_working_capital(block: int) -> None:
    m, bot = market(), heavy()
    signatures = [m.signature_at(bot, block * BLOCK_SIZE + offset) for offset in range(BLOCK_SIZE)]
    transactions = [
        tx
        for start in range(0, BLOCK_SIZE, 100)
        for tx in m.get_transactions(signatures[start : start + 100])
    ]
    assert len(transactions) == BLOCK_SIZE
    start = 0 if block == 0 else WORKING_LAMPORTS
    end, held = check_block(transactions, bot, start)
    assert end == WORKING_LAMPORTS
    assert held == {}  # every round trip closes within its block
    failed = sum(tx["transactionError"] is not None for tx in transactions)
    assert (
        0.15 * BLOCK_SIZE < failed < 0.3 * BLOCK_SIZE
    )  # a third of its attempts: a fifth of its transactions
    assert sum(len(tx["nativeTransfers"]) > 2 for tx in transactions) > 100  # swaps that tip
    if block == 999:
        assert m.get_sol_balance(bot) == WORKING_LAMPORTS


def test_a_cut_short_last_block_leaves_the_balance_and_holdings_of_now() -> None:
    m = market()
    signatures = [m.signature_at(CHOSEN, index) for index in range(CHOSEN_SIZE)]
    transactions = [
        tx
        for start in range(0, CHOSEN_SIZE, 100)
        for tx in m.get_transactions(signatures[start : start + 100])
    ]
    balance, held = check_block(transactions, CHOSEN, 0)
    assert m.get_sol_balance(CHOSEN) == balance
    reported = {
        entry["account"]["data"]["parsed"]["info"]["mint"]: int(
            entry["account"]["data"]["parsed"]["info"]["tokenAmount"]["amount"]
        )
        for entry in m.get_token_accounts(CHOSEN)
    }
    assert reported == held
    assert [entry["signature"] for entry in m.get_signatures(CHOSEN, limit=1000)] == signatures[::-1][:1000]


def test_heavy_pages_are_the_same_in_a_fresh_market() -> None:
    bot = heavy()
    cursor = market().signature_at(bot, 123_456)
    page = market().get_signatures(bot, before=cursor, limit=100)
    fresh = SimulatedMarket(seed=0)
    assert fresh.get_signatures(bot, before=cursor, limit=100) == page
    signatures = [entry["signature"] for entry in page]
    assert fresh.get_transactions(signatures) == market().get_transactions(signatures)
