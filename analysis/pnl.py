"""Per-token and per-wallet PnL from swap legs and chain records. Pure: no Django, no Redis, no I/O.

Method: average cost, in SOL, with a parallel book in USD at trade time. Per mint, in the order of
`analysis.ordering` (block order within a slot):

    buy  q for cost c:      C += c;  Q += q
    sell q for proceeds p:  basis = q·C/Q;  realized += p - basis;  C -= basis;  Q -= q

Q is an exact raw integer; C, proceeds and PnL are floats. docs/METHODS.md states every definition for
readers; the conventions where the method leaves room (all tested in tests/unit/analysis/):

* Valuation. A leg's SOL value is `sol_value_lamports / 1e9`. A stablecoin-quoted leg's SOL value is its
  USD amount over SOL/USD at the leg's minute (`sol_usd_by_minute`), else the SOL hop of its route when the
  extractor found one; otherwise the leg is *unvalued*: counted in buy/sell counts, quantities, fees and
  `unvalued_legs`, but kept out of cost, proceeds and realized PnL. Today's SOL price never values a past leg.
* USD at trade time. A leg's USD value is its stablecoin amount, or its SOL value x SOL/USD at its minute.
  The USD book runs beside the SOL book (`realized_pnl_usd` by average cost in USD); `unrealized_pnl_usd =
  Q·mark_usd - C_usd` with `mark_usd` the mark in SOL x today's SOL/USD. A token whose legs lack a SOL/USD
  price has null USD figures, and so has the wallet; `usd_unavailable_reason` says why.
* Unknown basis. Three sources of tokens have no known cost: `transfers_in` (no timestamp, so assumed to
  have arrived before the first trade), unvalued buys, and history before the window / unseen transfers.
  A sell draws first from the known-basis position Q, then from the unknown-basis pool, then from nothing
  (Q never goes negative). Only the part drawn from Q is realized: `realized += p·m/q - m·C/Q` with m the
  known-basis part; the rest of the proceeds is `unknown_basis_proceeds_sol`. An unvalued sell still
  removes its share of Q and C (the basis leaves the book without being realized).
  `unknown_basis_qty` = quantity sold without a known basis + unknown-basis quantity still held.
* Holdings. When `holdings_raw[mint]` (current on-chain balance H) is given it replaces the reconstructed
  balance: the known-basis position is capped at H (C scaled by H/Q: tokens that left by transfer take
  their basis with them, unrealized), and any excess H - Q is held with unknown basis.
* Marks. Every token still held is marked. `prices_sol` holds the usable prices (the caller applies the
  liquidity rule); a finite positive price makes the token `priced` with that mark, anything else
  `unpriced` with a mark of 0: `unrealized = Q·mark - C` is then -C, the cost still held. Closed tokens
  have no price status. Wallet totals include every token; `tokens_unpriced` and `unpriced_open_cost_sol`
  show how much of the result is such a mark.
* Fees. Per token, `fees_sol` is the network fee of its legs (the extractor puts it on the first leg of a
  transaction). Wallet `fees_sol` is every fee the wallet paid as fee payer in the window, from the chain
  records: swaps, failed transactions (`failed_tx_count`, `failed_tx_fees_sol`) and everything else
  (`other_fees_sol`); without records, the legs' fees. Realized and total PnL exclude fees
  (docs/METHODS.md §2); `net_pnl_sol` = total - fees.
* Status. `closed` when nothing is held (known + unknown basis); `dust` when something is held, the token
  is priced and its value is below `dust_threshold_sol`; otherwise `open`.
* Hold time. FIFO-matched buy→sell lots (any buy, valued or not; transfers in have no time so never
  match), quantity-weighted: Σ q·(t_sell - t_buy) / Σ q. None when nothing matched.
* Wallet. `win_rate` = tokens with `total_pnl_sol > 0` ÷ tokens with a known basis (`invested_sol > 0`),
  open or closed. `roi` = total ÷ invested (None when nothing valued was bought). `profit_factor` = Σ
  positive per-token realized ÷ |Σ negative per-token realized|, None without a loss. Median and 10 %-trimmed
  mean (int(0.1·n) cut from each end, like scipy.stats.trim_mean) are over per-token `total_pnl_sol`.
  `swaps_parsed` counts distinct signatures, `legs_parsed` legs.
* Periods. With `as_of`, `periods["7d"]` and `["30d"]` cover (as_of - days, as_of]: realized PnL of the
  sells in the period, trades (legs), tokens whose position was closed (held quantity back to zero) by a sell
  in the period, and their win rate: tokens whose closed round trips realized more than zero ÷ tokens
  closed with a known basis.
* Window. When given, `(start, end)` unix seconds inclusive: legs and records outside are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from analysis.ordering import canonical_order, fifo_match, finite_or_none
from analysis.reconciliation import Reconciliation, reconcile
from wallets.swaps import LAMPORTS_PER_SOL, STABLE_MINTS, ChainRecord, SwapLeg

TokenStatus = Literal["open", "closed", "dust"]
PriceStatus = Literal["priced", "unpriced"]

# 2: marks for every held token, USD at trade time, chain-record fees, reconciliation, periods. Results
# stored before (no `result_version`) lack those fields; readers treat them as absent.
RESULT_VERSION = 2
TRIM_PROPORTION = 0.1
PERIODS_DAYS = {"7d": 7, "30d": 30}
SECONDS_PER_DAY = 86_400
MAX_LIQUIDITY_LISTED = 50


def minute_of(timestamp: int) -> int:
    """The start of the UTC minute holding `timestamp`: the key of SOL/USD candles."""
    return timestamp - timestamp % 60


# ---------------------------------------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {key: _json_value(v) for key, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def dataclass_to_dict(obj: Any) -> dict[str, Any]:
    """JSON-safe dict of a (slotted) dataclass: tuples become lists, non-finite floats become None."""
    return {f.name: _json_value(getattr(obj, f.name)) for f in fields(obj)}


@dataclass(frozen=True, slots=True)
class TokenPnl:
    mint: str
    decimals: int
    status: TokenStatus
    price_status: PriceStatus | None  # None when nothing is held
    mark_price_sol: float | None  # the mark in SOL per UI token: the usable price, 0.0 when unpriced
    unpriced_reason: str | None  # why a held token has no usable price
    buy_count: int
    sell_count: int
    bought_qty: float
    sold_qty: float
    bought_qty_raw: int
    sold_qty_raw: int
    realized_qty_raw: int  # sold quantity with known basis and valued proceeds (what realized PnL covers)
    unknown_basis_qty: float
    unknown_basis_qty_raw: int
    remaining_qty: float
    remaining_qty_raw: int  # known + unknown basis still held (or holdings_raw when given)
    remaining_cost_sol: float  # C of the (capped) known-basis position
    invested_sol: float
    proceeds_sol: float
    unknown_basis_proceeds_sol: float
    realized_pnl_sol: float
    unrealized_pnl_sol: float
    total_pnl_sol: float
    net_pnl_sol: float
    roi: float | None
    fees_sol: float
    first_trade_at: int
    last_trade_at: int
    hold_time_s: float | None
    unvalued_legs: int
    invested_usd: float | None
    proceeds_usd: float | None
    realized_pnl_usd: float | None
    unrealized_pnl_usd: float | None
    total_pnl_usd: float | None
    fees_usd: float | None

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_dict(self)


@dataclass(frozen=True, slots=True)
class PeriodPnl:
    start: int  # exclusive, unix seconds
    end: int  # inclusive
    realized_pnl_sol: float
    trades: int
    tokens_closed: int
    win_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_dict(self)


@dataclass(frozen=True, slots=True)
class LiquiditySummary:
    count: int
    adds: int
    removes: int
    operations: tuple[dict[str, Any], ...]  # the newest MAX_LIQUIDITY_LISTED, newest first

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_dict(self)


@dataclass(frozen=True, slots=True)
class WalletPnl:
    result_version: int
    tokens: tuple[TokenPnl, ...]  # sorted by mint
    tokens_traded: int
    tokens_open: int
    tokens_closed: int
    tokens_dust: int
    tokens_unpriced: int  # held tokens marked at zero (no usable price)
    unpriced_open_cost_sol: float  # the known cost still held in those tokens
    swaps_parsed: int
    legs_parsed: int
    swaps_unparsed: int
    unvalued_legs: int
    buy_count: int
    sell_count: int
    invested_sol: float
    proceeds_sol: float
    unknown_basis_proceeds_sol: float
    realized_pnl_sol: float
    unrealized_pnl_sol: float
    total_pnl_sol: float
    net_pnl_sol: float
    roi: float | None
    fees_sol: float
    swap_fees_sol: float
    failed_tx_count: int | None  # None without chain records (results stored before they were kept)
    failed_tx_fees_sol: float | None
    other_fees_sol: float | None
    tokens_with_known_basis: int
    win_rate: float | None
    profit_factor: float | None
    median_token_pnl_sol: float | None
    trimmed_mean_token_pnl_sol: float | None
    window: tuple[int, int] | None
    sol_price_usd: float | None  # today's SOL/USD: marks only, never past legs
    usd_unavailable_reason: str | None
    invested_usd: float | None
    proceeds_usd: float | None
    realized_pnl_usd: float | None
    unrealized_pnl_usd: float | None
    total_pnl_usd: float | None
    net_pnl_usd: float | None
    fees_usd: float | None
    periods: dict[str, PeriodPnl] | None
    reconciliation: Reconciliation | None
    liquidity_operations: LiquiditySummary | None

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_dict(self)


# ---------------------------------------------------------------------------------------------------------
# Average-cost book
# ---------------------------------------------------------------------------------------------------------


class _Book:
    """Mutable per-mint accumulator for the average-cost walk, in SOL and in USD at trade time."""

    __slots__ = (
        "bought_raw",
        "buy_count",
        "closures",
        "cost",
        "cost_usd",
        "cycle_known",
        "cycle_realized",
        "decimals",
        "fees_lamports",
        "fees_usd",
        "first_ts",
        "invested",
        "invested_usd",
        "last_ts",
        "proceeds",
        "proceeds_usd",
        "qty",
        "realized",
        "realized_qty",
        "realized_usd",
        "sell_count",
        "sells",
        "sold_raw",
        "track",
        "unknown_held",
        "unknown_proceeds",
        "unknown_sold",
        "unvalued_legs",
        "usd_complete",
    )

    def __init__(self, decimals: int, first_ts: int, unknown_held: int, *, track: bool) -> None:
        self.track = track  # keep the per-sell history periods need
        self.decimals = decimals
        self.first_ts = first_ts
        self.last_ts = first_ts
        self.qty = 0  # Q: known-basis raw quantity
        self.cost = 0.0  # C: SOL cost of Q
        self.cost_usd = 0.0  # C in USD at the buys' minutes
        self.unknown_held = unknown_held  # unknown-basis raw quantity held (transfers in, unvalued buys)
        self.unknown_sold = 0  # raw quantity sold without a known basis
        self.realized = 0.0
        self.realized_usd = 0.0
        self.realized_qty = 0
        self.invested = 0.0
        self.invested_usd = 0.0
        self.proceeds = 0.0
        self.proceeds_usd = 0.0
        self.unknown_proceeds = 0.0
        self.bought_raw = 0
        self.sold_raw = 0
        self.buy_count = 0
        self.sell_count = 0
        self.fees_lamports = 0
        self.fees_usd: float | None = 0.0
        self.unvalued_legs = 0
        self.usd_complete = True
        self.sells: list[tuple[int, float]] = []  # (timestamp, realized by the sell)
        self.closures: list[tuple[int, float, bool]] = []  # (timestamp, round trip's realized, basis known)
        self.cycle_realized = 0.0
        self.cycle_known = False

    def buy(self, q: int, value: float | None, value_usd: float | None) -> None:
        self.buy_count += 1
        self.bought_raw += q
        if value is None:
            self.unknown_held += q
            return
        self.cost += value
        self.qty += q
        self.invested += value
        if value_usd is None:
            self.usd_complete = False
        else:
            self.cost_usd += value_usd
            self.invested_usd += value_usd

    def sell(self, ts: int, q: int, value: float | None, value_usd: float | None) -> None:
        self.sell_count += 1
        self.sold_raw += q
        known = min(q, self.qty)
        rest = q - known
        self.unknown_held -= min(rest, self.unknown_held)
        self.unknown_sold += rest
        basis = basis_usd = 0.0
        if known:
            full = known == self.qty
            # Exact zero on a full exit so float residue never leaves cost on an empty position, and a floor
            # at zero because for Q near 2**63 the rounded basis can exceed C by an ulp.
            basis = self.cost if full else self.cost * known / self.qty
            self.cost = 0.0 if full else max(self.cost - basis, 0.0)
            if self.usd_complete:  # an incomplete USD book is never reported: no need to keep it
                basis_usd = self.cost_usd if full else self.cost_usd * known / self.qty
                self.cost_usd = 0.0 if full else max(self.cost_usd - basis_usd, 0.0)
            self.qty -= known
        realized = 0.0
        if value is not None:
            self.proceeds += value
            share = 1.0 if known == q else known / q
            known_proceeds = value * share
            self.unknown_proceeds += value - known_proceeds
            if value_usd is None:
                self.usd_complete = False
            else:
                self.proceeds_usd += value_usd
            if known:
                realized = known_proceeds - basis
                self.realized += realized
                self.realized_qty += known
                self.cycle_known = True
                if value_usd is not None:
                    self.realized_usd += value_usd * share - basis_usd
        if not self.track:
            return
        self.sells.append((ts, realized))
        self.cycle_realized += realized
        if self.qty == 0 and self.unknown_held == 0:
            self.closures.append((ts, self.cycle_realized, self.cycle_known))
            self.cycle_realized = 0.0
            self.cycle_known = False


class _Rates:
    """SOL/USD at a leg's minute; remembers whether any valued leg lacked one."""

    __slots__ = ("by_minute", "missing")

    def __init__(self, by_minute: Mapping[int, float] | None) -> None:
        self.by_minute = by_minute
        self.missing = 0

    def at(self, timestamp: int) -> float | None:
        if self.by_minute is None:
            return None
        rate = self.by_minute.get(timestamp - timestamp % 60)
        return rate if rate is not None and rate > 0 and math.isfinite(rate) else None


