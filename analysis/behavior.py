"""Trading-behaviour profile of one wallet from its swap legs (docs/METHODS.md §3). Pure: no Django, no
Redis, no I/O.

The definitions (docs/METHODS.md §3) (tested in tests/unit/analysis/test_behavior.py):

* A *trade* is one swap leg (a token-to-token swap is two trades: a sell and a buy); `transactions` counts
  distinct signatures. Legs are processed in `analysis.ordering.canonical_order`, so input order never
  matters.
* Closed holds come from FIFO buy→sell lots (`analysis.ordering.fifo_match`). Raw quantities of different
  mints are not comparable, so each lot is weighted by its share of its sell leg (lot qty ÷ sell qty):
  within one sell the weighting is by quantity, and every sell leg weighs at most 1 (its matched part).
  `hold_p25_s`/`hold_median_s`/`hold_p75_s` are weighted nearest-rank quantiles (the smallest hold whose
  cumulative weight reaches p of the total) of these closed lots only, `median_closed_hold_s` is the same
  median, and `exit_within_*_share` is the weight with hold <= 60 s / 300 s / 3600 s divided by all matched
  weight, in [0, 1]. None when nothing matched.
* `median_hold_s` covers every position, sold or not: the Kaplan-Meier median over every bought lot, each
  weighted by its share of its buy leg (so every buy leg weighs 1), a sold lot ending at its sale and an
  unsold one censored at the end of the window (`window_end`, by default the last trade). When more than
  half the weight is still open at the longest follow-up, the median is not reached: `median_hold_s` is
  then that longest follow-up and `median_hold_is_lower_bound` is true. `open_hold_share` is the weight
  still open at the end.
* `buy_sell_ratio` = buys ÷ sells (counts; None without sells). `buy_sell_symmetry` = tokens with both a buy
  and a sell ÷ tokens traded. `sol_volume_symmetry` = 1 - |B - S| ÷ (B + S) over valued SOL volumes.
* `reentry_rate` = tokens bought again after a bought position was FIFO-sold down to exactly zero ÷ tokens
  traded. `never_sold_share` = tokens with a buy and no sell ÷ tokens traded.
* `median_position_size_sol` = median over tokens of the SOL spent on valued buys of that token (a position
  is the whole token, not one buy; stablecoin-quoted legs without a SOL value are left out, as behaviour
  takes no SOL/USD price); None when no buy is valued.
* `active_days` = distinct UTC dates; `hour_histogram_utc` = legs per UTC hour; sessions split where two
  consecutive legs are >= 2 h apart, a session's length is last - first leg time (0 for a lone leg).
* `flipper_score` = exit_speed * (1 - never_sold_share), with exit_speed = mean of the three exit-within
  shares (1 when every exit is within 60 s, 2/3 within 5 min, 1/3 within 1 h, 0 later or with no matched
  exit; None only for an empty wallet). The second factor keeps a wallet that flips a few tokens but holds
  most of them from scoring high.
* `speed_class` by `median_hold_s`: < 3 min ultra_flipper, < 10 min flipper, < 1 h fast, < 24 h
  day_trader, < 7 d swing, else position. A lower bound decides only when it already reaches 7 d
  (position); a shorter one says only "at least", so the class is None.
* Tags follow the class, so they never contradict: `flipper` (speed_class ultra_flipper/flipper), `holder`
  (speed_class swing/position, or no class and never_sold_share >= 0.6), `bot` (trades per active day
  >= 50), `whale` (median position >= whale_position_sol).
  No `sniper` tag: sniping means buying within seconds of a token's launch, and swap legs carry no launch
  time, so any proxy (e.g. fast exits) would just duplicate `flipper` under a stronger name.
* Below 5 trades there is no label: `speed_class` None and `tags` empty.
* `confidence` = 0.6·t/(t+20) + 0.4·e/(e+10), t trades and e sell legs with a matched lot: 0 with no data,
  about 0.5 at 20 trades / 10 exits, -> 1 with many; below 5 trades it is at most 0.2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from analysis.ordering import FifoMatches, canonical_order, fifo_match
from analysis.pnl import dataclass_to_dict
from wallets.swaps import LAMPORTS_PER_SOL, SwapLeg

SpeedClass = Literal["ultra_flipper", "flipper", "fast", "day_trader", "swing", "position"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MIN_TRADES_FOR_LABEL = 5
SESSION_GAP_S = 2 * 3600
BOT_TRADES_PER_ACTIVE_DAY = 50.0
HOLDER_NEVER_SOLD_SHARE = 0.6
EXIT_WINDOWS_S = (60, 300, 3600)
SPEED_LIMITS_S: tuple[tuple[int, SpeedClass], ...] = (
    (180, "ultra_flipper"),
    (600, "flipper"),
    (3600, "fast"),
    (86_400, "day_trader"),
    (7 * 86_400, "swing"),
)
SECONDS_PER_DAY = 86_400
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True, slots=True)
class BehaviorProfile:
    trades: int
    buys: int
    sells: int
    transactions: int
    tokens_traded: int
    active_days: int
    trades_per_active_day: float | None
    buy_sell_ratio: float | None
    buy_sell_symmetry: float | None
    sol_volume_symmetry: float | None
    matched_exits: int
    hold_p25_s: float | None
    hold_median_s: float | None
    hold_p75_s: float | None
    median_hold_s: float | None
    median_hold_is_lower_bound: bool
    median_closed_hold_s: float | None
    open_hold_share: float | None
    exit_within_60s_share: float | None
    exit_within_5m_share: float | None
    exit_within_1h_share: float | None
    reentry_rate: float | None
    never_sold_share: float | None
    median_position_size_sol: float | None
    hour_histogram_utc: tuple[int, ...]
    session_count: int
    session_mean_length_s: float | None
    flipper_score: float | None
    speed_class: SpeedClass | None
    tags: tuple[str, ...]
    confidence: float
    first_trade_at: int | None
    last_trade_at: int | None

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_dict(self)


@dataclass(frozen=True, slots=True)
class _HoldStats:
    p25_s: float | None = None
    median_s: float | None = None
    p75_s: float | None = None
    within_shares: tuple[float | None, float | None, float | None] = (None, None, None)


@dataclass(frozen=True, slots=True)
class _TokenStats:
    tokens: int
    buy_sell_symmetry: float | None
    never_sold_share: float | None
    median_position_size_sol: float | None
    sol_volume_symmetry: float | None


def weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float:
    """Smallest value whose cumulative weight reaches q of the total (inverted CDF, no interpolation)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    # Relative tolerance so that e.g. three lots of 1/3 still reach exactly half at the expected index.
    target = q * cumulative[-1] * (1 - 1e-12)
    index = int(np.searchsorted(cumulative, target, side="left"))
    return float(values[order][min(index, values.size - 1)])


