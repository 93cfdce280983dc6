"""Benchmark of the similarity engine on a synthetic market; prints a Markdown table.

    .venv/bin/python -m bench.bench_similarity [--wallets 2000] [--tokens 50000] [--naive-wallets 200]
    .venv/bin/python -m bench.bench_similarity --wallets 10000 --naive-wallets 0 --repeats 1

The synthetic set: token popularity follows a power law (Zipf, exponent 1), each wallet trades 20-300 tokens
drawn without replacement by popularity, 40 families of 5 wallets copy a leader's tokens with a lag of
2-120 s, and wallets hold the tokens they never sold plus a few airdropped tokens most wallets hold. Every
channel has data: each wallet has a funding history (a family shares a funder; 30 % of the others withdrew
from one exchange hot wallet, which the options ignore; the rest drew a funder from a million, so a pair may
share one by chance). The timings exclude building the input objects; the naive baseline is the pure-Python
double loop of :mod:`similarity.reference`. Each run prints where the time of one compute goes (cProfile,
cumulative time of the engine's phases) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from similarity.engine import (
    COMBINED,
    FundingTransfer,
    SimilarityOptions,
    TokenTrade,
    WalletActivity,
    WalletFunding,
    compute_similarity,
)
from similarity.reference import naive_similarity

DAY = 86_400
FAMILIES = 40
FAMILY_SIZE = 5
AIRDROPS = 3
EXCHANGE = "exchange-hot-wallet"
OPTIONS = SimilarityOptions(ignored_funders={EXCHANGE: "exchange hot wallet (synthetic)"})
PHASES = (
    "_build_inputs",
    "_prepare",
    "_co_buys",
    "_scan_pairs",
    "_score_block",
    "_score_pairs",
    "find_hubs",
    "find_communities",
    "_cluster_stats",
    "_pair_evidence",
)


def synthetic_market(wallets: int, tokens: int, seed: int = 7) -> list[WalletActivity]:
    rng = np.random.default_rng(seed)
    mints = [f"tok{j:06d}" for j in range(tokens)]
    log_popularity = -1.0 * np.log(np.arange(1, tokens + 1))
    launches = rng.integers(1_700_000_000, 1_700_000_000 + 90 * DAY, size=tokens)
    activities: list[WalletActivity] = []
    leader: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for w in range(wallets):
        family = w // FAMILY_SIZE if w < FAMILIES * FAMILY_SIZE else None
        if family is not None and family in leader:
            cols, times, spent = _follow(rng, *leader[family])
        else:
            count = int(rng.integers(20, 301))
            # Gumbel top-k: a weighted sample without replacement proportional to popularity.
            cols = np.argpartition(-(log_popularity + rng.gumbel(size=tokens)), count)[:count]
            times = launches[cols] + rng.exponential(2 * DAY, size=count).astype(np.int64)
            spent = rng.lognormal(-1.0, 1.5, size=count)
            if family is not None:
                leader[family] = (cols, times, spent)
        funder = f"family-funder{family}" if family is not None else _funder(rng)
        activity = _activity(rng, f"wallet{w:05d}", mints=mints, cols=cols, times=times, spent=spent)
        transfer = FundingTransfer(funder, int(rng.integers(10**8, 10**11)), 1_700_000_000 - w, f"fund{w}")
        funding = WalletFunding(first=transfer, received=(transfer,), history_complete=True)
        activities.append(WalletActivity(activity.address, activity.trades, activity.holdings, funding))
    return activities


def _funder(rng: np.random.Generator) -> str:
    return EXCHANGE if rng.random() < 0.3 else f"funder{int(rng.integers(0, 1_000_000))}"


def _follow(
    rng: np.random.Generator, cols: np.ndarray, times: np.ndarray, spent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keep = rng.random(cols.size) < 0.8
    return (
        cols[keep],
        times[keep] + rng.integers(2, 121, size=int(keep.sum())),
        spent[keep] * rng.lognormal(0.0, 0.3, size=int(keep.sum())),
    )


def _activity(
    rng: np.random.Generator,
    address: str,
    *,
    mints: list[str],
    cols: np.ndarray,
    times: np.ndarray,
    spent: np.ndarray,
) -> WalletActivity:
    sells = rng.integers(0, 4, size=cols.size)
    received = spent * rng.uniform(0, 2, size=cols.size)
    trades = [
        TokenTrade(mints[c], s, r, t, 1 + k % 2, k)
        for c, t, s, r, k in zip(
            cols.tolist(), times.tolist(), spent.tolist(), received.tolist(), sells.tolist(), strict=True
        )
    ]
    held = cols[sells == 0]
    holdings = dict(
        zip([mints[c] for c in held.tolist()], rng.uniform(1, 1e6, size=held.size).tolist(), strict=True)
    )
    for j in range(AIRDROPS):
        if rng.random() < 0.7:
            holdings[f"airdrop{j}"] = 1.0
    return WalletActivity(address, trades, holdings)


def _median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _phases(market: Sequence[WalletActivity]) -> str:
    """Cumulative seconds of the engine's phases in one profiled compute (profiling adds some overhead)."""
    profile = cProfile.Profile()
    profile.runcall(compute_similarity, market, options=OPTIONS)
    table: dict[tuple[str, int, str], tuple[Any, ...]] = getattr(pstats.Stats(profile), "stats")  # noqa: B009
    spent: dict[str, float] = {}
    for (_, _, name), row in table.items():
        if name in (*PHASES, "compute_similarity"):
            spent[name] = spent.get(name, 0.0) + float(row[3])
    parts = ", ".join(f"{name} {spent[name]:.2f}" for name in PHASES if name in spent)
    return f"total {spent.get('compute_similarity', 0.0):.2f}: {parts}"


