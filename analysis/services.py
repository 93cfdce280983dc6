"""PnL and behaviour of wallets: load swaps, balances and prices, compute (pure modules), persist
(docs/METHODS.md).

Freshness: a stored run is served instead of a new computation while it is younger than
ANALYSIS_FRESHNESS_S *and* the wallet's swaps are still the ones it analysed (same leg count, same newest
signature), so a sync that brought new swaps is never hidden behind a fresh-looking result. A PnL run whose
price lookup failed is never reused. `force=True` always recomputes.

Marks: every token still held is marked (docs/METHODS.md): a usable price from enrichment (base side of its
pair, liquidity at least PRICE_MIN_LIQUIDITY_USD, finite and positive), else zero. Prices are looked up only
for held tokens, across all the wallets of a call at once. A failed lookup does not fail the analysis: the
held tokens are then unpriced with the error as their reason, and the run records it and is not reused.

USD at trade time: SOL/USD at every leg's and paid fee's minute comes from the stored history (enrichment),
fetched once for all the wallets of a call. When it cannot be had the USD figures are null with the reason,
the SOL figures are unaffected, and the run is not reused.

Chain records (fees of failed transactions, reconciliation, liquidity operations) come from the wallet's
sync; a wallet synced before they were kept has none, and its figures say so (null, not zero).

Holdings: the newest balance snapshot replaces the holdings reconstructed from swaps (catching transfers
in and out) when it was taken after the newest swap; otherwise the swaps alone decide.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

from analysis import selectors
from analysis.behavior import BehaviorProfile, compute_behavior
from analysis.models import AnalysisRun, TokenPnlRow, WalletBehavior, WalletPnlSummary
from analysis.pnl import WalletPnl, compute_pnl, minute_of, usd_minutes
from core.errors import FatalError, TransientError
from enrichment.services import Marks, SolUsdHistory, enrichment_marks, sol_usd_history
from wallets.addresses import validate_address
from wallets.selectors import (
    WalletHistory,
    balances_fetched_at,
    wallet_chain_records,
    wallet_history,
    wallet_latest_balances,
    wallet_swap_legs,
    wallet_sync_state,
    wallets_history,
    wallets_mint_legs,
)
from wallets.swaps import ChainRecord, SwapLeg

logger = logging.getLogger(__name__)

# Upstream or limiter trouble while pricing: the analysis goes on without prices.
PRICE_ERRORS = (TransientError, FatalError, RedisError)


@dataclass(frozen=True, slots=True)
class SwapFingerprint:
    """What a run analysed: a stored run stands for the wallet only while its swaps are still these."""

    swap_count: int
    newest_signature: str
    newest_swap_ts: int | None

    @classmethod
    def of(cls, legs: Sequence[SwapLeg]) -> SwapFingerprint:
        if not legs:
            return cls(0, "", None)
        newest = max(legs, key=lambda leg: (leg.timestamp, leg.slot, leg.signature))
        return cls(len(legs), newest.signature, newest.timestamp)

    def matches(self, run: AnalysisRun) -> bool:
        return run.swap_count == self.swap_count and run.newest_signature == self.newest_signature


@dataclass(frozen=True, slots=True)
class _Prices:
    marks: Marks
    error: str


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _utc_or_none(ts: int | None) -> datetime | None:
    return None if ts is None else _utc(ts)


def _reusable(
    run: AnalysisRun | None,
    fingerprint: SwapFingerprint,
    coverage: WalletHistory,
    *,
    now: datetime,
    retry_sol_usd: bool = True,
) -> bool:
    """A stored run stands while it is fresh, priced, and read the wallet's history as it is stored now (a
    deepening that added only failed transactions leaves the swaps alone but changes the history).

    A run without its SOL/USD history is computed again only by a caller that may fetch it: one that may
    not (`retry_sol_usd=False`, the similarity body) would compute the same nulls again.
    """
    if run is None:
        return False
    fresh_since = now - timedelta(seconds=settings.ANALYSIS_FRESHNESS_S)
    return (
        run.computed_at >= fresh_since
        and fingerprint.matches(run)
        and run.history == coverage.to_dict()
        and not run.prices_error
        and not (run.sol_usd_error and retry_sol_usd)
    )


def _claim_run(*, address: str, kind: str, now: datetime) -> AnalysisRun:
    """The wallet's run row, locked until the transaction ends, so concurrent stores of one wallet queue."""
    run, _ = AnalysisRun.objects.select_for_update().get_or_create(
        wallet=address, kind=kind, defaults={"computed_at": now}
    )
    return run


