"""Analysis services on the database: computation, persistence, freshness, prices and holdings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from analysis import services
from analysis.models import AnalysisRun, TokenPnlRow, WalletBehavior, WalletPnlSummary
from analysis.pnl import minute_of
from core.http import UpstreamTransientError
from enrichment.models import SolUsdCandle
from enrichment.services import enrichment_quotes
from similarity.services import similarity_analyze
from tests.django.analysis.conftest import PRICED, T0, UNIT, UNPRICED_MINT, address
from wallets.addresses import InvalidAddressError
from wallets.models import Wallet
from wallets.swaps import SOL_MINT

pytestmark = pytest.mark.django_db

WALLET = address(11)


def _price_sol(mint: str) -> float:
    quotes = enrichment_quotes(mints=[mint, SOL_MINT])
    price_usd, sol_usd = quotes[mint].price_usd, quotes[SOL_MINT].price_usd
    assert price_usd is not None and sol_usd
    return price_usd / sol_usd


def _partial_exit(add_leg, wallet: str = WALLET, mint: str = PRICED.mint) -> None:
    """Buy 1,000,000 for 1 SOL, sell 400,000 for 0.8 SOL: realized 0.8 - 0.4 = 0.4, 600,000 left at 0.6."""
    add_leg(wallet, mint=mint, direction="buy", qty=1_000_000, sol=1.0, ts=T0)
    add_leg(wallet, mint=mint, direction="sell", qty=400_000, sol=0.8, ts=T0 + 120)


def test_pnl_is_computed_stored_and_returned_with_units(add_leg) -> None:
    _partial_exit(add_leg)
    result = services.analysis_compute_pnl(address=WALLET)

    price = _price_sol(PRICED.mint)
    pnl = result["pnl"]
    assert result["wallet"] == WALLET and result["analysis"] == "pnl" and result["recomputed"] is True
    assert result["inputs"]["swap_count"] == 2 and result["inputs"]["holdings_source"] == "reconstructed"
    assert pnl["realized_pnl_sol"] == pytest.approx(0.4)
    assert pnl["unrealized_pnl_sol"] == pytest.approx(600_000 * price - 0.6)
    assert pnl["total_pnl_sol"] == pytest.approx(0.4 + 600_000 * price - 0.6)
    assert pnl["fees_sol"] == pytest.approx(10_000 / 1e9)
    assert pnl["sol_price_usd"] == pytest.approx(result["inputs"]["sol_price_usd"])
    # USD at each leg's minute, from the stored SOL/USD history: 0.8 SOL at the sell's minute minus the
    # basis 0.4 SOL at the buy's.
    bought_at = SolUsdCandle.objects.get(minute=minute_of(T0)).close
    sold_at = SolUsdCandle.objects.get(minute=minute_of(T0 + 120)).close
    assert pnl["realized_pnl_usd"] == pytest.approx(0.8 * sold_at - 0.4 * bought_at)
    assert pnl["usd_unavailable_reason"] is None and result["inputs"]["sol_usd_history_error"] is None
    [token] = pnl["tokens"]
    assert token["mint"] == PRICED.mint and token["status"] == "open"
    assert token["hold_time_s"] == pytest.approx(120.0)
    assert token["remaining_qty_raw"] == 600_000 * UNIT
    assert (token["price_status"], token["mark_price_sol"]) == ("priced", pytest.approx(price))

    run = AnalysisRun.objects.get(wallet=WALLET, kind="pnl")
    assert run.compute_count == 1 and run.swap_count == 2 and run.newest_swap_at is not None
    summary = WalletPnlSummary.objects.get(run=run)
    assert summary.realized_pnl_sol == pytest.approx(0.4)
    assert summary.unrealized_pnl_sol == pytest.approx(pnl["unrealized_pnl_sol"])
    row = TokenPnlRow.objects.get(run=run)
    assert row.mint == PRICED.mint and int(row.remaining_qty_raw) == 600_000 * UNIT
    assert row.first_trade_at.timestamp() == T0 and row.last_trade_at.timestamp() == T0 + 120


def test_a_held_token_without_a_price_is_marked_at_zero(add_leg) -> None:
    _partial_exit(add_leg, mint=UNPRICED_MINT)
    # A token sold out needs no price: its unrealized PnL is a true 0.
    add_leg(WALLET, mint=PRICED.mint, direction="buy", qty=10, sol=0.5, ts=T0 + 10)
    add_leg(WALLET, mint=PRICED.mint, direction="sell", qty=10, sol=0.7, ts=T0 + 20)

    pnl = services.analysis_compute_pnl(address=WALLET)["pnl"]

    tokens = {token["mint"]: token for token in pnl["tokens"]}
    unpriced = tokens[UNPRICED_MINT]
    assert (unpriced["price_status"], unpriced["mark_price_sol"]) == ("unpriced", 0.0)
    assert unpriced["unpriced_reason"] == "no pair lists the token as its base"
    assert unpriced["unrealized_pnl_sol"] == pytest.approx(-0.6)  # 600,000 left at a cost of 0.6 SOL
    assert unpriced["realized_pnl_sol"] == pytest.approx(0.4)
    assert tokens[PRICED.mint]["unrealized_pnl_sol"] == 0.0
    assert (tokens[PRICED.mint]["status"], tokens[PRICED.mint]["price_status"]) == ("closed", None)
    assert pnl["unrealized_pnl_sol"] == pytest.approx(-0.6)
    assert pnl["total_pnl_sol"] == pytest.approx(0.6 - 0.6)
    assert (pnl["tokens_unpriced"], pnl["unpriced_open_cost_sol"]) == (1, pytest.approx(0.6))
    assert pnl["open_positions"][0]["mint"] == UNPRICED_MINT
    row = TokenPnlRow.objects.get(mint=UNPRICED_MINT)
    assert (row.price_status, row.mark_price_sol) == ("unpriced", 0.0)
    assert row.unrealized_pnl_sol == pytest.approx(-0.6)
    summary = WalletPnlSummary.objects.get(wallet=WALLET)
    assert (summary.tokens_unpriced, summary.unpriced_open_cost_sol) == (1, pytest.approx(0.6))


def test_fresh_result_is_reused_and_force_recomputes(add_leg) -> None:
    _partial_exit(add_leg)
    first = services.analysis_compute_pnl(address=WALLET)
    second = services.analysis_compute_pnl(address=WALLET)
    assert second["recomputed"] is False
    assert second["computed_at"] == first["computed_at"]
    assert {**second, "recomputed": True} == first
    assert AnalysisRun.objects.get(wallet=WALLET, kind="pnl").compute_count == 1

    forced = services.analysis_compute_pnl(address=WALLET, force=True)
    assert forced["recomputed"] is True and forced["computed_at"] > first["computed_at"]
    run = AnalysisRun.objects.get(wallet=WALLET, kind="pnl")
    assert run.compute_count == 2
    assert TokenPnlRow.objects.filter(run=run).count() == 1  # replaced, not appended
    assert WalletPnlSummary.objects.filter(wallet=WALLET).count() == 1


def test_result_older_than_the_freshness_window_is_recomputed(add_leg, settings) -> None:
    settings.ANALYSIS_FRESHNESS_S = 600
    _partial_exit(add_leg)
    services.analysis_compute_behavior(address=WALLET)
    AnalysisRun.objects.filter(wallet=WALLET).update(computed_at=timezone.now() - timedelta(seconds=601))
    assert services.analysis_compute_behavior(address=WALLET)["recomputed"] is True
    assert AnalysisRun.objects.get(wallet=WALLET, kind="behavior").compute_count == 2


def test_new_swaps_make_a_fresh_result_stale(add_leg) -> None:
    _partial_exit(add_leg)
    assert services.analysis_compute_pnl(address=WALLET)["pnl"]["sell_count"] == 1
    add_leg(WALLET, mint=PRICED.mint, direction="sell", qty=600_000, sol=0.9, ts=T0 + 300)
    result = services.analysis_compute_pnl(address=WALLET)
    assert result["recomputed"] is True
    assert result["pnl"]["sell_count"] == 2
    assert result["pnl"]["realized_pnl_sol"] == pytest.approx(0.4 + 0.3)
    assert result["pnl"]["unrealized_pnl_sol"] == 0.0


def test_failed_price_lookup_marks_held_tokens_unpriced_with_the_reason_and_is_not_reused(
    add_leg, monkeypatch
) -> None:
    _partial_exit(add_leg)

    def unavailable(**_: object) -> None:
        raise UpstreamTransientError("DexScreener answered HTTP 503 after retries")

    monkeypatch.setattr(services, "enrichment_marks", unavailable)
    degraded = services.analysis_compute_pnl(address=WALLET)
    assert degraded["pnl"]["realized_pnl_sol"] == pytest.approx(0.4)
    assert degraded["pnl"]["unrealized_pnl_sol"] == pytest.approx(-0.6)
    [token] = degraded["pnl"]["tokens"]
    assert token["price_status"] == "unpriced" and "503" in token["unpriced_reason"]
    assert degraded["pnl"]["sol_price_usd"] is None
    assert "503" in degraded["inputs"]["prices_error"]

    monkeypatch.undo()
    repaired = services.analysis_compute_pnl(address=WALLET)
    assert repaired["recomputed"] is True
    assert repaired["inputs"]["prices_error"] is None
    assert repaired["pnl"]["tokens"][0]["price_status"] == "priced"


def test_balances_taken_after_the_last_swap_decide_holdings(add_leg, add_snapshot) -> None:
    _partial_exit(add_leg)
    # 200,000 of the 600,000 left by transfer: the snapshot knows, the swaps do not.
    add_snapshot(WALLET, at=T0 + 600, holdings={PRICED.mint: 400_000})
    result = services.analysis_compute_pnl(address=WALLET)
    [token] = result["pnl"]["tokens"]
    assert token["remaining_qty_raw"] == 400_000 * UNIT
    assert token["remaining_cost_sol"] == pytest.approx(0.4)  # the basis left with the transfer
    assert result["inputs"]["holdings_source"] == "balances"
    assert result["inputs"]["balances_fetched_at"] is not None


def test_balances_older_than_the_last_swap_are_ignored(add_leg, add_snapshot) -> None:
    add_snapshot(WALLET, at=T0 - 600, holdings={})
    _partial_exit(add_leg)
    result = services.analysis_compute_pnl(address=WALLET)
    assert result["inputs"]["holdings_source"] == "reconstructed"
    assert result["pnl"]["tokens"][0]["remaining_qty_raw"] == 600_000 * UNIT


def test_behavior_is_computed_stored_and_reused(add_leg) -> None:
    for i in range(3):  # three 30 s round trips: an ultra flipper once there are 5+ trades
        add_leg(WALLET, mint=PRICED.mint, direction="buy", qty=100, sol=0.1, ts=T0 + i * 1000)
        add_leg(WALLET, mint=PRICED.mint, direction="sell", qty=100, sol=0.2, ts=T0 + i * 1000 + 30)
    result = services.analysis_compute_behavior(address=WALLET)
    profile = result["behavior"]
    assert result["analysis"] == "behavior" and result["recomputed"] is True
    assert profile["trades"] == 6 and profile["hold_median_s"] == 30.0
    assert profile["exit_within_60s_share"] == 1.0
    assert profile["speed_class"] == "ultra_flipper" and "flipper" in profile["tags"]
    assert len(profile["hour_histogram_utc"]) == 24
    stored = WalletBehavior.objects.get(wallet=WALLET)
    assert stored.speed_class == "ultra_flipper" and stored.hold_median_s == 30.0
    assert stored.trades == 6 and stored.hour_histogram_utc == profile["hour_histogram_utc"]
    assert services.analysis_compute_behavior(address=WALLET)["recomputed"] is False


def test_wallet_without_swaps_has_empty_figures(add_leg) -> None:
    empty = address(12)
    pnl = services.analysis_compute_pnl(address=empty)["pnl"]
    assert pnl["tokens"] == [] and pnl["tokens_traded"] == 0 and pnl["realized_pnl_sol"] == 0.0
    behavior = services.analysis_compute_behavior(address=empty)["behavior"]
    assert behavior["trades"] == 0 and behavior["speed_class"] is None and behavior["confidence"] == 0.0


def test_invalid_address_is_refused() -> None:
    with pytest.raises(InvalidAddressError):
        services.analysis_compute_pnl(address="not-an-address")


def test_similarity_result_carries_each_wallets_summaries(add_leg) -> None:
    other = address(13)
    _partial_exit(add_leg)
    _partial_exit(add_leg, wallet=other)
    services.analysis_compute_pnl(address=WALLET)  # stored and fresh: reused, not recomputed

    result = similarity_analyze(wallets=[WALLET, other], failed_wallets=[], options={})

    summaries = result["wallet_summaries"]
    assert set(summaries) == {WALLET, other}
    for summary in summaries.values():
        assert summary["pnl"]["realized_pnl_sol"] == pytest.approx(0.4)
        assert "tokens" not in summary["pnl"]
        assert summary["behavior"]["trades"] == 2
        assert summary["behavior"]["hold_median_s"] == 120.0
    assert AnalysisRun.objects.get(wallet=WALLET, kind="pnl").compute_count == 1
    assert AnalysisRun.objects.filter(wallet=other).count() == 2


def test_summaries_that_may_not_fetch_sol_usd_reuse_a_run_without_it_and_a_pnl_job_fetches_it(
    add_leg,
) -> None:
    _partial_exit(add_leg)

    first = services.analysis_wallet_summaries(addresses=[WALLET], fetch_sol_usd=False)
    run = AnalysisRun.objects.get(wallet=WALLET, kind="pnl")
    assert run.compute_count == 1 and run.sol_usd_error
    assert not SolUsdCandle.objects.exists()  # nothing fetched by a caller that may not fetch
    # The same swaps and still no SOL/USD stored: computing again would give the same nulls.
    again = services.analysis_wallet_summaries(addresses=[WALLET], fetch_sol_usd=False)
    assert AnalysisRun.objects.get(wallet=WALLET, kind="pnl").compute_count == 1
    assert again[WALLET]["pnl"] == first[WALLET]["pnl"]

    # A PnL computation may fetch: it does, and its run has the USD figures.
    pnl = services.analysis_compute_pnl(address=WALLET)["pnl"]
    assert AnalysisRun.objects.get(wallet=WALLET, kind="pnl").compute_count == 2
    assert pnl["usd_unavailable_reason"] is None and pnl["realized_pnl_usd"] is not None


def _stretch(wallet: str, *, oldest_ts: int, newest_ts: int, signatures: int, complete: bool) -> None:
    """Mark the wallet's stored history as the stretch between two legs' times (add_leg puts slot = 2 ts)."""
    Wallet.objects.filter(address=wallet).update(
        oldest_slot=oldest_ts * 2,
        oldest_at=oldest_ts,
        newest_slot=newest_ts * 2,
        newest_at=newest_ts,
        history_signatures=signatures,
        history_complete=complete,
        history_limited_by="" if complete else "signatures",
    )


def test_results_name_the_stored_history_and_read_nothing_outside_it(add_leg) -> None:
    # A leg older than the stored stretch (left by a sync that restarted it) is not part of the result.
    add_leg(WALLET, mint=PRICED.mint, direction="buy", qty=5, sol=5.0, ts=T0 - 86_400)
    _partial_exit(add_leg)
    _stretch(WALLET, oldest_ts=T0, newest_ts=T0 + 120, signatures=2, complete=False)

    pnl = services.analysis_compute_pnl(address=WALLET)
    behavior = services.analysis_compute_behavior(address=WALLET)

    expected = {
        "from": datetime.fromtimestamp(T0, tz=UTC).isoformat(),
        "to": datetime.fromtimestamp(T0 + 120, tz=UTC).isoformat(),
        "signatures": 2,
        "complete": False,
        "limited_by": "signatures",
    }
    assert pnl["history"] == pnl["pnl"]["history"] == behavior["history"] == expected
    assert pnl["inputs"]["swap_count"] == 2 and pnl["pnl"]["invested_sol"] == pytest.approx(1.0)
    assert behavior["behavior"]["trades"] == 2


def test_a_stored_run_stands_only_while_the_wallets_history_is_the_one_it_read(add_leg) -> None:
    _partial_exit(add_leg)
    _stretch(WALLET, oldest_ts=T0, newest_ts=T0 + 120, signatures=2, complete=False)
    assert services.analysis_compute_pnl(address=WALLET)["recomputed"] is True
    assert services.analysis_compute_pnl(address=WALLET)["recomputed"] is False

    # A deepening stored three older failed transactions: no new swap, but a longer history.
    _stretch(WALLET, oldest_ts=T0 - 600, newest_ts=T0 + 120, signatures=5, complete=True)

    again = services.analysis_compute_pnl(address=WALLET)
    assert again["recomputed"] is True and again["history"]["signatures"] == 5
    assert again["history"]["complete"] is True


def test_similarity_names_each_wallets_history_and_funders_know_whether_it_is_complete(add_leg) -> None:
    other = address(13)
    _partial_exit(add_leg)
    _partial_exit(add_leg, wallet=other)
    _stretch(WALLET, oldest_ts=T0, newest_ts=T0 + 120, signatures=2, complete=True)
    _stretch(other, oldest_ts=T0, newest_ts=T0 + 120, signatures=2, complete=False)

    result = similarity_analyze(wallets=[WALLET, other], failed_wallets=[], options={})

    assert result["history"][WALLET]["complete"] is True and result["history"][other]["complete"] is False
    assert result["history"][other]["signatures"] == 2
    assert result["funders"][WALLET]["history_complete"] is True
    assert result["funders"][other]["history_complete"] is False
