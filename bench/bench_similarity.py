"""Benchmark of the similarity engine (SPEC 6.4) on a synthetic market; prints a Markdown table.

    .venv/bin/python -m bench.bench_similarity [--wallets 2000] [--tokens 50000] [--naive-wallets 200]

The synthetic set: token popularity follows a power law (Zipf, exponent 1), each wallet trades 20-300 tokens
drawn without replacement by popularity, 40 families of 5 wallets copy a leader's tokens with a lag of
2-120 s, and wallets hold the tokens they never sold plus a few airdropped tokens most wallets hold. The
timings exclude building the input objects; the naive baseline is the pure-Python double loop of
:mod:`similarity.reference`.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from similarity.engine import COMBINED, TokenTrade, WalletActivity, compute_similarity
from similarity.reference import naive_similarity

DAY = 86_400
FAMILIES = 40
FAMILY_SIZE = 5
AIRDROPS = 3


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
        activities.append(_activity(rng, f"wallet{w:05d}", mints=mints, cols=cols, times=times, spent=spent))
    return activities


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
    trades = [
        TokenTrade(mints[int(c)], float(s), float(s * rng.uniform(0, 2)), int(t), 1 + int(k % 2), int(k))
        for c, t, s, k in zip(cols, times, spent, sells, strict=True)
    ]
    holdings = {mints[int(c)]: float(rng.uniform(1, 1e6)) for c, k in zip(cols, sells, strict=True) if k == 0}
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


def _peak_traced_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run(wallets: int, tokens: int, naive_wallets: int, repeats: int = 3) -> list[tuple[str, str]]:
    start = time.perf_counter()
    market = synthetic_market(wallets, tokens)
    build_s = time.perf_counter() - start
    rows: list[tuple[str, str]] = []
    trades = sum(len(a.trades) for a in market)
    rows.append(("input", f"{wallets:,} wallets, {tokens:,} tokens, {trades:,} wallet-token trades"))
    rows.append(("input construction (not timed below)", f"{build_s:.2f} s"))
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rows.append(("machine", f"{os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS={threads}, load average {load}"))
    result = compute_similarity(market)
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
            f"clusters found / equal to a planted family ({FAMILIES} planted)",
            f"{len(result.clusters)} / {exact}",
        )
    )
    engine_s = _median_time(lambda: compute_similarity(market), repeats)
    rows.append((f"compute_similarity, {wallets:,} wallets (median of {repeats})", f"{engine_s:.3f} s"))
    rows.append(
        (
            "peak traced memory (tracemalloc) during compute",
            f"{_peak_traced_mb(lambda: compute_similarity(market)):.0f} MB",
        )
    )
    rows.append(
        ("process max RSS so far", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    )
    rows.extend(_versus_naive(market[:naive_wallets], repeats))
    return rows


def _versus_naive(market: Sequence[WalletActivity], repeats: int) -> list[tuple[str, str]]:
    reference = naive_similarity(market)
    naive_s = _median_time(lambda: naive_similarity(market), repeats)
    engine_s = _median_time(lambda: compute_similarity(market), repeats)
    fast = compute_similarity(market).matrices
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
