"""The order of a wallet's legs and FIFO lots, shared by PnL and behaviour. Pure: no Django, no Redis.

Order. Legs are sorted by `(timestamp, slot, block_position, buy-before-sell, signature, then every other
field)`. Within one slot the block decides (`block_position`, from the order getSignaturesForAddress lists
the wallet's transactions), so a sell followed by a re-buy in the same block realizes before it re-opens.
Only when the position is unknown (legs stored before positions were recorded, all 0) do buys go first:
then a same-block sell can still draw on the buy's basis. The key is total over the leg's fields, so
results never depend on input order.

FIFO. Sells are matched to the oldest open buys of the same mint; sell quantity beyond the open buys
(transfers in, history before the window) stays unmatched, and what no sell matched stays open.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from wallets.swaps import SwapLeg

_DIRECTION_RANK = {"buy": 0, "sell": 1}

LegKey = tuple[int, int, int, int, str, str, int, int, str, int, int, bool, int, bool, float, int, str]


def finite_or_none(value: float | None) -> float | None:
    """The value when it is a finite float, else None (NaN/inf inputs behave like missing data)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def leg_sort_key(leg: SwapLeg) -> LegKey:
    """Total order over legs: time and block position first, then every field.

    Every field takes part so that two legs comparing equal are identical, which makes any permutation of
    the input produce the same sequence and therefore bit-identical float sums.
    """
    usd = finite_or_none(leg.usd_value)
    return (
        leg.timestamp,
        leg.slot,
        leg.block_position,
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
    """FIFO buy→sell lots as parallel lists (one entry per matched lot), the lots still open, and per-sell
    bookkeeping.

    `sell_fraction` is the lot's share of its sell leg (lot qty ÷ sell qty) and `buy_fraction` its share of
    its buy leg: dimensionless weights that are comparable across mints, unlike raw quantities. Open lots
    are the unsold remainders of buy legs, with their share of the buy leg.
    """

    mint: list[str]
    buy_ts: list[int]
    sell_ts: list[int]
    qty_raw: list[int]
    sell_fraction: list[float]
    buy_fraction: list[float]
    matched_sells: int  # sell legs with at least one matched lot
    reentered_mints: set[str]  # mints bought again after a bought position was sold down to zero
    open_mint: list[str]
    open_buy_ts: list[int]
    open_qty_raw: list[int]
    open_buy_fraction: list[float]


def fifo_match(ordered: Sequence[SwapLeg]) -> FifoMatches:
    """Match sells to the oldest open buys of the same mint. `ordered` must be in canonical order."""
    # A lot is [buy timestamp, quantity left, quantity bought].
    queues: dict[str, deque[list[int]]] = {}
    closed_once: set[str] = set()
    out = FifoMatches([], [], [], [], [], [], 0, set(), [], [], [], [])
    # Bound methods hoisted out of the loop: this is the hot path of both PnL and behaviour.
    add_mint, add_buy_ts, add_sell_ts = out.mint.append, out.buy_ts.append, out.sell_ts.append
    add_qty, add_fraction, add_buy_fraction = (
        out.qty_raw.append,
        out.sell_fraction.append,
        out.buy_fraction.append,
    )
    for leg in ordered:
        mint = leg.mint
        queue = queues.get(mint)
        if queue is None:
            queue = queues[mint] = deque()
        if leg.direction == "buy":
            if not queue and mint in closed_once:
                out.reentered_mints.add(mint)
            if leg.token_amount_raw > 0:
                queue.append([leg.timestamp, leg.token_amount_raw, leg.token_amount_raw])
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
            add_buy_fraction(take / lot[2])
            remaining -= take
            lot[1] -= take
            if not lot[1]:
                queue.popleft()
        out.matched_sells += 1
        if not queue:
            closed_once.add(mint)
    for mint, queue in queues.items():
        for buy_ts, left, bought in queue:
            out.open_mint.append(mint)
            out.open_buy_ts.append(buy_ts)
            out.open_qty_raw.append(left)
            out.open_buy_fraction.append(left / bought)
    return out
