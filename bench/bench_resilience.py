"""Resilience benchmark: jobs submitted, completed, dead-lettered and lost under injected faults, and the
time to recover.

    .venv/bin/python -m bench.bench_resilience [--cases all|name,name] [--jobs 4] [--wallets 4] [--repeat 1]

One stack for every case: Redis with `appendonly yes` (appendfsync everysec), beat running the stalled
sweep, upstream latency 150 ms (SIMULATED_LATENCY_MS, so a FLUSHALL does not reset it). Recovery windows
are shortened so a case fits in a minute: JOB_STALL_TIMEOUT_S=15 and JOB_QUEUED_LOST_AFTER_S=15 (production:
the queue's hard limit plus a minute, and ten minutes), STALLED_SWEEP_INTERVAL_S=2 (production: 60), and
WALLET_SYNC_LOCK_TTL_S=15 (production: 60, always shorter than the stall timeout).

Each case submits `jobs` similarity jobs of `wallets` never-synced wallets (PnL and behaviour jobs for the
analysis worker), waits until the fault can hit work in progress (a task of the target queue running, by
its TaskRun row), injects it, and waits until every job has ended (at most 240 s):

- kill-<queue>: SIGKILL of the worker's process group (parent and pool children), restarted at once, as a
  supervisor would;
- redis-restart-aof: SIGKILL of redis-server, 2 s down, started again on the same port from its AOF;
- redis-flushall: FLUSHALL (queued messages, chord counters, results, locks and caches gone);
- faults-30: `sim:fault-rate` 0.3 for the whole case (every chain and price call fails 30 % of the time).

A supervisor thread stands in for the deployment's restart policy (`restart: unless-stopped` in
docker/compose.yaml): a worker or beat process that exits on its own is started again within a second, and
the case lists it.

Counted from the ledger: completed (and with how many failed wallets), failed with a dead letter, lost
(not ended by the deadline, or failed without a dead letter), re-driven (attempts > 1); for similarity
jobs, the enrichment state at the end; and whether every synced wallet holds exactly the swaps the market
generated (no duplicate, none missing). Recovery: from the fault to the last job's end.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import Harness, WalletPool, command_line, load_average, markdown_table
from tests.support.stack import wait_for

CASES = (
    "no-fault",
    "kill-wallet",
    "kill-similarity",
    "kill-analysis",
    "kill-enrichment",
    "redis-restart-aof",
    "redis-flushall",
    "faults-30",
)
DEADLINE_S = 240
ENRICHMENT_GRACE_S = 30
ENV = {
    "SIMULATED_LATENCY_MS": "150",
    "JOB_STALL_TIMEOUT_S": "15",
    "JOB_QUEUED_LOST_AFTER_S": "15",
    "STALLED_SWEEP_INTERVAL_S": "2",
    # A killed sync's wallet lock would otherwise hold its re-drive back for the lock's 60 s.
    "WALLET_SYNC_LOCK_TTL_S": "15",
}


@dataclass
class Outcome:
    case: str
    submitted: int = 0
    completed: int = 0
    partial: int = 0
    failed_dead_lettered: int = 0
    lost: int = 0
    redriven: int = 0
    dead_letters: int = 0
    enrichment: Counter[str] = field(default_factory=Counter)
    swaps_checked: int = 0
    swaps_wrong: int = 0
    fault_note: str = ""
    exits: list[str] = field(default_factory=list)
    batch_s: float = 0.0
    recover_s: float | None = None
    load: str = ""


def _expected_swaps(market: Any, wallet: str) -> int:
    from wallets.extraction import extract_wallet_swaps

    signatures = [s["signature"] for s in market.get_signatures(wallet) if s["err"] is None]
    transactions = [
        tx for i in range(0, len(signatures), 100) for tx in market.get_transactions(signatures[i : i + 100])
    ]
    return len(extract_wallet_swaps(transactions, wallet).legs)


def _last_error(log: Path) -> str:
    """The last 'Unrecoverable error' a worker logged, if any: why it exited."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if "Unrecoverable error" in line:
            return line.split("Unrecoverable error:", 1)[-1].strip()[:120]
    return ""


def _running_task(queue: str, job_ids: list[str], names: Sequence[str] = ()) -> bool:
    from jobs.models import TaskRun

    runs = TaskRun.objects.filter(queue=queue, job_id__in=job_ids, finished_at__isnull=True)
    if names:
        runs = runs.filter(task_name__in=names)
    return runs.exists()


