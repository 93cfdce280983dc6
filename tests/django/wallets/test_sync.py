"""wallet_sync against the fake Helius over real HTTP (issue 3): exact rows under 30 % upstream faults,
incremental re-syncs, a crash half way resumed from the transaction cache, a 5,000-transaction wallet, and
bad input or credentials refused without retrying forever."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from core.errors import TransientError
from core.http import UpstreamFatalError, UpstreamTransientError
from tests.django.wallets.conftest import (
    BIG_WALLET,
    FIXTURE_WALLET,
    MID_WALLET,
    SMALL_WALLET,
    expected_legs,
    stored_legs,
    upstream_history,
)
from tests.support.fake_upstream import FakeUpstream
from wallets.addresses import InvalidAddressError
from wallets.extraction import extract_wallet_swaps
from wallets.models import Swap, Token, Transaction, Wallet
from wallets.providers import get_chain_provider
from wallets.services import (
    IncompleteHistoryError,
    WalletSyncOutcome,
    wallet_fetch_balances,
    wallet_reextract_swaps,
    wallet_sync,
)
from wallets.simulated_market import SimulatedMarket

pytestmark = pytest.mark.django_db

TASK_ATTEMPTS = 3  # the wallet-operations queue's attempts (docs/ARCHITECTURE.md §3)


class Crash(Exception):
    """Stands for a worker killed in the middle of a sync."""


def sync_like_the_task(address: str) -> tuple[WalletSyncOutcome, int]:
    """Run wallet_sync with the task's retry policy: transient failures are retried, at most 3 attempts."""
    for attempt in range(1, TASK_ATTEMPTS + 1):
        try:
            return wallet_sync(address=address, force=True), attempt
        except TransientError:
            if attempt == TASK_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def transactions_requested(upstream: FakeUpstream) -> int:
    return sum(upstream.transaction_batch_sizes)


def signature_calls(upstream: FakeUpstream) -> int:
    return sum(1 for method, _ in upstream.rpc_calls if method == "getSignaturesForAddress")


# ------------------------------------------------------------------------------------------ faults


@pytest.mark.slow
@pytest.mark.parametrize("address", [MID_WALLET, FIXTURE_WALLET])
def test_sync_under_30_percent_faults_stores_exactly_the_right_rows(
    helius: FakeUpstream, address: str
) -> None:
    helius.fault_rate = 0.3
    helius.retry_after_s = 0
    helius.fail_next(429, 500)  # the fixture wallet needs only two requests: make sure both kinds happen
    history = upstream_history(helius, address)

    outcome, _ = sync_like_the_task(address)

    assert helius.responses_by_status[429] > 0 and helius.responses_by_status[500] > 0
    assert stored_legs(address) == expected_legs(helius, address)
    assert Swap.objects.filter(wallet_id=address).count() > 0
    assert Transaction.objects.filter(wallets=address).count() == len(history)
    wallet = Wallet.objects.get(address=address)
    assert wallet.sync_status == Wallet.SyncStatus.SYNCED
    assert wallet.transactions_seen == len(history)
    assert wallet.newest_signature == (
        helius.fixtures.wallets[address][0]["signature"]
        if address == FIXTURE_WALLET
        else helius.market.get_signatures(address, limit=1)[0]["signature"]
    )
    assert all(size <= 100 for size in helius.transaction_batch_sizes)
    # Every leg's mint (and quote mint) is a known token with its decimals.
    mints = set(Swap.objects.filter(wallet_id=address).values_list("mint", flat=True))
    assert mints <= set(Token.objects.values_list("mint", flat=True))
    if address == MID_WALLET:
        assert outcome.new_swaps > 0  # the last attempt stored something (earlier ones may have too)

    # A second sync (faults still on) reads one signature page and asks for no transaction at all.
    rows_before = stored_legs(address)
    helius.reset_counters()
    again, _ = sync_like_the_task(address)

    assert (again.new_transactions, again.new_swaps, again.fetched_transactions) == (0, 0, 0)
    assert stored_legs(address) == rows_before
    assert helius.requests_by_route["transactions"] == 0
    assert signature_calls(helius) == 1
    assert [params[1].get("until") for _, params in helius.rpc_calls] == [wallet.newest_signature]


# ------------------------------------------------------------------------------------------ crash and resume


