"""Issue 17's defects in the PnL maths, each with hand-computed figures (they fail on the code before it).

Also the marks, USD at trade time, failed-transaction fees, periods and the same-slot order that fix them.
"""

from __future__ import annotations

import math

import pytest

from analysis.pnl import compute_pnl, minute_of
from tests.unit.analysis import UNIT, leg
from wallets.swaps import ChainRecord, LiquidityMove

DAY = 86_400
T0 = 1_790_000_000  # a minute boundary: 1_790_000_000 % 60 == 20, so minutes below are taken with minute_of


def test_a_rugged_token_without_a_price_is_marked_at_zero_and_counted_everywhere() -> None:
    """Issue 17: one closed +1 SOL token and 5 SOL sunk into a dead one reported +1 SOL."""
    legs = [
        leg("WIN", "buy", 100, 1.0, ts=0),
        leg("WIN", "sell", 100, 2.0, ts=60),  # realized +1.0
        leg("RUG", "buy", 1_000, 5.0, ts=120),  # no pair any more: no price
    ]
    wallet = compute_pnl(legs, prices_sol={})
    assert wallet.total_pnl_sol == pytest.approx(1.0 - 5.0)
    assert wallet.unrealized_pnl_sol == pytest.approx(-5.0)
    assert wallet.roi == pytest.approx(-4.0 / 6.0)
    # Win rate over tokens with a known basis, open or closed: WIN (+1) won, RUG (-5) lost.
    assert wallet.win_rate == pytest.approx(1 / 2)
    rug = next(t for t in wallet.tokens if t.mint == "RUG")
    assert rug.unrealized_pnl_sol == pytest.approx(1_000 * 0.0 - 5.0)
    assert rug.total_pnl_sol == pytest.approx(-5.0)
    assert (rug.status, rug.price_status, rug.mark_price_sol) == ("open", "unpriced", 0.0)
    assert (wallet.tokens_unpriced, wallet.unpriced_open_cost_sol) == (1, pytest.approx(5.0))


@pytest.mark.parametrize("price", [float("nan"), float("inf"), 0.0, -0.02])
def test_non_finite_or_non_positive_prices_never_mark_a_position(price: float) -> None:
    wallet = compute_pnl([leg("A", "buy", 100, 1.0, ts=0)], prices_sol={"A": price})
    [token] = wallet.tokens
    assert (token.price_status, token.mark_price_sol, token.unrealized_pnl_sol) == ("unpriced", 0.0, -1.0)
    assert math.isfinite(wallet.total_pnl_sol)


def test_a_priced_position_is_marked_at_its_price() -> None:
    [token] = compute_pnl([leg("A", "buy", 100, 1.0, ts=0)], prices_sol={"A": 0.03}).tokens
    assert (token.price_status, token.mark_price_sol) == ("priced", 0.03)
    assert token.unrealized_pnl_sol == pytest.approx(100 * 0.03 - 1.0)
    closed = compute_pnl([leg("A", "buy", 1, 1.0, ts=0), leg("A", "sell", 1, 2.0, ts=1)]).tokens[0]
    assert (closed.price_status, closed.mark_price_sol) == (None, None)  # nothing held, nothing to mark


def test_usd_figures_use_sol_usd_at_each_legs_minute_not_todays() -> None:
    """Issue 17: buy for 100 USDC when SOL was $200, sell for 150 USDC when it was $100: +1.0 SOL (+$50),
    not +0.33 SOL (both legs converted at today's $150)."""
    legs = [
        leg("A", "buy", 100, None, ts=T0, usd=100.0),
        leg("A", "sell", 100, None, ts=T0 + DAY, usd=150.0),
    ]
    history = {minute_of(T0): 200.0, minute_of(T0 + DAY): 100.0}
    wallet = compute_pnl(legs, sol_price_usd=150.0, sol_usd_by_minute=history)
    [token] = wallet.tokens
    assert token.invested_sol == pytest.approx(100 / 200)  # 0.5 SOL
    assert token.proceeds_sol == pytest.approx(150 / 100)  # 1.5 SOL
    assert token.realized_pnl_sol == pytest.approx(1.0)
    assert (token.invested_usd, token.proceeds_usd) == (pytest.approx(100.0), pytest.approx(150.0))
    assert token.realized_pnl_usd == pytest.approx(50.0)
    assert wallet.total_pnl_usd == pytest.approx(50.0)
    assert wallet.usd_unavailable_reason is None


