"""Per-token and per-wallet PnL from swap legs (SPEC 6.2). Pure: no Django, no Redis, no I/O.

Method: average cost, in SOL. Per mint, in canonical order (see `leg_sort_key`):

    buy  q for cost c:      C += c;  Q += q
    sell q for proceeds p:  basis = q·C/Q;  realized += p - basis;  C -= basis;  Q -= q

Q is an exact raw integer; C, proceeds and PnL are floats in SOL.

Conventions where SPEC 6.2 leaves room (all are tested in tests/unit/analysis/test_pnl.py):

* Order. Legs are sorted by `(timestamp, slot, buy-before-sell, signature, then every other field)`. The key
  is total over the leg's fields, so results never depend on input order. Within one slot the true
  intra-block order is unknown; buys go first because that is the only order under which a same-block sell
  can have a known basis (sniper-style buy+sell in one block would otherwise show as unknown basis).
* Valuation. A leg's value is `sol_value_lamports / 1e9`; if that is None and `usd_value` and
  `sol_price_usd` are both known, `usd_value / sol_price_usd` (today's SOL price: an approximation for old
  stablecoin-quoted swaps). Otherwise the leg is *unvalued*: it is counted in buy/sell counts, quantities,
  fees and `unvalued_legs`, but kept out of cost, proceeds and realized PnL.
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
* Unrealized. `Q·price - C` with Q, C the (capped) known-basis position and `price` in SOL per UI token.
  It is exactly 0.0 when Q = 0 (nothing with a known basis is held, so no price is needed); when Q > 0 and
  there is no valid price it is None, never 0. `total_pnl_sol` = realized + unrealized, or realized alone
  with `total_includes_unrealized=False`. `roi` = total ÷ invested (None when nothing valued was bought),
  so it is a realized-only ROI exactly when that flag is False.
* Fees. `fees_sol` is the network fee of the legs of the token (the extractor attributes it to the first
  leg of a transaction). SPEC's formula excludes fees, so realized/total exclude them; `net_pnl_sol` is
  `total_pnl_sol - fees_sol`.
* Status. `closed` when nothing is held (known + unknown basis); `dust` when something is held, its price
  is known and its value is below `dust_threshold_sol`; otherwise `open`.
* Hold time. FIFO-matched buy→sell lots (any buy, valued or not; transfers in have no time so never
  match), quantity-weighted: Σ q·(t_sell - t_buy) / Σ q. None when nothing matched.
* Wallet. `win_rate` = tokens closed or dust with realized > 0 ÷ tokens closed or dust that realized
  something (`realized_qty_raw > 0`; a token sold only from unknown basis has no realized PnL to judge).
  `profit_factor` = Σ positive per-token realized ÷ |Σ negative per-token realized|, None without a loss.
  Median and 10 %-trimmed mean (int(0.1·n) cut from each end, like scipy.stats.trim_mean) are over
  per-token `total_pnl_sol`. `swaps_parsed` counts distinct signatures, `legs_parsed` legs.
* Window. When given, `(start, end)` unix seconds inclusive: legs outside are ignored.
* USD. `*_usd` = `*_sol · sol_price_usd` (one current SOL price), None when the SOL price is unknown.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from wallets.swaps import LAMPORTS_PER_SOL, SwapLeg

TokenStatus = Literal["open", "closed", "dust"]

_DIRECTION_RANK = {"buy": 0, "sell": 1}
TRIM_PROPORTION = 0.1

LegKey = tuple[int, int, int, str, str, int, int, str, int, int, bool, int, bool, float, int, str]


# ---------------------------------------------------------------------------------------------------------
# Canonical order and FIFO matching (shared with analysis.behavior)
# ---------------------------------------------------------------------------------------------------------


def _finite(value: float | None) -> float | None:
    """The value when it is a finite float, else None (NaN/inf inputs behave like missing data)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def leg_sort_key(leg: SwapLeg) -> LegKey:
    """Total order over legs: time first, buys before sells in the same instant, then every field.

    Every field takes part so that two legs comparing equal are identical, which makes any permutation of
    the input produce the same sequence and therefore bit-identical float sums.
    """
    usd = _finite(leg.usd_value)
    return (
        leg.timestamp,
        leg.slot,
        _DIRECTION_RANK[leg.direction],
        leg.signature,
        leg.mint,
        leg.token_amount_raw,
        leg.token_decimals,
        leg.quote_mint or "",
        leg.quote_amount_raw,
        leg.quote_decimals,
        leg.sol_value_lamports is None,
        leg.sol_value_lamports or 0,
        usd is None,
        usd or 0.0,
        leg.fee_lamports,
        leg.source,
    )


