"""Bulk benchmark: a run of `manage.py analyze_wallets --file …` (PnL and behaviour) on the simulated market
with upstream latency and global rate limits that bind, against the rate-limit floor.

    .venv/bin/python -m bench.bench_bulk [--wallets 1000] [--latency-ms 150] [--api-limit 8/second]

The simulated market takes slots of the real upstreams' global limits (SIMULATED_RATE_LIMITS=true): the
Helius Enhanced API limit (`--api-limit`, enhanced transactions, 100 a call) is the one set to bind; the
RPC, DexScreener and SOL/USD history limits are real but generous (`--rpc-limit`, …). Every call sleeps the
latency first. The wallets are never-synced ordinary wallets of the market (`WalletPool`).

- wall: from starting the command to its exit (it submits the bulk jobs and waits for every child).
- floor: for each limited API, the slots its calls took (every attempt takes one, retries included;
  `upstream_rate_limit_slots_total`) divided by its rate; the run's floor is the largest. A run that kept
  the binding upstream busy from its first call to its last takes about the floor.
- busy: the binding API's slots per second, sampled every second: how much of the run it spent at the limit,
  and where it was idle (start, middle, end).
- RSS of every worker process (each queue's parent and its pool children), sampled every 2 s: first sample,
  at a quarter, half and three quarters of its samples, highest, last (whether it levels off).
- lost: every child job must end completed; any other end (or none) is counted.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from limits import parse as parse_limit

from bench.harness import (
    Harness,
    WalletPool,
    command_line,
    cpu_seconds,
    load_average,
    markdown_table,
    postmaster_pid,
    process_tree,
)

SLOTS = "upstream_rate_limit_slots_total"
CALLS = "upstream_calls_total"


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _counters(bench: Harness, name: str) -> dict[str, int]:
    raw = bench.redis_client().hgetall("metrics:counters")
    out: dict[str, int] = {}
    for key, value in raw.items():
        metric, _, labels = str(key).partition("|")
        if metric == name:
            api = dict(pair.split("=", 1) for pair in labels.split(",") if "=" in pair).get("api", "")
            out[api] = out.get(api, 0) + int(value)
    return out


@dataclass
class Sampler:
    """Samples, every second, the binding API's slots and every worker's RSS, until stopped."""

    bench: Harness
    binding_api: str
    slots: list[tuple[float, int]] = field(default_factory=list)
    rss: dict[str, list[int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        from core.queues import QUEUES

        tick = 0
        while not self._stop.wait(1.0 if tick else 0.0):
            self.slots.append((time.monotonic(), _counters(self.bench, SLOTS).get(self.binding_api, 0)))
            if tick % 2 == 0:
                for name, process in list(self.bench.stack.processes.items()):
                    if not any(name.startswith(queue) for queue in QUEUES):
                        continue
                    for index, pid in enumerate(sorted(process_tree(process.pid))):
                        label = f"{name} ({'parent' if index == 0 else 'child'} {pid})"
                        self.rss.setdefault(label, []).append(_rss_kb(pid))
            tick += 1

    def stop(self) -> None:
        self._stop.set()


def _cpu_by_group(bench: Harness) -> dict[str, float]:
    """CPU seconds so far of each worker's process tree, PostgreSQL's and Redis's (reaped children
    included: pass whole trees, see `harness.cpu_seconds`)."""
    groups: dict[str, float] = {}
    for name, process in bench.stack.processes.items():
        groups[name] = cpu_seconds(process_tree(process.pid))
    groups["postgres"] = cpu_seconds(process_tree(postmaster_pid(bench.postgres)))
    if bench.redis.process is not None:
        groups["redis"] = cpu_seconds([bench.redis.process.pid])
    return groups


def _busy(slots: Sequence[tuple[float, int]], rate: float, start: float, end: float) -> dict[str, float]:
    """Share of the run's seconds the binding API ran at ≥ 90 % of its rate, per third of the run."""
    per_second = [
        (t1, (n1 - n0) / (t1 - t0))
        for (t0, n0), (t1, n1) in itertools.pairwise(slots)
        if start <= t0 and t1 <= end and t1 > t0
    ]
    thirds: dict[str, list[bool]] = {"start": [], "middle": [], "end": []}
    span = max(end - start, 1e-9)
    for at, value in per_second:
        part = "start" if at - start < span / 3 else "middle" if at - start < 2 * span / 3 else "end"
        thirds[part].append(value >= 0.9 * rate)
    everything = [flag for flags in thirds.values() for flag in flags]
    shares = {part: (sum(flags) / len(flags) if flags else float("nan")) for part, flags in thirds.items()}
    shares["all"] = sum(everything) / len(everything) if everything else float("nan")
    return shares


def _rate_per_s(limit: str) -> float:
    item = parse_limit(limit)
    return item.amount / item.get_expiry()


