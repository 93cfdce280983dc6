"""The default weights and threshold against the simulated market's families, without the database.

Each wallet goes the way the job takes it (tests/support/market_activity.py): its transactions from the
market, swaps by `wallets.extraction`, funding transfers by `wallets.transfers`, holdings normalised per
token, the shipped custodial list, then the engine with its defaults. This guards the calibration written
in docs/METHODS.md §5 (bench/calibrate_similarity.py prints its figures).

The market has three kinds of family: copy traders (a leader and followers with a steady 30-90 s lag, each
funded from an exchange: only their timing links them), bundles (one fresh funder, the same launches in the
same second) and funded groups (one fresh funder, nothing else in common); and wallets of no family that look
related: five sniper bots buying most launches within seconds, ordinary snipers, exchange customers.

Issue 18's must-show runs here, in-process rather than as 500 real jobs: random sets of three families plus
ten wallets of no family (two sniper bots and an ordinary sniper among them) come out exactly as their
families in at least 99 % of 500 sets. The job itself runs the same engine on the same extracted data
(tests/integration show the flow).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from similarity.engine import CO_TRADE, SimilarityOptions, SimilarityResult, compute_similarity
from tests.support.market_activity import (
    CUSTODIAL_FUNDERS,
    MarketSample,
    activities,
    load_sample,
    random_sets,
)

pytestmark = pytest.mark.slow

SEEDS = range(4)
SETS = 500
OPTIONS = SimilarityOptions(ignored_funders=CUSTODIAL_FUNDERS)
LEAD_SHARE_MIN = 0.8


@pytest.fixture(scope="module")
def samples() -> list[MarketSample]:
    return [load_sample(seed) for seed in SEEDS]


def _clusters(result: SimilarityResult) -> set[frozenset[str]]:
    return {frozenset(cluster.wallets) for cluster in result.clusters}


def _families(families: Sequence[Sequence[str]]) -> set[frozenset[str]]:
    return {frozenset(members) for members in families}


def _everyone(sample: MarketSample) -> list[str]:
    return [w for members in sample.families for w in members] + sample.strangers


def test_random_sets_of_three_families_and_ten_unrelated_wallets_come_out_exact(
    samples: list[MarketSample],
) -> None:
    misses = []
    for sample, families, others in random_sets(samples, SETS, unrelated=10):
        wallets = [w for members in families for w in members] + others
        result = compute_similarity(activities(wallets, sample.data), options=OPTIONS)
        if _clusters(result) != _families(families):
            misses.append((sample.seed, sorted(map(sorted, _clusters(result) ^ _families(families)))))
    assert len(misses) <= SETS // 100, (f"{SETS - len(misses)} of {SETS} sets exact", misses[:5])


def test_every_family_among_all_the_wallets_of_no_family(samples: list[MarketSample]) -> None:
    for sample in samples:
        result = compute_similarity(activities(_everyone(sample), sample.data), options=OPTIONS)
        assert _clusters(result) == _families(sample.families), sample.seed
        for cluster in result.clusters:
            kind = sample.kind(cluster.wallets)
            assert cluster.reasons[0] == (CO_TRADE if kind == "copy" else "funding"), (kind, cluster)


def test_copy_and_bundle_families_come_out_on_their_timing_alone(samples: list[MarketSample]) -> None:
    # As if every family had withdrawn from an exchange: a copy family is found that way in the market, and a
    # bundle still buys its launches in the same second. A funded group then shares nothing at all.
    misses = 0
    for sample, families, others in random_sets(samples, SETS, unrelated=10):
        wallets = [w for members in families for w in members] + others
        result = compute_similarity(activities(wallets, sample.data, with_funding=False), options=OPTIONS)
        timed = [members for members in families if sample.kind(members) != "funded"]
        misses += _clusters(result) != _families(timed)
        assert all(cluster.reasons[0] == CO_TRADE for cluster in result.clusters)
    assert misses <= SETS // 100, f"{SETS - misses} of {SETS} sets exact"


def test_a_copy_trader_names_its_leader(samples: list[MarketSample]) -> None:
    # Followers copy with a steady 30-90 s lag and are ahead of the leader in about one shared buy in ten.
    for sample in samples:
        for family in sample.families:
            if sample.kind(family) != "copy":
                continue
            leader = sample.leaders[frozenset(family)]
            result = compute_similarity(activities(family, sample.data), options=OPTIONS)
            led = [pair for pair in result.pairs if leader in (pair.wallet_a, pair.wallet_b)]
            assert len(led) == len(family) - 1
            for pair in led:
                evidence = pair.co_trade
                assert evidence.leader == leader, (sample.seed, pair.wallet_a, pair.wallet_b)
                assert evidence.median_lag_s is not None and 25 <= evidence.median_lag_s <= 95
                assert pair.scores[CO_TRADE] > 0
                # The seed the stack serves (SIMULATED_SEED=0): every follower, lead_share >= 0.8. On other
                # seeds the market's per-buy draw puts a few followers ahead in up to 28 % of their buys.
                if sample.seed == 0:
                    assert evidence.lead_share is not None and evidence.lead_share >= LEAD_SHARE_MIN, pair


def test_a_sniper_bot_is_a_hub_between_the_bundles_it_sniped_alongside(samples: list[MarketSample]) -> None:
    # Every sniper bot buys most launches seconds after each bundle: linked to every bundle member, but the
    # three bundles are not linked to each other. The bot is reported as a hub and joins no cluster.
    for sample in samples:
        bundles = [members for members in sample.families if sample.kind(members) == "bundle"]
        for bot in sample.sniper_bots:
            wallets = [bot, *(w for members in bundles for w in members)]
            result = compute_similarity(activities(wallets, sample.data), options=OPTIONS)
            assert _clusters(result) == _families(bundles), (sample.seed, bot)
            assert [(hub.wallet, hub.groups, hub.cluster) for hub in result.hubs] == [(bot, 3, None)]
