"""Results stored before issue 17 (no `result_version`, no marks, no reconciliation) still read: the PnL
result, the headline figures other results carry, and the event summary; the new fields read as absent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analysis import selectors, services
from analysis.models import AnalysisRun, TokenPnlRow, WalletPnlSummary
from tests.django.analysis.conftest import PRICED, T0, address

pytestmark = pytest.mark.django_db

WALLET = address(31)

# The wallet figures as version 1 stored them (an unpriced token left out of unrealized PnL).
OLD_SUMMARY = {
    "tokens_traded": 1,
    "tokens_open": 1,
    "tokens_unpriced": 1,
    "realized_pnl_sol": 0.4,
    "unrealized_pnl_sol": None,
    "total_pnl_sol": 0.4,
    "total_includes_unrealized": False,
    "win_rate": None,
    "sol_price_usd": 150.0,
    "realized_pnl_usd": 60.0,
    "swaps_parsed": 2,
}
OLD_TOKEN = {"mint": PRICED.mint, "status": "open", "unrealized_pnl_sol": None, "price_sol": None}


def old_run() -> AnalysisRun:
    at = datetime.fromtimestamp(T0, tz=UTC)
    run = AnalysisRun.objects.create(wallet=WALLET, kind="pnl", computed_at=at, swap_count=2)
    WalletPnlSummary.objects.create(
        run=run,
        wallet=WALLET,
        tokens_traded=1,
        tokens_open=1,
        tokens_closed=0,
        tokens_dust=0,
        tokens_unpriced=1,
        swaps_parsed=2,
        legs_parsed=2,
        buy_count=1,
        sell_count=1,
        invested_sol=1.0,
        proceeds_sol=0.8,
        unknown_basis_proceeds_sol=0.0,
        realized_pnl_sol=0.4,
        unrealized_pnl_sol=None,
        total_pnl_sol=0.4,
        net_pnl_sol=0.39,
        fees_sol=0.00001,
        data=OLD_SUMMARY,
    )
    TokenPnlRow.objects.create(
        run=run,
        mint=PRICED.mint,
        status="open",
        buy_count=1,
        sell_count=1,
        bought_qty_raw=1,
        sold_qty_raw=1,
        remaining_qty_raw=1,
        unknown_basis_qty_raw=0,
        invested_sol=1.0,
        proceeds_sol=0.8,
        realized_pnl_sol=0.4,
        unrealized_pnl_sol=None,
        total_pnl_sol=0.4,
        fees_sol=0.0,
        first_trade_at=at,
        last_trade_at=at,
        data=OLD_TOKEN,
    )
    return run


def test_an_old_pnl_result_reads_with_the_new_fields_absent() -> None:
    run = old_run()
    result = selectors.analysis_pnl_result(run=run, recomputed=False)
    assert result["pnl"]["total_pnl_sol"] == 0.4 and result["pnl"]["tokens"] == [OLD_TOKEN]
    assert result["inputs"]["sol_usd_history_error"] is None

    headline = selectors.analysis_headlines(runs=[run])[(WALLET, "pnl")]
    assert headline["total_pnl_sol"] == 0.4
    for field in ("result_version", "unpriced_open_cost_sol", "reconciliation", "periods", "open_positions"):
        assert headline[field] is None

    summary = selectors.analysis_result_summary(result)
    assert summary["wallet"] == WALLET and summary["reconciliation"] is None


def test_an_old_run_is_replaced_by_a_version_2_result(add_leg) -> None:
    old_run()
    add_leg(WALLET, mint=PRICED.mint, direction="buy", qty=1_000_000, sol=1.0, ts=T0)
    add_leg(WALLET, mint=PRICED.mint, direction="sell", qty=400_000, sol=0.8, ts=T0 + 120)
    result = services.analysis_compute_pnl(address=WALLET)  # the swaps are not the ones it analysed
    assert result["recomputed"] is True and result["pnl"]["result_version"] == 2
    assert WalletPnlSummary.objects.get(wallet=WALLET).result_version == 2