def test_sol_legs_are_valued_in_usd_at_their_own_minutes_by_average_cost() -> None:
    legs = [
        leg("A", "buy", 100, 1.0, ts=T0),  # $200
        leg("A", "buy", 100, 1.0, ts=T0 + 600),  # $100: C = 2 SOL = $300
        leg("A", "sell", 100, 3.0, ts=T0 + 1200),  # at $150: proceeds $450, basis $150 -> +$300
    ]
    history = {minute_of(T0): 200.0, minute_of(T0 + 600): 100.0, minute_of(T0 + 1200): 150.0}
    wallet = compute_pnl(legs, prices_sol={"A": 0.02}, sol_price_usd=120.0, sol_usd_by_minute=history)
    [token] = wallet.tokens
    assert token.realized_pnl_sol == pytest.approx(3.0 - 1.0)
    assert token.realized_pnl_usd == pytest.approx(450.0 - 150.0)
    # 100 held at 0.02 SOL x today's $120 = $240, against the $150 of cost still held.
    assert token.unrealized_pnl_usd == pytest.approx(100 * 0.02 * 120.0 - 150.0)
    assert wallet.total_pnl_usd == pytest.approx(300.0 + 90.0)


@pytest.mark.parametrize("reason", ["SOL/USD history: the provider answered no_data", None])
def test_without_the_history_usd_is_null_with_a_reason_and_sol_figures_are_unchanged(
    reason: str | None,
) -> None:
    legs = [leg("A", "buy", 100, 1.0, ts=T0), leg("A", "sell", 50, 2.0, ts=T0 + 60)]
    with_history = compute_pnl(
        legs,
        prices_sol={"A": 0.05},
        sol_price_usd=150.0,
        sol_usd_by_minute={minute_of(T0): 150.0, minute_of(T0 + 60): 150.0},
    )
    without = compute_pnl(legs, prices_sol={"A": 0.05}, sol_price_usd=150.0, usd_unavailable_reason=reason)
    assert without.usd_unavailable_reason == (reason or "SOL/USD history unavailable")
    for field in ("invested_usd", "proceeds_usd", "realized_pnl_usd", "unrealized_pnl_usd", "total_pnl_usd"):
        assert getattr(without, field) is None
        assert getattr(with_history, field) is not None
    for field in (
        "invested_sol",
        "realized_pnl_sol",
        "unrealized_pnl_sol",
        "total_pnl_sol",
        "roi",
        "win_rate",
    ):
        assert getattr(without, field) == getattr(with_history, field)


def test_a_stablecoin_leg_without_a_sol_usd_price_is_unvalued_not_priced_at_today() -> None:
    wallet = compute_pnl([leg("A", "buy", 100, None, ts=T0, usd=100.0)], sol_price_usd=150.0)
    [token] = wallet.tokens
    assert (token.invested_sol, token.unvalued_legs, token.unknown_basis_qty_raw) == (0.0, 1, 100 * UNIT)
    assert wallet.usd_unavailable_reason is not None


def test_a_sell_then_rebuy_in_one_slot_follows_the_block_order() -> None:
    """Issue 17: buys were ordered before sells within a slot, so a sell-then-rebuy showed the realized part
    as unrealized."""
    legs = [
        leg("A", "buy", 100, 1.0, ts=0, slot=1),
        # Slot 5: the sell comes first in the block, the re-buy second.
        leg("A", "buy", 100, 3.0, ts=10, slot=5, sig="z-rebuy", position=1),
        leg("A", "sell", 100, 2.0, ts=10, slot=5, sig="a-sell", position=0),
    ]
    [token] = compute_pnl(legs, prices_sol={"A": 0.03}).tokens
    # Sell first: 100 at basis 1.0 for 2.0 -> realized +1.0; then 100 re-bought at 3.0 worth 100 x 0.03 = 3.0.
    # Buy first (before): C = 4.0 for 200, the sell's basis 2.0 -> realized 0.0, unrealized +1.0.
    assert token.realized_pnl_sol == pytest.approx(1.0)
    assert token.remaining_cost_sol == pytest.approx(3.0)
    assert token.unrealized_pnl_sol == pytest.approx(0.0)


def failed(signature: str, ts: int, fee: int) -> ChainRecord:
    return ChainRecord(signature, ts, ts, "failed", fee, -fee, 0)


