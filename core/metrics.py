"""Counters shared by every process (web, daphne, each worker), kept in one Redis hash.

Prometheus scrapes one process, but the events happen in many: a per-process registry would show only the
scraped process's share. Each increment is one HINCRBY; Redis trouble never fails the caller.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from core.redis import get_redis

logger = logging.getLogger(__name__)

METRICS_KEY = "metrics:counters"


def _field(name: str, labels: dict[str, str]) -> str:
    return name + "|" + ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def metric_incr(name: str, amount: int = 1, **labels: str) -> None:
    try:
        get_redis().hincrby(METRICS_KEY, _field(name, labels), amount)
    except RedisError:
        logger.debug("metric %s not counted: Redis unavailable", name)


def metric_counters() -> list[tuple[str, dict[str, str], int]]:
    """Every counter as (name, labels, value)."""
    raw: dict[str, str] = get_redis().hgetall(METRICS_KEY)  # type: ignore[assignment]
    counters = []
    for field, value in raw.items():
        name, _, label_text = field.partition("|")
        labels = dict(pair.split("=", 1) for pair in label_text.split(",") if "=" in pair)
        counters.append((name, labels, int(value)))
    return counters


def metric_api_label(api: str) -> str:
    """`Solana RPC getBalance` → `solana`, `DexScreener` → `dexscreener`: one label per upstream API."""
    return api.split(" ", 1)[0].lower() or "upstream"
