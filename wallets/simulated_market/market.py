"""`SimulatedMarket`: the market's public face, answering what the upstream APIs answer.

It ties the pieces together (the universe of tokens, the family plans, history generation, rendering) and
adds what an API has: paging of signatures with `before`/`until`, batches of transactions by signature,
balances and token accounts consistent with each history, DexScreener pairs, and a bounded cache of
generated histories (an LRU of `HISTORY_CACHE_SIZE` wallets) shared by the threads of one process.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from wallets.simulated_market.derivation import Derivation, address_bytes
from wallets.simulated_market.families import Family, FamilyBook
from wallets.simulated_market.heavy import (
    BLOCK_SIZE,
    HEAVY_SPAN_DAYS,
    MAX_HEAVY_SIZE,
    HeavyHistory,
    HeavyPlan,
)
from wallets.simulated_market.histories import (
    BUY,
    CREATE,
    TRADER_ARCHETYPES,
    Archetype,
    History,
    HistoryGenerator,
    IntendedTrade,
    WalletProfile,
)
from wallets.simulated_market.launches import (
    MEGA_HOLDERS,
    Launch,
    LaunchBook,
    LaunchParticipant,
    _LaunchPlan,
    classes_of,
)
from wallets.simulated_market.prices import PRICE_CACHE_HOURS, SOL_USD_PRICE
from wallets.simulated_market.signatures import SignatureCodec
from wallets.simulated_market.universe import (
    ANCHOR_TS,
    SPL_TOKEN_PROGRAM,
    SYSTEM_PROGRAM,
    VENUES,
    TokenInfo,
    Universe,
    slot_at,
    supply_raw,
)
from wallets.simulated_market.wire import (
    CURVE_ACCOUNT_RENT,
    U64_MAX_EPOCH,
    USDC_DECIMALS,
    Renderer,
    ui_token_amount,
)
from wallets.swaps import SOL_DECIMALS, SOL_MINT, USDC_MINT, USDT_MINT

__all__ = [
    "DEFAULT_HEAVY_SIZES",
    "HISTORY_CACHE_SIZE",
    "MAX_ACCOUNTS_PER_CALL",
    "MAX_DAS_ACCOUNTS_PER_PAGE",
    "MAX_DEX_MINTS_PER_CALL",
    "MAX_SIGNATURES_PER_CALL",
    "MAX_TRANSACTIONS_PER_CALL",
    "SOL_USD_RESOLUTIONS",
    "NotAMintError",
    "SimulatedMarket",
    "shared_market",
]

MAX_SIGNATURES_PER_CALL = 1000
MAX_TRANSACTIONS_PER_CALL = 100
MAX_DEX_MINTS_PER_CALL = 30
MAX_DAS_ACCOUNTS_PER_PAGE = 1000
MAX_ACCOUNTS_PER_CALL = 100
HISTORY_CACHE_SIZE = 512
DEFAULT_HEAVY_SIZES = (1_000_000, 200_000)  # the market's own heavy bots
# TradingView resolutions the SOL/USD history answers, in minutes per candle.
SOL_USD_RESOLUTIONS = {"1": 1, "5": 5, "15": 15, "30": 30, "60": 60, "240": 240, "D": 1440, "1D": 1440}


def _account_info(owner: str, lamports: int, space: int) -> dict[str, Any]:
    return {
        "data": ["", "base64"],
        "executable": False,
        "lamports": lamports,
        "owner": owner,
        "rentEpoch": U64_MAX_EPOCH,
        "space": space,
    }


class NotAMintError(ValueError):
    """The address is not a token mint (RPC error -32602, "Invalid param: not a Token mint")."""


class _ListedEntries:
    """A launch's mint: every transaction that touched it, oldest first, as (time, owner, index)."""

    def __init__(self, entries: list[tuple[int, str, int]]) -> None:
        self._entries = entries
        self._positions = {(owner, index): position for position, (_, owner, index) in enumerate(entries)}
        self._slots = [slot_at(ts) for ts, _, _ in entries]

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, position: int) -> tuple[int, str, int]:
        return self._entries[position]

    def position_of(self, owner: str, index: int) -> int | None:
        return self._positions.get((owner, index))

    def index_at_slot(self, slot: int, *, upper: bool) -> int:
        return bisect_left(self._slots, slot) if upper else bisect_right(self._slots, slot)


