"""A deterministic synthetic Solana market that speaks the real wire formats (SPEC §5).

Pure: no Django, no Redis, no network, no clock, no sleeping. Everything derives from `seed` through
SHA-256 (never Python's salted `hash()`), so the same seed and address give byte-identical answers in every
process. Time is fixed: history lies in the `HISTORY_DAYS` before `ANCHOR_TS`.

What it emits, matching `shared/fixtures/`:
- `get_signatures`: RPC `getSignaturesForAddress` result entries, newest first, `before`/`until` exclusive.
- `get_transactions`: Helius enhanced transactions (`POST /v0/transactions` items), amounts in `accountData`.
- `get_sol_balance` / `get_token_accounts`: RPC `getBalance` value and `getTokenAccountsByOwner` jsonParsed
  `value` entries, consistent with the history.
- `get_dex_pairs`: DexScreener `GET /tokens/v1/solana/{mints}` pair objects.

Signatures resolve without shared state: a signature carries its wallet address (masked) and its index in the
wallet's history, plus a seed-keyed tag, so `get_transactions` regenerates the wallet (cached, LRU) in any
process. Signatures of another seed, another history size or made-up ones fail the tag check and are
omitted, like unknown signatures at Helius.

Model: a universe of memecoins (launch time, decimals, Brownian price path in SOL per whole token) plus
SOL/WSOL, USDC and USDT. A wallet's archetype (flipper, holder, sniper, bot) comes from its address; a fixed
set of families (copy traders following a leader with a 5-120 s lag, bundles buying in the same slot)
share planned trades on top of their own noise trades.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from itertools import accumulate
from typing import Any, Literal

from wallets.addresses import InvalidAddressError, validate_address
from wallets.swaps import LAMPORTS_PER_SOL, SOL_DECIMALS, SOL_MINT, USDC_MINT, USDT_MINT, Direction

__all__ = [
    "ANCHOR_SLOT",
    "ANCHOR_TS",
    "HISTORY_DAYS",
    "MAX_DEX_MINTS_PER_CALL",
    "MAX_SIGNATURES_PER_CALL",
    "MAX_TRANSACTIONS_PER_CALL",
    "SOL_USD_PRICE",
    "SPL_TOKEN_PROGRAM",
    "TOKEN_2022_ACCOUNT_RENT",
    "TOKEN_2022_PROGRAM",
    "TOKEN_ACCOUNT_RENT",
    "WINDOW_START_TS",
    "Archetype",
    "Family",
    "IntendedTrade",
    "SimulatedMarket",
    "TokenInfo",
    "WalletProfile",
    "b58decode",
    "b58encode",
    "slot_at",
]

Archetype = Literal["flipper", "holder", "sniper", "bot"]
FamilyKind = Literal["copy", "bundle"]
FamilyRole = Literal["leader", "follower", "member"]

ANCHOR_TS = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
HISTORY_DAYS = 30
WINDOW_START_TS = ANCHOR_TS - HISTORY_DAYS * 86_400
ANCHOR_SLOT = 450_000_000
SOL_USD_PRICE = 150.0

MAX_SIGNATURES_PER_CALL = 1000
MAX_TRANSACTIONS_PER_CALL = 100
MAX_DEX_MINTS_PER_CALL = 30

SPL_TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
SYSTEM_PROGRAM = "11111111111111111111111111111111"
COMPUTE_BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111"
JUPITER_PROGRAM = "JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4"
RAYDIUM_AUTHORITY = "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1"
# Rent-exempt minimum of a token account: 165 bytes for SPL Token, 170 with Token-2022's ImmutableOwner.
TOKEN_ACCOUNT_RENT = 2_039_280
TOKEN_2022_ACCOUNT_RENT = 2_074_080
BASE_FEE_LAMPORTS = 5_000
U64_MAX_EPOCH = 18_446_744_073_709_551_615

_TOKEN_COUNT = 500
_POPULARITY_ALPHA = 1.3  # Pareto tail of token popularity: a few coins draw most of the trading
_TOKEN_SUPPLY = 1_000_000_000  # whole tokens, pump.fun style
_POOL_FEE = 0.0025
_MIN_SELL_LAMPORTS = 100_000  # below this the network fee eats the proceeds: nobody sells
_MIN_PRICE_SOL = 2e-8  # ~20 SOL market cap: a dead coin floors here instead of drifting to zero
_MAX_PRICE_SOL = 5e-4  # ~500k SOL market cap
_LAUNCH_MARGIN_S = 2 * 3600  # no trade in the first hours of the window, so deposits can precede everything
_HISTORY_CACHE_SIZE = 512
_PRICE_CACHE_HOURS = 256  # per token: bounds a long-lived worker's memory
_NORMAL_TABLE_SIZE = 1 << 14
_FAMILY_COUNTS: tuple[tuple[FamilyKind, int], ...] = (("copy", 3), ("bundle", 3))

_BUY, _SELL, _TRANSFER_IN, _TRANSFER_OUT, _FAILED = range(5)

# ----------------------------------------------------------------------------------------------- base58

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: value for value, char in enumerate(_B58_ALPHABET)}
_B58_PAIRS = [high + low for high in _B58_ALPHABET for low in _B58_ALPHABET]
_B58_CHUNK = 58**10


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58. Two digits per step: signatures are encoded in bulk, so this is a hot path."""
    number = int.from_bytes(data, "big")
    pairs: list[str] = []
    while number:
        number, chunk = divmod(number, _B58_CHUNK)
        for _ in range(5):
            chunk, pair = divmod(chunk, 3364)
            pairs.append(_B58_PAIRS[pair])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + "".join(reversed(pairs)).lstrip("1")


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        value = _B58_INDEX.get(char)
        if value is None:
            raise ValueError(f"invalid base58 character {char!r}")
        number = number * 58 + value
    leading_ones = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading_ones + body


def _address_bytes(address: str) -> bytes:
    """Decode a public key; InvalidAddressError (a ValueError) for anything but base58 of 32 bytes."""
    if validate_address(address) != address:
        raise InvalidAddressError(f"Invalid Solana address {address!r}: surrounding whitespace.")
    return b58decode(address)


def slot_at(timestamp: int) -> int:
    """Slot of a block time: 2.5 slots per second, so distinct seconds never share a slot."""
    return ANCHOR_SLOT - ((ANCHOR_TS - timestamp) * 5) // 2


def _ui_amount_string(raw: int, decimals: int) -> str:
    whole, fraction = divmod(abs(raw), 10**decimals)
    text = str(whole)
    if fraction:
        text += "." + str(fraction).rjust(decimals, "0").rstrip("0")
    return "-" + text if raw < 0 else text


def _significant(value: float, digits: int = 4) -> str:
    """DexScreener-style price string: a few significant digits, never scientific notation."""
    return format(Decimal(f"{value:.{digits}g}"), "f")


# ----------------------------------------------------------------------------------------------- public types


@dataclass(frozen=True, slots=True)
class TokenInfo:
    mint: str
    symbol: str
    name: str
    decimals: int
    launch_ts: int
    program: str  # owning token program id
    venue: str  # primary pool's Helius source: RAYDIUM, PUMP_AMM or METEORA
    popularity: float


@dataclass(frozen=True)
class Family:
    name: str
    kind: FamilyKind
    leader: str
    members: list[str]  # leader first


@dataclass(frozen=True, slots=True)
class WalletProfile:
    address: str
    archetype: Archetype
    family: str | None
    role: FamilyRole | None


