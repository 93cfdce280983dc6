"""Similarity of a set of wallets from their stored swaps and latest balances."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from similarity.engine import SimilarityOptions, activity_from_legs, compute_similarity
from wallets.selectors import wallet_latest_balances, wallet_swap_legs

# Request options a caller may set; anything else in `options` is ignored rather than trusted.
TUNABLE_OPTIONS = ("co_trade_window_s", "cluster_threshold", "top_pairs", "evidence_tokens")


def similarity_options_from(raw: Mapping[str, Any]) -> SimilarityOptions:
    defaults = SimilarityOptions()
    overrides = {key: raw[key] for key in TUNABLE_OPTIONS if key in raw}
    return dataclasses.replace(defaults, **overrides)


def _normalised_holdings(balances: Mapping[str, dict[str, Any] | None]) -> dict[str, dict[str, float]]:
    """Each token's amount relative to its largest holder in the set, so tokens of any supply compare."""
    largest: dict[str, float] = {}
    for balance in balances.values():
        for token in (balance or {}).get("tokens", []):
            largest[token["mint"]] = max(largest.get(token["mint"], 0.0), float(token["ui_amount"]))
    return {
        wallet: {
            token["mint"]: float(token["ui_amount"]) / largest[token["mint"]]
            for token in (balance or {}).get("tokens", [])
            if largest.get(token["mint"])
        }
        for wallet, balance in balances.items()
    }


def similarity_analyze(
    *, wallets: Sequence[str], failed_wallets: Sequence[Mapping[str, str]], options: Mapping[str, Any]
) -> dict[str, Any]:
    balances = {wallet: wallet_latest_balances(address=wallet) for wallet in wallets}
    holdings = _normalised_holdings(balances)
    activities = [
        activity_from_legs(wallet, wallet_swap_legs(address=wallet), holdings.get(wallet, {}))
        for wallet in wallets
    ]
    result = compute_similarity(
        activities, options=similarity_options_from(options), failed_wallets=failed_wallets
    )
    output: dict[str, Any] = result.to_dict()
    output["balances"] = {wallet: balance for wallet, balance in balances.items() if balance is not None}
    return output
