"""Static, per-position descriptions of what a node-by-node generator may emit in a space.

A decoder that builds an architecture one node at a time (type, then edges from earlier nodes)
asks the space's decoding rules (:mod:`graphvae_nas.spaces.rules`) at every step, so that what
it decodes is valid by construction where the space allows; every decode is still checked by
the space afterwards. :class:`GenerationConstraints` describes rules that depend only on the
position (NAS-Bench-201/101, ENAS, generic DAGs); ``StaticRules`` turns them into decoding
rules. :func:`labels_once_form` and :func:`check_labels_once` write and check the form that
``LabelsOnceRules`` decodes (each label exactly once, any DAG over them).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph import Architecture

FORBIDDEN, FORCED, FREE = 0, 1, -1


@dataclass(frozen=True)
class GenerationConstraints:
    """Per-position rules for generating architectures over ``vocabulary``.

    * ``node_types[p, t]``: type ``t`` may be placed at position ``p``. Placing the output
      type ends the architecture, so spaces with a variable node count allow it at several
      positions.
    * ``edges[s, d]`` (``s < d``): :data:`FORCED`, :data:`FORBIDDEN` or :data:`FREE`.
    * ``connect_loose_ends``: when the output is placed, every node without a successor is
      joined to it (as D-VAE does), so no node dead-ends.
    * ``require_predecessor``: a non-input node that chose no incoming edge gets its most
      likely one, so every node is reachable from the input.
    """

    vocabulary: tuple[str, ...]
    node_types: np.ndarray
    edges: np.ndarray
    connect_loose_ends: bool = True
    require_predecessor: bool = True

    @property
    def max_nodes(self) -> int:
        return int(self.node_types.shape[0])

    @property
    def output_index(self) -> int:
        return self.vocabulary.index("output")

    @classmethod
    def fixed(cls, vocabulary: tuple[str, ...], types_per_position: list[list[str]],
              forced_edges: list[tuple[int, int]] | None = None,
              free_edges: list[tuple[int, int]] | None = None) -> GenerationConstraints:
        """A fixed node count: allowed type names per position, forced and free edges (all
        other edges forbidden)."""
        n = len(types_per_position)
        types = np.zeros((n, len(vocabulary)), dtype=bool)
        for p, names in enumerate(types_per_position):
            for name in names:
                types[p, vocabulary.index(name)] = True
        edges = np.full((n, n), FORBIDDEN, dtype=np.int8)
        for s, d in forced_edges or []:
            edges[s, d] = FORCED
        for s, d in free_edges or []:
            edges[s, d] = FREE
        return cls(vocabulary, types, edges)

    @classmethod
    def variable(cls, vocabulary: tuple[str, ...], ops: tuple[str, ...], max_nodes: int,
                 min_nodes: int = 2) -> GenerationConstraints:
        """Any DAG of ``min_nodes..max_nodes`` nodes over ``ops``; all edges free."""
        types = np.zeros((max_nodes, len(vocabulary)), dtype=bool)
        types[0, vocabulary.index("input")] = True
        op_idx = [vocabulary.index(op) for op in ops]
        out = vocabulary.index("output")
        for p in range(1, max_nodes):
            if p < max_nodes - 1:
                types[p, op_idx] = True
            if p >= min_nodes - 1:
                types[p, out] = True
        edges = np.full((max_nodes, max_nodes), FORBIDDEN, dtype=np.int8)
        edges[np.triu_indices(max_nodes, 1)] = FREE
        return cls(vocabulary, types, edges)


# ------------------------------------------------------------------ labelled DAGs (each label once)
def labels_once_form(labels: Sequence[str], arcs: Iterable[tuple[int, int]]) -> Architecture:
    """The architecture form of a DAG over ``labels`` (each used once) that
    :class:`~graphvae_nas.spaces.rules.LabelsOnceRules` decodes: node 0 ``input`` feeding the
    labels without a parent, the labels (nodes ``1..K`` in the given order), node ``K + 1``
    ``output`` fed by the labels without a child. ``arcs`` are ``(parent, child)`` indices into
    ``labels``; ``labels`` must be listed in a topological order of them (parent first)."""
    k = len(labels)
    arcs = sorted({(int(s), int(d)) for s, d in arcs})
    for s, d in arcs:
        if not (0 <= s < k and 0 <= d < k) or s >= d:
            raise ArchitectureError(f"arc ({s}, {d}) is not parent-before-child among {k} labels")
    has_parent = {d for _, d in arcs}
    has_child = {s for s, _ in arcs}
    edges = [(s + 1, d + 1) for s, d in arcs]
    edges += [(0, v + 1) for v in range(k) if v not in has_parent]
    edges += [(v + 1, k + 1) for v in range(k) if v not in has_child]
    return Architecture(["input", *labels, "output"], edges)


def check_labels_once(arch: Architecture, labels: Sequence[str], max_parents: int | None = None,
                      name: str = "labels-once") -> None:
    """Raise :class:`ArchitectureError` unless ``arch`` is in :func:`labels_once_form`: every
    label exactly once between ``input`` and ``output``, the input feeding exactly the nodes
    without another parent, exactly the nodes without another child feeding the output, and
    at most ``max_parents`` parents per label."""
    k = len(labels)
    if arch.num_nodes != k + 2 or arch.ops[0] != "input" or arch.ops[-1] != "output":
        raise ArchitectureError(f"{name}: expected input, the {k} labels, output; got {list(arch.ops)}")
    inner = arch.ops[1:-1]
    if sorted(inner) != sorted(labels):
        missing = sorted(set(labels) - set(inner))
        extra = sorted(x for x in set(inner) if inner.count(x) > 1 or x not in labels)
        raise ArchitectureError(f"{name}: each label exactly once; missing {missing}, "
                                f"repeated or unknown {extra}")
    last = k + 1
    preds = arch.predecessors()
    succs = arch.successors()
    for v in range(1, last):
        parents = [u for u in preds[v] if u != 0]
        if (0 in preds[v]) == bool(parents):
            raise ArchitectureError(f"{name}: node {v} ({arch.ops[v]!r}): the input must feed "
                                    "exactly the labels without a parent")
        if (last in succs[v]) == bool([w for w in succs[v] if w != last]):
            raise ArchitectureError(f"{name}: node {v} ({arch.ops[v]!r}): exactly the labels "
                                    "without a child must feed the output")
        if max_parents is not None and len(parents) > max_parents:
            raise ArchitectureError(f"{name}: node {v} ({arch.ops[v]!r}) has {len(parents)} "
                                    f"parents, more than max_parents={max_parents}")
    if last in succs[0]:
        raise ArchitectureError(f"{name}: the input may not feed the output directly")