@pytest.mark.slow
def test_sync_killed_half_way_resumes_from_the_cache_to_the_same_rows(helius: FakeUpstream) -> None:
    history = upstream_history(helius, MID_WALLET)  # 1,200 signatures: 2 pages, then 300-signature windows
    calls = 0

    def crash_on_sixth_checkpoint() -> None:
        # Checkpoints: page 1, page 2, then one before each window. Window k+1 is fetched while window k is
        # stored, so at the 4th window's checkpoint windows 1-2 are stored and window 3 is fetched, unstored.
        nonlocal calls
        calls += 1
        if calls == 6:
            raise Crash("worker killed")

    with pytest.raises(Crash):
        wallet_sync(address=MID_WALLET, checkpoint=crash_on_sixth_checkpoint)
    # The crashed run's prefetch may still be finishing its request; let it, so counters below are ours.
    for thread in threading.enumerate():
        if thread.name.startswith("wallet-sync-prefetch"):
            thread.join(timeout=10)

    wallet = Wallet.objects.get(address=MID_WALLET)
    assert (wallet.sync_status, wallet.newest_signature) == (Wallet.SyncStatus.FAILED, "")
    stored_after_crash = Transaction.objects.filter(wallets=MID_WALLET).count()
    assert stored_after_crash == 600
    assert transactions_requested(helius) == 900
    partial = stored_legs(MID_WALLET)
    assert 0 < len(partial) < len(expected_legs(helius, MID_WALLET))

    helius.reset_counters()
    resumed = wallet_sync(address=MID_WALLET)

    # Only what the crashed run had not stored went upstream; the rest came from the database.
    assert transactions_requested(helius) == len(history) - stored_after_crash
    assert resumed.fetched_transactions == resumed.new_transactions == len(history) - stored_after_crash
    resumed_rows = stored_legs(MID_WALLET)
    assert resumed_rows == expected_legs(helius, MID_WALLET)
    assert partial <= resumed_rows
    wallet.refresh_from_db()
    assert wallet.sync_status == Wallet.SyncStatus.SYNCED
    assert wallet.transactions_seen == len(history)

    # A clean sync of the same wallet from nothing (its swaps and state wiped, the transaction cache kept)
    # ends with the same rows and reads every transaction from the cache.
    Wallet.objects.filter(address=MID_WALLET).delete()
    assert Transaction.objects.count() == len(history)
    helius.reset_counters()
    clean = wallet_sync(address=MID_WALLET)

    assert stored_legs(MID_WALLET) == resumed_rows
    assert (clean.new_transactions, clean.fetched_transactions) == (len(history), 0)
    assert helius.requests_by_route["transactions"] == 0


def test_reextraction_rebuilds_swaps_from_the_cache_without_the_upstream(helius: FakeUpstream) -> None:
    wallet_sync(address=SMALL_WALLET)
    expected = stored_legs(SMALL_WALLET)
    Swap.objects.filter(wallet_id=SMALL_WALLET, direction=Swap.Direction.SELL).delete()
    helius.reset_counters()

    assert wallet_reextract_swaps(address=SMALL_WALLET) == len(expected)

    assert stored_legs(SMALL_WALLET) == expected
    assert helius.total_requests == 0


def test_cached_payload_round_trips_compressed(helius: FakeUpstream) -> None:
    wallet_sync(address=FIXTURE_WALLET)
    by_signature = {tx["signature"]: tx for tx in upstream_history(helius, FIXTURE_WALLET)}

    rows = list(Transaction.objects.filter(wallets=FIXTURE_WALLET))

    assert {row.signature for row in rows} == set(by_signature)
    for row in rows:
        assert row.data == by_signature[row.signature]
        assert (row.slot, row.timestamp) == (
            by_signature[row.signature]["slot"],
            by_signature[row.signature]["timestamp"],
        )
    assert sum(len(row.payload) for row in rows) < sum(len(str(tx)) for tx in by_signature.values()) / 2


# ------------------------------------------------------------------------------------------ a long history


@pytest.mark.slow
def test_sync_of_a_5000_transaction_wallet(helius: FakeUpstream) -> None:
    history = upstream_history(helius, BIG_WALLET)
    assert helius.market.history_length(BIG_WALLET) == 5000

    started = time.monotonic()
    outcome = wallet_sync(address=BIG_WALLET)
    elapsed = time.monotonic() - started

    expected = expected_legs(helius, BIG_WALLET)
    assert outcome.new_transactions == outcome.fetched_transactions == len(history)
    assert outcome.new_swaps == len(expected) == Swap.objects.filter(wallet_id=BIG_WALLET).count()
    assert stored_legs(BIG_WALLET) == expected
    # 5,000 signatures fill five pages of 1,000; only the sixth, empty page tells the history is over.
    assert signature_calls(helius) == 6
    assert transactions_requested(helius) == len(history)
    assert max(helius.transaction_batch_sizes) == 100
    assert elapsed < 60, f"5,000-transaction sync took {elapsed:.1f}s"


# ------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "address",
    [
        "not-base58-0OIl",  # characters outside base58
        "3JoVBiQEA2QKsq7TzW5ez5jVRtbbYgTNijoZzp5qgkr",  # one character short: 31 bytes
        "",
    ],
)
def test_malformed_address_is_refused_before_any_network_call(helius: FakeUpstream, address: str) -> None:
    with pytest.raises(InvalidAddressError, match="Invalid Solana address"):
        wallet_sync(address=address)
    with pytest.raises(InvalidAddressError, match="Invalid Solana address"):
        wallet_fetch_balances(address=address)

    assert helius.total_requests == 0
    assert not Wallet.objects.exists()


