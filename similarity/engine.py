"""Pairwise wallet similarity (SPEC 6.4), vectorised with numpy + scipy.sparse. No Django, no Redis.

Every channel is an n x n symmetric matrix in [0, 1] over the wallets of one request:

- ``capital_cosine``: cosine of the wallets' capital vectors, the SOL spent buying each token divided by the
  wallet's total SOL spent on non-excluded tokens (the normalisation does not change the cosine, it gives the
  evidence weights their meaning).
- ``binary_cosine``: cosine of the traded-token indicator vectors, |A and B| / sqrt(|A|·|B|) unweighted.
- ``jaccard_traded``: |A and B| / |A or B| of the traded-token sets (never down-weighted: the plain overlap).
- ``holdings_cosine``: cosine of the current holding weights (e.g. UI amount or SOL value per mint).
- ``holdings_jaccard``: Jaccard of the sets of mints currently held with a positive weight.
- ``co_trade``: the number of tokens both wallets bought whose first buys lie within ``co_trade_window_s`` of
  each other (|lag| <= window, inclusive: a lag of exactly 300 s counts), divided by min(|A|, |B|) where
  |A| is the number of tokens with a known first buy of the wallet. The overlap-coefficient denominator
  means a copy trader that follows a leader on every token it trades scores 1 even if the leader trades
  more tokens, while two wallets that happen to share one popular token at the same time score little.
- ``combined``: the weighted sum of the six channels with :data:`DEFAULT_WEIGHTS` (normalised to sum to 1).

Conventions: a token is "traded" by a wallet when a :class:`TokenTrade` names it. Excluded mints (quote assets
and liquid-staking tokens) are dropped before anything else, so they neither add similarity nor dilute it.
The diagonal of every matrix is 1 (a wallet is identical to itself), including for a wallet with no data for
that channel; off the diagonal such a wallet scores 0 with everyone on that channel.

Down-weighting: in a set of at least ``common_token_min_wallets`` wallets, a token traded by more than
``common_token_share`` of them has its component scaled by ``common_token_weight`` in the capital and binary
cosines; a token held by more than that share has its component scaled likewise in the holdings cosine. Such
tokens (the hot launch of the week, an airdropped spam token) say little about two wallets being related.

Cost: each cosine/Jaccard is a Gram matrix X·Xᵀ. Columns (tokens) touched by many wallets are multiplied as a
dense block with BLAS, the long tail of rarely shared tokens with a sparse product: the sparse product costs
the sum over tokens of (wallets per token)², which the few very popular tokens would dominate. ``co_trade``
enumerates, per token, the pairs of first buys within the window from the token-then-time sorted buys with one
``searchsorted``, so its cost is the number of co-trades, not n² x tokens.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from types import MappingProxyType
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from wallets.swaps import SOL_MINT, USDC_MINT, USDT_MINT, SwapLeg

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
BINARY_COSINE = "binary_cosine"
JACCARD_TRADED = "jaccard_traded"
HOLDINGS_COSINE = "holdings_cosine"
HOLDINGS_JACCARD = "holdings_jaccard"
COMBINED = "combined"
CHANNELS = (CAPITAL_COSINE, CO_TRADE, BINARY_COSINE, JACCARD_TRADED, HOLDINGS_COSINE, HOLDINGS_JACCARD)

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        CAPITAL_COSINE: 0.15,
        CO_TRADE: 0.45,
        BINARY_COSINE: 0.15,
        JACCARD_TRADED: 0.15,
        HOLDINGS_COSINE: 0.05,
        HOLDINGS_JACCARD: 0.05,
    }
)
"""Weights of ``combined``; they sum to 1 so ``combined`` stays in [0, 1].

What the weights encode: a shared operator (copy trader, bundle) shows as buying the same tokens *at the same
time*; owning the same tokens without the timing is what any two wallets chasing the same popular coins do.

- co_trade 0.45: the most specific channel. Unrelated pairs almost never reach it (median 0, p99 0.22 in the
  measurement below) while related ones sit at 0.3-0.8: family members also trade tokens of their own, so
  the overlap coefficient rarely goes much above one half. Its known false positive is two snipers buying
  the same launches within seconds: the timing evidence is real, they do trade alike.
