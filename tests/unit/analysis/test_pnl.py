"""Hand-computed average-cost PnL cases (docs/METHODS.md §2). Arithmetic is written next to each
expectation."""

from __future__ import annotations

import json

import pytest

from analysis.ordering import canonical_order, leg_sort_key
from analysis.pnl import compute_pnl, trimmed_mean
from tests.unit.analysis import UNIT, leg


def test_average_cost_across_partial_sells() -> None:
    legs = [
        leg("A", "buy", 100, 1.0, ts=0),  # Q=100, C=1.0
        leg("A", "buy", 100, 3.0, ts=100),  # Q=200, C=4.0 (avg 0.02 SOL/token)
        leg("A", "sell", 50, 1.5, ts=200),  # basis 50*4/200=1.0 -> realized +0.5; C=3.0, Q=150
        leg("A", "sell", 100, 1.0, ts=300),  # basis 100*3/150=2.0 -> realized -1.0; C=1.0, Q=50
    ]
    token = compute_pnl(legs, prices_sol={"A": 0.05}).tokens[0]
    assert token.realized_pnl_sol == pytest.approx(0.5 - 1.0)
    assert token.remaining_qty_raw == 50 * UNIT
    assert token.remaining_cost_sol == pytest.approx(1.0)
    assert token.unrealized_pnl_sol == pytest.approx(50 * 0.05 - 1.0)  # = 1.5
    assert token.total_pnl_sol == pytest.approx(-0.5 + 1.5)
    assert token.invested_sol == pytest.approx(4.0)
    assert token.proceeds_sol == pytest.approx(2.5)
    assert token.roi == pytest.approx(1.0 / 4.0)
    assert (token.bought_qty, token.sold_qty) == (200.0, 150.0)
    assert (token.bought_qty_raw, token.sold_qty_raw) == (200 * UNIT, 150 * UNIT)
    assert (token.buy_count, token.sell_count) == (2, 2)
    assert (token.first_trade_at, token.last_trade_at) == (0, 300)
    assert token.status == "open"
    # FIFO lots: 50 of buy@0 sold @200 (200 s); 50 of buy@0 @300 (300 s); 50 of buy@100 @300 (200 s).
    assert token.hold_time_s == pytest.approx((50 * 200 + 50 * 300 + 50 * 200) / 150)


def test_fifo_hold_time_across_partial_fills_is_quantity_weighted() -> None:
    legs = [
        leg("A", "buy", 100, 1.0, ts=0),
        leg("A", "buy", 100, 1.0, ts=100),
        leg("A", "sell", 150, 1.5, ts=400),  # 100 from buy@0 (400 s) + 50 from buy@100 (300 s)
        leg("A", "sell", 50, 0.5, ts=1000),  # 50 from buy@100 (900 s)
    ]
    token = compute_pnl(legs).tokens[0]
    assert token.hold_time_s == pytest.approx((100 * 400 + 50 * 300 + 50 * 900) / 200)  # = 500
    assert token.status == "closed"
    assert token.unrealized_pnl_sol == 0.0  # nothing held: exact zero, no price needed


def test_token_to_token_swap_valued_by_intermediary_sol_leg() -> None:
    legs = [
        leg("A", "buy", 1000, 2.0, ts=0, sig="s1", fee_lamports=5_000),
        # One transaction routes A -> SOL -> B; both legs carry the 3 SOL intermediary leg as value.
        leg("A", "sell", 1000, 3.0, ts=60, sig="s2", fee_lamports=7_000),
        leg("B", "buy", 500, 3.0, ts=60, sig="s2"),
    ]
    wallet = compute_pnl(legs)
    a, b = wallet.tokens
    assert a.realized_pnl_sol == pytest.approx(3.0 - 2.0)
    assert a.status == "closed"
    assert a.hold_time_s == 60
    assert a.fees_sol == pytest.approx((5_000 + 7_000) / 1e9)
    assert b.invested_sol == pytest.approx(3.0)
    assert b.realized_pnl_sol == 0.0
    assert (b.price_status, b.unrealized_pnl_sol) == ("unpriced", pytest.approx(-3.0))  # open, no price
    assert (wallet.swaps_parsed, wallet.legs_parsed) == (2, 3)
    assert wallet.realized_pnl_sol == pytest.approx(1.0)