def _update_run(
    run: AnalysisRun, *, fingerprint: SwapFingerprint, computed_at: datetime, duration_ms: int, **extra: Any
) -> None:
    AnalysisRun.objects.filter(pk=run.pk).update(
        computed_at=computed_at,
        duration_ms=duration_ms,
        compute_count=F("compute_count") + 1,
        swap_count=fingerprint.swap_count,
        newest_signature=fingerprint.newest_signature,
        newest_swap_at=_utc_or_none(fingerprint.newest_swap_ts),
        **extra,
    )
    run.refresh_from_db()


# ---------------------------------------------------------------------------------------------------------
# PnL
# ---------------------------------------------------------------------------------------------------------


def _holdings(
    legs: Sequence[SwapLeg], fingerprint: SwapFingerprint, balances: Mapping[str, Any] | None
) -> tuple[dict[str, int] | None, datetime | None]:
    """Current raw holdings of every traded mint from a snapshot taken after the newest swap, else None."""
    fetched_at = balances_fetched_at(dict(balances) if balances else None)
    if fetched_at is None or (
        fingerprint.newest_swap_ts is not None and fetched_at.timestamp() < fingerprint.newest_swap_ts
    ):
        return None, None
    held = {str(token["mint"]): int(token["amount_raw"]) for token in (balances or {}).get("tokens", [])}
    # A mint absent from the snapshot is not held any more (its token account is empty or closed).
    return {leg.mint: held.get(leg.mint, 0) for leg in legs}, fetched_at


def _window(legs: Sequence[SwapLeg], records: Sequence[ChainRecord] | None) -> tuple[int, int] | None:
    """The period the PnL covers: all of the wallet's stored history, from its first to its last trade or
    recorded transaction (a failed one included)."""
    timestamps = [leg.timestamp for leg in legs] + [record.timestamp for record in records or ()]
    if not timestamps:
        return None
    return min(timestamps), max(timestamps)


def _held_mints(legs: Sequence[SwapLeg], holdings: Mapping[str, int] | None) -> set[str]:
    if holdings is not None:
        return {mint for mint, raw in holdings.items() if raw > 0}
    # Remaining quantities are exact integers that do not depend on prices: a price-less pass finds them.
    return {token.mint for token in compute_pnl(legs).tokens if token.remaining_qty_raw > 0}


def _lookup_prices(mints: set[str]) -> _Prices:
    try:
        return _Prices(enrichment_marks(mints=sorted(mints)), "")
    except PRICE_ERRORS as exc:
        logger.warning("PnL without prices: %s: %s", type(exc).__name__, exc)
        error = f"{type(exc).__name__}: {exc}"[:300]
        return _Prices(Marks({}, dict.fromkeys(mints, f"price lookup failed: {error}"), None), error)


def _lookup_sol_usd(minutes: set[int], *, fetch: bool = True) -> SolUsdHistory:
    try:
        if not fetch:
            return sol_usd_history(minutes=minutes, max_calls=0)
        return sol_usd_history(minutes=minutes)
    except PRICE_ERRORS as exc:
        logger.warning("PnL without SOL/USD history: %s: %s", type(exc).__name__, exc)
        return SolUsdHistory(None, f"SOL/USD history unavailable: {type(exc).__name__}: {exc}"[:300], 0)


