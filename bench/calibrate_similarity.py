"""Calibration of co_trade, the similarity weights and the cluster threshold on the simulated market.

    .venv/bin/python -m bench.calibrate_similarity [--seeds 0-3] [--sets 500] [--unrelated 10] [--grid]

For each seed: every family of the market (copy, bundle and funded) and every wallet of no family (a pool of
unrelated wallets, ordinary sniper wallets and the market's sniper bots), each wallet taken the way the job
takes it (tests/support/market_activity.py: extraction, funding transfers, normalised holdings, the shipped
custodial list). It prints Markdown:

1. each channel's distribution over family pairs and over every other pair, with the market's funding and
   with funding withheld (as if every family had been funded from an exchange: co-trading must then find
   the copy and bundle families alone, and the funded groups, which share nothing else, cannot be found);
2. co_trade and combined by kind of pair (a copy family's leader and a follower, two followers, bundle,
   funded group; sniper bots with each other, with ordinary snipers, with family members...);
3. the margins each side of the threshold: the weakest pair that must be an edge (a copy family's leader and
   a follower, a bundle pair, a funded pair) and the strongest pair that must not;
4. how many random sets of three families plus unrelated wallets (two sniper bots and one ordinary sniper
   among them) come out exactly as their families, for the defaults and, with --grid, for a grid of weights
   and thresholds (only thresholds above the token channels' total weight, which the large-set path needs)
   and of co_trade's lag tolerance;
5. whether each copy family's pairs name the leader with lead_share >= 0.8.

The defaults in similarity.engine are chosen from these tables: on the plateau, not at its last decimal.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from similarity.engine import (
    CHANNELS,
    CO_TRADE,
    COMBINED,
    DEFAULT_CLUSTER_THRESHOLD,
    DEFAULT_CO_TRADE_LAG_TOLERANCE,
    DEFAULT_WEIGHTS,
    FUNDING,
    SimilarityOptions,
    SimilarityResult,
    compute_similarity,
)
from tests.support.market_activity import (
    CUSTODIAL_FUNDERS,
    MarketSample,
    activities,
    load_sample,
    random_sets,
)

# Pairs that must be edges of the cluster graph: a copy family holds together through its leader (two
# followers of one leader buy in either order, at whatever gap their own lags leave).
MUST_LINK = ("copy: leader-follower", "bundle", "funded")
LEAD_SHARE_MIN = 0.8


def options(
    weights: Mapping[str, float], threshold: float, tolerance: float = DEFAULT_CO_TRADE_LAG_TOLERANCE
) -> SimilarityOptions:
    return SimilarityOptions(
        weights=dict(weights),
        cluster_threshold=threshold,
        co_trade_lag_tolerance=tolerance,
        ignored_funders=CUSTODIAL_FUNDERS,
    )


Drawn = tuple[MarketSample, list[list[str]], list[str]]


def _compute(
    sample: MarketSample, wallets: Sequence[str], opts: SimilarityOptions, *, funding: bool
) -> SimilarityResult:
    return compute_similarity(activities(wallets, sample.data, with_funding=funding), options=opts)


def exact_share(sets: Sequence[Drawn], opts: SimilarityOptions, *, with_funding: bool) -> float:
    """Sets whose clusters are exactly their families (without funding, exactly their copy and bundle
    families: a funded group shares nothing but its funder)."""
    exact = 0
    for sample, families, others in sets:
        wallets = [w for members in families for w in members] + others
        result = _compute(sample, wallets, opts, funding=with_funding)
        expected = {frozenset(f) for f in families if with_funding or sample.kind(f) != "funded"}
        exact += {frozenset(c.wallets) for c in result.clusters} == expected
    return exact / len(sets)


def _role(sample: MarketSample, wallet: str, family_of: Mapping[str, list[str]]) -> str:
    if wallet in family_of:
        return "family member"
    if wallet in sample.sniper_bots:
        return "sniper bot"
    if wallet in sample.snipers:
        return "ordinary sniper"
    return "unrelated"


def pair_kind(sample: MarketSample, a: str, b: str, family_of: Mapping[str, list[str]]) -> str:
    family = family_of.get(a)
    if family is not None and family is family_of.get(b):
        kind = sample.kind(family)
        if kind != "copy":
            return kind
        leader = sample.leaders[frozenset(family)]
        return "copy: leader-follower" if leader in (a, b) else "copy: follower-follower"
    roles = sorted((_role(sample, a, family_of), _role(sample, b, family_of)))
    return "other: " + " / ".join(roles)


def collect(
    groups: Sequence[tuple[MarketSample, list[str]]], opts: SimilarityOptions, *, with_funding: bool
) -> dict[str, dict[str, list[float]]]:
    """kind of pair -> channel -> values, over every pair of each group of wallets of one seed."""
    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for sample, wallets in groups:
        result = _compute(sample, wallets, opts, funding=with_funding)
        family_of = {w: members for members in sample.families for w in members}
        a, b = np.triu_indices(len(wallets), 1)
        kinds = [pair_kind(sample, wallets[i], wallets[j], family_of) for i, j in zip(a, b, strict=True)]
        for name in (*CHANNELS, COMBINED):
            scores = result.matrices[name][a, b].astype(np.float64).tolist()
            for kind, score in zip(kinds, scores, strict=True):
                values[kind][name].append(score)
    return values


def _pooled(values: Mapping[str, Mapping[str, list[float]]], name: str, *, family: bool) -> np.ndarray:
    chosen = [v[name] for kind, v in values.items() if kind.startswith("other") != family]
    return np.array([x for part in chosen for x in part])


def distributions(values: Mapping[str, Mapping[str, list[float]]]) -> list[str]:
    rows = [
        "| channel | family pairs: min / p05 / median | other pairs: median / p99 / p99.9 / max |",
        "|---|---|---|",
    ]
    for name in (*CHANNELS, COMBINED):
        fam, oth = _pooled(values, name, family=True), _pooled(values, name, family=False)
        family = f"{fam.min():.3f} / {np.percentile(fam, 5):.3f} / {np.median(fam):.3f}"
        tail = f"{np.percentile(oth, 99):.3f} / {np.percentile(oth, 99.9):.3f} / {oth.max():.3f}"
        rows.append(f"| {name} | {family} | {np.median(oth):.3f} / {tail} |")
    count_family = _pooled(values, COMBINED, family=True).size
    count_other = _pooled(values, COMBINED, family=False).size
    rows.append(f"\n({count_family} family pairs, {count_other} other pairs)")
    return rows


def by_kind(values: Mapping[str, Mapping[str, list[float]]]) -> list[str]:
    rows = [
        "| pair | pairs | co_trade: min / p05 / median / p95 / max "
        "| combined: min / p05 / median / p95 / max |",
        "|---|---|---|---|",
    ]

    def spread(x: np.ndarray) -> str:
        return " / ".join(f"{v:.3f}" for v in (x.min(), *np.percentile(x, [5, 50, 95]), x.max()))

    for kind in sorted(values, key=lambda k: (k.startswith("other"), k)):
        co_trade, combined = np.array(values[kind][CO_TRADE]), np.array(values[kind][COMBINED])
        rows.append(f"| {kind} | {co_trade.size} | {spread(co_trade)} | {spread(combined)} |")
    return rows


def margins(
    values: Mapping[str, Mapping[str, list[float]]], threshold: float, *, with_funding: bool
) -> list[str]:
    """The weakest pair that must be an edge and the strongest that must not (without funding, a funded
    group shares nothing that could link it)."""
    must_link = [kind for kind in MUST_LINK if with_funding or kind != "funded"]
    weakest = min((min(values[kind][COMBINED]), kind) for kind in must_link if kind in values)
    strongest = max((max(v[COMBINED]), kind) for kind, v in values.items() if kind.startswith("other"))
    return [
        f"- threshold {threshold:.3f}",
        f"- weakest pair that must be an edge: {weakest[0]:.4f} ({weakest[1]}): "
        f"{weakest[0] - threshold:+.4f}, x{weakest[0] / threshold:.2f} the threshold",
        f"- strongest pair of no family: {strongest[0]:.4f} ({strongest[1]}): "
        f"{strongest[0] - threshold:+.4f}, x{strongest[0] / threshold:.2f} the threshold",
    ]


def leaders(samples: Sequence[MarketSample], opts: SimilarityOptions) -> list[str]:
    rows = []
    for sample in samples:
        for family in sample.families:
            if sample.kind(family) != "copy":
                continue
            leader = sample.leaders[frozenset(family)]
            result = _compute(sample, family, dataclasses.replace(opts, top_pairs=100), funding=True)
            shares = []
            for pair in result.pairs:
                if leader in (pair.wallet_a, pair.wallet_b):
                    share = pair.co_trade.lead_share or 0.0
                    named = pair.co_trade.leader == leader and share >= LEAD_SHARE_MIN
                    shares.append(f"{pair.co_trade.lead_share:.2f}{'' if named else ' (!)'}")
            rows.append(f"- seed {sample.seed}, {len(family)} wallets: lead_share {', '.join(shares)}")
    return rows


GridPoint = tuple[dict[str, float], list[float], float]


def grid() -> Iterator[GridPoint]:
    """Weights and thresholds at the default lag tolerance, then the tolerance at the default weights."""
    for co_trade, token in itertools.product((0.5, 0.6, 0.65, 0.7), (0.01, 0.015)):
        weights = {name: token for name in CHANNELS if name not in (CO_TRADE, FUNDING)}
        weights |= {CO_TRADE: co_trade, FUNDING: round(1 - co_trade - 5 * token, 3)}
        thresholds = [t for t in (0.055, 0.06, 0.065, 0.07, 0.075, 0.08, 0.09, 0.10) if t > 5 * token]
        yield weights, thresholds, DEFAULT_CO_TRADE_LAG_TOLERANCE
    for tolerance in (0.1, 0.2, 0.4, 0.5):
        yield dict(DEFAULT_WEIGHTS), [DEFAULT_CLUSTER_THRESHOLD], tolerance


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-3", help="a range such as 0-3")
    parser.add_argument("--sets", type=int, default=500)
    parser.add_argument("--unrelated", type=int, default=10)
    parser.add_argument("--grid", action="store_true", help="also search the grid of weights and thresholds")
    args = parser.parse_args(argv)
    low, high = (int(part) for part in args.seeds.split("-"))
    started = time.perf_counter()
    samples = [load_sample(seed) for seed in range(low, high + 1)]
    took = time.perf_counter() - started
    print(f"loaded seeds {low}-{high} in {took:.0f} s, load average {os.getloadavg()[0]:.2f}\n")
    defaults = options(DEFAULT_WEIGHTS, DEFAULT_CLUSTER_THRESHOLD)
    everyone = [(s, [w for members in s.families for w in members] + s.strangers) for s in samples]
    for with_funding in (True, False):
        values = collect(everyone, defaults, with_funding=with_funding)
        label = "used" if with_funding else "withheld"
        print(f"### Distributions, defaults, funding {label}\n")
        print("\n".join(distributions(values)) + "\n")
        print(f"### By kind of pair, funding {label}\n")
        print("\n".join(by_kind(values)) + "\n")
        print(f"### Margins, funding {label}\n")
        print("\n".join(margins(values, DEFAULT_CLUSTER_THRESHOLD, with_funding=with_funding)) + "\n")
    print(f"### Copy families: the leader named with lead_share >= {LEAD_SHARE_MIN}\n")
    print("\n".join(leaders(samples, defaults)) + "\n")
    sets = list(random_sets(samples, args.sets, unrelated=args.unrelated))
    described = f"3 families + {args.unrelated} wallets of no family: 2 sniper bots, 1 ordinary sniper"
    drawn = [
        (sample, [w for members in families for w in members] + others) for sample, families, others in sets
    ]
    for with_funding in (True, False):
        label = "used" if with_funding else "withheld"
        values = collect(drawn, defaults, with_funding=with_funding)
        print(f"### Margins over the random sets below, funding {label}\n")
        print("\n".join(margins(values, DEFAULT_CLUSTER_THRESHOLD, with_funding=with_funding)))
        print()
    print(f"### Exact sets (of {len(sets)}: {described})\n")
    print(
        "| weights | threshold | lag tolerance | exact, funding used | exact, funding withheld |\n"
        "|---|---|---|---|---|"
    )
    candidates: list[GridPoint] = [
        (dict(DEFAULT_WEIGHTS), [DEFAULT_CLUSTER_THRESHOLD], DEFAULT_CO_TRADE_LAG_TOLERANCE)
    ]
    for weights, thresholds, tolerance in candidates + (list(grid()) if args.grid else []):
        for threshold in thresholds:
            opts = options(weights, threshold, tolerance)
            used = exact_share(sets, opts, with_funding=True)
            withheld = exact_share(sets, opts, with_funding=False)
            label = ", ".join(f"{k} {v:g}" for k, v in weights.items())
            row = f"| {label} | {threshold:.3f} | {tolerance:g} | {used:.1%} | {withheld:.1%} |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
