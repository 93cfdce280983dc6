"""Reads of stored analyses, in the shapes the services return."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from analysis.models import AnalysisRun, TokenPnlRow, WalletBehavior, WalletPnlSummary
from wallets.selectors import balances_fetched_at, wallet_latest_balances

# The figures a multi-wallet result (similarity) carries per wallet: enough to rank and label wallets
# without the per-token rows.
PNL_HEADLINE_FIELDS = (
    "result_version",
    "realized_pnl_sol",
    "unrealized_pnl_sol",
    "total_pnl_sol",
    "net_pnl_sol",
    "invested_sol",
    "proceeds_sol",
    "fees_sol",
    "failed_tx_count",
    "failed_tx_fees_sol",
    "roi",
    "win_rate",
    "profit_factor",
    "median_token_pnl_sol",
    "trimmed_mean_token_pnl_sol",
    "tokens_traded",
    "tokens_open",
    "tokens_closed",
    "tokens_unpriced",
    "unpriced_open_cost_sol",
    "open_positions",
    "swaps_parsed",
    "sol_price_usd",
    "usd_unavailable_reason",
    "realized_pnl_usd",
    "unrealized_pnl_usd",
    "total_pnl_usd",
    "periods",
    "reconciliation",
)
# The reconciliation's totals travel with the headline; the list of unexplained transactions stays with the
# wallet's own PnL result.
RECONCILIATION_HEADLINE_FIELDS = (
    "transactions",
    "chain_change_lamports",
    "legs_cash_flow_lamports",
    "unexplained_lamports",
    "unexplained_count",
)
BEHAVIOR_HEADLINE_FIELDS = (
    "trades",
    "tokens_traded",
    "active_days",
    "trades_per_active_day",
    "hold_median_s",
    "median_hold_s",
    "median_hold_is_lower_bound",
    "median_closed_hold_s",
    "exit_within_60s_share",
    "exit_within_5m_share",
    "exit_within_1h_share",
    "never_sold_share",
    "reentry_rate",
    "median_position_size_sol",
    "flipper_score",
    "speed_class",
    "tags",
    "confidence",
)


def analysis_runs_for(*, addresses: Sequence[str], kind: str) -> dict[str, AnalysisRun]:
    return {run.wallet: run for run in AnalysisRun.objects.filter(wallet__in=list(addresses), kind=kind)}


def analysis_runs_with_headlines(*, addresses: Sequence[str]) -> dict[str, dict[str, AnalysisRun]]:
    """{kind: {wallet: run}} of the wallets' stored PnL and behaviour runs, each with its wallet summary or
    profile loaded in the same query, so `analysis_headlines` of the runs kept needs no other read."""
    runs: dict[str, dict[str, AnalysisRun]] = {AnalysisRun.Kind.PNL: {}, AnalysisRun.Kind.BEHAVIOR: {}}
    rows = AnalysisRun.objects.filter(
        wallet__in=list(addresses), kind__in=[AnalysisRun.Kind.PNL, AnalysisRun.Kind.BEHAVIOR]
    ).select_related("pnl_summary", "behavior")
    for run in rows:
        runs[run.kind][run.wallet] = run
    return runs


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _inputs(run: AnalysisRun) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "swap_count": run.swap_count,
        "newest_signature": run.newest_signature or None,
        "newest_swap_at": _iso(run.newest_swap_at),
    }
    if run.kind == AnalysisRun.Kind.PNL:
        inputs.update(
            holdings_source="balances" if run.balances_fetched_at is not None else "reconstructed",
            balances_fetched_at=_iso(run.balances_fetched_at),
            sol_price_usd=run.sol_price_usd,
            prices_error=run.prices_error or None,
            sol_usd_history_error=run.sol_usd_error or None,
        )
    return inputs


def _envelope(run: AnalysisRun, *, recomputed: bool) -> dict[str, Any]:
    return {
        "wallet": run.wallet,
        "analysis": run.kind,
        "computed_at": run.computed_at.isoformat(),
        "recomputed": recomputed,
        "compute_duration_ms": run.duration_ms,
        # The stored history the figures cover: {from, to, signatures, complete, limited_by}.
        "history": run.history,
        "inputs": _inputs(run),
    }


def analysis_pnl_result(*, run: AnalysisRun, recomputed: bool) -> dict[str, Any]:
    """The stored PnL of a run: wallet figures with every token row (sorted by mint)."""
    summary = WalletPnlSummary.objects.get(run=run)
    tokens = list(TokenPnlRow.objects.filter(run=run).order_by("mint").values_list("data", flat=True))
    return {**_envelope(run, recomputed=recomputed), "pnl": {**summary.data, "tokens": tokens}}


def analysis_behavior_result(*, run: AnalysisRun, recomputed: bool) -> dict[str, Any]:
    profile = WalletBehavior.objects.get(run=run)
    return {**_envelope(run, recomputed=recomputed), "behavior": profile.data}


def analysis_headlines(*, runs: Sequence[AnalysisRun]) -> dict[tuple[str, str], dict[str, Any]]:
    """Headline figures of runs, keyed by (wallet, kind): from the summaries and profiles loaded with the
    runs (`analysis_runs_with_headlines`), the others in one query per kind whatever the number of runs."""
    computed_at = {run.pk: run.computed_at.isoformat() for run in runs}
    headlines: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, (relation, model) in _HEADLINE_ROWS.items():
        of_kind = [run for run in runs if run.kind == kind]
        rows = [getattr(run, relation) for run in of_kind if _loaded(run, relation)]
        read = {row.run_id for row in rows}
        unread = [run.pk for run in of_kind if run.pk not in read]
        if unread:
            rows += model.objects.filter(run_id__in=unread).only("run_id", "wallet", "data")
        for row in rows:
            figures = (
                pnl_headline(row.data)
                if kind == AnalysisRun.Kind.PNL
                else {field: row.data.get(field) for field in BEHAVIOR_HEADLINE_FIELDS}
            )
            headlines[(row.wallet, kind)] = {**figures, "computed_at": computed_at[row.run_id]}
    return headlines


# Where each kind's headline figures are stored: the run's relation and its model.
_HEADLINE_ROWS: dict[str, tuple[str, type[WalletPnlSummary] | type[WalletBehavior]]] = {
    AnalysisRun.Kind.PNL: ("pnl_summary", WalletPnlSummary),
    AnalysisRun.Kind.BEHAVIOR: ("behavior", WalletBehavior),
}


def _loaded(run: AnalysisRun, relation: str) -> bool:
    """The run's summary or profile was loaded with it, and exists."""
    descriptor = getattr(AnalysisRun, relation)
    return bool(descriptor.is_cached(run) and getattr(run, relation) is not None)