def _hold_stats(matches: FifoMatches) -> _HoldStats:
    if not matches.qty_raw:
        return _HoldStats()
    holds = np.asarray(matches.sell_ts, dtype=np.float64) - np.asarray(matches.buy_ts, dtype=np.float64)
    weights = np.asarray(matches.sell_fraction, dtype=np.float64)
    total = float(weights.sum())
    shares = tuple(min(float(weights[holds <= limit].sum()) / total, 1.0) for limit in EXIT_WINDOWS_S)
    return _HoldStats(
        p25_s=weighted_quantile(holds, weights, 0.25),
        median_s=weighted_quantile(holds, weights, 0.5),
        p75_s=weighted_quantile(holds, weights, 0.75),
        within_shares=(shares[0], shares[1], shares[2]),
    )


@dataclass(frozen=True, slots=True)
class _KaplanMeier:
    median_s: float | None = None
    lower_bound: bool = False
    open_share: float | None = None


def kaplan_meier_median(
    durations: FloatArray, weights: FloatArray, ended: npt.NDArray[np.bool_]
) -> _KaplanMeier:
    """Weighted Kaplan-Meier median of holding times; `ended` False marks a censored (still open) lot.

    At each distinct duration t with ended weight d and weight still at risk n (duration >= t, censored
    lots included at their own time), survival S *= 1 - d/n; the median is the first t with S <= 1/2.
    """
    total = float(weights.sum())
    if durations.size == 0 or total <= 0:
        return _KaplanMeier()
    open_share = float(weights[~ended].sum()) / total
    order = np.argsort(durations, kind="stable")
    times, w, events = durations[order], weights[order], ended[order]
    # `times` is sorted: the first index of each distinct duration, without np.unique's second sort.
    first = np.flatnonzero(np.concatenate(([True], times[1:] != times[:-1])))
    unique = times[first]
    at_risk = total - np.concatenate(([0.0], np.cumsum(w)[:-1]))[first]
    ended_weight = np.add.reduceat(np.where(events, w, 0.0), first)
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = np.where(at_risk > 0, 1.0 - ended_weight / at_risk, 1.0)
    survival = np.cumprod(factors)
    # Relative tolerance: halves built from thirds must still reach 1/2 exactly where expected.
    reached = np.flatnonzero(survival <= 0.5 * (1 + 1e-12))
    if reached.size:
        return _KaplanMeier(float(unique[reached[0]]), False, open_share)
    return _KaplanMeier(float(unique[-1]), True, open_share)


