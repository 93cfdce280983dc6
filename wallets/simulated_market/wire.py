"""Rendering: the market's transactions and balances in the upstreams' own wire formats.

What comes out matches the recorded payloads in the test fixtures:
- Helius enhanced transactions (`POST /v0/transactions` items): `type`, `source`, `fee`, `feePayer`,
  `tokenTransfers` (float UI amounts; WSOL sometimes in lamports on PUMP_AMM, as seen in the wild),
  `nativeTransfers`, and `accountData` with the exact raw balance changes of every account touched, which
  is what extraction trusts. Swaps on RAYDIUM and JUPITER get a `description`; JUPITER swaps an
  `events.swap`; failed swaps are typed UNKNOWN with the venue's slippage error and only the fee moved.
- RPC `getSignaturesForAddress` entries and `getTokenAccountsByOwner` (jsonParsed) entries.
- DexScreener `GET /tokens/v1/solana/{mints}` pair objects: the token as base, SOL as quote.

Native-SOL swaps wrap through a temporary WSOL account created and closed in the same transaction (its
balance nets to zero); wallets that keep a WSOL account pay or receive through it instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wallets.simulated_market.histories import (
    BUY,
    CREATE,
    FAILED,
    STABLE_IN,
    TRANSFER_IN,
    TRANSFER_OUT,
    Tx,
    wallet_native_change,
)
from wallets.simulated_market.prices import SOL_USD_PRICE
from wallets.simulated_market.universe import (
    ANCHOR_TS,
    BASE_FEE_LAMPORTS,
    COMPUTE_BUDGET_PROGRAM,
    JUPITER_PROGRAM,
    SPL_TOKEN_PROGRAM,
    SYSTEM_PROGRAM,
    TOKEN_2022_ACCOUNT_RENT,
    TOKEN_2022_PROGRAM,
    TOKEN_ACCOUNT_RENT,
    TOKEN_SUPPLY,
    VENUES,
    Pool,
    TokenInfo,
    Universe,
    slot_at,
    supply_raw,
)
from wallets.swaps import LAMPORTS_PER_SOL, SOL_DECIMALS, SOL_MINT, USDC_MINT

__all__ = ["U64_MAX_EPOCH", "USDC_DECIMALS", "Renderer", "ui_amount_string", "ui_token_amount"]

U64_MAX_EPOCH = 18_446_744_073_709_551_615
MINT_ACCOUNT_RENT = 1_461_600  # 82-byte mint account
CURVE_ACCOUNT_RENT = 1_231_920  # a launch pool's state account
USDC_DECIMALS = 6
_OWNED_ACCOUNT_CACHE = 50_000  # derived token-account addresses kept (~10 MB at most)
_SOL_PAIR_ADDRESS = "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"


class Renderer:
    """Wire formats for one universe: Helius transactions, RPC entries, DexScreener pairs."""

    def __init__(self, universe: Universe) -> None:
        self._universe = universe
        self._derive = universe.derive
        self._owned_accounts: dict[tuple[str, str], str] = {}

    # ------------------------------------------------------------------------------------------ addresses

    def token_account_address(self, owner: str, mint: str) -> str:
        """The owner's account for a mint; cached, since every swap of a wallet names the same few."""
        key = (owner, mint)
        address = self._owned_accounts.get(key)
        if address is None:
            if len(self._owned_accounts) >= _OWNED_ACCOUNT_CACHE:
                self._owned_accounts.clear()
            address = self._owned_accounts[key] = self._derive.address("ata", owner, mint)
        return address

    def wsol_account(self, owner: str) -> str:
        return self.token_account_address(owner, SOL_MINT)

    def usdc_account(self, owner: str) -> str:
        return self.token_account_address(owner, USDC_MINT)

    # ------------------------------------------------------------------------------------------ RPC

    def error(self, tx: Tx) -> dict[str, Any] | None:
        if tx.kind != FAILED:
            return None
        return {"InstructionError": [2, {"Custom": VENUES[tx.source].error_code}]}

    def signature_entry(self, tx: Tx, signature: str) -> dict[str, Any]:
        return {
            "blockTime": tx.ts,
            "confirmationStatus": "finalized",
            "err": self.error(tx),
            "memo": None,
            "signature": signature,
            "slot": slot_at(tx.ts),
        }

    def token_account(self, owner: str, mint: str, decimals: int, raw: int, program: str) -> dict[str, Any]:
        is_native = mint == SOL_MINT
        is_2022 = program == TOKEN_2022_PROGRAM
        rent = TOKEN_2022_ACCOUNT_RENT if is_2022 else TOKEN_ACCOUNT_RENT
        space = 170 if is_2022 else 165
        info: dict[str, Any] = {
            "isNative": is_native,
            "mint": mint,
            "owner": owner,
            "state": "initialized",
            "tokenAmount": ui_token_amount(raw, decimals),
        }
        if is_native:
            info["rentExemptReserve"] = ui_token_amount(rent, SOL_DECIMALS)
        return {
            "pubkey": self.wsol_account(owner) if is_native else self.token_account_address(owner, mint),
            "account": {
                "data": {
                    "program": "spl-token-2022" if is_2022 else "spl-token",
                    "parsed": {"info": info, "type": "account"},
                    "space": space,
                },
                "executable": False,
                "lamports": rent + raw if is_native else rent,
                "owner": program,
                "rentEpoch": U64_MAX_EPOCH,
                "space": space,
            },
        }

    # ------------------------------------------------------------------------------------------ DexScreener

    def token_pair(self, index: int) -> dict[str, Any]:
        universe = self._universe
        token = universe.tokens[index]
        path = universe.path(index)
        pool = universe.pool(index)
        price = path.price(ANCHOR_TS)
        rng = self._derive.rng("pair", index)
        market_cap_sol = price * TOKEN_SUPPLY
        quote_sol = min(market_cap_sol * rng.uniform(0.05, 0.2), 20_000.0)
        volume_h24 = quote_sol * SOL_USD_PRICE * rng.uniform(0.2, 8.0)
        changes = {
            label: round((price / path.price(ANCHOR_TS - seconds) - 1.0) * 100, 2)
            for label, seconds in (("m5", 300), ("h1", 3600), ("h6", 6 * 3600), ("h24", 86_400))
        }
        trades = max(1, int(volume_h24 / (SOL_USD_PRICE * 0.5)))
        txns = {
            label: {
                "buys": int(trades * share * rng.uniform(0.4, 0.6)),
                "sells": int(trades * share * rng.uniform(0.4, 0.6)),
            }
            for label, share in (("m5", 1 / 288), ("h1", 1 / 24), ("h6", 0.25), ("h24", 1.0))
        }
        volume = {
            label: round(volume_h24 * share, 2)
            for label, share in (("h24", 1.0), ("h6", 0.25), ("h1", 1 / 24), ("m5", 1 / 288))
        }
        return {
            "chainId": "solana",
            "dexId": VENUES[token.venue].dex_id,
            "url": f"https://dexscreener.com/solana/{pool.address.lower()}",
            "pairAddress": pool.address,
            "baseToken": {"address": token.mint, "name": token.name, "symbol": token.symbol},
            "quoteToken": {"address": SOL_MINT, "name": "Wrapped SOL", "symbol": "SOL"},
            "priceNative": _significant(price),
            "priceUsd": _significant(price * SOL_USD_PRICE),
            "txns": txns,
            "volume": volume,
            "priceChange": changes,
            "liquidity": {
                "usd": round(2 * quote_sol * SOL_USD_PRICE, 2),
                "base": round(quote_sol / price),
                "quote": round(quote_sol, 4),
            },
            "fdv": round(market_cap_sol * SOL_USD_PRICE),
            "marketCap": round(market_cap_sol * SOL_USD_PRICE),
            "pairCreatedAt": token.launch_ts * 1000,
            "info": {
                "imageUrl": f"https://dd.dexscreener.com/ds-data/tokens/solana/{token.mint}.png",
                "websites": [],
                "socials": [],
            },
        }

    def sol_pair(self) -> dict[str, Any]:
        pair = _SOL_PAIR_ADDRESS
        return {
            "chainId": "solana",
            "dexId": "raydium",
            "url": f"https://dexscreener.com/solana/{pair.lower()}",
            "pairAddress": pair,
            "baseToken": {"address": SOL_MINT, "name": "Wrapped SOL", "symbol": "SOL"},
            "quoteToken": {"address": USDC_MINT, "name": "USD Coin", "symbol": "USDC"},
            "priceNative": _significant(SOL_USD_PRICE, 7),
            "priceUsd": _significant(SOL_USD_PRICE, 5),
            "liquidity": {"usd": 14_247_194.46, "base": 47_490, "quote": 7_123_597},
            "pairCreatedAt": 1669602450000,
            "info": {"imageUrl": f"https://dd.dexscreener.com/ds-data/tokens/solana/{SOL_MINT}.png"},
        }

    def stable_pair(self, mint: str) -> dict[str, Any]:
        symbol = "USDC" if mint == USDC_MINT else "USDT"
        pair = self._derive.address("stable-pair", mint)
        return {
            "chainId": "solana",
            "dexId": "raydium",
            "url": f"https://dexscreener.com/solana/{pair.lower()}",
            "pairAddress": pair,
            "baseToken": {
                "address": mint,
                "name": "USD Coin" if symbol == "USDC" else "USDT",
                "symbol": symbol,
            },
            "quoteToken": {"address": SOL_MINT, "name": "Wrapped SOL", "symbol": "SOL"},
            "priceNative": _significant(1.0 / SOL_USD_PRICE),
            "priceUsd": "1.000",
            "liquidity": {
                "usd": 8_000_000.0,
                "base": 4_000_000,
                "quote": round(4_000_000 / SOL_USD_PRICE, 4),
            },
            "pairCreatedAt": 1669602450000,
            "info": {"imageUrl": f"https://dd.dexscreener.com/ds-data/tokens/solana/{mint}.png"},
        }

    # ------------------------------------------------------------------------------------------ Helius

    def transaction(self, wallet: str, tx: Tx, signature: str) -> dict[str, Any]:
        if tx.kind in (TRANSFER_IN, TRANSFER_OUT):
            return self._transfer(wallet, tx, signature)
        if tx.kind == STABLE_IN:
            return self._stable_deposit(wallet, tx, signature)
        if tx.kind == CREATE:
            return self._create(wallet, tx, signature)
        if tx.kind == FAILED:
            return self._failed(wallet, tx, signature)
        return self._swap(wallet, tx, signature)

    def _envelope(
        self, tx: Tx, signature: str, *, description: str, kind: str, fee_payer: str
    ) -> dict[str, Any]:
        return {
            "description": description,
            "type": kind,
            "source": tx.source,
            "fee": tx.fee,
            "feePayer": fee_payer,
            "signature": signature,
            "slot": slot_at(tx.ts),
            "timestamp": tx.ts,
            "tokenTransfers": [],
            "nativeTransfers": [],
            "accountData": [],
            "transactionError": self.error(tx),
            "instructions": [],
            "events": {},
        }

    def _transfer(self, wallet: str, tx: Tx, signature: str) -> dict[str, Any]:
        """A SOL transfer; the sender pays the fee, except an outgoing transfer the wallet paid no fee for
        (a heavy bot's sweep to its treasury, which co-signs and pays)."""
        incoming = tx.kind == TRANSFER_IN
        sender, receiver = (tx.counterparty, wallet) if incoming else (wallet, tx.counterparty)
        fee_payer = receiver if not incoming and tx.fee == 0 else sender
        amount = abs(tx.sol_delta)
        fee = BASE_FEE_LAMPORTS
        body = self._envelope(
            tx,
            signature,
            description=f"{sender} transferred {ui_amount_string(amount, SOL_DECIMALS)} SOL to {receiver}.",
            kind="TRANSFER",
            fee_payer=fee_payer,
        )
        body["fee"] = fee
        body["nativeTransfers"] = [{"fromUserAccount": sender, "toUserAccount": receiver, "amount": amount}]
        body["accountData"] = [
            _account(sender, -(amount + fee) if fee_payer == sender else -amount),
            _account(receiver, amount if fee_payer == sender else amount - fee),
            _account(SYSTEM_PROGRAM, 0),
        ]
        return body

    def _failed(self, wallet: str, tx: Tx, signature: str) -> dict[str, Any]:
        token = self._universe.tokens[tx.token]
        body = self._envelope(tx, signature, description="", kind="UNKNOWN", fee_payer=wallet)
        body["accountData"] = [
            _account(wallet, -tx.fee),
            _account(self.token_account_address(wallet, token.mint), 0),
            _account(COMPUTE_BUDGET_PROGRAM, 0),
            _account(VENUES[tx.source].program, 0),
            _account(token.mint, 0),
        ]
        return body

    def _swap(self, wallet: str, tx: Tx, signature: str) -> dict[str, Any]:
        token = self._universe.tokens[tx.token]
        pool = self._universe.pool(tx.token)
        buying = tx.kind == BUY
        quantity = abs(tx.token_delta)
        token_account = self.token_account_address(wallet, token.mint)
        quote = self._quote_side(wallet, tx, signature, pool)
        token_ui = ui_amount_string(quantity, token.decimals)
        description = ""
        if tx.source in ("RAYDIUM", "JUPITER"):
            spent, got = (
                (quote.ui, f"{token_ui} {token.symbol}")
                if buying
                else (f"{token_ui} {token.symbol}", quote.ui)
            )
            description = f"{wallet} swapped {spent} for {got}"
        body = self._envelope(tx, signature, description=description, kind="SWAP", fee_payer=wallet)
        token_from = (pool.authority, pool.token_vault) if buying else (wallet, token_account)
        token_to = (wallet, token_account) if buying else (pool.authority, pool.token_vault)
        body["tokenTransfers"] = [
            quote.transfer,
            _token_transfer(token_from, token_to, quantity / 10**token.decimals, token.mint),
        ]
        if not buying:
            body["tokenTransfers"].reverse()
        native_transfers = list(quote.native_transfers)
        if tx.rent_delta < 0:
            native_transfers.append(
                {"fromUserAccount": wallet, "toUserAccount": token_account, "amount": -tx.rent_delta}
            )
        elif tx.rent_delta > 0:
            native_transfers.append(
                {"fromUserAccount": token_account, "toUserAccount": wallet, "amount": tx.rent_delta}
            )
        if tx.tip:
            native_transfers.append(
                {"fromUserAccount": wallet, "toUserAccount": tx.tip_account, "amount": tx.tip}
            )
        body["nativeTransfers"] = native_transfers
        venue_program = VENUES[token.venue].program
        body["accountData"] = [
            _account(wallet, wallet_native_change(tx)),
            _account(
                token_account,
                -tx.rent_delta,
                _balance_change(wallet, token_account, token.mint, tx.token_delta, token.decimals),
            ),
            quote.wallet_entry,
            _account(
                pool.token_vault,
                0,
                _balance_change(
                    pool.authority, pool.token_vault, token.mint, -tx.token_delta, token.decimals
                ),
            ),
            quote.pool_entry,
            _account(pool.address, 0),
            *([_account(tx.tip_account, tx.tip)] if tx.tip else []),
            _account(COMPUTE_BUDGET_PROGRAM, 0),
            _account(SYSTEM_PROGRAM, 0),
            _account(token.program, 0),
            _account(venue_program, 0),
            *([_account(JUPITER_PROGRAM, 0)] if tx.source == "JUPITER" else []),
            _account(token.mint, 0),
            _account(quote.mint, 0),
        ]
        if tx.source == "JUPITER":
            body["events"] = {"swap": _swap_event(wallet, tx, token, token_account, quote)}
        return body

    def _quote_side(self, wallet: str, tx: Tx, signature: str, pool: Pool) -> _QuoteSide:
        """What moves against the tokens: native SOL (wrapped in a temporary WSOL account for the swap),
        the wallet's own WSOL account, or USDC between the wallet's USDC account and the pool's USDC vault."""
        buying = tx.kind == BUY
        if tx.stable:
            account = self.usdc_account(wallet)
            moved = -tx.quote_raw if buying else tx.quote_raw
            pool_side = (pool.authority, pool.usdc_vault)
            return _QuoteSide(
                mint=USDC_MINT,
                ui=f"{ui_amount_string(tx.quote_raw, USDC_DECIMALS)} USDC",
                transfer=_token_transfer(
                    (wallet, account) if buying else pool_side,
                    pool_side if buying else (wallet, account),
                    tx.quote_raw / 10**USDC_DECIMALS,
                    USDC_MINT,
                ),
                native_transfers=(),
                wallet_entry=_account(
                    account, 0, _balance_change(wallet, account, USDC_MINT, moved, USDC_DECIMALS)
                ),
                pool_entry=_account(
                    pool.usdc_vault,
                    0,
                    _balance_change(pool.authority, pool.usdc_vault, USDC_MINT, -moved, USDC_DECIMALS),
                ),
            )
        sol = abs(tx.sol_delta)
        # Native-SOL routes wrap into a temporary WSOL account that is closed within the same transaction.
        account = self.wsol_account(wallet) if tx.via_wsol else self._derive.address("tmp-wsol", signature)
        pool_side = (pool.authority, pool.sol_vault)
        native_transfers: tuple[dict[str, Any], ...] = ()
        if not tx.via_wsol:
            source, target = (wallet, account) if buying else (account, wallet)
            native_transfers = ({"fromUserAccount": source, "toUserAccount": target, "amount": sol},)
        wallet_entry = (
            _account(
                account, tx.sol_delta, _balance_change(wallet, account, SOL_MINT, tx.sol_delta, SOL_DECIMALS)
            )
            if tx.via_wsol
            else _account(account, 0)
        )
        return _QuoteSide(
            mint=SOL_MINT,
            ui=f"{ui_amount_string(sol, SOL_DECIMALS)} SOL",
            transfer=_token_transfer(
                (wallet, account) if buying else pool_side,
                pool_side if buying else (wallet, account),
                float(sol) if tx.wsol_in_lamports else sol / LAMPORTS_PER_SOL,
                SOL_MINT,
            ),
            native_transfers=native_transfers,
            wallet_entry=wallet_entry,
            pool_entry=_account(
                pool.sol_vault,
                -tx.sol_delta,
                _balance_change(pool.authority, pool.sol_vault, SOL_MINT, -tx.sol_delta, SOL_DECIMALS),
            ),
        )

    def _create(self, wallet: str, tx: Tx, signature: str) -> dict[str, Any]:
        """A pump.fun token creation signed by its creator: the mint and pool accounts are created (the
        creator pays their rent), the whole supply is minted to the pool, and the creator's first buy is
        made in the same transaction."""
        token = self._universe.tokens[tx.token]
        pool = self._universe.pool(tx.token)
        supply = supply_raw(token)
        creator_account = self.token_account_address(wallet, token.mint)
        spent, bought = -tx.sol_delta, tx.token_delta
        body = self._envelope(
            tx,
            signature,
            description=f"{wallet} created {token.symbol}",
            kind="CREATE",
            fee_payer=wallet,
        )
        body["tokenTransfers"] = [
            _token_transfer(
                ("", ""), (pool.authority, pool.token_vault), supply / 10**token.decimals, token.mint
            ),
            _token_transfer(
                (pool.authority, pool.token_vault),
                (wallet, creator_account),
                bought / 10**token.decimals,
                token.mint,
            ),
        ]
        body["nativeTransfers"] = [
            {"fromUserAccount": wallet, "toUserAccount": token.mint, "amount": MINT_ACCOUNT_RENT},
            {"fromUserAccount": wallet, "toUserAccount": pool.address, "amount": CURVE_ACCOUNT_RENT},
            {"fromUserAccount": wallet, "toUserAccount": pool.token_vault, "amount": TOKEN_ACCOUNT_RENT},
            {"fromUserAccount": wallet, "toUserAccount": creator_account, "amount": -tx.rent_delta},
            {"fromUserAccount": wallet, "toUserAccount": pool.address, "amount": spent},
        ]
        body["accountData"] = [
            _account(wallet, wallet_native_change(tx)),
            _account(
                creator_account,
                -tx.rent_delta,
                _balance_change(wallet, creator_account, token.mint, bought, token.decimals),
            ),
            _account(token.mint, MINT_ACCOUNT_RENT),
            _account(pool.address, CURVE_ACCOUNT_RENT + spent),
            _account(
                pool.token_vault,
                TOKEN_ACCOUNT_RENT,
                _balance_change(
                    pool.authority, pool.token_vault, token.mint, supply - bought, token.decimals
                ),
            ),
            _account(COMPUTE_BUDGET_PROGRAM, 0),
            _account(SYSTEM_PROGRAM, 0),
            _account(token.program, 0),
            _account(VENUES["PUMP_FUN"].program, 0),
        ]
        return body

    def _stable_deposit(self, wallet: str, tx: Tx, signature: str) -> dict[str, Any]:
        """USDC sent by an exchange, which pays the fee and the rent of the wallet's new USDC account."""
        exchange = tx.counterparty
        source_account = self._derive.address("ata", exchange, USDC_MINT)
        target_account = self.usdc_account(wallet)
        amount_ui = ui_amount_string(tx.quote_raw, USDC_DECIMALS)
        body = self._envelope(
            tx,
            signature,
            description=f"{exchange} transferred {amount_ui} USDC to {wallet}.",
            kind="TRANSFER",
            fee_payer=exchange,
        )
        body["tokenTransfers"] = [
            _token_transfer(
                (exchange, source_account),
                (wallet, target_account),
                tx.quote_raw / 10**USDC_DECIMALS,
                USDC_MINT,
            )
        ]
        body["nativeTransfers"] = [
            {"fromUserAccount": exchange, "toUserAccount": target_account, "amount": TOKEN_ACCOUNT_RENT}
        ]
        body["accountData"] = [
            _account(exchange, -(tx.fee + TOKEN_ACCOUNT_RENT)),
            _account(wallet, 0),
            _account(
                source_account,
                0,
                _balance_change(exchange, source_account, USDC_MINT, -tx.quote_raw, USDC_DECIMALS),
            ),
            _account(
                target_account,
                TOKEN_ACCOUNT_RENT,
                _balance_change(wallet, target_account, USDC_MINT, tx.quote_raw, USDC_DECIMALS),
            ),
            _account(SYSTEM_PROGRAM, 0),
            _account(SPL_TOKEN_PROGRAM, 0),
            _account(USDC_MINT, 0),
        ]
        return body