def _run_books(
    ordered: Sequence[SwapLeg], rates: _Rates, transfers_in: Mapping[str, int], *, track_periods: bool
) -> dict[str, _Book]:
    """The average-cost walk. A leg's SOL value is its SOL quote, or for a stablecoin-quoted leg its USD
    amount over SOL/USD at its minute (else its route's SOL hop); its USD value is the stablecoin amount, or
    the SOL value at the minute's SOL/USD (see the module doc)."""
    books: dict[str, _Book] = {}
    by_minute = rates.by_minute
    for leg in ordered:
        book = books.get(leg.mint)
        if book is None:
            initial_unknown = max(int(transfers_in.get(leg.mint, 0)), 0)
            book = books[leg.mint] = _Book(
                leg.token_decimals, leg.timestamp, initial_unknown, track=track_periods
            )
        timestamp = leg.timestamp
        book.last_ts = timestamp
        rate = None if by_minute is None else rates.at(timestamp)
        if leg.fee_lamports:
            book.fees_lamports += leg.fee_lamports
            if book.fees_usd is not None:
                book.fees_usd = (
                    None if rate is None else book.fees_usd + leg.fee_lamports / LAMPORTS_PER_SOL * rate
                )
        usd = finite_or_none(leg.usd_value) if leg.quote_mint in STABLE_MINTS else None
        lamports = leg.sol_value_lamports
        value: float | None
        value_usd: float | None
        if usd is not None:
            value_usd = usd
            if rate is not None:
                value = usd / rate
            else:
                value = None if lamports is None else lamports / LAMPORTS_PER_SOL
                rates.missing += 1
                book.usd_complete = False
        elif lamports is None:
            value = value_usd = None
        else:
            value = lamports / LAMPORTS_PER_SOL
            if rate is None:
                value_usd = None
                rates.missing += 1
                book.usd_complete = False
            else:
                value_usd = value * rate
        if value is None:
            book.unvalued_legs += 1
        if leg.direction == "buy":
            book.buy(leg.token_amount_raw, value, value_usd)
        else:
            book.sell(timestamp, leg.token_amount_raw, value, value_usd)
    return books


