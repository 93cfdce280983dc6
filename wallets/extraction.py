"""Swap legs and chain records of one wallet from Helius enhanced transactions. No Django, no Redis.

Only balance deltas are trusted: `description` and `events.swap` are missing for many sources and name the
wrong assets on routed swaps, and `tokenTransfers` carry float UI amounts (WSOL sometimes in lamports).
The definitions below are the project's; docs/METHODS.md explains them for readers of the results.

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

* Liquidity operations are not trades and give no legs: the wallet receives a token minted in the same
  transaction (an LP or position token: across every account the mint's balances grew, by no more than twice
  what the wallet got) while other assets leave it, or sends a token burned in the same transaction while
  other assets reach it; or Helius types the transaction ADD_LIQUIDITY / WITHDRAW_LIQUIDITY. Stake-pool
  deposits and withdrawals (SOL in, a liquid-staking token minted) have the same shape and land here too.
* Tokens in and a quote asset out = buys; tokens out and a quote asset in = sells. A USDC/USDT change of
  at least 0.01 against the tokens is preferred over SOL: routers net intermediaries to zero, so a net
  stablecoin change is the payment, while SOL also carries tips and bot fees in the buy direction. Otherwise
  SOL is the quote when its change against the tokens is beyond dust (SOL_DUST_LAMPORTS). Stablecoin-quoted
  legs are valued in SOL by the intermediary SOL leg of their route when there is one.
* Tokens out and other tokens in = sells and buys, each side valued by its own counterparties: what the
  accounts that took the sold tokens paid the wallet, and what the wallet paid the accounts that gave it the
  bought tokens (SOL first, else USDC, else USDT). The two sides then add up to the wallet's own change in
  that asset: what is left over (tips, bot fees) goes to the buys' cost when the wallet paid it and to the
  sells' proceeds when it received it; a side with no counterparty payment is what balances the other. When
  no payment passes through the wallet at all (pool to pool routes), both sides are valued by the route's
  intermediary leg: the SOL (else USDC, USDT) paid out by accounts other than the wallet. Without either the
  legs have no quote and no SOL value.
* Several tokens on one side share the side's value in proportion to what each token's counterparties paid
  or received (a pool is the same user account for both assets), in equal parts when that cannot be matched;
  shares are integers summing exactly to the total.
* No quote against the tokens (transfers, airdrops), only quote assets moving (SOL <-> USDC), failed
  transactions, or no `accountData` at all: no legs.

Every transaction also gives a `ChainRecord` (kind, the fee the wallet paid, its SOL change and rent), so
failed transactions' fees are counted and the legs can be reconciled with the chain to the lamport.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from wallets.swaps import (
    SOL_DECIMALS,
    SOL_MINT,
    STABLE_MINTS,
    USDC_MINT,
    USDT_MINT,
    ChainKind,
    ChainRecord,
    Direction,
    LiquidityMove,
    SwapLeg,
)

logger = logging.getLogger(__name__)

# Smaller SOL moves are spam deposits or rounding, never a price (2x the base network fee).
SOL_DUST_LAMPORTS = 10_000
LIQUIDITY_TYPES = frozenset({"ADD_LIQUIDITY", "WITHDRAW_LIQUIDITY"})
_STABLES_BY_PREFERENCE = (USDC_MINT, USDT_MINT)
_INTERMEDIARY_PREFERENCE = (SOL_MINT, USDC_MINT, USDT_MINT)
_QUOTE_DECIMALS = {SOL_MINT: SOL_DECIMALS, USDC_MINT: 6, USDT_MINT: 6}


@dataclass(frozen=True, slots=True)
class ExtractionResult:
    legs: list[SwapLeg]
    parsed: int  # transactions that produced legs
    unparsed: int  # swaps (typed SWAP or with events.swap) that produced none, and unreadable transactions
    skipped_failed: int
    records: list[ChainRecord] = field(default_factory=list)  # one per transaction, failed ones included


class _Quote(NamedTuple):
    mint: str | None
    amount_raw: int
    decimals: int
    sol_lamports: int | None


class _TokenMove(NamedTuple):
    mint: str
    amount_raw: int  # > 0, whichever the direction
    decimals: int


@dataclass(slots=True)
class _WalletDelta:
    native: int  # the wallet account's own nativeBalanceChange (fee included)
    wrapped: int  # the wallet's WSOL token change
    fee: int  # fee the wallet paid as fee payer
    rent: int  # rent deposited into its own token accounts minus rent refunded
    tokens: dict[str, list[int]]  # mint -> [raw change, decimals], WSOL excluded

    @property
    def sol(self) -> int:
        """The SOL the wallet's trades moved: fee and rent taken out (what a SOL quote is measured by)."""
        return self.native + self.wrapped + self.fee + self.rent