class _MegaEntries:
    """The mega mint's transactions, computed per position: its creation, then one buy per holder."""

    def __init__(self, launches: LaunchBook, plan: _LaunchPlan) -> None:
        self._launches = launches
        self._plan = plan

    def __len__(self) -> int:
        return MEGA_HOLDERS + 1

    def entry(self, position: int) -> tuple[int, str, int]:
        if position == 0:
            return self._plan.created_at, self._plan.creator, 1  # its creation follows its funding
        at, _, _, _ = self._launches.mega_buy(position - 1)
        return at, self._launches.mega_holder(position - 1), 1  # each holder's buy follows its funding

    def position_of(self, owner: str, index: int) -> int | None:
        if owner == self._plan.creator:
            return 0 if index == 1 else None
        number = self._launches.mega_holder_number(address_bytes(owner))
        return None if number is None or index != 1 else number + 1

    def index_at_slot(self, slot: int, *, upper: bool) -> int:
        low, high = 0, len(self)  # the first position whose slot is >= (upper) or > (lower) `slot`
        while low < high:
            middle = (low + high) // 2
            found = slot_at(self.entry(middle)[0])
            if found < slot or (not upper and found == slot):
                low = middle + 1
            else:
                high = middle
        return low


_MintEntries = _ListedEntries | _MegaEntries
Ledger = History | HeavyHistory
"""A wallet's history: generated whole, or (a heavy bot's) block by block; both answer len, tx and slots."""