- binary_cosine 0.15 and jaccard_traded 0.15: token overlap regardless of size. They need co_trade to reach
  the threshold: a pair with no co-trade needs ~0.55 on every other channel to score 0.30 (two bots
  trading the same liquid coins at different times peaked at 0.26 in the measurement below).
- capital_cosine 0.15: SOL spent per token is dominated by a wallet's few largest positions, so one big
  side bet, or a copied trade the follower skipped, sinks it (copy-family pairs measured 0.08-0.95) and
  bots piling into the same popular coins reach 0.76 on it. Useful, but noisier than its name suggests.
- holdings_cosine 0.05 and holdings_jaccard 0.05: a snapshot of what is still held. Copy traders exit with
  their leader and bundles dump, so related wallets rarely still hold the same tokens (family pairs: median
  0), while leftover dust and airdrops make unrelated wallets overlap (up to 0.73). Kept as a tie-breaker.

Measured on the simulated market (``wallets.simulated_market``), seeds 0-7, each with its 6 copy/bundle
families and 30 unrelated wallets, every wallet's swaps extracted from its transactions by
``wallets.extraction`` and its holdings normalised per token as ``similarity.services`` does (314 family
pairs, 11,314 other pairs):

==================  =======================================  =============================================
combined            family pairs                             every other pair
==================  =======================================  =============================================
these weights       min 0.265, p05 0.323, median 0.456      median 0.049, p99 0.173, p99.9 0.248, max 0.540
previous weights    min 0.211, p05 0.272, median 0.405      median 0.058, p99 0.197, p99.9 0.307, max 0.436
==================  =======================================  =============================================

(previous: capital .30, co_trade .25, binary .15, jaccard .10, holdings .10 + .10, threshold 0.5: 4 of the 48
families came out as a cluster; now all 48 do.) Clusters only need each family connected by edges >=
threshold: the weakest edge keeping a family connected scored 0.339 at the lowest over the 48 families (p10
0.383), and every other pair above 0.253 was two snipers. :data:`DEFAULT_CLUSTER_THRESHOLD` 0.30 sits between
the two. With it, 3 families + 10 unrelated wallets (every 3 of the 6 families, 2 draws of the unrelated
wallets, seeds 0-11: 480 sets) came out exactly as the families in 430; no family was ever split, and each of
the 50 misses merged in two snipers (unrelated, or a bundle member and an unrelated sniper) sharing 13-47
launch buys 5-10 s apart (median lag), which no weighting tells from a bundle. The weights are round values on
the plateau of a grid search (step 0.05; co_trade 0.40-0.50 with capital 0.10-0.20 did as well), chosen for
the reasons above rather than for the last decimal of the fit. Seeds 8-11 were held out of that search: family
pairs p05 0.328, median 0.440; other pairs p99 0.192, p99.9 0.262; weakest family connection 0.377.
"""

DEFAULT_CLUSTER_THRESHOLD = 0.30
DEFAULT_COMMON_TOKEN_SHARE = 0.5
DEFAULT_COMMON_TOKEN_WEIGHT = 0.25

# A token column is multiplied densely (BLAS) when more than this share of the wallets touch it: the sparse
# product costs (wallets per token)² per column, the dense one n² at a far higher rate. Tuned on the
# benchmark (1/4: 0.45 s per Gram, 1/16: 0.13 s, 1/32: 0.11 s, 1/64: 0.12 s at 2,000 wallets).
_DENSE_COLUMN_SHARE = 1 / 32
_DENSE_COLUMN_MIN = 8
# Upper bound of co-trade pairs materialised at once (3 int64 arrays each): keeps memory flat under bundles.
_PAIR_CHUNK = 4_000_000
_ROUND = 4

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
class WalletActivity:
    """A wallet's trades (one :class:`TokenTrade` per mint) and current holdings (mint -> weight >= 0)."""

    address: str
    trades: Sequence[TokenTrade]
    holdings: Mapping[str, float]


