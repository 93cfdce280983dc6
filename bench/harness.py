"""An isolated stack for one benchmark run: its own Redis and PostgreSQL on free ports in a temporary
directory, migrated, with one API user, and the application's processes started by `tests.support.stack`.

    with Harness("flow", env={"SIMULATED_LATENCY_MS": "0"}) as bench:
        bench.start()                       # four queue workers, gunicorn, daphne (beat on request)
        bench.post("/jobs/similarity/analyze", {"wallets": [...]})

Nothing is shared with the test services or with other benchmark runs. Every process (this one too) runs
with `DJANGO_SETTINGS_MODULE=bench.settings` (the application's settings plus a bare DRF endpoint and
plain Celery tasks for the baselines) and `DEBUG=false`, as in production, but over plain HTTP
(`HTTPS_ONLY=false`: no proxy terminates TLS here). PostgreSQL runs like the test cluster of
`scripts/lib.sh` (`fsync=off`, `synchronous_commit=off`): commits cost less than on a durable production
database, which flatters write-heavy paths a little; `durable=True` turns both back on.

Import Django models only after entering the harness: it sets the environment, then calls django.setup().
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import requests

from tests.support.stack import Stack, free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
LOG_ROOT = ROOT / "var" / "bench-logs"


def pg_bindir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    for candidate in reversed(candidates):
        if (candidate / "initdb").exists():
            return candidate
    raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql)")


def _as_postgres() -> list[str]:
    # initdb refuses to run as root: the cluster belongs to the postgres user (as in scripts/lib.sh).
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@dataclass
class RedisServer:
    directory: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    appendonly: bool = False
    prefix: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def client(self) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, socket_timeout=5, decode_responses=True)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [
            *self.prefix,
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--protected-mode",
            "no",
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "everysec",
            "--dir",
            str(self.directory),
            "--logfile",
            str(self.directory / "redis.log"),
            "--daemonize",
            "no",
        ]
        self.process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_for(lambda: self.client().ping(), timeout_s=20, interval_s=0.02, what="redis-server")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@dataclass
class PostgresServer:
    directory: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    prefix: Sequence[str] = ()
    trust_subnet: str | None = None
    durable: bool = False
    database: str = "bench"

    @property
    def url(self) -> str:
        return f"postgres://postgres@{self.host}:{self.port}/{self.database}"

    def start(self) -> None:
        bindir = pg_bindir()
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres", str(self.directory)], check=True)
            # The postgres user must reach the directory: mkdtemp makes it and its parent's entries 0700.
            for path in (self.directory, self.directory.parent):
                path.chmod(0o755)
        run = [*self.prefix, *_as_postgres()]
        data = self.directory / "data"
        initdb = ["-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]
        subprocess.run([*run, str(bindir / "initdb"), *initdb], check=True, capture_output=True)
        if self.trust_subnet:
            with (data / "pg_hba.conf").open("a") as hba:
                hba.write(f"host all all {self.trust_subnet} trust\n")
        durability = "on" if self.durable else "off"
        options = (
            f"-p {self.port} -k {self.directory} -h {self.host} -c fsync={durability} "
            f"-c synchronous_commit={durability} -c full_page_writes={durability} -c max_connections=300"
        )
        log = str(self.directory / "postgres.log")
        pg_ctl = ["-D", str(data), "-l", log, "-w", "-t", "30", "-o", options, "start"]
        subprocess.run([*run, str(bindir / "pg_ctl"), *pg_ctl], check=True, capture_output=True)
        createdb = ["-h", self.host, "-p", str(self.port), "-U", "postgres", self.database]
        subprocess.run([*run, str(bindir / "createdb"), *createdb], check=True, capture_output=True)

    def stop(self) -> None:
        data = self.directory / "data"
        if data.exists():
            pg_ctl = [str(pg_bindir() / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
            subprocess.run([*self.prefix, *_as_postgres(), *pg_ctl], check=False, capture_output=True)


@dataclass
class ApiUser:
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


def make_api_user(prefix: str = "bench") -> ApiUser:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_user(username=f"{prefix}-{uuid.uuid4().hex[:8]}", password="pw")
    return ApiUser(user.username, Token.objects.create(user=user).key)


def make_api_users(count: int, prefix: str = "bench") -> list[ApiUser]:
    """Many users at once, without password hashing (token authentication only)."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    model = get_user_model()
    users = model.objects.bulk_create(
        [model(username=f"{prefix}-{uuid.uuid4().hex[:12]}") for _ in range(count)]
    )
    tokens = Token.objects.bulk_create([Token(user=user, key=Token.generate_key()) for user in users])
    return [ApiUser(user.username, token.key) for user, token in zip(users, tokens, strict=True)]


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


