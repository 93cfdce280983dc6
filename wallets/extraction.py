"""Swap legs of one wallet from Helius enhanced transactions (SPEC §6.1). No Django, no Redis.

Only balance deltas are trusted: `description` and `events.swap` are missing for many sources and name the
wrong assets on routed swaps, and `tokenTransfers` carry float UI amounts (WSOL sometimes in lamports).

Per transaction, from `accountData`:

* Token change per mint: the sum of `tokenBalanceChanges` whose `userAccount` is the wallet, as exact raw
  integers with their decimals. A mint held in several token accounts is summed.
* SOL change: the wallet's own `nativeBalanceChange`, plus the network fee when the wallet is `feePayer`
  (the fee is reported on the first leg instead), plus the wallet's WSOL token change (wrapped SOL is SOL),
  plus the rent correction below. Everything else that left or reached the wallet stays in: tips and bot or
  protocol fees the wallet paid are part of what the trade cost it.
* Rent: creating a token account moves ~0.00204 SOL (2,039,280 lamports for a plain SPL account, more for
  Token-2022 extensions) from its funder into the new account; closing it sends the rent back. That is a
  deposit, not a cost. The wallet's token accounts are the `accountData` entries holding one of its
  `tokenBalanceChanges`; the part of such an entry's `nativeBalanceChange` that is not its WSOL balance
  change is rent. Rent is added back (deposit) or taken out (refund) only as far as `nativeTransfers` show it
  going between that account and the wallet itself, so an account funded by someone else (an airdrop that
  creates the wallet's account) does not look like SOL received. Temporary WSOL accounts created and closed
  in the same transaction net to zero on their own. When `nativeTransfers` is not a list the funder cannot be
  known and the wallet is assumed to be it, which is what swaps do. Known limit: an already-empty account
  closed without a token balance change is not recognised as the wallet's, so its refund counts as SOL.

Classification, with WSOL merged into SOL and USDC/USDT held apart as quote assets:

* Tokens in and a quote asset out = buys; tokens out and a quote asset in = sells. A USDC/USDT change of
  at least 0.01 against the tokens is preferred over SOL: routers net intermediaries to zero, so a net
  stablecoin change is the payment, while SOL also carries tips and bot fees in the buy direction. Otherwise
  SOL is the quote when its change against the tokens is beyond dust (SOL_DUST_LAMPORTS). Stablecoin-quoted
  legs are valued in SOL by the intermediary SOL leg of their route when there is one.
* Tokens out and other tokens in = sells and buys both valued by the route's intermediary leg: the SOL (else
  USDC, USDT) paid out by accounts other than the wallet, from exact `accountData` deltas, else from
  `tokenTransfers`. The wallet's own quote changes are ignored there: they are tips and fees, not a price.
  Without an intermediary the legs have no quote and no SOL value.
* Several tokens on one side share the quote in proportion to the quote each token's counterparties paid
  or received in the transfers (a pool is the same user account for both assets), in equal parts when
  that cannot be matched; shares are integers summing exactly to the quote.
* No quote against the tokens (transfers, airdrops), only quote assets moving (SOL <-> USDC), failed
  transactions, or no `accountData` at all: no legs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from wallets.swaps import SOL_DECIMALS, SOL_MINT, STABLE_MINTS, USDC_MINT, USDT_MINT, Direction, SwapLeg

logger = logging.getLogger(__name__)

# Smaller SOL moves are spam deposits or rounding, never a price (2x the base network fee).
SOL_DUST_LAMPORTS = 10_000
_STABLES_BY_PREFERENCE = (USDC_MINT, USDT_MINT)
_INTERMEDIARY_PREFERENCE = (SOL_MINT, USDC_MINT, USDT_MINT)
_QUOTE_DECIMALS = {SOL_MINT: SOL_DECIMALS, USDC_MINT: 6, USDT_MINT: 6}


@dataclass(frozen=True, slots=True)
class ExtractionResult:
    legs: list[SwapLeg]
    parsed: int  # transactions that produced legs
    unparsed: int  # swaps (typed SWAP or with events.swap) that produced none, and unreadable transactions
    skipped_failed: int


class _Quote(NamedTuple):
    mint: str | None
    amount_raw: int
    decimals: int
    sol_lamports: int | None


class _TokenMove(NamedTuple):
    mint: str
    amount_raw: int  # > 0, whichever the direction
    decimals: int


_NO_QUOTE = _Quote(None, 0, 0, None)


def extract_swaps(tx: Mapping[str, Any], wallet: str) -> list[SwapLeg]:
    """The wallet's legs in one transaction, sells first. Malformed data raises Key/Type/ValueError."""
    if tx.get("transactionError") is not None:
        return []
    changes = _wallet_changes(tx, wallet)
    if changes is None:
        return []
    sol_lamports, tokens = changes
    stables = {mint: tokens.pop(mint) for mint in _STABLES_BY_PREFERENCE if mint in tokens}
    sold = [_TokenMove(mint, -raw, decimals) for mint, (raw, decimals) in tokens.items() if raw < 0]
    bought = [_TokenMove(mint, raw, decimals) for mint, (raw, decimals) in tokens.items() if raw > 0]
    quote: _Quote | None
    if sold and bought:
        quote = _intermediary_quote(tx, wallet)
    elif sold or bought:
        quote = _wallet_quote(tx, wallet, 1 if sold else -1, sol_lamports, stables)
    else:
        quote = None
    if quote is None:
        return []
    fee = int(tx.get("fee") or 0) if tx.get("feePayer") == wallet else 0
    legs = _side_legs(tx, wallet, sold, direction="sell", quote=quote, fee_lamports=fee)
    legs += _side_legs(tx, wallet, bought, direction="buy", quote=quote, fee_lamports=0 if legs else fee)
    return legs


