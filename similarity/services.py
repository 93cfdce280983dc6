"""Similarity of a set of wallets from their stored swaps and latest balances."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from analysis.services import analysis_wallet_summaries
from core.concurrency import SlotPool, SlotsUnavailableError, slots_held
from core.errors import (
    ApplicationError,
    FatalError,
    InvalidInputError,
    ServiceUnavailableError,
    TooManyRequestsError,
)
from enrichment.services import enrichment_enrich_balances
from similarity.engine import (
    CHANNELS,
    DEFAULT_EXCLUDED_MINTS,
    MIN_WALLETS,
    FundingTransfer,
    SimilarityOptions,
    WalletActivity,
    WalletFunding,
    activity_from_legs,
    compute_similarity,
    normalised_holdings,
)
from wallets.addresses import TooManyAddressesError, validate_addresses
from wallets.selectors import (
    FundingTransferRecord,
    WalletFundingRecord,
    WalletHistory,
    custodial_wallets,
    funders_fanout,
    wallet_latest_balances,
    wallet_swap_legs,
    wallets_funding,
    wallets_history,
    wallets_swap_legs,
)
from wallets.services import wallet_fetch_balances, wallet_sync

SIMILARITY_MIN_WALLETS = MIN_WALLETS
SUMMARY_BATCH_WALLETS = 8
# Bounds of the request options: a day-long co-trade window already means "bought the same week", and the
# pair/evidence caps bound the size of the stored result.
MAX_CO_TRADE_WINDOW_S = 86_400
MAX_TOP_PAIRS = 1_000
MAX_EVIDENCE_TOKENS = 100
MAX_CHANNEL_WEIGHT = 1_000.0  # weights are relative; a cap keeps their sum finite
MAX_CO_TRADE_MIN_EVENTS = 1_000


class NotEnoughWalletsError(ApplicationError, FatalError):
    """Fewer than SIMILARITY_MIN_WALLETS wallets could be synced: there is nothing to compare.

    An API answer (422) and, in a job, a final failure (no retry can sync a wallet that failed for good)."""

    code = "insufficient_data"
    status = 422
    error_type = "insufficient_data"


def similarity_wallets_comparable(*, wallets: Sequence[str], failed: Mapping[str, str]) -> list[str]:
    """The wallets that were synced (in the order given), when there are enough of them to compare.

    Raises NotEnoughWalletsError naming every failed wallet and its reason otherwise: the one home of the
    "at least two wallets" rule for the queued flow and the synchronous path alike.
    """
    synced = [wallet for wallet in wallets if wallet not in failed]
    if len(synced) < SIMILARITY_MIN_WALLETS:
        reasons = [f"{wallet}: {error}" for wallet, error in failed.items()]
        raise NotEnoughWalletsError(
            f"Only {len(synced)} of {len(wallets)} wallets could be synced; similarity needs at least "
            f"{SIMILARITY_MIN_WALLETS}. {'; '.join(reasons)}".strip(),
            fields={"wallets": reasons},
        )
    return synced


def _number(value: object, *, low: float, high: float, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        number = math.inf
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    if number < low or (low_open and number == low) or number > high:
        bounds = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"must be in {bounds}, got {number:g}")
    return number


def _integer(value: object, *, low: int, high: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}, got {value}")
    return value


def _share_or_null(value: object) -> float | None:
    return None if value is None else _number(value, low=0.0, high=1.0, low_open=True)


def _weights(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"must be an object of channel weights, channels: {', '.join(CHANNELS)}")
    unknown = sorted(str(name) for name in value if name not in CHANNELS)
    if unknown:
        raise ValueError(f"unknown channels {', '.join(unknown)}; channels: {', '.join(CHANNELS)}")
    weights = {}
    for name, weight in value.items():
        try:
            weights[str(name)] = _number(weight, low=0.0, high=MAX_CHANNEL_WEIGHT)
        except ValueError as exc:
            raise ValueError(f"{name} {exc}") from exc
    if sum(weights.values()) <= 0:
        raise ValueError("at least one channel needs a weight above 0")
    return weights


# Request options a caller may set, each with its check (which returns the normalised value).
_OPTION_CHECKS: dict[str, Callable[[object], Any]] = {
    "cluster_threshold": lambda v: _number(v, low=0.0, high=1.0, low_open=True),
    "co_trade_window_s": lambda v: _integer(v, low=0, high=MAX_CO_TRADE_WINDOW_S),
    "co_trade_min_events": lambda v: _integer(v, low=1, high=MAX_CO_TRADE_MIN_EVENTS),
    "top_pairs": lambda v: _integer(v, low=0, high=MAX_TOP_PAIRS),
    "evidence_tokens": lambda v: _integer(v, low=0, high=MAX_EVIDENCE_TOKENS),
    "common_token_share": _share_or_null,
    "common_token_weight": lambda v: _number(v, low=0.0, high=1.0),
    "weights": _weights,
}
TUNABLE_OPTIONS = tuple(_OPTION_CHECKS)


def _number_schema(low: float, high: float, *, low_open: bool = False) -> dict[str, Any]:
    # OpenAPI 3.0 (what drf-spectacular writes) spells an open bound as a boolean beside `minimum`.
    schema: dict[str, Any] = {"type": "number", "minimum": low, "maximum": high}
    if low_open:
        schema["exclusiveMinimum"] = True
    return schema


# The options as the API documents them (JSON Schema, OpenAPI 3.0 dialect): the same bounds as the checks
# above, so a request the schema calls valid is accepted and one it calls invalid is refused.
SIMILARITY_OPTIONS_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Overrides of the similarity defaults; unknown keys are refused",
    "properties": {
        "cluster_threshold": _number_schema(0.0, 1.0, low_open=True),
        "co_trade_window_s": {"type": "integer", "minimum": 0, "maximum": MAX_CO_TRADE_WINDOW_S},
        "co_trade_min_events": {"type": "integer", "minimum": 1, "maximum": MAX_CO_TRADE_MIN_EVENTS},
        "top_pairs": {"type": "integer", "minimum": 0, "maximum": MAX_TOP_PAIRS},
        "evidence_tokens": {"type": "integer", "minimum": 0, "maximum": MAX_EVIDENCE_TOKENS},
        "common_token_share": {
            **_number_schema(0.0, 1.0, low_open=True),
            "nullable": True,
            "description": "null turns the down-weighting of common tokens off",
        },
        "common_token_weight": _number_schema(0.0, 1.0),
        "weights": {
            "type": "object",
            "additionalProperties": False,
            "description": "Replaces the default weights as a whole (a channel it does not name weighs 0); "
            "at least one weight above 0",
            "properties": {channel: _number_schema(0.0, MAX_CHANNEL_WEIGHT) for channel in CHANNELS},
            "anyOf": [
                {
                    "required": [channel],
                    "properties": {channel: _number_schema(0.0, MAX_CHANNEL_WEIGHT, low_open=True)},
                }
                for channel in CHANNELS
            ],
        },
    },
}


def similarity_validate_options(raw: object) -> dict[str, Any]:
    """Check a request's similarity ``options``; return them normalised (only the keys given, JSON-safe).

    For the API to call at submit time, so a bad option answers 400 instead of failing the job in the worker.
    Every bad key is reported at once, as ``options.<key>`` in the error's fields. ``weights`` replaces the
    default weights as a whole (a channel it does not name weighs 0); ``common_token_share: null`` turns the
    down-weighting off.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInputError("options must be an object", fields={"options": ["must be an object"]})
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in raw.items():
        check = _OPTION_CHECKS.get(key)
        if check is None:
            errors[f"options.{key}"] = [f"unknown option; allowed: {', '.join(TUNABLE_OPTIONS)}"]
            continue
        try:
            clean[key] = check(value)
        except ValueError as exc:
            errors[f"options.{key}"] = [str(exc)]
    if errors:
        detail = "; ".join(f"{field}: {messages[0]}" for field, messages in errors.items())
        raise InvalidInputError(f"Invalid similarity options: {detail}", fields=errors)
    return clean