_NO_QUOTE = _Quote(None, 0, 0, None)


def extract_swaps(tx: Mapping[str, Any], wallet: str) -> list[SwapLeg]:
    """The wallet's legs in one transaction, sells first. Malformed data raises Key/Type/ValueError."""
    legs, _ = extract_transaction(tx, wallet)
    return legs


def extract_transaction(
    tx: Mapping[str, Any], wallet: str, *, block_position: int = 0
) -> tuple[list[SwapLeg], ChainRecord]:
    """The wallet's legs (sells first) and the transaction's chain record. Malformed data raises."""
    signature = str(tx.get("signature") or "")
    slot = int(tx.get("slot") or 0)
    timestamp = int(tx.get("timestamp") or 0)
    fee = int(tx.get("fee") or 0) if tx.get("feePayer") == wallet else 0

    delta = _wallet_delta(tx, wallet, fee)
    kind: ChainKind = "other"
    liquidity: LiquidityMove | None = None
    legs: list[SwapLeg] = []
    if tx.get("transactionError") is not None:
        kind = "failed"
    elif delta is not None:
        tokens = delta.tokens
        stables = {mint: tokens[mint] for mint in _STABLES_BY_PREFERENCE if mint in tokens}
        sold = [
            _TokenMove(mint, -raw, decimals)
            for mint, (raw, decimals) in tokens.items()
            if raw < 0 and mint not in STABLE_MINTS
        ]
        bought = [
            _TokenMove(mint, raw, decimals)
            for mint, (raw, decimals) in tokens.items()
            if raw > 0 and mint not in STABLE_MINTS
        ]
        if (sold and bought) or tx.get("type") in LIQUIDITY_TYPES:
            liquidity = _liquidity_move(tx, wallet, delta, token_to_token=bool(sold and bought))
        if liquidity is not None:
            kind = "liquidity"
        elif sold or bought:
            context = _LegContext(
                signature, slot, timestamp, str(tx.get("source") or "UNKNOWN"), block_position
            )
            if sold and bought:
                legs = _token_to_token_legs(
                    tx, wallet, delta, stables, sold, bought=bought, context=context, fee=fee
                )
            else:
                quote = _wallet_quote(tx, wallet, 1 if sold else -1, delta.sol, stables)
                direction: Direction = "sell" if sold else "buy"
                if quote is not None:
                    legs = _finish(_side_legs(tx, wallet, sold or bought, direction, quote), context, fee)
            if legs:
                kind = "swap"
    if delta is None:
        return legs, ChainRecord(signature, slot, timestamp, kind, fee, -fee, 0, block_position, None)
    return legs, ChainRecord(
        signature,
        slot,
        timestamp,
        kind,
        fee,
        delta.native + delta.wrapped,
        delta.rent,
        block_position,
        liquidity,
    )