def activity_from_legs(
    address: str, legs: Iterable[SwapLeg], holdings: Mapping[str, float]
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
    return WalletActivity(address=address, trades=trades, holdings=dict(holdings))


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
    # Edges of the cluster graph: pairs with combined >= this.
    cluster_threshold: float = DEFAULT_CLUSTER_THRESHOLD
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    top_pairs: int = 50
    evidence_tokens: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "excluded_mints", frozenset(self.excluded_mints))
        share = self.common_token_share
        if share is not None and not 0 < share <= 1:
            raise ValueError("common_token_share must be in (0, 1] or None")
        if not 0 <= self.common_token_weight <= 1:
            raise ValueError("common_token_weight must be in [0, 1]")
        if self.co_trade_window_s < 0:
            raise ValueError("co_trade_window_s must be >= 0")
        if not 0 < self.cluster_threshold <= 1:
            raise ValueError("cluster_threshold must be in (0, 1]")
        if self.top_pairs < 0 or self.evidence_tokens < 0:
            raise ValueError("top_pairs and evidence_tokens must be >= 0")
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
    """Co-trades of a pair: count, median |lag| over them, and the wallet that bought first more often."""

    count: int
    median_lag_s: float | None
    leader: str | None


@dataclass(frozen=True, slots=True)
class PairEvidence:
    wallet_a: str
    wallet_b: str
    scores: Mapping[str, float]  # every channel plus combined
    shared_tokens: Sequence[SharedToken]
    co_trade: CoTradeEvidence

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
        out["co_trade"] = {
            "count": self.co_trade.count,
            "median_lag_s": self.co_trade.median_lag_s,
            "leader": self.co_trade.leader,
        }
        return out


@dataclass(frozen=True, slots=True)
class Cluster:
    """A connected component (size >= 2) of the graph whose edges are pairs with combined >= threshold.
    mean_combined averages combined over all pairs of its members, not only over the edges."""

    id: int
    wallets: Sequence[str]
    mean_combined: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "wallets": list(self.wallets),
            "mean_combined": round(self.mean_combined, _ROUND),
        }


@dataclass(frozen=True, slots=True)
class GlobalStats:
    median_similarity: float  # median of the off-diagonal combined scores
    mean_similarity: float
    top_pairs: Sequence[tuple[str, str, float]]  # the first 5 pairs
    wallet_count: int
    token_count: int  # distinct non-excluded mints traded or held
    excluded_token_count: int  # distinct excluded mints seen in the input
    common_token_count: int  # distinct tokens down-weighted on the trade or holdings channels
    channel_weights: Mapping[str, float]
    cluster_threshold: float
    co_trade_window_s: int
    cluster_note: str | None  # why clusters is empty, when it is

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
            "cluster_note": self.cluster_note,
        }


@dataclass(frozen=True)
class SimilarityResult:
    """Matrices stay float32 numpy arrays (unrounded) until :meth:`to_dict` needs JSON."""

    wallets: Sequence[str]
    failed_wallets: Sequence[Mapping[str, str]]
    matrices: Mapping[str, NDArray[np.float32]]  # CHANNELS + combined, each n x n in wallet order
    pairs: Sequence[PairEvidence]  # sorted by combined desc, then by wallet order
    clusters: Sequence[Cluster]
    global_stats: GlobalStats

    def to_dict(self, *, include_matrices: bool = True) -> dict[str, Any]:
        """JSON-safe output. Matrices are rounded to 4 decimals; with 2,000 wallets they weigh ~200 MB of
        JSON, so callers that store or send only the summary pass include_matrices=False (key omitted)."""
        out: dict[str, Any] = {
            "wallets": list(self.wallets),
            "failed_wallets": [dict(f) for f in self.failed_wallets],
        }
        if include_matrices:
            out["matrices"] = {
                name: np.round(matrix.astype(np.float64), _ROUND).tolist()
                for name, matrix in self.matrices.items()
            }
        out["pairs"] = [pair.to_dict() for pair in self.pairs]
        out["clusters"] = [cluster.to_dict() for cluster in self.clusters]
        out["global"] = self.global_stats.to_dict()
        return out


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

    @property
    def n(self) -> int:
        return len(self.wallets)

    @property
    def m(self) -> int:
        return len(self.mints)

    def trade_rows(self) -> IntArray:
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.trade_indptr))


