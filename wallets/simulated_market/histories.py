"""History generation: from a wallet's address to its list of transactions, oldest first.

A wallet's archetype comes from its address (or its family). The archetype sets how many transactions it
makes, how big its positions are, how long it holds, how often it buys twice or sells in two parts, how
many bags it never sells and what priority fee it pays:

- `flipper`: 60-300 transactions, ~0.8 SOL positions held minutes (median 4 min).
- `holder`: 20-90 transactions, ~2.5 SOL positions held days (median 3 days); a third never sold.
- `sniper`: 50-250 transactions, buys fresh launches 1-20 s after launch (80 % of its buys) and sells
  within minutes; high priority fees.
- `bot`: 300-600 transactions over a few consecutive whole UTC days (70-140 swaps a day), holds for
  seconds, and gets slightly better fills than the pool price (it back-runs order flow).
- `sniper_bot`: one of the market's few sniper bots (see `families`): only its plan, most launches.
- `heavy_bot`: a bot with a million transactions over a year, generated page by page (see `heavy`).

Three more kinds of address are not traders: a fresh `funder` (see `families`), whose history is its
exchange withdrawal and its transfers to the wallets it funded; a heavy bot's `treasury`; and an `exchange`
hot wallet (`wallets.custodians`). The market does not model the last two's own histories (they answer
none).

Each wallet also has traits of its own: a size scale, the hour of day it trades around, whether it keeps a
WSOL account, a skill (a chance to pass on a trade that would lose) that spreads win rates, how often a
trade comes after a failed attempt (bots ~30 %, snipers ~15 %, others 2-4 %: slippage errors that still pay
the network and priority fee), how often it pays a Jito tip (bots and snipers mostly do), and, for some
flippers and holders, a share of positions quoted in USDC instead of SOL.

Generation runs in three passes. Positions: the family plan (pinned to the second) plus noise positions in
tokens alive at the time, never overlapping another position in the same token. Events: the buys and sells
of those positions in time order, at most one per second, plus failed attempts and a few transfers to and
from exchanges. Execution: each event replayed against the pool's price path: raw amounts, pool fee,
token-account rent when an account opens (refunded when a sale empties it), WSOL routing, priority fees,
tips; a USDC-quoted swap settles its SOL value at the SOL/USD of its minute; a sale worth less than its fee
is skipped (a dust bag stays). Last, the first transaction, a funding deposit, is sized so the wallet never
goes below a small cushion; a wallet that trades against USDC also gets a USDC deposit right after it.

Every transaction is internally consistent: the lamports of all its accounts sum to minus the fee, each
mint's raw changes sum to zero, and the wallet's own SOL change is exactly its quote leg (native or WSOL),
minus the fee and tip, plus any rent refunded or minus any rent deposited.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from wallets.custodians import is_custodian
from wallets.simulated_market.derivation import Derivation
from wallets.simulated_market.families import (
    FamilyBook,
    FamilyRole,
    FundingPlan,
    Position,
    pick_exchange_wallet,
)
from wallets.simulated_market.universe import (
    ANCHOR_TS,
    BASE_FEE_LAMPORTS,
    HISTORY_DAYS,
    JITO_TIP_ACCOUNTS,
    LAUNCH_MARGIN_S,
    WINDOW_START_TS,
    Universe,
    slot_at,
    token_account_rent,
)
from wallets.swaps import LAMPORTS_PER_SOL, SOL_MINT, USDC_MINT, Direction

__all__ = [
    "BUY",
    "CREATE",
    "FAILED",
    "SELL",
    "STABLE_IN",
    "TRADER_ARCHETYPES",
    "TRANSFER_IN",
    "TRANSFER_OUT",
    "Archetype",
    "History",
    "HistoryGenerator",
    "IntendedTrade",
    "Tx",
    "WalletProfile",
    "wallet_native_change",
]

Archetype = Literal[
    "flipper", "holder", "sniper", "bot", "sniper_bot", "heavy_bot", "funder", "treasury", "exchange"
]
TRADER_ARCHETYPES: tuple[Archetype, ...] = ("flipper", "holder", "sniper", "bot")

BUY, SELL, TRANSFER_IN, TRANSFER_OUT, FAILED, STABLE_IN, CREATE = range(7)

_POOL_FEE = 0.0025
_MIN_SELL_LAMPORTS = 100_000  # below this the network fee eats the proceeds: nobody sells
_USDC_DECIMALS = 6
_FUNDED_MEMBER_ARCHETYPES: tuple[Archetype, ...] = ("flipper", "holder", "sniper")
# Exchange counterparties of the occasional transfers to and from exchanges: the busiest hot wallets.
_EXCHANGE_COUNTERPARTIES = (
    "5tzFkiKscXHK5ZXCGbXZxdw7gTjjD1mBwuoFbhUvuAi9",  # Binance 1
    "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM",  # Binance 2
    "H8sMJSCQxfKiFTCfDR3DUMLPwcRbM61LGFJ8N4dK3WjS",  # Coinbase 1
    "GJRs4FwHtemZ5ZE9x3FNvJ8TMwitKTh21yxdRPqn7npE",  # Coinbase 3
    "5VCwKtCXgCJ6kit5FybXjvriW3xELsFDhYrPSqtJNmcD",  # OKX 33
    "AC5RDfQFmDS1deWZos921JfqscXdByf8BKHs5ACWjtW2",  # Bybit 2
    "42brAgAVNzMBP7aaktPvAmBSPEkehnFQejiZc53EpJFd",  # Bybit 1
    "FWznbcNXWQuHTawe9RxvQ2LdCENssh12dsznf4RiouN5",  # Kraken 1
)
_STABLE_DEPOSIT_DELAY_S = 30  # the USDC deposit lands this long after the SOL funding deposit


@dataclass(frozen=True, slots=True)
class WalletProfile:
    address: str
    archetype: Archetype
    family: str | None
    role: FamilyRole | None


@dataclass(frozen=True, slots=True)
class IntendedTrade:
    """What the market meant by one successful swap; extraction of the wire format must agree."""

    signature: str
    timestamp: int
    slot: int
    mint: str
    direction: Direction
    token_amount_raw: int
    token_decimals: int
    sol_amount_lamports: int  # SOL value paid or received for the tokens, fee, tip and rent excluded
    fee_lamports: int
    source: str
    via_wsol: bool  # quote leg moved through the wallet's WSOL account instead of native SOL
    opened_account: bool  # paid token-account rent (first buy since the account was last closed)
    closed_account: bool  # got the rent back (sold out and closed the account)
    quote_mint: str  # SOL_MINT, or USDC_MINT for a stablecoin-quoted swap
    quote_amount_raw: int  # lamports, or USDC raw units (6 decimals) for a stablecoin-quoted swap
    tip_lamports: int  # Jito tip paid in the same transaction (a buy cost more, a sale fetched less)


@dataclass(frozen=True, slots=True)
class Tx:
    """One transaction of a wallet; its signature follows from the wallet and its index (see `signatures`)."""

    ts: int
    kind: int
    token: int  # index into the token universe, -1 for transfers
    token_delta: int  # wallet's raw token change
    sol_delta: int  # wallet's quote change in lamports, fee and rent excluded
    fee: int
    rent_delta: int  # wallet side: minus rent when the token account opens, plus when it closes
    via_wsol: bool
    source: str
    counterparty: str  # transfers only
    wsol_in_lamports: bool  # the PUMP_AMM quirk: WSOL `tokenAmount` in tokenTransfers given in lamports
    stable: bool  # quoted in USDC: `sol_delta` is the SOL value, `quote_raw` the USDC that moved
    quote_raw: int  # USDC raw units of a stablecoin-quoted swap or of a USDC deposit
    tip: int  # Jito tip in lamports
    tip_account: str
    created_rent: int = 0  # a token creation: the rent of the mint and pool accounts the creator paid for


@dataclass(frozen=True, slots=True)
class History:
    profile: WalletProfile
    address_bytes: bytes
    size_key: int  # the history-size override it was generated with (0 for none): part of its signatures
    txs: tuple[Tx, ...]  # oldest first
    final_lamports: int
    wsol_lamports: int
    usdc_raw: int
    holdings: dict[int, int]  # token index -> raw amount still held
    # Transactions that belong to another address's history too (a fresh funder's transfer to this wallet):
    # index here -> (that address, index there). They carry that address's signature.
    shared: dict[int, tuple[str, int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.txs)

    def tx(self, index: int) -> Tx:
        return self.txs[index]

    def index_at_slot(self, slot: int, *, upper: bool) -> int:
        """The first index whose slot is >= `slot` (upper) or > `slot` (lower)."""
        slots = [slot_at(tx.ts) for tx in self.txs]
        return bisect_left(slots, slot) if upper else bisect_right(slots, slot)


@dataclass(frozen=True, slots=True)
class _ArchetypeParams:
    tx_range: tuple[int, int]  # default history length
    size_median_sol: float
    hold_median_s: float
    hold_sigma: float
    hold_bounds_s: tuple[int, int]
    second_buy_p: float
    second_buy_gap_s: tuple[int, int]
    extra_sell_p: float
    never_sell_p: float
    priority_fee_range: tuple[int, int]
    fail_rate: float  # share of attempts that fail (slippage) and still pay the fee
    tip_p: float  # share of swaps that pay a Jito tip
    stable_user_p: float  # share of wallets that quote some positions in USDC


_ARCHETYPES: dict[Archetype, _ArchetypeParams] = {
    "flipper": _ArchetypeParams(
        tx_range=(60, 300),
        size_median_sol=0.8,
        hold_median_s=240,
        hold_sigma=0.8,
        hold_bounds_s=(20, 3 * 3600),
        second_buy_p=0.2,
        second_buy_gap_s=(10, 120),
        extra_sell_p=0.35,
        never_sell_p=0.04,
        priority_fee_range=(10_000, 300_000),
        fail_rate=0.04,
        tip_p=0.1,
        stable_user_p=0.2,
    ),
    "holder": _ArchetypeParams(
        tx_range=(20, 90),
        size_median_sol=2.5,
        hold_median_s=3 * 86_400,
        hold_sigma=0.7,
        hold_bounds_s=(6 * 3600, 25 * 86_400),
        second_buy_p=0.45,
        second_buy_gap_s=(3600, 2 * 86_400),
        extra_sell_p=0.4,
        never_sell_p=0.3,
        priority_fee_range=(5_000, 60_000),
        fail_rate=0.02,
        tip_p=0.0,
        stable_user_p=0.25,
    ),
    "sniper": _ArchetypeParams(
        tx_range=(50, 250),
        size_median_sol=0.5,
        hold_median_s=150,
        hold_sigma=0.8,
        hold_bounds_s=(10, 2400),
        second_buy_p=0.1,
        second_buy_gap_s=(2, 30),
        extra_sell_p=0.4,
        never_sell_p=0.04,
        priority_fee_range=(50_000, 800_000),
        fail_rate=0.15,
        tip_p=0.7,
        stable_user_p=0.05,
    ),
    "bot": _ArchetypeParams(
        tx_range=(300, 600),
        size_median_sol=0.15,
        hold_median_s=25,
        hold_sigma=0.6,
        hold_bounds_s=(3, 300),
        second_buy_p=0.0,
        second_buy_gap_s=(1, 2),
        extra_sell_p=0.0,
        never_sell_p=0.01,
        priority_fee_range=(200_000, 2_000_000),
        fail_rate=0.3,
        tip_p=0.9,
        stable_user_p=0.0,
    ),
}
_ARCHETYPES["sniper_bot"] = _ArchetypeParams(
    tx_range=(0, 0),  # its plan only
    size_median_sol=0.5,
    hold_median_s=90,
    hold_sigma=0.9,
    hold_bounds_s=(5, 1800),
    second_buy_p=0.0,
    second_buy_gap_s=(1, 2),
    extra_sell_p=0.0,
    never_sell_p=0.03,
    priority_fee_range=(100_000, 1_500_000),
    fail_rate=0.25,
    tip_p=0.9,
    stable_user_p=0.0,
)
_ARCHETYPE_WEIGHTS: tuple[tuple[Archetype, float], ...] = (
    ("flipper", 0.40),
    ("holder", 0.25),
    ("sniper", 0.20),
    ("bot", 0.15),
)


@dataclass(slots=True)
class _Event:
    ts: int
    kind: int
    token: int
    amount: int  # lamports for buys and transfers
    share: float  # for sells
    pinned: bool
    order: int
    stable: bool = False


@dataclass(slots=True)
class _WalletTraits:
    archetype: Archetype
    size_scale: float
    hour_center: float
    priority_fee: int
    uses_wsol: bool
    skill: float  # chance of passing on a trade that would lose: spreads win rates across wallets
    edge: float  # bots' better fills (they back-run order flow) instead of foresight
    span: tuple[int, int]
    fail_rate: float
    tip_p: float
    tip_scale: float  # median tip in lamports
    stable_share: float  # share of noise positions quoted in USDC


Signer = Callable[[int], str]
"""The signature of the transaction at an index of a wallet's history."""


