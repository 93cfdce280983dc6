"""Family plans: groups of wallets run by one operator, whose shared trades are planned before any history.

A family's plan is a list of positions per member (token, buys with their times and sizes, sells with
their times and shares), pinned to the exact second: the timing is the signal similarity looks for. Each
member's history is then its share of the plan plus its own noise trades, which avoid the family's tokens
so the shared plan stays visible.

- `copy`: a leader trades 20-35 tokens it picks well (most of its losing picks are never made); each
  follower copies about 85 % of them, buying 5-110 s after the leader with its own size scale and selling
  a few seconds to minutes after each of the leader's sells.
- `bundle`: one operator's wallets buy 12-20 fresh launches in the same second (the same slot), 0-3 s
  after launch, each with its own size, and mostly sell hours later.

Members are funded from one shared funder, so the family also shows in where its money came from.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from wallets.simulated_market.universe import ANCHOR_TS, LAUNCH_MARGIN_S, WINDOW_START_TS, Universe
from wallets.swaps import LAMPORTS_PER_SOL

__all__ = ["Family", "FamilyBook", "FamilyKind", "FamilyRole", "Position"]

FamilyKind = Literal["copy", "bundle"]
FamilyRole = Literal["leader", "follower", "member"]

_FAMILY_COUNTS: tuple[tuple[FamilyKind, int], ...] = (("copy", 3), ("bundle", 3))


@dataclass(frozen=True)
class Family:
    name: str
    kind: FamilyKind
    leader: str
    members: list[str]  # leader first


@dataclass(slots=True)
class Position:
    """One planned round trip of a wallet in one token."""

    token: int
    buys: list[tuple[int, int]]  # (timestamp, lamports to spend)
    sells: list[tuple[int, float]]  # (timestamp, share of the holding to sell; 1.0 sells out)
    pinned: bool  # family trades keep their exact timestamps (lags and shared slots are the signal)
    stable: bool = False  # quoted in USDC instead of SOL


class FamilyBook:
    """The fixed families of one seed and every member's planned positions."""

    def __init__(self, universe: Universe) -> None:
        self._universe = universe
        self.families: list[Family] = []
        self.membership: dict[str, tuple[Family, FamilyRole]] = {}
        self.plans: dict[str, list[Position]] = {}
        self.family_mints: dict[str, frozenset[int]] = {}
        for kind, count in _FAMILY_COUNTS:
            for number in range(1, count + 1):
                self._build(kind, f"{kind}-{number}")

    def _build(self, kind: FamilyKind, name: str) -> None:
        derive = self._universe.derive
        rng = derive.rng("family", name)
        size = rng.randint(3, 5)
        members = [derive.address("family", name, i) for i in range(size)]
        family = Family(name=name, kind=kind, leader=members[0], members=members)
        self.families.append(family)
        for position, member in enumerate(members):
            role: FamilyRole = "member" if kind == "bundle" else ("leader" if position == 0 else "follower")
            self.membership[member] = (family, role)
            self.plans[member] = []
        if kind == "copy":
            self._plan_copy_family(family, rng)
        else:
            self._plan_bundle_family(family, rng)
        mints = frozenset(p.token for m in members for p in self.plans[m])
        for member in members:
            self.family_mints[member] = mints

    def _plan_copy_family(self, family: Family, rng: random.Random) -> None:
        universe = self._universe
        leader, followers = family.members[0], family.members[1:]
        scales = {follower: 10 ** rng.uniform(-0.5, 0.2) for follower in followers}
        used: set[int] = set()
        wanted = rng.randint(20, 35)
        for _ in range(8 * wanted):
            if len(used) == wanted:
                break
            buy_ts = rng.randint(WINDOW_START_TS + LAUNCH_MARGIN_S, ANCHOR_TS - 6 * 3600)
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
                if rng.random() > 0.85:
                    continue
                lag = rng.randint(5, 110)
                follower_size = int(size * scales[follower] * rng.uniform(0.8, 1.2))
                follower_sells: list[tuple[int, float]] = []
                previous = buy_ts + lag
                for leader_ts, share in sells:
                    previous = max(leader_ts + rng.randint(5, 240), previous + 5)
                    follower_sells.append((previous, share))
                self.plans[follower].append(
                    Position(token, [(buy_ts + lag, follower_size)], follower_sells, pinned=True)
                )

    def _plan_bundle_family(self, family: Family, rng: random.Random) -> None:
        universe = self._universe
        candidates = universe.launched_between(WINDOW_START_TS + LAUNCH_MARGIN_S, ANCHOR_TS - 12 * 3600)
        tokens = rng.sample(candidates, min(len(candidates), rng.randint(12, 20)))
        for token in tokens:
            buy_ts = universe.tokens[token].launch_ts + rng.randint(0, 3)
            buyers = [m for m in family.members if rng.random() < 0.9]
            if len(buyers) < 3:
                buyers = list(family.members)
            for member in buyers:
                size = int(rng.uniform(0.5, 3.0) * LAMPORTS_PER_SOL)
                sells: list[tuple[int, float]] = []
                if rng.random() >= 0.15:
                    hold = int(min(3 * 86_400, max(60, rng.lognormvariate(math.log(2400), 1.0))))
                    sells = [(buy_ts + hold, 1.0)]
                self.plans[member].append(Position(token, [(buy_ts, size)], sells, pinned=True))

    def funder_key(self, address: str) -> str:
        """What a wallet's funding deposit is derived from: its family's name, else its own address."""
        membership = self.membership.get(address)
        return membership[0].name if membership else address