def extract_wallet_swaps(txs: Iterable[Mapping[str, Any]], wallet: str) -> ExtractionResult:
    """Legs of many transactions with counts; an unreadable transaction is logged and counted unparsed."""
    legs: list[SwapLeg] = []
    parsed = unparsed = skipped_failed = 0
    for tx in txs:
        if tx.get("transactionError") is not None:
            skipped_failed += 1
            continue
        try:
            tx_legs = extract_swaps(tx, wallet)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            logger.warning("Unreadable transaction %s for wallet %s: %r", tx.get("signature"), wallet, exc)
            unparsed += 1
            continue
        if tx_legs:
            legs.extend(tx_legs)
            parsed += 1
        elif tx.get("type") == "SWAP" or (tx.get("events") or {}).get("swap"):
            unparsed += 1
    return ExtractionResult(legs=legs, parsed=parsed, unparsed=unparsed, skipped_failed=skipped_failed)


def _wallet_changes(tx: Mapping[str, Any], wallet: str) -> tuple[int, dict[str, list[int]]] | None:
    """(SOL change in lamports, network fee and rent taken out; {mint: [raw change, decimals]}) or None."""
    account_data = tx.get("accountData")
    if not account_data:
        return None
    native = 0
    tokens: dict[str, list[int]] = {}
    rent_by_account: dict[str, int] = {}
    for entry in account_data:
        account = entry.get("account")
        lamports = entry.get("nativeBalanceChange") or 0
        if account == wallet:
            native += lamports
        changes = entry.get("tokenBalanceChanges")
        if not changes:
            continue
        owned = False
        wrapped = 0
        for change in changes:
            if change.get("userAccount") != wallet:
                continue
            owned = True
            amount = change["rawTokenAmount"]
            raw = int(amount["tokenAmount"])
            mint = change["mint"]
            if mint == SOL_MINT:
                wrapped += raw
            held = tokens.get(mint)
            if held is None:
                tokens[mint] = [raw, int(amount["decimals"])]
            else:
                held[0] += raw
        if owned and account != wallet and lamports != wrapped:
            rent_by_account[account] = rent_by_account.get(account, 0) + lamports - wrapped
    wrapped_sol = tokens.pop(SOL_MINT, None)
    sol = native + (wrapped_sol[0] if wrapped_sol else 0)
    if tx.get("feePayer") == wallet:
        sol += tx.get("fee") or 0
    if rent_by_account:
        sol += _rent_paid_by_wallet(tx, wallet, rent_by_account)
    return int(sol), tokens