@dataclass(frozen=True, slots=True)
class _QuoteSide:
    mint: str
    ui: str  # amount and symbol, as the description shows them
    transfer: dict[str, Any]
    native_transfers: tuple[dict[str, Any], ...]
    wallet_entry: dict[str, Any]  # the wallet's account that pays or receives the quote
    pool_entry: dict[str, Any]


def _swap_event(
    wallet: str, tx: Tx, token: TokenInfo, token_account: str, quote: _QuoteSide
) -> dict[str, Any]:
    tokens = [_balance_change(wallet, token_account, token.mint, abs(tx.token_delta), token.decimals)]
    buying = tx.kind == BUY
    sol: dict[str, Any] | None = None
    if quote.mint == USDC_MINT:
        change = quote.wallet_entry["tokenBalanceChanges"][0]
        paid = {**change, "rawTokenAmount": {"tokenAmount": str(tx.quote_raw), "decimals": USDC_DECIMALS}}
        token_inputs, token_outputs = ([paid], tokens) if buying else (tokens, [paid])
    else:
        sol = {"account": wallet, "amount": str(abs(tx.sol_delta))}
        token_inputs, token_outputs = ([], tokens) if buying else (tokens, [])
    return {
        "nativeInput": sol if buying else None,
        "nativeOutput": None if buying else sol,
        "tokenInputs": token_inputs,
        "tokenOutputs": token_outputs,
        "nativeFees": [],
        "tokenFees": [],
        "innerSwaps": [],
    }


