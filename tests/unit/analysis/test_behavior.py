"""Hand-computed behaviour metrics (docs/METHODS.md §3)."""

from __future__ import annotations

import json

import pytest

from analysis.behavior import compute_behavior, confidence_for, speed_class_for
from tests.unit.analysis import leg
from wallets.swaps import SwapLeg

DAY = 86_400


def round_trips(holds: list[int], *, sol: float = 1.0, start: int = 0, gap: int = 0) -> list[SwapLeg]:
    """One token per hold: bought at `start + i*gap`, fully sold `hold` seconds later."""
    legs: list[SwapLeg] = []
    for i, hold in enumerate(holds):
        bought = start + i * gap
        legs.append(leg(f"T{i}", "buy", 10, sol, ts=bought))
        legs.append(leg(f"T{i}", "sell", 10, sol, ts=bought + hold))
    return legs


def test_fifo_hold_quantiles_and_exit_shares_across_partial_fills() -> None:
    legs = [
        leg("A", "buy", 100, 1.0, ts=0),
        leg("A", "buy", 100, 1.0, ts=100),
        # 100 from buy@0 (hold 400, weight 100/150=2/3) + 50 from buy@100 (hold 300, weight 1/3)
        leg("A", "sell", 150, 1.5, ts=400),
        leg("A", "sell", 50, 0.5, ts=1000),  # 50 from buy@100 (hold 900, weight 1)
    ]
    profile = compute_behavior(legs)
    # Sorted holds 300 | 400 | 900 with cumulative weight 1/3 | 1 | 2 (total 2):
    # p25 -> first cum >= 0.5 -> 400; median -> first cum >= 1.0 -> 400; p75 -> first cum >= 1.5 -> 900.
    assert (profile.hold_p25_s, profile.hold_median_s, profile.hold_p75_s) == (400, 400, 900)
    assert profile.exit_within_60s_share == 0.0
    assert profile.exit_within_5m_share == pytest.approx((1 / 3) / 2)  # only the 300 s lot, <= 300
    assert profile.exit_within_1h_share == 1.0
    assert profile.matched_exits == 2
    # exit_speed = (0 + 1/6 + 1) / 3 = 7/18; never_sold_share 0 -> flipper_score 7/18.
    assert profile.flipper_score == pytest.approx(7 / 18)
    assert profile.speed_class is None  # 4 trades: below the 5-trade label floor


@pytest.mark.parametrize(
    ("hold_s", "expected"),
    [
        (0, "ultra_flipper"),
        (179, "ultra_flipper"),
        (180, "flipper"),
        (599, "flipper"),
        (600, "fast"),
        (3_599, "fast"),
        (3_600, "day_trader"),
        (DAY - 1, "day_trader"),
        (DAY, "swing"),
        (7 * DAY - 1, "swing"),
        (7 * DAY, "position"),
        (90 * DAY, "position"),
    ],
)
def test_speed_class_by_median_hold(hold_s: int, expected: str) -> None:
    assert speed_class_for(hold_s) == expected
    profile = compute_behavior(round_trips([hold_s] * 5, gap=10))  # 10 trades, every hold the same
    assert profile.hold_median_s == hold_s
    assert profile.speed_class == expected


def test_no_label_below_five_trades() -> None:
    profile = compute_behavior(round_trips([10, 10]))  # 4 trades
    assert profile.hold_median_s == 10  # metrics are still computed...
    assert profile.speed_class is None  # ...but no label
    assert profile.tags == ()
    assert profile.confidence < 0.2
    five = compute_behavior([*round_trips([10, 10]), leg("X", "buy", 1, 1.0, ts=50)])
    assert five.speed_class == "ultra_flipper"
    assert "flipper" in five.tags


def test_speed_class_none_without_matched_exit() -> None:
    profile = compute_behavior([leg(f"T{i}", "buy", 1, 1.0, ts=i) for i in range(6)])
    assert profile.speed_class is None and profile.hold_median_s is None
    assert profile.exit_within_60s_share is None
    assert profile.flipper_score == 0.0
    assert profile.never_sold_share == 1.0
    assert profile.tags == ("holder",)


