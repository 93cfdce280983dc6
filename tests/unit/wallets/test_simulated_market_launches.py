"""Token launches in the simulated market: the catalogue, the participants' own histories, the mint's
transactions, its supply and holders (DAS `getTokenAccounts`), account owners, and a million-holder mint."""

from __future__ import annotations

import time
import tracemalloc
from collections import Counter
from functools import cache
from typing import Any

import pytest

from wallets.custodians import is_custodian
from wallets.simulated_market import (
    FRESH_WINDOW_S,
    MEGA_HOLDERS,
    SNIPER_WINDOW_SLOTS,
    SPL_TOKEN_PROGRAM,
    Launch,
    NotAMintError,
    SimulatedMarket,
)
from wallets.simulated_market.universe import SYSTEM_PROGRAM


@cache
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=0)


@cache
def launch(kind: str) -> Launch:
    return next(item for item in market().launches() if item.kind == kind)


def by_role(item: Launch, role: str) -> list[str]:
    return [participant.wallet for participant in item.participants if participant.role == role]


def mint_history(mint: str) -> list[dict[str, Any]]:
    """Every signature of the mint, newest first, paged backward to the oldest."""
    m = market()
    entries: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        page = m.get_signatures(mint, before=before, limit=100)
        entries += page
        if len(page) < 100:
            return entries
        before = page[-1]["signature"]


def all_accounts(mint: str, limit: int = 1000) -> list[dict[str, Any]]:
    accounts: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = market().get_mint_token_accounts(mint, page=page, limit=limit)
        assert answer["page"] == page and answer["limit"] == limit
        assert answer["total"] == len(answer["token_accounts"])
        accounts += answer["token_accounts"]
        if answer["total"] < limit:
            return accounts
        page += 1


# --- the catalogue ------------------------------------------------------------------------------------------


def test_the_bundled_launch_has_exactly_its_planted_roles_and_classes() -> None:
    item = launch("bundled")
    roles = Counter(participant.role for participant in item.participants)
    assert roles == {"creator": 1, "bundler": 4, "sniper": 3, "insider": 2, "retail": 20}
    classes = {participant.wallet: participant.classes for participant in item.participants}
    assert classes[item.creator] == {"creator", "fresh"}
    for bundler in by_role(item, "bundler"):
        assert classes[bundler] == {"bundler", "sniper", "insider", "fresh"}  # funded with the creator
    for sniper in by_role(item, "sniper"):
        assert classes[sniper] == {"sniper"}
        assert sniper in market().sniper_bots()
    for insider in by_role(item, "insider"):
        assert classes[insider] == {"insider", "fresh"}
    assert all(classes[wallet] == frozenset() for wallet in by_role(item, "retail"))
    funders = {market().funder_of(insider) for insider in by_role(item, "insider")}
    assert funders == {item.creator, market().funder_of(item.creator)}  # one each way


def test_slots_and_times_follow_the_definitions() -> None:
    item = launch("bundled")
    facts = {participant.wallet: participant for participant in item.participants}
    assert facts[item.creator].first_buy_slot == item.creation_slot
    assert all(facts[b].first_buy_slot == item.creation_slot for b in by_role(item, "bundler"))
    for sniper in by_role(item, "sniper"):
        assert item.creation_slot < facts[sniper].first_buy_slot <= item.creation_slot + SNIPER_WINDOW_SLOTS
    for wallet in by_role(item, "insider") + by_role(item, "retail"):
        assert facts[wallet].first_buy_slot > item.creation_slot + SNIPER_WINDOW_SLOTS
    for wallet in by_role(item, "retail"):
        assert facts[wallet].first_buy_at - facts[wallet].first_tx_at >= FRESH_WINDOW_S
        assert is_custodian(facts[wallet].funder or "")


def test_the_organic_launch_has_only_independent_retail() -> None:
    item = launch("organic")
    assert Counter(participant.role for participant in item.participants) == {"creator": 1, "retail": 30}
    assert all(p.classes == frozenset() for p in item.participants if p.role == "retail")
    funders = [p.funder for p in item.participants if p.role == "retail"]
    assert all(funder is not None and is_custodian(funder) for funder in funders)
    assert market().funder_of(item.creator) not in (None, *[p.wallet for p in item.participants])


def test_the_wide_launch_has_about_two_hundred_holders_some_fresh() -> None:
    item = launch("wide")
    assert 190 <= item.holder_count <= 210
    roles = Counter(participant.role for participant in item.participants)
    assert roles["fresh"] == 30 and roles["sniper"] == 2
    fresh = [p for p in item.participants if p.role == "fresh"]
    assert all(p.classes == {"fresh"} and p.first_buy_at - p.first_tx_at < FRESH_WINDOW_S for p in fresh)
    assert len(all_accounts(item.mint)) == item.holder_count + 1  # and the pool