def _all_holds(matches: FifoMatches, window_end: int) -> _KaplanMeier:
    durations = np.concatenate(
        (
            np.asarray(matches.sell_ts, dtype=np.float64) - np.asarray(matches.buy_ts, dtype=np.float64),
            window_end - np.asarray(matches.open_buy_ts, dtype=np.float64),
        )
    )
    weights = np.concatenate(
        (
            np.asarray(matches.buy_fraction, dtype=np.float64),
            np.asarray(matches.open_buy_fraction, dtype=np.float64),
        )
    )
    ended = np.concatenate(
        (np.ones(len(matches.buy_ts), dtype=bool), np.zeros(len(matches.open_buy_ts), dtype=bool))
    )
    return kaplan_meier_median(np.maximum(durations, 0.0), weights, ended)


def _token_stats(ordered: Sequence[SwapLeg]) -> _TokenStats:
    codes: dict[str, int] = {}
    mint_idx = np.fromiter((codes.setdefault(leg.mint, len(codes)) for leg in ordered), dtype=np.int64)
    is_buy = np.fromiter((leg.direction == "buy" for leg in ordered), dtype=bool)
    lamports = np.fromiter(
        (np.nan if leg.sol_value_lamports is None else leg.sol_value_lamports for leg in ordered),
        dtype=np.float64,
    )
    valued = ~np.isnan(lamports)
    sol = np.where(valued, lamports, 0.0) / LAMPORTS_PER_SOL
    n = len(codes)
    buys = np.bincount(mint_idx[is_buy], minlength=n)
    sells = np.bincount(mint_idx[~is_buy], minlength=n)
    valued_buys = np.bincount(mint_idx[is_buy & valued], minlength=n)
    spent = np.bincount(mint_idx[is_buy], weights=sol[is_buy], minlength=n)
    buy_volume = float(sol[is_buy].sum())
    sell_volume = float(sol[~is_buy].sum())
    volume = buy_volume + sell_volume
    return _TokenStats(
        tokens=n,
        buy_sell_symmetry=float(np.count_nonzero((buys > 0) & (sells > 0))) / n,
        never_sold_share=float(np.count_nonzero((buys > 0) & (sells == 0))) / n,
        median_position_size_sol=float(np.median(spent[valued_buys > 0])) if valued_buys.any() else None,
        sol_volume_symmetry=1 - abs(buy_volume - sell_volume) / volume if volume > 0 else None,
    )


def _sessions(ts: IntArray) -> tuple[int, float]:
    """(count, mean length in s) of sessions; `ts` is sorted and non-empty."""
    breaks = np.flatnonzero(np.diff(ts) >= SESSION_GAP_S)
    starts = ts[np.concatenate(([0], breaks + 1))]
    ends = ts[np.concatenate((breaks, [ts.size - 1]))]
    return int(starts.size), float((ends - starts).mean())


def speed_class_for(median_hold_s: float) -> SpeedClass:
    for limit, label in SPEED_LIMITS_S:
        if median_hold_s < limit:
            return label
    return "position"


def _speed_class(holds: _KaplanMeier) -> SpeedClass | None:
    if holds.median_s is None:
        return None
    speed = speed_class_for(holds.median_s)
    return speed if not holds.lower_bound or speed == "position" else None


def _flipper_score(holds: _HoldStats, never_sold_share: float) -> float:
    shares = [s for s in holds.within_shares if s is not None]
    exit_speed = sum(shares) / len(EXIT_WINDOWS_S) if shares else 0.0
    return exit_speed * (1 - never_sold_share)


def _tags(
    speed: SpeedClass | None,
    trades_per_day: float,
    never_sold_share: float,
    median_position_sol: float | None,
    whale_position_sol: float,
) -> tuple[str, ...]:
    tags: list[str] = []
    if trades_per_day >= BOT_TRADES_PER_ACTIVE_DAY:
        tags.append("bot")
    if speed in ("ultra_flipper", "flipper"):
        tags.append("flipper")
    if speed in ("swing", "position") or (speed is None and never_sold_share >= HOLDER_NEVER_SOLD_SHARE):
        tags.append("holder")
    if median_position_sol is not None and median_position_sol >= whale_position_sol:
        tags.append("whale")
    return tuple(sorted(tags))