@dataclass(frozen=True, slots=True)
class IntendedTrade:
    """What the market meant by one successful swap; extraction of the wire format must agree."""

    signature: str
    timestamp: int
    slot: int
    mint: str
    direction: Direction
    token_amount_raw: int
    token_decimals: int
    sol_amount_lamports: int  # SOL/WSOL paid or received for the tokens, fee and rent excluded
    fee_lamports: int
    source: str
    via_wsol: bool  # quote leg moved through the wallet's WSOL account instead of native SOL
    opened_account: bool  # paid token-account rent (first buy since the account was last closed)
    closed_account: bool  # got the rent back (sold out and closed the account)


# ----------------------------------------------------------------------------------------------- internals


@dataclass(frozen=True, slots=True)
class _Venue:
    source: str
    dex_id: str
    program: str
    error_code: int  # the custom error a failed swap on this venue reports (slippage)


_VENUES = {
    "RAYDIUM": _Venue("RAYDIUM", "raydium", "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8", 30),
    "PUMP_AMM": _Venue("PUMP_AMM", "pumpswap", "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA", 6004),
    "METEORA": _Venue("METEORA", "meteora", "LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo", 6003),
    "JUPITER": _Venue("JUPITER", "jupiter", JUPITER_PROGRAM, 6001),
}

