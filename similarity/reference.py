"""Naive reference of the similarity channels: a plain double loop over pairs of wallets with dicts and sets.

It restates the definitions of :mod:`similarity.engine` as directly as possible, independently of its
vectorised code, so the unit tests can check the engine against it and the benchmark can use it as the
baseline. It is O(n² x tokens per wallet) in pure Python: do not use it in the product.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from similarity.engine import (
    BINARY_COSINE,
    CAPITAL_COSINE,
    CHANNELS,
    CO_TRADE,
    COMBINED,
    FUNDING,
    HOLDINGS_COSINE,
    HOLDINGS_JACCARD,
    JACCARD_TRADED,
    SimilarityOptions,
    WalletActivity,
)


def _clean(value: float) -> float:
    return value if math.isfinite(value) and value > 0 else 0.0


class _Wallet:
    def __init__(self, activity: WalletActivity, excluded: frozenset[str]) -> None:
        self.spent: dict[str, float] = {}
        self.first_buy: dict[str, int] = {}
        for trade in activity.trades:
            if trade.mint in excluded:
                continue
            self.spent[trade.mint] = self.spent.get(trade.mint, 0.0) + _clean(trade.sol_spent)
            if trade.first_buy_at is not None:
                previous = self.first_buy.get(trade.mint)
                at = int(trade.first_buy_at)
                self.first_buy[trade.mint] = at if previous is None else min(previous, at)
        self.traded = set(self.spent)
        total = sum(self.spent.values())
        self.capital = {mint: value / total for mint, value in self.spent.items()} if total > 0 else {}
        self.holdings: dict[str, float] = {}
        for mint, value in activity.holdings.items():
            if mint not in excluded:
                self.holdings[mint] = self.holdings.get(mint, 0.0) + _clean(value)
        self.holdings = {mint: value for mint, value in self.holdings.items() if value > 0}


def _token_weights(sets: Sequence[set[str]], opts: SimilarityOptions) -> dict[str, float]:
    n = len(sets)
    if opts.common_token_share is None or n < opts.common_token_min_wallets:
        return {}
    counts: dict[str, int] = {}
    for tokens in sets:
        for mint in tokens:
            counts[mint] = counts.get(mint, 0) + 1
    return {mint: opts.common_token_weight for mint, c in counts.items() if c > opts.common_token_share * n}


def _cosine(x: dict[str, float], y: dict[str, float], weights: dict[str, float]) -> float:
    dot = sum(value * y[mint] * weights.get(mint, 1.0) ** 2 for mint, value in x.items() if mint in y)
    norm_x = math.sqrt(sum((value * weights.get(mint, 1.0)) ** 2 for mint, value in x.items()))
    norm_y = math.sqrt(sum((value * weights.get(mint, 1.0)) ** 2 for mint, value in y.items()))
    return dot / (norm_x * norm_y) if norm_x > 0 and norm_y > 0 else 0.0


def _jaccard(x: set[str], y: set[str]) -> float:
    union = len(x | y)
    return len(x & y) / union if union else 0.0


def _crowd(buyers: dict[str, list[int]], mint: str, at: int, window: int) -> int:
    """Wallets of the set whose first buy of `mint` lies within the window of `at` (the buyer included)."""
    return sum(1 for other in buyers[mint] if abs(other - at) <= window)


def _co_trade(
    x: dict[str, int], y: dict[str, int], buyers: dict[str, list[int]], opts: SimilarityOptions
) -> float:
    window = opts.co_trade_window_s
    co_buys = [mint for mint, at in x.items() if mint in y and abs(y[mint] - at) <= window]
    if len(co_buys) < opts.co_trade_min_events:
        return 0.0
    weighted = 0.0
    for mint in co_buys:
        crowd = max(_crowd(buyers, mint, x[mint], window), _crowd(buyers, mint, y[mint], window))
        weighted += 1.0 / math.log2(crowd)
    lags = [y[mint] - x[mint] for mint in co_buys]
    usual = statistics.median(lags)
    steady = sum(1 for lag in lags if abs(lag - usual) <= opts.co_trade_lag_tolerance * abs(usual) + 1e-9)
    consistency = steady / len(co_buys)
    return min(1.0, weighted * max(0.0, 2 * consistency - 1) / math.sqrt(len(x) * len(y)))


def _ignored_funders(activities: Sequence[WalletActivity], opts: SimilarityOptions) -> set[str]:
    funded: dict[str, set[str]] = {}
    for activity in activities:
        if activity.funding is None:
            continue
        transfers = list(activity.funding.received)
        if activity.funding.first is not None:
            transfers.append(activity.funding.first)
        for transfer in transfers:
            funded.setdefault(transfer.source, set()).add(activity.address)
    busy = {source for source, wallets in funded.items() if len(wallets) > opts.funder_max_fanout}
    return busy | set(opts.ignored_funders)


def _funding(x: WalletActivity, y: WalletActivity, ignored: set[str]) -> float:
    if x.funding is None or y.funding is None:
        first_x = first_y = None
    else:
        first_x, first_y = x.funding.first, y.funding.first
    if first_x and first_y and first_x.source == first_y.source and first_x.source not in ignored:
        return 1.0
    for receiver, sender in ((x, y), (y, x)):
        if sender.address in ignored or receiver.funding is None:
            continue
        if any(transfer.source == sender.address for transfer in receiver.funding.received):
            return 1.0
    return 0.0


def naive_similarity(
    activities: Sequence[WalletActivity], options: SimilarityOptions | None = None
) -> dict[str, NDArray[np.float64]]:
    """Every channel and combined as n x n float64 matrices, one pair at a time."""
    opts = options or SimilarityOptions()
    wallets = [_Wallet(activity, opts.excluded_mints) for activity in activities]
    trade_weights = _token_weights([w.traded for w in wallets], opts)
    held_weights = _token_weights([set(w.holdings) for w in wallets], opts)
    channel_weights = opts.channel_weights()
    buyers: dict[str, list[int]] = {}
    for w in wallets:
        for mint, at in w.first_buy.items():
            buyers.setdefault(mint, []).append(at)
    ignored = _ignored_funders(activities, opts)
    n = len(wallets)
    out = {name: np.eye(n) for name in (*CHANNELS, COMBINED)}
    for a in range(n):
        for b in range(a + 1, n):
            x, y = wallets[a], wallets[b]
            scores = {
                CAPITAL_COSINE: _cosine(x.capital, y.capital, trade_weights),
                BINARY_COSINE: _cosine(
                    dict.fromkeys(x.traded, 1.0), dict.fromkeys(y.traded, 1.0), trade_weights
                ),
                JACCARD_TRADED: _jaccard(x.traded, y.traded),
                HOLDINGS_COSINE: _cosine(x.holdings, y.holdings, held_weights),
                HOLDINGS_JACCARD: _jaccard(set(x.holdings), set(y.holdings)),
                CO_TRADE: _co_trade(x.first_buy, y.first_buy, buyers, opts),
                FUNDING: _funding(activities[a], activities[b], ignored),
            }
            scores[COMBINED] = sum(channel_weights[name] * scores[name] for name in CHANNELS)
            for name, score in scores.items():
                out[name][a, b] = out[name][b, a] = score
    return out
