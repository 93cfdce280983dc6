"""Token holders (docs/METHODS.md §6): who holds a mint, who bought it first, and how much of its supply acts
together.

The job (jobs.flows.token_holders) runs these in order: `holders_discover` reads the mint from the chain,
the wallets are synced, `holders_analyse_wallets` profiles each batch of them, and `holders_result`
compares them all and classifies them (holders.classes) into the result. docs/METHODS.md §6 defines
every figure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from analysis.services import analysis_behavior_summaries, analysis_mint_pnl
from core.errors import FatalError, InvalidInputError, TransientError
from enrichment.services import enrichment_quotes
from holders.classes import (
    BUNDLER,
    CLASSES,
    CREATOR,
    HIGH_THRESHOLDS_PCT,
    INSIDER,
    MEDIUM_THRESHOLDS_PCT,
    SNIPER,
    LaunchFacts,
    SimilarityCluster,
    WalletClasses,
    WalletFacts,
    class_supply_pct,
    funding_ties,
    holder_clusters,
    risk_level,
    supply_pct,
    top_holders_pct,
    wallet_classes,
)
from similarity.services import SIMILARITY_MIN_WALLETS, similarity_ignored_funders, similarity_links
from wallets.addresses import validate_address
from wallets.mint_services import mint_discover
from wallets.selectors import (
    WalletFundingRecord,
    wallets_first_activity,
    wallets_first_buys,
    wallets_funding,
)

logger = logging.getLogger(__name__)

DEFAULT_TOP = 50
DEFAULT_EARLY = 50
MAX_TOP = 200
MAX_EARLY = 200
SIMILARITY_TOP_PAIRS = 20


def _count(value: object, *, field: str, default: int, maximum: int) -> int:
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        message = f"must be an integer from 1 to {maximum}, got {value!r}"[:200]
        raise InvalidInputError(f"{field} {message}.", fields={field: [message]})
    return value


def holders_params(*, mint: object, top: object = None, early: object = None) -> dict[str, Any]:
    """The canonical parameters of a holders request: a mint address, `top` holders and `early` buyers (each
    1 to 200, 50 by default). InvalidInputError names the field."""
    return {
        "mint": validate_address(mint, field="mint"),
        "top": _count(top, field="top", default=DEFAULT_TOP, maximum=MAX_TOP),
        "early": _count(early, field="early", default=DEFAULT_EARLY, maximum=MAX_EARLY),
    }


def holders_discover(*, mint: str, top: int, early: int, checkpoint: Callable[[], None]) -> dict[str, Any]:
    """The mint as the chain shows it, within HOLDERS_MAX_ACCOUNTS and HOLDERS_MAX_MINT_SIGNATURES (JSON)."""
    found = mint_discover(
        mint=mint,
        top=top,
        early=early,
        max_accounts=settings.HOLDERS_MAX_ACCOUNTS,
        max_signatures=settings.HOLDERS_MAX_MINT_SIGNATURES,
        checkpoint=checkpoint,
    )
    return found.to_dict()


def holders_wallets(discovery: Mapping[str, Any]) -> list[str]:
    """The wallets a holders analysis looks at: the creator, the first buyers in order, the top holders."""
    creation = discovery.get("creation")
    wallets = [creation["creator"]] if creation else []
    wallets += [buy["wallet"] for buy in discovery["early_buyers"]]
    wallets += [wallet for wallet, _ in discovery["holders"]]
    return list(dict.fromkeys(wallets))


def holders_analyse_wallets(
    *, mint: str, wallets: Sequence[str], amounts: Mapping[str, int]
) -> dict[str, dict[str, Any]]:
    """Behaviour (stored runs, reused while fresh) and PnL on the mint of synced wallets, per wallet."""
    behavior = analysis_behavior_summaries(addresses=wallets)
    held = {wallet: int(amounts.get(wallet, 0)) for wallet in wallets}
    pnl = analysis_mint_pnl(addresses=wallets, mint=mint, holdings_raw=held)
    return {wallet: {"behavior": behavior.get(wallet), "pnl": pnl.get(wallet)} for wallet in wallets}


def _token_metadata(mint: str) -> dict[str, Any]:
    """Name, symbol and price of the mint (stored by the job's enrichment task, else asked for now)."""
    try:
        quote = enrichment_quotes(mints=[mint]).get(mint)
    except (TransientError, FatalError, RedisError) as exc:
        return {"status": "unavailable", "reason": f"{type(exc).__name__}: {exc}"[:300]}
    if quote is None:
        return {"status": "unknown", "reason": "no pair with this token as its base on DexScreener"}
    return {"status": "known", **quote.to_dict()}


def _funding(
    wallets: Sequence[str],
) -> tuple[dict[str, WalletFundingRecord], dict[str, str], dict[str, str | None], dict[str, list[str]]]:
    """Stored funding, the funders that may not link wallets (with why), each wallet's usable first funder
    and the usable senders of SOL to it."""
    funding = wallets_funding(addresses=wallets)
    ignored = similarity_ignored_funders(funding=funding, max_fanout=settings.FUNDER_MAX_FANOUT)
    first: dict[str, str | None] = {}
    senders: dict[str, list[str]] = {}
    for wallet, record in funding.items():
        source = record.first.source if record.first else None
        first[wallet] = source if source is not None and source not in ignored else None
        senders[wallet] = [t.source for t in record.received if t.source not in ignored]
    return funding, ignored, first, senders


BEHAVIOR_ROW_FIELDS = (
    "tags",
    "speed_class",
    "trades",
    "tokens_traded",
    "trades_per_active_day",
    "median_hold_s",
    "confidence",
)


def _behavior_row(behavior: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The behaviour figures a holder's row carries (the wallet's own behaviour job has them all)."""
    return None if behavior is None else {name: behavior.get(name) for name in BEHAVIOR_ROW_FIELDS}


def _funding_report(record: WalletFundingRecord | None, ignored: Mapping[str, str]) -> dict[str, Any]:
    if record is None:
        return {
            "first_funder": None,
            "status": "unknown",
            "reason": "not synced",
            "first_funder_known": False,
        }
    source = record.first.source if record.first else None
    if source is None:
        status, reason = "unknown", "no SOL transfer in the synced history"
    elif source in ignored:
        status, reason = "ignored", ignored[source]
    else:
        status, reason = "funder", None
    return {
        "first_funder": source,
        "status": status,
        "reason": reason,
        "history_complete": record.history_complete,
        # The history reaches the wallet's first transaction, so its first funding is the one shown.
        "first_funder_known": record.history_complete,
    }


def holders_result(
    *,
    discovery: Mapping[str, Any],
    reports: Mapping[str, Mapping[str, Any]],
    failed: Mapping[str, str],
) -> dict[str, Any]:
    """The result of a holders job from the discovery, each synced wallet's report and the failed wallets."""
    mint = str(discovery["mint"])
    supply = int(discovery["supply"]["amount_raw"])
    decimals = int(discovery["supply"]["decimals"])
    amounts: dict[str, int] = {owner: int(amount) for owner, amount in discovery["amounts"].items()}
    wallets = holders_wallets(discovery)
    synced = [wallet for wallet in wallets if wallet not in failed]
    funding, ignored, first_funders, senders = _funding(synced)
    first_activity = wallets_first_activity(addresses=synced)
    mint_buys = {buy["wallet"]: buy for buy in discovery["early_buyers"]}
    own_buys = wallets_first_buys(addresses=[w for w in synced if w not in mint_buys], mint=mint)
    first_buy: dict[str, dict[str, Any]] = {
        wallet: {"signature": buy.signature, "slot": buy.slot, "timestamp": buy.timestamp, "source": "wallet"}
        for wallet, buy in own_buys.items()
    }
    first_buy.update(
        {
            wallet: {key: buy[key] for key in ("signature", "slot", "timestamp")} | {"source": "mint"}
            for wallet, buy in mint_buys.items()
        }
    )

    creation = discovery.get("creation")
    creator = creation["creator"] if creation else None
    launch = LaunchFacts(
        creator=creator,
        creation_slot=creation["slot"] if creation else None,
        creator_first_buy_slot=first_buy.get(creator, {}).get("slot") if creator else None,
        creator_funder=first_funders.get(creator) if creator else None,
    )
    classes: dict[str, WalletClasses] = {}
    for wallet in wallets:
        record = funding.get(wallet)
        behavior = (reports.get(wallet) or {}).get("behavior")
        buy = first_buy.get(wallet)
        facts = WalletFacts(
            wallet=wallet,
            first_buy_slot=buy["slot"] if buy else None,
            first_buy_at=buy["timestamp"] if buy else None,
            first_funder=first_funders.get(wallet),
            funding_known=record is not None and record.history_complete,
            first_activity_at=first_activity.get(wallet),
            history_complete=record is not None and record.history_complete,
            behavior_tags=tuple(behavior.get("tags") or ()) if behavior is not None else None,
        )
        classes[wallet] = wallet_classes(facts, launch, sniper_window_slots=settings.SNIPER_WINDOW_SLOTS)

    links = (
        similarity_links(
            wallets=synced,
            failed_wallets=[{"wallet": w, "error": e} for w, e in failed.items()],
            top_pairs=SIMILARITY_TOP_PAIRS,
        )
        if len(synced) >= SIMILARITY_MIN_WALLETS
        else None
    )
    engine_clusters = [
        SimilarityCluster(int(c["id"]), list(c["wallets"]), list(c["reasons"]))
        for c in (links or {}).get("clusters", [])
    ]
    ties = funding_ties(wallets=synced, first_funders=first_funders, senders=senders)
    groups = holder_clusters(wallets=wallets, similarity_clusters=engine_clusters, ties=ties)
    held_by = {group.wallets: sum(amounts.get(w, 0) for w in group.wallets) for group in groups}
    groups.sort(key=lambda group: (-held_by[group.wallets], group.wallets))
    cluster_shares = [supply_pct(held_by[group.wallets], supply) for group in groups]
    clusters = [
        {
            "id": number,
            "wallets": list(group.wallets),
            "size": len(group.wallets),
            "supply_pct": share,
            "reasons": list(group.reasons),
            "similarity_clusters": list(group.similarity_clusters),
            "funding_links": group.funding_links,
        }
        for number, (group, share) in enumerate(zip(groups, cluster_shares, strict=True), start=1)
    ]
    cluster_of = {wallet: number for number, group in enumerate(groups, start=1) for wallet in group.wallets}

    shares = class_supply_pct(
        amounts=amounts, classes={w: c.classes for w, c in classes.items()}, supply_raw=supply
    )
    pools = {owner for owner, _, _ in discovery["pools"]}
    # Without the creation nobody is known to be creator, bundler, sniper or insider: unknown, not 0.
    known: dict[str, float | None] = {name: shares[name] if creator else None for name in CLASSES}
    risk = risk_level(
        {
            "bundled_supply_pct": known[BUNDLER],
            "insider_supply_pct": known[INSIDER],
            "sniper_supply_pct": known[SNIPER],
            "creator_supply_pct": known[CREATOR],
            "largest_cluster_supply_pct": max(cluster_shares, default=0.0),
            "top10_supply_pct": top_holders_pct(
                (amount for owner, amount in amounts.items() if owner not in pools), supply
            ),
        }
    )

    def row(wallet: str) -> dict[str, Any]:
        report = reports.get(wallet) or {}
        amount = amounts.get(wallet, 0)
        return {
            "wallet": wallet,
            "amount_raw": str(amount),
            "ui_amount": amount / 10**decimals,
            "supply_pct": supply_pct(amount, supply),
            "classes": list(classes[wallet].classes),
            "undetermined": list(classes[wallet].undetermined),
            "cluster": cluster_of.get(wallet),
            "first_buy": first_buy.get(wallet),
            "first_activity_at": first_activity.get(wallet),
            "funding": _funding_report(funding.get(wallet), ignored),
            "pnl": report.get("pnl"),
            "behavior": _behavior_row(report.get("behavior")),
            "synced": wallet not in failed,
            "error": failed.get(wallet),
        }

    holders = [
        {"rank": rank, **row(wallet)} for rank, (wallet, _) in enumerate(discovery["holders"], start=1)
    ]
    early_buyers = [
        {"rank": rank, **row(buy["wallet"]), "bought_raw": str(buy["amount_raw"])}
        for rank, buy in enumerate(discovery["early_buyers"], start=1)
    ]
    return {
        "mint": mint,
        "token": _token_metadata(mint),
        "supply": {"amount_raw": str(supply), "decimals": decimals, "ui_amount": supply / 10**decimals},
        "creation": creation,
        "holders": holders,
        "early_buyers": early_buyers,
        "creator": row(creator) if creator else None,
        "pools": [
            {
                "owner": owner,
                "amount_raw": str(amount),
                "supply_pct": supply_pct(amount, supply),
                "program": prog,
            }
            for owner, amount, prog in discovery["pools"]
        ],
        "class_supply_pct": shares,
        "class_counts": {name: sum(name in c.classes for c in classes.values()) for name in CLASSES},
        "clusters": clusters,
        "risk": {
            **risk.shares,
            "level": risk.level,
            "reasons": list(risk.reasons),
            "unknown": list(risk.unknown),
            "thresholds": {"high": HIGH_THRESHOLDS_PCT, "medium": MEDIUM_THRESHOLDS_PCT},
        },
        "failed_wallets": [{"wallet": wallet, "error": error} for wallet, error in failed.items()],
        "similarity": None
        if links is None
        else {key: links[key] for key in ("pairs", "clusters", "hubs", "global")},
        "coverage": {
            "wallets_analysed": len(wallets),
            "wallets_synced": len(synced),
            "token_accounts": discovery["accounts"],
            "mint_history": discovery["history"],
            "sniper_window_slots": settings.SNIPER_WINDOW_SLOTS,
            "notes": list(discovery["notes"]),
        },
    }


def holders_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """What a `job-completed` event carries for a holders job."""
    return {
        "mint": result["mint"],
        "holders": len(result["holders"]),
        "early_buyers": len(result["early_buyers"]),
        "clusters": len(result["clusters"]),
        "failed_wallets": len(result["failed_wallets"]),
        "risk": result["risk"]["level"],
    }
