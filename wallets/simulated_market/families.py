"""Market structure: who trades with whom, and who funded whom, planned before any history is generated.

Real markets link wallets in a few ways that investigators look for, and a few that only look like links.
The market plants both, each a fixed part of the seed:

Families (`families()`), wallets run by one operator or following one:
- `copy`: a leader trades 20-35 tokens it picks well (most of its losing picks are never made); each
  follower copies about 90 % of them with a lag of its own, 30-90 s, steady to a few seconds, and sells a
  few seconds to minutes after each of the leader's sells. In about one shared buy in ten the follower is
  ahead instead (it saw the same call), so the leader buys first in about 90 % of their shared buys.
  Copy traders are independent people: each is funded from an exchange.
- `bundle`: one operator's wallets buy 12-20 fresh launches in the same second (the same slot), 0-3 s
  after launch, each with its own size, and mostly sell hours later. They are funded by one fresh funder.
- `funded`: 3-5 wallets funded by one fresh funder that then trade on their own: different tokens (the
  universe is split between them), at different times. Only the funding links them.

A fresh funder is an address with no other activity: an exchange withdrawal in, then one transfer out to
each member, minutes apart, early in the window. Its own history shows exactly that, and each transfer is
one transaction with one signature in both histories.

Unrelated structure that looks like a link:
- Sniper bots (`sniper_bots()`): five independent bots that each buy 70-90 % of all launches within
  seconds (median ~3 s), sell within minutes, fail often and tip. They co-buy with every bundle and with
  each other, so they are hubs, not family.
- Exchange hot wallets: every other wallet's first deposit comes from a real, publicly labelled exchange
  hot wallet (`wallets.custodians`), so thousands of unrelated wallets share a "funder".

Each member's history is its share of the plan plus its own noise trades, which avoid the family's tokens so
the shared plan stays visible.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal

from wallets.custodians import CUSTODIANS
from wallets.simulated_market.universe import ANCHOR_TS, LAUNCH_MARGIN_S, WINDOW_START_TS, Universe
from wallets.swaps import LAMPORTS_PER_SOL

__all__ = [
    "EXCHANGE_WEIGHTS",
    "Family",
    "FamilyBook",
    "FamilyKind",
    "FamilyRole",
    "FundingPlan",
    "Position",
    "pick_exchange_wallet",
]

FamilyKind = Literal["copy", "bundle", "funded"]
FamilyRole = Literal["leader", "follower", "member"]

_FAMILY_COUNTS: tuple[tuple[FamilyKind, int], ...] = (("copy", 3), ("bundle", 3), ("funded", 3))
_SNIPER_BOTS = 5
_COPY_LAG_S = (30, 90)
_COPY_LAG_JITTER_S = 4
_FOLLOWER_AHEAD_P = 0.1
# Where withdrawals come from: the share of users per exchange (a rough picture, not a measurement).
EXCHANGE_WEIGHTS = {"Binance": 0.35, "Coinbase": 0.25, "OKX": 0.15, "Bybit": 0.15, "Kraken": 0.10}
_HOT_WALLETS = {
    exchange: tuple(entry.address for entry in CUSTODIANS if entry.exchange == exchange)
    for exchange in EXCHANGE_WEIGHTS
}


def pick_exchange_wallet(rng: random.Random) -> str:
    """A hot wallet a withdrawal comes from: an exchange by its share of users, then one of its wallets."""
    exchange = rng.choices(tuple(EXCHANGE_WEIGHTS), weights=tuple(EXCHANGE_WEIGHTS.values()))[0]
    return rng.choice(_HOT_WALLETS[exchange])


@dataclass(frozen=True)
class Family:
    name: str
    kind: FamilyKind
    leader: str
    members: list[str]  # leader first
    funder: str | None = None  # the fresh funder of every member (bundle, funded); None when from exchanges
    lags: dict[str, int] = field(default_factory=dict)  # copy: each follower's usual lag behind the leader, s


@dataclass(frozen=True, slots=True)
class FundingPlan:
    """A fresh funder: one exchange withdrawal in, then one transfer out to each member."""

    funder: str
    source: str  # the exchange hot wallet it withdrew from
    funded_at: int
    transfers: tuple[tuple[str, int], ...]  # (member, time), in time order


@dataclass(slots=True)
class Position:
    """One planned round trip of a wallet in one token."""

    token: int
    buys: list[tuple[int, int]]  # (timestamp, lamports to spend)
    sells: list[tuple[int, float]]  # (timestamp, share of the holding to sell; 1.0 sells out)
    pinned: bool  # family trades keep their exact timestamps (lags and shared slots are the signal)
    stable: bool = False  # quoted in USDC instead of SOL


class FamilyBook:
    """The fixed structure of one seed: families, fresh funders, sniper bots, and their planned positions."""

    def __init__(self, universe: Universe) -> None:
        self._universe = universe
        self.families: list[Family] = []
        self.membership: dict[str, tuple[Family, FamilyRole]] = {}
        self.plans: dict[str, list[Position]] = {}
        self.family_mints: dict[str, frozenset[int]] = {}  # tokens a member's own noise trades avoid
        self.funding_plans: dict[str, FundingPlan] = {}  # by funder
        self.funded_by: dict[str, tuple[str, int, int]] = {}  # member -> (funder, time, index in its history)
        self.latest_deposit: dict[str, int] = {}  # wallets that must be funded by then (launch retail buyers)
        self.sniper_bots: list[str] = []
        for kind, count in _FAMILY_COUNTS:
            for number in range(1, count + 1):
                self._build(kind, f"{kind}-{number}")
        for number in range(_SNIPER_BOTS):
            self._plan_sniper_bot(number)

    def _build(self, kind: FamilyKind, name: str) -> None:
        derive = self._universe.derive
        rng = derive.rng("family", name)
        size = rng.randint(3, 5)
        members = [derive.address("family", name, i) for i in range(size)]
        for member in members:
            self.plans[member] = []
        funder: str | None = None
        lags: dict[str, int] = {}
        if kind == "copy":
            lags = self._plan_copy_family(members, rng)
        elif kind == "bundle":
            self._plan_bundle_family(members, rng)
        if kind in ("bundle", "funded"):
            funder = self._plan_funding(name, members, rng)
        family = Family(name=name, kind=kind, leader=members[0], members=members, funder=funder, lags=lags)
        self.families.append(family)
        for position, member in enumerate(members):
            role: FamilyRole = "member" if kind != "copy" else ("leader" if position == 0 else "follower")
            self.membership[member] = (family, role)
        if kind == "funded":
            # Each member trades its own share of the universe: different tokens from the others'.
            for position, member in enumerate(members):
                self.family_mints[member] = frozenset(
                    index for index in range(len(self._universe.tokens)) if index % size != position
                )
        else:
            mints = frozenset(p.token for m in members for p in self.plans[m])
            for member in members:
                self.family_mints[member] = mints

    def _plan_funding(self, name: str, members: list[str], rng: random.Random) -> str:
        derive = self._universe.derive
        funder = derive.address("funder", name)
        funded_at = WINDOW_START_TS + rng.randint(0, 1200)
        transfers: list[tuple[str, int]] = []
        moment = funded_at
        for member in members:
            moment += rng.randint(60, 900)
            transfers.append((member, moment))
        if moment >= WINDOW_START_TS + LAUNCH_MARGIN_S - 60:
            raise AssertionError("fresh funders must finish before the first trades")  # a planning bug
        plan = FundingPlan(
            funder, pick_exchange_wallet(derive.rng("funder-source", name)), funded_at, tuple(transfers)
        )
        self.funding_plans[funder] = plan
        for index, (member, moment) in enumerate(plan.transfers, start=1):
            self.funded_by[member] = (funder, moment, index)
        return funder

    def _plan_copy_family(self, members: list[str], rng: random.Random) -> dict[str, int]:
        universe = self._universe
        leader, followers = members[0], members[1:]
        scales = {follower: 10 ** rng.uniform(-0.5, 0.2) for follower in followers}
        lags = {follower: rng.randint(_COPY_LAG_S[0] + 5, _COPY_LAG_S[1] - 5) for follower in followers}
        used: set[int] = set()
        wanted = rng.randint(20, 35)
        for _ in range(8 * wanted):
            if len(used) == wanted:
                break
            buy_ts = rng.randint(WINDOW_START_TS + LAUNCH_MARGIN_S + 300, ANCHOR_TS - 6 * 3600)
            token = universe.pick_token(rng, buy_ts - 600, 3 * 86_400, frozenset(used))
            if token is None:
                continue
            hold = int(min(12 * 3600, max(180, rng.lognormvariate(math.log(900), 0.8))))
            # Leaders are worth copying: most of their losing picks are never made.
            if not universe.gains(token, buy_ts, buy_ts + hold) and rng.random() < 0.7:
                continue
            used.add(token)
            size = int(10 ** rng.uniform(math.log10(0.5), math.log10(5.0)) * LAMPORTS_PER_SOL)
            sells = [(buy_ts + hold, 1.0)]
            if rng.random() < 0.35:
                sells = [
                    (buy_ts + hold, rng.uniform(0.3, 0.7)),
                    (buy_ts + hold + int(hold * rng.uniform(0.2, 1.0)), 1.0),
                ]
            self.plans[leader].append(Position(token, [(buy_ts, size)], sells, pinned=True))
            for follower in followers:
                if rng.random() > 0.9:
                    continue
                lag = lags[follower] + rng.randint(-_COPY_LAG_JITTER_S, _COPY_LAG_JITTER_S)
                if rng.random() < _FOLLOWER_AHEAD_P:
                    lag = -rng.randint(20, 120)  # it saw the same call first
                follower_size = int(size * scales[follower] * rng.uniform(0.8, 1.2))
                follower_sells: list[tuple[int, float]] = []
                previous = buy_ts + max(lag, 0)
                for leader_ts, share in sells:
                    previous = max(leader_ts + rng.randint(5, 240), previous + 5)
                    follower_sells.append((previous, share))
                self.plans[follower].append(
                    Position(token, [(buy_ts + lag, follower_size)], follower_sells, pinned=True)
                )
        return lags

    def _plan_bundle_family(self, members: list[str], rng: random.Random) -> None:
        universe = self._universe
        candidates = universe.launched_between(WINDOW_START_TS + LAUNCH_MARGIN_S, ANCHOR_TS - 12 * 3600)
        tokens = rng.sample(candidates, min(len(candidates), rng.randint(12, 20)))
        for token in tokens:
            buy_ts = universe.tokens[token].launch_ts + rng.randint(0, 3)
            buyers = [m for m in members if rng.random() < 0.9]
            if len(buyers) < 3:
                buyers = list(members)
            for member in buyers:
                size = int(rng.uniform(0.5, 3.0) * LAMPORTS_PER_SOL)
                sells: list[tuple[int, float]] = []
                if rng.random() >= 0.15:
                    hold = int(min(3 * 86_400, max(60, rng.lognormvariate(math.log(2400), 1.0))))
                    sells = [(buy_ts + hold, 1.0)]
                self.plans[member].append(Position(token, [(buy_ts, size)], sells, pinned=True))

    def _plan_sniper_bot(self, number: int) -> None:
        universe = self._universe
        rng = universe.derive.rng("sniper-bot", number)
        bot = universe.derive.address("sniper-bot", number)
        coverage = rng.uniform(0.7, 0.9)
        size_median = rng.uniform(0.2, 1.0)
        hold_median = rng.uniform(40.0, 240.0)
        plan: list[Position] = []
        for token in universe.launched_between(WINDOW_START_TS + LAUNCH_MARGIN_S, ANCHOR_TS - 3600):
            if rng.random() >= coverage:
                continue
            entry = universe.tokens[token].launch_ts + min(
                15, 1 + int(rng.lognormvariate(math.log(2.0), 0.7))
            )
            size = int(min(5.0, rng.lognormvariate(math.log(size_median), 0.4)) * LAMPORTS_PER_SOL)
            sells: list[tuple[int, float]] = []
            if rng.random() >= 0.03:
                hold = int(min(1800, max(5, rng.lognormvariate(math.log(hold_median), 0.9))))
                sells = [(entry + hold, 1.0)]
            plan.append(Position(token, [(entry, size)], sells, pinned=False))
        self.sniper_bots.append(bot)
        self.plans[bot] = plan