def test_the_catalogue_is_fixed_by_the_seed() -> None:
    mints = [item.mint for item in market().launches()]
    assert [token.mint for token in SimulatedMarket(seed=0).tokens()[-4:]] == mints  # launch tokens come last
    assert not set(mints) & {token.mint for token in SimulatedMarket(seed=1).tokens()}
    assert launch("mega").holder_count == MEGA_HOLDERS


# --- the participants' own histories ---------------------------------------------------------------------


def test_a_bundler_shows_its_funding_and_its_creation_slot_buy() -> None:
    m, item = market(), launch("bundled")
    bundler = by_role(item, "bundler")[0]
    entries = m.get_signatures(bundler)[::-1]
    funding, buy = m.get_transactions([entries[0]["signature"], entries[1]["signature"]])
    operator = m.funder_of(bundler)
    assert funding["nativeTransfers"][0] == {
        "fromUserAccount": operator,
        "toUserAccount": bundler,
        "amount": funding["nativeTransfers"][0]["amount"],
    }
    assert m.funder_of(item.creator) == operator and not is_custodian(operator or "")
    assert buy["slot"] == item.creation_slot and buy["type"] == "SWAP"
    changes = [c for e in buy["accountData"] for c in e["tokenBalanceChanges"] if c["userAccount"] == bundler]
    assert changes[0]["mint"] == item.mint and int(changes[0]["rawTokenAmount"]["tokenAmount"]) > 0


def test_the_creator_signs_the_creation_which_mints_the_supply_to_the_pool() -> None:
    m, item = market(), launch("bundled")
    (creation,) = [
        tx
        for tx in m.get_transactions([entry["signature"] for entry in m.get_signatures(item.creator)])
        if tx["type"] == "CREATE"
    ]
    assert creation["feePayer"] == item.creator and creation["slot"] == item.creation_slot
    assert sum(entry["nativeBalanceChange"] for entry in creation["accountData"]) == -creation["fee"]
    minted = sum(
        int(change["rawTokenAmount"]["tokenAmount"])
        for entry in creation["accountData"]
        for change in entry["tokenBalanceChanges"]
    )
    assert minted == int(m.get_token_supply(item.mint)["amount"]) == item.supply_raw
    owners = {change["userAccount"] for e in creation["accountData"] for change in e["tokenBalanceChanges"]}
    assert owners == {item.creator, item.pool}


def test_the_insider_funded_by_the_creator_shares_that_transfer() -> None:
    m, item = market(), launch("bundled")
    insider = next(wallet for wallet in by_role(item, "insider") if m.funder_of(wallet) == item.creator)
    funding = m.get_signatures(insider)[-1]["signature"]
    creators = [entry["signature"] for entry in m.get_signatures(item.creator)]
    assert funding in creators  # one transaction, one signature, in both histories
    (transfer,) = m.get_transactions([funding])
    assert transfer["feePayer"] == item.creator
    assert transfer["nativeTransfers"][0]["toUserAccount"] == insider


# --- the mint's transactions, supply and holders ---------------------------------------------------------


