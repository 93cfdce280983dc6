"""Start the worker of one queue with that queue's pool and concurrency (docs/ARCHITECTURE.md §3).

    python -m config.worker wallet-operations

Concurrency comes from `<QUEUE>_CONCURRENCY` (e.g. WALLET_CONCURRENCY=16); with WORKER_AUTOSCALE=true a
prefork pool scales between `<QUEUE>_MIN_CONCURRENCY` (default 1) and its concurrency. Several processes
of one queue on one host need distinct node names: `WORKER_NAME` (default: the queue's, e.g. `wallet`).
"""

from __future__ import annotations

import os
import sys

from config.env import Env
from core.queues import QUEUES


def worker_argv(queue: str, env: Env | None = None) -> list[str]:
    if queue not in QUEUES:
        raise SystemExit(f"unknown queue {queue!r}; expected one of: {', '.join(QUEUES)}")
    env = env or Env()
    spec = QUEUES[queue]
    concurrency = env.get_int(
        f"{spec.env_prefix}_CONCURRENCY", spec.default_concurrency, minimum=1, maximum=256
    )
    argv = [
        "worker",
        "--queues",
        queue,
        "--pool",
        spec.pool,
        "--hostname",
        f"{env.get_str('WORKER_NAME', spec.env_prefix.lower())}@%h",
        "--loglevel",
        env.get_str("LOG_LEVEL", "INFO"),
        "--without-mingle",
    ]
    if spec.pool == "prefork" and env.get_bool("WORKER_AUTOSCALE", False):
        minimum = env.get_int(f"{spec.env_prefix}_MIN_CONCURRENCY", 1, minimum=1, maximum=concurrency)
        argv += ["--autoscale", f"{concurrency},{minimum}"]
    else:
        argv += ["--concurrency", str(concurrency)]
    return argv


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: python -m config.worker QUEUE  (one of: {', '.join(QUEUES)})")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    argv = worker_argv(sys.argv[1])
    from config.celery import app

    app.worker_main(argv)


if __name__ == "__main__":
    main()
