"""The immutable node-labelled DAG that represents one neural architecture."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from graphvae_nas.errors import ArchitectureError

if TYPE_CHECKING:  # heavy imports stay lazy so `import graphvae_nas` is cheap
    import networkx as nx
    import numpy as np
    from torch_geometric.data import Data

Edge = tuple[int, int]


class Architecture:
    """A node-labelled DAG whose nodes are numbered in topological order.

    Node ``0`` is the input and node ``n - 1`` the output; every edge ``(src, dst)`` has
    ``src < dst``, and every node lies on a path from the input to the output. ``ops[i]`` is
    the label (operation name) of node ``i``. Instances are immutable and hashable; ``==``
    compares the exact numbering, while :attr:`canonical_hash` is equal exactly for
    isomorphic labelled DAGs.
    """

    __slots__ = ("__weakref__", "_canonical_hash", "_edges", "_ops")

    def __init__(self, ops: Sequence[str], edges: Iterable[Sequence[int]]) -> None:
        ops_t = tuple(ops)
        edges_t = tuple(sorted(_as_edge(e) for e in edges))
        for a, b in zip(edges_t, edges_t[1:]):
            if a == b:
                raise ArchitectureError(f"duplicate edge {a}")
        _check_structure(ops_t, edges_t)
        self._ops = ops_t
        self._edges = edges_t
        self._canonical_hash: str | None = None

    @classmethod
    def _trusted(cls, ops: tuple[str, ...], edges: tuple[Edge, ...]) -> Architecture:
        """Build without checks from already validated, sorted parts (internal fast path)."""
        self = object.__new__(cls)
        self._ops = ops
        self._edges = edges
        self._canonical_hash = None
        return self

    # ----------------------------------------------------------------- basic views
    @property
    def ops(self) -> tuple[str, ...]:
        """Node labels in topological order (``ops[0]`` input, ``ops[-1]`` output)."""
        return self._ops

    @property
    def edges(self) -> tuple[Edge, ...]:
        """Sorted ``(src, dst)`` pairs with ``src < dst``."""
        return self._edges

    @property
    def num_nodes(self) -> int:
        return len(self._ops)

    @property
    def num_edges(self) -> int:
        return len(self._edges)

    def predecessors(self) -> list[list[int]]:
        """``predecessors()[v]`` lists the sources of edges into ``v``, ascending."""
        preds: list[list[int]] = [[] for _ in self._ops]
        for s, d in self._edges:
            preds[d].append(s)
        return preds

    def successors(self) -> list[list[int]]:
        """``successors()[v]`` lists the targets of edges out of ``v``, ascending."""
        succs: list[list[int]] = [[] for _ in self._ops]
        for s, d in self._edges:
            succs[s].append(d)
        return succs

    def levels(self) -> list[int]:
        """Longest-path distance of every node from the input (the input has level 0)."""
        level = [0] * len(self._ops)
        for s, d in self._edges:  # sorted by src, so level[s] is final when used
            level[d] = max(level[d], level[s] + 1)
        return level

    @property
    def canonical_hash(self) -> str:
        """Hex digest equal for isomorphic labelled DAGs and different otherwise."""
        if self._canonical_hash is None:
            from graphvae_nas.graph.canonical import canonical_hash

            self._canonical_hash = canonical_hash(self)
        return self._canonical_hash

    def is_isomorphic(self, other: Architecture) -> bool:
        """True when ``other`` is the same labelled DAG up to renumbering of nodes."""
        return self.canonical_hash == other.canonical_hash

    def check(self, *, vocabulary: Iterable[str] | None = None, max_nodes: int | None = None,
              max_edges: int | None = None) -> None:
        """Raise :class:`ArchitectureError` if an op is outside ``vocabulary`` or a limit is exceeded."""
        if max_nodes is not None and self.num_nodes > max_nodes:
            raise ArchitectureError(
                f"too many nodes: {self.num_nodes} > max_nodes={max_nodes}")
        if max_edges is not None and self.num_edges > max_edges:
            raise ArchitectureError(
                f"too many edges: {self.num_edges} > max_edges={max_edges}")
        if vocabulary is not None:
            allowed = set(vocabulary)
            for i, op in enumerate(self._ops):
                if op not in allowed:
                    raise ArchitectureError(
                        f"node {i}: unknown op {op!r} (allowed: {sorted(allowed)})")

    # ----------------------------------------------------------------- dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Architecture):
            return NotImplemented
        return self._ops == other._ops and self._edges == other._edges

    def __hash__(self) -> int:
        return hash((self._ops, self._edges))

    def __repr__(self) -> str:
        return f"Architecture(ops={list(self._ops)!r}, edges={[list(e) for e in self._edges]!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Architecture._trusted, (self._ops, self._edges))

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_edges(cls, ops: Sequence[str], edges: Iterable[Sequence[int]], *,
                   input_node: int = 0, output_node: int | None = None) -> Architecture:
        """Build from nodes in any order: renumber them topologically.

        ``input_node``/``output_node`` index into ``ops`` (default: first and last). Raises
        :class:`ArchitectureError` on a cycle. Among the valid topological orders the one that
        keeps the given numbering as far as possible (smallest index first) is used, so an
        already ordered graph keeps its numbering.
        """
        n = len(ops)
        if n < 2:
            raise ArchitectureError(f"an architecture needs at least 2 nodes, got {n}")
        out = n - 1 if output_node is None else output_node
        if not (0 <= input_node < n and 0 <= out < n) or input_node == out:
            raise ArchitectureError(
                f"input node {input_node} and output node {out} must be distinct nodes of 0..{n - 1}")
        edge_list = [_as_edge(e, n) for e in edges]
        order = _topological_order(n, edge_list)
        if any(d == input_node for _, d in edge_list):
            raise ArchitectureError(f"input node {input_node} has incoming edges")
        if any(s == out for s, _ in edge_list):
            raise ArchitectureError(f"output node {out} has outgoing edges")
        order = [input_node] + [v for v in order if v not in (input_node, out)] + [out]
        position = {v: i for i, v in enumerate(order)}
        return cls([ops[v] for v in order], [(position[s], position[d]) for s, d in edge_list])

    def to_dict(self) -> dict[str, list]:
        """``{"ops": [...], "edges": [[src, dst], ...]}`` (the JSON form)."""
        return {"ops": list(self._ops), "edges": [list(e) for e in self._edges]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Architecture:
        """Inverse of :meth:`to_dict`; nodes need not be in topological order."""
        if not isinstance(data, dict) or "ops" not in data or "edges" not in data:
            raise ArchitectureError("expected an object with 'ops' and 'edges'")
        for key in ("ops", "edges"):
            if not isinstance(data[key], list):
                raise ArchitectureError(f"'{key}' must be a list, got {data[key]!r}")
        return cls.from_edges(data["ops"], data["edges"])

    def to_json(self) -> str:
        """Compact JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Architecture:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArchitectureError(f"invalid JSON: {exc}") from None
        return cls.from_dict(data)

    # ----------------------------------------------------------------- conversions
    def to_networkx(self) -> nx.DiGraph:
        """A ``DiGraph`` with nodes ``0..n-1`` carrying attribute ``op``."""
        from graphvae_nas.graph.convert import to_networkx

        return to_networkx(self)

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph, op_attr: str = "op") -> Architecture:
        """Inverse of :meth:`to_networkx`; the unique source is the input, the unique sink the output."""
        from graphvae_nas.graph.convert import from_networkx

        return from_networkx(graph, op_attr)

    def to_dense(self, vocabulary: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(adjacency uint8 [n, n], op indices int64 [n])`` with ``adj[s, d] = 1`` per edge."""
        from graphvae_nas.graph.convert import to_dense

        return to_dense(self, vocabulary)

    @classmethod
    def from_dense(cls, adjacency: Any, op_indices: Sequence[int],
                   vocabulary: Sequence[str]) -> Architecture:
        """Inverse of :meth:`to_dense`; nodes need not be in topological order."""
        from graphvae_nas.graph.convert import from_dense

        return from_dense(adjacency, op_indices, vocabulary)

    def to_pyg(self, vocabulary: Sequence[str]) -> Data:
        """A PyG ``Data`` with one-hot ``x``, ``edge_index``, ``op`` and ``level`` (see ``convert``)."""
        from graphvae_nas.graph.convert import to_pyg

        return to_pyg(self, vocabulary)

    @classmethod
    def from_pyg(cls, data: Data, vocabulary: Sequence[str]) -> Architecture:
        """Inverse of :meth:`to_pyg`."""
        from graphvae_nas.graph.convert import from_pyg

        return from_pyg(data, vocabulary)


def _as_edge(edge: Sequence[int], n: int | None = None) -> Edge:
    try:
        s, d = edge
        if isinstance(s, bool) or isinstance(d, bool):
            raise TypeError("a bool is not a node index")
        s_i, d_i = int(s), int(d)
    except (TypeError, ValueError):
        raise ArchitectureError(f"edge {edge!r} is not a pair of node indices") from None
    if s_i != s or d_i != d:
        raise ArchitectureError(f"edge {edge!r} is not a pair of node indices")
    if n is not None and not (0 <= s_i < n and 0 <= d_i < n):
        raise ArchitectureError(f"edge {edge!r} refers to a node outside 0..{n - 1}")
    return s_i, d_i


def _topological_order(n: int, edges: list[Edge]) -> list[int]:
    """Kahn's algorithm taking the smallest ready index first; raises on a cycle."""
    import heapq

    indeg = [0] * n
    succs: list[list[int]] = [[] for _ in range(n)]
    for s, d in edges:
        if s == d:
            raise ArchitectureError(f"self-loop on node {s} (a cycle)")
        succs[s].append(d)
        indeg[d] += 1
    ready = [v for v in range(n) if indeg[v] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        v = heapq.heappop(ready)
        order.append(v)
        for w in succs[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                heapq.heappush(ready, w)
    if len(order) < n:
        cyclic = sorted(v for v in range(n) if indeg[v] > 0)
        raise ArchitectureError(f"the graph has a cycle through nodes {cyclic}")
    return order


def _check_structure(ops: tuple[str, ...], edges: tuple[Edge, ...]) -> None:
    n = len(ops)
    if n < 2:
        raise ArchitectureError(f"an architecture needs at least 2 nodes (input and output), got {n}")
    for i, op in enumerate(ops):
        if not isinstance(op, str) or not op:
            raise ArchitectureError(f"node {i}: op must be a non-empty string, got {op!r}")
    for s, d in edges:
        if not (0 <= s < n and 0 <= d < n):
            raise ArchitectureError(f"edge ({s}, {d}) refers to a node outside 0..{n - 1}")
        if s >= d:
            kind = "self-loop" if s == d else "goes backwards"
            raise ArchitectureError(
                f"edge ({s}, {d}) {kind}: nodes must be numbered in topological order "
                "(use Architecture.from_edges for other orders; it reports cycles)")
    reach_fwd = [False] * n
    reach_fwd[0] = True
    for s, d in edges:  # sorted by src: forward reachability in one pass
        if reach_fwd[s]:
            reach_fwd[d] = True
    reach_bwd = [False] * n
    reach_bwd[n - 1] = True
    for s, d in reversed(edges):  # reverse order visits larger src first
        if reach_bwd[d]:
            reach_bwd[s] = True
    for v in range(n):
        if not reach_fwd[v]:
            raise ArchitectureError(f"node {v} ({ops[v]!r}) is not reachable from the input node 0")
        if not reach_bwd[v]:
            raise ArchitectureError(
                f"node {v} ({ops[v]!r}) has no path to the output node {n - 1}")
