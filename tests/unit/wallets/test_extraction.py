"""Swap extraction (docs/METHODS.md §1) on every Helius fixture transaction, plus hand-built cases for what
they lack.

Every expected amount is worked out from the fixture's `accountData` next to the assertion. No Django needed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wallets.extraction import SOL_DUST_LAMPORTS, extract_swaps, extract_wallet_swaps
from wallets.swaps import SOL_MINT, USDC_MINT, Direction, SwapLeg

HELIUS = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "helius"

WALLET_3JOV = "3JoVBiQEA2QKsq7TzW5ez5jVRtbbYgTNijoZzp5qgkr2"
MEME_2GAU = "2GaUUmQFCHSMLRMySzjvdqwLCcGVdUpcsQDanpjwmoon"
MEME_B969 = "B969SkrvfafaAD2Q5bHc23zRCEBFWtF2VhKCd2GHmoon"
PUMP_B91N = "B91Nyc6SnWqr5DRR34eEMKuZrWh4zBhW9VhX4UNLpump"
RAYDIUM_FEE = 8_005_000
RENT = 2_039_280  # rent-exempt minimum of a 165-byte SPL token account


def load(name: str) -> Any:
    return json.loads((HELIUS / name).read_text())


def wallet_history() -> dict[str, dict[str, Any]]:
    return {tx["signature"]: tx for tx in load("wallet_3JoVBiQE_20_transactions.json")}


def trimmed_swaps() -> list[dict[str, Any]]:
    data = load("swaps_by_source_with_and_without_swap_event.json")
    return data["with_swap_event"] + data["without_swap_event"]


def only_leg(legs: list[SwapLeg]) -> SwapLeg:
    assert len(legs) == 1, legs
    return legs[0]


# --- wallet_3JoVBiQE_20_transactions.json: 4 Raydium swaps -------------------------------------------------

RAYDIUM_SWAPS = [
    pytest.param(
        # wallet native +57,066,397 and it paid the 8,005,000 fee -> +65,071,397 lamports
        # (= 77,849,895 from the temporary WSOL account - 12,000,000 tip - 778,498 bot fee).
        # Token account DgLtaGw3: 2GaUUm -1,986,656,546,333 raw (6 decimals). USDC nets to zero (route hop).
        "5g5rkbqii8rkHfgC8CWLDB2bBzKeoXcqmjyFbMvxUW9xXEEHnFc1QRqiG9eEcxdmLk6XgjVpJRnwYqqbWZKg3eBP",
        "sell",
        (MEME_2GAU, 1_986_656_546_333),
        65_071_397,
        (349_787_167, 1_751_126_222),
        id="5g5rkbqi-sell-2GaU",
    ),
    pytest.param(
        # wallet native -2,022,044,280 + fee 8,005,000 = -2,014,039,280; of it 2,039,280 is rent the wallet
        # put into its new token account DgLtaGw3 (nativeTransfer wallet -> DgLtaGw3) -> cost 2,012,000,000
        # (= 1.98 SOL to the pool + 12,000,000 tip + 20,000,000 bot fee). 2GaUUm +1,986,656,546,333 raw.
        "4EeVbfsnYj9p9T4kwPJDKu2qi1PF9ixrFAgvs5kwZqBnssEUs1hpNBcfCV5iq3ZkzuZJo1Re3sWaanQRvMbb9fR",
        "buy",
        (MEME_2GAU, 1_986_656_546_333),
        2_012_000_000,
        (349_670_658, 1_751_079_925),
        id="4EeVbfsn-buy-2GaU",
    ),
    pytest.param(
        # wallet native +1,420,951,311 + fee 8,005,000 = 1,428,956,311
        # (= 1,455,511,425 - 12,000,000 tip - 14,555,114 bot fee). GLQf4ToN: B969 -1,367,512,598,399 raw.
        "2YQi9Dp4fW9vCuRgfUMQt5smTduQuSsg2ieeJno3XuejSabYWr9E2eWm9qFSQRgX9mWyQ7CrGQKk9HLoq27GQMfP",
        "sell",
        (MEME_B969, 1_367_512_598_399),
        1_428_956_311,
        (349_638_276, 1_751_067_104),
        id="2YQi9Dp4-sell-B969",
    ),
    pytest.param(
        # wallet native -2,022,044,280 + fee 8,005,000 + rent 2,039,280 into new GLQf4ToN = -2,012,000,000.
        "4TwWWRDtWvrSRhkxkDGTtgaHyqYfUnDbMX7W22g7CVVxJBKETz9DY98WtjsSSJ4pY2sivgJjC5FdxQ5sdSigo6XD",
        "buy",
        (MEME_B969, 1_367_512_598_399),
        2_012_000_000,
        (349_634_414, 1_751_065_577),
        id="4TwWWRDt-buy-B969",
    ),
]


@pytest.mark.parametrize(("signature", "direction", "token", "lamports", "slot_and_time"), RAYDIUM_SWAPS)
def test_raydium_swaps_follow_balances_not_description(
    signature: str,
    direction: Direction,
    token: tuple[str, int],
    lamports: int,
    slot_and_time: tuple[int, int],
) -> None:
    tx = wallet_history()[signature]
    # The description always names the USDC hop ("swapped X USDC for Y SOL" or the reverse).
    assert "USDC" in tx["description"]
    leg = only_leg(extract_swaps(tx, WALLET_3JOV))
    assert leg == SwapLeg(
        signature=signature,
        slot=slot_and_time[0],
        timestamp=slot_and_time[1],
        mint=token[0],
        direction=direction,
        token_amount_raw=token[1],
        token_decimals=6,
        quote_mint=SOL_MINT,
        quote_amount_raw=lamports,
        quote_decimals=9,
        sol_value_lamports=lamports,
        usd_value=None,
        fee_lamports=RAYDIUM_FEE,
        source="RAYDIUM",
    )


def test_raydium_sells_are_memecoin_out_and_sol_in() -> None:
    history = wallet_history()
    for signature in ("5g5rkbqii8rkHfgC8CWL", "2YQi9Dp4fW9vCuRgfUMQ"):
        tx = next(tx for sig, tx in history.items() if sig.startswith(signature))
        # Helius names SOL as bought with USDC; the wallet's balances say memecoin out, SOL in.
        assert tx["description"].split(" swapped ")[1].endswith(" SOL")
        leg = only_leg(extract_swaps(tx, WALLET_3JOV))
        assert (leg.direction, leg.quote_mint) == ("sell", SOL_MINT)
        assert leg.mint not in (USDC_MINT, SOL_MINT)


TRANSFER_SIGNATURES = [sig for sig, tx in wallet_history().items() if tx["type"] == "TRANSFER"]


def test_history_has_sixteen_transfers() -> None:
    assert len(TRANSFER_SIGNATURES) == 16


@pytest.mark.parametrize("signature", TRANSFER_SIGNATURES, ids=lambda sig: sig[:8])
def test_transfers_produce_no_legs(signature: str) -> None:
    tx = wallet_history()[signature]
    assert extract_swaps(tx, WALLET_3JOV) == []
    assert extract_swaps(tx, tx["feePayer"]) == []


def test_airdrop_into_an_account_funded_by_the_sender_is_not_a_swap() -> None:
    tx = next(tx for tx in wallet_history().values() if tx["signature"].startswith("2PrmgVSsAQy5"))
    mine = [
        (entry["nativeBalanceChange"], change["rawTokenAmount"]["tokenAmount"])
        for entry in tx["accountData"]
        for change in entry["tokenBalanceChanges"]
        if change["userAccount"] == WALLET_3JOV
    ]
    # The wallet's new account got the token and 2,039,280 lamports of rent, paid by the sender EMPF9Buz.
    assert mine == [(RENT, "741905148")]
    assert extract_swaps(tx, WALLET_3JOV) == []


def test_wallet_history_counts() -> None:
    result = extract_wallet_swaps(load("wallet_3JoVBiQE_20_transactions.json"), WALLET_3JOV)
    assert (result.parsed, result.unparsed, result.skipped_failed) == (4, 0, 0)
    assert [(leg.signature[:8], leg.direction) for leg in result.legs] == [
        ("5g5rkbqi", "sell"),
        ("4EeVbfsn", "buy"),
        ("2YQi9Dp4", "sell"),
        ("4TwWWRDt", "buy"),
    ]


# --- single-transaction fixtures ----------------------------------------------------------------------------


def test_jupiter_swap_typed_unknown_is_extracted() -> None:
    [tx] = load("jupiter_swap_type_unknown.json")
    assert (tx["type"], tx["events"]) == ("UNKNOWN", {})
    wallet = tx["feePayer"]
    leg = only_leg(extract_swaps(tx, wallet))
    # wallet native -10,195 is exactly the fee -> 0; WSOL account BJqr: -52,708,178 raw, and its lamports
    # fell by the same amount (no rent). The temporary WSOL account ebh8 was created and closed: net 0.
    assert leg == SwapLeg(
        signature=tx["signature"],
        slot=367_689_024,
        timestamp=1_758_217_531,
        mint="7vfCXTUXx5WJV5JADk17DUJ4ksgau7utNKj4b963voxs",
        direction="buy",
        token_amount_raw=287_442,
        token_decimals=8,
        quote_mint=SOL_MINT,
        quote_amount_raw=52_708_178,
        quote_decimals=9,
        sol_value_lamports=52_708_178,
        usd_value=None,
        fee_lamports=10_195,
        source="UNKNOWN",
    )
    result = extract_wallet_swaps([tx], wallet)
    assert (result.parsed, result.unparsed) == (1, 0)


def test_swap_with_swap_event_uses_balances() -> None:
    tx = load("swap_sol_to_token_with_swap_event.json")
    leg = only_leg(extract_swaps(tx, tx["feePayer"]))
    # wallet native -101,034,732 + fee 1,034,732 = -100,000,000; JngLif: TWEET +9,354,889,794 raw (8 dec).
    # The 2,039,280 rent of the temporary WSOL account J4QE went out and came back in the same transaction.
    assert leg == SwapLeg(
        signature=tx["signature"],
        slot=255_296_024,
        timestamp=1_710_919_294,
        mint="3rsJxhSo1qpZZGsC5KTcTrwTBjxTRB34EmQ4B4DFg9t7",
        direction="buy",
        token_amount_raw=9_354_889_794,
        token_decimals=8,
        quote_mint=SOL_MINT,
        quote_amount_raw=100_000_000,
        quote_decimals=9,
        sol_value_lamports=100_000_000,
        usd_value=None,
        fee_lamports=1_034_732,
        source="JUPITER",
    )


# --- trimmed fixtures: no accountData, so nothing to extract as they are ---------------------------------


@pytest.mark.parametrize("tx", trimmed_swaps(), ids=lambda tx: f"{tx['source']}-{tx['signature'][:8]}")
def test_trimmed_swaps_without_account_data_give_no_legs(tx: dict[str, Any]) -> None:
    assert "accountData" not in tx
    assert extract_swaps(tx, WALLET_3JOV) == []


def test_trimmed_swaps_count_as_unparsed() -> None:
    result = extract_wallet_swaps(trimmed_swaps(), WALLET_3JOV)
    assert (result.legs, result.parsed, result.unparsed, result.skipped_failed) == ([], 0, 13, 0)


def test_trimmed_pump_amm_sell_gives_no_legs() -> None:
    tx = load("pump_amm_sell.json")
    assert "accountData" not in tx
    assert extract_swaps(tx, WALLET_3JOV) == []


# --- PUMP_AMM swaps rebuilt with the accountData Helius sends (fee, slot and WSOL accounts' life chosen) ---

PUMP_POOL = "FYkuC1aeHV5ZiaUh6wF7zuuvc3B5heHzwuerXLWwMU88"
NEXTBLOCK_TIP_ACCOUNT = "nEXTBLockYgngeRmRrjDV31mGSekVPqZoMGhQEZtPVG"
TIP = 12_000_000
PUMP_FEE = 105_000


def balance_entry(account: str, lamports: int, *changes: tuple[str, str, int, int]) -> dict[str, Any]:
    """An accountData entry; each change is (owner, mint, raw delta, decimals)."""
    return {
        "account": account,
        "nativeBalanceChange": lamports,
        "tokenBalanceChanges": [
            {
                "userAccount": owner,
                "tokenAccount": account,
                "rawTokenAmount": {"tokenAmount": str(raw), "decimals": decimals},
                "mint": mint,
            }
            for owner, mint, raw, decimals in changes
        ],
    }


def native(source: str, target: str, amount: int) -> dict[str, Any]:
    return {"fromUserAccount": source, "toUserAccount": target, "amount": amount}


def rebuilt_pump_amm_sell() -> dict[str, Any]:
    tx = load("pump_amm_sell.json")
    meme_out, sol_in, protocol_fee, creator_fee = tx["tokenTransfers"]
    wsol_account = sol_in["toTokenAccount"]  # the wallet's WSOL account, created and closed here
    proceeds = 2_201_676_608  # 2.201676608 WSOL
    fee_leg = 1_104_151  # 0.001104151 WSOL each, paid by the pool to two fee accounts
    tx.update(
        type="SWAP",
        fee=PUMP_FEE,
        feePayer=WALLET_3JOV,
        slot=347_000_000,
        timestamp=1_750_314_979,
        transactionError=None,
        events={},
        nativeTransfers=[
            native(WALLET_3JOV, wsol_account, RENT),
            native(wsol_account, WALLET_3JOV, proceeds + RENT),
            tx["nativeTransfers"],  # the tip, a single object in the trimmed file
        ],
        accountData=[
            balance_entry(WALLET_3JOV, -RENT + proceeds + RENT - TIP - PUMP_FEE),
            balance_entry(meme_out["fromTokenAccount"], 0, (WALLET_3JOV, PUMP_B91N, -561_218_676_075, 6)),
            balance_entry(wsol_account, 0),
            balance_entry(meme_out["toTokenAccount"], 0, (PUMP_POOL, PUMP_B91N, 561_218_676_075, 6)),
            balance_entry(
                sol_in["fromTokenAccount"],
                -(proceeds + 2 * fee_leg),
                (PUMP_POOL, SOL_MINT, -(proceeds + 2 * fee_leg), 9),
            ),
            balance_entry(
                protocol_fee["toTokenAccount"],
                fee_leg,
                (protocol_fee["toUserAccount"], SOL_MINT, fee_leg, 9),
            ),
            balance_entry(
                creator_fee["toTokenAccount"], fee_leg, (creator_fee["toUserAccount"], SOL_MINT, fee_leg, 9)
            ),
            balance_entry(NEXTBLOCK_TIP_ACCOUNT, TIP),
        ],
    )
    return tx


def test_pump_amm_sell_excludes_the_pools_fee_legs() -> None:
    tx = rebuilt_pump_amm_sell()
    leg = only_leg(extract_swaps(tx, WALLET_3JOV))
    # 561,218.676075 tokens (6 decimals) out; 2,201,676,608 lamports in through the temporary WSOL account,
    # minus the 12,000,000 tip. The 2 x 1,104,151 protocol/creator fees went from the pool, not the wallet.
    assert (leg.direction, leg.mint, leg.token_amount_raw, leg.token_decimals) == (
        "sell",
        PUMP_B91N,
        561_218_676_075,
        6,
    )
    assert (leg.quote_mint, leg.quote_amount_raw, leg.sol_value_lamports) == (
        SOL_MINT,
        2_189_676_608,
        2_189_676_608,
    )
    assert (leg.fee_lamports, leg.source, leg.usd_value) == (PUMP_FEE, "PUMP_AMM", None)


def rebuilt_pump_amm_buy() -> dict[str, Any]:
    tx = next(t for t in trimmed_swaps() if t["signature"].startswith("5k9gGESAP5rFRBgdxNwS"))
    meme_in, sol_out, protocol_fee, creator_fee = tx["tokenTransfers"]
    meme_account = meme_in["toTokenAccount"]  # created by this buy
    wsol_account = sol_out["fromTokenAccount"]  # the wallet's long-lived WSOL account
    to_pool, fee_leg = 1_978_025_920, 987_039  # 1.97802592 and 0.000987039 WSOL
    wsol_spent = to_pool + 2 * fee_leg
    tx.update(
        fee=PUMP_FEE,
        feePayer=WALLET_3JOV,
        slot=346_000_000,
        transactionError=None,
        nativeTransfers=[
            native(WALLET_3JOV, meme_account, RENT),
            native(WALLET_3JOV, NEXTBLOCK_TIP_ACCOUNT, TIP),
        ],
        accountData=[
            balance_entry(WALLET_3JOV, -RENT - TIP - PUMP_FEE),
            balance_entry(meme_account, RENT, (WALLET_3JOV, PUMP_B91N, 561_218_676_075, 6)),
            balance_entry(wsol_account, -wsol_spent, (WALLET_3JOV, SOL_MINT, -wsol_spent, 9)),
            balance_entry(meme_in["fromTokenAccount"], 0, (PUMP_POOL, PUMP_B91N, -561_218_676_075, 6)),
            balance_entry(sol_out["toTokenAccount"], to_pool, (PUMP_POOL, SOL_MINT, to_pool, 9)),
            balance_entry(
                protocol_fee["toTokenAccount"], fee_leg, (protocol_fee["toUserAccount"], SOL_MINT, fee_leg, 9)
            ),
            balance_entry(
                creator_fee["toTokenAccount"], fee_leg, (creator_fee["toUserAccount"], SOL_MINT, fee_leg, 9)
            ),
            balance_entry(NEXTBLOCK_TIP_ACCOUNT, TIP),
        ],
    )
    return tx


def test_pump_amm_buy_counts_fee_legs_the_wallet_paid_but_not_rent() -> None:
    leg = only_leg(extract_swaps(rebuilt_pump_amm_buy(), WALLET_3JOV))
    # WSOL out 1,978,025,920 + 2 x 987,039 fee legs = 1,979,999,998, plus the 12,000,000 tip; the 2,039,280
    # rent of the new token account is a deposit, not a cost.
    assert (leg.direction, leg.mint, leg.token_amount_raw) == ("buy", PUMP_B91N, 561_218_676_075)
    assert (leg.quote_amount_raw, leg.sol_value_lamports, leg.fee_lamports) == (
        1_991_999_998,
        1_991_999_998,
        PUMP_FEE,
    )


def test_rent_is_assumed_paid_by_the_wallet_when_native_transfers_are_missing() -> None:
    tx = rebuilt_pump_amm_buy()
    del tx["nativeTransfers"]
    assert only_leg(extract_swaps(tx, WALLET_3JOV)).quote_amount_raw == 1_991_999_998


# --- failed transactions ------------------------------------------------------------------------------------


def test_failed_transaction_gives_no_legs() -> None:
    tx = dict(
        wallet_history()[
            "4EeVbfsnYj9p9T4kwPJDKu2qi1PF9ixrFAgvs5kwZqBnssEUs1hpNBcfCV5iq3ZkzuZJo1Re3sWaanQRvMbb9fR"
        ]
    )
    tx["transactionError"] = {"InstructionError": [3, {"Custom": 6001}]}
    assert extract_swaps(tx, WALLET_3JOV) == []
    result = extract_wallet_swaps([tx], WALLET_3JOV)
    assert (result.legs, result.parsed, result.unparsed, result.skipped_failed) == ([], 0, 0, 1)


# --- hand-built transactions for shapes the fixtures lack ---------------------------------------------------

TRADER = "Trader"
POOL_A, POOL_B = "PoolA", "PoolB"
TOKEN_A, TOKEN_B = "TokenA", "TokenB"
BASE_FEE = 5_000


def swap_tx(
    account_data: list[dict[str, Any]],
    *,
    token_transfers: list[dict[str, Any]] | None = None,
    native_transfers: list[dict[str, Any]] | None = None,
    fee_payer: str = TRADER,
    type_: str = "SWAP",
) -> dict[str, Any]:
    return {
        "signature": "HandBuilt",
        "slot": 1,
        "timestamp": 2,
        "type": type_,
        "source": "JUPITER",
        "fee": BASE_FEE,
        "feePayer": fee_payer,
        "transactionError": None,
        "accountData": account_data,
        "tokenTransfers": token_transfers or [],
        "nativeTransfers": native_transfers or [],
        "events": {},
    }


def token_transfer(source: str, target: str, mint: str, ui_amount: float) -> dict[str, Any]:
    return {"fromUserAccount": source, "toUserAccount": target, "mint": mint, "tokenAmount": ui_amount}


def trader_side_of_a_to_b() -> list[dict[str, Any]]:
    return [
        balance_entry(TRADER, -BASE_FEE),
        balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, -1_000_000_000, 6)),
        balance_entry("TraderTokenB", 0, (TRADER, TOKEN_B, 5_000_000_000_000, 9)),
    ]


def test_token_to_token_is_a_sell_and_a_buy_valued_by_the_sol_hop() -> None:
    tx = swap_tx(
        [
            *trader_side_of_a_to_b(),
            balance_entry("PoolAVaultA", 0, (POOL_A, TOKEN_A, 1_000_000_000, 6)),
            balance_entry("PoolAVaultSol", -500_000_000, (POOL_A, SOL_MINT, -500_000_000, 9)),
            balance_entry("PoolBVaultSol", 500_000_000, (POOL_B, SOL_MINT, 500_000_000, 9)),
            balance_entry("PoolBVaultB", 0, (POOL_B, TOKEN_B, -5_000_000_000_000, 9)),
        ]
    )
    sell, buy = extract_swaps(tx, TRADER)
    # Pool A paid 500,000,000 lamports of WSOL into the route: that values both sides.
    assert (sell.direction, sell.mint, sell.token_amount_raw, sell.token_decimals) == (
        "sell",
        TOKEN_A,
        10**9,
        6,
    )
    assert (buy.direction, buy.mint, buy.token_amount_raw, buy.token_decimals) == (
        "buy",
        TOKEN_B,
        5 * 10**12,
        9,
    )
    for leg in (sell, buy):
        assert (leg.quote_mint, leg.quote_amount_raw, leg.quote_decimals) == (SOL_MINT, 500_000_000, 9)
        assert (leg.sol_value_lamports, leg.usd_value) == (500_000_000, None)
    assert (sell.fee_lamports, buy.fee_lamports) == (BASE_FEE, 0)


def test_token_to_token_falls_back_to_the_route_transfers() -> None:
    tx = swap_tx(
        trader_side_of_a_to_b(),
        token_transfers=[
            token_transfer(TRADER, POOL_A, TOKEN_A, 1000.0),
            token_transfer(POOL_A, POOL_B, SOL_MINT, 0.5),
            token_transfer(POOL_B, TRADER, TOKEN_B, 5000.0),
        ],
    )
    sell, buy = extract_swaps(tx, TRADER)
    assert (sell.sol_value_lamports, buy.sol_value_lamports) == (500_000_000, 500_000_000)


def test_token_to_token_through_usdc_is_valued_in_usd() -> None:
    tx = swap_tx(
        [
            *trader_side_of_a_to_b(),
            balance_entry("PoolAVaultUsdc", 0, (POOL_A, USDC_MINT, -25_000_000, 6)),
            balance_entry("PoolBVaultUsdc", 0, (POOL_B, USDC_MINT, 25_000_000, 6)),
        ]
    )
    for leg in extract_swaps(tx, TRADER):
        assert (leg.quote_mint, leg.quote_amount_raw, leg.quote_decimals) == (USDC_MINT, 25_000_000, 6)
        assert (leg.usd_value, leg.sol_value_lamports) == (25.0, None)


def test_token_to_token_without_intermediary_has_no_value() -> None:
    sell, buy = extract_swaps(swap_tx(trader_side_of_a_to_b()), TRADER)
    for leg in (sell, buy):
        assert (leg.quote_mint, leg.quote_amount_raw, leg.quote_decimals) == (None, 0, 0)
        assert (leg.sol_value_lamports, leg.usd_value) == (None, None)


def test_stablecoin_quote_wins_over_a_sol_tip() -> None:
    tx = swap_tx(
        [
            balance_entry(TRADER, -TIP - BASE_FEE),
            balance_entry("TraderUsdc", 0, (TRADER, USDC_MINT, -100_000_000, 6)),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, 42_000_000, 6)),
        ]
    )
    leg = only_leg(extract_swaps(tx, TRADER))
    assert (leg.direction, leg.quote_mint, leg.quote_amount_raw, leg.quote_decimals) == (
        "buy",
        USDC_MINT,
        100_000_000,
        6,
    )
    assert (leg.usd_value, leg.sol_value_lamports, leg.fee_lamports) == (100.0, None, BASE_FEE)


def test_stablecoin_quote_is_valued_in_sol_by_its_route() -> None:
    tx = swap_tx(
        [
            balance_entry(TRADER, -BASE_FEE),
            balance_entry("TraderUsdc", 0, (TRADER, USDC_MINT, -100_000_000, 6)),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, 42_000_000, 6)),
            balance_entry("PoolAVaultUsdc", 0, (POOL_A, USDC_MINT, 100_000_000, 6)),
            balance_entry("PoolAVaultSol", -700_000_000, (POOL_A, SOL_MINT, -700_000_000, 9)),
            balance_entry("PoolBVaultSol", 700_000_000, (POOL_B, SOL_MINT, 700_000_000, 9)),
            balance_entry("PoolBVaultA", 0, (POOL_B, TOKEN_A, -42_000_000, 6)),
        ]
    )
    leg = only_leg(extract_swaps(tx, TRADER))
    assert (leg.quote_mint, leg.usd_value, leg.sol_value_lamports) == (USDC_MINT, 100.0, 700_000_000)


def test_several_tokens_bought_share_the_sol_by_what_each_pool_received() -> None:
    tx = swap_tx(
        [
            balance_entry(TRADER, -300_000_000 - 100_000_000 - BASE_FEE),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, 1_000, 6)),
            balance_entry("TraderTokenB", 0, (TRADER, TOKEN_B, 2_000, 6)),
        ],
        token_transfers=[
            token_transfer(POOL_A, TRADER, TOKEN_A, 0.001),
            token_transfer(POOL_B, TRADER, TOKEN_B, 0.002),
        ],
        native_transfers=[native(TRADER, POOL_A, 300_000_000), native(TRADER, POOL_B, 100_000_000)],
    )
    leg_a, leg_b = extract_swaps(tx, TRADER)
    assert (leg_a.mint, leg_a.quote_amount_raw, leg_a.fee_lamports) == (TOKEN_A, 300_000_000, BASE_FEE)
    assert (leg_b.mint, leg_b.quote_amount_raw, leg_b.fee_lamports) == (TOKEN_B, 100_000_000, 0)


def test_several_tokens_without_matching_transfers_split_equally_and_exactly() -> None:
    tx = swap_tx(
        [
            balance_entry(TRADER, -400_000_001 - BASE_FEE),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, 1_000, 6)),
            balance_entry("TraderTokenB", 0, (TRADER, TOKEN_B, 2_000, 6)),
        ]
    )
    legs = extract_swaps(tx, TRADER)
    assert [leg.quote_amount_raw for leg in legs] == [200_000_001, 200_000_000]
    assert [leg.sol_value_lamports for leg in legs] == [200_000_001, 200_000_000]


def test_rent_refunded_by_closing_the_sold_tokens_account_is_not_proceeds() -> None:
    tx = swap_tx(
        [
            balance_entry(TRADER, 900_000_000 + RENT - BASE_FEE),
            balance_entry("TraderTokenA", -RENT, (TRADER, TOKEN_A, -1_000_000, 6)),
        ],
        native_transfers=[native("TraderTokenA", TRADER, RENT), native(POOL_A, TRADER, 900_000_000)],
    )
    leg = only_leg(extract_swaps(tx, TRADER))
    assert (leg.direction, leg.quote_amount_raw, leg.fee_lamports) == ("sell", 900_000_000, BASE_FEE)


def test_wallet_not_paying_the_fee_has_no_fee_and_a_fee_free_quote() -> None:
    tx = swap_tx(
        [
            balance_entry(TRADER, -250_000_000),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, 1_000, 6)),
        ],
        fee_payer="Relayer",
    )
    leg = only_leg(extract_swaps(tx, TRADER))
    assert (leg.quote_amount_raw, leg.fee_lamports) == (250_000_000, 0)


@pytest.mark.parametrize("spam_lamports", [1, 100, SOL_DUST_LAMPORTS])
def test_dust_sol_against_a_token_transfer_is_not_a_sale(spam_lamports: int) -> None:
    tx = swap_tx(
        [
            balance_entry(TRADER, spam_lamports),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, -1_000, 6)),
        ],
        fee_payer="Sender",
        type_="TRANSFER",
    )
    assert extract_swaps(tx, TRADER) == []


def test_sol_to_usdc_conversion_has_no_token_legs_and_counts_unparsed() -> None:
    tx = swap_tx(
        [
            balance_entry(TRADER, -1_000_000_000 - BASE_FEE),
            balance_entry("TraderUsdc", 0, (TRADER, USDC_MINT, 150_000_000, 6)),
        ]
    )
    assert extract_swaps(tx, TRADER) == []
    assert extract_wallet_swaps([tx], TRADER).unparsed == 1


def test_malformed_transaction_is_counted_not_raised() -> None:
    broken = swap_tx([{"account": "TraderTokenA", "tokenBalanceChanges": [{"userAccount": TRADER}]}])
    with pytest.raises(KeyError):
        extract_swaps(broken, TRADER)
    good = swap_tx(
        [
            balance_entry(TRADER, -250_000_000 - BASE_FEE),
            balance_entry("TraderTokenA", 0, (TRADER, TOKEN_A, 1_000, 6)),
        ]
    )
    result = extract_wallet_swaps([broken, good], TRADER)
    assert (result.parsed, result.unparsed, result.skipped_failed) == (1, 1, 0)
    assert [leg.quote_amount_raw for leg in result.legs] == [250_000_000]
