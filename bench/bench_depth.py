"""History-depth benchmark: a PnL job on the simulated market's 1,000,000-transaction bot answers on its first
window, while its history deepens to the cap behind it, at a realistic upstream latency.

    .venv/bin/python -m bench.bench_depth [--latency-ms 150] [--max-signatures 50000]

In one stack (default caps: WALLET_SYNC_INITIAL_SIGNATURES=1000, WALLET_HISTORY_MAX_SIGNATURES as given):
1. baseline: a PnL job on an ordinary never-synced wallet (a few hundred transactions), submit to result,
   after a warm-up job on another one (the first PnL of a stack fetches the month's SOL/USD days);
2. a PnL job on the million-transaction bot (never synced), submit to result: the first window only;
3. the bot's background deepening (LOW priority, a page a task), from the job's end until the cap: time,
   pages, the rows stored (chain records, wallet links, cached payloads: all bounded by the cap);
4. a PnL job with `history: "full"` on the 200,000-transaction bot: the job deepens to the cap first.

The floor of (2) is its critical path at the latency: a signature page, then ten fetches of 100 transactions
three at a time (four round trips, the next ones in flight while a window is stored), balances, a price and a
SOL/USD call: 8 round trips.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from bench.harness import Harness, WalletPool, command_line, load_average, markdown_table
from tests.support.stack import wait_for

CRITICAL_PATH_ROUND_TRIPS = 8


def _job_seconds(bench: Harness, path: str, body: dict[str, Any], *, timeout_s: float) -> tuple[float, str]:
    from jobs.models import Job

    started = time.monotonic()
    response = bench.post(path, body)
    response.raise_for_status()
    job_id = str(response.json()["job_id"])
    wait_for(
        lambda: Job.objects.get(id=job_id).is_terminal,
        timeout_s=timeout_s,
        interval_s=0.05,
        what=f"job {job_id}",
    )
    return time.monotonic() - started, job_id


def _rows(wallet: str) -> dict[str, int]:
    from wallets.models import Swap, Transaction, TransactionEffect

    return {
        "records": TransactionEffect.objects.filter(wallet_id=wallet).count(),
        "links": Transaction.objects.filter(wallets=wallet).count(),
        "swaps": Swap.objects.filter(wallet_id=wallet).count(),
        "payloads (all wallets': the ordinary ones' on top)": Transaction.objects.count(),
    }


def run(*, latency_ms: int, max_signatures: int) -> str:
    env = {"SIMULATED_LATENCY_MS": str(latency_ms), "WALLET_HISTORY_MAX_SIGNATURES": str(max_signatures)}
    with Harness("depth", env=env) as bench:
        bench.start()
        from jobs.models import Job, TaskRun
        from wallets.models import Wallet

        pool = WalletPool()
        million, two_hundred_k = pool.market.heavy_bots()
        warm_up, ordinary = pool.take(2)
        load = [load_average()]

        _job_seconds(bench, "/jobs/analysis/pnl", {"wallet": warm_up}, timeout_s=120)
        baseline_s, _ = _job_seconds(bench, "/jobs/analysis/pnl", {"wallet": ordinary}, timeout_s=120)
        bot_s, bot_job = _job_seconds(bench, "/jobs/analysis/pnl", {"wallet": million}, timeout_s=300)
        job = Job.objects.get(id=bot_job)
        history = (job.result or {}).get("history") or {}
        deep_when_answered = Wallet.objects.get(address=million).history_signatures
        load.append(load_average())

        started = time.monotonic()
        wait_for(
            lambda: Wallet.objects.get(address=million).history_limited_by != "",
            timeout_s=3600,
            interval_s=0.5,
            what="the background deepening to reach the cap",
        )
        deepen_s = time.monotonic() - started
        wallet = Wallet.objects.get(address=million)
        pages = TaskRun.objects.filter(task_name="jobs.wallet_history_deepen").count()
        rows = _rows(million)
        from wallets.models import Transaction

        # The cached payloads are shared by every wallet: the others' (the two ordinary wallets') are not
        # the bot's and come on top of its cap.
        others = Transaction.objects.exclude(wallets=million).count()
        load.append(load_average())

        full_s, full_job = _job_seconds(
            bench, "/jobs/analysis/pnl", {"wallet": two_hundred_k, "history": "full"}, timeout_s=3600
        )
        full_history = (Job.objects.get(id=full_job).result or {}).get("history") or {}
        load.append(load_average())

    floor_s = CRITICAL_PATH_ROUND_TRIPS * latency_ms / 1000
    table = markdown_table(
        ["what", "seconds", "history in the result", "note"],
        [
            ["PnL, ordinary wallet (baseline)", f"{baseline_s:.1f}", "-", "a few hundred transactions"],
            [
                "PnL, 1,000,000-transaction bot",
                f"**{bot_s:.1f}**",
                f"{history.get('signatures')} signatures, complete {history.get('complete')}",
                f"{bot_s / baseline_s:.2f}x the baseline, {bot_s / floor_s:.2f}x its {floor_s:.1f} s floor; "
                f"{deep_when_answered} stored when it answered",
            ],
            [
                "background deepening to the cap, after that job",
                f"{deepen_s:.1f}",
                f"{wallet.history_signatures} signatures, limited by {wallet.history_limited_by}",
                f"{pages} tasks of a page each, {wallet.history_signatures / deepen_s:.0f} signatures/s",
            ],
            [
                'PnL, 200,000-transaction bot, `history: "full"`',
                f"{full_s:.1f}",
                f"{full_history.get('signatures')} signatures, limited by {full_history.get('limited_by')}",
                "the job deepens to the cap, then computes",
            ],
        ],
    )
    rows_table = markdown_table(
        ["rows of the 1,000,000-transaction bot at the cap", "count", f"within the cap ({max_signatures})"],
        [
            [
                name,
                count,
                "yes"
                if count <= max_signatures + (others if name.startswith("payloads") else 0)
                else "**no**",
            ]
            for name, count in rows.items()
        ],
    )
    return (
        f"Settings: SIMULATED_LATENCY_MS={latency_ms}, WALLET_SYNC_INITIAL_SIGNATURES=1000 (default), "
        f"WALLET_HISTORY_MAX_SIGNATURES={max_signatures}. Load average at each step: {', '.join(load)}.\n\n"
        f"{table}\n\n{rows_table}\n\n```bash\n{command_line()}\n```"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--max-signatures", type=int, default=50_000)
    args = parser.parse_args(argv)
    print(run(latency_ms=args.latency_ms, max_signatures=args.max_signatures))


if __name__ == "__main__":
    main()
