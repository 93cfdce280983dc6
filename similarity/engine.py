"""Pairwise wallet similarity, vectorised with numpy + scipy.sparse. No Django, no Redis.

Every channel scores each pair of wallets of one set in [0, 1] (the definitions users read are in
docs/METHODS.md §5; this is how they are computed):

- ``capital_cosine``: cosine of the wallets' capital vectors (SOL spent per token / total SOL spent).
- ``binary_cosine``: cosine of the traded-token indicator vectors, |A and B| / sqrt(|A|·|B|) unweighted.
- ``jaccard_traded``: |A and B| / |A or B| of the traded-token sets (never down-weighted).
- ``holdings_cosine``: cosine of the current holding weights; ``holdings_jaccard``: Jaccard of the sets of
  mints currently held with a positive weight.
- ``co_trade``: buying together beyond chance. A co-buy is a token both wallets first bought within
  ``co_trade_window_s`` of each other (inclusive). Each co-buy weighs 1 / log2(k), k the number of wallets of
  the set whose first buy of that token lies within the window of either of the pair's buys (k >= 2; the
  Adamic-Adar weight of link prediction: a launch ten wallets sniped says less than a buy only the two made).
  The sum counts max(0, 2c - 1), c the share of co-buys that keep the pair's usual lag: the signed lag
  between their first buys within ``co_trade_lag_tolerance`` (30 %) of the pair's median lag, which for a
  median of 0 means the same second. A copier keeps a steady lag behind its leader,
  a bundle buys in the same second; a fast bot and a slower sniper both react to each launch, not to each
  other, so their gaps vary from launch to launch and score 0 however often the bot is first, and bots
  racing for the same launches, either of them first, share the same second only now and then. With at
  least ``co_trade_min_events`` co-buys the score is that sum over sqrt(N_a · N_b), N the tokens each wallet
  bought: a bot that bought 300 launches scores at most 1/sqrt(300) with a wallet that bought one of them.
  Below that many co-buys the score is 0.
- ``funding``: 1 when both wallets' first funder (the source of the earliest SOL transfer in of their synced
  history) is the same wallet, or when one of them sent SOL to the other; 0 otherwise. Funders in
  ``ignored_funders`` (exchange and custodial hot wallets, services seen funding too many wallets) and any
  that funded more than ``funder_max_fanout`` wallets of the set never count.
- ``combined``: the weighted sum of the channels with :data:`DEFAULT_WEIGHTS` (normalised to sum to 1).

Conventions: excluded mints (quote assets, liquid-staking tokens) are dropped before anything else. The
diagonal of every matrix is 1; a wallet with no data for a channel scores 0 with everyone on it.

Down-weighting: in a set of at least ``common_token_min_wallets`` wallets, a token traded (held) by more than
``common_token_share`` of them has its component scaled by ``common_token_weight`` in the capital and binary
(holdings) cosines.

Cost and memory: each cosine/Jaccard is a Gram matrix X·Xᵀ; tokens touched by many wallets are multiplied
as a dense block with BLAS, the long tail with a sparse product (cost: the sum over tokens of wallets per
token squared). ``co_trade`` and ``funding`` are sparse from the start: co-buys are enumerated per token from
the token-then-time sorted buys with ``searchsorted`` (cost: the number of co-buys) and reduced to one row
per pair and lag, from which each pair's median lag and steady co-buys come by cumulative counts (looked up
only for the pairs that co-bought at more than one lag, a small share of them). The pairs are scored in
blocks of rows; up to ``dense_matrices_max_wallets`` wallets the n x n matrices of every channel are kept for
the result, above it only what the result reports (top pairs, strong edges, a histogram for the median) is
kept, so memory stays at a few blocks whatever n.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from types import MappingProxyType
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from similarity.clusters import DEFAULT_HUB_MIN_GROUPS, find_communities, find_hubs
from wallets.swaps import LAMPORTS_PER_SOL, SOL_MINT, USDC_MINT, USDT_MINT, SwapLeg

MSOL_MINT = "mSoLzYCxHdYgdzU16g5QSh3i5K3z3KZK7ytfqcJm7So"
JITOSOL_MINT = "J1toso1uCk3RLmjorhTtrVwY9HJ7X8V9yYac6Y7kGCPn"
BSOL_MINT = "bSo13r4TkiE4KumL71LsHTPpL2euBYLFx6h9HP3piy1"
STSOL_MINT = "7dHbWXmci3dT8UFYWYZweBLXgycu7Y3iL6trKn1Y7ARj"
INF_MINT = "5oVNBeEEQvYi1cX3ir8Dx5n1P7pdxydbGF2X4TxVusJm"
JUPSOL_MINT = "jupSoLaHXQiZZTSfEWMTRRgpnyFm8f6sZdosWBjx93v"
LST_MINTS = frozenset({MSOL_MINT, JITOSOL_MINT, BSOL_MINT, STSOL_MINT, INF_MINT, JUPSOL_MINT})
DEFAULT_EXCLUDED_MINTS = frozenset({SOL_MINT, USDC_MINT, USDT_MINT}) | LST_MINTS

CAPITAL_COSINE = "capital_cosine"
CO_TRADE = "co_trade"
FUNDING = "funding"
BINARY_COSINE = "binary_cosine"
JACCARD_TRADED = "jaccard_traded"
HOLDINGS_COSINE = "holdings_cosine"
HOLDINGS_JACCARD = "holdings_jaccard"
COMBINED = "combined"
CHANNELS = (
    CAPITAL_COSINE,
    CO_TRADE,
    FUNDING,
    BINARY_COSINE,
    JACCARD_TRADED,
    HOLDINGS_COSINE,
    HOLDINGS_JACCARD,
)

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        CAPITAL_COSINE: 0.01,
        CO_TRADE: 0.65,
        FUNDING: 0.30,
        BINARY_COSINE: 0.01,
        JACCARD_TRADED: 0.01,
        HOLDINGS_COSINE: 0.01,
        HOLDINGS_JACCARD: 0.01,
    }
)
"""Weights of ``combined``; they sum to 1 so ``combined`` stays in [0, 1]. Why these values, and the
distributions they were calibrated on (``bench/calibrate_similarity.py``), are in docs/METHODS.md §5."""

DEFAULT_CLUSTER_THRESHOLD = 0.06
DEFAULT_COMMON_TOKEN_SHARE = 0.5
DEFAULT_COMMON_TOKEN_WEIGHT = 0.25
DEFAULT_CO_TRADE_MIN_EVENTS = 3
DEFAULT_CO_TRADE_LAG_TOLERANCE = 0.3
DEFAULT_FUNDER_MAX_FANOUT = 100
DEFAULT_DENSE_MATRICES_MAX_WALLETS = 2_000
# Two wallets are linked (for finding hubs) when their co-buys make up this share of the smaller one's buys:
# low enough that two followers of one leader who also trade on their own stay linked (the simulated market's
# lowest is 0.32), so the leader is no hub between strangers (docs/METHODS.md §5, "Hubs").
LINK_MIN_CO_BUY_SHARE = 0.25
# A cluster's reasons are the channels that bring at least this share of its mean combined score.
REASON_MIN_SHARE = 0.25

# A token column is multiplied densely (BLAS) when more than this share of the wallets touch it: the sparse
# product costs (wallets per token)² per column, the dense one n² at a far higher rate. Tuned on the
# benchmark in float32 (1/32: 0.100 s per Gram, 1/64: 0.080 s, 1/128: 0.097 s, 1/256: 0.140 s at 2,000
# wallets).
_DENSE_COLUMN_SHARE = 1 / 64
_DENSE_COLUMN_MIN = 8
# Up to this many cells (wallets x tokens) a matrix is multiplied all dense: below it, scipy's fixed cost per
# sparse operation (some 80 of them per analysis) was most of a few-wallet job's similarity time
# (docs/BENCHMARKS.md, "Task overhead"), and the dense product of so few cells is microseconds.
_ALL_DENSE_MAX_CELLS = 1 << 16
# Upper bound of co-buy pairs materialised at once (a few int64 arrays each): keeps memory flat under bundles.
_PAIR_CHUNK = 4_000_000
# Rows scored at once above dense_matrices_max_wallets: a block holds ~10 float64 arrays of rows x n.
_BLOCK_ROWS = 512
# Rows whose pairs with every wallet give the median and mean above dense_matrices_max_wallets.
_SAMPLE_ROWS = 256
_ROUND = 4
# Lags are whole seconds: slack far below one second keeps a band edge that lands on a whole second inside.
_LAG_SLACK = 1e-9
_HISTOGRAM_BINS = 10**_ROUND + 1

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TokenTrade:
    """One wallet's activity on one mint: SOL spent buying it, SOL received selling it, first buy time."""

    mint: str
    sol_spent: float
    sol_received: float
    first_buy_at: int | None  # unix seconds of the first buy; None when the wallet only sold it
    buy_count: int
    sell_count: int


