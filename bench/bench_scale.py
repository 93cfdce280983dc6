"""Scale benchmark: the four queues' workers on separate hosts (network namespaces on this machine), Redis
and PostgreSQL on another, gunicorn, daphne and the client on a fifth; the flow still completes, and its
throughput is compared with the same workload with everything on one host, in the same run.

    .venv/bin/python -m bench.bench_scale [--jobs 8] [--wallets 5] [--pnl-jobs 4] [--rounds 2]  (root)

The network is private to this benchmark: namespaces `h12-data` (10.212.12.1, holding the bridge),
`h12-web` (.2) and one per queue (`h12-wallet` .3, `h12-analysis` .4, `h12-similarity` .5,
`h12-enrichment` .6), each joined to the bridge by a veth pair created directly inside the namespaces, so
the root namespace gets no interface, address or route. Redis binds 10.212.12.1; PostgreSQL listens on
10.212.12.1 with `trust` for 10.212.12.0/24 only. Every namespace, and every process left in one, is
removed on exit (normal end, error, SIGINT or SIGTERM). The kernel here has no netem qdisc, so the links
add no artificial delay: hosts differ from loopback by the veth and bridge hops only (the Redis round trip
is measured and shown).

The workload: `jobs` similarity jobs of `wallets` never-synced wallets each and `pnl-jobs` PnL jobs (so the
analysis host works too), submitted together, upstream latency `latency-ms`; throughput = jobs ÷ (first
submission → last job ended).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType

from bench.harness import ROOT, command_line, load_average, markdown_table, median

SUBNET = "10.212.12.0/24"
DATA_NS, WEB_NS = "h12-data", "h12-web"
DATA_ADDR = "10.212.12.1"
HOSTS = {
    WEB_NS: "10.212.12.2",
    "h12-wallet": "10.212.12.3",
    "h12-analysis": "10.212.12.4",
    "h12-similarity": "10.212.12.5",
    "h12-enrichment": "10.212.12.6",
}
QUEUE_HOSTS = {
    "wallet-operations": "h12-wallet",
    "analysis-operations": "h12-analysis",
    "similarity-operations": "h12-similarity",
    "enrichment-operations": "h12-enrichment",
}
NAMESPACES = [DATA_NS, *HOSTS]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _in(namespace: str) -> list[str]:
    return ["ip", "netns", "exec", namespace]


def _remove_namespaces() -> None:
    existing = subprocess.run(["ip", "netns", "list"], check=False, capture_output=True, text=True).stdout
    present = {line.split()[0] for line in existing.splitlines() if line.strip()}
    for namespace in NAMESPACES:
        if namespace not in present:
            continue
        listed = subprocess.run(
            ["ip", "netns", "pids", namespace], check=False, capture_output=True, text=True
        )
        # Only processes inside our own namespace: the ones this benchmark started there.
        for pid in listed.stdout.split():
            with suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", namespace], check=False, capture_output=True)


@contextmanager
def private_network() -> Iterator[None]:
    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    _remove_namespaces()  # left over by a run that was killed with SIGKILL
    try:
        for namespace in NAMESPACES:
            _ip("netns", "add", namespace)
            _ip("-n", namespace, "link", "set", "lo", "up")
        _ip("-n", DATA_NS, "link", "add", "h12br", "type", "bridge")
        _ip("-n", DATA_NS, "addr", "add", f"{DATA_ADDR}/24", "dev", "h12br")
        _ip("-n", DATA_NS, "link", "set", "h12br", "up")
        for index, (namespace, address) in enumerate(HOSTS.items()):
            port = f"h12p{index}"
            _ip(
                "link",
                "add",
                port,
                "netns",
                DATA_NS,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                namespace,
            )
            _ip("-n", DATA_NS, "link", "set", port, "master", "h12br", "up")
            _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")
        yield
    finally:
        _remove_namespaces()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def inner(*, topology: str, jobs: int, wallets: int, latency_ms: int, pnl_jobs: int) -> dict[str, object]:
    """One measurement; runs inside `h12-web` for the split topology."""
    from bench.harness import Harness, WalletPool, percentile

    split = topology == "split"
    with Harness(
        f"scale-{topology}",
        env={"SIMULATED_LATENCY_MS": str(latency_ms)},
        data_host=DATA_ADDR if split else "127.0.0.1",
        data_prefix=_in(DATA_NS) if split else (),
        trust_subnet=SUBNET if split else None,
    ) as bench:
        bench.start(worker_prefix={q: _in(ns) for q, ns in QUEUE_HOSTS.items()} if split else None)
        from django.db import connection

        from jobs.models import Job

        redis = bench.redis_client()
        pings = []
        for _ in range(500):
            start = time.perf_counter()
            redis.ping()
            pings.append(time.perf_counter() - start)
        pool = WalletPool()
        warm = bench.submit_similarity(pool.take(3))
        deadline = time.monotonic() + 120
        while not Job.objects.get(id=warm).is_terminal and time.monotonic() < deadline:
            time.sleep(0.2)
        sets = [pool.take(wallets) for _ in range(jobs)]
        singles = pool.take(pnl_jobs)
        load = load_average()
        started = time.monotonic()
        ids = [bench.submit_similarity(s) for s in sets]
        for wallet in singles:
            response = bench.post("/jobs/analysis/pnl", {"wallet": wallet})
            response.raise_for_status()
            ids.append(str(response.json()["job_id"]))
        deadline = time.monotonic() + 600
        postgres_clients: set[str] = set()
        while Job.objects.filter(id__in=ids, status__in=Job.ACTIVE_STATUSES).exists():
            if time.monotonic() > deadline:
                break
            # Workers close their connection after every task (Celery's Django fixup): sample while they run.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT DISTINCT host(client_addr) FROM pg_stat_activity WHERE client_addr IS NOT NULL"
                )
                postgres_clients |= {str(row[0]) for row in cursor.fetchall()}
            time.sleep(0.1)
        seconds = time.monotonic() - started
        done = list(Job.objects.filter(id__in=ids))
        durations = [
            (j.finished_at - j.created_at).total_seconds() for j in done if j.finished_at is not None
        ]
        redis_clients = sorted({str(c["addr"]).rsplit(":", 1)[0] for c in redis.client_list()})
        return {
            "topology": topology,
            "completed": sum(j.status == Job.Status.COMPLETED for j in done),
            "jobs": jobs + pnl_jobs,
            "seconds": seconds,
            "median_job_s": median(durations),
            "redis_ping_ms": percentile(pings, 50) * 1000,
            "where": _where(bench.stack.processes) if split else {},
            "redis_clients": redis_clients,
            "postgres_clients": sorted(postgres_clients),
            "load": f"{load} → {load_average()}",
        }


def _where(processes: dict[str, subprocess.Popen[bytes]]) -> dict[str, str]:
    """The namespace each worker process really runs in, from its network namespace inode."""
    inodes = {os.stat(f"/run/netns/{ns}").st_ino: ns for ns in NAMESPACES}
    return {
        queue: inodes.get(os.stat(f"/proc/{process.pid}/ns/net").st_ino, "root namespace")
        for queue, process in processes.items()
        if queue in QUEUE_HOSTS
    }


def _run_inner(topology: str, args: argparse.Namespace) -> dict[str, object]:
    argv = [
        sys.executable,
        "-m",
        "bench.bench_scale",
        "--inner",
        topology,
        "--jobs",
        str(args.jobs),
        "--wallets",
        str(args.wallets),
        "--latency-ms",
        str(args.latency_ms),
        "--pnl-jobs",
        str(args.pnl_jobs),
    ]
    prefix = _in(WEB_NS) if topology == "split" else []
    done = subprocess.run([*prefix, *argv], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{topology} run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--wallets", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--pnl-jobs", type=int, default=4, help="PnL jobs too, for the analysis host")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--inner", choices=("split", "local"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        print(
            json.dumps(
                inner(
                    topology=args.inner,
                    jobs=args.jobs,
                    wallets=args.wallets,
                    latency_ms=args.latency_ms,
                    pnl_jobs=args.pnl_jobs,
                )
            )
        )
        return
    if os.geteuid() != 0:
        raise SystemExit("network namespaces need root")
    results = []
    with private_network():
        for _ in range(args.rounds):  # alternated, so drift in the machine's load hits both alike
            results += [_run_inner("local", args), _run_inner("split", args)]
    rows = [
        [
            "one host (loopback)" if r["topology"] == "local" else "6 hosts (namespaces)",
            f"{r['completed']} / {r['jobs']}",
            f"{r['seconds']:.1f}",
            f"{float(r['jobs']) / float(r['seconds']):.2f}",  # type: ignore[arg-type]
            f"{r['median_job_s']:.1f}",
            f"{r['redis_ping_ms']:.3f}",
            ", ".join(r["redis_clients"]),  # type: ignore[arg-type]
            ", ".join(r["postgres_clients"]) or "unix/loopback",  # type: ignore[arg-type]
            r["load"],
        ]
        for r in results
    ]
    split = results[-1]
    local_s = median([float(r["seconds"]) for r in results if r["topology"] == "local"])  # type: ignore[arg-type]
    split_s = median([float(r["seconds"]) for r in results if r["topology"] == "split"])  # type: ignore[arg-type]
    ratio = local_s / split_s
    table = markdown_table(
        [
            "topology",
            "jobs completed",
            "s",
            "jobs/s",
            "median job s",
            "Redis PING p50 ms",
            "Redis client addresses",
            "PostgreSQL client addresses",
            "load avg",
        ],
        rows,
    )
    placement = ", ".join(f"{queue} in {ns}" for queue, ns in split["where"].items())  # type: ignore[attr-defined]
    print(
        f"{args.jobs} similarity jobs x {args.wallets} wallets and {args.pnl_jobs} PnL jobs, upstream "
        f"latency {args.latency_ms} ms. "
        f"Workers found by their network namespace: {placement}.\n\n{table}\n\n"
        f"**6 hosts ÷ one host throughput (medians of {args.rounds} rounds): {ratio:.2f}x**\n\n"
        f"```bash\n{command_line()}\n```"
    )


if __name__ == "__main__":
    main()