# The largest open positions by cost, carried with the headline figures so a many-wallet view (the Lab)
# can show what is marked and how without every token row.
OPEN_POSITIONS_SHOWN = 10


def _open_positions(pnl: WalletPnl) -> list[dict[str, Any]]:
    held = sorted(
        (token for token in pnl.tokens if token.remaining_qty_raw > 0),
        key=lambda token: (-token.remaining_cost_sol, token.mint),
    )
    return [
        {
            "mint": token.mint,
            "price_status": token.price_status,
            "mark_price_sol": token.mark_price_sol,
            "unpriced_reason": token.unpriced_reason,
            "remaining_qty": token.remaining_qty,
            "remaining_cost_sol": token.remaining_cost_sol,
            "unrealized_pnl_sol": token.unrealized_pnl_sol,
        }
        for token in held[:OPEN_POSITIONS_SHOWN]
    ]


def _pnl_dict(pnl: WalletPnl, *, swaps_unparsed: int | None, coverage: WalletHistory) -> dict[str, Any]:
    data = pnl.to_dict()
    data.pop("tokens")
    data["swaps_unparsed"] = swaps_unparsed
    data["open_positions"] = _open_positions(pnl)
    data["history"] = coverage.to_dict()
    return data


def _token_rows(run: AnalysisRun, pnl: WalletPnl) -> list[TokenPnlRow]:
    return [
        TokenPnlRow(
            run=run,
            mint=token.mint,
            status=token.status,
            buy_count=token.buy_count,
            sell_count=token.sell_count,
            bought_qty_raw=Decimal(token.bought_qty_raw),
            sold_qty_raw=Decimal(token.sold_qty_raw),
            remaining_qty_raw=Decimal(token.remaining_qty_raw),
            unknown_basis_qty_raw=Decimal(token.unknown_basis_qty_raw),
            invested_sol=token.invested_sol,
            proceeds_sol=token.proceeds_sol,
            realized_pnl_sol=token.realized_pnl_sol,
            unrealized_pnl_sol=token.unrealized_pnl_sol,
            total_pnl_sol=token.total_pnl_sol,
            roi=token.roi,
            fees_sol=token.fees_sol,
            price_status=token.price_status or "",
            mark_price_sol=token.mark_price_sol,
            hold_time_s=token.hold_time_s,
            first_trade_at=_utc(token.first_trade_at),
            last_trade_at=_utc(token.last_trade_at),
            data=token.to_dict(),
        )
        for token in pnl.tokens
    ]


