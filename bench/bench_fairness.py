"""Fairness benchmark: one user hammers the synchronous path; how long does another user's `GET /jobs` take?

    .venv/bin/python -m bench.bench_fairness [--modes bounded,unbounded] [--latency-ms 50]
        [--hammer-threads 8] [--wallets 20] [--phase-s 20] [--rounds 2] [--retry-pause-s 0]

Real gunicorn as in the Procfile (2 workers x 4 threads, `tests.support.stack`), no Celery worker (the
synchronous path needs none). The victim has 50 jobs and sends `GET /jobs` every 50 ms all along, each on a
new connection as a reverse proxy does (so both gunicorn workers serve it); a request counts in the phase it
started in. The run alternates idle phases and hammer phases of `phase-s` seconds: in a hammer phase
`hammer-threads` threads of one other user each loop on `POST /analyses/similarity` with `wallets`
never-synced wallets (the issue's attack: 8 parallel 20-wallet calls). A refused call (429) waits its
`Retry-After` (`--retry-pause-s N`: N seconds instead, an impatient client) before the next. The submission
throttle is off, so the only bound at work is the synchronous path's own.

Modes: `bounded` runs the settings' defaults (SYNC_ANALYSIS_MAX_CONCURRENT_PER_USER=1,
SYNC_ANALYSIS_MAX_CONCURRENT=2); `unbounded` raises both to 1000, as it was before the bounds. Each mode runs
in its own process and stack. The victim's p99 in the hammer phases is compared with its p99 in the idle
phases of the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import (
    ApiUser,
    Harness,
    WalletPool,
    command_line,
    load_average,
    make_api_user,
    markdown_table,
    percentile,
)

VICTIM_INTERVAL_S = 0.05
VICTIM_JOBS = 50


@dataclass
class Phase:
    name: str
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    loads: list[str] = field(default_factory=list)


@dataclass
class Hammer:
    """One user's calls: where they go, how big, how patient (None: as long as Retry-After says)."""

    port: int
    user: ApiUser
    wallets: int
    retry_pause_s: float | None
    pool: WalletPool = field(default_factory=WalletPool)
    pool_lock: threading.Lock = field(default_factory=threading.Lock)
    answered: dict[int, int] = field(default_factory=dict)
    call_s: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int, seconds: float) -> None:
        with self.lock:
            self.answered[status] = self.answered.get(status, 0) + 1
            if status == 200:
                self.call_s.append(seconds)


def _connection(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120)