def extract_wallet_swaps(
    txs: Iterable[Mapping[str, Any]], wallet: str, *, positions: Mapping[str, int] | None = None
) -> ExtractionResult:
    """Legs and chain records of many transactions with counts; an unreadable transaction is logged and
    counted unparsed. `positions`: each signature's place among the wallet's transactions of its slot."""
    legs: list[SwapLeg] = []
    records: list[ChainRecord] = []
    parsed = unparsed = skipped_failed = 0
    block_positions = positions or {}
    for tx in txs:
        position = block_positions.get(str(tx.get("signature") or ""), 0) if block_positions else 0
        try:
            tx_legs, record = extract_transaction(tx, wallet, block_position=position)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            logger.warning("Unreadable transaction %s for wallet %s: %r", tx.get("signature"), wallet, exc)
            unparsed += 1
            records.append(_unreadable_record(tx, wallet, position))
            continue
        records.append(record)
        if record.kind == "failed":
            skipped_failed += 1
        elif tx_legs:
            legs.extend(tx_legs)
            parsed += 1
        elif record.kind == "other" and (tx.get("type") == "SWAP" or (tx.get("events") or {}).get("swap")):
            unparsed += 1
    return ExtractionResult(
        legs=legs, parsed=parsed, unparsed=unparsed, skipped_failed=skipped_failed, records=records
    )


def _unreadable_record(tx: Mapping[str, Any], wallet: str, position: int) -> ChainRecord:
    """A record that still counts the fee; the SOL change of an unreadable transaction is not trusted."""

    def number(value: Any) -> int:
        try:
            return int(value or 0)
        except (TypeError, ValueError):
            return 0

    fee = number(tx.get("fee")) if tx.get("feePayer") == wallet else 0
    return ChainRecord(
        signature=str(tx.get("signature") or ""),
        slot=number(tx.get("slot")),
        timestamp=number(tx.get("timestamp")),
        kind="unreadable",
        fee_lamports=fee,
        sol_change_lamports=-fee,
        rent_lamports=0,
        block_position=position,
    )


# ---------------------------------------------------------------------------------------------------------
# The wallet's changes
# ---------------------------------------------------------------------------------------------------------


def _wallet_delta(tx: Mapping[str, Any], wallet: str, fee: int) -> _WalletDelta | None:
    """The wallet's native, WSOL and token changes, rent and every mint's net change; None without data."""
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
            amount = change["rawTokenAmount"]
            raw = int(amount["tokenAmount"])
            mint = change["mint"]
            owned = True
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
    rent = _rent_paid_by_wallet(tx, wallet, rent_by_account) if rent_by_account else 0
    return _WalletDelta(int(native), wrapped_sol[0] if wrapped_sol else 0, fee, int(rent), tokens)


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


def _changes_of(tx: Mapping[str, Any], wallet: str, mints: Collection[str]) -> tuple[dict[str, int], ...]:
    """({mint: net change across every account}, {mint: received by other owners}, {mint: given by other
    owners}) for `mints` only: a second, narrow pass that swaps pay for only when the first pass found a
    liquidity-shaped transaction."""
    total: dict[str, int] = {}
    received: dict[str, int] = {}
    given: dict[str, int] = {}
    for entry in tx.get("accountData") or ():
        for change in entry.get("tokenBalanceChanges") or ():
            mint = change.get("mint")
            if mint not in mints:
                continue
            raw = int(change["rawTokenAmount"]["tokenAmount"])
            total[mint] = total.get(mint, 0) + raw
            if change.get("userAccount") != wallet:
                if raw > 0:
                    received[mint] = received.get(mint, 0) + raw
                else:
                    given[mint] = given.get(mint, 0) - raw
    return total, received, given


