"""Marks and enriched balances use only usable prices (issue 17; issue 15 item 17): a $3 pool, a "NaN" or a
non-positive price never values a position or a balance, and never reaches the database or a total."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from enrichment.models import TokenMetadata
from enrichment.services import enrichment_enrich_balances, enrichment_marks
from wallets.swaps import SOL_MINT, USDC_MINT

pytestmark = pytest.mark.django_db

NAN_TOKEN, THIN_TOKEN, GOOD_TOKEN, ZERO_TOKEN = "NanToken", "ThinToken", "GoodToken", "ZeroToken"


def pair(base: str, price_usd: str, liquidity_usd: str, *, quote: str = USDC_MINT) -> dict[str, Any]:
    return {
        "baseToken": {"address": base, "symbol": base[:4].upper(), "name": base},
        "quoteToken": {"address": quote},
        "priceUsd": price_usd,
        "priceNative": price_usd,
        "liquidity": {"usd": liquidity_usd},
        "pairAddress": f"pair-{base}",
        "dexId": "raydium",
    }


class Pairs:
    """DexScreener's answers as its API sends them: numbers as strings, "NaN" and "Infinity" included."""

    def get_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]:
        pairs = [
            pair(SOL_MINT, "200.0", "9000000"),
            pair(NAN_TOKEN, "NaN", "50000"),
            pair(THIN_TOKEN, "0.5", "3"),
            pair(GOOD_TOKEN, "0.02", "25000"),
            pair(ZERO_TOKEN, "0", "25000"),
        ]
        return [p for p in pairs if p["baseToken"]["address"] in mints]


def test_only_usable_prices_mark_positions_and_the_rest_say_why() -> None:
    marks = enrichment_marks(
        mints=[NAN_TOKEN, THIN_TOKEN, GOOD_TOKEN, ZERO_TOKEN, "NoPair"], provider=Pairs()
    )
    assert marks.sol_usd == 200.0
    assert marks.prices_sol == {GOOD_TOKEN: pytest.approx(0.02 / 200.0)}
    assert marks.unpriced == {
        NAN_TOKEN: "no finite positive price",
        THIN_TOKEN: "liquidity $3.00 below the $1,000 minimum",
        ZERO_TOKEN: "no finite positive price",
        "NoPair": "no pair lists the token as its base",
    }
    stored = TokenMetadata.objects.get(mint=NAN_TOKEN)
    assert stored.status == TokenMetadata.Status.KNOWN and stored.price_usd is None


def test_the_minimum_liquidity_is_a_setting(settings: Any) -> None:
    settings.PRICE_MIN_LIQUIDITY_USD = 2.0
    assert THIN_TOKEN in enrichment_marks(mints=[THIN_TOKEN], provider=Pairs()).prices_sol


def test_enriched_balances_value_only_usable_prices_and_stay_json() -> None:
    balances = [
        {
            "wallet": "Wallet",
            "sol": 1.0,
            "tokens": [
                {"mint": NAN_TOKEN, "ui_amount": 1_000_000.0},
                {"mint": THIN_TOKEN, "ui_amount": 1_000_000.0},
                {"mint": GOOD_TOKEN, "ui_amount": 100.0},
            ],
        }
    ]
    enriched = enrichment_enrich_balances(job_id="job-nan", balances=balances, provider=Pairs())
    json.dumps(enriched, allow_nan=False)  # the job result's JSON column would refuse NaN
    [wallet] = enriched["balances"]
    tokens = {token["mint"]: token for token in wallet["tokens"]}
    assert (tokens[NAN_TOKEN]["price_usd"], tokens[NAN_TOKEN]["value_usd"]) == (None, None)
    assert tokens[THIN_TOKEN]["price_usd"] == 0.5  # shown, but it values nothing
    assert (tokens[THIN_TOKEN]["price_status"], tokens[THIN_TOKEN]["value_usd"]) == ("unpriced", None)
    assert tokens[GOOD_TOKEN]["value_usd"] == pytest.approx(2.0)
    assert wallet["total_value_usd"] == pytest.approx(2.0 + 200.0)  # the good token and the SOL only
    assert (enriched["priced_tokens"], enriched["unpriced_tokens"]) == (1, 2)