def ui_amount_string(raw: int, decimals: int) -> str:
    whole, fraction = divmod(abs(raw), 10**decimals)
    text = str(whole)
    if fraction:
        text += "." + str(fraction).rjust(decimals, "0").rstrip("0")
    return "-" + text if raw < 0 else text


def _significant(value: float, digits: int = 4) -> str:
    """DexScreener-style price string: a few significant digits, never scientific notation."""
    return format(Decimal(f"{value:.{digits}g}"), "f")


def ui_token_amount(raw: int, decimals: int) -> dict[str, Any]:
    """The RPC's token amount object: raw amount as a string, decimals, and the UI amount both ways."""
    return {
        "amount": str(raw),
        "decimals": decimals,
        "uiAmount": raw / 10**decimals,
        "uiAmountString": ui_amount_string(raw, decimals),
    }


def _account(address: str, native_change: int, *token_changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": address,
        "nativeBalanceChange": native_change,
        "tokenBalanceChanges": list(token_changes),
    }


def _balance_change(owner: str, account: str, mint: str, raw: int, decimals: int) -> dict[str, Any]:
    return {
        "userAccount": owner,
        "tokenAccount": account,
        "rawTokenAmount": {"tokenAmount": str(raw), "decimals": decimals},
        "mint": mint,
    }


def _token_transfer(
    source: tuple[str, str], target: tuple[str, str], amount: float, mint: str
) -> dict[str, Any]:
    return {
        "fromTokenAccount": source[1],
        "toTokenAccount": target[1],
        "fromUserAccount": source[0],
        "toUserAccount": target[0],
        "tokenAmount": amount,
        "mint": mint,
        "tokenStandard": "Fungible",
    }
