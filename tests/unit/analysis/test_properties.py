"""Property tests: invariants of PnL and behaviour over random wallets (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.behavior import compute_behavior
from analysis.ordering import canonical_order, leg_sort_key
from analysis.pnl import compute_pnl
from wallets.swaps import SOL_MINT, USDC_MINT, SwapLeg

MINTS = ("A", "B", "C")
FAST = settings(max_examples=100, deadline=None)


@st.composite
def swap_legs(draw: st.DrawFn) -> SwapLeg:
    # Small pools of times, slots and signatures so ties (same slot, same transaction) are frequent.
    quote = draw(st.sampled_from(["sol", "usd", "none"]))
    lamports = draw(st.integers(0, 5 * 10**9)) if quote == "sol" else None
    usd = draw(st.floats(0, 1_000, allow_nan=False)) if quote == "usd" else None
    return SwapLeg(
        signature=draw(st.sampled_from(["s1", "s2", "s3", "s4", "s5"])),
        slot=draw(st.integers(0, 5)),
        timestamp=draw(st.integers(0, 20_000)),
        mint=draw(st.sampled_from(MINTS)),
        direction=draw(st.sampled_from(["buy", "sell"])),
        token_amount_raw=draw(st.integers(1, 10**12)),
        token_decimals=6,
        quote_mint={"sol": SOL_MINT, "usd": USDC_MINT, "none": None}[quote],
        quote_amount_raw=lamports or 0,
        quote_decimals=9,
        sol_value_lamports=lamports,
        usd_value=usd,
        fee_lamports=draw(st.integers(0, 100_000)),
        source="SIMULATED",
    )


wallets = st.lists(swap_legs(), max_size=40)
prices = st.dictionaries(st.sampled_from(MINTS), st.floats(0, 10, allow_nan=False), max_size=3)
amounts = st.dictionaries(st.sampled_from(MINTS), st.integers(0, 10**12), max_size=3)


@FAST
@given(legs=wallets, prices_sol=prices, sol_usd=st.none() | st.floats(1, 500))
def test_total_is_realized_plus_unrealized_and_every_held_token_is_marked(
    legs: list[SwapLeg], prices_sol: dict[str, float], sol_usd: float | None
) -> None:
    wallet = compute_pnl(legs, prices_sol=prices_sol, sol_price_usd=sol_usd)
    for token in wallet.tokens:
        assert token.total_pnl_sol == token.realized_pnl_sol + token.unrealized_pnl_sol
        if token.remaining_qty_raw == 0:
            assert token.price_status is None and token.mark_price_sol is None
        elif token.price_status == "unpriced":
            assert token.mark_price_sol == 0.0
            assert token.unrealized_pnl_sol == pytest.approx(-token.remaining_cost_sol)
        else:
            assert token.mark_price_sol is not None and token.mark_price_sol > 0
    assert wallet.total_pnl_sol == pytest.approx(wallet.realized_pnl_sol + wallet.unrealized_pnl_sol)
    unpriced = [t for t in wallet.tokens if t.price_status == "unpriced"]
    assert wallet.tokens_unpriced == len(unpriced)


@FAST
@given(legs=wallets, holdings=st.none() | amounts, transfers=st.none() | amounts, prices_sol=prices)
def test_quantities_never_negative(
    legs: list[SwapLeg],
    holdings: dict[str, int] | None,
    transfers: dict[str, int] | None,
    prices_sol: dict[str, float],
) -> None:
    wallet = compute_pnl(legs, holdings_raw=holdings, transfers_in=transfers, prices_sol=prices_sol)
    for token in wallet.tokens:
        assert token.remaining_qty_raw >= 0 and token.remaining_qty >= 0
        assert token.unknown_basis_qty_raw >= 0
        assert 0 <= token.realized_qty_raw <= token.sold_qty_raw
        assert token.remaining_cost_sol >= 0
        if holdings is None:
            # Without an on-chain balance, what is held is what came in minus what left, never below 0.
            came_in = token.bought_qty_raw + (transfers or {}).get(token.mint, 0)
            assert max(came_in - token.sold_qty_raw, 0) <= token.remaining_qty_raw <= came_in
        else:
            assert token.remaining_qty_raw == holdings.get(token.mint, token.remaining_qty_raw)
        assert (token.status == "closed") == (token.remaining_qty_raw == 0)


@FAST
@given(legs=wallets)
def test_behaviour_shares_and_scores_are_bounded(legs: list[SwapLeg]) -> None:
    profile = compute_behavior(legs)
    shares = (profile.exit_within_60s_share, profile.exit_within_5m_share, profile.exit_within_1h_share)
    if profile.matched_exits:
        s60, s5m, s1h = shares
        assert s60 is not None and s5m is not None and s1h is not None
        assert 0.0 <= s60 <= s5m <= s1h <= 1.0
        assert profile.hold_p25_s is not None and profile.hold_median_s is not None
        assert profile.hold_p75_s is not None
        assert 0 <= profile.hold_p25_s <= profile.hold_median_s <= profile.hold_p75_s
    else:
        assert shares == (None, None, None)
    for value in (
        profile.flipper_score,
        profile.reentry_rate,
        profile.never_sold_share,
        profile.buy_sell_symmetry,
        profile.sol_volume_symmetry,
    ):
        assert value is None or 0.0 <= value <= 1.0
    assert 0.0 <= profile.confidence < 1.0
    assert sum(profile.hour_histogram_utc) == profile.trades
    if profile.trades < 5:
        assert profile.speed_class is None and profile.tags == ()


@FAST
@given(legs=wallets, prices_sol=prices, transfers=amounts, data=st.data())
def test_results_do_not_depend_on_input_order(
    legs: list[SwapLeg], prices_sol: dict[str, float], transfers: dict[str, int], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(legs))
    assert canonical_order(shuffled) == sorted(legs, key=leg_sort_key)

    def pnl(wallet: list[SwapLeg]) -> dict[str, object]:
        result = compute_pnl(wallet, prices_sol=prices_sol, transfers_in=transfers, sol_price_usd=150.0)
        return result.to_dict()

    assert pnl(shuffled) == pnl(legs)
    assert compute_behavior(shuffled).to_dict() == compute_behavior(legs).to_dict()