def test_bot_tag_at_fifty_trades_per_active_day() -> None:
    bot = compute_behavior(round_trips([5] * 25, gap=60))  # 50 legs within one UTC day
    assert bot.active_days == 1 and bot.trades_per_active_day == 50
    assert bot.tags == ("bot", "flipper")
    human = compute_behavior(round_trips([5] * 24, gap=60))  # 48 legs
    assert "bot" not in human.tags


def test_whale_and_holder_tags() -> None:
    legs = [leg(f"T{i}", "buy", 1, 20.0, ts=i * 100) for i in range(5)]
    profile = compute_behavior(legs)
    assert profile.median_position_size_sol == 20.0
    assert profile.tags == ("holder", "whale")
    assert compute_behavior(legs, whale_position_sol=25.0).tags == ("holder",)
    swing = compute_behavior(round_trips([2 * DAY] * 5, gap=3 * DAY))
    assert swing.speed_class == "swing" and swing.tags == ("holder",)


def test_token_level_ratios_and_position_size() -> None:
    legs = [
        leg("A", "buy", 10, 1.0, ts=0),
        leg("A", "sell", 10, 1.0, ts=10),
        leg("B", "buy", 10, 3.0, ts=20),  # never sold
        leg("C", "sell", 10, 1.0, ts=30),  # sold only (transferred in): no matched lot
    ]
    profile = compute_behavior(legs)
    assert (profile.trades, profile.buys, profile.sells, profile.tokens_traded) == (4, 2, 2, 3)
    assert profile.buy_sell_ratio == 1.0
    assert profile.buy_sell_symmetry == pytest.approx(1 / 3)  # only A has both sides
    assert profile.never_sold_share == pytest.approx(1 / 3)  # B
    assert profile.sol_volume_symmetry == pytest.approx(1 - abs(4.0 - 2.0) / 6.0)
    assert profile.median_position_size_sol == pytest.approx((1.0 + 3.0) / 2)  # A and B spent
    assert profile.matched_exits == 1


def test_reentry_counts_tokens_bought_again_after_a_full_exit() -> None:
    legs = [
        leg("A", "buy", 10, 1.0, ts=0),
        leg("A", "sell", 10, 1.0, ts=10),  # fully out
        leg("A", "buy", 10, 1.0, ts=20),  # re-entry
        leg("B", "buy", 10, 1.0, ts=0),
        leg("B", "sell", 5, 1.0, ts=10),  # partial: still in
        leg("B", "buy", 10, 1.0, ts=20),  # adding, not re-entering
        leg("C", "sell", 10, 1.0, ts=0),  # never held a bought position
        leg("C", "buy", 10, 1.0, ts=20),
    ]
    assert compute_behavior(legs).reentry_rate == pytest.approx(1 / 3)


def test_sessions_split_at_two_hour_gaps_and_hour_histogram() -> None:
    two = compute_behavior([leg("A", "buy", 1, 1.0, ts=t) for t in (0, 100, 7_300, 7_400)])
    assert two.session_count == 2  # 100 -> 7300 is exactly 2 h
    assert two.session_mean_length_s == 100  # (100 + 100) / 2
    one = compute_behavior([leg("A", "buy", 1, 1.0, ts=t) for t in (0, 100, 7_299)])
    assert (one.session_count, one.session_mean_length_s) == (1, 7_299)

    stamps = (0, 5 * 3600 + 1, DAY + 23 * 3600, DAY + 23 * 3600 + 59)
    profile = compute_behavior([leg("A", "buy", 1, 1.0, ts=t) for t in stamps])
    hist = profile.hour_histogram_utc
    assert len(hist) == 24 and (hist[0], hist[5], hist[23]) == (1, 1, 2) and sum(hist) == 4
    assert profile.active_days == 2 and profile.trades_per_active_day == 2.0
    assert (profile.first_trade_at, profile.last_trade_at) == (0, stamps[-1])