def _rent_paid_by_wallet(tx: Mapping[str, Any], wallet: str, rent_by_account: Mapping[str, int]) -> int:
    """Rent the wallet deposited into its token accounts minus rent they refunded to it (see module doc)."""
    transfers = tx.get("nativeTransfers")
    if not isinstance(transfers, list):
        return sum(rent_by_account.values())
    sent: dict[str, int] = {}
    received: dict[str, int] = {}
    for transfer in transfers:
        source, target = transfer.get("fromUserAccount"), transfer.get("toUserAccount")
        amount = transfer.get("amount") or 0
        if source == wallet and target in rent_by_account:
            sent[target] = sent.get(target, 0) + amount
        elif target == wallet and source in rent_by_account:
            received[source] = received.get(source, 0) + amount
    correction = 0
    for account, rent in rent_by_account.items():
        if rent > 0:
            correction += min(rent, sent.get(account, 0))
        else:
            correction -= min(-rent, received.get(account, 0))
    return correction


def _wallet_quote(
    tx: Mapping[str, Any], wallet: str, sign: int, sol_lamports: int, stables: Mapping[str, list[int]]
) -> _Quote | None:
    """The quote asset moving against the tokens: sign +1 wants an inflow (sells), -1 an outflow (buys)."""
    for mint, (raw, decimals) in stables.items():
        if raw * sign >= max(1, 10 ** (decimals - 2)):
            route_sol = _intermediary_payouts(tx, wallet).get(SOL_MINT)
            return _Quote(mint, raw * sign, decimals, route_sol[0] if route_sol else None)
    if sol_lamports * sign > SOL_DUST_LAMPORTS:
        return _Quote(SOL_MINT, sol_lamports * sign, SOL_DECIMALS, sol_lamports * sign)
    return None


def _intermediary_quote(tx: Mapping[str, Any], wallet: str) -> _Quote:
    payouts = _intermediary_payouts(tx, wallet)
    for mint in _INTERMEDIARY_PREFERENCE:
        if mint in payouts:
            raw, decimals = payouts[mint]
            return _Quote(mint, raw, decimals, raw if mint == SOL_MINT else None)
    return _NO_QUOTE


def _intermediary_payouts(tx: Mapping[str, Any], wallet: str) -> dict[str, tuple[int, int]]:
    """Quote assets paid out by accounts other than the wallet's: the middle leg of a routed swap."""
    payouts: dict[str, tuple[int, int]] = {}
    for entry in tx.get("accountData") or ():
        for change in entry.get("tokenBalanceChanges") or ():
            mint = change.get("mint")
            if mint not in _QUOTE_DECIMALS or change.get("userAccount") == wallet:
                continue
            amount = change["rawTokenAmount"]
            raw = int(amount["tokenAmount"])
            if raw < 0:
                paid, _ = payouts.get(mint, (0, 0))
                payouts[mint] = (paid - raw, int(amount["decimals"]))
    if payouts:
        return payouts
    # Payloads without the pools' balances (trimmed or synthetic) still list the route's transfers.
    for transfer in tx.get("tokenTransfers") or ():
        mint = transfer.get("mint")
        if mint not in _QUOTE_DECIMALS or transfer.get("fromUserAccount") in (wallet, "", None):
            continue
        decimals = _QUOTE_DECIMALS[mint]
        paid, _ = payouts.get(mint, (0, 0))
        payouts[mint] = (paid + _ui_to_raw(transfer.get("tokenAmount"), decimals), decimals)
    return {mint: paid for mint, paid in payouts.items() if paid[0] > 0}


