"""The reconciliation on the simulated market's histories (issue 17): every archetype's SOL-quoted swaps
balance with the chain to the lamport; only stablecoin-quoted transactions may be left over, listed as such.
The market renders tips, rent, temporary WSOL accounts, failed transactions and USDC-quoted swaps."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from analysis.pnl import compute_pnl
from analysis.reconciliation import legs_cash_flow
from wallets.extraction import extract_wallet_swaps
from wallets.simulated_market import SimulatedMarket
from wallets.swaps import SOL_MINT

MARKET = SimulatedMarket(seed=0)


def full_history(wallet: str) -> list[dict[str, Any]]:
    signatures: list[str] = []
    before: str | None = None
    while True:
        page = MARKET.get_signatures(wallet, before=before, limit=1000)
        signatures += [entry["signature"] for entry in page]
        if len(page) < 1000:
            break
        before = page[-1]["signature"]
    return [
        tx for i in range(0, len(signatures), 100) for tx in MARKET.get_transactions(signatures[i : i + 100])
    ]


ARCHETYPES: tuple[Literal["flipper", "holder", "sniper", "bot"], ...] = ("flipper", "holder", "sniper", "bot")
WALLETS = [
    pytest.param(wallet, id=f"{archetype}-{wallet[:6]}")
    for archetype in ARCHETYPES
    for wallet in MARKET.sample_wallets(2, archetype=archetype)
]


@pytest.mark.parametrize("wallet", WALLETS)
def test_sol_quoted_swaps_of_simulated_wallets_balance_to_the_lamport(wallet: str) -> None:
    extracted = extract_wallet_swaps(full_history(wallet), wallet)
    assert extracted.legs, "a simulated wallet trades"
    records = {record.signature: record for record in extracted.records}
    by_signature: dict[str, list[Any]] = {}
    for leg in extracted.legs:
        by_signature.setdefault(leg.signature, []).append(leg)
    sol_quoted = [legs for legs in by_signature.values() if all(leg.quote_mint == SOL_MINT for leg in legs)]
    assert sol_quoted
    for legs in sol_quoted:
        assert legs_cash_flow(legs) == records[legs[0].signature].change_without_rent, legs[0].signature

    wallet_pnl = compute_pnl(extracted.legs, records=extracted.records)
    reconciliation = wallet_pnl.reconciliation
    assert reconciliation is not None
    assert {item.reason for item in reconciliation.unexplained} <= {"stablecoin_quoted"}
    if not any(leg.quote_mint != SOL_MINT for leg in extracted.legs):
        assert reconciliation.unexplained_lamports == 0
    failed = [record for record in extracted.records if record.kind == "failed" and record.fee_lamports]
    assert wallet_pnl.failed_tx_count == len(failed)
