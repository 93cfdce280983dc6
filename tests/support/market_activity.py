"""Simulated-market wallets as the similarity job sees them, without the database.

Each wallet goes the way the job takes it: its transactions from the market, swaps by `wallets.extraction`,
funding transfers by `wallets.transfers`, holdings normalised per token like `similarity.services`, and the
shipped custodial list for the funders that never link wallets. Used by the calibration script
(bench/calibrate_similarity.py) and tests/unit/similarity/test_simulated_families.py.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from similarity.engine import (
    FundingTransfer,
    WalletActivity,
    WalletFunding,
    activity_from_legs,
    normalised_holdings,
)
from wallets.custodians import CUSTODIANS
from wallets.extraction import extract_wallet_swaps
from wallets.simulated_market import MAX_SIGNATURES_PER_CALL, MAX_TRANSACTIONS_PER_CALL, SimulatedMarket
from wallets.swaps import SwapLeg
from wallets.transfers import extract_native_transfers_in

CUSTODIAL_FUNDERS = {entry.address: f"{entry.exchange} hot wallet ({entry.label})" for entry in CUSTODIANS}


@dataclass(frozen=True)
class WalletData:
    legs: list[SwapLeg]
    balances: dict[str, Any]
    funding: WalletFunding


def _history(market: SimulatedMarket, wallet: str) -> list[dict[str, Any]]:
    signatures: list[str] = []
    before: str | None = None
    while True:
        page = market.get_signatures(wallet, before=before)
        signatures += [entry["signature"] for entry in page if entry["err"] is None]
        if len(page) < MAX_SIGNATURES_PER_CALL:
            break
        before = page[-1]["signature"]
    txs: list[dict[str, Any]] = []
    for start in range(0, len(signatures), MAX_TRANSACTIONS_PER_CALL):
        txs += market.get_transactions(signatures[start : start + MAX_TRANSACTIONS_PER_CALL])
    return txs


def _funding(transactions: Sequence[dict[str, Any]], wallet: str) -> WalletFunding:
    transfers = sorted(extract_native_transfers_in(transactions, wallet), key=lambda t: (t.timestamp, t.slot))
    earliest: dict[str, FundingTransfer] = {}
    for transfer in transfers:
        earliest.setdefault(
            transfer.source,
            FundingTransfer(transfer.source, transfer.lamports, transfer.timestamp, transfer.signature),
        )
    received = tuple(earliest.values())
    return WalletFunding(first=received[0] if received else None, received=received, history_complete=True)


def wallet_data(market: SimulatedMarket, wallet: str) -> WalletData:
    transactions = _history(market, wallet)
    tokens = []
    for entry in market.get_token_accounts(wallet):
        info = entry["account"]["data"]["parsed"]["info"]
        amount = info["tokenAmount"]
        tokens.append(
            {"mint": info["mint"], "ui_amount": int(amount["amount"]) / 10 ** int(amount["decimals"])}
        )
    return WalletData(
        legs=list(extract_wallet_swaps(transactions, wallet).legs),
        balances={"wallet": wallet, "tokens": tokens},
        funding=_funding(transactions, wallet),
    )


def activities(
    wallets: Iterable[str], data: Mapping[str, WalletData], *, with_funding: bool = True
) -> list[WalletActivity]:
    wallets = list(wallets)
    holdings = normalised_holdings({wallet: data[wallet].balances for wallet in wallets})
    return [
        activity_from_legs(
            wallet,
            data[wallet].legs,
            holdings[wallet],
            funding=data[wallet].funding if with_funding else None,
        )
        for wallet in wallets
    ]


UNRELATED_POOL = 40
ORDINARY_SNIPERS = 12
SNIPER_BOTS_PER_SET = 2


@dataclass
class MarketSample:
    """One seed's families and the wallets that are no family (every wallet's data loaded): a pool of
    unrelated wallets, ordinary sniper wallets (the `sniper` archetype: they buy launches 1-20 s after launch)
    and the market's sniper bots (each buys most launches within seconds)."""

    seed: int
    families: list[list[str]]
    kinds: dict[frozenset[str], str]  # family members -> copy, bundle or funded
    leaders: dict[frozenset[str], str]  # family members -> the copy family's leader (copy families only)
    unrelated: list[str]
    snipers: list[str]
    sniper_bots: list[str]
    data: dict[str, WalletData]

    def kind(self, family: Sequence[str]) -> str:
        return self.kinds[frozenset(family)]

    @property
    def strangers(self) -> list[str]:
        """Every wallet that belongs to no family."""
        return self.unrelated + self.snipers + self.sniper_bots


def load_sample(seed: int) -> MarketSample:
    market = SimulatedMarket(seed=seed)
    families = market.families()
    snipers = market.sample_wallets(ORDINARY_SNIPERS, archetype="sniper")
    unrelated = [w for w in market.sample_wallets(UNRELATED_POOL) if w not in snipers]
    bots = market.sniper_bots()
    wallets = {w for family in families for w in family.members} | set(unrelated) | set(snipers) | set(bots)
    return MarketSample(
        seed=seed,
        families=[list(family.members) for family in families],
        kinds={frozenset(family.members): family.kind for family in families},
        leaders={frozenset(f.members): f.leader for f in families if f.kind == "copy"},
        unrelated=unrelated,
        snipers=snipers,
        sniper_bots=bots,
        data={wallet: wallet_data(market, wallet) for wallet in sorted(wallets)},
    )


def random_sets(
    samples: Sequence[MarketSample], count: int, *, unrelated: int, rng_seed: int = 18
) -> Iterator[tuple[MarketSample, list[list[str]], list[str]]]:
    """`count` sets, each three random families of one seed and `unrelated` wallets of no family: three
    snipers (two of the market's sniper bots and one ordinary sniper wallet), the rest from the pool."""
    rng = random.Random(rng_seed)
    for k in range(count):
        sample = samples[k % len(samples)]
        families = rng.sample(sample.families, 3)
        snipers = rng.sample(sample.sniper_bots, SNIPER_BOTS_PER_SET) + rng.sample(sample.snipers, 1)
        others = snipers + rng.sample(sample.unrelated, unrelated - len(snipers))
        yield sample, families, others