def test_the_mints_history_pages_back_to_its_creation() -> None:
    m, item = market(), launch("bundled")
    entries = mint_history(item.mint)
    slots = [entry["slot"] for entry in entries]
    assert slots == sorted(slots, reverse=True)
    oldest = m.get_transactions([entry["signature"] for entry in entries[::-1][:10]])
    assert oldest[0]["type"] == "CREATE" and oldest[0]["feePayer"] == item.creator
    early = [tx["feePayer"] for tx in oldest[1:] if tx["slot"] == item.creation_slot]
    assert sorted(early) == sorted(by_role(item, "bundler"))
    buyers = {
        tx["feePayer"]
        for start in range(0, len(entries), 100)
        for tx in m.get_transactions([e["signature"] for e in entries[start : start + 100]])
    }
    assert buyers == {participant.wallet for participant in item.participants}
    middle = entries[len(entries) // 2]["signature"]
    window = m.get_signatures(item.mint, before=entries[2]["signature"], until=middle)
    assert window == entries[3 : len(entries) // 2]


def test_supply_and_holders_add_up_and_the_pool_is_listed() -> None:
    m = market()
    for kind in ("bundled", "organic", "wide"):
        item = launch(kind)
        accounts = all_accounts(item.mint, limit=50)
        assert sum(account["amount"] for account in accounts) == item.supply_raw
        assert accounts[0]["owner"] == item.pool
        holders = {account["owner"]: account["amount"] for account in accounts[1:]}
        assert len(holders) == item.holder_count
        for owner, amount in list(holders.items())[:10]:
            (held,) = [
                int(entry["account"]["data"]["parsed"]["info"]["tokenAmount"]["amount"])
                for entry in m.get_token_accounts(owner)
                if entry["account"]["data"]["parsed"]["info"]["mint"] == item.mint
            ]
            assert held == amount
    bundled = launch("bundled")
    owners = {account["owner"] for account in all_accounts(bundled.mint)}
    assert set(by_role(bundled, "bundler") + by_role(bundled, "insider") + [bundled.creator]) <= owners


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_every_launch_pool_keeps_a_share_of_the_supply_for_every_seed(seed: int) -> None:
    """The pool holds what the holders do not: a launch whose buyers got more tokens than the supply (a price
    path that collapsed over the wide launch's two days of buys did) would list a negative pool."""
    m = SimulatedMarket(seed=seed)
    for item in m.launches():
        if item.kind == "mega":
            continue
        page = m.get_mint_token_accounts(item.mint, page=1, limit=1000)["token_accounts"]
        (pool,) = [account["amount"] for account in page if account["owner"] == item.pool]
        assert 0 < pool < item.supply_raw, (seed, item.kind, pool / item.supply_raw)


def test_account_owners_tell_a_pool_from_a_wallet() -> None:
    m, item = market(), launch("bundled")
    pool, mint, wallet, nobody = m.get_multiple_accounts([item.pool, item.mint, item.creator, "0OIl"])
    assert pool is not None and pool["owner"] not in (SYSTEM_PROGRAM, SPL_TOKEN_PROGRAM)
    assert mint is not None and mint["owner"] == SPL_TOKEN_PROGRAM
    assert wallet is not None and wallet["owner"] == SYSTEM_PROGRAM
    assert wallet["lamports"] == m.get_sol_balance(item.creator)
    assert nobody is None
    with pytest.raises(ValueError):
        m.get_multiple_accounts([item.creator] * 101)


def test_a_non_mint_has_no_supply_and_no_token_accounts() -> None:
    m = market()
    wallet = m.sample_wallets(1)[0]
    with pytest.raises(NotAMintError, match="not a Token mint"):
        m.get_token_supply(wallet)
    assert m.get_mint_token_accounts(wallet)["token_accounts"] == []
    assert m.get_signatures(m.tokens()[0].mint) == []  # a memecoin's holders are not enumerable here
    for page, limit in ((0, 10), (1, 0), (1, 1001)):
        with pytest.raises(ValueError):
            m.get_mint_token_accounts(launch("organic").mint, page=page, limit=limit)


# --- a million holders --------------------------------------------------------------------------------------


def measured_page(page: int) -> tuple[dict[str, Any], float, int]:
    fresh = SimulatedMarket(seed=0)
    mint = launch("mega").mint
    tracemalloc.start()
    started = time.perf_counter()
    try:
        answer = fresh.get_mint_token_accounts(mint, page=page)
        return answer, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_million_holders_are_paged_without_being_held() -> None:
    first, first_s, first_bytes = measured_page(2)
    deep, deep_s, deep_bytes = measured_page(900)
    assert first["total"] == deep["total"] == 1000
    assert deep_s < 3 * first_s + 0.5 and deep_bytes < 3 * first_bytes + 1_000_000
    last = market().get_mint_token_accounts(launch("mega").mint, page=1001)
    assert 0 < last["total"] < 1000  # a short page is the last: 1,000,000 holders and the pool
    holder = deep["token_accounts"][17]
    m = market()
    assert m.history_length(holder["owner"]) == 2
    assert m.get_token_accounts(holder["owner"])[0]["account"]["data"]["parsed"]["info"]["tokenAmount"][
        "amount"
    ] == str(holder["amount"])
    assert is_custodian(m.funder_of(holder["owner"]) or "")


def test_the_mega_mints_signatures_page_lazily_from_any_depth() -> None:
    m, item = market(), launch("mega")
    newest = m.get_signatures(item.mint, limit=1000)
    assert len(newest) == 1000
    owner = m.get_mint_token_accounts(item.mint, page=400)["token_accounts"][5]["owner"]
    buy = m.get_signatures(owner)[0]["signature"]
    deep = m.get_signatures(item.mint, before=buy, limit=1000)
    assert len(deep) == 1000 and deep[0]["slot"] < m.get_signatures(owner)[0]["slot"]
    (tx,) = m.get_transactions([deep[0]["signature"]])
    assert tx["type"] == "SWAP"