@dataclass(frozen=True, slots=True)
class FundingTransfer:
    """SOL sent to a wallet: by whom, how much, when, in which transaction."""

    source: str
    lamports: int
    timestamp: int
    signature: str

    def to_dict(self, receiver: str) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": receiver,
            "lamports": self.lamports,
            "sol": round(self.lamports / LAMPORTS_PER_SOL, 9),
            "at": self.timestamp,
            "signature": self.signature,
        }


@dataclass(frozen=True, slots=True)
class WalletFunding:
    """What the synced history says about who funded a wallet.

    ``first`` is the earliest SOL transfer in of the synced history, ``received`` the earliest transfer from
    each sender (``first`` among them). ``history_complete`` says whether the synced history reaches the
    wallet's first transaction; when it does not, ``first`` is only the earliest funder seen so far.
    """

    first: FundingTransfer | None
    received: Sequence[FundingTransfer] = ()
    history_complete: bool = True


@dataclass(frozen=True, slots=True)
class WalletActivity:
    """A wallet's trades (one :class:`TokenTrade` per mint), current holdings (mint -> weight >= 0) and,
    when known, its funding."""

    address: str
    trades: Sequence[TokenTrade]
    holdings: Mapping[str, float]
    funding: WalletFunding | None = None


def activity_from_legs(
    address: str,
    legs: Iterable[SwapLeg],
    holdings: Mapping[str, float],
    funding: WalletFunding | None = None,
) -> WalletActivity:
    """Summarise a wallet's swap legs per mint. A leg without a SOL value still counts as a trade (0 SOL)."""
    spent: dict[str, float] = {}
    received: dict[str, float] = {}
    first_buy: dict[str, int | None] = {}
    buys: dict[str, int] = {}
    sells: dict[str, int] = {}
    for leg in legs:
        mint = leg.mint
        if mint not in first_buy:
            spent[mint] = received[mint] = 0.0
            first_buy[mint] = None
            buys[mint] = sells[mint] = 0
        sol = leg.sol_value or 0.0
        if leg.direction == "buy":
            spent[mint] += sol
            buys[mint] += 1
            previous = first_buy[mint]
            first_buy[mint] = leg.timestamp if previous is None else min(previous, leg.timestamp)
        else:
            received[mint] += sol
            sells[mint] += 1
    trades = tuple(
        TokenTrade(mint, spent[mint], received[mint], first_buy[mint], buys[mint], sells[mint])
        for mint in first_buy
    )
    return WalletActivity(address=address, trades=trades, holdings=dict(holdings), funding=funding)


def normalised_holdings(balances: Mapping[str, Mapping[str, Any] | None]) -> dict[str, dict[str, float]]:
    """Holding weights from balances (``{"tokens": [{mint, ui_amount}]}`` per wallet): each token's amount
    relative to its largest holder in the set, so tokens of any supply compare."""
    largest: dict[str, float] = {}
    for balance in balances.values():
        for token in (balance or {}).get("tokens", []):
            largest[token["mint"]] = max(largest.get(token["mint"], 0.0), float(token["ui_amount"]))
    return {
        wallet: {
            token["mint"]: float(token["ui_amount"]) / largest[token["mint"]]
            for token in (balance or {}).get("tokens", [])
            if largest.get(token["mint"])
        }
        for wallet, balance in balances.items()
    }


MIN_WALLETS = 2
"""Similarity compares pairs: fewer wallets than this leave nothing to compare."""


class InsufficientWalletsError(ValueError):
    """Similarity needs at least MIN_WALLETS wallets."""


@dataclass(frozen=True)
class SimilarityOptions:
    """Tuning of :func:`compute_similarity`; the defaults are the documented product behaviour."""

    excluded_mints: frozenset[str] = DEFAULT_EXCLUDED_MINTS
    # Tokens traded (held) by more than this share of the set are down-weighted; None disables it.
    common_token_share: float | None = DEFAULT_COMMON_TOKEN_SHARE
    common_token_weight: float = DEFAULT_COMMON_TOKEN_WEIGHT
    # "Most of the set" means nothing for 2 or 3 wallets (every shared token would be "common").
    common_token_min_wallets: int = 10
    co_trade_window_s: int = 300
    co_trade_min_events: int = DEFAULT_CO_TRADE_MIN_EVENTS
    # A co-buy keeps the pair's usual lag when |lag - median lag| <= this share of |median lag|.
    co_trade_lag_tolerance: float = DEFAULT_CO_TRADE_LAG_TOLERANCE
    # Funders that never link wallets (address -> why): exchange and custodial hot wallets, busy services.
    ignored_funders: Mapping[str, str] = field(default_factory=dict)
    funder_max_fanout: int = DEFAULT_FUNDER_MAX_FANOUT
    # Edges of the cluster graph: pairs with combined >= this.
    cluster_threshold: float = DEFAULT_CLUSTER_THRESHOLD
    hub_min_groups: int = DEFAULT_HUB_MIN_GROUPS
    cluster_resolution: float = 1.0
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    top_pairs: int = 50
    evidence_tokens: int = 10
    dense_matrices_max_wallets: int = DEFAULT_DENSE_MATRICES_MAX_WALLETS

    def __post_init__(self) -> None:
        object.__setattr__(self, "excluded_mints", frozenset(self.excluded_mints))
        object.__setattr__(self, "ignored_funders", MappingProxyType(dict(self.ignored_funders)))
        share = self.common_token_share
        if share is not None and not 0 < share <= 1:
            raise ValueError("common_token_share must be in (0, 1] or None")
        if not 0 <= self.common_token_weight <= 1:
            raise ValueError("common_token_weight must be in [0, 1]")
        if self.co_trade_window_s < 0:
            raise ValueError("co_trade_window_s must be >= 0")
        if self.co_trade_min_events < 1:
            raise ValueError("co_trade_min_events must be >= 1")
        if not 0 <= self.co_trade_lag_tolerance < 1:
            raise ValueError("co_trade_lag_tolerance must be in [0, 1)")
        if self.funder_max_fanout < 1:
            raise ValueError("funder_max_fanout must be >= 1")
        if not 0 < self.cluster_threshold <= 1:
            raise ValueError("cluster_threshold must be in (0, 1]")
        if self.hub_min_groups < 2:
            raise ValueError("hub_min_groups must be >= 2")
        if not 0 < self.cluster_resolution <= 100:
            raise ValueError("cluster_resolution must be in (0, 100]")
        if self.top_pairs < 0 or self.evidence_tokens < 0 or self.dense_matrices_max_wallets < 0:
            raise ValueError("top_pairs, evidence_tokens and dense_matrices_max_wallets must be >= 0")
        unknown = set(self.weights) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels in weights: {sorted(unknown)}")
        values = list(self.weights.values())
        if any(not math.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
            raise ValueError("weights must be finite, >= 0 and not all 0")

    def channel_weights(self) -> dict[str, float]:
        """Weights of every channel, normalised to sum to 1 so that ``combined`` stays in [0, 1]."""
        total = sum(self.weights.values())
        return {name: float(self.weights.get(name, 0.0)) / total for name in CHANNELS}


# --- result types -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SharedToken:
    """A token both wallets traded. weight_* is its share of the wallet's capital vector; lag_s is
    first_buy(wallet_b) - first_buy(wallet_a) (positive: wallet_a bought first), None if either never
    bought it."""

    mint: str
    weight_a: float
    weight_b: float
    lag_s: int | None


@dataclass(frozen=True, slots=True)
class CoTradeEvidence:
    """Co-buys of a pair: how many, their rarity-weighted sum, the median |lag|, the wallet that bought first
    in more of them with the share of co-buys in which it did (None on a tie, e.g. a bundle buying in the
    same second), and the share of co-buys that keep the pair's usual lag (what co_trade counts)."""

    count: int
    weighted: float
    median_lag_s: float | None
    leader: str | None
    lead_share: float | None
    steady_share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "weighted": round(self.weighted, _ROUND),
            "median_lag_s": self.median_lag_s,
            "leader": self.leader,
            "lead_share": None if self.lead_share is None else round(self.lead_share, _ROUND),
            "steady_share": None if self.steady_share is None else round(self.steady_share, _ROUND),
        }


@dataclass(frozen=True, slots=True)
class FundingEvidence:
    """Why a pair scores 1 on funding: their shared first funder, SOL sent from one to the other, or both,
    with the transfers that show it."""

    shared_funder: str | None
    direct: bool
    transfers: Sequence[tuple[str, FundingTransfer]]  # (receiver, transfer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "shared_funder": self.shared_funder,
            "direct": self.direct,
            "transfers": [transfer.to_dict(receiver) for receiver, transfer in self.transfers],
        }