def canonical_order(legs: Iterable[SwapLeg]) -> list[SwapLeg]:
    """`sorted(legs, key=leg_sort_key)`, computed faster.

    numpy orders by (timestamp, slot), which decides almost every pair; only legs sharing a
    (timestamp, slot) with another leg (legs of one transaction, bot bursts in one block) are then sorted
    by the full key in Python. That full key starts with (timestamp, slot), so sorting the tied legs as one
    list and writing them back into their positions keeps every group in place.
    """
    items = list(legs)
    n = len(items)
    if n < 2:
        return items
    ts = np.fromiter((leg.timestamp for leg in items), dtype=np.int64, count=n)
    slot = np.fromiter((leg.slot for leg in items), dtype=np.int64, count=n)
    order = np.lexsort((slot, ts))
    ordered = [items[i] for i in order.tolist()]
    ts, slot = ts[order], slot[order]
    tied_with_next = (ts[1:] == ts[:-1]) & (slot[1:] == slot[:-1])
    if not tied_with_next.any():
        return ordered
    tied = np.zeros(n, dtype=bool)
    tied[:-1] |= tied_with_next
    tied[1:] |= tied_with_next
    positions = np.flatnonzero(tied).tolist()
    for position, leg in zip(
        positions, sorted((ordered[p] for p in positions), key=leg_sort_key), strict=True
    ):
        ordered[position] = leg
    return ordered


@dataclass(slots=True)
class FifoMatches:
    """FIFO buy→sell lots as parallel lists (one entry per matched lot), plus per-sell bookkeeping.

    `sell_fraction` is the lot's share of its sell leg (lot qty ÷ sell qty): a dimensionless weight that
    is comparable across mints, unlike raw quantities.
    """

    mint: list[str]
    buy_ts: list[int]
    sell_ts: list[int]
    qty_raw: list[int]
    sell_fraction: list[float]
    matched_sells: int  # sell legs with at least one matched lot
    reentered_mints: set[str]  # mints bought again after a bought position was sold down to zero


def fifo_match(ordered: Sequence[SwapLeg]) -> FifoMatches:
    """Match sells to the oldest open buys of the same mint. `ordered` must be in canonical order.

    Sell quantity beyond the open buys (transfers in, pre-window history) stays unmatched.
    """
    queues: dict[str, deque[list[int]]] = {}
    closed_once: set[str] = set()
    out = FifoMatches([], [], [], [], [], 0, set())
    # Bound methods hoisted out of the loop: this is the hot path of both PnL and behaviour.
    add_mint, add_buy_ts, add_sell_ts = out.mint.append, out.buy_ts.append, out.sell_ts.append
    add_qty, add_fraction = out.qty_raw.append, out.sell_fraction.append
    for leg in ordered:
        mint = leg.mint
        queue = queues.get(mint)
        if queue is None:
            queue = queues[mint] = deque()
        if leg.direction == "buy":
            if not queue and mint in closed_once:
                out.reentered_mints.add(mint)
            queue.append([leg.timestamp, leg.token_amount_raw])
            continue
        if not queue or leg.token_amount_raw <= 0:
            continue
        sold = remaining = leg.token_amount_raw
        sell_ts = leg.timestamp
        while remaining and queue:
            lot = queue[0]
            take = remaining if remaining < lot[1] else lot[1]
            add_mint(mint)
            add_buy_ts(lot[0])
            add_sell_ts(sell_ts)
            add_qty(take)
            add_fraction(take / sold)
            remaining -= take
            lot[1] -= take
            if not lot[1]:
                queue.popleft()
        out.matched_sells += 1
        if not queue:
            closed_once.add(mint)
    return out


