"""Submission benchmark: `POST /jobs/similarity/analyze` against a bare DRF endpoint in the same gunicorn.

    .venv/bin/python -m bench.bench_submit [--clients 1,16,64] [--requests 200,800,1600] [--rounds 2]

Both endpoints get the same requests (10 distinct random wallets each, so no submission is deduplicated)
from `clients` threads on keep-alive connections, in alternating rounds (bare, submit, bare, submit) so
drift on this shared machine hits both alike. The bare endpoint (`bench.urls_with_baseline`) runs the same
DRF pipeline (token authentication, JSON parsing, rendering) and nothing else; submit adds validation, the
dedup lookup, the ledger insert and the enqueue. Workers are not started: the messages wait in Redis, so
the only work on the machine is the two endpoints'. CPU per request is read from /proc for gunicorn's
processes and PostgreSQL's backends.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.harness import (
    Harness,
    command_line,
    cpu_seconds,
    load_average,
    make_api_users,
    markdown_table,
    percentile,
    postmaster_pid,
    process_tree,
    random_wallets,
)

SUBMIT = "/jobs/similarity/analyze"
BARE = "/bench/bare"
WALLETS_PER_REQUEST = 10
USERS = 400


@dataclass
class Sample:
    latencies_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    errors: int = 0
    gunicorn_cpu_s: float = 0.0
    postgres_cpu_s: float = 0.0
    loads: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies_s)


def _fire(
    port: int, path: str, requests: Sequence[tuple[bytes, dict[str, str]]], clients: int
) -> tuple[list[float], float, int]:
    """Send every (body, headers) once from `clients` threads; returns latencies, wall time and errors."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        failed = 0
        barrier.wait()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            start = time.perf_counter()
            try:
                body, headers = requests[index]
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 202:
                    failed += 1
                    continue
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.append(time.perf_counter() - start)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - start, errors


def run(clients: Sequence[int], requests: Sequence[int], rounds: int) -> str:
    with Harness("submit") as bench:
        bench.start(queues=[])
        port = bench.stack.web_port
        # Submissions are throttled per user (SUBMIT_THROTTLE_RATE): many users share the load, as they
        # would in production, so the throttle runs on every submission without refusing any.
        users = [{**user.headers, "Content-Type": "application/json"} for user in make_api_users(USERS)]
        gunicorn_root = bench.stack.processes["gunicorn"].pid
        postmaster = postmaster_pid(bench.postgres)
        turn = itertools.count()

        def bodies(count: int) -> list[tuple[bytes, dict[str, str]]]:
            return [
                (
                    json.dumps({"wallets": random_wallets(WALLETS_PER_REQUEST)}).encode(),
                    users[next(turn) % len(users)],
                )
                for _ in range(count)
            ]

        for path in (BARE, SUBMIT):  # warm up both: connections, imports, caches
            _fire(port, path, bodies(200), 8)

        results: dict[tuple[str, int], Sample] = {}
        for concurrency, count in zip(clients, requests, strict=True):
            for _ in range(rounds):
                for path in (BARE, SUBMIT):
                    payloads = bodies(count)
                    pids = process_tree(gunicorn_root) + process_tree(postmaster)
                    web_pids = set(process_tree(gunicorn_root))
                    before_web = cpu_seconds(web_pids)
                    before_db = cpu_seconds(set(pids) - web_pids)
                    latencies, elapsed, errors = _fire(port, path, payloads, concurrency)
                    pids_after = set(process_tree(postmaster))
                    sample = results.setdefault((path, concurrency), Sample())
                    sample.latencies_s += latencies
                    sample.elapsed_s += elapsed
                    sample.errors += errors
                    sample.gunicorn_cpu_s += cpu_seconds(web_pids) - before_web
                    # Backends are persistent (CONN_MAX_AGE): the same processes before and after.
                    sample.postgres_cpu_s += cpu_seconds(pids_after - web_pids) - before_db
                    sample.loads.append(load_average())

        from jobs.models import Job

        jobs = Job.objects.count()

    rows = []
    for concurrency in clients:
        bare, submit = results[(BARE, concurrency)], results[(SUBMIT, concurrency)]
        for name, sample in (("bare DRF", bare), ("submit", submit)):
            rows.append(
                [
                    concurrency,
                    name,
                    sample.count,
                    f"{percentile(sample.latencies_s, 50) * 1000:.1f}",
                    f"{percentile(sample.latencies_s, 99) * 1000:.1f}",
                    f"{sample.count / sample.elapsed_s:.0f}",
                    f"{sample.gunicorn_cpu_s / sample.count * 1000:.2f}",
                    f"{sample.postgres_cpu_s / sample.count * 1000:.2f}",
                    sample.errors,
                    ", ".join(sample.loads),
                ]
            )
        rows.append(
            [
                concurrency,
                "**submit ÷ bare**",
                "",
                f"{percentile(submit.latencies_s, 50) / percentile(bare.latencies_s, 50):.2f}x",
                f"**{percentile(submit.latencies_s, 99) / percentile(bare.latencies_s, 99):.2f}x**",
                f"{(submit.count / submit.elapsed_s) / (bare.count / bare.elapsed_s):.2f}x",
                f"{(submit.gunicorn_cpu_s / submit.count) / (bare.gunicorn_cpu_s / bare.count):.2f}x",
                "",
                "",
                "",
            ]
        )
    table = markdown_table(
        [
            "clients",
            "endpoint",
            "requests",
            "p50 ms",
            "p99 ms",
            "req/s",
            "gunicorn CPU ms/req",
            "PostgreSQL CPU ms/req",
            "errors",
            "load avg (1/5/15 min) per round",
        ],
        rows,
    )
    added = ", ".join(
        f"{_cpu_ms(results[(SUBMIT, c)]) - _cpu_ms(results[(BARE, c)]):.2f} ms at {c} client{'s' * (c > 1)}"
        for c in clients
    )
    return (
        f"{table}\n\ngunicorn CPU a submission adds to the bare request: {added}.\n"
        f"Jobs in the ledger after the run: {jobs}.\n\n```bash\n{command_line()}\n```"
    )


def _cpu_ms(sample: Sample) -> float:
    return sample.gunicorn_cpu_s / sample.count * 1000


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--requests", default="200,800,1600", help="requests per round, per client count")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    clients = [int(x) for x in args.clients.split(",")]
    requests = [int(x) for x in args.requests.split(",")]
    print(run(clients, requests, args.rounds))


if __name__ == "__main__":
    main()