class Resilience:
    def __init__(self, bench: Harness, *, jobs: int, wallets: int) -> None:
        from django.contrib.auth import get_user_model

        self.bench = bench
        self.jobs = jobs
        self.wallets = wallets
        self.pool = WalletPool()
        self.owner = get_user_model().objects.get(username=bench.user.username)
        self.lock = threading.Lock()
        self.exits: list[str] = []
        self._stop = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self._supervisor.start()

    def _supervise(self) -> None:
        """Start again any worker or beat that exited on its own, like a restart policy would."""
        from core.queues import QUEUES

        stack = self.bench.stack
        while not self._stop.wait(0.5):
            with self.lock:
                for name, process in list(stack.processes.items()):
                    code = process.poll()
                    if code is None or name not in {*QUEUES, "beat"}:
                        continue
                    stack.processes.pop(name)
                    reason = _last_error(stack.log_dir / f"{name}.log")
                    self.exits.append(f"{name} exited ({code}{': ' + reason if reason else ''}), restarted")
                    if name == "beat":
                        stack.start_beat()
                    else:
                        stack.start_worker(name)

    def stop(self) -> None:
        self._stop.set()
        self._supervisor.join(timeout=5)

    def submit(self, kind: str) -> list[str]:
        ids = []
        for i in range(self.jobs):
            if kind == "similarity":
                ids.append(self.bench.submit_similarity(self.pool.take(self.wallets)))
            else:
                path = "/jobs/analysis/pnl" if i % 2 == 0 else "/jobs/analysis/behavior"
                response = self.bench.post(path, {"wallet": self.pool.take(1)[0]})
                response.raise_for_status()
                ids.append(str(response.json()["job_id"]))
        return ids

    def kill_worker(self, queue: str) -> str:
        with self.lock:
            self.bench.stack.kill_hard(queue)
            self.bench.stack.start_worker(queue)
        return "worker SIGKILLed and restarted"

    def run_case(self, case: str) -> Outcome:
        from core.queues import ANALYSIS_QUEUE, ENRICHMENT_QUEUE, SIMILARITY_QUEUE, WALLET_QUEUE
        from core.redis import SIMULATED_FAULT_RATE_KEY

        redis = self.bench.redis_client
        kind = "analysis" if case == "kill-analysis" else "similarity"
        queue_of = {
            "kill-wallet": (WALLET_QUEUE, ["jobs.similarity_sync_wallet"]),
            "kill-similarity": (SIMILARITY_QUEUE, []),
            "kill-analysis": (ANALYSIS_QUEUE, ["jobs.analysis_compute"]),
            "kill-enrichment": (ENRICHMENT_QUEUE, ["jobs.enrich_job_balances"]),
        }
        target, names = queue_of.get(case, (WALLET_QUEUE, ["jobs.similarity_sync_wallet"]))

        def inject() -> str:
            if case.startswith("kill-"):
                return self.kill_worker(target)
            if case == "redis-restart-aof":
                return f"Redis down {self.bench.restart_redis(down_s=2.0):.1f} s"
            redis().flushall()
            return "FLUSHALL"

        if case == "faults-30":
            redis().set(SIMULATED_FAULT_RATE_KEY, 0.3)

        outcome = Outcome(case, load=load_average())
        exits_before = len(self.exits)
        started = time.monotonic()
        job_ids = self.submit(kind)
        outcome.submitted = len(job_ids)
        fault_at: float | None = None
        if case.startswith(("kill-", "redis-")):
            try:
                wait_for(
                    lambda: _running_task(target, job_ids, names), timeout_s=90, interval_s=0.01, what="work"
                )
                caught = "mid-task"
            except TimeoutError:
                caught = "no task of the target running"
            fault_at = time.monotonic()
            outcome.fault_note = f"{inject()}, {caught}"
        ended_at = self.wait_ended(job_ids)
        if case == "faults-30":
            redis().delete(SIMULATED_FAULT_RATE_KEY)
        outcome.batch_s = ended_at - started
        if fault_at is not None:
            outcome.recover_s = ended_at - fault_at
        self._count(outcome, job_ids, kind)
        outcome.exits = self.exits[exits_before:]
        return outcome

    def wait_ended(self, job_ids: list[str]) -> float:
        from jobs.models import Job

        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if not Job.objects.filter(id__in=job_ids, status__in=Job.ACTIVE_STATUSES).exists():
                return time.monotonic()
            time.sleep(0.2)
        return time.monotonic()

    def _count(self, outcome: Outcome, job_ids: list[str], kind: str) -> None:
        from jobs.models import DeadLetter, Job
        from wallets.models import Swap, Wallet

        if kind == "similarity":
            # Enrichment is not awaited by the job: give it a little longer to arrive.
            deadline = time.monotonic() + ENRICHMENT_GRACE_S
            while (
                time.monotonic() < deadline
                and Job.objects.filter(
                    id__in=job_ids, status=Job.Status.COMPLETED, result__enrichment__status="pending"
                ).exists()
            ):
                time.sleep(0.5)
        wallets: set[str] = set()
        for job in Job.objects.filter(id__in=job_ids):
            letters = DeadLetter.objects.filter(job_id=job.id).count()
            outcome.dead_letters += letters
            outcome.redriven += job.attempts > 1
            if job.status == Job.Status.COMPLETED:
                outcome.completed += 1
                result = job.result or {}
                outcome.partial += bool(result.get("failed_wallets"))
                if kind == "similarity":
                    outcome.enrichment[str((result.get("enrichment") or {}).get("status"))] += 1
            elif job.status == Job.Status.FAILED and letters:
                outcome.failed_dead_lettered += 1
            else:
                outcome.lost += 1
            params = job.params or {}
            if params.get("wallets"):
                wallets |= set(params["wallets"])
            elif params.get("wallet"):
                wallets.add(params["wallet"])
        synced = Wallet.objects.filter(address__in=wallets, sync_status=Wallet.SyncStatus.SYNCED)
        for wallet in synced.values_list("address", flat=True):
            outcome.swaps_checked += 1
            stored = Swap.objects.filter(wallet_id=wallet).count()
            outcome.swaps_wrong += stored != _expected_swaps(self.pool.market, wallet)