@dataclass(frozen=True, slots=True)
class PairEvidence:
    wallet_a: str
    wallet_b: str
    scores: Mapping[str, float]  # every channel plus combined
    shared_tokens: Sequence[SharedToken]
    co_trade: CoTradeEvidence
    funding: FundingEvidence | None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"wallet_a": self.wallet_a, "wallet_b": self.wallet_b}
        out.update({name: round(score, _ROUND) for name, score in self.scores.items()})
        out["shared_tokens"] = [
            {
                "mint": token.mint,
                "weight_a": round(token.weight_a, 6),
                "weight_b": round(token.weight_b, 6),
                "lag_s": token.lag_s,
            }
            for token in self.shared_tokens
        ]
        out["co_trade_evidence"] = self.co_trade.to_dict()
        out["funding_evidence"] = None if self.funding is None else self.funding.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class Cluster:
    """A community of the graph of pairs with combined >= threshold (see similarity.clusters).

    ``mean_combined`` and ``channel_means`` average over every pair of its members, not only over the
    edges; ``cohesion`` is the share of its member pairs that are edges (1: everyone linked to everyone);
    ``reasons`` are the channels that hold it together, strongest first."""

    id: int
    wallets: Sequence[str]
    mean_combined: float
    cohesion: float
    reasons: Sequence[str]
    channel_means: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "wallets": list(self.wallets),
            "mean_combined": round(self.mean_combined, _ROUND),
            "cohesion": round(self.cohesion, _ROUND),
            "reasons": list(self.reasons),
            "channel_means": {name: round(value, _ROUND) for name, value in self.channel_means.items()},
        }


@dataclass(frozen=True, slots=True)
class HubReport:
    """A wallet linked to several groups of wallets that are not linked to each other."""

    wallet: str
    links: int
    groups: int
    cluster: int | None  # the cluster it belongs to, when its strong links stay inside one group

    def to_dict(self) -> dict[str, Any]:
        return {"wallet": self.wallet, "links": self.links, "groups": self.groups, "cluster": self.cluster}


@dataclass(frozen=True, slots=True)
class FunderReport:
    """A wallet's first funder as the funding channel used it.

    status: ``funder`` (it counts), ``ignored`` (an exchange, a custodian or a busy service: ``reason``
    says which) or ``unknown`` (no SOL transfer in the synced history)."""

    wallet: str
    status: str
    transfer: FundingTransfer | None
    history_complete: bool
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "funder": None if self.transfer is None else self.transfer.source,
            "history_complete": self.history_complete,
            "reason": self.reason,
        }
        if self.transfer is not None:
            details = self.transfer.to_dict(self.wallet)
            out.update({key: details[key] for key in ("lamports", "sol", "at", "signature")})
        return out


@dataclass(frozen=True, slots=True)
class GlobalStats:
    median_similarity: float  # median of the off-diagonal combined scores, at the output's 4 decimals
    mean_similarity: float
    top_pairs: Sequence[tuple[str, str, float]]  # the first 5 pairs
    wallet_count: int
    token_count: int  # distinct non-excluded mints traded or held
    excluded_token_count: int  # distinct excluded mints seen in the input
    common_token_count: int  # distinct tokens down-weighted on the trade or holdings channels
    channel_weights: Mapping[str, float]
    cluster_threshold: float
    co_trade_window_s: int
    co_trade_min_events: int
    co_trade_lag_tolerance: float
    funder_max_fanout: int
    cluster_note: str | None  # why clusters is empty, when it is
    matrices_note: str | None  # why matrices are left out, when they are

    def to_dict(self) -> dict[str, Any]:
        return {
            "median_similarity": round(self.median_similarity, _ROUND),
            "mean_similarity": round(self.mean_similarity, _ROUND),
            "top_pairs": [[a, b, round(score, _ROUND)] for a, b, score in self.top_pairs],
            "wallet_count": self.wallet_count,
            "token_count": self.token_count,
            "excluded_token_count": self.excluded_token_count,
            "common_token_count": self.common_token_count,
            "channel_weights": dict(self.channel_weights),
            "cluster_threshold": self.cluster_threshold,
            "co_trade_window_s": self.co_trade_window_s,
            "co_trade_min_events": self.co_trade_min_events,
            "co_trade_lag_tolerance": self.co_trade_lag_tolerance,
            "funder_max_fanout": self.funder_max_fanout,
            "cluster_note": self.cluster_note,
            "matrices_note": self.matrices_note,
        }


@dataclass(frozen=True)
class SimilarityResult:
    """Matrices stay float32 numpy arrays (unrounded) until :meth:`to_dict` needs JSON; they are empty
    above ``dense_matrices_max_wallets`` wallets (``global_stats.matrices_note`` says so)."""

    wallets: Sequence[str]
    failed_wallets: Sequence[Mapping[str, str]]
    matrices: Mapping[str, NDArray[np.float32]]  # CHANNELS + combined, each n x n in wallet order
    pairs: Sequence[PairEvidence]  # sorted by combined desc, then by wallet order
    clusters: Sequence[Cluster]
    hubs: Sequence[HubReport]
    funders: Mapping[str, FunderReport]  # wallets whose funding was given
    global_stats: GlobalStats

    def to_dict(self, *, include_matrices: bool = True) -> dict[str, Any]:
        """JSON-safe output. Matrices are rounded to 4 decimals; with 2,000 wallets they weigh ~200 MB of
        JSON, so callers that store or send only the summary pass include_matrices=False (key omitted)."""
        out: dict[str, Any] = {
            "wallets": list(self.wallets),
            "failed_wallets": [dict(f) for f in self.failed_wallets],
        }
        if include_matrices and self.matrices:
            out["matrices"] = {
                name: np.round(matrix.astype(np.float64), _ROUND).tolist()
                for name, matrix in self.matrices.items()
            }
        out["pairs"] = [pair.to_dict() for pair in self.pairs]
        out["clusters"] = [cluster.to_dict() for cluster in self.clusters]
        out["hubs"] = [hub.to_dict() for hub in self.hubs]
        out["funders"] = {wallet: report.to_dict() for wallet, report in self.funders.items()}
        out["global"] = self.global_stats.to_dict()
        return out


# --- inputs -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Inputs:
    """Wallet x token data in sparse form. Trade arrays are sorted by (row, col), one entry per pair."""

    wallets: list[str]
    mints: list[str]
    excluded_seen: int
    trade_indptr: IntArray
    trade_cols: IntArray
    spent: FloatArray
    first_buy: FloatArray  # NaN when the wallet never bought the token
    held: Any  # csr_array n x m of holding weights > 0
    funding: list[WalletFunding | None]

    @property
    def n(self) -> int:
        return len(self.wallets)

    @property
    def m(self) -> int:
        return len(self.mints)

    def trade_rows(self) -> IntArray:
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.trade_indptr))


def _build_inputs(activities: Sequence[WalletActivity], excluded: frozenset[str]) -> _Inputs:
    wallets = [activity.address for activity in activities]
    if len(set(wallets)) != len(wallets):
        raise ValueError("duplicate wallet addresses in the similarity input")
    n = len(wallets)
    # Flat lists + map/attrgetter keep the per-trade work in C: this is the only Python-speed part and was
    # ~20% of the runtime at 2,000 wallets when written as a loop.
    trades = [trade for activity in activities for trade in activity.trades]
    trade_mints = list(map(attrgetter("mint"), trades))
    held_mints = [mint for activity in activities for mint in activity.holdings]
    held_values = [value for activity in activities for value in activity.holdings.values()]
    seen = dict.fromkeys(chain(trade_mints, held_mints))  # distinct mints in order of first appearance
    mints = [mint for mint in seen if mint not in excluded]
    vocab = {mint: col for col, mint in enumerate(mints)}
    excluded_seen = excluded.intersection(seen)
    vocab.update(dict.fromkeys(excluded_seen, -1))

    t_rows = np.repeat(np.arange(n, dtype=np.int64), [len(activity.trades) for activity in activities])
    t_cols = np.fromiter(map(vocab.__getitem__, trade_mints), dtype=np.int64, count=len(trades))
    spent = np.fromiter(map(attrgetter("sol_spent"), trades), dtype=np.float64, count=len(trades))
    # numpy reads None as NaN in a float array: "no known first buy".
    first = np.array(list(map(attrgetter("first_buy_at"), trades)), dtype=np.float64)
    first[~np.isfinite(first)] = math.nan  # an unusable timestamp counts as "no known first buy"
    keep = t_cols >= 0
    indptr, cols, t_spent, t_first = _merge_trades(
        t_rows[keep], t_cols[keep], _non_negative(spent[keep]), np.trunc(first[keep]), n=n, m=len(mints)
    )

    h_rows = np.repeat(np.arange(n, dtype=np.int64), [len(activity.holdings) for activity in activities])
    h_cols = np.fromiter(map(vocab.__getitem__, held_mints), dtype=np.int64, count=len(held_mints))
    h_values = _non_negative(np.asarray(held_values, dtype=np.float64))
    keep = h_cols >= 0
    # coo -> csr sums a mint listed twice; zero weights are no holding.
    held = sp.coo_array((h_values[keep], (h_rows[keep], h_cols[keep])), shape=(n, len(mints))).tocsr()
    held.eliminate_zeros()
    return _Inputs(
        wallets=wallets,
        mints=mints,
        excluded_seen=len(excluded_seen),
        trade_indptr=indptr,
        trade_cols=cols,
        spent=t_spent,
        first_buy=t_first,
        held=held,
        funding=[activity.funding for activity in activities],
    )