# ---------------------------------------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
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
    unrealized_pnl_sol: float | None
    total_pnl_sol: float
    total_includes_unrealized: bool
    net_pnl_sol: float
    roi: float | None
    fees_sol: float
    price_sol: float | None
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
class WalletPnl:
    tokens: tuple[TokenPnl, ...]  # sorted by mint
    tokens_traded: int
    tokens_open: int
    tokens_closed: int
    tokens_dust: int
    tokens_unpriced: int  # tokens whose unrealized PnL is None
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
    unrealized_pnl_sol: float | None  # sum over tokens where known; None when no token has it
    total_pnl_sol: float
    total_includes_unrealized: bool  # True only when every token's unrealized PnL is known
    net_pnl_sol: float
    roi: float | None
    fees_sol: float
    win_rate: float | None
    profit_factor: float | None
    median_token_pnl_sol: float | None
    trimmed_mean_token_pnl_sol: float | None
    window: tuple[int, int] | None
    sol_price_usd: float | None
    invested_usd: float | None
    proceeds_usd: float | None
    realized_pnl_usd: float | None
    unrealized_pnl_usd: float | None
    total_pnl_usd: float | None
    net_pnl_usd: float | None
    fees_usd: float | None

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_dict(self)


# ---------------------------------------------------------------------------------------------------------
# Average-cost book
# ---------------------------------------------------------------------------------------------------------


class _Book:
    """Mutable per-mint accumulator for the average-cost walk."""

    __slots__ = (
        "bought_raw",
        "buy_count",
        "cost",
        "decimals",
        "fees_lamports",
        "first_ts",
        "invested",
        "last_ts",
        "proceeds",
        "qty",
        "realized",
        "realized_qty",
        "sell_count",
        "sold_raw",
        "unknown_held",
        "unknown_proceeds",
        "unknown_sold",
        "unvalued_legs",
    )

    def __init__(self, decimals: int, first_ts: int, unknown_held: int) -> None:
        self.decimals = decimals
        self.first_ts = first_ts
        self.last_ts = first_ts
        self.qty = 0  # Q: known-basis raw quantity
        self.cost = 0.0  # C: SOL cost of Q
        self.unknown_held = unknown_held  # unknown-basis raw quantity held (transfers in, unvalued buys)
        self.unknown_sold = 0  # raw quantity sold without a known basis
        self.realized = 0.0
        self.realized_qty = 0
        self.invested = 0.0
        self.proceeds = 0.0
        self.unknown_proceeds = 0.0
        self.bought_raw = 0
        self.sold_raw = 0
        self.buy_count = 0
        self.sell_count = 0
        self.fees_lamports = 0
        self.unvalued_legs = 0

    def buy(self, q: int, value: float | None) -> None:
        self.buy_count += 1
        self.bought_raw += q
        if value is None:
            self.unknown_held += q
            return
        self.cost += value
        self.qty += q
        self.invested += value

    def sell(self, q: int, value: float | None) -> None:
        self.sell_count += 1
        self.sold_raw += q
        known = min(q, self.qty)
        rest = q - known
        self.unknown_held -= min(rest, self.unknown_held)
        self.unknown_sold += rest
        basis = 0.0
        if known:
            # Exact zero on a full exit so float residue never leaves cost on an empty position, and a floor
            # at zero because for Q near 2**63 the rounded basis can exceed C by an ulp.
            basis = self.cost if known == self.qty else self.cost * known / self.qty
            self.cost = 0.0 if known == self.qty else max(self.cost - basis, 0.0)
            self.qty -= known
        if value is None:
            return
        self.proceeds += value
        known_proceeds = value if known == q else value * known / q
        self.unknown_proceeds += value - known_proceeds
        if known:
            self.realized += known_proceeds - basis
            self.realized_qty += known


def _leg_value_sol(leg: SwapLeg, sol_price_usd: float | None) -> float | None:
    if leg.sol_value_lamports is not None:
        return leg.sol_value_lamports / LAMPORTS_PER_SOL
    usd = _finite(leg.usd_value)
    if usd is not None and sol_price_usd is not None:
        return usd / sol_price_usd
    return None


def _valid_price(value: float | None) -> float | None:
    price = _finite(value)
    return price if price is not None and price >= 0 else None


