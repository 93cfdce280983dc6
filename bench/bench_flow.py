"""Flow benchmark: time to the raw result of a 10-wallet similarity job on the simulated market with a
realistic upstream latency, against the synchronous path and against the critical-path floor.

    .venv/bin/python -m bench.bench_flow [--latency-ms 250] [--runs 3] [--sync-runs 2] [--wallets 10]

- flow: `POST /jobs/similarity/analyze`, then `job-completed` over the WebSocket (the raw result; the
  enrichment arrives later as `enrichment-completed`, whose time is shown too).
- synchronous: `POST /analyses/similarity`, every step in sequence inside the request (with enrichment).
- floor: the slowest wallet's sync alone plus the computation: `wallet_sync` of a twin of the flow's
  slowest wallet (as many upstream calls, never synced), timed in this process right after the flow, plus
  the run time of the flow's own body task (`jobs.similarity_finish`, from its TaskRun row): the work that
  has to follow the last sync, without any of the waiting between tasks. The body is measured in the flow
  because it is cold there: it computes and stores each wallet's PnL and behaviour and looks up prices
  (upstream calls), which a second computation would find done.

Every run uses wallets never synced before (a synced wallet stays fresh for WALLET_SYNC_FRESHNESS). The sets
are matched: candidates are sorted by the upstream calls their first sync needs and cut into `wallets`
groups; set i takes the i-th wallet of every group, so every set has the same profile of sync lengths.
The latency is the run-time knob `sim:latency-ms` (every chain and price call sleeps that long).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench.harness import (
    Harness,
    WalletPool,
    command_line,
    load_average,
    markdown_table,
    median,
    wallet_worker_split,
)
from tests.support.stack import wait_for


@dataclass
class FlowRun:
    seconds: float
    enrichment_s: float | None
    longest_sync_s: float
    slowest_sync_start_s: float
    balances_s: float
    floor_sync_s: float
    floor_compute_s: float
    timeline: tuple[float, float, float, float, float]
    calls: int
    max_calls: int
    load: str

    @property
    def floor_s(self) -> float:
        return self.floor_sync_s + self.floor_compute_s


def matched_sets(pool: WalletPool, *, wallets: int, sets: int) -> list[list[str]]:
    candidates = pool.take(wallets * sets)
    ranked = sorted(candidates, key=lambda w: (pool.upstream_calls(w), pool.market.history_length(w)))
    groups = [ranked[g * sets : (g + 1) * sets] for g in range(wallets)]
    return [[group[i] for group in groups] for i in range(sets)]


def even_sets(pool: WalletPool, *, wallets: int, sets: int, calls: int) -> list[list[str]]:
    """Sets of wallets whose first sync needs exactly `calls` upstream calls each: histories of one size."""
    chosen: list[str] = []
    while len(chosen) < wallets * sets:
        chosen += [wallet for wallet in pool.take(200) if pool.upstream_calls(wallet) == calls]
    return [chosen[i * wallets : (i + 1) * wallets] for i in range(sets)]


def _body_recorded(job_id: str) -> bool:
    from jobs.models import TaskRun

    # The job completes inside the body task; its TaskRun row gets the run time a moment later.
    return TaskRun.objects.filter(
        job_id=job_id, task_name="jobs.similarity_finish", runtime_ms__isnull=False
    ).exists()


def _task_seconds(job_id: str) -> dict[str, Any]:
    from jobs.models import TaskRun

    runs = TaskRun.objects.filter(job_id=job_id)
    by_name: dict[str, list[float]] = {}
    for run in runs:
        by_name.setdefault(run.task_name, []).append((run.runtime_ms or 0) / 1000)
    return by_name


def _slowest_sync_start_s(job_id: str) -> float:
    """How long after the first header task the slowest sync started: its wait for a free worker thread."""
    from jobs.models import TaskRun

    header = list(
        TaskRun.objects.filter(
            job_id=job_id, task_name__in=["jobs.similarity_sync_wallet", "jobs.similarity_fetch_balances"]
        )
    )
    syncs = [run for run in header if run.task_name == "jobs.similarity_sync_wallet"]
    if not syncs:
        return 0.0
    slowest = max(syncs, key=lambda run: run.runtime_ms or 0)
    return (slowest.started_at - min(run.started_at for run in header)).total_seconds()


def _timeline(job_id: str, submitted_at: float) -> tuple[float, float, float, float, float]:
    """Seconds after the submission (one clock: workers and benchmark share the machine): the start task
    began, the first header task began, the last header task ended, the body began, the body ended."""
    from jobs.models import TaskRun

    runs = list(TaskRun.objects.filter(job_id=job_id))

    def seconds(moment: Any) -> float:
        return float(moment.timestamp() - submitted_at) if moment is not None else float("nan")

    start = [run for run in runs if run.task_name == "jobs.similarity_flow"]
    header = [
        run
        for run in runs
        if run.task_name in ("jobs.similarity_sync_wallet", "jobs.similarity_fetch_balances")
    ]
    body = [run for run in runs if run.task_name == "jobs.similarity_finish"]
    return (
        seconds(min(run.started_at for run in start)) if start else float("nan"),
        seconds(min(run.started_at for run in header)) if header else float("nan"),
        seconds(max(run.finished_at for run in header if run.finished_at)) if header else float("nan"),
        seconds(body[0].started_at) if body else float("nan"),
        seconds(body[0].finished_at) if body else float("nan"),
    )


def _flow_once(bench: Harness, pool: WalletPool, wallets: list[str], twin: str) -> FlowRun:
    from tests.support.ws import JobSocket
    from wallets.services import wallet_sync

    load = load_average()
    with JobSocket(bench.stack.ws_url, token=bench.user.token) as socket:
        start = time.perf_counter()
        submitted_at = time.time()
        job_id = bench.submit_similarity(wallets)
        snapshot = socket.subscribe(job_id)
        if snapshot.get("status") != "completed":
            while True:
                event = socket.next_event(180)
                if event.get("type") == "job-failed":
                    raise RuntimeError(f"flow failed: {event}")
                if event.get("type") == "job-completed":
                    break
        seconds = time.perf_counter() - start
        enrichment_s: float | None = None
        try:
            socket.wait_for(lambda e: e.get("type") == "enrichment-completed", timeout_s=120)
            enrichment_s = time.perf_counter() - start
        except TimeoutError:
            pass
    wait_for(partial(_body_recorded, job_id), timeout_s=30, interval_s=0.05, what="the body's TaskRun row")
    tasks = _task_seconds(job_id)
    timeline = _timeline(job_id, submitted_at)

    started = time.perf_counter()
    wallet_sync(address=twin)
    floor_sync_s = time.perf_counter() - started
    floor_compute_s = max(tasks.get("jobs.similarity_finish", [0.0]))
    calls = [pool.upstream_calls(w) for w in wallets]
    return FlowRun(
        seconds=seconds,
        enrichment_s=enrichment_s,
        longest_sync_s=max(tasks.get("jobs.similarity_sync_wallet", [0.0])),
        slowest_sync_start_s=_slowest_sync_start_s(job_id),
        balances_s=max(tasks.get("jobs.similarity_fetch_balances", [0.0])),
        floor_sync_s=floor_sync_s,
        floor_compute_s=floor_compute_s,
        timeline=timeline,
        calls=sum(calls),
        max_calls=max(calls),
        load=load,
    )


def _sync_once(bench: Harness, pool: WalletPool, wallets: list[str]) -> tuple[float, int, str]:
    load = load_average()
    start = time.perf_counter()
    response = bench.post("/analyses/similarity", {"wallets": wallets}, timeout_s=600)
    seconds = time.perf_counter() - start
    response.raise_for_status()
    return seconds, sum(pool.upstream_calls(w) for w in wallets), load


def run(
    *,
    latency_ms: int,
    runs: int,
    sync_runs: int,
    wallets: int,
    price_latency_ms: int | None,
    wallet_concurrency: int | None,
    wallet_processes: int | None = None,
    even_calls: int | None = None,
) -> str:
    from core.redis import SIMULATED_DEXSCREENER_LATENCY_KEY, SIMULATED_LATENCY_KEY

    # The synchronous path takes at most SYNC_ANALYSIS_MAX_WALLETS wallets (20 by default).
    env = {"SIMULATED_LATENCY_MS": "0", "SYNC_ANALYSIS_MAX_WALLETS": str(max(20, wallets))}
    with Harness("flow", env=env) as bench:
        # The deployment's wallet processes (core/queues.py) unless the command asks for another split.
        split = wallet_processes is not None or wallet_concurrency is not None
        bench.start(
            **(wallet_worker_split(wallet_processes or 2, threads=wallet_concurrency) if split else {})
        )
        pool = WalletPool()
        count = 2 * runs + sync_runs + 1
        sets = (
            matched_sets(pool, wallets=wallets, sets=count)
            if even_calls is None
            else even_sets(pool, wallets=wallets, sets=count, calls=even_calls)
        )
        flow_sets, twin_sets = sets[:runs], sets[runs : 2 * runs]
        sync_sets, warmup = sets[2 * runs : 2 * runs + sync_runs], sets[-1]
        bench.redis_client().set(SIMULATED_LATENCY_KEY, latency_ms)
        if price_latency_ms is not None:
            bench.redis_client().set(SIMULATED_DEXSCREENER_LATENCY_KEY, price_latency_ms)
        # Warm-up: first requests of every process, the similarity worker's imports, this process's ORM.
        _flow_once(bench, pool, warmup[: wallets // 2], twin=warmup[-1])

        flows: list[FlowRun] = []
        syncs: list[tuple[float, int, str]] = []
        for i in range(max(runs, sync_runs)):
            if i < runs:
                flow_set = flow_sets[i]
                slowest = max(flow_set, key=pool.upstream_calls)
                twin = twin_sets[i][flow_set.index(slowest)]
                flows.append(_flow_once(bench, pool, flow_set, twin))
            if i < sync_runs:
                syncs.append(_sync_once(bench, pool, sync_sets[i]))

    rows = [
        [
            f"flow {i + 1}",
            f"{f.calls} / {f.max_calls}",
            f"{f.seconds:.2f}",
            " / ".join(f"{moment:.2f}" for moment in f.timeline),
            f"{f.longest_sync_s:.2f} / {f.balances_s:.2f}",
            f"{f.slowest_sync_start_s:.2f}",
            f"{f.floor_sync_s:.2f} + {f.floor_compute_s:.2f} = {f.floor_s:.2f}",
            f"**{f.seconds / f.floor_s:.2f}x**",
            f"{f.enrichment_s:.2f}" if f.enrichment_s is not None else "not within 120 s",
            f.load,
        ]
        for i, f in enumerate(flows)
    ]
    rows += [
        [f"synchronous {i + 1}", f"{calls} / -", f"{seconds:.2f}", "", "", "", "", "", "(included)", load]
        for i, (seconds, calls, load) in enumerate(syncs)
    ]
    flow_median = median([f.seconds for f in flows])
    floor_median = median([f.floor_s for f in flows])
    sync_median = median([s[0] for s in syncs])
    summary = markdown_table(
        ["measure (medians)", "value"],
        [
            ["flow, time to job-completed", f"{flow_median:.2f} s"],
            ["critical-path floor (slowest sync alone + compute)", f"{floor_median:.2f} s"],
            ["synchronous path", f"{sync_median:.2f} s"],
            ["**flow ÷ floor** (target ≤ 1.15)", f"**{flow_median / floor_median:.2f}x**"],
            ["**synchronous ÷ flow** (target ≥ 8)", f"**{sync_median / flow_median:.1f}x**"],
        ],
    )
    details = markdown_table(
        [
            "run",
            "upstream calls of the syncs: total / slowest wallet",
            "s to result",
            "s after submit: start task / first header task / last header end / body start / body end",
            "s: longest sync task / balances task",
            "s: slowest sync waited for a thread",
            "floor s: sync alone + body task",
            "÷ floor",
            "s to enrichment",
            "load avg",
        ],
        rows,
    )
    return (
        f"{wallets} wallets per job, `sim:latency-ms` = {latency_ms}"
        + ("" if price_latency_ms is None else f", `sim:latency-ms:dexscreener` = {price_latency_ms}")
        + (f", `WALLET_CONCURRENCY` = {wallet_concurrency}" if wallet_concurrency is not None else "")
        + (f", {wallet_processes} wallet-worker processes" if wallet_processes else ", deployment default")
        + (f", every wallet's first sync {even_calls} upstream calls" if even_calls is not None else "")
        + "; balances add 2 calls per wallet and the synchronous path also enriches."
        + f"\n\n{details}\n\n{summary}\n\n```bash\n{command_line()}\n```"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=250)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sync-runs", type=int, default=2)
    parser.add_argument("--wallets", type=int, default=10)
    parser.add_argument(
        "--price-latency-ms", type=int, default=None, help="price calls only (default: as --latency-ms)"
    )
    parser.add_argument(
        "--wallet-concurrency",
        type=int,
        default=None,
        help="threads of the wallet queue in all (default: the deployment's, 2 processes x 6)",
    )
    parser.add_argument(
        "--wallet-processes",
        type=int,
        default=None,
        help="wallet-worker processes sharing the queue's threads (default: the deployment's, 2; 12 threads "
        "in all unless --wallet-concurrency)",
    )
    parser.add_argument(
        "--even-calls",
        type=int,
        default=None,
        help="take only wallets whose first sync needs this many upstream calls (default: a random mix)",
    )
    args = parser.parse_args(argv)
    print(
        run(
            latency_ms=args.latency_ms,
            runs=args.runs,
            sync_runs=args.sync_runs,
            wallets=args.wallets,
            price_latency_ms=args.price_latency_ms,
            wallet_concurrency=args.wallet_concurrency,
            wallet_processes=args.wallet_processes,
            even_calls=args.even_calls,
        )
    )


if __name__ == "__main__":
    main()