def _non_negative(values: FloatArray) -> FloatArray:
    """Bad upstream numbers (NaN, inf, negative) become 0 rather than poisoning every cosine."""
    values = np.where(np.isfinite(values), values, 0.0)
    return np.maximum(values, 0.0)


def _merge_trades(
    rows: IntArray, cols: IntArray, spent: FloatArray, first: FloatArray, *, n: int, m: int
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Sort trades by (wallet, token) and merge repeated (wallet, token) entries: sum spent, earliest buy."""
    key = rows * max(m, 1) + cols
    order = np.argsort(key, kind="stable")
    key, rows, cols, spent, first = key[order], rows[order], cols[order], spent[order], first[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, dtype=np.int64)
    if starts.size != key.size:
        spent = np.add.reduceat(spent, starts)
        first = np.fmin.reduceat(first, starts)  # fmin ignores NaN (a merged entry without a buy)
        rows, cols = rows[starts], cols[starts]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols, spent, first


# --- prepared operands --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GramOperand:
    """X split by columns for X[rows]·X[cols]ᵀ: popular columns dense (BLAS), the long tail sparse; float32,
    which halves the memory traffic and doubles the BLAS rate (the scores are published to 4 decimals)."""

    head: NDArray[np.float32]  # n x h
    tail: Any  # csr n x (m - h); None when every column is dense
    tail_t: Any  # csc (m - h) x n, so column ranges are cheap; None when every column is dense
    squared_norms: FloatArray  # diag of X·Xᵀ
    rows: Any  # X itself (csr, float64), for dot products of chosen pairs

    @classmethod
    def of(cls, matrix: Any, *, dense_head: bool = True) -> _GramOperand:
        """`dense_head` False keeps every column sparse: for sets that only score chosen pairs and a few
        sampled rows, where n x (popular tokens) dense floats would be memory spent for nothing."""
        n, m = matrix.shape
        if dense_head and n * m <= _ALL_DENSE_MAX_CELLS:
            dense = matrix.toarray()
            squared_norms = np.einsum("ij,ij->i", dense, dense)
            return cls(
                head=dense.astype(np.float32),
                tail=None,
                tail_t=None,
                squared_norms=squared_norms,
                rows=matrix.tocsr(),
            )
        wallets_per_token = np.bincount(matrix.indices, minlength=m)
        is_dense = wallets_per_token > max(_DENSE_COLUMN_MIN, _DENSE_COLUMN_SHARE * n)
        if not dense_head:
            is_dense[:] = False
        by_column = matrix.astype(np.float32).tocsc()
        head = by_column[:, np.flatnonzero(is_dense)].toarray()
        tail = by_column[:, np.flatnonzero(~is_dense)].tocsr()
        squared = np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float64).ravel()
        return cls(head=head, tail=tail, tail_t=tail.T.tocsc(), squared_norms=squared, rows=matrix.tocsr())

    def pair_dots(self, a: IntArray, b: IntArray) -> FloatArray:
        """x_a · x_b for each chosen pair: the cost is the entries of those rows, not n²."""
        dots: FloatArray = np.asarray(self.rows[a].multiply(self.rows[b]).sum(axis=1), dtype=np.float64)
        return dots.ravel()

    def gram(self, rows: Index, cols: Index) -> NDArray[np.float32]:
        out: NDArray[np.float32] = self.head[rows] @ self.head[cols].T
        if self.tail is not None:
            out += (self.tail[rows] @ self.tail_t[:, cols]).toarray()
        return out


@dataclass(frozen=True)
class _Operands:
    n: int
    capital: _GramOperand
    traded: _GramOperand
    traded_reweight: tuple[Any, FloatArray] | None  # (columns whose weight != 1, weight² - 1)
    binary_squared_norms: FloatArray
    held: _GramOperand
    held_indicator: _GramOperand
    bought_tokens: FloatArray  # per wallet: tokens with a known first buy
    co_buys: _CoBuys
    co_trade: Any  # csr n x n, min events and normalisation applied
    funding: _Funding


def _traded_indicator(data: _Inputs) -> Any:
    ones = np.ones(data.trade_cols.size, dtype=np.float64)
    return sp.csr_array((ones, data.trade_cols.copy(), data.trade_indptr.copy()), shape=(data.n, data.m))


def _capital_shares(data: _Inputs) -> Any:
    """Rows are SOL spent per token / total SOL spent by the wallet; all-zero for a wallet that spent none."""
    totals = np.bincount(data.trade_rows(), weights=data.spent, minlength=data.n)
    per_entry = np.repeat(totals, np.diff(data.trade_indptr))
    shares = np.divide(data.spent, per_entry, out=np.zeros_like(data.spent), where=per_entry > 0)
    # Copies: eliminate_zeros rewrites indptr/indices in place, and they are shared with `data`.
    matrix = sp.csr_array((shares, data.trade_cols.copy(), data.trade_indptr.copy()), shape=(data.n, data.m))
    matrix.eliminate_zeros()
    return matrix


def _indicator(matrix: Any) -> Any:
    out = matrix.copy()
    out.data = np.ones_like(out.data)
    return out


def _column_weights(matrix: Any, opts: SimilarityOptions) -> FloatArray:
    """Per-token component weight: common_token_weight for tokens in more than the share of wallets."""
    n, m = matrix.shape
    weights = np.ones(m, dtype=np.float64)
    if opts.common_token_share is None or n < opts.common_token_min_wallets:
        return weights
    wallets_per_token = np.bincount(matrix.indices, minlength=m)
    weights[wallets_per_token > opts.common_token_share * n] = opts.common_token_weight
    return weights


def _scale_columns(matrix: Any, weights: FloatArray) -> Any:
    out = matrix.copy()
    out.data = out.data * weights[out.indices]
    return out


def _scores_every_pair(n: int, opts: SimilarityOptions) -> bool:
    """Whether every pair is scored (small sets, or weights that let token overlap alone reach the
    threshold), rather than only the pairs with co-trading or funding evidence (_scan_evidence_pairs)."""
    weights = opts.channel_weights()
    token_weight = sum(weight for name, weight in weights.items() if name not in (CO_TRADE, FUNDING))
    return n <= opts.dense_matrices_max_wallets or token_weight >= opts.cluster_threshold


def _prepare(data: _Inputs, opts: SimilarityOptions) -> tuple[_Operands, int]:
    """Every operand of the pair scores, and how many tokens were down-weighted."""
    every_pair = _scores_every_pair(data.n, opts)
    traded = _traded_indicator(data)
    trade_w = _column_weights(traded, opts)
    held_w = _column_weights(data.held, opts)
    changed = np.flatnonzero(trade_w != 1.0)
    reweight = None
    if changed.size:
        reweight = (traded.tocsc()[:, changed].tocsr(), trade_w[changed] ** 2 - 1.0)
    binary_norms = np.asarray(_scale_columns(traded, trade_w).power(2).sum(axis=1), dtype=np.float64).ravel()
    rows = data.trade_rows()
    bought = ~np.isnan(data.first_buy)
    co_buys = _co_buys(
        rows[bought],
        data.trade_cols[bought],
        data.first_buy[bought],
        n=data.n,
        window=opts.co_trade_window_s,
        tolerance=opts.co_trade_lag_tolerance,
    )
    bought_tokens = np.bincount(rows[bought], minlength=data.n).astype(np.float64)
    operands = _Operands(
        n=data.n,
        capital=_GramOperand.of(_scale_columns(_capital_shares(data), trade_w), dense_head=every_pair),
        traded=_GramOperand.of(traded, dense_head=every_pair),
        traded_reweight=reweight,
        binary_squared_norms=binary_norms,
        held=_GramOperand.of(_scale_columns(data.held, held_w), dense_head=every_pair),
        held_indicator=_GramOperand.of(_indicator(data.held), dense_head=every_pair),
        bought_tokens=bought_tokens,
        co_buys=co_buys,
        co_trade=_co_trade(co_buys, bought_tokens, opts.co_trade_min_events),
        funding=_funding_matrix(data, opts),
    )
    return operands, int(np.count_nonzero((trade_w != 1.0) | (held_w != 1.0)))


# --- scoring a block of pairs -------------------------------------------------------------------------------

Block = NDArray[np.float32]
# Wallets of one side of a block: a range of them, or any chosen ones (a cluster's members).
Index = slice | IntArray


def _inverse(values: FloatArray) -> NDArray[np.float32]:
    """1 / values, with 0 where a value is 0 (a wallet with no data scores 0 with everyone)."""
    out = np.zeros(values.size, dtype=np.float32)
    np.divide(1.0, values, out=out, where=values > 0, casting="unsafe")
    return out


def _cosine_block(gram: Block, squared: FloatArray, rows: Index, cols: Index) -> Block:
    """In place: G[a, b] / (|a|·|b|), at most 1 (float rounding can leave a cosine at 1 + 1e-7)."""
    inverse = _inverse(np.sqrt(squared))
    # One product per pair (x·y == y·x exactly), so a square block stays exactly symmetric.
    gram *= np.multiply.outer(inverse[rows], inverse[cols])
    np.minimum(gram, 1.0, out=gram)
    return gram


def _jaccard_block(intersection: Block, sizes: FloatArray, rows: Index, cols: Index) -> Block:
    """|A∩B| / (|A| + |B| - |A∩B|); 0 when both sets are empty (the union, an integer, is then 0 -> 1)."""
    union = sizes[rows].astype(np.float32)[:, None] + sizes[cols].astype(np.float32)[None, :]
    union -= intersection
    np.maximum(union, 1.0, out=union)
    return np.divide(intersection, union, out=union)


def _score_block(ops: _Operands, rows: Index, cols: Index, weights: Mapping[str, float]) -> dict[str, Block]:
    """Every channel and combined for the pairs rows x cols (ranges or chosen wallets), float32, 1 where a
    wallet meets itself."""
    out: dict[str, Block] = {}
    out[CAPITAL_COSINE] = _cosine_block(ops.capital.gram(rows, cols), ops.capital.squared_norms, rows, cols)
    intersection = ops.traded.gram(rows, cols)
    binary = intersection.copy()
    if ops.traded_reweight is not None:
        block, factor = ops.traded_reweight
        binary += ((block[rows] @ sp.diags_array(factor)) @ block[cols].T).toarray()
    out[BINARY_COSINE] = _cosine_block(binary, ops.binary_squared_norms, rows, cols)
    out[JACCARD_TRADED] = _jaccard_block(intersection, ops.traded.squared_norms, rows, cols)
    out[HOLDINGS_COSINE] = _cosine_block(ops.held.gram(rows, cols), ops.held.squared_norms, rows, cols)
    held_both = ops.held_indicator.gram(rows, cols)
    out[HOLDINGS_JACCARD] = _jaccard_block(held_both, ops.held_indicator.squared_norms, rows, cols)
    out[CO_TRADE] = ops.co_trade[rows][:, cols].toarray()
    out[FUNDING] = ops.funding.graph[rows][:, cols].toarray().astype(np.float32)
    diagonal = _diagonal(ops.n, rows, cols)
    for matrix in out.values():
        matrix[diagonal] = 1.0
    out[COMBINED] = _combine(out, weights)
    out[COMBINED][diagonal] = 1.0  # the weights' float32 sum can fall a hair short of 1
    return out


def _diagonal(n: int, rows: Index, cols: Index) -> tuple[IntArray, IntArray]:
    """Local positions of the block's entries where a wallet meets itself."""
    row_ids, col_ids = np.arange(n)[rows], np.arange(n)[cols]
    _, local_rows, local_cols = np.intersect1d(row_ids, col_ids, assume_unique=True, return_indices=True)
    return local_rows.astype(np.int64), local_cols.astype(np.int64)


def _combine(channels: Mapping[str, Block], weights: Mapping[str, float]) -> Block:
    combined = np.zeros_like(channels[CAPITAL_COSINE])
    scratch = np.empty_like(combined)
    for name in CHANNELS:
        if weights[name]:
            np.multiply(channels[name], np.float32(weights[name]), out=scratch)
            combined += scratch
    np.minimum(combined, 1.0, out=combined)
    return combined


@dataclass
class _Scan:
    """What a pass over every pair keeps: matrices (small sets only), strong edges, the best pairs, and a
    histogram of combined scores at the output's precision (for the median at any size)."""

    matrices: dict[str, Block]
    edge_a: list[IntArray] = field(default_factory=list)
    edge_b: list[IntArray] = field(default_factory=list)
    edge_score: list[FloatArray] = field(default_factory=list)
    best_a: list[IntArray] = field(default_factory=list)
    best_b: list[IntArray] = field(default_factory=list)
    best_scores: list[dict[str, FloatArray]] = field(default_factory=list)
    histogram: IntArray = field(default_factory=lambda: np.zeros(_HISTOGRAM_BINS, dtype=np.int64))
    total: float = 0.0
    sampled: bool = False  # only pairs with evidence were scored; median and mean come from a sample


def _row_blocks(n: int, keep: bool) -> Iterator[tuple[slice, slice]]:
    """(rows, cols) ranges covering the upper triangle: every row against itself and the wallets after it,
    or, when the matrices are kept, all rows against all wallets at once."""
    if keep:
        yield slice(0, n), slice(0, n)
        return
    for start in range(0, n, _BLOCK_ROWS):
        yield slice(start, min(n, start + _BLOCK_ROWS)), slice(start, n)


def _upper_mask(rows: slice, cols: slice, n: int) -> NDArray[np.bool_]:
    """Which entries of the block are pairs above the diagonal (column wallet after row wallet)."""
    row_ids = np.arange(n)[rows]
    col_ids = np.arange(n)[cols]
    return col_ids[None, :] > row_ids[:, None]


def _score_pairs(
    ops: _Operands, a: IntArray, b: IntArray, weights: Mapping[str, float]
) -> dict[str, FloatArray]:
    """Every channel and combined for a list of pairs (a[i], b[i]) with a[i] != b[i]."""

    def cosine(dots: FloatArray, squared: FloatArray) -> FloatArray:
        norms = np.sqrt(squared[a] * squared[b])
        return np.minimum(np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0), 1.0)

    def jaccard(both: FloatArray, sizes: FloatArray) -> FloatArray:
        return both / np.maximum(sizes[a] + sizes[b] - both, 1.0)

    out: dict[str, FloatArray] = {}
    out[CAPITAL_COSINE] = cosine(ops.capital.pair_dots(a, b), ops.capital.squared_norms)
    intersection = ops.traded.pair_dots(a, b)
    binary = intersection.copy()
    if ops.traded_reweight is not None:
        block, factor = ops.traded_reweight
        binary += np.asarray((block[a] @ sp.diags_array(factor)).multiply(block[b]).sum(axis=1)).ravel()
    out[BINARY_COSINE] = cosine(binary, ops.binary_squared_norms)
    out[JACCARD_TRADED] = jaccard(intersection, ops.traded.squared_norms)
    out[HOLDINGS_COSINE] = cosine(ops.held.pair_dots(a, b), ops.held.squared_norms)
    out[HOLDINGS_JACCARD] = jaccard(ops.held_indicator.pair_dots(a, b), ops.held_indicator.squared_norms)
    out[CO_TRADE] = np.asarray(ops.co_trade[a, b], dtype=np.float64).ravel()
    out[FUNDING] = np.asarray(ops.funding.graph[a, b], dtype=np.float64).ravel()
    combined = np.zeros(a.size, dtype=np.float64)
    for name in CHANNELS:
        combined += weights[name] * out[name]
    out[COMBINED] = np.minimum(combined, 1.0)
    return out