def _run_books(
    ordered: Sequence[SwapLeg], sol_price_usd: float | None, transfers_in: Mapping[str, int]
) -> dict[str, _Book]:
    books: dict[str, _Book] = {}
    for leg in ordered:
        book = books.get(leg.mint)
        if book is None:
            initial_unknown = max(int(transfers_in.get(leg.mint, 0)), 0)
            book = books[leg.mint] = _Book(leg.token_decimals, leg.timestamp, initial_unknown)
        book.last_ts = leg.timestamp
        book.fees_lamports += leg.fee_lamports
        value = _leg_value_sol(leg, sol_price_usd)
        if value is None:
            book.unvalued_legs += 1
        if leg.direction == "buy":
            book.buy(leg.token_amount_raw, value)
        else:
            book.sell(leg.token_amount_raw, value)
    return books


def _hold_times(matches: FifoMatches) -> dict[str, float]:
    """Quantity-weighted FIFO hold per mint, summed in exact integers before the one division."""
    weighted: dict[str, list[int]] = {}
    for mint, buy_ts, sell_ts, qty in zip(
        matches.mint, matches.buy_ts, matches.sell_ts, matches.qty_raw, strict=True
    ):
        acc = weighted.setdefault(mint, [0, 0])
        acc[0] += qty * (sell_ts - buy_ts)
        acc[1] += qty
    return {mint: acc[0] / acc[1] for mint, acc in weighted.items()}


def _usd(value_sol: float | None, sol_price_usd: float | None) -> float | None:
    return None if value_sol is None or sol_price_usd is None else value_sol * sol_price_usd


# ---------------------------------------------------------------------------------------------------------
# Per-token finalisation
# ---------------------------------------------------------------------------------------------------------


def _held_position(book: _Book, holding: int | None) -> tuple[int, float, int]:
    """(known-basis qty, its cost, unknown-basis qty) held now, capped by the on-chain balance if known."""
    if holding is None:
        return book.qty, book.cost, book.unknown_held
    held = max(int(holding), 0)
    known = min(book.qty, held)
    cost = book.cost if known == book.qty else book.cost * known / book.qty
    return known, cost, held - known


def _status(remaining_raw: int, remaining_ui: float, price: float | None, dust_sol: float) -> TokenStatus:
    if remaining_raw == 0:
        return "closed"
    if price is not None and remaining_ui * price < dust_sol:
        return "dust"
    return "open"