def compute_similarity(
    activities: Sequence[WalletActivity],
    *,
    options: SimilarityOptions | None = None,
    failed_wallets: Sequence[Mapping[str, str]] = (),
) -> SimilarityResult:
    """Compute every channel, combined, top pairs with evidence, clusters and global figures (SPEC 6.4)."""
    opts = options or SimilarityOptions()
    if len(activities) < MIN_WALLETS:
        raise InsufficientWalletsError(
            f"similarity needs at least {MIN_WALLETS} wallets, got {len(activities)}"
        )
    data = _build_inputs(activities, opts.excluded_mints)
    weights = opts.channel_weights()
    matrices, common_count = _channel_matrices(data, opts, weights)

    upper = np.triu_indices(data.n, k=1)
    upper_scores = matrices[COMBINED][upper]
    pair_rows, pair_cols = _top_pair_indices(upper_scores, upper, opts.top_pairs)
    pairs = [
        _pair_evidence(
            data,
            matrices,
            int(a),
            int(b),
            evidence_tokens=opts.evidence_tokens,
            window=opts.co_trade_window_s,
        )
        for a, b in zip(pair_rows, pair_cols, strict=True)
    ]
    clusters, cluster_note = _clusters(
        data.wallets, matrices[COMBINED], upper, upper_scores, opts.cluster_threshold
    )
    stats = GlobalStats(
        median_similarity=float(np.median(upper_scores)),
        mean_similarity=float(np.mean(upper_scores, dtype=np.float64)),
        top_pairs=[(p.wallet_a, p.wallet_b, p.scores[COMBINED]) for p in pairs[:5]],
        wallet_count=data.n,
        token_count=data.m,
        excluded_token_count=data.excluded_seen,
        common_token_count=common_count,
        channel_weights=weights,
        cluster_threshold=opts.cluster_threshold,
        co_trade_window_s=opts.co_trade_window_s,
        cluster_note=cluster_note,
    )
    return SimilarityResult(
        wallets=list(data.wallets),
        failed_wallets=[
            {"wallet": str(f["wallet"]), "error": str(f.get("error", ""))} for f in failed_wallets
        ],
        matrices=matrices,
        pairs=pairs,
        clusters=clusters,
        global_stats=stats,
    )


def _channel_matrices(
    data: _Inputs, opts: SimilarityOptions, weights: Mapping[str, float]
) -> tuple[dict[str, NDArray[np.float32]], int]:
    """Every channel and combined (float32, in CHANNELS order), and how many tokens were down-weighted.

    One channel at a time: each is computed in float64 (exact enough for 1e-6 against the reference), added
    to combined, then kept as float32, so at most ~3 dense float64 n x n arrays are alive at once.
    """
    traded = _traded_indicator(data)
    trade_w = _column_weights(traded, opts)
    held_w = _column_weights(data.held, opts)
    combined = np.zeros((data.n, data.n), dtype=np.float64)
    matrices: dict[str, NDArray[np.float32]] = {}

    def store(name: str, matrix: FloatArray) -> None:
        _store_channel(matrix, weights[name], combined)
        matrices[name] = matrix.astype(np.float32)

    store(CAPITAL_COSINE, _cosine(_gram(_scale_columns(_capital_shares(data), trade_w))))
    intersection = _gram(traded)
    store(BINARY_COSINE, _cosine(_reweighted_gram(intersection, traded, trade_w)))
    store(JACCARD_TRADED, _jaccard(intersection))  # in place: intersection is consumed here
    del intersection
    store(HOLDINGS_COSINE, _cosine(_gram(_scale_columns(data.held, held_w))))
    store(HOLDINGS_JACCARD, _jaccard(_gram(_indicator(data.held))))
    store(CO_TRADE, _co_trade(data, opts.co_trade_window_s))
    np.fill_diagonal(combined, 1.0)
    matrices[COMBINED] = combined.astype(np.float32)
    common_count = int(np.count_nonzero((trade_w != 1.0) | (held_w != 1.0)))
    return {name: matrices[name] for name in (*CHANNELS, COMBINED)}, common_count


def _store_channel(matrix: FloatArray, weight: float, combined: FloatArray) -> None:
    np.fill_diagonal(matrix, 1.0)
    np.clip(matrix, 0.0, 1.0, out=matrix)  # float rounding can leave a cosine at 1 + 1e-16
    combined += weight * matrix