def _scan_evidence_pairs(ops: _Operands, opts: SimilarityOptions, weights: Mapping[str, float]) -> _Scan:
    """Above dense_matrices_max_wallets, when the token channels' weights together stay below the cluster
    threshold: a pair with neither a co-trade score nor a funding tie can then never be an edge, so only the
    pairs with such evidence are scored (exactly, pair by pair), which gives the edges, the hubs and the top
    pairs among them; the median and mean come from every pair of a seeded sample of rows."""
    n = ops.n
    scan = _Scan(matrices={}, sampled=True)
    evidence = sp.triu(ops.co_trade, k=1) + sp.triu(ops.funding.graph, k=1).astype(np.float64)
    evidence = evidence.tocoo()
    a, b = evidence.row.astype(np.int64), evidence.col.astype(np.int64)
    scores = _score_pairs(ops, a, b, weights)
    strong = np.flatnonzero(scores[COMBINED] >= opts.cluster_threshold)
    scan.edge_a, scan.edge_b, scan.edge_score = [a[strong]], [b[strong]], [scores[COMBINED][strong]]
    scan.best_a, scan.best_b, scan.best_scores = [a], [b], [scores]
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(n, size=min(n, _SAMPLE_ROWS), replace=False))
    combined = _score_block(ops, sample, slice(0, n), weights)[COMBINED]
    others = np.arange(n)[None, :] != sample[:, None]
    values = combined[others]
    # Each sampled row sees every other wallet: the sample's share of all ordered pairs scales its counts.
    pair_count = n * (n - 1) // 2
    scale = pair_count / max(values.size, 1)
    scan.total = float(values.sum(dtype=np.float64)) * scale
    scan.histogram = np.bincount(
        np.rint(values * np.float32(10**_ROUND)).astype(np.int64), minlength=_HISTOGRAM_BINS
    )
    return scan


