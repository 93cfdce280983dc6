"""Token launches: who creates a token, who buys it first, and who holds it now.

A fixed catalogue derived from the seed, each launch a token of its own (no ordinary wallet trades it by
chance) created on pump.fun: the creator signs the creation, which mints the supply into the pool and makes
the creator's own first buy in the same transaction. Then, as real launches go:

- `bundled`: a fresh funder, withdrawn from an exchange hours before, funds the creator, 4 bundle wallets
  and one insider; the creator funds a second insider itself. The 4 bundlers buy in the creation slot,
  3 of the market's sniper bots 1-3 s later (a few slots), the 2 insiders a minute or two later, 20 retail
  buyers over the next 12 hours. Creator, bundlers and insiders keep what they bought.
- `organic`: a creator funded days before and 30 independent retail buyers over a day, each funded from an
  exchange long before: no bundlers, no snipers, no insiders.
- `wide`: about 200 holders: 2 sniper bots, 170 retail buyers and 30 fresh wallets (funded hours before
  their buy) over two days, on a calm price path (so the buyers' tokens stay within the supply).
- `mega`: a year-old token with a million holders, each a wallet whose whole history is its exchange
  withdrawal and one buy. Its token accounts, signatures and holders' histories are generated on demand,
  never held, so paging them stops wherever the reader's cap says.

Participants' own histories contain these events (the creation, the buys, the funding transfers), so
syncing a bundler shows its creation-slot buy and its funding. Creators, bundlers, insiders and fresh
wallets have only their launch activity; retail buyers and sniper bots trade their usual way besides.

`launches()` gives each launch's mint, creator, creation slot, pool and every participant with the role the
market gave it and its classes by the definitions the holders analysis uses, with default thresholds:
`creator` signed the creation; `bundler` (not the creator) bought in the creation slot; `sniper` (not the
creator) bought within `SNIPER_WINDOW_SLOTS` slots of it (bundlers too); `insider` (not the creator) was
first funded by the creator or by the creator's own first funder, unless that is an exchange; `fresh` made
its first transaction less than `FRESH_WINDOW_S` before its first buy. The behaviour class `bot` is the
analysis's own.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import Literal

from wallets.custodians import is_custodian
from wallets.simulated_market.derivation import Derivation, address_bytes, b58encode
from wallets.simulated_market.families import FamilyBook, FundingPlan, Position, pick_exchange_wallet
from wallets.simulated_market.histories import (
    BUY,
    CREATE,
    SELL,
    TRANSFER_IN,
    TRANSFER_OUT,
    History,
    Tx,
    WalletProfile,
    wallet_native_change,
)
from wallets.simulated_market.universe import (
    ANCHOR_TS,
    BASE_FEE_LAMPORTS,
    SPL_TOKEN_PROGRAM,
    TOKEN_ACCOUNT_RENT,
    TokenInfo,
    Universe,
    slot_at,
)
from wallets.simulated_market.wire import CURVE_ACCOUNT_RENT, MINT_ACCOUNT_RENT
from wallets.swaps import LAMPORTS_PER_SOL

__all__ = [
    "CURVE_ACCOUNT_RENT",
    "FRESH_WINDOW_S",
    "MEGA_HOLDERS",
    "MINT_ACCOUNT_RENT",
    "SNIPER_WINDOW_SLOTS",
    "Launch",
    "LaunchBook",
    "LaunchParticipant",
    "Role",
]

SNIPER_WINDOW_SLOTS = 20
FRESH_WINDOW_S = 86_400
MEGA_HOLDERS = 1_000_000
_MEGA_SPACING_S = 30
_MEGA_SUPPLY = 100_000_000_000_000  # whole tokens: a large-supply memecoin
_MEGA_POOL_SHARE = 0.4
_POOL_FEE = 0.0025

Role = Literal["creator", "bundler", "sniper", "insider", "fresh", "retail"]


@dataclass(frozen=True, slots=True)
class LaunchParticipant:
    wallet: str
    role: Role  # what the market made it
    classes: frozenset[str]  # what the definitions say it is (see the module docstring)
    funder: str | None  # the source of its first SOL
    first_tx_at: int
    first_buy_at: int
    first_buy_slot: int


@dataclass(frozen=True)
class Launch:
    name: str
    kind: str
    mint: str
    creator: str
    created_at: int
    creation_slot: int
    decimals: int
    supply_raw: int
    pool: str  # owner of the pool's token account: a program-owned account, not a holder
    participants: tuple[LaunchParticipant, ...]  # every wallet that took part (the mega mint: its creator)
    holder_count: int  # wallets holding the token now, pool excluded


@dataclass(slots=True)
class _Action:
    ts: int
    kind: int  # CREATE, BUY, SELL or TRANSFER_OUT
    lamports: int = 0  # CREATE and BUY: SOL spent; TRANSFER_OUT: amount sent
    share: float = 1.0  # SELL
    counterparty: str = ""  # TRANSFER_OUT


@dataclass(slots=True)
class _Minimal:
    """A wallet that does nothing but its part in a launch."""

    address: str
    launch: str
    role: Role
    funder: str
    funded_at: int
    deposit: int | None  # planned amount when its funder is the creator; else sized to what it needs
    actions: list[_Action] = field(default_factory=list)


@dataclass(slots=True)
class _LaunchPlan:
    name: str
    kind: str
    token: int
    created_at: int
    creator: str
    roles: dict[str, Role]  # wallet -> role, in the order they joined
    generic: set[str] = field(default_factory=set)  # participants whose histories are generated as usual


class LaunchBook:
    """The launch catalogue of one seed: tokens added to the universe, plans, and the minimal histories."""

    def __init__(self, universe: Universe, families: FamilyBook) -> None:
        self._universe = universe
        self._derive: Derivation = universe.derive
        self._families = families
        self.plans: dict[str, _LaunchPlan] = {}  # by name
        self.by_mint: dict[str, _LaunchPlan] = {}
        self.minimal: dict[str, _Minimal] = {}
        self._plan_bundled()
        self._plan_organic()
        self._plan_wide()
        self._plan_mega()

    # ------------------------------------------------------------------------------------------ planning

    def _token(
        self, name: str, created_at: int, *, decimals: int = 6, supply: int = 0, calm: bool = False
    ) -> int:
        rng = self._derive.rng("launch-token", name)
        token = TokenInfo(
            mint=b58encode(self._derive.digest("launch-mint", name)),
            symbol=name.split("-")[1][:4].upper() + str(rng.randint(1, 99)),
            name=f"Launch {name.split('-')[1].title()}",
            decimals=decimals,
            launch_ts=created_at,
            program=SPL_TOKEN_PROGRAM,
            venue="PUMP_AMM",
            popularity=0.0,
            **({"supply": supply} if supply else {}),
        )
        return self._universe.add_token(token, calm=calm)

    def _new_plan(
        self, name: str, kind: str, created_at: int, *, decimals: int = 6, supply: int = 0
    ) -> _LaunchPlan:
        # The wide launch's buys spread over two days: on a memecoin's path, which can fall a hundredfold in
        # that time, late buyers got more tokens than the supply holds and the pool's amount went negative.
        calm = kind in ("mega", "wide")
        token = self._token(name, created_at, decimals=decimals, supply=supply, calm=calm)
        plan = _LaunchPlan(name, kind, token, created_at, self._derive.address("launch-creator", name), {})
        self.plans[name] = plan
        self.by_mint[self._universe.tokens[token].mint] = plan
        return plan

    def _add_minimal(
        self,
        plan: _LaunchPlan,
        address: str,
        role: Role,
        *,
        funder: str,
        funded_at: int,
        deposit: int | None = None,
    ) -> _Minimal:
        wallet = _Minimal(address, plan.name, role, funder, funded_at, deposit)
        self.minimal[address] = wallet
        plan.roles[address] = role
        return wallet

    def _exchange(self, *parts: str | int) -> str:
        return pick_exchange_wallet(self._derive.rng("launch-exchange", *parts))

    def _retail(self, plan: _LaunchPlan, rng: random.Random, count: int, window: tuple[int, int]) -> None:
        """Ordinary wallets (flippers and holders, funded from exchanges long before) that buy once."""
        number = 0
        added = 0
        while added < count:
            address = self._derive.address("launch-retail", plan.name, number)
            number += 1
            archetype_roll = self._derive.rng("archetype", address_bytes(address)).random()
            if (
                archetype_roll >= 0.65
            ):  # the archetype draw of ordinary wallets: flipper < 0.40 <= holder < 0.65
                continue
            buy_at = plan.created_at + rng.randint(*window)
            sells = (
                [(buy_at + rng.randint(1800, 4 * 86_400), rng.uniform(0.3, 0.8))]
                if rng.random() < 0.4
                else []
            )
            lamports = int(rng.lognormvariate(math.log(0.6), 0.7) * LAMPORTS_PER_SOL)
            self._families.plans.setdefault(address, []).append(
                Position(plan.token, [(buy_at, lamports)], sells, pinned=True)
            )
            self._families.latest_deposit[address] = buy_at - 2 * 86_400
            plan.roles[address] = "retail"
            plan.generic.add(address)
            added += 1

    def _snipers(self, plan: _LaunchPlan, rng: random.Random, bots: list[str], *, holding: int) -> None:
        for position, bot in enumerate(bots):
            buy_at = plan.created_at + rng.randint(1, 3)
            sells = [] if position < holding else [(buy_at + rng.randint(30, 900), 1.0)]
            lamports = int(rng.uniform(0.3, 1.5) * LAMPORTS_PER_SOL)
            self._families.plans[bot].append(Position(plan.token, [(buy_at, lamports)], sells, pinned=True))
            plan.roles[bot] = "sniper"
            plan.generic.add(bot)

    def _fresh(self, plan: _LaunchPlan, rng: random.Random, count: int, window: tuple[int, int]) -> None:
        for number in range(count):
            address = self._derive.address("launch-fresh", plan.name, number)
            buy_at = plan.created_at + rng.randint(*window)
            funded_at = buy_at - rng.randint(3600, 20 * 3600)
            wallet = self._add_minimal(
                plan, address, "fresh", funder=self._exchange(plan.name, "fresh", number), funded_at=funded_at
            )
            wallet.actions.append(_Action(buy_at, BUY, int(rng.uniform(0.2, 2.0) * LAMPORTS_PER_SOL)))
            if rng.random() < 0.5:
                wallet.actions.append(
                    _Action(buy_at + rng.randint(600, 86_400), SELL, share=rng.uniform(0.5, 1.0))
                )

    def _plan_bundled(self) -> None:
        rng = self._derive.rng("launch", "bundled")
        created_at = ANCHOR_TS - 5 * 86_400 + rng.randint(0, 12 * 3600)
        plan = self._new_plan("launch-bundled", "bundled", created_at)
        derive = self._derive
        operator = derive.address("launch-funder", plan.name)
        creator = self._add_minimal(
            plan, plan.creator, "creator", funder=operator, funded_at=created_at - 5 * 3600
        )
        bundlers = [
            self._add_minimal(
                plan,
                derive.address("launch-bundler", plan.name, number),
                "bundler",
                funder=operator,
                funded_at=created_at - 4 * 3600 + number * rng.randint(60, 600),
            )
            for number in range(4)
        ]
        # One insider funded by the creator's own funder, one by the creator itself.
        by_operator = self._add_minimal(
            plan,
            derive.address("launch-insider", plan.name, 0),
            "insider",
            funder=operator,
            funded_at=created_at - 3 * 3600,
        )
        insider_buy = int(rng.uniform(1.0, 3.0) * LAMPORTS_PER_SOL)
        by_creator = self._add_minimal(
            plan,
            derive.address("launch-insider", plan.name, 1),
            "insider",
            funder=plan.creator,
            funded_at=created_at - 2 * 3600,
            deposit=insider_buy + LAMPORTS_PER_SOL // 10,
        )
        creator.actions.append(
            _Action(
                by_creator.funded_at, TRANSFER_OUT, by_creator.deposit or 0, counterparty=by_creator.address
            )
        )
        creator.actions.append(_Action(created_at, CREATE, int(rng.uniform(1.0, 2.5) * LAMPORTS_PER_SOL)))
        for bundler in bundlers:
            bundler.actions.append(_Action(created_at, BUY, int(rng.uniform(1.0, 4.0) * LAMPORTS_PER_SOL)))
        by_operator.actions.append(
            _Action(created_at + rng.randint(40, 120), BUY, int(rng.uniform(1.0, 3.0) * LAMPORTS_PER_SOL))
        )
        by_creator.actions.append(_Action(created_at + rng.randint(40, 120), BUY, insider_buy))
        members = sorted((creator, *bundlers, by_operator), key=lambda wallet: wallet.funded_at)
        self._fund(operator, plan.name, created_at - 6 * 3600, members)
        self._snipers(plan, rng, self._families.sniper_bots[:3], holding=1)
        self._retail(plan, rng, 20, (600, 12 * 3600))

    def _fund(self, funder: str, name: str, funded_at: int, members: list[_Minimal]) -> None:
        """A fresh funder that withdrew from an exchange and funded these wallets, in time order."""
        plan = FundingPlan(
            funder,
            self._exchange(name, "operator"),
            funded_at,
            tuple((member.address, member.funded_at) for member in members),
        )
        self._families.funding_plans[funder] = plan
        for index, member in enumerate(members, start=1):
            self._families.funded_by[member.address] = (funder, member.funded_at, index)

    def _plan_organic(self) -> None:
        rng = self._derive.rng("launch", "organic")
        created_at = ANCHOR_TS - 8 * 86_400 + rng.randint(0, 12 * 3600)
        plan = self._new_plan("launch-organic", "organic", created_at)
        creator = self._add_minimal(
            plan,
            plan.creator,
            "creator",
            funder=self._exchange(plan.name, "creator"),
            funded_at=created_at - 3 * 86_400,
        )
        creator.actions.append(_Action(created_at, CREATE, int(rng.uniform(0.2, 0.8) * LAMPORTS_PER_SOL)))
        self._retail(plan, rng, 30, (600, 86_400))

    def _plan_wide(self) -> None:
        rng = self._derive.rng("launch", "wide")
        created_at = ANCHOR_TS - 12 * 86_400 + rng.randint(0, 12 * 3600)
        plan = self._new_plan("launch-wide", "wide", created_at)
        creator = self._add_minimal(
            plan,
            plan.creator,
            "creator",
            funder=self._exchange(plan.name, "creator"),
            funded_at=created_at - 2 * 86_400,
        )
        creator.actions.append(_Action(created_at, CREATE, int(rng.uniform(0.3, 1.0) * LAMPORTS_PER_SOL)))
        self._snipers(plan, rng, self._families.sniper_bots[3:5], holding=0)
        self._retail(plan, rng, 170, (300, 2 * 86_400))
        self._fresh(plan, rng, 30, (300, 2 * 86_400))

    def _plan_mega(self) -> None:
        created_at = ANCHOR_TS - 350 * 86_400
        plan = self._new_plan("launch-mega", "mega", created_at, decimals=5, supply=_MEGA_SUPPLY)
        creator = self._add_minimal(
            plan,
            plan.creator,
            "creator",
            funder=self._exchange(plan.name, "creator"),
            funded_at=created_at - 3 * 86_400,
        )
        creator.actions.append(_Action(created_at, CREATE, LAMPORTS_PER_SOL))
        self.mega = plan

    # ------------------------------------------------------------------------------------ minimal wallets

    def minimal_profile(self, address: str) -> WalletProfile:
        role = self.minimal[address].role
        return WalletProfile(address, "sniper" if role == "bundler" else "flipper", None, None)

    def minimal_history(self, address: str, raw: bytes) -> History:
        """The history of a wallet that only takes part in a launch: its funding, then its actions."""
        wallet = self.minimal[address]
        plan = self.plans[wallet.launch]
        token_index = plan.token
        token = self._universe.tokens[token_index]
        path = self._universe.path(token_index)
        rng = self._derive.rng("launch-wallet", raw)
        txs: list[Tx] = [_tx(wallet.funded_at, TRANSFER_IN, sol_delta=0, counterparty=wallet.funder)]
        held = 0
        native = lowest = 0
        for action in sorted(wallet.actions, key=lambda item: item.ts):
            fee = BASE_FEE_LAMPORTS + int(rng.uniform(20_000, 400_000))
            if action.kind == TRANSFER_OUT:
                tx = _tx(
                    action.ts,
                    TRANSFER_OUT,
                    sol_delta=-action.lamports,
                    counterparty=action.counterparty,
                    fee=BASE_FEE_LAMPORTS,
                )
            elif action.kind in (CREATE, BUY):
                bought = max(
                    1,
                    int(
                        action.lamports
                        * (1 - _POOL_FEE)
                        / LAMPORTS_PER_SOL
                        / path.price(action.ts)
                        * 10**token.decimals
                    ),
                )
                tx = _tx(
                    action.ts,
                    action.kind,
                    token=token_index,
                    token_delta=bought,
                    sol_delta=-action.lamports,
                    fee=fee,
                    rent_delta=-TOKEN_ACCOUNT_RENT if held == 0 else 0,
                    source="PUMP_FUN" if action.kind == CREATE else token.venue,
                    created_rent=MINT_ACCOUNT_RENT + CURVE_ACCOUNT_RENT + TOKEN_ACCOUNT_RENT
                    if action.kind == CREATE
                    else 0,
                )
                held += bought
            else:
                sold = held if action.share >= 1.0 else max(1, int(held * action.share))
                proceeds = int(
                    sold / 10**token.decimals * path.price(action.ts) * (1 - _POOL_FEE) * LAMPORTS_PER_SOL
                )
                tx = _tx(
                    action.ts,
                    SELL,
                    token=token_index,
                    token_delta=-sold,
                    sol_delta=proceeds,
                    fee=fee,
                    rent_delta=TOKEN_ACCOUNT_RENT if sold == held else 0,
                    source=token.venue,
                )
                held -= sold
            txs.append(tx)
            native += _native_change(tx)
            lowest = min(lowest, native)
        deposit = wallet.deposit
        if deposit is None:
            deposit = int(rng.uniform(0.05, 0.5) * LAMPORTS_PER_SOL) - lowest
        if deposit + lowest < 0:
            raise AssertionError(f"{address}'s planned funding does not cover its launch")  # a planning bug
        txs[0] = _tx(wallet.funded_at, TRANSFER_IN, sol_delta=deposit, counterparty=wallet.funder)
        shared: dict[int, tuple[str, int]] = {}
        funded_by = self._families.funded_by.get(address)
        if funded_by is not None:
            shared[0] = (funded_by[0], funded_by[2])
        elif wallet.funder in self.minimal:
            # Funded by the creator: the creator's transfer, one transaction in both histories.
            creator_actions = sorted(self.minimal[wallet.funder].actions, key=lambda item: item.ts)
            position = next(
                i for i, action in enumerate(creator_actions, start=1) if action.counterparty == address
            )
            shared[0] = (wallet.funder, position)
        profile = self.minimal_profile(address)
        holdings = {token_index: held} if held else {}
        return History(profile, raw, 0, tuple(txs), deposit + native, 0, 0, holdings, shared)

    def first_funder(self, address: str) -> str | None:
        wallet = self.minimal.get(address)
        return None if wallet is None else wallet.funder

    # ------------------------------------------------------------------------------------------ the mega mint

    def mega_holder(self, number: int) -> str:
        tag = self._derive.digest("mega-holder", number)[:28]
        masked = (number ^ int.from_bytes(tag[:4], "big")).to_bytes(4, "big")
        return b58encode(tag + masked)

    def mega_holder_number(self, raw: bytes) -> int | None:
        """Which of the mega mint's holders an address is, if it is one: the address carries its number."""
        if len(raw) != 32:
            return None
        tag = raw[:28]
        number = int.from_bytes(raw[28:], "big") ^ int.from_bytes(tag[:4], "big")
        if number >= MEGA_HOLDERS or self._derive.digest("mega-holder", number)[:28] != tag:
            return None
        return number

    def mega_buy(self, number: int) -> tuple[int, int, int, int]:
        """(time, SOL spent, tokens bought raw, funded how long before) of the mega holder's single buy."""
        draw = int.from_bytes(hashlib.sha256(self._derive.digest("mega-buy", number)).digest()[:8], "big")
        at = self.mega.created_at + 600 + number * _MEGA_SPACING_S
        lamports = int((0.05 + (draw & 0xFFFF) / 0xFFFF * 1.95) * LAMPORTS_PER_SOL)
        token = self._universe.tokens[self.mega.token]
        price = self._universe.path(self.mega.token).price(at)
        raw = max(1, int(lamports * (1 - _POOL_FEE) / LAMPORTS_PER_SOL / price * 10**token.decimals))
        funded_before = 3600 + (draw >> 16 & 0xFFFFFF) % (71 * 3600)
        return at, lamports, raw, funded_before

    def mega_holder_history(self, number: int, address: str, raw: bytes) -> History:
        at, lamports, bought, funded_before = self.mega_buy(number)
        fee = BASE_FEE_LAMPORTS + 50_000
        cushion = 20_000_000
        deposit = lamports + fee + TOKEN_ACCOUNT_RENT + cushion
        funder = self._exchange("mega", number)
        txs = (
            _tx(at - funded_before, TRANSFER_IN, sol_delta=deposit, counterparty=funder),
            _tx(
                at,
                BUY,
                token=self.mega.token,
                token_delta=bought,
                sol_delta=-lamports,
                fee=fee,
                rent_delta=-TOKEN_ACCOUNT_RENT,
                source=self._universe.tokens[self.mega.token].venue,
            ),
        )
        profile = WalletProfile(address, "holder", None, None)
        return History(profile, raw, 0, txs, cushion, 0, 0, {self.mega.token: bought}, {})

    def mega_pool_amount(self) -> int:
        """The mega mint's pool holds a fixed share of the supply (the rest of the supply is not reconciled
        with the million holders' amounts, which would take summing them all)."""
        token = self._universe.tokens[self.mega.token]
        return int(token.supply * 10**token.decimals * _MEGA_POOL_SHARE)

    def mega_funder(self, number: int) -> str:
        return self._exchange("mega", number)