# --- input construction -------------------------------------------------------------------------------------


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
    first = np.array(
        [math.nan if at is None else at for at in map(attrgetter("first_buy_at"), trades)], dtype=np.float64
    )
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


# --- Gram matrices and channels -----------------------------------------------------------------------------


def _gram(matrix: Any) -> FloatArray:
    """X·Xᵀ as a dense float64 n x n: popular columns through BLAS, the sparse tail as a sparse product."""
    n, m = matrix.shape
    wallets_per_token = np.bincount(matrix.indices, minlength=m)
    is_dense = wallets_per_token > max(_DENSE_COLUMN_MIN, _DENSE_COLUMN_SHARE * n)
    by_column = matrix.tocsc()
    head = by_column[:, np.flatnonzero(is_dense)].toarray()
    gram: FloatArray = head @ head.T
    del head
    tail = by_column[:, np.flatnonzero(~is_dense)].tocsr()
    gram += (tail @ tail.T).toarray()
    return gram


def _reweighted_gram(gram: FloatArray, matrix: Any, weights: FloatArray) -> FloatArray:
    """Gram of X·diag(w) from the Gram of X: only the (few, common) columns with w != 1 are recomputed."""
    changed = np.flatnonzero(weights != 1.0)
    out = gram.copy()
    if changed.size:
        block = matrix.tocsc()[:, changed].toarray()
        out += (block * (weights[changed] ** 2 - 1.0)) @ block.T
    return out


def _cosine(gram: FloatArray) -> FloatArray:
    """In place: G[a, b] / (|a|·|b|); a zero vector has 0 similarity (dividing by inf)."""
    norms = np.sqrt(np.diag(gram).copy())
    norms[norms == 0] = np.inf
    gram /= norms[:, None]
    gram /= norms[None, :]
    return gram


def _jaccard(intersection: FloatArray) -> FloatArray:
    """In place: |A∩B| / (|A| + |B| - |A∩B|); 0 when both sets are empty."""
    sizes = np.diag(intersection).copy()
    union = np.add.outer(sizes, sizes)
    union -= intersection
    union[union == 0] = np.inf
    intersection /= union
    return intersection


def _co_trade(data: _Inputs, window: int) -> FloatArray:
    """Co-trade counts (first buys within the window, inclusive) divided by min(|bought A|, |bought B|)."""
    rows = data.trade_rows()
    bought = ~np.isnan(data.first_buy)
    counts = _co_trade_counts(rows[bought], data.trade_cols[bought], data.first_buy[bought], data.n, window)
    sizes = np.bincount(rows[bought], minlength=data.n).astype(np.float64)
    smaller = np.minimum.outer(sizes, sizes)
    smaller[smaller == 0] = np.inf
    counts /= smaller
    return counts


def _co_trade_counts(rows: IntArray, cols: IntArray, times: FloatArray, n: int, window: int) -> FloatArray:
    """Symmetric n x n count of tokens both wallets first bought within `window` seconds of each other.

    Buys are sorted by (token, time) and encoded as one increasing key, token * stride + time offset, with a
    stride wider than the time span plus the window so that no window crosses into the next token. For each
    buy, searchsorted finds the last later buy within the window; the pairs in between are expanded with
    repeat/arange, in chunks of at most _PAIR_CHUNK pairs, and summed by a sparse COO -> CSR conversion.
    """
    accumulated = sp.csr_array((n, n), dtype=np.float64)
    if rows.size == 0:
        return np.zeros((n, n), dtype=np.float64)
    seconds = times.astype(np.int64)
    order = np.lexsort((seconds, cols))
    rows, cols, seconds = rows[order], cols[order], seconds[order]
    offset = seconds - seconds.min()
    stride = int(offset.max()) + window + 1
    if (int(cols.max()) + 1) * stride >= 2**62:
        raise ValueError("first_buy_at values span too wide a range to compare (corrupt timestamps?)")
    key = cols * stride + offset
    later = np.searchsorted(key, key + window, side="right") - np.arange(key.size) - 1
    ends = np.cumsum(later)
    start = 0
    while start < key.size:
        before = ends[start] - later[start]
        stop = max(int(np.searchsorted(ends, before + _PAIR_CHUNK, side="right")), start + 1)
        accumulated = accumulated + _pairs_block(rows, later, start, stop, n)
        start = stop
    counts: FloatArray = (accumulated + accumulated.T).toarray()
    return counts