def _scan_pairs(ops: _Operands, opts: SimilarityOptions, weights: Mapping[str, float]) -> _Scan:
    n = ops.n
    keep = n <= opts.dense_matrices_max_wallets
    if not _scores_every_pair(n, opts):
        return _scan_evidence_pairs(ops, opts, weights)
    names = (*CHANNELS, COMBINED)
    scan = _Scan(matrices={})
    threshold = np.float32(opts.cluster_threshold)
    for rows, cols in _row_blocks(n, keep):
        channels = _score_block(ops, rows, cols, weights)
        combined = channels[COMBINED]
        if keep:
            scan.matrices = channels
        upper = _upper_mask(rows, cols, n)
        values = combined[upper]
        scan.total += float(values.sum(dtype=np.float64))
        histogram = np.bincount(
            np.rint(values * np.float32(10**_ROUND)).astype(np.int64), minlength=_HISTOGRAM_BINS
        )
        scan.histogram += histogram
        del values
        local_a, local_b = np.nonzero(upper & (combined >= threshold))
        scan.edge_a.append(local_a + rows.start)
        scan.edge_b.append(local_b + cols.start)
        scan.edge_score.append(combined[local_a, local_b].astype(np.float64))
        cut = _top_cut(histogram, opts.top_pairs)
        if cut is None:
            continue
        local_a, local_b = np.nonzero(upper & (combined >= cut) & (combined > 0))
        scan.best_a.append(local_a + rows.start)
        scan.best_b.append(local_b + cols.start)
        scan.best_scores.append({name: channels[name][local_a, local_b].astype(np.float64) for name in names})
    return scan


def _top_cut(histogram: IntArray, k: int) -> np.float32 | None:
    """A score at or below the k-th highest of the block (from its histogram of rounded scores), so only
    the few scores above it are sorted; None when the block has nothing to rank."""
    if k == 0 or not histogram.any():
        return None
    from_top = np.cumsum(histogram[::-1])
    cut_bin = _HISTOGRAM_BINS - 1 - int(np.searchsorted(from_top, k))
    # A score rounds into bin b from (b - 0.5) / 10^4 up: one bin lower is a safe (inclusive) cut.
    return np.float32(max(cut_bin - 1, 0) / 10**_ROUND)