def test_failed_transactions_fees_count_in_the_wallets_fees() -> None:
    """Issue 17: fees paid on failed transactions appeared nowhere."""
    legs = [
        leg("A", "buy", 100, 1.0, ts=T0, sig="buy", fee_lamports=5_000),
        leg("A", "sell", 100, 1.5, ts=T0 + 60, sig="sell", fee_lamports=5_000),
    ]
    records = [
        ChainRecord("buy", T0, T0, "swap", 5_000, -1_000_005_000, 0),
        ChainRecord("sell", T0 + 60, T0 + 60, "swap", 5_000, 1_499_995_000, 0),
        failed("f1", T0 + 10, 105_000),
        failed("f2", T0 + 20, 205_000),
        ChainRecord("f3", T0 + 30, T0 + 30, "failed", 0, 0, 0),  # failed, but another account paid
        ChainRecord("transfer", T0 + 40, T0 + 40, "other", 5_000, -1_005_000, 0),
    ]
    wallet = compute_pnl(legs, records=records)
    assert wallet.swap_fees_sol == pytest.approx(10_000 / 1e9)
    assert (wallet.failed_tx_count, wallet.failed_tx_fees_sol) == (2, pytest.approx(310_000 / 1e9))
    assert wallet.other_fees_sol == pytest.approx(5_000 / 1e9)
    assert wallet.fees_sol == pytest.approx((10_000 + 310_000 + 5_000) / 1e9)
    assert wallet.net_pnl_sol == pytest.approx(0.5 - 325_000 / 1e9)
    assert wallet.tokens[0].fees_sol == pytest.approx(10_000 / 1e9)
    assert compute_pnl(legs).failed_tx_count is None  # no chain records: unknown, not zero


def test_liquidity_operations_are_reported_apart_and_not_traded() -> None:
    move = LiquidityMove("remove", "LP", (("A", 1_000, 6), ("LP", -50, 6)), 300_000_000)
    records = [ChainRecord("lp", T0, T0, "liquidity", 5_000, 299_995_000, 0, liquidity=move)]
    wallet = compute_pnl([leg("B", "buy", 1, 1.0, ts=T0 + 1)], records=records)
    assert wallet.tokens_traded == 1
    assert wallet.liquidity_operations is not None
    assert (wallet.liquidity_operations.count, wallet.liquidity_operations.removes) == (1, 1)
    [operation] = wallet.to_dict()["liquidity_operations"]["operations"]
    assert (operation["signature"], operation["lp_mint"], operation["sol_lamports"]) == (
        "lp",
        "LP",
        300_000_000,
    )


def test_periods_cover_the_last_7_and_30_days() -> None:
    now = T0 + 100 * DAY
    legs = [
        leg("OLD", "buy", 1, 1.0, ts=now - 60 * DAY),
        leg("OLD", "sell", 1, 3.0, ts=now - 20 * DAY),  # +2.0, closed 20 days ago
        leg("NEW", "buy", 2, 2.0, ts=now - 10 * DAY),
        leg("NEW", "sell", 1, 0.5, ts=now - 3 * DAY),  # basis 1.0 -> -0.5, still open
        leg("NEW", "sell", 1, 1.5, ts=now - 2 * DAY),  # basis 1.0 -> +0.5, closes the round trip (0.0)
        leg("FAST", "buy", 1, 1.0, ts=now - DAY),
        leg("FAST", "sell", 1, 1.2, ts=now - DAY + 30),  # +0.2, closed
    ]
    periods = compute_pnl(legs, as_of=now).periods
    assert periods is not None
    week, month = periods["7d"], periods["30d"]
    assert week.realized_pnl_sol == pytest.approx(-0.5 + 0.5 + 0.2)
    assert (week.trades, week.tokens_closed) == (4, 2)
    assert week.win_rate == pytest.approx(1 / 2)  # FAST +0.2 won; NEW's round trip made 0.0
    assert month.realized_pnl_sol == pytest.approx(2.0 + (-0.5 + 0.5) + 0.2)
    assert (month.trades, month.tokens_closed, month.win_rate) == (6, 3, pytest.approx(2 / 3))
    assert compute_pnl(legs).periods is None


def test_the_wallet_result_says_its_version() -> None:
    assert compute_pnl([]).to_dict()["result_version"] == 2