def _side_legs(
    tx: Mapping[str, Any],
    wallet: str,
    moves: Sequence[_TokenMove],
    *,
    direction: Direction,
    quote: _Quote,
    fee_lamports: int,
) -> list[SwapLeg]:
    if not moves:
        return []
    weights = _counterparty_weights(tx, wallet, moves, direction, quote.mint) if len(moves) > 1 else [1]
    quote_shares = _shares(quote.amount_raw, weights)
    sol_shares: list[int | None] = (
        [None] * len(moves) if quote.sol_lamports is None else list(_shares(quote.sol_lamports, weights))
    )
    usd_unit = 10**quote.decimals if quote.mint in STABLE_MINTS else None
    signature = tx.get("signature") or ""
    slot = int(tx.get("slot") or 0)
    timestamp = int(tx.get("timestamp") or 0)
    source = tx.get("source") or "UNKNOWN"
    return [
        SwapLeg(
            signature=signature,
            slot=slot,
            timestamp=timestamp,
            mint=move.mint,
            direction=direction,
            token_amount_raw=move.amount_raw,
            token_decimals=move.decimals,
            quote_mint=quote.mint,
            quote_amount_raw=quote_share,
            quote_decimals=quote.decimals,
            sol_value_lamports=sol_share,
            usd_value=None if usd_unit is None else quote_share / usd_unit,
            fee_lamports=fee_lamports if index == 0 else 0,
            source=source,
        )
        for index, (move, quote_share, sol_share) in enumerate(
            zip(moves, quote_shares, sol_shares, strict=True)
        )
    ]


def _counterparty_weights(
    tx: Mapping[str, Any],
    wallet: str,
    moves: Sequence[_TokenMove],
    direction: Direction,
    quote_mint: str | None,
) -> list[int]:
    """Quote paid by (sells) or to (buys) the accounts each token was traded with; 0 when unmatched."""
    if quote_mint is None:
        return [0] * len(moves)
    selling = direction == "sell"
    counterparties: dict[str, set[str]] = {move.mint: set() for move in moves}
    flows: dict[str, int] = {}
    quote_decimals = _QUOTE_DECIMALS[quote_mint]
    for transfer in tx.get("tokenTransfers") or ():
        mint = transfer.get("mint")
        source, target = transfer.get("fromUserAccount"), transfer.get("toUserAccount")
        if mint in counterparties:
            if selling and source == wallet:
                counterparties[mint].add(target)
            elif not selling and target == wallet:
                counterparties[mint].add(source)
        elif mint == quote_mint:
            party = source if selling else target
            flows[party] = flows.get(party, 0) + _ui_to_raw(transfer.get("tokenAmount"), quote_decimals)
    native_transfers = tx.get("nativeTransfers")
    if quote_mint == SOL_MINT and isinstance(native_transfers, list):
        for transfer in native_transfers:
            party = transfer.get("fromUserAccount") if selling else transfer.get("toUserAccount")
            flows[party] = flows.get(party, 0) + (transfer.get("amount") or 0)
    return [
        sum(flows.get(party, 0) for party in counterparties[move.mint] if party != wallet) for move in moves
    ]


def _shares(total: int, weights: Sequence[int]) -> list[int]:
    """Integer parts of `total` in proportion to `weights` (equal when one is unknown), summing to `total`."""
    if len(weights) == 1:
        return [total]
    if min(weights) <= 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = [total * weight // whole for weight in weights]
    largest = max(range(len(weights)), key=weights.__getitem__)
    shares[largest] += total - sum(shares)
    return shares


def _ui_to_raw(amount: object, decimals: int) -> int:
    # str() first: the float's shortest repr is the decimal the API wrote, so no binary rounding creeps in.
    return int((Decimal(str(amount)) * 10**decimals).to_integral_value())
