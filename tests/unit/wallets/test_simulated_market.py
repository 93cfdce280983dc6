"""The simulated market (docs/ARCHITECTURE.md §13): deterministic, valid base58 everywhere, the real wire
formats, balances
consistent with the history, families with real structure. Pure: no Django, no Redis."""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from wallets.simulated_market import (
    ANCHOR_TS,
    MAX_DEX_MINTS_PER_CALL,
    SOL_USD_PRICE,
    SPL_TOKEN_PROGRAM,
    TOKEN_2022_ACCOUNT_RENT,
    TOKEN_2022_PROGRAM,
    TOKEN_ACCOUNT_RENT,
    WINDOW_START_TS,
    Archetype,
    IntendedTrade,
    SimulatedMarket,
    TokenInfo,
    b58decode,
    b58encode,
    slot_at,
)
from wallets.swaps import SOL_MINT, USDC_MINT

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[3]
SWAP_SOURCES = {"RAYDIUM", "PUMP_AMM", "JUPITER", "METEORA"}
ARCHETYPES: tuple[Archetype, ...] = ("flipper", "holder", "sniper", "bot")


@cache
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=0)


@cache
def wallets() -> tuple[str, ...]:
    """One unrelated wallet of each archetype, plus a copy leader, a follower and a bundle member."""
    m = market()
    picked = [m.sample_wallets(1, archetype=archetype)[0] for archetype in ARCHETYPES]
    families = m.families()
    copy = next(f for f in families if f.kind == "copy")
    bundle = next(f for f in families if f.kind == "bundle")
    return (*picked, copy.leader, copy.members[1], bundle.members[0])


def all_signatures(m: SimulatedMarket, address: str, page: int = 1000) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        batch = m.get_signatures(address, before=before, limit=page)
        entries += batch
        if len(batch) < page:
            return entries
        before = batch[-1]["signature"]


def all_transactions(m: SimulatedMarket, address: str) -> list[dict[str, Any]]:
    signatures = [entry["signature"] for entry in all_signatures(m, address)]
    txs: list[dict[str, Any]] = []
    for start in range(0, len(signatures), 100):
        txs += m.get_transactions(signatures[start : start + 100])
    return txs


def snapshot(m: SimulatedMarket, address: str) -> str:
    data = {
        "signatures": all_signatures(m, address),
        "transactions": all_transactions(m, address),
        "sol": m.get_sol_balance(address),
        "tokens": m.get_token_accounts(address),
        "pairs": m.get_dex_pairs([token.mint for token in m.tokens()[:30]]),
        "families": [(f.name, f.kind, f.leader, f.members) for f in m.families()],
    }
    return json.dumps(data, sort_keys=True)


@cache
def stable_traders(m: SimulatedMarket) -> tuple[str, ...]:
    """Two sample wallets that quote some of their swaps in USDC."""
    found = [w for w in m.sample_wallets(30) if any(t.quote_mint == USDC_MINT for t in m.intended_trades(w))]
    assert len(found) >= 2
    return tuple(found[:2])


def is_base58_of(value: object, size: int) -> bool:
    return isinstance(value, str) and len(b58decode(value)) == size and b58encode(b58decode(value)) == value


def token_of(m: SimulatedMarket, mint: str) -> TokenInfo:
    token = m.token(mint)
    assert token is not None, mint
    return token


def trades_by_mint(trades: list[IntendedTrade], direction: str) -> dict[str, list[IntendedTrade]]:
    by_mint: dict[str, list[IntendedTrade]] = defaultdict(list)
    for trade in trades:
        if trade.direction == direction:
            by_mint[trade.mint].append(trade)
    return by_mint


# --- determinism ------------------------------------------------------------------------------------------


def test_same_seed_and_address_give_byte_identical_output() -> None:
    address = wallets()[0]
    assert snapshot(SimulatedMarket(seed=0), address) == snapshot(SimulatedMarket(seed=0), address)