def _liquidity_move(
    tx: Mapping[str, Any], wallet: str, delta: _WalletDelta, *, token_to_token: bool
) -> LiquidityMove | None:
    """The liquidity operation the transaction is, or None (see the module doc for the rule).

    An LP token is minted to the wallet (or burned from it) while a pool account of another owner receives
    what the wallet put in (or pays what it took out). Requiring that counterpart keeps payloads that list
    only the wallet's own accounts, where every bought token would look minted, from counting as liquidity.
    Only token-to-token shaped transactions (a token in, another out, besides SOL and stablecoins) can be
    one: the narrow second pass over the balances is not paid by plain swaps. A one-sided deposit (SOL in, a
    stake-pool or vault token out) therefore stays a buy of that token.
    """
    if not token_to_token and tx.get("type") not in LIQUIDITY_TYPES:
        return None
    sol = delta.native + delta.wrapped + delta.fee + delta.rent
    moved = {mint: raw for mint, (raw, _) in delta.tokens.items() if raw}
    if abs(sol) > SOL_DUST_LAMPORTS:
        moved[SOL_MINT] = sol  # the wallet's WSOL and native SOL together, measured against WSOL vaults
    lp_mint: str | None = None
    direction: str | None = None
    if token_to_token:
        supply, received, given = _changes_of(tx, wallet, moved.keys())
        for mint, raw in moved.items():
            if mint == SOL_MINT:
                continue
            net = supply.get(mint, 0)
            others = [(m, r) for m, r in moved.items() if m != mint]
            if raw > 0 and 0 < net <= 2 * raw and any(r < 0 and received.get(m, 0) > 0 for m, r in others):
                lp_mint, direction = mint, "add"
                break
            if raw < 0 and 0 > net >= 2 * raw and any(r > 0 and given.get(m, 0) > 0 for m, r in others):
                lp_mint, direction = mint, "remove"
                break
    if direction is None and tx.get("type") in LIQUIDITY_TYPES:
        direction = "add" if tx.get("type") == "ADD_LIQUIDITY" else "remove"
    if direction is None:
        return None
    return LiquidityMove(
        direction="add" if direction == "add" else "remove",
        lp_mint=lp_mint,
        tokens=tuple(sorted((mint, raw, decimals) for mint, (raw, decimals) in delta.tokens.items() if raw)),
        sol_lamports=sol,
    )


# ---------------------------------------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------------
# Token to token
# ---------------------------------------------------------------------------------------------------------


class _Side(NamedTuple):
    total: int  # quote paid by (sells) or to (buys) the side's counterparties, raw units of the quote asset
    weights: list[int]  # the same per token, for sharing the side's value


def _token_to_token_legs(
    tx: Mapping[str, Any],
    wallet: str,
    delta: _WalletDelta,
    stables: Mapping[str, list[int]],
    sold: Sequence[_TokenMove],
    *,
    bought: Sequence[_TokenMove],
    context: _LegContext,
    fee: int,
) -> list[SwapLeg]:
    """Both sides valued by their own counterparties and balanced against the wallet's own change."""
    amounts = _transfer_amounts(tx)
    for quote_mint in _INTERMEDIARY_PREFERENCE:
        sells = _direct_side(tx, wallet, sold, selling=True, quote_mint=quote_mint, amounts=amounts)
        buys = _direct_side(tx, wallet, bought, selling=False, quote_mint=quote_mint, amounts=amounts)
        if sells.total > 0 or buys.total > 0:
            own = delta.sol if quote_mint == SOL_MINT else stables.get(quote_mint, [0, 0])[0]
            sell_total, buy_total = _balanced(sells.total, buys.total, own)
            decimals = _QUOTE_DECIMALS[quote_mint]
            legs = _valued_side(sold, "sell", quote_mint, decimals, total=sell_total, weights=sells.weights)
            legs += _valued_side(bought, "buy", quote_mint, decimals, total=buy_total, weights=buys.weights)
            return _finish(legs, context, fee)
    quote = _intermediary_quote(tx, wallet)
    if quote.mint == SOL_MINT:
        sell_total, buy_total = _balanced(quote.amount_raw, quote.amount_raw, delta.sol)
        legs = _valued_side(
            sold, "sell", SOL_MINT, SOL_DECIMALS, total=sell_total, weights=None, tx=tx, wallet=wallet
        )
        legs += _valued_side(
            bought, "buy", SOL_MINT, SOL_DECIMALS, total=buy_total, weights=None, tx=tx, wallet=wallet
        )
        return _finish(legs, context, fee)
    legs = _side_legs(tx, wallet, sold, "sell", quote) + _side_legs(tx, wallet, bought, "buy", quote)
    return _finish(legs, context, fee)