_NAME_ADJECTIVES = (
    "Based", "Giga", "Tiny", "Baby", "Turbo", "Super", "Dark", "Happy", "Sad", "Wild", "Golden", "Cosmic",
    "Sleepy", "Angry", "Little", "Mega", "Frozen", "Lucky", "Crazy", "Silent", "Pixel", "Neon", "Royal",
)  # fmt: skip
_NAME_NOUNS = (
    "Dog", "Cat", "Frog", "Moon", "Pepe", "Whale", "Ape", "Bonk", "Doge", "Hamster", "Panda", "Goat", "Duck",
    "Chad", "Wojak", "Penguin", "Otter", "Shark", "Tiger", "Bull", "Bear", "Rocket", "Banana", "Wizard",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _ArchetypeParams:
    tx_range: tuple[int, int]  # default history length
    size_median_sol: float
    hold_median_s: float
    hold_sigma: float
    hold_bounds_s: tuple[int, int]
    second_buy_p: float
    second_buy_gap_s: tuple[int, int]
    extra_sell_p: float
    never_sell_p: float
    priority_fee_range: tuple[int, int]


_ARCHETYPES: dict[Archetype, _ArchetypeParams] = {
    "flipper": _ArchetypeParams(
        tx_range=(60, 300),
        size_median_sol=0.8,
        hold_median_s=240,
        hold_sigma=0.8,
        hold_bounds_s=(20, 3 * 3600),
        second_buy_p=0.2,
        second_buy_gap_s=(10, 120),
        extra_sell_p=0.35,
        never_sell_p=0.04,
        priority_fee_range=(10_000, 300_000),
    ),
    "holder": _ArchetypeParams(
        tx_range=(20, 90),
        size_median_sol=2.5,
        hold_median_s=3 * 86_400,
        hold_sigma=0.7,
        hold_bounds_s=(6 * 3600, 25 * 86_400),
        second_buy_p=0.45,
        second_buy_gap_s=(3600, 2 * 86_400),
        extra_sell_p=0.4,
        never_sell_p=0.3,
        priority_fee_range=(5_000, 60_000),
    ),
    "sniper": _ArchetypeParams(
        tx_range=(50, 250),
        size_median_sol=0.5,
        hold_median_s=150,
        hold_sigma=0.8,
        hold_bounds_s=(10, 2400),
        second_buy_p=0.1,
        second_buy_gap_s=(2, 30),
        extra_sell_p=0.4,
        never_sell_p=0.04,
        priority_fee_range=(50_000, 800_000),
    ),
    "bot": _ArchetypeParams(
        tx_range=(300, 600),
        size_median_sol=0.15,
        hold_median_s=25,
        hold_sigma=0.6,
        hold_bounds_s=(3, 300),
        second_buy_p=0.0,
        second_buy_gap_s=(1, 2),
        extra_sell_p=0.0,
        never_sell_p=0.01,
        priority_fee_range=(200_000, 2_000_000),
    ),
}
_ARCHETYPE_WEIGHTS: tuple[tuple[Archetype, float], ...] = (
    ("flipper", 0.40),
    ("holder", 0.25),
    ("sniper", 0.20),
    ("bot", 0.15),
)


@dataclass(frozen=True, slots=True)
class _Pool:
    address: str
    authority: str
    token_vault: str
    sol_vault: str


class _PricePath:
    """Log price in SOL per whole token: an early pump trend plus Brownian motion sampled per minute.

    The motion is built lazily as a Brownian bridge hierarchy (days, then hours, then minutes), so asking
    for one minute costs at most one day's 24 and one hour's 60 draws, and every minute is reproducible
    without generating the path before it.
    """

    def __init__(self, seed: bytes, launch_ts: int) -> None:
        rng = random.Random(seed)
        self._seed = seed
        self.launch_ts = launch_ts
        self._log_p0 = math.log(10 ** rng.uniform(math.log10(3e-8), math.log10(3e-6)))
        self._sigma = rng.uniform(0.004, 0.012)  # per sqrt(minute)
        self._pump = rng.uniform(-0.5, 3.0)
        self._pump_tau_min = rng.uniform(30.0, 600.0)
        self._decay_per_min = rng.uniform(0.0, 0.25) / 1440
        days = (ANCHOR_TS + 3 * 86_400 - launch_ts) // 86_400 + 1
        walk = [0.0]
        for _ in range(days):
            walk.append(walk[-1] + rng.gauss(0.0, math.sqrt(1440.0)))
        self._day_points = walk
        self._hour_points: dict[int, array[float]] = {}
        self._minute_points: dict[int, array[float]] = {}

    def price(self, timestamp: int) -> float:
        """Linear between the per-minute samples, so sub-minute round trips still see the price move."""
        elapsed = max(0, timestamp - self.launch_ts)
        minute, second = divmod(elapsed, 60)
        trend = self._pump * (1.0 - math.exp(-minute / self._pump_tau_min)) - self._decay_per_min * minute
        log_price = self._log_p0 + trend + self._sigma * self._motion(minute, second / 60)
        return min(_MAX_PRICE_SOL, max(_MIN_PRICE_SOL, math.exp(log_price)))

    def _motion(self, minute: int, fraction: float) -> float:
        day, minute_of_day = divmod(minute, 1440)
        if day > len(self._day_points) - 2:
            day, minute_of_day, fraction = len(self._day_points) - 2, 1439, 1.0
        hour, minute_of_hour = divmod(minute_of_day, 60)
        hour_key = day * 24 + hour
        minutes = self._minute_points.get(hour_key)
        if minutes is None:
            hours = self._hours(day)
            key = self._seed + b"m" + hour_key.to_bytes(4, "big")
            minutes = _bridge(key, hours[hour], hours[hour + 1], 60, 1.0)
            if len(self._minute_points) >= _PRICE_CACHE_HOURS:
                self._minute_points.clear()
            self._minute_points[hour_key] = minutes
        start = minutes[minute_of_hour]
        return start + (minutes[minute_of_hour + 1] - start) * fraction

    def _hours(self, day: int) -> array[float]:
        hours = self._hour_points.get(day)
        if hours is None:
            key = self._seed + b"h" + day.to_bytes(4, "big")
            hours = _bridge(key, self._day_points[day], self._day_points[day + 1], 24, math.sqrt(60.0))
            self._hour_points[day] = hours
        return hours


@cache
def _normal_table() -> list[float]:
    """Shared standard normal draws: a bridge reads 60 of them at a hashed offset and stride, which is
    several times cheaper than seeding a generator and drawing per hour of price path."""
    rng = random.Random(b"simulated-market-normals")
    return [rng.gauss(0.0, 1.0) for _ in range(_NORMAL_TABLE_SIZE)]


def _bridge(key: bytes, start: float, end: float, steps: int, step_sd: float) -> array[float]:
    """Brownian bridge from start to end: a free walk with its end error spread linearly."""
    table = _normal_table()
    draw = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
    mask = _NORMAL_TABLE_SIZE - 1
    offset, stride = draw & mask, ((draw >> 32) & mask) | 1  # an odd stride visits distinct entries
    walk = [0.0] * (steps + 1)
    total = 0.0
    for step in range(1, steps + 1):
        total += table[(offset + step * stride) & mask] * step_sd
        walk[step] = total
    correction = (end - start - total) / steps
    return array("d", [start + value + correction * step for step, value in enumerate(walk)])


@dataclass(slots=True)
class _Position:
    token: int
    buys: list[tuple[int, int]]  # (timestamp, lamports to spend)
    sells: list[tuple[int, float]]  # (timestamp, share of the holding to sell; 1.0 sells out)
    pinned: bool  # family trades keep their exact timestamps (lags and shared slots are the signal)


@dataclass(slots=True)
class _Event:
    ts: int
    kind: int
    token: int
    amount: int  # lamports for buys and transfers
    share: float  # for sells
    pinned: bool
    order: int


@dataclass(frozen=True, slots=True)
class _Tx:
    signature: str
    ts: int
    kind: int
    token: int  # index into the token universe, -1 for transfers
    token_delta: int  # wallet's raw token change
    sol_delta: int  # wallet's quote change in lamports, fee and rent excluded
    fee: int
    rent_delta: int  # wallet side: minus rent when the token account opens, plus when it closes
    via_wsol: bool
    source: str
    counterparty: str  # transfers only
    wsol_in_lamports: bool  # the PUMP_AMM quirk: WSOL `tokenAmount` in tokenTransfers given in lamports


@dataclass(frozen=True, slots=True)
class _History:
    profile: WalletProfile
    txs: tuple[_Tx, ...]  # oldest first
    index_by_signature: dict[str, int]
    final_lamports: int
    wsol_lamports: int
    holdings: dict[int, int]  # token index -> raw amount still held


@dataclass(slots=True)
class _WalletTraits:
    archetype: Archetype
    size_scale: float
    hour_center: float
    priority_fee: int
    uses_wsol: bool
    skill: float  # chance of passing on a trade that would lose: spreads win rates across wallets
    edge: float  # bots' better fills (they back-run order flow) instead of foresight
    span: tuple[int, int]


class SimulatedMarket:
    """See the module docstring. Thread-safe: caches are guarded, generation is pure."""

    def __init__(
        self,
        seed: int = 0,
        *,
        history_size: int | None = None,
        history_sizes: Mapping[str, int] | None = None,
    ) -> None:
        """`history_size` fixes every wallet's history length to exactly that many transactions (the oldest
        of a longer plan, so the wallet's newest positions stay open); `history_sizes` does it per address,
        e.g. one 5,000-transaction wallet for a sync benchmark. Default lengths depend on the archetype."""
        if history_size is not None and history_size < 1:
            raise ValueError("history_size must be at least 1")
        if history_sizes and min(history_sizes.values()) < 1:
            raise ValueError("history sizes must be at least 1")
        self.seed = seed
        self._seed_bytes = b"simmarket:" + str(seed).encode() + b":"
        self._history_size = history_size
        self._history_sizes = dict(history_sizes or {})
        for address in self._history_sizes:
            _address_bytes(address)
        self._lock = threading.Lock()
        self._histories: OrderedDict[str, _History] = OrderedDict()
        self._tokens: list[TokenInfo] = []
        self._token_index: dict[str, int] = {}
        self._paths: list[_PricePath | None] = []  # built on first use: most tokens are never priced
        self._pools: dict[int, _Pool] = {}
        self._build_tokens()
        self._popularity_cdf = list(accumulate(token.popularity for token in self._tokens))
        self._launch_order = sorted(range(len(self._tokens)), key=lambda i: self._tokens[i].launch_ts)
        self._launch_times = [self._tokens[i].launch_ts for i in self._launch_order]
        self._families: list[Family] = []
        self._membership: dict[str, tuple[Family, FamilyRole]] = {}
        self._family_plans: dict[str, list[_Position]] = {}
        self._family_mints: dict[str, frozenset[int]] = {}
        self._build_families()

    # -------------------------------------------------------------------------------------- derivation

    def _digest(self, *parts: str | int | bytes) -> bytes:
        hasher = hashlib.sha256(self._seed_bytes)
        for part in parts:
            chunk = part if isinstance(part, bytes) else str(part).encode()
            hasher.update(len(chunk).to_bytes(4, "big"))
            hasher.update(chunk)
        return hasher.digest()

    def _derive_address(self, *parts: str | int | bytes) -> str:
        return b58encode(self._digest("address", *parts))

    def _rng(self, *parts: str | int | bytes) -> random.Random:
        return random.Random(self._digest("rng", *parts))

    # -------------------------------------------------------------------------------------- universe

    def _build_tokens(self) -> None:
        launch_low = WINDOW_START_TS - 15 * 86_400
        launch_high = ANCHOR_TS - 6 * 3600
        for index in range(_TOKEN_COUNT):
            rng = self._rng("token", index)
            venue = rng.choices(("PUMP_AMM", "RAYDIUM", "METEORA"), weights=(0.45, 0.35, 0.2))[0]
            adjective, noun = rng.choice(_NAME_ADJECTIVES), rng.choice(_NAME_NOUNS)
            symbol = (adjective[: rng.randint(0, 2)] + noun).upper()[:6]
            mint = b58encode(self._digest("mint", index))
            launch_ts = rng.randint(launch_low, launch_high)
            token = TokenInfo(
                mint=mint,
                symbol=symbol,
                name=f"{adjective} {noun}",
                decimals=6 if venue == "PUMP_AMM" or rng.random() < 0.6 else 9,
                launch_ts=launch_ts,
                program=TOKEN_2022_PROGRAM if rng.random() < 0.06 else SPL_TOKEN_PROGRAM,
                venue=venue,
                popularity=rng.paretovariate(_POPULARITY_ALPHA),
            )
            self._tokens.append(token)
            self._token_index[mint] = index
            self._paths.append(None)

    def _path(self, index: int) -> _PricePath:
        path = self._paths[index]
        if path is None:
            path = _PricePath(self._digest("price", index), self._tokens[index].launch_ts)
            self._paths[index] = path
        return path

    def _pool(self, index: int) -> _Pool:
        pool = self._pools.get(index)
        if pool is None:
            venue = self._tokens[index].venue
            authority = RAYDIUM_AUTHORITY if venue == "RAYDIUM" else self._derive_address("authority", index)
            pool = _Pool(
                self._derive_address("pool", index),
                authority,
                self._derive_address("vault", index),
                self._derive_address("wsol-vault", index),
            )
            self._pools[index] = pool
        return pool

    def tokens(self) -> list[TokenInfo]:
        return list(self._tokens)

    def token(self, mint: str) -> TokenInfo | None:
        index = self._token_index.get(mint)
        return None if index is None else self._tokens[index]

    def price_sol(self, mint: str, timestamp: int = ANCHOR_TS) -> float | None:
        """Price in SOL per whole token at a time; None for a mint outside the universe."""
        if mint == SOL_MINT:
            return 1.0
        if mint in (USDC_MINT, USDT_MINT):
            return 1.0 / SOL_USD_PRICE
        index = self._token_index.get(mint)
        if index is None or timestamp < self._tokens[index].launch_ts:
            return None
        return self._path(index).price(timestamp)

    def sol_usd_price(self) -> float:
        return SOL_USD_PRICE

    def _pick_token(
        self, rng: random.Random, at: int, age_scale_s: float, excluded: frozenset[int]
    ) -> int | None:
        """A token alive at `at`, by popularity and youth (memecoins trade mostly in their first days)."""
        total = self._popularity_cdf[-1]
        for _ in range(30):
            index = bisect_right(self._popularity_cdf, rng.random() * total)
            index = min(index, len(self._tokens) - 1)
            age = at - self._tokens[index].launch_ts
            if age < 60 or index in excluded:
                continue
            if rng.random() < math.exp(-age / age_scale_s) + 0.03:
                return index
        return None

    def _gains(self, token: int, buy_ts: int, sell_ts: int) -> bool:
        """Whether a round trip beats the pool fees."""
        path = self._path(token)
        return path.price(sell_ts) > path.price(buy_ts) * 1.01

    def _launched_between(self, start: int, end: int) -> list[int]:
        low = bisect_left(self._launch_times, start)
        high = bisect_right(self._launch_times, end)
        return self._launch_order[low:high]

    # -------------------------------------------------------------------------------------- families

    def _build_families(self) -> None:
        for kind, count in _FAMILY_COUNTS:
            for number in range(1, count + 1):
                name = f"{kind}-{number}"
                rng = self._rng("family", name)
                size = rng.randint(3, 5)
                members = [self._derive_address("family", name, i) for i in range(size)]
                family = Family(name=name, kind=kind, leader=members[0], members=members)
                self._families.append(family)
                for position, member in enumerate(members):
                    role: FamilyRole = (
                        "member" if kind == "bundle" else ("leader" if position == 0 else "follower")
                    )
                    self._membership[member] = (family, role)
                    self._family_plans[member] = []
                if kind == "copy":
                    self._plan_copy_family(family, rng)
                else:
                    self._plan_bundle_family(family, rng)
                mints = frozenset(p.token for m in members for p in self._family_plans[m])
                for member in members:
                    self._family_mints[member] = mints

    def _plan_copy_family(self, family: Family, rng: random.Random) -> None:
        leader, followers = family.members[0], family.members[1:]
        scales = {follower: 10 ** rng.uniform(-0.5, 0.2) for follower in followers}
        used: set[int] = set()
        wanted = rng.randint(20, 35)
        for _ in range(8 * wanted):
            if len(used) == wanted:
                break
            buy_ts = rng.randint(WINDOW_START_TS + _LAUNCH_MARGIN_S, ANCHOR_TS - 6 * 3600)
            token = self._pick_token(rng, buy_ts - 600, 3 * 86_400, frozenset(used))
            if token is None:
                continue
            hold = int(min(12 * 3600, max(180, rng.lognormvariate(math.log(900), 0.8))))
            # Leaders are worth copying: most of their losing picks are never made.
            if not self._gains(token, buy_ts, buy_ts + hold) and rng.random() < 0.7:
                continue
            used.add(token)
            size = int(10 ** rng.uniform(math.log10(0.5), math.log10(5.0)) * LAMPORTS_PER_SOL)
            sells = [(buy_ts + hold, 1.0)]
            if rng.random() < 0.35:
                sells = [
                    (buy_ts + hold, rng.uniform(0.3, 0.7)),
                    (buy_ts + hold + int(hold * rng.uniform(0.2, 1.0)), 1.0),
                ]
            self._family_plans[leader].append(_Position(token, [(buy_ts, size)], sells, pinned=True))
            for follower in followers:
                if rng.random() > 0.85:
                    continue
                lag = rng.randint(5, 110)
                follower_size = int(size * scales[follower] * rng.uniform(0.8, 1.2))
                follower_sells: list[tuple[int, float]] = []
                previous = buy_ts + lag
                for leader_ts, share in sells:
                    previous = max(leader_ts + rng.randint(5, 240), previous + 5)
                    follower_sells.append((previous, share))
                self._family_plans[follower].append(
                    _Position(token, [(buy_ts + lag, follower_size)], follower_sells, pinned=True)
                )

    def _plan_bundle_family(self, family: Family, rng: random.Random) -> None:
        candidates = self._launched_between(WINDOW_START_TS + _LAUNCH_MARGIN_S, ANCHOR_TS - 12 * 3600)
        tokens = rng.sample(candidates, min(len(candidates), rng.randint(12, 20)))
        for token in tokens:
            buy_ts = self._tokens[token].launch_ts + rng.randint(0, 3)
            buyers = [m for m in family.members if rng.random() < 0.9]
            if len(buyers) < 3:
                buyers = list(family.members)
            for member in buyers:
                size = int(rng.uniform(0.5, 3.0) * LAMPORTS_PER_SOL)
                sells: list[tuple[int, float]] = []
                if rng.random() >= 0.15:
                    hold = int(min(3 * 86_400, max(60, rng.lognormvariate(math.log(2400), 1.0))))
                    sells = [(buy_ts + hold, 1.0)]
                self._family_plans[member].append(_Position(token, [(buy_ts, size)], sells, pinned=True))

    def families(self) -> list[Family]:
        return [Family(f.name, f.kind, f.leader, list(f.members)) for f in self._families]

    def family_mints(self, name: str) -> list[str]:
        """Debug view: the mints a family's shared plan trades (members' own noise avoids them)."""
        for family in self._families:
            if family.name == name:
                return sorted(self._tokens[index].mint for index in self._family_mints[family.leader])
        raise KeyError(name)

    def sample_wallets(self, count: int, *, archetype: Archetype | None = None) -> list[str]:
        """Unrelated addresses (no family), deterministic for the seed; optionally of one archetype."""
        wallets: list[str] = []
        index = 0
        while len(wallets) < count:
            address = self._derive_address("sample", index)
            index += 1
            if archetype is None or self.profile(address).archetype == archetype:
                wallets.append(address)
        return wallets

    def profile(self, address: str) -> WalletProfile:
        address_bytes = _address_bytes(address)
        membership = self._membership.get(address)
        if membership is not None:
            family, role = membership
            archetype: Archetype = "sniper" if family.kind == "bundle" else "flipper"
            return WalletProfile(address, archetype, family.name, role)
        roll = self._rng("archetype", address_bytes).random()
        for name, weight in _ARCHETYPE_WEIGHTS:
            if roll < weight:
                return WalletProfile(address, name, None, None)
            roll -= weight
        return WalletProfile(address, "flipper", None, None)

    # -------------------------------------------------------------------------------------- signatures

    def _size_key(self, address: str) -> int:
        return self._history_sizes.get(address, self._history_size or 0)

    def _signature(self, address_bytes: bytes, size_key: int, index: int) -> str:
        tag = self._digest("sig", address_bytes, size_key, index)[:28]
        mask = hashlib.sha256(b"sigmask" + tag).digest()
        masked = (int.from_bytes(address_bytes, "big") ^ int.from_bytes(mask, "big")).to_bytes(32, "big")
        masked_index = (index ^ int.from_bytes(tag[:4], "big")).to_bytes(4, "big")
        return b58encode(masked + tag + masked_index)

    def _resolve_signature(self, signature: str) -> tuple[str, int] | None:
        """(address, index) of a signature this market issued, else None."""
        try:
            raw = b58decode(signature) if isinstance(signature, str) and len(signature) <= 90 else b""
        except ValueError:
            return None
        if len(raw) != 64:
            return None
        tag = raw[32:60]
        mask = hashlib.sha256(b"sigmask" + tag).digest()
        address_bytes = (int.from_bytes(raw[:32], "big") ^ int.from_bytes(mask, "big")).to_bytes(32, "big")
        index = int.from_bytes(raw[60:], "big") ^ int.from_bytes(tag[:4], "big")
        address = b58encode(address_bytes)
        if self._digest("sig", address_bytes, self._size_key(address), index)[:28] != tag:
            return None
        return address, index

    # -------------------------------------------------------------------------------------- histories

    def _history(self, address: str) -> _History:
        address_bytes = _address_bytes(address)
        with self._lock:
            cached = self._histories.get(address)
            if cached is not None:
                self._histories.move_to_end(address)
                return cached
        history = self._generate(address, address_bytes)
        with self._lock:
            self._histories[address] = history
            while len(self._histories) > _HISTORY_CACHE_SIZE:
                self._histories.popitem(last=False)
        return history

    def _traits(self, profile: WalletProfile, rng: random.Random, target: int) -> _WalletTraits:
        params = _ARCHETYPES[profile.archetype]
        if profile.archetype == "bot":
            # Bots run for a few consecutive whole UTC days at >= 70 swaps a day.
            days = max(1, min(HISTORY_DAYS, round(target / rng.uniform(70, 140))))
            first_day = rng.randint(0, HISTORY_DAYS - days)
            span = (WINDOW_START_TS + first_day * 86_400, WINDOW_START_TS + (first_day + days) * 86_400)
        else:
            days = rng.randint(7, HISTORY_DAYS) if profile.family is None else HISTORY_DAYS
            end = ANCHOR_TS - rng.randint(0, HISTORY_DAYS - days) * 86_400
            span = (max(WINDOW_START_TS + _LAUNCH_MARGIN_S, end - days * 86_400), end)
        low, high = params.priority_fee_range
        return _WalletTraits(
            archetype=profile.archetype,
            size_scale=10 ** rng.uniform(math.log10(0.3), math.log10(4.0)),
            hour_center=rng.uniform(0.0, 24.0),
            priority_fee=int(10 ** rng.uniform(math.log10(low), math.log10(high))),
            uses_wsol=rng.random() < 0.3,
            skill=0.0 if profile.archetype == "bot" else rng.uniform(0.0, 0.7),
            edge=rng.uniform(0.003, 0.009) if profile.archetype == "bot" else 0.0,
            span=span,
        )

    def _target_size(self, address: str, profile: WalletProfile, rng: random.Random) -> int:
        override = self._size_key(address)
        if override:
            return override
        low, high = _ARCHETYPES[profile.archetype].tx_range
        target = rng.randint(low, high)
        if profile.family is not None:
            # Family members trade their own tokens too, but less: the shared plan must stay visible.
            target = int(target * rng.uniform(0.2, 0.4))
        return target

    def _generate(self, address: str, address_bytes: bytes) -> _History:
        profile = self.profile(address)
        rng = self._rng("wallet", address_bytes)
        target = self._target_size(address, profile, rng)
        traits = self._traits(profile, rng, target)
        planned = self._family_plans.get(address, [])
        positions = list(planned)
        pinned_count = sum(len(p.buys) + len(p.sells) for p in planned)
        limit: int | None = None
        noise_target = target
        if self._size_key(address):
            # Some planned trades fall past the anchor or are not worth selling: plan extra, then keep
            # exactly the oldest `target` transactions (the newest positions simply stay open).
            limit = target
            noise_target = int(max(0, target - pinned_count) * 1.15) + 10
        positions += self._noise_positions(rng, traits, noise_target, planned, address)
        events = self._events(rng, traits, positions)
        return self._execute(
            address, address_bytes, profile=profile, traits=traits, rng=rng, events=events, limit=limit
        )

    def _noise_positions(
        self, rng: random.Random, traits: _WalletTraits, target: int, planned: list[_Position], address: str
    ) -> list[_Position]:
        excluded = self._family_mints.get(address, frozenset())
        busy: dict[int, list[tuple[int, int]]] = {}
        for position in planned:
            busy.setdefault(position.token, []).append(_interval(position))
        snipe_pool = (
            self._launched_between(traits.span[0], traits.span[1] - 600)
            if traits.archetype == "sniper"
            else []
        )
        # Busy holders would run out of tokens to hold for days: a long override shortens their holds.
        hold_scale = min(1.0, 150 / target) if traits.archetype == "holder" and target > 150 else 1.0
        positions: list[_Position] = []
        events = 0
        attempts = 0
        while events < target and attempts < 4 * target + 20:
            attempts += 1
            candidate = self._noise_position(
                rng, traits, snipe_pool=snipe_pool, excluded=excluded, hold_scale=hold_scale
            )
            if candidate is None or _overlaps(busy.get(candidate.token, []), _interval(candidate)):
                continue
            busy.setdefault(candidate.token, []).append(_interval(candidate))
            positions.append(candidate)
            events += len(candidate.buys) + len(candidate.sells)
        return positions

    def _noise_position(
        self,
        rng: random.Random,
        traits: _WalletTraits,
        *,
        snipe_pool: list[int],
        excluded: frozenset[int],
        hold_scale: float,
    ) -> _Position | None:
        params = _ARCHETYPES[traits.archetype]
        token: int | None = None
        if snipe_pool and rng.random() < 0.8:
            token = rng.choice(snipe_pool)
            entry = self._tokens[token].launch_ts + rng.randint(1, 20)
            if token in excluded:
                return None
        else:
            entry = self._entry_time(rng, traits)
            age_scale = 10 * 86_400 if traits.archetype == "holder" else 3 * 86_400
            token = self._pick_token(rng, entry, age_scale, excluded)
            if token is None:
                return None
        size_sol = rng.lognormvariate(math.log(params.size_median_sol), 0.6) * traits.size_scale
        lamports = int(min(200.0, max(0.01, size_sol)) * LAMPORTS_PER_SOL)
        buys = [(entry, lamports)]
        if rng.random() < params.second_buy_p:
            buys.append(
                (entry + rng.randint(*params.second_buy_gap_s), int(lamports * rng.uniform(0.3, 1.0)))
            )
        if rng.random() < params.never_sell_p:
            return _Position(token, buys, [], pinned=False)
        low, high = params.hold_bounds_s
        hold = rng.lognormvariate(math.log(params.hold_median_s), params.hold_sigma) * hold_scale
        first_sell = buys[-1][0] + int(min(high, max(low * hold_scale, hold)))
        sells = [(first_sell, 1.0)]
        if rng.random() < params.extra_sell_p:
            second = first_sell + max(2, int((first_sell - entry) * rng.uniform(0.2, 1.0)))
            sells = [(first_sell, rng.uniform(0.3, 0.7)), (second, 1.0)]
        if not self._gains(token, entry, first_sell) and rng.random() < traits.skill:
            return None
        return _Position(token, buys, sells, pinned=False)

    def _entry_time(self, rng: random.Random, traits: _WalletTraits) -> int:
        start, end = traits.span
        if traits.archetype == "bot":
            day = rng.randrange((end - start) // 86_400)
            # Bots stop ten minutes before midnight so a day's trades stay on that UTC day.
            return start + day * 86_400 + rng.randrange(86_400 - 900)
        first_day = (start - WINDOW_START_TS) // 86_400
        last_day = (end - WINDOW_START_TS - 1) // 86_400
        day = rng.randint(first_day, last_day)
        hour = int(rng.gauss(traits.hour_center, 3.5)) % 24
        moment = WINDOW_START_TS + day * 86_400 + hour * 3600 + rng.randrange(3600)
        return min(end - 60, max(start, moment))

    def _events(self, rng: random.Random, traits: _WalletTraits, positions: list[_Position]) -> list[_Event]:
        """Events in time order, one per second at most; pinned family trades keep their exact second."""
        pinned: list[_Event] = []
        loose: list[_Event] = []
        order = 0
        for position in positions:
            bucket = pinned if position.pinned else loose
            for ts, lamports in position.buys:
                bucket.append(_Event(ts, _BUY, position.token, lamports, 0.0, position.pinned, order))
                order += 1
            for ts, share in position.sells:
                bucket.append(_Event(ts, _SELL, position.token, 0, share, position.pinned, order))
                order += 1
        for event in pinned + loose:
            if rng.random() < 0.03:
                failed_ts = event.ts - rng.randint(1, 15)
                loose.append(_Event(failed_ts, _FAILED, event.token, 0, 0.0, False, order))
                order += 1
        for _ in range(rng.randint(0, 3)):
            kind = _TRANSFER_OUT if rng.random() < 0.6 else _TRANSFER_IN
            amount = int(10 ** rng.uniform(-0.5, 1.2) * traits.size_scale * LAMPORTS_PER_SOL)
            loose.append(_Event(self._entry_time(rng, traits), kind, -1, amount, 0.0, False, order))
            order += 1
        taken: set[int] = set()
        placed: list[_Event] = []
        for event in sorted(pinned, key=lambda e: (e.ts, e.order)):
            while event.ts in taken:
                event.ts += 1
            taken.add(event.ts)
            placed.append(event)
        last = WINDOW_START_TS + 59
        for event in sorted(loose, key=lambda e: (e.ts, e.order)):
            event.ts = max(event.ts, last + 1)
            while event.ts in taken:
                event.ts += 1
            last = event.ts
            placed.append(event)
        timeline = sorted((e for e in placed if e.ts < ANCHOR_TS), key=lambda e: e.ts)
        if timeline:
            first = timeline[0].ts
            deposit_ts = max(WINDOW_START_TS, first - rng.randint(60, 3600))
            timeline.insert(0, _Event(deposit_ts, _TRANSFER_IN, -1, 0, 0.0, False, -1))
        return timeline

    def _execute(
        self,
        address: str,
        address_bytes: bytes,
        *,
        profile: WalletProfile,
        traits: _WalletTraits,
        rng: random.Random,
        events: list[_Event],
        limit: int | None,
    ) -> _History:
        """Replay events against the pools: amounts, rent, WSOL routing; then size the funding deposit."""
        family = self._membership.get(address)
        funder = self._derive_address("funder", family[0].name if family else address)
        size_key = self._size_key(address)
        holdings: dict[int, int] = {}
        native = 0
        lowest = 0
        wsol = 0
        drafts: list[dict[str, Any]] = []
        for event in events:
            if len(drafts) == limit:
                break
            draft: dict[str, Any] = {
                "ts": event.ts,
                "kind": event.kind,
                "token": event.token,
                "token_delta": 0,
                "sol_delta": 0,
                "fee": 0,
                "rent_delta": 0,
                "via_wsol": False,
                "source": "SYSTEM_PROGRAM",
                "counterparty": "",
                "wsol_in_lamports": False,
            }
            if event.kind in (_BUY, _SELL, _FAILED):
                token = self._tokens[event.token]
                draft["source"] = "JUPITER" if rng.random() < 0.2 else token.venue
                draft["fee"] = BASE_FEE_LAMPORTS + int(traits.priority_fee * rng.uniform(0.5, 1.5))
                draft["wsol_in_lamports"] = draft["source"] == "PUMP_AMM" and rng.random() < 0.25
            if event.kind == _BUY:
                wsol = self._fill_buy(draft, event, holdings, wsol, traits.uses_wsol and rng.random() < 0.6)
            elif event.kind == _SELL:
                if not holdings.get(event.token):
                    continue
                sold = self._fill_sell(
                    draft,
                    event,
                    holdings,
                    wsol,
                    via_wsol=traits.uses_wsol and rng.random() < 0.25,
                    edge=rng.uniform(0.0, 2 * traits.edge),
                )
                if sold is None:
                    continue
                wsol = sold
            elif event.kind == _TRANSFER_IN:
                draft["counterparty"] = (
                    funder if event.order == -1 else self._derive_address("exchange", rng.randrange(8))
                )
                draft["sol_delta"] = event.amount
            elif event.kind == _TRANSFER_OUT:
                draft["counterparty"] = self._derive_address("exchange", rng.randrange(8))
                draft["sol_delta"] = -event.amount
                draft["fee"] = BASE_FEE_LAMPORTS
            native += _wallet_native_change(draft)
            lowest = min(lowest, native)
            drafts.append(draft)
        if drafts:
            # The first transaction funds the wallet with enough to never go below a cushion.
            cushion = int(rng.uniform(0.2, 3.0) * traits.size_scale * LAMPORTS_PER_SOL)
            drafts[0]["sol_delta"] = cushion - lowest
            native += cushion - lowest
        txs = tuple(
            _Tx(signature=self._signature(address_bytes, size_key, index), **draft)
            for index, draft in enumerate(drafts)
        )
        return _History(
            profile=profile,
            txs=txs,
            index_by_signature={tx.signature: index for index, tx in enumerate(txs)},
            final_lamports=native,
            wsol_lamports=wsol,
            holdings={token: raw for token, raw in holdings.items() if raw > 0},
        )

    def _fill_buy(
        self, draft: dict[str, Any], event: _Event, holdings: dict[int, int], wsol: int, want_wsol: bool
    ) -> int:
        token = self._tokens[event.token]
        price = self._path(event.token).price(event.ts)
        raw = max(1, int(event.amount * (1 - _POOL_FEE) / LAMPORTS_PER_SOL / price * 10**token.decimals))
        via_wsol = want_wsol and wsol >= event.amount
        if event.token not in holdings:
            draft["rent_delta"] = -_rent(token)
            holdings[event.token] = 0
        holdings[event.token] += raw
        draft.update(token_delta=raw, sol_delta=-event.amount, via_wsol=via_wsol)
        return wsol - event.amount if via_wsol else wsol

    def _fill_sell(
        self,
        draft: dict[str, Any],
        event: _Event,
        holdings: dict[int, int],
        wsol: int,
        *,
        via_wsol: bool,
        edge: float,
    ) -> int | None:
        """The WSOL balance after the sale, or None when the sale is not worth its fee (a dust bag stays)."""
        token = self._tokens[event.token]
        held = holdings[event.token]
        raw = held if event.share >= 1.0 else min(held, max(1, int(held * event.share)))
        price = self._path(event.token).price(event.ts)
        proceeds = int(raw / 10**token.decimals * price * (1 - _POOL_FEE + edge) * LAMPORTS_PER_SOL)
        if proceeds < _MIN_SELL_LAMPORTS:
            return None
        if raw == held:
            # Trading frontends close emptied token accounts and refund the rent.
            draft["rent_delta"] = _rent(token)
            del holdings[event.token]
        else:
            holdings[event.token] = held - raw
        draft.update(token_delta=-raw, sol_delta=proceeds, via_wsol=via_wsol)
        return wsol + proceeds if via_wsol else wsol

    # -------------------------------------------------------------------------------------- public: history

    def history_length(self, address: str) -> int:
        return len(self._history(address).txs)

    def intended_trades(self, address: str) -> list[IntendedTrade]:
        """Debug view: the successful swaps the market generated for a wallet, oldest first."""
        trades: list[IntendedTrade] = []
        for tx in self._history(address).txs:
            if tx.kind not in (_BUY, _SELL):
                continue
            token = self._tokens[tx.token]
            trades.append(
                IntendedTrade(
                    signature=tx.signature,
                    timestamp=tx.ts,
                    slot=slot_at(tx.ts),
                    mint=token.mint,
                    direction="buy" if tx.kind == _BUY else "sell",
                    token_amount_raw=abs(tx.token_delta),
                    token_decimals=token.decimals,
                    sol_amount_lamports=abs(tx.sol_delta),
                    fee_lamports=tx.fee,
                    source=tx.source,
                    via_wsol=tx.via_wsol,
                    opened_account=tx.rent_delta < 0,
                    closed_account=tx.rent_delta > 0,
                )
            )
        return trades

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
        history = self._history(address)
        txs = history.txs
        end = len(txs)
        if before is not None:
            end = self._boundary(history, before, upper=True)
        start = 0
        if until is not None:
            start = self._boundary(history, until, upper=False)
        entries: list[dict[str, Any]] = []
        for index in range(end - 1, start - 1, -1):
            if len(entries) == limit:
                break
            tx = txs[index]
            entries.append(
                {
                    "blockTime": tx.ts,
                    "confirmationStatus": "finalized",
                    "err": self._error(tx),
                    "memo": None,
                    "signature": tx.signature,
                    "slot": slot_at(tx.ts),
                }
            )
        return entries

    def _boundary(self, history: _History, signature: str, *, upper: bool) -> int:
        """Index bound for an exclusive `before` (upper) or `until` (lower) signature."""
        position = history.index_by_signature.get(signature)
        if position is not None:
            return position if upper else position + 1
        resolved = self._resolve_signature(signature)
        if resolved is None:
            return 0
        other_address, other_index = resolved
        other = self._history(other_address).txs
        if other_index >= len(other):
            return 0
        slot = slot_at(other[other_index].ts)
        slots = [slot_at(tx.ts) for tx in history.txs]
        return bisect_left(slots, slot) if upper else bisect_right(slots, slot)

    def get_transactions(self, signatures: Sequence[str]) -> list[dict[str, Any]]:
        """Helius `POST /v0/transactions`: enhanced transactions in request order; unknown ones omitted."""
        if len(signatures) > MAX_TRANSACTIONS_PER_CALL:
            raise ValueError(f"at most {MAX_TRANSACTIONS_PER_CALL} signatures per call")
        result: list[dict[str, Any]] = []
        for signature in signatures:
            resolved = self._resolve_signature(signature)
            if resolved is None:
                continue
            address, index = resolved
            history = self._history(address)
            if index < len(history.txs):
                result.append(self._render(address, history.txs[index]))
        return result

    # -------------------------------------------------------------------------------------- public: balances

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
            token = self._tokens[index]
            entries.append(self._token_account(address, token.mint, token.decimals, raw, token.program))
        if history.wsol_lamports > 0:
            entries.append(
                self._token_account(address, SOL_MINT, SOL_DECIMALS, history.wsol_lamports, SPL_TOKEN_PROGRAM)
            )
        if program_id is not None:
            entries = [entry for entry in entries if entry["account"]["owner"] == program_id]
        return sorted(entries, key=lambda entry: str(entry["pubkey"]))

    def _token_account(self, owner: str, mint: str, decimals: int, raw: int, program: str) -> dict[str, Any]:
        is_native = mint == SOL_MINT
        is_2022 = program == TOKEN_2022_PROGRAM
        rent = TOKEN_2022_ACCOUNT_RENT if is_2022 else TOKEN_ACCOUNT_RENT
        space = 170 if is_2022 else 165
        info: dict[str, Any] = {
            "isNative": is_native,
            "mint": mint,
            "owner": owner,
            "state": "initialized",
            "tokenAmount": _token_amount(raw, decimals),
        }
        if is_native:
            info["rentExemptReserve"] = _token_amount(rent, SOL_DECIMALS)
        return {
            "pubkey": self._wsol_account(owner) if is_native else self._token_account_address(owner, mint),
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

    def _token_account_address(self, owner: str, mint: str) -> str:
        return self._derive_address("ata", owner, mint)

    def _wsol_account(self, owner: str) -> str:
        return self._derive_address("ata", owner, SOL_MINT)

    # -------------------------------------------------------------------------------------- public: prices

    def get_dex_pairs(self, mints: Sequence[str]) -> list[dict[str, Any]]:
        """DexScreener `GET /tokens/v1/solana/{mints}`: one pair per known mint (as base), anchor prices."""
        if len(mints) > MAX_DEX_MINTS_PER_CALL:
            raise ValueError(f"at most {MAX_DEX_MINTS_PER_CALL} token addresses per call")
        pairs: list[dict[str, Any]] = []
        for mint in dict.fromkeys(mints):
            if mint == SOL_MINT:
                pairs.append(self._sol_pair())
            elif mint in (USDC_MINT, USDT_MINT):
                pairs.append(self._stable_pair(mint))
            elif mint in self._token_index:
                pairs.append(self._token_pair(self._token_index[mint]))
        return pairs

    def _token_pair(self, index: int) -> dict[str, Any]:
        token = self._tokens[index]
        path = self._path(index)
        pool = self._pool(index)
        price = path.price(ANCHOR_TS)
        rng = self._rng("pair", index)
        market_cap_sol = price * _TOKEN_SUPPLY
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
            "dexId": _VENUES[token.venue].dex_id,
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

    def _sol_pair(self) -> dict[str, Any]:
        pair = "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"
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

    def _stable_pair(self, mint: str) -> dict[str, Any]:
        symbol = "USDC" if mint == USDC_MINT else "USDT"
        pair = self._derive_address("stable-pair", mint)
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

    # -------------------------------------------------------------------------------------- rendering

    def _error(self, tx: _Tx) -> dict[str, Any] | None:
        if tx.kind != _FAILED:
            return None
        return {"InstructionError": [2, {"Custom": _VENUES[tx.source].error_code}]}

    def _render(self, wallet: str, tx: _Tx) -> dict[str, Any]:
        if tx.kind in (_TRANSFER_IN, _TRANSFER_OUT):
            return self._render_transfer(wallet, tx)
        if tx.kind == _FAILED:
            return self._render_failed(wallet, tx)
        return self._render_swap(wallet, tx)

    def _envelope(self, tx: _Tx, *, description: str, kind: str, fee_payer: str) -> dict[str, Any]:
        return {
            "description": description,
            "type": kind,
            "source": tx.source,
            "fee": tx.fee,
            "feePayer": fee_payer,
            "signature": tx.signature,
            "slot": slot_at(tx.ts),
            "timestamp": tx.ts,
            "tokenTransfers": [],
            "nativeTransfers": [],
            "accountData": [],
            "transactionError": self._error(tx),
            "instructions": [],
            "events": {},
        }

    def _render_transfer(self, wallet: str, tx: _Tx) -> dict[str, Any]:
        incoming = tx.kind == _TRANSFER_IN
        sender, receiver = (tx.counterparty, wallet) if incoming else (wallet, tx.counterparty)
        amount = abs(tx.sol_delta)
        fee = BASE_FEE_LAMPORTS
        body = self._envelope(
            tx,
            description=f"{sender} transferred {_ui_amount_string(amount, SOL_DECIMALS)} SOL to {receiver}.",
            kind="TRANSFER",
            fee_payer=sender,
        )
        body["fee"] = fee
        body["nativeTransfers"] = [{"fromUserAccount": sender, "toUserAccount": receiver, "amount": amount}]
        body["accountData"] = [
            _account(sender, -(amount + fee)),
            _account(receiver, amount),
            _account(SYSTEM_PROGRAM, 0),
        ]
        return body

    def _render_failed(self, wallet: str, tx: _Tx) -> dict[str, Any]:
        token = self._tokens[tx.token]
        body = self._envelope(tx, description="", kind="UNKNOWN", fee_payer=wallet)
        body["accountData"] = [
            _account(wallet, -tx.fee),
            _account(self._token_account_address(wallet, token.mint), 0),
            _account(COMPUTE_BUDGET_PROGRAM, 0),
            _account(_VENUES[tx.source].program, 0),
            _account(token.mint, 0),
        ]
        return body

    def _render_swap(self, wallet: str, tx: _Tx) -> dict[str, Any]:
        token = self._tokens[tx.token]
        pool = self._pool(tx.token)
        buying = tx.kind == _BUY
        sol = abs(tx.sol_delta)
        quantity = abs(tx.token_delta)
        token_account = self._token_account_address(wallet, token.mint)
        # Native-SOL routes wrap into a temporary WSOL account that is closed within the same transaction.
        wsol_account = (
            self._wsol_account(wallet) if tx.via_wsol else self._derive_address("tmp-wsol", tx.signature)
        )
        sol_ui, token_ui = _ui_amount_string(sol, SOL_DECIMALS), _ui_amount_string(quantity, token.decimals)
        description = ""
        if tx.source in ("RAYDIUM", "JUPITER"):
            spent, got = (
                (f"{sol_ui} SOL", f"{token_ui} {token.symbol}")
                if buying
                else (f"{token_ui} {token.symbol}", f"{sol_ui} SOL")
            )
            description = f"{wallet} swapped {spent} for {got}"
        body = self._envelope(tx, description=description, kind="SWAP", fee_payer=wallet)
        sol_from = (wallet, wsol_account) if buying else (pool.authority, pool.sol_vault)
        sol_to = (pool.authority, pool.sol_vault) if buying else (wallet, wsol_account)
        sol_amount = float(sol) if tx.wsol_in_lamports else sol / LAMPORTS_PER_SOL
        token_from = (pool.authority, pool.token_vault) if buying else (wallet, token_account)
        token_to = (wallet, token_account) if buying else (pool.authority, pool.token_vault)
        body["tokenTransfers"] = [
            _token_transfer(sol_from, sol_to, sol_amount, SOL_MINT),
            _token_transfer(token_from, token_to, quantity / 10**token.decimals, token.mint),
        ]
        if not buying:
            body["tokenTransfers"].reverse()
        native_transfers: list[dict[str, Any]] = []
        if not tx.via_wsol:
            source, target = (wallet, wsol_account) if buying else (wsol_account, wallet)
            native_transfers.append({"fromUserAccount": source, "toUserAccount": target, "amount": sol})
        if tx.rent_delta < 0:
            native_transfers.append(
                {"fromUserAccount": wallet, "toUserAccount": token_account, "amount": -tx.rent_delta}
            )
        elif tx.rent_delta > 0:
            native_transfers.append(
                {"fromUserAccount": token_account, "toUserAccount": wallet, "amount": tx.rent_delta}
            )
        body["nativeTransfers"] = native_transfers
        wsol_entry = (
            _account(
                wsol_account,
                tx.sol_delta,
                _balance_change(wallet, wsol_account, SOL_MINT, tx.sol_delta, SOL_DECIMALS),
            )
            if tx.via_wsol
            else _account(wsol_account, 0)
        )
        venue_program = _VENUES[token.venue].program
        body["accountData"] = [
            _account(wallet, _wallet_native_change_of(tx)),
            _account(
                token_account,
                -tx.rent_delta,
                _balance_change(wallet, token_account, token.mint, tx.token_delta, token.decimals),
            ),
            wsol_entry,
            _account(
                pool.token_vault,
                0,
                _balance_change(
                    pool.authority, pool.token_vault, token.mint, -tx.token_delta, token.decimals
                ),
            ),
            _account(
                pool.sol_vault,
                -tx.sol_delta,
                _balance_change(pool.authority, pool.sol_vault, SOL_MINT, -tx.sol_delta, SOL_DECIMALS),
            ),
            _account(pool.address, 0),
            _account(COMPUTE_BUDGET_PROGRAM, 0),
            _account(SYSTEM_PROGRAM, 0),
            _account(token.program, 0),
            _account(venue_program, 0),
            *([_account(JUPITER_PROGRAM, 0)] if tx.source == "JUPITER" else []),
            _account(token.mint, 0),
            _account(SOL_MINT, 0),
        ]
        if tx.source == "JUPITER":
            body["events"] = {"swap": self._swap_event(wallet, tx, token, token_account)}
        return body

    def _swap_event(self, wallet: str, tx: _Tx, token: TokenInfo, token_account: str) -> dict[str, Any]:
        sol = {"account": wallet, "amount": str(abs(tx.sol_delta))}
        tokens = [_balance_change(wallet, token_account, token.mint, abs(tx.token_delta), token.decimals)]
        buying = tx.kind == _BUY
        return {
            "nativeInput": sol if buying else None,
            "nativeOutput": None if buying else sol,
            "tokenInputs": [] if buying else tokens,
            "tokenOutputs": tokens if buying else [],
            "nativeFees": [],
            "tokenFees": [],
            "innerSwaps": [],
        }


# ----------------------------------------------------------------------------------------------- helpers


def _interval(position: _Position) -> tuple[int, int]:
    end = position.sells[-1][0] if position.sells else ANCHOR_TS
    return position.buys[0][0] - 30, end + 30


def _overlaps(intervals: Iterable[tuple[int, int]], candidate: tuple[int, int]) -> bool:
    return any(start < candidate[1] and candidate[0] < end for start, end in intervals)


def _rent(token: TokenInfo) -> int:
    return TOKEN_2022_ACCOUNT_RENT if token.program == TOKEN_2022_PROGRAM else TOKEN_ACCOUNT_RENT


def _wallet_native_change(draft: Mapping[str, Any]) -> int:
    kind = draft["kind"]
    if kind == _TRANSFER_IN:
        return int(draft["sol_delta"])
    if kind == _TRANSFER_OUT:
        return int(draft["sol_delta"]) - int(draft["fee"])
    if kind == _FAILED:
        return -int(draft["fee"])
    quote = 0 if draft["via_wsol"] else int(draft["sol_delta"])
    return quote + int(draft["rent_delta"]) - int(draft["fee"])


def _wallet_native_change_of(tx: _Tx) -> int:
    return (0 if tx.via_wsol else tx.sol_delta) + tx.rent_delta - tx.fee


def _token_amount(raw: int, decimals: int) -> dict[str, Any]:
    return {
        "amount": str(raw),
        "decimals": decimals,
        "uiAmount": raw / 10**decimals,
        "uiAmountString": _ui_amount_string(raw, decimals),
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