@transaction.atomic
def _store_pnl(
    *,
    address: str,
    fingerprint: SwapFingerprint,
    pnl: WalletPnl,
    prices: _Prices,
    history: SolUsdHistory,
    balances_fetched_at: datetime | None,
    swaps_unparsed: int | None,
    coverage: WalletHistory,
    started: float,
) -> AnalysisRun:
    now = timezone.now()
    run = _claim_run(address=address, kind=AnalysisRun.Kind.PNL, now=now)
    TokenPnlRow.objects.filter(run=run).delete()
    WalletPnlSummary.objects.filter(run=run).delete()
    data = _pnl_dict(pnl, swaps_unparsed=swaps_unparsed, coverage=coverage)
    reconciliation = pnl.reconciliation
    WalletPnlSummary.objects.create(
        run=run,
        wallet=address,
        tokens_traded=pnl.tokens_traded,
        tokens_open=pnl.tokens_open,
        tokens_closed=pnl.tokens_closed,
        tokens_dust=pnl.tokens_dust,
        tokens_unpriced=pnl.tokens_unpriced,
        unpriced_open_cost_sol=pnl.unpriced_open_cost_sol,
        swaps_parsed=pnl.swaps_parsed,
        legs_parsed=pnl.legs_parsed,
        buy_count=pnl.buy_count,
        sell_count=pnl.sell_count,
        invested_sol=pnl.invested_sol,
        proceeds_sol=pnl.proceeds_sol,
        unknown_basis_proceeds_sol=pnl.unknown_basis_proceeds_sol,
        realized_pnl_sol=pnl.realized_pnl_sol,
        unrealized_pnl_sol=pnl.unrealized_pnl_sol,
        total_pnl_sol=pnl.total_pnl_sol,
        net_pnl_sol=pnl.net_pnl_sol,
        fees_sol=pnl.fees_sol,
        failed_tx_count=pnl.failed_tx_count,
        failed_tx_fees_sol=pnl.failed_tx_fees_sol,
        unexplained_lamports=None if reconciliation is None else reconciliation.unexplained_lamports,
        result_version=pnl.result_version,
        roi=data["roi"],
        win_rate=data["win_rate"],
        profit_factor=data["profit_factor"],
        median_token_pnl_sol=data["median_token_pnl_sol"],
        trimmed_mean_token_pnl_sol=data["trimmed_mean_token_pnl_sol"],
        realized_pnl_usd=data["realized_pnl_usd"],
        unrealized_pnl_usd=data["unrealized_pnl_usd"],
        total_pnl_usd=data["total_pnl_usd"],
        first_trade_at=_utc_or_none(min((t.first_trade_at for t in pnl.tokens), default=None)),
        last_trade_at=_utc_or_none(max((t.last_trade_at for t in pnl.tokens), default=None)),
        data=data,
    )
    TokenPnlRow.objects.bulk_create(_token_rows(run, pnl), batch_size=1000)
    _update_run(
        run,
        fingerprint=fingerprint,
        computed_at=now,
        duration_ms=int((time.perf_counter() - started) * 1000),
        balances_fetched_at=balances_fetched_at,
        sol_price_usd=prices.marks.sol_usd,
        prices_error=prices.error,
        sol_usd_error=(history.error or "")[:300],
        history=coverage.to_dict(),
    )
    return run


@dataclass(frozen=True, slots=True)
class _PendingPnl:
    fingerprint: SwapFingerprint
    holdings: dict[str, int] | None
    balances_fetched_at: datetime | None
    records: list[ChainRecord] | None


def _pnl_runs(
    *,
    addresses: Sequence[str],
    legs_by_wallet: Mapping[str, Sequence[SwapLeg]],
    balances_by_wallet: Mapping[str, Mapping[str, Any] | None],
    histories: Mapping[str, WalletHistory],
    force: bool,
    fetch_sol_usd: bool = True,
    stored: Mapping[str, AnalysisRun] | None = None,
) -> dict[str, tuple[AnalysisRun, bool]]:
    """(run, recomputed) per wallet: stored runs where reusable, the others computed with one price lookup
    and one SOL/USD history lookup between them (from the stored candles alone without `fetch_sol_usd`).
    Each wallet's legs and chain records come from the same stored stretch of its history (`histories`),
    which the result names."""
    now = timezone.now()
    if stored is None:
        stored = selectors.analysis_runs_for(addresses=addresses, kind=AnalysisRun.Kind.PNL)
    outcome: dict[str, tuple[AnalysisRun, bool]] = {}
    pending: dict[str, _PendingPnl] = {}
    for address in addresses:
        legs = legs_by_wallet[address]
        fingerprint = SwapFingerprint.of(legs)
        run = stored.get(address)
        reusable = _reusable(run, fingerprint, histories[address], now=now, retry_sol_usd=fetch_sol_usd)
        if not force and run is not None and reusable:
            outcome[address] = (run, False)
            continue
        holdings, fetched_at = _holdings(legs, fingerprint, balances_by_wallet.get(address))
        pending[address] = _PendingPnl(
            fingerprint,
            holdings,
            fetched_at,
            wallet_chain_records(address=address, history=histories[address]),
        )
    if not pending:
        return outcome
    held = {address: _held_mints(legs_by_wallet[address], item.holdings) for address, item in pending.items()}
    prices = _lookup_prices(set().union(*held.values()))
    minutes: set[int] = set()
    for address, item in pending.items():
        minutes |= usd_minutes(legs_by_wallet[address], item.records or ())
    history = _lookup_sol_usd(minutes, fetch=fetch_sol_usd)
    as_of = int(now.timestamp())
    for address, item in pending.items():
        started = time.perf_counter()
        legs = legs_by_wallet[address]
        sync_state = wallet_sync_state(address=address)
        pnl = compute_pnl(
            legs,
            prices_sol=prices.marks.prices_sol,
            unpriced_reasons=prices.marks.unpriced,
            sol_price_usd=prices.marks.sol_usd,
            sol_usd_by_minute=history.by_minute,
            usd_unavailable_reason=history.error,
            holdings_raw=item.holdings,
            records=item.records,
            window=_window(legs, item.records),
            as_of=as_of,
            swaps_unparsed=sync_state.swaps_unparsed if sync_state is not None else 0,
        )
        run = _store_pnl(
            address=address,
            fingerprint=item.fingerprint,
            pnl=pnl,
            prices=prices,
            history=history,
            balances_fetched_at=item.balances_fetched_at,
            swaps_unparsed=sync_state.swaps_unparsed if sync_state is not None else None,
            coverage=histories[address],
            started=started,
        )
        outcome[address] = (run, True)
    return outcome