class HistoryGenerator:
    """Generates one wallet's history; pure, so callers may cache and share the result."""

    def __init__(self, universe: Universe, families: FamilyBook) -> None:
        self._universe = universe
        self._derive: Derivation = universe.derive
        self._families = families

    def profile(self, address: str, address_bytes: bytes) -> WalletProfile:
        membership = self._families.membership.get(address)
        archetype: Archetype
        if membership is not None:
            family, role = membership
            if family.kind == "funded":
                archetype = self._derive.rng("funded-archetype", address_bytes).choice(
                    _FUNDED_MEMBER_ARCHETYPES
                )
            else:
                archetype = "sniper" if family.kind == "bundle" else "flipper"
            return WalletProfile(address, archetype, family.name, role)
        if address in self._families.funding_plans:
            return WalletProfile(address, "funder", None, None)
        if address in self._families.sniper_bots:
            return WalletProfile(address, "sniper_bot", None, None)
        if is_custodian(address):
            return WalletProfile(address, "exchange", None, None)
        roll = self._derive.rng("archetype", address_bytes).random()
        for name, weight in _ARCHETYPE_WEIGHTS:
            if roll < weight:
                return WalletProfile(address, name, None, None)
            roll -= weight
        return WalletProfile(address, "flipper", None, None)

    def funder_of(self, address: str, address_bytes: bytes) -> str | None:
        """Where the wallet's first SOL came from: its fresh funder, else an exchange hot wallet; None for
        addresses that are not traders (funders withdraw from exchanges too, see `funding_plans`)."""
        planned = self._families.funded_by.get(address)
        if planned is not None:
            return planned[0]
        plan = self._families.funding_plans.get(address)
        if plan is not None:
            return plan.source
        if is_custodian(address):
            return None
        return pick_exchange_wallet(self._derive.rng("funding-source", address_bytes))

    def generate(self, address: str, address_bytes: bytes, *, size_override: int) -> History:
        """The wallet's history; `size_override` (0 for none) fixes its length to exactly that many
        transactions, the oldest of a longer plan, so the wallet's newest positions stay open. Funders are
        generated by `generate_funder`."""
        profile = self.profile(address, address_bytes)
        if profile.archetype == "exchange":
            return History(profile, address_bytes, size_override, (), 0, 0, 0, {})
        rng = self._derive.rng("wallet", address_bytes)
        # Draws added after the first version of the market come from a stream of their own, so they do
        # not shift the main stream's positions and timings.
        extras = self._derive.rng("wallet-extras", address_bytes)
        target = self._target_size(profile, rng, size_override)
        traits = self._traits(profile, rng, target, extras)
        planned = self._families.plans.get(address, [])
        positions = list(planned)
        pinned_count = sum(len(p.buys) + len(p.sells) for p in planned)
        limit: int | None = None
        noise_target = 0 if profile.archetype == "sniper_bot" else target
        if size_override:
            # Some planned trades fall past the anchor or are not worth selling: plan extra, then keep
            # exactly the oldest `target` transactions (the newest positions simply stay open).
            limit = target
            noise_target = int(max(0, target - pinned_count) * 1.15) + 10
        noise = self._noise_positions(rng, traits, noise_target, planned, address)
        for position in noise:
            position.stable = extras.random() < traits.stable_share
        positions += noise
        planned_funding = self._families.funded_by.get(address)
        deposit_at = planned_funding[1] if planned_funding else None
        events = self._events(
            rng,
            extras,
            traits,
            positions,
            deposit_at=deposit_at,
            deposit_by=self._families.latest_deposit.get(address),
        )
        funder = planned_funding[0] if planned_funding else self.funder_of(address, address_bytes)
        assert funder is not None  # only exchanges have none, and they have no history
        history = self._execute(
            address,
            profile=profile,
            traits=traits,
            rng=rng,
            extras=extras,
            events=events,
            limit=limit,
            funder=funder,
        )
        shared = {0: (planned_funding[0], planned_funding[2])} if planned_funding and history.txs else {}
        return replace(history, address_bytes=address_bytes, size_key=size_override, shared=shared)

    def generate_funder(self, plan: FundingPlan, address_bytes: bytes, deposits: list[int]) -> History:
        """A fresh funder's history: its exchange withdrawal, then the transfer that funded each member (the
        amounts the members' own histories received)."""
        rng = self._derive.rng("funder-history", address_bytes)
        remainder = int(rng.uniform(0.01, 0.2) * LAMPORTS_PER_SOL)
        withdrawn = sum(deposits) + BASE_FEE_LAMPORTS * len(deposits) + remainder
        txs = [transfer_tx(plan.funded_at, TRANSFER_IN, withdrawn, plan.source, fee=0)]
        for (member, moment), amount in zip(plan.transfers, deposits, strict=True):
            txs.append(transfer_tx(moment, TRANSFER_OUT, -amount, member, fee=BASE_FEE_LAMPORTS))
        profile = WalletProfile(plan.funder, "funder", None, None)
        return History(profile, address_bytes, 0, tuple(txs), remainder, 0, 0, {})

    def _traits(
        self, profile: WalletProfile, rng: random.Random, target: int, extras: random.Random
    ) -> _WalletTraits:
        params = _ARCHETYPES[profile.archetype]
        if profile.archetype == "sniper_bot":
            span = (WINDOW_START_TS + LAUNCH_MARGIN_S, ANCHOR_TS)
        elif profile.archetype == "bot":
            # Bots run for a few consecutive whole UTC days at >= 70 swaps a day.
            days = max(1, min(HISTORY_DAYS, round(target / rng.uniform(70, 140))))
            first_day = rng.randint(0, HISTORY_DAYS - days)
            span = (WINDOW_START_TS + first_day * 86_400, WINDOW_START_TS + (first_day + days) * 86_400)
        else:
            days = rng.randint(7, HISTORY_DAYS) if profile.family is None else HISTORY_DAYS
            end = ANCHOR_TS - rng.randint(0, HISTORY_DAYS - days) * 86_400
            span = (max(WINDOW_START_TS + LAUNCH_MARGIN_S, end - days * 86_400), end)
        low, high = params.priority_fee_range
        return _WalletTraits(
            archetype=profile.archetype,
            size_scale=10 ** rng.uniform(math.log10(0.3), math.log10(4.0)),
            hour_center=rng.uniform(0.0, 24.0),
            priority_fee=int(10 ** rng.uniform(math.log10(low), math.log10(high))),
            uses_wsol=rng.random() < 0.3,
            skill=0.0 if profile.archetype == "bot" else rng.uniform(0.0, 0.7),
            edge=rng.uniform(0.003, 0.009) if profile.archetype == "bot" else 0.0,
            span=span,
            fail_rate=params.fail_rate * extras.uniform(0.5, 1.5),
            tip_p=params.tip_p,
            tip_scale=10 ** extras.uniform(4.0, 6.0),
            stable_share=extras.uniform(0.2, 0.5) if extras.random() < params.stable_user_p else 0.0,
        )

    def _target_size(self, profile: WalletProfile, rng: random.Random, size_override: int) -> int:
        if size_override:
            return size_override
        low, high = _ARCHETYPES[profile.archetype].tx_range
        target = rng.randint(low, high)
        if self._families.plans.get(profile.address):
            # Family members trade their own tokens too, but less: the shared plan must stay visible.
            target = int(target * rng.uniform(0.2, 0.4))
        return target

    # ------------------------------------------------------------------------------------------ positions

    def _noise_positions(
        self, rng: random.Random, traits: _WalletTraits, target: int, planned: list[Position], address: str
    ) -> list[Position]:
        excluded = self._families.family_mints.get(address, frozenset())
        busy: dict[int, list[tuple[int, int]]] = {}
        for position in planned:
            busy.setdefault(position.token, []).append(_interval(position))
        snipe_pool = (
            self._universe.launched_between(traits.span[0], traits.span[1] - 600)
            if traits.archetype == "sniper"
            else []
        )
        # Busy holders would run out of tokens to hold for days: a long override shortens their holds.
        hold_scale = min(1.0, 150 / target) if traits.archetype == "holder" and target > 150 else 1.0
        positions: list[Position] = []
        events = 0
        attempts = 0
        while events < target and attempts < 4 * target + 20:
            attempts += 1
            candidate = self._noise_position(
                rng, traits, snipe_pool=snipe_pool, excluded=excluded, hold_scale=hold_scale
            )
            if candidate is None or _overlaps(busy.get(candidate.token, []), _interval(candidate)):
                continue
            busy.setdefault(candidate.token, []).append(_interval(candidate))
            positions.append(candidate)
            events += len(candidate.buys) + len(candidate.sells)
        return positions

    def _noise_position(
        self,
        rng: random.Random,
        traits: _WalletTraits,
        *,
        snipe_pool: list[int],
        excluded: frozenset[int],
        hold_scale: float,
    ) -> Position | None:
        universe = self._universe
        params = _ARCHETYPES[traits.archetype]
        token: int | None = None
        if snipe_pool and rng.random() < 0.8:
            token = rng.choice(snipe_pool)
            entry = universe.tokens[token].launch_ts + rng.randint(1, 20)
            if token in excluded:
                return None
        else:
            entry = self._entry_time(rng, traits)
            age_scale = 10 * 86_400 if traits.archetype == "holder" else 3 * 86_400
            token = universe.pick_token(rng, entry, age_scale, excluded)
            if token is None:
                return None
        size_sol = rng.lognormvariate(math.log(params.size_median_sol), 0.6) * traits.size_scale
        lamports = int(min(200.0, max(0.01, size_sol)) * LAMPORTS_PER_SOL)
        buys = [(entry, lamports)]
        if rng.random() < params.second_buy_p:
            buys.append(
                (entry + rng.randint(*params.second_buy_gap_s), int(lamports * rng.uniform(0.3, 1.0)))
            )
        if rng.random() < params.never_sell_p:
            return Position(token, buys, [], pinned=False)
        low, high = params.hold_bounds_s
        hold = rng.lognormvariate(math.log(params.hold_median_s), params.hold_sigma) * hold_scale
        first_sell = buys[-1][0] + int(min(high, max(low * hold_scale, hold)))
        sells = [(first_sell, 1.0)]
        if rng.random() < params.extra_sell_p:
            second = first_sell + max(2, int((first_sell - entry) * rng.uniform(0.2, 1.0)))
            sells = [(first_sell, rng.uniform(0.3, 0.7)), (second, 1.0)]
        if not universe.gains(token, entry, first_sell) and rng.random() < traits.skill:
            return None
        return Position(token, buys, sells, pinned=False)

    def _entry_time(self, rng: random.Random, traits: _WalletTraits) -> int:
        start, end = traits.span
        if traits.archetype == "bot":
            day = rng.randrange((end - start) // 86_400)
            # Bots stop ten minutes before midnight so a day's trades stay on that UTC day.
            return start + day * 86_400 + rng.randrange(86_400 - 900)
        first_day = (start - WINDOW_START_TS) // 86_400
        last_day = (end - WINDOW_START_TS - 1) // 86_400
        day = rng.randint(first_day, last_day)
        hour = int(rng.gauss(traits.hour_center, 3.5)) % 24
        moment = WINDOW_START_TS + day * 86_400 + hour * 3600 + rng.randrange(3600)
        return min(end - 60, max(start, moment))

    # ------------------------------------------------------------------------------------------ events

    def _events(
        self,
        rng: random.Random,
        extras: random.Random,
        traits: _WalletTraits,
        positions: list[Position],
        *,
        deposit_at: int | None,
        deposit_by: int | None,
    ) -> list[_Event]:
        """Events in time order, one per second at most; pinned family trades keep their exact second."""
        pinned: list[_Event] = []
        loose: list[_Event] = []
        order = 0
        for position in positions:
            bucket = pinned if position.pinned else loose
            stable = position.stable
            for ts, lamports in position.buys:
                bucket.append(_Event(ts, BUY, position.token, lamports, 0.0, position.pinned, order, stable))
                order += 1
            for ts, share in position.sells:
                bucket.append(_Event(ts, SELL, position.token, 0, share, position.pinned, order, stable))
                order += 1
        for event in pinned + loose:
            if extras.random() < traits.fail_rate:
                # An attempt shortly before the trade that worked, never before the token existed.
                launched = self._universe.tokens[event.token].launch_ts
                failed_ts = max(event.ts - extras.randint(1, 15), launched + 1)
                loose.append(_Event(failed_ts, FAILED, event.token, 0, 0.0, False, order, event.stable))
                order += 1
        for _ in range(rng.randint(0, 3)):
            kind = TRANSFER_OUT if rng.random() < 0.6 else TRANSFER_IN
            amount = int(10 ** rng.uniform(-0.5, 1.2) * traits.size_scale * LAMPORTS_PER_SOL)
            loose.append(_Event(self._entry_time(rng, traits), kind, -1, amount, 0.0, False, order))
            order += 1
        taken: set[int] = set()
        placed: list[_Event] = []
        for event in sorted(pinned, key=lambda e: (e.ts, e.order)):
            while event.ts in taken:
                event.ts += 1
            taken.add(event.ts)
            placed.append(event)
        last = WINDOW_START_TS + 59
        for event in sorted(loose, key=lambda e: (e.ts, e.order)):
            event.ts = max(event.ts, last + 1)
            while event.ts in taken:
                event.ts += 1
            last = event.ts
            placed.append(event)
        timeline = sorted((e for e in placed if e.ts < ANCHOR_TS), key=lambda e: e.ts)
        if timeline or deposit_at is not None:
            first = timeline[0].ts if timeline else ANCHOR_TS
            deposit_ts = max(WINDOW_START_TS, first - rng.randint(60, 3600))
            if deposit_at is not None:
                deposit_ts = deposit_at
            elif deposit_by is not None:
                deposit_ts = min(deposit_ts, deposit_by)
            funding = [_Event(deposit_ts, TRANSFER_IN, -1, 0, 0.0, False, -1)]
            if any(event.stable for event in timeline):
                funding.append(_Event(deposit_ts + _STABLE_DEPOSIT_DELAY_S, STABLE_IN, -1, 0, 0.0, False, -1))
            timeline[:0] = funding
        return timeline

    # ------------------------------------------------------------------------------------------ execution

    def _execute(
        self,
        address: str,
        *,
        profile: WalletProfile,
        traits: _WalletTraits,
        rng: random.Random,
        extras: random.Random,
        events: list[_Event],
        limit: int | None,
        funder: str,
    ) -> History:
        """Replay events against the pools: amounts, rent, WSOL routing; then size the funding deposits."""
        universe = self._universe
        holdings: dict[int, int] = {}
        native = 0
        lowest = 0
        wsol = 0
        usdc = 0
        lowest_usdc = 0
        stable_deposit: dict[str, Any] | None = None
        drafts: list[dict[str, Any]] = []
        for event in events:
            if len(drafts) == limit:
                break
            draft: dict[str, Any] = {
                "ts": event.ts,
                "kind": event.kind,
                "token": event.token,
                "token_delta": 0,
                "sol_delta": 0,
                "fee": 0,
                "rent_delta": 0,
                "via_wsol": False,
                "source": "SYSTEM_PROGRAM",
                "counterparty": "",
                "wsol_in_lamports": False,
                "stable": event.stable,
                "quote_raw": 0,
                "tip": 0,
                "tip_account": "",
            }
            if event.kind in (BUY, SELL, FAILED):
                token = universe.tokens[event.token]
                draft["source"] = "JUPITER" if rng.random() < 0.2 else token.venue
                draft["fee"] = BASE_FEE_LAMPORTS + int(traits.priority_fee * rng.uniform(0.5, 1.5))
                pump_quirk = draft["source"] == "PUMP_AMM" and rng.random() < 0.25
                draft["wsol_in_lamports"] = pump_quirk and not event.stable
            if event.kind in (BUY, SELL) and extras.random() < traits.tip_p:
                draft["tip"] = max(1_000, int(traits.tip_scale * extras.lognormvariate(0.0, 0.5)))
                draft["tip_account"] = extras.choice(JITO_TIP_ACCOUNTS)
            if event.kind == BUY:
                want_wsol = traits.uses_wsol and rng.random() < 0.6
                if event.stable:
                    self._fill_buy(draft, event, holdings, 0, want_wsol=False)
                    usdc -= self._settle_in_usdc(draft)
                else:
                    wsol = self._fill_buy(draft, event, holdings, wsol, want_wsol=want_wsol)
            elif event.kind == SELL:
                if not holdings.get(event.token):
                    continue
                via_wsol = traits.uses_wsol and rng.random() < 0.25
                edge = rng.uniform(0.0, 2 * traits.edge)
                sold = self._fill_sell(
                    draft, event, holdings, wsol, via_wsol=via_wsol and not event.stable, edge=edge
                )
                if sold is None:
                    continue
                if event.stable:
                    usdc += self._settle_in_usdc(draft)
                else:
                    wsol = sold
            elif event.kind == TRANSFER_IN:
                draft["counterparty"] = (
                    funder if event.order == -1 else _EXCHANGE_COUNTERPARTIES[rng.randrange(8)]
                )
                draft["sol_delta"] = event.amount
            elif event.kind == TRANSFER_OUT:
                draft["counterparty"] = _EXCHANGE_COUNTERPARTIES[rng.randrange(8)]
                draft["sol_delta"] = -event.amount
                draft["fee"] = BASE_FEE_LAMPORTS
            elif event.kind == STABLE_IN:
                draft["counterparty"] = _EXCHANGE_COUNTERPARTIES[extras.randrange(8)]
                draft["source"] = "SOLANA_PROGRAM_LIBRARY"
                draft["fee"] = BASE_FEE_LAMPORTS
                stable_deposit = draft
            native += _draft_native_change(draft)
            lowest = min(lowest, native)
            lowest_usdc = min(lowest_usdc, usdc)
            drafts.append(draft)
        if drafts:
            # The first transaction funds the wallet with enough to never go below a cushion.
            cushion = int(rng.uniform(0.2, 3.0) * traits.size_scale * LAMPORTS_PER_SOL)
            drafts[0]["sol_delta"] = cushion - lowest
            native += cushion - lowest
        if stable_deposit is not None:
            usdc_cushion = int(extras.uniform(20.0, 500.0) * 10**_USDC_DECIMALS)
            stable_deposit["quote_raw"] = usdc_cushion - lowest_usdc
            usdc += usdc_cushion - lowest_usdc
        return History(
            profile=profile,
            address_bytes=b"",
            size_key=0,
            txs=tuple(Tx(**draft) for draft in drafts),
            final_lamports=native,
            wsol_lamports=wsol,
            usdc_raw=usdc,
            holdings={token: raw for token, raw in holdings.items() if raw > 0},
        )

    def _settle_in_usdc(self, draft: dict[str, Any]) -> int:
        """The USDC (raw, 6 decimals) that moves instead of a filled swap's SOL value, at the SOL/USD of the
        swap's minute."""
        sol_usd = self._universe.sol_usd.at(int(draft["ts"]))
        usdc_raw = max(1, round(abs(int(draft["sol_delta"])) * sol_usd / 10 ** (9 - _USDC_DECIMALS)))
        draft["quote_raw"] = usdc_raw
        return usdc_raw

    def _fill_buy(
        self, draft: dict[str, Any], event: _Event, holdings: dict[int, int], wsol: int, *, want_wsol: bool
    ) -> int:
        token = self._universe.tokens[event.token]
        price = self._universe.path(event.token).price(event.ts)
        raw = max(1, int(event.amount * (1 - _POOL_FEE) / LAMPORTS_PER_SOL / price * 10**token.decimals))
        via_wsol = want_wsol and wsol >= event.amount
        if event.token not in holdings:
            draft["rent_delta"] = -token_account_rent(token)
            holdings[event.token] = 0
        holdings[event.token] += raw
        draft.update(token_delta=raw, sol_delta=-event.amount, via_wsol=via_wsol)
        return wsol - event.amount if via_wsol else wsol

    def _fill_sell(
        self,
        draft: dict[str, Any],
        event: _Event,
        holdings: dict[int, int],
        wsol: int,
        *,
        via_wsol: bool,
        edge: float,
    ) -> int | None:
        """The WSOL balance after the sale, or None when the sale is not worth its fee (a dust bag stays)."""
        token = self._universe.tokens[event.token]
        held = holdings[event.token]
        raw = held if event.share >= 1.0 else min(held, max(1, int(held * event.share)))
        price = self._universe.path(event.token).price(event.ts)
        proceeds = int(raw / 10**token.decimals * price * (1 - _POOL_FEE + edge) * LAMPORTS_PER_SOL)
        if proceeds < _MIN_SELL_LAMPORTS:
            return None
        if raw == held:
            # Trading frontends close emptied token accounts and refund the rent.
            draft["rent_delta"] = token_account_rent(token)
            del holdings[event.token]
        else:
            holdings[event.token] = held - raw
        draft.update(token_delta=-raw, sol_delta=proceeds, via_wsol=via_wsol)
        return wsol + proceeds if via_wsol else wsol

    # ------------------------------------------------------------------------------------------ views

    def intended_trades(self, history: History, signer: Signer) -> list[IntendedTrade]:
        trades: list[IntendedTrade] = []
        for index, tx in enumerate(history.txs):
            if tx.kind not in (BUY, SELL, CREATE):  # a creation is its creator's first buy
                continue
            token = self._universe.tokens[tx.token]
            trades.append(
                IntendedTrade(
                    signature=signer(index),
                    timestamp=tx.ts,
                    slot=slot_at(tx.ts),
                    mint=token.mint,
                    direction="sell" if tx.kind == SELL else "buy",
                    token_amount_raw=abs(tx.token_delta),
                    token_decimals=token.decimals,
                    sol_amount_lamports=abs(tx.sol_delta),
                    fee_lamports=tx.fee,
                    source=tx.source,
                    via_wsol=tx.via_wsol,
                    opened_account=tx.rent_delta < 0,
                    closed_account=tx.rent_delta > 0,
                    quote_mint=USDC_MINT if tx.stable else SOL_MINT,
                    quote_amount_raw=tx.quote_raw if tx.stable else abs(tx.sol_delta),
                    tip_lamports=tx.tip,
                )
            )
        return trades


def transfer_tx(ts: int, kind: int, sol_delta: int, counterparty: str, *, fee: int) -> Tx:
    """A plain SOL transfer in or out of the wallet (funding, a sweep): no token, no swap fields."""
    return Tx(
        ts=ts,
        kind=kind,
        token=-1,
        token_delta=0,
        sol_delta=sol_delta,
        fee=fee,
        rent_delta=0,
        via_wsol=False,
        source="SYSTEM_PROGRAM",
        counterparty=counterparty,
        wsol_in_lamports=False,
        stable=False,
        quote_raw=0,
        tip=0,
        tip_account="",
    )


def _interval(position: Position) -> tuple[int, int]:
    end = position.sells[-1][0] if position.sells else ANCHOR_TS
    return position.buys[0][0] - 30, end + 30


def _overlaps(intervals: Iterable[tuple[int, int]], candidate: tuple[int, int]) -> bool:
    return any(start < candidate[1] and candidate[0] < end for start, end in intervals)


def _draft_native_change(draft: Mapping[str, Any]) -> int:
    kind = draft["kind"]
    if kind == TRANSFER_IN:
        return int(draft["sol_delta"])
    if kind == TRANSFER_OUT:
        return int(draft["sol_delta"]) - int(draft["fee"])
    if kind == FAILED:
        return -int(draft["fee"])
    if kind == STABLE_IN:
        return 0  # the exchange pays the fee and the rent of the wallet's new USDC account
    quote = 0 if draft["via_wsol"] or draft["stable"] else int(draft["sol_delta"])
    return quote + int(draft["rent_delta"]) - int(draft["fee"]) - int(draft["tip"])


def wallet_native_change(tx: Tx) -> int:
    """The wallet's own lamport change in a swap: native quote (unless via WSOL or USDC), rent, minus the
    fee and the tip."""
    return (
        (0 if tx.via_wsol or tx.stable else tx.sol_delta) + tx.rent_delta - tx.fee - tx.tip - tx.created_rent
    )
