"""Who the holders of a token are and how much of its supply acts together: the classes of docs/METHODS.md §6,
supply shares, holder clusters and the risk level (docs/METHODS.md §6, "Classes" and "Risk"). Pure: no
Django, no Redis; every input is a plain value the holders service gathered.

Classes of a wallet (several may apply):
- `creator`: it signed (paid for) the mint's creation;
- `bundler`: not the creator, its first buy landed in the creation slot or in the slot of the creator's first
  buy;
- `sniper`: not the creator, its first buy landed within `sniper_window_slots` slots of the creation (a
  bundler is a sniper too);
- `insider`: not the creator, its first funder is the creator, or the creator's own first funder (never an
  exchange or other custodial hot wallet, nor a service funding more wallets than FUNDER_MAX_FANOUT: the
  caller passes those funders as unknown);
- `fresh`: its first transaction came less than FRESH_WINDOW_S before its first buy of the mint;
- `bot`: its trading behaviour carries the `bot` tag (analysis.behavior).
A class that cannot be decided from what is known (no creation found, a history that does not reach the
wallet's first transaction, a wallet that could not be synced) is listed under `undetermined`, not guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

CREATOR = "creator"
BUNDLER = "bundler"
SNIPER = "sniper"
INSIDER = "insider"
FRESH = "fresh"
BOT = "bot"
CLASSES = (CREATOR, BUNDLER, SNIPER, INSIDER, FRESH, BOT)

DEFAULT_SNIPER_WINDOW_SLOTS = 20
# A wallet made for one launch is funded hours before it buys: a day separates it from a wallet with a past.
FRESH_WINDOW_S = 86_400

# Risk thresholds, in percent of the supply (docs/METHODS.md §6, "Risk"): a level is `high` when any share
# reaches its high threshold, else `medium` when any reaches its medium one, else `low`.
HIGH_THRESHOLDS_PCT = {
    "bundled_supply_pct": 5.0,
    "insider_supply_pct": 10.0,
    "largest_cluster_supply_pct": 15.0,
    "sniper_supply_pct": 20.0,
    "creator_supply_pct": 10.0,
    "top10_supply_pct": 50.0,
}
MEDIUM_THRESHOLDS_PCT = {
    "bundled_supply_pct": 1.0,
    "insider_supply_pct": 3.0,
    "largest_cluster_supply_pct": 5.0,
    "sniper_supply_pct": 5.0,
    "creator_supply_pct": 3.0,
    "top10_supply_pct": 30.0,
}
TOP_HOLDERS_CONCENTRATION = 10


@dataclass(frozen=True, slots=True)
class LaunchFacts:
    """What the mint's own transactions say about its launch; None where the creation was not reached."""

    creator: str | None
    creation_slot: int | None
    creator_first_buy_slot: int | None
    creator_funder: str | None  # the creator's first funder when it may link wallets, else None


@dataclass(frozen=True, slots=True)
class WalletFacts:
    wallet: str
    first_buy_slot: int | None  # None: no buy of the mint is known
    first_buy_at: int | None
    first_funder: str | None  # the first funder when it may link wallets (not custodial, not a busy service)
    funding_known: bool  # the synced history shows the wallet's first funding (its first funder is known)
    first_activity_at: int | None  # its earliest stored transaction
    history_complete: bool  # the stored history reaches the wallet's first transaction
    behavior_tags: tuple[str, ...] | None  # None: the wallet was not analysed


@dataclass(frozen=True, slots=True)
class WalletClasses:
    classes: tuple[str, ...]  # in CLASSES order
    undetermined: tuple[str, ...]  # classes that could not be decided


def wallet_classes(
    facts: WalletFacts, launch: LaunchFacts, *, sniper_window_slots: int = DEFAULT_SNIPER_WINDOW_SLOTS
) -> WalletClasses:
    found: set[str] = set()
    unknown: set[str] = set()
    is_creator = launch.creator is not None and facts.wallet == launch.creator
    if launch.creator is None:
        unknown |= {CREATOR, BUNDLER, SNIPER, INSIDER}
    elif is_creator:
        found.add(CREATOR)
    else:
        _launch_classes(facts, launch, sniper_window_slots, found, unknown)
    fresh = _is_fresh(facts)
    if fresh is None:
        unknown.add(FRESH)
    elif fresh:
        found.add(FRESH)
    if facts.behavior_tags is None:
        unknown.add(BOT)
    elif BOT in facts.behavior_tags:
        found.add(BOT)
    return WalletClasses(
        tuple(name for name in CLASSES if name in found), tuple(name for name in CLASSES if name in unknown)
    )


def _launch_classes(
    facts: WalletFacts, launch: LaunchFacts, window: int, found: set[str], unknown: set[str]
) -> None:
    """bundler, sniper and insider of a wallet that is not the creator of a mint whose creation is known."""
    if facts.first_buy_slot is None or launch.creation_slot is None:
        unknown |= {BUNDLER, SNIPER}
    else:
        if facts.first_buy_slot in (launch.creation_slot, launch.creator_first_buy_slot):
            found.add(BUNDLER)
        if 0 <= facts.first_buy_slot - launch.creation_slot <= window:
            found.add(SNIPER)
    funder = facts.first_funder
    if funder is not None and funder in (launch.creator, launch.creator_funder):
        found.add(INSIDER)
    elif not facts.funding_known:
        unknown.add(INSIDER)


def _is_fresh(facts: WalletFacts) -> bool | None:
    """First transaction less than a day before the first buy; None when that cannot be told."""
    if facts.first_buy_at is None or facts.first_activity_at is None:
        return None
    young = facts.first_buy_at - facts.first_activity_at < FRESH_WINDOW_S
    if young and not facts.history_complete:
        return None  # an older transaction may lie beyond the stored history
    return young


