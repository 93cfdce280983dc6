"""The default weights and threshold against the simulated market's families, without the database.

Each wallet goes the way the job takes it (tests/support/market_activity.py): its transactions from the
market, swaps by `wallets.extraction`, funding transfers by `wallets.transfers`, holdings normalised per
token, the shipped custodial list, then the engine with its defaults. This guards the calibration written
in docs/notes/similarity.md (bench/calibrate_similarity.py prints its figures).

Issue 18's must-show runs here, in-process rather than as 500 real jobs: random sets of three families plus
ten unrelated wallets (three of them snipers) come out exactly as their families in at least 99 % of 500
sets. The job itself runs the same engine on the same extracted data (tests/integration show the flow).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from similarity.engine import SimilarityOptions, SimilarityResult, compute_similarity
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
SNIPERS = 3
OPTIONS = SimilarityOptions(ignored_funders=CUSTODIAL_FUNDERS)


@pytest.fixture(scope="module")
def samples() -> list[MarketSample]:
    return [load_sample(seed, snipers=SNIPERS) for seed in SEEDS]


def _clusters(result: SimilarityResult) -> set[frozenset[str]]:
    return {frozenset(cluster.wallets) for cluster in result.clusters}


def _families(families: Sequence[Sequence[str]]) -> set[frozenset[str]]:
    return {frozenset(members) for members in families}


def test_random_sets_of_three_families_and_ten_unrelated_wallets_come_out_exact(
    samples: list[MarketSample],
) -> None:
    misses = []
    for sample, families, others in random_sets(samples, SETS, unrelated=10, snipers=SNIPERS):
        wallets = [w for members in families for w in members] + others
        result = compute_similarity(activities(wallets, sample.data), options=OPTIONS)
        if _clusters(result) != _families(families):
            misses.append((sample.seed, sorted(map(sorted, _clusters(result) - _families(families)))))
    assert len(misses) <= SETS // 100, misses[:5]


def test_every_family_among_all_the_unrelated_wallets_and_snipers(samples: list[MarketSample]) -> None:
    for sample in samples:
        wallets = [w for members in sample.families for w in members] + sample.unrelated + sample.snipers
        result = compute_similarity(activities(wallets, sample.data), options=OPTIONS)
        assert _clusters(result) == _families(sample.families), sample.seed
        for cluster in result.clusters:
            assert cluster.reasons, cluster
