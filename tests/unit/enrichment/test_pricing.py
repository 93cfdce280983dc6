"""Price selection from DexScreener pairs (docs/ARCHITECTURE.md §14): only base-side pairs price a token;
SOL/USD comes from
its SOL/USDC reference pair. Pure: recorded fixtures and the simulated market, no network, no database."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from enrichment.pricing import TokenQuote, best_quotes, mark_in_sol, price_in_sol, sol_usd_price
from wallets.simulated_market import SOL_USD_PRICE, SimulatedMarket
from wallets.swaps import SOL_MINT, USDC_MINT, USDT_MINT

DEX_FIXTURES = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "dexscreener"
POPDOG = "EATGZHJViJsk7nEKkrdJicwNbfpkJfAtmrEmrjXR8NBj"
GUDB = "2zcGjrs2eTw3rqpND9jaaXGcW45mTvbFLVWZSKu7Mz8K"


def popdog_pairs() -> list[dict[str, Any]]:
    pairs: list[dict[str, Any]] = json.loads(
        (DEX_FIXTURES / "dexscreener_latest_dex_pairs_popdog.json").read_text()
    )["pairs"]
    return pairs


def wsol_pairs() -> list[dict[str, Any]]:
    pairs: list[dict[str, Any]] = json.loads(
        (DEX_FIXTURES / "dexscreener_tokens_v1_solana_wsol.json").read_text()
    )
    return pairs


def test_fixture_third_pair_lists_popdog_on_the_quote_side() -> None:
    third = popdog_pairs()[2]
    assert third["quoteToken"]["address"] == POPDOG
    assert third["baseToken"]["address"] == GUDB


def test_quote_side_pair_does_not_give_popdog_the_other_tokens_price() -> None:
    third = popdog_pairs()[2]

    quotes = best_quotes([third], [POPDOG, GUDB])

    assert POPDOG not in quotes  # its priceUsd (0.0000283) is GUDB's price, not POPDOG's
    assert quotes[GUDB].price_usd == pytest.approx(0.0000283)
    assert quotes[GUDB].quote_mint == POPDOG


def test_quote_side_pair_is_ignored_even_when_it_is_the_most_liquid() -> None:
    pairs = popdog_pairs()
    pairs[2]["liquidity"]["usd"] = 10**12

    popdog = best_quotes(pairs, [POPDOG])[POPDOG]

    assert popdog.price_usd == pytest.approx(0.003025)
    assert popdog.pair_address == pairs[0]["pairAddress"]


def test_most_liquid_base_pair_wins_and_carries_the_metadata() -> None:
    pairs = popdog_pairs()

    popdog = best_quotes(reversed(pairs), [POPDOG])[POPDOG]

    assert popdog == TokenQuote(
        mint=POPDOG,
        symbol="POPDOG",
        name="PopDog",
        image_url=pairs[0]["info"]["imageUrl"],
        price_usd=0.003025,
        price_native=0.00001655,
        quote_mint=SOL_MINT,
        liquidity_usd=200928.07,
        market_cap_usd=None,  # this older payload has no marketCap
        fdv_usd=3005987.0,
        pair_address=pairs[0]["pairAddress"],
        dex_id=pairs[0]["dexId"],
    )


def test_wsol_fixture_gives_the_sol_price() -> None:
    pairs = wsol_pairs()

    assert sol_usd_price(pairs) == pytest.approx(100.17)
    sol = best_quotes(pairs, [SOL_MINT])[SOL_MINT]
    assert sol.quote_mint == USDC_MINT and sol.symbol == "SOL"


def test_sol_price_comes_only_from_its_usdc_reference_pair() -> None:
    reference = wsol_pairs()[0]
    richer_usdt = copy.deepcopy(reference)
    richer_usdt["quoteToken"] = {"address": USDT_MINT, "name": "USDT", "symbol": "USDT"}
    richer_usdt["priceUsd"], richer_usdt["liquidity"]["usd"] = "99.00", 10**9
    meme_quoted = copy.deepcopy(reference)
    meme_quoted["quoteToken"] = {"address": POPDOG, "name": "PopDog", "symbol": "POPDOG"}
    meme_quoted["priceUsd"], meme_quoted["liquidity"]["usd"] = "250.00", 10**10
    thinner_usdc = copy.deepcopy(reference)
    thinner_usdc["priceUsd"], thinner_usdc["liquidity"]["usd"] = "90.00", 1000.0

    assert sol_usd_price([richer_usdt, meme_quoted, thinner_usdc, reference]) == pytest.approx(100.17)
    assert sol_usd_price([richer_usdt, meme_quoted]) is None
    assert sol_usd_price(popdog_pairs()) is None  # SOL only as quote there


def test_price_in_sol_uses_the_native_price_of_sol_pairs_else_the_usd_cross() -> None:
    popdog = best_quotes(popdog_pairs(), [POPDOG])[POPDOG]
    gudb = best_quotes(popdog_pairs(), [GUDB])[GUDB]
    sol = best_quotes(wsol_pairs(), [SOL_MINT])[SOL_MINT]

    assert price_in_sol(popdog, 100.0) == pytest.approx(0.00001655)
    assert price_in_sol(gudb, 100.0) == pytest.approx(0.0000283 / 100.0)  # quoted in POPDOG, not SOL
    assert price_in_sol(gudb, None) is None
    assert price_in_sol(sol, 100.17) == 1.0


def test_malformed_pairs_are_skipped_or_unpriced() -> None:
    pairs: list[dict[str, Any]] = [
        {},
        {"baseToken": None},
        {"baseToken": {"address": POPDOG}, "priceUsd": "not a number", "liquidity": None},
    ]

    quotes = best_quotes(pairs, [POPDOG])

    assert quotes[POPDOG].price_usd is None
    assert quotes[POPDOG].liquidity_usd == 0.0


def test_simulated_market_pairs_price_every_listed_token() -> None:
    market = SimulatedMarket(seed=0)
    mints = [token.mint for token in market.tokens()[:30]]

    quotes = best_quotes(market.get_dex_pairs(mints), mints)

    assert set(quotes) == set(mints)
    for mint in mints:
        assert price_in_sol(quotes[mint], SOL_USD_PRICE) == pytest.approx(market.price_sol(mint), rel=1e-3)
    assert sol_usd_price(market.get_dex_pairs([SOL_MINT])) == SOL_USD_PRICE


def _pair(
    base: str, price: Any, liquidity: Any, *, quote: str = SOL_MINT, native: Any = None
) -> dict[str, Any]:
    return {
        "baseToken": {"address": base, "symbol": "T", "name": "Token"},
        "quoteToken": {"address": quote},
        "priceUsd": price,
        "priceNative": native,
        "liquidity": {"usd": liquidity},
        "pairAddress": f"pair-{base}-{price}-{liquidity}",
    }


@pytest.mark.parametrize(
    "bad", ["NaN", "Infinity", "-Infinity", "nan", float("nan"), "0", "-1.5", "", "abc", True]
)
def test_non_finite_or_non_positive_prices_are_rejected_where_they_enter(bad: Any) -> None:
    """Issue 15 item 17: "NaN"/"Infinity" became floats, failed the database's JSON check and the enrichment
    was retried and dead-lettered."""
    quote = best_quotes([_pair("A", bad, "5000", native=bad)], ["A"])["A"]
    assert quote.price_usd is None and quote.price_native is None
    json.dumps(quote.to_dict(), allow_nan=False)
    assert mark_in_sol(quote, 150.0, min_liquidity_usd=1_000) == (None, "no finite positive price")


def test_a_pair_with_a_valid_price_wins_over_a_deeper_one_without() -> None:
    quotes = best_quotes([_pair("A", "NaN", "9000000"), _pair("A", "0.5", "20000")], ["A"])
    assert (quotes["A"].price_usd, quotes["A"].liquidity_usd) == (0.5, 20_000)
    assert best_quotes([_pair("A", "0.5", "NaN")], ["A"])["A"].liquidity_usd == 0.0


def test_a_thin_pool_does_not_mark_a_position() -> None:
    """Issue 17: any pair counted as a price whatever its liquidity: a $3 pool priced a position."""
    thin = best_quotes([_pair("A", "0.5", "3", quote=USDC_MINT)], ["A"])["A"]
    price, reason = mark_in_sol(thin, 150.0, min_liquidity_usd=1_000)
    assert price is None and reason == "liquidity $3.00 below the $1,000 minimum"
    deep = best_quotes([_pair("A", "0.5", "1000", quote=USDC_MINT)], ["A"])["A"]
    assert mark_in_sol(deep, 150.0, min_liquidity_usd=1_000) == (pytest.approx(0.5 / 150.0), None)
    assert mark_in_sol(None, 150.0, min_liquidity_usd=1_000) == (None, "no pair lists the token as its base")
