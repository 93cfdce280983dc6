"""Market structure for wallet linking: sniper bots, fresh funders, exchange withdrawals, the shipped list of
exchange hot wallets, and every history opening with its funding transfer."""

from __future__ import annotations

import itertools
from collections import Counter
from functools import cache
from typing import Any

import pytest

from wallets.addresses import is_valid_address
from wallets.custodians import CUSTODIANS, custodian, custodian_addresses, is_custodian
from wallets.simulated_market import ANCHOR_TS, WINDOW_START_TS, Family, SimulatedMarket
from wallets.simulated_market.universe import LAUNCH_MARGIN_S

CO_BUY_WINDOW_S = 300


@cache
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=0)


def families(kind: str) -> list[Family]:
    return [family for family in market().families() if family.kind == kind]


def first_buys(address: str) -> dict[str, int]:
    firsts: dict[str, int] = {}
    for trade in market().intended_trades(address):
        if trade.direction == "buy":
            firsts.setdefault(trade.mint, trade.timestamp)
    return firsts


def oldest_transactions(address: str, count: int) -> list[dict[str, Any]]:
    m = market()
    entries = m.get_signatures(address, limit=1000)
    oldest = [entry["signature"] for entry in entries[::-1][:count]]
    return m.get_transactions(oldest)


# --- the shipped list of exchange hot wallets ----------------------------------------------------------


def test_custodians_are_valid_unique_sourced_and_cover_the_largest_exchanges() -> None:
    addresses = [entry.address for entry in CUSTODIANS]
    assert all(is_valid_address(address) for address in addresses)
    assert len(set(addresses)) == len(addresses)
    assert {"Binance", "Coinbase", "OKX", "Bybit", "Kraken"} <= {entry.exchange for entry in CUSTODIANS}
    assert all(entry.label and "github.com" in entry.source for entry in CUSTODIANS)
    assert custodian_addresses() == frozenset(addresses)
    binance = custodian("5tzFkiKscXHK5ZXCGbXZxdw7gTjjD1mBwuoFbhUvuAi9")
    assert binance is not None and binance.exchange == "Binance"
    assert not is_custodian(market().sample_wallets(1)[0])


def test_an_exchange_hot_wallet_has_no_history_of_its_own_here() -> None:
    m = market()
    for address in (
        "5tzFkiKscXHK5ZXCGbXZxdw7gTjjD1mBwuoFbhUvuAi9",
        "FWznbcNXWQuHTawe9RxvQ2LdCENssh12dsznf4RiouN5",
    ):
        assert m.profile(address).archetype == "exchange"
        assert m.get_signatures(address) == []
        assert m.get_sol_balance(address) == 0
        assert m.funder_of(address) is None


# --- every history opens with its funding ----------------------------------------------------------------


def test_every_history_starts_with_a_sol_transfer_from_its_funder() -> None:
    m = market()
    wallets = [*m.sample_wallets(12), *m.sniper_bots()[:2]]
    wallets += [family.members[1] for family in m.families()]
    for wallet in wallets:
        (first,) = oldest_transactions(wallet, 1)
        funder = m.funder_of(wallet)
        assert first["type"] == "TRANSFER"
        assert first["feePayer"] == funder
        (transfer,) = first["nativeTransfers"]
        assert (transfer["fromUserAccount"], transfer["toUserAccount"]) == (funder, wallet)
        by_account = {entry["account"]: entry["nativeBalanceChange"] for entry in first["accountData"]}
        assert by_account[wallet] == transfer["amount"] > 0
        assert by_account[funder] == -(transfer["amount"] + first["fee"])


def test_most_wallets_withdraw_from_exchange_hot_wallets_shared_by_strangers() -> None:
    m = market()
    funders = Counter(m.funder_of(wallet) for wallet in m.sample_wallets(200))
    assert all(funder is not None and is_custodian(funder) for funder in funders)
    exchanges = Counter(custodian(funder).exchange for funder in funders if funder)  # type: ignore[union-attr]
    assert set(exchanges) == {"Binance", "Coinbase", "OKX", "Bybit", "Kraken"}
    assert funders.most_common(1)[0][1] >= 10  # one hot wallet funds many unrelated wallets
    assert all(is_custodian(m.funder_of(family.leader) or "") for family in families("copy"))


# --- fresh funders ---------------------------------------------------------------------------------------