def test_rejected_credentials_are_fatal_and_never_show_the_key(helius: FakeUpstream, settings: Any) -> None:
    secret = "wrong-helius-key-do-not-print-42"
    settings.HELIUS_API_KEY = secret
    get_chain_provider.cache_clear()

    with pytest.raises(UpstreamFatalError) as sync_error:
        wallet_sync(address=SMALL_WALLET)
    with pytest.raises(UpstreamFatalError) as balance_error:
        wallet_fetch_balances(address=SMALL_WALLET)

    for error in (sync_error.value, balance_error.value):
        assert "credentials" in str(error) and "401" in str(error)
        assert secret not in str(error)
    wallet = Wallet.objects.get(address=SMALL_WALLET)
    assert wallet.sync_status == Wallet.SyncStatus.FAILED
    assert "credentials" in wallet.sync_error and secret not in wallet.sync_error
    # None retried: the sync stops at its first call, the balances' three calls were in flight together.
    assert helius.responses_by_status[401] == helius.total_requests == 4


@pytest.mark.slow
def test_an_upstream_down_for_good_ends_in_a_transient_error_after_bounded_tries(
    helius: FakeUpstream,
) -> None:
    helius.force_status = 503
    helius.retry_after_s = 0

    started = time.monotonic()
    with pytest.raises(UpstreamTransientError, match="503"):
        wallet_sync(address=SMALL_WALLET)

    assert helius.total_requests == 4  # the first try and 3 retries, then the task's own policy decides
    assert time.monotonic() - started < 15
    assert Wallet.objects.get(address=SMALL_WALLET).sync_status == Wallet.SyncStatus.FAILED


# ---------------------------------------------------------------------------------------- gaps and providers


class DroppingProvider:
    """The real Helius provider, except that the upstream "forgets" one transaction the first time it is
    asked (Helius answers without transactions it has not indexed yet)."""

    def __init__(self, inner: Any, dropped: str) -> None:
        self.inner = inner
        self.dropped = dropped
        self.max_parallel_batches = inner.max_parallel_batches

    def get_signatures(self, address: str, **options: Any) -> list[dict[str, Any]]:
        return self.inner.get_signatures(address, **options)

    def get_transactions(self, signatures: list[str]) -> list[dict[str, Any]]:
        found = self.inner.get_transactions(signatures)
        if self.dropped in signatures:
            found = [tx for tx in found if tx["signature"] != self.dropped]
            self.dropped = ""
        return found


def test_a_transaction_the_upstream_does_not_return_fails_the_sync_without_a_gap(
    helius: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = upstream_history(helius, SMALL_WALLET)
    dropped = history[len(history) // 2]["signature"]
    provider = DroppingProvider(get_chain_provider(), dropped)
    monkeypatch.setattr("wallets.services.get_chain_provider", lambda: provider)

    with pytest.raises(IncompleteHistoryError, match="did not return"):
        wallet_sync(address=SMALL_WALLET)

    wallet = Wallet.objects.get(address=SMALL_WALLET)
    assert (wallet.sync_status, wallet.newest_signature) == (Wallet.SyncStatus.FAILED, "")
    assert Transaction.objects.filter(wallets=SMALL_WALLET).count() == len(history) - 1

    helius.reset_counters()
    wallet_sync(address=SMALL_WALLET)

    assert helius.transaction_batch_sizes == [1]  # only the missing one
    assert stored_legs(SMALL_WALLET) == expected_legs(helius, SMALL_WALLET)
    assert Wallet.objects.get(address=SMALL_WALLET).sync_status == Wallet.SyncStatus.SYNCED


def test_sync_through_the_simulated_provider_batches_by_100(settings: Any) -> None:
    settings.CHAIN_PROVIDER = "simulated"
    settings.SIMULATED_LATENCY_MS = 0
    settings.SIMULATED_FAULT_RATE = 0.0
    get_chain_provider.cache_clear()
    try:
        market = SimulatedMarket(settings.SIMULATED_SEED)
        address = market.sample_wallets(6)[5]
        signatures = [entry["signature"] for entry in market.get_signatures(address)]
        transactions = [
            tx
            for i in range(0, len(signatures), 100)
            for tx in market.get_transactions(signatures[i : i + 100])
        ]
        assert len(transactions) > 100

        outcome = wallet_sync(address=address)
    finally:
        get_chain_provider.cache_clear()

    legs = extract_wallet_swaps(transactions, address).legs
    assert outcome.new_transactions == len(transactions)
    assert outcome.new_swaps == len(legs) == Swap.objects.filter(wallet_id=address).count()
