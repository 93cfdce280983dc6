"""3 simulated families among 10 unrelated wallets come out as exactly those clusters (issues 6 and 18).

Through the real flow: HTTP submit to the live stack, wallets synced from the simulated market by the wallet
worker, similarity computed by the similarity worker with the engine's default weights and threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import requests
from django.conf import settings

from jobs.models import Job
from similarity.engine import CHANNELS, COMBINED, DEFAULT_CLUSTER_THRESHOLD
from tests.integration.conftest import ApiUser
from tests.support.stack import Stack, wait_for
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FLOW_TIMEOUT_S = 150
# One copy family and two bundle families: both ways a shared operator shows in the market.
FAMILY_NAMES = ("copy-1", "bundle-1", "bundle-2")
UNRELATED = 10


def _families(market: SimulatedMarket) -> list[list[str]]:
    by_name = {family.name: family.members for family in market.families()}
    return [list(by_name[name]) for name in FAMILY_NAMES]


def _holding_pairs(market: SimulatedMarket) -> set[frozenset[str]]:
    """The pairs that hold each family together: a copy family's leader with each follower (two followers of
    one leader buy in either order, at whatever gap their own lags leave), every pair of a bundle."""
    pairs = set()
    for family in market.families():
        if family.name not in FAMILY_NAMES:
            continue
        members = family.members
        if family.kind == "copy":
            pairs |= {
                frozenset((family.leader, follower)) for follower in members if follower != family.leader
            }
        else:
            pairs |= {frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1 :]}
    return pairs


def _result(stack: Stack, user: ApiUser, job_id: str) -> dict[str, Any]:
    response = requests.get(f"{stack.base_url}/jobs/{job_id}/result", headers=user.headers, timeout=30)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    assert payload["status"] == "completed"
    result: dict[str, Any] = payload["result"]
    return result


def test_three_families_among_unrelated_wallets_come_out_as_the_clusters(
    live_stack: Stack, api_user: ApiUser
) -> None:
    market = SimulatedMarket(seed=settings.SIMULATED_SEED)  # the seed the stack's workers read
    families = _families(market)
    unrelated = market.sample_wallets(UNRELATED)
    wallets = [*unrelated[:5], *(w for members in families for w in members), *unrelated[5:]]
    assert len(wallets) <= settings.MAX_WALLETS_PER_JOB

    response = requests.post(
        f"{live_stack.base_url}/jobs/similarity/analyze",
        json={"wallets": wallets},
        headers=api_user.headers,
        timeout=30,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    job: Job = wait_for(
        lambda: (j := Job.objects.get(id=job_id)).is_terminal and j,
        timeout_s=FLOW_TIMEOUT_S,
        interval_s=0.2,
        what="the similarity job to end",
    )
    assert job.status == Job.Status.COMPLETED, (job.status, job.error)
    result = _result(live_stack, api_user, job_id)

    assert sorted(result["wallets"]) == sorted(wallets)
    assert result["failed_wallets"] == []
    # The clusters are the families, exactly: no member missing, no unrelated wallet pulled in.
    assert {frozenset(c["wallets"]) for c in result["clusters"]} == {frozenset(f) for f in families}
    assert result["global"]["cluster_note"] is None
    assert result["global"]["cluster_threshold"] == DEFAULT_CLUSTER_THRESHOLD
    assert all(c["mean_combined"] >= DEFAULT_CLUSTER_THRESHOLD for c in result["clusters"])

    n = len(wallets)
    for name in (*CHANNELS, COMBINED):
        matrix = np.array(result["matrices"][name])
        assert matrix.shape == (n, n), name
        np.testing.assert_array_equal(matrix, matrix.T, err_msg=name)
        np.testing.assert_array_equal(np.diag(matrix), np.ones(n), err_msg=name)

    family_of = {wallet: i for i, members in enumerate(families) for wallet in members}
    index = {wallet: i for i, wallet in enumerate(result["wallets"])}
    pairs = result["pairs"]
    combined = [pair[COMBINED] for pair in pairs]
    assert combined == sorted(combined, reverse=True)
    for pair in pairs:
        a, b = pair["wallet_a"], pair["wallet_b"]
        assert pair[COMBINED] == result["matrices"][COMBINED][index[a]][index[b]]
        related = family_of.get(a, -1) == family_of.get(b, -2)
        # Every pair linked by the threshold is a family pair (the clusters above say the converse).
        assert related or pair[COMBINED] < DEFAULT_CLUSTER_THRESHOLD, pair
        if not related:
            continue
        # Evidence: the shared tokens with each side's weight and the buy lag, and the co-trade summary.
        assert pair["shared_tokens"], pair
        for token in pair["shared_tokens"]:
            assert set(token) == {"mint", "weight_a", "weight_b", "lag_s"}
            assert 0 <= token["weight_a"] <= 1 and 0 <= token["weight_b"] <= 1
        assert pair["shared_tokens"][0]["weight_a"] > 0 and pair["shared_tokens"][0]["weight_b"] > 0
        assert any(
            token["lag_s"] is not None and abs(token["lag_s"]) <= 300 for token in pair["shared_tokens"]
        )
        evidence = pair["co_trade_evidence"]
        assert evidence["count"] > 0 and evidence["median_lag_s"] is not None
        assert isinstance(pair["co_trade"], float)
    holding = _holding_pairs(market)
    weakest = min(p[COMBINED] for p in pairs if frozenset((p["wallet_a"], p["wallet_b"])) in holding)
    strongest_stranger = max(
        (p[COMBINED] for p in pairs if family_of.get(p["wallet_a"], -1) != family_of.get(p["wallet_b"], -2)),
        default=0.0,
    )
    assert len([p for p in pairs if frozenset((p["wallet_a"], p["wallet_b"])) in holding]) == len(holding)
    assert weakest > strongest_stranger, "the pairs that hold a family together rank above every other pair"
    # The market's copy family (followers 30-90 s behind, each exchange-funded): every follower's pair with
    # the leader names the leader, with lead_share >= 0.8, and is an edge on co_trade.
    (copy,) = [f for f in market.families() if f.name in FAMILY_NAMES and f.kind == "copy"]
    led = [
        p
        for p in pairs
        if copy.leader in (p["wallet_a"], p["wallet_b"])
        and family_of.get(p["wallet_a"]) == family_of.get(p["wallet_b"])
    ]
    assert len(led) == len(copy.members) - 1
    for pair in led:
        evidence = pair["co_trade_evidence"]
        assert evidence["leader"] == copy.leader and evidence["lead_share"] >= 0.8, pair
        assert 25 <= evidence["median_lag_s"] <= 95 and pair["funding"] == 0.0, pair
        assert pair[COMBINED] >= DEFAULT_CLUSTER_THRESHOLD, pair
