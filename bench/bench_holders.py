"""Token holders of the simulated market's `wide` launch (about 200 holders) through the whole stack, against
the floor its upstream calls set under the global rate limits; prints Markdown.

    .venv/bin/python -m bench.bench_holders [--latency-ms 150] [--top 200] [--early 50]

`bench.harness` starts a throwaway Redis and PostgreSQL and the real processes (four queue workers,
gunicorn, daphne). The workers use the Helius provider against the fake upstream (tests/support/
fake_upstream.py, in a process of its own so serving it takes no GIL from anything measured), which serves the
simulated market over real HTTP and answers every request after `--latency-ms`. The global limits are the
production defaults: HELIUS_RPC_RATE_LIMIT 10/second, HELIUS_API_RATE_LIMIT 2/second, DexScreener 300/minute,
Pyth Benchmarks 90/10seconds, each a moving window in Redis shared by every worker.

Floor: each API's calls (counted by the fake upstream) beyond its window's first burst, divided by its rate;
the limits are separate windows that run side by side, so the job cannot end before the largest of them.
Reported: the job's wall time from submission to completion, the calls per API, the floor and the ratio
(target <= 1.2), with the load average beside each run.
"""

from __future__ import annotations

import argparse
import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from bench.harness import Harness, command_line, load_average, markdown_table
from tests.support.stack import wait_for

API_KEY = "bench-helius-key"
# (route of the fake upstream, limit count, window seconds): the production defaults of config/settings.py.
LIMITS = {"rpc": (10, 1.0), "transactions": (2, 1.0), "dexscreener": (300, 60.0), "sol_usd": (90, 10.0)}


def serve(conn: Connection, latency_s: float) -> None:
    """Child process: the fake upstream of the seed-0 market, driven over a pipe (counters, stop)."""
    from tests.support.fake_upstream import FakeUpstream

    with FakeUpstream(api_key=API_KEY, hang_s=latency_s) as upstream:
        wide = next(item for item in upstream.market.launches() if item.kind == "wide")
        conn.send((upstream.url, wide.mint))
        while True:
            message = conn.recv()
            if message == "stop":
                return
            if message == "counters":
                conn.send({**dict(upstream.requests_by_route), "max_in_flight": upstream.max_in_flight})
                upstream.reset_counters()


def floor_s(calls: dict[str, int]) -> tuple[float, str]:
    """The rate-limit floor and the API that sets it."""
    floors = {
        route: max(0, calls.get(route, 0) - count) * window / count
        for route, (count, window) in LIMITS.items()
    }
    route = max(floors, key=lambda name: floors[name])
    return floors[route], route


def run_once(latency_ms: float, top: int, early: int) -> list[Any]:
    """One job on a fresh stack (nothing synced, nothing cached): its row of the table."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(child, latency_ms / 1000), daemon=True)
    server.start()
    url, mint = parent.recv()
    env = {
        "CHAIN_PROVIDER": "helius",
        "HELIUS_API_KEY": API_KEY,
        "HELIUS_API_URL": url,
        "SOLANA_RPC_URL": url,
        "DEXSCREENER_API_URL": url,
        "SOL_PRICE_HISTORY_URL": url,
    }
    try:
        with Harness("holders", env=env) as bench:
            from jobs.models import Job

            bench.start()
            parent.send("counters")
            parent.recv()  # count from the submission on
            load_before = load_average()
            response = bench.post("/jobs/token-holders/analyze", {"mint": mint, "top": top, "early": early})
            response.raise_for_status()
            job_id = response.json()["job_id"]
            job: Job = wait_for(
                lambda: (j := Job.objects.get(id=job_id)).is_terminal and j,
                timeout_s=3600,
                interval_s=0.2,
                what="the holders job",
            )
            parent.send("counters")
            calls: dict[str, int] = parent.recv()
    finally:
        parent.send("stop")
        server.join(timeout=10)
    wall = (job.finished_at - job.created_at).total_seconds() if job.finished_at else float("nan")
    result = job.result or {}
    floor, bound_by = floor_s(calls)
    return [
        job.status,
        result.get("coverage", {}).get("wallets_analysed"),
        len(result.get("failed_wallets") or []),
        calls.get("rpc", 0),
        calls.get("transactions", 0),
        calls.get("dexscreener", 0),
        calls.get("sol_usd", 0),
        f"{floor:.1f} ({bound_by})",
        f"{wall:.1f}",
        f"{wall / floor:.3f}" if floor else "n/a",
        f"{load_before} / {load_average()}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--top", type=int, default=200)
    parser.add_argument("--early", type=int, default=50)
    args = parser.parse_args()
    row = run_once(args.latency_ms, args.top, args.early)
    print(f"`{command_line()}`\n")
    headers = [
        "status",
        "wallets",
        "failed",
        "RPC calls",
        "enhanced-tx calls",
        "DexScreener",
        "Pyth",
        "floor s (bound by)",
        "wall s",
        "wall / floor",
        "load avg before / after",
    ]
    print(markdown_table(headers, [row]))


if __name__ == "__main__":
    main()