def analysis_compute_pnl(*, address: str, force: bool = False) -> dict[str, Any]:
    """PnL of one wallet from its stored swaps (docs/METHODS.md §2), stored and returned with every token
    row."""
    address = validate_address(address)
    coverage = wallet_history(address=address)
    legs = wallet_swap_legs(address=address, history=coverage)
    balances = wallet_latest_balances(address=address)
    run, recomputed = _pnl_runs(
        addresses=[address],
        legs_by_wallet={address: legs},
        balances_by_wallet={address: balances},
        histories={address: coverage},
        force=force,
    )[address]
    return selectors.analysis_pnl_result(run=run, recomputed=recomputed)


# ---------------------------------------------------------------------------------------------------------
# Behaviour
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def _store_behavior(
    *,
    address: str,
    fingerprint: SwapFingerprint,
    profile: BehaviorProfile,
    coverage: WalletHistory,
    started: float,
) -> AnalysisRun:
    now = timezone.now()
    run = _claim_run(address=address, kind=AnalysisRun.Kind.BEHAVIOR, now=now)
    data = profile.to_dict()
    WalletBehavior.objects.update_or_create(
        run=run,
        defaults={
            "wallet": address,
            "trades": profile.trades,
            "buys": profile.buys,
            "sells": profile.sells,
            "transactions": profile.transactions,
            "tokens_traded": profile.tokens_traded,
            "active_days": profile.active_days,
            "trades_per_active_day": data["trades_per_active_day"],
            "buy_sell_ratio": data["buy_sell_ratio"],
            "buy_sell_symmetry": data["buy_sell_symmetry"],
            "matched_exits": profile.matched_exits,
            "hold_p25_s": data["hold_p25_s"],
            "hold_median_s": data["hold_median_s"],
            "hold_p75_s": data["hold_p75_s"],
            "exit_within_60s_share": data["exit_within_60s_share"],
            "exit_within_5m_share": data["exit_within_5m_share"],
            "exit_within_1h_share": data["exit_within_1h_share"],
            "reentry_rate": data["reentry_rate"],
            "never_sold_share": data["never_sold_share"],
            "median_position_size_sol": data["median_position_size_sol"],
            "session_count": profile.session_count,
            "session_mean_length_s": data["session_mean_length_s"],
            "flipper_score": data["flipper_score"],
            "speed_class": profile.speed_class or "",
            "confidence": profile.confidence,
            "tags": list(profile.tags),
            "hour_histogram_utc": list(profile.hour_histogram_utc),
            "first_trade_at": _utc_or_none(profile.first_trade_at),
            "last_trade_at": _utc_or_none(profile.last_trade_at),
            "data": data,
        },
    )
    _update_run(
        run,
        fingerprint=fingerprint,
        computed_at=now,
        duration_ms=int((time.perf_counter() - started) * 1000),
        history=coverage.to_dict(),
    )
    return run