def run(wallets: int, tokens: int, naive_wallets: int, repeats: int = 3) -> list[tuple[str, str]]:
    start = time.perf_counter()
    market = synthetic_market(wallets, tokens)
    build_s = time.perf_counter() - start
    rows: list[tuple[str, str]] = []
    trades = sum(len(a.trades) for a in market)
    rows.append(("input", f"{wallets:,} wallets, {tokens:,} tokens, {trades:,} wallet-token trades"))
    rows.append(("input construction (not timed below)", f"{build_s:.2f} s"))
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = compute_similarity(market, options=OPTIONS)
    rows.append(
        (
            "tokens after exclusion / down-weighted",
            f"{result.global_stats.token_count:,} / {result.global_stats.common_token_count}",
        )
    )
    planted = {
        tuple(f"wallet{w:05d}" for w in range(f * FAMILY_SIZE, (f + 1) * FAMILY_SIZE))
        for f in range(FAMILIES)
    }
    exact = sum(tuple(sorted(c.wallets)) in planted for c in result.clusters)
    rows.append(
        (
            f"clusters found / equal to a planted family ({FAMILIES} planted) / hubs",
            f"{len(result.clusters)} / {exact} / {len(result.hubs)}",
        )
    )
    rows.append(("matrices kept", "yes" if result.matrices else f"no: {result.global_stats.matrices_note}"))
    del result
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rows.append(("machine", f"{os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS={threads}, load average {load}"))
    engine_s = _median_time(lambda: compute_similarity(market, options=OPTIONS), repeats)
    rows.append((f"compute_similarity, {wallets:,} wallets (median of {repeats})", f"{engine_s:.3f} s"))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(
        (
            "process peak RSS: with the input built / after the computes",
            f"{rss_before:.0f} MB / {rss_after:.0f} MB",
        )
    )
    rows.append(("where one compute's time goes (cProfile, s)", _phases(market)))
    if naive_wallets:
        rows.extend(_versus_naive(market[:naive_wallets], repeats))
    return rows


def _versus_naive(market: Sequence[WalletActivity], repeats: int) -> list[tuple[str, str]]:
    reference = naive_similarity(market, OPTIONS)
    naive_s = _median_time(lambda: naive_similarity(market, OPTIONS), repeats)
    engine_s = _median_time(lambda: compute_similarity(market, options=OPTIONS), repeats)
    fast = compute_similarity(market, options=OPTIONS).matrices
    worst = max(float(np.abs(fast[name] - reference[name]).max()) for name in reference)
    n = len(market)
    return [
        (f"naive double loop, {n} wallets (median of {repeats})", f"{naive_s:.2f} s"),
        (f"compute_similarity, {n} wallets (median of {repeats})", f"{engine_s * 1000:.1f} ms"),
        ("speed-up vs naive", f"{naive_s / engine_s:,.0f}x"),
        (f"max abs difference vs naive ({COMBINED} and every channel)", f"{worst:.1e}"),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wallets", type=int, default=2000)
    parser.add_argument("--tokens", type=int, default=50_000)
    parser.add_argument("--naive-wallets", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = run(args.wallets, args.tokens, args.naive_wallets, args.repeats)
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