def test_transfer_in_has_unknown_basis_and_is_excluded_from_realized() -> None:
    legs = [
        leg("A", "buy", 100, 1.0, ts=0),
        leg("A", "sell", 300, 6.0, ts=10),
    ]
    token = compute_pnl(legs, transfers_in={"A": 500 * UNIT}).tokens[0]
    # Known part: 100 of 300 -> proceeds 6*100/300 = 2.0, basis 1.0 -> realized 1.0.
    assert token.realized_pnl_sol == pytest.approx(1.0)
    assert token.realized_qty_raw == 100 * UNIT
    assert token.unknown_basis_proceeds_sol == pytest.approx(4.0)
    assert token.proceeds_sol == pytest.approx(6.0)
    # 200 sold from the transfer pool, 300 of it still held: 500 units of unknown basis in all.
    assert token.unknown_basis_qty_raw == 500 * UNIT
    assert token.unknown_basis_qty == 500.0
    assert token.remaining_qty_raw == 300 * UNIT
    assert token.status == "open"
    assert token.unrealized_pnl_sol == 0.0  # known-basis position Q is 0


def test_selling_more_than_held_never_goes_negative() -> None:
    legs = [leg("A", "buy", 100, 1.0, ts=0), leg("A", "sell", 300, 6.0, ts=10)]
    token = compute_pnl(legs).tokens[0]  # no transfers reported: the excess is pre-window history
    assert token.realized_pnl_sol == pytest.approx(2.0 - 1.0)
    assert token.unknown_basis_qty_raw == 200 * UNIT
    assert token.remaining_qty_raw == 0
    assert token.status == "closed"
    # A later buy starts from Q=0, not from -200.
    legs.append(leg("A", "buy", 10, 0.5, ts=20))
    token = compute_pnl(legs, prices_sol={"A": 0.1}).tokens[0]
    assert token.remaining_qty_raw == 10 * UNIT
    assert token.unrealized_pnl_sol == pytest.approx(10 * 0.1 - 0.5)


def test_fees_are_reported_and_only_taken_off_net_pnl() -> None:
    legs = [
        leg("A", "buy", 10, 1.0, ts=0, fee_lamports=2_000_000),
        leg("A", "sell", 10, 1.5, ts=5, fee_lamports=3_000_000),
    ]
    wallet = compute_pnl(legs, sol_price_usd=100.0, sol_usd_by_minute={0: 100.0})
    token = wallet.tokens[0]
    assert token.fees_sol == pytest.approx(0.005)
    assert token.total_pnl_sol == pytest.approx(0.5)  # fees are not in realized/total
    assert token.net_pnl_sol == pytest.approx(0.5 - 0.005)
    assert wallet.net_pnl_sol == pytest.approx(0.495)
    assert wallet.fees_usd == pytest.approx(0.5)
    assert token.realized_pnl_usd == pytest.approx(50.0)


def test_stablecoin_legs_use_sol_usd_at_their_minute_or_stay_unvalued() -> None:
    legs = [
        leg("A", "buy", 100, None, ts=0, usd=100.0),
        leg("A", "sell", 100, None, ts=10, usd=150.0),
    ]
    priced = compute_pnl(legs, sol_usd_by_minute={0: 200.0}).tokens[0]
    assert priced.invested_sol == pytest.approx(0.5)  # 100 USD / 200
    assert priced.realized_pnl_sol == pytest.approx(0.25)  # (150 - 100) / 200
    assert priced.unvalued_legs == 0

    wallet = compute_pnl(legs, sol_price_usd=200.0)  # today's price never values a past leg
    unpriced = wallet.tokens[0]
    assert (unpriced.buy_count, unpriced.sell_count, unpriced.unvalued_legs) == (1, 1, 2)
    assert unpriced.invested_sol == 0.0 and unpriced.realized_pnl_sol == 0.0
    assert unpriced.unknown_basis_qty_raw == 100 * UNIT  # an unvalued buy has no known basis
    assert unpriced.roi is None
    assert wallet.unvalued_legs == 2


