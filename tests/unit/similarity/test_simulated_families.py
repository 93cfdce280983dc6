"""The default weights and threshold against the simulated market's families, without the database.

Each wallet goes the way the job takes it: its transactions from the market, swaps by `wallets.extraction`,
holdings normalised per token by the similarity service, then the engine with its defaults. This guards the
calibration documented on `similarity.engine.DEFAULT_WEIGHTS`: families must come out as clusters with room
to spare on both sides of the threshold, whatever changes in the market, the extraction or the engine.

Only the families that trade alike (copy, bundle) are expected here: `funded` groups are linked by their
funder alone, which this engine does not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components

from similarity.engine import (
    COMBINED,
    DEFAULT_CLUSTER_THRESHOLD,
    SimilarityResult,
    WalletActivity,
    activity_from_legs,
    compute_similarity,
)
from similarity.services import _normalised_holdings
from wallets.extraction import extract_wallet_swaps
from wallets.simulated_market import (
    MAX_SIGNATURES_PER_CALL,
    MAX_TRANSACTIONS_PER_CALL,
    Family,
    SimulatedMarket,
)

# Room each side of the threshold on seed 0 (measured: weakest family link 0.35, best unrelated pair 0.24).
MARGIN = 0.03


def trading_families(market: SimulatedMarket) -> list[Family]:
    return [family for family in market.families() if family.kind in ("copy", "bundle")]


def _legs(market: SimulatedMarket, wallet: str) -> list[Any]:
    signatures: list[str] = []
    before: str | None = None
    while True:
        page = market.get_signatures(wallet, before=before)
        signatures += [entry["signature"] for entry in page]
        if len(page) < MAX_SIGNATURES_PER_CALL:
            break
        before = page[-1]["signature"]
    txs: list[dict[str, Any]] = []
    for start in range(0, len(signatures), MAX_TRANSACTIONS_PER_CALL):
        txs += market.get_transactions(signatures[start : start + MAX_TRANSACTIONS_PER_CALL])
    return list(extract_wallet_swaps(txs, wallet).legs)


def _balances(market: SimulatedMarket, wallet: str) -> dict[str, Any]:
    tokens = []
    for entry in market.get_token_accounts(wallet):
        amount = entry["account"]["data"]["parsed"]["info"]["tokenAmount"]
        mint = entry["account"]["data"]["parsed"]["info"]["mint"]
        tokens.append({"mint": mint, "ui_amount": int(amount["amount"]) / 10 ** int(amount["decimals"])})
    return {"wallet": wallet, "tokens": tokens}


@pytest.fixture(scope="module")
def market_data() -> tuple[SimulatedMarket, dict[str, list[Any]], dict[str, dict[str, Any]]]:
    market = SimulatedMarket(seed=0)
    wallets = [w for family in trading_families(market) for w in family.members] + market.sample_wallets(30)
    legs = {wallet: _legs(market, wallet) for wallet in wallets}
    balances = {wallet: _balances(market, wallet) for wallet in wallets}
    return market, legs, balances


def _activities(
    wallets: Sequence[str], legs: dict[str, list[Any]], balances: dict[str, dict[str, Any]]
) -> list[WalletActivity]:
    holdings = _normalised_holdings({wallet: balances[wallet] for wallet in wallets})
    return [activity_from_legs(wallet, legs[wallet], holdings[wallet]) for wallet in wallets]


def _weakest_link(result: SimilarityResult, members: Sequence[str]) -> float:
    """The highest threshold at which the members are still connected (bottleneck of a max spanning tree)."""
    index = [result.wallets.index(member) for member in members]
    block = result.matrices[COMBINED][np.ix_(index, index)]
    for value in sorted(set(block[np.triu_indices(len(index), 1)].tolist()), reverse=True):
        count, _ = connected_components(block >= value, directed=False)
        if count == 1:
            return float(value)
    return 0.0


def _check(result: SimilarityResult, families: list[list[str]]) -> None:
    assert sorted(sorted(c.wallets) for c in result.clusters) == sorted(sorted(f) for f in families)
    for members in families:
        assert _weakest_link(result, members) >= DEFAULT_CLUSTER_THRESHOLD + MARGIN, members
    family_of = {wallet: i for i, members in enumerate(families) for wallet in members}
    same = np.array(
        [[family_of.get(a, -1) == family_of.get(b, -2) for b in result.wallets] for a in result.wallets]
    )
    np.fill_diagonal(same, True)
    assert result.matrices[COMBINED][~same].max() <= DEFAULT_CLUSTER_THRESHOLD - MARGIN


def test_all_six_families_among_thirty_unrelated_wallets(market_data: Any) -> None:
    market, legs, balances = market_data
    families = [family.members for family in trading_families(market)]
    wallets = [w for members in families for w in members] + market.sample_wallets(30)
    _check(compute_similarity(_activities(wallets, legs, balances)), families)


def test_three_families_among_ten_unrelated_wallets_as_in_the_integration_test(market_data: Any) -> None:
    market, legs, balances = market_data
    by_name = {family.name: family.members for family in market.families()}
    families = [by_name["copy-1"], by_name["bundle-1"], by_name["bundle-2"]]
    wallets = market.sample_wallets(10) + [w for members in families for w in members]
    _check(compute_similarity(_activities(wallets, legs, balances)), families)
