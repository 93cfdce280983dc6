"""Calibration of the similarity weights and cluster threshold on the simulated market; prints Markdown.

    .venv/bin/python -m bench.calibrate_similarity [--seeds 0-5] [--sets 500] [--unrelated 10] [--snipers 3]

For each seed: every family of the market plus a pool of unrelated wallets (snipers among them), each wallet
taken the way the job takes it (tests/support/market_activity.py: extraction, funding transfers, normalised
holdings, the shipped custodial list). It prints

1. each channel's distribution over family pairs and over every other pair (the numbers in
   docs/notes/similarity.md, "Calibration");
2. for a grid of weights and thresholds, how many random sets of three families plus unrelated wallets come
   out exactly as their families (every family one cluster, nothing else clustered), with the market's
   funding and with funding withheld (as if every family had been funded from an exchange: co-trading must
   then find them alone).

The defaults in similarity.engine are chosen from the second table: on the plateau, not at its last decimal.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from similarity.engine import (
    CHANNELS,
    COMBINED,
    DEFAULT_CLUSTER_THRESHOLD,
    DEFAULT_WEIGHTS,
    SimilarityOptions,
    compute_similarity,
)
from tests.support.market_activity import (
    CUSTODIAL_FUNDERS,
    MarketSample,
    activities,
    load_sample,
    random_sets,
)


def options(weights: Mapping[str, float], threshold: float) -> SimilarityOptions:
    return SimilarityOptions(
        weights=dict(weights), cluster_threshold=threshold, ignored_funders=CUSTODIAL_FUNDERS
    )


Drawn = tuple[MarketSample, list[list[str]], list[str]]


def exact_share(sets: Sequence[Drawn], opts: SimilarityOptions, *, with_funding: bool) -> float:
    exact = 0
    for seed, families, others in sets:
        wallets = [w for members in families for w in members] + others
        result = compute_similarity(activities(wallets, seed.data, with_funding=with_funding), options=opts)
        exact += {frozenset(c.wallets) for c in result.clusters} == {frozenset(f) for f in families}
    return exact / len(sets)


def distributions(seeds: Sequence[MarketSample], opts: SimilarityOptions, *, with_funding: bool) -> list[str]:
    family_values: dict[str, list[float]] = {name: [] for name in (*CHANNELS, COMBINED)}
    other_values: dict[str, list[float]] = {name: [] for name in (*CHANNELS, COMBINED)}
    for seed in seeds:
        wallets = [w for members in seed.families for w in members] + seed.unrelated + seed.snipers
        result = compute_similarity(activities(wallets, seed.data, with_funding=with_funding), options=opts)
        family_of = {w: i for i, members in enumerate(seed.families) for w in members}
        a, b = np.triu_indices(len(wallets), 1)
        same = np.array(
            [
                family_of.get(wallets[i], -1) == family_of.get(wallets[j], -2)
                for i, j in zip(a, b, strict=True)
            ]
        )
        for name in family_values:
            values = result.matrices[name][a, b].astype(np.float64)
            family_values[name] += values[same].tolist()
            other_values[name] += values[~same].tolist()
    rows = [
        "| channel | family pairs: min / p05 / median | other pairs: median / p99 / p99.9 / max |",
        "|---|---|---|",
    ]
    for name, family_scores in family_values.items():
        fam, oth = np.array(family_scores), np.array(other_values[name])
        family = f"{fam.min():.3f} / {np.percentile(fam, 5):.3f} / {np.median(fam):.3f}"
        tail = f"{np.percentile(oth, 99):.3f} / {np.percentile(oth, 99.9):.3f} / {oth.max():.3f}"
        rows.append(f"| {name} | {family} | {np.median(oth):.3f} / {tail} |")
    rows.append(f"\n({len(family_values[COMBINED])} family pairs, {len(other_values[COMBINED])} other pairs)")
    return rows


def grid() -> Iterator[dict[str, float]]:
    for co_trade, funding, token in itertools.product(
        (0.35, 0.40, 0.45, 0.50), (0.30, 0.35, 0.40), (0.04, 0.05, 0.06)
    ):
        rest = {name: token for name in CHANNELS if name not in ("co_trade", "funding")}
        yield {"co_trade": co_trade, "funding": funding, **rest}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-5", help="a range such as 0-5")
    parser.add_argument("--sets", type=int, default=500)
    parser.add_argument("--unrelated", type=int, default=10)
    parser.add_argument("--snipers", type=int, default=3)
    parser.add_argument("--grid", action="store_true", help="also search the grid of weights and thresholds")
    args = parser.parse_args(argv)
    low, high = (int(part) for part in args.seeds.split("-"))
    started = time.perf_counter()
    seeds = [load_sample(seed, snipers=args.snipers) for seed in range(low, high + 1)]
    took = time.perf_counter() - started
    print(f"loaded seeds {low}-{high} in {took:.0f} s, load average {os.getloadavg()[0]:.2f}\n")
    defaults = options(DEFAULT_WEIGHTS, DEFAULT_CLUSTER_THRESHOLD)
    for with_funding in (True, False):
        print(f"### Distributions, defaults, funding {'used' if with_funding else 'withheld'}\n")
        print("\n".join(distributions(seeds, defaults, with_funding=with_funding)) + "\n")
    sets = list(random_sets(seeds, args.sets, unrelated=args.unrelated, snipers=args.snipers))
    described = f"3 families + {args.unrelated} unrelated, {args.snipers} of them snipers"
    print(f"### Exact sets (of {len(sets)}: {described})\n")
    print("| weights | threshold | exact, funding used | exact, funding withheld |\n|---|---|---|---|")
    candidates = [dict(DEFAULT_WEIGHTS)] + (list(grid()) if args.grid else [])
    for weights in candidates:
        for threshold in (0.25, 0.30, 0.35) if args.grid else (DEFAULT_CLUSTER_THRESHOLD,):
            opts = options(weights, threshold)
            used = exact_share(sets, opts, with_funding=True)
            withheld = exact_share(sets, opts, with_funding=False)
            label = ", ".join(f"{k} {v:g}" for k, v in weights.items())
            print(f"| {label} | {threshold:.2f} | {used:.1%} | {withheld:.1%} |", flush=True)


if __name__ == "__main__":
    main()
