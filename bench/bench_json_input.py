"""The API's bounded JSON parser (core/parsers.py) against DRF's own, on the same bodies, in one process.

    .venv/bin/python -m bench.bench_json_input [--repeat 7]

Typical submit bodies (10 and 100 wallets) measure what the bounds cost every request; the adversarial ones
(50,000 levels deep, 1 MiB of small arrays) what the worst body within REQUEST_MAX_BODY_BYTES costs. Each
figure is the best of `repeat` timings of many calls, alternating the two parsers, so drift on a shared
machine hits both alike. DRF's parser raises RecursionError on the deep body (a 500 before).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import timeit
from collections.abc import Callable
from typing import Any

import base58
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from rest_framework.parsers import JSONParser  # noqa: E402

from bench.harness import command_line, load_average, markdown_table  # noqa: E402
from core.parsers import BoundedJSONParser  # noqa: E402


def _wallets(count: int) -> list[str]:
    return [base58.b58encode(hashlib.sha256(f"bench-{i}".encode()).digest()).decode() for i in range(count)]


BODIES: dict[str, bytes] = {
    "submit, 10 wallets": json.dumps({"wallets": _wallets(10), "options": {"top_pairs": 10}}).encode(),
    "submit, 100 wallets": json.dumps({"wallets": _wallets(100), "force": False}).encode(),
    "50,000 levels deep (100 KB)": b"[" * 50_000 + b"]" * 50_000,
    "1 MiB of small arrays": b"[" + b"[]," * 349_000 + b"[]]",
}


def _parse_with(parser: Any, body: bytes) -> Callable[[], object]:
    def parse() -> object:
        try:
            return parser.parse(io.BytesIO(body), "application/json", {})
        except Exception as exc:  # noqa: BLE001 - the outcome is reported; the time is what is measured
            return exc

    return parse


def best_seconds(call: Callable[[], object], *, repeat: int) -> float:
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--repeat", type=int, default=7)
    options = arguments.parse_args()
    drf, bounded = JSONParser(), BoundedJSONParser()
    rows = []
    for name, body in BODIES.items():
        drf_outcome, bounded_outcome = _parse_with(drf, body)(), _parse_with(bounded, body)()
        drf_s = best_seconds(_parse_with(drf, body), repeat=options.repeat)
        bounded_s = best_seconds(_parse_with(bounded, body), repeat=options.repeat)
        rows.append(
            [
                name,
                f"{drf_s * 1e6:,.1f} µs"
                + (f" ({type(drf_outcome).__name__})" if isinstance(drf_outcome, Exception) else ""),
                f"{bounded_s * 1e6:,.1f} µs"
                + (f" ({type(bounded_outcome).__name__})" if isinstance(bounded_outcome, Exception) else ""),
                f"{bounded_s / drf_s:.2f}",
            ]
        )
    print(f"`{command_line()}` (load {load_average()})\n")
    print(markdown_table(["body", "DRF JSONParser", "BoundedJSONParser", "ratio"], rows))


if __name__ == "__main__":
    main()