def _behavior_runs(
    *,
    addresses: Sequence[str],
    legs_by_wallet: Mapping[str, Sequence[SwapLeg]],
    histories: Mapping[str, WalletHistory],
    force: bool,
    stored: Mapping[str, AnalysisRun] | None = None,
) -> dict[str, tuple[AnalysisRun, bool]]:
    now = timezone.now()
    if stored is None:
        stored = selectors.analysis_runs_for(addresses=addresses, kind=AnalysisRun.Kind.BEHAVIOR)
    outcome: dict[str, tuple[AnalysisRun, bool]] = {}
    for address in addresses:
        legs = legs_by_wallet[address]
        fingerprint = SwapFingerprint.of(legs)
        run = stored.get(address)
        if not force and run is not None and _reusable(run, fingerprint, histories[address], now=now):
            outcome[address] = (run, False)
            continue
        started = time.perf_counter()
        profile = compute_behavior(legs, window_end=int(now.timestamp()))
        run = _store_behavior(
            address=address,
            fingerprint=fingerprint,
            profile=profile,
            coverage=histories[address],
            started=started,
        )
        outcome[address] = (run, True)
    return outcome


def analysis_compute_behavior(*, address: str, force: bool = False) -> dict[str, Any]:
    """Trading-behaviour profile of one wallet from its stored swaps (docs/METHODS.md §3), stored and
    returned."""
    address = validate_address(address)
    coverage = wallet_history(address=address)
    legs = wallet_swap_legs(address=address, history=coverage)
    run, recomputed = _behavior_runs(
        addresses=[address], legs_by_wallet={address: legs}, histories={address: coverage}, force=force
    )[address]
    return selectors.analysis_behavior_result(run=run, recomputed=recomputed)


# ---------------------------------------------------------------------------------------------------------
# Many wallets at once
# ---------------------------------------------------------------------------------------------------------


def analysis_wallet_summaries(
    *,
    addresses: Sequence[str],
    legs_by_wallet: Mapping[str, Sequence[SwapLeg]] | None = None,
    balances_by_wallet: Mapping[str, Mapping[str, Any] | None] | None = None,
    histories: Mapping[str, WalletHistory] | None = None,
    fetch_sol_usd: bool = True,
) -> dict[str, dict[str, Any]]:
    """PnL and behaviour headline figures per wallet, for results about many wallets (similarity).

    Callers that loaded the swaps, balances or stored histories already pass them (the swaps read within
    those histories), so nothing is read twice. Freshness holds as for single wallets; the wallets that need
    a computation share one price lookup. Without `fetch_sol_usd` the USD figures come from the stored
    SOL/USD candles alone (a caller on a prefork queue that must not wait on the network; the candles were
    fetched by `analysis_prefetch_sol_usd` on the wallet queue), and a minute not stored yet leaves them
    null with the reason.
    """
    given_legs = legs_by_wallet or {}
    given_balances = balances_by_wallet or {}
    unread = [address for address in addresses if address not in (histories or {})]
    coverage = {**(wallets_history(addresses=unread) if unread else {}), **(histories or {})}
    legs = {
        address: given_legs[address]
        if address in given_legs
        else wallet_swap_legs(address=address, history=coverage[address])
        for address in addresses
    }
    balances = {
        address: given_balances[address]
        if address in given_balances
        else wallet_latest_balances(address=address)
        for address in addresses
    }
    # Both kinds of stored run with their headline figures, in one query.
    stored = selectors.analysis_runs_with_headlines(addresses=addresses)
    pnl_runs = _pnl_runs(
        addresses=addresses,
        legs_by_wallet=legs,
        balances_by_wallet=balances,
        histories=coverage,
        force=False,
        fetch_sol_usd=fetch_sol_usd,
        stored=stored[AnalysisRun.Kind.PNL],
    )
    behavior_runs = _behavior_runs(
        addresses=addresses,
        legs_by_wallet=legs,
        histories=coverage,
        force=False,
        stored=stored[AnalysisRun.Kind.BEHAVIOR],
    )
    runs = [run for run, _ in [*pnl_runs.values(), *behavior_runs.values()]]
    headlines = selectors.analysis_headlines(runs=runs)
    return {
        address: {
            "pnl": headlines.get((address, AnalysisRun.Kind.PNL)),
            "behavior": headlines.get((address, AnalysisRun.Kind.BEHAVIOR)),
        }
        for address in addresses
    }