class SimulatedMarket:
    """A deterministic synthetic Solana market for one seed. Thread-safe: caches are guarded, generation
    is pure."""

    def __init__(
        self,
        seed: int = 0,
        *,
        history_size: int | None = None,
        history_sizes: Mapping[str, int] | None = None,
        heavy_bots: Mapping[str, int] | None = None,
        history_cache: int = HISTORY_CACHE_SIZE,
        price_cache_hours: int = PRICE_CACHE_HOURS,
    ) -> None:
        """`history_size` fixes every wallet's history length to exactly that many transactions (the oldest
        of a longer plan, so the wallet's newest positions stay open); `history_sizes` does it per address,
        e.g. one 5,000-transaction wallet for a sync benchmark. Default lengths depend on the archetype.
        `heavy_bots` makes chosen addresses heavy bots of chosen sizes (generated page by page), besides
        the market's own (`heavy_bots()`). `history_cache` (wallets) and `price_cache_hours` (per token)
        bound what the market keeps between calls; anything dropped is generated again, identically."""
        if history_size is not None and history_size < 1:
            raise ValueError("history_size must be at least 1")
        if history_sizes and min(history_sizes.values()) < 1:
            raise ValueError("history sizes must be at least 1")
        if history_cache < 1 or price_cache_hours < 1:
            raise ValueError("history_cache and price_cache_hours must be at least 1")
        if heavy_bots and not all(BLOCK_SIZE <= size <= MAX_HEAVY_SIZE for size in heavy_bots.values()):
            raise ValueError(f"heavy bots have {BLOCK_SIZE} to {MAX_HEAVY_SIZE} transactions")
        self.seed = seed
        self._history_size = history_size
        self._history_sizes = dict(history_sizes or {})
        for address in self._history_sizes:
            address_bytes(address)
        self._derive = Derivation(seed)
        self._lock = threading.Lock()
        self._histories: OrderedDict[str, Ledger] = OrderedDict()
        self._history_cache = history_cache
        self._universe = Universe(self._derive, price_cache_hours=price_cache_hours)
        self._families = FamilyBook(self._universe)
        self._launches = LaunchBook(self._universe, self._families)
        self._generator = HistoryGenerator(self._universe, self._families)
        self._mint_ledgers: dict[str, _MintEntries] = {}
        self._pool_owners: dict[str, str] | None = None
        self._catalogue: list[Launch] | None = None
        self._renderer = Renderer(self._universe)
        self._signatures = SignatureCodec(self._derive)
        self._heavy = {
            self._derive.address("heavy-bot", number): size for number, size in enumerate(DEFAULT_HEAVY_SIZES)
        }
        for address, size in (heavy_bots or {}).items():
            address_bytes(address)
            self._heavy[address] = size
        self._treasuries = {self._derive.address("treasury", bot): bot for bot in self._heavy}

    # -------------------------------------------------------------------------------------- universe

    def tokens(self) -> list[TokenInfo]:
        return list(self._universe.tokens)

    def token(self, mint: str) -> TokenInfo | None:
        index = self._universe.token_index.get(mint)
        return None if index is None else self._universe.tokens[index]

    def price_sol(self, mint: str, timestamp: int = ANCHOR_TS) -> float | None:
        """Price in SOL per whole token at a time; None for a mint outside the universe."""
        if mint == SOL_MINT:
            return 1.0
        if mint in (USDC_MINT, USDT_MINT):
            return 1.0 / self.sol_usd_at(timestamp)
        index = self._universe.token_index.get(mint)
        if index is None or timestamp < self._universe.tokens[index].launch_ts:
            return None
        return self._universe.path(index).price(timestamp)

    def sol_usd_price(self) -> float:
        """Today's SOL/USD: the SOL/USD path's last point, and the price of the SOL pair on DexScreener."""
        return SOL_USD_PRICE

    def sol_usd_at(self, timestamp: int) -> float:
        """SOL/USD of a moment: the close of its one-minute candle (today's price from "now" on); the rate
        at which the market settles stablecoin-quoted swaps. ValueError before the SOL/USD history."""
        if timestamp >= ANCHOR_TS:
            return SOL_USD_PRICE
        return self._universe.sol_usd.at(timestamp)

    def sol_usd_candles(self, from_ts: int, to_ts: int, resolution: str) -> dict[str, Any]:
        """SOL/USD candles in the TradingView UDF shape of Pyth Benchmarks' history endpoint.

        `{"s": "ok", "t", "o", "h", "l", "c", "v"}` for the complete candles starting in [from_ts, to_ts]
        (volume is 0: an oracle price has none); `{"s": "no_data", "nextTime": t}` when there are none, with
        the start of the last candle before the range when there is one; `{"s": "error", "errmsg"}` for an
        unsupported resolution or a reversed range. Resolutions: minutes (`1`, `5`, `15`, `30`, `60`,
        `240`) and `D` (`1D`).
        """
        minutes = SOL_USD_RESOLUTIONS.get(resolution)
        if minutes is None:
            return {"s": "error", "errmsg": f"Unsupported resolution {resolution!r}"}
        if from_ts > to_ts:
            return {"s": "error", "errmsg": "from must not be after to"}
        bars, previous = self._universe.sol_usd.candles(from_ts, to_ts, minutes)
        if not bars:
            return {"s": "no_data"} if previous is None else {"s": "no_data", "nextTime": previous}
        return {
            "s": "ok",
            "t": [bar.start for bar in bars],
            "o": [bar.open for bar in bars],
            "h": [bar.high for bar in bars],
            "l": [bar.low for bar in bars],
            "c": [bar.close for bar in bars],
            "v": [0.0] * len(bars),
        }

    # -------------------------------------------------------------------------------------- wallets

    def families(self) -> list[Family]:
        """Every family: copy traders (with each follower's lag), bundles and funded groups (with their
        fresh funder)."""
        return [
            Family(f.name, f.kind, f.leader, list(f.members), f.funder, dict(f.lags))
            for f in self._families.families
        ]

    def sniper_bots(self) -> list[str]:
        """The market's independent sniper bots: each buys most launches within seconds."""
        return list(self._families.sniper_bots)

    def heavy_bots(self) -> list[str]:
        """Bots with huge histories (the market's own, then any chosen at construction)."""
        return list(self._heavy)

    def funder_of(self, address: str) -> str | None:
        """The source of the wallet's first SOL: its fresh funder (bundles, funded groups), else the exchange
        hot wallet it withdrew from; a fresh funder's own source is an exchange; None for an exchange."""
        raw = address_bytes(address)
        launch_funder = self._launches.first_funder(address)
        if launch_funder is not None:
            return launch_funder
        holder = self._launches.mega_holder_number(raw)
        if holder is not None:
            return self._launches.mega_funder(holder)
        return self._generator.funder_of(address, raw)

    def family_mints(self, name: str) -> list[str]:
        """Debug view: the mints a family's shared plan trades (members' own noise avoids them); none for a
        funded group, which has no shared plan."""
        for family in self._families.families:
            if family.name == name:
                if family.kind == "funded":
                    return []
                mints = self._families.family_mints[family.leader]
                return sorted(self._universe.tokens[index].mint for index in mints)
        raise KeyError(name)

    def sample_wallets(self, count: int, *, archetype: Archetype | None = None) -> list[str]:
        """Unrelated addresses (no family), deterministic for the seed; optionally of one archetype.

        `sniper_bot` gives the market's sniper bots (at most as many as there are); the other trader
        archetypes give ordinary wallets, funded from exchanges.
        """
        if archetype == "sniper_bot":
            if count > len(self._families.sniper_bots):
                raise ValueError(f"the market has {len(self._families.sniper_bots)} sniper bots")
            return self.sniper_bots()[:count]
        if archetype == "heavy_bot":
            if count > len(self._heavy):
                raise ValueError(f"the market has {len(self._heavy)} heavy bots")
            return self.heavy_bots()[:count]
        if archetype is not None and archetype not in TRADER_ARCHETYPES:
            raise ValueError(f"no sample wallets of archetype {archetype!r}")
        wallets: list[str] = []
        index = 0
        while len(wallets) < count:
            address = self._derive.address("sample", index)
            index += 1
            if archetype is None or self.profile(address).archetype == archetype:
                wallets.append(address)
        return wallets

    def profile(self, address: str) -> WalletProfile:
        raw = address_bytes(address)
        if address in self._heavy:
            return WalletProfile(address, "heavy_bot", None, None)
        if address in self._treasuries:
            return WalletProfile(address, "treasury", None, None)
        if address in self._launches.minimal:
            return self._launches.minimal_profile(address)
        if self._launches.mega_holder_number(raw) is not None:
            return WalletProfile(address, "holder", None, None)
        return self._generator.profile(address, raw)

    # -------------------------------------------------------------------------------------- histories

    def _size_key(self, address: str) -> int:
        heavy = self._heavy.get(address)
        if heavy is not None:
            return heavy
        return self._history_sizes.get(address, self._history_size or 0)

    def _history(self, address: str) -> Ledger:
        with self._lock:
            cached = self._histories.get(address)
            if cached is not None:
                self._histories.move_to_end(address)
                return cached
        raw = address_bytes(address)  # only valid addresses are ever cached
        plan = self._families.funding_plans.get(address)
        history: Ledger
        if plan is not None:
            deposits = [self._history(member).tx(0).sol_delta for member, _ in plan.transfers]
            history = self._generator.generate_funder(plan, raw, deposits)
        elif address in self._heavy:
            history = self._heavy_history(address, raw)
        elif address in self._treasuries:
            history = History(self.profile(address), raw, 0, (), 0, 0, 0, {})
        elif address in self._launches.minimal:
            history = self._launches.minimal_history(address, raw)
        elif (holder := self._launches.mega_holder_number(raw)) is not None:
            history = self._launches.mega_holder_history(holder, address, raw)
        else:
            history = self._generator.generate(address, raw, size_override=self._size_key(address))
        with self._lock:
            self._histories[address] = history
            while len(self._histories) > self._history_cache:
                self._histories.popitem(last=False)
        return history

    def _heavy_history(self, address: str, raw: bytes) -> HeavyHistory:
        size = self._heavy[address]
        start = ANCHOR_TS - HEAVY_SPAN_DAYS * 86_400
        funder = self._generator.funder_of(address, raw)
        assert funder is not None  # heavy bots are not exchanges
        plan = HeavyPlan(
            address=address,
            size=size,
            funder=funder,
            treasury=self._derive.address("treasury", address),
            start_ts=start,
            block_seconds=(ANCHOR_TS - start) // -(-size // BLOCK_SIZE),
        )
        return HeavyHistory(self.profile(address), raw, size, plan, self._universe)

    def _resolve_signature(self, signature: str) -> tuple[str, int] | None:
        return self._signatures.resolve(signature, self._size_key)

    def _signer(self, history: Ledger) -> Callable[[int], str]:
        def sign(index: int) -> str:
            shared = history.shared.get(index)
            if shared is not None:
                owner, owner_index = shared
                return self._signatures.encode(address_bytes(owner), self._size_key(owner), owner_index)
            return self._signatures.encode(history.address_bytes, history.size_key, index)

        return sign

    def _issued(self, signature: str) -> tuple[str, Ledger, int] | None:
        """(address, history, index) of a signature this market gave out, else None. A transaction shared
        with another address (a funder's transfer) is listed under that address's signature only."""
        resolved = self._resolve_signature(signature)
        if resolved is None:
            return None
        address, index = resolved
        history = self._history(address)
        if index >= len(history) or index in history.shared:
            return None
        return address, history, index

    def signature_at(self, address: str, index: int) -> str:
        """Debug view: the signature of the wallet's transaction at an index (0 is the oldest), e.g. to start
        paging deep inside a heavy bot's history without walking to it."""
        history = self._history(address)
        if not 0 <= index < len(history):
            raise IndexError(f"{address} has {len(history)} transactions")
        return self._signer(history)(index)

    def history_length(self, address: str) -> int:
        return len(self._history(address))

    def intended_trades(self, address: str) -> list[IntendedTrade]:
        """Debug view: the successful swaps the market generated for a wallet, oldest first. Not for heavy
        bots, whose histories are never held whole."""
        history = self._history(address)
        if isinstance(history, HeavyHistory):
            raise ValueError("a heavy bot's trades are read page by page, through get_signatures")
        return self._generator.intended_trades(history, self._signer(history))

    def get_signatures(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = MAX_SIGNATURES_PER_CALL,
    ) -> list[dict[str, Any]]:
        """`getSignaturesForAddress` result entries, newest first.

        `before` and `until` are exclusive. A signature outside this wallet's history bounds by its slot when
        it is one this market issued (like the real RPC); otherwise an unknown `before` gives no entries and
        an unknown `until` is ignored.
        """
        if not 1 <= limit <= MAX_SIGNATURES_PER_CALL:
            raise ValueError(f"limit must be between 1 and {MAX_SIGNATURES_PER_CALL}")
        if address in self._universe.token_index:
            return self._mint_signatures(address, before=before, until=until, limit=limit)
        history = self._history(address)
        end = len(history)
        if before is not None:
            end = self._boundary(history, before, upper=True)
        start = 0
        if until is not None:
            start = self._boundary(history, until, upper=False)
        sign = self._signer(history)
        return [
            self._renderer.signature_entry(history.tx(index), sign(index))
            for index in range(end - 1, max(start, end - limit) - 1, -1)
        ]

    def _boundary(self, history: Ledger, signature: str, *, upper: bool) -> int:
        """Index bound for an exclusive `before` (upper) or `until` (lower) signature."""
        issued = self._issued(signature)
        if issued is None:
            return 0
        other_address, other, other_index = issued
        if other_address == history.profile.address:
            return other_index if upper else other_index + 1
        return history.index_at_slot(slot_at(other.tx(other_index).ts), upper=upper)

    def get_transactions(self, signatures: Sequence[str]) -> list[dict[str, Any]]:
        """Helius `POST /v0/transactions`: enhanced transactions in request order; unknown ones omitted."""
        if len(signatures) > MAX_TRANSACTIONS_PER_CALL:
            raise ValueError(f"at most {MAX_TRANSACTIONS_PER_CALL} signatures per call")
        result: list[dict[str, Any]] = []
        for signature in signatures:
            issued = self._issued(signature)
            if issued is not None:
                address, history, index = issued
                result.append(self._renderer.transaction(address, history.tx(index), signature))
        return result

    # -------------------------------------------------------------------------------------- launches

    def launches(self) -> list[Launch]:
        """The launch catalogue: each launch's mint, creator, creation slot, pool and participants with their
        roles and classes (see `launches`). The first call generates every participant's history."""
        if self._catalogue is None:
            self._catalogue = [self._launch(plan) for plan in self._launches.plans.values()]
        return list(self._catalogue)

    def _launch(self, plan: _LaunchPlan) -> Launch:
        token = self._universe.tokens[plan.token]
        creation_slot = slot_at(plan.created_at)
        creator_funder = self.funder_of(plan.creator)
        participants: list[LaunchParticipant] = []
        holders = 0
        for wallet, role in plan.roles.items():
            history = self._history(wallet)
            first_buy = next(
                history.tx(index)
                for index in range(len(history))
                if history.tx(index).token == plan.token and history.tx(index).kind in (BUY, CREATE)
            )
            funder = self.funder_of(wallet)
            first_tx_at = history.tx(0).ts
            holders += history.holdings.get(plan.token, 0) > 0
            participants.append(
                LaunchParticipant(
                    wallet=wallet,
                    role=role,
                    classes=classes_of(
                        wallet=wallet,
                        creator=plan.creator,
                        creator_funder=creator_funder,
                        creation_slot=creation_slot,
                        funder=funder,
                        first_tx_at=first_tx_at,
                        first_buy_at=first_buy.ts,
                        first_buy_slot=slot_at(first_buy.ts),
                    ),
                    funder=funder,
                    first_tx_at=first_tx_at,
                    first_buy_at=first_buy.ts,
                    first_buy_slot=slot_at(first_buy.ts),
                )
            )
        return Launch(
            name=plan.name,
            kind=plan.kind,
            mint=token.mint,
            creator=plan.creator,
            created_at=plan.created_at,
            creation_slot=creation_slot,
            decimals=token.decimals,
            supply_raw=supply_raw(token),
            pool=self._universe.pool(plan.token).authority,
            participants=tuple(participants),
            holder_count=MEGA_HOLDERS if plan.kind == "mega" else holders,
        )

    def get_multiple_accounts(self, addresses: Sequence[str]) -> list[dict[str, Any] | None]:
        """RPC `getMultipleAccounts` (base64) `value` entries: who owns each account, so a reader can tell a
        program-owned pool from a wallet. Wallets (any other valid address) are System Program accounts
        holding their balance; pool authorities belong to their venue's program, mints to the token
        program. An invalid address answers None, like an account that does not exist."""
        if len(addresses) > MAX_ACCOUNTS_PER_CALL:
            raise ValueError(f"at most {MAX_ACCOUNTS_PER_CALL} accounts per call")
        owners = self._program_owned()
        entries: list[dict[str, Any] | None] = []
        for address in addresses:
            owner = owners.get(address)
            if owner is None and address in self._universe.token_index:
                owner = SPL_TOKEN_PROGRAM
            if owner is not None:
                entries.append(_account_info(owner, CURVE_ACCOUNT_RENT, 0))
                continue
            try:
                lamports = self.get_sol_balance(address)
            except ValueError:
                entries.append(None)
                continue
            entries.append(_account_info(SYSTEM_PROGRAM, lamports, 0))
        return entries

    def _program_owned(self) -> dict[str, str]:
        """Pool authorities of every token, by the program that owns them."""
        if self._pool_owners is None:
            owners: dict[str, str] = {}
            for index, token in enumerate(self._universe.tokens):
                owners[self._universe.pool(index).authority] = VENUES[token.venue].program
            self._pool_owners = owners
        return self._pool_owners

    def get_token_supply(self, mint: str) -> dict[str, Any]:
        """RPC `getTokenSupply` `value`; NotAMintError (a ValueError) for an address that is not a mint."""
        index = self._universe.token_index.get(mint)
        if index is None:
            raise NotAMintError("not a Token mint")
        token = self._universe.tokens[index]
        return ui_token_amount(supply_raw(token), token.decimals)

    def get_mint_token_accounts(
        self, mint: str, *, page: int = 1, limit: int = MAX_DAS_ACCOUNTS_PER_PAGE
    ) -> dict[str, Any]:
        """Helius DAS `getTokenAccounts` by mint: `{total, limit, page, token_accounts}`, `total` counting
        this page; a page shorter than `limit` is the last. A launch lists its pool and every holder; the
        mega mint its pool and a million holders, generated page by page; another mint of the universe
        only its pool (its holders are not enumerable here); any other address none."""
        if page < 1 or not 1 <= limit <= MAX_DAS_ACCOUNTS_PER_PAGE:
            raise ValueError(f"page must be >= 1 and limit between 1 and {MAX_DAS_ACCOUNTS_PER_PAGE}")
        start, end = (page - 1) * limit, page * limit
        index = self._universe.token_index.get(mint)
        accounts: list[dict[str, Any]] = []
        if index is not None:
            plan = self._launches.by_mint.get(mint)
            if plan is not None and plan.kind == "mega":
                accounts = self._mega_accounts(plan, start, end)
            else:
                accounts = self._mint_holdings(index, plan)[start:end]
        return {"total": len(accounts), "limit": limit, "page": page, "token_accounts": accounts}

    def _das_account(self, address: str, mint: str, owner: str, amount: int) -> dict[str, Any]:
        return {
            "address": address,
            "mint": mint,
            "owner": owner,
            "amount": amount,
            "delegated_amount": 0,
            "frozen": False,
        }

    def _mint_holdings(self, index: int, plan: _LaunchPlan | None) -> list[dict[str, Any]]:
        token = self._universe.tokens[index]
        pool = self._universe.pool(index)
        holders: list[dict[str, Any]] = []
        held = 0
        for wallet in plan.roles if plan is not None else ():
            amount = self._history(wallet).holdings.get(index, 0)
            if amount > 0:
                held += amount
                address = self._renderer.token_account_address(wallet, token.mint)
                holders.append(self._das_account(address, token.mint, wallet, amount))
        # Holders of the universe's memecoins are every wallet that ever traded them: not enumerable here.
        pool_amount = supply_raw(token) - held if plan is not None else supply_raw(token) // 2
        holders.sort(key=lambda entry: str(entry["address"]))
        return [self._das_account(pool.token_vault, token.mint, pool.authority, pool_amount), *holders]

    def _mega_accounts(self, plan: _LaunchPlan, start: int, end: int) -> list[dict[str, Any]]:
        token = self._universe.tokens[plan.token]
        accounts: list[dict[str, Any]] = []
        for position in range(start, min(end, MEGA_HOLDERS + 1)):
            if position == 0:
                pool = self._universe.pool(plan.token)
                accounts.append(
                    self._das_account(
                        pool.token_vault, token.mint, pool.authority, self._launches.mega_pool_amount()
                    )
                )
                continue
            number = position - 1
            owner = self._launches.mega_holder(number)
            _, _, amount, _ = self._launches.mega_buy(number)
            address = self._renderer.token_account_address(owner, token.mint)
            accounts.append(self._das_account(address, token.mint, owner, amount))
        return accounts

    def _mint_ledger(self, mint: str) -> _MintEntries | None:
        plan = self._launches.by_mint.get(mint)
        if plan is None:
            return None
        ledger = self._mint_ledgers.get(mint)
        if ledger is None:
            if plan.kind == "mega":
                ledger = _MegaEntries(self._launches, plan)
            else:
                entries: list[tuple[int, int, str, int]] = []
                for order, wallet in enumerate(plan.roles):
                    history = self._history(wallet)
                    for index in range(len(history)):
                        tx = history.tx(index)
                        if tx.token == plan.token:
                            entries.append((tx.ts, -1 if tx.kind == CREATE else order, wallet, index))
                entries.sort()
                ledger = _ListedEntries([(ts, owner, index) for ts, _, owner, index in entries])
            self._mint_ledgers[mint] = ledger
        return ledger

    def _mint_signatures(
        self, mint: str, *, before: str | None, until: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """`getSignaturesForAddress` of a mint: every transaction that touched it, newest first. Only the
        launch catalogue's mints are listed; the universe's memecoins answer none."""
        ledger = self._mint_ledger(mint)
        if ledger is None:
            return []
        end = len(ledger) if before is None else self._mint_boundary(ledger, before, upper=True)
        start = 0 if until is None else self._mint_boundary(ledger, until, upper=False)
        entries: list[dict[str, Any]] = []
        for position in range(end - 1, max(start, end - limit) - 1, -1):
            _, owner, index = ledger.entry(position)
            history = self._history(owner)
            entries.append(self._renderer.signature_entry(history.tx(index), self._signer(history)(index)))
        return entries

    def _mint_boundary(self, ledger: _MintEntries, signature: str, *, upper: bool) -> int:
        issued = self._issued(signature)
        if issued is None:
            return 0
        address, history, index = issued
        position = ledger.position_of(address, index)
        if position is not None:
            return position if upper else position + 1
        return ledger.index_at_slot(slot_at(history.tx(index).ts), upper=upper)

    # -------------------------------------------------------------------------------------- balances

    def get_sol_balance(self, address: str) -> int:
        """`getBalance` value in lamports: the funding deposit plus every native change since."""
        return self._history(address).final_lamports

    def get_token_accounts(self, address: str, *, program_id: str | None = None) -> list[dict[str, Any]]:
        """`getTokenAccountsByOwner` (jsonParsed) `value` entries for every token still held.

        Both token programs unless `program_id` picks one; the WSOL account shows while it holds WSOL.
        """
        history = self._history(address)
        entries: list[dict[str, Any]] = []
        for index, raw in history.holdings.items():
            token = self._universe.tokens[index]
            entries.append(
                self._renderer.token_account(address, token.mint, token.decimals, raw, token.program)
            )
        if history.wsol_lamports > 0:
            entries.append(
                self._renderer.token_account(
                    address, SOL_MINT, SOL_DECIMALS, history.wsol_lamports, SPL_TOKEN_PROGRAM
                )
            )
        if history.usdc_raw > 0:
            entries.append(
                self._renderer.token_account(
                    address, USDC_MINT, USDC_DECIMALS, history.usdc_raw, SPL_TOKEN_PROGRAM
                )
            )
        if program_id is not None:
            entries = [entry for entry in entries if entry["account"]["owner"] == program_id]
        return sorted(entries, key=lambda entry: str(entry["pubkey"]))

    # -------------------------------------------------------------------------------------- prices

    def get_dex_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]:
        """DexScreener `GET /tokens/v1/solana/{mints}`: one pair per known mint (as base), anchor prices."""
        if len(mints) > MAX_DEX_MINTS_PER_CALL:
            raise ValueError(f"at most {MAX_DEX_MINTS_PER_CALL} token addresses per call")
        pairs: list[dict[str, Any]] = []
        for mint in dict.fromkeys(mints):
            if mint == SOL_MINT:
                pairs.append(self._renderer.sol_pair())
            elif mint in (USDC_MINT, USDT_MINT):
                pairs.append(self._renderer.stable_pair(mint))
            elif mint in self._universe.token_index:
                pairs.append(self._renderer.token_pair(self._universe.token_index[mint]))
        return pairs


@lru_cache(maxsize=4)
def shared_market(seed: int, *, history_cache: int, price_cache_hours: int) -> SimulatedMarket:
    """The process's one market for `seed`: the chain, price and SOL/USD providers ask the same market, so
    its universe, price paths and histories are built and kept once, not once per provider."""
    return SimulatedMarket(seed, history_cache=history_cache, price_cache_hours=price_cache_hours)
