"""Schemathesis hooks for this API: how to make a valid Solana address (the `solana-address` format).

The schema's pattern and lengths cannot say "decodes to exactly 32 bytes" (wallets/addresses.py), so
without this hook schemathesis would draw strings like "z" * 44 as valid addresses. Load it in a CLI run:

    SCHEMATHESIS_HOOKS=tests.support.schemathesis_hooks schemathesis run URL/api/schema/?format=json ...

Addresses come from a fixed pool, in turn: consecutive draws differ (so a drawn list has as many distinct
addresses as entries, up to the pool's size), and generated jobs reuse a few wallets, so the synchronous
similarity path syncs each of them once instead of a new wallet on every request.
"""

from __future__ import annotations

import hashlib
import itertools
import threading

import base58
import schemathesis
from hypothesis import strategies as st

from wallets.addresses import ADDRESS_FORMAT

POOL_SIZE = 16
ADDRESS_POOL = tuple(
    base58.b58encode(hashlib.sha256(f"schemathesis-{index}".encode()).digest()).decode()
    for index in range(POOL_SIZE)
)
_turn = itertools.count()
_turn_lock = threading.Lock()


def _next_address(_: object) -> str:
    with _turn_lock:
        return ADDRESS_POOL[next(_turn) % POOL_SIZE]


schemathesis.openapi.format(ADDRESS_FORMAT, st.none().map(_next_address))