def _balanced(sells: int, buys: int, own: int) -> tuple[int | None, int | None]:
    """Side totals that add up to the wallet's own change (`own` = proceeds - costs).

    A side without a counterparty payment (0) is what balances the other; a leftover between two known sides
    (tips, bot fees, rebates) goes to the buys' cost when the wallet paid it, else to the sells' proceeds.
    None: a side that cannot be valued (the balance would make it zero or negative).
    """
    if sells > 0 and buys > 0:
        leftover = own - (sells - buys)
        return (sells + leftover, buys) if leftover > 0 else (sells, buys - leftover)
    if sells > 0:
        balance = sells - own
        return sells, balance if balance > 0 else None
    balance = own + buys
    return (balance if balance > 0 else None), buys


def _direct_side(
    tx: Mapping[str, Any],
    wallet: str,
    moves: Sequence[_TokenMove],
    *,
    selling: bool,
    quote_mint: str,
    amounts: Mapping[int, int],
) -> _Side:
    """What the accounts that took (sells) or gave (buys) the side's tokens paid or were paid by the wallet.

    Counterparties are the user accounts on the other side of the wallet's transfers of each token; payments
    are the quote asset's transfers between them and the wallet in the matching direction only, so a pool
    authority that both takes one token and gives another is not netted.
    """
    counterparties: dict[str, set[str]] = {move.mint: set() for move in moves}
    flows: dict[str, int] = {}
    for index, transfer in enumerate(tx.get("tokenTransfers") or ()):
        mint = transfer.get("mint")
        source, target = transfer.get("fromUserAccount"), transfer.get("toUserAccount")
        if mint in counterparties:
            if selling and source == wallet and target not in (wallet, "", None):
                counterparties[mint].add(str(target))
            elif not selling and target == wallet and source not in (wallet, "", None):
                counterparties[mint].add(str(source))
        elif mint == quote_mint:
            party = source if selling else target
            if (target if selling else source) == wallet and party not in (wallet, "", None):
                flows[str(party)] = flows.get(str(party), 0) + amounts.get(
                    index, _ui_to_raw(transfer.get("tokenAmount"), _QUOTE_DECIMALS[quote_mint])
                )
    native_transfers = tx.get("nativeTransfers")
    if quote_mint == SOL_MINT and isinstance(native_transfers, list):
        for transfer in native_transfers:
            source, target = transfer.get("fromUserAccount"), transfer.get("toUserAccount")
            party = source if selling else target
            if (target if selling else source) == wallet and party not in (wallet, "", None):
                flows[str(party)] = flows.get(str(party), 0) + int(transfer.get("amount") or 0)
    parties = set().union(*counterparties.values())
    return _Side(
        total=sum(flows.get(party, 0) for party in parties),
        weights=[sum(flows.get(party, 0) for party in counterparties[move.mint]) for move in moves],
    )


def _transfer_amounts(tx: Mapping[str, Any]) -> dict[int, int]:
    """Exact raw amounts of quote-asset transfers, by index in `tokenTransfers`, where `accountData` tells.

    A transfer is the only one of its mint touching its source (or target) token account: that account's raw
    change is the transfer's amount. This sidesteps the float `tokenAmount` (WSOL is sometimes in lamports).
    """
    changes: dict[tuple[str, str], int] = {}
    for entry in tx.get("accountData") or ():
        for change in entry.get("tokenBalanceChanges") or ():
            if change.get("mint") in _QUOTE_DECIMALS:
                key = (str(change.get("tokenAccount") or entry.get("account")), str(change["mint"]))
                changes[key] = changes.get(key, 0) + int(change["rawTokenAmount"]["tokenAmount"])
    transfers = list(tx.get("tokenTransfers") or ())
    touching: dict[tuple[str, str], int] = {}
    for transfer in transfers:
        mint = str(transfer.get("mint"))
        for side in ("fromTokenAccount", "toTokenAccount"):
            key = (str(transfer.get(side)), mint)
            touching[key] = touching.get(key, 0) + 1
    amounts: dict[int, int] = {}
    for index, transfer in enumerate(transfers):
        mint = str(transfer.get("mint"))
        if mint not in _QUOTE_DECIMALS:
            continue
        source = (str(transfer.get("fromTokenAccount")), mint)
        target = (str(transfer.get("toTokenAccount")), mint)
        if touching.get(source) == 1 and changes.get(source, 0) < 0:
            amounts[index] = -changes[source]
        elif touching.get(target) == 1 and changes.get(target, 0) > 0:
            amounts[index] = changes[target]
    return amounts