def similarity_default_options() -> SimilarityOptions:
    """The engine's options from the settings (excluded mints, down-weighting, cluster threshold, co-buys
    needed, funder fan-out)."""
    return SimilarityOptions(
        excluded_mints=DEFAULT_EXCLUDED_MINTS | frozenset(settings.SIMILARITY_EXTRA_EXCLUDED_MINTS),
        common_token_share=settings.SIMILARITY_COMMON_TOKEN_SHARE or None,
        common_token_weight=settings.SIMILARITY_COMMON_TOKEN_WEIGHT,
        cluster_threshold=settings.SIMILARITY_CLUSTER_THRESHOLD,
        co_trade_min_events=settings.CO_TRADE_MIN_EVENTS,
        funder_max_fanout=settings.FUNDER_MAX_FANOUT,
    )


def similarity_options_from(raw: Mapping[str, Any] | None) -> SimilarityOptions:
    """The settings' defaults overridden by a request's options (validated: InvalidInputError when bad)."""
    return dataclasses.replace(similarity_default_options(), **similarity_validate_options(raw))


def _funding_transfer(record: FundingTransferRecord) -> FundingTransfer:
    return FundingTransfer(record.source, record.lamports, record.timestamp, record.signature)


def _wallet_funding(record: WalletFundingRecord) -> WalletFunding:
    return WalletFunding(
        first=_funding_transfer(record.first) if record.first else None,
        received=tuple(_funding_transfer(transfer) for transfer in record.received),
        history_complete=record.history_complete,
    )