def _hold_times(ordered: Sequence[SwapLeg]) -> dict[str, float]:
    """Quantity-weighted FIFO hold per mint, summed in exact integers before the one division."""
    matches = fifo_match(ordered)
    weighted: dict[str, list[int]] = {}
    for mint, buy_ts, sell_ts, qty in zip(
        matches.mint, matches.buy_ts, matches.sell_ts, matches.qty_raw, strict=True
    ):
        acc = weighted.setdefault(mint, [0, 0])
        acc[0] += qty * (sell_ts - buy_ts)
        acc[1] += qty
    return {mint: acc[0] / acc[1] for mint, acc in weighted.items()}


# ---------------------------------------------------------------------------------------------------------
# Per-token finalisation
# ---------------------------------------------------------------------------------------------------------


def usable_mark(value: float | None) -> float | None:
    """A price that can mark a position: finite and positive, else None (the position is unpriced)."""
    price = finite_or_none(value)
    return price if price is not None and price > 0 else None


def _held_position(book: _Book, holding: int | None) -> tuple[int, float, float, int]:
    """(known-basis qty, its cost in SOL, in USD, unknown-basis qty) held now, capped by the on-chain
    balance if known."""
    if holding is None:
        return book.qty, book.cost, book.cost_usd, book.unknown_held
    held = max(int(holding), 0)
    known = min(book.qty, held)
    if known == book.qty:
        return known, book.cost, book.cost_usd, held - known
    return known, book.cost * known / book.qty, book.cost_usd * known / book.qty, held - known


