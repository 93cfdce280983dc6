"""Hubs and clusters of a set of wallets from their pairwise links. Pure: no Django, no Redis.

Two graphs over the wallets (indices 0..n-1), both given as undirected edge lists:

- the *link* graph: every pair with any evidence at all (a co-buy, a funding tie, a strong score);
- the *strong* graph: the pairs whose combined score reaches the cluster threshold, weighted by it.

A **hub** is a wallet whose linked wallets fall into at least ``min_groups`` groups with no link between
the groups: a sniper bot that bought the same launches as a dozen strangers, a leader copied by wallets
that never trade with each other. A hub whose strong edges reach two or more of its groups is taken out of
the strong graph before communities are found, so it can never merge those groups into one cluster; a hub
whose strong edges stay inside one group (a bundle member that also crossed a few strangers) keeps them.

**Clusters** are the communities of the strong graph found by the Leiden algorithm (Traag, van Eck and
Waltman 2019, through python-igraph's C implementation) maximising weighted modularity: unlike connected
components (single linkage), one weak bridge between two dense groups does not make them one cluster, and
unlike Louvain every community Leiden returns is connected. The search is seeded, so the same input gives the
same clusters in every process.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

import igraph
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

DEFAULT_HUB_MIN_GROUPS = 3
DEFAULT_RESOLUTION = 1.0
DEFAULT_SEED = 0

# igraph draws from one process-wide generator: seeding it and running Leiden must not interleave.
_IGRAPH_RNG_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Hub:
    index: int
    links: int  # wallets it is linked to
    groups: int  # groups those wallets form, with no link from one group to another
    kept_in_strong_graph: bool  # its strong edges stay inside one group, so it may join that cluster


def _symmetric(n: int, a: IntArray, b: IntArray) -> sp.csr_array:
    data = np.ones(2 * a.size, dtype=np.int8)
    graph = sp.coo_array((data, (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    graph.sum_duplicates()
    graph.data[:] = 1
    return graph


def _groups(links: sp.csr_array, members: IntArray) -> tuple[int, IntArray]:
    """Connected components of the link graph restricted to `members`."""
    count, labels = connected_components(links[members][:, members], directed=False)
    return int(count), labels.astype(np.int64)


def find_hubs(
    n: int,
    link_a: IntArray,
    link_b: IntArray,
    strong_a: IntArray,
    strong_b: IntArray,
    *,
    min_groups: int = DEFAULT_HUB_MIN_GROUPS,
) -> list[Hub]:
    """Hubs of the link graph (see the module doc), in wallet order.

    Only wallets with at least `min_groups` links are examined; each costs one small connected-components
    run over its own neighbourhood, so the total is bounded by the sum of the squared degrees of those few.
    """
    if n == 0 or link_a.size == 0:
        return []
    links = _symmetric(n, link_a, link_b)
    strong = _symmetric(n, strong_a, strong_b)
    degrees = np.diff(links.indptr)
    hubs: list[Hub] = []
    for node in np.flatnonzero(degrees >= min_groups):
        neighbours = links.indices[links.indptr[node] : links.indptr[node + 1]].astype(np.int64)
        count, labels = _groups(links, neighbours)
        if count < min_groups:
            continue
        strong_neighbours = strong.indices[strong.indptr[node] : strong.indptr[node + 1]]
        reached = np.unique(labels[np.isin(neighbours, strong_neighbours)])
        hubs.append(Hub(int(node), int(neighbours.size), count, kept_in_strong_graph=reached.size <= 1))
    return hubs


def find_communities(
    n: int,
    edge_a: IntArray,
    edge_b: IntArray,
    weights: FloatArray,
    *,
    excluded: IntArray,
    resolution: float = DEFAULT_RESOLUTION,
    seed: int = DEFAULT_SEED,
) -> list[IntArray]:
    """Communities of two or more wallets of the weighted strong graph without the `excluded` wallets.

    Each community is an array of wallet indices in increasing order; the list is ordered by size, then by
    smallest index. Wallets with no edge left are nobody's cluster and never reach igraph.
    """
    keep = ~(np.isin(edge_a, excluded) | np.isin(edge_b, excluded))
    edge_a, edge_b, weights = edge_a[keep], edge_b[keep], weights[keep]
    if edge_a.size == 0:
        return []
    nodes, compact = np.unique(np.r_[edge_a, edge_b], return_inverse=True)
    pairs = compact.reshape(2, -1).T
    graph = igraph.Graph(n=int(nodes.size), edges=pairs.tolist(), directed=False)
    with _IGRAPH_RNG_LOCK:
        igraph.set_random_number_generator(random.Random(seed))
        try:
            partition = graph.community_leiden(
                objective_function="modularity",
                weights=weights.tolist(),
                resolution=resolution,
                n_iterations=-1,
            )
        finally:
            igraph.set_random_number_generator(random)
    membership = np.asarray(partition.membership, dtype=np.int64)
    found = []
    for label in np.unique(membership):
        members = np.sort(nodes[membership == label])
        if members.size >= 2:
            found.append(members.astype(np.int64))
    found.sort(key=lambda members: (-members.size, int(members[0])))
    return found