def similarity_ignored_funders(
    *, funding: Mapping[str, WalletFundingRecord], max_fanout: int
) -> dict[str, str]:
    """The senders of these wallets' SOL that must never link wallets, each with the reason: exchange and
    custodial hot wallets (the shipped list, `wallets.custodians`) and any sender that the stored transfers
    show funding more than `max_fanout` distinct wallets."""
    sources = {transfer.source for record in funding.values() for transfer in record.received}
    ignored = {
        address: f"{entry.exchange} hot wallet ({entry.label})"
        for address, entry in custodial_wallets(addresses=sources).items()
    }
    for source, count in funders_fanout(sources=sources - set(ignored)).items():
        if count > max_fanout:
            ignored[source] = f"funded {count} wallets seen by this system (more than {max_fanout})"
    return ignored


def similarity_analyze(
    *,
    wallets: Sequence[str],
    failed_wallets: Sequence[Mapping[str, str]],
    options: Mapping[str, Any],
    fetch_sol_usd: bool = True,
    histories: Mapping[str, WalletHistory] | None = None,
    balances: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Similarity of the wallets from their stored swaps, funding and latest balances, with each wallet's PnL
    and behaviour headline. The queued flow passes `fetch_sol_usd=False`: its body runs on the one-process
    similarity queue, which must not wait on the network, and its sync steps prefetched the SOL/USD history
    (`analysis_wallet_summaries`). A caller that has just read the wallets' stored `histories` or their
    cached `balances` passes them; the others are read here."""
    # Keys the engine does not read are left alone: the API refuses them at submit time
    # (similarity_validate_options) and internal callers may tag a job's params with their own. A bad value
    # of a known option raises InvalidInputError before any work, which fails the job for good.
    engine_options = similarity_options_from({k: v for k, v in options.items() if k in _OPTION_CHECKS})
    # Each wallet's stored history, read once: its swaps, transfers and PnL all come from that stretch,
    # and the result names it (`history`), with `funders.*.history_complete` from the same.
    if histories is None or any(wallet not in histories for wallet in wallets):
        histories = wallets_history(addresses=wallets)
    funding = wallets_funding(addresses=wallets, histories=histories)
    engine_options = dataclasses.replace(
        engine_options,
        ignored_funders=similarity_ignored_funders(
            funding=funding, max_fanout=engine_options.funder_max_fanout
        ),
    )
    latest = {
        wallet: (balances or {}).get(wallet) or wallet_latest_balances(address=wallet) for wallet in wallets
    }
    holdings = normalised_holdings(latest)
    activities: list[WalletActivity] = []
    summaries: dict[str, dict[str, Any]] = {}
    # A few wallets at a time: each one's legs serve its activity and its PnL/behaviour summary, then go,
    # so memory stays bounded by the batch however many large wallets a request names.
    for start in range(0, len(wallets), SUMMARY_BATCH_WALLETS):
        batch = list(wallets[start : start + SUMMARY_BATCH_WALLETS])
        legs = wallets_swap_legs(histories={wallet: histories[wallet] for wallet in batch})
        activities.extend(
            activity_from_legs(
                wallet, legs[wallet], holdings.get(wallet, {}), funding=_wallet_funding(funding[wallet])
            )
            for wallet in batch
        )
        summaries.update(
            analysis_wallet_summaries(
                addresses=batch,
                legs_by_wallet=legs,
                balances_by_wallet=latest,
                histories=histories,
                fetch_sol_usd=fetch_sol_usd,
            )
        )
    result = compute_similarity(activities, options=engine_options, failed_wallets=failed_wallets)
    output: dict[str, Any] = result.to_dict()
    output["balances"] = {wallet: balance for wallet, balance in latest.items() if balance is not None}
    # Each wallet's PnL and behaviour headline (docs/METHODS.md §2, §3).
    output["wallet_summaries"] = summaries
    output["history"] = {wallet: histories[wallet].to_dict() for wallet in wallets}
    return output


def similarity_links(
    *, wallets: Sequence[str], failed_wallets: Sequence[Mapping[str, str]], top_pairs: int = 20
) -> dict[str, Any]:
    """How the wallets are linked (channels with `funding`, clusters, hubs, funders, the best pairs) with the
    settings' defaults, without the per-wallet PnL and behaviour summaries `similarity_analyze` adds and
    without the matrices: for results about a token's holders, which carry their own per-wallet figures.
    Holdings come from the balances stored for each wallet, if any."""
    options = dataclasses.replace(similarity_default_options(), top_pairs=top_pairs)
    funding = wallets_funding(addresses=wallets)
    options = dataclasses.replace(
        options,
        ignored_funders=similarity_ignored_funders(funding=funding, max_fanout=options.funder_max_fanout),
    )
    holdings = normalised_holdings({wallet: wallet_latest_balances(address=wallet) for wallet in wallets})
    activities: list[WalletActivity] = []
    for start in range(0, len(wallets), SUMMARY_BATCH_WALLETS):
        batch = list(wallets[start : start + SUMMARY_BATCH_WALLETS])
        activities.extend(
            activity_from_legs(
                wallet,
                wallet_swap_legs(address=wallet),
                holdings.get(wallet, {}),
                funding=_wallet_funding(funding[wallet]),
            )
            for wallet in batch
        )
    result = compute_similarity(activities, options=options, failed_wallets=failed_wallets)
    return result.to_dict(include_matrices=False)


# A synchronous call's leases are renewed every few seconds while it runs: one ends on its own only when the
# process holding it died, and then frees its slot this long after.
SYNC_ANALYSIS_LEASE_S = 15.0
# What a refused caller is told to wait: about what one call of SYNC_ANALYSIS_MAX_WALLETS wallets takes.
SYNC_ANALYSIS_RETRY_AFTER_S = 5


def _sync_analysis_wallets(wallets: object) -> list[str]:
    try:
        return validate_addresses(
            wallets, min_count=SIMILARITY_MIN_WALLETS, max_count=settings.SYNC_ANALYSIS_MAX_WALLETS
        )
    except TooManyAddressesError as exc:
        raise TooManyAddressesError(
            f"{exc.message} The synchronous path holds a web worker for the whole analysis; submit larger "
            f"sets (up to {settings.MAX_WALLETS_PER_JOB}) as a job: POST /jobs/similarity/analyze.",
            exc.fields,
        ) from None


def _sync_analysis_refused(exc: SlotsUnavailableError, *, user_pool: SlotPool) -> TooManyRequestsError:
    if exc.pool == user_pool:
        return TooManyRequestsError(
            f"You already have {user_pool.limit} synchronous analysis call(s) running; wait for its answer, "
            "or submit a job: POST /jobs/similarity/analyze.",
            code="too_many_concurrent_calls",
            retry_after_s=SYNC_ANALYSIS_RETRY_AFTER_S,
        )
    return TooManyRequestsError(
        f"The server runs at most {exc.pool.limit} synchronous analysis call(s) at once and all are taken; "
        "retry later, or submit a job: POST /jobs/similarity/analyze.",
        code="server_busy",
        retry_after_s=SYNC_ANALYSIS_RETRY_AFTER_S,
    )


def similarity_analyze_now(*, user_id: Any, wallets: object, options: object) -> dict[str, Any]:
    """The synchronous path: sync, fetch balances, compute and enrich, in sequence, in this process.

    It holds the caller's web thread throughout, so everything is settled before any work: the addresses
    (2 to SYNC_ANALYSIS_MAX_WALLETS), the options (unknown keys refused), then a slot among the caller's
    SYNC_ANALYSIS_MAX_CONCURRENT_PER_USER and one among the SYNC_ANALYSIS_MAX_CONCURRENT shared by every
    web process (TooManyRequestsError when either is taken; ServiceUnavailableError without Redis).
    """
    addresses = _sync_analysis_wallets(wallets)
    clean_options = similarity_validate_options(options)
    user_pool = SlotPool(f"sync-analysis:user:{user_id}", settings.SYNC_ANALYSIS_MAX_CONCURRENT_PER_USER)
    pools = [user_pool, SlotPool("sync-analysis:all", settings.SYNC_ANALYSIS_MAX_CONCURRENT)]
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(slots_held(pools, lease_s=SYNC_ANALYSIS_LEASE_S))
        except SlotsUnavailableError as exc:
            raise _sync_analysis_refused(exc, user_pool=user_pool) from None
        except RedisError as exc:
            # Without Redis the bound cannot be kept, and the wallet sync locks could not be taken either.
            raise ServiceUnavailableError("Synchronous analyses need Redis, which does not answer.") from exc
        return _analyze_in_sequence(wallets=addresses, options=clean_options)


def _analyze_in_sequence(*, wallets: Sequence[str], options: Mapping[str, Any]) -> dict[str, Any]:
    failed: dict[str, str] = {}
    for wallet in wallets:
        try:
            wallet_sync(address=wallet)
        except Exception as exc:  # noqa: BLE001 - a wallet's failure is reported with the result
            failed[wallet] = f"{type(exc).__name__}: {exc}"
    synced = similarity_wallets_comparable(wallets=wallets, failed=failed)
    balances = []
    for wallet in synced:
        try:
            balances.append(wallet_fetch_balances(address=wallet))
        except Exception as exc:  # noqa: BLE001 - missing balances only cost the holdings channels
            failed.setdefault(wallet, f"balances: {type(exc).__name__}: {exc}")
    result = similarity_analyze(
        wallets=synced,
        failed_wallets=[{"wallet": wallet, "error": error} for wallet, error in failed.items()],
        options=options,
    )
    try:
        result["enrichment"] = enrichment_enrich_balances(job_id=f"sync-{uuid.uuid4()}", balances=balances)
    except Exception as exc:  # noqa: BLE001 - enrichment is a bonus: its failure is reported, not raised
        result["enrichment"] = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}", "balances": []}
    return result