def _status(remaining_raw: int, remaining_ui: float, price: float | None, dust_sol: float) -> TokenStatus:
    if remaining_raw == 0:
        return "closed"
    if price is not None and remaining_ui * price < dust_sol:
        return "dust"
    return "open"


def _sum_or_none(*values: float | None) -> float | None:
    return None if any(value is None for value in values) else math.fsum(v for v in values if v is not None)


def _token_pnl(
    mint: str,
    book: _Book,
    *,
    price: float | None,
    unpriced_reason: str | None,
    holding: int | None,
    hold_time_s: float | None,
    sol_usd_now: float | None,
    fees_usd: float | None,
    dust_threshold_sol: float,
) -> TokenPnl:
    scale: int = 10**book.decimals
    known_qty, known_cost, known_cost_usd, unknown_held = _held_position(book, holding)
    remaining_raw = known_qty + unknown_held
    held = remaining_raw > 0
    mark = (price if price is not None else 0.0) if held else None
    unrealized = 0.0 if known_qty == 0 else known_qty / scale * (mark or 0.0) - known_cost
    unrealized_usd: float | None
    if known_qty == 0:
        unrealized_usd = 0.0
    elif price is None:
        unrealized_usd = -known_cost_usd
    else:
        unrealized_usd = (
            None if sol_usd_now is None else known_qty / scale * price * sol_usd_now - known_cost_usd
        )
    total = book.realized + unrealized
    fees_sol = book.fees_lamports / LAMPORTS_PER_SOL
    unknown_raw = book.unknown_sold + unknown_held
    usd = book.usd_complete
    realized_usd = book.realized_usd if usd else None
    unrealized_usd = unrealized_usd if usd else None
    return TokenPnl(
        mint=mint,
        decimals=book.decimals,
        status=_status(remaining_raw, remaining_raw / scale, price, dust_threshold_sol),
        price_status=None if not held else ("priced" if price is not None else "unpriced"),
        mark_price_sol=mark,
        unpriced_reason=(unpriced_reason or "no usable price") if held and price is None else None,
        buy_count=book.buy_count,
        sell_count=book.sell_count,
        bought_qty=book.bought_raw / scale,
        sold_qty=book.sold_raw / scale,
        bought_qty_raw=book.bought_raw,
        sold_qty_raw=book.sold_raw,
        realized_qty_raw=book.realized_qty,
        unknown_basis_qty=unknown_raw / scale,
        unknown_basis_qty_raw=unknown_raw,
        remaining_qty=remaining_raw / scale,
        remaining_qty_raw=remaining_raw,
        remaining_cost_sol=known_cost,
        invested_sol=book.invested,
        proceeds_sol=book.proceeds,
        unknown_basis_proceeds_sol=book.unknown_proceeds,
        realized_pnl_sol=book.realized,
        unrealized_pnl_sol=unrealized,
        total_pnl_sol=total,
        net_pnl_sol=total - fees_sol,
        roi=total / book.invested if book.invested > 0 else None,
        fees_sol=fees_sol,
        first_trade_at=book.first_ts,
        last_trade_at=book.last_ts,
        hold_time_s=hold_time_s,
        unvalued_legs=book.unvalued_legs,
        invested_usd=book.invested_usd if usd else None,
        proceeds_usd=book.proceeds_usd if usd else None,
        realized_pnl_usd=realized_usd,
        unrealized_pnl_usd=unrealized_usd,
        total_pnl_usd=_sum_or_none(realized_usd, unrealized_usd),
        fees_usd=fees_usd,
    )