def _histogram_median(histogram: IntArray) -> float:
    total = int(histogram.sum())
    cumulative = np.cumsum(histogram)
    low = int(np.searchsorted(cumulative, (total + 1) // 2))
    high = int(np.searchsorted(cumulative, total // 2 + 1))
    return (low + high) / 2 / 10**_ROUND


# --- co_trade -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CoBuys:
    """Per pair of wallets (csr n x n, one sparsity pattern, symmetric): co-buys, their rarity-weighted sum,
    and the co-buys whose lag keeps the pair's usual lag (within ``co_trade_lag_tolerance`` of the median)."""

    counts: Any
    weighted: Any
    steady: Any

    def steady_share(self) -> Any:
        """Per stored entry: the share of the pair's co-buys that keep its usual lag."""
        return self.steady.data / np.maximum(self.counts.data, 1.0)


def _co_trade(co_buys: _CoBuys, bought_tokens: FloatArray, min_events: int) -> Any:
    """The co_trade channel as a sparse symmetric n x n matrix (see the module doc)."""
    n = co_buys.counts.shape[0]
    counts = co_buys.counts.tocoo()
    enough = counts.data >= min_events
    a, b = counts.row[enough], counts.col[enough]
    steady = np.maximum(2.0 * co_buys.steady_share()[enough] - 1.0, 0.0)
    values = co_buys.weighted.data[enough] * steady / np.sqrt(bought_tokens[a] * bought_tokens[b])
    return sp.coo_array((np.minimum(values, 1.0), (a, b)), shape=(n, n)).tocsr()


def _co_buys(
    rows: IntArray, cols: IntArray, times: FloatArray, *, n: int, window: int, tolerance: float
) -> _CoBuys:
    """Co-buys of every pair (see _CoBuys).

    Buys are sorted by (token, time) and encoded as one increasing key, token * stride + time offset, with a
    stride wider than the time span plus twice the window so that no window crosses into the next token.
    For each buy, searchsorted finds the buys within the window before and after it (its crowd, itself
    included) and the last later buy within the window; the pairs in between are expanded with
    repeat/arange, in chunks of at most _PAIR_CHUNK pairs, each reduced by one sort (np.unique) to one row
    per pair of wallets and lag (a lag is a whole number of seconds within the window), so memory follows
    the distinct (pair, lag) combinations, never the raw co-buys. The rows are then summed per pair, and each
    pair's median lag and steady co-buys are read off the same sorted rows with cumulative counts.
    """
    span = 2 * window + 1
    if n * n * span >= 2**62:
        raise ValueError("too many wallets for this co_trade_window_s")
    parts: list[tuple[IntArray, FloatArray, FloatArray]] = []
    if rows.size:
        seconds = times.astype(np.int64)
        sort = np.lexsort((seconds, cols))
        rows, cols, seconds = rows[sort], cols[sort], seconds[sort]
        offset = seconds - seconds.min()
        stride = int(offset.max()) + 2 * window + 1
        if (int(cols.max()) + 1) * stride >= 2**62:
            raise ValueError("first_buy_at values span too wide a range to compare (corrupt timestamps?)")
        key = cols * stride + offset + window
        window_end = np.searchsorted(key, key + window, side="right")
        crowd = window_end - np.searchsorted(key, key - window, side="left")
        later = window_end - np.arange(key.size) - 1
        ends = np.cumsum(later)
        start = 0
        while start < key.size:
            before = ends[start] - later[start]
            stop = max(int(np.searchsorted(ends, before + _PAIR_CHUNK, side="right")), start + 1)
            block = _pairs_block(rows, seconds, later, crowd, start=start, stop=stop, n=n, window=window)
            parts.append(block)
            start = stop
    pair_keys, counts, weighted, steady = _sum_by_pair(parts, window=window, tolerance=tolerance)
    # Both triangles, in CSR order: (a, b) and (b, a) hold the very same floats.
    low, high = pair_keys // n, pair_keys % n
    both_rows, both_cols = np.r_[low, high], np.r_[high, low]
    order = np.lexsort((both_cols, both_rows))
    indices = both_cols[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(both_rows, minlength=n), out=indptr[1:])

    def csr(values: FloatArray) -> Any:
        return sp.csr_array((np.r_[values, values][order], indices, indptr), shape=(n, n))

    return _CoBuys(counts=csr(counts), weighted=csr(weighted), steady=csr(steady))


def _sum_by_pair(
    parts: Sequence[tuple[IntArray, FloatArray, FloatArray]], *, window: int, tolerance: float
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """Per distinct pair key (lower index * n + higher index): co-buys, their weight sum, and how many keep
    the pair's usual lag: |lag - median| <= tolerance * |median| (the same second when the median is 0)."""
    keys, counts_sum, weights = _merge_parts(parts)
    if not keys.size:
        empty = np.zeros(0, dtype=np.float64)
        return np.zeros(0, dtype=np.int64), empty, empty, empty
    counts = counts_sum.astype(np.int64)
    span = 2 * window + 1
    pairs, lags = keys // span, keys % span - window  # sorted by pair, then by lag
    starts = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]])
    pair_keys = pairs[starts]
    pair_counts = np.add.reduceat(counts, starts)
    cumulative = np.r_[0, np.cumsum(counts)]
    # Most pairs co-bought at one lag only: every co-buy keeps it. The median is looked up for the others.
    varied = np.flatnonzero(np.diff(np.r_[starts, keys.size]) > 1)
    before, ranked = cumulative[starts[varied]], pair_counts[varied]

    def lag_at_rank(rank: IntArray) -> IntArray:
        lag: IntArray = lags[np.searchsorted(cumulative, before + rank, side="right") - 1]
        return lag

    median = (lag_at_rank((ranked - 1) // 2) + lag_at_rank(ranked // 2)) / 2.0
    # A hair of slack so that a bound landing exactly on a whole second counts, whatever the float rounding.
    half = tolerance * np.abs(median) + _LAG_SLACK
    low = np.clip(np.ceil(median - half), -window, window).astype(np.int64)
    high = np.clip(np.floor(median + half), -window, window).astype(np.int64)
    first = np.searchsorted(keys, pair_keys[varied] * span + low + window, side="left")
    last = np.searchsorted(keys, pair_keys[varied] * span + high + window, side="right")
    steady = pair_counts.copy()
    steady[varied] = cumulative[last] - cumulative[np.minimum(first, last)]  # 0 when no whole second fits
    return (
        pair_keys.astype(np.int64),
        pair_counts.astype(np.float64),
        np.add.reduceat(weights, starts),
        steady.astype(np.float64),
    )


def _merge_parts(
    parts: Sequence[tuple[IntArray, FloatArray, FloatArray]],
) -> tuple[IntArray, FloatArray, FloatArray]:
    """The chunks' (key, count, weight) rows summed per key, sorted by key."""
    if len(parts) == 1:  # one chunk's keys are unique and sorted already: spare a sort and two bincounts
        return parts[0]
    keys, inverse = np.unique(
        np.concatenate([np.zeros(0, np.int64), *(part[0] for part in parts)]), return_inverse=True
    )
    counts = _sums(inverse, np.concatenate([np.zeros(0), *(part[1] for part in parts)]), keys.size)
    weights = _sums(inverse, np.concatenate([np.zeros(0), *(part[2] for part in parts)]), keys.size)
    return keys.astype(np.int64), counts, weights


def _sums(groups: IntArray, values: Any, size: int) -> FloatArray:
    return np.asarray(np.bincount(groups, weights=values, minlength=size), dtype=np.float64)


def _pairs_block(
    rows: IntArray,
    seconds: IntArray,
    later: IntArray,
    crowd: IntArray,
    *,
    start: int,
    stop: int,
    n: int,
    window: int,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """The chunk's co-buys summed per pair of wallets and lag (key: (lower index * n + higher index) *
    (2 * window + 1) + lag + window, the lag being the higher-index wallet's first buy minus the other's):
    count and rarity weight."""
    counts = later[start:stop]
    total = int(counts.sum())
    first = np.repeat(np.arange(start, stop, dtype=np.int64), counts)
    step = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    second = first + 1 + step
    rarity = 1.0 / np.log2(np.maximum(crowd[first], crowd[second]))
    a, b = rows[first], rows[second]
    gap = seconds[second] - seconds[first]  # sorted by time within a token: `first` never bought later
    lag = np.where(a < b, gap, -gap)
    keys = (np.minimum(a, b) * n + np.maximum(a, b)) * (2 * window + 1) + lag + window
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique.astype(np.int64), _sums(inverse, None, unique.size), _sums(inverse, rarity, unique.size)


# --- funding ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Funding:
    graph: Any  # csr n x n of 0/1
    reports: dict[str, FunderReport]
    counted: list[FundingTransfer | None]  # each wallet's first funding when its funder counts
    ignored: Mapping[str, str]


def _funding_matrix(data: _Inputs, opts: SimilarityOptions) -> _Funding:
    """Shared first funders and direct transfers between wallets of the set, ignoring custodial, busy and
    fan-out funders (each pair at most once; funders never link a wallet to itself)."""
    n = data.n
    index = {wallet: i for i, wallet in enumerate(data.wallets)}
    receivers: dict[str, set[int]] = {}
    for i, funding in enumerate(data.funding):
        if funding is None:
            continue
        for transfer in chain([funding.first] if funding.first else [], funding.received):
            receivers.setdefault(transfer.source, set()).add(i)
    ignored = dict(opts.ignored_funders)
    for source, funded in receivers.items():
        if len(funded) > opts.funder_max_fanout and source not in ignored:
            ignored[source] = f"funded {len(funded)} wallets of this set (more than {opts.funder_max_fanout})"
    reports: dict[str, FunderReport] = {}
    counted: list[FundingTransfer | None] = [None] * n
    groups: dict[str, list[int]] = {}
    a: list[int] = []
    b: list[int] = []
    for i, funding in enumerate(data.funding):
        if funding is None:
            continue
        wallet = data.wallets[i]
        first = funding.first
        if first is None:
            reason = "no SOL transfer in its synced history"
            if not funding.history_complete:
                reason += ", which may not reach its first transaction"
            reports[wallet] = FunderReport(wallet, "unknown", None, funding.history_complete, reason)
        elif first.source in ignored:
            reports[wallet] = FunderReport(
                wallet, "ignored", first, funding.history_complete, ignored[first.source]
            )
        else:
            note = None if funding.history_complete else "the earliest funder seen: the synced history "
            note = note and note + "may not reach the wallet's first transaction"
            reports[wallet] = FunderReport(wallet, "funder", first, funding.history_complete, note)
            counted[i] = first
            groups.setdefault(first.source, []).append(i)
        for transfer in funding.received:
            sender = index.get(transfer.source)
            if sender is not None and sender != i and transfer.source not in ignored:
                a.append(sender)
                b.append(i)
    for members in groups.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                a.append(members[x])
                b.append(members[y])
    rows, cols = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    graph = sp.coo_array(
        (np.ones(2 * rows.size, dtype=np.int8), (np.r_[rows, cols], np.r_[cols, rows])), shape=(n, n)
    ).tocsr()
    graph.sum_duplicates()
    graph.data[:] = 1
    return _Funding(graph=graph, reports=reports, counted=counted, ignored=ignored)


def _funding_evidence(data: _Inputs, funding: _Funding, a: int, b: int) -> FundingEvidence | None:
    first_a, first_b = funding.counted[a], funding.counted[b]
    shared = first_a.source if first_a and first_b and first_a.source == first_b.source else None
    transfers: list[tuple[str, FundingTransfer]] = []
    if shared and first_a and first_b:
        transfers += [(data.wallets[a], first_a), (data.wallets[b], first_b)]
    direct = False
    for receiver, sender in ((a, b), (b, a)):
        received = data.funding[receiver]
        if received is None or data.wallets[sender] in funding.ignored:
            continue
        sent = [t for t in received.received if t.source == data.wallets[sender]]
        if sent:
            direct = True
            transfers.append((data.wallets[receiver], min(sent, key=attrgetter("timestamp"))))
    if not shared and not direct:
        return None
    return FundingEvidence(shared_funder=shared, direct=direct, transfers=transfers)


# --- pairs, evidence, clusters ------------------------------------------------------------------------------


def _best_pairs(scan: _Scan, k: int) -> tuple[IntArray, IntArray, dict[str, FloatArray]]:
    """The k highest positive combined scores over every block, ties broken by wallet order."""
    names = (*CHANNELS, COMBINED)
    if not scan.best_a:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, {name: np.zeros(0) for name in names}
    a, b = np.concatenate(scan.best_a), np.concatenate(scan.best_b)
    scores = {name: np.concatenate([block[name] for block in scan.best_scores]) for name in names}
    order = np.lexsort((b, a, -scores[COMBINED]))[:k]
    return a[order], b[order], {name: values[order] for name, values in scores.items()}


def _pair_evidence(
    data: _Inputs,
    ops: _Operands,
    scores: Mapping[str, float],
    a: int,
    b: int,
    *,
    evidence_tokens: int,
    window: int,
) -> PairEvidence:
    """Evidence for one of the top pairs (a bounded loop over at most top_pairs pairs, not over all pairs)."""
    span_a = slice(data.trade_indptr[a], data.trade_indptr[a + 1])
    span_b = slice(data.trade_indptr[b], data.trade_indptr[b + 1])
    _, in_a, in_b = np.intersect1d(
        data.trade_cols[span_a], data.trade_cols[span_b], assume_unique=True, return_indices=True
    )
    weights_a = _evidence_weights(data.spent[span_a])[in_a]
    weights_b = _evidence_weights(data.spent[span_b])[in_b]
    lags = data.first_buy[span_b][in_b] - data.first_buy[span_a][in_a]
    cols = data.trade_cols[span_a][in_a]
    order = np.lexsort((cols, -np.minimum(weights_a, weights_b)))[:evidence_tokens]
    shared = [
        SharedToken(
            mint=data.mints[int(cols[i])],
            weight_a=float(weights_a[i]),
            weight_b=float(weights_b[i]),
            lag_s=None if math.isnan(lags[i]) else int(lags[i]),
        )
        for i in order
    ]
    return PairEvidence(
        wallet_a=data.wallets[a],
        wallet_b=data.wallets[b],
        scores=dict(scores),
        shared_tokens=shared,
        co_trade=_co_trade_evidence(
            data,
            lags,
            a,
            b,
            window=window,
            weighted=float(ops.co_buys.weighted[a, b]),
            steady=float(ops.co_buys.steady[a, b]),
        ),
        funding=_funding_evidence(data, ops.funding, a, b),
    )


def _co_trade_evidence(
    data: _Inputs, lags: FloatArray, a: int, b: int, *, window: int, weighted: float, steady: float
) -> CoTradeEvidence:
    within = np.abs(lags) <= window  # NaN compares False: a token only one wallet bought is no co-buy
    count = int(np.count_nonzero(within))
    a_first = int(np.count_nonzero(within & (lags > 0)))
    b_first = int(np.count_nonzero(within & (lags < 0)))
    leader = data.wallets[a] if a_first > b_first else data.wallets[b] if b_first > a_first else None
    return CoTradeEvidence(
        count=count,
        weighted=weighted,
        median_lag_s=float(np.median(np.abs(lags[within]))) if count else None,
        leader=leader,
        lead_share=max(a_first, b_first) / count if leader is not None else None,
        steady_share=steady / count if count else None,
    )


def _evidence_weights(spent: FloatArray) -> FloatArray:
    """A token's share of the wallet's SOL spent; uniform over its tokens when it spent no SOL at all
    (stablecoin-quoted swaps), so the evidence still ranks something."""
    total = float(spent.sum())
    if total > 0:
        return spent / total
    return np.full(spent.size, 1.0 / max(spent.size, 1))


def _link_edges(ops: _Operands, edge_a: IntArray, edge_b: IntArray) -> tuple[IntArray, IntArray]:
    """The pairs hubs are looked for on (upper triangle): a strong combined score, a funding tie, or co-buys
    making up at least LINK_MIN_CO_BUY_SHARE of the tokens the less active of the two bought, whatever their
    timing. The last is the measure that used to make a bot look related to every stranger who bought one of
    its launches: here it only says who is linked to whom, so a bot linked to strangers who are not linked to
    each other shows as a hub."""
    co_buys = sp.triu(ops.co_buys.counts, k=1).tocoo()
    smaller = np.minimum(ops.bought_tokens[co_buys.row], ops.bought_tokens[co_buys.col])
    mostly = co_buys.data >= LINK_MIN_CO_BUY_SHARE * smaller
    funding = sp.triu(ops.funding.graph, k=1).tocoo()
    link_a = np.r_[co_buys.row[mostly], funding.row, edge_a].astype(np.int64)
    link_b = np.r_[co_buys.col[mostly], funding.col, edge_b].astype(np.int64)
    return link_a, link_b


def _cluster_stats(
    ops: _Operands, scan: _Scan, weights: Mapping[str, float], members: IntArray, threshold: float
) -> tuple[float, float, list[str], dict[str, float]]:
    if scan.matrices:
        block = np.ix_(members, members)
        channels = {name: matrix[block] for name, matrix in scan.matrices.items()}
    else:
        channels = _score_block(ops, members, members, weights)
    combined = channels[COMBINED]
    k = members.size
    off_diagonal = ~np.eye(k, dtype=bool)
    mean = float(combined[off_diagonal].mean())
    cohesion = float(np.count_nonzero(combined[off_diagonal] >= threshold)) / (k * (k - 1))
    means = {name: float(channels[name][off_diagonal].mean()) for name in CHANNELS}
    contributions = sorted(((weights[name] * means[name], name) for name in CHANNELS), reverse=True)
    reasons = [name for value, name in contributions if value > 0 and value >= REASON_MIN_SHARE * mean]
    return mean, cohesion, reasons or [contributions[0][1]], means


def compute_similarity(
    activities: Sequence[WalletActivity],
    *,
    options: SimilarityOptions | None = None,
    failed_wallets: Sequence[Mapping[str, str]] = (),
) -> SimilarityResult:
    """Every channel, combined, top pairs with evidence, hubs, clusters and global figures."""
    opts = options or SimilarityOptions()
    if len(activities) < MIN_WALLETS:
        raise InsufficientWalletsError(
            f"similarity needs at least {MIN_WALLETS} wallets, got {len(activities)}"
        )
    data = _build_inputs(activities, opts.excluded_mints)
    weights = opts.channel_weights()
    ops, common_count = _prepare(data, opts)
    scan = _scan_pairs(ops, opts, weights)
    n = data.n

    pair_a, pair_b, pair_scores = _best_pairs(scan, opts.top_pairs)
    pairs = [
        _pair_evidence(
            data,
            ops,
            {name: float(values[i]) for name, values in pair_scores.items()},
            a,
            b,
            evidence_tokens=opts.evidence_tokens,
            window=opts.co_trade_window_s,
        )
        for i, (a, b) in enumerate(zip(pair_a.tolist(), pair_b.tolist(), strict=True))
    ]

    edge_a, edge_b = np.concatenate(scan.edge_a), np.concatenate(scan.edge_b)
    edge_scores = np.concatenate(scan.edge_score)
    link_a, link_b = _link_edges(ops, edge_a, edge_b)
    hubs = find_hubs(n, link_a, link_b, edge_a, edge_b, min_groups=opts.hub_min_groups)
    excluded = np.asarray([hub.index for hub in hubs if not hub.kept_in_strong_graph], dtype=np.int64)
    communities = find_communities(
        n, edge_a, edge_b, edge_scores, excluded=excluded, resolution=opts.cluster_resolution
    )
    clusters = []
    cluster_of: dict[int, int] = {}
    for cluster_id, members in enumerate(communities):
        mean, cohesion, reasons, means = _cluster_stats(ops, scan, weights, members, opts.cluster_threshold)
        clusters.append(
            Cluster(
                id=cluster_id,
                wallets=[data.wallets[int(w)] for w in members],
                mean_combined=mean,
                cohesion=cohesion,
                reasons=reasons,
                channel_means=means,
            )
        )
        cluster_of.update(dict.fromkeys(members.tolist(), cluster_id))
    hub_reports = [
        HubReport(data.wallets[hub.index], hub.links, hub.groups, cluster_of.get(hub.index)) for hub in hubs
    ]
    cluster_note = None
    if not clusters:
        best = float(pair_scores[COMBINED][0]) if pair_a.size else 0.0
        cluster_note = (
            f"no pair reached combined >= {opts.cluster_threshold}: the highest combined score is "
            f"{best:.4f}; lower cluster_threshold to group these wallets"
            if not edge_a.size
            else "the pairs that reached the threshold all run through hubs, which link unrelated wallets"
        )
    matrices_note = None
    if not scan.matrices:
        matrices_note = (
            f"{n} wallets is more than dense_matrices_max_wallets ({opts.dense_matrices_max_wallets}): the "
            "n x n matrices are not kept"
        )
        if scan.sampled:
            matrices_note += (
                "; pairs are scored where co-trading or funding links them (no other pair can reach the "
                f"cluster threshold with these weights); median and mean are over {_SAMPLE_ROWS} sampled "
                "wallets' pairs"
            )
    pair_count = n * (n - 1) // 2
    stats = GlobalStats(
        median_similarity=_histogram_median(scan.histogram),
        mean_similarity=scan.total / pair_count,
        top_pairs=[(p.wallet_a, p.wallet_b, p.scores[COMBINED]) for p in pairs[:5]],
        wallet_count=n,
        token_count=data.m,
        excluded_token_count=data.excluded_seen,
        common_token_count=common_count,
        channel_weights=weights,
        cluster_threshold=opts.cluster_threshold,
        co_trade_window_s=opts.co_trade_window_s,
        co_trade_min_events=opts.co_trade_min_events,
        co_trade_lag_tolerance=opts.co_trade_lag_tolerance,
        funder_max_fanout=opts.funder_max_fanout,
        cluster_note=cluster_note,
        matrices_note=matrices_note,
    )
    return SimilarityResult(
        wallets=list(data.wallets),
        failed_wallets=[
            {"wallet": str(f["wallet"]), "error": str(f.get("error", ""))} for f in failed_wallets
        ],
        matrices=scan.matrices,
        pairs=pairs,
        clusters=clusters,
        hubs=hub_reports,
        funders=ops.funding.reports,
        global_stats=stats,
    )