def run(args: argparse.Namespace) -> str:
    limits = {
        "helius-api": args.api_limit,
        "helius-rpc": args.rpc_limit,
        "dexscreener": args.dex_limit,
        "sol-price-history": args.sol_usd_limit,
    }
    env = {
        "SIMULATED_LATENCY_MS": str(args.latency_ms),
        "SIMULATED_RATE_LIMITS": "true",
        "HELIUS_API_RATE_LIMIT": args.api_limit,
        "HELIUS_RPC_RATE_LIMIT": args.rpc_limit,
        "DEXSCREENER_RATE_LIMIT": args.dex_limit,
        "SOL_PRICE_HISTORY_RATE_LIMIT": args.sol_usd_limit,
        "MAX_WALLETS_PER_JOB": str(args.per_job),
        **dict(item.split("=", 1) for item in args.env),
    }
    with Harness("bulk", env=env) as bench:
        bench.start(web=False)
        wallets = WalletPool().take(args.wallets)
        listing = bench.tmp / "wallets.txt"
        listing.write_text("\n".join(wallets) + "\n")
        bench.redis_client().delete("metrics:counters")
        sampler = Sampler(bench, "helius-api")
        thread = threading.Thread(target=sampler.run, daemon=True)
        load_before = load_average()
        cpu_before = _cpu_by_group(bench)
        thread.start()
        started = time.monotonic()
        command = [
            sys.executable,
            "manage.py",
            "analyze_wallets",
            "--file",
            str(listing),
            "--types",
            "pnl,behavior",
            "--wait",
            "--timeout",
            str(args.timeout),
            "--poll",
            "1",
        ]
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        slots = _counters(bench, SLOTS)
        calls = _counters(bench, CALLS)
        time.sleep(2)
        sampler.stop()
        thread.join(timeout=10)
        load_after = load_average()
        (bench.stack.log_dir / "analyze_wallets.stderr").write_text(finished.stderr)
        (bench.stack.log_dir / "analyze_wallets.stdout").write_text(finished.stdout)

        from django.db.models import Count, Max, Sum
        from django.utils import timezone

        from jobs.models import Job, TaskRun

        cpu_after = _cpu_by_group(bench)
        cpu = {group: cpu_after[group] - cpu_before.get(group, 0.0) for group in cpu_after}
        ended_at = timezone.now()
        steps = [
            [
                row["task_name"],
                row["runs"],
                f"{row['busy'] / 1000:.0f}",
                f"{wall - (ended_at - row['last']).total_seconds():.1f}",
            ]
            for row in TaskRun.objects.values("task_name")
            .annotate(runs=Count("id"), busy=Sum("runtime_ms"), last=Max("finished_at"))
            .order_by("task_name")
            if row["last"] is not None
        ]
        children = Job.objects.filter(parent__isnull=False)
        by_status = dict.fromkeys(["completed", "failed", "cancelled", "queued", "running"], 0)
        for status in children.values_list("status", flat=True):
            by_status[status] = by_status.get(status, 0) + 1
        expected = args.wallets * 2
        lost = expected - by_status["completed"]

    floors = {api: slots.get(api, 0) / _rate_per_s(limit) for api, limit in limits.items()}
    binding = max(floors, key=lambda api: floors[api])
    floor = floors[binding]
    first_slot = next((t for t, n in sampler.slots if n > 0), started)
    busy = _busy(sampler.slots, _rate_per_s(limits["helius-api"]), first_slot, started + wall)
    bar = [line for line in finished.stderr.splitlines() if line.startswith("[")]
    rows = [
        [
            args.wallets,
            f"{wall:.1f}",
            f"{floor:.1f} ({binding})",
            f"**{wall / floor:.3f}**",
            f"{first_slot - started:.1f}",
            " / ".join(f"{busy[p]:.0%}" for p in ("start", "middle", "end", "all")),
            f"{by_status['completed']}/{expected}",
            f"**{lost}**",
            f"{load_before} → {load_after}",
        ]
    ]
    table = markdown_table(
        [
            "wallets",
            "wall s",
            "floor s (binding API)",
            "wall / floor",
            "first slot s",
            "binding API at ≥90 % of its limit (start / middle / end / all)",
            "children completed",
            "lost",
            "load avg",
        ],
        rows,
    )
    api_rows = [
        [api, limit, slots.get(api, 0), f"{floors[api]:.1f}"] for api, limit in sorted(limits.items())
    ]
    api_table = markdown_table(["API", "limit", "slots taken (calls)", "floor s"], api_rows)
    rss_rows = [
        [
            label,
            len(samples),
            f"{samples[0] / 1024:.0f}",
            " / ".join(f"{samples[len(samples) * quarter // 4] / 1024:.0f}" for quarter in (1, 2, 3)),
            f"{max(samples) / 1024:.0f}",
            f"{samples[-1] / 1024:.0f}",
        ]
        for label, samples in sorted(sampler.rss.items())
        if samples and max(samples) > 0
    ]
    rss_table = markdown_table(
        ["process", "samples", "first MB", "at 1/4 / 1/2 / 3/4 of the run MB", "highest MB", "last MB"],
        rss_rows,
    )
    steps_table = markdown_table(["task", "runs", "run time s (sum)", "last ended at s"], steps)
    cpu_table = markdown_table(
        ["processes", "CPU s", "cores (CPU s / wall)"],
        [[group, f"{seconds:.0f}", f"{seconds / wall:.2f}"] for group, seconds in cpu.items()],
    )
    setup = ", ".join(f"{key}={value}" for key, value in env.items())
    calls_text = ", ".join(f"{api}: {count}" for api, count in sorted(calls.items()))
    return (
        f"Settings: {setup}.\n\n{table}\n\nUpstream calls by API ({calls_text}); slots per limit:\n\n"
        f"{api_table}\n\nTasks:\n\n{steps_table}\n\nCPU of this run's processes (the machine has "
        f"{os.cpu_count()} cores):\n\n{cpu_table}\n\nWorker RSS:\n\n{rss_table}\n\n"
        f"Last progress line: `{bar[-1] if bar else '-'}`; "
        f"command exit {finished.returncode}.\n\n```bash\n{command_line()}\n```"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wallets", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--api-limit", default="8/second", help="HELIUS_API_RATE_LIMIT: the binding limit")
    parser.add_argument("--rpc-limit", default="100/second")
    parser.add_argument("--dex-limit", default="6000/minute")
    parser.add_argument("--sol-usd-limit", default="1000/10seconds")
    parser.add_argument("--per-job", type=int, default=100, help="MAX_WALLETS_PER_JOB: wallets per bulk job")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--env", action="append", default=[], help="more settings, NAME=value")
    print(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