def _pairs_block(rows: IntArray, later: IntArray, start: int, stop: int, n: int) -> Any:
    counts = later[start:stop]
    total = int(counts.sum())
    first = np.repeat(np.arange(start, stop, dtype=np.int64), counts)
    step = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    second = first + 1 + step
    ones = np.ones(total, dtype=np.float64)
    return sp.coo_array((ones, (rows[first], rows[second])), shape=(n, n)).tocsr()


# --- pairs, evidence, clusters ------------------------------------------------------------------------------


def _top_pair_indices(
    scores: NDArray[np.float32], upper: tuple[IntArray, IntArray], k: int
) -> tuple[IntArray, IntArray]:
    """The k highest positive combined scores (upper triangle), ties broken by wallet order (deterministic).
    Pairs with combined 0 have nothing in common and no evidence to show, so they are never listed."""
    k = min(k, int(np.count_nonzero(scores > 0)))
    if k == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    kth = np.partition(scores, scores.size - k)[scores.size - k]
    candidates = np.flatnonzero(scores >= kth)
    chosen = candidates[np.lexsort((candidates, -scores[candidates]))[:k]]
    return upper[0][chosen], upper[1][chosen]


def _pair_evidence(
    data: _Inputs,
    matrices: Mapping[str, NDArray[np.float32]],
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
    within = np.abs(lags) <= window  # NaN compares False: a token only one wallet bought is no co-trade
    a_first = int(np.count_nonzero(within & (lags > 0)))
    b_first = int(np.count_nonzero(within & (lags < 0)))
    leader = data.wallets[a] if a_first > b_first else data.wallets[b] if b_first > a_first else None
    count = int(np.count_nonzero(within))
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
        scores={name: float(matrix[a, b]) for name, matrix in matrices.items()},
        shared_tokens=shared,
        co_trade=CoTradeEvidence(
            count=count,
            median_lag_s=float(np.median(np.abs(lags[within]))) if count else None,
            leader=leader,
        ),
    )


def _evidence_weights(spent: FloatArray) -> FloatArray:
    """A token's share of the wallet's SOL spent; uniform over its tokens when it spent no SOL at all
    (stablecoin-quoted swaps), so the evidence still ranks something."""
    total = float(spent.sum())
    if total > 0:
        return spent / total
    return np.full(spent.size, 1.0 / max(spent.size, 1))


def _clusters(
    wallets: Sequence[str],
    combined: NDArray[np.float32],
    upper: tuple[IntArray, IntArray],
    upper_scores: NDArray[np.float32],
    threshold: float,
) -> tuple[list[Cluster], str | None]:
    """Connected components of size >= 2 of the graph with an edge where combined >= threshold.

    Clusters are ordered by size desc, then mean_combined desc; ids are their positions. When no pair reaches
    the threshold the list is empty on purpose and the returned note says so (and what the best pair scored),
    so an empty list is never mistaken for a failure or a threshold accident.
    """
    edges = upper_scores >= np.float32(threshold)
    if not edges.any():
        best = float(upper_scores.max()) if upper_scores.size else 0.0
        note = (
            f"no pair reached combined >= {threshold}: the highest combined score is {best:.4f}; "
            "lower cluster_threshold to group these wallets"
        )
        return [], note
    n = len(wallets)
    graph = sp.coo_array(
        (np.ones(int(edges.sum()), dtype=np.int8), (upper[0][edges], upper[1][edges])), shape=(n, n)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    found = []
    for label in np.flatnonzero(sizes >= 2):
        members = np.flatnonzero(labels == label)
        block = combined[np.ix_(members, members)].astype(np.float64)
        k = members.size
        mean = (block.sum() - np.trace(block)) / (k * (k - 1))
        found.append((members, float(mean)))
    found.sort(key=lambda item: (-item[0].size, -item[1], int(item[0][0])))
    clusters = [
        Cluster(id=i, wallets=[wallets[int(w)] for w in members], mean_combined=mean)
        for i, (members, mean) in enumerate(found)
    ]
    return clusters, None