# ---------------------------------------------------------------------------------------------------------
# Wallet aggregation
# ---------------------------------------------------------------------------------------------------------


def trimmed_mean(values: Sequence[float], proportion: float = TRIM_PROPORTION) -> float | None:
    """Mean after cutting int(proportion·n) values from each end (scipy.stats.trim_mean semantics)."""
    if not values:
        return None
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    cut = int(proportion * ordered.size)
    return float(ordered[cut : ordered.size - cut].mean())


def _win_rate(tokens: Sequence[TokenPnl]) -> tuple[int, float | None]:
    judged = [t for t in tokens if t.invested_sol > 0]
    if not judged:
        return 0, None
    return len(judged), sum(1 for t in judged if t.total_pnl_sol > 0) / len(judged)


def _profit_factor(tokens: Sequence[TokenPnl]) -> float | None:
    gross_profit = math.fsum(t.realized_pnl_sol for t in tokens if t.realized_pnl_sol > 0)
    gross_loss = -math.fsum(t.realized_pnl_sol for t in tokens if t.realized_pnl_sol < 0)
    return gross_profit / gross_loss if gross_loss > 0 else None


def _periods(
    books: Mapping[str, _Book], ordered: Sequence[SwapLeg], as_of: int | None
) -> dict[str, PeriodPnl] | None:
    if as_of is None:
        return None
    timestamps = np.fromiter((leg.timestamp for leg in ordered), dtype=np.int64, count=len(ordered))
    periods: dict[str, PeriodPnl] = {}
    for name, days in PERIODS_DAYS.items():
        start = as_of - days * SECONDS_PER_DAY
        realized = math.fsum(r for book in books.values() for ts, r in book.sells if start < ts <= as_of)
        closed = judged = wins = 0
        for book in books.values():
            closures = [(r, known) for ts, r, known in book.closures if start < ts <= as_of]
            if not closures:
                continue
            closed += 1
            if any(known for _, known in closures):
                judged += 1
                wins += math.fsum(r for r, _ in closures) > 0
        periods[name] = PeriodPnl(
            start=start,
            end=as_of,
            realized_pnl_sol=realized,
            trades=int(np.count_nonzero((timestamps > start) & (timestamps <= as_of))),
            tokens_closed=closed,
            win_rate=wins / judged if judged else None,
        )
    return periods


