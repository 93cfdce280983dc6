"""Reads other apps use (sync state, tokens, cached transactions) and the admin pages of the chain data."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.django.wallets.conftest import FIXTURE_WALLET, upstream_history
from tests.support.fake_upstream import FakeUpstream
from wallets.models import Swap, Transaction
from wallets.selectors import (
    tokens_by_mint,
    wallet_cached_transactions,
    wallet_swap_legs,
    wallet_sync_state,
)
from wallets.services import wallet_sync
from wallets.swaps import SOL_MINT

pytestmark = pytest.mark.django_db


def test_sync_state_tokens_and_cached_transactions(helius: FakeUpstream) -> None:
    assert wallet_sync_state(address=FIXTURE_WALLET) is None
    wallet_sync(address=FIXTURE_WALLET)
    history = upstream_history(helius, FIXTURE_WALLET)

    state = wallet_sync_state(address=FIXTURE_WALLET)
    assert state is not None
    assert (state.sync_status, state.transactions_seen, state.swaps_unparsed) == ("synced", len(history), 0)
    assert state.last_synced_at is not None

    legs = wallet_swap_legs(address=FIXTURE_WALLET)
    assert len(legs) == Swap.objects.filter(wallet_id=FIXTURE_WALLET).count() == 4
    tokens = tokens_by_mint(mints=[leg.mint for leg in legs] + [SOL_MINT, "unknown"])
    assert set(tokens) == {leg.mint for leg in legs} | {SOL_MINT}
    assert all(tokens[leg.mint].decimals == leg.token_decimals for leg in legs)

    cached = list(wallet_cached_transactions(address=FIXTURE_WALLET, chunk_size=7))
    assert sorted(tx["signature"] for tx in cached) == sorted(tx["signature"] for tx in history)
    assert [tx["slot"] for tx in cached] == sorted(tx["slot"] for tx in cached)


def test_admin_lists_and_shows_cached_transactions(helius: FakeUpstream) -> None:
    wallet_sync(address=FIXTURE_WALLET)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(admin)
    signature = Transaction.objects.values_list("signature", flat=True).first()

    for url in (
        "/admin/wallets/transaction/",
        f"/admin/wallets/transaction/?q={FIXTURE_WALLET}",
        f"/admin/wallets/transaction/{signature}/change/",
        "/admin/wallets/token/",
        "/admin/wallets/wallet/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/admin/wallets/transaction/{signature}/change/").content.decode()
    assert "accountData" in page
