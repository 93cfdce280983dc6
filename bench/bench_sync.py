"""Benchmark wallet_sync of a 5,000-transaction wallet against the fake Helius with a fixed per-request
latency, compared with the latency floor; prints a Markdown table.

    DATABASE_URL=postgres://… REDIS_URL=redis://…/N \\
    .venv/bin/python -m bench.bench_sync [--transactions 5000] [--latency-ms 50[,200…]] [--repeat 3]

The fake upstream (tests/support/fake_upstream.py) runs in its own process, so serving it does not compete
with the sync for this process's GIL, and answers every request after `hang_s` = the latency. The sync is
the real one: HeliusChainProvider over HTTP (urllib3 retries, the Redis rate limiter with limits set out of
the way), the transaction cache and swap rows in the configured database. Each run starts from an empty
wallet and an empty cache; the "from cache" row re-syncs after wiping the wallet's swaps and state but
keeping the cached transactions, as a re-run after a crash does. The benchmark deletes and rewrites the
benchmark wallet's rows (and the Redis keys of its lock): point it at a scratch database and Redis DB.

Latency floor: the requests that must follow one another, times the latency. Signature pages are sequential
(each needs the previous page's last signature); transaction windows of 300 signatures are fetched as three
parallel batches of 100, so each window costs one round trip. Floor = (pages + windows) x latency.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import statistics
import time
from multiprocessing.connection import Connection
from typing import Any

import django

WALLET = "BxS8mTARsT2Qvnp9iXvRAmqPruEPrLfb4RU7nMi7fKev"
API_KEY = "bench-helius-key"


def serve(conn: Connection, transactions: int, latency_s: float) -> None:
    """Child process: the fake upstream, driven over a pipe (latency changes, counters, stop)."""
    from tests.support.fake_upstream import FakeUpstream

    with FakeUpstream(history_sizes={WALLET: transactions}, api_key=API_KEY, hang_s=latency_s) as upstream:
        upstream.market.history_length(WALLET)  # generate the history before any clock starts
        conn.send(upstream.url)
        while True:
            message = conn.recv()
            if message == "stop":
                return
            if message == "counters":
                conn.send(
                    {
                        "rpc": len(upstream.rpc_calls),
                        "transaction_calls": len(upstream.transaction_batch_sizes),
                        "transactions": sum(upstream.transaction_batch_sizes),
                        "max_in_flight": upstream.max_in_flight,
                    }
                )
                upstream.reset_counters()
            elif isinstance(message, tuple) and message[0] == "latency":
                upstream.hang_s = float(message[1])
                conn.send("ok")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=5000)
    parser.add_argument(
        "--latency-ms", default="50", help="per-request latency; a comma-separated list runs each"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    latencies_ms = [float(value) for value in args.latency_ms.split(",")]
    latency_s = latencies_ms[0] / 1000

    # The server process starts before Django opens any connection, so nothing is shared with it.
    parent, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(child, args.transactions, latency_s), daemon=True
    )
    server.start()
    url = parent.recv()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection

    from core.redis import get_redis
    from wallets.models import Transaction, Wallet
    from wallets.providers import get_chain_provider
    from wallets.services import wallet_sync

    settings.CHAIN_PROVIDER = "helius"
    settings.HELIUS_API_KEY = API_KEY
    settings.HELIUS_API_URL = url + "/helius"
    settings.SOLANA_RPC_URL = url + "/rpc"
    settings.HELIUS_RPC_RATE_LIMIT = settings.HELIUS_API_RATE_LIMIT = "100000/second"
    get_chain_provider.cache_clear()
    provider: Any = get_chain_provider()

    def wipe(*, keep_cache: bool) -> None:
        if not keep_cache:
            Transaction.objects.filter(wallets=WALLET).delete()
        Wallet.objects.filter(address=WALLET).delete()
        get_redis().delete(f"lock:wallet:sync:{WALLET}")

    def timed_sync(*, keep_cache: bool) -> tuple[float, dict[str, int], int]:
        wipe(keep_cache=keep_cache)
        parent.send("counters")
        parent.recv()
        started = time.perf_counter()
        outcome = wallet_sync(address=WALLET, force=True)
        elapsed = time.perf_counter() - started
        parent.send("counters")
        return elapsed, parent.recv(), outcome.new_swaps

    def measure(latency: float, *, keep_cache: bool) -> tuple[float, dict[str, int], int]:
        parent.send(("latency", latency))
        parent.recv()
        if keep_cache:
            timed_sync(keep_cache=False)  # fill the cache once
        runs = [timed_sync(keep_cache=keep_cache) for _ in range(args.repeat)]
        return statistics.median(run[0] for run in runs), runs[-1][1], runs[-1][2]

    timed_sync(keep_cache=False)  # warm-up: imports, connection pools, query plans
    rows = []
    for name, latency, keep_cache in (
        *((f"upstream, {ms:g} ms latency", ms / 1000, False) for ms in latencies_ms),
        ("upstream, no latency", 0.0, False),
        (f"from cache, {latencies_ms[0]:g} ms latency", latency_s, True),
    ):
        seconds, counters, swaps = measure(latency, keep_cache=keep_cache)
        pages = counters["rpc"]
        windows = math.ceil(counters["transaction_calls"] / provider.max_parallel_batches)
        floor = (pages + windows) * latency
        rows.append((name, seconds, counters, swaps, pages, windows, floor))
    wipe(keep_cache=False)
    parent.send("stop")
    server.join(timeout=10)

    print(
        f"wallet_sync of a {args.transactions:,}-transaction wallet ({rows[0][2]['transactions']:,} fetched, "
        f"{rows[0][3]:,} swap legs), {connection.vendor}, median of {args.repeat} runs\n"
    )
    print(
        "| run | wall s | signature pages | transaction calls (max in flight) "
        "| round trips on the critical path | latency floor s | wall / floor |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, seconds, counters, _, pages, windows, floor in rows:
        calls = f"{counters['transaction_calls']} ({counters['max_in_flight']})"
        ratio = f"{seconds / floor:.2f}" if floor else "n/a"
        print(f"| {name} | {seconds:.2f} | {pages} | {calls} | {pages + windows} | {floor:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