# ---------------------------------------------------------------------------------------------------------
# Legs
# ---------------------------------------------------------------------------------------------------------


class _LegContext(NamedTuple):
    signature: str
    slot: int
    timestamp: int
    source: str
    block_position: int


class _Draft(NamedTuple):
    """A leg before its transaction's context and fee are known."""

    move: _TokenMove
    direction: Direction
    quote_mint: str | None
    quote_amount_raw: int
    quote_decimals: int
    sol_value_lamports: int | None
    usd_value: float | None


def _finish(drafts: Sequence[_Draft], context: _LegContext, fee: int) -> list[SwapLeg]:
    """Sells first, then buys; the network fee goes on the first leg only."""
    ordered = [d for d in drafts if d.direction == "sell"] + [d for d in drafts if d.direction == "buy"]
    return [
        SwapLeg(
            signature=context.signature,
            slot=context.slot,
            timestamp=context.timestamp,
            mint=draft.move.mint,
            direction=draft.direction,
            token_amount_raw=draft.move.amount_raw,
            token_decimals=draft.move.decimals,
            quote_mint=draft.quote_mint,
            quote_amount_raw=draft.quote_amount_raw,
            quote_decimals=draft.quote_decimals,
            sol_value_lamports=draft.sol_value_lamports,
            usd_value=draft.usd_value,
            fee_lamports=fee if index == 0 else 0,
            source=context.source,
            block_position=context.block_position,
        )
        for index, draft in enumerate(ordered)
    ]


def _valued_side(
    moves: Sequence[_TokenMove],
    direction: Direction,
    quote_mint: str,
    decimals: int,
    *,
    total: int | None,
    weights: Sequence[int] | None,
    tx: Mapping[str, Any] | None = None,
    wallet: str = "",
) -> list[_Draft]:
    """One side's legs sharing `total` of `quote_mint` (None: the side has no value)."""
    if total is None:
        return [_Draft(move, direction, None, 0, 0, None, None) for move in moves]
    if weights is None:
        weights = (
            _counterparty_weights(tx or {}, wallet, moves, direction, quote_mint) if len(moves) > 1 else [1]
        )
    usd_unit = 10**decimals if quote_mint in STABLE_MINTS else None
    return [
        _Draft(
            move,
            direction,
            quote_mint,
            share,
            decimals,
            share if quote_mint == SOL_MINT else None,
            None if usd_unit is None else share / usd_unit,
        )
        for move, share in zip(moves, _shares(total, weights), strict=True)
    ]


def _side_legs(
    tx: Mapping[str, Any], wallet: str, moves: Sequence[_TokenMove], direction: Direction, quote: _Quote
) -> list[_Draft]:
    if not moves:
        return []
    weights = _counterparty_weights(tx, wallet, moves, direction, quote.mint) if len(moves) > 1 else [1]
    quote_shares = _shares(quote.amount_raw, weights)
    sol_shares: list[int | None] = (
        [None] * len(moves) if quote.sol_lamports is None else list(_shares(quote.sol_lamports, weights))
    )
    usd_unit = 10**quote.decimals if quote.mint in STABLE_MINTS else None
    return [
        _Draft(
            move,
            direction,
            quote.mint,
            quote_share,
            quote.decimals,
            sol_share,
            None if usd_unit is None else quote_share / usd_unit,
        )
        for move, quote_share, sol_share in zip(moves, quote_shares, sol_shares, strict=True)
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