def supply_pct(amount_raw: int, supply_raw: int) -> float:
    """A raw amount as a percentage of the supply, unrounded (shares are compared to 0.01 %)."""
    return 100.0 * amount_raw / supply_raw if supply_raw > 0 else 0.0


def class_supply_pct(
    *, amounts: Mapping[str, int], classes: Mapping[str, Iterable[str]], supply_raw: int
) -> dict[str, float]:
    """The share of the supply the wallets of each class hold now (a wallet counts once per class)."""
    held = dict.fromkeys(CLASSES, 0)
    for wallet, names in classes.items():
        for name in set(names):
            held[name] += amounts.get(wallet, 0)
    return {name: supply_pct(amount, supply_raw) for name, amount in held.items()}


@dataclass(frozen=True, slots=True)
class SimilarityCluster:
    id: int
    wallets: Sequence[str]
    reasons: Sequence[str]


@dataclass(frozen=True, slots=True)
class HolderCluster:
    wallets: tuple[str, ...]  # in the order the wallets were given
    reasons: tuple[str, ...]
    similarity_clusters: tuple[int, ...]  # the similarity engine's clusters it joins
    funding_links: int  # funding ties inside it (a shared first funder or SOL sent between two of them)


class _Groups:
    """Union-find over wallet indices."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, node: int) -> int:
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def join(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def funding_ties(
    *, wallets: Sequence[str], first_funders: Mapping[str, str | None], senders: Mapping[str, Iterable[str]]
) -> list[tuple[str, str]]:
    """Pairs of wallets tied by funding, as the similarity engine's `funding` channel ties them: the same
    first funder, or SOL sent from one to the other. One pair per tie found, wallets in the order given."""
    index = {wallet: position for position, wallet in enumerate(wallets)}
    ties: set[tuple[int, int]] = set()
    by_funder: dict[str, int] = {}
    for wallet in wallets:
        funder = first_funders.get(wallet)
        if funder is None:
            continue
        if funder in by_funder:
            ties.add((by_funder[funder], index[wallet]))
        else:
            by_funder[funder] = index[wallet]
    for wallet in wallets:
        for sender in senders.get(wallet, ()):
            if sender in index and sender != wallet:
                a, b = index[sender], index[wallet]
                ties.add((min(a, b), max(a, b)))
    return [(wallets[a], wallets[b]) for a, b in sorted(ties)]


def holder_clusters(
    *,
    wallets: Sequence[str],
    similarity_clusters: Sequence[SimilarityCluster],
    ties: Sequence[tuple[str, str]],
) -> list[HolderCluster]:
    """Groups of holders that act together: the similarity engine's clusters, joined with each other and with
    other wallets by funding ties. Co-trading alone stays with the engine's community detection (it keeps
    a sniper bot from merging strangers); a funding tie is one owner's footprint, so it always joins."""
    index = {wallet: position for position, wallet in enumerate(wallets)}
    groups = _Groups(len(wallets))
    for cluster in similarity_clusters:
        positions = [index[wallet] for wallet in cluster.wallets if wallet in index]
        for position in positions[1:]:
            groups.join(positions[0], position)
    for a, b in ties:
        if a in index and b in index:
            groups.join(index[a], index[b])
    members_of: dict[int, list[str]] = {}
    for wallet in wallets:
        members_of.setdefault(groups.find(index[wallet]), []).append(wallet)
    found = []
    for members in members_of.values():
        if len(members) < 2:
            continue
        inside = set(members)
        joined = [cluster for cluster in similarity_clusters if inside & set(cluster.wallets)]
        links = sum(1 for a, b in ties if a in inside and b in inside)
        reasons = list(dict.fromkeys(reason for cluster in joined for reason in cluster.reasons))
        if links and "funding" not in reasons:
            reasons.append("funding")
        found.append(HolderCluster(tuple(members), tuple(reasons), tuple(c.id for c in joined), links))
    return found


@dataclass(frozen=True, slots=True)
class Risk:
    shares: dict[
        str, float | None
    ]  # each figure of HIGH_THRESHOLDS_PCT in percent of the supply; None: unknown
    level: str  # low, medium, high
    reasons: tuple[str, ...]  # the figures at or above the level's thresholds, worded
    unknown: tuple[str, ...]  # figures that could not be computed (the level rests on the others)


def risk_level(shares: Mapping[str, float | None]) -> Risk:
    """The level of docs/METHODS.md §6 from the supply shares (see HIGH_THRESHOLDS_PCT and
    MEDIUM_THRESHOLDS_PCT); a share that is None (unknown: the mint's creation was not reached) weighs nothing
    and is named."""
    unknown = tuple(name for name in HIGH_THRESHOLDS_PCT if shares.get(name) is None)
    for level, thresholds in (("high", HIGH_THRESHOLDS_PCT), ("medium", MEDIUM_THRESHOLDS_PCT)):
        reasons = tuple(
            f"{name.removesuffix('_supply_pct').replace('_', ' ')} holds {share:.2f} % of the supply "
            f"(>= {threshold:g} %)"
            for name, threshold in thresholds.items()
            if (share := shares.get(name)) is not None and share >= threshold
        )
        if reasons:
            return Risk(dict(shares), level, reasons, unknown)
    return Risk(dict(shares), "low", (), unknown)


def top_holders_pct(amounts: Iterable[int], supply_raw: int, count: int = TOP_HOLDERS_CONCENTRATION) -> float:
    """The share the `count` largest wallets hold (pools excluded by the caller)."""
    return supply_pct(sum(sorted(amounts, reverse=True)[:count]), supply_raw)