def test_an_unpriced_position_is_marked_at_zero_not_left_out() -> None:
    wallet = compute_pnl([leg("A", "buy", 100, 1.0, ts=0)])
    token = wallet.tokens[0]
    assert (token.price_status, token.mark_price_sol) == ("unpriced", 0.0)
    assert token.unrealized_pnl_sol == pytest.approx(-1.0)
    assert token.total_pnl_sol == pytest.approx(-1.0)
    assert token.roi == pytest.approx(-1.0)
    assert wallet.unrealized_pnl_sol == pytest.approx(-1.0)
    assert wallet.tokens_unpriced == 1 and wallet.unpriced_open_cost_sol == pytest.approx(1.0)
    invalid = compute_pnl([leg("A", "buy", 100, 1.0, ts=0)], prices_sol={"A": float("nan")}).tokens[0]
    assert invalid.price_status == "unpriced" and invalid.unrealized_pnl_sol == pytest.approx(-1.0)


def test_dust_status_needs_a_known_price() -> None:
    legs = [leg("A", "buy", 100, 1.0, ts=0), leg("A", "sell", 99.99, 2.0, ts=10)]
    # 0.01 tokens left at 0.01 SOL = 0.0001 SOL < 0.001 threshold.
    assert compute_pnl(legs, prices_sol={"A": 0.01}).tokens[0].status == "dust"
    assert compute_pnl(legs, prices_sol={"A": 1.0}).tokens[0].status == "open"  # 0.01 SOL
    assert compute_pnl(legs).tokens[0].status == "open"


def test_holdings_cap_the_known_position_and_add_unknown_basis() -> None:
    legs = [leg("A", "buy", 100, 1.0, ts=0)]
    capped = compute_pnl(legs, prices_sol={"A": 0.02}, holdings_raw={"A": 40 * UNIT}).tokens[0]
    # 60 left by transfer with their basis: Q=40, C=1.0*40/100=0.4 -> unrealized 40*0.02-0.4 = 0.4.
    assert capped.remaining_qty_raw == 40 * UNIT
    assert capped.remaining_cost_sol == pytest.approx(0.4)
    assert capped.unrealized_pnl_sol == pytest.approx(0.4)
    extra = compute_pnl(legs, prices_sol={"A": 0.02}, holdings_raw={"A": 150 * UNIT}).tokens[0]
    # Q=100, C=1.0 -> unrealized 100*0.02-1.0 = 1.0; the extra 50 have unknown basis.
    assert extra.unrealized_pnl_sol == pytest.approx(1.0)
    assert extra.unknown_basis_qty_raw == 50 * UNIT
    emptied = compute_pnl(legs, holdings_raw={"A": 0}).tokens[0]
    assert emptied.status == "closed" and emptied.unrealized_pnl_sol == 0.0