def _token_pnl(
    mint: str,
    book: _Book,
    *,
    price: float | None,
    holding: int | None,
    hold_time_s: float | None,
    sol_price_usd: float | None,
    dust_threshold_sol: float,
) -> TokenPnl:
    scale: int = 10**book.decimals
    known_qty, known_cost, unknown_held = _held_position(book, holding)
    remaining_raw = known_qty + unknown_held
    unrealized: float | None
    if known_qty == 0:
        unrealized = 0.0
    elif price is None:
        unrealized = None
    else:
        unrealized = known_qty / scale * price - known_cost
    total = book.realized + (unrealized or 0.0)
    fees_sol = book.fees_lamports / LAMPORTS_PER_SOL
    unknown_raw = book.unknown_sold + unknown_held
    return TokenPnl(
        mint=mint,
        decimals=book.decimals,
        status=_status(remaining_raw, remaining_raw / scale, price, dust_threshold_sol),
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
        total_includes_unrealized=unrealized is not None,
        net_pnl_sol=total - fees_sol,
        roi=total / book.invested if book.invested > 0 else None,
        fees_sol=fees_sol,
        price_sol=price,
        first_trade_at=book.first_ts,
        last_trade_at=book.last_ts,
        hold_time_s=hold_time_s,
        unvalued_legs=book.unvalued_legs,
        invested_usd=_usd(book.invested, sol_price_usd),
        proceeds_usd=_usd(book.proceeds, sol_price_usd),
        realized_pnl_usd=_usd(book.realized, sol_price_usd),
        unrealized_pnl_usd=_usd(unrealized, sol_price_usd),
        total_pnl_usd=_usd(total, sol_price_usd),
        fees_usd=_usd(fees_sol, sol_price_usd),
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


def _win_rate(tokens: Sequence[TokenPnl]) -> float | None:
    judged = [t for t in tokens if t.status != "open" and t.realized_qty_raw > 0]
    if not judged:
        return None
    return sum(1 for t in judged if t.realized_pnl_sol > 0) / len(judged)


def _profit_factor(tokens: Sequence[TokenPnl]) -> float | None:
    gross_profit = math.fsum(t.realized_pnl_sol for t in tokens if t.realized_pnl_sol > 0)
    gross_loss = -math.fsum(t.realized_pnl_sol for t in tokens if t.realized_pnl_sol < 0)
    return gross_profit / gross_loss if gross_loss > 0 else None


def _wallet(
    tokens: tuple[TokenPnl, ...],
    *,
    swaps_parsed: int,
    legs_parsed: int,
    swaps_unparsed: int,
    window: tuple[int, int] | None,
    sol_price_usd: float | None,
) -> WalletPnl:
    def total(attr: str) -> float:
        return math.fsum(getattr(t, attr) for t in tokens)

    known_unrealized = [t.unrealized_pnl_sol for t in tokens if t.unrealized_pnl_sol is not None]
    unrealized = math.fsum(known_unrealized) if known_unrealized else None
    realized = total("realized_pnl_sol")
    invested = total("invested_sol")
    fees = total("fees_sol")
    total_pnl = realized + (unrealized or 0.0)
    per_token = [t.total_pnl_sol for t in tokens]
    return WalletPnl(
        tokens=tokens,
        tokens_traded=len(tokens),
        tokens_open=sum(1 for t in tokens if t.status == "open"),
        tokens_closed=sum(1 for t in tokens if t.status == "closed"),
        tokens_dust=sum(1 for t in tokens if t.status == "dust"),
        tokens_unpriced=len(tokens) - len(known_unrealized),
        swaps_parsed=swaps_parsed,
        legs_parsed=legs_parsed,
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
        total_includes_unrealized=len(known_unrealized) == len(tokens),
        net_pnl_sol=total_pnl - fees,
        roi=total_pnl / invested if invested > 0 else None,
        fees_sol=fees,
        win_rate=_win_rate(tokens),
        profit_factor=_profit_factor(tokens),
        median_token_pnl_sol=float(np.median(per_token)) if per_token else None,
        trimmed_mean_token_pnl_sol=trimmed_mean(per_token),
        window=window,
        sol_price_usd=sol_price_usd,
        invested_usd=_usd(invested, sol_price_usd),
        proceeds_usd=_usd(total("proceeds_sol"), sol_price_usd),
        realized_pnl_usd=_usd(realized, sol_price_usd),
        unrealized_pnl_usd=_usd(unrealized, sol_price_usd),
        total_pnl_usd=_usd(total_pnl, sol_price_usd),
        net_pnl_usd=_usd(total_pnl - fees, sol_price_usd),
        fees_usd=_usd(fees, sol_price_usd),
    )


def compute_pnl(
    legs: Iterable[SwapLeg],
    *,
    prices_sol: Mapping[str, float] | None = None,
    sol_price_usd: float | None = None,
    holdings_raw: Mapping[str, int] | None = None,
    transfers_in: Mapping[str, int] | None = None,
    dust_threshold_sol: float = 0.001,
    window: tuple[int, int] | None = None,
    swaps_unparsed: int = 0,
) -> WalletPnl:
    """Average-cost PnL per token and for the wallet; see the module docstring for every convention.

    `prices_sol`: current price in SOL per UI token, by mint. `holdings_raw`/`transfers_in`: raw amounts by
    mint; mints never traded in the window are ignored (tokens_traded counts traded mints only).
    """
    sol_usd = _finite(sol_price_usd)
    sol_usd = sol_usd if sol_usd is not None and sol_usd > 0 else None
    ordered = canonical_order(legs)
    if window is not None:
        start, end = window
        ordered = [leg for leg in ordered if start <= leg.timestamp <= end]
    books = _run_books(ordered, sol_usd, transfers_in or {})
    holds = _hold_times(fifo_match(ordered))
    prices = prices_sol or {}
    holdings = holdings_raw or {}
    tokens = tuple(
        _token_pnl(
            mint,
            books[mint],
            price=_valid_price(prices.get(mint)),
            holding=holdings.get(mint),
            hold_time_s=holds.get(mint),
            sol_price_usd=sol_usd,
            dust_threshold_sol=dust_threshold_sol,
        )
        for mint in sorted(books)
    )
    return _wallet(
        tokens,
        swaps_parsed=len({leg.signature for leg in ordered}),
        legs_parsed=len(ordered),
        swaps_unparsed=swaps_unparsed,
        window=window,
        sol_price_usd=sol_usd,
    )
