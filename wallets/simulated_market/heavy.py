"""Heavy bots: wallets with a million transactions, generated page by page, never held whole.

Real Solana wallets include bots with millions of transactions. A heavy bot here trades the established
tokens (see `universe`) in round trips of seconds, all year: its history spans `HEAVY_SPAN_DAYS` before
"now" at a steady rate (a million transactions is ~2,800 a day, so a cap in days and a cap in signatures
both bind somewhere); a third of its attempts fail (a fifth of its transactions) and most swaps tip.

The history is cut into blocks of `BLOCK_SIZE` transactions over equal stretches of time. A block is
generated from the seed, the wallet and its number alone, so any block (and so any page of signatures, at
any depth) costs the same and needs nothing before it:
- the bot starts every block with the same working capital: its first block opens with the withdrawal
  that funds it, and every block ends with a sweep to or from its treasury that brings the balance back,
  so the balance at a block boundary is known without replaying anything;
- each round trip opens its token account and closes it on the sale, so no token is held across blocks.

The newest block may be cut short by the history's size; what it leaves open is the bot's balance and
holdings now. Memory per wallet is a few cached blocks, whatever the size.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field

from wallets.simulated_market.histories import (
    BUY,
    FAILED,
    SELL,
    TRANSFER_IN,
    TRANSFER_OUT,
    Tx,
    WalletProfile,
    transfer_tx,
    wallet_native_change,
)
from wallets.simulated_market.universe import (
    ANCHOR_TS,
    BASE_FEE_LAMPORTS,
    JITO_TIP_ACCOUNTS,
    Universe,
    slot_at,
    token_account_rent,
)
from wallets.swaps import LAMPORTS_PER_SOL

__all__ = ["BLOCK_SIZE", "HEAVY_SPAN_DAYS", "MAX_HEAVY_SIZE", "HeavyHistory", "HeavyPlan"]

BLOCK_SIZE = 1000
HEAVY_SPAN_DAYS = 360
WORKING_LAMPORTS = 100 * LAMPORTS_PER_SOL
# A round trip needs two distinct seconds and a block some room: at most one transaction per 3 s on average.
MAX_HEAVY_SIZE = HEAVY_SPAN_DAYS * 86_400 // 3
_BLOCK_CACHE = 8
_POOL_FEE = 0.0025
_FAIL_RATE = 0.33
_TIP_P = 0.8


@dataclass(frozen=True, slots=True)
class HeavyPlan:
    address: str
    size: int  # transactions in the whole history
    funder: str  # the exchange hot wallet of the first withdrawal
    treasury: str  # where profits go and top-ups come from
    start_ts: int
    block_seconds: int

    @property
    def blocks(self) -> int:
        return -(-self.size // BLOCK_SIZE)


@dataclass
class HeavyHistory:
    """The history of a heavy bot, answering like a generated `History` but one block at a time."""

    profile: WalletProfile
    address_bytes: bytes
    size_key: int
    plan: HeavyPlan
    universe: Universe
    shared: dict[int, tuple[str, int]] = field(default_factory=dict)
    _blocks: OrderedDict[int, tuple[Tx, ...]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __len__(self) -> int:
        return self.plan.size

    def tx(self, index: int) -> Tx:
        block, offset = divmod(index, BLOCK_SIZE)
        return self._block(block)[offset]

    def index_at_slot(self, slot: int, *, upper: bool) -> int:
        """The first index whose slot is >= `slot` (upper) or > `slot` (lower), like a bisect over slots."""
        plan = self.plan
        # The earliest second of that slot, then the block whose stretch of time holds it.
        moment = ANCHOR_TS - ((slot_at(ANCHOR_TS) - slot) * 2) // 5 - 1
        while slot_at(moment) < slot:
            moment += 1
        block = min(max((moment - plan.start_ts) // plan.block_seconds, 0), plan.blocks - 1)
        slots = [slot_at(tx.ts) for tx in self._block(block)]
        position = bisect_left(slots, slot) if upper else bisect_right(slots, slot)
        return min(block * BLOCK_SIZE + position, plan.size)

    @property
    def final_lamports(self) -> int:
        last = self.plan.blocks - 1
        txs = self._block(last)
        start = WORKING_LAMPORTS if last else 0
        return start + sum(_native_change(tx) for tx in txs)

    @property
    def wsol_lamports(self) -> int:
        return 0

    @property
    def usdc_raw(self) -> int:
        return 0

    @property
    def holdings(self) -> dict[int, int]:
        held: dict[int, int] = {}
        for tx in self._block(self.plan.blocks - 1):
            if tx.kind in (BUY, SELL):
                held[tx.token] = held.get(tx.token, 0) + tx.token_delta
        return {token: raw for token, raw in held.items() if raw > 0}

    # ------------------------------------------------------------------------------------------ blocks

    def _block(self, number: int) -> tuple[Tx, ...]:
        if not 0 <= number < self.plan.blocks:
            raise IndexError(number)
        with self._lock:
            cached = self._blocks.get(number)
            if cached is not None:
                self._blocks.move_to_end(number)
                return cached
        block = self._generate(number)
        with self._lock:
            self._blocks[number] = block
            while len(self._blocks) > _BLOCK_CACHE:
                self._blocks.popitem(last=False)
        return block

    def _generate(self, number: int) -> tuple[Tx, ...]:
        plan, universe = self.plan, self.universe
        rng = universe.derive.rng("heavy-block", self.address_bytes, plan.size, number)
        traits = universe.derive.rng("heavy-traits", self.address_bytes)
        size_scale = 10 ** traits.uniform(math.log10(0.2), math.log10(2.0))
        priority_fee = int(10 ** traits.uniform(5.0, 6.2))
        tip_scale = 10 ** traits.uniform(4.0, 5.5)
        start = plan.start_ts + number * plan.block_seconds
        moments = [
            start + offset for offset in sorted(rng.sample(range(1, plan.block_seconds - 1), BLOCK_SIZE - 1))
        ]
        txs: list[Tx] = []
        if number == 0:
            txs.append(transfer_tx(moments[0], TRANSFER_IN, WORKING_LAMPORTS, plan.funder, fee=0))
        position = len(txs)
        while len(txs) < BLOCK_SIZE - 1:
            token_index = rng.choice(universe.established)
            token = universe.tokens[token_index]
            source = "JUPITER" if rng.random() < 0.3 else token.venue
            fee = BASE_FEE_LAMPORTS + int(priority_fee * rng.uniform(0.5, 1.5))
            if len(txs) == BLOCK_SIZE - 2 or rng.random() < _FAIL_RATE:
                txs.append(
                    _swap(
                        ts=moments[position],
                        kind=FAILED,
                        token=token_index,
                        token_delta=0,
                        sol_delta=0,
                        fee=fee,
                        rent_delta=0,
                        source=source,
                        tip=0,
                        tip_account="",
                    )
                )
                position += 1
                continue
            buy_at, sell_at = moments[position], moments[position + 1]
            position += 2
            path = universe.path(token_index)
            lamports = int(min(10.0, rng.lognormvariate(math.log(0.5), 0.5) * size_scale) * LAMPORTS_PER_SOL)
            raw = max(
                1,
                int(lamports * (1 - _POOL_FEE) / LAMPORTS_PER_SOL / path.price(buy_at) * 10**token.decimals),
            )
            edge = rng.uniform(0.0, 0.01)  # back-running fills
            proceeds = int(
                raw / 10**token.decimals * path.price(sell_at) * (1 - _POOL_FEE + edge) * LAMPORTS_PER_SOL
            )
            rent = token_account_rent(token)
            for moment, kind, token_delta, sol_delta, rent_delta in (
                (buy_at, BUY, raw, -lamports, -rent),
                (sell_at, SELL, -raw, proceeds, rent),
            ):
                tip, tip_account = 0, ""
                if rng.random() < _TIP_P:
                    tip = max(1_000, int(tip_scale * rng.lognormvariate(0.0, 0.5)))
                    tip_account = rng.choice(JITO_TIP_ACCOUNTS)
                txs.append(
                    _swap(
                        ts=moment,
                        kind=kind,
                        token=token_index,
                        token_delta=token_delta,
                        sol_delta=sol_delta,
                        fee=fee,
                        rent_delta=rent_delta,
                        source=source,
                        tip=tip,
                        tip_account=tip_account,
                    )
                )
                fee = BASE_FEE_LAMPORTS + int(priority_fee * rng.uniform(0.5, 1.5))
        net = sum(_native_change(tx) for tx in txs) - (WORKING_LAMPORTS if number == 0 else 0)
        sweep_at = start + plan.block_seconds - 1
        # Back to the working capital: profits go to the treasury (which pays that fee), losses are topped up.
        if net > 0:
            txs.append(transfer_tx(sweep_at, TRANSFER_OUT, -net, plan.treasury, fee=0))
        else:
            txs.append(transfer_tx(sweep_at, TRANSFER_IN, -net, plan.treasury, fee=0))
        keep = plan.size - number * BLOCK_SIZE
        return tuple(txs[:keep])


def _native_change(tx: Tx) -> int:
    if tx.kind == TRANSFER_IN:
        return tx.sol_delta
    if tx.kind == TRANSFER_OUT:
        return tx.sol_delta - tx.fee
    if tx.kind == FAILED:
        return -tx.fee
    return wallet_native_change(tx)


def _swap(
    *,
    ts: int,
    kind: int,
    token: int,
    token_delta: int,
    sol_delta: int,
    fee: int,
    rent_delta: int,
    source: str,
    tip: int,
    tip_account: str,
) -> Tx:
    return Tx(
        ts=ts,
        kind=kind,
        token=token,
        token_delta=token_delta,
        sol_delta=sol_delta,
        fee=fee,
        rent_delta=rent_delta,
        via_wsol=False,
        source=source,
        counterparty="",
        wsol_in_lamports=False,
        stable=False,
        quote_raw=0,
        tip=tip,
        tip_account=tip_account,
    )
