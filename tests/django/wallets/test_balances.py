"""wallet_fetch_balances against the fake Helius over real HTTP: both token programs parsed, the snapshot
stored, tokens recorded with their program, and the Redis copy `balance:{wallet}` kept for 30 s."""

from __future__ import annotations

import json
import time

import pytest

from core.redis import balance_key, get_redis
from tests.support.fake_upstream import FakeUpstream
from wallets.helius import SPL_TOKEN_PROGRAM, TOKEN_2022_PROGRAM
from wallets.models import BalanceSnapshot, Token
from wallets.selectors import wallet_latest_balances
from wallets.services import wallet_fetch_balances

pytestmark = pytest.mark.django_db


def wallet_with_both_token_programs(upstream: FakeUpstream) -> str:
    for wallet in upstream.market.sample_wallets(60):
        owners = {entry["account"]["owner"] for entry in upstream.market.get_token_accounts(wallet)}
        if owners == {SPL_TOKEN_PROGRAM, TOKEN_2022_PROGRAM}:
            return wallet
    raise AssertionError("no sample wallet holds tokens of both programs")


def test_balances_of_both_token_programs_are_parsed_and_cached_for_30_s(
    helius: FakeUpstream, django_capture_on_commit_callbacks
) -> None:
    wallet = wallet_with_both_token_programs(helius)
    accounts = helius.market.get_token_accounts(wallet)

    with django_capture_on_commit_callbacks(execute=True):
        balances = wallet_fetch_balances(address=wallet)

    assert balances["sol_lamports"] == helius.market.get_sol_balance(wallet)
    held = {
        entry["account"]["data"]["parsed"]["info"]["mint"]: (
            entry["account"]["data"]["parsed"]["info"]["tokenAmount"],
            entry["account"]["owner"],
        )
        for entry in accounts
    }
    assert {token["mint"] for token in balances["tokens"]} == set(held)
    for token in balances["tokens"]:
        amount, program = held[token["mint"]]
        assert (token["amount_raw"], token["decimals"]) == (amount["amount"], amount["decimals"])
        assert token["ui_amount"] == pytest.approx(int(amount["amount"]) / 10 ** amount["decimals"])
        assert token["token_program"] == program
    assert {token["program"] for token in balances["tokens"]} == {"spl-token", "spl-token-2022"}

    ttl = get_redis().ttl(balance_key(wallet))
    assert 25 < ttl <= 30
    assert json.loads(str(get_redis().get(balance_key(wallet)))) == balances
    assert wallet_latest_balances(address=wallet) == balances
    snapshot = BalanceSnapshot.objects.get(wallet_id=wallet)
    assert (snapshot.sol_lamports, snapshot.tokens) == (balances["sol_lamports"], balances["tokens"])
    programs = dict(Token.objects.filter(mint__in=held).values_list("mint", "token_program"))
    assert programs == {mint: program for mint, (_, program) in held.items()}

    # Once the Redis copy is gone the newest snapshot answers.
    get_redis().delete(balance_key(wallet))
    assert wallet_latest_balances(address=wallet) == balances


def test_balances_name_the_token_program_of_a_token_first_seen_in_a_swap(helius: FakeUpstream) -> None:
    wallet = wallet_with_both_token_programs(helius)
    mint = helius.market.get_token_accounts(wallet, program_id=TOKEN_2022_PROGRAM)[0]["account"]["data"]
    mint_address = mint["parsed"]["info"]["mint"]
    Token.objects.create(mint=mint_address, decimals=mint["parsed"]["info"]["tokenAmount"]["decimals"])

    wallet_fetch_balances(address=wallet)

    assert Token.objects.get(mint=mint_address).token_program == TOKEN_2022_PROGRAM


def test_balances_cost_one_upstream_round_trip(helius: FakeUpstream) -> None:
    wallet = wallet_with_both_token_programs(helius)
    helius.hang_s = 0.4

    started = time.monotonic()
    balances = wallet_fetch_balances(address=wallet)
    elapsed = time.monotonic() - started

    assert balances["sol_lamports"] == helius.market.get_sol_balance(wallet)
    # getBalance and both getTokenAccountsByOwner calls in flight together: 3 x 0.4 s in a row is 1.2 s.
    assert helius.max_in_flight == 3
    assert elapsed < 1.0