def test_confidence_grows_with_sample_size() -> None:
    assert confidence_for(0, 0) == 0.0
    assert confidence_for(20, 10) == pytest.approx(0.5)
    assert confidence_for(4, 3) < 0.2 < confidence_for(50, 20) < confidence_for(5_000, 2_000) < 1.0


def test_empty_wallet_and_json_safety() -> None:
    empty = compute_behavior([])
    assert empty.trades == 0 and empty.confidence == 0.0 and empty.hour_histogram_utc == (0,) * 24
    data = compute_behavior(round_trips([30] * 6)).to_dict()
    json.dumps(data, allow_nan=False)
    assert isinstance(data["hour_histogram_utc"], list) and isinstance(data["tags"], list)


def test_positions_never_sold_count_in_the_median_hold() -> None:
    """Issue 17: five 30 s flips and 95 tokens held for months gave a 30 s median, `ultra_flipper`, and both
    the `flipper` and `holder` tags."""
    held = [leg(f"H{i}", "buy", 10, 1.0, ts=i * DAY) for i in range(95)]  # one a day
    flips = round_trips([30] * 5, start=120 * DAY, gap=60)  # last trade: 120 days after the 95 buys
    profile = compute_behavior([*held, *flips])
    assert profile.speed_class == "position"
    assert profile.tags == ("holder",)
    assert profile.median_closed_hold_s == 30 and profile.hold_median_s == 30  # the closed lots alone
    # Kaplan-Meier over 100 lots of weight 1: 5 end at 30 s, 95 are censored 26 to 120 days later. Survival
    # never falls below 95/100, so the median is beyond the longest follow-up: at least 120 days.
    assert profile.median_hold_is_lower_bound
    assert profile.median_hold_s == 120 * DAY + 4 * 60 + 30
    assert profile.open_hold_share == pytest.approx(95 / 100)


def test_kaplan_meier_median_with_censored_positions() -> None:
    # Three lots end at 10 s, 20 s, 40 s; one is still open after 15 s; one after 100 s.
    legs = [
        *round_trips([10, 20, 40], gap=1_000),
        leg("O1", "buy", 1, 1.0, ts=4_000 - 15),
        leg("O2", "buy", 1, 1.0, ts=4_000 - 100),
    ]
    profile = compute_behavior(legs, window_end=4_000)
    # Sorted: 10 (end, at risk 5) S=4/5; 15 (open); 20 (end, at risk 3) S=4/5*2/3=8/15;
    # 40 (end, at risk 2) S=8/15*1/2=4/15 <= 1/2 -> median 40 s.
    assert (profile.median_hold_s, profile.median_hold_is_lower_bound) == (40, False)
    assert profile.median_closed_hold_s == 20
    assert profile.open_hold_share == pytest.approx(2 / 5)


def test_a_short_lower_bound_gives_no_speed_class() -> None:
    """Five buys an hour before the window ends, never sold: the median hold is at least an hour, which says
    nothing about the class; the labels do not guess."""
    legs = [leg(f"T{i}", "buy", 1, 1.0, ts=i) for i in range(5)]
    profile = compute_behavior(legs, window_end=3_600)
    assert profile.median_hold_is_lower_bound and profile.median_hold_s == 3_600
    assert profile.speed_class is None
    assert profile.tags == ("holder",)  # never sold anything: a holder, whatever the class


def test_flipper_and_holder_never_together() -> None:
    # Four tokens flipped ten times each (40 lots ending at 30 s) and six bought once, never sold: the
    # median over lots is 30 s, while 60 % of the tokens were never sold.
    flips = [trade for i in range(4) for trade in round_trips([30] * 10, start=i * 10_000, gap=100)]
    flips = [leg(f"F{n // 20}", t.direction, 10, 1.0, ts=t.timestamp) for n, t in enumerate(flips)]
    held = [leg(f"H{i}", "buy", 1, 1.0, ts=50_000 + i) for i in range(6)]
    profile = compute_behavior([*flips, *held])
    assert profile.never_sold_share == pytest.approx(6 / 10)
    assert profile.speed_class == "ultra_flipper"
    assert "flipper" in profile.tags and "holder" not in profile.tags
