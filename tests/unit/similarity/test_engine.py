"""Unit tests of the vectorised similarity engine, hand-checked and against the naive reference."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from similarity import engine
from similarity.engine import (
    BINARY_COSINE,
    CAPITAL_COSINE,
    CHANNELS,
    CO_TRADE,
    COMBINED,
    FUNDING,
    HOLDINGS_COSINE,
    HOLDINGS_JACCARD,
    JACCARD_TRADED,
    MSOL_MINT,
    FundingTransfer,
    InsufficientWalletsError,
    SimilarityOptions,
    TokenTrade,
    WalletActivity,
    WalletFunding,
    activity_from_legs,
    compute_similarity,
)
from similarity.reference import naive_similarity
from wallets.swaps import SOL_MINT, USDC_MINT, SwapLeg

ALL = (*CHANNELS, COMBINED)
NO_DOWNWEIGHT = SimilarityOptions(common_token_share=None)


def trade(mint: str, spent: float = 1.0, at: int | None = 1_000, received: float = 0.0) -> TokenTrade:
    return TokenTrade(mint, spent, received, at, buy_count=1 if at is not None else 0, sell_count=0)


def wallet(
    address: str,
    trades: Sequence[TokenTrade] = (),
    holdings: Mapping[str, float] | None = None,
    funding: WalletFunding | None = None,
) -> WalletActivity:
    return WalletActivity(address, tuple(trades), dict(holdings or {}), funding)


def funded_by(
    source: str, *, lamports: int = 10**9, at: int = 100, others: Sequence[str] = ()
) -> WalletFunding:
    first = FundingTransfer(source, lamports, at, f"sig-{source}-{at}")
    later = [
        FundingTransfer(other, lamports, at + 1 + k, f"sig-{other}-{k}") for k, other in enumerate(others)
    ]
    return WalletFunding(first=first, received=(first, *later))


def score(result: engine.SimilarityResult, channel: str, a: int, b: int) -> float:
    return float(result.matrices[channel][a, b])


# --- per-channel hand checks --------------------------------------------------------------------------------


def test_identical_wallets_score_one_on_every_channel() -> None:
    trades = [trade("X", 2.0, 1_000), trade("Y", 1.0, 2_000), trade("Z", 0.5, 3_000)]
    holdings = {"X": 10.0, "Y": 3.0}
    a = wallet("A", trades, holdings, funded_by("F"))
    b = wallet("B", trades, holdings, funded_by("F"))
    result = compute_similarity([a, b], options=SimilarityOptions(co_trade_min_events=1))
    for channel in ALL:
        assert score(result, channel, 0, 1) == pytest.approx(1.0, abs=1e-6), channel


def test_disjoint_wallets_score_zero_on_every_channel() -> None:
    a = wallet("A", [trade("X"), trade("Y")], {"X": 1.0})
    b = wallet("B", [trade("Z"), trade("W")], {"W": 1.0})
    result = compute_similarity([a, b])
    for channel in ALL:
        assert score(result, channel, 0, 1) == 0.0, channel


def test_matrices_are_symmetric_with_unit_diagonal_even_for_an_empty_wallet() -> None:
    activities = [*random_activities(random.Random(3), 12), wallet("EMPTY")]
    result = compute_similarity(activities)
    for channel in ALL:
        matrix = result.matrices[channel]
        assert matrix.shape == (13, 13)
        np.testing.assert_array_equal(matrix, matrix.T)
        np.testing.assert_array_equal(np.diag(matrix), np.ones(13))
        assert matrix.min() >= 0.0 and matrix.max() <= 1.0
        # Convention: a wallet with no data scores 0 with everyone else.
        assert not matrix[-1, :-1].any(), channel


def test_capital_cosine_and_jaccard_hand_computed_three_wallets() -> None:
    # Spent vectors over (X, Y, W, Z): A = (3, 1, 2, 0), B = (1, 0, 0, 1), C = (0, 2, 0, 2).
    a = wallet("A", [trade("X", 3.0), trade("Y", 1.0), trade("W", 2.0)])
    b = wallet("B", [trade("X", 1.0), trade("Z", 1.0)])
    c = wallet("C", [trade("Y", 2.0), trade("Z", 2.0)])
    result = compute_similarity([a, b, c], options=NO_DOWNWEIGHT)
    assert score(result, CAPITAL_COSINE, 0, 1) == pytest.approx(3 / math.sqrt(28), abs=1e-6)
    assert score(result, CAPITAL_COSINE, 0, 2) == pytest.approx(1 / math.sqrt(28), abs=1e-6)
    assert score(result, CAPITAL_COSINE, 1, 2) == pytest.approx(0.5, abs=1e-6)
    assert score(result, JACCARD_TRADED, 0, 1) == pytest.approx(1 / 4, abs=1e-6)  # {X} / {X, Y, W, Z}
    assert score(result, JACCARD_TRADED, 0, 2) == pytest.approx(1 / 4, abs=1e-6)  # {Y} / {X, Y, W, Z}
    assert score(result, JACCARD_TRADED, 1, 2) == pytest.approx(1 / 3, abs=1e-6)  # {Z} / {X, Y, Z}
    assert score(result, BINARY_COSINE, 0, 1) == pytest.approx(1 / math.sqrt(6), abs=1e-6)


def test_holdings_channels_hand_computed() -> None:
    a = wallet("A", holdings={"X": 3.0, "Y": 4.0})
    b = wallet("B", holdings={"X": 1.0, "Z": 0.0})  # a zero balance is no holding
    result = compute_similarity([a, b], options=NO_DOWNWEIGHT)
    assert score(result, HOLDINGS_COSINE, 0, 1) == pytest.approx(3 / 5, abs=1e-6)
    assert score(result, HOLDINGS_JACCARD, 0, 1) == pytest.approx(1 / 2, abs=1e-6)
    assert score(result, CAPITAL_COSINE, 0, 1) == 0.0  # no trades at all


ONE_EVENT = SimilarityOptions(co_trade_min_events=1)


def test_co_trade_window_is_inclusive_at_300_seconds_and_a_crowd_weighs_less() -> None:
    a = wallet("A", [trade("X", at=1_000)])
    b = wallet("B", [trade("X", at=1_300)])  # lag 300 from A: counts
    c = wallet("C", [trade("X", at=1_301)])  # lag 301 from A: does not; lag 1 from B: counts
    result = compute_similarity([a, b, c], options=ONE_EVENT)
    # B's buy has all three wallets within its window: every co-buy of B weighs 1 / log2(3).
    assert score(result, CO_TRADE, 0, 1) == pytest.approx(1 / math.log2(3), abs=1e-6)
    assert score(result, CO_TRADE, 0, 2) == 0.0
    assert score(result, CO_TRADE, 1, 2) == pytest.approx(1 / math.log2(3), abs=1e-6)
    alone = compute_similarity([a, b], options=ONE_EVENT)  # only the pair bought it: full weight
    assert score(alone, CO_TRADE, 0, 1) == 1.0


def test_co_trade_needs_the_minimum_of_co_buys() -> None:
    leader = wallet("L", [trade(m, at=10_000 * i) for i, m in enumerate("ABCD")])
    two = wallet("F2", [trade("A", at=50), trade("B", at=10_060)])
    three = wallet("F3", [trade("A", at=40), trade("B", at=10_040), trade("C", at=20_040)])
    assert score(compute_similarity([leader, two]), CO_TRADE, 0, 1) == 0.0
    assert score(compute_similarity([leader, three]), CO_TRADE, 0, 1) == pytest.approx(3 / math.sqrt(12))
    lowered = compute_similarity([leader, two], options=SimilarityOptions(co_trade_min_events=2))
    assert score(lowered, CO_TRADE, 0, 1) == pytest.approx(2 / math.sqrt(8))


def test_co_trade_is_normalised_by_both_wallets_activity_and_ignores_sell_only_tokens() -> None:
    bot = wallet("BOT", [trade(f"L{k}", at=100_000 * k) for k in range(300)])
    copier = wallet("C", [trade(f"L{k}", at=100_000 * k + 30) for k in range(3)] + [trade("S", at=None)])
    result = compute_similarity([bot, copier])
    # 3 co-buys over sqrt(300 x 3 bought): a bot that buys everything cannot score high with anyone.
    assert score(result, CO_TRADE, 0, 1) == pytest.approx(3 / math.sqrt(900), abs=1e-6)


def test_co_trade_counts_the_co_buys_that_keep_the_pairs_usual_lag() -> None:
    # Lags 50, 50, 35, 65, 100 s: the median is 50, the band 50 +- 30 % is [35, 65], edges included, so 4 of
    # 5 keep the lag: 2 x 4/5 - 1 = 0.6 of the 5 co-buys count, over sqrt(5 x 5) tokens.
    leader = wallet("L", [trade(f"T{k}", at=10_000 * k) for k in range(5)])
    lags = [50, 50, 35, 65, 100]
    follower = wallet("F", [trade(f"T{k}", at=10_000 * k + lag) for k, lag in enumerate(lags)])
    result = compute_similarity([leader, follower])
    assert score(result, CO_TRADE, 0, 1) == pytest.approx(5 * 0.6 / 5, abs=1e-6)
    (pair,) = result.pairs
    assert pair.co_trade.steady_share == pytest.approx(0.8) and pair.co_trade.lead_share == 1.0
    # An even count takes the mean of the two middle lags: 40 and 50 give 45 +- 13.5 s, both inside.
    even = wallet("E", [trade(f"T{k}", at=10_000 * k + lag) for k, lag in enumerate([40, 50, 40, 50])])
    assert score(compute_similarity([leader, even]), CO_TRADE, 0, 1) == pytest.approx(4 / math.sqrt(20))


def test_a_fast_bot_and_a_slower_sniper_do_not_co_trade_however_often_the_bot_is_first() -> None:
    # Both react to each launch, not to each other: the bot buys 2 s after every launch, the sniper 1-20 s
    # after (each delay once), so the bot is first in 18 of 20 launches, at a gap that varies from -1 to 18 s.
    # The old order rule counted that as a consistent order (co_trade 0.8 here). The median gap is 8.5 s,
    # its band 8.5 +- 2.55 s holds 6 of 20 gaps (6 to 11 s): the lag rule counts nothing.
    launches = [1_700_000_000 + 3_600 * k for k in range(20)]
    bot = wallet("BOT", [trade(f"L{k}", at=at + 2) for k, at in enumerate(launches)])
    sniper = wallet("SNIPER", [trade(f"L{k}", at=at + 1 + k) for k, at in enumerate(launches)])
    result = compute_similarity([bot, sniper])
    (pair,) = result.pairs
    assert pair.co_trade.count == 20 and pair.co_trade.leader == "BOT" and pair.co_trade.lead_share == 0.9
    assert pair.co_trade.steady_share == pytest.approx(0.3)
    assert score(result, CO_TRADE, 0, 1) == 0.0


def test_a_bundle_in_the_same_second_co_trades_and_bots_racing_within_seconds_do_not() -> None:
    launches = [1_700_000_000 + 3_600 * k for k in range(10)]
    bundle = [wallet(f"B{i}", [trade(f"L{k}", at=at + 1) for k, at in enumerate(launches)]) for i in range(2)]
    # Two bots 0-2 s after each launch, either of them first: their median gap is 0, and a gap of 0 keeps
    # only the same second, which they share in 3 launches of 10.
    gaps = [(0, 1), (1, 0), (2, 2), (0, 2), (2, 0), (1, 1), (0, 1), (1, 0), (2, 1), (0, 0)]
    bots = [
        wallet(
            f"BOT{i}",
            [trade(f"L{k}", at=at + gap[i]) for k, (at, gap) in enumerate(zip(launches, gaps, strict=True))],
        )
        for i in range(2)
    ]
    assert score(compute_similarity(bundle), CO_TRADE, 0, 1) == 1.0
    racing = compute_similarity(bots)
    assert racing.pairs[0].co_trade.steady_share == pytest.approx(0.3)
    assert score(racing, CO_TRADE, 0, 1) == 0.0


def test_leader_detection_and_median_lag() -> None:
    leader = wallet("L", [trade(m, at=10_000 * (i + 1)) for i, m in enumerate("XYZ")])
    lags = {"X": 5, "Y": 10, "Z": 30}
    follower = wallet("F", [trade(m, at=10_000 * (i + 1) + lags[m]) for i, m in enumerate("XYZ")])
    result = compute_similarity([follower, leader])
    (pair,) = result.pairs
    assert (pair.wallet_a, pair.wallet_b) == ("F", "L")
    assert pair.co_trade.count == 3
    assert pair.co_trade.weighted == pytest.approx(3.0)
    assert pair.co_trade.leader == "L"
    assert pair.co_trade.lead_share == 1.0
    assert pair.co_trade.median_lag_s == 10.0
    assert {token.lag_s for token in pair.shared_tokens} == {-5, -10, -30}  # negative: wallet_b bought first


def test_no_leader_on_a_tie() -> None:
    a = wallet("A", [trade("X", at=100), trade("Y", at=200)])
    b = wallet("B", [trade("X", at=110), trade("Y", at=190)])
    (pair,) = compute_similarity([a, b]).pairs
    assert pair.co_trade.count == 2 and pair.co_trade.leader is None and pair.co_trade.lead_share is None


def test_lead_share_counts_the_co_buys_the_leader_bought_first() -> None:
    lags = [40, 55, 70, 35, -20]  # the follower is ahead once
    leader = wallet("L", [trade(f"T{k}", at=10_000 * k) for k in range(5)])
    follower = wallet("F", [trade(f"T{k}", at=10_000 * k + lag) for k, lag in enumerate(lags)])
    (pair,) = compute_similarity([leader, follower]).pairs
    assert pair.co_trade.leader == "L" and pair.co_trade.lead_share == pytest.approx(0.8)
    assert pair.co_trade.median_lag_s == 40.0


def test_excluded_mints_are_ignored_everywhere() -> None:
    quote_only = [trade(SOL_MINT, 5.0), trade(USDC_MINT, 1.0), trade(MSOL_MINT, 2.0)]
    a = wallet("A", [*quote_only, trade("X", 1.0)], {SOL_MINT: 3.0, "X": 1.0}, funded_by("F"))
    b = wallet("B", [trade("X", 1.0)], {"X": 2.0, USDC_MINT: 9.0}, funded_by("F"))
    c = wallet("C", quote_only, {SOL_MINT: 3.0, MSOL_MINT: 1.0}, funded_by("G"))
    result = compute_similarity([a, b, c], options=ONE_EVENT)
    for channel in ALL:  # excluded mints neither dilute A~B nor make A~C similar
        assert score(result, channel, 0, 1) == pytest.approx(1.0, abs=1e-6), channel
        assert score(result, channel, 0, 2) == 0.0, channel
    assert result.global_stats.token_count == 1
    assert result.global_stats.excluded_token_count == 3


def test_common_token_down_weighting() -> None:
    # Ten wallets all trade HOT; wallets 0 and 1 also share A; everyone has a token of its own.
    activities = [
        wallet(
            f"W{i}",
            [trade("HOT"), trade(f"U{i}")] + ([trade("A")] if i < 2 else []),
            {"HOT": 1.0, f"U{i}": 1.0},
        )
        for i in range(10)
    ]
    plain = compute_similarity(activities, options=NO_DOWNWEIGHT)
    weighted = compute_similarity(activities)  # defaults: share 0.5, weight 0.25, at least 10 wallets
    w2 = 0.25**2
    assert score(plain, BINARY_COSINE, 0, 1) == pytest.approx(2 / 3, abs=1e-6)
    assert score(weighted, BINARY_COSINE, 0, 1) == pytest.approx((w2 + 1) / (w2 + 2), abs=1e-6)
    assert score(plain, BINARY_COSINE, 2, 3) == pytest.approx(1 / 2, abs=1e-6)
    assert score(weighted, BINARY_COSINE, 2, 3) == pytest.approx(w2 / (w2 + 1), abs=1e-6)
    assert score(weighted, CAPITAL_COSINE, 2, 3) == pytest.approx(w2 / (w2 + 1), abs=1e-6)
    assert score(weighted, HOLDINGS_COSINE, 2, 3) == pytest.approx(w2 / (w2 + 1), abs=1e-6)
    for channel in (JACCARD_TRADED, HOLDINGS_JACCARD, CO_TRADE):  # set/timing channels are not reweighted
        np.testing.assert_array_equal(weighted.matrices[channel], plain.matrices[channel])
    assert weighted.global_stats.common_token_count == 1
    # Fewer wallets than common_token_min_wallets: "most of the set" is meaningless, nothing changes.
    small = compute_similarity(activities[:9])
    assert score(small, BINARY_COSINE, 0, 1) == pytest.approx(2 / 3, abs=1e-6)


# --- pairs, clusters, output --------------------------------------------------------------------------------


def planted_families(seed: int = 11) -> tuple[list[WalletActivity], list[list[str]]]:
    """3 families of 4 wallets, three copying the first one's tokens with a steady lag of their own (20-120 s,
    give or take 3 s), + 10 unrelated random wallets."""
    rng = random.Random(seed)
    activities: list[WalletActivity] = []
    families: list[list[str]] = []
    for f in range(3):
        tokens = [
            (f"fam{f}-tok{k}", rng.uniform(0.1, 5), 1_700_000_000 + rng.randint(0, 10**6)) for k in range(15)
        ]
        members = []
        for member in range(4):
            kept = [t for t in tokens if rng.random() < 0.85]
            lag = rng.randint(20, 120) if member else 0
            trades = [
                trade(m, spent * rng.uniform(0.8, 1.2), at + (lag + rng.randint(-3, 3) if member else 0))
                for m, spent, at in kept
            ]
            holdings = {m: rng.uniform(1, 100) for m, _, _ in kept[:8]}
            members.append(f"family{f}-{member}")
            activities.append(wallet(members[-1], trades, holdings))
        families.append(members)
    pool = [f"pool{k}" for k in range(500)]
    for r in range(10):
        trades = [
            trade(m, rng.uniform(0.1, 5), 1_700_000_000 + rng.randint(0, 10**7)) for m in rng.sample(pool, 15)
        ]
        activities.append(wallet(f"random{r}", trades, {trades[0].mint: 1.0}))
    rng.shuffle(activities)
    return activities, families


def test_clusters_equal_the_planted_families() -> None:
    activities, families = planted_families()
    result = compute_similarity(activities)
    assert sorted(sorted(c.wallets) for c in result.clusters) == sorted(sorted(f) for f in families)
    assert [c.id for c in result.clusters] == [0, 1, 2]
    for cluster in result.clusters:
        # Followers all follow the leader but not each other in one order: every leader pair is an edge.
        assert cluster.cohesion >= 0.5
        assert cluster.reasons[0] == CO_TRADE
    assert result.global_stats.cluster_note is None
    assert result.hubs == []


def test_default_weights_cluster_on_timing_not_on_overlap_alone() -> None:
    # A and B each trade 10 tokens (1 SOL each) and share 5: capital and binary cosine 1/2, Jaccard 1/3.
    a_trades = [trade(f"T{k}", 1.0, 10_000 * k) for k in range(10)]
    apart = [trade(f"T{k}", 1.0, 10_000 * k + 3_600) for k in range(5, 15)]  # the shared ones an hour later
    together = [trade(f"T{k}", 1.0, 10_000 * k + 60) for k in range(5, 15)]  # a minute later
    weights = engine.DEFAULT_WEIGHTS
    overlap_only = (
        weights[CAPITAL_COSINE] * 0.5 + weights[BINARY_COSINE] * 0.5 + weights[JACCARD_TRADED] * (1 / 3)
    )
    for b_trades, co_trade in ((apart, 0.0), (together, 0.5)):
        result = compute_similarity([wallet("A", a_trades), wallet("B", b_trades)])
        assert score(result, CO_TRADE, 0, 1) == pytest.approx(co_trade)  # 5 co-buys / sqrt(10 x 10)
        expected = overlap_only + weights[CO_TRADE] * co_trade
        assert score(result, COMBINED, 0, 1) == pytest.approx(expected, abs=1e-6)
    assert overlap_only < engine.DEFAULT_CLUSTER_THRESHOLD


def test_a_shared_first_funder_alone_clusters_wallets_that_trade_apart() -> None:
    fresh = [
        wallet(f"F{i}", [trade(f"own{i}-{k}", at=10**6 * i + k) for k in range(5)], {}, funded_by("FUNDER"))
        for i in range(3)
    ]
    exchange = [wallet(f"E{i}", [trade(f"ex{i}", at=5 * 10**6 + i)], {}, funded_by("HOT")) for i in range(3)]
    options = SimilarityOptions(ignored_funders={"HOT": "exchange hot wallet: Example"})
    result = compute_similarity([*fresh, *exchange], options=options)
    (cluster,) = result.clusters
    assert sorted(cluster.wallets) == ["F0", "F1", "F2"]
    assert cluster.reasons == [FUNDING] and cluster.cohesion == 1.0
    assert score(result, FUNDING, 3, 4) == 0.0  # the exchange's customers are strangers
    pair = next(p for p in result.pairs if {p.wallet_a, p.wallet_b} == {"F0", "F1"})
    assert pair.funding is not None and pair.funding.shared_funder == "FUNDER" and not pair.funding.direct
    assert [(receiver, t.source, t.lamports) for receiver, t in pair.funding.transfers] == [
        ("F0", "FUNDER", 10**9),
        ("F1", "FUNDER", 10**9),
    ]
    assert result.funders["E0"].status == "ignored"
    assert result.funders["E0"].reason == "exchange hot wallet: Example"
    assert result.funders["F0"].status == "funder"


def test_direct_funding_links_the_funder_and_the_funded() -> None:
    parent = wallet("P", [trade("A", at=1)], {}, funded_by("SOMEONE"))
    child = wallet("C", [trade("B", at=10**6)], {}, funded_by("ELSEWHERE", others=["P"]))
    result = compute_similarity([parent, child])
    assert score(result, FUNDING, 0, 1) == 1.0
    (pair,) = result.pairs
    assert pair.funding is not None and pair.funding.direct and pair.funding.shared_funder is None
    assert [(receiver, t.source) for receiver, t in pair.funding.transfers] == [("C", "P")]


def test_a_funder_of_more_wallets_than_the_fanout_never_links_them() -> None:
    wallets = [wallet(f"W{i}", [trade(f"t{i}", at=i)], {}, funded_by("FAUCET")) for i in range(4)]
    busy = compute_similarity(wallets, options=SimilarityOptions(funder_max_fanout=3))
    assert not busy.matrices[FUNDING][~np.eye(4, dtype=bool)].any()
    assert busy.funders["W0"].status == "ignored" and "more than 3" in (busy.funders["W0"].reason or "")
    assert (
        compute_similarity(wallets, options=SimilarityOptions(funder_max_fanout=4)).matrices[FUNDING].min()
        == 1
    )


def test_an_unknown_first_funder_is_reported() -> None:
    partial = WalletFunding(first=None, received=(), history_complete=False)
    result = compute_similarity([wallet("A", [trade("X")], {}, partial), wallet("B", [trade("Y")])])
    report = result.funders["A"]
    assert report.status == "unknown" and report.transfer is None and not report.history_complete
    assert "may not reach" in (report.reason or "")
    assert "B" not in result.funders  # no funding data given: nothing claimed
    assert result.to_dict()["funders"]["A"]["funder"] is None


def test_the_sniper_bot_is_a_hub_and_merges_no_strangers() -> None:
    # Issue 18: a bot that buys 300 launches plus 15 unrelated wallets that each bought one of those launches
    # 120 s after it. Connected components over co_trade's old overlap coefficient made one 16-wallet cluster.
    launches = [1_700_000_000 + 3_600 * k for k in range(300)]
    bot = wallet("BOT", [trade(f"L{k}", 1.0, at) for k, at in enumerate(launches)])
    strangers = [
        wallet(f"S{i}", [trade(f"L{20 * i}", 1.0, launches[20 * i] + 120), trade(f"own{i}", 1.0, 5)])
        for i in range(15)
    ]
    result = compute_similarity([bot, *strangers])
    assert result.clusters == []
    assert [(hub.wallet, hub.links, hub.groups) for hub in result.hubs] == [("BOT", 15, 15)]
    assert result.matrices[CO_TRADE][0, 1:].max() == 0.0  # one co-buy each: below the minimum
    assert result.matrices[COMBINED][0, 1:].max() < engine.DEFAULT_CLUSTER_THRESHOLD


def test_a_hub_with_strong_links_into_separate_groups_never_joins_them() -> None:
    # A leader copied by three pairs of wallets; the pairs copy it at different times, never each other.
    leader_trades = [trade(f"T{k}", 1.0, 10_000 * k) for k in range(30)]
    followers = []
    for group in range(3):
        tokens = range(10 * group, 10 * group + 10)
        for member in range(2):
            lag = 30 + 20 * member
            followers.append(
                wallet(f"G{group}-{member}", [trade(f"T{k}", 1.0, 10_000 * k + lag) for k in tokens])
            )
    # A threshold low enough that the leader's links to every follower are strong: only the hub rule keeps
    # the three pairs apart (connected components would make one cluster of seven).
    options = SimilarityOptions(cluster_threshold=0.15)
    result = compute_similarity([wallet("LEADER", leader_trades), *followers], options=options)
    (hub,) = result.hubs
    assert hub.wallet == "LEADER" and hub.groups == 3 and hub.cluster is None
    assert sorted(sorted(c.wallets) for c in result.clusters) == [
        [f"G{group}-0", f"G{group}-1"] for group in range(3)
    ]
    index = {w: i for i, w in enumerate(result.wallets)}
    assert score(result, COMBINED, index["LEADER"], index["G0-0"]) >= options.cluster_threshold


def test_followers_that_co_buy_a_quarter_of_their_tokens_keep_their_leader_in_their_cluster() -> None:
    # Three followers of one leader with nearly the same lag (so their order among themselves is a coin toss
    # and they score no co_trade with each other) and 40 tokens of their own each: the 20 copied tokens they
    # co-buy are a third of what each bought. They are linked, so the leader is no hub between strangers:
    # the four are one cluster (with co-buys counted as a link only from half, the leader was a hub and
    # nobody was clustered).
    rng = random.Random(7)
    leader = wallet("LEADER", [trade(f"T{k}", 1.0, 10_000 * k) for k in range(20)])
    followers = [
        wallet(
            f"F{i}",
            [trade(f"T{k}", 1.0, 10_000 * k + 60 + rng.randint(-3, 3)) for k in range(20)]
            + [trade(f"own{i}-{k}", 1.0, 5_000_000 + 10_000 * k) for k in range(40)],
        )
        for i in range(3)
    ]
    result = compute_similarity([leader, *followers])
    assert max(score(result, CO_TRADE, a, b) for a, b in ((1, 2), (1, 3), (2, 3))) < 0.1
    assert result.hubs == []
    assert [sorted(c.wallets) for c in result.clusters] == [["F0", "F1", "F2", "LEADER"]]


def test_no_cluster_reaching_the_threshold_is_explained() -> None:
    activities, _ = planted_families()
    result = compute_similarity(activities, options=SimilarityOptions(cluster_threshold=1.0))
    assert result.clusters == []
    assert result.global_stats.cluster_note is not None
    assert "lower cluster_threshold" in result.global_stats.cluster_note


def test_pairs_sorted_by_combined_with_evidence() -> None:
    activities, families = planted_families()
    result = compute_similarity(activities, options=SimilarityOptions(top_pairs=10, evidence_tokens=3))
    combined = [pair.scores[COMBINED] for pair in result.pairs]
    assert len(result.pairs) == 10
    assert combined == sorted(combined, reverse=True)
    family_of = {w: i for i, f in enumerate(families) for w in f}
    index = {w: i for i, w in enumerate(result.wallets)}
    for pair in result.pairs:
        assert family_of.get(pair.wallet_a, -1) == family_of.get(pair.wallet_b, -2)
        assert index[pair.wallet_a] < index[pair.wallet_b]
        assert pair.scores[COMBINED] == pytest.approx(
            score(result, COMBINED, index[pair.wallet_a], index[pair.wallet_b])
        )
        assert set(pair.scores) == set(ALL)
        assert len(pair.shared_tokens) == 3
        smaller = [min(t.weight_a, t.weight_b) for t in pair.shared_tokens]
        assert smaller == sorted(smaller, reverse=True)
        assert all(t.lag_s is not None and abs(t.lag_s) <= 120 for t in pair.shared_tokens)
        assert pair.co_trade.count > 0 and pair.co_trade.median_lag_s is not None
    assert result.global_stats.top_pairs == [
        (p.wallet_a, p.wallet_b, p.scores[COMBINED]) for p in result.pairs[:5]
    ]


def test_pairs_with_nothing_in_common_are_not_listed() -> None:
    result = compute_similarity(
        [wallet("A", [trade("X")]), wallet("B", [trade("Y")]), wallet("C", [trade("X")])]
    )
    assert [(p.wallet_a, p.wallet_b) for p in result.pairs] == [("A", "C")]


def test_to_dict_is_json_serialisable() -> None:
    activities, _ = planted_families()
    failed = [{"wallet": "broken", "error": "sync failed: upstream 500"}]
    result = compute_similarity(activities, failed_wallets=failed)
    out = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert out["wallets"] == list(result.wallets)
    assert out["failed_wallets"] == failed
    assert set(out["matrices"]) == set(ALL)
    assert out["matrices"][COMBINED][0][0] == 1.0
    assert all(len(str(v)) <= 6 for row in out["matrices"][CAPITAL_COSINE] for v in row)  # 4 decimals
    assert set(out["pairs"][0]) >= {"wallet_a", "wallet_b", "shared_tokens", "co_trade_evidence", *ALL}
    # Every channel's score is a number under its name; the evidence sits under its own keys (the old
    # output overwrote the co_trade score with its evidence object).
    assert all(isinstance(out["pairs"][0][name], float) for name in ALL)
    assert set(out["pairs"][0]["co_trade_evidence"]) == {
        "count",
        "weighted",
        "median_lag_s",
        "leader",
        "lead_share",
        "steady_share",
    }
    assert set(out["clusters"][0]) == {
        "id",
        "wallets",
        "mean_combined",
        "cohesion",
        "reasons",
        "channel_means",
    }
    assert out["hubs"] == [] and out["funders"] == {}
    assert set(out["global"]) >= {
        "median_similarity",
        "mean_similarity",
        "top_pairs",
        "wallet_count",
        "token_count",
        "excluded_token_count",
        "channel_weights",
        "cluster_note",
        "co_trade_min_events",
        "co_trade_lag_tolerance",
        "funder_max_fanout",
        "matrices_note",
    }
    assert out["global"]["wallet_count"] == len(activities)
    assert sum(out["global"]["channel_weights"].values()) == pytest.approx(1.0)
    assert "matrices" not in result.to_dict(include_matrices=False)


def test_fewer_than_two_wallets_raises() -> None:
    with pytest.raises(InsufficientWalletsError):
        compute_similarity([wallet("A", [trade("X")])])
    with pytest.raises(InsufficientWalletsError):
        compute_similarity([])
    with pytest.raises(ValueError, match="duplicate"):
        compute_similarity([wallet("A"), wallet("A")])


def test_options_are_validated_and_weights_normalised() -> None:
    with pytest.raises(ValueError):
        SimilarityOptions(weights={"nope": 1.0})
    with pytest.raises(ValueError):
        SimilarityOptions(cluster_threshold=0.0)
    weights = SimilarityOptions(weights={CAPITAL_COSINE: 2.0, CO_TRADE: 2.0}).channel_weights()
    assert weights[CAPITAL_COSINE] == 0.5 and weights[BINARY_COSINE] == 0.0
    assert sum(engine.DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)


def test_activity_from_legs_aggregates_per_mint() -> None:
    def leg(mint: str, direction: str, ts: int, lamports: int | None) -> SwapLeg:
        return SwapLeg(f"sig{ts}", ts, ts, mint, direction, 1, 0, SOL_MINT, 0, 9, lamports, None, 0, "TEST")  # type: ignore[arg-type]

    legs = [
        leg("X", "buy", 200, 2 * 10**9),
        leg("X", "buy", 100, None),
        leg("X", "sell", 300, 5 * 10**8),
        leg("Y", "sell", 50, 10**9),
    ]
    activity = activity_from_legs("A", legs, {"X": 1.0})
    by_mint = {t.mint: t for t in activity.trades}
    assert by_mint["X"] == TokenTrade("X", 2.0, 0.5, 100, buy_count=2, sell_count=1)
    assert by_mint["Y"] == TokenTrade("Y", 0.0, 1.0, None, buy_count=0, sell_count=1)
    assert activity.holdings == {"X": 1.0}


# --- against the naive double loop --------------------------------------------------------------------------


def random_activities(rng: random.Random, n: int) -> list[WalletActivity]:
    """Messy input: repeated mints, sell-only tokens, zero/NaN/negative amounts, excluded mints, empty
    wallets."""
    mints = [f"M{k}" for k in range(60)] + [SOL_MINT, MSOL_MINT, USDC_MINT]
    hot = mints[:4]
    out = []
    for w in range(n):
        picked = rng.sample(mints, rng.randint(0, 25)) + rng.sample(hot, rng.randint(0, 4))
        trades = [
            trade(
                m,
                rng.choice([0.0, rng.random(), rng.random() * 10, -1.0, math.nan]),
                rng.choice([None, 1_000 + rng.randint(0, 900)]),
            )
            for m in picked
        ]
        holdings = {
            m: rng.choice([0.0, rng.random() * 5, -2.0]) for m in rng.sample(mints, rng.randint(0, 12))
        }
        out.append(wallet(f"W{w}", trades, holdings, random_funding(rng, n)))
    return out


def random_funding(rng: random.Random, n: int) -> WalletFunding | None:
    """Funders drawn from a few outside wallets and from the set itself; some wallets without data."""
    if rng.random() < 0.2:
        return None
    sources = [f"FUNDER{k}" for k in range(6)] + [f"W{k}" for k in range(n)]
    transfers = [
        FundingTransfer(rng.choice(sources), rng.randint(10**6, 10**10), rng.randint(0, 10**6), f"s{k}")
        for k in range(rng.randint(0, 3))
    ]
    transfers.sort(key=lambda t: t.timestamp)
    return WalletFunding(first=transfers[0] if transfers else None, received=tuple(transfers))


@pytest.mark.parametrize(
    "options",
    [
        SimilarityOptions(),
        SimilarityOptions(common_token_share=0.2, common_token_min_wallets=2, common_token_weight=0.1),
        SimilarityOptions(
            common_token_share=None, co_trade_window_s=60, weights={CO_TRADE: 1.0, HOLDINGS_COSINE: 3}
        ),
        SimilarityOptions(co_trade_min_events=1, funder_max_fanout=3, ignored_funders={"FUNDER0": "test"}),
    ],
)
def test_every_channel_matches_the_naive_double_loop(options: SimilarityOptions) -> None:
    activities = random_activities(random.Random(2024), 40)
    fast = compute_similarity(activities, options=options)
    slow = naive_similarity(activities, options)
    for channel in ALL:
        np.testing.assert_allclose(fast.matrices[channel], slow[channel], rtol=0, atol=1e-6, err_msg=channel)
    assert fast.matrices[CO_TRADE].max() > 0 and np.count_nonzero(fast.matrices[FUNDING]) > 40


def test_blocks_without_kept_matrices_give_the_same_pairs_clusters_and_hubs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    activities, _ = planted_families()
    activities += random_activities(random.Random(5), 30)
    # A threshold the token channels alone could reach: every pair must be scored, block by block.
    options = SimilarityOptions(top_pairs=40, cluster_threshold=0.04)
    assert engine._scores_every_pair(
        len(activities), dataclasses.replace(options, dense_matrices_max_wallets=0)
    )
    dense = compute_similarity(activities, options=options)
    monkeypatch.setattr(engine, "_BLOCK_ROWS", 7)
    blocked = compute_similarity(
        activities, options=dataclasses.replace(options, dense_matrices_max_wallets=10)
    )
    assert blocked.matrices == {} and blocked.global_stats.matrices_note is not None
    assert "matrices" not in blocked.to_dict()
    assert_same_outcome(blocked, dense)
    assert blocked.global_stats.median_similarity == dense.global_stats.median_similarity
    assert blocked.global_stats.mean_similarity == pytest.approx(dense.global_stats.mean_similarity)
    upper = dense.matrices[COMBINED][np.triu_indices(len(activities), 1)].astype(np.float64)
    assert dense.global_stats.median_similarity == pytest.approx(
        float(np.median(np.round(upper, 4))), abs=1e-4
    )


def test_large_sets_score_the_pairs_with_evidence_and_sample_the_median(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    activities, _ = planted_families()
    activities += random_activities(random.Random(5), 30)
    dense = compute_similarity(activities, options=SimilarityOptions(top_pairs=1000))
    monkeypatch.setattr(engine, "_SAMPLE_ROWS", 12)
    large = compute_similarity(activities, options=SimilarityOptions(dense_matrices_max_wallets=10))
    assert "sampled" in (large.global_stats.matrices_note or "")
    evidence = [p for p in dense.pairs if p.scores[CO_TRADE] > 0 or p.scores[FUNDING] > 0]
    assert len(evidence) >= len(large.pairs) > 0
    assert_same_outcome(large, dataclasses.replace(dense, pairs=evidence[: len(large.pairs)]))
    assert abs(large.global_stats.median_similarity - dense.global_stats.median_similarity) < 0.02


def assert_same_outcome(got: engine.SimilarityResult, expected: engine.SimilarityResult) -> None:
    """Same pairs, clusters and hubs, scores equal to the 4 decimals of the output (float32 sums may differ
    in the last bits between a block and the whole)."""
    assert [(p.wallet_a, p.wallet_b) for p in got.pairs] == [(p.wallet_a, p.wallet_b) for p in expected.pairs]
    for mine, theirs in zip(got.pairs, expected.pairs, strict=True):
        for name in ALL:
            assert mine.scores[name] == pytest.approx(theirs.scores[name], abs=1e-6)
        assert mine.co_trade == theirs.co_trade and mine.funding == theirs.funding
    assert [c.wallets for c in got.clusters] == [c.wallets for c in expected.clusters]
    for mine_cluster, their_cluster in zip(got.clusters, expected.clusters, strict=True):
        assert mine_cluster.reasons == their_cluster.reasons
        assert mine_cluster.mean_combined == pytest.approx(their_cluster.mean_combined, abs=1e-6)
    assert got.hubs == expected.hubs


def test_dense_and_sparse_gram_paths_and_co_trade_chunks_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    activities = random_activities(random.Random(7), 40)
    bundle = [trade(f"B{k}", 1.0, 5_000 + k) for k in range(30)]  # many co-trades per token
    activities += [wallet(f"bundle{i}", bundle) for i in range(6)]
    slow = naive_similarity(activities)
    for dense_min, chunk in ((0, 3), (10**9, 1), (8, 10**6)):
        monkeypatch.setattr(engine, "_DENSE_COLUMN_MIN", dense_min)
        monkeypatch.setattr(engine, "_PAIR_CHUNK", chunk)
        fast = compute_similarity(activities)
        for channel in ALL:
            np.testing.assert_allclose(
                fast.matrices[channel], slow[channel], rtol=0, atol=1e-6, err_msg=channel
            )
