"""The served API against its own OpenAPI schema: schemathesis with every check, 40 examples per operation.

The same command an operator runs from the repository root (schemathesis.toml says what it loads and why
one check is left out), against real gunicorn on real PostgreSQL and Redis:

    .venv/bin/schemathesis run http://127.0.0.1:8000/api/schema/?format=json \\
        --checks all --exclude-checks use_after_free --max-examples 40 -H "Authorization: Token …"

Every phase runs: the schema's examples, the coverage phase (boundary values, missing and wrongly typed
fields, undeclared methods such as TRACE), fuzzing (valid and invalid data) and stateful sequences (submit,
then read, cancel, list). Any answer the schema does not describe fails the test: a 5xx, an undocumented
status, content type or header, a body off its schema, valid data refused (400 for an address the schema
allows) or invalid data accepted (`force: 0` where the schema says boolean).

The stack here is gunicorn alone, on its own database and Redis database: submitted jobs stay queued (no
workers, no beat), so the fuzzing neither waits for nor loads the live stack of the other integration
tests. The submission throttle is raised out of the way, or most submissions would meet a 429 before their
body is read. Generation is deterministic (the same cases every run); `TEST_FUZZ_SEED=<n>` draws a
different set. Cost (docs/ARCHITECTURE.md §11): about 1,700 cases over 21 operations; the schemathesis run
took 42-68 s on this shared 2-core machine (load 3 to 8), plus ~25 s to create the database, migrate and
start gunicorn. Its output and JUnit report are kept in var/test-artifacts/schemathesis/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from django.conf import settings

from tests.support.stack import ROOT, Stack

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 40
RUN_TIMEOUT_S = 600
# A Redis database of its own: the live stack's workers consume queues in the one REDIS_URL names.
FUZZ_REDIS_DB = 13


@dataclass(frozen=True)
class FuzzStack:
    base_url: str
    token: str
    report_dir: Path


def _admin_connection() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=int(db.get("PORT") or 5432),
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    )


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


def _redis_url(database: int) -> str:
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def fuzz_stack(artifacts_dir: Path) -> Iterator[FuzzStack]:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("the fuzzing needs PostgreSQL: run ./scripts/test (it starts PostgreSQL and Redis)")
    database = f"fuzz_{uuid.uuid4().hex[:12]}"
    redis_url = _redis_url(FUZZ_REDIS_DB)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(database),
        "REDIS_URL": redis_url,
        "SUBMIT_THROTTLE_RATE": "1000000/minute",
        "PYTHONUNBUFFERED": "1",
    }
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    stack = Stack(env=env, log_dir=artifacts_dir / "logs" / "fuzz")
    try:
        _manage(env, "migrate", "--noinput", "-v", "0")
        token = _manage(env, "create_api_token", "fuzz", "--create-user", "--staff").strip()
        stack.start_gunicorn()
        stack.wait_ready(queues=(), daphne=False)
        yield FuzzStack(stack.base_url, token, artifacts_dir / "schemathesis")
    finally:
        stack.stop()
        redis.Redis.from_url(redis_url, socket_timeout=5).flushdb()
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_served_api_conforms_to_its_schema_under_every_check(fuzz_stack: FuzzStack) -> None:
    seed = os.environ.get("TEST_FUZZ_SEED")
    fuzz_stack.report_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{fuzz_stack.base_url}/api/schema/?format=json",
        "--checks",
        "all",
        "--exclude-checks",
        "use_after_free",
        "--max-examples",
        str(MAX_EXAMPLES),
        *(["--seed", seed] if seed else ["--generation-deterministic"]),
        "--header",
        f"Authorization: Token {fuzz_stack.token}",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(fuzz_stack.report_dir),
    ]
    # From the repository root, so schemathesis reads schemathesis.toml (and its hooks) like the CLI does.
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )
    (fuzz_stack.report_dir / "output.txt").write_text(done.stdout + done.stderr)
    tested = re.search(r"Tested: (\d+)", done.stdout)
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-5_000:]
    assert tested is not None and int(tested.group(1)) >= 20, done.stdout[-5_000:]
    assert "Configuration:" in done.stdout and "schemathesis.toml" in done.stdout, done.stdout[:2_000]
