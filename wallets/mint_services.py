"""A mint read from the chain: its supply, who holds it now, and who bought it first (docs/ARCHITECTURE.md
§13 token holders).

Reads only (nothing is stored): the holders analysis keeps what it needs with its job. Every read is bounded
and says whether its bound was reached (docs/METHODS.md §6, "Bounds"):

- holders: Helius DAS `getTokenAccounts` by mint, a page of up to 1,000 token accounts per call, until a
  short page or `max_accounts` accounts; amounts are summed per owner;
- pools and other program-controlled owners: RPC `getMultipleAccounts` on the largest owners only, in the
  order of their amounts, until `top` wallets are found;
- the mint's oldest transactions: `getSignaturesForAddress(mint)` paged backward (1,000 a page) until the
  first one (a short page) or `max_signatures`; only the oldest `EARLY_BUYERS_MAX_TRANSACTIONS` successful
  ones are fetched (enhanced transactions, 100 a call), oldest first, until `early` distinct wallets bought.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import FatalError
from core.http import UpstreamFatalError, UpstreamTransientError
from wallets.addresses import is_on_curve, is_valid_address
from wallets.mints import MintBuy, MintCreation, first_buys, mint_buys, mint_creation
from wallets.providers import (
    ACCOUNTS_BATCH_LIMIT,
    DAS_PAGE_LIMIT,
    SIGNATURE_PAGE_LIMIT,
    TRANSACTIONS_BATCH_LIMIT,
    get_chain_provider,
)

SYSTEM_PROGRAM = "11111111111111111111111111111111"
# The oldest successful transactions of a mint read for its first buyers: 20 enhanced-transaction calls, ten
# seconds at Helius's default 2 calls a second. Two hundred first buyers fit in it unless most of a launch's
# first transactions are sells or transfers.
EARLY_BUYERS_MAX_TRANSACTIONS = 2_000
# Not an account that can hold anything, but how a program-derived owner without an account is reported.
OFF_CURVE = "program-derived address (no account)"
# Program-derived pool authorities that hold SOL, so their accounts belong to the System Program as a wallet's
# do; they own the vaults of every pool of their program (Raydium's documentation lists the AMM v4 one).
PROGRAM_AUTHORITIES = {"5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1": "Raydium AMM v4 authority"}
_INVALID_PARAM = re.compile(r"invalid param", re.IGNORECASE)

Checkpoint = Callable[[], None]


class NotATokenMintError(FatalError):
    """The address is not a token mint, or a mint without supply: there is nothing anybody holds."""

    error_type = "not_a_token_mint"


@dataclass(frozen=True, slots=True)
class MintSupply:
    amount_raw: int
    decimals: int


def mint_read_supply(*, mint: str) -> MintSupply:
    """RPC `getTokenSupply` of the mint; NotATokenMintError for an address that is no mint, or no supply."""
    try:
        value = get_chain_provider().get_token_supply(mint)
    except UpstreamFatalError as exc:
        if _INVALID_PARAM.search(str(exc)):
            raise NotATokenMintError(f"{mint} is not a token mint ({exc}).") from None
        raise
    try:
        amount, decimals = int(value["amount"]), int(value.get("decimals") or 0)
    except (KeyError, TypeError, ValueError):
        raise UpstreamTransientError(f"getTokenSupply of {mint} answered no integer amount") from None
    if amount <= 0:
        raise NotATokenMintError(f"{mint} has no supply (getTokenSupply answered 0): nobody holds it.")
    return MintSupply(amount, decimals)


@dataclass(frozen=True, slots=True)
class MintTokenAccounts:
    amounts: dict[str, int]  # raw amount per owner (its token accounts summed); empty holdings left out
    accounts_read: int
    pages: int
    capped: bool  # stopped at max_accounts with a full last page: the mint may have more accounts
    max_accounts: int


def mint_read_token_accounts(*, mint: str, max_accounts: int, checkpoint: Checkpoint) -> MintTokenAccounts:
    """The mint's token accounts by DAS pages, until a short page or `max_accounts` accounts.

    Every page asks for the same `limit` (a page's offset is (page - 1) x limit), so the last page may bring
    more than the bound leaves room for: those accounts are dropped."""
    provider = get_chain_provider()
    limit = min(DAS_PAGE_LIMIT, max_accounts)
    amounts: dict[str, int] = {}
    read = pages = 0
    while True:
        checkpoint()
        answer = provider.get_mint_token_accounts(mint, page=pages + 1, limit=limit)
        accounts = answer.get("token_accounts") or []
        pages += 1
        for account in accounts[: max_accounts - read]:
            owner = str(account.get("owner") or "")
            try:
                amount = int(account.get("amount") or 0)
            except (TypeError, ValueError):
                message = f"getTokenAccounts of {mint} answered a non-integer amount"
                raise UpstreamTransientError(message) from None
            if owner and amount > 0:
                amounts[owner] = amounts.get(owner, 0) + amount
        read = min(max_accounts, read + len(accounts))
        if len(accounts) < limit:
            return MintTokenAccounts(amounts, read, pages, False, max_accounts)
        if read >= max_accounts:
            return MintTokenAccounts(amounts, read, pages, True, max_accounts)


def mint_account_owners(*, addresses: Sequence[str]) -> dict[str, str | None]:
    """For each address: None when it is a wallet, else what controls it (the program owning its account,
    OFF_CURVE for a program-derived address with no account, or the label of a known program authority).

    A wallet's account belongs to the System Program; pools, bonding curves, vaults and multisigs are
    accounts of their own programs. An owner with no account is a wallet that spent all its SOL when its
    address is on the Ed25519 curve, else a program-derived address. A program-derived address that holds SOL
    is a System account like a wallet: the few such pool authorities are named in PROGRAM_AUTHORITIES.
    (Only owners without an account are judged by the curve: the simulated market derives its wallets'
    addresses from hashes, half of them off the curve.)"""
    unique = list(dict.fromkeys(addresses))
    owners: dict[str, str | None] = {}
    entries = get_chain_provider().get_multiple_accounts(unique) if unique else []
    if len(entries) != len(unique):
        raise UpstreamTransientError("getMultipleAccounts answered another number of accounts")
    for address, entry in zip(unique, entries, strict=True):
        program = str(entry.get("owner") or "") if isinstance(entry, Mapping) else ""
        if address in PROGRAM_AUTHORITIES:
            owners[address] = PROGRAM_AUTHORITIES[address]
        elif program and program != SYSTEM_PROGRAM:
            owners[address] = program
        elif not program and not (is_valid_address(address) and is_on_curve(address)):
            owners[address] = OFF_CURVE
        else:
            owners[address] = None
    return owners


@dataclass(frozen=True, slots=True)
class RankedOwners:
    wallets: list[tuple[str, int]]  # (wallet, raw amount), largest first, at most `top`
    pools: list[tuple[str, int, str]]  # (owner, raw amount, controlling program) among the owners looked at
    owners_checked: int


def mint_rank_holders(*, amounts: Mapping[str, int], top: int, checkpoint: Checkpoint) -> RankedOwners:
    """The `top` largest wallets among the owners, pools set apart: owners are looked up 100 at a time in
    the order of their amounts, so a few calls find the top wallets however many holders the mint has."""
    ranked = sorted(amounts.items(), key=lambda item: (-item[1], item[0]))
    wallets: list[tuple[str, int]] = []
    pools: list[tuple[str, int, str]] = []
    checked = 0
    for start in range(0, len(ranked), ACCOUNTS_BATCH_LIMIT):
        if len(wallets) >= top:
            break
        checkpoint()
        chunk = ranked[start : start + ACCOUNTS_BATCH_LIMIT]
        owners = mint_account_owners(addresses=[owner for owner, _ in chunk])
        checked += len(chunk)
        for owner, amount in chunk:
            program = owners[owner]
            if program is not None:
                pools.append((owner, amount, program))
            elif len(wallets) < top:
                wallets.append((owner, amount))
    return RankedOwners(wallets, pools, checked)


@dataclass(frozen=True, slots=True)
class MintHistory:
    oldest: list[dict[str, Any]]  # signature entries, oldest first, at most `keep`
    signatures_read: int
    reached_first: bool  # paged back to the mint's first transaction
    max_signatures: int


def mint_read_oldest_signatures(
    *, mint: str, max_signatures: int, keep: int, checkpoint: Checkpoint
) -> MintHistory:
    """Page `getSignaturesForAddress(mint)` backward to the first transaction or `max_signatures`; keep the
    `keep` oldest entries seen (memory stays bounded however far the paging goes)."""
    provider = get_chain_provider()
    tail: deque[dict[str, Any]] = deque(maxlen=keep)
    before: str | None = None
    read = 0
    while True:
        checkpoint()
        limit = min(SIGNATURE_PAGE_LIMIT, max_signatures - read)
        page = provider.get_signatures(mint, before=before, limit=limit)
        tail.extend(page)
        read += len(page)
        if len(page) < limit:
            return MintHistory(list(reversed(tail)), read, True, max_signatures)
        if read >= max_signatures:
            return MintHistory(list(reversed(tail)), read, False, max_signatures)
        before = str(page[-1]["signature"])


@dataclass(frozen=True, slots=True)
class EarlyBuyers:
    creation: MintCreation | None
    buys: list[MintBuy]  # each wallet's first buy, in the order they happened (program-owned owners left out)
    transactions_read: int
    program_owned: dict[str, str]  # buyers set apart as pools (owner -> controlling program)


def mint_find_early_buyers(
    *,
    mint: str,
    oldest: Sequence[Mapping[str, Any]],
    wanted: int,
    known_owners: Mapping[str, str | None],
    checkpoint: Checkpoint,
) -> EarlyBuyers:
    """The creation and the first `wanted` distinct wallets that bought, from the mint's oldest successful
    transactions (given oldest first), fetched 100 at a time until enough wallets bought."""
    provider = get_chain_provider()
    signatures = [str(entry["signature"]) for entry in oldest if entry.get("err") is None]
    owners: dict[str, str | None] = dict(known_owners)
    found: dict[str, MintBuy] = {}
    creation: MintCreation | None = None
    read = 0
    for start in range(0, len(signatures), TRANSACTIONS_BATCH_LIMIT):
        checkpoint()
        transactions = provider.get_transactions(signatures[start : start + TRANSACTIONS_BATCH_LIMIT])
        if start == 0:
            creation = mint_creation(transactions)
        read += len(transactions)
        buys = [buy for buy in first_buys(mint_buys(transactions, mint)).values() if buy.wallet not in found]
        unknown = [buy.wallet for buy in buys if buy.wallet not in owners]
        if unknown:
            owners.update(mint_account_owners(addresses=unknown))
        for buy in buys:
            if owners[buy.wallet] is None:
                found.setdefault(buy.wallet, buy)
        if len(found) >= wanted:
            break
    program_owned = {owner: program for owner, program in owners.items() if program is not None}
    return EarlyBuyers(creation, list(found.values())[:wanted], read, program_owned)


@dataclass(frozen=True, slots=True)
class MintDiscovery:
    """What a holders analysis reads from the chain before it looks at any wallet."""

    mint: str
    supply: MintSupply
    accounts: MintTokenAccounts
    ranked: RankedOwners
    history: MintHistory
    early: EarlyBuyers
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mint": self.mint,
            "supply": {"amount_raw": self.supply.amount_raw, "decimals": self.supply.decimals},
            "amounts": self.accounts.amounts,
            "accounts": {
                "read": self.accounts.accounts_read,
                "pages": self.accounts.pages,
                "capped": self.accounts.capped,
                "max_accounts": self.accounts.max_accounts,
                "owners": len(self.accounts.amounts),
                "owners_checked": self.ranked.owners_checked,
            },
            "holders": [[wallet, amount] for wallet, amount in self.ranked.wallets],
            "pools": [[owner, amount, program] for owner, amount, program in self.ranked.pools],
            "history": {
                "signatures_read": self.history.signatures_read,
                "reached_first": self.history.reached_first,
                "max_signatures": self.history.max_signatures,
                "transactions_read": self.early.transactions_read,
                "max_transactions": EARLY_BUYERS_MAX_TRANSACTIONS,
            },
            "creation": self.early.creation.to_dict() if self.early.creation else None,
            "early_buyers": [buy.to_dict() for buy in self.early.buys],
            "program_owned_buyers": self.early.program_owned,
            "notes": list(self.notes),
        }


def mint_discover(
    *,
    mint: str,
    top: int,
    early: int,
    max_accounts: int,
    max_signatures: int,
    checkpoint: Checkpoint,
) -> MintDiscovery:
    """Supply, holders (pools apart), the creation and the first buyers of a mint, each read within its bound;
    `notes` says in words which bounds were reached and what that leaves out."""
    supply = mint_read_supply(mint=mint)
    accounts = mint_read_token_accounts(mint=mint, max_accounts=max_accounts, checkpoint=checkpoint)
    ranked = mint_rank_holders(amounts=accounts.amounts, top=top, checkpoint=checkpoint)
    history = mint_read_oldest_signatures(
        mint=mint, max_signatures=max_signatures, keep=EARLY_BUYERS_MAX_TRANSACTIONS, checkpoint=checkpoint
    )
    notes: list[str] = []
    if accounts.capped:
        notes.append(
            f"The mint has more than {max_accounts:,} token accounts (HOLDERS_MAX_ACCOUNTS): holders are "
            f"ranked among the first {accounts.accounts_read:,} read, so larger holders may be missing."
        )
    if history.reached_first:
        known: dict[str, str | None] = {wallet: None for wallet, _ in ranked.wallets}
        known.update((owner, program) for owner, _, program in ranked.pools)
        found = mint_find_early_buyers(
            mint=mint, oldest=history.oldest, wanted=early, known_owners=known, checkpoint=checkpoint
        )
        if len(found.buys) < early and history.signatures_read > EARLY_BUYERS_MAX_TRANSACTIONS:
            notes.append(
                f"Only {len(found.buys)} distinct buyers in the mint's first "
                f"{EARLY_BUYERS_MAX_TRANSACTIONS:,} transactions, as far as early buyers are looked for."
            )
    else:
        found = EarlyBuyers(None, [], 0, {})
        notes.append(
            f"The mint has more than {max_signatures:,} transactions (HOLDERS_MAX_MINT_SIGNATURES): its "
            "creation was not reached: its creator, first buyers, bundlers, snipers and insiders are unknown."
        )
    return MintDiscovery(mint, supply, accounts, ranked, history, found, notes)
