"""The sync keeps what fees and the reconciliation need (issue 17): failed transactions are fetched and
recorded with their fee, every transaction gets a chain record, legs carry their place in the block, and a
wallet synced before records were kept gets them on its next sync."""

from __future__ import annotations

import pytest

from tests.django.wallets.conftest import FIXTURE_WALLET, MID_WALLET, upstream_history
from tests.support.fake_upstream import FakeUpstream
from wallets.extraction import extract_wallet_swaps
from wallets.models import Swap, Transaction, TransactionEffect, Wallet
from wallets.selectors import wallet_chain_records, wallet_swap_legs
from wallets.services import _block_positions, wallet_reextract_swaps, wallet_sync

pytestmark = pytest.mark.django_db

WalletTransaction = Transaction.wallets.through


def test_failed_transactions_are_fetched_and_recorded_with_their_fee(helius: FakeUpstream) -> None:
    history = upstream_history(helius, MID_WALLET)
    failed = [tx for tx in history if tx.get("transactionError") is not None]
    assert failed, "the simulated wallet has failed transactions"

    wallet_sync(address=MID_WALLET)

    records = wallet_chain_records(address=MID_WALLET)
    assert records is not None and len(records) == len(history)
    by_signature = {record.signature: record for record in records}
    for tx in failed:
        record = by_signature[tx["signature"]]
        assert record.kind == "failed"
        assert record.fee_lamports == (tx["fee"] if tx["feePayer"] == MID_WALLET else 0)
    expected = {r.signature: r for r in extract_wallet_swaps(history, MID_WALLET).records}
    assert {
        (r.signature, r.kind, r.fee_lamports, r.sol_change_lamports, r.rent_lamports) for r in records
    } == {
        (r.signature, r.kind, r.fee_lamports, r.sol_change_lamports, r.rent_lamports)
        for r in expected.values()
    }
    assert Wallet.objects.get(address=MID_WALLET).transactions_seen == len(history)


def test_a_wallet_synced_before_chain_records_gets_them_and_its_failed_transactions(
    helius: FakeUpstream,
) -> None:
    history = upstream_history(helius, MID_WALLET)
    wallet_sync(address=MID_WALLET)
    # Back to the state an older sync left: no records, failed transactions never fetched.
    failed = [tx["signature"] for tx in history if tx.get("transactionError") is not None]
    TransactionEffect.objects.filter(wallet_id=MID_WALLET).delete()
    WalletTransaction.objects.filter(wallet_id=MID_WALLET, transaction_id__in=failed).delete()
    Transaction.objects.filter(signature__in=failed).delete()
    assert wallet_chain_records(address=MID_WALLET) is None  # unknown, not "no fees"
    legs_before = Swap.objects.filter(wallet_id=MID_WALLET).count()
    helius.reset_counters()

    wallet_sync(address=MID_WALLET, force=True)

    records = wallet_chain_records(address=MID_WALLET)
    assert records is not None and len(records) == len(history)
    assert sum(1 for record in records if record.kind == "failed") == len(failed)
    assert sum(helius.transaction_batch_sizes) == len(failed)  # only what was never fetched
    assert Swap.objects.filter(wallet_id=MID_WALLET).count() == legs_before


def test_reextraction_rebuilds_records_and_keeps_block_positions(helius: FakeUpstream) -> None:
    wallet_sync(address=FIXTURE_WALLET)
    Swap.objects.filter(wallet_id=FIXTURE_WALLET).update(block_position=3)
    TransactionEffect.objects.filter(wallet_id=FIXTURE_WALLET).update(block_position=3)

    assert wallet_reextract_swaps(address=FIXTURE_WALLET) == 4

    assert {leg.block_position for leg in wallet_swap_legs(address=FIXTURE_WALLET)} == {3}
    records = wallet_chain_records(address=FIXTURE_WALLET)
    assert records is not None and len(records) == 20
    assert {record.block_position for record in records} == {3}


def test_block_positions_follow_the_listing_reversed_within_a_slot() -> None:
    # Newest first: in slot 7, "c" was listed before "b", so "b" came first in the block.
    listing = [
        {"signature": "d", "slot": 9},
        {"signature": "c", "slot": 7},
        {"signature": "b", "slot": 7},
        {"signature": "a", "slot": 5},
    ]
    assert _block_positions(listing) == {"d": 0, "c": 1, "b": 0, "a": 0}
