"""Conversions between :class:`Architecture` and networkx, dense arrays and PyG.

All conversions are exact inverses of each other: ``from_x(to_x(a)) == a``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph.architecture import Architecture

if TYPE_CHECKING:
    import networkx as nx
    import torch
    from torch_geometric.data import Data


def to_networkx(arch: Architecture) -> nx.DiGraph:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from((i, {"op": op}) for i, op in enumerate(arch.ops))
    graph.add_edges_from(arch.edges)
    return graph


def from_networkx(graph: nx.DiGraph, op_attr: str = "op") -> Architecture:
    """The unique node without predecessors is the input, the unique one without successors the output."""
    if not graph.is_directed():
        raise ArchitectureError("expected a directed graph (networkx.DiGraph)")
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    ops = []
    for node in nodes:
        op = graph.nodes[node].get(op_attr)
        if op is None:
            raise ArchitectureError(f"node {node!r} has no {op_attr!r} attribute")
        ops.append(op)
    sources = [v for v in nodes if graph.in_degree(v) == 0]
    sinks = [v for v in nodes if graph.out_degree(v) == 0]
    if len(sources) != 1:
        raise ArchitectureError(
            f"expected exactly one input node (no predecessors), found {sources}")
    if len(sinks) != 1:
        raise ArchitectureError(
            f"expected exactly one output node (no successors), found {sinks}")
    edges = [(index[s], index[d]) for s, d in graph.edges]
    return Architecture.from_edges(ops, edges, input_node=index[sources[0]],
                                   output_node=index[sinks[0]])


def op_index_map(vocabulary: Sequence[str]) -> dict[str, int]:
    """``{op: position}`` for a vocabulary; raises if the vocabulary repeats an op."""
    mapping = {op: i for i, op in enumerate(vocabulary)}
    if len(mapping) != len(vocabulary):
        raise ArchitectureError(f"vocabulary repeats an op: {list(vocabulary)}")
    return mapping


def op_indices(arch: Architecture, vocabulary: Sequence[str] | dict[str, int]) -> list[int]:
    mapping = vocabulary if isinstance(vocabulary, dict) else op_index_map(vocabulary)
    try:
        return [mapping[op] for op in arch.ops]
    except KeyError as exc:
        raise ArchitectureError(
            f"unknown op {exc.args[0]!r} (vocabulary: {list(mapping)})") from None


def to_dense(arch: Architecture, vocabulary: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    n = arch.num_nodes
    adjacency = np.zeros((n, n), dtype=np.uint8)
    if arch.edges:
        src, dst = zip(*arch.edges)
        adjacency[list(src), list(dst)] = 1
    return adjacency, np.asarray(op_indices(arch, vocabulary), dtype=np.int64)


def from_dense(adjacency: Any, op_idx: Sequence[int], vocabulary: Sequence[str]) -> Architecture:
    adj = np.asarray(adjacency)
    n = len(op_idx)
    if adj.shape != (n, n):
        raise ArchitectureError(
            f"adjacency has shape {adj.shape}, expected ({n}, {n}) for {n} op indices")
    ops = []
    for i, k in enumerate(op_idx):
        if not 0 <= int(k) < len(vocabulary):
            raise ArchitectureError(f"node {i}: op index {k} outside vocabulary of {len(vocabulary)}")
        ops.append(vocabulary[int(k)])
    src, dst = np.nonzero(adj)
    return Architecture.from_edges(ops, zip(src.tolist(), dst.tolist()))


def to_pyg(arch: Architecture, vocabulary: Sequence[str]) -> Data:
    """``Data(x, edge_index, level)``.

    ``x`` is the float one-hot of each node's op over ``vocabulary`` (op indices are
    ``x.argmax(-1)``); nodes are numbered in topological order, so the identity is the
    processing order, and ``level`` holds each node's longest-path depth from the input,
    which lets a batched model process all nodes of one level at once.
    """
    return to_pyg_list([arch], vocabulary)[0]


def to_pyg_list(archs: Sequence[Architecture], vocabulary: Sequence[str]) -> list[Data]:
    """:func:`to_pyg` for many architectures, sharing one storage per tensor kind (fast, compact)."""
    import torch
    from torch_geometric.data import Data

    mapping = op_index_map(vocabulary)
    node_counts = [a.num_nodes for a in archs]
    edge_counts = [a.num_edges for a in archs]
    ops_flat: list[int] = []
    levels_flat: list[int] = []
    edges_flat: list[int] = []
    for arch in archs:
        ops_flat += op_indices(arch, mapping)
        levels_flat += arch.levels()
        for s, d in arch.edges:
            edges_flat.append(s)
            edges_flat.append(d)
    op_all = torch.tensor(ops_flat, dtype=torch.long)
    x_all = torch.nn.functional.one_hot(op_all, len(vocabulary)).to(torch.float32)
    level_all = torch.tensor(levels_flat, dtype=torch.long)
    edge_all = torch.tensor(edges_flat, dtype=torch.long).view(-1, 2).t()
    result = []
    node_start = edge_start = 0
    for n, e in zip(node_counts, edge_counts):
        result.append(Data(
            x=x_all[node_start:node_start + n],
            edge_index=edge_all[:, edge_start:edge_start + e],
            level=level_all[node_start:node_start + n],
        ))
        node_start += n
        edge_start += e
    return result


def from_pyg(data: Data, vocabulary: Sequence[str]) -> Architecture:
    """Reads node ops as the argmax of ``x`` (or from an ``op`` index tensor when present)."""
    op: torch.Tensor | None = getattr(data, "op", None)
    if op is None:
        if getattr(data, "x", None) is None:
            raise ArchitectureError("Data has neither 'op' nor 'x'")
        op = data.x.argmax(dim=-1)
    ops = []
    for i, k in enumerate(op.tolist()):
        if not 0 <= k < len(vocabulary):
            raise ArchitectureError(f"node {i}: op index {k} outside vocabulary of {len(vocabulary)}")
        ops.append(vocabulary[k])
    edge_index = data.edge_index.tolist() if data.edge_index is not None else [[], []]
    return Architecture.from_edges(ops, zip(edge_index[0], edge_index[1]))