class Harness:
    """Services, schema, a user and the stack's processes for one benchmark; everything goes at exit."""

    def __init__(
        self,
        name: str,
        *,
        env: Mapping[str, str] | None = None,
        appendonly: bool = False,
        durable: bool = False,
        data_host: str = "127.0.0.1",
        data_prefix: Sequence[str] = (),
        trust_subnet: str | None = None,
        keep: bool = False,
    ) -> None:
        self.name = name
        self.extra_env = dict(env or {})
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.redis = RedisServer(
            self.tmp / "redis", host=data_host, appendonly=appendonly, prefix=data_prefix
        )
        self.postgres = PostgresServer(
            self.tmp / "pg", host=data_host, prefix=data_prefix, trust_subnet=trust_subnet, durable=durable
        )
        self.keep = keep
        self.stack: Stack
        self.user: ApiUser

    def __enter__(self) -> Harness:
        # `timeout` and CI runners stop a run with SIGTERM: exit through __exit__, so that no Redis,
        # PostgreSQL or worker of this run outlives it (they run in their own sessions).
        self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            self._setup()
        except BaseException:  # interrupted too: never leave a half-started stack behind
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
        signal.signal(signal.SIGTERM, self._previous_sigterm)

    def _setup(self) -> None:
        self.redis.start()
        self.postgres.start()
        os.environ.update(
            {
                "DATABASE_URL": self.postgres.url,
                "REDIS_URL": self.redis.url(0),
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "DEBUG": "false",
                "DJANGO_SECRET_KEY": f"bench-{uuid.uuid4().hex}",
                # Plain HTTP on loopback: in production a proxy terminates TLS, which these figures leave out.
                "HTTPS_ONLY": "false",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                **self.extra_env,
            }
        )
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        self.user = make_api_user()
        log_dir = LOG_ROOT / f"{self.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.stack = Stack(env=dict(os.environ), log_dir=log_dir)

    def start(
        self,
        queues: Iterable[str] | None = None,
        *,
        web: bool = True,
        beat: bool = False,
        worker_prefix: Mapping[str, Sequence[str]] | None = None,
        worker_env: Mapping[str, Mapping[str, str]] | None = None,
        worker_processes: Mapping[str, int] | None = None,
        timeout_s: float = 90.0,
    ) -> None:
        """Every queue's worker processes as the deployment runs them (core/queues.py: the wallet queue as two
        processes of six threads); `worker_processes` overrides how many a queue gets, each under its own
        node name, and `worker_env` their environment (e.g. its concurrency per process)."""
        from core.queues import QUEUES

        wanted = list(QUEUES if queues is None else queues)
        for queue in wanted:
            spec = QUEUES[queue]
            prefix = (worker_prefix or {}).get(queue, ())
            extra_env = {
                f"{spec.env_prefix}_CONCURRENCY": str(spec.default_concurrency),
                **(worker_env or {}).get(queue, {}),
            }
            self.stack.start_worker(queue, prefix=prefix, extra_env=extra_env)
            for number in range(2, (worker_processes or {}).get(queue, spec.default_processes) + 1):
                name = f"{QUEUES[queue].env_prefix.lower()}{number}"
                self.stack._spawn(
                    f"{queue}-{number}",
                    [sys.executable, "-m", "config.worker", queue],
                    extra_env={**extra_env, "WORKER_NAME": name},
                    prefix=prefix,
                )
        if web:
            self.stack.start_web()
        if beat:
            self.stack.start_beat()
        if web:
            self.stack.wait_ready(wanted, timeout_s=timeout_s)
        else:
            wait_for(
                lambda: set(wanted) <= self.stack.consumed_queues(),
                timeout_s=timeout_s,
                what=f"workers on {wanted}",
            )

    def close(self) -> None:
        # A second SIGTERM must not cut the clean-up short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with contextlib.suppress(Exception):
            if hasattr(self, "stack"):
                self.stack.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        self.redis.stop()
        self.postgres.stop()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------------------------------------ helpers

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    def post(self, path: str, body: Mapping[str, Any], *, timeout_s: float = 60.0) -> requests.Response:
        return requests.post(
            f"{self.base_url}{path}", json=body, headers=self.user.headers, timeout=timeout_s
        )

    def submit_similarity(self, wallets: Sequence[str], **extra: Any) -> str:
        response = self.post("/jobs/similarity/analyze", {"wallets": list(wallets), **extra})
        response.raise_for_status()
        return str(response.json()["job_id"])

    def redis_client(self) -> redis.Redis:
        return self.redis.client()

    def restart_redis(self, *, down_s: float = 1.0) -> float:
        """SIGKILL Redis (a crash), wait, start it again on the same port and files; returns downtime."""
        started = time.monotonic()
        self.redis.kill(signal.SIGKILL)
        time.sleep(down_s)
        self.redis.start()
        return time.monotonic() - started