def classes_of(
    *,
    wallet: str,
    creator: str,
    creator_funder: str | None,
    creation_slot: int,
    funder: str | None,
    first_tx_at: int,
    first_buy_at: int,
    first_buy_slot: int,
) -> frozenset[str]:
    """The holders analysis's classes of a wallet, by their definitions with default thresholds."""
    classes: set[str] = set()
    if wallet == creator:
        return frozenset({"creator", *({"fresh"} if first_buy_at - first_tx_at < FRESH_WINDOW_S else set())})
    if first_buy_slot == creation_slot:
        classes.add("bundler")
    if first_buy_slot - creation_slot <= SNIPER_WINDOW_SLOTS:
        classes.add("sniper")
    if funder == creator or (
        creator_funder is not None and not is_custodian(creator_funder) and funder == creator_funder
    ):
        classes.add("insider")
    if first_buy_at - first_tx_at < FRESH_WINDOW_S:
        classes.add("fresh")
    return frozenset(classes)


def creation_slot_of(created_at: int) -> int:
    return slot_at(created_at)


def _native_change(tx: Tx) -> int:
    if tx.kind == TRANSFER_IN:
        return tx.sol_delta
    if tx.kind == TRANSFER_OUT:
        return tx.sol_delta - tx.fee
    return wallet_native_change(tx)


def _tx(
    ts: int,
    kind: int,
    *,
    sol_delta: int,
    counterparty: str = "",
    fee: int = 0,
    token: int = -1,
    token_delta: int = 0,
    rent_delta: int = 0,
    source: str = "SYSTEM_PROGRAM",
    created_rent: int = 0,
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
        counterparty=counterparty,
        wsol_in_lamports=False,
        stable=False,
        quote_raw=0,
        tip=0,
        tip_account="",
        created_rent=created_rent,
    )
