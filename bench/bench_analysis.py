"""Benchmark compute_pnl + compute_behavior on a synthetic 50,000-swap wallet.

Run: .venv/bin/python -m bench.bench_analysis [--swaps N] [--tokens N] [--repeat N]

The wallet is seeded and shaped like an active memecoin trader: ~2,000 tokens over 90 days, each opened
with one to a few buys and worked down with partial sells (some positions left open, some re-entered),
sizes log-normal, a share of legs quoted in USDC, fees on every transaction.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from analysis.behavior import compute_behavior
from analysis.pnl import compute_pnl
from wallets.swaps import LAMPORTS_PER_SOL, SOL_MINT, USDC_MINT, SwapLeg

DAY_S = 86_400
START_TS = 1_700_000_000
SOL_PRICE_USD = 150.0


def _token_legs(rng: np.random.Generator, mint: str, n_legs: int, start: int) -> list[SwapLeg]:
    """Legs of one token: buys first, then mostly partial sells, with an occasional add in between."""
    decimals = int(rng.choice([6, 9]))
    price_lamports_per_ui = float(rng.lognormal(mean=-9.0, sigma=2.0)) * LAMPORTS_PER_SOL
    held = 0
    ts = start
    legs: list[SwapLeg] = []
    for i in range(n_legs):
        ts += int(rng.exponential(900)) + 1
        buy = held == 0 or i == 0 or rng.random() < 0.25
        if buy:
            size_sol = float(rng.lognormal(mean=-0.5, sigma=1.0))
            raw = max(int(size_sol * LAMPORTS_PER_SOL / price_lamports_per_ui * 10**decimals), 1)
            held += raw
        else:
            raw = held if rng.random() < 0.3 else max(int(held * rng.uniform(0.1, 0.6)), 1)
            held -= raw
        price_lamports_per_ui *= float(rng.lognormal(0.0, 0.3))
        lamports = int(raw / 10**decimals * price_lamports_per_ui)
        usd_quoted = rng.random() < 0.05
        usd = lamports / LAMPORTS_PER_SOL * SOL_PRICE_USD
        legs.append(
            SwapLeg(
                signature=f"{mint}-{i}",
                slot=250_000_000 + (ts - START_TS) * 2,
                timestamp=ts,
                mint=mint,
                direction="buy" if buy else "sell",
                token_amount_raw=raw,
                token_decimals=decimals,
                quote_mint=USDC_MINT if usd_quoted else SOL_MINT,
                quote_amount_raw=int(usd * 1e6) if usd_quoted else lamports,
                quote_decimals=6 if usd_quoted else 9,
                sol_value_lamports=None if usd_quoted else lamports,
                usd_value=usd if usd_quoted else None,
                fee_lamports=5_000 + int(rng.integers(0, 100_000)),
                source="SIMULATED",
            )
        )
    return legs


def synthetic_wallet(n_swaps: int, n_tokens: int, seed: int = 42) -> tuple[list[SwapLeg], dict[str, float]]:
    rng = np.random.default_rng(seed)
    # Pareto-distributed legs per token: a few tokens traded heavily, most a handful of times (median ~13).
    weights = rng.pareto(1.5, n_tokens) + 1
    counts = np.maximum(np.floor(weights / weights.sum() * n_swaps).astype(int), 1)
    counts[np.argmax(counts)] += n_swaps - int(counts.sum())
    legs: list[SwapLeg] = []
    prices: dict[str, float] = {}
    for t, n_legs in enumerate(counts):
        mint = f"Mint{t:05d}"
        legs.extend(_token_legs(rng, mint, int(n_legs), START_TS + int(rng.integers(0, 90 * DAY_S))))
        if rng.random() < 0.6:
            prices[mint] = float(rng.lognormal(mean=-9.0, sigma=2.0))
    order = rng.permutation(len(legs))
    return [legs[i] for i in order], prices


def _median_seconds(fn: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--swaps", type=int, default=50_000)
    parser.add_argument("--tokens", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    legs, prices = synthetic_wallet(args.swaps, args.tokens)

    def pnl() -> object:
        return compute_pnl(legs, prices_sol=prices, sol_price_usd=SOL_PRICE_USD)

    def behavior() -> object:
        return compute_behavior(legs)

    def both() -> object:
        return pnl(), behavior()

    rows = [
        ("compute_pnl", _median_seconds(pnl, args.repeat)),
        ("compute_behavior", _median_seconds(behavior, args.repeat)),
        ("pnl + behavior", _median_seconds(both, args.repeat)),
    ]
    tokens = len({leg.mint for leg in legs})
    print(f"{len(legs):,} swap legs, {tokens:,} tokens, median of {args.repeat} runs\n")
    print("| step | median ms | swaps/s |")
    print("|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1000:.1f} | {len(legs) / seconds:,.0f} |")


if __name__ == "__main__":
    main()