class WalletPool:
    """Hands out simulated-market wallets never used before in this run (the database is fresh)."""

    def __init__(self, seed: int = 0) -> None:
        from wallets.simulated_market import SimulatedMarket

        self.market = SimulatedMarket(seed=seed)
        self._next = 0

    def take(self, count: int) -> list[str]:
        wallets = self.market.sample_wallets(self._next + count)[self._next :]
        self._next += count
        return wallets

    def upstream_calls(self, wallet: str) -> int:
        """Calls a first sync of the wallet makes: signature pages, then batches of 100 transactions."""
        signatures = self.market.get_signatures(wallet)
        ok = sum(1 for entry in signatures if entry.get("err") is None)
        return 1 + len(signatures) // 1000 + -(-ok // 100)


def wallet_worker_split(processes: int, *, threads: int | None = None) -> dict[str, Any]:
    """`Harness.start` options that run the wallet queue as `processes` worker processes sharing `threads`
    (the deployment's 2 x 6 = 12 by default); `processes=1` is one process of all of them, as before the
    deployment split it."""
    from core.queues import QUEUES, WALLET_QUEUE

    spec = QUEUES[WALLET_QUEUE]
    total = threads if threads is not None else spec.default_concurrency * spec.default_processes
    per_process = str(max(1, total // max(1, processes)))
    return {
        "worker_processes": {WALLET_QUEUE: processes},
        "worker_env": {WALLET_QUEUE: {"WALLET_CONCURRENCY": per_process}},
    }


def random_wallets(count: int) -> list[str]:
    """Valid addresses that no one has used: random 32-byte public keys, base58."""
    from wallets.simulated_market import b58encode

    return [b58encode(os.urandom(32)) for _ in range(count)]


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def command_line() -> str:
    return ".venv/bin/python -m " + " ".join([sys.modules["__main__"].__spec__.name, *sys.argv[1:]])  # type: ignore[union-attr]


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as t: ...` then t[0] is the elapsed seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------- /proc CPU

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its closing parenthesis is split safely.
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """The pid and every descendant alive now."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU time of these processes and of their children that exited and were reaped.

    Pass a whole process tree: a reaped child's time is in exactly one live ancestor's cutime/cstime, so
    PostgreSQL backends that came and went (one per Celery task) are counted through the postmaster.
    """
    total = 0
    for pid in set(pids):
        fields = _stat(pid)
        if fields is not None:
            total += sum(int(value) for value in fields[11:15])
    return total / _CLOCK_TICKS


def postmaster_pid(postgres: PostgresServer) -> int:
    return int((postgres.directory / "data" / "postmaster.pid").read_text().split()[0])