def run(*, cases: Sequence[str], jobs: int, wallets: int) -> str:
    outcomes: list[Outcome] = []
    with Harness("resilience", env=ENV, appendonly=True) as bench:
        bench.start(beat=True)
        resilience = Resilience(bench, jobs=jobs, wallets=wallets)
        resilience.wait_ended(resilience.submit("similarity"))  # warm-up of every process
        for case in cases:
            outcomes.append(resilience.run_case(case))
            print(f"{case}: done", flush=True)
            if case.startswith("redis-"):
                time.sleep(3)  # let every process settle on its new Redis connections
        resilience.stop()
        # Redis is killed and restarted by one case: stop it politely at the end.
        bench.redis.kill(signal.SIGTERM)
    rows = [
        [
            o.case,
            o.submitted,
            f"{o.completed}" + (f" ({o.partial} partial)" if o.partial else ""),
            o.failed_dead_lettered,
            f"**{o.lost}**",
            o.redriven,
            o.dead_letters,
            ", ".join(f"{k}: {v}" for k, v in sorted(o.enrichment.items())) or "n/a",
            f"{o.swaps_checked - o.swaps_wrong}/{o.swaps_checked}",
            f"{o.batch_s:.1f}",
            f"{o.recover_s:.1f}" if o.recover_s is not None else "-",
            o.fault_note or "-",
            "; ".join(o.exits) or "none",
            o.load,
        ]
        for o in outcomes
    ]
    table = markdown_table(
        [
            "case",
            "submitted",
            "completed",
            "failed, dead-lettered",
            "lost",
            "re-driven",
            "dead letters",
            "enrichment at end",
            "wallets with exact swaps",
            "batch s",
            "recovery s (fault → last job ended)",
            "fault",
            "processes that exited on their own (supervisor restarted them)",
            "load avg",
        ],
        rows,
    )
    settings = ", ".join(f"{k}={v}" for k, v in ENV.items())
    return f"Harness: Redis appendonly yes; {settings}.\n\n{table}\n\n```bash\n{command_line()}\n```"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="all", help=f"all, or some of: {', '.join(CASES)}")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--wallets", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1, help="run the list of cases this many times")
    args = parser.parse_args(argv)
    cases = (list(CASES) if args.cases == "all" else args.cases.split(",")) * args.repeat
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    print(run(cases=cases, jobs=args.jobs, wallets=args.wallets))


if __name__ == "__main__":
    main()