def test_wallet_aggregates_win_rate_profit_factor_and_distribution() -> None:
    legs = [
        leg("A", "buy", 1, 1.0, ts=0),
        leg("A", "sell", 1, 2.0, ts=1),  # realized +1.0
        leg("B", "buy", 1, 1.0, ts=2),
        leg("B", "sell", 1, 0.5, ts=3),  # realized -0.5
        leg("C", "buy", 1, 1.0, ts=4),
        leg("C", "sell", 1, 3.0, ts=5),  # realized +2.0
        leg("D", "buy", 1, 1.0, ts=6),  # open, price 4.0 -> unrealized +3.0: judged like a closed token
        leg("E", "sell", 1, 1.0, ts=7),  # closed, unknown basis only: nothing invested, not judged
    ]
    wallet = compute_pnl(legs, prices_sol={"D": 4.0})
    assert wallet.tokens_traded == 5
    assert (wallet.tokens_closed, wallet.tokens_open) == (4, 1)
    assert wallet.tokens_with_known_basis == 4
    assert wallet.win_rate == pytest.approx(3 / 4)  # A, C, D won; B lost
    assert wallet.profit_factor == pytest.approx((1.0 + 2.0) / 0.5)
    assert wallet.realized_pnl_sol == pytest.approx(2.5)
    assert wallet.unrealized_pnl_sol == pytest.approx(3.0)
    assert wallet.total_pnl_sol == pytest.approx(5.5)
    assert wallet.roi == pytest.approx(5.5 / 4.0)
    # Per-token totals sorted: -0.5, 0.0 (E), 1.0, 2.0, 3.0 -> median 1.0; n=5 cuts int(0.5)=0 per end.
    assert wallet.median_token_pnl_sol == pytest.approx(1.0)
    assert wallet.trimmed_mean_token_pnl_sol == pytest.approx(5.5 / 5)


def test_profit_factor_and_win_rate_none_when_undefined() -> None:
    wallet = compute_pnl([leg("A", "buy", 1, 1.0, ts=0), leg("A", "sell", 1, 2.0, ts=1)])
    assert wallet.profit_factor is None  # no loss
    assert wallet.win_rate == 1.0
    empty = compute_pnl([])
    assert empty.win_rate is None and empty.median_token_pnl_sol is None and empty.roi is None
    assert empty.tokens == () and empty.total_pnl_sol == 0.0


def test_trimmed_mean_cuts_ten_percent_each_end() -> None:
    # n=10 -> cut 1 each end: mean of 2..9 = 5.5, the outliers 1 and 1000 are dropped.
    assert trimmed_mean([1000, 2, 3, 4, 5, 6, 7, 8, 9, 1]) == pytest.approx(5.5)
    assert trimmed_mean([]) is None


def test_window_ignores_legs_outside_it() -> None:
    legs = [leg("A", "buy", 100, 1.0, ts=0), leg("A", "sell", 100, 2.0, ts=100)]
    wallet = compute_pnl(legs, window=(50, 200), swaps_unparsed=3)
    token = wallet.tokens[0]
    assert token.buy_count == 0 and token.unknown_basis_qty_raw == 100 * UNIT
    assert token.realized_pnl_sol == 0.0
    assert (wallet.window, wallet.swaps_unparsed, wallet.legs_parsed) == ((50, 200), 3, 1)


def test_same_slot_buy_is_ordered_before_sell_when_the_block_position_is_unknown() -> None:
    sell = leg("A", "sell", 100, 2.0, ts=10, slot=5, sig="a-sell")
    buy = leg("A", "buy", 100, 1.0, ts=10, slot=5, sig="z-buy")
    assert canonical_order([sell, buy]) == [buy, sell]
    token = compute_pnl([sell, buy]).tokens[0]
    assert token.realized_pnl_sol == pytest.approx(1.0)
    assert token.unknown_basis_qty_raw == 0
    assert sorted([sell, buy], key=leg_sort_key) == [buy, sell]


def test_to_dict_is_json_safe() -> None:
    legs = [leg("A", "buy", 100, 1.0, ts=0), leg("A", "sell", 50, 2.0, ts=100)]
    data = compute_pnl(
        legs, prices_sol={"A": 0.1}, sol_price_usd=150.0, window=(0, 10), records=[], as_of=200
    ).to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["tokens"][0]["mint"] == "A"
    assert data["window"] == [0, 10]
