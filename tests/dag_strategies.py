"""Hypothesis strategies and networkx references shared by the layer-1 property tests."""
from __future__ import annotations

import networkx as nx
from hypothesis import strategies as st

from graphvae_nas import Architecture


@st.composite
def dags(draw, min_nodes: int = 2, max_nodes: int = 10, labels=("a", "b", "c"),
         n: int | None = None, densities=(0, 15, 35, 60, 100)) -> Architecture:
    """A random valid DAG in topological numbering (node 0 'input', node n-1 'output').

    Random upper-triangular edges with a random density, repaired so that every non-input
    node has an earlier predecessor and every non-output node a later successor.
    """
    if n is None:
        n = draw(st.integers(min_nodes, max_nodes))
    inner = draw(st.lists(st.sampled_from(labels), min_size=n - 2, max_size=n - 2))
    ops = ["input", *inner, "output"]
    density = draw(st.sampled_from(densities))
    edges: set[tuple[int, int]] = set()
    for s in range(n):
        for d in range(s + 1, n):
            if draw(st.integers(0, 99)) < density:
                edges.add((s, d))
    for v in range(1, n):
        if not any(dd == v for _, dd in edges):
            edges.add((draw(st.integers(0, v - 1)), v))
    for v in range(n - 1):
        if not any(ss == v for ss, _ in edges):
            edges.add((v, draw(st.integers(v + 1, n - 1))))
    return Architecture(ops, sorted(edges))


def nx_graph(ops, edges) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from((i, {"op": op}) for i, op in enumerate(ops))
    g.add_edges_from(edges)
    return g


def nx_isomorphic(a: Architecture, b: Architecture) -> bool:
    return nx.is_isomorphic(nx_graph(a.ops, a.edges), nx_graph(b.ops, b.edges),
                            node_match=lambda x, y: x["op"] == y["op"])