def test_output_is_identical_in_another_process() -> None:
    """Python's hash() is salted per process; nothing may depend on it."""
    address = wallets()[1]
    script = (
        "import hashlib, sys\n"
        "from tests.unit.wallets.test_simulated_market import snapshot\n"
        "from wallets.simulated_market import SimulatedMarket\n"
        f"print(hashlib.sha256(snapshot(SimulatedMarket(seed=0), {address!r}).encode()).hexdigest())\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert child.stdout.strip() == hashlib.sha256(snapshot(market(), address).encode()).hexdigest()


def test_different_address_or_seed_gives_different_output() -> None:
    first, second = wallets()[0], wallets()[2]
    m = market()
    assert m.get_signatures(first) != m.get_signatures(second)
    other_seed = SimulatedMarket(seed=market().seed + 1)
    assert other_seed.get_signatures(first) != m.get_signatures(first)
    assert other_seed.tokens()[0].mint != m.tokens()[0].mint
    assert other_seed.families()[0].leader != m.families()[0].leader


def test_time_is_fixed_to_the_window_before_the_anchor() -> None:
    assert datetime.fromtimestamp(ANCHOR_TS, UTC) == datetime(2026, 10, 1, tzinfo=UTC)
    for address in wallets():
        times = [entry["blockTime"] for entry in market().get_signatures(address)]
        assert times
        assert all(WINDOW_START_TS <= t < ANCHOR_TS for t in times)


# --- base58 -------------------------------------------------------------------------------------------------


def test_every_signature_mint_and_address_is_valid_base58_of_the_right_length() -> None:
    m = market()
    seen_signatures: set[str] = set()
    for address in wallets():
        for tx in all_transactions(m, address):
            assert is_base58_of(tx["signature"], 64)
            assert tx["signature"] not in seen_signatures
            seen_signatures.add(tx["signature"])
            assert is_base58_of(tx["feePayer"], 32)
            for entry in tx["accountData"]:
                assert is_base58_of(entry["account"], 32), entry["account"]
                for change in entry["tokenBalanceChanges"]:
                    for key in ("userAccount", "tokenAccount", "mint"):
                        assert is_base58_of(change[key], 32)
            for transfer in tx["tokenTransfers"]:
                for key in ("fromTokenAccount", "toTokenAccount", "fromUserAccount", "toUserAccount", "mint"):
                    assert is_base58_of(transfer[key], 32)
            for transfer in tx["nativeTransfers"]:
                assert is_base58_of(transfer["fromUserAccount"], 32)
                assert is_base58_of(transfer["toUserAccount"], 32)
    assert all(is_base58_of(token.mint, 32) for token in m.tokens())
    assert len({token.mint for token in m.tokens()}) == len(m.tokens())
    members = [member for family in m.families() for member in family.members]
    assert all(is_base58_of(member, 32) for member in members + m.sample_wallets(20))
    assert len(set(members + m.sample_wallets(20))) == len(members) + 20


def test_b58_round_trips_leading_zero_bytes() -> None:
    for data in (b"", b"\0", b"\0\0\x01", bytes(32), b"\xff" * 64, bytes(range(64))):
        assert b58decode(b58encode(data)) == data
    assert b58encode(bytes(32)) == "1" * 32
    assert b58encode(b"\0\x01") == "12"


# --- getSignaturesForAddress ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [1, 7, 100, 1000])
def test_pagination_with_before_returns_every_signature_once_newest_first(page: int) -> None:
    m = market()
    address = wallets()[0]
    full = m.get_signatures(address)
    assert 20 <= len(full) < 1000
    paged = all_signatures(m, address, page=page)
    assert [e["signature"] for e in paged] == [e["signature"] for e in full]
    assert len({e["signature"] for e in paged}) == len(paged)
    slots = [e["slot"] for e in paged]
    assert slots == sorted(slots, reverse=True)
    assert len(set(slots)) == len(slots)
    times = [e["blockTime"] for e in paged]
    assert times == sorted(times, reverse=True)


def test_until_stops_before_the_given_signature_like_the_rpc() -> None:
    m = market()
    address = wallets()[2]
    full = [e["signature"] for e in m.get_signatures(address)]
    cut = len(full) // 3
    assert [e["signature"] for e in m.get_signatures(address, until=full[cut])] == full[:cut]
    window = m.get_signatures(address, before=full[2], until=full[cut])
    assert [e["signature"] for e in window] == full[3:cut]
    assert m.get_signatures(address, until=full[0]) == []
    assert m.get_signatures(address, before=full[-1]) == []
    assert [e["signature"] for e in m.get_signatures(address, before=full[5], limit=3)] == full[6:9]


def test_foreign_or_unknown_before_and_until() -> None:
    m = market()
    address, other = wallets()[0], wallets()[3]
    full = m.get_signatures(address)
    foreign = m.get_signatures(other)[len(m.get_signatures(other)) // 2]
    bounded = m.get_signatures(address, before=foreign["signature"])
    assert all(e["slot"] < foreign["slot"] for e in bounded)
    assert bounded == [e for e in full if e["slot"] < foreign["slot"]]
    made_up = b58encode(hashlib.sha512(b"nobody").digest())
    assert m.get_signatures(address, before=made_up) == []
    assert m.get_signatures(address, until=made_up) == full


def test_signature_entries_have_the_rpc_shape() -> None:
    expected = {"signature", "slot", "blockTime", "err", "memo", "confirmationStatus"}
    failed = 0
    for entry in market().get_signatures(wallets()[3]):
        assert set(entry) == expected
        assert isinstance(entry["slot"], int)
        assert isinstance(entry["blockTime"], int)
        assert entry["memo"] is None
        assert entry["confirmationStatus"] == "finalized"
        assert entry["err"] is None or isinstance(entry["err"], dict)
        failed += entry["err"] is not None
    assert failed > 0


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_signature_limit_is_bounded_like_the_rpc(limit: int) -> None:
    with pytest.raises(ValueError):
        market().get_signatures(wallets()[0], limit=limit)


# --- enhanced transactions -------------------------------------------------------------------------------


def test_transactions_carry_the_helius_keys_and_types() -> None:
    fixture = json.loads((FIXTURES / "helius" / "wallet_3JoVBiQE_20_transactions.json").read_text())
    fixture_keys = set(fixture[0])
    fixture_account_keys = set(fixture[0]["accountData"][0])
    fixture_transfer_keys = set(next(tx for tx in fixture if tx["tokenTransfers"])["tokenTransfers"][0])
    types: dict[str, int] = defaultdict(int)
    for address in wallets():
        for tx in all_transactions(market(), address):
            assert set(tx) == fixture_keys
            types[tx["type"]] += 1
            assert isinstance(tx["slot"], int)
            assert isinstance(tx["timestamp"], int)
            assert isinstance(tx["fee"], int)
            assert isinstance(tx["description"], str)
            assert tx["source"] in SWAP_SOURCES | {"SYSTEM_PROGRAM", "SOLANA_PROGRAM_LIBRARY"}
            assert tx["instructions"] == []
            assert isinstance(tx["events"], dict)
            assert tx["transactionError"] is None or isinstance(tx["transactionError"], dict)
            for entry in tx["accountData"]:
                assert set(entry) == fixture_account_keys
                assert isinstance(entry["nativeBalanceChange"], int)
                for change in entry["tokenBalanceChanges"]:
                    assert set(change) == {"userAccount", "tokenAccount", "rawTokenAmount", "mint"}
                    assert isinstance(change["rawTokenAmount"]["tokenAmount"], str)
                    int(change["rawTokenAmount"]["tokenAmount"])
                    assert change["rawTokenAmount"]["decimals"] in (6, 9)
            for transfer in tx["nativeTransfers"]:
                assert set(transfer) == {"fromUserAccount", "toUserAccount", "amount"}
                assert isinstance(transfer["amount"], int)
            for transfer in tx["tokenTransfers"]:
                assert set(transfer) == fixture_transfer_keys
                assert isinstance(transfer["tokenAmount"], float)
    assert types["SWAP"] > 5 * (types["TRANSFER"] + types["UNKNOWN"])
    assert types["TRANSFER"] >= len(wallets())  # at least the funding deposit of each wallet
    assert types["UNKNOWN"] > 0  # failed attempts


def test_swaps_model_fees_rent_wsol_and_failures() -> None:
    m = market()
    seen: dict[str, int] = defaultdict(int)
    for address in m.sample_wallets(12):
        for tx in all_transactions(m, address):
            if tx["transactionError"] is not None:
                seen["failed"] += 1
                assert tx["tokenTransfers"] == []
                assert tx["accountData"][0] == {
                    "account": address,
                    "nativeBalanceChange": -tx["fee"],
                    "tokenBalanceChanges": [],
                }
                continue
            if tx["type"] != "SWAP":
                continue
            assert tx["feePayer"] == address
            assert tx["fee"] > 5000  # base fee plus a priority fee
            owned = [
                change
                for entry in tx["accountData"]
                for change in entry["tokenBalanceChanges"]
                if change["userAccount"] == address
            ]
            seen["wsol"] += any(change["mint"] == SOL_MINT for change in owned)
            seen["rent"] += any(
                abs(entry["nativeBalanceChange"]) in (TOKEN_ACCOUNT_RENT, TOKEN_2022_ACCOUNT_RENT)
                for entry in tx["accountData"][1:2]
            )
            seen[tx["source"]] += 1
    assert seen["failed"] > 0
    assert seen["wsol"] > 0
    assert seen["rent"] > 0
    assert all(seen[source] > 0 for source in SWAP_SOURCES)


def test_the_wallets_sol_change_is_its_quote_leg_fee_tip_and_rent() -> None:
    m = market()
    seen: dict[str, int] = defaultdict(int)
    for address in (*wallets(), *stable_traders(m)):
        rendered = {tx["signature"]: tx for tx in all_transactions(m, address)}
        for trade in m.intended_trades(address):
            tx = rendered[trade.signature]
            native = tx["accountData"][0]["nativeBalanceChange"]
            rent = (
                TOKEN_2022_ACCOUNT_RENT
                if token_of(m, trade.mint).program == TOKEN_2022_PROGRAM
                else TOKEN_ACCOUNT_RENT
            )
            quote = 0
            if trade.quote_mint == SOL_MINT and not trade.via_wsol:
                quote = -trade.sol_amount_lamports if trade.direction == "buy" else trade.sol_amount_lamports
            expected = quote - trade.fee_lamports - trade.tip_lamports
            expected += -rent if trade.opened_account else rent if trade.closed_account else 0
            assert native == expected
            seen["tip"] += trade.tip_lamports > 0
            seen["usdc"] += trade.quote_mint == USDC_MINT
            seen["wsol"] += trade.via_wsol
    assert seen["tip"] > 0
    assert seen["usdc"] > 0
    assert seen["wsol"] > 0


def test_unknown_foreign_seed_and_too_many_signatures() -> None:
    m = market()
    signatures = [e["signature"] for e in m.get_signatures(wallets()[0], limit=5)]
    made_up = b58encode(hashlib.sha512(b"unknown").digest())
    other_seed = [
        e["signature"] for e in SimulatedMarket(seed=market().seed + 9).get_signatures(wallets()[0], limit=2)
    ]
    answered = m.get_transactions([signatures[0], made_up, "not-base58-0OIl", *other_seed, signatures[1]])
    assert [tx["signature"] for tx in answered] == signatures[:2]
    with pytest.raises(ValueError):
        m.get_transactions(signatures * 21)


def test_transactions_resolve_in_a_fresh_market_without_prior_listing() -> None:
    """A signature encodes its wallet, so another process (another worker) can serve it."""
    signatures = [e["signature"] for e in market().get_signatures(wallets()[4], limit=50)]
    fresh = SimulatedMarket(seed=market().seed)
    assert fresh.get_transactions(signatures) == market().get_transactions(signatures)


# --- balances -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(7))
def test_balances_are_the_net_of_the_history(index: int) -> None:
    m = market()
    address = wallets()[index]
    txs = sorted(all_transactions(m, address), key=lambda tx: tx["slot"])
    lamports = 0
    held: dict[str, int] = defaultdict(int)
    for tx in txs:
        for entry in tx["accountData"]:
            if entry["account"] == address:
                lamports += entry["nativeBalanceChange"]
            for change in entry["tokenBalanceChanges"]:
                if change["userAccount"] == address:
                    held[change["mint"]] += int(change["rawTokenAmount"]["tokenAmount"])
        assert lamports >= 0, "the wallet never goes negative"
        assert all(amount >= 0 for amount in held.values())
    assert m.get_sol_balance(address) == lamports
    accounts = m.get_token_accounts(address)
    reported = {
        entry["account"]["data"]["parsed"]["info"]["mint"]: int(
            entry["account"]["data"]["parsed"]["info"]["tokenAmount"]["amount"]
        )
        for entry in accounts
    }
    assert reported == {mint: amount for mint, amount in held.items() if amount > 0}
    for entry in accounts:
        info = entry["account"]["data"]["parsed"]["info"]
        assert info["owner"] == address
        program = (
            SPL_TOKEN_PROGRAM if info["mint"] in (SOL_MINT, USDC_MINT) else token_of(m, info["mint"]).program
        )
        assert entry["account"]["owner"] == program


def test_token_accounts_have_the_rpc_shape_and_filter_by_program() -> None:
    fixture = json.loads(
        (FIXTURES / "solana-rpc" / "solana_rpc_getTokenAccountsByOwner_jsonParsed.json").read_text()
    )
    expected = fixture["result"]["value"][0]
    m = market()
    holder = next(w for w in m.sample_wallets(40, archetype="holder") if m.get_token_accounts(w))
    accounts = m.get_token_accounts(holder)
    for entry in accounts:
        assert set(entry) == set(expected)
        assert set(entry["account"]) == set(expected["account"])
        assert set(entry["account"]["data"]) == set(expected["account"]["data"])
        info = entry["account"]["data"]["parsed"]["info"]
        assert set(expected["account"]["data"]["parsed"]["info"]) <= set(info)
        amount = info["tokenAmount"]
        assert set(amount) == set(expected["account"]["data"]["parsed"]["info"]["tokenAmount"])
        assert isinstance(amount["amount"], str)
        assert isinstance(amount["uiAmount"], float)
        assert float(amount["uiAmountString"]) == pytest.approx(
            int(amount["amount"]) / 10 ** amount["decimals"]
        )
        assert is_base58_of(entry["pubkey"], 32)
    spl = m.get_token_accounts(holder, program_id=SPL_TOKEN_PROGRAM)
    token_2022 = m.get_token_accounts(holder, program_id=TOKEN_2022_PROGRAM)
    assert len(spl) + len(token_2022) == len(accounts)
    assert any(token.program == TOKEN_2022_PROGRAM for token in m.tokens())


# --- families and archetypes ------------------------------------------------------------------------------


def test_families_are_fixed_and_well_formed() -> None:
    families = market().families()
    assert [f.kind for f in families].count("copy") == 3
    assert [f.kind for f in families].count("bundle") == 3
    assert [f.kind for f in families].count("funded") == 3
    for family in families:
        assert family.leader == family.members[0]
        assert 3 <= len(family.members) <= 5
        assert all(market().profile(member).family == family.name for member in family.members)
        assert (family.funder is None) == (family.kind == "copy")
        assert set(family.lags) == (set(family.members[1:]) if family.kind == "copy" else set())
        assert all(30 <= lag <= 90 for lag in family.lags.values())
    assert market().families() == SimulatedMarket(seed=market().seed).families()


def test_copy_followers_buy_with_a_steady_lag_and_the_leader_mostly_first() -> None:
    m = market()
    for family in (f for f in m.families() if f.kind == "copy"):
        plan = set(m.family_mints(family.name))
        leader_buys = trades_by_mint(m.intended_trades(family.leader), "buy")
        assert plan <= set(leader_buys)
        for follower in family.members[1:]:
            follower_buys = trades_by_mint(m.intended_trades(follower), "buy")
            copied = plan & set(follower_buys)
            assert len(plan) >= 15
            assert len(copied) >= 0.5 * len(plan)
            lags = [follower_buys[mint][0].timestamp - leader_buys[mint][0].timestamp for mint in copied]
            behind = [lag for lag in lags if lag > 0]
            assert len(behind) >= 0.8 * len(lags), (family.name, lags)
            # Steady: within a few seconds of the follower's own lag (a same-second clash moves a trade on).
            assert all(abs(lag - family.lags[follower]) <= 6 for lag in behind), (family.name, behind)
            assert all(30 <= lag <= 90 for lag in behind)
            leader_sells = trades_by_mint(m.intended_trades(family.leader), "sell")
            follower_sells = trades_by_mint(m.intended_trades(follower), "sell")
            for mint in copied & set(leader_sells) & set(follower_sells):
                assert follower_sells[mint][0].timestamp > leader_sells[mint][0].timestamp


def test_bundle_members_buy_the_same_token_in_the_same_slot() -> None:
    m = market()
    for family in (f for f in m.families() if f.kind == "bundle"):
        slots_by_mint: dict[str, set[int]] = defaultdict(set)
        buyers_by_mint: dict[str, int] = defaultdict(int)
        for member in family.members:
            wire_slots = {e["signature"]: e["slot"] for e in m.get_signatures(member)}
            for mint, buys in trades_by_mint(m.intended_trades(member), "buy").items():
                if mint in m.family_mints(family.name):
                    slots_by_mint[mint].add(wire_slots[buys[0].signature])
                    buyers_by_mint[mint] += 1
        assert len(slots_by_mint) >= 5
        for mint, slots in slots_by_mint.items():
            assert len(slots) == 1, mint
            assert buyers_by_mint[mint] >= 3
            token = m.token(mint)
            assert token is not None
            (slot,) = slots
            assert slot_at(token.launch_ts) <= slot <= slot_at(token.launch_ts + 3)  # bought at launch


def test_family_members_trade_more_alike_than_unrelated_wallets() -> None:
    m = market()

    def first_buys(address: str) -> dict[str, int]:
        firsts: dict[str, int] = {}
        for trade in m.intended_trades(address):
            if trade.direction == "buy":
                firsts.setdefault(trade.mint, trade.timestamp)
        return firsts

    def jaccard(a: str, b: str) -> float:
        mints_a, mints_b = set(first_buys(a)), set(first_buys(b))
        return len(mints_a & mints_b) / len(mints_a | mints_b)

    def co_traded(a: str, b: str) -> int:
        buys_a, buys_b = first_buys(a), first_buys(b)
        return sum(abs(buys_a[mint] - buys_b[mint]) <= 300 for mint in set(buys_a) & set(buys_b))

    pairs = [(f.leader, member) for f in m.families() if f.kind != "funded" for member in f.members[1:]]
    unrelated = m.sample_wallets(10)
    unrelated_pairs = [(a, b) for i, a in enumerate(unrelated) for b in unrelated[i + 1 :]]
    family_jaccard = [jaccard(a, b) for a, b in pairs]
    unrelated_jaccard = [jaccard(a, b) for a, b in unrelated_pairs]
    assert statistics.median(family_jaccard) > 2 * statistics.median(unrelated_jaccard)
    # Members also trade their own tokens: similar, not identical.
    assert max(family_jaccard) < 0.8
    assert min(co_traded(a, b) for a, b in pairs) >= 5
    assert statistics.median(co_traded(a, b) for a, b in unrelated_pairs) <= 1


def hold_times(trades: list[IntendedTrade]) -> list[int]:
    first_buy: dict[str, int] = {}
    holds: list[int] = []
    for trade in trades:
        if trade.direction == "buy":
            first_buy.setdefault(trade.mint, trade.timestamp)
        elif trade.closed_account and trade.mint in first_buy:
            holds.append(trade.timestamp - first_buy.pop(trade.mint))
    return holds


def test_archetypes_behave_as_named() -> None:
    m = market()
    medians = {}
    for archetype in ARCHETYPES:
        holds = [
            h for w in m.sample_wallets(3, archetype=archetype) for h in hold_times(m.intended_trades(w))
        ]
        medians[archetype] = statistics.median(holds)
    assert medians["bot"] < 120
    assert medians["flipper"] < 1800
    assert medians["holder"] > 86_400
    assert medians["sniper"] < 1800
    for bot in m.sample_wallets(3, archetype="bot"):
        per_day: dict[int, int] = defaultdict(int)
        for trade in m.intended_trades(bot):
            per_day[trade.timestamp // 86_400] += 1
        assert sum(per_day.values()) / len(per_day) >= 50
    for sniper in m.sample_wallets(3, archetype="sniper"):
        first_buys = trades_by_mint(m.intended_trades(sniper), "buy")
        launches = [buys[0].timestamp - token_of(m, mint).launch_ts for mint, buys in first_buys.items()]
        assert sum(0 <= delay <= 30 for delay in launches) >= 0.5 * len(launches)


def test_default_history_sizes() -> None:
    m = market()
    sizes = {w: m.history_length(w) for w in m.sample_wallets(40)}
    assert min(sizes.values()) >= 15
    assert max(size for w, size in sizes.items() if m.profile(w).archetype != "bot") <= 400


def test_large_history_override() -> None:
    m = SimulatedMarket(seed=market().seed, history_sizes={wallets()[0]: 5000})
    started = time.perf_counter()
    assert m.history_length(wallets()[0]) == 5000
    assert time.perf_counter() - started < 5
    entries = all_signatures(m, wallets()[0])
    assert len(entries) == len({e["signature"] for e in entries}) == 5000
    # A default market issued other signatures for this wallet and does not resolve these.
    assert market().get_transactions([entries[0]["signature"]]) == []
    assert m.get_transactions([entries[0]["signature"]])[0]["signature"] == entries[0]["signature"]


# --- DexScreener -------------------------------------------------------------------------------------------


def test_dex_pairs_have_the_dexscreener_shape() -> None:
    fixture = json.loads((FIXTURES / "dexscreener" / "dexscreener_tokens_v1_solana_wsol.json").read_text())
    m = market()
    tokens = m.tokens()[:30]
    pairs = m.get_dex_pairs([token.mint for token in tokens])
    assert len(pairs) == 30
    for token, pair in zip(tokens, pairs, strict=True):
        assert set(fixture[0]) - {"header", "openGraph"} <= set(pair) | {"header", "openGraph"}
        assert set(pair["info"]) >= {"imageUrl"}
        assert pair["chainId"] == "solana"
        assert pair["baseToken"] == {"address": token.mint, "name": token.name, "symbol": token.symbol}
        assert pair["quoteToken"]["address"] == SOL_MINT
        assert isinstance(pair["priceNative"], str) and isinstance(pair["priceUsd"], str)
        assert "e" not in pair["priceNative"].lower()
        assert float(pair["priceNative"]) == pytest.approx(m.price_sol(token.mint), rel=1e-3)
        assert float(pair["priceUsd"]) == pytest.approx(float(pair["priceNative"]) * SOL_USD_PRICE, rel=2e-3)
        assert set(pair["liquidity"]) == {"usd", "base", "quote"}
        assert pair["pairCreatedAt"] == token.launch_ts * 1000
        assert is_base58_of(pair["pairAddress"], 32)


def test_dex_pairs_reference_prices_unknown_mints_and_limit() -> None:
    m = market()
    (sol,) = m.get_dex_pairs([SOL_MINT])
    assert sol["baseToken"]["address"] == SOL_MINT
    assert float(sol["priceUsd"]) == SOL_USD_PRICE
    (usdc,) = m.get_dex_pairs([USDC_MINT])
    assert float(usdc["priceUsd"]) == 1.0
    unknown = b58encode(hashlib.sha256(b"not a listed token").digest())
    assert m.get_dex_pairs([unknown]) == []
    assert len(m.get_dex_pairs([unknown, m.tokens()[3].mint, m.tokens()[3].mint])) == 1
    with pytest.raises(ValueError):
        m.get_dex_pairs([token.mint for token in m.tokens()[: MAX_DEX_MINTS_PER_CALL + 1]])


# --- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["", "abc", "0OIl" * 10, " " + "1" * 32, "1" * 45, b58encode(bytes(range(64))), b58encode(bytes(31))],
)
def test_invalid_addresses_raise_value_error(address: str) -> None:
    m = market()
    for call in (m.get_signatures, m.get_sol_balance, m.get_token_accounts, m.profile, m.intended_trades):
        with pytest.raises(ValueError):
            call(address)


def test_any_valid_address_gets_a_history() -> None:
    m = market()
    for address in ("1" * 32, "11111111111111111111111111111112", b58encode(b"\xff" * 32)):
        assert m.history_length(address) > 0
        assert m.get_sol_balance(address) >= 0


# --- extraction agrees with what the market meant ---------------------------------------------------------


def test_extraction_recovers_the_intended_swaps() -> None:
    extraction = pytest.importorskip("wallets.extraction")
    m = market()
    for address in (*wallets(), *stable_traders(m)):
        intended = {(t.signature, t.mint, t.direction): t for t in m.intended_trades(address)}
        extracted = {}
        for tx in all_transactions(m, address):
            for leg in extraction.extract_swaps(tx, address):
                extracted[(leg.signature, leg.mint, leg.direction)] = leg
        assert set(extracted) == set(intended)
        for key, trade in intended.items():
            leg = extracted[key]
            assert leg.token_amount_raw == trade.token_amount_raw
            assert leg.token_decimals == trade.token_decimals
            assert leg.quote_mint == trade.quote_mint
            if trade.quote_mint == SOL_MINT:
                # A tip is part of what the trade cost (or took from its proceeds).
                tip = trade.tip_lamports if trade.direction == "buy" else -trade.tip_lamports
                assert leg.quote_amount_raw == trade.sol_amount_lamports + tip
                assert leg.sol_value_lamports == trade.sol_amount_lamports + tip
            else:
                assert leg.quote_amount_raw == trade.quote_amount_raw
                assert leg.usd_value == pytest.approx(trade.quote_amount_raw / 1e6)
            assert leg.fee_lamports == trade.fee_lamports
            assert leg.source == trade.source
            assert leg.timestamp == trade.timestamp
            assert leg.slot == trade.slot


def test_global_history_size_applies_to_every_wallet() -> None:
    m = SimulatedMarket(seed=market().seed, history_size=40)
    family = m.families()[0]
    for address in (*m.sample_wallets(4), family.leader, family.members[1]):
        assert m.history_length(address) == 40
        assert len(m.get_signatures(address)) == 40
    with pytest.raises(ValueError):
        SimulatedMarket(history_size=0)


def test_concurrent_callers_see_the_same_history() -> None:
    """Celery's thread pools share one market per process."""
    shared = SimulatedMarket(seed=market().seed)
    addresses = shared.sample_wallets(6)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda a: json.dumps(shared.get_signatures(a)), addresses * 4))
    expected = [json.dumps(market().get_signatures(a)) for a in addresses]
    assert results == expected * 4