def _victim(port: int, user: ApiUser, current: list[Phase], stop: threading.Event) -> None:
    """`GET /jobs` every 50 ms, each on a new connection as a reverse proxy sends them (so gunicorn's
    workers share them); a request counts in the phase it started in."""
    while not stop.is_set():
        phase = current[0]
        connection = _connection(port)
        started = time.perf_counter()
        try:
            connection.request("GET", "/jobs?limit=50", headers=user.headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
        finally:
            connection.close()
        elapsed = time.perf_counter() - started
        if ok:
            phase.latencies_s.append(elapsed)
        else:
            phase.errors += 1
        time.sleep(max(0.0, VICTIM_INTERVAL_S - elapsed))


def _hammer(hammer: Hammer, stop: threading.Event) -> None:
    headers = {**hammer.user.headers, "Content-Type": "application/json"}
    while not stop.is_set():
        with hammer.pool_lock:
            body = json.dumps({"wallets": hammer.pool.take(hammer.wallets)})
        # A connection per call: gunicorn closes keep-alive connections idle for 2 s, shorter than a pause.
        connection = _connection(hammer.port)
        started = time.perf_counter()
        try:
            connection.request("POST", "/analyses/similarity", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            hammer.count(0, 0.0)
            continue
        finally:
            connection.close()
        hammer.count(response.status, time.perf_counter() - started)
        if response.status == 429:
            pause = hammer.retry_pause_s
            stop.wait(float(response.getheader("Retry-After") or 1) if pause is None else pause)


def run_mode(
    mode: str,
    *,
    latency_ms: int,
    hammer_threads: int,
    wallets: int,
    phase_s: float,
    rounds: int,
    retry_pause_s: float | None,
) -> tuple[list[Phase], Hammer]:
    env = {"SIMULATED_LATENCY_MS": str(latency_ms), "SUBMIT_THROTTLE_RATE": ""}
    if mode == "unbounded":
        env |= {"SYNC_ANALYSIS_MAX_CONCURRENT_PER_USER": "1000", "SYNC_ANALYSIS_MAX_CONCURRENT": "1000"}
    with Harness(f"fairness-{mode}", env=env) as bench:
        bench.start(queues=[])
        from django.contrib.auth import get_user_model

        from jobs.models import Job

        victim, attacker = make_api_user("victim"), make_api_user("hammer")
        owner = get_user_model().objects.get(username=victim.username)
        Job.objects.bulk_create(
            Job(kind=Job.Kind.PNL, owner=owner, params={"n": n}, dedup_key=f"fairness-{n}", queue="q")
            for n in range(VICTIM_JOBS)
        )
        port = bench.stack.web_port
        phases: list[Phase] = [Phase("warm-up")]
        current = [phases[0]]
        stop_victim = threading.Event()
        victim_thread = threading.Thread(target=_victim, args=(port, victim, current, stop_victim))
        victim_thread.start()
        hammer = Hammer(port, attacker, wallets, retry_pause_s)
        try:
            time.sleep(2)
            for _ in range(rounds):
                for name in ("idle", "hammer"):
                    phase = Phase(name)
                    phases.append(phase)
                    current[0] = phase
                    stop_hammer = threading.Event()
                    threads = [
                        threading.Thread(target=_hammer, args=(hammer, stop_hammer))
                        for _ in range(hammer_threads if name == "hammer" else 0)
                    ]
                    for thread in threads:
                        thread.start()
                    deadline = time.monotonic() + phase_s
                    while time.monotonic() < deadline:
                        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
                        phase.loads.append(load_average())
                    stop_hammer.set()
                    # The calls in flight finish before the next idle phase starts.
                    current[0] = Phase("drain")
                    for thread in threads:
                        thread.join(timeout=300)
        finally:
            stop_victim.set()
            victim_thread.join(timeout=120)
    return [phase for phase in phases if phase.name in ("idle", "hammer")], hammer


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report(results: dict[str, tuple[list[Phase], Hammer]], args: argparse.Namespace) -> str:
    rows = []
    summary = []
    for mode, (phases, hammer) in results.items():
        idle = [s for phase in phases if phase.name == "idle" for s in phase.latencies_s]
        busy = [s for phase in phases if phase.name == "hammer" for s in phase.latencies_s]
        for number, phase in enumerate(phases):
            rows.append(
                [
                    mode,
                    f"{phase.name} {number // 2 + 1}",
                    len(phase.latencies_s),
                    _ms(percentile(phase.latencies_s, 50)),
                    _ms(percentile(phase.latencies_s, 99)),
                    _ms(max(phase.latencies_s, default=float("nan"))),
                    phase.errors,
                    ", ".join(phase.loads),
                ]
            )
        answered = ", ".join(f"{status}: {count}" for status, count in sorted(hammer.answered.items()))
        ratio = percentile(busy, 99) / percentile(idle, 99)
        summary.append(
            [
                mode,
                _ms(percentile(idle, 99)),
                _ms(percentile(busy, 99)),
                f"**{ratio:.2f}x**",
                answered,
                f"{percentile(hammer.call_s, 50):.2f}" if hammer.call_s else "-",
            ]
        )
    phases_table = markdown_table(
        ["mode", "phase", "GET /jobs", "p50 ms", "p99 ms", "max ms", "errors", "load avg (1/5/15 min)"], rows
    )
    summary_table = markdown_table(
        [
            "mode",
            "victim p99 idle ms",
            "victim p99 hammered ms",
            "hammered ÷ idle",
            "hammer answers",
            "hammer 200 call s (p50)",
        ],
        summary,
    )
    return (
        f"{summary_table}\n\n{phases_table}\n\n"
        f"{args.hammer_threads} hammer threads x {args.wallets} wallets, sim latency {args.latency_ms} ms, "
        f"phases of {args.phase_s:.0f} s.\n\n```bash\n{command_line()}\n```"
    )


def _run_in_own_process(mode: str, argv: Sequence[str]) -> tuple[list[Phase], Hammer]:
    """Django binds this process to one harness's database: each mode runs in a child process."""
    with tempfile.NamedTemporaryFile(suffix=".json") as raw:
        subprocess.run(
            [sys.executable, "-m", "bench.bench_fairness", *argv, "--modes", mode, "--raw", raw.name],
            check=True,
        )
        data = json.loads(Path(raw.name).read_text())
    phases = [Phase(**phase) for phase in data["phases"]]
    hammer = Hammer(0, ApiUser("", ""), 0, None)
    hammer.answered = {int(status): count for status, count in data["answered"].items()}
    hammer.call_s = data["call_s"]
    return phases, hammer


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="bounded,unbounded")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--hammer-threads", type=int, default=8)
    parser.add_argument("--wallets", type=int, default=20)
    parser.add_argument("--phase-s", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--retry-pause-s", type=float, default=None)
    parser.add_argument("--raw", help=argparse.SUPPRESS)  # a child process's results, for its parent
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    if args.raw:
        phases, hammer = run_mode(
            modes[0],
            latency_ms=args.latency_ms,
            hammer_threads=args.hammer_threads,
            wallets=args.wallets,
            phase_s=args.phase_s,
            rounds=args.rounds,
            retry_pause_s=args.retry_pause_s,
        )
        raw = {
            "phases": [dataclasses.asdict(phase) for phase in phases],
            "answered": hammer.answered,
            "call_s": hammer.call_s,
        }
        Path(args.raw).write_text(json.dumps(raw))
        return
    child_argv = [
        *("--latency-ms", str(args.latency_ms), "--hammer-threads", str(args.hammer_threads)),
        *("--wallets", str(args.wallets), "--phase-s", str(args.phase_s), "--rounds", str(args.rounds)),
        *(("--retry-pause-s", str(args.retry_pause_s)) if args.retry_pause_s is not None else ()),
    ]
    results = {mode: _run_in_own_process(mode, child_argv) for mode in modes}
    print(report(results, args))


if __name__ == "__main__":
    main()