def confidence_for(trades: int, matched_exits: int) -> float:
    return 0.6 * trades / (trades + 20) + 0.4 * matched_exits / (matched_exits + 10)


def _empty_profile() -> BehaviorProfile:
    return BehaviorProfile(
        trades=0,
        buys=0,
        sells=0,
        transactions=0,
        tokens_traded=0,
        active_days=0,
        trades_per_active_day=None,
        buy_sell_ratio=None,
        buy_sell_symmetry=None,
        sol_volume_symmetry=None,
        matched_exits=0,
        hold_p25_s=None,
        hold_median_s=None,
        hold_p75_s=None,
        median_hold_s=None,
        median_hold_is_lower_bound=False,
        median_closed_hold_s=None,
        open_hold_share=None,
        exit_within_60s_share=None,
        exit_within_5m_share=None,
        exit_within_1h_share=None,
        reentry_rate=None,
        never_sold_share=None,
        median_position_size_sol=None,
        hour_histogram_utc=(0,) * 24,
        session_count=0,
        session_mean_length_s=None,
        flipper_score=None,
        speed_class=None,
        tags=(),
        confidence=0.0,
        first_trade_at=None,
        last_trade_at=None,
    )


def compute_behavior(
    legs: Iterable[SwapLeg], *, whale_position_sol: float = 10.0, window_end: int | None = None
) -> BehaviorProfile:
    """Behaviour metrics; see the module docstring for every definition. `window_end`: when open positions
    are censored (the time the history is known up to); never before the last trade."""
    ordered = canonical_order(legs)
    if not ordered:
        return _empty_profile()
    trades = len(ordered)
    ts = np.fromiter((leg.timestamp for leg in ordered), dtype=np.int64, count=trades)
    buys = sum(1 for leg in ordered if leg.direction == "buy")
    sells = trades - buys
    active_days = int(np.unique(ts // SECONDS_PER_DAY).size)
    trades_per_day = trades / active_days
    matches = fifo_match(ordered)
    holds = _hold_stats(matches)
    all_holds = _all_holds(matches, max(int(ts[-1]), window_end or 0))
    tokens = _token_stats(ordered)
    never_sold = tokens.never_sold_share if tokens.never_sold_share is not None else 0.0
    session_count, session_mean = _sessions(ts)
    labelled = trades >= MIN_TRADES_FOR_LABEL
    speed = _speed_class(all_holds) if labelled else None
    hours = np.bincount((ts % SECONDS_PER_DAY) // SECONDS_PER_HOUR, minlength=24)
    return BehaviorProfile(
        trades=trades,
        buys=buys,
        sells=sells,
        transactions=len({leg.signature for leg in ordered}),
        tokens_traded=tokens.tokens,
        active_days=active_days,
        trades_per_active_day=trades_per_day,
        buy_sell_ratio=buys / sells if sells else None,
        buy_sell_symmetry=tokens.buy_sell_symmetry,
        sol_volume_symmetry=tokens.sol_volume_symmetry,
        matched_exits=matches.matched_sells,
        hold_p25_s=holds.p25_s,
        hold_median_s=holds.median_s,
        hold_p75_s=holds.p75_s,
        median_hold_s=all_holds.median_s,
        median_hold_is_lower_bound=all_holds.lower_bound,
        median_closed_hold_s=holds.median_s,
        open_hold_share=all_holds.open_share,
        exit_within_60s_share=holds.within_shares[0],
        exit_within_5m_share=holds.within_shares[1],
        exit_within_1h_share=holds.within_shares[2],
        reentry_rate=len(matches.reentered_mints) / tokens.tokens,
        never_sold_share=tokens.never_sold_share,
        median_position_size_sol=tokens.median_position_size_sol,
        hour_histogram_utc=tuple(int(h) for h in hours),
        session_count=session_count,
        session_mean_length_s=session_mean,
        flipper_score=_flipper_score(holds, never_sold),
        speed_class=speed,
        tags=(
            _tags(speed, trades_per_day, never_sold, tokens.median_position_size_sol, whale_position_sol)
            if labelled
            else ()
        ),
        confidence=confidence_for(trades, matches.matched_sells),
        first_trade_at=int(ts[0]),
        last_trade_at=int(ts[-1]),
    )