def test_a_fresh_funder_only_withdraws_and_funds_its_members() -> None:
    m = market()
    for family in (*families("funded"), *families("bundle")):
        funder = family.funder
        assert funder is not None and not is_custodian(funder)
        assert m.profile(funder).archetype == "funder"
        assert all(m.funder_of(member) == funder for member in family.members)
        entries = m.get_signatures(funder)[::-1]
        assert len(entries) == len(family.members) + 1  # no other activity
        withdrawal, *transfers = m.get_transactions([entry["signature"] for entry in entries])
        assert withdrawal["nativeTransfers"][0]["toUserAccount"] == funder
        assert is_custodian(withdrawal["nativeTransfers"][0]["fromUserAccount"])
        assert m.funder_of(funder) == withdrawal["nativeTransfers"][0]["fromUserAccount"]
        funded = [transfer["nativeTransfers"][0]["toUserAccount"] for transfer in transfers]
        assert sorted(funded) == sorted(family.members)
        for transfer in transfers:
            member = transfer["nativeTransfers"][0]["toUserAccount"]
            # One transaction, one signature: the member's first entry is the funder's transfer.
            assert m.get_signatures(member)[-1]["signature"] == transfer["signature"]
            assert transfer["timestamp"] < WINDOW_START_TS + LAUNCH_MARGIN_S
        assert m.get_sol_balance(funder) > 0
        assert m.get_token_accounts(funder) == []


def test_a_shared_transfer_is_known_by_one_signature_only() -> None:
    m = market()
    member = families("funded")[0].members[0]
    entries = m.get_signatures(member)
    funding = entries[-1]["signature"]
    assert m.get_transactions([funding])[0]["nativeTransfers"][0]["toUserAccount"] == member
    # Paging around it works like any other signature.
    assert m.get_signatures(member, before=funding) == []
    assert m.get_signatures(member, until=funding) == entries[:-1]
    assert m.get_signatures(member, before=entries[-2]["signature"]) == entries[-1:]


def test_funded_members_trade_different_tokens_at_different_times() -> None:
    for family in families("funded"):
        buys = {member: first_buys(member) for member in family.members}
        assert all(len(firsts) >= 5 for firsts in buys.values())
        for a, b in itertools.combinations(family.members, 2):
            assert not set(buys[a]) & set(buys[b]), (family.name, a, b)


# --- sniper bots ------------------------------------------------------------------------------------------


def test_sniper_bots_buy_most_launches_within_seconds() -> None:
    m = market()
    bots = m.sniper_bots()
    assert len(bots) == 5
    assert m.sample_wallets(3, archetype="sniper_bot") == bots[:3]
    with pytest.raises(ValueError):
        m.sample_wallets(6, archetype="sniper_bot")
    launches = [
        token
        for token in m.tokens()
        if WINDOW_START_TS + LAUNCH_MARGIN_S <= token.launch_ts <= ANCHOR_TS - 3600
    ]
    assert len(launches) > 200
    for bot in bots:
        assert m.profile(bot).archetype == "sniper_bot" and m.profile(bot).family is None
        firsts = first_buys(bot)
        delays = [firsts[token.mint] - token.launch_ts for token in launches if token.mint in firsts]
        assert len(delays) >= 0.65 * len(launches)
        assert all(0 < delay <= 20 for delay in delays)
        assert sorted(delays)[len(delays) // 2] <= 5
        assert is_custodian(m.funder_of(bot) or "")
        failed = sum(entry["err"] is not None for entry in m.get_signatures(bot))
        assert failed >= 0.1 * m.history_length(bot)


def test_sniper_bots_are_strangers_to_each_other_and_to_families() -> None:
    m = market()
    bots = m.sniper_bots()
    members = {member for family in m.families() for member in family.members}
    assert not set(bots) & members
    # Each buys most launches, so any two co-buy a lot: a coincidence of strategy, not of operator.
    for a, b in itertools.combinations(bots, 2):
        buys_a, buys_b = first_buys(a), first_buys(b)
        shared = set(buys_a) & set(buys_b)
        assert len(shared) > 150
        assert all(abs(buys_a[mint] - buys_b[mint]) <= 20 for mint in shared)
    assert len({m.funder_of(bot) for bot in bots}) >= 3
    # A bundle's launches are sniped too: the bots are near every bundle buy.
    bundle = families("bundle")[0]
    bundle_mints = set(m.family_mints(bundle.name))
    assert all(len(bundle_mints & set(first_buys(bot))) >= 0.5 * len(bundle_mints) for bot in bots)