def _liquidity(records: Sequence[ChainRecord]) -> LiquiditySummary:
    operations = [record for record in records if record.liquidity is not None]
    newest = sorted(operations, key=lambda r: (r.timestamp, r.slot, r.block_position), reverse=True)
    return LiquiditySummary(
        count=len(operations),
        adds=sum(1 for r in operations if r.liquidity is not None and r.liquidity.direction == "add"),
        removes=sum(1 for r in operations if r.liquidity is not None and r.liquidity.direction == "remove"),
        operations=tuple(
            {"signature": r.signature, "timestamp": r.timestamp, **r.liquidity.to_dict()}
            for r in newest[:MAX_LIQUIDITY_LISTED]
            if r.liquidity is not None
        ),
    )


@dataclass(frozen=True, slots=True)
class _Fees:
    total_sol: float
    swap_sol: float
    failed_count: int | None
    failed_sol: float | None
    other_sol: float | None
    usd: float | None


def _fees(tokens: Sequence[TokenPnl], records: Sequence[ChainRecord] | None, rates: _Rates) -> _Fees:
    swap = math.fsum(t.fees_sol for t in tokens)
    swap_usd = _sum_or_none(*(t.fees_usd for t in tokens))
    if records is None:
        return _Fees(swap, swap, None, None, None, swap_usd)
    leg_signatures = {t.signature for t in records if t.kind == "swap"}
    failed = [r for r in records if r.kind == "failed" and r.fee_lamports > 0]
    # Swap fees come from the legs (one per transaction); the records add what no leg carries.
    others = [r for r in records if r.kind != "failed" and r.signature not in leg_signatures]
    failed_sol = sum(r.fee_lamports for r in failed) / LAMPORTS_PER_SOL
    other_sol = sum(r.fee_lamports for r in others) / LAMPORTS_PER_SOL
    extra_usd = _fees_usd([(r.timestamp, r.fee_lamports) for r in (*failed, *others)], rates)
    return _Fees(
        swap + failed_sol + other_sol,
        swap,
        len(failed),
        failed_sol,
        other_sol,
        None if swap_usd is None or extra_usd is None else swap_usd + extra_usd,
    )


