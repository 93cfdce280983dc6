"""Benchmark swap extraction (docs/METHODS.md §1): transactions/s of `extract_wallet_swaps`; prints a
Markdown table.

    .venv/bin/python -m bench.bench_extraction [--wallets 12] [--fixture-copies 100] [--repeat 5]

Corpora: the full histories of simulated wallets (one per archetype mix, several thousand transactions of
swaps, transfers and failed transactions, as the sync hands them over), and the complete recorded Helius
transactions in tests/data/fixtures/helius (Raydium routes through USDC, transfers, a Jupiter swap typed
UNKNOWN, a SWAP with events.swap) repeated to a few thousand. Each wallet's transactions are extracted for
that wallet in one call, as the sync does per window. Payloads are built before the clock starts; the
figure is the median of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wallets.extraction import extract_wallet_swaps
from wallets.simulated_market import SimulatedMarket

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "fixtures" / "helius"
FIXTURE_WALLET = "3JoVBiQEA2QKsq7TzW5ez5jVRtbbYgTNijoZzp5qgkr2"

Corpus = list[tuple[str, list[dict[str, Any]]]]  # (wallet, its transactions)


def simulated_corpus(wallets: int, seed: int = 0) -> Corpus:
    market = SimulatedMarket(seed)
    corpus: Corpus = []
    for wallet in market.sample_wallets(wallets):
        signatures: list[str] = []
        before: str | None = None
        while True:
            page = market.get_signatures(wallet, before=before, limit=1000)
            signatures += [entry["signature"] for entry in page]
            if len(page) < 1000:
                break
            before = page[-1]["signature"]
        transactions = [
            tx
            for start in range(0, len(signatures), 100)
            for tx in market.get_transactions(signatures[start : start + 100])
        ]
        corpus.append((wallet, transactions))
    return corpus


def fixture_corpus(copies: int) -> Corpus:
    """The complete recorded transactions (trimmed ones have no accountData and are left out)."""
    by_wallet: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        items = data if isinstance(data, list) else [data]
        for item in items:
            if not isinstance(item, Mapping) or "accountData" not in item or "feePayer" not in item:
                continue
            wallet = FIXTURE_WALLET if path.name.startswith("wallet_3JoVBiQE") else str(item["feePayer"])
            by_wallet.setdefault(wallet, []).append(dict(item))
    return [(wallet, transactions * copies) for wallet, transactions in by_wallet.items()]


def run(corpus: Corpus) -> int:
    return sum(len(extract_wallet_swaps(transactions, wallet).legs) for wallet, transactions in corpus)


def median_seconds(corpus: Corpus, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run(corpus)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def row(name: str, corpus: Corpus, repeat: int) -> Sequence[str]:
    transactions = sum(len(txs) for _, txs in corpus)
    seconds = median_seconds(corpus, repeat)
    return (
        name,
        f"{transactions:,}",
        f"{run(corpus):,}",
        f"{seconds * 1000:.1f}",
        f"{transactions / seconds:,.0f}",
        f"{seconds / transactions * 1e6:.1f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wallets", type=int, default=12, help="simulated wallets (full histories)")
    parser.add_argument("--fixture-copies", type=int, default=100, help="times the recorded set is repeated")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    simulated = simulated_corpus(args.wallets)
    fixtures = fixture_corpus(args.fixture_copies)
    rows = [
        row(f"simulated ({args.wallets} wallets)", simulated, args.repeat),
        row(f"recorded fixtures (x{args.fixture_copies})", fixtures, args.repeat),
        row("both", simulated + fixtures, args.repeat),
    ]
    print(f"extract_wallet_swaps, median of {args.repeat} runs\n")
    print("| corpus | transactions | legs | median ms | transactions/s | µs/transaction |")
    print("|---|---:|---:|---:|---:|---:|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