def analysis_prefetch_sol_usd(*, address: str) -> int:
    """Fetch and store the SOL/USD minutes the wallet's legs need, on an I/O queue (after its sync), so the
    computations that follow on prefork queues read them from the database; returns the provider calls made.
    Never raises for the provider's sake (a failure is the computation's to report)."""
    history = wallet_history(address=validate_address(address))
    legs = wallet_swap_legs(address=address, history=history)
    records = wallet_chain_records(address=address, history=history)
    return _lookup_sol_usd(usd_minutes(legs, records or ())).calls


def analysis_prefetch_sol_usd_days(*, timestamps: Iterable[int]) -> int:
    """Fetch and store the SOL/USD of the UTC days holding these block times (a sync's listed transactions,
    before their payloads arrive): the days `analysis_prefetch_sol_usd` will want after the sync, fetched
    while it runs. Returns the provider calls made; never raises for the provider's sake."""
    return _lookup_sol_usd({minute_of(timestamp) for timestamp in timestamps}).calls


# ---------------------------------------------------------------------------------------------------------
# One mint across many wallets (token holders)
# ---------------------------------------------------------------------------------------------------------


def analysis_behavior_summaries(*, addresses: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Behaviour headline figures per wallet (stored runs reused while fresh, the others computed and stored),
    for results about many wallets: two queries for the stored figures whatever the number of wallets."""
    histories = wallets_history(addresses=addresses)
    legs = {address: wallet_swap_legs(address=address, history=histories[address]) for address in addresses}
    runs = _behavior_runs(addresses=addresses, legs_by_wallet=legs, histories=histories, force=False)
    headlines = selectors.analysis_headlines(runs=[run for run, _ in runs.values()])
    return {address: headlines[(address, AnalysisRun.Kind.BEHAVIOR)] for address in addresses}


def analysis_mint_pnl(
    *, addresses: Sequence[str], mint: str, holdings_raw: Mapping[str, int]
) -> dict[str, dict[str, Any] | None]:
    """Each wallet's PnL on one mint (the per-token figures of docs/METHODS.md §2), None for a wallet that
    never traded it. `holdings_raw`: what a wallet holds now when known (the mint's token accounts); without
    it the position is the one its swaps leave. One price lookup and one SOL/USD history lookup for all the
    wallets; nothing is stored (a wallet's full PnL run stays the one of its own job)."""
    legs_by_wallet = wallets_mint_legs(addresses=addresses, mint=mint)
    prices = _lookup_prices({mint})
    minutes: set[int] = set()
    for legs in legs_by_wallet.values():
        minutes |= usd_minutes(legs)
    history = _lookup_sol_usd(minutes)
    out: dict[str, dict[str, Any] | None] = {}
    for address in addresses:
        legs = legs_by_wallet[address]
        if not legs:
            out[address] = None
            continue
        held = holdings_raw.get(address)
        pnl = compute_pnl(
            legs,
            prices_sol=prices.marks.prices_sol,
            unpriced_reasons=prices.marks.unpriced,
            sol_price_usd=prices.marks.sol_usd,
            sol_usd_by_minute=history.by_minute,
            usd_unavailable_reason=history.error,
            holdings_raw=None if held is None else {mint: held},
        )
        (token,) = pnl.tokens
        out[address] = token.to_dict()
    return out