def pnl_headline(data: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of a stored PnL; fields a run from before a result version lacks are None."""
    figures = {field: data.get(field) for field in PNL_HEADLINE_FIELDS}
    reconciliation = data.get("reconciliation")
    if isinstance(reconciliation, dict):
        figures["reconciliation"] = {
            field: reconciliation.get(field) for field in RECONCILIATION_HEADLINE_FIELDS
        }
    return figures


def analysis_result_summary(result: dict[str, Any]) -> dict[str, Any]:
    """What a `job-completed` event carries for an analysis job: the headline, not the token rows."""
    kind = result["analysis"]
    figures = result.get(kind) or {}
    headline = (
        pnl_headline(figures)
        if kind == AnalysisRun.Kind.PNL
        else {field: figures.get(field) for field in BEHAVIOR_HEADLINE_FIELDS}
    )
    return {
        "wallet": result["wallet"],
        "analysis": kind,
        "recomputed": result["recomputed"],
        "computed_at": result["computed_at"],
        "history": result.get("history"),
        **headline,
    }


def analysis_balances_stale(*, address: str) -> bool:
    """True when the wallet has no balance snapshot younger than ANALYSIS_BALANCES_MAX_AGE_S."""
    balances = wallet_latest_balances(address=address)
    fetched_at = balances_fetched_at(balances)
    if fetched_at is None:
        return True
    return fetched_at < timezone.now() - timedelta(seconds=settings.ANALYSIS_BALANCES_MAX_AGE_S)