def _fees_usd(fees: Iterable[tuple[int, int]], rates: _Rates) -> float | None:
    total = 0.0
    for timestamp, lamports in fees:
        if not lamports:
            continue
        rate = rates.at(timestamp)
        if rate is None:
            return None
        total += lamports / LAMPORTS_PER_SOL * rate
    return total


def _usd_reason(
    tokens: Sequence[TokenPnl], rates: _Rates, sol_usd_now: float | None, given: str | None
) -> str | None:
    if all(t.total_pnl_usd is not None for t in tokens):
        return None
    if given:
        return given
    if rates.by_minute is None:
        return "SOL/USD history unavailable"
    if rates.missing:
        return f"no SOL/USD price for the minute of {rates.missing} leg(s)"
    if sol_usd_now is None:
        return "no current SOL/USD price to mark the priced positions in USD"
    return "incomplete SOL/USD history"


def compute_pnl(
    legs: Iterable[SwapLeg],
    *,
    prices_sol: Mapping[str, float] | None = None,
    unpriced_reasons: Mapping[str, str] | None = None,
    sol_price_usd: float | None = None,
    sol_usd_by_minute: Mapping[int, float] | None = None,
    usd_unavailable_reason: str | None = None,
    holdings_raw: Mapping[str, int] | None = None,
    transfers_in: Mapping[str, int] | None = None,
    records: Sequence[ChainRecord] | None = None,
    dust_threshold_sol: float = 0.001,
    window: tuple[int, int] | None = None,
    as_of: int | None = None,
    swaps_unparsed: int = 0,
) -> WalletPnl:
    """Average-cost PnL per token and for the wallet; see the module docstring for every convention.

    `prices_sol`: usable current prices in SOL per UI token, by mint (anything else is unpriced, with its
    reason from `unpriced_reasons` when given).
    `sol_price_usd`: today's SOL/USD, for marks in USD only. `sol_usd_by_minute`: SOL/USD at the start of
    each minute legs and fees fall in (`minute_of`); None when the history could not be had, with
    `usd_unavailable_reason`. `records`: the chain records of the wallet's transactions (fees of failed and
    other transactions, reconciliation, liquidity). `holdings_raw`/`transfers_in`: raw amounts by mint;
    mints never traded in the window are ignored (tokens_traded counts traded mints only).
    """
    sol_usd_now = usable_mark(sol_price_usd)
    rates = _Rates(sol_usd_by_minute)
    ordered = canonical_order(legs)
    in_window = list(records) if records is not None else None
    if window is not None:
        start, end = window
        ordered = [leg for leg in ordered if start <= leg.timestamp <= end]
        if in_window is not None:
            in_window = [r for r in in_window if start <= r.timestamp <= end]
    books = _run_books(ordered, rates, transfers_in or {}, track_periods=as_of is not None)
    holds = _hold_times(ordered)
    prices = prices_sol or {}
    holdings = holdings_raw or {}
    tokens = tuple(
        _token_pnl(
            mint,
            books[mint],
            price=usable_mark(prices.get(mint)),
            unpriced_reason=(unpriced_reasons or {}).get(mint),
            holding=holdings.get(mint),
            hold_time_s=holds.get(mint),
            sol_usd_now=sol_usd_now,
            fees_usd=books[mint].fees_usd,
            dust_threshold_sol=dust_threshold_sol,
        )
        for mint in sorted(books)
    )
    fees = _fees(tokens, in_window, rates)

    def total(attr: str) -> float:
        return math.fsum(getattr(t, attr) for t in tokens)

    realized = total("realized_pnl_sol")
    unrealized = total("unrealized_pnl_sol")
    invested = total("invested_sol")
    total_pnl = realized + unrealized
    per_token = [t.total_pnl_sol for t in tokens]
    unpriced = [t for t in tokens if t.price_status == "unpriced"]
    known_basis, win_rate = _win_rate(tokens)
    reason = _usd_reason(tokens, rates, sol_usd_now, usd_unavailable_reason)

    def total_usd(attr: str) -> float | None:
        return None if reason is not None else _sum_or_none(*(getattr(t, attr) for t in tokens))

    total_pnl_usd = total_usd("total_pnl_usd")
    return WalletPnl(
        result_version=RESULT_VERSION,
        tokens=tokens,
        tokens_traded=len(tokens),
        tokens_open=sum(1 for t in tokens if t.status == "open"),
        tokens_closed=sum(1 for t in tokens if t.status == "closed"),
        tokens_dust=sum(1 for t in tokens if t.status == "dust"),
        tokens_unpriced=len(unpriced),
        unpriced_open_cost_sol=math.fsum(t.remaining_cost_sol for t in unpriced),
        swaps_parsed=len({leg.signature for leg in ordered}),
        legs_parsed=len(ordered),
        swaps_unparsed=swaps_unparsed,
        unvalued_legs=sum(t.unvalued_legs for t in tokens),
        buy_count=sum(t.buy_count for t in tokens),
        sell_count=sum(t.sell_count for t in tokens),
        invested_sol=invested,
        proceeds_sol=total("proceeds_sol"),
        unknown_basis_proceeds_sol=total("unknown_basis_proceeds_sol"),
        realized_pnl_sol=realized,
        unrealized_pnl_sol=unrealized,
        total_pnl_sol=total_pnl,
        net_pnl_sol=total_pnl - fees.total_sol,
        roi=total_pnl / invested if invested > 0 else None,
        fees_sol=fees.total_sol,
        swap_fees_sol=fees.swap_sol,
        failed_tx_count=fees.failed_count,
        failed_tx_fees_sol=fees.failed_sol,
        other_fees_sol=fees.other_sol,
        tokens_with_known_basis=known_basis,
        win_rate=win_rate,
        profit_factor=_profit_factor(tokens),
        median_token_pnl_sol=float(np.median(per_token)) if per_token else None,
        trimmed_mean_token_pnl_sol=trimmed_mean(per_token),
        window=window,
        sol_price_usd=sol_usd_now,
        usd_unavailable_reason=reason,
        invested_usd=total_usd("invested_usd"),
        proceeds_usd=total_usd("proceeds_usd"),
        realized_pnl_usd=total_usd("realized_pnl_usd"),
        unrealized_pnl_usd=total_usd("unrealized_pnl_usd"),
        total_pnl_usd=total_pnl_usd,
        net_pnl_usd=None if total_pnl_usd is None or fees.usd is None else total_pnl_usd - fees.usd,
        fees_usd=fees.usd if reason is None else None,
        periods=_periods(books, ordered, as_of),
        reconciliation=(
            None
            if in_window is None
            else reconcile(ordered, {record.signature: record for record in in_window})
        ),
        liquidity_operations=None if in_window is None else _liquidity(in_window),
    )


def usd_minutes(legs: Iterable[SwapLeg], records: Iterable[ChainRecord] = ()) -> set[int]:
    """The minutes whose SOL/USD the USD figures need: every leg's and every paid fee's."""
    minutes = {minute_of(leg.timestamp) for leg in legs}
    minutes.update(minute_of(record.timestamp) for record in records if record.fee_lamports)
    return minutes
